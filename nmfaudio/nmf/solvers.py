"""Update rules.  Each solver is a class registered by name in :data:`SOLVERS`.

A solver owns the factors it is given and updates them in place:

``solver = Solver(V, W, H, problem)``
    ``V`` is already floored (see :mod:`nmfaudio.nmf.divergence`); ``W``, ``H`` are the
    engine's private copies.
``solver.start() -> float``
    the loss of the starting point,
``solver.step() -> float``
    one iteration (H, then W), returning the loss after it.
``solver.step(with_loss=False) -> nan`` (solvers with ``loss_optional = True`` only)
    the same iteration, bit-identical factors, without computing the loss (NaN):
    :func:`nmfaudio.factorize` asks for it on the iterations whose loss nobody reads
    (its ``loss_every`` > 1, no callback; not by default).

Solvers cache what the next step needs (WH for the multiplicative updates, WᵀV and WᵀW
for Frobenius), so the loss of each iteration comes at no extra product.  For β ≠ 2,
"mu" runs :class:`FusedBetaMU` (one fused pass over V per iteration, see
:mod:`nmfaudio.nmf.kernels`) when numba is installed and the plain NumPy
:class:`BetaMU` otherwise; HALS's inner sweeps are compiled the same way.  For a
scipy.sparse V (CSR), the Frobenius solvers work from sparse products as they are and
"mu" runs :class:`SparseBetaMU` on the stored entries (:mod:`nmfaudio.nmf.sparse`).  Adding a
solver (say, a GPU backend) means adding a class and one entry in ``SOLVERS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nmfaudio.nmf.cd import make_cd
from nmfaudio.nmf.divergence import divergence_from_model
from nmfaudio.nmf.extrapolated import ExtrapolatedBetaMU, relaxed_exponent
from nmfaudio.nmf.init import nndsvd_init
from nmfaudio.nmf.gemm_pass import make_pass
from nmfaudio.nmf.kernels import HAVE_NUMBA, dot64, flush_level, flush_subnormal, hals_sweeps
from nmfaudio.nmf.sparse import dense_power_products, entry_rows, model_at_entries, sparse_divergence

if HAVE_NUMBA:  # FusedBetaMU's W update (the solver exists only with numba)
    from nmfaudio.nmf.extrapolated import _w_step


@dataclass(frozen=True)
class Problem:
    """What is being minimized: D_β(V | WH) + l1‖·‖₁ + ½ l2‖·‖²_F on W and H,
    over the components marked free."""

    beta: float
    free_W: np.ndarray  # bool (k,)
    free_H: np.ndarray  # bool (k,)
    eps: float  # floor of WH for β < 2
    l1_W: float = 0.0
    l1_H: float = 0.0
    l2_W: float = 0.0
    l2_H: float = 0.0


def mm_exponent(beta: float) -> float:
    """Exponent of the majorization-minimization multiplicative update (Févotte & Idier,
    2011, Table 2) that makes the β-divergence non-increasing for every β."""
    if beta < 1:
        return 1.0 / (2.0 - beta)
    if beta > 2:
        return 1.0 / (beta - 1.0)
    return 1.0


def mu_ratio(numerator, denominator, factor, l1, l2, gamma):
    """The multiplicative factor [numerator / (denominator + l1 + l2·factor)]^γ, with the
    denominator floored at the dtype's smallest normal number."""
    if l1 or l2:
        denominator = denominator + l1 + l2 * factor
    ratio = numerator / np.maximum(denominator, np.finfo(numerator.dtype).tiny)
    if gamma != 1:
        ratio **= gamma
    return ratio


def _free_index(free: np.ndarray):
    """A slice for 'all components' (no copy when indexing), else the index array."""
    return slice(None) if free.all() else np.flatnonzero(free)


def _projected_gradient_l1(gradient, factor) -> float:
    """Σ|g| where the factor is positive, Σ|min(g, 0)| where it is zero."""
    projected = np.where(factor > 0, gradient, np.minimum(gradient, 0))
    return float(np.abs(projected).sum(dtype=np.float64))


