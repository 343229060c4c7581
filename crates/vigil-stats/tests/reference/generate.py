#!/usr/bin/env python3
"""Known-answer fixtures for the vigil-stats crate.

Builds deterministic input data (numpy default_rng with fixed seeds), computes
the expected values with the reference implementations (scikit-learn, SciPy,
NumPy here; pROC and rms in R through reference.R) and writes
``fixtures.json`` next to this file. The Rust tests read that file; they never
run Python or R.

Re-run from the workspace root (Debian/Ubuntu):

    python3 -m venv .venv && .venv/bin/pip install numpy scipy scikit-learn \\
      && apt-get install r-base-core r-cran-proc r-cran-rms r-cran-jsonlite \\
      && .venv/bin/python crates/vigil-stats/tests/reference/generate.py

(``requirements.txt`` next to this file pins the Python versions used for the
committed fixtures; ``pip install -r`` it for a byte-identical result.)

The definitions that the Rust code implements are documented in README.md
next to this file; the comments below repeat the non-obvious ones. Every
number is written with Python's float repr (shortest string that round-trips),
so the JSON holds exactly the doubles computed here. R results come back as
"%.17g" strings (see reference.R) and are converted with float().

The script asserts a number of cross-checks (sklearn AUC == pROC AUC, SciPy ==
base R for proportions, chi-square, KS and binomial quantiles, ...) and fails
loudly if any does not hold.
"""

from __future__ import annotations

import json
import math
import platform
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
from scipy import special, stats
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

HERE = Path(__file__).resolve().parent
OUT = HERE / "fixtures.json"
R_SCRIPT = HERE / "reference.R"

# Any warning from numpy/scipy/sklearn is a bug in this script (for example
# scipy's ks_2samp silently switching from the exact to the asymptotic method).
warnings.simplefilter("error")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def fl(x) -> float | None:
    """A finite float, or None for NaN (written as JSON null)."""
    x = float(x)
    if math.isnan(x):
        return None
    assert math.isfinite(x), x
    return x


def flist(xs) -> list[float]:
    out = [float(v) for v in np.asarray(xs, dtype=float)]
    assert all(math.isfinite(v) for v in out)
    return out


def shuffled_labels(rng: np.random.Generator, n: int, positives: int) -> np.ndarray:
    y = np.zeros(n, dtype=np.int64)
    y[:positives] = 1
    rng.shuffle(y)
    return y


# --------------------------------------------------------------------------
# Binary datasets
# --------------------------------------------------------------------------


