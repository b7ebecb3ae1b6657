"""Drum recordings that change groove: a hi-hat verse, a ride chorus, a hi-hat verse.

Every performance of :mod:`performances` keeps one groove for its 8 s, while a song moves
between the hi-hat and a ride (verse, chorus).  Here three sections of ``--bars`` bars
(8 by default: 16-21 s at 90-140 BPM) at one tempo are joined into one performance: each a
:func:`performances.compose` of its own seed — ``h`` a hat groove (any style but ``ride``),
``r`` the ride style — its notes cut at the section's end and shifted to its start, the
whole at the first section's levels, rendered by :func:`performances.render` (stereo,
44.1 kHz by default) with exact per-class stems.

Each file is separated whole (``separate_drums(mix, sr, random_state=0)``, in memory) and
each section alone (the reference: a section judged by itself); per section the hi-hat's
and the cymbals' onset F (±50 ms; ``cymbals_ride`` counted as cymbals), over the file the
hi-hat's and the cymbals' SDR (:func:`drums._sdr_one`) and whether a ride was found.

Usage::

    python benchmarks/sections.py                          # hat/ride/hat, tuning kits, seeds 0 and 2
    python benchmarks/sections.py --pattern rhr --pattern hhh --seed 4
    python benchmarks/sections.py --kit "The Black Pearl 1.0" --seed 7   # a held-out kit, once

Needs ``hydrogen-data`` / ``hydrogen-drumkits`` and FluidSynth with ``fluid-soundfont-gm``
(the kits of :mod:`performances`).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import performances  # noqa: E402

#: The tuning kits of the five-stem benchmark (held-out kits: pass ``--kit``).
TUNING_KITS = ("GMRockKit", "BJA_Pacific", "fluidr3:0", "Audiophob")
#: The hat grooves a ``h`` section draws from.
HAT_STYLES = tuple(style for style in performances.STYLES if style != "ride")


def compose_sections(seed, pattern="hrh", *, bars=8, bpm_range=(90.0, 140.0)):
    """A performance of ``len(pattern)`` sections at one tempo.

    Parameters
    ----------
    seed : int
    pattern : str
        One letter per section: ``h`` a hat groove, ``r`` a ride groove.
    bars : int
        Each section's length in 4/4 bars.
    bpm_range : (float, float)

    Returns
    -------
    dict
        :func:`performances.compose`'s keys (``style`` "sections"), and ``sections``: a
        list of ``(start_s, end_s, style)``.
    """
    if not pattern or set(pattern) - {"h", "r"}:
        raise ValueError(f"pattern {pattern!r}: give letters h (hat groove) and r (ride groove), e.g. 'hrh'")
    rng = np.random.default_rng([69, seed])
    bpm = float(rng.uniform(*bpm_range))
    length = bars * 4 * 60.0 / bpm
    notes, sections, levels = [], [], None
    for k, letter in enumerate(pattern):
        part = performances.compose([seed, k + 1], seconds=length, bpm_range=(bpm, bpm),
                                    styles=("ride",) if letter == "r" else HAT_STYLES)
        levels = part["levels"] if levels is None else levels  # one mix for the whole song
        start = k * length
        notes += [(t + start, role, velocity) for t, role, velocity in part["notes"] if t < length]
        sections.append((start, start + length, part["style"]))
    return {"bpm": bpm, "style": "sections", "seconds": len(pattern) * length, "levels": levels,
            "notes": sorted(notes), "sections": sections}


def _onset_f(notes, hits, cls, start, end) -> float | None:
    """Onset F (±50 ms) of ``cls`` between ``start`` and ``end`` s, scored as
    :func:`transcription.score` scores a mixture (sub-templates such as ``cymbals_ride`` count
    for their class); None without notes."""
    from transcription import score as transcription_score

    def inside(times):
        return [t for t in times if start <= t < end]

    reference = {cls: inside(n["time"] for n in notes if n["class"] == cls)}
    scores, _, _ = transcription_score({name: inside(track.times) for name, track in hits.classes.items()},
                                       reference)
    if not reference[cls]:
        return None
    return float(scores[cls][0]) if cls in scores else 0.0


def score(kit, seed, pattern, *, sr=44100, bars=8) -> dict:
    """One file of ``pattern`` on ``kit``: the scores described in the module's docstring."""
    import nmfaudio
    from drums import _sdr_one

    song = compose_sections(seed, pattern, bars=bars)
    mixture = performances.render(song, kit, sr=sr, stereo=True)
    whole = nmfaudio.separate_drums(mixture["mix"], sr, random_state=0)
    hits = whole.hits()
    row = {"kit": kit, "seed": seed, "styles": [s for _, _, s in song["sections"]],
           "ride": whole.ride_strokes is not None,
           "hihat_sdr": _sdr_one(mixture["hihat"], whole.sources["hihat"]),
           "cymbals_sdr": _sdr_one(mixture["cymbals"], whole.sources["cymbals"]), "sections": []}
    for start, end, _ in song["sections"]:
        a, b = int(round(start * sr)), int(round(end * sr))
        alone = nmfaudio.separate_drums(mixture["mix"][:, a:b], sr, random_state=0).hits()
        shifted = [{"time": n["time"] - start, "class": n["class"]} for n in mixture["notes"]
                   if start <= n["time"] < end]
        row["sections"].append({cls: (_onset_f(mixture["notes"], hits, cls, start, end),
                                      _onset_f(shifted, alone, cls, 0.0, end - start))
                                for cls in ("hihat", "cymbals")})
    return row


