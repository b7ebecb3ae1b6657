"""Helpers for the hostile-input tests (test_safety, test_cli_errors, test_plots): small
signals and files made at test time, the CLI in-process and as a subprocess."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from nmfaudio.cli import main

SR = 8000
#: Small STFT and few iterations: every CLI run here takes well under a second of work.
FAST = ["--n-fft", "256", "--hop-length", "64", "--max-iter", "20"]


def tones(n: int = 2000, channels: int = 1, sr: int = SR) -> np.ndarray:
    """Two partials per channel, float32; (n,) or (channels, n)."""
    t = np.arange(n) / sr
    y = np.stack([0.5 * np.sin(2 * np.pi * (300 + 40 * c) * t) + 0.3 * np.sin(2 * np.pi * (1500 + 70 * c) * t)
                  for c in range(channels)])
    return (y[0] if channels == 1 else y).astype(np.float32)


def write(path: Path, y: np.ndarray, sr: int = SR, **kwargs) -> Path:
    sf.write(path, y.T if y.ndim == 2 else y, sr, **kwargs)
    return path


def one_error_line(err: str) -> str:
    """The only stderr line (no traceback)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected exactly one stderr line, got: {err!r}"
    assert "Traceback" not in err
    return lines[0]


def cli(argv, capsys):
    """Run the CLI in this process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _terminal_signal_defaults() -> None:
    # A test runner started in the background ('cmd &' in a script: SIGINT ignored) or under
    # nohup (SIGHUP ignored) passes those dispositions on, and the CLI rightly keeps an
    # inherited SIG_IGN; the signal tests need the run a terminal would start.
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


def start_cli(*args, **kwargs) -> subprocess.Popen:
    """``python -m nmfaudio ARGS`` as a subprocess (text pipes), with the default handling
    of SIGINT, SIGHUP and SIGTERM whatever this process inherited."""
    return subprocess.Popen([sys.executable, "-m", "nmfaudio", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_terminal_signal_defaults, **kwargs)


def wait_for(condition, process: subprocess.Popen) -> None:
    """Poll ``condition()`` until it holds; fail if ``process`` ends first.

    This waits for a *state* (a file appears, a folder fills), never for a fixed time: on a
    loaded machine a cold numba compilation alone took 161 s.  A state that never comes is
    ended by the suite's one hang guard, pytest-timeout (``timeout`` in pyproject.toml)."""
    while not condition():
        assert process.poll() is None, f"the run ended first: {process.communicate()}"
        time.sleep(0.01)


def long_song(path: Path, seconds: float = 20.0) -> Path:
    """A recording long enough that a factorization with many iterations is still running
    when a test acts on it."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    y = sum(0.1 * np.sin(2 * np.pi * f * t) * (rng.random(t.size) < 0.5 + 0.5 * np.sin(t * (1 + i)))
            for i, f in enumerate((220, 330, 440, 660, 880, 1320)))
    return write(path, np.asarray(y, np.float32))
