"""nmfaudio.nmf.factorize_convolutive (NMFD): monotone loss for each β, frozen factors,
support, the gain cap, free components, compiled = NumPy, seeds, shapes and errors."""

import re

import numpy as np
import pytest

from nmfaudio.nmf import ConvergenceWarning, NMFDResult, beta_divergence, convolutive_components, \
    factorize_convolutive, kernels

needs_numba = pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="numba not installed")


def planted(F=24, K=3, T=5, C=1, N=300, seed=0, zeros=0.1, noise=0.01, with_H=False):
    """V (F, C, N) from random unit-sum templates P (F, K, T) and sparse activations H,
    plus uniform noise, with a share ``zeros`` of exact zeros; returns V, P (and H), float32."""
    rng = np.random.default_rng(seed)
    P = rng.random((F, K, T)).astype(np.float32)
    P /= P.sum(axis=(0, 2), keepdims=True)
    H = ((rng.random((K, C, N)) < 0.05) * rng.random((K, C, N)) * 10).astype(np.float32)
    V = convolutive_components(P, H).sum(axis=0) + noise * rng.random((F, C, N))
    V[rng.random(V.shape) < zeros] = 0
    return (V.astype(np.float32), P, H) if with_H else (V.astype(np.float32), P)


def start_templates(P, seed=1):
    """Templates near P, a different unit-sum start."""
    rng = np.random.default_rng(seed)
    P0 = (P * (0.5 + rng.random(P.shape))).astype(P.dtype)
    return P0 / P0.sum(axis=(0, 2), keepdims=True)


def free_start(F, C, N, n_free=1, seed=2):
    rng = np.random.default_rng(seed)
    return (0.1 + rng.random((F, n_free))).astype(np.float32), (0.1 + rng.random((n_free, C, N))).astype(np.float32)


@pytest.mark.parametrize("beta", [0, 0.5, 1, 1.5, 2], ids=lambda b: f"beta={b}")
@pytest.mark.parametrize("with_free", [False, True], ids=["drums only", "with free components"])
def test_loss_never_increases(beta, with_free):
    """Every iteration (H, free H, templates, free templates, unit sums) lowers the
    β-divergence or keeps it, to float32 rounding (1e-6 of the starting loss)."""
    V, P = planted(C=2, N=150)
    F, C, N = V.shape
    free = dict(zip(("W_free", "H_free"), free_start(F, C, N))) if with_free else {}
    res = factorize_convolutive(V, start_templates(P), beta=beta, max_iter=40, tol=0, random_state=0, **free)
    assert res.n_iter == 40 and res.loss.shape == (41,)
    steps = np.diff(res.loss)
    assert steps.max() <= 1e-6 * res.loss[0], f"loss rose by {steps.max():.3g} (start {res.loss[0]:.3g})"
    assert res.loss[-1] < 0.9 * res.loss[0]  # it does learn (IS on floored zeros: 0.63)
    assert np.allclose(res.P.sum(axis=(0, 2)), 1, atol=1e-5)  # the learning templates keep unit sums
    assert res.P.min() >= 0 and res.H.min() >= 0


def test_loss_is_the_divergence_of_the_returned_factors():
    """loss[-1] is the β-divergence (scikit-learn's definition, float64) of the returned
    model on the floored V, to 1e-5 relative; 2-D V gives the same as one channel."""
    V, P = planted(N=200)
    W_free, H_free = free_start(V.shape[0], 1, 200)
    for beta in (1, 0.5):
        res = factorize_convolutive(V[:, 0], start_templates(P), W_free=W_free, H_free=H_free[:, 0], beta=beta,
                                    max_iter=7, tol=0, random_state=0)
        assert res.H.shape == (3, 200) and res.H_free.shape == (1, 200)
        # the model as one NMF: [P_τ columns | W_free] times [shifted H ; H_free]
        K, T = P.shape[1:]
        W = np.hstack([res.P.transpose(0, 2, 1).reshape(-1, T * K), res.W_free]).astype(np.float64)
        shifted = np.zeros((T, K, 200))
        for tau in range(T):
            shifted[tau, :, tau:] = res.H[:, :200 - tau]
        Hall = np.vstack([shifted.reshape(T * K, 200), res.H_free])
        assert res.loss[-1] == pytest.approx(beta_divergence(V[:, 0].astype(np.float64), W, Hall, beta,
                                                             eps=res.eps), rel=1e-5)
        same = factorize_convolutive(V, start_templates(P), W_free=W_free, H_free=H_free, beta=beta, max_iter=7,
                                     tol=0, random_state=0)
        np.testing.assert_array_equal(same.H[:, 0], res.H)
        np.testing.assert_array_equal(same.P, res.P)