class _FrobeniusCache:
    """Shared Frobenius bookkeeping: the loss from WᵀV, WᵀW and HHᵀ without forming WH.

    ½‖V − WH‖² = ½(‖V‖² − 2⟨WᵀV, H⟩ + ⟨WᵀW, HHᵀ⟩), summed in float64.
    """

    def __init__(self, V, W, H, problem: Problem):
        self.V, self.W, self.H, self.problem = V, W, H, problem
        # in float64, without a float64 copy of V (for sparse V: of its stored entries)
        data = V.data[None, :] if hasattr(V, "indptr") else V
        self.norm_V = dot64(data, data)
        self.rows_H = _free_index(problem.free_H)
        self.cols_W = _free_index(problem.free_W)
        self.update_H = bool(problem.free_H.any())
        self.update_W = bool(problem.free_W.any())

    def _refresh_W_products(self):
        self.WtV = self.W.T @ self.V
        self.WtW = self.W.T @ self.W

    def _loss(self, HHt) -> float:
        # float64 sums: the three terms cancel heavily near a good fit
        cross = dot64(self.WtV, self.H)
        model = dot64(self.WtW, HHt)
        return max(0.5 * (self.norm_V - 2.0 * cross + model), 0.0)

    def start(self) -> float:
        self._refresh_W_products()
        return self._loss(self.H @ self.H.T)

    def violation(self) -> float:
        """Σ|projected gradient| of the objective over the free entries of W and H:
        scikit-learn's coordinate-descent stopping measure (0 at a stationary point).
        Uses the products the last step cached (WᵀV, WᵀW at the current W; VHᵀ, HHᵀ
        at the current H)."""
        W, H, p = self.W, self.H, self.problem
        total = 0.0
        if self.update_H:
            r = self.rows_H
            gradient = self.WtW[r] @ H - self.WtV[r] + p.l1_H + p.l2_H * H[r]
            total += _projected_gradient_l1(gradient, H[r])
        if self.update_W and getattr(self, "HVt", None) is not None:
            c = self.cols_W
            gradient = W @ self.HHt[:, c] - self.HVt[c].T + p.l1_W + p.l2_W * W[:, c]
            total += _projected_gradient_l1(gradient, W[:, c])
        return total


class FrobeniusMU(_FrobeniusCache):
    """Lee & Seung's multiplicative updates for ½‖V − WH‖² (β = 2)."""

    def step(self) -> float:
        W, H, p = self.W, self.H, self.problem
        tiny = np.finfo(W.dtype).tiny
        if self.update_H:
            r = self.rows_H
            denominator = self.WtW[r] @ H
            if p.l1_H or p.l2_H:
                denominator += p.l1_H + p.l2_H * H[r]
            H[r] *= self.WtV[r] / np.maximum(denominator, tiny)
        HHt = H @ H.T
        self.HVt, self.HHt = None, HHt
        if self.update_W:
            # V Hᵀ (a product of V's size) only when W learns: with W fixed (supervised
            # use, block-wise activations) the loss needs WᵀV, WᵀW and HHᵀ alone
            VHt = self.V @ H.T
            self.HVt = VHt.T
            c = self.cols_W
            denominator = W @ HHt[:, c]
            if p.l1_W or p.l2_W:
                denominator += p.l1_W + p.l2_W * W[:, c]
            W[:, c] *= VHt[:, c] / np.maximum(denominator, tiny)
            self._refresh_W_products()
        return self._loss(HHt)


