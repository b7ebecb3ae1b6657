"""Clustering helpers for the adapters: k-means++ seeding, (clipped) Lloyd iterations,
greedy backward elimination of centres and split-merge moves.

numpy only; rows of ``X`` (n, p) are points, rows of ``C`` (m, p) centres.  ``x_sq`` is
the rows' squared norms (precomputed once by callers that reuse ``X``); ``tau`` clips
each point's cost (``np.inf``: the plain k-means objective).  Used by
:func:`nmfaudio.adapters.spikes.cluster`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["squared_distances", "kmeans_plusplus", "weighted_means", "member_means", "lloyd", "eliminate",
           "split_merge"]


def squared_distances(X: np.ndarray, C: np.ndarray, x_sq: np.ndarray | None = None) -> np.ndarray:
    """Squared Euclidean distances (n, m) between rows of X (n, p) and C (m, p)."""
    if x_sq is None:
        x_sq = np.einsum("ij,ij->i", X, X)
    D = X @ C.T
    D *= -2
    D += x_sq[:, None]
    D += np.einsum("ij,ij->i", C, C)[None, :]
    np.maximum(D, 0, out=D)
    return D


def kmeans_plusplus(X: np.ndarray, k: int, rng: np.random.Generator, x_sq=None) -> np.ndarray:
    """Greedy k-means++ seeding: k rows of X, shape (k, p)."""
    n = X.shape[0]
    chosen = [int(rng.integers(n))]
    nearest = squared_distances(X, X[chosen], x_sq)[:, 0]
    n_candidates = 2 + int(np.log(k))
    for _ in range(1, k):
        total = nearest.sum()
        if total <= 0:  # every point coincides with a centre already
            chosen.append(int(rng.integers(n)))
            continue
        candidates = rng.choice(n, size=n_candidates, p=nearest / total)
        trial = np.minimum(nearest[:, None], squared_distances(X, X[candidates], x_sq))
        best = int(trial.sum(axis=0).argmin())
        chosen.append(int(candidates[best]))
        nearest = trial[:, best]
    return X[chosen].copy()


def weighted_means(X: np.ndarray, labels: np.ndarray, C: np.ndarray, weights=None) -> np.ndarray:
    """Members' means (rows of X with weight 1, or ``weights``); empty clusters keep C."""
    k = C.shape[0]
    w = np.ones(X.shape[0]) if weights is None else weights.astype(np.float64)
    counts = np.bincount(labels, weights=w, minlength=k)
    onehot = np.zeros((X.shape[0], k))
    onehot[np.arange(X.shape[0]), labels] = w
    sums = onehot.T @ X
    new = C.copy()
    filled = counts > 0
    new[filled] = sums[filled] / counts[filled, None]
    return new


