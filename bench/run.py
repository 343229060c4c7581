#!/usr/bin/env python3
"""Run the Vigil benchmarks side by side with their Python peers, once.

    bench/.venv/bin/python bench/run.py [--suite all|core|drift]
                                        [--sizes 1000000,10000000] [--quick]
                                        [--repeat K] [--peers-only]

Two suites: `core` (AUC, DeLong, bootstrap, CSV, end to end; peers from
`bench/.venv`, results in `bench/results.md`) and `drift` (drift and CBPE
against Evidently and NannyML, each peer run with its own venv's Python,
`--evidently-python` and `--nannyml-python`; results in
`bench/results-drift.md`). `--suite all`, the default, runs both.

Needs the release binaries (this script builds nothing):

    cargo build --release -p vigil -p vigil-bench

and the peer venvs:

    python3 -m venv bench/.venv && bench/.venv/bin/pip install -r bench/requirements.txt
    python3 -m venv bench/.venv-evidently && \
        bench/.venv-evidently/bin/pip install -r bench/requirements-evidently.txt
    python3 -m venv bench/.venv-nannyml && \
        bench/.venv-nannyml/bin/pip install -r bench/requirements-nannyml.txt

Data are generated with `make_data.py` into `bench/.work/` (git-ignored) and
reused while their `meta.json` matches. Every measurement is a separate child
process, run one after another (never concurrently), and its peak resident set
size comes from `os.wait4` on that child alone. Compute seconds come from the
child's own JSON (`{"seconds": ..., "result": ...}`), which excludes input
loading; the end-to-end row uses the wall time of the whole child process.

The Markdown tables are printed and written to `bench/results.md` and
`bench/results-drift.md`; the raw per-child records go to
`bench/.work/last-run.json` and `bench/.work/last-run-drift.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import math
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
DRIFT_EVIDENTLY_SPEEDUP = 20.0  # drift of 10 columns vs Evidently's DataDriftPreset report
DRIFT_NANNYML_SPEEDUP = 5.0  # drift of 10 columns vs NannyML's univariate drift calculator
CBPE_NANNYML_SPEEDUP = 10.0  # CBPE vs NannyML's CBPE (fit + estimate)
DRIFT_TARGET_SIZE = 1_000_000  # drift/CBPE targets are defined at 10^6 reference + 10^6 analysis rows
DRIFT_GENERATOR_VERSION = 1

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


# --------------------------------------------------------------------------
# Drift and CBPE suite (Evidently and NannyML peers, each in its own venv)
# --------------------------------------------------------------------------


def _python_has_numpy(python: str) -> bool:
    try:
        return subprocess.run([python, "-c", "import numpy"], capture_output=True, cwd=ROOT).returncode == 0
    except OSError:
        return False


def ensure_drift_data(n: int, fallback_python: str) -> pathlib.Path:
    """Generate (or reuse) the drift/CBPE inputs for n reference and n analysis rows."""
    d = WORK / f"drift-n{n}"
    meta_path = d / "meta.json"
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
            if (
                meta.get("n") == n
                and meta.get("seed") == SEED
                and meta.get("generator_version") == DRIFT_GENERATOR_VERSION
                and (d / "columns.tsv").exists()
                and (d / "cbpe_analysis_scores.f64").exists()
            ):
                return d
        except (OSError, ValueError):
            pass
    # The generator needs only NumPy: this interpreter if it has it, else a peer venv's.
    python = sys.executable if _python_has_numpy(sys.executable) else fallback_python
    print(f"  generating drift/CBPE data, {n:,} + {n:,} rows, into {d.relative_to(ROOT)} ...", flush=True)
    subprocess.run([python, str(BENCH / "make_drift_data.py"), "--n", str(n), "--out", str(d), "--seed", str(SEED)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return d


def peer_versions(python: str, packages: list[str]) -> dict:
    """Versions of the given packages in another interpreter, plus its Python version."""
    code = (
        "import importlib.metadata as m, json, platform\n"
        "out = {'python': platform.python_version()}\n"
        f"for p in {packages!r}:\n"
        "    try:\n"
        "        out[p] = m.version(p)\n"
        "    except m.PackageNotFoundError:\n"
        "        out[p] = 'not installed'\n"
        "print(json.dumps(out))\n"
    )
    try:
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
        return json.loads(done.stdout)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return {"python": "unavailable"}


class Measurement:
    """One program run `repeat` times; several table rows may share it."""

    def __init__(self, side: str, name: str, cmd: list):
        self.side = side
        self.name = name
        self.cmd = cmd
        self.runs: list[dict] = []

    def seconds(self):
        secs = []
        for r in self.runs:
            try:
                secs.append(float(r["json"]["seconds"]))
            except (KeyError, TypeError, ValueError):
                pass
        return statistics.median(secs) if secs else None

    def wall(self):
        walls = [r["wall_s"] for r in self.runs if "error" not in r]
        return statistics.median(walls) if walls else None

    def peak(self):
        peaks = [r["peak_mb"] for r in self.runs if "error" not in r]
        return max(peaks) if peaks else None

    def errors(self):
        return [r["error"] for r in self.runs if "error" in r]

    def result(self) -> dict:
        for r in self.runs:
            if "json" in r:
                return r["json"].get("result", {})
        return {}


class DriftRow:
    def __init__(self, work: str, vigil: Measurement, peer: Measurement, peer_label: str, target):
        self.work = work
        self.vigil = vigil
        self.peer = peer
        self.peer_label = peer_label
        self.target = target  # required speed-up, or None for an information row

    def evaluate(self, peers_only: bool) -> dict:
        vs, ps = self.vigil.seconds(), self.peer.seconds()
        ratio = ps / vs if (vs and ps) else None
        errors = self.vigil.errors() + self.peer.errors()
        if errors:
            met = "error"
        elif self.target is None:
            met = "—"
        elif peers_only or ratio is None:
            met = "—"
        else:
            met = "yes" if ratio >= self.target else "no (speed)"
        return {
            "work": self.work,
            "peer": self.peer_label,
            "vigil_s": vs,
            "peer_s": ps,
            "ratio": ratio,
            "vigil_peak_mb": self.vigil.peak(),
            "peer_peak_mb": self.peer.peak(),
            "peer_wall_s": self.peer.wall(),
            "target": f"≥{self.target:g}×" if self.target is not None else "info",
            "met": met,
            "errors": errors,
        }


# Evidently reports the Jensen-Shannon distance with natural logarithms; this
# factor turns it into the base-2 distance that Vigil, NannyML and SciPy report.
JS_BASE_E_TO_2 = 1.0 / math.sqrt(math.log(2.0))


def comparable(result: dict) -> dict:
    """Flattened numeric fields, with Evidently's base-e Jensen-Shannon converted to base 2."""
    flat = flatten(result)
    for key in list(flat):
        if key.endswith(".jensen_shannon_base_e"):
            flat[key[: -len("_base_e")]] = flat.pop(key) * JS_BASE_E_TO_2
    return flat


