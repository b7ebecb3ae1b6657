"""The tempo ``quantize`` fits (``nmfaudio drums --quantize GRID``) against the known tempo.

Material: ``benchmarks/performances.py`` performances (regular and ride-style, ``-n`` per
seed) on the kits of the tuning set, or the six Hydrogen kits of the transcription
benchmark with ``--held-out``; or the bundled ``data/drum_loop.wav`` (110 BPM) with
``--loop``.  Hits: the performances' own notes (their humanized timing: N(0, 6 ms)
clipped at 15 ms), so the tempo fit is measured alone; with ``--separate`` the hits of
``separate_drums(..., random_state=0).hits()`` on the GMRockKit renders.

Per grid (4, 8, 16, 32, 12, 24): how often the fitted tempo is within 1 % of the played
one ("right"), within 2 % of twice or half of it ("octave"), neither ("other"), how
often no tempo fitted (``tempo_fit`` False), and the median |distance| of the hits to
the grid laid (ms).  The beat tracker's tempo over the played one is counted too.

    python benchmarks/quantize_tempo.py                    # tuning seeds 0, 2, 4, 6, 8, -n 4
    python benchmarks/quantize_tempo.py --separate         # the separation's hits (GMRockKit)
    python benchmarks/quantize_tempo.py --loop             # the bundled loop
    python benchmarks/quantize_tempo.py --held-out --seeds 117   # once, held out

Main's numbers: the same command with ``PYTHONPATH`` on a ``git archive`` of main.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import performances  # noqa: E402
import transcription  # noqa: E402

#: The kits of the drums benchmark's tuning set.
TUNING_KITS = ("GMRockKit", "Audiophob", "BJA_Pacific", "fluidr3:0")
GRIDS = (4, 8, 16, 32, 12, 24)
#: Tracker tempo / played tempo ratios named in the count (within 3 %).
RATIOS = {"1": 1, "2": 2, "1/2": 1 / 2, "3/2": 3 / 2, "2/3": 2 / 3, "4/3": 4 / 3, "3/4": 3 / 4}
LOOP_BPM = 110.0


def _memoize_tracker():
    """Run librosa's beat tracker once per recording (``quantize`` calls it per grid)."""
    import librosa

    track, memo = librosa.beat.beat_track, {}

    def cached(**kwargs):
        key = hashlib.sha1(np.ascontiguousarray(kwargs["y"]).tobytes()).hexdigest() + repr(
            sorted((k, v) for k, v in kwargs.items() if k != "y"))
        if key not in memo:
            memo[key] = track(**kwargs)
        return memo[key]

    librosa.beat.beat_track = cached


def known_hits(rendered):
    """The performance's notes as ``DrumHits`` (strength: the velocity)."""
    from nmfaudio.drums.hit_results import ClassHits, DrumHits

    hits = {}
    for name in performances.CLASSES:
        notes = sorted((n["time"], n["velocity"]) for n in rendered["notes"] if n["class"] == name)
        if notes:
            times, velocity = (np.array(v) for v in zip(*notes))
            hits[name] = ClassHits(name, 36, times, velocity, np.clip(np.rint(velocity * 127), 1, 127).astype(int))
    return DrumHits(hits)


def grid_distances(hits, snapped, grid):
    """|distance| (s) of every hit to the grid ``quantize`` laid, shape (n_hits,): its
    step from the fitted tempo, its phase the median of the snapped times modulo it."""
    step = 60.0 / snapped.bpm / (grid / 4)
    laid = np.concatenate([np.zeros(0), *(c.times for c in snapped)])
    phase = float(np.median(laid % step)) if laid.size else 0.0
    off = np.concatenate([np.zeros(0), *(c.times for c in hits)]) - phase
    return np.abs(off - np.rint(off / step) * step)


def ratio_name(ratio):
    return next((name for name, value in RATIOS.items() if abs(ratio / value - 1) < 0.03), f"{ratio:.2f}")


def material(args):
    """(name, played bpm, mixture, sr, hits) per recording."""
    import nmfaudio

    if args.loop:
        y, sr = nmfaudio.load(HERE.parent / "data" / "drum_loop.wav")
        yield "drum_loop", LOOP_BPM, y, sr, nmfaudio.separate_drums(y, sr, random_state=0).hits()
        return
    kits = performances.HYDROGEN_KITS if args.held_out else TUNING_KITS
    for seed in args.seeds:
        rendered = performances.render_performances(kits, n=args.n, seed=seed)
        rendered += transcription.ride_performances(kits, n=args.n, seed=seed)
        for m in rendered:
            if args.separate and not m["name"].startswith("GMRockKit"):
                continue
            hits = nmfaudio.separate_drums(m["mix"], m["sr"], random_state=0).hits() if args.separate \
                else known_hits(m)
            yield m["name"], m["bpm"], m["mix"], m["sr"], hits


def main(argv=None) -> int:
    import librosa

    from nmfaudio.drums.tempo_grid import quantize

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 2, 4, 6, 8])
    parser.add_argument("-n", type=int, default=4, help="performances per seed and style (default 4)")
    parser.add_argument("--held-out", action="store_true", help="the six Hydrogen kits (performances.HYDROGEN_KITS)")
    parser.add_argument("--separate", action="store_true", help="the separation's hits, GMRockKit renders only")
    parser.add_argument("--loop", action="store_true", help="the bundled data/drum_loop.wav")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per recording whose tempo is not right")
    args = parser.parse_args(argv)
    _memoize_tracker()
    locks = collections.Counter()
    counts = {g: collections.Counter() for g in GRIDS}
    distances = {g: [] for g in GRIDS}
    n = 0
    for name, bpm, y, sr, hits in material(args):
        n += 1
        mono = y if y.ndim == 1 else y.mean(axis=0)
        tempo, beats = librosa.beat.beat_track(y=mono, sr=sr, hop_length=512, units="time")
        tracked = 60.0 / float(np.polyfit(np.arange(len(beats)), beats, 1)[0]) if len(beats) >= 4 \
            else float(np.atleast_1d(tempo)[0])
        locks[ratio_name(tracked / bpm)] += 1
        wrong = {}
        for grid in GRIDS:
            snapped = quantize(hits, y, sr, grid=grid)
            ratio = snapped.bpm / bpm
            kind = "right" if abs(ratio - 1) <= 0.01 else (
                "octave" if min(abs(ratio / 2 - 1), abs(ratio * 2 - 1)) <= 0.02 else "other")
            counts[grid][kind] += 1
            counts[grid]["unfit"] += snapped.tempo_fit is False
            distances[grid].extend(grid_distances(hits, snapped, grid))
            if kind != "right":
                wrong[grid] = round(snapped.bpm, 1)
        if args.verbose and wrong:
            print(f"{name}: played {bpm:.1f}, tracker {tracked:.1f} BPM; read {wrong}")
    print(f"{n} recordings; tracker tempo / played tempo: {dict(locks.most_common())}")
    print("| grid | right (1 %) | octave | other | no tempo fits | median |distance to grid| (ms) |")
    print("|---|---|---|---|---|---|")
    for grid in GRIDS:
        c = counts[grid]
        print(f"| {grid} | {c['right']} | {c['octave']} | {c['other']} | {c['unfit']} | "
              f"{np.median(distances[grid]) * 1000:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
