#!/usr/bin/env python3
"""Steward's example training step: a small, real logistic regression.

Run by the local twin as a pipeline's step (see README.md). It reads the CSV
data under STEWARD_PARAM_InputDataUrl, trains on a stratified train split,
evaluates on the holdout, writes model.json, a SageMaker model-quality report
and the drift baseline of its features (Steward's `steward-baseline/1`, what
`steward baseline` makes) to S3, and registers a model package pending manual
approval.

Python 3 standard library and boto3 only. Every AWS call goes to
AWS_ENDPOINT_URL (the twin) when it is set.
"""

import argparse
import bisect
import csv
import io
import json
import math
import os
import random
import sys

import boto3
from botocore.config import Config

FEATURES = ["amount", "hour", "vendor_new", "bank_changed"]
LABEL = "is_fraud"
# The decision threshold on the fraud score. Training weights both classes
# equally (see train()), which scores as if half the transactions were fraud;
# in the data about one in eight is, so 0.5 flags far too many (precision
# ~0.43 on the example holdout). 0.7 trades a little recall for precision:
# AUC 0.92, recall 0.78, precision 0.67 on examples/data/transactions.csv,
# inside the example policy's gate (AUC >= 0.90, recall >= 0.75,
# precision >= 0.60).
THRESHOLD = 0.7
HOLDOUT_SHARE = 0.25
SEED = 42
EPOCHS = 400
LEARNING_RATE = 0.3
L2 = 0.01
BOOTSTRAP_ROUNDS = 200
# Quantile bins per numerical feature in the drift baseline (`steward baseline`'s default).
BASELINE_BINS = 10
DEFAULT_BUCKET = "steward-local-artifacts"
# The container a real deployment would run; the twin serves model.json itself.
IMAGE = "steward-local/logistic-regression:1"


class StepError(Exception):
    """A failure whose message becomes the pipeline's FailureReason."""


def parse_s3_uri(uri):
    if not uri.startswith("s3://"):
        raise StepError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise StepError(f"no bucket in {uri!r}")
    return bucket, key


def read_rows(s3, data_uri):
    """Rows of every .csv object at (or under) the URI."""
    bucket, key = parse_s3_uri(data_uri)
    if key.endswith(".csv"):
        keys = [key]
    else:
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".csv")]
    if not keys:
        raise StepError(f"no .csv data under {data_uri}")
    rows = []
    for k in sorted(keys):
        text = s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode("utf-8")
        for row in csv.DictReader(io.StringIO(text)):
            try:
                rows.append(([float(row[f]) for f in FEATURES], int(row[LABEL])))
            except (KeyError, ValueError) as e:
                raise StepError(f"s3://{bucket}/{k}: bad row {row!r}: {e}") from e
    return rows


def split(rows):
    """Stratified, seeded: the holdout gets its share of each class."""
    rng = random.Random(SEED)
    train, holdout = [], []
    for label in (0, 1):
        group = [r for r in rows if r[1] == label]
        rng.shuffle(group)
        n = max(1, round(len(group) * HOLDOUT_SHARE)) if len(group) > 1 else 0
        holdout += group[:n]
        train += group[n:]
    if not train or not holdout:
        raise StepError(f"too little data to train and evaluate ({len(rows)} rows)")
    return train, holdout


def standardise_params(xs):
    n = len(xs)
    means = [sum(x[j] for x in xs) / n for j in range(len(FEATURES))]
    stds = []
    for j, m in enumerate(means):
        var = sum((x[j] - m) ** 2 for x in xs) / n
        stds.append(math.sqrt(var) or 1.0)  # a constant feature must not divide by 0
    return means, stds


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def score(model, x):
    z = model["bias"]
    for w, v, m, s in zip(model["weights"], x, model["means"], model["stds"]):
        z += w * (v - m) / s
    return sigmoid(z)


