"""Lists of hit times (s): which lie near another list's."""

from __future__ import annotations

import numpy as np

__all__ = ["near"]


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
