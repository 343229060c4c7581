#!/usr/bin/env python3
"""C-STORE throughput end to end: dcmtk's storescu sends N small SR
instances over one association on loopback to `vigil serve` (read, routed,
stored as events with their records), and the same files to dcmtk's own
storescp (which only writes them to disk), side by side in one run.

    python3 bench/dimse.py [--bin target/release/vigil] [--count 10000]

The instances are copies of crates/vigil-dicom/tests/data/sr_positive.dcm
with distinct SOP instance UIDs and accession numbers (patched in place,
same lengths). Needs dcmtk (Debian's package). Standard library only.
Prints one JSON object per receiver, and checks that Vigil stored every
instance as an event.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "crates" / "vigil-dicom" / "tests" / "data" / "sr_positive.dcm"
UID = b"1.2.826.0.1.3680043.10.1234.2.1"  # 31 characters
ACCESSION = b"ACC-1001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def make_instances(directory: pathlib.Path, count: int) -> None:
    template = TEMPLATE.read_bytes()
    assert template.count(UID) >= 1 and ACCESSION in template
    for index in range(count):
        uid = b"1.2.826.0.1.3680043.10.9" + b"%07d" % index
        accession = b"A%07d" % index
        assert len(uid) == len(UID) and len(accession) == len(ACCESSION)
        (directory / f"{index:07d}.dcm").write_bytes(template.replace(UID, uid).replace(ACCESSION, accession))


def vigil(binary: str, db: pathlib.Path, *arguments: str) -> str:
    completed = subprocess.run([binary, "--db", str(db), *arguments], check=True, capture_output=True, text=True,
                               env={**os.environ, "VIGIL_ACTOR": ""})
    return completed.stdout


def set_up(binary: str, work: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path, str]:
    db = work / "vigil.db"
    key = work / "pseudonym.key"
    vigil(binary, db, "init", "--organisations", str(ROOT / "examples" / "organisations.toml"), "--admin", "admin")
    vigil(binary, db, "user", "add", "--actor", "admin", "--user-name", "ailead", "--display-name", "AI lead",
          "--user-role", "ai_lead", "--organisation", "rw3")
    vigil(binary, db, "product", "add", "--actor", "admin", "--vendor", "Example AI", "--name", "NoduleFlag",
          "--intended-purpose", "Detection", "--modality", "ct", "--body-part", "chest", "--task", "detection",
          "--class", "IIa", "--marking", "UKCA")
    vigil(binary, db, "version", "add", "--actor", "ailead", "--product", "1", "--version", "2.3.0",
          "--released", "2026-06-01", "--notes", "first", "--change", "initial")
    vigil(binary, db, "deployment", "add", "--actor", "ailead", "--version", "1", "--site", "rw3-main",
          "--team", "Imaging AI", "--threshold", "default=0.5")
    vigil(binary, db, "keygen", "--out", str(key))
    created = json.loads(vigil(binary, db, "--json", "token", "create", "--actor", "admin", "--name", "bench",
                               "--organisation", "rw3", "--token-role", "ai_lead"))
    return db, key, created["secret"]


# dcmtk leaves Nagle's algorithm on unless TCP_NODELAY is set, and then
# waits for the peer's delayed acknowledgement on every instance (about
# 11 instances a second to its own storescp); a site would set it, so both
# dcmtk tools run with it.
DCMTK_ENV = {**os.environ, "TCP_NODELAY": "1"}


def storescu(port: int, called: str, files: pathlib.Path) -> float:
    began = time.perf_counter()
    subprocess.run(["storescu", "-R", "+sd", "-aet", "AI_BOX", "-aec", called, "127.0.0.1", str(port), str(files)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=DCMTK_ENV)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(ROOT / "target" / "release" / "vigil"))
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="vigil-dimse-"))
    try:
        files = work / "instances"
        files.mkdir()
        make_instances(files, args.count)

        # dcmtk's own SCP: receiving and writing files, nothing more.
        received = work / "storescp"
        received.mkdir()
        port = free_port()
        scp = subprocess.Popen(["storescp", "-aet", "STORESCP", "-od", str(received), str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=DCMTK_ENV)
        try:
            wait_for(port)
            seconds = storescu(port, "STORESCP", files)
        finally:
            scp.terminate()
            scp.wait()
        print(json.dumps({"receiver": "dcmtk storescp (files written)", "instances": args.count,
                          "seconds": round(seconds, 2), "instances_per_second": round(args.count / seconds)}),
              flush=True)

        db, key, token = set_up(args.bin, work)
        http_port, dicom_port = free_port(), free_port()
        config = work / "vigil.toml"
        config.write_text(f"""
[dicom]
bind = "127.0.0.1:{dicom_port}"
ae_title = "VIGIL"

[[dicom.callers]]
ae_title = "AI_BOX"
hosts = ["127.0.0.1"]
trust = "rw3"

[[dicom.route]]
deployment = 1
manufacturer = "Example AI"
kinds = ["sr"]
score = "DCM:111047"
decision = "DCM:121071"
positive = ["SCT:263654008"]
negative = ["SCT:17621005"]
""")
        server = subprocess.Popen([args.bin, "--db", str(db), "serve", "--config", str(config),
                                   "--bind", f"127.0.0.1:{http_port}"],
                                  env={**os.environ, "VIGIL_LOG": "warn", "VIGIL_PSEUDONYM_KEY_FILE": str(key),
                                       "VIGIL_MONITOR_INTERVAL_SECONDS": "0"},
                                  stderr=subprocess.DEVNULL)
        try:
            wait_for(http_port)
            wait_for(dicom_port)
            seconds = storescu(dicom_port, "VIGIL", files)
            request = urllib.request.Request(f"http://127.0.0.1:{http_port}/api/v1/deployments/1/aggregates",
                                             headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request) as response:
                events = sum(day["events"] for day in json.load(response))
        finally:
            server.terminate()
            server.wait()
        if events != args.count:
            raise SystemExit(f"Vigil stored {events} events of {args.count} instances")
        print(json.dumps({"receiver": "vigil (events and records, SQLite)", "instances": args.count,
                          "seconds": round(seconds, 2), "instances_per_second": round(args.count / seconds),
                          "events_stored": events}), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
