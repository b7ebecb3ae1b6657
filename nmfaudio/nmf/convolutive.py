"""Compiled passes for the convolutive NMF (NMFD, :mod:`nmfaudio.nmf.nmfd`) under the
Kullback-Leibler divergence, block by block like :mod:`nmfaudio.nmf.kernels`.

The model (:class:`~nmfaudio.nmf.nmfd.ConvolutiveMU`), per channel c and frame t::

    L[:, c, t] = Σ_τ Σ_k W[:, τ·K + k] H[k, c, t − τ]  +  W_free H_free[:, c·N + t]

A NumPy iteration builds the shifted activations (T·K rows), L, V / L, Wᵀ(V / L) and its
"unshift", then all of it again after the H update: a dozen passes over
(n_bands × n_frames) arrays, which stop fitting in the cache beyond a few minutes of
audio.  Here each of the two half-steps is one pass over V, a block of frames at a time:

Each template frame (lag τ of template k) is one column of the templates; a template's
all-zero frames are left out by the caller (:func:`nmfaudio.nmf.nmfd._support`), so
templates of different lengths cost their own lengths.

* :func:`h_pass` — model, loss and V / L on the block plus T − 1 frames of look-ahead
  (the H update at frame t needs V / L at t … t + T − 1), then the updated activations
  (templates and free components) for the block's frames, written to new arrays;
* :func:`w_pass` — model with the new activations and the products (V / L) Hsᵀ of the
  template updates, accumulated per task.

Each block's products are BLAS GEMMs (:data:`USE_BLAS`: sgemm/dgemm called from the
compiled task, as :mod:`nmfaudio.nmf.gemm_pass` does) or, without a usable BLAS, compiled
loops four rows at a time.  The arithmetic is that of the NumPy updates (tests/test_nmfd.py
compares them, and both products with float64 ones); the loss is summed in float32 per row
of a block and in float64 across them, the template products in float32 per task, the
tasks (a fixed split) in a fixed order.
"""

from __future__ import annotations

import functools

import numpy as np

from nmfaudio.nmf import gemm_pass
from nmfaudio.nmf.kernels import HAVE_NUMBA, MAX_TASKS, run_in_threads, task_bounds

#: Frames per cache block of the convolutive passes (their own constant: the β pass's
#: kernels.BLOCK was raised to 512 after measuring it; these were not re-measured).
BLOCK = 256

#: Form each block's products (the model W·hs, Wᵀ(V / L), (V / L)·hsᵀ) by BLAS's GEMM
#: (:func:`nmfaudio.nmf.gemm_pass.blas_gemm`, held to one thread per task) when one is
#: found, rather than by the compiled loops: with the drums' 184 template frames over 90
#: bands an iteration's two passes took 17.9 ms with the loops, 12.6 ms with OpenBLAS (one
#: thread, the 3-minute track; docs/performance.md, 2026-12-05 "fitspeed").  The same
#: products, summed in BLAS's order: float32 rounding apart, the same results.
USE_BLAS = True

