"""nmfaudio.spectrum: istft(stft(y)) gives y back at exactly its length."""

import numpy as np
import pytest

from nmfaudio.spectrum import band_magnitude, istft, n_frames, stft, stft_frame_major


@pytest.mark.parametrize("n", [1, 7, 100, 2047, 2048, 2049, 12345])
def test_round_trip_any_length_default_frames(n):
    y = np.random.default_rng(n).uniform(-1, 1, n).astype(np.float32)
    X = stft(y)
    assert X.shape == (1025, n_frames(n)) and X.dtype == np.complex64
    z = istft(X, length=n)
    assert z.shape == (n,) and z.dtype == np.float32
    # float32 overlap-add: error <= 1e-5 of the peak (the tolerance).
    assert np.abs(z - y).max() <= 1e-5 * np.abs(y).max()


@pytest.mark.parametrize("n_fft, hop", [(256, 64), (512, 256), (64, 16)])
def test_round_trip_multichannel_and_other_frames(n_fft, hop):
    y = np.random.default_rng(1).standard_normal((2, 3001))
    X = stft(y, n_fft=n_fft, hop_length=hop)
    assert X.shape == (2, 1 + n_fft // 2, n_frames(3001, hop_length=hop)) and X.dtype == np.complex128
    z = istft(X, hop_length=hop, length=3001)
    assert z.shape == y.shape
    assert np.abs(z - y).max() <= 1e-10 * np.abs(y).max()  # float64: essentially exact


def test_zero_length_and_default_length():
    X = stft(np.zeros(1000, np.float32))
    assert istft(X, length=0).shape == (0,)
    assert istft(X).shape == (512 * (X.shape[-1] - 1),)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_fft": 1}, "n_fft=1"), ({"hop_length": 0}, "hop_length=0"), ({"hop_length": 4096}, "hop_length=4096"),
     ({"hop_length": 2048}, "hop_length <= 1024"), ({"window": "nope"}, "window")],
)
def test_bad_frames_raise_with_the_fix(kwargs, match):
    with pytest.raises(ValueError, match=match):
        stft(np.zeros(100), **kwargs)


def test_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        stft(np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="shape"):
        stft(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="frequency bins"):
        istft(np.zeros((100, 3), complex), n_fft=2048)


