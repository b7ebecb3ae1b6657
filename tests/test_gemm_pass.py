"""The BLAS-product pass (nmfaudio.nmf.gemm_pass) gives the fused pass's updates: equal to
the plain NumPy updates within float32/float64 rounding, frozen components untouched;
make_pass picks it by the number of components.  (Its loss: test_kernels.py.)"""

import numpy as np
import pytest

from nmfaudio.nmf import extrapolated, gemm_pass, kernels, solvers
from nmfaudio.nmf.solvers import BetaMU, Problem

from test_kernels import BETAS, K, max_rel, problem_data, run

needs_numba = pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="numba not installed")


@pytest.fixture
def gemm_always(monkeypatch):
    """make_pass chooses the GEMM pass whatever k."""
    monkeypatch.setattr(gemm_pass, "GEMM_MIN_K", {kernels.MODE_KL: 1, "other": 1})


@needs_numba
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("dtype, loss_tol, factor_tol", [
    (np.float64, 1e-12, 1e-12),  # only the summation order differs
    (np.float32, 1e-5, 1e-4),  # float32 rounding over 12 iterations (as test_kernels)
], ids=["float64", "float32"])
def test_gemm_pass_mu_equals_numpy_mu(beta, dtype, loss_tol, factor_tol, gemm_always):
    V, W0, H0, problem = problem_data(dtype, beta)
    loss_ref, W_ref, H_ref = run(BetaMU, V, W0, H0, problem, 12)
    solver = solvers.FusedBetaMU(V, W0.copy(), H0.copy(), problem)
    assert isinstance(solver.pass_, gemm_pass.GemmBetaPass)
    loss, W, H = run(solvers.FusedBetaMU, V, W0, H0, problem, 12)
    assert max_rel(loss, loss_ref) < loss_tol
    assert max_rel(W, W_ref) < factor_tol and max_rel(H, H_ref) < factor_tol
    np.testing.assert_array_equal(W[:, ~problem.free_W], W0[:, ~problem.free_W])
    np.testing.assert_array_equal(H[~problem.free_H], H0[~problem.free_H])


@needs_numba
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_gemm_pass_with_all_templates_fixed(beta, gemm_always):
    V, W0, H0, problem = problem_data(np.float64, beta)
    problem = Problem(beta=beta, free_W=np.zeros(K, bool), free_H=np.ones(K, bool), eps=problem.eps)
    loss_ref, _, H_ref = run(BetaMU, V, W0, H0, problem, 8)
    loss, W, H = run(solvers.FusedBetaMU, V, W0, H0, problem, 8)
    np.testing.assert_array_equal(W, W0)
    assert max_rel(H, H_ref) < 1e-12 and max_rel(loss, loss_ref) < 1e-12


@needs_numba
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_extrapolated_solver_on_the_gemm_pass_never_raises_the_loss(beta, gemm_always):
    V, W0, H0, problem = problem_data(np.float32, beta)
    solver = extrapolated.ExtrapolatedBetaMU(V, W0.copy(), H0.copy(), problem, gamma=solvers.mm_exponent(beta),
                                             ratio=solvers.mu_ratio)
    assert isinstance(solver.pass_, gemm_pass.GemmBetaPass)
    losses = np.array([solver.start()] + [solver.step() for _ in range(30)])
    assert np.all(np.diff(losses) <= 0) and losses[-1] < losses[0]


@needs_numba
def test_make_pass_picks_by_components():
    V = np.random.default_rng(0).random((20, 30)).astype(np.float32)
    options = dict(gamma=1.0, eps=1e-6, l1_H=0.0, l2_H=0.0, update_W=True)
    for beta, k_gemm in ((1.0, gemm_pass.GEMM_MIN_K[kernels.MODE_KL]), (0.0, gemm_pass.GEMM_MIN_K["other"])):
        small = gemm_pass.make_pass(V, k_gemm - 1, beta=beta, free_H=np.ones(k_gemm - 1, bool), **options)
        large = gemm_pass.make_pass(V, k_gemm, beta=beta, free_H=np.ones(k_gemm, bool), **options)
        assert isinstance(small, kernels.BetaPass) and isinstance(large, gemm_pass.GemmBetaPass)
