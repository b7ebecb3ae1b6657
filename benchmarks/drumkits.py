"""Evaluation drum mixtures with known stems, built from real Hydrogen drum kits.

The kits come from the Debian packages ``hydrogen-data`` (GMRockKit, TR808EmulationKit)
and ``hydrogen-drumkits`` (the other kits named below)
(``apt-get install hydrogen-data hydrogen-drumkits``; kits in ``/usr/share/hydrogen/data/drumkits``).
Nothing from that package is committed to this repository: benchmarks render
their mixtures on the fly from the installed kit.

Licenses (from each kit's ``drumkit.xml`` ``<license>`` tag and
``/usr/share/doc/hydrogen-data/copyright``, whose ``Files: *`` stanza is
GPL-2+): GMRockKit (Glen MacArthur / Sebastian Moors, a sampled 5-piece
Pearl DX kit) is GPL; so are ForzeeStereo (GPL-2), The Black Pearl,
TR808EmulationKit, ElectricEmpireKit, HardElectro1 and VariBreaks;
Audiophob is CC0; BJA_Pacific is CC BY-SA 3.0; rumpf_kit_z01_h2 is CC BY 3.0.
Mixtures rendered from GPL kits are derived works of those samples: use them
for evaluation, do not redistribute them as CC0/MIT data.

GMRockKit's relevant instruments (``drumkit.xml``, all with 5 velocity
layers Softest/Soft/Med/Hard/Hardest, 44.1 kHz mono 16-bit WAV):
Kick (GM note 36), Snare (38), Hat Closed (42), Hat Pedal (44),
Hat Open (46), Hat Semi-Open (82).  Snare Rimshot (40) and Stick (37) are not
used.

Functions
---------
find_kit(name_or_path)
    Resolve a kit folder (``"GMRockKit"`` or a path).
parse_drumkit(kit_dir)
    Map a kit's instruments to drum roles (kick, snare, hi-hat closed/open/...).
render_eval_mixtures(kit_dir, n=8, sr=22050, seed=0)
    Seeded rock/funk mixtures with sample-accurate stems; ``mix = kick + snare + hihat``.
load_one_shots(kit_dir, out_dir)
    Export a kit's kick/snare/hi-hat samples as ``out_dir/{kick,snare,hihat}/*.wav``.
"""

from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import soundfile as sf

KIT_ROOT = Path("/usr/share/hydrogen/data/drumkits")
STEMS = ("kick", "snare", "hihat")
HIHAT_ROLES = ("hihat_closed", "hihat_open", "hihat_pedal", "hihat_semiopen")
ROLES = ("kick", "snare") + HIHAT_ROLES
ROLE_STEM = {"kick": "kick", "snare": "snare", **{r: "hihat" for r in HIHAT_ROLES}}
GM_NOTE = {"kick": 36, "snare": 38, "hihat_closed": 42, "hihat_pedal": 44,
           "hihat_open": 46, "hihat_semiopen": 82}

# One bar of 16 sixteenth-note steps per row.  "." rest, "g" ghost, "x" hit,
# "X" accent; in the hihat row "x"/"X" closed, "o" open, "p" pedal.
PATTERNS = {
    "rock": {"kick": "X.......X.x.....", "snare": "....X.......X...",
             "hihat": "X.x.X.x.X.x.X.x."},
    "rock_push": {"kick": "X..x..x.X.......", "snare": "....X.......X..x",
                  "hihat": "X.x.X.x.X.x.X.o."},
    "rock_16ths": {"kick": "X.....x.X.x.....", "snare": "....X.......X...",
                   "hihat": "XxxxXxxxXxxxXxxx"},
    "funk_ghosts": {"kick": "X.x.......x..x..", "snare": "....X..g.g..X..g",
                    "hihat": "XxxxXxxxXxxxXxxx"},
    "funk_open": {"kick": "X..x..x...x.....", "snare": "....X.g.....X.g.",
                  "hihat": "X.x.X.o.X.x.X.o."},
    "disco": {"kick": "X...X...X...X...", "snare": "....X.......X...",
              "hihat": "p.o.p.o.p.o.p.o."},
}
VELOCITY = {"g": 0.3, "x": 0.7, "X": 0.95, "o": 0.8, "p": 0.6}
HIHAT_ROLE_OF = {"x": "hihat_closed", "X": "hihat_closed", "g": "hihat_closed",
                 "o": "hihat_open", "p": "hihat_pedal"}


