#!/usr/bin/env python3
"""Peer (Python) implementations for the Vigil benchmarks.

    peers.py <work> --dir DIR

<work> is one of:

* `auc-delong-sklearn`    sklearn `roc_auc_score` + DeLong variance and 95% CI
                          (Sun & Xu 2014 mid-rank algorithm, NumPy/SciPy)
* `delong-paired-numpy`   paired DeLong test of `scores` vs `scores_b`:
                          z, two-sided p, 95% CI of the AUC difference
* `bootstrap-auc-sklearn` 1000 stratified bootstrap resamples of the first
                          100,000 cases, `roc_auc_score` in a Python loop,
                          seed 1, percentile 95% CI
* `read-csv-pandas`       `pandas.read_csv` of `cases.csv`, reports MB/s
* `evaluate-python`       end to end on `cases.csv`: read, AUC + DeLong CI,
                          paired DeLong vs `score_b`, Youden threshold,
                          confusion matrix with Wilson CIs, Brier, ECE,
                          logistic recalibration intercept and slope

Each subcommand loads its inputs first, then times only the compute with
`time.perf_counter` (for `read-csv-pandas` and `evaluate-python` the CSV read
*is* the work and is timed), and prints one line of JSON on stdout:
`{"seconds": <float>, "result": {...}}`, the same contract as `vigil-bench`.

Definitions (so the numbers can be cross-checked against Vigil):

* AUC counts tied positive/negative pairs as one half; the positive class is
  label 1 and higher scores mean more likely positive (never flipped).
* DeLong variance: structural components from mid-ranks (Sun & Xu 2014),
  sample covariances with denominator (m - 1) and (n - 1); Wald 95% CI
  AUC +/- z_{0.975} * SE, not clipped and not transformed.
* Paired test: z = (AUC_a - AUC_b) / SE(difference); two-sided normal p.
* Youden threshold: the `roc_curve` threshold maximising TPR - FPR; a case is
  called positive when score >= threshold.
* Wilson score interval, 95%.
* ECE: 10 equal-width bins on [0, 1], closed on the right (bin k holds
  k/10 < p <= (k+1)/10, bin 0 also holds p = 0; scikit-learn's convention),
  ECE = sum_b (n_b / N) |mean(y)_b - mean(p)_b|, empty bins skipped.
* Calibration intercept and slope: logistic regression of the label on
  logit(p) (p clipped to [1e-12, 1 - 1e-12]), fitted jointly without penalty
  (scikit-learn, Newton-Cholesky solver, tol 1e-12, i.e. converged to the
  maximum-likelihood estimate; the default lbfgs stops ~1e-5 away from it).
  This intercept is not "calibration-in-the-large" (which fixes the slope at 1).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

import numpy as np
from scipy.special import logit as _logit
from scipy.stats import norm, rankdata

Z975 = float(norm.ppf(0.975))


# --------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------


def delong(scores: np.ndarray, labels: np.ndarray):
    """AUCs and DeLong covariance for k score vectors on the same cases.

    scores: shape (k, N) or (N,), float64; labels: shape (N,), 0/1.
    Returns (aucs of shape (k,), covariance of shape (k, k)).

    Fast DeLong (Sun & Xu 2014, IEEE Signal Processing Letters 21(11)):
    with m positives X and n negatives Y, and mid-ranks tx (within X),
    ty (within Y) and tz (within X and Y together),
        AUC  = (sum of tz over X - m (m + 1) / 2) / (m n)
        V10  = (tz_X - tx) / n          (one per positive)
        V01  = 1 - (tz_Y - ty) / m      (one per negative)
        S    = cov(V10) / m + cov(V01) / n
    Mid-ranks give ties a weight of one half.
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    pos_mask = np.asarray(labels) == 1
    pos = scores[:, pos_mask]
    neg = scores[:, ~pos_mask]
    m = pos.shape[1]
    n = neg.shape[1]
    if m < 2 or n < 2:
        raise ValueError("DeLong needs at least two positives and two negatives")
    tx = rankdata(pos, axis=1)
    ty = rankdata(neg, axis=1)
    tz = rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    del pos, neg
    aucs = (tz[:, :m].sum(axis=1) - m * (m + 1) / 2.0) / (float(m) * float(n))
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    del tx, ty, tz
    s10 = np.atleast_2d(np.cov(v10))
    s01 = np.atleast_2d(np.cov(v01))
    cov = s10 / m + s01 / n
    return aucs, cov


def delong_ci(scores: np.ndarray, labels: np.ndarray) -> dict:
    aucs, cov = delong(scores, labels)
    auc = float(aucs[0])
    var = float(cov[0, 0])
    se = var**0.5
    return {"auc": auc, "variance": var, "se": se, "ci_low": auc - Z975 * se, "ci_high": auc + Z975 * se}


