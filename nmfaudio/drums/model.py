"""The drum model: semi-supervised NMFD (convolutive NMF) with adapting templates, and
the residual's free components.  Arrays only; see :mod:`nmfaudio.drums.separation` for
how it is used."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nmfaudio.nmf import convolutive, kernels

#: Frequency bins kept single before the 1/24-octave bands start (see _band_edges).
BAND_LINEAR_BINS = 48
BANDS_PER_OCTAVE = 24

def _band_edges(n_freq: int) -> np.ndarray:
    """Band edges (bin indices, increasing, from 0 to n_freq): single bins below
    BAND_LINEAR_BINS, then bands of 1/BANDS_PER_OCTAVE octave."""
    edges = list(range(min(BAND_LINEAR_BINS, n_freq) + 1))
    edge = edges[-1]
    while edge < n_freq:
        edge = min(n_freq, max(edge + 1, int(round(edge * 2 ** (1 / BANDS_PER_OCTAVE)))))
        edges.append(edge)
    return np.asarray(edges)


def _shift(H: np.ndarray, T: int) -> np.ndarray:
    """(K, C, N) activations → (T·K, C·N): row τ·K + k is H[k] delayed by τ frames
    (within each channel)."""
    K, C, N = H.shape
    out = np.zeros((T, K, C, N), dtype=H.dtype)
    for tau in range(min(T, N)):  # lags beyond a short clip's end stay zero
        out[tau, :, :, tau:] = H[:, :, :N - tau]
    return out.reshape(T * K, C * N)


def _unshift(G: np.ndarray, T: int, K: int, C: int, N: int) -> np.ndarray:
    """Adjoint of :func:`_shift`: (T·K, C·N) → (K, C, N), Σ_τ G[τ, :, :, t + τ]."""
    G = G.reshape(T, K, C, N)
    out = G[0].copy()
    for tau in range(1, min(T, N)):
        out[:, :, :N - tau] += G[tau, :, :, tau:]
    return out


def _weights(V, L, beta):
    """(V ⊙ L^(β−2), L^(β−1)) of the β-divergence gradient; the second is None for β = 1
    (all ones)."""
    if beta == 1:
        return V / L, None
    if beta == 0.5:
        root = np.sqrt(L)
        return V / (L * root), 1.0 / root
    if beta == 2:
        return V, L
    return V * L ** (beta - 2), L ** (beta - 1)


@dataclass
class _Fit:
    P: np.ndarray  # (F, K, T) drum templates, each summing to 1
    H: np.ndarray  # (K, C, N) drum activations
    W_free: np.ndarray  # (F, n_free)
    H_free: np.ndarray  # (n_free, C·N)
    loss: list
    n_iter: int
    stopped: bool


class _NMFD:
    """Semi-supervised NMFD under a β-divergence (0 ≤ β ≤ 2):

    ``V (F, C·N) ≈ Σ_τ W_τ shift_τ(H) + W_free H_free``, with drum templates
    ``W_τ = P[:, :, τ]`` (F, K) and activations H (K, C, N) delayed within each channel.

    Multiplicative updates (Févotte & Idier 2011, applied to the convolutive model as in
    Smaragdis 2004 and libnmfd), with the MM exponent 1/(2 − β) for β < 1.  After each
    template update every drum template is renormalized to unit sum (its scale moves into
    H) and, with ``cap``, clipped to at most ``cap`` (F, T·K) — ``max_gain`` times its
    start — then renormalized again.
    """

    def __init__(self, V, P0, H, *, beta, W_free=None, H_free=None, cap=None):
        self.F, self.C, self.N = V.shape
        _, self.K, self.T = P0.shape
        self.dtype = np.float32
        self.eps = self.dtype(max(float(V.max()), 1e-30) * 1e-9)
        self.V = V.reshape(self.F, self.C * self.N).astype(self.dtype, copy=False)
        if beta < 1:
            self.V = np.maximum(self.V, self.eps)  # Itakura-Saito-like divergences need V > 0
        self.W = np.ascontiguousarray(P0.transpose(0, 2, 1).reshape(self.F, self.T * self.K), dtype=self.dtype)
        self.H = H.astype(self.dtype)
        self.W_free, self.H_free = W_free, H_free
        self.cap = None if cap is None else cap.transpose(0, 2, 1).reshape(self.F, self.T * self.K)
        self.beta = beta
        self.gamma = 1.0 / (2.0 - beta) if beta < 1 else 1.0
        self._current_model = None  # set by loss(), used and cleared by step()
        self._eps_row = np.full((1, self.C * self.N), self.eps, dtype=self.dtype)

    def model(self, Hs=None):
        L = self.W @ (_shift(self.H, self.T) if Hs is None else Hs)
        if self.W_free is not None:
            L += self.W_free @ self.H_free
        # against a row of eps, not the scalar: NumPy's scalar-operand maximum is not
        # vectorized and took 6× longer here (0.9 vs 0.15 ms for 155 × 7750 float32)
        return np.maximum(L, self._eps_row, out=L)

    def loss(self) -> float:
        """The divergence of the current factors; their model is kept for the next step."""
        self._current_model = self.model()
        return kernels.divergence(self.V, self._current_model, self.beta)

    def forget(self) -> None:
        """Drop what :meth:`loss` prepared for the next step (after changing factors by hand)."""
        self._current_model = None

    def _take_model(self):
        """The current factors' model: the one :meth:`loss` just built, else a new one."""
        L, self._current_model = self._current_model, None
        return self.model() if L is None else L

    def _ratio(self, numerator, denominator):
        ratio = numerator / np.maximum(denominator, np.finfo(self.dtype).tiny)
        return ratio if self.gamma == 1 else ratio ** self.gamma

    def step(self, *, adapt_drums: bool, update_drums: bool = True) -> None:
        """One iteration: activations (drums if ``update_drums``, and free ones), then
        templates (drums if ``adapt_drums``, and free ones)."""
        T, K, C, N = self.T, self.K, self.C, self.N
        A, B = _weights(self.V, self._take_model(), self.beta)
        if self.W_free is not None:
            free_num = self.W_free.T @ A
            free_den = self.W_free.sum(axis=0)[:, None] if B is None else self.W_free.T @ B
        if update_drums:
            numerator = _unshift(self.W.T @ A, T, K, C, N)
            if B is None:
                ones = np.broadcast_to(self.W.sum(axis=0)[:, None], (T * K, C * N))
                denominator = _unshift(np.ascontiguousarray(ones), T, K, C, N)
            else:
                denominator = _unshift(self.W.T @ B, T, K, C, N)
            self.H *= self._ratio(numerator, denominator)
        if self.W_free is not None:
            self.H_free *= self._ratio(free_num, free_den)
        if not adapt_drums and self.W_free is None:
            return
        Hs = _shift(self.H, T)
        A, B = _weights(self.V, self.model(Hs), self.beta)
        if adapt_drums:
            denominator = Hs.sum(axis=1)[None, :] if B is None else B @ Hs.T
            self.W *= self._ratio(A @ Hs.T, denominator)
            self._renormalize()
            if self.cap is not None:
                np.minimum(self.W, self.cap, out=self.W)
                self._renormalize()
        if self.W_free is not None:
            denominator = self.H_free.sum(axis=1)[None, :] if B is None else B @ self.H_free.T
            self.W_free *= self._ratio(A @ self.H_free.T, denominator)

    def _renormalize(self) -> None:
        Wr = self.W.reshape(self.F, self.T, self.K)
        sums = Wr.sum(axis=(0, 1))
        sums = np.where(sums > 0, sums, 1).astype(self.dtype)
        Wr /= sums
        self.H *= sums[:, None, None]

    @property
    def P(self) -> np.ndarray:
        return np.ascontiguousarray(self.W.reshape(self.F, self.T, self.K).transpose(0, 2, 1))


