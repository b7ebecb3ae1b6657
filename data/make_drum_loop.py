#!/usr/bin/env python
"""Render nmfaudio's bundled drum loop and drum one-shots with FluidSynth.

Everything here is rendered from the FluidR3 GM SoundFont (Frank Wen, MIT
license; Debian package ``fluid-soundfont-gm``, file
``/usr/share/sounds/sf2/FluidR3_GM.sf2``) by the ``fluidsynth`` program
(Debian package ``fluidsynth``).  The MIDI files are written by the tiny
standard-library writer below, so no MIDI package is needed.

Usage
-----
Regenerate the bundled loop and its stems (``data/drum_loop*.wav``)::

    python data/make_drum_loop.py

Render isolated one-shots of several FluidR3 drum kits into the layout
``DIR/kick/*.wav``, ``DIR/snare/*.wav``, ``DIR/hihat/*.wav``::

    python data/make_drum_loop.py --one-shots DIR [--force]

Determinism: reverb and chorus are off (``-R 0 -C 0``), the pattern's
velocity variation comes from a fixed seed, and fluidsynth's sample
playback has no random parts, so two runs give bit-identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SR = 22050
TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9  # GM percussion channel (MIDI channel 10): bank 128 in fluidsynth

# GM percussion notes per drum class.
KICK_NOTES = (35, 36)
SNARE_NOTES = (38, 40)
HIHAT_NOTES = (42, 44, 46)
CLASS_NOTES = {"kick": KICK_NOTES, "snare": SNARE_NOTES, "hihat": HIHAT_NOTES}

# Drum kits (bank 128 presets) of FluidR3_GM.sf2 (checked with fluidsynth's
# ``inst 1``); presets 1-7, 9-15, 17-19, 33-36, 41-42 are variations of these.
FLUIDR3_KITS = {
    0: "standard",
    8: "room",
    16: "power",
    24: "electronic",
    25: "tr808",
    32: "jazz",
    40: "brush",
    48: "orchestra",
}

# The bundled loop: 4 bars of 4/4 at 110 BPM on a 16th-note grid.
LOOP_BPM = 110
LOOP_BARS = 4
LOOP_KIT = 0  # Standard
LOOP_SEED = 0
PEAK = 10 ** (-1.0 / 20)  # mixture peak after scaling: -1 dBFS
# Mixing balance: the Standard kit's closed hat is ~9 dB below kick and snare
# (RMS); lift it so all three stems are audible in the mixture.
STEM_GAIN_DB = {"kick": 0.0, "snare": 0.0, "hihat": 6.0}

# One bar per string, 16 steps; characters: "." rest, "g" ghost, "x" hit,
# "X" accent, "o" open hi-hat (hihat row only).
LOOP_PATTERN = {
    # bar 1: straight rock          bar 2: rock, open hat on 4&
    # bar 3: funk 16ths, ghosts     bar 4: funk, open hats, syncopated kick
    "kick": ["X.......x.x.....", "X.x.....X.......",
             "X......x..x.....", "X..x....X.x...x."],
    "snare": ["....X.......X...", "....X.......X..x",
              "....X..g.g..X..g", ".g..X..g....X.g."],
    "hihat": ["X.x.X.x.X.x.X.x.", "X.x.X.x.X.x.X.o.",
              "XxxxXxxxXxxxXxxx", "X.x.X.o.X.x.XxXo"],
}
VELOCITY = {"g": 38, "x": 82, "X": 112, "o": 96}
VELOCITY_JITTER = 8  # +- uniform, seeded
NOTE = {"kick": {"X": 36, "x": 36},
        "snare": {"X": 38, "x": 38, "g": 38},
        "hihat": {"X": 42, "x": 42, "o": 46}}


# --------------------------------------------------------------------------
# MIDI writing and fluidsynth rendering (shared by the loop and one-shots)
# --------------------------------------------------------------------------
def _vlq(value):
    """Encode a non-negative int as a MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def write_midi(path, notes, *, bpm, end_tick, programs=(), sound_off=(), channel=DRUM_CHANNEL):
    """Write a format-0 MIDI file of drum notes on the GM percussion channel (or ``channel``).

    Parameters
    ----------
    path : str or Path
        Output ``.mid`` file.
    notes : iterable of (tick_on, tick_off, note, velocity)
        Note events in ticks (``TICKS_PER_BEAT`` per quarter note).
    bpm : float
        Tempo.
    end_tick : int
        Tick of the end-of-track event (sets the rendered length).
    programs : iterable of (tick, program)
        Program changes on the drum channel (bank 128 preset numbers).
    sound_off : iterable of int
        Ticks at which every sounding voice is cut (controller 120, "all
        sound off"), so that a hit cannot ring into the next one.
    channel : int
        MIDI channel (0-15).  Default the percussion channel, where fluidsynth looks
        presets up in bank 128; a drum kit stored as a bank-0 preset (the AVL Drumkits
        SoundFonts) must play on a melodic channel, e.g. 0.
    """
    # (tick, order, bytes); order: sound off < program < note-off < note-on
    events = [(tick, 0, bytes([0xB0 | channel, 120, 0])) for tick in sound_off]
    for tick, program in programs:
        events.append((tick, 1, bytes([0xC0 | channel, program])))
    for on, off, note, vel in notes:
        events.append((on, 3, bytes([0x90 | channel, note, vel])))
        events.append((off, 2, bytes([0x80 | channel, note, 64])))
    events.sort(key=lambda e: (e[0], e[1]))
    tempo = round(60_000_000 / bpm)
    track = bytearray(b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big"))
    now = 0
    for tick, _, data in events:
        track += _vlq(tick - now) + data
        now = tick
    track += _vlq(max(end_tick - now, 0)) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_BEAT)
    Path(path).write_bytes(header + b"MTrk" + struct.pack(">I", len(track)) + track)


