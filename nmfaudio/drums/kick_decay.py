"""Song mode: how slowly does this song's kick ring below 60 Hz?  Arrays only.

The masks' kick template decays below :data:`~nmfaudio.drums.accompaniment.CLEAN_HZ` no
faster than :data:`~nmfaudio.drums.accompaniment.TAIL_FLOOR_RATIO` per frame
(:func:`nmfaudio.drums.templates.floor_decay`): right for an acoustic kick, whose body
there falls about 0.8 per 23-ms frame, but a drum machine's long kick (TR808EmulationKit's
"Kick Long": a 52-Hz sine ringing 1.2 s) falls slower and lost the rest of its tail to
the accompaniment (docs/drums-full-song.md, "Electronic kits").  A slower fixed ratio
took the bass on acoustic kicks.  So the song's own kick decay is read from its low band
after its strongest hits that stand alone and where no note starts, and used only when
it is clearly slower than the fixed ratio.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DECAY_CAP", "DECAY_FRAMES", "DECAY_QUANTILE", "HIT_SHARE", "KICK_DECAY_SLOWER", "MIN_HITS",
           "NOTE_RISE", "PEAK_FRAMES", "kick_decay"]

#: The hits measured: local maxima of the kick's activation from this share of its
#: largest one on.
HIT_SHARE = 0.5
#: The low band's peak is looked for in this many frames from the hit's activation on
#: (a house kick's sub boom peaks 5 frames, 0.12 s, after its click: HardElectro1's Kick 1).
PEAK_FRAMES = 6
#: Frames after the low band's peak over which a hit's decay is measured (0.14 s at the
#: 23-ms hop); a hit with another kick activation from :data:`HIT_SHARE` of its own
#: within them is not alone and is skipped.
DECAY_FRAMES = 6
#: A frame-to-frame rise of the low band by more than this factor after the peak: a note
#: (a bass note, another drum) starts there, and the hit is skipped.
NOTE_RISE = 1.5
#: The quantile of the hits' decays taken: the music under a hit only adds to the low
#: band and so slows its decay (a bass note starting with the kick), so the faster hits
#: are the kick's own.
DECAY_QUANTILE = 0.25
#: Fewer hits than this measured: no estimate.
MIN_HITS = 3
#: The masks use the estimate in place of the fixed ratio only from this decay on.
KICK_DECAY_SLOWER = 0.86
#: The estimate is capped here (a decay, per frame).
DECAY_CAP = 0.95


def kick_decay(low, kick, *, frames: int = DECAY_FRAMES) -> float:
    """A low quantile (:data:`DECAY_QUANTILE`) of the per-frame decays of the low band
    after the kick's strongest hits that stand alone, where no note starts.

    Each measured hit gives ``(low[p + frames] / low[p]) ** (1 / frames)``, ``p`` the
    low band's peak within :data:`PEAK_FRAMES` of the hit's activation peak; the low band
    must not rise by more than :data:`NOTE_RISE` from one frame to the next in between,
    and the kick's activation must stay under :data:`HIT_SHARE` of the hit's up to
    ``p + frames``.

    Parameters
    ----------
    low : ndarray, shape (N,)
        The mixture's magnitude below ``CLEAN_HZ``, bins and channels summed.
    kick : ndarray, shape (N,)
        The kick parts' fitted activations, summed over parts and channels.
    frames : int, default :data:`DECAY_FRAMES`

    Returns
    -------
    float in [0, :data:`DECAY_CAP`], or NaN with fewer than :data:`MIN_HITS` measured hits
    (or a silent kick).

    Raises
    ------
    ValueError
        For ``low`` and ``kick`` not of one shape ``(N,)``.
    """
    low = np.asarray(low, dtype=np.float64)
    kick = np.asarray(kick, dtype=np.float64)
    if low.shape != kick.shape or low.ndim != 1:
        raise ValueError(f"low and kick must have the same shape (N,), got {low.shape} and {kick.shape}")
    N = kick.size
    if N < frames + PEAK_FRAMES or not kick.max() > 0:
        return float("nan")
    padded = np.concatenate([[-np.inf], kick, [-np.inf]])
    peaks = np.flatnonzero((kick >= padded[:-2]) & (kick > padded[2:]) & (kick >= HIT_SHARE * kick.max()))
    decays = []
    for t in peaks:
        p = t + int(np.argmax(low[t:t + PEAK_FRAMES]))
        if p + frames >= N or kick[t + 2:p + frames + 1].max(initial=0) >= HIT_SHARE * kick[t]:
            continue  # too near the end, or another hit within the window
        tail = low[p:p + frames + 1]
        if tail[0] <= 0 or np.any(tail[1:] > NOTE_RISE * tail[:-1]):
            continue  # a note starts under the decay
        decays.append(tail[-1] / tail[0])
    if len(decays) < MIN_HITS:
        return float("nan")
    return float(min(np.quantile(decays, DECAY_QUANTILE) ** (1.0 / frames), DECAY_CAP))