class FrobeniusHALS(_FrobeniusCache):
    """Hierarchical alternating least squares (Cichocki & Phan, 2009) for β = 2, with
    Gillis & Glineur's (2012) acceleration: WᵀV and WᵀW (and VHᵀ, HHᵀ) are computed once
    per outer iteration and reused for several inner sweeps, which cost only k² per
    column.  Every column update is an exact minimization, so the loss never increases.
    """

    #: weight of the inner-sweep budget relative to one product's cost (Gillis & Glineur's α)
    inner_alpha = 0.5
    #: stop inner sweeps once a sweep changes the factor by less than this fraction of the first
    inner_delta = 0.1
    #: hard cap on inner sweeps per outer iteration
    max_inner = 50
    #: restart dead components (see :meth:`_reseed_dead`).  Off: with it on, tests that
    #: compare dense with sparse V, or float32 with float64, to scikit-learn's tolerances
    #: fail (one path restarts a component the other does not); to be made an option.
    restart_dead = False

    def __init__(self, V, W, H, problem: Problem):
        super().__init__(V, W, H, problem)
        F, T = V.shape
        k = W.shape[1]
        # Sweeps a pair of products pays for (Gillis & Glineur, 2012, eq. 3.2): the
        # products cost about F·T·k (nnz·k for sparse V), one sweep about k²·n_rows.
        size = V.nnz if hasattr(V, "indptr") else F * T
        self.inner_H = min(1 + int(self.inner_alpha * (1 + (size + F * k) / (T * (k + 1)))), self.max_inner)
        self.inner_W = min(1 + int(self.inner_alpha * (1 + (size + T * k) / (F * (k + 1)))), self.max_inner)

    @staticmethod
    def _sweep(X, XtY, XtX, rows, l1, l2) -> float:
        """One Gauss-Seidel pass over rows of X (k, n) minimizing
        ½⟨XtX, XXᵀ⟩ − ⟨XtY, X⟩ + l1‖X‖₁ + ½ l2‖X‖² row by row; returns ‖ΔX‖²."""
        change = 0.0
        for j in rows:
            curvature = XtX[j, j] + l2
            if curvature <= 0:  # a zero partner column: this row does not affect the loss
                continue
            gradient = XtX[j] @ X - XtY[j]
            if l1 or l2:
                gradient += l1 + l2 * X[j]
            new = np.maximum(X[j] - gradient / curvature, 0)
            change += float(np.dot(new - X[j], new - X[j]))
            X[j] = new
        return change

    def _inner(self, X, XtY, XtX, rows, l1, l2, n_sweeps):
        if HAVE_NUMBA:  # the same sweeps without a Python loop over rows
            hals_sweeps(X, XtY, XtX, rows, l1, l2, n_sweeps, self.inner_delta)
            return
        first = self._sweep(X, XtY, XtX, rows, l1, l2)
        for _ in range(n_sweeps - 1):
            if self._sweep(X, XtY, XtX, rows, l1, l2) <= self.inner_delta**2 * first:
                break

    def step(self) -> float:
        W, H, p = self.W, self.H, self.problem
        if self.update_H:
            rows = np.flatnonzero(p.free_H)
            self._inner(H, self.WtV, self.WtW, rows, p.l1_H, p.l2_H, self.inner_H)
        HHt = H @ H.T
        self.HHt, self.HVt = HHt, None
        if self.update_W:
            # Work on Wᵀ (k, n_features) so that each column of W is a contiguous row.
            Wt = np.ascontiguousarray(W.T)
            HVt = H @ self.V.T
            self.HVt = HVt
            rows = np.flatnonzero(p.free_W)
            self._inner(Wt, HVt, HHt, rows, p.l1_W, p.l2_W, self.inner_W)
            W[:, rows] = Wt.T[:, rows]
            self._refresh_W_products()
            if self.restart_dead and self._reseed_dead():
                self._refresh_W_products()
        return self._loss(HHt)

    def _reseed_dead(self) -> bool:
        """Restart components that died (a zero column of W or a zero row of H).

        A dead component stays dead under HALS (its partner's curvature is zero), so the
        model silently has fewer components: on image stacks one or two of 64 die in the
        first iterations and the fit plateaus above its attainable error.  The dead
        components get as templates the NNDSVD of the positive residual max(V − WH, 0)
        (what the model misses) and zero activations, so WH and the loss are unchanged;
        the next H sweep sets their activations.  Only components free in both W and H
        are restarted, and only for dense V.  Returns whether any was.
        """
        W, H, p = self.W, self.H, self.problem
        free = p.free_W & p.free_H
        if hasattr(self.V, "indptr") or not free.any():
            return False
        dead = free & (~W.any(axis=0) | ~H.any(axis=1))
        if not dead.any():
            return False
        dead = np.flatnonzero(dead)
        H[dead] = 0  # WH loses nothing: each dead component contributed zero
        W[:, dead] = 0
        residual = np.maximum(self.V - W @ H, 0)
        if not residual.any():
            return False
        seeds, _ = nndsvd_init(residual, dead.size, np.random.default_rng(0), variant="nndsvd")
        W[:, dead] = seeds
        return True


