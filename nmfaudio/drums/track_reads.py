"""The separated tracks as the hit detection (:mod:`nmfaudio.drums.hits`) reads them:
whole arrays, or files read a stretch at a time.

The hit detection looks at a track only near its hits (energy rises, shares) and a chunk
of frames at a time (the hi-hat's band flux), plus a few whole-track sums.  A track is
either an array, (n_samples,) or (n_channels, n_samples) — read as before, bit for bit —
or an :class:`nmfaudio.audio.ArrayReader` / :class:`~nmfaudio.audio.FileReader` (the
stems ``nmfaudio drums`` streams to disk in block-wise mode): then every quantity is
made from stretches of at most :data:`CHUNK_SAMPLES` samples (plus the windows' context
either side), so memory does not grow with the duration.  Each stretch holds every
sample the hits inside it read, so a hit near a stretch's edge gets the same numbers as
in memory (to float rounding of the local sums: the cumulative energy restarts at each
stretch).
"""

from __future__ import annotations

import numpy as np

from nmfaudio import audio, spectrum

__all__ = ["CHUNK_SAMPLES", "ENERGY_CHECKPOINT", "is_reader", "checked", "n_samples", "mono_energy",
           "CheckpointedEnergy", "cumulative_energy", "total_energy", "rises", "mono_frames", "band_magnitudes",
           "rise_means", "mono_windows", "band_powers", "mono_mean_square", "sum_of_squares", "one_blas_thread",
           "track_sum", "channel_mean64", "window_peaks", "polarity_signs", "with_signs"]

#: Samples (per channel) of a stretch read at once from a streamed track: 8 MB of
#: float32 stereo, 8 MB for its float64 cumulative energy.
CHUNK_SAMPLES = 2**20
#: Samples :func:`_zero_runs` checks for a zero at once outside a run of zeros.
_ZERO_BLOCK = 64
#: Samples between the stored points of an array track's cumulative energy
#: (:class:`CheckpointedEnergy`): a centre's rises remake at most this many samples more
#: than their own reach (3 · search + 2 · window, ~4000 at 44.1 kHz), and the points of a
#: 3-minute 44.1-kHz track are 0.25 MB instead of the whole array's 63.5 MB.
ENERGY_CHECKPOINT = 256


def is_reader(track) -> bool:
    """Is ``track`` read a stretch at a time (an nmfaudio.audio reader), not an array?"""
    return isinstance(track, audio.ArrayReader)


def checked(track, label: str):
    """An array through :func:`nmfaudio.audio.check_audio`; a reader as it is (its
    stretches are checked as they are read)."""
    return track if is_reader(track) else audio.check_audio(track, label)


def n_samples(track) -> int:
    """Samples per channel."""
    return track.n_samples if is_reader(track) else np.asarray(track).shape[-1]


def _read(track, start: int, stop: int) -> np.ndarray:
    """Samples [start, stop) of a reader (zero outside), (n_channels, n), finite."""
    segment = track.read(start, stop)
    audio.check_finite_samples(segment, getattr(track, "path", "track"))
    return segment


def mono_energy(y) -> np.ndarray:
    """Cumulative energy of a track (channels summed), with a leading 0: shape (n + 1,).

    In one float64 array of the track's length besides the result (a float64 copy of
    every channel, the square and the concatenation were five: 1 GB more for a
    10-minute stereo stem); the same sums in the same order.  Compiled, in one pass
    without that array (where numba is there): 2.5 times faster, the same numbers."""
    y = np.asarray(y)
    if _energy_pass is not None and y.dtype.kind == "f" and y.ndim in (1, 2) and y.shape[0] > 0:
        out = np.empty(y.shape[-1] + 1)
        _energy_pass(y if y.ndim == 2 else y[None], out)
        return out
    mono = y.sum(axis=0, dtype=np.float64) if y.ndim == 2 else y.astype(np.float64)
    np.multiply(mono, mono, out=mono)
    out = np.empty(mono.size + 1)
    out[0] = 0.0
    np.cumsum(mono, out=out[1:])
    return out


