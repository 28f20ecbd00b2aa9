#!/usr/bin/env python3
"""Cold-start benchmark: process start -> first Lambda Runtime API request.

Each function binary (and its Python 3 + boto3 peer) is started as a child of
this process with the environment Lambda gives it, its AWS clients pointed at a
moto server that holds what the functions read at cold start (the policy
parameter, the secrets). A minimal Runtime API emulator (this process) records
when `GET /2018-06-01/runtime/invocation/next` arrives and never answers it: the
child's peak RSS (VmHWM) is read, then it is killed and reaped with wait4,
whose rusage gives the CPU time (user + sys, all threads, to the microsecond).
Between the request and the kill the child is blocked on the socket, so it
adds nothing.

Standard library only, except boto3 to provision moto (the bench venv has it).
"""

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

NEXT = "/2018-06-01/runtime/invocation/next"
REGION = "us-east-1"
ACCOUNT = "123456789012"
POLICY_PARAMETER = "/steward/policy"
WEBHOOK_SECRET = "steward/webhook"
APPROVAL_KEY_SECRET = "steward/approval-key"
GIT_TOKEN_SECRET = "steward/git-token"

FUNCTIONS = [
    "start-build",
    "git-webhook",
    "publish-policy",
    "request-approval",
    "approval-link",
    "deploy",
    "rollback",
    "audit",
    "monitor-drift",
]

# What template.yaml gives the functions (a superset: each reads its own).
STEWARD_ENV = {
    "STEWARD_LEDGER_TABLE": "steward-ledger",
    "STEWARD_EVENT_BUS": "steward",
    "STEWARD_POLICY_PARAMETER": POLICY_PARAMETER,
    "STEWARD_NOTIFICATIONS_TOPIC": f"arn:aws:sns:{REGION}:{ACCOUNT}:steward",
    "STEWARD_APPROVAL_KEY_SECRET_ID": APPROVAL_KEY_SECRET,
    "STEWARD_APPROVAL_URL": "https://approve.example.com/",
    "STEWARD_WEBHOOK_SECRET_ID": WEBHOOK_SECRET,
    "STEWARD_GIT_TOKEN_SECRET": GIT_TOKEN_SECRET,
    "STEWARD_POLICY_REPOSITORY": "acme/ml-models",
    "STEWARD_SAGEMAKER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/steward-sagemaker",
    "STEWARD_CODEDEPLOY_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/steward-codedeploy",
    "STEWARD_SMOKE_HOOK_FUNCTION": "steward-smoke-hook",
}


