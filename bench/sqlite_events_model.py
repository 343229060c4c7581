#!/usr/bin/env python3
"""A model of the events table's inserts in Python's `sqlite3`, to compare
page sizes and index layouts without building Vigil: the columns and case
index of `inference_events`, the store's pragmas (WAL, `synchronous =
FULL`, statement journals in memory, a checkpoint every N pages), keyed-hash
event ids and case pseudonyms, 10,000-row transactions (a batch a
transaction, as the store commits them). Prints rows per second of
database time (making the rows is not counted).

    python3 bench/sqlite_events_model.py --page-size 16384 --rows 1000000
        [--statement rows|chunk]
        [--index primary-key|event-prefix|staged|staged-indexed|levels|levels-explicit|
                 unindexed|primary-key-only|case-only]
        [--event-id text|bytes]
        [--cache-mib 64] [--checkpoint-pages 10000]
        [--transaction-rows 10000] [--merge-rows 100000]
        [--insert plain|or-fail]

`--statement rows` inserts each row with a prepared statement
(`executemany`); `chunk` loads 5,000 rows into a temporary table and moves
them with one `INSERT … SELECT`, as the store moves a JSON chunk.
`--index event-prefix` replaces the primary key (deployment, event id) by
an index on the event id's first 8 hex digits and skips ids already stored
with `NOT EXISTS` instead of `ON CONFLICT`. `--index staged` keeps the
table as it is but inserts new rows into an unindexed table of recent rows
(unique on the event id only), skipping ids already in the main table with
`NOT EXISTS`, and moves them into the main table in event-id order once
`--merge-rows` have gathered, inside the batch's transaction;
`staged-indexed` gives the table of recent rows the primary key and case
index of the main table, as a store would need to answer queries from it.
`--index levels-explicit` is the layout of the store's migration 0016: the
table keeps an index only by deployment and batch; each new row's event id
and case prefix go, with its rowid, into two small key tables of recent
rows (`WITHOUT ROWID`), a row whose event id either level holds being
skipped, and these are merged in key order into two large key tables once
`--merge-rows` have gathered, inside the batch's transaction. `levels` does
the same with triggers on the table instead of statements of its own.
`unindexed`, `primary-key-only` and `case-only` keep neither random-order
index, only the primary key, or only the case index, to weigh what each
costs (every modelled row is new, so the model runs without them).
`--event-id bytes` stores each event id (`psn:` and 32 hexadecimal
characters) as the 16 bytes it spells, as migration 0015 does.
`--transaction-rows 20000` commits two batches' rows at once, as a store
committing two waiting batches together would. `--insert or-fail` moves a
chunk with `INSERT OR FAIL` (a statement that fails keeps the rows it
inserted, so SQLite needs no statement journal for it; the transaction is
rolled back whole anyway). Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import tempfile
import time

COLUMNS = """deployment_id INTEGER NOT NULL, event_id TEXT NOT NULL, batch_id INTEGER NOT NULL,
 case_pseudonym TEXT NOT NULL, occurred_at TEXT NOT NULL, day TEXT NOT NULL, model_version TEXT NOT NULL,
 score REAL, decision INTEGER, scanner_manufacturer TEXT, scanner_model TEXT, protocol TEXT,
 slice_thickness_mm REAL, kvp REAL, age_band TEXT, sex TEXT, site TEXT, content_sha256 TEXT NOT NULL"""
EVENT_PREFIX = "CASE WHEN substr({0}, 1, 4) = 'psn:' THEN substr({0}, 5, 8) ELSE {0} END"
CHUNK = 5_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page-size", type=int, default=16384)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--statement", choices=["rows", "chunk"], default="rows")
    parser.add_argument("--index", choices=["primary-key", "event-prefix", "staged", "staged-indexed", "levels", "levels-explicit", "unindexed", "primary-key-only", "case-only"], default="primary-key")
    parser.add_argument("--event-id", choices=["text", "bytes"], default="text")
    parser.add_argument("--merge-rows", type=int, default=100_000)
    parser.add_argument("--transaction-rows", type=int, default=10_000)
    parser.add_argument("--cache-mib", type=int, default=64)
    parser.add_argument("--checkpoint-pages", type=int, default=10_000)
    parser.add_argument("--insert", choices=["plain", "or-fail"], default="plain")
    arguments = parser.parse_args()
    if arguments.index != "primary-key" and arguments.statement == "rows":
        parser.error(f"--index {arguments.index} is modelled with --statement chunk")
    if arguments.index == "event-prefix" and arguments.event_id == "bytes":
        parser.error("--index event-prefix indexes a prefix of the id's text: use --event-id text")

    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "events.db")
        db = sqlite3.connect(path, isolation_level=None)
        db.execute(f"PRAGMA page_size = {arguments.page_size}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute(f"PRAGMA cache_size = -{arguments.cache_mib * 1024}")
        db.execute("PRAGMA temp_store = MEMORY")
        db.execute(f"PRAGMA wal_autocheckpoint = {arguments.checkpoint_pages}")
        db.execute(f"PRAGMA journal_size_limit = {64 << 20}")
        keyless = ("event-prefix", "unindexed", "case-only", "levels", "levels-explicit")
        key = ", PRIMARY KEY (deployment_id, event_id)" if arguments.index not in keyless else ""
        db.execute(f"CREATE TABLE inference_events ({COLUMNS}{key})")
        if arguments.index not in ("unindexed", "primary-key-only", "levels", "levels-explicit"):
            db.execute("CREATE INDEX by_case_prefix ON inference_events (deployment_id, substr(case_pseudonym, 5, 8))")
        if arguments.index == "event-prefix":
            db.execute(f"CREATE INDEX by_event_prefix ON inference_events (deployment_id, {EVENT_PREFIX.format('event_id')})")
        if arguments.index == "staged":
            db.execute(f"CREATE TABLE recent_events ({COLUMNS}, UNIQUE (deployment_id, event_id))")
        if arguments.index == "staged-indexed":
            db.execute(f"CREATE TABLE recent_events ({COLUMNS}, PRIMARY KEY (deployment_id, event_id))")
            db.execute("CREATE INDEX recent_by_case_prefix ON recent_events (deployment_id, substr(case_pseudonym, 5, 8))")
        if arguments.index in ("levels", "levels-explicit"):
            db.execute("CREATE INDEX by_batch ON inference_events (deployment_id, batch_id)")
            for level in ("", "recent_"):
                db.execute(f"CREATE TABLE {level}event_keys (deployment_id INTEGER NOT NULL, event_id NOT NULL, "
                           "row INTEGER NOT NULL, PRIMARY KEY (deployment_id, event_id)) WITHOUT ROWID")
                db.execute(f"CREATE TABLE {level}case_keys (deployment_id INTEGER NOT NULL, case_prefix TEXT NOT NULL, "
                           "row INTEGER NOT NULL, PRIMARY KEY (deployment_id, case_prefix, row)) WITHOUT ROWID")
        if arguments.index == "levels":
            db.execute("""CREATE TRIGGER skip_stored BEFORE INSERT ON inference_events
                WHEN EXISTS (SELECT 1 FROM recent_event_keys k WHERE k.deployment_id = new.deployment_id AND k.event_id = new.event_id)
                  OR EXISTS (SELECT 1 FROM event_keys k WHERE k.deployment_id = new.deployment_id AND k.event_id = new.event_id)
                BEGIN SELECT RAISE(IGNORE); END""")
            db.execute("""CREATE TRIGGER key_stored AFTER INSERT ON inference_events BEGIN
                INSERT INTO recent_event_keys VALUES (new.deployment_id, new.event_id, new.rowid);
                INSERT INTO recent_case_keys VALUES (new.deployment_id, substr(new.case_pseudonym, 5, 8), new.rowid);
                END""")
        db.execute(f"CREATE TEMP TABLE chunk ({COLUMNS})")
        marks = ",".join("?" * 18)
        if arguments.index == "levels":
            move = "INSERT INTO inference_events SELECT * FROM chunk"
        elif arguments.index == "levels-explicit":
            move = (
                "INSERT INTO inference_events SELECT * FROM chunk n WHERE "
                "NOT EXISTS (SELECT 1 FROM recent_event_keys k WHERE k.deployment_id = n.deployment_id AND k.event_id = n.event_id) "
                "AND NOT EXISTS (SELECT 1 FROM event_keys k WHERE k.deployment_id = n.deployment_id AND k.event_id = n.event_id)"
            )
        elif arguments.index in ("primary-key", "unindexed", "primary-key-only", "case-only"):
            verb = "INSERT OR FAIL" if arguments.insert == "or-fail" else "INSERT"
            move = f"{verb} INTO inference_events SELECT * FROM chunk WHERE true ON CONFLICT DO NOTHING"
        elif arguments.index in ("staged", "staged-indexed"):
            move = (
                "INSERT INTO recent_events SELECT * FROM chunk n WHERE NOT EXISTS (SELECT 1 FROM inference_events e "
                "WHERE e.deployment_id = n.deployment_id AND e.event_id = n.event_id) ON CONFLICT DO NOTHING"
            )
        else:
            move = (
                "INSERT INTO inference_events SELECT * FROM chunk n WHERE NOT EXISTS (SELECT 1 FROM inference_events e "
                f"WHERE e.deployment_id = n.deployment_id AND {EVENT_PREFIX.format('e.event_id')} = "
                f"{EVENT_PREFIX.format('n.event_id')} AND e.event_id = n.event_id)"
            )

        draw = random.Random(1)

        def pseudonym() -> str:
            return "psn:%032x" % draw.getrandbits(128)

        seconds = 0.0
        batch_rows = arguments.transaction_rows
        for batch in range(arguments.rows // batch_rows):
            rows = []
            for _ in range(batch_rows):
                event_id = pseudonym()
                stored_id = bytes.fromhex(event_id[4:]) if arguments.event_id == "bytes" else event_id
                rows.append((1, stored_id, batch, pseudonym(), "2026-11-30T09:15:00Z", "2026-11-30", "2.3.0",
                             draw.random(), 1, "Siemens", "Ysio Max", "CXR PA", None, 125.0, "40-59", "F", "rw3",
                             hashlib.sha256(event_id.encode()).hexdigest()))
            started = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            if arguments.statement == "rows":
                db.executemany(f"INSERT INTO inference_events VALUES ({marks}) ON CONFLICT DO NOTHING", rows)
            else:
                for first in range(0, batch_rows, CHUNK):
                    db.execute("DELETE FROM chunk")
                    db.executemany(f"INSERT INTO chunk VALUES ({marks})", rows[first:first + CHUNK])
                    if arguments.index == "levels-explicit":
                        before = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM inference_events").fetchone()[0]
                    db.execute(move)
                    if arguments.index == "levels-explicit":
                        db.execute("INSERT INTO recent_event_keys SELECT deployment_id, event_id, rowid "
                                   "FROM inference_events WHERE rowid > ?", (before,))
                        db.execute("INSERT INTO recent_case_keys SELECT deployment_id, substr(case_pseudonym, 5, 8), rowid "
                                   "FROM inference_events WHERE rowid > ?", (before,))
            if arguments.index in ("staged", "staged-indexed"):
                recent = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM recent_events").fetchone()[0]
                if recent >= arguments.merge_rows:
                    db.execute("INSERT INTO inference_events SELECT * FROM recent_events ORDER BY deployment_id, event_id")
                    db.execute("DELETE FROM recent_events")
            if arguments.index in ("levels", "levels-explicit"):
                recent = db.execute("SELECT COUNT(*) FROM recent_event_keys").fetchone()[0]
                if recent >= arguments.merge_rows:
                    for keys in ("event_keys", "case_keys"):
                        db.execute(f"INSERT INTO {keys} SELECT * FROM recent_{keys}")
                        db.execute(f"DELETE FROM recent_{keys}")
            db.execute("COMMIT")
            seconds += time.perf_counter() - started
        stored = db.execute("SELECT COUNT(*) FROM inference_events").fetchone()[0]
        if arguments.index in ("staged", "staged-indexed"):
            stored += db.execute("SELECT COUNT(*) FROM recent_events").fetchone()[0]
        assert stored == arguments.rows // batch_rows * batch_rows, stored
        print(f"page {arguments.page_size} B, {arguments.statement}, {arguments.index}, {arguments.event_id} ids: "
              f"{stored} rows, {round(stored / seconds)} rows/s")


if __name__ == "__main__":
    main()