def lloyd(X, C, *, tau=np.inf, max_iter=100, x_sq=None):
    """Clipped Lloyd iterations: labels (n,), centres (k, p), clipped objective."""
    labels = None
    for _ in range(max_iter):
        D = squared_distances(X, C, x_sq)
        new = D.argmin(axis=1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        nearest = D[np.arange(X.shape[0]), labels]
        C = weighted_means(X, labels, C, None if np.isinf(tau) else nearest < tau)
    D = squared_distances(X, C, x_sq)
    labels = D.argmin(axis=1)
    objective = float(np.minimum(D[np.arange(X.shape[0]), labels], tau).sum())
    return labels, C, objective


def _two_best(D: np.ndarray):
    """Per row: index of the smallest entry, its value and the second smallest value."""
    n = D.shape[0]
    if D.shape[1] == 1:
        best = np.zeros(n, dtype=np.intp)
        return best, D[:, 0], np.full(n, np.inf)
    order = np.argpartition(D, 1, axis=1)[:, :2]
    a, b = D[np.arange(n), order[:, 0]], D[np.arange(n), order[:, 1]]
    swap = b < a
    first = np.where(swap, order[:, 1], order[:, 0])
    return first, np.minimum(a, b), np.maximum(a, b)


def _removal_costs(D_clipped: np.ndarray) -> np.ndarray:
    """Increase of the clipped objective when each centre alone is removed, shape (m,)."""
    first, best, second = _two_best(D_clipped)
    return np.bincount(first, weights=second - best, minlength=D_clipped.shape[1])


def eliminate(X, C, k, tau, x_sq=None) -> np.ndarray:
    """Greedy backward elimination of centres down to k (least increase of the objective)."""
    D = np.minimum(squared_distances(X, C, x_sq), tau)
    keep = np.arange(C.shape[0])
    while keep.size > k:
        drop = int(_removal_costs(D[:, keep]).argmin())
        keep = np.delete(keep, drop)
    return C[keep].copy()


def _split_in_two(X, tau, rng, x_sq=None, inliers=None):
    """Best of a principal-axis split and two k-means++ splits: (clipped cost, centres (2, p)).

    The principal axis is that of the ``inliers`` (members within ``tau`` of their
    template): overlapping spikes would otherwise dominate the spread.
    """
    starts = []
    if inliers is None or inliers.sum() < 2:
        inliers = np.ones(X.shape[0], dtype=bool)
    centre = X[inliers].mean(axis=0)
    centred = X[inliers] - centre
    # Principal axis by a few power iterations (deterministic given X).
    axis = centred[np.argmax(np.einsum("ij,ij->i", centred, centred))].copy()
    for _ in range(20):
        axis = centred.T @ (centred @ axis)
        norm = np.linalg.norm(axis)
        if norm == 0:
            break
        axis /= norm
    side = (X - centre) @ axis > 0
    if (side & inliers).any() and (~side & inliers).any():
        starts.append(np.stack([X[side & inliers].mean(axis=0), X[~side & inliers].mean(axis=0)]))
    for _ in range(2):
        starts.append(lloyd(X, kmeans_plusplus(X, 2, rng, x_sq), max_iter=30, x_sq=x_sq)[1])
    best = None
    for start in starts:
        _, C, cost = lloyd(X, start, tau=tau, max_iter=30, x_sq=x_sq)
        if best is None or cost < best[0]:
            best = (cost, C)
    return best


def split_merge(X, C, tau, rng, *, x_sq=None, n_moves=8, max_rounds=50):
    """Split one cluster in two and drop another while the clipped objective decreases."""
    labels, C, objective = lloyd(X, C, tau=tau, x_sq=x_sq)
    k = C.shape[0]
    if k < 2:
        return labels, C, objective
    for _ in range(max_rounds):
        D = np.minimum(squared_distances(X, C, x_sq), tau)
        removal = _removal_costs(D)
        gains = np.full(k, -np.inf)
        halves = [None] * k
        for j in range(k):
            members = labels == j
            if members.sum() < 4:
                continue
            Xj = X[members]
            xj_sq = x_sq[members] if x_sq is not None else None
            best = _split_in_two(Xj, tau, rng, xj_sq, D[members, j] < tau)
            gains[j] = float(D[members, j].sum()) - best[0]
            halves[j] = best[1]
        moves = sorted((removal[b] - gains[a], a, b)
                       for a in range(k) for b in range(k) if a != b and halves[a] is not None)
        improved = False
        for _net, a, b in moves[:n_moves]:
            trial = C.copy()
            trial[a], trial[b] = halves[a]
            t_labels, t_C, t_objective = lloyd(X, trial, tau=tau, x_sq=x_sq)
            if t_objective < objective * (1 - 1e-9):
                labels, C, objective = t_labels, t_C, t_objective
                improved = True
                break
        if not improved:
            break
    return labels, C, objective


def member_means(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean of each cluster's rows of X, shape (k, p); NaN rows for empty clusters."""
    counts = np.bincount(labels, minlength=k)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]
