"""Song mode with loud music: the toms' ring under the sustained level.  Arrays only.

The drums are fitted to what rises above the running median (the sustained part, which
the masks give to the accompaniment), so on a tom-heavy song the toms' ring is
"sustained": the toms' templates model their attacks, and the masks gave 46-67 % of the
toms' energy to the accompaniment (docs/drums-full-song.md, twenty-seventh round).  A
ring predicted from the large toms activations took bass notes, which those activations
often are (same round).  Here a toms onset starts a ring only if the mixture's level at
the part's own bands, weighted by its template, *falls* after it — by
:data:`FALL_DB_PER_SECOND` over the frames up to the next toms onset, at most
:data:`LOOK_SECONDS` on: a struck drum decays, a held note does not.  Each passing onset
starts a ring at the toms' share of the band magnitude, decaying 60 dB in
:data:`RING_SECONDS`, and from :data:`LOW_HZ` to :data:`HIGH_HZ` the masks move
``min(ring, the accompaniment's model)`` to the toms stem (as
:mod:`nmfaudio.drums.cymbal_ring` does for the cymbals above 3 kHz).
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.cymbal_ring import ring_envelope
from nmfaudio.nmf import convolutive_model

__all__ = ["FALL_DB_PER_SECOND", "HIGH_HZ", "LOOK_SECONDS", "LOW_HZ", "ONSET_SHARE", "RING_SECONDS", "falling_onsets",
           "tom_ring"]

#: The ring is moved from this frequency (Hz) on, up to :data:`HIGH_HZ`: the toms'
#: fundamentals and first modes, where the twenty-seventh round found 56 % of the toms'
#: loss (60-120 Hz 38.9 %, 120-250 Hz 17.1 % on seed 41).
LOW_HZ = 60.0
HIGH_HZ = 250.0
#: An onset (a local maximum of a toms part's activation, channels summed) counts from
#: this share of the part's largest on; the largest are often bass notes, so not only
#: they (docs/drums-full-song.md, twenty-ninth round: from 0.2 0.02 dB of all drums less
#: on the screen's 14 songs at -6 dB).
ONSET_SHARE = 0.1
#: The level at the part's bands must fall at least this fast (dB per second) from the
#: onset's peak (its frame or the next) — 0.92 per frame at 43 frames per second; most
#: true toms onsets measured 0.80-0.94 per frame, most others (bass notes) 0.91-1.05.
FALL_DB_PER_SECOND = -20 * np.log10(0.92) * 44100 / 1024
#: ... measured at most this far on (4 frames at 44.1 kHz), or up to the frame before the
#: next toms onset; an onset with less than two frames to look at does not start a ring.
LOOK_SECONDS = 4 * 1024 / 44100
MIN_FRAMES = 2
#: The ring's decay: 60 dB in this many seconds.
RING_SECONDS = 1.0


def falling_onsets(H_toms, level, *, frames_per_second) -> np.ndarray:
    """Which toms onsets are followed by a falling level.

    Parameters
    ----------
    H_toms : ndarray, shape (n, N)
        The toms parts' activations, channels summed.
    level : ndarray, shape (n, N)
        The mixture's level at each part's bands (the band magnitude weighted by the
        part's template, channels summed).
    frames_per_second : float

    Returns
    -------
    ndarray of bool, shape (n, N): the onsets that start a ring.
    """
    n, N = H_toms.shape
    before = np.concatenate([np.zeros((n, 1), H_toms.dtype), H_toms[:, :-1]], axis=1)
    after = np.concatenate([H_toms[:, 1:], np.zeros((n, 1), H_toms.dtype)], axis=1)
    large = H_toms >= np.float32(ONSET_SHARE) * H_toms.max(axis=1, keepdims=True)
    onsets = large & (H_toms >= before) & (H_toms > after) & (H_toms > 0)
    any_onset = np.flatnonzero(onsets.any(axis=0))
    look = max(int(round(LOOK_SECONDS * frames_per_second)), MIN_FRAMES)
    per_frame = 10 ** (-FALL_DB_PER_SECOND / (20 * frames_per_second))
    part, t0 = np.nonzero(onsets)
    # the frame the fall is measured at: `look` on, or before the next toms onset
    following = np.searchsorted(any_onset, t0, side="right")
    next_onset = np.where(following < any_onset.size, any_onset[np.minimum(following, any_onset.size - 1)], N)
    t1 = np.minimum(np.minimum(t0 + look, next_onset - 1), N - 1)
    peak = np.maximum(level[part, t0], level[part, np.minimum(t0 + 1, N - 1)])
    falls = (t1 - t0 >= MIN_FRAMES) & (level[part, t1] <= peak * per_frame ** (t1 - t0))
    keep = np.zeros_like(onsets)
    keep[part[falls], t0[falls]] = True
    return keep


def tom_ring(P_bands, H, toms, drums, band_magnitude, mask_sustained, band_low_hz, *, frames_per_second,
             share: float = 1.0):
    """The toms' predicted ring on the fit's bands, from :data:`LOW_HZ` to :data:`HIGH_HZ`, or None.

    Parameters
    ----------
    P_bands, H, toms, drums, band_magnitude, mask_sustained, band_low_hz, frames_per_second
        As :func:`~nmfaudio.drums.cymbal_ring.cymbal_ring`'s (P_bands (F_b, K, T), H
        (K, C, N), band_magnitude and mask_sustained (F_b, C, N), band_low_hz (F_b,)),
        ``toms`` in place of its ``cymbals``.
    share : float in [0, 1], default 1
        The song's hit levels' share (:func:`~nmfaudio.drums.accompaniment.hit_share`).

    Returns
    -------
    ndarray, shape (F_b, C, N), float32, zero outside the band; None when the share,
    the parts or the onsets leave nothing.
    """
    toms, drums = list(toms), list(drums)
    low, high = (int(np.searchsorted(band_low_hz, hz)) for hz in (LOW_HZ, HIGH_HZ))
    if share <= 0 or not toms or high <= low:
        return None
    band = band_magnitude[low:high]  # (F_l, C, N), a view
    P_toms = P_bands[low:high][:, toms]  # (F_l, n, T)
    H_toms = H[toms]
    weights = P_toms.max(axis=2)  # each part's spectrum at its loudest
    weights = weights / np.maximum(weights.sum(axis=0, keepdims=True), 1e-12)
    level = weights.T @ band.sum(axis=1)  # (n, N)
    keep = falling_onsets(H_toms.sum(axis=1), level, frames_per_second=frames_per_second)
    if not keep.any():
        return None
    hits = convolutive_model(P_toms, H_toms * keep[:, None, :])
    every = convolutive_model(P_bands[low:high][:, drums], H[drums])
    # each hit's level in the whole magnitude: the toms' share of the drums and the
    # sustained part (in a fill the sustained part is mostly the toms' earlier ring)
    with np.errstate(invalid="ignore", divide="ignore"):
        start = np.where(every > 0, band * hits / np.maximum(every + mask_sustained[low:high], 1e-12), 0)
    ratio = np.full(high - low, 10 ** (-3 / (RING_SECONDS * frames_per_second)))
    envelope = ring_envelope(start, ratio)
    envelope *= np.float32(share)
    ring = np.zeros(band_magnitude.shape, np.float32)
    ring[low:high] = envelope
    return ring
