"""Invariants of the NMF engine (``nmfaudio.factorize``), each with its tolerance."""

import warnings

import numpy as np
import pytest
from sklearn.decomposition._nmf import _beta_divergence as sklearn_beta_divergence

import nmfaudio
from nmfaudio import ConvergenceWarning, beta_divergence, factorize
from nmfaudio.nmf import SOLVERS
from nmfaudio.nmf.gemm_pass import GEMM_MIN_K

BETAS = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
# Every (beta, solver) pair the engine supports.
DOMAIN = {"mu": BETAS, "hals": [2.0], "ccd": [0.0, 1.0], "amu": [b for b in BETAS if b != 2.0]}
BETA_SOLVERS = [(b, s) for b in BETAS for s in SOLVERS if b in DOMAIN[s]]

# The NTNU task-1 matrices.
A1 = np.eye(2)
A2 = np.array([[1.0, 2.0], [1.0, 1.0], [1.0, 2.0]])
A3 = np.array([[2.0, 1.0, 1.0], [2.0, 1.0, 1.0], [1.0, 1.0, 2.0]])  # rank 2
A4 = np.array([[2.0, 1.0, 0.0], [1.0, 2.0, 3.0], [0.0, 3.0, 3.0]])  # rank 3


def naive_divergence(V, WH, beta):
    """Elementwise definition, in float64, with 0·log 0 = 0."""
    V, WH = V.astype(np.float64), WH.astype(np.float64)
    if beta == 2:
        return 0.5 * np.sum((V - WH) ** 2)
    if beta == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            log_term = np.where(V > 0, V * np.log(V / WH), 0.0)
        return np.sum(log_term - V + WH)
    if beta == 0:
        return np.sum(V / WH - np.log(V / WH) - 1)
    return np.sum((V**beta + (beta - 1) * WH**beta - beta * V * WH ** (beta - 1)) / (beta * (beta - 1)))


# --- the NTNU task-1 matrices ------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_identity_rank_one_error_is_one(seed):
    # ‖I₂ − WH‖_F = 1 at the optimum for d = 1 from any positive start (tolerance 1e-3).
    res = factorize(A1, 1, solver="mu", random_state=seed, max_iter=2000, tol=0)
    assert np.linalg.norm(A1 - res.W @ res.H) == pytest.approx(1.0, abs=1e-3)


def test_identity_rank_two_is_exact():
    # d = 2 factors I₂ exactly: relative error below 1e-4 for at least one of 5 seeds.
    errors = [np.linalg.norm(A1 - (r.W @ r.H)) for r in
              (factorize(A1, 2, solver="mu", random_state=s, max_iter=5000, tol=0) for s in range(5))]
    assert min(errors) < 1e-4


@pytest.mark.parametrize("A, rank, d", [(A2, 2, 1), (A2, 2, 2)]
                         + [(A, r, d) for A, r in ((A3, 2), (A4, 3)) for d in (1, 2, 3)])
def test_ntnu_matrices(A, rank, d):
    results = [factorize(A, d, solver="mu", random_state=s, max_iter=3000, tol=0) for s in range(5)]
    for res in results:
        # loss non-increasing per iteration (float64: 1e-12 of the start)
        assert np.all(np.diff(res.loss) <= 1e-12 * res.loss[0])
    best = min(np.linalg.norm(A - r.W @ r.H) / np.linalg.norm(A) for r in results)
    if d >= rank:
        assert best < 1e-3  # exact at d = rank for some seed (relative error < 1e-3)
    else:
        # below the rank NMF cannot beat the best rank-d SVD approximation
        s = np.linalg.svd(A, compute_uv=False)
        assert best >= np.sqrt(np.sum(s[d:] ** 2)) / np.linalg.norm(A) - 1e-9


def test_movie_ratings_split_into_franchises(ratings):
    res = factorize(ratings, 2, random_state=0, max_iter=500, tol=0)
    franchise = res.W.argmax(axis=1)  # the column of W each film loads on
    assert len(set(franchise[:3])) == 1 and len(set(franchise[3:])) == 1
    assert franchise[0] != franchise[3]


# --- the loss ---------------------------------------------------------------------------


@pytest.mark.parametrize("beta, solver", BETA_SOLVERS)
def test_loss_never_increases(beta, solver):
    rng = np.random.default_rng(1)
    V = rng.random((30, 40)) ** 2
    V[rng.random(V.shape) < 0.1] = 0  # zeros: exercised floor
    res = factorize(V, 5, beta=beta, solver=solver, random_state=0, max_iter=150, tol=0)
    steps = np.diff(res.loss)
    # float64: an increase above 1e-10 of the starting loss would be a real increase
    assert steps.max() <= 1e-10 * res.loss[0], f"max increase {steps.max():.3g}"
    assert res.loss[-1] < 0.5 * res.loss[0]


@pytest.mark.parametrize("beta, solver", BETA_SOLVERS)
def test_loss_never_increases_float32(beta, solver, planted):
    V, _, _ = planted((30, 40), rank=6, seed=2, dtype=np.float32)
    res = factorize(V, 3, beta=beta, solver=solver, random_state=0, max_iter=100, tol=0)
    # float32 rounding of the cached products: tolerate 1e-6 of the starting loss
    assert np.diff(res.loss).max() <= 1e-6 * res.loss[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta, solver, k", [(0.0, "mu", 4), (1.0, "mu", 4), (1.5, "mu", 4), (0.0, "mu", 24),
                                             (1.0, "mu", 24), (1.0, "amu", 4), (2.0, "hals", 4)])
def test_loss_every_leaves_gaps_and_the_same_factors(beta, solver, k, dtype, planted):
    # by default every loss is computed (no NaN); loss_every=10 computes iterations 0,
    # 10, 20, … and the last only (β-MU skips the loss's terms in between, with the
    # fused pass at k = 4 and the GEMM pass at k = 24; the others compute it and report
    # the same gaps), and W, H and the computed losses are bit-identical to the default's
    assert k < min(GEMM_MIN_K.values()) or k >= max(GEMM_MIN_K.values())
    V, _, _ = planted((40, 50), rank=5, seed=4, dtype=dtype)
    full = factorize(V, k, beta=beta, solver=solver, random_state=0, max_iter=25, tol=0)
    gaps = factorize(V, k, beta=beta, solver=solver, random_state=0, max_iter=25, tol=0, loss_every=10)
    assert full.loss.shape == gaps.loss.shape == (26,) and np.isfinite(full.loss).all()
    np.testing.assert_array_equal(gaps.W, full.W)
    np.testing.assert_array_equal(gaps.H, full.H)
    computed = np.isfinite(gaps.loss)
    assert np.flatnonzero(computed).tolist() == [0, 10, 20, 25]
    np.testing.assert_array_equal(gaps.loss[computed], full.loss[computed])


