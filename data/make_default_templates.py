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

A second file, ``nmfaudio/data/electronic_snare_template.npz`` (``--electronic-output``),
holds one snare template learned from the drum machines' snares of FluidR3's Electronic
(24) and TR-808 (25) kits: a song's snare starts from it and the bundled snare, half each.

The electronic kits (Electronic 24, TR-808 25) and Orchestra (48) are left out: on the
kick/snare/hi-hat benchmark templates from the five acoustic kits gave 16.62 dB mean
SDR, from all eight 16.49 dB.  Why these parts and lengths: docs/drums-five-stems.md.

``--more-percussion pooled|parts`` (a measurement, not the bundled file: docs/drums-five-stems.md,
twenty-fourth round) learns the percussion from more sources than FluidR3's acoustic kits
(``--percussion-sources``, default both): ``fluidr3``, its TR-808 kit (preset 25; MIT), and
``hydrogen``, the percussion of installed Hydrogen kits no benchmark plays
(``HYDROGEN_PERCUSSION``; GPL and CC BY-SA samples: a file built with them is not MIT data).
``pooled`` averages them into the four ``other:*`` parts, ``parts`` adds four more parts
(``other:metal2`` ...) beside the FluidR3 ones.

Usage::

    python data/make_default_templates.py            # rewrites the bundled files
    python data/make_default_templates.py -o kit.npz  # somewhere else
    python data/make_default_templates.py -o /tmp/more.npz --more-percussion parts
    python data/make_default_templates.py -o /tmp/808.npz --more-percussion pooled --percussion-sources fluidr3
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

#: ``--more-percussion``: FluidR3 presets whose percussion notes differ from the acoustic
#: kits' (rendered for the ``other:*`` parts only; bit-identical renders are skipped).
MORE_PERCUSSION_PRESETS = {25: "tr-808"}
#: ``--more-percussion``: {part: {Hydrogen kit: instrument names}}, every velocity layer of
#: each.  Only kits no benchmark renders: not the tuning, held-out or transcription kits
#: (benchmarks/performances.py), not "Gimme A Hand 1.0" (the benchmarks' percussion), never
#: the kits reserved for independent evaluation.
HYDROGEN_PERCUSSION = {
    "other:metal": {"TR808EmulationKit": ("Cowbell",),
                    "circAfrique v4": ("Sangban1 Bell Hit", "Sangban1 Bell Mute", "Dununba1 Bell",
                                       "Dununba1 Bell Mute", "Kenkeni1 Bell Hit", "Kenkeni1 Bell Mute")},
    "other:shaker": {"TR808EmulationKit": ("Shaker",)},
    "other:skin": {"TR808EmulationKit": ("Conga",), "ElectricEmpireKit": ("Conga 1", "Conga 2"),
                   "circAfrique v4": tuple(f"Djembe{i} {s}" for i in range(1, 6) for s in ("Slap", "Tone"))},
    "other:clap": {"TR808EmulationKit": ("Clap", "Clave"), "ElectricEmpireKit": ("Clap", "Clap Hard"),
                   "HardElectro1": ("Clap 1", "Clap 2")},
}
HYDROGEN_DRUMKITS = Path("/usr/share/hydrogen/data/drumkits")
PERCUSSION_SOURCES = ("fluidr3", "hydrogen")
#: Drum machines' snares: FluidR3 presets Electronic (24) and TR-808 (25), GM 38 and 40 —
#: tuned bodies at 130-310 Hz, where the acoustic kits' snares hold little.  Learned into a
#: second file (``ELECTRONIC_OUTPUT``), which a song's snare starts from half-and-half with
#: the bundled snare (``nmfaudio.drums.stems.SONG_ELECTRONIC_SNARE``; docs/drums-full-song.md,
#: "A drum machine's tuned snare").  Not in the bundled file itself: pooled into its snare,
#: drum recordings' kick/snare/hi-hat-only grooves lost 0.2-0.3 dB.
ELECTRONIC_SNARE_PRESETS = {24: "electronic", 25: "tr-808"}
ELECTRONIC_OUTPUT = HERE.parent / "nmfaudio" / "data" / "electronic_snare_template.npz"


