"""Cyclic coordinate descent for the Kullback-Leibler and Itakura-Saito divergences.

Hsieh & Dhillon (KDD 2011) showed that for KL, cyclic coordinate descent with a
one-variable Newton step per entry reaches a given loss far sooner than multiplicative
updates: each entry of W and H is moved (close) to its exact minimizer with the others
held, where a multiplicative update only takes a conservative majorization step.

One iteration here:

1. ``Mᵀ = Hᵀ Wᵀ`` (BLAS GEMM, fresh each phase so that incremental updates do not drift);
   then for each column j of H (independent of the other columns, so split over threads)
   ``inner`` sweeps over the free components r, each a projected Newton step on
   ``H[r, j]`` that keeps the model column ``M[:, j]`` up to date;
2. ``M = W H`` likewise, then the same per row f of W; the loss of the new (W, H) comes
   out of the same row loop.

The one-variable function is ``φ(h) = Σ_f d_β(v_f | x_f + w_f (h − h₀))`` (plus the
penalties), with the model floored at ``eps`` as in the multiplicative updates.  The
Newton step uses φ'(h₀) and φ''(h₀) and is projected on h ≥ 0.

Safeguard (monotone loss), without evaluating φ.  A step d is safe when φ'' along
[h₀, h₀ + d] stays below the curvature c used for it (then φ decreases by ≥ g·|d|/2).

* Rightward (φ'(h₀) < 0): the model grows along the way.  For KL, φ'' = Σ v w² / x²
  only falls, so the Newton step is safe; for IS, φ'' = Σ w² (2v − x) / x³ ≤
  Σ w² max(2v − x, 0) / x³ at h₀, which is the curvature used.
* Leftward: since x_f ≥ w_f h₀, moving to h₀(1 − δ) keeps x_f ≥ (1 − δ) x_f(h₀), so φ''
  grows at most by (1 − δ)⁻² (KL) or (1 − δ)⁻³ (IS, from Σ 2 v w² / x³); the step
  solves δ = a (1 − δ)^p with a = φ'/(c h₀) from below (:func:`_left_fraction`).

So, in exact arithmetic and where the model stays above the floor ``eps``, every step
decreases the objective and the loss never increases; the tests check it to float32
rounding.  Leftward steps never reach zero exactly; an entry whose largest contribution
to the model falls below :func:`nmfaudio.nmf.kernels.flush_level` is set to zero
(coordinate descent can move it back up, unlike a multiplicative update).

Frozen components are never written (only the free rows of H and columns of W are
visited), so they stay bit-identical.  Memory: V and Vᵀ plus one model buffer, each
(n_features × n_samples) — one more such array than the fused multiplicative updates.
"""

from __future__ import annotations

import numpy as np

from nmfaudio.nmf.kernels import HAVE_NUMBA, MAX_TASKS, flush_level, run_in_threads

#: Modes of the row kernel.
MODE_IS, MODE_KL = 0, 1

