"""``factorize``: V ≈ W H by minimizing a β-divergence, and its result type."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from nmfaudio._validation import as_generator, check_int, check_number, free_mask
from nmfaudio.nmf._checks import check_data
from nmfaudio.nmf.divergence import beta_from_name, default_floor, floor_data
from nmfaudio.nmf.init import INITS, match_scale, nndsvd_init, random_init
from nmfaudio.nmf.solvers import SOLVERS, Problem, resolve_solver

#: Iterations between two convergence checks.
CHECK_EVERY = 10


class ConvergenceWarning(UserWarning):
    """``max_iter`` was reached before the relative loss decrease fell below ``tol``."""


@dataclass
class NMFResult:
    """The outcome of :func:`factorize`.

    Attributes
    ----------
    W : ndarray, shape (n_features, n_components)
        Templates (spectral templates for audio), non-negative.
    H : ndarray, shape (n_components, n_samples)
        Activations, non-negative.
    loss : ndarray of float, shape (n_iter + 1,)
        β-divergence (scikit-learn's definition; Frobenius is ½‖V − WH‖²_F): ``loss[0]``
        at the start, ``loss[i]`` after iteration i.  Computed on the floored V the
        engine actually fits (see ``n_floored``); regularization terms are not included.
    n_iter : int
        Iterations run.
    converged : bool
        True when the relative loss decrease fell below ``tol``.
    n_floored : int
        Entries of V raised to the floor ``eps`` (β ≤ 1 only; zeros in silent audio).
    beta : float
        The divergence's β.
    solver : str
        The update rule used (``"auto"`` resolved).
    eps : float
        The floor used for V (β ≤ 1) and WH (β < 2).
    stop_reason : str
        ``"tol"``, ``"max_iter"``, ``"callback"`` or ``"zero"`` (V was all zeros).
    """

    W: np.ndarray
    H: np.ndarray
    loss: np.ndarray
    n_iter: int
    converged: bool
    n_floored: int
    beta: float
    solver: str
    eps: float
    stop_reason: str


def _check_factor(factor, name, expected_shape, dtype) -> np.ndarray:
    array = check_data(factor, name, dtype=dtype)
    if array.shape != expected_shape:
        raise ValueError(f"{name} has shape {array.shape}; expected {expected_shape}")
    return array.copy()  # the engine updates its factors in place; the caller's stay untouched


def _initial_factors(V, k, init, W, H, rng):
    """Starting W (n_features, k) and H (k, n_samples), private copies."""
    n_features, n_samples = V.shape
    if W is not None:
        W = _check_factor(W, "W", (n_features, k), V.dtype)
    if H is not None:
        H = _check_factor(H, "H", (k, n_samples), V.dtype)
    if W is not None and H is not None:
        return W, H
    if init == "random" or init == "custom" or (W is not None or H is not None):
        W0, H0 = random_init(V, k, rng)
    else:
        W0, H0 = nndsvd_init(V, k, rng, variant=init)
    if W is not None:
        match_scale(V, W, H0, fixed_is_W=True)
        return W, H0
    if H is not None:
        match_scale(V, H, W0, fixed_is_W=False)
        return W0, H
    return W0, H0


def unit_scale(V) -> float:
    """The power of two s with max(s·V) in [0.5, 1) (1 for all-zero V)."""
    vmax = float(V.max())
    if vmax <= 0:
        return 1.0
    return float(np.ldexp(1.0, -int(np.frexp(vmax)[1])))


def _scaled_penalties(penalties, scale, beta):
    """Penalty weights for the problem on s·V (W → s·W, H unchanged), whose objective is
    s^β times the original: l1_W·s^(β−1), l2_W·s^(β−2), l1_H·s^β, l2_H·s^β."""
    return {
        "l1_W": penalties["l1_W"] * scale ** (beta - 1),
        "l2_W": penalties["l2_W"] * scale ** (beta - 2),
        "l1_H": penalties["l1_H"] * scale**beta,
        "l2_H": penalties["l2_H"] * scale**beta,
    }


def _penalty(W, H, penalties) -> float:
    """l1‖W‖₁ + ½ l2‖W‖² + l1‖H‖₁ + ½ l2‖H‖² (factors are non-negative, so ‖·‖₁ is the sum)."""
    total = 0.0
    for factor, l1, l2 in ((W, penalties["l1_W"], penalties["l2_W"]), (H, penalties["l1_H"], penalties["l2_H"])):
        if l1:
            total += l1 * float(factor.sum(dtype=np.float64))
        if l2:
            total += 0.5 * l2 * float(np.vdot(factor, factor))
    return total


def factorize(
    V,
    n_components,
    *,
    beta="frobenius",
    solver="auto",
    init="random",
    W=None,
    H=None,
    fix_W=False,
    fix_H=False,
    l1_W=0.0,
    l1_H=0.0,
    l2_W=0.0,
    l2_H=0.0,
    max_iter=200,
    tol=1e-4,
    random_state=None,
    callback=None,
    eps=None,
) -> NMFResult:
    """Non-negative matrix factorization V ≈ W @ H under a β-divergence.

    Parameters
    ----------
    V : array-like, shape (n_features, n_samples)
        Non-negative data, e.g. a magnitude spectrogram (n_freq, n_frames).  Never
        modified.  float32 stays float32; integers become float64.
    n_components : int
        Number of components k (>= 1).
    beta : {"frobenius", "kullback-leibler", "itakura-saito"} or float, default "frobenius"
        The divergence: 2, 1, 0 or any real β.
    solver : {"auto", "mu", "hals"}, default "auto"
        ``"mu"``: multiplicative updates (Lee-Seung for β = 2, Févotte-Idier with the MM
        exponent otherwise).  ``"hals"``: accelerated hierarchical ALS, β = 2 only.
        ``"auto"``: HALS for β = 2 (faster to a given loss), MU otherwise.
    init : {"random", "nndsvd", "nndsvda", "nndsvdar"}, default "random"
        Used for factors not given.  ``"random"``: uniform [0, 1) scaled by
        sqrt(mean(V) / k).  With only one of ``W``/``H`` given, the other starts random,
        rescaled so mean(WH) = mean(V).
    W : array-like, shape (n_features, n_components), optional
        Starting (or, with ``fix_W``, fixed) templates.  Copied, never modified.
    H : array-like, shape (n_components, n_samples), optional
        Starting (or fixed) activations.  Copied, never modified.
    fix_W, fix_H : bool, sequence of int, or bool array of shape (n_components,)
        Components kept exactly as given (bit-identical): ``True`` keeps all, a list of
        indices or a boolean mask keeps those while the others learn.  Needs the
        factor to be given.
    l1_W, l1_H, l2_W, l2_H : float >= 0
        Penalties l1‖·‖₁ + ½ l2‖·‖²_F on W and H (``l1_H`` makes activations sparse).
    max_iter : int >= 0, default 200
    tol : float >= 0, default 1e-4
        Every 10 iterations, stop when (f[i−10] − f[i]) / f[0] < tol, where f is the
        objective: the divergence plus any penalties.
        ``tol=0`` runs exactly ``max_iter`` iterations (and warns of nothing).
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Seeds the initialization; the same seed gives the same result (a RandomState
        gives one seed drawn from it; see :func:`nmfaudio._validation.as_generator`).
    callback : callable(iteration, loss) -> bool or None, optional
        Called after every iteration; returning True stops early.
    eps : float, optional
        Floor for V (β ≤ 1) and WH (β < 2); default ``FLOOR_RELATIVE * max(V)``
        (float32 machine epsilon times the largest entry).

    Returns
    -------
    NMFResult
        ``W`` (n_features, k), ``H`` (k, n_samples), ``loss``, ``n_iter``,
        ``converged``, ``n_floored``, ``beta``, ``solver``, ``eps``, ``stop_reason``.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` is reached before ``tol`` (with ``tol > 0``).

    Raises
    ------
    ValueError
        Negative, NaN or infinite values; bad ``n_components``, ``beta``, ``solver``,
        ``init``; W or H of the wrong shape; ``fix_W``/``fix_H`` without the factor.
    TypeError
        V (or W, H) not a numeric array.

    Examples
    --------
    >>> import numpy as np, nmfaudio
    >>> V = np.random.default_rng(0).random((6, 2)) @ np.random.default_rng(1).random((2, 8))
    >>> res = nmfaudio.factorize(V, 2, random_state=0, max_iter=500, tol=0)
    >>> bool(res.loss[-1] < 1e-6 * res.loss[0])
    True
    """
    V = check_data(V, "V")
    k = check_int(n_components, "n_components", 1)
    beta = beta_from_name(beta)
    solver_name = resolve_solver(solver, beta) if isinstance(solver, str) else None
    if solver_name is None:
        raise ValueError(f"solver={solver!r} must be a name: 'auto', {', '.join(map(repr, SOLVERS))}")
    if not isinstance(init, str) or init not in (*INITS, "custom"):
        raise ValueError(f"init={init!r} is not known; use one of {', '.join(map(repr, INITS))}")
    max_iter = check_int(max_iter, "max_iter", 0)
    tol = check_number(tol, "tol", minimum=0)
    penalties = {name: check_number(value, name, minimum=0)
                 for name, value in (("l1_W", l1_W), ("l1_H", l1_H), ("l2_W", l2_W), ("l2_H", l2_H))}
    if callback is not None and not callable(callback):
        raise TypeError(f"callback={callback!r} must be callable(iteration, loss)")
    free_W = free_mask(fix_W, k, "fix_W")
    free_H = free_mask(fix_H, k, "fix_H")
    if not free_W.all() and W is None:
        raise ValueError("fix_W needs the templates: pass W=... (n_features, n_components)")
    if not free_H.all() and H is None:
        raise ValueError("fix_H needs the activations: pass H=... (n_components, n_samples)")
    if init == "custom" and (W is None or H is None):
        raise ValueError("init='custom' needs both W and H")
    rng = as_generator(random_state)
    eps = default_floor(V) if eps is None else check_number(eps, "eps", minimum=0)

    # Solve for V scaled by a power of two that brings max(V) near 1.  The scaling is exact
    # in floating point, and it keeps float32 terms such as WH^(β−2) inside the float range
    # whatever the input's scale.  D_β(sV | sWH) = s^β D_β(V | WH), so losses, penalties
    # and the floor are converted, and W is scaled back at the end.
    W, H = _initial_factors(V, k, init, W, H, rng)
    scale = unit_scale(V)
    if scale != 1:
        V = V * V.dtype.type(scale)  # our own copy from here on: floor_data may overwrite it
        W *= W.dtype.type(scale)
        eps *= scale
        penalties = _scaled_penalties(penalties, scale, beta)
    loss_unit = scale ** -beta  # loss of the scaled problem → loss of the user's problem

    if not V.any():
        # Nothing to model: the best non-negative fit of zeros is zero.
        W[:, free_W] = 0
        H[free_H] = 0
        return NMFResult(W, H, np.zeros(1), 0, True, 0, beta, solver_name, eps, "zero")

    V_fit, n_floored = floor_data(V, beta, eps, overwrite=scale != 1)
    problem = Problem(beta=beta, free_W=free_W, free_H=free_H, eps=eps, **penalties)
    engine = SOLVERS[solver_name](V_fit, W, H, problem)

    # `loss` records the divergence; stopping looks at the objective the updates
    # minimize, which includes the penalties (the divergence alone may rise with them).
    penalized = any(penalties.values())
    loss = np.empty(max_iter + 1)
    objective = np.empty(max_iter + 1)
    loss[0] = engine.start()
    objective[0] = loss[0] + (_penalty(W, H, penalties) if penalized else 0.0)
    n_iter, stop_reason = 0, "max_iter"
    for iteration in range(1, max_iter + 1):
        loss[iteration] = engine.step()
        objective[iteration] = loss[iteration] + (_penalty(W, H, penalties) if penalized else 0.0)
        n_iter = iteration
        if callback is not None and callback(iteration, float(loss[iteration] * loss_unit)):
            stop_reason = "callback"
            break
        if tol > 0 and iteration % CHECK_EVERY == 0:
            start = objective[0]
            decrease = (objective[iteration - CHECK_EVERY] - objective[iteration]) / start if start > 0 else 0.0
            if decrease < tol:
                stop_reason = "tol"
                break
    converged = stop_reason == "tol"
    if stop_reason == "max_iter" and tol > 0 and max_iter > 0:
        warnings.warn(
            f"NMF reached max_iter={max_iter} before the relative loss decrease fell below "
            f"tol={tol:g}; raise max_iter or tol",
            ConvergenceWarning,
            stacklevel=2,
        )
    if scale != 1:
        W *= W.dtype.type(1 / scale)  # a power of two: fixed templates come back bit-identical
    return NMFResult(W, H, loss[: n_iter + 1] * loss_unit, n_iter, converged, n_floored, beta,
                     solver_name, float(eps / scale), stop_reason)
