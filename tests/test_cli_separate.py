"""``nmfaudio separate`` through ``main([...])``: outputs, summary, JSON, plot, errors,
no overwriting without --force, no partial files."""

import io
import json
import os

import numpy as np
import pytest
import soundfile as sf

import nmfaudio
from nmfaudio.cli import main

SR = 8000
FAST = ["--n-fft", "512", "--hop-length", "128", "--max-iter", "60"]


def _mixture(stereo=True, seconds=1.0):
    t = np.arange(int(seconds * SR)) / SR
    low = 0.5 * np.sin(2 * np.pi * 440 * t) * (t < 0.6)
    high = 0.4 * np.sin(2 * np.pi * 1320 * t) * (t > 0.4)
    y = np.stack([low + 0.3 * high, 0.3 * low + high]) if stereo else low + high
    return y.astype(np.float32)


@pytest.fixture
def song(tmp_path):
    path = tmp_path / "song.wav"
    nmfaudio.save(path, _mixture(), SR)
    return path


def test_writes_one_wav_per_component_that_add_up(song, tmp_path, capsys):
    out = tmp_path / "stems"
    assert main(["separate", str(song), "-k", "2", "-o", str(out), *FAST]) == 0
    names = sorted(os.listdir(out))
    assert names == ["song_component_01.wav", "song_component_02.wav"]
    tracks = []
    for name in names:
        info = sf.info(out / name)
        assert info.samplerate == SR and info.channels == 2 and info.frames == SR
        tracks.append(nmfaudio.load(out / name)[0])
    mixture = nmfaudio.load(song)[0]
    assert np.abs(np.sum(tracks, axis=0) - mixture).max() <= 1e-4 * np.abs(mixture).max()  # float32 tolerance
    summary = capsys.readouterr().out
    assert "2 components" in summary and "final loss" in summary and "song_component_02.wav" in summary


def test_json_summary_and_plot(song, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["separate", str(song), "-k", "3", "-o", str(out), "--beta", "is", "--plot", "--json", *FAST]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_components"] == 3 and summary["beta"] == "itakura-saito"
    assert summary["sr"] == SR and summary["channels"] == 2 and summary["n_samples"] == SR
    assert [os.path.basename(c["path"]) for c in summary["components"]] == [
        f"song_component_0{i}.wav" for i in (1, 2, 3)]
    assert summary["n_iter"] >= 1 and np.isfinite(summary["final_loss"]) and summary["seconds"] >= 0
    centroids = [c["centroid_hz"] for c in summary["components"]]
    assert centroids == sorted(centroids)  # ordered low to high
    plot = out / "song_separation.png"
    assert summary["plot"] == str(plot)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_bar_goes_to_stderr_on_a_terminal(song, tmp_path, monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["separate", str(song), "-k", "2", "-o", str(tmp_path / "o"), *FAST]) == 0
    assert "NMF" in terminal.getvalue() and "it" in terminal.getvalue()
    assert "NMF" not in capsys.readouterr().out  # stdout keeps only the summary


def test_same_seed_same_bytes(song, tmp_path):
    for name in ("a", "b"):
        assert main(["separate", str(song), "-k", "2", "-o", str(tmp_path / name), "--seed", "5", *FAST]) == 0
    for i in (1, 2):
        file = f"song_component_0{i}.wav"
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_existing_output_is_refused_before_any_work_and_force_replaces(song, tmp_path, capsys, one_line_error):
    out = tmp_path / "out"
    out.mkdir()
    (out / "song_component_02.wav").write_bytes(b"keep me")
    assert main(["separate", str(song), "-k", "2", "-o", str(out), *FAST]) == 1
    one_line_error(capsys.readouterr().err, "song_component_02.wav", "--force")
    assert sorted(os.listdir(out)) == ["song_component_02.wav"]
    assert (out / "song_component_02.wav").read_bytes() == b"keep me"
    assert main(["separate", str(song), "-k", "2", "-o", str(out), "--force", *FAST]) == 0
    assert sf.info(out / "song_component_02.wav").frames == SR



def test_force_with_fewer_components_names_an_earlier_runs_leftovers(song, tmp_path, capsys):
    """-k 3 then -k 2 --force: the third track is the earlier run's and the folder's tracks no
    longer add up to the input; a note on stderr names it (before review63b nothing was
    said), and a run that rewrites every track of its name says nothing."""
    out = tmp_path / "out"
    assert main(["separate", str(song), "-k", "3", "-o", str(out), *FAST]) == 0
    capsys.readouterr()
    (out / "other_component_07.wav").write_bytes(b"another input's")  # not this input's: not named
    assert main(["separate", str(song), "-k", "2", "-o", str(out), "--force", *FAST]) == 0
    captured = capsys.readouterr()
    notes = [line for line in captured.err.splitlines() if line.startswith("nmfaudio: note:")]
    assert len(notes) == 1, captured.err
    assert "song_component_03.wav" in notes[0] and "did not write" in notes[0] and "other_" not in notes[0]
    assert "song_component_01.wav" not in notes[0]
    assert "note" not in captured.out  # stdout keeps the summary (and --json its record) alone
    tracks = [sf.read(out / f"song_component_0{i}.wav", dtype="float32")[0] for i in (1, 2, 3)]
    mixture = sf.read(song, dtype="float32")[0]
    assert np.max(np.abs(tracks[0] + tracks[1] - mixture)) <= 1e-5  # this run's two add up ...
    assert np.max(np.abs(sum(tracks) - mixture)) > 1e-3  # ... with the leftover they do not
    (out / "song_component_03.wav").unlink()
    assert main(["separate", str(song), "-k", "2", "-o", str(out), "--force", *FAST]) == 0
    assert "note" not in capsys.readouterr().err

def test_a_failure_while_writing_leaves_no_partial_files(song, tmp_path, monkeypatch, capsys, one_line_error):
    from nmfaudio import audio

    real_write = audio.write_wav
    calls = []

    def failing_write(path, y, sr, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")
        real_write(path, y, sr, **kwargs)

    monkeypatch.setattr(audio, "write_wav", failing_write)
    out = tmp_path / "out"
    assert main(["separate", str(song), "-k", "2", "-o", str(out), *FAST]) == 1
    one_line_error(capsys.readouterr().err, "disk full")
    assert not out.exists()  # no WAV, no .part, and the folder the run created is gone


@pytest.mark.parametrize("case", ["missing", "not audio", "empty", "nan"])
def test_bad_input_files_fail_with_one_line(case, tmp_path, capsys, one_line_error):
    path = tmp_path / "input.wav"
    if case == "not audio":
        path.write_text("this is not a WAV file")
    elif case == "empty":
        sf.write(path, np.zeros((0, 2)), SR)
    elif case == "nan":
        sf.write(path, np.array([0.0, np.nan, 0.5, 0.1]), SR, subtype="FLOAT")
    expected = {"missing": "does not exist", "not audio": "cannot read", "empty": "no samples", "nan": "NaN"}[case]
    out = tmp_path / "out"
    assert main(["separate", str(path), "-k", "2", "-o", str(out), *FAST]) == 1
    one_line_error(capsys.readouterr().err, expected)
    assert not out.exists() or os.listdir(out) == []


@pytest.mark.parametrize("k", ["0", "-1", "two", "1.5"])
def test_bad_k_is_a_usage_error(song, tmp_path, k, capsys):
    assert main(["separate", str(song), "-k", k, "-o", str(tmp_path / "o")]) == 2
    assert "-k" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, code, needle", [
    (["--beta", "euclid"], 2, "--beta"),
    (["--mask-power", "0"], 2, "--mask-power"),
    (["--hop-length", "4096"], 1, "--hop-length 4096 must be <= --n-fft 2048"),
], ids=["unknown beta", "mask power 0", "hop > n_fft"])
def test_bad_options(song, tmp_path, args, code, needle, capsys):
    assert main(["separate", str(song), "-k", "2", "-o", str(tmp_path / "o"), *args]) == code
    assert needle in capsys.readouterr().err


