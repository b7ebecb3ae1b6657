"""Outputs: never clobbered without --force, written all-or-nothing (a failure or a signal
midway leaves no partial files), and parallel runs do not interfere.
"""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest
from hostile import wait_for


#: Sampling rate of the conftest ``tones`` (8000 Hz).
SR = 8000
FAST = ["--n-fft", "256", "--hop-length", "64", "--max-iter", "20"]


# --- outputs: no clobbering, atomic, interrupted, parallel -----------------------------


def test_existing_outputs_are_byte_identical_without_force(tmp_path, cli, one_line_error, write_audio,
                                                           file_tree, tones):
    song = write_audio(tmp_path / "song.wav", tones(channels=2))
    out = tmp_path / "out"
    assert cli(["separate", song, "-k", "2", "-o", out, "--seed", "1", *FAST])[0] == 0
    first = file_tree(out)
    # a different seed and k=3 would rewrite _01 and _02: refused, nothing touched
    code, _, err = cli(["separate", song, "-k", "3", "-o", out, "--seed", "2", *FAST])
    assert code == 1 and "--force" in one_line_error(err, prefix=None)
    assert file_tree(out) == first
    assert cli(["separate", song, "-k", "3", "-o", out, "--seed", "2", "--force", *FAST])[0] == 0
    assert len(file_tree(out)) == 3


def test_failure_after_the_first_file_leaves_no_outputs_and_no_temporaries(tmp_path, monkeypatch, cli,
                                                                           one_line_error, write_audio,
                                                                           file_tree, tones):
    from nmfaudio import audio

    real_write = audio.write_wav
    written = []

    def fail_after_first(path, y, sr, **kwargs):
        if written:
            raise OSError(28, "No space left on device (simulated)", str(path))
        real_write(path, y, sr, **kwargs)
        written.append(Path(path))

    monkeypatch.setattr(audio, "write_wav", fail_after_first)
    song = write_audio(tmp_path / "song.wav", tones())
    out = tmp_path / "out"
    out.mkdir()
    (out / "unrelated.txt").write_text("keep")
    code, _, err = cli(["separate", song, "-k", "3", "-o", out, *FAST])
    assert code == 1
    assert "No space left on device" in one_line_error(err, prefix=None)
    assert written and not written[0].exists()  # the first temporary file was written, then removed
    assert file_tree(out) == {"unrelated.txt": b"keep"}  # no track, no hidden .part file; the folder stays