def test_loss_every_computes_every_loss_for_a_callback(planted):
    V, _, _ = planted((30, 40), rank=4, seed=6, dtype=np.float32)
    seen = []
    res = factorize(V, 3, beta="kullback-leibler", solver="mu", random_state=0, max_iter=15, tol=0, loss_every=10,
                    callback=lambda i, loss: seen.append(loss))
    assert np.isfinite(res.loss).all() and len(seen) == 15 and np.isfinite(seen).all()


@pytest.mark.parametrize("tol_rule", ["relative", "sklearn"])
@pytest.mark.parametrize("loss_every", [10, 3])
def test_mu_tolerance_stop_is_the_same_with_loss_every(tol_rule, loss_every, planted):
    # the stopping rules read the loss every CHECK_EVERY iterations, which loss_every
    # always computes (also when it is not a divisor of CHECK_EVERY)
    V, _, _ = planted((40, 50), rank=5, seed=5, dtype=np.float32)
    runs = [factorize(V, 4, beta="kullback-leibler", solver="mu", random_state=0, max_iter=500, tol=1e-3,
                      tol_rule=tol_rule, loss_every=every) for every in (1, loss_every)]
    assert runs[0].stop_reason == runs[1].stop_reason == "tol"
    assert runs[0].n_iter == runs[1].n_iter and runs[0].n_iter % 10 == 0
    np.testing.assert_array_equal(runs[0].W, runs[1].W)
    assert runs[0].loss[-1] == runs[1].loss[-1] and np.isfinite(runs[0].loss).all()
    expected = [i for i in range(runs[1].n_iter + 1) if i % loss_every == 0 or i % 10 == 0]
    assert np.flatnonzero(np.isfinite(runs[1].loss)).tolist() == expected


def test_solvers_that_skip_the_loss_take_with_loss():
    # factorize calls step(with_loss=False) on any solver whose loss_optional is True:
    # every such class (subclasses included: NMFD's ConvolutiveMU inherits from BetaMU)
    # must accept it
    import inspect

    from nmfaudio.nmf import extrapolated, nmfd, solvers

    classes = {c for module in (solvers, nmfd, extrapolated) for _, c in inspect.getmembers(module, inspect.isclass)
               if hasattr(c, "step")}
    optional = {c.__name__ for c in classes if getattr(c, "loss_optional", False)}
    assert {"BetaMU", "FusedBetaMU"} <= optional
    for c in classes:
        if getattr(c, "loss_optional", False):
            assert "with_loss" in inspect.signature(c.step).parameters, c.__name__


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_loss_every_is_validated(bad):
    with pytest.raises(ValueError, match=r"loss_every=.* must be an int >= 1"):
        factorize(np.ones((4, 5)), 2, loss_every=bad)


@pytest.mark.parametrize("beta", BETAS)
def test_loss_matches_naive_and_sklearn(beta):
    rng = np.random.default_rng(3)
    V, W, H = rng.random((20, 30)) + 0.05, rng.random((20, 4)), rng.random((4, 30))
    ours = beta_divergence(V, W, H, beta)
    assert ours == pytest.approx(naive_divergence(V, W @ H, beta), rel=1e-10)
    assert ours == pytest.approx(sklearn_beta_divergence(V, W, H, beta), rel=1e-10)


@pytest.mark.parametrize("beta, solver", BETA_SOLVERS)
def test_reported_loss_is_the_divergence_of_the_result(beta, solver):
    rng = np.random.default_rng(4)
    V = rng.random((25, 35))
    res = factorize(V, 4, beta=beta, solver=solver, random_state=1, max_iter=30, tol=0)
    # the cached loss equals a fresh computation (float64: 1e-9 relative)
    assert res.loss[-1] == pytest.approx(beta_divergence(V, res.W, res.H, beta), rel=1e-9, abs=1e-12)
    assert len(res.loss) == res.n_iter + 1 == 31


@pytest.mark.parametrize("name, value", [("frobenius", 2), ("kullback-leibler", 1), ("itakura-saito", 0)])
def test_beta_names(name, value):
    V = np.random.default_rng(0).random((10, 12)) + 0.1
    a = factorize(V, 2, beta=name, solver="mu", random_state=0, max_iter=20, tol=0)
    b = factorize(V, 2, beta=float(value), solver="mu", random_state=0, max_iter=20, tol=0)
    assert a.beta == value
    np.testing.assert_array_equal(a.W, b.W)


# --- recovery and precision --------------------------------------------------------------


@pytest.mark.parametrize("solver", ["hals", "mu"])
def test_planted_low_rank_is_recovered(solver, planted):
    V, _, _ = planted((60, 80), rank=4, seed=5)
    res = factorize(V, 4, solver=solver, random_state=0, max_iter=3000, tol=0)
    # relative reconstruction error below 1e-3 at the true rank
    assert np.linalg.norm(V - res.W @ res.H) / np.linalg.norm(V) < 1e-3


@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_planted_low_rank_recovered_kl_is(beta, planted):
    V, _, _ = planted((40, 50), rank=3, seed=6)
    res = factorize(V, 3, beta=beta, random_state=0, max_iter=3000, tol=0)
    assert np.linalg.norm(V - res.W @ res.H) / np.linalg.norm(V) < 1e-2


def test_planted_components_are_identified():
    # Separable planted factors (each component owns some rows and columns): the learned
    # W columns match the true ones up to order and scale (cosine > 0.999).
    rng = np.random.default_rng(7)
    W_true = rng.random((50, 3)) * (rng.random((50, 3)) < 0.4)
    W_true[:3] = np.eye(3) * 2
    H_true = rng.random((3, 60)) * (rng.random((3, 60)) < 0.4)
    H_true[:, :3] = np.eye(3) * 2
    res = factorize(W_true @ H_true, 3, random_state=0, max_iter=5000, tol=0)
    W_n = res.W / np.linalg.norm(res.W, axis=0)
    T_n = W_true / np.linalg.norm(W_true, axis=0)
    assert np.all((T_n.T @ W_n).max(axis=1) > 0.999)


