"""The Python 3 + boto3 peer of a Steward function's cold start.

`python handler.py <function>` does at init what the Rust function's main.rs
does: JSON logging, config from the environment, one boto3 client per AWS
service the function uses (the same set), the same reads (the policy from SSM,
parsed; the secret stages from Secrets Manager; publish-policy's TLS context),
then polls the Lambda Runtime API like a custom runtime. The benchmark measures
process start to the first poll. The handler itself is not the point: it
returns the event.
"""

import http.client
import json
import logging
import os
import sys
import tomllib

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Clients each function builds at cold start (functions/*/src/handler.rs connect()).
CLIENTS = {
    "start-build": ["ssm", "dynamodb", "sagemaker", "events", "sns"],
    "git-webhook": ["secretsmanager", "dynamodb", "events"],
    "publish-policy": ["secretsmanager", "sns", "ssm", "dynamodb", "codecommit"],
    "request-approval": ["ssm", "secretsmanager", "dynamodb", "sagemaker", "s3", "sns", "events"],
    "approval-link": ["secretsmanager", "dynamodb", "sagemaker", "events"],
    "deploy": ["ssm", "dynamodb", "sagemaker", "lambda", "codedeploy", "cloudwatch", "s3", "sagemaker-runtime", "events"],
    "rollback": ["ssm", "dynamodb", "sagemaker", "events", "sns"],
    "audit": ["dynamodb"],
    "monitor-drift": ["s3", "ssm", "dynamodb", "events"],
}
# What each reads at cold start.
READS_POLICY = {"start-build", "request-approval", "deploy", "rollback", "monitor-drift"}
SECRET_STAGES = {
    "git-webhook": "STEWARD_WEBHOOK_SECRET_ID",
    "request-approval": "STEWARD_APPROVAL_KEY_SECRET_ID",
    "approval-link": "STEWARD_APPROVAL_KEY_SECRET_ID",
}


class JsonFormatter(logging.Formatter):
    def format(self, record):
        return json.dumps({"level": record.levelname, "message": record.getMessage()})


def load_policy(ssm):
    name = os.environ["STEWARD_POLICY_PARAMETER"]
    value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    return tomllib.loads(value)


def load_stages(sm, secret_id):
    def stage(s):
        try:
            return sm.get_secret_value(SecretId=secret_id, VersionStage=s)["SecretString"]
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise

    return stage("AWSCURRENT"), stage("AWSPREVIOUS")


def init(function):
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    config = {k: v for k, v in os.environ.items() if k.startswith("STEWARD_")}
    ctx = {"config": config}
    for service in CLIENTS[function]:
        kwargs = {}
        if service == "s3":
            kwargs["config"] = Config(s3={"addressing_style": "path"})
        ctx[service] = boto3.client(service, **kwargs)
    if function in READS_POLICY:
        ctx["policy"] = load_policy(ctx["ssm"])
    if function in SECRET_STAGES:
        ctx["secret"] = load_stages(ctx["secretsmanager"], os.environ[SECRET_STAGES[function]])
    if function == "publish-policy":
        import ssl

        token = ctx["secretsmanager"].get_secret_value(SecretId=os.environ["STEWARD_GIT_TOKEN_SECRET"])
        ctx["token"] = token["SecretString"].strip()
        ctx["tls"] = ssl.create_default_context()
    return ctx


def handle(ctx, event):
    return event


def serve(ctx):
    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    conn = http.client.HTTPConnection(api)
    while True:
        conn.request("GET", "/2018-06-01/runtime/invocation/next")
        resp = conn.getresponse()
        request_id = resp.headers["Lambda-Runtime-Aws-Request-Id"]
        result = handle(ctx, json.loads(resp.read()))
        conn.request("POST", f"/2018-06-01/runtime/invocation/{request_id}/response", json.dumps(result))
        conn.getresponse().read()


if __name__ == "__main__":
    serve(init(sys.argv[1]))
