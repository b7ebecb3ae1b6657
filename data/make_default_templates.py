"""Build nmfaudio's bundled drum templates (nmfaudio/data/default_drum_templates.npz).

Renders kick, snare and hi-hat one-shots of five acoustic kits of the FluidR3 GM
SoundFont (bank 128: Standard 0, Room 8, Power 16, Jazz 32, Brush 40; kick notes 35/36,
snare 38/40, hi-hat 42/44/46 at velocities 50/90/120) with ``make_drum_loop.py``'s
``render_one_shots`` into a temporary folder, learns one 8-frame template per drum with
``nmfaudio.DrumTemplates.from_folder`` (sr 22050, n_fft 2048, hop 512, Hann) and saves
them.  Needs ``apt-get install fluidsynth fluid-soundfont-gm``.  Deterministic.

The electronic kits (Electronic 24, TR-808 25) and Orchestra (48) are left out: on the
benchmark (``benchmarks/drums.py``, 24 GMRockKit mixtures) templates from the five
acoustic kits gave 16.62 dB mean SDR, from all eight 16.49 dB.

Usage::

    python data/make_default_templates.py            # rewrites the bundled file
    python data/make_default_templates.py -o kit.npz  # somewhere else
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

import make_drum_loop

#: FluidR3 bank-128 presets the default templates are learned from.
KITS = {0: "standard", 8: "room", 16: "power", 32: "jazz", 40: "brush"}
OUTPUT = HERE.parent / "nmfaudio" / "data" / "default_drum_templates.npz"


def build(output=OUTPUT, *, overwrite=True):
    """Render the one-shots, learn the templates, save them to ``output``; return them."""
    from nmfaudio.drums import DrumTemplates

    with tempfile.TemporaryDirectory() as tmp:
        make_drum_loop.render_one_shots(tmp, kits=KITS, sr=22050)
        templates = DrumTemplates.from_folder(tmp, sr=22050, n_fft=2048, hop_length=512)
    templates.source = ("FluidR3 GM SoundFont (MIT), bank 128 kits " + ", ".join(
        f"{name} ({preset})" for preset, name in KITS.items()) + "; data/make_default_templates.py")
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    templates.save(output, overwrite=overwrite)
    return templates


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT, help=f"default {OUTPUT}")
    args = parser.parse_args(argv)
    templates = build(args.output)
    print(f"{args.output}: {templates!r} ({args.output.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
