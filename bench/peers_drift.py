#!/usr/bin/env python3
"""Peer (Python) implementations for the Vigil drift and CBPE benchmarks.

    peers_drift.py <work> --dir DIR

DIR is written by `make_drift_data.py`. Each peer family needs its own venv
(their pins conflict; see `requirements-evidently.txt` and
`requirements-nannyml.txt`), so each subcommand imports only its own library:

* `evidently-drift`     Evidently's `DataDriftPreset` report on the ten
                        columns (evidently venv)
* `nannyml-drift`       NannyML `UnivariateDriftCalculator`, fit on the
                        reference and calculate on the analysis period, with
                        Kolmogorov-Smirnov and Wasserstein on the numeric
                        columns and chi-square and Jensen-Shannon on the
                        categorical ones, NannyML's default computation
                        (binned reference above 10,000 rows) (nannyml venv)
* `nannyml-drift-exact` the same with `calculation_method="exact"` for
                        Kolmogorov-Smirnov and Wasserstein, which makes NannyML
                        call SciPy's `ks_2samp` and `wasserstein_distance` on
                        the full samples (nannyml venv)
* `nannyml-cbpe`        NannyML `CBPE`, fit on the reference and estimate on
                        the analysis period: ROC AUC, precision, recall,
                        specificity and the expected confusion matrix at
                        threshold 0.5 (nannyml venv)
* `nannyml-cbpe-uncalibrated` the same with NannyML's no-op calibrator, so
                        that the scores are used as they are, as Vigil does
                        (nannyml venv)
* `scipy-drift`         the statistics Vigil computes, one call each with
                        SciPy/NumPy: `ks_2samp` (method "asymp"),
                        `wasserstein_distance`, a NumPy PSI with reference
                        quantile bins, `chi2_contingency(correction=False)`
                        and `jensenshannon(base=2)` (either venv; SciPy only)

Both drift peers and the CBPE peer treat the whole analysis period as one
chunk (`chunk_number=1`), so that they compare one period of 10^6 rows with
the reference, as Vigil and Evidently do.

Each subcommand first builds its pandas DataFrames (numeric columns float64;
categorical columns int64 category codes declared categorical to the library,
or with `--categorical category` pandas `category` dtype holding the category
names) or NumPy arrays from the binary files, untimed, then times only the library work with `time.perf_counter`,
and prints one line of JSON on stdout: `{"seconds": <float>, "result": {...}}`,
the contract of `vigil-bench`. Result fields that mean the same as Vigil's
carry the same name (`ks_statistic`, `ks_p_value`, `wasserstein`, `psi`,
`chi2_statistic`, `chi2_p_value`, `jensen_shannon`, `auc`, `sensitivity`,
...); fields with another definition carry another name
(`wasserstein_normed` is Evidently's distance divided by the reference
standard deviation; `jensen_shannon_base_e` is Evidently's natural-log
distance, sqrt(ln 2) = 0.833 times the base-2 one).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time
import warnings

import numpy as np

# NannyML sends usage statistics unless told not to; nothing leaves this machine.
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

PSI_BINS = 10
PSI_EPSILON = 1e-4
CBPE_THRESHOLD = 0.5
# How the DataFrames hold categorical columns (`--categorical`): "codes",
# int64 category codes declared categorical to the library (the default, and
# what Vigil reads: one byte per code), or "category", pandas `category` dtype
# with the category names.
CATEGORICAL_AS = "codes"


# --------------------------------------------------------------------------
# Input loading (untimed)
# --------------------------------------------------------------------------


def read_columns(d: pathlib.Path) -> list[tuple[str, str, list[str]]]:
    out = []
    for line in (d / "columns.tsv").read_text().splitlines():
        if not line.strip():
            continue
        kind, name, cats = line.split("\t")
        out.append((kind, name, cats.split(",") if cats else []))
    return out


def load_period(d: pathlib.Path, period: str, columns):
    """The period's columns as NumPy arrays: float64 values or uint8 codes."""
    arrays = {}
    for kind, name, _ in columns:
        if kind == "numeric":
            arrays[name] = np.fromfile(d / f"{period}.{name}.f64", dtype="<f8")
        else:
            arrays[name] = np.fromfile(d / f"{period}.{name}.u8", dtype=np.uint8)
    return arrays


def load_frames(d: pathlib.Path):
    import pandas as pd

    columns = read_columns(d)
    frames = []
    for period in ("reference", "analysis"):
        arrays = load_period(d, period, columns)
        data = {}
        for kind, name, cats in columns:
            if kind == "numeric":
                data[name] = arrays[name]
            elif CATEGORICAL_AS == "category":
                data[name] = pd.Categorical.from_codes(arrays[name].astype(np.int16), categories=cats)
            else:
                data[name] = arrays[name].astype(np.int64)
        frames.append(pd.DataFrame(data))
    numeric = [name for kind, name, _ in columns if kind == "numeric"]
    categorical = [name for kind, name, _ in columns if kind == "categorical"]
    return frames[0], frames[1], numeric, categorical


