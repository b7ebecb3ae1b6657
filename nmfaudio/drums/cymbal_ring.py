"""Does a cymbal ring in a drum recording?  Arrays only.

Crashes, rides, chinas and splashes ring: their 4-16 kHz band stays loud for half a
second and more after a stroke, while a closed hat dies within ~80 ms and an open hat is
a short burst choked by the pedal — between hat strokes the band dips.  The test: the
band's level (short frames, 11.6 ms, so the dips between sixteenth-note hats show), its
minimum over a sliding :data:`RING_SECONDS` window, and the largest such minimum
against the band's loud level (its 99th percentile).  A recording where nothing rings
has no window without a deep dip.

Measured (docs/drums-five-stems.md, seventeenth round; 22.05 kHz): kick/snare/hi-hat
grooves (24 GMRockKit grooves, 32 open-hat performances of four kits without cymbals)
at most -23.7 dB; performances with cymbals on GMRockKit, BJA_Pacific and FluidR3 kits
(tuning seeds 0, 2, 3, 4 and the user case) at least -15.6 dB.  A cymbal that does not
ring is not found: Audiophob's short crash samples read -38 to -16 dB (7 of 12
performances under the threshold).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import minimum_filter1d

__all__ = ["RING_BAND_HZ", "RING_SECONDS", "RING_DB", "ring_level_db", "cymbal_rings"]

#: The band a cymbal's ring is looked for in (Hz); up to the Nyquist frequency when lower.
RING_BAND_HZ = (4000.0, 16000.0)
#: The least time (s) the band must stay up, without a dip, to count as a ring.
RING_SECONDS = 0.6
#: A ring: the band's level over some ``RING_SECONDS`` window never under this (dB)
#: relative to its 99th percentile.  Between the measured ranges (module notes).
RING_DB = -20.0
#: The short analysis frame (s) and its hop: 256 and 64 samples at 22.05 kHz.
FRAME_SECONDS = 256 / 22050
HOP_SECONDS = 64 / 22050


def ring_level_db(y, sr) -> float:
    """The highest level (dB, relative to the band's 99th percentile) the
    :data:`RING_BAND_HZ` band keeps for :data:`RING_SECONDS` without a dip.

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_channels, n_samples)
        The recording (channels are averaged).
    sr : float
        Its sampling rate (Hz).

    Returns
    -------
    float <= 0 (dB); -inf when the band is silent or the recording shorter than the window.
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim > 1:
        y = y.mean(axis=0)
    n_fft = max(16, int(round(FRAME_SECONDS * sr)))
    hop = max(1, int(round(HOP_SECONDS * sr)))
    window_frames = int(round(RING_SECONDS * sr / hop))
    if y.size < n_fft or (y.size - n_fft) // hop + 1 <= window_frames:
        return float("-inf")
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop] * np.hanning(n_fft).astype(np.float32)
    spectra = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # (n_frames, n_fft // 2 + 1)
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    band = (freqs >= RING_BAND_HZ[0]) & (freqs < RING_BAND_HZ[1])
    energy = spectra[:, band].sum(axis=1)
    if not band.any() or energy.max() <= 0:
        return float("-inf")
    level = 10 * np.log10(energy + energy.max() * 1e-12)
    # the band's lowest level within each window: high only where something rings throughout
    floor = minimum_filter1d(level, window_frames)
    return float(floor.max() - np.percentile(level, 99))


def cymbal_rings(y, sr, *, threshold=RING_DB) -> bool:
    """Whether a cymbal rings in the recording: :func:`ring_level_db` at least ``threshold``.

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_channels, n_samples)
    sr : float
    threshold : float, default RING_DB

    Returns
    -------
    bool
    """
    return bool(ring_level_db(y, sr) >= threshold)
