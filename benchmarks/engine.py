"""Engine speed: nmfaudio next to scikit-learn (and torchnmf when installed).

Prints, for β = 2 (Frobenius), 1 (KL) and 0 (IS) on a music-like magnitude spectrogram
of 1025 × {2600, 7750} frames (1 and 3 minutes at 22.05 kHz, n_fft 2048, hop 512) and
k ∈ {8, 16, 32}, float32:

* ms per iteration (median over iterations; scikit-learn: slope of fit time vs max_iter),
* × floor: that time over the "GEMM floor", the two products every MU iteration needs
  (WᵀV and VHᵀ), each in its fastest orientation, measured in the same run,
* speed-up over scikit-learn MU per iteration,
* time to reach scikit-learn MU's loss after 200 iterations from the same start, for
  each nmfaudio solver (MU, HALS for Frobenius; MU, extrapolated MU "amu" and coordinate
  descent "ccd" for KL and IS); "(auto)" marks the one ``solver="auto"`` picks,
* peak memory of a fit beyond V (tracemalloc; NumPy reports its allocations to it),
  in MB and in units of one F × T float32 array.

Usage::

    python benchmarks/engine.py            # the full table (several minutes on 2 cores)
    python benchmarks/engine.py --quick    # 1025 × 2600, k = 16 only, fewer repeats
    python benchmarks/engine.py --threads 1 --clock cpu   # one core, CPU time
    python benchmarks/engine.py --quick --threads 1 --clock cpu --ref-iter 200 --k 8 32
                                           # 1 minute, k = 8 and 32, the 200-iteration target
    python benchmarks/engine.py --floors   # only issue 18's floor numbers (~2 min), below

``--floors`` prints just the numbers issue 18 sets floors for, each a median of ratios
measured side by side (interleaved rounds) at 1025 × 2600, float32: one KL and IS pass
with the loss (the fused or GEMM pass the solvers pick), one ``solver="mu"`` iteration
with the default ``loss_every=1`` (the loss every iteration) and one with
``loss_every=10`` (the loss on every 10th; both timed by their steps in runs of 10
iterations of a fit without a callback, see :func:`mu_per_iter`) and one
``solver="auto"`` iteration (a pass with the loss plus the extrapolation, timed in a
fit) over the GEMM floor at k = 8 and 32 (floors 2.6× and 3.5×), and the time
``solver="auto"`` needs to reach scikit-learn MU's 200-iteration loss, as a speed-up
over scikit-learn MU's time, at k = 16 (floor 8×), with the CPU, its instruction set and
the load.

Threads: by default whatever the machine gives (BLAS and numba use all cores);
``--threads N`` limits both.  ``--clock cpu`` measures process CPU time instead of wall
time: with one thread it is robust against other processes sharing the machine.  The
machine is printed first.  Timings on a shared machine are noisy: compare ratios
within one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
import warnings

import numpy as np

from _machine import machine_lines

import nmfaudio
from nmfaudio.nmf import kernels

SR = 22050
N_FFT = 2048
HOP = 512
BETAS = {2.0: "frobenius", 1.0: "kullback-leibler", 0.0: "itakura-saito"}
#: nmfaudio solvers measured per β (each gets a time-to-loss; "(auto)" marks the default).
SOLVERS_FOR = {2.0: ["mu", "hals"], 1.0: ["mu", "amu", "ccd"], 0.0: ["mu", "amu", "ccd"]}


# --- input ------------------------------------------------------------------------------


def music_like(seconds: float, *, seed: int = 0) -> np.ndarray:
    """A seeded music-like mono signal at 22.05 kHz: harmonic notes from a pentatonic
    scale (decaying partials, a little vibrato) over kick-like sweeps and hi-hat /
    snare-like noise bursts on an eighth-note grid at 120 bpm."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    y = np.zeros(n)
    t_note = np.arange(int(1.2 * SR)) / SR
    scale = 220.0 * 2 ** (np.array([0, 2, 4, 7, 9, 12, 14, 16, 19, 21]) / 12)
    start = 0
    while start < n:  # melody and chords: 1-3 notes at a time
        duration = rng.choice([0.25, 0.5, 0.75, 1.0])
        for f0 in rng.choice(scale, size=rng.integers(1, 4), replace=False):
            length = min(int(duration * SR * 1.2), n - start)
            t = t_note[:length]
            vibrato = 1 + 0.003 * np.sin(2 * np.pi * 5.5 * t)
            note = sum((0.6**h) * np.sin(2 * np.pi * f0 * (h + 1) * vibrato * t + rng.uniform(0, 2 * np.pi))
                       for h in range(8))
            y[start:start + length] += 0.2 * note * np.exp(-3.0 * t / duration)
        start += int(duration * SR)
    eighth = int(0.25 * SR)
    t_hit = np.arange(int(0.3 * SR)) / SR
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-t_hit * 30)) * t_hit) * np.exp(-t_hit * 12)
    for i, onset in enumerate(range(0, n - t_hit.size, eighth)):
        if i % 4 == 0:
            y[onset:onset + kick.size] += 0.8 * kick
        if i % 4 == 2:  # snare-like: broadband burst
            y[onset:onset + t_hit.size] += 0.3 * rng.standard_normal(t_hit.size) * np.exp(-t_hit * 25)
        hat = rng.standard_normal(t_hit.size // 4) * np.exp(-t_hit[: t_hit.size // 4] * 120)
        y[onset:onset + hat.size] += 0.1 * np.diff(hat, prepend=0)  # high-passed: hi-hat-like
    return (y / np.abs(y).max()).astype(np.float32)


def spectrogram(n_frames: int, *, seed: int = 0) -> np.ndarray:
    """|STFT| (1025, n_frames) float32 of :func:`music_like`, floored at 1e-6 of its
    maximum so scikit-learn accepts it for Itakura-Saito (it refuses zeros)."""
    import librosa

    y = music_like((n_frames - 1) * HOP / SR + 0.01, seed=seed)
    V = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))[:, :n_frames]
    V = np.ascontiguousarray(V, dtype=np.float32)
    return np.maximum(V, np.float32(1e-6) * V.max())


