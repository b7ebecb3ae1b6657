"""Spike waveforms ↔ non-negative matrices: clustering extracellular spikes by neuron.

Each spike snippet (``n_samples`` per channel, ``n_channels`` channels concatenated) is one
column of V (n_features = n_channels · n_samples, n_spikes).  Extracellular waveforms are
negative around the trough, so V is made non-negative by an explicit, reversible shift:
``V = X.T + shift`` with ``shift = |min(X)|`` over the whole set (the tutorial's choice;
:func:`to_nonnegative` / :func:`from_nonnegative`).  The shift is stored in the result, so
``W`` can be shown as waveforms again (:attr:`SpikeClustering.parts`).

Methods of :func:`cluster` (all call :func:`nmfaudio.factorize` for the decomposition):

``"templates"`` (default)
    NMF with more parts than clusters (rank ``n_components``, default ``2 * n_clusters``);
    the codes (columns of H, each row scaled by the norm of its part) are over-clustered
    with k-means++ into ``3 * n_clusters`` groups, several times (``n_init``).  Then, in
    waveform space: the groups' mean waveforms are pruned to ``n_clusters`` templates by
    greedy backward elimination, refined by Lloyd iterations (each spike goes to the
    nearest template; templates become their members' means), and improved by
    split-merge moves (split one cluster in two, drop another) while the objective
    decreases.  The objective is the within-cluster squared error with each spike's cost
    clipped at ``tau`` (twice the median squared distance to the nearest group mean,
    about twice the noise energy of one snippet): overlapping spikes, whose residual is
    large whatever the template, then cannot claim a cluster of their own.  The final
    label is the nearest template (template matching).
``"codes"``
    The same NMF and k-means++ on the codes, with ``n_clusters`` groups directly and no
    waveform-space refinement: what the NMF representation alone gives.
``"argmax"``
    The tutorial's recipe, for comparison: shift by ``|min|``, rank = ``n_clusters``,
    label = argmax of each column of H.  It degrades quickly as the number of neurons grows.

Arrays only: reading files is :func:`load_waveforms`, plotting is
:mod:`nmfaudio.plot.spikes`, printing is the command line's job.
"""

from __future__ import annotations

import csv
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nmfaudio._validation import as_generator, check_int, check_number
from nmfaudio.nmf import ConvergenceWarning, factorize

__all__ = [
    "METHODS",
    "SpikeClustering",
    "cluster",
    "from_nonnegative",
    "load_waveforms",
    "to_nonnegative",
]

#: Names accepted by ``cluster(method=...)``; the first is the default.
METHODS = ("templates", "codes", "argmax")

#: Over-clustering factor of the ``"templates"`` method (groups per cluster).
OVERCLUSTER = 3
#: The clipping threshold ``tau`` in units of the median squared distance to the nearest
#: group mean (≈ the noise energy of one snippet).
CLIP_FACTOR = 2.0


# --------------------------------------------------------------------------- validation


def _check_waveforms(waveforms, name: str = "waveforms") -> np.ndarray:
    """Return ``waveforms`` as a float array (n_spikes, n_samples[, ...]) after checks."""
    if waveforms is None or isinstance(waveforms, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be an array (n_spikes, n_samples) or "
                        f"(n_spikes, n_channels, n_samples), got {type(waveforms).__name__}")
    try:
        array = np.asarray(waveforms)
    except Exception as exc:  # ragged nested lists and the like
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} has dtype {array.dtype}; pass real numbers "
                        f"(e.g. {name}.astype(np.float32))")
    if array.ndim not in (2, 3):
        raise ValueError(f"{name} has shape {array.shape} (ndim={array.ndim}); expected "
                         "(n_spikes, n_samples) or (n_spikes, n_channels, n_samples)")
    if array.size == 0:
        raise ValueError(f"{name} has shape {array.shape}; it must hold at least one "
                         "spike with at least one sample")
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            n_bad = int(np.count_nonzero(~finite))
            raise ValueError(f"{name} holds {n_bad} NaN or infinite values; drop those "
                             "spikes or replace the values before clustering")
    return array


# --------------------------------------------------------------------------- the shift


