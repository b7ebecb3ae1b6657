"""Drum recordings: a kick part holding toms pitched below the kit's kick, toms parts
holding that kick.  Arrays and labels only.

The bundled kick template sits at 54 Hz, the toms' at 75-118 Hz.  On a kit whose toms
are tuned below its kick (held-out rumpf_kit_z01_h2: kick 97 Hz, "high" and "mid" toms
32 and 75 Hz) the kick part takes those toms' hits whole, and the kick's body is taken
by the toms parts, the kick part keeping only a share of it: kick -6.3 dB, toms -22 dB
(docs/log/drums-five-stems-decisions.md, twenty-sixth round).  The kick part's hits then fall in
two kinds: hits the toms parts share (the kick) and hits the kick part has alone (the
toms), the latter in runs (fills).  Where that split is clean, the kick part's
activation from each lone hit to the next hit goes to the toms' output, and the toms
parts' activation from each shared hit to the next hit to the kick's.  On a kit whose
kick sits below its toms the kick part's hits are not split so: on the tuning, extra
and kick/snare/hi-hat-only material (tuning seeds 0, 2-4) the test never holds; on the
tuning kits rebuilt with toms below their kick (benchmarks/kit_variants.py) it holds on
2 of 48 recordings, both swapped ones.  Not handled: toms below the kick that the kick
part takes whole while the toms parts are judged absent (no shared hits to tell the
kick by).
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.templates import class_of
from nmfaudio.drums.times import peak_frames

__all__ = ["ALONE_SHARE", "CLEAN_SHARE", "COVER_MARGIN", "COVER_S", "KICK_PEAK_SHARE", "MIN_ALONE", "MIN_RUN",
           "MIN_SHARED", "SHARED_SHARE", "TAKER_SHARE", "coverage", "kick_toms_parts", "moved_parts",
           "owned_frames", "rerouted_activations", "swap_holds", "swapped_hits"]

#: A kick-part hit: a local maximum of the kick parts' model above this share of its maximum.
KICK_PEAK_SHARE = 0.1
#: A hit the toms parts share: their model's peak in the hit's window at least this share of the kick's.
SHARED_SHARE = 0.5
#: A lone hit: the toms parts' peak under this share of the kick's.
ALONE_SHARE = 0.05
#: The split must be clean: shared and lone hits at least this share of all the kick part's hits.
CLEAN_SHARE = 0.8
#: At least this many lone and shared hits.
MIN_ALONE = 2
MIN_SHARED = 3
#: The lone hits come in runs (fills): at least this many per run on average.
MIN_RUN = 2.0
#: A toms part took the kick when it shares (at ALONE_SHARE) at least this share of the shared hits.
TAKER_SHARE = 0.5
#: The shared hits keep the groove, the lone ones are fills: the share of the recording
#: within COVER_S of a shared hit exceeds the lone hits' by at least this much.
COVER_MARGIN = 0.2
COVER_S = 0.5


def owned_frames(hits, chosen, n_frames):
    """The frames the ``chosen`` hits own: each hit owns the frames from just before it to
    just before the next hit (none before the first).

    Parameters
    ----------
    hits : ndarray of int, shape (J,)
        Frames, increasing.
    chosen : ndarray of bool, shape (J,)
    n_frames : int

    Returns
    -------
    ndarray of bool, shape (n_frames,)
    """
    starts = np.maximum(hits - 1, 0)
    owner = np.searchsorted(starts, np.arange(n_frames), side="right") - 1  # -1: before the first hit
    return (owner >= 0) & chosen[np.maximum(owner, 0)]


def moved_parts(P, H, route, moves):
    """Move parts' activations in some frames to copies of those parts routed elsewhere.

    Parameters
    ----------
    P : ndarray, shape (F, K', T)
    H : ndarray, shape (K', C, N)
    route : ndarray of int, shape (K',)
    moves : list of (int, ndarray of bool shape (N,), int)
        Per move: the part, the frames whose activation moves, the copy's output.

    Returns
    -------
    P, H, route : shapes (F, K' + B, T), (K' + B, C, N), (K' + B,)
        One copy per move (B of them) carrying the moved activation, appended; ``H`` is a
        new array; the model ``Σ_k P_k * H_k`` is unchanged.
    """
    H = H.copy()
    moved = []
    for k, frames, _ in moves:
        part = np.where(frames, H[k], 0).astype(H.dtype)
        H[k] -= part
        moved.append(part)
    parts = [k for k, _, _ in moves]
    return (np.concatenate([P, P[:, parts]], axis=1), np.concatenate([H, np.stack(moved)]),
            np.append(route, [target for _, _, target in moves]))


def rerouted_activations(H_before, H_after, route, index, n_outputs):
    """How re-routing moved activation between outputs: per output, what its labelled
    parts lost and what the appended copies routed to it carry.

    The class activations a separation reports (and the hits, the MIDI file) are its
    parts' activations summed by class; after :func:`moved_parts` a kick part's lone
    hits sound in the toms' output, and they should be the toms' hits too.

    Parameters
    ----------
    H_before : ndarray, shape (K', C, N)
        The masks' activations before the re-routing steps (K' ≥ K).
    H_after : ndarray, shape (K' + B, C, N)
        After them: the first K' rows changed, B copies appended.
    route : ndarray of int, shape (K' + B,)
        Output of each row after them.
    index : ndarray of int, shape (K,)
        Output of each of the K labelled parts (the rows the class activations sum).
    n_outputs : int
        Number of outputs reported (outputs ≥ n_outputs, the residual, are dropped).

    Returns
    -------
    ndarray, shape (n_outputs, C, N)
        The change of each output's activation (zero where nothing moved).
    """
    K, K_before = len(index), H_before.shape[0]
    change = np.zeros((n_outputs,) + H_after.shape[1:], dtype=np.float32)
    for k in range(K):  # what a labelled part lost (or gained) stays with its class's output
        if index[k] < n_outputs:
            change[index[k]] += H_after[k] - H_before[k]
    for j in range(K_before, H_after.shape[0]):  # the copies carry it to theirs
        if route[j] < n_outputs:
            change[route[j]] += H_after[j]
    return change


def coverage(hits, n_frames, reach):
    """The share of the ``n_frames`` frames within ``reach`` frames of one of ``hits``."""
    covered = np.zeros(n_frames, bool)
    for t in hits:
        covered[max(0, t - reach):t + reach + 1] = True
    return float(covered.mean()) if n_frames else 0.0


def swapped_hits(kick_model, toms_model, *, frame_rate):
    """The kick part's hits split into shared (the kit's kick) and lone (toms below it).

    Parameters
    ----------
    kick_model, toms_model : ndarray, shape (N,)
        The kick parts' and the toms parts' model per frame (activation times template sum).
    frame_rate : float
        Frames per second.

    Returns
    -------
    hits : ndarray of int, shape (J,)
        The kick part's hits (frames), in order.
    lone, shared : ndarray of bool, shape (J,), or None
        Which hits are lone (toms) and which shared (the kick); None when the split is
        not clean (no swap).
    """
    hits = peak_frames(kick_model, KICK_PEAK_SHARE)
    if hits.size == 0:
        return hits, None, None
    N = kick_model.shape[0]
    ratio = np.array([toms_model[max(0, t - 1):min(N, t + 3)].max() / kick_model[max(0, t - 1):min(N, t + 3)].max()
                      for t in hits])
    lone, shared = ratio < ALONE_SHARE, ratio >= SHARED_SHARE
    n_lone, n_shared = int(lone.sum()), int(shared.sum())
    if n_lone < MIN_ALONE or n_shared < MIN_SHARED or n_lone + n_shared < CLEAN_SHARE * hits.size:
        return hits, None, None
    # runs of lone hits among the decided ones (the undecided left out of the order)
    decided = lone[lone | shared]
    runs = int(decided[0]) + int(np.sum(decided[1:] & ~decided[:-1]))
    if n_lone / max(runs, 1) < MIN_RUN:
        return hits, None, None
    reach = int(round(COVER_S * frame_rate))
    if coverage(hits[shared], N, reach) < coverage(hits[lone], N, reach) + COVER_MARGIN:
        return hits, None, None
    return hits, lone, shared


def _models(P, H, kicks, toms, K):
    """The first K parts' activations with channels summed (K, N), their templates' sums
    (K,), and the kick parts' and the toms parts' model per frame (activation times
    template sum), each (N,)."""
    summed = H[:K].sum(axis=1)
    energy = P[:, :K].sum(axis=(0, 2))
    return (summed, energy, (summed[kicks] * energy[kicks, None]).sum(axis=0),
            (summed[toms] * energy[toms, None]).sum(axis=0))


def swap_holds(P, H, labels, *, frame_rate) -> bool:
    """Whether :func:`kick_toms_parts`' test holds: the kick part's hits split into lone
    ones (toms below the kick) and ones the toms parts share (the kit's kick).

    Parameters
    ----------
    P : ndarray, shape (F, K', T)
        Templates (K' ≥ K: extra parts after the K labelled ones are not read).
    H : ndarray, shape (K', C, N)
        Their activations.
    labels : sequence of K str
        The labels of the first K templates.
    frame_rate : float
        Frames per second.

    Returns
    -------
    bool
    """
    labels = list(labels)
    K = len(labels)
    kicks = [k for k in range(K) if class_of(labels[k]) == "kick"]
    toms = [k for k in range(K) if class_of(labels[k]) == "toms"]
    if not kicks or not toms:
        return False
    _, _, kick_model, toms_model = _models(P, H, kicks, toms, K)
    return swapped_hits(kick_model, toms_model, frame_rate=frame_rate)[1] is not None


def kick_toms_parts(P, H, route, labels, *, frame_rate):
    """Move a swapped kick's and toms' activations to each other's output.

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
    frame_rate : float
        Frames per second.

    Returns
    -------
    P, H, route : shapes (F, K' + B, T), (K' + B, C, N), (K' + B,)
        One extra template per kick and toms part (B of them; a copy of it, routed to the
        other class's output) carrying the moved activation; the model ``Σ_k P_k * H_k``
        is unchanged.  The inputs themselves when the test does not hold.
    """
    labels = list(labels)
    K = len(labels)
    kicks = [k for k in range(K) if class_of(labels[k]) == "kick"]
    toms = [k for k in range(K) if class_of(labels[k]) == "toms"]
    if not kicks or not toms:
        return P, H, route
    summed, energy, kick_model, toms_model = _models(P, H, kicks, toms, K)
    hits, lone, shared = swapped_hits(kick_model, toms_model, frame_rate=frame_rate)
    if lone is None:
        return P, H, route
    N = H.shape[-1]
    # the toms parts that took the kick: those sharing at least TAKER_SHARE of the shared
    # hits; a shared hit counts only by them (a tom the kick part shares, e.g. rumpf's
    # floor tom on the toms:high part, stays a tom)
    windows = [slice(max(0, t - 1), min(N, t + 3)) for t in hits]
    ratio = np.array([[summed[j, w].max() * energy[j] / max(kick_model[w].max(), 1e-30) for w in windows]
                      for j in toms])  # (len(toms), J)
    takers = [j for j, r in zip(toms, ratio) if np.mean(r[shared] >= ALONE_SHARE) >= TAKER_SHARE]
    by_takers = ratio[[toms.index(j) for j in takers]].sum(axis=0) if takers else np.zeros(len(hits))
    shared = shared & (by_takers >= SHARED_SHARE)
    to_toms, to_kick = owned_frames(hits, lone, N), owned_frames(hits, shared, N)
    return moved_parts(P, H, route, [(k, to_toms, route[toms[0]]) for k in kicks]
                       + [(k, to_kick, route[kicks[0]]) for k in takers])
