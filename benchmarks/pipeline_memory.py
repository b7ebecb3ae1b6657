"""Peak memory of separation against duration: in memory vs block-wise.

For each duration (1, 3 and 10 minutes of stereo 44.1 kHz audio by default) this writes a
music-like test file (the bundled drum loop, resampled and varied, under seeded tones),
then separates it in a fresh Python process — once in memory (``nmfaudio.separate(path)``
then ``.save()``) and once block-wise (``nmfaudio.separate_file(path, ..., block_seconds)``)
— and reports:

* the peak of the memory NumPy and Python allocate (tracemalloc; NumPy reports its
  buffers to it), which is what the separation itself needs;
* the process's peak resident memory (``ru_maxrss``), and that of the same process after
  the imports and a warm-up separation (libraries, compiled kernels), before the run;
* the wall time;
* how close the block-wise tracks are to the in-memory ones: SI-SDR of each block-wise
  track against its in-memory counterpart (dB), and the largest sample difference over
  the mixture's peak.

Usage::

    python benchmarks/pipeline_memory.py            # 1, 3, 10 minutes (about 20 minutes on 2 cores)
    python benchmarks/pipeline_memory.py --quick    # 10 and 30 seconds
    python benchmarks/pipeline_memory.py --minutes 1 2 --beta frobenius --k 6

Defaults: k = 4, β = KL, at most 200 iterations, n_fft 2048, hop 512, blocks of 30 s,
templates learned on at most 20 000 columns (``LEARN_FRAMES``).  Needs about 2.5 GB of
free disk space in the temporary folder for 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_lines  # noqa: E402

SR = 44100
ROOT = Path(__file__).resolve().parent.parent
LOOP = ROOT / "data" / "drum_loop.wav"


# --- input --------------------------------------------------------------------------------


def write_input(path: Path, minutes: float, *, seed: int = 0, chunk_seconds: float = 8.0) -> None:
    """Stereo 44.1 kHz 16-bit WAV of ``minutes``: the drum loop (varied gain and panning per
    repetition) under seeded pentatonic tones; written chunk by chunk."""
    import librosa
    import soundfile as sf

    loop, loop_sr = sf.read(LOOP, dtype="float32")
    loop = loop.mean(axis=1) if loop.ndim == 2 else loop
    loop = librosa.resample(loop, orig_sr=loop_sr, target_sr=SR)
    rng = np.random.default_rng(seed)
    scale = 220.0 * 2 ** (np.array([0, 2, 4, 7, 9, 12, 14, 16]) / 12)
    total = int(minutes * 60 * SR)
    chunk = int(chunk_seconds * SR)
    with sf.SoundFile(str(path), "w", SR, 2, "PCM_16") as handle:
        for start in range(0, total, chunk):
            n = min(chunk, total - start)
            t = np.arange(n) / SR
            drums = np.resize(loop, n) * rng.uniform(0.5, 1.0)
            pan = rng.uniform(0.2, 0.8)
            notes = np.zeros(n)
            for onset in np.arange(0, n, SR // 4):
                f0 = rng.choice(scale)
                length = min(n - onset, SR // 2)
                tt = t[:length]
                notes[onset:onset + length] += 0.15 * np.exp(-3 * tt) * sum(
                    0.5**h * np.sin(2 * np.pi * f0 * (h + 1) * tt) for h in range(3))
            left = pan * drums + (1 - pan) * notes
            right = (1 - pan) * drums + pan * notes
            handle.write(np.clip(np.stack([left, right], axis=1), -1, 1))


# --- one measurement in a fresh process ---------------------------------------------------


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(mode: str, path: str, out: str, options: dict) -> dict:
    """Run one separation; return its measurements (called in a fresh process)."""
    import tracemalloc
    import warnings

    import soundfile as sf

    import nmfaudio

    kwargs = dict(n_components=options["k"], beta=options["beta"], max_iter=options["max_iter"], random_state=0)
    warnings.simplefilter("ignore")
    # warm-up: the engine's kernels compile or load on first use
    with tempfile.TemporaryDirectory() as scratch:
        tiny = Path(scratch) / "tiny.wav"
        sf.write(tiny, np.random.default_rng(0).standard_normal((SR, 2)).astype(np.float32) * 0.1, SR)
        nmfaudio.separate(tiny, **kwargs).save(Path(scratch) / "a")
        nmfaudio.separate_file(tiny, Path(scratch) / "b", block_seconds=0.5, **kwargs)
    baseline = _max_rss_mb()
    tracemalloc.start()
    started = time.perf_counter()
    if mode == "memory":
        result = nmfaudio.separate(path, **kwargs)
        result.save(out)
        n_iter = result.n_iter
        del result
    else:
        result = nmfaudio.separate_file(path, out, block_seconds=options["block_seconds"], **kwargs)
        n_iter = result.n_iter
    seconds = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"mode": mode, "seconds": seconds, "traced_peak_mb": traced_peak, "baseline_rss_mb": baseline,
            "max_rss_mb": _max_rss_mb(), "n_iter": n_iter}


def measure(mode: str, path: Path, out: Path, options: dict) -> dict:
    command = [sys.executable, __file__, "--child", mode, str(path), str(out), "--options", json.dumps(options)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return {"mode": mode, "error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(memory_dir: Path, block_dir: Path, mixture_path: Path) -> tuple[list[float], float]:
    """SI-SDR (dB) of each block-wise track against the in-memory one; max |difference|
    over the mixture's peak."""
    import soundfile as sf

    from nmfaudio.metrics import si_sdr

    peak = 0.0
    with sf.SoundFile(str(mixture_path)) as handle:
        for block in handle.blocks(blocksize=SR * 30, dtype="float32"):
            peak = max(peak, float(np.abs(block).max()))
    scores, largest = [], 0.0
    for reference in sorted(memory_dir.glob("*.wav")):
        a = sf.read(reference, dtype="float32")[0]
        b = sf.read(block_dir / reference.name, dtype="float32")[0]
        scores.append(float(si_sdr(a.ravel(), b.ravel())))
        largest = max(largest, float(np.abs(a - b).max()))
        del a, b
    return scores, largest / peak


