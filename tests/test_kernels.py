"""The fused kernels (nmfaudio.nmf.kernels) equal the plain NumPy updates, each with its
stated tolerance; the engine still works without numba."""

import tracemalloc

import numpy as np
import pytest

import nmfaudio
from nmfaudio.nmf import gemm_pass, kernels, solvers
from nmfaudio.nmf.divergence import default_floor, divergence_from_model, floor_data
from nmfaudio.nmf.solvers import BetaMU, FrobeniusMU, Problem

needs_numba = pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="numba not installed")

BETAS = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
# Shapes that cross block and task boundaries, with an odd number of rows (the 4-row
# and 2-row kernels have tails) and a last block shorter than BLOCK.
F, T, K = 37, 3 * kernels.BLOCK + 17, 5


def problem_data(dtype, beta, seed=0):
    """V with exact zeros (floored as the engine does), a start, and a Problem with
    partially fixed components and penalties on both factors."""
    rng = np.random.default_rng(seed)
    V = (rng.random((F, T)) ** 2).astype(dtype)
    V[rng.random(V.shape) < 0.1] = 0
    V[:, 40:60] = 0  # a silent stretch
    eps = default_floor(V)
    V_fit, _ = floor_data(V, beta, eps)
    W0 = (rng.random((F, K)) + 0.1).astype(dtype)
    H0 = (rng.random((K, T)) + 0.1).astype(dtype)
    problem = Problem(beta=beta, free_W=np.array([1, 0, 1, 1, 1], bool), free_H=np.array([1, 1, 0, 1, 1], bool),
                      eps=eps, l1_W=0.01, l2_W=0.02, l1_H=0.03, l2_H=0.01)
    return V_fit, W0, H0, problem


def run(solver_class, V, W0, H0, problem, n_iter):
    solver = solver_class(V, W0.copy(), H0.copy(), problem)
    losses = [solver.start()] + [solver.step() for _ in range(n_iter)]
    return np.array(losses), solver.W, solver.H


def max_rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


# --- the fused MU pass equals the plain NumPy MU ---------------------------------------------


@needs_numba
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("dtype, loss_tol, factor_tol", [
    # float64: only the summation order differs -> 1e-12 relative
    (np.float64, 1e-12, 1e-12),
    # float32 rounding (ε = 6e-8), grown over 12 iterations of sums over 37 and 785
    # terms: 1e-5 relative for the loss, 1e-4 for the factors
    (np.float32, 1e-5, 1e-4),
], ids=["float64", "float32"])
def test_fused_mu_equals_numpy_mu(beta, dtype, loss_tol, factor_tol):
    V, W0, H0, problem = problem_data(dtype, beta)
    loss_ref, W_ref, H_ref = run(BetaMU, V, W0, H0, problem, 12)
    loss, W, H = run(solvers.FusedBetaMU, V, W0, H0, problem, 12)
    assert max_rel(loss, loss_ref) < loss_tol
    assert max_rel(W, W_ref) < factor_tol and max_rel(H, H_ref) < factor_tol


@needs_numba
@pytest.mark.parametrize("gamma", [0.75, 0.6, 0.5, 1.0])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-14), (np.float32, 2e-6)], ids=["float64", "float32"])
def test_h_update_exponent_equals_numpy_power(gamma, dtype, tol):
    # _update_block takes 1, 1/2 and 3/4 as constants (3/4 as sqrt(x)*sqrt(sqrt(x))) and
    # other exponents at run time: every form is H * (num / den)^gamma.  IS (beta = 0),
    # reference in float64; float32: WH and the products are rounded (measured 4e-7)
    rng = np.random.default_rng(7)
    n_f, n_t, k = 37, 1100, 5
    V = (rng.random((n_f, n_t)) + 0.1).astype(dtype)
    W, H = rng.random((n_f, k)).astype(dtype), rng.random((k, n_t)).astype(dtype)
    pass_ = kernels.BetaPass(V, k, beta=0.0, gamma=gamma, eps=dtype(1e-6), free_H=np.ones(k, bool), l1_H=0.0,
                             l2_H=0.0, update_W=False)
    H_next = np.empty_like(H)
    pass_.run(W, H, H_next)
    WH = W.astype(np.float64) @ H
    expected = H * ((W.T @ (V / WH ** 2)) / (W.T @ (1 / WH))) ** gamma
    assert np.max(np.abs(H_next - expected) / expected) < tol