@pytest.mark.parametrize("beta, solver", BETA_SOLVERS)
def test_float32_in_float32_out_close_to_float64(beta, solver, planted):
    V, _, _ = planted((30, 40), rank=5, seed=8)
    r64 = factorize(V, 3, beta=beta, solver=solver, random_state=0, max_iter=50, tol=0)
    r32 = factorize(V.astype(np.float32), 3, beta=beta, solver=solver, random_state=0, max_iter=50, tol=0)
    assert r32.W.dtype == np.float32 and r32.H.dtype == np.float32
    assert r64.W.dtype == np.float64
    # same start, same iterations: the fits agree to float32 rounding (1e-3 relative)
    rel = np.linalg.norm(r32.W @ r32.H - r64.W @ r64.H) / np.linalg.norm(r64.W @ r64.H)
    assert rel < 1e-3
    assert r32.loss[-1] == pytest.approx(r64.loss[-1], rel=1e-3)


def test_integer_input_becomes_float64():
    res = factorize(np.arange(12).reshape(3, 4), 2, random_state=0, max_iter=5, tol=0)
    assert res.W.dtype == np.float64 and res.H.dtype == np.float64


# --- fixed components --------------------------------------------------------------------


@pytest.mark.parametrize("beta, solver", BETA_SOLVERS)
@pytest.mark.parametrize("fix", [True, [0, 2], np.array([True, False, False, True])],
                         ids=["all", "indices", "mask"])
def test_fixed_templates_are_bit_identical(beta, solver, fix):
    rng = np.random.default_rng(9)
    V = rng.random((20, 25))
    W0 = rng.random((20, 4))
    res = factorize(V, 4, beta=beta, solver=solver, W=W0, fix_W=fix, random_state=0, max_iter=20, tol=0)
    fixed = np.ones(4, bool) if fix is True else (np.isin(np.arange(4), fix) if isinstance(fix, list) else fix)
    np.testing.assert_array_equal(res.W[:, fixed], W0[:, fixed])
    if not fixed.all():
        assert not np.array_equal(res.W[:, ~fixed], W0[:, ~fixed])
    assert np.diff(res.loss).max() <= 1e-10 * res.loss[0]


@pytest.mark.parametrize("solver", ["mu", "hals"])
def test_fixed_activations_are_bit_identical(solver):
    rng = np.random.default_rng(10)
    V, H0 = rng.random((20, 25)), rng.random((3, 25))
    res = factorize(V, 3, solver=solver, H=H0, fix_H=[1], random_state=0, max_iter=20, tol=0)
    np.testing.assert_array_equal(res.H[1], H0[1])
    assert not np.array_equal(res.H[0], H0[0])


def test_supervised_fit_with_true_templates_recovers_activations(planted):
    V, W_true, H_true = planted((50, 40), rank=3, seed=11)
    res = factorize(V, 3, W=W_true, fix_W=True, solver="mu", random_state=0, max_iter=2000, tol=0)
    np.testing.assert_allclose(res.H, H_true, rtol=1e-3, atol=1e-3)


# --- inputs, zeros, determinism ----------------------------------------------------------


def test_inputs_are_never_modified():
    rng = np.random.default_rng(12)
    V, W0, H0 = rng.random((15, 20)), rng.random((15, 3)), rng.random((3, 20))
    V[0, 0] = 0
    copies = [a.copy() for a in (V, W0, H0)]
    factorize(V, 3, beta=0, W=W0, H=H0, max_iter=10, tol=0)
    factorize(V, 3, beta=2, solver="hals", W=W0, H=H0, max_iter=10, tol=0)
    for original, copy in zip((V, W0, H0), copies):
        np.testing.assert_array_equal(original, copy)


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0])
def test_zeros_stay_finite_for_kl_and_is(beta):
    rng = np.random.default_rng(13)
    V = rng.random((30, 40))
    V[:, 10:20] = 0  # a silent stretch
    V[5] = 0  # an empty frequency band
    res = factorize(V, 4, beta=beta, random_state=0, max_iter=100, tol=0)
    assert np.all(np.isfinite(res.W)) and np.all(np.isfinite(res.H)) and np.all(np.isfinite(res.loss))
    assert res.W.min() >= 0 and res.H.min() >= 0
    assert res.n_floored == np.count_nonzero(V == 0)


def test_no_flooring_for_frobenius():
    V = np.zeros((5, 6))
    V[0, 0] = 1
    assert factorize(V, 1, max_iter=5, tol=0).n_floored == 0


@pytest.mark.parametrize("beta", [2.0, 1.0, 0.0])
def test_all_zero_input_gives_zero_factors(beta):
    res = factorize(np.zeros((8, 9), np.float32), 2, beta=beta, random_state=0)
    assert res.W.dtype == np.float32
    assert not res.W.any() and not res.H.any()
    assert res.loss.tolist() == [0.0] and res.converged


@pytest.mark.parametrize("init", ["nndsvd", "nndsvda", "nndsvdar"])
def test_all_zero_input_larger_than_50_gives_zero_factors_with_an_svd_start(init):
    """Past 50 rows and columns the SVD start is ARPACK's, which stopped on an all-zero V
    ("ARPACK error -9: Starting vector is zero": a black picture's `image compress`, and
    nmfaudio.NMF where scikit-learn's returns zeros).  Now zero factors, loss 0, as the
    random start and the small-matrix SVD give; scipy.sparse V alike."""
    import scipy.sparse

    from nmfaudio import NMF

    for V in (np.zeros((64, 70), np.float32), scipy.sparse.csr_matrix((200, 300))):
        res = factorize(V, 3, init=init, random_state=0)
        assert not res.W.any() and not res.H.any() and res.loss.tolist() == [0.0]
        assert not NMF(3, init=init).fit_transform(V).any()


@pytest.mark.parametrize("beta, solver", BETA_SOLVERS)
def test_same_seed_same_result(beta, solver):
    V = np.random.default_rng(14).random((20, 30))
    a = factorize(V, 3, beta=beta, solver=solver, random_state=42, max_iter=15, tol=0)
    b = factorize(V, 3, beta=beta, solver=solver, random_state=np.random.default_rng(42), max_iter=15, tol=0)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.H, b.H)


def test_global_random_state_untouched():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    factorize(np.random.default_rng(0).random((10, 10)), 2, max_iter=5, tol=0)
    factorize(np.random.default_rng(0).random((10, 10)), 2, init="nndsvdar", max_iter=5, tol=0)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("init", ["random", "nndsvd", "nndsvda", "nndsvdar"])
def test_inits_start_non_negative_and_converge(init, planted):
    V, _, _ = planted((60, 70), rank=5, seed=15)
    res = factorize(V, 5, init=init, random_state=0, max_iter=300, tol=0)
    assert res.W.min() >= 0 and res.H.min() >= 0
    assert res.loss[-1] < 1e-3 * res.loss[0]


