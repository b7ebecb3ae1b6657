"""The drum separation's compute path: STFT frames scaled with the sample rate, and the
multichannel fit on the channels' sum with per-channel component levels
(nmfaudio.drums.model.channel_gains)."""

import numpy as np
import pytest

from nmfaudio import separate_drums, spectrum
from nmfaudio.drums import model
from nmfaudio.drums.model import _Fit, channel_gains

from test_drums import SR, synthetic_hits  # noqa: E402


@pytest.mark.parametrize("sr, expected", [(8000, (2048, 512)), (16000, (2048, 512)), (22050, (2048, 512)),
                                          (44100, (4096, 1024)), (48000, (4464, 1116)),
                                          (96000, (8192, 2048))])
def test_frames_for_rate_keep_the_durations_of_the_22k_defaults(sr, expected):
    assert spectrum.frames_for_rate(sr) == expected


def test_48_khz_frames_have_the_44_khz_bin_width_and_hop_in_seconds():
    """rate48_68: 48 kHz (a video's audio) is analysed on the 44.1-kHz grid, within 0.2 %
    (4096 / 1024 there was 10 % wider bins and an 8 % shorter hop)."""
    n_fft, hop = spectrum.frames_for_rate(44100)
    n_fft48, hop48 = spectrum.frames_for_rate(48000)
    assert abs((48000 / n_fft48) / (44100 / n_fft) - 1) < 0.002
    assert abs((hop48 / 48000) / (hop / 44100) - 1) < 0.002
    assert spectrum.check_frames(n_fft48, hop48) == (n_fft48, hop48) and hop48 == n_fft48 // 4


