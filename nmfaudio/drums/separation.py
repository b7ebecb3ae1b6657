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
from nmfaudio.drums.model import _band_edges, _fit
from nmfaudio._validation import as_generator, check_int
from nmfaudio.drums.templates import CLASSES, DrumTemplates, _check_classes, _resolve_templates
from nmfaudio.nmf import convolutive_components

__all__ = ["DrumSeparation", "separate_drums"]

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

    # --- hits (the logic is in nmfaudio.drums.hits) ------------------------------------
    def hits(self, **options):
        """The drum hits: :func:`nmfaudio.drums.hits.detect_hits` on ``activations``,
        with the separated tracks to check and time each attack.

        Returns
        -------
        DrumHits
            ``result.hits()["snare"].times`` / ``.strengths`` / ``.velocities``;
            ``.write_midi(path)``, ``.write_csv(path)``.
        """
        from nmfaudio.drums.hits import detect_hits

        if self.sr is None:
            raise ValueError("sr is unknown: pass sr= to separate_drums() when giving an array")
        signals = {name: self.sources[name] for name in self.activations if name in self.sources}
        return detect_hits(self.activations, sr=self.sr, hop_length=self.hop_length, signals=signals, **options)

    def write_midi(self, path, *, overwrite: bool = False, **options) -> Path:
        """Write the hits as a General MIDI drum file (see :meth:`DrumHits.write_midi`);
        ``options`` go to :meth:`hits`."""
        return self.hits(**options).write_midi(path, overwrite=overwrite)

    def write_onsets(self, path, *, overwrite: bool = False, **options) -> Path:
        """Write the hits as CSV ``time_s,class,velocity,strength`` (see
        :meth:`DrumHits.write_csv`); ``options`` go to :meth:`hits`."""
        return self.hits(**options).write_csv(path, overwrite=overwrite)


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
    engine=None,
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
    engine : None, callable or scikit-learn-style transformer, optional
        The NMF that starts the residual's ``n_free`` free components (the drums
        themselves are always fitted by the engine's NMFD,
        :func:`nmfaudio.nmf.factorize_convolutive`).  It factorizes what the fitted drum
        model leaves unexplained, R = max(V − drums, 0) (n_bands × n_frames, all
        channels side by side), into ``n_free`` components, which are then refined
        against the spectrogram with the drums frozen.  As in :func:`nmfaudio.separate`:
        ``None`` uses :func:`nmfaudio.factorize` (Kullback-Leibler multiplicative
        updates, 20 iterations from a random start drawn from ``random_state``); a
        callable with its signature is called as ``engine(R, n_free,
        beta="kullback-leibler", solver="mu", W=..., H=..., max_iter=20, tol=0,
        random_state=...)`` and must return an object with ``.W`` and ``.H``; a
        transformer such as ``nmfaudio.NMF(n_components=n_free)`` or
        ``sklearn.decomposition.NMF(n_components=n_free)`` is fitted to Rᵀ (frames are
        its samples) with its own settings and initialization.  Unused with ``n_free=0``.

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
    max_iter = check_int(max_iter, "max_iter", 1)
    n_free = check_int(n_free, "n_free", 0)
    support_db = _check_number(support_db, "support_db", high=0, allow_none=True)
    max_gain_db = _check_number(max_gain_db, "max_gain_db", low=0, allow_none=True)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback={callback!r} must be callable(iteration, loss)")
    if engine is not None and not hasattr(engine, "fit_transform") and not callable(engine):
        raise TypeError(
            f"engine={engine!r} must be a callable like nmfaudio.factorize or an object with fit_transform"
        )
    declared = getattr(engine, "n_components", None) if hasattr(engine, "fit_transform") else None
    if n_free and declared is not None and declared != n_free:
        raise ValueError(f"n_free={n_free} but the engine {type(engine).__name__} has n_components={declared}; "
                         "make them equal")
    rng = as_generator(random_state)

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
                         max_gain_db=max_gain_db, n_free=n_free, bands=bool(bands), engine=engine, rng=rng,
                         callback=callback)


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
              max_gain_db, n_free, bands, engine, rng, callback) -> DrumSeparation:
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
    K = P0.shape[1]
    edges = _band_edges(F) if bands else np.arange(F + 1)
    widths = np.diff(edges)
    Vb = np.add.reduceat(magnitude, edges[:-1], axis=0)  # (F_b, C, N)
    Pb0 = np.add.reduceat(P0, edges[:-1], axis=0)  # (F_b, K, T)
    max_gain = None if max_gain_db is None else 10 ** (max_gain_db / 20)
    fit = _fit(Vb, Pb0, beta=beta, max_iter=max_iter, adapt=adapt, max_gain=max_gain, n_free=n_free,
               engine=engine, rng=rng, callback=callback)
    # full-resolution templates: the starting fine structure, reshaped by the fitted band envelope
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = np.where(Pb0 > 0, fit.P / np.where(Pb0 > 0, Pb0, 1), 0).astype(np.float32)
    P = P0 * np.repeat(gain, widths, axis=0)
    H = fit.H  # (K, C, N)

    has_free = fit.W_free.shape[1] > 0  # False for n_free=0, or when the callback stopped the fit early
    S = np.empty((K + int(has_free), F, C * N), dtype=np.float32)
    convolutive_components(P, H, out=S[:K].reshape(K, F, C, N))
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
