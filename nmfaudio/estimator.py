"""``NMF``: a scikit-learn-compatible estimator over :func:`nmfaudio.factorize`.

It keeps scikit-learn's orientation, so code written for
``sklearn.decomposition.NMF`` runs unchanged::

    X (n_samples, n_features) ≈ W (n_samples, k) @ H (k, n_features)
    W = model.fit_transform(X)  # or model.fit(X); W = model.transform(X)
    H = model.components_

The engine works in the literature's orientation, V (n_features, n_samples) ≈
W_e (n_features, k) @ H_e (k, n_samples), so the estimator calls it with ``V = X.T``:
``components_ = W_e.T`` and ``transform(X) = H_e.T``.  ``transform`` on new data keeps the
templates fixed (``fix_W=True``) and solves only for the activations.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_non_negative

from nmfaudio.nmf import CHECK_EVERY, SOLVERS, beta_divergence, factorize
from nmfaudio.nmf import ConvergenceWarning as _EngineConvergenceWarning
from nmfaudio.nmf.divergence import beta_from_name

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _validate_data(estimator, X, **kwargs):
        return estimator._validate_data(X, **kwargs)

__all__ = ["NMF", "NMFConvergenceWarning"]

logger = logging.getLogger(__name__)

#: ``solver`` names scikit-learn uses that mean one of the engine's solvers.
SOLVER_ALIASES = {"cd": "hals"}


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first caller outside
    nmfaudio and scikit-learn (to be called directly by the function that warns)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] in ("nmfaudio", "sklearn"):
        frame, level = frame.f_back, level + 1
    return level


class NMFConvergenceWarning(_EngineConvergenceWarning, _SklearnConvergenceWarning):
    """``max_iter`` was reached before ``tol``: both :class:`nmfaudio.ConvergenceWarning`
    and :class:`sklearn.exceptions.ConvergenceWarning`, so a filter on either applies."""


class NMF(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Non-negative matrix factorization X ≈ W H, as a scikit-learn transformer.

    A drop-in for :class:`sklearn.decomposition.NMF` (same parameters, attributes and
    orientation) that runs on :func:`nmfaudio.factorize`: any β-divergence with
    multiplicative updates, accelerated HALS for the Frobenius loss, and zeros in X
    accepted for every β (floored, see :func:`nmfaudio.factorize`).

    Minimizes, over W, H ≥ 0::

        D_β(X | WH)
        + alpha_W * l1_ratio * n_features * ||W||_1
        + alpha_H * l1_ratio * n_samples * ||H||_1
        + 0.5 * alpha_W * (1 - l1_ratio) * n_features * ||W||_F^2
        + 0.5 * alpha_H * (1 - l1_ratio) * n_samples * ||H||_F^2

    with D_β scikit-learn's β-divergence (Frobenius: ½‖X − WH‖²_F), exactly as
    scikit-learn ≥ 1.2 scales the penalties.

    Parameters
    ----------
    n_components : int, None or "auto", default "auto"
        Number of components k.  None or ``"auto"``: n_features (with ``init="custom"``,
        ``"auto"`` takes k from the given H).
    init : {"random", "nndsvd", "nndsvda", "nndsvdar", "custom"} or None, default None
        Starting point.  None: ``"nndsvda"`` if k <= min(n_samples, n_features), else
        ``"random"`` (scikit-learn's rule).  ``"random"`` draws uniform [0, 1) entries
        scaled by sqrt(mean(X) / k) (scikit-learn draws |normal| ones, so random starts
        differ from scikit-learn's).  ``"custom"``: ``W`` and ``H`` passed to ``fit`` or
        ``fit_transform``.
    solver : {"auto", "mu", "hals", "cd"}, default "auto"
        ``"mu"``: multiplicative updates (any β).  ``"hals"`` (alias ``"cd"``, the name
        scikit-learn gives its coordinate-descent solver): accelerated HALS, Frobenius
        only.  ``"auto"``: HALS for Frobenius, MU otherwise.
    beta_loss : {"frobenius", "kullback-leibler", "itakura-saito"} or float, default "frobenius"
        The β of the divergence (2, 1, 0 or any real number).
    tol : float >= 0, default 1e-4
        Stop when the relative loss decrease over 10 iterations falls below ``tol``
        (``tol=0`` runs exactly ``max_iter`` iterations).
    max_iter : int >= 1, default 200
        Maximal number of iterations (in ``fit`` and in ``transform``).
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Seeds the ``"random"`` and ``"nndsvdar"`` initializations (and the SVD's start
        vector on large inputs).  The same seed gives the same result.
    alpha_W : float >= 0, default 0.0
        Regularization of W (the transformed data), scaled by n_features.
    alpha_H : float >= 0 or "same", default "same"
        Regularization of H (``components_``), scaled by n_samples; ``"same"`` uses
        ``alpha_W``.
    l1_ratio : float in [0, 1], default 0.0
        Share of the L1 (sparsity) penalty; the rest is an L2 penalty.
    verbose : int or bool, default 0
        When true, progress (every 10 iterations) goes to the ``logging`` logger
        ``"nmfaudio.estimator"`` at level INFO; the library never prints.  See it with
        ``logging.basicConfig(level=logging.INFO)``.

    Attributes
    ----------
    components_ : ndarray, shape (n_components, n_features)
        H, the dictionary (spectral templates for audio, one per row).
    n_components_ : int
        Number of components k.
    reconstruction_err_ : float
        sqrt(2 D_β(X | WH)) at the end of the joint fit (the Frobenius norm ‖X − WH‖_F
        for β = 2), as scikit-learn reports it; penalties excluded.
    n_iter_ : int
        Iterations run by ``fit``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Column names seen in ``fit``, when X was a DataFrame with string column names.

    Notes
    -----
    * Sparse input is refused (``TypeError``; pass ``X.toarray()``): the engine is dense.
    * Reaching ``max_iter`` before ``tol`` emits :class:`NMFConvergenceWarning`, which
      is both :class:`nmfaudio.ConvergenceWarning` and
      :class:`sklearn.exceptions.ConvergenceWarning`.
    * float32 input stays float32 (the fast path); other input becomes float64.
    * ``transform`` keeps ``components_`` fixed (``factorize(..., fix_W=True)``) and
      starts every sample from a constant scaled to that sample's sum, so it does not
      depend on ``random_state``; the stopping rule is shared by the batch, so a sample's
      activations may differ slightly (to within ``tol``) between batches.
    * ``fit_transform(X)`` equals ``fit(X).transform(X)`` exactly: after the joint fit
      the activations are re-solved with the components fixed.  This costs one more
      fixed-components solve (in our measurements 2–40 % of the fit's time) and its
      result fits X at least as well as the joint fit's last activations did in every
      case we measured.  Unlike scikit-learn, ``fit`` alone skips that solve.
    * Differences from scikit-learn: ``init="random"`` draws differently; zeros are
      accepted for every ``beta_loss``; the ``shuffle`` parameter of the ``"cd"`` solver
      does not exist.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfaudio import NMF
    >>> X = np.array([[1, 1], [2, 1], [3, 1.2], [4, 1], [5, 0.8], [6, 1]])
    >>> model = NMF(n_components=2, init="random", random_state=0)
    >>> W = model.fit_transform(X)        # (6, 2)
    >>> H = model.components_             # (2, 2)
    >>> bool(np.allclose(W @ H, X, atol=0.05))
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None, StrOptions({"auto"})],
        "init": [StrOptions({"random", "nndsvd", "nndsvda", "nndsvdar", "custom"}), None],
        "solver": [StrOptions({"auto", *SOLVERS, *SOLVER_ALIASES})],
        "beta_loss": [StrOptions({"frobenius", "kullback-leibler", "itakura-saito"}), Real],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state", np.random.Generator],
        "alpha_W": [Interval(Real, 0, None, closed="left")],
        "alpha_H": [Interval(Real, 0, None, closed="left"), StrOptions({"same"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components="auto",
        *,
        init=None,
        solver="auto",
        beta_loss="frobenius",
        tol=1e-4,
        max_iter=200,
        random_state=None,
        alpha_W=0.0,
        alpha_H="same",
        l1_ratio=0.0,
        verbose=0,
    ):
        self.n_components = n_components
        self.init = init
        self.solver = solver
        self.beta_loss = beta_loss
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.verbose = verbose

    # ------------------------------------------------------------------ helpers

    def _beta(self) -> float:
        return beta_from_name(self.beta_loss)

    def _engine_solver(self, beta: float) -> str:
        solver = SOLVER_ALIASES.get(self.solver, self.solver)
        if solver == "hals" and beta != 2:
            raise ValueError(
                f"solver={self.solver!r} handles beta_loss='frobenius' only, got "
                f"beta_loss={self.beta_loss!r}; use solver='mu' (or 'auto')"
            )
        return solver

    def _penalties(self, n_samples: int, n_features: int) -> dict:
        """scikit-learn's scaled penalties, in the engine's orientation: the engine's H
        is scikit-learn's W (scaled by n_features), the engine's W is ``components_.T``
        (scaled by n_samples)."""
        alpha_W = float(self.alpha_W)
        alpha_H = alpha_W if isinstance(self.alpha_H, str) else float(self.alpha_H)
        l1_ratio = float(self.l1_ratio)
        return {
            "l1_H": n_features * alpha_W * l1_ratio,
            "l2_H": n_features * alpha_W * (1.0 - l1_ratio),
            "l1_W": n_samples * alpha_H * l1_ratio,
            "l2_W": n_samples * alpha_H * (1.0 - l1_ratio),
        }

    def _progress(self, stage: str):
        """A factorize callback that logs every CHECK_EVERY iterations (verbose only)."""
        if not self.verbose:
            return None
        start = time.perf_counter()

        def callback(iteration, loss):
            if iteration % CHECK_EVERY == 0:
                logger.info("NMF %s: iteration %d, loss %.6g, %.3f s", stage, iteration, loss,
                            time.perf_counter() - start)

        return callback

    def _factorize(self, V, k, *, stage, **kwargs):
        """Run the engine; re-issue its convergence warning as NMFConvergenceWarning."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", _EngineConvergenceWarning)
            result = factorize(V, k, tol=self.tol, max_iter=self.max_iter,
                               callback=self._progress(stage), **kwargs)
        if self.verbose:
            logger.info("NMF %s: %d iterations, stopped by %s, final loss %.6g", stage,
                        result.n_iter, result.stop_reason, result.loss[-1])
        if result.stop_reason == "max_iter" and self.tol > 0:
            warnings.warn(
                f"NMF {stage} reached max_iter={self.max_iter} before the relative loss "
                f"decrease fell below tol={self.tol:g}; raise max_iter or tol",
                NMFConvergenceWarning,
                stacklevel=_caller_stacklevel(),
            )
        return result

    def _check_custom(self, array, name, shape, dtype):
        if array is None:
            raise ValueError(f"init='custom' needs {name} of shape {shape}: pass "
                             f"fit_transform(X, W=..., H=...)")
        array = check_array(array, dtype=dtype, input_name=name)
        if array.shape != shape:
            raise ValueError(f"{name} has shape {array.shape}; init='custom' needs shape {shape} "
                             "(W: (n_samples, n_components), H: (n_components, n_features))")
        check_non_negative(array, f"NMF (input {name})")
        return array

    def _fit(self, X, W, H):
        """Joint fit on validated X; sets the fitted attributes."""
        n_samples, n_features = X.shape
        beta = self._beta()
        solver = self._engine_solver(beta)

        custom = self.init == "custom"
        if not custom and (W is not None or H is not None):
            warnings.warn("W and H are used only with init='custom'; they are ignored",
                          RuntimeWarning, stacklevel=_caller_stacklevel())
        if self.n_components is None or self.n_components == "auto":
            k = H.shape[0] if custom and self.n_components == "auto" and H is not None else n_features
        else:
            k = int(self.n_components)

        if custom:
            H = self._check_custom(H, "H", (k, n_features), X.dtype)
            W = self._check_custom(W, "W", (n_samples, k), X.dtype)
            start = {"init": "custom", "W": H.T, "H": W.T}
        else:
            init = self.init
            if init is None:
                init = "nndsvda" if k <= min(n_samples, n_features) else "random"
            start = {"init": init}

        result = self._factorize(
            X.T, k, stage="fit", beta=beta, solver=solver, random_state=self.random_state,
            **start, **self._penalties(n_samples, n_features),
        )
        divergence = beta_divergence(X.T, result.W, result.H, beta)
        self.reconstruction_err_ = float(np.sqrt(2.0 * max(divergence, 0.0)))
        self.components_ = np.ascontiguousarray(result.W.T)
        self.n_components_ = k
        self.n_iter_ = int(result.n_iter)
        self._eps = float(result.eps)

    def _transform(self, X):
        """Activations for validated X with the components fixed."""
        n_samples, n_features = X.shape
        beta = self._beta()
        templates = self.components_.T.astype(X.dtype, copy=False)  # engine W (n_features, k)
        k = templates.shape[1]
        # Start each sample from a constant whose model has the sample's sum: the start
        # depends on that sample alone (no randomness, no dependence on the batch).
        total = float(templates.sum(dtype=np.float64))
        scale = X.sum(axis=1, dtype=np.float64) / total if total > 0 else np.zeros(n_samples)
        start_H = np.repeat(scale[None, :], k, axis=0).astype(X.dtype)
        penalties = self._penalties(n_samples, n_features)
        result = self._factorize(
            X.T, k, stage="transform", beta=beta, solver=self._engine_solver(beta),
            init="custom", W=templates, H=start_H, fix_W=True, eps=self._eps,
            l1_H=penalties["l1_H"], l2_H=penalties["l2_H"],
        )
        return np.ascontiguousarray(result.H.T)

    # ------------------------------------------------------------------ API

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, W=None, H=None):
        """Learn the components of X.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Non-negative training data.
        y : ignored
        W : array-like, shape (n_samples, n_components), optional
            Starting W, used with ``init="custom"`` only.
        H : array-like, shape (n_components, n_features), optional
            Starting H, used with ``init="custom"`` only.

        Returns
        -------
        self : NMF
        """
        X = _validate_data(self, X, dtype=[np.float64, np.float32], ensure_non_negative=True)
        self._fit(X, W, H)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, W=None, H=None):
        """Learn the components of X and return the activations, ``fit(X).transform(X)``.

        After the joint fit, the activations are solved again with the learned
        components fixed, exactly as :meth:`transform` does, so
        ``fit_transform(X)`` equals ``fit(X).transform(X)``.  (The joint fit's last
        activations lag one half-step behind the components; the re-solved ones fit X
        at least as well in every case we measured.)

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Non-negative training data.
        y : ignored
        W : array-like, shape (n_samples, n_components), optional
            Starting W, used with ``init="custom"`` only.
        H : array-like, shape (n_components, n_features), optional
            Starting H, used with ``init="custom"`` only.

        Returns
        -------
        W : ndarray, shape (n_samples, n_components)
            Activations of the components in each sample, X ≈ W @ components_.
        """
        X = _validate_data(self, X, dtype=[np.float64, np.float32], ensure_non_negative=True)
        self._fit(X, W, H)
        return self._transform(X)

    def transform(self, X):
        """Activations of the learned components in X (components stay fixed).

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Non-negative data with the features seen in ``fit``.

        Returns
        -------
        W : ndarray, shape (n_samples, n_components)
            X ≈ W @ components_.  float32 for float32 X.
        """
        check_is_fitted(self)
        X = _validate_data(self, X, dtype=[np.float64, np.float32], ensure_non_negative=True, reset=False)
        return self._transform(X)

    def inverse_transform(self, X):
        """Map transformed data back to the data space: ``X @ components_``.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_components)
            Transformed data (W).

        Returns
        -------
        X_original : ndarray, shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = check_array(X, dtype=[np.float64, np.float32])
        if X.shape[1] != self.components_.shape[0]:
            raise ValueError(
                f"X has {X.shape[1]} columns; inverse_transform needs n_components="
                f"{self.components_.shape[0]} columns (the output of transform)"
            )
        return X @ self.components_.astype(X.dtype, copy=False)

    @property
    def _n_features_out(self):
        """Number of transformed output features (for get_feature_names_out)."""
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"requires_positive_X": True, "preserves_dtype": [np.float64, np.float32]}
