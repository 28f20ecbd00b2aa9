#!/usr/bin/env python3
"""The Python peer of Steward's drift core: the same metrics on the same bins.

    peer.py numpy <baseline.json> <capture.jsonl> <out.json>
        json.loads per capture line, pandas.read_csv of the request bodies (the
        "pandas implementation" of capture -> statistics), numpy histograms on the
        baseline's edges, scipy for Jensen-Shannon and the chi-squared p-value.
    peer.py evidently <train.csv> <capture.jsonl>
        Evidently's DataDriftPreset, reference = the training data, current = the
        decoded capture (what a Python drift job would run).

Phase timings (wall and CPU seconds of the phase alone) go to stderr as JSON lines.
Definitions: crates/steward-drift/src/lib.rs.
"""

import base64
import io
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2

FLOOR = 1e-4


class Phase:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __exit__(self, *exc):
        print(json.dumps({"phase": self.name,
                          "seconds": time.perf_counter() - self.wall,
                          "cpu": time.process_time() - self.cpu}), file=sys.stderr)


def decode_capture(path, names, categorical):
    """Capture lines -> DataFrame of the request rows (CSV bodies)."""
    bodies = []
    with open(path, "rb") as f:
        for line in f:
            try:
                payload = json.loads(line)["captureData"]["endpointInput"]
            except (ValueError, KeyError, TypeError):
                continue
            data = payload["data"]
            if payload.get("encoding") == "BASE64":
                data = base64.b64decode(data).decode()
            bodies.append(data.rstrip("\n"))
    dtypes = {name: str for name in categorical}
    return pd.read_csv(io.StringIO("\n".join(bodies)), header=None, names=names,
                       dtype=dtypes, keep_default_na=False, na_values=[""])


def shares(counts):
    counts = np.asarray(counts, dtype=float)
    return counts / counts.sum()


def psi(base, window):
    p, q = np.maximum(shares(base), FLOOR), np.maximum(shares(window), FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def ks(base, window):
    return float(np.max(np.abs(np.cumsum(shares(base)) - np.cumsum(shares(window)))))


def chi_squared(base, window):
    expected = np.sum(window) * np.maximum(shares(base), FLOOR)
    statistic = float(np.sum((np.asarray(window) - expected) ** 2 / expected))
    dof = len(base) - 1
    return statistic, (float(chi2.sf(statistic, dof)) if dof > 0 else 1.0)


def numpy_peer(baseline_path, capture_path, out_path):
    baseline = json.load(open(baseline_path))
    features = baseline["features"]
    names = [f["name"] for f in features]
    categorical = [f["name"] for f in features if f["type"] == "categorical"]
    with Phase("parse"):
        frame = decode_capture(capture_path, names, categorical)
    scores = {}
    with Phase("stats+metrics"):
        for f in features:
            column = frame[f["name"]]
            if f["type"] == "numerical":
                values = pd.to_numeric(column, errors="coerce").dropna().to_numpy(dtype=float)
                edges = np.asarray(f["edges"], dtype=float)
                window = np.bincount(np.searchsorted(edges, values, side="right"),
                                     minlength=len(edges) + 1)
                base = f["counts"]
                scores[f["name"]] = {"psi": psi(base, window), "ks": ks(base, window)}
            else:
                counts = column.dropna().astype(str).value_counts()
                known = [c["value"] for c in f["categories"]]
                unseen = sorted(set(counts.index) - set(known))
                base = [c["count"] for c in f["categories"]] + [0] * len(unseen)
                window = [int(counts.get(v, 0)) for v in known + unseen]
                stat, p = chi_squared(base, window)
                scores[f["name"]] = {
                    "js": float(jensenshannon(shares(base), shares(window), base=2)),
                    "chiSquared": stat, "chiSquaredP": p}
    json.dump({"rows": int(len(frame)), "scores": scores}, open(out_path, "w"), indent=1)


def evidently_peer(train_path, capture_path):
    from evidently import Report
    from evidently.presets import DataDriftPreset
    with Phase("evidently-load"):
        reference = pd.read_csv(train_path, keep_default_na=False, na_values=[""])
        names = list(reference.columns)
        categorical = [n for n in names if reference[n].dtype == object]
        current = decode_capture(capture_path, names, categorical)
    with Phase("evidently-drift"):
        snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
        result = snapshot.dict()
    drifted = None
    # The preset's first metric is the drifted-columns count {count, share}.
    for metric in result.get("metrics", []):
        value = metric.get("value")
        if isinstance(value, dict) and set(value) == {"count", "share"}:
            drifted = value["count"]
            break
    print(json.dumps({"drifted_columns": drifted}))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "numpy":
        numpy_peer(*sys.argv[2:5])
    elif mode == "evidently":
        evidently_peer(*sys.argv[2:4])
    else:
        sys.exit(f"unknown mode {mode}")
