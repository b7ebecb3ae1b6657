"""One fused KL / IS pass (kernels.BetaPass.run) of this tree next to another revision's,
and next to the BLAS-product pass (gemm_pass.GemmBetaPass).

Prints, per k, the median time of one pass for KL and IS over the two products
WᵀV + VHᵀ (the GEMM floor of benchmarks/engine.py: each product in its fastest of three
orientations), with this tree's kernels, with ``nmfaudio/nmf/kernels.py`` as of ``--rev``
(a git revision) and/or with the GEMM pass (``--gemm``; with ``--rev`` also the
revision's ``gemm_pass.py``, on this tree's kernels; ``--gemm-blocks``: this tree's GEMM
pass at several block sizes), in one process: one thread and process CPU time
(``--threads N``: N threads, wall time).  Each round times every candidate in turn, each
as engine.py does: one warm-up call, then the median of ``--repeats`` calls in a row;
the table shows medians over ``--rounds`` rounds of the ratio to that round's floor.
For kernel experiments on a shared machine, where only side-by-side ratios mean
anything.

Calls in a row, not alternating single calls (this script's first versions, to
2026-12-01): the GEMM floor reads V at a third less CPU time when V is still cached from
the call before (1025 × 2600 float32, 10.7 MB, Intel Xeon, docs/performance.md,
2026-12-01), and alternating calls gave it a cold V after every pass: the ratios came
out 20–30 % lower than engine.py's, which times every candidate in a row as in a fit.

Usage::

    python benchmarks/fused_pass.py --rev f8bf04f --frames 2600 --k 8 16 32
    python benchmarks/fused_pass.py --gemm --k 8 12 16 24 32 64   # the GEMM crossover
    python benchmarks/fused_pass.py --gemm --rev HEAD --k 8 16 32 64   # old and new GEMM pass
    python benchmarks/fused_pass.py --gemm --gemm-blocks 128 256 512 --k 32
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from _machine import machine_lines
import engine
from engine import gemm_floor, median_time, spectrogram, start_point

from nmfaudio.nmf import kernels


def load_revision(rev: str, module: str = "kernels"):
    """nmfaudio/nmf/<module>.py as of git revision ``rev``, imported as a separate module
    (None if the revision has no such file)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shown = subprocess.run(["git", "-C", root, "show", f"{rev}:nmfaudio/nmf/{module}.py"],
                           capture_output=True, text=True)
    if shown.returncode != 0:
        return None
    folder = tempfile.mkdtemp(prefix=f"{module}_rev_")
    path = os.path.join(folder, f"{module}_rev.py")
    with open(path, "w") as file:
        file.write(shown.stdout)
    spec = importlib.util.spec_from_file_location(f"{module}_rev", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default=None, help="git revision whose kernels.py to compare with")
    parser.add_argument("--gemm", action="store_true", help="also time the GEMM pass (gemm_pass.GemmBetaPass)")
    parser.add_argument("--gemm-blocks", type=int, nargs="*", default=[],
                        help="also time this tree's GEMM pass with these block sizes")
    parser.add_argument("--threads", type=int, default=1, help="threads for BLAS and the passes (default 1)")
    parser.add_argument("--frames", type=int, default=2600)
    parser.add_argument("--k", type=int, nargs="*", default=[8, 16, 32])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="calls in a row per candidate and round")
    args = parser.parse_args(argv)
    if args.rev is None and not args.gemm and not args.gemm_blocks:
        parser.error("give --rev REV and/or --gemm: something to compare this tree's fused pass with")
    from threadpoolctl import threadpool_limits

    from nmfaudio.nmf import gemm_pass
    from nmfaudio.nmf.solvers import mm_exponent

    passes = {}
    if args.rev:
        other = load_revision(args.rev)
        if other is None:
            parser.error(f"{args.rev} has no nmfaudio/nmf/kernels.py")
        other.THREADS = args.threads
        passes[args.rev] = other.BetaPass
    passes["tree"] = kernels.BetaPass
    if args.gemm and args.rev:
        other_gemm = load_revision(args.rev, "gemm_pass")
        if other_gemm is not None:
            passes[f"GEMM {args.rev}"] = other_gemm.GemmBetaPass
    if args.gemm:
        passes["GEMM"] = gemm_pass.GemmBetaPass
    for block in args.gemm_blocks:
        passes[f"GEMM b={block}"] = functools.partial(gemm_pass.GemmBetaPass, block=block)
    kernels.THREADS = args.threads
    # one thread: process CPU time (robust on a shared machine); more: wall time, since
    # CPU time would count the BLAS threads' spinning between calls
    clock = engine.clock = time.process_time if args.threads == 1 else time.perf_counter
    print("\n".join(machine_lines()))
    print(f"command: python benchmarks/fused_pass.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    clock_name = "process CPU time" if args.threads == 1 else "wall time"
    print(f"{args.threads} thread(s), {clock_name}, medians; × floor = pass time / (WᵀV + VHᵀ), "
          "each product in its fastest orientation, every candidate timed in a row as in a fit\n")
    names = {"tree": "this tree", "GEMM": "GEMM pass"}
    heads = [f"{beta} {names.get(name, name)}" for beta in ("KL", "IS") for name in passes]
    print("| F × T | k | floor ms | " + " | ".join(heads) + " |")
    print("|---|---|---|" + "---|" * len(heads))
    V = spectrogram(args.frames)
    with threadpool_limits(args.threads):
        for k in args.k:
            W, H = start_point(V, k)
            runs = {}
            for name, make in passes.items():
                for beta in (1.0, 0.0):
                    beta_pass = make(V, k, beta=beta, gamma=mm_exponent(beta), eps=1e-8,
                                     free_H=np.ones(k, bool), l1_H=0.0, l2_H=0.0, update_W=True)
                    H_next = np.empty_like(H)
                    runs[(name, beta)] = lambda p=beta_pass, out=H_next: p.run(W, H, out)
                    try:  # a revision's gemm_pass runs on this tree's kernels, which may not fit it
                        runs[(name, beta)]()
                    except Exception as error:  # noqa: BLE001 - reported, the column left empty
                        print(f"{name}, beta={beta:g}: {type(error).__name__}: {error} (not timed)")
                        runs[(name, beta)] = None
            runs = {key: fn for key, fn in runs.items() if fn is not None}
            floors, times, ratios = [], {key: [] for key in runs}, {key: [] for key in runs}
            for _ in range(args.rounds):
                floor = gemm_floor(V, W, H, args.repeats)[0]
                floors.append(floor)
                for key, fn in runs.items():
                    times[key].append(median_time(fn, args.repeats))
                    ratios[key].append(times[key][-1] / floor)
            floor = statistics.median(floors)
            ratio = {key: statistics.median(value) for key, value in ratios.items()}
            cells = [f"{statistics.median(times[(name, beta)]) * 1e3:.2f} ms ({ratio[(name, beta)]:.2f}×)"
                     if (name, beta) in times else "–" for beta in (1.0, 0.0) for name in passes]
            print(f"| {V.shape[0]} × {V.shape[1]} | {k} | {floor * 1e3:.2f} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nload average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