def test_nndsvd_start_is_better_than_random(planted):
    V, _, _ = planted((60, 70), rank=5, seed=16)
    a = factorize(V, 5, init="nndsvd", max_iter=0)
    b = factorize(V, 5, init="random", random_state=0, max_iter=0)
    assert a.loss[0] < b.loss[0]


def test_random_init_scale():
    # uniform [0, 1) scaled by sqrt(mean(V)/k): entries below that bound, mean about half of it
    V = np.full((200, 300), 4.0)
    res = factorize(V, 4, max_iter=0, random_state=0)
    bound = np.sqrt(4.0 / 4)
    assert res.W.max() < bound and res.H.max() < bound
    assert res.W.mean() == pytest.approx(bound / 2, rel=0.05)


@pytest.mark.parametrize("solver", ["mu", "hals"])
def test_l1_makes_activations_sparser(solver):
    # With the templates fixed (the supervised use), an l1 penalty on H trades fit for
    # sparsity: more exact or near zeros (below 1e-3 of the largest activation).
    rng = np.random.default_rng(17)
    V, W0 = rng.random((30, 60)), rng.random((30, 6))
    dense = factorize(V, 6, W=W0, fix_W=True, solver=solver, random_state=0, max_iter=300, tol=0)
    sparse = factorize(V, 6, W=W0, fix_W=True, l1_H=2.0, solver=solver, random_state=0, max_iter=300, tol=0)
    frac = lambda H: np.mean(H < 1e-3 * H.max())  # noqa: E731
    assert frac(sparse.H) > frac(dense.H) + 0.1
    assert sparse.loss[-1] > dense.loss[-1]  # the fit pays for the sparsity


# --- stopping ----------------------------------------------------------------------------


def test_tol_zero_runs_exactly_max_iter_without_warning():
    V = np.random.default_rng(18).random((10, 12))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = factorize(V, 2, max_iter=37, tol=0)
    assert res.n_iter == 37 and len(res.loss) == 38 and not res.converged


def test_max_iter_reached_warns():
    V = np.random.default_rng(19).random((30, 40))
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        res = factorize(V, 5, solver="mu", max_iter=3, tol=1e-12)
    assert res.stop_reason == "max_iter" and not res.converged


def test_converges_on_tol_at_a_check(planted):
    V, _, _ = planted((30, 40), rank=2, seed=20)
    res = factorize(V, 2, random_state=0, max_iter=10000, tol=1e-3)
    assert res.converged and res.stop_reason == "tol" and res.n_iter % 10 == 0
    i = res.n_iter
    assert (res.loss[i - 10] - res.loss[i]) / res.loss[0] < 1e-3


def test_callback_sees_every_iteration_and_can_stop():
    seen = []

    def callback(iteration, loss):
        seen.append((iteration, loss))
        return iteration == 7

    res = factorize(np.random.default_rng(21).random((10, 12)), 2, max_iter=50, tol=0, callback=callback)
    assert [i for i, _ in seen] == list(range(1, 8))
    assert res.n_iter == 7 and res.stop_reason == "callback"
    assert [l for _, l in seen] == list(res.loss[1:])


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("V, error, match", [
    ([[1.0, -1.0], [0.0, 1.0]], ValueError, "negative"),
    ([[1.0, np.nan], [0.0, 1.0]], ValueError, "NaN"),
    ([[1.0, np.inf], [0.0, 1.0]], ValueError, "NaN or infinite"),
    (np.ones(5), ValueError, "2-D"),
    (np.ones((0, 3)), ValueError, "at least one"),
    ("spectrogram.wav", TypeError, "V must be"),
    (None, TypeError, "V must be"),
    (np.ones((3, 3), complex), TypeError, "complex"),
    (np.array([["a", "b"]]), TypeError, "dtype"),
], ids=["negative", "nan", "inf", "1-D", "empty", "str", "None", "complex", "strings"])
def test_bad_data(V, error, match):
    with pytest.raises(error, match=match):
        factorize(V, 1)


@pytest.mark.parametrize("k", [0, -1, 2.5, "3", None, True])
def test_bad_n_components(k):
    with pytest.raises(ValueError, match="n_components=.* must be an int >= 1"):
        factorize(np.ones((3, 3)), k)


@pytest.mark.parametrize("kwargs, match", [
    (dict(W=np.ones((2, 12))), r"W has shape \(2, 12\); expected \(12, 2\) = \(n_features, n_components\): "
                               r"it looks transposed: pass W.T"),
    (dict(W=np.ones((12, 3))), r"it holds 3 components where n_components=2: pass n_components=3, or W\[:, :2\]"),
    (dict(H=np.ones((9, 2))), r"H has shape \(9, 2\); expected \(2, 9\) = \(n_components, n_samples\): "
                              r"it looks transposed: pass H.T"),
    (dict(H=np.ones((1, 9))), r"it holds 1 component where n_components=2: pass n_components=1$"),
    (dict(W=np.ones((9, 2))), r"its 9 features are not V's 12 features \(V's rows\): W must come from data "
                              r"shaped like V \(is V transposed\?\)"),
    (dict(W=np.ones(12)), r"W must be 2-D \(n_features, n_components\), got shape \(12,\)"),
    (dict(H=np.ones(9)), r"H must be 2-D \(n_components, n_samples\), got shape \(9,\)"),
])
def test_a_start_of_the_wrong_shape_is_told_the_fix(kwargs, match):
    # Before 2026-12-07 (review61) the message stopped at "W has shape (2, 12); expected
    # (12, 2)", and a 1-D W or H was told it "must be 2-D (n_features, n_samples)".
    with pytest.raises(ValueError, match=match):
        factorize(np.ones((12, 9)), 2, **kwargs)


