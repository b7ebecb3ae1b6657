"""Issue 19: nothing lost, nothing hangs.  Inputs are never overwritten (whatever the
links, with or without --force); pipes and devices are refused instead of read forever;
damaged or hostile headers (audio, .npy, .npz, PNG) and absurd sizes are refused before
anything is allocated; a full disk is named with what the outputs need.

Every hostile file is made here, at test time, and is small.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import struct
import warnings
import zipfile
import zlib
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hostile import FAST, SR, cli, one_error_line, start_cli, tones, write

import nmfaudio
from nmfaudio import audio

# --- no output is ever an input ----------------------------------------------------------


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_input_linked_to_an_output_path_is_never_replaced(force, tmp_path, capsys, monkeypatch):
    # The reproduction: cur.wav -> out/cur_component_01.wav, then separate into out.
    monkeypatch.chdir(tmp_path)
    out = Path("out")
    out.mkdir()
    recording = write(out / "cur_component_01.wav", tones(), subtype="FLOAT")
    before = recording.read_bytes()
    os.symlink(recording, "cur.wav")
    code, _, err = cli(["separate", "cur.wav", "-k", "2", "-o", out, *FAST, *force], capsys)
    assert code == 1
    line = one_error_line(err)
    assert "is the input 'cur.wav' (through a link)" in line and "even with --force" in line
    assert recording.read_bytes() == before
    assert sorted(os.listdir(out)) == ["cur_component_01.wav"]  # nothing written, nothing left


@pytest.mark.parametrize("link", ["same path", "hard link", "symlink"])
def test_image_compress_never_replaces_its_photo(link, tmp_path, capsys):
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(0).random((32, 24)) * 255).astype(np.uint8)).save(photo)
    before = photo.read_bytes()
    output = {"same path": photo, "hard link": tmp_path / "hard.png", "symlink": tmp_path / "soft.png"}[link]
    if link == "hard link":
        os.link(photo, output)
    elif link == "symlink":
        os.symlink(photo, output)
    code, _, err = cli(["image", "compress", photo, "-r", "3", "-o", output, "--force"], capsys)
    assert code == 1 and "never overwrites an input" in one_error_line(err)
    assert photo.read_bytes() == before


def test_api_separate_file_refuses_to_write_over_its_input(tmp_path):
    from nmfaudio.blockwise import separate_file

    out = tmp_path / "out"
    out.mkdir()
    recording = write(out / "song_component_01.wav", tones(4000), subtype="FLOAT")
    before = recording.read_bytes()
    os.symlink(recording, tmp_path / "song.wav")
    with pytest.raises(ValueError, match="is the input"):
        separate_file(tmp_path / "song.wav", out, n_components=2, block_seconds=0.25, overwrite=True,
                      n_fft=256, hop_length=64, max_iter=5)
    assert recording.read_bytes() == before


def test_api_separation_save_never_writes_over_its_input(tmp_path):
    # Before: re-separating a stem (take_component_01.wav) and saving it beside itself under
    # its old name with overwrite=True replaced the input with its own first component.
    recording = write(tmp_path / "take_component_01.wav", tones(4000), subtype="FLOAT")
    before = recording.read_bytes()
    result = nmfaudio.separate(recording, n_components=2, n_fft=256, hop_length=64, max_iter=5)
    with pytest.raises(ValueError, match="is the input .* even with overwrite=True"):
        result.save(tmp_path, name="take", overwrite=True)
    assert recording.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["take_component_01.wav"]  # all or nothing


@pytest.mark.parametrize("write_to", ["save", "write_midi", "write_onsets"])
def test_api_drum_separation_never_writes_over_its_input(write_to, tmp_path):
    # The same for separate_drums' result: a stem re-separated and saved under its own name,
    # or hits written to the recording's path (a symlink to it too), with overwrite=True.
    recording = write(tmp_path / "take_kick.wav", tones(8000, sr=22050), sr=22050, subtype="FLOAT")
    os.symlink(recording, tmp_path / "link.wav")
    before = recording.read_bytes()
    result = nmfaudio.separate_drums(recording, max_iter=5)
    assert result.source == recording
    with pytest.raises(ValueError, match="is the input .* even with overwrite=True"):
        if write_to == "save":
            result.save(tmp_path, name="take", overwrite=True)
        else:
            getattr(result, write_to)(tmp_path / "link.wav", overwrite=True)
    assert recording.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["link.wav", "take_kick.wav"]
    assert nmfaudio.separate_drums(np.zeros(8000, np.float32), sr=22050, max_iter=5).source is None


# --- inputs that are not regular files ----------------------------------------------------


def test_a_fifo_input_is_refused_at_once(tmp_path):
    # Before: reading a FIFO nobody writes to never returned.  A subprocess, so that a
    # regression is ended by the suite's hang guard (pytest-timeout) and fails.
    fifo = tmp_path / "in.wav"
    os.mkfifo(fifo)
    process = start_cli("separate", fifo, "-k", "2", "-o", tmp_path / "out")
    _, err = process.communicate()
    assert process.returncode == 1
    assert "is a pipe, not a file; pipes and streams are not supported" in one_error_line(err)
    assert not (tmp_path / "out").exists()


def test_stdin_as_a_pipe_says_pipes_are_not_supported(tmp_path):
    song = write(tmp_path / "t.wav", tones())
    with open(song, "rb") as source:
        process = start_cli("separate", "/dev/stdin", "-k", "2", "-o", tmp_path / "out", *FAST, stdin=source)
        _, err = process.communicate()
    # a redirected file (< t.wav) is a regular file and works; a pipe (cat t.wav |) does not
    assert process.returncode == 0, err
    cat = start_cli("separate", "/dev/stdin", "-k", "2", "-o", tmp_path / "piped", stdin=-1)
    _, err = cat.communicate(input=None)
    assert cat.returncode == 1 and "pipes and streams are not supported" in one_error_line(err)


@pytest.mark.parametrize("reader", ["load", "audio_info"])
def test_api_refuses_devices(reader):
    with pytest.raises(ValueError, match="is a device, not a file"):
        getattr(audio, reader)("/dev/zero")


# --- damaged or hostile headers -------------------------------------------------------------


def _flac_claiming(path: Path, samples: int) -> Path:
    """A real 0.1 s FLAC whose STREAMINFO claims ``samples`` samples."""
    write(path, tones(800))
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC"
    offset = 8 + 10  # "fLaC", block header, then min/max block and frame sizes
    field = int.from_bytes(data[offset:offset + 8], "big")
    field = (field & ~((1 << 36) - 1)) | samples
    data[offset:offset + 8] = field.to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path


def test_flac_declaring_hours_is_a_damaged_header(tmp_path, capsys):
    bad = _flac_claiming(tmp_path / "bad.flac", (1 << 36) - 1)
    assert sf.info(bad).frames == (1 << 36) - 1  # libsndfile believes the header
    with pytest.raises(ValueError, match="damaged header: it declares 68719476735 samples"):
        nmfaudio.load(bad)
    code, _, err = cli(["separate", bad, "-k", "2", "-o", tmp_path / "out"], capsys)
    assert code == 1 and "damaged header" in one_error_line(err) and "memory" not in err
    # Ten minutes of digital silence: a tiny file whose honest header declares 19 MB of
    # samples — verified (the last sample is there) and read.
    good = write(tmp_path / "good.flac", np.zeros(SR * 600, np.float32))
    assert good.stat().st_size * 64 < SR * 600 * 4
    assert nmfaudio.load(good)[0].shape == (SR * 600,)


def test_npy_declaring_terabytes_is_refused_before_loading(tmp_path, capsys):
    path = tmp_path / "big.npy"
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f8", "fortran_order": False,
                                                      "shape": (10**6, 10**6)})
        handle.write(b"\0" * 800)
    code, _, err = cli(["spikes", path, "-k", "3", "-o", tmp_path / "out"], capsys)
    line = one_error_line(err)
    assert code == 1 and "damaged header" in line and "(1000000, 1000000)" in line
    assert "memory" not in line and not (tmp_path / "out").exists()


def _npz_bomb(path: Path, shape=(1025, 3, 40000)) -> Path:
    """An .npz of zeros: a few hundred KB that inflate to hundreds of MB, sizes honest."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("P.npy", "w", force_zip64=True) as handle:
            np.lib.format.write_array_header_1_0(handle, {"descr": "<f4", "fortran_order": False, "shape": shape})
            block = bytes(1 << 20)
            left = int(np.prod(shape)) * 4
            while left > 0:
                handle.write(block[:min(left, len(block))])
                left -= len(block)
    return path


