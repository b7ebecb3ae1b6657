"""A ride in a full song: the steady-gap gate's ride must keep one ring shape.

Arrays only.  In a song :func:`nmfaudio.drums.ride.move_strokes` (``song=True``) takes the
closed hi-hat part's hits for a ride's strokes when at least
:data:`~nmfaudio.drums.ride.SONG_STEADY_SHARE` of the counted gaps are *steady*: the ring
before a gap's end has the fine spectral shape of the gap before it and about its level.
Some drum machines' hats pass that gate — ElectricEmpireKit's (0.52-0.65 of the gaps
steady, inside the acoustic ride songs' 0.50-0.70) — and go to the cymbals stem
(docs/log/drums-full-song-decisions.md, ehat round).

**The cue.** A ride rings with the same partials all song long, so the ring at the end of
every counted gap has about one fine spectral shape (log magnitude minus its running mean
over :data:`~nmfaudio.drums.ride.DETREND_HZ`, in :data:`~nmfaudio.drums.ride.RIDE_BAND_HZ`);
consecutive gaps under one held chord are alike too, but the music's partials change
with its chords over the song, and a closed hat is gone by a gap's end.
:func:`ring_shape` is the median correlation of the gap ends' fine shapes with their
median fine shape; its level is not used.  In a song the gate's ride stands only with it
at least :data:`SHAPE_CORR` (:func:`is_shape_ride`, called from
:func:`nmfaudio.drums.separation.separate_drums`).  Measured in docs/log/drums-full-song-decisions.md,
"2026-12-04, song ride round (songride)": the acoustic tuning ride songs 0.60-0.82,
ElectricEmpireKit's hats 0.37-0.53.  As a cue that *adds* rides the gate misses it was
tried and not kept (there).
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.ride import (DETREND_HZ, RING_S, _columns_corr, _detrended_log, _frames, _gap_cue, band_rows,
                                 closed_hat_part)

__all__ = ["SONG_RING_SHAPE", "SHAPE_CORR", "ring_shape", "is_shape_ride"]

#: Whether a song's ride (the steady-gap gate's) needs the ring's shape too
#: (:func:`is_shape_ride`); a switch for the benchmark.
SONG_RING_SHAPE = True
#: The least median correlation of the counted gaps' ring shapes with their median shape
#: for a song's ride.  Measured (the module notes): the gate's rides in the acoustic
#: tuning songs 0.60-0.82, ElectricEmpireKit's hats taken by the gate 0.37-0.53.
SHAPE_CORR = 0.55


def ring_shape(band_magnitude, hat, frame_rate, bin_hz):
    """How much one fine spectral shape the ring at the counted gaps' ends keeps.

    Parameters
    ----------
    band_magnitude : ndarray, shape (F_band, N)
        The song's magnitude in the bins of :data:`~nmfaudio.drums.ride.RIDE_BAND_HZ`
        (channels summed).
    hat : ndarray, shape (N,)
        The closed hi-hat part's activation (channels summed).
    frame_rate : float
        Frames per second (``sr / hop_length``).
    bin_hz : float
        The width of a frequency bin (``sr / n_fft``).

    Returns
    -------
    float or None
        The median over the gaps counted as :func:`nmfaudio.drums.ride.is_ride_pattern`
        counts them of the correlation between each gap end's fine shape (the mean
        magnitude over the :data:`~nmfaudio.drums.ride.RING_S` before the next hit,
        detrended log) and the median of those shapes; None when too few gaps count
        (:data:`~nmfaudio.drums.ride.MIN_GAPS`) or the band is too narrow.
    """
    cue = _gap_cue(band_magnitude, hat, frame_rate, bin_hz)
    if cue is None:
        return None
    ends = cue[2]  # each counted gap's last frame
    ring = _frames(RING_S, frame_rate)
    late = sum(band_magnitude[:, ends - k] for k in range(ring)) / ring  # (F_band, n_gaps)
    shapes = _detrended_log(late, _frames(DETREND_HZ, 1 / bin_hz))
    # the median shape: the ring every gap shares (a ride's partials), not one chord's
    reference = np.median(shapes, axis=1, keepdims=True)
    return float(np.median(_columns_corr(shapes, np.broadcast_to(reference, shapes.shape))))


def is_shape_ride(H, labels, magnitude, *, sr, n_fft, hop_length) -> bool:
    """Whether a song's closed hi-hat part's hits are a ride's by :func:`ring_shape`.

    Parameters
    ----------
    H : ndarray, shape (K', C, N)
        The activations (the first K labelled).
    labels : sequence of K str
        The template parts' labels.
    magnitude : ndarray, shape (F, C, N)
        The song's magnitude spectrogram (full resolution, ``n_fft // 2 + 1`` bins).
    sr : float
        The sampling rate (Hz).
    n_fft, hop_length : int
        The STFT's frame length and hop.

    Returns
    -------
    bool
        False without a closed hi-hat part, with part of the band above the Nyquist
        frequency, or with too few counted gaps.
    """
    hat = closed_hat_part(list(labels))
    rows = band_rows(sr, n_fft, magnitude.shape[0])  # as the steady gate: the whole band or no judgement
    if hat is None or rows is None:
        return False
    shape = ring_shape(magnitude[rows].sum(axis=1), H[hat].sum(axis=0), sr / hop_length, sr / n_fft)
    return shape is not None and shape >= SHAPE_CORR

