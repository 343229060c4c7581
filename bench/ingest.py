#!/usr/bin/env python3
"""Measure event ingestion over HTTP on loopback: `vigil serve` on a fresh
SQLite database (or PostgreSQL with --postgres URL), batches of NDJSON
events posted by one or more clients, and the events per second from the
first request to the last acknowledgement.

    python3 bench/ingest.py [--events 1000000] [--batch 10000] [--clients 2]
                            [--bin target/release/vigil] [--postgres URL]
                            [--statement-log FILE]

Needs the release binary (`cargo build --release -p vigil`). Standard
library only. Prints one JSON object: events, seconds, events_per_second,
the server's peak resident set size and what it wrote to storage during the
run (both from /proc; null with PostgreSQL, whose writes are its own
processes'), and the batch size.
Every acknowledged event is then counted in the database.
With --statement-log the server logs every statement with its duration
(`VIGIL_LOG=warn,sqlx::query=debug`) to FILE, which slows it somewhat.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(vigil: str, db: str, *arguments: str, stdin: str | None = None) -> str:
    completed = subprocess.run(
        [vigil, "--db", db, *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "VIGIL_ACTOR": ""},
    )
    if completed.returncode != 0:
        sys.exit(f"vigil {' '.join(arguments)} failed: {completed.stderr}")
    return completed.stdout


def batch_body(first: int, size: int) -> bytes:
    lines = []
    for index in range(first, first + size):
        lines.append(
            '{"event_id":"e%d","case_id":"ACC%08d","occurred_at":"2026-%02d-%02dT10:00:00Z",'
            '"model_version":"2.3.0","score":%.4f,"decision":%s,"scanner_model":"Ysio Max",'
            '"sex":"%s","age_band":"40-59","kvp":125}'
            % (
                index,
                index,
                1 + index % 11,
                1 + index % 28,
                (index * 7919 % 10000) / 10000,
                "true" if index % 3 == 0 else "false",
                "F" if index % 2 else "M",
            )
        )
    return "\n".join(lines).encode()


def proc_number(pid: int, file: str, field: str) -> float:
    """The number after `field:` in /proc/PID/FILE (NaN if unreadable)."""
    try:
        for line in pathlib.Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


def peak_rss_mb(pid: int) -> float:
    return proc_number(pid, "status", "VmHWM") / 1024


def written_mb(pid: int) -> float:
    """What the process has written to storage so far (`write_bytes` of
    /proc/PID/io: the database, its WAL and checkpoints), in MB."""
    return proc_number(pid, "io", "write_bytes") / 1e6


def cpu_seconds(pid: int) -> dict[str, float]:
    """The processor time (user and system) the process's threads have used
    so far, by thread name, in seconds (/proc/PID/task/*/stat); threads of
    the same name are summed."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return used


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--bin", default=str(ROOT / "target" / "release" / "vigil"))
    parser.add_argument(
        "--postgres",
        help="a postgres:// URL of an empty database made for this run (it is left with the events)",
    )
    parser.add_argument("--statement-log", help="a file for the server's log of every statement and its duration")
    args = parser.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="vigil-ingest-"))
    db = args.postgres or str(work / "vigil.db")
    organisations = ROOT / "examples" / "organisations.toml"
    run(args.bin, db, "init", "--organisations", str(organisations), "--admin", "admin")
    run(args.bin, db, "user", "add", "--actor", "admin", "--user-name", "ailead", "--display-name", "AI lead",
        "--user-role", "ai_lead", "--organisation", "rw3")
    run(args.bin, db, "product", "add", "--actor", "admin", "--vendor", "Bench", "--name", "Bench", "--intended-purpose",
        "Triage", "--modality", "radiography", "--body-part", "chest", "--task", "triage", "--class", "IIa", "--marking", "UKCA")
    run(args.bin, db, "version", "add", "--actor", "ailead", "--product", "1", "--version", "1", "--released", "2026-01-01",
        "--notes", "first", "--change", "initial")
    run(args.bin, db, "deployment", "add", "--actor", "ailead", "--version", "1", "--site", "rw3-main", "--team", "AI")
    secret = json.loads(run(args.bin, db, "--json", "token", "create", "--actor", "admin", "--name", "bench",
                            "--organisation", "rw3", "--token-role", "ai_lead"))["secret"]
    key = work / "pseudonym.key"
    run(args.bin, db, "keygen", "--out", str(key))

    port = free_port()
    server = subprocess.Popen(
        [args.bin, "--db", db, "serve", "--bind", f"127.0.0.1:{port}"],
        env={**os.environ, "VIGIL_LOG": "warn,sqlx::query=debug" if args.statement_log else "warn",
             "VIGIL_PSEUDONYM_KEY_FILE": str(key),
             "VIGIL_REQUEST_BODY_LIMIT_BYTES": str(256 << 20)},
        stderr=open(args.statement_log, "w") if args.statement_log else subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/api/v1/deployments/1/events"
        starts = list(range(0, args.events, args.batch))
        bodies = {start: batch_body(start, min(args.batch, args.events - start)) for start in starts}

        def post(start: int) -> int:
            request = urllib.request.Request(
                url, data=bodies[start], method="POST",
                headers={"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {secret}"},
            )
            with urllib.request.urlopen(request, timeout=300) as response:
                return json.load(response)["stored"]

        written_before = written_mb(server.pid)
        cpu_before = cpu_seconds(server.pid)
        began = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.clients) as pool:
            stored = sum(pool.map(post, starts))
        seconds = time.perf_counter() - began
        rss = peak_rss_mb(server.pid)
        written = written_mb(server.pid) - written_before
        cpu_after = cpu_seconds(server.pid)
        cpu = {name: round(used - cpu_before.get(name, 0.0), 2) for name, used in cpu_after.items()}
    finally:
        server.terminate()
        server.wait()
    if stored != args.events:
        sys.exit(f"{stored} events acknowledged as stored, {args.events} sent")
    print(json.dumps({
        "database": "postgresql" if args.postgres else "sqlite",
        "events": args.events,
        "batch": args.batch,
        "clients": args.clients,
        "seconds": round(seconds, 3),
        "events_per_second": round(args.events / seconds),
        "server_peak_rss_mb": round(rss, 1),
        # PostgreSQL writes in its own processes, which are not counted.
        "server_written_mb": None if args.postgres or written != written else round(written),
        # The server's processor time during the run, by thread name: with
        # SQLite, `sqlx-sqlite-wor` is its one writing connection.
        "server_cpu_seconds": {name: used for name, used in sorted(cpu.items()) if used > 0},
    }))


if __name__ == "__main__":
    main()
