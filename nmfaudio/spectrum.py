"""Short-time Fourier transform and its inverse, with matching defaults.

Both follow librosa (``stft`` calls ``librosa.stft``; ``istft`` gives ``librosa.istft``'s
result, computed by a faster compiled overlap-add) with a Hann window,
``n_fft=2048``, ``hop_length=512`` and centred frames (the signal is zero-padded by
``n_fft // 2`` on both sides), so ``istft(stft(y), length=len(y))`` gives back ``y`` to
float precision — also for signals shorter than one frame.  Multichannel input
``(n_channels, n_samples)`` gives ``(n_channels, n_freq, n_frames)``.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from nmfaudio._validation import check_int, refuse_load_pair

__all__ = ["stft", "stft_frame_major", "istft", "n_frames", "stft_frames", "band_magnitude", "istft_from_frames",
           "frames_for_rate", "frames_or_defaults", "FRAMES_48K", "overlap_add", "istft_norm", "window_values"]

N_FFT = 2048
HOP_LENGTH = 512
WINDOW = "hann"
#: The rate at which N_FFT / HOP_LENGTH give the frame durations :func:`frames_for_rate` keeps.
REFERENCE_SR = 22050


#: The STFT frames at 48 kHz: the 44.1-kHz grid's (4096 / 1024) bin width and hop in
#: seconds -- 10.75 Hz bins and a 23.25-ms hop against 10.77 Hz and 23.22 ms (0.13 % apart;
#: 4458 / 1115 is exact, but 4458 = 2·3·743 made the FFT 3.6× slower than 4464 = 2^4·3^2·31).
#: At 4096 / 1024 (10 % wider bins, an 8 % shorter hop) the same song read differently
#: at 48 kHz: the hi-hat presence tests (a ±1-frame window at the snare's hits, 64 ms
#: instead of 70 ms) flipped on 4 of 54 acoustic tuning songs resampled from 44.1 kHz,
#: 2 on this grid; hi-hat SNR 0.49 -> 0.93 dB (1.09 at 44.1 kHz;
#: docs/log/drums-full-song-decisions.md, rate48_68).
FRAMES_48K = (4464, 1116)


def frames_for_rate(sr) -> tuple[int, int]:
    """``(n_fft, hop_length)`` with the durations of the defaults at 22.05 kHz (2048 / 512:
    93-ms frames, a 23-ms hop) at ``sr``, scaled by a power of two: 4096 / 1024 at 44.1
    kHz, 8192 / 2048 at 88.2 and 96 kHz; never below 2048 / 512.  At 48 kHz
    :data:`FRAMES_48K` (4464 / 1116), the 44.1-kHz grid's durations.

    Why: a model tuned at 22.05 kHz sees the same time-frequency grid at any rate, and
    at 44.1 kHz a frame-domain fit costs a quarter (half the frames, convolutive
    templates half as many frames long) with as many spectrogram values as 2048 / 512.
    At 48 kHz (the rate of a video's audio) the power of two's grid was 9 % off both
    ways and the song decisions tuned at 44.1 kHz moved with it; other rates off the
    22.05-kHz family (32, 96 kHz) keep the power of two (not measured).
    """
    if sr == 48000:
        return FRAMES_48K
    factor = 2 ** max(0, int(round(np.log2(float(sr) / REFERENCE_SR))))
    return N_FFT * factor, HOP_LENGTH * factor


def frames_or_defaults(n_fft, hop_length, sr) -> tuple[int, int]:
    """``(n_fft, hop_length)``, checked (:func:`check_frames`): the given ones, else
    :func:`frames_for_rate`'s at ``sr``; with only ``n_fft`` given, hop ``n_fft // 4``
    (the drum separation's rule, also used to estimate its memory before a file is read)."""
    scaled_n_fft, scaled_hop = frames_for_rate(sr)
    if n_fft is None:
        n_fft = scaled_n_fft
        hop_length = scaled_hop if hop_length is None else hop_length
    elif hop_length is None:
        n_fft = check_int(n_fft, "n_fft", 2)
        hop_length = max(1, n_fft // 4)
    return check_frames(n_fft, hop_length)


def check_frames(n_fft, hop_length, window=WINDOW) -> tuple[int, int]:
    """Validate ``n_fft`` and ``hop_length``; return them as ints.

    The frames must overlap enough for the inverse to exist (the "nonzero overlap-add"
    condition): with a Hann window that means ``hop_length <= n_fft // 2``.  The window
    test runs once per (n_fft, hop_length, window) in a process: ``separate`` checks the
    settings, then its STFT and every inverse STFT check them again.
    """
    n_fft = check_int(n_fft, "n_fft", 2)
    hop_length = check_int(hop_length, "hop_length", 1)
    if hop_length > n_fft:
        raise ValueError(f"hop_length={hop_length} must be <= n_fft={n_fft} (usually n_fft // 4)")
    try:
        _check_overlap(n_fft, hop_length, window)
    except TypeError:  # an unhashable window (an array): not cached
        _check_overlap.__wrapped__(n_fft, hop_length, window)
    return n_fft, hop_length


@functools.lru_cache(maxsize=64)
def _check_overlap(n_fft: int, hop_length: int, window) -> None:
    """Raise ValueError unless ``window`` frames of ``n_fft`` every ``hop_length`` samples
    cover every sample: scipy's ``check_NOLA``, its sums in its order (the squared window
    folded into rows one hop long and added row after row; every sample of the steady
    part gets one of these sums) — written out so that a run does not import
    ``scipy.signal`` (see :func:`window_values`)."""
    try:
        squares = window_values(window, n_fft) ** 2
    except Exception as exc:
        raise ValueError(f"window={window!r} is not a window librosa knows ({exc}); use 'hann'") from None
    rows = -(-n_fft // hop_length)
    folded = np.zeros(rows * hop_length, dtype=squares.dtype)
    folded[:n_fft] = squares
    if not folded.reshape(rows, hop_length).sum(axis=0).min() > _NOLA_TOL:
        raise ValueError(
            f"hop_length={hop_length} leaves samples that no {window!r} window of n_fft={n_fft} covers, "
            f"so the signal cannot be rebuilt; use hop_length <= {n_fft // 2} (usually n_fft // 4)"
        )


#: scipy.signal.check_NOLA's tolerance on the overlap-added squared window.
_NOLA_TOL = 1e-10


def window_values(window, n_fft: int) -> np.ndarray:
    """The periodic analysis window of the STFTs here, as ``librosa.filters.get_window(window,
    n_fft, fftbins=True)`` gives it.

    The default ``"hann"`` is computed as scipy computes it
    (``scipy.signal.windows.hann(n_fft, sym=False)``: the same ``linspace``, cosines and
    sum, so the same values; tests/test_spectrum.py), because importing ``scipy.signal``,
    which ``librosa.filters`` does, cost a command-line run 0.4-0.6 s of its start-up
    (docs/performance.md, the second start-up round); any other window comes from librosa.

    Parameters
    ----------
    window : str, tuple, callable or ndarray
        Anything librosa's ``get_window`` takes.
    n_fft : int

    Returns
    -------
    ndarray, float64, shape (n_fft,)
    """
    if isinstance(window, str) and window == "hann" and n_fft > 1:
        fac = np.linspace(-np.pi, np.pi, n_fft + 1)  # one more point, then dropped: periodic
        values = np.zeros(n_fft + 1)
        for k, weight in enumerate((0.5, 0.5)):  # scipy's general_cosine with a = (0.5, 0.5)
            values += weight * np.cos(k * fac)
        return values[:-1]
    import librosa

    return librosa.filters.get_window(window, n_fft, fftbins=True)


def _window_sumsquare(window, n_frames: int, n_fft: int, hop_length: int, dtype) -> np.ndarray:
    """librosa's ``window_sumsquare(window=window, n_frames=n_frames, n_fft=n_fft,
    win_length=n_fft, hop_length=hop_length, dtype=dtype)``: the squared window summed
    over ``n_frames`` frames ``hop_length`` apart, frame by frame in time order, in
    ``dtype`` (the same additions, so the same values), without importing
    ``librosa.filters`` (see :func:`window_values`).

    Returns
    -------
    ndarray, ``dtype``, shape (n_fft + hop_length * (n_frames - 1),)
    """
    size = n_fft + hop_length * (n_frames - 1)
    squares = np.zeros(size, dtype=dtype)
    window_squared = window_values(window, n_fft) ** 2
    for frame in range(n_frames):
        start = frame * hop_length
        squares[start:min(size, start + n_fft)] += window_squared[:max(0, min(n_fft, size - start))]
    return squares


def n_frames(n_samples: int, *, hop_length: int = HOP_LENGTH, n_fft: int = N_FFT) -> int:
    """Number of STFT frames :func:`stft` gives for ``n_samples`` samples (centred frames)."""
    pad = int(n_fft) // 2
    return 1 + (int(n_samples) + 2 * pad - int(n_fft)) // int(hop_length)


def _checked_samples(y) -> np.ndarray:
    """``y`` as a float32 or float64 array of shape (n_samples,) or (n_channels, n_samples)
    (other real dtypes become float32); TypeError/ValueError for complex, badly shaped,
    channel-less or non-finite input.  The input check of :func:`stft` and
    :func:`stft_frame_major`."""
    refuse_load_pair(y, "y")
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"y has dtype {y.dtype}; stft needs real samples")
    if y.dtype not in (np.float32, np.float64):
        y = y.astype(np.float32)
    if y.ndim not in (1, 2):
        raise ValueError(f"y has shape {y.shape}; it must be (n_samples,) or (n_channels, n_samples)")
    if y.ndim == 2 and y.shape[0] == 0:
        raise ValueError(f"y has shape {y.shape}: no channels; give (n_samples,) or (n_channels, n_samples)")
    if not np.all(np.isfinite(y)):
        raise ValueError("y holds NaN or infinite samples; repair the audio first")
    return y


def stft(y, *, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH, window=WINDOW, center: bool = True,
         out: np.ndarray | None = None) -> np.ndarray:
    """Complex spectrogram of ``y``.

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_channels, n_samples)
        Real, finite samples (float32 stays float32).
    n_fft : int, default 2048
        Frame length in samples; gives ``1 + n_fft // 2`` frequency bins.
    hop_length : int, default 512
        Samples between frames.
    window : str, default "hann"
    center : bool, default True
        Centred frames: frame t covers samples ``[t·hop - n_fft//2, t·hop - n_fft//2 + n_fft)``
        of ``y`` zero-padded on both sides.  False: frame t starts at sample ``t·hop``
        (no padding; ``y`` must hold at least ``n_fft`` samples) — used to compute a
        stretch of the centred frames from a segment of a long signal.
    out : ndarray, complex, optional
        Where to write the result (librosa's ``out``): an array of the result's shape and
        dtype, e.g. the transpose of a C-contiguous (n_frames, n_freq) array.

    Returns
    -------
    X : ndarray, complex64 for float32 input (else complex128),
        shape (1 + n_fft // 2, n_frames) or (n_channels, 1 + n_fft // 2, n_frames),
        ``n_frames = 1 + n_samples // hop_length`` (centred, even n_fft), or
        ``1 + (n_samples - n_fft) // hop_length`` (``center=False``).
    """
    import librosa

    n_fft, hop_length = check_frames(n_fft, hop_length, window)
    y = _checked_samples(y)
    if not center and y.shape[-1] < n_fft:
        raise ValueError(f"y has {y.shape[-1]} samples; center=False needs at least n_fft={n_fft}")
    with warnings.catch_warnings():
        # Short signals are fine: centring zero-pads them to a full frame.
        warnings.filterwarnings("ignore", message="n_fft=.*is too large", category=UserWarning)
        return librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window=window, center=bool(center),
                            pad_mode="constant", out=out)


def stft_frame_major(y, *, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH, window=WINDOW,
                     magnitude: bool = False):
    """The centred :func:`stft` of every channel, laid out frame-major per channel: the
    result is a (C, F, N) view of a C-contiguous (C, N, F) array, so ``X[c].T`` is
    contiguous — the layout the inverse FFTs read (a multichannel :func:`stft` has the
    channel axis innermost, and each channel's frames would need a copy).  The channels,
    in ranges of frames (:data:`STFT_TASKS`), are transformed on the engine's threads.

    Computed as the real FFT (``scipy.fft.rfft``) of the windowed frames, a stretch of
    frames at a time, in the input's precision: librosa windows float32 samples with a
    float64 window and transforms in float64, twice the time (0.27 s against 0.14 s per
    channel of 3 minutes at 44.1 kHz, n_fft 4096); the two agree to float32 rounding
    (~1e-7 of the peak).

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_channels, n_samples), real and finite
        Checked and converted as by :func:`stft` (a 1-D signal is one channel; integer and
        float16 samples become float32).
    magnitude : bool, default False
        Also return ``np.abs(X)``, made while each stretch of frames is in the cache.

    Returns
    -------
    X : ndarray, complex64 for float32 input (else complex128), shape (n_channels, 1 + n_fft // 2, n_frames)
    magnitude : ndarray, float32 or float64, the shape and layout of X (with ``magnitude=True``)
    """
    from nmfaudio.nmf.kernels import run_in_threads

    n_fft, hop_length = check_frames(n_fft, hop_length, window)
    y = _checked_samples(y)
    if y.ndim == 1:
        y = y[None]
    dtype = np.complex64 if y.dtype == np.float32 else np.complex128
    n = n_frames(y.shape[-1], hop_length=hop_length, n_fft=n_fft)
    X = np.empty((y.shape[0], n, 1 + n_fft // 2), dtype=dtype)
    M = np.empty(X.shape, dtype=y.dtype) if magnitude else None
    frame_window = _frame_window(window, n_fft, y.dtype.str)
    chunk = max(1, _STFT_CHUNK_BYTES // (n_fft * y.dtype.itemsize))
    tasks = _stft_tasks(y.shape[0], n, chunk)

    def task(i):
        import scipy.fft

        c, first, stop = tasks[i]
        frames = np.lib.stride_tricks.sliding_window_view(_padded_stretch(y[c], first, stop, n_fft, hop_length),
                                                          n_fft)[::hop_length]
        windowed = np.empty((chunk, n_fft), y.dtype)
        for t0 in range(first, stop, chunk):
            t1 = min(t0 + chunk, stop)
            block = np.multiply(frames[t0 - first:t1 - first], frame_window, out=windowed[:t1 - t0])
            X[c, t0:t1] = scipy.fft.rfft(block, axis=-1, workers=1)
            if M is not None:
                np.abs(X[c, t0:t1], out=M[c, t0:t1])

    run_in_threads(task, len(tasks))
    if magnitude:
        return X.transpose(0, 2, 1), M.transpose(0, 2, 1)
    return X.transpose(0, 2, 1)


#: Bytes of windowed frames :func:`stft_frame_major` transforms at a time (in cache).
_STFT_CHUNK_BYTES = 2**20
#: Tasks (channel × range of frames) :func:`stft_frame_major` splits the frames into, at
#: least one per channel: a mono track's frames were one thread's while the other core
#: idled (0.15 s of a 44.1-kHz 3-minute track's run, most of it the first writes to the
#: spectrogram's fresh pages).  The ranges hold whole chunks, so each FFT call transforms
#: the frames it did before: the same numbers whatever the tasks.
STFT_TASKS = 4


def _stft_tasks(n_channels: int, n_frames: int, chunk: int) -> list[tuple[int, int, int]]:
    """``(channel, first frame, stop frame)`` of :func:`stft_frame_major`'s tasks: each
    channel's frames cut into ``ceil(STFT_TASKS / n_channels)`` ranges (fewer for a short
    signal) that start on a multiple of ``chunk``."""
    n_chunks = -(-n_frames // chunk)
    parts = max(1, min(-(-STFT_TASKS // n_channels), n_chunks))
    bounds = [min(n_frames, chunk * (n_chunks * p // parts)) for p in range(parts + 1)]
    return [(c, a, b) for c in range(n_channels) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _padded_stretch(x, first: int, stop: int, n_fft: int, hop_length: int) -> np.ndarray:
    """The samples of centred frames ``first … stop − 1`` of ``x`` (shape (n,)): those of
    ``np.pad(x, n_fft // 2)`` (zeros outside, pad_mode "constant") from ``first ·
    hop_length`` on, shape ((stop − first − 1) · hop_length + n_fft,)."""
    lo = first * hop_length - n_fft // 2  # index in x of the stretch's first sample
    out = np.zeros((stop - first - 1) * hop_length + n_fft, x.dtype)
    a, b = max(lo, 0), min(lo + out.size, x.size)
    if b > a:
        out[a - lo:b - lo] = x[a:b]
    return out


def istft(
    X, *, length: int | None = None, n_fft: int | None = None, hop_length: int = HOP_LENGTH, window=WINDOW,
    center: bool = True,
) -> np.ndarray:
    """Signal from a complex spectrogram made by :func:`stft`.

    Parameters
    ----------
    X : ndarray, complex, shape (n_freq, n_frames) or (..., n_freq, n_frames)
    length : int, optional
        Number of samples to return (pass the original signal's length to get exactly
        that many samples back).  Default: ``hop_length * (n_frames - 1)``.
    n_fft : int, optional
        Default ``2 * (n_freq - 1)``.
    hop_length : int, default 512
    window : str, default "hann"
    center : bool, default True
        As in :func:`stft`.  With ``center=False`` the result has ``n_fft + hop_length ·
        (n_frames - 1)`` samples, the first at frame 0's first sample; samples that some
        frame outside ``X`` would also cover are incomplete (the block-wise mode keeps
        only the samples every contributing frame of which is in ``X``).

    Returns
    -------
    y : ndarray, float32 for complex64 input, shape (length,) or (..., length)
    """
    import librosa

    X = np.asarray(X)
    if X.dtype.kind not in "biufc":
        raise TypeError(f"X has dtype {X.dtype}; it must be a complex spectrogram from stft()")
    if X.ndim < 2:
        raise ValueError(f"X has shape {X.shape}; it must be (n_freq, n_frames) or (..., n_freq, n_frames)")
    if X.shape[-2] < 2 or X.shape[-1] < 1:
        raise ValueError(f"X has shape {X.shape}; it needs >= 2 frequency bins and >= 1 frame")
    if n_fft is None:
        n_fft = 2 * (X.shape[-2] - 1)
    n_fft, hop_length = check_frames(n_fft, hop_length, window)
    if X.shape[-2] != 1 + n_fft // 2:
        raise ValueError(f"X has {X.shape[-2]} frequency bins but n_fft={n_fft} needs {1 + n_fft // 2}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X holds NaN or infinite values; check the masks or gains applied to it")
    if length is not None:
        length = check_int(length, "length", 0)
        if length == 0:
            return np.zeros(X.shape[:-2] + (0,), dtype=np.float32 if X.dtype == np.complex64 else np.float64)
    if _overlap_add is None or X.dtype not in (np.complex64, np.complex128):
        return librosa.istft(X, hop_length=hop_length, n_fft=n_fft, window=window, center=bool(center),
                             length=length)
    return _istft(X, n_fft, hop_length, window, bool(center), length)


#: Bytes of inverse-FFT frames held at a time by :func:`istft` (the frames are n_fft / hop
#: times the size of the signal they make).
_CHUNK_BYTES = 16 * 2**20


def istft_chunk_frames(n_fft: int, n_signals: int = 1, dtype=np.float32) -> int:
    """How many frames :func:`istft_from_frames` asks ``frames_of`` for at a time (at
    most), for ``n_signals`` signals of real ``dtype``."""
    return max(1, _CHUNK_BYTES // (n_signals * n_fft * np.dtype(dtype).itemsize))


def stft_frames(y, start: int, stop: int, *, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH,
                window=WINDOW, scale: float = 1.0) -> np.ndarray:
    """Frames ``[start, stop)`` of the centred :func:`stft` of ``y``, computed from the
    samples they cover only (zero outside ``y``, as the centred STFT pads), so a long
    signal's spectrogram can be made a stretch at a time.

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_channels, n_samples)
    start, stop : int
        Frame range, ``0 <= start < stop``.
    scale : float, default 1
        Multiply the samples by this (exactly, see :func:`nmfaudio.fitting.scaled`) first.

    Returns
    -------
    ndarray, complex, shape (1 + n_fft // 2, stop - start) or (n_channels, 1 + n_fft // 2, stop - start)
    """
    pad = n_fft // 2
    first, last = start * hop_length - pad, (stop - 1) * hop_length - pad + n_fft
    segment = np.zeros(y.shape[:-1] + (last - first,), dtype=y.dtype)
    lo, hi = max(first, 0), min(last, y.shape[-1])
    if hi > lo:
        segment[..., lo - first:hi - first] = y[..., lo:hi]
    if scale != 1:
        segment = segment * np.float64(scale) if y.dtype == np.float64 else (
            segment.astype(np.float64) * scale).astype(y.dtype)
    return stft(segment, n_fft=n_fft, hop_length=hop_length, window=window, center=False)


def band_magnitude(y, *, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH, first_bin: int = 0,
                   window=WINDOW, exact: bool = True) -> np.ndarray:
    """``np.abs(stft(y, center=False)[first_bin:])``, bit for bit, in a quarter less time
    and without the complex spectrogram: the magnitude of bins ``first_bin`` and up of
    the frames of a 1-D signal (frame t starts at sample ``t · hop_length``).

    Computed as :func:`librosa.stft` computes it — float samples times the float64
    window, the real FFT of librosa's FFT library in float64, rounded to complex64 for
    float32 samples — but on frames laid out contiguously, a block of frames at a time,
    keeping only the bins asked for (librosa transforms the columns of a frame matrix
    and fills a Fortran-ordered spectrogram of every bin).  The hit detection's band
    flux (:mod:`nmfaudio.drums.hits`) reads the top of the spectrum of every track this
    way; the equality is tested (tests/test_spectrum.py).

    Parameters
    ----------
    y : ndarray, shape (n_samples,), real and finite, ``n_samples >= n_fft``
        float32 stays float32 (float64 gives float64).
    first_bin : int, default 0
        The lowest bin kept (bin ``f`` is at ``f · sr / n_fft`` Hz).
    exact : bool, default True
        False: the window and the real FFT (``scipy.fft``) in the samples' precision, as
        :func:`stft_frame_major` — for float32 samples about half the time, the
        magnitudes within float32 rounding of the exact ones (1.4e-6 of the peak on a
        3-minute track), not bit for bit.

    Returns
    -------
    ndarray, float32 (float64 for float64 samples), C-contiguous,
    shape (1 + n_fft // 2 - first_bin, 1 + (n_samples - n_fft) // hop_length)
    """
    import librosa

    n_fft, hop_length = check_frames(n_fft, hop_length, window)
    y = _checked_samples(y)
    if y.ndim != 1:
        raise ValueError(f"y has shape {y.shape}; band_magnitude takes one channel (n_samples,)")
    if y.shape[-1] < n_fft:
        raise ValueError(f"y has {y.shape[-1]} samples; band_magnitude needs at least n_fft={n_fft}")
    first_bin = check_int(first_bin, "first_bin", 0)
    if first_bin > n_fft // 2:
        raise ValueError(f"first_bin={first_bin} must be <= n_fft // 2 = {n_fft // 2} (the last bin)")
    complex_dtype = np.complex64 if y.dtype == np.float32 else np.complex128
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop_length]
    if exact:  # librosa's: a float64 window and transform whatever the samples
        fft_window, work_dtype, rfft = _frame_window(window, n_fft, "<f8"), np.float64, librosa.get_fftlib().rfft
    else:
        import scipy.fft

        fft_window, work_dtype = _frame_window(window, n_fft, y.dtype.str), y.dtype
        rfft = functools.partial(scipy.fft.rfft, workers=1)
    out = np.empty((1 + n_fft // 2 - first_bin, frames.shape[0]), dtype=y.dtype)
    block = max(1, _BAND_BLOCK_BYTES // (n_fft * 8))
    windowed = np.empty((block, n_fft), dtype=work_dtype)
    for t0 in range(0, frames.shape[0], block):
        t1 = min(t0 + block, frames.shape[0])
        product = np.multiply(frames[t0:t1], fft_window, out=windowed[:t1 - t0])
        spectrum = rfft(product, axis=-1)[:, first_bin:]
        out[:, t0:t1] = np.abs(spectrum.astype(complex_dtype, copy=False)).T
    return out


#: Bytes of float64 windowed frames :func:`band_magnitude` transforms at a time (64
#: frames of 1024: fastest of 16-1024 frames measured, in cache).
_BAND_BLOCK_BYTES = 2**19


def istft_from_frames(frames_of, out: np.ndarray, *, n_frames: int, n_fft: int = N_FFT,
                      hop_length: int = HOP_LENGTH, window=WINDOW, workers: int | None = None,
                      offset: int | None = None) -> np.ndarray:
    """The centred inverse STFT of a spectrogram that is never held whole: written into
    ``out``, asking ``frames_of(t0, t1)`` for a few frames at a time (so a masked
    spectrogram can be made chunk by chunk).  Same result as :func:`istft` with
    ``length=out.shape[-1]``.

    Parameters
    ----------
    frames_of : callable(t0, t1) -> ndarray, complex, shape (n_signals, 1 + n_fft // 2, t1 - t0)
    out : ndarray, float, shape (n_signals, length)
        Overwritten with the signals (float32 for complex64 frames).
    n_frames : int
        Frames of the whole spectrogram.
    workers : int, optional
        Threads for the inverse FFTs (default: the engine's, :func:`nmfaudio.nmf.kernels.num_threads`);
        1 when the caller runs several of these calls on its own threads.
    offset : int, optional
        Index of ``out[:, 0]`` in the signal the uncut frames make (frame 0 starting at
        index 0).  Default ``n_fft // 2``: the centred STFT's first sample.  Other values
        cut a stretch out of the inverse of non-centred frames (the block-wise mode);
        samples some frame outside ``n_frames`` would also reach are then incomplete.

    Returns
    -------
    out
    """
    n_fft, hop_length = check_frames(n_fft, hop_length, window)
    start = n_fft // 2 if offset is None else check_int(offset, "offset", 0)
    out[...] = 0
    return _istft_chunks(frames_of, out, out.shape[0], n_frames, n_fft, hop_length, window, start, workers)


def overlap_add(frames, out, *, first: int, offset: int, hop_length: int = HOP_LENGTH, window=WINDOW) -> np.ndarray:
    """Add windowed inverse-FFT frames into ``out``: ``out[s, (first + t)·hop + i − offset]
    += window[i] · frames[s, t, i]`` where that index lies in ``out`` (the rest is
    dropped), frames in time order — the overlap-add of :func:`istft`, for callers that
    make an inverse STFT a stretch of frames (and of samples) at a time.  Divide the
    finished samples by :func:`istft_norm`.

    Parameters
    ----------
    frames : ndarray, float, shape (n_signals, n, n_fft)
        The inverse FFTs (``irfft``) of frames ``first … first + n − 1``.
    out : ndarray, float of frames' dtype, shape (n_signals, size)
        A slice of the signals is fine: then ``offset`` includes the slice's start.
    first : int
        Index of the first of ``frames`` in the whole spectrogram.
    offset : int
        ``out[:, 0]``'s index in the uncut frames' signal: its sample index in the
        signal plus ``n_fft // 2`` for the centred frames of :func:`stft`.
    hop_length : int, default 512
    window : str, default "hann"

    Returns
    -------
    out
    """
    n_fft = frames.shape[-1]
    frame_window = _frame_window(window, n_fft, np.dtype(out.dtype).str)
    if _overlap_add is None:  # pragma: no cover - numba comes with librosa
        for t in range(frames.shape[1]):
            start = (first + t) * hop_length - offset
            lo, hi = max(0, -start), min(n_fft, out.shape[-1] - start)
            if hi > lo:
                out[:, start + lo:start + hi] += frame_window[lo:hi] * frames[:, t, lo:hi]
        return out
    _overlap_add(frames, frame_window, int(hop_length), int(first), int(offset), out)
    return out


def istft_norm(n_frames: int, length: int, *, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH, window=WINDOW,
               dtype=np.float32, span: tuple[int, int] | None = None) -> np.ndarray:
    """What the centred inverse STFT divides the overlap-added samples by (the squared
    window overlap-added, librosa's ``window_sumsquare``), for a signal of ``length``
    samples made from ``n_frames`` frames; divide only where it exceeds
    ``librosa.util.tiny`` (as :func:`istft` does).

    Parameters
    ----------
    span : (int, int), optional
        ``(lo, hi)``: only samples ``lo … hi − 1`` of it, the same values, made without
        the whole signal's array (a track's length of float32: fresh memory is what a
        3-minute 44.1-kHz run pays most for; docs/performance.md, the speed45 round).

    Returns
    -------
    ndarray, shape (length,), or (hi − lo,) with ``span``
    """
    if span is None:
        return _window_norm(window, n_frames, n_fft, hop_length, np.dtype(dtype), n_fft // 2, length)
    lo, hi = max(0, int(span[0])), min(length, int(span[1]))
    return _window_norm_span(window, n_frames, n_fft, hop_length, np.dtype(dtype), n_fft // 2 + lo, max(hi - lo, 0))


def _frame_window(window, n_fft: int, dtype: str) -> np.ndarray:
    """The analysis and synthesis window of the STFTs here (read-only): cached for a named
    window, made anew for an array (unhashable), as librosa accepts both."""
    try:
        return _cached_frame_window(window, n_fft, dtype)
    except TypeError:
        return _cached_frame_window.__wrapped__(window, n_fft, dtype)


@functools.lru_cache(maxsize=16)
def _cached_frame_window(window, n_fft: int, dtype: str) -> np.ndarray:
    frame_window = window_values(window, n_fft).astype(np.dtype(dtype))
    frame_window.flags.writeable = False
    return frame_window


def _istft(X, n_fft, hop_length, window, center, length):
    """librosa.istft's result to float rounding (the same frames, summation order and
    normalization by the window's sum of squares; ≤ 2e-7 of the peak, tested), about
    twice as fast: the inverse FFTs run on the engine's threads, and windowing and
    overlap-add are one compiled pass over frames laid out contiguously, without
    librosa's temporaries and fancy-indexed division (timings in docs/performance.md)."""
    n_frames = X.shape[-1]
    if length:  # librosa reads only the frames that reach into the output
        padded = length + 2 * (n_fft // 2) if center else length
        n_frames = min(n_frames, int(np.ceil(padded / hop_length)))
    real = np.float32 if X.dtype == np.complex64 else np.float64
    lead = X.shape[:-2]
    spectra = X.reshape((-1,) + X.shape[-2:])
    start = n_fft // 2 if center else 0
    size = length if length else n_fft + hop_length * (n_frames - 1) - (2 * start if center else 0)
    out = np.zeros((spectra.shape[0], size), dtype=real)
    _istft_chunks(lambda t0, t1: spectra[..., t0:t1], out, spectra.shape[0], n_frames, n_fft, hop_length, window,
                  start)
    return out.reshape(lead + (size,))


def _istft_chunks(frames_of, out, n_signals, n_frames, n_fft, hop_length, window, start, workers=None):
    """Overlap-add the inverse FFTs of ``frames_of(t0, t1)``, a chunk at a time, into the
    zeroed ``out`` (n_signals, size), whose first sample is index ``start`` of the uncut
    frames' signal — the samples outside it are dropped — then divide by the window's
    sum of squares."""
    import scipy.fft

    from nmfaudio.nmf.kernels import num_threads

    real = out.dtype
    size = out.shape[-1]
    frame_window = _frame_window(window, n_fft, np.dtype(real).str)
    step = istft_chunk_frames(n_fft, n_signals, real)
    with scipy.fft.set_workers(num_threads() if workers is None else workers):
        for first in range(0, n_frames, step):  # a chunk of frames at a time: little memory
            # (n_signals, frames, n_fft): each frame contiguous for the overlap-add
            spectra = frames_of(first, min(first + step, n_frames))
            frames = scipy.fft.irfft(spectra.transpose(0, 2, 1), n=n_fft, axis=-1)
            del spectra
            _overlap_add(frames.astype(real, copy=False), frame_window, hop_length, first, start, out)
    norm = _window_norm(window, n_frames, n_fft, hop_length, real, start, size)
    np.divide(out, norm, out=out, where=norm > np.finfo(norm.dtype).tiny)  # librosa.util.tiny
    return out


def _cached_norm_parts(window, n_fft, hop_length, dtype):
    """:func:`_window_norm_parts` (cached where the window is hashable) and ``m``, the
    number of frames its head holds."""
    try:
        head, period = _window_norm_parts(window, n_fft, hop_length, dtype.str)
    except TypeError:  # an unhashable window (an array): not cached
        head, period = _window_norm_parts.__wrapped__(window, n_fft, hop_length, dtype.str)
    return head, period, (head.size - n_fft) // hop_length + 1


def _window_norm(window, n_frames, n_fft, hop_length, dtype, start, size):
    """The overlap-added squared window the inverse STFT divides by (librosa's
    ``window_sumsquare``), ``size`` samples from ``start``, bit for bit.

    Built from :func:`_window_norm_parts` instead of summing ``n_frames`` windows: away
    from the first and last frames every sample gets the same window values in the same
    order as the sample one hop earlier, so the sum repeats with period ``hop_length``.
    Only those few-frame parts are cached (a signal-length cache would keep tens of MB
    alive after the call); tiling them costs a copy, not an overlap-add pass.
    """
    dtype = np.dtype(dtype)
    head, period, m = _cached_norm_parts(window, n_fft, hop_length, dtype)
    if n_frames <= m:
        norm = _window_sumsquare(window, n_frames, n_fft, hop_length, dtype)
    else:
        norm = np.empty(n_fft + hop_length * (n_frames - 1), dtype=dtype)
        # Samples before frame m: only frames 0..m-1 reach them, as in head.
        norm[:m * hop_length] = head[:m * hop_length]
        # Samples past the end of frame n_frames - m - 1: only the last m frames reach them.
        tail_from = n_fft - hop_length
        norm[(n_frames - m) * hop_length + tail_from:] = head[tail_from:]
        # Between: every frame reaching a sample exists, so it repeats with the hop.
        lo, hi = m * hop_length, (n_frames - m) * hop_length + tail_from
        if hi > lo:  # whole hops as rows of one broadcast copy (no signal-length temporary), then the rest
            whole = (hi - lo) // hop_length
            norm[lo:lo + whole * hop_length].reshape(whole, hop_length)[...] = period
            norm[lo + whole * hop_length:hi] = period[:hi - lo - whole * hop_length]
    norm = norm[start:start + size]  # librosa.util.fix_length: cut or zero-padded to size
    return norm if norm.size == size else np.pad(norm, (0, size - norm.size))


def _window_norm_span(window, n_frames, n_fft, hop_length, dtype, start, size):
    """:func:`_window_norm`'s values (the same copies of the same parts, so the same bits)
    without its whole-signal array: samples ``start … start + size − 1`` of the uncut
    overlap-added squared window, 0 past its end (``fix_length``'s padding)."""
    dtype = np.dtype(dtype)
    head, period, m = _cached_norm_parts(window, n_fft, hop_length, dtype)
    if n_frames <= m:  # a few frames: the whole norm is small
        return _window_norm(window, n_frames, n_fft, hop_length, dtype, start, size)
    total = n_fft + hop_length * (n_frames - 1)  # the uncut norm's length
    out = np.zeros(size, dtype=dtype)
    stop = start + size

    def fill(a, b, values):  # uncut samples [a, b) from values(a', b') of the part's overlap
        a, b = max(a, start), min(b, stop, total)
        if b > a:
            out[a - start:b - start] = values(a, b)

    # in _window_norm's order of assignment (the tail's part wins where the head's overlaps it)
    tail_from = n_fft - hop_length
    shift = (n_frames - m) * hop_length
    fill(0, m * hop_length, lambda a, b: head[a:b])
    fill(shift + tail_from, total, lambda a, b: head[a - shift:b - shift])
    middle_lo, middle_hi = m * hop_length, shift + tail_from
    if middle_hi > middle_lo:  # every hop the same values: the period, from the phase of a
        def periodic(a, b):
            phase = (a - middle_lo) % hop_length
            return np.resize(np.concatenate([period[phase:], period[:phase]]), b - a)

        fill(middle_lo, middle_hi, periodic)
    return out


@functools.lru_cache(maxsize=16)
def _window_norm_parts(window, n_fft, hop_length, dtype):
    """``(head, period)`` for :func:`_window_norm`: the window sum-square of the first
    ``ceil(n_fft / hop_length) + 1`` frames, and one hop of its steady part (read-only;
    a few n_fft long, so caching them is cheap)."""
    q = -(-n_fft // hop_length)  # most frames that reach one sample
    head = _window_sumsquare(window, q + 1, n_fft, hop_length, np.dtype(dtype))
    period = head[q * hop_length:(q + 1) * hop_length].copy()
    head.flags.writeable = False
    period.flags.writeable = False
    return head, period


try:
    import numba

    @numba.njit(nogil=True, cache=True)
    def _overlap_add(frames, window, hop, first, offset, out):
        """out[s, (first + t)·hop + i - offset] += window[i] · frames[s, t, i] where that
        index lies in ``out``, frames in time order (the order librosa adds them)."""
        n_fft = window.size
        size = out.shape[1]
        for s in range(frames.shape[0]):
            signal = out[s]
            for t in range(frames.shape[1]):
                start = (first + t) * hop - offset
                lo = max(0, -start)
                hi = min(n_fft, size - start)
                # one-dimensional slices: LLVM vectorizes this loop (2.7x faster than
                # indexing out[s, start + i] and frames[s, t, i]; the same sums)
                target, weights, frame = signal[start + lo:start + hi], window[lo:hi], frames[s, t, lo:hi]
                for i in range(hi - lo):
                    target[i] += weights[i] * frame[i]
except ImportError:  # pragma: no cover - numba comes with librosa
    _overlap_add = None
