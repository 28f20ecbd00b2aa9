#!/usr/bin/env python3
"""Runs the drift benchmark (called by bench/run) and prints the tables.

Every step is its own process under /usr/bin/time -v: wall time, CPU (user +
system) and peak RSS of the whole process; the phase lines the programs print
on stderr give the time of the measured work alone.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
RESULTS = os.path.join(HERE, "results")
PY = os.path.join(HERE, ".venv", "bin", "python")


def measure(name, cmd, shell=False, timeout=None):
    """Run under /usr/bin/time -v; wall, cpu, rss (MB), phases, stdout."""
    full = f"/usr/bin/time -v {cmd}" if shell else ["/usr/bin/time", "-v", *cmd]
    print(f"  {name} ...", file=sys.stderr, flush=True)
    try:
        done = subprocess.run(full, shell=shell, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"name": name, "timeout": timeout}
    err = done.stderr

    def field(label):
        m = re.search(rf"{re.escape(label)}: (.+)", err)
        return m.group(1).strip() if m else None

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(x) for x in wall.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    phases = {}
    for line in err.splitlines():
        if line.startswith('{"phase"'):
            p = json.loads(line)
            phases[p["phase"]] = p
    if done.returncode != 0:
        print(err[-3000:], file=sys.stderr)
        raise SystemExit(f"{name} failed")
    return {
        "name": name,
        "wall": seconds,
        "cpu": float(field("User time (seconds)")) + float(field("System time (seconds)")),
        "rss_mb": int(field("Maximum resident set size (kbytes)")) / 1024,
        "phases": phases,
        "stdout": done.stdout,
    }


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    py = subprocess.run([PY, "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.system()} "
            f"{platform.release()}, {rustc}, {py}")


def compare_scores(report_path, peer_path):
    report = json.load(open(report_path))
    peer = json.load(open(peer_path))["scores"]
    worst, where = 0.0, None
    for f in report["features"]:
        for key in ("psi", "ks", "js", "chiSquared", "chiSquaredP"):
            if key not in f["scores"]:
                continue
            a, b = f["scores"][key], peer[f["name"]][key]
            if key == "chiSquaredP" and a < 1e-300 and b < 1e-300:
                continue  # both underflow to zero
            rel = abs(a - b) / max(abs(b), 1e-300)
            if rel > worst:
                worst, where = rel, f"{f['name']}.{key}"
    return worst, where, report


def main():
    args = argparse.ArgumentParser()
    args.add_argument("--bench", required=True)
    args.add_argument("--rows", type=int, default=1_000_000)
    args.add_argument("--skip-evidently", action="store_true")
    opts = args.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    b, rows = opts.bench, opts.rows
    train, capture = os.path.join(DATA, "train.csv"), os.path.join(DATA, "capture.jsonl")
    baseline, report = os.path.join(DATA, "baseline.json"), os.path.join(DATA, "report.json")
    peer = os.path.join(DATA, "peer.json")
    stamp = os.path.join(DATA, "rows")
    if not (os.path.exists(stamp) and open(stamp).read() == str(rows)):
        print(f"generating {rows} training rows and {rows} capture records ...", file=sys.stderr)
        subprocess.run([b, "generate", DATA, str(rows)], check=True)
        open(stamp, "w").write(str(rows))
    size_mb = os.path.getsize(capture) / 2**20

    runs = {}
    runs["baseline"] = measure("steward baseline (train.csv)", [b, "baseline", train, baseline])
    runs["parse_scan"] = measure("capture decode only (decode_request: scanner)",
                                 [b, "parse", "scan", capture])
    runs["parse_typed"] = measure("serde_json typed parse", [b, "parse", "typed", capture])
    runs["parse_value"] = measure("serde_json Value parse", [b, "parse", "value", capture])
    runs["check"] = measure("steward check", [b, "check", baseline, capture, report])
    runs["check3"] = measure(
        "steward check, 3x window via stdin",
        f"sh -c 'cat {capture} {capture} {capture} | {b} check {baseline} - /dev/null'",
        shell=True)
    runs["numpy"] = measure("python numpy/scipy peer", [PY, os.path.join(HERE, "peer.py"), "numpy",
                                                       baseline, capture, peer])
    if not opts.skip_evidently:
        runs["evidently"] = measure("evidently DataDriftPreset",
                                    [PY, os.path.join(HERE, "peer.py"), "evidently", train, capture],
                                    timeout=1800)
    worst, where, rep = compare_scores(report, peer)

    def ph(run, phase):
        return run["phases"][phase]["seconds"]

    check = runs["check"]
    check_s = ph(check, "check")
    typed_s, value_s = ph(runs["parse_typed"], "parse-typed"), ph(runs["parse_value"], "parse-value")
    scan_s = ph(runs["parse_scan"], "parse-scan")
    np_run = runs["numpy"]
    lines = []
    out = lines.append
    out(f"Machine: {machine()}")
    out("")
    out(f"Data: {rows:,} training rows (CSV, {os.path.getsize(train) / 2**20:.0f} MiB) and {rows:,} "
        f"capture records (JSON lines, CSV-encoded requests, {size_mb:.0f} MiB), 20 features "
        "(14 numerical, 6 categorical), known shift in 8 of them.")
    out("")
    out("| step | wall s | CPU s | peak RSS MiB | work s (wall) | records per CPU s |")
    out("|---|---:|---:|---:|---:|---:|")
    for key, phase in [("parse_scan", "parse-scan"), ("parse_typed", "parse-typed"), ("parse_value", "parse-value"),
                       ("check", "check"), ("baseline", "baseline")]:
        r = runs[key]
        s = ph(r, phase)
        out(f"| {r['name']} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['rss_mb']:.1f} | {s:.3f} | "
            f"{rows / r['cpu']:,.0f} |")
    r = runs["check3"]
    out(f"| {r['name']} ({3 * rows:,} records) | {r['wall']:.2f} | {r['cpu']:.2f} | "
        f"{r['rss_mb']:.1f} | {ph(r, 'check'):.3f} | {3 * rows / r['cpu']:,.0f} |")
    out(f"| {np_run['name']} | {np_run['wall']:.2f} | {np_run['cpu']:.2f} | {np_run['rss_mb']:.1f} | "
        f"{ph(np_run, 'parse') + ph(np_run, 'stats+metrics'):.3f} | "
        f"{rows / np_run['cpu']:,.0f} |")
    ev = runs.get("evidently")
    if ev and "timeout" not in ev:
        out(f"| {ev['name']} (load + drift) | {ev['wall']:.2f} | {ev['cpu']:.2f} | {ev['rss_mb']:.1f} | "
            f"{ph(ev, 'evidently-drift'):.3f} (drift only) | |")
    elif ev:
        out(f"| {ev['name']} | timed out after {ev['timeout']} s | | | | |")
    out("")
    out("Ratios (Python ÷ Steward, whole processes):")
    out("")
    out(f"- numpy/scipy + pandas peer: {np_run['wall'] / check['wall']:.1f}× wall, "
        f"{np_run['cpu'] / check['cpu']:.1f}× CPU, {np_run['rss_mb'] / check['rss_mb']:.0f}× peak RSS")
    if ev and "timeout" not in ev:
        out(f"- Evidently DataDriftPreset: {ev['wall'] / check['wall']:.1f}× wall, "
            f"{ev['cpu'] / check['cpu']:.1f}× CPU, {ev['rss_mb'] / check['rss_mb']:.0f}× peak RSS "
            f"(its drift step alone: {ph(ev, 'evidently-drift'):.1f} s wall, "
            f"{ev['phases']['evidently-drift']['cpu']:.1f} s CPU)")
    typed_cpu, value_cpu = runs["parse_typed"]["cpu"], runs["parse_value"]["cpu"]
    scan_cpu = runs["parse_scan"]["cpu"]
    out(f"- Steward's check against merely decoding the same lines (CPU): {check['cpu'] / scan_cpu:.2f}× "
        f"its own decoding alone (the scanner), {check['cpu'] / typed_cpu:.2f}× "
        f"the typed serde_json parse of the envelope, {check['cpu'] / value_cpu:.2f}× a "
        f"serde_json::Value parse (phase wall: {check_s / scan_s:.2f}×, {check_s / typed_s:.2f}×, "
        f"{check_s / value_s:.2f}×)")
    out("")
    drifted = [f["name"] for f in rep["features"] if f["drifted"]]
    out(f"Agreement: Steward and the numpy/scipy peer agree to {worst:.1e} relative at worst "
        f"({where}); required 1e-6. Steward flags {len(drifted)} features: {', '.join(drifted)}.")
    if ev and "timeout" not in ev:
        out(f"Evidently: {ev['stdout'].strip()}")
    text = "\n".join(lines)
    open(os.path.join(RESULTS, "latest.md"), "w").write(text + "\n")
    json.dump(runs, open(os.path.join(RESULTS, "latest.json"), "w"), indent=1, default=str)
    print(text)
    if worst > 1e-6:
        raise SystemExit(f"Steward and the peer disagree: {worst} at {where}")


if __name__ == "__main__":
    main()