def test_a_start_no_update_moves_is_refused_and_one_that_can_is_kept():
    # Before 2026-12-07 (review61) these fits stayed at zero and said converged=True,
    # stop_reason="tol" after 10 iterations.
    V = np.random.default_rng(0).random((12, 9))
    refused = [
        ("mu", dict(W=np.zeros((12, 2))), "W is all zeros: multiplicative updates .* never move a zero entry"),
        ("mu", dict(H=np.zeros((2, 9))), "H is all zeros: multiplicative updates .* never move a zero entry"),
        ("hals", dict(W=np.zeros((12, 2)), H=np.zeros((2, 9))), "W and H are all zeros: no update moves"),
        ("amu", dict(W=np.zeros((12, 2)), H=np.zeros((2, 9))), "W and H are all zeros: no update moves"),
    ]
    for solver, kwargs, match in refused:
        with pytest.raises(ValueError, match=match):
            factorize(V, 2, beta=2 if solver == "hals" else 1, solver=solver, **kwargs)
    # kept: a zero W that amu's HALS warm start leaves; fixed zero templates (only H is
    # solved, and H = 0 is as good as any); all-zero data
    moved = factorize(V, 2, beta=1, solver="amu", W=np.zeros((12, 2)), random_state=0)
    assert moved.W.any() and moved.loss[-1] < 0.5 * moved.loss[0]
    fixed = factorize(V, 2, W=np.zeros((12, 2)), fix_W=True, H=np.zeros((2, 9)), solver="mu")
    assert not fixed.H.any()
    assert factorize(np.zeros((12, 9)), 2, W=np.zeros((12, 2)), solver="mu").stop_reason == "zero"


def test_bad_beta_lists_valid_names():
    with pytest.raises(ValueError, match=r"beta='ks' is not a known divergence; use frobenius \(fro, euclidean\), "
                                         r"kullback-leibler \(kl\), itakura-saito \(is\) or a float"):
        factorize(np.ones((3, 3)), 1, beta="ks")


@pytest.mark.parametrize("kwargs, match", [
    (dict(solver="newton"), "solver='newton' is not known; use one of 'auto', 'mu', 'hals'"),
    (dict(solver="hals", beta=1), "solver='hals' minimizes the Frobenius loss only"),
    (dict(init="svd"), "init='svd' is not known"),
    (dict(W=np.ones((4, 2))), r"W has shape \(4, 2\); expected \(3, 2\)"),
    (dict(H=np.ones((2, 5))), r"H has shape \(2, 5\); expected \(2, 3\)"),
    (dict(W=-np.ones((3, 2))), "W has negative values"),
    (dict(fix_W=True), "fix_W needs the templates"),
    (dict(fix_H=[0]), "fix_H needs the activations"),
    (dict(W=np.ones((3, 2)), fix_W=[5]), "indices outside"),
    (dict(W=np.ones((3, 2)), fix_W=np.array([True])), "length n_components=2"),
    (dict(max_iter=-1), "max_iter=-1 must be an int >= 0"),
    (dict(tol=-1e-3), "tol=-0.001 must be a finite number >= 0"),
    (dict(l1_H=-1), "l1_H=-1 must be"),
    (dict(random_state="seed"), "random_state='seed'"),
], ids=["unknown solver", "hals with KL", "unknown init", "W shape", "H shape", "negative W", "fix_W without W",
        "fix_H without H", "fix_W index", "fix_W mask length", "max_iter<0", "tol<0", "l1_H<0", "random_state=str"])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        factorize(np.ones((3, 3)), 2, **kwargs)


