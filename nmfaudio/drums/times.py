"""Hits in time: an activation's peaks (frames), and which hit times (s) lie near another list's."""

from __future__ import annotations

import numpy as np

__all__ = ["near", "peak_frames"]


def near(times, others, tolerance) -> np.ndarray:
    """For each of ``times``: is one of ``others`` within ``tolerance`` (s)?

    Parameters
    ----------
    times : array_like, shape (n,)
    others : array_like, shape (m,)
        Any order.
    tolerance : float
        Strictly closer than this counts.

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    times, others = np.asarray(times, dtype=float), np.sort(np.asarray(others, dtype=float))
    if not len(others) or not len(times):
        return np.zeros(len(times), dtype=bool)
    # the nearest of the sorted others is at the insertion point or just before it
    right = np.clip(np.searchsorted(others, times), 0, len(others) - 1)
    left = np.clip(right - 1, 0, len(others) - 1)
    return np.minimum(np.abs(others[right] - times), np.abs(others[left] - times)) < tolerance


def peak_frames(a, share) -> np.ndarray:
    """The frames of an activation's local maxima above a share of its maximum.

    Parameters
    ----------
    a : ndarray, shape (N,)
        An activation (one part, channels summed).
    share : float
        A peak must reach this share of ``a``'s maximum.

    Returns
    -------
    ndarray of int, shape (n,)
        Frame indices, increasing; none where ``a`` is silent (a plateau's first frame
        counts once: strictly above the frame before, at least the frame after).
    """
    top = float(a.max()) if a.size else 0.0
    if top <= 0:
        return np.zeros(0, int)
    inner = (a[1:-1] > a[:-2]) & (a[1:-1] >= a[2:]) & (a[1:-1] >= share * top)
    return np.flatnonzero(inner) + 1