def delong_paired(scores_a: np.ndarray, scores_b: np.ndarray, labels: np.ndarray) -> dict:
    aucs, cov = delong(np.vstack([scores_a, scores_b]), labels)
    diff = float(aucs[0] - aucs[1])
    var = float(cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1])
    se = var**0.5
    z = diff / se if se > 0 else float("nan")
    p = float(2.0 * norm.sf(abs(z))) if se > 0 else float("nan")
    return {
        "auc_a": float(aucs[0]),
        "auc_b": float(aucs[1]),
        "difference": diff,
        "variance": var,
        "se": se,
        "z": z,
        "p_value": p,
        "ci_low": diff - Z975 * se,
        "ci_high": diff + Z975 * se,
    }


def wilson(successes: int, total: int) -> dict:
    if total == 0:
        return {"estimate": None, "ci_low": None, "ci_high": None, "numerator": 0, "denominator": 0}
    p = successes / total
    z2 = Z975 * Z975
    denom = 1.0 + z2 / total
    centre = (p + z2 / (2.0 * total)) / denom
    half = Z975 * np.sqrt(p * (1.0 - p) / total + z2 / (4.0 * total * total)) / denom
    return {
        "estimate": p,
        "ci_low": float(max(0.0, centre - half)),
        "ci_high": float(min(1.0, centre + half)),
        "numerator": int(successes),
        "denominator": int(total),
    }


