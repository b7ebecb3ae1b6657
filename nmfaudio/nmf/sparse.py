"""Sparse V: the model WH at V's stored entries only, and β-MU on those entries.

For a scipy.sparse V (n_features, n_samples) with nnz stored entries, nothing of size
n_features × n_samples is ever allocated:

* the model is needed at the stored entries only for the data terms (V ⊙ WH^(β−2),
  V log(V/WH), ...): :func:`model_at_entries` computes ⟨W_f, H_t⟩ for each (f, t) stored, a
  block of entries at a time;
* the terms that involve every entry of WH (unfloored in the divergence; floored at
  ``eps`` in (WH)^(β−1) for β < 1 only, as scikit-learn does for sparse X) reduce to products for β = 1 (Σ WH =
  colsum(W)·rowsum(H), Wᵀ1 = colsum(W)) and β = 2 (WᵀW, HHᵀ, see
  :mod:`nmfaudio.nmf.solvers`); for any other β, Wᵀ(WH)^(β−1), (WH)^(β−1)Hᵀ and
  Σ(WH)^β are accumulated over blocks of rows of W (:func:`dense_power_products`), so
  the memory stays at a block of rows × n_samples while the work is that of the dense
  update.

Implicit zeros of V contribute nothing to the data terms, which is exact for β > 0
(V log V → 0, V^β → 0); for β ≤ 0 zeros have no finite divergence, and
:func:`nmfaudio.factorize` refuses sparse V with implicit zeros there.
"""

from __future__ import annotations

import numpy as np

from nmfaudio.nmf.kernels import HAVE_NUMBA

if HAVE_NUMBA:
    import numba

    @numba.njit(nogil=True, cache=True)
    def _csr_model(W, Ht, indptr, indices, out):
        """out[p] = ⟨W[f], Ht[indices[p]]⟩ for the entries p of each CSR row f: no
        gathered copies of W and H rows (the NumPy path's cost)."""
        k = W.shape[1]
        for f in range(W.shape[0]):
            for p in range(indptr[f], indptr[f + 1]):
                t = indices[p]
                total = W[f, 0] * Ht[t, 0]
                for j in range(1, k):
                    total += W[f, j] * Ht[t, j]
                out[p] = total

#: Stored entries handled per block by :func:`model_at_entries` (a block of k-vectors
#: of W and H rows: 2 · BLOCK_ENTRIES · k values of temporary memory).
BLOCK_ENTRIES = 1 << 15

#: Target size, in values, of one dense block of WH in :func:`dense_power_products`.
BLOCK_VALUES = 1 << 20


def entry_rows(V) -> np.ndarray:
    """The row index of every stored entry of a CSR ``V`` (its ``indices`` are the columns)."""
    counts = np.diff(V.indptr)
    dtype = np.int32 if V.shape[0] < 2**31 else np.int64
    return np.repeat(np.arange(V.shape[0], dtype=dtype), counts)


def model_at_entries(W, H, rows, cols, out=None, *, indptr=None) -> np.ndarray:
    """(W @ H)[rows, cols] without forming W @ H.

    Parameters
    ----------
    W : ndarray, shape (n_features, k)
    H : ndarray, shape (k, n_samples)
    rows, cols : ndarray of int, shape (nnz,)
    out : ndarray, shape (nnz,), optional
    indptr : ndarray of int, shape (n_features + 1,), optional
        When the entries are a CSR matrix's (``rows`` sorted, ``cols`` its indices): use
        the compiled kernel (numba) instead of gathering rows of W and H.

    Returns
    -------
    ndarray, shape (nnz,), W's dtype
    """
    if out is None:
        out = np.empty(rows.shape[0], dtype=W.dtype)
    Ht = np.ascontiguousarray(H.T)
    if HAVE_NUMBA and indptr is not None:
        _csr_model(np.ascontiguousarray(W), Ht, indptr, cols, out)
        return out
    for start in range(0, rows.shape[0], BLOCK_ENTRIES):
        stop = start + BLOCK_ENTRIES
        np.einsum("ij,ij->i", W[rows[start:stop]], Ht[cols[start:stop]], out=out[start:stop])
    return out


def dense_power_products(W, H, power, eps, *, for_H=False, for_W=None, with_sum_beta=None):
    """Products with (WH)^power computed a block of rows of W at a time.

    Parameters
    ----------
    W : ndarray, shape (n_features, k)
    H : ndarray, shape (k, n_samples)
    power : float
        The exponent (β − 1 for the MU denominators).
    eps : float
        WH is floored at ``eps`` before the power (0: no floor); not in the sum.
    for_H : bool
        Return Wᵀ (WH)^power, shape (k, n_samples).
    for_W : ndarray, shape (k_c, n_samples), optional
        Return (WH)^power @ for_Wᵀ, shape (n_features, k_c).
    with_sum_beta : float, optional
        Also return Σ (WH)^with_sum_beta over all entries, summed in float64.

    Returns
    -------
    tuple ``(Wt_power or None, power_Ht or None, sum or None)``
    """
    n_features, n_samples = W.shape[0], H.shape[1]
    step = max(1, BLOCK_VALUES // max(1, n_samples))
    Wt_power = np.zeros((W.shape[1], n_samples), dtype=W.dtype) if for_H else None
    power_Ht = np.empty((n_features, for_W.shape[0]), dtype=W.dtype) if for_W is not None else None
    total = 0.0
    for start in range(0, n_features, step):
        rows = slice(start, start + step)
        block = W[rows] @ H
        if with_sum_beta is not None:  # the divergence's Σ(WH)^β: exact, unfloored
            total += float(np.sum(block.astype(np.float64) ** with_sum_beta))
        if eps > 0:
            np.maximum(block, eps, out=block)
        if power != 1:
            block **= power
        if for_H:
            Wt_power += W[rows].T @ block
        if for_W is not None:
            power_Ht[rows] = block @ for_W.T
    return Wt_power, power_Ht, (total if with_sum_beta is not None else None)


def sparse_divergence(V, wh, W, H, beta, eps, *, sum_wh_beta=None) -> float:
    """β-divergence D(V | WH) for CSR V (β > 0, β ≠ 2), from the model at V's entries.

    Parameters
    ----------
    V : scipy.sparse.csr_array, shape (n_features, n_samples)
    wh : ndarray, shape (nnz,)
        (WH) at V's stored entries, floored at ``eps``.
    W, H : ndarrays
    beta : float
    eps : float
    sum_wh_beta : float, optional
        Σ (WH)^β over every entry (needed for β ≠ 1; computed if not given).
    """
    v = V.data.astype(np.float64, copy=False)
    x = wh.astype(np.float64, copy=False)
    if beta == 1:
        total_model = float(W.sum(axis=0, dtype=np.float64) @ H.sum(axis=1, dtype=np.float64))
        return float(np.sum(v * np.log(v / x)) - v.sum() + total_model)
    if sum_wh_beta is None:
        sum_wh_beta = dense_power_products(W, H, 1.0, 0.0, with_sum_beta=beta)[2]
    return float((np.sum(v**beta) + (beta - 1) * sum_wh_beta - beta * np.sum(v * x ** (beta - 1)))
                 / (beta * (beta - 1)))
