"""Drum recordings: the hi-hat output's model held under a ceiling per bin before the masks.
Arrays only.

Quiet hats (20-30 dB under the kick) are played at a steady level, while the hat parts,
free to adapt, also explain part of the louder classes' hits — the snare's wires,
percussion, cymbal attacks — where the hi-hat stem then takes a share of something much
louder than the hats (docs/log/drums-five-stems-decisions.md, hat-gap round: the stem 38 % hats against
the oracle's 60 %).  Each bin's ceiling is :data:`CEILING_RATIO` times the hat model's
median over the frames where it plays: the cells where the hat model rises far over its
usual level lose the excess to the other outputs.  The kick's mask is kept as it was (its
share of those cells does not grow): with it free, the kick lost 0.2-0.4 dB on the tuning
draws (hat-proxy round); with the excess all the residual's, the loud hats of the bundled
loop fell to 8.2 dB SDR (tests/test_drums_five.py's bound: 10).  Only with the hi-hat a
stem: a run asking for fewer classes leaves the hat parts in the residual uncapped, so its
snare, toms and cymbals stems lack the share of the hats' excess a full run's take (its
kick is the same).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ACTIVE_SHARE", "CEILING_RATIO", "MAX_FRAMES", "MIN_FRAMES", "capped_models", "hat_ceilings"]

#: The ceiling over the median of the hat model's active frames, per bin.  Screened on the
#: proxy draws (seeds 10-24, 64 recordings; hat-proxy round), the kick's mask kept: 1.5 / 2 →
#: hi-hat −6.43 / −6.60 against −7.10; under 2 the cymbals and the k/s/h-only grooves lose
#: more (1.5: −0.12 and −0.08 dB).  With the share to every output, 1: −0.30 and −0.67; 4, on
#: 16 of the recordings: hi-hat −7.34 against −7.38.  (Screened with the first form's
#: active frames, see ACTIVE_SHARE; the kept form reads −6.71 at 2, not screened again.)
CEILING_RATIO = 2.0
#: A frame is one where the hats play when the hat model's total over the bins exceeds this
#: share of its largest (the median over every frame is 0 in sparse grooves, a ceiling of 0
#: would silence the stem).  Not of its 95th percentile, as first merged: with hats in under
#: 5 % of the frames that percentile is the activations' small leak, most "active" frames
#: were leak, and the ceiling cut the real strokes (hats in the loop's first 0.45 s only:
#: hi-hat SDR 12.22 dB without the ceiling, 9.49 with it; the review of 2026-12-05).
ACTIVE_SHARE = 0.1
#: Fewer active frames than this: no ceiling.
MIN_FRAMES = 3
#: At most this many active frames (evenly spaced) per channel enter the median, so a long
#: recording's ceilings need no model of every frame (2049 bins × 1024 frames: 8 MB).
MAX_FRAMES = 1024


def hat_ceilings(W, Hs, n_channels: int, *, ratio: float = CEILING_RATIO) -> np.ndarray:
    """Each channel's ceiling per bin for the hi-hat output's model.

    Parameters
    ----------
    W : ndarray, shape (F, n_d)
        The hi-hat output's spectral factors (:func:`nmfaudio.nmf.convolutive_factors`).
    Hs : ndarray, shape (n_d, n_channels · N)
        Its activations, the channels one after the other.
    n_channels : int
    ratio : float > 0
        The ceiling over the median of the model's active frames.

    Returns
    -------
    ndarray, float32, shape (n_channels, F)
        ``ratio`` × the per-bin median of ``W @ Hs`` over each channel's active frames
        (:data:`ACTIVE_SHARE`); +inf in a channel with fewer than :data:`MIN_FRAMES`.
    """
    W = np.asarray(W, dtype=np.float32)
    Hs = np.asarray(Hs, dtype=np.float32)
    N = Hs.shape[1] // n_channels
    ceilings = np.full((n_channels, W.shape[0]), np.inf, dtype=np.float32)
    totals = W.sum(axis=0) @ Hs  # each frame's model summed over the bins, (n_channels · N,)
    for c in range(n_channels):
        total = totals[c * N:(c + 1) * N]
        active = np.flatnonzero(total > ACTIVE_SHARE * total.max())
        if active.size < MIN_FRAMES or not total.any():
            continue
        if active.size > MAX_FRAMES:  # evenly spaced, the first and last kept
            active = active[np.linspace(0, active.size - 1, MAX_FRAMES).round().astype(int)]
        model = W @ Hs[:, c * N + active]  # (F, frames)
        ceilings[c] = ratio * np.median(model, axis=1)
    # a bin whose median is 0 (a part silent in most active frames) gets no ceiling: a cap
    # of 0 where nothing else is modelled would leave the cell to be split evenly
    ceilings[ceilings <= 0] = np.inf
    return ceilings


def capped_models(S, hat: int, ceiling, *, power: float, kept=None):
    """Cap output ``hat``'s model at ``ceiling`` in place; output ``kept``'s model is scaled
    where the cap acts so that its soft mask ``S_k^p / Σ_j S_j^p`` is what it was.

    Parameters
    ----------
    S : ndarray, float, shape (outputs, n, F)
        A chunk of the outputs' modelled magnitudes (overwritten).
    hat : int
        The hi-hat output.
    ceiling : ndarray, shape (F,)
        The ceiling per bin (:func:`hat_ceilings` of one channel).
    power : float > 0
        The masks' power p.
    kept : int, optional
        The output whose mask must not change (the kick); None: every other output takes
        its share of what the cap frees.

    Returns
    -------
    ndarray
        ``S``.
    """
    # the compiled form reads ceiling[f] for f < F unchecked and compares in float32: only a
    # float32 ceiling of shape (F,) (hat_ceilings'); another (a float64 one, a scalar or a
    # (1, F) row the NumPy form broadcasts) goes the NumPy way (a scalar read past its end:
    # NaN models; a float64 one rounded first: other cells capped; review10)
    if (_over_cells is None or kept is None or kept == hat or S.dtype != np.float32 or S.ndim != 3
            or not S.flags.c_contiguous or not S.flags.writeable
            or not (isinstance(ceiling, np.ndarray) and ceiling.dtype == np.float32
                    and ceiling.shape == (S.shape[2],))):
        return _capped_models_numpy(S, hat, ceiling, power=power, kept=kept)
    # compiled: the cells over the ceiling found, gathered and written back in one pass
    # each (the boolean masks of the NumPy form cost ~0.5 ms a chunk: 0.25 s of CPU on the
    # 3-minute 44.1-kHz track, ~15 % of its stems'; docs/performance.md, the speed46
    # round); the powers are NumPy's own on the gathered cells, the rest the same float
    # operations in the same order: the same bits
    ceiling = np.ascontiguousarray(ceiling)
    cells = np.empty(S.shape[1] * S.shape[2], dtype=np.intp)
    count = _over_cells(S[hat], ceiling, cells)
    if count == 0:
        return S
    cells = cells[:count]
    values = np.empty((S.shape[0], count))
    capped = np.empty(count)
    _gathered(S, ceiling, cells, values, capped)
    powered = values ** power  # (outputs, cells)
    capped = capped ** power
    ratio = np.empty(count)
    _ratios(powered, capped, kept, hat, ratio)
    _scattered(S, kept, hat, ceiling, cells, ratio ** (1.0 / power))
    return S


def _capped_models_numpy(S, hat: int, ceiling, *, power: float, kept=None):
    """:func:`capped_models` in NumPy: the reference of the compiled form, and its way
    without numba, without a kept output, or for other arrays."""
    over = S[hat] > ceiling  # (n, F)
    if not over.any():
        return S
    if kept is not None and kept != hat:
        powered = S[:, over].astype(np.float64) ** power  # (outputs, cells)
        others = powered.sum(axis=0) - powered[kept] - powered[hat]
        capped = np.broadcast_to(ceiling, over.shape)[over].astype(np.float64) ** power
        before = others + powered[hat]
        # S_k^p·(others + capped)/(others + hat^p) over (that + others + capped) = the mask before
        scale = np.divide(others + capped, before, out=np.ones_like(before), where=before > 0) ** (1.0 / power)
        S[kept][over] *= scale.astype(S.dtype)
    np.minimum(S[hat], ceiling, out=S[hat])
    return S


try:
    from nmfaudio.nmf.kernels import HAVE_NUMBA, numba
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

if HAVE_NUMBA:

    @numba.njit(nogil=True, cache=True)
    def _over_cells(hat_model, ceiling, cells):
        """The flat indices (t·F + f, in order) of the cells of ``hat_model`` (n, F) over
        ``ceiling[f]``, written to ``cells``; their count."""
        n, F = hat_model.shape
        count = 0
        for t in range(n):
            for f in range(F):
                if hat_model[t, f] > ceiling[f]:
                    cells[count] = t * F + f
                    count += 1
        return count

    @numba.njit(nogil=True, cache=True)
    def _gathered(S, ceiling, cells, values, capped):
        """``values[d, i] = S[d].flat[cells[i]]`` and ``capped[i] = ceiling[f]``, in float64."""
        F = S.shape[2]
        for i in range(cells.size):
            t, f = divmod(cells[i], F)
            for d in range(S.shape[0]):
                values[d, i] = np.float64(S[d, t, f])
            capped[i] = np.float64(ceiling[f])

    @numba.njit(nogil=True, cache=True)
    def _ratios(powered, capped, kept, hat, out):
        """``out = (others + capped) / before`` (1 where ``before`` is not > 0), with
        ``others = Σ_d powered[d] - powered[kept] - powered[hat]`` (the outputs added in
        order, as NumPy's sum over that axis does) and ``before = others + powered[hat]``:
        the NumPy form's float64 operations, each rounded alike (no fastmath)."""
        for i in range(out.size):
            total = powered[0, i]
            for d in range(1, powered.shape[0]):
                total += powered[d, i]
            others = total - powered[kept, i] - powered[hat, i]
            before = others + powered[hat, i]
            out[i] = (others + capped[i]) / before if before > 0 else 1.0

    @numba.njit(nogil=True, cache=True)
    def _scattered(S, kept, hat, ceiling, cells, scale):
        """``S[kept]`` times ``scale`` (rounded to float32 first) and ``S[hat]`` at its
        ceiling, at the cells."""
        F = S.shape[2]
        for i in range(cells.size):
            t, f = divmod(cells[i], F)
            S[kept, t, f] = S[kept, t, f] * np.float32(scale[i])
            S[hat, t, f] = ceiling[f]
else:  # pragma: no cover - numba comes with librosa
    _over_cells = None
