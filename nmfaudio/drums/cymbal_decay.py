"""Does a cymbal hit ring?  The quietest stretch of the cymbals' track after a hit,
against its onset.

A crash rings for seconds: 100-300 ms after its onset the cymbals' track still holds
its wash above 4 kHz, at most a few dB under the attack, between whatever else is
played.  The cymbals' activation also peaks at hi-hat strokes (the hat's leakage into
the cymbals' templates: a closed hat's noise is a cymbal's); the track then holds a short
burst that is gone by the next stroke, so its quietest stretch in that span lies 10-20
dB under the onset (docs/log/transcription-decisions.md, the cymbal-ring round: the regular tuning
grooves' false crashes at a hat stroke −10.8 dB median, the real hits −2 dB).

A crash's own ring hides the leakage on top of it: a hat stroke 0.15-0.5 s after a crash
makes the cymbals' activation peak again, and the track rings on after it (the crash's
wash), so the valley above does not tell it.  What does is the rise: a new strike stands
far above what the track held just before it (a crash out of a groove, 12 dB or more), a
peak on a crash's ring does not (:func:`rises`, :func:`in_ring`; docs/log/transcription-decisions.md,
the cymbals' precision round).

A hat's stroke the cymbals' templates explain whole: where the cymbals' activation at a
hi-hat hit is as large as the hat's, and the cymbals' track neither rose out of what it
held before (no crash struck) nor rings on (its quietest 20 ms 0.1-0.3 s later far under
the onset), the hit is the hat's burst, strong or not (:func:`hat_bursts`;
docs/log/transcription-decisions.md, the cymbal phantoms round).

Arrays or streamed tracks (:mod:`nmfaudio.drums.track_reads`).
"""

from __future__ import annotations

import numpy as np

from nmfaudio import audio
from nmfaudio.drums import track_reads

__all__ = ["FMIN_HZ", "ONSET_S", "PRE_SPAN_S", "SPAN_S", "STEP_S", "WINDOW_S", "hat_bursts", "in_ring", "rises",
           "unread", "valleys"]

#: The band read (Hz): a cymbal's wash, above the kick's, the snare's body and the toms'.
FMIN_HZ = 4000.0
#: The onset's stretch (s): the attack and its first ring.
ONSET_S = 0.06
#: Where the quietest stretch is looked for (s after the onset): past the attack and a
#: closed hat's decay, before a crash has faded.
SPAN_S = (0.1, 0.3)
#: Length of each stretch (s) and the step between them.
WINDOW_S = 0.02
STEP_S = 0.02
#: Where the level a hit rises from is read (s before the onset): the stretches (``WINDOW_S``
#: each, every ``STEP_S``) from this long before the onset to ``STEP_S`` / 2 before it, past
#: the onset's timing error (16 samples) and the attack's start.
PRE_SPAN_S = 0.19


