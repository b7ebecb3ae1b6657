"""End-to-end drum separation time: read a file, separate, write its six WAVs.

The input is the bundled drum loop (22.05 kHz mono) tiled to 1, 3 and 10 minutes and
written to a temporary WAV; each run times ``load`` → ``separate_drums`` → ``save`` as a
user's ``nmfaudio drums`` would (the command line adds only its import time, printed
separately). Prints the median of several runs, the real-time factor and the growth
with duration.

    python benchmarks/pipeline.py            # 1, 3, 10 minutes, 3 runs each
    python benchmarks/pipeline.py --quick    # 1 and 3 minutes, 2 runs
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from _machine import machine_lines

import nmfaudio

LOOP = Path(__file__).resolve().parent.parent / "data" / "drum_loop.wav"


def make_input(minutes: float, folder: Path) -> Path:
    """The bundled loop tiled to ``minutes``, as a 16-bit WAV in ``folder``."""
    loop, sr = sf.read(LOOP, dtype="float32")
    n = int(minutes * 60 * sr)
    y = np.resize(loop, n)
    path = folder / f"drums_{minutes:g}min.wav"
    sf.write(path, y, sr, subtype="PCM_16")
    return path


def one_run(path: Path, out: Path) -> float:
    """Seconds for load → separate_drums → save (outputs overwritten between runs)."""
    start = time.perf_counter()
    y, sr = nmfaudio.load(path)
    result = nmfaudio.separate_drums(y, sr, random_state=0)
    result.save(out, overwrite=True)
    return time.perf_counter() - start


def cli_import_seconds() -> float:
    """Start-up of ``python -m nmfaudio --help`` (interpreter + lazy imports)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nmfaudio", "--help"], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 3 minutes, 2 runs each")
    parser.add_argument("--minutes", type=float, nargs="+", default=None)
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    minutes = args.minutes or ([1, 3] if args.quick else [1, 3, 10])
    runs = args.runs or (2 if args.quick else 3)

    for line in machine_lines():
        print(line)
    print(f"command: python benchmarks/pipeline.py {' '.join(sys.argv[1:])}".rstrip())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # Warm-up: imports, numba compilation and the bundled templates are paid once.
        one_run(make_input(0.2, folder), folder / "warm")
        print()
        print("| audio | runs | median s | min s | real-time factor | s per audio minute |")
        print("|---|---:|---:|---:|---:|---:|")
        per_minute = []
        for m in minutes:
            path = make_input(m, folder)
            times = [one_run(path, folder / f"out_{m:g}") for _ in range(runs)]
            median = statistics.median(times)
            per_minute.append(median / m)
            print(f"| {m:g} min | {runs} | {median:.2f} | {min(times):.2f} | {median / (m * 60):.4f} | {median / m:.2f} |")
        print()
        print(f"growth: seconds per audio minute from {minutes[0]:g} to {minutes[-1]:g} min: "
              f"{per_minute[0]:.2f} → {per_minute[-1]:.2f} (constant = linear in duration)")
        print(f"CLI start-up (python -m nmfaudio --help): {cli_import_seconds():.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
