"""Song mode: the hat parts' activation at the snare's hits, capped at the hats' own pulse.

A drum machine's snare or clap is a burst of bright noise, most of it above 5 kHz, where
the hat parts live; in a song the hat parts (which may adapt 20 dB) explain that noise
at every snare hit, and the hi-hat stem holds it.  Measured on the electronic tuning
songs (docs/drums-full-song.md, "2026-12-04, electronic hat round (ehat)"): the snare
was 10-69 % of every modelled hi-hat stem's energy at 0 dB, nearly all of it from 5 kHz.
A hat keeps time: its strokes between the snare's hits set its level, and a stroke
played with the snare is no louder than those.  So at the snare's hits the hat parts'
activation in the *masks* is capped at :data:`PULSE_FACTOR` times the median of the
part's own peaks away from the snare's hits (the pulse); what it explained above that
goes to the outputs that model it next (the snare).  The fit and the reported
activations are unchanged.  Arrays only.
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.kick_gate import hit_frames
from nmfaudio.drums.times import peak_frames

__all__ = ["HAT_SNARE_CAP", "MIN_PULSE", "PEAK_SHARE", "PULSE_FACTOR", "SNARE_HIT_LEVEL", "capped_at_snare"]

#: Switch: cap the hat parts at the snare's hits in a song (False turns the step off).
HAT_SNARE_CAP = True
#: A snare hit: a local maximum of the snare's activation from this share of its largest on.
SNARE_HIT_LEVEL = 0.3
#: A hat stroke: a local maximum of a hat part's activation from this share of its largest on.
PEAK_SHARE = 0.05
#: The cap: this many times the median of the part's strokes away from the snare's hits.
PULSE_FACTOR = 1.5
#: Fewer strokes than this away from the snare's hits: no pulse to read, the part is left.
MIN_PULSE = 4


def capped_at_snare(H_masks, hats, snares, *, reach: int = 1, level: float = SNARE_HIT_LEVEL,
                    factor: float = PULSE_FACTOR, share: float = PEAK_SHARE,
                    min_pulse: int = MIN_PULSE) -> np.ndarray:
    """The masks' activations with each hat part capped at its pulse at the snare's hits.

    Parameters
    ----------
    H_masks : ndarray, shape (K, C, N), non-negative
        The masks' activations; not modified.
    hats, snares : sequence of int
        The hat parts and the snare parts (indices into K).
    reach : int >= 0
        Frames on each side of a snare hit that count as the hit.
    level : float in [0, 1]
        A snare hit: a local maximum of the snare parts' summed activation from ``level``
        times its largest on.
    factor : float > 0
        The cap in units of the pulse (the median of the part's peaks away from the hits).
    share : float in [0, 1]
        A part's peak: a local maximum from ``share`` times its largest on.
    min_pulse : int
        A part with fewer peaks away from the snare's hits is left as it is.

    Returns
    -------
    ndarray, shape (K, C, N)
        ``H_masks`` itself when nothing is capped, else a new array (same dtype).
    """
    H_masks = np.asarray(H_masks)
    hats = np.asarray(hats, dtype=int).reshape(-1)
    snares = np.asarray(snares, dtype=int).reshape(-1)
    if hats.size == 0 or snares.size == 0:
        return H_masks
    at_snare = hit_frames(H_masks[snares].sum(axis=(0, 1)), level=level, reach=reach) > 0
    if not at_snare.any():
        return H_masks
    out = None
    for k in hats:
        a = H_masks[k].sum(axis=0).astype(np.float64)  # (N,), channels summed
        peaks = peak_frames(a, share)
        away = peaks[~at_snare[peaks]]
        if away.size < min_pulse:
            continue
        cap = factor * float(np.median(a[away]))
        over = at_snare & (a > cap)
        if not over.any():
            continue
        if out is None:
            out = H_masks.copy()
        scale = (cap / a[over]).astype(H_masks.dtype)
        out[k][:, over] *= scale  # every channel by the same factor: the part's stereo image stays
    return H_masks if out is None else out
