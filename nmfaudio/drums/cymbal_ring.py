"""Song mode with loud drums: the cymbals' ring under the sustained level.  Arrays only.

The drums are fitted to what rises above the running median (the sustained part, which
the masks give to the accompaniment), so a crash or ride that rings for seconds and
recurs every bar is partly "sustained": the cymbals' templates model mostly the attacks,
and the masks gave the ring to the accompaniment's sustained part and to the free
components (docs/log/drums-full-song-decisions.md, seventeenth round: in the loud-cymbal songs the
cymbals leaked 6-18 % of the music's energy into the accompaniment).  Here each large
cymbal hit starts a ring at the cymbals' share of the band magnitude, decaying
geometrically (60 dB in :data:`RING_SECONDS`); the running maximum over hits is the
predicted ring (a ride's strokes keep the wash up).  From :data:`RING_HZ` on, the masks
move ``min(ring, the accompaniment's model)`` from the accompaniment to the cymbals stem.
Below it the music is loud and a ring predicted there took chords (nineteenth round).
"""

from __future__ import annotations

import numpy as np

from nmfaudio.nmf import convolutive_model

__all__ = ["RING_ENERGY", "RING_HZ", "RING_LOUD", "RING_PEAK", "RING_SECONDS", "cymbal_ring", "ring_envelope",
           "ring_share"]

#: The ring is moved from this frequency (Hz) on.  Lower, the music is loud (+6 dB, seeds
#: 23-28, the accompaniment's SNR: from 2 kHz 4.23 against 4.32 from 3 kHz; the ring out
#: of the sustained part only: from 1 / 2 / 3 / 4 kHz 4.25 / 4.25 / 4.29 / 4.16).
RING_HZ = 3000.0
#: The ring's decay: 60 dB in this many seconds (the same measure, the ring out of the
#: sustained part: 1 / 2 / 4 s 4.24 / 4.28 / 4.31 dB; the kit templates' own last-frame
#: ratios per band, noisy: 4.29).
RING_SECONDS = 4.0
#: Only hits whose activation reaches this share of the part's largest start a ring:
#: small activations are often music the cymbal templates took.
RING_PEAK = 0.5
#: Loud cymbals: the cymbal parts' fitted model energy above :data:`RING_HZ` over the band
#: magnitude's there, the ring's share rising from 0 to 1 between the two.  Songs whose
#: cymbals stem lost with the ring read 0.019-0.046, the loud-cymbal songs 0.036-0.11.
RING_LOUD = (0.04, 0.06)
#: Loud drums only: the ring in full up to the first :func:`~nmfaudio.drums.accompaniment.energy_share`,
#: none from the second (the weight's first segment: 0-dB songs read 0.275-0.515, -6-dB
#: songs 0.455-0.603 — untouched).
RING_ENERGY = (0.30, 0.42)


def ring_share(energy: float) -> float:
    """The ring's share for a song whose 0.7-s sustained part has this
    :func:`~nmfaudio.drums.accompaniment.energy_share`: 1 up to ``RING_ENERGY[0]``, 0 from
    ``RING_ENERGY[1]`` on, linear between."""
    return float(np.interp(energy, RING_ENERGY, (1.0, 0.0)))


