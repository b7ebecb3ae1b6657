"""Drum templates from one-shot folders and the drums / templates learn commands with bad
inputs: one clear error naming the folder or file, nothing written.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import nmfaudio


# --- drum templates from one-shot folders (API) ------------------------------------------


def _one_shot_kit(folder: Path, sr=22050) -> Path:
    """kick/, snare/, hihat/ with one short synthetic one-shot each."""
    t = np.arange(4000) / sr
    rng = np.random.default_rng(0)
    shots = {"kick": np.sin(2 * np.pi * 60 * t) * np.exp(-30 * t),
             "snare": rng.standard_normal(t.size) * np.exp(-40 * t),
             "hihat": rng.standard_normal(t.size) * np.exp(-80 * t)}
    for name, shot in shots.items():
        (folder / name).mkdir(parents=True)
        sf.write(folder / name / "one.wav", (0.8 * shot).astype(np.float32), sr)
    return folder


def test_a_one_shot_that_is_a_broken_link_is_named(tmp_path, cli, one_line_error):
    # a link to a one-shot on a moved drive was left out without a word, and the template
    # learned from the class's other one-shots (review58); a batch's input names it too
    kit = _one_shot_kit(tmp_path / "kit")
    (kit / "snare" / "two.wav").symlink_to(tmp_path / "moved" / "two.wav")
    code, _, err = cli(["templates", "learn", kit, "-o", tmp_path / "k.npz"])
    assert code == 1
    one_line_error(err, f"{str(kit / 'snare' / 'two.wav')!r} is a link to {str(tmp_path / 'moved' / 'two.wav')!r}, "
                        "which does not exist; check the link or its target")
    assert not (tmp_path / "k.npz").exists()


@pytest.mark.parametrize("classes", [None, "kick,toms"], ids=["found", "asked"])
def test_a_class_folder_that_is_a_broken_link_is_named(classes, tmp_path, cli, one_line_error):
    # kit/toms, a link to a sample drive moved away, was passed over without a word: the
    # templates learned kick, snare and hihat only; asked for (--classes), it was "missing"
    # (review59)
    kit = _one_shot_kit(tmp_path / "kit")
    (kit / "toms").symlink_to(tmp_path / "moved" / "toms")
    asked = ["--classes", classes] if classes else []
    code, _, err = cli(["templates", "learn", kit, "-o", tmp_path / "k.npz", *asked])
    assert code == 1
    one_line_error(err, f"{str(kit / 'toms')!r} is a link to {str(tmp_path / 'moved' / 'toms')!r}, "
                        "which does not exist; check the link or its target")
    assert not (tmp_path / "k.npz").exists()


@pytest.mark.parametrize("command, classes", [("templates", None), ("templates", "kick,toms"), ("drums", None)],
                         ids=["found", "asked", "drums --templates"])
def test_a_class_folder_that_is_a_file_is_named(command, classes, tmp_path, cli, one_line_error):
    # kit/toms, a file (a one-shot saved without its suffix, a note), was passed over without a
    # word: the templates learned kick, snare and hihat only, drums took the bundled toms;
    # asked for (--classes), it was "missing" (mend60)
    kit = _one_shot_kit(tmp_path / "kit")
    (kit / "toms").write_bytes(b"RIFF")
    loop = tmp_path / "loop.wav"
    sf.write(loop, np.zeros(2205, np.float32), 22050)
    asked = ["--classes", classes] if classes else []
    args = (["templates", "learn", kit, "-o", tmp_path / "k.npz", *asked] if command == "templates" else
            ["drums", loop, "-o", tmp_path / "out", "--templates", kit])
    code, _, err = cli(args)
    assert code == 1
    one_line_error(err, f"class folder {str(kit / 'toms')!r} is a file, not a folder; make {str(kit / 'toms')!r} "
                        "a folder of toms one-shots")
    assert not (tmp_path / "k.npz").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["templates", "drums"])
def test_a_kit_folder_that_is_a_broken_link_is_named(command, tmp_path, cli, one_line_error):
    # a kit folder that is a link to a moved drive was said "does not exist (or is not a
    # folder)" / "does not exist", the link not named (review59's left-alone note)
    kit = tmp_path / "kit"
    kit.symlink_to(tmp_path / "moved" / "kit")
    loop = tmp_path / "loop.wav"
    sf.write(loop, np.zeros(2205, np.float32), 22050)
    args = (["templates", "learn", kit, "-o", tmp_path / "k.npz"] if command == "templates" else
            ["drums", loop, "-o", tmp_path / "out", "--templates", kit])
    code, _, err = cli(args)
    assert code == 1
    one_line_error(err, f"{str(kit)!r} is a link to {str(tmp_path / 'moved' / 'kit')!r}, "
                        "which does not exist; check the link or its target")
    assert not (tmp_path / "k.npz").exists() and not (tmp_path / "out").exists()


def test_a_one_shot_given_for_the_kit_folder_is_called_a_file(tmp_path, cli, one_line_error):
    # 'templates learn kit/kick/one.wav' said the one-shot "does not exist (or is not a
    # folder)" (review58): it exists, and is a file
    kit = _one_shot_kit(tmp_path / "kit")
    shot = kit / "kick" / "one.wav"
    code, _, err = cli(["templates", "learn", shot, "-o", tmp_path / "k.npz"])
    assert code == 1
    one_line_error(err, f"one-shot folder {str(shot)!r} is not a folder but a file; give a folder with sub-folders")
    assert not (tmp_path / "k.npz").exists()


@pytest.mark.parametrize("case, needle", [
    ("no class folder", "one-shot folder '{kit}' has none of the class folders"),
    ("no audio", "class folder '{kit}/hihat' holds no audio files; add hihat one-shots"),
    # a sample pack's layers (hihat/closed/, hihat/open/) were "no audio files" alone (tour16)
    ("shots in sub-folders", "class folder '{kit}/hihat' holds no audio files itself, only in its sub-folders "
                             "(closed/: 1, open/: 2), which are not read (one template per class folder, from the "
                             "files directly in it); move the hihat one-shots to learn from into '{kit}/hihat'"),
    # a one-shot's fix, not an input's "give a WAV, FLAC, OGG or MP3 file" (kitprobe67)
    ("text named .wav", "cannot read one-shot '{kit}/kick/two.wav' as audio (Format not recognised.); remove it "
                        "from '{kit}/kick', or export it again as WAV, FLAC, OGG or MP3"),
    ("silent one-shot", "one-shot '{kit}/snare/two.wav' is silent"),
    ("NaN one-shot", "'{kit}/snare/two.wav' holds 1 NaN or infinite samples"),
    ("no kit folder", "one-shot folder '{kit}' does not exist"),
])
def test_drum_template_folder_errors_name_the_folder_or_file(case, needle, tmp_path, file_tree):
    import shutil

    from nmfaudio.drums import DrumTemplates

    kit = _one_shot_kit(tmp_path / "kit")
    if case == "no class folder":  # (a kit missing only some classes is fine: they are borrowed)
        for name in ("kick", "snare", "hihat"):
            shutil.rmtree(kit / name)
    elif case == "no audio":
        (kit / "hihat" / "one.wav").unlink()
        (kit / "hihat" / "README.txt").write_text("hi-hat samples go here")
    elif case == "shots in sub-folders":
        for layer, names in (("closed", ["one.wav"]), ("open", ["a.flac", "b.wav"]), (".trash", ["c.wav"])):
            (kit / "hihat" / layer).mkdir()
            for name in names:
                sf.write(kit / "hihat" / layer / name, np.full(2000, 0.1, np.float32), 22050)
        (kit / "hihat" / "one.wav").unlink()
        (kit / "hihat" / "empty").mkdir()  # no audio: not named
    elif case == "text named .wav":
        (kit / "kick" / "two.wav").write_text("not audio")
    elif case == "silent one-shot":
        sf.write(kit / "snare" / "two.wav", np.zeros(2000, np.float32), 22050)
    elif case == "NaN one-shot":
        shot = np.full(2000, 0.1, np.float32)
        shot[7] = np.nan
        sf.write(kit / "snare" / "two.wav", shot, 22050, subtype="FLOAT")
    elif case == "no kit folder":
        shutil.rmtree(kit)
    before = file_tree(tmp_path)
    expected = needle.format(kit=kit)
    # a missing kit folder is a missing path: FileNotFoundError, as separate_drums raises for it
    with pytest.raises(FileNotFoundError if case == "no kit folder" else ValueError) as info:
        DrumTemplates.from_folder(kit)
    assert expected in str(info.value)
    if case != "no kit folder":  # (separate_drums: a missing path is FileNotFoundError naming templates=)
        with pytest.raises(ValueError) as info:
            nmfaudio.separate_drums(np.zeros(22050, np.float32), 22050, templates=kit)
        assert expected in str(info.value)
    assert file_tree(tmp_path) == before



def test_shots_in_sub_folders_beside_direct_ones_are_said_once(tmp_path, cli):
    """A class folder holding one-shots directly and in sub-folders learned from the direct
    ones only, without a word (polish16): Python warns once, naming every such class
    folder; templates learn prints it as one note line; a kit without them stays quiet."""
    import warnings

    from nmfaudio.drums import DrumTemplates
    from nmfaudio.drums.templates import SkippedShotsWarning

    kit = _one_shot_kit(tmp_path / "kit")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for a plain kit
        DrumTemplates.from_folder(kit)
    for folder, layer in (("kick", "soft"), ("kick", "hard"), ("hihat", "open")):
        (kit / folder / layer).mkdir()
        sf.write(kit / folder / layer / "x.wav", np.full(2000, 0.1, np.float32), 22050)
    with pytest.warns(SkippedShotsWarning) as caught:
        templates = DrumTemplates.from_folder(kit)
    assert len(caught) == 1
    assert str(caught[0].message) == (
        f"one-shots in sub-folders of '{kit / 'kick'}' (hard/: 1, soft/: 1); '{kit / 'hihat'}' (open/: 1) are not "
        "read, only the files directly in each class folder (one template per class folder); move the ones to "
        "learn from up into the class folder")
    assert templates.n_shots == (1, 1, 1)
    code, out, err = cli(["templates", "learn", kit, "-o", tmp_path / "kit.npz"])
    assert code == 0 and "from 1 kick, 1 snare, 1 hihat one-shots" in out
    assert err.splitlines() == [f"nmfaudio: note: {caught[0].message}"]



def test_one_shots_beside_the_class_folders_are_said(tmp_path, cli):
    """A one-shot lying in the kit folder itself (a Hydrogen kit exported flat, then partly
    sorted into class folders: PearlTom1-Hard.wav beside kick/) was passed over without a
    word (review63b): Python warns once, naming it; templates learn prints the note; the
    templates are the class folders' as before, and hidden or non-audio files stay unsaid."""
    from nmfaudio.drums import DrumTemplates

    kit = _one_shot_kit(tmp_path / "kit")
    plain = DrumTemplates.from_folder(kit)
    for name in ("PearlTom1-Hard.wav", "Tom 2 [soft].FLAC", ".hidden.wav"):
        sf.write(kit / name, np.full(2000, 0.1, np.float32), 22050)
    (kit / "README.txt").write_text("a kit")
    _said_once_and_read_as_before(kit, plain, cli, tmp_path, (
        f"one-shots directly in the kit folder '{kit}' are not read (PearlTom1-Hard.wav and Tom 2 [soft].FLAC); move "
        "each into its class folder (kick, snare, toms, hihat, cymbals), or into other/ for percussion"))


