"""General MIDI for drum hits: the percussion note of each drum class or sub-template name
(:func:`gm_notes`) and the velocity of each hit from its strength
(:func:`velocities_from_strengths`).  Names and numbers in, numbers out; no files.

Velocity (:func:`velocities_from_strengths`): ``round(127 · sqrt(s / s_max))``, at
least 1, per class — the loudest hit of a class gets 127, a hit 20 dB weaker
(a ghost note) 40, one 40 dB weaker 13.  The square root inverts a common synthesizer
velocity curve, amplitude ∝ (velocity / 127)² (40 · log10(velocity / 127) dB), so
re-triggered samples keep the recorded dynamics.

General MIDI percussion notes (:func:`gm_notes`): kick 36, side stick 37, snare 38,
rim shot 40, closed / pedal / open hi-hat 42 / 44 / 46, toms 41 43 45 47 48 50 from low
to high, crash 49, ride 51 (ride bell 53, china 52, splash 55).
"""

from __future__ import annotations

import numbers
import re

import numpy as np

__all__ = ["gm_notes", "velocities_from_strengths", "RIDE_NOTE", "PERCUSSION_CHANNEL"]

#: The General MIDI ride cymbal: a ride keeps time, so its hits are picked at the hi-hat's
#: settings rather than a crash's (threshold, bleed test, played check).
RIDE_NOTE = 51
PERCUSSION_CHANNEL = 9  # "channel 10" counted from 1

# Toms from low to high, as many as are told apart (GM: 41 low floor, 43 high floor,
# 45 low, 47 low-mid, 48 hi-mid, 50 high tom).
_TOM_NOTES = {1: (45,), 2: (43, 48), 3: (41, 45, 48), 4: (41, 43, 45, 48), 5: (41, 43, 45, 47, 48),
              6: (41, 43, 45, 47, 48, 50)}
# Words in tom names, from low to high pitch.
_TOM_PITCH_WORDS = (("floor", 0), ("low", 1), ("lo", 1), ("mid", 2), ("middle", 2), ("high", 3), ("hi", 3),
                    ("rack", 3))


#: A tom's word: tom, toms, tom2, floortom, hitom, tomhi, tom_lo2 (tomtom) -- a whole word, a
#: pitch word joined before or after: any name holding the letters was a tom before
#: (review62a): a multi-mic kit's "snare_bottom", "custom", "stomp".
_TOM_WORD = re.compile(r"(?:floor|low|lo|mid|middle|high|hi|rack|tom)?toms?(?:floor|low|lo|mid|middle|high|hi|rack)?\d*")


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def _note_of(name: str):
    """The GM note of one (non-tom) name, "tom" for a tom, None when unknown."""
    words = _words(name)
    text = "_".join(words)
    if any(_TOM_WORD.fullmatch(word) for word in words):
        return "tom"
    if "kick" in words or "bd" in words or "bass_drum" in text or text.startswith("kick"):
        return 36
    if "hat" in text or "hh" in words:
        if "pedal" in words or "foot" in words:
            return 44
        if "open" in words or "semi" in text:
            return 46
        return 42
    if "stick" in text or "side" in words or "cross" in words:
        return 37
    if "rim" in text:
        return 40
    if "snare" in text:
        return 38
    if "ride" in text:
        return 53 if "bell" in words else 51
    if "china" in text:
        return 52
    if "splash" in text:
        return 55
    if "crash" in text or "cymbal" in text:
        return 49
    return None


def _tom_pitch_rank(name: str) -> int:
    for word in _words(name):
        for key, rank in _TOM_PITCH_WORDS:
            if word == key:
                return rank
    return 2  # unnamed pitch: in the middle


def gm_notes(names, notes=None) -> dict:
    """General MIDI percussion note for each drum class or sub-template name.

    Parameters
    ----------
    names : sequence of str
        E.g. ``("kick", "snare", "hihat")`` or sub-templates such as ``"hihat_open"``,
        ``"tom_floor"``, ``"tom_low"``, ``"tom_mid"``, ``"crash"``, ``"ride"``.
    notes : dict {str: int}, optional
        Notes to use instead of the guessed ones (0-127).

    Returns
    -------
    dict {str: int}
        Kick 36, side stick 37, snare 38, rim shot 40, closed / pedal / open hi-hat
        42 / 44 / 46, crash (or a plain "cymbals") 49, ride 51 (bell 53), china 52,
        splash 55; toms get 41 43 45 47 48 50 from low to high (the words floor < low <
        mid < high / rack in their names order them; a single tom class gets 45).

    Raises
    ------
    ValueError
        A name that is none of these and has no entry in ``notes``, or a note outside 0-127.
    """
    notes = dict(notes or {})
    for name, note in notes.items():
        if isinstance(note, (bool, np.bool_)) or not isinstance(note, numbers.Integral) or not 0 <= note <= 127:
            raise ValueError(f"notes[{name!r}]={note!r} must be a MIDI note number in 0-127")
    result, toms = {}, []
    for name in names:
        if name in notes:
            result[name] = int(notes[name])
            continue
        note = _note_of(str(name))
        if note is None:
            raise ValueError(f"no General MIDI drum note is known for {name!r}; pass notes={{{name!r}: NOTE}} "
                             "(e.g. 38 for a snare)")
        if note == "tom":
            toms.append(name)
        else:
            result[name] = note
    if toms:
        if len(toms) > 6:
            raise ValueError(f"{len(toms)} tom classes {toms} but General MIDI has 6 tom notes; pass notes= for them")
        ordered = sorted(toms, key=lambda n: (_tom_pitch_rank(n), toms.index(n)))  # stable for equal ranks
        result.update(dict(zip(ordered, _TOM_NOTES[len(toms)])))
    return {name: result[name] for name in names}


def velocities_from_strengths(strengths, reference=None) -> np.ndarray:
    """MIDI velocities: ``round(127 · sqrt(strength / reference))`` clipped to 1-127.

    Parameters
    ----------
    strengths : array_like, shape (n_hits,)
        Non-negative hit strengths of one class.
    reference : float, optional
        The strength that gets velocity 127 (default: the largest of ``strengths``).

    Returns
    -------
    ndarray of int, shape (n_hits,)
    """
    strengths = np.asarray(strengths, dtype=np.float64)
    if strengths.size == 0:
        return np.zeros(0, dtype=int)
    top = float(strengths.max()) if reference is None else float(reference)
    if not top > 0:
        return np.ones(strengths.shape, dtype=int)
    return np.clip(np.rint(127 * np.sqrt(np.clip(strengths, 0, None) / top)), 1, 127).astype(int)