def test_frozen_factors_stay_bit_identical_and_the_others_learn():
    V, P = planted(C=2, N=120)
    P0 = start_templates(P)
    all_fixed = factorize_convolutive(V, P0, fix_P=True, max_iter=10, tol=0, random_state=0)
    np.testing.assert_array_equal(all_fixed.P, P0)
    some = factorize_convolutive(V, P0, fix_P=[1], max_iter=10, tol=0, random_state=0)
    np.testing.assert_array_equal(some.P[:, 1], P0[:, 1])
    assert not np.array_equal(some.P[:, 0], P0[:, 0]) and not np.array_equal(some.P[:, 2], P0[:, 2])
    H0 = np.random.default_rng(3).random((3, 2, 120)).astype(np.float32) + 0.5
    fixed_H = factorize_convolutive(V, P0, H0, fix_H=[0, 2], max_iter=10, tol=0)
    np.testing.assert_array_equal(fixed_H.H[[0, 2]], H0[[0, 2]])
    assert not np.array_equal(fixed_H.H[1], H0[1])
    # a template whose activations are fixed learns but keeps its scale (no unit sum)
    assert fixed_H.P[:, 1].sum() == pytest.approx(1, abs=1e-5) and fixed_H.P[:, 0].sum() != pytest.approx(1)
    W_free, H_free = free_start(V.shape[0], 2, 120)
    both = factorize_convolutive(V, P0, H0, W_free=W_free, H_free=H_free, fix_P=True, fix_H=True, max_iter=5,
                                 tol=0)
    np.testing.assert_array_equal(both.P, P0)
    np.testing.assert_array_equal(both.H, H0)
    assert not np.array_equal(both.W_free, W_free) and np.all(np.diff(both.loss) <= 1e-6 * both.loss[0])


def test_support_zeros_stay_zero():
    V, P = planted()
    P0 = start_templates(P)
    P0[P0 < np.quantile(P0, 0.4)] = 0  # 40 % of each template's entries outside its support
    P0 /= P0.sum(axis=(0, 2), keepdims=True)
    res = factorize_convolutive(V, P0, max_iter=30, tol=0, random_state=0, cap=10.0)
    assert np.all(res.P[P0 == 0] == 0)
    assert np.all(res.P[P0 > 0] > 0)


def test_the_cap_clips_each_update_then_rescales():
    """After one iteration, the capped templates are the uncapped ones clipped to
    cap · P0 and rescaled to unit sum (1e-6 relative); over 30 iterations no entry ends
    more than cap / (its template's sum after clipping) above its start."""
    V, P = planted(N=200)
    P0 = start_templates(P)
    cap = 1.2
    free = factorize_convolutive(V, P0, max_iter=1, tol=0, random_state=0)
    capped = factorize_convolutive(V, P0, max_iter=1, tol=0, random_state=0, cap=cap)
    clipped = np.minimum(free.P, cap * P0)
    assert np.any(free.P > cap * P0 * 1.01), "the cap must bind for this test to mean anything"
    expected = clipped / clipped.sum(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(capped.P, expected, rtol=1e-6, atol=1e-9)
    long = factorize_convolutive(V, P0, max_iter=30, tol=0, random_state=0, cap=cap)
    uncapped = factorize_convolutive(V, P0, max_iter=30, tol=0, random_state=0)
    ratio = long.P[P0 > 0] / P0[P0 > 0]
    assert ratio.max() < np.max(uncapped.P[P0 > 0] / P0[P0 > 0])
    assert ratio.max() <= cap * 1.5  # measured 1.29: clipped mass is small
    # an array cap works entrywise, like the float
    as_array = factorize_convolutive(V, P0, max_iter=1, tol=0, random_state=0, cap=cap * P0)
    np.testing.assert_array_equal(as_array.P, capped.P)


@needs_numba
@pytest.mark.parametrize("channels, N", [(1, 3 * 256 + 41), (2, 3 * 256 + 41), (1, 5), (2, 1)],
                         ids=["mono, across blocks", "stereo, across blocks", "shorter than T", "one frame"])
def test_compiled_kl_equals_the_numpy_updates(channels, N, monkeypatch):
    """The compiled KL passes (nmfaudio.nmf.convolutive) give the NumPy updates' factors
    and losses to float32 rounding (factors 1e-4, losses 1e-5 relative), with free
    components, the gain cap, frozen templates and activations (all or some), zeros
    in V, and frame counts that cross block and task borders or are shorter than the
    templates."""
    V, _ = planted(F=23, K=3, T=8, C=channels, N=N, seed=1)
    rng = np.random.default_rng(1)
    P0 = rng.random((23, 3, 8)).astype(np.float32)
    P0 /= P0.sum(axis=(0, 2), keepdims=True)
    H0 = (0.5 + rng.random((3, channels, N))).astype(np.float32)
    W_free, H_free = free_start(23, channels, N)
    runs = [dict(cap=3.0), dict(W_free=W_free, H_free=H_free, fix_P=True, fix_H=True),
            dict(W_free=W_free, H_free=H_free, fix_P=True), dict(W_free=W_free, H_free=H_free, fix_P=[0], fix_H=[2])]
    for options in runs:
        results = []
        for compiled in (True, False):
            with monkeypatch.context() as patch:
                if not compiled:
                    patch.setattr(kernels, "HAVE_NUMBA", False)
                results.append(factorize_convolutive(V, P0, H0, beta=1, max_iter=4, tol=0, **options))
        fast, plain = results
        np.testing.assert_allclose(fast.loss, plain.loss, rtol=1e-5, err_msg=str(options))
        for name in ("P", "H", "W_free", "H_free"):
            a, b = getattr(fast, name), getattr(plain, name)
            if b.size == 0:
                continue
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6 * max(float(np.abs(b).max()), 1e-30),
                                       err_msg=f"{name} {options}")


