"""Rumpf-like tuning material: tuning Hydrogen kits whose toms sit below their kick, or
with no ride (its notes played on the crash).

The held-out kit rumpf_kit_z01_h2 has a 97-Hz kick and "high" and "mid" toms at 32 and
75 Hz: below the bundled kick template's 54 Hz, while its kick sits where the bundled
toms do (docs/drums-five-stems.md, twenty-sixth round).  No tuning kit has such
toms, so this script builds some from the tuning kits (GMRockKit, Audiophob,
BJA_Pacific), as folders that ``benchmarks/performances.py`` renders like any Hydrogen
kit (``--kit <folder>``); the samples are the installed kit's (symbolic links), nothing
is committed:

- ``<kit>-lowtoms``: the kick and two toms exchange samples (the kick plays a tom, two
  toms play the kick);
- ``<kit>-downtoms``: the toms an octave lower (resampled to twice their length), the
  kick unchanged;
- ``<kit>-noride``: the kit's ride instruments (ride, ride 2, ride bell) left out, so that
  ``performances.hydrogen_roles`` gives the benchmark's "ride" and "ride bell" notes to the
  crash (its ``_FALLBACK``): a ridden crash, as a held-out kit without a ride sample
  plays it (docs/drums-five-stems.md, ridden-crash round) and as drummers ride a crash
  in a loud chorus.  Everything else is the installed kit's.

Usage::

    python benchmarks/kit_variants.py --out /tmp/kits
    python benchmarks/drums.py --performances -n 2 --seed 4 --kit /tmp/kits/Audiophob-downtoms
    python benchmarks/drums.py --performances -n 2 --seed 0 --kit /tmp/kits/GMRockKit-noride
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path


from drumkits import KIT_ROOT

#: {variant: (tuning kit, {instrument: instrument whose samples it plays})}
LOW_TOMS = {
    "Audiophob-lowtoms": ("Audiophob", {"Kick": "Tom Mid", "Tom Low": "Kick", "Tom Mid": "Kick"}),
    "GMRockKit-lowtoms": ("GMRockKit", {"Kick": "Tom 2", "Tom 1": "Kick", "Tom 2": "Kick"}),
    "BJA_Pacific-lowtoms": ("BJA_Pacific", {"BassDrum": "Tom", "Tom": "BassDrum"}),
}
#: {variant: (tuning kit, instruments played an octave lower)}
DOWN_TOMS = {
    "GMRockKit-downtoms": ("GMRockKit", ("Floor Tom", "Tom 1", "Tom 2")),
    "BJA_Pacific-downtoms": ("BJA_Pacific", ("Tom", "Floor Tom")),
    "Audiophob-downtoms": ("Audiophob", ("Tom Low", "Tom Mid", "Tom Hi")),
}

#: {variant: (tuning kit, instruments left out)}: the kit's ride instruments
NO_RIDE = {
    "GMRockKit-noride": ("GMRockKit", ("Ride", "Ride 2", "Bell")),
    "Audiophob-noride": ("Audiophob", ("Ride Jazz",)),
    "BJA_Pacific-noride": ("BJA_Pacific", ("Ride Bell", "Ride", "Ride 2")),
}


def _blocks(xml):
    """The drumkit.xml split before each ``<instrument>``, with each block's name (or None)."""
    blocks = re.split(r"(?=<instrument>)", xml)
    return [(b, (re.search(r"<name>(.*?)</name>", b) or [None, None])[1]) for b in blocks]


def _start(src, out):
    """The variant folder ``out`` with links to ``src``'s files; ``src``'s drumkit.xml text."""
    out.mkdir(parents=True, exist_ok=True)
    for f in (KIT_ROOT / src).iterdir():
        if f.name != "drumkit.xml" and not (out / f.name).exists():
            os.symlink(f, out / f.name)
    return (KIT_ROOT / src / "drumkit.xml").read_text()


def _finish(xml, src, out):
    (out / "drumkit.xml").write_text(xml.replace(f"<name>{src}</name>", f"<name>{out.name}</name>", 1))


def low_toms(name, root):
    """Build the ``LOW_TOMS`` variant ``name`` under ``root``; returns its folder."""
    src, plays = LOW_TOMS[name]
    out = Path(root) / name
    xml = _start(src, out)
    blocks = _blocks(xml)
    files = {n: re.findall(r"<filename>(.*?)</filename>", b) for b, n in blocks if n}
    parts = []
    for b, n in blocks:
        if n in plays and "<filename>" in b:  # every layer plays the other's first sample
            b = re.sub(r"<filename>.*?</filename>", f"<filename>{files[plays[n]][0]}</filename>", b)
        parts.append(b)
    _finish("".join(parts), src, out)
    return out


def down_toms(name, root, factor=2):
    """Build the ``DOWN_TOMS`` variant ``name`` under ``root`` (toms ``factor`` times slower:
    an octave lower for 2); returns its folder."""
    import soundfile as sf
    from scipy.signal import resample_poly

    src, toms = DOWN_TOMS[name]
    out = Path(root) / name
    xml = _start(src, out)

    def lowered(match):
        file = match.group(1)
        dst = f"down_{Path(file).stem}.wav"
        if not (out / dst).exists():
            y, sr = sf.read(KIT_ROOT / src / file, always_2d=True)
            sf.write(out / dst, resample_poly(y, factor, 1, axis=0), sr)
        return f"<filename>{dst}</filename>"

    parts = [re.sub(r"<filename>(.*?)</filename>", lowered, b) if n in toms else b for b, n in _blocks(xml)]
    _finish("".join(parts), src, out)
    return out


def no_ride(name, root):
    """Build the ``NO_RIDE`` variant ``name`` under ``root`` (its ride instruments' elements
    removed from drumkit.xml); returns its folder."""
    src, rides = NO_RIDE[name]
    out = Path(root) / name
    xml = _start(src, out)

    def kept(match):
        found = re.search(r"<name>(.*?)</name>", match.group(0))
        return "" if found and found.group(1) in rides else match.group(0)

    _finish(re.sub(r"<instrument>.*?</instrument>\s*", kept, xml, flags=re.DOTALL), src, out)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the variant kits (not committed)")
    args = parser.parse_args(argv)
    for name in LOW_TOMS:
        print(low_toms(name, args.out))
    for name in DOWN_TOMS:
        print(down_toms(name, args.out))
    for name in NO_RIDE:
        print(no_ride(name, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
