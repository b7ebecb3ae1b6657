"""The extrapolated MU solver's safeguards (nmfaudio.nmf.extrapolated): the reported
loss never rises, and an over-relaxed exponent that raises the loss is dropped for the
MM exponent."""

import numpy as np
import pytest

from nmfaudio.nmf import kernels, solvers
from nmfaudio.nmf.extrapolated import ExtrapolatedBetaMU, relaxed_exponent

from test_kernels import problem_data

needs_numba = pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="numba not installed")


def fit(beta, relaxed_gamma, n_iter=40):
    V, W0, H0, problem = problem_data(np.float32, beta)
    gamma = solvers.mm_exponent(beta)
    solver = ExtrapolatedBetaMU(V, W0.copy(), H0.copy(), problem, gamma=gamma, ratio=solvers.mu_ratio,
                                relaxed_gamma=relaxed_gamma)
    losses = np.array([solver.start()] + [solver.step() for _ in range(n_iter)])
    return solver, losses, W0, H0, problem


def test_relaxed_exponent_only_below_kl():
    assert relaxed_exponent(0.0, 0.5) == 0.75
    assert 1 / 1.5 < relaxed_exponent(0.5, 1 / 1.5) < 1
    assert relaxed_exponent(1.0, 1.0) is None and relaxed_exponent(2.5, 1 / 1.5) is None


@needs_numba
def test_amu_starts_over_relaxed_for_itakura_saito():
    V, W0, H0, problem = problem_data(np.float32, 0.0)
    solver = solvers.make_amu(V, W0.copy(), H0.copy(), problem)
    assert solver.gamma == 0.75 and solver.mm_gamma == 0.5
    assert solver.compiled  # the default solver takes the compiled W step


@needs_numba
@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_an_exponent_that_raises_the_loss_is_dropped_and_the_loss_never_rises(beta):
    # exponent 4: plain updates overshoot and raise the loss; the solver must fall back
    # to the MM exponent, never report a higher loss, and keep descending after that
    solver, losses, W0, H0, problem = fit(beta, relaxed_gamma=4.0)
    assert solver.gamma == solver.mm_gamma
    assert np.all(np.diff(losses) <= 0)
    assert losses[-1] < 0.9 * losses[0]
    np.testing.assert_array_equal(solver.W[:, ~problem.free_W], W0[:, ~problem.free_W])
    np.testing.assert_array_equal(solver.H[~problem.free_H], H0[~problem.free_H])


@needs_numba
def test_default_itakura_saito_fit_descends_monotonically():
    solver, losses, *_ = fit(0.0, relaxed_gamma=relaxed_exponent(0.0, 0.5), n_iter=60)
    assert np.all(np.diff(losses) <= 0) and losses[-1] < 0.9 * losses[0]


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, 1])
def test_compiled_extrapolation_equals_the_numpy_form_bit_for_bit(monkeypatch, dtype, axis):
    # H-like (k, n) factors extrapolate along rows, W-like (n, k) along columns; one
    # component is frozen, some entries fall below the keep fraction or the flush level.
    from nmfaudio.nmf import extrapolated

    rng = np.random.default_rng(3)
    shape = (6, 300) if axis == 0 else (300, 6)
    new = rng.random(shape).astype(dtype)
    old = (new * rng.uniform(0.5, 3.0, shape)).astype(dtype)  # some moves go below keep·new
    tiny = kernels.flush_level(dtype)
    index = (slice(0, 1), slice(0, 20)) if axis == 0 else (slice(0, 20), slice(0, 1))
    new[index] = tiny * 0.3  # below the flush level
    free = np.array([0, 1, 2, 4, 5])  # component 3 frozen
    solver = ExtrapolatedBetaMU.__new__(ExtrapolatedBetaMU)
    solver.momentum, solver.keep = 0.83, ExtrapolatedBetaMU.keep
    compiled = solver._extrapolate(new, old, free, axis)
    monkeypatch.setattr(extrapolated, "HAVE_NUMBA", False)
    reference = solver._extrapolate(new, old, free, axis)
    assert compiled.dtype == reference.dtype == dtype
    np.testing.assert_array_equal(compiled, reference)
    frozen = (3,) if axis == 0 else (slice(None), 3)
    np.testing.assert_array_equal(compiled[frozen], new[frozen])  # frozen: untouched
    assert np.count_nonzero((compiled > 0) & (compiled < tiny)) == 0