def make_datasets() -> list[dict]:
    ds: list[dict] = []

    def add(name, scores, labels, scores_b, unit_interval=True):
        scores = np.asarray(scores, dtype=float)
        scores_b = np.asarray(scores_b, dtype=float)
        labels = np.asarray(labels, dtype=np.int64)
        assert len(scores) == len(labels) == len(scores_b)
        assert 0 < labels.sum() < len(labels), f"{name}: needs both classes"
        if unit_interval:
            # Calibration needs logit(score): no score may be exactly 0 or 1.
            for s in (scores, scores_b):
                assert np.all((s > 0) & (s < 1)), name
        ds.append(
            dict(name=name, scores=scores, labels=labels, scores_b=scores_b,
                 unit_interval=unit_interval)
        )

    # 1. Tiny, scores on a 0.1 grid: many ties, including ties across classes.
    rng = np.random.default_rng(101)
    y = shuffled_labels(rng, 20, 8)
    raw = np.where(y == 1, rng.uniform(0.3, 0.94, 20), rng.uniform(0.06, 0.7, 20))
    s = np.round(raw, 1)
    sb = np.round(np.clip(raw + rng.normal(0, 0.15, 20), 0.06, 0.94), 1)
    add("tiny_ties", s, y, sb)

    # 2. Continuous, n = 500, prevalence 0.3.
    rng = np.random.default_rng(102)
    y = shuffled_labels(rng, 500, 150)
    latent = rng.normal(0, 1, 500) + 1.2 * y
    s = sigmoid(latent - 0.8)
    sb = sigmoid(0.6 * latent + rng.normal(0, 0.8, 500) - 0.5)
    add("continuous_500", s, y, sb)

    # 3. n = 2000, scores rounded to 2 decimals: heavy ties.
    rng = np.random.default_rng(103)
    y = shuffled_labels(rng, 2000, 400)
    latent = rng.normal(0, 1, 2000) + 1.0 * y
    s = np.round(np.clip(sigmoid(1.3 * latent - 1.2), 0.01, 0.99), 2)
    sb = np.round(np.clip(sigmoid(latent + rng.normal(0, 1.0, 2000) - 1.0), 0.01, 0.99), 2)
    add("heavy_ties_2000", s, y, sb)

    # 4. Imbalanced, n = 1500, prevalence 0.04.
    rng = np.random.default_rng(104)
    y = shuffled_labels(rng, 1500, 60)
    latent = rng.normal(0, 1, 1500) + 1.5 * y
    s = sigmoid(latent - 3.0)
    sb = sigmoid(0.8 * latent + rng.normal(0, 0.7, 1500) - 3.0)
    add("imbalanced_1500", s, y, sb)

    # 5. Perfect separation: AUC = 1 for scores (scores_b is not perfect).
    rng = np.random.default_rng(105)
    y = shuffled_labels(rng, 120, 40)
    s = np.where(y == 1, rng.uniform(0.52, 0.98, 120), rng.uniform(0.02, 0.48, 120))
    sb = np.clip(s + rng.normal(0, 0.15, 120), 0.01, 0.99)
    add("perfect_separation", s, y, sb)

    # 6. All scores equal: AUC = 0.5; scores_b random.
    rng = np.random.default_rng(106)
    y = shuffled_labels(rng, 60, 25)
    s = np.full(60, 0.5)
    sb = rng.uniform(0.01, 0.99, 60)
    add("all_equal", s, y, sb)

    # 7. Calibrated: p from a logistic model, y ~ Bernoulli(p), score = p.
    rng = np.random.default_rng(107)
    x = rng.normal(0, 1, 3000)
    p = sigmoid(-1.0 + 1.5 * x)
    y = (rng.random(3000) < p).astype(np.int64)
    sb = sigmoid(-1.0 + 1.5 * (0.7 * x + rng.normal(0, 0.7, 3000)))
    add("calibrated_3000", p, y, sb)

    # 8. Overconfident: true risk sigmoid(lp), score sigmoid(2.2 lp + 0.3)
    #    (calibration slope about 1/2.2, intercept away from 0).
    rng = np.random.default_rng(108)
    x = rng.normal(0, 1, 3000)
    lp = -0.5 + 1.2 * x
    y = (rng.random(3000) < sigmoid(lp)).astype(np.int64)
    s = sigmoid(2.2 * lp + 0.3)
    sb = sigmoid(lp + rng.normal(0, 0.8, 3000))
    add("overconfident_3000", s, y, sb)

    # 9. Scores on an arbitrary real scale (logits clipped to [-6, 6]; the
    #    clipping makes ties at both ends). No calibration / cbpe for it.
    rng = np.random.default_rng(109)
    y = shuffled_labels(rng, 400, 120)
    s = np.clip(rng.normal(0, 2.0, 400) + 2.0 * y - 1.0, -6, 6)
    sb = np.clip(0.8 * s + rng.normal(0, 1.5, 400), -6, 6)
    add("logit_scale_400", s, y, sb, unit_interval=False)

    # 10. scores_b identical to scores: the paired DeLong test has d = 0 and
    #     sigma = 0 (pROC then defines z = 0, p = 1).
    rng = np.random.default_rng(110)
    y = shuffled_labels(rng, 200, 70)
    s = sigmoid(rng.normal(0, 1, 200) + 1.0 * y - 0.5)
    add("identical_pair_200", s, y, s.copy())

    # 11. Small with high AUC: the DeLong Wald interval passes 1, which
    #     pROC clips to 1.
    rng = np.random.default_rng(111)
    y = shuffled_labels(rng, 30, 12)
    s = sigmoid(3.2 * (rng.normal(0, 1, 30) + 3.2 * y - 1.6))
    sb = sigmoid(rng.normal(0, 1, 30) + 1.5 * y - 0.8 + 0.5 * (s - 0.5))
    add("small_high_auc_30", s, y, sb)

    return ds


# --------------------------------------------------------------------------
# Proportions
# --------------------------------------------------------------------------


def wilson(x: int, n: int, level: float) -> tuple[float, float]:
    z = stats.norm.ppf(1 - (1 - level) / 2)
    phat = x / n
    denom = 1 + z * z / n
    center = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    low, high = center - half, center + half
    # Exact values at the ends (the closed form gives them only up to rounding).
    if x == 0:
        low = 0.0
    if x == n:
        high = 1.0
    return low, high


def clopper_pearson(x: int, n: int, level: float) -> tuple[float, float]:
    a = (1 - level) / 2
    low = 0.0 if x == 0 else stats.beta.ppf(a, x, n - x + 1)
    high = 1.0 if x == n else stats.beta.ppf(1 - a, x + 1, n - x)
    return float(low), float(high)


def make_proportions() -> list[dict]:
    cases = [(0, 10), (10, 10), (1, 1), (5, 20), (87, 100), (999, 1000),
             (3, 1_000_000), (450, 500)]
    out = []
    for x, n in cases:
        for level in (0.95, 0.90, 0.99):
            wl, wh = wilson(x, n, level)
            cl, ch = clopper_pearson(x, n, level)
            out.append(dict(
                name=f"prop_{x}_of_{n}_L{level}", successes=x, trials=n,
                level=level, wilson_low=fl(wl), wilson_high=fl(wh),
                clopper_pearson_low=fl(cl), clopper_pearson_high=fl(ch)))
    return out