class BetaMU:
    """Févotte & Idier's (2011) multiplicative updates for any β, with the MM exponent
    γ(β) so the β-divergence never increases.

    H ← H ⊙ [Wᵀ(V ⊙ WH^(β−2)) / (Wᵀ WH^(β−1) + l1 + l2 H)]^γ, and symmetrically for W.
    WH is floored at ``problem.eps`` for β < 2 (see :mod:`nmfaudio.nmf.divergence`).
    """

    def __init__(self, V, W, H, problem: Problem):
        self.V, self.W, self.H, self.problem = V, W, H, problem
        self.beta = problem.beta
        self.gamma = mm_exponent(problem.beta)
        self.rows_H = _free_index(problem.free_H)
        self.cols_W = _free_index(problem.free_W)
        self.update_H = bool(problem.free_H.any())
        self.update_W = bool(problem.free_W.any())

    def _model(self) -> np.ndarray:
        WH = self.W @ self.H
        if self.beta < 2:
            np.maximum(WH, self.problem.eps, out=WH)
        return WH

    def _weights(self, WH):
        """(V ⊙ WH^(β−2), WH^(β−1)); the latter is None for β = 1 (all ones)."""
        beta, V = self.beta, self.V
        if beta == 1:
            return V / WH, None
        if beta == 0:
            inverse = 1.0 / WH
            return V * inverse * inverse, inverse
        if beta == 2:
            return V, WH
        return V * WH ** (beta - 2), WH ** (beta - 1)

    #: step(with_loss=False) skips the loss (see the module docstring)
    loss_optional = True

    def _ratio(self, numerator, denominator, factor, l1, l2):
        return mu_ratio(numerator, denominator, factor, l1, l2, self.gamma)

    def start(self) -> float:
        self.WH = self._model()
        return divergence_from_model(self.V, self.WH, self.beta)

    def step(self, with_loss=True) -> float:
        W, H, p = self.W, self.H, self.problem
        if self.update_H:
            r = self.rows_H
            weighted, power = self._weights(self.WH)
            Wr = W[:, r]
            numerator = Wr.T @ weighted
            if power is None:
                denominator = Wr.sum(axis=0)[:, None]
            else:
                denominator = Wr.T @ power
            H[r] *= self._ratio(numerator, denominator, H[r], p.l1_H, p.l2_H)
            self.WH = self._model()
        if self.update_W:
            c = self.cols_W
            weighted, power = self._weights(self.WH)
            Hc = H[c]
            numerator = weighted @ Hc.T
            if power is None:
                denominator = Hc.sum(axis=1)[None, :]
            else:
                denominator = power @ Hc.T
            W[:, c] *= self._ratio(numerator, denominator, W[:, c], p.l1_W, p.l2_W)
            self.WH = self._model()
        return divergence_from_model(self.V, self.WH, self.beta) if with_loss else float("nan")


