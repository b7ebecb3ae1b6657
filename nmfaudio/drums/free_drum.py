"""Song mode: is a free component a drum the templates could not fit?  Arrays only.

In a song the residual's free components (``n_free``) are meant for the music that rises
above the sustained part.  A drum machine's toms pitched far above the bundled toms
(VariBreaks: 193-306 Hz, its energy 83 % at 150-400 Hz; the bundled toms peak at
86-118 Hz and may adapt only 3 dB) are something no drum template explains, and the one
free component took them: on the tuning songs 44-81 % of those toms went to the
accompaniment (docs/log/drums-full-song-decisions.md, thirty-fourth round).  Such a component is
recognisable: its template lies mostly at 150-400 Hz (a tom's or a tuned snare's body)
and its activation is percussive, most of its energy in a few frames (a held chord
spreads its energy over the song).  Those components are given to the toms stem, but not
with the music loud enough for the hit levels in full: there the component holds music too
(:func:`nmfaudio.drums.separation.separate_drums` decides).

A free component whose template lies almost all above :data:`HIGH_HZ` (8 kHz) is the
drums' too (:func:`high_free`): the crashes' attacks, hats and shakers that the cymbals
and hats templates left; the songs' music (bass, keys, guitars, strings, leads, pads)
has almost nothing there.  On the tuning songs with the drums 6 dB above the music the one
free component took 2.4-3.1 % of the music's energy of crash attacks above 8 kHz
(seeds 25 and 27 GMRockKit): the largest single drum leak at the hits.  Those
components go to the cymbals stem, at every level of the music (docs/log/drums-full-song-decisions.md,
thirty-sixth round).

In a **drum recording** (no music) the one free component takes what the templates leave,
on some kits mostly a cymbal's ring (AVL Red Zeppelin: the cymbals stem kept 13 dB less of
its cymbals than they hold, BSS Eval's projection).  Such a component's activation rises
and falls with the cymbal parts' model, not with the other drums' (:func:`follows_cymbals`:
Pearson correlation over frames); it goes to the cymbals stem
(docs/log/drums-five-stems-decisions.md, the hat-and-cymbals error round).
"""

from __future__ import annotations

import numpy as np

__all__ = ["BODY_HZ", "BODY_SHARE", "FOLLOW_MIN", "HIGH_HZ", "HIGH_SHARE", "PEAK_FRAMES", "PEAK_SHARE",
           "band_shares", "drum_like_free", "follows_cymbals", "high_free", "peak_share"]

#: The band (Hz) a drum body the templates miss lies in: from the bundled toms' reach
#: (they peak at 86-118 Hz) to above the tuned snares' and high toms' fundamentals.
BODY_HZ = (150.0, 400.0)
#: A component whose template holds at least this share of its band energy in
#: :data:`BODY_HZ` may be a drum.  Measured on the tuning songs (thirty-fourth round):
#: the percussive components that hold a drum body (VariBreaks' toms, an 808's tuned
#: snare) 0.66-0.96, the other percussive ones 0.44 and below.
BODY_SHARE = 0.5
#: The loudest share of frames whose activation energy :func:`peak_share` measures.
PEAK_FRAMES = 0.05
#: ... and at least this share of the activation's energy in them: percussive.  Measured
#: (the same songs, components with :data:`BODY_SHARE` or more): drum bodies 0.71-0.99,
#: the others (music) 0.34-0.58.
PEAK_SHARE = 0.65
#: A free component whose template holds at least :data:`HIGH_SHARE` of its band energy
#: from this frequency (Hz) on is drums (:func:`high_free`) ...
HIGH_HZ = 8000.0
#: ... Measured (the 126 tuning songs of seeds 0-8, 23-28, 39-44 at -6 / 0 / +6 dB, both
#: kits; thirty-sixth round): 30 components at 0.90-1.00 (23 of them 0.97 or more), the
#: next 0.88, 0.83, 0.80, 0.78.  From 0.9 on the accompaniment gained on 29 of those 30
#: songs (BSS Eval; one 0-dB song at 0.91 lost 0.05 dB, and 0.12 of all drums); from 0.5
#: two 0-dB songs whose components (0.68, 0.72) held music lost 0.40 / 0.42 dB of all
#: drums.  No test of the activation: the components from 0.9 on measured peak shares
#: (:func:`peak_share`) of 0.39-0.69, a crash ringing long; with a test at 0.5 the 24
#: +6-dB songs whose component holds 0.2 or more there gained 0.20 dB of accompaniment
#: instead of 0.30 (over all 42 tuning songs at +6 dB the kept rule: 4.28 → 4.45 dB).
HIGH_SHARE = 0.9


def peak_share(activation, *, frames: float = PEAK_FRAMES) -> float:
    """The share of an activation's energy in its loudest ``frames`` share of frames
    (at least one frame).

    Parameters
    ----------
    activation : ndarray, shape (n_frames,), non-negative
    frames : float in (0, 1]

    Returns
    -------
    float in [0, 1]; 0 for a silent activation.
    """
    h = np.asarray(activation, dtype=np.float64)
    if h.ndim != 1:
        raise ValueError(f"activation must have shape (n_frames,), got {h.shape}")
    if not 0 < frames <= 1:
        raise ValueError(f"frames must be in (0, 1], got {frames!r}")
    energy = np.sort(h ** 2)[::-1]
    total = energy.sum()
    if total <= 0:
        return 0.0
    return float(energy[:max(1, int(h.size * frames))].sum() / total)