# --------------------------------------------------------------------------
# Confusion matrices
# --------------------------------------------------------------------------


def tied_value(scores: np.ndarray) -> float:
    """The score value nearest the median among values that occur >= 2 times."""
    vals, counts = np.unique(scores, return_counts=True)
    tied = vals[counts >= 2]
    if len(tied) == 0:
        return None
    med = np.median(scores)
    return float(tied[np.argmin(np.abs(tied - med))])


def confusion_thresholds(d: dict) -> list[float]:
    s = d["scores"]
    if d["name"] == "all_equal":
        return [0.5, 0.6]  # everyone positive / everyone negative
    ts = []
    if d["unit_interval"]:
        ts.append(0.5)
    else:
        ts.append(0.0)
    tv = tied_value(s)
    if tv is not None:
        ts.append(tv)
    ts.append(float(np.quantile(s, 0.25)))
    ts.append(float(np.quantile(s, 0.9)))
    ts.append(float(s.min()))  # everyone positive: npv undefined -> null
    if d["name"] in ("tiny_ties", "continuous_500"):
        # nobody positive: ppv undefined -> null
        ts.append(float(s.max()) + 0.01)
    # de-duplicate, keep order
    seen, out = set(), []
    for t in ts:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def nan_to_none(v):
    v = float(v)
    return None if math.isnan(v) else v


def make_confusion(datasets: list[dict]) -> list[dict]:
    out = []
    for d in datasets:
        y, s = d["labels"], d["scores"]
        for i, t in enumerate(confusion_thresholds(d)):
            pred = (s >= t).astype(np.int64)
            tn, fp, fn, tp = (int(v) for v in confusion_matrix(y, pred, labels=[0, 1]).ravel())
            sens = recall_score(y, pred, zero_division=np.nan)
            ppv = precision_score(y, pred, zero_division=np.nan)
            f1 = f1_score(y, pred, zero_division=np.nan)
            acc = accuracy_score(y, pred)
            spec = tn / (tn + fp) if tn + fp > 0 else float("nan")
            npv = tn / (tn + fn) if tn + fn > 0 else float("nan")
            if 2 * tp + fp + fn > 0:
                assert abs(float(f1) - 2 * tp / (2 * tp + fp + fn)) < 1e-15
            out.append(dict(
                name=f"{d['name']}_t{i}", dataset=d["name"], threshold=float(t),
                tp=tp, fp=fp, tn=tn, fn=fn,
                sensitivity=nan_to_none(sens), specificity=nan_to_none(spec),
                ppv=nan_to_none(ppv), npv=nan_to_none(npv),
                accuracy=nan_to_none(acc), f1=nan_to_none(f1)))
    return out


# --------------------------------------------------------------------------
# ROC, PR, Youden
# --------------------------------------------------------------------------


def make_roc(datasets):
    out = []
    for d in datasets:
        y, s = d["labels"], d["scores"]
        fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
        assert np.isinf(thr[0]) and fpr[0] == 0 and tpr[0] == 0
        fpr, tpr, thr = fpr[1:], tpr[1:], thr[1:]
        # One point per distinct score, thresholds strictly decreasing.
        assert len(thr) == len(np.unique(s)) and np.all(np.diff(thr) < 0)
        out.append(dict(name=f"roc_{d['name']}", dataset=d["name"],
                        auc=fl(roc_auc_score(y, s)), fpr=flist(fpr),
                        tpr=flist(tpr), thresholds=flist(thr)))
    return out


def make_precision_recall(datasets):
    out = []
    for d in datasets:
        y, s = d["labels"], d["scores"]
        prec, rec, thr = precision_recall_curve(y, s)
        assert len(prec) == len(rec) == len(thr) + 1
        assert prec[-1] == 1 and rec[-1] == 0
        # sklearn returns one threshold per distinct score, increasing.
        assert len(thr) == len(np.unique(s)) and np.all(np.diff(thr) > 0)
        ap = average_precision_score(y, s)
        # AP = sum_n (R_n - R_{n+1}) P_n over the returned arrays.
        assert abs(ap - float(-np.sum(np.diff(rec) * prec[:-1]))) < 1e-12
        out.append(dict(name=f"pr_{d['name']}", dataset=d["name"],
                        average_precision=fl(ap), precision=flist(prec),
                        recall=flist(rec), thresholds=flist(thr)))
    return out


