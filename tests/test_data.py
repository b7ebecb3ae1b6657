"""Bundled drum loop (data/drum_loop*.wav) and the drum data helpers.

The bundled-file tests need only numpy + soundfile.  Tests that render
(fluidsynth, Hydrogen kits) are skipped where those are not installed.
"""

import importlib.util
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
STEMS = ("kick", "snare", "hihat")
SR = 22050


def _import(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def script():
    return _import(DATA / "make_drum_loop.py", "make_drum_loop")


@pytest.fixture(scope="module")
def loop():
    out = {}
    for name in ("mix",) + STEMS:
        path = DATA / ("drum_loop.wav" if name == "mix" else f"drum_loop_{name}.wav")
        info = sf.info(path)
        y, sr = sf.read(path, dtype="int16")
        out[name] = (y, sr, info)
    return out


def test_files_format_and_length(loop, script):
    # 4 bars of 4/4 at 110 BPM, 22050 Hz, mono 16-bit, all four the same length
    n = round(script.LOOP_BARS * 4 * 60 / script.LOOP_BPM * SR)
    for name, (y, sr, info) in loop.items():
        assert sr == SR, f"{name}: sr={sr}"
        assert info.channels == 1, f"{name}: {info.channels} channels"
        assert info.subtype == "PCM_16", f"{name}: {info.subtype}"
        assert y.shape == (n,), f"{name}: {y.shape} != ({n},)"


def test_stems_sum_to_mix_exactly(loop):
    # The mix is written as the integer sum of the 16-bit stems: tolerance 0 LSB.
    total = sum(loop[s][0].astype(np.int32) for s in STEMS)
    dev = np.abs(total - loop["mix"][0].astype(np.int32)).max()
    assert dev == 0, f"stems deviate from the mix by {dev} LSB"
    # and it does not clip: peak below full scale (written at -1 dBFS)
    assert np.abs(loop["mix"][0]).max() < 32767


def test_stems_not_silent(loop):
    # each stem's RMS above -40 dBFS (measured: kick -28.0, snare -26.2, hihat -29.6)
    for s in STEMS:
        x = loop[s][0] / 32768.0
        rms_db = 10 * np.log10(np.mean(x ** 2))
        assert rms_db > -40, f"{s}: RMS {rms_db:.1f} dBFS"


def _band_fraction(x, lo, hi):
    p = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return p[(f >= lo) & (f < hi)].sum() / p.sum()


def test_stem_spectra(loop):
    kick = loop["kick"][0] / 32768.0
    hihat = loop["hihat"][0] / 32768.0
    # measured: kick 97% of its energy below 200 Hz, hihat 0.3%
    k_low, h_low = _band_fraction(kick, 0, 200), _band_fraction(hihat, 0, 200)
    assert k_low > 0.8 and k_low > 20 * h_low, (k_low, h_low)
    # measured: hihat 71% of its energy above 5 kHz, kick 0.1%
    k_high, h_high = _band_fraction(kick, 5000, SR), _band_fraction(hihat, 5000, SR)
    assert h_high > 0.5 and h_high > 20 * k_high, (h_high, k_high)


def test_midi_writer_roundtrip(script, tmp_path):
    # header, one track, the note bytes and end-of-track are where MIDI puts them
    path = tmp_path / "t.mid"
    script.write_midi(path, [(0, 240, 36, 100), (480, 720, 42, 64)], bpm=120,
                      end_tick=960, programs=[(0, 25)])
    b = path.read_bytes()
    assert b[:4] == b"MThd" and b[14:18] == b"MTrk"
    assert int.from_bytes(b[18:22], "big") == len(b) - 22
    assert b"\xc9\x19" in b and b"\x99\x24\x64" in b and b"\x99\x2a\x40" in b
    assert b.endswith(b"\xff\x2f\x00")
    assert script._vlq(0) == b"\x00" and script._vlq(128) == b"\x81\x00"
    # channel=0 (a kit stored as a bank-0 preset): the same events on MIDI channel 1
    script.write_midi(path, [(0, 240, 36, 100)], bpm=120, end_tick=960, programs=[(0, 0)], channel=0)
    b = path.read_bytes()
    assert b"\xc0\x00" in b and b"\x90\x24\x64" in b and b"\x80\x24\x40" in b and b"\x99" not in b


needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None
    or not Path("/usr/share/sounds/sf2/FluidR3_GM.sf2").exists(),
    reason="fluidsynth + fluid-soundfont-gm not installed")


