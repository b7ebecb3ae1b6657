"""Multiplicative updates with extrapolation (Ang & Gillis, 2019), for any β ≠ 2.

Ang & Gillis ("Accelerating nonnegative matrix factorization algorithms using
extrapolation", Neural Computation 31, 2019) speed up alternating NMF solvers by
extrapolating the iterates, ``Y = max(X_new + m (X_new − X_old), 0)``, with a momentum
``m`` that grows while extrapolation pays off and shrinks (and restarts) when it does not.

Here the base step is one fused multiplicative-update pass
(:class:`nmfaudio.nmf.kernels.BetaPass`), which returns the loss of the pair it ran on
for free.  So each step *checks* the candidate it was given:

* loss(candidate) ≤ loss(held pair): the candidate becomes the held pair, the momentum
  grows (× :attr:`growth`, capped at :attr:`ceiling`), and the next candidate is the MU
  update of it, extrapolated along the MU sequence;
* otherwise the candidate is dropped, the held pair (and its loss) stays, the momentum
  shrinks (÷ :attr:`shrink`) and the ceiling comes down to the failed momentum; the
  next candidate is the held pair's plain MU update (no extrapolation).

Unlike the paper, an extrapolated entry keeps at least a fraction :attr:`keep` of its MU
value instead of being clipped at zero: a multiplicative update never revives a zero, and
KL fits stalled on entries driven to zero (1025 × 1300, k = 16, loss after 200
iterations against plain MU's: +52 % clipped at zero, +24 % keeping 10 %, +3.6 % keeping
50 % — with 42 % of the template entries zero —, −1 % keeping 80 %, −6 % keeping 95 %).
Keeping less reaches a given loss sooner but ends worse, so 95 % stays: iterations to
scikit-learn MU's 200-iteration loss on the engine benchmark's spectrogram (1025 × 2600,
k = 8 / 16 / 32, benchmarks/engine.py) were KL 66 / 67 / 62 keeping 95 %, 64 / 61 / 53
keeping 90 %; IS 48 / 55 / 49 keeping 95 %, 36 / 40 / 33 keeping 80 % — but the loss
after 300 iterations was higher (KL k = 16: +2.2 % keeping 90 %, +6.3 % keeping 80 %;
IS k = 8: +0.65 % keeping 90 %, +0.8 % keeping 80 %).  The momentum stays ≤ 1 as in the paper
(letting it grow to 2-4 caused rejections and more iterations, measured).

For β < 1 the updates start with an over-relaxed exponent (:func:`relaxed_exponent`,
0.75 instead of the MM exponent 0.5 for Itakura-Saito), whose steps are checked like the
extrapolated ones; once a plain (unextrapolated) update with it raises the loss, the
solver goes back to the MM exponent for good (one extra pass over the held pair).

Safeguard: the factors held and the loss reported are always those of the best pair so
far, so the reported loss never increases (a rejected step reports the same loss again).
A rejection costs one pass.  Frozen components are neither updated nor extrapolated
(bit-identical); penalties are those of the multiplicative updates; factor entries below
:func:`nmfaudio.nmf.kernels.flush_level` are held there, as in MU.
"""

from __future__ import annotations

import numpy as np

from nmfaudio.nmf.gemm_pass import make_pass
from nmfaudio.nmf.kernels import HAVE_NUMBA, flush_level, flush_subnormal

