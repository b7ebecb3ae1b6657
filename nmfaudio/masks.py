"""Time-frequency masks that partition a mixture among NMF components.

Component ``k`` models the magnitude ``S_k = W[:, k] H[k]`` (an outer product,
shape (n_freq, n_frames)).  Its soft mask is

    M_k = S_k^p / Σ_j S_j^p

(``p = 1``: ratio mask, ``p = 2``: Wiener-like mask, ``p → ∞``: the binary mask).  The
masks are non-negative and sum to exactly 1 in every bin — also where every component is
zero, where each gets ``1 / k`` — so ``Σ_k M_k X = X``: the separated tracks add back up
to the mixture, with no energy lost or invented.  The binary mask gives each bin wholly to
its loudest component (ties, including all-zero bins, go to the lowest index).

Arrays only: no audio or file knowledge here.
"""

from __future__ import annotations

import math

import numpy as np

from nmfaudio._validation import check_number, is_real
from nmfaudio.nmf.kernels import HAVE_NUMBA, numba

__all__ = ["component_spectrograms", "soft_masks", "spectrogram_masks", "binary_masks", "masks", "check_mask_power"]


def _check_factors(W, H) -> tuple[np.ndarray, np.ndarray]:
    W = np.asarray(W)
    H = np.asarray(H)
    for name, array in (("W", W), ("H", H)):
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name} has dtype {array.dtype}; it must hold real non-negative numbers")
    if W.ndim != 2 or H.ndim != 2:
        raise ValueError(
            f"W must be (n_freq, k) and H (k, n_frames); got shapes {W.shape} and {H.shape}"
        )
    if W.shape[1] != H.shape[0]:
        raise ValueError(f"W has {W.shape[1]} columns but H has {H.shape[0]} rows; they must match (k)")
    if W.shape[1] == 0:
        raise ValueError("W and H have no components; k must be >= 1")
    dtype = np.result_type(W.dtype, H.dtype, np.float32)
    W = W.astype(dtype, copy=False)
    H = H.astype(dtype, copy=False)
    for name, array in (("W", W), ("H", H)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} holds NaN or infinite values; the factorization failed")
        if array.size and array.min() < 0:
            raise ValueError(f"{name} has negative values (min {array.min():.3g}); masks need non-negative factors")
    return W, H


def _check_power(power) -> float:
    return check_number(power, "mask_power", minimum=0, strict=True,
                        expected="a finite number > 0 (1: ratio mask, 2: Wiener)")


def component_spectrograms(W, H) -> np.ndarray:
    """Each component's modelled magnitude ``W[:, k] H[k]``.

    Parameters
    ----------
    W : ndarray, shape (n_freq, k)
    H : ndarray, shape (k, n_frames)

    Returns
    -------
    ndarray, shape (k, n_freq, n_frames)
    """
    W, H = _check_factors(W, H)
    return W.T[:, :, None] * H[:, None, :]


def soft_masks(W, H, *, power: float = 1.0) -> np.ndarray:
    """Soft masks ``(W_k H_k)^p / Σ_j (W_j H_j)^p``; bins where every component is zero
    are split equally.

    Computed as ``(S_k / max_j S_j)^p`` normalised by its sum, so large powers neither
    overflow nor underflow to 0/0.  Factors whose products ``W_fk H_kt`` would overflow
    or fall below the smallest normal float (e.g. float32 templates near 1e-20 times
    activations near 1e-25, common after KL or IS fits) are handled in the log domain, in
    float64, so no bin loses its split to rounding.

    Parameters
    ----------
    W : ndarray, shape (n_freq, k)
    H : ndarray, shape (k, n_frames)
    power : float > 0, default 1.0

    Returns
    -------
    ndarray, shape (k, n_freq, n_frames), values in [0, 1], summing to 1 over axis 0
    """
    power = _check_power(power)
    W, H = _check_factors(W, H)
    if not _products_representable(W, H):
        return _log_domain_masks(W, H, power)
    return spectrogram_masks(component_spectrograms(W, H), power=power)