def valleys(track, onsets, *, sr) -> np.ndarray:
    """The quietest stretch of ``track`` after each onset, in dB against the onset's.

    Parameters
    ----------
    track : ndarray, shape (n_samples,) or (n_channels, n_samples), or a reader
        The cymbals' separated track (the channels' mean is read).
    onsets : array_like of int, shape (n_hits,)
        The hits' onsets (sample indices).
    sr : int
        Sampling rate (Hz).

    Returns
    -------
    ndarray of float, shape (n_hits,)
        ``10 log10`` of the smallest level above :data:`FMIN_HZ` over the
        :data:`WINDOW_S` stretches starting every :data:`STEP_S` in :data:`SPAN_S` after
        the onset, over the level of the :data:`ONSET_S` from the onset; near the track's
        end, over the stretches that fit before it; +inf (not judged) where none fits (an
        onset under 0.12 s before the end, :func:`unread`), or a silent onset.  A stretch's
        level is its Hann-windowed band energy (:func:`~nmfaudio.drums.track_reads.band_powers`)
        over its length in samples, which grows with the length: a steady sound reads
        ``10 log10(WINDOW_S / ONSET_S)`` ≈ -4.8 dB, not 0: the scale of ``detect_hits``'
        ``min_ring_db`` (-12 dB) and of the figures in this module's notes.
    """
    onsets = np.asarray(onsets, dtype=np.int64)
    out = np.full(len(onsets), np.inf)
    reader = track if track_reads.is_reader(track) else audio.ArrayReader(track)
    width = int(round(WINDOW_S * sr))
    onset_width = int(round(ONSET_S * sr))
    offsets = np.rint(np.arange(SPAN_S[0], SPAN_S[1] - WINDOW_S + 1e-9, STEP_S) * sr).astype(np.int64)
    # a hit near the end is judged on the stretches that fit: the quietest of fewer is no
    # quieter than the quietest of all, so a ring read so is never called a stop it is not
    inside = (onsets >= 0) & (onsets + offsets[0] + width <= reader.n_samples)
    if not inside.any():
        return out
    at = onsets[inside]
    onset_power = track_reads.band_powers(reader, at, onset_width, sr=sr, fmin=FMIN_HZ) / onset_width
    later = np.full(at.size, np.inf)
    for k in offsets:
        fits = at + k + width <= reader.n_samples
        if fits.any():
            later[fits] = np.minimum(later[fits], track_reads.band_powers(reader, at[fits] + k, width, sr=sr,
                                                                          fmin=FMIN_HZ) / width)
    audible = onset_power > 0  # a silent onset is not judged (+inf)
    ratio = np.full(at.size, np.inf)
    ratio[audible] = 10 * np.log10(np.maximum(later[audible], 1e-300) / onset_power[audible])
    out[inside] = ratio
    return out


def unread(onsets, n_samples, *, sr) -> np.ndarray:
    """Which onsets lie too near the recording's end for :func:`valleys` to read any stretch.

    Parameters
    ----------
    onsets : array_like of int, shape (n_hits,)
        The hits' onsets (sample indices).
    n_samples : int
        The track's length (samples).
    sr : int
        Sampling rate (Hz).

    Returns
    -------
    ndarray of bool, shape (n_hits,)
        True where the first :data:`WINDOW_S` stretch of :data:`SPAN_S` passes the end
        (an onset under ``SPAN_S[0] + WINDOW_S`` = 0.12 s before it).
    """
    onsets = np.asarray(onsets, dtype=np.int64)
    first = int(np.rint(SPAN_S[0] * sr)) + int(round(WINDOW_S * sr))
    return onsets + first > n_samples


def rises(track, onsets, *, sr) -> np.ndarray:
    """How far each onset stands above the loudest stretch of ``track`` just before it, dB.

    Parameters
    ----------
    track : ndarray, shape (n_samples,) or (n_channels, n_samples), or a reader
        The cymbals' separated track (the channels' mean is read).
    onsets : array_like of int, shape (n_hits,)
        The hits' onsets (sample indices).
    sr : int
        Sampling rate (Hz).

    Returns
    -------
    ndarray of float, shape (n_hits,)
        ``10 log10`` of the level above :data:`FMIN_HZ` of the :data:`ONSET_S` from the onset
        over the largest level of the :data:`WINDOW_S` stretches before it (every
        :data:`STEP_S`, the first starting :data:`PRE_SPAN_S` before the onset, the last
        ending ``STEP_S`` / 2 before it; only those inside the track), on :func:`valleys`'
        scale (a steady sound reads about +4.8 dB); +inf where no stretch fits before the
        onset (the recording starts: it rose out of silence), NaN for a silent onset or one
        too near the end.
    """
    onsets = np.asarray(onsets, dtype=np.int64)
    out = np.full(len(onsets), np.nan)
    reader = track if track_reads.is_reader(track) else audio.ArrayReader(track)
    width = int(round(WINDOW_S * sr))
    onset_width = int(round(ONSET_S * sr))
    back = np.rint(np.arange(STEP_S / 2 + WINDOW_S, PRE_SPAN_S + 1e-9, STEP_S) * sr).astype(np.int64)
    inside = (onsets >= 0) & (onsets + onset_width <= reader.n_samples)
    if not inside.any():
        return out
    at = onsets[inside]
    onset_power = track_reads.band_powers(reader, at, onset_width, sr=sr, fmin=FMIN_HZ) / onset_width
    before = np.zeros(at.size)  # before the recording starts: silence
    for k in back:
        fits = at - k >= 0
        if fits.any():
            before[fits] = np.maximum(before[fits], track_reads.band_powers(reader, at[fits] - k, width, sr=sr,
                                                                            fmin=FMIN_HZ) / width)
    ratio = np.full(at.size, np.nan)
    audible = onset_power > 0
    quiet = audible & (before == 0)
    ratio[quiet] = np.inf
    loud = audible & (before > 0)
    ratio[loud] = 10 * np.log10(onset_power[loud] / before[loud])
    out[inside] = ratio
    return out