@needs_numba
@pytest.mark.parametrize("beta", [0.0, 1.0, 1.5])
def test_fixed_components_stay_bit_identical(beta):
    V, W0, H0, problem = problem_data(np.float32, beta)
    _, W, H = run(solvers.FusedBetaMU, V, W0, H0, problem, 5)
    np.testing.assert_array_equal(W[:, ~problem.free_W], W0[:, ~problem.free_W])
    np.testing.assert_array_equal(H[~problem.free_H], H0[~problem.free_H])


@needs_numba
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_all_templates_fixed_skips_the_w_products(beta):
    # supervised use (fix_W=True): the pass has no W sweep, H still equals NumPy's MU
    V, W0, H0, problem = problem_data(np.float64, beta)
    problem = Problem(beta=beta, free_W=np.zeros(K, bool), free_H=np.ones(K, bool), eps=problem.eps)
    loss_ref, _, H_ref = run(BetaMU, V, W0, H0, problem, 8)
    loss, W, H = run(solvers.FusedBetaMU, V, W0, H0, problem, 8)
    np.testing.assert_array_equal(W, W0)
    assert max_rel(H, H_ref) < 1e-12 and max_rel(loss, loss_ref) < 1e-12  # float64 summation order


@needs_numba
@pytest.mark.parametrize("beta", [0.0, 1.0, 2.5])
def test_parallel_pass_equals_serial_pass_bit_for_bit(beta, monkeypatch):
    # the task split is fixed, so the thread count cannot change the result
    V, W0, H0, problem = problem_data(np.float32, beta)
    monkeypatch.setattr(kernels, "PARALLEL_MIN_WORK", 10**12)
    serial = run(solvers.FusedBetaMU, V, W0, H0, problem, 4)
    monkeypatch.setattr(kernels, "PARALLEL_MIN_WORK", 0)
    parallel = run(solvers.FusedBetaMU, V, W0, H0, problem, 4)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


@needs_numba
@pytest.mark.parametrize("beta", [0.0, 1.0, 0.5, 2.5])
@pytest.mark.parametrize("pass_class", ["BetaPass", "GemmBetaPass"])
def test_pass_loss_equals_divergence(beta, pass_class):
    # the loss the pass returns (fused pass, or its GEMM version for many components) is
    # the β-divergence of the factors it was given
    V, W0, H0, problem = problem_data(np.float64, beta)
    make = kernels.BetaPass if pass_class == "BetaPass" else gemm_pass.GemmBetaPass
    pass_ = make(V, K, beta=beta, gamma=1.0, eps=problem.eps if beta < 2 else 0.0,
                 free_H=np.ones(K, bool), l1_H=0.0, l2_H=0.0, update_W=True)
    WH = W0 @ H0
    if beta < 2:
        WH = np.maximum(WH, problem.eps)
    reference = divergence_from_model(V, WH, beta)
    assert pass_.run(W0, H0, np.empty_like(H0)) == pytest.approx(reference, rel=1e-12)  # float64


@needs_numba
def test_float32_kl_fit_tracks_numpy_reference_over_a_long_run():
    # 200 iterations of KL on a spectrogram-like matrix: the fits stay within 1e-3 and
    # the loss curves within 1e-4 (float32 rounding compounding, not a different method)
    rng = np.random.default_rng(5)
    V = (rng.random((60, 6)) @ rng.random((6, 700)) + 0.01 * rng.random((60, 700))).astype(np.float32)
    W0, H0 = rng.random((60, 6)).astype(np.float32), rng.random((6, 700)).astype(np.float32)
    eps = default_floor(V)
    problem = Problem(beta=1.0, free_W=np.ones(6, bool), free_H=np.ones(6, bool), eps=eps)
    loss_ref, W_ref, H_ref = run(BetaMU, V, W0, H0, problem, 200)
    loss, W, H = run(solvers.FusedBetaMU, V, W0, H0, problem, 200)
    assert max_rel(loss, loss_ref) < 1e-4
    assert max_rel(W @ H, W_ref @ H_ref) < 1e-3


# --- Frobenius MU equals the plain β-MU at β = 2 -----------------------------------------------


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-11), (np.float32, 1e-4)])
def test_frobenius_mu_equals_beta_mu_at_two(dtype, tol):
    # the cached-product form (WᵀW H instead of Wᵀ(WH)) is the same update;
    # tolerance: float64 1e-11, float32 1e-4 relative (rounding over 12 iterations)
    V, W0, H0, problem = problem_data(dtype, 2.0)
    loss_ref, W_ref, H_ref = run(BetaMU, V, W0, H0, problem, 12)
    loss, W, H = run(FrobeniusMU, V, W0, H0, problem, 12)
    assert max_rel(loss, loss_ref) < tol
    assert max_rel(W, W_ref) < tol and max_rel(H, H_ref) < tol