def spectrogram_masks(S: np.ndarray, *, power: float = 1.0, overwrite: bool = False) -> np.ndarray:
    """Soft masks ``S_k^p / Σ_j S_j^p`` from modelled magnitudes ``S`` (for models that
    are not one outer product per component, e.g. convolutive drum templates); bins
    where every ``S_k`` is zero are split equally.

    Parameters
    ----------
    S : ndarray, shape (k, ...), non-negative and finite
    power : float > 0, default 1.0
    overwrite : bool, default False
        Write the masks into ``S`` when it is a C-contiguous float array (no second array
        of its size: long recordings); S is then lost.

    Returns
    -------
    ndarray, shape of S, values in [0, 1], summing to 1 over axis 0
    """
    S = np.asarray(S)
    if HAVE_NUMBA and S.dtype in (np.float32, np.float64) and S.ndim >= 2 and S.size:
        # in place is safe: the kernel reads each entry of S before it writes the same entry
        out = S if overwrite and S.flags.c_contiguous and S.flags.writeable else np.empty(S.shape, S.dtype)
        _normalized_powers(np.ascontiguousarray(S).reshape(S.shape[0], -1), S.dtype.type(power),
                           out.reshape(S.shape[0], -1))
        return out
    peak = S.max(axis=0)
    silent = peak <= 0
    ratio = S / np.where(silent, 1, peak)  # in [0, 1]; the loudest component is 1
    if power == 1.5:  # the drums' default: x·√x is ~5× faster than x ** 1.5
        ratio *= np.sqrt(ratio)
    elif power != 1:
        ratio **= power
    ratio[:, silent] = 1.0  # all components zero: equal split
    ratio /= ratio.sum(axis=0)  # the sum is >= 1 (the loudest), never 0
    return ratio