def test_template_npz_bomb_is_refused_without_inflating(tmp_path):
    import tracemalloc

    bomb = _npz_bomb(tmp_path / "bomb.npz")
    assert bomb.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="would inflate to 492.0 MB"):
            nmfaudio.DrumTemplates.load(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"{peak} bytes allocated to refuse it"


def test_npz_member_declaring_more_than_it_holds_is_damaged(tmp_path):
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as archive:
        handle = io.BytesIO()
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f4", "fortran_order": False, "shape": (10**5, 10**4)})
        archive.writestr("images.npy", handle.getvalue() + bytes(64))
    with pytest.raises(ValueError, match=r"\(images.npy\) has a damaged header"):
        audio.check_array_file(path)


def test_absurd_template_parameters_are_refused_before_the_work(tmp_path, capsys):
    # The 1.6 KB file: sr = 1, n_fft = 2, 200 frames — 200 s templates (> 45 s, 760 MB before).
    P = np.random.default_rng(0).random((2, 3, 200)).astype(np.float32)
    absurd = tmp_path / "absurd.npz"
    np.savez(absurd, P=P, classes=np.array(["kick", "snare", "hihat"]), sr=1, n_fft=2, hop_length=1, window="hann")
    song = write(tmp_path / "t.wav", tones())
    code, _, err = cli(["drums", song, "-o", tmp_path / "out", "--templates", absurd], capsys)
    line = one_error_line(err)
    assert code == 1 and "holds unusable drum templates: 200 frames of hop 1 at 1 Hz" in line
    assert not (tmp_path / "out").exists()


def test_template_length_is_checked_before_reading_one_shots(tmp_path, capsys, monkeypatch):
    for name in ("kick", "snare", "hihat"):
        (tmp_path / "kit" / name).mkdir(parents=True)
        write(tmp_path / "kit" / name / "a.wav", tones(400))
    monkeypatch.setattr(audio, "load", lambda *a, **k: pytest.fail("one-shots read before the check"))
    code, _, err = cli(["templates", "learn", tmp_path / "kit", "-o", tmp_path / "kit.npz",
                        "--frames", "10000000"], capsys)
    line = one_error_line(err)
    assert code == 1 and "--frames 10000000" in line and "use at most 172 frames" in line
    assert "memory" not in line


def test_a_kit_is_held_to_its_own_classes_default_lengths(tmp_path, capsys):
    # `templates learn kit --sr 2000` on a kick/snare/hihat kit (8 frames each: 2.05 s) was
    # refused for the cymbals' default 24 frames, which no folder of it asked for, and the
    # message named `--frames 24`, which nobody typed (tour14).  The check reads the
    # classes learned; a default too long for the rate is called the default, with a hop
    # that fits; a kit with cymbals/ is held to their 24 frames.
    for name in ("kick", "snare", "hihat"):
        (tmp_path / "kit" / name).mkdir(parents=True)
        write(tmp_path / "kit" / name / "a.wav", tones(400))
    code, out, _ = cli(["templates", "learn", tmp_path / "kit", "-o", tmp_path / "kit.npz", "--sr", "2000"], capsys)
    assert code == 0 and "sr 2000" in out and (tmp_path / "kit.npz").is_file()
    (tmp_path / "kit" / "cymbals").mkdir()
    write(tmp_path / "kit" / "cymbals" / "a.wav", tones(400))
    code, _, err = cli(["templates", "learn", tmp_path / "kit", "-o", tmp_path / "kit2.npz", "--sr", "2000"], capsys)
    line = one_error_line(err)
    assert code == 1 and "the default template length for cymbals, 24 frames, at --hop-length 512 and --sr 2000 " \
        "lasts 6.14 s" in line and line.endswith("use --hop-length 333 or smaller, or --frames 15 (it sets every class's length)")
    assert "--frames 24" not in line and not (tmp_path / "kit2.npz").exists()
    code, _, err = cli(["templates", "learn", tmp_path / "kit", "-o", tmp_path / "kit2.npz", "--sr", "100"], capsys)
    assert code == 1 and one_error_line(err).endswith("use --hop-length 16 or smaller")  # no frame count fits
    code, _, _ = cli(["templates", "learn", tmp_path / "kit", "-o", tmp_path / "kit2.npz", "--sr", "2000",
                      "--hop-length", "333"], capsys)
    assert code == 0  # the hop offered fits (24 x 333 / 2000 = 4.0 s)


def test_a_misspelt_class_in_a_frames_table_is_named(tmp_path):
    # DrumTemplates.from_folder(kit, n_frames={"kik": 4}) learned the kick at the default
    # 8 frames without a word (tour14); a name that is no drum class is refused, naming
    # it, before any one-shot is read; a drum class the kit lacks is fine (one table for
    # several kits), and the lengths given are used.
    from nmfaudio.drums import DrumTemplates

    for name in ("kick", "snare"):
        (tmp_path / "kit" / name).mkdir(parents=True)
        write(tmp_path / "kit" / name / "a.wav", tones(400))
    with pytest.raises(ValueError, match=r"^n_frames names 'kik', which is neither a class learned here "
                                         r"\(kick, snare\) nor a drum class .*; check its spelling$"):
        DrumTemplates.from_folder(tmp_path / "kit", n_frames={"kik": 4})
    templates = DrumTemplates.from_folder(tmp_path / "kit", n_frames={"kick": 4, "cymbals": 30})
    assert templates.P.shape[-1] == 8  # the snare's default 8; the kick's 4 (zero-padded to the longest)
    assert not templates.P[:, templates.classes.index("kick"), 4:].any()


def _png_declaring(path: Path, width: int, height: int) -> Path:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(100)))
                     + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("side", [30000, 10000])  # above twice Pillow's limit (its error), and above it (its warning)