if HAVE_NUMBA:
    from nmfaudio.nmf.gemm_pass import _gemm
    from nmfaudio.nmf.kernels import (_accumulate_cols, _accumulate_cols4, _jit, _jit_inline, _model_row,
                                      _model_rows4, _reduce_rows, _reduce_rows4, fast_log)

    @_jit
    def _shifted_block(H, Hf, c, N, lags, owners, t0, width, out):
        """out[:, :width] = the model's activation rows for frames t0 … t0 + width − 1 of
        channel c: row i is H[owners[i], c, t − lags[i]] (0 before the channel's start),
        then the free rows Hf[r, c·N + t]."""
        n_columns = lags.shape[0]
        zero = out.dtype.type(0)
        for i in range(n_columns):
            tau = lags[i]
            k = owners[i]
            row = out[i]
            for j in range(width):
                t = t0 + j - tau
                row[j] = H[k, c, t] if t >= 0 else zero
        for r in range(Hf.shape[0]):
            row = out[n_columns + r]
            for j in range(width):
                row[j] = Hf[r, c * N + t0 + j]

    @_jit_inline
    def _kl_weights_row(V, f, base, a, width, b, eps, tiny, zero):
        """a[:width] (row f of the model, frames base … base + width − 1 of V) becomes
        V / max(a, eps) in place; returns the loss terms of its first b frames (float32:
        the look-ahead frames belong to the next block's loss)."""
        row = zero
        for j in range(width):
            v = V[f, base + j]
            x = max(a[j], eps)
            q = v / x
            a[j] = q
            if j < b:
                row += x - v + v * fast_log(max(q, tiny))
        return row

    @_jit_inline
    def _update_block(H, Hf, H_next, Hf_next, G, numerators, c, j0, b, width, lags, owners, den_H, den_free,
                      update_H, tiny, zero):
        """The updated activations of frames j0 … j0 + b − 1 of channel c from the
        block's products G (n_all, width) = Wallᵀ(V / L): into H_next and Hf_next."""
        K, _, N = H.shape
        n_columns = lags.shape[0]
        base = c * N + j0
        if update_H:
            # numerator of H[k, t]: Σ over k's columns i of G[i, t + lags[i]] (columns in
            # increasing lag, so each sum runs over τ in order, as the full layout's)
            for k in range(K):
                for j in range(b):
                    numerators[k, j] = zero
            for i in range(n_columns):
                tau = lags[i]
                g = G[i]
                num = numerators[owners[i]]
                for j in range(min(b, width - tau)):
                    num[j] += g[j + tau]
        for k in range(K):
            for j in range(b):
                t = j0 + j
                if update_H:
                    H_next[k, c, t] = H[k, c, t] * (numerators[k, j] / max(den_H[k, t], tiny))
                else:
                    H_next[k, c, t] = H[k, c, t]
        for r in range(Hf.shape[0]):
            for j in range(b):
                Hf_next[r, base + j] = Hf[r, base + j] * (G[n_columns + r, j] / max(den_free[r], tiny))

    @_jit
    def _h_task(V, Wall, H, Hf, H_next, Hf_next, c, t0, t1, lags, owners, T, eps, den_H, den_free, update_H):
        """Frames t0 … t1 − 1 of channel c: returns their loss terms (float64) and writes
        their updated activations into H_next / Hf_next.  T: the longest lag + 1."""
        F, n_all = Wall.shape
        K, _, N = H.shape
        dt = V.dtype
        zero = dt.type(0)
        tiny = np.finfo(dt).tiny
        look = T - 1
        hs = np.empty((n_all, BLOCK + look), dt)
        G = np.empty((n_all, BLOCK + look), dt)
        A = np.empty((4, BLOCK + look), dt)
        numerators = np.empty((K, BLOCK), dt)
        loss = 0.0
        for j0 in range(t0, t1, BLOCK):
            b = min(BLOCK, t1 - j0)
            width = min(b + look, N - j0)  # the block and its look-ahead, within the channel
            _shifted_block(H, Hf, c, N, lags, owners, j0, width, hs)
            for i in range(n_all):
                for j in range(width):
                    G[i, j] = zero
            base = c * N + j0
            for f in range(0, F, 4):
                nr = min(4, F - f)
                # four rows at once (kernels' 4 × 4 blocking): one row at a time is load-bound
                # (17.5 → 10.8 ms a pass on the drums' 90 × 184 × 7752); each entry sums the
                # same terms in the same groups of four (bit-identical on the Xeon measured,
                # docs/performance.md 2026-12-05 "fitspeed")
                if nr == 4:
                    _model_rows4(Wall, f, hs, A, width, zero)
                else:
                    for i in range(nr):
                        _model_row(Wall, f + i, hs, A[i], width, zero)
                for i in range(nr):
                    loss += np.float64(_kl_weights_row(V, f + i, base, A[i], width, b, eps, tiny, zero))
                if nr == 4:
                    _accumulate_cols4(Wall, f, A, G, width)
                else:
                    _accumulate_cols(Wall, f, nr, A, G, width)
            _update_block(H, Hf, H_next, Hf_next, G, numerators, c, j0, b, width, lags, owners, den_H, den_free,
                          update_H, tiny, zero)
        return loss

    @_jit
    def _h_task_blas(gemm, V, Wall, H, Hf, H_next, Hf_next, c, t0, t1, lags, owners, T, eps, den_H, den_free,
                     update_H, ints, scalars, chars):
        """:func:`_h_task` with the block's products by BLAS (``gemm`` and its scratch
        ``ints``, ``scalars``, ``chars``: :func:`nmfaudio.nmf.gemm_pass._gemm`): the model
        X = Wall·hs (F, width), then the weights in place, then G = Wallᵀ·X (n_all, width)
        — in that orientation, 5 % faster here than (Xᵀ·Wall)ᵀ."""
        F, n_all = Wall.shape
        K, _, N = H.shape
        dt = V.dtype
        zero = dt.type(0)
        tiny = np.finfo(dt).tiny
        look = T - 1
        hs = np.empty((n_all, BLOCK + look), dt)
        G = np.empty((n_all, BLOCK + look), dt)
        X = np.empty((F, BLOCK + look), dt)
        numerators = np.empty((K, BLOCK), dt)
        loss = 0.0
        for j0 in range(t0, t1, BLOCK):
            b = min(BLOCK, t1 - j0)
            width = min(b + look, N - j0)  # the block and its look-ahead, within the channel
            _shifted_block(H, Hf, c, N, lags, owners, j0, width, hs)
            base = c * N + j0
            Xw = X[:, :width]
            _gemm(gemm, Wall, hs[:, :width], Xw, False, False, False, ints, scalars, chars)
            for f in range(F):
                loss += np.float64(_kl_weights_row(V, f, base, X[f], width, b, eps, tiny, zero))
            _gemm(gemm, Wall, Xw, G[:, :width], True, False, False, ints, scalars, chars)
            _update_block(H, Hf, H_next, Hf_next, G, numerators, c, j0, b, width, lags, owners, den_H, den_free,
                          update_H, tiny, zero)
        return loss

    @_jit
    def _w_task(V, Wall, H, Hf, c, t0, t1, lags, owners, eps, P):
        """Frames t0 … t1 − 1 of channel c: adds Σ_t (V / L)[f, t] · hs[i, t] to P (F, n_all)."""
        F, n_all = Wall.shape
        N = H.shape[2]
        dt = V.dtype
        zero = dt.type(0)
        hs = np.empty((n_all, BLOCK), dt)
        A = np.empty((4, BLOCK), dt)
        spare = np.empty(n_all, dt)
        F4 = F - F % 4
        for j0 in range(t0, t1, BLOCK):
            b = min(BLOCK, t1 - j0)
            _shifted_block(H, Hf, c, N, lags, owners, j0, b, hs)
            base = c * N + j0
            for f in range(0, F4, 4):  # four rows at once, as _h_task; the last F mod 4 two at a time
                _model_rows4(Wall, f, hs, A, b, zero)
                for i in range(4):
                    a = A[i]
                    for j in range(b):
                        a[j] = V[f + i, base + j] / max(a[j], eps)
                _reduce_rows4(A, hs, P, f, b, zero)
            for f in range(F4, F, 2):
                g = min(f + 1, F - 1)  # an odd last row is done twice, its second result dropped
                for i, row in ((0, f), (1, g)):
                    a = A[i]
                    _model_row(Wall, row, hs, a, b, zero)
                    for j in range(b):
                        a[j] = V[row, base + j] / max(a[j], eps)
                _reduce_rows(A[0], A[1], hs, P[f], P[g] if g > f else spare, b, zero)

    @_jit
    def _w_task_blas(gemm, V, Wall, H, Hf, c, t0, t1, lags, owners, eps, P, ints, scalars, chars):
        """:func:`_w_task` with the block's products by BLAS (as :func:`_h_task_blas`): the
        model X = Wall·hs (F, b), the weights in place, then P += X·hsᵀ."""
        F, n_all = Wall.shape
        N = H.shape[2]
        dt = V.dtype
        hs = np.empty((n_all, BLOCK), dt)
        X = np.empty((F, BLOCK), dt)
        for j0 in range(t0, t1, BLOCK):
            b = min(BLOCK, t1 - j0)
            _shifted_block(H, Hf, c, N, lags, owners, j0, b, hs)
            base = c * N + j0
            Xw = X[:, :b]
            _gemm(gemm, Wall, hs[:, :b], Xw, False, False, False, ints, scalars, chars)
            for f in range(F):
                a = X[f]
                for j in range(b):
                    a[j] = V[f, base + j] / max(a[j], eps)
            _gemm(gemm, Xw, hs[:, :b], P, False, True, True, ints, scalars, chars)


    @_jit
    def _fixed_h_task(V, fixed, Wf, Hf, Hf_next, den, eps, j0, j1):
        """Columns j0 … j1 − 1 of the fixed-templates problem (:func:`fixed_h_pass`): returns
        their loss terms (float64) and writes their updated free activations into Hf_next."""
        F, n_free = Wf.shape
        dt = V.dtype
        zero = dt.type(0)
        tiny = np.finfo(dt).tiny
        x = np.empty(BLOCK, dt)
        numerators = np.empty((n_free, BLOCK), dt)
        loss = 0.0
        for b0 in range(j0, j1, BLOCK):
            b = min(BLOCK, j1 - b0)
            numerators[:, :b] = zero
            for f in range(F):
                for j in range(b):  # the model: the fixed part plus the free components
                    x[j] = fixed[f, b0 + j]
                for r in range(n_free):
                    w = Wf[f, r]
                    h = Hf[r]
                    for j in range(b):
                        x[j] += w * h[b0 + j]
                row = zero
                for j in range(b):
                    v = V[f, b0 + j]
                    m = max(x[j], eps)
                    q = v / m
                    x[j] = q
                    row += m - v + v * fast_log(max(q, tiny))
                loss += np.float64(row)
                for r in range(n_free):
                    w = Wf[f, r]
                    num = numerators[r]
                    for j in range(b):
                        num[j] += w * x[j]
            for r in range(n_free):
                for j in range(b):
                    Hf_next[r, b0 + j] = Hf[r, b0 + j] * (numerators[r, j] / max(den[r], tiny))
        return loss

    @_jit
    def _fixed_w_task(V, fixed, Wf, Hf, eps, j0, j1, P):
        """Columns j0 … j1 − 1: adds Σ_j (V / L)[f, j] · Hf[r, j] to P (F, n_free)."""
        F, n_free = Wf.shape
        dt = V.dtype
        zero = dt.type(0)
        x = np.empty(BLOCK, dt)
        for b0 in range(j0, j1, BLOCK):
            b = min(BLOCK, j1 - b0)
            for f in range(F):
                for j in range(b):
                    x[j] = fixed[f, b0 + j]
                for r in range(n_free):
                    w = Wf[f, r]
                    h = Hf[r]
                    for j in range(b):
                        x[j] += w * h[b0 + j]
                for j in range(b):
                    x[j] = V[f, b0 + j] / max(x[j], eps)
                for r in range(n_free):
                    h = Hf[r]
                    s = zero
                    for j in range(b):
                        s += x[j] * h[b0 + j]
                    P[f, r] += s