class FusedBetaMU:
    """:class:`BetaMU`'s updates, computed by one fused, cache-blocked pass per iteration
    (:mod:`nmfaudio.nmf.kernels`): no (n_features, n_samples) temporary, and about 3×
    faster than the NumPy updates for KL and IS on one core (more on several).  Same arithmetic, so the same results to float32
    rounding (tests/test_kernels.py compares it with :class:`BetaMU`).

    The pass over (W_i, H_i) yields loss_i, H_{i+1} and the products for W_{i+1}.  So
    ``step()`` first commits the update the previous pass prepared, then runs the pass
    over the new factors to get its loss (and, speculatively, the next update).  The
    factors always hold the iterate whose loss was returned last; the one speculative
    pass after the final iteration replaces the separate loss pass the plain updates
    need at the start.  ``step(with_loss=False)`` runs the pass without its loss terms
    (6–16 % of an Itakura-Saito pass, 7–20 % of a KL pass; H and the W products
    bit-identical, docs/performance.md 2026-12-01 "the loss every 10th MU iteration").
    """

    #: step(with_loss=False) skips the loss (see the module docstring)
    loss_optional = True

    def __init__(self, V, W, H, problem: Problem):
        self.W, self.H, self.problem = W, H, problem
        self.gamma = mm_exponent(problem.beta)
        self.cols_W = _free_index(problem.free_W)
        self.update_W = bool(problem.free_W.any())
        self.H_next = np.empty_like(H)
        self.pass_ = make_pass(
            V,
            W.shape[1],
            beta=problem.beta,
            gamma=self.gamma,
            eps=problem.eps if problem.beta < 2 else 0.0,  # BetaMU floors WH only for β < 2
            free_H=problem.free_H,
            l1_H=problem.l1_H,
            l2_H=problem.l2_H,
            update_W=self.update_W,
        )
        # the W update in one compiled loop (extrapolated._w_step without extrapolation):
        # the tasks' products summed, the ratio, power and flush — the NumPy form's dozen
        # calls and temporaries cost 0.02–0.16× the GEMM floor per iteration at k = 8–32
        # (docs/performance.md, 2026-12-01 "the loss every 10th MU iteration")
        dt = W.dtype.type
        self._w_scalars = (dt(problem.l1_W), dt(problem.l2_W), dt(self.gamma), dt(np.finfo(W.dtype).tiny),
                           dt(flush_level(W.dtype)))
        self._mask_W = np.ascontiguousarray(problem.free_W, dtype=np.bool_)
        self._W_new, self._W_scratch = np.empty(W.shape, W.dtype), np.empty(W.shape, W.dtype)

    def start(self) -> float:
        return self.pass_.run(self.W, self.H, self.H_next)

    def step(self, with_loss=True) -> float:
        W = self.W
        self.H[...] = self.H_next
        if self.update_W:
            l1, l2, gamma, tiny, level = self._w_scalars
            W_in = np.ascontiguousarray(W)  # _w_step runs flat over C-ordered (F, k) arrays
            numerator, denominator = self.pass_.task_products()
            # W ← W ⊙ [Σ_t num_t / max(Σ_t den_t + l1 + l2 W, tiny)]^γ, flushed (as
            # mu_ratio and flush_subnormal); frozen columns copied
            _w_step(self._W_new, self._W_scratch, W_in, W_in, numerator, denominator, self._mask_W, l1, l2,
                    gamma, tiny, level, False, level, level)
            W[...] = self._W_new
        return self.pass_.run(W, self.H, self.H_next, with_loss=with_loss)