def test_png_declaring_a_huge_picture_is_refused(side, tmp_path, capsys):
    bomb = _png_declaring(tmp_path / "bomb.png", side, side)
    assert bomb.stat().st_size < 300
    code, _, err = cli(["image", "compress", bomb, "-r", "3", "-o", tmp_path / "b.png"], capsys)
    line = one_error_line(err)
    assert code == 1 and f"declares {side} x {side} pixels" in line and "report this as a bug" not in line


def test_image_rank_larger_than_the_picture_is_refused(tmp_path, capsys):
    from PIL import Image

    photo = tmp_path / "p.png"
    Image.fromarray((np.random.default_rng(0).random((16, 12, 3)) * 255).astype(np.uint8)).save(photo)
    code, _, err = cli(["image", "compress", photo, "-r", "100000", "-o", tmp_path / "o.png"], capsys)
    line = one_error_line(err)
    assert code == 1 and "--rank 100000 is larger than the picture" in line and "at most 16" in line
    assert "use --rank 16 or less" in line  # the library's rank= in the command's words
    assert not (tmp_path / "o.png").exists()


def test_image_sweep_ranks_beyond_the_stack_are_refused_before_any_fit(tmp_path, capsys, monkeypatch):
    import nmfaudio.adapters.image

    stack = tmp_path / "stack.npz"
    np.savez(stack, images=np.random.default_rng(0).integers(0, 256, (5, 8, 8), dtype=np.uint8))
    monkeypatch.setattr(nmfaudio.adapters.image, "denoise_sweep", lambda *a, **k: pytest.fail("fits ran"))
    code, _, err = cli(["image", "sweep", stack, "--ranks", "2,6,100"], capsys)
    line = one_error_line(err)
    assert code == 1 and "--ranks 6,100: 5 pictures of 8 x 8 pixels have at most 5 independent parts" in line