def reference_passes(V, Wall, H, Hf, lags, owners, eps):
    """The convolutive KL passes in float64 NumPy: (loss, H_next, Hf_next) of h_pass and
    the template numerators of w_pass (on the same factors), and h_pass's den_H."""
    from nmfaudio.nmf import nmfd

    K, C, N = H.shape
    n_columns = len(lags)
    W64, Hf64 = Wall.astype(np.float64), Hf.astype(np.float64)
    rows = np.vstack([nmfd._shift(H.astype(np.float64), lags, owners), Hf64])  # (n_all, C·N)
    L = np.maximum(W64 @ rows, eps)
    Q = V / L
    loss = float(np.sum(L - V + V * np.log(Q)))
    G = W64.T @ Q
    ones = np.ones((n_columns, C * N))
    den_H = nmfd._unshift(W64[:, :n_columns].sum(axis=0)[:, None] * ones, lags, owners, K, C, N)[:, 0]  # (K, N)
    H_next = H * nmfd._unshift(G[:n_columns], lags, owners, K, C, N) / den_H[:, None, :]
    Hf_next = Hf64 * G[n_columns:] / W64[:, n_columns:].sum(axis=0)[:, None]
    return loss, H_next, Hf_next, Q @ rows.T, den_H


@needs_numba
@pytest.mark.parametrize("blas", [True, False], ids=["BLAS products", "compiled loops"])
@pytest.mark.parametrize("F", [8, 9, 10, 11, 90], ids=lambda F: f"F={F}")
@pytest.mark.parametrize("channels, N", [(1, 17 * 256 + 37), (2, 300)], ids=["mono, tasks of two blocks", "stereo"])
def test_compiled_passes_equal_float64_products(F, channels, N, blas, monkeypatch):
    """h_pass and w_pass — with BLAS's products and with the compiled loops (four rows
    at a time, the rest one or two at a time: every F mod 4, and the drums' 90 bands) —
    against the float64 NumPy computation of the same products, with ragged templates
    and a free component, tasks of one block and of two (17 blocks in 16 tasks): loss,
    updated activations and template numerators within 1e-5 relative (float32 sums of
    positive terms)."""
    from nmfaudio.nmf import convolutive, nmfd

    if blas and convolutive._blas(np.float32) is None:
        pytest.skip("no BLAS routine found: the passes use the compiled loops")
    monkeypatch.setattr(convolutive, "USE_BLAS", blas)
    rng = np.random.default_rng(F + channels)
    P = ragged_templates(F=F, seed=F)
    lags, owners = nmfd._support(P)
    K = P.shape[1]
    W_free = (0.1 + rng.random((F, 1))).astype(np.float32)
    Wall = np.ascontiguousarray(np.hstack([P[:, owners, lags], W_free]))
    H = (0.5 + rng.random((K, channels, N))).astype(np.float32)
    Hf = (0.1 + rng.random((1, channels * N))).astype(np.float32)
    V = (0.05 + rng.random((F, channels * N))).astype(np.float32)
    eps = 1e-6
    loss, H_next, Hf_next, numerators, den_H = reference_passes(V.astype(np.float64), Wall, H, Hf, lags, owners,
                                                                eps)
    fast_loss, fast_H, fast_Hf = convolutive.h_pass(V, Wall, H, Hf, lags, owners, eps, den_H.astype(np.float32),
                                                    True)
    assert fast_loss == pytest.approx(loss, rel=1e-5)
    np.testing.assert_allclose(fast_H, H_next, rtol=1e-5)
    np.testing.assert_allclose(fast_Hf, Hf_next, rtol=1e-5)
    np.testing.assert_allclose(convolutive.w_pass(V, Wall, H, Hf, lags, owners, eps), numerators, rtol=1e-5)


