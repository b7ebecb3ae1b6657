"""Validation of the engine's inputs: every message names the argument, the value and the fix."""

from __future__ import annotations

import numpy as np

from nmfaudio._validation import as_array, check_finite


def float_dtype_for(array: np.ndarray) -> np.dtype:
    """float32 stays float32 (the fast path), float64 stays float64; integers, bools and
    other floats become float64 (float16 becomes float32)."""
    if array.dtype == np.float32 or array.dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def is_sparse(X) -> bool:
    """True for a scipy.sparse matrix or array (scipy imported only if X could be one)."""
    if type(X).__module__.split(".")[0] != "scipy":
        return False
    import scipy.sparse

    return scipy.sparse.issparse(X)


def check_sparse_data(X, name: str, *, dtype=None):
    """Return sparse X as a finite, non-negative ``scipy.sparse.csr_array`` of floats
    with no explicitly stored zeros (always a new matrix: the caller's stays untouched).

    Parameters
    ----------
    X : scipy.sparse matrix or array, 2-D
    name : str
        The argument's name, for messages.
    dtype : numpy dtype, optional
        Default float32 for float32 input, else float64.
    """
    import scipy.sparse

    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_features, n_samples), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} has shape {X.shape}; it must have at least one row and one column")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{name} has dtype {X.dtype}; it must hold real numbers")
    target = np.dtype(dtype) if dtype is not None else float_dtype_for(X)
    array = scipy.sparse.csr_array(X, dtype=target, copy=True)
    array.sum_duplicates()
    if not np.all(np.isfinite(array.data)):
        n_bad = int(np.count_nonzero(~np.isfinite(array.data)))
        raise ValueError(f"{name} holds {n_bad} NaN or infinite values; replace them first")
    if array.data.size and float(array.data.min()) < 0:
        raise ValueError(
            f"{name} has negative values (min {float(array.data.min()):.3g}); NMF needs "
            "non-negative data"
        )
    array.eliminate_zeros()
    return array


#: What to do about negative values, by the factor they are in (:func:`check_data`'s
#: ``negative``): a template is a magnitude spectrum and an activation a gain, so shifting
#: them by their minimum (the advice for data) makes a different template (polish15).
NEGATIVE_FIXES = {
    "data": "NMF needs non-negative data — use magnitudes, or shift the data by its minimum",
    "templates": ("its columns are templates (>= 0) — take magnitudes (np.abs, or undo a dB scale), "
                  "or clip rounding errors with np.maximum({name}, 0); shifting {name} by its minimum "
                  "would change every template"),
    "activations": "activations are gains (>= 0) — clip them with np.maximum({name}, 0)",
}


def check_data(X, name: str, *, dtype=None, accept_sparse: bool = False, negative: str = "data",
               layout: str = "(n_features, n_samples)"):
    """Return X as a finite, non-negative 2-D float array (never a view that could be
    written back into the caller's data: callers copy before updating in place).

    Parameters
    ----------
    X : array-like, 2-D (or a scipy.sparse matrix with ``accept_sparse``)
    name : str
        The argument's name, for messages.
    dtype : numpy dtype, optional
        Convert to this dtype; default float32 for float32 input, else float64.
    accept_sparse : bool, default False
        Accept scipy.sparse input and return it as a CSR array (see
        :func:`check_sparse_data`); otherwise sparse input is a TypeError.
    negative : {"data", "templates", "activations"}, default "data"
        What X is, for the fix a negative value's message names (:data:`NEGATIVE_FIXES`).
    layout : str, default "(n_features, n_samples)"
        The shape X must have, in words, for the message of an X that is not 2-D (W's is
        "(n_features, n_components)": before 2026-12-07, review61, a 1-D W was told
        "(n_features, n_samples)").

    Raises
    ------
    TypeError
        If X is not numeric array-like (strings, objects, complex numbers).
    ValueError
        If X is not 2-D, is empty, or holds NaN, inf or negative values.
    """
    if is_sparse(X):
        if accept_sparse:
            return check_sparse_data(X, name, dtype=dtype)
        raise TypeError(f"{name} is a scipy.sparse matrix; pass {name}.toarray() here")
    what = "a 2-D array of non-negative numbers"
    array = as_array(X, name, expected=what, content=what)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} has dtype {array.dtype}; it must hold real numbers (take np.abs of a "
            "complex spectrogram first)"
        )
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D {layout}, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} has shape {array.shape}; it must have at least one row and one column")
    target = np.dtype(dtype) if dtype is not None else float_dtype_for(array)
    array = array.astype(target, copy=False)
    check_finite(array, name, fix="replace them (e.g. np.nan_to_num) first")
    minimum = float(array.min())
    if minimum < 0:
        raise ValueError(f"{name} has negative values (min {minimum:.3g}); "
                         + NEGATIVE_FIXES[negative].format(name=name))
    return array


