"""Song mode: the toms' own running median taken out of the masks' sustained part.
Arrays only.

The masks give the accompaniment the running median of the band magnitude (the sustained
part; 2 s long with loud drums).  Where a drum plays in more than half the frames of that
window — toms in a fill — the median holds that drum's body too, and the masks gave it
to the accompaniment: at +6 dB drum-to-music ratio, 78 % of the drums left in the
accompaniment lay under the sustained part, the toms' bodies at 60–250 Hz the largest
share (docs/log/drums-full-song-decisions.md, fortieth round), in cells interleaved with cells where the
music was given away, so no global weight or per-band factor could tell them apart.  The
cue here is per cell and comes from the drum model: the same running median of the
fitted toms' own band model is the part of the sustained level they explain, and only
the rest is the music's.  Where the toms play sparsely their median is 0 and the
sustained part is unchanged; where their median is a small part of the sustained level
(:data:`MIN_SHARE`) it is mostly music the toms templates took, and it stays too.

Only the toms (:data:`MEDIAN_CLASSES`): the kick's, hats' and cymbals' models hold some
of the music in some songs (templates adapted to a bass or a guitar), and their median
gave it away (docs/log/drums-full-song-decisions.md, forty-first round: per class on the 42 acoustic
tuning songs at +6 dB).
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.accompaniment import DECIMATION, sustained_part

__all__ = ["MEDIAN_CLASSES", "MEDIAN_SHARE", "MIN_SHARE", "without_drum_median"]

#: The drum classes whose model's running median leaves the masks' sustained part.
MEDIAN_CLASSES = ("toms",)
#: ... times this.
MEDIAN_SHARE = 1.0
#: ... only where it is at least this share of the sustained part (0: everywhere): a
#: small toms median under a large sustained level is mostly music the toms templates
#: took (a synth bass); a fill's is a large part of it (forty-first round: on the 72
#: electronic tuning songs at +6 dB, 0 → 34 songs' accompaniment lower, 0.25 → 6, worst
#: −0.06 dB; the acoustic gain the same).
MIN_SHARE = 0.25


def without_drum_median(sustained, drum_model, *, frames: int, step: int = DECIMATION,
                        share: float = MEDIAN_SHARE, min_share: float = MIN_SHARE) -> np.ndarray:
    """The masks' sustained part less the running median of (part of) the drums' own model.

    Parameters
    ----------
    sustained : ndarray, shape (F_b, C, N), non-negative
        The masks' sustained part (before its weight and high-band factor).
    drum_model : ndarray, shape (F_b, C, N), non-negative
        The band model of the :data:`MEDIAN_CLASSES` templates with the masks'
        activations.
    frames : int >= 1
        The sustained part's median length in frames (the same window: the same notion
        of "held").
    step : int >= 1, default :data:`~nmfaudio.drums.accompaniment.DECIMATION`
        Time decimation of the median (:func:`~nmfaudio.drums.accompaniment.sustained_part`).
    share : float >= 0, default :data:`MEDIAN_SHARE`
        How much of the drums' median is taken out.
    min_share : float >= 0, default :data:`MIN_SHARE`
        Only in the cells where the drums' median is at least this share of
        ``sustained``.

    Returns
    -------
    ndarray, float32, shape (F_b, C, N)
        A new array, ``max(sustained − share · median(drum_model), 0)`` where
        ``median(drum_model) ≥ min_share · sustained``, ``sustained`` elsewhere.
    """
    S = np.array(sustained, dtype=np.float32)
    D = np.asarray(drum_model, dtype=np.float32)
    if S.shape != D.shape or S.ndim != 3:
        raise ValueError(f"sustained {S.shape} and drum_model {D.shape} must both be (F_b, C, N)")
    if not share >= 0 or not min_share >= 0:
        raise ValueError(f"share={share!r} and min_share={min_share!r} must be >= 0")
    held = sustained_part(D, frames=frames, step=step)
    if min_share > 0:  # only where the toms' median is a large part of the sustained level
        held = np.where(held >= np.float32(min_share) * S, held, 0)
    np.maximum(S - np.float32(share) * held, 0, out=S)
    return S
