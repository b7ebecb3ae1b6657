"""The multiplicative-update pass on BLAS matrix products, for many components.

Why this module exists.  The fused pass (:class:`nmfaudio.nmf.kernels.BetaPass`) forms
every product with hand-written numba loops while a block of V is in cache: unbeatable
at small k, where the work per entry is a few multiply-adds and memory traffic decides.
As k grows the products dominate, and BLAS's register- and cache-blocked GEMMs win: on
an Intel Xeon (Emerald Rapids, one thread, 1025 × 2600) this pass took 1.6× the fused
pass's time for KL at k = 8, 1.0× at k = 32, 0.89× at 48 and 0.80× at 64; for IS 1.0×
at k = 32, 0.91× at 48 and 0.82× at 64 (docs/performance.md).  The loss's log per entry
and the two sweeps over (n_features, n_samples) arrays cost the same in both passes;
what changes is who forms the products.  :func:`make_pass` picks by k.

One pass, the same contract as BetaPass (the same arithmetic, so the same updates to
float32 rounding):

1. X = W @ H (sgemm/dgemm into a buffer of V's shape), then one compiled sweep over
   X turns it into the update weights in place (V/WH for KL; V/WH² and 1/WH, in a
   second buffer, for IS and other β) and sums the loss of (W, H) — the fused pass's own
   row-piece code (``kernels._weights_row``), so the loss is summed the same way;
2. the H update from Wᵀ(weights) (and Wᵀ(1/WH)) by GEMM, with the fused pass's floors,
   penalties, frozen components and subnormal hold (``kernels._update_block``);
3. X = W @ H_new, the weights again, and the W-update products (weights) H_newᵀ by GEMM.

Memory: one (two for β ≠ 1) array of V's shape, where the fused pass holds a blocked
copy of V: the same for KL, one F × T array more for IS.  The loss sweep is split into a
fixed set of row tasks summed in a fixed order; the GEMMs run on BLAS's threads, whose
rounding may depend on their number (the fused pass's does not).
"""

from __future__ import annotations

import numpy as np

from nmfaudio.nmf import kernels
from nmfaudio.nmf.kernels import BLOCK, HAVE_NUMBA, MAX_TASKS, BetaPass, run_in_threads

#: Components from which :func:`make_pass` uses the GEMM pass: KL (one weight array,
#: four products per pass) and every other β (two weight arrays, six products).  From
#: side-by-side measurements of both passes (one thread, Intel Xeon, 1025 × 2600,
#: docs/performance.md): equal at k = 32, the GEMM pass 9–20 % faster at k = 48 and 64.
GEMM_MIN_K = {kernels.MODE_KL: 48, "other": 48}

