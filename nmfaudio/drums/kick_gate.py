"""Song mode: the kick's activations away from its hits leave the masks.  Arrays only.

In a song the kick templates, adapted to the song's kick, also fit the bass: a bass
note's onset below 250 Hz rises above the sustained part, and a kick template (a drum
machine's all the more: a pitched sine at 50-60 Hz, like the bass) takes it with a small
activation between the kick's hits.  The masks then gave the bass there to the kick stem.
On the electronic tuning songs (TR808EmulationKit, HardElectro1, ElectricEmpireKit,
VariBreaks) with the music 6 dB above the drums, the kick's masks model more than 16
frames (0.37 s) after the last true kick onset was 5-90 times the true kick below 250 Hz
and, below 60 Hz, as large as the accompaniment's model or larger; on the acoustic kits
2-3 times (docs/log/drums-full-song-decisions.md, forty-second round).

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
from nmfaudio.nmf.nmfd import convolutive_model

__all__ = ["AFTER_RISE_DB", "AFTER_SECONDS", "COVER_ENERGY", "COVER_HZ", "COVER_MIN", "GATE_CLASSES", "HIT_LEVEL",
           "REACH_SECONDS", "after_frames", "coverage", "hit_frames", "low_rise_db", "reach_frames", "without_off_hit"]

#: The classes whose activations away from their hits leave the masks (() turns the step off).
GATE_CLASSES = ("kick",)
#: A hit: a local maximum of the class's activation from this share of its largest on
#: (forty-second round, tuning songs: 0.1; 0.2 lost on the acoustic kits, 0.35 on
#: every kit).
HIT_LEVEL = 0.1
#: Frames within this many seconds of a hit keep their activations (2 frames at the
#: 23-ms hop of 44.1 kHz, 1024 samples: a hit's activation spreads over a frame or two).
REACH_SECONDS = 0.05
#: A hit must also be found in the mixture: the kick model's rise at :data:`COVER_HZ`
#: (``max(X - min(X[t-1], X[t-2]), 0)``) clipped to the mixture's rise there, as a share
#: of the model's rise over the hit's frame and its neighbours (:func:`coverage`), at least this.
#: The clip takes out what the mixture holds above the model (a bass note's partials on a
#: kick struck with it); a bass note the kick templates took leaves the model's rise
#: between its partials uncovered (docs/log/drums-full-song-decisions.md, fifty-fifth round: on the
#: tuning songs 0.5; 0.6 and 0.7 lost on the acoustic kits at -6 dB).  0: not tested.
COVER_MIN = 0.5
COVER_HZ = (30.0, 250.0)
#: ... only in a song whose sustained part explains at least this share of the energy
#: (:func:`nmfaudio.drums.accompaniment.energy_share`: loud music; fifty-fifth round: below
#: it, at +6 dB, the test lost on electronic tuning songs).
COVER_ENERGY = 0.3
#: ... and, in the same songs, a hit within this many seconds after a larger hit is no hit
#: unless the mixture rises there (:data:`AFTER_RISE_DB`): the kick's activation peaks again
#: in its own decay (a drum machine's long kick the template's decay does not hold, or a
#: bass note under it), and each such peak gave another kick template's worth of the bass
#: to the kick stem (docs/log/drums-full-song-decisions.md, the songdrums56 round: on 16
#: electronic tuning songs at -6 dB it drops 78 of 586 gate hits, 59 of them with no note
#: within 2 frames, 46 of those 3-7 frames after a kick note; 6 at a kick note, 0.10-0.21
#: of the largest activation; 0.12 s, 5 frames at the 23-ms hop; 0.16 s lost on an
#: acoustic song).  0: not tested.
AFTER_SECONDS = 0.12
#: ... a hit where the mixture's magnitude at :data:`COVER_HZ` (:func:`low_rise_db`) rises by
#: at least this many dB is a new stroke and stays a hit (a snare or tom the kick template
#: took a share of, a kick struck again).
AFTER_RISE_DB = 2.0


def _rise(X: np.ndarray) -> np.ndarray:
    """``max(X - min(X[t-1], X[t-2]), 0)`` along the last axis (X[t-1] alone at t = 1, 0 at t = 0)."""
    prev = np.zeros_like(X)
    if X.shape[-1] > 1:
        prev[..., 1:] = X[..., :-1]
    if X.shape[-1] > 2:
        prev[..., 2:] = np.minimum(X[..., 1:-1], X[..., :-2])
    return np.maximum(X - prev, 0)


def _three(x: np.ndarray) -> np.ndarray:
    """Each frame's value plus its neighbours' (any length, 1 frame too)."""
    out = np.array(x, dtype=np.float64)
    out[1:] += x[:-1]
    out[:-1] += x[1:]
    return out


def coverage(band_magnitude, P_bands, H, band_hz, *, hz=COVER_HZ) -> np.ndarray:
    """Per frame, the share of the model's rise at ``hz`` found in the mixture's rise there,
    over the frame and its two neighbours: ``sum(min(R_mix, R_model)) / sum(R_model)``, 1
    where the model does not rise.

    band_magnitude (F_b, N) channels summed; P_bands (F_b, K, T) the parts' templates;
    H (K, N) their activations, channels summed; band_hz (F_b,)."""
    V = np.asarray(band_magnitude, dtype=np.float32)
    sel = (np.asarray(band_hz) >= hz[0]) & (np.asarray(band_hz) < hz[1])
    N = V.shape[1]
    if not sel.any():
        return np.ones(N, np.float32)
    model = convolutive_model(np.asarray(P_bands, dtype=np.float32)[sel], np.asarray(H, dtype=np.float32))
    R, M = _rise(V[sel]), _rise(model)
    # over the hit's frame and its two neighbours (a hit's rise spreads over a frame or two)
    found, total = _three(np.minimum(R, M).sum(axis=0)), _three(M.sum(axis=0))
    return np.divide(found, total, out=np.ones(N), where=total > 0).astype(np.float32)


def low_rise_db(band_magnitude, band_hz, *, hz=COVER_HZ) -> np.ndarray:
    """Per frame, the rise of the magnitude at ``hz`` (its bands summed) in dB: the larger of
    the frame and the next over the smaller of the two frames before (the first frame's own
    level before it, the last frame's as its next).

    band_magnitude (F_b, N), channels summed; band_hz (F_b,)."""
    V = np.asarray(band_magnitude)
    sel = (np.asarray(band_hz) >= hz[0]) & (np.asarray(band_hz) < hz[1])
    low = V[sel].sum(axis=0, dtype=np.float64)
    if low.size == 0:
        return low
    edged = np.pad(low, (2, 1), mode="edge")  # edged[i + 2] is frame i
    peak = np.maximum(edged[2:-1], edged[3:])
    before = np.minimum(edged[1:-2], edged[:-3])
    return 20 * np.log10((peak + 1e-12) / (before + 1e-12))


def after_frames(frames_per_second: float, seconds: float = AFTER_SECONDS) -> int:
    """``seconds`` (default :data:`AFTER_SECONDS`) in frames (0 for 0 s): the ``after`` of
    :func:`hit_frames` (5 at 44.1 kHz, hop 1024)."""
    frames_per_second = check_number(frames_per_second, "frames_per_second", minimum=0, strict=True)
    seconds = check_number(seconds, "seconds", minimum=0)
    return int(round(seconds * frames_per_second))


def _not_after_larger(h, peaks, after, rises):
    """``peaks`` without those within ``after`` frames after a larger kept peak (in time
    order, a dropped peak drops no later one), a peak where ``rises`` is True exempt."""
    out = peaks.copy()
    kept = []
    for p in np.flatnonzero(peaks):
        if (rises is None or not rises[p]) and any(0 < p - q <= after and h[q] > h[p] for q in kept[-after:]):
            out[p] = False
        else:
            kept.append(p)
    return out


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


def hit_frames(activation, *, level: float = HIT_LEVEL, reach: int = 2, found=None, after: int = 0,
               rises=None) -> np.ndarray:
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
    found : ndarray of bool, shape (n_frames,), optional
        Frames where a hit may be (:func:`without_off_hit`'s coverage test); the level is
        still taken from the largest activation.
    after : int >= 0, default 0
        A hit within this many frames after a larger hit (one kept, in time order) is no hit
        (:data:`AFTER_SECONDS`); 0: not tested.
    rises : ndarray of bool, shape (n_frames,), optional
        Frames whose hit is kept whatever ``after`` says (the mixture rises there:
        :data:`AFTER_RISE_DB`).

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
    after = check_int(after, "after", 0)
    h = np.asarray(activation, dtype=np.float32)
    if h.ndim != 1:
        raise ValueError(f"activation must have shape (n_frames,), got {h.shape}")
    top = float(h.max()) if h.size else 0.0
    if top <= 0:
        return np.zeros(h.shape, np.float32)
    peaks = (h >= maximum_filter1d(h, size=3, mode="nearest")) & (h >= np.float32(level) * np.float32(top)) & (h > 0)
    if found is not None:
        peaks &= np.asarray(found, dtype=bool)
    if after > 0:
        peaks = _not_after_larger(h, peaks, after, None if rises is None else np.asarray(rises, dtype=bool))
    return (maximum_filter1d(peaks.astype(np.float32), size=2 * reach + 1, mode="constant") > 0).astype(np.float32)


def without_off_hit(H_masks, parts, *, level: float = HIT_LEVEL, reach: int = 2, cover=None,
                    cover_min: float = 0.0, after: int = 0, rises=None) -> np.ndarray:
    """The masks' activations with ``parts``' activations set to 0 away from their hits
    (:func:`hit_frames` of the parts' activation, channels summed).

    Parameters
    ----------
    H_masks : ndarray, shape (K, C, N), non-negative
        The masks' activations; not modified.
    parts : sequence of int
        The gated templates (a class's parts: their summed activation finds the hits).
    level, reach : see :func:`hit_frames`
    cover : ndarray, shape (n_frames,), optional
        :func:`coverage` of the parts; with ``cover_min`` > 0 a hit whose ``cover`` is
        under ``cover_min`` is no hit (the level still from the largest activation).
    cover_min : float, default 0 (not tested)
    after, rises : see :func:`hit_frames` (a hit within ``after`` frames after a larger one)

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
    # hits whose model is not in the mixture (coverage under cover_min) are no hits
    found = np.asarray(cover) >= np.float32(cover_min) if cover is not None and cover_min > 0 else None
    keep = hit_frames(H_masks[parts].sum(axis=(0, 1)), level=level, reach=reach, found=found, after=after,
                      rises=rises)
    out = np.array(H_masks, dtype=np.float32)
    out[parts] *= keep[None, None, :]
    return out