def make_youden(datasets):
    out = []
    for d in datasets:
        y, s = d["labels"], d["scores"]
        P, N = int(y.sum()), int(len(y) - y.sum())
        _, _, thr = roc_curve(y, s, drop_intermediate=False)
        thr = thr[1:]
        # Youden J = tp/P - fp/N. Compared exactly as the integer
        # tp*N - fp*P, so that ties in J are exact ties (floating-point
        # tp/P - fp/N can split a mathematical tie by one ulp).
        best_t, best_j = None, None
        for t in thr:  # decreasing: first maximum = largest threshold
            pred = s >= t
            tp = int(np.sum(pred & (y == 1)))
            fp = int(np.sum(pred & (y == 0)))
            j = tp * N - fp * P
            if best_j is None or j > best_j:
                best_t, best_j = float(t), j
        # Report whether the naive float argmax would disagree.
        fpr, tpr, thr2 = roc_curve(y, s, drop_intermediate=False)
        naive = float(thr2[1:][int(np.argmax((tpr - fpr)[1:]))])
        if naive != best_t:
            print(f"note: youden {d['name']}: float argmax gives {naive}, "
                  f"exact gives {best_t}", file=sys.stderr)
        out.append(dict(name=f"youden_{d['name']}", dataset=d["name"], threshold=best_t))
    return out


# --------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------


def ece(scores: np.ndarray, labels: np.ndarray, m: int) -> float:
    # Bin k (0-based) holds k/m < s <= (k+1)/m; bin 0 also holds s = 0.
    # Edges are the doubles k/m (one IEEE division each), compared directly.
    # (ceil(s*m) - 1 agrees on every fixture, including scores lying exactly
    # on k/10 and k/15, but can differ for a score one ulp above an edge.)
    edges = np.array([k / m for k in range(1, m)])
    idx = np.searchsorted(edges, scores, side="left")  # number of edges < s
    n = len(scores)
    total = 0.0
    for k in range(m):
        sel = idx == k
        nk = int(sel.sum())
        if nk == 0:
            continue
        total += (nk / n) * abs(labels[sel].mean() - scores[sel].mean())
    return total


def ece_ceil_variant(scores, labels, m):
    idx = np.maximum(np.ceil(scores * m).astype(int) - 1, 0)
    n = len(scores)
    total = 0.0
    for k in range(m):
        sel = idx == k
        if sel.sum():
            total += (sel.sum() / n) * abs(labels[sel].mean() - scores[sel].mean())
    return total


# --------------------------------------------------------------------------
# Drift statistics
# --------------------------------------------------------------------------


def make_ks():
    out = []
    rng = np.random.default_rng(201)
    specs = [(5, 7, 0.0, 1.0), (20, 20, 0.3, 1.0), (50, 80, 0.2, 1.3),
             (200, 150, 0.15, 1.0), (1000, 900, 0.08, 1.0)]
    for n, m, shift, scale in specs:
        a = np.round(rng.normal(0, 1, n), 6)
        b = np.round(rng.normal(shift, scale, m), 6)
        out.append((f"ks_{n}_{m}", a, b))
    # Shifted distributions with a tiny p-value.
    rng = np.random.default_rng(202)
    a = np.round(rng.normal(0, 1, 120), 6)
    b = np.round(rng.normal(1.05, 1, 100), 6)
    out.append(("ks_shifted_tiny_p", a, b))

    cases = []
    for name, a, b in out:
        assert len(np.unique(np.concatenate([a, b]))) == len(a) + len(b), name
        r = stats.ks_2samp(a, b, method="exact")
        n, m = len(a), len(b)
        d = float(r.statistic)
        p_asym = special.kolmogorov(math.sqrt(n * m / (n + m)) * d)
        cases.append(dict(name=name, a=flist(a), b=flist(b), statistic=fl(d),
                          p_exact=fl(r.pvalue), p_asymptotic=fl(p_asym)))
    tiny = cases[-1]["p_exact"]
    assert 1e-12 < tiny < 1e-8, tiny
    return cases


def make_chi_square():
    tables = {
        "chi2_2x2_small": [[3, 7], [6, 2]],
        "chi2_2x2_large": [[1200, 800], [1100, 900]],
        "chi2_2x2_tiny_p": [[620, 380], [410, 590]],
        "chi2_2x5": [[12, 30, 45, 20, 8], [15, 22, 50, 35, 3]],
        "chi2_3x4": [[25, 14, 9, 30], [18, 22, 11, 27], [40, 8, 15, 21]],
        "chi2_3x4_thousands": [[2100, 1500, 900, 3000], [2050, 1620, 870, 2950],
                               [2200, 1480, 1010, 3100]],
        "chi2_2x5_few": [[1, 2, 0, 3, 1], [2, 1, 4, 1, 2]],
    }
    out = []
    for name, t in tables.items():
        r = stats.chi2_contingency(np.array(t), correction=False)
        out.append(dict(name=name, table=t, statistic=fl(r.statistic),
                        p_value=fl(r.pvalue), dof=int(r.dof)))
    tiny = [c["p_value"] for c in out if c["name"] == "chi2_2x2_tiny_p"][0]
    assert 1e-22 < tiny < 1e-18, tiny
    return out


