#!/usr/bin/env python3
"""Run the Vigil benchmarks side by side with their Python peers, once.

    bench/.venv/bin/python bench/run.py [--sizes 1000000,10000000] [--quick]
                                        [--repeat K] [--peers-only]

Needs the release binaries (this script builds nothing):

    cargo build --release -p vigil -p vigil-bench

and the peer venv:

    python3 -m venv bench/.venv && bench/.venv/bin/pip install -r bench/requirements.txt

Data are generated with `make_data.py` into `bench/.work/` (git-ignored) and
reused while their `meta.json` matches. Every measurement is a separate child
process, run one after another (never concurrently), and its peak resident set
size comes from `os.wait4` on that child alone. Compute seconds come from the
child's own JSON (`{"seconds": ..., "result": ...}`), which excludes input
loading; the end-to-end row uses the wall time of the whole child process.

The Markdown table is printed and written to `bench/results.md`; the raw
per-child records go to `bench/.work/last-run.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
VIGIL_BENCH = ROOT / "target" / "release" / "vigil-bench"
VIGIL = ROOT / "target" / "release" / "vigil"
SEED = 20261123

# Targets.
AUC_SPEEDUP = 10.0  # AUC + DeLong CI, compute time, at the target size
BOOT_SPEEDUP = 50.0  # 1000 stratified bootstrap resamples of 10^5 cases
E2E_SPEEDUP = 3.0  # whole `vigil evaluate` process vs whole Python process
CSV_MB_S = 100.0  # vigil-bench read-csv throughput
MEM_FACTOR = 2.0  # Vigil peak RSS <= MEM_FACTOR * input arrays + MEM_BASELINE_MB
MEM_BASELINE_MB = 16.0  # fixed allowance for the process itself (binary, allocator, stack, libc)
TARGET_SIZE = 10_000_000  # AUC/DeLong targets are defined at this size
BOOT_N = 100_000

MB = 1e6  # all MB figures are 10^6 bytes


# --------------------------------------------------------------------------
# Children
# --------------------------------------------------------------------------


PR_SET_CHILD_SUBREAPER = 36
_SUBREAPER = False


def enable_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux).

    Why: a child's `ru_maxrss` is the larger of its own peak and the RSS of the
    process that spawned it (the high-water mark of the parent's address space
    is carried across vfork/fork + exec). Spawned straight from this Python
    harness, every child would report at least the harness's own ~20 MB. So each
    measured program is started by a tiny `/bin/sh` that backgrounds it and
    exits; the program is re-parented to this process, which then collects its
    exit status and resource usage with `os.wait4`. Its peak is then its own
    (plus the ~1 MB of the forking shell at most).
    """
    global _SUBREAPER
    if not sys.platform.startswith("linux") or not os.path.exists("/bin/sh"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        _SUBREAPER = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        _SUBREAPER = False
    return _SUBREAPER


def _spawn_and_wait(cmd: list[str], out, err):
    """Start cmd with stdout/stderr to the given files; return (status, rusage)."""
    if _SUBREAPER:
        # The background subshell waits at a gate (a line on the launcher's
        # stdin) until the launcher has exited, so that the launcher can never
        # reap it first; then it replaces itself with the measured program.
        script = (
            'exec 3<&0; ( read _ <&3 || exit 125; exec 3<&-; exec "$@" </dev/null ) & '
            'echo $! > "$VIGIL_BENCH_PIDFILE"'
        )
        with tempfile.NamedTemporaryFile("r", suffix=".pid") as pidfile:
            sh = subprocess.Popen(
                ["/bin/sh", "-c", script, "sh", *cmd],
                stdin=subprocess.PIPE, stdout=out, stderr=err, cwd=ROOT,
                env={**os.environ, "VIGIL_BENCH_PIDFILE": pidfile.name},
            )
            try:
                if sh.wait() != 0:
                    raise OSError(f"launcher shell failed with status {sh.returncode}")
                pid = int(pidfile.read().strip())
                sh.stdin.write(b"go\n")
            finally:
                sh.stdin.close()
        _, status, usage = os.wait4(pid, 0)
        return status, usage
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped
    return status, usage


def run_child(cmd: list[str]) -> dict:
    """Run one child process; return wall seconds, peak RSS (MB), exit code and output."""
    cmd = [str(c) for c in cmd]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        try:
            status, usage = _spawn_and_wait(cmd, out, err)
        except (OSError, ValueError, ChildProcessError) as exc:
            return {"cmd": cmd, "wall_s": 0.0, "peak_mb": 0.0, "rc": None, "stderr_tail": "",
                    "error": f"cannot run: {exc}"}
        wall = time.perf_counter() - t0
        rc = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    rec = {
        "cmd": cmd,
        "wall_s": wall,
        # Linux reports ru_maxrss in KiB.
        "peak_mb": usage.ru_maxrss * 1024 / MB,
        "rc": rc,
        "stderr_tail": stderr[-2000:],
    }
    if rc == 0:
        lines = [ln for ln in stdout.splitlines() if ln.strip()]
        try:
            rec["json"] = json.loads(stdout) if len(lines) != 1 else json.loads(lines[0])
        except json.JSONDecodeError as exc:
            rec["error"] = f"stdout is not JSON: {exc}: {stdout[:200]!r}"
    else:
        rec["error"] = f"exit code {rc}: {stderr.strip()[-500:]}"
    return rec


def warm(path: pathlib.Path) -> None:
    """Read a file once so both sides start with it in the page cache."""
    with path.open("rb") as f:
        while f.read(1 << 24):
            pass


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def ensure_data(n: int, csv: bool) -> pathlib.Path:
    d = WORK / f"n{n}"
    meta_path = d / "meta.json"
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
            ok = (
                meta.get("n") == n
                and meta.get("seed") == SEED
                and meta.get("generator_version") == 1
                and (meta.get("csv") or not csv)
                and all((d / f).exists() for f in ("labels.u8", "scores.f64", "scores_b.f64"))
                and (not csv or (d / "cases.csv").exists())
            )
            if ok:
                return d
        except (OSError, ValueError):
            pass
    print(f"  generating {n:,} cases into {d.relative_to(ROOT)} ...", flush=True)
    cmd = [sys.executable, str(BENCH / "make_data.py"), "--n", str(n), "--out", str(d), "--seed", str(SEED)]
    if not csv:
        cmd.append("--no-csv")
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return d


# --------------------------------------------------------------------------
# Formatting helpers
# --------------------------------------------------------------------------


def fmt_s(x) -> str:
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    if x >= 0.01:
        return f"{x:.3f}"
    return f"{x:.2g}"


def fmt_mb(x) -> str:
    return "—" if x is None else f"{x:.0f}" if x >= 10 else f"{x:.1f}"


def fmt_ratio(x) -> str:
    return "—" if x is None else f"{x:.1f}×" if x < 100 else f"{x:.0f}×"


def fmt_n(n: int) -> str:
    e = len(str(n)) - 1
    return f"10^{e}" if n == 10**e else f"{n:,}"


def flatten(obj, prefix="") -> dict:
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        out[prefix[:-1]] = float(obj)
    return out


def machine() -> dict:
    model = "unknown"
    mem_gib = None
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
                break
    except OSError:
        pass
    versions = {}
    for pkg in ("numpy", "scipy", "scikit-learn", "pandas"):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    rev = None
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "model": model,
        "mem_gib": mem_gib,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "git": rev,
    }


