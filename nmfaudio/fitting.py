"""What :func:`nmfaudio.separate` and its block-wise form (:mod:`nmfaudio.blockwise`) share:
the validated settings, the fit of W and H to a magnitude spectrogram, the exact level
scaling of extreme audio, the output file names and the fields of the result type.

Both :mod:`nmfaudio.pipeline` and :mod:`nmfaudio.blockwise` import this module; it imports
neither of them (imports point toward the math).
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nmfaudio import masks, spectrum
from nmfaudio._validation import (beta_name, check_engine, check_int, check_number, engine_factors, free_mask,
                                  summary_repr)
from nmfaudio.nmf import beta_divergence, factorize
from nmfaudio.nmf.divergence import beta_from_name

__all__ = ["NOISE_FLOOR", "WARM_START_ITER", "LEVEL_RANGE", "level_scale", "scaled", "unscale_activations",
           "planned_iterations", "component_file_names", "component_limit", "check_component_limit", "Settings",
           "Fit", "SeparationBase"]

#: Default noise floor for β < 1 (Itakura-Saito and below), relative to the mean of the
#: magnitude spectrogram.  See :func:`nmfaudio.separate`.
NOISE_FLOOR = 0.1

#: Frobenius iterations that warm-start a fit with β < 1.
WARM_START_ITER = 50

#: Peak sample levels (absolute) that :func:`nmfaudio.separate` factorizes as they are.
#: Audio outside this range (quieter than about -120 dBFS, or float files with samples
#: beyond about 10⁶) is first scaled by a power of two to a peak near 1 — exactly, without
#: rounding — so that the engine's powers and floors stay within float32's range, and the
#: results are scaled back.  See :func:`level_scale`.
LEVEL_RANGE = (2.0**-20, 2.0**20)


# --- level scaling -------------------------------------------------------------------------


def level_scale(peak) -> float:
    """The factor (a power of two) :func:`nmfaudio.separate` multiplies audio of peak level
    ``peak`` by before factorizing it: 1 inside :data:`LEVEL_RANGE` (and for silence), else
    the power of two nearest ``1 / peak``."""
    peak = float(peak)
    if not peak > 0 or LEVEL_RANGE[0] <= peak <= LEVEL_RANGE[1] or not math.isfinite(peak):
        return 1.0
    return 2.0 ** -round(math.log2(peak))


def scaled(array: np.ndarray, factor: float) -> np.ndarray:
    """``array * factor`` in the array's dtype (through float64 where ``factor`` itself
    does not fit that dtype, e.g. 2**133 for float32 subnormal audio)."""
    typed = array.dtype.type(factor)
    if np.isfinite(typed) and float(typed) == factor and typed >= np.finfo(array.dtype).tiny:
        return array * typed
    return (array.astype(np.float64) * factor).astype(array.dtype)


def at_input_level(loss, scale: float, beta: float):
    """A loss of audio that was multiplied by ``scale`` (a power of two), at the input's
    level: d_β(sV | sWH) = s^β d_β(V | WH), so ``loss / scale**beta``.  Where scale**beta
    is outside float64's range (float64 audio near 1e-300 or 1e300 and β = 2: Python's
    ``OverflowError: (34, 'Numerical result out of range')`` before 2026-12-07, review61)
    the exponent is applied with ``np.ldexp``: a loss below float64's range is 0, one
    above it inf, never an error."""
    if scale == 1:
        return loss
    try:
        power = scale**beta
    except OverflowError:
        power = math.inf
    if 0 < power < math.inf:
        return loss / power
    exponent = -math.log2(scale) * beta  # scale is a power of two: log2 is exact
    whole = math.floor(exponent)
    with np.errstate(over="ignore", under="ignore"):  # 0 or inf is the answer there
        return np.ldexp(np.asarray(loss, dtype=np.float64) * 2.0 ** (exponent - whole), whole)


def unscale_activations(H: np.ndarray, scale: float) -> np.ndarray:
    """H of audio that was multiplied by ``scale``, back at the input's level (float64
    where the input's dtype overflows, e.g. float32 audio near 1e38)."""
    if scale == 1:
        return H
    unscaled = scaled(H, 1 / scale)
    if not np.all(np.isfinite(unscaled)):
        return H.astype(np.float64) / scale
    return unscaled