def ring_envelope(start, ratio) -> np.ndarray:
    """``R[t] = max(start[t], ratio · R[t − 1])`` along the last axis, per band.

    A running maximum in the log domain, ``R[t] = ratioᵗ · maxₛ≤ₜ (start[s] / ratioˢ)``:
    no loop over frames.

    Parameters
    ----------
    start : ndarray, shape (F_b, C, N), non-negative
        Each frame's new level (0: none).
    ratio : ndarray, shape (F_b,), in (0, 1)
        Each band's decay per frame.

    Returns
    -------
    ndarray, shape (F_b, C, N), float32
    """
    start = np.asarray(start)
    ratio = np.asarray(ratio, np.float64)
    if start.ndim != 3 or ratio.shape != start.shape[:1]:
        raise ValueError(f"start must be (F_b, C, N) and ratio (F_b,), got {start.shape} and {ratio.shape}")
    if np.any(ratio <= 0) or np.any(ratio >= 1):
        raise ValueError("ratio must lie in (0, 1)")
    log_ratio = np.log(ratio)
    t = np.arange(start.shape[2], dtype=np.float64)  # float64: t · log ratio reaches ~-10^3
    # one float64 array, worked in place, and the decay's ramp made one band at a time: at
    # full resolution (bands=False) a song's high bins are ~10^8 values, and each float64
    # temporary of that size was another 0.2 GB (the same operations, the same values)
    level = start.astype(np.float64)
    np.maximum(level, 0, out=level)
    with np.errstate(divide="ignore"):
        np.log(level, out=level)
    for band, step in zip(level, log_ratio):
        band -= t * step
    np.maximum.accumulate(level, axis=2, out=level)
    for band, step in zip(level, log_ratio):
        band += t * step
    return np.exp(level, out=level).astype(np.float32)


def cymbal_ring(P_bands, H, cymbals, drums, band_magnitude, mask_sustained, band_low_hz, *, frames_per_second,
                share: float = 1.0):
    """The cymbals' predicted ring on the fit's bands, from :data:`RING_HZ` on, or None.

    Parameters
    ----------
    P_bands : ndarray, shape (F_b, K, T)
        The fitted templates on the fit's bands.
    H : ndarray, shape (K, C, N)
        The activations the masks use.
    cymbals, drums : sequence of int
        The cymbal parts and every drum part (cymbals included; not the residual's).
    band_magnitude : ndarray, shape (F_b, C, N)
        The whole band magnitude (before the sustained part left the fit).
    mask_sustained : ndarray, shape (F_b, C, N)
        The masks' sustained part before its weight.
    band_low_hz : ndarray, shape (F_b,), ascending
    frames_per_second : float
    share : float in [0, 1], default 1
        :func:`ring_share` of the song.

    Returns
    -------
    ndarray, shape (F_b, C, N), float32, zero below :data:`RING_HZ`; None when the
    share, the cymbals' loudness (:data:`RING_LOUD`) or the parts leave nothing.
    """
    cymbals, drums = list(cymbals), list(drums)
    # the bands from RING_HZ on are the last ones: a slice, so the high bands of the
    # magnitude and the sustained part are views, not copies
    high = slice(int(np.searchsorted(band_low_hz, RING_HZ)), None)
    if share <= 0 or not cymbals or high.start == len(band_low_hz):
        return None
    H_cym = H[cymbals]
    P_cym = P_bands[high][:, cymbals]
    model = convolutive_model(P_cym, H_cym)  # (F_high, C, N)
    loud = float(np.sum(np.square(model, dtype=np.float64)) /
                 max(float(np.sum(np.square(band_magnitude[high], dtype=np.float64))), 1e-30))
    share *= float(np.interp(loud, RING_LOUD, (0.0, 1.0)))
    del model  # the arrays of the high bands are let go as soon as they are used: peak memory
    if share <= 0:
        return None
    summed = H_cym.sum(axis=1)  # (n_cym, N): the large hits, channels together
    large = summed >= np.float32(RING_PEAK) * summed.max(axis=1, keepdims=True)
    hits = convolutive_model(P_cym, H_cym * large[:, None, :])
    every = convolutive_model(P_bands[high][:, drums], H[drums])
    # each hit's level in the whole magnitude: the cymbals' share of the drums and the
    # sustained part (at a crash the sustained part is mostly its earlier ring)
    with np.errstate(invalid="ignore", divide="ignore"):
        start = np.where(every > 0, band_magnitude[high] * hits / np.maximum(every + mask_sustained[high], 1e-12), 0)
    del hits, every
    ratio = np.full(len(band_low_hz) - high.start, 10 ** (-3 / (RING_SECONDS * frames_per_second)))
    envelope = ring_envelope(start, ratio)
    del start
    envelope *= np.float32(share)
    ring = np.zeros(band_magnitude.shape, np.float32)
    ring[high] = envelope
    return ring
