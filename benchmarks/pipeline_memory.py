"""Peak memory of separation against duration: in memory, block-wise, and what the
command line does with its defaults (the memory budget).

For each duration (1 and 10 minutes of stereo 44.1 kHz audio by default) this writes a
music-like test file (the bundled drum loop, resampled and varied, under seeded tones)
into a temporary folder (removed afterwards), then separates it in a fresh Python
process per mode:

* ``memory``: ``nmfaudio.separate(path, max_memory=None)`` then ``.save()``;
* ``block``: ``nmfaudio.separate_file(path, ..., block_seconds)``;
* ``cli``: ``nmfaudio separate PATH -k K -o OUT`` (``nmfaudio.cli.main``) with the
  default ``--max-memory``: in memory or block-wise, as the budget decides;
* ``before``: ``memory`` with the code at ``--before DIR`` (e.g. an export of the
  commit before the memory work) first on the path, for a before/after table.

and reports:

* the peak of the memory NumPy and Python allocate (tracemalloc; NumPy reports its
  buffers to it), which is what the separation itself needs;
* the process's peak resident memory (VmHWM from /proc/self/status, which starts afresh
  at exec — ``ru_maxrss`` would inherit the parent's), and that of the same process after
  the imports and a warm-up separation (libraries, compiled kernels), before the run;
* the wall time, the learning fit's iterations, and (block-wise) every how many frames
  the templates were learned on;
* how close the block-wise tracks are to the in-memory ones: SI-SDR of each block-wise
  track against its in-memory counterpart (dB), and the largest sample difference over
  the mixture's peak;
* how well each mode separates the two known sources of the test file (drums, tones):
  each track is assigned to the source it correlates with most, the tracks of a source
  are summed, and SI-SDR is taken against the true stem (dB) — NMF finds one of many
  local optima, so two runs can differ track by track yet separate equally well.

Usage::

    python benchmarks/pipeline_memory.py                       # 1, 10 minutes; memory, block, cli
    python benchmarks/pipeline_memory.py --quick               # 10 and 30 seconds
    python benchmarks/pipeline_memory.py --minutes 60 --modes cli
    python benchmarks/pipeline_memory.py --minutes 1 10 --modes before memory --before /tmp/base

Defaults: k = 4, β = Frobenius (the command line's default), at most 200 iterations,
n_fft 2048, hop 512, blocks of 30 s, templates learned on at most 20 000 columns
(``LEARN_FRAMES``).  Needs about 2.5 GB of free disk space in the temporary folder for
10 minutes (the test file, its two true stems, the tracks of each mode).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _machine import machine_lines

SR = 44100
ROOT = Path(__file__).resolve().parent.parent
LOOP = ROOT / "data" / "drum_loop.wav"


# --- input --------------------------------------------------------------------------------


def write_input(path: Path, minutes: float, *, seed: int = 0, chunk_seconds: float = 8.0) -> None:
    """Stereo 44.1 kHz 16-bit WAV of ``minutes``: the drum loop (varied gain and panning per
    repetition) under seeded pentatonic tones; written chunk by chunk.  The two sources
    go to ``<stem>_drums.wav`` and ``<stem>_tones.wav`` (float, summing to the mixture
    before its 16-bit rounding)."""
    import librosa
    import soundfile as sf

    loop, loop_sr = sf.read(LOOP, dtype="float32")
    loop = loop.mean(axis=1) if loop.ndim == 2 else loop
    loop = librosa.resample(loop, orig_sr=loop_sr, target_sr=SR)
    rng = np.random.default_rng(seed)
    scale = 220.0 * 2 ** (np.array([0, 2, 4, 7, 9, 12, 14, 16]) / 12)
    total = int(minutes * 60 * SR)
    chunk = int(chunk_seconds * SR)
    stems = [path.with_name(f"{path.stem}_{name}.wav") for name in ("drums", "tones")]
    with sf.SoundFile(str(path), "w", SR, 2, "PCM_16") as handle, \
            sf.SoundFile(str(stems[0]), "w", SR, 2, "FLOAT") as drum_handle, \
            sf.SoundFile(str(stems[1]), "w", SR, 2, "FLOAT") as tone_handle:
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
            drum_part = np.stack([pan * drums, (1 - pan) * drums], axis=1)
            tone_part = np.stack([(1 - pan) * notes, pan * notes], axis=1)
            handle.write(np.clip(drum_part + tone_part, -1, 1))
            drum_handle.write(drum_part)
            tone_handle.write(tone_part)


# --- one measurement in a fresh process ---------------------------------------------------


def _max_rss_mb() -> float:
    """Peak resident memory of this process since its exec (VmHWM), in MiB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB (inherited across exec)


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
    if mode in ("memory", "before"):
        import inspect

        if "max_memory" in inspect.signature(nmfaudio.separate).parameters:
            kwargs["max_memory"] = None  # in memory whatever the budget
        result = nmfaudio.separate(path, **kwargs)
        result.save(out)
        n_iter, stride = result.n_iter, 1
        del result
    elif mode == "cli":
        import contextlib
        import io

        from nmfaudio.cli import main

        summary = io.StringIO()
        with contextlib.redirect_stdout(summary):
            main(["separate", path, "-k", str(options["k"]), "-o", out, "--beta", str(options["beta"]),
                  "--max-iter", str(options["max_iter"]), "--seed", "0", "--json"])
        record = json.loads(summary.getvalue())
        block = record.get("blockwise") or {}
        n_iter, stride = record["n_iter"], block.get("learn_stride", 1)
        if block:
            mode = "cli: block-wise (" + (block.get("reason") or "asked") + ")"
        else:
            mode = "cli: in memory"
    else:
        result = nmfaudio.separate_file(path, out, block_seconds=options["block_seconds"], **kwargs)
        n_iter = result.n_iter
        stride = result.learn_stride
    seconds = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"mode": mode, "seconds": seconds, "traced_peak_mb": traced_peak, "baseline_rss_mb": baseline,
            "max_rss_mb": _max_rss_mb(), "n_iter": n_iter, "learn_stride": stride}