# --- settings ------------------------------------------------------------------------------


def _noise_floor_value(noise_floor, beta: float) -> float:
    if isinstance(noise_floor, str):
        if noise_floor != "auto":
            raise ValueError(f"noise_floor={noise_floor!r} must be 'auto' or a number >= 0")
        return NOISE_FLOOR if beta < 1 else 0.0
    return check_number(noise_floor, "noise_floor", minimum=0,
                        expected="'auto' or a finite number >= 0 (0 disables it)")


def planned_iterations(beta="frobenius", max_iter: int = 200, *, noise_floor="auto", engine=None) -> int:
    """Most iterations :func:`nmfaudio.separate` reports through ``callback`` (for progress bars)."""
    if engine is not None and hasattr(engine, "fit_transform"):
        return 0
    floor = _noise_floor_value(noise_floor, beta_from_name(beta))
    return int(max_iter) + (WARM_START_ITER if floor > 0 else 0)


def component_file_names(stem, k: int) -> list[str]:
    """``<stem>_component_01.wav`` … for ``k`` components (two digits, more if k ≥ 100).

    Raises
    ------
    ValueError
        ``stem`` is empty or holds a folder separator.
    """
    stem = str(stem)
    if not stem or os.sep in stem or (os.altsep and os.altsep in stem):
        raise ValueError(f"name={stem!r} must be a plain file stem, without folders")
    width = max(2, len(str(k)))
    return [f"{stem}_component_{i + 1:0{width}d}.wav" for i in range(k)]


def component_limit(n_samples: int, channels: int, n_fft: int, hop_length: int) -> tuple[int, int, int]:
    """The most components a recording's spectrogram can hold: its columns (frames ×
    channels) or rows (frequency bins), whichever is fewer, and two at least (a clip
    shorter than a frame still splits in two).  More could only be silent or duplicate
    tracks, at a cost growing with their number.

    Returns
    -------
    (most, frames, bins) : tuple of int
    """
    frames = spectrum.n_frames(n_samples, hop_length=hop_length, n_fft=n_fft)
    bins = 1 + int(n_fft) // 2
    return max(2, min(frames * int(channels), bins)), frames, bins


def check_component_limit(k: int, n_samples: int, channels: int, sr: int | None, *, n_fft: int, hop_length: int,
                          name: str | None) -> None:
    """Refuse more components than a recording's spectrogram holds (:func:`component_limit`):
    one check for :func:`nmfaudio.separate` (in memory and block-wise), a file given alone
    to the CLI and a batch's file — before 2026-12-06 (polish17) only the CLI and the batch
    checked, ``separate()`` split 2000 samples into 20 tracks of which most were silent.
    In the library's names, which the CLI turns into its options.  ``name``: the file's
    (None: an array, "the input"); ``sr`` None: the length is given in samples.

    Raises
    ------
    ValueError
        Naming the recording's frames (or the n_fft's bins), the most components and the fix.
    """
    most, frames, bins = component_limit(n_samples, channels, n_fft, hop_length)
    if k > most:
        length = f"{n_samples} samples" if sr is None else f"{n_samples / sr:.3g} s"
        of = "the input" if name is None else repr(name)
        # "the 1 spectrogram frames" read before 2026-12-07 (mend62)
        what = (f"the {frames} spectrogram frame{'s' if frames != 1 else ''} of {of} ({length} at "
                f"hop_length={hop_length}" + (f", x {channels} channels)" if channels > 1 else ")")
                if most < bins else f"the {bins} frequency bin{'s' if bins != 1 else ''} of n_fft={n_fft}")
        raise ValueError(f"n_components={k} is more than {what}: at most {most} "
                         f"component{'s' if most != 1 else ''} can differ; "
                         f"use n_components={most} or less" + (", or a longer recording" if most < bins
                                                                 else f", or n_fft={2 * (k - 1)} or more"))


@dataclass
class Fit:
    """The engine's outcome, whatever the engine: W (n_freq, k), H (k, n_columns)."""

    W: np.ndarray
    H: np.ndarray
    loss: np.ndarray
    n_iter: int
    converged: bool
    result: object = None


