"""Song mode: the masks' sustained part held to the level around each hit.  Arrays only.

The masks give the accompaniment the running median of the band magnitude (the sustained
part; 2 s long with loud drums).  Where drums play densely, that median holds the drums'
own bodies and rings, so at a hit and in the frames after it the accompaniment's model
stands above the music and takes the drums' body (docs/log/drums-full-song-decisions.md, thirty-sixth
round: on the worst tuning songs at +6 dB 29 % of the music's energy of drums in the
accompaniment, most of it within a quarter second of a hit, under the sustained part).
A lower median everywhere gave the music to the drum stems (same round: a percentile of
the window, a smaller weight).  Here the cap is local: at a band's onset (its magnitude
rising :data:`RISE` times over the lowest of the :data:`LAG` frames before) and for
:data:`SPAN_SECONDS` after it, the sustained part is at most the larger of the level just
before the onset and the lowest level from :data:`AFTER_SECONDS` after it to the first
frame past the span.
Music held through the hit is in both, so it keeps its level; a drum's body is in
neither (docs/log/drums-full-song-decisions.md, thirty-eighth round).
"""

from __future__ import annotations

import numpy as np

__all__ = ["AFTER_SECONDS", "LAG", "RISE", "SPAN_SECONDS", "band_onsets", "valley_capped"]

#: An onset: the band magnitude at least this many times the lowest of the frames before.
RISE = 2.0
#: ... the frames before: this many.
LAG = 2
#: The cap holds from the onset for this long (6 frames at 44.1 kHz, hop 1024) ...
SPAN_SECONDS = 6 * 1024 / 44100
#: ... at the larger of the level before the onset and the lowest level from this long after
#: it (3 frames) to the first frame past the span (6 frames after it).  Without the level after, the music at the hit went to
#: the drum stems (thirty-eighth round: the 12 screen songs' accompaniment 3.09 -> 2.99 dB).
AFTER_SECONDS = 3 * 1024 / 44100


def _frames(seconds: float, frames_per_second: float, minimum: int) -> int:
    return max(int(round(seconds * frames_per_second)), minimum)


def band_onsets(band_magnitude, *, rise: float = RISE, lag: int = LAG):
    """Each band's onsets and the level just before them.

    Parameters
    ----------
    band_magnitude : ndarray, shape (F_b, C, N), non-negative
    rise : float > 1
    lag : int >= 1

    Returns
    -------
    onsets : ndarray of bool, shape (F_b, C, N)
        Frames whose magnitude is above ``rise`` times the lowest of the ``lag`` frames
        before, the frame before not one itself (a rise over two frames is one onset).
    before : ndarray, float32, shape (F_b, C, N)
        The lowest of the ``lag`` frames before each frame (the frame itself where there
        is none before it).
    """
    V = np.asarray(band_magnitude, np.float32)
    before = np.full(V.shape, np.inf, np.float32)
    for shift in range(1, lag + 1):
        np.minimum(before[..., shift:], V[..., :-shift], out=before[..., shift:])
    none = ~np.isfinite(before)
    before[none] = V[none]
    onsets = V > np.float32(rise) * before
    onsets[..., 1:] &= ~onsets[..., :-1]
    return onsets, before


def _lowest_ahead(V, start: int, length: int) -> np.ndarray:
    """``min(V[..., t + start : t + start + length])`` per frame t (frames past the end
    left out; the last frame's value where none is left)."""
    N = V.shape[-1]
    out = np.full(V.shape, np.inf, np.float32)
    for k in range(start, min(start + length, N)):
        np.minimum(out[..., :N - k], V[..., k:], out=out[..., :N - k])
    none = ~np.isfinite(out)
    out[none] = np.broadcast_to(V[..., -1:], V.shape)[none]
    return out


def valley_capped(band_magnitude, sustained, *, frames_per_second: float, share: float = 1.0) -> np.ndarray:
    """The sustained part, held in each band to the level around its latest onset.

    Parameters
    ----------
    band_magnitude : ndarray, shape (F_b, C, N)
        The whole band magnitude (before the sustained part left the fit).
    sustained : ndarray, shape (F_b, C, N)
        The masks' sustained part (before its weight and high-band factor).
    frames_per_second : float
    share : float in [0, 1], default 1
        How much of the excess over the cap is taken away.

    Returns
    -------
    ndarray, float32, shape (F_b, C, N): ``sustained − share · max(sustained − cap, 0)``
    in the :data:`SPAN_SECONDS` from each onset (:func:`band_onsets`), ``sustained``
    elsewhere; cap = max(the level before the onset, the lowest level from
    :data:`AFTER_SECONDS` after it to the first frame past the span).
    """
    V = np.asarray(band_magnitude, np.float32)
    S = np.asarray(sustained, np.float32)
    if V.shape != S.shape or V.ndim != 3:
        raise ValueError(f"band_magnitude {V.shape} and sustained {S.shape} must both be (F_b, C, N)")
    span = _frames(SPAN_SECONDS, frames_per_second, 2)
    after = min(_frames(AFTER_SECONDS, frames_per_second, 1), span - 1)
    onsets, before = band_onsets(V)
    cap = np.maximum(before, _lowest_ahead(V, after, span - after + 1))
    # each frame's latest onset (-1: none yet) and the cap measured there
    t = np.arange(V.shape[-1])
    latest = np.where(onsets, t, -1)
    np.maximum.accumulate(latest, axis=-1, out=latest)
    inside = (latest >= 0) & (t - latest < span)
    cap = np.take_along_axis(cap, np.maximum(latest, 0), axis=-1)
    excess = np.maximum(S - cap, 0) * inside
    return (S - np.float32(share) * excess).astype(np.float32)