@pytest.mark.parametrize("n, n_fft, hop, center", [
    (1, 256, 64, True), (100, 256, 64, True), (5000, 2048, 512, True), (44100, 2048, 512, True),
    (5000, 256, 128, False), (44100, 2048, 512, False),
])
@pytest.mark.parametrize("length", ["none", "exact", "short", "long"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_istft_equals_librosa(n, n_fft, hop, center, length, dtype):
    """The compiled inverse STFT gives librosa.istft's samples (2e-7 of the peak: float
    rounding), shape and dtype, for mono and stereo, centred or not, any requested length."""
    import librosa

    rng = np.random.default_rng(n)
    y = rng.standard_normal((2, n)).astype(dtype)
    X = stft(y, n_fft=n_fft, hop_length=hop, center=center)
    size = {"none": None, "exact": n, "short": max(1, n // 2), "long": n + 777}[length]
    reference = librosa.istft(X, n_fft=n_fft, hop_length=hop, center=center, length=size)
    ours = istft(X, n_fft=n_fft, hop_length=hop, center=center, length=size)
    assert ours.shape == reference.shape and ours.dtype == reference.dtype
    if reference.size:  # (one sample, no length: zero samples out, as librosa)
        assert np.abs(ours - reference).max() <= 2e-7 * np.abs(reference).max()
    np.testing.assert_array_equal(istft(X[0], n_fft=n_fft, hop_length=hop, center=center, length=size), ours[0])


def test_istft_chunks_do_not_change_the_result(monkeypatch):
    """The inverse STFT works a chunk of frames at a time; chunks of one frame give the
    same samples bit for bit (the overlap-add order is the frames' order either way)."""
    from nmfaudio import spectrum

    y = np.random.default_rng(4).standard_normal((2, 30000)).astype(np.float32)
    X = stft(y, n_fft=1024, hop_length=256)
    whole = istft(X, n_fft=1024, hop_length=256, length=30000)
    monkeypatch.setattr(spectrum, "_CHUNK_BYTES", 1)
    np.testing.assert_array_equal(istft(X, n_fft=1024, hop_length=256, length=30000), whole)


def test_istft_from_frames_with_an_offset_cuts_the_uncentred_inverse():
    """``offset`` writes a stretch of the inverse of non-centred frames (what the
    block-wise mode keeps of a block): the same samples as istft(center=False) sliced,
    bit for bit (same frames, same overlap-add order, same window normalization)."""
    from nmfaudio import spectrum

    y = np.random.default_rng(5).standard_normal((3, 20000)).astype(np.float32)
    X = stft(y, n_fft=1024, hop_length=256, center=False)
    whole = istft(X, n_fft=1024, hop_length=256, center=False)
    for offset, size in ((0, 300), (777, 9000), (whole.shape[-1] - 500, 500)):
        out = np.full((3, size), np.nan, dtype=np.float32)
        spectrum.istft_from_frames(lambda t0, t1: X[..., t0:t1], out, n_frames=X.shape[-1], n_fft=1024,
                                   hop_length=256, offset=offset)
        np.testing.assert_array_equal(out, whole[:, offset:offset + size])


def test_stft_frame_major_equals_stft_with_each_channel_frame_major():
    """stft_frame_major is stft's result (librosa's float64 computation) to float32
    rounding (tolerance 1e-6 of the peak), each channel's (frames, bins) contiguous so the
    inverse reads it without a copy."""
    y = np.random.default_rng(0).standard_normal((2, 30000)).astype(np.float32)
    expected = stft(y, n_fft=1024, hop_length=256)
    X = stft_frame_major(y, n_fft=1024, hop_length=256)
    assert X.shape == expected.shape and X.dtype == expected.dtype
    np.testing.assert_allclose(X, expected, rtol=0, atol=1e-6 * np.abs(expected).max())
    assert all(X[c].T.flags.c_contiguous for c in range(2))


@pytest.mark.parametrize("shape", [(70_000,), (2, 70_000), (3, 9_000), (100,)])
@pytest.mark.parametrize("tasks", [1, 2, 4, 7])
def test_stft_frame_major_gives_the_same_numbers_in_any_number_of_tasks(monkeypatch, shape, tasks):
    """The frames cut into ranges of whole chunks (STFT_TASKS, the chunk made small here so
    a range holds several): each FFT call transforms the frames it transforms in one task
    per channel, so X and the magnitude are the same bit for bit (tolerance 0); the
    ranges cover every frame once, each starting on a chunk, and a range's samples are
    np.pad's."""
    from nmfaudio import spectrum

    y = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    monkeypatch.setattr(spectrum, "_STFT_CHUNK_BYTES", 7 * 512 * 4)  # 7 frames of 512 float32
    runs = []
    for count in (1, tasks):
        monkeypatch.setattr(spectrum, "STFT_TASKS", count)
        runs.append(stft_frame_major(y, n_fft=512, hop_length=128, magnitude=True))
    for one, many in zip(*runs):
        np.testing.assert_array_equal(many, one)
    n = n_frames(shape[-1], hop_length=128, n_fft=512)
    channels = 1 if len(shape) == 1 else shape[0]
    split = spectrum._stft_tasks(channels, n, 7)
    for c in range(channels):
        ranges = [(a, b) for ch, a, b in split if ch == c]
        assert ranges[0][0] == 0 and ranges[-1][1] == n
        assert all(b == a2 for (_, b), (a2, _) in zip(ranges[:-1], ranges[1:])) and all(a % 7 == 0 for a, _ in ranges)
        padded = np.pad(y.reshape(channels, -1)[c], 256)
        for a, b in ranges:
            stretch = spectrum._padded_stretch(y.reshape(channels, -1)[c], a, b, 512, 128)
            np.testing.assert_array_equal(stretch, padded[a * 128:(b - 1) * 128 + 512])


@pytest.mark.parametrize("n_fft, hop_length, n_frames_", [(1024, 256, 1), (1024, 256, 5), (1024, 256, 300),
                                                           (1000, 300, 40), (4096, 1024, 200), (64, 7, 90)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_window_norm_is_librosas_window_sumsquare_bit_for_bit(n_fft, hop_length, n_frames_, dtype):
    """The inverse STFT's normalization, tiled from a few cached frames, is the sum librosa
    computes over all frames — exactly (same values added in the same order), so the
    inverse's output is what it was with librosa's full overlap-add."""
    import librosa

    from nmfaudio import spectrum

    full = librosa.filters.window_sumsquare(window="hann", n_frames=n_frames_, win_length=n_fft, n_fft=n_fft,
                                            hop_length=hop_length, dtype=dtype)
    for start, size in [(0, full.size), (n_fft // 2, full.size - n_fft), (n_fft // 2, full.size)]:
        expected = librosa.util.fix_length(full[start:], size=max(size, 1))
        got = spectrum._window_norm("hann", n_frames_, n_fft, hop_length, dtype, start, max(size, 1))
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("n_fft, hop_length, n_frames_", [(1024, 256, 1), (1024, 256, 5), (1024, 256, 300),
                                                           (1000, 300, 40), (4096, 1024, 200), (64, 7, 90),
                                                           (4096, 1024, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_istft_norm_span_is_the_whole_norms_samples(n_fft, hop_length, n_frames_, dtype):
    """``istft_norm(span=(lo, hi))`` (masked_stems' ranges make their own, not the whole
    track's) is the whole norm's samples lo … hi − 1, bit for bit (tolerance 0): spans at
    the head, the tail, the periodic middle, across their borders, past the signal's end
    (the zero padding), empty, and lengths longer and shorter than the frames reach."""
    from nmfaudio import spectrum

    rng = np.random.default_rng(45)
    reach = n_fft + hop_length * (n_frames_ - 1) - n_fft // 2 * 2  # the centred frames' samples
    for length in sorted({1, max(reach, 1), reach + n_fft, max(reach - hop_length, 1)}):
        whole = spectrum.istft_norm(n_frames_, length, n_fft=n_fft, hop_length=hop_length, dtype=dtype)
        edges = [0, 1, hop_length, n_fft, length // 2, length - n_fft, length - 1, length]
        spans = [(lo, hi) for lo in edges for hi in edges if 0 <= lo <= hi <= length]
        spans += [tuple(sorted(rng.integers(0, length + 1, 2))) for _ in range(20)]
        for lo, hi in spans:
            part = spectrum.istft_norm(n_frames_, length, n_fft=n_fft, hop_length=hop_length, dtype=dtype,
                                       span=(lo, hi))
            assert part.dtype == whole.dtype and part.shape == (hi - lo,)
            np.testing.assert_array_equal(part.view(np.uint8), whole[lo:hi].view(np.uint8))


def test_istft_keeps_no_signal_length_array_after_it_returns():
    """Nothing the length of the signal stays allocated once istft's output is gone
    (the normalization used to be cached whole: 31.7 MB for 3 minutes at 44.1 kHz).
    Tolerance: 1 MB retained against an 8 MB (2M-sample float32) output."""
    import tracemalloc

    y = np.random.default_rng(5).standard_normal(2_000_000).astype(np.float32)
    X = stft(y, n_fft=1024, hop_length=256)
    istft(X[:, :50], n_fft=1024, hop_length=256)  # warm up (imports, compiled code)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        out = istft(X, n_fft=1024, hop_length=256, length=y.size)
        assert out.nbytes == 8_000_000
        del out
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert retained < 1_000_000, f"{retained} bytes stayed allocated after istft"


def test_stft_frame_major_checks_and_converts_input_as_stft_does():
    """A 1-D signal is one channel; no channels and non-finite samples are refused with
    stft's messages; int16 and float16 samples give complex64 as in stft."""
    y = np.random.default_rng(1).standard_normal(5000)
    X = stft_frame_major(y, n_fft=512, hop_length=128)
    np.testing.assert_allclose(X[0], stft(y, n_fft=512, hop_length=128), rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="no channels"):
        stft_frame_major(np.zeros((0, 5000)), n_fft=512, hop_length=128)
    with pytest.raises(ValueError, match="NaN or infinite"):
        stft_frame_major(np.full((1, 5000), np.nan), n_fft=512, hop_length=128)
    with pytest.raises(ValueError, match="must be"):
        stft_frame_major(np.zeros((1, 2, 5000)), n_fft=512, hop_length=128)
    for dtype in (np.int16, np.float16):
        samples = (y[None] * 1000).astype(dtype)
        expected = stft(samples, n_fft=512, hop_length=128)
        X = stft_frame_major(samples, n_fft=512, hop_length=128)
        assert X.dtype == expected.dtype == np.complex64
        np.testing.assert_allclose(X, expected, rtol=0, atol=1e-6 * np.abs(expected).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stft_frame_major_magnitude_is_the_abs_of_its_stft(dtype):
    """magnitude=True gives np.abs(X) exactly, in X's layout; chunks of frames (a tiny
    chunk size: many stretches) give the same X; an array window is accepted."""
    from nmfaudio import spectrum

    y = np.random.default_rng(2).standard_normal((2, 20000)).astype(dtype)
    X, M = stft_frame_major(y, n_fft=512, hop_length=128, magnitude=True)
    assert M.dtype == dtype and M.shape == X.shape
    assert all(M[c].T.flags.c_contiguous for c in range(2))
    np.testing.assert_array_equal(M, np.abs(X))
    tolerance = (1e-6 if dtype == np.float32 else 1e-12) * np.abs(X).max()
    np.testing.assert_allclose(X, stft(y, n_fft=512, hop_length=128), rtol=0, atol=tolerance)
    window = spectrum._frame_window("hann", 512, np.dtype(dtype).str).copy()
    np.testing.assert_array_equal(stft_frame_major(y, n_fft=512, hop_length=128, window=window), X)


def test_stft_frame_major_is_the_same_in_stretches_of_frames(monkeypatch):
    from nmfaudio import spectrum

    y = np.random.default_rng(3).standard_normal(9000).astype(np.float32)
    whole = stft_frame_major(y, n_fft=256, hop_length=64)
    monkeypatch.setattr(spectrum, "_STFT_CHUNK_BYTES", 3 * 256 * 4)  # 3 frames at a time
    np.testing.assert_array_equal(stft_frame_major(y, n_fft=256, hop_length=64), whole)


def test_a_window_given_as_an_array_works_as_its_name_does():
    # librosa takes a window by name or as an array; the cached window of the inverse STFT
    # and of stft_frame_major must not refuse an (unhashable) array: same results as the
    # named window to float rounding (1e-6 of the peak), and the caller's array untouched.
    import librosa

    y = np.random.default_rng(3).standard_normal((2, 6000)).astype(np.float32)
    window = librosa.filters.get_window("hann", 512, fftbins=True)
    kept = window.copy()
    X = stft_frame_major(y, n_fft=512, hop_length=128, window=window)
    X_named = stft_frame_major(y, n_fft=512, hop_length=128, window="hann")
    assert np.abs(X - X_named).max() <= 1e-6 * np.abs(X_named).max()
    out = istft(X_named, hop_length=128, window=window, length=y.shape[-1])
    named = istft(X_named, hop_length=128, window="hann", length=y.shape[-1])
    assert np.abs(out - named).max() <= 1e-6 * np.abs(named).max()
    assert window.flags.writeable and np.array_equal(window, kept)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("first_bin", [0, 117, 512])
def test_band_magnitude_is_the_stfts_magnitude_bit_for_bit(dtype, first_bin):
    # band_magnitude makes |stft(y, center=False)[first_bin:]| frame-major (librosa's
    # float64 window and FFT, rounded to the input's precision): the same bits, C-contiguous
    y = np.random.default_rng(7).standard_normal(20_000).astype(dtype)
    expected = np.abs(stft(y, n_fft=1024, hop_length=128, center=False)[first_bin:])
    got = band_magnitude(y, n_fft=1024, hop_length=128, first_bin=first_bin)
    assert got.dtype == dtype and got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("first_bin", [0, 117, 512])
def test_band_magnitude_in_the_samples_precision_is_near_the_exact_one(dtype, tolerance, first_bin):
    # exact=False: the window and scipy.fft's real FFT in the samples' precision; within
    # that precision's rounding of the exact (librosa) magnitudes, relative to the peak
    y = np.random.default_rng(7).standard_normal(20_000).astype(dtype)
    exact = band_magnitude(y, n_fft=1024, hop_length=128, first_bin=first_bin)
    got = band_magnitude(y, n_fft=1024, hop_length=128, first_bin=first_bin, exact=False)
    assert got.dtype == dtype and got.flags.c_contiguous and got.shape == exact.shape
    assert np.abs(got - exact).max() <= tolerance * exact.max()


def test_band_magnitude_refuses_what_it_cannot_frame():
    y = np.zeros(2000, np.float32)
    with pytest.raises(ValueError, match="one channel"):
        band_magnitude(np.zeros((2, 2000), np.float32), n_fft=1024, hop_length=128)
    with pytest.raises(ValueError, match="at least n_fft"):
        band_magnitude(y[:1000], n_fft=1024, hop_length=128)
    with pytest.raises(ValueError, match="first_bin=513"):
        band_magnitude(y, n_fft=1024, hop_length=128, first_bin=513)


@pytest.mark.parametrize("n_fft", [2, 3, 16, 511, 2048, 4096])
def test_hann_window_is_librosas(n_fft):
    """The Hann window computed here (scipy.signal not imported: the start-up rounds of
    docs/performance.md) is the one librosa's get_window gives, value for value."""
    import librosa

    from nmfaudio.spectrum import window_values

    np.testing.assert_array_equal(window_values("hann", n_fft), librosa.filters.get_window("hann", n_fft, fftbins=True))


@pytest.mark.parametrize("window", ["hann", "hamming", ("tukey", 0.5), "boxcar"])
def test_the_overlap_check_is_scipys_check_nola(window):
    """check_frames refuses exactly the (n_fft, hop_length) that scipy.signal.check_NOLA
    refuses, read from the overlap-added squared window instead of importing scipy.signal."""
    import librosa
    import scipy.signal

    from nmfaudio import spectrum

    for n_fft in (64, 100, 2048):
        for hop_length in sorted({1, n_fft // 4, n_fft // 3, n_fft // 2, n_fft // 2 + 1, n_fft - 1, n_fft}):
            expected = scipy.signal.check_NOLA(librosa.filters.get_window(window, n_fft, fftbins=True), n_fft,
                                               n_fft - hop_length)
            try:
                spectrum._check_overlap.__wrapped__(n_fft, hop_length, window)
                got = True
            except ValueError:
                got = False
            assert got == expected, (window, n_fft, hop_length)


def test_the_overlap_check_folds_a_long_window_once():
    """A window of 2**20 samples every sample: the check folds the window once (n_fft
    values), it does not overlap-add n_fft windows (the first version's n_fft² / hop)."""
    from nmfaudio import spectrum

    spectrum._check_overlap.__wrapped__(2**20, 1, "hann")  # covered: returns, after ~1e6 additions
    with pytest.raises(ValueError, match="hop_length"):
        spectrum._check_overlap.__wrapped__(2**20, 2**20, "hann")  # sample 0 only under a zero
