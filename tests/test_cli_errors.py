"""The command line's failures: a bad input file, a bad option or an unusable output path
fails with one stderr line (exit 1, or 2 for usage), no traceback, and leaves no files behind.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest


FAST = ["--n-fft", "256", "--hop-length", "64", "--max-iter", "20"]


# --- inputs that must fail cleanly -----------------------------------------------------


def _bad_input(case: str, folder: Path, write_audio, tones) -> Path:
    """Make the bad input file ``case`` in ``folder``; return its path."""
    path = folder / "input.wav"
    good = write_audio(folder / "good.wav", tones())
    if case == "missing":
        return folder / "missing.wav"
    if case == "directory":
        path.mkdir()
    elif case == "text named .wav":
        path.write_text("these are not the samples you are looking for\n")
    elif case == "truncated header":
        path.write_bytes(good.read_bytes()[:30])
    elif case == "truncated data":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif case == "corrupt":
        data = bytearray(good.read_bytes())
        data[8:16] = b"GARBAGE!"  # the WAVE/fmt markers
        path.write_bytes(bytes(data))
    elif case == "0 bytes":  # libsndfile: "Format not recognised.", as for text
        path.write_bytes(b"")
    elif case == "empty (0 frames)":
        write_audio(path, np.zeros(0, np.float32))
    elif case == "NaN samples":
        y = tones()
        y[100] = np.nan
        write_audio(path, y, subtype="FLOAT")
    elif case == "inf samples":
        y = tones(channels=2)
        y[1, 7] = -np.inf
        write_audio(path, y, subtype="FLOAT")
    good.unlink()
    return path


BAD_INPUTS = {
    "missing": "does not exist",
    "directory": "is a folder",
    "text named .wav": "cannot read",
    "truncated header": "cannot read",
    "truncated data": "truncated",
    "corrupt": "cannot read",
    "0 bytes": "is an empty file (0 bytes; an interrupted copy, download or export?); copy or export it again",
    "empty (0 frames)": "no samples",
    "NaN samples": "NaN or infinite",
    "inf samples": "NaN or infinite",
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_fails_with_one_line_and_leaves_nothing(case, tmp_path, cli, one_line_error, file_tree,
                                                          write_audio, tones):
    inputs = tmp_path / "in"
    inputs.mkdir()
    path = _bad_input(case, inputs, write_audio, tones)
    before = file_tree(inputs)
    out = tmp_path / "out"
    code, stdout, err = cli(["separate", path, "-k", "2", "-o", out, *FAST])
    assert code == 1
    line = one_line_error(err, prefix=None)
    assert line.startswith("nmfaudio: error:") and BAD_INPUTS[case] in line, line
    assert stdout == ""
    assert not out.exists()  # not even the output folder
    assert file_tree(inputs) == before


@pytest.mark.parametrize("k, needle", [("0", "'0' must be an int >= 1"), ("-1", "'-1' must be an int >= 1"),
                                       ("abc", "'abc' is not a whole number")])
def test_bad_k_is_a_one_line_usage_error(k, needle, tmp_path, cli, one_line_error, write_audio, tones):
    song = write_audio(tmp_path / "song.wav", tones())
    code, _, err = cli(["separate", song, "-k", k, "-o", tmp_path / "out"])
    assert code == 2
    line = one_line_error(err, prefix=None)
    assert "-k/--n-components" in line and needle in line and "--help" in line, line
    assert not (tmp_path / "out").exists()


def test_missing_required_option_is_a_one_line_usage_error(tmp_path, cli, one_line_error):
    code, _, err = cli(["separate", tmp_path / "song.wav"])
    assert code == 2
    assert "required" in one_line_error(err, prefix=None)


@pytest.mark.parametrize("argv, fix", [
    (["separate", "-x.wav", "-k", "2", "-o", "out"], "nmfaudio separate -k 2 -o out -- -x.wav"),
    (["drums", "in.wav", "-x.wav", "-o", "out", "--midi"], "nmfaudio drums in.wav -o out --midi -- -x.wav"),
    (["drums", "-o", "out", "-x.wav"], "nmfaudio drums -o out -- -x.wav"),
], ids=["alone", "in a batch", "last"])
def test_an_input_named_like_an_option_is_told_to_go_after_dashes(argv, fix, tmp_path, cli, one_line_error,
                                                                   write_audio, tones, monkeypatch):
    """An input named '-x.wav' was read as an option: 'the following arguments are required:
    INPUT' (or 'unrecognized arguments: -x.wav'), which does not say why.  Now one line with
    the command to type (the file after '--', last: after '--' every word is an input, so
    '-o' must come before it); that command then runs."""
    monkeypatch.chdir(tmp_path)
    write_audio(tmp_path / "-x.wav", tones())
    write_audio(tmp_path / "in.wav", tones())
    code, _, err = cli(argv)
    assert code == 2
    line = one_line_error(err, "'-x.wav' starts with '-'", fix, "./-x.wav", prefix=None)
    assert line.startswith(f"nmfaudio {argv[0]}: error:")
    assert sorted(os.listdir(tmp_path)) == ["-x.wav", "in.wav"]
    if argv[0] == "separate":  # the command the line gives works as typed
        words = fix.split()[1:]
        code, _, err = cli(words[:-2] + FAST + words[-2:])  # FAST's options before the '--'

        assert code == 0, err
        assert (tmp_path / "out" / "-x_component_02.wav").is_file()


@pytest.mark.parametrize("argv, code", [
    (["drums", "--", "-x.wav", "-o", "out", "--midi"], 2), (["drums", "-o", "out", "--", "-x.wav", "--midi"], 1),
], ids=["-o after", "--midi after"])
def test_options_written_after_the_dashes_are_moved_before_them(argv, code, tmp_path, cli, one_line_error,
                                                                 write_audio, tones, monkeypatch):
    """After '--' every word is an input: 'nmfaudio drums -- -x.wav -o out' said '-o/--output-dir
    is required', and '-o out -- -x.wav --midi' that the file '--midi' did not exist.  Both
    now give the command with the options before '--'."""
    monkeypatch.chdir(tmp_path)
    write_audio(tmp_path / "-x.wav", tones())
    got, _, err = cli(argv)
    assert got == code
    one_line_error(err, "every word is an input, so ", " was read as one; give the options before '--': "
                   "nmfaudio drums -o out --midi -- -x.wav", prefix=None)
    assert sorted(os.listdir(tmp_path)) == ["-x.wav"]


@pytest.mark.parametrize("argv, code, start", [
    (["drums", "in.wav", "-o", "out", "--classes", "kick,", "snare,", "hihat"], 2,
     "nmfaudio drums: error: unrecognized arguments: snare, hihat; "),
    (["drums", "--classes", "kick,", "snare", "in.wav", "-o", "out"], 1,
     "nmfaudio: error: 'snare' does not exist; check the path; "),
], ids=["after the input", "before the input"])
def test_a_list_split_by_spaces_says_how_to_write_it(argv, code, start, tmp_path, cli, one_line_error, write_audio,
                                                     tones, monkeypatch):
    """'--classes kick, snare' (a space after the comma: the shell makes two words) said
    'unrecognized arguments: snare', or, with the option before the input, that the file
    'snare' does not exist; now with how the list is written."""
    monkeypatch.chdir(tmp_path)
    write_audio(tmp_path / "in.wav", tones())
    got, _, err = cli(argv)
    assert got == code
    line = one_line_error(err, prefix=None)
    assert line.startswith(start)
    fix = "--classes kick,snare,hihat" if "hihat" in argv else "--classes kick,snare"
    assert f"a comma-separated list takes no spaces: {fix}" in line
    assert sorted(os.listdir(tmp_path)) == ["in.wav"]


@pytest.mark.parametrize("argv", [
    ["drums", "in.wav", "-o", "out.wav"], ["separate", "in.wav", "-k", "2", "-o", "comps.WAV"],
    ["drums", "in.wav", "in2.wav", "-o", "stems.flac"],
], ids=["drums", "separate", "batch"])
def test_an_output_folder_named_like_a_file_is_refused(argv, tmp_path, cli, one_line_error, write_audio, tones,
                                                       monkeypatch):
    """-o is the folder the outputs go in; '-o out.wav' (a user expecting one file) made a
    folder named out.wav holding out.wav/in_kick.wav ....  Refused before any work, with the
    folder to give instead; a folder of that name that exists is used as before."""
    monkeypatch.chdir(tmp_path)
    write_audio(tmp_path / "in.wav", tones())
    write_audio(tmp_path / "in2.wav", tones())
    code, _, err = cli(argv + FAST[2:] if argv[0] == "separate" else argv + ["--max-iter", "2"])
    assert code == 1
    folder = argv[-1]
    one_line_error(err, f"-o '{folder}' looks like a", "file name, but -o is the folder the outputs go in; give a "
                   f"folder, e.g. -o '{folder.rsplit('.', 1)[0]}'")
    assert sorted(os.listdir(tmp_path)) == ["in.wav", "in2.wav"]
    (tmp_path / folder).mkdir()  # the user's own folder of that name: used
    code, _, err = cli(argv + FAST[2:] if argv[0] == "separate" else argv + ["--max-iter", "2"])
    assert code == 0, err
    assert any((tmp_path / folder).iterdir())


@pytest.mark.parametrize("argv", [
    ["drums", "", "-o", "{out}"], ["drums", "{wav}", "-o", ""], ["separate", "", "-k", "2", "-o", "{out}"],
    ["separate", "{wav}", "-k", "2", "-o", ""], ["drums", "{wav}", "-o", "{out}", "--templates", ""],
    ["drums", "{wav}", "-o", "{out}", "--onsets", ""], ["templates", "learn", "", "-o", "{out}/k.npz"],
    ["spikes", "", "-k", "2", "-o", "{out}"], ["image", "compress", "", "-r", "2", "-o", "{out}/c.png"],
], ids=["drums input", "drums -o", "separate input", "separate -o", "drums --templates", "drums --onsets",
        "templates learn folder", "spikes file", "image compress photo"])
def test_an_empty_path_is_a_usage_error(argv, tmp_path, cli, one_line_error, write_audio, tones, monkeypatch):
    # "" (an unset shell variable: -o "$OUT") used to be read as the current folder: the
    # stems went there, or every audio file under it was separated as a batch
    monkeypatch.chdir(tmp_path)
    wav = write_audio(tmp_path / "in.wav", tones())
    argv = [a.format(wav=wav, out=tmp_path / "out") for a in argv]
    code, _, err = cli(argv)
    assert code == 2
    one_line_error(err, "empty path", prefix=None)
    assert sorted(os.listdir(tmp_path)) == ["in.wav"]


@pytest.mark.parametrize("command", [["drums"], ["separate", "-k", "2"]])
def test_jobs_with_a_scheduler_is_a_usage_error(command, tmp_path, cli, one_line_error, write_audio, tones):
    # --jobs was ignored without a word when --scheduler was given (the cluster's workers run
    # the files); refused before any connection is tried
    wav = write_audio(tmp_path / "in.wav", tones())
    code, _, err = cli([command[0], wav, *command[1:], "-o", tmp_path / "out", "--jobs", "2",
                        "--scheduler", "tcp://127.0.0.1:1"])
    assert code == 2
    one_line_error(err, "--jobs 2", "--scheduler", "give one of them", prefix=None)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["drums"], ["drums", "--jobs", "1"]], ids=["alone", "batch"])
def test_quantize_without_hit_files_is_a_usage_error(command, tmp_path, cli, one_line_error, write_audio, tones):
    # an option that needs another (--quantize without --midi or --onsets) was exit 1, an
    # input's error, where --learn-frames without --block-seconds, --subtype pcm16 with
    # --format flac and --jobs with --scheduler are usage errors, exit 2 (review58)
    wav = write_audio(tmp_path / "in.wav", tones())
    code, out, err = cli([command[0], wav, "-o", tmp_path / "out", "--quantize", "16", "--json", *command[1:]])
    assert code == 2 and out == ""  # a usage error prints no --json record
    one_line_error(err, "--quantize changes the hit files; add --midi or --onsets", "'nmfaudio drums --help'",
                   prefix="nmfaudio drums: error:")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("why", ["several inputs", "--jobs"])
def test_onsets_path_in_a_batch_is_a_usage_error(why, tmp_path, cli, one_line_error, write_audio, tones):
    # --onsets PATH names one file, which a batch cannot use: the command line itself is wrong,
    # as with --jobs and --scheduler (exit 2); it was exit 1 with a --json record (review59)
    wav = write_audio(tmp_path / "in.wav", tones())
    inputs = [wav, write_audio(tmp_path / "two.wav", tones())] if why == "several inputs" else [wav, "--jobs", "1"]
    code, out, err = cli(["drums", *inputs, "-o", tmp_path / "out", "--json", "--onsets", tmp_path / "h.csv"])
    assert code == 2 and out == ""
    one_line_error(err, f"names one file, but this is a batch ({why}); give --onsets alone",
                   "'nmfaudio drums --help'", prefix="nmfaudio drums: error:")
    assert not (tmp_path / "out").exists()


def test_output_path_that_is_a_file_is_refused_and_kept(tmp_path, cli, one_line_error, write_audio, tones):
    song = write_audio(tmp_path / "song.wav", tones())
    target = tmp_path / "notes.txt"
    target.write_text("my notes")
    code, _, err = cli(["separate", song, "-k", "2", "-o", target, *FAST])
    assert code == 1
    assert "is a file; give a folder" in one_line_error(err, prefix=None)
    assert target.read_text() == "my notes"
    assert sorted(os.listdir(tmp_path)) == ["notes.txt", "song.wav"]


# Tests run as root, for whom permission bits do not block writes (chmod 0o500 would not
# make a folder unwritable).  These folders are unwritable for everyone: one below a
# regular file, and /proc/self (the kernel refuses new files there).
@pytest.mark.parametrize("where", ["below a file", "/proc/self"])
def test_unwritable_output_folder_fails_before_any_work(where, tmp_path, cli, one_line_error, write_audio,
                                                        file_tree, tones):
    song = write_audio(tmp_path / "song.wav", tones())
    (tmp_path / "file.txt").write_text("x")
    out = tmp_path / "file.txt" / "sub" if where == "below a file" else Path("/proc/self")
    if where == "/proc/self" and not Path("/proc/self").is_dir():
        pytest.skip("no /proc on this system")
    before = file_tree(tmp_path)
    started = time.perf_counter()
    code, _, err = cli(["separate", song, "-k", "2", "-o", out, "--max-iter", "100000", "--n-fft", "256",
                        "--hop-length", "64"])
    assert code == 1
    line = one_line_error(err, prefix=None)
    assert str(out) in line and ("give a folder" in line or "give a folder you can write to" in line), line
    assert time.perf_counter() - started < 5  # refused before the (long) factorization
    assert file_tree(tmp_path) == before


def test_unwritable_onsets_folder_fails_before_any_work(tmp_path, monkeypatch, cli, one_line_error, write_audio,
                                                       file_tree, tones):
    """``--onsets PATH`` in a folder nobody can write to (/proc/self) is refused before the
    separation, naming the option and the folder (it used to fail after the work, naming
    a hidden temporary file)."""
    import nmfaudio.batch

    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc on this system")

    def must_not_run(*args, **kwargs):
        raise AssertionError("the separation ran before the --onsets folder was checked")

    monkeypatch.setattr(nmfaudio.batch, "run_task", must_not_run)
    song = write_audio(tmp_path / "song.wav", tones())
    before = file_tree(tmp_path)
    code, _, err = cli(["drums", song, "-o", tmp_path / "out", "--onsets", "/proc/self/hits.csv", *FAST])
    assert code == 1
    one_line_error(err, "--onsets folder '/proc/self'", "give a folder you can write to")
    assert file_tree(tmp_path) == before and not (tmp_path / "out").exists()


def test_output_that_is_a_folder_is_refused(tmp_path, cli, one_line_error, write_audio, tones):
    song = write_audio(tmp_path / "song.wav", tones())
    (tmp_path / "out" / "song_component_01.wav").mkdir(parents=True)
    code, _, err = cli(["separate", song, "-k", "2", "-o", tmp_path / "out", "--force", *FAST])
    assert code == 1
    assert "is a folder where an output file must go" in one_line_error(err, prefix=None)
    assert os.listdir(tmp_path / "out") == ["song_component_01.wav"]


def test_an_unexpected_exception_is_still_one_line(tmp_path, monkeypatch, cli, one_line_error, write_audio, tones):
    import nmfaudio.pipeline

    def broken(*args, **kwargs):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(nmfaudio.pipeline, "separate", broken)
    song = write_audio(tmp_path / "song.wav", tones())
    code, _, err = cli(["separate", song, "-k", "2", "-o", tmp_path / "out", *FAST])
    assert code == 1
    assert "unexpected ZeroDivisionError: simulated bug" in one_line_error(err, prefix=None)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, given", [
    (["drums", "{bad}", "-o", "{out}"], "{bad}"),
    (["separate", "{bad}", "-k", "2", "-o", "{out}"], "{bad}"),
    (["drums", "{bad}", "{missing}", "-o", "{out}"], None),  # a batch refused before any input ran
    (["image", "compress", "{bad}", "-r", "2", "-o", "{out}/c.png"], "{bad}"),
    (["spikes", "{missing}", "-k", "2", "-o", "{out}"], "{missing}"),
    (["templates", "learn", "{missing}", "-o", "{out}/k.npz"], "{missing}"),
], ids=["drums", "separate", "drums batch", "image compress", "spikes", "templates learn"])
def test_json_run_that_fails_prints_a_failed_record(argv, given, tmp_path, cli, one_line_error):
    # --json of one file printed nothing on stdout when it failed (only the stderr line), where a
    # batch prints a failed record: a script reading stdout got nothing to parse
    import json

    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    names = {"bad": bad, "missing": tmp_path / "missing.wav", "out": tmp_path / "out"}
    code, stdout, err = cli([a.format(**names) for a in argv] + ["--json"])
    assert code == 1
    line = one_line_error(err)
    record = json.loads(stdout)
    assert record == {"input": None if given is None else given.format(**names), "status": "failed",
                      "error": line.removeprefix("nmfaudio: error: ")}
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [
    ["drums", "{wav}", "-o", "{out}"], ["drums", "{good}", "-o", "{out}", "--templates", "{npz}"],
    ["templates", "learn", "{kit}", "-o", "{out}.npz"], ["image", "compress", "{png}", "-r", "1", "-o", "{out}.png"],
    ["image", "sweep", "{npz}"], ["spikes", "{npy}", "-k", "2", "-o", "{out}"], ["spikes", "{csv}", "-k", "2", "-o", "{out}"],
], ids=["audio", "templates file", "one-shot", "picture", "image stack", "waveforms npy", "waveforms csv"])
def test_an_empty_file_is_named_as_one_whatever_it_should_hold(argv, tmp_path, cli, one_line_error, write_audio,
                                                                tones):
    # each reader said what the 0 bytes were not: "cannot read ... as audio (Format not
    # recognised.)", "not a picture Pillow can read", "not a valid .npz archive", "is empty;
    # expected one waveform per row", ...
    names = {suffix: tmp_path / f"empty.{suffix}" for suffix in ("wav", "npz", "png", "npy", "csv")}
    for path in names.values():
        path.write_bytes(b"")
    (tmp_path / "kit" / "kick").mkdir(parents=True)
    (tmp_path / "kit" / "kick" / "a.wav").write_bytes(b"")
    good = write_audio(tmp_path / "good.wav", tones())
    code, _, err = cli([a.format(**names, kit=tmp_path / "kit", good=good, out=tmp_path / "out") for a in argv])
    assert code == 1
    one_line_error(err, "is an empty file (0 bytes; an interrupted copy, download or export?); copy or export it again")
    assert not (tmp_path / "out").exists()
