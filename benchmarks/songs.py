"""Full-song mixtures with exact stems: a drum performance plus an accompaniment.

For drums-from-a-full-song evaluation (issue 14): the drums are a realistic performance
from :mod:`performances` (any non-reserved Hydrogen kit or a FluidR3 GM kit), the
accompaniment is a seeded arrangement in the same tempo — bass, and two to four of
piano, organ, clean / overdriven guitar, strings, a pad and a lead — written as MIDI
with ``mido`` and played by the FluidR3 GM SoundFont through ``fluidsynth``, one render
per instrument, so every stem is exact and the mixture is their sum.

The drum-to-music ratio (``dmr_db``: drums RMS over accompaniment RMS) is set per song;
everything is stereo (the instruments panned by their MIDI pan, the drums in the
centre).

How this differs from real songs: the instruments are General-MIDI samples played with
quantized timing and no effects (no reverb bus, no compression, no mastering limiter);
the arrangement follows one chord loop; the drums and music do not share a room.  Real
mixes glue drums and music with bus compression and reverb, which smears the drums'
attacks into the music's spectrum; expect real songs to be harder.

Nothing rendered is committed (renders are cached in the temporary folder).

Run ``python benchmarks/songs.py --out DIR`` to write a few songs as WAV files to listen
to (do not commit them).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import performances  # noqa: E402

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

#: GM programs (0-based) per instrument role, and the MIDI pan (0 left … 127 right).
INSTRUMENTS = {
    "bass": ((33, 34, 38), 64),  # fingered, picked, synth bass
    "piano": ((0, 1, 4), 50),  # acoustic, bright, electric piano
    "organ": ((16, 17), 80),  # drawbar, percussive organ
    "guitar": ((25, 27, 29), 90),  # steel, clean electric, overdriven
    "strings": ((48, 49), 40),  # string ensembles
    "pad": ((88, 89, 91), 64),  # new age, warm, choir pad
    "lead": ((80, 81), 70),  # square, saw lead
}
#: ``style="electronic"``: synth bass, pads, leads, synth brass (held chords, as the organ),
#: synth strings and electric pianos only (GM programs, 0-based), the material of
#: electronic songs; played with the same patterns as the roles above.
ELECTRONIC_INSTRUMENTS = {
    "bass": ((38, 39), 64),  # synth bass 1, 2
    "piano": ((4, 5), 50),  # electric pianos
    "organ": ((62, 63), 80),  # synth brass 1, 2
    "strings": ((50, 51), 40),  # synth strings 1, 2
    "pad": (tuple(range(88, 96)), 64),  # the eight pads
    "lead": (tuple(range(80, 88)), 70),  # the eight leads
}
STYLES = {"default": INSTRUMENTS, "electronic": ELECTRONIC_INSTRUMENTS}
#: Chord loops (scale degrees of the major scale, 0 = tonic) drawn per song.
PROGRESSIONS = ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 4, 3), (0, 0, 3, 4))
MAJOR = (0, 2, 4, 5, 7, 9, 11)
TICKS_PER_BEAT = 480
_CACHE_DIR = Path(tempfile.gettempdir()) / "nmfaudio-songs"


# --------------------------------------------------------------------------------------
# Composition
# --------------------------------------------------------------------------------------
def _chord(key, degree):
    """MIDI notes (root position triad, around middle C) of a scale degree."""
    notes = [MAJOR[(degree + i) % 7] + 12 * ((degree + i) // 7) for i in (0, 2, 4)]
    return [60 + key + n for n in notes]


def compose_accompaniment(seed, *, bpm, seconds, style="default"):
    """A seeded arrangement: ``{role: (program, pan, [(start_beat, beats, note, velocity)])}``.

    The bass always plays; two to four other roles join.  Bars are 4 beats, one chord per
    bar from a drawn loop.  ``style``: a key of ``STYLES`` (which GM programs play the
    roles; "default" draws exactly as before the option existed).
    """
    instruments = STYLES[style]
    rng = np.random.default_rng(seed)
    key = int(rng.integers(-5, 7))
    progression = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    n_bars = int(np.ceil(seconds * bpm / 60 / 4)) + 1
    others = [r for r in instruments if r != "bass"]
    roles = ["bass"] + list(rng.choice(others, size=int(rng.integers(2, 5)), replace=False))
    song = {}
    for role in roles:
        programs, pan = instruments[role]
        program = int(rng.choice(programs))
        notes = []
        for bar in range(n_bars):
            chord = _chord(key, progression[bar % len(progression)])
            t0 = 4.0 * bar
            if role == "bass":
                root = chord[0] - 24 if chord[0] - 24 >= 28 else chord[0] - 12
                pattern = rng.choice(["eighths", "quarters", "syncopated"]) if bar % 4 == 0 else pattern
                if pattern == "eighths":
                    hits = [(i * 0.5, 0.45) for i in range(8)]
                elif pattern == "quarters":
                    hits = [(i * 1.0, 0.9) for i in range(4)]
                else:
                    hits = [(0, 0.7), (0.75, 0.25), (1.5, 0.5), (2.5, 0.4), (3.0, 0.9)]
                for start, length in hits:
                    note = root + (7 if rng.random() < 0.15 else 0)
                    notes.append((t0 + start, length, note, int(rng.integers(85, 115))))
            elif role in ("piano", "guitar"):
                strum = [(i * 1.0, 0.9) for i in range(4)] if role == "piano" else \
                    [(0, 0.45), (0.5, 0.45), (1.5, 0.45), (2.0, 0.45), (2.5, 0.45), (3.5, 0.45)]
                for start, length in strum:
                    for j, note in enumerate(chord):
                        notes.append((t0 + start + 0.01 * j, length, note - (12 if role == "guitar" else 0),
                                      int(rng.integers(60, 95))))
            elif role in ("organ", "strings", "pad"):
                for note in chord:
                    notes.append((t0, 3.95, note - (12 if role == "strings" else 0), int(rng.integers(60, 85))))
            elif role == "lead":
                scale = [60 + key + 12 + MAJOR[d % 7] + 12 * (d // 7) for d in range(9)]
                start = 0.0
                while start < 4.0:
                    length = float(rng.choice([0.5, 0.5, 1.0, 1.5]))
                    if rng.random() < 0.8:
                        notes.append((t0 + start, min(length, 4.0 - start) * 0.95,
                                      int(rng.choice(scale)), int(rng.integers(70, 100))))
                    start += length
        song[role] = (program, pan, notes)
    return song


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------
def _render_instrument(program, pan, notes, *, bpm, seconds, sr):
    """One instrument through fluidsynth: float64 (2, n_samples)."""
    import mido
    import soundfile as sf

    exe = shutil.which("fluidsynth")
    if exe is None or not SOUNDFONT.exists():
        raise FileNotFoundError("fluidsynth and FluidR3 GM are needed: apt-get install fluidsynth fluid-soundfont-gm")
    events = [(0, mido.Message("program_change", channel=0, program=program)),
              (0, mido.Message("control_change", channel=0, control=10, value=pan)),
              (0, mido.Message("control_change", channel=0, control=91, value=0)),  # no reverb send
              (0, mido.Message("control_change", channel=0, control=93, value=0))]  # no chorus send
    for start, length, note, velocity in notes:
        on = round(start * TICKS_PER_BEAT)
        events.append((on, mido.Message("note_on", channel=0, note=int(note), velocity=int(velocity))))
        events.append((on + max(1, round(length * TICKS_PER_BEAT)),
                       mido.Message("note_off", channel=0, note=int(note), velocity=64)))
    events.sort(key=lambda e: (e[0], e[1].type == "note_on"))
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0)])
    now = 0
    for tick, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    n_samples = round(seconds * sr)
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        mido.MidiFile(tracks=[track], ticks_per_beat=TICKS_PER_BEAT).save(mid)
        cmd = [exe, "-n", "-i", "-q", "-R", "0", "-C", "0", "-g", "0.5", "-r", str(sr), "-T", "wav",
               "-O", "float", "-o", "synth.cpu-cores=1", "-F", str(wav), str(SOUNDFONT), str(mid)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        y, _ = sf.read(wav, dtype="float64", always_2d=True)
    y = y.T[:, :n_samples]
    return np.pad(y, ((0, 0), (0, n_samples - y.shape[1])))


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def render_song(seed, kit, *, dmr_db=0.0, seconds=30.0, sr=44100, peak=0.9, style="default"):
    """A full song on one drum kit.

    Parameters
    ----------
    seed : int
        Draws the drum performance and the arrangement.
    kit : str
        A Hydrogen kit name or ``"fluidr3:<preset>"`` (see :mod:`performances`).
    dmr_db : float
        Drums RMS over accompaniment RMS, in dB (-6 … +6 in the benchmark).
    seconds, sr, peak : float, int, float
    style : str
        The arrangement's instruments: "default" (acoustic and electric instruments,
        synths among them) or "electronic" (``ELECTRONIC_INSTRUMENTS``).

    Returns
    -------
    dict
        ``mix`` (2, n_samples) float32; ``drums`` (all drum classes, ``"other"``
        percussion included, as a drum recording has it) and ``accompaniment``, each
        (2, n_samples); ``stems``: the per-class drum stems (2, n_samples) and one stem
        per instrument role under ``"music:<role>"``; ``notes`` (the drum notes), ``sr``,
        ``bpm``, ``name``.  ``mix`` is the float32 sum of ``drums`` and
        ``accompaniment``.
    """
    performance = performances.compose(np.random.default_rng([seed, 14]), seconds=seconds)
    drums = performances.render(performance, kit, sr=sr)
    bpm = performance["bpm"]
    song = compose_accompaniment(np.random.default_rng([seed, 15]), bpm=bpm, seconds=seconds, style=style)
    key = repr((sorted(song.items()), bpm, seconds, sr))
    path = _CACHE_DIR / (hashlib.sha1(key.encode()).hexdigest() + ".npz")
    if path.is_file():
        with np.load(path) as data:
            music = {role: data[role].astype(np.float64) for role in data.files}
    else:
        music = {role: _render_instrument(program, pan, notes, bpm=bpm, seconds=seconds, sr=sr)
                 for role, (program, pan, notes) in song.items()}
        _CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, **music)
        os.replace(partial, path)
    drum_stems = {c: np.stack([drums[c], drums[c]]).astype(np.float64) for c in performances.CLASSES}
    drum_sum = sum(drum_stems.values())
    music_sum = sum(music.values())
    gain = _rms(drum_sum) / max(_rms(music_sum), 1e-12) * 10 ** (-dmr_db / 20)
    stems = {**drum_stems, **{f"music:{role}": y * gain for role, y in music.items()}}
    total = drum_sum + music_sum * gain
    scale = peak / max(float(np.abs(total).max()), 1e-12)
    stems = {name: (y * scale).astype(np.float32) for name, y in stems.items()}
    drums_out = np.zeros_like(stems["kick"])
    for c in performances.CLASSES:
        drums_out += stems[c]
    accompaniment = np.zeros_like(drums_out)
    for role in music:
        accompaniment += stems[f"music:{role}"]
    name = f"{drums['name']}-{'+'.join(song)}-dmr{dmr_db:+.0f}-{seed}"
    return {"mix": drums_out + accompaniment, "drums": drums_out, "accompaniment": accompaniment,
            "stems": stems, "notes": drums["notes"], "sr": int(sr), "bpm": bpm, "name": name}


def main(argv=None):
    import soundfile as sf

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the WAVs (not to be committed)")
    parser.add_argument("--kit", default="GMRockKit", help="drum kit (default GMRockKit)")
    parser.add_argument("-n", type=int, default=2, help="songs to write")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each song")
    parser.add_argument("--dmr", type=float, default=0.0, help="drums-to-music ratio in dB")
    parser.add_argument("--style", choices=list(STYLES), default="default", help="the arrangement's instruments")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in range(args.n):
        song = render_song(seed, args.kit, dmr_db=args.dmr, seconds=args.seconds, style=args.style)
        for part in ("mix", "drums", "accompaniment"):
            sf.write(args.out / f"{song['name']}_{part}.wav", song[part].T, song["sr"], subtype="FLOAT")
        print(song["name"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