#: The Debian packages that provide the renderer and the SoundFont.
PACKAGES = "fluidsynth fluid-soundfont-gm"


def check_renderer() -> str:
    """Return the fluidsynth executable; FileNotFoundError (one line, naming the Debian
    packages to install) if it or the FluidR3 GM SoundFont is missing."""
    exe = shutil.which("fluidsynth")
    missing = [what for what, there in (("the fluidsynth program", exe is not None),
                                        (f"the SoundFont {SOUNDFONT}", SOUNDFONT.exists())) if not there]
    if missing:
        raise FileNotFoundError(f"{' and '.join(missing)} not found; install the Debian packages {PACKAGES} "
                                f"(sudo apt-get install {PACKAGES})")
    return exe


def fluidsynth_render(notes, *, bpm, end_tick, programs, sound_off=(), sr=SR, gain=0.5, stereo=False,
                      soundfont=None, channel=DRUM_CHANNEL):
    """Render drum notes with fluidsynth; return a float64 mono signal, or with
    ``stereo`` fluidsynth's stereo output, shape (2, n_samples) (each drum at its
    SoundFont pan).  ``soundfont``: another ``.sf2`` file than FluidR3 GM (default
    ``SOUNDFONT``); ``channel``: see :func:`write_midi`.

    Mono: the stereo output averaged (a linear operation, so stems rendered
    separately still add up to the render of all notes).
    """
    exe = check_renderer()
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        write_midi(mid, notes, bpm=bpm, end_tick=end_tick, programs=programs,
                   sound_off=sound_off, channel=channel)
        cmd = [exe, "-n", "-i", "-q", "-R", "0", "-C", "0", "-g", str(gain),
               "-r", str(sr), "-T", "wav", "-O", "float", "-o", "synth.cpu-cores=1",
               "-F", str(wav), str(soundfont or SOUNDFONT), str(mid)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        y, file_sr = sf.read(wav, dtype="float64", always_2d=True)
    if file_sr != sr:
        raise RuntimeError(f"fluidsynth wrote {file_sr} Hz instead of {sr} Hz")
    return np.ascontiguousarray(y.T) if stereo else y.mean(axis=1)


def _write_wav(path, y_int16, sr):
    """Write int16 samples as a 16-bit WAV atomically (nmfaudio.save).  Dividing by 32768
    is exact and libsndfile maps it back to the same integers, so the bytes are those of
    writing the int16 array directly."""
    from nmfaudio.audio import save

    save(path, np.asarray(y_int16, dtype=np.int16) / 32768.0, sr, subtype="PCM_16", overwrite=True)


def _to_int16(y, scale):
    q = np.round(y * scale * 32767.0)
    if np.abs(q).max() > 32767:
        raise RuntimeError("16-bit overflow; lower the peak")
    return q.astype(np.int16)


# --------------------------------------------------------------------------
# The bundled loop
# --------------------------------------------------------------------------
def loop_notes(*, seed=LOOP_SEED):
    """Note events of the bundled loop, per stem.

    Returns
    -------
    dict
        ``{"kick"|"snare"|"hihat": [(tick_on, tick_off, note, velocity), ...]}``.
    """
    rng = np.random.default_rng(seed)
    step = TICKS_PER_BEAT // 4
    stems = {}
    for stem in ("kick", "snare", "hihat"):
        events = []
        for bar, row in enumerate(LOOP_PATTERN[stem]):
            for i, ch in enumerate(row):
                if ch == ".":
                    continue
                vel = VELOCITY[ch] + int(rng.integers(-VELOCITY_JITTER, VELOCITY_JITTER + 1))
                on = (bar * 16 + i) * step
                events.append((on, on + step, NOTE[stem][ch], int(np.clip(vel, 1, 127))))
        stems[stem] = events
    return stems


def render_loop(out_dir, *, sr=SR, bpm=LOOP_BPM, kit=LOOP_KIT, seed=LOOP_SEED):
    """Render the bundled loop's stems and mixture into ``out_dir``.

    The stems are rendered separately (4 bars plus a 2 s tail), the tail is
    folded back onto the start (so the loop repeats seamlessly), each stem
    gets its ``STEM_GAIN_DB`` balance, then all stems one common scale so the mixture peaks at -1 dBFS, each stem is
    rounded to 16 bits, and the mixture is written as the exact integer sum
    of the rounded stems: ``kick + snare + hihat == mix`` sample for sample.

    Returns
    -------
    dict
        Facts about the render (length, hit counts, peaks in dBFS).
    """
    out_dir = Path(out_dir)
    n = round(LOOP_BARS * 4 * 60 / bpm * sr)
    tail = 2 * sr
    end_tick = LOOP_BARS * 4 * TICKS_PER_BEAT + round(2.0 * bpm / 60 * TICKS_PER_BEAT)
    notes = loop_notes(seed=seed)
    stems = {}
    for name, events in notes.items():
        y = fluidsynth_render(events, bpm=bpm, end_tick=end_tick, programs=[(0, kit)], sr=sr)
        y = np.pad(y, (0, max(0, n + tail - len(y))))[: n + tail]
        y[: tail] += y[n: n + tail]  # fold the ringing tail onto the loop start
        stems[name] = y[:n] * 10 ** (STEM_GAIN_DB[name] / 20)
    scale = PEAK / np.abs(sum(stems.values())).max()
    ints = {name: _to_int16(y, scale) for name, y in stems.items()}
    mix = sum(v.astype(np.int32) for v in ints.values())
    if np.abs(mix).max() > 32767:
        raise RuntimeError("mixture overflows 16 bits")
    for name, y in ints.items():
        _write_wav(out_dir / f"drum_loop_{name}.wav", y, sr)
    _write_wav(out_dir / "drum_loop.wav", mix.astype(np.int16), sr)

    def dbfs(v):
        return round(float(20 * np.log10(np.abs(v).max() / 32768)), 2)

    info = {"n_samples": n, "seconds": n / sr, "bpm": bpm, "sr": sr,
            "peak_dbfs": {"mix": dbfs(mix), **{k: dbfs(v) for k, v in ints.items()}},
            "hits": {k: len(v) for k, v in notes.items()}}
    return info


# --------------------------------------------------------------------------
# One-shots
# --------------------------------------------------------------------------
def _trim(y, *, sr, max_seconds, floor_db=-60.0, fade_seconds=0.01):
    """Cut leading/trailing silence (below ``floor_db`` re peak), cap the length."""
    a = np.abs(y)
    loud = np.flatnonzero(a >= a.max() * 10 ** (floor_db / 20))
    y = y[loud[0]: loud[-1] + 1][: int(max_seconds * sr)].copy()
    fade = min(int(fade_seconds * sr), len(y))
    y[len(y) - fade:] *= np.linspace(1.0, 0.0, fade)
    return y


def render_one_shots(out_dir, kits=None, sr=SR, *, velocities=(50, 90, 120),
                     max_seconds=1.0, overwrite=False, class_notes=None):
    """Render isolated kick/snare/hi-hat one-shots of several FluidR3 kits.

    Writes ``out_dir/kick/*.wav``, ``out_dir/snare/*.wav`` and
    ``out_dir/hihat/*.wav`` (16-bit mono, ``sr`` Hz), one file per
    (kit, GM note, velocity), named ``fluidr3-<kit>_n<note>_v<vel>.wav``.
    Notes: kick 35/36, snare 38/40, hi-hat 42 (closed) / 44 (pedal) /
    46 (open).  Each one-shot starts at its onset, is cut at the last sample
    above -60 dB re its peak, at most ``max_seconds`` long, with a 10 ms
    fade-out.  One common gain is used for all files (so velocity and kit
    level differences are kept), peaking at -1 dBFS.  Renders that are
    bit-identical to an earlier one (a kit reusing a sample) are skipped.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created).
    kits : dict {int: str} or iterable of int, optional
        Bank-128 presets to render; default all of ``FLUIDR3_KITS``.
    sr : int
        Sample rate.
    velocities : tuple of int
        MIDI velocities (1-127).
    max_seconds : float
        Longest one-shot.
    overwrite : bool
        Allow writing into a non-empty ``out_dir``.
    class_notes : dict {folder name: tuple of int}, optional
        GM notes per output folder; default ``CLASS_NOTES`` (kick, snare, hi-hat).

    Returns
    -------
    dict
        ``{folder name: [Path, ...]}`` of the written files.
    """
    class_notes = CLASS_NOTES if class_notes is None else class_notes
    if kits is None:
        kits = FLUIDR3_KITS
    elif not isinstance(kits, dict):
        kits = {int(k): FLUIDR3_KITS.get(int(k), f"preset{int(k)}") for k in kits}
    for v in velocities:
        if not 1 <= int(v) <= 127:
            raise ValueError(f"velocities contains {v}; MIDI velocities must be 1..127")
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise FileExistsError(f"out_dir={str(out_dir)!r} is not empty; pass overwrite=True "
                              "(--force) or choose an empty folder")
    # One MIDI file with every hit, 2 s apart (at 120 BPM); program changes
    # select the kit; all voices are cut 0.05 s before each hit, so nothing
    # rings into the next one-shot's window (1.9 s).
    spacing = 4 * TICKS_PER_BEAT
    notes, programs, sound_off, jobs = [], [], [], []
    tick = 0
    for preset, kit_name in kits.items():
        programs.append((tick + spacing // 2, preset))
        for cls, cls_notes in class_notes.items():
            for note in cls_notes:
                for vel in velocities:
                    tick += spacing
                    sound_off.append(tick - TICKS_PER_BEAT // 10)
                    # held 1.5 s: fluidsynth releases a drum voice at its note-off, and a
                    # cymbal's long template needs its ring
                    notes.append((tick, tick + 3 * TICKS_PER_BEAT, note, int(vel)))
                    jobs.append((tick, cls, f"fluidr3-{kit_name}_n{note}_v{int(vel):03d}.wav"))
    y = fluidsynth_render(notes, bpm=120, end_tick=tick + spacing, programs=programs,
                          sound_off=sound_off, sr=sr)
    sec_per_tick = 60 / 120 / TICKS_PER_BEAT
    shots, seen = [], set()
    for on, cls, fname in jobs:
        start = round(on * sec_per_tick * sr)
        seg = y[start: start + round(1.9 * sr)]
        if np.abs(seg).max() <= 0:
            continue  # note not mapped in this kit
        shot = _trim(seg, sr=sr, max_seconds=max_seconds)
        digest = hashlib.sha1(np.round(shot, 6).tobytes()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        shots.append((cls, fname, shot))
    scale = PEAK / max(np.abs(s).max() for _, _, s in shots)
    written = {cls: [] for cls in class_notes}
    for cls in class_notes:
        (out_dir / cls).mkdir(parents=True, exist_ok=True)
    for cls, fname, shot in shots:
        path = out_dir / cls / fname
        _write_wav(path, _to_int16(shot, scale), sr)
        written[cls].append(path)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default=str(Path(__file__).resolve().parent),
                        help="where to write drum_loop*.wav (default: this folder)")
    parser.add_argument("--one-shots", metavar="DIR",
                        help="render one-shots of all FluidR3 kits into DIR/{kick,snare,hihat}")
    parser.add_argument("--force", action="store_true",
                        help="allow writing one-shots into a non-empty DIR")
    parser.add_argument("--sr", type=int, default=SR, help=f"sampling rate in Hz (default {SR})")
    args = parser.parse_args(argv)
    try:
        check_renderer()  # before any work or any folder is made
    except FileNotFoundError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    if args.one_shots:
        written = render_one_shots(args.one_shots, sr=args.sr, overwrite=args.force)
        for cls, paths in written.items():
            print(f"{cls}: {len(paths)} one-shots in {Path(args.one_shots) / cls}")
    else:
        info = render_loop(args.out_dir, sr=args.sr)
        print(info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
