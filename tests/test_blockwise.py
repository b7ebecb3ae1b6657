"""Long audio, the block-wise mode: exact seams, agreement with the in-memory separation,
separate_file, bad arguments, memory independent of duration, a killed run.
"""

from __future__ import annotations

import os
import signal
import warnings

import numpy as np
import pytest
import soundfile as sf

import nmfaudio
from nmfaudio import spectrum
from hostile import wait_for


#: Sampling rate of the conftest ``tones`` (8000 Hz).
SR = 8000
FAST = ["--n-fft", "256", "--hop-length", "64", "--max-iter", "20"]
#: The tracks add up to the mixture to this fraction of its peak (float32 round trips).
SUM_TOLERANCE = 1e-4


# --- long audio: the block-wise mode -----------------------------------------------------


def melody(seconds=6.0, channels=2, sr=SR, seed=0):
    """Two panned tones switching on and off at different rates plus faint noise, float32."""
    t = np.arange(int(seconds * sr)) / sr
    a = 0.5 * np.sin(2 * np.pi * 440 * t) * (np.sin(3 * t) > 0)
    b = 0.3 * np.sin(2 * np.pi * 1320 * t) * (np.sin(5 * t) > 0.2)
    pans = [(1.0, 0.4), (0.4, 1.0), (0.7, 0.7)]
    y = np.stack([pans[c % 3][0] * a + pans[c % 3][1] * b for c in range(channels)])
    y += 1e-3 * np.random.default_rng(seed).standard_normal(y.shape)
    return (y[0] if channels == 1 else y).astype(np.float32)


BLOCK = dict(n_fft=512, hop_length=128, max_iter=60, random_state=0)


@pytest.mark.parametrize("beta", ["frobenius", "itakura-saito"])
def test_blockwise_seams_are_exact(beta):
    # The output must not depend on the block length: blocks of 0.37 s (not a whole number
    # of hops), 1 s and 2.5 s against one block holding everything.  Same activations
    # (to 1e-6 of their peak: BLAS rounding) and tracks within 1e-6 of the peak (float32
    # rounding of the inverse STFT's overlap-add; measured 2e-7).
    y = melody()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = nmfaudio.separate(y, SR, n_components=2, beta=beta, block_seconds=100, **BLOCK)
        for seconds in (0.37, 1.0, 2.5):
            blocks = nmfaudio.separate(y, SR, n_components=2, beta=beta, block_seconds=seconds, **BLOCK)
            assert np.abs(blocks.H - whole.H).max() <= 1e-6 * whole.H.max()
            assert np.abs(blocks.components - whole.components).max() <= 1e-6 * np.abs(y).max()
    assert whole.components.shape == (2,) + y.shape and whole.components.dtype == np.float32
    assert np.abs(whole.components.sum(axis=0) - y).max() <= 1e-5 * np.abs(y).max()


