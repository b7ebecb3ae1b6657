"""NMFD, convolutive NMF (Smaragdis 2004): V ≈ Σ_τ P_τ · shift_τ(H), arrays only.

Each of the K components has a *template* P[:, k, :] (n_features × T frames: a short
spectrogram, not one spectrum) and an activation row H[k]; the model of frame t is
``L[:, t] = Σ_k Σ_τ P[:, k, τ] H[k, t − τ]``.  With C channels (say stereo), the
templates are shared and every channel has its own activations (H of shape (K, C, N));
a lag never crosses from one channel into the next.  Optional *free* components add a
plain NMF term ``W_free H_free``.

The updates are the engine's multiplicative updates (Févotte & Idier 2011, applied to the
convolutive model as in Smaragdis 2004): the same weights V ⊙ L^(β−2), L^(β−1)
(:class:`~nmfaudio.nmf.solvers.BetaMU`), the same MM exponent
(:func:`~nmfaudio.nmf.solvers.mm_exponent`), ratio (:func:`~nmfaudio.nmf.solvers.mu_ratio`)
and floors (:mod:`nmfaudio.nmf.divergence`) as :func:`nmfaudio.factorize`; for β = 1
each half-step is one compiled pass over V (:mod:`nmfaudio.nmf.convolutive`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from nmfaudio.nmf import convolutive, kernels
from nmfaudio.nmf._checks import check_data, check_zero_floor, is_sparse
from nmfaudio._validation import as_generator, check_int, check_number, free_mask, summary_repr
from nmfaudio.nmf.core import CHECK_EVERY, ConvergenceWarning, scale_power, unit_scale
from nmfaudio.nmf.divergence import beta_from_name, default_floor, floor_data
from nmfaudio.nmf.solvers import BetaMU, Problem, mu_ratio

__all__ = ["NMFDResult", "convolutive_components", "convolutive_factors", "convolutive_model", "factorize_convolutive"]


@dataclass
class NMFDResult:
    """The outcome of :func:`factorize_convolutive`.

    Shapes: F features, K templates of T frames, C channels, N frames, ``n_free`` free
    components; the channel axis is there only when V had one.

    Attributes
    ----------
    P : ndarray, shape (F, K, T)
        Templates; those that adapted (with H) have unit sum (``P[:, k, :].sum() == 1``).
    H : ndarray, shape (K, N) or (K, C, N)
        Activations.
    W_free : ndarray, shape (F, n_free)
        Free templates (n_free = 0 when none were given).
    H_free : ndarray, shape (n_free, N) or (n_free, C, N)
    loss : ndarray of float, shape (n_iter + 1,)
        β-divergence of the model on the floored V (scikit-learn's definition, as
        :func:`nmfaudio.factorize`): ``loss[0]`` at the start, ``loss[i]`` after iteration i.
    n_iter : int
    converged : bool
        True when the relative loss decrease fell below ``tol``.
    n_floored : int
        Entries of V raised to ``eps`` (β ≤ 1 only).
    beta : float
    eps : float
        The floor of V (β ≤ 1) and of the model (β < 2).
    stop_reason : str
        ``"tol"``, ``"max_iter"``, ``"callback"`` or ``"zero"`` (V was all zeros).
    """

    P: np.ndarray
    H: np.ndarray
    W_free: np.ndarray
    H_free: np.ndarray
    loss: np.ndarray
    n_iter: int
    converged: bool
    n_floored: int
    beta: float
    eps: float
    stop_reason: str

    def __repr__(self) -> str:
        """One line, arrays by shape and dtype (:func:`nmfaudio._validation.summary_repr`)."""
        return summary_repr(self)


def _support(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (lag, template) pairs the model keeps: every frame of P (F, K, T) that is not
    all zero, and lag 0 of every template.  Multiplicative updates keep zeros at zero,
    so an all-zero frame never contributes and is skipped exactly — a template padded
    with zero frames to the longest one costs only its own length.

    Returns
    -------
    lags, owners : ndarray of int64, shape (n_columns,)
        Sorted by lag, then template (the order of the full layout τ·K + k).
    """
    present = P.any(axis=0)  # (K, T)
    present[:, 0] = True
    lags, owners = np.nonzero(present.T)
    return lags.astype(np.int64), owners.astype(np.int64)


def _lag_blocks(lags: np.ndarray, N: int):
    """(τ, first, end) of each run of columns at lag τ < N (lags sorted)."""
    values, starts = np.unique(lags, return_index=True)
    ends = np.append(starts[1:], len(lags))
    return [(int(tau), int(a), int(b)) for tau, a, b in zip(values, starts, ends) if tau < N]


