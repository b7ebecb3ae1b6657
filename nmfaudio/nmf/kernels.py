"""Fused, cache-blocked kernels for the multiplicative updates (numba; NumPy fallback).

Why this module exists.  A plain NumPy iteration of the Kullback-Leibler or
Itakura-Saito multiplicative updates streams several full-size (n_features, n_samples)
temporaries through memory: WH, V / WH, (V / WH) / WH, 1 / WH, then WH again for the W
update and once more for the loss.  On a 3-minute spectrogram that is ~10× the time of
the two matrix products the update really needs.

Here one *pass* over V does a whole iteration, a block of columns at a time, while the
block is in cache:

1. sweep 1, for the block's columns j: WH[:, j] = W @ H[:, j], the loss terms of the
   current (W, H), the weights V/WH (and 1/WH, ...) and their products Wᵀ(weights) —
   then the new H[:, j] (an H column only depends on its own column of V);
2. sweep 2, same block: WH' = W @ H_new[:, j] and the W-update products
   (weights') H_newᵀ, accumulated per task.

Columns are split into a fixed number of tasks (independent of the thread count, so
results do not depend on it); each task accumulates its own partial W products, summed
afterwards in a fixed order.  Tasks run on a small pool of Python threads — the
compiled task releases the GIL — pulling the next task when done, so a thread that the
OS deschedules on a shared machine does not hold the others up.  (Plain threads rather
than numba's ``parallel=True``: half the compile time, and no threading-layer pitfalls
such as workqueue's abort when two threads call the kernel at once.)  No
(n_features, n_samples) array is ever allocated.

The caller (:class:`nmfaudio.nmf.solvers.FusedBetaMU`) turns the pass into iterations:
the pass over (W_i, H_i) yields loss_i, H_{i+1} and the products that give W_{i+1}.

When numba is not installed, :data:`HAVE_NUMBA` is False and the solvers use the plain
NumPy updates instead (same results to float32 rounding, slower, more memory).
"""

from __future__ import annotations

import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

try:  # numba comes with librosa; the engine must still work without it
    import numba
    from numba.core import types
    from numba.extending import overload

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None
    HAVE_NUMBA = False

#: Columns per cache block of the β pass: a block of V (n_features × BLOCK float32, ~2 MB
#: at 1025 rows) stays in the L2/L3 cache between the two sweeps; H's block (k × BLOCK)
#: stays in L1/L2.  512 rather than 256: the pass was 6–9 % faster at k = 8–32 on an Intel
#: Xeon (128: 15–25 % slower), one thread side by side (docs/performance.md).  The
#: convolutive kernels (convolutive.py) keep their own block size.
#: At most 1023: the split Itakura-Saito loss multiplies BLOCK mantissas in [1, 2) in
#: float64 (< 2^BLOCK).
BLOCK = 512
assert BLOCK <= 1023
#: At most this many parallel tasks per pass.  Fixed (not the thread count) so that the
#: summation order, hence the result, is the same on any number of threads.
MAX_TASKS = 16

#: Multiply-adds per iteration (F·T·k) below which a pass runs on one thread (thread
#: hand-offs cost more than they save).
PARALLEL_MIN_WORK = 2_000_000

#: Divergence families the fused pass knows.  MODE_IS_SPLIT is Itakura-Saito in float32
#: with its loss summed as Σ(q − 1) + Σ log WH − Σ log V (see _weights_row): no log per entry.
#: MODE_KL_SPLIT is Kullback-Leibler in float32 whose loss's log shares the weight's
#: division (see _kl_split_row).  :func:`pass_mode` picks the mode of a pass.
MODE_IS, MODE_KL, MODE_GENERIC, MODE_IS_SPLIT, MODE_KL_SPLIT = 0, 1, 2, 3, 4
#: MODE_KL_SPLIT needs eps and min V ≥ this (x·(v + x') in _kl_split_row stays a normal
#: float32; a zero v would make the weight 0·∞) and max V ≤ KL_SPLIT_MAX_V (no overflow;
#: the fits floor V at eps and scale it to a maximum below 1).
KL_SPLIT_MIN_EPS = 2.0**-60
KL_SPLIT_MAX_V = 2.0**30

#: What a weight sweep of a pass computes (``_weights_rows``'s ``sweep``, a constant at
#: each call): the W update's weights (the second sweep); the H update's weights and the
#: loss terms (the first); the H update's weights alone (the first sweep of a pass whose
#: loss is not wanted, see ``BetaPass.run``).  The H weights are the same numbers with or
#: without the loss (MODE_KL_SPLIT's share the loss's division, see _kl_split_row), so a
#: pass without the loss updates the factors bit-identically.
SWEEP_W, SWEEP_H_LOSS, SWEEP_H = 0, 1, 2


def mode_for(beta: float) -> int:
    """The kernel family for β: Itakura-Saito (0), Kullback-Leibler (1) or any other."""
    if beta == 0:
        return MODE_IS
    if beta == 1:
        return MODE_KL
    return MODE_GENERIC


def pass_mode(beta: float, V: np.ndarray, eps: float) -> int:
    """The kernel mode of a pass over V (floored at ``eps`` for β ≤ 1): :func:`mode_for`,
    or for float32 its split form — Itakura-Saito when eps is a normal float32 (the model
    floor keeps WH normal), Kullback-Leibler when eps and min V are ≥ :data:`KL_SPLIT_MIN_EPS`
    and max V ≤ :data:`KL_SPLIT_MAX_V` (see _kl_split_row).  Checked here, not assumed
    of the caller: a V not floored as the solvers expect (zeros) keeps the plain mode.

    Parameters
    ----------
    beta : float
    V : ndarray, shape (n_features, n_samples)
    eps : float
        The pass's floor of WH (and of V for β ≤ 1).

    Returns
    -------
    int
        One of the MODE_* constants."""
    mode = mode_for(beta)
    if V.dtype != np.float32:
        return mode
    if mode == MODE_IS and eps >= np.finfo(np.float32).tiny:
        return MODE_IS_SPLIT
    if (mode == MODE_KL and eps >= KL_SPLIT_MIN_EPS and V.size
            and float(V.min()) >= KL_SPLIT_MIN_EPS and float(V.max()) <= KL_SPLIT_MAX_V):
        return MODE_KL_SPLIT
    return mode


def is_kl(mode: int) -> bool:
    """Whether a kernel mode is Kullback-Leibler (whose H and W denominators need no pass)."""
    return mode == MODE_KL or mode == MODE_KL_SPLIT