@pytest.mark.parametrize("channels", [1, 2])
def test_blockwise_matches_in_memory(channels):
    # Both fits run to the same 150 iterations (tol=0: the default early stop can leave
    # the in-memory fit of this mono mixture half-separated after 20 iterations, which
    # would measure that, not the block-wise mode).  With every frame used for learning,
    # W is the in-memory W bit for bit; the tracks then differ only through the refitted
    # activations: SI-SDR of block-wise against in-memory tracks >= 80 dB (measured
    # 144-152 dB: the HALS activations reach each frame's least squares, where the joint
    # HALS fit ends too; 70-83 dB with the multiplicative updates used before).  W is the same fit but not bit for bit on every CPU: the two paths hand
    # BLAS differently laid-out arrays, and OpenBLAS picks per-CPU kernels whose summation
    # order differs, so 150 iterations amplify last-bit differences to ~3e-5 relative
    # (measured on an Intel Xeon; 0 on an AMD EPYC).  Asserted: 1e-3 relative (Frobenius).  Learning on every 4th frame only (learn_frames=100 of 376 frames and
    # channels): >= 25 dB (measured 27-45 dB).
    from nmfaudio.metrics import si_sdr

    y = melody(channels=channels)
    kwargs = dict(n_components=2, n_fft=512, hop_length=128, max_iter=150, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        memory = nmfaudio.separate(y, SR, **kwargs)
        blocks = nmfaudio.separate(y, SR, block_seconds=1.0, **kwargs)
        sparse = nmfaudio.separate(y, SR, block_seconds=1.0, learn_frames=100 * channels, **kwargs)
    assert np.linalg.norm(memory.W - blocks.W) <= 1e-3 * np.linalg.norm(memory.W)
    assert blocks.H.shape == memory.H.shape
    for j in range(2):
        assert si_sdr(memory.components[j].ravel(), blocks.components[j].ravel()) >= 80
        assert si_sdr(memory.components[j].ravel(), sparse.components[j].ravel()) >= 25


def test_blockwise_frobenius_activations_are_each_columns_least_squares():
    # With W fixed, the Frobenius activations are HALS sweeps: each column reaches its
    # non-negative least-squares solution (scipy's nnls; 1e-4 of the largest activation,
    # float64, 200 sweeps of a well-conditioned k = 3), computed column by column: the
    # same columns in a different company give the same activations (1e-12 relative).
    from scipy.optimize import nnls

    from nmfaudio.blockwise import _activations

    rng = np.random.default_rng(2)
    W = rng.random((40, 3)) ** 3
    V = W @ rng.random((3, 30)) * (rng.random((3, 30)) > 0.4).any(axis=0) + 0.05 * rng.random((40, 30))
    V[:, 5] = 0  # a silent frame
    H = _activations(V, W, beta="frobenius", delta=0.0, eps=1e-12, n_iter=200)
    expected = np.stack([nnls(W, v)[0] for v in V.T], axis=1)
    assert np.abs(H - expected).max() <= 1e-4 * expected.max()
    assert (H >= 0).all() and (H[:, 5] == 0).all() and (H == 0).any()  # exact zeros, not tiny values
    part = _activations(V[:, 10:17], W, beta="frobenius", delta=0.0, eps=1e-12, n_iter=200)
    np.testing.assert_allclose(part, H[:, 10:17], rtol=1e-12, atol=1e-12 * H.max())


@pytest.mark.parametrize("beta", ["kullback-leibler", "itakura-saito"])
def test_blockwise_beta_activations_skip_only_the_loss(beta):
    # The β ≠ 2 activations run MU with W fixed and ask for the loss at the start and the
    # end only; H must be exactly that of the same MU with every iteration's loss.
    from nmfaudio.blockwise import _activations
    from nmfaudio.nmf import factorize

    rng = np.random.default_rng(3)
    W = (rng.random((40, 3)) ** 3 + 1e-3).astype(np.float32)
    V = (W @ rng.random((3, 30)) + 0.05 * rng.random((40, 30))).astype(np.float32)
    H = _activations(V, W, beta=beta, delta=0.0, eps=1e-9, n_iter=25)
    gram = (W.T @ W).sum(axis=1)
    H0 = np.maximum(W.T @ V, 0) / gram[:, None].astype(np.float32)
    every = factorize(V, 3, beta=beta, solver="mu", W=W, H=H0, fix_W=True, max_iter=25, tol=0, eps=1e-9)
    assert np.isfinite(every.loss).all()
    np.testing.assert_array_equal(H, np.asarray(every.H))


def test_separate_file_writes_what_separate_returns(tmp_path, write_audio):
    from nmfaudio.blockwise import separate_file

    song = write_audio(tmp_path / "song.wav", melody(seconds=3.0), subtype="FLOAT")
    kwargs = dict(n_components=2, beta="kullback-leibler", **BLOCK)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = separate_file(song, tmp_path / "blocks", block_seconds=0.5, **kwargs)
        in_memory_tracks = nmfaudio.separate(song, block_seconds=0.5, **kwargs)
    assert [p.name for p in result.paths] == ["song_component_01.wav", "song_component_02.wav"]
    in_memory_tracks.save(tmp_path / "saved")
    for path in result.paths:  # same samples, same bytes
        assert path.read_bytes() == (tmp_path / "saved" / path.name).read_bytes()
    assert result.n_samples == 3 * SR and result.n_channels == 2 and result.blocks == 6
    assert result.H.shape == (2, 2, spectrum.n_frames(3 * SR, hop_length=128, n_fft=512))
    rms = [np.sqrt(np.mean(np.square(t, dtype=np.float64))) for t in in_memory_tracks.components]
    np.testing.assert_allclose(result.rms, rms, rtol=1e-6)


def test_blockwise_nan_late_in_the_file_fails_before_any_output(tmp_path, write_audio, file_tree):
    from nmfaudio.blockwise import separate_file

    y = melody(seconds=3.0)
    y[1, -5] = np.nan
    song = write_audio(tmp_path / "song.wav", y, subtype="FLOAT")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ValueError, match="NaN or infinite"):
        separate_file(song, out, n_components=2, block_seconds=0.5, **BLOCK)
    assert file_tree(out) == {}  # no track, no temporary file


