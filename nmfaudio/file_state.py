"""Whether an input file stayed the same while a run read it.

A run that reads its input more than once — block-wise ``drums`` reads it for the DC
offset, then block by block, then again for the hits — gets inconsistent data when the
file is replaced (an editor saving ``take.wav`` again, ``mv new.wav take.wav``, a sync
tool) or rewritten meanwhile: the passes disagree on the length, and the library's
checks then named arrays the user never gave (``mixture has 384872 samples but
signals['kick'] has 1347052``).  :func:`unchanged_during` names the file instead.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

__all__ = ["InputChangedError", "file_state", "unchanged_during"]


class InputChangedError(ValueError):
    """The input file was replaced or rewritten while the run read it."""


def file_state(path) -> tuple | None:
    """What identifies ``path``'s contents cheaply: ``(device, inode, size, mtime_ns)`` of
    the file it names (links followed), or None when it cannot be read (gone).

    A rename over it changes the inode, a rewrite in place the size or the modification
    time; the contents are not read (a whole extra pass over a long file)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _changed(path) -> InputChangedError:
    return InputChangedError(
        f"{str(path)!r} changed while it was being read (replaced, rewritten or touched during the run), so "
        "its passes may have read different audio; no output was written: run again once nothing writes to it")


@contextmanager
def unchanged_during(path, before=None):
    """Run the block, then raise :class:`InputChangedError` if ``path`` is no longer the
    file (or contents) it was when the block began.

    An error the block raises is replaced by that one when the file changed meanwhile:
    the change is its cause, and the error itself (a length mismatch between two reads)
    names nothing the user gave.  Use it inside :func:`nmfaudio.audio.atomic_outputs`,
    so that the error comes before any output is published.

    Parameters
    ----------
    path : str or os.PathLike
        The input file.
    before : tuple, optional
        Its :func:`file_state` when the run first read it (default: when the block begins).

    Raises
    ------
    InputChangedError
        A ValueError: ``'take.wav' changed while it was being read ...``.
    """
    before = file_state(path) if before is None else before
    try:
        yield
    except Exception as exc:
        if file_state(path) != before:
            raise _changed(path) from exc
        raise
    if file_state(path) != before:
        raise _changed(path)