def _said_once_and_read_as_before(kit, plain, cli, tmp_path, message: str) -> str:
    """Learning ``kit`` warns once with ``message`` (a SkippedShotsWarning), gives the
    templates ``plain`` (learned before the extra files) to the sample, and ``templates
    learn`` prints the message as its one note line; returns that command's stdout."""
    from nmfaudio.drums import DrumTemplates
    from nmfaudio.drums.templates import SkippedShotsWarning

    with pytest.warns(SkippedShotsWarning) as caught:
        templates = DrumTemplates.from_folder(kit)
    assert len(caught) == 1
    assert str(caught[0].message) == message
    assert templates.classes == plain.classes and templates.n_shots == plain.n_shots
    np.testing.assert_array_equal(templates.P, plain.P)
    code, out, err = cli(["templates", "learn", kit, "-o", tmp_path / "kit.npz"])
    assert code == 0
    assert err.splitlines() == [f"nmfaudio: note: {message}"]
    return out


def test_a_kit_folder_that_is_no_class_is_said(tmp_path, cli):
    """kit/cowbell/ (no drum class) was skipped without a word (review56): Python warns once,
    naming it and its files and the folders that are read; templates learn prints it as
    one note line; the templates are the class folders' as before, and a folder without
    audio or a hidden one stays unsaid."""
    from nmfaudio.drums import DrumTemplates

    kit = _one_shot_kit(tmp_path / "kit")
    plain = DrumTemplates.from_folder(kit)
    for folder, files in (("cowbell", 2), ("claps", 1), ("notes", 0), (".cache", 1)):
        (kit / folder).mkdir()
        for i in range(files):
            sf.write(kit / folder / f"{i}.wav", np.full(2000, 0.1, np.float32), 22050)
    (kit / "notes" / "README.txt").write_text("no audio here")
    out = _said_once_and_read_as_before(kit, plain, cli, tmp_path, (
        f"folders of '{kit}' that are no drum class are not read (claps/: 1, cowbell/: 2); name a drum's folder "
        "kick, snare, toms, hihat, cymbals, or put percussion to leave in the residual in other/"))
    assert "from 1 kick, 1 snare, 1 hihat one-shots" in out
    # the classes named: the user chose them, nothing to say
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DrumTemplates.from_folder(kit, classes=("kick", "snare"))


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_class_folder_under_another_name_is_not_said_unread(tmp_path):
    """The note on folders that are no class (review56) named a folder whose files are
    read: ``Kick/`` with ``kick -> Kick`` (as a case-insensitive file system reads ``Kick/``
    as ``kick/``) was said "not read" (review57).  A folder that is another class's own
    stays unsaid; a true non-class folder beside it is still said."""
    import warnings

    from nmfaudio.drums import DrumTemplates
    from nmfaudio.drums.templates import SkippedShotsWarning

    kit = _one_shot_kit(tmp_path / "kit")
    (kit / "kick").rename(kit / "Kick")
    os.symlink("Kick", kit / "kick")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        templates = DrumTemplates.from_folder(kit)
    assert templates.n_shots == (1, 1, 1)
    (kit / "cowbell").mkdir()
    sf.write(kit / "cowbell" / "0.wav", np.full(2000, 0.1, np.float32), 22050)
    with pytest.warns(SkippedShotsWarning) as caught:
        DrumTemplates.from_folder(kit)
    assert len(caught) == 1 and "(cowbell/: 1)" in str(caught[0].message)