def _check_transformer_beta(transformer, beta, beta_value: float) -> None:
    """Refuse a transformer whose ``beta_loss`` is not ``beta``: it fits its own divergence,
    while the result named ``beta`` and converted the loss to the input's level with its
    power — ``separate(beta="itakura-saito", engine=NMF())`` reported an Itakura-Saito
    separation of a Frobenius fit, its loss scaled by the wrong power (tour18)."""
    declared = getattr(transformer, "beta_loss", None)
    if declared is None:
        return
    try:
        engine_beta = beta_from_name(declared)
    except (TypeError, ValueError):
        return  # the engine's own validation speaks for its own parameter
    if engine_beta != beta_value:
        raise ValueError(
            f"beta={beta!r} but the engine {type(transformer).__name__} has beta_loss={declared!r}; "
            f"make them equal, e.g. beta={declared!r}"
        )


def _fit_transformer(transformer, V, k, beta) -> Fit:
    """A scikit-learn-style transformer: X = Vᵀ (frames are samples), as librosa.decompose."""
    declared = getattr(transformer, "n_components", None)
    if (isinstance(declared, numbers.Integral) and declared != k) or (
            hasattr(transformer, "n_components") and (declared is None or declared == "auto")):
        # None / "auto" fit one component per frequency bin — 1025 at n_fft=2048, a long
        # fit before the shapes were refused (tour18)
        raise ValueError(
            f"n_components={k} but the engine {type(transformer).__name__} has n_components={declared!r}"
            + (f" (one component per frequency bin, {V.shape[0]})" if not isinstance(declared, numbers.Integral)
               else "") + f"; make them equal: {type(transformer).__name__}(n_components={k}, ...)"
        )
    activations = np.asarray(transformer.fit_transform(V.T))  # (n_frames, k)
    if not hasattr(transformer, "components_"):  # a Pipeline, a selector: no templates to mask with
        raise TypeError(
            f"engine {type(transformer).__name__} has no components_ after fit_transform; a transformer "
            "engine must hold its templates there, as sklearn.decomposition.NMF and nmfaudio.NMF do"
        )
    components = np.asarray(transformer.components_)  # (k, n_freq)
    if activations.shape != (V.shape[1], k) or components.shape != (k, V.shape[0]):
        raise ValueError(
            f"engine {type(transformer).__name__} returned activations {activations.shape} and components_ "
            f"{components.shape}; expected ({V.shape[1]}, {k}) and ({k}, {V.shape[0]})"
        )
    W = np.maximum(components.T, 0).astype(V.dtype, copy=False)
    H = np.maximum(activations.T, 0).astype(V.dtype, copy=False)
    loss_beta = getattr(transformer, "beta_loss", beta)
    loss = np.array([beta_divergence(V, W, H, loss_beta)])
    n_iter = int(getattr(transformer, "n_iter_", 0))
    return Fit(W, H, loss, n_iter, True, transformer)


def _fit_callable(engine, V, k, *, beta, solver, max_iter, tol, W, fix_W, random_state, callback, delta) -> Fit:
    """Factorize V (n_freq, n_frames) with a callable engine.

    For a noise floor δ > 0: a Frobenius warm start, then the β fit of V + δ with a
    fixed extra component ``δ·1`` (a flat spectrum, constant in time) that models the
    floor; that component is dropped from the result.
    """
    fix = ~free_mask(fix_W, k, "fix_W")  # the components the engine keeps fixed
    if delta <= 0:
        result = engine(V, k, beta=beta, solver=solver, W=W, fix_W=fix if fix.any() else False,
                        max_iter=max_iter, tol=tol, random_state=random_state, callback=callback)
        W_out, H_out = engine_factors(result, engine, V.shape[0], k, V.shape[1])
        return Fit(W_out, H_out, np.asarray(getattr(result, "loss", [np.nan])),
                   int(getattr(result, "n_iter", 0)), bool(getattr(result, "converged", True)), result)

    stopped = []

    def warm_callback(iteration, loss):
        if callback is not None and callback(iteration, loss):
            stopped.append(iteration)
            return True
        return None

    warm = engine(V, k, beta="frobenius", solver="mu", W=W, fix_W=fix if fix.any() else False,
                  max_iter=WARM_START_ITER, tol=0, random_state=random_state, callback=warm_callback)
    warm_iter = int(getattr(warm, "n_iter", WARM_START_ITER))
    warm_W, warm_H = engine_factors(warm, engine, V.shape[0], k, V.shape[1])
    if stopped:
        return Fit(warm_W, warm_H, np.asarray(warm.loss), warm_iter, False, warm)

    def main_callback(iteration, loss):
        return callback(warm_iter + iteration, loss) if callback is not None else None

    dtype = V.dtype
    W0 = np.hstack([warm_W.astype(dtype, copy=False), np.full((V.shape[0], 1), delta, dtype=dtype)])
    H0 = np.vstack([warm_H.astype(dtype, copy=False), np.ones((1, V.shape[1]), dtype=dtype)])
    result = engine(V + dtype.type(delta), k + 1, beta=beta, solver=solver, W=W0, H=H0,
                    fix_W=np.append(fix, True), fix_H=[k], max_iter=max_iter, tol=tol,
                    random_state=random_state, callback=main_callback)
    W_out, H_out = engine_factors(result, engine, V.shape[0], k + 1, V.shape[1])
    return Fit(W_out[:, :k], H_out[:k], np.asarray(result.loss),
               warm_iter + int(result.n_iter), bool(result.converged), result)


