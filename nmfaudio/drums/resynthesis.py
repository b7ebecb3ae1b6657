"""The drum stems' signals from the fitted model: each output's modelled spectrogram, its
soft mask, the masked mixture and its inverse STFT — made a few frames at a time.

Why a few frames at a time: for a 3-minute stereo 44.1 kHz song, the six outputs'
modelled spectrograms are 0.76 GB (six outputs × two channels × 2049 bins × 7752 frames
of float32).  Made whole, they are written, read back and rewritten by the masks, then
read again by each stem's inverse STFT: the memory traffic, not the arithmetic, set the
time.  Here each stretch of ``CHUNK_FRAMES`` frames of one channel goes through the
whole chain — model products, masks, masked spectra, inverse FFTs, overlap-add — while it
is in the cache, and the masks are never held whole.  The arithmetic is the same as
whole-array code (the same products, mask kernel and overlap-add), so the stems equal
it to float32 rounding.

The work is split into ranges of frames per channel, run on the engine's threads
(:func:`nmfaudio.nmf.kernels.run_in_threads`).  Neighbouring ranges' frames overlap on
``n_fft − hop_length`` samples: each range adds those into a small buffer of its own,
and the buffers are summed once every range is done, so no two threads write the same
samples.
"""

from __future__ import annotations

import numpy as np

from nmfaudio import masks, spectrum
from nmfaudio.drums import pages
from nmfaudio.drums.hat_ceiling import capped_models
from nmfaudio.nmf.gemm_pass import blas_on_one_thread
from nmfaudio.nmf.kernels import HAVE_NUMBA, num_threads, numba, run_in_threads

__all__ = ["CHUNK_FRAMES", "RANGE_TASKS", "masked_stems"]

#: Frames of one channel made at a time: the six outputs' models of 16 frames of 2049
#: bins are 0.8 MB of float32, within a core's L2 cache.  Measured on 60 s of stereo
#: 44.1 kHz (CPU s, median of 3, load 3; docs/performance.md 2026-12-01): 8 → 1.50,
#: 16 → 1.23, 32 → 3.04, 64 → 2.58.
CHUNK_FRAMES = 16
#: Tasks (channel × range of frames) the stems are made in, whatever the thread count: the
#: samples two ranges share are summed from both ranges' frames, so the ranges must not
#: follow the threads — a file gives the same bytes alone (2 threads here), on a
#: ``--jobs 2`` worker (1 thread) or on a Dask worker (docs/batch.md).  Four keeps the
#: ranges 2 threads used to get (two tasks per thread); more threads than tasks idle here.
RANGE_TASKS = 4


