"""Separation quality, for users who have the reference tracks.

- :func:`si_sdr`: scale-invariant signal-to-distortion ratio (Le Roux et al., 2019,
  "SDR – half-baked or well done?"), in dB.  A short closed form, computed here.
- :func:`sdr`: the BSS Eval SDR (Vincent et al., 2006), computed by ``mir_eval``
  (``mir_eval.separation.bss_eval_sources``), not a home-made copy.
- :func:`best_permutation`: which estimate goes with which reference — NMF components
  come in no particular order relative to the true sources.

A perfect estimate scores :data:`MAX_DB` (200 dB) in both, never ``inf``: values are capped
there (as ``fast_bss_eval``'s ``clamp_db`` does), so means over stems and files stay finite.
"""

from __future__ import annotations

import warnings

import numpy as np

from nmfaudio._validation import MAX_CHANNELS, refuse_load_pair

__all__ = ["si_sdr", "sdr", "best_permutation", "MAX_DB"]

#: The highest score (dB) :func:`sdr` and :func:`si_sdr` return: a perfect estimate's.  Its
#: error is float64 rounding, which read 241-316 dB or ``inf`` by chance (mir_eval's own
#: SDR of a signal against itself: 241-308 dB on noise, tones, drums; SI-SDR: ``inf`` when
#: the scale came out exact, else 295-316 dB) — before 2026-12-06 (polish15) ``sdr(a, a)``
#: gave ~300 dB and ``si_sdr(a, a)`` ``inf``, which made a table's mean ``inf``.  Below the
#: cap every value is kept: tracks equal up to float32 rounding read 140-155 dB.
MAX_DB = 200.0


#: si_sdr scores any number of signals (..., n_samples): a 2-D array is taken for
#: soundfile's (n_samples, n_channels) only with at most this many columns (the channels
#: of an audio file; no one scores 8-sample signals), so a batch of short clips still works.
LAYOUT_COLUMNS = 8


def _pair(reference, estimate, *, min_ndim: int = 1, max_ndim: int | None = None, columns: int | None = None):
    refuse_load_pair(reference, "reference")  # sdr(nmfaudio.load(path), ...): unpack it first
    refuse_load_pair(estimate, "estimate")
    reference = np.asarray(reference)
    estimate = np.asarray(estimate)
    for name, array in (("reference", reference), ("estimate", estimate)):
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name} has dtype {array.dtype}; it must hold real samples")
        if array.ndim < min_ndim or (max_ndim is not None and array.ndim > max_ndim):
            raise ValueError(f"{name} has shape {array.shape}; expected 1 to {max_ndim or 'any'} dimensions")
        if array.shape[-1] == 0:
            raise ValueError(f"{name} has shape {array.shape}: no samples")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} holds NaN or infinite samples")
        if (array.ndim == 2 and array.shape[0] > MAX_CHANNELS and array.shape[0] > array.shape[1]
                and (columns is None or array.shape[1] <= columns)):
            # soundfile.read's stereo, (n_samples, 2): scored as 192436 two-sample sources
            # (sdr listed them all as silent, a 760-KB message; tour16)
            raise ValueError(f"{name} has shape {array.shape}, which looks like (n_samples, n_channels) "
                             "(soundfile's layout); the metrics score (n_sources, n_samples), the samples last, "
                             "like librosa: pass reference.T and estimate.T")
    if reference.shape != estimate.shape:
        raise ValueError(
            f"reference has shape {reference.shape} but estimate has shape {estimate.shape}; they must match"
        )
    return reference.astype(np.float64), estimate.astype(np.float64)


def si_sdr(reference, estimate, *, zero_mean: bool = False):
    """Scale-invariant SDR in dB, along the last axis.

    ``SI-SDR = 10 log10(‖α s‖² / ‖α s − ŝ‖²)`` with ``α = ⟨ŝ, s⟩ / ‖s‖²`` (the
    estimate's projection onto the reference).

    Parameters
    ----------
    reference, estimate : ndarray, same shape (..., n_samples)
    zero_mean : bool, default False
        Remove each signal's mean first (as in Le Roux et al.).

    Returns
    -------
    float, or ndarray of shape ``reference.shape[:-1]``
        At most :data:`MAX_DB` (200 dB), a perfect estimate's (up to scale; never +inf);
        -inf for a silent or orthogonal one.

    Raises
    ------
    ValueError
        If the shapes differ, or a reference is silent (SI-SDR is undefined then).
    """
    s, s_hat = _pair(reference, estimate, columns=LAYOUT_COLUMNS)
    if zero_mean:
        s = s - s.mean(axis=-1, keepdims=True)
        s_hat = s_hat - s_hat.mean(axis=-1, keepdims=True)
    energy = np.einsum("...n,...n->...", s, s)
    if np.any(energy == 0):
        raise ValueError("reference is silent (all zeros); SI-SDR is undefined — drop silent references")
    alpha = np.einsum("...n,...n->...", s_hat, s) / energy
    target = alpha[..., None] * s
    residual = s_hat - target
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.einsum("...n,...n->...", target, target) / np.einsum("...n,...n->...", residual, residual)
        value = 10 * np.log10(ratio)
    value = np.where(np.isnan(value), -np.inf, value)  # 0/0: a silent estimate
    value = np.minimum(value, MAX_DB)  # a perfect estimate: rounding's inf or ~300 dB
    return float(value) if np.ndim(value) == 0 else value