def _centroid_order(W: np.ndarray) -> np.ndarray:
    """Component order from low to high spectral centroid (all-zero templates last)."""
    bins = np.arange(W.shape[0], dtype=np.float64)
    weight = W.sum(axis=0, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = (bins @ W.astype(np.float64)) / weight
    centroid[~(weight > 0)] = np.inf
    return np.argsort(centroid, kind="stable")


@dataclass
class Settings:
    """The validated parameters of :func:`nmfaudio.separate` (and of its block-wise form).

    :meth:`check`'s keyword defaults are ``separate()``'s defaults; the block-wise
    :func:`nmfaudio.blockwise.separate_file` takes them from there (see :meth:`options`).
    """

    k: int
    beta: object
    beta_value: float
    floor: float
    n_fft: int
    hop_length: int
    mask_power: object
    solver: str
    max_iter: int
    tol: float
    W: np.ndarray | None
    fix_W: object
    random_state: object
    callback: object
    engine: object
    is_transformer: bool

    @classmethod
    def check(cls, *, n_components, beta="frobenius", n_fft=spectrum.N_FFT, hop_length=spectrum.HOP_LENGTH,
              mask_power=1.0, solver="auto", max_iter=200, tol=1e-4, W=None, fix_W=False, noise_floor="auto",
              random_state=None, callback=None, engine=None) -> "Settings":
        """Validate ``separate()``'s parameters (the defaults are its defaults)."""
        k = check_int(n_components, "n_components")
        beta_value = beta_from_name(beta)
        if isinstance(beta, str):  # "kl", " KL": the result and its summary name the divergence in full
            beta = beta_name(beta)
        floor = _noise_floor_value(noise_floor, beta_value)
        n_fft, hop_length = spectrum.check_frames(n_fft, hop_length)
        mask_power = masks.check_mask_power(mask_power)
        engine = factorize if engine is None else check_engine(engine)
        is_transformer = hasattr(engine, "fit_transform")
        if is_transformer and (W is not None or not (fix_W is False) or callback is not None):
            raise ValueError(
                "W, fix_W and callback need a callable engine (nmfaudio.factorize); "
                f"the transformer {type(engine).__name__} uses its own initialization"
            )
        if is_transformer:
            _check_transformer_beta(engine, beta, beta_value)
        if W is not None:
            W = np.asarray(W)
            expected = (1 + n_fft // 2, k)
            if W.shape != expected:
                raise ValueError(
                    f"W has shape {W.shape}; with n_fft={n_fft} and n_components={k} it must be {expected}"
                )
        return cls(k, beta, beta_value, floor, n_fft, hop_length, mask_power, solver, max_iter, tol, W, fix_W,
                   random_state, callback, engine, is_transformer)

    @classmethod
    def options(cls) -> list[str]:
        """The names :meth:`check` takes besides ``n_components``."""
        return [name for name in inspect.signature(cls.check).parameters if name != "n_components"]

    def fit(self, V: np.ndarray, *, mean: float | None = None, scale: float = 1.0, stacklevel: int = 3):
        """Fit W, H to V (n_freq, n_columns); return (W, H, fit) with W's columns (and H's
        rows) ordered by spectral centroid.

        ``mean`` is the mean of the whole magnitude spectrogram (default V's), which sets
        the noise floor; ``scale`` the level factor V was multiplied by (the callback
        sees losses at the input's level); engine warnings are re-issued ``stacklevel``
        frames up (3: the caller of the function that called this)."""
        callback = self.callback
        if callback is not None and scale != 1:
            user_callback, beta = callback, self.beta_value

            def callback(iteration, loss):  # report the loss at the input's level
                return user_callback(iteration, float(at_input_level(loss, scale, beta)))

        if self.is_transformer:
            fit = _fit_transformer(self.engine, V, self.k, self.beta_value)
        else:
            delta = self.floor * (float(V.mean(dtype=np.float64)) if mean is None else mean)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fit = _fit_callable(self.engine, V, self.k, beta=self.beta, solver=self.solver,
                                    max_iter=self.max_iter, tol=self.tol, W=self.W, fix_W=self.fix_W,
                                    random_state=self.random_state, callback=callback, delta=delta)
            for warning in caught:  # re-issued so they point at the caller's line
                warnings.warn(warning.message, warning.category, stacklevel=stacklevel)
        order = _centroid_order(fit.W)
        return np.ascontiguousarray(fit.W[:, order]), np.ascontiguousarray(fit.H[order]), fit

    def check_size(self, n_samples: int, channels: int, sr: int | None, name: str | None) -> None:
        """:func:`check_component_limit` for a recording of ``n_samples`` × ``channels``,
        unless the templates are given (``W``): then each component has its own template
        and the tracks differ whatever the length (the limit is for templates learned)."""
        if self.W is not None:
            return
        check_component_limit(self.k, n_samples, channels, sr, n_fft=self.n_fft, hop_length=self.hop_length,
                              name=name)

    def unscale_loss(self, loss: np.ndarray, scale: float) -> np.ndarray:
        """The loss at the input's level: d_β(sV | sWH) = s^β d_β(V | WH)."""
        return at_input_level(loss, scale, self.beta_value)

    def result_fields(self, fit: Fit, scale: float) -> dict:
        """The :class:`SeparationBase` fields that come from the settings and the fit."""
        return dict(loss=self.unscale_loss(fit.loss, scale), n_iter=fit.n_iter, converged=fit.converged,
                    beta=self.beta, mask_power=self.mask_power, n_fft=self.n_fft, hop_length=self.hop_length,
                    noise_floor=self.floor, engine_result=fit.result)


# --- the result ----------------------------------------------------------------------------


@dataclass(kw_only=True)
class SeparationBase:
    """What every separation learned: the fields :class:`nmfaudio.Separation` and
    :class:`nmfaudio.blockwise.BlockSeparation` share.

    Attributes
    ----------
    W : ndarray, shape (n_freq, k)
        Spectral templates (columns ordered from low to high spectral centroid).
    H : ndarray, shape (k, n_frames) for mono input, (k, n_channels, n_frames) otherwise
        Activations; multichannel input has one activation row per channel, sharing ``W``.
    loss : ndarray, shape (n_iter + 1,)
        The engine's β-divergence per iteration, at the input's level.
    sr : int or None
        Sampling rate.
    n_iter : int
        Iterations run (including a warm start).
    converged : bool
    beta : float or str
        The divergence asked for.
    mask_power : float or "binary"
    n_fft, hop_length : int
    name : str
        Stem for file names.
    noise_floor : float
        The noise floor used, relative to the spectrogram's mean (0: none).
    engine_result : object
        What the engine returned (e.g. :class:`nmfaudio.NMFResult`).
    source : pathlib.Path or None
        The input file (None for an array): ``save()`` never writes over it.
    """

    W: np.ndarray
    H: np.ndarray
    loss: np.ndarray
    sr: int | None
    n_iter: int
    converged: bool
    beta: object
    mask_power: object
    n_fft: int
    hop_length: int
    name: str = "mixture"
    noise_floor: float = 0.0
    engine_result: object = field(default=None, repr=False)
    source: Path | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        """One line, arrays by shape and dtype (:func:`nmfaudio._validation.summary_repr`);
        the subclasses keep it (``repr=False`` in their ``@dataclass``)."""
        return summary_repr(self)

    @property
    def n_components(self) -> int:
        """Number of components k."""
        return self.W.shape[1]