try:
    import numba

    @numba.njit(nogil=True, cache=True, inline="always")
    def _sample_sum(y, i):
        """Σ_c y[c, i] in float64, the channels in order (``y.sum(axis=0, dtype=float64)``'s
        additions): the one copy :func:`_energy_pass`, :func:`_energy_points` and
        :func:`_local_rise_ratios` share (the last must add as the first two did)."""
        x = np.float64(y[0, i])
        for c in range(1, y.shape[0]):
            x += np.float64(y[c, i])
        return x

    @numba.njit(nogil=True, cache=True)
    def _energy_pass(y, out):
        """out[0] = 0, out[i + 1] = out[i] + (Σ_c y[c, i])² in float64: the sums of
        ``y.sum(axis=0, dtype=float64)`` (channels in order), its square and its
        ``cumsum``, in the same order (no fastmath: no reassociation, no fused
        multiply-add)."""
        total = 0.0
        out[0] = 0.0
        for i in range(y.shape[1]):
            x = _sample_sum(y, i)
            total += x * x
            out[i + 1] = total

    @numba.njit(nogil=True, cache=True)
    def _channel_mean64(y, out):
        """out[i] = (Σ_c float64(y[c, i])) / n_channels, channels in order: numpy's
        ``mean(axis=0, dtype=float64)`` (its reduction over the outer axis adds the rows
        in order, then divides by the count; no fastmath)."""
        count = np.float64(y.shape[0])
        for i in range(y.shape[1]):
            x = np.float64(y[0, i])
            for c in range(1, y.shape[0]):
                x += np.float64(y[c, i])
            out[i] = x / count

    @numba.njit(nogil=True, cache=True)
    def _window_peaks(mono, starts, width, out):
        """out[k] = max |mono[starts[k] : starts[k] + width]|."""
        for k in range(starts.shape[0]):
            top = abs(mono[starts[k]])
            for i in range(starts[k] + 1, starts[k] + width):
                value = abs(mono[i])
                if value > top:
                    top = value
            out[k] = top

    @numba.njit(nogil=True, cache=True)
    def _rise_means(level, shift, out):
        """out[t - 1 + shift] (zeros on entry) = Σ_b max(0, level[b, t] - level[b, t - 1])
        / n_bins for t >= 1 (``shift`` 1: out[0], the first frame's, stays 0), bins in
        order (numpy's reduction over the outer axis adds the rows in order; a rise of 0
        adds nothing to a sum of non-negative terms); in the level's precision, no
        fastmath."""
        n_bins = level.shape[0]
        zero = out[0] - out[0]  # +0 in the level's dtype (out is zeros)
        sums = out[shift:]  # (a view: indexing out[t - 1 + shift] kept the loop scalar, 5 times slower)
        for b in range(n_bins):
            row = level[b]
            for t in range(1, level.shape[1]):
                rise = row[t] - row[t - 1]
                # adding +0 leaves a sum of non-negative terms as it is; without a branch the
                # loop is vectorised (0.5 ms for 396 x 8193 float32, 12 ms with an `if`)
                sums[t - 1] += rise if rise > 0 else zero
        for t in range(out.shape[0]):
            # float32 / int in float64 rounds to float32's own quotient (53 >= 2 * 24 + 2 bits)
            out[t] = out[t] / n_bins

    @numba.njit(nogil=True, cache=True)
    def _rise_ratios(energy, centres, offsets, window, floor, ratios, tau):
        """:func:`_rises`' steps per instant: τ = clip(centre + offset, 0, n), the energy
        after (E[min(τ + window, n)] - E[τ]) and before (E[τ] - E[max(τ - window, 0)]),
        (after + floor) / (before + floor) — the same float64 operations (no fastmath)."""
        n = energy.shape[0] - 1
        for i in range(centres.shape[0]):
            for j in range(offsets.shape[0]):
                t = min(max(centres[i] + offsets[j], 0), n)
                tau[i, j] = t
                at = energy[t]
                after = energy[min(t + window, n)] - at
                before = at - energy[max(t - window, 0)]
                ratios[i, j] = (after + floor) / (before + floor)

    @numba.njit(nogil=True, cache=True)
    def _energy_points(y, step, points):
        """:func:`_energy_pass`'s running total, kept only where the sample count is a
        multiple of ``step``: points[j] = E[j · step] (points[0] = 0), the same float64
        additions in the same order; returns the total E[n].  The points are counted
        down, not found by ``(i + 1) % step`` at every sample (an integer division each:
        a mono 3-minute 44.1-kHz track 16 against 5.5 ms, stereo 16-26 against 15.6 ms;
        docs/performance.md, the speed58 round)."""
        total = 0.0
        points[0] = 0.0
        left = step  # samples until the next point
        j = 0
        for i in range(y.shape[1]):
            x = _sample_sum(y, i)
            total += x * x
            left -= 1
            if left == 0:
                j += 1
                points[j] = total
                left = step
        return total

    @numba.njit(nogil=True, cache=True)
    def _local_rise_ratios(y, points, step, centres, offsets, window, floor, ratios, tau, local):
        """:func:`_rise_ratios` with the cumulative energy remade around each centre: from
        the stored point at or before the first sample the centre reads (E[start] =
        points[start // step]) on, :func:`_energy_points`' additions — so every E[t] it
        reads is the whole pass's, bit for bit.  ``local``: scratch of at least
        ``offsets[-1] - offsets[0] + 2 · window + step + 1`` values; ``offsets`` ascending."""
        n = y.shape[1]
        for i in range(centres.shape[0]):
            first = min(max(centres[i] + offsets[0], 0), n)
            last = min(max(centres[i] + offsets[offsets.shape[0] - 1], 0), n)
            start = (max(first - window, 0) // step) * step
            stop = min(last + window, n)
            total = points[start // step]
            local[0] = total
            for k in range(start, stop):
                x = _sample_sum(y, k)
                total += x * x
                local[k + 1 - start] = total
            for j in range(offsets.shape[0]):
                t = min(max(centres[i] + offsets[j], 0), n)
                tau[i, j] = t
                at = local[t - start]
                after = local[min(t + window, n) - start] - at
                before = at - local[max(t - window, 0) - start]
                ratios[i, j] = (after + floor) / (before + floor)

    @numba.njit(nogil=True, cache=True)
    def _zero_runs(row, shortest, starts, stops):
        """The runs of at least ``shortest`` exact zeros (``x == 0``: -0.0 too, not NaN)
        of ``row``, written to ``starts`` / ``stops`` (each of at least
        ``row.size // shortest + 1`` entries) in order; returns their count.  Outside a
        run, a block of :data:`_ZERO_BLOCK` samples without a zero is passed over after
        a count of its zeros (a loop LLVM vectorizes; the sample-by-sample one branches
        at every sample: 11 against 20 ms for 3 minutes at 44.1 kHz)."""
        count = 0
        start = -1  # the current run's first index, -1 outside a run
        n = row.shape[0]
        i = 0
        while i < n:
            if start < 0 and i + _ZERO_BLOCK <= n:
                zeros = 0
                for k in range(i, i + _ZERO_BLOCK):
                    zeros += row[k] == 0
                if zeros == 0:
                    i += _ZERO_BLOCK
                    continue
            stop = min(i + _ZERO_BLOCK, n)
            for k in range(i, stop):
                if row[k] == 0:
                    if start < 0:
                        start = k
                elif start >= 0:
                    if k - start >= shortest:
                        starts[count] = start
                        stops[count] = k
                        count += 1
                    start = -1
            i = stop
        if start >= 0 and n - start >= shortest:
            starts[count] = start
            stops[count] = n
            count += 1
        return count
    @numba.njit(nogil=True, cache=True, inline="always")
    def _square64(x, i):
        v = np.float64(x[i])
        return v * v

    @numba.njit(nogil=True, cache=True)
    def _pairwise_squares(x, lo, n):
        """``np.square(x[lo:lo + n], dtype=np.float64).sum()`` bit for bit: NumPy's pairwise
        summation (``DOUBLE_pairwise_sum``: under 8 values one by one; up to 128 in eight
        running sums added as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the
        rest one by one; above, the two halves' sums, the first a multiple of 8 long), on
        the squares of x's values in float64 (exact for float32) — without the float64
        array (no fastmath: the same additions)."""
        if n < 8:
            res = 0.0
            for i in range(lo, lo + n):
                res += _square64(x, i)
            return res
        if n <= 128:
            r0, r1, r2, r3 = _square64(x, lo), _square64(x, lo + 1), _square64(x, lo + 2), _square64(x, lo + 3)
            r4, r5, r6, r7 = _square64(x, lo + 4), _square64(x, lo + 5), _square64(x, lo + 6), _square64(x, lo + 7)
            i = lo + 8
            end = lo + n - n % 8
            while i < end:
                r0 += _square64(x, i)
                r1 += _square64(x, i + 1)
                r2 += _square64(x, i + 2)
                r3 += _square64(x, i + 3)
                r4 += _square64(x, i + 4)
                r5 += _square64(x, i + 5)
                r6 += _square64(x, i + 6)
                r7 += _square64(x, i + 7)
                i += 8
            res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while i < lo + n:
                res += _square64(x, i)
                i += 1
            return res
        half = n // 2
        half -= half % 8
        return _pairwise_squares(x, lo, half) + _pairwise_squares(x, lo + half, n - half)
except ImportError:  # pragma: no cover - numba comes with librosa
    _energy_pass = _channel_mean64 = _window_peaks = _rise_means = _rise_ratios = None
    _energy_points = _local_rise_ratios = _zero_runs = _pairwise_squares = None


class StreamedEnergy:
    """The cumulative energy of a reader's track, never held whole: its total (one pass,
    float64) and, per stretch, the local cumulative energy (:meth:`rises`)."""

    def __init__(self, track):
        self.track = track
        self.n = track.n_samples
        total = 0.0
        with one_blas_thread():  # the same total whatever BLAS's thread count
            for start in range(0, self.n, CHUNK_SAMPLES):
                mono = _read(track, start, min(start + CHUNK_SAMPLES, self.n)).sum(axis=0, dtype=np.float64)
                total += float(np.dot(mono, mono))
        self.total = total

    def __len__(self) -> int:  # as the cumulative array's: n + 1
        return self.n + 1


class CheckpointedEnergy:
    """The cumulative energy of an array track (:func:`mono_energy`'s, bit for bit) kept
    every :data:`ENERGY_CHECKPOINT` samples: :func:`rises` remakes the stretch each centre
    reads from the stored point before it (compiled, :func:`_local_rise_ratios`).

    Why: the whole float64 array is twice the float32 track — 63.5 MB for 3 minutes at
    44.1 kHz, and :func:`nmfaudio.drums.hits.detect_hits` makes one per stem and the
    mixture at once (381 MB).  Fresh memory is zeroed by the kernel as it is first
    written (``clear_page_erms``: a third of a 44.1-kHz ``nmfaudio drums`` run's CPU
    samples under ``perf``); the rises read a few thousand samples around each hit.

    Parameters
    ----------
    track : ndarray, float, shape (n_samples,) or (n_channels, n_samples)
        Kept (not copied) and read again by :func:`rises`.

    Attributes
    ----------
    n : int
        Samples per channel.
    total : float
        The whole track's energy, E[n] (:func:`mono_energy`'s last value).
    points : ndarray, float64, shape (n // ENERGY_CHECKPOINT + 1,)
        ``points[j]`` = E[j · ENERGY_CHECKPOINT].
    """

    def __init__(self, track):
        y = np.asarray(track)
        self.track = y if y.ndim == 2 else y[None]
        self.n = self.track.shape[1]
        self.points = np.empty(self.n // ENERGY_CHECKPOINT + 1)
        self.total = float(_energy_points(self.track, ENERGY_CHECKPOINT, self.points))

    def __len__(self) -> int:  # as the cumulative array's: n + 1
        return self.n + 1

    def rises(self, centres, *, window: int, search: int, step: int):
        """:func:`rises` (:func:`_array_rises`' numbers of :func:`mono_energy`, bit for bit)."""
        offsets = np.arange(-search, 2 * search + 1, step).astype(np.int64)
        floor = 1e-6 * max(self.total / max(self.n, 1), 1e-30) * window
        centres = np.asarray(centres, dtype=np.int64).reshape(-1)
        ratios = np.empty((len(centres), len(offsets)))
        tau = np.empty((len(centres), len(offsets)), dtype=np.int64)
        local = np.empty(int(offsets[-1] - offsets[0]) + 2 * window + ENERGY_CHECKPOINT + 1)
        _local_rise_ratios(self.track, self.points, ENERGY_CHECKPOINT, centres, offsets, window, float(floor),
                           ratios, tau, local)
        return 10 * np.log10(ratios), tau


def cumulative_energy(track):
    """A :class:`CheckpointedEnergy` of a float array (where numba is there; else
    :func:`mono_energy`'s whole array), a :class:`StreamedEnergy` of a reader."""
    if is_reader(track):
        return StreamedEnergy(track)
    y = np.asarray(track)
    if _energy_points is not None and y.dtype.kind == "f" and y.ndim in (1, 2) and y.shape[0] > 0:
        return CheckpointedEnergy(y)
    return mono_energy(y)


def total_energy(energy) -> float:
    """E[n] of a :func:`cumulative_energy`: the track's whole energy."""
    return energy.total if isinstance(energy, (CheckpointedEnergy, StreamedEnergy)) else float(energy[-1])


def rises(energy, centres, *, window: int, search: int, step: int):
    """Energy rise (dB) at every instant near each centre sample.

    For every instant ``τ`` in ``centre - search .. centre + 2 · search`` (steps of
    ``step`` samples), the energy of the ``window`` samples after ``τ`` over that of the
    ``window`` samples before.

    Parameters
    ----------
    energy : ndarray, shape (n + 1,), CheckpointedEnergy or StreamedEnergy
        From :func:`cumulative_energy` (or :func:`mono_energy`).
    centres : ndarray of int, shape (n_centres,)

    Returns
    -------
    rises, instants : ndarray, shape (n_centres, n_instants) each
        The rises (dB) and the instants ``τ`` (samples).
    """
    if isinstance(energy, CheckpointedEnergy):
        return energy.rises(centres, window=window, search=search, step=step)
    if not isinstance(energy, StreamedEnergy):
        if _rise_ratios is not None and isinstance(energy, np.ndarray) and energy.dtype == np.float64:
            return _array_rises(energy, centres, window=window, search=search, step=step)
        return _rises(energy.__getitem__, len(energy) - 1, energy[-1], centres, window=window, search=search,
                      step=step)
    centres = np.asarray(centres, dtype=np.int64)
    offsets = np.arange(-search, 2 * search + 1, step)
    out_rises = np.empty((len(centres), len(offsets)))
    out_tau = np.empty((len(centres), len(offsets)), dtype=np.int64)
    reach = (search + window, 2 * search + window)  # samples each centre reads before and after it
    for group in _groups(centres, reach):
        lo = max(int(centres[group].min()) - reach[0], 0)
        hi = min(int(centres[group].max()) + reach[1], energy.n)
        local = mono_energy(_read(energy.track, lo, hi))  # the cumulative energy restarted at lo
        out_rises[group], out_tau[group] = _rises(lambda index: local[index - lo], energy.n, energy.total,
                                                  centres[group], window=window, search=search, step=step)
    return out_rises, out_tau


def _groups(points, reach) -> list:
    """Indices of ``points`` in groups whose reads (``reach`` before and after each) span
    at most about :data:`CHUNK_SAMPLES`."""
    order = np.argsort(points, kind="stable")
    groups, current, first = [], [], None
    for index in order:
        if current and points[index] - first > CHUNK_SAMPLES - reach[0] - reach[1]:
            groups.append(np.array(current))
            current = []
        if not current:
            first = points[index]
        current.append(index)
    if current:
        groups.append(np.array(current))
    return groups


def _rises(at, n: int, total: float, centres, *, window: int, search: int, step: int):
    """:func:`rises` with the cumulative energy read through ``at(indices)`` (differences
    only: an offset cancels) and the track's total energy ``total`` over ``n`` samples."""
    offsets = np.arange(-search, 2 * search + 1, step)
    # before the track's start counts as silence (a hit at 0 s has all its energy 'after')
    tau = np.clip(centres[:, None] + offsets[None, :], 0, n)
    after = at(np.minimum(tau + window, n)) - at(tau)
    before = at(tau) - at(np.maximum(tau - window, 0))
    # -60 dB re the track's mean power: near-silence on both sides is "no rise", not noise over noise
    floor = 1e-6 * max(total / max(n, 1), 1e-30) * window
    return 10 * np.log10((after + floor) / (before + floor)), tau


def _array_rises(energy, centres, *, window: int, search: int, step: int):
    """:func:`_rises` of a cumulative energy array, bit for bit: the instants and the
    energy ratios in one compiled pass (four gathers from the track-long array and five
    arrays of their size were the numpy form's), the decibels by numpy's ``log10``."""
    n = len(energy) - 1
    offsets = np.arange(-search, 2 * search + 1, step)
    floor = 1e-6 * max(energy[-1] / max(n, 1), 1e-30) * window
    centres = np.asarray(centres, dtype=np.int64).reshape(-1)
    ratios = np.empty((len(centres), len(offsets)))
    tau = np.empty((len(centres), len(offsets)), dtype=np.int64)
    _rise_ratios(energy, centres, offsets.astype(np.int64), window, float(floor), ratios, tau)
    return 10 * np.log10(ratios), tau


def mono_frames(track, start: int, stop: int, *, n_fft: int, hop_length: int) -> np.ndarray:
    """Frames [start, stop) of the centred STFT of the track's channel mean (float32),
    complex, shape (1 + n_fft // 2, stop - start); an array's as
    :func:`nmfaudio.spectrum.stft_frames` of its mean, a reader's from the frames'
    samples only."""
    if not is_reader(track):
        track = np.asarray(track)
        mono = np.asarray(track if track.ndim == 1 else track.mean(axis=0), dtype=np.float32)
        return spectrum.stft_frames(mono, start, stop, n_fft=n_fft, hop_length=hop_length)
    pad = n_fft // 2
    segment = _read(track, start * hop_length - pad, (stop - 1) * hop_length - pad + n_fft)
    mono = np.asarray(segment.mean(axis=0), dtype=np.float32)
    return spectrum.stft(mono, n_fft=n_fft, hop_length=hop_length, center=False)


def band_magnitudes(track, start: int, stop: int, *, n_fft: int, hop_length: int, first_bin: int,
                    exact: bool = True) -> np.ndarray:
    """``np.abs(mono_frames(track, start, stop, ...)[first_bin:])``, bit for bit, made by
    :func:`nmfaudio.spectrum.band_magnitude` (faster, no complex spectrogram): the
    magnitudes of bins ``first_bin`` and up of frames [start, stop) of the centred STFT
    of the track's channel mean; float32, shape (1 + n_fft // 2 - first_bin, stop - start).
    An array's channel mean is taken over the frames' samples only.  ``exact=False``:
    transformed in float32 (``band_magnitude``'s), to float32 rounding."""
    pad = n_fft // 2
    first, last = start * hop_length - pad, (stop - 1) * hop_length - pad + n_fft
    if is_reader(track):
        segment = np.asarray(_read(track, first, last).mean(axis=0), dtype=np.float32)
    else:
        track = np.asarray(track)
        segment = np.zeros(last - first, dtype=np.float32)  # zero outside the track, as the centred STFT pads
        lo, hi = max(first, 0), min(last, track.shape[-1])
        if hi > lo:
            stretch = track[..., lo:hi]
            segment[lo - first:hi - first] = stretch if stretch.ndim == 1 else stretch.mean(axis=0)
    return spectrum.band_magnitude(segment, n_fft=n_fft, hop_length=hop_length, first_bin=first_bin, exact=exact)


def rise_means(level, *, first_zero: bool) -> np.ndarray:
    """The mean over bins of each frame's rise in ``level``, negative rises as zero:
    ``np.maximum(0.0, np.diff(level, axis=1)).mean(axis=0)`` bit for bit (``first_zero``:
    with ``prepend=level[:, :1]``, a first frame of rise 0), in one pass without the
    difference and its maximum (two arrays of ``level``'s size).

    Parameters
    ----------
    level : ndarray, float, shape (n_bins, n_frames), C-contiguous, finite
        ``n_frames >= 1`` (>= 2 unless ``first_zero``).
    first_zero : bool

    Returns
    -------
    ndarray, ``level``'s dtype, shape (n_frames,) if ``first_zero`` else (n_frames - 1,)
    """
    level = np.ascontiguousarray(level)
    n_out = level.shape[1] - (0 if first_zero else 1)
    # one frame out: numpy sums a (n_bins, 1) column as a contiguous run, pairwise (another
    # order than the rows one after the other, which the kernel follows)
    if _rise_means is None or level.dtype.kind != "f" or level.shape[0] == 0 or n_out < 2:
        rise = np.diff(level, axis=1, prepend=level[:, :1]) if first_zero else np.diff(level, axis=1)
        return np.maximum(0.0, rise).mean(axis=0)
    out = np.zeros(n_out, dtype=level.dtype)
    _rise_means(level, 1 if first_zero else 0, out)
    return out


def mono_windows(track, starts, width: int):
    """Yield ``(indices, windows)``: for groups of ``starts`` (sample indices, each with
    ``start + width <= n_samples``), a reader's channel mean's samples [start, start +
    width), shape (len(indices), width), read a stretch at a time — from an
    :class:`~nmfaudio.audio.ArrayReader` of a float array, the windows themselves (the
    same numbers)."""
    starts = np.asarray(starts, dtype=np.int64)
    if (type(track) is audio.ArrayReader and track.dtype.kind == "f"
            and (not len(starts) or (starts.min() >= 0 and starts.max() + width <= track.n_samples))):
        # an array's windows straight from it (the same samples and channel mean as from
        # its stretches), :data:`CHUNK_SAMPLES` samples of windows at a time: reading each
        # whole stretch, checking and averaging it, cost more than the windows' own work
        per_group = max(1, CHUNK_SAMPLES // max(width, 1))
        for first in range(0, len(starts), per_group):
            group = np.arange(first, min(first + per_group, len(starts)))
            windows = track.y[:, starts[group][:, None] + np.arange(width)[None, :]]
            audio.check_finite_samples(windows, "track")
            yield group, windows[0] if track.n_channels == 1 else windows.mean(axis=0)
        return
    for group in _groups(starts, (0, width)):
        lo, hi = int(starts[group].min()), int(starts[group].max()) + width
        mono = _read(track, lo, hi).mean(axis=0)
        yield group, mono[(starts[group] - lo)[:, None] + np.arange(width)[None, :]]


def band_powers(track, starts, width: int, *, sr, fmin) -> np.ndarray:
    """The energy above ``fmin`` Hz of a reader's channel mean in the ``width`` samples
    (Hann-windowed) from each of ``starts`` (sample indices, each with ``start + width <=
    n_samples``), shape (n_starts,); read a stretch at a time (:func:`mono_windows`)."""
    window = np.hanning(width)
    band = np.fft.rfftfreq(width, 1 / sr) >= fmin
    power = np.zeros(len(starts))
    for group, windows in mono_windows(track, starts, width):
        power[group] = (np.abs(np.fft.rfft(windows * window, axis=1)) ** 2)[:, band].sum(axis=1)
    return power


def mono_mean_square(track) -> float:
    """The mean square of a track's channel mean (float64 sums, a stretch of
    :data:`CHUNK_SAMPLES` at a time).

    A reader's stretches are read and checked; an array's (n_samples,) or (n_channels,
    n_samples), already checked by the caller, are averaged straight from it into one
    float64 buffer (:func:`channel_mean64`): the same stretches, channel means and dot
    products, so the same number, without a copy, a check and a new float64 array per
    stretch (0.12 s of the hits' one-thread time on a 3-minute stereo song).

    The dot products run on one BLAS thread (:func:`one_blas_thread`): the same number
    whatever BLAS's thread count."""
    with one_blas_thread():
        if not is_reader(track):
            y = np.asarray(track)
            y = y if y.ndim == 2 else y[None]
            n = y.shape[-1]
            buffer = np.empty(min(CHUNK_SAMPLES, n))
            total = 0.0
            for start in range(0, n, CHUNK_SAMPLES):
                mono = channel_mean64(y[:, start:start + CHUNK_SAMPLES], buffer)
                total += float(np.dot(mono, mono))
            return total / max(n, 1)
        total = 0.0
        for start in range(0, track.n_samples, CHUNK_SAMPLES):
            mono = _read(track, start, min(start + CHUNK_SAMPLES, track.n_samples)).mean(axis=0, dtype=np.float64)
            total += float(np.dot(mono, mono))
        return total / max(track.n_samples, 1)


def sum_of_squares(flat, chunk: int = CHUNK_SAMPLES) -> float:
    """``sum(float(np.square(flat[i:i + chunk], dtype=np.float64).sum()) for i in range(0,
    flat.size, chunk))`` bit for bit — each stretch's squares summed pairwise as NumPy does,
    the stretches' sums added in order — compiled for float arrays (:func:`_pairwise_squares`),
    without a float64 array per stretch: the squares are made as they are added (6 stems of
    3 minutes at 44.1 kHz: ~62 against ~25 ms; docs/performance.md, the speed58 round).

    Parameters
    ----------
    flat : ndarray, shape (n,)
    chunk : int >= 1

    Returns
    -------
    float
    """
    flat = np.asarray(flat)
    fast = (_pairwise_squares is not None and flat.ndim == 1 and flat.dtype in (np.float32, np.float64)
            and flat.flags.c_contiguous)  # (other layouts: NumPy's form, no second compiled variant)
    total = 0
    for start in range(0, flat.size, chunk):
        stretch = flat[start:start + chunk]
        total += (_pairwise_squares(stretch, 0, stretch.size) if fast
                  else float(np.square(stretch, dtype=np.float64).sum()))
    return total


def one_blas_thread():
    """A context holding BLAS to one thread (:func:`nmfaudio.nmf.gemm_pass.blas_on_one_thread`)
    for the tracks' sums of squares (``np.dot`` of a float64 stretch with itself).

    Why: OpenBLAS splits a long dot product between its threads and adds the parts, so the
    sum's last bits followed the thread count (a 3-minute track's mean square: 0.006032825358540068
    on 2 threads, ...540112 on 1); and after each threaded call its threads spin waiting for
    more work, on the cores the hits' threads and the stems' writer need — the hits of the
    3-minute 44.1-kHz track 0.60 s of CPU with the mean square's eight dot products on two
    threads, 0.50 s on one (docs/performance.md, the speed51 round)."""
    from nmfaudio.nmf.gemm_pass import blas_on_one_thread

    return blas_on_one_thread()


def channel_mean64(y, out) -> np.ndarray:
    """``y.mean(axis=0, dtype=np.float64)`` bit for bit, written into ``out[:n]``.

    Parameters
    ----------
    y : ndarray, float, shape (n_channels, n)
    out : ndarray, float64, shape (>= n,)

    Returns
    -------
    ndarray, float64, shape (n,)
        A view of ``out``.
    """
    mono = out[:y.shape[-1]]
    if _channel_mean64 is not None and y.dtype.kind == "f" and y.shape[0] > 0:
        _channel_mean64(y, mono)
        return mono
    np.mean(y, axis=0, dtype=np.float64, out=mono)
    return mono


#: Samples of a block :func:`track_sum` adds up at a time: 128 KB of float32, in cache
#: while each track's block is added to it.
SUM_BLOCK = 2**15


def track_sum(tracks) -> np.ndarray:
    """``sum(tracks)`` bit for bit — ``0 + t0 + t1 + ...``, each sample's additions in the
    tracks' order in their dtype (so a -0.0 of the first becomes +0.0, as ``0 + t0``) —
    a block of :data:`SUM_BLOCK` samples at a time into one array: ``sum`` wrote and read
    an intermediate array of the tracks' size per track (0.06 s for a 3-minute stereo
    song's six stems), the blocks stay in cache.

    Parameters
    ----------
    tracks : sequence of ndarray, each shape (n_samples,) or (n_channels, n_samples)

    Returns
    -------
    ndarray, the tracks' shape and dtype (``sum``'s result where they differ in shape or
    dtype, or are not float)
    """
    arrays = [np.asarray(track) for track in tracks]
    if (len(arrays) < 2 or arrays[0].dtype.kind != "f"
            or any(a.shape != arrays[0].shape or a.dtype != arrays[0].dtype for a in arrays)):
        return sum(tracks)
    flat = [a.reshape(-1) for a in arrays]  # views of contiguous tracks (a copy otherwise)
    out = np.empty(arrays[0].shape, dtype=arrays[0].dtype)
    total = out.reshape(-1)
    zero = arrays[0].dtype.type(0)
    for start in range(0, total.size, SUM_BLOCK):
        block = total[start:start + SUM_BLOCK]
        np.add(flat[0][start:start + SUM_BLOCK], zero, out=block)  # sum's 0 + t0
        for track in flat[1:]:
            np.add(block, track[start:start + SUM_BLOCK], out=block)
    return out


class _SummedReader(audio.ArrayReader):
    """A reader of two tracks' sum, sample by sample (the wrapped readers or arrays are
    their owner's to close)."""

    def __init__(self, first, second):
        self.readers = [track if is_reader(track) else audio.ArrayReader(np.asarray(track))
                        for track in (first, second)]
        head = self.readers[0]
        self.path = getattr(head, "path", "track")
        self.mono, self.n_channels, self.n_samples, self.dtype = head.mono, head.n_channels, head.n_samples, head.dtype

    def read(self, start: int, stop: int) -> np.ndarray:
        first, second = (reader.read(start, stop) for reader in self.readers)
        return (first + second).astype(self.dtype, copy=False)

    def close(self) -> None:
        pass


def summed(first, second):
    """Two tracks of one shape added up: an array (:func:`track_sum`'s) for two arrays, a
    reader of the sum (whose ``close`` leaves theirs open) when either is a reader —
    :meth:`nmfaudio.DrumSeparation.hits` reads a class whose parts sound in another stem
    (``sounds_in``) on its track and that stem's together."""
    if is_reader(first) or is_reader(second):
        return _SummedReader(first, second)
    return track_sum([first, second])


def window_peaks(mono, starts, width: int) -> np.ndarray:
    """The largest magnitude of ``mono[start:start + width]`` for each of ``starts``.

    Parameters
    ----------
    mono : ndarray, float, shape (n,)
    starts : ndarray of int, shape (n_starts,)
        Each with ``0 <= start`` and ``start + width <= n``.
    width : int >= 1

    Returns
    -------
    ndarray, float64, shape (n_starts,)
        ``np.abs(mono[starts[:, None] + np.arange(width)]).max(axis=1)`` (a maximum: the
        same numbers in any order), without the (n_starts, width) copy.
    """
    starts = np.asarray(starts, dtype=np.int64)
    peaks = np.empty(len(starts))
    if _window_peaks is not None and mono.dtype.kind == "f":
        _window_peaks(mono, starts, width, peaks)
        return peaks
    for first in range(0, len(starts), max(1, CHUNK_SAMPLES // width)):
        group = starts[first:first + max(1, CHUNK_SAMPLES // width)]
        peaks[first:first + len(group)] = np.abs(mono[group[:, None] + np.arange(width)[None, :]]).max(axis=1)
    return peaks


#: A channel whose correlation with the strongest is below this is taken as that one
#: with its polarity inverted (L = -R: a miswired microphone, a bad M/S decode).
INVERTED_CORRELATION = -0.5


def polarity_signs(mixture):
    """Per-channel signs (+1 or -1) that put every channel of ``mixture`` in phase: -1
    where a channel's correlation with the strongest channel is below
    ``INVERTED_CORRELATION`` (then all flipped if need be so the first channel keeps its
    sign).  A silent channel (a stereo file with an empty left channel) is never the
    reference; it gets +1.

    The hits read the channels' mean (their flux, shares and levels), which cancels when
    one channel is the other inverted: a stereo file with L = -R got no hits at all while
    its stems were right.

    Parameters
    ----------
    mixture : ndarray, shape (n_samples,) or (n_channels, n_samples), or a reader

    Returns
    -------
    ndarray of float, shape (n_channels,), or None
        None when no channel is inverted (mono, or channels in phase: every ordinary
        recording), so the caller changes nothing.
    """
    reader = mixture if is_reader(mixture) else audio.ArrayReader(np.asarray(mixture))
    if reader.n_channels < 2:
        return None
    gram = None
    if not is_reader(mixture) and reader.dtype == np.float32:
        # an array's stretches straight from it, unchecked: a NaN or infinite sample makes
        # the channels' products NaN or infinite (float32 squares cannot overflow in
        # float64), so a finite Gram matrix needs no check; else the reader's way, which raises
        gram = _gram(lambda start, stop: reader.y[:, start:stop], reader.n_channels, reader.n_samples)
        gram = gram if np.all(np.isfinite(gram)) else None
    if gram is None:
        gram = _gram(lambda start, stop: _read(reader, start, stop), reader.n_channels, reader.n_samples)
    powers = np.diag(gram)
    reference = int(np.argmax(powers))  # the first channel may be silent (and then correlates with nothing)
    scale = np.sqrt(powers * powers[reference])
    correlation = np.divide(gram[:, reference], scale, out=np.zeros(len(powers)), where=scale > 0)
    signs = np.where(correlation < INVERTED_CORRELATION, -1.0, 1.0)
    signs *= signs[0]  # the first channel as it is
    return None if np.all(signs > 0) else signs


def _gram(stretch, n_channels: int, n_samples: int) -> np.ndarray:
    """The channels' dot products (float64), summed over stretches of :data:`CHUNK_SAMPLES`
    read by ``stretch(start, stop)`` -> (n_channels, stop - start); shape (n_channels,
    n_channels)."""
    gram = np.zeros((n_channels, n_channels))
    for start in range(0, n_samples, CHUNK_SAMPLES):
        samples = stretch(start, min(start + CHUNK_SAMPLES, n_samples)).astype(np.float64)
        gram += samples @ samples.T
    return gram


class _SignedReader(audio.ArrayReader):
    """A reader whose channels are multiplied by ``signs`` (the wrapped reader is its
    owner's to close)."""

    def __init__(self, reader, signs):
        self.reader = reader
        self.path = getattr(reader, "path", "track")
        self.mono, self.n_channels, self.n_samples, self.dtype = (reader.mono, reader.n_channels,
                                                                  reader.n_samples, reader.dtype)
        self.signs = np.asarray(signs, dtype=reader.dtype)[:, None]

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.reader.read(start, stop) * self.signs

    def close(self) -> None:
        pass


class _CentredReader(audio.ArrayReader):
    """A reader whose channels have ``offset`` (shape (n_channels, 1)) taken off inside the
    signal (zero outside it, as every reader; the wrapped reader is its owner's to close)."""

    def __init__(self, reader, offset):
        self.reader = reader
        self.path = getattr(reader, "path", "track")
        self.mono, self.n_channels, self.n_samples, self.dtype = (reader.mono, reader.n_channels,
                                                                  reader.n_samples, reader.dtype)
        self.offset = np.asarray(offset, dtype=reader.dtype).reshape(-1, 1)

    def read(self, start: int, stop: int) -> np.ndarray:
        # read SILENT_RUN more on each side: a run of zeros cut by the window is judged whole
        # (as on the whole array), digital silence staying at zero
        margin = SILENT_RUN
        out = self.reader.read(start - margin, stop + margin)
        lo, hi = max(start - margin, 0) - (start - margin), min(stop + margin, self.n_samples) - (start - margin)
        if hi > lo:
            out[:, lo:hi] = _centred(out[:, lo:hi], self.offset)
        return out[:, margin:margin + stop - start]

    def close(self) -> None:
        pass


def without_offset(track, offset, *, in_place: bool = False):
    """``track`` less each channel's ``offset`` (a DC offset, shape (1,) or (n_channels, 1)),
    but in its digital silence (:func:`digital_silence`), which holds no offset and stays 0.

    Parameters
    ----------
    in_place : bool, default False
        Overwrite ``track`` (the caller's own, when a writeable float ndarray; else as
        without) instead of making a new array: the same values, and no second
        track-length array (fresh memory is what a long 44.1-kHz run pays most for;
        docs/performance.md, the speed45 round).

    Returns
    -------
    ndarray of ``track``'s shape, or a reader
        A new array (or a reader of the centred samples, whose ``close`` leaves ``track``
        open; ``track`` itself with ``in_place``); ``track`` itself when it or ``offset``
        is None or the offset is zero.
    """
    if track is None or offset is None or not np.any(offset):
        return track
    if is_reader(track):
        return _CentredReader(track, offset)
    y = np.asarray(track)
    offset = np.asarray(offset, dtype=y.dtype)
    if in_place and y is track and y.dtype.kind == "f" and y.flags.writeable:
        runs = silent_runs(y)  # read before the subtraction moves their zeros
        return _fill_runs(np.subtract(y, offset, out=y), runs, 0)
    return _centred(y, offset)


#: Exact zeros in runs of at least this many samples are digital silence (a gap or padding
#: an editor left; an isolated zero is a zero crossing): it holds no DC offset.
SILENT_RUN = 32


def silent_runs(y):
    """The runs of at least :data:`SILENT_RUN` exact zeros of each row of ``y`` (..., n):
    a list (one per row of ``y.reshape(-1, n)``) of (starts, stops) int arrays.  Memory:
    two bytes a sample of one row at a time."""
    flat = np.asarray(y).reshape(-1, np.shape(y)[-1])
    runs = []
    for row in flat:
        if _zero_runs is not None and row.dtype.kind == "f":
            # one compiled pass (the numpy form below makes four row-long arrays: 0.03 s for
            # a 3-minute 44.1-kHz track against 0.01, and a separation and its hits ask four times)
            starts = np.empty(row.size // SILENT_RUN + 1, dtype=np.intp)
            stops = np.empty_like(starts)
            count = _zero_runs(row, SILENT_RUN, starts, stops)
            runs.append((starts[:count].copy(), stops[:count].copy()))
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[False], row == 0, [False]]).view(np.int8)))
        starts, stops = edges[::2], edges[1::2]
        keep = stops - starts >= SILENT_RUN
        runs.append((starts[keep], stops[keep]))
    return runs


def digital_silence(y) -> np.ndarray:
    """Which samples of ``y`` (..., n) lie in a run of at least :data:`SILENT_RUN` exact
    zeros (along the last axis), bool of ``y``'s shape."""
    y = np.asarray(y)
    return _fill_silence(np.zeros(y.shape, bool), y, True)


def n_silent(y) -> np.ndarray:
    """How many samples of each row of ``y`` (..., n) are digital silence, shape y.shape[:-1]."""
    return np.array([int((stops - starts).sum()) for starts, stops in silent_runs(y)]).reshape(np.shape(y)[:-1])


def _centred(y, offset):
    """``y`` less ``offset`` but in its digital silence (:func:`digital_silence`), which stays 0."""
    return _fill_silence((y - offset).astype(y.dtype, copy=False), y, 0)


def _fill_silence(out, y, value):
    """``out`` (``y``'s shape, written in place and returned) set to ``value`` in ``y``'s
    digital silence (:func:`silent_runs`)."""
    return _fill_runs(out, silent_runs(y), value)


def _fill_runs(out, runs, value):
    """``out`` (written in place and returned) set to ``value`` in ``runs`` (:func:`silent_runs`
    of an array of its shape)."""
    for row, (starts, stops) in zip(out.reshape(-1, out.shape[-1]), runs):
        for start, stop in zip(starts, stops):
            row[start:stop] = value
    return out


def with_signs(track, signs):
    """``track`` with channel c multiplied by ``signs[c]``.

    Parameters
    ----------
    track : ndarray, shape (n_channels, n_samples), or a reader, or None
    signs : ndarray, shape (n_channels,), or None
        :func:`polarity_signs`' answer.

    Returns
    -------
    ndarray, shape (n_channels, n_samples), or a reader
        A new array (or a reader of the signed samples, whose ``close`` leaves ``track``
        open); ``track`` itself when ``signs`` is None, or ``track`` is None, mono or of
        another channel count.
    """
    if track is None or signs is None:
        return track
    if is_reader(track):
        return _SignedReader(track, signs) if track.n_channels == len(signs) else track
    y = np.asarray(track)
    if y.ndim != 2 or y.shape[0] != len(signs):
        return track
    return y * np.asarray(signs, dtype=y.dtype)[:, None]