# --- main -----------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 and 30 seconds")
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 3, 10])
    parser.add_argument("--modes", nargs="+", default=["memory", "block"], choices=["memory", "block"])
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--beta", default="kullback-leibler")
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--block-seconds", type=float, default=30.0)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "INPUT", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child, json.loads(args.options))))
        return 0

    minutes = [10 / 60, 30 / 60] if args.quick else args.minutes
    options = {"k": args.k, "beta": args.beta, "max_iter": args.max_iter, "block_seconds": args.block_seconds}
    for line in machine_lines():
        print(line)
    print(f"settings: stereo {SR} Hz, k={args.k}, beta={args.beta}, max_iter={args.max_iter}, n_fft 2048, "
          f"hop 512, block-wise: blocks of {args.block_seconds:g} s, learn_frames 20000\n")
    print("| duration | mode | traced peak (MB) | max RSS (MB) | RSS before run (MB) | time (s) | iterations "
          "| block vs memory: SI-SDR per track (dB) | max diff / peak |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for duration in minutes:
        with tempfile.TemporaryDirectory() as scratch:
            scratch = Path(scratch)
            song = scratch / "song.wav"
            write_input(song, duration)
            results = {mode: measure(mode, song, scratch / mode, options) for mode in args.modes}
            closeness = ""
            if all("error" not in results.get(m, {"error": 1}) for m in ("memory", "block")):
                scores, diff = compare(scratch / "memory", scratch / "block", song)
                closeness = (" ".join(f"{s:.1f}" for s in scores), f"{diff:.2e}")
            label = f"{duration * 60:.0f} s" if duration < 1 else f"{duration:g} min"
            for mode, r in results.items():
                if "error" in r:
                    print(f"| {label} | {mode} | failed: {r['error']} | | | | | | |")
                    continue
                extra = closeness if (closeness and mode == "block") else ("", "")
                print(f"| {label} | {mode} | {r['traced_peak_mb']:.0f} | {r['max_rss_mb']:.0f} | "
                      f"{r['baseline_rss_mb']:.0f} | {r['seconds']:.1f} | {r['n_iter']} | {extra[0]} | {extra[1]} |",
                      flush=True)
                rows.append({"minutes": duration, **r})
    return 0


if __name__ == "__main__":
    sys.exit(main())
