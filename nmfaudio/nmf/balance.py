"""Keeping the scales of W and H comparable without changing W @ H.

W H = Σ_j W[:, j] H[j, :] is unchanged when column j of W is multiplied by c > 0 and
row j of H by 1/c.  Unpenalized solvers leave that scale free, and it drifts when a
component dies (its product tends to zero while one factor grows) or when k exceeds the
rank of V (HALS can trade 1e16 in W for 1e-16 in H).  :func:`balance_components` repairs
only such outliers (a product below float32 resolution, or entries of W_j and H_j whose
root-mean-squares differ by more than MAX_IMBALANCE), so an ordinary fit comes back
unchanged.
"""

from __future__ import annotations

import numpy as np

#: A component whose ‖W_j‖·‖H_j‖ is below this fraction of the largest one contributes
#: nothing measurable to WH (below float32 rounding of the largest) and is set to zero.
DEAD_RELATIVE = float(np.finfo(np.float32).eps) ** 2

#: A live component whose root-mean-square entry in W_j is more than this factor above
#: or below that in H_j is rescaled so the two are equal.  (Fits from the random or
#: NNDSVD starts stay within a factor of about sqrt(n_features / n_samples) of 1.)
MAX_IMBALANCE = 1e4


def balance_components(W: np.ndarray, H: np.ndarray) -> None:
    """Zero dead components and rescale badly balanced ones, in place; W @ H changes
    only by the dead components' (negligible) contribution.

    Parameters
    ----------
    W : ndarray, shape (n_features, k)
    H : ndarray, shape (k, n_samples)
    """
    norm_W = np.sqrt(np.einsum("ij,ij->j", W, W, dtype=np.float64))
    norm_H = np.sqrt(np.einsum("ij,ij->i", H, H, dtype=np.float64))
    weight = norm_W * norm_H
    if not np.isfinite(weight).all() or weight.max() <= 0:
        return
    dead = weight <= DEAD_RELATIVE * weight.max()
    W[:, dead] = 0
    H[dead] = 0
    live = ~dead
    # log of RMS(W_j) / RMS(H_j)
    log_ratio = (np.log(norm_W[live]) - 0.5 * np.log(W.shape[0])
                 - np.log(norm_H[live]) + 0.5 * np.log(H.shape[1]))
    off = np.abs(log_ratio) > np.log(MAX_IMBALANCE)
    if not off.any():
        return
    columns = np.flatnonzero(live)[off]
    # multiply W_j by c and H_j by 1/c so that the two RMS become equal
    c = np.exp(-log_ratio[off] / 2)
    W[:, columns] *= c.astype(W.dtype)
    H[columns] /= c.astype(H.dtype)[:, None]
