"""``hits(drumless=True)``: a song's drumless stretches get no kick, snare or toms hits
(nmfaudio.drums.drumless; opt-in, the songgap63 round and the lead's call in
docs/log/transcription-decisions.md): a synthetic song — chords and plucked notes
throughout, drums only in its middle — and the frame test on arrays and readers."""

import numpy as np
import pytest

from nmfaudio import audio, separate_drums

from test_drums import SR, synthetic_hits  # noqa: E402
from test_drums_full_song import tonal_parts  # noqa: E402

SECONDS = 20.0
DRUMS = (6.0, 14.0)  # the drummer plays here only
# the stretches judged: farther than the 4-s window's half (2 s) and a frame from the drums
DRUMLESS = ((0.0, 3.5), (16.5, SECONDS))


def _plucks(n, seed=1):
    """Plucked notes (130-220 Hz, seven harmonics, a 2-ms attack) every 0.25 s: music
    with attacks, which main's song mode took for toms."""
    rng = np.random.default_rng(seed)
    out, length = np.zeros(n), int(0.25 * SR)
    t = np.arange(length) / SR
    for start in range(0, n - length, length):
        f0 = float(rng.choice([130.8, 146.8, 164.8, 196.0, 220.0]))
        out[start:start + length] += (sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
                                      * np.exp(-12 * t) * np.minimum(1, t / 0.002))
    return out


@pytest.fixture(scope="module")
def gapped():
    kick, snare, hat = synthetic_hits(seconds=SECONDS)
    n = len(kick)
    t = np.arange(n) / SR
    played = ((t >= DRUMS[0]) & (t < DRUMS[1])).astype(np.float32)
    _, chords = tonal_parts(seconds=SECONDS)
    mix = ((kick + snare + hat) * played + 0.25 * _plucks(n) + chords).astype(np.float32)
    result = separate_drums(mix, SR, random_state=0, accompaniment=True)
    return result, result.hits(drumless=True)


def _count(times, stretches):
    times = np.asarray(times)
    return int(sum(((times >= lo) & (times < hi)).sum() for lo, hi in stretches))


def test_drumless_stretches_get_no_kick_snare_or_toms_hits(gapped):
    result, hits = gapped
    # without the option (the default, as before): 28 toms hits in 0-3.5 s and 16.5-20 s (the
    # plucks); with it, measured 0
    assert sum(_count(hits[c].times, DRUMLESS) for c in ("kick", "snare", "toms")) <= 2
    plain = result.hits()
    assert sum(_count(plain[c].times, DRUMLESS) for c in ("kick", "snare", "toms")) >= 10
    # the hi-hat and cymbals are not judged: the same hits with and without the option
    for name in ("hihat", "cymbals"):
        assert np.array_equal(hits[name].times, plain[name].times), name


def test_drumless_is_a_switch_checked_as_the_batch_checks_it(gapped, tmp_path):
    """``drumless=`` takes what every other switch takes, True / False or "on" / "off", and
    refuses anything else in one message, the same from ``hits()``, ``detect_hits_in()`` and
    ``separate_many``: before review64 the methods raised a TypeError of their own
    (``hits(drumless='on') must be True or False``) where the batch took "on"."""
    from nmfaudio.batch import separate_many

    result, asked = gapped
    on = result.hits(drumless="on")
    assert {c.name: c.times.tolist() for c in on} == {c.name: c.times.tolist() for c in asked}
    off = result.detect_hits_in(dict(result.sources), mixture=sum(result.sources.values()), drumless="OFF")
    assert len(off) == len(result.detect_hits_in(dict(result.sources), mixture=sum(result.sources.values())))
    said = set()
    for value in ("yes", 1, None):
        for call in (lambda: result.hits(drumless=value),
                     lambda: result.detect_hits_in(dict(result.sources), drumless=value),
                     lambda: separate_many([tmp_path / "a.wav"], tmp_path / "out", options={"drumless": value})):
            with pytest.raises(ValueError) as error:
                call()
            said.add(str(error.value))
        assert str(error.value) == (f"drumless={value!r} must be True or False ('on' / 'off'); True drops the kick, "
                                    "snare and toms hits of a song's drumless stretches")
    assert len(said) == 3  # one message a value, whoever checks it


