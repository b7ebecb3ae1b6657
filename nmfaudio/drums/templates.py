"""Drum templates: learn them from one-shots, save, load, convert and select them.

A template is a short magnitude spectrogram (``n_freq × n_frames``) averaged over
one-shot samples of one drum; :func:`nmfaudio.separate_drums` starts from these and
adapts them to the recording.  A class may have several templates, its *parts*
(labelled ``"class:part"``, e.g. ``"toms:floor"``, ``"cymbals:crash"``,
``"hihat:open"``); a stem is the sum of its class's parts.  Templates of the class
``"other"`` (percussion that is none of the five drums: cowbell, shaker, ...) are
modelled too, and their share goes to the residual.  Templates of one set may have
different lengths: shorter ones are zero-padded to the longest (zeros stay zero).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nmfaudio import audio, spectrum
from nmfaudio._validation import check_int, check_number

__all__ = ["DrumTemplates", "continue_decay", "default_templates", "floor_decay", "DEFAULT_TEMPLATES_PATH", "CLASSES",
           "HIGH_BANDS_HZ", "TEMPLATE_FRAMES", "KNOWN_CLASSES", "band_ratios_db", "class_of", "read_templates", "trim_support"]


class SkippedShotsWarning(UserWarning):
    """A class folder holds one-shots both directly and in sub-folders: only the files
    directly in it are read (one template per class folder); or a kit folder holds
    folders of one-shots that are no class (``cowbell/``), which are not read.
    ``nmfaudio templates learn`` and ``nmfaudio drums --templates DIR`` print it as one
    ``nmfaudio: note:`` line."""


#: The drums separated by default (the stems, besides the residual).
CLASSES = ("kick", "snare", "toms", "hihat", "cymbals")

#: Every class a template may belong to (and the sub-folder names of a one-shot folder):
#: the five drums and "other" (percussion, modelled but sent to the residual).
KNOWN_CLASSES = CLASSES + ("other",)

#: The track of what no class took, written with every separation: no template class may
#: have its name (its stem would replace the residual, and the tracks would no longer add
#: up to the mixture).
RESIDUAL = "residual"

#: The bundled templates (learned by ``data/make_default_templates.py``).
DEFAULT_TEMPLATES_PATH = Path(__file__).resolve().parent.parent / "data" / "default_drum_templates.npz"
#: One snare template learned from drum machines' snares (FluidR3 Electronic and TR-808;
#: ``data/make_default_templates.py``): a song's snare starts from it and the bundled
#: snare (``nmfaudio.drums.stems.SONG_ELECTRONIC_SNARE``).
ELECTRONIC_SNARE_PATH = DEFAULT_TEMPLATES_PATH.with_name("electronic_snare_template.npz")

#: Template length in frames when learning from one-shots (at hop 512 / 22.05 kHz: 0.19 s).
TEMPLATE_FRAMES = 8

#: Template length per class when learning from a one-shot folder: cymbals ring for
#: seconds, and a longer template tells a crash from an open hi-hat (measured in
#: docs/drums-five-stems.md).  Toms stay 8 frames, though the bundled tom parts are 24:
#: on seven kits' own one-shots 24-frame toms gave the kick +0.77 dB and the toms +0.55
#: but the snare -0.25 and the toms' onset recall 0.901 -> 0.822 (no length between
#: escapes that trade; docs/log/drums-five-stems-decisions.md, the kit-toms round).
CLASS_FRAMES = {"cymbals": 24}

#: Sub-hop onset offsets (in quarters of the hop) averaged when learning a template, so
#: the template does not depend on where an onset falls within a frame.
_ONSET_OFFSETS = (0, 1, 2, 3)

#: A one-shot starts at its first sample within this many dB of its peak.
ONSET_DB = -40.0

#: File extensions read from one-shot folders (others, like README.txt, are skipped).
AUDIO_EXTENSIONS = {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc",
                    ".au", ".snd", ".caf", ".w64", ".rf64"}

#: Longest template, in seconds: a drum hit's spectrum fades within a second or two, and
#: a template longer than this is a damaged file or a mistaken --frames (converted to a
#: recording's STFT, it would cost time and memory out of proportion to the recording).
MAX_TEMPLATE_SECONDS = 4.0

#: Highest rate templates are learned at from a one-shot folder (``templates learn --sr``):
#: 384 kHz, the highest rate of common audio interfaces (8 x 48 kHz).  ``--sr 1000000`` was
#: taken (mend62): every one-shot resampled to 1 MHz, templates of frequencies no
#: recording holds.  Templates are converted to each recording's rate when used.
MOST_LEARN_SR = 384000

#: Shortest one-shot a template is learned from (from its onset): a 10-sample file made a
#: click's flat template without a word (mend62).  A time, not the template's frames: a
#: closed hat of 50 ms is a real one-shot, and the silence after it is what its template
#: should hold; at a low learning rate (``--sr 2000``) one hop is 0.26 s.
MIN_SHOT_SECONDS = 0.005

#: Largest template file read (the bundled one is ~0.5 MB; 3 drums at n_fft 16384 and
#: 4 s are ~15 MB).
MAX_TEMPLATE_FILE_BYTES = 64 << 20


def class_lengths(classes, n_frames=None) -> dict:
    """``{class: template length in frames}`` for templates learned with ``n_frames``
    (:meth:`DrumTemplates.from_folder`'s): None, each class's default (``CLASS_FRAMES``, else
    ``TEMPLATE_FRAMES``); a dict, its class's (``TEMPLATE_FRAMES`` for one it lacks); an int,
    every class's.  The one rule ``from_folder`` learns by and ``templates learn`` reports."""
    table = CLASS_FRAMES if n_frames is None else n_frames
    return {name: check_int(table.get(name, TEMPLATE_FRAMES) if isinstance(table, dict) else table, "n_frames", 1)
            for name in classes}


def _check_template_length(n_frames: int, hop_length: int, sr: int, *, default_for: str | None = None) -> None:
    """Refuse templates longer than ``MAX_TEMPLATE_SECONDS``.  ``default_for``: the class
    whose default length (``CLASS_FRAMES`` / ``TEMPLATE_FRAMES``, not a length the user
    gave) is ``n_frames`` — the message then says so, and offers a shorter hop first,
    instead of naming ``n_frames=24`` (``--frames 24``), which nobody typed."""
    seconds = n_frames * hop_length / sr
    if seconds <= MAX_TEMPLATE_SECONDS:
        return
    fit = int(MAX_TEMPLATE_SECONDS * sr / hop_length)
    if default_for is None:
        raise ValueError(
            f"n_frames={n_frames} at hop_length={hop_length} and sr={sr} makes templates {seconds:.3g} s long; "
            f"drum templates are at most {MAX_TEMPLATE_SECONDS:g} s long (8 frames, 0.19 s, by default): use at most "
            f"{fit} frames")
    what = ("the default template length" if n_frames == TEMPLATE_FRAMES else
            f"the default template length for {default_for}")
    hop = int(MAX_TEMPLATE_SECONDS * sr / n_frames)
    fixes = ([f"hop_length={hop} or smaller"] if hop >= 1 else []) + ([f"n_frames={fit} (it sets every class's length)"] if fit >= 1 else [])
    raise ValueError(
        f"{what}, {n_frames} frames, at hop_length={hop_length} and sr={sr} lasts {seconds:.3g} s, more than "
        f"the {MAX_TEMPLATE_SECONDS:g} s a drum template may: use {', or '.join(fixes) or 'a higher sr'}")



#: Template file format: 1 = one template per class (nmfaudio ≤ the three-stem version);
#: 2 = labels may be "class:part" and templates may end in zero frames (per-part lengths);
#: 3 = may carry ``high_band_db`` (see :class:`DrumTemplates`).  All load.
_FORMAT_VERSION = 3

#: The bands of :attr:`DrumTemplates.high_band_db` (Hz): the reference band from the first
#: edge to the second (the bundled templates' Nyquist frequency, 22.05 kHz / 2), the first
#: band from there to the third edge, the second band from the third edge up.
HIGH_BANDS_HZ = (5000.0, 11025.0, 16000.0)


def band_ratios_db(P, sr: int, n_fft: int) -> np.ndarray:
    """Each template's mean power per bin in the two bands of :data:`HIGH_BANDS_HZ` over
    its mean power per bin in the reference band (all frames summed), in dB.

    Parameters
    ----------
    P : ndarray, shape (n_freq, n_templates, n_frames)
        Magnitude templates at ``sr`` and ``n_fft`` (``n_freq = 1 + n_fft // 2``).
    sr, n_fft : int
        The templates' sampling rate (Hz) and STFT size.

    Returns
    -------
    ndarray of float64, shape (n_templates, 2)
        NaN for a band the grid does not reach (``sr / 2`` at most 16 kHz: the second).
    """
    freqs = np.arange(P.shape[0]) * (sr / n_fft)
    power = np.square(np.asarray(P, dtype=np.float64)).sum(axis=2)  # (n_freq, K)
    low, mid, split = HIGH_BANDS_HZ
    reference = power[(freqs >= low) & (freqs < mid)].mean(axis=0)
    out = np.full((P.shape[1], 2), np.nan)
    for b, band in enumerate(((freqs >= mid) & (freqs < split), freqs >= split)):
        if band.any():
            with np.errstate(divide="ignore"):
                out[:, b] = 10 * np.log10(power[band].mean(axis=0) / reference)
    return out


def _fill_high_band(P, freqs, above_hz: float, ratios_db) -> None:
    """In place: the bins of P (n_freq, K, T) above ``above_hz`` of each template with
    finite ``ratios_db`` (K, 2) set flat per frame, at the level that gives each band of
    :data:`HIGH_BANDS_HZ` its ratio (mean power per bin) to the frame's reference band."""
    low, mid, split = HIGH_BANDS_HZ
    reference = (freqs >= low) & (freqs < mid)
    bands = ((freqs > above_hz) & (freqs < split), (freqs > above_hz) & (freqs >= split))
    for k in np.flatnonzero(np.all(np.isfinite(ratios_db), axis=1)):
        level = np.square(P[reference, k]).mean(axis=0)  # (T,) mean power per bin
        for band, ratio_db in zip(bands, ratios_db[k]):
            P[band, k] = np.sqrt(level * 10 ** (ratio_db / 10))[None, :]


def class_of(label: str) -> str:
    """The class of a template label: ``"toms:floor"`` → ``"toms"``, ``"kick"`` → ``"kick"``."""
    return str(label).split(":", 1)[0]


def drum_label(label: str) -> str:
    """``label`` with a drum class named in another case written in lower case (``"Kick"``
    → ``"kick"``, ``"HiHat:open"`` → ``"hihat:open"``); any other label unchanged
    (``"cowbell"``, ``"Cowbell"``).  A kit learned with ``--classes Kick`` (its folder
    ``Kick/``) labelled its template ``"Kick"``, which no run took for the kick: the bundled
    kick modelled the kick and the user's went to the residual (kitprobe67)."""
    label = str(label)
    name, sep, part = label.partition(":")
    lower = name.lower()
    return lower + sep + part if name != lower and lower in KNOWN_CLASSES else label


def trim_support(P, support_db: float) -> np.ndarray:
    """Set the entries of each template more than ``support_db`` below its peak to zero
    and renormalize each template to sum 1, in place (the fit's ``support_db`` and the
    bundled file's stored zeros, ``data/make_default_templates.py``, use this one rule).

    Parameters
    ----------
    P : ndarray, float, shape (n_freq, n_templates, n_frames), writable
    support_db : float <= 0

    Returns
    -------
    P
    """
    P[P < P.max(axis=(0, 2), keepdims=True) * P.dtype.type(10 ** (support_db / 20))] = 0
    P /= P.sum(axis=(0, 2), keepdims=True)
    return P


def continue_decay(P, templates, frames: int, max_ratio: float, *, level: float = 1.0) -> np.ndarray:
    """The given templates continued past their last non-zero frame by ``frames`` more,
    each bin decaying geometrically at its own ratio of the last two frames (at most
    ``max_ratio``), so a drum that rings longer than its template is still modelled.

    Parameters
    ----------
    P : ndarray, shape (n_freq, n_templates, n_frames)
        Never modified.
    templates : sequence of int
        The templates to continue (others are copied as they are; a template with fewer
        than two non-zero frames is not continued).
    frames : int >= 0
    max_ratio : float in [0, 1)
    level : float in [0, 1], default 1
        The continuation starts from this share of the last frame (0: no continuation).

    Returns
    -------
    ndarray, shape (n_freq, n_templates, n_frames'), P's dtype
        ``n_frames' >= n_frames``: padded with zero frames when a continued template
        needs them; the first frames equal P.

    Raises
    ------
    ValueError
        For a P that is not 3-D, ``frames`` < 0, ``max_ratio`` outside [0, 1) or ``level``
        outside [0, 1].
    """
    P = np.asarray(P)
    if P.ndim != 3:
        raise ValueError(f"P must have shape (n_freq, n_templates, n_frames), got {P.shape}")
    frames = check_int(frames, "frames", 0)
    max_ratio = check_number(max_ratio, "max_ratio", minimum=0, maximum=1, strict_maximum=True,
                             expected="a number in [0, 1) (a decay)")
    level = check_number(level, "level", minimum=0, maximum=1, expected="a number in [0, 1]")
    lasts = {}
    for k in templates:
        active = np.flatnonzero(P[:, k].any(axis=0))
        if active.size >= 2:
            lasts[k] = int(active[-1])
    n_frames = max([P.shape[2]] + [last + 1 + int(frames) for last in lasts.values()])
    out = np.zeros(P.shape[:2] + (n_frames,), P.dtype)
    out[:, :, :P.shape[2]] = P
    for k, last in lasts.items():
        before, end = P[:, k, last - 1], P[:, k, last]
        # a bin whose last-but-one frame is near zero overflows float32 to inf here; the
        # cap below makes that max_ratio, which is what such a bin gets anyway
        with np.errstate(over="ignore"):
            ratio = np.divide(end, before, out=np.zeros(end.shape, np.result_type(end, np.float32)), where=before > 0)
        ratio = np.minimum(ratio, max_ratio).astype(P.dtype)
        tail = end * P.dtype.type(level)
        for j in range(1, int(frames) + 1):
            tail *= ratio
            out[:, k, last + j] = tail
    return out


def floor_decay(P, templates, ratio: float, n_bins: int, *, level: float = 1.0,
                start_bins: int | None = None) -> np.ndarray:
    """The given templates' lowest ``n_bins`` bins decaying from the template's peak frame
    no faster than ``ratio`` per frame: ``max(P[f, k, τ], level · P[f, k, p] · ratio^(τ − p))``
    for τ after the peak frame p (the frame of the template's largest sum), up to the
    template's last frame.

    Why: in song mode the drums are fitted to what rises above the sustained part, so a
    kick's body below 60 Hz, under the bass's level after its attack, is not in its fitted
    template (seed 6 GMRockKit at -6 dB, below 60 Hz, 3 frames after the peak: 0.14 of it
    in the template, 0.58 in the kick); the masks gave that decay to the accompaniment.

    Parameters
    ----------
    P : ndarray, shape (n_freq, n_templates, n_frames)
        Never modified.
    templates : sequence of int
        The templates to floor (others are copied as they are).
    ratio : float in [0, 1)
    n_bins : int >= 0
        How many of the lowest bins get the floor.
    level : float in [0, 1], default 1
    start_bins : int >= 1 or None, default None
        None: each bin's floor starts from its own value at the peak frame.  An int: every
        floored bin starts from the largest of the lowest ``start_bins`` bins at the peak
        frame — for a kick whose pitch glides down after its peak frame (an 808's sine,
        65 Hz at its click, 54 Hz in its ring), so the bins it rings in held little of it
        at the peak (:data:`nmfaudio.drums.kick_decay.GLIDE_HZ`).

    Returns
    -------
    ndarray, P's shape and dtype

    Raises
    ------
    ValueError
        For a P that is not 3-D, ``ratio`` outside [0, 1), ``n_bins`` < 0 or ``level``
        outside [0, 1].
    """
    P = np.asarray(P)
    if P.ndim != 3:
        raise ValueError(f"P must have shape (n_freq, n_templates, n_frames), got {P.shape}")
    ratio = check_number(ratio, "ratio", minimum=0, maximum=1, strict_maximum=True,
                         expected="a number in [0, 1) (a decay)")
    n_bins = check_int(n_bins, "n_bins", 0)
    level = check_number(level, "level", minimum=0, maximum=1, expected="a number in [0, 1]")
    if start_bins is not None:
        start_bins = check_int(start_bins, "start_bins", 1)
    out = P.copy()
    for k in templates:
        peak = int(np.argmax(P[:, k].sum(axis=0)))
        steps = np.arange(1, P.shape[2] - peak)
        start = (P[:n_bins, k, peak, None] if start_bins is None
                 else np.full((n_bins, 1), P[:start_bins, k, peak].max(initial=0), P.dtype))
        floor = start * (P.dtype.type(ratio) ** steps)[None, :] * P.dtype.type(level)
        np.maximum(out[:n_bins, k, peak + 1:], floor.astype(P.dtype), out=out[:n_bins, k, peak + 1:])
    return out


# --------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------
@dataclass
class DrumTemplates:
    """Convolutive spectral templates (one or more per drum class), with their STFT
    parameters.

    Attributes
    ----------
    P : ndarray of float32, shape (n_freq, n_templates, n_frames)
        ``P[:, k, τ]`` is the magnitude spectrum of template ``k`` ``τ`` frames after
        its onset; each template (``P[:, k, :]``) sums to 1.
    classes : tuple of str
        Template labels, in the order of ``P``'s second axis: a class name
        (``"kick"``) or ``"class:part"`` (``"toms:floor"``); see :attr:`stems`.
    sr : int
        Sampling rate the templates were computed at.
    n_fft, hop_length : int
    window : str
    n_shots : tuple of int
        One-shot files each template was averaged over (provenance; 0 if unknown).
    source : str
        Where the templates came from.
    high_band_db : ndarray of float64, shape (n_templates, 2), or None
        Measured, for templates learned at a lower rate than some recordings: each
        template's power in the bands of :data:`HIGH_BANDS_HZ` above the reference band,
        from the same sounds at a higher rate (:func:`band_ratios_db`); NaN where not
        measured.  :meth:`convert` with ``high_band=True`` fills the bins above the
        templates' Nyquist frequency at that level (the bundled hi-hat parts; see
        ``data/make_default_templates.py``).  Kept by :meth:`select`, :meth:`completed`,
        :meth:`save` and conversions at the same rate; a conversion to another rate
        drops it (the band above the old Nyquist frequency is then held or filled), as
        do a separation's adapted templates.
    """

    P: np.ndarray
    classes: tuple
    sr: int
    n_fft: int = spectrum.N_FFT
    hop_length: int = spectrum.HOP_LENGTH
    window: str = spectrum.WINDOW
    n_shots: tuple = ()
    source: str = ""
    high_band_db: np.ndarray | None = None

    def __post_init__(self):
        P = np.asarray(self.P)
        if P.ndim != 3:
            raise ValueError(f"P has shape {P.shape}; drum templates must be (n_freq, n_classes, n_frames)")
        if P.dtype.kind not in "iuf" or not np.all(np.isfinite(P)) or (P.size and P.min() < 0):
            raise ValueError("P must hold finite non-negative numbers (magnitude spectra)")
        given = tuple(str(c) for c in self.classes)
        # a drum class in capitals ("Kick", from a folder Kick/) is that drum (kitprobe67)
        self.classes = tuple(drum_label(c) for c in given)
        if len(self.classes) != P.shape[1] or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes={given!r} must name each of the {P.shape[1]} templates once")
        _check_not_residual(self.classes, "classes")
        self.sr = audio.check_sr(self.sr)
        self.n_fft, self.hop_length = spectrum.check_frames(self.n_fft, self.hop_length, self.window)
        _check_template_length(P.shape[2], self.hop_length, self.sr)
        if P.shape[0] != 1 + self.n_fft // 2:
            raise ValueError(f"P has {P.shape[0]} frequency bins but n_fft={self.n_fft} needs {1 + self.n_fft // 2}")
        sums = P.sum(axis=(0, 2), dtype=np.float64)
        if np.any(sums <= 0):
            empty = [c for c, s in zip(self.classes, sums) if s <= 0]
            raise ValueError(f"the templates of {empty} are all zeros; learn them from audible one-shots")
        self.P = (P / sums[None, :, None]).astype(np.float32)
        self.n_shots = tuple(int(n) for n in self.n_shots) if self.n_shots else (0,) * P.shape[1]
        if self.high_band_db is not None:
            try:  # a copy: templates made from others (convert, select) must not share it
                ratios = np.array(self.high_band_db, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"high_band_db of type {type(self.high_band_db).__name__} (dtype "
                                 f"{getattr(self.high_band_db, 'dtype', None)}) must be numbers in dB, NaN where "
                                 "not measured") from None
            if ratios.shape != (P.shape[1], 2):
                raise ValueError(f"high_band_db has shape {ratios.shape}; it must be ({P.shape[1]}, 2): two bands "
                                 "per template")
            if np.any(np.isinf(ratios)):
                raise ValueError("high_band_db has infinite entries; give finite dB, or NaN where not measured")
            self.high_band_db = None if np.all(np.isnan(ratios)) else ratios

    @property
    def n_frames(self) -> int:
        """Template length in STFT frames (of the longest template)."""
        return self.P.shape[2]

    @property
    def stems(self) -> tuple:
        """The classes of the templates, each once, in order of first appearance."""
        return tuple(dict.fromkeys(class_of(c) for c in self.classes))

    def missing(self, classes=KNOWN_CLASSES) -> tuple:
        """The classes of ``classes`` that no template here belongs to."""
        return tuple(c for c in classes if c not in self.stems)

    def completed(self, fallback) -> "DrumTemplates":
        """These templates plus ``fallback``'s templates of the classes missing here
        (converted to these STFT parameters); ``self`` when nothing is missing."""
        missing = [c for c in fallback.stems if c not in self.stems]
        if not missing:
            return self
        extra = fallback.select(missing).convert(sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length,
                                                  window=self.window)
        T = max(self.n_frames, extra.n_frames)
        pad = lambda P: np.pad(P, ((0, 0), (0, 0), (0, T - P.shape[2])))  # noqa: E731
        return DrumTemplates(np.concatenate([pad(self.P), pad(extra.P)], axis=1), self.classes + extra.classes,
                             self.sr, self.n_fft, self.hop_length, self.window, self.n_shots + extra.n_shots,
                             f"{self.source}; {', '.join(missing)} from {extra.source}",
                             _stacked_ratios(self, extra))

    def __repr__(self) -> str:
        return (f"DrumTemplates(classes={self.classes}, sr={self.sr}, n_fft={self.n_fft}, "
                f"hop_length={self.hop_length}, n_frames={self.n_frames}, n_shots={self.n_shots})")

    # -- learning ---------------------------------------------------------------------
    @classmethod
    def from_one_shots(cls, one_shots, sr, *, n_fft=None, hop_length=None, n_frames=TEMPLATE_FRAMES,
                       source="arrays"):
        """Learn templates from one-shot recordings given as arrays.

        Parameters
        ----------
        one_shots : dict {class name: list of ndarray (n_samples,) or (n_channels, n_samples)}
            One-shots at ``sr`` (multichannel ones are averaged to mono); a 2-D array
            (n_shots, n_samples) is one mono shot a row.
        sr : int
        n_fft, hop_length : int, optional
            Default: the frames the separation uses at ``sr``, as in :meth:`from_folder`.
        n_frames : int or dict {name: int}, default 8
            Template length in frames (per name: the others get 8; shorter templates
            are zero-padded to the longest).

        Returns
        -------
        DrumTemplates
        """
        if not isinstance(one_shots, dict) or not one_shots:
            raise ValueError("one_shots must be a non-empty dict {class name: list of arrays}")
        labelled = {}
        for name, shots in one_shots.items():
            if isinstance(shots, np.ndarray) and shots.ndim < 2 or isinstance(shots, (str, os.PathLike)):
                # {"kick": y}: one recording where a list goes was read sample by sample
                # ("one_shots['kick'][0] has shape ()"), a path letter by letter.  A 2-D
                # array is read row by row, as before tour15: one shot a row (refused by
                # tour15 as "one array ... even for one", a working call; review10)
                what = "one array" if isinstance(shots, np.ndarray) else f"the path {os.fspath(shots)!r}"
                raise TypeError(f"one_shots[{name!r}] is {what}; give a list of recordings (arrays), even for one: "
                                f"{{{name!r}: [y]}}" + ("" if isinstance(shots, np.ndarray) else
                                                         " — or learn from a folder of files: "
                                                         "DrumTemplates.from_folder(kit)"))
            shots = list(shots)
            if not shots:
                raise ValueError(f"one_shots[{name!r}] is empty; give at least one recording per drum")
            labelled[name] = [(f"one_shots[{name!r}][{i}]", y) for i, y in enumerate(shots)]
        return cls._learn(labelled, sr, n_fft=n_fft, hop_length=hop_length, n_frames=n_frames, source=source)

    @classmethod
    def _learn(cls, labelled, sr, *, n_fft, hop_length, n_frames, source):
        """``labelled``: {class: [(label for messages, samples), ...]}."""
        sr = audio.check_sr(sr)
        n_fft, hop_length = spectrum.frames_or_defaults(n_fft, hop_length, sr)
        if isinstance(n_frames, dict):  # per label, the rest TEMPLATE_FRAMES
            frames = {name: check_int(n_frames.get(name, TEMPLATE_FRAMES), f"n_frames[{name!r}]", 1)
                      for name in labelled}
        else:
            frames = dict.fromkeys(labelled, check_int(n_frames, "n_frames", 1))
        longest = max(frames.values())
        _check_template_length(longest, hop_length, sr)  # before allocating n_freq x n_frames
        P, counts = [], []
        for name, shots in labelled.items():
            acc = np.zeros((1 + n_fft // 2, longest), dtype=np.float64)
            for label, y in shots:
                acc[:, :frames[name]] += _shot_template(y, sr=sr, n_fft=n_fft, hop_length=hop_length,
                                                        n_frames=frames[name], label=label)
            P.append(acc / len(shots))
            counts.append(len(shots))
        return cls(np.stack(P, axis=1), tuple(labelled), sr, n_fft, hop_length, spectrum.WINDOW,
                   tuple(counts), source)

    @classmethod
    def from_folder(cls, path, *, classes=None, sr=22050, n_fft=None, hop_length=None, n_frames=None):
        """Learn templates from a folder of one-shots: ``path/kick/*.wav``, ``path/snare/…``,
        ``path/toms/…``, ``path/hihat/…``, ``path/cymbals/…`` (the layout libnmfd uses,
        plus toms and cymbals), and optionally ``path/other/…`` (percussion for the
        residual).  One template per class folder.

        Every audio file of a class folder (any format and rate libsndfile reads; other
        files such as ``README.txt`` and hidden files are skipped) is read as mono,
        resampled to ``sr``, cut to start at its onset (first sample within 40 dB of its
        peak), and its first ``n_frames`` STFT frames (averaged over four sub-hop onset
        positions) are normalized to unit sum; a class's template is the mean over its
        files.

        Parameters
        ----------
        path : str or os.PathLike
            Folder holding one sub-folder per class.
        classes : sequence of str, optional
            The class folders to read (each must exist).  Default: every folder of
            ``KNOWN_CLASSES`` that exists (at least one must).  A kit with only
            ``kick/``, ``snare/`` and ``hihat/`` is fine: :func:`separate_drums` takes
            the missing classes from the bundled templates.
        sr : int, default 22050
        n_fft, hop_length : int, optional
            Default: the frames the separation uses at ``sr``
            (:func:`nmfaudio.spectrum.frames_for_rate`: 2048 / 512 at 22.05 kHz, 4096 / 1024
            at 44.1 kHz, 4464 / 1116 at 48 kHz), so that the templates equal those a kit
            folder given as ``templates=`` is learned into for a recording at ``sr``; with
            only ``n_fft`` given, the hop is ``n_fft // 4``.
        n_frames : int or dict {class: int}, optional
            Template length in frames; default ``CLASS_FRAMES`` (8, longer for
            cymbals).

        Returns
        -------
        DrumTemplates

        Raises
        ------
        FileNotFoundError, NotADirectoryError
            ``path`` does not exist, or is a file; a class folder is a link leading nowhere,
            or a file (``kit/toms``).
        ValueError
            A class folder is missing, a class folder has no audio file, or a file is
            silent or unreadable (the message names the folder or file).

        Warns
        -----
        SkippedShotsWarning
            A class folder also holds one-shots in sub-folders, which are not read, or
            (``classes`` not given) the kit holds folders of one-shots that are no class
            (``cowbell/``), which are not read either, or one-shots lying in the kit folder
            itself beside the class folders (once per call, naming every such folder and file).
        """
        folder = Path(path)
        if audio.is_broken_link(folder):  # a kit on a moved drive: the link and its target named
            raise audio.not_found(folder)
        if not folder.is_dir():
            # the built-in error for a path, as nmfaudio.load raises for a missing file
            error = NotADirectoryError if folder.exists() else FileNotFoundError
            if folder.is_file() and folder.suffix.lower() == ".npz":
                # 'templates learn kit.npz' (to convert it, or by habit): "give a folder" said
                # nothing of what the file is for (kitprobe67)
                raise error(f"{str(folder)!r} is a drum-template file (.npz), not a one-shot folder: it needs no "
                            f"learning; use it as it is: nmfaudio drums --templates {str(folder)!r} (Python: "
                            f"templates={str(folder)!r}), converted to each recording's rate")
            what = "is not a folder but a file" if folder.exists() else "does not exist (or is not a folder)"
            raise error(f"one-shot folder {str(folder)!r} {what}; give a folder "
                        f"with sub-folders {', '.join(classes or CLASSES)}")
        asked = classes is not None  # the classes named by the caller, not found in the folder
        unread = []  # the kit's folders of one-shots that are no class: said with the skipped below
        loose = []  # ... and its one-shots outside every class folder
        if classes is None:
            _check_folder_case(folder)
            # a class folder that is a link leading nowhere (a moved drive) is kept, so that the
            # loop below names it: the class was left out without a word (review59)
            # so is a file standing where a class folder goes ('kit/toms', a one-shot saved
            # without its suffix, or a note): it was passed over without a word (mend60)
            classes = tuple(c for c in KNOWN_CLASSES if os.path.lexists(folder / c))
            unread = _unread_folders(folder, classes)
            # one-shots lying in the kit folder itself, beside its class folders (a kit exported
            # flat, then partly sorted): not read, and not said before review63b
            loose = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                           and p.suffix.lower() in AUDIO_EXTENSIONS)
            if not classes:
                # a class folder itself given (kit/kick): the kit is its parent
                fix = (f"give the kit folder above it, {str(folder.parent)!r}" if folder.name in KNOWN_CLASSES
                       else f"put one-shots in e.g. {str(folder / 'kick')!r}")
                if unread and folder.name not in KNOWN_CLASSES:
                    # a sample pack's Kicks/, Snares/, Hats/: "put one-shots in 'kit/kick'" did not
                    # say that the one-shots were there, under other names (kitprobe67)
                    fix = (f"its folders of one-shots ({_listed(dict(unread))}) are named after no drum class: "
                           f"rename each after its drum ({', '.join(KNOWN_CLASSES)})")
                raise ValueError(f"one-shot folder {str(folder)!r} has none of the class folders "
                                 f"{', '.join(KNOWN_CLASSES)}; {fix}")
        classes = _check_classes(classes)
        # a class folder named in another case and asked for by name (--classes Kick, for a
        # sample library's Kick/ the user keeps as it is) is read as that drum: labelled
        # "Kick", its template was no run's kick (kitprobe67)
        labels = {name: drum_label(name) for name in classes}
        twice = sorted({label for label in labels.values() if list(labels.values()).count(label) > 1})
        if twice:
            named = ", ".join(name for name in classes if labels[name] in twice)
            raise ValueError(f"classes={classes!r} names the {', '.join(twice)} class twice ({named}); name each "
                             "drum once")
        default = n_frames is None
        if default:
            n_frames = CLASS_FRAMES
        elif isinstance(n_frames, dict):
            # a misspelt class would be ignored without a word (its class at the default length);
            # a known class this kit lacks is fine: one table may serve several kits
            unknown = sorted((set(n_frames) - set(classes) - set(labels.values()) - set(KNOWN_CLASSES)), key=str)
            if unknown:
                raise ValueError(f"n_frames names {unknown[0]!r}, which is neither a class learned here "
                                 f"({', '.join(classes)}) nor a drum class ({', '.join(KNOWN_CLASSES)}); "
                                 "check its spelling")
        sr = audio.check_sr(sr)
        if sr > MOST_LEARN_SR:
            raise ValueError(f"sr={sr} is above {MOST_LEARN_SR} Hz, the highest rate templates are learned at; "
                             "learn them at your recordings' rate (e.g. 44100 or 48000): they are converted to "
                             "each recording's rate when used")
        # the separation's frames at sr when not given: 2048 / 512 at every rate made an .npz
        # learned at 48 kHz give other stems than its folder (tour68)
        n_fft, hop_length = spectrum.frames_or_defaults(n_fft, hop_length, sr)
        # the classes learned here, each at its length: a kit without cymbals/ is not held to
        # the cymbals' 24 frames
        lengths = class_lengths([labels[name] for name in classes], n_frames)
        longest = max(lengths, key=lengths.get)
        _check_template_length(lengths[longest], hop_length, sr,  # before reading the shots
                               default_for=longest if default else None)
        labelled = {}
        skipped = []
        for name in classes:
            sub = folder / name
            if audio.is_broken_link(sub):  # 'kit/toms' is a link to '/Volumes/old/toms', which does not exist
                raise audio.not_found(sub)
            if sub.exists() and not sub.is_dir():  # it was passed over, or called missing with --classes
                raise NotADirectoryError(f"class folder {str(sub)!r} is a file, not a folder; make {str(sub)!r} a "
                                         f"folder of {name} one-shots (WAV, FLAC, ...), moving the file away")
            if not sub.is_dir():
                # --classes kick beside a sample library's Kick/: "put kick one-shots in 'kit/kick'"
                # sent the user to make a second, empty folder (kitprobe67)
                def variant(c):  # the folder that holds class c in another case, if c's own is missing
                    if (folder / c).is_dir():
                        return None
                    found = sorted(d.name for d in folder.iterdir() if d.is_dir() and d.name != c
                                   and drum_label(d.name) == labels[c])
                    return found[0] if found else None

                other = variant(name)
                if other:
                    named = tuple(variant(c) or c for c in classes)
                    raise ValueError(f"class folder {str(sub)!r} is missing, but {str(folder / other)!r} is there: "
                                     f"class folders are lower-case; rename {other} -> {name}, or read it by "
                                     f"name: classes={named!r}")
                raise ValueError(f"class folder {str(sub)!r} is missing; put {name} one-shots (WAV, FLAC, ...) "
                                 f"in {str(sub)!r}")
            # a link whose target is gone is read too, so that it is named (review58: it was left
            # out without a word, and the template learned from the other one-shots)
            files = sorted(p for p in sub.iterdir()
                           if (p.is_file() or audio.is_broken_link(p)) and not p.name.startswith(".")
                           and p.suffix.lower() in AUDIO_EXTENSIONS)
            if not files:
                # a kit laid out ahead (cymbals/, other/ made before their one-shots were): "add
                # one-shots" alone sent the user looking for samples they do not have (kitprobe67)
                other_way = (f", or leave {name} out of classes={classes!r}" if asked else
                             ", or remove the empty folder (a class without one is modelled with the bundled "
                             "templates)")
                raise ValueError(f"class folder {str(sub)!r} holds no audio files" + (
                    _nested_shots(sub, name) or f"; add {name} one-shots (WAV, FLAC, OGG, MP3, AIFF){other_way}"))
            labelled[labels[name]] = [(repr(str(p)), _read_shot(p, sr, sub)) for p in files]
            nested = _nested_counts(sub)
            if nested:  # read the files beside them without a word (polish16)
                skipped.append(f"{str(sub)!r} ({_listed(nested)})")
        if skipped or unread or loose:
            import warnings

            from nmfaudio._validation import caller_stacklevel, first_few

            said = []
            if unread:  # kit/cowbell/ was skipped without a word (review56)
                said.append(f"folders of {str(folder)!r} that are no drum class are not read ({_listed(dict(unread))}); "
                            f"name a drum's folder {', '.join(CLASSES)}, or put percussion to leave in the residual "
                            "in other/")
            if loose:
                shown = first_few(loose)
                said.append(f"one-shots directly in the kit folder {str(folder)!r} are not read ({shown}); move each "
                            f"into its class folder ({', '.join(CLASSES)}), or into other/ for percussion")
            if skipped:
                said.append(f"one-shots in sub-folders of {'; '.join(skipped)} are not read, only the files directly "
                            "in each class folder (one template per class folder); move the ones to learn from up "
                            "into the class folder")
            warnings.warn("; and ".join(said), SkippedShotsWarning,
                          stacklevel=caller_stacklevel())  # the user's line, also via templates="kit"
        return cls._learn(labelled, sr, n_fft=n_fft, hop_length=hop_length, n_frames=lengths, source=str(folder))

    # -- files ------------------------------------------------------------------------
    def save(self, path, *, overwrite=False) -> Path:
        """Write the templates to an ``.npz`` file (atomically) with their sr, n_fft,
        hop_length and window (and :attr:`high_band_db` when they have one).

        Parameters
        ----------
        path : str or os.PathLike
            Destination; must end in ``.npz``.
        overwrite : bool, default False

        Returns
        -------
        pathlib.Path
        """
        path = Path(path)
        if path.name.lower() == ".npz":  # a hidden file with no suffix to pathlib (review62a)
            raise ValueError(f"path={str(path)!r} has no name before .npz; give e.g. "
                             f"{str(path.parent / 'kit.npz')!r}")
        if path.suffix.lower() != ".npz":
            raise ValueError(f"path={str(path)!r} must end in .npz")
        if not path.parent.is_dir():
            blocking = audio.file_in_the_way(path.parent)  # a file has its name: mkdir would fail
            if blocking is not None:
                raise NotADirectoryError(f"{str(blocking)!r} is a file, not a folder; give a path in a folder")
            raise FileNotFoundError(f"folder {str(path.parent)!r} does not exist; create it first")
        with audio.atomic_outputs([path], overwrite=overwrite) as (temporary,):
            with open(temporary, "wb") as handle:
                np.savez_compressed(
                    handle, P=self.P, classes=np.array(self.classes), sr=self.sr, n_fft=self.n_fft,
                    hop_length=self.hop_length, window=np.array(self.window), n_shots=np.array(self.n_shots),
                    source=np.array(self.source), format_version=_FORMAT_VERSION,
                    **({} if self.high_band_db is None else {"high_band_db": self.high_band_db}))
        return path

    @classmethod
    def load(cls, path):
        """Read templates written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            ``path`` does not exist.
        ValueError
            The file is not a drum-template ``.npz`` (names the missing fields).
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"drum templates {str(path)!r} do not exist; check the path")
        # Declared sizes first: a small hostile .npz can inflate to gigabytes.
        audio.check_array_file(path, max_bytes=MAX_TEMPLATE_FILE_BYTES, what="drum-template file")
        try:
            if not zipfile.is_zipfile(path):  # numpy would try it as a pickle, and say so
                raise ValueError("not an .npz archive")
            with np.load(path, allow_pickle=False) as data:
                fields = {key: data[key] for key in data.files}
        except Exception as exc:  # not a zip / npz, pickled objects, truncated, ...
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise ValueError(f"cannot read {str(path)!r} as drum templates ({reason}); give an .npz written by "
                             "DrumTemplates.save or 'nmfaudio templates learn'") from None
        missing = [k for k in ("P", "classes", "sr", "n_fft", "hop_length", "window") if k not in fields]
        if missing:
            raise ValueError(f"{str(path)!r} is not a drum-template file (no {', '.join(missing)}); make one "
                             "with 'nmfaudio templates learn' or DrumTemplates.save")
        frames = np.shape(fields["P"])[-1] if np.ndim(fields["P"]) else 0
        try:
            _check_template_length(frames, int(fields["hop_length"]), int(fields["sr"]))
        except (ValueError, TypeError, OverflowError, ZeroDivisionError):
            raise ValueError(f"{str(path)!r} holds unusable drum templates: {frames} frames of hop "
                             f"{fields['hop_length']} at {fields['sr']} Hz are not 0 to {MAX_TEMPLATE_SECONDS:g} s "
                             "long (drum templates are about 0.2 s); make them again with "
                             "'nmfaudio templates learn'") from None
        version = int(fields["format_version"]) if "format_version" in fields else 1
        if version > _FORMAT_VERSION:
            raise ValueError(f"{str(path)!r} has template format {version}; this nmfaudio reads up to "
                             f"{_FORMAT_VERSION}: upgrade nmfaudio")
        try:
            return cls(P=fields["P"], classes=tuple(str(c) for c in fields["classes"]), sr=int(fields["sr"]),
                       n_fft=int(fields["n_fft"]), hop_length=int(fields["hop_length"]),
                       window=str(fields["window"]), n_shots=tuple(int(n) for n in fields.get("n_shots", ())),
                       source=str(fields.get("source", str(path))), high_band_db=fields.get("high_band_db"))
        except (ValueError, TypeError, OverflowError) as exc:
            # The fields' own checks name them as arguments ("classes=(...) must name each of
            # the 3 templates once", "hop_length=512 must be <= n_fft=100"), which the command
            # line turned into options nobody typed (--classes, --n-fft), naming no file; a
            # 0-d field was numpy's bare "iteration over a 0-d array" (review62a)
            reason = " ".join(str(exc).replace("=", " ").split()) or type(exc).__name__
            if "0-d array" in reason:
                reason = "a field that holds one entry per template is a single value"
            raise ValueError(f"{str(path)!r} holds unusable drum templates ({reason}); make them again with "
                             "'nmfaudio templates learn'") from None

    # -- conversion -------------------------------------------------------------------
    def select(self, classes) -> "DrumTemplates":
        """The templates of ``classes`` only (in that order): a class name selects all
        its parts (``"toms"`` → ``"toms:low"``, ``"toms:mid"``, ...), a label one template."""
        classes = _check_classes(classes)
        unknown = [c for c in classes if c not in self.classes and c not in self.stems]
        if unknown:
            raise ValueError(f"classes={classes!r}: no template for {', '.join(map(repr, unknown))}; these templates "
                             f"have {', '.join(self.stems)}")
        index = []
        for c in classes:
            index += [k for k, label in enumerate(self.classes)
                      if (label == c or class_of(label) == c) and k not in index]
        P = self.P[:, index]
        used = np.flatnonzero(P.sum(axis=(0, 1)) > 0)
        P = P[:, :, :used[-1] + 1] if used.size else P  # drop frames that are zero in every selected template
        return DrumTemplates(P, tuple(self.classes[i] for i in index), self.sr, self.n_fft, self.hop_length,
                             self.window, tuple(self.n_shots[i] for i in index), self.source,
                             None if self.high_band_db is None else self.high_band_db[index])

    def convert(self, *, sr=None, n_fft=None, hop_length=None, window=spectrum.WINDOW,
                high_band=False) -> "DrumTemplates":
        """The templates for other STFT parameters.

        A template is a magnitude spectrum sampled at frequencies ``i · sr / n_fft`` and
        times ``τ · hop_length / sr``; conversion interpolates it linearly (in frequency
        and in time) onto the new grid, keeping its length in seconds.  Above the
        templates' own Nyquist frequency (a 44.1 kHz recording with templates made at
        22.05 kHz) each template holds its level at the top 5 % of its band, so the
        highest octave still goes to the drum that is bright there (the hi-hat).  With
        ``high_band=True``, the templates with a measured :attr:`high_band_db` get that
        band instead, flat per frame at the measured level (drum recordings:
        docs/drums-five-stems.md).  The window must be the same: templates from another
        window raise ValueError.

        Parameters
        ----------
        sr : int, optional
            The new sampling rate (Hz); default the templates' own.
        n_fft, hop_length : int, optional
            The new STFT size and hop (samples).  Default: what :func:`separate_drums` uses
            at ``sr`` (:func:`nmfaudio.spectrum.frames_for_rate`: 2048 / 512 at 22.05 kHz,
            4096 / 1024 at 44.1 kHz, 4464 / 1116 at 48 kHz); only ``n_fft`` given: ``hop_length = n_fft // 4``.
            None of ``sr``, ``n_fft``, ``hop_length`` given: the templates' own (``self``).
        window : str, default "hann"
            Must be the templates' own window.
        high_band : bool, default False
            Above the templates' rate, fill the measured band (:attr:`high_band_db`)
            instead of holding the top level; nothing changes for templates without a
            measurement or at a rate not above theirs.

        Returns
        -------
        DrumTemplates
            ``self`` when nothing changes.  Shape of ``P``: (1 + n_fft // 2, n_templates,
            n_frames at the new hop).  At another rate it carries no
            :attr:`high_band_db`: the band above the templates' Nyquist frequency is
            decided here, and a second conversion must not fill part of it again.
        """
        # sr alone was a TypeError naming n_fft and hop_length (before 2026-12-06, polish15)
        if sr is None and n_fft is None and hop_length is None:
            n_fft, hop_length = self.n_fft, self.hop_length
        sr = self.sr if sr is None else audio.check_sr(sr)
        n_fft, hop_length = spectrum.check_frames(*spectrum.frames_or_defaults(n_fft, hop_length, sr), window)
        if window != self.window:
            raise ValueError(f"the templates were made with window={self.window!r}, not {window!r}; learn them "
                             f"again with window={window!r} (or use window={self.window!r})")
        if (sr, n_fft, hop_length) == (self.sr, self.n_fft, self.hop_length):
            return self
        old_f = np.arange(self.P.shape[0]) * (self.sr / self.n_fft)
        new_f = np.arange(1 + n_fft // 2) * (sr / n_fft)
        top = max(1, int(round(0.05 * self.P.shape[0])))
        held = self.P[-top:].mean(axis=0)  # (K, T)
        P = np.empty((new_f.size, self.P.shape[1], self.P.shape[2]), dtype=np.float64)
        for k in range(self.P.shape[1]):
            for t in range(self.P.shape[2]):
                P[:, k, t] = np.interp(new_f, old_f, self.P[:, k, t], right=held[k, t])
        seconds = self.n_frames * self.hop_length / self.sr
        n_new = max(1, int(round(seconds * sr / hop_length)))
        if n_new != self.n_frames:
            old_t = np.arange(self.n_frames) * (self.hop_length / self.sr)
            new_t = np.arange(n_new) * (hop_length / sr)
            Q = np.empty((P.shape[0], P.shape[1], n_new))
            for k in range(P.shape[1]):
                for i in range(P.shape[0]):
                    Q[i, k] = np.interp(new_t, old_t, P[i, k], right=0.0)
            P = Q
        if high_band and self.high_band_db is not None and sr > self.sr:
            _fill_high_band(P, new_f, self.sr / 2, self.high_band_db)
        # the measurement describes the band above this rate's Nyquist frequency: at
        # another rate that band is held or filled above, so it goes (a 44.1-kHz conversion
        # used at 48 kHz filled 22.05-24 kHz at the measured level over held 11-22 kHz)
        return DrumTemplates(P, self.classes, sr, n_fft, hop_length, window, self.n_shots,
                             f"{self.source} (converted from sr={self.sr}, n_fft={self.n_fft}, "
                             f"hop_length={self.hop_length})", self.high_band_db if sr == self.sr else None)


def default_templates() -> DrumTemplates:
    """The bundled templates (kick, snare, hi-hat from five FluidR3 GM kits; see
    ``data/make_default_templates.py``): a new object each call (its own copy of P)."""
    return _bundled(DEFAULT_TEMPLATES_PATH)


def electronic_snare() -> DrumTemplates:
    """The drum machines' snare template (one ``"snare"`` template, ``P`` of shape
    (n_freq, 1, n_frames) at the file's STFT; see :data:`ELECTRONIC_SNARE_PATH`): a new
    object each call (its own copy of P)."""
    return _bundled(ELECTRONIC_SNARE_PATH)


def _bundled(path: Path) -> DrumTemplates:
    """A bundled templates file, read once per version (:func:`_load_once`), as a new
    object with its own copy of P (callers may change it)."""
    stat = os.stat(path)
    kit = _load_once(str(path), stat.st_mtime_ns, stat.st_size)
    return dataclasses.replace(kit, P=kit.P.copy())


@functools.lru_cache(maxsize=4)
def _load_once(path: str, mtime_ns: int, size: int) -> DrumTemplates:
    """The file read once per version (reading and decompressing it took ~8 % of a call
    on an 8-s clip); mtime and size in the key: a rewritten file is read again."""
    return DrumTemplates.load(path)



def _stacked_ratios(first, second):
    """``first``'s and ``second``'s :attr:`~DrumTemplates.high_band_db` stacked (NaN for
    the templates of one without), or None when neither has any."""
    if first.high_band_db is None and second.high_band_db is None:
        return None
    return np.concatenate([np.full((len(t.classes), 2), np.nan) if t.high_band_db is None else t.high_band_db
                           for t in (first, second)])


def _load_shot(path: Path, sr: int) -> np.ndarray:
    """A one-shot file as mono samples at ``sr``: its channels' mean, with a channel of
    opposite polarity (L = -R: a miswired microphone, a bad M/S decode) turned back
    first (:func:`nmfaudio.drums.track_reads.polarity_signs`), or the mean cancels and the
    template is learned from the rounding noise left.  Read once; in-phase files give
    ``audio.load(path, sr=sr, mono=True)``'s samples (the same mean, then the same resampler)."""
    y, file_sr = audio.load(path)  # at the file's rate: (n_samples,), or (n_channels, n_samples)
    if y.ndim == 2:
        from nmfaudio.drums.track_reads import polarity_signs

        signs = polarity_signs(y)
        y = (y if signs is None else signs[:, None] * y).mean(axis=0, dtype=np.float32)
    if file_sr != sr:
        import librosa

        y = librosa.resample(y, orig_sr=file_sr, target_sr=sr, res_type=audio.RES_TYPE).astype(np.float32, copy=False)
    return y


#: The fix :func:`nmfaudio.audio.reading` names for a file it cannot read (an input given).
_GIVE_AUDIO = "; give a WAV, FLAC, OGG or MP3 file"


def _read_shot(path: Path, sr: int, sub: Path) -> np.ndarray:
    """:func:`_load_shot`, a file it cannot read named as a one-shot of ``sub`` to remove or
    export again: "give a WAV, FLAC, OGG or MP3 file" was an input's fix, and a kit's
    corrupt or mislabelled file was not given by the user one by one (kitprobe67)."""
    try:
        return _load_shot(path, sr)
    except ValueError as exc:
        text = str(exc)
        if not (text.startswith("cannot read ") and text.endswith(_GIVE_AUDIO)):
            raise
        raise ValueError(f"cannot read one-shot {text[len('cannot read '):-len(_GIVE_AUDIO)]}; remove it from {str(sub)!r}, or "
                         "export it again as WAV, FLAC, OGG or MP3") from None


def _nested_shots(sub: Path, name: str) -> str:
    """The words to add when a class folder holds its one-shots in sub-folders (a sample
    pack's ``kick/soft/``, ``kick/hard/``), which are not read: "holds no audio files" alone
    sent the user looking for files that are there (tour16).  Empty when there are none."""
    counts = _nested_counts(sub)
    if not counts:
        return ""
    return (f" itself, only in its sub-folders ({_listed(counts)}), which are not read (one template per class folder, "
            f"from the files directly in it); move the {name} one-shots to learn from into {str(sub)!r}")


def _listed(counts: dict) -> str:
    """``"soft/: 3, hard/: 2"``: :func:`_nested_counts`' sub-folders and their files."""
    return ", ".join(f"{name}/: {n}" for name, n in counts.items())


def _unread_folders(folder: Path, classes=()) -> list:
    """[(name, audio files at any depth)] of the sub-folders of the kit ``folder`` that hold
    audio but are no class folder (``cowbell/``, ``claps/``; hidden ones skipped), nor the
    very folder of one of ``classes`` under another name (``Kick/`` where a case-insensitive
    file system reads it as ``kick/``, or the target of a link ``kick -> Kick``: read)."""
    read = []
    for name in classes:
        try:
            read.append(os.stat(folder / name))
        except OSError:  # pragma: no cover - removed meanwhile: the read below says so
            pass

    def is_read(name):
        try:
            found = os.stat(folder / name)
        except OSError:  # pragma: no cover - removed meanwhile
            return False
        return any(os.path.samestat(found, other) for other in read)

    # the class folders are left out before their files are counted (a sample pack's kick/
    # may hold thousands, walked again when the class is read)
    return list(_nested_counts(folder, skip=lambda name: name in KNOWN_CLASSES or is_read(name)).items())


def _nested_counts(sub: Path, skip=None) -> dict:
    """{sub-folder name: its audio files, at any depth} for the sub-folders of the class
    folder ``sub`` that hold audio (hidden ones skipped, and those whose name ``skip`` is
    true of)."""
    counts = {}
    for folder in sorted(p for p in sub.iterdir() if p.is_dir() and not p.name.startswith(".")
                         and (skip is None or not skip(p.name))):
        n = sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
                and p.suffix.lower() in AUDIO_EXTENSIONS)
        if n:
            counts[folder.name] = n
    return counts