def drift_suite(args, info: dict) -> tuple[str, bool, dict]:
    """Run the drift and CBPE measurements; return (markdown, any failure, raw records)."""
    n = args.drift_size
    evidently_py, nannyml_py = str(args.evidently_python), str(args.nannyml_python)
    missing = [p for p in (evidently_py, nannyml_py) if not pathlib.Path(p).is_file()]
    if missing:
        sys.exit(
            "missing peer interpreter(s): " + ", ".join(missing)
            + "\ncreate the venvs first (see bench/README.md):"
            + "\n  python3 -m venv bench/.venv-evidently && "
            "bench/.venv-evidently/bin/pip install -r bench/requirements-evidently.txt"
            + "\n  python3 -m venv bench/.venv-nannyml && "
            "bench/.venv-nannyml/bin/pip install -r bench/requirements-nannyml.txt"
            + "\n(or pass --evidently-python / --nannyml-python, or run --suite core)"
        )
    print("preparing drift/CBPE data ...", flush=True)
    d = ensure_drift_data(n, nannyml_py)
    peers = str(BENCH / "peers_drift.py")

    vigil_drift = Measurement("vigil", "vigil-bench drift", [VIGIL_BENCH, "drift", "--dir", d])
    vigil_cbpe = Measurement("vigil", "vigil-bench cbpe", [VIGIL_BENCH, "cbpe", "--dir", d])
    evidently = Measurement("peer", "evidently-drift", [evidently_py, peers, "evidently-drift", "--dir", d])
    nannyml = Measurement("peer", "nannyml-drift", [nannyml_py, peers, "nannyml-drift", "--dir", d])
    nannyml_category = Measurement("peer", "nannyml-drift (category dtype)",
                                   [nannyml_py, peers, "nannyml-drift", "--dir", d, "--categorical", "category"])
    nannyml_exact = Measurement("peer", "nannyml-drift-exact", [nannyml_py, peers, "nannyml-drift-exact", "--dir", d])
    scipy_drift = Measurement("peer", "scipy-drift", [nannyml_py, peers, "scipy-drift", "--dir", d])
    nannyml_cbpe = Measurement("peer", "nannyml-cbpe", [nannyml_py, peers, "nannyml-cbpe", "--dir", d])
    nannyml_cbpe_raw = Measurement("peer", "nannyml-cbpe-uncalibrated",
                                   [nannyml_py, peers, "nannyml-cbpe-uncalibrated", "--dir", d])
    on_target = n == DRIFT_TARGET_SIZE
    rows = [
        DriftRow("drift, 10 columns", vigil_drift, evidently, "Evidently `DataDriftPreset` report",
                 DRIFT_EVIDENTLY_SPEEDUP if on_target else None),
        DriftRow("drift, 10 columns", vigil_drift, nannyml, "NannyML univariate drift, fit + calculate",
                 DRIFT_NANNYML_SPEEDUP if on_target else None),
        DriftRow("drift, 10 columns", vigil_drift, nannyml_category,
                 "NannyML univariate drift, categorical columns as pandas `category` of names", None),
        DriftRow("drift, 10 columns", vigil_drift, nannyml_exact,
                 "NannyML univariate drift, exact KS and Wasserstein", None),
        DriftRow("drift, 10 columns", vigil_drift, scipy_drift, "SciPy/NumPy, the same statistics as Vigil", None),
        DriftRow("CBPE", vigil_cbpe, nannyml_cbpe, "NannyML CBPE, fit + estimate",
                 CBPE_NANNYML_SPEEDUP if on_target else None),
        DriftRow("CBPE", vigil_cbpe, nannyml_cbpe_raw, "NannyML CBPE, fit + estimate, no calibration", None),
    ]
    order = [vigil_drift, evidently, nannyml, nannyml_category, nannyml_exact, scipy_drift, vigil_cbpe, nannyml_cbpe,
             nannyml_cbpe_raw]
    if args.peers_only:
        order = [m for m in order if m.side != "vigil"]
    files = sorted(p for p in d.iterdir() if p.suffix in (".f64", ".u8"))
    for i in range(args.repeat):
        for m in order:
            for f in files:
                warm(f)
            label = m.name + (f" (run {i + 1}/{args.repeat})" if args.repeat > 1 else "")
            print(f"  {m.side:<6} {label} @ {fmt_n(n)} ...", end="", flush=True)
            rec = run_child(m.cmd)
            m.runs.append(rec)
            secs = rec.get("json", {}).get("seconds") if "json" in rec else None
            print(f" {rec.get('error') or fmt_s(secs) + ' s'}, wall {rec['wall_s']:.1f} s, "
                  f"peak {rec['peak_mb']:.0f} MB", flush=True)

    results = [row.evaluate(args.peers_only) for row in rows]
    evidently_v = peer_versions(evidently_py, ["evidently", "pandas", "numpy", "scipy"])
    nannyml_v = peer_versions(nannyml_py, ["nannyml", "pandas", "numpy", "scipy", "statsmodels", "scikit-learn"])
    text = render_drift(results, rows, info, args, n, d, evidently_v, nannyml_v,
                        [vigil_drift, evidently, nannyml, nannyml_exact, scipy_drift], [vigil_cbpe, nannyml_cbpe, nannyml_cbpe_raw])
    failed = any(r["met"].startswith("no") or r["met"] == "error" for r in results)
    raw = {
        "info": info,
        "versions": {"evidently_venv": evidently_v, "nannyml_venv": nannyml_v},
        "measurements": {m.name: {"cmd": [str(c) for c in m.cmd], "runs": m.runs} for m in order},
        "rows": results,
    }
    return text, failed, raw


