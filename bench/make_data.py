#!/usr/bin/env python3
"""Generate benchmark inputs for `vigil-bench` and `bench/peers.py`.

    make_data.py --n N --out DIR [--seed S] [--no-csv]

Writes into DIR:

* `labels.u8`   raw uint8, 0/1, one per case (prevalence about 0.30)
* `scores.f64`  raw little-endian float64: a calibrated probability of the
                positive class, rounded to 1e-6 (so large N has many ties)
* `scores_b.f64` raw little-endian float64: a second, correlated and somewhat
                less discriminating score for the same cases (paired tests)
* `cases.csv`   header `label,score,score_b,site`, the same values as text
                (`--no-csv` skips it: at 10^7 rows it is ~300 MB and only the
                CSV-based benchmarks need it)
* `meta.json`   n, seed, prevalence and the generator version, used by
                `run.py` to reuse existing data

Model: latent logit eta ~ N(-1.45, 2.2^2); label ~ Bernoulli(sigmoid(eta));
score = sigmoid(eta) (perfectly calibrated before rounding);
score_b = sigmoid(0.8 * eta + N(0, 0.9^2) - 0.1).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np
import pandas as pd
from scipy.special import expit

GENERATOR_VERSION = 1
N_SITES = 20


def generate(n: int, seed: int):
    rng = np.random.default_rng(seed)
    eta = rng.normal(-1.45, 2.2, n)
    score = expit(eta)
    labels = (rng.random(n) < score).astype(np.uint8)
    score = np.round(score, 6)
    score_b = np.round(expit(0.8 * eta + rng.normal(0.0, 0.9, n) - 0.1), 6)
    # Unequal site sizes, as in a regional network.
    shares = rng.dirichlet(np.full(N_SITES, 2.0))
    site_codes = rng.choice(N_SITES, size=n, p=shares).astype(np.int16)
    return labels, score, score_b, site_codes


def write(out: pathlib.Path, n: int, seed: int, csv: bool) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    labels, score, score_b, site_codes = generate(n, seed)
    labels.tofile(out / "labels.u8")
    score.astype("<f8").tofile(out / "scores.f64")
    score_b.astype("<f8").tofile(out / "scores_b.f64")
    if csv:
        names = [f"site-{i + 1:02d}" for i in range(N_SITES)]
        frame = pd.DataFrame(
            {
                "label": labels,
                "score": score,
                "score_b": score_b,
                "site": pd.Categorical.from_codes(site_codes, categories=names),
            }
        )
        frame.to_csv(out / "cases.csv", index=False, float_format="%.6f", lineterminator="\n")
    elif (out / "cases.csv").exists():
        (out / "cases.csv").unlink()
    meta = {
        "generator_version": GENERATOR_VERSION,
        "n": n,
        "seed": seed,
        "csv": csv,
        "n_positive": int(labels.sum()),
        "prevalence": float(labels.mean()),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, required=True, help="number of cases")
    ap.add_argument("--out", type=pathlib.Path, required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--no-csv", dest="csv", action="store_false", help="do not write cases.csv")
    args = ap.parse_args()
    if args.n < 2:
        ap.error("--n must be at least 2")
    meta = write(args.out, args.n, args.seed, args.csv)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