def to_nonnegative(waveforms, *, shift=None):
    """Spikes as a non-negative matrix V (n_features, n_spikes) and the shift used.

    Parameters
    ----------
    waveforms : array-like, shape (n_spikes, n_samples) or (n_spikes, n_channels, n_samples)
        Snippets; channels are concatenated (channel 0's samples first).
    shift : float, optional
        Added to every value.  Default ``|min(waveforms)|`` (the tutorial's choice), which
        makes the smallest value 0 when it is negative.  A given shift must leave no
        negative value.

    Returns
    -------
    V : ndarray, shape (n_channels * n_samples, n_spikes)
        ``waveforms.reshape(n_spikes, -1).T + shift``; float32 stays float32, anything
        else becomes float64.
    shift : float

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[-2.0, 1.0], [0.5, -1.0]])
    >>> V, shift = to_nonnegative(X)
    >>> shift, float(V.min())
    (2.0, 0.0)
    >>> np.array_equal(from_nonnegative(V, shift, X.shape[1:]), X)
    True
    """
    array = _check_waveforms(waveforms)
    dtype = np.float32 if array.dtype == np.float32 else np.float64
    X = array.reshape(array.shape[0], -1).astype(dtype, copy=False)
    if shift is None:
        shift = float(abs(X.min()))
    else:
        shift = check_number(shift, "shift")
        if X.min() + shift < 0:
            raise ValueError(f"shift={shift!r} leaves negative values (min(waveforms) = "
                             f"{float(X.min()):g}); use shift >= {float(-X.min()):g} or "
                             "the default")
    V = X.T + dtype(shift)
    np.maximum(V, 0, out=V)  # rounding of x + |x| in float32 can leave -0.0 or -tiny
    return V, shift


def from_nonnegative(V, shift, waveform_shape):
    """Undo :func:`to_nonnegative`: columns of V back to waveforms.

    Parameters
    ----------
    V : array-like, shape (n_features, n_columns)
        Shifted data, or NMF parts (the columns of W).
    shift : float
        The shift that was added.
    waveform_shape : tuple of int
        ``(n_samples,)`` or ``(n_channels, n_samples)``, with product ``n_features``.

    Returns
    -------
    ndarray, shape (n_columns, *waveform_shape)
    """
    V = np.asarray(V)
    waveform_shape = tuple(int(s) for s in waveform_shape)
    if V.ndim != 2 or V.shape[0] != int(np.prod(waveform_shape)):
        raise ValueError(f"V has shape {V.shape}; expected ({int(np.prod(waveform_shape))}, "
                         f"n_columns) for waveform_shape={waveform_shape}")
    return (V.T - V.dtype.type(shift)).reshape((V.shape[1], *waveform_shape))


# --------------------------------------------------------------------------- result


@dataclass
class SpikeClustering:
    """The outcome of :func:`cluster`.

    Attributes
    ----------
    labels : ndarray of int64, shape (n_spikes,)
        Cluster of each spike, 0 .. n_clusters − 1 (``labels == scores.argmax(axis=1)``).
    templates : ndarray, shape (n_clusters, *waveform_shape)
        Mean waveform of each cluster's members, in the input's units and layout
        (``(n_clusters, n_samples)`` or ``(n_clusters, n_channels, n_samples)``); NaN for
        a cluster without members.
    W : ndarray, shape (n_features, n_components)
        NMF parts of the shifted data (n_features = n_channels · n_samples).
    H : ndarray, shape (n_components, n_spikes)
        NMF codes.
    shift : float
        ``V = waveforms.reshape(n_spikes, -1).T + shift`` is what was factorized.
    scores : ndarray of float, shape (n_spikes, n_clusters)
        Higher is more likely: minus the squared distance to each template
        (``"templates"``, in waveform space; ``"codes"``, in code space) or H transposed
        (``"argmax"``).
    method : str
    n_clusters : int
    waveform_shape : tuple of int
        ``(n_samples,)`` or ``(n_channels, n_samples)``.
    objective : float
        What the method minimized: the clipped within-cluster squared error
        (``"templates"``), the code-space k-means error (``"codes"``) or the final NMF
        loss (``"argmax"``).
    tau : float
        The clipping threshold of ``"templates"`` (squared-distance units; ``inf`` for the
        other methods).
    nmf_loss : float
        Final Frobenius loss ½‖V − WH‖²_F of the factorization.
    """

    labels: np.ndarray
    templates: np.ndarray
    W: np.ndarray
    H: np.ndarray
    shift: float
    scores: np.ndarray
    method: str
    n_clusters: int
    waveform_shape: tuple
    objective: float
    tau: float
    nmf_loss: float

    @property
    def counts(self) -> np.ndarray:
        """Members per cluster, shape (n_clusters,)."""
        return np.bincount(self.labels, minlength=self.n_clusters)

    @property
    def parts(self) -> np.ndarray:
        """The NMF parts as waveforms in the shifted (non-negative) units, each scaled by
        its mean activation, shape (n_components, *waveform_shape).

        They add up to the mean shifted spike: ``parts.sum(axis=0) - shift`` ≈ the mean
        waveform in the input's units.
        """
        scaled = self.W * self.H.mean(axis=1)[None, :]
        return scaled.T.reshape((self.W.shape[1], *self.waveform_shape))

    def reconstruct(self) -> np.ndarray:
        """``W @ H`` with the shift undone, shape (n_spikes, *waveform_shape), input units."""
        return from_nonnegative(self.W @ self.H, self.shift, self.waveform_shape)