def sdr(reference, estimate):
    """BSS Eval SDR in dB (``mir_eval.separation.bss_eval_sources``, sources kept in the
    given order; the other references count as interference).

    Parameters
    ----------
    reference, estimate : ndarray, shape (n_samples,) or (n_sources, n_samples)
        No reference or estimate may be all zeros (bss_eval is undefined then).

    Returns
    -------
    float for 1-D input, else ndarray of shape (n_sources,)
        At most :data:`MAX_DB` (200 dB), a perfect estimate's (mir_eval's own value is
        its rounding error's, 241-308 dB, or inf).
    """
    s, s_hat = _pair(reference, estimate, max_ndim=2)
    for name, array in (("reference", s), ("estimate", s_hat)):
        silent = np.flatnonzero(~np.any(np.atleast_2d(array), axis=-1))
        if silent.size:  # the first few named: a message stays one line
            named = (silent.tolist() if silent.size <= 10
                     else f"[{', '.join(map(str, silent[:9].tolist()))}, ...] ({silent.size} in all)")
            raise ValueError(
                f"{name} source(s) {named} are silent (all zeros); "
                "BSS Eval SDR is undefined for them — drop them or use si_sdr"
            )
    try:
        from mir_eval.separation import bss_eval_sources
    except ImportError as exc:  # pragma: no cover - depends on the installed mir_eval
        raise ImportError(
            f"sdr needs mir_eval's separation module ({exc}); install 'mir_eval>=0.7,<0.9'"
        ) from None
    with warnings.catch_warnings():
        # mir_eval 0.8 flags its separation module as deprecated; the numbers are unchanged.
        warnings.simplefilter("ignore", FutureWarning)
        values = bss_eval_sources(np.atleast_2d(s), np.atleast_2d(s_hat), compute_permutation=False)[0]
    values = np.minimum(np.asarray(values, dtype=np.float64), MAX_DB)  # a perfect estimate (see MAX_DB)
    return float(values[0]) if s.ndim == 1 else values


def best_permutation(references, estimates, *, metric=si_sdr):
    """Match each reference to a distinct estimate, maximizing the total score.

    Parameters
    ----------
    references : ndarray, shape (n_references, ...)
    estimates : ndarray, shape (n_estimates, ...) with ``n_estimates >= n_references``
        and the same trailing shape (e.g. ``Separation.components``).  Multichannel
        items are scored as one signal (channels concatenated).
    metric : callable(reference, estimate) -> float, default :func:`si_sdr`

    Returns
    -------
    order : ndarray of int, shape (n_references,)
        ``estimates[order[i]]`` is the estimate matched to ``references[i]``.
    scores : ndarray of float, shape (n_references,)
        ``metric(references[i], estimates[order[i]])``.
    """
    from scipy.optimize import linear_sum_assignment

    references = np.asarray(references)
    estimates = np.asarray(estimates)
    if references.ndim < 2 or estimates.ndim < 2:
        raise ValueError(
            f"references {references.shape} and estimates {estimates.shape} must be stacks (n, ...) of signals"
        )
    if references.shape[1:] != estimates.shape[1:]:
        raise ValueError(
            f"references have items of shape {references.shape[1:]} but estimates {estimates.shape[1:]}; they must match"
        )
    if estimates.shape[0] < references.shape[0]:
        raise ValueError(
            f"{references.shape[0]} references but only {estimates.shape[0]} estimates; need at least one estimate each"
        )
    n_ref, n_est = references.shape[0], estimates.shape[0]
    flat_ref = references.reshape(n_ref, -1)
    flat_est = estimates.reshape(n_est, -1)
    scores = np.array([[float(metric(r, e)) for e in flat_est] for r in flat_ref])
    # linear_sum_assignment cannot take infinities: clip them to large finite values.
    finite = np.clip(scores, -1e12, 1e12)
    rows, cols = linear_sum_assignment(finite, maximize=True)
    order = np.empty(n_ref, dtype=int)
    order[rows] = cols
    return order, scores[np.arange(n_ref), order]
