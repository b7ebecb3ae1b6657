"""Peak picking for the hit detection and the ride decision, as scipy and librosa pick
them, without importing ``scipy.signal`` or ``librosa.util``.

Importing ``scipy.signal`` (which brings ``scipy.stats``) and ``librosa.util`` (which
compiles or loads librosa's numba functions) cost a command-line run 0.9-1.0 s of its
start-up, more than a third of a 3-minute track's separation (docs/performance.md, the
second start-up round of 2026-12-05).  The drum code used two functions of them:

- :func:`find_peaks`: ``scipy.signal.find_peaks(x, height=..., distance=...)[0]``;
- :func:`peak_pick`: ``librosa.util.peak_pick(x, ..., sparse=True)``.

Both are written out here step for step — the same comparisons in the same order, the
same ``numpy.argsort`` for the distance rule, the same numba loop for the running mean —
so they pick the same peaks (tests/test_drum_peaks.py compares them with scipy's and
librosa's on random, quantized and flat signals).
"""

from __future__ import annotations

import numpy as np

__all__ = ["find_peaks", "peak_pick"]


def find_peaks(x, *, height: float, distance: int = 1) -> np.ndarray:
    """Indices of the local maxima of ``x`` at least ``height`` high, thinned so that no
    two lie closer than ``distance`` samples (the higher kept):
    ``scipy.signal.find_peaks(x, height=height, distance=distance)[0]``.

    A flat top counts once, at its middle (the left one of two middles); the first and
    last samples are never peaks.

    Parameters
    ----------
    x : array_like, shape (n,)
        Read as float64.
    height : float
        The lowest peak kept (a number: scipy's arrays and ``(min, max)`` pairs are not
        taken).
    distance : number >= 1, default 1
        Samples at least between two kept peaks (rounded up, as scipy does); finite.

    Returns
    -------
    ndarray of intp, shape (n_peaks,), increasing
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x has shape {x.shape}; find_peaks takes a 1-D signal")
    if not 1 <= distance < np.inf:
        raise ValueError(f"distance={distance} must be a finite number >= 1")
    peaks = _local_maxima(x)
    peaks = peaks[height <= x[peaks]]
    return peaks[_kept_by_distance(peaks, x[peaks], int(np.ceil(distance)))]


def _local_maxima(x: np.ndarray) -> np.ndarray:
    """scipy's ``_local_maxima_1d``: the middles of the runs of equal samples higher
    than both neighbours.  Vectorized over the runs of equal values."""
    n = x.size
    if n < 3:
        return np.zeros(0, dtype=np.intp)
    starts = np.flatnonzero(np.concatenate(([True], x[1:] != x[:-1])))  # each run of equal values
    ends = np.concatenate((starts[1:], [n])) - 1
    # a run is a peak when the sample before it is lower and the sample after it is lower;
    # runs touching either end are not (scipy starts at sample 1 and stops before the last)
    inner = (starts > 0) & (ends < n - 1)
    starts, ends = starts[inner], ends[inner]
    rise = x[starts - 1] < x[starts]
    fall = x[ends + 1] < x[ends]
    keep = rise & fall
    return ((starts[keep] + ends[keep]) // 2).astype(np.intp)


def _kept_by_distance(peaks: np.ndarray, priority: np.ndarray, distance: int) -> np.ndarray:
    """scipy's ``_select_by_peak_distance``: from the highest down (``numpy.argsort``'s
    order, as scipy's), each kept peak removes the peaks closer than ``distance``."""
    keep = np.ones(peaks.size, dtype=bool)
    if distance <= 1 or peaks.size < 2:  # peaks are distinct samples: none is closer than 1
        return keep
    for j in np.argsort(priority)[::-1]:
        if not keep[j]:
            continue
        lo = np.searchsorted(peaks, peaks[j] - distance, side="right")
        hi = np.searchsorted(peaks, peaks[j] + distance, side="left")
        keep[lo:j] = False
        keep[j + 1:hi] = False
    return keep


def peak_pick(x, *, pre_max: int, post_max: int, pre_avg: int, post_avg: int, delta: float,
              wait: int) -> np.ndarray:
    """``librosa.util.peak_pick(x, pre_max=..., post_max=..., pre_avg=..., post_avg=...,
    delta=..., wait=..., sparse=True)``: the samples that are the maximum of the ``pre_max``
    before to ``post_max`` after, at least ``delta`` above the mean of ``pre_avg`` before to
    ``post_avg`` after, and more than ``wait`` samples after the last one picked.

    Parameters
    ----------
    x : ndarray, shape (n,), float32 or float64
    pre_max, pre_avg, wait : number >= 0
    post_max, post_avg : number > 0
        Rounded up to whole samples, as librosa does.
    delta : float >= 0
        Compared in float32, as librosa's compiled loop takes it.

    Returns
    -------
    ndarray of intp, shape (n_peaks,), increasing
    """
    x = np.ascontiguousarray(x)
    if x.ndim != 1 or x.dtype not in (np.float32, np.float64):
        raise ValueError(f"x has shape {x.shape} and dtype {x.dtype}; peak_pick takes a 1-D float array")
    if min(pre_max, pre_avg, wait, delta) < 0 or min(post_max, post_avg) <= 0:
        raise ValueError("pre_max, pre_avg, wait and delta must be >= 0, post_max and post_avg > 0")
    pre_max, post_max, pre_avg, post_avg, wait = (int(np.ceil(v)) for v in (pre_max, post_max, pre_avg, post_avg,
                                                                            wait))
    peaks = np.zeros(x.size, dtype=np.bool_)
    if x.size:
        _peak_pick(x, pre_max, post_max, pre_avg, post_avg, np.float32(delta), wait, peaks)
    return np.flatnonzero(peaks)


try:
    import numba

    @numba.njit(nogil=True, cache=True)
    def _peak_pick(x, pre_max, post_max, pre_avg, post_avg, delta, wait, peaks):
        """librosa's ``__peak_pick`` loop (librosa 0.10-0.11), line for line: the same
        numba ``np.max`` / ``np.mean`` over the same slices, so the same picks."""
        n_samples = x.shape[0]
        peaks[0] = x[0] >= np.max(x[:min(post_max, n_samples)])
        peaks[0] &= x[0] >= np.mean(x[:min(post_avg, n_samples)]) + delta
        n = wait + 1 if peaks[0] else 1
        while n < n_samples:
            maxn = np.max(x[max(0, n - pre_max):min(n + post_max, n_samples)])
            peaks[n] = x[n] == maxn
            if not peaks[n]:
                n += 1
                continue
            avgn = np.mean(x[max(0, n - pre_avg):min(n + post_avg, n_samples)])
            peaks[n] &= x[n] >= avgn + delta
            if not peaks[n]:
                n += 1
                continue
            n += wait + 1
except ImportError:  # pragma: no cover - numba comes with librosa
    def _peak_pick(x, pre_max, post_max, pre_avg, post_avg, delta, wait, peaks):
        import librosa.util

        peaks[:] = librosa.util.peak_pick(x, pre_max=pre_max, post_max=post_max, pre_avg=pre_avg,
                                          post_avg=post_avg, delta=float(delta), wait=wait, sparse=False)
