"""Song mode with loud music: the toms' ring under the sustained level.  Arrays only.

The drums are fitted to what rises above the running median (the sustained part, which
the masks give to the accompaniment), so on a tom-heavy song the toms' ring is
"sustained": the toms' templates model their attacks, and the masks gave 46-67 % of the
toms' energy to the accompaniment (docs/log/drums-full-song-decisions.md, twenty-seventh round).  A
ring predicted from the large toms activations took bass notes, which those activations
often are (same round).  Here a toms onset starts a ring only if the mixture's level at
the part's own bands, weighted by its template, *falls* after it — by
:data:`FALL_DB_PER_SECOND` over the frames up to the next toms onset, at most
:data:`LOOK_SECONDS` on: a struck drum decays, a held note does not.  Each passing onset
starts a ring at the toms' share of the band magnitude, decaying 60 dB in
:data:`RING_SECONDS`, and from :data:`LOW_HZ` to :data:`HIGH_HZ` the masks move
``min(ring, the accompaniment's model)`` to the toms stem (as
:mod:`nmfaudio.drums.cymbal_ring` does for the cymbals above 3 kHz).

The other way round (:func:`held_notes`): an onset after which the level *holds* —
falls slower than :data:`HOLD_DB_PER_SECOND` — is a note the toms templates took (the
bass, mostly), and its span leaves the toms' masks model, so that the masks give it to
the accompaniment (docs/log/drums-full-song-decisions.md, thirty-second round: at −6 dB the toms stem
held 2.4 % of the drums' energy in music where the music is the louder, twice the
oracle's).  With loud drums the level is measured without the other drums' model
(``others``): a kick or snare right after a tom kept the level up, and a bass note starting
with the kick fell with the kick's decay (thirty-ninth round).
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.cymbal_ring import ring_envelope
from nmfaudio.nmf import convolutive_model

__all__ = ["FALL_DB_PER_SECOND", "HIGH_HZ", "HOLD_DB_PER_SECOND", "LOOK_SECONDS", "LOW_HZ", "ONSET_SHARE", "RING_SECONDS",
           "falling_onsets", "held_notes", "held_spans", "tom_ring"]

#: The ring is moved from this frequency (Hz) on, up to :data:`HIGH_HZ`: the toms'
#: fundamentals and first modes, where the twenty-seventh round found 56 % of the toms'
#: loss (60-120 Hz 38.9 %, 120-250 Hz 17.1 % on seed 41).
LOW_HZ = 60.0
HIGH_HZ = 250.0
#: An onset (a local maximum of a toms part's activation, channels summed) counts from
#: this share of the part's largest on; the largest are often bass notes, so not only
#: they (docs/log/drums-full-song-decisions.md, twenty-ninth round: from 0.2 0.02 dB of all drums less
#: on the screen's 14 songs at -6 dB).
ONSET_SHARE = 0.1
#: The level at the part's bands must fall at least this fast (dB per second) from the
#: onset's peak (its frame or the next) — 0.92 per frame at 43 frames per second; most
#: true toms onsets measured 0.80-0.94 per frame, most others (bass notes) 0.91-1.05.
FALL_DB_PER_SECOND = -20 * np.log10(0.92) * 44100 / 1024
#: An onset whose level falls slower than this (dB per second; 0.95 per frame at 43 frames
#: per second) holds: a note the toms templates took.  Slower than the fall's
#: threshold, so that the onsets in between (0.92-0.95 per frame) are neither a ring nor
#: a note (thirty-second round: with the fall's 0.92 the tom-heavy seed 44 GMRockKit
#: lost 0.63 dB of all drums at -6 dB, with 0.95 0.44, the 42 tuning songs' mean the same).
HOLD_DB_PER_SECOND = -20 * np.log10(0.95) * 44100 / 1024
#: ... measured at most this far on (4 frames at 44.1 kHz), or up to the frame before the
#: next toms onset; an onset with less than two frames to look at does not start a ring.
LOOK_SECONDS = 4 * 1024 / 44100
MIN_FRAMES = 2
#: The ring's decay: 60 dB in this many seconds.
RING_SECONDS = 1.0


def _onset_levels(H_toms, level, frames_per_second):
    """The toms onsets and the level's change after each (:func:`falling_onsets`).

    Returns
    -------
    part, t0, next_onset, span, peak, end : ndarray, shape (n_onsets,)
        Each onset's part and frame, the frame of the next toms onset of any part (N if
        none), the frames looked at (from the onset to ``look`` on or the frame before
        the next onset; under :data:`MIN_FRAMES`: not measured), the onset's peak level
        (its frame or the next) and the level at the last frame looked at.
    """
    n, N = H_toms.shape
    before = np.concatenate([np.zeros((n, 1), H_toms.dtype), H_toms[:, :-1]], axis=1)
    after = np.concatenate([H_toms[:, 1:], np.zeros((n, 1), H_toms.dtype)], axis=1)
    large = H_toms >= np.float32(ONSET_SHARE) * H_toms.max(axis=1, keepdims=True)
    onsets = large & (H_toms >= before) & (H_toms > after) & (H_toms > 0)
    any_onset = np.flatnonzero(onsets.any(axis=0))
    look = max(int(round(LOOK_SECONDS * frames_per_second)), MIN_FRAMES)
    part, t0 = np.nonzero(onsets)
    # the frame the level is measured at: `look` on, or before the next toms onset
    following = np.searchsorted(any_onset, t0, side="right")
    next_onset = np.where(following < any_onset.size, any_onset[np.minimum(following, any_onset.size - 1)], N)
    t1 = np.minimum(np.minimum(t0 + look, next_onset - 1), N - 1)
    peak = np.maximum(level[part, t0], level[part, np.minimum(t0 + 1, N - 1)])
    return part, t0, next_onset, t1 - t0, peak, level[part, t1]


def _per_frame(db_per_second, frames_per_second):
    """A level change in dB per second as a ratio per frame."""
    return 10 ** (-db_per_second / (20 * frames_per_second))


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
    part, t0, _, span, peak, end = _onset_levels(H_toms, level, frames_per_second)
    falls = (span >= MIN_FRAMES) & (end <= peak * _per_frame(FALL_DB_PER_SECOND, frames_per_second) ** span)
    keep = np.zeros(H_toms.shape, bool)
    keep[part[falls], t0[falls]] = True
    return keep


def held_spans(H_toms, level, *, frames_per_second) -> np.ndarray:
    """Where the toms parts' activations follow an onset whose level holds.

    Parameters
    ----------
    H_toms, level, frames_per_second
        As :func:`falling_onsets`'s.

    Returns
    -------
    ndarray, float32, shape (n, N): 1 from the frame before each onset whose level, over
    at least :data:`MIN_FRAMES` frames, falls slower than :data:`HOLD_DB_PER_SECOND`
    (the note's rise and the frames it holds) up to the frame before the next toms
    onset of any part, else 0.
    """
    part, t0, next_onset, span, peak, end = _onset_levels(H_toms, level, frames_per_second)
    holds = (span >= MIN_FRAMES) & (end > peak * _per_frame(HOLD_DB_PER_SECOND, frames_per_second) ** span)
    out = np.zeros(H_toms.shape, np.float32)
    for p, start, stop in zip(part[holds], t0[holds], next_onset[holds]):
        out[p, max(start - 1, 0):stop] = 1
    return out


def _levels(P_bands, band_magnitude, toms, low, high):
    """Each toms part's level: the band magnitude from band ``low`` to ``high``,
    channels summed, weighted by the part's template at its loudest; (n, N)."""
    weights = P_bands[low:high][:, toms].max(axis=2)  # (F_l, n)
    weights = weights / np.maximum(weights.sum(axis=0, keepdims=True), 1e-12)
    return weights.T @ band_magnitude[low:high].sum(axis=1)


def held_notes(P_bands, H, toms, band_magnitude, band_low_hz, *, frames_per_second, others=()):
    """The toms parts' spans that are notes they took (:func:`held_spans` at the level
    from :data:`LOW_HZ` to :data:`HIGH_HZ`), or None.

    Parameters
    ----------
    P_bands : ndarray, shape (F_b, K, T)
    H : ndarray, shape (K, C, N)
    toms : sequence of int
        The toms parts (indices into K).
    band_magnitude : ndarray, shape (F_b, C, N)
    band_low_hz : ndarray, shape (F_b,)
    frames_per_second : float
    others : sequence of int, default ()
        Other drum parts (indices into K) whose model (``P_bands`` convolved with ``H``)
        is taken out of the band magnitude, clipped at 0, before the level is measured:
        with loud drums the level at the toms' bands is mostly drums, so a kick or snare
        right after a tom kept it up (a struck tom judged a held note) and a bass note
        starting with the kick fell with the kick's decay (judged a drum).

    Returns
    -------
    ndarray, float32, shape (len(toms), N), or None when there are no toms parts or no
    bands in the range.
    """
    toms, others = list(toms), list(others)
    low, high = (int(np.searchsorted(band_low_hz, hz)) for hz in (LOW_HZ, HIGH_HZ))
    if not toms or high <= low:
        return None
    band = band_magnitude[low:high]
    if others:  # what the other drums leave: (F_l, C, N)
        band = np.maximum(band - convolutive_model(P_bands[low:high][:, others], H[others]), 0)
    level = _levels(P_bands[low:high], band, toms, 0, high - low)
    return held_spans(H[toms].sum(axis=1), level, frames_per_second=frames_per_second)


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
    level = _levels(P_bands, band_magnitude, toms, low, high)  # (n, N)
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
