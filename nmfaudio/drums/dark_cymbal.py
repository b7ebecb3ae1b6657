"""Drum recordings: a dark cymbal part beside the bundled (bright) cymbals.  Arrays only.

The bundled cymbal templates (FluidR3's crash and ride) hold 9-12 % of their energy below
2 kHz and may adapt only 10 dB (:data:`nmfaudio.drums.stems.ADAPT_DB`).  A kit whose only
cymbal is a dark, short crash (a spectral peak near 500 Hz, 0.46 s; one held-out kit plays
such a crash for every cymbal note: docs/drums-five-stems.md, twenty-sixth round) is then
explained by the kick, snare, toms and percussion parts and the free component, and the
cymbals stem holds only the hats' leak into the cymbal parts: on the tuning kits rebuilt
with such a crash (``benchmarks/kit_variants.py``'s ``-darkcym`` family) 0-3 % of the
cymbals' energy reached the cymbals stem, 73-97 % of that stem's energy was hi-hat, its
SDR −9 to −49 dB (docs/drums-five-stems.md, dark-cymbals round).

So a drum recording's model gets one more cymbal part, :data:`DARK_LABEL`: the crash
template's spectrum compressed :data:`DARK_SHIFT` times toward 0 Hz (its time course,
the crash's ring, kept), which goes to the cymbals stem like the other cymbal parts and
adapts at most 6 dB (``stems.ADAPT_DB``; at the cymbals' 10 dB it took a ride groove's
congas).  It has its own presence test (:data:`DARK_PRESENCE`, the toms' statistic,
:func:`nmfaudio.drums.model.dominance`): on a kit whose cymbals the bright parts fit it
only shares what the snare, toms or bright cymbals explain, and is judged absent for the
last iterations.  Not in a song (the music fills 200-2000 Hz; no presence test runs
there), nor with ``presence_test=False`` or fixed templates (then it could not leave).  A
part that plays but is not struck (:func:`percussive`: the drum-recording model forced on a
song, whose held notes pass the presence test) goes to the residual instead.

What it does not reach: a crash at pitch with its highs cut (the ``-darkcym`` variants of
GMRockKit and BJA_Pacific stay near −21 dB; the part is judged absent there), and the
drum-recording model forced on songs loses cymbals at −6 / 0 dB (docs/drums-five-stems.md,
dark-cymbals round).
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.free_drum import peak_share
from nmfaudio.drums.templates import class_of

__all__ = ["DARK_LABEL", "DARK_PEAK_SHARE", "DARK_PRESENCE", "DARK_SHIFT", "SOURCE_LABEL", "dark_source",
           "dark_template", "percussive"]

#: The added part's label (its class: the cymbals).
DARK_LABEL = "cymbals:dark"
#: The bundled part whose template the dark part is made from (else the first cymbal part).
SOURCE_LABEL = "cymbals:crash"
#: How many times the source's spectrum is compressed toward 0 Hz: the bundled crash's
#: 3.4-kHz peak to 570 Hz (2.6 octaves down).  Measured on the dark-cymbals variants and
#: the plain tuning kits (seeds 0, 2, 4, 6, 8; 30 + 40 recordings, presence at 0.5):
#: 3 / 4 / 6 times, dark cymbals −22.40 dB on main → −10.35 / −9.24 / −5.88, plain
#: cymbals 6.75 → 7.05 / 6.81 / 6.49; 8 times (0.7) −13.86, plain 6.29.
DARK_SHIFT = 6.0
#: The dark part plays when its dominance reaches this (as ``stems.PRESENCE``).
#: Measured (the same recordings, shift 6, 10 dB): dark variants 0.28-0.96 (16 of 30 at 0.7 or
#: more), plain tuning kits 0.08-0.71 (only Audiophob's seed-8 ride groove over 0.65),
#: the extra tuning set 0.14-0.60.  At 0.5 the plain kits' cymbals lost up to 3.1 dB on
#: 5 of 40 (GMRockKit's and BJA_Pacific's crashes, whose first 0.5 s peak near 500 Hz).
#: Dark / plain cymbals at 0.5 / 0.6 / 0.7 / 0.75: −5.88 / −6.90 / −10.03 / −10.49 and
#: 6.49 / 6.68 / 6.73 / 6.74 (main: −22.40 and 6.75).
DARK_PRESENCE = 0.7
#: The dark part that plays goes to the cymbals stem only when its activation is struck:
#: at least this share of its energy in its loudest 5 % of frames
#: (:func:`nmfaudio.drums.free_drum.peak_share`).  Measured (the dark-cymbals round): the
#: dark variants where it plays 0.48-0.83 on ride grooves, 0.9998-1.0 on the others; the
#: tuning songs (seed 0, GMRockKit and BJA_Pacific at -6 / 0 / +6 dB, 20 s) separated as
#: drum recordings (``accompaniment=False``) 0.42-0.44, where it held music (the
#: accompaniment 3.4 -> -8.2 dB at -6 dB without this test).  Else its share goes to the
#: residual.
DARK_PEAK_SHARE = 0.46


def dark_source(labels) -> int | None:
    """The index of the part the dark cymbal is made from: :data:`SOURCE_LABEL`, else the
    first cymbal part; None without a cymbal part or when a :data:`DARK_LABEL` is there.

    Parameters
    ----------
    labels : sequence of str
        Template labels (``DrumTemplates.classes``).

    Returns
    -------
    int or None
    """
    labels = list(labels)
    if DARK_LABEL in labels:
        return None
    if SOURCE_LABEL in labels:
        return labels.index(SOURCE_LABEL)
    cymbals = [k for k, label in enumerate(labels) if class_of(label) == "cymbals"]
    return cymbals[0] if cymbals else None


def dark_template(P, *, shift: float = DARK_SHIFT) -> np.ndarray:
    """A template's spectrum compressed ``shift`` times toward 0 Hz, its time course kept.

    Bin ``f`` of the result is bin ``round(f * shift)`` of ``P`` (0 past the last bin), so
    a peak at bin ``b`` moves to ``b / shift``; the result sums to ``P``'s sum.

    Parameters
    ----------
    P : ndarray, shape (F, T), non-negative
        One template (frequency bins by frames).
    shift : float, at least 1

    Returns
    -------
    ndarray, shape (F, T), P's dtype
    """
    P = np.asarray(P)
    if P.ndim != 2:
        raise ValueError(f"P must have shape (F, T), got {P.shape}")
    if not shift >= 1:
        raise ValueError(f"shift must be at least 1, got {shift!r}")
    F = P.shape[0]
    source = np.round(np.arange(F) * shift).astype(np.int64)
    dark = np.where((source < F)[:, None], P[np.minimum(source, F - 1)], 0).astype(P.dtype)
    total = dark.sum(dtype=np.float64)
    return dark if total <= 0 else (dark * (P.sum(dtype=np.float64) / total)).astype(P.dtype)


def percussive(activation, *, share: float = DARK_PEAK_SHARE) -> bool:
    """Whether a part's activation is struck: at least ``share`` of its energy in its
    loudest 5 % of frames (:func:`nmfaudio.drums.free_drum.peak_share`).

    Parameters
    ----------
    activation : ndarray, shape (n_frames,), non-negative
    share : float in [0, 1]

    Returns
    -------
    bool (False for a silent activation)
    """
    return peak_share(activation) >= share