# --------------------------------------------------------------------------
# Benchmarks
# --------------------------------------------------------------------------


class Row:
    def __init__(self, work, n, vigil_cmd, peer_cmd, input_mb, input_note, kind, target_applies, data_dir):
        self.work = work
        self.n = n
        self.vigil_cmd = vigil_cmd
        self.peer_cmd = peer_cmd
        self.input_mb = input_mb
        self.input_note = input_note
        self.kind = kind  # "auc", "boot", "e2e", "csv"
        self.target_applies = target_applies
        self.data_dir = data_dir
        self.vigil_runs: list[dict] = []
        self.peer_runs: list[dict] = []

    # seconds as the table reports them
    def _seconds(self, rec: dict):
        if "error" in rec:
            return None
        if self.kind == "e2e":
            return rec["wall_s"]
        try:
            return float(rec["json"]["seconds"])
        except (KeyError, TypeError, ValueError):
            return None

    def summary(self, runs):
        secs = [s for s in (self._seconds(r) for r in runs) if s is not None]
        peaks = [r["peak_mb"] for r in runs if "error" not in r]
        errors = [r["error"] for r in runs if "error" in r]
        return (
            statistics.median(secs) if secs else None,
            max(peaks) if peaks else None,
            errors,
        )

    def evaluate(self, peers_only: bool) -> dict:
        vs, vpeak, verr = self.summary(self.vigil_runs)
        ps, ppeak, perr = self.summary(self.peer_runs)
        ratio = ps / vs if (vs and ps) else None
        mem_limit = MEM_FACTOR * self.input_mb + MEM_BASELINE_MB
        csv_mb = self.input_mb if self.kind == "csv" else None

        if self.kind == "auc":
            target = f"≥{AUC_SPEEDUP:g}×, peak ≤ {mem_limit:.0f} MB"
        elif self.kind == "boot":
            target = f"≥{BOOT_SPEEDUP:g}×"
        elif self.kind == "e2e":
            target = f"≥{E2E_SPEEDUP:g}× (whole process)"
        else:
            v_rate = f"{csv_mb / vs:.0f}" if vs else "—"
            p_rate = f"{csv_mb / ps:.0f}" if ps else "—"
            target = f"≥{CSV_MB_S:g} MB/s (vigil {v_rate}, pandas {p_rate} MB/s)"

        if not self.target_applies:
            sized_target = self.kind == "auc" and not self.work.startswith("paired")
            target = f"info ({target.split(',')[0].split(' (')[0]} at 10^7)" if sized_target else "info"
            met = "—"
        elif peers_only or verr or perr or vs is None or ps is None:
            met = "—"
        else:
            fails = []
            if self.kind == "auc":
                if ratio < AUC_SPEEDUP:
                    fails.append("speed")
                if vpeak > mem_limit:
                    fails.append("memory")
            elif self.kind == "boot" and ratio < BOOT_SPEEDUP:
                fails.append("speed")
            elif self.kind == "e2e" and ratio < E2E_SPEEDUP:
                fails.append("speed")
            elif self.kind == "csv" and csv_mb / vs < CSV_MB_S:
                fails.append("throughput")
            met = "yes" if not fails else "no (" + ", ".join(fails) + ")"
        if verr or perr:
            met = "error"
        return {
            "work": self.work,
            "size": fmt_n(self.n),
            "vigil_s": vs,
            "peer_s": ps,
            "ratio": ratio,
            "vigil_peak_mb": vpeak,
            "peer_peak_mb": ppeak,
            "input_mb": self.input_mb,
            "input_note": self.input_note,
            "target": target,
            "met": met,
            "errors": verr + perr,
        }

    def agreement(self):
        """Numeric result fields present on both sides, with their absolute differences."""
        v = [r for r in self.vigil_runs if "json" in r]
        p = [r for r in self.peer_runs if "json" in r]
        if not v or not p:
            return {}
        vres = v[0]["json"].get("result", v[0]["json"]) if self.kind != "e2e" else v[0]["json"]
        pres = p[0]["json"].get("result", {})
        fv, fp = flatten(vres), flatten(pres)
        skip = {"seconds", "mb_per_s", "sklearn_seconds", "delong_seconds"}
        return {
            k: (fv[k], fp[k], abs(fv[k] - fp[k]))
            for k in sorted(set(fv) & set(fp))
            if k.split(".")[-1] not in skip
        }