def emit(seconds: float, result: dict) -> None:
    print(json.dumps({"seconds": seconds, "result": result}, allow_nan=True))


def _f(x) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x


# --------------------------------------------------------------------------
# Evidently
# --------------------------------------------------------------------------


def cmd_evidently_drift(d: pathlib.Path) -> None:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference, analysis, numeric, categorical = load_frames(d)
    t0 = time.perf_counter()
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    ref_ds = Dataset.from_pandas(reference, data_definition=definition)
    cur_ds = Dataset.from_pandas(analysis, data_definition=definition)
    t1 = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(cur_ds, ref_ds)
    summary = snapshot.dict()
    t2 = time.perf_counter()

    result: dict = {"dataset_seconds": t1 - t0, "report_seconds": t2 - t1}
    drifted = 0
    for metric in summary.get("metrics", []):
        config = metric.get("config", {}) or {}
        value = metric.get("value")
        column = config.get("column")
        method = config.get("method")
        if column is None or not isinstance(value, (int, float)):
            if isinstance(value, dict) and "count" in value:
                result["drifted_columns"] = _f(value.get("count"))
                result["drifted_share"] = _f(value.get("share"))
            continue
        name = {
            "Wasserstein distance (normed)": "wasserstein_normed",
            "Jensen-Shannon distance": "jensen_shannon_base_e",
        }.get(method, str(method))
        threshold = _f(config.get("threshold"))
        result[column] = {name: float(value), "method": method, "threshold": threshold}
        if threshold is not None and float(value) >= threshold:
            drifted += 1
    result.setdefault("drifted_columns", drifted)
    emit(t2 - t0, result)


# --------------------------------------------------------------------------
# NannyML
# --------------------------------------------------------------------------


def _nannyml_drift(d: pathlib.Path, exact: bool) -> None:
    import nannyml as nml

    reference, analysis, numeric, categorical = load_frames(d)
    params = None
    if exact:
        # NannyML 0.13 looks for a method's name as a key of computation_params
        # but then reads `calculation_method` from the top level of the dict,
        # not from the method's own entry; this spelling works for both.
        params = {
            "kolmogorov_smirnov": {"calculation_method": "exact"},
            "wasserstein": {"calculation_method": "exact"},
            "calculation_method": "exact",
        }
    t0 = time.perf_counter()
    calc = nml.UnivariateDriftCalculator(
        column_names=numeric + categorical,
        treat_as_categorical=categorical,
        continuous_methods=["kolmogorov_smirnov", "wasserstein"],
        categorical_methods=["chi2", "jensen_shannon"],
        chunk_number=1,
        computation_params=params,
    )
    calc.fit(reference)
    res = calc.calculate(analysis)
    t1 = time.perf_counter()

    frame = res.filter(period="analysis").to_df()
    result: dict = {}
    names = {"kolmogorov_smirnov": "ks_statistic", "wasserstein": "wasserstein", "chi2": "chi2_statistic",
             "jensen_shannon": "jensen_shannon"}
    alerts = 0
    for column in numeric + categorical:
        entry = {}
        methods = ["kolmogorov_smirnov", "wasserstein"] if column in numeric else ["chi2", "jensen_shannon"]
        for method in methods:
            entry[names[method]] = _f(frame[(column, method, "value")].iloc[0])
            alerts += bool(frame[(column, method, "alert")].iloc[0])
        for m in calc._column_to_models_mapping[column]:
            if m.column_name == "chi2":
                entry["chi2_p_value"] = _f(m._p_value)
        result[column] = entry
    result["alerts"] = alerts
    emit(t1 - t0, result)


def cmd_nannyml_drift(d: pathlib.Path) -> None:
    _nannyml_drift(d, exact=False)


def cmd_nannyml_drift_exact(d: pathlib.Path) -> None:
    _nannyml_drift(d, exact=True)


def cmd_nannyml_cbpe(d: pathlib.Path) -> None:
    _nannyml_cbpe(d, calibrate=True)


def cmd_nannyml_cbpe_uncalibrated(d: pathlib.Path) -> None:
    _nannyml_cbpe(d, calibrate=False)