def _shift(H: np.ndarray, lags: np.ndarray, owners: np.ndarray, blocks=None) -> np.ndarray:
    """(K, C, N) activations → (n_columns, C·N): row i is H[owners[i]] delayed by
    lags[i] frames (within each channel); ``blocks``: :func:`_lag_blocks` if known."""
    K, C, N = H.shape
    out = np.zeros((len(lags), C, N), dtype=H.dtype)
    for tau, a, b in _lag_blocks(lags, N) if blocks is None else blocks:  # lags beyond a short clip's end stay zero
        out[a:b, :, tau:] = H[owners[a:b], :, :N - tau]
    return out.reshape(len(lags), C * N)


def _unshift(G: np.ndarray, lags: np.ndarray, owners: np.ndarray, K: int, C: int, N: int,
             blocks=None) -> np.ndarray:
    """Adjoint of :func:`_shift`: (n_columns, C·N) → (K, C, N), Σ_i G[i, :, t + lags[i]]
    into template owners[i]."""
    G = G.reshape(len(lags), C, N)
    out = np.zeros((K, C, N), dtype=G.dtype)
    for tau, a, b in _lag_blocks(lags, N) if blocks is None else blocks:  # a template appears at most once per lag
        out[owners[a:b], :, :N - tau] += G[a:b, :, tau:]
    return out


