"""nmfaudio: separate sounds (and factorize images and spike waveforms) with NMF.

Orientation follows the literature: ``V`` (n_features, n_samples) ≈ ``W`` (n_features, k)
@ ``H`` (k, n_samples).  The scikit-learn-compatible :class:`NMF` estimator keeps
scikit-learn's own orientation (rows of ``X`` are samples).
"""

__version__ = "0.1.0"

from nmfaudio.nmf import (  # noqa: E402
    ConvergenceWarning,
    NMFResult,
    beta_divergence,
    factorize,
)
from nmfaudio import metrics  # noqa: E402,F401
from nmfaudio.audio import load, save  # noqa: E402
from nmfaudio.pipeline import Separation, separate  # noqa: E402
from nmfaudio.spectrum import istft, stft  # noqa: E402
from nmfaudio.estimator import NMF  # noqa: E402

__all__ = [
    "ConvergenceWarning",
    "NMF",
    "NMFResult",
    "beta_divergence",
    "factorize",
    "Separation",
    "istft",
    "load",
    "metrics",
    "save",
    "separate",
    "stft",
]
