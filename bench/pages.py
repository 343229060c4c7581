#!/usr/bin/env python3
"""Measure the dashboard's deployment page on the demonstration dataset:
p50/p95/p99 latency over loopback under concurrent clients (wrk), from a
signed-in session.

    python3 bench/pages.py [--bin target/release/vigil] [--db DEMO.db]
                           [--connections 16] [--seconds 20]

Without --db, seeds a full demonstration first (`vigil demo --no-serve`,
about a minute and a half). Needs the release binary and wrk (Debian's
package). Standard library only. Prints one JSON object per page.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(ROOT / "target" / "release" / "vigil"))
    parser.add_argument("--db", help="an existing demonstration database (seeded when absent)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="vigil-pages-"))
    db = args.db
    if db is None:
        db = str(work / "demo.db")
        began = time.perf_counter()
        subprocess.run([args.bin, "--db", db, "demo", "--replace", "--no-serve", "--end", "2026-11-30"],
                       check=True, stdout=subprocess.DEVNULL)
        print(json.dumps({"seeding_seconds": round(time.perf_counter() - began, 1)}), flush=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([args.bin, "--db", db, "serve", "--bind", f"127.0.0.1:{port}"],
                              env={**os.environ, "VIGIL_LOG": "warn"}, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.05)
        request = urllib.request.Request(
            f"{base}/api/v1/session", method="POST",
            data=json.dumps({"user_name": "rpn.ai-lead", "password": "vigil-demo-password"}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            cookie = response.headers["Set-Cookie"].split(";")[0]
        request = urllib.request.Request(f"{base}/api/v1/deployments", headers={"Cookie": cookie})
        with urllib.request.urlopen(request) as response:
            deployments = json.load(response)
        # ChestFlag (the first product registered) at Pennine Moors: a year
        # of events, the scanner story's alerts and the model update.
        chest = min((d for d in deployments if d["site"] == "rpn-main"), key=lambda d: d["product"])
        pages = {"deployment": f"/deployments/{chest['id']}", "overview": "/", "product": f"/products/{chest['product']}"}
        for name, path in pages.items():
            completed = subprocess.run(
                ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "-s", str(ROOT / "bench" / "p95.lua"),
                 "-H", f"Cookie: {cookie}", f"{base}{path}"],
                capture_output=True, text=True, check=True)
            figures = dict(line.split(" ", 1) for line in completed.stdout.splitlines()
                           if line.split(" ", 1)[0] in {"p50_ms", "p95_ms", "p99_ms", "requests_per_second", "non_2xx"})
            print(json.dumps({"page": name, "path": path, "connections": args.connections,
                              **{key: float(value) for key, value in figures.items()}}), flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
