"""Song mode: a held, harmonic bass note's cells leave the kick and toms stems
(nmfaudio.drums.bass_lines)."""

import numpy as np
import pytest

from nmfaudio import separate_drums, spectrum
from nmfaudio.drums import bass_lines
from nmfaudio.drums.bass_lines import LOW_HZ, bass_cells, channel_cells
from nmfaudio.drums.resynthesis import masked_stems

from test_drums import SR, synthetic_hits  # noqa: E402
from test_drums_full_song import _projection, held_music  # noqa: E402

N_FFT, HOP = 2048, 512  # 10.8 Hz bins, 23.2-ms frames at SR (22.05 kHz)


def _magnitude(y):
    return np.abs(spectrum.stft(np.asarray(y, np.float32), n_fft=N_FFT, hop_length=HOP))


def _note(f0, seconds, harmonics, decay_per_s=0.0, glide=0.0):
    """A tone of ``harmonics`` (partial ratios) at f0 (Hz), 5-ms attack, exponential decay
    (per second) and a frequency falling by ``glide`` (share per second)."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * f0 * (t - glide * t ** 2 / 2)
    tone = sum(np.sin(r * phase) / (i + 1) for i, r in enumerate(harmonics))
    return tone * np.minimum(1, t / 0.005) * np.exp(-decay_per_s * t)


def _low_share(y):
    """Share of ``y``'s magnitude cells below LOW_HZ that bass_cells marks, energy weighted."""
    M = _magnitude(y)
    cells = bass_cells(M, sr=SR, n_fft=N_FFT, hop_length=HOP)
    low = M[:cells.shape[0]] ** 2
    return float(low[cells].sum() / low.sum())


def test_bass_cells_mark_a_held_harmonic_note_not_a_tom_or_a_kick():
    # a bass note (harmonics 1-4, decaying 26 dB/s, as long as a tom rings) holds over
    # 0.14 s and has a peak at twice its partials' frequency; a tom (a membrane's modes 1,
    # 1.59, 2.14, 2.30) rings as long but has none there; a kick (a falling sine, 260 dB/s)
    # falls within the hold.  Measured at 98 / 150 Hz: bass 0.58 / 0.59, tom 0.13 / 0.00
    # (at 98 Hz the 2.14 mode lies 1.3 bins from twice the fundamental: the one-bin
    # tolerance takes part of a low tom), kick 0.00.
    pad = np.zeros(int(0.3 * SR))

    def share(*args, **kwargs):
        return _low_share(np.r_[pad, _note(*args, **kwargs), pad])

    membrane = (1, 1.59, 2.14, 2.30)
    for f0, tom_at_most in ((98.0, 0.2), (150.0, 0.05)):
        assert share(f0, 0.6, (1, 2, 3, 4), decay_per_s=3.0) >= 0.5
        assert share(f0, 0.6, membrane, decay_per_s=3.0) <= tom_at_most
    assert share(70.0, 0.6, (1,), decay_per_s=30.0, glide=0.8) <= 0.05


