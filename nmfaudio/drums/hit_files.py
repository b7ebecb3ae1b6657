"""The hits' files: the Standard MIDI File (General MIDI drum notes on channel 10) and the
CSV ``time_s,class,velocity,strength`` a DAW or a spreadsheet opens — written from the
hits' rows (:meth:`nmfaudio.drums.hit_results.DrumHits.rows`), and read back
(:func:`read_midi`, :func:`read_csv`).  Written to a temporary name and renamed: no
partial file.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import re
from pathlib import Path

import numpy as np

from nmfaudio import audio
from nmfaudio._validation import cell_number, check_int, check_number
from nmfaudio.drums.general_midi import PERCUSSION_CHANNEL

__all__ = ["write_midi", "write_csv", "read_midi", "read_csv", "MIDI_PPQ", "MIDI_BPM", "CSV_HEADER",
           "HIT_FILE_SUFFIXES"]

MIDI_PPQ = 960  # ticks per quarter note: at 120 BPM one tick is 0.52 ms
#: The most ticks per quarter note a Standard MIDI File holds (its 16-bit division field,
#: whose top bit marks SMPTE time instead).
MIDI_PPQ_MAX = 32767
MIDI_BPM = 120.0
NOTE_SECONDS = 0.05  # length of every written note (drum sounds ignore note-off in GM)
CSV_HEADER = ("time_s", "class", "velocity", "strength")


def _mido():
    try:
        import mido
    except ModuleNotFoundError as exc:  # pragma: no cover - mido is a dependency
        raise ModuleNotFoundError("writing MIDI needs mido: pip install mido") from exc
    return mido


def write_midi(rows, path, *, overwrite: bool = False, ppq: int = MIDI_PPQ, bpm: float = MIDI_BPM,
               duration: float | None = None) -> Path:
    """Write ``rows`` (``(time_s, class, velocity, strength, note)`` in time order, as
    :meth:`~nmfaudio.drums.hit_results.DrumHits.rows` gives them) as a Standard MIDI File
    of one tempo, ``bpm``: what :meth:`~nmfaudio.drums.hit_results.DrumHits.write_midi`
    writes (its docstring says how)."""
    mido = _mido()
    ppq = check_int(ppq, "ppq")
    if ppq > MIDI_PPQ_MAX:
        raise ValueError(f"ppq={ppq} is more than a MIDI file holds: at most {MIDI_PPQ_MAX} ticks per quarter "
                         f"note (default {MIDI_PPQ})")
    if isinstance(bpm, (bool, np.bool_)) or not isinstance(bpm, numbers.Real) or not 1 <= bpm <= 1000:
        raise ValueError(f"bpm={bpm!r} must be a number in [1, 1000]")
    if duration is not None:
        duration = check_number(duration, "duration", minimum=0,
                                expected="the recording's length in seconds (a finite number >= 0)")
    tempo = mido.bpm2tempo(bpm)  # microseconds per quarter note (an int)
    ticks_per_second = ppq * 1e6 / tempo
    length = max(1, int(round(NOTE_SECONDS * ticks_per_second)))
    notes = [(int(round(time_s * ticks_per_second)), note, velocity) for time_s, _, velocity, _, note in rows]
    # Hits of one note on one tick (two classes of one note, kick and kick2, hitting together;
    # another tool's table listing a hit twice, or twice within half a tick) are one note,
    # the loudest: two note-ons of one pitch at one tick overlap, and readers pair the first
    # note-off with both (pretty_midi read three notes where two were written; review63).
    loudest = {}
    for start, note, velocity in notes:
        loudest[start, note] = max(velocity, loudest.get((start, note), 0))
    notes = [(start, note, velocity) for (start, note), velocity in loudest.items()]
    # A note ends where the next hit of the same note starts, if that is sooner: two
    # overlapping notes of one pitch would have the first note-off cut the second
    # short (readers pair it with both), and a synthesizer would mute the second hit.
    starts = {}  # note -> its distinct start ticks, sorted (plus "never" at the end)
    for start, note, _ in notes:
        starts.setdefault(note, set()).add(start)
    starts = {note: np.array(sorted(ticks) + [np.iinfo(np.int64).max]) for note, ticks in starts.items()}
    stops = [min(start + length, int(starts[note][np.searchsorted(starts[note], start, side="right")]))
             for start, note, _ in notes]
    events = []  # (tick, order, message): note-offs before note-ons at the same tick
    for (start, note, velocity), stop in zip(notes, stops):
        events.append((start, 1, mido.Message("note_on", channel=PERCUSSION_CHANNEL, note=note,
                                              velocity=velocity)))
        events.append((stop, 0, mido.Message("note_off", channel=PERCUSSION_CHANNEL, note=note, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name="drums", time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=tempo, time=0))
    now = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    # The end of the recording, in ticks of the one tempo event, unless a note-off is later.
    end = now if duration is None else max(now, int(round(duration * ticks_per_second)))
    track.append(mido.MetaMessage("end_of_track", time=end - now))
    midi = mido.MidiFile(type=0, ticks_per_beat=ppq)
    midi.tracks.append(track)
    path = _hit_file_path(path, "midi")
    with audio.atomic_outputs([path], overwrite=overwrite) as (temporary,):
        midi.save(filename=str(temporary))
    return path


def write_csv(rows, path, *, overwrite: bool = False) -> Path:
    """Write ``rows`` (as :func:`write_midi` takes them) as ``time_s,class,velocity,strength``:
    what :meth:`~nmfaudio.drums.hit_results.DrumHits.write_csv` writes."""
    path = _hit_file_path(path, "csv")
    with audio.atomic_outputs([path], overwrite=overwrite) as (temporary,):
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_HEADER)
            for time_s, name, velocity, strength, _ in rows:
                writer.writerow([f"{time_s:.6f}", name, velocity, f"{strength:.6g}"])
    return path


#: The suffixes of each hit file; another file's (:data:`nmfaudio.audio.FILE_SUFFIXES`) is refused.
HIT_FILE_SUFFIXES = {"midi": (".mid", ".midi"), "csv": (".csv",)}


def _hit_file_path(path, kind: str) -> Path:
    """``path`` as a Path, unless it ends in the suffix of another kind of file: the MIDI
    file written to ``hits.csv``, the CSV to ``hits.mid`` (write_midi and write_onsets
    swapped) or either to ``x.wav`` was written without a word (tour16).  Other names
    (``hits.txt``, none) are the caller's."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in audio.FILE_SUFFIXES and suffix not in HIT_FILE_SUFFIXES[kind] and not path.is_dir():
        # (a folder there is named as such by atomic_outputs)
        what, fix = (("write_midi writes a Standard MIDI File", "the CSV: write_onsets, or the hits' write_csv")
                     if kind == "midi" else ("this writes the hits as CSV", "the MIDI file: write_midi"))
        raise ValueError(f"path={str(path)!r} ends in {suffix}, but {what}; give a path ending in "
                         f"{HIT_FILE_SUFFIXES[kind][0]} ({fix})")
    return path


