"""One or two BLAS threads for the small Frobenius/HALS fits of the image adapter.

Times ``--iterations`` HALS iterations (``nmfaudio.factorize``, NNDSVDa start, ``tol=0``)
per shape with the BLAS pool limited to 1 thread and to ``--threads`` threads
(threadpoolctl, inside this process; alternating, median of ``--repeats``), and prints
wall and CPU milliseconds per iteration and the ratio.  The shapes are the image
adapter's (a photo, an RGB photo, the punks stack at d = 64 and 256) and larger ones, to
place the size threshold below which the adapter fits with one thread
(``nmfaudio.adapters.image.SMALL_BLAS_MACS``: n_features · n_samples · k).

    python benchmarks/blas_threads.py [--iterations 20] [--repeats 3] [--threads 2]

Print the machine's load with the table: two threads lose most when the cores are busy.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _machine import machine_lines  # this folder's helper: CPU model, BLAS, versions

SHAPES = [  # (label, n_features, n_samples, k)
    ("photo 512x512 r20", 512, 512, 20),
    ("RGB photo 512x1536 r50", 512, 1536, 50),
    ("punks 1728x500 d64", 1728, 500, 64),
    ("punks 1728x500 d256", 1728, 500, 256),
    ("1728x5000 d64", 1728, 5000, 64),
    ("2048x2048 r128", 2048, 2048, 128),
    ("4096x4096 r128", 4096, 4096, 128),
]


def main(argv=None) -> int:
    from threadpoolctl import threadpool_limits

    from nmfaudio import factorize

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-macs", type=float, default=2.5e9,
                        help="skip shapes with n_features*n_samples*k above this")
    args = parser.parse_args(argv)
    print("\n".join(machine_lines()))
    rng = np.random.default_rng(0)
    factorize(rng.random((50, 40), dtype=np.float32), 4, solver="hals", max_iter=2)  # compile
    print(f"HALS, {args.iterations} iterations, median of {args.repeats} alternating runs; ms per iteration")
    print(f"{'shape':<26} {'F*T*k':>9} {'1 thread wall/CPU':>18} {f'{args.threads} threads wall/CPU':>19} "
          f"{'wall ratio':>10}")
    for label, F, T, k in SHAPES:
        macs = F * T * k
        if macs > args.max_macs:
            continue
        V = rng.random((F, T), dtype=np.float32) ** 4  # skewed, like pixel data
        times = {1: [], args.threads: []}
        for _ in range(args.repeats):
            for threads in times:
                with threadpool_limits(threads, user_api="blas"):
                    wall, cpu = time.perf_counter(), time.process_time()
                    factorize(V, k, solver="hals", init="nndsvda", max_iter=args.iterations, tol=0)
                    times[threads].append((time.perf_counter() - wall, time.process_time() - cpu))
        med = {t: np.median(np.array(v), axis=0) * 1000 / args.iterations for t, v in times.items()}
        one, many = med[1], med[args.threads]
        print(f"{label:<26} {macs:>9.2g} {one[0]:>8.1f} /{one[1]:>7.1f} {many[0]:>9.1f} /{many[1]:>7.1f} "
              f"{many[0] / one[0]:>10.2f}", flush=True)
    print("\n".join(machine_lines()[:1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