def _check_folder_case(folder: Path, *, learn: bool = False) -> None:
    """Refuse sub-folders of ``folder`` named like a class in another case (``Kick/``,
    ``HiHat/``, as sample packs name them) when the class's own folder is absent: the
    classes are read from lower-case folders only, and these were skipped without a word.
    The other way out named: reading them by name, ``classes=`` of :meth:`DrumTemplates.from_folder`
    — or, with ``learn`` (the kit given as templates, where no classes can be given),
    learning them by name with ``nmfaudio templates learn --classes``."""
    other_case = sorted(sub.name for sub in folder.iterdir()
                        if sub.is_dir() and sub.name != sub.name.lower() and sub.name.lower() in KNOWN_CLASSES
                        and not (folder / sub.name.lower()).is_dir())
    if other_case:
        renames = ", ".join(f"{name} -> {name.lower()}" for name in other_case)
        named = _kit_folders(folder, with_shots=True)
        # 'drums --templates Kit' (and separate_drums(templates=...)) read the folder with no
        # classes to give: "--classes Kick,..." there picks the stems written (kitprobe67)
        by_name = (f"learn the templates from them by name: nmfaudio templates learn {str(folder)!r} -o kit.npz "
                   f"--classes {','.join(named)} (DrumTemplates.from_folder with those classes in Python), then "
                   "give kit.npz" if learn else f"read them by name: classes={named!r}")
        raise ValueError(f"one-shot folder {str(folder)!r} has {', '.join(map(repr, other_case))}: class folders are "
                         f"lower-case ({', '.join(KNOWN_CLASSES)}); rename {renames}, or keep the names and {by_name}")