class Emulator:
    """The Runtime API, as far as a cold start goes: the first `next` poll."""

    def __init__(self):
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.arrival_ns = 0
        self.unexpected = []
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == NEXT:
                    emulator.arrival_ns = time.perf_counter_ns()
                    emulator.arrived.set()
                    # Hold the poll open until the child is killed.
                    emulator.release.wait(60)
                else:
                    emulator.unexpected.append(("GET", self.path))
                    self.send_error(404)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)[:500] if n else b""
                emulator.unexpected.append(("POST", self.path, body.decode(errors="replace")))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self):
        self.arrived.clear()
        self.release.clear()
        self.arrival_ns = 0
        self.unexpected = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(moto_server):
    port = free_port()
    proc = subprocess.Popen(
        [moto_server, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto server did not start")


def provision(url, policy_text):
    """What the functions read at cold start: the policy parameter and secrets."""
    import boto3

    kw = dict(
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    boto3.client("ssm", **kw).put_parameter(
        Name=POLICY_PARAMETER, Value=policy_text, Type="String", Tier="Advanced", Overwrite=True
    )
    sm = boto3.client("secretsmanager", **kw)
    for name, value in [
        (WEBHOOK_SECRET, "webhook-signing-secret-0123456789abcdef"),
        (APPROVAL_KEY_SECRET, "approval-signing-key-0123456789abcdef0123456789abcdef"),
        (GIT_TOKEN_SECRET, "ghp_benchmarktoken0123456789"),
    ]:
        sm.create_secret(Name=name, SecretString=value)


def child_env(name, moto_url, runtime_api, home):
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,  # empty: Lambda has no ~/.aws files
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/24/[$LATEST]bench",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update(STEWARD_ENV)
    return env


def one_run(argv, env, emulator, log):
    """Start argv, wait for its first `next` poll; (wall s, cpu s, peak RSS KiB)."""
    emulator.reset()
    start = time.perf_counter_ns()
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not emulator.arrived.wait(0.002):
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = status
            raise RuntimeError(f"{argv[0]} exited ({status}) before polling; unexpected={emulator.unexpected}")
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            proc.returncode = -9
            raise RuntimeError(f"{argv[0]} did not poll within 60 s")
    wall = (emulator.arrival_ns - start) / 1e9
    # The peak RSS of the process image (VmHWM), read before the kill:
    # rusage's ru_maxrss would also count this (forking) process's memory.
    peak_kib = peak_rss_kib(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = status
    emulator.release.set()
    if emulator.unexpected:
        raise RuntimeError(f"{argv[0]}: unexpected runtime API calls {emulator.unexpected}")
    return wall, usage.ru_utime + usage.ru_stime, peak_kib


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for {pid}")


def machine():
    model = next(
        (l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
        platform.processor(),
    )
    mem_kib = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "load_average": os.getloadavg(),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True, help="directory of the release binaries")
    ap.add_argument("--python", required=True, help="python of the bench venv (boto3)")
    ap.add_argument("--moto-server", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--functions", default=",".join(FUNCTIONS))
    ap.add_argument("--out", required=True, help="results directory")
    args = ap.parse_args()

    here = Path(__file__).resolve().parent
    peer = str(here / "python" / "handler.py")
    out = Path(args.out)
    (out / "coldstart-logs").mkdir(parents=True, exist_ok=True)
    moto, moto_url = start_moto(args.moto_server)
    try:
        provision(moto_url, Path(args.policy).read_text())
        emulator = Emulator()
        home = tempfile.mkdtemp(prefix="coldstart-home-")
        rows = []
        for name in args.functions.split(","):
            binary = os.path.join(args.bin_dir, name)
            if not os.path.exists(binary):
                print(f"{name}: no binary at {binary}, skipped", file=sys.stderr)
                continue
            env = child_env(name, moto_url, emulator.address, home)
            samples = {"rust": [], "python": []}
            with open(out / "coldstart-logs" / f"{name}.log", "wb") as log:
                # One warm-up each (page cache), not counted; then interleaved.
                one_run([binary], env, emulator, log)
                one_run([args.python, peer, name], env, emulator, log)
                for _ in range(args.runs):
                    samples["rust"].append(one_run([binary], env, emulator, log))
                    samples["python"].append(one_run([args.python, peer, name], env, emulator, log))
            row = {"function": name, "binary_bytes": os.path.getsize(binary)}
            for lang, s in samples.items():
                row[lang] = {
                    "wall_s": statistics.median(x[0] for x in s),
                    "cpu_s": statistics.median(x[1] for x in s),
                    "rss_kib": statistics.median(x[2] for x in s),
                    "samples": s,
                }
            rows.append(row)
            r, p = row["rust"], row["python"]
            print(
                f"{name:17} rust cpu {r['cpu_s']*1e3:6.1f} ms wall {r['wall_s']*1e3:6.1f} ms rss {r['rss_kib']/1024:5.1f} MiB"
                f" | python cpu {p['cpu_s']*1e3:6.1f} ms wall {p['wall_s']*1e3:6.1f} ms rss {p['rss_kib']/1024:5.1f} MiB",
                flush=True,
            )
    finally:
        moto.kill()
        moto.wait()

    info = machine()
    pyver = subprocess.run(
        [args.python, "-c", "import sys, boto3, botocore; print(sys.version.split()[0], boto3.__version__, botocore.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.split()
    info["python"], info["boto3"], info["botocore"] = (pyver + ["?"] * 3)[:3]
    (out / "coldstart.json").write_text(json.dumps({"machine": info, "runs": args.runs, "rows": rows}, indent=1))
    md = render(info, args.runs, rows)
    (out / "coldstart.md").write_text(md)
    print()
    print(md)


def render(info, runs, rows):
    lines = [
        f"Machine: {info['cpu']}, {info['nproc']} cores ({info['arch']}), {info['memory_gib']} GiB RAM, "
        f"Linux {info['kernel']}, load average at the end {info['load_average'][0]:.1f}; "
        f"Python {info['python']}, boto3 {info['boto3']}. Median of {runs} runs each, interleaved.",
        "",
        "| function | Rust CPU ms | Python CPU ms | CPU ratio | Rust wall ms | Python wall ms | wall ratio "
        "| Rust peak RSS MiB | Python peak RSS MiB | CPU target ≥30× | RSS target ≤20 MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        r, p = row["rust"], row["python"]
        ratio = p["cpu_s"] / r["cpu_s"]
        rss_mb = r["rss_kib"] * 1024 / 1e6
        cpu_ok = "met" if ratio >= 30 else f"missed ({ratio:.1f}×, {30 / ratio:.1f}× short)"
        rss_ok = "met" if rss_mb <= 20 else f"missed (+{rss_mb - 20:.1f} MB)"
        lines.append(
            f"| {row['function']} | {r['cpu_s']*1e3:.1f} | {p['cpu_s']*1e3:.0f} | {ratio:.1f}× "
            f"| {r['wall_s']*1e3:.1f} | {p['wall_s']*1e3:.0f} | {p['wall_s']/r['wall_s']:.1f}× "
            f"| {r['rss_kib']/1024:.1f} | {p['rss_kib']/1024:.1f} | {cpu_ok} | {rss_ok} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
