"""Figure for drum separation: the mixture's log-frequency spectrogram, each stem's, and
the activations of every drum with its detected hits marked.

matplotlib is imported inside the function; the figure is a ``matplotlib.figure.Figure``
(no pyplot, no display needed).
"""

from __future__ import annotations

import numpy as np

__all__ = ["drums_figure"]

#: Dynamic range shown in the spectrogram panels, in dB below the mixture's peak.
DYNAMIC_RANGE_DB = 80.0


def drums_figure(result, *, title: str | None = None):
    """Mixture spectrogram, one spectrogram per source, and the drums' activations.

    Parameters
    ----------
    result : nmfaudio.DrumSeparation
        Multichannel results show the channel average.
    title : str, optional
        Default: the result's name.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig("drums.png", dpi=100)``.
    """
    from matplotlib.figure import Figure

    from nmfaudio import spectrum

    sr = result.sr or 1
    names = [name for name, track in result.sources.items() if name != "residual" or np.any(track)]
    spectrograms = {}
    for name in names:
        X = np.abs(spectrum.stft(result.sources[name], n_fft=result.n_fft, hop_length=result.hop_length))
        spectrograms[name] = X if X.ndim == 2 else X.mean(axis=0)
    mixture = sum(result.sources.values())
    X = np.abs(spectrum.stft(mixture, n_fft=result.n_fft, hop_length=result.hop_length))
    mixture_spec = X if X.ndim == 2 else X.mean(axis=0)
    peak = float(mixture_spec.max()) or 1.0
    duration = mixture.shape[-1] / sr
    nyquist = sr / 2

    def decibels(magnitude):
        with np.errstate(divide="ignore"):
            return np.maximum(20 * np.log10(magnitude / peak), -DYNAMIC_RANGE_DB)

    panels = ["mixture", *names, "activations"]
    fig = Figure(figsize=(11, 2.0 * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True)
    image = None
    # log-frequency axis: kick and toms live in the lowest octaves, hats and cymbals in the top ones
    freqs = np.arange(mixture_spec.shape[0]) * (nyquist / max(mixture_spec.shape[0] - 1, 1))
    frame_times = np.arange(mixture_spec.shape[1]) * result.hop_length / sr
    lowest = max(freqs[1], 20.0) if freqs.size > 1 else 1.0
    for ax, name in zip(axes, panels[:-1]):
        magnitude = mixture_spec if name == "mixture" else spectrograms[name]
        image = ax.pcolormesh(frame_times, freqs[1:], decibels(magnitude[1:]), shading="auto", cmap="magma",
                              vmin=-DYNAMIC_RANGE_DB, vmax=0, rasterized=True)
        ax.set_yscale("log")
        ax.set(ylabel="Hz", ylim=(lowest, nyquist), title=name if name == "mixture" else f"{name} (separated)")
    if image is not None:
        fig.colorbar(image, ax=list(axes[:-1]), label="dB re mixture peak", shrink=0.8)

    ax = axes[-1]
    hits = {c.name: c.times for c in result.hits()} if result.sr else {}  # the CLI's onsets_s and hit files
    for i, (name, activation) in enumerate(result.activations.items()):
        curve = activation if activation.ndim == 1 else activation.mean(axis=0)
        top = curve.max()
        times = np.arange(curve.size) * result.hop_length / sr
        line, = ax.plot(times, i + 0.9 * curve / (top if top > 0 else 1), lw=1, label=name)
        marks = np.asarray(hits.get(name, []))
        if marks.size:  # the hits reported by the CLI (--json onsets_s)
            frames = np.clip(np.round(marks * sr / result.hop_length).astype(int), 0, curve.size - 1)
            ax.plot(marks, i + 0.9 * curve[frames] / (top if top > 0 else 1), "v", ms=4, color=line.get_color())
    ax.set(title="activations (each drum / its max; ▼ hits)", xlabel="time (s)" if result.sr else "time (frames·hop)",
           yticks=range(len(result.activations)), yticklabels=list(result.activations), xlim=(0, duration))
    fig.suptitle(title if title is not None else result.name)
    return fig
