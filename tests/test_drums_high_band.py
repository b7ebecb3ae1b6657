"""The bundled hi-hat parts' measured band above 11.025 kHz (``DrumTemplates.high_band_db``):
stored in the file, used by ``convert(high_band=True)`` and by drum recordings above
22.05 kHz only; songs, 22.05-kHz input and templates without it are unchanged."""

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

import nmfaudio.drums.templates as templates_module
from nmfaudio import separate_drums
from nmfaudio.drums import DrumTemplates, default_templates
from nmfaudio.drums.templates import band_ratios_db

from test_drums_full_song import tonal_parts  # noqa: E402

HATS = ("hihat", "hihat:open")
SR44 = 44100


def _converted(kit, high_band, sr=SR44):
    n_fft, hop = (4096, 1024) if sr > 22050 else (2048, 512)
    return kit.convert(sr=sr, n_fft=n_fft, hop_length=hop, high_band=high_band)


def test_bundled_file_measures_the_hat_parts_only():
    kit = default_templates()
    ratios = kit.high_band_db
    assert ratios is not None and ratios.shape == (len(kit.classes), 2)
    measured = [label for label, row in zip(kit.classes, ratios) if np.all(np.isfinite(row))]
    assert measured == list(HATS)
    assert np.all(np.isnan(np.delete(ratios, [kit.classes.index(h) for h in HATS], axis=0)))


def test_converted_hat_band_holds_the_stored_ratio_and_nothing_else_moves():
    kit = default_templates()
    held, filled = _converted(kit, False), _converted(kit, True)
    hats = [kit.classes.index(h) for h in HATS]
    # the filled band's power over the 5-11-kHz band: the stored ratio within 0.05 dB
    # (float32 templates; measured 0.006 dB)
    np.testing.assert_allclose(band_ratios_db(filled.P, SR44, 4096)[hats], kit.high_band_db[hats], atol=0.05)
    # the held top 5 % is far below it: more than 15 dB (measured 22.7-23.3 dB for the hats)
    assert np.all(band_ratios_db(held.P, SR44, 4096)[hats] < kit.high_band_db[hats] - 15)
    # the other parts and the hats below 11.025 kHz: the same before renormalization
    others = [k for k in range(len(kit.classes)) if k not in hats]
    np.testing.assert_array_equal(filled.P[:, others], held.P[:, others])
    below = np.arange(filled.P.shape[0]) * (SR44 / 4096) <= 11025
    for k in hats:
        scale = held.P[below, k].sum() / filled.P[below, k].sum()
        np.testing.assert_allclose(filled.P[below, k] * scale, held.P[below, k], rtol=1e-5, atol=1e-12)


def test_nothing_to_fill_at_22050_and_without_measurements():
    kit = default_templates()
    assert _converted(kit, True, sr=22050) is kit
    # at a lower rate the band is above the Nyquist frequency: the same conversion
    np.testing.assert_array_equal(_converted(kit, True, sr=16000).P, _converted(kit, False, sr=16000).P)
    # a user's templates learned at their own rate carry no measurement: unchanged
    rng = np.random.default_rng(0)
    shots = {"kick": [rng.standard_normal(4000) * np.exp(-np.arange(4000) / 500)],
             "hihat": [rng.standard_normal(4000) * np.exp(-np.arange(4000) / 300)]}
    own = DrumTemplates.from_one_shots(shots, 22050)
    assert own.high_band_db is None
    np.testing.assert_array_equal(_converted(own, True).P, _converted(own, False).P)


def test_ratios_follow_select_completed_save_and_old_files_load(tmp_path):
    kit = default_templates()
    hats = kit.select(["hihat"])
    np.testing.assert_array_equal(hats.high_band_db, kit.high_band_db[[kit.classes.index(h) for h in HATS]])
    assert kit.select(["kick", "snare"]).high_band_db is None  # all NaN: none
    # a user's kick and snare completed with the bundled hats: the hats keep their measurement
    completed = kit.select(["kick", "snare"]).completed(kit.select(["hihat"]))
    assert completed.classes[-2:] == HATS
    np.testing.assert_array_equal(completed.high_band_db[-2:], hats.high_band_db)
    assert np.all(np.isnan(completed.high_band_db[:2]))
    # format 3 round trip
    path = kit.save(tmp_path / "kit.npz")
    with np.load(path) as data:
        assert int(data["format_version"]) == 3
    np.testing.assert_array_equal(DrumTemplates.load(path).high_band_db, kit.high_band_db)
    # a format-2 file (no high_band_db) still loads, with nothing to fill
    old = tmp_path / "v2.npz"
    np.savez(old, P=kit.P, classes=np.array(kit.classes), sr=22050, n_fft=2048, hop_length=512,
             window=np.array("hann"), n_shots=np.array(kit.n_shots), source=np.array("v2"), format_version=2)
    loaded = DrumTemplates.load(old)
    assert loaded.high_band_db is None
    np.testing.assert_array_equal(loaded.P, kit.P)
    np.testing.assert_array_equal(_converted(loaded, True).P, _converted(kit, False).P)