def start_point(V: np.ndarray, k: int, seed: int = 0):
    """The shared random start (nmfaudio's own random init)."""
    rng = np.random.default_rng(seed)
    scale = np.sqrt(V.mean(dtype=np.float64) / k)
    return ((rng.random((V.shape[0], k)) * scale).astype(np.float32),
            (rng.random((k, V.shape[1])) * scale).astype(np.float32))


# --- timing -----------------------------------------------------------------------------


#: The clock every measurement uses (``--clock``).
clock = time.perf_counter


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = clock()
        fn()
        times.append(clock() - t)
    return statistics.median(times)


def gemm_floor(V, W, H, repeats: int) -> tuple[float, str]:
    """Seconds for WᵀV + VHᵀ, each in its fastest orientation (with contiguous operands)."""
    Wt, Ht = np.ascontiguousarray(W.T), np.ascontiguousarray(H.T)
    WtV = {"W.T @ V": lambda: W.T @ V, "Wt @ V": lambda: Wt @ V, "(V.T @ W).T": lambda: (V.T @ W).T}
    VHt = {"V @ H.T": lambda: V @ H.T, "V @ Ht": lambda: V @ Ht, "(H @ V.T).T": lambda: (H @ V.T).T}
    best = []
    for products in (WtV, VHt):
        times = {name: median_time(fn, repeats) for name, fn in products.items()}
        name = min(times, key=times.get)
        best.append((times[name], name))
    return best[0][0] + best[1][0], f"{best[0][1]}, {best[1][1]}"


