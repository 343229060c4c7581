#!/usr/bin/env python3
"""Known answers for vigil_stats::two_sample (turnaround times before and
after go-live): SciPy's Mann-Whitney U test, exact and asymptotic, and
NumPy's medians. Writes two_sample.json beside this file.

    python3 -m venv .venv && .venv/bin/pip install numpy==2.4.6 scipy==1.17.1
    .venv/bin/python crates/vigil-stats/tests/reference/generate_two_sample.py

The inputs come from numpy's default_rng with fixed seeds, so the output is
byte-for-byte the same for the same package versions.
"""

import json
import pathlib
import sys

import numpy as np
import scipy
from scipy import stats


def fl(x) -> float:
    return float(x)


def flist(xs) -> list[float]:
    return [float(x) for x in xs]


def samples():
    """(name, first, second): turnaround-like minutes, with and without ties."""
    out = []
    rng = np.random.default_rng(901)
    # Small samples without ties: the exact distribution applies.
    for n1, n2, shift in [(3, 4, 0.0), (5, 8, 10.0), (8, 8, -15.0), (12, 20, 25.0), (25, 35, 5.0)]:
        first = np.round(rng.lognormal(4.0, 0.5, n1), 4)
        second = np.round(rng.lognormal(4.0, 0.5, n2) + shift, 4)
        assert len(np.unique(np.concatenate([first, second]))) == n1 + n2
        out.append((f"no_ties_{n1}_{n2}", first, second))
    # Whole minutes: many ties, asymptotic only.
    for n1, n2, factor in [(40, 60, 1.0), (300, 280, 0.8), (2000, 2500, 0.9)]:
        first = np.round(rng.lognormal(4.5, 0.6, n1))
        second = np.round(rng.lognormal(4.5, 0.6, n2) * factor)
        out.append((f"whole_minutes_{n1}_{n2}", first, second))
    # A large shift: a tiny p-value.
    first = np.round(rng.lognormal(5.0, 0.4, 400), 2)
    second = np.round(rng.lognormal(4.4, 0.4, 380), 2)
    out.append(("large_shift_tiny_p", first, second))
    # A sample of identical values against another.
    out.append(("identical_first", np.full(6, 30.0), np.array([10.0, 30.0, 45.0, 60.0, 90.0])))
    return out


def main() -> None:
    cases = []
    for name, first, second in samples():
        n1, n2 = len(first), len(second)
        ties = len(np.unique(np.concatenate([first, second]))) < n1 + n2
        asymptotic = stats.mannwhitneyu(first, second, alternative="two-sided",
                                        use_continuity=True, method="asymptotic")
        case = dict(name=name, first=flist(first), second=flist(second),
                    u_first=fl(asymptotic.statistic),
                    p_asymptotic=fl(asymptotic.pvalue),
                    median_first=fl(np.median(first)), median_second=fl(np.median(second)))
        if not ties:
            exact = stats.mannwhitneyu(first, second, alternative="two-sided", method="exact")
            assert exact.statistic == asymptotic.statistic
            case["p_exact"] = fl(exact.pvalue)
        cases.append(case)
    tiny = next(c for c in cases if c["name"] == "large_shift_tiny_p")["p_asymptotic"]
    assert tiny < 1e-20, tiny
    document = dict(
        versions=dict(python=sys.version.split()[0], numpy=np.__version__, scipy=scipy.__version__),
        mann_whitney=cases,
    )
    path = pathlib.Path(__file__).with_name("two_sample.json")
    path.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