@needs_fluidsynth
def test_regenerated_loop_matches_bundled(script, loop, tmp_path):
    # regenerating reproduces the bundled files: SNR >= 40 dB per file
    # (bit-identical with fluidsynth 2.3.1; the margin allows other versions)
    script.render_loop(tmp_path)
    for name, (y, _, _) in loop.items():
        fname = "drum_loop.wav" if name == "mix" else f"drum_loop_{name}.wav"
        z, _ = sf.read(tmp_path / fname, dtype="int16")
        err = np.sum((z.astype(float) - y) ** 2)
        snr = 10 * np.log10(np.sum(y.astype(float) ** 2) / max(err, 1e-12))
        assert snr >= 40, f"{name}: SNR {snr:.1f} dB"


@needs_fluidsynth
def test_one_shots_layout(script, tmp_path):
    written = script.render_one_shots(tmp_path, kits=[0], velocities=(100,))
    assert {p.parent.name for ps in written.values() for p in ps} == set(STEMS)
    for cls, paths in written.items():
        assert len(paths) == len(script.CLASS_NOTES[cls]), (cls, paths)
        for p in paths:
            y, sr = sf.read(p)
            assert sr == SR and y.ndim == 1
            assert 0.05 * SR < len(y) <= SR, f"{p.name}: {len(y)} samples"  # 50 ms..1 s
    with pytest.raises(FileExistsError, match="out_dir"):
        script.render_one_shots(tmp_path, kits=[0])


GMROCK = Path("/usr/share/hydrogen/data/drumkits/GMRockKit")


@pytest.mark.skipif(not GMROCK.is_dir(), reason="hydrogen-data not installed")
def test_eval_mixtures_gmrockkit():
    drumkits = _import(ROOT / "benchmarks" / "drumkits.py", "drumkits")
    kit = drumkits.parse_drumkit("GMRockKit")
    assert [i["midi_note"] for i in kit["roles"]["kick"]] == [36]
    mixes = drumkits.render_eval_mixtures(GMROCK, n=2, seed=1, seconds=4.0)
    again = drumkits.render_eval_mixtures(GMROCK, n=2, seed=1, seconds=4.0)
    for m, m2 in zip(mixes, again):
        assert m["mix"].shape == (4 * SR,) and m["mix"].dtype == np.float32
        # float32 stems add up to the mixture exactly (tolerance 0)
        np.testing.assert_array_equal(m["kick"] + m["snare"] + m["hihat"], m["mix"])
        assert abs(np.abs(m["mix"]).max() - 0.9) < 1e-6  # peak normalised to 0.9
        for s in STEMS:
            assert np.abs(m[s]).max() > 0.01, s
        np.testing.assert_array_equal(m["mix"], m2["mix"])  # same seed, same audio
    with pytest.raises(ValueError, match="n=0"):
        drumkits.render_eval_mixtures(GMROCK, n=0)


_TINY_KIT = """<?xml version="1.0"?>
<drumkit_info><name>tiny</name><instrumentList>
 <instrument><name>Kick</name><pan>0</pan><midiOutNote>36</midiOutNote>
  <layer><filename>one.wav</filename><min>0</min><max>1</max><gain>1</gain></layer></instrument>
 <instrument><name>Snare</name><pan>-1</pan><midiOutNote>38</midiOutNote>
  <layer><filename>one.wav</filename><min>0</min><max>1</max><gain>1</gain></layer></instrument>
 <instrument><name>Hat Closed</name><pan_L>0</pan_L><pan_R>1</pan_R><midiOutNote>42</midiOutNote>
  <layer><filename>one.wav</filename><min>0</min><max>1</max><gain>1</gain></layer></instrument>
</instrumentList></drumkit_info>
"""