def make_jensen_shannon():
    rng = np.random.default_rng(301)
    cases = []

    def norm(v):
        v = np.asarray(v, dtype=float)
        return v / v.sum()

    cases.append(("js_simple", [0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]))
    cases.append(("js_zeros_in_p", [0.5, 0.5, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]))
    cases.append(("js_disjoint", [1.0, 0.0, 0.0], [0.0, 0.5, 0.5]))
    cases.append(("js_identical", [0.2, 0.3, 0.5], [0.2, 0.3, 0.5]))
    p = norm(rng.integers(0, 50, 10))
    q = norm(rng.integers(1, 50, 10))
    cases.append(("js_counts_10", p, q))
    h1 = rng.integers(0, 5, 50).astype(float)
    h1[rng.choice(50, 10, replace=False)] = 0
    p = norm(h1)
    q = norm(rng.integers(1, 8, 50))
    cases.append(("js_sparse_50", p, q))
    out = []
    for name, p, q in cases:
        p, q = np.asarray(p, float), np.asarray(q, float)
        d = jensenshannon(p, q, base=2)
        out.append(dict(name=name, p=flist(p), q=flist(q), distance_base2=fl(d)))
    return out


def make_wasserstein():
    rng = np.random.default_rng(401)
    cases = [
        ("w1_hand", np.array([0.0, 1.0, 3.0]), np.array([5.0, 6.0, 8.0, 2.0, 0.5])),
        ("w1_normal_300_450", np.round(rng.normal(0, 1, 300), 6),
         np.round(rng.normal(0.4, 1.5, 450), 6)),
        ("w1_ties_100_70", np.round(rng.normal(0, 1, 100), 1),
         np.round(rng.normal(0.2, 1, 70), 1)),
        ("w1_exp_2000_1500", np.round(rng.exponential(1.0, 2000), 6),
         np.round(rng.exponential(1.3, 1500), 6)),
    ]
    out = []
    for name, a, b in cases:
        out.append(dict(name=name, a=flist(a), b=flist(b),
                        distance=fl(stats.wasserstein_distance(a, b))))
    return out


def numpy_linear_quantile(x_sorted: np.ndarray, q: float) -> float:
    """numpy.quantile(method='linear') written out, as documented in README."""
    n = len(x_sorted)
    h = (n - 1) * q
    i = math.floor(h)
    g = h - i
    if i >= n - 1:
        return float(x_sorted[n - 1])
    a, b = float(x_sorted[i]), float(x_sorted[i + 1])
    if g < 0.5:
        return a + (b - a) * g
    return b - (b - a) * (1 - g)


def psi(reference, current, bins, eps):
    edges = np.array([np.quantile(reference, k / bins) for k in range(1, bins)])
    rs = np.sort(reference)
    for k in range(1, bins):
        assert numpy_linear_quantile(rs, k / bins) == edges[k - 1]
    assert np.all(np.diff(edges) > 0)
    # (-inf, e1], (e1, e2], ..., (e_{bins-1}, inf): index = #edges < x
    ri = np.searchsorted(edges, reference, side="left")
    ci = np.searchsorted(edges, current, side="left")
    r = np.bincount(ri, minlength=bins) / len(reference)
    c = np.bincount(ci, minlength=bins) / len(current)
    r = np.where(r == 0, eps, r)
    c = np.where(c == 0, eps, c)
    return float(np.sum((c - r) * np.log(c / r))), edges, int(np.sum(c == eps))


def make_psi():
    rng = np.random.default_rng(501)
    ref = np.round(rng.normal(0, 1, 2000), 6)
    cur_small = np.round(rng.normal(0.1, 1, 1500), 6)
    cur_same = np.round(rng.normal(0, 1, 1500), 6)
    cur_far = np.round(rng.normal(2.5, 0.4, 800), 6)
    ref2 = np.round(rng.gamma(2.0, 1.0, 1000), 6)
    cur2 = np.round(rng.gamma(2.4, 1.0, 1200), 6)
    cases = [
        ("psi_small_shift_10", ref, cur_small, 10),
        ("psi_small_shift_20", ref, cur_small, 20),
        ("psi_same_dist_10", ref, cur_same, 10),
        ("psi_far_shift_empty_bins_10", ref, cur_far, 10),
        ("psi_far_shift_empty_bins_20", ref, cur_far, 20),
        ("psi_gamma_20", ref2, cur2, 20),
    ]
    out = []
    for name, r, c, bins in cases:
        val, edges, n_empty = psi(r, c, bins, 1e-4)
        if "empty" in name:
            assert n_empty > 0, name
        out.append(dict(name=name, reference=flist(r), current=flist(c),
                        bins=bins, epsilon=1e-4, psi=fl(val)))
    # Values exactly on the edges: the bins are closed on the right, so an
    # edge value belongs to the lower bin.
    r = np.round(np.random.default_rng(502).uniform(0, 10, 500), 6)
    _, edges, _ = psi(r, r, 10, 1e-4)
    c = np.concatenate([edges, edges, np.round(np.random.default_rng(503).uniform(0, 10, 100), 6)])
    val, _, _ = psi(r, c, 10, 1e-4)
    out.append(dict(name="psi_values_on_edges_10", reference=flist(r), current=flist(c),
                    bins=10, epsilon=1e-4, psi=fl(val)))
    return out


