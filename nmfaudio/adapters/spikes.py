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

Arrays only: reading files is :func:`nmfaudio.adapters.files.load_waveforms`, plotting is
:mod:`nmfaudio.plot.spikes`, printing is the command line's job.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from nmfaudio._validation import as_array, as_generator, check_finite, check_int, check_number, summary_repr
from nmfaudio.adapters.clustering import (
    eliminate,
    kmeans_plusplus,
    lloyd,
    member_means,
    split_merge,
    squared_distances,
    weighted_means,
)

__all__ = [
    "METHODS",
    "SpikeClustering",
    "cluster",
    "from_nonnegative",
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
    if isinstance(waveforms, tuple) and len(waveforms) in (2, 3) and isinstance(waveforms[0], np.ndarray) and (
            waveforms[0].ndim in (2, 3)) and (waveforms[1] is None or (
            np.ndim(waveforms[1]) == 1 and len(waveforms[1]) == len(waveforms[0]))):
        # load_waveforms' (waveforms, labels[, index]) passed whole; two spikes of (n_channels,
        # n_samples) are no such pair (their second is 2-D)
        raise TypeError(f"{name} is a tuple (waveforms, labels, ...), as load_waveforms returns; unpack it first: "
                        f"{name}, labels = nmfaudio.adapters.files.load_waveforms(path)")
    array = as_array(waveforms, name, content="a numeric array",
                     expected="an array (n_spikes, n_samples) or (n_spikes, n_channels, n_samples)",
                     read_with=f"{name}, labels = nmfaudio.adapters.files.load_waveforms({{path}})")
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
        check_finite(array, name, fix="drop those spikes or replace the values before clustering")
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

    def __repr__(self) -> str:
        """One line, arrays by shape and dtype (:func:`nmfaudio._validation.summary_repr`)."""
        return summary_repr(self)

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


# --------------------------------------------------------------------------- clustering


def _factorize(V, n_components, rng, max_iter):
    from nmfaudio.nmf import ConvergenceWarning, factorize  # here: the CLI's parser imports this module

    with warnings.catch_warnings():
        # The codes only seed the clustering; a few more iterations change nothing there.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return factorize(V, n_components, random_state=rng, max_iter=max_iter)


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
                labels_z, Cz, cost = lloyd(Z, kmeans_plusplus(Z, k, rng, z_sq), x_sq=z_sq)
                if best is None or cost < best[0]:
                    best = (cost, labels_z, Cz)
            objective, labels, Cz = best
            scores = -squared_distances(Z, Cz, z_sq)
        else:
            x_sq = np.einsum("ij,ij->i", X, X)
            n_groups = min(OVERCLUSTER * k, n_spikes)
            groups = []
            for _ in range(n_init):
                labels_z, _, _ = lloyd(Z, kmeans_plusplus(Z, n_groups, rng, z_sq), max_iter=20,
                                        x_sq=z_sq)
                # A group left empty by the code-space Lloyd keeps a spike as its mean.
                fallback = X[np.linspace(0, n_spikes - 1, n_groups).round().astype(np.intp)]
                groups.append(weighted_means(X, labels_z, fallback))
            tau = CLIP_FACTOR * float(np.median(
                [np.median(squared_distances(X, C, x_sq).min(axis=1)) for C in groups]))
            if not tau > 0:  # identical spikes: nothing to clip
                tau = np.inf
            best = None
            for C in groups:
                labels_c, C, cost = lloyd(X, eliminate(X, C, k, tau, x_sq), tau=tau,
                                           x_sq=x_sq)
                if best is None or cost < best[0]:
                    best = (cost, labels_c, C)
            labels, C, objective = split_merge(X, best[2], tau, rng, x_sq=x_sq)
            scores = -squared_distances(X, C, x_sq)
            labels = scores.argmax(axis=1)

    labels = np.asarray(labels, dtype=np.int64)
    templates = member_means(X, labels, k).astype(array.dtype if array.dtype.kind == "f"
                                                   else np.float64, copy=False)
    return SpikeClustering(
        labels=labels,
        templates=templates.reshape((k, *waveform_shape)),
        W=W, H=H, shift=shift, scores=scores, method=method, n_clusters=k,
        waveform_shape=waveform_shape, objective=float(objective), tau=float(tau),
        nmf_loss=nmf_loss,
    )


def __getattr__(name):
    # load_waveforms moved to nmfaudio.adapters.files (this module holds arrays only);
    # ``from nmfaudio.adapters.spikes import load_waveforms`` keeps working.
    if name == "load_waveforms":
        from nmfaudio.adapters.files import load_waveforms

        return load_waveforms
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
