"""Drum recordings: the hat parts' excess at the snare's hits goes to the snare stem.
Arrays and labels only.

With hats 20-30 dB under the snare, the hat parts (free to adapt 20 dB) explain the
snare's wires above 5 kHz at every snare hit, and a small share of a loud snare is then
most of the hi-hat stem (tuning seeds 0, 2-4: Audiophob's hat stem 26-97 % snare, 42-77 %
of it within a frame of the snare's hits).  Where that happens the hat parts' activation is
concentrated at the snare's hits; then, at those frames, each hat part keeps at most its
own level around them — the median of its peaks away from the snare within
:data:`NEAR_S` — and the excess is modelled as snare (docs/log/drums-five-stems-decisions.md,
twenty-second round).  Unlike a cut at every snare hit (fourth round: the hats played
with the snare left with it) or at every recording (seventh round: the snare lost where
the hats are loud), it acts only where the hat model sits at the snare.  Not in a ride
groove: there the hats are the pedal chicks of 2 and 4, at the snare's hits only.
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.templates import class_of
from nmfaudio.drums.times import peak_frames

__all__ = ["AT_SNARE_SHARE", "MIN_NEAR", "NEAR_S", "PEAK_SHARE", "SNARE_PEAK_SHARE", "snare_excess_parts"]

#: The test: the hat parts' modelled energy within a frame of the snare's hits over all
#: of it.  Measured on the tuning draws (seeds 0, 2, 3, 4; 2 performances × 4 kits):
#: 0.09-0.21 where the hat stem held 2-14 % snare (and BJA_Pacific's halftime groove: 0.14 at
#: 32 %), 0.24-0.86 where it held 25-97 % (ride grooves among them: not tested).
AT_SNARE_SHARE = 0.25
#: The snare's hits: local maxima of its activation above this share of its maximum.
SNARE_PEAK_SHARE = 0.2
#: A hat part's own hits away from the snare: local maxima above this share of its maximum.
PEAK_SHARE = 0.05
#: How far (s) from a snare hit its reference hat hits may lie, and how many it needs
#: (fewer: the part keeps its activation there).
NEAR_S = 1.0
MIN_NEAR = 2


def snare_excess_parts(P, H, route, labels, *, frame_rate):
    """Move the hat parts' excess at the snare's hits to the snare's output.

    Parameters
    ----------
    P : ndarray, shape (F, K', T)
        The masks' templates (K' ≥ K: extra parts appended after the K labelled ones).
    H : ndarray, shape (K', C, N)
        Their activations.
    route : ndarray of int, shape (K',)
        Output of each template (the snare parts' output receives the excess).
    labels : sequence of K str
        The labels of the first K templates.
    frame_rate : float
        Frames per second.

    Returns
    -------
    P, H, route : shapes (F, K' + B, T), (K' + B, C, N), (K' + B,)
        One extra template per hat part (B of them; a copy of it, routed to the snare's
        output) carrying the moved activation; the model ``Σ_k P_k * H_k`` is unchanged.
        The inputs themselves when the test does not hold (or there is no hat or snare
        part).
    """
    labels = list(labels)
    K = len(labels)
    hats = [k for k in range(K) if class_of(labels[k]) == "hihat"]
    snares = [k for k in range(K) if class_of(labels[k]) == "snare"]
    if not hats or not snares:
        return P, H, route
    summed = H[:K].sum(axis=1)  # (K, N), channels summed
    energy = P[:, :K].sum(axis=(0, 2))  # each template's total: its model per unit activation
    hat_model = (summed[hats] * energy[hats, None]).sum(axis=0)
    N = hat_model.shape[0]
    at_snare = np.zeros(N, bool)
    for p in peak_frames(summed[snares].sum(axis=0), SNARE_PEAK_SHARE):
        at_snare[max(0, p - 1):p + 2] = True
    total = float(hat_model.sum())
    if total <= 0 or hat_model[at_snare].sum() <= AT_SNARE_SHARE * total:
        return P, H, route
    near = int(round(NEAR_S * frame_rate))
    frames = np.flatnonzero(at_snare)
    H = H.copy()
    moved_parts = []
    for k in hats:
        a = summed[k]
        away = peak_frames(a, PEAK_SHARE)
        away = away[~at_snare[away]]
        keep = a.copy()
        for t in frames:
            ref = away[np.abs(away - t) <= near]
            if ref.size >= MIN_NEAR:
                keep[t] = min(a[t], float(np.median(a[ref])))
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(a > 0, 1 - keep / a, 0).astype(H.dtype)  # the share that moves, per frame
        moved = H[k] * share
        H[k] -= moved
        moved_parts.append(moved)
    return (np.concatenate([P, P[:, hats]], axis=1), np.concatenate([H, np.stack(moved_parts)]),
            np.append(route, np.full(len(hats), route[snares[0]])))
