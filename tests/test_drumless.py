"""A song's drumless stretches (nmfaudio.drums.drumless; the songgap63 and drumless64 rounds
in docs/log/transcription-decisions.md): by default no kick or snare hits there,
``hits(drumless=True)`` no toms hits either, ``drumless=False`` all of them; a stretch whose
snare plays without the kick (a build-up) keeps its hits.  Synthetic songs — chords and
plucked notes throughout, drums only in the middle or without the kick for 8 s — and the
frame tests on arrays and readers."""

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

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


def _gapped_song(extra=None):
    """Drums over DRUMS only, plucks and chords throughout (plus ``extra(n)`` if given)."""
    kick, snare, hat = synthetic_hits(seconds=SECONDS)
    n = len(kick)
    t = np.arange(n) / SR
    played = ((t >= DRUMS[0]) & (t < DRUMS[1])).astype(np.float32)
    _, chords = tonal_parts(seconds=SECONDS)
    mix = (kick + snare + hat) * played + 0.25 * _plucks(n) + chords + (0 if extra is None else extra(n))
    return mix.astype(np.float32)


@pytest.fixture(scope="module")
def gapped():
    result = separate_drums(_gapped_song(), SR, random_state=0, accompaniment=True)
    return result, result.hits(drumless=True)


def _count(times, stretches):
    times = np.asarray(times)
    return int(sum(((times >= lo) & (times < hi)).sum() for lo, hi in stretches))


def test_drumless_stretches_get_no_kick_snare_or_toms_hits(gapped):
    result, hits = gapped
    # drumless=False: 28 toms hits in 0-3.5 s and 16.5-20 s (the plucks); drumless=True, measured 0
    assert sum(_count(hits[c].times, DRUMLESS) for c in ("kick", "snare", "toms")) <= 2
    plain = result.hits(drumless=False)
    assert sum(_count(plain[c].times, DRUMLESS) for c in ("kick", "snare", "toms")) >= 10
    # the hi-hat and cymbals are not judged: the same hits with and without the option
    for name in ("hihat", "cymbals"):
        assert np.array_equal(hits[name].times, plain[name].times), name


def test_drumless_is_a_switch_checked_as_the_batch_checks_it(gapped, tmp_path):
    """``drumless=`` takes what every other switch with a default takes, None / "auto" (the
    default), True / False or "on" / "off", and refuses anything else in one message, the
    same from ``hits()``, ``detect_hits_in()`` and ``separate_many``: before review64 the
    methods raised a TypeError of their own where the batch took "on"."""
    from nmfaudio.batch import separate_many

    result, asked = gapped
    on = result.hits(drumless="on")
    assert {c.name: c.times.tolist() for c in on} == {c.name: c.times.tolist() for c in asked}
    mixture = sum(result.sources.values())
    off = result.detect_hits_in(dict(result.sources), mixture=mixture, drumless="OFF")
    assert {c.name: c.times.tolist() for c in off} == {
        c.name: c.times.tolist() for c in result.detect_hits_in(dict(result.sources), mixture=mixture, drumless=False)}
    # None and "auto" are the default: the same hits as without it
    plain = result.hits()
    for value in (None, "auto", "AUTO"):
        default = result.hits(drumless=value)
        for c in plain:
            assert np.array_equal(plain[c.name].times, default[c.name].times), (value, c.name)
    said = set()
    for value in ("yes", 1):
        for call in (lambda: result.hits(drumless=value),
                     lambda: result.detect_hits_in(dict(result.sources), drumless=value),
                     lambda: separate_many([tmp_path / "a.wav"], tmp_path / "out", options={"drumless": value})):
            with pytest.raises(ValueError) as error:
                call()
            said.add(str(error.value))
        assert str(error.value) == (f"drumless={value!r} must be 'auto', True or False ('on' / 'off'); 'auto' (the "
                                    "default, or None) drops the kick and snare hits of a song's drumless stretches, "
                                    "True their toms' too, False none")
    assert len(said) == 2  # one message a value, whoever checks it


def _strums(n, level, seed=2):
    """Strummed chords' attacks: band-passed noise (300-6000 Hz, 33-ms decay) every 0.5 s, the
    music's attacks a snare's stem picks up."""
    rng = np.random.default_rng(seed)
    out, length = np.zeros(n), int(0.2 * SR)
    t = np.arange(length) / SR
    for start in range(int(0.125 * SR), n - length, int(0.5 * SR)):
        out[start:start + length] += rng.standard_normal(length) * np.exp(-30 * t)
    return level * sosfilt(butter(2, [300, 6000], "bandpass", fs=SR, output="sos"), out)


