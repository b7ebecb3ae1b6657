"""numba's first load on a thread beside the DC offset and the STFT
(:class:`nmfaudio.drums.track_reads.KernelLoad`, docs/performance.md, the speed49 round):
the digital silence found in NumPy meanwhile is the compiled kernel's, the thread is joined
before the main thread calls a kernel, and its errors reach the caller."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nmfaudio.drums import track_reads
from nmfaudio.drums.separation import dc_offset

ROOT = Path(__file__).resolve().parents[1]


def _with_edges(rng, n, dtype):
    """Random samples with runs of zeros of 31, 32 and more samples, at both ends, -0.0
    among them, isolated zeros and a NaN (not a zero)."""
    y = rng.standard_normal(n).astype(dtype)
    y[:40] = 0  # a run at the start
    y[-32:] = 0  # exactly SILENT_RUN at the end
    y[100:131] = 0  # 31: too short
    y[200:232] = 0  # 32: a run
    y[300:400] = -0.0
    y[500] = np.nan
    y[501:540] = 0
    y[rng.choice(n, 50)] = 0  # isolated zeros (some joining the runs)
    return y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_silence_is_the_kernels(dtype):
    rng = np.random.default_rng(0)
    for n in (1000, 4099, 65537):
        y = np.stack([_with_edges(rng, n, dtype), _with_edges(rng, n, dtype)[::-1].copy()])
        compiled, numpy = track_reads.silent_runs(y), track_reads.silent_runs(y, compiled=False)
        assert len(compiled) == len(numpy) == 2
        for (a, b), (c, d) in zip(compiled, numpy):
            assert len(a) > 2 and np.array_equal(a, c) and np.array_equal(b, d)
        assert np.array_equal(track_reads.n_silent(y), track_reads.n_silent(y, compiled=False))
        finite = np.nan_to_num(y)
        assert np.array_equal(dc_offset(finite), dc_offset(finite, compiled=False))
        offset = np.array([[0.1], [-0.2]], dtype)
        assert np.array_equal(track_reads.without_offset(finite, offset),
                              track_reads.without_offset(finite, offset, compiled=False))


class _Failing:
    signatures = []  # "not loaded yet"

    def __call__(self, *args):
        raise RuntimeError("the load failed")


def test_load_error_reaches_join(monkeypatch):
    monkeypatch.setattr(track_reads, "_zero_runs", _Failing())
    loading = track_reads.KernelLoad()
    thread = loading.thread
    assert loading.running and thread.name == "nmfaudio-numba-load"
    with pytest.raises(RuntimeError, match="the load failed"):
        loading.join()
    assert not thread.is_alive() and not loading.running
    loading.join()  # said once


def test_nothing_started_when_loaded():
    track_reads.silent_runs(np.zeros(64, np.float32))  # numba loaded in this process
    loading = track_reads.KernelLoad()
    assert not loading.running
    loading.join()


#: A new process (numba not loaded yet): which thread calls the first kernel, whether the
#: main thread calls one while the load runs, and whether the load outlives the separation.
SCRIPT = r"""
import threading
import numpy as np
from nmfaudio import separate_drums
from nmfaudio.drums import track_reads

kernel, calls, loaders = track_reads._zero_runs, [], []

class Watched:
    @property
    def signatures(self):
        return kernel.signatures
    def __call__(self, *args):
        calls.append((threading.current_thread().name, any(t.is_alive() for t in loaders)))
        return kernel(*args)

start = threading.Thread.start
def started(thread):
    if thread.name == "nmfaudio-numba-load":
        loaders.append(thread)
    return start(thread)
threading.Thread.start = started
track_reads._zero_runs = Watched()
rng = np.random.default_rng(0)
y = (0.1 * rng.standard_normal(22050 * 2)).astype(np.float32)
y[:4000] = 0
separate_drums(y, 22050, random_state=0, max_iter=2)
print("LOADERS", len(loaders), any(t.is_alive() for t in loaders))
print("FIRST", calls[0][0])
print("MAIN_DURING_LOAD", sum(1 for name, alive in calls if name == "MainThread" and alive))
"""


def test_loaded_beside_and_joined(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert out["LOADERS"] == "1 False"  # one loader, joined by the time separate_drums returned
    assert out["FIRST"] == "nmfaudio-numba-load"
    assert out["MAIN_DURING_LOAD"] == "0"  # no kernel called by the main thread before the join