def _cell(pair) -> str:
    whole, alone = pair
    return "–" if whole is None else f"{whole:.2f} ({alone:.2f})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kit", action="append", help=f"kit (repeatable; default {', '.join(TUNING_KITS)})")
    parser.add_argument("--seed", action="append", type=int, help="seed (repeatable; default 0 and 2)")
    parser.add_argument("--pattern", action="append", help="sections, e.g. hrh (repeatable; default hrh and rhr)")
    parser.add_argument("--bars", type=int, default=8, help="bars a section (default 8)")
    parser.add_argument("--sr", type=int, default=44100, help="sampling rate (default 44100)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    for pattern in args.pattern or ["hrh", "rhr"]:
        rows = [score(kit, seed, pattern, sr=args.sr, bars=args.bars)
                for kit in args.kit or TUNING_KITS for seed in args.seed or [0, 2]]
        n = len(pattern)
        print(f"\n### {pattern}: hi-hat / cymbals onset F per section, the file separated whole (each section alone)\n")
        print("| kit | seed | styles | ride found | " + " | ".join(f"hi-hat {k + 1}" for k in range(n)) + " | "
              + " | ".join(f"cymbals {k + 1}" for k in range(n)) + " | hi-hat SDR | cymbals SDR |")
        print("|---|---|---|---|" + "---|" * (2 * n + 2))
        for r in rows:
            print(f"| {r['kit']} | {r['seed']} | {'/'.join(r['styles'])} | {'yes' if r['ride'] else 'no'} | "
                  + " | ".join(_cell(s["hihat"]) for s in r["sections"]) + " | "
                  + " | ".join(_cell(s["cymbals"]) for s in r["sections"])
                  + f" | {r['hihat_sdr']:.2f} | {r['cymbals_sdr']:.2f} |")
        means = [np.mean([s[cls][0] or 0 for r in rows for s in r["sections"][k:k + 1]])
                 for cls in ("hihat", "cymbals") for k in range(n)]
        print(f"| mean | | | {sum(r['ride'] for r in rows)} of {len(rows)} | "
              + " | ".join(f"{m:.2f}" for m in means)
              + f" | {np.mean([r['hihat_sdr'] for r in rows]):.2f} | {np.mean([r['cymbals_sdr'] for r in rows]):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