def test_skipped_shots_warning_points_at_the_users_line(tmp_path):
    """templates="kit" (read_templates, separate_drums) warned at templates.py's own
    ``DrumTemplates.from_folder(path)`` line (stacklevel=2, review12): the caller's now."""
    import warnings

    from nmfaudio.drums import DrumTemplates
    from nmfaudio.drums.templates import SkippedShotsWarning, read_templates

    kit = _one_shot_kit(tmp_path / "kit")
    (kit / "kick" / "soft").mkdir()
    sf.write(kit / "kick" / "soft" / "x.wav", np.full(2000, 0.1, np.float32), 22050)
    for load in (read_templates, DrumTemplates.from_folder):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load(kit)
        assert [(w.category, w.filename) for w in caught] == [(SkippedShotsWarning, __file__)], load


def test_a_class_folder_given_as_the_kit_names_its_parent(tmp_path):
    """kit/kick given where the kit is meant: the message names 'kit' (it suggested
    'kit/kick/kick'); a folder of loose one-shots that is no class folder keeps the old hint."""
    from nmfaudio.drums import DrumTemplates

    kit = _one_shot_kit(tmp_path / "kit")
    with pytest.raises(ValueError, match=f"; give the kit folder above it, '{kit}'$"):
        DrumTemplates.from_folder(kit / "kick")
    loose = tmp_path / "shots"
    loose.mkdir()
    with pytest.raises(ValueError, match=f"; put one-shots in e.g. '{loose / 'kick'}'$"):
        DrumTemplates.from_folder(loose)