def ece_equal_width(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    # Right-closed bins, as scikit-learn's calibration_curve and Vigil:
    # bin k holds k/M < p <= (k+1)/M, and bin 0 also holds p = 0.
    interior = np.arange(1, bins, dtype=np.float64) / bins
    idx = np.searchsorted(interior, p, side="left")  # number of interior edges strictly below p
    count = np.bincount(idx, minlength=bins).astype(np.float64)
    sum_p = np.bincount(idx, weights=p, minlength=bins)
    sum_y = np.bincount(idx, weights=y.astype(np.float64), minlength=bins)
    nz = count > 0
    return float(np.sum(np.abs(sum_y[nz] - sum_p[nz])) / p.size)


# --------------------------------------------------------------------------
# Input loading
# --------------------------------------------------------------------------


def load_arrays(d: pathlib.Path, b: bool = False):
    labels = np.fromfile(d / "labels.u8", dtype=np.uint8)
    scores = np.fromfile(d / "scores.f64", dtype="<f8")
    scores_b = np.fromfile(d / "scores_b.f64", dtype="<f8") if b else None
    if scores.size != labels.size or (scores_b is not None and scores_b.size != labels.size):
        raise SystemExit(f"{d}: input arrays have different lengths")
    return scores, scores_b, labels


def emit(seconds: float, result: dict) -> None:
    print(json.dumps({"seconds": seconds, "result": result}, allow_nan=True))


# --------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------


def cmd_auc_delong(d: pathlib.Path) -> None:
    from sklearn.metrics import roc_auc_score

    scores, _, labels = load_arrays(d)
    t0 = time.perf_counter()
    auc_sklearn = float(roc_auc_score(labels, scores))
    t1 = time.perf_counter()
    res = delong_ci(scores, labels)
    t2 = time.perf_counter()
    res.update(
        {
            "n": int(labels.size),
            "n_positive": int(labels.sum()),
            "auc_sklearn": auc_sklearn,
            "sklearn_seconds": t1 - t0,
            "delong_seconds": t2 - t1,
        }
    )
    emit(t2 - t0, res)


def cmd_delong_paired(d: pathlib.Path) -> None:
    scores, scores_b, labels = load_arrays(d, b=True)
    t0 = time.perf_counter()
    res = delong_paired(scores, scores_b, labels)
    t1 = time.perf_counter()
    res["n"] = int(labels.size)
    emit(t1 - t0, res)


def cmd_bootstrap(d: pathlib.Path, resamples: int = 1000, n_max: int = 100_000, seed: int = 1) -> None:
    from sklearn.metrics import roc_auc_score

    scores, _, labels = load_arrays(d)
    scores = np.ascontiguousarray(scores[:n_max])
    labels = np.ascontiguousarray(labels[:n_max])
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    pos_idx = np.flatnonzero(labels == 1)
    neg_idx = np.flatnonzero(labels == 0)
    aucs = np.empty(resamples, dtype=np.float64)
    for b in range(resamples):
        idx = np.concatenate(
            [
                pos_idx[rng.integers(0, pos_idx.size, pos_idx.size)],
                neg_idx[rng.integers(0, neg_idx.size, neg_idx.size)],
            ]
        )
        aucs[b] = roc_auc_score(labels[idx], scores[idx])
    lo, hi = np.percentile(aucs, [2.5, 97.5])
    point = float(roc_auc_score(labels, scores))
    t1 = time.perf_counter()
    emit(
        t1 - t0,
        {
            "n": int(labels.size),
            "resamples": resamples,
            "seed": seed,
            "auc": point,
            "ci_low": float(lo),
            "ci_high": float(hi),
            "bootstrap_mean": float(aucs.mean()),
            "bootstrap_sd": float(aucs.std(ddof=1)),
        },
    )


def cmd_read_csv(d: pathlib.Path) -> None:
    import pandas as pd

    path = d / "cases.csv"
    size = os.path.getsize(path)
    t0 = time.perf_counter()
    frame = pd.read_csv(path)
    t1 = time.perf_counter()
    secs = t1 - t0
    emit(
        secs,
        {
            "rows": int(len(frame)),
            "columns": list(map(str, frame.columns)),
            "bytes": size,
            "mb": size / 1e6,
            "mb_per_s": size / 1e6 / secs,
            "label_sum": int(frame["label"].sum()),
            "score_sum": float(frame["score"].sum()),
        },
    )


def cmd_evaluate(d: pathlib.Path) -> None:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

    path = d / "cases.csv"
    t0 = time.perf_counter()
    frame = pd.read_csv(path)
    y = frame["label"].to_numpy(dtype=np.int64)
    p = frame["score"].to_numpy(dtype=np.float64)
    pb = frame["score_b"].to_numpy(dtype=np.float64)

    auc = float(roc_auc_score(y, p))
    dl = delong_ci(p, y)
    paired = delong_paired(p, pb, y)

    fpr, tpr, thr = roc_curve(y, p)
    j = int(np.argmax(tpr - fpr))
    threshold = float(thr[j])
    pred = p >= threshold
    pos = y == 1
    tp = int(np.count_nonzero(pred & pos))
    fp = int(np.count_nonzero(pred & ~pos))
    fn = int(np.count_nonzero(~pred & pos))
    tn = int(np.count_nonzero(~pred & ~pos))

    brier = float(brier_score_loss(y, p))
    ece = ece_equal_width(p, y)
    x = _logit(np.clip(p, 1e-12, 1.0 - 1e-12)).reshape(-1, 1)
    # C=inf is an unpenalised fit: scikit-learn >= 1.8 deprecates penalty=None
    # in favour of this spelling; the fit is the same. Newton-Cholesky with a
    # tight tolerance reaches the exact maximum-likelihood fit (and is faster
    # than the default lbfgs here).
    lr = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=100).fit(x, y)
    t1 = time.perf_counter()

    # Field names follow `vigil evaluate --json`, so run.py can compare them.
    emit(
        t1 - t0,
        {
            "n": int(y.size),
            "n_positive": int(pos.sum()),
            "n_negative": int(y.size - pos.sum()),
            "auc": {
                "estimate": auc,
                "ci_low": dl["ci_low"],
                "ci_high": dl["ci_high"],
                "standard_error": dl["se"],
            },
            "threshold": threshold,
            "threshold_rule": "youden",
            "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
            "sensitivity": wilson(tp, tp + fn),
            "specificity": wilson(tn, tn + fp),
            "ppv": wilson(tp, tp + fp),
            "npv": wilson(tn, tn + fn),
            "calibration": {
                "brier": brier,
                "ece": ece,
                "intercept": float(lr.intercept_[0]),
                "slope": float(lr.coef_[0, 0]),
            },
            "comparison": {
                "column": "score_b",
                "auc": paired["auc_b"],
                "auc_difference": paired["difference"],
                "ci_low": paired["ci_low"],
                "ci_high": paired["ci_high"],
                "z": paired["z"],
                "p_value": paired["p_value"],
            },
        },
    )


COMMANDS = {
    "auc-delong-sklearn": cmd_auc_delong,
    "delong-paired-numpy": cmd_delong_paired,
    "bootstrap-auc-sklearn": cmd_bootstrap,
    "read-csv-pandas": cmd_read_csv,
    "evaluate-python": cmd_evaluate,
}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work", choices=sorted(COMMANDS))
    ap.add_argument("--dir", type=pathlib.Path, required=True, help="directory written by make_data.py")
    args = ap.parse_args(argv)
    if not args.dir.is_dir():
        sys.exit(f"no such directory: {args.dir}")
    COMMANDS[args.work](args.dir)


if __name__ == "__main__":
    main()
