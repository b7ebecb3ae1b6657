"""Drum transcription: onset F-measure per class and timing error of the hits
(``DrumSeparation.hits()``, what ``nmfaudio drums --midi / --onsets`` writes), next to
the separation's SDR, on drum mixtures with known notes.

Needs the Debian packages ``hydrogen-data`` and ``hydrogen-drumkits`` (recorded kits,
rendered on the fly; nothing from them is committed).  Material (each rendered with its exact note list):

* ``performances`` — ``benchmarks/performances.py``: realistic 8-s drum performances
  (rock, sixteenths, funk with ghost notes, disco, ride, half time; tom fills, crashes,
  percussion, humanized timing and velocity, the hi-hat 12-32 dB under the kick) on the
  six non-reserved acoustic Hydrogen kits (``performances.HYDROGEN_KITS``), ``-n``
  performances per kit.  This is the issue's material: every class the separation
  and the notes share is scored (kick / snare / hi-hat with today's three classes —
  toms, cymbals and percussion then land in them or the residual; toms and cymbals
  too once the separation has those classes).
* ``performances, kick/snare/hi-hat only`` — the same performances without toms,
  cymbals and percussion: what a three-class separation can be asked for.
* ``GMRockKit loops`` — ``benchmarks/drumkits.py``'s ``render_eval_mixtures``: one-bar
  rock / funk / disco patterns at 100-140 BPM with accents, ghost notes and open /
  pedal hats (the material the picking parameters were chosen on, seeds 0 and 1).

Methods (rows):

* ``onsets_s before`` — what ``nmfaudio drums --json`` printed before issue 16: every
  local maximum of the activation above 0.2 × its maximum, at its frame's time;
* ``hits, activations only`` — :func:`nmfaudio.drums.detect_hits` without the tracks
  (no attack check; parabolic sub-frame timing);
* ``hits`` — ``result.hits()``: the default, with the separated tracks (attack check,
  timing from the track's energy rise).

Scores: ``mir_eval.onset.f_measure`` (±50 ms) per class, mean over the mixtures that play
the class (the hits found where it is not played are counted on a line of their own); the timing
error of matched hits (estimate − reference; median of |error| and its 95th percentile,
ms, pooled over classes and mixtures); the separation's SDR per stem (BSS Eval,
``nmfaudio.metrics.sdr``) for reference; median time of ``hits()`` against that of
``separate_drums``.

    python benchmarks/transcription.py                # 4 performances per kit (24), seed 0
    python benchmarks/transcription.py --seed 1       # another draw
    python benchmarks/transcription.py -n 2           # 2 per kit, quicker
    python benchmarks/transcription.py --extras       # also GMRockKit loops
    python benchmarks/transcription.py --ride         # also ride-style performances
    python benchmarks/transcription.py --ride --sr 44100   # every performance rendered at 44.1 kHz
    python benchmarks/transcription.py --ride-feet    # ride grooves with the hat foot on every beat, the
                                                      # off-beats, jazz (2 and 4, the snare comping) or none
    python benchmarks/transcription.py --ride-feet quarters jazz   # only these
    python benchmarks/transcription.py --ride --ride-feet --stereo  # stereo, each instrument at its kit's pan
    python benchmarks/transcription.py --kit TR808EmulationKit --kit VariBreaks   # other kits
    python benchmarks/transcription.py --kit samples:exadrums --kit sf2:csound:0   # any performances.render kit spec
    python benchmarks/transcription.py --ride --mix record   # mixed like a record (benchmarks/mixbus.py)
    python benchmarks/transcription.py --hits-options '{"mixture": null}'   # a picking variant

Exit code 0 when the floors of issue 16 hold for ``hits`` on the performances (mean F
over kick, snare and hi-hat ≥ 0.88, toms ≥ 0.70 and cymbals ≥ 0.60 when the separation
has those classes; |timing error| median ≤ 10 ms and 95th percentile ≤ 20 ms), 1
otherwise.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import drumkits  # noqa: E402
import mixbus  # noqa: E402
import performances  # noqa: E402

EVAL_KIT = "GMRockKit"
FLOOR_MEAN_F = 0.88
FLOOR_F = {"toms": 0.70, "cymbals": 0.60}
#: the table cell of a class that no mixture plays (separated, but nothing to score)
NOT_APPLICABLE = "–"
FLOOR_MEDIAN_MS = 10.0
FLOOR_P95_MS = 20.0
WINDOW_S = 0.05
CORE = ("kick", "snare", "hihat")


def onsets_before(result):
    """The onsets ``nmfaudio drums --json`` printed before issue 16 (``cli/drums.py``'s
    ``_onsets``): local maxima above 0.2 × the activation's maximum, at frame times."""
    found = {}
    for name, activation in result.activations.items():
        curve = activation if activation.ndim == 1 else activation.mean(axis=0)
        top = curve.max()
        if not top > 0:
            found[name] = np.zeros(0)
            continue
        padded = np.concatenate([[-np.inf], curve, [-np.inf]])
        peaks = (curve > padded[:-2]) & (curve >= padded[2:]) & (curve > 0.2 * top)
        found[name] = np.flatnonzero(peaks) * result.hop_length / result.sr
    return found