def _model_pair(P, H) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P (F, K, T) and H (K, N) or (K, C, N) as arrays, and H as (K, C, N); a ValueError
    when H's rows are not P's K templates (more were ignored, fewer an IndexError)."""
    P, H = np.asarray(P), np.asarray(H)
    if P.ndim != 3:
        raise ValueError(f"P must have shape (F, K, T), got shape {P.shape}")
    if H.ndim not in (2, 3) or H.shape[0] != P.shape[1]:
        raise ValueError(f"H has shape {H.shape}; with P of shape {P.shape} it must be (K={P.shape[1]}, N) "
                         f"or (K={P.shape[1]}, C, N): one row of activations per template")
    return P, H, (H[:, None, :] if H.ndim == 2 else H)


def convolutive_components(P, H, *, out=None) -> np.ndarray:
    """Each template's part of the NMFD model: ``S[k, :, t] = Σ_τ P[:, k, τ] H[k, t − τ]``.

    Parameters
    ----------
    P : ndarray, shape (F, K, T)
    H : ndarray, shape (K, N) or (K, C, N)
    out : ndarray, shape (K, F, N) or (K, F, C, N), optional
        Where to write the result (e.g. part of a larger array); default a new array of
        the common dtype of P and H.

    Returns
    -------
    ndarray, shape (K, F, N) or (K, F, C, N)
        ``S.sum(axis=0)`` is the model of the templates (without free components).
    """
    P, H, H3 = _model_pair(P, H)
    F, K, T = P.shape
    _, C, N = H3.shape
    if out is None:
        out = np.empty((K, F) + H.shape[1:], dtype=np.result_type(P, H))
    flat = out.reshape(K, F, C * N)  # a view: out is written in place
    frames = P.any(axis=0)  # (K, T): trailing zero frames (shorter templates) cost nothing
    for k in range(K):
        length = max(1, int(np.flatnonzero(frames[k])[-1]) + 1 if frames[k].any() else 1)
        lags = np.arange(length)
        flat[k] = P[:, k, :length] @ _shift(H3[k:k + 1], lags, np.zeros(length, np.int64))
    return out


def convolutive_factors(P, H) -> tuple[np.ndarray, np.ndarray]:
    """The NMFD model unrolled into one plain product: ``(W, Hs)`` with
    ``W @ Hs == convolutive_model(P, H)`` (reshaped to (F, C·N)) — W holds the templates'
    frames that are not all zero, Hs the activations delayed by each frame's lag.  For
    callers that need the model a stretch of frames at a time: ``W @ Hs[:, t0:t1]``
    (within one channel) is the model of frames t0 … t1 − 1, the lags reaching back
    before t0 included.

    Parameters
    ----------
    P : ndarray, shape (F, K, T)
    H : ndarray, shape (K, N) or (K, C, N)

    Returns
    -------
    W : ndarray, shape (F, n_columns), P's dtype
    Hs : ndarray, shape (n_columns, C·N) (C = 1 for 2-D H), H's dtype; channel c's
        frames are columns ``c·N … (c + 1)·N − 1``
    """
    P, H, H3 = _model_pair(P, H)
    lags, owners = _support(P)
    return P[:, owners, lags], _shift(H3, lags, owners)


def convolutive_model(P, H, *, W_free=None, H_free=None, out=None) -> np.ndarray:
    """The NMFD model ``Σ_k Σ_τ P[:, k, τ] H[k, t − τ] (+ W_free H_free)`` as one matrix
    product over the templates' frames that are not all zero (a template padded with
    zero frames costs its own length) — ``convolutive_components(P, H).sum(axis=0)``
    without the per-template arrays.

    Parameters
    ----------
    P : ndarray, shape (F, K, T)
    H : ndarray, shape (K, N) or (K, C, N)
    W_free : ndarray, shape (F, n_free), optional
    H_free : ndarray, shape (n_free, N) or (n_free, C, N) (or (n_free, C·N)), optional
    out : ndarray, shape (F, N) or (F, C, N), optional
        Where to write the result (e.g. part of a larger array), C-contiguous — or, for
        (F, N), the transpose of a C-contiguous (N, F) array (frame-major, the layout
        of an inverse FFT's input); default a new C-contiguous array of the common
        dtype of P and H.

    Returns
    -------
    ndarray, shape (F, N) or (F, C, N)
    """
    P, H, H3 = _model_pair(P, H)
    F, K, T = P.shape
    _, C, N = H3.shape
    dtype = np.result_type(P, H)
    if out is None:
        out = np.empty((F,) + H.shape[1:], dtype=dtype)
    elif out.shape != (F,) + H.shape[1:] or not (
            out.flags.c_contiguous or (out.ndim == 2 and out.T.flags.c_contiguous)):
        raise ValueError(f"out has shape {out.shape}; it must be a C-contiguous {(F,) + H.shape[1:]} array "
                         "or the transpose of a C-contiguous one")
    W, Hs = convolutive_factors(P, H3.astype(dtype, copy=False))
    W = W.astype(dtype, copy=False)
    if W_free is not None:
        W = np.hstack([W, np.asarray(W_free, dtype)])
        Hs = np.vstack([Hs, np.asarray(H_free, dtype).reshape(-1, C * N)])
    if out.flags.c_contiguous:
        np.matmul(W, Hs, out=out.reshape(F, C * N))  # a view: out is C-contiguous
    else:  # frame-major: the transposed product, so BLAS writes rows of out.T
        np.matmul(Hs.T, W.T, out=out.T)
    return out


class ConvolutiveMU(BetaMU):
    """Multiplicative updates of the NMFD model for any β, in NumPy.

    ``V (F, C·N) ≈ W · shift(H) + W_free H_free``, where W (F, n_columns) holds the
    templates' frames (column i: template ``owners[i]`` at lag ``lags[i]``; the full
    layout has column τ·K + k, a template's all-zero frames may be left out, see
    :func:`_support`) and shift(H) the delayed activations (:func:`_shift`).  It is
    :class:`~nmfaudio.nmf.solvers.BetaMU` with the convolutive model: the same weights
    and MM ratio; ``problem.free_W`` (n_columns,) and ``problem.free_H`` (K,) mark what
    learns.  Free components always learn.

    After each template update, each learning template whose activations also learn is
    rescaled to unit sum (its scale moved into H, so the model is unchanged) and, with
    ``cap`` (F, n_columns), clipped to at most ``cap``, then rescaled again.  Factors are
    updated in place except H in the compiled subclass (read ``solver.H`` at the end).
    """

    #: its step() takes no with_loss (it always computes the loss): BetaMU's True does not carry over
    loss_optional = False

    def __init__(self, V, W, H, problem: Problem, *, lags, owners, W_free=None, H_free=None, cap=None):
        super().__init__(V, W, H, problem)
        self.F = V.shape[0]
        self.K, self.C, self.N = H.shape
        self.lags, self.owners = lags, owners
        self.blocks = _lag_blocks(lags, self.N)  # (τ, first, end) runs, used every iteration
        self.T = int(lags.max()) + 1  # the longest template
        self.W_free, self.H_free = W_free, H_free  # None: no free components
        self.cap = cap
        free_templates = np.zeros(self.K, bool)
        free_templates[owners] = problem.free_W
        self.rescaled = free_templates & problem.free_H  # templates kept at unit sum
        # the floor as a row, not a scalar: NumPy's scalar-operand maximum is not
        # vectorized and took 6× longer here (0.9 vs 0.15 ms for 155 × 7750 float32)
        self._eps_row = np.full((1, V.shape[1]), problem.eps, dtype=V.dtype)

    def _shift(self, H) -> np.ndarray:
        return _shift(H, self.lags, self.owners, self.blocks)

    def _unshift(self, G) -> np.ndarray:
        return _unshift(G, self.lags, self.owners, self.K, self.C, self.N, self.blocks)

    def _model(self, Hs=None) -> np.ndarray:
        L = self.W @ (self._shift(self.H) if Hs is None else Hs)
        if self.W_free is not None:
            L += self.W_free @ self.H_free
        if self.beta < 2:
            np.maximum(L, self._eps_row, out=L)
        return L

    def start(self) -> float:
        self.WH = self._model()
        return kernels.divergence(self.V, self.WH, self.beta)

    def _factor(self, numerator, denominator):
        """The multiplicative factor (numerator / denominator)^γ, no penalties."""
        return mu_ratio(numerator, denominator, None, 0.0, 0.0, self.gamma)

    def step(self) -> float:
        A, B = self._weights(self.WH)
        if self.W_free is not None:  # the free activations' products, before H changes
            free_num = self.W_free.T @ A
            free_den = self.W_free.sum(axis=0)[:, None] if B is None else self.W_free.T @ B
        if self.update_H:
            r = self.rows_H
            numerator = self._unshift(self.W.T @ A)
            if B is None:
                ones = np.broadcast_to(self.W.sum(axis=0)[:, None], (self.W.shape[1], self.C * self.N))
                denominator = self._unshift(np.ascontiguousarray(ones))
            else:
                denominator = self._unshift(self.W.T @ B)
            self.H[r] *= self._factor(numerator[r], denominator[r])
        if self.W_free is not None:
            self.H_free *= self._factor(free_num, free_den)
        if self.update_W or self.W_free is not None:
            Hs = self._shift(self.H)
            A, B = self._weights(self._model(Hs))
            if self.update_W:
                c = self.cols_W
                denominator = Hs.sum(axis=1)[None, :] if B is None else B @ Hs.T
                self.W[:, c] *= self._factor((A @ Hs.T)[:, c], denominator[:, c])
                self._constrain_templates()
            if self.W_free is not None:
                denominator = self.H_free.sum(axis=1)[None, :] if B is None else B @ self.H_free.T
                self.W_free *= self._factor(A @ self.H_free.T, denominator)
        self.WH = self._model()
        return kernels.divergence(self.V, self.WH, self.beta)

    def _constrain_templates(self) -> None:
        """Unit sums, then the cap (and unit sums again)."""
        self._rescale()
        if self.cap is not None:
            np.minimum(self.W, self.cap, out=self.W)
            self._rescale()

    def _rescale(self) -> None:
        sums = np.zeros(self.K, self.W.dtype)
        np.add.at(sums, self.owners, self.W.sum(axis=0))
        sums = np.where((sums > 0) & self.rescaled, sums, 1).astype(self.W.dtype)
        self.W /= sums[self.owners]
        self.H *= sums[:, None, None]


class CompiledKLConvolutiveMU(ConvolutiveMU):
    """:class:`ConvolutiveMU` for β = 1 with each half-step one compiled, cache-blocked
    pass over V (:mod:`nmfaudio.nmf.convolutive`): the same updates, without a dozen
    full-size temporaries per iteration.  Like
    :class:`~nmfaudio.nmf.solvers.FusedBetaMU`, the activation pass over the current
    factors yields their loss and their updated activations: :meth:`start` and
    :meth:`step` end with it, and :meth:`step` begins by committing its activations."""

    def __init__(self, V, W, H, problem: Problem, **kwargs):
        super().__init__(np.ascontiguousarray(V), W, H, problem, **kwargs)
        self._prepared = None

    def _templates(self) -> np.ndarray:
        """[W | W_free] (F, n_columns + n_free)."""
        if self.W_free is None:
            return self.W
        return np.ascontiguousarray(np.hstack([self.W, self.W_free]), dtype=self.W.dtype)

    def _free_activations(self) -> np.ndarray:
        return self.H_free if self.H_free is not None else np.zeros((0, self.C * self.N), self.W.dtype)

    def _denominator(self) -> np.ndarray:
        """The activations' KL denominator (K, N): the unshift of the ones, as the NumPy
        step — frame t of template k sums the column sums of k's frames whose lag reaches
        no further than the end (t + τ < N), in increasing lag.  Every frame but the last
        T − 1 has all of them, so their sums are made once per template, in the same
        order (the same floats), and only the tail frame by frame: a lag-by-lag sweep over
        all N frames took ~1 ms per iteration in Python (24 lags × 13 × 7752 frames)."""
        K, N = self.K, self.N
        column_sums = self.W.sum(axis=0)
        head = max(N - self.T + 1, 0)  # frames t ≤ N − T: every lag τ ≤ T − 1 is inside
        full = np.zeros(K, self.W.dtype)
        tail = np.zeros((K, N - head), self.W.dtype)
        for tau, a, b in self.blocks:
            full[self.owners[a:b]] += column_sums[a:b]
            tail[self.owners[a:b], :max(N - tau - head, 0)] += column_sums[a:b][:, None]
        denominator = np.empty((K, N), self.W.dtype)
        denominator[:, :head] = full[:, None]
        denominator[:, head:] = tail
        return denominator

    def _h_pass(self):
        return convolutive.h_pass(self.V, self._templates(), self.H, self._free_activations(), self.lags,
                                  self.owners, self.problem.eps, self._denominator(), self.update_H)

    def start(self) -> float:
        self._prepared = self._h_pass()
        return self._prepared[0]

    def step(self) -> float:
        _, H_next, H_free_next = self._prepared
        n_columns = self.W.shape[1]
        if self.update_H:
            if not isinstance(self.rows_H, slice):  # some activations are fixed
                fixed = ~self.problem.free_H
                H_next[fixed] = self.H[fixed]
            self.H = H_next
        if self.W_free is not None:
            self.H_free = H_free_next
        if self.update_W or self.W_free is not None:
            numerators = convolutive.w_pass(self.V, self._templates(), self.H, self._free_activations(),
                                            self.lags, self.owners, self.problem.eps)
            if self.update_W:
                # row sums of the shifted activations: lag τ drops each channel's last τ frames
                # (float64 running sums: a float32 one drifts by ~1e-5 over 10⁵ frames)
                cumulative = np.cumsum(self.H.sum(axis=1, dtype=np.float64), axis=1)  # (K, N)
                denominator = np.zeros(n_columns)
                inside = self.lags < self.N
                denominator[inside] = cumulative[self.owners[inside], self.N - 1 - self.lags[inside]]
                denominator = denominator.reshape(1, n_columns).astype(self.W.dtype)
                c = self.cols_W
                self.W[:, c] *= self._factor(numerators[:, :n_columns][:, c], denominator[:, c])
                self._constrain_templates()
            if self.W_free is not None:
                self.W_free *= self._factor(numerators[:, n_columns:], self.H_free.sum(axis=1)[None, :])
        self._prepared = self._h_pass()
        return self._prepared[0]


class FixedTemplatesMU(ConvolutiveMU):
    """:class:`ConvolutiveMU` when the templates and their activations are all fixed and
    only free components learn (any β): the templates' part of the model is computed
    once, so an iteration costs two passes of a plain NMF of ``n_free`` components over V
    instead of two passes over every template frame (the drums' residual refinement)."""

    def __init__(self, V, W, H, problem: Problem, **kwargs):
        super().__init__(V, W, H, problem, **kwargs)
        self._fixed = self.W @ self._shift(self.H)  # (F, C·N), constant

    def _model(self, Hs=None) -> np.ndarray:
        L = self.W_free @ self.H_free
        L += self._fixed
        if self.beta < 2:
            np.maximum(L, self._eps_row, out=L)
        return L

    def step(self) -> float:
        A, B = self._weights(self.WH)
        denominator = self.W_free.sum(axis=0)[:, None] if B is None else self.W_free.T @ B
        self.H_free *= self._factor(self.W_free.T @ A, denominator)
        A, B = self._weights(self._model())
        denominator = self.H_free.sum(axis=1)[None, :] if B is None else B @ self.H_free.T
        self.W_free *= self._factor(A @ self.H_free.T, denominator)
        self.WH = self._model()
        return kernels.divergence(self.V, self.WH, self.beta)


class CompiledKLFixedTemplatesMU(FixedTemplatesMU):
    """:class:`FixedTemplatesMU` for β = 1 with each half-step one compiled pass over V and
    the fixed model (:func:`nmfaudio.nmf.convolutive.fixed_h_pass`, ``fixed_w_pass``) on the
    engine's threads: the same updates to float32 rounding, without the NumPy step's
    full-size temporaries (4.0 → 2.3 ms an iteration on the drums' 3-minute residual
    refinement, one thread; docs/performance.md 2026-12-05 "fitspeed").  As
    :class:`CompiledKLConvolutiveMU`, the activation pass over the current factors gives
    their loss and their updated activations: :meth:`start` and :meth:`step` end with it."""

    def __init__(self, V, W, H, problem: Problem, **kwargs):
        super().__init__(np.ascontiguousarray(V), W, H, problem, **kwargs)
        self._prepared = None

    def _h_pass(self):
        return convolutive.fixed_h_pass(self.V, self._fixed, self.W_free, self.H_free, self.problem.eps)

    def start(self) -> float:
        self._prepared = self._h_pass()
        return self._prepared[0]

    def step(self) -> float:
        _, self.H_free = self._prepared
        numerators = convolutive.fixed_w_pass(self.V, self._fixed, self.W_free, self.H_free, self.problem.eps)
        self.W_free *= self._factor(numerators, self.H_free.sum(axis=1)[None, :])
        self._prepared = self._h_pass()
        return self._prepared[0]


def make_convolutive_mu(V, W, H, problem: Problem, **kwargs) -> ConvolutiveMU:
    """Only free components learning: :class:`FixedTemplatesMU` (compiled for β = 1 when
    numba is available); else the compiled passes for β = 1 when numba is available, else
    the NumPy updates."""
    if not problem.free_W.any() and not problem.free_H.any() and kwargs.get("W_free") is not None:
        if problem.beta == 1 and kernels.HAVE_NUMBA:
            return CompiledKLFixedTemplatesMU(V, W, H, problem, **kwargs)
        return FixedTemplatesMU(V, W, H, problem, **kwargs)
    if problem.beta == 1 and kernels.HAVE_NUMBA:
        return CompiledKLConvolutiveMU(V, W, H, problem, **kwargs)
    return ConvolutiveMU(V, W, H, problem, **kwargs)


#: What each of the engine's arrays holds, for the fix of a negative value (check_data's ``negative``).
_NEGATIVE = {"P": "templates", "W_free": "templates", "H": "activations", "H_free": "activations"}


def _check_array(array, name: str, shapes: str, ndims: tuple, dtype=None, *, copy=True) -> np.ndarray:
    """``array`` as a finite, non-negative float array with one of ``ndims`` dimensions;
    a private copy unless ``copy=False`` (the engine updates its factors in place)."""
    if array is None or isinstance(array, (str, bytes, dict, set)) or is_sparse(array):
        check_data(array, name)  # raises the engine's TypeError (for sparse: pass .toarray())
    try:
        array = np.asarray(array)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of non-negative numbers: {exc}") from None
    if array.ndim not in ndims:
        raise ValueError(f"{name} must have shape {shapes}, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} has shape {array.shape}; it must not be empty")
    flat = check_data(array.reshape(array.shape[0], -1), name, dtype=dtype, negative=_NEGATIVE.get(name, "data"))
    flat = flat.reshape(array.shape)
    return flat.copy() if copy else flat


def _check_shape(array, name: str, expected: tuple) -> None:
    if array.shape != expected:
        raise ValueError(f"{name} has shape {array.shape}; expected {expected}")


def factorize_convolutive(
    V,
    P,
    H=None,
    *,
    W_free=None,
    H_free=None,
    beta="kullback-leibler",
    fix_P=False,
    fix_H=False,
    cap=None,
    max_iter=100,
    tol=1e-4,
    random_state=None,
    callback=None,
    eps=None,
) -> NMFDResult:
    """NMFD, convolutive NMF: V ≈ Σ_τ P[:, :, τ] · (H delayed by τ frames) [+ W_free H_free].

    Shapes: F features (frequency bins), N frames, C channels, K templates of T frames.

    Parameters
    ----------
    V : array-like, shape (F, N) or (F, C, N)
        Non-negative data, e.g. a magnitude spectrogram, optionally per channel (the
        templates are shared, each channel has its own activations).  Never modified.
        float32 stays float32; integers become float64.
    P : array-like, shape (F, K, T)
        Starting (or, with ``fix_P``, fixed) templates.  Zeros stay zero (multiplicative
        updates), so zeroing entries restricts a template's support.  Templates of
        different lengths: pad the shorter ones with zero frames — all-zero frames are
        left out of the computation (exactly: they would stay zero), so each template
        costs its own length, not T.  Never modified.
    H : array-like, shape (K, N) or (K, C, N), optional
        Starting (or fixed) activations.  Default: uniform in [0.5, 1.5) from
        ``random_state``, rescaled so that the model's mean equals V's.
    W_free : array-like, shape (F, n_free), optional
    H_free : array-like, shape (n_free, N) or (n_free, C, N), optional
        Starting free (non-convolutive) components, always learning; give both or neither.
    beta : {"kullback-leibler", "itakura-saito", "frobenius"} or float, default "kullback-leibler"
        The divergence (1, 0, 2 or any real β).  KL is NMFD's usual choice (Smaragdis
        2004) and has compiled passes.
    fix_P, fix_H : bool, sequence of int, or bool array of shape (K,)
        Templates / activations kept exactly as given (bit-identical): ``True`` keeps
        all, indices or a mask keep those.  A template that learns while its
        activations learn is rescaled to unit sum after each update (the scale moves
        into H).
    cap : float > 0 or array-like of shape (F, K, T), optional
        Upper bound on the learning templates after each rescaling: an array entrywise,
        a float c means c · P (the starting templates).  Applied, then the templates
        are rescaled to unit sum again; so with ``cap`` the loss may rise slightly.
    max_iter : int >= 0, default 100
    tol : float >= 0, default 1e-4
        As :func:`nmfaudio.factorize`: every 10 iterations, stop when the loss fell by
        less than ``tol`` times the starting loss; 0 runs exactly ``max_iter``.
    random_state : None, int, numpy.random.Generator or RandomState
        Seeds the starting H when it is not given.
    callback : callable(iteration, loss) -> bool or None, optional
        Called after every iteration; returning True stops early.
    eps : float, optional
        Floor for V (β ≤ 1) and the model (β < 2); default as :func:`nmfaudio.factorize`
        (``FLOOR_RELATIVE * max(V)``); ``eps=0`` with β ≤ 1 and zeros in V is refused.

    Returns
    -------
    NMFDResult
        ``P`` (F, K, T), ``H`` (K, [C,] N), ``W_free`` (F, n_free), ``H_free``
        (n_free, [C,] N), ``loss`` (n_iter + 1,), ``n_iter``, ``converged``,
        ``n_floored``, ``beta``, ``eps``, ``stop_reason``.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` is reached before ``tol`` (with ``tol > 0``).

    Raises
    ------
    ValueError, TypeError
        Negative, NaN or infinite values; shapes that do not fit; bad parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfaudio.nmf import convolutive_components, factorize_convolutive
    >>> rng = np.random.default_rng(0)
    >>> P = rng.random((20, 2, 4))                      # 2 templates of 4 frames
    >>> H = rng.random((2, 100)) * (rng.random((2, 100)) < 0.1)
    >>> V = convolutive_components(P, H).sum(axis=0)    # (20, 100)
    >>> res = factorize_convolutive(V, P, fix_P=True, max_iter=200, tol=0, random_state=0)
    >>> bool(res.loss[-1] < 1e-3 * res.loss[0])
    True
    """
    V = _check_array(V, "V", "(F, N) or (F, C, N)", (2, 3), copy=False)  # read only
    dtype = V.dtype
    V3 = V[:, None, :] if V.ndim == 2 else V
    F, C, N = V3.shape
    P = _check_array(P, "P", "(F, K, T)", (3,), dtype)
    if P.shape[0] != F:
        raise ValueError(f"P has shape {P.shape} but V has {F} rows; P must be (F={F}, K, T)")
    _, K, T = P.shape
    channel_shape = (C, N) if V.ndim == 3 else (N,)
    if H is not None:
        H = _check_array(H, "H", "(K, N) or (K, C, N)", (2, 3), dtype)
        _check_shape(H, "H", (K, *channel_shape))
    if (W_free is None) != (H_free is None):
        raise ValueError("give both W_free (F, n_free) and H_free (n_free, [C,] N), or neither")
    if W_free is not None:
        W_free = _check_array(W_free, "W_free", "(F, n_free)", (2,), dtype)
        H_free = _check_array(H_free, "H_free", "(n_free, N) or (n_free, C, N)", (2, 3), dtype)
        _check_shape(W_free, "W_free", (F, W_free.shape[1]))
        _check_shape(H_free, "H_free", (W_free.shape[1], *channel_shape))
    beta = beta_from_name(beta)
    free_P = free_mask(fix_P, K, "fix_P")
    free_H = free_mask(fix_H, K, "fix_H")
    if not free_H.all() and H is None:
        raise ValueError("fix_H needs the activations: pass H=... (K, N) or (K, C, N)")
    cap = _template_cap(cap, P, free_P)
    max_iter = check_int(max_iter, "max_iter", 0)
    tol = check_number(tol, "tol", minimum=0)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback={callback!r} must be callable(iteration, loss)")
    rng = as_generator(random_state)
    eps = default_floor(V) if eps is None else check_number(eps, "eps", minimum=0)
    check_zero_floor(eps, V, beta)

    scale_start = H is None  # a random start gets the model's mean to V's (below)
    H = (0.5 + rng.random((K, C, N))).astype(dtype) if H is None else H.reshape(K, C, N)
    n_free = 0 if W_free is None else W_free.shape[1]
    if W_free is not None:
        H_free = H_free.reshape(n_free, C * N)
    # Solve for V scaled by a power of two that brings max(V) near 1, as factorize does
    # (exact in floating point; keeps L^(β−2) in float32's range): the scale goes into
    # the activations.
    scale = unit_scale(V3)
    V2 = V3.reshape(F, C * N)
    if scale != 1:
        V2 = V2 * dtype.type(scale)
        if not scale_start:
            H *= dtype.type(scale)
        if W_free is not None:
            H_free *= dtype.type(scale)
        eps *= scale
    loss_unit = scale_power(scale, -beta, V2, beta)

    def result(W, H, W_free, H_free, loss, n_iter, converged, n_floored, stop_reason):
        H = H * dtype.type(1 / scale) if scale != 1 else H
        H_free = H_free * dtype.type(1 / scale) if scale != 1 else H_free
        P_out = np.zeros((F, K, T), dtype)
        P_out[:, owners, lags] = W  # the frames left out (all zero) stay zero
        return NMFDResult(P_out, H.reshape(K, *channel_shape), W_free, H_free.reshape(n_free, *channel_shape),
                          np.asarray(loss, dtype=np.float64) * loss_unit, n_iter, converged, n_floored, beta,
                          float(eps / scale), stop_reason)

    lags, owners = _support(P)  # all-zero frames are left out: templates cost their own length
    W = np.ascontiguousarray(P[:, owners, lags])  # (F, n_columns)
    no_free = (np.zeros((F, 0), dtype), np.zeros((0, C * N), dtype))
    if not V2.any():  # nothing to model: the best non-negative fit of zeros is zero
        H[free_H] = 0
        free = no_free if W_free is None else (W_free, np.zeros_like(H_free))
        return result(W, H, *free, [0.0], 0, True, 0, "zero")

    V_fit, n_floored = floor_data(V2, beta, eps, overwrite=scale != 1)
    problem = Problem(beta=beta, free_W=free_P[owners], free_H=free_H, eps=eps)
    cap_W = None if cap is None else np.ascontiguousarray(cap[:, owners, lags])
    solver = make_convolutive_mu(V_fit, W, H, problem, lags=lags, owners=owners, W_free=W_free, H_free=H_free,
                                 cap=cap_W)
    if scale_start:
        solver.H *= dtype.type(V_fit.mean() / max(float(solver._model().mean()), 1e-30))

    loss = np.empty(max_iter + 1)
    loss[0] = solver.start()
    n_iter, stop_reason = 0, "max_iter"
    for iteration in range(1, max_iter + 1):
        loss[iteration] = solver.step()
        n_iter = iteration
        if callback is not None and callback(iteration, float(loss[iteration] * loss_unit)):
            stop_reason = "callback"
            break
        if tol > 0 and iteration % CHECK_EVERY == 0:
            decrease = (loss[iteration - CHECK_EVERY] - loss[iteration]) / loss[0] if loss[0] > 0 else 0.0
            if decrease < tol:
                stop_reason = "tol"
                break
    if stop_reason == "max_iter" and tol > 0 and max_iter > 0:
        warnings.warn(f"NMFD reached max_iter={max_iter} before the relative loss decrease fell below "
                      f"tol={tol:g}; raise max_iter or tol", ConvergenceWarning, stacklevel=2)
    free = no_free if W_free is None else (solver.W_free, solver.H_free)
    return result(solver.W, solver.H, *free, loss[:n_iter + 1], n_iter, stop_reason == "tol", n_floored,
                  stop_reason)


def _template_cap(cap, P: np.ndarray, free_P: np.ndarray):
    """The cap as an (F, K, T) array in P's dtype (inf for fixed templates), or None."""
    if cap is None:
        return None
    if isinstance(cap, (bool, np.bool_)):
        raise TypeError(f"cap={cap!r} must be a number > 0 or an array of shape {P.shape}")
    if np.ndim(cap) == 0:
        value = check_number(cap, "cap", minimum=0)
        if value == 0:
            raise ValueError("cap=0 must be > 0 (None: no cap)")
        bound = P * P.dtype.type(value)
    else:
        bound = _check_array(cap, "cap", str(P.shape), (3,), P.dtype)
        _check_shape(bound, "cap", P.shape)
    if not free_P.all():
        bound = np.array(bound)
        bound[:, ~free_P, :] = np.inf  # a fixed template is never clipped
    return bound