def measure(mode: str, path: Path, out: Path, options: dict, before: str | None = None) -> dict:
    import os

    command = [sys.executable, __file__, "--child", mode, str(path), str(out), "--options", json.dumps(options)]
    env = dict(os.environ)
    if mode == "before":
        env["PYTHONPATH"] = before
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return {"mode": mode, "error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def source_scores(track_dir: Path, mixture_path: Path) -> list[float]:
    """SI-SDR (dB) of the drums and of the tones, each estimated as the sum of the tracks
    that correlate most with it."""
    import soundfile as sf

    from nmfaudio.metrics import si_sdr

    stems = [sf.read(mixture_path.with_name(f"{mixture_path.stem}_{name}.wav"), dtype="float32")[0].ravel()
             for name in ("drums", "tones")]
    estimates = [np.zeros_like(stems[0]) for _ in stems]
    for track_path in sorted(track_dir.glob("*.wav")):
        track = sf.read(track_path, dtype="float32")[0].ravel()
        best = int(np.argmax([np.dot(track.astype(np.float64), stem) / np.linalg.norm(stem) for stem in stems]))
        estimates[best] += track
        del track
    return [float(si_sdr(stem, estimate)) for stem, estimate in zip(stems, estimates)]


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
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--modes", nargs="+", default=["memory", "block", "cli"],
                        choices=["before", "memory", "block", "cli"])
    parser.add_argument("--before", default=None, metavar="DIR",
                        help="the folder holding the nmfaudio package to measure as 'before'")
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--beta", default="frobenius")
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--block-seconds", type=float, default=30.0)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "INPUT", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if "before" in args.modes and not args.before:
        parser.error("--modes before needs --before DIR")
    if args.child:
        print(json.dumps(child(*args.child, json.loads(args.options))))
        return 0

    minutes = [10 / 60, 30 / 60] if args.quick else args.minutes
    options = {"k": args.k, "beta": args.beta, "max_iter": args.max_iter, "block_seconds": args.block_seconds}
    for line in machine_lines():
        print(line)
    print(f"command: python benchmarks/pipeline_memory.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"settings: stereo {SR} Hz, k={args.k}, beta={args.beta}, max_iter={args.max_iter}, n_fft 2048, "
          f"hop 512, block-wise: blocks of {args.block_seconds:g} s, learn_frames 20000\n")
    print("| duration | mode | traced peak (MB) | peak RSS (MB) | RSS before run (MB) | time (s) | iterations "
          "| learned on | drums / tones SI-SDR (dB) | block vs memory: SI-SDR per track (dB) | max diff / peak |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for duration in minutes:
        with tempfile.TemporaryDirectory() as scratch:
            scratch = Path(scratch)
            song = scratch / "song.wav"
            write_input(song, duration)
            results = {mode: measure(mode, song, scratch / mode, options, args.before) for mode in args.modes}
            closeness = ""
            if all("error" not in results.get(m, {"error": 1}) for m in ("memory", "block")):
                scores, diff = compare(scratch / "memory", scratch / "block", song)
                closeness = (" ".join(f"{s:.1f}" for s in scores), f"{diff:.2e}")
            label = f"{duration * 60:.0f} s" if duration < 1 else f"{duration:g} min"
            for mode, r in results.items():
                if "error" in r:
                    print(f"| {label} | {mode} | failed: {r['error']} | | | | | | | | |")
                    continue
                extra = closeness if (closeness and mode == "block") else ("", "")
                quality = " / ".join(f"{x:.1f}" for x in source_scores(scratch / mode, song))
                learned = "all frames" if r["learn_stride"] == 1 else f"1 frame in {r['learn_stride']}"
                print(f"| {label} | {r['mode']} | {r['traced_peak_mb']:.0f} | {r['max_rss_mb']:.0f} | "
                      f"{r['baseline_rss_mb']:.0f} | {r['seconds']:.1f} | {r['n_iter']} | {learned} | {quality} | "
                      f"{extra[0]} | {extra[1]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