def build_rows(sizes: list[int], csv_size: int, boot_n: int) -> list[Row]:
    py = sys.executable
    peers = str(BENCH / "peers.py")
    target_n = max(sizes)
    rows: list[Row] = []
    dirs = {n: ensure_data(n, csv=(n == csv_size)) for n in sorted(set(sizes))}
    if csv_size not in dirs:
        dirs[csv_size] = ensure_data(csv_size, csv=True)
    boot_dir = dirs.get(boot_n) or ensure_data(boot_n, csv=False)

    for n in sizes:
        d = dirs[n]
        rows.append(
            Row("AUC + DeLong 95% CI", n, [VIGIL_BENCH, "auc-delong", "--dir", d],
                [py, peers, "auc-delong-sklearn", "--dir", d], 9 * n / MB, "scores+labels", "auc", n == target_n, d)
        )
    for n in sizes:
        d = dirs[n]
        rows.append(
            Row("paired DeLong test", n, [VIGIL_BENCH, "delong-paired", "--dir", d],
                [py, peers, "delong-paired-numpy", "--dir", d], 17 * n / MB, "scores+scores_b+labels", "auc",
                False, d)  # measured and reported; the targets are set for AUC + DeLong CI
        )
    rows.append(
        Row("bootstrap AUC, 1000 resamples", boot_n, [VIGIL_BENCH, "bootstrap-auc", "--dir", boot_dir],
            [py, peers, "bootstrap-auc-sklearn", "--dir", boot_dir], 9 * boot_n / MB, "scores+labels", "boot", True,
            boot_dir)
    )
    d = dirs[csv_size]
    csv_path = d / "cases.csv"
    csv_mb = csv_path.stat().st_size / MB
    rows.append(
        Row("end-to-end evaluate", csv_size,
            [VIGIL, "evaluate", "--cases", csv_path, "--score", "score", "--label", "label", "--compare", "score_b",
             "--json"],
            [py, peers, "evaluate-python", "--dir", d], csv_mb, "cases.csv", "e2e", True, d)
    )
    rows.append(
        Row("CSV read", csv_size, [VIGIL_BENCH, "read-csv", "--dir", d], [py, peers, "read-csv-pandas", "--dir", d],
            csv_mb, "cases.csv", "csv", True, d)
    )
    return rows