def _shots(parts, sr, kits=KITS, keep=None):
    """{label: [mono one-shot arrays]} of ``parts`` ({label: GM notes}) rendered at ``sr``
    from the FluidR3 presets ``kits``; with ``keep`` (preset names) only those presets'
    one-shots (render_one_shots skips a render equal to an earlier preset's, so a preset
    that reuses another's sample adds nothing)."""
    from nmfaudio import audio

    folders = {label: label.replace(":", "-") for label in parts}
    kept = tuple(f"fluidr3-{name}_" for name in (kits.values() if keep is None else keep))
    with tempfile.TemporaryDirectory() as tmp:
        written = make_drum_loop.render_one_shots(
            tmp, kits=kits, sr=sr, class_notes={folders[label]: notes for label, notes in parts.items()})
        return {label: [audio.load(path, sr=sr, mono=True)[0] for path in sorted(written[folders[label]])
                        if path.name.startswith(kept)] for label in parts}


def hydrogen_shots(kit_dir, names, sr):
    """Every velocity layer of the instruments ``names`` of a Hydrogen kit, mono at ``sr``.

    Parameters
    ----------
    kit_dir : Path
        The kit's folder (``drumkit.xml`` and its samples).
    names : sequence of str
        Instrument names as in ``drumkit.xml`` (each must be there).
    sr : int

    Returns
    -------
    list of ndarray (n_samples,)
        In the order of ``names``, then of each instrument's velocity layers (lowest first).
    """
    from nmfaudio import audio

    # the benchmarks' drumkit.xml reader (every readable velocity layer, in velocity order)
    sys.path.insert(0, str(HERE.parent / "benchmarks"))
    try:
        import drumkits
    finally:
        sys.path.remove(str(HERE.parent / "benchmarks"))
    found = {}
    for inst in drumkits.read_instruments(kit_dir)["instruments"]:
        found.setdefault(inst["name"].strip(), [path for *_, path in inst["layers"]])
    missing = [name for name in names if not found.get(name)]
    if missing:
        raise ValueError(f"{kit_dir}: no samples for instruments {missing}")
    return [audio.load(path, sr=sr, mono=True)[0] for name in names for path in found[name]]


def more_percussion(sr, sources=PERCUSSION_SOURCES, drumkits=HYDROGEN_DRUMKITS):
    """{other:* label: [one-shots]}: with ``"fluidr3"`` in ``sources`` the
    ``MORE_PERCUSSION_PRESETS``' own percussion renders, with ``"hydrogen"`` the
    ``HYDROGEN_PERCUSSION`` samples (in ``drumkits``)."""
    other = {label: notes for label, notes in PARTS.items() if label.startswith("other:")}
    shots = {label: [] for label in other}
    if "fluidr3" in sources:
        shots = _shots(other, sr, kits={**KITS, **MORE_PERCUSSION_PRESETS}, keep=MORE_PERCUSSION_PRESETS.values())
    if "hydrogen" in sources:
        for label, kits in HYDROGEN_PERCUSSION.items():
            for kit, names in kits.items():
                shots[label] = shots[label] + hydrogen_shots(Path(drumkits) / kit, names, sr)
    return shots


def build_electronic_snare(output=ELECTRONIC_OUTPUT, *, overwrite=True):
    """Learn the one ``"snare"`` template of ``ELECTRONIC_SNARE_PRESETS``' snares (every
    velocity, the bundled file's STFT and 8 frames), save it to ``output``; return it."""
    from nmfaudio.drums import DrumTemplates
    from nmfaudio.drums.templates import trim_support

    kits = {**KITS, **ELECTRONIC_SNARE_PRESETS}  # rendered with the acoustic kits: the same common gain
    shots = _shots({"snare": PARTS["snare"]}, 22050, kits=kits, keep=ELECTRONIC_SNARE_PRESETS.values())
    templates = DrumTemplates.from_one_shots(shots, 22050, n_fft=2048, hop_length=512, n_frames=FRAMES)
    trim_support(templates.P, STORED_DB)
    templates.source = ("FluidR3 GM SoundFont (MIT), bank 128 kits " + ", ".join(
        f"{name} ({preset})" for preset, name in ELECTRONIC_SNARE_PRESETS.items())
        + ", GM notes 38 and 40; data/make_default_templates.py")
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    templates.save(output, overwrite=overwrite)
    return templates