# --- runaway work from tiny inputs --------------------------------------------------------


def test_more_components_than_frames_is_refused_naming_the_frames(tmp_path, capsys):
    song = write(tmp_path / "short.wav", tones(800))  # 0.1 s: 13 frames at hop 64
    code, _, err = cli(["separate", song, "-k", "10000", "-o", tmp_path / "out", *FAST], capsys)
    line = one_error_line(err)
    # the batch's message (tests/test_batch.py), in the CLI's long option names
    assert code == 1 and "--n-components 10000 is more than the 13 spectrogram frames of 'short.wav'" in line
    assert "use --n-components 13 or less" in line and not (tmp_path / "out").exists()
    stereo = write(tmp_path / "stereo.wav", tones(800, channels=2))  # each channel adds columns
    assert cli(["separate", stereo, "-k", "26", "-o", tmp_path / "ok", *FAST], capsys)[0] == 0


def test_more_components_than_bins_names_the_n_fft_that_holds_them(tmp_path, capsys):
    # 800 samples at hop 4: 201 frames, but n_fft 256 has 129 bins; 300 components need n_fft >= 598
    song = write(tmp_path / "short.wav", tones(800))
    code, _, err = cli(["separate", song, "-k", "300", "-o", tmp_path / "out", "--n-fft", "256",
                        "--hop-length", "4", "--max-iter", "5"], capsys)
    line = one_error_line(err)
    assert code == 1 and "--n-components 300 is more than the 129 frequency bins of --n-fft 256" in line
    assert "use --n-components 129 or less, or --n-fft 598 or more" in line and not (tmp_path / "out").exists()