# --- nmfaudio drums / templates learn with bad inputs (CLI) ------------------------------

DRUMS_FAST = ["--max-iter", "5", "--n-fft", "512", "--hop-length", "128"]


@pytest.fixture
def drum_setup(tmp_path, write_audio):
    """A kit folder, a kit missing its snare, one with an empty hi-hat folder, a loop
    made of the one-shots, a text file named .wav, and a plain file."""
    import shutil

    kit = _one_shot_kit(tmp_path / "kit")
    y = np.concatenate([sf.read(kit / c / "one.wav", dtype="float32")[0] for c in ("kick", "snare", "hihat")] * 2)
    write_audio(tmp_path / "loop.wav", y, 22050)
    shutil.copytree(kit, tmp_path / "no_snare")
    shutil.rmtree(tmp_path / "no_snare" / "snare")
    shutil.copytree(kit, tmp_path / "empty_hihat")
    (tmp_path / "empty_hihat" / "hihat" / "one.wav").unlink()
    (tmp_path / "text.wav").write_text("hello")
    (tmp_path / "file.txt").write_text("x")
    np.savez(tmp_path / "objects.npz", P=np.array([{"a": 1}], dtype=object))  # pickled: never loaded
    return tmp_path


@pytest.mark.parametrize("argv, code, needle", [
    (["drums", "missing.wav", "-o", "out"], 1, "'{d}/missing.wav' does not exist"),
    (["drums", "text.wav", "-o", "out"], 1, "cannot read '{d}/text.wav' as audio"),
    (["drums", "loop.wav", "-o", "file.txt"], 1, "-o '{d}/file.txt' is a file; give a folder"),
    (["drums", "loop.wav", "-o", "file.txt/sub"], 1, "which is a file; give a folder"),
    (["drums", "loop.wav", "-o", "out", "--templates", "no_kit"], 1, "--templates '{d}/no_kit' does not exist"),
    # not "folder 'file.txt' does not exist" (before 2026-12-05, tour11): it does, as a file
    (["drums", "loop.wav", "-o", "out", "--onsets", "file.txt/hits.csv"], 1,
     "--onsets '{d}/file.txt/hits.csv': '{d}/file.txt' is a file, not a folder; give a path in a folder"),
    (["drums", "loop.wav", "-o", "out", "--classes", "kick,cowbell"], 1, "no template for 'cowbell'; the templates have kick, snare, toms, hihat, cymbals, other"),
    # numpy's own words ("... allow_pickle= ...", unsafe advice in Python terms) are not shown
    (["drums", "loop.wav", "-o", "out", "--templates", "text.wav"], 1,  # its suffix read (kitprobe67)
     "--templates {d}/text.wav is a .wav file (a one-shot?), not drum templates; give the kit folder"),
    (["drums", "loop.wav", "-o", "out", "--templates", "objects.npz"], 1,
     "'{d}/objects.npz' (P.npy) holds pickled Python objects, which are never loaded"),
    (["drums", "loop.wav", "-o", "out", "--templates", "empty_hihat"], 1,
     "class folder '{d}/empty_hihat/hihat' holds no audio files"),
    (["drums", "loop.wav", "-o", "out", "--max-iter", "0"], 2, "argument --max-iter: '0' must be an int >= 1"),
    (["drums", "loop.wav", "-o", "out", "--classes", ","], 2, "argument --classes: ',' names no drum"),
    (["drums", "loop.wav"], 2, "required: -o/--output-dir"),
    (["templates", "learn", "no_snare", "-o", "kit.npz", "--classes", "kick,snare,hihat"], 1,
     "class folder '{d}/no_snare/snare' is missing"),
    (["templates", "learn", "empty_hihat", "-o", "kit.npz"], 1, "holds no audio files"),
    (["templates", "learn", "kit", "-o", "kit.txt"], 1, "must end in .npz"),
    # --onsets [CSV] took the input written after it: "the following arguments are required:
    # INPUT", or "--onsets 'loop.wav' must end in .csv" alone, before tour16
    (["drums", "--onsets", "loop.wav", "-o", "out"], 2,
     "nmfaudio drums: error: --onsets takes an optional CSV path and took '{d}/loop.wav' as it, so no input is left; "
     "write --onsets after the inputs: nmfaudio drums {d}/loop.wav -o {d}/out --onsets"),
    (["drums", "--onsets", "loop.wav", "loop.wav", "-o", "out"], 1,
     "--onsets '{d}/loop.wav' must end in .csv; --onsets takes an optional path and took this input as it: to "
     "separate it, write --onsets after the inputs"),
    # a folder of inputs taken so said nothing of it, as the parser's words for the only input do (review11)
    (["drums", "--onsets", "kit", "loop.wav", "-o", "out"], 1,
     "--onsets '{d}/kit' must end in .csv; --onsets takes an optional path and took this input as it: to "
     "separate it, write --onsets after the inputs"),
], ids=["missing input", "text input", "-o is a file", "-o below a file", "missing kit", "--onsets below a file",
        "unknown class",
        "kit not an npz", "kit of pickled objects",
        "kit with empty hihat", "max-iter 0", "empty classes", "no -o", "learn: kit without snare",
        "learn: empty hihat", "learn: not .npz", "--onsets took the input", "--onsets took one input",
        "--onsets took a folder"])
