#!/usr/bin/env python3
"""Generate the inputs of the drift and CBPE benchmarks.

    make_drift_data.py --n N --out DIR [--seed S]

Needs only NumPy. Writes into DIR a reference period and an analysis period of
N rows each:

* `columns.tsv`  one line per feature column: `numeric<TAB>name<TAB>` or
                 `categorical<TAB>name<TAB>cat1,cat2,...` (the category names,
                 in code order)
* `reference.NAME.f64`, `analysis.NAME.f64`  numeric columns, raw
                 little-endian float64
* `reference.NAME.u8`, `analysis.NAME.u8`    categorical columns, raw uint8
                 category codes (index into the names in `columns.tsv`)
* `cbpe_reference_scores.f64`, `cbpe_reference_labels.u8`,
  `cbpe_analysis_scores.f64`, `cbpe_analysis_labels.u8`  a calibrated
                 probability of the positive class (rounded to 1e-6) and the
                 outcome, for the CBPE benchmark; the analysis labels are not
                 used by the timed work, only to report realised performance
* `meta.json`    n, seed, generator version and the planted shifts, used by
                 `run.py` to reuse existing data

The ten feature columns, seven numeric and three categorical, look like the
inputs of a clinical risk tool. Five of them carry a planted shift in the
analysis period, large enough to be detected at N = 10^6 and small enough to
be realistic; the other five are drawn from the same distribution in both
periods:

| column | reference | analysis |
| --- | --- | --- |
| age | round(N(62, 16^2)), clipped to [18, 100] | mean 63 (shift) |
| heart_rate | round(N(82, 14^2)), clipped to [30, 200] | same |
| creatinine | lognormal, median 85, sigma 0.35, rounded to 1 | same |
| lactate | Gamma(2, 0.8), rounded to 0.1 | scale 0.9 (shift) |
| bmi | N(27.5, 5.5^2), rounded to 0.1 | mean 27.6 (small shift) |
| sodium | N(139, 3.5^2), rounded to 0.1 | same |
| risk_score | Beta(2, 5), not rounded | same |
| site | 20 sites, Dirichlet(2) shares | site-03's share doubled (shift) |
| sex | F 0.52, M 0.48 | same |
| triage | levels 1-5 with 0.05/0.15/0.35/0.30/0.15 | 0.06/0.17/0.35/0.28/0.14 (shift) |

CBPE scores: latent logit eta ~ N(-1.45, 2.2^2) in the reference and
N(-1.2, 2.2^2) in the analysis period (a covariate shift that raises the
prevalence but keeps the scores calibrated, the condition under which CBPE is
valid); score = sigmoid(eta) rounded to 1e-6; label ~ Bernoulli(sigmoid(eta)).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np

GENERATOR_VERSION = 1
N_SITES = 20
SHIFTED = ["age", "lactate", "bmi", "site", "triage"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def numeric_columns(rng: np.random.Generator, n: int, analysis: bool) -> dict[str, np.ndarray]:
    return {
        "age": np.clip(np.round(rng.normal(63.0 if analysis else 62.0, 16.0, n)), 18, 100),
        "heart_rate": np.clip(np.round(rng.normal(82.0, 14.0, n)), 30, 200),
        "creatinine": np.round(np.exp(rng.normal(np.log(85.0), 0.35, n))),
        "lactate": np.round(rng.gamma(2.0, 0.9 if analysis else 0.8, n), 1),
        "bmi": np.round(rng.normal(27.6 if analysis else 27.5, 5.5, n), 1),
        "sodium": np.round(rng.normal(139.0, 3.5, n), 1),
        "risk_score": rng.beta(2.0, 5.0, n),
    }


def categorical_columns(rng: np.random.Generator, n: int, analysis: bool, site_shares: np.ndarray):
    shares = site_shares.copy()
    if analysis:
        shares[2] *= 2.0
        shares /= shares.sum()
    sex = np.array([0.52, 0.48])
    triage = np.array([0.06, 0.17, 0.35, 0.28, 0.14]) if analysis else np.array([0.05, 0.15, 0.35, 0.30, 0.15])
    return {
        "site": rng.choice(N_SITES, size=n, p=shares).astype(np.uint8),
        "sex": rng.choice(2, size=n, p=sex).astype(np.uint8),
        "triage": rng.choice(5, size=n, p=triage).astype(np.uint8),
    }


CATEGORIES = {
    "site": [f"site-{i + 1:02d}" for i in range(N_SITES)],
    "sex": ["F", "M"],
    "triage": ["1", "2", "3", "4", "5"],
}


def cbpe_period(rng: np.random.Generator, n: int, mean: float):
    eta = rng.normal(mean, 2.2, n)
    p = _sigmoid(eta)
    labels = (rng.random(n) < p).astype(np.uint8)
    return np.round(p, 6), labels


def write(out: pathlib.Path, n: int, seed: int) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    site_shares = rng.dirichlet(np.full(N_SITES, 2.0))
    lines = []
    for period in ("reference", "analysis"):
        analysis = period == "analysis"
        for name, values in numeric_columns(rng, n, analysis).items():
            values.astype("<f8").tofile(out / f"{period}.{name}.f64")
            if not analysis:
                lines.append(f"numeric\t{name}\t")
        for name, codes in categorical_columns(rng, n, analysis, site_shares).items():
            codes.tofile(out / f"{period}.{name}.u8")
            if not analysis:
                lines.append(f"categorical\t{name}\t{','.join(CATEGORIES[name])}")
    (out / "columns.tsv").write_text("\n".join(lines) + "\n")

    ref_p, ref_y = cbpe_period(rng, n, -1.45)
    cur_p, cur_y = cbpe_period(rng, n, -1.2)
    ref_p.astype("<f8").tofile(out / "cbpe_reference_scores.f64")
    ref_y.tofile(out / "cbpe_reference_labels.u8")
    cur_p.astype("<f8").tofile(out / "cbpe_analysis_scores.f64")
    cur_y.tofile(out / "cbpe_analysis_labels.u8")

    meta = {
        "generator_version": GENERATOR_VERSION,
        "n": n,
        "seed": seed,
        "numeric": [ln.split("\t")[1] for ln in lines if ln.startswith("numeric")],
        "categorical": [ln.split("\t")[1] for ln in lines if ln.startswith("categorical")],
        "shifted": SHIFTED,
        "cbpe_reference_prevalence": float(ref_y.mean()),
        "cbpe_analysis_prevalence": float(cur_y.mean()),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, required=True, help="rows in each period")
    ap.add_argument("--out", type=pathlib.Path, required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=20261123)
    args = ap.parse_args()
    if args.n < 2:
        ap.error("--n must be at least 2")
    print(json.dumps(write(args.out, args.n, args.seed)))


if __name__ == "__main__":
    main()
