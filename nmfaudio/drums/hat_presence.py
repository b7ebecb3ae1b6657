"""Song mode: does the hi-hat stem hold hats?  Arrays only.

In a song whose drummer plays no hats, or hats 25-35 dB under the drums, the hi-hat
parts (which may adapt 20 dB) take what else is there: the guitar or synth lead, the
snare, the ride.  What tells them apart is where the fitted hat model's energy lies: a
hat part that explains hats has nearly all of its model above 5 kHz in a song (the
sustained part is kept out of the fit), one that took a guitar or the snare has a
large share below.  Measured (docs/log/drums-full-song-decisions.md, fifteenth round) on the
benchmark's songs, GMRockKit and BJA_Pacific at -6 dB: songs with hats at 1.6-4 % of
the drums' energy 0.917-0.981 above 5 kHz; songs with hats at 0.05-0.3 % 0.486-0.871,
except the two seed-7 songs, whose hat stem holds a shaker (0.942, 0.969: as high as
hats, not told apart).  Drum recordings are not tested: there GMRockKit's real hats hold
49-71 % of their energy below 5 kHz (the tuning performances at 22.05 kHz).
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.templates import class_of
from nmfaudio.drums.times import peak_frames
from nmfaudio.nmf import convolutive_model

__all__ = ["AT_SNARE_MAX", "HAT_HIGH_HZ", "HAT_HIGH_SHARE", "HAT_MIN_SR", "SNARE_PEAK_SHARE", "at_snare_share",
           "hat_high_share", "hats_absent", "hats_at_snare"]

#: The band the hats live in (Hz): their fitted model's energy share above it decides.
HAT_HIGH_HZ = 5000.0
#: Under this share of the hat parts' model energy above :data:`HAT_HIGH_HZ` a song's hat
#: parts are judged to hold no hats (their stem is left silent).  Between the measured
#: ranges (songs with hats from 0.917 on, songs without up to 0.871; the song with hats
#: 22 dB under the drums, seed 4 GMRockKit, 0.813, is judged without).
HAT_HIGH_SHARE = 0.9
#: The lowest sampling rate (Hz) the test runs at.  It was measured at 44.1 kHz, where
#: much of a hat's model lies above 11 kHz; the same songs rendered at 22.05 kHz read
#: 0.742-0.955 with hats (GMRockKit's darker hats 0.742-0.868) and 0.131-0.855 without
#: (the share up to 11 kHz at 44.1 kHz overlaps too): no threshold between, so not tested.
HAT_MIN_SR = 44100
#: Over this share of the hat parts' fitted model (its magnitude summed over the bands) within
#: a frame of the snare's hits, a song's hat parts are judged to hold no hats either: they
#: explain the snare's noise and a drum machine's cymbal or percussion struck with it, not
#: a hat pattern (their share then goes to the cymbals stem, not the accompaniment).
#: Eighth-note hats with the snare on 2 and 4 hold 0.25-0.34 of their energy at its hits, but
#: the fitted hat model reads far less there (the snare's parts take those cells): loud hats
#: (-12 dB from the kick) on 20 acoustic tuning songs were judged in none.  Measured
#: (docs/log/drums-full-song-decisions.md, songelec58) on the
#: electronic tuning songs at -6 and 0 dB: hat stems holding mostly other drums 0.12-0.29,
#: stems holding mostly hats 0.10-0.20; acoustic tuning songs with hats from 1 % of the
#: drums' energy 0.06-0.17, the two seed-7 songs (a shaker in the hat stem) 0.22-0.27.
AT_SNARE_MAX = 0.2
#: The snare's hits for :data:`AT_SNARE_MAX`: local maxima of its parts' summed activation
#: from this share of its largest (as ``snare_wires.SNARE_PEAK_SHARE``).
SNARE_PEAK_SHARE = 0.2


def _hat_model(P_bands, H, labels):
    """The hi-hat parts' fitted model on the fit's bands, float64 (F_b, N), or None when
    no label is a hi-hat part."""
    hats = [k for k, label in enumerate(labels) if class_of(label) == "hihat"]
    if not hats:
        return None
    return convolutive_model(P_bands[:, hats], H[hats]).astype(np.float64)


def hat_high_share(P_bands, H, labels, band_low_hz) -> float:
    """The share of the hi-hat parts' fitted model energy in the bands from
    :data:`HAT_HIGH_HZ` on.

    Parameters
    ----------
    P_bands : ndarray, shape (F_b, K, T)
        The fitted templates on the fit's bands.
    H : ndarray, shape (K, N)
        Their activations (channels summed).
    labels : sequence of K str
        The templates' labels; the hi-hat parts (``class_of(label) == "hihat"``) count.
    band_low_hz : ndarray, shape (F_b,)
        Each band's lowest frequency.

    Returns
    -------
    float in [0, 1], or NaN when there are no hat parts or their model is silent.
    """
    model = _hat_model(P_bands, H, labels)  # (F_b, N)
    if model is None:
        return float("nan")
    energy = np.einsum("fn,fn->f", model, model)
    total = energy.sum()
    if total <= 0:
        return float("nan")
    return float(energy[np.asarray(band_low_hz) >= HAT_HIGH_HZ].sum() / total)


def at_snare_share(P_bands, H, labels) -> float:
    """The share of the hi-hat parts' fitted model within a frame of the snare's hits.

    Parameters
    ----------
    P_bands : ndarray, shape (F_b, K, T)
        The fitted templates on the fit's bands.
    H : ndarray, shape (K, N)
        Their activations (channels summed).
    labels : sequence of K str
        The templates' labels: the hi-hat parts' model is measured at the snare parts' hits
        (local maxima of their summed activation from :data:`SNARE_PEAK_SHARE` of its largest).

    Returns
    -------
    float in [0, 1], or NaN when there are no hat or snare parts or the hat model is silent.
    """
    model = _hat_model(P_bands, H, labels)
    snares = [k for k, label in enumerate(labels) if class_of(label) == "snare"]
    if model is None or not snares:
        return float("nan")
    per_frame = model.sum(axis=0)  # (N,)
    total = per_frame.sum()
    if total <= 0:
        return float("nan")
    at = np.zeros(per_frame.shape[0], bool)
    for p in peak_frames(np.asarray(H[snares], dtype=np.float64).sum(axis=0), SNARE_PEAK_SHARE):
        at[max(0, p - 1):p + 2] = True
    return float(per_frame[at].sum() / total)


def hats_absent(P_bands, H, labels, band_low_hz, *, sr, threshold=HAT_HIGH_SHARE) -> bool:
    """Whether a song's hi-hat parts hold no hats: :func:`hat_high_share` under
    ``threshold``.

    Parameters
    ----------
    P_bands, H, labels, band_low_hz
        As in :func:`hat_high_share`: shapes (F_b, K, T), (K, N), K labels and (F_b,).
    sr : float
        The sampling rate (Hz): under :data:`HAT_MIN_SR` nothing is judged.
    threshold : float, default HAT_HIGH_SHARE
        The least share above :data:`HAT_HIGH_HZ` of a hat model that holds hats.

    Returns
    -------
    bool
        False when there is nothing to judge (no hat parts, a silent hat model) or
        ``sr`` is under :data:`HAT_MIN_SR`.
    """
    if sr < HAT_MIN_SR:
        return False
    share = hat_high_share(P_bands, H, labels, band_low_hz)
    return bool(np.isfinite(share) and share < threshold)


def hats_at_snare(P_bands, H, labels, *, sr, limit=None) -> bool:
    """Whether a song's hi-hat parts sit at the snare's hits rather than play hats:
    :func:`at_snare_share` over ``limit``.

    Parameters
    ----------
    P_bands, H, labels
        As in :func:`at_snare_share`: shapes (F_b, K, T), (K, N) and K labels.
    sr : float
        The sampling rate (Hz): under :data:`HAT_MIN_SR` nothing is judged.
    limit : float, optional
        The largest share at the snare's hits of a hat model that plays hats; None (the
        default) reads :data:`AT_SNARE_MAX` at the call (None there: never judged).

    Returns
    -------
    bool
        False when there is nothing to judge (no hat or snare parts, a silent hat model).
    """
    limit = AT_SNARE_MAX if limit is None else limit
    if sr < HAT_MIN_SR or limit is None:
        return False
    share = at_snare_share(P_bands, H, labels)
    return bool(np.isfinite(share) and share > limit)