def task_bounds(n_samples: int, max_tasks: int = MAX_TASKS, block: int = BLOCK) -> np.ndarray:
    """Column boundaries of the parallel tasks: a fixed split, whole blocks of ``block``
    columns per task.

    Returns
    -------
    ndarray of int64, shape (n_tasks + 1,), n_tasks ≤ max(1, max_tasks)
    """
    n_blocks = -(-n_samples // block)
    n_tasks = max(1, min(max_tasks, n_blocks))
    blocks = np.linspace(0, n_blocks, n_tasks + 1).round().astype(np.int64)
    return np.minimum(blocks * block, n_samples)


if HAVE_NUMBA:
    # fastmath: 'reassoc' lets LLVM vectorize the sums; 'contract' allows FMAs.  No
    # 'nnan'/'ninf': the floors rely on max() behaving exactly.  error_model='numpy'
    # drops Python's ZeroDivisionError check, which would stop vectorization.
    _FLAGS = {"reassoc", "contract", "nsz"}
    _jit = numba.njit(fastmath=_FLAGS, error_model="numpy", nogil=True, cache=True)
    _jit_inline = numba.njit(fastmath=_FLAGS, error_model="numpy", nogil=True, cache=True, inline="always")

    @_jit_inline
    def _log32(x):
        """Natural log of a positive, finite float32, vectorizable by LLVM.

        Range reduction x = m·2^e with m in [√½, √2), then
        log m = 2 atanh(s) = 2(s + s³/3 + … + s⁹/9), s = (m − 1)/(m + 1), |s| ≤ 0.172.
        Error ≤ 4 float32 ulp of the result (tests/test_kernels.py); libm's scalar logf
        would not vectorize and costs ~5× more here.  Subnormal x are scaled by 2²⁴
        first (branch-free, so the loop still vectorizes).
        """
        subnormal = x < np.float32(1.17549435e-38)
        x = x * np.float32(16777216.0) if subnormal else x
        bits = np.float32(x).view(np.int32)
        # np.int32(...): numba widens int32 arithmetic to int64, which doubles the vector
        # work of the integer steps; the cast lets LLVM keep them in 32-bit lanes.
        e = np.float32(np.int32(((bits >> 23) & 0xFF) - 127))
        e = e - np.float32(24.0) if subnormal else e
        m = np.int32((bits & 0x007FFFFF) | 0x3F800000).view(np.float32)
        big = m > np.float32(1.4142135)
        m = m * np.float32(0.5) if big else m
        e = e + np.float32(1.0) if big else e
        s = (m - np.float32(1.0)) / (m + np.float32(1.0))
        s2 = s * s
        p = np.float32(2.0) + s2 * (
            np.float32(2.0 / 3.0)
            + s2 * (np.float32(2.0 / 5.0) + s2 * (np.float32(2.0 / 7.0) + s2 * np.float32(2.0 / 9.0)))
        )
        return s * p + e * np.float32(0.6931471805599453)

    def fast_log(x):
        """log(x): the vectorizable float32 log for float32, libm's for float64."""
        return math.log(x)

    @overload(fast_log, jit_options={"fastmath": _FLAGS})
    def _fast_log_overload(x):
        if isinstance(x, types.Float) and x.bitwidth == 32:
            return lambda x: _log32(x)
        return lambda x: math.log(x)

    @_jit
    def _log32_array(x, out):
        """out[:] = _log32(x) (exposed for the tests)."""
        for i in range(x.size):
            out[i] = _log32(x[i])

    # --- dense helpers ------------------------------------------------------------------

    @_jit
    def _dot64(a, b):
        """Σ a·b over two equal-shape 2-D arrays (any layout), accumulated in float64."""
        total = 0.0
        for i in range(a.shape[0]):
            row = 0.0
            for j in range(a.shape[1]):
                row += np.float64(a[i, j]) * np.float64(b[i, j])
            total += row
        return total

    @_jit
    def _log_parts(V, exponents, mantissas):
        """For each BLOCK-column piece i of each row f of V (float32, normal, > 0):
        exponents[i, f] = Σ exponents and mantissas[i, f] = Π mantissas (float64), so that
        Σ log V over the piece = ln 2 · exponents + log mantissas (the split IS loss)."""
        F, T = V.shape
        for i in range(exponents.shape[0]):
            j0 = i * BLOCK
            j1 = min(j0 + BLOCK, T)
            for f in range(F):
                e = np.int32(0)
                m = 1.0
                for j in range(j0, j1):
                    bits = np.float32(V[f, j]).view(np.int32)
                    e += (bits >> 23) - np.int32(127)
                    m *= np.float64(np.int32((bits & 0x007FFFFF) | 0x3F800000).view(np.float32))
                exponents[i, f] = e
                mantissas[i, f] = m

    @_jit
    def _sum_power(V, beta):
        """Σ V^β in float64 (constant term of the generic β-divergence)."""
        total = 0.0
        for f in range(V.shape[0]):
            for t in range(V.shape[1]):
                v = np.float64(V[f, t])
                if v > 0:
                    total += math.pow(v, beta)
        return total

    @_jit
    def _divergence_rows(V, L, mode, beta):
        """Σ d_β(V | L) over two equal-shape 2-D arrays (V, L > 0 where the divergence
        needs it): KL and IS terms summed in V's dtype over row pieces of BLOCK entries
        (vectorized, fast log), the pieces in float64; other β in float64 throughout."""
        total = 0.0
        F, T = V.shape
        zero, one = V.dtype.type(0), V.dtype.type(1)  # literals would promote to float64
        tiny = np.finfo(V.dtype).tiny
        for f in range(F):
            for j0 in range(0, T, BLOCK):
                j1 = min(j0 + BLOCK, T)
                if mode == MODE_KL:
                    row = zero
                    for j in range(j0, j1):
                        v, x = V[f, j], L[f, j]
                        # branch-free (vectorizes): v = 0 gives 0 · log(tiny) = 0
                        row += x - v + v * fast_log(max(v / x, tiny))
                    total += np.float64(row)
                elif mode == MODE_IS:
                    row = zero
                    for j in range(j0, j1):
                        q = V[f, j] / L[f, j]
                        row += q - fast_log(q) - one
                    total += np.float64(row)
                else:
                    for j in range(j0, j1):
                        v, x = np.float64(V[f, j]), np.float64(L[f, j])
                        total += (math.pow(v, beta) + (beta - 1.0) * math.pow(x, beta)
                                  - beta * v * math.pow(x, beta - 1.0)) / (beta * (beta - 1.0))
        return total

    # --- HALS inner sweeps -----------------------------------------------------------

    @_jit
    def _hals_sweeps(X, XtY, XtX, rows, l1, l2, max_sweeps, delta2):
        """Gauss-Seidel sweeps over the rows of X (k, n) minimizing
        ½⟨XtX, XXᵀ⟩ − ⟨XtY, X⟩ + l1‖X‖₁ + ½ l2‖X‖², row by row (the arithmetic of
        solvers.FrobeniusHALS._sweep); stops after ``max_sweeps`` or once a sweep changes
        X by less than ``delta2`` times the first sweep's change (squared norms)."""
        n = X.shape[1]
        zero = X[0, 0] * 0  # 0 in X's dtype
        gradient = np.empty(n, X.dtype)
        first = 0.0
        for sweep in range(max_sweeps):
            change = 0.0
            for r in range(rows.size):
                j = rows[r]
                curvature = XtX[j, j] + l2
                if curvature <= 0:  # a zero partner column: this row does not affect the loss
                    continue
                _model_row(XtX, j, X, gradient, n, zero)  # gradient = XtX[j] @ X
                x = X[j]
                target = XtY[j]
                row_change = zero
                for t in range(n):
                    g = gradient[t] - target[t]
                    if l1 != 0 or l2 != 0:
                        g = g + l1 + l2 * x[t]
                    new = max(x[t] - g / curvature, zero)
                    d = new - x[t]
                    row_change += d * d
                    x[t] = new
                change += row_change
            if sweep == 0:
                first = change
            elif change <= delta2 * first:
                break

    # --- the fused pass: small pieces ---------------------------------------------------

    @_jit_inline
    def _model_row(W, f, Hb, out, b, zero):
        """out[:b] = W[f] @ Hb[:, :b], four components per sweep over ``out`` so that
        each load/store of ``out`` carries four FMAs."""
        k = W.shape[1]
        for j in range(b):
            out[j] = zero
        kk = 0
        while kk + 4 <= k:
            w0, w1, w2, w3 = W[f, kk], W[f, kk + 1], W[f, kk + 2], W[f, kk + 3]
            h0, h1, h2, h3 = Hb[kk], Hb[kk + 1], Hb[kk + 2], Hb[kk + 3]
            for j in range(b):
                out[j] += w0 * h0[j] + w1 * h1[j] + w2 * h2[j] + w3 * h3[j]
            kk += 4
        while kk < k:
            w0, h0 = W[f, kk], Hb[kk]
            for j in range(b):
                out[j] += w0 * h0[j]
            kk += 1

    @_jit_inline
    def _kl_split_row(Vb, f, a, b, eps, one, sweep):
        """The weights and loss terms of one row (as :func:`_weights_row`) in MODE_KL_SPLIT.
        The split modes are functions of their own, called by :func:`_weights_rows`
        only: numba inlines every branch of a function at each call, and each copy costs
        compile time (a cold compile of the KL and IS passes took 22 s before the split
        KL mode, 41 s with each mode's branch inlined into every arm, 26–30 s as now;
        docs/performance.md, 2026-12-01)."""
        # The same terms with one division for the weight and the log (the division
        # bounds this loop; _log32 has one of its own: 1.85 → 1.02 ms per 2.6 M
        # entries, docs/performance.md 2026-12-01): x' = x·2^n, n = round(log2(v/x))
        # from the bit patterns (their difference is log2(v/x)·2^23 to within 0.09·2^23),
        # so m = v/x' ∈ [0.66, 1.5], v − x' is exact (Sterbenz) and
        # log(v/x) = n ln 2 + 2 atanh(s), s = (v − x')/(v + x'), |s| ≤ 0.2.  With
        # D = 1/(x (v + x')): v/x = v·(v + x')·D (≤ 3 ulp) and s = (v − x')·x·D.  Near a
        # fit n = 0 and s is exact up to one rounding (no cancellation against n ln 2).
        # Needs x ≥ eps ≥ KL_SPLIT_MIN_EPS and KL_SPLIT_MIN_EPS ≤ v ≤ KL_SPLIT_MAX_V (pass_mode).
        # SWEEP_H: the same weights without the loss's series, so that a pass without the
        # loss updates H bit-identically; it sums x·d instead (a number the pass drops):
        # with no use of d beyond the weight, LLVM rewrote v·(total·d) and H moved by up
        # to 3 ulp (measured; tests/test_gemm_pass.py checks the identity).
        row = eps - eps
        for j in range(b):
            x = max(a[j], eps)
            v = Vb[f, j]
            if sweep != SWEEP_W:
                vbits = np.float32(v).view(np.int32)
                xbits = np.float32(x).view(np.int32)
                # int32 casts: numba widens int32 arithmetic to int64 (see _log32)
                n = np.int32(np.int32(np.int32(vbits - xbits) + np.int32(0x400000)) >> 23)
                scaled = np.int32(xbits + np.int32(n << 23)).view(np.float32)
                total = v + scaled
                d = one / (x * total)
                a[j] = v * (total * d)
                s = (v - scaled) * (x * d)
                s2 = s * s
                p = np.float32(2.0) + s2 * (
                    np.float32(2.0 / 3.0)
                    + s2 * (np.float32(2.0 / 5.0) + s2 * (np.float32(2.0 / 7.0) + s2 * np.float32(2.0 / 9.0)))
                )
                if sweep == SWEEP_H_LOSS:
                    row += v * (s * p + np.float32(n) * np.float32(0.6931471805599453)) - v + x
                else:
                    row += x * d  # keeps d shared (see above); the caller drops the sum
            else:
                a[j] = v / x
        return np.float64(row)

    @_jit_inline
    def _is_split_row(Vb, f, a, c, b, eps, one, with_loss, v_exponents, v_mantissas):
        """The weights and loss terms of one row (as :func:`_weights_row`) in MODE_IS_SPLIT."""
        loss = 0.0
        # The same weights; the loss terms q − log q − 1 summed as
        # Σ(q − 1) − (Σ log v − Σ log x), each Σ log as ln 2 · Σ exponents + log Π
        # mantissas (float64; BLOCK ≤ 1023 factors in [1, 2) cannot overflow), so the
        # row's log difference is ln 2 · (an exact integer) + one log of a ratio:
        # integer and multiply work instead of a float32 log per entry.  q − 1 is
        # taken as (v − x)/x: v − x is exact near a fit, where the rounding of q would
        # swamp the tiny loss.  x ≥ eps is a normal float32 (BetaPass checks).
        row = eps - eps
        exponents = np.int32(0)
        mantissas = 1.0
        for j in range(b):
            x = max(a[j], eps)
            v = Vb[f, j]
            inverse = one / x
            q = v * inverse
            a[j] = q * inverse
            c[j] = inverse
            if with_loss:
                row += (v - x) * inverse
                bits = np.float32(x).view(np.int32)
                # int32 (see _log32): ≤ BLOCK · 254 in magnitude
                exponents = np.int32(exponents + np.int32((bits >> 23) - 127))
                mantissas *= np.float64(np.int32((bits & 0x007FFFFF) | 0x3F800000).view(np.float32))
        if with_loss:
            loss = (np.float64(row) + np.float64(exponents - v_exponents[f]) * 0.6931471805599453
                    + math.log(mantissas / v_mantissas[f]))
        return loss

    @_jit_inline
    def _weights_row(Vb, f, a, c, b, mode, beta, eps, one, sweep, v_exponents, v_mantissas):
        """Turn the model row a[:b] = WH[f, ·] into the update weights in place:
        a ← V·WH^(β−2) (numerator weights) and c ← WH^(β−1) (denominator weights, not
        used for KL whose denominator needs no pass).  WH is floored at ``eps``.

        Returns the row's β-divergence terms (float64) when ``sweep`` is SWEEP_H_LOSS
        (else a number the caller drops, see :data:`SWEEP_W`): for KL and
        IS exactly the elementwise terms of divergence.divergence_from_model; for other
        β the terms without the constant Σ V^β, and without the 1/(β(β−1)) factor.
        ``v_exponents[f]``, ``v_mantissas[f]``: this row piece's :func:`_log_parts` of V
        (split IS only).  The float32 split modes are :func:`_kl_split_row` and
        :func:`_is_split_row`, reached through :func:`_weights_rows` (which handles
        every mode; this function raises for those two).
        """
        loss = 0.0
        with_loss = sweep == SWEEP_H_LOSS
        # KL and IS: the row's terms are summed in V's dtype (vectorized), the rows in float64.
        if mode == MODE_KL:
            row = eps - eps
            for j in range(b):
                x = max(a[j], eps)
                v = Vb[f, j]
                q = v / x
                a[j] = q
                if with_loss:
                    row += v * fast_log(q) - v + x
            loss = np.float64(row)
        elif mode == MODE_KL_SPLIT or mode == MODE_IS_SPLIT:
            # not inlined here: a copy per call site doubled the kernels' compile time
            raise ValueError("_weights_row: the split modes go through _weights_rows")
        elif mode == MODE_IS:
            row = eps - eps
            for j in range(b):
                inverse = one / max(a[j], eps)
                q = Vb[f, j] * inverse
                a[j] = q * inverse
                c[j] = inverse
                if with_loss:
                    row += q - fast_log(q) - one
                elif sweep == SWEEP_H:  # q kept as in the loss's sweep (see _kl_split_row): same H
                    row += q
            loss = np.float64(row) - 0.0
        else:
            for j in range(b):
                x = np.float64(max(a[j], eps))
                v = np.float64(Vb[f, j])
                # float64 powers: the generic divergence's three sums cancel heavily.
                # x^(β−2) first: no division, so x = 0 (β > 2, no floor) is harmless.
                p2 = math.pow(x, beta - 2.0)
                p1 = p2 * x
                a[j] = v * p2
                c[j] = p1
                if with_loss:
                    loss += (beta - 1.0) * x * p1 - beta * v * p1
        return loss

    @_jit_inline
    def _weights_rows(Vb, f, A, C, nr, b, mode, beta, eps, one, sweep, v_exponents, v_mantissas):
        """:func:`_weights_row` for rows A[i], C[i] ↔ Vb[f + i], i < nr; the sum of their
        loss terms (``sweep`` SWEEP_H_LOSS; else 0: see :data:`SWEEP_W`).  The float32 KL
        and IS modes call their branch directly (the mode a constant there): with a
        run-time mode LLVM's code for the same row loop was slower (the KL
        weight-and-loss sweep 1.35 against 1.05 ms per 2.6 M entries, one thread,
        docs/performance.md 2026-12-01)."""
        loss = 0.0
        with_loss = sweep == SWEEP_H_LOSS
        if mode == MODE_KL_SPLIT:
            for i in range(nr):
                loss += _kl_split_row(Vb, f + i, A[i], b, eps, one, sweep)
        elif mode == MODE_IS_SPLIT:
            for i in range(nr):
                loss += _is_split_row(Vb, f + i, A[i], C[i], b, eps, one, with_loss, v_exponents, v_mantissas)
        else:
            for i in range(nr):
                loss += _weights_row(Vb, f + i, A[i], C[i], b, mode, beta, eps, one, sweep, v_exponents,
                                     v_mantissas)
        return loss

    @_jit_inline
    def _accumulate_cols(W, f, nr, A, out, b):
        """out[kk, :b] += Σ_i W[f + i, kk] · A[i, :b] for the nr ≤ 4 rows f..f+nr−1
        (the Wᵀ(weights) products of the H update); four rows per store of ``out``."""
        k = W.shape[1]
        if nr == 4:
            a0, a1, a2, a3 = A[0], A[1], A[2], A[3]
            for kk in range(k):
                w0, w1, w2, w3 = W[f, kk], W[f + 1, kk], W[f + 2, kk], W[f + 3, kk]
                o = out[kk]
                for j in range(b):
                    o[j] += w0 * a0[j] + w1 * a1[j] + w2 * a2[j] + w3 * a3[j]
        else:
            for i in range(nr):
                ai = A[i]
                for kk in range(k):
                    w = W[f + i, kk]
                    o = out[kk]
                    for j in range(b):
                        o[j] += w * ai[j]

    @_jit_inline
    def _reduce_rows(a0, a1, Hb, out0, out1, b, zero):
        """out0[kk] += Σ_j a0[j]·Hb[kk, j] and out1[kk] += Σ_j a1[j]·Hb[kk, j] (the
        (weights)Hᵀ products of the W update) for two rows at once: each load of Hb
        feeds two FMAs, and the eight sums of four components stay in registers."""
        k = Hb.shape[0]
        kk = 0
        while kk + 4 <= k:
            s0 = zero
            s1 = zero
            s2 = zero
            s3 = zero
            t0 = zero
            t1 = zero
            t2 = zero
            t3 = zero
            h0, h1, h2, h3 = Hb[kk], Hb[kk + 1], Hb[kk + 2], Hb[kk + 3]
            for j in range(b):
                p = a0[j]
                q = a1[j]
                x0, x1, x2, x3 = h0[j], h1[j], h2[j], h3[j]
                s0 += p * x0
                s1 += p * x1
                s2 += p * x2
                s3 += p * x3
                t0 += q * x0
                t1 += q * x1
                t2 += q * x2
                t3 += q * x3
            out0[kk] += s0
            out0[kk + 1] += s1
            out0[kk + 2] += s2
            out0[kk + 3] += s3
            out1[kk] += t0
            out1[kk + 1] += t1
            out1[kk + 2] += t2
            out1[kk + 3] += t3
            kk += 4
        while kk < k:
            s0 = zero
            t0 = zero
            h0 = Hb[kk]
            for j in range(b):
                s0 += a0[j] * h0[j]
                t0 += a1[j] * h0[j]
            out0[kk] += s0
            out1[kk] += t0
            kk += 1

    @_jit_inline
    def _model_rows4(W, f, Hb, A, b, zero):
        """A[i, :b] = W[f + i] @ Hb[:, :b] for the four rows i = 0..3, blocked 4 rows × 4
        components: per column, four loads of Hb and four loads/stores of A carry 16 FMAs
        (one row at a time, :func:`_model_row`, needs five loads and a store per four —
        load-bound, half the FMA rate on an Intel core)."""
        k = W.shape[1]
        a0, a1, a2, a3 = A[0], A[1], A[2], A[3]
        for j in range(b):
            a0[j] = zero
            a1[j] = zero
            a2[j] = zero
            a3[j] = zero
        kk = 0
        while kk + 4 <= k:
            w00, w01, w02, w03 = W[f, kk], W[f, kk + 1], W[f, kk + 2], W[f, kk + 3]
            w10, w11, w12, w13 = W[f + 1, kk], W[f + 1, kk + 1], W[f + 1, kk + 2], W[f + 1, kk + 3]
            w20, w21, w22, w23 = W[f + 2, kk], W[f + 2, kk + 1], W[f + 2, kk + 2], W[f + 2, kk + 3]
            w30, w31, w32, w33 = W[f + 3, kk], W[f + 3, kk + 1], W[f + 3, kk + 2], W[f + 3, kk + 3]
            h0, h1, h2, h3 = Hb[kk], Hb[kk + 1], Hb[kk + 2], Hb[kk + 3]
            for j in range(b):
                x0, x1, x2, x3 = h0[j], h1[j], h2[j], h3[j]
                a0[j] += w00 * x0 + w01 * x1 + w02 * x2 + w03 * x3
                a1[j] += w10 * x0 + w11 * x1 + w12 * x2 + w13 * x3
                a2[j] += w20 * x0 + w21 * x1 + w22 * x2 + w23 * x3
                a3[j] += w30 * x0 + w31 * x1 + w32 * x2 + w33 * x3
            kk += 4
        while kk < k:
            w0, w1, w2, w3 = W[f, kk], W[f + 1, kk], W[f + 2, kk], W[f + 3, kk]
            h0 = Hb[kk]
            for j in range(b):
                x0 = h0[j]
                a0[j] += w0 * x0
                a1[j] += w1 * x0
                a2[j] += w2 * x0
                a3[j] += w3 * x0
            kk += 1

    @_jit_inline
    def _accumulate_cols4(W, f, A, out, b):
        """out[kk, :b] += Σ_i W[f + i, kk] · A[i, :b] for the four rows f..f+3, blocked
        4 components × 4 rows (16 FMAs per four loads of A and four loads/stores of out)."""
        k = W.shape[1]
        a0, a1, a2, a3 = A[0], A[1], A[2], A[3]
        kk = 0
        while kk + 4 <= k:
            w00, w01, w02, w03 = W[f, kk], W[f + 1, kk], W[f + 2, kk], W[f + 3, kk]
            w10, w11, w12, w13 = W[f, kk + 1], W[f + 1, kk + 1], W[f + 2, kk + 1], W[f + 3, kk + 1]
            w20, w21, w22, w23 = W[f, kk + 2], W[f + 1, kk + 2], W[f + 2, kk + 2], W[f + 3, kk + 2]
            w30, w31, w32, w33 = W[f, kk + 3], W[f + 1, kk + 3], W[f + 2, kk + 3], W[f + 3, kk + 3]
            o0, o1, o2, o3 = out[kk], out[kk + 1], out[kk + 2], out[kk + 3]
            for j in range(b):
                p0, p1, p2, p3 = a0[j], a1[j], a2[j], a3[j]
                o0[j] += w00 * p0 + w01 * p1 + w02 * p2 + w03 * p3
                o1[j] += w10 * p0 + w11 * p1 + w12 * p2 + w13 * p3
                o2[j] += w20 * p0 + w21 * p1 + w22 * p2 + w23 * p3
                o3[j] += w30 * p0 + w31 * p1 + w32 * p2 + w33 * p3
            kk += 4
        while kk < k:
            w0, w1, w2, w3 = W[f, kk], W[f + 1, kk], W[f + 2, kk], W[f + 3, kk]
            o = out[kk]
            for j in range(b):
                o[j] += w0 * a0[j] + w1 * a1[j] + w2 * a2[j] + w3 * a3[j]
            kk += 1

    @_jit_inline
    def _reduce_rows4(A, Hb, out, f, b, zero):
        """out[f + i, kk] += Σ_j A[i, j]·Hb[kk, j] for the four rows i = 0..3, two
        components at a time: eight sums in registers, six loads per eight FMAs."""
        k = Hb.shape[0]
        a0, a1, a2, a3 = A[0], A[1], A[2], A[3]
        kk = 0
        while kk + 2 <= k:
            s0 = zero
            s1 = zero
            s2 = zero
            s3 = zero
            t0 = zero
            t1 = zero
            t2 = zero
            t3 = zero
            h0, h1 = Hb[kk], Hb[kk + 1]
            for j in range(b):
                x0, x1 = h0[j], h1[j]
                p0, p1, p2, p3 = a0[j], a1[j], a2[j], a3[j]
                s0 += p0 * x0
                s1 += p1 * x0
                s2 += p2 * x0
                s3 += p3 * x0
                t0 += p0 * x1
                t1 += p1 * x1
                t2 += p2 * x1
                t3 += p3 * x1
            out[f, kk] += s0
            out[f + 1, kk] += s1
            out[f + 2, kk] += s2
            out[f + 3, kk] += s3
            out[f, kk + 1] += t0
            out[f + 1, kk + 1] += t1
            out[f + 2, kk + 1] += t2
            out[f + 3, kk + 1] += t3
            kk += 2
        while kk < k:
            s0 = zero
            s1 = zero
            s2 = zero
            s3 = zero
            h0 = Hb[kk]
            for j in range(b):
                x0 = h0[j]
                s0 += a0[j] * x0
                s1 += a1[j] * x0
                s2 += a2[j] * x0
                s3 += a3[j] * x0
            out[f, kk] += s0
            out[f + 1, kk] += s1
            out[f + 2, kk] += s2
            out[f + 3, kk] += s3
            kk += 1

    @_jit_inline
    def _update_block(Hb, numH, denH, colsumW, b, mode, gamma, l1, l2, free_H, tiny, flush):
        """Hb[kk, :b] *= (num / max(den + l1 + l2·Hb, tiny))^γ for the free components —
        the same arithmetic as solvers.BetaMU._ratio.

        The exponents the solvers use (1 for KL, ½ for the MM exponent of IS, ¾ for
        "amu"'s over-relaxed IS start) are passed on as constants, KL's mode too (as for
        the row sweeps, where a run-time mode made LLVM's loop slower; the update's own share
        was not measured separately): with a run-time γ,
        LLVM evaluates the power for every entry whatever γ (fastmath lets it hoist the
        call out of its branch), ~60× the cost of the update with γ = 1
        (docs/performance.md, 2026-12-01)."""
        if gamma == 1.0 and (mode == MODE_KL or mode == MODE_KL_SPLIT):  # the KL updates
            _update_block_at(Hb, numH, denH, colsumW, b, MODE_KL, 1.0, l1, l2, free_H, tiny, flush)
        elif gamma == 1.0:
            _update_block_at(Hb, numH, denH, colsumW, b, mode, 1.0, l1, l2, free_H, tiny, flush)
        elif gamma == 0.5:
            _update_block_at(Hb, numH, denH, colsumW, b, mode, 0.5, l1, l2, free_H, tiny, flush)
        elif gamma == 0.75:
            _update_block_at(Hb, numH, denH, colsumW, b, mode, 0.75, l1, l2, free_H, tiny, flush)
        else:
            _update_block_at(Hb, numH, denH, colsumW, b, mode, gamma, l1, l2, free_H, tiny, flush)

    @_jit_inline
    def _update_block_at(Hb, numH, denH, colsumW, b, mode, gamma, l1, l2, free_H, tiny, flush):
        """:func:`_update_block` for one γ (a constant after inlining)."""
        k = Hb.shape[0]
        for kk in range(k):
            if not free_H[kk]:
                continue
            h, num, den = Hb[kk], numH[kk], denH[kk]
            for j in range(b):
                d = colsumW[kk] if (mode == MODE_KL or mode == MODE_KL_SPLIT) else den[j]
                if l1 != 0 or l2 != 0:
                    d = d + l1 + l2 * h[j]
                ratio = num[j] / max(d, tiny)
                if gamma == 0.75:  # x^¾ = √x·√√x: vector square roots instead of pow
                    root = math.sqrt(ratio)
                    ratio = root * math.sqrt(root)
                elif gamma == 0.5:  # a square root, as NumPy's ** 0.5 (LLVM kept the pow call)
                    ratio = math.sqrt(ratio)
                elif gamma != 1.0:
                    ratio = math.pow(ratio, gamma)
                updated = h[j] * ratio
                # see flush_level: a decaying entry stops at the level (zeros stay zero)
                h[j] = updated if (updated >= flush or updated == 0) else flush

    @_jit
    def _task(V, W, H, H_next, c0, c1, free_H, mode, beta, gamma, eps, tiny, flush, zero, one,
              l1_H, l2_H, colsumW, update_H, update_W, with_loss, numW, denW, sumH, v_exponents, v_mantissas):
        """One task: columns c0..c1 of the pass, block by block.  Writes H_next[:, c0:c1],
        adds this task's W products to numW, denW (F, k) and sumH (k,), returns its loss
        terms (float64; 0 unless ``with_loss``)."""
        F = V.shape[1]
        k = W.shape[1]
        dt = V.dtype
        Hb = np.empty((k, BLOCK), dt)
        numH = np.empty((k, BLOCK), dt)
        denH = np.empty((k, BLOCK), dt)
        A = np.empty((4, BLOCK), dt)
        C = np.empty((4, BLOCK), dt)
        numW_spare = np.empty(k, dt)
        needs_den = mode != MODE_KL and mode != MODE_KL_SPLIT
        loss = 0.0
        for j0 in range(c0, c1, BLOCK):
            b = min(BLOCK, c1 - j0)
            Vb = V[j0 // BLOCK]
            ve = v_exponents[min(j0 // BLOCK, v_exponents.shape[0] - 1)]  # (1 dummy row unless split IS)
            vm = v_mantissas[min(j0 // BLOCK, v_mantissas.shape[0] - 1)]
            for kk in range(k):
                for j in range(b):
                    Hb[kk, j] = H[kk, j0 + j]
                    numH[kk, j] = zero
                    denH[kk, j] = zero
            # sweep 1: loss of (W, H), then the H-update products, four rows at a time
            for f in range(0, F, 4):
                nr = min(4, F - f)
                if nr == 4:
                    _model_rows4(W, f, Hb, A, b, zero)
                else:
                    for i in range(nr):
                        _model_row(W, f + i, Hb, A[i], b, zero)
                if with_loss:  # two inlined copies, the loss a constant in each
                    loss += _weights_rows(Vb, f, A, C, nr, b, mode, beta, eps, one, SWEEP_H_LOSS, ve, vm)
                else:
                    loss += _weights_rows(Vb, f, A, C, nr, b, mode, beta, eps, one, SWEEP_H, ve, vm)
                if update_H:
                    if nr == 4:
                        _accumulate_cols4(W, f, A, numH, b)
                        if needs_den:
                            _accumulate_cols4(W, f, C, denH, b)
                    else:
                        _accumulate_cols(W, f, nr, A, numH, b)
                        if needs_den:
                            _accumulate_cols(W, f, nr, C, denH, b)
            if update_H:
                _update_block(Hb, numH, denH, colsumW, b, mode, gamma, l1_H, l2_H, free_H, tiny, flush)
            for kk in range(k):
                for j in range(b):
                    H_next[kk, j0 + j] = Hb[kk, j]
            if not update_W:
                continue
            # sweep 2: the W-update products with the new H (the block is still cached)
            F4 = F - F % 4
            for f in range(0, F4, 4):
                _model_rows4(W, f, Hb, A, b, zero)
                _weights_rows(Vb, f, A, C, 4, b, mode, beta, eps, one, SWEEP_W, ve, vm)
                _reduce_rows4(A, Hb, numW, f, b, zero)
                if needs_den:
                    _reduce_rows4(C, Hb, denW, f, b, zero)
            for f in range(F4, F, 2):
                g = min(f + 1, F - 1)  # an odd last row: its second result (A[1] unweighted) is dropped
                for i, row in ((0, f), (1, g)):
                    _model_row(W, row, Hb, A[i], b, zero)
                _weights_rows(Vb, f, A, C, g - f + 1, b, mode, beta, eps, one, SWEEP_W, ve, vm)
                last = numW[g] if g > f else numW_spare
                _reduce_rows(A[0], A[1], Hb, numW[f], last, b, zero)
                if needs_den:
                    last = denW[g] if g > f else numW_spare
                    _reduce_rows(C[0], C[1], Hb, denW[f], last, b, zero)
            if not needs_den:  # KL: the W denominator is the row sums of the new H
                for kk in range(k):
                    s = zero
                    for j in range(b):
                        s += Hb[kk, j]
                    sumH[kk] += s
        return loss


def to_blocks(V: np.ndarray) -> np.ndarray:
    """V (F, T) rearranged as (n_blocks, F, BLOCK): each column block one contiguous
    piece of memory, which the hardware prefetcher streams at full speed (rows of a
    plain (F, T) block are short strided pieces).  The last block is padded with ones,
    which the kernels never read.

    Returns
    -------
    ndarray, shape (ceil(T / BLOCK), F, BLOCK), V's dtype
    """
    F, T = V.shape
    n_blocks = -(-T // BLOCK)
    blocks = np.ones((n_blocks, F, BLOCK), V.dtype)
    for i in range(n_blocks):
        piece = V[:, i * BLOCK:(i + 1) * BLOCK]
        blocks[i, :, : piece.shape[1]] = piece
    return blocks


_POOL = None
_POOL_PID = None

#: Threads for the fused pass; None means numba's configured count (the
#: ``NUMBA_NUM_THREADS`` environment variable, else the number of cores).
THREADS = None


def num_threads() -> int:
    """Threads the fused pass uses (see :data:`THREADS`)."""
    if THREADS is not None:
        return max(1, int(THREADS))
    return max(1, int(numba.config.NUMBA_NUM_THREADS)) if HAVE_NUMBA else 1


def run_in_threads(fn, n_tasks: int, n_threads: int | None = None) -> None:
    """Call fn(0) … fn(n_tasks − 1) on ``n_threads`` threads (default :func:`num_threads`,
    never more than tasks); each thread takes the next task when it finishes one.  One
    thread: a plain loop in this thread.  Exceptions propagate."""
    global _POOL, _POOL_PID
    n_threads = min(n_tasks, num_threads() if n_threads is None else n_threads)
    if n_threads <= 1:
        for t in range(n_tasks):
            fn(t)
        return
    # A new pool when none fits, or in a forked child: the parent's pool has no threads
    # there, and tasks submitted to it would never run.
    if _POOL is None or _POOL._max_workers < n_threads or _POOL_PID != os.getpid():
        _POOL = ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="nmfaudio")
        _POOL_PID = os.getpid()
    tasks = itertools.count()  # next() on a count is atomic under the GIL

    def worker():
        for t in tasks:
            if t >= n_tasks:
                return
            fn(t)

    futures = [_POOL.submit(worker) for _ in range(n_threads)]
    for future in futures:
        future.result()


class TaskProducts:
    """The W update's products of a pass whose tasks each sum their own (the attributes
    ``mode``, ``_numW`` (n_tasks, F, k), ``_denW`` (n_tasks, F, k) and ``_sumH``
    (n_tasks, k), set by the pass): shared by :class:`BetaPass` and
    :class:`nmfaudio.nmf.gemm_pass.GemmBetaPass`."""

    def task_products(self):
        """The per-task parts of :meth:`w_products`, unsummed: numerator (n_tasks, F, k),
        denominator (n_tasks, F, k) or, for KL, (n_tasks, 1, k) — views, no copies."""
        if is_kl(self.mode):
            return self._numW, self._sumH[:, None, :]
        return self._numW, self._denW

    def w_products(self):
        """(numerator (F, k), denominator (F, k) or (1, k)) of the W update, for the H
        written by the last ``run``: the task parts summed in task order."""
        numerator, denominator = self.task_products()
        return numerator.sum(axis=0), denominator.sum(axis=0)


class BetaPass(TaskProducts):
    """Buffers and bookkeeping for repeated fused passes on one problem.

    Parameters
    ----------
    V : ndarray, shape (n_features, n_samples), float32 or float64
        Already floored (β ≤ 1).  Copied once into column blocks (:func:`to_blocks`).
    n_components : int
    beta, gamma : float
        The divergence and the MM exponent of the update.
    eps : float
        Floor of WH.
    free_H : ndarray of bool, shape (n_components,)
    l1_H, l2_H : float
        Penalties on H.
    update_W : bool
        Whether the W-update products are needed (False when all templates are fixed).
    """

    def __init__(self, V, n_components, *, beta, gamma, eps, free_H, l1_H, l2_H, update_W):
        if not HAVE_NUMBA:  # pragma: no cover
            raise RuntimeError("BetaPass needs numba; use solvers.BetaMU instead")
        self.V = to_blocks(V)
        dt = V.dtype.type
        F, T = V.shape
        k = n_components
        self.mode = pass_mode(beta, V, eps)
        self.beta, self.gamma = float(beta), float(gamma)
        self.eps, self.tiny, self.zero, self.one = dt(eps), dt(np.finfo(V.dtype).tiny), dt(0), dt(1)
        self.flush = dt(flush_level(V.dtype))
        self.free_H = np.ascontiguousarray(free_H, dtype=np.bool_)
        self.update_H = bool(self.free_H.any())
        self.l1_H, self.l2_H = dt(l1_H), dt(l2_H)
        self.update_W = bool(update_W)
        self.bounds = task_bounds(T)
        self.parallel = self.bounds.size > 2 and F * T * k >= PARALLEL_MIN_WORK
        n_tasks = self.bounds.size - 1
        shape_W = (n_tasks, F, k) if update_W else (n_tasks, 1, k)
        self._numW = np.zeros(shape_W, V.dtype)
        self._denW = np.zeros(shape_W if not is_kl(self.mode) else (n_tasks, 1, k), V.dtype)
        self._sumH = np.zeros((n_tasks, k), V.dtype)
        self._losses = np.zeros(n_tasks)
        # Constant parts of the divergence (see _weights_row).
        if self.mode == MODE_GENERIC:
            self._constant = _sum_power(V, self.beta)
        else:
            self._constant = 0.0
        if self.mode == MODE_IS_SPLIT:  # V > 0 (floored for β ≤ 1), normal (eps ≥ tiny)
            n_blocks = self.V.shape[0]
            self._v_exponents = np.zeros((n_blocks, F), np.int32)
            self._v_mantissas = np.ones((n_blocks, F))
            _log_parts(V, self._v_exponents, self._v_mantissas)
        else:
            self._v_exponents, self._v_mantissas = np.zeros((1, 1), np.int32), np.ones((1, 1))

    def run(self, W, H, H_next, with_loss=True):
        """One pass over (W, H): returns the β-divergence D(V | WH) and writes the updated
        H into ``H_next``; the W-update products are then in :meth:`w_products`.

        ``with_loss=False`` skips the loss terms (6–16 % of an Itakura-Saito pass, 7–20 %
        of a KL pass at k = 8–32, docs/performance.md) and returns NaN; H_next and the
        products are bit-identical (see :data:`SWEEP_H`)."""
        for buffer in (self._numW, self._denW, self._sumH):
            buffer.fill(0)
        colsumW = W.sum(axis=0)  # the KL denominator of the H update
        n_tasks = self.bounds.size - 1
        with_loss = bool(with_loss)

        def run_task(t):
            self._losses[t] = _task(
                self.V, W, H, H_next, self.bounds[t], self.bounds[t + 1], self.free_H, self.mode,
                self.beta, self.gamma, self.eps, self.tiny, self.flush, self.zero, self.one, self.l1_H,
                self.l2_H, colsumW, self.update_H, self.update_W, with_loss, self._numW[t], self._denW[t],
                self._sumH[t], self._v_exponents, self._v_mantissas)

        run_in_threads(run_task, n_tasks, None if self.parallel else 1)
        if not with_loss:
            return float("nan")
        total = float(self._losses.sum())
        if self.mode == MODE_GENERIC:
            total = (self._constant + total) / (self.beta * (self.beta - 1.0))
        return total


def divergence(V: np.ndarray, L: np.ndarray, beta: float) -> float:
    """β-divergence D(V | L) of two equal-shape 2-D arrays in one pass, no temporaries.

    KL and IS use the kernels' float32 log for float32 input (terms summed in pieces of
    :data:`BLOCK`, the pieces in float64): relative error ~1e-6, for monitoring a fit.
    Entries with V = 0 contribute L (KL); IS needs V, L > 0.

    Parameters
    ----------
    V, L : ndarray, shape (n_rows, n_cols), same dtype
    beta : float

    Returns
    -------
    float
    """
    if V.shape != L.shape or V.dtype != L.dtype:
        raise ValueError(f"V {V.shape} {V.dtype} and L {L.shape} {L.dtype} must have one shape and dtype")
    if not HAVE_NUMBA or beta == 2:  # the NumPy definition (no numba, or Frobenius)
        from scipy.special import xlogy

        from nmfaudio.nmf.divergence import divergence_from_model

        if beta == 1:  # xlogy: 0 · log 0 = 0 where V = 0
            return float(np.sum(xlogy(V, V / L), dtype=np.float64) - np.sum(V, dtype=np.float64)
                         + np.sum(L, dtype=np.float64))
        return divergence_from_model(V, L, beta)
    return float(_divergence_rows(V, L, mode_for(beta), float(beta)))


def hals_sweeps(X, XtY, XtX, rows, l1, l2, max_sweeps, delta):
    """Up to ``max_sweeps`` HALS sweeps over ``rows`` of X (k, n), in place (numba).

    Parameters
    ----------
    X : ndarray, shape (k, n), C-contiguous
    XtY : ndarray, shape (k, n)
    XtX : ndarray, shape (k, k)
    rows : ndarray of int, the rows that learn
    l1, l2 : float
    max_sweeps : int
    delta : float
        Stop once a sweep moves X by less than ``delta`` times the first sweep (norms).
    """
    dt = X.dtype.type
    _hals_sweeps(X, XtY, XtX, np.ascontiguousarray(rows, dtype=np.int64), dt(l1), dt(l2),
                 int(max_sweeps), float(delta) ** 2)


def flush_level(dtype) -> float:
    """The smallest positive value the multiplicative updates leave in a factor:
    √(smallest normal number) of ``dtype`` (1.1e-19 for float32), so that no factor entry
    and no product of two is subnormal.  A decaying entry stops there; zeros stay zero.

    Why.  Multiplicative updates drive unused entries towards zero geometrically, and
    after some 50 KL iterations many H entries (and the products W·H formed from them)
    are subnormal.  Every instruction that reads or makes a subnormal costs Intel CPUs
    a microcode assist (AMD's Zen cores take none): measured on an Intel Xeon
    (Emerald Rapids), a KL pass at 1025 × 2600, k = 16, went from 12 ms to 16-47 ms per
    iteration as entries decayed.  The engine works on V scaled to max ≈ 1 and floors
    the model at ~6e-8, so such entries change nothing a loss can see.  They are held at
    the level rather than set to zero: a multiplicative update never revives a zero, and
    flushing them to zero left KL fits measurably worse (1025 × 2600, k = 8: 0.01 % above
    scikit-learn MU's 200-iteration loss after 400 iterations, where keeping them reaches
    it in 201).
    """
    return float(np.sqrt(np.finfo(dtype).tiny))


def flush_subnormal(factor: np.ndarray) -> None:
    """Raise the positive entries of ``factor`` below :func:`flush_level` to it, in place
    (zeros stay zero; entries are non-negative)."""
    level = factor.dtype.type(flush_level(factor.dtype))
    factor[(factor > 0) & (factor < level)] = level


def dot64(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b of two equal-shape 2-D arrays, accumulated in float64 without a float64
    copy of either (the NumPy fallback converts a block of rows at a time)."""
    if HAVE_NUMBA:
        return float(_dot64(a, b))
    total = 0.0
    step = max(1, (1 << 20) // max(1, a.shape[1]))
    for start in range(0, a.shape[0], step):
        rows = slice(start, start + step)
        total += float(np.vdot(a[rows].astype(np.float64), b[rows].astype(np.float64)))
    return total


def log32(x: np.ndarray) -> np.ndarray:
    """The kernels' float32 log applied to a 1-D float32 array (for tests)."""
    out = np.empty_like(x)
    _log32_array(x, out)
    return out
