"""SpreadSustained (the accompaniment's sustained part at full resolution, made a few
frames at a time) equals spread_to_bins' whole array, and masked_stems gives the same
stems with either."""

import numpy as np
import pytest

from nmfaudio import spectrum
from nmfaudio.drums.accompaniment import SpreadSustained, spread_to_bins, sustained_part
from nmfaudio.drums.model import _band_edges
from nmfaudio.drums.resynthesis import masked_stems
from nmfaudio.nmf import convolutive_factors


def _song(rng, channels, n_samples=30000, n_fft=512, hop=128):
    y = (rng.standard_normal((channels, n_samples)) * 0.1).astype(np.float32)
    y[:, :3000] = 0  # silent frames: zero band magnitudes (ratio 0, no division by zero)
    X = spectrum.stft_frame_major(y, n_fft=n_fft, hop_length=hop)
    magnitude = np.abs(X).transpose(1, 0, 2)  # (F, C, N), each channel frame-major
    edges = _band_edges(magnitude.shape[0])
    widths = np.diff(edges)
    Vb = np.add.reduceat(magnitude, edges[:-1], axis=0)
    return y, X, magnitude, Vb, sustained_part(Vb, frames=9), widths


@pytest.mark.parametrize("channels", [1, 2])
def test_frames_equal_the_whole_array_bit_for_bit(channels):
    rng = np.random.default_rng(0)
    _, _, magnitude, Vb, Sb, widths = _song(rng, channels)
    whole = spread_to_bins(magnitude, Vb, Sb, widths)
    whole *= np.float32(0.35)  # separate_drums weighted the whole array in place
    lazy = SpreadSustained(magnitude, Vb, Sb, widths, 0.35)
    N = magnitude.shape[-1]
    for c in range(channels):
        for t0, t1 in ((0, 7), (7, 40), (40, N)):
            np.testing.assert_array_equal(lazy.frames(c, t0, t1), whole[:, c, t0:t1].T)
    assert lazy.any() == bool(whole.any())


@pytest.mark.parametrize("channels", [1, 2])
def test_remainder_mean_is_the_mean_of_what_the_drums_are_fitted_to(channels):
    rng = np.random.default_rng(1)
    _, _, magnitude, Vb, Sb, widths = _song(rng, channels)
    F, C, N = magnitude.shape
    expected = np.maximum(magnitude - spread_to_bins(magnitude, Vb, Sb, widths), 0).astype(np.float64)
    expected = expected.reshape(F, C * N).mean(axis=1)
    got = SpreadSustained(magnitude, Vb, Sb, widths, 0.5).remainder_mean(chunk=50)
    assert got.shape == (F,) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7 * expected.max())


def test_masked_stems_are_the_same_with_the_lazy_part():
    rng = np.random.default_rng(2)
    y, X, magnitude, Vb, Sb, widths = _song(rng, 2)
    C, F, N = X.shape
    factors = [convolutive_factors(rng.random((F, parts, 3)).astype(np.float32),
                                   rng.random((parts, C, N)).astype(np.float32)) for parts in (2, 1, 1)]
    whole = spread_to_bins(magnitude, Vb, Sb, widths)
    whole *= np.float32(0.3)
    expected = np.empty((2, C, y.shape[-1]), np.float32)
    got = np.empty_like(expected)
    masked_stems(X, factors, expected, mask_power=1.5, n_fft=512, hop_length=128, sustained=whole)
    masked_stems(X, factors, got, mask_power=1.5, n_fft=512, hop_length=128,
                 sustained=SpreadSustained(magnitude, Vb, Sb, widths, 0.3))
    np.testing.assert_array_equal(got, expected)


def test_refuses_a_magnitude_that_is_not_frame_major():
    rng = np.random.default_rng(3)
    _, _, magnitude, Vb, Sb, widths = _song(rng, 2)
    with pytest.raises(ValueError, match="frame-major"):
        SpreadSustained(np.ascontiguousarray(magnitude), Vb, Sb, widths)
