"""Batch throughput: many 30-s drum files, sequential vs local workers vs a Dask cluster.

Material: ``--files`` (default 20) files of ``--seconds`` (default 30) s rendered into a
temporary folder from ``data/drum_loop.wav``: each file is the loop tiled to length,
rotated by a different offset, at a different gain, with a little seeded noise (so no two
files are alike).  The job is ``nmfaudio drums`` with its defaults.

Rows (each a fresh run; files per minute = files / wall time × 60):

* ``single files, warm process`` — ``batch.run_task`` on each file in turn in this
  process, after one warm-up file: the sum of the single-file separation times (load,
  separate, write), which the batch rows are compared with;
* ``CLI, --jobs 1`` — ``python -m nmfaudio drums DIR -o OUT --jobs 1``: one process,
  files in turn (start-up, imports and manifest included);
* ``CLI, --jobs 2`` — two local worker processes (one compute thread each);
* ``CLI, Dask 2 workers (new workers)`` — ``--scheduler`` on a ``LocalCluster(n_workers=2,
  threads_per_worker=1)`` started here (its start-up is timed apart, not in the row; the
  workers import nmfaudio at their first file);
* ``CLI, Dask 2 workers (warm workers)`` — the same batch again on the same cluster, as on
  a long-lived cluster whose workers have already imported everything.

``CPU s``: the CPU seconds (all threads) the files took in the processes that separated
them, summed over files (first files' imports included) — less sensitive than wall time to
other load on the machine, and the measure of how well each way uses the cores.

``ratio`` is the row's wall time over the sum of single-file times (target ≤ 1.10).
Per-worker start-up: for each worker process (the records' ``worker``), its first file's
time minus the median of its other files: imports and the loading of the compiled kernels,
paid once per worker, not per file.

    python benchmarks/batch.py                  # 20 files of 30 s
    python benchmarks/batch.py --files 6 --seconds 10   # quick look
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def render(folder: Path, n_files: int, seconds: float, seed: int = 0) -> list[Path]:
    """``n_files`` variations of the bundled drum loop, ``seconds`` long each (float WAV)."""
    import nmfaudio

    loop, sr = nmfaudio.load(ROOT / "data" / "drum_loop.wav")
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    paths = []
    for i in range(n_files):
        tiled = np.tile(loop, n // loop.size + 2)
        start = int(rng.integers(0, loop.size))
        y = rng.uniform(0.5, 0.9) * tiled[start:start + n] + 1e-3 * rng.standard_normal(n)
        path = folder / f"loop_{i:03d}.wav"
        nmfaudio.save(path, y.astype(np.float32), sr)
        paths.append(path)
    return paths


def single_files(paths, out: Path) -> tuple[list[float], list[float]]:
    """Per-file wall and CPU times of batch.run_task in this (warmed-up) process."""
    from nmfaudio import batch

    tasks = batch.plan(paths, out, job="drums")
    batch.run_task(batch.plan([paths[0]], out / "warm-up", job="drums")[0])  # imports, compiled kernels
    times, cpu = [], []
    for task in tasks:
        started, started_cpu = time.perf_counter(), time.process_time()
        batch.run_task(task)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return times, cpu


def _records_cpu(records) -> float:
    """CPU seconds the files took in their processes (the records' ``cpu_seconds``)."""
    return sum(record["cpu_seconds"] for record in records)


def cli(folder: Path, out: Path, *extra) -> tuple[float, list[dict]]:
    """Wall time of one CLI batch run and its JSON records."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nmfaudio", "drums", str(folder), "-o", str(out), "--json", *extra],
                          capture_output=True, text=True, cwd=ROOT, env={**_env(), "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"CLI failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return wall, [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def _env():
    import os

    return dict(os.environ)


def startup_per_worker(records) -> list[float]:
    """First file's time minus the median of the others, per worker process."""
    by_worker: dict[str, list[float]] = {}
    for record in records:
        by_worker.setdefault(record["worker"], []).append(record["seconds"])
    # records arrive in finishing order, which is each worker's own order
    return [times[0] - statistics.median(times[1:]) for times in by_worker.values() if len(times) > 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()

    from _machine import machine_lines

    print("\n".join(machine_lines()))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "in"
        folder.mkdir()
        paths = render(folder, args.files, args.seconds)
        print(f"{args.files} files of {args.seconds:g} s (drum_loop.wav variations), job: nmfaudio drums (defaults)\n")

        times, single_cpu = single_files(paths, tmp / "single")
        total = sum(times)
        rows = [("single files, warm process", total, None, sum(single_cpu))]
        print(f"single-file separation: median {statistics.median(times):.2f} s per file, sum {total:.1f} s")

        for jobs in ("1", "2"):
            wall, records = cli(folder, tmp / f"jobs{jobs}", "--jobs", jobs)
            rows.append((f"CLI, --jobs {jobs}", wall, records, _records_cpu(records)))

        from distributed import LocalCluster

        started = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            cluster_start = time.perf_counter() - started
            wall, records = cli(folder, tmp / "dask", "--scheduler", cluster.scheduler_address)
            rows.append(("CLI, Dask 2 workers (new workers)", wall, records, _records_cpu(records)))
            # a long-lived cluster's workers have imported everything already: the same batch again
            wall, records = cli(folder, tmp / "dask-warm", "--scheduler", cluster.scheduler_address)
            rows.append(("CLI, Dask 2 workers (warm workers)", wall, records, _records_cpu(records)))
        print(f"Dask LocalCluster start-up (not in its rows): {cluster_start:.1f} s\n")

        reference = {}
        for name in ("jobs1", "jobs2", "dask", "dask-warm"):
            reference[name] = sorted((p.name, p.read_bytes()) for p in (tmp / name).glob("*.wav"))
        identical = reference["jobs1"] == reference["jobs2"] == reference["dask"] == reference["dask-warm"]

        print("| run | wall s | files/min | ratio to sum of single files | median s per file | CPU s | "
              "per-worker start-up s |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for name, wall, records, cpu in rows:
            startup = "" if records is None else ", ".join(f"{s:.1f}" for s in startup_per_worker(records))
            median = statistics.median(times if records is None else [r["seconds"] for r in records])
            cpu_text = "" if cpu is None else f"{cpu:.1f}"
            print(f"| {name} | {wall:.1f} | {args.files / wall * 60:.1f} | {wall / total:.2f} | {median:.2f} | "
                  f"{cpu_text} | {startup} |")
        jobs1 = rows[1][1]
        print(f"\nper-file overhead of the sequential batch: {(jobs1 - total) / args.files:.2f} s "
              f"(({jobs1:.1f} - {total:.1f}) / {args.files}, start-up included)")
        print(f"outputs byte-identical across --jobs 1, --jobs 2 and Dask: {identical}")


if __name__ == "__main__":
    main()
