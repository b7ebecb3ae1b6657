"""The hi-hat in a fill: a hat hit at a snare or tom stroke where the hats have stopped is
that stroke's leakage into the hat's stem.  Arrays of times only.

A drummer's hands leave the hats for a fill: the toms and the snare play and the hats stop
until the crash or the groove comes back.  The hat's stem still holds part of every
snare and tom stroke there (their attacks reach the hat's band), and its activation fires
at them as strongly as at the quiet hats of the same recording — no level, band or decay
told the two apart at a snare stroke (docs/log/transcription-decisions.md: the hat-onset round and the
hat-false round).  What does is the place: a real hat at a snare stroke has hats clear
of the other drums near it (the 8ths between the backbeats); one inside a fill has none,
and the toms play around it.  The picking (:func:`nmfaudio.drums.hits.detect_hits`,
step 10) drops a hat hit that lies within :data:`FILL_AT_S` of a snare or tom hit, has
:data:`FILL_TOMS` tom hits within :data:`FILL_TOM_S`, and no hat hit clear of the kick,
snare and toms within ``clear_s``.  Measured on the tuning performances
(docs/log/transcription-decisions.md, hat-false round): on the 120 regular ones the hat's false hits
fell 463 → 326 and its matched ones 3127 → 3107; on the 120 ride-style ones 1666 → 1486
and 715 → 713; the 120 kick/snare/hi-hat-only ones (no toms) are unchanged.  A hat
played with the snare outside a fill (a ride groove's pedal chicks on 2 and 4) has no
toms around it and stays.

A hat hit *between* a fill's strokes (:func:`between_toms`) is dropped too: the tom hits
just before and just after it lie at most :data:`FILL_RUN_S` apart and two lie within
:data:`FILL_TOM_S`.  There the hands are on the toms; what the hat's stem holds between
their strokes is a shaker or tambourine that goes on playing through the fill (the
percussion's 16ths or 8ths: the hat's stem takes a shaker whole) or a stroke's ring.
:func:`in_fill` keeps those — they are clear of the other drums, so they even count as
the hats still playing (docs/log/transcription-decisions.md, shaker round: on the 192 regular tuning
performances 85 false against 8 real hats, on the 192 ride-style ones 86 against 1; the
kick/snare/hi-hat-only ones, which have no toms, are unchanged).
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.times import near as _near

__all__ = ["FILL_AT_S", "FILL_TOM_S", "FILL_TOMS", "FILL_CLEAR_S", "FILL_RUN", "FILL_RUN_S", "in_fill",
           "between_toms"]

#: A hat hit this close (s) to a snare or tom hit is played with it (step 7's 30 ms).
FILL_AT_S = 0.03
#: A fill's strokes: at least FILL_TOMS tom hits within FILL_TOM_S (s) of the hat hit (a
#: fill's 16ths or 8ths lie 0.1-0.35 s apart at 85-150 BPM; one tom hit alone may be
#: another drum's leakage into the toms' stem).
FILL_TOM_S = 0.4
FILL_TOMS = 2
#: Default stretch (s) on each side in which a hat hit clear of the kick, snare and toms
#: shows the hats still playing: an 8th at 100 BPM.
FILL_CLEAR_S = 0.3
#: Switch of :func:`between_toms` in the picking (step 10 of
#: :func:`nmfaudio.drums.hits.detect_hits`; False: the default ``fill_run_s`` is 0).
FILL_RUN = True
#: The longest gap (s) between the tom hits on either side of a hat hit that makes it a
#: fill's: a fill's 8ths at 85 BPM lie 0.353 s apart.  Two leakage tom hits in a groove lie
#: further apart (the tuning grooves' real hats it took at 0.4 s sat between tom hits
#: 0.38-0.58 s apart, none with a tom note there).
FILL_RUN_S = 0.35


def in_fill(hats, *, snare, toms, kick, clear_s: float = FILL_CLEAR_S) -> np.ndarray:
    """Which hat hits are a snare's or tom's stroke inside a fill.

    Parameters
    ----------
    hats : array_like, shape (n,)
        The hi-hat's hit times (s).
    snare, toms, kick : array_like, shape (m_snare,), (m_toms,), (m_kick,)
        The other drums' hit times (s), any order.
    clear_s : float, default :data:`FILL_CLEAR_S`
        How far (s) on each side a hat hit clear of the kick, snare and toms (none of them
        within :data:`FILL_AT_S`) keeps a hat hit; 0 gives all False.

    Returns
    -------
    ndarray of bool, shape (n,)
        True where the hat hit lies within :data:`FILL_AT_S` of a snare or tom hit, at
        least :data:`FILL_TOMS` tom hits lie within :data:`FILL_TOM_S` of it, and no clear
        hat hit lies within ``clear_s`` of it.
    """
    hats = np.asarray(hats, dtype=float)
    if not clear_s > 0 or not len(hats):
        return np.zeros(len(hats), dtype=bool)
    toms = np.sort(np.asarray(toms, dtype=float))
    at = _near(hats, np.concatenate([np.asarray(snare, dtype=float), toms]), FILL_AT_S)
    clear = hats[~(at | _near(hats, kick, FILL_AT_S))]
    return at & (_toms_within(hats, toms) >= FILL_TOMS) & ~_near(hats, clear, clear_s)


def between_toms(hats, *, toms, longest: float = FILL_RUN_S) -> np.ndarray:
    """Which hat hits lie between a fill's tom strokes.

    Parameters
    ----------
    hats : array_like, shape (n,)
        The hi-hat's hit times (s).
    toms : array_like, shape (m,)
        The toms' hit times (s), any order.
    longest : float, default :data:`FILL_RUN_S`
        The longest gap (s) between the tom hit just before a hat hit and the one just
        after it (strictly before and after); 0 gives all False.

    Returns
    -------
    ndarray of bool, shape (n,)
        True where a tom hit lies before the hat hit and one after it, those two at most
        ``longest`` apart, and at least :data:`FILL_TOMS` tom hits lie within
        :data:`FILL_TOM_S` of it (as :func:`in_fill`: one tom hit alone may be another
        drum's leakage).
    """
    hats = np.asarray(hats, dtype=float)
    toms = np.sort(np.asarray(toms, dtype=float))
    if not longest > 0 or not len(hats) or len(toms) < 2:
        return np.zeros(len(hats), dtype=bool)
    after = np.searchsorted(toms, hats, side="right")  # the first tom hit after each hat hit
    before = np.searchsorted(toms, hats, side="left") - 1  # the last tom hit before it
    has_both = (before >= 0) & (after < len(toms))
    gap = np.where(has_both, toms[np.minimum(after, len(toms) - 1)] - toms[np.maximum(before, 0)], np.inf)
    return has_both & (gap <= longest) & (_toms_within(hats, toms) >= FILL_TOMS)


def _toms_within(hats, toms) -> np.ndarray:
    """How many tom hits lie strictly within :data:`FILL_TOM_S` of each hat hit: hats (n,),
    toms (m,) sorted, both float seconds; returns int (n,)."""
    return np.searchsorted(toms, hats + FILL_TOM_S, side="left") - np.searchsorted(toms, hats - FILL_TOM_S,
                                                                                     side="right")