if HAVE_NUMBA:

    @numba.njit(nogil=True, cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
    def _normalized_powers(S, power, out):
        """out = spectrogram_masks(S) for S (k, n), a chunk of bins at a time while it is
        in cache: one read of S and one write of out instead of six full NumPy passes.
        Divides by the peak like the NumPy code (a subnormal peak has no finite
        reciprocal) and multiplies by 1 / total (≥ 1, so exact to ~1 ulp)."""
        k, n = S.shape
        chunk = 512
        peak = np.empty(chunk, S.dtype)
        inverse = np.empty(chunk, S.dtype)
        total = np.empty(chunk, S.dtype)
        ratio = np.empty(chunk, S.dtype)
        one, zero = S.dtype.type(1), S.dtype.type(0)
        share = S.dtype.type(1.0 / k)
        for j0 in range(0, n, chunk):
            m = min(chunk, n - j0)
            for j in range(m):
                peak[j] = S[0, j0 + j]
                total[j] = zero
            for kk in range(1, k):
                for j in range(m):
                    peak[j] = max(peak[j], S[kk, j0 + j])
            for j in range(m):  # silent bins: every ratio 0, fixed below
                peak[j] = peak[j] if peak[j] > zero else one
            for kk in range(k):
                row, source = out[kk, j0:j0 + m], S[kk, j0:j0 + m]
                # the ratios go to a buffer of their own first: out may be S itself, and a
                # loop reading and writing the same memory is not vectorized (2.3x slower
                # at power 1.5; the same values)
                if power == 1.5:
                    for j in range(m):
                        r = source[j] / peak[j]
                        ratio[j] = r * math.sqrt(r)
                elif power == 2:
                    for j in range(m):
                        r = source[j] / peak[j]
                        ratio[j] = r * r
                elif power == 1:
                    for j in range(m):
                        ratio[j] = source[j] / peak[j]
                else:
                    for j in range(m):
                        ratio[j] = (source[j] / peak[j]) ** power
                for j in range(m):
                    row[j] = ratio[j]
                    total[j] += ratio[j]
            for j in range(m):  # the loudest gives >= 1; 0 only in silent bins
                inverse[j] = one / total[j] if total[j] > zero else zero
            for kk in range(k):
                row = out[kk, j0:j0 + m]
                for j in range(m):
                    row[j] = row[j] * inverse[j] if total[j] > zero else share


def binary_masks(W, H) -> np.ndarray:
    """Binary masks: each bin goes wholly to the component with the largest ``W_k H_k``
    (ties, including bins where all are zero, to the lowest index).

    Parameters
    ----------
    W : ndarray, shape (n_freq, k)
    H : ndarray, shape (k, n_frames)

    Returns
    -------
    ndarray of W's float dtype, shape (k, n_freq, n_frames), values 0 or 1, summing to 1 over axis 0
    """
    W, H = _check_factors(W, H)
    if not _products_representable(W, H):
        return _log_domain_masks(W, H, "binary")
    S = component_spectrograms(W, H)
    winner = S.argmax(axis=0)
    return (np.arange(S.shape[0])[:, None, None] == winner[None]).astype(W.dtype)


def _products_representable(W: np.ndarray, H: np.ndarray) -> bool:
    """True when every product ``W[f, k] H[k, t]`` of positive entries is a normal float of
    their dtype: no overflow (also of the sum over k), no underflow to 0 or subnormals."""
    positive_W, positive_H = W[W > 0], H[H > 0]
    if positive_W.size == 0 or positive_H.size == 0:
        return True  # every product is exactly 0
    info = np.finfo(W.dtype)
    # in logs: the extreme products themselves may not be floats
    smallest = math.log(float(positive_W.min())) + math.log(float(positive_H.min()))
    largest = math.log(float(positive_W.max())) + math.log(float(positive_H.max()))
    return smallest >= math.log(float(info.tiny)) and largest < math.log(float(info.max) / W.shape[1])


#: Bytes of float64 scratch the log-domain masks use at a time (they work frame block by
#: frame block).
_LOG_CHUNK_BYTES = 64 * 2**20


def _log_domain_masks(W: np.ndarray, H: np.ndarray, power) -> np.ndarray:
    """:func:`soft_masks` (or, for ``power="binary"``, :func:`binary_masks`) computed from
    ``log W + log H`` in float64, for factors whose products over- or underflow."""
    k, n_freq, n_frames = W.shape[1], W.shape[0], H.shape[1]
    with np.errstate(divide="ignore"):
        log_W, log_H = np.log(W.astype(np.float64)), np.log(H.astype(np.float64))  # -inf for zeros
    out = np.empty((k, n_freq, n_frames), dtype=W.dtype)
    step = max(1, _LOG_CHUNK_BYTES // (8 * k * max(n_freq, 1)))
    for start in range(0, n_frames, step):
        L = log_W.T[:, :, None] + log_H[:, None, start:start + step]
        if power == "binary":
            winner = L.argmax(axis=0)  # all -inf (silent): index 0
            out[:, :, start:start + step] = np.arange(k)[:, None, None] == winner[None]
            continue
        peak = L.max(axis=0)
        silent = np.isneginf(peak)
        L -= np.where(silent, 0.0, peak)  # the loudest component is 0; zero products stay -inf
        L *= power
        ratio = np.exp(L, out=L)
        ratio[:, silent] = 1.0
        ratio /= ratio.sum(axis=0)
        out[:, :, start:start + step] = ratio
    return out


def masks(W, H, *, power: float | str = 1.0) -> np.ndarray:
    """Soft masks of ``power`` (a number > 0), or binary masks for ``power="binary"``
    (also ``float("inf")``).

    Returns
    -------
    ndarray, shape (k, n_freq, n_frames), summing to 1 over axis 0
    """
    power = check_mask_power(power)
    if power == "binary":
        return binary_masks(W, H)
    return soft_masks(W, H, power=power)


def check_mask_power(power):
    """Return ``power`` as a float > 0, or ``"binary"`` (also for ``float("inf")``, and in
    any case and spacing — ``" Binary"`` —, as ``--mask-power`` and ``beta=``'s names take
    it; before 2026-12-06, tour18, Python refused what the command line took)."""
    if isinstance(power, str):
        if power.strip().lower() != "binary":
            raise ValueError(f"mask_power={power!r} must be a number > 0 or 'binary'")
        return "binary"
    if is_real(power) and power == float("inf"):
        return "binary"
    return _check_power(power)