def test_separate_in_python_refuses_more_components_than_frames_as_the_cli(tmp_path):
    """One check for Python and the command line: separate() split 0.1 s (13 frames at
    hop 64) into 20 tracks, in memory and block-wise, while the CLI refused (before
    2026-12-06, polish17).  The same words, in the library's names."""
    y = tones(800)
    song = write(tmp_path / "short.wav", y)
    frames = r"is more than the 13 spectrogram frames of {} \(0.1 s at hop_length=64\): at most 13 components"
    for kwargs in ({}, {"block_seconds": 0.05}):
        with pytest.raises(ValueError, match="^n_components=20 " + frames.format("the input")
                           + ".*use n_components=13 or less, or a longer recording$"):
            nmfaudio.separate(y, SR, n_components=20, n_fft=256, hop_length=64, **kwargs)
        with pytest.raises(ValueError, match="^n_components=20 " + frames.format("'short.wav'")):
            nmfaudio.separate(song, n_components=20, n_fft=256, hop_length=64, **kwargs)
    with pytest.raises(ValueError, match="13 spectrogram frames of the input \\(800 samples at hop_length=64\\)"):
        nmfaudio.separate(y, n_components=20, n_fft=256, hop_length=64)  # no sr: the length in samples
    with pytest.raises(ValueError, match="^n_components=20 " + frames.format("'short.wav'")):
        nmfaudio.blockwise.separate_file(song, tmp_path / "out", n_components=20, n_fft=256, hop_length=64)
    assert not (tmp_path / "out").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # five iterations: not converged
        assert nmfaudio.separate(y, SR, n_components=13, n_fft=256, hop_length=64, max_iter=5).W.shape[1] == 13
        # given templates (W) differ whatever the length: not limited
        W = np.random.default_rng(0).random((129, 20)).astype(np.float32)
        assert nmfaudio.separate(y, SR, n_components=20, n_fft=256, hop_length=64, W=W, fix_W=True,
                                 max_iter=5).components.shape == (20, 800)


@pytest.mark.parametrize("beta", ["1e9", "-6", "100"])
def test_absurd_beta_is_a_clear_error(beta, tmp_path, capsys):
    song = write(tmp_path / "t.wav", tones())
    code, _, err = cli(["separate", song, "-k", "2", "-o", tmp_path / "out", "--beta", beta, *FAST], capsys)
    line = one_error_line(err)
    assert code == 1 and f"--beta {float(beta)!r} is outside -5..5" in line
    with pytest.raises(ValueError, match="outside -5..5"):
        nmfaudio.factorize(np.ones((4, 4)), 2, beta=float(beta))


