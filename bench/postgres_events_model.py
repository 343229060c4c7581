#!/usr/bin/env python3
"""A model of the events table's inserts in PostgreSQL, run through `psql`,
to see what a row costs without building Vigil: the columns and indexes of
`inference_events`, rows sent as one JSON parameter of 5,000 rows as the
store sends them (`INSERT … SELECT … FROM jsonb_array_elements … ON CONFLICT
DO NOTHING`), keyed-hash case pseudonyms. Prints seconds per variant.

    python3 bench/postgres_events_model.py [--url postgres://postgres@127.0.0.1:5432/bench]
        [--chunks 40]

Variants: `insert` (as the store), `no-case-index`, `foreign-key` (with the
deployment foreign key the real table has), `decode-only` (the JSON decoding
alone, no insert), and `two-sessions` (the chunks split between two `psql`
sessions at once, against `insert` for one session). Then

    python3 bench/postgres_events_model.py summarise-log FILE

sums the statement durations in a PostgreSQL log written with
`log_min_duration_statement = 0` (and `log_parameter_max_length = 0`),
by statement. Needs `psql`; standard library only. The database given is
used for a table `model_events` (dropped and made again).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

TABLE = """DROP TABLE IF EXISTS model_events; DROP TABLE IF EXISTS model_deployments;
CREATE TABLE model_deployments (id BIGINT PRIMARY KEY); INSERT INTO model_deployments VALUES (1);
CREATE TABLE model_events (deployment_id BIGINT NOT NULL {reference}, event_id TEXT NOT NULL,
 batch_id BIGINT NOT NULL, case_pseudonym TEXT NOT NULL, occurred_at TEXT NOT NULL, day TEXT NOT NULL,
 model_version TEXT NOT NULL, score DOUBLE PRECISION, decision BIGINT CHECK (decision IN (0, 1)),
 scanner_manufacturer TEXT, scanner_model TEXT, protocol TEXT, slice_thickness_mm DOUBLE PRECISION,
 kvp DOUBLE PRECISION, age_band TEXT, sex TEXT, site TEXT, content_sha256 TEXT NOT NULL,
 PRIMARY KEY (deployment_id, event_id));
{case_index}
"""
CASE_INDEX = "CREATE INDEX model_events_by_case ON model_events (deployment_id, case_pseudonym);"
SELECT = ("SELECT 1, e ->> 0, {batch}, e ->> 1, e ->> 2, e ->> 3, e ->> 4, (e ->> 5)::double precision, "
          "(e ->> 6)::bigint, e ->> 7, e ->> 8, e ->> 9, (e ->> 10)::double precision, "
          "(e ->> 11)::double precision, e ->> 12, e ->> 13, e ->> 14, e ->> 15 "
          "FROM jsonb_array_elements(('{rows}'::text)::jsonb) AS e")
CHUNK = 5_000


def chunks(count: int) -> list[str]:
    draw = random.Random(1)
    texts = []
    for chunk in range(count):
        rows = []
        for index in range(chunk * CHUNK, (chunk + 1) * CHUNK):
            row = ["psn:%032x" % draw.getrandbits(128), "psn:%032x" % draw.getrandbits(128),
                   "2026-01-01T10:00:00Z", "2026-01-01", "2.3.0", draw.random(), index % 2, None, "Ysio Max",
                   None, None, 125.0, "40-59", "F", None]
            rows.append(row + [hashlib.sha256(json.dumps(row).encode()).hexdigest()])
        texts.append(json.dumps(rows).replace("'", "''"))
    return texts


def psql(url: str, script: str) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as file:
        file.write(script)
    try:
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", file.name, url], check=True,
                       stdout=subprocess.DEVNULL)
    finally:
        os.unlink(file.name)


def statements(texts: list[str], first: int, decode_only: bool) -> str:
    lines = []
    for batch, rows in enumerate(texts, start=first):
        select = SELECT.format(batch=batch, rows=rows)
        if decode_only:
            lines.append(f"SELECT count(*) FROM ({select}) AS decoded;")
        else:
            lines.append(f"INSERT INTO model_events {select} ON CONFLICT (deployment_id, event_id) DO NOTHING;")
    return "\n".join(lines) + "\n"


def timed(url: str, scripts: list[str]) -> float:
    began = time.perf_counter()
    sessions = []
    for script in scripts:
        file = tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False)
        file.write(script)
        file.close()
        sessions.append((file.name, subprocess.Popen(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", file.name, url],
                                                     stdout=subprocess.DEVNULL)))
    for name, session in sessions:
        if session.wait() != 0:
            sys.exit("psql failed")
        os.unlink(name)
    return time.perf_counter() - began


def model(arguments: argparse.Namespace) -> None:
    texts = chunks(arguments.chunks)
    half = len(texts) // 2
    variants = {
        "insert": ("", CASE_INDEX, [statements(texts, 0, False)]),
        "no-case-index": ("", "", [statements(texts, 0, False)]),
        "foreign-key": ("REFERENCES model_deployments (id)", CASE_INDEX, [statements(texts, 0, False)]),
        "decode-only": ("", CASE_INDEX, [statements(texts, 0, True)]),
        "two-sessions": ("", CASE_INDEX, [statements(texts[:half], 0, False), statements(texts[half:], half, False)]),
    }
    for name, (reference, case_index, scripts) in variants.items():
        psql(arguments.url, TABLE.format(reference=reference, case_index=case_index))
        seconds = timed(arguments.url, scripts)
        print(f"{name}: {len(texts) * CHUNK} rows in {seconds:.2f} s")


def summarise_log(path: str) -> None:
    total: dict[str, float] = collections.defaultdict(float)
    count: collections.Counter[str] = collections.Counter()
    pattern = re.compile(r"duration: ([\d.]+) ms\s+(execute [^:]*|statement|parse [^:]*|bind [^:]*): (.*)")
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = pattern.search(line)
            if match:
                step = match.group(2).split()[0]
                key = f"{step:8} {match.group(3)[:90]}"
                total[key] += float(match.group(1))
                count[key] += 1
    for key, milliseconds in sorted(total.items(), key=lambda item: -item[1])[:15]:
        print(f"{milliseconds:10.0f} ms {count[key]:7d}  {key}")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "summarise-log":
        summarise_log(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--chunks", type=int, default=40)
    model(parser.parse_args())


if __name__ == "__main__":
    main()
