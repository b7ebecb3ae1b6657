"""Song mode: the kick's activations away from its hits leave the masks.  Arrays only.

In a song the kick templates, adapted to the song's kick, also fit the bass: a bass
note's onset below 250 Hz rises above the sustained part, and a kick template (a drum
machine's all the more: a pitched sine at 50-60 Hz, like the bass) takes it with a small
activation between the kick's hits.  The masks then gave the bass there to the kick stem.
On the electronic tuning songs (TR808EmulationKit, HardElectro1, ElectricEmpireKit,
VariBreaks) with the music 6 dB above the drums, the kick's masks model more than 16
frames (0.37 s) after the last true kick onset was 5-90 times the true kick below 250 Hz
and, below 60 Hz, as large as the accompaniment's model or larger; on the acoustic kits
2-3 times (docs/drums-full-song.md, forty-second round).

A kick hit is a local maximum of the kick parts' activation (channels summed) from
:data:`HIT_LEVEL` of its largest on; the frames within :data:`REACH_SECONDS` of such a
hit keep the kick's activations, every other frame's go to 0 in the masks (the fit, the
reported activations and the templates are unchanged: the gated share goes to the
other outputs by their own models, the bass to the accompaniment).  A kick quieter than
:data:`HIT_LEVEL` of the loudest loses its stem share too: at 0.2 the acoustic tuning
songs lost (quiet kicks, presumably), at 0.1 they did not.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d

from nmfaudio._validation import check_int, check_number

__all__ = ["GATE_CLASSES", "HIT_LEVEL", "REACH_SECONDS", "hit_frames", "reach_frames", "without_off_hit"]

#: The classes whose activations away from their hits leave the masks (() turns the step off).
GATE_CLASSES = ("kick",)
#: A hit: a local maximum of the class's activation from this share of its largest on
#: (forty-second round, tuning songs: 0.1; 0.2 lost on the acoustic kits, 0.35 on
#: every kit).
HIT_LEVEL = 0.1
#: Frames within this many seconds of a hit keep their activations (2 frames at the
#: 23-ms hop of 44.1 kHz, 1024 samples: a hit's activation spreads over a frame or two).
REACH_SECONDS = 0.05


def reach_frames(frames_per_second: float, seconds: float = REACH_SECONDS) -> int:
    """``seconds`` (default :data:`REACH_SECONDS`) in frames, at least 1.

    Parameters
    ----------
    frames_per_second : float > 0
        The activation's frame rate (``sr / hop_length``).
    seconds : float >= 0, default REACH_SECONDS

    Returns
    -------
    int >= 1
        The ``reach`` of :func:`hit_frames` (2 at 44.1 kHz, hop 1024).
    """
    frames_per_second = check_number(frames_per_second, "frames_per_second", minimum=0, strict=True)
    seconds = check_number(seconds, "seconds", minimum=0)
    return max(1, int(round(seconds * frames_per_second)))


def hit_frames(activation, *, level: float = HIT_LEVEL, reach: int = 2) -> np.ndarray:
    """1 in the frames within ``reach`` frames of a hit, else 0.

    Parameters
    ----------
    activation : ndarray, shape (n_frames,), non-negative
        A class's activation (its parts and channels summed).
    level : float in [0, 1]
        A hit is a local maximum (over 3 frames) from ``level`` times the largest on;
        unlike :func:`nmfaudio.drums.times.peak_frames`, every frame of a plateau and the
        first and last frames may be hits.
    reach : int >= 0
        Frames kept on each side of a hit (0: the hit's frame alone).

    Returns
    -------
    ndarray, shape (n_frames,), float32, values 0 or 1
        All 0 for an activation that is 0 everywhere.

    Raises
    ------
    ValueError
        For ``level`` outside [0, 1], ``reach`` < 0 or an activation that is not 1-D.
    """
    level = check_number(level, "level", minimum=0, maximum=1, expected="a number in [0, 1]")
    reach = check_int(reach, "reach", 0)
    h = np.asarray(activation, dtype=np.float32)
    if h.ndim != 1:
        raise ValueError(f"activation must have shape (n_frames,), got {h.shape}")
    top = float(h.max()) if h.size else 0.0
    if top <= 0:
        return np.zeros(h.shape, np.float32)
    peaks = (h >= maximum_filter1d(h, size=3, mode="nearest")) & (h >= np.float32(level) * np.float32(top)) & (h > 0)
    return (maximum_filter1d(peaks.astype(np.float32), size=2 * reach + 1, mode="constant") > 0).astype(np.float32)


def without_off_hit(H_masks, parts, *, level: float = HIT_LEVEL, reach: int = 2) -> np.ndarray:
    """The masks' activations with ``parts``' activations set to 0 away from their hits
    (:func:`hit_frames` of the parts' activation, channels summed).

    Parameters
    ----------
    H_masks : ndarray, shape (K, C, N), non-negative
        The masks' activations; not modified.
    parts : sequence of int
        The gated templates (a class's parts: their summed activation finds the hits).
    level, reach : see :func:`hit_frames`

    Returns
    -------
    ndarray, shape (K, C, N)
        ``H_masks`` itself when ``parts`` is empty, else a new float32 array.
    """
    H_masks = np.asarray(H_masks)
    parts = np.asarray(parts, dtype=int).reshape(-1)
    if H_masks.ndim != 3:
        raise ValueError(f"H_masks must have shape (K, C, N), got {H_masks.shape}")
    if not parts.size:
        return H_masks
    keep = hit_frames(H_masks[parts].sum(axis=(0, 1)), level=level, reach=reach)
    out = np.array(H_masks, dtype=np.float32)
    out[parts] *= keep[None, None, :]
    return out