@needs_numba
def test_passes_in_float64_use_blas_and_the_loops_alike(monkeypatch):
    """float64 factors (dgemm): the BLAS passes give the compiled loops' loss,
    activations and template numerators within 1e-12 relative."""
    from nmfaudio.nmf import convolutive, nmfd

    if convolutive._blas(np.float64) is None:
        pytest.skip("no BLAS routine found")
    rng = np.random.default_rng(7)
    P = ragged_templates(F=13, seed=7).astype(np.float64)
    lags, owners = nmfd._support(P)
    Wall = np.ascontiguousarray(P[:, owners, lags])
    H = 0.5 + rng.random((3, 2, 400))
    Hf = np.zeros((0, 800))
    V = 0.05 + rng.random((13, 800))
    den_H = reference_passes(V, Wall, H, Hf, lags, owners, 1e-9)[4]
    results = []
    for blas in (True, False):
        monkeypatch.setattr(convolutive, "USE_BLAS", blas)
        results.append((convolutive.h_pass(V, Wall, H, Hf, lags, owners, 1e-9, den_H, True),
                        convolutive.w_pass(V, Wall, H, Hf, lags, owners, 1e-9)))
    (fast_h, fast_w), (loop_h, loop_w) = results
    assert fast_h[0] == pytest.approx(loop_h[0], rel=1e-12)
    np.testing.assert_allclose(fast_h[1], loop_h[1], rtol=1e-12)
    np.testing.assert_allclose(fast_w, loop_w, rtol=1e-12)


@needs_numba
def test_activation_denominator_equals_the_lag_by_lag_sweep():
    """CompiledKLConvolutiveMU._denominator (whole-template sums for all but the last
    T − 1 frames) equals the lag-by-lag unshift of the column sums it replaced, bit for
    bit, on 200 random supports (templates with zero frames, clips shorter than T)."""
    from nmfaudio.nmf import nmfd
    from nmfaudio.nmf.solvers import Problem

    rng = np.random.default_rng(0)
    for _ in range(200):
        K, T, N = int(rng.integers(1, 6)), int(rng.integers(1, 12)), int(rng.integers(1, 40))
        P = (rng.random((5, K, T)) * (rng.random((1, K, T)) < 0.7)).astype(np.float32)
        lags, owners = nmfd._support(P)
        W = np.ascontiguousarray(P[:, owners, lags])
        V = (0.1 + rng.random((5, 2 * N))).astype(np.float32)
        problem = Problem(beta=1, free_W=np.ones(len(lags), bool), free_H=np.ones(K, bool), eps=1e-6)
        solver = nmfd.CompiledKLConvolutiveMU(V, W, rng.random((K, 2, N)).astype(np.float32), problem,
                                              lags=lags, owners=owners)
        column_sums = W.sum(axis=0)
        sweep = np.zeros((K, N), np.float32)
        for tau, a, b in solver.blocks:
            sweep[owners[a:b], :N - tau] += column_sums[a:b][:, None]
        np.testing.assert_array_equal(solver._denominator(), sweep, err_msg=f"K={K} T={T} N={N}")


def ragged_templates(F=23, seed=3):
    """Unit-sum templates of 8, 3 and 5 frames padded with zero frames to T = 8, the
    last one also with an all-zero frame inside (frame 1), float32."""
    rng = np.random.default_rng(seed)
    P = rng.random((F, 3, 8)).astype(np.float32)
    P[:, 1, 3:] = 0
    P[:, 2, 5:] = 0
    P[:, 2, 1] = 0
    return P / P.sum(axis=(0, 2), keepdims=True)


