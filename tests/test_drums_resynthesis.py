"""masked_stems (a few frames at a time, ranges on threads) equals the whole-array chain:
models, masks, masked STFT, inverse STFT."""

import numpy as np
import pytest

from nmfaudio import masks, spectrum
from nmfaudio.drums.resynthesis import masked_stems
from nmfaudio.nmf import convolutive_factors, convolutive_model


def _case(rng, channels, n_samples=40000, n_fft=512, hop=128):
    y = rng.standard_normal((channels, n_samples)).astype(np.float32) * 0.1
    X = spectrum.stft_frame_major(y, n_fft=n_fft, hop_length=hop)
    F, N = X.shape[1:]
    factors = []
    for parts in (2, 3, 1):  # two drum outputs, then the residual
        P = rng.random((F, parts, 4)).astype(np.float32)
        H = rng.random((parts, channels, N)).astype(np.float32)
        factors.append((P, H))
    return y, X, factors


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("with_sustained", [False, True])
def test_equals_whole_array_chain(channels, with_sustained):
    rng = np.random.default_rng(0)
    n_fft, hop = 512, 128
    y, X, factors = _case(rng, channels, n_fft=n_fft, hop=hop)
    C, F, N = X.shape
    sustained = rng.random((F, C, N)).astype(np.float32) if with_sustained else None
    S = np.stack([convolutive_model(P, H) for P, H in factors]).transpose(0, 2, 1, 3)  # (3, C, F, N)
    if sustained is not None:
        S[-1] += sustained.transpose(1, 0, 2)
    M = masks.spectrogram_masks(S, power=1.5)
    expected = spectrum.istft(M[:2] * X[None], n_fft=n_fft, hop_length=hop, length=y.shape[-1])  # (2, C, n)
    out = np.full((2, C, y.shape[-1]), np.nan, np.float32)
    modelled = masked_stems(X, [convolutive_factors(P, H) for P, H in factors], out, mask_power=1.5, n_fft=n_fft,
                            hop_length=hop, sustained=sustained)
    assert modelled
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, expected, atol=2e-6 * np.abs(y).max())


def test_zero_residual_model_gives_every_bin_to_the_drums():
    rng = np.random.default_rng(1)
    y, X, factors = _case(rng, 1)
    P, H = factors[-1]
    out = np.empty((2, 1, y.shape[-1]), np.float32)
    modelled = masked_stems(X, [convolutive_factors(P_, H_) for P_, H_ in factors[:2]] + [
        convolutive_factors(P, np.zeros_like(H))], out, mask_power=1.5, n_fft=512, hop_length=128)
    assert not modelled
    # the two drum stems then add up to the mixture (to the STFT round trip's rounding)
    np.testing.assert_allclose(out.sum(axis=0), y, atol=1e-5)


def test_compiled_mask_product_equals_numpy_bit_for_bit():
    from nmfaudio.drums.resynthesis import _mask_spectra, _mask_spectra_numpy

    rng = np.random.default_rng(3)
    M = rng.random((4, 5, 33)).astype(np.float32)  # one mask more than stems: it is not used
    pairs = rng.standard_normal((5, 33, 2)).astype(np.float32)
    got, expected = np.full((3, 5, 33, 2), np.nan, np.float32), np.empty((3, 5, 33, 2), np.float32)
    _mask_spectra(M, pairs, got)
    _mask_spectra_numpy(M, pairs, expected)
    np.testing.assert_array_equal(got, expected)