class _CompiledKLNMFD(_NMFD):
    """:class:`_NMFD` for β = 1 with each half-step one compiled, cache-blocked pass over V
    (:mod:`nmfaudio.nmf.convolutive`): the same updates; the whole fit (with the residual's
    NumPy NMF) took 0.6 s instead of 0.8 s on a 3-minute file and 2.1 s instead of 3.2 s on
    a 10-minute one, and its memory traffic no longer grows with a dozen full-size arrays.  :meth:`loss` runs the activation half-step's pass, which yields
    the loss of the current factors and their updated activations; :meth:`step` commits
    them and runs the template pass."""

    def __init__(self, V, P0, H, **kwargs):
        super().__init__(V, P0, H, **kwargs)
        self.V = np.ascontiguousarray(self.V)
        self._prepared = None

    def forget(self) -> None:
        """Drop the pass :meth:`loss` prepared (after changing factors by hand)."""
        self._prepared = None

    def _templates(self) -> np.ndarray:
        """[W | W_free] (F, T·K + n_free)."""
        if self.W_free is None:
            return self.W
        return np.ascontiguousarray(np.hstack([self.W, self.W_free]), dtype=self.dtype)

    def _free_activations(self) -> np.ndarray:
        return self.H_free if self.H_free is not None else np.zeros((0, self.C * self.N), self.dtype)

    def _h_pass(self):
        T, K, N = self.T, self.K, self.N
        column_sums = self.W.sum(axis=0).reshape(T, K)
        denominator = np.zeros((K, N), self.dtype)  # unshift of the ones (as the NumPy step)
        for tau in range(min(T, N)):
            denominator[:, :N - tau] += column_sums[tau][:, None]
        return convolutive.h_pass(self.V, self._templates(), self.H, self._free_activations(), T, self.eps,
                                  denominator, True)

    def loss(self) -> float:
        self._prepared = self._h_pass()
        return self._prepared[0]

    def step(self, *, adapt_drums: bool, update_drums: bool = True) -> None:
        T, K = self.T, self.K
        prepared, self._prepared = self._prepared, None
        _, H_next, H_free_next = prepared if prepared is not None else self._h_pass()
        if update_drums:
            self.H = H_next
        if self.W_free is not None:
            self.H_free = H_free_next
        if not adapt_drums and self.W_free is None:
            return
        numerators = convolutive.w_pass(self.V, self._templates(), self.H, self._free_activations(), T, self.eps)
        if adapt_drums:
            # row sums of the shifted activations: lag τ drops each channel's last τ frames
            # (float64 running sums: a float32 one drifts by ~1e-5 over 10⁵ frames)
            cumulative = np.cumsum(self.H.sum(axis=1, dtype=np.float64), axis=1)  # (K, N)
            denominator = np.zeros((T, K))
            for tau in range(min(T, self.N)):
                denominator[tau] = cumulative[:, self.N - 1 - tau]
            self.W *= self._ratio(numerators[:, :T * K], denominator.reshape(1, T * K).astype(self.dtype))
            self._renormalize()
            if self.cap is not None:
                np.minimum(self.W, self.cap, out=self.W)
                self._renormalize()
        if self.W_free is not None:
            self.W_free *= self._ratio(numerators[:, T * K:], self.H_free.sum(axis=1)[None, :])


