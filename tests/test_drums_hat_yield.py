"""The hi-hat output yielding bins to the free component in a drum recording
(resynthesis._yield_share, separation.HAT_RESIDUAL_WEIGHT)."""

import numpy as np
import pytest

from nmfaudio import masks
from nmfaudio.drums.resynthesis import _yield_share


def _models(seed=0, outputs=6, n=7, F=11):
    rng = np.random.default_rng(seed)
    S = rng.random((outputs, n, F)).astype(np.float32) ** 3
    S[:, 0, 0] = 0  # a bin every model leaves empty: equal split, kept
    S[3, 1, :] = 0  # a frame without hats
    return S


@pytest.mark.parametrize("weight", [0.35, 0.7, 1.0, 2.0])
def test_the_re_split_matches_the_weighted_pair_and_leaves_the_others(weight):
    S = _models()
    power = 1.5
    M = masks.spectrogram_masks(S.copy(), power=power)
    before = M.copy()
    _yield_share(M, S[3].copy(), S[5].copy(), 3, 5, weight, power)
    # the other outputs' masks are untouched, the masks still sum to 1 (float32 rounding)
    for d in (0, 1, 2, 4):
        np.testing.assert_array_equal(M[d], before[d])
    np.testing.assert_allclose(M.sum(axis=0), 1, atol=1e-6)
    np.testing.assert_allclose(M[3] + M[5], before[3] + before[5], atol=1e-6)
    # the pair's split follows (weight·S_hat)^p : S_res^p where either model is non-zero
    a, b = (weight * S[3].astype(np.float64)) ** power, S[5].astype(np.float64) ** power
    live = (a + b) > 0
    expected = (before[3] + before[5]) * a / np.where(live, a + b, 1)
    np.testing.assert_allclose(M[3][live], expected[live], atol=1e-6)
    # where both are zero nothing moves (the equal split of an empty bin stays)
    np.testing.assert_array_equal(M[:, ~live], before[:, ~live])
    # a weight under 1 never gives the hats more, over 1 never less
    if weight < 1:
        assert np.all(M[3] <= before[3] + 1e-7)
    elif weight > 1:
        assert np.all(M[3] >= before[3] - 1e-7)
    else:
        np.testing.assert_allclose(M, before, atol=1e-6)


def _loop():
    import nmfaudio

    y, sr = nmfaudio.load("data/drum_loop.wav")
    return y[: 4 * sr], sr


def test_the_separation_moves_hat_share_to_the_residual_only(monkeypatch):
    # wiring: in a drum recording only the hi-hat stem and the residual change, their sum
    # stays (the masks partition the mixture; the inverse STFT is linear), and the hats
    # give up energy; weight 1 is the switch off
    import nmfaudio
    from nmfaudio.drums import separation

    y, sr = _loop()
    monkeypatch.setattr(separation, "HAT_RESIDUAL_WEIGHT", 1.0)
    plain = nmfaudio.separate_drums(y, sr, random_state=0)
    monkeypatch.setattr(separation, "HAT_RESIDUAL_WEIGHT", 0.5)
    yielded = nmfaudio.separate_drums(y, sr, random_state=0)
    peak = float(np.abs(y).max())
    for label in ("kick", "snare", "toms", "cymbals"):
        np.testing.assert_allclose(yielded.sources[label], plain.sources[label], atol=1e-5 * peak)
    np.testing.assert_allclose(yielded.sources["hihat"] + yielded.sources["residual"],
                               plain.sources["hihat"] + plain.sources["residual"], atol=1e-4 * peak)
    assert np.sum(yielded.sources["hihat"] ** 2) < np.sum(plain.sources["hihat"] ** 2)
    assert np.sum(yielded.sources["residual"] ** 2) > 0


def test_songs_do_not_yield(monkeypatch):
    # song mode (an accompaniment modelled): the residual holds the music, no re-split
    import nmfaudio
    from nmfaudio.drums import resynthesis

    y, sr = _loop()
    called = []
    original = resynthesis._yield_share
    monkeypatch.setattr(resynthesis, "_yield_share", lambda *a: called.append(1) or original(*a))
    nmfaudio.separate_drums(y, sr, random_state=0, accompaniment=True)
    assert not called
    nmfaudio.separate_drums(y, sr, random_state=0, accompaniment=False)
    assert called