def test_stereo_render_puts_a_hard_panned_instrument_in_one_channel(tmp_path, monkeypatch):
    # benchmarks/performances.py with stereo=True plays each instrument at its kit's pan:
    # a snare at <pan>-1 (Hydrogen >= 1.0) only in the left channel, a hat at pan_L 0 /
    # pan_R 1 (the older tags) only in the right, a kick at 0 in both alike — exactly
    # (tolerance 0: the far channel's gain is 0); the stems still add up to the mixture
    performances = _import(ROOT / "benchmarks" / "performances.py", "performances_bench")
    monkeypatch.setattr(performances, "CACHE_DIR", None)
    rng = np.random.default_rng(0)
    decay = np.exp(-np.arange(SR // 4) / 800.0)
    sf.write(tmp_path / "one.wav", (0.5 * rng.standard_normal(SR // 4) * decay).astype(np.float32), SR)
    (tmp_path / "drumkit.xml").write_text(_TINY_KIT)
    performance = performances.compose(1, seconds=2.0, toms=False, cymbals=False, percussion=False)
    m = performances.render(performance, str(tmp_path), stereo=True)
    assert m["mix"].shape == (2, 2 * SR) and m["stereo"]
    left, right = 0, 1
    assert np.abs(m["snare"][left]).max() > 0.01 and not np.any(m["snare"][right])
    assert np.abs(m["hihat"][right]).max() > 0.001 and not np.any(m["hihat"][left])
    assert np.abs(m["kick"]).max() > 0.01
    np.testing.assert_array_equal(m["kick"][left], m["kick"][right])
    total = np.zeros_like(m["mix"])
    for cls in performances.CLASSES:
        total += m[cls]
    np.testing.assert_array_equal(total, m["mix"])
    mono = performances.render(performance, str(tmp_path))  # the default stays mono
    assert mono["mix"].shape == (2 * SR,) and not mono["stereo"]


@needs_fluidsynth
def test_regenerated_default_templates_match_bundled(tmp_path):
    # data/make_default_templates.py reproduces the bundled file: each template within
    # 40 dB SNR and the hat parts' high_band_db within 0.05 dB (bit-identical with
    # fluidsynth 2.3.1, measured 2026-12-02; the margins allow other versions)
    import sys

    sys.path.insert(0, str(DATA))  # the script imports make_drum_loop from its folder
    try:
        script = _import(DATA / "make_default_templates.py", "make_default_templates")
        built = script.build(tmp_path / "kit.npz")
    finally:
        sys.path.remove(str(DATA))
    from nmfaudio.drums import default_templates

    bundled = default_templates()
    assert built.classes == bundled.classes
    for k, label in enumerate(bundled.classes):
        err = np.sum((built.P[:, k] - bundled.P[:, k]) ** 2)
        snr = 10 * np.log10(np.sum(bundled.P[:, k] ** 2) / max(err, 1e-30))
        assert snr >= 40, f"{label}: SNR {snr:.1f} dB"
    np.testing.assert_allclose(built.high_band_db, bundled.high_band_db, atol=0.05)  # NaN where NaN


@needs_fluidsynth
def test_regenerated_electronic_snare_matches_bundled(tmp_path):
    # the drum machines' snare (a song's snare starts half from it) is reproduced by
    # data/make_default_templates.py within 40 dB SNR, as the bundled templates are
    from nmfaudio.drums.templates import electronic_snare

    built = _templates_script().build_electronic_snare(tmp_path / "snare.npz")
    bundled = electronic_snare()
    assert built.classes == bundled.classes == ("snare",) and built.n_shots == bundled.n_shots
    err = np.sum((built.P - bundled.P) ** 2)
    assert 10 * np.log10(np.sum(bundled.P ** 2) / max(err, 1e-30)) >= 40


def _templates_script():
    import sys

    sys.path.insert(0, str(DATA))  # the script imports make_drum_loop from its folder
    try:
        return _import(DATA / "make_default_templates.py", "make_default_templates")
    finally:
        sys.path.remove(str(DATA))


def test_more_percussion_kits_are_none_a_drum_recording_benchmark_renders():
    # --more-percussion may learn only from kits no drum-recording benchmark plays (not the
    # tuning, held-out, transcription or k/s/h kits, not the percussion lender) and never from
    # a kit reserved for independent evaluation
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        drums = _import(ROOT / "benchmarks" / "drums.py", "drums_bench")
        performances = _import(ROOT / "benchmarks" / "performances.py", "performances_bench")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    used = ({kit for _, kits, _ in drums.PERFORMANCE_SETS for kit in kits} | set(drums.OTHER_KITS)
            | {drums.EVAL_KIT, performances.PERCUSSION_KIT} | set(performances.HYDROGEN_KITS)
            | set(performances.RESERVED_KITS))
    script = _templates_script()
    sources = {kit for kits in script.HYDROGEN_PERCUSSION.values() for kit in kits}
    assert sources and not sources & used, sources & used
    assert set(script.HYDROGEN_PERCUSSION) <= {label for label in script.PARTS if label.startswith("other:")}
    # the full-song electronic probe (performances.ELECTRONIC_KITS) does play three of the
    # sources, so a file built with them is not held out there (docs/drums-full-song.md,
    # "Electronic kits"); that probe's numbers are the bundled templates', and the default
    # build reads no Hydrogen kit
    assert sources & set(performances.ELECTRONIC_KITS), "update the note in docs/drums-full-song.md"
    import inspect

    assert inspect.signature(script.build).parameters["more"].default == "none"


@pytest.mark.skipif(not (GMROCK.parent / "TR808EmulationKit").is_dir(), reason="hydrogen-data not installed")
def test_hydrogen_shots_reads_every_layer():
    # every instrument named in HYDROGEN_PERCUSSION has audible samples where its kit is
    # installed (one array per velocity layer); a name the kit lacks is an error
    script = _templates_script()
    for label, kits in script.HYDROGEN_PERCUSSION.items():
        for kit, names in kits.items():
            if not (GMROCK.parent / kit).is_dir():
                continue
            shots = script.hydrogen_shots(GMROCK.parent / kit, names, SR)
            assert len(shots) >= len(names), (label, kit)
            assert all(y.ndim == 1 and np.abs(y).max() > 1e-3 for y in shots), (label, kit)
    with pytest.raises(ValueError, match="no samples"):
        script.hydrogen_shots(GMROCK.parent / "TR808EmulationKit", ("Tambourine",), SR)


@needs_fluidsynth
def test_more_percussion_keeps_only_the_added_presets_renders():
    # _shots(..., keep=) returns only the kept presets' one-shots, none equal to another
    # preset's (render_one_shots skips renders equal to an earlier one)
    script = _templates_script()
    parts, kits = {"other:metal": (56,)}, {0: "standard", 25: "tr-808"}
    every = script._shots(parts, SR, kits=kits)["other:metal"]  # standard's 3, then TR-808's 3
    kept = script._shots(parts, SR, kits=kits, keep=("tr-808",))["other:metal"]
    assert len(every) == 6 and len(kept) == 3
    for y in kept:
        assert any(len(y) == len(z) and np.array_equal(y, z) for z in every[3:])
        assert not any(len(y) == len(z) and np.array_equal(y, z) for z in every[:3])


#: The expected roles of every benchmark kit (acoustic as main 486e90d mapped them,
#: electronic as chosen in performances.KIT_ROLES): {"acoustic"|"electronic": {kit: {role: name}}}.
_KIT_ROLES = json.loads((ROOT / "tests" / "hydrogen_kit_roles.json").read_text())
_ACOUSTIC_ROLES, _ELECTRONIC_ROLES = _KIT_ROLES["acoustic"], _KIT_ROLES["electronic"]


@pytest.fixture(scope="module")
def performances_bench():
    return _import(ROOT / "benchmarks" / "performances.py", "performances_bench")


@pytest.mark.skipif(not all((GMROCK.parent / k).is_dir() for k in list(_ACOUSTIC_ROLES) + list(_ELECTRONIC_ROLES)),
                    reason="hydrogen-data / hydrogen-drumkits not installed")
def test_hydrogen_roles_of_every_benchmark_kit(performances_bench):
    # the acoustic kits (and the percussion lender) map exactly as before the electronic
    # kits were added, so their renders stay byte-identical; the electronic kits map to
    # the hand-checked roles, exactly (role -> instrument name, no role more or less)
    assert set(_ELECTRONIC_ROLES) == set(performances_bench.ELECTRONIC_KITS)
    assert set(_ACOUSTIC_ROLES) == set(performances_bench.HYDROGEN_KITS) | {performances_bench.PERCUSSION_KIT}
    for kit, expected in {**_ACOUSTIC_ROLES, **_ELECTRONIC_ROLES}.items():
        roles = performances_bench.hydrogen_roles(kit)
        assert {role: inst["name"] for role, inst in roles.items()} == expected, kit
    # a full kit plays every note of a performance: the very same list
    performance = performances_bench.compose(3, seconds=8.0)
    for kit in performances_bench.HYDROGEN_KITS:
        assert performances_bench.playable_notes(performance["notes"], kit) == performance["notes"], kit


def test_soundfont_kit_specs_parse_without_the_soundfonts(performances_bench):
    # "fluidr3:<preset>" and "sf2:<name>:<preset>" name a SOUNDFONTS entry and a preset
    # (parsing reads no file, so the tests need none of the SoundFont packages); AVL's
    # Black Pearl (the held-out Hydrogen kit's source) is refused however it is spelled,
    # an unknown name or a malformed spec is an error; a Hydrogen kit name is None
    kit = performances_bench.soundfont_kit
    assert kit("fluidr3:16") == ("fluidr3", 16)
    assert kit("sf2:musescore:40") == ("musescore", 40) and kit("sf2:RedZeppelin:0") == ("redzeppelin", 0)
    assert kit("GMRockKit") is None
    for refused in ("sf2:blackpearl:0", "sf2:Black_Pearl:0", "sf2:black-pearl:1"):
        with pytest.raises(ValueError, match="held-out"):
            kit(refused)
    for bad in ("sf2:nosuchfont:0", "sf2:musescore", "sf2:musescore:x"):
        with pytest.raises(ValueError):
            kit(bad)
    assert not any(re.search(performances_bench.REFUSED_SOUNDFONTS, entry[0], re.IGNORECASE)
                   for entry in performances_bench.SOUNDFONTS.values())


def _steps(performance, roles):
    """The 16th-note steps (of the bar) of the notes of ``roles``: humanized by at most 15 ms,
    a 16th is at least 100 ms (150 BPM), so rounding finds each note's step."""
    step = 60.0 / performance["bpm"] / 4
    return [round(t / step) % 16 for t, r, _ in performance["notes"] if r in roles]


def test_ride_grooves_hat_foot_patterns(performances_bench):
    # compose(..., hat_foot=...) moves the ride style's hat foot and leaves every existing
    # draw as it was: None and "backbeat" are the very same performance, note for note;
    # "quarters", "offbeats" and "none" play the same grooves (the same steps of every other
    # role) with the pedal chicks on every beat / on the "and"s / nowhere; "jazz" keeps the
    # foot on 2 and 4 and moves the snare off the backbeat (no fills: toms=False)
    compose = performances_bench.compose
    assert set(performances_bench.HAT_FEET) == {"backbeat", "quarters", "offbeats", "jazz", "none"}
    feet = {"backbeat": {4, 12}, "quarters": {0, 4, 8, 12}, "offbeats": {2, 6, 10, 14}, "jazz": {4, 12}, "none": set()}
    others = [r for r in performances_bench.ROLE_CLASS if r != "hihat_pedal"]
    for seed in range(4):
        default = compose(np.random.default_rng([seed, 0]), styles=("ride",), toms=False)
        assert compose(np.random.default_rng([seed, 0]), styles=("ride",), toms=False, hat_foot="backbeat") == default
        for foot, steps in feet.items():
            played = compose(np.random.default_rng([seed, 0]), styles=("ride",), toms=False, hat_foot=foot)
            assert set(_steps(played, ("hihat_pedal",))) == steps, (seed, foot)
            assert not _steps(played, ("hihat_closed", "hihat_open")), (seed, foot)
            snare = _steps(played, ("snare",))
            if foot == "jazz":
                assert snare and not {4, 12} & set(snare), seed  # comping, no backbeat
            else:
                assert sorted(_steps(played, others)) == sorted(_steps(default, others)), (seed, foot)
                assert {4, 12} <= set(snare)
    # another style ignores the foot: the same performance
    plain = next(s for s in range(20) if compose(s)["style"] != "ride")
    assert compose(plain, hat_foot="quarters") == compose(plain)
    with pytest.raises(ValueError, match="hat_foot"):
        compose(0, hat_foot="heel")


def test_jazz_ride_grooves_play_one_snare_stroke_a_step(performances_bench):
    # hat_foot="jazz": the comping snare (1-3 hits a bar on the off-beat eighths and the "a"s)
    # was added beside the ghost notes drawn on the same steps: two snare notes ms apart
    # (25 of the 445 snare notes of seeds (0, 0..39), in 19 of the 40 performances), two
    # reference onsets of which a detector can find one (review10).  The comp takes the step.
    compose = performances_bench.compose
    comped = 0
    for i in range(40):
        played = compose(np.random.default_rng([0, i]), styles=("ride",), hat_foot="jazz")
        step = 60.0 / played["bpm"] / 4
        bars = [round(t / step) for t, r, _ in played["notes"] if r == "snare"]
        assert len(bars) == len(set(bars)), i  # one snare note per 16th of the performance
        comped += sum(v >= 0.3 for t, r, v in played["notes"] if r == "snare")
    assert comped > 40  # the comps are there


def test_kit_without_toms_or_cymbals_renders_without_them(tmp_path, monkeypatch, performances_bench):
    # a kit with only kick, snare and hi-hat (a drum machine) renders a performance with
    # fills and crashes: the toms and cymbals notes are left out of the audio and the note
    # list (their stems exactly 0), every other note is kept, the stems add up to the mix
    # (tolerance 0); percussion still comes from the lending kit
    monkeypatch.setattr(performances_bench, "CACHE_DIR", None)
    rng = np.random.default_rng(0)
    decay = np.exp(-np.arange(SR // 4) / 800.0)
    sf.write(tmp_path / "one.wav", (0.5 * rng.standard_normal(SR // 4) * decay).astype(np.float32), SR)
    (tmp_path / "drumkit.xml").write_text(_TINY_KIT)
    seed = next(s for s in range(50) if {"toms", "cymbals"} <= {
        performances_bench.ROLE_CLASS[r] for _, r, _ in performances_bench.compose(s, seconds=4.0)["notes"]})
    performance = performances_bench.compose(seed, seconds=4.0, percussion=False)
    m = performances_bench.render(performance, str(tmp_path))
    kept = [n for n in performance["notes"] if performances_bench.ROLE_CLASS[n[1]] not in ("toms", "cymbals")]
    assert len(kept) < len(performance["notes"])
    assert [(n["time"], n["role"], n["velocity"]) for n in m["notes"]] == kept
    assert not np.any(m["toms"]) and not np.any(m["cymbals"])
    assert np.abs(m["kick"]).max() > 0.01 and np.abs(m["snare"]).max() > 0.01
    total = np.zeros_like(m["mix"])
    for cls in performances_bench.CLASSES:
        total += m[cls]
    np.testing.assert_array_equal(total, m["mix"])


def test_electronic_arrangement_plays_only_synth_programs():
    # benchmarks/songs.py style="electronic": every role is played by a program of
    # ELECTRONIC_INSTRUMENTS (synth bass, pads, leads, synth brass and strings, electric
    # pianos), the bass always; the default style draws only INSTRUMENTS' programs
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        songs = _import(ROOT / "benchmarks" / "songs.py", "songs_bench")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    for seed in range(20):
        for style, table in songs.STYLES.items():
            song = songs.compose_accompaniment(np.random.default_rng([seed, 15]), bpm=120.0, seconds=8.0, style=style)
            assert "bass" in song and 3 <= len(song) <= 5
            for role, (program, pan, notes) in song.items():
                assert program in table[role][0] and pan == table[role][1] and notes, (style, role)
    assert all(p in range(38, 40) for p in songs.ELECTRONIC_INSTRUMENTS["bass"][0])


def test_new_kit_specs_parse_without_their_packages(performances_bench):
    # "sf2:csound:<preset>" names Csound's GM SoundFont and "samples:<name>" a folder of
    # one-shots; parsing reads no file (the tests need neither Debian package). A sample
    # kit's table plays every role but the percussion (which the lending kit plays),
    # each from a .wav at a positive gain; another spec is None, an unknown name an error
    assert performances_bench.soundfont_kit("sf2:csound:16") == ("csound", 16)
    sample_kit = performances_bench.sample_kit
    assert sample_kit("samples:eXaDrums") == "exadrums"
    assert sample_kit("GMRockKit") is None and sample_kit("sf2:csound:0") is None
    with pytest.raises(ValueError, match="unknown sample kit"):
        sample_kit("samples:nosuchkit")
    drums = {r for r, c in performances_bench.ROLE_CLASS.items() if c != "other"}
    for name, (folder, package, kit_name, table) in performances_bench.SAMPLE_KITS.items():
        assert set(table) == drums, name
        assert all(file.endswith(".wav") and gain > 0 for file, gain in table.values()), name


def _sample_folder(folder, files, seed=0):
    """Synthetic one-shots under the names of ``files``: decaying noise, 0.2-0.45 s, each
    its own length (so a mix-up of files shows)."""
    rng = np.random.default_rng(seed)
    for i, file in enumerate(sorted(set(files))):
        n = SR // 5 + i * SR // 40
        y = 0.5 * rng.standard_normal((n, 2)) * np.exp(-np.arange(n) / (n / 4))[:, None]
        sf.write(folder / file, y.astype(np.float32), SR)


def test_sample_kit_renders_exact_stems_velocity_as_gain(tmp_path, monkeypatch, performances_bench):
    # a "samples:" kit on a synthetic stand-in folder (the real one is a Debian package):
    # every note of a performance with fills and crashes is played and listed unchanged,
    # a class's stem is non-zero exactly when the class plays, the stems add up to the
    # mix (tolerance 0; mono and stereo); a hit's samples are the file's times velocity
    # times the gain of the table (1e-6 relative), and a hi-hat hit is cut at the next
    # hat hit (its 10-ms fade), so after it the stem is the next hit's alone
    monkeypatch.setattr(performances_bench, "CACHE_DIR", None)
    name = "exadrums"
    folder, package, kit_name, table = performances_bench.SAMPLE_KITS[name]
    _sample_folder(tmp_path, [file for file, _ in table.values()])
    monkeypatch.setitem(performances_bench.SAMPLE_KITS, name, (str(tmp_path), package, kit_name, table))
    seed = next(s for s in range(50) if {"toms", "cymbals"} <= {
        performances_bench.ROLE_CLASS[r] for _, r, _ in performances_bench.compose(s, seconds=4.0)["notes"]})
    performance = performances_bench.compose(seed, seconds=4.0, percussion=False)
    for stereo in (False, True):
        m = performances_bench.render(performance, f"samples:{name}", stereo=stereo)
        assert m["kit"] == kit_name and m["mix"].shape == ((2, 4 * SR) if stereo else (4 * SR,))
        assert [(n["time"], n["role"], n["velocity"]) for n in m["notes"]] == performance["notes"]
        playing = {performances_bench.ROLE_CLASS[r] for _, r, _ in performance["notes"]}
        for cls in performances_bench.CLASSES:
            assert bool(np.any(m[cls])) == (cls in playing), (stereo, cls)
        total = np.zeros_like(m["mix"])
        for cls in performances_bench.CLASSES:
            total += m[cls]
        np.testing.assert_array_equal(total, m["mix"])
    # two kicks (velocity 0.4 then 1.0) and two hats 50 ms apart, by hand
    hand = {"bpm": 120.0, "style": "rock8", "seconds": 2.0, "levels": performance["levels"],
            "notes": [(0.1, "hihat_closed", 0.8), (0.15, "hihat_open", 0.5), (0.5, "kick", 0.4), (1.0, "kick", 1.0)]}
    m = performances_bench.render(hand, f"samples:{name}")
    kick = sf.read(tmp_path / table["kick"][0], dtype="float32")[0].mean(axis=1)
    first, second = m["kick"][SR // 2:SR // 2 + len(kick)], m["kick"][SR:SR + len(kick)]
    np.testing.assert_allclose(first, 0.4 * second, rtol=1e-6, atol=1e-9)
    assert np.corrcoef(second, kick)[0, 1] > 1 - 1e-9
    hat = sf.read(tmp_path / table["hihat_open"][0], dtype="float32")[0].mean(axis=1)
    start = round(0.15 * SR)
    after = m["hihat"][start:start + len(hat)]
    assert np.corrcoef(after, hat)[0, 1] > 1 - 1e-9


def test_sample_kit_missing_names_its_package(tmp_path, monkeypatch, performances_bench):
    # without the Debian package, rendering a "samples:" kit fails with the package's name
    monkeypatch.setattr(performances_bench, "CACHE_DIR", None)
    folder, package, kit_name, table = performances_bench.SAMPLE_KITS["exadrums"]
    monkeypatch.setitem(performances_bench.SAMPLE_KITS, "exadrums",
                        (str(tmp_path / "absent"), package, kit_name, table))
    with pytest.raises(FileNotFoundError, match=package):
        performances_bench.render(performances_bench.compose(0, seconds=2.0, percussion=False), "samples:exadrums")


@pytest.mark.skipif(not Path("/usr/share/sounds/sf2/sf_GMbank.sf2").is_file() or shutil.which("fluidsynth") is None,
                    reason="csound-soundfont / fluidsynth not installed")
def test_csound_kit_renders_exact_stems(monkeypatch, performances_bench):
    # Csound's GM bank plays every note of a performance (its own percussion too): each
    # class that plays has a non-zero stem, the stems add up to the mix (tolerance 0)
    monkeypatch.setattr(performances_bench, "CACHE_DIR", None)
    performance = performances_bench.compose(5, seconds=3.0)
    m = performances_bench.render(performance, "sf2:csound:0")
    assert m["kit"] == "Csound GM Standard"
    for cls in {performances_bench.ROLE_CLASS[r] for _, r, _ in performance["notes"]}:
        assert np.abs(m[cls]).max() > 1e-4, cls
    total = np.zeros_like(m["mix"])
    for cls in performances_bench.CLASSES:
        total += m[cls]
    np.testing.assert_array_equal(total, m["mix"])