def build(output=OUTPUT, *, overwrite=True, more="none", sources=PERCUSSION_SOURCES):
    """Render the one-shots, learn the templates, save them to ``output``; return them.
    ``more``: ``"none"`` (the bundled file), ``"pooled"`` or ``"parts"``, with the
    percussion of ``sources`` (see the module docstring)."""
    from nmfaudio.drums import DrumTemplates
    from nmfaudio.drums.templates import band_ratios_db, trim_support

    shots = _shots(PARTS, 22050)
    if more != "none":
        extra = more_percussion(22050, sources)
        for label, added in extra.items():
            if more == "pooled":
                shots[label] = shots[label] + added
            else:
                shots[label + "2"] = added
    templates = DrumTemplates.from_one_shots(shots, 22050, n_fft=2048, hop_length=512, n_frames=FRAMES)
    labels = list(shots)
    # the hats' band above 11.025 kHz, from the same one-shots rendered at 44.1 kHz
    high = DrumTemplates.from_one_shots(_shots({label: PARTS[label] for label in HIGH_BAND_PARTS}, HIGH_SR),
                                        HIGH_SR, n_fft=4096, hop_length=1024, n_frames=FRAMES)
    ratios = np.full((len(labels), 2), np.nan)
    ratios[[labels.index(label) for label in HIGH_BAND_PARTS]] = band_ratios_db(high.P, HIGH_SR, 4096)
    templates.high_band_db = ratios
    # entries more than STORED_DB below a template's peak are stored as zeros (the fit's
    # default support, support_db=-50, zeroes them anyway): the file stays small
    trim_support(templates.P, STORED_DB)
    templates.source = ("FluidR3 GM SoundFont (MIT), bank 128 kits " + ", ".join(
        f"{name} ({preset})" for preset, name in KITS.items()) + "; data/make_default_templates.py"
        + ("" if more == "none" else f" --more-percussion {more} --percussion-sources {','.join(sources)}")
        + ("; percussion also from Hydrogen kits " + ", ".join(sorted({k for kits in HYDROGEN_PERCUSSION.values()
                                                                       for k in kits})) + " (GPL, CC BY-SA)"
           if more != "none" and "hydrogen" in sources else ""))
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    templates.save(output, overwrite=overwrite)
    return templates


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT, help=f"default {OUTPUT}")
    parser.add_argument("--electronic-output", type=Path, default=None,
                        help=f"the drum machines' snare template; default {ELECTRONIC_OUTPUT} with the default "
                             "-o, else beside -o (a measurement run leaves the bundled files alone)")
    parser.add_argument("--more-percussion", choices=("none", "pooled", "parts"), default="none",
                        help="percussion from more sources than FluidR3's acoustic kits (a measurement)")
    parser.add_argument("--percussion-sources", default=",".join(PERCUSSION_SOURCES),
                        help="with --more-percussion: comma-separated, of fluidr3 (TR-808, MIT) and hydrogen "
                             "(GPL, CC BY-SA kits); default both")
    args = parser.parse_args(argv)
    sources = tuple(args.percussion_sources.split(","))
    unknown = set(sources) - set(PERCUSSION_SOURCES)
    if unknown:
        parser.error(f"--percussion-sources: unknown {sorted(unknown)}; choose from {PERCUSSION_SOURCES}")
    templates = build(args.output, more=args.more_percussion, sources=sources)
    print(f"{args.output}: {templates!r} ({args.output.stat().st_size / 1024:.0f} KB)")
    electronic_output = args.electronic_output
    if electronic_output is None:
        electronic_output = (ELECTRONIC_OUTPUT if args.output.resolve() == Path(OUTPUT).resolve()
                             else args.output.with_name(args.output.stem + "_electronic_snare.npz"))
    electronic = build_electronic_snare(electronic_output)
    print(f"{electronic_output}: {electronic!r} ({electronic_output.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