@pytest.mark.filterwarnings("ignore::nmfaudio.ConvergenceWarning")
@pytest.mark.parametrize("beta", [-5.0, 5.0])
def test_the_ends_of_the_beta_range_give_finite_fits(beta):
    # The range is what floating point handles: at its ends, tiny and large data still fit.
    rng = np.random.default_rng(1)
    for scale in (1e-30, 1.0, 1e30):
        V = rng.random((20, 15)) ** 3 * scale
        fit = nmfaudio.factorize(V, 2, beta=beta, max_iter=20, random_state=0)
        assert np.all(np.isfinite(fit.W)) and np.all(np.isfinite(fit.H)) and np.all(np.isfinite(fit.loss))


def test_soundfile_layout_is_refused_naming_the_transpose():
    y = np.zeros((4410, 2), np.float32)  # (n_samples, n_channels): soundfile's layout
    with pytest.raises(ValueError, match=r"shape \(4410, 2\), which looks like \(n_samples, n_channels\).*y\.T"):
        nmfaudio.separate(y, 44100, n_components=2)
    short_stereo = np.zeros((2, 1), np.float32)  # two channels of one sample: still audio
    assert audio.check_audio(short_stereo).shape == (2, 1)


# --- a full disk --------------------------------------------------------------------------

_Usage = namedtuple("_Usage", "total used free")


def test_full_disk_is_named_before_the_work(tmp_path, capsys, monkeypatch):
    song = write(tmp_path / "t.wav", tones(4000, channels=2))
    monkeypatch.setattr(shutil, "disk_usage", lambda path: _Usage(10**9, 10**9 - 5000, 5000))
    # by its dotted name: imported on first use (run alone, nmfaudio.pipeline is not loaded yet)
    monkeypatch.setattr("nmfaudio.pipeline.separate", lambda *a, **k: pytest.fail("work started"))
    code, _, err = cli(["separate", song, "-k", "3", "-o", tmp_path / "out", *FAST], capsys)
    line = one_error_line(err)
    # 3 tracks x 2 channels x 4000 samples x 4 bytes + headers = 108 KB
    assert code == 1 and "No space left on device: the device holding" in line
    assert "has 5 KB free and the outputs need about 108 KB" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("how", ["read-only device", "no write permission"])
@pytest.mark.parametrize("command", [["separate", "-k", "3", *FAST], ["drums", "--max-iter", "5"]])
def test_a_full_read_only_folder_is_named_read_only_not_full(how, command, tmp_path, capsys, monkeypatch):
    """A read-only output folder that is also full (a read-only mount reports no free
    space) was "No space left on device": the free-space check ran first, and freeing space
    would not have helped (mend62).  Root ignores permission bits, so both are simulated."""
    song = write(tmp_path / "t.wav", tones(4000, channels=2))
    out = tmp_path / "ro"
    out.mkdir()
    monkeypatch.setattr(shutil, "disk_usage", lambda path: _Usage(10**9, 10**9, 0))
    if how == "read-only device":
        real = os.statvfs
        flagged = namedtuple("_Statvfs", "f_flag")
        monkeypatch.setattr(os, "statvfs", lambda path: flagged(real(path).f_flag | os.ST_RDONLY)
                            if Path(path) == out else real(path))
    else:
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode, **k: False if Path(path) == out and mode == os.W_OK
                            else real_access(path, mode, **k))
    code, _, err = cli([command[0], song, "-o", out, *command[1:]], capsys)
    line = one_error_line(err)
    assert code == 1 and "No space left" not in line, line
    why = "is on a read-only file system" if how == "read-only device" else "cannot be written in (no write permission)"
    assert f"the output folder {str(out)!r} {why}; choose another folder" in line, line
    assert not list(out.iterdir())