def test_drums_cli_bad_inputs_fail_with_one_line(argv, code, needle, drum_setup, cli, one_line_error,
                                                 file_tree):
    d = drum_setup
    argv = [str(d / a) if a in {"missing.wav", "text.wav", "loop.wav", "out", "file.txt", "file.txt/sub",
                                "file.txt/hits.csv", "no_kit",
                                "no_snare", "empty_hihat", "kit", "kit.npz", "kit.txt", "objects.npz"} else a for a in argv]
    extra = DRUMS_FAST if argv[0] == "drums" and code == 1 else []
    before = file_tree(d)
    got, stdout, err = cli([*argv, *extra])
    assert got == code
    line = one_line_error(err, prefix=None)
    assert needle.format(d=d) in line, line
    assert stdout == ""
    assert file_tree(d) == before and not (d / "out").exists()


@pytest.mark.parametrize("name, fmt", [("take.aifc", "AIFF"), ("take.w64", "W64")])
def test_onsets_that_took_an_input_in_any_audio_format_says_so(name, fmt, drum_setup, cli, one_line_error):
    """--onsets took an input of a format libsndfile reads but the short list of suffixes
    lacked (.aifc, .w64): "must end in .csv" alone, where a .wav got the reason (review11)."""
    d = drum_setup
    sf.write(d / name, np.full(2000, 0.1, np.float32), 22050, format=fmt)
    code, stdout, err = cli(["drums", "--onsets", d / name, d / "loop.wav", "-o", d / "out", *DRUMS_FAST])
    assert code == 1 and stdout == ""
    one_line_error(err, f"--onsets '{d / name}' must end in .csv; --onsets takes an optional path and took this "
                        "input as it: to separate it, write --onsets after the inputs")
    assert not (d / "out").exists()