def test_by_default_a_drumless_stretch_gets_no_kick_or_snare_hits():
    """Fails on main (drumless off by default there: 8 snare hits in the drumless stretches)."""
    mix = _gapped_song(lambda n: _strums(n, 0.15))
    result = separate_drums(mix, SR, random_state=0, accompaniment=True)
    default, off = result.hits(), result.hits(drumless=False)
    # drumless=False: 8 snare hits there (the strums), the default 0 (measured)
    assert _count(off["snare"].times, DRUMLESS) >= 4
    assert _count(default["snare"].times, DRUMLESS) + _count(default["kick"].times, DRUMLESS) <= 1
    # the toms are judged only with drumless=True: the default keeps them as they are
    assert np.array_equal(default["toms"].times, off["toms"].times)
    # the played stretch keeps its 8 kicks and 8 snares
    drummed = ((DRUMS[0] - 0.05, DRUMS[1]),)
    assert _count(default["kick"].times, drummed) >= 7
    assert _count(default["snare"].times, drummed) >= 7


def test_a_kickless_build_up_keeps_its_snare_hits():
    """The lead's probe of the songgap63 rule (docs/log/transcription-decisions.md): drums
    throughout, the kick muted over 8-16 s (a build-up on snare and hats).  Main's
    ``drumless=True`` kept 4 of the 8 snare hits there; measured here 8, with and without it."""
    seconds = 24.0
    kick, snare, hat = synthetic_hits(seconds=seconds)
    n = len(kick)
    t = np.arange(n) / SR
    without_kick = ((t >= 8) & (t < 16)).astype(np.float32)
    _, chords = tonal_parts(seconds=seconds)
    mix = (kick * (1 - without_kick) + snare + hat + 0.25 * _plucks(n) + chords).astype(np.float32)
    result = separate_drums(mix, SR, random_state=0, accompaniment=True)
    off = result.hits(drumless=False)
    build_up = ((8.0, 16.0),)
    assert _count(off["snare"].times, build_up) == 8
    for drumless in (None, True):
        hits = result.hits(drumless=drumless)
        for name in ("kick", "snare", "toms", "hihat"):
            assert np.array_equal(hits[name].times, off[name].times), (drumless, name)


def test_played_frames_need_the_snare_as_strong_as_where_the_drums_play():
    from nmfaudio.drums.drumless import PLAYED_DB, played_frames

    frames = np.zeros(40, dtype=bool)
    frames[:16] = True  # 0-8 s judged drumless by the kick; the drums play from 8 s
    drummed = np.arange(8.25, 20.0, 0.5)
    for level_db, expected in ((-PLAYED_DB + 1, True), (-PLAYED_DB - 1, False)):
        quiet = np.arange(0.25, 8.0, 0.5)
        times = np.concatenate([quiet, drummed])
        strengths = np.concatenate([np.full(len(quiet), 10 ** (level_db / 20)), np.ones(len(drummed))])
        played = played_frames(times, strengths, frames)
        assert not played[16:].any()  # only drumless frames are judged
        assert played[:12].all() == expected and played[:12].any() == expected, level_db
    # no snare hit outside the drumless frames: no reference, the kick's judgement stands
    assert not played_frames(np.array([1.0, 2.0]), np.ones(2), frames).any()
    # a drumless frame with no snare hit within the window is not played
    assert not played_frames(drummed, np.ones(len(drummed)), frames)[:12].any()


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
    """``nmfaudio drums --drumless`` (or ``--drumless on``) writes the hits of
    ``hits(drumless=True)`` (in memory and block-wise); ``--drumless off`` those of
    ``drumless=False``; without it, the default's (here the plucks' toms hits stay)."""
    import csv

    import soundfile as sf

    from nmfaudio.cli import main

    result, _ = gapped
    song = tmp_path / "song.wav"
    sf.write(song, sum(result.sources.values()), SR)
    counts = {}
    for label, before, extra in (("plain", [], []), ("drumless", [], ["--drumless"]), ("on", [], ["--drumless", "on"]),
                                 ("off", [], ["--drumless", "off"]), ("first", ["--drumless"], []),
                                 ("blocks", [], ["--drumless", "--block-seconds", "8"])):
        out = tmp_path / label
        # "first": the flag before the input, as the flag was written before it took a value
        assert main(["drums", *before, str(song), "-o", str(out), "--onsets", "--accompaniment", "on", *extra]) == 0
        with open(out / "song_onsets.csv", newline="") as f:
            rows = [(float(r["time_s"]), r["class"]) for r in csv.DictReader(f)]
        counts[label] = _count([t for t, c in rows if c in ("kick", "snare", "toms")], DRUMLESS)
    capsys.readouterr()
    assert counts["plain"] >= 10 and counts["off"] >= 10 and counts["drumless"] <= 2, counts
    assert counts["on"] <= 2 and counts["first"] <= 2 and counts["blocks"] <= 2, counts