@pytest.mark.parametrize("command, n_tracks", [(["separate", "-k", "3", *FAST], 3), (["drums", "--max-iter", "5"], 6)])
@pytest.mark.parametrize("options, sample_bytes", [(["--subtype", "pcm16"], 2), (["--format", "flac"], 3)])
def test_free_space_check_counts_the_output_subtype(command, n_tracks, options, sample_bytes, tmp_path, capsys,
                                                    monkeypatch):
    # 16-bit WAV (or 24-bit FLAC) tracks take half (three quarters) of 32-bit float ones:
    # room for them but not for float tracks must not refuse the run (before tour9 it did,
    # saying the outputs needed the float size).
    n = 4000
    song = write(tmp_path / "t.wav", tones(n, channels=2))
    need = n_tracks * (sample_bytes * 2 * n + 4096)
    float_need = n_tracks * (4 * 2 * n + 4096)
    free = (need + float_need) // 2
    monkeypatch.setattr(shutil, "disk_usage", lambda path: _Usage(10**9, 10**9 - free, free))
    code, _, err = cli([command[0], song, "-o", tmp_path / "out", *command[1:], *options], capsys)
    assert code == 0, err
    assert len(list((tmp_path / "out").iterdir())) == n_tracks
    # with less room, the message names the subtype's size (whole KB, as printed)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: _Usage(10**9, 10**9 - 5000, 5000))
    code, _, err = cli([command[0], song, "-o", tmp_path / "out2", *command[1:], *options], capsys)
    assert code == 1 and f"has 5 KB free and the outputs need about {need / 1e3:.0f} KB" in one_error_line(err)
    assert not (tmp_path / "out2").exists()


def test_disk_filling_up_while_writing_is_named_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    # libsndfile reports ENOSPC only as "System error."; the free space tells.
    song = write(tmp_path / "t.wav", tones(4000))
    writes = []

    def write_wav(destination, *args, **kwargs):
        writes.append(destination)
        Path(destination).write_bytes(b"partial")
        if len(writes) == 2:
            monkeypatch.setattr(shutil, "disk_usage", lambda path: _Usage(10**9, 10**9, 0))
            raise sf.LibsndfileError(2, f"Error opening {str(destination)!r}: ")

    monkeypatch.setattr(audio, "write_wav", write_wav)
    code, _, err = cli(["separate", song, "-k", "2", "-o", tmp_path / "out", *FAST], capsys)
    line = one_error_line(err)
    assert code == 1 and "No space left on device: the device holding" in line
    assert "has 0 KB free and the outputs need about 40 KB" in line  # 2 x (4000 x 4 bytes + header)
    assert "System error" not in line and ".part" not in line
    assert not (tmp_path / "out").exists()


def test_a_full_disk_in_the_python_writers_says_what_the_outputs_need(tmp_path, monkeypatch):
    # nmfaudio.save and save_tracks (result.save) said "the device holding 'out' is full"
    # alone, where the command line says what the outputs need (mend60); a compressed
    # format, whose size is not bounded so, keeps the short form
    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(audio, "write_wav", full_disk)
    mono, stereo = np.zeros(8000, np.float32), np.zeros((2, 8000), np.float32)
    with pytest.raises(audio.NoSpaceError, match=r"filled up while writing \(the outputs need about 36 KB\)"):
        audio.save(tmp_path / "x.wav", mono, 8000)  # 4 x 8000 + 4096 bytes
    with pytest.raises(audio.NoSpaceError, match=r"filled up while writing \(the outputs need about 104 KB\)"):
        audio.save_tracks(tmp_path / "out", ["a.wav", "b.wav"], [mono, stereo], 8000)  # + 4 x 2 x 8000 + 4096
    with pytest.raises(audio.NoSpaceError, match=r"the device holding .* is full; free some space"):
        audio.save(tmp_path / "x.ogg", mono, 8000)
    assert os.listdir(tmp_path) == []


def test_enospc_from_any_writer_names_the_folder(tmp_path):
    target = tmp_path / "a.bin"
    with pytest.raises(audio.NoSpaceError, match="the device holding") as caught:
        with audio.atomic_outputs([target]) as (temporary,):
            raise OSError(errno.ENOSPC, "No space left on device", str(temporary))
    assert caught.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path) == []


def test_component_limit_message_counts_one_frame_in_the_singular():
    """"the 1 spectrogram frames ... at most 1 components" (mend62): singular for one."""
    from nmfaudio.fitting import check_component_limit

    with pytest.raises(ValueError) as one:
        check_component_limit(3, 50, 1, None, n_fft=512, hop_length=128, name="clip.wav")
    assert "the 1 spectrogram frame of 'clip.wav'" in str(one.value), one.value
    assert "frames" not in str(one.value) and "1 components" not in str(one.value)
    with pytest.raises(ValueError, match="the 13 spectrogram frames of"):
        check_component_limit(20, 800, 1, None, n_fft=256, hop_length=64, name=None)
