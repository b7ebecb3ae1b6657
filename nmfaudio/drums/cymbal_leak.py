"""Drum recordings: cymbal parts that only ever hold a share of the hats go to the hi-hat
stem.  Arrays and labels only.

Where no cymbal part fits a kit's cymbal (a dark, short crash: docs/drums-five-stems.md,
dark-cymbals round) the cymbal parts explain the hats' leak instead: every one of their
strokes lies under the hat parts' model at the same frame, a share of a hat stroke.  A
cymbal the parts fit rises over the hats at its strokes (a crash over the hats, a ride
between them).  When no stroke of the cymbal parts reaches :data:`OVER_DB` against the
hat parts' model, their whole model goes to the hi-hat's output: the cymbals stem is
left empty instead of holding hat strokes — its SDR is far below 0 dB whatever share of
the leak it keeps, because it holds almost none of the cymbals (cymbal-leak round).
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.templates import class_of
from nmfaudio.drums.times import peak_frames

__all__ = ["OVER_DB", "PEAK_SHARE", "cymbals_under_hats", "hats_in_cymbals"]

#: A part's strokes: local maxima of its activation above this share of its maximum.
PEAK_SHARE = 0.05
#: The test: the highest of the cymbal parts' strokes, their model over the hat parts'
#: model at the stroke's frame (dB), must stay under this.  Tuning kits (seeds 0, 2, 4,
#: 6, 8; no ride decided): the plain kits' highest stroke −0.3 dB (Audiophob's short
#: crash) to +15 dB, the dark-crash variants' −5.2 to +46 dB (the four under −1.5: −5.2,
#: −3.7, −1.9, −1.8).
OVER_DB = -1.5


def _part_model(P, H, parts):
    """The parts' modelled energy per frame, (N,): each activation (channels summed)
    convolved with its template's time course (the template summed over frequency)."""
    N = H.shape[-1]
    total = np.zeros(N)
    for k in parts:
        total += np.convolve(H[k].sum(axis=0), P[:, k].sum(axis=0))[:N]
    return total


def cymbals_under_hats(P, H, cymbals, hats) -> bool:
    """Whether every stroke of the cymbal parts lies under the hat parts' model.

    Parameters
    ----------
    P : ndarray, shape (F, K', T)
        Templates.
    H : ndarray, shape (K', C, N)
        Their activations.
    cymbals, hats : sequence of int
        The cymbal parts and the hat parts (indices into K').

    Returns
    -------
    bool
        True when the cymbal parts have strokes and at each one their model stays
        :data:`OVER_DB` under the hat parts' model at that frame (False without strokes).
    """
    strokes = peak_frames(H[list(cymbals)].sum(axis=(0, 1)), PEAK_SHARE)
    if not strokes.size or not len(hats):
        return False
    cymbal_model = _part_model(P, H, cymbals)[strokes]
    hat_model = _part_model(P, H, hats)[strokes]
    return bool(np.all(cymbal_model < hat_model * 10 ** (OVER_DB / 10)))


def hats_in_cymbals(P, H, route, labels, *, hihat):
    """Route the cymbal parts to the hi-hat's output when they hold only a share of the hats.

    Parameters
    ----------
    P : ndarray, shape (F, K', T)
        The masks' templates (K' ≥ K: extra parts appended after the K labelled ones).
    H : ndarray, shape (K', C, N)
        Their activations.
    route : ndarray of int, shape (K',)
        Output of each template.
    labels : sequence of K str
        The labels of the first K templates.
    hihat : int
        The hi-hat's output.

    Returns
    -------
    route : ndarray of int, shape (K',)
        A copy with the labelled cymbal parts routed to ``hihat`` when
        :func:`cymbals_under_hats` holds for them against the hat parts routed to
        ``hihat``; else ``route`` itself.
    """
    labels = list(labels)
    cymbals = [k for k in range(len(labels)) if class_of(labels[k]) == "cymbals" and route[k] != hihat]
    hats = [k for k in range(len(labels)) if class_of(labels[k]) == "hihat" and route[k] == hihat]
    if not cymbals or not cymbals_under_hats(P, H, cymbals, hats):
        return route
    route = route.copy()
    route[cymbals] = hihat
    return route