#: β outside this range is refused: |x|^β overflows (or underflows to 0) float64 for
#: ordinary spectrogram values well before β = ±100, and no use of such divergences is
#: known; the usual ones are 0 (Itakura-Saito), 1 (Kullback-Leibler) and 2 (Frobenius).
BETA_RANGE = (-5.0, 5.0)


def check_beta_range(beta: float) -> float:
    """Return ``beta`` (a float) if it lies in :data:`BETA_RANGE`."""
    low, high = BETA_RANGE
    if not low <= beta <= high:
        raise ValueError(f"beta={beta!r} is outside {low:g}..{high:g}: such divergences overflow floating point; "
                         "use 0 (itakura-saito), 1 (kullback-leibler), 2 (frobenius) or a value in between")
    return beta


def check_zero_floor(eps: float, V, beta: float) -> None:
    """Refuse ``eps=0`` where it leaves the β-divergence undefined: β <= 1 and a dense V
    with zeros (0·log 0 for KL, log 0 and 0⁻¹ for β <= 0).  Such fits returned NaN losses
    — NMFD NaN activations — and KL ones stopped after 10 iterations as ``"tol"``
    (a NaN start made the decrease test pass).  A sparse V's implicit zeros are exact
    zeros (β > 0) or refused (β <= 0) and its stored entries are not zero, so it passes."""
    if eps != 0 or beta > 1 or hasattr(V, "indptr"):
        return
    n_zeros = int(V.size - np.count_nonzero(V))
    if n_zeros:
        raise ValueError(
            f"eps=0 with beta={beta:g} leaves the divergence undefined at the {n_zeros} zero entries of V "
            "(log 0, division by 0: NaN losses); use eps > 0, or eps=None for the default "
            "floor (float32 machine epsilon × max(V))"
        )


def check_value_range(V, name: str = "V") -> None:
    """Refuse a V the engine cannot bring to a usable range by an exact power-of-two
    scaling (:func:`nmfaudio.nmf.core.unit_scale`), with the fix:

    - a largest value so far into the subnormal numbers (below 2**-128 ≈ 2.9e-39 in
      float32, 2**-1024 ≈ 5.6e-309 in float64) that the scale bringing it near 1 is
      outside the dtype: the fit gave inf losses and NaN factors (before 2026-12-07,
      review61);
    - values whose sum overflows float64 (V near 1.8e308): the start's mean was inf, and
      the factors NaN.

    A sparse V is checked on its stored entries."""
    values = V.data if hasattr(V, "indptr") else V
    if values.size == 0:
        return
    vmax = float(values.max())
    limit = float(np.ldexp(1.0, -np.finfo(values.dtype).maxexp))  # 1 / (the largest power of two)
    if 0 < vmax < limit:
        also = f" or pass it as float64 ({name}.astype(np.float64))" if values.dtype == np.float32 else ""
        raise ValueError(
            f"{name}'s largest value {vmax:.3g} is a subnormal number too small to scale in "
            f"{values.dtype} (below {limit:.3g}); multiply {name} by a constant first (e.g. "
            f"{name} / {name}.max(); W scales with it){also}"
        )
    if vmax > np.finfo(np.float64).max / values.size:
        with np.errstate(over="ignore"):
            overflows = not np.isfinite(values.sum(dtype=np.float64))
    else:
        overflows = False
    if overflows:
        raise ValueError(
            f"{name}'s values (largest {vmax:.3g}) are so large that their sum overflows float64; "
            f"divide {name} by a constant first (e.g. {name} / {name}.max(); W scales with it)"
        )
