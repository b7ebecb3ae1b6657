"""``factorize``: V ≈ W H by minimizing a β-divergence, and its result type."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from nmfaudio._validation import as_generator, check_int, check_number, free_mask, summary_repr
from nmfaudio.nmf._checks import check_data, check_value_range, check_zero_floor
from nmfaudio.nmf.balance import balance_components
from nmfaudio.nmf.divergence import beta_from_name, default_floor, floor_data
from nmfaudio.nmf.init import INITS, match_scale, nndsvd_init, random_init
from nmfaudio.nmf.solvers import SOLVERS, Problem, resolve_solver

#: Iterations between two convergence checks (the multiplicative updates' checks with
#: ``tol_rule="sklearn"`` too; scikit-learn's coordinate-descent rule checks every one).
CHECK_EVERY = 10

#: What ``tol`` is compared with (see :func:`factorize`).
TOL_RULES = ("relative", "sklearn")


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
        Every entry is computed by default.  With ``factorize(..., loss_every=N)`` only
        ``loss[0]``, ``loss[N]``, ``loss[2N]``, …, the last entry and (``tol > 0``) the
        stopping checks every 10 iterations are; the other entries are NaN (use
        ``loss[np.isfinite(loss)]`` or ``np.nanmin``).  The factors are the same either way.
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

    def __repr__(self) -> str:
        """One line, arrays by shape and dtype (:func:`nmfaudio._validation.summary_repr`)."""
        return summary_repr(self)


#: The shape of each factor, in words.
FACTOR_LAYOUTS = {"W": "(n_features, n_components)", "H": "(n_components, n_samples)"}


def _factor_shape_fix(name, shape, expected_shape) -> str:
    """What to do about a W or H of the wrong shape (the message's end): a transposed
    factor, another number of components, or a factor from other data."""
    if shape == expected_shape[::-1]:
        return f"it looks transposed: pass {name}.T"
    component_axis = 1 if name == "W" else 0
    other_axis = 1 - component_axis
    if shape[other_axis] == expected_shape[other_axis]:
        k, given = expected_shape[component_axis], shape[component_axis]
        subset = f"{name}[:, :{k}]" if name == "W" else f"{name}[:{k}]"
        return (f"it holds {given} component{'s' * (given != 1)} where n_components={k}: pass n_components={given}"
                + (f", or {subset}" if given > k else ""))
    what = "features (V's rows)" if name == "W" else "samples (V's columns)"
    return (f"its {shape[other_axis]} {what.split(' ')[0]} are not V's {expected_shape[other_axis]} {what}: "
            f"{name} must come from data shaped like V (is V transposed?)")


def _check_factor(factor, name, expected_shape, dtype) -> np.ndarray:
    array = check_data(factor, name, dtype=dtype, negative="templates" if name == "W" else "activations",
                       layout=FACTOR_LAYOUTS[name])
    if array.shape != expected_shape:
        raise ValueError(f"{name} has shape {array.shape}; expected {expected_shape} = {FACTOR_LAYOUTS[name]}: "
                         + _factor_shape_fix(name, array.shape, expected_shape))
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


def _check_zero_start(W, H, given, free_W, free_H, solver_name) -> None:
    """Refuse a given start that no update moves, for a V that is not all zeros.

    A multiplicative update multiplies each entry, so ``"mu"`` keeps an all-zero W or H at
    zero; and from W = H = 0 the gradient is zero, so no solver moves.  Such fits stayed
    at zero and reported ``converged=True``, ``stop_reason="tol"`` after 10 iterations
    (before 2026-12-07, review61).  With every template fixed nothing is refused: only H
    is solved for (as ``NMF.transform`` and block-wise separation do), and the caller's
    start H = 0 is kept as it was."""
    if not free_W.any():
        return
    w_zero = given[0] and not W.any()
    h_zero = given[1] and not H.any()
    if w_zero and h_zero:
        raise ValueError("W and H are all zeros: no update moves from W = H = 0 (the gradient is zero "
                         "there), so the fit would stay at zero; start from positive values, or leave "
                         "W and H out (init='nndsvda' or 'random')")
    for name, zero, free in (("W", w_zero, free_W), ("H", h_zero, free_H)):
        if zero and free.any() and solver_name == "mu":
            raise ValueError(
                f"{name} is all zeros: multiplicative updates (solver='mu') never move a zero entry, so "
                f"the fit would stay at {name} = 0; start {name} from positive values (or leave it out: "
                "init='nndsvda' or 'random'), or use solver='amu' or 'hals', which can leave zero"
            )


def _check_tol_rule(tol_rule) -> str:
    if not isinstance(tol_rule, str) or tol_rule not in TOL_RULES:
        raise ValueError(f"tol_rule={tol_rule!r} is not known; use one of {', '.join(map(repr, TOL_RULES))}")
    return tol_rule


def _sparse_for_beta(V, beta):
    """A sparse V the engine can fit for this β: β ≤ 0 has no finite divergence at a zero
    entry, so a sparse V with implicit zeros is refused there (one without any is densified)."""
    if beta > 0:
        return V
    if V.nnz == V.shape[0] * V.shape[1]:
        return V.toarray()
    raise ValueError(
        f"beta={beta:g} <= 0 is undefined where V is zero and sparse V has "
        f"{V.shape[0] * V.shape[1] - V.nnz} implicit zeros; pass V.toarray() (zeros are then "
        "floored at eps) or use beta > 0"
    )


def _floor_sparse(V, beta, eps):
    """Floor the stored entries of our own sparse copy of V at eps for β ≤ 1; implicit
    zeros stay zero (exact for β > 0, see :mod:`nmfaudio.nmf.sparse`)."""
    if beta > 1:
        return V, 0
    n_floored = int(np.count_nonzero(V.data < eps))
    if n_floored:
        np.maximum(V.data, V.dtype.type(eps), out=V.data)
    return V, n_floored


class _StopRule:
    """Decides, after each iteration, whether ``tol`` is met.

    ``"relative"`` (nmfaudio's): every CHECK_EVERY iterations, stop when the objective
    (divergence plus penalties) fell by less than ``tol`` times its starting value over
    the last CHECK_EVERY iterations.  ``"sklearn"``: scikit-learn's rules — for the
    multiplicative updates, every CHECK_EVERY iterations, stop when sqrt(divergence) fell
    by less than ``tol`` times its starting value since the last check; for HALS
    (scikit-learn's "cd"), stop when the L1 norm of the projected gradient falls to
    ``tol`` times its value after the first iteration.
    """

    def __init__(self, rule, tol, engine, solver_name, loss, objective):
        self.rule, self.tol, self.engine = rule, tol, engine
        self.loss, self.objective = loss, objective
        self.by_gradient = rule == "sklearn" and solver_name == "hals"
        self.first_violation = None
        self.previous_error = float(np.sqrt(max(loss[0], 0.0)))
        self.start_error = self.previous_error

    def reads(self, iteration) -> bool:
        """Whether :meth:`met` reads the loss of this iteration (the gradient rule reads none)."""
        return self.tol > 0 and not self.by_gradient and iteration % CHECK_EVERY == 0

    def met(self, iteration) -> bool:
        if self.tol <= 0:
            return False
        if self.by_gradient:
            violation = self.engine.violation()
            if self.first_violation is None:
                self.first_violation = violation
            if self.first_violation <= 0:
                return True
            return violation / self.first_violation <= self.tol
        if iteration % CHECK_EVERY:
            return False
        if self.rule == "sklearn":
            error = float(np.sqrt(max(self.loss[iteration], 0.0)))
            if self.start_error <= 0:
                return True
            met = (self.previous_error - error) / self.start_error < self.tol
            self.previous_error = error
            return met
        start = self.objective[0]
        decrease = (self.objective[iteration - CHECK_EVERY] - self.objective[iteration]) / start if start > 0 else 0.0
        return decrease < self.tol


def _loss_read(iteration, loss_every, max_iter, stop_rule) -> bool:
    """Whether ``factorize`` computes this iteration's loss with ``loss_every`` (and no
    callback): every ``loss_every``-th, the last, and those the stopping rule reads."""
    return iteration % loss_every == 0 or iteration == max_iter or stop_rule.reads(iteration)


def unit_scale(V) -> float:
    """The power of two s with max(s·V) in [0.5, 1) (1 for all-zero V)."""
    vmax = float(V.max())
    if vmax <= 0:
        return 1.0
    return float(np.ldexp(1.0, -int(np.frexp(vmax)[1])))


def scale_power(scale: float, exponent: float, V, beta: float) -> float:
    """``scale ** exponent`` — a power of :func:`unit_scale`'s s, converting the scaled
    problem's loss (s^-β) or a penalty weight back — or a ValueError naming V's largest
    value when that number is outside float64's range (V's values far from 1, e.g. above
    1e154 or below 1e-154 for the Frobenius loss, whose loss scales as max(V)²): Python
    raised a bare ``OverflowError: (34, 'Numerical result out of range')`` there."""
    try:
        return scale**exponent
    except OverflowError:
        raise ValueError(
            f"V's largest value {float(V.max()) / scale:.3g} is too far from 1 for beta={beta:g}: the loss "
            f"(which scales as max(V)**{beta:g}) or a penalty weight overflows float64; divide V by a "
            "constant first (e.g. V / V.max(); W scales with it)"
        ) from None


def _scaled_penalties(penalties, scale, beta, V, shift=0):
    """Penalty weights for the problem on s·V (W → s·W, H unchanged), whose objective is
    s^β times the original: l1_W·s^(β−1), l2_W·s^(β−2), l1_H·s^β, l2_H·s^β.  A zero
    weight stays zero without computing its power (which may be out of float64's range
    where the weight does not matter).  With a ``shift`` m (:func:`start_shift`: W → s·2^m·W,
    H → 2^−m·H) the weights are also multiplied by 2^−m, 2^−2m, 2^m and 2^2m."""
    exponents = {"l1_W": beta - 1, "l2_W": beta - 2, "l1_H": beta, "l2_H": beta}
    scaled = {name: penalties[name] * scale_power(scale, exponent, V, beta) if penalties[name] else 0.0
              for name, exponent in exponents.items()}
    if shift:
        shifts = {"l1_W": -shift, "l2_W": -2 * shift, "l1_H": shift, "l2_H": 2 * shift}
        scaled = {name: weight * scale_power(2.0, shifts[name], V, beta) if weight else 0.0
                  for name, weight in scaled.items()}
    return scaled


#: The start is rebalanced (:func:`start_shift`) when, in the problem on s·V, the largest
#: entries of W and H differ by more than 2**MAX_START_IMBALANCE.  Ordinary starts stay far
#: below it: for V's values near 2**e, random and NNDSVD starts differ by about 2**e there,
#: and given templates of peak 1 by about 2**(2e); near 2**126 a float32 WᵀW underflows.
MAX_START_IMBALANCE = 64


def start_shift(W, H, scale) -> int:
    """The power of two m that :func:`factorize` moves from H to W (W·2^m, H·2^−m: WH
    unchanged) so that the start in the problem on s·V (W → s·W) has factors of one
    size: 0 unless their largest entries differ by more than 2**MAX_START_IMBALANCE.

    Without it a start from V of values near 1e38 (float32) or 1e308 (float64) — W about
    sqrt(max V)·s, H about sqrt(max V) — gave NaN factors: WᵀW underflowed to zero."""
    w_max = float(W.max()) if W.size else 0.0
    h_max = float(H.max()) if H.size else 0.0
    if not (w_max > 0 and h_max > 0):
        return 0
    imbalance = int(np.frexp(h_max)[1]) - int(np.frexp(w_max)[1]) - int(np.frexp(scale)[1] - 1)
    if abs(imbalance) <= MAX_START_IMBALANCE:
        return 0
    return imbalance // 2


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
    tol_rule="relative",
    loss_every=1,
) -> NMFResult:
    """Non-negative matrix factorization V ≈ W @ H under a β-divergence.

    Parameters
    ----------
    V : array-like or scipy.sparse matrix, shape (n_features, n_samples)
        Non-negative data, e.g. a magnitude spectrogram (n_freq, n_frames).  Never
        modified.  float32 stays float32; integers become float64.  Sparse V (CSR, CSC,
        ...) is fitted on its stored entries only, never densified (see
        :mod:`nmfaudio.nmf.sparse`): every solver for β = 2, "mu" for any β > 0;
        implicit zeros are exact zeros (not floored), so β <= 0 refuses sparse V with
        implicit zeros.
    n_components : int
        Number of components k (>= 1).
    beta : {"frobenius", "kullback-leibler", "itakura-saito"} or float, default "frobenius"
        The divergence: 2, 1, 0 or any real β.
    solver : {"auto", "mu", "amu", "ccd", "hals"}, default "auto"
        ``"mu"``: multiplicative updates (Lee-Seung for β = 2, Févotte-Idier with the MM
        exponent otherwise).  ``"amu"``: MU with loss-checked extrapolation (Ang & Gillis
        2019; a worse guess is dropped, so the loss never rises).  ``"ccd"``: cyclic
        coordinate descent for KL and IS (Hsieh & Dhillon 2011; fewer but costlier
        iterations).  ``"hals"``: accelerated hierarchical ALS, β = 2 only.
        ``"auto"``: HALS for β = 2, AMU otherwise (MU where numba is missing or V is
        sparse) — the fastest to a given loss as measured in docs/engine.md.
    init : {"random", "nndsvd", "nndsvda", "nndsvdar"} or None, default "random"
        Used for factors not given.  None: the default, ``"random"`` (scikit-learn's
        ``NMF(init=None)`` picks ``"nndsvda"`` when k <= min(V.shape), and so does
        :class:`nmfaudio.NMF`; the engine keeps its own default).  ``"random"``:
        uniform [0, 1) scaled by sqrt(mean(V) / k).  With only one of ``W``/``H`` given, the other starts random,
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
        That is ``tol_rule="relative"``; see ``tol_rule`` for scikit-learn's meaning.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Seeds the initialization; the same seed gives the same result (a RandomState
        gives one seed drawn from it; see :func:`nmfaudio._validation.as_generator`).
    callback : callable(iteration, loss) -> bool or None, optional
        Called after every iteration; returning True stops early.  With a callback every
        iteration's loss is computed, whatever ``loss_every``.
    eps : float, optional
        Floor for V (β ≤ 1) and WH (β < 2); default ``FLOOR_RELATIVE * max(V)``
        (float32 machine epsilon times the largest entry).  ``eps=0`` with β ≤ 1 and
        zeros in a dense V is refused (the divergence is undefined there).
    tol_rule : {"relative", "sklearn"}, default "relative"
        What ``tol`` is compared with.  ``"relative"``: as described under ``tol``.
        ``"sklearn"``: scikit-learn's NMF rules — multiplicative updates stop, every 10
        iterations, when sqrt(divergence) fell by less than ``tol`` times its starting
        value since the previous check; HALS stops when the L1 norm of the projected
        gradient falls to ``tol`` times its value after the first iteration.  On data
        that a k-component model fits well, ``"sklearn"`` runs longer and fits closer.
    loss_every : int >= 1, default 1
        Compute the loss at iterations 0, ``loss_every``, 2·``loss_every``, …, at the
        last one, and (``tol > 0``) at the stopping checks every 10 iterations; the other
        entries of ``NMFResult.loss`` are NaN (for every solver, so the gaps do not
        depend on it).  The default computes every one.  ``loss_every=10`` is what
        scikit-learn's MU does: ``solver="mu"`` with β ≠ 2 on dense V then skips the
        loss's terms on 9 of 10 passes (6–20 % of an iteration at k = 8–32, see
        docs/engine.md); the other solvers compute their loss anyway (``"amu"``'s
        safeguard reads it).  W, H, ``n_iter`` and the stopping are bit-identical to the
        default.  A ``callback`` needs every loss, so it overrides this.

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
    V = check_data(V, "V", accept_sparse=True)
    check_value_range(V)
    k = check_int(n_components, "n_components", 1)
    beta = beta_from_name(beta)
    tol_rule = _check_tol_rule(tol_rule)
    loss_every = check_int(loss_every, "loss_every", 1, example="10: the loss every 10th iteration")
    if hasattr(V, "indptr"):
        V = _sparse_for_beta(V, beta)
    sparse = hasattr(V, "indptr")
    solver_name = resolve_solver(solver, beta) if isinstance(solver, str) else None
    if solver_name is None:
        raise ValueError(f"solver={solver!r} must be a name: 'auto', {', '.join(map(repr, SOLVERS))}")
    if init is None:  # "the default", as scikit-learn's init=None (refused before 2026-12-06, polish17)
        init = "random"
    if not isinstance(init, str) or init not in (*INITS, "custom"):
        raise ValueError(f"init={init!r} is not known; use one of {', '.join(map(repr, INITS))} "
                         "(None: the default, 'random')")
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
    check_zero_floor(eps, V, beta)

    # Solve for V scaled by a power of two that brings max(V) near 1.  The scaling is exact
    # in floating point, and it keeps float32 terms such as WH^(β−2) inside the float range
    # whatever the input's scale.  D_β(sV | sWH) = s^β D_β(V | WH), so losses, penalties
    # and the floor are converted, and W is scaled back at the end.
    given = (W is not None, H is not None)
    W, H = _initial_factors(V, k, init, W, H, rng)
    has_data = bool(V.nnz if sparse else V.any())
    if has_data:
        _check_zero_start(W, H, given, free_W, free_H, solver_name)
    scale = unit_scale(V)
    # A start far out of balance in the scaled problem (V near its dtype's limits) moves a
    # power of two from H to W, in one exact ldexp with s (review61); 0 for ordinary input.
    shift = start_shift(W, H, scale) if has_data else 0
    if scale != 1:
        if sparse:
            V.data *= V.dtype.type(scale)  # check_data made V our own copy
        else:
            V = V * V.dtype.type(scale)  # our own copy from here on: floor_data may overwrite it
        if not shift:
            W *= W.dtype.type(scale)
        eps *= scale
    if shift:
        W[...] = np.ldexp(W, int(np.frexp(scale)[1] - 1) + shift)
        H[...] = np.ldexp(H, -shift)
    if scale != 1 or shift:
        penalties = _scaled_penalties(penalties, scale, beta, V, shift)
    loss_unit = scale_power(scale, -beta, V, beta)  # loss of the scaled problem → the user's problem's

    if not has_data:
        # Nothing to model: the best non-negative fit of zeros is zero.
        W[:, free_W] = 0
        H[free_H] = 0
        return NMFResult(W, H, np.zeros(1), 0, True, 0, beta, solver_name, eps, "zero")

    if sparse:
        V_fit, n_floored = _floor_sparse(V, beta, eps)
    else:
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
    stop_rule = _StopRule(tol_rule, tol, engine, solver_name, loss, objective)
    # Iterations whose loss nobody reads (loss_every > 1, no callback) are NaN; solvers
    # whose loss costs work of its own (β-MU: 6–20 % of a pass) skip computing it there.
    gaps = loss_every > 1 and callback is None
    skip = gaps and getattr(engine, "loss_optional", False)
    for iteration in range(1, max_iter + 1):
        if skip and not _loss_read(iteration, loss_every, max_iter, stop_rule):
            loss[iteration] = objective[iteration] = engine.step(with_loss=False)  # NaN
            n_iter = iteration
            continue
        loss[iteration] = engine.step()
        objective[iteration] = loss[iteration] + (_penalty(W, H, penalties) if penalized else 0.0)
        n_iter = iteration
        if callback is not None and callback(iteration, float(loss[iteration] * loss_unit)):
            stop_reason = "callback"
            break
        if stop_rule.met(iteration):
            stop_reason = "tol"
            break
    if gaps:  # the same gaps whichever solver ran (the last iteration is always kept)
        unread = [i for i in range(1, n_iter) if not _loss_read(i, loss_every, max_iter, stop_rule)]
        loss[unread] = np.nan
    converged = stop_reason == "tol"
    if stop_reason == "max_iter" and tol > 0 and max_iter > 0:
        warnings.warn(
            f"NMF reached max_iter={max_iter} before the relative loss decrease fell below "
            f"tol={tol:g}; raise max_iter or tol",
            ConvergenceWarning,
            stacklevel=2,
        )
    if shift:  # one ldexp each: W·2^−m/s may pass through values outside the dtype
        W[...] = np.ldexp(W, -shift - int(np.frexp(scale)[1] - 1))
        H[...] = np.ldexp(H, shift)
    elif scale != 1:
        W *= W.dtype.type(1 / scale)  # a power of two: fixed templates come back bit-identical
    if free_W.all() and free_H.all() and not penalized:
        balance_components(W, H)
    return NMFResult(W, H, loss[: n_iter + 1] * loss_unit, n_iter, converged, n_floored, beta,
                     solver_name, float(eps / scale), stop_reason)
