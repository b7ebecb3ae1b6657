"""Coordinate descent (solver='ccd', KL/IS) and extrapolated MU (solver='amu', β ≠ 2):
the invariants the engine's other solvers keep."""

import numpy as np
import pytest

from nmfaudio import beta_divergence, factorize

CASES = [("ccd", 1.0), ("ccd", 0.0), ("amu", 1.0), ("amu", 0.0), ("amu", 0.5)]


def planted(seed=0, shape=(40, 60), k=3, dtype=np.float32):
    rng = np.random.default_rng(seed)
    W = rng.random((shape[0], k)) + 0.05
    H = rng.random((k, shape[1])) + 0.05
    return (W @ H).astype(dtype)


def noisy(seed=1, shape=(50, 70), dtype=np.float32):
    rng = np.random.default_rng(seed)
    V = planted(seed, shape, 4, np.float64) * rng.gamma(4.0, 0.25, shape)
    return V.astype(dtype)


@pytest.mark.parametrize("solver, beta", CASES)
def test_loss_never_increases(solver, beta):
    V = noisy()
    res = factorize(V, 4, beta=beta, solver=solver, max_iter=60, tol=0, random_state=0)
    steps = np.diff(res.loss)
    # float32 sums of ~3500 terms: allow rounding of 1e-6 of the loss
    assert np.all(steps <= 1e-6 * res.loss[:-1]), steps.max()
    assert res.loss[-1] < 0.5 * res.loss[0]


@pytest.mark.parametrize("solver, beta", CASES)
def test_reported_loss_is_the_loss_of_the_factors(solver, beta):
    V = noisy(dtype=np.float64)
    res = factorize(V, 4, beta=beta, solver=solver, max_iter=25, tol=0, random_state=3)
    assert res.loss[-1] == pytest.approx(beta_divergence(V, res.W, res.H, beta=beta), rel=1e-6)


@pytest.mark.parametrize("solver, beta", CASES)
def test_planted_factorization_is_recovered(solver, beta):
    V = planted()
    res = factorize(V, 3, beta=beta, solver=solver, max_iter=400, tol=0, random_state=1)
    relative = np.linalg.norm(V - res.W @ res.H) / np.linalg.norm(V)
    assert relative < 0.02, relative
    assert res.W.dtype == np.float32 and res.H.dtype == np.float32
    assert res.W.min() >= 0 and res.H.min() >= 0


@pytest.mark.parametrize("solver, beta", CASES)
def test_frozen_components_are_bit_identical(solver, beta):
    V = noisy()
    rng = np.random.default_rng(5)
    W0 = rng.random((V.shape[0], 4)).astype(np.float32)
    W0[0, 1] = 1e-30  # below kernels.flush_level: a frozen entry is kept all the same
    H0 = rng.random((4, V.shape[1])).astype(np.float32)
    res = factorize(V, 4, beta=beta, solver=solver, W=W0, H=H0, fix_W=[1, 3], max_iter=20, tol=0)
    assert np.array_equal(res.W[:, [1, 3]], W0[:, [1, 3]])
    assert not np.array_equal(res.W[:, 0], W0[:, 0])
    res = factorize(V, 4, beta=beta, solver=solver, W=W0, H=H0, fix_H=True, max_iter=20, tol=0)
    assert np.array_equal(res.H, H0)
    res = factorize(V, 4, beta=beta, solver=solver, W=W0, H=H0, fix_W=True, max_iter=20, tol=0)
    assert np.array_equal(res.W, W0)
    assert np.all(np.diff(res.loss) <= 1e-6 * res.loss[:-1])


@pytest.mark.parametrize("solver, beta", CASES)
def test_zeros_in_v_give_finite_non_negative_factors(solver, beta):
    V = noisy()
    V[:, :10] = 0  # silence
    V[5] = 0
    res = factorize(V, 4, beta=beta, solver=solver, max_iter=40, tol=0, random_state=0)
    assert np.isfinite(res.loss).all() and np.isfinite(res.W).all() and np.isfinite(res.H).all()
    assert res.W.min() >= 0 and res.H.min() >= 0
    assert res.n_floored >= 10 * V.shape[0] or beta > 1
    # no subnormal entries: they are flushed to zero
    for factor in (res.W, res.H):
        assert not np.any((factor > 0) & (factor < np.finfo(np.float32).tiny))


@pytest.mark.parametrize("solver, beta", CASES)
def test_same_seed_same_result_and_callback(solver, beta):
    V = noisy()
    seen = []
    first = factorize(V, 4, beta=beta, solver=solver, max_iter=15, tol=0, random_state=7,
                      callback=lambda i, loss: seen.append((i, loss)) or i == 9)
    second = factorize(V, 4, beta=beta, solver=solver, max_iter=15, tol=0, random_state=7)
    assert first.stop_reason == "callback" and first.n_iter == 9
    assert [i for i, _ in seen] == list(range(1, 10))
    assert np.allclose([loss for _, loss in seen], first.loss[1:])
    third = factorize(V, 4, beta=beta, solver=solver, max_iter=9, tol=0, random_state=7)
    assert np.array_equal(first.W, third.W) and np.array_equal(first.H, third.H)
    assert second.n_iter == 15


@pytest.mark.parametrize("solver, beta", [("ccd", 1.0), ("amu", 1.0)])
def test_penalties_lower_the_penalized_objective(solver, beta):
    V = noisy()
    plain = factorize(V, 4, beta=beta, solver=solver, max_iter=60, tol=0, random_state=0)
    sparse = factorize(V, 4, beta=beta, solver=solver, l1_H=0.5, max_iter=60, tol=0, random_state=0)
    assert sparse.H.sum() < plain.H.sum()
    objective_sparse = sparse.loss[-1] + 0.5 * sparse.H.sum()
    objective_plain = plain.loss[-1] + 0.5 * plain.H.sum()
    assert objective_sparse <= objective_plain


def test_cd_refuses_other_betas():
    with pytest.raises(ValueError, match="solver='ccd' minimizes the Kullback-Leibler"):
        factorize(np.ones((4, 5)), 2, beta=0.5, solver="ccd")
    with pytest.raises(ValueError, match="solver='amu' is for beta != 2"):
        factorize(np.ones((4, 5)), 2, beta=2, solver="amu")
