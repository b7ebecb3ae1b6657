"""A hit's timbre against its drum's strongest hits: is the sound at a "snare" hit the
snare's, or another membrane the separation put in the snare's stem (a conga)?

The snare's stem holds every sound its templates explain best.  A conga, struck alone or
with a ride stroke, is one: its body sits where the snare's does (150-600 Hz), the mask
gives the snare's stem all of it, and its activation peaks as high as a snare's accents
(docs/log/transcription-decisions.md, the percussion round: level, residual, the percussion parts'
activations and the track's band tilt did not tell the two apart).  What does is the
shape of the body's spectrum: a drum's resonances are its own, the same at an accent and
at a ghost note, and a conga's are at other frequencies.  So each hit's magnitude
spectrum (square root, 80-2000 Hz, the :data:`WIDTH` samples from its onset, Hann) is
compared with the median of the drum's strongest hits' (cosine similarity): the
reference is the recording's own snare, not a template.

Measured on the regular tuning performances (docs/log/transcription-decisions.md, the snare-timbre
round), the snare's hits of ``result.hits()``: the real ones' similarity 0.92 / 0.96 /
0.99 (5th / 25th / 50th percentile), the false ones' at a conga 0.82 / 0.84 / 0.90.  With
:func:`~nmfaudio.drums.hits.detect_hits`'s 0.9, the snare's false hits there fell 281 →
189 (at a conga 110 → 56), its real ones 1476 → 1465.  The limit: where another sound
outnumbers and outweighs the drum, the strongest hits are that sound, and the drum's own
hits go.  Not in a song (the stem holds the music under the hits' bodies).  Arrays or
streamed tracks (:mod:`nmfaudio.drums.track_reads`).
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums import track_reads
from nmfaudio import audio

__all__ = ["WIDTH", "FMIN_HZ", "FMAX_HZ", "TOP_FRACTION", "MIN_TOP", "FEW_TOP", "similarities"]

#: Samples from the onset whose spectrum is compared (93 ms at 22.05 kHz: the body's ring).
WIDTH = 2048
#: The band compared (Hz): the drum's body and its lowest resonances, under the cymbals'
#: and the snare wires' noise, which the hats and a ride add at most hits.
FMIN_HZ = 80.0
FMAX_HZ = 2000.0
#: The reference: the median spectrum of this fraction of the drum's hits, the strongest
#: (at least MIN_TOP of them); those hits are never judged.
TOP_FRACTION = 0.25
MIN_TOP = 8
#: ... but a recording with at most MIN_TOP hits (a one- or two-bar loop: two to eight snare
#: strokes) has its strongest FEW_TOP as the reference, so its other hits are judged too —
#: three, not two: their median outvotes one other sound (a conga) among them (before
#: 2026-12-07 all were the reference and none was judged: a loop's congas stayed snare hits;
#: docs/log/transcription-decisions.md, the short-loops round).
FEW_TOP = 3


def similarities(track, onsets, strengths, *, sr, width: int = WIDTH, fmin: float = FMIN_HZ,
                 fmax: float = FMAX_HZ) -> tuple:
    """Each hit's spectral similarity to its drum's strongest hits.

    Parameters
    ----------
    track : ndarray, shape (n_samples,) or (n_channels, n_samples), or a reader
        The drum's separated track (the channels' mean is read).
    onsets : array_like of int, shape (n_hits,)
        The hits' onsets (sample indices).
    strengths : array_like of float, shape (n_hits,)
        The hits' strengths; the strongest ``max(MIN_TOP, TOP_FRACTION · n_hits)`` make the
        reference, the strongest :data:`FEW_TOP` where there are at most :data:`MIN_TOP`
        hits (a short loop).
    sr : int
        Sampling rate (Hz).
    width : int
        Samples from each onset (clipped to the track's length).
    fmin, fmax : float
        The band compared (Hz).

    Returns
    -------
    similarity : ndarray of float, shape (n_hits,)
        Cosine similarity (0-1) of each hit's square-root magnitude spectrum in the band to
        the reference's (the median of the strongest hits' spectra, each scaled to unit
        norm); 1 for a silent window (nothing to judge).
    reference : ndarray of bool, shape (n_hits,)
        The hits that made the reference.
    """
    onsets = np.asarray(onsets, dtype=np.int64)
    strengths = np.asarray(strengths, dtype=np.float64)
    n_hits = len(onsets)
    reference = np.zeros(n_hits, dtype=bool)
    if n_hits == 0:
        return np.ones(0), reference
    reader = track if track_reads.is_reader(track) else audio.ArrayReader(track)
    width = max(1, min(int(width), reader.n_samples))
    starts = np.clip(onsets, 0, reader.n_samples - width)
    freqs = np.fft.rfftfreq(width, 1 / sr)
    band = (freqs >= fmin) & (freqs < fmax)
    window = np.hanning(width)
    spectra = np.zeros((n_hits, int(band.sum())))
    for group, windows in track_reads.mono_windows(reader, starts, width):
        spectra[group] = np.sqrt(np.abs(np.fft.rfft(windows * window, axis=1))[:, band])
    norms = np.linalg.norm(spectra, axis=1)
    size = max(MIN_TOP, int(np.ceil(TOP_FRACTION * n_hits))) if n_hits > MIN_TOP else FEW_TOP
    top = np.argsort(-strengths, kind="stable")[:size]
    reference[top] = True
    unit = spectra / np.where(norms > 0, norms, 1.0)[:, None]
    ref = np.median(unit[top], axis=0)
    ref_norm = np.linalg.norm(ref)
    if not ref_norm > 0:
        return np.ones(n_hits), reference
    similarity = unit @ (ref / ref_norm)
    return np.where(norms > 0, similarity, 1.0), reference