def test_drums_cli_keeps_existing_outputs_without_force(drum_setup, cli, one_line_error, file_tree):
    d = drum_setup
    argv = ["drums", d / "loop.wav", "-o", d / "out", *DRUMS_FAST]
    assert cli(argv)[0] == 0
    first = file_tree(d / "out")
    assert sorted(first) == ["loop_cymbals.wav", "loop_hihat.wav", "loop_kick.wav", "loop_residual.wav",
                             "loop_snare.wav", "loop_toms.wav"]
    code, _, err = cli([*argv, "--seed", "4"])
    assert code == 1 and "--force" in one_line_error(err, prefix=None)
    assert file_tree(d / "out") == first
    learn = ["templates", "learn", d / "kit", "-o", d / "kit.npz"]
    assert cli(learn)[0] == 0
    npz = (d / "kit.npz").read_bytes()
    code, _, err = cli(learn)
    assert code == 1 and "exists; use --force" in one_line_error(err, prefix=None)
    assert (d / "kit.npz").read_bytes() == npz


@pytest.mark.parametrize("n_fft, hop_length, message", [
    (7, None, "n_fft=7 is too small for drum separation: use n_fft=256 or larger"),
    (2048, 5, "hop_length=5 is too small for drum separation at 22050 Hz: use hop_length=22 or larger"),
])
def test_frames_too_fine_for_drum_templates_are_refused(n_fft, hop_length, message):
    # n_fft=7 (hop 1) once made templates 68412 frames long and ran out of memory.
    y = np.zeros(22050, dtype=np.float32)
    with pytest.raises(ValueError, match=message):
        nmfaudio.separate_drums(y, 22050, n_fft=n_fft, hop_length=hop_length)


