"""The NMF engine: arrays in, arrays out; no files, no printing.

V (n_features, n_samples) ≈ W (n_features, k) @ H (k, n_samples), minimizing a
β-divergence.  See :func:`factorize`; :func:`factorize_convolutive` fits the convolutive
model (NMFD) with templates of several frames.
"""

from nmfaudio.nmf.core import CHECK_EVERY, ConvergenceWarning, NMFResult, factorize
from nmfaudio.nmf.divergence import BETA_NAMES, FLOOR_RELATIVE, beta_divergence
from nmfaudio.nmf.nmfd import (NMFDResult, convolutive_components, convolutive_factors, convolutive_model,
                               factorize_convolutive)
from nmfaudio.nmf.solvers import SOLVERS

__all__ = [
    "BETA_NAMES",
    "CHECK_EVERY",
    "ConvergenceWarning",
    "FLOOR_RELATIVE",
    "NMFDResult",
    "NMFResult",
    "SOLVERS",
    "beta_divergence",
    "convolutive_components",
    "convolutive_factors",
    "convolutive_model",
    "factorize",
    "factorize_convolutive",
]
