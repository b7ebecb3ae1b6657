"""Drums out of a full song: the accompaniment's share of the spectrogram, and whether a
recording has one.  Arrays only; :mod:`nmfaudio.drums.separation` uses it.

In a full song the bass, keys, guitars and pads play under the drums.  Fitted to the
whole spectrogram, the drum templates take them: the bass went into the kick stem,
chords into the snare (issue 14).  The method here is the time axis of
harmonic–percussive separation (Fitzgerald 2010): a **running median over time** of each
frequency band's magnitude (0.7 s at 44.1 kHz / hop 512, the drum fit's 1/12-octave
bands, every 4th frame) follows what is sustained — notes,
chords, pads — and ignores short events, so at a kick it gives the bass level without
the kick.  That *sustained part* is

* taken out of what the drum model is fitted to (the drums fit ``max(V − sustained, 0)``),
* and added to the residual's model — times a weight that falls with the drums' level
  (:func:`mask_weight`), since the sustained part also holds the drums' own sustain —
  so the masks give it to the accompaniment.

Measured (``benchmarks/full_song.py``, docs/drums-full-song.md, "What the measurements
decided"; signal-to-error ratios in the constants' comments, BSS Eval SDR in the docs):
this beats librosa's HPSS masks as a front end (whose vertical median, 31 bins ≈ 670 Hz
wide, calls a kick on a bass note harmonic), joint free NMF components (they took kick
energy), and shorter medians (0.36 s).

Drum-only recordings also have a sustained part (cymbals ring, toms and kicks decay),
which must not go to the residual.  ``accompaniment="auto"`` decides from the signal:
the sustained part's share of the magnitude below 1.5 kHz (:func:`decision_share`: bass
and chords are sustained there, a drum kit's decays mostly are not) is larger in songs
than in drum performances; :data:`AUTO_SHARE` is the threshold.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AUTO_SHARE", "DECISION_HZ", "SUSTAIN_SECONDS", "accompaniment_mode", "decision_share", "energy_share",
           "mask_weight", "median_frames", "spread_to_bins", "sustained_part", "sustained_share",
           "use_accompaniment"]

#: Length of the running median over time (seconds).  0.7 s (61 frames at 44.1 kHz /
#: hop 512) measured better than 0.36 s (librosa's default 31 frames) on the full-song
#: benchmark (scratch runs, signal-to-error ratio, not BSS Eval SDR: three GMRockKit songs):
#: all drums 5.5 vs 4.6 dB, mean kick/snare/hi-hat 2.5 vs 1.9 dB.
SUSTAIN_SECONDS = 0.7
#: Time decimation of the running median (frames): measured on the full-song benchmark
#: (3 GMRockKit songs, signal-to-error ratio, not BSS Eval SDR): 1/12-octave bands and every 4th frame gave mean3 2.78 dB,
#: drums 5.43 dB against 2.45 / 5.43 for the full-rate median on every bin.
DECIMATION = 4
#: ``accompaniment="auto"`` decides on the bands below this frequency (Hz): bass, chords
#: and pads hold sustained energy there, while a drum recording's sustained part lies
#: mostly above it (ringing cymbals and hats; kick and tom decays are shorter than the
#: median).  Measured (12-s stereo excerpts, seeds 0-5, GMRockKit and BJA_Pacific,
#: 2026-11-30): the share over all bands separated drum performances (up to 0.564) from
#: songs with the drums 6 dB above the music (from 0.588) by 0.02 (three of twelve of those
#: songs fell under the old 0.6 threshold); below 1.5 kHz the gap is 0.08 (0.489 / 0.571).
DECISION_HZ = 1500.0
#: ``accompaniment="auto"`` treats a recording as a full song when the sustained part
#: holds more than this share of the band magnitude below :data:`DECISION_HZ` (see
#: :func:`decision_share`).  First chosen as 0.53 on seeds 0-2 of the 44.1-kHz stereo
#: songs and performances (drum performances at most 0.49, songs at least 0.58 at +6 dB,
#: 0.68 at 0 dB, 0.73 at -6 dB; held out, seeds 3-5: drum performances at most 0.38, songs
#: at least 0.571).  Then ``benchmarks/drums.py --performances -n 2``'s held-out drum
#: performances (22.05 kHz mono) had Millo-Drums_v.1 at 0.568, which 0.53 separated as a
#: song (its mean3 1.57 -> 0.28 dB, cymbals 2.05 -> -3.13 dB): raised to 0.57 so drum
#: recordings keep the drum-only model there.  Chosen after seeing both sets, it has no
#: held-out check left and no margin (0.568 drums, 0.571 the lowest song): pass
#: ``accompaniment=True`` / ``False`` when you know.
AUTO_SHARE = 0.57
#: Weight of the sustained part in the masks (the accompaniment's model is this weight
#: times the sustained part), as a function of the sustained part's *energy* share
#: (:func:`energy_share`, a level gauge: 0.45-0.55 with the music 6 dB above the drums,
#: 0.32-0.44 at 0 dB, 0.17-0.36 with the drums 6 dB above).  Why below 1: the sustained
#: part also holds the drums' own sustain (tom and kick decays, cymbals, hats), which went
#: to the accompaniment — at +6 dB a fifth to a quarter of the residual was toms.
#: Measured (signal-to-error ratio, seeds 1-2, both kits, 2026-11-30; scratch runs of
#: ``benchmarks/full_song.py``'s songs): the best weight falls with the drums' level —
#: 0.6-0.7 at -6 dB, 0.25-0.35 at 0 dB, 0.15 or less at +6 dB.  The floor is 0.25, not
#: 0.15: at 0.15 the staccato-bass test song of tests/test_drums_full_song.py kept only
#: 67 % of its bass and chords in the accompaniment (0.25: 75 %), for 0.5 dB on the
#: benchmark's +6-dB songs.  BSS Eval SDR before and after: docs/drums-full-song.md.
WEIGHT_ENERGY = (0.30, 0.42, 0.50)
WEIGHT = (0.25, 0.35, 0.65)

MODES = ("auto", True, False)


def accompaniment_mode(value):
    """Check ``accompaniment=``: "auto", True or False (also "on" / "off")."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("auto", "on", "off"):
        return {"auto": "auto", "on": True, "off": False}[value.lower()]
    raise ValueError(f"accompaniment={value!r} must be 'auto', True or False ('on' / 'off'); "
                     "True: the recording is a full song, False: drums only")