if HAVE_NUMBA:
    import numba

    # No fastmath: the same float32 roundings as the NumPy expression it replaces (no FMA
    # contraction), so the iterates are bit-identical to it.
    @numba.njit(nogil=True, cache=True)
    def _extrapolate_into(out, new, old, free, axis, momentum, keep, level):
        """out = max(new + momentum (new − old), keep · new), raised to ``level`` where in
        (0, level), on the rows (axis 0) or columns (axis 1) listed in ``free``; one loop
        and no temporaries (the NumPy form is a dozen small calls per factor)."""
        zero = new.dtype.type(0)
        n_rows, n_cols = new.shape
        for i in range(free.size if axis == 0 else n_rows):
            r = free[i] if axis == 0 else i
            for jj in range(n_cols if axis == 0 else free.size):
                c = jj if axis == 0 else free[jj]
                base = new[r, c]
                moved = base + momentum * (base - old[r, c])
                floor = keep * base
                moved = moved if moved >= floor else floor
                out[r, c] = level if (moved > zero and moved < level) else moved

    # error_model="numpy": no zero-division check per division (a branch that kept the
    # W step's loops from vectorising: 2-3x slower than NumPy at k = 32, measured)
    @numba.njit(nogil=True, cache=True, error_model="numpy", inline="always")
    def _extrapolated(base, old, momentum, keep, level):
        """max(base + m (base − old), keep · base), raised to ``level`` in (0, level):
        selects, no branches, so the loops that call it vectorise."""
        moved = base + momentum * (base - old)
        floor = keep * base
        moved = moved if moved >= floor else floor
        return level if (moved > 0) & (moved < level) else moved

    @numba.njit(nogil=True, cache=True, error_model="numpy")
    def _w_step(W_mu, W_next, Wc, W_old, num, den, free, l1, l2, gamma, tiny, level,
                extrapolate, momentum, keep):
        """W's MU update of ``Wc`` into ``W_mu`` and the next candidate into ``W_next``:
        the tasks' products (num (n_tasks, F, k); den (n_tasks, F, k), or (n_tasks, 1, k)
        for KL) summed in task order as NumPy's ``sum(axis=0)``, the ratio
        [num / max(den + l1 + l2·w, tiny)]^γ, the flush, and — when ``extrapolate`` — the
        extrapolation along ``W_old`` (as :func:`_extrapolate_into`), else a copy.  Frozen
        columns (``free`` False) are copied.  The sums accumulate in the two outputs (no
        temporaries); each step is a flat loop over all F·k entries where it can be (a
        row at a time, k = 8 entries per loop, ran at NumPy's speed), with selects for
        branches, so that LLVM vectorises it."""
        n_tasks = num.shape[0]
        n_rows, n_cols = Wc.shape
        if not np.any(free):  # all templates fixed: the pass made no W products
            W_mu[:] = Wc
            W_next[:] = Wc
            return
        m, d = W_mu.reshape(-1), W_next.reshape(-1)  # the numerator's and denominator's sums
        w, old = Wc.reshape(-1), W_old.reshape(-1)
        m[:] = num[0].reshape(-1)
        for t in range(1, n_tasks):
            m += num[t].reshape(-1)
        if den.shape[1] == 1:  # KL: one denominator per column (Σ_t of the H sums)
            shared = den[0, 0].copy()
            for t in range(1, n_tasks):
                shared += den[t, 0]
            for r in range(n_rows):
                W_next[r] = shared
        else:
            d[:] = den[0].reshape(-1)
            for t in range(1, n_tasks):
                d += den[t].reshape(-1)
        if l1 != 0 or l2 != 0:
            for i in range(m.size):
                x = (d[i] + l1) + l2 * w[i]
                m[i] = m[i] / (x if x >= tiny else tiny)
        else:
            for i in range(m.size):
                x = d[i]
                m[i] = m[i] / (x if x >= tiny else tiny)
        if gamma == 0.5:  # NumPy's ** 0.5 is a square root
            for i in range(m.size):
                m[i] = np.sqrt(m[i])
        elif gamma == 0.75:  # x^¾ = √x·√√x, vector square roots (as the H update)
            for i in range(m.size):
                root = np.sqrt(m[i])
                m[i] = root * np.sqrt(root)
        elif gamma != 1:
            for i in range(m.size):
                m[i] = m[i] ** gamma
        for i in range(m.size):
            base = w[i] * m[i]
            m[i] = level if (base > 0) & (base < level) else base
        if extrapolate:
            for i in range(m.size):
                d[i] = _extrapolated(m[i], old[i], momentum, keep, level)
        else:
            d[:] = m
        for c in range(n_cols):  # frozen columns: unchanged
            if not free[c]:
                W_mu[:, c] = Wc[:, c]
                W_next[:, c] = Wc[:, c]

    @numba.njit(nogil=True, cache=True, error_model="numpy")
    def _h_step(H_mu, H_next, H_new, H_old, free, extrapolate, momentum, keep, level):
        """``H_mu`` = a copy of the pass's ``H_new``, ``H_next`` its extrapolation along
        ``H_old`` on the free rows (as :func:`_extrapolate_into`) or a copy: one loop in
        place of two copies and the extrapolation."""
        n_rows, n_cols = H_new.shape
        for r in range(n_rows):
            row = H_new[r]
            H_mu[r] = row
            if extrapolate and free[r]:
                old = H_old[r]
                for c in range(n_cols):
                    H_next[r, c] = _extrapolated(row[c], old[c], momentum, keep, level)
            else:
                H_next[r] = row