def train(rows):
    """Batch gradient descent on the L2-regularised log loss, classes weighted
    to count equally: fraud is rare, and an unweighted loss buys accuracy by
    missing it."""
    xs = [x for x, _ in rows]
    means, stds = standardise_params(xs)
    zs = [[(v - m) / s for v, m, s in zip(x, means, stds)] for x in xs]
    ys = [y for _, y in rows]
    n = len(rows)
    positives = sum(ys)
    class_weight = {
        1: n / (2 * positives) if positives else 1.0,
        0: n / (2 * (n - positives)) if n > positives else 1.0,
    }
    weights, bias = [0.0] * len(FEATURES), 0.0
    for _ in range(EPOCHS):
        grad_w, grad_b = [0.0] * len(FEATURES), 0.0
        for z, y in zip(zs, ys):
            p = sigmoid(bias + sum(w * v for w, v in zip(weights, z)))
            err = (p - y) * class_weight[y]
            grad_b += err
            for j, v in enumerate(z):
                grad_w[j] += err * v
        weights = [w - LEARNING_RATE * (g / n + L2 * w) for w, g in zip(weights, grad_w)]
        bias -= LEARNING_RATE * grad_b / n
    return {
        "kind": "logistic-regression",
        "features": FEATURES,
        "weights": weights,
        "bias": bias,
        "threshold": THRESHOLD,
        "means": means,
        "stds": stds,
    }


def auc(scores, labels):
    """Probability a random positive outranks a random negative (ties count half)."""
    pos = [s for s, y in zip(scores, labels) if y == 1]
    neg = [s for s, y in zip(scores, labels) if y == 0]
    if not pos or not neg:
        return 0.5
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def point_metrics(scores, labels):
    preds = [1 if s >= THRESHOLD else 0 for s in scores]
    tp = sum(1 for p, y in zip(preds, labels) if p == 1 and y == 1)
    fp = sum(1 for p, y in zip(preds, labels) if p == 1 and y == 0)
    fn = sum(1 for p, y in zip(preds, labels) if p == 0 and y == 1)
    tn = sum(1 for p, y in zip(preds, labels) if p == 0 and y == 0)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "auc": auc(scores, labels),
        "recall": recall,
        "precision": precision,
        "f1": f1,
        "accuracy": (tp + tn) / len(labels),
        "false_positive_rate": fp / (fp + tn) if fp + tn else 0.0,
    }


def evaluate(model, rows):
    """SageMaker model-quality JSON: each metric's value on the holdout and its
    standard deviation over bootstrap resamples of the holdout."""
    scores = [score(model, x) for x, _ in rows]
    labels = [y for _, y in rows]
    values = point_metrics(scores, labels)
    rng = random.Random(SEED)
    samples = {name: [] for name in values}
    for _ in range(BOOTSTRAP_ROUNDS):
        idx = [rng.randrange(len(rows)) for _ in rows]
        m = point_metrics([scores[i] for i in idx], [labels[i] for i in idx])
        for name, v in m.items():
            samples[name].append(v)
    report = {}
    for name, value in values.items():
        s = samples[name]
        mean = sum(s) / len(s)
        std = math.sqrt(sum((v - mean) ** 2 for v in s) / len(s))
        report[name] = {"value": value, "standard_deviation": std}
    return {"binary_classification_metrics": report}


def quantile_edges(values, bins):
    """Interior k-quantile edges of the values (numpy's linear interpolation),
    equal ones merged, edges at the minimum dropped: steward-drift's
    `quantile_edges`, operation for operation, so the floats are identical."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return []
    edges = []
    for i in range(1, bins):
        position = (i / bins) * (n - 1)
        low = math.floor(position)
        high = min(low + 1, n - 1)
        edge = xs[low] + (xs[high] - xs[low]) * (position - low)
        if not edges or edge > edges[-1]:
            edges.append(edge)
    return [e for e in edges if e > xs[0]]


def drift_baseline(rows):
    """What each feature looked like in the data the model learnt from, in the
    model's input order: the monitor compares captured requests with it."""
    features = []
    for j, name in enumerate(FEATURES):
        values = [x[j] for x, _ in rows]
        edges = quantile_edges(values, BASELINE_BINS)
        counts = [0] * (len(edges) + 1)
        for v in values:
            counts[bisect.bisect_right(edges, v)] += 1  # values on an edge go up
        features.append({
            "name": name, "type": "numerical", "missing": 0,
            "edges": edges, "counts": counts,
        })
    return {
        "format": "steward-baseline/1", "rows": len(rows), "binning": "quantile",
        "features": features,
    }


def ensure_bucket(s3, bucket):
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=bucket)


def ensure_group(sm, group):
    try:
        sm.describe_model_package_group(ModelPackageGroupName=group)
    except sm.exceptions.ClientError:
        sm.create_model_package_group(
            ModelPackageGroupName=group,
            ModelPackageGroupDescription="Created by Steward's example training step",
        )