def test_frobenius_mu_with_fixed_W_is_the_plain_update():
    # With W fixed the step skips V Hᵀ (only W's update needs it); H and the loss must be
    # the textbook update H ← H ⊙ WᵀV / (WᵀW H) and ½‖V − WH‖², W untouched.  float64,
    # 1e-12 relative (summation order only).
    V, W0, H0, _ = problem_data(np.float64, 2.0)
    problem = Problem(beta=2.0, free_W=np.zeros(K, bool), free_H=np.ones(K, bool), eps=0.0)
    loss, W, H = run(FrobeniusMU, V, W0, H0, problem, 15)
    H_ref = H0.copy()
    for _ in range(15):
        H_ref *= (W0.T @ V) / np.maximum(W0.T @ W0 @ H_ref, np.finfo(np.float64).tiny)
    assert np.array_equal(W, W0)
    assert max_rel(H, H_ref) < 1e-12
    assert abs(loss[-1] - 0.5 * np.sum((V - W0 @ H_ref) ** 2)) < 1e-12 * loss[0]


# --- small pieces -------------------------------------------------------------------------------


@needs_numba
def test_log32_within_four_ulp():
    rng = np.random.default_rng(6)
    x = np.concatenate([
        np.exp(rng.uniform(-80, 80, 200_000)),  # the whole normal float32 range
        1 + rng.uniform(-0.3, 0.3, 100_000),  # near 1, where log is small
        [np.finfo(np.float32).tiny, 1.0, np.sqrt(2), np.sqrt(0.5), 2.0, 0.5, 3e38],
        [1e-40, 1e-44, np.finfo(np.float32).smallest_subnormal],  # subnormals
    ]).astype(np.float32)
    ours = kernels.log32(x).astype(np.float64)
    exact = np.log(x.astype(np.float64))
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    # error at most 4 float32 ulp of the result (or of 1e-7 where the result is ~0)
    assert np.max(np.abs(ours - exact) / np.maximum(ulp, np.spacing(np.float32(1e-7)))) <= 4


@pytest.mark.parametrize("layout", ["C", "F"])
def test_dot64_is_float64_accurate(layout):
    rng = np.random.default_rng(7)
    a = np.asarray(rng.random((300, 500), dtype=np.float32), order=layout)
    b = np.asarray(rng.random((300, 500), dtype=np.float32), order=layout)
    exact = float(np.vdot(a.astype(np.float64), b.astype(np.float64)))
    assert kernels.dot64(a, b) == pytest.approx(exact, rel=1e-13)  # float64 accumulation


def test_to_blocks_keeps_every_column():
    V = np.random.default_rng(8).random((7, 2 * kernels.BLOCK + 5)).astype(np.float32)
    blocks = kernels.to_blocks(np.asfortranarray(V))
    assert blocks.shape == (3, 7, kernels.BLOCK)
    rebuilt = np.concatenate(list(blocks), axis=1)[:, : V.shape[1]]
    np.testing.assert_array_equal(rebuilt, V)


def test_task_bounds_cover_all_columns_in_whole_blocks():
    for n in (1, kernels.BLOCK, kernels.BLOCK + 1, 7750, 100_000):
        bounds = kernels.task_bounds(n)
        assert bounds[0] == 0 and bounds[-1] == n and np.all(np.diff(bounds) > 0)
        assert np.all(bounds[1:-1] % kernels.BLOCK == 0)
        assert bounds.size - 1 <= kernels.MAX_TASKS


# --- memory and the NumPy fallback --------------------------------------------------------------


@needs_numba
@pytest.mark.parametrize("level", [1.0, 300.0])
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_fit_holds_at_most_three_work_arrays(beta, level):
    # issue 5: beyond V, a fit holds no more than ~3 F x T float32 arrays (tracemalloc
    # sees NumPy's allocations); zeros force the floored copy of V, and a level far from
    # 1 the power-of-two scaled copy: the worst case
    rng = np.random.default_rng(9)
    V = rng.random((257, 3000)).astype(np.float32) * np.float32(level)
    V[:, :50] = 0
    nmfaudio.factorize(V, 8, beta=beta, max_iter=2, tol=0, random_state=0)  # compile, warm up
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    nmfaudio.factorize(V, 8, beta=beta, max_iter=3, tol=0, random_state=0)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert peak <= 3 * V.nbytes, f"peak {peak / V.nbytes:.2f} x F·T"


