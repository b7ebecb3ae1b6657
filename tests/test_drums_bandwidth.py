"""A band-limited recording above the templates' rate (nmfaudio.drums.bandwidth): its
bandwidth read off the spectrogram, the templates zero above it; full-band recordings and
22.05-kHz input unchanged."""

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

import nmfaudio.drums.bandwidth as bandwidth_module
from nmfaudio import separate_drums, spectrum
from nmfaudio.drums.bandwidth import band_limit_hz, bandwidth_hz

from test_drums_high_band import SR44, _mix44  # noqa: E402

LOOP = Path(__file__).resolve().parents[1] / "data" / "drum_loop.wav"


def _brick(x, sr, cut_hz):
    """``x`` with every FFT bin above ``cut_hz`` zeroed (an ideal lowpass)."""
    X = np.fft.rfft(x)
    X[np.fft.rfftfreq(x.size, 1 / sr) > cut_hz] = 0
    return np.fft.irfft(X, x.size).astype(np.float32)


def _spectrogram(x, sr):
    """(F, 1, N) magnitude at the separation's STFT for ``sr``, its bins' frequencies, n_fft, hop."""
    n_fft, hop = spectrum.frames_for_rate(sr)
    _, magnitude = spectrum.stft_frame_major(x[None], n_fft=n_fft, hop_length=hop, magnitude=True)
    return magnitude.transpose(1, 0, 2), np.arange(1 + n_fft // 2) * (sr / n_fft), n_fft, hop


@pytest.mark.parametrize("cut_hz", [8000, 11025, 16000])
def test_white_noise_lowpassed_at_f_has_bandwidth_f(cut_hz):
    x = np.random.default_rng(0).standard_normal(4 * SR44).astype(np.float32)
    magnitude, freqs, n_fft, hop = _spectrogram(_brick(x, SR44, cut_hz), SR44)
    found = bandwidth_hz(magnitude, freqs, edge_frames=-(-(n_fft // 2) // hop))
    # at or above the cut, within 300 Hz (28 bins of 10.8 Hz; measured +225 Hz: the Hann
    # window's leakage above a flat 0-dB band's edge takes ~21 bins to fall 90 dB)
    assert cut_hz <= found <= cut_hz + 300
    # with the edge frames the padding's step leaks into every bin: the estimate lands more
    # than 1 kHz above the cut (measured: 22050, 17786, 22050 Hz)
    assert bandwidth_hz(magnitude, freqs) > cut_hz + 1000
    # the limit: at the cut for a 44.1-kHz recording, never below the templates' 11.025 kHz,
    # nothing for a band reaching CUT_BELOW_HZ (14 kHz: the 16-kHz cut) or at the templates'
    # own rate (above_hz None)
    limit = band_limit_hz(magnitude, freqs, sr=SR44, n_fft=n_fft, hop_length=hop, above_hz=11025.0)
    assert limit == (max(found, 11025.0) if found < bandwidth_module.CUT_BELOW_HZ else None)
    assert (limit is None) == (cut_hz == 16000)
    assert band_limit_hz(magnitude, freqs, sr=SR44, n_fft=n_fft, hop_length=hop, above_hz=None) is None


def test_full_band_noise_is_not_cut():
    x = np.random.default_rng(1).standard_normal(4 * SR44).astype(np.float32)
    magnitude, freqs, n_fft, hop = _spectrogram(x, SR44)
    assert bandwidth_hz(magnitude, freqs) == freqs[-1]
    assert band_limit_hz(magnitude, freqs, sr=SR44, n_fft=n_fft, hop_length=hop, above_hz=11025.0) is None


def test_full_band_mixtures_unchanged_by_the_step(monkeypatch):
    # a full-band 44.1-kHz drum recording and song: stems bit-identical (tolerance 0) with
    # the step and without it (FULL_BAND_SHARE 0: every estimate counts as full band)
    drums, song = _mix44()
    runs = {}
    for share in (bandwidth_module.FULL_BAND_SHARE, 0.0):
        monkeypatch.setattr(bandwidth_module, "FULL_BAND_SHARE", share)
        runs[share] = [separate_drums(x, SR44, random_state=0) for x in (drums, song)]
    for with_step, without in zip(*runs.values()):
        assert with_step.sources.keys() == without.sources.keys()
        for name, stem in without.sources.items():
            np.testing.assert_array_equal(with_step.sources[name], stem)


def test_band_limited_recording_gets_templates_zero_above_its_band(monkeypatch):
    drums, _ = _mix44()
    limited = _brick(drums, SR44, 13000)
    result = separate_drums(limited, SR44, random_state=0)
    magnitude, freqs, n_fft, hop = _spectrogram(limited, SR44)
    limit = band_limit_hz(magnitude * 1.0, freqs, sr=SR44, n_fft=n_fft, hop_length=hop, above_hz=11025.0)
    assert limit is not None and 13000 <= limit <= 13300
    # the fitted templates: exactly zero above the limit, the hats' not zero below it
    P = result.templates.P
    assert not np.any(P[freqs > limit])
    hats = [k for k, label in enumerate(result.templates.classes) if label.startswith("hihat")]
    assert np.all(P[(freqs > 11025) & (freqs <= limit)][:, hats].sum(axis=(0, 2)) > 0)
    # without the step the templates do predict the band above it
    monkeypatch.setattr(bandwidth_module, "FULL_BAND_SHARE", 0.0)
    assert np.any(separate_drums(limited, SR44, random_state=0).templates.P[freqs > limit])


def test_22050_input_unchanged_by_the_step(monkeypatch):
    # at the templates' own rate nothing is cut, band-limited or not (tolerance 0)
    drums, _ = _mix44()
    x = sosfiltfilt(butter(12, 6000, fs=22050, output="sos"), drums[::2]).astype(np.float32)
    first = separate_drums(x, 22050, random_state=0)
    monkeypatch.setattr(bandwidth_module, "FULL_BAND_SHARE", 0.0)
    second = separate_drums(x, 22050, random_state=0)
    for name, stem in second.sources.items():
        np.testing.assert_array_equal(first.sources[name], stem)


def test_bundled_loop_upsampled_keeps_its_hats():
    # the bundled 22.05-kHz loop resampled to 44.1 kHz (nothing above 11.025 kHz, as a file
    # converted up for a DAW): the same hits as at its own rate, within 2 per class, and no
    # ride found (before the step: 8 hi-hat hits of 42, the rest taken for ride strokes)
    import librosa
    import soundfile as sf

    y, sr = sf.read(LOOP, dtype="float32")
    own = separate_drums(y, sr, random_state=0)
    up = separate_drums(librosa.resample(y, orig_sr=sr, target_sr=SR44), SR44, random_state=0)
    assert up.ride_strokes is None
    own_hits, up_hits = own.hits(), up.hits()
    for name in ("kick", "snare", "hihat"):
        assert abs(len(up_hits[name].times) - len(own_hits[name].times)) <= 2, name


@pytest.mark.parametrize("blocks", [[], ["--block-seconds", "4"]], ids=["in-memory", "streamed"])
def test_the_command_line_says_where_the_templates_stop(tmp_path, cli, blocks):
    # the loop upsampled to 44.1 kHz: the summary and --json name the limit (the templates'
    # own 11.025 kHz: the upsampled band ends there, within the resampler's 300-Hz
    # transition) and the hi-hat keeps its hits in memory and streamed (40 or more of the
    # 42 at 22.05 kHz); the loop at its own rate says nothing (None)
    import json

    import librosa
    import soundfile as sf

    y, sr = sf.read(LOOP, dtype="float32")
    path = tmp_path / "up.wav"
    sf.write(path, librosa.resample(y, orig_sr=sr, target_sr=SR44), SR44, subtype="FLOAT")
    code, out, err = cli(["drums", path, "-o", tmp_path / "up", "--json", *blocks])
    assert code == 0, err
    record = json.loads(out)
    assert 11025 <= record["band_limit_hz"] <= 11325
    assert record["hit_counts"]["hihat"] >= 40 and not record["ride_found"]
    code, out, err = cli(["drums", path, "-o", tmp_path / "up_text", *blocks])
    assert code == 0 and "band-limited input (nothing above 11.0 kHz" in out
    code, out, err = cli(["drums", LOOP, "-o", tmp_path / "own", "--json", *blocks])
    assert code == 0, err
    assert json.loads(out)["band_limit_hz"] is None


def test_templates_made_far_below_the_recordings_band_are_named_once(tmp_path, cli):
    """Templates made at 8 kHz (they stop at 4 kHz) on the 22.05-kHz loop: the hats' band is
    missing from them (hi-hat SDR 0.67 dB, learned at 22.05 kHz 8.50: the measurements at
    bandwidth.HAT_BAND_HZ) — before 2026-12-06 (polish15) without a word.  One warning (also
    block-wise) naming the rate to learn them at, the result's input_band_hz and
    templates_sr, the command line's summary line; nothing with the bundled templates, nor
    at the templates' own rate."""
    import json
    import warnings

    import soundfile as sf

    from nmfaudio.drums import default_templates

    y, sr = sf.read(LOOP, dtype="float32", frames=2 * 22050)
    low = default_templates().convert(sr=8000, n_fft=1024, hop_length=256)
    said = ("the templates were made at 8000 Hz and stop at 4.0 kHz, but the recording holds sound up to 11.0 kHz: "
            "the hi-hat's band is missing from its template, and its hits may go to the cymbals or the residual; "
            "learn the templates at 22050 Hz")

    def run(*args, **kwargs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = separate_drums(*args, random_state=0, max_iter=3, **kwargs)
        return result, [str(w.message) for w in caught if "templates were made" in str(w.message)]

    result, notes = run(y, sr, templates=low)
    assert notes == [said + " (nmfaudio templates learn DIR --sr 22050, or DrumTemplates.from_folder(path, "
                            "sr=22050))"]
    assert result.templates_sr == 8000 and 10000 < result.input_band_hz <= 11025
    assert len(run(y, sr, templates=low, block_seconds=1.0)[1]) == 1  # once, whatever the blocks
    result, notes = run(y, sr)  # the bundled templates (22.05 kHz): their band holds the hats'
    assert notes == [] and result.input_band_hz is None and result.templates_sr == 22050
    import librosa

    assert run(librosa.resample(y, orig_sr=sr, target_sr=8000), 8000, templates=low)[1] == []  # their own rate
    low.save(tmp_path / "low.npz")
    sf.write(tmp_path / "loop.wav", y, sr)
    code, out, err = cli(["drums", tmp_path / "loop.wav", "--templates", tmp_path / "low.npz", "-o", tmp_path / "out"])
    assert code == 0, err
    assert f"  {said} (nmfaudio templates learn DIR --sr 22050 -o kit.npz)" in out.splitlines()
    code, out, err = cli(["drums", tmp_path / "loop.wav", "--templates", tmp_path / "low.npz", "-o", tmp_path / "j",
                          "--json"])
    record = json.loads(out)
    assert record["templates_sr"] == 8000 and 10000 < record["input_band_hz"] <= 11025