def test_bad_high_band_db_is_refused():
    kit = default_templates()
    with pytest.raises(ValueError, match=rf"high_band_db has shape \(2, 2\); it must be \({len(kit.classes)}, 2\)"):
        DrumTemplates(kit.P, kit.classes, kit.sr, high_band_db=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="high_band_db has infinite entries"):
        DrumTemplates(kit.P, kit.classes, kit.sr, high_band_db=np.full((len(kit.classes), 2), np.inf))
    with pytest.raises(ValueError, match="high_band_db of type ndarray .dtype <U1. must be numbers"):
        DrumTemplates(kit.P, kit.classes, kit.sr, high_band_db=np.full((len(kit.classes), 2), "a"))
    # the templates keep their own copy: changing the caller's array changes nothing
    ratios = kit.high_band_db.copy()
    own = DrumTemplates(kit.P, kit.classes, kit.sr, high_band_db=ratios)
    ratios[:] = 0
    np.testing.assert_array_equal(own.high_band_db, kit.high_band_db)


def _mix44(seconds=3.0, seed=0):
    """At 44.1 kHz: a kick, bright noise hats on every 8th (7 kHz up to the Nyquist
    frequency) and the song tests' bass and chords (upsampled); (drums, song) float32."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR44)
    t = np.arange(int(0.3 * SR44)) / SR44
    kick = np.sin(2 * np.pi * (50 * t + 2 * (1 - np.exp(-30 * t)))) * np.exp(-8 * t)
    high = butter(4, 7000, "hp", fs=SR44, output="sos")
    drums = np.zeros(n)
    for i, start in enumerate(range(0, n - t.size, SR44 // 4)):
        drums[start:start + t.size] += 0.2 * sosfilt(high, rng.standard_normal(t.size)) * np.exp(-40 * t)
        if i % 4 == 0:
            drums[start:start + t.size] += 0.8 * kick
    bass, chords = (np.repeat(x, 2)[:n] for x in tonal_parts(seconds=seconds))
    return drums.astype(np.float32), (drums + bass + chords).astype(np.float32)


def test_songs_unchanged_drum_recordings_use_the_band(monkeypatch):
    drums, song = _mix44()
    with_band = {mode: separate_drums(x, SR44, random_state=0, accompaniment=mode)
                 for mode, x in ((True, song), (False, drums))}
    monkeypatch.setattr(templates_module, "_fill_high_band", lambda *args: None)
    without = {mode: separate_drums(x, SR44, random_state=0, accompaniment=mode)
               for mode, x in ((True, song), (False, drums))}
    # the song's stems bit-identical with and without the measured band (tolerance 0)
    for name, stem in without[True].sources.items():
        np.testing.assert_array_equal(with_band[True].sources[name], stem)
    # the drum recording's hi-hat stem does change (the fill is in use there)
    assert not np.array_equal(with_band[False].sources["hihat"], without[False].sources["hihat"])


def test_conversion_to_another_rate_drops_the_measurement():
    # the measurement is of the band above the templates' own Nyquist frequency: once a
    # conversion to another rate has held or filled that band, nothing is left to fill
    # (before, the held 44.1-kHz hats used at 48 kHz got the measured level above 22.05 kHz
    # only, 4-6 dB above the direct fill there, with 11-22 kHz held 11-18 dB below it)
    kit = default_templates()
    np.testing.assert_array_equal(kit.convert(sr=22050, n_fft=1024, hop_length=256).high_band_db,
                                  kit.high_band_db)  # same rate: kept (NaN where NaN)
    for high_band in (False, True):
        assert _converted(kit, high_band).high_band_db is None
    held = _converted(kit, False)
    at48 = {fill: held.convert(sr=48000, n_fft=4096, hop_length=1024, high_band=fill) for fill in (False, True)}
    np.testing.assert_array_equal(at48[True].P, at48[False].P)
    # a user's kit learned at 44.1 kHz, its hats borrowed from the bundled set: the same
    rng = np.random.default_rng(0)
    own = DrumTemplates.from_one_shots({"kick": [rng.standard_normal(8000) * np.exp(-np.arange(8000) / 1000)]},
                                       SR44, n_fft=4096, hop_length=1024)
    assert own.completed(kit).high_band_db is None


@pytest.mark.parametrize("block_seconds", [None, 1.0])
def test_auto_decides_from_the_mixture_alone_in_memory_and_in_blocks(monkeypatch, block_seconds):
    # accompaniment="auto" decides song or drums from the mixture's tonal share (block-wise:
    # the whole recording's, before it is cut), which no template enters: with and without
    # the measured band the same decision and share (tolerance 0); the song's stems
    # bit-identical, the drum recording's hi-hat stem takes the band (in every block's fit)
    drums, song = _mix44()

    def run(x):
        return separate_drums(x, SR44, random_state=0, accompaniment="auto", block_seconds=block_seconds)

    with_band = {"song": run(song), "drums": run(drums)}
    monkeypatch.setattr(templates_module, "_fill_high_band", lambda *args: None)
    without = {"song": run(song), "drums": run(drums)}
    assert with_band["song"].accompaniment is True and with_band["drums"].accompaniment is False
    for name in ("song", "drums"):
        assert without[name].accompaniment is with_band[name].accompaniment
        assert without[name].tonal_share == with_band[name].tonal_share
    for stem, track in without["song"].sources.items():
        np.testing.assert_array_equal(with_band["song"].sources[stem], track)
    assert not np.array_equal(with_band["drums"].sources["hihat"], without["drums"].sources["hihat"])
