"""The hi-hat stem's low mids to the residual where they would be most of it
(nmfaudio.drums.hat_lows; docs/log/drums-five-stems-decisions.md, hihat69 round).

Offline and small: the bundled loop's kick and snare stems, its hats 30 dB down, and
tuned "congas" (two decaying partials at 450 / 600 Hz) no template holds."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from nmfaudio import DrumTemplates, separate_drums, spectrum
from nmfaudio.drums import default_templates, hat_lows, separation
from nmfaudio.metrics import sdr

DATA = Path(__file__).resolve().parents[1] / "data"


def test_low_mid_share_is_the_hat_stems_expected_share_of_the_band():
    # two labelled parts, one hat; the hat holds the whole model in bins 2-3 and half of it
    # in bin 4; the mixture's power is 1 per bin: the expected hat power is 0, 0, 1, 1, 0.25
    labels = ("snare", "hihat")
    freqs = np.array([100.0, 200.0, 400.0, 800.0, 3000.0])
    P = np.zeros((5, 3, 2), np.float32)  # a third, unlabelled part is not counted
    P[:, 0, 0] = [1, 1, 0, 0, 1]
    P[:, 1, 0] = [0, 0, 1, 1, 1]
    P[:, 2, 0] = 5
    H = np.ones((3, 1, 4), np.float32)
    share = hat_lows.low_mid_share(P, H, labels, freqs, np.ones(5))
    assert share == pytest.approx(2 / 2.25, rel=1e-9)
    # with the mixture's power only above the band, the band is none of it
    assert hat_lows.low_mid_share(P, H, labels, freqs, np.array([1, 1, 0, 0, 1.0])) == 0.0
    assert hat_lows.low_mid_share(P, H, ("snare", "kick"), freqs, np.ones(5)) == 0.0  # no hat part
    # the cut goes up only at SHARE or more, and the usual cut is kept as the caller's
    base = {"hihat": 300.0}
    assert hat_lows.hat_cut(P, H, labels, freqs, np.ones(5), base) == {"hihat": hat_lows.CUT_HZ}
    assert hat_lows.hat_cut(P, H, labels, freqs, np.array([1, 1, 0.05, 0.05, 1.0]), base) is base
    assert base == {"hihat": 300.0}


def _congas(n, sr, level):
    t = np.arange(int(0.4 * sr)) / sr
    y = np.zeros(n)
    for i, onset in enumerate(np.arange(0.125, n / sr - 0.4, 0.5)):
        f0 = (450.0, 600.0)[i % 2]
        hit = (np.sin(2 * np.pi * f0 * t) + 0.5 * np.sin(3 * np.pi * f0 * t)) * np.exp(-t / 0.12)
        k = int(onset * sr)
        y[k:k + t.size] += hit[:n - k]
    return (y * level / np.abs(y).max()).astype(np.float32)


@pytest.fixture(scope="module")
def quiet_hats_and_congas():
    stems = {s: sf.read(DATA / f"drum_loop_{s}.wav", dtype="float32") for s in ("kick", "snare", "hihat")}
    sr = stems["kick"][1]
    stems = {s: y for s, (y, _) in stems.items()}
    hats = stems["hihat"] * np.float32(10 ** (-30 / 20))
    mix = stems["kick"] + stems["snare"] + hats + _congas(hats.shape[0], sr, 0.1)
    return mix, sr, hats, stems


def _band_share(y, sr, low=300.0, high=900.0):
    power = np.abs(spectrum.stft(y)) ** 2
    freqs = np.arange(power.shape[0]) * sr / spectrum.N_FFT
    return float(power[(freqs >= low) & (freqs < high)].sum() / power.sum())


def test_quiet_hats_stem_leaves_the_congas_low_mids_to_the_residual(quiet_hats_and_congas):
    # before the round the hi-hat stem held 27 % of its energy at 300-900 Hz (the congas'
    # partials the hat parts learned) and read -10.95 dB SDR; with the raised cut 0 and
    # -7.24 dB; the snare 13.89 -> 14.19, the kick 23.50 -> 23.54 (the other outputs'
    # models are unchanged: only what the hat parts explain under 1 kHz moves)
    mix, sr, hats, stems = quiet_hats_and_congas
    result = separate_drums(mix, sr, random_state=0)
    assert _band_share(result.sources["hihat"], sr) < 1e-5
    assert sdr(hats[None], result.sources["hihat"][None])[0] > -9.0
    assert sdr(stems["snare"][None], result.sources["snare"][None])[0] > 13.5
    assert np.max(np.abs(sum(result.sources.values()) - mix)) <= 1e-5 * np.max(np.abs(mix))


def test_raised_cut_is_for_the_bundled_hats_in_drum_recordings(quiet_hats_and_congas, monkeypatch):
    # the switch off, a user's own hat template, or a song: the 300-Hz cut only (the band
    # keeps what the hat parts explain there)
    mix, sr, _, _ = quiet_hats_and_congas
    monkeypatch.setattr(separation, "HAT_LOWS", False)
    assert _band_share(separate_drums(mix, sr, random_state=0).sources["hihat"], sr) > 0.05
    monkeypatch.setattr(separation, "HAT_LOWS", True)
    bundled = default_templates()
    P = bundled.P.copy()
    closed, open_ = bundled.classes.index("hihat"), bundled.classes.index("hihat:open")
    P[:, closed] = 0.5 * (P[:, closed] + P[:, open_])  # a user's own closed hat (still summing to 1)
    own = dataclasses.replace(bundled, P=P, high_band_db=None)
    assert not separation._bundled_hats(own, sr=bundled.sr, n_fft=bundled.n_fft, hop_length=bundled.hop_length)
    assert separation._bundled_hats(bundled, sr=bundled.sr, n_fft=bundled.n_fft, hop_length=bundled.hop_length)
    assert _band_share(separate_drums(mix, sr, templates=own, random_state=0).sources["hihat"], sr) > 0.05
