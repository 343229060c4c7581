#!/usr/bin/env python3
"""Generate the synthetic chest X-ray triage example for `vigil evaluate`.

Standard library only, so anyone can re-run it:

    python3 examples/chest-xray-triage/generate.py

writes `cases.csv` next to this script. The output is deterministic: the same
bytes on every run (seeded `random.Random(20261123)`; Python's Mersenne Twister
and the float formatting used here are stable across CPython 3 versions).

EVERY ROW IS SYNTHETIC. No patient, image, report or product output was used.
The scanner names are real product lines only so that the example looks like a
real acceptance-test export; which scanner the simulated AI does worse on was
chosen arbitrarily and says nothing about the real products.

Generative model (a latent logistic model):

* Each radiograph either looks clear (latent logit of abnormality around -4.5,
  i.e. probability ~1%) or shows some radiographic finding (latent logit around
  +0.7 with spread 0.7, i.e. probability ~45-85%). The chance of "shows a
  finding" rises with age band and is slightly higher in men.
* The radiologist reference label is Bernoulli(sigmoid(latent logit)).
* The current AI version sees the latent logit through measurement noise:
  score = sigmoid(latent + noise). The noise makes the score roughly, not
  perfectly, calibrated (slightly over-confident). On one scanner model the
  noise is larger and slightly biased, so the AI discriminates worse there.
* The previous AI version shares part of the current version's noise (both
  models make some of the same mistakes) plus its own, larger noise and a
  shrunken logit scale, so it is correlated with, and a little worse than, the
  current version.
* Scores are rounded to 4 decimals, which leaves some ties, as in real exports.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import pathlib
import random

SEED = 20261123
N_CASES = 5000

SCANNERS = [
    # (name, share of cases, sd of the AI's measurement noise on the logit scale, bias)
    ("Carestream DRX-Evolution Plus", 0.38, 0.45, 0.0),
    ("Fujifilm FDR D-EVO II", 0.27, 0.45, 0.0),
    ("Philips DigitalDiagnost C90", 0.22, 0.45, 0.0),
    # The simulated AI is worse on this one (noisier, over-calls slightly).
    ("Siemens Ysio Max", 0.13, 2.2, 0.4),
]

AGE_BANDS = [
    # (band, share of adult chest radiographs, P(radiograph shows a finding))
    ("18-39", 0.20, 0.19),
    ("40-59", 0.28, 0.31),
    ("60-79", 0.35, 0.42),
    ("80+", 0.17, 0.51),
]

SEX = [("F", 0.51, -0.03), ("M", 0.49, +0.03)]

START = dt.date(2026, 9, 1)
END = dt.date(2026, 11, 30)  # inclusive: three calendar months
WEEKDAY_WEIGHT = [1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.35]  # Mon..Sun

CLEAR_MEAN, CLEAR_SD = -4.5, 0.6
FINDING_MEAN, FINDING_SD = 0.7, 0.7

PREV_SHARED = 0.6  # weight of the current version's noise in the previous version
PREV_OWN_SD = 1.8  # previous version's own extra noise (logit scale)
PREV_SLOPE = 0.9  # previous version is a little under-confident


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def pick(rng: random.Random, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the synthetic chest X-ray triage validation set.")
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path(__file__).resolve().parent / "cases.csv",
        help="where to write the CSV (default: cases.csv beside this script)",
    )
    out = parser.parse_args().out
    rng = random.Random(SEED)

    days = []
    day = START
    while day <= END:
        days.append(day)
        day += dt.timedelta(days=1)
    day_weights = [WEEKDAY_WEIGHT[d.weekday()] for d in days]

    rows = []
    for _ in range(N_CASES):
        acquired = pick(rng, days, day_weights)
        scanner, _, noise_sd, bias = pick(rng, SCANNERS, [s[1] for s in SCANNERS])
        age_band, _, p_finding = pick(rng, AGE_BANDS, [a[1] for a in AGE_BANDS])
        sex, _, sex_shift = pick(rng, SEX, [s[1] for s in SEX])

        shows_finding = rng.random() < p_finding + sex_shift
        if shows_finding:
            latent = rng.gauss(FINDING_MEAN, FINDING_SD)
        else:
            latent = rng.gauss(CLEAR_MEAN, CLEAR_SD)
        label = 1 if rng.random() < sigmoid(latent) else 0

        noise = rng.gauss(0.0, noise_sd)
        score = sigmoid(latent + noise + bias)
        own = rng.gauss(0.0, PREV_OWN_SD)
        score_prev = sigmoid(PREV_SLOPE * (latent + PREV_SHARED * noise + own) + bias)

        rows.append((acquired, scanner, age_band, sex, label, score, score_prev))

    # Case ids follow acquisition order, as an export sorted by date would.
    # The sort is stable, so cases on the same day keep their generation order.
    rows.sort(key=lambda r: r[0])

    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            [
                "case_id",
                "label",
                "score",
                "score_previous_version",
                "scanner_model",
                "age_band",
                "sex",
                "acquired_on",
            ]
        )
        for i, (acquired, scanner, age_band, sex, label, score, score_prev) in enumerate(rows, 1):
            w.writerow(
                [
                    f"cxr-{i:06d}",
                    label,
                    f"{score:.4f}",
                    f"{score_prev:.4f}",
                    scanner,
                    age_band,
                    sex,
                    acquired.isoformat(),
                ]
            )
    print(f"wrote {len(rows)} cases to {out}")


if __name__ == "__main__":
    main()