def test_separate_many_refuses_a_drumless_that_is_no_switch(tmp_path):
    from nmfaudio.batch import separate_many

    with pytest.raises(ValueError, match=r"drumless='yes' must be 'auto', True or False"):
        separate_many([tmp_path / "a.wav"], tmp_path / "out", options={"drumless": "yes"})


@pytest.mark.parametrize("written", ["--drumless", "--drumles", "--drum"])
def test_the_drumless_flag_or_its_abbreviation_before_the_input_means_on(written):
    """``--drumless song.wav`` (the flag before it took a value) reads on and keeps the input;
    so does an abbreviation argparse takes (``--drum song.wav``; review65: it was "invalid
    choice: 'song.wav'"), and a value after it is still that value."""
    from pathlib import Path

    from nmfaudio.cli import build_parser

    parsed = build_parser().parse_args(["drums", written, "song.wav", "-o", "out"])
    assert parsed.drumless == "on" and parsed.inputs == [Path("song.wav")], parsed
    parsed = build_parser().parse_args(["drums", written, "off", "song.wav", "-o", "out"])
    assert parsed.drumless == "off" and parsed.inputs == [Path("song.wav")], parsed


def test_the_drumless_value_in_capitals_is_an_invalid_choice_not_an_input(capsys):
    """``--drumless OFF song.wav``: argparse's "invalid choice: 'OFF'", naming the values
    (review65: OFF was taken for an input, the option turned on, and the error was "'OFF'
    does not exist; check the path")."""
    from nmfaudio.cli import main

    assert main(["drums", "--drumless", "OFF", "song.wav", "-o", "out"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'OFF' (choose from 'auto', 'on', 'off')" in err and "does not exist" not in err, err


@pytest.mark.parametrize("shape", [(2, 3 * SR + 17), (3 * SR + 5,), (1, SR // 3)])
def test_frame_energies_of_an_array_are_the_readers(shape):
    """An array's frames are read as slices (the fast path), a reader's as gathered windows:
    the same numbers (tolerance 0), stereo and mono, a last partial frame left out, and a
    non-finite sample refused on both."""
    from nmfaudio import audio
    from nmfaudio.drums.drumless import frame_energies

    y = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    reader = audio.ArrayReader(y if y.ndim == 2 else y[None])
    array = frame_energies(y, sr=SR, step_s=0.05)
    assert len(array) == y.shape[-1] // round(0.05 * SR)
    np.testing.assert_array_equal(array, frame_energies(reader, sr=SR, step_s=0.05))
    y[..., 5] = np.nan
    for track in (y, audio.ArrayReader(y if y.ndim == 2 else y[None])):
        with pytest.raises(ValueError):
            frame_energies(track, sr=SR, step_s=0.05)


def test_the_summary_says_how_many_hits_the_drumless_stretches_left_out(tmp_path, capsys):
    """The default leaves hits out of a song's drumless stretches: the summary says how many
    per class and how to keep them, and ``--json`` holds them (``drumless_left_out``) — each
    the difference between the hits of ``--drumless off`` and the default's; with ``off``
    nothing is judged (None) and nothing said.  Before, the hits went without a word."""
    import json

    import soundfile as sf

    from nmfaudio.cli import main

    song = tmp_path / "song.wav"
    sf.write(song, _gapped_song(lambda n: _strums(n, 0.15)), SR)  # strums: the snare's stem picks them up
    records, texts = {}, {}
    for label, extra in (("auto", []), ("off", ["--drumless", "off"])):
        args = ["drums", str(song), "-o", str(tmp_path / label), "--accompaniment", "on", *extra]
        assert main([*args, "--json"]) == 0
        records[label] = json.loads(capsys.readouterr().out)
        assert main([*args, "--force"]) == 0
        texts[label] = capsys.readouterr().out
    left_out = records["auto"]["drumless_left_out"]
    hits = {label: {s["name"]: len(s["onsets_s"]) for s in record["sources"] if "onsets_s" in s}
            for label, record in records.items()}
    assert left_out and sum(left_out.values()) >= 4, left_out  # measured: {'snare': 8} (the strums')
    assert {name: hits["off"][name] - hits["auto"][name] for name in hits["off"]
            if hits["off"][name] != hits["auto"][name]} == left_out
    said = ", ".join(f"{n} {name}" for name, n in left_out.items())
    assert (f"  {said} hits left out of the hits: in drumless stretches (an intro, a break) they are the "
            "music's; --drumless off keeps them") in texts["auto"].splitlines()
    assert records["off"]["drumless_left_out"] is None and "left out of the hits" not in texts["off"]
