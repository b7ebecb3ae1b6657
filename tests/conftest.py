"""Fixtures shared by the test files: a seeded generator, test signals, planted low-rank
matrices, the command line run in-process, and the one-line-error check.

Helpers that a test calls with arguments are fixtures returning a function (pytest's
"factory as fixture" pattern), so that every test file gets the same copy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

#: Sampling rate of the small test signals.
SR = 8000


@pytest.fixture
def rng():
    """A numpy Generator seeded with 0 (a fresh one per test)."""
    return np.random.default_rng(0)


def _tones(sr=SR, n=None, channels=1, *, seconds=0.25):
    """Two partials per channel (different per channel), float32; (n,) or (channels, n)."""
    n = int(seconds * sr) if n is None else n
    t = np.arange(n) / sr
    y = np.stack([0.5 * np.sin(2 * np.pi * (300 + 40 * c) * t) * (t < seconds * 0.6)
                  + 0.3 * np.sin(2 * np.pi * (1500 + 70 * c) * t) * (t > seconds * 0.3)
                  for c in range(channels)])
    return (y[0] if channels == 1 else y).astype(np.float32)


@pytest.fixture
def tones():
    """``tones(sr=8000, n=None, channels=1, *, seconds=0.25)``: a short float32 signal of
    two partials per channel (one sounding early, one late, overlapping in the middle);
    shape (n,) or (channels, n)."""
    return _tones


def _planted(shape=(40, 50), rank=4, seed=0, dtype=np.float64, *, offset=0.1):
    """An exactly rank-``rank`` non-negative matrix V = W H and its factors."""
    generator = np.random.default_rng(seed)
    W = generator.random((shape[0], rank)) + offset
    H = generator.random((rank, shape[1])) + offset
    return (W @ H).astype(dtype), W, H


@pytest.fixture
def planted():
    """``planted(shape=(40, 50), rank=4, seed=0, dtype=float64, *, offset=0.1)`` →
    ``(V, W, H)``: V (shape) of exact rank ``rank``, W and H uniform on [offset, 1 + offset)."""
    return _planted


@pytest.fixture
def ratings():
    """A (6, 6) ratings matrix: rows are 3 Marvel films then 3 Lord of the Rings films,
    columns 6 viewers — the first three rate Marvel high, the last three LOTR."""
    return np.array([
        [5, 4, 5, 1, 0, 1],
        [4, 5, 4, 0, 1, 0],
        [5, 5, 4, 1, 1, 0],
        [0, 1, 0, 5, 4, 5],
        [1, 0, 1, 4, 5, 5],
        [0, 1, 1, 5, 5, 4],
    ], dtype=float)


def _write_audio(path, y, sr=SR, **kwargs):
    """Write ``y`` ((n,) or (channels, n)) with soundfile; return ``path``."""
    import soundfile as sf

    sf.write(path, y.T if y.ndim == 2 else y, sr, **kwargs)
    return path


@pytest.fixture
def write_audio():
    """``write_audio(path, y, sr=8000, **soundfile_kwargs) -> path`` (e.g. ``subtype="FLOAT"``)."""
    return _write_audio


def _file_tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture
def file_tree():
    """``file_tree(folder) -> {relative path: bytes}`` for every file below ``folder``
    (to check that nothing was written, changed or left behind)."""
    return _file_tree


@pytest.fixture
def cli(capsys):
    """``cli(argv) -> (exit code, stdout, stderr)``: ``nmfaudio ARGV`` run in this process
    (arguments may be paths)."""
    from nmfaudio.cli import main

    def run(argv):
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _one_line_error(err: str, *needles, prefix: str | None = "nmfaudio: error:") -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected exactly one stderr line, got: {err!r}"
    assert "Traceback" not in err
    if prefix is not None:
        assert lines[0].startswith(prefix), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def one_line_error():
    """``one_line_error(stderr, *needles, prefix="nmfaudio: error:") -> the line``: assert
    that stderr is exactly one line, without a traceback, starting with ``prefix`` (None:
    any start) and containing every needle."""
    return _one_line_error


@pytest.fixture
def nmfaudio_process():
    """``nmfaudio_process(*args, **popen_kwargs) -> subprocess.Popen``: ``python -m nmfaudio
    ARGS`` in a child process (text stdout and stderr piped), for exit codes and signals."""
    from hostile import start_cli

    return start_cli