def band_shares(W_free, band_low_hz, low_hz: float, high_hz: float = np.inf) -> np.ndarray:
    """Each free template's share of its energy (squared band values) in the bands whose
    lowest frequency lies in ``[low_hz, high_hz)``.

    Parameters
    ----------
    W_free : ndarray, shape (F_b, n_free), non-negative
    band_low_hz : ndarray, shape (F_b,)
        Each band's lowest frequency (Hz).
    low_hz, high_hz : float
        The bands counted: those whose lowest frequency is in ``[low_hz, high_hz)``.

    Returns
    -------
    ndarray, shape (n_free,), in [0, 1]; 0 for a silent template.
    """
    W = np.asarray(W_free, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W_free must have shape (F_b, n_free), got {W.shape}")
    hz = np.asarray(band_low_hz, dtype=np.float64)
    if hz.shape != (W.shape[0],):
        raise ValueError(f"band_low_hz must have shape ({W.shape[0]},), got {hz.shape}")
    energy = W ** 2
    total = energy.sum(axis=0)
    inside = energy[(hz >= low_hz) & (hz < high_hz)].sum(axis=0)
    return np.where(total > 0, inside / np.where(total > 0, total, 1), 0.0)


def high_free(W_free, band_low_hz, *, high_hz: float = HIGH_HZ, share: float = HIGH_SHARE) -> np.ndarray:
    """Which free components are the drums' high band: a template with at least ``share``
    of its energy from ``high_hz`` on (crash attacks, hats, shakers; the music of a song
    has almost nothing there).

    Parameters
    ----------
    W_free : ndarray, shape (F_b, n_free), non-negative
        The free components' templates on the fit's bands.
    band_low_hz : ndarray, shape (F_b,)
        Each band's lowest frequency.

    Returns
    -------
    ndarray of bool, shape (n_free,)
    """
    return band_shares(W_free, band_low_hz, high_hz) >= share


def drum_like_free(W_free, H_free, band_low_hz, *, body_hz=BODY_HZ, body_share: float = BODY_SHARE,
                   peak: float = PEAK_SHARE) -> np.ndarray:
    """Which free components look like a drum the templates missed: a template with at
    least ``body_share`` of its energy in ``body_hz`` and an activation with at least
    ``peak`` of its energy in its loudest :data:`PEAK_FRAMES` of frames.

    Parameters
    ----------
    W_free : ndarray, shape (F_b, n_free), non-negative
        The free components' templates on the fit's bands.
    H_free : ndarray, shape (n_free, n_frames) or (n_free, C, n_frames), non-negative
        Their activations (channels are summed).
    band_low_hz : ndarray, shape (F_b,)
        Each band's lowest frequency.

    Returns
    -------
    ndarray of bool, shape (n_free,)
    """
    W = np.asarray(W_free, dtype=np.float64)
    H = np.asarray(H_free, dtype=np.float64)
    if W.ndim != 2 or H.shape[0] != W.shape[1] or H.ndim not in (2, 3):
        raise ValueError(f"W_free (F_b, n_free) and H_free (n_free, [C,] n_frames) disagree: {W.shape}, {H.shape}")
    if H.ndim == 3:
        H = H.sum(axis=1)
    in_body = band_shares(W, band_low_hz, body_hz[0], body_hz[1]) >= body_share
    return np.asarray([bool(b) and peak_share(h) >= peak for b, h in zip(in_body, H)], dtype=bool)


#: A free component follows the cymbals when its activation's correlation with the cymbal
#: parts' model reaches this and exceeds its correlation with the other parts' model.
#: Measured on the tuning draws (seeds 0, 2, 4, 6, 8 and the extra set, 56 recordings; the
#: hat-and-cymbals error round): where the cymbals stem gained with the component (Red
#: Zeppelin +2.4 to +8.2 dB, GMRockKit's rides and halftime grooves) 0.15-0.68 and above
#: the other parts'; where it lost (Audiophob, BJA_Pacific's halftime -8.5 dB, FluidR3's
#: ride) under 0.15 or under the other parts'.
FOLLOW_MIN = 0.15


def follows_cymbals(cymbal_model, other_model, free_model, *, minimum: float = FOLLOW_MIN) -> np.ndarray:
    """Which free components rise and fall with the cymbals rather than with the other drums.

    Parameters
    ----------
    cymbal_model : ndarray, shape (N,)
        The cymbal parts' model summed over frequency (and channels), per frame.
    other_model : ndarray, shape (N,)
        The other labelled parts' model, the same way.
    free_model : ndarray, shape (n_free, N)
        Each free component's model (its template's sum times its activation) per frame.
    minimum : float
        The least correlation with the cymbals' model.

    Returns
    -------
    ndarray of bool, shape (n_free,)
        True where the correlation (Pearson, over frames) with ``cymbal_model`` is at
        least ``minimum`` and above the one with ``other_model``; False for a constant
        signal (no correlation defined).
    """
    free_model = np.atleast_2d(np.asarray(free_model, dtype=np.float64))
    rows = np.vstack([np.asarray(cymbal_model, dtype=np.float64), np.asarray(other_model, dtype=np.float64),
                      free_model])
    if rows.shape[1] < 2:  # one frame: no correlation (np.corrcoef would warn)
        return np.zeros(free_model.shape[0], bool)
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant row: NaN, which compares False
        correlation = np.corrcoef(rows)
    with_cymbals, with_others = correlation[2:, 0], correlation[2:, 1]
    return (with_cymbals >= minimum) & (with_cymbals > with_others)