def find_kit(name_or_path):
    """Return the folder of a Hydrogen kit given its name or a path.

    Parameters
    ----------
    name_or_path : str or Path
        ``"GMRockKit"`` (looked up in ``/usr/share/hydrogen/data/drumkits``)
        or a folder holding ``drumkit.xml``.

    Returns
    -------
    Path
    """
    path = Path(name_or_path)
    for cand in (path, KIT_ROOT / str(name_or_path)):
        if (cand / "drumkit.xml").is_file():
            return cand
    raise FileNotFoundError(
        f"kit_dir={str(name_or_path)!r} has no drumkit.xml; pass a Hydrogen kit folder "
        f"or a kit name in {KIT_ROOT} (apt-get install hydrogen-data hydrogen-drumkits)")


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _child(elem, name, default=None):
    for c in elem:
        if _local(c.tag) == name:
            return c.text if c.text is not None else default
    return default


def _role(name):
    n = name.lower()
    if re.search(r"hi[- ]?hat|\bhats?\b|\bhh\b|\b[co]hh\b", n):
        if "semi" in n:
            return "hihat_semiopen"
        if re.search(r"pedal|\bpd\b", n):
            return "hihat_pedal"
        if re.search(r"open|\bop\b|\bohh\b", n):
            return "hihat_open"
        return "hihat_closed"
    if re.search(r"kick|bass ?drum|\bbd\b", n):
        return "kick"
    if "snare" in n and not re.search(r"rim|roll|stick|side", n):
        return "snare"
    return None


def parse_drumkit(kit_dir):
    """Map a Hydrogen kit's instruments to drum roles.

    Instruments are classified by name (``Kick``/``Bass Drum`` -> kick,
    ``Snare`` without rim/roll/stick -> snare, ``Hat``/``Hi-Hat``/``HH`` ->
    hihat_closed, hihat_open, hihat_pedal or hihat_semiopen).  Within a
    role, the instrument whose MIDI note is the GM one (36, 38, 42, 46, 44)
    comes first.

    Parameters
    ----------
    kit_dir : str or Path
        Kit folder or kit name (see :func:`find_kit`).

    Returns
    -------
    dict
        ``{"name": str, "license": str, "roles": {role: [instrument, ...]}}``
        where an instrument is ``{"name", "gain", "midi_note", "layers"}``
        and ``layers`` is a list of ``(vel_min, vel_max, gain, Path)``
        sorted by ``vel_min``.
    """
    kit = read_instruments(kit_dir)
    roles = {r: [] for r in ROLES}
    for inst in kit["instruments"]:
        role = _role(inst["name"])
        if role is not None:
            roles[role].append(inst)
    for role, insts in roles.items():
        insts.sort(key=lambda i: i["midi_note"] != GM_NOTE[role])  # stable
    return {"name": kit["name"], "roles": roles, "license": kit["license"]}


def read_instruments(kit_dir):
    """Every instrument of a Hydrogen kit that has at least one readable sample.

    Returns
    -------
    dict
        ``{"name": str, "license": str, "instruments": [instrument, ...]}`` in the
        kit's order, an instrument being ``{"name", "gain", "midi_note", "pan",
        "layers"}`` with ``pan`` its (left, right) channel gains (:func:`_pan_gains`) and
        ``layers`` a list of ``(vel_min, vel_max, gain, Path)`` sorted by ``vel_min``.
    """
    kit_dir = find_kit(kit_dir)
    root = ET.parse(kit_dir / "drumkit.xml").getroot()
    instruments = []
    for inst in root.iter():
        if _local(inst.tag) != "instrument":
            continue
        name = _child(inst, "name", "") or ""
        layers = []
        for layer in inst.iter():
            if _local(layer.tag) != "layer":
                continue
            fname = _child(layer, "filename")
            if fname and (kit_dir / fname).is_file():
                layers.append((float(_child(layer, "min", 0)), float(_child(layer, "max", 1)),
                               float(_child(layer, "gain", 1)), kit_dir / fname))
        fname = _child(inst, "filename")  # very old single-sample format
        if not layers and fname and (kit_dir / fname).is_file():
            layers.append((0.0, 1.0, 1.0, kit_dir / fname))
        if not layers:
            continue
        gain = float(_child(inst, "gain", 1)) * float(_child(inst, "volume", 1))
        note = int(float(_child(inst, "midiOutNote", -1)))
        instruments.append({"name": name, "gain": gain, "midi_note": note, "pan": _pan_gains(inst),
                            "layers": sorted(layers, key=lambda l: l[0])})
    license_text = _child(root, "license", None) or _child(root, "licence", "") or ""
    return {"name": _child(root, "name", kit_dir.name), "instruments": instruments,
            "license": license_text.strip()}