# --------------------------------------------------------------------------- k-means pieces


def _sq_dist(X: np.ndarray, C: np.ndarray, x_sq: np.ndarray | None = None) -> np.ndarray:
    """Squared Euclidean distances (n, m) between rows of X (n, p) and C (m, p)."""
    if x_sq is None:
        x_sq = np.einsum("ij,ij->i", X, X)
    D = X @ C.T
    D *= -2
    D += x_sq[:, None]
    D += np.einsum("ij,ij->i", C, C)[None, :]
    np.maximum(D, 0, out=D)
    return D


def _kmeans_pp(X: np.ndarray, k: int, rng: np.random.Generator, x_sq=None) -> np.ndarray:
    """Greedy k-means++ seeding: k rows of X, shape (k, p)."""
    n = X.shape[0]
    chosen = [int(rng.integers(n))]
    nearest = _sq_dist(X, X[chosen], x_sq)[:, 0]
    n_candidates = 2 + int(np.log(k))
    for _ in range(1, k):
        total = nearest.sum()
        if total <= 0:  # every point coincides with a centre already
            chosen.append(int(rng.integers(n)))
            continue
        candidates = rng.choice(n, size=n_candidates, p=nearest / total)
        trial = np.minimum(nearest[:, None], _sq_dist(X, X[candidates], x_sq))
        best = int(trial.sum(axis=0).argmin())
        chosen.append(int(candidates[best]))
        nearest = trial[:, best]
    return X[chosen].copy()


def _means(X: np.ndarray, labels: np.ndarray, C: np.ndarray, weights=None) -> np.ndarray:
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


def _lloyd(X, C, *, tau=np.inf, max_iter=100, x_sq=None):
    """Clipped Lloyd iterations: labels (n,), centres (k, p), clipped objective."""
    labels = None
    for _ in range(max_iter):
        D = _sq_dist(X, C, x_sq)
        new = D.argmin(axis=1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        nearest = D[np.arange(X.shape[0]), labels]
        C = _means(X, labels, C, None if np.isinf(tau) else nearest < tau)
    D = _sq_dist(X, C, x_sq)
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


def _eliminate(X, C, k, tau, x_sq=None) -> np.ndarray:
    """Greedy backward elimination of centres down to k (least increase of the objective)."""
    D = np.minimum(_sq_dist(X, C, x_sq), tau)
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
        starts.append(_lloyd(X, _kmeans_pp(X, 2, rng, x_sq), max_iter=30, x_sq=x_sq)[1])
    best = None
    for start in starts:
        _, C, cost = _lloyd(X, start, tau=tau, max_iter=30, x_sq=x_sq)
        if best is None or cost < best[0]:
            best = (cost, C)
    return best


def _split_merge(X, C, tau, rng, *, x_sq=None, n_moves=8, max_rounds=50):
    """Split one cluster in two and drop another while the clipped objective decreases."""
    labels, C, objective = _lloyd(X, C, tau=tau, x_sq=x_sq)
    k = C.shape[0]
    if k < 2:
        return labels, C, objective
    for _ in range(max_rounds):
        D = np.minimum(_sq_dist(X, C, x_sq), tau)
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
            t_labels, t_C, t_objective = _lloyd(X, trial, tau=tau, x_sq=x_sq)
            if t_objective < objective * (1 - 1e-9):
                labels, C, objective = t_labels, t_C, t_objective
                improved = True
                break
        if not improved:
            break
    return labels, C, objective


# --------------------------------------------------------------------------- clustering


def _factorize(V, n_components, rng, max_iter):
    with warnings.catch_warnings():
        # The codes only seed the clustering; a few more iterations change nothing there.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return factorize(V, n_components, random_state=rng, max_iter=max_iter)


def _member_means(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=k)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]


