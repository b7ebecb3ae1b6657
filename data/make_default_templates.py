"""Build nmfaudio's bundled drum templates (nmfaudio/data/default_drum_templates.npz).

Renders one-shots of five acoustic kits of the FluidR3 GM SoundFont (bank 128:
Standard 0, Room 8, Power 16, Jazz 32, Brush 40) at velocities 50/90/120 with
``make_drum_loop.py``'s ``render_one_shots`` into a temporary folder, one folder per
*part* (``PARTS``: the GM notes of each), and learns one template per part with
``nmfaudio.DrumTemplates.from_one_shots`` (sr 22050, n_fft 2048, hop 512, Hann; 8
frames, cymbals and toms ``LONG_FRAMES``).  A stem is the sum of its class's parts; the
``other:*`` parts (percussion) are modelled so that their share goes to the residual.
The hi-hat parts (``HIGH_BAND_PARTS``) are rendered again at 44.1 kHz and learned at
n_fft 4096, hop 1024 (the same seconds) for their band above 11.025 kHz:
``nmfaudio.drums.templates.band_ratios_db`` of those templates is stored as the file's
``high_band_db`` (NaN for the other parts), which drum recordings above 22.05 kHz use.
Needs ``apt-get install fluidsynth fluid-soundfont-gm``.  Deterministic.

The electronic kits (Electronic 24, TR-808 25) and Orchestra (48) are left out: on the
kick/snare/hi-hat benchmark templates from the five acoustic kits gave 16.62 dB mean
SDR, from all eight 16.49 dB.  Why these parts and lengths: docs/drums-five-stems.md.

Usage::

    python data/make_default_templates.py            # rewrites the bundled file
    python data/make_default_templates.py -o kit.npz  # somewhere else
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

import make_drum_loop

#: FluidR3 bank-128 presets the default templates are learned from.
KITS = {0: "standard", 8: "room", 16: "power", 32: "jazz", 40: "brush"}
OUTPUT = HERE.parent / "nmfaudio" / "data" / "default_drum_templates.npz"

#: Template label → General MIDI percussion notes rendered for it.
PARTS = {
    "kick": (35, 36),
    "snare": (38, 40),
    "toms:low": (41, 43),
    "toms:mid": (45, 47),
    "toms:high": (48, 50),
    "hihat": (42, 44),  # closed and pedal
    "hihat:open": (46,),
    "cymbals:crash": (49, 57, 52, 55),  # crash 1 and 2, china, splash
    "cymbals:ride": (51, 59, 53),  # ride 1 and 2, ride bell
    "other:metal": (56, 67, 68, 80, 81),  # cowbell, agogo, triangle
    "other:shaker": (54, 69, 70, 73, 74),  # tambourine, cabasa, maracas, guiro
    "other:skin": (60, 61, 62, 63, 64, 65, 66),  # bongos, congas, timbales
    "other:clap": (39, 75, 76, 77),  # hand clap, claves, wood blocks
}
#: Frames of the cymbal and tom templates (the others have 8): a crash rings for seconds,
#: a tom's fundamental for half a second — with 8-frame toms the kick took their decay
#: (docs/drums-five-stems.md, sixth round: tuning seeds 5-6 kick 17.59 -> 18.95 dB, toms
#: 10.39 -> 12.69 against 8 frames).
LONG_FRAMES = 24
FRAMES = {"cymbals:crash": LONG_FRAMES, "cymbals:ride": LONG_FRAMES,
          "toms:low": LONG_FRAMES, "toms:mid": LONG_FRAMES, "toms:high": LONG_FRAMES}


#: Template entries this far (dB) below their template's peak are stored as zeros: with
#: 24-frame toms the file grew from 520 to 700 KB; zeros below -70 dB bring it to 523 KB
#: and change nothing for ``support_db`` >= -70 (the default is -50).
STORED_DB = -70.0

#: The parts whose band above 11.025 kHz is measured at 44.1 kHz: the hats only — given
#: to every part, the measured band cost the cymbals of two tuning performances 2.7-3.9 dB
#: (docs/drums-full-song.md, twenty-sixth round); given to the percussion parts, the ride
#: or the crash as well, a tuning kit's cymbals or hi-hat 1.4-3.7 dB (docs/drums-five-stems.md,
#: twentieth round).
HIGH_BAND_PARTS = ("hihat", "hihat:open")
HIGH_SR = 44100


def _shots(parts, sr):
    """{label: [mono one-shot arrays]} of ``parts`` ({label: GM notes}) rendered at ``sr``."""
    from nmfaudio import audio

    folders = {label: label.replace(":", "-") for label in parts}
    with tempfile.TemporaryDirectory() as tmp:
        written = make_drum_loop.render_one_shots(
            tmp, kits=KITS, sr=sr, class_notes={folders[label]: notes for label, notes in parts.items()})
        return {label: [audio.load(path, sr=sr, mono=True)[0] for path in sorted(written[folders[label]])]
                for label in parts}


def build(output=OUTPUT, *, overwrite=True):
    """Render the one-shots, learn the templates, save them to ``output``; return them."""
    from nmfaudio.drums import DrumTemplates
    from nmfaudio.drums.templates import band_ratios_db, trim_support

    templates = DrumTemplates.from_one_shots(_shots(PARTS, 22050), 22050, n_fft=2048, hop_length=512,
                                             n_frames=FRAMES)
    # the hats' band above 11.025 kHz, from the same one-shots rendered at 44.1 kHz
    high = DrumTemplates.from_one_shots(_shots({label: PARTS[label] for label in HIGH_BAND_PARTS}, HIGH_SR),
                                        HIGH_SR, n_fft=4096, hop_length=1024, n_frames=FRAMES)
    ratios = np.full((len(PARTS), 2), np.nan)
    ratios[[list(PARTS).index(label) for label in HIGH_BAND_PARTS]] = band_ratios_db(high.P, HIGH_SR, 4096)
    templates.high_band_db = ratios
    # entries more than STORED_DB below a template's peak are stored as zeros (the fit's
    # default support, support_db=-50, zeroes them anyway): the file stays small
    trim_support(templates.P, STORED_DB)
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