PEER_NAMES = {
    "auc": "sklearn roc_auc_score + NumPy/SciPy DeLong",
    "boot": "sklearn roc_auc_score in a Python loop",
    "e2e": "pandas + sklearn + NumPy/SciPy",
    "csv": "pandas.read_csv",
}


def render(results: list[dict], info: dict, args, peers_only: bool, rows: list[Row]) -> str:
    m = info["machine"]
    v = m["versions"]
    lines = [
        "# Vigil benchmark results",
        "",
        f"Run {info['started']} on {m['model']}, {m['nproc']} logical CPUs"
        + (f" ({m['cpus_usable']} usable)" if m["cpus_usable"] and m["cpus_usable"] != m["nproc"] else "")
        + (f", {m['mem_gib']:.0f} GiB RAM" if m["mem_gib"] else "")
        + f", Linux {m['kernel']}.",
        f"Peers: Python {m['python']}, numpy {v['numpy']}, scipy {v['scipy']}, scikit-learn {v['scikit-learn']}, "
        f"pandas {v['pandas']}."
        + (f" Vigil at git {m['git']}." if m["git"] else ""),
        f"Command: `{' '.join(info['argv'])}`; each figure is the median of {args.repeat} run(s); "
        "each run is a separate child process, one at a time.",
    ]
    if peers_only:
        lines += ["", "**Peers only: the Vigil side was not run.**"]
    if max(args.sizes) != TARGET_SIZE:
        lines += [
            "",
            f"**Note:** the AUC/DeLong targets are defined at 10^7 cases; this run's largest size was "
            f"{fmt_n(max(args.sizes))}, so they were checked there instead.",
        ]
    lines += [
        "",
        "| work | size | vigil s | peer s | speed-up | vigil peak MB | peer peak MB | input MB | target | met? |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['work']} | {r['size']} | {fmt_s(r['vigil_s'])} | {fmt_s(r['peer_s'])} | {fmt_ratio(r['ratio'])} | "
            f"{fmt_mb(r['vigil_peak_mb'])} | {fmt_mb(r['peer_peak_mb'])} | {fmt_mb(r['input_mb'])} "
            f"({r['input_note']}) | {r['target']} | {r['met']} |"
        )
    lines += [
        "",
        "Notes:",
        "",
        "- *vigil s* / *peer s*: compute seconds reported by the child itself, excluding input loading "
        "(`vigil-bench` and `bench/peers.py`); for *end-to-end evaluate* the wall time of the whole child "
        "process (start-up, imports, CSV read, all statistics, JSON out); for *CSV read* the parse time.",
        "- *speed-up* = peer s / vigil s. *peak MB* = peak resident set size of that child process alone "
        "(`os.wait4`), in 10^6 bytes; the Python figure includes the interpreter and imported libraries.",
        f"- Memory target for the AUC/DeLong rows: Vigil peak RSS ≤ {MEM_FACTOR:g} × input arrays + "
        f"{MEM_BASELINE_MB:g} MB fixed allowance for the process itself. Input arrays are 8 bytes per score "
        "column plus 1 byte per label.",
        (
            "- Peak RSS method: each program is started by a small `/bin/sh` and re-parented to the harness "
            "(PR_SET_CHILD_SUBREAPER), so its `ru_maxrss` is its own; "
            if info["rss_method"] == "subreaper"
            else "- Peak RSS method: direct `os.wait4` on the child; a child's `ru_maxrss` is at least the "
            "harness's own RSS at spawn time, so small figures are upper bounds; "
        )
        + f"measurement floor (`/bin/true`) {info['rss_floor_mb']:.1f} MB.",
        "- Peers: " + "; ".join(f"{k}: {n}" for k, n in (
            ("AUC/DeLong", PEER_NAMES["auc"]), ("bootstrap", PEER_NAMES["boot"]),
            ("end-to-end", PEER_NAMES["e2e"]), ("CSV", PEER_NAMES["csv"]))) + ".",
    ]
    # DeLong-only peer time, for the reader who wants the stricter comparison.
    for row, r in zip(rows, results):
        if row.work.startswith("AUC") and row.peer_runs and "json" in row.peer_runs[0]:
            res = row.peer_runs[0]["json"]["result"]
            if "delong_seconds" in res and r["vigil_s"]:
                lines.append(
                    f"- AUC + DeLong at {r['size']}: the peer's time is sklearn `roc_auc_score` "
                    f"{fmt_s(res['sklearn_seconds'])} s + mid-rank DeLong {fmt_s(res['delong_seconds'])} s; "
                    f"against the DeLong part alone (which also yields the AUC) the speed-up is "
                    f"{fmt_ratio(res['delong_seconds'] / r['vigil_s'])}."
                )
    errs = [(r["work"], r["size"], e) for r in results for e in r["errors"]]
    if errs:
        lines += ["", "Errors:", ""] + [f"- {w} at {s}: {e}" for w, s, e in errs]
    agree_lines = []
    for row in rows:
        a = row.agreement()
        if a:
            worst = max(a.items(), key=lambda kv: kv[1][2])
            shown = ", ".join(f"{k} {d:.2g}" for k, (_, _, d) in list(a.items())[:8])
            agree_lines.append(
                f"- {row.work} at {fmt_n(row.n)}: {len(a)} common fields; largest |difference| "
                f"{worst[1][2]:.3g} in `{worst[0]}` (vigil {worst[1][0]:.10g}, peer {worst[1][1]:.10g}). {shown}"
            )
    if agree_lines:
        lines += ["", "Agreement of results (numeric fields with the same name on both sides):", ""] + agree_lines
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000,10000000",
                    help="comma-separated case counts for the AUC/DeLong rows (default 1000000,10000000)")
    ap.add_argument("--csv-size", type=int, default=1_000_000, help="cases for the CSV and end-to-end rows")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: sizes 100000, CSV/end-to-end at 100000 (targets are not meaningful)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; the table shows the median")
    ap.add_argument("--peers-only", action="store_true", help="run only the Python peers (no Vigil binaries needed)")
    ap.add_argument("--bin-dir", type=pathlib.Path, default=ROOT / "target" / "release",
                    help="directory holding vigil and vigil-bench (default target/release)")
    ap.add_argument("--output", type=pathlib.Path, default=BENCH / "results.md")
    args = ap.parse_args()
    global VIGIL, VIGIL_BENCH
    VIGIL = args.bin_dir.resolve() / "vigil"
    VIGIL_BENCH = args.bin_dir.resolve() / "vigil-bench"
    if args.quick:
        args.sizes = "100000"
        args.csv_size = 100_000
    try:
        args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error("--sizes must be comma-separated integers")
    if not args.sizes or min(args.sizes) < 10 or args.repeat < 1:
        ap.error("sizes must be >= 10 and --repeat >= 1")

    if not args.peers_only:
        missing = [p for p in (VIGIL_BENCH, VIGIL) if not p.is_file()]
        if missing:
            sys.exit(
                "missing " + ", ".join(os.path.relpath(p, ROOT) for p in missing)
                + "\nbuild them first:  cargo build --release -p vigil -p vigil-bench"
                + "\n(or run with --peers-only to measure only the Python side)"
            )

    info = {
        "started": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "argv": [pathlib.Path(sys.executable).name] + [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:],
        "machine": machine(),
    }
    subreaper = enable_subreaper()
    floor = run_child(["/bin/true"] if os.path.exists("/bin/true") else [sys.executable, "-c", "pass"])
    info["rss_method"] = "subreaper" if subreaper else "direct"
    info["rss_floor_mb"] = floor["peak_mb"]
    WORK.mkdir(parents=True, exist_ok=True)
    print("preparing data ...", flush=True)
    rows = build_rows(args.sizes, args.csv_size, BOOT_N)

    for row in rows:
        for i in range(args.repeat):
            label = f"{row.work} @ {fmt_n(row.n)}" + (f" (run {i + 1}/{args.repeat})" if args.repeat > 1 else "")
            if row.kind in ("e2e", "csv"):
                warm(row.data_dir / "cases.csv")
            if not args.peers_only:
                print(f"  vigil  {label} ...", end="", flush=True)
                rec = run_child(row.vigil_cmd)
                row.vigil_runs.append(rec)
                print(f" {rec.get('error') or fmt_s(row._seconds(rec)) + ' s'}, peak {rec['peak_mb']:.0f} MB", flush=True)
            print(f"  peer   {label} ...", end="", flush=True)
            rec = run_child(row.peer_cmd)
            row.peer_runs.append(rec)
            print(f" {rec.get('error') or fmt_s(row._seconds(rec)) + ' s'}, peak {rec['peak_mb']:.0f} MB", flush=True)

    results = [row.evaluate(args.peers_only) for row in rows]
    text = render(results, info, args, args.peers_only, rows)
    print()
    print(text)
    args.output.write_text(text)
    raw = {
        "info": info,
        "rows": [
            {"work": row.work, "n": row.n, "vigil": row.vigil_runs, "peer": row.peer_runs, "summary": res}
            for row, res in zip(rows, results)
        ],
    }
    (WORK / "last-run.json").write_text(json.dumps(raw, indent=2, default=str) + "\n")
    print(f"wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output} "
          f"and {(WORK / 'last-run.json').relative_to(ROOT)}")
    if any(r["met"].startswith("no") or r["met"] == "error" for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
