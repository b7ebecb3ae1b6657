"""The start-up of ``nmfaudio drums FILE -o OUT`` from a shell: how long a new process takes
to reach the fit's first iteration, and how much of it Python's cyclic garbage collector
took (docs/performance.md, the speed48 round).

Each run is a new process started as ``python -m nmfaudio`` is (``nmfaudio.cli.run``, with
``PYTHONPATH=TREE`` and without ``PYTHONDONTWRITEBYTECODE``, as ``benchmarks/drums.py``'s
shell rows), through a small launcher that first wraps the CLI's progress callback (so
nothing heavy is imported before ``run()``) and counts the collector's passes.  Per run:
wall and main-thread CPU from the launcher's first line to the fit's first iteration
(imports, parser, reading, numba's first kernel loads, the STFT) and the whole process's CPU
(all threads: work moved off the main thread shows here; docs/performance.md, the speed49
round), the collector's passes
and time in that stretch and in the whole run, and the whole run's wall.  With
``--compare PATH`` the two trees alternate (each going first in turn); the table gives
medians and the median of the pairs' ratios (this / --compare).

    python benchmarks/startup.py FILE.wav                              # this checkout, 8 runs
    python benchmarks/startup.py FILE.wav --compare /tmp/main --pairs 12

FILE: any recording; the speed rows' inputs are made by ``benchmarks/drums.py``
(``_speed_files``: the 3-minute performance at 22.05 and 44.1 kHz, the stereo song).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Run in the child: time to the first iteration of the fit, the collector's passes.
LAUNCHER = r"""
import gc, json, sys, threading, time
T0, C0, P0 = time.perf_counter(), time.thread_time(), time.process_time()
passes, started, first = [], {}, {}
def count(phase, info):
    if phase == "start":
        started[threading.get_ident()] = time.perf_counter()
    else:
        passes.append(time.perf_counter() - started[threading.get_ident()])
gc.callbacks.append(count)
import atexit
from nmfaudio import cli
made = cli.progress_bar  # read by nmfaudio.cli.drums when main() builds the parser
def progress_bar(total):
    bar, callback = made(total)
    def timed(iteration, loss):
        if not first:
            first.update(wall=time.perf_counter() - T0, cpu=time.thread_time() - C0, proc=time.process_time() - P0,
                         passes=len(passes), gc=sum(passes))
        return callback(iteration, loss)
    return bar, timed
cli.progress_bar = progress_bar
atexit.register(lambda: print("STARTUP " + json.dumps(dict(first, run_wall=time.perf_counter() - T0,
                                                           run_passes=len(passes), run_gc=sum(passes))),
                              file=sys.stderr))
sys.argv = ["nmfaudio", *sys.argv[1:]]
cli.run()
"""

ROWS = (("wall", "to the first iteration, wall (s)"), ("cpu", "to the first iteration, main thread's CPU (s)"),
        ("proc", "to the first iteration, the process's CPU, all threads (s)"),
        ("passes", "collector passes before it"), ("gc", "collector time before it (ms)"),
        ("run_wall", "whole run in process, wall (s)"), ("run_gc", "collector time in the whole run (ms)"))


def one_run(tree: str, path: Path, out: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run([sys.executable, "-c", LAUNCHER, "drums", str(path), "-o", str(out), "--force"], env=env,
                          cwd=path.parent, capture_output=True, text=True)
    lines = [line for line in done.stderr.splitlines() if line.startswith("STARTUP ")]
    if done.returncode or not lines:
        raise SystemExit(f"nmfaudio drums {path} (PYTHONPATH={tree}) failed ({done.returncode}): {done.stderr[-2000:]}")
    record = json.loads(lines[-1][len("STARTUP "):])
    record["gc"] *= 1000
    record["run_gc"] *= 1000
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--compare", help="another checkout, run alternately")
    parser.add_argument("--pairs", type=int, default=8, help="runs per tree (default 8)")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from _machine import machine_lines

    trees = {"this checkout": str(HERE.parent)}
    if args.compare:
        trees["--compare"] = str(Path(args.compare).resolve())
    runs = {name: [] for name in trees}
    loads = ["/".join(f"{x:.1f}" for x in os.getloadavg())]
    with tempfile.TemporaryDirectory() as tmp:
        order = list(trees.items())
        for name, tree in order:  # warm-up: byte-compiled modules, numba's cache in place
            one_run(tree, args.file.resolve(), Path(tmp) / f"warm{order.index((name, tree))}")
        for i in range(args.pairs):
            for index, (name, tree) in enumerate(order if i % 2 == 0 else order[::-1]):
                runs[name].append(one_run(tree, args.file.resolve(), Path(tmp) / name.replace(" ", "_")))
    loads.append("/".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"`nmfaudio drums {args.file.name} -o OUT --force` as new processes, {args.pairs} per tree"
          f"{', alternating' if args.compare else ''}; medians; load average {' -> '.join(loads)}\n")
    names = list(trees)
    print("| what | " + " | ".join(names) + (" | pairs' ratio (median) | this lower in |" if args.compare else " |"))
    print("|---|" + "---:|" * (len(names) + (2 if args.compare else 0)))
    for key, title in ROWS:
        cells = [f"{statistics.median(r[key] for r in runs[name]):.{0 if key == 'passes' else 3}f}" for name in names]
        if args.compare:
            a, b = ([r[key] for r in runs[name]] for name in names)
            ratios = [x / y for x, y in zip(a, b) if y > 0]
            cells.append(f"{statistics.median(ratios):.3f}" if ratios else "-")
            cells.append(f"{sum(x < y for x, y in zip(a, b))} of {len(a)}")
        print(f"| {title} | " + " | ".join(cells) + " |")
    print("\n" + "\n".join(machine_lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