def in_ring(times, strengths, rise_db, *, within_s, stronger, struck_db, sits_db) -> np.ndarray:
    """Which hits are a crash's ring peaking again, not a new strike.

    A hit is in a crash's ring where it rises at most ``sits_db`` above what the track held
    just before it and, at most ``within_s`` before it, lies a hit at least ``stronger``
    times as strong that rose ``struck_db`` or more out of what preceded it (a crash struck
    out of the groove).

    Parameters
    ----------
    times : ndarray, shape (n_hits,)
        Onsets (s), ascending.
    strengths : ndarray, shape (n_hits,)
        The hits' strengths.
    rise_db : ndarray, shape (n_hits,)
        :func:`rises` of each hit (NaN: not judged, and no crash).
    within_s, stronger, struck_db, sits_db : float
        The rule's bounds (above).

    Returns
    -------
    ndarray of bool, shape (n_hits,)
    """
    times, strengths, rise_db = (np.asarray(a, dtype=float) for a in (times, strengths, rise_db))
    out = np.zeros(len(times), dtype=bool)
    struck = np.flatnonzero(rise_db >= struck_db)  # NaN compares False: no crash
    if not len(struck):
        return out
    for i in np.flatnonzero(rise_db <= sits_db):
        earlier = struck[(times[struck] < times[i]) & (times[struck] >= times[i] - within_s)]
        out[i] = bool(np.any(strengths[earlier] >= stronger * strengths[i]))
    return out


def hat_bursts(valley_db, rise_db, ratio, at_hat, *, ring_db, struck_db, least_ratio) -> np.ndarray:
    """Which hits are a hi-hat stroke's burst in the cymbals' track, not a cymbal.

    A hit is a burst where a hi-hat hit lies at it (``at_hat``), the cymbals' activation
    there is at least ``least_ratio`` times the hat's, its track's valley (:func:`valleys`)
    lies under ``ring_db`` (it stops: no cymbal rings) and it rose less than ``struck_db``
    above what the track held before it (:func:`rises`: no crash struck out of the groove).

    Parameters
    ----------
    valley_db : ndarray, shape (n_hits,)
        :func:`valleys` of each hit (+inf: not judged, never a burst).
    rise_db : ndarray, shape (n_hits,)
        :func:`rises` of each hit (NaN, +inf: not judged, never a burst).
    ratio : ndarray, shape (n_hits,)
        The cymbals' activation over the hi-hat's at each hit.
    at_hat : ndarray of bool, shape (n_hits,)
        Whether a hi-hat hit lies at the hit.
    ring_db, struck_db, least_ratio : float
        The rule's bounds (above).

    Returns
    -------
    ndarray of bool, shape (n_hits,)
    """
    valley_db, rise_db, ratio = (np.asarray(a, dtype=float) for a in (valley_db, rise_db, ratio))
    rise_db = np.where(np.isnan(rise_db), np.inf, rise_db)  # not judged: kept
    return np.asarray(at_hat, dtype=bool) & (ratio >= least_ratio) & (valley_db < ring_db) & (rise_db < struck_db)
