"""Song mode: a held, harmonic bass note's cells leave the kick and toms stems.  Arrays only.

In a song the kick and toms templates also take the bass below 250 Hz: their decays (the
toms' 24 frames, the kick's tail) lie over the bass notes that start with or after a hit.
On the acoustic tuning songs with a synth bass (GM 38; seeds 0, 4, 27, 28, 42 and 1), at
-6 / +6 dB 37 / 30 % of the bass in the kick and toms stems lay in cells where the bass
was 10 dB above every drum (docs/log/drums-full-song-decisions.md, "song bass round").  The synth bass
decays about as fast as a tom rings (half of its energy below 250 Hz falls 0.4-1.5 dB
per 23-ms frame), so neither its sustain nor a steady pitch alone tells it from a tom: a
held level over the next 0.14 s kept 52-58 % of that bass but 12-15 % of the stems'
drums.  What a drum lacks is a *harmonic* partner: a bass note (a sawtooth-like tone) has
a spectral peak at twice its partial's frequency, a membrane's modes are not harmonic and
a kick's glide or an 808's sine have none.

A cell (bin, frame) below :data:`LOW_HZ` is a bass line's when, in the mixture's
magnitude of its channel,

* it is a spectral peak: a local maximum over frequency at least :data:`PEAK_RATIO`
  times the median of the :data:`PEAK_WIDTH` bins around it;
* its level holds: the smallest level over the next :data:`HOLD_SECONDS` is at least
  :data:`HOLD_SHARE` of its own (a kick's decay falls below it within a few frames);
* a peak whose level holds the same way lies at twice its frequency (within one bin).

The kick and toms stems lose those cells: their masks there are 0
(:func:`nmfaudio.drums.resynthesis.masked_stems`, ``leave_out``), so the residual, the
mixture minus the drum stems, gets them.  This module only decides the cells.  The fit,
the masks of the other stems and the reported activations are unchanged.  On the 24 songs
measured (seeds 0, 1, 4, 27, 28, 42, both kits, -6 / +6 dB) the cue's cells held 16 %
(-6 dB) / 14 % of the bass in the two stems and 4.5 / 3.9 % of the drums there (harmonic
peak only), with the hold 11 / 10 % of the bass and 0.3 / 0.6 % of the drums.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter, minimum_filter1d

from nmfaudio._validation import check_number

__all__ = ["BASS_LINES", "CLASSES", "HOLD_SECONDS", "HOLD_SHARE", "LOW_HZ", "PEAK_RATIO", "PEAK_WIDTH",
           "bass_cells", "channel_cells"]

#: Switch: False leaves the kick and toms stems as the masks made them.
BASS_LINES = True
#: The stems the bass lines leave.
CLASSES = ("kick", "toms")
#: Only bins below this frequency (Hz): the bass's fundamentals and low partials, where
#: the kick and toms stems hold it.
LOW_HZ = 250.0
#: A spectral peak: at least this many times the median over :data:`PEAK_WIDTH` bins.
PEAK_RATIO = 2.0
#: Width (bins) of that frequency median (7 bins of 10.8 Hz at 44.1 kHz / 4096).
PEAK_WIDTH = 7
#: The level must hold this long after the cell (6 frames of 23.2 ms; 4 frames lost:
#: the kick's decay passed, 8 gave the same as 6).
HOLD_SECONDS = 0.14
#: ... at this share of the cell's own level or more.
HOLD_SHARE = 0.5


def _peaks(magnitude: np.ndarray) -> np.ndarray:
    """Spectral peaks of ``magnitude`` (F, N): local maxima over frequency at least
    :data:`PEAK_RATIO` times the median of the :data:`PEAK_WIDTH` bins around them.
    Returns bool (F, N)."""
    level = median_filter(magnitude, size=(PEAK_WIDTH, 1), mode="nearest")
    padded = np.pad(magnitude, ((1, 1), (0, 0)), mode="edge")
    local = (magnitude >= padded[:-2]) & (magnitude >= padded[2:])
    return local & (magnitude >= PEAK_RATIO * level) & (magnitude > 0)


def bass_cells(magnitude, *, sr: float, n_fft: int, hop_length: int) -> np.ndarray:
    """The cells of a held, harmonic bass line below :data:`LOW_HZ`.

    Parameters
    ----------
    magnitude : ndarray, shape (n_freq, n_frames)
        One channel's mixture magnitude, ``n_freq = 1 + n_fft // 2``.
    sr : float
        Sample rate (Hz).
    n_fft, hop_length : int
        The STFT's frame length and hop.

    Returns
    -------
    ndarray of bool, shape (n_low, n_frames)
        True where the cell is a bass line's; ``n_low`` the bins below :data:`LOW_HZ`.
    """
    check_number(sr, "sr", minimum=0, strict=True)
    F, N = np.shape(magnitude)
    n_low = int(min(F, np.ceil(LOW_HZ * n_fft / sr)))
    if n_low < 1 or N == 0:
        return np.zeros((max(n_low, 0), N), dtype=bool)
    # only the rows the cue reads: up to one bin over twice LOW_HZ, plus the peaks' median
    # and neighbours (the same cells as on the whole spectrum, far less work on a long song)
    F = int(min(F, 2 * n_low + 2 + PEAK_WIDTH))
    magnitude = np.asarray(magnitude[:F], dtype=np.float64)
    # the level over [t, t + hold - 1] stays at HOLD_SHARE of the cell's or above
    hold = max(1, int(round(HOLD_SECONDS * sr / hop_length)))
    twice = np.minimum(2 * np.arange(n_low), F - 1)
    rows = np.unique(np.concatenate([np.arange(n_low), twice - 1, twice, np.minimum(twice + 1, F - 1)]))
    rows = rows[rows >= 0]
    ahead = np.zeros_like(magnitude)
    ahead[rows] = minimum_filter1d(magnitude[rows], hold, axis=1, origin=-(hold // 2), mode="nearest")
    held = _peaks(magnitude) & (ahead >= HOLD_SHARE * magnitude)
    # ... at a peak that holds, with one that holds within one bin of twice its frequency:
    # the note's next harmonic (a tom's modes are not harmonic, a kick's glide falls)
    near = maximum_filter1d(held.astype(np.uint8), 3, axis=0, mode="constant").astype(bool)
    cells = held[:n_low] & near[twice]
    cells[0] = False  # DC has no harmonic
    return cells


def channel_cells(magnitude, *, sr: float, n_fft: int, hop_length: int) -> np.ndarray:
    """:func:`bass_cells` of each channel: the cells the kick and toms stems leave
    (:func:`nmfaudio.drums.resynthesis.masked_stems`' ``leave_out``).

    Parameters
    ----------
    magnitude : ndarray, shape (n_freq, C, n_frames)
        The mixture's magnitude per channel (the masks' STFT: ``n_fft``, ``hop_length``).
    sr : float
    n_fft, hop_length : int

    Returns
    -------
    ndarray of bool, shape (C, n_low, n_frames)
        True where the cell is a bass line's in that channel; ``n_low`` the bins below
        :data:`LOW_HZ`.
    """
    n_channels = np.shape(magnitude)[1]
    return np.stack([bass_cells(magnitude[:, c, :], sr=sr, n_fft=n_fft, hop_length=hop_length)
                     for c in range(n_channels)])