DRIFT_DEFINITIONS = [
    "",
    "What each side computes (details in `bench/README.md`, section *Drift and CBPE suite*):",
    "",
    "- **Vigil drift** (`vigil-bench drift`, vigil-stats): per numeric column the two-sample Kolmogorov-Smirnov "
    "statistic and p-value (limiting Kolmogorov distribution, as m·n > 10^7), the Wasserstein-1 distance and the "
    "PSI (10 bins at the reference deciles, ε = 10^-4); per categorical column the category counts, the chi-square "
    "test of homogeneity (no continuity correction) and the base-2 Jensen-Shannon distance. All exact, on all rows. "
    "One worker thread per core takes the next column; inside a column each sample is sorted once (a radix sort) "
    "and KS, Wasserstein and PSI share it.",
    "- **Evidently** (`DataDriftPreset`, defaults): `Dataset.from_pandas` for both periods, then the report; one "
    "statistic per column: Wasserstein distance divided by the reference standard deviation (numeric) or base-e "
    "Jensen-Shannon distance (categorical), threshold 0.1, and the share of drifted columns.",
    "- **NannyML** (`UnivariateDriftCalculator`, `fit` + `calculate`, whole analysis period as one chunk): KS and "
    "Wasserstein on numeric columns, chi-square and base-2 Jensen-Shannon on categorical ones (Vigil's statistics "
    "less PSI). Its default computation with ≥ 10,000 reference rows approximates KS D and Wasserstein on a "
    "10,000-bin equal-width histogram of the reference range and gives no KS p-value; its chi-square uses "
    "Yates' correction for two categories (`sex`). `fit` also evaluates every method on the reference itself for "
    "the alert thresholds. The *exact* row makes it call SciPy's `ks_2samp` and `wasserstein_distance`. "
    "Categorical columns are int64 codes (what Vigil reads too) except in the `category` row, where they are "
    "pandas `category` columns of the names, which NannyML's Jensen-Shannon sorts as strings.",
    "- **SciPy/NumPy**: Vigil's statistics one library call each, single-threaded (`ks_2samp`, "
    "`scipy.special.kolmogorov`, `wasserstein_distance`, a NumPy PSI, `chi2_contingency(correction=False)`, "
    "`jensenshannon(base=2)`).",
    "- **Vigil CBPE** (`vigil-bench cbpe`): `estimate_performance` at threshold 0.5 on the reference and on the "
    "analysis period (expected confusion counts, sensitivity, specificity, PPV, expected ROC AUC).",
    "- **NannyML CBPE** (`fit` + `estimate`, one chunk; ROC AUC, precision, recall, specificity, confusion "
    "matrix): `fit` also computes realised reference metrics, sampling errors and thresholds, and runs a 10-fold "
    "isotonic calibration check; if that asks for it, an isotonic calibrator is fitted and applied to the "
    "analysis scores. The *no calibration* row passes NannyML's no-op calibrator, which is Vigil's assumption.",
]