class SparseBetaMU:
    """:class:`BetaMU`'s updates for a CSR V (β > 0, β ≠ 2), computed on V's stored
    entries with the helpers of :mod:`nmfaudio.nmf.sparse` (see its docstring)."""

    def __init__(self, V, W, H, problem: Problem):
        import scipy.sparse

        self._csr = scipy.sparse.csr_array
        self.V, self.W, self.H, self.problem = V, W, H, problem
        self.beta = problem.beta
        self.gamma = mm_exponent(problem.beta)
        # As scikit-learn does for sparse X: the model at V's entries is floored for β < 2
        # (V·WH^(β−2)); (WH)^(β−1) at every entry only for β < 1, where it has a negative
        # power; Σ(WH)^β in the divergence never.
        self.eps = problem.eps if problem.beta < 2 else 0.0
        self.power_eps = problem.eps if problem.beta < 1 else 0.0
        self.rows = entry_rows(V)
        self.cols = V.indices
        self.rows_H = _free_index(problem.free_H)
        self.cols_W = _free_index(problem.free_W)
        self.update_H = bool(problem.free_H.any())
        self.update_W = bool(problem.free_W.any())
        self.wh = np.empty(V.data.shape[0], dtype=V.dtype)
        self.Wt_power = None  # Wᵀ(WH)^(β−1) at the current factors, when computed

    def _model(self):
        model_at_entries(self.W, self.H, self.rows, self.cols, out=self.wh, indptr=self.V.indptr)
        if self.eps > 0:
            np.maximum(self.wh, self.eps, out=self.wh)

    def _weighted(self):
        """V ⊙ WH^(β−2) at V's entries, as a CSR matrix with V's structure."""
        data = self.V.data / self.wh if self.beta == 1 else self.V.data * self.wh ** (self.beta - 2)
        return self._csr((data, self.V.indices, self.V.indptr), shape=self.V.shape)

    def _loss(self) -> float:
        if self.beta == 1:
            return sparse_divergence(self.V, self.wh, self.W, self.H, 1.0, self.eps)
        # One pass gives Σ(WH)^β for the loss and Wᵀ(WH)^(β−1) for the next H update.
        self.Wt_power, _, total = dense_power_products(
            self.W, self.H, self.beta - 1, self.power_eps, for_H=self.update_H, with_sum_beta=self.beta)
        return sparse_divergence(self.V, self.wh, self.W, self.H, self.beta, self.eps, sum_wh_beta=total)

    def start(self) -> float:
        self._model()
        return self._loss()

    def step(self) -> float:
        W, H, p = self.W, self.H, self.problem
        if self.update_H:
            r = self.rows_H
            Wr = W[:, r]
            numerator = (self._weighted().T @ Wr).T
            if self.beta == 1:
                denominator = Wr.sum(axis=0)[:, None]
            else:
                denominator = self.Wt_power[r]
            H[r] *= mu_ratio(numerator, denominator, H[r], p.l1_H, p.l2_H, self.gamma)
            self._model()
        if self.update_W:
            c = self.cols_W
            Hc = H[c]
            numerator = self._weighted() @ Hc.T
            if self.beta == 1:
                denominator = Hc.sum(axis=1)[None, :]
            else:
                denominator = dense_power_products(W, H, self.beta - 1, self.power_eps, for_W=Hc)[1]
            W[:, c] *= mu_ratio(numerator, denominator, W[:, c], p.l1_W, p.l2_W, self.gamma)
            self._model()
        return self._loss()


def make_mu(V, W, H, problem: Problem):
    """Multiplicative updates: the Frobenius form (no WH needed) for β = 2, else β-MU —
    the fused kernels when numba is available, the plain NumPy updates otherwise."""
    if problem.beta == 2:
        return FrobeniusMU(V, W, H, problem)
    if hasattr(V, "indptr"):  # scipy.sparse (CSR): computed on the stored entries only
        return SparseBetaMU(V, W, H, problem)
    if HAVE_NUMBA:
        return FusedBetaMU(V, W, H, problem)
    return BetaMU(V, W, H, problem)


#: Frobenius HALS iterations of the warm start of "amu" (0: none), and the fraction of its
#: component's largest entry a warm-started entry keeps at least (see frobenius_warm_start).
WARM_ITERATIONS = 4
WARM_LIFT = 1e-2


