"""Drums out of a full song: the accompaniment's share of the spectrogram, and whether a
recording has one.  Arrays only; :mod:`nmfaudio.drums.separation` uses it.

In a full song the bass, keys, guitars and pads play under the drums.  Fitted to the
whole spectrogram, the drum templates take them: the bass went into the kick stem,
chords into the snare (issue 14).  The method here is the time axis of
harmonic–percussive separation (Fitzgerald 2010): a **running median over time** of each
frequency bin's magnitude (0.7 s at 44.1 kHz / hop 512) follows what is sustained — notes,
chords, pads — and ignores short events, so at a kick it gives the bass level without
the kick.  That *sustained part* is

* taken out of what the drum model is fitted to (the drums fit ``max(V − sustained, 0)``),
* and added to the residual's model, so the masks give it to the accompaniment.

Measured (``benchmarks/full_song.py``, docs/drums-full-song.md): this beats librosa's
HPSS masks as a front end (whose vertical median, 31 bins ≈ 670 Hz wide, calls a kick
on a bass note harmonic), joint free NMF components (they took kick energy), and
shorter medians (0.36 s: sustained drums count as drums only half as often).

Drum-only recordings also have a sustained part (cymbals ring, toms and kicks decay),
which must not go to the residual.  ``accompaniment="auto"`` decides from the signal:
the sustained part's share of the mixture's magnitude (:func:`sustained_share`) is
larger in songs than in drum performances; :data:`AUTO_SHARE` is the threshold.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AUTO_SHARE", "SUSTAIN_SECONDS", "accompaniment_mode", "sustained_part", "sustained_share",
           "use_accompaniment"]

#: Length of the running median over time (seconds).  0.7 s (61 frames at 44.1 kHz /
#: hop 512) measured better than 0.36 s (librosa's default 31 frames) on the full-song
#: benchmark: all-drums SNR 5.5 vs 4.6 dB, mean kick/snare/hi-hat 2.5 vs 1.9 dB.
SUSTAIN_SECONDS = 0.7
#: ``accompaniment="auto"`` treats a recording as a full song when the sustained part
#: holds more than this share of the magnitude (see :func:`sustained_share`).
AUTO_SHARE = 0.5

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


def sustained_part(magnitude, *, frames: int) -> np.ndarray:
    """Running median over time of each frequency bin (and channel).

    Parameters
    ----------
    magnitude : ndarray, shape (n_freq, n_frames) or (n_freq, n_channels, n_frames)
        Magnitude spectrogram, non-negative.  Never modified.
    frames : int >= 1
        Median length in frames (odd: centred).

    Returns
    -------
    ndarray, the shape and dtype of ``magnitude``
        The sustained part (not clipped to the magnitude).
    """
    from scipy.ndimage import median_filter

    size = (1,) * (magnitude.ndim - 1) + (int(frames),)
    # "reflect" at the ends: a song that starts with a chord is sustained from frame 0
    return median_filter(np.asarray(magnitude), size=size, mode="reflect")


def sustained_share(magnitude, sustained) -> float:
    """Share of the magnitude that the sustained part explains: Σ min(S, V) / Σ V, in [0, 1]
    (0 for silence).  Arrays as :func:`sustained_part`'s input and output."""
    total = float(np.sum(magnitude, dtype=np.float64))
    if total <= 0:
        return 0.0
    return float(np.sum(np.minimum(sustained, magnitude), dtype=np.float64)) / total


def use_accompaniment(mode, share: float) -> bool:
    """``mode`` (from :func:`accompaniment_mode`) made definite: "auto" means ``share >
    AUTO_SHARE``."""
    return share > AUTO_SHARE if mode == "auto" else bool(mode)