def median_frames(sr: float, hop_length: int) -> int:
    """The running median's length in frames (odd, >= 3) for :data:`SUSTAIN_SECONDS`."""
    frames = int(round(SUSTAIN_SECONDS * sr / hop_length))
    return max(3, frames | 1)


def sustained_part(band_magnitude, *, frames: int, step: int = DECIMATION) -> np.ndarray:
    """Running median over time of each frequency band (and channel), on every ``step``-th
    frame (the median of a 0.7-s window hardly changes from one 12-ms frame to the next;
    a full-rate median at full frequency resolution took minutes on a 3-minute song).

    Parameters
    ----------
    band_magnitude : ndarray, shape (n_bands, n_frames) or (n_bands, n_channels, n_frames)
        Band-compressed magnitude spectrogram, non-negative.  Never modified.
    frames : int >= 1
        Median length in frames of the full-rate spectrogram.
    step : int >= 1, default 4
        Time decimation of the median.

    Returns
    -------
    ndarray, the shape and dtype of ``band_magnitude``
        The sustained part (each value held for ``step`` frames; not clipped to the
        magnitude).
    """
    from scipy.ndimage import median_filter

    band_magnitude = np.asarray(band_magnitude)
    n_frames = band_magnitude.shape[-1]
    decimated = band_magnitude[..., ::step]
    size = (1,) * (band_magnitude.ndim - 1) + (max(1, (int(frames) // step) | 1),)
    # "reflect" at the ends: a song that starts with a chord is sustained from frame 0
    held = median_filter(decimated, size=size, mode="reflect")
    return np.repeat(held, step, axis=-1)[..., :n_frames]


def spread_to_bins(magnitude, band_magnitude, band_sustained, widths) -> np.ndarray:
    """The sustained part at full frequency resolution: each bin gets its band's sustained
    share of that frame, ``magnitude · S_band / V_band``.

    Parameters
    ----------
    magnitude : ndarray, shape (n_freq, ..., n_frames)
    band_magnitude, band_sustained : ndarray, shape (n_bands, ..., n_frames)
    widths : ndarray of int, shape (n_bands,), summing to n_freq

    Returns
    -------
    ndarray, the shape of ``magnitude``, float32
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(band_magnitude > 0, band_sustained / np.where(band_magnitude > 0, band_magnitude, 1), 0)
    return (magnitude * np.repeat(ratio.astype(np.float32), widths, axis=0)).astype(np.float32)


def sustained_share(magnitude, sustained) -> float:
    """Share of the magnitude that the sustained part explains: Σ min(S, V) / Σ V, in [0, 1]
    (0 for silence).  Arrays as :func:`sustained_part`'s input and output."""
    total = float(np.sum(magnitude, dtype=np.float64))
    if total <= 0:
        return 0.0
    return float(np.sum(np.minimum(sustained, magnitude), dtype=np.float64)) / total


def decision_share(band_magnitude, sustained, band_hz) -> float:
    """:func:`sustained_share` over the bands below :data:`DECISION_HZ` (all bands if none
    is), the value ``accompaniment="auto"`` decides on.

    Parameters
    ----------
    band_magnitude, sustained : ndarray, shape (n_bands, ...)
    band_hz : ndarray, shape (n_bands,)
        Lowest frequency of each band (Hz).
    """
    low = np.asarray(band_hz) < DECISION_HZ
    if not low.any():
        return sustained_share(band_magnitude, sustained)
    return sustained_share(band_magnitude[low], sustained[low])


def energy_share(magnitude, sustained) -> float:
    """Share of the energy that the sustained part explains: Σ min(S, V)² / Σ V², in [0, 1]
    (0 for silence).  The loud drum hits dominate the energy, so this follows the drums'
    level against the music more than :func:`sustained_share` does."""
    magnitude = np.asarray(magnitude, dtype=np.float64)
    total = float(np.sum(magnitude ** 2))
    if total <= 0:
        return 0.0
    return float(np.sum(np.minimum(sustained, magnitude) ** 2)) / total


def mask_weight(energy: float) -> float:
    """The sustained part's weight in the masks for an :func:`energy_share` (piecewise
    linear through :data:`WEIGHT_ENERGY` → :data:`WEIGHT`, constant outside)."""
    return float(np.interp(energy, WEIGHT_ENERGY, WEIGHT))


def use_accompaniment(mode, share: float) -> bool:
    """``mode`` (from :func:`accompaniment_mode`) made definite: "auto" means ``share >
    AUTO_SHARE``."""
    return share > AUTO_SHARE if mode == "auto" else bool(mode)