class ExtrapolatedBetaMU:
    """β-MU (Févotte & Idier's MM exponent) with checked extrapolation; the solver
    protocol of :mod:`nmfaudio.nmf.solvers` (``start()``, ``step()`` → loss).

    Parameters
    ----------
    V : ndarray, shape (n_features, n_samples)
        Floored data.
    W : ndarray, shape (n_features, k)
    H : ndarray, shape (k, n_samples)
    problem : nmfaudio.nmf.solvers.Problem
    gamma : float
        The MM exponent of the update (``solvers.mm_exponent``).
    ratio : callable
        The multiplicative factor of the W update (``solvers.mu_ratio``).
    relaxed_gamma : float, optional
        An over-relaxed exponent (≥ ``gamma``) used until a plain, unextrapolated update
        with it raises the loss; from then on ``gamma`` (see :func:`relaxed_exponent`).
    warm_start : callable(W, H) -> (W, H), optional
        A cheap first move (``solvers.frobenius_warm_start``): the first ``step()`` runs
        it from the starting pair and keeps its pair only if its loss is no higher than
        the start's (one pass to check); the updates continue from the kept pair.
    compiled : bool
        ``ratio`` is ``solvers.mu_ratio``: W's update and extrapolation then run as one
        compiled step (:func:`_w_step`, :func:`_h_step`; numba), else in NumPy.
    """

    #: Starting momentum, its growth on success, its division on failure, and the
    #: starting ceiling with its growth (Ang & Gillis's β₀, γ, η, β̄₀, γ̄).
    momentum = 0.5
    growth = 1.1
    shrink = 1.5
    ceiling = 1.0
    ceiling_growth = 1.01
    #: The ceiling never exceeds this (Ang & Gillis: 1).
    max_momentum = 1.0
    #: An extrapolated entry keeps at least this fraction of its MU value.
    keep = 0.95

    def __init__(self, V, W, H, problem, *, gamma, ratio, relaxed_gamma=None, warm_start=None, compiled=False):
        self.W, self.H, self.problem = W, H, problem
        self.warm_start = warm_start
        self.mm_gamma = gamma
        self.gamma = gamma if relaxed_gamma is None else max(gamma, relaxed_gamma)
        self._ratio = ratio
        self.compiled = HAVE_NUMBA and compiled
        self.free_H = np.flatnonzero(problem.free_H)
        self.free_W = np.flatnonzero(problem.free_W)
        self.all_H = self.free_H.size == H.shape[0]
        self.all_W = self.free_W.size == W.shape[1]
        self.mask_H = np.ascontiguousarray(problem.free_H, dtype=np.bool_)
        self.mask_W = np.ascontiguousarray(problem.free_W, dtype=np.bool_)
        self.pass_ = make_pass(
            V, W.shape[1], beta=problem.beta, gamma=self.gamma,
            eps=problem.eps if problem.beta < 2 else 0.0,
            free_H=problem.free_H, l1_H=problem.l1_H, l2_H=problem.l2_H,
            update_W=self.free_W.size > 0,
        )
        # the candidate the next pass checks, and the previous MU output (momentum)
        self.Wc, self.Hc = W.copy(), H.copy()
        self.W_mu, self.H_mu = W.copy(), H.copy()
        self.H_next = np.empty_like(H)
        self.loss = np.inf
        self.plain = True  # the candidate is the held pair's unextrapolated update
        self.rerun = False  # the candidate is the held pair itself (back to the MM exponent)
        self.momentum = type(self).momentum
        self.ceiling = type(self).ceiling
        self.warm_start_done = False
        self.warm_accepted = False

    def _mu_update(self, Wc):
        """W's MU update from the products of the last pass (H already in H_next)."""
        p = self.problem
        W_new = Wc.copy()
        if self.free_W.size:
            c = slice(None) if self.all_W else self.free_W  # a view, not a gathered copy
            numerator, denominator = self.pass_.w_products()
            updated = Wc[:, c] * self._ratio(numerator[:, c], denominator[:, c], Wc[:, c], p.l1_W, p.l2_W, self.gamma)
            flush_subnormal(updated)
            W_new[:, c] = updated
        return W_new

    def _extrapolate(self, new, old, free, axis):
        """max(new + m (new − old), keep · new) on the free rows (axis 0) or columns
        (axis 1), entries below the flush level raised to it."""
        out = new.copy()
        if HAVE_NUMBA:
            dt = new.dtype.type
            _extrapolate_into(out, new, old, free, axis, dt(self.momentum), dt(self.keep),
                              dt(flush_level(new.dtype)))
            return out
        index = (free,) if axis == 0 else (slice(None), free)
        base = new[index]
        moved = base + self.momentum * (base - old[index])
        # Not max(·, 0): a multiplicative update never revives a zero, so an entry the
        # extrapolation zeroed would stay zero for good.  Keep a fraction of the MU value.
        np.maximum(moved, self.keep * base, out=moved)
        flush_subnormal(moved)
        out[index] = moved
        return out

    def start(self) -> float:
        self.loss = self.pass_.run(self.Wc, self.Hc, self.H_next)
        self._advance(extrapolate=False)
        self.held_mu = (self.W_mu, self.H_mu)
        return self.loss

    def _advance(self, *, extrapolate):
        """Next candidate from the last pass: the MU update of the pair it ran on,
        extrapolated along the MU sequence when ``extrapolate``."""
        if self.compiled:
            self._advance_compiled(extrapolate)
            return
        H_mu = self.H_next.copy()
        W_mu = self._mu_update(self.Wc)
        if extrapolate:
            self.Hc = self._extrapolate(H_mu, self.H_mu, self.free_H, 0)
            self.Wc = self._extrapolate(W_mu, self.W_mu, self.free_W, 1)
        else:
            self.Hc, self.Wc = H_mu.copy(), W_mu.copy()
        self.H_mu, self.W_mu = H_mu, W_mu

    def _advance_compiled(self, extrapolate):
        """:meth:`_advance` in two compiled loops (:func:`_w_step`, :func:`_h_step`) on
        fresh arrays (the held pair's MU update may still be referenced)."""
        dt = self.Wc.dtype.type
        momentum, keep, level = dt(self.momentum), dt(self.keep), dt(flush_level(self.Wc.dtype))
        H_mu, Hc = np.empty_like(self.H_next), np.empty_like(self.H_next)
        _h_step(H_mu, Hc, self.H_next, self.H_mu, self.mask_H, extrapolate, momentum, keep, level)
        # _w_step runs flat over C-ordered (F, k) arrays, as the pass's products are; a
        # warm start's W may come in Fortran order (HALS works on Wᵀ)
        W_old, W_in = np.ascontiguousarray(self.W_mu), np.ascontiguousarray(self.Wc)
        W_mu, Wc = np.empty(W_in.shape, W_in.dtype), np.empty(W_in.shape, W_in.dtype)
        num, den = self.pass_.task_products()
        p = self.problem
        _w_step(W_mu, Wc, W_in, W_old, num, den, self.mask_W, dt(p.l1_W), dt(p.l2_W),
                dt(self.gamma), dt(np.finfo(self.Wc.dtype).tiny), level, extrapolate, momentum, keep)
        self.Hc, self.Wc, self.H_mu, self.W_mu = Hc, Wc, H_mu, W_mu

    def _warm_step(self) -> float:
        """The first iteration with a warm start: its pair if its loss is no higher than
        the start's, else the start (the candidate stays the start's MU update)."""
        self.warm_start_done = True
        W_warm, H_warm = self.warm_start(self.W, self.H)
        loss = self.pass_.run(W_warm, H_warm, self.H_next)
        self.warm_accepted = bool(loss <= self.loss)
        if self.warm_accepted:
            self.loss = loss
            self.W[...] = W_warm
            self.H[...] = H_warm
            self.Wc, self.Hc = W_warm, H_warm
            self._advance(extrapolate=False)  # a plain MU update of the warm pair next
            self.held_mu = (self.W_mu, self.H_mu)
        # rejected: the pass's products are stale, but the candidate (the start's MU
        # update, made in start()) does not need them
        self.plain = True
        return self.loss

    def step(self) -> float:
        if self.warm_start is not None and not self.warm_start_done:
            return self._warm_step()
        loss = self.pass_.run(self.Wc, self.Hc, self.H_next)
        if self.rerun:  # a pass over the held pair with the MM exponent: its MM update next
            self.rerun = False
            self._advance(extrapolate=False)
            self.held_mu = (self.W_mu, self.H_mu)
            self.plain = True
            return self.loss
        if loss <= self.loss:
            self.loss = loss
            self.W[...] = self.Wc
            self.H[...] = self.Hc
            self._advance(extrapolate=True)
            self.held_mu = (self.W_mu, self.H_mu)  # the held pair's plain MU update
            self.plain = False
            self.momentum = min(self.ceiling, self.momentum * self.growth)
            self.ceiling = min(self.max_momentum, self.ceiling * self.ceiling_growth)
        else:
            self.ceiling = self.momentum
            self.momentum /= self.shrink
            if self.plain and self.gamma != self.mm_gamma:
                # an over-relaxed update raised the loss by itself: the MM exponent from
                # here on, starting with a pass over the held pair (which repeats its loss)
                self.gamma = self.pass_.gamma = self.mm_gamma
                self.Wc, self.Hc = self.W.copy(), self.H.copy()
                self.rerun = True
            else:
                # next candidate: the held pair's plain MU update (an MM step: it decreases)
                self.W_mu, self.H_mu = self.held_mu
                self.Wc, self.Hc = self.W_mu.copy(), self.H_mu.copy()
            self.plain = True
        return self.loss


def relaxed_exponent(beta: float, mm_gamma: float) -> float | None:
    """The over-relaxed exponent :class:`ExtrapolatedBetaMU` starts with, or None.

    For β < 1 the MM exponent 1/(2 − β) (0.5 for Itakura-Saito) guarantees descent but
    is cautious; the plain heuristic update uses 1.  Halfway, (1 + 1/(2 − β))/2 (0.75
    for IS), reached scikit-learn MU's 200-iteration IS loss in fewer iterations and
    ended lower after 150 and 300 (1025 × 2600, k = 8 / 16 / 32: 48 / 55 / 49 → 43 / 48
    / 39 iterations; loss after 300 iterations 0.3 / 8 / 1.7 % lower), with no rejected
    step; 1 itself was faster at k = 16 and 32 (40, 32) but slower at k = 8 (54) and
    ended higher there.  For KL (γ = 1) over-relaxation (γ = 1.2–1.8) was worse: 87–233
    iterations instead of 67, and a higher loss after 300.  So only β < 1.
    """
    if beta < 1:
        return 0.5 * (1.0 + mm_gamma)
    return None