# --------------------------------------------------------------------------
# Funnel plot limits
# --------------------------------------------------------------------------


def funnel_limit(p0: float, n: int, q: float) -> tuple[float, int]:
    r = int(stats.binom.ppf(q, n, p0))
    # Cross-check of ppf's definition: smallest r with F(r) >= q.
    assert stats.binom.cdf(r, n, p0) >= q
    assert r == 0 or stats.binom.cdf(r - 1, n, p0) < q
    fr = stats.binom.cdf(r, n, p0)
    fr1 = stats.binom.cdf(r - 1, n, p0) if r > 0 else 0.0
    alpha = (fr - q) / (fr - fr1)
    return (r - alpha) / n, r


def make_funnel():
    out, cross = [], []
    for p0 in (0.05, 0.3, 0.85):
        for n in (10, 50, 200, 1000, 20000):
            for level in (0.95, 0.998):
                ql = (1 - level) / 2
                qh = 1 - (1 - level) / 2
                low, rl = funnel_limit(p0, n, ql)
                high, rh = funnel_limit(p0, n, qh)
                name = f"funnel_p{p0}_n{n}_L{level}"
                out.append(dict(name=name, target=p0, n=n, level=level,
                                low=fl(low), high=fl(high)))
                cross.append(dict(name=name + "_low", target=p0, n=n, q=ql, r=rl))
                cross.append(dict(name=name + "_high", target=p0, n=n, q=qh, r=rh))
    return out, cross


# --------------------------------------------------------------------------
# CBPE
# --------------------------------------------------------------------------


def cbpe_weighted_auc_pairs(p: np.ndarray) -> float:
    """Independent O(n^2) check of the duplicated-data AUC: sum over ALL
    ordered pairs (i, j), including i == j, of p_i (1 - p_j) times
    [s_i > s_j] + 1/2 [s_i == s_j], divided by sum(p) * sum(1 - p)."""
    gt = (p[:, None] > p[None, :]).astype(float)
    eq = (p[:, None] == p[None, :]).astype(float)
    w = p[:, None] * (1 - p)[None, :]
    return float(np.sum(w * (gt + 0.5 * eq)) / (p.sum() * (1 - p).sum()))


def make_cbpe():
    specs = [
        ("cbpe_50", 601, 50, (0.8, 1.6), None, (0.5, 0.3)),
        ("cbpe_500", 602, 500, (1.2, 2.5), None, (0.5, 0.2)),
        ("cbpe_5000_ties", 603, 5000, (0.6, 1.8), 3, (0.5, 0.1)),
    ]
    out = []
    for name, seed, n, (a, b), decimals, thresholds in specs:
        rng = np.random.default_rng(seed)
        p = rng.beta(a, b, n)
        if decimals is not None:
            p = np.round(p, decimals)
        p = np.clip(p, 0.001, 0.999)
        assert np.all((p > 0) & (p < 1))
        yy = np.concatenate([np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)])
        ss = np.concatenate([p, p])
        ww = np.concatenate([p, 1 - p])
        auc = roc_auc_score(yy, ss, sample_weight=ww)
        if n <= 500:
            assert abs(auc - cbpe_weighted_auc_pairs(p)) < 1e-12
        for t in thresholds:
            pos = p >= t
            etp, efp = p[pos].sum(), (1 - p[pos]).sum()
            efn, etn = p[~pos].sum(), (1 - p[~pos]).sum()
            out.append(dict(
                name=f"{name}_t{t}", scores=flist(p), threshold=t,
                sensitivity=fl(etp / (etp + efn)), specificity=fl(etn / (etn + efp)),
                ppv=fl(etp / (etp + efp)), auc=fl(auc)))
    return out


# --------------------------------------------------------------------------
# R
# --------------------------------------------------------------------------


