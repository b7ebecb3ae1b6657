"""The hits per drum class that :func:`nmfaudio.drums.hits.detect_hits` returns and
:func:`nmfaudio.drums.tempo_grid.quantize` snaps: :class:`ClassHits` (one class's times,
strengths, velocities and General MIDI note, checked) and :class:`DrumHits` (every class's,
with the tempo, and their MIDI and CSV files through :mod:`nmfaudio.drums.hit_files`);
:func:`track_of`, the separated track that holds a class's hits.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nmfaudio._validation import summary_repr
from nmfaudio.drums import hit_files
from nmfaudio.drums.hit_files import MIDI_BPM, MIDI_PPQ

__all__ = ["ClassHits", "DrumHits", "track_of"]


def track_of(name, names):
    """The one of ``names`` (the tracks) that holds ``name``'s hits: ``name`` itself, else
    the longest one it starts with — the class it is a sub-template of (``"hihat_open"`` →
    ``"hihat"``, the ride's strokes ``"cymbals_ride"`` → ``"cymbals"``) — else None."""
    names = [str(key) for key in names]
    if name in names:
        return name
    return max((key for key in names if name.startswith(key)), key=len, default=None)


@dataclass(frozen=True)
class ClassHits:
    """The hits of one drum class.

    Attributes
    ----------
    name : str
    note : int
        General MIDI percussion note.
    times : ndarray of float, shape (n_hits,)
        Onset times in seconds, increasing.
    strengths : ndarray of float, shape (n_hits,)
        Activation mass of each hit (the mixture's magnitude explained by the drum).
    velocities : ndarray of int, shape (n_hits,)
        MIDI velocities 1-127 (see :func:`~nmfaudio.drums.general_midi.velocities_from_strengths`).
    """

    name: str
    note: int
    times: np.ndarray
    strengths: np.ndarray
    velocities: np.ndarray

    def __post_init__(self):
        """Arrays of one length, times and strengths finite and >= 0, velocities and note MIDI's: hits
        built by hand (from another tool's table, lists) failed later in ``quantize`` on
        "only integer scalar arrays can be converted to a scalar index", in ``write_midi`` on
        mido's "data byte must be in range 0..127" naming no hit, and a NaN time was written
        to the CSV as ``nan``."""
        label = f"ClassHits({self.name!r})"
        arrays = {}
        for field_name, dtype in (("times", np.float64), ("strengths", np.float64), ("velocities", None)):
            value = getattr(self, field_name)
            try:
                array = np.asarray(value) if dtype is None else np.asarray(value, dtype=dtype)
            except (TypeError, ValueError):
                raise TypeError(f"{label}.{field_name} must be an array of numbers, one per hit") from None
            if array.ndim != 1 or array.dtype.kind not in "biuf":
                raise ValueError(f"{label}.{field_name} has shape {array.shape} and dtype {array.dtype}; "
                                 "give a 1-D array of numbers, one per hit")
            arrays[field_name] = array
        times, strengths, velocities = arrays["times"], arrays["strengths"], arrays["velocities"]
        if not len(times) == len(strengths) == len(velocities):
            raise ValueError(f"{label} has {len(times)} times, {len(strengths)} strengths and {len(velocities)} "
                             "velocities; give one of each per hit")
        if not np.all(np.isfinite(times)) or np.any(times < 0):
            bad = times[~(np.isfinite(times) & (times >= 0))]
            raise ValueError(f"{label}.times holds {bad[:3].tolist()}; hit times are seconds from the recording's "
                             "start, finite and >= 0")
        if not np.all(np.isfinite(strengths)) or np.any(strengths < 0):
            # a NaN strength was written to the CSV as nan and weighed quantize's tempo fit
            bad = strengths[~(np.isfinite(strengths) & (strengths >= 0))]
            raise ValueError(f"{label}.strengths holds {bad[:3].tolist()}; hit strengths are finite and >= 0 "
                             "(the activation's mass at the hit; np.ones(n) when a table has none)")
        if velocities.size and (velocities.dtype.kind == "f" and not np.all(velocities == np.rint(velocities))
                                or velocities.min() < 1 or velocities.max() > 127):
            bad = velocities[(velocities < 1) | (velocities > 127) | (velocities != np.rint(velocities))]
            raise ValueError(f"{label}.velocities holds {bad[:3].tolist()}; MIDI velocities are whole numbers "
                             "1-127 (velocities_from_strengths makes them from strengths)")
        if isinstance(self.note, (bool, np.bool_)) or not isinstance(self.note, numbers.Integral) \
                or not 0 <= self.note <= 127:
            raise ValueError(f"{label}.note={self.note!r} must be a General MIDI note number 0-127 "
                             "(e.g. 36 for a kick)")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "strengths", strengths)
        object.__setattr__(self, "velocities", velocities.astype(int, copy=False))

    def __len__(self) -> int:
        return len(self.times)

    def __repr__(self) -> str:
        """One line, arrays by shape and dtype (:func:`nmfaudio._validation.summary_repr`)."""
        return summary_repr(self)