@pytest.mark.parametrize("kwargs, match", [
    ({"block_seconds": 0}, "block_seconds=0 must be"), ({"block_seconds": -1.5}, "block_seconds=-1.5"),
    ({"block_seconds": float("nan")}, "block_seconds=nan"), ({"block_seconds": "30"}, "block_seconds='30'"),
    ({"block_seconds": 1, "learn_frames": 0}, "learn_frames=0"), ({"learn_frames": 100}, "needs block_seconds"),
], ids=["block_seconds=0", "block_seconds<0", "block_seconds=nan", "block_seconds=str", "learn_frames=0",
        "learn_frames without block_seconds"])
def test_blockwise_bad_arguments_name_themselves(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nmfaudio.separate(melody(seconds=0.5), SR, n_components=2, **kwargs)


def test_fewer_learning_columns_than_components_is_refused(tmp_path, cli, one_line_error, write_audio):
    """k templates learned on fewer than k spectrogram columns: learn_frames=1 with k = 3
    fitted one column (loss 0) and wrote three tracks (before 2026-12-06, tour18); now
    refused in Python and on the command line, naming both options and the fix."""
    with pytest.raises(ValueError, match=r"^learn_frames=2 is fewer than n_components=3: .* use learn_frames=3 or more"):
        nmfaudio.separate(melody(seconds=0.5), SR, n_components=3, block_seconds=0.25, learn_frames=2)
    song = write_audio(tmp_path / "song.wav", melody(seconds=0.5))
    code, _, err = cli(["separate", song, "-k", "3", "-o", tmp_path / "out", "--block-seconds", "0.25",
                        "--learn-frames", "2"])
    assert code == 1
    one_line_error(err, "--learn-frames 2 is fewer than --n-components 3", "use --learn-frames 3 or more")
    assert not (tmp_path / "out").exists()
    assert nmfaudio.separate(melody(seconds=0.5), SR, n_components=3, block_seconds=0.25, learn_frames=3,
                             max_iter=5, tol=0).W.shape[1] == 3


def test_blockwise_array_needs_sr():
    with pytest.raises(ValueError, match="^sr=None: block_seconds needs the sampling rate"):
        nmfaudio.separate(melody(seconds=0.5), n_components=2, block_seconds=1)


def test_blockwise_does_not_resample(tmp_path, write_audio):
    song = write_audio(tmp_path / "song.wav", melody(seconds=0.5))
    with pytest.raises(ValueError, match="does not resample"):
        nmfaudio.separate(song, 16000, n_components=2, block_seconds=1)


def test_cli_block_seconds_plot_and_json(tmp_path, cli, write_audio):
    import json

    song = write_audio(tmp_path / "song.wav", melody(seconds=3.0))
    out = tmp_path / "out"
    code, stdout, err = cli(["separate", song, "-k", "2", "-o", out, "--block-seconds", "0.5",
                             "--learn-frames", "100", "--plot", "--json", *FAST])
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["blockwise"] == {"block_seconds": 0.5, "blocks": 6, "learn_stride": 8, "reason": None}  # asked for
    assert summary["n_samples"] == 3 * SR and summary["channels"] == 2
    assert sorted(os.listdir(out)) == ["song_component_01.wav", "song_component_02.wav", "song_separation.png"]
    tracks = [sf.read(out / f"song_component_0{i}.wav", dtype="float32")[0] for i in (1, 2)]
    mixture = sf.read(song, dtype="float32")[0]
    assert np.abs(sum(tracks) - mixture).max() <= SUM_TOLERANCE * np.abs(mixture).max()
    for i, component in enumerate(summary["components"]):
        rms = np.sqrt(np.mean(np.square(tracks[i], dtype=np.float64)))
        assert component["rms"] == pytest.approx(rms, rel=1e-6)


def test_cli_learn_frames_without_block_seconds_is_a_usage_error(tmp_path, cli, one_line_error, write_audio, tones):
    song = write_audio(tmp_path / "song.wav", tones())
    code, _, err = cli(["separate", song, "-k", "2", "-o", tmp_path / "out", "--learn-frames", "10"])
    assert code == 2
    assert "--learn-frames needs --block-seconds" in one_line_error(err, prefix=None)
    assert not (tmp_path / "out").exists()


def test_blockwise_memory_does_not_grow_with_duration(tmp_path, write_audio):
    # Peak traced memory (tracemalloc: NumPy reports its buffers) of separate_file on 10 s
    # and on 40 s of stereo: the 4x longer file may add at most 20 % (only H, k floats
    # per frame, grows; measured +2 %).  The in-memory mode, for contrast, grows ~4x.
    import tracemalloc

    from nmfaudio.blockwise import separate_file

    peaks = {}
    for seconds in (10, 40):
        song = write_audio(tmp_path / f"song{seconds}.wav", melody(seconds=seconds), subtype="FLOAT")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tracemalloc.start()
            try:
                separate_file(song, tmp_path / f"out{seconds}", n_components=2, block_seconds=2.0,
                              learn_frames=400, n_fft=512, hop_length=128, max_iter=10, random_state=0)
                peaks[seconds] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    assert peaks[40] <= 1.2 * peaks[10], peaks


def test_blockwise_run_killed_while_writing_leaves_no_partial_files(tmp_path, one_line_error, write_audio,
                                                                    nmfaudio_process):
    # --block-seconds writes the tracks block by block into hidden temporary files; SIGTERM
    # once they hold data (the run is midway through writing) must leave nothing behind.
    song = write_audio(tmp_path / "long.wav", melody(seconds=60.0), subtype="PCM_16")
    out = tmp_path / "out"
    process = nmfaudio_process("separate", song, "-k", "3", "-o", out, "--block-seconds", "0.25",
                                 "--learn-frames", "200", "--max-iter", "400", "--n-fft", "512", "--hop-length", "128")
    wait_for(lambda: out.exists() and any(p.stat().st_size > 10_000 for p in out.glob(".*.part")), process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate()
    assert process.returncode == 143
    assert "terminated; no partial outputs were kept" in one_line_error(err, prefix=None)
    assert not out.exists()


@pytest.mark.parametrize("command, least", [
    (["separate", "-k", "2", *FAST], "one STFT hop (64 samples, 0.008 s at 8000 Hz); use --block-seconds 0.008 or"),
    (["drums", "--max-iter", "2"], "the drum templates (9 frames of hop 512: 0.576 s at 8000 Hz), which every "
                                   "block must hold; use --block-seconds 0.576 or"),
], ids=["separate", "drums"])
def test_a_block_shorter_than_the_model_needs_is_refused_naming_the_least(command, least, tmp_path, cli,
                                                                          one_line_error, write_audio):
    """--block-seconds 0.001 ran: `separate` 8748 blocks of 22 samples for the 8.7-s loop
    (the same tracks, 11 s instead of 0.3 s: each block recomputes the frames touching it),
    `drums` 376 one-hop blocks that cut every template at a seam (3 of the loop's 15 snare
    hits lost).  Refused with the least value allowed, before any output or folder; that
    value itself runs."""
    song = write_audio(tmp_path / "song.wav", melody(seconds=1.0, channels=1))
    out = tmp_path / "out"
    code, _, err = cli([command[0], song, "-o", out, "--block-seconds", "0.001", *command[1:]])
    assert code == 1
    one_line_error(err, "--block-seconds 0.001 is shorter than ", least)
    assert not out.exists()
    given = least.split("use --block-seconds ")[1].split()[0]
    code, _, err = cli([command[0], song, "-o", out, "--block-seconds", given, *command[1:]])
    assert code == 0, err
    with pytest.raises(ValueError, match="block_seconds=0.001 is shorter than one STFT hop"):
        nmfaudio.separate(song, n_components=2, block_seconds=0.001)
    with pytest.raises(ValueError, match="block_seconds=0.001 is shorter than the drum templates"):
        nmfaudio.separate_drums(song, block_seconds=0.001)
