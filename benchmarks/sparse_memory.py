"""Peak memory of NMF on a large sparse matrix: nmfaudio against scikit-learn.

A 100,000 × 10,000 matrix at 0.1 % density (1,000,000 stored entries, values uniform in
(0, 1], seeded) is factorized with k components, each case in a fresh process: the data is
built first, then the peak resident memory is reset (``/proc/self/clear_refs``) and the
fit runs.  Reported per case:

* ``data+W+H``: the bytes of the sparse data (CSR: data, indices, indptr) plus W and H;
* ``extra peak``: peak resident memory during the fit above the resident memory just
  before it (VmHWM after the fit − VmRSS before), i.e. what the fit itself needed;
* ``ratio``: extra peak / (data+W+H); a densified matrix would need 8 GB (float64);
* wall time per iteration (median of the case's own iterations is not available from
  outside, so total / iterations).

Cases: nmfaudio's ``factorize`` on V (10,000 × 100,000 in the engine's orientation, i.e.
``X.T``) with HALS and MU for β = 2, MU for β = 1 (KL) and β = 1.5 (where (WH)^(β−1) is
needed at every entry: accumulated a block of rows at a time), and ``nmfaudio.NMF`` /
``sklearn.decomposition.NMF`` on X for HALS/CD and MU-KL.

Usage::

    python benchmarks/sparse_memory.py            # k = 10, 20 iterations (β = 1.5: 1)
    python benchmarks/sparse_memory.py --k 20 --iters 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SHAPE = (100_000, 10_000)
DENSITY = 0.001


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def _make_X():
    import numpy as np
    import scipy.sparse

    rng = np.random.default_rng(0)
    n_samples, n_features = SHAPE
    nnz = int(n_samples * n_features * DENSITY)
    rows = rng.integers(0, n_samples, nnz)
    cols = rng.integers(0, n_features, nnz)
    values = 1.0 - rng.random(nnz)  # (0, 1]
    X = scipy.sparse.csr_array((values, (rows, cols)), shape=SHAPE)
    X.sum_duplicates()
    return X


def run_case(case: str, k: int, iters: int) -> dict:
    import warnings

    import numpy as np

    X = _make_X()
    data_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    factor_bytes = (SHAPE[0] * k + k * SHAPE[1]) * 8
    warnings.simplefilter("ignore")
    # warm-up imports and compiled code on a small matrix, outside the measurement
    import sklearn.decomposition

    import nmfaudio

    small = X[:200]
    nmfaudio.factorize(small.T, 2, max_iter=2, init="random", random_state=0, solver="mu", beta=1)
    before = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset VmHWM to the current RSS
    start = time.perf_counter()
    if case.startswith("factorize"):
        _, solver, beta = case.split(":")
        result = nmfaudio.factorize(X.T, k, solver=solver, beta=float(beta), init="random",
                                    random_state=0, max_iter=iters, tol=0)
        n_iter = result.n_iter
    else:
        lib, solver, beta = case.split(":")
        cls = nmfaudio.NMF if lib == "nmfaudio.NMF" else sklearn.decomposition.NMF
        model = cls(n_components=k, solver=solver, beta_loss=float(beta), init="random",
                    random_state=0, max_iter=iters, tol=0).fit(X)
        n_iter = model.n_iter_
    seconds = time.perf_counter() - start
    peak = _status("VmHWM")
    return {"case": case, "data_factors_MB": (data_bytes + factor_bytes) / 1e6,
            "extra_peak_MB": (peak - before) / 1e6, "n_iter": int(n_iter),
            "s_per_iter": seconds / max(1, n_iter)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.k, args.iters)))
        return
    from benchmarks._machine import machine_lines

    print("\n".join(machine_lines()))
    print(f"X: {SHAPE[0]:,} × {SHAPE[1]:,} at {DENSITY:.1%} density, k = {args.k}")
    cases = [
        ("factorize:hals:2", args.iters), ("factorize:mu:2", args.iters),
        ("factorize:mu:1", args.iters), ("factorize:mu:1.5", max(1, args.iters // 20)),
        ("nmfaudio.NMF:cd:2", args.iters), ("sklearn.NMF:cd:2", args.iters),
        ("nmfaudio.NMF:mu:1", args.iters), ("sklearn.NMF:mu:1", args.iters),
    ]
    print(f"{'case':<22} {'data+W+H MB':>12} {'extra peak MB':>14} {'ratio':>6} {'iters':>6} {'s/iter':>7}")
    for case, iters in cases:
        out = subprocess.run([sys.executable, __file__, "--case", case, "--k", str(args.k),
                              "--iters", str(iters)], capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{case:<22} {row['data_factors_MB']:>12.1f} {row['extra_peak_MB']:>14.1f} "
              f"{row['extra_peak_MB'] / row['data_factors_MB']:>6.2f} {row['n_iter']:>6d} "
              f"{row['s_per_iter']:>7.3f}", flush=True)


if __name__ == "__main__":
    main()