def test_default_frames_follow_the_rate_and_explicit_ones_are_kept():
    kick, snare, hihat = synthetic_hits(seconds=2.0)
    mix = kick + snare + hihat
    at_22k = separate_drums(mix, SR, random_state=0, max_iter=5)
    assert (at_22k.n_fft, at_22k.hop_length) == (2048, 512)
    at_44k = separate_drums(np.repeat(mix, 2), 2 * SR, random_state=0, max_iter=5)  # crude 2x upsampling
    assert (at_44k.n_fft, at_44k.hop_length) == (4096, 1024)
    assert at_44k.activations["kick"].shape == (1 + 2 * mix.size // 1024,)
    given = separate_drums(mix, SR, random_state=0, max_iter=5, n_fft=1024)
    assert (given.n_fft, given.hop_length) == (1024, 256)
    with pytest.raises(ValueError, match="hop_length"):
        separate_drums(mix, SR, n_fft=1024, hop_length=2000)


def _random_fit(rng, F=30, K=4, T=3, N=80, n_free=1):
    P = rng.random((F, K, T)).astype(np.float32)
    H = rng.random((K, 1, N)).astype(np.float32)
    W_free = rng.random((F, n_free)).astype(np.float32)
    H_free = rng.random((n_free, N)).astype(np.float32)
    return _Fit(P, H, W_free, H_free, [], 0, False)


def _components(fit):
    from nmfaudio.nmf import convolutive_components

    A = convolutive_components(fit.P, fit.H[:, 0])  # (K, F, N)
    free = fit.W_free.T[:, :, None] * fit.H_free[:, None, :]
    return np.concatenate([A, free])  # (K + n_free, F, N)


def test_channel_gains_follow_a_channel_that_is_a_scaled_copy():
    # KL updates from equal gains: a channel at twice the other's level gets exactly twice its gains
    fit = _random_fit(np.random.default_rng(0))
    right = np.tensordot(np.array([0.2, 0.5, 0.1, 0.7, 0.3], np.float32), _components(fit), axes=1)
    V = np.stack([2 * right, right], axis=1)  # (F, 2, N)
    gains = channel_gains(V, fit, beta=1.0)
    np.testing.assert_allclose(gains[:, 0], 2 * gains[:, 1], rtol=1e-4)


def test_channel_gains_lower_the_divergence_of_each_channel():
    rng = np.random.default_rng(1)
    fit = _random_fit(rng)
    A = _components(fit)
    truth = rng.random((A.shape[0], 2)).astype(np.float32)  # a different pan per component
    V = np.stack([np.tensordot(truth[:, c], A, axes=1) for c in range(2)], axis=1)

    def kl(c, g):
        model_c = np.tensordot(g, A, axes=1)
        return float(np.sum(V[:, c] * np.log(V[:, c] / model_c) - V[:, c] + model_c))

    gains = channel_gains(V, fit, beta=1.0, n_iter=50)
    assert np.all(gains >= 0)
    for c in range(2):
        start = kl(c, np.full(A.shape[0], 0.5))
        assert kl(c, gains[:, c]) < 0.05 * start  # the static pans are (nearly) recovered


def test_stereo_at_two_levels_gives_the_same_stems_at_those_levels():
    kick, snare, hihat = synthetic_hits(seconds=3.0)
    mix = kick + snare + hihat
    result = separate_drums(np.stack([mix, 0.5 * mix]), SR, random_state=0)
    for name, track in result.sources.items():
        scale = max(float(np.abs(track[0]).max()), 1e-6)
        np.testing.assert_allclose(track[1], 0.5 * track[0], atol=1e-4 * scale, err_msg=name)


def _panned_hihat_stems(seconds=3.0):
    """The hi-hat stem's rms per channel for a mix with the hi-hat only on the left and
    the kick and snare on both channels."""
    kick, snare, hihat = synthetic_hits(seconds=seconds)
    stereo = np.stack([kick + snare + hihat, kick + snare])
    stem = separate_drums(stereo, SR, random_state=0).sources["hihat"]
    return np.sqrt(np.mean(stem.astype(np.float64) ** 2, axis=-1))


def test_a_drum_panned_to_one_channel_stays_out_of_the_other():
    """The channel gains after the summed fit follow each drum's pan: a hi-hat played on
    the left only gives a right hi-hat stem below 5% of the left's rms."""
    left, right = _panned_hihat_stems()
    assert left > 0, "no hi-hat found on the left"
    assert right < 0.05 * left, f"right hi-hat rms {right:.4g} vs left {left:.4g}"


def test_per_channel_fit_is_still_available(monkeypatch):
    # model.FIT_CHANNEL_SUM = False: one activation row per template and channel in the fit
    kick, snare, hihat = synthetic_hits(seconds=2.0)
    stereo = np.stack([kick + snare + hihat, kick + 0.3 * snare + hihat])
    monkeypatch.setattr(model, "FIT_CHANNEL_SUM", False)
    each = separate_drums(stereo, SR, random_state=0, max_iter=10)
    monkeypatch.setattr(model, "FIT_CHANNEL_SUM", True)
    summed = separate_drums(stereo, SR, random_state=0, max_iter=10)
    for result in (each, summed):
        np.testing.assert_allclose(sum(result.sources.values()), stereo, atol=1e-5)
        assert result.activations["kick"].shape[0] == 2


@pytest.mark.parametrize("shape", [(3000,), (2, 3000), (2, 0)])
def test_mixture_minus_is_the_whole_array_difference_bit_for_bit(shape):
    """The residual track (the mixture minus the drum stems), made in blocks of samples on
    threads, equals the whole-array expression exactly."""
    from nmfaudio.drums.separation import _mixture_minus

    rng = np.random.default_rng(4)
    y = rng.standard_normal(shape).astype(np.float32)
    drums = rng.standard_normal((5,) + ((1,) if len(shape) == 1 else ()) + shape).astype(np.float32)
    got = _mixture_minus(y, drums, block=700)
    assert got.shape == y.shape and got.dtype == np.float32
    np.testing.assert_array_equal(got, y - drums.sum(axis=0).reshape(y.shape))