def test_failure_with_force_keeps_the_old_outputs(tmp_path, monkeypatch, cli, write_audio, file_tree, tones):
    from nmfaudio import audio

    song = write_audio(tmp_path / "song.wav", tones())
    out = tmp_path / "out"
    assert cli(["separate", song, "-k", "2", "-o", out, *FAST])[0] == 0
    old = file_tree(out)
    real_write = audio.write_wav

    calls = []

    def fail_second(path, y, sr, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(5, "Input/output error (simulated)", str(path))
        real_write(path, y, sr, **kwargs)

    monkeypatch.setattr(audio, "write_wav", fail_second)
    assert cli(["separate", song, "-k", "2", "-o", out, "--seed", "9", "--force", *FAST])[0] == 1
    assert file_tree(out) == old  # the replacements only happen once every file is written


def test_subprocess_usage_error(tmp_path, one_line_error, write_audio, tones, nmfaudio_process):
    # (successful subprocess runs: test_two_runs_in_parallel_do_not_interfere)
    song = write_audio(tmp_path / "song.wav", tones(channels=2))
    bad = nmfaudio_process("separate", song, "-k", "zero", "-o", tmp_path / "out")
    stdout, err = bad.communicate()
    assert bad.returncode == 2 and stdout == ""
    assert "'zero' is not a whole number" in one_line_error(err, prefix=None)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_midway_leaves_no_partial_files(signum, code, tmp_path, one_line_error, write_audio,
                                                 nmfaudio_process, rng):
    # 20 s of six tones, k=6 and up to 100000 iterations: the run is still factorizing when
    # the signal comes (once its marker is in the output folder — it is set up and the
    # factorization starts — before any track is written; a state, not a fixed delay).
    t = np.arange(20 * SR) / SR
    y = sum(0.1 * np.sin(2 * np.pi * f * t) * (rng.random() < 0.5 + 0.5 * np.sin(t * (1 + i)))
            for i, f in enumerate((220, 330, 440, 660, 880, 1320)))
    song = write_audio(tmp_path / "long.wav", np.asarray(y, np.float32))
    out = tmp_path / "out"
    process = nmfaudio_process("separate", song, "-k", "6", "-o", out, "--max-iter", "100000")
    wait_for(lambda: any(out.glob(".nmfaudio-run-*")), process)
    process.send_signal(signum)
    _, err = process.communicate()
    assert process.returncode == code
    assert "no partial outputs were kept" in one_line_error(err, prefix=None)
    assert not out.exists()  # no track, no temporary file, no empty folder


@pytest.mark.parametrize("phase", ["hits", "write"])
def test_a_signal_after_the_fit_publishes_nothing(phase, tmp_path, cli, one_line_error, write_audio, tones,
                                                   monkeypatch):
    # SIGTERM while the hits are picked or the files written (after the fit's last
    # iteration, the last safe point): the signal waited for the end of the run, so every
    # output was published and the run then exited 143 "terminated; no partial outputs
    # were kept" (tour7: a 1-minute file with --plot --midi, SIGTERM after 4 s)
    import os

    from nmfaudio import audio
    from nmfaudio.drums.separation_result import DrumSeparation

    def signalled(function):
        def run(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGTERM)  # recorded (deferred), not raised here
            return function(*args, **kwargs)
        return run

    if phase == "hits":
        monkeypatch.setattr(DrumSeparation, "hits", signalled(DrumSeparation.hits))
    else:
        monkeypatch.setattr(audio, "write_wav", signalled(audio.write_wav))
    song = write_audio(tmp_path / "song.wav", tones(channels=2))
    out = tmp_path / "out"
    code, _, err = cli(["drums", song, "-o", out, "--max-iter", "5", "--midi"])
    assert code == 143
    assert "no partial outputs were kept" in one_line_error(err, prefix=None)
    assert not out.exists()  # no output, no temporary file, no folder


def test_two_runs_in_parallel_do_not_interfere(tmp_path, write_audio, file_tree, tones, nmfaudio_process):
    song = write_audio(tmp_path / "song.wav", tones(channels=2))
    runs = [nmfaudio_process("separate", song, "-k", "2", "-o", tmp_path / name, "--seed", "3", *FAST)
            for name in ("a", "b")]
    for run in runs:
        out, err = run.communicate()
        assert run.returncode == 0, err
        assert "2 components" in out
    a, b = file_tree(tmp_path / "a"), file_tree(tmp_path / "b")
    assert sorted(a) == ["song_component_01.wav", "song_component_02.wav"]
    assert a == b  # same input and seed: the same bytes, nothing mixed up or missing


# --- long file names ------------------------------------------------------------------------


def test_an_output_name_near_the_file_systems_limit_is_written(tmp_path, cli, write_audio, file_tree, tones):
    # 235 characters: every output (<= 248 bytes) fits the 255-byte limit, but the hidden
    # temporary file ".<name>.<8 hex>.part" (263 bytes) did not: on main before 2026-12-05
    # the run failed after the separation with "File name too long: '.../.aaa....part'"
    song = write_audio(tmp_path / ("a" * 235 + ".wav"), tones(channels=2))
    out = tmp_path / "out"
    code, _, err = cli(["drums", song, "-o", out, "--max-iter", "5", "--midi", "--onsets"])
    assert code == 0, err
    names = sorted(file_tree(out))
    assert len(names) == 8 and not any(name.startswith(".") for name in names), names
    assert all(len(name.encode()) <= 255 for name in names)


def test_an_output_name_over_the_limit_is_refused_before_any_work(tmp_path, cli, one_line_error, write_audio,
                                                                  tones, monkeypatch):
    # 245 characters + "_residual.wav": 258 bytes, no file system takes it; said before
    # the separation starts (which is never called), naming the output and the fix
    import nmfaudio.drums

    song = write_audio(tmp_path / ("é" * 122 + "x.wav"), tones(channels=2))  # a 245-byte stem (UTF-8)
    monkeypatch.setattr(nmfaudio.drums, "separate_drums", lambda *a, **k: pytest.fail("the work started"))
    code, _, err = cli(["drums", song, "-o", tmp_path / "out", "--max-iter", "5"])
    assert code == 1
    line = one_line_error(err, "bytes long, more than the 255", "shorter name")
    assert "_residual.wav" in line or "_cymbals.wav" in line or "_kick.wav" in line
    assert not (tmp_path / "out").exists()


def test_a_folder_made_on_the_way_to_the_output_folder_is_not_left(tmp_path, cli, write_audio, tones, monkeypatch):
    """-o out/sub/.. made out/sub on the way (as mkdir -p does) and left it there, empty,
    once the tracks were written in out (review58; drums --onsets out/sub/../x.csv the same)."""
    monkeypatch.chdir(tmp_path)
    song = write_audio(tmp_path / "song.wav", tones())
    assert cli(["separate", song, "-k", "2", "-o", "out/sub/..", *FAST])[0] == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["song_component_01.wav", "song_component_02.wav"]


def test_a_parent_removed_by_another_run_meanwhile_is_made_again(tmp_path, monkeypatch):
    """Another run's folder made on the way (q of '-o q/sub/..') is removed at its end, when
    empty; a run making q/x in it at that moment stopped on "cannot create the folder -o
    'q/x' (No such file or directory)" instead of making q again (review59)."""
    from pathlib import Path

    from nmfaudio.cli import output_folder

    (tmp_path / "q").mkdir()
    mkdir = Path.mkdir
    ended = []

    def other_run_ends_first(path, *args, **kwargs):
        if path == tmp_path / "q" / "x" and not ended:
            (tmp_path / "q").rmdir()  # the other run's cleanup, between our look and our mkdir
            ended.append(True)
        return mkdir(path, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", other_run_ends_first)
    with output_folder(tmp_path / "q" / "x") as folder:
        (folder / "a.wav").write_bytes(b"")
    assert sorted(p.name for p in (tmp_path / "q" / "x").iterdir()) == ["a.wav"]


@pytest.mark.parametrize("command", ["separate", "drums", "drums --onsets", "spikes"])
def test_the_paths_reported_through_a_folder_made_on_the_way_exist(command, tmp_path, cli, write_audio, tones,
                                                                    monkeypatch):
    """-o out/sub/.. (and drums --onsets out/x/../h.csv) wrote in out and removed out/sub at
    the end (review58), but the summary and the --json record still named every file through
    it, 'out/sub/../song_kick.wav', a path that no longer opens (mend60).  They name
    'out/song_kick.wav' now, and no folder is left in out."""
    import json

    monkeypatch.chdir(tmp_path)
    song = write_audio(tmp_path / "song.wav", tones())
    if command == "spikes":
        rng = np.random.default_rng(0)
        np.save(tmp_path / "units.npy", rng.standard_normal((30, 20)).astype(np.float32))
        args = ["spikes", "units.npy", "-k", "2", "-o", "out/sub/.."]
    elif command == "separate":
        args = ["separate", song, "-k", "2", "-o", "out/sub/..", *FAST]
    else:
        hits = ["--onsets", "out/x/../h.csv"] if command == "drums --onsets" else []
        args = ["drums", song, "-o", "out" if hits else "out/sub/..", "--max-iter", "5", *hits]
    code, out, err = cli([*args, "--json"])
    assert code == 0, err
    record = json.loads(out)
    named = ([record["labels"], record["plot"]] if command == "spikes" else
             record["outputs"])  # the stems, then the hit file
    assert all(Path(path).parent == Path("out") for path in named), named
    assert all(Path(path).is_file() for path in named)
    assert not [path.name for path in (tmp_path / "out").iterdir() if path.is_dir()]
