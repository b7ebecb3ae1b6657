"""The multiplicative-update pass on BLAS matrix products, a block of columns at a time.

Why this module exists.  The fused pass (:class:`nmfaudio.nmf.kernels.BetaPass`) forms
every product with hand-written numba loops while a block of V is in cache: unbeatable
at small k, where the work per entry is a few multiply-adds and memory traffic decides.
As k grows the products dominate, and BLAS's register- and cache-blocked GEMMs (about
twice the fused loops' rate at k = 32 on an Intel Xeon) win.  A first version formed
each product over the whole (n_features, n_samples) array, so its elementwise sweeps ran
out of cache; this one keeps the fused pass's cache blocking and hands only the products
to BLAS.  :func:`make_pass` picks the faster pass by k (docs/performance.md, 2026-12-01).

One pass, the same contract and arithmetic per entry as BetaPass.  For each block of
:data:`GEMM_BLOCK` columns (per divergence; the model/weight buffers and V's block stay cached):

1. X = W @ H_b (sgemm/dgemm into a reused (n_features, block) buffer), then a compiled
   sweep turns X into the update weights in place (V/WH for KL; V/WH² and 1/WH, in a
   second buffer, for IS and other β) and sums the loss of (W, H) — the fused pass's own
   row-piece code (``kernels._weights_rows``), so each block row's terms are summed the
   same way;
2. the H update of the block from Wᵀ(weights) (and Wᵀ(1/WH)) by GEMM, with the fused
   pass's floors, penalties, frozen components and subnormal hold
   (``kernels._update_block``) — an H column only depends on its own column of V;
3. X = W @ H_new,b, the weights again, and the block's share of the W-update products
   (weights) H_new,bᵀ by GEMM, while V's block is still in cache.

Blocks are grouped into a fixed set of tasks (:func:`kernels.task_bounds`, independent
of the thread count); each task sums its own loss and W products, added in a fixed order
afterwards.  A task's blocks are one compiled call, which reaches BLAS's ?gemm through a
function pointer (:func:`blas_gemm`: the newest OpenBLAS loaded, else
scipy.linalg.cython_blas): a Python call per product and per task cost 7–8 % of a pass
at k = 32.  Memory: a blocked copy of V (as the fused pass) and per
thread one (KL) or two (n_features, block) buffers.  Several threads: the tasks are
pulled by the fused pass's thread pool with BLAS held to one thread inside (a statically
split GEMM waits for its slowest thread; a pulled task does not).
"""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager

import numpy as np

from nmfaudio.nmf import kernels
from nmfaudio.nmf.kernels import HAVE_NUMBA, MAX_TASKS, BetaPass, run_in_threads

#: Components from which :func:`make_pass` uses the GEMM pass: KL (one weight array,
#: four products per pass) and every other β (two weight arrays, six products).  From
#: side-by-side measurements of both passes (one thread, Intel Xeon, 1025 × 2600,
#: docs/performance.md, 2026-12-01): KL 8 % faster at k = 20, 18 % at 24 (4 % at 16,
#: but 10 % slower there than a fused pass whose H update skips the power when γ = 1);
#: IS 3–4 % slower at 16–20, 7–8 % faster at 24–28, 10–13 % at 32.
GEMM_MIN_K = {kernels.MODE_KL: 20, "other": 24}

#: Columns per block of the GEMM pass, by divergence: V's block and the weight buffer(s)
#: stay in a core's L2 (2 MB on the Intel Xeons measured) between the products and the
#: sweeps — KL: two 1025 × 256 float32 arrays (2 MB); other β: three arrays, so 128
#: columns (1.5 MB; at 256 they were 3 MB and IS was 5 % slower at k = 32, one thread,
#: docs/performance.md 2026-12-01).  At most kernels.BLOCK (the split IS loss's mantissa
#: products, see kernels._weights_row).
GEMM_BLOCK = {kernels.MODE_KL: 256, "other": 128}
assert max(GEMM_BLOCK.values()) <= kernels.BLOCK

