"""The recording's effective bandwidth, read off the magnitude spectrogram the separation
already has.

Many 44.1/48-kHz files hold nothing above some frequency: material upsampled from 22.05 or
32 kHz, low-bitrate MP3s (lowpass 16 kHz or lower), phone and video audio.  Above the
bundled templates' own Nyquist frequency (11.025 kHz) the converted hat templates predict
energy there (``DrumTemplates.convert``), which such a recording does not have: the hats'
activations then fall, and their hits go elsewhere (docs/drums-five-stems.md, 2026-12-05).

The estimate: the highest bin whose long-term mean magnitude is within
:data:`FLOOR_DB` of the loudest bin's.  A resampler's or an MP3's stopband lies 100 dB and
more below a drum recording's loudest bin (measured: −100 to −137 dB on the five-stem
tuning set lowpassed at 8-16 kHz, the bundled loop resampled to 44.1-96 kHz), while the
top bins of full-band recordings and songs stayed within −45 to −71 dB of it.  librosa's
``spectral_rolloff`` is an energy fraction: the band above a cut holds 1e-7 of the energy
or less, beyond float32's cumulative sum.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CUT_BELOW_HZ", "FLOOR_DB", "FULL_BAND_SHARE", "HAT_BAND_HZ", "BEYOND_TEMPLATES", "bandwidth_hz",
           "band_limit_hz", "band_beyond_templates_hz", "rate_for_band"]

#: A bin is in the recording's band while its long-term mean magnitude is within this many
#: dB of the loudest bin's (see the module docstring for the measured margins).
FLOOR_DB = 90.0

#: An estimate at or above this share of the Nyquist frequency is full band: nothing is cut
#: (an ADC's anti-alias filter, a 44.1-kHz source at 48 kHz; full-band recordings stay as
#: they were).  The five-stem tuning renders at 48 kHz, from 44.1-kHz one-shots, read
#: 21.57-24 kHz (0.899-1 of 24 kHz; 0.9 cut one of them); at 44.1 kHz 21.70-22.05 kHz;
#: lowpassed at 16 kHz 16.9-17.6 kHz (0.73-0.78 of 22.05 kHz).
FULL_BAND_SHARE = 0.85

#: Nothing is cut either when the band reaches this frequency (Hz): the step acts on
#: material with a wide missing band (upsampled from 22.05 kHz: a band of 11.025 kHz; from
#: 32 kHz; a strong lowpass), not on a lowpass near 16 kHz (a 128-kbit/s MP3's).  Read off
#: the 44.1-kHz tuning set (seeds 0, 2, 4, 6, 8; docs/log/drums-five-stems-decisions.md,
#: the bandlimit2 round): lowpassed at 11 kHz (bands read 12.5-13.1 kHz) the cut gained on
#: every seed, mean3 7.50 -> 9.05 dB; at 13 and 16 kHz (bands 14.3-15.0 and 16.9-17.6 kHz)
#: its changes were mixed in sign and within the draws' noise (mean3 +0.12, +0.07).
CUT_BELOW_HZ = 14000.0


def bandwidth_hz(magnitude, freqs, *, edge_frames: int = 0) -> float:
    """The highest frequency whose long-term mean magnitude is within :data:`FLOOR_DB` of
    the loudest bin's (DC left out: an offset is not the recording's band).

    Parameters
    ----------
    magnitude : ndarray, shape (n_freq, ..., n_frames)
        A magnitude spectrogram, frequency first and frames last (e.g. (F, C, N)).
    freqs : ndarray, shape (n_freq,)
        Each bin's frequency (Hz), increasing.
    edge_frames : int, default 0
        Frames left out at each end (when more remain): a centred STFT's first and last
        frames reach into its padding, whose step in a recording that starts or ends
        mid-sound leaks into every bin (white noise lowpassed at 8 kHz, 4 s: −79 dB above
        the cut with them, −136 dB without).

    Returns
    -------
    float
        That bin's frequency (Hz); the top bin's for a silent input.
    """
    magnitude = np.asarray(magnitude)
    if magnitude.shape[-1] > 2 * edge_frames:
        magnitude = magnitude[..., edge_frames:magnitude.shape[-1] - edge_frames]
    # summed along the frames (the contiguous axis of the separation's (F, C, N) view), then
    # over the channels: no reshaped copy (the 3-minute stereo song's 0.15 s -> 0.02 s)
    per_bin = magnitude.sum(axis=-1, dtype=np.float64).reshape(len(freqs), -1)
    level = per_bin.sum(axis=1) / (magnitude.size // len(freqs))
    peak = level[1:].max() if len(level) > 1 else level.max()
    if peak <= 0:
        return float(freqs[-1])
    inside = np.flatnonzero(level[1:] >= peak * 10 ** (-FLOOR_DB / 20)) + 1
    return float(freqs[inside[-1]])


def band_limit_hz(magnitude, freqs, *, sr: int, n_fft: int, hop_length: int,
                  above_hz: float | None) -> float | None:
    """Where the templates should stop: the recording's bandwidth (:func:`bandwidth_hz`)
    when it is below :data:`FULL_BAND_SHARE` of the Nyquist frequency and below
    :data:`CUT_BELOW_HZ`, but not below
    ``above_hz`` (the templates' own Nyquist frequency: below it they hold what they
    measured, as at their own rate); None when nothing is cut.

    Parameters
    ----------
    magnitude : ndarray, shape (n_freq, ..., n_frames)
        The recording's centred magnitude spectrogram, frequency first, frames last.
    freqs : ndarray, shape (n_freq,)
        Each bin's frequency (Hz).
    sr, n_fft, hop_length : int
        The recording's sampling rate (Hz) and its STFT's size and hop (samples): the
        frames within ``n_fft / 2`` of either end reach into the padding and are left out.
    above_hz : float or None
        The templates' own Nyquist frequency when ``sr`` is above their rate, else None
        (nothing is cut: their band is the recording's).

    Returns
    -------
    float or None
        Templates are zero in the bins above this frequency (Hz); None: nothing changes.
    """
    if above_hz is None:
        return None
    found = bandwidth_hz(magnitude, freqs, edge_frames=-(-(n_fft // 2) // hop_length))
    if found >= min(FULL_BAND_SHARE * sr / 2, CUT_BELOW_HZ):
        return None
    return max(found, float(above_hz))


#: Templates whose band stops below this frequency (Hz: learned below 20 kHz) lack much of the
#: hats' band.  Measured (2026-12-06, polish15; hi-hat SDR, dB, the bundled loop's FluidR3
#: one-shots learned with ``nmfaudio templates learn --sr R``): on the loop at 22.05 kHz,
#: templates learned at 8 / 11.025 / 16 / 22.05 kHz gave 0.67 / 0.33 / 3.34 / 8.50; on it
#: resampled to 44.1 kHz 0.83 / 0.44 / 3.27 / 8.90; rendered at 44.1 kHz 1.67 / 1.24 / 0.92 /
#: 9.82 (learned at 44.1 kHz: 9.93).  Templates stopping at 11.025 kHz (the bundled ones
#: too) lost nothing worth a word; below, the hats went to the cymbals and the residual.
HAT_BAND_HZ = 10000.0

#: ... and the recording's band (:func:`bandwidth_hz`) reaches at least this many times
#: their top (a recording at their own rate: 1).
BEYOND_TEMPLATES = 1.25


def band_beyond_templates_hz(magnitude, freqs, *, n_fft: int, hop_length: int,
                             above_hz: float | None) -> float | None:
    """The recording's bandwidth (Hz) when templates made at a lower rate stop short of the
    hats' band (their Nyquist frequency ``above_hz`` below :data:`HAT_BAND_HZ`) and the
    recording reaches :data:`BEYOND_TEMPLATES` times above it; else None.

    Parameters are :func:`band_limit_hz`'s; ``above_hz`` None (the recording is not above
    the templates' rate) or at least :data:`HAT_BAND_HZ` returns None without reading
    ``magnitude``.
    """
    if above_hz is None or above_hz >= HAT_BAND_HZ:
        return None
    found = bandwidth_hz(magnitude, freqs, edge_frames=-(-(n_fft // 2) // hop_length))
    return found if found >= BEYOND_TEMPLATES * above_hz else None


def rate_for_band(band_hz: float, sr: int) -> int:
    """The rate to learn templates at for a recording at ``sr`` whose band reaches
    ``band_hz``: ``sr`` itself when it is full band (:data:`FULL_BAND_SHARE`), else the
    lowest of 22050, 32000, 44100 and 48000 Hz that holds the band (templates learned at
    44.1 kHz lost the hats of the loop upsampled from 22.05 kHz: 1.71 dB, at 22.05 kHz 8.90)."""
    if band_hz >= FULL_BAND_SHARE * sr / 2:
        return int(sr)
    return next((rate for rate in (22050, 32000, 44100, 48000) if 2 * band_hz <= rate < sr), int(sr))