@dataclass(frozen=True)
class DrumHits:
    """Hits per drum class, and their MIDI and CSV files.

    Attributes
    ----------
    classes : dict {str: ClassHits}
        In the order of the activations given to :func:`~nmfaudio.drums.hits.detect_hits`.
    bpm : float, default 120
        Tempo written into the MIDI file (:func:`~nmfaudio.drums.tempo_grid.quantize` sets the
        detected one).
    tempo_fit : bool or None, default None
        Set by :func:`~nmfaudio.drums.tempo_grid.quantize`: whether a constant tempo fitted the hits
        (within ``GRID_FIT`` of a step, RMS); False when none did (a tempo change, a free
        performance) and the beat tracker's tempo was used as it was; None: not quantized.
    grid_start : float or None, default None
        Set by :func:`~nmfaudio.drums.tempo_grid.quantize`: the grid's point nearest 0 s, in seconds
        (``-step / 2 < grid_start <= step / 2``: negative when the grid starts before the file,
        as for hits detected a fraction of a millisecond early on a recording that starts on the
        beat); the hits lie at ``grid_start + n * step`` (but for one kept at the file's first
        or last sample, its grid point being outside).  The grid is the recording's, so in a
        MIDI file (which starts with the recording) the notes sit this far after the DAW's grid
        lines (before them, when negative), as the recording's beats do; None: not quantized.
    triplet_grid : int or None, default None
        Set by :func:`~nmfaudio.drums.tempo_grid.quantize` when no tempo fitted the hits on a
        binary grid (4, 8, 16, 32; ``tempo_fit`` False): the triplet grid, 12 or 24, whose
        tempo does fit them (a swung groove), else None.
    merged : dict {str: int} or None, default None
        Set by :func:`~nmfaudio.drums.tempo_grid.quantize`: per class, how many hits shared a
        grid point with a stronger hit of their class and were dropped (one hit per class per
        grid point); ``{}`` when none were, None: not quantized.
    finer_grid : int or None, default None
        Set by :func:`~nmfaudio.drums.tempo_grid.quantize` when hits were ``merged``: the
        coarsest finer grid of the same tempo (8, 16 or 32; 24 for a 12 grid) on which every
        hit keeps a point of its own, else None (hits closer than the finest grid's step:
        flams, double strokes).
    drumless : dict {str: int} or None, default None
        Set by ``DrumSeparation.hits()`` when a song's drumless stretches were judged: per
        class, how many hits they left out (``{}``: none); None: not judged (a drum
        recording, ``drumless=False``).  Kept by :func:`~nmfaudio.drums.tempo_grid.quantize`.
    """

    classes: dict
    bpm: float = MIDI_BPM
    tempo_fit: bool | None = None
    grid_start: float | None = None
    triplet_grid: int | None = None
    merged: dict | None = None
    finer_grid: int | None = None
    drumless: dict | None = None

    def __getitem__(self, name) -> ClassHits:
        """The hits of class ``name``; KeyError naming the classes there are (a bare
        ``KeyError: 'kik'`` said neither; a class not asked for has no hits)."""
        if isinstance(name, ClassHits):
            # ``for c in hits: hits[c]`` (iterated as a dict's keys): the iteration gives the
            # ClassHits themselves, and the lookup was Python's bare "unhashable type:
            # 'numpy.ndarray'" naming neither (kitprobe67)
            raise TypeError(f"hits[...] takes a class name such as {name.name!r}, not its ClassHits: iterating over "
                            "the hits gives each class's ClassHits itself (for c in hits: c.name, c.times), "
                            "hits.classes.items() the (name, ClassHits) pairs")
        if not isinstance(name, str):
            # hits[["kick", "snare"]] (as a DataFrame takes a list of columns) was Python's bare
            # "unhashable type: 'list'" (kitprobe67's left-alone item)
            raise TypeError(f"hits[...] takes one class name such as 'kick', not {type(name).__name__} {name!r}; "
                            "for several: {c: hits[c] for c in ('kick', 'snare')}, or hits.classes (a dict)")
        try:
            return self.classes[name]
        except KeyError:
            have = ", ".join(self.classes) or "none (no class has a General MIDI note)"
            raise KeyError(f"{name!r} is not a class of these hits; they have {have}") from None

    def __getattr__(self, name):
        """``hits.hits`` (the repr reads ``DrumHits(hits={...})``) names where the hits are;
        any other missing attribute is Python's own error."""
        if name == "hits":
            raise AttributeError("'DrumHits' object has no attribute 'hits': the hits per class are "
                                 "hits.classes (a dict), or hits['kick'], or iterate over hits")
        classes = self.__dict__.get("classes") or {}  # (not self.classes: no recursion before __init__)
        if name in classes:  # hits.kick: a class is an item, not an attribute
            raise AttributeError(f"'DrumHits' object has no attribute {name!r}: a class's hits are hits[{name!r}]")
        raise AttributeError(f"'DrumHits' object has no attribute {name!r}")

    def __repr__(self) -> str:
        """One line: the hits per class and the tempo (the dataclass's own repr printed every
        class's times, strengths and velocities: 3 KB for the bundled loop)."""
        counts = {name: len(c) for name, c in self.classes.items()}
        return (f"DrumHits(hits={counts}, bpm={self.bpm!r}, tempo_fit={self.tempo_fit!r}, "
                f"grid_start={self.grid_start!r})")

    def __iter__(self):
        return iter(self.classes.values())

    def __contains__(self, item) -> bool:
        """``"kick" in hits``: whether ``hits["kick"]`` exists (a class name, as for a
        dict); a :class:`ClassHits` is looked for among the classes.  Without it Python
        compared the name with each ClassHits the iteration yields, and ``"kick" in hits``
        was False while ``hits["kick"]`` worked."""
        if isinstance(item, str):
            return item in self.classes
        return any(item is c for c in self.classes.values())

    def __len__(self) -> int:
        return sum(len(c) for c in self.classes.values())

    @property
    def times(self) -> dict:
        """``{class: onset times (s)}``."""
        return {name: c.times for name, c in self.classes.items()}

    def times_by_track(self, tracks) -> dict:
        """``{track: sorted hit times (s)}``: each class's hits under the one of ``tracks``
        that holds them (:func:`track_of`: a sub-template's, e.g. the ride's strokes
        ``"cymbals_ride"``, under its class's ``"cymbals"``); a class no track holds keeps
        its own name."""
        out = {}
        for c in self:
            owner = track_of(c.name, tracks) or c.name
            out[owner] = np.sort(np.concatenate([out.get(owner, np.zeros(0)), np.asarray(c.times, float)]))
        return out

    def rows(self) -> list[tuple]:
        """``(time_s, class, velocity, strength, note)`` for every hit, in time order
        (ties: in class order)."""
        rows = [(float(t), c.name, int(v), float(s), c.note, i)
                for i, c in enumerate(self.classes.values()) for t, v, s in zip(c.times, c.velocities, c.strengths)]
        rows.sort(key=lambda r: (r[0], r[5]))
        return [r[:5] for r in rows]

    def write_midi(self, path, *, overwrite: bool = False, ppq: int = MIDI_PPQ, bpm: float | None = None,
                   duration: float | None = None) -> Path:
        """Write a Standard MIDI File (type 0): one General MIDI percussion note
        (channel 10) per hit at its onset, 50 ms long (shorter when the next hit of the
        same note comes sooner: notes of one pitch never overlap; hits of one note on one tick
        are one note, the loudest), velocity from its strength.

        The file's tempo is ``bpm`` (default ``self.bpm``; one tempo event) and its resolution ``ppq`` ticks per
        quarter note, so a note starts within half a tick of its onset (0.26 ms at
        120 BPM, 960 PPQ).  Written to a temporary name and renamed: no partial file.

        Parameters
        ----------
        duration : float >= 0, optional
            The recording's length in seconds.  The track then ends there (its
            end-of-track event, within half a tick), so a DAW shows a clip as long as the
            audio and files of several recordings line up; a last note-off after it (a hit
            in the final 50 ms) ends it there instead.  None: the track ends at its last
            note-off.  The notes are the same either way.

        Raises
        ------
        FileExistsError
            ``path`` exists and not ``overwrite``.
        ModuleNotFoundError
            ``mido`` is missing (``pip install mido``).
        """
        return hit_files.write_midi(self.rows(), path, overwrite=overwrite, ppq=ppq,
                                    bpm=self.bpm if bpm is None else bpm, duration=duration)

    def write_csv(self, path, *, overwrite: bool = False) -> Path:
        """Write ``time_s,class,velocity,strength``, one row per hit in time order
        (time in seconds to the microsecond, strength to 6 significant digits).

        Raises
        ------
        FileExistsError
            ``path`` exists and not ``overwrite``.
        ValueError
            ``path`` ends in another kind of file's suffix (``hits.mid``, ``hits.wav``).
        """
        return hit_files.write_csv(self.rows(), path, overwrite=overwrite)