def full_layout(P):
    """Every (lag, template) pair: what the engine computed before it left out all-zero
    frames (the zero-padded reference)."""
    K, T = P.shape[1], P.shape[2]
    lags, owners = np.divmod(np.arange(T * K), K)
    return lags.astype(np.int64), owners.astype(np.int64)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled KL", "NumPy"])
@pytest.mark.parametrize("beta", [1, 0.5], ids=lambda b: f"beta={b}")
def test_templates_of_different_lengths_equal_the_zero_padded_computation(compiled, beta, monkeypatch):
    """Templates padded with zero frames (different lengths, a zero frame inside) are
    computed on their own frames only; the factors and losses equal those of the full
    zero-padded layout to float32 rounding (factors 1e-4, losses 1e-5 relative), with
    adapting capped templates, free components and frozen factors, mono and stereo; the
    padding stays exactly zero."""
    if compiled and (beta != 1 or not kernels.HAVE_NUMBA):
        pytest.skip("the compiled passes are KL only (and need numba)")
    from nmfaudio.nmf import nmfd

    P0 = ragged_templates()
    assert len(nmfd._support(P0)[0]) == 8 + 3 + 4  # the own-length layout does leave frames out
    for channels, N in ((1, 2 * 256 + 37), (2, 300)):
        V, _ = planted(F=23, K=3, T=8, C=channels, N=N, seed=4)
        rng = np.random.default_rng(5)
        H0 = (0.5 + rng.random((3, channels, N))).astype(np.float32)
        W_free, H_free = free_start(23, channels, N)
        runs = [dict(cap=3.0), dict(W_free=W_free, H_free=H_free, cap=10.0),
                dict(W_free=W_free, H_free=H_free, fix_P=True, fix_H=True), dict(fix_P=[1], fix_H=[2])]
        for options in runs:
            results = []
            for layout in ("own lengths", "zero-padded"):
                with monkeypatch.context() as patch:
                    if not compiled:
                        patch.setattr(kernels, "HAVE_NUMBA", False)
                    if layout == "zero-padded":
                        patch.setattr(nmfd, "_support", full_layout)
                    results.append(factorize_convolutive(V, P0, H0, beta=beta, max_iter=6, tol=0, **options))
            own, padded = results
            message = f"{channels} channel(s), {options}"
            np.testing.assert_allclose(own.loss, padded.loss, rtol=1e-5, err_msg=message)
            for name in ("P", "H", "W_free", "H_free"):
                a, b = getattr(own, name), getattr(padded, name)
                if b.size:
                    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6 * float(np.abs(b).max()),
                                               err_msg=f"{name}, {message}")
            assert not own.P[:, 1, 3:].any() and not own.P[:, 2, 5:].any() and not own.P[:, 2, 1].any()
            steps = np.diff(own.loss)
            if "cap" not in options:  # the cap may raise the loss slightly (documented)
                assert steps.max() <= 1e-6 * own.loss[0], message


def test_templates_of_different_lengths_learn_with_a_falling_loss():
    """With templates of 8, 3 and 5 frames (zero-padded) adapting freely, every iteration
    lowers the KL divergence (to 1e-6 of the start) and the fit reaches a fifth of the
    starting loss; a template whose frames are all zero stays zero and costs nothing."""
    P = ragged_templates()
    rng = np.random.default_rng(6)
    H = ((rng.random((3, 1, 400)) < 0.05) * rng.random((3, 1, 400)) * 10).astype(np.float32)
    V = convolutive_components(P, H).sum(axis=0) + np.float32(0.01)
    P0 = np.concatenate([start_templates(P), np.zeros((23, 1, 8), np.float32)], axis=1)  # + an empty one
    res = factorize_convolutive(V, P0, beta=1, max_iter=60, tol=0, random_state=0)
    assert np.diff(res.loss).max() <= 1e-6 * res.loss[0]
    assert res.loss[-1] < 0.2 * res.loss[0]
    assert not res.P[:, 3].any() and not res.P[:, 1, 3:].any()
    np.testing.assert_allclose(res.P[:, :3].sum(axis=(0, 2)), 1, atol=1e-5)


