"""Drums out of a full song: drum stems and accompaniment from drums + bass, keys, pads.

Material: :mod:`songs` — a realistic drum performance (:mod:`performances`) plus a seeded
FluidR3 GM arrangement, stereo 44.1 kHz, at several drum-to-music ratios (``--dmr``).

Rows (methods):

* ``separate_drums`` — ``nmfaudio.separate_drums(mix, sr)`` with its defaults; the drums
  are the sum of its drum stems, the accompaniment its residual;
* ``HPSS`` — ``librosa.effects.hpss`` (margin 1): percussive = drums, harmonic =
  accompaniment (no per-drum stems);
* ``HPSS → separate_drums`` — the drum separation run on HPSS's percussive part; its
  residual plus the harmonic part is the accompaniment;
* ``oracle ratio mask`` — ``|S_i| / Σ_j |S_j|`` over the true drum classes and the
  accompaniment, applied to the mixture's STFT (the ceiling for masks at n_fft 2048).

Scores: BSS Eval SDR (``nmfaudio.metrics.sdr``) of the channel average: per drum class
(references: the classes the method returns plus "the rest", i.e. everything else),
all drums together and the accompaniment (references: drums, accompaniment; "other"
percussion counts as drums, as in a drum recording).  Means over songs, per ratio.

    python benchmarks/full_song.py                   # 4 songs × dmr -6, 0, +6 dB, GMRockKit
    python benchmarks/full_song.py --kit fluidr3:0 --seconds 20 -n 2
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import songs  # noqa: E402

N_FFT, HOP = 2048, 512


def _mono(x):
    x = np.asarray(x, dtype=np.float64)
    return x.mean(axis=0) if x.ndim == 2 else x


def _oracle(song):
    """Oracle ratio-mask estimates: {class: (2, n)} and the accompaniment."""
    from nmfaudio import spectrum

    names = [c for c in songs.performances.CLASSES] + ["accompaniment"]
    refs = [song["stems"][c] for c in songs.performances.CLASSES] + [song["accompaniment"]]
    X = spectrum.stft(song["mix"], n_fft=N_FFT, hop_length=HOP)
    S = np.stack([np.abs(spectrum.stft(r, n_fft=N_FFT, hop_length=HOP)) for r in refs])
    total = S.sum(axis=0)
    M = np.where(total > 0, S / np.where(total > 0, total, 1), 1 / len(refs))
    n = song["mix"].shape[-1]
    est = {name: spectrum.istft(m * X, n_fft=N_FFT, hop_length=HOP, length=n) for name, m in zip(names, M)}
    drums = sum(est[c] for c in songs.performances.CLASSES)
    return {c: est[c] for c in songs.performances.CLASSES if c != "other"}, drums, est["accompaniment"]


def _separate_drums(mix, sr):
    import nmfaudio

    result = nmfaudio.separate_drums(mix, sr, random_state=0)
    stems = {c: result.sources[c] for c in result.classes}
    return stems, sum(stems.values()), result.sources["residual"]


def _hpss(mix, sr):
    import librosa

    harmonic = np.stack([librosa.effects.hpss(ch, margin=1.0)[0] for ch in mix])
    return {}, mix - harmonic, harmonic


def _hpss_then_drums(mix, sr):
    import librosa

    harmonic = np.stack([librosa.effects.hpss(ch, margin=1.0)[0] for ch in mix])
    stems, drums, residual = _separate_drums((mix - harmonic).astype(np.float32), sr)
    return stems, drums, residual + harmonic


METHODS = {"separate_drums": _separate_drums, "HPSS": _hpss, "HPSS → separate_drums": _hpss_then_drums,
           "oracle ratio mask": None}


def score(song, stems, drums, accompaniment):
    """{name: SDR dB} for each returned class, 'drums' and 'accompaniment'."""
    from nmfaudio.metrics import sdr

    out = {}
    classes = [c for c in stems if song["stems"].get(c) is not None and np.any(song["stems"][c])]
    if classes:
        refs = [_mono(song["stems"][c]) for c in classes]
        rest = _mono(song["mix"]) - sum(refs)
        est = [_mono(stems[c]) for c in classes]
        est_rest = _mono(song["mix"]) - sum(est)
        if np.any(est_rest) and all(np.any(e) for e in est):
            values = sdr(np.stack(refs + [rest]), np.stack(est + [est_rest]))
            out.update({c: float(v) for c, v in zip(classes, values)})
    values = sdr(np.stack([_mono(song["drums"]), _mono(song["accompaniment"])]),
                 np.stack([_mono(drums), _mono(accompaniment)]))
    out["drums"], out["accompaniment"] = float(values[0]), float(values[1])
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kit", action="append", help="drum kit (repeatable; default GMRockKit)")
    parser.add_argument("-n", type=int, default=4, help="songs per kit and ratio")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each song")
    parser.add_argument("--dmr", type=float, action="append", help="drums-to-music ratio in dB (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="first song seed")
    args = parser.parse_args(argv)
    kits = args.kit or ["GMRockKit"]
    ratios = args.dmr or [-6.0, 0.0, 6.0]
    print(f"# {platform.processor() or platform.machine()} — {_cpu()}; kits {kits}; {args.n} songs of "
          f"{args.seconds:g} s per ratio, seeds {args.seed}..{args.seed + args.n - 1}")
    columns = ["kick", "snare", "toms", "hihat", "cymbals", "mean3", "drums", "accompaniment", "s/song"]
    print("| dmr dB | method | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for dmr in ratios:
        rows = {name: [] for name in METHODS}
        times = {name: [] for name in METHODS}
        for kit in kits:
            for seed in range(args.seed, args.seed + args.n):
                song = songs.render_song(seed, kit, dmr_db=dmr, seconds=args.seconds)
                for name, method in METHODS.items():
                    started = time.perf_counter()
                    result = _oracle(song) if method is None else method(song["mix"], song["sr"])
                    times[name].append(time.perf_counter() - started)
                    rows[name].append(score(song, *result))
        for name, scores in rows.items():
            cells = []
            for column in columns:
                if column == "s/song":
                    cells.append(f"{statistics.median(times[name]):.2f}")
                    continue
                if column == "mean3":
                    values = [np.mean([s[c] for c in ("kick", "snare", "hihat")]) for s in scores
                              if all(c in s for c in ("kick", "snare", "hihat"))]
                else:
                    values = [s[column] for s in scores if column in s]
                cells.append(f"{np.mean(values):.1f}" if values else "–")
            print(f"| {dmr:+.0f} | {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


def _cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