def nmfaudio_per_iter(V, W0, H0, beta, solver, n_iter) -> float:
    """Median seconds per iteration, from the callback's timestamps."""
    stamps = []
    nmfaudio.factorize(V, W0.shape[1], beta=beta, solver=solver, W=W0, H=H0, max_iter=n_iter,
                       tol=0, callback=lambda i, loss: stamps.append(clock()))
    return statistics.median(np.diff(stamps))


def sklearn_model(k, beta, solver, n_iter, W0, H0):
    from sklearn.decomposition import NMF

    return NMF(n_components=k, init="custom", solver=solver, beta_loss=BETAS[beta], max_iter=n_iter,
               tol=0, random_state=0)


def sklearn_fit(V, W0, H0, beta, solver, n_iter):
    """Fit scikit-learn on X = Vᵀ (its orientation, C-contiguous: its fastest layout) from
    our start; returns (seconds, W, H) in our orientation."""
    from sklearn.exceptions import ConvergenceWarning

    X = _sklearn_X(V)
    model = sklearn_model(W0.shape[1], beta, solver, n_iter, W0, H0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t = clock()
        A = model.fit_transform(X, W=np.ascontiguousarray(H0.T), H=np.ascontiguousarray(W0.T))
        seconds = clock() - t
    return seconds, model.components_.T, A.T


_X_CACHE = {}


def _sklearn_X(V):
    """Vᵀ as a C-contiguous array, made once per V (outside the timed and traced code)."""
    key = id(V)
    if key not in _X_CACHE:
        _X_CACHE.clear()
        _X_CACHE[key] = (V, np.ascontiguousarray(V.T))
    return _X_CACHE[key][1]


def sklearn_per_iter(V, W0, H0, beta, solver, n_short, n_long, repeats) -> float:
    """Seconds per iteration as the slope between two fit lengths (removes setup)."""
    short = statistics.median(sklearn_fit(V, W0, H0, beta, solver, n_short)[0] for _ in range(repeats))
    long = statistics.median(sklearn_fit(V, W0, H0, beta, solver, n_long)[0] for _ in range(repeats))
    return max(long - short, 0.0) / (n_long - n_short)


def time_to_loss(V, W0, H0, beta, target, solver="auto", max_iter=5000) -> tuple[float, int]:
    """Seconds (and iterations) an nmfaudio solver needs to reach ``target``."""
    reached = {}

    def callback(i, loss):
        if loss <= target:
            reached["t"], reached["i"] = clock(), i
            return True
        return False

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = clock()
        nmfaudio.factorize(V, W0.shape[1], beta=beta, solver=solver, W=W0, H=H0, max_iter=max_iter, tol=0,
                           callback=callback)
    if not reached:
        return float("nan"), max_iter
    return reached["t"] - t, reached["i"]


def peak_memory(fn) -> int:
    """Peak bytes allocated (tracemalloc) while ``fn`` runs, beyond what existed before."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def torchnmf_available() -> bool:
    try:
        import torchnmf  # noqa: F401
    except ImportError:
        return False
    return True


def torchnmf_per_iter(V, W0, H0, beta, n_iter) -> float:  # pragma: no cover - needs torch
    import torch
    from torchnmf.nmf import NMF as TorchNMF

    model = TorchNMF(W=torch.from_numpy(H0.T.copy()), H=torch.from_numpy(W0.copy()))
    Vt = torch.from_numpy(V)
    t = clock()
    model.fit(Vt, beta=beta, max_iter=n_iter, tol=0)
    return (clock() - t) / n_iter


# --- the table --------------------------------------------------------------------------


def measure_group(V, k, n_iter, ref_iter, repeats):
    """All rows for one (V, k): returns (floor seconds, orientation, rows).  The floor is
    measured before each β and its median used, so that a burst of load on a shared
    machine does not skew every ratio of the group."""
    W0, H0 = start_point(V, k)
    floors, rows = [], []
    for beta in BETAS:
        floors.append(gemm_floor(V, W0, H0, repeats))
        sk_mu = sklearn_per_iter(V, W0, H0, beta, "mu", 5, 5 + 2 * n_iter, repeats=3)
        group = [dict(beta=beta, name="sklearn MU", seconds=sk_mu)]
        if beta == 2:
            group.append(dict(beta=beta, name="sklearn CD",
                              seconds=sklearn_per_iter(V, W0, H0, beta, "cd", 5, 5 + 2 * n_iter, repeats=3)))
        for solver in SOLVERS_FOR[beta]:
            group.append(dict(beta=beta, name=f"nmfaudio {solver.upper()}", solver=solver,
                              seconds=nmfaudio_per_iter(V, W0, H0, beta, solver, n_iter)))
        if torchnmf_available():
            group.append(dict(beta=beta, name="torchnmf", seconds=torchnmf_per_iter(V, W0, H0, beta, n_iter)))
        # time to scikit-learn MU's loss after ref_iter iterations, same start
        sk_time, W_sk, H_sk = sklearn_fit(V, W0, H0, beta, "mu", ref_iter)
        target = nmfaudio.beta_divergence(V, W_sk, H_sk, beta)
        _sklearn_X(V)
        group[0]["reach"] = f"{sk_time:.2f} s"
        group[0]["memory"] = peak_memory(lambda: sklearn_fit(V, W0, H0, beta, "mu", 3))
        default = nmfaudio.nmf.solvers.resolve_solver("auto", beta)
        for row in group:
            solver = row.get("solver")
            if solver is None:
                continue
            ours_time, ours_iter = time_to_loss(V, W0, H0, beta, target, solver)
            mark = "**" if solver == default else ""
            row["reach"] = f"{mark}{ours_time:.2f} s{mark} ({sk_time / ours_time:.1f}× sooner, {ours_iter} it)"
            if solver == default:
                row["name"] += " (auto)"
                row["memory"] = peak_memory(
                    lambda: nmfaudio.factorize(V, k, beta=beta, W=W0, H=H0, max_iter=3, tol=0))
        rows.extend(group)
    floors.append(gemm_floor(V, W0, H0, repeats))
    floor = statistics.median(f for f, _ in floors)
    orientation = statistics.mode(o for _, o in floors)
    return floor, orientation, rows


def run(frames_list, ks, quick: bool, command: str, ref_iter=None):
    repeats = 3 if quick else 5
    n_iter = 15 if quick else 30
    if ref_iter is None:
        ref_iter = 50 if quick else 200
    print("\n".join(machine_lines()))
    print(f"fused kernels: {'numba' if kernels.HAVE_NUMBA else 'not available (NumPy fallback)'}; "
          f"clock: {'process CPU time' if clock is time.process_time else 'wall time'}")
    print(f"command: {command}")
    print()
    print(f"| F × T | k | β | method | ms/iter | × floor | vs sklearn MU | to sklearn-MU-{ref_iter} loss | "
          "peak MB (× F·T f32) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n_frames in frames_list:
        V = spectrogram(n_frames)
        shape = f"{V.shape[0]} × {V.shape[1]}"
        for k in ks:
            floor, orientation, rows = measure_group(V, k, n_iter, ref_iter, repeats)
            print(f"| {shape} | {k} | | GEMM floor ({orientation}) | {floor * 1e3:.1f} | 1.0 | | | |")
            sk_mu = {}
            for row in rows:
                if row["name"] == "sklearn MU":
                    sk_mu[row["beta"]] = row["seconds"]
                seconds = row["seconds"]
                speedup = sk_mu[row["beta"]] / seconds if seconds > 0 else float("nan")
                memory = row.get("memory")
                memory = f"{memory / 1e6:.0f} ({memory / V.nbytes:.1f})" if memory is not None else ""
                print(f"| {shape} | {k} | {row['beta']:g} | {row['name']} | {seconds * 1e3:.1f} | "
                      f"{seconds / floor:.2f} | {speedup:.1f}× | {row.get('reach', '')} | {memory} |", flush=True)
    if not torchnmf_available():
        print("\ntorchnmf: not installed (skipped)")


#: Issue 18's floors: per-iteration ratio to the GEMM floor (KL, IS), time-to-loss speed-up.
FLOORS = {"iteration": {1.0: 2.6, 0.0: 3.5}, "reach": 8.0}


def _make_pass(V, k, beta):
    """The pass the solvers use for (V, k, β) (kernels.BetaPass in trees without
    gemm_pass, so this script can time an older tree too)."""
    try:
        from nmfaudio.nmf.gemm_pass import make_pass
    except ImportError:
        make_pass = kernels.BetaPass
    gamma = nmfaudio.nmf.solvers.mm_exponent(beta)
    return make_pass(V, k, beta=beta, gamma=gamma, eps=1e-8, free_H=np.ones(k, bool), l1_H=0.0, l2_H=0.0,
                     update_W=True)


def mu_per_iter(V, W0, H0, beta, loss_every, n_iter=40) -> float:
    """Seconds per ``solver="mu"`` iteration of a fit without a callback, with this
    ``loss_every`` (1, the default: every loss; 10: every 10th).  Each ``step`` of the
    solver is timestamped (its class's method wrapped for the fit); returns the median
    over the fit's runs of 10 iterations (each holding one loss with ``loss_every=10``)
    of their mean time."""
    solvers = nmfaudio.nmf.solvers
    cls = solvers.FusedBetaMU if kernels.HAVE_NUMBA else solvers.BetaMU  # make_mu's choice (dense V, β ≠ 2)
    stamps = []
    original_start, original_step = cls.start, cls.step

    def start(self):
        out = original_start(self)
        stamps.append(clock())
        return out

    def step(self, *args, **kwargs):
        out = original_step(self, *args, **kwargs)
        stamps.append(clock())
        return out

    cls.start, cls.step = start, step
    try:
        nmfaudio.factorize(V, W0.shape[1], beta=beta, solver="mu", W=W0, H=H0, max_iter=n_iter, tol=0,
                           loss_every=loss_every)
    finally:
        cls.start, cls.step = original_start, original_step
    runs = [(stamps[i + 10] - stamps[i]) / 10 for i in range(0, len(stamps) - 10, 10)]
    return statistics.median(runs)


def _iteration_ratios(V, k, beta, rounds):
    """Per round: the GEMM floor, one pass of the solvers' fused (or GEMM) pass with the
    loss, a ``solver="mu"`` iteration with ``loss_every`` 1 and 10 (:func:`mu_per_iter`)
    and a short ``solver="auto"`` fit; returns the medians over rounds of (pass / floor),
    (MU iteration / floor) for each ``loss_every`` and (median seconds per auto
    iteration / floor)."""
    W0, H0 = start_point(V, k)
    beta_pass, H_next = _make_pass(V, k, beta), np.empty_like(H0)
    passes, mu_1, mu_10, iterations = [], [], [], []
    for _ in range(rounds):
        floor, _ = gemm_floor(V, W0, H0, 3)
        passes.append(median_time(lambda: beta_pass.run(W0, H0, H_next), 5) / floor)
        mu_1.append(mu_per_iter(V, W0, H0, beta, 1) / floor)
        mu_10.append(mu_per_iter(V, W0, H0, beta, 10) / floor)
        iterations.append(nmfaudio_per_iter(V, W0, H0, beta, "auto", 12) / floor)
    return tuple(statistics.median(x) for x in (passes, mu_1, mu_10, iterations))


def _reach_ratio(V, k, beta, ref_iter, rounds):
    """scikit-learn MU's time for ``ref_iter`` iterations over the time ``solver="auto"``
    needs to reach its loss, fits interleaved; returns (median ratio, iterations)."""
    W0, H0 = start_point(V, k)
    _, W_sk, H_sk = sklearn_fit(V, W0, H0, beta, "mu", ref_iter)
    target = nmfaudio.beta_divergence(V, W_sk, H_sk, beta)
    ratios, iterations = [], 0
    for _ in range(rounds):
        sk_time = sklearn_fit(V, W0, H0, beta, "mu", ref_iter)[0]
        ours, iterations = time_to_loss(V, W0, H0, beta, target, "auto")
        ratios.append(sk_time / ours)
    return statistics.median(ratios), iterations


def floors(command: str, rounds: int = 3) -> None:
    """Print issue 18's floor numbers (see the module docstring), met or not."""
    print("\n".join(machine_lines()))
    print(f"clock: {'process CPU time' if clock is time.process_time else 'wall time'}; command: {command}")
    V = spectrogram(2600)
    shape = f"{V.shape[0]} × {V.shape[1]}"
    print(f"\n| floor ({shape}, float32, median of {rounds} interleaved rounds) | k | KL | IS |")
    print("|---|---|---|---|")
    for k in (8, 32):
        ratios = {beta: _iteration_ratios(V, k, beta, rounds) for beta in (1.0, 0.0)}
        for i, what in enumerate(["one pass with its loss", 'a solver="mu" iteration, loss every iteration (default)',
                                  'a solver="mu" iteration, loss_every=10', 'a solver="auto" iteration']):
            cells = []
            for beta in (1.0, 0.0):
                ratio, limit = ratios[beta][i], FLOORS["iteration"][beta]
                cells.append(f"{ratio:.2f}× ({'met' if ratio <= limit else 'missed'}, ≤ {limit}×)")
            print(f"| {what} / GEMM floor | {k} | {cells[0]} | {cells[1]} |", flush=True)
    cells = []
    for beta in (1.0, 0.0):
        ratio, iterations = _reach_ratio(V, 16, beta, 200, rounds)
        limit = FLOORS["reach"]
        cells.append(f"{ratio:.2f}× in {iterations} it ({'met' if ratio >= limit else 'missed'}, ≥ {limit:g}×)")
    print(f"| time to sklearn MU's 200-iteration loss, speed-up, solver=\"auto\" | 16 | {cells[0]} | {cells[1]} |")
    print(f"\nload average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1025 × 2600, k = 16 only, fewer repeats")
    parser.add_argument("--threads", type=int, default=None, help="limit BLAS and numba to N threads")
    parser.add_argument("--ref-iter", type=int, default=None,
                        help="scikit-learn MU iterations that set the target loss (default 200; --quick 50)")
    parser.add_argument("--shape", type=int, nargs="*", default=None, metavar="FRAMES",
                        help="frame counts to run (default 2600 7750)")
    parser.add_argument("--k", type=int, nargs="*", default=None, help="ranks to run (default 8 16 32)")
    parser.add_argument("--floors", action="store_true", help="print only issue 18's floor numbers")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds for --floors (default 3)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall time (default) or process CPU time (robust with --threads 1)")
    args = parser.parse_args(argv)
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    command = "python benchmarks/engine.py " + " ".join(sys.argv[1:] if argv is None else argv)
    from contextlib import nullcontext

    import librosa  # noqa: F401  (load every BLAS the run will use before limiting threads)
    import scipy.linalg  # noqa: F401
    import sklearn.decomposition  # noqa: F401
    from threadpoolctl import threadpool_limits

    limit = nullcontext()
    if args.threads:
        limit = threadpool_limits(args.threads)
        kernels.THREADS = args.threads
    with limit:
        if args.floors:
            floors(command.strip(), args.rounds)
        elif args.quick:
            run(args.shape or [2600], args.k or [16], quick=True, command=command.strip(), ref_iter=args.ref_iter)
        else:
            run(args.shape or [2600, 7750], args.k or [8, 16, 32], quick=False, command=command.strip(),
                ref_iter=args.ref_iter)
    return 0


if __name__ == "__main__":
    sys.exit(main())
