#!/usr/bin/env python3
"""Runs the contour benchmark side by side, once: vigil-contours
(`examples/surface_speed.rs`, release build) and the Python peers
(`peer.py`: DeepMind's surface-distance and MedPy's hd95) on the same
512×512×200 mask pair, each under `/usr/bin/time -v` for its peak memory,
and prints one Markdown table with the speed-ups against the targets.

    cargo build --release -p vigil-contours --example surface_speed
    python3 crates/vigil-contours/bench/side_by_side.py \\
        --bin "$CARGO_TARGET_DIR/release/examples/surface_speed" \\
        --python /path/to/venv/bin/python

The venv needs tests/reference/requirements.txt plus medpy. Standard
library only.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
# Two bool masks of 200×512×512 voxels.
MASKS_MB = 2 * 200 * 512 * 512 / 1e6


def timed(command: list[str]) -> tuple[str, float]:
    """The command's standard output and its peak resident set size in MB."""
    completed = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=True)
    peak_kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", completed.stderr)
    return completed.stdout, int(peak_kb.group(1)) / 1000 if peak_kb else float("nan")


def seconds(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    if not found:
        sys.exit(f"no match for {pattern!r} in:\n{text}")
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="the release build of examples/surface_speed")
    parser.add_argument("--python", required=True, help="the Python of the peers' venv")
    args = parser.parse_args()

    vigil_out, vigil_peak = timed([args.bin])
    peer_out, peer_peak = timed([args.python, str(HERE / "peer.py")])
    vigil_surface = seconds(r"surface distances only .*: median ([\d.]+) s", vigil_out)
    vigil_compare = seconds(r"compare\(\) .*: median ([\d.]+) s", vigil_out)
    deepmind = seconds(r"total ([\d.]+) s", peer_out)
    medpy = seconds(r"MedPy hd95: ([\d.]+) s", peer_out)
    vigil_values = re.search(r"HD95 ([\d.]+)", vigil_out).group(1)
    peer_values = re.search(r"HD95 ([\d.]+)", peer_out).group(1)

    print("| work | vigil-contours | peer | speed-up | target | met? |")
    print("| --- | --- | --- | --- | --- | --- |")
    rows = [
        ("surface metrics vs DeepMind surface-distance", vigil_surface, deepmind, 10),
        ("surface metrics vs MedPy hd95", vigil_surface, medpy, 50),
        ("every metric (compare, with APL) vs DeepMind", vigil_compare, deepmind, None),
    ]
    for work, ours, theirs, target in rows:
        ratio = theirs / ours
        met = "—" if target is None else ("yes" if ratio >= target else "no")
        target_text = "—" if target is None else f"≥ {target}×"
        print(f"| {work} | {ours:.3f} s | {theirs:.3f} s | {ratio:.1f}× | {target_text} | {met} |")
    ratio = vigil_peak / MASKS_MB
    print(f"| peak memory (whole process) | {vigil_peak:.0f} MB | {peer_peak:.0f} MB | "
          f"{ratio:.1f}× the two masks ({MASKS_MB:.0f} MB) | ≤ 3× | {'yes' if ratio <= 3 else 'no'} |")
    print()
    print(f"HD95: vigil-contours {vigil_values} mm, surface-distance {peer_values} mm")


if __name__ == "__main__":
    main()
