"""Memory given back to the operating system before its array is freed: the pages of a
stretch of a large array that nothing will read again.

Why: the drum stems of a 3-minute stereo 44.1-kHz song (318 MB) are made from its STFT
(254 MB), a range of frames at a time, and the STFT is freed only once every stem is done,
so for a while both are held whole.  Fresh memory is what these runs pay for most on a
virtual machine whose host takes back free pages (docs/performance.md, the speed45 and
speed46 rounds); the frames a range has finished with, given back as it goes, are the pages
the stems' next samples take.  Only whole :data:`BLOCK`-sized, -aligned blocks are given
back (a transparent huge page's part would only be split, not freed); elsewhere than on
Linux, nothing is done.
"""

from __future__ import annotations

import ctypes
import sys

import numpy as np

__all__ = ["BLOCK", "give_back"]

#: The blocks given back: whole, aligned transparent huge pages of x86-64 and arm64 Linux
#: (with 4-KB pages, 512 of them).
BLOCK = 2 * 2**20
_MADV_DONTNEED = 4


def _madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):  # pragma: no cover - a libc without madvise
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_MADVISE = _madvise()


def give_back(array: np.ndarray, start: int, stop: int) -> int:
    """Give back the pages of bytes ``start … stop − 1`` of ``array``'s data that fill
    whole :data:`BLOCK`-aligned blocks: read again they hold zeros.  The caller must not
    read that stretch again (nor let anyone else).

    Parameters
    ----------
    array : ndarray, C-contiguous, writeable
    start, stop : int
        Byte offsets into ``array``'s data, ``0 <= start <= stop <= array.nbytes``.

    Returns
    -------
    int
        Where the next call may start: the end of the last block given back, or ``start``
        when none was (so calls over consecutive stretches give back every whole block).
    """
    if _MADVISE is None or stop <= start or not array.flags.c_contiguous or not array.flags.writeable:
        return start
    base = array.ctypes.data
    lo = -(-(base + start) // BLOCK) * BLOCK
    hi = (base + min(stop, array.nbytes)) // BLOCK * BLOCK
    if hi <= lo:
        return start
    if _MADVISE(ctypes.c_void_p(lo), ctypes.c_size_t(hi - lo), _MADV_DONTNEED) != 0:
        return start  # refused (e.g. locked memory): kept, as before
    return hi - base
