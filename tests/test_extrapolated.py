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
