"""Starting points for W and H."""

from __future__ import annotations

import numpy as np

INITS = ("random", "nndsvd", "nndsvda", "nndsvdar")


def random_init(V: np.ndarray, n_components: int, rng: np.random.Generator):
    """Uniform [0, 1) entries scaled by sqrt(mean(V) / k), as in the NTNU course text.

    Parameters
    ----------
    V : ndarray, shape (n_features, n_samples)
    n_components : int
    rng : numpy.random.Generator

    Returns
    -------
    W : ndarray, shape (n_features, n_components)
    H : ndarray, shape (n_components, n_samples)
    """
    scale = np.sqrt(float(V.mean(dtype=np.float64)) / n_components)
    W = (rng.random((V.shape[0], n_components)) * scale).astype(V.dtype)
    H = (rng.random((n_components, V.shape[1])) * scale).astype(V.dtype)
    return W, H


#: A sparse V with at most this many entries in all is densified for a full SVD.
DENSE_SVD_MAX_ENTRIES = 1 << 22


def _truncated_svd(V, n_components: int, rng: np.random.Generator):
    """Leading singular triplets, largest first (deterministic given ``rng``); V may be
    scipy.sparse (ARPACK works on it directly, without densifying it)."""
    sparse = hasattr(V, "indptr")
    if sparse and V.shape[0] * V.shape[1] <= DENSE_SVD_MAX_ENTRIES:
        V, sparse = V.toarray(), False
    if sparse and n_components >= min(V.shape) - 1:
        raise ValueError(
            f"init='nndsvd*' on a large sparse V needs n_components < min(V.shape) - 1 = "
            f"{min(V.shape) - 1}, got {n_components}; use init='random'"
        )
    if (V.nnz == 0 or not V.data.any()) if sparse else not V.any():
        # an all-zero V (a black picture, digital silence): every singular value is 0, and
        # ARPACK stops on it ("error -9: Starting vector is zero"); no direction is better
        U = np.zeros((V.shape[0], n_components))
        return U, np.zeros(n_components), np.zeros((n_components, V.shape[1]))
    if sparse or (n_components < min(V.shape) - 1 and min(V.shape) > 50):
        # ARPACK needs k < min(shape); its start vector comes from rng, so it is reproducible.
        from scipy.sparse.linalg import svds  # imported here: it costs ~0.3 s at start-up

        U, S, Vt = svds(V.astype(np.float64), k=n_components, random_state=rng)
        order = np.argsort(S)[::-1]
        return U[:, order], S[order], Vt[order]
    U, S, Vt = np.linalg.svd(V.astype(np.float64), full_matrices=False)
    return U[:, :n_components], S[:n_components], Vt[:n_components]


def nndsvd_init(V: np.ndarray, n_components: int, rng: np.random.Generator, variant: str = "nndsvd"):
    """Non-negative double SVD (Boutsidis & Gallopoulos, 2008).

    ``"nndsvd"`` leaves zeros (good for sparse results, but multiplicative updates can
    never move a zero); ``"nndsvda"`` fills zeros with mean(V); ``"nndsvdar"`` with small
    random values (mean(V)/100 scale).  Components beyond the rank of V are filled the
    same way.

    Parameters
    ----------
    V : ndarray, shape (n_features, n_samples)
    n_components : int
    rng : numpy.random.Generator
    variant : {"nndsvd", "nndsvda", "nndsvdar"}

    Returns
    -------
    W : ndarray, shape (n_features, n_components)
    H : ndarray, shape (n_components, n_samples)
    """
    n_features, n_samples = V.shape
    rank = min(n_components, n_features, n_samples)
    U, S, Vt = _truncated_svd(V, rank, rng)
    W = np.zeros((n_features, n_components))
    H = np.zeros((n_components, n_samples))
    # The leading singular vectors of a non-negative matrix can be taken non-negative.
    W[:, 0] = np.sqrt(S[0]) * np.abs(U[:, 0])
    H[0, :] = np.sqrt(S[0]) * np.abs(Vt[0, :])
    for j in range(1, rank):
        x, y = U[:, j], Vt[j, :]
        x_p, y_p = np.maximum(x, 0), np.maximum(y, 0)
        x_n, y_n = np.maximum(-x, 0), np.maximum(-y, 0)
        norm_p = np.linalg.norm(x_p) * np.linalg.norm(y_p)
        norm_n = np.linalg.norm(x_n) * np.linalg.norm(y_n)
        # Keep the sign pattern that carries more of the singular pair.
        if norm_p >= norm_n:
            u, v, sigma = x_p, y_p, norm_p
        else:
            u, v, sigma = x_n, y_n, norm_n
        if sigma > 0:
            scale = np.sqrt(S[j] * sigma)
            W[:, j] = scale * u / np.linalg.norm(u)
            H[j, :] = scale * v / np.linalg.norm(v)
    mean = float(V.mean(dtype=np.float64))
    if variant == "nndsvda":
        W[W == 0] = mean
        H[H == 0] = mean
    elif variant == "nndsvdar":
        W[W == 0] = np.abs(mean * rng.standard_normal(np.count_nonzero(W == 0)) / 100)
        H[H == 0] = np.abs(mean * rng.standard_normal(np.count_nonzero(H == 0)) / 100)
    return W.astype(V.dtype), H.astype(V.dtype)


def match_scale(V: np.ndarray, fixed: np.ndarray, scaled: np.ndarray, fixed_is_W: bool) -> None:
    """Rescale ``scaled`` in place so that mean(W @ H) equals mean(V).

    Used when the user gives only one factor: a random other factor would otherwise be
    on an arbitrary scale, and the first iterations would only repair that.
    """
    if fixed_is_W:
        model_mean = fixed.sum(axis=0, dtype=np.float64) @ scaled.sum(axis=1, dtype=np.float64)
    else:
        model_mean = scaled.sum(axis=0, dtype=np.float64) @ fixed.sum(axis=1, dtype=np.float64)
    model_mean /= V.shape[0] * V.shape[1]  # not V.size: that counts stored entries if sparse
    data_mean = float(V.mean(dtype=np.float64))
    if model_mean > 0 and data_mean > 0:
        scaled *= scaled.dtype.type(data_mean / model_mean)
