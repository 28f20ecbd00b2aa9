#!/usr/bin/env python3
"""Zip bytes and cold start of one function built with several release profiles.

Arguments: `label=bin_dir` per variant. The binary is zipped as cargo-lambda
does (one `bootstrap` entry, deflate); the cold start is measured with
bench/coldstart/measure.py's emulator, interleaving the variants run by run.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "coldstart"))
import measure  # noqa: E402


def zipped_bytes(binary):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bootstrap.zip")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.write(binary, "bootstrap")
        return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--function", required=True)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--moto-server", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("variants", nargs="+", help="label=bin_dir")
    args = ap.parse_args()
    variants = [v.rsplit("=", 1) for v in args.variants]
    binaries = {label: os.path.join(d, args.function) for label, d in variants}
    moto, url = measure.start_moto(args.moto_server)
    samples = {label: [] for label in binaries}
    try:
        measure.provision(url, Path(args.policy).read_text())
        emulator = measure.Emulator()
        env = measure.child_env(args.function, url, emulator.address, tempfile.mkdtemp())
        with open(os.devnull, "wb") as log:
            for binary in binaries.values():
                measure.one_run([binary], env, emulator, log)  # warm-up
            for _ in range(args.runs):
                for label, binary in binaries.items():
                    samples[label].append(measure.one_run([binary], env, emulator, log))
    finally:
        moto.kill()
        moto.wait()
    info = measure.machine()
    lines = [
        f"`{args.function}`, x86_64 host build, LTO + strip + panic=abort; "
        f"{info['cpu']}, {info['nproc']} cores; cold start = median of {args.runs} runs, interleaved.",
        "",
        "| profile | binary bytes | zip bytes | cold-start CPU ms | wall ms | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = []
    for label, binary in binaries.items():
        s = samples[label]
        row = {
            "profile": label,
            "binary_bytes": os.path.getsize(binary),
            "zip_bytes": zipped_bytes(binary),
            "cpu_s": statistics.median(x[1] for x in s),
            "wall_s": statistics.median(x[0] for x in s),
            "rss_kib": statistics.median(x[2] for x in s),
            "samples": s,
        }
        rows.append(row)
        lines.append(
            f"| {label} | {row['binary_bytes']:,} | {row['zip_bytes']:,} | {row['cpu_s']*1e3:.1f} "
            f"| {row['wall_s']*1e3:.1f} | {row['rss_kib']/1024:.1f} |"
        )
    md = "\n".join(lines) + "\n"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "profiles.md").write_text(md)
    (out / "profiles.json").write_text(json.dumps({"machine": info, "rows": rows}, indent=1))
    print(md)


if __name__ == "__main__":
    main()