def from_performance(rendered):
    """A ``performances.render`` result as a scored mixture: ``onsets`` per class."""
    onsets = {c: np.array(sorted(note["time"] for note in rendered["notes"] if note["class"] == c))
              for c in performances.CLASSES}
    return {**rendered, "onsets": onsets}


def ride_performances(kits, *, n, seed, sr=22050, hat_foot=None, stereo=False, mix="dry"):
    """``n`` ride-style performances per kit (``performances.compose`` with
    ``styles=("ride",)``, seeds ``(seed, i)``), rendered at ``sr`` (Hz): the cymbals class
    keeps time on the ride.  ``hat_foot``: where the hat's foot plays
    (``performances.HAT_FEET``; None: on 2 and 4 with the snare, the same performances
    as "backbeat"); every pattern but "jazz" plays the default's grooves with the foot
    moved.  ``stereo``: rendered in stereo, each instrument at its kit's pan
    (``performances.render``).  ``mix``: the drum-bus mix (``mixbus.MIXES``)."""
    drawn = [performances.compose(np.random.default_rng([seed, i]), styles=("ride",), hat_foot=hat_foot)
             for i in range(n)]
    cache, out = {}, []
    for kit in kits:
        for i, performance in enumerate(drawn):
            rendered = mixbus.apply(performances.render(performance, kit, sr=sr, cache=cache, stereo=stereo), mix,
                                    seed=len(out))
            rendered["name"] += f"-ride-{seed}.{i}" if hat_foot is None else f"-ride-{hat_foot}-{seed}.{i}"
            out.append(from_performance(rendered))
    return out


def channel_average(x):
    """A stereo (2, n) signal's channel average, as benchmarks/drums.py scores stereo;
    mono unchanged."""
    return x.mean(axis=0) if x.ndim == 2 else x


def class_of(name, reference):
    """The reference class a detected class or sub-template belongs to
    (``"hihat_open"`` → ``"hihat"``), or None."""
    if name in reference:
        return name
    parents = [key for key in reference if name.startswith(key)]
    return max(parents, key=len) if parents else None


def score(estimates, reference):
    """Per reference class: (F, precision, recall), the matched timing errors (s), and the
    hits found for the classes this mixture does not play.

    A class with no reference note has no F-measure: mir_eval scores an empty reference
    0.000 even when nothing is found, so counting it would score a mixture without tom
    fills as a failure of the toms (the toms mean of ``--seed 2 -n 2`` was halved by its
    fill-less performance).  Such a class is left out of ``scores``; its hits, all
    false, are counted in ``stray`` instead.

    Returns
    -------
    scores : dict {class: (F, precision, recall)}
        The classes the mixture plays that the estimates name.
    errors : list of float
        Estimate − reference (s) of the matched hits, pooled over classes.
    stray : dict {class: int}
        The classes the estimates name but the mixture does not play: their hit counts.
    """
    import mir_eval

    merged = {}
    for name, times in estimates.items():
        label = class_of(name, reference)
        if label is not None:
            merged.setdefault(label, []).append(np.asarray(times, dtype=np.float64))
    scores, errors, stray = {}, [], {}
    for label, parts in merged.items():
        estimate = np.sort(np.concatenate(parts))
        truth = np.sort(np.asarray(reference[label], dtype=np.float64))
        if len(truth) == 0:
            stray[label] = len(estimate)
            continue
        scores[label] = mir_eval.onset.f_measure(truth, estimate, window=WINDOW_S)
        errors += [estimate[j] - truth[i] for i, j in mir_eval.util.match_events(truth, estimate, WINDOW_S)]
    return scores, errors, stray


def table_cell(rows, label, played):
    """One class's cell, ``"F (P / R)"`` averaged over the mixtures' score rows, or
    ``NOT_APPLICABLE`` when no mixture plays ``label`` (mir_eval scores an empty reference
    0.000, which would read as a failure of a class that was only separated)."""
    if label not in played:
        return NOT_APPLICABLE
    f, p, r = np.array([row[label] for row in rows if label in row]).mean(axis=0)
    return f"{f:.3f} ({p:.2f} / {r:.2f})"