def _blas(dtype):
    """(gemm, integer dtype of its scratch) for the passes' products, or None: the
    compiled loops (:data:`USE_BLAS` off, or no usable BLAS found)."""
    return gemm_pass.blas_gemm(dtype) if USE_BLAS else None


def _scratch(blas, dtype):
    """A task's scratch for :func:`nmfaudio.nmf.gemm_pass._gemm`: ints, scalars, chars."""
    return np.zeros(6, blas[1]), np.zeros(2, dtype), np.zeros(2, np.uint8)


def _run(task, n_tasks: int, blas) -> None:
    """The pass's tasks on the engine's threads; BLAS held to one thread while they run
    (each task makes its own small products)."""
    if blas is None:
        run_in_threads(task, n_tasks)
        return
    with gemm_pass.blas_on_one_thread():
        run_in_threads(task, n_tasks)


@functools.lru_cache(maxsize=64)  # two passes per iteration ask for the same split
def _tasks(C: int, N: int) -> tuple[tuple[int, int, int], ...]:
    """(channel, first frame, end frame) of each task: each channel split like the
    engine's columns (:func:`~nmfaudio.nmf.kernels.task_bounds`), MAX_TASKS in all."""
    edges = task_bounds(N, MAX_TASKS // C, BLOCK)
    return tuple((c, int(a), int(b)) for c in range(C) for a, b in zip(edges[:-1], edges[1:]) if b > a)


def h_pass(V, Wall, H, Hf, lags, owners, eps, den_H, update_H):
    """Loss of the current factors and their updated activations (KL MU).

    Parameters
    ----------
    V : ndarray, shape (F, C·N), float32, C-contiguous
    Wall : ndarray, shape (F, n_columns + n_free)
        The templates' frames (column i: template ``owners[i]`` at lag ``lags[i]``), then
        the free templates.
    H : ndarray, shape (K, C, N)
    Hf : ndarray, shape (n_free, C·N)
    lags, owners : ndarray of int64, shape (n_columns,)
        Sorted by lag (then template); every template has a lag-0 column.
    eps : float
        Floor of the model.
    den_H : ndarray, shape (K, N)
        Denominator of the activations' update: Σ over k's columns with t + lag < N of
        their column sums.
    update_H : bool
        False: H_next is a copy of H (the free activations are updated all the same).

    Returns
    -------
    loss : float
    H_next : ndarray, shape (K, C, N)
    Hf_next : ndarray, shape (n_free, C·N)
    """
    K, C, N = H.shape
    n_columns = len(lags)
    T = int(lags.max()) + 1
    H_next, Hf_next = np.empty_like(H), np.empty_like(Hf)
    den_free = Wall[:, n_columns:].sum(axis=0)
    tasks = _tasks(C, N)
    losses = np.zeros(len(tasks))
    dt = V.dtype.type
    blas = _blas(V.dtype)
    Wall = np.ascontiguousarray(Wall)  # BLAS wants unit column strides

    def task(i):
        c, t0, t1 = tasks[i]
        if blas is None:
            losses[i] = _h_task(V, Wall, H, Hf, H_next, Hf_next, c, t0, t1, lags, owners, T, dt(eps), den_H,
                                den_free, bool(update_H))
        else:
            losses[i] = _h_task_blas(blas[0], V, Wall, H, Hf, H_next, Hf_next, c, t0, t1, lags, owners, T, dt(eps),
                                     den_H, den_free, bool(update_H), *_scratch(blas, V.dtype))

    _run(task, len(tasks), blas)
    return float(losses.sum()), H_next, Hf_next


def w_pass(V, Wall, H, Hf, lags, owners, eps):
    """The numerators of the template updates (KL MU): Σ_t (V / L)[f, t] · hs[i, t], with
    L the model of ``Wall`` and the activations, hs their shifted rows (as in :func:`h_pass`).

    Parameters
    ----------
    V : ndarray, shape (F, C·N), float32, C-contiguous
    Wall : ndarray, shape (F, n_columns + n_free)
    H : ndarray, shape (K, C, N)
    Hf : ndarray, shape (n_free, C·N)
    lags, owners : ndarray of int64, shape (n_columns,)
    eps : float
        Floor of the model.

    Returns
    -------
    ndarray, shape (F, n_columns + n_free)
        Summed over the tasks in a fixed order (the same on any number of threads).
    """
    K, C, N = H.shape
    tasks = _tasks(C, N)
    partial = np.zeros((len(tasks),) + Wall.shape, V.dtype)
    dt = V.dtype.type
    blas = _blas(V.dtype)
    Wall = np.ascontiguousarray(Wall)  # BLAS wants unit column strides

    def task(i):
        c, t0, t1 = tasks[i]
        if blas is None:
            _w_task(V, Wall, H, Hf, c, t0, t1, lags, owners, dt(eps), partial[i])
        else:
            _w_task_blas(blas[0], V, Wall, H, Hf, c, t0, t1, lags, owners, dt(eps), partial[i],
                         *_scratch(blas, V.dtype))

    _run(task, len(tasks), blas)
    return partial.sum(axis=0)


def fixed_h_pass(V, fixed, Wf, Hf, eps):
    """Loss and updated free activations (KL MU) of the model ``fixed + Wf Hf``: the
    templates and their activations fixed (their model ``fixed`` made once), only the free
    components learning — one pass over V and ``fixed``, columns in fixed tasks.

    Parameters
    ----------
    V, fixed : ndarray, shape (F, M), C-contiguous, one dtype
        The data (floored) and the fixed part of the model.
    Wf : ndarray, shape (F, n_free)
    Hf : ndarray, shape (n_free, M)
    eps : float
        Floor of the model.

    Returns
    -------
    loss : float
        D(V | max(fixed + Wf Hf, eps)), the current factors' (terms summed in float32 per
        row of a block, in float64 across them).
    Hf_next : ndarray, shape (n_free, M)
    """
    Hf_next = np.empty_like(Hf)
    den = Wf.sum(axis=0)
    bounds = task_bounds(V.shape[1], MAX_TASKS, BLOCK)
    losses = np.zeros(len(bounds) - 1)
    dt = V.dtype.type

    def task(i):
        losses[i] = _fixed_h_task(V, fixed, Wf, Hf, Hf_next, den, dt(eps), bounds[i], bounds[i + 1])

    run_in_threads(task, len(losses))
    return float(losses.sum()), Hf_next


def fixed_w_pass(V, fixed, Wf, Hf, eps):
    """The numerators of the free templates' KL update, Σ_j (V / L)[f, j] · Hf[r, j] with
    L = max(fixed + Wf Hf, eps): shapes as :func:`fixed_h_pass`; returns (F, n_free), the
    tasks' sums added in a fixed order."""
    bounds = task_bounds(V.shape[1], MAX_TASKS, BLOCK)
    partial = np.zeros((len(bounds) - 1,) + Wf.shape, V.dtype)
    dt = V.dtype.type

    def task(i):
        _fixed_w_task(V, fixed, Wf, Hf, dt(eps), bounds[i], bounds[i + 1], partial[i])

    run_in_threads(task, len(partial))
    return partial.sum(axis=0)
