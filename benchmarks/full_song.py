"""Drums out of a full song: drum stems and accompaniment from drums + bass, keys, pads.

Material: :mod:`songs` — a realistic drum performance (:mod:`performances`) plus a seeded
FluidR3 GM arrangement, stereo 44.1 kHz, at several drum-to-music ratios (``--dmr``).

Rows (methods):

* ``separate_drums`` — ``nmfaudio.separate_drums(mix, sr)`` with its defaults
  (``accompaniment="auto"``: the sustained part goes to the accompaniment when the signal
  says it is a song); the drums are the sum of its drum stems, the accompaniment its
  residual (``result.two_stems()``); the ``auto→`` column says how often auto chose "song";
* ``separate_drums, accompaniment off`` — the drum-only model (as before issue 14);
* ``HPSS`` — ``librosa.effects.hpss`` (margin 1): percussive = drums, harmonic =
  accompaniment (no per-drum stems);
* ``HPSS → separate_drums`` — the drum separation run on HPSS's percussive part; its
  residual plus the harmonic part is the accompaniment;
* ``oracle ratio mask`` — ``|S_i| / Σ_j |S_j|`` over the true drum classes and the
  accompaniment, applied to the mixture's STFT (the ceiling for masks at n_fft 2048).

``--drums-only`` scores the same performances without the music (the mixture is the
drums): per-class SDR of ``auto`` against ``accompaniment off`` and the oracle — the check
that drum recordings do not get worse.

``--hits`` also scores the drum hits of the ``separate_drums`` row (``result.hits()``,
what ``nmfaudio drums --midi / --onsets`` writes) against the song's drum notes, as
``benchmarks/transcription.py`` does on drum recordings: onset F-measure (±50 ms) per class,
mean over the songs that play the class, and the median |timing error| of matched hits.

``--metric snr`` replaces BSS Eval by the plain signal-to-error ratio
10·log10(Σ s² / Σ (s − ŝ)²) of the channel average (no distortion filter: lower than or
equal to SDR, and far cheaper on a loaded machine; drums and accompaniment then share the
error signal, since both references and both estimates add up to the mixture, and differ
only by their references' energy).

Scores: BSS Eval SDR (``nmfaudio.metrics.sdr``) of the channel average: per drum class
(references: the classes the method returns plus "the rest", i.e. everything else),
all drums together and the accompaniment (references: drums, accompaniment; "other"
percussion counts as drums, as in a drum recording).  Means over songs, per ratio.  A
silent stem of a class that plays counts as 0 dB (``SILENT_SDR_DB``, as in
``benchmarks/drums.py``: the signal-to-error ratio of an empty estimate); the "silent" column
counts such stems per class.

    python benchmarks/full_song.py                   # 4 songs × dmr -6, 0, +6 dB, GMRockKit
    python benchmarks/full_song.py --kit fluidr3:0 --seconds 20 -n 2
    python benchmarks/full_song.py --drums-only --metric snr --dmr 0
    python benchmarks/full_song.py --kit TR808EmulationKit --style electronic   # a drum machine under synths
    python benchmarks/full_song.py --hits --method separate_drums   # + onset F of the hits (MIDI)
    python benchmarks/full_song.py --sr 48000 --hits --method separate_drums   # songs rendered at 48 kHz
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import songs  # noqa: E402
import transcription  # noqa: E402

N_FFT, HOP = 2048, 512
#: What a silent stem of a class that plays counts as (dB): 0, the signal-to-error ratio of
#: an empty estimate, as ``benchmarks/drums.py``'s SILENT_SDR_DB.
SILENT_SDR_DB = 0.0


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


def _separate_drums(mix, sr, accompaniment="auto"):
    import nmfaudio

    result = nmfaudio.separate_drums(mix, sr, random_state=0, accompaniment=accompaniment)
    stems = {c: result.sources[c] for c in result.classes}
    two = result.two_stems()
    _separate_drums.chose_song = result.accompaniment
    _separate_drums.result = result  # for --hits
    return stems, two["drums"], two["accompaniment"]


def _drums_only_model(mix, sr):
    return _separate_drums(mix, sr, accompaniment=False)


def _hpss(mix, sr):
    import librosa

    harmonic = np.stack([librosa.effects.hpss(ch, margin=1.0)[0] for ch in mix])
    return {}, mix - harmonic, harmonic


def _hpss_then_drums(mix, sr):
    import librosa

    harmonic = np.stack([librosa.effects.hpss(ch, margin=1.0)[0] for ch in mix])
    stems, drums, residual = _separate_drums((mix - harmonic).astype(np.float32), sr, accompaniment=False)
    return stems, drums, residual + harmonic


METHODS = {"separate_drums": _separate_drums, "separate_drums, accompaniment off": _drums_only_model,
           "HPSS": _hpss, "HPSS → separate_drums": _hpss_then_drums, "oracle ratio mask": None}


def _snr(reference, estimate):
    """Signal-to-error ratio (dB) per row: 10 log10(Σ s² / Σ (s − ŝ)²)."""
    reference, estimate = np.atleast_2d(reference), np.atleast_2d(estimate)
    error = np.maximum(np.sum((reference - estimate) ** 2, axis=-1), 1e-20)
    return 10 * np.log10(np.sum(reference ** 2, axis=-1) / error)


def score(song, stems, drums, accompaniment, *, metric="sdr"):
    """{name: SDR dB} for each returned class, 'drums' and 'accompaniment' ('drums' and
    'accompaniment' only when the song has an accompaniment), and 'silent': the classes
    that play whose stem is silent (counted as SILENT_SDR_DB)."""
    from nmfaudio.metrics import sdr as bss_sdr

    sdr = bss_sdr if metric == "sdr" else _snr

    out = {"silent": ()}
    classes = [c for c in stems if song["stems"].get(c) is not None and np.any(song["stems"][c])]
    if classes:
        refs = [_mono(song["stems"][c]) for c in classes]
        rest = _mono(song["mix"]) - sum(refs)
        est = [_mono(stems[c]) for c in classes]
        est_rest = _mono(song["mix"]) - sum(est)
        # a silent stem of a class that plays counts as SILENT_SDR_DB, as in benchmarks/drums.py
        # (BSS Eval is undefined for it; before, one silent stem dropped the whole song's
        # per-class scores).  A source's SDR depends only on its own estimate (and all the
        # references), so a silent one is stood in for by the mixture and its value replaced.
        silent = [not np.any(e) for e in est]
        stand_in = [_mono(song["mix"]) if quiet else e for e, quiet in zip(est, silent)]
        if np.any(est_rest):
            values = sdr(np.stack(refs + [rest]), np.stack(stand_in + [est_rest]))
            out.update({c: SILENT_SDR_DB if quiet else float(v) for c, v, quiet in zip(classes, values, silent)})
            out["silent"] = tuple(c for c, quiet in zip(classes, silent) if quiet)
    if np.any(song["accompaniment"]) and np.any(drums) and np.any(accompaniment):
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
    parser.add_argument("--sr", type=int, default=44100,
                        help="the songs' sampling rate (Hz; default 44100): rendered at this rate")
    parser.add_argument("--style", choices=list(songs.STYLES), default="default",
                        help="the arrangement's instruments (electronic: synth bass, pads, leads, synth brass)")
    parser.add_argument("--method", action="append", choices=list(METHODS),
                        help="run only these rows (repeatable; default all)")
    parser.add_argument("--drums-only", action="store_true", help="the performances without the music")
    parser.add_argument("--metric", choices=("sdr", "snr"), default="sdr",
                        help="sdr: BSS Eval (default); snr: signal-to-error ratio (fast)")
    parser.add_argument("--hits", action="store_true",
                        help="also score the separate_drums row's hits (onset F, ±50 ms) against the drum notes")
    args = parser.parse_args(argv)
    kits = args.kit or ["GMRockKit"]
    ratios = args.dmr or [-6.0, 0.0, 6.0]
    if args.drums_only:
        ratios = ratios[:1]  # the ratio only scales the music, which is left out
    methods = ({k: METHODS[k] for k in ("separate_drums", "separate_drums, accompaniment off",
                                       "oracle ratio mask")} if args.drums_only else METHODS)
    methods = {k: v for k, v in methods.items() if not args.method or k in args.method}
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()} — {_cpu()}, "
          f"load {os.getloadavg()[0]:.1f}; kits {kits}; {args.n} songs of {args.seconds:g} s per ratio, seeds "
          f"{args.seed}..{args.seed + args.n - 1}; metric {args.metric}{'; DRUMS ONLY' if args.drums_only else ''}"
          f"{'' if args.style == 'default' else '; style ' + args.style}"
          f"{'' if args.sr == 44100 else f'; {args.sr} Hz'}")
    columns = ["kick", "snare", "toms", "hihat", "cymbals", "mean3", "drums", "accompaniment", "auto→song",
               "s/song", "silent"]
    print("| dmr dB | method | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for dmr in ratios:
        rows = {name: [] for name in methods}
        times = {name: [] for name in methods}
        chose = []
        hit_scores, hit_errors = [], []  # --hits: per song {class: (F, P, R)}; matched errors (s)
        for kit in kits:
            for seed in range(args.seed, args.seed + args.n):
                song = songs.render_song(seed, kit, dmr_db=dmr, seconds=args.seconds, style=args.style,
                                         sr=args.sr)
                if args.drums_only:
                    song = dict(song, mix=song["drums"].copy(), accompaniment=np.zeros_like(song["drums"]))
                for name, method in methods.items():
                    started = time.perf_counter()
                    result = _oracle(song) if method is None else method(song["mix"], song["sr"])
                    times[name].append(time.perf_counter() - started)
                    if method is _separate_drums:
                        chose.append(_separate_drums.chose_song)
                        if args.hits:
                            with warnings.catch_warnings():  # a class with no hit is scored 0, as it should
                                warnings.filterwarnings("ignore", "Estimated onsets are empty")
                                found, errors, _ = transcription.score(_separate_drums.result.hits().times,
                                                                       _song_onsets(song))
                            hit_scores.append(found)
                            hit_errors += errors
                    rows[name].append(score(song, *result, metric=args.metric))
        for name, scores in rows.items():
            cells = []
            for column in columns:
                if column == "auto→song":
                    cells.append(f"{sum(chose)}/{len(chose)}" if name == "separate_drums" else "")
                    continue
                if column == "s/song":
                    cells.append(f"{statistics.median(times[name]):.2f}")
                    continue
                if column == "silent":  # how many stems of classes that play are silent, per class
                    counts = collections.Counter(c for s in scores for c in s["silent"])
                    cells.append(", ".join(f"{c} {n}" for c, n in counts.items()) or "0")
                    continue
                if column == "mean3":
                    values = [np.mean([s[c] for c in ("kick", "snare", "hihat")]) for s in scores
                              if all(c in s for c in ("kick", "snare", "hihat"))]
                else:
                    values = [s[column] for s in scores if column in s]
                cells.append(f"{np.mean(values):.1f}" if values else "–")
            print(f"| {dmr:+.0f} | {name} | " + " | ".join(cells) + " |", flush=True)
        if hit_scores:
            print(_hits_line(dmr, hit_scores, hit_errors), flush=True)
    return 0


def _song_onsets(song):
    """The song's drum notes as onset times (s) per class, as ``transcription.score`` takes them."""
    return {c: np.array(sorted(note["time"] for note in song["notes"] if note["class"] == c))
            for c in songs.performances.CLASSES}


def _hits_line(dmr, scores, errors):
    """One line per ratio: onset F (P / R) per class, mean over the songs that play it; the
    mean F over kick, snare and hi-hat; the median |timing error| of the matched hits."""
    cells, means = [], {}
    for c in ("kick", "snare", "hihat", "toms", "cymbals"):
        rows = np.array([s[c] for s in scores if c in s])
        if len(rows):
            f, p, r = rows.mean(axis=0)
            means[c] = f
            cells.append(f"{c} {f:.3f} ({p:.2f} / {r:.2f})")
    core = np.mean([means[c] for c in transcription.CORE if c in means])
    median_ms = 1000 * np.median(np.abs(errors)) if errors else float("nan")
    return (f"hits, dmr {dmr:+.0f} dB, {len(scores)} songs: " + ", ".join(cells)
            + f"; mean F kick/snare/hi-hat {core:.3f}; |error| median {median_ms:.1f} ms")


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