def test_engine_works_without_numba(monkeypatch):
    # with numba missing, MU falls back to the NumPy updates (same results)
    monkeypatch.setattr(solvers, "HAVE_NUMBA", False)
    V, W0, H0, problem = problem_data(np.float64, 1.0)
    assert isinstance(solvers.make_mu(V, W0.copy(), H0.copy(), problem), BetaMU)
    res = nmfaudio.factorize(V, K, beta=1, W=W0, H=H0, max_iter=5, tol=0)
    assert np.all(np.isfinite(res.loss)) and np.all(np.diff(res.loss) <= 1e-10 * res.loss[0])
    # loss_every: the NumPy updates skip the loss in the gaps, same factors
    gaps = nmfaudio.factorize(V, K, beta=1, W=W0, H=H0, max_iter=5, tol=0, loss_every=2)
    assert np.flatnonzero(np.isfinite(gaps.loss)).tolist() == [0, 2, 4, 5]
    np.testing.assert_array_equal(gaps.W, res.W)
    np.testing.assert_array_equal(gaps.H, res.H)


def test_package_imports_and_fits_when_numba_is_missing():
    # a fresh interpreter in which `import numba` fails: the engine still imports and fits
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import numpy as np, nmfaudio\n"
        "from nmfaudio.nmf import kernels\n"
        "assert not kernels.HAVE_NUMBA\n"
        "V = np.random.default_rng(0).random((20, 30))\n"
        "r = nmfaudio.factorize(V, 3, beta='kullback-leibler', max_iter=20, tol=0, random_state=0)\n"
        "assert np.all(np.diff(r.loss) <= 1e-10 * r.loss[0])\n"
        "r = nmfaudio.factorize(V, 3, max_iter=20, tol=0, random_state=0)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# --- HALS: the numba sweeps equal the Python sweeps ---------------------------------------------


@needs_numba
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_hals_numba_sweeps_equal_python_sweeps(dtype, tol, monkeypatch):
    # same Gauss-Seidel updates, only the summation order of the gradient differs;
    # tolerance: float64 1e-10, float32 1e-4 relative after 10 iterations
    V, W0, H0, problem = problem_data(dtype, 2.0)
    fast = run(solvers.FrobeniusHALS, V, W0, H0, problem, 10)
    monkeypatch.setattr(solvers, "HAVE_NUMBA", False)
    slow = run(solvers.FrobeniusHALS, V, W0, H0, problem, 10)
    for a, b in zip(fast, slow):
        assert max_rel(a, b) < tol
    np.testing.assert_array_equal(fast[1][:, ~problem.free_W], W0[:, ~problem.free_W])
    np.testing.assert_array_equal(fast[2][~problem.free_H], H0[~problem.free_H])


@needs_numba
def test_fit_in_a_forked_child_after_a_fit_in_the_parent(monkeypatch):
    # the thread pool made by the parent has no threads in a fork(): the child must not hang
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(kernels, "PARALLEL_MIN_WORK", 0)
    V, W0, H0, _ = problem_data(np.float32, 1.0)
    parent = nmfaudio.factorize(V, K, beta=1, W=W0, H=H0, max_iter=3, tol=0)
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        child_loss = pool.apply_async(_fit_loss, (V, W0, H0)).get()
    assert child_loss == parent.loss[-1]  # same computation, bit for bit


def _fit_loss(V, W0, H0):
    kernels.PARALLEL_MIN_WORK = 0
    return nmfaudio.factorize(V, K, beta=1, W=W0, H=H0, max_iter=3, tol=0).loss[-1]


