"""Validation of the engine's inputs: every message names the argument, the value and the fix."""

from __future__ import annotations

import numbers

import numpy as np


def float_dtype_for(array: np.ndarray) -> np.dtype:
    """float32 stays float32 (the fast path), float64 stays float64; integers, bools and
    other floats become float64 (float16 becomes float32)."""
    if array.dtype == np.float32 or array.dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def check_data(X, name: str, *, dtype=None) -> np.ndarray:
    """Return X as a finite, non-negative 2-D float array (never a view that could be
    written back into the caller's data: callers copy before updating in place).

    Parameters
    ----------
    X : array-like, 2-D
    name : str
        The argument's name, for messages.
    dtype : numpy dtype, optional
        Convert to this dtype; default float32 for float32 input, else float64.

    Raises
    ------
    TypeError
        If X is not numeric array-like (strings, objects, complex numbers).
    ValueError
        If X is not 2-D, is empty, or holds NaN, inf or negative values.
    """
    if isinstance(X, (str, bytes, dict, set)) or X is None:
        raise TypeError(f"{name} must be a 2-D array of non-negative numbers, got {type(X).__name__}")
    try:
        array = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a 2-D array of non-negative numbers: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} has dtype {array.dtype}; it must hold real numbers (take np.abs of a "
            "complex spectrogram first)"
        )
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_features, n_samples), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} has shape {array.shape}; it must have at least one row and one column")
    target = np.dtype(dtype) if dtype is not None else float_dtype_for(array)
    array = array.astype(target, copy=False)
    if not np.all(np.isfinite(array)):
        n_bad = int(np.count_nonzero(~np.isfinite(array)))
        raise ValueError(f"{name} holds {n_bad} NaN or infinite values; replace them (e.g. np.nan_to_num) first")
    minimum = float(array.min())
    if minimum < 0:
        raise ValueError(
            f"{name} has negative values (min {minimum:.3g}); NMF needs non-negative data — "
            "use magnitudes, or shift the data by its minimum"
        )
    return array


def check_n_components(n_components) -> int:
    """Return n_components as an int >= 1."""
    if isinstance(n_components, (bool, np.bool_)) or not isinstance(n_components, numbers.Integral):
        raise ValueError(f"n_components={n_components!r} must be an int >= 1")
    if n_components < 1:
        raise ValueError(f"n_components={n_components!r} must be an int >= 1")
    return int(n_components)


def check_non_negative_number(value, name: str) -> float:
    """Return value as a finite float >= 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}={value!r} must be a finite number >= 0")
    return float(value)


def check_max_iter(max_iter) -> int:
    """Return max_iter as an int >= 0."""
    if isinstance(max_iter, (bool, np.bool_)) or not isinstance(max_iter, numbers.Integral) or max_iter < 0:
        raise ValueError(f"max_iter={max_iter!r} must be an int >= 0")
    return int(max_iter)


def free_mask(fix, n_components: int, name: str) -> np.ndarray:
    """Turn ``fix_W``/``fix_H`` into a boolean mask of the components that *learn*.

    Parameters
    ----------
    fix : bool, sequence of int, or boolean array of length n_components
        ``True`` fixes all, ``False`` none; indices or a mask fix those components.
    n_components : int
    name : str

    Returns
    -------
    ndarray of bool, shape (n_components,)
    """
    if isinstance(fix, (bool, np.bool_)):
        return np.full(n_components, not fix)
    array = np.asarray(fix)
    if array.dtype == bool:
        if array.shape != (n_components,):
            raise ValueError(
                f"{name} as a boolean mask must have length n_components={n_components}, got shape {array.shape}"
            )
        return ~array
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValueError(f"{name}={fix!r} must be a bool, a list of component indices or a boolean mask")
    if array.size and (array.min() < -n_components or array.max() >= n_components):
        raise ValueError(f"{name}={fix!r} has indices outside 0..{n_components - 1}")
    free = np.ones(n_components, dtype=bool)
    free[array] = False
    return free


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
