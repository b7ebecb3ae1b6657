"""Drum recordings with the toms judged absent: lone toms below the kick in the kick part.

On a kit whose toms are tuned below its kick, a fill of two or three toms can be taken
whole by the kick part, the toms parts then holding too little of the model to count
as playing (:data:`nmfaudio.drums.stems.PRESENCE`): the toms stem is silent and the
kick stem holds the toms (docs/log/drums-five-stems-decisions.md, twenty-seventh round; form (b) of
the twenty-sixth).  The toms' presence statistic does not tell those recordings from
ones without toms (0.32-0.48 against 0.10-0.54 on the variant tuning kits), so the
kick part's own hits are looked at: the kick's hits share one low spectrum, a tom's
differs from it, and the toms come in runs (a fill) where the odd hits of other
instruments the kick part picks up come one at a time.  Hits whose spectrum below
:data:`BAND_HZ` is far from the kick part's median hit (cosine under
:data:`ODD_SIMILARITY`), in runs of at least :data:`MIN_RUN` consecutive kick-part
hits, have the kick part's activation from each to the next hit moved to the toms'
output.  Arrays and labels only.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from nmfaudio.drums.kick_toms import KICK_PEAK_SHARE, moved_parts, owned_frames
from nmfaudio.drums.templates import class_of
from nmfaudio.drums.times import peak_frames

__all__ = ["BAND_HZ", "MIN_RUN", "ODD_SIMILARITY", "WINDOW_S", "hit_spectra", "lone_tom_hits", "lone_toms_parts"]

#: The band (Hz) whose spectrum tells a kick hit from a tom hit: the fundamentals and the
#: first partials of both sit here.
BAND_HZ = (20.0, 300.0)
#: The hits' spectra are read with frames of about this length (s): 5.4-Hz bins, where the
#: separation's frames (2048 at 22.05 kHz, 10.8 Hz) blur a tom an octave under the kick
#: into it (the variant tuning kits' tom hits 0.48-0.82 against the median, its kick
#: hits down to 0.76, where these frames give 0.37-0.67 against 0.75).
WINDOW_S = 0.186
#: Hits read per batch in :func:`hit_spectra` (memory: 3 frames of ~0.19 s each per hit).
HITS_PER_BATCH = 32
#: A kick-part hit whose band spectrum has a cosine under this with the median hit's is odd.
ODD_SIMILARITY = 0.7
#: Odd hits count as toms only in runs of at least this many consecutive kick-part hits.
MIN_RUN = 2


def hit_spectra(y, hits, *, sr, hop_length):
    """Each hit's magnitude spectrum in :data:`BAND_HZ`, read with frames of ~:data:`WINDOW_S`.

    Parameters
    ----------
    y : ndarray, shape (n_samples,)
        The mixture (channels summed).
    hits : ndarray of int, shape (J,)
        Frames (centred, ``hop_length`` apart, as the separation's STFT).
    sr : int
    hop_length : int

    Returns
    -------
    ndarray, shape (J, B)
        Per hit, the largest magnitude over its first three frames, per bin of the band.
    """
    n = int(2 ** round(np.log2(WINDOW_S * sr)))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    band = np.flatnonzero((freqs > BAND_HZ[0]) & (freqs < BAND_HZ[1]))
    # centred frame t covers [t·hop - n/2, t·hop + n/2): padded by n/2 on both sides (and
    # past the end, for the last hits' frames), it starts at t·hop
    padded = np.pad(np.asarray(y, np.float32), (n // 2, n // 2 + 3 * hop_length))
    window = np.hanning(n).astype(np.float32)
    out = np.zeros((len(hits), band.size), np.float32)
    for first in range(0, len(hits), HITS_PER_BATCH):  # a few MB at a time, a 3-minute song too
        starts = (np.asarray(hits[first:first + HITS_PER_BATCH])[:, None] + np.arange(3)) * hop_length  # (J', 3)
        frames = padded[starts[..., None] + np.arange(n)] * window  # (J', 3, n)
        # the hit's attack: the largest magnitude over its first three frames
        out[first:first + len(starts)] = np.abs(scipy.fft.rfft(frames, axis=-1)[..., band]).max(axis=1)
    return out


def lone_tom_hits(kick_model, y, *, sr, hop_length):
    """The kick part's hits, and which of them are toms (odd spectrum, in runs).

    Parameters
    ----------
    kick_model : ndarray, shape (N,)
        The kick parts' model per frame (activation times template sum).
    y : ndarray, shape (n_samples,)
        The mixture (channels summed).
    sr : int
    hop_length : int
        The frames' hop (samples).

    Returns
    -------
    hits : ndarray of int, shape (J,)
        The kick part's hits (frames), in order.
    toms : ndarray of bool, shape (J,)
        Which hits are toms.
    """
    hits = peak_frames(kick_model, KICK_PEAK_SHARE)
    toms = np.zeros(hits.size, bool)
    if hits.size < 2 * MIN_RUN:
        return hits, toms
    spectra = hit_spectra(y, hits, sr=sr, hop_length=hop_length)
    norms = np.linalg.norm(spectra, axis=1, keepdims=True)
    spectra /= np.where(norms > 0, norms, 1)
    median = np.median(spectra, axis=0)
    if not np.linalg.norm(median) > 0:
        return hits, toms
    odd = spectra @ (median / np.linalg.norm(median)) < ODD_SIMILARITY
    # runs of consecutive odd hits: a fill; a single odd hit (percussion the kick part
    # picked up, one at a time) stays
    edges = np.flatnonzero(np.diff(np.concatenate([[0], odd.astype(int), [0]])))
    for start, stop in zip(edges[::2], edges[1::2]):
        if stop - start >= MIN_RUN:
            toms[start:stop] = True
    return hits, toms


def lone_toms_parts(P, H, route, labels, y, *, sr, hop_length):
    """Move the kick part's lone tom hits to the toms' output.

    Parameters
    ----------
    P : ndarray, shape (F, K', T)
        The masks' templates (K' ≥ K: extra parts appended after the K labelled ones).
    H : ndarray, shape (K', C, N)
        Their activations.
    route : ndarray of int, shape (K',)
        Output of each template.
    labels : sequence of K str
        The labels of the first K templates.
    y : ndarray, shape (n_samples,)
        The mixture (channels summed).
    sr : int
    hop_length : int
        The frames' hop (samples).

    Returns
    -------
    P, H, route : shapes (F, K' + B, T), (K' + B, C, N), (K' + B,)
        One extra template per kick part (B of them; a copy of it, routed to the toms'
        output) carrying the moved activation; the model ``Σ_k P_k * H_k`` is unchanged.
        The inputs themselves when no run of tom hits is found.
    """
    labels = list(labels)
    K = len(labels)
    kicks = [k for k in range(K) if class_of(labels[k]) == "kick"]
    toms = [k for k in range(K) if class_of(labels[k]) == "toms"]
    if not kicks or not toms:
        return P, H, route
    energy = P[:, kicks].sum(axis=(0, 2))
    kick_model = (H[kicks].sum(axis=1) * energy[:, None]).sum(axis=0)
    hits, is_tom = lone_tom_hits(kick_model, y, sr=sr, hop_length=hop_length)
    if not is_tom.any():
        return P, H, route
    frames = owned_frames(hits, is_tom, H.shape[-1])
    return moved_parts(P, H, route, [(k, frames, route[toms[0]]) for k in kicks])