#: Iterations of the residual's NMF (on what the drums leave unexplained) and of its
#: refinement against V with the drum model frozen (``n_free > 0``).
FREE_ITER = (20, 20)


def _fit(V, P0, *, beta, max_iter, adapt, max_gain, n_free, rng, callback) -> _Fit:
    """Fit the drums, then (with ``n_free``) the residual's free components to V (F, C, N):
    an NMF of what the drum model leaves unexplained, refined against V with the drum
    model frozen — so the residual takes only what the drums do not explain."""
    F, C, N = V.shape
    K = P0.shape[1]
    H = (0.5 + rng.random((K, C, N))).astype(np.float32)
    cap = None if (max_gain is None or not adapt) else (P0 * np.float32(max_gain))
    model = _CompiledKLNMFD if (beta == 1 and kernels.HAVE_NUMBA) else _NMFD
    nmfd = model(V, P0, H, beta=beta, cap=cap)
    nmfd.H *= np.float32(nmfd.V.mean() / max(float(nmfd.model().mean()), 1e-30))
    loss = [nmfd.loss()]
    stopped = False
    for iteration in range(1, max_iter + 1):
        nmfd.step(adapt_drums=adapt)
        loss.append(nmfd.loss())
        if callback is not None and callback(iteration, loss[-1]):
            stopped = True
            break
    n_iter = len(loss) - 1
    W_free = np.zeros((F, 0), np.float32)
    H_free = np.zeros((0, C * N), np.float32)
    if n_free and not stopped:
        W_free, H_free = _residual_nmf(nmfd.V - nmfd.model(), n_free, beta=beta, n_iter=FREE_ITER[0], rng=rng)
        nmfd.W_free, nmfd.H_free = W_free, H_free
        nmfd.forget()  # the model now includes the free components
        for _ in range(FREE_ITER[1]):
            nmfd.step(adapt_drums=False, update_drums=False)
            loss.append(nmfd.loss())
            n_iter += 1
            if callback is not None and callback(n_iter, loss[-1]):
                break
    if nmfd.W_free is not None:
        W_free, H_free = nmfd.W_free, nmfd.H_free
    return _Fit(nmfd.P, nmfd.H, W_free, H_free, loss, n_iter, stopped)


def _residual_nmf(R, n_free, *, beta, n_iter, rng):
    """A KL NMF of max(R, 0): the starting free components (F, n_free), (n_free, M)."""
    R = np.maximum(R, 0).astype(np.float32)
    F, M = R.shape
    W = (0.1 + rng.random((F, n_free))).astype(np.float32)
    H = (0.1 + rng.random((n_free, M))).astype(np.float32)
    H *= np.float32(max(float(R.mean()), 1e-30) / max(float((W @ H).mean()), 1e-30))
    eps = np.float32(max(float(R.max()), 1e-30) * 1e-9)
    eps_row = np.full((1, M), eps, dtype=np.float32)  # see _NMFD.model: faster than a scalar
    for _ in range(n_iter):
        H *= (W.T @ (R / np.maximum(W @ H, eps_row))) / np.maximum(W.sum(axis=0)[:, None], eps)
        W *= ((R / np.maximum(W @ H, eps_row)) @ H.T) / np.maximum(H.sum(axis=1)[None, :], eps)
    return W, H