@pytest.mark.parametrize("beta", [1, 0, 1.5], ids=lambda b: f"beta={b}")
def test_fixed_templates_fast_path_equals_the_general_updates(beta, monkeypatch):
    """With templates and activations all fixed and free components learning, the
    solver that computes the templates' model once (FixedTemplatesMU) gives the general
    NumPy updates' free factors and losses to float32 rounding (1e-4 / 1e-5 relative),
    mono and stereo, ragged templates; its loss never rises (1e-6 of the start)."""
    from nmfaudio.nmf import nmfd

    P0 = ragged_templates()
    for channels in (1, 2):
        V, _ = planted(F=23, K=3, T=8, C=channels, N=300, seed=8)
        H0 = (0.5 + np.random.default_rng(9).random((3, channels, 300))).astype(np.float32)
        W_free, H_free = free_start(23, channels, 300, n_free=2)
        options = dict(W_free=W_free, H_free=H_free, fix_P=True, fix_H=True, beta=beta, max_iter=8, tol=0)
        fast = factorize_convolutive(V, P0, H0, **options)
        with monkeypatch.context() as patch:
            patch.setattr(kernels, "HAVE_NUMBA", False)
            patch.setattr(nmfd, "FixedTemplatesMU", nmfd.ConvolutiveMU)
            general = factorize_convolutive(V, P0, H0, **options)
        np.testing.assert_allclose(fast.loss, general.loss, rtol=1e-5)
        for name in ("W_free", "H_free"):
            a, b = getattr(fast, name), getattr(general, name)
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6 * float(np.abs(b).max()), err_msg=name)
        np.testing.assert_array_equal(fast.P, P0)
        np.testing.assert_array_equal(fast.H, H0)
        assert np.diff(fast.loss).max() <= 1e-6 * fast.loss[0]


@needs_numba
@pytest.mark.parametrize("channels, N, n_free", [(1, 17 * 256 + 37, 1), (2, 300, 2)],
                         ids=["mono, tasks of two blocks, one free", "stereo, two free"])
def test_compiled_fixed_templates_equal_the_numpy_fixed_templates(channels, N, n_free):
    """CompiledKLFixedTemplatesMU (one compiled pass over V and the fixed model per
    half-step) against the NumPy FixedTemplatesMU it replaces for KL: losses within
    1e-5, free factors within 1e-4 relative after 10 iterations (float32 rounding)."""
    from nmfaudio.nmf import nmfd
    from nmfaudio.nmf.solvers import Problem

    P = ragged_templates()
    lags, owners = nmfd._support(P)
    V, _ = planted(F=23, K=3, T=8, C=channels, N=N, seed=10)
    V = np.maximum(V, np.float32(1e-6)).reshape(23, channels * N)
    H = (0.5 + np.random.default_rng(11).random((3, channels, N))).astype(np.float32)
    W_free, H_free = free_start(23, channels, N, n_free=n_free)
    problem = Problem(beta=1, free_W=np.zeros(len(lags), bool), free_H=np.zeros(3, bool), eps=1e-6)
    runs = []
    for solver_class in (nmfd.CompiledKLFixedTemplatesMU, nmfd.FixedTemplatesMU):
        solver = solver_class(V, np.ascontiguousarray(P[:, owners, lags]), H.copy(), problem, lags=lags,
                              owners=owners, W_free=W_free.copy(), H_free=H_free.reshape(n_free, -1).copy())
        losses = [solver.start()] + [solver.step() for _ in range(10)]
        runs.append((np.array(losses), solver.W_free, solver.H_free))
    (fast_loss, fast_W, fast_H), (loss, W, H_plain) = runs
    np.testing.assert_allclose(fast_loss, loss, rtol=1e-5)
    np.testing.assert_allclose(fast_W, W, rtol=1e-4)
    np.testing.assert_allclose(fast_H, H_plain, rtol=1e-4, atol=1e-6 * float(H_plain.max()))


