"""Song mode: the stretches where the drummer does not play.  Arrays or readers.

A song's drum stems hold the music's attacks and noise wherever the drums are silent (a
drumless intro, a break, an outro), and the hits picked there are the music's: on the
tuning songs with their drums muted in stretches (docs/log/transcription-decisions.md,
songgap63) main picked 191 snare, 194 toms and 49 kick hits in 28 s of each song without
them.  The kick's stem is what tells them apart: song mode's kick gate leaves it (nearly)
silent where no kick sounds, so its share of the mixture falls far under its share where
the drummer plays; the snare's and toms' stems hold the music there about as much, by
share, as the drums where they play (their own share did not tell).

Measured there (14 tuning songs of 60 s at -6 / 0 / +6 dB, the kick's share over 4 s
against its 90th percentile over the song, 0.5-s frames): the drummed stretches -3.5 to
+1.2 dB away from their edges, the drumless ones -7.6 dB or less (the kick stem silent
there in 7 of the 14 songs).

A stretch whose drummer plays no kick (a build-up's snare roll, a snare intro, a
breakdown on snare and hats) is as quiet in the kick's stem; what tells it is the snare's
hits there (:func:`played_frames`, drumless64).  The 90th percentile of their strengths
against that of the snare's hits where the drums play: a kickless build-up's -2.0 to +1.2 dB
(13 tuning songs), a snare intro's -0.3 to +1.8 (10), a drumless stretch's -16.1 to -28.6
(17 of 18 stretches with snare hits; +1.1 and +0.7 in the two of one song, GMRockKit at
-6 dB, whose music is as loud in the snare's stem as its snare).  A
tom intro has no such cue: its toms' hits are as strong as the music's attacks in the
toms' stem, so by default (:data:`DEFAULT_CLASSES`) the toms are not judged.
"""

from __future__ import annotations

import numpy as np

from nmfaudio import audio
from nmfaudio._validation import check_switch

__all__ = ["DEFAULT_CLASSES", "DRUMLESS_CLASSES", "DRUMLESS_DB", "PLAYED_DB", "PLAYED_QUANTILE",
           "REFERENCE_QUANTILE", "STEP_S", "WINDOW_S", "drumless_frames", "drumless_hits", "drumless_mode",
           "frame_energies", "played_frames"]


def drumless_mode(value) -> bool | None:
    """Check ``drumless=`` (of ``hits()``, ``detect_hits_in()`` and a batch's options): None
    or "auto" (the default: a song's drumless stretches lose their kick and snare hits), True
    or "on" (their toms' too), False or "off" (none).  One check and one message for the
    three (review64: the methods raised a TypeError of their own where the batch took "on").

    Returns
    -------
    bool or None
        None for the default.
    """
    if value is None:
        return None
    mode = check_switch(value, "drumless", auto=True,
                        meaning="'auto' (the default, or None) drops the kick and snare hits of a song's drumless "
                                "stretches, True their toms' too, False none")
    return None if mode == "auto" else mode


#: ``hits(drumless=True)`` drops a hit of these classes in a stretch judged drumless.  The
#: hi-hat and the cymbals are not: a song's quiet section often keeps only them (they were
#: kept there, and their stems' share does not tell the drumless stretches either).  The
#: toms only when asked for: a tom intro (no kick, no snare) loses toms where the kick's
#: stem is silent (drumless64: 84 of 126 real toms hits kept in such stretches).
DRUMLESS_CLASSES = ("kick", "snare", "toms")
#: The default (``drumless=None``, a song): the kick's and the snare's hits only, whose
#: stretches :func:`played_frames` tells from a kickless stretch with drums.
DEFAULT_CLASSES = ("kick", "snare")
#: A stretch is drumless where the kick's share of the mixture is this many dB under its
#: reference (:data:`REFERENCE_QUANTILE`).  Chosen on the tuning songs (the log's songgap63
#: round): 6 dB dropped one real snare hit, 10 dB kept twice the phantom kicks of 8
#: (34 against 17 of main's 49).
DRUMLESS_DB = 8.0
#: The kick's share is measured over this many seconds centred on a hit (4 s: a bar or
#: two; 6 s kept half again as many phantom snare hits near the drummed stretches, 2 s
#: dropped real tom fills).
WINDOW_S = 4.0
#: A stretch without the kick keeps its hits where the snare plays there: its loud hits (the
#: :data:`PLAYED_QUANTILE` of the strengths of the snare's hits within :data:`WINDOW_S`
#: around it) are no more than this many dB under the same quantile of its hits outside the
#: drumless frames.  Chosen on the tuning material (the log's drumless64 round): 6, 9 and 12 dB
#: left the same 17 / 83 / 55 kick / snare / toms hits in the drumless stretches of the 14
#: songs with them (the kick alone 17 / 39 / 31, main 49 / 191 / 194) and kept all 217 real
#: snare hits of the build-ups and snare intros (the kick alone 73).
PLAYED_DB = 9.0
#: The quantile compared: the loud hits, the backbeat's, not the median, which the weak hits
#: (ghost notes, the music's attacks between the drummer's) pull down — with the median, a
#: 200-s song's drumless intro kept its 51 snare hits (its drummed snare's strengths spread
#: 28 dB from the 10th to the 90th percentile).
PLAYED_QUANTILE = 0.9
#: The energies are summed per frame of this many seconds (the window's resolution).
STEP_S = 0.5
#: The reference share: this quantile of the windows' shares over the recording (the
#: drummed stretches' level where they are a tenth of it or more).
REFERENCE_QUANTILE = 0.9


