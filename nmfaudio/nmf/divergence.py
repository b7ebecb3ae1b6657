"""β-divergence between a non-negative matrix and its NMF model.

Values follow scikit-learn's ``_beta_divergence`` so numbers can be compared directly:

* β = 2 (Frobenius): ½‖V − WH‖²_F
* β = 1 (Kullback-Leibler): Σ V log(V / WH) − V + WH
* β = 0 (Itakura-Saito): Σ V / WH − log(V / WH) − 1
* other β: Σ (V^β + (β − 1) WH^β − β V WH^(β−1)) / (β (β − 1))

Zeros.  For β < 2 the divergence (and the multiplicative updates) divide by WH, and
for β ≤ 0 also by V.  Instead of refusing such input, the model WH is floored at
``eps`` for β < 2 and the data V at ``eps`` for β ≤ 1, where by default
``eps = FLOOR_RELATIVE * max(V)``.  A relative floor keeps the Itakura-Saito divergence
scale-invariant.  Where V has no entry below ``eps`` and WH none below it either, the
value equals scikit-learn's exactly.
"""

from __future__ import annotations

import numpy as np

from nmfaudio._validation import BETA_NAMES, beta_name, beta_names_text, is_real
from nmfaudio.nmf._checks import check_beta_range

#: Default floor, relative to ``max(V)``, for V (β ≤ 1) and WH (β < 2).  float32's
#: machine epsilon: entries below it are float32 rounding noise of the largest one.
FLOOR_RELATIVE = float(np.finfo(np.float32).eps)


def beta_from_name(beta) -> float:
    """Return β as a float from a name (``"frobenius"``, ``"kullback-leibler"``,
    ``"itakura-saito"``, or a short name: ``"fro"``, ``"euclidean"``, ``"kl"``, ``"is"``,
    as ``nmfaudio separate --beta`` takes them) or a real number.

    Raises
    ------
    ValueError
        For an unknown name or a non-finite number; the message lists the valid names.
    """
    if isinstance(beta, str):
        name = beta_name(beta)
        if name is None:
            raise ValueError(f"beta={beta!r} is not a known divergence; use {beta_names_text()} or a float")
        return BETA_NAMES[name]
    if not is_real(beta):  # bools, complex numbers and other objects
        raise TypeError(f"beta={beta!r} must be a divergence name or a float, got {type(beta).__name__}")
    if not np.isfinite(beta):
        raise ValueError(f"beta={beta!r} must be a finite float")
    return check_beta_range(float(beta))


def default_floor(V: np.ndarray) -> float:
    """The floor used for V (β ≤ 1) and WH (β < 2): ``FLOOR_RELATIVE * max(V)``,
    or the smallest normal number of V's dtype when V is all zeros."""
    vmax = float(V.max()) if V.size else 0.0
    tiny = float(np.finfo(V.dtype).tiny)
    return max(FLOOR_RELATIVE * vmax, tiny)


def floor_data(V: np.ndarray, beta: float, eps: float, *, overwrite: bool = False) -> tuple[np.ndarray, int]:
    """Return V floored at ``eps`` when β ≤ 1 (a copy only if anything changes),
    and how many entries were raised.

    Parameters
    ----------
    V : ndarray, shape (n_features, n_samples)
    beta : float
    eps : float
    overwrite : bool, default False
        Floor V in place instead of copying it (for a V the caller owns).

    Returns
    -------
    V_floored : ndarray, shape (n_features, n_samples)
    n_floored : int
    """
    if beta > 1:
        return V, 0
    low = V < eps
    n_floored = int(np.count_nonzero(low))
    if n_floored == 0:
        return V, 0
    return np.maximum(V, V.dtype.type(eps), out=V if overwrite else None), n_floored


def divergence_from_model(V: np.ndarray, WH: np.ndarray, beta: float) -> float:
    """β-divergence D(V | WH), summed in float64.

    ``V`` must already be floored as :func:`floor_data` does, and ``WH`` floored at the
    same ``eps`` when β < 2.

    Parameters
    ----------
    V, WH : ndarray, shape (n_features, n_samples)
    beta : float

    Returns
    -------
    float
    """
    if beta == 2:
        diff = V - WH
        return 0.5 * float(np.dot(diff.ravel(), diff.ravel().astype(np.float64, copy=False)))
    if beta == 1:
        return float(
            np.sum(V * np.log(V / WH), dtype=np.float64)
            - np.sum(V, dtype=np.float64)
            + np.sum(WH, dtype=np.float64)
        )
    if beta == 0:
        ratio = V / WH
        return float(np.sum(ratio, dtype=np.float64) - np.sum(np.log(ratio), dtype=np.float64) - ratio.size)
    # Any other β: the three sums cancel heavily near a perfect fit, so work in float64.
    V, WH = V.astype(np.float64, copy=False), WH.astype(np.float64, copy=False)
    return float(
        (
            np.sum(V**beta, dtype=np.float64)
            + (beta - 1) * np.sum(WH**beta, dtype=np.float64)
            - beta * np.sum(V * WH ** (beta - 1), dtype=np.float64)
        )
        / (beta * (beta - 1))
    )


def beta_divergence(V, W, H, beta="frobenius", *, eps: float | None = None) -> float:
    """β-divergence between V and its model W @ H, as scikit-learn defines it.

    Parameters
    ----------
    V : array-like, shape (n_features, n_samples)
        Non-negative data.
    W : array-like, shape (n_features, n_components)
    H : array-like, shape (n_components, n_samples)
    beta : {"frobenius", "kullback-leibler", "itakura-saito"} or float
    eps : float, optional
        Floor for V (β ≤ 1) and WH (β < 2); default ``FLOOR_RELATIVE * max(V)``, the
        same floor :func:`nmfaudio.factorize` uses, so ``beta_divergence(V, res.W,
        res.H, beta) == res.loss[-1]`` up to rounding.

    Returns
    -------
    float
        Frobenius: ½‖V − WH‖²_F; see the module docstring for the others.
    """
    from nmfaudio.nmf._checks import check_data

    V = check_data(V, "V")
    W = check_data(W, "W", dtype=V.dtype, negative="templates")
    H = check_data(H, "H", dtype=V.dtype, negative="activations")
    if W.shape[0] != V.shape[0] or H.shape[1] != V.shape[1] or W.shape[1] != H.shape[0]:
        raise ValueError(
            f"shapes V {V.shape}, W {W.shape}, H {H.shape} do not fit V ≈ W @ H; "
            "expected W (n_features, k) and H (k, n_samples)"
        )
    beta = beta_from_name(beta)
    if eps is None:
        eps = default_floor(V)
    V, _ = floor_data(V, beta, eps)
    WH = W @ H
    if beta < 2:
        np.maximum(WH, eps, out=WH)
    return divergence_from_model(V, WH, beta)