def _pan_gains(inst):
    """An instrument's (left, right) channel gains as Hydrogen plays it: ``<pan>`` p in
    [-1, 1] (Hydrogen >= 1.0) by its default "balance" pan law — the far channel
    attenuated to 1 - |p|, the near one at 1 — or the older ``<pan_L>``/``<pan_R>``
    pair, each channel's gain as written.  (1, 1) when the kit says nothing."""
    pan = _child(inst, "pan")
    if pan is not None:
        p = float(np.clip(float(pan), -1.0, 1.0))
        return (min(1.0, 1.0 - p), min(1.0, 1.0 + p))
    return (float(_child(inst, "pan_L", 1)), float(_child(inst, "pan_R", 1)))


def _load(path, sr, cache, *, stereo=False):
    """Load a sample as float32 at ``sr`` (cached): mono, shape (n,), the channels'
    average; or with ``stereo`` shape (2, n), a mono sample in both channels and a
    stereo one as recorded (the way Hydrogen plays it)."""
    key = (path, "stereo") if stereo else path
    if key not in cache:
        y, file_sr = sf.read(path, dtype="float32", always_2d=True)
        if stereo:
            y = (np.repeat(y, 2, axis=1) if y.shape[1] == 1 else y[:, :2]).T
        else:
            y = y.mean(axis=1)
        if file_sr != sr:
            import librosa
            y = librosa.resample(y, orig_sr=file_sr, target_sr=sr, res_type="soxr_hq")
        cache[key] = np.ascontiguousarray(y, dtype=np.float32)
    return cache[key]


def _pick_layer(layers, velocity):
    for lo, hi, gain, path in layers:
        if lo <= velocity <= hi:
            return gain, path
    return layers[-1][2], layers[-1][3]