def test_init_none_is_the_default_as_in_scikit_learn():
    """init=None means "the default" in scikit-learn; factorize refused it (before
    2026-12-06, polish17): now it is factorize's default, "random", bit for bit, and the
    image functions' None is their default, "nndsvda"."""
    from nmfaudio.adapters.image import compress

    V = np.random.default_rng(0).random((12, 9))
    default = factorize(V, 3, random_state=0, max_iter=20, tol=0)
    given = factorize(V, 3, init=None, random_state=0, max_iter=20, tol=0)
    assert np.array_equal(default.W, given.W) and np.array_equal(default.H, given.H)
    with pytest.raises(ValueError, match=r"^init='svd' is not known; use one of 'random', 'nndsvd', 'nndsvda', "
                                         r"'nndsvdar' \(None: the default, 'random'\)$"):
        factorize(V, 3, init="svd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # five iterations: not settled
        assert compress(V, 2, init=None, max_iter=5).psnr == compress(V, 2, max_iter=5).psnr


def test_negative_templates_and_activations_are_not_told_to_shift():
    """A negative template is a bad template, not data to shift: the fix for W (and NMFD's
    P) names magnitudes or clipping, for H clipping; V keeps the data's advice.  Before
    2026-12-06 (polish15) every one said 'use magnitudes, or shift the data by its minimum'."""
    from nmfaudio.nmf.nmfd import factorize_convolutive

    V = np.ones((3, 4))
    templates = r"its columns are templates \(>= 0\) — take magnitudes \(np\.abs, or undo a dB scale\), or clip " \
                r"rounding errors with np\.maximum\({0}, 0\); shifting {0} by its minimum would change every template$"
    for kwargs, name in ((dict(W=-np.ones((3, 2))), "W"), (dict(H=-np.ones((2, 4))), "H")):
        fix = templates.format(name) if name == "W" else r"activations are gains \(>= 0\) — clip them with np\.maximum\(H, 0\)$"
        with pytest.raises(ValueError, match=rf"^{name} has negative values \(min -1\); {fix}"):
            factorize(V, 2, **kwargs)
        with pytest.raises(ValueError, match=rf"^{name} has negative values \(min -1\); {fix}"):
            beta_divergence(V, kwargs.get("W", np.ones((3, 2))), kwargs.get("H", np.ones((2, 4))))
    with pytest.raises(ValueError, match=r"^P has negative values \(min -1\); " + templates.format("P")):
        factorize_convolutive(V, -np.ones((3, 1, 2)))
    y = np.random.default_rng(0).standard_normal(4096).astype(np.float32) * 0.1
    with pytest.raises(ValueError, match=r"^W has negative values .*np\.maximum\(W, 0\)"):  # separate's own templates
        nmfaudio.separate(y, 22050, n_components=2, n_fft=256, hop_length=64, W=-np.ones((129, 2)))
    with pytest.raises(ValueError, match="shift the data by its minimum"):  # data: unchanged
        factorize(-V, 2)


@pytest.mark.parametrize("beta", [1.0, 0.0, -1.0])
def test_a_zero_floor_where_v_has_zeros_is_refused_for_beta_at_most_one(beta):
    # eps=0 left 0·log 0 (KL) or log 0 (IS) in the divergence: NaN losses, and a KL fit
    # stopped after 10 iterations as "tol" (the NaN start passed the decrease test); NMFD
    # returned NaN activations.
    from nmfaudio.nmf.nmfd import factorize_convolutive

    rng = np.random.default_rng(27)
    V = np.maximum(rng.random((20, 30)) - 0.5, 0)
    n_zeros = int(np.count_nonzero(V == 0))
    message = rf"^eps=0 with beta={beta:g} leaves the divergence undefined at the {n_zeros} zero entries of V"
    with pytest.raises(ValueError, match=message):
        factorize(V, 3, beta=beta, solver="mu", eps=0, random_state=0)
    with pytest.raises(ValueError, match=message):
        factorize_convolutive(V, rng.random((20, 2, 3)), beta=beta, eps=0, random_state=0)
    positive = factorize(V + 0.1, 3, beta=beta, solver="mu", eps=0, random_state=0, max_iter=20, tol=0)
    assert np.all(np.isfinite(positive.loss))  # no zeros: eps=0 stays allowed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tiny = factorize(V, 3, beta=beta, solver="mu", eps=1e-30, random_state=0)
    assert np.all(np.isfinite(tiny.loss))


def test_bad_callback_type():
    with pytest.raises(TypeError, match="callback"):
        factorize(np.ones((3, 3)), 1, callback=3)


def test_public_names():
    for name in ("factorize", "beta_divergence", "NMFResult", "ConvergenceWarning"):
        assert hasattr(nmfaudio, name)


@pytest.mark.parametrize("solver", ["mu", "hals"])
def test_stopping_uses_the_penalized_objective(solver):
    # With penalties the divergence alone may rise while the objective falls; stopping on
    # it would end the fit early.  A tol=1e-7 run must end within 1e-4 (relative) of the
    # objective a 3000-iteration run reaches.
    rng = np.random.default_rng(22)
    V = rng.random((30, 40))
    kwargs = dict(solver=solver, l1_W=0.5, l2_W=0.5, l1_H=0.5, random_state=0)

    def objective(res):
        return (res.loss[-1] + 0.5 * res.W.sum() + 0.25 * np.sum(res.W**2) + 0.5 * res.H.sum())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        stopped = factorize(V, 5, tol=1e-7, max_iter=3000, **kwargs)
    full = factorize(V, 5, tol=0, max_iter=3000, **kwargs)
    assert objective(stopped) <= objective(full) * (1 + 1e-4)


@pytest.mark.parametrize("beta, solver", BETA_SOLVERS)
@pytest.mark.parametrize("exponent", [-60, 70])
def test_power_of_two_scaling_is_exact(beta, solver, exponent):
    # The engine solves on V scaled to max ≈ 1 by a power of two, and the random start
    # scales both factors by sqrt(mean(V)/k); so for c = 2^e (e even) the fit of c·V is
    # the fit of V with W and H each scaled by √c — bit for bit — and loss scaled by c^β.
    rng = np.random.default_rng(23)
    V = rng.random((20, 30)).astype(np.float32)
    V[rng.random(V.shape) < 0.1] = 0
    # Exact only while no factor entry reaches the flush level (kernels.flush_level, an
    # absolute 1.1e-19): for c = 2^70 the scaled problem's W is 2^-35 of V's, and amu's
    # warm-started IS fit takes an entry of it there after 19 iterations; so 10.
    c = np.float32(2.0**exponent)
    a = factorize(V, 3, beta=beta, solver=solver, random_state=0, max_iter=10, tol=0)
    b = factorize(V * c, 3, beta=beta, solver=solver, random_state=0, max_iter=10, tol=0)
    root = np.float32(2.0 ** (exponent // 2))
    np.testing.assert_array_equal(b.W, a.W * root)
    np.testing.assert_array_equal(b.H, a.H * root)
    np.testing.assert_allclose(b.loss, a.loss * float(c) ** beta, rtol=1e-12)


NEAR_LIMITS = [(dtype, exponent, beta, solver) for dtype, exponent in [
    (np.float32, 120), (np.float32, 126), (np.float32, -120), (np.float64, 1000), (np.float64, -1000)]
    for beta, solver in BETA_SOLVERS if dtype == np.float32 or beta <= 1]  # float64, β > 1: loss overflow, refused


@pytest.mark.parametrize("dtype, exponent, beta, solver", NEAR_LIMITS)
def test_data_near_the_dtypes_limits_fits_as_data_near_one(beta, solver, dtype, exponent):
    # Before 2026-12-07 (review61) the start was scaled into the problem on s·V by W → s·W
    # alone, so for V near 2**126 (float32) W started near 2**-63 and H near 2**63: WᵀW
    # underflowed, float32 Frobenius gave NaN factors (HALS) or zeros with a rising loss
    # (MU), and KL/IS fits at 2**±120 ended 1.4-2.6 times higher than V's own.  Now such a
    # start is rebalanced by a power of two (start_shift): c·V fits like V, to rounding.
    rng = np.random.default_rng(23)
    V = rng.random((20, 30)).astype(dtype)
    V[rng.random(V.shape) < 0.1] = 0
    # the floor given, relative to max(V) (the default's clamp at the dtype's smallest
    # normal number would floor 2**-120 float32 data at 2**-6 of its peak)
    eps = float(np.finfo(np.float32).eps) * float(V.max())
    a = factorize(V, 3, beta=beta, solver=solver, random_state=0, max_iter=30, tol=0, eps=eps)
    b = factorize(np.ldexp(V, exponent), 3, beta=beta, solver=solver, random_state=0, max_iter=30, tol=0,
                  eps=float(np.ldexp(eps, exponent)))
    assert np.all(np.isfinite(b.W)) and np.all(np.isfinite(b.H)) and np.all(np.isfinite(b.loss))
    product = np.ldexp(b.W.astype(np.float64), -exponent // 2) @ np.ldexp(b.H.astype(np.float64), exponent // 2 - exponent)
    np.testing.assert_allclose(product, a.W.astype(np.float64) @ a.H, rtol=1e-4, atol=1e-6)
    if abs(exponent * beta) < 1000:  # the loss scales as c**beta (else out of float64's range)
        np.testing.assert_allclose(b.loss * 2.0 ** (-exponent * beta), a.loss, rtol=1e-6)


@pytest.mark.parametrize("V, message", [
    (np.ldexp(np.ones((4, 3), np.float32), -130), "subnormal number too small to scale in float32"),
    (np.ldexp(np.ones((4, 3)), -1060), "subnormal number too small to scale in float64"),
    (np.full((4, 3), 1e308), "so large that their sum overflows float64"),
])
def test_data_beyond_what_scaling_reaches_is_refused_with_the_fix(V, message):
    # Both gave NaN factors and losses before 2026-12-07 (review61).
    with pytest.raises(ValueError, match=message) as caught:
        factorize(V, 2, random_state=0)
    assert "V / V.max()" in str(caught.value)


@pytest.mark.parametrize("beta", [0.0, 1.0, 2.0, 3.0])
@pytest.mark.parametrize("scale", [1e-30, 1e-15, 1e18, 1e30])
def test_float32_extreme_scales_stay_finite(beta, scale):
    rng = np.random.default_rng(24)
    V = (rng.random((12, 16)) * scale).astype(np.float32)
    V[0, :4] = 0
    res = factorize(V, 2, beta=beta, solver="mu", random_state=3, max_iter=40, tol=0)
    assert np.all(np.isfinite(res.W)) and np.all(np.isfinite(res.H)) and np.all(np.isfinite(res.loss))
    assert np.diff(res.loss).max() <= 1e-5 * res.loss[0]  # float32 rounding


@pytest.mark.parametrize("beta, scale", [(2.0, 1e-160), (2.0, 1e-300), (0.0, 1e160), (-1.0, 1e200)])
def test_float64_data_far_from_one_fits_where_its_loss_is_representable(beta, scale):
    # The scaled problem's unused penalty weights were converted back with Python's float
    # power, which raised OverflowError: (34, 'Numerical result out of range') for data
    # below 1e-154 (Frobenius) or above 1e154 (IS, beta = -1) although no number of the fit overflows.
    rng = np.random.default_rng(25)
    V = rng.random((12, 16)) * scale
    res = factorize(V, 2, beta=beta, random_state=0, max_iter=20, tol=0)
    reference = factorize(V / scale, 2, beta=beta, random_state=0, max_iter=20, tol=0)
    assert np.all(np.isfinite(res.W)) and np.all(np.isfinite(res.H)) and np.all(np.isfinite(res.loss))
    np.testing.assert_allclose(res.W @ res.H, (reference.W @ reference.H) * scale, rtol=1e-6)


@pytest.mark.parametrize("scale, kwargs", [(1e200, {}), (1e-160, {"l1_H": 1.0})])
def test_data_whose_loss_overflows_float64_is_refused_naming_v(scale, kwargs):
    # The Frobenius loss of 1e200-scale data is about 1e400; a penalty on 1e-160-scale data
    # weighs 1e320 in the scaled problem: a ValueError naming V and the fix, not Python's
    # bare OverflowError.
    V = np.random.default_rng(26).random((12, 16)) * scale
    with pytest.raises(ValueError, match=r"V's largest value .* too far from 1 for beta=2.*V / V.max\(\)"):
        factorize(V, 2, beta=2, random_state=0, max_iter=5, **kwargs)


# --- sparse V -------------------------------------------------------------------------

def _sparse_problem(seed=0, shape=(30, 40), density=0.3, k=4):
    """A sparse non-negative V (CSR) with implicit zeros, and a positive start."""
    import scipy.sparse

    rng = np.random.default_rng(seed)
    V = scipy.sparse.random_array(shape, density=density, format="csr", rng=rng,
                                  data_sampler=lambda size: 1.0 - rng.random(size))
    W0, H0 = rng.random((shape[0], k)) + 0.1, rng.random((k, shape[1])) + 0.1
    return V, W0, H0


@pytest.mark.parametrize("beta, solver", [(2.0, "hals"), (2.0, "mu"), (1.0, "mu"), (0.5, "mu"),
                                          (1.5, "mu"), (3.0, "mu")])
@pytest.mark.parametrize("container", ["csr", "csc"])
def test_sparse_matches_sklearn_from_the_same_start(beta, solver, container):
    # Sparse V is fitted on its stored entries, implicit zeros being exact zeros — as
    # scikit-learn treats them.  From the same start, for the same iterations, MU agrees
    # with scikit-learn's MU on the dense matrix to 1e-9 relative (measured 1e-13), with
    # an absolute 1e-10 for entries near zero — 1e-6 for beta < 1, where scikit-learn
    # sets entries below float64 eps to 0 after each update and we do not.  HALS budgets
    # its inner sweeps by nnz instead of n_features·n_samples, so its iterates differ
    # from the dense ones; run to convergence both reach the same loss (1e-6 relative).
    from sklearn.decomposition import non_negative_factorization

    V, W0, H0 = _sparse_problem()
    V_in = V.tocsc() if container == "csc" else V
    penalties = {"l1_H": 0.01, "l1_W": 0.02}
    if solver == "hals":
        kw = dict(beta=beta, solver=solver, init="custom", W=W0, H=H0, tol=1e-10, max_iter=2000,
                  tol_rule="sklearn", **penalties)
        ours, dense = factorize(V_in, 4, **kw), factorize(V.toarray(), 4, **kw)
        assert ours.loss[-1] == pytest.approx(dense.loss[-1], rel=1e-6)
        return
    ours = factorize(V_in, 4, beta=beta, solver=solver, init="custom", W=W0, H=H0, tol=0,
                     max_iter=30, **penalties)
    assert ours.n_iter == 30
    # scikit-learn's orientation: X = Vᵀ, its W is our Hᵀ; its L1 weights are
    # n_features·alpha_W (on its W) and n_samples·alpha_H (on its H).
    X = V.toarray().T
    n_samples, n_features = X.shape
    sk_W, sk_H, _ = non_negative_factorization(
        X, W=H0.T.copy(), H=W0.T.copy(), n_components=4, init="custom", solver="mu",
        beta_loss=beta, tol=0, max_iter=30, alpha_W=0.01 / n_features,
        alpha_H=0.02 / n_samples, l1_ratio=1.0)
    ref_W, ref_H = sk_H.T, sk_W.T
    atol = 1e-6 if beta < 1 else 1e-10
    np.testing.assert_allclose(ours.W, ref_W, rtol=1e-9, atol=atol)
    np.testing.assert_allclose(ours.H, ref_H, rtol=1e-9, atol=atol)
    assert ours.loss[-1] == pytest.approx(
        sklearn_beta_divergence(V.toarray(), ours.W, ours.H, beta), rel=1e-9)


@pytest.mark.parametrize("beta, solver, shape", [(2.0, "hals", (20_000, 5_000)), (2.0, "mu", (20_000, 5_000)),
                                                 (1.0, "mu", (20_000, 5_000)), (1.5, "mu", (8_000, 2_500))])
def test_sparse_is_never_densified(beta, solver, shape):
    # V at 0.01 % density: 800 MB dense in float64 (β = 1.5, whose every-entry passes take
    # longer: 160 MB), 0.12 MB stored.  The fit's peak allocation (tracemalloc: NumPy
    # reports its buffers) stays under 40 MB: the factors, block temporaries (β = 1.5:
    # blocks of 2^20 model values, 8 MB), CSR copies.
    import tracemalloc

    import scipy.sparse

    rng = np.random.default_rng(0)
    max_iter = 1 if beta == 1.5 else 3
    V = scipy.sparse.random_array(shape, density=1e-4, format="csr", rng=rng)
    tracemalloc.start()
    try:
        result = factorize(V, 5, beta=beta, solver=solver, init="random", random_state=0,
                           max_iter=max_iter, tol=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.isfinite(result.loss).all() and result.loss[-1] <= result.loss[0]
    assert peak < 40e6, peak


def test_sparse_nndsvd_start_uses_the_sparse_svd(monkeypatch):
    # Above DENSE_SVD_MAX_ENTRIES (lowered here to keep the test fast) a sparse V goes to
    # ARPACK as it is; the start equals the dense one's to 1e-8 relative.
    import scipy.sparse

    from nmfaudio.nmf import init

    rng = np.random.default_rng(1)
    V = scipy.sparse.random_array((300, 200), density=0.05, format="csr", rng=rng)
    monkeypatch.setattr(init, "DENSE_SVD_MAX_ENTRIES", 0)
    monkeypatch.setattr(scipy.sparse.csr_array, "toarray", None)  # would fail if called
    W_sparse, H_sparse = init.nndsvd_init(V, 3, np.random.default_rng(0), variant="nndsvda")
    monkeypatch.undo()
    W_dense, H_dense = init.nndsvd_init(V.toarray(), 3, np.random.default_rng(0), variant="nndsvda")
    np.testing.assert_allclose(W_sparse, W_dense, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(H_sparse, H_dense, rtol=1e-8, atol=1e-12)


def test_sparse_non_positive_beta_needs_dense_input():
    V, _, _ = _sparse_problem()
    with pytest.raises(ValueError, match="implicit zeros"):
        factorize(V, 3, beta=0.0)
    full = V.copy()
    full.data[:] = 1.0
    full = type(V)(full.toarray() + 1.0)  # no implicit zero: accepted (densified)
    assert np.isfinite(factorize(full, 3, beta=0.0, max_iter=5, tol=0).loss).all()


@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_tol_rule_sklearn_stops_where_sklearn_mu_stops(beta, planted):
    # Same start, same multiplicative updates: with tol_rule="sklearn" the engine stops
    # at the very iteration scikit-learn's MU stops (its tol on sqrt of the divergence).
    from sklearn.decomposition import non_negative_factorization

    V, W0, H0 = planted(seed=3)
    V = V + 0.05 * np.random.default_rng(4).random(V.shape)
    ours = factorize(V, 4, beta=beta, solver="mu", init="custom", W=W0, H=H0, tol=1e-4,
                     max_iter=2000, tol_rule="sklearn")
    _, _, n_iter = non_negative_factorization(V.T, W=H0.T.copy(), H=W0.T.copy(), n_components=4,
                                              init="custom", solver="mu", beta_loss=beta,
                                              tol=1e-4, max_iter=2000)
    assert ours.n_iter == n_iter
    relative = factorize(V, 4, beta=beta, solver="mu", init="custom", W=W0, H=H0, tol=1e-4,
                         max_iter=2000)
    assert relative.n_iter <= ours.n_iter  # nmfaudio's rule stops no later on this data


def test_tol_rule_sklearn_hals_uses_the_projected_gradient(planted):
    V, _, _ = planted(seed=5)
    loose = factorize(V, 4, solver="hals", tol=1e-2, tol_rule="sklearn", random_state=0, max_iter=5000)
    tight = factorize(V, 4, solver="hals", tol=1e-6, tol_rule="sklearn", random_state=0, max_iter=5000)
    assert loose.stop_reason == tight.stop_reason == "tol"
    assert loose.n_iter < tight.n_iter and tight.loss[-1] < loose.loss[-1]
    with pytest.raises(ValueError, match="tol_rule"):
        factorize(V, 4, tol_rule="nope")


def test_extra_components_keep_balanced_scales():
    # k above the rank (5 < 12): HALS from NNDSVD lets some components trade 1e7 in W
    # for 1e-7 in H (measured before balancing); the result keeps every live
    # component's W and H entries within MAX_IMBALANCE in RMS, and the model unchanged.
    from nmfaudio.nmf.balance import MAX_IMBALANCE

    rng = np.random.default_rng(0)
    V = rng.random((20, 5)) @ rng.random((5, 30))
    result = factorize(V, 12, solver="hals", init="nndsvd", max_iter=1000, tol=1e-8, random_state=0)
    rms_W = np.sqrt((result.W**2).mean(axis=0))
    rms_H = np.sqrt((result.H**2).mean(axis=1))
    live = rms_W * rms_H > 0
    assert np.all(rms_W[live] / rms_H[live] < MAX_IMBALANCE)
    assert np.all(rms_H[live] / rms_W[live] < MAX_IMBALANCE)
    assert 0.5 * np.sum((V - result.W @ result.H) ** 2) == pytest.approx(result.loss[-1], rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_model_at_entries_compiled_and_numpy_agree(dtype):
    # (WH) at a CSR matrix's stored entries: compiled kernel (indptr given) and the
    # NumPy gathers both equal the dense product there (float32: 1e-5 relative).
    import scipy.sparse

    from nmfaudio.nmf.sparse import entry_rows, model_at_entries

    rng = np.random.default_rng(0)
    V = scipy.sparse.random_array((50, 70), density=0.2, format="csr", rng=rng, dtype=dtype)
    W, H = rng.random((50, 3)).astype(dtype), rng.random((3, 70)).astype(dtype)
    rows = entry_rows(V)
    expected = (W.astype(np.float64) @ H)[rows, V.indices]
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for indptr in (None, V.indptr):
        got = model_at_entries(W, H, rows, V.indices, indptr=indptr)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=rtol)


def test_hals_restarts_a_dead_component_without_raising_the_loss(planted, monkeypatch):
    from nmfaudio.nmf.solvers import FrobeniusHALS

    monkeypatch.setattr(FrobeniusHALS, "restart_dead", True)  # off by default (see its comment)
    V, W, H = planted((30, 40), 3, 0)
    W = W.copy()
    H = H.copy()
    W[:, 2] = 0  # a dead component: HALS alone would keep it at zero forever
    H[2] = 0
    res = factorize(V, 3, solver="hals", W=W, H=H, init="custom", max_iter=200, tol=0)
    assert res.W[:, 2].any() and res.H[2].any()
    # the restart leaves WH unchanged, so the loss still never rises (float64: 1e-12 relative)
    assert np.all(np.diff(res.loss) <= 1e-12 * res.loss[0]), np.diff(res.loss).max()
    assert res.loss[-1] < 1e-5 * res.loss[0]  # the planted rank 3 is fitted with all three
