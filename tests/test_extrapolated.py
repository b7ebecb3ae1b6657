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