if HAVE_NUMBA:
    from nmfaudio.nmf.kernels import _jit, _jit_inline, fast_log

    @_jit_inline
    def _left_fraction(a, p, one):
        """The fraction δ in [0, 1) with δ = a (1 − δ)^p (a ≥ 0, p = 2 or 3), from below:
        Newton's method on the concave increasing δ − a(1 − δ)^p started at 0 never
        overshoots the root, so every iterate is a safe step (see the module docstring)."""
        delta = a - a  # 0 in a's dtype
        for _ in range(3):
            rest = one - delta
            power = rest * rest if p == 2 else rest * rest * rest
            delta += (a * power - delta) / (one + p * a * power / rest)
        return delta

    @_jit_inline
    def _row_loss(v, x, m, mode, eps, zero, one):
        """Σ_t d(v_t | max(x_t, eps)) for one row, summed in the data's dtype (vectorized,
        float32 log), returned as float64."""
        row = zero
        if mode == MODE_KL:
            for t in range(m):
                xt = max(x[t], eps)
                row += v[t] * fast_log(v[t] / xt) - v[t] + xt
        else:
            for t in range(m):
                q = v[t] / max(x[t], eps)
                row += q - fast_log(q) - one
        return np.float64(row)

    @_jit
    def _cd_rows(V, M, X, Y, Y_max, free, i0, i1, mode, eps, l1, l2, inner, with_loss, zero, one, flush):
        """Coordinate descent on rows i0..i1 of X (n, k) for V ≈ X Y, with the model
        M = X Y (n, m) given and kept current; Y (k, m).  Returns the loss terms of
        those rows after the update (float64) when ``with_loss``.

        Each pass over a row applies the previous component's step to the model and
        gathers the next component's derivatives in the same loop."""
        m = V.shape[1]
        n_free = free.size
        loss = 0.0
        for i in range(i0, i1):
            v = V[i]
            x = M[i]
            prev = free[0]
            step = zero  # the pending step of component `prev`, not yet in x
            for _ in range(inner):
                for rr in range(n_free):
                    r = free[rr]
                    y = Y[r]
                    yp = Y[prev]
                    g = zero
                    c = zero
                    if mode == MODE_KL:
                        for t in range(m):
                            xt = x[t] + step * yp[t]
                            x[t] = xt
                            inv = one / max(xt, eps)
                            q = v[t] * inv
                            g += y[t] * (one - q)
                            c += y[t] * y[t] * (q * inv)
                    else:
                        for t in range(m):
                            xt = x[t] + step * yp[t]
                            x[t] = xt
                            inv = one / max(xt, eps)
                            q = v[t] * inv
                            yi = y[t] * inv
                            g += yi * (one - q)
                            c += yi * yi * max(q + q - one, zero)
                    h = X[i, r]
                    prev = r
                    step = zero
                    g += l1 + l2 * h
                    if g < 0:
                        # rightward: the curvature only falls along the way, so the
                        # Newton step (KL) or the step with the curvature bound (IS) is safe
                        if c + l2 <= 0:
                            continue  # no curvature: w = 0 where it matters
                        step = -g / (c + l2)
                    elif g > 0 and h > 0:
                        # leftward: the model drops by at most δ, the curvature grows by at
                        # most (1 − δ)^−2 (KL) or (1 − δ)^−3 (IS, from Σ 2 v w² / x³)
                        if mode != MODE_KL:
                            c = zero
                            for t in range(m):
                                inv = one / max(x[t], eps)
                                yi = y[t] * inv
                                c += yi * yi * (v[t] * inv)
                            c += c
                        c += l2
                        if c <= 0:
                            continue
                        delta = _left_fraction(g / (c * h), 2 if mode == MODE_KL else 3, one)
                        step = -delta * h
                    else:
                        continue
                    new = h + step
                    # an entry whose largest contribution to the model is below
                    # kernels.flush_level is zero (no subnormal products; the test is
                    # invariant to rescaling W and H by powers of two)
                    if new * Y_max[r] < flush:
                        new = zero
                        step = -h
                    X[i, r] = new
            for t in range(m):  # the last pending step
                x[t] += step * Y[prev][t]
            if with_loss:
                loss += _row_loss(v, x, m, mode, eps, zero, one)
        return loss

    @_jit
    def _loss_rows(V, M, i0, i1, mode, eps, zero, one):
        """The floored divergence terms of rows i0..i1 (float64 sum of float32 row sums)."""
        m = V.shape[1]
        loss = 0.0
        for i in range(i0, i1):
            loss += _row_loss(V[i], M[i], m, mode, eps, zero, one)
        return loss


