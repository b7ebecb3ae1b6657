"""The drum fit's schedule: the first share of the iterations with every template fixed
(nmfaudio.drums.stems.FIXED_FIRST_SHARE), then the templates adapt within their caps."""

import numpy as np

from nmfaudio.drums import stems
from nmfaudio.drums.model import _fit


def _problem(seed=0, F=24, K=3, T=4, N=80):
    rng = np.random.default_rng(seed)
    P_true = rng.random((F, K, T)).astype(np.float32)
    H_true = (rng.random((K, 1, N)) < 0.15) * rng.random((K, 1, N))
    V = np.einsum("fkt,kcn->fcn", P_true[:, :, :1], H_true).astype(np.float32) + np.float32(1e-3)
    P0 = (P_true + 0.3 * rng.random((F, K, T))).astype(np.float32)
    P0 /= P0.sum(axis=(0, 2), keepdims=True)
    return V, P0


def _run(V, P0, max_iter, callback=None, seed=0):
    return _fit(V, P0, beta=1.0, max_iter=max_iter, adapt=True, max_gain=P0 * np.float32(10.0), n_free=0,
                engine=None, rng=np.random.default_rng(seed), callback=callback)


def test_loss_never_increases_across_the_switch_and_counts_every_iteration():
    V, P0 = _problem()
    seen = []
    fit = _run(V, P0, 20, callback=lambda i, loss: seen.append((i, loss)))
    loss = np.asarray(fit.loss)
    assert fit.n_iter == 20 and len(loss) == 21
    assert [i for i, _ in seen] == list(range(1, 21))  # one numbering over both phases
    # KL multiplicative updates never increase the loss (tolerance: float32 rounding)
    assert np.all(np.diff(loss) <= 1e-5 * loss[:-1])
    assert not np.allclose(fit.P, P0)  # the templates did adapt after the fixed phase


def test_templates_are_unchanged_when_stopped_during_the_fixed_phase():
    V, P0 = _problem(seed=1)
    n_fixed = int(20 * stems.FIXED_FIRST_SHARE)  # 4 of 20 at the default 0.2
    assert n_fixed >= 2
    fit = _run(V, P0, 20, callback=lambda i, loss: i >= n_fixed // 2)
    assert fit.stopped and fit.n_iter == n_fixed // 2
    np.testing.assert_array_equal(fit.P, P0)  # frozen templates are bit-identical