def test_bass_cells_shapes_and_arguments():
    M = _magnitude(np.zeros(SR // 2))
    cells = bass_cells(M, sr=SR, n_fft=N_FFT, hop_length=HOP)
    assert cells.shape == (int(np.ceil(LOW_HZ * N_FFT / SR)), M.shape[1]) and not cells.any()
    with pytest.raises(ValueError, match="sr"):
        bass_cells(M, sr=0, n_fft=N_FFT, hop_length=HOP)


def test_channel_cells_are_each_channels_own():
    # stereo (F, C, N) -> (C, n_low, N): a held bass note in the right channel only marks
    # cells there and none in the silent left one (each channel judged on its own)
    pad = np.zeros(int(0.3 * SR))
    bass = np.r_[pad, _note(98.0, 0.6, (1, 2, 3, 4), decay_per_s=3.0), pad]
    magnitude = np.stack([_magnitude(np.zeros_like(bass)), _magnitude(bass)], axis=1)  # (F, 2, N)
    cells = channel_cells(magnitude, sr=SR, n_fft=N_FFT, hop_length=HOP)
    right = bass_cells(magnitude[:, 1], sr=SR, n_fft=N_FFT, hop_length=HOP)
    assert cells.shape == (2,) + right.shape and cells.dtype == bool
    assert not cells[0].any() and right.any()
    np.testing.assert_array_equal(cells[1], right)


def test_the_marked_cells_leave_the_stem_through_its_mask():
    # a stem whose model is the whole mixture (a held bass note and a high tone), the
    # residual's model 60 dB below it: the stem is the mixture; with the bass lines' cells
    # left out of its mask (channel_cells -> masked_stems' leave_out) the bass leaves (its
    # share in the stem 1 -> 0.49 measured: its partials above LOW_HZ, 12 % of its
    # energy, and its last 0.14 s, whose level does not hold, stay), the 1-kHz tone stays
    # (within 1 %)
    pad = np.zeros(int(0.3 * SR))
    bass = np.r_[pad, _note(98.0, 1.0, (1, 2, 3, 4)), pad]
    high = 0.3 * np.sin(2 * np.pi * 1000.0 * np.arange(bass.size) / SR)
    mix = (bass + high).astype(np.float32)
    X = spectrum.stft_frame_major(mix[None], n_fft=N_FFT, hop_length=HOP)  # (C, F, N)
    magnitude = np.abs(X).transpose(1, 0, 2)  # (F, C, N)
    model = magnitude[:, 0, :] + 1e-9
    F, N = model.shape
    # W (F, N) the frames' magnitudes, Hs (N, N) the identity: output d's model is W @ Hs
    eye = np.eye(N, dtype=np.float32)
    factors = [(model.astype(np.float32), eye), ((1e-3 * model).astype(np.float32), eye)]
    cells = channel_cells(magnitude, sr=SR, n_fft=N_FFT, hop_length=HOP)
    assert cells.shape == (1, int(np.ceil(LOW_HZ * N_FFT / SR)), N) and cells.any()
    whole = np.empty((1, 1, mix.size), np.float32)
    masked_stems(X, factors, whole, mask_power=1.5, n_fft=N_FFT, hop_length=HOP)
    out = np.empty((1, 1, mix.size), np.float32)
    assert masked_stems(X, factors, out, mask_power=1.5, n_fft=N_FFT, hop_length=HOP, leave_out=(0, cells))
    assert _projection(whole[0, 0], bass) >= 0.99
    assert _projection(out[0, 0], bass) <= 0.6
    assert abs(_projection(out[0, 0], high) - 1) <= 0.01


def test_held_bass_leaves_the_kick_and_toms_stems_in_a_song(monkeypatch):
    # the test kit's hits under held music plus a bass line of held harmonic notes starting
    # on the kick's hits (0.4 s each): with the step, less of the bass in the kick and toms
    # stems, the kick keeps its stem.  Measured: bass in kick + toms 0.795 -> 0.608, in the
    # residual 0.140 -> 0.327; kick in its stem 0.789 -> 0.782 (0.603 / 0.331 / 0.782 when the
    # step re-analysed the stems instead of zeroing their masks).  Without the step the first
    # assert fails.
    kick, snare, hat = synthetic_hits(seconds=4.0)
    drums = kick + snare + hat
    sounding = np.flatnonzero(np.abs(kick) > 1e-3)
    starts = sounding[np.r_[True, np.diff(sounding) > int(0.05 * SR)]]
    rng = np.random.default_rng(0)
    bass = np.zeros(drums.size)
    for a in starts:
        note = _note(float(rng.choice([65.4, 73.4, 82.4])), 0.4, (1, 2, 3, 4), decay_per_s=3.0)
        stop = min(drums.size, a + note.size)
        bass[a:stop] += note[:stop - a]
    bass *= np.sqrt(np.mean(drums ** 2) / np.mean(bass ** 2))
    mix = (drums + held_music(drums, -6.0) + bass).astype(np.float32)

    def in_low_stems(result, reference):
        return sum(_projection(result.sources[c], reference) for c in ("kick", "toms") if c in result.sources)

    on = separate_drums(mix, SR, random_state=0, accompaniment=True)
    np.testing.assert_allclose(sum(on.sources.values()), mix, atol=1e-4)  # still the input
    monkeypatch.setattr(bass_lines, "BASS_LINES", False)
    off = separate_drums(mix, SR, random_state=0, accompaniment=True)
    assert in_low_stems(on, bass) <= in_low_stems(off, bass) - 0.1
    assert _projection(on.sources["kick"], kick) >= _projection(off.sources["kick"], kick) - 0.02
    np.testing.assert_array_equal(on.activations["kick"], off.activations["kick"])  # the fit's
    # a drum recording never reaches the step
    monkeypatch.setattr(bass_lines, "BASS_LINES", True)
    drum_on = separate_drums(mix, SR, random_state=0, accompaniment=False)
    monkeypatch.setattr(bass_lines, "BASS_LINES", False)
    drum_off = separate_drums(mix, SR, random_state=0, accompaniment=False)
    for c in drum_on.sources:
        np.testing.assert_array_equal(drum_on.sources[c], drum_off.sources[c])
