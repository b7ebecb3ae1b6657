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
import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning
from scipy.sparse import csr_array, issparse
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_non_negative

from nmfaudio._validation import caller_stacklevel as _caller_stacklevel
from nmfaudio.nmf import CHECK_EVERY, SOLVERS, factorize
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


class NMFConvergenceWarning(_EngineConvergenceWarning, _SklearnConvergenceWarning):
    """``max_iter`` was reached before ``tol``: both :class:`nmfaudio.ConvergenceWarning`
    and :class:`sklearn.exceptions.ConvergenceWarning`, so a filter on either applies."""


class NMF(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Non-negative matrix factorization X ≈ W H, as a scikit-learn transformer.

    A drop-in for :class:`sklearn.decomposition.NMF` (same parameters, attributes and
    orientation) that runs on :func:`nmfaudio.factorize`: any β-divergence with
    multiplicative updates, accelerated HALS for the Frobenius loss, sparse X (CSR/CSC,
    fitted on its stored entries), and zeros in dense X accepted for every β.  It passes
    scikit-learn's own ``test_nmf.py`` (see docs/sklearn.md).

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
    solver : {"auto", "mu", "amu", "ccd", "hals", "cd"}, default "auto"
        ``"mu"``: multiplicative updates (any β).  ``"hals"`` (alias ``"cd"``, the name
        scikit-learn gives its coordinate-descent solver): accelerated HALS, Frobenius
        only.  ``"auto"``: HALS for Frobenius, otherwise extrapolated MU (``"amu"``,
        see :func:`nmfaudio.factorize`).
    beta_loss : {"frobenius", "kullback-leibler", "itakura-saito"} or float, default "frobenius"
        The β of the divergence (2, 1, 0 or any real number).
    tol : float >= 0, default 1e-4
        scikit-learn's stopping rule (``factorize(..., tol_rule="sklearn")``): with
        ``"mu"``, every 10 iterations, stop when sqrt(D_β) fell by less than ``tol`` times
        its starting value since the previous check; with ``"cd"``/``"hals"``, stop when
        the L1 norm of the projected gradient falls to ``tol`` times its value after the
        first iteration.  ``tol=0`` runs exactly ``max_iter`` iterations.
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
    * Sparse X (CSR, CSC) is fitted on its stored entries and never densified; implicit
      zeros are exact zeros.  So are the zeros of a dense X for 0 < β <= 1 (it goes to
      the engine as CSR), as scikit-learn treats them.  For β <= 0, zeros of a dense X
      are floored at eps; sparse X with implicit zeros is refused, as scikit-learn does.
    * Reaching ``max_iter`` emits :class:`NMFConvergenceWarning` (both
      :class:`nmfaudio.ConvergenceWarning` and
      :class:`sklearn.exceptions.ConvergenceWarning`) with scikit-learn's text,
      "Maximum number of iterations N reached. Increase it to improve convergence."
    * float32 input stays float32 (the fast path); other input becomes float64.
    * ``transform`` keeps ``components_`` fixed (``factorize(..., fix_W=True)``) and
      starts every sample from a constant scaled to that sample's sum, so it does not
      depend on ``random_state``; the stopping rule is shared by the batch, so a sample's
      activations may differ slightly (to within ``tol``) between batches.
    * ``fit_transform(X)`` returns ``transform(X)``'s activations (re-solved with the
      components fixed) unless they fit X worse than the joint fit's last ones, which it
      then returns: never a worse fit than the one found, and equal to
      ``fit(X).transform(X)`` whenever the re-solve is at least as good.  This costs one
      fixed-components solve more than scikit-learn, whose ``fit_transform`` returns the
      joint fit's activations.
    * Components that die (‖W_j‖·‖H_j‖ below float32 resolution) are set to zero, and
      a component whose factors' scales drifted more than 1e4 apart is rescaled (WH
      unchanged), so both factors stay O(1) when k exceeds the rank of X.
    * Differences from scikit-learn: ``init="random"`` draws differently; zeros of a
      dense X are accepted for every ``beta_loss``; the ``shuffle`` parameter of the
      ``"cd"`` solver does not exist; HALS runs several inner sweeps per iteration.

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
            # scikit-learn's wording (code written for it matches on it), then the fix
            raise ValueError(
                f"Invalid beta_loss parameter: solver {self.solver!r} does not handle "
                f"beta_loss = {self.beta_loss!r}; use solver='mu' (or 'auto')"
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
        """Run the engine with scikit-learn's meaning of ``tol``; warn as scikit-learn
        does when ``max_iter`` is reached (its wording, as NMFConvergenceWarning).

        The estimator reads the loss only where scikit-learn's MU does — the stopping
        checks every CHECK_EVERY iterations and the last one (``reconstruction_err_``) —
        and keeps no loss history, so it asks the engine for no other (``loss_every``):
        β-MU then skips the loss's terms on the other passes, with the same factors,
        ``n_iter_`` and stopping.  The verbose log's callback still gets every loss."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", _EngineConvergenceWarning)
            result = factorize(V, k, tol=self.tol, max_iter=self.max_iter, tol_rule="sklearn",
                               callback=self._progress(stage), loss_every=CHECK_EVERY, **kwargs)
        if self.verbose:
            logger.info("NMF %s: %d iterations, stopped by %s, final loss %.6g", stage,
                        result.n_iter, result.stop_reason, result.loss[-1])
        if result.n_iter == self.max_iter and self.tol > 0:
            warnings.warn(
                f"Maximum number of iterations {self.max_iter} reached. Increase it to "
                f"improve convergence (NMF {stage}: tol={self.tol:g} not met).",
                NMFConvergenceWarning,
                stacklevel=_caller_stacklevel(),
            )
        return result

    def _resolve_n_components(self, n_features, W, H):
        """scikit-learn's ``_n_components``: None → n_features; "auto" → H's rows with
        ``init="custom"`` (when H is given; W's columns when only W is, so the message
        asking for H names the shape that goes with W), else n_features."""
        if self.n_components is None:
            return n_features
        if self.n_components == "auto":
            if self.init == "custom" and H is not None:
                return np.shape(H)[0]
            if self.init == "custom" and W is not None and np.ndim(W) == 2:
                return np.shape(W)[1]
            return n_features
        return int(self.n_components)

    @staticmethod
    def _check_custom(array, name, shape, whom):
        """scikit-learn's ``_check_init``: its messages, word for word."""
        if array is None:
            raise ValueError(f"init='custom' needs {name} of shape {shape}: pass "
                             f"fit_transform(X, W=..., H=...)")
        array = check_array(array)
        if array.shape[0] != shape[0]:
            raise ValueError(f"Array with wrong first dimension passed to {whom}. Expected "
                             f"{shape[0]}, but got {array.shape[0]}.")
        if array.shape[1] != shape[1]:
            raise ValueError(f"Array with wrong second dimension passed to {whom}. Expected "
                             f"{shape[1]}, but got {array.shape[1]}.")
        check_non_negative(array, whom)
        if np.max(array) == 0:
            raise ValueError(f"Array passed to {whom} is full of zeros.")
        return array

    def _start(self, X, W, H, k):
        """The engine's ``init``/``W``/``H`` arguments (engine orientation)."""
        n_samples, n_features = X.shape
        if self.init == "custom":
            H = self._check_custom(H, "H", (k, n_features), "NMF (input H)")
            W = self._check_custom(W, "W", (n_samples, k), "NMF (input W)")
            if H.dtype != X.dtype or W.dtype != X.dtype:
                raise TypeError(
                    f"H and W should have the same dtype as X. Got H.dtype = {H.dtype} and "
                    f"W.dtype = {W.dtype}; convert them with .astype(X.dtype)"
                )
            return {"init": "custom", "W": H.T, "H": W.T}
        if W is not None or H is not None:
            warnings.warn("When init!='custom', provided W or H are ignored. Set "
                          " init='custom' to use them as initialization.",
                          RuntimeWarning, stacklevel=_caller_stacklevel())
        init = self.init
        if init is not None and init != "random" and k > min(n_samples, n_features):
            raise ValueError(f"init = '{init}' can only be used when n_components <= "
                             f"min(n_samples, n_features); use init='random' for "
                             f"n_components={k}")
        if init is None:
            init = "nndsvda" if k <= min(n_samples, n_features) else "random"
        if init == "nndsvd" and SOLVER_ALIASES.get(self.solver, self.solver) == "mu":
            warnings.warn(
                "The multiplicative update ('mu') solver cannot update zeros present in the "
                "initialization, and so leads to poorer results when used jointly with "
                "init='nndsvd'. You may try init='nndsvda' or init='nndsvdar' instead.",
                UserWarning, stacklevel=_caller_stacklevel())
        return {"init": init}

    @staticmethod
    def _engine_data(X, beta):
        """V = Xᵀ for the engine.  For 0 < β <= 1 a dense X with zeros goes in as sparse
        so its zeros stay exact zeros, as scikit-learn treats them (the dense engine
        floors them at eps, which would show in X ≈ WH)."""
        if 0 < beta <= 1 and not issparse(X) and X.size and not X.all():
            return csr_array(X.T)
        if issparse(X) and beta <= 0 and X.nnz < X.shape[0] * X.shape[1]:
            raise ValueError(
                "When beta_loss <= 0 and X contains zeros, the solver may diverge. Please "
                "add small values to X, or use a positive beta_loss (the implicit zeros of a "
                "sparse X cannot be floored: pass X.toarray(), whose zeros are floored at eps)."
            )
        return X.T

    def _fit(self, X, W, H):
        """Joint fit on validated X; sets the fitted attributes; returns the activations
        (n_samples, k) the fit ended with."""
        n_samples, n_features = X.shape
        beta = self._beta()
        solver = self._engine_solver(beta)
        k = self._resolve_n_components(n_features, W, H)
        self._n_components = k
        start = self._start(X, W, H, k)
        result = self._factorize(
            self._engine_data(X, beta), k, stage="fit", beta=beta, solver=solver,
            random_state=self.random_state, **start, **self._penalties(n_samples, n_features),
        )
        self.reconstruction_err_ = float(np.sqrt(2.0 * max(float(result.loss[-1]), 0.0)))
        self.components_ = np.ascontiguousarray(result.W.T)
        self.n_components_ = k
        self.n_iter_ = int(result.n_iter)
        self._eps = float(result.eps)
        activations = np.ascontiguousarray(result.H.T)
        return activations, self._activation_objective(float(result.loss[-1]), activations, X.shape)

    def _activation_objective(self, divergence, activations, shape) -> float:
        """What ``transform`` minimizes: D_β(X | W components_) plus W's penalties."""
        penalties = self._penalties(*shape)
        total = divergence
        if penalties["l1_H"]:
            total += penalties["l1_H"] * float(activations.sum(dtype=np.float64))
        if penalties["l2_H"]:
            total += 0.5 * penalties["l2_H"] * float(np.vdot(activations, activations))
        return total

    def _transform(self, X, *, with_objective=False):
        """Activations for validated X with the components fixed."""
        n_samples, n_features = X.shape
        beta = self._beta()
        templates = self.components_.T.astype(X.dtype, copy=False)  # engine W (n_features, k)
        k = templates.shape[1]
        # Start each sample from a constant whose model has the sample's sum: the start
        # depends on that sample alone (no randomness, no dependence on the batch).
        # Components that died in the fit (all-zero rows of components_) start, and so
        # stay, at zero: no solver can give them a meaningful activation.
        total = float(templates.sum(dtype=np.float64))
        sums = np.asarray(X.sum(axis=1, dtype=np.float64)).ravel()
        scale = sums / total if total > 0 else np.zeros(n_samples)
        start_H = np.repeat(scale[None, :], k, axis=0).astype(X.dtype)
        start_H[~templates.any(axis=0)] = 0
        penalties = self._penalties(n_samples, n_features)
        result = self._factorize(
            self._engine_data(X, beta), k, stage="transform", beta=beta,
            solver=self._engine_solver(beta), init="custom", W=templates, H=start_H,
            fix_W=True, eps=self._eps, l1_H=penalties["l1_H"], l2_H=penalties["l2_H"],
        )
        activations = np.ascontiguousarray(result.H.T)
        if with_objective:
            return activations, self._activation_objective(float(result.loss[-1]), activations, X.shape)
        return activations

    # ------------------------------------------------------------------ API

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, W=None, H=None):
        """Learn the components of X.

        Parameters
        ----------
        X : array-like or sparse matrix (CSR, CSC), shape (n_samples, n_features)
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
        X = _validate_data(self, X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32],
                           ensure_non_negative=True)
        self._fit(X, W, H)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, W=None, H=None):
        """Learn the components of X and return the activations.

        After the joint fit, the activations are solved again with the learned
        components fixed, exactly as :meth:`transform` does; those are returned unless
        they fit X worse (divergence plus penalties, 1e-9 relative) than the joint fit's
        last activations, which are then returned instead.  Only the joint fit warns
        when it reaches ``max_iter`` (one NMFConvergenceWarning, as scikit-learn).

        Parameters
        ----------
        X : array-like or sparse matrix (CSR, CSC), shape (n_samples, n_features)
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
        X = _validate_data(self, X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32],
                           ensure_non_negative=True)
        fitted, fitted_objective = self._fit(X, W, H)
        # The re-solve is this method's own detail: its max_iter warning came on top of the
        # fit's (two NMFConvergenceWarnings per call where scikit-learn gives one, tour18),
        # and what it returns never fits worse than the fit, which warns for itself.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NMFConvergenceWarning)
            solved, solved_objective = self._transform(X, with_objective=True)
        # Never return a worse fit than the joint fit found (the re-solve starts afresh,
        # so with a loose tol or max_iter it can stop short of it); a relative 1e-9 absorbs
        # the rounding of two separately computed losses.
        if solved_objective <= fitted_objective * (1 + 1e-9):
            return solved
        return fitted

    def transform(self, X):
        """Activations of the learned components in X (components stay fixed).

        Parameters
        ----------
        X : array-like or sparse matrix (CSR, CSC), shape (n_samples, n_features)
            Non-negative data with the features seen in ``fit``.

        Returns
        -------
        W : ndarray, shape (n_samples, n_components)
            X ≈ W @ components_.  float32 for float32 X.
        """
        check_is_fitted(self)
        X = _validate_data(self, X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32],
                           ensure_non_negative=True, reset=False)
        return self._transform(X)

    def inverse_transform(self, X):
        """Map transformed data back to the data space: ``X @ components_``.

        Parameters
        ----------
        X : array-like or sparse matrix, shape (n_samples, n_components) or (n_components,)
            Transformed data (W); one sample may be 1-D, as scikit-learn's
            ``X @ components_`` takes it.

        Returns
        -------
        X_original : ndarray, shape (n_samples, n_features), or (n_features,) for 1-D X
            float32 for float32 X (scikit-learn returns components_'s dtype).
        """
        check_is_fitted(self)
        one_sample = not issparse(X) and np.ndim(X) == 1
        X = check_array(np.reshape(X, (1, -1)) if one_sample else X, accept_sparse=("csr", "csc", "coo"),
                        dtype=[np.float64, np.float32])
        if X.shape[1] != self.components_.shape[0]:
            raise ValueError(
                f"X has {X.shape[1]} columns; inverse_transform needs n_components="
                f"{self.components_.shape[0]} columns (the output of transform)"
            )
        X_original = np.asarray(X @ self.components_.astype(X.dtype, copy=False))
        return X_original[0] if one_sample else X_original

    @property
    def _n_features_out(self):
        """Number of transformed output features (for get_feature_names_out)."""
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        # Sparse X with implicit zeros is refused for beta_loss <= 0 (see _engine_data):
        # the tag says so, and scikit-learn's sparse checks pass (before 2026-12-07,
        # review61, three of them failed for beta_loss="itakura-saito").
        try:
            tags.input_tags.sparse = self._beta() > 0
        except (TypeError, ValueError):  # an invalid beta_loss: fit says so
            tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"requires_positive_X": True, "preserves_dtype": [np.float64, np.float32]}
