"""Property tests (hypothesis) of the engine and the masks: finite, non-negative,
monotone losses; masks partition unity and keep the components' order.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nmfaudio
from nmfaudio import masks


# --- property tests: the engine and the masks ------------------------------------------

PROPERTY = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BETAS = [-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0]
# No case is marked: β = 1.5 MU can raise its loss where the model hits its floor eps
# (test_mu_loss_rises_at_the_model_floor_for_beta_between_1_and_2 pins a case; docs/
# engine.md, known limits), but none of the derandomized examples drawn now (they follow
# this test's source) does, in float64 or float32.  A failure of that case after an edit
# of this test is that known rise, not a new bug.
ENGINE_CASES = [(beta, "mu") for beta in BETAS] + [(2.0, "hals")]


@st.composite
def non_negative_matrices(draw, dtype, max_side=6):
    """Zeros and entries spanning four decades, times a common scale 10^e: e in [-30, 30]
    (float64) or [-6, 6] (float32) — tiny and huge matrices."""
    shape = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    decade = st.floats(-2, 2, allow_nan=False).map(lambda e: 10.0**e)
    base = draw(arrays(np.float64, shape, elements=st.one_of(st.just(0.0), decade)))
    exponent = draw(st.integers(-30, 30) if dtype == np.float64 else st.integers(-6, 6))
    return (base * 10.0**exponent).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("beta, solver", ENGINE_CASES)
@PROPERTY
@given(data=st.data())
def test_engine_property_finite_non_negative_monotone(beta, solver, dtype, data):
    V = data.draw(non_negative_matrices(dtype), label="V")
    k = data.draw(st.integers(1, 3), label="k")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nmfaudio.factorize(V, k, beta=beta, solver=solver, max_iter=30, tol=0, random_state=0)
    assert result.W.dtype == dtype and result.H.dtype == dtype
    for name in ("W", "H"):
        factor = getattr(result, name)
        assert np.all(np.isfinite(factor)) and factor.min() >= 0, name
    # Rounding: 1e-12 of the starting loss in float64, 1e-6 in float32 (the divergence's
    # formula cancels near a perfect fit, so the loss can come out a hair below 0).
    tolerance = (1e-12 if dtype == np.float64 else 1e-6) * result.loss[0]
    assert np.all(np.isfinite(result.loss)) and result.loss.min() >= -tolerance, result.loss
    assert np.diff(result.loss).max(initial=0) <= tolerance, result.loss  # non-increasing


@pytest.mark.xfail(strict=True, reason="known: the floored β-divergence is not what MU's MM step majorizes")
def test_mu_loss_rises_at_the_model_floor_for_beta_between_1_and_2():
    # Found by the property test above (also on 78c97fa): with β = 1.5 the loss is the
    # divergence of the floored model max(WH, eps) (eps 1.2e-5 here), which where
    # V > eps is flat below eps, then falls, then rises in WH: not convex, so the
    # Jensen majorizer behind the update does not hold for it.  At iteration 9, 9 of
    # the 12 entries of WH are below eps (one with V = 1e-2); iteration 10 raises the
    # loss by 1.8e-4 of itself (2.5e-10 of loss[0]).  Flooring the update's model at
    # 1e-300 instead still rises (1.0e-10 of loss[0], iteration 4, a NumPy copy of the
    # updates); with eps <= 1e-6 this fit never rises.  Strict: a fix makes this test
    # fail until the mark is removed.
    V = np.array([[0, 0, 0, 0], [0, 0, 1e-2, 0], [1e2, 0, 1, 0]], dtype=np.float64)
    result = nmfaudio.factorize(V, 2, beta=1.5, solver="mu", max_iter=30, tol=0, random_state=0)
    assert np.diff(result.loss).max() <= 1e-12 * result.loss[0]


@st.composite
def factor_pairs(draw, dtype):
    """W (F, k), H (k, T) with zeros and entries 10^e, e in ±200 (float64) or ±30
    (float32): products that overflow or underflow the dtype are part of the domain."""
    F, k, T = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 5))
    span = 200 if dtype == np.float64 else 30
    entry = st.one_of(st.just(0.0), st.floats(-span, span, allow_nan=False).map(lambda e: 10.0**e))
    W = draw(arrays(np.float64, (F, k), elements=entry)).astype(dtype)
    H = draw(arrays(np.float64, (k, T), elements=entry)).astype(dtype)
    return W, H


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("power", [0.5, 1.0, 2.0, 10.0, "binary"])
@PROPERTY
@given(data=st.data())
def test_masks_property_partition_and_order(power, dtype, data):
    W, H = data.draw(factor_pairs(dtype), label="W, H")
    M = masks.masks(W, H, power=power)
    assert M.shape == (W.shape[1], W.shape[0], H.shape[1]) and M.dtype == dtype
    assert np.all(np.isfinite(M)) and M.min() >= 0 and M.max() <= 1
    # they sum to one in every bin: 1e-12 (float64) or 1e-6 (float32) rounding
    np.testing.assert_allclose(M.sum(axis=0), 1.0, atol=1e-12 if dtype == np.float64 else 1e-6)
    # a component whose W_k H_k is clearly larger (by 0.1 %, in exact log terms) never gets less
    with np.errstate(divide="ignore"):
        L = np.log(W.astype(np.float64)).T[:, :, None] + np.log(H.astype(np.float64))[:, None, :]
    louder = L[:, None] > L[None, :] + 1e-3  # louder[i, j]: component i louder than j
    M_i, M_j = np.broadcast_to(M[:, None], louder.shape), np.broadcast_to(M[None, :], louder.shape)
    assert np.all(M_i[louder] >= M_j[louder] - 1e-6)
    if power == "binary":
        assert set(np.unique(M)) <= {0.0, 1.0}
    X = np.exp(1j * np.arange(M[0].size)).reshape(M.shape[1:])
    assert np.abs((M * X).sum(axis=0) - X).max() <= 1e-6  # masked parts add up to the mixture