def _row_bounds(n_rows: int) -> np.ndarray:
    """A fixed split of rows into at most MAX_TASKS tasks (independent of the thread
    count, so results are the same on any number of threads)."""
    n_tasks = max(1, min(MAX_TASKS, n_rows // 8))
    return np.linspace(0, n_rows, n_tasks + 1).round().astype(np.int64)


class BetaCD:
    """Cyclic coordinate descent (Hsieh & Dhillon, 2011) for β = 1 (KL) and β = 0 (IS),
    with a checked Newton step per entry (see the module docstring).

    Follows the solver protocol of :mod:`nmfaudio.nmf.solvers`: ``start()`` returns the
    loss of the starting point, ``step()`` updates H then W in place and returns the loss.

    Parameters
    ----------
    V : ndarray, shape (n_features, n_samples)
        Floored data (β ≤ 1).
    W : ndarray, shape (n_features, k)
    H : ndarray, shape (k, n_samples)
    problem : nmfaudio.nmf.solvers.Problem
    inner : int
        Sweeps over the components per row (per column of H, per row of W) and phase.
    """

    #: Default sweeps over the components of one row, per phase.
    inner = 2

    def __init__(self, V, W, H, problem, *, inner=None):
        if not HAVE_NUMBA:  # pragma: no cover - make_cd checks first
            raise RuntimeError("coordinate descent needs numba")
        if problem.beta not in (0.0, 1.0):
            raise ValueError(f"coordinate descent handles beta=1 (KL) and beta=0 (IS), got {problem.beta:g}")
        self.W, self.H, self.problem = W, H, problem
        self.mode = MODE_KL if problem.beta == 1 else MODE_IS
        if inner is not None:
            self.inner = int(inner)
        dt = V.dtype.type
        self.dt = dt
        self.eps, self.zero = dt(problem.eps), dt(0)
        self.flush = dt(flush_level(V.dtype))
        self.V = np.ascontiguousarray(V)
        self.Vt = np.ascontiguousarray(V.T)
        F, T = V.shape
        self._buffer = np.empty(F * T, V.dtype)  # the model, as (F, T) or as (T, F)
        self.free_H = np.flatnonzero(problem.free_H).astype(np.int64)
        self.free_W = np.flatnonzero(problem.free_W).astype(np.int64)
        self.bounds_T = _row_bounds(T)
        self.bounds_F = _row_bounds(F)
        self.parallel = F * T * W.shape[1] >= 2_000_000

    def _model(self, transposed: bool) -> np.ndarray:
        F, T = self.V.shape
        if transposed:
            M = self._buffer.reshape(T, F)
            np.matmul(self.H.T, self.W.T, out=M)
        else:
            M = self._buffer.reshape(F, T)
            np.matmul(self.W, self.H, out=M)
        return M

    def _run(self, V, M, X, Y, free, bounds, l1, l2, with_loss) -> float:
        losses = np.zeros(bounds.size - 1)
        Y_max = Y.max(axis=1)

        def task(t):
            losses[t] = _cd_rows(V, M, X, Y, Y_max, free, bounds[t], bounds[t + 1], self.mode, self.eps,
                                 self.dt(l1), self.dt(l2), self.inner, with_loss, self.zero, self.dt(1),
                                 self.flush)

        run_in_threads(task, bounds.size - 1, None if self.parallel else 1)
        return float(losses.sum())

    def _loss(self, V, M, bounds) -> float:
        losses = np.zeros(bounds.size - 1)

        def task(t):
            losses[t] = _loss_rows(V, M, bounds[t], bounds[t + 1], self.mode, self.eps, self.zero, self.dt(1))

        run_in_threads(task, bounds.size - 1, None if self.parallel else 1)
        return float(losses.sum())

    def start(self) -> float:
        return self._loss(self.V, self._model(False), self.bounds_F)

    def step(self) -> float:
        p = self.problem
        loss = None
        if self.free_H.size:
            Ht = np.ascontiguousarray(self.H.T)  # (T, k): each column of H one row
            Wt = np.ascontiguousarray(self.W.T)  # (k, F)
            M = self._model(True)
            with_loss = not self.free_W.size
            loss = self._run(self.Vt, M, Ht, Wt, self.free_H, self.bounds_T, p.l1_H, p.l2_H, with_loss)
            self.H[self.free_H] = Ht.T[self.free_H]
        if self.free_W.size:
            W = self.W if self.W.flags.c_contiguous else np.ascontiguousarray(self.W)
            M = self._model(False)
            loss = self._run(self.V, M, W, self.H, self.free_W, self.bounds_F, p.l1_W, p.l2_W, True)
            if W is not self.W:
                self.W[:, self.free_W] = W[:, self.free_W]
        if loss is None:  # nothing is free
            loss = self.start()
        return loss


def make_cd(V, W, H, problem):
    """Coordinate descent for KL (β = 1) and IS (β = 0); needs numba."""
    if problem.beta not in (0.0, 1.0):
        raise ValueError(
            f"solver='ccd' minimizes the Kullback-Leibler (beta=1) and Itakura-Saito (beta=0) "
            f"divergences only, got beta={problem.beta:g}; use solver='mu' for other divergences"
        )
    if not HAVE_NUMBA:
        raise ValueError("solver='ccd' needs numba (pip install numba); use solver='mu'")
    if hasattr(V, "indptr"):
        raise ValueError("solver='ccd' needs a dense V; use solver='mu' for scipy.sparse input")
    return BetaCD(V, W, H, problem)
