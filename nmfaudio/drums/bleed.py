"""Cross-talk between the fitted activations: the part of a quiet drum's activation that
moves with a louder drum's hits (its "bleed", as one microphone picks up another drum)
is handed back to the louder drum's output.  Arrays and labels only.

Why: a template that fits a kit's snare less than fully (brighter wires, say) leaves a
little of every snare stroke to the hi-hat template; with the hats 25 dB under the
kick, 3 % of the snare's energy can outweigh the hats in the hi-hat stem.  At the
source's hits, the target's activation is ``c · source + own``: the leak grows with
the source's velocity, the target's own hits do not.  ``c`` is estimated per pair of
parts from the source's hit frames (:func:`leak_coefficient`), and the target's
activation is split into a bleed row ``min(H_target, c · H_source)`` — modelled with
the target's template but sent to the source's output — and the rest.  The model
itself (the sum of all parts) does not change, only which output each part goes to.
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.templates import class_of

__all__ = ["PAIRS", "leak_coefficient", "split_bleed"]

#: Target part (label) → source parts or classes whose bleed is taken out of it.
PAIRS = {}
#: Source hit frames: local maxima of its activation above this share of its maximum.
PEAK_SHARE = 0.1
#: Estimator of the leak: "quantile" (the QUANTILE of target / source over the source's
#: hits: a real target hit at a source hit only raises the ratio) or "slope" (the
#: Theil–Sen slope of target against source over the hits, clipped to [0, quantile]:
#: the leak follows the source's velocity, the target's own hits do not).
ESTIMATOR = "quantile"
QUANTILE = 0.2
#: Fewest source hits for an estimate (fewer: no bleed removed).
MIN_HITS = 4


def _peaks(h, share):
    """Frames (indices) of the local maxima of h (N,) above ``share`` of its maximum."""
    if h.size < 3 or h.max() <= 0:
        return np.zeros(0, dtype=int)
    inner = (h[1:-1] >= h[:-2]) & (h[1:-1] > h[2:]) & (h[1:-1] > share * h.max())
    return np.flatnonzero(inner) + 1


def leak_coefficient(target, source, *, estimator=None, quantile=None, peak_share=None,
                     min_hits=None) -> float:
    """The share ``c`` of the source's activation that the target's activation carries
    at the source's hits (0 when it cannot be told).

    Parameters
    ----------
    target, source : ndarray, shape (N,)
        Activations (summed over channels).

    Returns
    -------
    float ≥ 0
    """
    estimator = ESTIMATOR if estimator is None else estimator
    quantile = QUANTILE if quantile is None else quantile
    peak_share = PEAK_SHARE if peak_share is None else peak_share
    min_hits = MIN_HITS if min_hits is None else min_hits
    hits = _peaks(source, peak_share)
    if hits.size < min_hits:
        return 0.0
    s, t = source[hits].astype(np.float64), target[hits].astype(np.float64)
    floor = float(np.quantile(t / s, quantile))
    if estimator == "quantile":
        return max(floor, 0.0)
    if estimator == "slope":
        from scipy.stats import theilslopes
        slope = float(theilslopes(t, s)[0]) if np.ptp(s) > 0 else 0.0
        return float(np.clip(slope, 0.0, max(floor, 0.0)))
    if estimator == "excess":
        # the target's level at the source's hits over its level at its own hits away
        # from them: hats played with every snare stroke do not count as a leak
        own = _peaks(target, peak_share * 0.2)
        near = np.abs(own[:, None] - hits[None, :]).min(axis=1) <= 1 if own.size else np.zeros(0, bool)
        own = own[~near]
        if own.size < min_hits:
            return max(floor, 0.0)
        excess = (float(np.median(t)) - float(np.median(target[own]))) / float(np.median(s))
        return float(np.clip(excess, 0.0, max(floor, 0.0)))
    raise ValueError(f"unknown bleed estimator {estimator!r}; use 'quantile', 'slope' or 'excess'")


def split_bleed(P, H, labels, index, pairs=None):
    """Split each target part's activation into its own part and the bleed of its
    sources (:data:`PAIRS`), each bleed row sent to its source's output.

    Parameters
    ----------
    P : ndarray, shape (F, K, T)
        Templates.
    H : ndarray, shape (K, C, N)
        Activations.
    labels : sequence of K str
    index : ndarray of int, shape (K,)
        Output of each part (:func:`nmfaudio.drums.stems.stem_index`).
    pairs : dict, optional
        Target label → source labels or classes (default :data:`PAIRS`).

    Returns
    -------
    P, H, index : the same with one extra part per (target, source) pair that leaks:
        shapes (F, K + B, T), (K + B, C, N), (K + B,).  ``Σ_k P_k * H_k`` is unchanged.
    """
    pairs = PAIRS if pairs is None else pairs
    labels = list(labels)
    summed = H.sum(axis=1)  # (K, N): the estimate is one per pair, for all channels
    H = H.copy()
    extra_P, extra_H, extra_index = [], [], []
    for target_label, sources in pairs.items():
        if target_label not in labels:
            continue
        t = labels.index(target_label)
        for s, label in enumerate(labels):
            if s == t or not (label in sources or class_of(label) in sources) or index[s] == index[t]:
                continue
            c = leak_coefficient(summed[t], summed[s])
            if c <= 0:
                continue
            bleed = np.minimum(H[t], np.float32(c) * H[s])
            H[t] -= bleed
            extra_P.append(P[:, t])
            extra_H.append(bleed)
            extra_index.append(index[s])
    if not extra_H:
        return P, H, np.asarray(index)
    return (np.concatenate([P, np.stack(extra_P, axis=1)], axis=1), np.concatenate([H, np.stack(extra_H)]),
            np.concatenate([np.asarray(index), extra_index]))