if HAVE_NUMBA:
    from nmfaudio.nmf.kernels import MODE_KL, MODE_KL_SPLIT, SWEEP_H, SWEEP_H_LOSS, SWEEP_W, _jit, _jit_inline, _log_parts, _update_block, _weights_rows

    @_jit_inline
    def _gemm(gemm, A, B, out, trans_a, trans_b, accumulate, ints, scalars, chars):
        """out (m, n) = op(A) @ op(B) (+ out when ``accumulate``) by the Fortran BLAS
        routine ``gemm`` (an sgemm or dgemm from :func:`blas_gemm`, whose pointer
        arguments the scratch arrays ``ints`` (6, the routine's integer width: int32 or,
        for an ILP64 build, int64), ``scalars`` (out's dtype, 2) and ``chars`` (uint8, 2)
        hold).  Row-major arrays with unit column stride (a single row may have any row
        stride); column-major BLAS computes outᵀ = op(B)ᵀ op(A)ᵀ on the same memory."""
        m, n = out.shape
        size = out.itemsize
        width = ints.itemsize
        chars[0] = 84 if trans_b else 78  # 'T' / 'N'
        chars[1] = 84 if trans_a else 78
        ints[0] = n
        ints[1] = m
        ints[2] = A.shape[0] if trans_a else A.shape[1]
        # leading dimensions at least the row length: a single row's row stride is
        # arbitrary (the (1, n) transpose of an (n, 1) array is "contiguous" with a stride
        # of one item), and BLAS refuses a smaller one (xerbla) and skips the product
        ints[3] = max(B.strides[0] // size, B.shape[1], 1)
        ints[4] = max(A.strides[0] // size, A.shape[1], 1)
        ints[5] = max(out.strides[0] // size, out.shape[1], 1)
        scalars[0] = 1.0
        scalars[1] = 1.0 if accumulate else 0.0
        i, s, c = ints.ctypes.data, scalars.ctypes.data, chars.ctypes.data
        gemm(c, c + 1, i, i + width, i + 2 * width, s, B.ctypes.data, i + 3 * width, A.ctypes.data,
             i + 4 * width, s + size, out.ctypes.data, i + 5 * width)

    @_jit
    def _task(gemm, V, W, H, H_next, c0, c1, n_samples, free_H, mode, beta, gamma, eps, tiny, flush, one,
              l1_H, l2_H, colsumW, update_H, update_W, with_loss, X, C, Hb, numHt, denHt, numH, denH, numW, denW,
              sumH, v_exponents, v_mantissas, ints, scalars, chars):
        """Columns c0..c1 of the pass, block by block (V's blocks are (F, block)): writes
        H_next[:, c0:c1], adds this task's W products to numW, denW (F, k) and sumH (k,),
        returns its loss terms (float64; 0 unless ``with_loss``).  X, C (F, block), Hb (k, block), numHt, denHt
        (block, k), numH, denH (k, block): this thread's buffers."""
        F, block = X.shape
        k = W.shape[1]
        needs_den = mode != MODE_KL and mode != MODE_KL_SPLIT
        loss = 0.0
        for j0 in range(c0, c1, block):
            i = j0 // block
            w = min(block, n_samples - j0)
            Vb, ve, vm = V[i], v_exponents[i], v_mantissas[i]
            Xw, Cw, Hw = X[:, :w], C[:, :w], Hb[:, :w]
            _gemm(gemm, W, H[:, j0:j0 + w], Xw, False, False, False, ints, scalars, chars)
            # the row code inlined twice, once with the loss and once without (a constant
            # in each copy), rather than a run-time flag inside its loops
            if with_loss:
                loss += _weights_rows(Vb, 0, X, C, F, w, mode, beta, eps, one, SWEEP_H_LOSS, ve, vm)
            else:
                loss += _weights_rows(Vb, 0, X, C, F, w, mode, beta, eps, one, SWEEP_H, ve, vm)
            for kk in range(k):
                for j in range(w):
                    Hb[kk, j] = H[kk, j0 + j]
            if update_H:
                # Wᵀ(weights) as ((weights)ᵀ W)ᵀ: OpenBLAS's faster orientation here (measured)
                _gemm(gemm, Xw, W, numHt[:w], True, False, False, ints, scalars, chars)
                if needs_den:
                    _gemm(gemm, Cw, W, denHt[:w], True, False, False, ints, scalars, chars)
                # the update reads its rows contiguous: on the (block, k) products' strided
                # columns it ran scalar (a square root per entry for IS: 0.77 of 13 ms)
                for kk in range(k):
                    for j in range(w):
                        numH[kk, j] = numHt[j, kk]
                if needs_den:
                    for kk in range(k):
                        for j in range(w):
                            denH[kk, j] = denHt[j, kk]
                _update_block(Hb, numH, denH, colsumW, w, mode, gamma, l1_H, l2_H, free_H, tiny, flush)
            for kk in range(k):
                for j in range(w):
                    H_next[kk, j0 + j] = Hb[kk, j]
            if not update_W:
                continue
            _gemm(gemm, W, Hw, Xw, False, False, False, ints, scalars, chars)
            _weights_rows(Vb, 0, X, C, F, w, mode, beta, eps, one, SWEEP_W, ve, vm)
            _gemm(gemm, Xw, Hw, numW, False, True, True, ints, scalars, chars)
            if needs_den:
                _gemm(gemm, Cw, Hw, denW, False, True, True, ints, scalars, chars)
            else:  # KL: the W denominator is the row sums of the new H
                for kk in range(k):
                    s = Hb[kk, 0] * 0
                    for j in range(w):
                        s += Hb[kk, j]
                    sumH[kk] += s
        return loss


    @_jit
    def _tasks(t0, t1, bounds, gemm, V, W, H, H_next, n_samples, free_H, mode, beta, gamma, eps, tiny, flush,
               one, l1_H, l2_H, colsumW, update_H, update_W, with_loss, X, C, Hb, numHt, denHt, numH, denH, numW, denW, sumH, losses,
               v_exponents, v_mantissas, ints, scalars, chars):
        """Tasks t0..t1−1 (:func:`_task`, one compiled call: a Python call per task costs
        ~30 µs, 0.07× the GEMM floor at k = 32 over 11 tasks): losses[t], numW[t],
        denW[t], sumH[t] (zeroed first)."""
        for t in range(t0, t1):
            numW[t, :, :] = 0
            denW[t, :, :] = 0
            sumH[t, :] = 0
            losses[t] = _task(gemm, V, W, H, H_next, bounds[t], bounds[t + 1], n_samples, free_H, mode, beta, gamma,
                              eps, tiny, flush, one, l1_H, l2_H, colsumW, update_H, update_W, with_loss, X, C, Hb, numHt,
                              denHt, numH, denH, numW[t], denW[t], sumH[t], v_exponents, v_mantissas, ints, scalars, chars)


def blas_gemm(dtype):
    """The BLAS sgemm (float32) or dgemm (anything else) the compiled task calls, as a
    ctypes function of 13 pointers, with the width of its integer arguments: no Python
    call per product (a pass makes 4–6 per block).

    Which BLAS: the newest OpenBLAS loaded in the process (NumPy's and SciPy's wheels each
    bundle one; threadpoolctl lists them), else scipy.linalg.cython_blas's routine (any
    BLAS SciPy was built with).  Why not always SciPy's: on the Intel Xeon measured
    (docs/performance.md, 2026-12-01 "the GEMM pass on NumPy's OpenBLAS"), NumPy's
    OpenBLAS 0.3.31 formed the H update's block products (weights)ᵀW 20–36 % faster than
    SciPy's 0.3.30 at k = 8–32 (the other two products within 3 %), and the pass, with
    bit-identical results, 8–9 % faster at k = 32; NumPy's is also the BLAS that the
    benchmarks' GEMM floor (NumPy's ``@``) runs on.

    Parameters
    ----------
    dtype : numpy dtype
        float32 (sgemm) or anything else (dgemm).

    Returns
    -------
    (ctypes function, numpy integer dtype) or None
        None if no usable routine was found (SciPy's cython_blas takes 32-bit ``int``
        sizes; an ILP64 cython_blas is not used).
    """
    name = "sgemm" if np.dtype(dtype) == np.float32 else "dgemm"
    if name not in _GEMMS:
        _GEMMS[name] = _openblas_gemm(name) or _cython_gemm(name)
    return _GEMMS[name]


_GEMMS = {}

@functools.cache
def _signature():
    """ctypes signature of the Fortran ?gemm: 13 pointers (two chars, three sizes, α, A,
    lda, B, ldb, β, C, ldc)."""
    import ctypes

    return ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * 13)


def _cython_gemm(name):
    """scipy.linalg.cython_blas's ``name`` with int32 sizes, or None (an ILP64 build)."""
    import ctypes

    import scipy.linalg.cython_blas
    from numba.extending import get_cython_function_address

    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    declared = get_name(scipy.linalg.cython_blas.__pyx_capi__[name]).decode()
    if declared.startswith("void (char *, char *, int *, int *, int *,") and declared.count("int *") == 6:
        return _signature()(get_cython_function_address("scipy.linalg.cython_blas", name)), np.dtype(np.int32)
    return None


def _version(text):
    """'0.3.31.188.0' → (0, 3, 31, 188, 0); unparsable parts end the tuple."""
    parts = []
    for part in str(text).split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def _openblas_gemm(name):
    """``name`` from the newest OpenBLAS loaded in this process, with its integer width
    (int64 where ``openblas_get_config`` says USE64BITINT), or None.  The exported names
    carry the build's prefix and suffix (NumPy's wheels: ``scipy_sgemm_64_``)."""
    import ctypes

    import scipy.linalg.cython_blas  # noqa: F401  (loads SciPy's BLAS, so it is a candidate too)

    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return None
    try:
        listed = threadpool_info()
    except Exception:  # pragma: no cover - an introspection failure must not stop a fit
        return None  # SciPy's cython_blas still works
    found = [info for info in listed if info.get("internal_api") == "openblas"]
    for info in sorted(found, key=lambda info: _version(info.get("version")), reverse=True):
        try:
            library = ctypes.CDLL(info["filepath"])
        except OSError:  # pragma: no cover
            continue
        for prefix, suffix in (("scipy_", "64_"), ("", "64_"), ("scipy_", ""), ("", "")):
            routine = getattr(library, f"{prefix}{name}_{suffix}", None)
            config = getattr(library, f"{prefix}openblas_get_config{suffix}", None)
            if routine is None or config is None:
                continue
            config.restype = ctypes.c_char_p
            width = np.dtype(np.int64 if b"USE64BITINT" in (config() or b"") else np.int32)
            _CHOSEN_LIBRARIES.add(info["filepath"])  # blas_on_one_thread holds it to one thread
            return _signature()(ctypes.cast(routine, ctypes.c_void_p).value), width
    return None


#: File paths of the OpenBLAS libraries whose routines :func:`blas_gemm` returned.
_CHOSEN_LIBRARIES = set()


_CONTROLLER = None
_LIMIT_LOCK = threading.Lock()
_LIMITS = []  # the limits in force while _LIMIT_USERS > 0, restored last to first
_LIMIT_USERS = 0


@contextmanager
def blas_on_one_thread():
    """A context holding BLAS to one thread.  threadpoolctl's controller is made once:
    ``threadpool_limits`` scans the loaded libraries on every call (1.5 ms, a tenth of
    a pass at k = 32), ``controller.limit`` takes 15 µs.  It is made again when
    :func:`blas_gemm` chose a library it does not hold (an OpenBLAS loaded since): the
    routine the pass calls must be the one held to one thread.

    The limit is process-wide, so passes running at once in several user threads share
    one: the first to enter sets it, the last to leave restores the original (each
    restoring what it found would leave BLAS on one thread when they finish out of order).
    """
    global _CONTROLLER, _LIMIT_USERS
    with _LIMIT_LOCK:
        renewed = _CONTROLLER is None or not _CHOSEN_LIBRARIES <= {lib.filepath for lib in _CONTROLLER.lib_controllers}
        if renewed:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        if _LIMIT_USERS == 0 or renewed:  # renewed while held: the new library joins the limit
            _LIMITS.append(_CONTROLLER.limit(limits=1, user_api="blas"))
        _LIMIT_USERS += 1
    try:
        yield
    finally:
        with _LIMIT_LOCK:
            _LIMIT_USERS -= 1
            if _LIMIT_USERS == 0:
                while _LIMITS:
                    _LIMITS.pop().restore_original_limits()


def column_blocks(V: np.ndarray, block: int) -> np.ndarray:
    """V (F, T) as (n_blocks, F, block), each column block contiguous; the last one
    padded with ones (never read).

    Parameters
    ----------
    V : ndarray, shape (F, T), any layout
    block : int >= 1
        Columns per block.

    Returns
    -------
    ndarray, shape (ceil(T / block), F, block), V's dtype
    """
    F, T = V.shape
    n_blocks = -(-T // block)
    padded = np.ones((F, n_blocks * block), V.dtype)
    padded[:, :T] = V
    return np.ascontiguousarray(padded.reshape(F, n_blocks, block).transpose(1, 0, 2))


class GemmBetaPass(kernels.TaskProducts):
    """:class:`~nmfaudio.nmf.kernels.BetaPass`'s pass with BLAS products, block by block:
    same parameters, same ``run`` / ``w_products`` contract.

    Parameters
    ----------
    V : ndarray, shape (n_features, n_samples), float32 or float64
        Already floored (β ≤ 1); read, never modified (copied once into column blocks).
    n_components : int
    beta, gamma, eps, free_H, l1_H, l2_H, update_W
        As for BetaPass.
    block : int
        Columns per block (default :data:`GEMM_BLOCK` for β, at most ``kernels.BLOCK``).
    """

    def __init__(self, V, n_components, *, beta, gamma, eps, free_H, l1_H, l2_H, update_W, block=None):
        if not HAVE_NUMBA:  # pragma: no cover
            raise RuntimeError("GemmBetaPass needs numba; use solvers.BetaMU instead")
        dt = V.dtype.type
        F, T = V.shape
        k = n_components
        if block is None:
            block = GEMM_BLOCK.get(kernels.mode_for(beta), GEMM_BLOCK["other"])
        self.block = int(block)
        if not 1 <= self.block <= kernels.BLOCK:
            raise ValueError(f"block={block} must be in 1..{kernels.BLOCK}")
        self.V = column_blocks(V, self.block)
        self.n_samples = T
        self.mode = kernels.pass_mode(beta, V, eps)  # as BetaPass
        self.beta, self.gamma = float(beta), float(gamma)
        self.eps, self.tiny, self.one = dt(eps), dt(np.finfo(V.dtype).tiny), dt(1)
        self.flush = dt(kernels.flush_level(V.dtype))
        self.free_H = np.ascontiguousarray(free_H, dtype=np.bool_)
        self.update_H = bool(self.free_H.any())
        self.l1_H, self.l2_H = dt(l1_H), dt(l2_H)
        self.update_W = bool(update_W)
        # tasks of whole blocks, about kernels.BLOCK columns each whatever the block: each
        # task's W products are an (F, k) array zeroed and summed every pass (at k = 32,
        # 11 tasks of one 256-column block spent 0.1 ms of an 8-ms pass on them)
        unit = self.block * max(1, round(kernels.BLOCK / self.block))
        self.bounds = kernels.task_bounds(T, MAX_TASKS, unit)
        n_tasks = self.bounds.size - 1
        self.parallel = n_tasks > 1 and F * T * k >= kernels.PARALLEL_MIN_WORK
        shape_W = (n_tasks, F, k) if update_W else (n_tasks, 1, k)
        self._numW = np.zeros(shape_W, V.dtype)
        self._denW = np.zeros(shape_W if not kernels.is_kl(self.mode) else (n_tasks, 1, k), V.dtype)
        self._sumH = np.zeros((n_tasks, k), V.dtype)
        self._losses = np.zeros(n_tasks)
        self._constant = kernels._sum_power(V, self.beta) if self.mode == kernels.MODE_GENERIC else 0.0
        n_blocks = self.V.shape[0]
        if self.mode == kernels.MODE_IS_SPLIT:  # each block's row pieces, as BetaPass's
            self._v_exponents = np.zeros((n_blocks, F), np.int32)
            self._v_mantissas = np.ones((n_blocks, F))
            for i in range(n_blocks):  # the padding (ones) adds log 1 = 0
                _log_parts(self.V[i], self._v_exponents[i:i + 1], self._v_mantissas[i:i + 1])
        else:
            self._v_exponents, self._v_mantissas = np.zeros((n_blocks, 1), np.int32), np.ones((n_blocks, 1))
        gemm = blas_gemm(V.dtype)
        if gemm is None:  # pragma: no cover - no OpenBLAS loaded and an ILP64 scipy
            raise RuntimeError("GemmBetaPass needs an OpenBLAS or scipy's LP64 BLAS; use kernels.BetaPass instead")
        self._gemm, self._int_dtype = gemm
        self._local = threading.local()
        self._shape = (F, k, V.dtype)

    def _buffers(self):
        """This thread's buffers: X, C (F, block), Hb (k, block), numHᵀ, denHᵀ (block, k),
        numH, denH (k, block) and the BLAS call's scratch (made on first use)."""
        buffers = getattr(self._local, "buffers", None)
        if buffers is None:
            F, k, dtype = self._shape
            b = self.block
            X = np.zeros((F, b), dtype)
            C = X if kernels.is_kl(self.mode) else np.zeros((F, b), dtype)
            buffers = (X, C, np.zeros((k, b), dtype), np.zeros((b, k), dtype), np.zeros((b, k), dtype),
                       np.zeros((k, b), dtype), np.zeros((k, b), dtype), np.zeros(6, self._int_dtype), np.zeros(2, dtype), np.zeros(2, np.uint8))
            self._local.buffers = buffers
        return buffers

    def _run_tasks(self, t0, t1, W, H, H_next, colsumW, with_loss):
        """Tasks t0..t1−1 in one compiled call: their losses, H_next's columns and W
        products."""
        buffers = self._buffers()
        _tasks(t0, t1, self.bounds, self._gemm, self.V, W, H, H_next, self.n_samples, self.free_H, self.mode,
               self.beta, self.gamma, self.eps, self.tiny, self.flush, self.one, self.l1_H, self.l2_H, colsumW,
               self.update_H, self.update_W, with_loss, *buffers[:7], self._numW, self._denW, self._sumH, self._losses,
               self._v_exponents, self._v_mantissas, *buffers[7:])

    def run(self, W, H, H_next, with_loss=True):
        """One pass over (W, H): returns D(V | WH) (NaN when not ``with_loss``: the pass
        then skips the loss terms) and writes the updated H into ``H_next``; the W-update
        products are then in :meth:`w_products`."""
        W, H = np.ascontiguousarray(W), np.ascontiguousarray(H)  # BLAS wants unit column strides
        colsumW = W.sum(axis=0)  # the KL denominator of the H update
        n_tasks = self.bounds.size - 1
        n_threads = min(n_tasks, kernels.num_threads()) if self.parallel else 1
        with_loss = bool(with_loss)
        if n_threads > 1:
            with blas_on_one_thread():
                run_in_threads(lambda t: self._run_tasks(t, t + 1, W, H, H_next, colsumW, with_loss), n_tasks,
                               n_threads)
        else:
            self._run_tasks(0, n_tasks, W, H, H_next, colsumW, with_loss)
        if not with_loss:
            return float("nan")
        total = float(self._losses.sum())
        if self.mode == kernels.MODE_GENERIC:
            total = (self._constant + total) / (self.beta * (self.beta - 1.0))
        return total



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
    if n_components >= threshold and HAVE_NUMBA and blas_gemm(V.dtype) is not None:
        return GemmBetaPass(V, n_components, **options)
    return BetaPass(V, n_components, **options)