@needs_numba
@pytest.mark.parametrize("beta", [0.0, 1.0, 0.5, 1.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_divergence_kernel_equals_the_definition(beta, dtype):
    """kernels.divergence(V, L) (one pass, fast log for float32) equals the float64
    definition to 1e-6 relative (float32) / 1e-10 (float64); KL keeps exact zeros of V
    (0 · log 0 = 0), the case the engine never sees but the drum fit does."""
    rng = np.random.default_rng(3)
    V = (rng.random((F, T)) ** 2).astype(dtype)
    if beta == 1:
        V[rng.random(V.shape) < 0.2] = 0
    else:
        V += dtype(0.01)
    L = (rng.random((F, T)) + 0.05).astype(dtype)
    v, x = V.astype(np.float64), L.astype(np.float64)
    if beta == 1:
        expected = np.sum(np.where(v > 0, v * np.log(np.where(v > 0, v, 1) / x), 0) - v + x)
    elif beta == 0:
        expected = np.sum(v / x - np.log(v / x) - 1)
    else:
        expected = np.sum(v**beta + (beta - 1) * x**beta - beta * v * x ** (beta - 1)) / (beta * (beta - 1))
    got = kernels.divergence(V, L, beta)
    assert np.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-6 if dtype == np.float32 else 1e-10)


@needs_numba
@pytest.mark.parametrize("spread", [1.0, 1e6])
def test_float32_is_loss_without_a_log_per_entry(spread):
    """Float32 Itakura-Saito sums its loss as Σ(q − 1) + Σ log WH − Σ log V (exponents and
    mantissa products instead of a log per entry): the pass selects that mode, and its
    loss equals the float64 definition to 1e-6 relative, near a fit and far from one,
    with floored zeros and entries spread over `spread` orders of magnitude."""
    rng = np.random.default_rng(11)
    W = rng.random((F, K)).astype(np.float32) + 0.05
    H = rng.random((K, T)).astype(np.float32) + 0.05
    for noise in (0.01, 1.0):  # close to the model, and far from it
        V = (W @ H) * np.exp(noise * rng.standard_normal((F, T))).astype(np.float32)
        V *= np.float32(spread) ** rng.random((F, T)).astype(np.float32)
        V[rng.random(V.shape) < 0.05] = 0
        eps = default_floor(V)
        V_fit, _ = floor_data(V.astype(np.float32), 0.0, eps)
        pass_ = kernels.BetaPass(V_fit, K, beta=0.0, gamma=0.5, eps=eps, free_H=np.ones(K, bool),
                                 l1_H=0.0, l2_H=0.0, update_W=True)
        assert pass_.mode == kernels.MODE_IS_SPLIT
        WH = np.maximum(W.astype(np.float64) @ H.astype(np.float64), eps)
        ratio = V_fit.astype(np.float64) / WH
        reference = float(np.sum(ratio - np.log(ratio) - 1))
        assert pass_.run(W, H, np.empty_like(H)) == pytest.approx(reference, rel=1e-6)
    # at an exact fit the loss is float32 rounding of the model (~1e-15 per entry): it must
    # stay that tiny (either sign, rounding), not the 1e-3-sized noise of sums that cancel
    V = (W @ H).astype(np.float32) * np.float32(spread)
    eps = default_floor(V)
    pass_ = kernels.BetaPass(V, K, beta=0.0, gamma=0.5, eps=eps, free_H=np.ones(K, bool),
                             l1_H=0.0, l2_H=0.0, update_W=True)
    loss = pass_.run(W * np.float32(spread), H, np.empty_like(H))
    assert abs(loss) <= 1e-13 * V.size


@needs_numba
@pytest.mark.parametrize("pass_class", ["BetaPass", "GemmBetaPass"])
@pytest.mark.parametrize("spread", [1.0, 1e6])
def test_float32_kl_loss_shares_the_weights_division(spread, pass_class):
    """Float32 Kullback-Leibler takes the log's range reduction from the bit patterns of
    v and WH and one division for the weight and the log (MODE_KL_SPLIT): its loss equals
    the float64 definition to 1e-6 relative near a fit and far from one, with floored
    zeros and entries spread over `spread` orders of magnitude; its H update equals the
    plain mode's to 1e-6 (the weights are within 3 ulp of v / WH); an exact fit's loss
    stays at the float32 rounding of the model.  Float64, and a floor below KL_SPLIT_MIN_EPS, keep the plain mode."""
    make = kernels.BetaPass if pass_class == "BetaPass" else gemm_pass.GemmBetaPass
    rng = np.random.default_rng(12)
    W = rng.random((F, K)).astype(np.float32) + 0.05
    H = rng.random((K, T)).astype(np.float32) + 0.05
    options = dict(gamma=1.0, free_H=np.ones(K, bool), l1_H=0.0, l2_H=0.0, update_W=True)
    for noise in (1e-3, 1.0):  # close to the model, and far from it
        V = (W @ H) * np.exp(noise * rng.standard_normal((F, T))).astype(np.float32)
        V *= np.float32(spread) ** rng.random((F, T)).astype(np.float32)
        V[rng.random(V.shape) < 0.05] = 0
        eps = default_floor(V)
        V_fit, _ = floor_data(V.astype(np.float32), 1.0, eps)
        pass_ = make(V_fit, K, beta=1.0, eps=eps, **options)
        assert pass_.mode == kernels.MODE_KL_SPLIT
        plain = make(V_fit, K, beta=1.0, eps=eps, **options)
        plain.mode = kernels.MODE_KL
        WH = np.maximum(W.astype(np.float64) @ H.astype(np.float64), eps)
        v = V_fit.astype(np.float64)
        reference = float(np.sum(v * np.log(v / WH) - v + WH))
        H_split, H_plain = np.empty_like(H), np.empty_like(H)
        assert pass_.run(W, H, H_split) == pytest.approx(reference, rel=1e-6)
        plain.run(W, H, H_plain)
        assert max_rel(H_split, H_plain) < 1e-6
    # at an exact fit each term is float32 rounding of the model (WH here and in NumPy
    # differ by an ulp): the loss must stay that tiny, not ~1e-8 Σ V (a log's error)
    V = (W @ H).astype(np.float32) * np.float32(spread)
    pass_ = make(V, K, beta=1.0, eps=default_floor(V), **options)
    assert abs(pass_.run(W * np.float32(spread), H, np.empty_like(H))) <= 1e-13 * float(V.sum(dtype=np.float64))
    assert make(V.astype(np.float64), K, beta=1.0, eps=1e-8, **options).mode == kernels.MODE_KL
    assert make(V, K, beta=1.0, eps=kernels.KL_SPLIT_MIN_EPS / 2, **options).mode == kernels.MODE_KL
    # the preconditions are checked on V itself, whoever builds the pass: a V above
    # KL_SPLIT_MAX_V, or one not floored (zeros: the split weight would be 0·∞ = NaN),
    # keeps the plain mode, whose loss and update stay finite
    big = V * np.float32(2.0**31 / float(V.max()))
    assert make(big, K, beta=1.0, eps=default_floor(big), **options).mode == kernels.MODE_KL
    holes = V.copy()
    holes[rng.random(V.shape) < 0.05] = 0
    pass_ = make(holes, K, beta=1.0, eps=default_floor(holes), **options)
    assert pass_.mode == kernels.MODE_KL
    H_next = np.empty_like(H)
    assert np.isfinite(pass_.run(W * np.float32(spread), H, H_next)) and np.isfinite(H_next).all()


@pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="needs numba")
def test_multiplicative_updates_hold_decaying_entries_at_the_flush_level():
    # Components absent from half the columns: their activations there decay
    # geometrically under MU and would turn subnormal (slow on Intel CPUs) — the updates
    # hold them at flush_level instead (zeros stay zero), and the fit is unharmed.
    rng = np.random.default_rng(11)
    W = rng.random((60, 3)).astype(np.float32) + 0.1
    H = rng.random((3, 80)).astype(np.float32) + 0.1
    H[0, :40] = 0
    V = W @ H
    H0 = H.copy()
    H0[1:, :40] *= 4  # the model overshoots there, so the update shrinks component 0 fast
    H0[0, :40] = 3e-19  # just above the flush level (1.1e-19): the first update takes it below
    res = nmfaudio.factorize(V, 3, beta="kullback-leibler", solver="mu", W=W, H=H0, fix_W=True,
                             max_iter=300, tol=0)
    level = kernels.flush_level(np.float32)
    assert level == pytest.approx(np.sqrt(np.finfo(np.float32).tiny))
    for factor in (res.W, res.H):
        assert not np.any((factor > 0) & (factor < np.float32(level)))
    assert np.count_nonzero(res.H[0, :40] == np.float32(level)) >= 20  # they did decay that far
    # Monotone up to the float32 rounding of the loss's terms (eps32 · ΣV, absolute):
    # V is exactly W @ H, so after the first update the loss is rounding noise of
    # ~1e-6 whose sign depends on the last bit of each H entry.
    rounding = np.finfo(np.float32).eps * float(V.sum())
    assert np.all(np.diff(res.loss) <= 1e-6 * res.loss[:-1] + rounding)
    assert res.loss[-1] < 1e-3 * res.loss[0]
    H0[2, 5] = 0  # a zero stays zero
    res = nmfaudio.factorize(V, 3, beta="kullback-leibler", solver="mu", W=W, H=H0, max_iter=5, tol=0)
    assert res.H[2, 5] == 0