def render_eval_mixtures(kit_dir, n=8, sr=22050, seed=0, *, seconds=8.0,
                         bpm_range=(100.0, 140.0), jitter_ms=4.0, patterns=None,
                         peak=0.9):
    """Render drum mixtures with known kick/snare/hi-hat stems from a Hydrogen kit.

    Mixture ``i`` plays pattern ``patterns[i % len(patterns)]`` (rock and
    funk one-bar patterns, see ``PATTERNS``) for ``seconds`` at a tempo drawn
    uniformly from ``bpm_range``.  Each hit gets a velocity (accent 0.95,
    normal 0.7, ghost 0.3, ... plus uniform +-0.08), which picks the kit's
    velocity layer and scales the sample (Hydrogen's applyVelocity), and a
    timing jitter (normal, sd ``jitter_ms / 2``, clipped to +-``jitter_ms``).
    Hi-hat hits choke the previous hi-hat hit (10 ms fade), as a real hi-hat
    does.  Samples are placed sample-accurately; every stem and the mixture
    have exactly ``round(seconds * sr)`` samples, are float32, and
    ``mix == kick + snare + hihat`` exactly (float32 addition in that
    order).  All four are scaled by one factor so the mixture peaks at
    ``peak``.

    Parameters
    ----------
    kit_dir : str or Path
        Hydrogen kit folder or name, e.g. ``"GMRockKit"``.
    n : int
        Number of mixtures.
    sr : int
        Sample rate of the output.
    seed : int or numpy.random.Generator
        Randomness (tempo, velocities, jitter).
    seconds : float
        Length of each mixture.
    bpm_range : (float, float)
        Tempo range.
    jitter_ms : float
        Largest timing deviation from the grid.
    patterns : list of str, optional
        Names from ``PATTERNS``; default all of them.
    peak : float
        Peak absolute value of each mixture.

    Returns
    -------
    list of dict
        Each with ``mix``, ``kick``, ``snare``, ``hihat`` (float32, shape
        (n_samples,)), ``sr``, ``name`` (e.g. ``"GMRockKit-funk_open-117bpm-3"``),
        ``bpm``, ``pattern`` and ``onsets`` (``{stem: array of seconds}``).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n={n!r} must be an int >= 1")
    if not isinstance(sr, (int, np.integer)) or sr < 1000:
        raise ValueError(f"sr={sr!r} must be an int >= 1000 (e.g. 22050)")
    if seconds <= 0:
        raise ValueError(f"seconds={seconds!r} must be > 0")
    names = list(PATTERNS) if patterns is None else list(patterns)
    for p in names:
        if p not in PATTERNS:
            raise ValueError(f"patterns contains {p!r}; known patterns: {sorted(PATTERNS)}")
    kit = parse_drumkit(kit_dir)
    missing = [r for r in ("kick", "snare", "hihat_closed") if not kit["roles"][r]]
    if missing:
        raise ValueError(f"kit_dir={str(kit_dir)!r} has no instrument for {missing}; "
                         "choose a kit with kick, snare and closed hi-hat")
    rng = np.random.default_rng(seed)
    cache = {}
    n_samples = round(seconds * sr)
    out = []
    for i in range(n):
        pname = names[i % len(names)]
        pattern = PATTERNS[pname]
        bpm = float(rng.uniform(*bpm_range))
        step = 60.0 / bpm / 4
        n_steps = int(np.ceil(seconds / step))
        stems, onsets = {}, {}
        for stem in STEMS:
            row = pattern[stem]
            y = np.zeros(n_samples, dtype=np.float64)
            hits = []
            for k in range(n_steps):
                ch = row[k % len(row)]
                if ch == ".":
                    continue
                role = HIHAT_ROLE_OF[ch] if stem == "hihat" else stem
                if not kit["roles"][role]:
                    role = "hihat_closed"  # kit without open/pedal hat
                vel = float(np.clip(VELOCITY[ch] + rng.uniform(-0.08, 0.08), 0.05, 1.0))
                jit = float(np.clip(rng.normal(0, jitter_ms / 2), -jitter_ms, jitter_ms))
                t = max(0.0, k * step + jit / 1000)
                start = round(t * sr)
                if start >= n_samples:
                    continue
                hits.append((start, role, vel))
            for j, (start, role, vel) in enumerate(hits):
                inst = kit["roles"][role][0]
                lgain, path = _pick_layer(inst["layers"], vel)
                s = _load(path, sr, cache) * (vel * lgain * inst["gain"])
                stop = min(n_samples, start + len(s))
                if stem == "hihat" and j + 1 < len(hits):  # choke by next hi-hat hit
                    stop = min(stop, hits[j + 1][0])
                    seg = s[: stop - start].astype(np.float64)
                    fade = min(len(seg), sr // 100)
                    if start + len(s) > stop and fade:
                        seg[len(seg) - fade:] *= np.linspace(1, 0, fade)
                else:
                    seg = s[: stop - start]
                y[start:stop] += seg
            stems[stem] = y
            onsets[stem] = np.array([h[0] / sr for h in hits])
        scale = peak / max(np.abs(stems["kick"] + stems["snare"] + stems["hihat"]).max(), 1e-12)
        st = {k: (v * scale).astype(np.float32) for k, v in stems.items()}
        mix = st["kick"] + st["snare"] + st["hihat"]
        out.append({"mix": mix, **st, "sr": int(sr), "bpm": bpm, "pattern": pname,
                    "name": f"{kit['name']}-{pname}-{round(bpm)}bpm-{i}", "onsets": onsets})
    return out


def load_one_shots(kit_dir, out_dir, *, sr=22050, overwrite=False):
    """Export a Hydrogen kit's kick, snare and hi-hat samples as one-shot folders.

    Every velocity layer of every kick, snare and hi-hat instrument (closed,
    open, pedal, semi-open) is written, mono, resampled to ``sr``, 16-bit,
    to ``out_dir/kick/``, ``out_dir/snare/`` or ``out_dir/hihat/`` as
    ``<kit>_<sample file stem>.wav`` (the layout of the FluidR3 one-shots
    from ``data/make_drum_loop.py --one-shots`` and of libnmfd), so drum
    templates can be learned from a different kit than the one being
    separated.

    Parameters
    ----------
    kit_dir : str or Path
        Hydrogen kit folder or name.
    out_dir : str or Path
        Output folder (created).
    sr : int
        Sample rate of the written files.
    overwrite : bool
        Allow writing into a non-empty ``out_dir``.

    Returns
    -------
    dict
        ``{"kick"|"snare"|"hihat": [Path, ...]}``.
    """
    kit = parse_drumkit(kit_dir)
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise FileExistsError(f"out_dir={str(out_dir)!r} is not empty; pass overwrite=True "
                              "or choose an empty folder")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", kit["name"]).strip("-")
    written = {s: [] for s in STEMS}
    cache = {}
    umask = os.umask(0)
    os.umask(umask)
    for role, insts in kit["roles"].items():
        stem = ROLE_STEM[role]
        (out_dir / stem).mkdir(parents=True, exist_ok=True)
        for inst in insts:
            for _, _, _, path in inst["layers"]:
                dest = out_dir / stem / f"{slug}_{re.sub(r'[^A-Za-z0-9]+', '-', path.stem)}.wav"
                if dest in written[stem]:
                    continue
                y = _load(path, sr, cache)
                peak = float(np.abs(y).max())
                if peak > 1.0:  # resampling overshoot
                    y = y / peak
                fd, tmp = tempfile.mkstemp(suffix=".wav", dir=dest.parent)
                os.close(fd)
                os.chmod(tmp, 0o666 & ~umask)
                try:
                    sf.write(tmp, y, sr, subtype="PCM_16", format="WAV")
                    os.replace(tmp, dest)
                except BaseException:
                    os.unlink(tmp)
                    raise
                written[stem].append(dest)
    return written