def _kit_folders(folder: Path, *, with_shots: bool = False) -> tuple:
    """The class folders of ``folder`` as they are named (``Kick``, ``snare``), in the order of
    :data:`KNOWN_CLASSES`: what ``classes=`` reads them by (``with_shots``: only those holding
    audio files themselves, as a class folder is read; an empty ``other/`` left out)."""
    def holds_shots(sub):
        return any(p.is_file() and not p.name.startswith(".") and p.suffix.lower() in AUDIO_EXTENSIONS
                   for p in sub.iterdir())

    names = sorted(sub.name for sub in folder.iterdir() if sub.is_dir() and drum_label(sub.name) in KNOWN_CLASSES
                   and (not with_shots or holds_shots(sub)))
    return tuple(sorted(names, key=lambda name: KNOWN_CLASSES.index(drum_label(name))))


def _check_classes(classes):
    if isinstance(classes, str):
        classes = (classes,)
    try:
        classes = tuple(classes)
    except TypeError:
        raise TypeError(f"classes={classes!r} must be a sequence of names like ('kick', 'snare', 'hihat')") from None
    if not classes or not all(isinstance(c, str) and c and os.sep not in c for c in classes):
        raise ValueError(f"classes={classes!r} must be non-empty names like ('kick', 'snare', 'hihat')")
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes={classes!r} names a drum twice; name each once")
    _check_not_residual(classes, "classes")
    return classes