# The sources that the drift and CBPE figures depend on: the statistics used
# and the benchmark program.
DRIFT_SOURCES = [
    "crates/vigil-stats/src/drift.rs",
    "crates/vigil-stats/src/cbpe.rs",
    "crates/vigil-stats/src/distributions.rs",
    "crates/vigil-stats/src/sample.rs",
    "crates/vigil-bench",
]


def _dirty(paths: list[str]) -> str:
    """A note naming those of the given paths that differ from the committed tree."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", *paths], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    changed = sorted({p for p in paths if any(line[3:].startswith(p) for line in out.splitlines())})
    return f" (with uncommitted changes in {', '.join(changed)})" if changed else ""


def render_drift(results, rows, info, args, n, d, evidently_v, nannyml_v, drift_ms, cbpe_ms) -> str:
    m = info["machine"]
    meta = json.loads((d / "meta.json").read_text())
    lines = [
        "# Vigil drift and CBPE benchmark results",
        "",
        f"Run {info['started']} on {m['model']}, {m['nproc']} logical CPUs"
        + (f" ({m['cpus_usable']} usable)" if m["cpus_usable"] and m["cpus_usable"] != m["nproc"] else "")
        + (f", {m['mem_gib']:.0f} GiB RAM" if m["mem_gib"] else "")
        + f", Linux {m['kernel']}; load average {info.get('loadavg', '?')} at the start."
        + (f" Vigil at git {m['git']}{_dirty(DRIFT_SOURCES)}." if m["git"] else ""),
        f"Evidently venv: Python {evidently_v.get('python')}, "
        + ", ".join(f"{k} {v}" for k, v in evidently_v.items() if k != "python") + ".",
        f"NannyML venv (also runs the SciPy row): Python {nannyml_v.get('python')}, "
        + ", ".join(f"{k} {v}" for k, v in nannyml_v.items() if k != "python") + ".",
        f"Command: `{' '.join(info['argv'])}`; each figure is the median of {args.repeat} run(s); "
        "each run is a separate child process, one at a time.",
        f"Data: {fmt_n(n)} reference rows and {fmt_n(n)} analysis rows of {len(meta['numeric'])} numeric and "
        f"{len(meta['categorical'])} categorical columns (`make_drift_data.py`, seed {meta['seed']}); planted "
        f"shifts in {', '.join(meta['shifted'])}. CBPE: {fmt_n(n)} + {fmt_n(n)} calibrated probabilities, "
        f"prevalence {meta['cbpe_reference_prevalence']:.3f} (reference) and "
        f"{meta['cbpe_analysis_prevalence']:.3f} (analysis).",
    ]
    if args.peers_only:
        lines += ["", "**Peers only: the Vigil side was not run.**"]
    if n != DRIFT_TARGET_SIZE:
        lines += ["", f"**Note:** the targets are defined at 10^6 + 10^6 rows; this run used {fmt_n(n)} + "
                      f"{fmt_n(n)}, so they were not checked."]
    lines += [
        "",
        "| work | peer | vigil s | peer s | speed-up | vigil peak MB | peer peak MB | peer process wall s "
        "| target | met? |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['work']} | {r['peer']} | {fmt_s(r['vigil_s'])} | {fmt_s(r['peer_s'])} | {fmt_ratio(r['ratio'])} | "
            f"{fmt_mb(r['vigil_peak_mb'])} | {fmt_mb(r['peer_peak_mb'])} | {fmt_s(r['peer_wall_s'])} | "
            f"{r['target']} | {r['met']} |"
        )
    lines += [
        "",
        "Notes:",
        "",
        "- *vigil s* / *peer s*: compute seconds reported by the child itself, excluding reading the input "
        "files and building the DataFrames; *speed-up* = peer s / vigil s. *peer process wall s* is the "
        "whole peer process, including Python start-up, imports and loading. *peak MB* is the peak resident "
        "set size of that child alone, in 10^6 bytes, and includes the interpreter and imported libraries "
        f"for the peers; measurement floor (`/bin/true`) {info['rss_floor_mb']:.1f} MB.",
    ]
    ev = next((ms.result() for ms in drift_ms if ms.name == "evidently-drift"), {})
    if "report_seconds" in ev:
        lines.append(f"- Evidently: `Dataset.from_pandas` {fmt_s(ev.get('dataset_seconds'))} s, report run and "
                     f"`snapshot.dict()` {fmt_s(ev.get('report_seconds'))} s.")
    cb = next((ms.result() for ms in cbpe_ms if ms.name == "nannyml-cbpe"), {})
    if "needs_calibration" in cb:
        lines.append(f"- NannyML CBPE decided that the reference scores need calibration: "
                     f"{'yes (it fitted an isotonic calibrator and applied it to the analysis scores)' if cb['needs_calibration'] else 'no'}.")
    lines += DRIFT_DEFINITIONS
    errs = [(r["work"], r["peer"], e) for r in results for e in r["errors"]]
    if errs:
        lines += ["", "Errors:", ""] + [f"- {w} / {p}: {e}" for w, p, e in errs]

    # Every statistic side by side.
    for title, measurements in (("Drift statistics", drift_ms), ("CBPE estimates of the analysis period", cbpe_ms)):
        flats = [(ms.name, comparable(ms.result())) for ms in measurements if ms.result()]
        if len(flats) < 2:
            continue
        keys = []
        for _, flat in flats:
            for k in flat:
                if k not in keys:
                    keys.append(k)
        skip = ("seconds", "columns", "reference_rows", "workers", "threshold", "cases", "alerts",
                "drifted_columns", "drifted_share", "chi2_dof")
        keys = [k for k in keys if not k.split(".")[-1].endswith(skip) and sum(k in f for _, f in flats) >= 2]
        if title.startswith("CBPE"):
            keys = [k for k in keys if k.startswith("analysis.")]
        if not keys:
            continue
        note = ("fields with the same definition; Evidently's base-e Jensen-Shannon converted to base 2"
                if title.startswith("Drift") else "fields with the same definition")
        lines += ["", f"{title} ({note}):", "",
                  "| field | " + " | ".join(name for name, _ in flats) + " |",
                  "|---|" + "---|" * len(flats)]
        for k in keys:
            lines.append(f"| {k} | " + " | ".join(f"{f[k]:.6g}" if k in f else "—" for _, f in flats) + " |")
        base = flats[0][1]
        for name, flat in flats[1:]:
            common = [k for k in keys if k in base and k in flat]
            if not common:
                continue
            worst = max(common, key=lambda k: abs(base[k] - flat[k]) / max(abs(base[k]), abs(flat[k]), 1e-12))
            rel = abs(base[worst] - flat[worst]) / max(abs(base[worst]), abs(flat[worst]), 1e-12)
            lines.append("")
            lines.append(f"{flats[0][0]} vs {name}: {len(common)} common fields; largest relative difference "
                         f"{rel:.3g} in `{worst}` ({base[worst]:.10g} vs {flat[worst]:.10g}).")
    return "\n".join(lines) + "\n"


def _rel(path: pathlib.Path) -> str:
    path = path.absolute()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", choices=("all", "core", "drift"), default="all",
                    help="core: AUC/DeLong/bootstrap/CSV/end-to-end; drift: drift and CBPE against Evidently and "
                         "NannyML; all (default): both")
    ap.add_argument("--sizes", default="1000000,10000000",
                    help="comma-separated case counts for the AUC/DeLong rows (default 1000000,10000000)")
    ap.add_argument("--csv-size", type=int, default=1_000_000, help="cases for the CSV and end-to-end rows")
    ap.add_argument("--drift-size", type=int, default=DRIFT_TARGET_SIZE,
                    help="rows in each of the reference and analysis periods of the drift/CBPE suite (default 10^6)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: every size 100000 (targets are not meaningful)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; the table shows the median")
    ap.add_argument("--peers-only", action="store_true", help="run only the Python peers (no Vigil binaries needed)")
    ap.add_argument("--bin-dir", type=pathlib.Path, default=ROOT / "target" / "release",
                    help="directory holding vigil and vigil-bench (default target/release)")
    ap.add_argument("--evidently-python", type=pathlib.Path, default=BENCH / ".venv-evidently" / "bin" / "python",
                    help="interpreter of the Evidently venv (default bench/.venv-evidently/bin/python)")
    ap.add_argument("--nannyml-python", type=pathlib.Path, default=BENCH / ".venv-nannyml" / "bin" / "python",
                    help="interpreter of the NannyML venv, also used for the SciPy drift row "
                         "(default bench/.venv-nannyml/bin/python)")
    ap.add_argument("--output", type=pathlib.Path, default=BENCH / "results.md", help="core suite's table")
    ap.add_argument("--drift-output", type=pathlib.Path, default=BENCH / "results-drift.md",
                    help="drift suite's table")
    args = ap.parse_args()
    global VIGIL, VIGIL_BENCH
    VIGIL = args.bin_dir.resolve() / "vigil"
    VIGIL_BENCH = args.bin_dir.resolve() / "vigil-bench"
    if args.quick:
        args.sizes = "100000"
        args.csv_size = 100_000
        args.drift_size = 100_000
    try:
        args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error("--sizes must be comma-separated integers")
    if not args.sizes or min(args.sizes) < 10 or args.repeat < 1 or args.drift_size < 10:
        ap.error("sizes must be >= 10 and --repeat >= 1")
    core = args.suite in ("all", "core")
    drift = args.suite in ("all", "drift")
    # The peer scripts set these too; NannyML must never try to send usage statistics.
    os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
    os.environ["DO_NOT_TRACK"] = "1"

    if not args.peers_only:
        needed = ([VIGIL_BENCH, VIGIL] if core else [VIGIL_BENCH])
        missing = [p for p in needed if not p.is_file()]
        if missing:
            sys.exit(
                "missing " + ", ".join(os.path.relpath(p, ROOT) for p in missing)
                + "\nbuild them first:  cargo build --release -p vigil -p vigil-bench"
                + "\n(or run with --peers-only to measure only the Python side)"
            )

    info = {
        "started": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "argv": [_rel(pathlib.Path(sys.executable)) if pathlib.Path(sys.executable).is_relative_to(ROOT)
                 else pathlib.Path(sys.executable).name] + [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:],
        "machine": machine(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?",
    }
    subreaper = enable_subreaper()
    floor = run_child(["/bin/true"] if os.path.exists("/bin/true") else [sys.executable, "-c", "pass"])
    info["rss_method"] = "subreaper" if subreaper else "direct"
    info["rss_floor_mb"] = floor["peak_mb"]
    WORK.mkdir(parents=True, exist_ok=True)
    failed = False

    if core:
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
                    print(f" {rec.get('error') or fmt_s(row._seconds(rec)) + ' s'}, peak {rec['peak_mb']:.0f} MB",
                          flush=True)
                print(f"  peer   {label} ...", end="", flush=True)
                rec = run_child(row.peer_cmd)
                row.peer_runs.append(rec)
                print(f" {rec.get('error') or fmt_s(row._seconds(rec)) + ' s'}, peak {rec['peak_mb']:.0f} MB",
                      flush=True)

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
        print(f"wrote {_rel(args.output)} and {_rel(WORK / 'last-run.json')}")
        failed |= any(r["met"].startswith("no") or r["met"] == "error" for r in results)

    if drift:
        text, drift_failed, raw = drift_suite(args, info)
        print()
        print(text)
        args.drift_output.write_text(text)
        (WORK / "last-run-drift.json").write_text(json.dumps(raw, indent=2, default=str) + "\n")
        print(f"wrote {_rel(args.drift_output)} and {_rel(WORK / 'last-run-drift.json')}")
        failed |= drift_failed

    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
