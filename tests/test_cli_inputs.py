"""Inputs that must work through the command line: silence, very short files, every WAV bit
depth, other containers, sampling rates, many channels, clipping, DC offset, odd file names.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


FAST = ["--n-fft", "256", "--hop-length", "64", "--max-iter", "20"]
#: The tracks add up to the mixture to this fraction of its peak (float32 round trips).
SUM_TOLERANCE = 1e-4


# --- inputs that must work ---------------------------------------------------------------


def _separate_and_check(path: Path, tmp_path: Path, cli, *, k=2, extra=()):
    """Run the CLI on ``path``; check k tracks with the input's rate, channels and length,
    finite, adding up to the decoded input.  Returns the tracks (n_samples, n_channels)."""
    out = tmp_path / "out"
    code, _, err = cli(["separate", path, "-k", str(k), "-o", out, *FAST, *extra])
    assert code == 0, err
    info = sf.info(path)
    names = sorted(os.listdir(out))
    assert names == [f"{path.stem}_component_{i:02d}.wav" for i in range(1, k + 1)]
    tracks = []
    for name in names:
        track_info = sf.info(out / name)
        assert (track_info.samplerate, track_info.channels, track_info.frames) == (
            info.samplerate, info.channels, info.frames)
        track = sf.read(out / name, dtype="float32", always_2d=True)[0]
        assert np.all(np.isfinite(track))
        tracks.append(track)
    mixture = sf.read(path, dtype="float32", always_2d=True)[0]
    peak = max(np.abs(mixture).max(), 1e-30)
    assert np.abs(np.sum(tracks, axis=0) - mixture).max() <= SUM_TOLERANCE * peak
    return tracks


@pytest.mark.parametrize("channels, beta", [(1, "frobenius"), (2, "itakura-saito"), (1, "kullback-leibler")])
def test_silence_gives_silent_tracks(channels, beta, tmp_path, write_audio, cli):
    path = write_audio(tmp_path / "silence.wav", np.zeros((channels, 2000), np.float32), subtype="PCM_16")
    tracks = _separate_and_check(path, tmp_path, cli, extra=["--beta", beta])
    assert not np.any(tracks)  # exactly zero, never NaN


@pytest.mark.parametrize("n", [1, 100])
def test_shorter_than_one_frame(n, tmp_path, write_audio, tones, cli):
    path = write_audio(tmp_path / "blip.wav", tones(n=n), subtype="FLOAT")  # n_fft = 256 > n
    _separate_and_check(path, tmp_path, cli)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_wav_bit_depths(subtype, tmp_path, write_audio, tones, cli):
    # 8-bit WAV is unsigned by definition (PCM_U8); libsndfile maps it to [-1, 1).
    path = write_audio(tmp_path / f"depth_{subtype}.wav", tones(channels=2), subtype=subtype)
    _separate_and_check(path, tmp_path, cli)


@pytest.mark.parametrize("name, subtype, channels", [("song.flac", "PCM_24", 2), ("song.ogg", "VORBIS", 1),
                                                     ("song.ogg", "VORBIS", 2), ("song.aiff", "PCM_16", 1)])
def test_other_containers(name, subtype, channels, tmp_path, write_audio, tones, cli):
    path = write_audio(tmp_path / name, tones(channels=channels), subtype=subtype)
    _separate_and_check(path, tmp_path, cli)


@pytest.mark.parametrize("sr", [8000, 11025, 16000, 22050, 44100, 48000, 88200, 96000])
def test_sampling_rates(sr, tmp_path, write_audio, tones, cli):
    path = write_audio(tmp_path / f"rate{sr}.wav", tones(sr, n=6000, channels=2), sr, subtype="PCM_16")
    _separate_and_check(path, tmp_path, cli)


def test_more_than_two_channels(tmp_path, write_audio, tones, cli):
    path = write_audio(tmp_path / "surround.wav", tones(channels=6), subtype="PCM_24")
    tracks = _separate_and_check(path, tmp_path, cli, k=3)
    assert tracks[0].shape[1] == 6


def test_clipped_full_scale(tmp_path, write_audio, tones, cli):
    path = write_audio(tmp_path / "loud.wav", np.clip(4 * tones(channels=2), -1, 1), subtype="PCM_16")
    assert sf.read(path)[0].max() >= 0.99
    _separate_and_check(path, tmp_path, cli)


def test_dc_offset(tmp_path, write_audio, tones, cli):
    path = write_audio(tmp_path / "dc.wav", 0.4 + 0.5 * tones(), subtype="PCM_16")
    _separate_and_check(path, tmp_path, cli)


@pytest.mark.parametrize("name", ["my song (take 2).wav", "chanson été – ünïcødé 日本語.wav"])
def test_names_with_spaces_and_non_ascii(name, tmp_path, write_audio, tones, cli):
    folder = tmp_path / "dossier à espaces"
    folder.mkdir()
    path = write_audio(folder / name, tones(channels=2))
    _separate_and_check(path, tmp_path, cli)


def test_plot_of_a_name_the_font_cannot_draw_warns_nothing(tmp_path, write_audio, tones, cli):
    # The figure's title is the file name; DejaVu Sans (matplotlib's default) has no CJK
    # glyphs, and each missing one was a UserWarning (two stderr lines, one quoting
    # nmfaudio's source) on a run that succeeded: three for 日本語 on main before 2026-12-05.
    import warnings

    path = write_audio(tmp_path / "chanson 日本語.wav", tones(channels=2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, _, err = cli(["drums", path, "-o", tmp_path / "out", "--plot", "--max-iter", "5"])
    assert code == 0, err
    assert (tmp_path / "out" / "chanson 日本語_drums.png").stat().st_size > 0
    glyphs = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert glyphs == [] and "Glyph" not in err, glyphs