if HAVE_NUMBA:
    from nmfaudio.nmf.kernels import _jit, _log_parts, _update_block, _weights_row

    @_jit
    def _weights_rows(V, X, C, f0, f1, mode, beta, eps, one, with_loss, v_exponents, v_mantissas):
        """Rows f0..f1−1 of X (the model WH) turned into the update weights in place (and
        C, for modes that need it), in pieces of BLOCK columns; returns their loss terms
        (float64) when ``with_loss`` — kernels._weights_row's arithmetic, piece for piece."""
        T = V.shape[1]
        loss = 0.0
        for i in range((T + BLOCK - 1) // BLOCK):
            j0 = i * BLOCK
            j1 = min(j0 + BLOCK, T)
            ve = v_exponents[min(i, v_exponents.shape[0] - 1)]
            vm = v_mantissas[min(i, v_mantissas.shape[0] - 1)]
            for f in range(f0, f1):
                loss += _weights_row(V, f, X[f], C[f], j1 - j0, mode, beta, eps, one, with_loss, ve, vm, j0)
        return loss

    @_jit
    def _update_all(H, numH, denH, colsumW, mode, gamma, l1, l2, free_H, tiny, flush):
        """H *= (numH / max(denH + l1 + l2·H, tiny))^γ on the free components, in place
        (kernels._update_block over all columns)."""
        _update_block(H, numH, denH, colsumW, H.shape[1], mode, gamma, l1, l2, free_H, tiny, flush)


def row_bounds(n_features: int, max_tasks: int = MAX_TASKS) -> np.ndarray:
    """Row boundaries of the weight sweep's tasks: a fixed split (so the loss's
    summation order does not depend on the number of threads).

    Returns
    -------
    ndarray of int64, shape (n_tasks + 1,)
    """
    n_tasks = max(1, min(max_tasks, n_features))
    return np.linspace(0, n_features, n_tasks + 1).round().astype(np.int64)


class GemmBetaPass:
    """:class:`~nmfaudio.nmf.kernels.BetaPass`'s pass with BLAS products: same
    parameters, same ``run`` / ``w_products`` contract.

    Parameters
    ----------
    V : ndarray, shape (n_features, n_samples), float32 or float64
        Already floored (β ≤ 1); read, never modified (not copied when C-contiguous).
    n_components : int
    beta, gamma, eps, free_H, l1_H, l2_H, update_W
        As for BetaPass.
    """

    def __init__(self, V, n_components, *, beta, gamma, eps, free_H, l1_H, l2_H, update_W):
        if not HAVE_NUMBA:  # pragma: no cover
            raise RuntimeError("GemmBetaPass needs numba; use solvers.BetaMU instead")
        self.V = np.ascontiguousarray(V)
        dt = V.dtype.type
        F, T = V.shape
        self.mode = kernels.mode_for(beta)
        if self.mode == kernels.MODE_IS and V.dtype == np.float32 and eps >= np.finfo(np.float32).tiny:
            self.mode = kernels.MODE_IS_SPLIT  # as BetaPass: the model floor keeps WH normal
        self.beta, self.gamma = float(beta), float(gamma)
        self.eps, self.tiny, self.one = dt(eps), dt(np.finfo(V.dtype).tiny), dt(1)
        self.flush = dt(kernels.flush_level(V.dtype))
        self.free_H = np.ascontiguousarray(free_H, dtype=np.bool_)
        self.update_H = bool(self.free_H.any())
        self.l1_H, self.l2_H = dt(l1_H), dt(l2_H)
        self.update_W = bool(update_W)
        self.X = np.empty((F, T), V.dtype)
        self.C = np.empty((F, T), V.dtype) if self.mode != kernels.MODE_KL else self.X
        self.bounds = row_bounds(F)
        self.parallel = F * T * n_components >= kernels.PARALLEL_MIN_WORK
        self._losses = np.zeros(self.bounds.size - 1)
        self._constant = kernels._sum_power(self.V, self.beta) if self.mode == kernels.MODE_GENERIC else 0.0
        if self.mode == kernels.MODE_IS_SPLIT:
            n_pieces = -(-T // BLOCK)
            self._v_exponents = np.zeros((n_pieces, F), np.int32)
            self._v_mantissas = np.ones((n_pieces, F))
            _log_parts(self.V, self._v_exponents, self._v_mantissas)
        else:
            self._v_exponents, self._v_mantissas = np.zeros((1, 1), np.int32), np.ones((1, 1))
        self._numerator = self._denominator = None

    def _weights(self, with_loss: bool) -> float:
        """self.X (the model) → the update weights in X (and C), in row tasks."""

        def task(t):
            self._losses[t] = _weights_rows(
                self.V, self.X, self.C, self.bounds[t], self.bounds[t + 1], self.mode, self.beta, self.eps,
                self.one, with_loss, self._v_exponents, self._v_mantissas)

        run_in_threads(task, self.bounds.size - 1, None if self.parallel else 1)
        return float(self._losses.sum())

    def run(self, W, H, H_next):
        """One pass over (W, H): returns D(V | WH) and writes the updated H into
        ``H_next``; the W-update products are then in :meth:`w_products`."""
        np.matmul(W, H, out=self.X)
        total = self._weights(with_loss=True)
        if self.mode == kernels.MODE_GENERIC:
            total = (self._constant + total) / (self.beta * (self.beta - 1.0))
        H_next[...] = H
        if self.update_H:
            numerator = W.T @ self.X
            colsumW = W.sum(axis=0)
            denominator = numerator if self.mode == kernels.MODE_KL else W.T @ self.C  # KL: colsumW
            _update_all(H_next, numerator, denominator, colsumW, self.mode, self.gamma, self.l1_H, self.l2_H,
                        self.free_H, self.tiny, self.flush)
        if self.update_W:
            np.matmul(W, H_next, out=self.X)
            self._weights(with_loss=False)
            self._numerator = self.X @ H_next.T
            if self.mode == kernels.MODE_KL:
                self._denominator = H_next.sum(axis=1)[None, :]
            else:
                self._denominator = self.C @ H_next.T
        return total

    def w_products(self):
        """(numerator (F, k), denominator (F, k) or (1, k)) of the W update, for the H
        written by the last :meth:`run`."""
        return self._numerator, self._denominator


def make_pass(V, n_components, **options):
    """The faster pass for this problem: :class:`GemmBetaPass` from
    :data:`GEMM_MIN_K` components on, else the fused :class:`~nmfaudio.nmf.kernels.BetaPass`.

    Parameters
    ----------
    V : ndarray, shape (n_features, n_samples)
    n_components : int
    **options
        BetaPass's keyword parameters (``beta``, ``gamma``, ``eps``, ``free_H``, ``l1_H``,
        ``l2_H``, ``update_W``).
    """
    mode = kernels.mode_for(options["beta"])
    threshold = GEMM_MIN_K.get(mode, GEMM_MIN_K["other"])
    if n_components >= threshold:
        return GemmBetaPass(V, n_components, **options)
    return BetaPass(V, n_components, **options)
