"""The hi-hat's pulse: a dropped hat candidate that the kept hats' steady pulse runs through
is a hat.  Arrays of times only.

A hat keeps time: in a 16th-note groove its quiet strokes fall with the kick and the
snare, where the bleed test takes them for those drums' leakage, the attack check finds
no rise in the hat's track (the louder drum's attack masks it) or the high-band
confirmation no onset.  The picking (:func:`nmfaudio.drums.hits.detect_hits`, step 7a)
gives such a candidate back where the kept hats stand at the same spacing on both of its
sides, and the pulse goes on one more step on each side: ``t - 2d, t - d | t | t + d,
t + 2d``.  Measured (docs/log/transcription-decisions.md, hat-pulse round) on the tuning performances:
it gives back 27 real hats against 2 false ones in the 60 regular grooves, 38 against 0
in the 60 kick/snare/hi-hat-only ones and none in the 60 ride-style ones.  Asking the
pulse to go on at one side only (and giving back the local level's drops too) gave back
68 real against 15 false candidates in the regular grooves, and 27 false ones in the
ride-style grooves whose ride was not decided (its strokes, picked as hats, keep a
pulse too).

The other way round (:func:`between_beats`, step 10b of the picking): a hat hit played
with a snare stroke that falls between two beats of the other hats' steady pulse, off
it, is the snare's leakage into the hat's stem — a ghost note on the "e" or "a" of an
8th-note groove, where the hats do not play.  Measured (docs/log/transcription-decisions.md, ride-hat
round) on the tuning performances' final hits: 17 false against 1 real hat in the 120
regular grooves, 29 against 5 in the 120 kick/snare/hi-hat-only ones, 4 false in the
120 ride-style ones.

**A lone double** (:func:`lone_doubles`, step 10c): a hat hit less than
:data:`DOUBLE_S` after another, with no other hat hit within :data:`DOUBLE_CLEAR` ×
:data:`DOUBLE_S` before the pair or after it, is dropped: one stroke whose activation
peaked twice, not two strokes.  A crash ridden on 8th notes whose strokes the hat's
parts explain (rumpf_kit_z01_h2's "ride" in the drums benchmark, its crash) peaks again
80-95 ms after each stroke, often stronger; hats played that fast come in runs (16th
notes at 150 BPM are 100 ms apart), not in lone pairs.  Measured (docs/log/transcription-decisions.md,
ride-crash round) on the tuning performances' final hits: 115 false against 0 real hats
in the 120 ride-style grooves, 29 against 6 in the regular ones, 7 against 4 in the
kick/snare/hi-hat-only ones.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PULSE_LONGEST_S", "PULSE_TOLERANCE_S", "PULSE_TOLERANCE", "PULSE_CLEAR_S", "BETWEEN_INNER",
           "DOUBLE_S", "DOUBLE_CLEAR", "on_pulse", "between_beats", "lone_doubles"]

#: The longest spacing (s) taken for a pulse: an 8th note at 86 BPM.  Quarter-note hats
#: are too sparse to say a stroke is missing between them.
PULSE_LONGEST_S = 0.35
#: Two spacings are the same pulse within the larger of this (s) …
PULSE_TOLERANCE_S = 0.02
#: … and this fraction of the spacing (humanized timing, 5-15 ms in the performances).
PULSE_TOLERANCE = 0.12
#: A kept hat closer than this (s) to the candidate is the candidate itself (or its double).
PULSE_CLEAR_S = 0.03
#: A hit "between two beats" lies at least this fraction of the beats' spacing from each
#: (a 16th between two 8ths sits at one half; a beat's late or early hit, humanized, near 0).
BETWEEN_INNER = 0.25
#: Two hat hits closer than this (s) with none around them are one stroke peaking twice
#: (:func:`lone_doubles`): a ridden crash's second peak lies 80-95 ms after its stroke in
#: the tuning recordings; 16th notes at 150 BPM are 100 ms apart (0.10 s: 6 more real hats
#: lost in the kick/snare/hi-hat-only tuning draws, 0.085 s: 26 more false ones kept in the
#: ride-style ones).
DOUBLE_S = 0.095
#: ... "none around them": the gaps before the pair and after it longer than this
#: multiple of ``DOUBLE_S`` (in the ride-style tuning draws 2 drops 32 false hats, 1.5
#: 115, 1.25 181 — but 1.25 loses 27 real hats over the three tuning sets, 1.5 10).
DOUBLE_CLEAR = 1.5


def on_pulse(times, kept, *, longest: float = PULSE_LONGEST_S) -> np.ndarray:
    """Which of ``times`` the ``kept`` hits' pulse runs through.

    Parameters
    ----------
    times : array_like, shape (n,)
        Candidate times (s).
    kept : array_like, shape (m,)
        The kept hits' times (s), any order.
    longest : float, default :data:`PULSE_LONGEST_S`
        The longest spacing taken for a pulse (s).

    Returns
    -------
    ndarray of bool, shape (n,)
        True where the nearest kept hits more than :data:`PULSE_CLEAR_S` before and after
        the candidate lie at the same spacing ``d`` ≤ ``longest`` (within the larger of
        :data:`PULSE_TOLERANCE_S` and :data:`PULSE_TOLERANCE` × ``d``) and the next ones
        out continue it at that spacing on both sides.
    """
    times = np.asarray(times, dtype=float)
    kept = np.sort(np.asarray(kept, dtype=float))
    out = np.zeros(len(times), dtype=bool)
    for i, t in enumerate(times):
        before = kept[kept < t - PULSE_CLEAR_S][::-1]  # nearest first
        after = kept[kept > t + PULSE_CLEAR_S]
        if len(before) < 2 or len(after) < 2:
            continue
        back, ahead = t - before[0], after[0] - t
        tolerance = max(PULSE_TOLERANCE_S, PULSE_TOLERANCE * back)
        out[i] = (back <= longest and abs(back - ahead) <= tolerance
                  and abs(before[0] - before[1] - back) <= tolerance
                  and abs(after[1] - after[0] - ahead) <= tolerance)
    return out


def between_beats(times, kept, *, longest: float = PULSE_LONGEST_S) -> np.ndarray:
    """Which of ``times`` fall between two beats of the ``kept`` hits' steady pulse.

    Parameters
    ----------
    times : array_like, shape (n,)
        Hit times (s).
    kept : array_like, shape (m,)
        The other hits' times (s), any order; those within :data:`PULSE_CLEAR_S` of a
        time are that hit itself (or its double) and are not counted.
    longest : float, default :data:`PULSE_LONGEST_S`
        The longest spacing taken for a pulse (s).

    Returns
    -------
    ndarray of bool, shape (n,)
        True where the nearest kept hits before and after the time are ``d`` ≤
        ``longest`` apart, the pulse goes on at that spacing one more step on each side
        (within the larger of :data:`PULSE_TOLERANCE_S` and :data:`PULSE_TOLERANCE` ×
        ``d``) and the time lies at least :data:`BETWEEN_INNER` × ``d`` from both beats.
        A time :func:`on_pulse` finds is never between beats (its nearest hits' next
        ones out lie at the same spacing as they do from it, not at twice it): a hat
        of a 16th-note groove is not.
    """
    times = np.asarray(times, dtype=float)
    kept = np.sort(np.asarray(kept, dtype=float))
    # by bisection: the two nearest kept hits before and after each time (a song's hats
    # are thousands; a comparison with all of them per hit took tens of ms)
    first_after = np.searchsorted(kept, times + PULSE_CLEAR_S, side="right")
    last_before = np.searchsorted(kept, times - PULSE_CLEAR_S, side="left") - 1
    measured = (last_before >= 1) & (first_after + 1 < len(kept))
    out = np.zeros(len(times), dtype=bool)
    if not measured.any():
        return out
    t, b, a = times[measured], last_before[measured], first_after[measured]
    before0, before1, after0, after1 = kept[b], kept[b - 1], kept[a], kept[a + 1]
    spacing = after0 - before0
    tolerance = np.maximum(PULSE_TOLERANCE_S, PULSE_TOLERANCE * spacing)
    out[measured] = ((spacing <= longest) & (np.abs(before0 - before1 - spacing) <= tolerance)
                     & (np.abs(after1 - after0 - spacing) <= tolerance)
                     & (np.minimum(t - before0, after0 - t) >= BETWEEN_INNER * spacing))
    return out


def lone_doubles(times, *, shortest: float = DOUBLE_S, clear: float = DOUBLE_CLEAR) -> np.ndarray:
    """Which of ``times`` are the second of a lone pair: a stroke's second peak.

    Parameters
    ----------
    times : array_like, shape (n,)
        Hit times (s), any order.
    shortest : float, default :data:`DOUBLE_S`
        A hit less than this (s) after the previous one is its pair.
    clear : float, default :data:`DOUBLE_CLEAR`
        The pair is alone where the gap before its first hit and the gap after its second
        are longer than ``clear`` × ``shortest`` (no gap at the ends counts as long).

    Returns
    -------
    ndarray of bool, shape (n,)
        True at the later hit of each lone pair (in the order of ``times``).
    """
    times = np.asarray(times, dtype=float)
    out = np.zeros(len(times), dtype=bool)
    if len(times) < 2:
        return out
    order = np.argsort(times, kind="stable")
    gaps = np.diff(times[order])  # gaps[i]: from the i-th hit to the next, in time order
    long = clear * shortest
    before = np.concatenate([[np.inf], gaps[:-1]])  # the gap before each pair's first hit
    after = np.concatenate([gaps[1:], [np.inf]])  # ... and after its second
    second = (gaps < shortest) & (before > long) & (after > long)
    out[order[1:][second]] = True
    return out
