"""Song mode: how slowly does this song's kick ring below 60 Hz?  Arrays only.

The masks' kick template decays below :data:`~nmfaudio.drums.accompaniment.CLEAN_HZ` no
faster than :data:`~nmfaudio.drums.accompaniment.TAIL_FLOOR_RATIO` per frame
(:func:`nmfaudio.drums.templates.floor_decay`): right for an acoustic kick, whose body
there falls about 0.8 per 23-ms frame, but a drum machine's long kick (TR808EmulationKit's
"Kick Long": a 52-Hz sine ringing 1.2 s) falls slower and lost the rest of its tail to
the accompaniment (docs/drums-full-song.md, "Electronic kits").  A slower fixed ratio
took the bass on acoustic kicks.  So the song's own kick decay is read from its low band
after its strongest hits that stand alone, where no note starts and no note is held
across the hit, and used only when it is clearly slower than the fixed ratio.

A bass note held across a hit keeps the low band up both before the hit and after its
decay, and reads as a slow kick (the first version of this estimate, without that test,
fired on acoustic songs with a bass under nearly every lone kick and cost their kick
0.5-1.3 dB; docs/log/drums-full-song-decisions.md, "The kick's own decay" and "The kick's own decay,
bass-free hits").  So a hit counts only where the low band just before it is under
:data:`BASS_FREE` of its level at the end of the decay window: an 808's own ring leaves
the level after its decay well above the (earlier kick's tail) level before the hit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BASS_FREE", "DECAY_CAP", "DECAY_FRAMES", "DECAY_QUANTILE", "GLIDE_HZ", "HIT_SHARE", "KICK_DECAY_SLOWER",
           "MIN_HITS", "NOTE_RISE", "PEAK_FRAMES", "PRE_FRAMES", "REFERENCE_HOP_S", "kick_decay",
           "per_reference_hop"]

#: The hits measured: local maxima of the kick's activation from this share of its
#: largest one on.
HIT_SHARE = 0.5
#: The low band's peak is looked for in this many frames from the hit's activation on
#: (a house kick's sub boom peaks 5 frames, 0.12 s, after its click: HardElectro1's Kick 1).
PEAK_FRAMES = 6
#: Frames after the low band's peak over which a hit's decay is measured (0.19 s at the
#: 23-ms hop); a hit with another kick activation from :data:`HIT_SHARE` of its own
#: within them is not alone and is skipped.  8 rather than 6: an acoustic kick's body
#: falls faster after its first frames while an 808's sine keeps its rate, so the longer
#: window parts them further (tuning songs, with the bass-free test: the 808's lowest
#: estimate 0.883 -> 0.908, every other kit's highest 0.868 at both).
DECAY_FRAMES = 8
#: The low band's level this many frames before the hit's activation peak is its level
#: before the hit (the 4096-sample window of that frame ends a hop before the hit's
#: frame).
PRE_FRAMES = 4
#: A hit is bass-free only where the low band before it is under this share of its
#: level at the end of the decay window: a note held across the hit keeps both up (a
#: bass under the kick: 0.8-1.4), an 808's own ring leaves the after level well above
#: the before (mostly 0.2-0.6; tuning songs, docs/drums-full-song.md).
BASS_FREE = 0.5
#: A frame-to-frame rise of the low band by more than this factor after the peak: a note
#: (a bass note, another drum) starts there, and the hit is skipped.
NOTE_RISE = 1.5
#: The quantile of the hits' decays taken: the music under a hit only adds to the low
#: band and so slows its decay (a bass note starting with the kick), so the faster hits
#: are the kick's own.
DECAY_QUANTILE = 0.25
#: Fewer hits than this measured: no estimate.
MIN_HITS = 3
#: The masks use the estimate in place of the fixed ratio only from this decay on:
#: about midway between the tuning songs' 808 (lowest 0.908) and every other kit (highest
#: 0.868, BJA_Pacific; GMRockKit's own kick 0.80-0.86).
KICK_DECAY_SLOWER = 0.89
#: The estimate is capped here (a decay, per frame).
DECAY_CAP = 0.95
#: A kick that keeps its own decay (from :data:`KICK_DECAY_SLOWER` on) is a drum
#: machine's sine whose pitch glides down after its click (TR808EmulationKit's Kick Long:
#: its largest bin 65 Hz at the template's peak frame, then 54 Hz for the ring): its floor
#: below ``CLEAN_HZ`` starts, in every floored bin, from the template's largest bin below
#: this frequency at the peak frame, not from each bin's own (the 54-Hz bin held 0.27 of
#: that at the peak, the true kick rings there at 0.4-0.8 of it for 10 frames).  Tuning
#: songs, docs/log/drums-full-song-decisions.md, "The 808's gliding kick".
GLIDE_HZ = 80.0
#: The hop (s) the per-frame decays above were measured at: 1024 samples at 44.1 kHz,
#: 512 at 22.05 kHz (the default STFT at both rates).  :data:`KICK_DECAY_SLOWER` is
#: compared with a decay per this hop (:func:`per_reference_hop`), so that another hop
#: does not make an acoustic kick read as slow as a drum machine's.
REFERENCE_HOP_S = 1024 / 44100


def kick_decay(low, kick, *, frames: int = DECAY_FRAMES) -> float:
    """A low quantile (:data:`DECAY_QUANTILE`) of the per-frame decays of the low band
    after the kick's strongest hits that stand alone, where no note starts and none is
    held across the hit.

    Each measured hit gives ``(low[p + frames] / low[p]) ** (1 / frames)``, ``p`` the
    low band's peak within :data:`PEAK_FRAMES` of the hit's activation peak ``t``; the
    low band must not rise by more than :data:`NOTE_RISE` from one frame to the next in
    between, the kick's activation must stay under :data:`HIT_SHARE` of the hit's up to
    ``p + frames``, and ``low[t - PRE_FRAMES]`` must be under :data:`BASS_FREE` times
    ``low[p + frames]`` (no note held across the hit).

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
        For ``low`` and ``kick`` not of one shape ``(N,)``, or ``frames`` under 1.
    """
    low = np.asarray(low, dtype=np.float64)
    kick = np.asarray(kick, dtype=np.float64)
    if low.shape != kick.shape or low.ndim != 1:
        raise ValueError(f"low and kick must have the same shape (N,), got {low.shape} and {kick.shape}")
    if int(frames) != frames or frames < 1:
        raise ValueError(f"frames must be a whole number >= 1, got {frames!r}")
    frames = int(frames)
    N = kick.size
    if N < frames + PEAK_FRAMES or not kick.max() > 0:
        return float("nan")
    padded = np.concatenate([[-np.inf], kick, [-np.inf]])
    peaks = np.flatnonzero((kick >= padded[:-2]) & (kick > padded[2:]) & (kick >= HIT_SHARE * kick.max()))
    decays = []
    for t in peaks[peaks >= PRE_FRAMES]:
        p = t + int(np.argmax(low[t:t + PEAK_FRAMES]))
        if p + frames >= N or kick[t + 2:p + frames + 1].max(initial=0) >= HIT_SHARE * kick[t]:
            continue  # too near the end, or another hit within the window
        tail = low[p:p + frames + 1]
        if tail[0] <= 0 or np.any(tail[1:] > NOTE_RISE * tail[:-1]):
            continue  # a note starts under the decay
        if low[t - PRE_FRAMES] >= BASS_FREE * tail[-1]:
            continue  # a note held across the hit: the band was as loud before it as after its decay
        decays.append(tail[-1] / tail[0])
    if len(decays) < MIN_HITS:
        return float("nan")
    return float(min(np.quantile(decays, DECAY_QUANTILE) ** (1.0 / frames), DECAY_CAP))


def per_reference_hop(decay: float, hop_s: float) -> float:
    """A per-frame ``decay`` at a hop of ``hop_s`` seconds as a decay per
    :data:`REFERENCE_HOP_S` (NaN stays NaN).

    >>> round(per_reference_hop(0.9, REFERENCE_HOP_S / 2), 4)
    0.81
    """
    return float(decay) ** (REFERENCE_HOP_S / float(hop_s))