def cluster(waveforms, n_clusters, *, method="templates", n_components=None, n_init=4,
            max_iter=200, random_state=None) -> SpikeClustering:
    """Cluster spike waveforms into ``n_clusters`` putative neurons with NMF.

    Parameters
    ----------
    waveforms : array-like, shape (n_spikes, n_samples) or (n_spikes, n_channels, n_samples)
        Spike snippets, one per row, aligned on the spike time; channels are concatenated.
        Any real units (µV, ADC counts); no NaN or infinite values.
    n_clusters : int >= 1
        Number of neurons, at most ``n_spikes``.
    method : {"templates", "codes", "argmax"}, default "templates"
        See the module docstring: ``"templates"`` (NMF parts → over-clustered codes →
        template matching in waveform space with split-merge search), ``"codes"`` (k-means
        on the NMF codes only), ``"argmax"`` (the tutorial's recipe).
    n_components : int, optional
        NMF rank.  Default ``2 * n_clusters`` for ``"templates"`` and ``"codes"`` (at most
        ``min(n_features, n_spikes)``); ``"argmax"`` needs ``n_clusters`` (the default).
    n_init : int >= 1, default 4
        k-means++ restarts on the codes; the best by the method's objective is kept.
    max_iter : int >= 1, default 200
        NMF iterations at most (the engine's default tolerance applies).
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Seeds the NMF and k-means++; the same seed gives the same labels (a RandomState
        gives one seed drawn from it).

    Returns
    -------
    SpikeClustering
        ``labels`` (n_spikes,), ``templates`` (n_clusters, *waveform_shape), ``W``
        (n_features, n_components), ``H`` (n_components, n_spikes), ``shift``, ``scores``
        (n_spikes, n_clusters), ``objective``, ``tau``, ``nmf_loss``.

    Raises
    ------
    ValueError
        Wrong ndim, NaN or infinite values, ``n_clusters`` < 1 or > n_spikes, unknown
        ``method``, bad ``n_components``, ``n_init``, ``max_iter`` or ``random_state``.
    TypeError
        ``waveforms`` not a real numeric array.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> t = np.linspace(0, 1, 30)
    >>> shapes = np.stack([-np.exp(-((t - 0.3) / 0.05) ** 2) * 80,
    ...                    -np.exp(-((t - 0.5) / 0.1) ** 2) * 40])
    >>> truth = rng.integers(0, 2, 200)
    >>> X = shapes[truth] + rng.normal(0, 5, (200, 30))
    >>> result = cluster(X, 2, random_state=0)
    >>> result.templates.shape, result.W.shape, result.H.shape
    ((2, 30), (30, 4), (4, 200))
    >>> bool((result.labels == truth).all() or (result.labels == 1 - truth).all())
    True
    """
    array = _check_waveforms(waveforms)
    k = check_int(n_clusters, "n_clusters", 1)
    n_spikes = array.shape[0]
    if k > n_spikes:
        raise ValueError(f"n_clusters={k} exceeds the number of spikes ({n_spikes}); "
                         "give at least as many spikes as clusters")
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method={method!r} is not known; use one of "
                         f"{', '.join(map(repr, METHODS))}")
    n_init = check_int(n_init, "n_init", 1)
    max_iter = check_int(max_iter, "max_iter", 1)
    rng = as_generator(random_state)
    waveform_shape = tuple(array.shape[1:])
    V, shift = to_nonnegative(array)
    n_features = V.shape[0]
    X = array.reshape(n_spikes, -1).astype(np.float64)

    if method == "argmax":
        if n_components is not None and n_components != k:
            raise ValueError(f"n_components={n_components!r} must equal n_clusters={k} for "
                             "method='argmax' (one part per neuron); omit it")
        rank = k
    elif n_components is None:
        rank = max(1, min(2 * k, n_features, n_spikes))
    else:
        rank = check_int(n_components, "n_components", 1)

    fit = _factorize(V, rank, rng, max_iter)
    W, H = fit.W, fit.H
    nmf_loss = float(fit.loss[-1])
    tau = np.inf

    if method == "argmax":
        scores = H.T.astype(np.float64)
        labels = H.argmax(axis=0)
        objective = nmf_loss
    else:
        # Codes scaled by the norms of their parts: distances between columns of H then
        # weigh each part by how much waveform it carries.
        Z = (H.astype(np.float64) * np.linalg.norm(W.astype(np.float64), axis=0)[:, None]).T
        z_sq = np.einsum("ij,ij->i", Z, Z)
        if method == "codes":
            best = None
            for _ in range(n_init):
                labels_z, Cz, cost = _lloyd(Z, _kmeans_pp(Z, k, rng, z_sq), x_sq=z_sq)
                if best is None or cost < best[0]:
                    best = (cost, labels_z, Cz)
            objective, labels, Cz = best
            scores = -_sq_dist(Z, Cz, z_sq)
        else:
            x_sq = np.einsum("ij,ij->i", X, X)
            n_groups = min(OVERCLUSTER * k, n_spikes)
            groups = []
            for _ in range(n_init):
                labels_z, _, _ = _lloyd(Z, _kmeans_pp(Z, n_groups, rng, z_sq), max_iter=20,
                                        x_sq=z_sq)
                # A group left empty by the code-space Lloyd keeps a spike as its mean.
                fallback = X[np.linspace(0, n_spikes - 1, n_groups).round().astype(np.intp)]
                groups.append(_means(X, labels_z, fallback))
            tau = CLIP_FACTOR * float(np.median(
                [np.median(_sq_dist(X, C, x_sq).min(axis=1)) for C in groups]))
            if not tau > 0:  # identical spikes: nothing to clip
                tau = np.inf
            best = None
            for C in groups:
                labels_c, C, cost = _lloyd(X, _eliminate(X, C, k, tau, x_sq), tau=tau,
                                           x_sq=x_sq)
                if best is None or cost < best[0]:
                    best = (cost, labels_c, C)
            labels, C, objective = _split_merge(X, best[2], tau, rng, x_sq=x_sq)
            scores = -_sq_dist(X, C, x_sq)
            labels = scores.argmax(axis=1)

    labels = np.asarray(labels, dtype=np.int64)
    templates = _member_means(X, labels, k).astype(array.dtype if array.dtype.kind == "f"
                                                   else np.float64, copy=False)
    return SpikeClustering(
        labels=labels,
        templates=templates.reshape((k, *waveform_shape)),
        W=W, H=H, shift=shift, scores=scores, method=method, n_clusters=k,
        waveform_shape=waveform_shape, objective=float(objective), tau=float(tau),
        nmf_loss=nmf_loss,
    )


