"""Extreme levels: audio far quieter or louder than usual is rescaled by an exact power of
two and separates like normal audio.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nmfaudio
from nmfaudio.nmf.divergence import beta_from_name


#: Sampling rate of the conftest ``tones`` (8000 Hz).
SR = 8000


# --- extreme levels: exact power-of-two rescaling --------------------------------------


@pytest.mark.parametrize("beta", ["frobenius", "kullback-leibler", "itakura-saito", 3.0])
@pytest.mark.parametrize("level", [2.0**-130, 2.0**-70, 2.0**70, 2.0**126])
def test_extreme_levels_separate_like_normal_audio(level, beta, tones):
    # Without the rescaling, float32 IS gives NaN below ~1e-18 and β >= 2 overflows above
    # ~1e19.  level·y is separated like y: the same tracks times level, within 1e-4 of
    # the peak (rounding of a power-of-two-scaled problem; 2**-130 is subnormal float32,
    # whose samples carry only ~16 bits, hence the 2e-3 there).
    y = tones(channels=2)
    kwargs = dict(n_components=2, beta=beta, n_fft=256, hop_length=64, max_iter=20, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = nmfaudio.separate(y, SR, **kwargs)
        scaled_y = (y.astype(np.float64) * level).astype(np.float32)
        scaled = nmfaudio.separate(scaled_y, SR, **kwargs)
    assert np.all(np.isfinite(scaled.components)) and np.all(np.isfinite(scaled.H))
    tolerance = 2e-3 if level < 2.0**-126 else 1e-4
    back = scaled.components.astype(np.float64) / level
    assert np.abs(back - reference.components).max() <= tolerance * np.abs(y).max()
    peak = np.abs(scaled_y).max()
    assert np.abs(scaled.components.sum(axis=0) - scaled_y).max() <= tolerance * peak
    ratio = scaled.loss[-1] / reference.loss[-1] / level ** beta_from_name(beta)
    assert ratio == pytest.approx(1, rel=1e-3)  # the loss is reported at the input's level


@pytest.mark.parametrize("level", [1e-300, 1e300])
def test_float64_audio_at_float64_extremes_separates(level, tones):
    # float64 audio at 1e-300 raised a bare "OverflowError: (34, 'Numerical result out of
    # range')" from the loss's conversion back to the input's level (scale**2 with scale =
    # 2**997) before 2026-12-07 (review61); its callback did too.  Now the tracks are those
    # of y times level, and the loss (about 1e-600 or 1e600 times y's, outside float64) is
    # 0 or inf, never an error or NaN.
    y = tones().astype(np.float64)
    kwargs = dict(n_components=2, n_fft=256, hop_length=64, max_iter=20, tol=0, random_state=0)
    reference = nmfaudio.separate(y, SR, **kwargs)
    seen = []
    scaled = nmfaudio.separate(y * level, SR, callback=lambda i, loss: seen.append(loss), **kwargs)
    assert np.all(np.isfinite(scaled.components))
    back = scaled.components / level
    assert np.abs(back - reference.components).max() <= 1e-4 * np.abs(y).max()
    assert not np.isnan(scaled.loss).any() and len(seen) == 20
    expected = 0.0 if level < 1 else np.inf
    assert scaled.loss[-1] == expected and seen[-1] == expected
