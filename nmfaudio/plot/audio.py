"""Figures for sound separation: mixture spectrogram, templates W, activations H, loss.

matplotlib is imported inside the functions and figures are made with
``matplotlib.figure.Figure`` directly (no pyplot, no display needed).
"""

from __future__ import annotations

import numpy as np

__all__ = ["separation_figure"]

#: Dynamic range shown in the spectrogram panels, in dB below the peak.
DYNAMIC_RANGE_DB = 80.0


def _decibels(magnitude: np.ndarray) -> np.ndarray:
    peak = float(magnitude.max()) if magnitude.size else 0.0
    if peak <= 0:
        return np.full(magnitude.shape, -DYNAMIC_RANGE_DB)
    with np.errstate(divide="ignore"):
        level = 20 * np.log10(magnitude / peak)
    return np.maximum(level, -DYNAMIC_RANGE_DB)


def separation_figure(separation, *, title: str | None = None):
    """A 2×2 figure: the mixture's spectrogram, the templates W, the activations H and
    the loss per iteration.

    Parameters
    ----------
    separation : nmfaudio.Separation or nmfaudio.blockwise.BlockSeparation
        Multichannel results show the channel average (spectrogram and H).  A block-wise
        result shows its decimated mixture spectrogram (``.magnitude``).
    title : str, optional
        Figure title; default the separation's name.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig("separation.png", dpi=100)``.
    """
    from matplotlib.figure import Figure

    from nmfaudio import spectrum

    sr = separation.sr or 1
    unit_t = "s" if separation.sr else "frames·hop"
    unit_f = "Hz" if separation.sr else "bins/n_fft"
    components = getattr(separation, "components", None)
    if components is not None:
        mixture = components.sum(axis=0)
        X = spectrum.stft(mixture, n_fft=separation.n_fft, hop_length=separation.hop_length)
        magnitude = np.abs(X) if X.ndim == 2 else np.abs(X).mean(axis=0)
        duration = mixture.shape[-1] / sr
    else:  # block-wise result: the tracks are on disk; a decimated spectrogram was kept
        magnitude = separation.magnitude
        duration = separation.n_samples / sr
    nyquist = sr / 2
    k = separation.n_components
    H = separation.H if separation.H.ndim == 2 else separation.H.mean(axis=1)
    W = separation.W

    fig = Figure(figsize=(11, 7), layout="constrained")
    axes = fig.subplots(2, 2)
    image = axes[0, 0].imshow(_decibels(magnitude), origin="lower", aspect="auto", cmap="magma",
                              extent=(0, duration, 0, nyquist))
    axes[0, 0].set(title="mixture |STFT|", xlabel=f"time ({unit_t})", ylabel=f"frequency ({unit_f})")
    fig.colorbar(image, ax=axes[0, 0], label="dB re peak")

    W_db = np.column_stack([_decibels(W[:, j]) for j in range(k)])
    image = axes[0, 1].imshow(W_db, origin="lower", aspect="auto", cmap="viridis",
                              extent=(0.5, k + 0.5, 0, nyquist), interpolation="nearest")
    axes[0, 1].set(title="templates W", xlabel="component", ylabel=f"frequency ({unit_f})",
                   xticks=range(1, k + 1))
    fig.colorbar(image, ax=axes[0, 1], label="dB re column peak")

    times = np.arange(H.shape[1]) * separation.hop_length / sr
    for j in range(k):
        peak = H[j].max()
        axes[1, 0].plot(times, j + 0.9 * H[j] / (peak if peak > 0 else 1), lw=1)
    axes[1, 0].set(title="activations H (each row / its max)", xlabel=f"time ({unit_t})", ylabel="component",
                   yticks=range(k), yticklabels=[str(j + 1) for j in range(k)], xlim=(0, duration))

    loss = np.asarray(separation.loss, dtype=float)
    positive = loss > 0
    if positive.any():
        axes[1, 1].semilogy(np.flatnonzero(positive), loss[positive], lw=1.5)
    axes[1, 1].set(title=f"loss (β-divergence, {separation.beta})", xlabel="iteration", ylabel="loss")
    axes[1, 1].grid(True, which="both", alpha=0.3)
    fig.suptitle(title if title is not None else separation.name)
    return fig