def test_convolutive_model_is_the_sum_of_the_components_plus_the_free_part():
    """convolutive_model equals convolutive_components(...).sum(0) + W_free H_free
    (float64, 1e-12), into a C-contiguous out and into a frame-major (transposed) one."""
    from nmfaudio.nmf import convolutive_model

    P = ragged_templates().astype(np.float64)
    rng = np.random.default_rng(10)
    H, W_free, H_free = rng.random((3, 2, 40)), rng.random((23, 2)), rng.random((2, 2, 40))
    expected = convolutive_components(P, H).sum(axis=0) + np.einsum("fr,rcn->fcn", W_free, H_free)
    np.testing.assert_allclose(convolutive_model(P, H, W_free=W_free, H_free=H_free), expected, rtol=1e-12)
    frame_major = np.empty((40, 23))
    convolutive_model(P, H[:, 1], W_free=W_free, H_free=H_free[:, 1], out=frame_major.T)
    np.testing.assert_allclose(frame_major.T, expected[:, 1], rtol=1e-12)
    with pytest.raises(ValueError, match="out has shape"):
        convolutive_model(P, H, out=np.empty((23, 2, 41)))


def test_convolutive_components_of_shorter_templates():
    """convolutive_components of zero-padded templates equals the direct sum
    Σ_τ P[:, k, τ] H[k, t − τ] (float64, 1e-12)."""
    P = ragged_templates().astype(np.float64)
    rng = np.random.default_rng(7)
    H = rng.random((3, 2, 40))
    S = convolutive_components(P, H)
    expected = np.zeros((3, 23, 2, 40))
    for k in range(3):
        for tau in range(8):
            expected[k, :, :, tau:] += P[:, k, tau][:, None, None] * H[k, :, :40 - tau][None]
    np.testing.assert_allclose(S, expected, rtol=1e-12, atol=1e-12)