def test_mono_input_gives_mono_tracks(tmp_path):
    path = tmp_path / "mono.flac"
    sf.write(path, _mixture(stereo=False), SR, subtype="PCM_24")
    assert main(["separate", str(path), "-k", "2", "-o", str(tmp_path), *FAST]) == 0
    info = sf.info(tmp_path / "mono_component_01.wav")
    assert info.channels == 1 and info.frames == SR and info.samplerate == SR


@pytest.mark.parametrize("extras, n_figures", [([], 0), (["--plot"], 1)])
def test_free_space_asked_for_counts_the_figure(song, tmp_path, monkeypatch, extras, n_figures):
    """The free space asked for before `separate` (and at the write) is the tracks' plus a
    bound for the --plot figure, as `drums` asks; before, the check before the work asked
    for the tracks' alone."""
    from nmfaudio import audio
    from nmfaudio.batch import FIGURE_BYTES

    asked = []
    monkeypatch.setattr(audio, "check_free_space", lambda folder, need: asked.append(need))
    out = tmp_path / "out"
    assert main(["separate", str(song), "-k", "2", "-o", str(out), *extras, *FAST]) == 0
    info = sf.info(song)
    tracks = audio.audio_bytes(info.frames, info.channels, 2)  # 32-bit float WAV
    assert len(asked) == 2 and set(asked) == {tracks + n_figures * FIGURE_BYTES}
    assert sum(p.suffix == ".png" for p in out.iterdir()) == n_figures


@pytest.mark.filterwarnings("ignore::UserWarning")  # max_iter=3: not converged
@pytest.mark.parametrize("text", ["frobenius", "fro", "euclidean", "kullback-leibler", "kl", "KL", " kl ",
                                  "itakura-saito", "Itakura-Saito", "is", "euclid", "ks", "l2", "2", "0.5"])
def test_beta_names_are_the_same_in_the_cli_and_the_api(text):
    """``--beta`` and the library's ``beta=`` take the same names: the CLI took fro, euclidean,
    kl and is, which factorize, separate and separate_drums refused ("beta='kl' is not a known
    divergence"); a name gives the same β either way, and the result names it in full."""
    import argparse

    from nmfaudio.cli.separate import _beta
    from nmfaudio.nmf.divergence import beta_from_name

    try:
        cli_value = _beta(text)
    except argparse.ArgumentTypeError:
        cli_value = None
    numeric = cli_value is not None and not isinstance(cli_value, str)
    try:
        api_value = beta_from_name(float(text) if numeric else text)
    except ValueError:
        api_value = None
    assert (cli_value is None) == (api_value is None), (cli_value, api_value)
    if isinstance(cli_value, str):  # the name the CLI passes on gives the same β as the text given
        assert beta_from_name(cli_value) == api_value
        rng = np.random.default_rng(0)
        result = nmfaudio.separate(rng.standard_normal(2048).astype(np.float32), 8000, n_components=2, beta=text,
                                   n_fft=256, hop_length=64, max_iter=3, random_state=0)
        assert result.beta == cli_value