def frobenius_warm_start(V, W, H, problem: Problem, n_iter: int | None = None, lift: float | None = None):
    """A few Frobenius HALS iterations from (W, H): the warm start of "amu" for β ≠ 2.

    HALS reaches scikit-learn MU's 200-iteration Frobenius loss in ~4 iterations, each
    about a third of a β pass; from its pair the β-divergence MU needs far fewer
    iterations than from a random start (docs/engine.md).  HALS sets entries to exactly
    zero, and a multiplicative update never revives a zero, so each free component's
    entries are lifted to at least ``lift`` times its largest entry; a component HALS
    zeroed entirely gets its starting values back.  Frozen components are untouched.

    Parameters
    ----------
    V : ndarray, shape (n_features, n_samples)
    W : ndarray, shape (n_features, k)
    H : ndarray, shape (k, n_samples)
        Not modified.
    problem : Problem
        Its free components are updated; its penalties are not used (the caller skips
        the warm start for penalized problems).
    n_iter, lift : optional
        HALS iterations and lift fraction (default :data:`WARM_ITERATIONS`, :data:`WARM_LIFT`).

    Returns
    -------
    W, H : ndarray
        New arrays of the same shapes and dtype.
    """
    n_iter = WARM_ITERATIONS if n_iter is None else n_iter
    lift = WARM_LIFT if lift is None else lift
    W_new, H_new = W.copy(), H.copy()
    hals = FrobeniusHALS(V, W_new, H_new, Problem(beta=2.0, free_W=problem.free_W, free_H=problem.free_H, eps=0.0))
    hals.start()
    for _ in range(n_iter):
        hals.step()
    for factor, start, free, axis in ((W_new, W, problem.free_W, 0), (H_new, H, problem.free_H, 1)):
        for c in np.flatnonzero(free):
            index = (slice(None), c) if axis == 0 else (c, slice(None))
            largest = factor[index].max()
            if largest > 0:
                np.maximum(factor[index], factor.dtype.type(lift * largest), out=factor[index])
            else:
                factor[index] = start[index]
    return W_new, H_new


def make_amu(V, W, H, problem: Problem):
    """Extrapolated multiplicative updates (:mod:`nmfaudio.nmf.extrapolated`) for β ≠ 2,
    warm-started by :func:`frobenius_warm_start` (not for penalized problems); plain "mu"
    for a scipy.sparse V (the fused pass needs dense V)."""
    if problem.beta == 2:
        raise ValueError("solver='amu' is for beta != 2; use solver='hals' for the Frobenius loss")
    if not HAVE_NUMBA:
        raise ValueError("solver='amu' needs numba (pip install numba); use solver='mu'")
    if hasattr(V, "indptr"):
        return make_mu(V, W, H, problem)
    gamma = mm_exponent(problem.beta)
    penalized = problem.l1_W or problem.l1_H or problem.l2_W or problem.l2_H
    warm = None
    if WARM_ITERATIONS and not penalized and (problem.free_W.any() or problem.free_H.any()):
        def warm(W_start, H_start):
            return frobenius_warm_start(V, W_start, H_start, problem)
    return ExtrapolatedBetaMU(V, W, H, problem, gamma=gamma, ratio=mu_ratio,
                              relaxed_gamma=relaxed_exponent(problem.beta, gamma), warm_start=warm, compiled=True)


def make_hals(V, W, H, problem: Problem):
    """HALS; defined for the Frobenius loss only."""
    if problem.beta != 2:
        raise ValueError(
            f"solver='hals' minimizes the Frobenius loss only (beta=2), got beta={problem.beta:g}; "
            "use solver='mu' for other divergences"
        )
    return FrobeniusHALS(V, W, H, problem)


#: Solvers by name.  ``"auto"`` (resolved in :func:`nmfaudio.factorize`) picks HALS for
#: β = 2, where it reaches a given loss several times sooner than MU (see
#: benchmarks/engine.py), and for every other β the extrapolated MU of
#: :mod:`nmfaudio.nmf.extrapolated` (plain MU without numba).  "ccd"
#: (:mod:`nmfaudio.nmf.cd`) is coordinate descent for KL and IS, on request.
SOLVERS = {"mu": make_mu, "hals": make_hals, "ccd": make_cd, "amu": make_amu}


def resolve_solver(solver: str, beta: float) -> str:
    """Return the solver name ``"auto"`` stands for, or ``solver`` if it is known."""
    if solver == "auto":
        return "hals" if beta == 2 else "amu" if HAVE_NUMBA else "mu"
    if solver not in SOLVERS:
        names = ", ".join(repr(n) for n in ("auto", *SOLVERS))
        raise ValueError(f"solver={solver!r} is not known; use one of {names}")
    return solver