def masked_stems(X, factors, out, *, mask_power: float, n_fft: int, hop_length: int, sustained=None,
                 window=spectrum.WINDOW, spatial: int = 0, ring=None, leave_out=None,
                 hat_ceiling=None, release: bool = False) -> bool:
    """The drum stems: the mixture's STFT masked by each output's share of the model
    (:func:`nmfaudio.masks.spectrogram_masks` of the outputs' modelled spectrograms),
    inverted.  The last output of ``factors`` (the residual) only takes its share of the
    masks: its signal is the mixture minus the stems, for the caller to make.

    Parameters
    ----------
    X : ndarray, complex, shape (C, F, N)
        The mixture's centred STFT (:func:`nmfaudio.spectrum.stft_frame_major`: ``X[c].T``
        is C-contiguous).
    factors : list of D + 1 items, each ``(W, Hs)`` or None
        Output d's model of channel c is ``W @ Hs[:, c·N:(c + 1)·N]`` (W (F, n_d), Hs
        (n_d, C·N): :func:`nmfaudio.nmf.convolutive_factors`, free components appended);
        None: no model (zero).  The first D are the drum stems, the last the residual.
    out : ndarray, float, shape (D, C, n_samples)
        Overwritten with the D drum stems (float32 for complex64 X).
    mask_power : float > 0
    n_fft, hop_length : int
        X's STFT.
    sustained : ndarray, shape (F, C, N), or SpreadSustained, optional
        Added to the residual's model (the weighted accompaniment,
        :mod:`nmfaudio.drums.accompaniment`); a
        :class:`~nmfaudio.drums.accompaniment.SpreadSustained` is made a few frames at a
        time like the models.
    window : str, default "hann"
    spatial : int >= 0, default 0
        Multichannel: per-bin updates of the outputs' models by the channels' level
        ratio (:func:`_spatial_update`) before the masks; 0: none.
    ring : tuple (int, SpreadSustained), or a list of them, optional
        ``(d, part)``: at each bin ``min(part, the residual's model)`` moves from the
        residual's model to drum output d's (the cymbals' ring,
        :mod:`nmfaudio.drums.cymbal_ring`; the toms', :mod:`nmfaudio.drums.tom_ring`),
        each in turn; only with a modelled residual.
    leave_out : tuple (int, ndarray), or a list of them, optional
        ``(d, cells)``, ``cells`` bool of shape (C, n_rows, N), ``n_rows <= F``: drum
        output d's mask is 0 at the cells marked (bins ``0 … n_rows − 1``), so its share
        there is the residual's (the song's bass lines, :mod:`nmfaudio.drums.bass_lines`);
        applied after the masks, only with a modelled residual, only in the frames that
        hold a marked cell.
    hat_ceiling : tuple (int, ndarray, int or None), optional
        ``(d, ceilings, kept)``, ``ceilings`` of shape (C, F): drum output d's model held
        under ``ceilings[c]`` in channel c before the masks (with ``spatial``, before the
        per-bin updates, which rescale the models), output ``kept``'s mask unchanged
        (:func:`nmfaudio.drums.hat_ceiling.capped_models`; the hi-hat's,
        :mod:`nmfaudio.drums.hat_ceiling`).
    release : bool, default False
        The caller reads ``X`` no more: each range gives back the pages of the frames it
        has finished with as it goes (:func:`nmfaudio.drums.pages.give_back`), so the
        stems' samples take them instead of fresh memory; ``X`` then holds zeros there.

    Returns
    -------
    bool
        Whether the residual's model is non-zero somewhere.  When it is zero everywhere
        (no free components, every class asked for, no accompaniment), every bin goes
        to a drum: the masks are the D drum outputs' alone, and the residual is silent.
    """
    C, F, N = X.shape
    D = len(factors) - 1
    rings = [] if ring is None else [ring] if isinstance(ring, tuple) else list(ring)
    left_out = _left_out_cells(leave_out, C, F, N, D)
    n_samples = out.shape[-1]
    real = np.finfo(X.dtype).dtype
    modelled = _residual_modelled(factors[D], sustained)
    outputs = list(factors) if modelled else list(factors[:D])
    if D == 0:
        return modelled
    # per output and channel: the activations frame-major (N, n_d), so a stretch of
    # frames is a contiguous block of rows, and W transposed (n_d, F): the product of
    # the two is the output's model, frame-major, as the inverse FFTs read it
    weights = [None if f is None else np.ascontiguousarray(f[0].T, dtype=np.float32) for f in outputs]
    activations = [None if f is None else [np.ascontiguousarray(f[1][:, c * N:(c + 1) * N].T, dtype=np.float32)
                                            for c in range(C)] for f in outputs]
    # frame-major (N, F) pairs of (real, imaginary) per channel: views, X is frame-major
    pairs = [np.ascontiguousarray(X[c].T).view(real).reshape(N, F, 2) for c in range(C)]
    frame_bytes = F * 2 * np.dtype(real).itemsize  # one frame of a channel's pairs
    tiny = np.finfo(real).tiny  # librosa.util.tiny: istft divides only where the norm exceeds it

    def norm(lo, hi):  # istft_norm's samples lo … hi − 1: each range makes its own, not the
        # whole track's (40 MB of fresh memory at 44.1 kHz; docs/performance.md, the speed45 round)
        return spectrum.istft_norm(N, n_samples, n_fft=n_fft, hop_length=hop_length, window=window, dtype=real,
                                   span=(lo, hi))
    def divide(samples, done, c, upto, start):  # samples[:, done[c]:upto] /= the norm, where > tiny
        if upto > done[c]:
            stretch = samples[:, done[c]:upto]
            divisor = norm(start + done[c], start + upto)
            np.divide(stretch, divisor, out=stretch, where=divisor > tiny)
            done[c] = upto
    shared = n_fft - hop_length  # samples that the frames of neighbouring ranges both reach
    pad = n_fft // 2
    # spatial: each chunk's models of every channel are needed at once (the update reads
    # them all), so a task is a range of frames of every channel
    joint = bool(spatial) and C > 1
    ranges = _frame_ranges(N, 1 if joint else C, n_fft, hop_length)
    heads, tails = {}, {}

    def task(index):
        (a, b) = ranges[index % len(ranges)]
        channels = range(C) if joint else [index // len(ranges)]
        # samples only this range's frames reach: [own0, own1); its first `shared` samples
        # (reached by the range before) go to `head`, its last ones (reached by the
        # range after) to `tail`
        own0 = 0 if a == 0 else min(max(a * hop_length - pad + shared, 0), n_samples)
        own1 = n_samples if b == N else min(max(b * hop_length - pad, own0), n_samples)
        head = {c: np.zeros((D, shared), real) if a > 0 else None for c in channels}
        tail = {c: np.zeros((D, shared), real) if b < N else None for c in channels}
        model = np.empty((C if joint else 1) * len(outputs) * CHUNK_FRAMES * F, np.float32)
        masked = np.empty(D * CHUNK_FRAMES * F * 2, real)
        spread = (None if (sustained is None or isinstance(sustained, np.ndarray)) and not rings
                  else np.empty(CHUNK_FRAMES * F, np.float32))
        own = {c: out[:, c, own0:own1] for c in channels}
        # the overlap-add adds: each chunk zeroes the samples its frames are the first to
        # reach just before it adds to them, rather than the whole range at once, so the
        # stems' pages are first touched as X's are given back (`release`), not all before:
        # the 3-minute stereo song's peak RSS 996 -> 877 MB at the same CPU and bytes
        # (docs/performance.md, the mem56 round)
        zeroed = {c: 0 for c in channels}  # own[c][:, :zeroed[c]] is zeroed
        # ... and divides by the window norm the samples no later frame reaches, while in
        # cache (no second pass over the stems' memory)
        done = {c: 0 for c in channels}  # own[c][:, :done[c]] is divided
        given = {c: a * frame_bytes for c in channels}  # release: X's bytes given back up to here
        for t0 in range(a, b, CHUNK_FRAMES):
            t1 = min(t0 + CHUNK_FRAMES, b)
            n = t1 - t0
            if joint:  # every channel's models, then the per-bin updates by the channels' levels
                every = model[:C * len(outputs) * n * F].reshape(C, len(outputs), n, F)
                for c in channels:
                    _output_models(weights, activations, c, t0, t1, every[c])
                    if hat_ceiling is not None:  # in the models' own units (the
                        # update rescales them per bin): the hat model's excess over its usual level
                        capped_models(every[c], hat_ceiling[0], hat_ceiling[1][c], power=mask_power,
                                      kept=hat_ceiling[2])
                _spatial_update(every, np.stack([p[t0:t1] for p in pairs]), spatial)
            for c in channels:
                S = every[c] if joint else _output_models(weights, activations, c, t0, t1,
                                                           model[:len(outputs) * n * F].reshape(len(outputs), n, F))
                if len(outputs) > D and sustained is not None:
                    if isinstance(sustained, np.ndarray):
                        S[D] += sustained[:, c, t0:t1].T
                    else:
                        S[D] += sustained.frames(c, t0, t1, out=spread[:n * F].reshape(n, F))
                for d, part in rings if len(outputs) > D else ():  # the part of the residual's model a ring explains
                    moved = part.frames(c, t0, t1, out=spread[:n * F].reshape(n, F))
                    np.minimum(moved, S[D], out=moved)
                    S[D] -= moved
                    S[d] += moved
                if hat_ceiling is not None and not joint:  # the hat model's excess over its usual level
                    capped_models(S, hat_ceiling[0], hat_ceiling[1][c], power=mask_power, kept=hat_ceiling[2])
                M = masks.spectrogram_masks(S, power=mask_power, overwrite=True)  # (outputs, n, F), in place
                for d, marked, cells in left_out if len(outputs) > D else ():  # the residual takes those cells
                    if marked[c, t0:t1].any():
                        M[d, :, :cells[c].shape[1]][cells[c][t0:t1]] = 0
                spectra = masked[:D * n * F * 2].reshape(D, n, F, 2)
                # masks × STFT as real × (real, imaginary) pairs: NumPy's float32 × complex64
                # product casts through buffers
                _mask_spectra(M, pairs[c][t0:t1], spectra)
                frames = _irfft(spectra.view(X.dtype).reshape(D, n, F), n_fft)  # (D, n, n_fft)
                reach = min(max((t1 - 1) * hop_length - pad + n_fft - own0, 0), own1 - own0)
                if reach > zeroed[c]:
                    own[c][:, zeroed[c]:reach] = 0
                    zeroed[c] = reach
                spectrum.overlap_add(frames, own[c], first=t0, offset=own0 + pad, hop_length=hop_length,
                                     window=window)
                if head[c] is not None and t0 * hop_length - pad < a * hop_length - pad + shared:
                    spectrum.overlap_add(frames, head[c], first=t0, offset=a * hop_length, hop_length=hop_length,
                                         window=window)
                if tail[c] is not None and t1 * hop_length - pad + shared > b * hop_length - pad:
                    spectrum.overlap_add(frames, tail[c], first=t0, offset=b * hop_length, hop_length=hop_length,
                                         window=window)
                if release:  # frames t0 … t1 − 1 of this channel are read no more (nor by other ranges)
                    given[c] = pages.give_back(pairs[c], given[c], t1 * frame_bytes)
                # frames t1 and on start at sample t1·hop − pad: the samples before it are complete
                divide(own[c], done, c, min(max(t1 * hop_length - pad - own0, 0), zeroed[c]), own0)
        for c in channels:  # samples no frame of the range reached: 0 (0 / norm is 0, as whole)
            own[c][:, zeroed[c]:] = 0
            divide(own[c], done, c, zeroed[c], own0)
            heads[c, a], tails[c, b] = head[c], tail[c]

    n_tasks = len(ranges) * (1 if joint else C)
    # BLAS on one thread while the tasks run: the chunks' products (16 frames × n_d ×
    # F) are the tasks' own, and a threaded BLAS under two tasks oversubscribes the
    # cores (the song's stems called without this hold, as a script may: median 19.7 s
    # against 0.95 s, docs/performance.md 2026-12-05 "stemspeed").  separate_drums already
    # holds BLAS to one thread around the whole separation; nested holds share one limit.
    with blas_on_one_thread():
        run_in_threads(task, n_tasks, min(num_threads(), n_tasks))
    for c in range(C):  # the samples two ranges share: the sum of both ranges' frames
        for a, _ in ranges[1:]:
            first = a * hop_length - pad
            lo, hi = max(first, 0), min(first + shared, n_samples)
            if hi > lo:
                span = slice(lo - first, hi - first)
                np.add(heads[c, a][:, span], tails[c, a][:, span], out=out[:, c, lo:hi])
                divisor = norm(lo, hi)
                np.divide(out[:, c, lo:hi], divisor, out=out[:, c, lo:hi], where=divisor > tiny)
    return modelled


def _left_out_cells(leave_out, C: int, F: int, N: int, D: int) -> list:
    """``leave_out`` of :func:`masked_stems` checked, as ``(d, marked, cells)``: ``marked``
    (C, N) whether frame t holds a marked cell, ``cells`` per channel frame-major (N, n_rows),
    as a chunk of masks (n, F) is laid out."""
    pairs = [] if leave_out is None else [leave_out] if isinstance(leave_out, tuple) else list(leave_out)
    checked = []
    for d, cells in pairs:
        cells = np.asarray(cells, dtype=bool)
        if not 0 <= int(d) < D:
            raise ValueError(f"leave_out output d={d} must be a drum output in [0, {D})")
        if cells.ndim != 3 or cells.shape[0] != C or cells.shape[1] > F or cells.shape[2] != N:
            raise ValueError(f"leave_out cells of shape {cells.shape} must be (C, n_rows <= F, N) = "
                             f"({C}, <= {F}, {N}): the STFT's channels, low bins and frames")
        if cells.any():
            checked.append((int(d), cells.any(axis=1), [np.ascontiguousarray(cells[c].T) for c in range(C)]))
    return checked


def _output_models(weights, activations, c, t0, t1, out):
    """``out`` (outputs, n, F): channel ``c``'s model of each output over frames t0..t1,
    ``activations[d][c][t0:t1] @ weights[d]`` (0 where ``weights[d]`` is None: no model);
    ``weights`` and ``activations`` as in :func:`masked_stems`.  Returns ``out``."""
    for d, W in enumerate(weights):
        if W is None:
            out[d] = 0
        else:
            np.matmul(activations[d][c][t0:t1], W, out=out[d])
    return out


#: A bin whose mixture is more than this many times its model in a channel (the model
#: ~0 there) has its models scaled up together before an update: u² of such a bin
#: overflows float32 (1e19² > 3.4e38) and the next update makes inf × 0 = NaN.  Each
#: output's share of the bin, so its masks, is the same up to float32 rounding.
RATIO_LIMIT = 1e9


def _spatial_update_numpy(S, pairs, n_iter):
    """In place, ``n_iter`` times: each output's model S_dc (every channel c) times u_d²,
    u_d = Σ_c S_dc r_c / Σ_c S_dc, r_c = |X_c| / Σ_j S_jc — the multiplicative update of a
    per-bin level of each output, its pan kept, for the Kullback-Leibler divergence
    between the channels' magnitudes and the model, squared to converge in fewer
    updates (over-relaxed; 2 is stable, 3 diverges).  Equal channels: every u_d the same,
    so the masks (each output's share) are unchanged."""
    magnitude = np.hypot(pairs[..., 0], pairs[..., 1])  # (C, n, F)
    tiny = np.float32(1e-30)
    for _ in range(n_iter):
        total = S.sum(axis=1)  # (C, n, F)
        ratio = magnitude / (total + tiny)
        # a bin whose model is far below its mixture (u² would overflow float32 and the
        # next update make inf × 0 = NaN): the bin's models scaled up together first —
        # each output's share, so the masks, is unchanged by a common factor
        largest = np.where(total > 0, ratio, 0).max(axis=0)  # (n, F)
        scale = np.where(largest > RATIO_LIMIT, largest, 1).astype(S.dtype)
        S *= scale[None, None]
        ratio /= scale[None]
        u = np.einsum("cdnf,cnf->dnf", S, ratio) / (S.sum(axis=0) + tiny)
        S *= (u * u)[None]


if HAVE_NUMBA:

    # fastmath 'reassoc' lets LLVM vectorize over the bins (as masks.py's kernel)
    @numba.njit(nogil=True, cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
    def _spatial_update(S, pairs, n_iter):
        """:func:`_spatial_update_numpy` compiled, a frame at a time, bins innermost."""
        C, D, n, F = S.shape
        tiny = np.float32(1e-30)
        magnitude = np.empty((C, F), np.float32)
        ratio = np.empty((C, F), np.float32)
        num = np.empty(F, np.float32)
        den = np.empty(F, np.float32)
        largest = np.empty(F, np.float32)
        for t in range(n):
            for c in range(C):
                for f in range(F):
                    magnitude[c, f] = np.sqrt(pairs[c, t, f, 0] ** 2 + pairs[c, t, f, 1] ** 2)
            for _ in range(n_iter):
                for f in range(F):
                    largest[f] = 0
                for c in range(C):
                    for f in range(F):
                        ratio[c, f] = 0
                    for d in range(D):
                        for f in range(F):
                            ratio[c, f] += S[c, d, t, f]
                    for f in range(F):
                        total = ratio[c, f]
                        ratio[c, f] = magnitude[c, f] / (total + tiny)
                        if total > 0 and ratio[c, f] > largest[f]:
                            largest[f] = ratio[c, f]
                for f in range(F):  # far below the mixture: scaled up together (see the numpy version)
                    if largest[f] > RATIO_LIMIT:
                        for c in range(C):
                            ratio[c, f] /= largest[f]
                            for d in range(D):
                                S[c, d, t, f] *= largest[f]
                for d in range(D):
                    for f in range(F):
                        num[f] = 0
                        den[f] = tiny
                    for c in range(C):
                        for f in range(F):
                            num[f] += S[c, d, t, f] * ratio[c, f]
                            den[f] += S[c, d, t, f]
                    for f in range(F):
                        u = num[f] / den[f]
                        num[f] = u * u
                    for c in range(C):
                        for f in range(F):
                            S[c, d, t, f] *= num[f]
else:  # pragma: no cover - numba comes with librosa
    _spatial_update = _spatial_update_numpy


def _residual_modelled(factor, sustained) -> bool:
    """Whether the residual's model is non-zero somewhere: a column of W and its row of
    Hs both non-zero (the factors are non-negative: no cancellation), or the sustained
    part."""
    if sustained is not None and sustained.any():
        return True
    if factor is None:
        return False
    W, Hs = factor
    return bool(np.any(W.any(axis=0) & Hs.any(axis=1)))


def _frame_ranges(n_frames: int, n_channels: int, n_fft: int, hop_length: int) -> list[tuple[int, int]]:
    """Ranges of frames, the same for every channel: :data:`RANGE_TASKS` (channel, range)
    tasks, each much longer than the frames' overlap, independent of the thread count."""
    wanted = -(-RANGE_TASKS // n_channels)
    shortest = max(4 * CHUNK_FRAMES, -(-n_fft // hop_length))
    count = max(1, min(wanted, n_frames // shortest))
    bounds = np.linspace(0, n_frames, count + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def _mask_spectra_numpy(M, pairs, out):
    """``out[d, t, f, :] = M[d, t, f] · pairs[t, f, :]`` for the first ``out.shape[0]``
    masks: each mask times the (real, imaginary) pair of the mixture's STFT."""
    np.multiply(M[:out.shape[0], :, :, None], pairs[None], out=out)


if HAVE_NUMBA:

    @numba.njit(nogil=True, cache=True)
    def _mask_spectra(M, pairs, out):
        """:func:`_mask_spectra_numpy` compiled: NumPy broadcasts the (real, imaginary)
        axis of length 2 innermost, one short inner loop per bin (0.74 s of CPU on the
        3-minute stereo song, against ~0.1 s here); the same products, bit for bit."""
        for d in range(out.shape[0]):
            for t in range(out.shape[1]):
                for f in range(out.shape[2]):
                    m = M[d, t, f]
                    out[d, t, f, 0] = m * pairs[t, f, 0]
                    out[d, t, f, 1] = m * pairs[t, f, 1]
else:  # pragma: no cover - numba comes with librosa
    _mask_spectra = _mask_spectra_numpy


def _irfft(spectra, n_fft: int) -> np.ndarray:
    """Inverse real FFTs along the last axis on this thread (the tasks are the parallelism)."""
    import scipy.fft

    return scipy.fft.irfft(spectra, n=n_fft, axis=-1, workers=1)