def put_json(s3, bucket, key, value):
    s3.put_object(
        Bucket=bucket, Key=key, Body=json.dumps(value, indent=2).encode(),
        ContentType="application/json",
    )
    return f"s3://{bucket}/{key}"


def group_name(args):
    """--group, else STEWARD_MODEL_PACKAGE_GROUP, else the pipeline's name
    without its `-train` suffix (payroll-fraud-train trains payroll-fraud)."""
    name = args.group or os.environ.get("STEWARD_MODEL_PACKAGE_GROUP")
    if not name:
        pipeline = os.environ.get("STEWARD_PIPELINE_NAME", "")
        name = pipeline[: -len("-train")] if pipeline.endswith("-train") else pipeline
    if not name:
        raise StepError("no model package group: set STEWARD_MODEL_PACKAGE_GROUP or --group")
    return name


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", help="model package group (default: see README)")
    parser.add_argument("--bucket", help=f"artifact bucket (default {DEFAULT_BUCKET})")
    args = parser.parse_args()

    data_uri = os.environ.get("STEWARD_PARAM_InputDataUrl")
    if not data_uri:
        raise StepError("STEWARD_PARAM_InputDataUrl is not set")
    data_version = os.environ.get("STEWARD_PARAM_DataVersion", "")
    execution_arn = os.environ.get("STEWARD_PIPELINE_EXECUTION_ARN", "local")
    group = group_name(args)
    bucket = args.bucket or os.environ.get("STEWARD_ARTIFACT_BUCKET") or DEFAULT_BUCKET
    prefix = os.environ.get("STEWARD_ARTIFACT_PREFIX", "")
    run_id = execution_arn.rsplit("/", 1)[-1]

    # botocore reads AWS_DEFAULT_REGION only; the twin (like Lambda) sets AWS_REGION.
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    # Path-style: a loopback endpoint has no bucket subdomains.
    s3 = boto3.client(
        "s3", region_name=region, config=Config(s3={"addressing_style": "path"})
    )
    sm = boto3.client("sagemaker", region_name=region)

    rows = read_rows(s3, data_uri)
    train_rows, holdout = split(rows)
    model = train(train_rows)
    report = evaluate(model, holdout)

    ensure_bucket(s3, bucket)
    base = f"{prefix}{group}/{run_id}"
    model_uri = put_json(s3, bucket, f"{base}/model/model.json", model)
    report_uri = put_json(s3, bucket, f"{base}/evaluation/evaluation.json", report)
    baseline_uri = put_json(s3, bucket, f"{base}/model/baseline.json", drift_baseline(rows))

    ensure_group(sm, group)
    metadata = {"GeneratedBy": execution_arn}
    if os.environ.get("STEWARD_PARAM_GitCommit"):
        metadata["CommitId"] = os.environ["STEWARD_PARAM_GitCommit"]
    customer = {"steward:data-uri": data_uri}
    if data_version:
        customer["steward:data-version"] = data_version
    if os.environ.get("STEWARD_PARAM_Trigger"):
        customer["steward:trigger"] = os.environ["STEWARD_PARAM_Trigger"]
    package = sm.create_model_package(
        ModelPackageGroupName=group,
        ModelPackageDescription=f"Trained on {data_uri}"[:1024],
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": model_uri}],
            "SupportedContentTypes": ["text/csv", "application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        ModelMetrics={
            "ModelQuality": {
                "Statistics": {"ContentType": "application/json", "S3Uri": report_uri}
            }
        },
        # Where SageMaker keeps a model's drift baselines; the drift monitor's
        # policy points at a copy of it (see README "Drift").
        DriftCheckBaselines={
            "ModelDataQuality": {
                "Statistics": {"ContentType": "application/json", "S3Uri": baseline_uri}
            }
        },
        MetadataProperties=metadata,
        CustomerMetadataProperties=customer,
        ModelApprovalStatus="PendingManualApproval",
    )
    metrics = report["binary_classification_metrics"]
    print(json.dumps({
        "model_package_arn": package["ModelPackageArn"],
        "model": model_uri,
        "evaluation": report_uri,
        "baseline": baseline_uri,
        "train_rows": len(train_rows),
        "holdout_rows": len(holdout),
        "auc": metrics["auc"]["value"],
        "f1": metrics["f1"]["value"],
    }))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - the last stderr line is the FailureReason
        print(f"train.py: {type(e).__name__}: {e}".replace("\n", " "), file=sys.stderr)
        sys.exit(1)