@needs_numba
@pytest.mark.parametrize("beta", [1.0, 0.0])
@pytest.mark.parametrize("gemm", [False, True], ids=["fused pass", "GEMM pass"])
def test_compiled_w_and_h_steps_follow_the_numpy_form(monkeypatch, beta, gemm):
    # The whole trajectory (accepted and rejected candidates, the exponent switch for IS)
    # with the compiled W update/extrapolation and H step against the NumPy form, frozen
    # components and penalties on both factors; GEMM_MIN_K lowered so that the same
    # problem also runs on the GEMM pass (its task products have another layout).
    from nmfaudio.nmf import gemm_pass

    if gemm:
        monkeypatch.setattr(gemm_pass, "GEMM_MIN_K", {key: 1 for key in gemm_pass.GEMM_MIN_K})
    V, W0, H0, problem = problem_data(np.float32, beta)
    gamma = solvers.mm_exponent(beta)
    runs = []
    for compiled in (True, False):
        solver = ExtrapolatedBetaMU(V, W0.copy(), H0.copy(), problem, gamma=gamma, ratio=solvers.mu_ratio,
                                    relaxed_gamma=relaxed_exponent(beta, gamma), compiled=True)
        assert solver.compiled and isinstance(solver.pass_, gemm_pass.GemmBetaPass) == gemm
        solver.compiled = compiled
        losses = np.array([solver.start()] + [solver.step() for _ in range(40)])
        runs.append((losses, solver.W, solver.H, solver.gamma))
    (loss_c, W_c, H_c, gamma_c), (loss_n, W_n, H_n, gamma_n) = runs
    assert gamma_c == gamma_n
    np.testing.assert_array_equal(W_c[:, ~problem.free_W], W0[:, ~problem.free_W])
    np.testing.assert_array_equal(H_c[~problem.free_H], H0[~problem.free_H])
    if beta == 1.0:  # γ = 1: the same float32 arithmetic in the same order
        np.testing.assert_array_equal(loss_c, loss_n)
        np.testing.assert_array_equal(W_c, W_n)
        np.testing.assert_array_equal(H_c, H_n)
    else:
        # γ = 0.75: libm's powf and NumPy's differ by an ulp on a few entries per step
        # (see the next test); 40 iterations carry that to ~2e-7 of the largest entry
        # (measured) and 1e-7 of the loss
        np.testing.assert_allclose(loss_c, loss_n, rtol=1e-5, atol=0)
        assert np.max(np.abs(W_c - W_n)) <= 1e-5 * np.max(W_n)
        assert np.max(np.abs(H_c - H_n)) <= 1e-5 * np.max(H_n)


@needs_numba
@pytest.mark.parametrize("beta, gamma", [(1.0, 1.0), (0.0, 0.5), (0.0, 0.75), (1.0, 0.6)])
def test_one_compiled_step_equals_the_numpy_step_to_an_ulp(beta, gamma):
    # From one state, one extrapolated advance both ways: γ = 1 and 1/2 (a square root
    # in both) bit for bit; other exponents within 2 ulp (powf against NumPy's power)
    V, W0, H0, problem = problem_data(np.float32, beta)
    solver = ExtrapolatedBetaMU(V, W0.copy(), H0.copy(), problem, gamma=gamma, ratio=solvers.mu_ratio, compiled=True)
    solver.start()
    for _ in range(5):
        solver.step()
    state = (solver.Wc, solver.Hc, solver.W_mu, solver.H_mu)
    out = []
    for compiled in (True, False):
        solver.compiled = compiled
        solver.Wc, solver.Hc, solver.W_mu, solver.H_mu = (a.copy() for a in state)
        solver._advance(extrapolate=True)
        out.append((solver.Wc, solver.W_mu, solver.Hc, solver.H_mu))
    for a, b in zip(*out):
        if gamma in (1.0, 0.5):
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=5e-7, atol=0)


@needs_numba
@pytest.mark.parametrize("case", ["W in Fortran order", "all templates fixed"])
def test_compiled_steps_take_fortran_order_and_fixed_templates(case):
    # the flat W step assumes C order (a warm start's W comes transposed) and reads no
    # products when the pass made none (all templates fixed): the same trajectory as NumPy
    from dataclasses import replace

    V, W0, H0, problem = problem_data(np.float32, 1.0)
    if case == "all templates fixed":
        problem = replace(problem, free_W=np.zeros_like(problem.free_W))
    runs = []
    for compiled in (True, False):
        solver = ExtrapolatedBetaMU(V, W0.copy(), H0.copy(), problem, gamma=1.0, ratio=solvers.mu_ratio,
                                    compiled=True)
        solver.compiled = compiled
        losses = [solver.start()]
        if case == "W in Fortran order":  # the candidate and the MU sequence, as after a warm start
            solver.Wc, solver.W_mu = np.asfortranarray(solver.Wc), np.asfortranarray(solver.W_mu)
        losses = np.array(losses + [solver.step() for _ in range(10)])
        runs.append((losses, solver.W.copy(), solver.H.copy()))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