def _check_not_residual(labels, name):
    """Refuse a class named :data:`RESIDUAL` (``labels``: class names or template labels)."""
    if any(class_of(label) == RESIDUAL for label in labels):
        raise ValueError(f"{name}={tuple(labels)!r} names {RESIDUAL!r}, which is not a drum class: the residual "
                         "is always written (what the drum classes do not take); name a drum, e.g. kick")


def _shot_template(y, *, sr, n_fft, hop_length, n_frames, label):
    """The unit-sum (n_freq, n_frames) magnitude template of one one-shot."""
    y = audio.check_audio(y, label)
    if y.ndim == 2:
        y = y.mean(axis=0)
    level = np.abs(y)
    peak = float(level.max())
    if not peak > 0:
        raise ValueError(f"one-shot {label} is silent; remove it or replace it with an audible one-shot")
    start = int(np.argmax(level >= peak * 10 ** (ONSET_DB / 20)))
    length = y.size - start
    if length < MIN_SHOT_SECONDS * sr:
        # a 10-sample one-shot made a template without a word (mend62): a click's flat spectrum
        raise ValueError(f"one-shot {label} lasts {length} samples ({1000 * length / sr:.2g} ms at {sr} Hz) from its "
                         f"onset, less than {1000 * MIN_SHOT_SECONDS:g} ms: too short to make a template (it spans "
                         f"{n_frames} frames of {hop_length} samples); use the whole recorded hit, or remove the file")
    y = y[start:start + n_frames * hop_length + n_fft].astype(np.float32)
    acc = np.zeros((1 + n_fft // 2, n_frames), dtype=np.float64)
    for quarter in _ONSET_OFFSETS:
        shifted = np.concatenate([np.zeros(quarter * hop_length // 4, np.float32), y])
        S = np.abs(spectrum.stft(shifted, n_fft=n_fft, hop_length=hop_length))[:, :n_frames]
        if S.shape[1] < n_frames:
            S = np.pad(S, ((0, 0), (0, n_frames - S.shape[1])))
        acc += S / S.sum(dtype=np.float64)
    return acc / len(_ONSET_OFFSETS)


FOLDER_SR = 22050  # the rate a one-shot folder is learned at unless folder_rate says otherwise


def folder_rate(path, sr=None) -> int:
    """The rate the one-shot folder ``path`` is learned at for a recording at ``sr`` Hz
    (None: not known): the recording's own when it is above 22.05 kHz and every one-shot
    of the kit's class folders is stored above 22.05 kHz; else 22.05 kHz (converted to the
    recording's grid, above 11.025 kHz each template holding the level of its top 5 %).

    Why (docs/log/drums-five-stems-decisions.md, kit-rate round; 44.1/48-kHz stereo
    performances of seven kits): learned at the recording's rate, the hi-hat's template
    holds its band above 11 kHz (hi-hat SDR +0.2 to +3.1 dB on six kits stored at 44.1 kHz).
    On Audiophob, whose snare one-shot is an 8-bit 22.05-kHz file, the converted snare
    template held 37 % of its weight above 11 kHz (its quantization noise's level) and took
    72 % of the hi-hat; learned at 44.1 kHz it does not, but a kit whose hi-hat one-shots
    were stored at 22.05 kHz, learned at 44.1 kHz, had an empty hi-hat band there: hi-hat
    -19 dB where the converted kit gave +1.6 to +6.9 dB.  So a kit holding a one-shot at or
    below 22.05 kHz is learned as before."""
    if sr is None or sr <= FOLDER_SR or _lowest_shot_rate(Path(path)) <= FOLDER_SR:
        return FOLDER_SR
    return int(sr)


def _lowest_shot_rate(folder: Path) -> float:
    """The lowest stored rate of the audio files in ``folder``'s class folders (those
    :meth:`DrumTemplates.from_folder` reads by default); inf if none can be read (reading
    them names every problem)."""
    import soundfile

    rates = []
    for name in KNOWN_CLASSES:
        try:
            files = [p for p in (folder / name).iterdir()
                     if p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith(".")]
        except OSError:  # no such class folder, or a broken link: from_folder names it
            continue
        for file in files:
            try:
                rates.append(soundfile.info(str(file)).samplerate)
            except Exception:  # unreadable by libsndfile (an MP3 on an old one, a bad file): named when read
                continue
    return min(rates, default=float("inf"))


def read_templates(path, *, sr=None) -> DrumTemplates:
    """The templates of a one-shot folder (:meth:`DrumTemplates.from_folder`) or of an
    ``.npz`` (:meth:`DrumTemplates.load`) at ``path``: what ``templates=`` and ``nmfaudio
    drums --templates`` take, with one wording for a path that is not there.

    Parameters
    ----------
    path : str or os.PathLike
    sr : int, optional
        The recording's rate: a folder is learned at :func:`folder_rate` with
        :func:`nmfaudio.spectrum.frames_for_rate`'s frames (4096 / 1024 at 44.1 kHz,
        4464 / 1116 at 48 kHz: the durations of 2048 / 512 at 22.05 kHz).  An ``.npz`` stays as learned.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist (a symbolic link whose target is gone: named with it).
    """
    path = Path(path)
    if path.is_dir():
        _check_folder_case(path, learn=True)
        rate = folder_rate(path, sr)
        n_fft, hop_length = spectrum.frames_for_rate(rate)
        return DrumTemplates.from_folder(path, sr=rate, n_fft=n_fft, hop_length=hop_length)
    if audio.is_broken_link(path):
        raise audio.not_found(path)
    if not path.exists():
        raise FileNotFoundError(f"templates={str(path)!r} does not exist; give a one-shot folder or a .npz file")
    if path.suffix.lower() in AUDIO_EXTENSIONS:
        # a one-shot given for the kit: "cannot read ... as drum templates (not an .npz
        # archive)" did not say what to give instead (kitprobe67)
        kit = path.parent.parent if drum_label(path.parent.name) in KNOWN_CLASSES else path.parent
        here = f", here {str(kit)!r}" if _kit_folders(kit) else ""
        raise ValueError(f"templates={str(path)!r} is a {path.suffix.lower()} file (a one-shot?), not drum templates; "
                         "give the kit "
                         f"folder that holds the class folders kick/, snare/, ...{here}, or a .npz made by "
                         "'nmfaudio templates learn'")
    return DrumTemplates.load(path)


def _resolve_templates(templates, sr=None):
    """The templates to model with: ``templates`` (None: the bundled ones; a folder, learned
    for a recording at ``sr`` Hz (:func:`read_templates`), an ``.npz`` or a
    :class:`DrumTemplates`) completed with the bundled templates of every class they lack.
    Returns (templates, the classes taken from the bundled ones)."""
    if templates is None:
        kit = default_templates()
    elif isinstance(templates, DrumTemplates):
        kit = templates
    elif isinstance(templates, (str, os.PathLike)):
        kit = read_templates(templates, sr=sr)
    else:
        raise TypeError(f"templates={templates!r} must be None, a DrumTemplates, a one-shot folder or a .npz path")
    if templates is None:
        return kit, ()
    fallback = default_templates()
    missing = tuple(c for c in fallback.stems if c not in kit.stems)
    return kit.completed(fallback), missing
