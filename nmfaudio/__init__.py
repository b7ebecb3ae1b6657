"""nmfaudio: separate sounds (and factorize images and spike waveforms) with NMF.

Orientation follows the literature: ``V`` (n_features, n_samples) ≈ ``W`` (n_features, k)
@ ``H`` (k, n_samples).  The scikit-learn-compatible :class:`NMF` estimator keeps
scikit-learn's own orientation (rows of ``X`` are samples).
"""

__version__ = "0.1.0"

from nmfaudio._lazy import attach as _attach  # noqa: E402

# Everything, the engine too, loads on first use (PEP 562): librosa and scikit-learn take
# seconds to import, the engine (numba, scipy) a third of a second, and the command line's
# --help, --version and usage errors should not wait for them (the CLI imports
# ``nmfaudio`` first; tests/test_cli_startup.py holds it).
_LAZY = {
    "ConvergenceWarning": ("nmfaudio.nmf", "ConvergenceWarning"),
    "NMFResult": ("nmfaudio.nmf", "NMFResult"),
    "beta_divergence": ("nmfaudio.nmf", "beta_divergence"),
    "factorize": ("nmfaudio.nmf", "factorize"),
    "nmf": ("nmfaudio.nmf", None),
    "metrics": ("nmfaudio.metrics", None),
    "load": ("nmfaudio.audio", "load"),
    "save": ("nmfaudio.audio", "save"),
    "Separation": ("nmfaudio.pipeline", "Separation"),
    "separate": ("nmfaudio.pipeline", "separate"),
    "separate_file": ("nmfaudio.blockwise", "separate_file"),
    "istft": ("nmfaudio.spectrum", "istft"),
    "stft": ("nmfaudio.spectrum", "stft"),
    "NMF": ("nmfaudio.estimator", "NMF"),
    "separate_drums": ("nmfaudio.drums", "separate_drums"),
    "DrumSeparation": ("nmfaudio.drums", "DrumSeparation"),
    "DrumTemplates": ("nmfaudio.drums", "DrumTemplates"),
}

__getattr__, __dir__ = _attach(__name__, _LAZY)

__all__ = [
    "ConvergenceWarning",
    "DrumSeparation",
    "DrumTemplates",
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
    "separate_drums",
    "separate_file",
    "stft",
]