# --------------------------------------------------------------------------- readers


_INDEX_NAMES = {"", "index", "idx", "id", "spike", "spike_id", "spike_index", "#"}
_LABEL_NAMES = {"label", "labels", "unit", "unit_id", "cluster", "neuron", "class", "y"}


def _is_index_column(column: np.ndarray) -> bool:
    """An integer column equal to 0..n−1 or 1..n."""
    if not np.all(column == np.round(column)):
        return False
    n = column.size
    return bool(np.array_equal(column, np.arange(n)) or np.array_equal(column, np.arange(1, n + 1)))


def _looks_like_labels(column: np.ndarray, rest: np.ndarray) -> bool:
    """Non-negative integers with few distinct values, next to non-integer samples."""
    if not np.all(column == np.round(column)) or column.min() < 0:
        return False
    n_distinct = np.unique(column).size
    if n_distinct > min(256, max(1, column.size // 2)):
        return False
    # Integer ADC counts are indistinguishable from labels: then only say so explicitly.
    return not np.all(rest == np.round(rest))


def _flag(value, name: str):
    if value == "auto" or isinstance(value, (bool, np.bool_)):
        return value if value == "auto" else bool(value)
    raise ValueError(f"{name}={value!r} must be True, False or 'auto'")


def _read_csv(path: Path, index_column, label_column):
    with open(path, newline="") as handle:
        sample = handle.read(65536)
        handle.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t ")
        except csv.Error:
            dialect = csv.excel
        rows = [row for row in csv.reader(handle, dialect) if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"{str(path)!r} is empty; expected one waveform per row")
    header = None
    try:
        [float(cell) for cell in rows[0] if cell.strip()]
    except ValueError:
        header, rows = [cell.strip().lower() for cell in rows[0]], rows[1:]
    if not rows:
        raise ValueError(f"{str(path)!r} has a header but no data rows")
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise ValueError(f"{str(path)!r} has rows of different lengths {sorted(widths)}; "
                         "expected one waveform per row, all of the same length")
    try:
        table = np.array([[float(cell) for cell in row] for row in rows])
    except ValueError as exc:
        raise ValueError(f"{str(path)!r} holds a value that is not a number ({exc}); "
                         "expected numbers only (plus an optional header row)") from None

    if header is not None and len(header) == table.shape[1]:
        if index_column == "auto":
            index_column = header[0] in _INDEX_NAMES
        if label_column == "auto":
            label_column = header[-1] in _LABEL_NAMES
    if index_column == "auto":
        index_column = table.shape[1] > 1 and _is_index_column(table[:, 0])
    start = 1 if index_column else 0
    if label_column == "auto":
        body = table[:, start:-1]
        label_column = body.shape[1] >= 1 and _looks_like_labels(table[:, -1], body)
    stop = table.shape[1] - 1 if label_column else table.shape[1]
    if stop - start < 1:
        raise ValueError(f"{str(path)!r} has {table.shape[1]} columns; after the index and "
                         "label columns no samples are left")
    labels = None
    if label_column:
        column = table[:, -1]
        if not np.all(column == np.round(column)):
            raise ValueError(f"the last column of {str(path)!r} is not integer; it cannot be "
                             "labels (pass label_column=False)")
        labels = column.astype(np.int64)
    return table[:, start:stop], labels


def load_waveforms(path, *, key=None, index_column="auto", label_column="auto"):
    """Read spike waveforms (and labels when the file has them).

    Parameters
    ----------
    path : str or Path
        ``.npy`` (the waveform array), ``.npz`` (array ``key``, default ``"waveforms"`` or
        the only array; labels from a ``"labels"`` array when present) or ``.csv`` / ``.txt``
        (one waveform per row, comma, semicolon, tab or space separated, optional header
        row, optional index column first, optional label column last).
    key : str, optional
        The ``.npz`` array holding the waveforms.
    index_column, label_column : bool or "auto", default "auto"
        CSV only: whether the first column is a spike index and the last a label.
        ``"auto"``: a header names them (``index``/``id``/empty first, ``label``/``unit``/
        ``cluster`` last), otherwise the first column is an index when it is exactly
        0..n−1 (or 1..n), and the last column holds labels when it is non-negative
        integers with few distinct values while the samples are not all integers.  With
        integer samples (ADC counts) say ``label_column=True`` explicitly.

    Returns
    -------
    waveforms : ndarray, shape (n_spikes, n_samples) or (n_spikes, n_channels, n_samples)
    labels : ndarray of int64, shape (n_spikes,), or None

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Unknown suffix, missing or ambiguous ``key``, ragged or non-numeric CSV rows.
    """
    path = Path(path)
    index_column = _flag(index_column, "index_column")
    label_column = _flag(label_column, "label_column")
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist or is not a file; check the path")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, allow_pickle=False), None
    if suffix == ".npz":
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{str(path)!r} is not a valid .npz archive")
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if key is None:
                if "waveforms" in names:
                    key = "waveforms"
                elif len(names) == 1:
                    key = names[0]
                else:
                    raise ValueError(f"{str(path)!r} holds arrays {names}; say which one holds "
                                     "the waveforms (key=... or --key)")
            if key not in names:
                raise ValueError(f"key={key!r} is not in {str(path)!r}; it holds {names}")
            waveforms = archive[key]
            labels = archive["labels"] if "labels" in names and key != "labels" else None
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (waveforms.shape[0],) or labels.dtype.kind not in "iu":
                labels = None  # not per-spike integer labels: ignore them
            else:
                labels = labels.astype(np.int64)
        return waveforms, labels
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path, index_column, label_column)
    raise ValueError(f"{str(path)!r} has suffix {suffix!r}; give a .npy, .npz or .csv file")