@pytest.mark.parametrize("sr, hop_length, message", [
    (100, None, r"a sample rate of 100 Hz is too low for drum separation: one STFT hop \(512 samples, the least at "
                r"any rate\) lasts 5.12 s, longer than a drum template may \(4 s\); resample the audio to 8000 Hz"),
    # a hop the user did not give (n_fft=4096: hop 1024) offered the default 512, refused too
    (100, 1024, r"a sample rate of 100 Hz is too low for drum separation: one STFT hop \(512 samples"),
    (1000, 8192, r"hop_length=8192 lasts 8.19 s at 1000 Hz, longer than a drum template may \(4 s\): use "
                 r"hop_length=4000 or smaller"),
])
def test_a_hop_longer_than_a_template_is_refused_naming_the_rate(sr, hop_length, message):
    # a 100-Hz file said "n_fft=1 at --hop-length 512 and sr=100 makes templates 5.12 s long;
    # drum templates are at most 4 s long ...: use at most 0 frames" (options nobody gave)
    y = (0.1 * np.random.default_rng(0).standard_normal(3000)).astype(np.float32)
    with pytest.raises(ValueError, match=message):
        nmfaudio.separate_drums(y, sr, hop_length=hop_length, n_fft=None if hop_length is None else 2 * hop_length)
    assert nmfaudio.separate_drums(y, 128, max_iter=2).sr == 128  # the hop's 4 s at 128 Hz: still taken


@pytest.mark.parametrize("streamed", [False, True], ids=["in memory", "block-wise"])
def test_samples_far_beyond_full_scale_are_refused_naming_the_file(streamed, drum_setup, cli, one_line_error,
                                                                   file_tree):
    """A float file peaking at 1e18 (+359 dBFS): the drum separation's float32 sums overflow
    there — the snare's hits were lost with overflow warnings, and from 1e35 the fit stopped on
    "V holds NaN or infinite values; replace them (e.g. np.nan_to_num)" — so it is refused
    before any work, naming the file and the fix (lead, 2026-12-07)."""
    d = drum_setup
    y = sf.read(d / "loop.wav", dtype="float32")[0]
    sf.write(d / "loud.wav", y * np.float32(1e18), 22050, subtype="FLOAT")
    before = file_tree(d)
    extra = ["--block-seconds", "1"] if streamed else []
    code, stdout, err = cli(["drums", d / "loud.wav", "-o", d / "out", *extra, *DRUMS_FAST])
    assert code == 1 and stdout == ""
    one_line_error(err, f"'{d / 'loud.wav'}' peaks at ", "dBFS; full scale is 1), beyond the 1e+12 the drum "
                        "separation takes; divide the samples by their peak first")
    assert file_tree(d) == before and not (d / "out").exists()


def test_a_loud_array_is_refused_and_one_under_the_limit_gives_the_same_hits(drum_setup):
    """The limit (audio.DRUM_PEAK_LIMIT, 1e12) is far under where the sums overflow: an array
    at 1e11 of full scale gives the hits of the same array at full scale, times within a
    microsecond; one at 1e18 is refused."""
    y = sf.read(drum_setup / "loop.wav", dtype="float32")[0]
    with pytest.raises(ValueError, match=r"^'y' peaks at .* beyond the 1e\+12 the drum separation takes"):
        nmfaudio.separate_drums(y * np.float32(1e18), sr=22050, max_iter=5)
    hits = [nmfaudio.separate_drums(y * np.float32(scale), sr=22050, max_iter=5, random_state=0).hits()
            for scale in (1.0, 1e11)]
    assert sum(len(hits[0][name].times) for name in ("kick", "snare", "hihat")) >= 4
    for name in ("kick", "snare", "toms", "hihat", "cymbals"):
        np.testing.assert_allclose(hits[1][name].times, hits[0][name].times, atol=1e-6)