def test_same_seed_same_result_and_resuming_is_exact():
    V, P = planted(C=2, N=100)
    first, again = (factorize_convolutive(V, P, max_iter=8, tol=0, random_state=7) for _ in range(2))
    for name in ("P", "H", "loss"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    other = factorize_convolutive(V, P, max_iter=8, tol=0, random_state=8)
    assert not np.array_equal(other.H, first.H)
    generator = factorize_convolutive(V, P, max_iter=8, tol=0, random_state=np.random.default_rng(7))
    np.testing.assert_array_equal(generator.H, first.H)
    # 8 iterations = 5, then 3 more from the returned factors
    part = factorize_convolutive(V, P, max_iter=5, tol=0, random_state=7)
    rest = factorize_convolutive(V, part.P, part.H, max_iter=3, tol=0)
    np.testing.assert_array_equal(rest.P, first.P)
    np.testing.assert_array_equal(rest.H, first.H)
    np.testing.assert_array_equal(rest.loss, first.loss[5:])


def test_planted_model_is_recovered_and_tol_stops():
    """Without noise, the planted activations are found again with the planted templates
    fixed (the loss falls below 1e-4 of its start); with learning templates, the fit
    ends below the loss of the planted factors on noisy data."""
    V, P, H = planted(zeros=0.0, noise=0.0, with_H=True)
    res = factorize_convolutive(V, P, fix_P=True, max_iter=300, tol=0, random_state=0)
    assert res.loss[-1] < 1e-4 * res.loss[0]
    noisy, P, H = planted(zeros=0.0, with_H=True)
    planted_loss = factorize_convolutive(noisy, P, H, fix_P=True, fix_H=True, max_iter=0).loss[0]
    learned = factorize_convolutive(noisy, start_templates(P), max_iter=300, tol=0, random_state=0)
    assert learned.loss[-1] < planted_loss
    early = factorize_convolutive(V, P, fix_P=True, max_iter=300, tol=1e-2, random_state=0)
    assert early.converged and early.stop_reason == "tol" and early.n_iter % 10 == 0 and early.n_iter < 300
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        factorize_convolutive(V, P, max_iter=3, random_state=0)


def test_callback_sees_each_iteration_and_can_stop():
    V, P = planted()
    seen = []
    res = factorize_convolutive(V, P, max_iter=20, tol=0, random_state=0,
                                callback=lambda i, loss: seen.append((i, loss)) or i == 4)
    assert [i for i, _ in seen] == [1, 2, 3, 4] and res.n_iter == 4 and res.stop_reason == "callback"
    assert [loss for _, loss in seen] == res.loss[1:].tolist()


def test_dtypes_scales_inputs_and_zero_data():
    V, P = planted()
    before = (V.copy(), P.copy())
    res = factorize_convolutive(V, P, max_iter=5, tol=0, random_state=0)
    np.testing.assert_array_equal(V, before[0])  # inputs never modified
    np.testing.assert_array_equal(P, before[1])
    assert isinstance(res, NMFDResult) and res.P.dtype == res.H.dtype == np.float32
    double = factorize_convolutive(V.astype(np.float64), P, beta=2, max_iter=5, tol=0, random_state=0)
    assert double.P.dtype == double.H.dtype == np.float64
    # any scale: V·2^40 gives the same templates and 2^40 times the activations (exact scaling)
    loud = factorize_convolutive(V * np.float32(2.0**40), P, max_iter=5, tol=0, random_state=0)
    np.testing.assert_array_equal(loud.P, res.P)
    np.testing.assert_array_equal(loud.H, res.H * np.float32(2.0**40))
    zero = factorize_convolutive(np.zeros_like(V), P, max_iter=5, random_state=0)
    assert zero.stop_reason == "zero" and not zero.H.any() and zero.n_iter == 0
    np.testing.assert_array_equal(zero.P, P)


def test_model_functions_refuse_activations_that_are_not_one_row_per_template():
    """convolutive_components / _model / _factors with H of the wrong K: extra rows were
    ignored without a word (a (3, N) H with two templates gave a model), too few raised
    an IndexError.  Before 2026-12-06 (tour18)."""
    from nmfaudio.nmf import convolutive_factors, convolutive_model

    P = np.random.default_rng(0).random((6, 2, 3))
    for H in (np.ones((3, 10)), np.ones((1, 10)), np.ones((3, 2, 10)), np.ones(10)):
        for function in (convolutive_components, convolutive_model, convolutive_factors):
            expected = re.escape(f"H has shape {H.shape}; with P of shape (6, 2, 3) it must be (K=2, N) or (K=2, C, N)")
            with pytest.raises(ValueError, match="^" + expected):
                function(P, H)


def test_sparse_data_is_named_with_the_fix():
    """A scipy.sparse V (NMFD works on dense arrays) said `V must have shape (F, N) or (F, C,
    N), got shape ()` — numpy's 0-d object array of it; now the engine's TypeError."""
    import scipy.sparse

    V, P = planted()
    with pytest.raises(TypeError, match=r"^V is a scipy.sparse matrix; pass V.toarray\(\) here"):
        factorize_convolutive(scipy.sparse.csr_matrix(V[:, 0]), P)


def test_data_whose_loss_overflows_float64_is_refused_naming_v():
    # The Frobenius loss of 1e200-scale data (about 1e400) raised Python's bare
    # OverflowError: (34, 'Numerical result out of range') when converted back.
    V, P = planted()
    with pytest.raises(ValueError, match=r"V's largest value .* too far from 1 for beta=2"):
        factorize_convolutive(V.astype(np.float64) * 1e200, P, beta=2, max_iter=5, random_state=0)
    loud = factorize_convolutive(V.astype(np.float64) * 1e200, P, beta=1, max_iter=5, tol=0, random_state=0)
    assert np.all(np.isfinite(loud.loss)) and np.all(np.isfinite(loud.H))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(V=-np.ones((4, 10))), ValueError, "negative"),
    (dict(V=np.ones((4, 2, 3, 10))), ValueError, r"V must have shape \(F, N\) or \(F, C, N\)"),
    (dict(V="spectrogram"), TypeError, "V must be"),
    (dict(P=np.ones((5, 2, 3))), ValueError, r"P has shape \(5, 2, 3\) but V has 4 rows"),
    (dict(H=np.ones((3, 10))), ValueError, r"H has shape \(3, 10\); expected \(2, 10\)"),
    (dict(fix_H=True), ValueError, "fix_H needs the activations"),
    (dict(W_free=np.ones((4, 1))), ValueError, "give both W_free"),
    (dict(W_free=np.ones((4, 1)), H_free=np.ones((2, 10))), ValueError, r"H_free has shape \(2, 10\)"),
    (dict(cap=0), ValueError, "cap=0"),
    (dict(cap=np.ones((4, 2, 2))), ValueError, "cap has shape"),
    (dict(beta="euclid"), ValueError, "beta='euclid'"),
    (dict(max_iter=-1), ValueError, "max_iter=-1"),
    (dict(callback=3), TypeError, "callback=3"),
    (dict(fix_P=[5]), ValueError, "fix_P"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_bad_arguments_raise_one_line_errors(kwargs, error, match):
    arguments = dict(V=np.ones((4, 10)), P=np.ones((4, 2, 3)))
    arguments.update(kwargs)
    with pytest.raises(error, match=match) as caught:
        factorize_convolutive(arguments.pop("V"), arguments.pop("P"), **arguments)
    assert "\n" not in str(caught.value)
