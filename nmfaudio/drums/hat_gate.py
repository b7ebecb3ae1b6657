"""Drum recordings: the closed hat part's activations away from the hi-hat's own hits
leave the hi-hat stem.  Arrays only.  Off by default (``separation.HAT_GATE``: the
kick/snare/hi-hat-only grooves and the hits lose a little, see below).

The hats sit 20-35 dB under the kick, and the closed hat part, adapting up to 20 dB,
also explains part of the percussion, the cymbals' wash and the snare's wires between
the hats' strokes (docs/log/drums-five-stems-decisions.md, hat-gap round), while the
hi-hat's hits are found well.  The hits are picked from the fit's activations as
``result.hits()`` picks them, without the tracks (:func:`hat_hit_frames`); the closed
hat part keeps its activation from :data:`BEFORE` frame before to :data:`AFTER` frame
after each (its template carries the hat's decay) and loses the rest
(:func:`gated_parts`).  An open hat rings past its template: its part is not gated
(:data:`UNGATED`).  Where the gated share goes: the kick's, toms' and cymbals' masks
stay what they were with it in the hat's model (:func:`kept_masks`), so the freed share
of the mask goes to the hi-hat (what its hits' templates hold there), the snare and the
residual by their models.  Given to every output, the cymbals stem took the hats' energy
between the detected hits (tuning seed 0 cymbals 7.69 -> 7.18 dB; proxy 7.78 -> 7.46);
given to the residual alone, the hats left with it (docs/log/drums-five-stems-decisions.md,
hat-gate round).  With the kick's, toms' and cymbals' masks kept: tuning seed 0 hi-hat 2.23
-> 2.59 dB, proxy -6.71 -> -6.20 (23 of 64 recordings at -2 dB or more against 20), those
three stems unchanged, the snare +0.13 / +0.05; but the kick/snare/hi-hat-only grooves lose
on every row (bundled 16.24 -> 16.18, Audiophob 13.70 -> 13.50: hats the activations' hits
miss, or between them, leave for the snare and residual), and ``result.hits()``, which reads
the stems, loses hi-hat F 0.941 -> 0.938 (performances) and 0.919 -> 0.912 (k/s/h-only); the
hits from the activations alone are identical.  Hence off.  Keeping the gated share in the hat
where the snare's and residual's models are small, or gating only where the cymbals or
residual hold something, shrinks that loss only with the gain (hat-gate cost round).  Its
cost is the masks' own pass (:func:`gated_masks`): the 3-minute tracks' wall within 2 % of
the run without it.
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.templates import class_of

__all__ = ["AFTER", "BEFORE", "KEPT_CLASSES", "UNGATED", "gate_frames", "gated_masks", "gated_parts",
           "hat_hit_frames", "kept_masks"]

#: Frames kept before each hit (a hit's activation may rise a frame early; the hits'
#: times are their peaks' interpolated times, rounded to a frame).
BEFORE = 1
#: Frames kept after each hit (the hat-gate round, tuning and proxy draws: 1 against 0
#: within 0.04 dB of the hi-hat on both, 2 lost 0.18 / 0.07 dB on the tuning draws; the
#: template holds the decay).
AFTER = 1
#: Hat part labels not gated: an open hat rings past its template (gated 4 frames after
#: each hit: hi-hat −0.04 / −0.07 dB on the tuning / proxy draws).
UNGATED = ("hihat:open",)
#: Outputs whose masks the gate leaves as they were.
KEPT_CLASSES = ("kick", "toms", "cymbals")


def hat_hit_frames(activations, sr: int, hop_length: int) -> np.ndarray:
    """The hi-hat's hits' frames, picked from the activations alone.

    Parameters
    ----------
    activations : dict {str: ndarray}
        Each class's activation, shape (n_frames,) or (n_channels, n_frames), with
        ``"hihat"`` among them (the other classes' for the bleed test).
    sr, hop_length : int

    Returns
    -------
    ndarray of int, shape (n_hits,)
        :func:`nmfaudio.drums.hits.detect_hits`' hi-hat times (no tracks given: its steps
        1-3 and 5) as frames.
    """
    from nmfaudio.drums.hits import detect_hits  # hits imports the drums package's modules

    found = detect_hits(activations, sr=sr, hop_length=hop_length)["hihat"]
    return np.round(np.asarray(found.times) * sr / hop_length).astype(int)


def gate_frames(n_frames: int, hits, *, before: int = BEFORE, after: int = AFTER) -> np.ndarray:
    """True from ``before`` frames before to ``after`` frames after each of ``hits``.

    Parameters
    ----------
    n_frames : int
    hits : array of int
        Hit frames (any outside 0 … n_frames − 1 reach in as far as their span does).
    before, after : int >= 0

    Returns
    -------
    ndarray of bool, shape (n_frames,)
    """
    keep = np.zeros(n_frames, bool)
    for h in np.asarray(hits, dtype=int).reshape(-1):
        keep[max(0, h - before):max(0, min(n_frames, h + after + 1))] = True
    return keep


def gated_parts(P, H, route, labels, *, hits, to: int):
    """The gated hat parts' activations away from ``hits`` moved to output ``to``.

    Parameters
    ----------
    P : ndarray, shape (F, K', T)
        The masks' templates (K' ≥ K: extra parts appended after the K labelled ones).
    H : ndarray, shape (K', C, N)
        Their activations.
    route : ndarray of int, shape (K',)
        Output of each template.
    labels : sequence of K str
        The labels of the first K templates; the parts of class ``"hihat"`` whose label is
        not in :data:`UNGATED` are gated.
    hits : array of int
        The hi-hat's hit frames (:func:`hat_hit_frames`).
    to : int
        The output the moved share is routed to.

    Returns
    -------
    P, H, route : shapes (F, K' + B, T), (K' + B, C, N), (K' + B,)
        One extra template per gated part (B of them: a copy of it, routed to ``to``)
        carrying the moved activation; the model ``Σ_k P_k * H_k`` is unchanged.  The
        inputs themselves when no part is gated (no such part, or no hit: a recording
        with no hi-hat hit keeps its hat model).
    """
    labels = list(labels)
    gated = [k for k in range(len(labels)) if class_of(labels[k]) == "hihat" and labels[k] not in UNGATED]
    hits = np.asarray(hits, dtype=int).reshape(-1)
    if not gated or not hits.size:
        return P, H, route
    off = ~gate_frames(H.shape[2], hits)
    H = H.copy()
    moved = np.zeros((len(gated),) + H.shape[1:], H.dtype)
    for i, k in enumerate(gated):
        moved[i][:, off] = H[k][:, off]
        H[k][:, off] = 0
    return (np.concatenate([P, P[:, gated]], axis=1), np.concatenate([H, moved]),
            np.append(route, np.full(len(gated), to)))


def kept_masks(S, hat: int, moved, kept, power: float, ceiling=None):
    """Scale the ``kept`` outputs' models in place so that their soft masks
    ``S_k^p / Σ_j S_j^p`` are what they were with ``moved`` still in output ``hat``'s model.

    Parameters
    ----------
    S : ndarray, float32, shape (outputs, n, F)
        A chunk of the outputs' modelled magnitudes, the hat's without ``moved``.
    hat : int
    moved : ndarray, shape (n, F)
        The gated share's model over the same cells.
    kept : sequence of int
        Outputs whose masks must not change (not ``hat``).
    power : float > 0
        The masks' power p.
    ceiling : ndarray, shape (F,), optional
        The hat model's ceiling (:mod:`nmfaudio.drums.hat_ceiling`), applied to the whole
        hat model as it was to the hat's.

    Returns
    -------
    ndarray
        ``S``.
    """
    if not len(kept):
        return S
    if (_kept_scaled is None or S.dtype != np.float32 or S.ndim != 3 or not S.flags.c_contiguous
            or not S.flags.writeable):
        return _kept_masks_numpy(S, hat, moved, kept, power, ceiling)
    # compiled, float32, one pass over the chunk a frame at a time: the float64 NumPy form
    # took every chunk's models to powers once more (0.9 s of CPU on the 3-minute 44.1-kHz
    # track, a fifth more than main's run; hatgate63), this form ~0.15 s; masks within
    # ~3e-7 of the NumPy form's (docs/log/drums-five-stems-decisions.md, hatgate64)
    flags = np.zeros(len(S), np.bool_)
    flags[list(kept)] = True
    F = S.shape[2]
    cap = np.full(F, np.inf, np.float32) if ceiling is None else np.ascontiguousarray(ceiling, dtype=np.float32)
    _kept_scaled(S, hat, np.ascontiguousarray(moved, dtype=np.float32), cap, flags, np.float32(power))
    return S


def gated_masks(S, hat: int, moved, kept, power: float, ceiling=None):
    """The soft masks of :func:`kept_masks`' models, ``spectrogram_masks(kept_masks(S, …))``,
    written into ``S``.

    Parameters
    ----------
    S : ndarray, float32, shape (outputs, n, F)
        A chunk of the outputs' modelled magnitudes, the hat's without ``moved`` (overwritten).
    hat, moved, kept, power, ceiling
        As :func:`kept_masks`.

    Returns
    -------
    ndarray, shape (outputs, n, F)
        The masks, summing to 1 over the outputs (``S`` itself when it is a writeable
        C-contiguous float32 array).
    """
    from nmfaudio import masks

    if not len(kept) or _gated_masks is None or S.dtype != np.float32 or S.ndim != 3 \
            or not S.flags.c_contiguous or not S.flags.writeable:
        return masks.spectrogram_masks(kept_masks(S, hat, moved, kept, power, ceiling), power=power, overwrite=True)
    # compiled, one pass with the masks' own: the kept outputs' powers scaled by
    # (rest + S_hat^p) / (rest + whole^p) before the normalization (no root, no second pass
    # over the chunk); the float64 NumPy form took every chunk's models to powers once more
    # (0.9 s of CPU on the 3-minute 44.1-kHz track, a fifth more than main's run; hatgate63)
    flags = np.zeros(len(S), np.bool_)
    flags[list(kept)] = True
    cap = np.full(S.shape[2], np.inf, np.float32) if ceiling is None else np.ascontiguousarray(ceiling, np.float32)
    _gated_masks(S, hat, np.ascontiguousarray(moved, dtype=np.float32), cap, flags, np.float32(power))
    return S


def _kept_masks_numpy(S, hat: int, moved, kept, power: float, ceiling=None):
    """:func:`kept_masks` in NumPy, float64: its reference, and its way without numba."""
    P = S.astype(np.float64) ** power
    rest = np.ones(len(S), bool)
    rest[list(kept)] = False
    after = P[rest].sum(axis=0)  # the other outputs' total, the hat without the moved share
    whole = S[hat].astype(np.float64) + moved
    if ceiling is not None:
        whole = np.minimum(whole, ceiling)
    before = after - P[hat] + whole ** power
    # the kept masks P_k / (before + Σ_kept P) hold when every kept P scales by after / before
    scale = np.divide(after, before, out=np.ones_like(after), where=before > 0) ** (1.0 / power)
    scale = scale.astype(S.dtype)
    for k in kept:
        S[k] *= scale
    return S


try:
    from nmfaudio.nmf.kernels import HAVE_NUMBA, numba
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

if HAVE_NUMBA:

    @numba.njit(nogil=True, cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
    def _kept_scaled(S, hat, moved, ceiling, kept, power):
        """:func:`kept_masks` on S (outputs, n, F) in place, a frame at a time over its bins
        (loops without branches, vectorized): the kept outputs scaled by
        ``((rest + S_hat^p) / (rest + whole^p)) ** (1/p)``, ``whole = min(S_hat + moved,
        ceiling)`` and ``rest`` the other outputs' powers summed (no difference of large
        sums: no cancellation); 1 where ``whole`` is ``S_hat`` (no moved share, or the
        ceiling) or the powers are all 0."""
        outputs, n, F = S.shape
        rest = np.empty(F, np.float32)
        scale = np.empty(F, np.float32)
        one = np.float32(1.0)
        inverse = one / power
        for t in range(n):
            rest[:] = 0
            for d in range(outputs):
                if d != hat and not kept[d]:
                    if power == 1.5:  # x·√x: ~5x faster than x ** 1.5
                        for f in range(F):
                            rest[f] += S[d, t, f] * np.sqrt(S[d, t, f])
                    else:
                        for f in range(F):
                            rest[f] += S[d, t, f] ** power
            if power == 1.5:
                for f in range(F):
                    h = S[hat, t, f]
                    whole = min(h + moved[t, f], ceiling[f])
                    before = rest[f] + whole * np.sqrt(whole)
                    scale[f] = ((rest[f] + h * np.sqrt(h)) / before) ** inverse if before > 0 else one
            else:
                for f in range(F):
                    h = S[hat, t, f]
                    whole = min(h + moved[t, f], ceiling[f])
                    before = rest[f] + whole ** power
                    scale[f] = ((rest[f] + h ** power) / before) ** inverse if before > 0 else one
            for d in range(outputs):
                if kept[d]:
                    for f in range(F):
                        S[d, t, f] *= scale[f]

    @numba.njit(nogil=True, cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
    def _gated_masks(S, hat, moved, ceiling, kept, power):
        """:func:`gated_masks` on S (outputs, n, F) in place, a frame at a time over its bins,
        as :func:`nmfaudio.masks._normalized_powers` (each cell's models over their peak,
        to the power p, over their sum; a silent cell split equally) with the kept
        outputs' powers times ``(rest + S_hat^p) / (rest + whole^p)``, ``whole =
        min(S_hat + moved, ceiling)`` and ``rest`` the other outputs' powers summed."""
        outputs, n, F = S.shape
        peak = np.empty(F, np.float32)
        whole = np.empty(F, np.float32)
        rest = np.empty(F, np.float32)
        total = np.empty(F, np.float32)
        one, zero = np.float32(1.0), np.float32(0.0)
        share = np.float32(1.0 / outputs)
        for t in range(n):
            for f in range(F):
                peak[f] = S[0, t, f]
                whole[f] = min(S[hat, t, f] + moved[t, f], ceiling[f])
                rest[f] = zero
                total[f] = zero
            for d in range(1, outputs):
                for f in range(F):
                    peak[f] = max(peak[f], S[d, t, f])
            for f in range(F):  # silent cells: every power 0, split below
                peak[f] = peak[f] if peak[f] > zero else one
            for d in range(outputs):
                if power == 1.5:  # x·√x: ~5x faster than x ** 1.5
                    for f in range(F):
                        r = S[d, t, f] / peak[f]
                        S[d, t, f] = r * np.sqrt(r)
                else:
                    for f in range(F):
                        S[d, t, f] = (S[d, t, f] / peak[f]) ** power
                if d != hat and not kept[d]:
                    for f in range(F):
                        rest[f] += S[d, t, f]
            if power == 1.5:
                for f in range(F):
                    r = whole[f] / peak[f]
                    whole[f] = r * np.sqrt(r)
            else:
                for f in range(F):
                    whole[f] = (whole[f] / peak[f]) ** power
            for f in range(F):  # the kept outputs' factor, in ``whole``
                before = rest[f] + whole[f]
                whole[f] = (rest[f] + S[hat, t, f]) / before if before > zero else one
            for d in range(outputs):
                if kept[d]:
                    for f in range(F):
                        S[d, t, f] *= whole[f]
                for f in range(F):
                    total[f] += S[d, t, f]
            for f in range(F):
                total[f] = one / total[f] if total[f] > zero else zero
            for d in range(outputs):
                for f in range(F):
                    S[d, t, f] = S[d, t, f] * total[f] if total[f] > zero else share
else:  # pragma: no cover - numba comes with librosa
    _kept_scaled = _gated_masks = None