def test_a_drum_recording_is_not_judged():
    kick, snare, hat = synthetic_hits(seconds=SECONDS)
    result = separate_drums((kick + snare + hat).astype(np.float32), SR, random_state=0)
    assert not result.accompaniment
    plain, asked = result.hits(), result.hits(drumless=True)
    for c in plain:
        assert np.array_equal(plain[c.name].times, asked[c.name].times), c.name


def test_the_played_stretch_keeps_its_hits(gapped):
    _, hits = gapped
    # the synthetic drums (120 BPM, a kick on the first and a snare on the third of every four
    # 8th notes): 8 kicks and 8 snares in 6-14 s
    played = ((DRUMS[0] - 0.05, DRUMS[1]),)
    assert _count(hits["kick"].times, played) >= 7
    assert _count(hits["snare"].times, played) >= 7


def test_frames_on_arrays_and_readers_agree(gapped):
    from nmfaudio.drums.drumless import drumless_frames, frame_energies

    result, _ = gapped
    mixture = sum(result.sources.values())
    kick = result.sources["kick"]
    frames = drumless_frames(kick, mixture, sr=SR)
    assert np.array_equal(frames, drumless_frames(audio.ArrayReader(kick), audio.ArrayReader(mixture), sr=SR))

    class Streamed(audio.ArrayReader):  # read a stretch at a time, as the streamed stems are
        pass

    streamed = drumless_frames(Streamed(kick), Streamed(mixture), sr=SR)
    assert np.array_equal(frames, streamed)
    assert len(frames) == len(frame_energies(mixture, sr=SR)) == int(SECONDS / 0.5)
    # the drummed frames are not drumless
    middle = np.arange(len(frames)) * 0.5
    assert not frames[(middle >= DRUMS[0]) & (middle < DRUMS[1])].any()


def test_no_kick_to_compare_judges_nothing_drumless():
    from nmfaudio.drums.drumless import drumless_frames, drumless_hits

    rng = np.random.default_rng(0)
    mixture = rng.standard_normal((2, 10 * SR)).astype(np.float32)
    assert not drumless_frames(np.zeros_like(mixture), mixture, sr=SR).any()
    # shorter than one window: nothing judged
    assert not drumless_frames(mixture[:, :SR], mixture[:, :SR], sr=SR).any()
    assert not drumless_hits(np.array([0.1, 5.0]), np.zeros(0, dtype=bool)).any()


def test_cli_drumless_drops_the_drumless_stretches_hits(gapped, tmp_path, capsys):
    """``nmfaudio drums --drumless`` writes the hits of ``hits(drumless=True)`` (in memory and
    block-wise); without it, the hits as before.  Fails on main: no ``--drumless``."""
    import csv

    import soundfile as sf

    from nmfaudio.cli import main

    result, _ = gapped
    song = tmp_path / "song.wav"
    sf.write(song, sum(result.sources.values()), SR)
    counts = {}
    for label, extra in (("plain", []), ("drumless", ["--drumless"]),
                         ("blocks", ["--drumless", "--block-seconds", "8"])):
        out = tmp_path / label
        assert main(["drums", str(song), "-o", str(out), "--onsets", "--accompaniment", "on", *extra]) == 0
        with open(out / "song_onsets.csv", newline="") as f:
            rows = [(float(r["time_s"]), r["class"]) for r in csv.DictReader(f)]
        counts[label] = _count([t for t, c in rows if c in ("kick", "snare", "toms")], DRUMLESS)
    capsys.readouterr()
    assert counts["plain"] >= 10 and counts["drumless"] <= 2, counts
    assert counts["blocks"] <= 2, counts


def test_separate_many_refuses_a_drumless_that_is_no_switch(tmp_path):
    from nmfaudio.batch import separate_many

    with pytest.raises(ValueError, match=r"drumless='yes' must be True or False"):
        separate_many([tmp_path / "a.wav"], tmp_path / "out", options={"drumless": "yes"})
