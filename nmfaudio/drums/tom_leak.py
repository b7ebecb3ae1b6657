"""Drum recordings: the toms' share that rides on every kick and snare hit leaves the masks.
Arrays only.

The toms templates are 24 frames long (0.56 s) and low; the kick's and snare's are 8 (0.19 s).
The fit explains what rings past a kick or snare template's end — the drum's own decay, a
room's reverberated tail — with a small toms activation at the kick's or snare's hit, and
the masks gave it to the toms stem: on the tuning set 40-70 % of the toms parts' activation
lies at kick and snare hits away from every tom note, dry and in a room; in a room the kick
and snare send 1-2 % of their energy to the toms stem and the toms lose 2.29 dB
(docs/log/drums-five-stems-decisions.md, room-tails round).

That leak is a share of each hit: the toms' activation at a class's hit frames, over that
class's activation there, is about the same ratio at every hit of a recording, while a tom
struck with the kick is an outlier above it.  So per class (:data:`LEAK_CLASSES`) the
recording's typical ratio — the median over the class's hits (frames where its activation
within one frame reaches :data:`HIT_LEVEL` of its largest;
:func:`nmfaudio.drums.accompaniment.kick_hit_frames`) — times the class's activation is taken
off the toms' activation in the masks, and only the excess stays the toms'.  Zeroing the toms
at every kick and snare hit instead cost the proxy's kick 1.0 dB dry (toms struck with the
kick, 17 % of its tom notes, went to the kick stem), a fixed 0.3 of the class's activation
0.5 dB.  The fit, the reported activations and the templates are unchanged; the freed share
goes to the other outputs by their own models.

On a kit whose toms lie below its kick the toms parts hold the kick's body at its hits
(:mod:`nmfaudio.drums.kick_toms`): their activation there is the kick, at a large ratio,
and taking it off left the kick / toms swap test without the shared hits it reads, so
the kick's body and the toms' fills stayed in the wrong stems.  The leak is taken only
when the swap test reads the same with and without it (:func:`keeps_swap`).  On the
tuning kits rebuilt with toms under their kick (``benchmarks/kit_variants.py``
``-lowtoms`` / ``-downtoms``, tuning seeds 0-8, 60 recordings dry, in a room and mixed
like a record) the leak changed the swap test's outcome on 7 of the 180: on 5 it hid a
swap that held, toms 10.7-33.5 dB and kick 6.3-18.3 dB lower than with the test's own
outcome; on 2 (BJA_Pacific-downtoms funk, whose swap itself is wrong) it helped, toms +2.2
and +8.9 dB (docs/log/drums-five-stems-decisions.md, tomleak69 round).  A cap on the ratio
instead (0.5) lost the kits whose toms parts take a ratio near 1 or above at the kick's
hits as a leak (BJA_Pacific's toms playing its kick's samples: the leak gives their
toms 5-10 dB) and left the hidden swap hidden.
"""

from __future__ import annotations

import numpy as np

from nmfaudio._validation import check_int
from nmfaudio.drums.accompaniment import kick_hit_frames
from nmfaudio.drums.kick_toms import swap_holds

__all__ = ["HIT_LEVEL", "LEAK_CLASSES", "MIN_HITS", "keeps_swap", "leak_kept"]

#: The classes whose hits the toms' leak rides on.
LEAK_CLASSES = ("kick", "snare")
#: A hit frame: the class's activation within one frame reaches this share of its largest
#: (:func:`nmfaudio.drums.accompaniment.kick_hit_frames`' default).
HIT_LEVEL = 0.5
#: Fewer hit frames than this: no ratio is read for the class (a median of one or two hits
#: is a tom's as likely as a leak's).
MIN_HITS = 4


def leak_kept(toms, others, *, level: float = HIT_LEVEL, min_hits: int = MIN_HITS) -> np.ndarray:
    """The share of the toms' activation that is not the leak riding on other classes' hits.

    Parameters
    ----------
    toms : ndarray, shape (C, N), non-negative
        The toms parts' activation, summed over the parts (C channels, N frames).
    others : sequence of ndarray, each shape (C, N), non-negative
        Each leak class's activation (its parts summed), e.g. the kick's and the snare's.
    level : float in (0, 1]
        A hit frame: the class's activation (channels summed) within one frame reaches
        this share of its largest.
    min_hits : int >= 1
        A class with fewer hit frames adds no leak.

    Returns
    -------
    ndarray, shape (C, N), float32, in [0, 1]
        ``max(toms − Σ r_c · others_c, 0) / toms`` (1 where ``toms`` is 0), with ``r_c``
        the median over class c's hit frames of toms / others_c (channels summed): the
        factor to multiply the toms parts' activations by in the masks.

    Raises
    ------
    ValueError
        For arrays that are not 2-D or whose shapes differ, or ``min_hits`` < 1 (``level``
        as :func:`~nmfaudio.drums.accompaniment.kick_hit_frames`).
    """
    toms = np.asarray(toms, dtype=np.float32)
    if toms.ndim != 2:
        raise ValueError(f"toms must have shape (n_channels, n_frames), got {toms.shape}")
    min_hits = check_int(min_hits, "min_hits", 1)
    own = toms.sum(axis=0)
    taken = np.zeros_like(toms)
    for h in others:
        h = np.asarray(h, dtype=np.float32)
        if h.shape != toms.shape:
            raise ValueError(f"each of others must have the toms' shape {toms.shape}, got {h.shape}")
        summed = h.sum(axis=0)
        hits = kick_hit_frames(summed, level=level).astype(bool)
        if hits.sum() < min_hits:
            continue
        ratio = float(np.median(own[hits] / np.maximum(summed[hits], np.float32(1e-12))))
        taken += np.float32(ratio) * h
    kept = np.ones_like(toms)
    played = toms > 0
    kept[played] = np.maximum(toms[played] - taken[played], 0) / toms[played]
    return kept


def keeps_swap(P, H, leaked, labels, *, frame_rate) -> bool:
    """Whether the kick / toms swap test reads the same on the activations with the leak
    taken off as on the fit's (:func:`nmfaudio.drums.kick_toms.swap_holds`).

    Parameters
    ----------
    P : ndarray, shape (F, K, T)
        The templates.
    H : ndarray, shape (K, C, N)
        The fit's activations.
    leaked : ndarray, shape (K, C, N)
        ``H`` with the toms parts' rows times :func:`leak_kept`.
    labels : sequence of K str
        The templates' labels.
    frame_rate : float
        Frames per second.

    Returns
    -------
    bool
        False when the test holds on one and not on the other (the toms parts' activation
        at the kick's hits was the kick, not a leak, or the leak's removal made the kick's
        hits look like lone toms).
    """
    return (swap_holds(P, H, labels, frame_rate=frame_rate)
            == swap_holds(P, leaked, labels, frame_rate=frame_rate))