def _nannyml_cbpe(d: pathlib.Path, calibrate: bool) -> None:
    import nannyml as nml
    import pandas as pd
    from nannyml.calibration import NoopCalibrator

    ref_p = np.fromfile(d / "cbpe_reference_scores.f64", dtype="<f8")
    ref_y = np.fromfile(d / "cbpe_reference_labels.u8", dtype=np.uint8).astype(np.int64)
    cur_p = np.fromfile(d / "cbpe_analysis_scores.f64", dtype="<f8")
    reference = pd.DataFrame({"y_pred_proba": ref_p, "y_pred": (ref_p >= CBPE_THRESHOLD).astype(np.int64),
                              "y_true": ref_y})
    analysis = pd.DataFrame({"y_pred_proba": cur_p, "y_pred": (cur_p >= CBPE_THRESHOLD).astype(np.int64)})
    metrics = ["roc_auc", "precision", "recall", "specificity", "confusion_matrix"]
    t0 = time.perf_counter()
    est = nml.CBPE(
        y_pred_proba="y_pred_proba",
        y_pred="y_pred",
        y_true="y_true",
        problem_type="classification_binary",
        metrics=metrics,
        chunk_number=1,
        # NannyML's default calibrator is isotonic, fitted when its calibration
        # check on the reference asks for it; the no-op calibrator never changes
        # the scores, which is what Vigil's estimate assumes.
        **({} if calibrate else {"calibrator": NoopCalibrator()}),
    )
    est.fit(reference)
    res = est.estimate(analysis)
    t1 = time.perf_counter()

    frame = res.filter(period="analysis").to_df()
    names = {"roc_auc": "auc", "precision": "ppv", "recall": "sensitivity", "specificity": "specificity",
             "true_positive": "expected_true_positives", "false_positive": "expected_false_positives",
             "true_negative": "expected_true_negatives", "false_negative": "expected_false_negatives"}
    analysis_result = {}
    for metric, name in names.items():
        if (metric, "value") in frame.columns:
            analysis_result[name] = _f(frame[(metric, "value")].iloc[0])
    emit(t1 - t0, {"analysis": analysis_result, "needs_calibration": bool(est.needs_calibration)})


# --------------------------------------------------------------------------
# SciPy: the statistics Vigil computes, for the agreement check
# --------------------------------------------------------------------------


def psi_numpy(reference: np.ndarray, current: np.ndarray, bins: int, epsilon: float) -> float:
    edges = np.quantile(reference, np.arange(1, bins) / bins)
    # Right-closed bins: a value's bin is the number of edges strictly below it.
    r = np.bincount(np.searchsorted(edges, reference, side="left"), minlength=bins) / reference.size
    c = np.bincount(np.searchsorted(edges, current, side="left"), minlength=bins) / current.size
    r = np.where(r == 0, epsilon, r)
    c = np.where(c == 0, epsilon, c)
    return float(np.sum((c - r) * np.log(c / r)))


def cmd_scipy_drift(d: pathlib.Path) -> None:
    from scipy.spatial.distance import jensenshannon
    from scipy.special import kolmogorov
    from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

    columns = read_columns(d)
    ref = load_period(d, "reference", columns)
    cur = load_period(d, "analysis", columns)
    t0 = time.perf_counter()
    result: dict = {}
    for kind, name, cats in columns:
        a, b = ref[name], cur[name]
        if kind == "numeric":
            ks = ks_2samp(a, b, method="asymp")
            m, n = a.size, b.size
            result[name] = {
                "ks_statistic": float(ks.statistic),
                # SciPy's "asymp" p-value uses a finite-n distribution; the
                # limiting Kolmogorov distribution (Vigil's) is reported too.
                "ks_p_value_scipy_asymp": float(ks.pvalue),
                "ks_p_value": float(kolmogorov(np.sqrt(m * n / (m + n)) * ks.statistic)),
                "wasserstein": float(wasserstein_distance(a, b)),
                "psi": psi_numpy(a, b, PSI_BINS, PSI_EPSILON),
            }
        else:
            k = len(cats)
            rc = np.bincount(a, minlength=k)
            cc = np.bincount(b, minlength=k)
            keep = (rc + cc) > 0
            table = np.vstack([rc[keep], cc[keep]])
            stat, p, dof, _ = chi2_contingency(table, correction=False)
            result[name] = {
                "chi2_statistic": float(stat),
                "chi2_p_value": float(p),
                "chi2_dof": int(dof),
                "jensen_shannon": float(jensenshannon(rc, cc, base=2)),
            }
    t1 = time.perf_counter()
    emit(t1 - t0, result)


COMMANDS = {
    "evidently-drift": cmd_evidently_drift,
    "nannyml-drift": cmd_nannyml_drift,
    "nannyml-drift-exact": cmd_nannyml_drift_exact,
    "nannyml-cbpe": cmd_nannyml_cbpe,
    "nannyml-cbpe-uncalibrated": cmd_nannyml_cbpe_uncalibrated,
    "scipy-drift": cmd_scipy_drift,
}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work", choices=sorted(COMMANDS))
    ap.add_argument("--dir", type=pathlib.Path, required=True, help="directory written by make_drift_data.py")
    ap.add_argument("--categorical", choices=("codes", "category"), default="codes",
                    help="categorical columns as int64 codes (default) or as pandas category dtype of the names")
    args = ap.parse_args(argv)
    if not args.dir.is_dir():
        sys.exit(f"no such directory: {args.dir}")
    global CATEGORICAL_AS
    CATEGORICAL_AS = args.categorical
    warnings.simplefilter("ignore")
    COMMANDS[args.work](args.dir)


if __name__ == "__main__":
    main()