def stray_hits(strays):
    """The hits found for classes a mixture does not play, summed over mixtures:
    ``"toms 9 in 1 of 6 mixtures"`` per class (classes with no such hit left out), from
    ``score``'s third result of each mixture; "" when there are none."""
    parts = []
    for label in dict.fromkeys(c for s in strays for c in s):
        counts = [s[label] for s in strays if label in s]
        if sum(counts):
            parts.append(f"{label} {sum(counts)} in {sum(c > 0 for c in counts)} of {len(counts)} mixtures")
    return ", ".join(parts)


def evaluate(mixtures, label, options=None):
    import nmfaudio
    from nmfaudio.drums import detect_hits
    from nmfaudio.metrics import sdr

    methods = ("onsets_s before", "hits, activations only", "hits")
    table = {m: {"scores": [], "errors": [], "stray": []} for m in methods}
    sdrs, separation_times, hit_times = [], [], []
    for m in mixtures:
        started = time.perf_counter()
        result = nmfaudio.separate_drums(m["mix"], m["sr"], random_state=0)
        separation_times.append(time.perf_counter() - started)
        # BSS Eval needs audible references: classes a mixture does not play are left out
        stems = [s for s in result.classes if s in m and np.any(m[s]) and np.any(result.sources[s])]
        sdrs.append(dict(zip(stems, sdr(np.stack([channel_average(m[s]) for s in stems]),
                                        np.stack([channel_average(result.sources[s]) for s in stems])))))
        started = time.perf_counter()
        hits = result.hits(**(options or {}))
        hit_times.append(time.perf_counter() - started)
        estimates = {
            "onsets_s before": onsets_before(result),
            "hits, activations only": detect_hits(result.activations, sr=result.sr,
                                                  hop_length=result.hop_length).times,
            "hits": hits.times,
        }
        for method, found in estimates.items():
            scores, errors, stray = score(found, m["onsets"])
            table[method]["scores"].append(scores)
            table[method]["errors"] += errors
            table[method]["stray"].append(stray)
    named = table["hits"]["scores"] + table["hits"]["stray"]
    classes = [c for c in (*CORE, "toms", "cymbals") if any(c in s for s in named)]
    played = {c for m in mixtures for c, times in m["onsets"].items() if len(times)}
    unscored = [c for c in ("toms", "cymbals")
                if any(len(m["onsets"].get(c, ())) for m in mixtures) and c not in classes]

    channels = " stereo at each kit's pan (SDR of the channel average)" if mixtures[0].get("stereo") else ""
    print(f"\n### {label}: {len(mixtures)} mixtures, {mixtures[0]['sr']} Hz{channels}\n")
    head = " | ".join(f"{c} F (P / R)" for c in classes)
    print(f"| method | {head} | mean F kick/snare/hi-hat | |error| median | |error| p95 |")
    print("|---|" + "---:|" * (len(classes) + 3))
    summary = {}
    for method in methods:
        rows = table[method]["scores"]
        cells, means = [], {}
        for c in classes:
            cells.append(table_cell(rows, c, played))
            if c in played:
                means[c] = float(np.mean([r[c][0] for r in rows if c in r]))
        core = float(np.mean([means[c] for c in CORE if c in means]))
        errors = 1000 * np.abs(table[method]["errors"])
        median, p95 = float(np.median(errors)), float(np.percentile(errors, 95))
        summary[method] = (core, median, p95, means)
        print(f"| {method} | {' | '.join(cells)} | **{core:.3f}** | {median:.1f} ms | {p95:.1f} ms |")
    stray = stray_hits(table["hits"]["stray"])
    if stray:
        print(f"\nhits where the class is not played (all false; not in F): {stray}")
    signed = 1000 * np.array(table["hits"]["errors"])
    print(f"\nhits: timing error (estimate − reference) median {np.median(signed):+.1f} ms, "
          f"5th / 95th percentile {np.percentile(signed, 5):+.1f} / {np.percentile(signed, 95):+.1f} ms, "
          f"max |error| {np.abs(signed).max():.1f} ms over {len(signed)} matched hits, "
          f"{100 * np.mean(np.abs(signed) <= 20):.1f} % within ±20 ms")
    stems = list(dict.fromkeys(s for d in sdrs for s in d))
    print("separation SDR (dB, mean over mixtures): " + ", ".join(
        f"{s} {np.mean([d[s] for d in sdrs if s in d]):.2f}" for s in stems))
    print(f"median time: separate_drums {statistics.median(separation_times):.3f} s, "
          f"hits() {statistics.median(hit_times) * 1000:.1f} ms per 8-s mixture")
    if unscored:
        print(f"not scored: {', '.join(unscored)} (no such class in the separation: "
              f"{', '.join(result.classes)})")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 performance per kit")
    parser.add_argument("-n", type=int, default=None, help="performances per kit (default 4, --quick 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the performances (default 0)")
    parser.add_argument("--extras", action="store_true",
                        help="also score GMRockKit loops (4 n of them)")
    parser.add_argument("--hits-options", type=json.loads, default={}, metavar="JSON",
                        help='options for result.hits() in the "hits" row, e.g. \'{"threshold_db": {"kick": -20}}\'')
    parser.add_argument("--kit", action="append",
                        help="these kits (repeatable) instead of the six acoustic ones, e.g. the electronic kits "
                             "of performances.ELECTRONIC_KITS")
    parser.add_argument("--ride", action="store_true",
                        help="also score ride-style performances (n per kit; the cymbals keep time)")
    parser.add_argument("--ride-feet", nargs="*", choices=performances.HAT_FEET, metavar="FOOT",
                        help="also score ride-style performances (n per kit, the --ride seeds) with the hat's foot "
                             "elsewhere, one set per pattern: " + ", ".join(performances.HAT_FEET)
                             + "; no pattern named: all but backbeat (--ride's)")
    parser.add_argument("--sr", type=int, default=22050,
                        help="the performances' sampling rate (default 22050; the loops of --extras stay at 22050)")
    parser.add_argument("--stereo", action="store_true",
                        help="render the performances (and ride grooves) in stereo, each instrument at its kit's pan "
                             "(performances.render), separate them as stereo and score the SDR of the channel "
                             "average (the loops of --extras stay mono)")
    parser.add_argument("--mix", choices=mixbus.MIXES, default="dry",
                        help="the drum-bus mix every performance goes through (benchmarks/mixbus.py; the stems and "
                             "notes stay exact): dry (default), eq, room, bus or record (EQ + room + bus "
                             "compression + limiter); the loops of --extras stay dry")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    import nmfaudio

    n = args.n or (1 if args.quick else 4)
    kits = args.kit or list(performances.HYDROGEN_KITS)
    try:
        full = [from_performance(mixbus.apply(m, args.mix, seed=j))
                for j, m in enumerate(performances.render_performances(kits, n=n, seed=args.seed, sr=args.sr,
                                                                       stereo=args.stereo))]
        plain = [from_performance(mixbus.apply(m, args.mix, seed=j)) for j, m in enumerate(
            performances.render_performances(kits, n=n, seed=args.seed, sr=args.sr, toms=False, cymbals=False,
                                             percussion=False, stereo=args.stereo))]
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    nmfaudio.separate_drums(full[0]["mix"], full[0]["sr"]).hits()  # warm-up: imports, first calls
    print(f"Drum transcription, seed {args.seed}; onset F-measure (mir_eval, ±{WINDOW_S * 1000:.0f} ms), "
          f"mean over mixtures; kits: {', '.join(kits)}")
    options = args.hits_options
    if options:
        print(f"hits() options: {json.dumps(options)}")
    if args.mix != "dry":
        print(f"mixed like a record: {mixbus.DESCRIPTION[args.mix]} (benchmarks/mixbus.py)")
    summary = evaluate(full, f"performances ({n} per kit)", options)
    evaluate(plain, f"performances, kick/snare/hi-hat only ({n} per kit)", options)
    if args.ride:
        evaluate(ride_performances(kits, n=n, seed=args.seed, sr=args.sr, stereo=args.stereo, mix=args.mix),
                 f"ride-style performances ({n} per kit)", options)
    if args.ride_feet is not None:
        for foot in args.ride_feet or [f for f in performances.HAT_FEET if f != "backbeat"]:
            evaluate(ride_performances(kits, n=n, seed=args.seed, sr=args.sr, hat_foot=foot, stereo=args.stereo,
                                       mix=args.mix),
                     f"ride-style performances, hat foot {foot} ({n} per kit)", options)
    if args.extras:
        evaluate(drumkits.render_eval_mixtures(EVAL_KIT, n=4 * n, sr=22050, seed=args.seed), f"{EVAL_KIT} loops",
                 options)

    core, median, p95, means = summary["hits"]
    checks = [(core >= FLOOR_MEAN_F, f"mean F kick/snare/hi-hat {core:.3f} (floor {FLOOR_MEAN_F})")]
    checks += [(means[c] >= floor, f"{c} F {means[c]:.3f} (floor {floor})") for c, floor in FLOOR_F.items()
               if c in means]
    checks += [(median <= FLOOR_MEDIAN_MS, f"|timing error| median {median:.1f} ms (floor {FLOOR_MEDIAN_MS:g})"),
               (p95 <= FLOOR_P95_MS, f"|timing error| 95th percentile {p95:.1f} ms (floor {FLOOR_P95_MS:g})")]
    print()
    for passed, text in checks:
        print(f"{'ok  ' if passed else 'MISS'} hits on the performances: {text}")
    try:
        from _machine import machine_lines

        print("\n" + "\n".join(machine_lines()))
    except Exception:  # pragma: no cover - machine description is optional
        pass
    return 0 if all(passed for passed, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
