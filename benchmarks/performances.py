"""Realistic drum performances with exact per-class stems and note lists.

What a drummer plays, not a loop: seeded grooves (rock, sixteenths, funk with ghost
notes, disco with open and pedal hats, ride patterns with the hat pedal on 2 and 4 —
or, asked for, on every beat, the off-beats, 2 and 4 under a comping snare, or not at
all (``HAT_FEET``) — half time) in 2- or 4-bar phrases that end in tom fills, a crash on the downbeat after
each fill (and now and then elsewhere), humanized timing and velocity, percussion on top
(cowbell, shaker, tambourine, claps, congas, bongos) and a mixing balance drawn per
performance in which the hi-hat can sit 12-32 dB under the kick.

Rendered from

* Hydrogen kits (Debian ``hydrogen-data`` and ``hydrogen-drumkits``, ``/usr/share/hydrogen/data/drumkits``),
  sample by sample with their velocity layers; percussion a kit lacks comes from
  "Gimme A Hand 1.0" (shaker, tambourine, bongos; GPL);
* the drum kits of the FluidR3 GM SoundFont (bank 128, via ``fluidsynth``), one render
  per class so every stem is exact (the mixture is the sum of the stems);
* the same way, the drum kits of other SoundFonts listed in ``SOUNDFONTS`` (kit spec
  ``"sf2:<name>:<preset>"``): MuseScore General's bank-128 kits (Debian
  ``musescore-general-soundfont-lossless``; their kick, snare, toms, cymbals and
  percussion are FluidR3's samples, their hats their own) and AVL Drumkits' "Red Zeppelin" (Debian
  ``avldrums.lv2-soundfont``; its "Black Pearl" SoundFont is refused: the held-out
  Hydrogen kit The Black Pearl 1.0 comes from it).  Neither package is needed by the
  tests;
* the same way, the bank-128 kits of Csound's GM SoundFont (Debian ``csound-soundfont``,
  ``/usr/share/sounds/sf2/sf_GMbank.sf2``, "GM GS Bank", public domain: its ``ICOP`` field
  and ``debian/copyright`` say so; kit spec ``"sf2:csound:<preset>"``): its own samples,
  not FluidR3's (log-spectrum correlations 0.27-0.93 against FluidR3's same notes, where
  MuseScore's FluidR3 samples give 0.99), short mono one-shots, one velocity layer,
  toms and cymbals looped with volume envelopes, every GM note the performances play
  present; its percussion its own (preset 0, as FluidR3's kits take FluidR3 Standard's);
* a folder of one-shot samples (``SAMPLE_KITS``, kit spec ``"samples:<name>"``): the
  acoustic kit eXaDrums installs (Debian ``exadrums``, ``/usr/share/exadrums/*.wav``,
  recorded by Phill Mason; BSD-3-Clause per ``debian/copyright``), placed sample by
  sample as a Hydrogen kit's (stereo as recorded, centred), velocity as a linear gain.
  It has one hi-hat (closed: open and pedal hats play it, as the Hydrogen fallback
  does), two toms (the high and mid tom play the rack tom) and one crash (splash and
  china play it); percussion comes from "Gimme A Hand 1.0", as for the Hydrogen kits.
  Neither package is needed by the tests.  LMMS's samples (``lmms-common``) are not
  used: LMMS's demo songs, reserved for independent evaluation, play them.

Besides the acoustic kits (``HYDROGEN_KITS``), the electronic ones (``ELECTRONIC_KITS``:
drum machines, some without toms or cymbals, whose notes are then not played; roles
chosen by hand in ``KIT_ROLES``) are a probe nothing was tuned on.

Mono by default (a stereo sample's channels averaged, no pan).  ``stereo=True`` renders
what the kit's own player gives: a Hydrogen kit's samples in stereo as recorded, each
instrument at its ``drumkit.xml`` pan (Hydrogen's balance law, ``drumkits._pan_gains``:
GMRockKit's hats at -0.52, i.e. the right channel at 0.48, its ride at +0.44); a FluidR3
kit through fluidsynth's stereo output (each note at the SoundFont's pan).

Note times: Hydrogen samples are placed sample-accurately at the listed time; fluidsynth
renders in 64-sample blocks and its samples have short attacks, so FluidR3 hits sound
5-8 ms after the listed time (measured on the Standard kick).

Nothing rendered is committed: the GPL kits' samples would make the audio a derived
work; everything is rendered on the fly (about 0.1-1 s per 8-s performance).

Reserved for independent evaluation and refused here: the Hydrogen kits ForzeeStereo,
Millo_MultiLayered2, Millo_MultiLayered3 and ColomboAcousticDrumkit, and the demo songs
of Hydrogen and LMMS (never read).

Classes (the truth stems): ``kick``, ``snare``, ``toms``, ``hihat``, ``cymbals`` and
``other`` (percussion that is none of the five: it belongs in a separator's residual).

Functions
---------
compose(seed, ...)
    A performance: tempo, style, balance and a note list (time, role, velocity).
render(performance, kit, sr=22050)
    Its mixture, per-class stems and note list (times in seconds, class, velocity) on
    one kit (a Hydrogen kit name, ``"fluidr3:<preset>"``, ``"sf2:<name>:<preset>"`` or
    ``"samples:<name>"``).
soundfont_kit(kit)
    The SoundFont and preset of a ``"fluidr3:..."`` or ``"sf2:..."`` kit spec.
sample_kit(kit)
    The ``SAMPLE_KITS`` name of a ``"samples:<name>"`` kit spec.
render_performances(kits, n, seed, ...)
    ``n`` performances per kit, seeded.

Run ``python benchmarks/performances.py --out DIR`` to write a few as WAV files (for
listening; do not commit them).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "data"))

import drumkits  # noqa: E402

#: Truth classes: the five stems of ``separate_drums`` and ``other`` (its residual).
CLASSES = ("kick", "snare", "toms", "hihat", "cymbals", "other")

#: Instrument roles of a performance and the class each belongs to.
ROLE_CLASS = {
    "kick": "kick", "snare": "snare",
    "tom_high": "toms", "tom_mid": "toms", "tom_floor": "toms",
    "hihat_closed": "hihat", "hihat_open": "hihat", "hihat_pedal": "hihat",
    "crash": "cymbals", "ride": "cymbals", "ride_bell": "cymbals", "splash": "cymbals", "china": "cymbals",
    "cowbell": "other", "shaker": "other", "tambourine": "other", "clap": "other",
    "conga_high": "other", "conga_low": "other",
}
#: General MIDI percussion note of each role (FluidR3 rendering, and the MIDI of a note list).
GM_NOTE = {
    "kick": 36, "snare": 38, "tom_high": 48, "tom_mid": 45, "tom_floor": 41,
    "hihat_closed": 42, "hihat_open": 46, "hihat_pedal": 44,
    "crash": 49, "ride": 51, "ride_bell": 53, "splash": 55, "china": 52,
    "cowbell": 56, "shaker": 70, "tambourine": 54, "clap": 39, "conga_high": 63, "conga_low": 64,
}

#: Kits that may never be rendered here (reserved for independent evaluation).
RESERVED_KITS = ("ForzeeStereo", "Millo_MultiLayered2", "Millo_MultiLayered3", "ColomboAcousticDrumkit")
#: Acoustic Hydrogen kits with toms and cymbals.
HYDROGEN_KITS = ("GMRockKit", "Audiophob", "BJA_Pacific", "rumpf_kit_z01_h2", "Millo-Drums_v.1",
                 "The Black Pearl 1.0")
#: FluidR3 GM drum kits (bank 128 presets), the ones the bundled templates are learned from.
FLUIDR3_KITS = {0: "standard", 8: "room", 16: "power", 32: "jazz", 40: "brush"}
#: SoundFonts whose drum kits :func:`render` plays (kit spec ``"sf2:<name>:<preset>"``):
#: {name: (file, Debian package, bank, {preset: kit name}, percussion, {role: note})}.
#: ``bank``: 128 for GM drum kits (played on the percussion channel), 0 for a kit stored
#: as a melodic preset (played on MIDI channel 0, where fluidsynth looks bank 0 up).
#: ``percussion``: where the "other" class comes from, "self" (the SoundFont's preset 0,
#: as FluidR3's kits take FluidR3 Standard's) or "fluidr3" (FluidR3 Standard: the AVL kit
#: has no shaker or congas).  The note map overrides GM_NOTE where the kit differs from
#: General MIDI (read from its sample names): Red Zeppelin is a four-piece, one rack tom
#: (45; its 48 is a hi-hat swish) and a floor tom (41), no china (its 52 is a ride choke:
#: the K crash at 57 plays it).
SOUNDFONTS = {
    "fluidr3": ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "fluid-soundfont-gm", 128, FLUIDR3_KITS, "self", {}),
    "musescore": ("/usr/share/sounds/sf2/MuseScore_General_Full.sf2", "musescore-general-soundfont-lossless", 128,
                  {0: "MuseScore Standard", 8: "MuseScore Room", 16: "MuseScore Power", 32: "MuseScore Jazz",
                   40: "MuseScore Brush"}, "self", {}),
    "redzeppelin": ("/usr/share/sounds/sf2/Red_Zeppelin_4_LV2.sf2", "avldrums.lv2-soundfont", 0,
                    {0: "AVL Red Zeppelin"}, "fluidr3", {"tom_high": 45, "tom_mid": 45, "china": 57}),
    # Csound's GM bank: Jazz (32) is Standard note for note, Room (8) Standard with a
    # reverberant snare layered on the toms; 24 and 25 are drum machines (Electronic, TR 808)
    "csound": ("/usr/share/sounds/sf2/sf_GMbank.sf2", "csound-soundfont", 128,
               {0: "Csound GM Standard", 8: "Csound GM Room", 16: "Csound GM Power", 24: "Csound GM Electronic",
                25: "Csound GM TR 808", 32: "Csound GM Jazz", 40: "Csound GM Brush"}, "self", {}),
}
#: SoundFonts refused: AVL Drumkits' Black Pearl is the source of the held-out Hydrogen
#: kit "The Black Pearl 1.0" (a pattern over the spec's name).
REFUSED_SOUNDFONTS = r"black.?pearl"
#: Hydrogen kit that lends percussion (shaker, tambourine, bongos as congas) to kits without.
PERCUSSION_KIT = "Gimme A Hand 1.0"
#: Kits that are a folder of one-shots (kit spec ``"samples:<name>"``):
#: {name: (folder, Debian package, kit name, {role: (file, gain)})}.  Every role of
#: ``ROLE_CLASS`` but the percussion ("other": from ``PERCUSSION_KIT``) is listed; where the
#: kit lacks an instrument the role plays the nearest one it has.  eXaDrums' default kit
#: (its ``Default.xml``; files flattened into one folder by the Debian package): one hat
#: (a closed one, -40 dB after 0.23 s) plays the closed, open and pedal hats; its "Tom"
#: plays the high and mid toms, its "Floor Tom" the floor tom; its one crash the splash
#: and china; the ride's rim sound (RideBell) the ride bell.  Gains: Default.xml's
#: instrument volumes over 100 (crash 35, toms 50, the rest 100), read as linear.
SAMPLE_KITS = {
    "exadrums": ("/usr/share/exadrums", "exadrums", "eXaDrums Default", {
        "kick": ("BD_Acou_01.wav", 1.0), "snare": ("Snr_Acou_01.wav", 1.0),
        "tom_high": ("Tom01.wav", 0.5), "tom_mid": ("Tom01.wav", 0.5), "tom_floor": ("Tom03.wav", 0.5),
        "hihat_closed": ("HiHat.wav", 1.0), "hihat_open": ("HiHat.wav", 1.0), "hihat_pedal": ("HiHat.wav", 1.0),
        "crash": ("Crash_High.wav", 0.35), "splash": ("Crash_High.wav", 0.35), "china": ("Crash_High.wav", 0.35),
        "ride": ("RideEdge.wav", 1.0), "ride_bell": ("RideBell.wav", 1.0),
    }),
}
#: Electronic and breakbeat Hydrogen kits (drum machines: 808-style long sine kick, claps,
#: synthetic hats), a probe of material nothing was tuned on (docs/drums-full-song.md,
#: "Electronic kits").  HardElectro1 and ElectricEmpireKit have no toms and no cymbals,
#: VariBreaks no cymbals: :func:`render` leaves those notes out.  (Their claps, congas,
#: cowbell and shaker are among the sources of ``data/make_default_templates.py
#: --more-percussion``, which the bundled templates do not use.)
ELECTRONIC_KITS = ("TR808EmulationKit", "HardElectro1", "ElectricEmpireKit", "VariBreaks")
#: Roles chosen by hand where the name rules pick another instrument or none:
#: {kit folder: {role: instrument name}}.  TR808EmulationKit's kick is the long one (1.2 s,
#: 52 Hz: the 808 boom electronic music uses; the rules take "Kick Short" for its GM note
#: 36), its one conga plays both congas; ElectricEmpireKit's closed hat is "Hat Closed
#: Dirty" (the rules' first, "Hat Closed Bs", has its energy at 55-450 Hz, a hat with a
#: bass thump), its two congas the high and low conga.  Not played (no role): clave, zaps,
#: FX, whistle, click, side hats, ElectricEmpireKit's and VariBreaks' "Drum" one-shots.
KIT_ROLES = {
    "TR808EmulationKit": {"kick": "Kick Long", "conga_high": "Conga", "conga_low": "Conga"},
    "ElectricEmpireKit": {"hihat_closed": "Hat Closed Dirty", "conga_high": "Conga 1", "conga_low": "Conga 2"},
}
#: Classes a kit may lack: their notes are left out of a render on such a kit (a drum
#: machine without toms or cymbals); kick, snare and hi-hat every kit must have.
OPTIONAL_CLASSES = ("toms", "cymbals")

#: Per-hit loudness of each class relative to the kick's (dB, uniform range drawn per
#: performance; see :func:`_hit_level`).  The hi-hat often sits far under the kick.
LEVEL_DB = {"kick": (0.0, 0.0), "snare": (-4.0, 2.0), "toms": (-6.0, 0.0), "hihat": (-32.0, -12.0),
            "cymbals": (-16.0, -6.0), "other": (-22.0, -8.0)}
STYLES = ("rock8", "rock16", "funk", "disco", "ride", "halftime")
#: Where the ride style's hat foot plays (``compose(..., hat_foot=...)``): "backbeat" on 2
#: and 4 with the snare (the style's default); "quarters" on every beat (the foot keeping
#: time under a rock ride); "offbeats" on the "and" of every beat; "jazz" on 2 and 4 while
#: the snare leaves the backbeat and comps: one to three hits a bar, 0.3-0.75, on the
#: off-beat eighths and the "a" of a beat (where no foot plays); "none" no foot at all.
HAT_FEET = ("backbeat", "quarters", "offbeats", "jazz", "none")
#: The foot's steps (16ths of the bar) per pattern.
_FOOT_STEPS = {"backbeat": (4, 12), "quarters": (0, 4, 8, 12), "offbeats": (2, 6, 10, 14), "jazz": (4, 12),
               "none": ()}
#: Where a jazz snare comps (16ths of the bar): the off-beat eighths and the "a" of a beat.
_COMP_STEPS = (2, 3, 6, 7, 10, 11, 14, 15)
#: Largest timing deviation (ms) and its standard deviation.
JITTER_MS = (15.0, 6.0)


# --------------------------------------------------------------------------------------
# Composition
# --------------------------------------------------------------------------------------
def compose(seed, *, seconds=8.0, bpm_range=(85.0, 150.0), toms=True, cymbals=True, percussion=True,
            styles=STYLES, hat_foot=None):
    """A seeded drum performance.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    seconds : float
        Length; notes start before ``seconds``.
    bpm_range : (float, float)
    toms, cymbals, percussion : bool
        Whether fills, cymbals (crash, ride; ride styles need them) and percussion are
        played.  All False: kick, snare and hi-hat only.
    styles : sequence of str
        Grooves to draw from (``STYLES``).
    hat_foot : str, optional
        In a ride groove, where the hat's foot plays (``HAT_FEET``); None: on 2 and 4
        with the snare, as "backbeat" (the same performance, note for note).  Only
        "jazz" draws more from the seed (its comping), so every other pattern plays the
        default's groove with the foot moved.  Other styles ignore it.

    Returns
    -------
    dict
        ``bpm``, ``style``, ``seconds``, ``levels`` ({class: dB re kick}),
        ``notes``: list of ``(time_s, role, velocity in (0, 1])`` sorted by time.
    """
    if hat_foot is not None and hat_foot not in HAT_FEET:
        raise ValueError(f"hat_foot={hat_foot!r}: expected one of {', '.join(HAT_FEET)} or None")
    foot = _FOOT_STEPS[hat_foot or "backbeat"]
    rng = np.random.default_rng(seed)
    styles = [s for s in styles if cymbals or s != "ride"]
    style = str(rng.choice(styles))
    bpm = float(rng.uniform(*bpm_range))
    step = 60.0 / bpm / 4  # a sixteenth
    n_bars = int(np.ceil(seconds / (16 * step))) + 1
    phrase = int(rng.choice([2, 2, 4]))  # fills every 2 or 4 bars, from a random phrase start
    offset = int(rng.integers(phrase))
    ghost_rate = {"funk": 0.35, "rock16": 0.15, "halftime": 0.2}.get(style, 0.08)
    kick_extra = rng.uniform(0.05, 0.25)
    open_rate = rng.uniform(0.0, 0.25)
    grid = []  # (step index, role, velocity)

    def add(k, role, vel):
        grid.append((k, role, float(vel)))

    perc = []
    if percussion and rng.random() < 0.75:
        perc = list(rng.choice(["cowbell", "shaker", "tambourine", "clap", "conga"],
                               size=int(rng.integers(1, 3)), replace=False))
    for bar in range(n_bars):
        base = bar * 16
        fill_bar = toms and ((bar + offset) % phrase == phrase - 1) and rng.random() < 0.85
        fill_start = 16 - 4 * int(rng.choice([1, 2, 2, 4])) if fill_bar else 16
        after_fill = bar > 0 and toms and ((bar - 1 + offset) % phrase == phrase - 1)
        # -- kick and snare
        kick = {0}
        snare = {4, 12}
        if style == "halftime":
            snare = {8}
            kick |= {10} if rng.random() < 0.5 else {6}
        elif style == "disco":
            kick = {0, 4, 8, 12}
        elif style == "ride" and hat_foot == "jazz":
            snare = set()  # the snare comps (below), off the backbeat
            kick |= {8}
        else:
            kick |= {8}
            if style in ("funk", "rock16"):
                kick |= {int(rng.choice([6, 10, 11, 14]))}
        for k in range(16):
            if k not in kick and k not in snare and k % 2 == 0 and rng.random() < kick_extra:
                kick.add(k)
        for k in sorted(kick):
            if k < fill_start:
                add(base + k, "kick", 0.85 if k % 4 == 0 else 0.7)
        for k in sorted(snare):
            if k < fill_start:
                add(base + k, "snare", 0.9)
        for k in range(fill_start):
            if k not in snare and k % 4 != 0 and rng.random() < ghost_rate:
                add(base + k, "snare", rng.uniform(0.15, 0.35))  # ghost note
        if style == "ride" and hat_foot == "jazz":  # comping: 1-3 hits off the beat, where no foot plays
            for k in rng.choice(_COMP_STEPS, size=int(rng.integers(1, 4)), replace=False):
                if k < fill_start:
                    # a ghost note drawn on that step gives way to the comp: one stroke a step
                    # (both were played, two reference snare onsets ms apart, one of them no
                    # detector can find: 25 of 445 snare notes over seeds (0, 0..39); review10)
                    grid[:] = [g for g in grid if not (g[0] == base + int(k) and g[1] == "snare")]
                    add(base + int(k), "snare", rng.uniform(0.3, 0.75))
        # -- time keeping: hats or ride
        for k in range(fill_start):
            accent = k % 4 == 0
            if style == "ride":
                if k % 2 == 0 or (k % 4 == 3 and rng.random() < 0.5):
                    bell = accent and rng.random() < 0.15
                    add(base + k, "ride_bell" if bell else "ride", 0.75 if accent else 0.6)
                if k in foot:
                    add(base + k, "hihat_pedal", 0.7)
            elif style == "disco":
                if k % 4 == 2:
                    add(base + k, "hihat_open", 0.75)
                elif k % 4 == 0:
                    add(base + k, "hihat_pedal" if rng.random() < 0.5 else "hihat_closed", 0.65)
            else:
                every = 1 if style in ("rock16", "funk") else 2
                if k % every:
                    continue
                role = "hihat_open" if (k % 4 == 2 and rng.random() < open_rate) else "hihat_closed"
                add(base + k, role, (0.8 if accent else 0.55) + (0.1 if role == "hihat_open" else 0.0))
        # -- cymbals: crash on the first downbeat and after fills, sometimes elsewhere
        if cymbals:
            if bar == 0 or (after_fill and rng.random() < 0.85):
                add(base, "crash", 0.9)
            elif bar % 2 == 0 and rng.random() < 0.2:
                add(base + int(rng.choice([0, 8])), str(rng.choice(["crash", "splash", "china"])), 0.8)
        # -- the fill: sixteenths (or eighths) moving down the toms, snare now and then
        if fill_bar:
            toms_order = ["tom_high", "tom_mid", "tom_floor"]
            sub = 1 if rng.random() < 0.7 else 2
            n_fill = (16 - fill_start) // sub
            for j in range(n_fill):
                k = fill_start + j * sub
                position = min(2, j * 3 // max(n_fill, 1))
                role = "snare" if rng.random() < 0.2 else toms_order[position]
                add(base + k, role, rng.uniform(0.7, 0.95))
                if j % 4 == 0 and rng.random() < 0.5:
                    add(base + k, "kick", 0.7)
        # -- percussion
        for p in perc:
            for k in range(16):
                if p == "cowbell" and k % 4 == 0:
                    add(base + k, "cowbell", 0.75 if k == 0 else 0.6)
                elif p == "shaker" and k % 2 == 0 or (p == "shaker" and style in ("funk", "rock16")):
                    add(base + k, "shaker", 0.6 if k % 4 == 0 else 0.4)
                elif p == "tambourine" and k in (4, 12):
                    add(base + k, "tambourine", 0.8)
                elif p == "clap" and k in snare:
                    add(base + k, "clap", 0.8)
                elif p == "conga" and k in (3, 6, 10, 11, 14):
                    add(base + k, "conga_high" if k in (6, 14) else "conga_low", 0.7)
    notes = []
    for k, role, vel in grid:
        jitter = float(np.clip(rng.normal(0, JITTER_MS[1]), -JITTER_MS[0], JITTER_MS[0])) / 1000
        t = max(0.0, k * step + jitter)
        if t >= seconds:
            continue
        notes.append((t, role, float(np.clip(vel + rng.normal(0, 0.06), 0.08, 1.0))))
    notes.sort(key=lambda n: (n[0], n[1]))
    levels = {c: float(rng.uniform(*LEVEL_DB[c])) for c in CLASSES}
    return {"bpm": bpm, "style": style, "seconds": float(seconds), "levels": levels, "notes": notes}


# --------------------------------------------------------------------------------------
# Hydrogen kits
# --------------------------------------------------------------------------------------
_ROLE_PATTERNS = [  # (role, name regex, excluded regex) in order of preference
    ("tom_floor", r"floor|tom low|low tom|tom 3", None),
    ("tom_mid", r"tom 2|tom mid|mid(dle)? tom", None),
    ("tom_high", r"tom 1|tom hi|hi(gh)? tom|^tom$", None),
    ("ride_bell", r"bell", r"cow|sangban|dununba|kenkeni"),
    ("ride", r"ride", r"bell|flink"),
    ("crash", r"crash|cymbal", r"flink|choke"),
    ("splash", r"splash", r"choke"),
    ("china", r"china", None),
    ("cowbell", r"cowbell", None),
    ("clap", r"clap", None),
    ("shaker", r"maraca|shaker|cabasa", None),
    ("tambourine", r"tambourine", None),
    ("conga_high", r"conga hi|bongo hi", None),
    ("conga_low", r"conga lo|bongo lo", None),
]
#: A role missing from a kit is played by the first of these it has.
_FALLBACK = {"tom_mid": ("tom_high", "tom_floor"), "tom_high": ("tom_mid",), "tom_floor": ("tom_mid",),
             "hihat_open": ("hihat_semiopen", "hihat_closed"), "hihat_pedal": ("hihat_closed",),
             "ride": ("crash",), "ride_bell": ("ride", "crash"), "splash": ("crash",), "china": ("crash",)}


def _check_kit(name):
    if any(str(name).rstrip("/").endswith(r) for r in RESERVED_KITS):
        raise ValueError(f"kit {name!r} is reserved for independent evaluation; choose another kit")


def hydrogen_roles(kit_dir):
    """Map a Hydrogen kit's instruments to performance roles (by name; see ``_ROLE_PATTERNS``).

    Returns
    -------
    dict {role: instrument}
        ``instrument`` as in :func:`drumkits.read_instruments`; roles the kit lacks are
        absent.  ``KIT_ROLES`` overrides the name rules for the kits it lists.
    """
    _check_kit(kit_dir)
    roles = {}
    parsed = drumkits.parse_drumkit(kit_dir)
    for role, insts in parsed["roles"].items():
        if insts:
            roles[role] = insts[0]
    instruments = drumkits.read_instruments(kit_dir)["instruments"]
    for inst in instruments:
        name = inst["name"].lower().strip()
        for role, pattern, excluded in _ROLE_PATTERNS:
            if re.search(pattern, name) and not (excluded and re.search(excluded, name)):
                if "tom" in role and "tom" not in name:
                    continue
                roles.setdefault(role, inst)
                break
    by_name = {inst["name"]: inst for inst in instruments}
    for role, name in KIT_ROLES.get(drumkits.find_kit(kit_dir).name, {}).items():
        roles[role] = by_name[name]  # a KeyError here: the kit changed, KIT_ROLES must follow
    for role, options in _FALLBACK.items():
        if role not in roles:
            for option in options:
                if option in roles:
                    roles[role] = roles[option]
                    break
    return roles


def playable_notes(notes, kit):
    """The notes a Hydrogen kit can play: those of an ``OPTIONAL_CLASSES`` role the kit has
    no instrument for (toms or cymbals of a drum machine) are left out; every other note
    is kept (the same list, unchanged, on a kit with toms and cymbals).

    Parameters
    ----------
    notes : list of (time_s, role, velocity)
    kit : str
        A Hydrogen kit name or folder.

    Returns
    -------
    list of (time_s, role, velocity)
    """
    roles = hydrogen_roles(kit)
    return [n for n in notes if ROLE_CLASS[n[1]] not in OPTIONAL_CLASSES or n[1] in roles]


def sample_kit(kit):
    """The ``SAMPLE_KITS`` name of a ``"samples:<name>"`` kit spec.

    Parameters
    ----------
    kit : str

    Returns
    -------
    str or None
        The name (lower case); None for any other kit spec.

    Raises
    ------
    ValueError
        An unknown name.
    """
    kit = str(kit)
    if not kit.startswith("samples:"):
        return None
    name = kit.split(":", 1)[1].lower()
    if name not in SAMPLE_KITS:
        raise ValueError(f"unknown sample kit {name!r}; known: {', '.join(SAMPLE_KITS)}")
    return name


def sample_kit_roles(name):
    """A ``SAMPLE_KITS`` kit's roles as :func:`hydrogen_roles` gives a Hydrogen kit's.

    Parameters
    ----------
    name : str
        A key of ``SAMPLE_KITS``.

    Returns
    -------
    dict {role: instrument}
        ``instrument``: ``name`` (the file), ``gain``, ``pan`` (1, 1: centred, a stereo
        sample as recorded) and ``layers``, one layer over every velocity.

    Raises
    ------
    FileNotFoundError
        The folder or a file is missing (naming the Debian package).
    """
    folder, package, _, table = SAMPLE_KITS[name]
    roles = {}
    for role, (file, gain) in table.items():
        path = Path(folder) / file
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found; install the Debian package {package} "
                                    f"(sudo apt-get install {package})")
        roles[role] = {"name": file, "gain": float(gain), "pan": (1.0, 1.0), "layers": [(0.0, 1.0, 1.0, str(path))]}
    return roles


def _render_hydrogen(notes, kit, n_samples, sr, cache, stereo=False, roles=None):
    """Per-class stems, (n_samples,) each, or with ``stereo`` (2, n_samples): every
    sample in stereo as recorded (a mono one in both channels), times its instrument's
    pan gains (:func:`drumkits._pan_gains`, Hydrogen's balance law).  ``roles``: the
    kit's {role: instrument} if not a Hydrogen kit's (:func:`sample_kit_roles`); roles
    it lacks come from ``PERCUSSION_KIT`` either way."""
    roles = hydrogen_roles(kit) if roles is None else roles
    lent = None
    shape = (2, n_samples) if stereo else (n_samples,)
    stems = {c: np.zeros(shape) for c in CLASSES}
    hat_hits = [(round(t * sr), role, v) for t, role, v in notes if ROLE_CLASS[role] == "hihat"]
    for t, role, vel in notes:
        inst = roles.get(role)
        if inst is None:
            if lent is None:
                lent = hydrogen_roles(PERCUSSION_KIT)
            inst = lent.get(role)
            if inst is None:
                raise ValueError(f"kit {kit!r} has no instrument for {role!r}")
        gain, path = drumkits._pick_layer(inst["layers"], vel)
        sample = drumkits._load(path, sr, cache, stereo=stereo) * (vel * gain * inst["gain"])
        if stereo:
            sample = sample * np.asarray(inst["pan"], np.float32)[:, None]
        start = round(t * sr)
        stop = min(n_samples, start + sample.shape[-1])
        segment = sample[..., :stop - start].astype(np.float64)
        if ROLE_CLASS[role] == "hihat":  # the next hat hit chokes this one (10 ms fade)
            later = [s for s, _, _ in hat_hits if s > start]
            if later and later[0] < stop:
                stop = later[0]
                segment = segment[..., :stop - start]
                fade = min(segment.shape[-1], sr // 100)
                segment[..., segment.shape[-1] - fade:] *= np.linspace(1, 0, fade)
        stems[ROLE_CLASS[role]][..., start:stop] += segment
    return stems


# --------------------------------------------------------------------------------------
# FluidR3 kits
# --------------------------------------------------------------------------------------
_TICKS_PER_SECOND = 960  # at 120 BPM and 480 ticks per beat
#: How long a note is held (s): fluidsynth releases a drum voice at its note-off.
_HOLD = {"cymbals": 4.0, "hihat": 1.5, "toms": 1.5}


def soundfont_kit(kit):
    """The SoundFont of a kit spec: ``"fluidr3:<preset>"`` (FluidR3 GM, bank 128) or
    ``"sf2:<name>:<preset>"`` (``name`` a key of ``SOUNDFONTS``).

    Parameters
    ----------
    kit : str

    Returns
    -------
    (str, int) or None
        The ``SOUNDFONTS`` name and the preset number; None for a Hydrogen kit name.

    Raises
    ------
    ValueError
        A refused SoundFont (``REFUSED_SOUNDFONTS``), an unknown one, or a malformed spec.
    """
    kit = str(kit)
    if kit.startswith("fluidr3:"):
        name, preset = "fluidr3", kit.split(":", 1)[1]
    elif kit.startswith("sf2:"):
        parts = kit.split(":")
        if len(parts) != 3:
            raise ValueError(f"kit spec {kit!r}: expected 'sf2:<name>:<preset>'")
        name, preset = parts[1].lower(), parts[2]
    else:
        return None
    if re.search(REFUSED_SOUNDFONTS, name, re.IGNORECASE):
        raise ValueError(f"SoundFont {name!r} refused: the held-out kit The Black Pearl 1.0 comes from it")
    if name not in SOUNDFONTS:
        raise ValueError(f"unknown SoundFont {name!r}; known: {', '.join(SOUNDFONTS)}")
    if not preset.isdigit():
        raise ValueError(f"kit spec {kit!r}: the preset must be a number")
    return name, int(preset)


def _soundfont_file(name):
    """The ``.sf2`` path of a ``SOUNDFONTS`` entry; FileNotFoundError naming its Debian package."""
    path, package = Path(SOUNDFONTS[name][0]), SOUNDFONTS[name][1]
    if not path.is_file():
        raise FileNotFoundError(f"the SoundFont {path} not found; install the Debian package {package} "
                                f"(sudo apt-get install {package})")
    return path


def _render_fluidr3(notes, preset, n_samples, sr, stereo=False, font="fluidr3"):
    """One fluidsynth run: the classes one after another, each in its own time slot
    (all voices cut between slots), so every class stem is rendered alone; with
    ``stereo`` fluidsynth's stereo output, (2, n_samples) per stem (each note at the
    SoundFont's pan), else its channel average.  ``font``: the ``SOUNDFONTS`` entry
    (default FluidR3 GM); where it has no percussion, "other" is one more run on FluidR3
    Standard."""
    import make_drum_loop

    _, _, bank, _, percussion, note_map = SOUNDFONTS[font]
    seconds = n_samples / sr
    slot = round((seconds + _HOLD["cymbals"] + 1.0) * _TICKS_PER_SECOND)
    midi, programs, sound_off = [], [], []
    for index, cls in enumerate(CLASSES):
        start = index * slot
        # percussion ("other") always from the Standard kit: not every kit maps those notes
        programs.append((start, 0 if cls == "other" else preset))
        sound_off.append(start)
        if cls == "other" and percussion != "self":
            continue  # rendered below on FluidR3 Standard
        events = [(round(t * _TICKS_PER_SECOND), note_map.get(role, GM_NOTE[role]), max(1, min(127, round(v * 127))))
                  for t, role, v in notes if ROLE_CLASS[role] == cls]
        for i, (on, note, vel) in enumerate(events):
            hold = round(_HOLD.get(cls, 0.8) * _TICKS_PER_SECOND)
            later = [o for o, n, _ in events[i + 1:] if n == note]
            off = min(on + hold, later[0] - 1) if later else on + hold
            midi.append((start + on, start + max(off, on + 1), note, vel))
    y = make_drum_loop.fluidsynth_render(midi, bpm=120, end_tick=len(CLASSES) * slot, programs=programs,
                                         sound_off=sound_off, sr=sr, stereo=stereo, soundfont=_soundfont_file(font),
                                         channel=make_drum_loop.DRUM_CHANNEL if bank == 128 else 0)
    pad = max(0, len(CLASSES) * slot * sr // _TICKS_PER_SECOND + sr - y.shape[-1])
    y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, pad)])
    stems = {}
    for index, cls in enumerate(CLASSES):
        start = round(index * slot / _TICKS_PER_SECOND * sr)
        stems[cls] = y[..., start:start + n_samples].copy()  # the slot's tail (after `seconds`) is dropped
        if not any(ROLE_CLASS[role] == cls for _, role, _ in notes):
            stems[cls][:] = 0  # a class that does not play is exactly silent
    if percussion != "self":
        other = [n for n in notes if ROLE_CLASS[n[1]] == "other"]
        stems["other"] = _render_fluidr3(other, 0, n_samples, sr, stereo)["other"]
    return stems


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------
def _hit_level(y, onsets, sr):
    """Per-hit loudness: RMS over the first 100 ms after each onset (dB); None if silent."""
    if len(onsets) == 0:
        return None
    window = sr // 10  # stereo (2, n): over both channels
    energy = [np.mean(y[..., s:s + window] ** 2) for s in onsets if s < y.shape[-1]]
    value = float(np.mean(energy)) if energy else 0.0
    return 10 * np.log10(value) if value > 0 else None


#: Renders are cached here (temporary folder; set to None to switch the cache off).
CACHE_DIR = Path(tempfile.gettempdir()) / "nmfaudio-performances"


def _cached(key, make):
    """Raw per-class stems for ``key`` from the disk cache, else ``make()`` (then stored;
    any shape)."""
    if CACHE_DIR is None:
        return make()
    path = CACHE_DIR / (hashlib.sha1(repr(key).encode()).hexdigest() + ".npz")
    if path.is_file():
        with np.load(path) as data:
            return {c: data[c].astype(np.float64) for c in CLASSES}
    stems = make()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(partial, **{c: stems[c].astype(np.float32) for c in CLASSES})
    os.replace(partial, path)
    return {c: stems[c].astype(np.float32).astype(np.float64) for c in CLASSES}


def render(performance, kit, *, sr=22050, peak=0.9, cache=None, stereo=False):
    """Render a performance on one kit.

    Parameters
    ----------
    performance : dict
        From :func:`compose`.
    kit : str
        A Hydrogen kit name or folder, ``"fluidr3:<preset>"`` (bank 128),
        ``"sf2:<name>:<preset>"`` (a kit of another SoundFont of ``SOUNDFONTS``; see
        :func:`soundfont_kit`) or ``"samples:<name>"`` (a folder of one-shots of
        ``SAMPLE_KITS``).  On a Hydrogen kit without toms or cymbals those notes
        are not played (nor listed): :func:`playable_notes`.
    sr : int
    peak : float
        The mixture's peak after one common scaling of all stems.
    cache : dict, optional
        Loaded samples, shared between calls.
    stereo : bool
        Render in stereo with each instrument at its kit's pan, as the kit's own player
        would: a Hydrogen kit's ``drumkit.xml`` pan (and its stereo samples as
        recorded), a SoundFont kit through fluidsynth's stereo output.  Default mono (the
        channels' average, no pan).

    Returns
    -------
    dict
        ``mix`` and one float32 stem per class of ``CLASSES`` (shape (n_samples,), or
        (2, n_samples) with ``stereo``; ``mix`` is their float32 sum in that order, so
        the stems add up to it exactly), ``sr``, ``stereo``,
        ``kit``, ``name``, ``bpm``, ``style``, ``levels``, and ``notes``: a list of
        ``{"time", "class", "role", "velocity", "midi_note"}`` (time in seconds) with
        the level of each note in the mix given by its class's level.
    """
    cache = {} if cache is None else cache
    n_samples = round(performance["seconds"] * sr)
    notes = performance["notes"]
    font = soundfont_kit(kit)
    if font is not None:
        font, preset = font
        notes = [(round(t * _TICKS_PER_SECOND) / _TICKS_PER_SECOND, r, v) for t, r, v in notes]
        if font == "fluidr3":
            kit_name = f"FluidR3-{FLUIDR3_KITS.get(preset, preset)}"
            # the mono key is the one mono renders always had (the cache stays valid)
            key = ("fluidr3", preset, notes, n_samples, sr)
        else:
            kit_name = SOUNDFONTS[font][3].get(preset, f"{font} {preset}")
            key = ("sf2", font, preset, notes, n_samples, sr)
        key += ("stereo",) if stereo else ()
        stems = _cached(key, lambda: _render_fluidr3(notes, preset, n_samples, sr, stereo, font))
    elif sample_kit(kit) is not None:
        name = sample_kit(kit)
        roles = sample_kit_roles(name)
        kit_name = SAMPLE_KITS[name][2]
        # the role table in the key: a changed mapping or gain is a new render
        key = ("samples", name, sorted(SAMPLE_KITS[name][3].items()), notes, n_samples, sr)
        key += ("stereo",) if stereo else ()
        stems = _cached(key, lambda: _render_hydrogen(notes, kit, n_samples, sr, cache, stereo, roles))
    else:
        _check_kit(kit)
        notes = playable_notes(notes, kit)
        kit_name = drumkits.read_instruments(kit)["name"]
        key = (str(drumkits.find_kit(kit)), notes, n_samples, sr) + (("stereo",) if stereo else ())
        stems = _cached(key, lambda: _render_hydrogen(notes, kit, n_samples, sr, cache, stereo))
    onsets = {c: [round(t * sr) for t, r, _ in notes if ROLE_CLASS[r] == c] for c in CLASSES}
    kick_level = _hit_level(stems["kick"], onsets["kick"], sr) or 0.0
    for cls in CLASSES:
        level = _hit_level(stems[cls], onsets[cls], sr)
        if level is not None and cls != "kick":
            stems[cls] *= 10 ** ((kick_level + performance["levels"][cls] - level) / 20)
    total = sum(stems.values())
    scale = peak / max(float(np.abs(total).max()), 1e-12)
    out = {c: (stems[c] * scale).astype(np.float32) for c in CLASSES}
    mix = np.zeros(out["kick"].shape, np.float32)
    for c in CLASSES:
        mix += out[c]
    note_list = [{"time": float(t), "class": ROLE_CLASS[r], "role": r, "velocity": float(v),
                  "midi_note": GM_NOTE[r]} for t, r, v in notes]
    slug = re.sub(r"[^A-Za-z0-9]+", "-", kit_name).strip("-")
    return {"mix": mix, **out, "sr": int(sr), "stereo": bool(stereo), "kit": kit_name, "bpm": performance["bpm"],
            "style": performance["style"], "levels": performance["levels"], "notes": note_list,
            "name": f"{slug}-{performance['style']}-{round(performance['bpm'])}bpm"}


def render_performances(kits, n=4, seed=0, *, sr=22050, seconds=8.0, toms=True, cymbals=True,
                        percussion=True, stereo=False):
    """``n`` performances per kit; performance ``i`` of every kit is drawn from seed
    ``(seed, i)``, so all kits play the same performances (``stereo``: see :func:`render`).

    Returns
    -------
    list of dict
        See :func:`render`; ``name`` ends in ``-<seed>.<i>``.
    """
    cache, out = {}, []
    performances = [compose(np.random.default_rng([seed, i]), seconds=seconds, toms=toms, cymbals=cymbals,
                            percussion=percussion) for i in range(n)]
    for kit in kits:
        for i, performance in enumerate(performances):
            rendered = render(performance, kit, sr=sr, cache=cache, stereo=stereo)
            rendered["name"] += f"-{seed}.{i}"
            out.append(rendered)
    return out


def main(argv=None):
    import soundfile as sf

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the WAVs (not to be committed)")
    parser.add_argument("--kit", action="append", help="kit (repeatable); default GMRockKit and fluidr3:0")
    parser.add_argument("-n", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stereo", action="store_true", help="stereo, each instrument at its kit's pan")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for m in render_performances(args.kit or ["GMRockKit", "fluidr3:0"], n=args.n, seed=args.seed,
                                 stereo=args.stereo):
        for key in ("mix",) + CLASSES:
            sf.write(args.out / f"{m['name']}_{key}.wav", m[key].T, m["sr"], subtype="FLOAT")
        counts = {c: sum(n["class"] == c for n in m["notes"]) for c in CLASSES}
        print(m["name"], counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