def frame_energies(track, *, sr: int, step_s: float = STEP_S) -> np.ndarray:
    """The energy of a track's channel mean per frame of ``step_s`` seconds.

    Parameters
    ----------
    track : ndarray, shape (n_samples,) or (n_channels, n_samples), or reader
    sr : int
    step_s : float

    Returns
    -------
    ndarray, shape (n_samples // round(step_s * sr),)
        The sum of squares of each whole frame (float64); a last partial frame is left out.
    """
    width = max(1, int(round(step_s * sr)))
    # here, not at the top: a batch's option check (drumless_mode) reads this module before any
    # work, and track_reads brings the spectrum's numba (0.4 s)
    from nmfaudio.drums import track_reads

    if not track_reads.is_reader(track):
        return _array_frame_energies(np.asarray(track), width, track_reads.CHUNK_SAMPLES)
    reader = track
    starts = np.arange(track_reads.n_samples(reader) // width) * width
    out = np.zeros(len(starts))
    for group, windows in track_reads.mono_windows(reader, starts, width):
        windows = windows.astype(np.float64)
        out[group] = np.einsum("ij,ij->i", windows, windows)
    return out


def _array_frame_energies(y, width: int, chunk: int) -> np.ndarray:
    """:func:`frame_energies` of an array: its whole frames are back to back, so each chunk
    of them is a slice (no copy), the channel mean taken over it -- the same numbers as the
    readers' windows (:func:`nmfaudio.drums.track_reads.mono_windows`), which gathered each
    frame's samples one by one: 0.42 s for a 3-minute stereo song's kick track and mixture,
    a seventh of the command's time (the lead's profile, 2026-12-07)."""
    y = y if y.ndim == 2 else y[None]
    n = y.shape[1] // width
    out = np.zeros(n)
    per = max(1, chunk // width)
    for first in range(0, n, per):
        last = min(first + per, n)
        part = y[:, first * width:last * width]
        audio.check_finite_samples(part, "track")
        mono = part[0] if len(part) == 1 else part.mean(axis=0)
        frames = mono.reshape(last - first, width).astype(np.float64)
        out[first:last] = np.einsum("ij,ij->i", frames, frames)
    return out


def drumless_frames(kick, mixture, *, sr: int, drumless_db: float = DRUMLESS_DB, window_s: float = WINDOW_S,
                    step_s: float = STEP_S, quantile: float = REFERENCE_QUANTILE) -> np.ndarray:
    """Which frames of ``step_s`` seconds lie in a stretch where the drummer does not play.

    Parameters
    ----------
    kick, mixture : ndarray, shape (n_samples,) or (n_channels, n_samples), or reader
        The kick's separated track and the mixture (the sum of every output).
    sr : int
    drumless_db, window_s, step_s, quantile : float
        :data:`DRUMLESS_DB`, :data:`WINDOW_S`, :data:`STEP_S`, :data:`REFERENCE_QUANTILE`.

    Returns
    -------
    ndarray of bool, shape (n_frames,)
        True where the kick's share of the mixture's energy over ``window_s`` seconds
        around the frame is more than ``drumless_db`` under the ``quantile`` of that share
        over the recording's frames.  All False when the recording is shorter than one
        window or the reference is 0 (a silent kick track: nothing to compare with); a
        digitally silent window is never drumless.
    """
    kick_e, mix_e = frame_energies(kick, sr=sr, step_s=step_s), frame_energies(mixture, sr=sr, step_s=step_s)
    half = int(round(window_s / 2 / step_s))
    n = min(len(kick_e), len(mix_e))
    if n < 2 * half + 1:
        return np.zeros(n, dtype=bool)
    kick_c = np.concatenate([[0.0], np.cumsum(kick_e[:n])])
    mix_c = np.concatenate([[0.0], np.cumsum(mix_e[:n])])
    lo, hi = np.clip(np.arange(n) - half, 0, n), np.clip(np.arange(n) + half + 1, 0, n)
    total = mix_c[hi] - mix_c[lo]
    share = np.where(total > 0, (kick_c[hi] - kick_c[lo]) / np.where(total > 0, total, 1.0), np.nan)
    finite = share[np.isfinite(share)]
    reference = float(np.quantile(finite, quantile)) if len(finite) else 0.0
    if not reference > 0:
        return np.zeros(n, dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.isfinite(share) & (share < reference * 10 ** (-drumless_db / 10))


def drumless_hits(times, frames, *, step_s: float = STEP_S) -> np.ndarray:
    """Which hits fall in a drumless frame.

    Parameters
    ----------
    times : ndarray, shape (n_hits,)
        Hit times in seconds.
    frames : ndarray of bool, shape (n_frames,)
        :func:`drumless_frames`.
    step_s : float
        Its frame length in seconds.

    Returns
    -------
    ndarray of bool, shape (n_hits,)
        (a hit after the last whole frame is judged with it; all False without frames)
    """
    times = np.asarray(times, dtype=np.float64)
    if not len(frames):
        return np.zeros(len(times), dtype=bool)
    return frames[np.clip((times / step_s).astype(np.int64), 0, len(frames) - 1)]


def played_frames(times, strengths, frames, *, step_s: float = STEP_S, window_s: float = WINDOW_S,
                  played_db: float = PLAYED_DB, quantile: float = PLAYED_QUANTILE) -> np.ndarray:
    """Which drumless frames hold the snare played as the drummer plays it (a kickless stretch).

    The kick's share (:func:`drumless_frames`) does not tell a stretch without drums from
    one whose drummer plays no kick (a build-up, a snare intro, a breakdown on snare and
    hats).  The snare's hits do: where the drummer is silent the snare's stem holds the
    music's attacks, their loud ones on the tuning songs 16 dB or more under the drummed
    snare's loud hits (17 of 18 stretches); a snare played without the kick is as loud as
    with it (within 2 dB).

    Parameters
    ----------
    times, strengths : ndarray, shape (n_hits,)
        The snare's hit times (seconds) and strengths.
    frames : ndarray of bool, shape (n_frames,)
        :func:`drumless_frames`.
    step_s, window_s, played_db, quantile : float
        :data:`STEP_S`, :data:`WINDOW_S`, :data:`PLAYED_DB`, :data:`PLAYED_QUANTILE`.

    Returns
    -------
    ndarray of bool, shape (n_frames,)
        True at a drumless frame where the ``quantile`` of the strengths of the snare's hits
        within ``window_s`` seconds around it is at most ``played_db`` under the ``quantile``
        of the strengths of its hits outside the drumless frames.  All False without snare
        hits outside them (no reference: the kick's judgement stands).
    """
    times = np.asarray(times, dtype=np.float64)
    strengths = np.asarray(strengths, dtype=np.float64)
    frames = np.asarray(frames, dtype=bool)
    out = np.zeros(len(frames), dtype=bool)
    drummed = ~drumless_hits(times, frames, step_s=step_s)
    if not frames.any() or not drummed.any():
        return out
    reference = float(np.quantile(strengths[drummed], quantile))
    if not reference > 0:
        return out
    floor = reference * 10 ** (-played_db / 20)
    order = np.argsort(times, kind="stable")
    times, strengths = times[order], strengths[order]
    judged = np.flatnonzero(frames)
    centres = (judged + 0.5) * step_s
    lo = np.searchsorted(times, centres - window_s / 2, side="left")
    hi = np.searchsorted(times, centres + window_s / 2, side="right")
    out[judged] = [b > a and np.quantile(strengths[a:b], quantile) >= floor for a, b in zip(lo, hi)]
    return out
