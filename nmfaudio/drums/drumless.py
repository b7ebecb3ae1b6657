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
there in 7 of the 14 songs).  What is not told: a stretch whose drummer plays no kick (a
tom or snare intro, a fill over more than 2 s without one) loses its hits of those classes
too (the tuning songs' fills lost none with the 4-s window; with a 2-s one, the toms' F
fell 0.639 -> 0.628).
"""

from __future__ import annotations

import numpy as np

from nmfaudio import audio
from nmfaudio._validation import check_switch

__all__ = ["DRUMLESS_CLASSES", "DRUMLESS_DB", "REFERENCE_QUANTILE", "STEP_S", "WINDOW_S", "drumless_frames",
           "drumless_hits", "drumless_mode", "frame_energies"]

def drumless_mode(value) -> bool:
    """Check ``drumless=`` (of ``hits()``, ``detect_hits_in()`` and a batch's options): True or
    False (also "on" / "off").  One check and one message for the three (review64: the
    methods raised a TypeError of their own, ``hits(drumless='on') must be True or False``,
    where the batch took "on")."""
    return check_switch(value, "drumless",
                        meaning="True drops the kick, snare and toms hits of a song's drumless stretches")


#: A hit of these classes is dropped in a stretch judged drumless.  The hi-hat and the
#: cymbals are not: a song's quiet section often keeps only them (they were kept there,
#: and their stems' share does not tell the drumless stretches either).
DRUMLESS_CLASSES = ("kick", "snare", "toms")
#: A stretch is drumless where the kick's share of the mixture is this many dB under its
#: reference (:data:`REFERENCE_QUANTILE`).  Chosen on the tuning songs (the log's songgap63
#: round): 6 dB dropped one real snare hit, 10 dB kept twice the phantom kicks of 8
#: (34 against 17 of main's 49).
DRUMLESS_DB = 8.0
#: The kick's share is measured over this many seconds centred on a hit (4 s: a bar or
#: two; 6 s kept half again as many phantom snare hits near the drummed stretches, 2 s
#: dropped real tom fills).
WINDOW_S = 4.0
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

    reader = track if track_reads.is_reader(track) else audio.ArrayReader(np.asarray(track))
    starts = np.arange(track_reads.n_samples(reader) // width) * width
    out = np.zeros(len(starts))
    for group, windows in track_reads.mono_windows(reader, starts, width):
        windows = windows.astype(np.float64)
        out[group] = np.einsum("ij,ij->i", windows, windows)
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
