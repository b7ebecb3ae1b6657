"""Drum separation: kick, snare and hi-hat stems (and a residual) from one recording.

Method (chosen by measurement on ``benchmarks/drums.py``: mixtures of a recorded kit the
templates never saw; numbers in the README):

1. **Templates** (:class:`DrumTemplates`): one convolutive template per drum, a short
   magnitude spectrogram (``n_freq × n_frames``; 8 frames ≈ 0.19 s at 22.05 kHz, hop 512)
   averaged over one-shot samples of that drum.  The bundled default is learned from
   five acoustic kits of the FluidR3 GM SoundFont.
2. **Semi-supervised NMFD** (non-negative matrix factor deconvolution, Smaragdis 2004):
   the magnitude spectrogram is modelled as ``V ≈ Σ_k Σ_τ P[:, k, τ] H[k, t − τ]``
   under the Kullback-Leibler divergence, fitted with multiplicative updates.  The
   templates start from the one-shot templates and *adapt* to the recording, within two
   limits that keep each one the same drum:

   * *support*: template entries more than ``support_db`` (50 dB) below the template's
     peak start at zero, and multiplicative updates keep zeros at zero;
   * *gain cap*: no entry of a (unit-sum) template may grow more than ``max_gain_db``
     (20 dB) above its start.

   Measured: adapting beats the same templates kept fixed by 1.8-5.3 dB mean SDR
   (depending on how well the one-shots match the recorded kit), and 8-frame
   templates beat single spectra (NMF) by ~0.5 dB on snare; adapting without the two
   limits loses 0.3-1.5 dB, and several templates per drum drift between drums
   (3 dB or more lost).
3. **Speed**: the fit runs on a compressed frequency axis (single bins up to bin 48,
   then 1/24-octave bands: 155 bands instead of 1025 at n_fft 2048), about 3× faster
   than on every bin at the same quality; the full-resolution templates are the starting
   templates reshaped by the fitted band envelopes.
4. **Residual** (``n_free``, default 1): after the drum fit, free NMF components are
   fitted to what the drums leave unexplained, then refined against the spectrogram with
   the drum model frozen; their share is the residual (toms, cymbals, other
   instruments).  Measured with the default templates: no loss on
   kick/snare/hi-hat-only mixtures, +1.6 dB when toms and crash cymbals are added.
5. **Masks**: each source's modelled spectrogram ``S_k`` gives the soft mask
   ``S_k^p / Σ_j S_j^p`` (``mask_power`` p = 1.5 by default, between the ratio mask and
   the Wiener-like mask; +0.3 dB over p = 1), applied to the mixture's complex STFT, so
   the sources add up to the mixture.

Multichannel audio: one set of templates for all channels, one activation row per drum
and channel (as :func:`nmfaudio.separate` does), masks applied per channel.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nmfaudio import audio, masks, spectrum
from nmfaudio.nmf import convolutive, kernels

__all__ = ["DrumTemplates", "DrumSeparation", "separate_drums", "default_templates",
           "DEFAULT_TEMPLATES_PATH", "CLASSES"]

#: The drums separated by default, and the sub-folder names of a one-shot folder.
CLASSES = ("kick", "snare", "hihat")

#: The bundled templates (learned by ``data/make_default_templates.py``).
DEFAULT_TEMPLATES_PATH = Path(__file__).resolve().parent / "data" / "default_drum_templates.npz"

#: Template length in frames when learning from one-shots (at hop 512 / 22.05 kHz: 0.19 s).
TEMPLATE_FRAMES = 8

#: Sub-hop onset offsets (in quarters of the hop) averaged when learning a template, so
#: the template does not depend on where an onset falls within a frame.
_ONSET_OFFSETS = (0, 1, 2, 3)

#: A one-shot starts at its first sample within this many dB of its peak.
ONSET_DB = -40.0

#: File extensions read from one-shot folders (others, like README.txt, are skipped).
AUDIO_EXTENSIONS = {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc",
                    ".au", ".snd", ".caf", ".w64", ".rf64"}

#: Frequency bins kept single before the 1/24-octave bands start (see _band_edges).
BAND_LINEAR_BINS = 48
BANDS_PER_OCTAVE = 24

_FORMAT_VERSION = 1


# --------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------
@dataclass
class DrumTemplates:
    """One convolutive spectral template per drum class, with its STFT parameters.

    Attributes
    ----------
    P : ndarray of float32, shape (n_freq, n_classes, n_frames)
        ``P[:, k, τ]`` is the magnitude spectrum of drum ``k`` ``τ`` frames after its
        onset; each template (``P[:, k, :]``) sums to 1.
    classes : tuple of str
        Drum names, in the order of ``P``'s second axis.
    sr : int
        Sampling rate the templates were computed at.
    n_fft, hop_length : int
    window : str
    n_shots : tuple of int
        One-shot files each template was averaged over (provenance; 0 if unknown).
    source : str
        Where the templates came from.
    """

    P: np.ndarray
    classes: tuple
    sr: int
    n_fft: int = spectrum.N_FFT
    hop_length: int = spectrum.HOP_LENGTH
    window: str = spectrum.WINDOW
    n_shots: tuple = ()
    source: str = ""

    def __post_init__(self):
        P = np.asarray(self.P)
        if P.ndim != 3:
            raise ValueError(f"P has shape {P.shape}; drum templates must be (n_freq, n_classes, n_frames)")
        if P.dtype.kind not in "iuf" or not np.all(np.isfinite(P)) or (P.size and P.min() < 0):
            raise ValueError("P must hold finite non-negative numbers (magnitude spectra)")
        self.classes = tuple(str(c) for c in self.classes)
        if len(self.classes) != P.shape[1] or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes={self.classes!r} must name each of the {P.shape[1]} templates once")
        self.sr = audio.check_sr(self.sr)
        self.n_fft, self.hop_length = spectrum.check_frames(self.n_fft, self.hop_length, self.window)
        if P.shape[0] != 1 + self.n_fft // 2:
            raise ValueError(f"P has {P.shape[0]} frequency bins but n_fft={self.n_fft} needs {1 + self.n_fft // 2}")
        sums = P.sum(axis=(0, 2), dtype=np.float64)
        if np.any(sums <= 0):
            empty = [c for c, s in zip(self.classes, sums) if s <= 0]
            raise ValueError(f"the templates of {empty} are all zeros; learn them from audible one-shots")
        self.P = (P / sums[None, :, None]).astype(np.float32)
        self.n_shots = tuple(int(n) for n in self.n_shots) if self.n_shots else (0,) * P.shape[1]

    @property
    def n_frames(self) -> int:
        """Template length in STFT frames."""
        return self.P.shape[2]

    def __repr__(self) -> str:
        return (f"DrumTemplates(classes={self.classes}, sr={self.sr}, n_fft={self.n_fft}, "
                f"hop_length={self.hop_length}, n_frames={self.n_frames}, n_shots={self.n_shots})")

    # -- learning ---------------------------------------------------------------------
    @classmethod
    def from_one_shots(cls, one_shots, sr, *, n_fft=spectrum.N_FFT, hop_length=spectrum.HOP_LENGTH,
                       n_frames=TEMPLATE_FRAMES, source="arrays"):
        """Learn templates from one-shot recordings given as arrays.

        Parameters
        ----------
        one_shots : dict {class name: list of ndarray (n_samples,) or (n_channels, n_samples)}
            One-shots at ``sr`` (multichannel ones are averaged to mono).
        sr : int
        n_fft, hop_length : int, default 2048, 512
        n_frames : int, default 8
            Template length in frames.

        Returns
        -------
        DrumTemplates
        """
        if not isinstance(one_shots, dict) or not one_shots:
            raise ValueError("one_shots must be a non-empty dict {class name: list of arrays}")
        labelled = {}
        for name, shots in one_shots.items():
            shots = list(shots)
            if not shots:
                raise ValueError(f"one_shots[{name!r}] is empty; give at least one recording per drum")
            labelled[name] = [(f"one_shots[{name!r}][{i}]", y) for i, y in enumerate(shots)]
        return cls._learn(labelled, sr, n_fft=n_fft, hop_length=hop_length, n_frames=n_frames, source=source)

    @classmethod
    def _learn(cls, labelled, sr, *, n_fft, hop_length, n_frames, source):
        """``labelled``: {class: [(label for messages, samples), ...]}."""
        sr = audio.check_sr(sr)
        n_fft, hop_length = spectrum.check_frames(n_fft, hop_length)
        n_frames = _check_int(n_frames, "n_frames", 1)
        P, counts = [], []
        for name, shots in labelled.items():
            acc = np.zeros((1 + n_fft // 2, n_frames), dtype=np.float64)
            for label, y in shots:
                acc += _shot_template(y, n_fft=n_fft, hop_length=hop_length, n_frames=n_frames, label=label)
            P.append(acc / len(shots))
            counts.append(len(shots))
        return cls(np.stack(P, axis=1), tuple(labelled), sr, n_fft, hop_length, spectrum.WINDOW,
                   tuple(counts), source)

    @classmethod
    def from_folder(cls, path, *, classes=CLASSES, sr=22050, n_fft=spectrum.N_FFT,
                    hop_length=spectrum.HOP_LENGTH, n_frames=TEMPLATE_FRAMES):
        """Learn templates from a folder of one-shots: ``path/kick/*.wav``, ``path/snare/…``,
        ``path/hihat/…`` (the layout libnmfd uses).

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
        classes : sequence of str, default ("kick", "snare", "hihat")
        sr : int, default 22050
        n_fft, hop_length : int, default 2048, 512
        n_frames : int, default 8

        Returns
        -------
        DrumTemplates

        Raises
        ------
        ValueError
            ``path`` or a class folder is missing, a class folder has no audio file, or a
            file is silent or unreadable (the message names the folder or file).
        """
        folder = Path(path)
        classes = _check_classes(classes)
        if not folder.is_dir():
            raise ValueError(f"one-shot folder {str(folder)!r} does not exist (or is not a folder); give a folder "
                             f"with sub-folders {', '.join(classes)}")
        sr = audio.check_sr(sr)
        labelled = {}
        for name in classes:
            sub = folder / name
            if not sub.is_dir():
                raise ValueError(f"class folder {str(sub)!r} is missing; put {name} one-shots (WAV, FLAC, ...) "
                                 f"in {str(sub)!r}")
            files = sorted(p for p in sub.iterdir()
                           if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in AUDIO_EXTENSIONS)
            if not files:
                raise ValueError(f"class folder {str(sub)!r} holds no audio files; add {name} one-shots "
                                 "(WAV, FLAC, OGG, MP3, AIFF)")
            labelled[name] = [(repr(str(p)), audio.load(p, sr=sr, mono=True)[0]) for p in files]
        return cls._learn(labelled, sr, n_fft=n_fft, hop_length=hop_length, n_frames=n_frames, source=str(folder))

    # -- files ------------------------------------------------------------------------
    def save(self, path, *, overwrite=False) -> Path:
        """Write the templates to an ``.npz`` file (atomically) with their sr, n_fft,
        hop_length and window.

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
        if path.suffix.lower() != ".npz":
            raise ValueError(f"path={str(path)!r} must end in .npz")
        if not path.parent.is_dir():
            raise FileNotFoundError(f"folder {str(path.parent)!r} does not exist; create it first")
        with audio.atomic_outputs([path], overwrite=overwrite) as (temporary,):
            with open(temporary, "wb") as handle:
                np.savez_compressed(
                    handle, P=self.P, classes=np.array(self.classes), sr=self.sr, n_fft=self.n_fft,
                    hop_length=self.hop_length, window=np.array(self.window), n_shots=np.array(self.n_shots),
                    source=np.array(self.source), format_version=_FORMAT_VERSION)
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
        if not path.is_file():
            raise FileNotFoundError(f"drum templates {str(path)!r} do not exist; check the path")
        try:
            with np.load(path, allow_pickle=False) as data:
                fields = {key: data[key] for key in data.files}
        except Exception as exc:  # not a zip / npz, pickled objects, truncated, ...
            reason = " ".join(str(exc).split()[:12]) or type(exc).__name__
            raise ValueError(f"cannot read {str(path)!r} as drum templates ({reason}); give an .npz written by "
                             "DrumTemplates.save or 'nmfaudio templates learn'") from None
        missing = [k for k in ("P", "classes", "sr", "n_fft", "hop_length", "window") if k not in fields]
        if missing:
            raise ValueError(f"{str(path)!r} is not a drum-template file (no {', '.join(missing)}); make one "
                             "with 'nmfaudio templates learn' or DrumTemplates.save")
        version = int(fields["format_version"]) if "format_version" in fields else 1
        if version > _FORMAT_VERSION:
            raise ValueError(f"{str(path)!r} has template format {version}; this nmfaudio reads up to "
                             f"{_FORMAT_VERSION}: upgrade nmfaudio")
        return cls(P=fields["P"], classes=tuple(str(c) for c in fields["classes"]), sr=int(fields["sr"]),
                   n_fft=int(fields["n_fft"]), hop_length=int(fields["hop_length"]), window=str(fields["window"]),
                   n_shots=tuple(int(n) for n in fields.get("n_shots", ())),
                   source=str(fields.get("source", str(path))))

    # -- conversion -------------------------------------------------------------------
    def select(self, classes) -> "DrumTemplates":
        """The templates of ``classes`` only (in that order)."""
        classes = _check_classes(classes)
        unknown = [c for c in classes if c not in self.classes]
        if unknown:
            raise ValueError(f"classes={classes!r}: no template for {unknown}; these templates have {self.classes}")
        index = [self.classes.index(c) for c in classes]
        return DrumTemplates(self.P[:, index], classes, self.sr, self.n_fft, self.hop_length, self.window,
                             tuple(self.n_shots[i] for i in index), self.source)

    def convert(self, *, sr, n_fft, hop_length, window=spectrum.WINDOW) -> "DrumTemplates":
        """The templates for other STFT parameters.

        A template is a magnitude spectrum sampled at frequencies ``i · sr / n_fft`` and
        times ``τ · hop_length / sr``; conversion interpolates it linearly (in frequency
        and in time) onto the new grid, keeping its length in seconds.  Above the
        templates' own Nyquist frequency (a 44.1 kHz recording with templates made at
        22.05 kHz) each template holds its level at the top 5 % of its band, so the
        highest octave still goes to the drum that is bright there (the hi-hat).  The
        window must be the same: templates from another window raise ValueError.

        Returns
        -------
        DrumTemplates
            ``self`` when nothing changes.
        """
        sr = audio.check_sr(sr)
        n_fft, hop_length = spectrum.check_frames(n_fft, hop_length, window)
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
        return DrumTemplates(P, self.classes, sr, n_fft, hop_length, window, self.n_shots,
                             f"{self.source} (converted from sr={self.sr}, n_fft={self.n_fft}, "
                             f"hop_length={self.hop_length})")


def default_templates() -> DrumTemplates:
    """The bundled templates (kick, snare, hi-hat from five FluidR3 GM kits; see
    ``data/make_default_templates.py``)."""
    return DrumTemplates.load(DEFAULT_TEMPLATES_PATH)


def _check_int(value, name, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an int >= {minimum}")
    return int(value)


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
    return classes


def _shot_template(y, *, n_fft, hop_length, n_frames, label):
    """The unit-sum (n_freq, n_frames) magnitude template of one one-shot."""
    y = audio.check_audio(y, label)
    if y.ndim == 2:
        y = y.mean(axis=0)
    level = np.abs(y)
    peak = float(level.max())
    if not peak > 0:
        raise ValueError(f"one-shot {label} is silent; remove it or replace it with an audible one-shot")
    start = int(np.argmax(level >= peak * 10 ** (ONSET_DB / 20)))
    y = y[start:start + n_frames * hop_length + n_fft].astype(np.float32)
    acc = np.zeros((1 + n_fft // 2, n_frames), dtype=np.float64)
    for quarter in _ONSET_OFFSETS:
        shifted = np.concatenate([np.zeros(quarter * hop_length // 4, np.float32), y])
        S = np.abs(spectrum.stft(shifted, n_fft=n_fft, hop_length=hop_length))[:, :n_frames]
        if S.shape[1] < n_frames:
            S = np.pad(S, ((0, 0), (0, n_frames - S.shape[1])))
        acc += S / S.sum(dtype=np.float64)
    return acc / len(_ONSET_OFFSETS)


def _resolve_templates(templates, classes) -> DrumTemplates:
    if templates is None:
        return default_templates().select(classes)
    if isinstance(templates, DrumTemplates):
        return templates.select(classes)
    if isinstance(templates, (str, os.PathLike)):
        path = Path(templates)
        if path.is_dir():
            return DrumTemplates.from_folder(path, classes=classes)
        if path.suffix.lower() == ".npz" or path.is_file():
            return DrumTemplates.load(path).select(classes)
        raise FileNotFoundError(f"templates={str(path)!r} does not exist; give a one-shot folder or a .npz file")
    raise TypeError(f"templates={templates!r} must be None, a DrumTemplates, a one-shot folder or a .npz path")


# --------------------------------------------------------------------------------------
# The factorization (NMFD with KL / β multiplicative updates)
# --------------------------------------------------------------------------------------
def _band_edges(n_freq: int) -> np.ndarray:
    """Band edges (bin indices, increasing, from 0 to n_freq): single bins below
    BAND_LINEAR_BINS, then bands of 1/BANDS_PER_OCTAVE octave."""
    edges = list(range(min(BAND_LINEAR_BINS, n_freq) + 1))
    edge = edges[-1]
    while edge < n_freq:
        edge = min(n_freq, max(edge + 1, int(round(edge * 2 ** (1 / BANDS_PER_OCTAVE)))))
        edges.append(edge)
    return np.asarray(edges)


def _shift(H: np.ndarray, T: int) -> np.ndarray:
    """(K, C, N) activations → (T·K, C·N): row τ·K + k is H[k] delayed by τ frames
    (within each channel)."""
    K, C, N = H.shape
    out = np.zeros((T, K, C, N), dtype=H.dtype)
    for tau in range(min(T, N)):  # lags beyond a short clip's end stay zero
        out[tau, :, :, tau:] = H[:, :, :N - tau]
    return out.reshape(T * K, C * N)


def _unshift(G: np.ndarray, T: int, K: int, C: int, N: int) -> np.ndarray:
    """Adjoint of :func:`_shift`: (T·K, C·N) → (K, C, N), Σ_τ G[τ, :, :, t + τ]."""
    G = G.reshape(T, K, C, N)
    out = G[0].copy()
    for tau in range(1, min(T, N)):
        out[:, :, :N - tau] += G[tau, :, :, tau:]
    return out


def _weights(V, L, beta):
    """(V ⊙ L^(β−2), L^(β−1)) of the β-divergence gradient; the second is None for β = 1
    (all ones)."""
    if beta == 1:
        return V / L, None
    if beta == 0.5:
        root = np.sqrt(L)
        return V / (L * root), 1.0 / root
    if beta == 2:
        return V, L
    return V * L ** (beta - 2), L ** (beta - 1)


@dataclass
class _Fit:
    P: np.ndarray  # (F, K, T) drum templates, each summing to 1
    H: np.ndarray  # (K, C, N) drum activations
    W_free: np.ndarray  # (F, n_free)
    H_free: np.ndarray  # (n_free, C·N)
    loss: list
    n_iter: int
    stopped: bool


class _NMFD:
    """Semi-supervised NMFD under a β-divergence (0 ≤ β ≤ 2):

    ``V (F, C·N) ≈ Σ_τ W_τ shift_τ(H) + W_free H_free``, with drum templates
    ``W_τ = P[:, :, τ]`` (F, K) and activations H (K, C, N) delayed within each channel.

    Multiplicative updates (Févotte & Idier 2011, applied to the convolutive model as in
    Smaragdis 2004 and libnmfd), with the MM exponent 1/(2 − β) for β < 1.  After each
    template update every drum template is renormalized to unit sum (its scale moves into
    H) and, with ``cap``, clipped to at most ``cap`` (F, T·K) — ``max_gain`` times its
    start — then renormalized again.
    """

    def __init__(self, V, P0, H, *, beta, W_free=None, H_free=None, cap=None):
        self.F, self.C, self.N = V.shape
        _, self.K, self.T = P0.shape
        self.dtype = np.float32
        self.eps = self.dtype(max(float(V.max()), 1e-30) * 1e-9)
        self.V = V.reshape(self.F, self.C * self.N).astype(self.dtype, copy=False)
        if beta < 1:
            self.V = np.maximum(self.V, self.eps)  # Itakura-Saito-like divergences need V > 0
        self.W = np.ascontiguousarray(P0.transpose(0, 2, 1).reshape(self.F, self.T * self.K), dtype=self.dtype)
        self.H = H.astype(self.dtype)
        self.W_free, self.H_free = W_free, H_free
        self.cap = None if cap is None else cap.transpose(0, 2, 1).reshape(self.F, self.T * self.K)
        self.beta = beta
        self.gamma = 1.0 / (2.0 - beta) if beta < 1 else 1.0
        self._current_model = None  # set by loss(), used and cleared by step()
        self._eps_row = np.full((1, self.C * self.N), self.eps, dtype=self.dtype)

    def model(self, Hs=None):
        L = self.W @ (_shift(self.H, self.T) if Hs is None else Hs)
        if self.W_free is not None:
            L += self.W_free @ self.H_free
        # against a row of eps, not the scalar: NumPy's scalar-operand maximum is not
        # vectorized and took 6× longer here (0.9 vs 0.15 ms for 155 × 7750 float32)
        return np.maximum(L, self._eps_row, out=L)

    def loss(self) -> float:
        """The divergence of the current factors; their model is kept for the next step."""
        self._current_model = self.model()
        return kernels.divergence(self.V, self._current_model, self.beta)

    def forget(self) -> None:
        """Drop what :meth:`loss` prepared for the next step (after changing factors by hand)."""
        self._current_model = None

    def _take_model(self):
        """The current factors' model: the one :meth:`loss` just built, else a new one."""
        L, self._current_model = self._current_model, None
        return self.model() if L is None else L

    def _ratio(self, numerator, denominator):
        ratio = numerator / np.maximum(denominator, np.finfo(self.dtype).tiny)
        return ratio if self.gamma == 1 else ratio ** self.gamma

    def step(self, *, adapt_drums: bool, update_drums: bool = True) -> None:
        """One iteration: activations (drums if ``update_drums``, and free ones), then
        templates (drums if ``adapt_drums``, and free ones)."""
        T, K, C, N = self.T, self.K, self.C, self.N
        A, B = _weights(self.V, self._take_model(), self.beta)
        if self.W_free is not None:
            free_num = self.W_free.T @ A
            free_den = self.W_free.sum(axis=0)[:, None] if B is None else self.W_free.T @ B
        if update_drums:
            numerator = _unshift(self.W.T @ A, T, K, C, N)
            if B is None:
                ones = np.broadcast_to(self.W.sum(axis=0)[:, None], (T * K, C * N))
                denominator = _unshift(np.ascontiguousarray(ones), T, K, C, N)
            else:
                denominator = _unshift(self.W.T @ B, T, K, C, N)
            self.H *= self._ratio(numerator, denominator)
        if self.W_free is not None:
            self.H_free *= self._ratio(free_num, free_den)
        if not adapt_drums and self.W_free is None:
            return
        Hs = _shift(self.H, T)
        A, B = _weights(self.V, self.model(Hs), self.beta)
        if adapt_drums:
            denominator = Hs.sum(axis=1)[None, :] if B is None else B @ Hs.T
            self.W *= self._ratio(A @ Hs.T, denominator)
            self._renormalize()
            if self.cap is not None:
                np.minimum(self.W, self.cap, out=self.W)
                self._renormalize()
        if self.W_free is not None:
            denominator = self.H_free.sum(axis=1)[None, :] if B is None else B @ self.H_free.T
            self.W_free *= self._ratio(A @ self.H_free.T, denominator)

    def _renormalize(self) -> None:
        Wr = self.W.reshape(self.F, self.T, self.K)
        sums = Wr.sum(axis=(0, 1))
        sums = np.where(sums > 0, sums, 1).astype(self.dtype)
        Wr /= sums
        self.H *= sums[:, None, None]

    @property
    def P(self) -> np.ndarray:
        return np.ascontiguousarray(self.W.reshape(self.F, self.T, self.K).transpose(0, 2, 1))


class _CompiledKLNMFD(_NMFD):
    """:class:`_NMFD` for β = 1 with each half-step one compiled, cache-blocked pass over V
    (:mod:`nmfaudio.nmf.convolutive`): the same updates; the whole fit (with the residual's
    NumPy NMF) took 0.6 s instead of 0.8 s on a 3-minute file and 2.1 s instead of 3.2 s on
    a 10-minute one, and its memory traffic no longer grows with a dozen full-size arrays.  :meth:`loss` runs the activation half-step's pass, which yields
    the loss of the current factors and their updated activations; :meth:`step` commits
    them and runs the template pass."""

    def __init__(self, V, P0, H, **kwargs):
        super().__init__(V, P0, H, **kwargs)
        self.V = np.ascontiguousarray(self.V)
        self._prepared = None

    def forget(self) -> None:
        """Drop the pass :meth:`loss` prepared (after changing factors by hand)."""
        self._prepared = None

    def _templates(self) -> np.ndarray:
        """[W | W_free] (F, T·K + n_free)."""
        if self.W_free is None:
            return self.W
        return np.ascontiguousarray(np.hstack([self.W, self.W_free]), dtype=self.dtype)

    def _free_activations(self) -> np.ndarray:
        return self.H_free if self.H_free is not None else np.zeros((0, self.C * self.N), self.dtype)

    def _h_pass(self):
        T, K, N = self.T, self.K, self.N
        column_sums = self.W.sum(axis=0).reshape(T, K)
        denominator = np.zeros((K, N), self.dtype)  # unshift of the ones (as the NumPy step)
        for tau in range(min(T, N)):
            denominator[:, :N - tau] += column_sums[tau][:, None]
        return convolutive.h_pass(self.V, self._templates(), self.H, self._free_activations(), T, self.eps,
                                  denominator, True)

    def loss(self) -> float:
        self._prepared = self._h_pass()
        return self._prepared[0]

    def step(self, *, adapt_drums: bool, update_drums: bool = True) -> None:
        T, K = self.T, self.K
        prepared, self._prepared = self._prepared, None
        _, H_next, H_free_next = prepared if prepared is not None else self._h_pass()
        if update_drums:
            self.H = H_next
        if self.W_free is not None:
            self.H_free = H_free_next
        if not adapt_drums and self.W_free is None:
            return
        numerators = convolutive.w_pass(self.V, self._templates(), self.H, self._free_activations(), T, self.eps)
        if adapt_drums:
            # row sums of the shifted activations: lag τ drops each channel's last τ frames
            # (float64 running sums: a float32 one drifts by ~1e-5 over 10⁵ frames)
            cumulative = np.cumsum(self.H.sum(axis=1, dtype=np.float64), axis=1)  # (K, N)
            denominator = np.zeros((T, K))
            for tau in range(min(T, self.N)):
                denominator[tau] = cumulative[:, self.N - 1 - tau]
            self.W *= self._ratio(numerators[:, :T * K], denominator.reshape(1, T * K).astype(self.dtype))
            self._renormalize()
            if self.cap is not None:
                np.minimum(self.W, self.cap, out=self.W)
                self._renormalize()
        if self.W_free is not None:
            self.W_free *= self._ratio(numerators[:, T * K:], self.H_free.sum(axis=1)[None, :])


#: Iterations of the residual's NMF (on what the drums leave unexplained) and of its
#: refinement against V with the drum model frozen (``n_free > 0``).
FREE_ITER = (20, 20)


def _fit(V, P0, *, beta, max_iter, adapt, max_gain, n_free, rng, callback) -> _Fit:
    """Fit the drums, then (with ``n_free``) the residual's free components to V (F, C, N):
    an NMF of what the drum model leaves unexplained, refined against V with the drum
    model frozen — so the residual takes only what the drums do not explain."""
    F, C, N = V.shape
    K = P0.shape[1]
    H = (0.5 + rng.random((K, C, N))).astype(np.float32)
    cap = None if (max_gain is None or not adapt) else (P0 * np.float32(max_gain))
    model = _CompiledKLNMFD if (beta == 1 and kernels.HAVE_NUMBA) else _NMFD
    nmfd = model(V, P0, H, beta=beta, cap=cap)
    nmfd.H *= np.float32(nmfd.V.mean() / max(float(nmfd.model().mean()), 1e-30))
    loss = [nmfd.loss()]
    stopped = False
    for iteration in range(1, max_iter + 1):
        nmfd.step(adapt_drums=adapt)
        loss.append(nmfd.loss())
        if callback is not None and callback(iteration, loss[-1]):
            stopped = True
            break
    n_iter = len(loss) - 1
    W_free = np.zeros((F, 0), np.float32)
    H_free = np.zeros((0, C * N), np.float32)
    if n_free and not stopped:
        W_free, H_free = _residual_nmf(nmfd.V - nmfd.model(), n_free, beta=beta, n_iter=FREE_ITER[0], rng=rng)
        nmfd.W_free, nmfd.H_free = W_free, H_free
        nmfd.forget()  # the model now includes the free components
        for _ in range(FREE_ITER[1]):
            nmfd.step(adapt_drums=False, update_drums=False)
            loss.append(nmfd.loss())
            n_iter += 1
            if callback is not None and callback(n_iter, loss[-1]):
                break
    if nmfd.W_free is not None:
        W_free, H_free = nmfd.W_free, nmfd.H_free
    return _Fit(nmfd.P, nmfd.H, W_free, H_free, loss, n_iter, stopped)


def _residual_nmf(R, n_free, *, beta, n_iter, rng):
    """A KL NMF of max(R, 0): the starting free components (F, n_free), (n_free, M)."""
    R = np.maximum(R, 0).astype(np.float32)
    F, M = R.shape
    W = (0.1 + rng.random((F, n_free))).astype(np.float32)
    H = (0.1 + rng.random((n_free, M))).astype(np.float32)
    H *= np.float32(max(float(R.mean()), 1e-30) / max(float((W @ H).mean()), 1e-30))
    eps = np.float32(max(float(R.max()), 1e-30) * 1e-9)
    eps_row = np.full((1, M), eps, dtype=np.float32)  # see _NMFD.model: faster than a scalar
    for _ in range(n_iter):
        H *= (W.T @ (R / np.maximum(W @ H, eps_row))) / np.maximum(W.sum(axis=0)[:, None], eps)
        W *= ((R / np.maximum(W @ H, eps_row)) @ H.T) / np.maximum(H.sum(axis=1)[None, :], eps)
    return W, H


# --------------------------------------------------------------------------------------
# Separation
# --------------------------------------------------------------------------------------
@dataclass
class DrumSeparation:
    """The result of :func:`separate_drums`.

    Attributes
    ----------
    sources : dict {str: ndarray}
        One track per drum class plus ``"residual"``, each with the input's shape
        ((n_samples,) or (n_channels, n_samples)) and dtype; they add up to the mixture.
    activations : dict {str: ndarray}
        Per drum class, its activation over time: shape (n_frames,) for mono input,
        (n_channels, n_frames) otherwise (frame t is at ``t · hop_length / sr`` seconds).
        Peaks mark the onsets.
    templates : DrumTemplates
        The adapted templates (at full frequency resolution).
    sr : int or None
    n_fft, hop_length : int
    loss : ndarray, shape (n_iter + 1,)
        The β-divergence of the (band-compressed) fit per iteration.
    n_iter : int
    mask_power : float
    name : str
        File stem for :meth:`save` (the input file's stem, or "mixture").
    """

    sources: dict
    activations: dict
    templates: DrumTemplates
    sr: int | None
    n_fft: int
    hop_length: int
    loss: np.ndarray
    n_iter: int
    mask_power: float
    name: str = "mixture"
    beta: float = 1.0

    @property
    def classes(self) -> tuple:
        """The drum classes (without "residual")."""
        return self.templates.classes

    def file_names(self, name: str | None = None) -> list[str]:
        """``<name>_kick.wav``, ``<name>_snare.wav``, …, ``<name>_residual.wav``."""
        stem = self.name if name is None else str(name)
        if not stem or os.sep in stem or (os.altsep and os.altsep in stem):
            raise ValueError(f"name={stem!r} must be a plain file stem, without folders")
        return [f"{stem}_{source}.wav" for source in self.sources]

    def save(self, directory, *, overwrite: bool = False, name: str | None = None) -> list[Path]:
        """Write ``<name>_<source>.wav`` for every source into ``directory`` (created if
        missing): 32-bit float WAV at ``sr``, all-or-nothing (temporary files renamed
        at the end); existing files raise FileExistsError unless ``overwrite``.

        Returns
        -------
        list of pathlib.Path, in the order of ``sources``
        """
        if self.sr is None:
            raise ValueError("sr is unknown: pass sr= to separate_drums() when giving an array, then save")
        return audio.save_tracks(directory, self.file_names(name), self.sources.values(), self.sr,
                                 overwrite=overwrite)


def _check_number(value, name, *, low=None, high=None, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name}={value!r} must be a finite number")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f">= {low}" if high is None else (f"<= {high}" if low is None else f"in [{low}, {high}]")
        raise ValueError(f"{name}={value!r} must be {bounds}")
    return float(value)


def _check_beta(beta) -> float:
    from nmfaudio.nmf.divergence import beta_from_name

    value = beta_from_name(beta)
    if not 0 <= value <= 2:
        raise ValueError(f"beta={beta!r} must be between 0 (Itakura-Saito) and 2 (Frobenius) for drum separation; "
                         "the default 'kullback-leibler' (1) works best")
    return value


def separate_drums(
    y,
    sr=None,
    *,
    templates=None,
    classes=CLASSES,
    beta="kullback-leibler",
    n_fft: int = spectrum.N_FFT,
    hop_length: int = spectrum.HOP_LENGTH,
    mask_power: float = 1.5,
    max_iter: int = 70,
    adapt: bool = True,
    support_db: float | None = -50.0,
    max_gain_db: float | None = 20.0,
    n_free: int = 1,
    bands: bool = True,
    random_state=None,
    callback=None,
) -> DrumSeparation:
    """Separate a drum recording into kick, snare, hi-hat (and a residual).

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_channels, n_samples), or str / os.PathLike
        The mixture (float samples in [-1, 1]) or an audio file to :func:`nmfaudio.load`.
    sr : int, optional
        Sampling rate of ``y`` (needed for an array: the templates are in Hz).  For a
        file: resample to this rate first (default: keep the file's).
    templates : None, DrumTemplates, str or os.PathLike, optional
        ``None``: the bundled templates.  A folder of one-shots (``kick/``, ``snare/``,
        ``hihat/`` sub-folders: learned with :meth:`DrumTemplates.from_folder`), a
        ``.npz`` written by :meth:`DrumTemplates.save`, or a :class:`DrumTemplates`.
        Templates made with another sr / n_fft / hop_length are converted (see
        :meth:`DrumTemplates.convert`).
    classes : sequence of str, default ("kick", "snare", "hihat")
        Drums to separate (each needs a template).
    beta : "kullback-leibler" (1), "itakura-saito" (0), "frobenius" (2) or a float in [0, 2]
    n_fft, hop_length : int, default 2048, 512
    mask_power : float > 0, default 1.5
        Soft-mask power p: 1 ratio mask, 2 Wiener-like.
    max_iter : int >= 1, default 70
        Multiplicative-update iterations (fixed count: the result is the same on any
        machine).
    adapt : bool, default True
        Let the templates adapt to the recording (False: supervised NMFD with the
        templates fixed, the classic method, ~4 dB worse on the benchmark).
    support_db : float <= 0 or None, default -50
        Template entries this far below the template's peak start (and stay) at zero.
        None: keep every entry.
    max_gain_db : float >= 0 or None, default 20
        No template entry may grow more than this above its start.  None: no limit.
    n_free : int >= 0, default 1
        Free components for the residual (toms, cymbals, other instruments), fitted
        after the drums to what they leave unexplained, with the drum model frozen.
        0: the residual is silent (every bin goes to a drum).
    bands : bool, default True
        Fit on 1/24-octave bands (about 5× faster, same quality on the benchmark);
        False: fit every frequency bin.
    random_state : None, int or numpy.random.Generator
        Seeds the starting activations (and free components).
    callback : callable(iteration, loss) -> bool or None, optional
        Called after every iteration; returning True stops the fit early.

    Returns
    -------
    DrumSeparation
        ``.sources`` ({class: track, ..., "residual": track}, each the input's shape),
        ``.activations``, ``.templates`` (adapted), ``.save(directory)``.

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        Missing or unreadable audio or templates, bad parameters.

    Examples
    --------
    >>> import nmfaudio
    >>> result = nmfaudio.separate_drums("data/drum_loop.wav")  # doctest: +SKIP
    >>> result.save("stems")  # stems/drum_loop_kick.wav, ..._snare, ..._hihat, ..._residual  # doctest: +SKIP
    """
    classes = _check_classes(classes)
    beta_value = _check_beta(beta)
    n_fft, hop_length = spectrum.check_frames(n_fft, hop_length)
    mask_power = masks.check_mask_power(mask_power)
    if mask_power == "binary":
        raise ValueError("mask_power='binary' is not available for drums; use a number > 0 (1.5 by default)")
    max_iter = _check_int(max_iter, "max_iter", 1)
    n_free = _check_int(n_free, "n_free", 0)
    support_db = _check_number(support_db, "support_db", high=0, allow_none=True)
    max_gain_db = _check_number(max_gain_db, "max_gain_db", low=0, allow_none=True)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback={callback!r} must be callable(iteration, loss)")
    from nmfaudio.nmf.core import _as_generator

    rng = _as_generator(random_state)

    name = "mixture"
    if isinstance(y, (str, os.PathLike)):
        name = Path(y).stem or name
        y, sr = audio.load(y, sr=sr)
    else:
        y = audio.check_audio(y)
        if sr is None:
            raise ValueError("sr is required when y is an array (e.g. sr=22050): the drum templates are in Hz")
        sr = audio.check_sr(sr)
    kit = _resolve_templates(templates, classes).convert(sr=sr, n_fft=n_fft, hop_length=hop_length)

    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # small products: threads only add overhead
        return _separate(y, sr, kit, name=name, beta=beta_value, n_fft=n_fft, hop_length=hop_length,
                         mask_power=float(mask_power), max_iter=max_iter, adapt=bool(adapt), support_db=support_db,
                         max_gain_db=max_gain_db, n_free=n_free, bands=bool(bands), rng=rng, callback=callback)


def _silent_separation(y, sr, kit, *, name, beta, n_fft, hop_length, mask_power, n_frames) -> DrumSeparation:
    """The result for an all-zero recording: silent stems and activations, the templates
    unchanged, no iterations."""
    sources = {label: np.zeros_like(y) for label in kit.classes + ("residual",)}
    shape = (n_frames,) if y.ndim == 1 else (y.shape[0], n_frames)
    activations = {label: np.zeros(shape, np.float32) for label in kit.classes}
    return DrumSeparation(sources=sources, activations=activations, templates=kit, sr=sr, n_fft=n_fft,
                          hop_length=hop_length, loss=np.zeros(1), n_iter=0, mask_power=mask_power,
                          name=name, beta=beta)


def _separate(y, sr, kit, *, name, beta, n_fft, hop_length, mask_power, max_iter, adapt, support_db,
              max_gain_db, n_free, bands, rng, callback) -> DrumSeparation:
    X = spectrum.stft(y, n_fft=n_fft, hop_length=hop_length)
    X = X.reshape(-1, *X.shape[-2:])  # (C, F, N)
    C, F, N = X.shape
    magnitude = np.abs(X).transpose(1, 0, 2)  # (F, C, N)
    peak = float(magnitude.max())
    if peak == 0:  # silence: nothing to separate, every stem silent
        return _silent_separation(y, sr, kit, name=name, beta=beta, n_fft=n_fft, hop_length=hop_length,
                                  mask_power=mask_power, n_frames=N)
    scale = 1.0 / peak  # fit at unit level (KL and float32 need sane magnitudes)
    magnitude = (magnitude * np.float32(scale)).astype(np.float32)

    P0 = kit.P.astype(np.float32).copy()
    if support_db is not None:
        P0[P0 < P0.max(axis=(0, 2), keepdims=True) * np.float32(10 ** (support_db / 20))] = 0
        P0 /= P0.sum(axis=(0, 2), keepdims=True)
    K, T = P0.shape[1], P0.shape[2]
    edges = _band_edges(F) if bands else np.arange(F + 1)
    widths = np.diff(edges)
    Vb = np.add.reduceat(magnitude, edges[:-1], axis=0)  # (F_b, C, N)
    Pb0 = np.add.reduceat(P0, edges[:-1], axis=0)  # (F_b, K, T)
    max_gain = None if max_gain_db is None else 10 ** (max_gain_db / 20)
    fit = _fit(Vb, Pb0, beta=beta, max_iter=max_iter, adapt=adapt, max_gain=max_gain, n_free=n_free, rng=rng,
               callback=callback)
    # full-resolution templates: the starting fine structure, reshaped by the fitted band envelope
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = np.where(Pb0 > 0, fit.P / np.where(Pb0 > 0, Pb0, 1), 0).astype(np.float32)
    P = P0 * np.repeat(gain, widths, axis=0)
    H = fit.H  # (K, C, N)

    has_free = fit.W_free.shape[1] > 0  # False for n_free=0, or when the callback stopped the fit early
    S = np.empty((K + int(has_free), F, C * N), dtype=np.float32)
    for k in range(K):
        S[k] = P[:, k, :] @ _shift(H[k:k + 1], T)
    if has_free:
        # spread each band of the free templates over its bins like the mixture's average spectrum
        mean_spectrum = magnitude.reshape(F, C * N).mean(axis=1) + np.float32(1e-12)
        share = mean_spectrum / np.repeat(np.add.reduceat(mean_spectrum, edges[:-1]), widths)
        S[K] = (np.repeat(fit.W_free, widths, axis=0) * share[:, None]) @ fit.H_free
    M = masks.spectrogram_masks(S, power=mask_power).reshape(S.shape[0], F, C, N)

    n_samples = y.shape[-1]
    drums = np.empty((K, C, n_samples), dtype=y.dtype)
    for c in range(C):  # all drums of a channel in one inverse STFT
        drums[:, c] = spectrum.istft(M[:K, :, c] * X[c], n_fft=n_fft, hop_length=hop_length, length=n_samples)
    sources = {label: (drums[k, 0] if y.ndim == 1 else drums[k]) for k, label in enumerate(kit.classes)}
    # The masks partition the mixture and the inverse STFT is linear, so the residual's
    # track is the mixture minus the drums (to the STFT round trip's ~1e-7 of the peak):
    # one inverse STFT fewer, and the four tracks add up to the input to float rounding.
    residual = y - drums.sum(axis=0).reshape(y.shape) if has_free else np.zeros_like(y)
    sources["residual"] = residual.astype(y.dtype, copy=False)
    H_out = (H / np.float32(scale)).astype(np.float32)
    activations = {label: (H_out[k, 0] if y.ndim == 1 else H_out[k]) for k, label in enumerate(kit.classes)}
    adapted = DrumTemplates(P, kit.classes, kit.sr, kit.n_fft, kit.hop_length, kit.window, kit.n_shots,
                            f"{kit.source} (adapted to {name})")
    return DrumSeparation(sources=sources, activations=activations, templates=adapted, sr=sr, n_fft=n_fft,
                          hop_length=hop_length, loss=np.asarray(fit.loss), n_iter=fit.n_iter, mask_power=mask_power,
                          name=name, beta=beta)