def _existing_file(path, kind: str, suffix: str) -> Path:
    """``path`` as a Path, a file that exists: else FileNotFoundError, or IsADirectoryError
    for a folder (review66: a folder was said not to exist, as a missing file is)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a folder, not a {kind} file; give the {suffix} file in it")
    if not path.is_file():
        raise FileNotFoundError(f"{kind} file {str(path)!r} does not exist")
    return path


def read_midi(path) -> dict:
    """The percussion notes of a MIDI file: ``{note: (times_s, velocities)}``.

    Times honour the file's tempo map (``mido`` converts ticks to seconds); only
    note-ons with velocity > 0 on channel 10 count.

    Returns
    -------
    dict {int: (ndarray of float, ndarray of int)}, notes in increasing order

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    IsADirectoryError
        ``path`` is a folder.
    ValueError
        ``path`` is not a MIDI file mido reads (named, with mido's reason).
    """
    mido = _mido()
    path = _existing_file(path, "MIDI", ".mid")
    found: dict = {}
    now = 0.0
    try:
        midi = mido.MidiFile(str(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:  # mido's words name no file
        raise ValueError(f"cannot read {str(path)!r} as a MIDI file ({exc}); give a Standard MIDI File "
                         f"(.mid), e.g. one written by 'nmfaudio drums --midi' or DrumHits.write_midi") from None
    for message in midi:  # iterating a MidiFile yields times in seconds
        now += message.time
        if message.type == "note_on" and message.velocity > 0 and message.channel == PERCUSSION_CHANNEL:
            found.setdefault(message.note, []).append((now, message.velocity))
    return {note: (np.array([t for t, _ in hits]), np.array([v for _, v in hits], dtype=int))
            for note, hits in sorted(found.items())}


class _NotAHit(ValueError):
    """A row of numbers that are no hit's (read_csv names the line)."""


def _hit(row) -> tuple:
    """``(time_s, velocity, strength)`` of a row of :func:`read_csv`'s table: a time of 0 s
    or later, a whole velocity of 1-127 as :class:`ClassHits` takes (``100.0``, as a spreadsheet may write it, is 100)
    and a strength of 0 or more, all finite; ValueError / IndexError for a row that is no
    numbers there, :class:`_NotAHit` for numbers no hit has (review65: ``nan`` and
    ``-1`` were read as times, 300 as a velocity)."""
    time_s, velocity, strength = cell_number(row[0]), cell_number(row[2]), cell_number(row[3])
    if not (math.isfinite(time_s) and time_s >= 0):
        raise _NotAHit(f"time_s {row[0]!r} is not a time in the recording (a finite number of seconds, 0 or more)")
    if not (math.isfinite(velocity) and velocity.is_integer() and 1 <= velocity <= 127):
        raise _NotAHit(f"velocity {row[2]!r} is not a MIDI velocity (a whole number from 1 to 127)")
    if not row[1].strip():
        raise _NotAHit("its class is empty")
    if not (math.isfinite(strength) and strength >= 0):
        raise _NotAHit(f"strength {row[3]!r} is not a hit's strength (a finite number, 0 or more)")
    return time_s, int(velocity), strength


def read_csv(path) -> dict:
    """Read a file written by :meth:`~nmfaudio.drums.hit_results.DrumHits.write_csv`:
    ``{class: (times_s, velocities, strengths)}`` in the order classes first appear.

    The same file saved again by a spreadsheet is read too (a byte-order mark, CRLF line
    ends, a blank last line), also where its locale writes decimal commas and separates
    cells with ";" (``0,500;kick;100;1,25``), or saved as tab-separated text (the header
    tells the separator, its cells quoted or not), with Excel's ``sep=;`` line first (it names
    the separator), or typed with a space after each separator (``0.5, kick, 100, 1.25``).  A
    file that is not such a table (not UTF-8 text, another header, a row that is not a hit: a
    time that is NaN or negative, a velocity outside 1-127) is a ValueError naming it and the
    line."""
    path = _existing_file(path, "CSV", ".csv")
    # utf-8-sig: a spreadsheet's "CSV UTF-8" (Excel's) starts with a byte-order mark
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        raise ValueError(f"{str(path)!r} is not a CSV of hits (not UTF-8 text); give a file written by "
                         f"'nmfaudio drums --onsets' or DrumHits.write_csv") from None
    lines = text.splitlines(keepends=True) or [""]  # "\r" alone ends a line too (an old Mac's text)
    # Excel's "sep=;" (or "sep=,") first line names the separator for Excel itself; the
    # header follows it (review66: it was "starts with 'sep=;'")
    said = re.fullmatch(r"sep=(.)", lines[0].rstrip("\r\n"))
    if said:
        text = "".join(lines[1:])
        lines = lines[1:] or [""]
    first = lines[0].rstrip("\r\n")
    # a European spreadsheet's CSV (";" between cells) or its "Text (Tab delimited)", as the
    # header shows (review64: it was "starts with 'time_s;class;velocity;strength', not
    # 'time_s,class,velocity,strength'")
    # parsed as CSV, so a header whose cells are quoted ('"time_s";"class";...': LibreOffice's
    # "quote all text cells") tells it too (review65)
    # the header tells the separator; "sep=" names one to try first (a file saved again
    # with other separators under an old "sep=" line is still read by its header)
    marks = ((said.group(1),) if said else ()) + (";", "\t", ",")
    delimiter = next((mark for mark in marks
                      if tuple(cell.strip() for cell in next(csv.reader([first], delimiter=mark), [])) == CSV_HEADER),
                     said.group(1) if said else ",")
    # skipinitialspace: "0.5, kick, 100" (a space after each comma, as people type tables
    # and some tools write them) is read as "0.5,kick,100" (review66: it was refused)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    header = tuple(cell.strip() for cell in next(reader, ()))
    if header != CSV_HEADER:
        raise ValueError(f"{str(path)!r} starts with {delimiter.join(header)!r}, not {','.join(CSV_HEADER)!r} "
                         f"(or with ';' or tabs between the cells); give a file written by 'nmfaudio drums --onsets' "
                         "or DrumHits.write_csv")
    found: dict = {}
    for row in reader:
        if not any(cell.strip() for cell in row):  # a blank line (a spreadsheet's last)
            continue
        try:
            hit = _hit(row)
        except _NotAHit as exc:  # a number, but not one a hit has: NaN, a negative time, velocity 300
            raise ValueError(f"{str(path)!r} line {reader.line_num}: {exc}; give a file written by "
                             "'nmfaudio drums --onsets' or DrumHits.write_csv") from None
        except (ValueError, IndexError):
            # "0,5,kick,100,1,25": decimal commas in a table of commas, the cells lost
            hint = ("; decimal commas need ';' between the cells (a spreadsheet's CSV in its locale), or "
                    "decimal points" if delimiter == "," and len(row) > len(CSV_HEADER) else "")
            raise ValueError(f"{str(path)!r} line {reader.line_num} is not a hit "
                             f"({delimiter.join(CSV_HEADER)}): {delimiter.join(row)!r}{hint}") from None
        found.setdefault(row[1].strip(), []).append(hit)
    return {name: (np.array([r[0] for r in rows]), np.array([r[1] for r in rows], dtype=int),
                   np.array([r[2] for r in rows])) for name, rows in found.items()}