def run_r(payload: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = Path(tmp) / "in.json", Path(tmp) / "out.json"
        inp.write_text(json.dumps(payload, allow_nan=False))
        proc = subprocess.run(["Rscript", str(R_SCRIPT), str(inp), str(outp)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"Rscript failed with status {proc.returncode}")
        res = json.loads(outp.read_text())
    return res


def rf(x):
    """R number string ('%.17g') -> float; null -> None."""
    if x is None:
        return None
    v = float(x)
    assert math.isfinite(v), x
    return v


def close(a, b, rel=1e-9, abs_=1e-15):
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


# --------------------------------------------------------------------------
# JSON output: objects indented, arrays of numbers on one line.
# --------------------------------------------------------------------------


def dump(obj, indent=0) -> str:
    pad, pad1 = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad1}{json.dumps(k)}: {dump(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, dict) for v in obj):
        items = [pad1 + dump(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False, separators=(",", ":"))


def main() -> None:
    datasets = make_datasets()
    by_name = {d["name"]: d for d in datasets}
    assert len(by_name) == len(datasets)

    delong_cases = []
    for d in datasets:
        levels = (0.95,) if d["name"] in ("perfect_separation", "all_equal") else (0.95, 0.90)
        for level in levels:
            delong_cases.append(dict(name=f"delong_{d['name']}_L{level}",
                                     dataset=d["name"], level=level))
    paired_cases = []
    for d in datasets:
        levels = (0.95, 0.90) if d["name"] in ("continuous_500", "heavy_ties_2000",
                                                "calibrated_3000") else (0.95,)
        for level in levels:
            paired_cases.append(dict(name=f"paired_{d['name']}_L{level}",
                                     dataset=d["name"], level=level))
    # Calibration: scores in (0, 1) only. perfect_separation is left out
    # because the logistic recalibration fit does not exist (separated data).
    cal_sets = [d for d in datasets
                if d["unit_interval"] and d["name"] != "perfect_separation"]
    cal_cases = [dict(name=f"cal_{d['name']}", dataset=d["name"]) for d in cal_sets]

    proportions = make_proportions()
    ks = make_ks()
    chi = make_chi_square()
    funnel, funnel_cross = make_funnel()

    payload = dict(
        datasets=[dict(name=d["name"], scores=flist(d["scores"]),
                       labels=[int(v) for v in d["labels"]],
                       scores_b=flist(d["scores_b"])) for d in datasets],
        delong=delong_cases,
        delong_paired=paired_cases,
        calibration=cal_cases,
        crosscheck=dict(
            proportions=[{k: c[k] for k in ("name", "successes", "trials", "level")}
                         for c in proportions],
            chi_square=[{k: c[k] for k in ("name", "table")} for c in chi],
            ks=[{k: c[k] for k in ("name", "a", "b")} for c in ks],
            funnel=funnel_cross,
        ),
    )
    r = run_r(payload)
    for w in r.get("warnings", []):
        print(f"R warning (expected for degenerate cases): {w}", file=sys.stderr)

    # ---- sklearn AUC == pROC AUC for every dataset and both scores --------
    for d in datasets:
        for key, rkey in (("scores", "auc"), ("scores_b", "auc_b")):
            a = roc_auc_score(d["labels"], d[key])
            b = rf(r["auc"][d["name"]][rkey])
            assert abs(a - b) <= 1e-12, (d["name"], key, a, b)

    # pROC clips the DeLong interval to [0, 1]; make sure that is exercised.
    assert any(rf(x["ci_high"]) == 1.0 and rf(x["auc"]) < 1.0 for x in r["delong"])
    delong = []
    for case, res in zip(delong_cases, r["delong"], strict=True):
        assert case["name"] == res["name"]
        d = by_name[case["dataset"]]
        assert abs(rf(res["auc"]) - roc_auc_score(d["labels"], d["scores"])) <= 1e-12
        delong.append(dict(name=case["name"], dataset=case["dataset"], level=case["level"],
                           auc=rf(res["auc"]), variance=rf(res["variance"]),
                           ci_low=rf(res["ci_low"]), ci_high=rf(res["ci_high"])))

    paired = []
    for case, res in zip(paired_cases, r["delong_paired"], strict=True):
        assert case["name"] == res["name"]
        d = by_name[case["dataset"]]
        aa, ab = rf(res["auc_a"]), rf(res["auc_b"])
        assert abs(aa - roc_auc_score(d["labels"], d["scores"])) <= 1e-12
        assert abs(ab - roc_auc_score(d["labels"], d["scores_b"])) <= 1e-12
        lo, hi = rf(res["ci_low"]), rf(res["ci_high"])
        # conf.int is centred on auc_a - auc_b (not auc_b - auc_a).
        assert abs((lo + hi) / 2 - (aa - ab)) <= 1e-12, (case["name"], lo, hi, aa, ab)
        paired.append(dict(name=case["name"], dataset=case["dataset"], level=case["level"],
                           auc_a=aa, auc_b=ab, z=rf(res["z"]), p_value=rf(res["p_value"]),
                           ci_low=lo, ci_high=hi))

    calibration = []
    for case, res in zip(cal_cases, r["calibration"], strict=True):
        assert case["name"] == res["name"]
        d = by_name[case["dataset"]]
        y, s = d["labels"], d["scores"]
        brier = brier_score_loss(y, s)
        assert close(brier, rf(res["brier"]), rel=1e-12)
        e10, e15 = ece(s, y, 10), ece(s, y, 15)
        for m, e in ((10, e10), (15, e15)):
            alt = ece_ceil_variant(s, y, m)
            if alt != e:
                print(f"note: {case['name']}: ECE_{m} by ceil(s*M)-1 binning = {alt!r} "
                      f"differs from the edge-comparison definition {e!r}", file=sys.stderr)
        ic, sl = rf(res["intercept"]), rf(res["slope"])
        vi, vs = rf(res["val_prob_intercept"]), rf(res["val_prob_slope"])
        gi, gs = rf(res["glm_intercept"]), rf(res["glm_slope"])
        # val.prob (default lrm.fit convergence) is close to, not at, the MLE
        # (up to ~1e-5 away on the small, nearly separated dataset).
        assert abs(ic - vi) <= 1e-4 and abs(sl - vs) <= 1e-4, (case["name"], ic, vi, sl, vs)
        if gi is not None:
            assert abs(ic - gi) <= 1e-10 and abs(sl - gs) <= 1e-10, (case["name"], ic, gi, sl, gs)
        if (ic, sl) != (vi, vs):
            print(f"note: {case['name']}: val.prob(default convergence) - converged lrm.fit: "
                  f"intercept {vi - ic:.3e}, slope {vs - sl:.3e}", file=sys.stderr)
        calibration.append(dict(name=case["name"], dataset=case["dataset"], brier=fl(brier),
                                intercept=ic, slope=sl,
                                calibration_in_the_large=fl(y.mean() - s.mean()),
                                ece_10=fl(e10), ece_15=fl(e15)))

    # ---- cross-checks against base R -----------------------------------------
    for c, rc in zip(proportions, r["crosscheck"]["proportions"], strict=True):
        assert c["name"] == rc["name"]
        for k in ("wilson_low", "wilson_high", "clopper_pearson_low", "clopper_pearson_high"):
            assert close(c[k], rf(rc[k]), rel=1e-10, abs_=1e-15), (c["name"], k, c[k], rc[k])
    for c, rc in zip(chi, r["crosscheck"]["chi_square"], strict=True):
        assert close(c["statistic"], rf(rc["statistic"]), rel=1e-12)
        assert close(c["p_value"], rf(rc["p_value"]), rel=1e-9, abs_=0)
        assert c["dof"] == rf(rc["dof"])
    for c, rc in zip(ks, r["crosscheck"]["ks"], strict=True):
        # scipy's exact mode returns D as h / lcm(n, m) (h an integer); R
        # computes it as a difference of ECDF values: equal up to an ulp.
        assert close(c["statistic"], rf(rc["statistic"]), rel=1e-14), c["name"]
        # R's asymptotic p evaluates the Kolmogorov series with tol = 1e-6, so
        # it agrees only roughly; the alternating series below is the check.
        assert abs(c["p_asymptotic"] - rf(rc["p_asymptotic"])) <= 5e-5, (
            c["name"], c["p_asymptotic"], rc["p_asymptotic"])
        n, m = len(c["a"]), len(c["b"])
        x = math.sqrt(n * m / (n + m)) * c["statistic"]
        series = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * x * x) for k in range(1, 200))
        assert close(c["p_asymptotic"], series, rel=1e-12, abs_=1e-300), (c["name"], series)
        # R's psmirnov(lower.tail = FALSE) loses relative precision for tiny
        # p (1.5e-6 relative at p = 4e-10); compare on the absolute scale
        # there. Elsewhere the two agree to ~1e-14.
        assert close(c["p_exact"], rf(rc["p_exact"]), rel=1e-7, abs_=1e-12), (
            c["name"], c["p_exact"], rc["p_exact"])
    for c, rc in zip(funnel_cross, r["crosscheck"]["funnel"], strict=True):
        assert c["r"] == rf(rc["r"]), (c["name"], c["r"], rc["r"])

    fixtures = dict(
        versions=dict(
            python=platform.python_version(),
            numpy=np.__version__,
            scipy=scipy.__version__,
            sklearn=sklearn.__version__,
            R=r["versions"]["R"],
            pROC=r["versions"]["pROC"],
            rms=r["versions"]["rms"],
            Hmisc=r["versions"]["Hmisc"],
            jsonlite=r["versions"]["jsonlite"],
        ),
        binary_datasets=payload["datasets"],
        proportions=proportions,
        confusion=make_confusion(datasets),
        roc=make_roc(datasets),
        delong=delong,
        delong_paired=paired,
        precision_recall=make_precision_recall(datasets),
        calibration=calibration,
        youden=make_youden(datasets),
        ks=ks,
        chi_square=chi,
        jensen_shannon=make_jensen_shannon(),
        wasserstein=make_wasserstein(),
        psi=make_psi(),
        funnel=funnel,
        cbpe=make_cbpe(),
    )
    for section, cases in fixtures.items():
        if section == "versions":
            continue
        names = [c["name"] for c in cases]
        assert len(names) == len(set(names)), section

    text = dump(fixtures) + "\n"
    json.loads(text)  # well-formed
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(text.encode()) / 1e6:.2f} MB)")
    for section, cases in fixtures.items():
        if section != "versions":
            print(f"  {section}: {len(cases)} cases")


if __name__ == "__main__":
    main()
