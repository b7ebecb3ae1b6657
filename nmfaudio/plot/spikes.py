"""Figures for spike clustering: the tutorial's all-waveforms + one-panel-per-cluster view.

matplotlib is imported inside the functions and figures are built with
``matplotlib.figure.Figure`` directly (no pyplot state, no display needed).
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_clusters", "plot_parts"]


def _as_traces(waveforms) -> tuple[np.ndarray, int, int]:
    """(n_spikes, n_channels * (n_samples + 1)) with a NaN gap between channels."""
    array = np.asarray(waveforms, dtype=np.float64)
    if array.ndim == 2:
        return array, 1, array.shape[1]
    if array.ndim != 3:
        raise ValueError(f"waveforms has shape {array.shape}; expected (n_spikes, n_samples) "
                         "or (n_spikes, n_channels, n_samples)")
    n, n_channels, n_samples = array.shape
    padded = np.full((n, n_channels, n_samples + 1), np.nan)
    padded[:, :, :n_samples] = array
    return padded.reshape(n, -1)[:, :-1], n_channels, n_samples


def _subset(indices: np.ndarray, max_traces: int | None) -> np.ndarray:
    """At most ``max_traces`` evenly spaced entries of ``indices`` (deterministic)."""
    if max_traces is None or indices.size <= max_traces:
        return indices
    return indices[np.linspace(0, indices.size - 1, max_traces).round().astype(int)]


def _check_fs(fs):
    """``fs`` as a float > 0, or None: 0 drew a time axis of NaN and infinities (with
    numpy's divide-by-zero warnings), a negative rate one running backwards (tour18)."""
    if fs is None:
        return None
    from nmfaudio._validation import check_number

    return check_number(fs, "fs", minimum=0, strict=True,
                        expected="a sampling rate in Hz > 0 (e.g. 30000), or None to number the samples")


def _time_axis(length: int, n_channels: int, n_samples: int, fs):
    x = np.arange(length, dtype=np.float64)
    if fs is not None:
        x = x / float(fs) * 1000.0
    label = "time (ms)" if fs is not None else "sample"
    if n_channels > 1:
        label += f" — {n_channels} channels side by side"
    return x, label


def plot_clusters(waveforms, labels, *, n_clusters=None, fs=None, max_traces=300,
                  colors=None, title=None, figsize=None):
    """All waveforms, then one panel per cluster with its members and their mean.

    Parameters
    ----------
    waveforms : array-like, shape (n_spikes, n_samples) or (n_spikes, n_channels, n_samples)
        Snippets in their own units (not shifted); channels are drawn side by side.
    labels : array-like of int, shape (n_spikes,), or a SpikeClustering
        Cluster of each spike (``result.labels`` is taken from a clustering result).
    n_clusters : int, optional
        Number of cluster panels; default ``max(labels) + 1`` (or the result's).
    fs : float > 0, optional
        Sampling rate in Hz: the x axis is then in milliseconds.
    max_traces : int or None, default 300
        Draw at most this many evenly spaced members per panel (the mean uses all).
    colors : sequence of matplotlib colours, optional
        One per cluster; default the "tab10"/"tab20" cycle.
    title : str, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure
        ``n_clusters + 1`` axes: all spikes (grey), then cluster j's members in colour
        with their mean as a dashed black line.
    """
    from matplotlib.figure import Figure

    fs = _check_fs(fs)
    if hasattr(labels, "labels") and hasattr(labels, "n_clusters"):
        n_clusters = labels.n_clusters if n_clusters is None else n_clusters
        labels = labels.labels
    traces, n_channels, n_samples = _as_traces(waveforms)
    labels = np.asarray(labels)
    if labels.shape != (traces.shape[0],) or labels.dtype.kind not in "iu":
        raise ValueError(f"labels has shape {labels.shape} and dtype {labels.dtype}; expected "
                         f"integers of shape ({traces.shape[0]},), one per spike")
    if labels.size and labels.min() < 0:
        raise ValueError("labels holds negative values; expected cluster numbers 0, 1, ...")
    if n_clusters is None:
        n_clusters = int(labels.max()) + 1 if labels.size else 0
    if max_traces is not None and max_traces < 1:
        raise ValueError(f"max_traces={max_traces!r} must be None or an int >= 1")

    n_panels = n_clusters + 1
    ncols = min(4, n_panels)
    nrows = int(np.ceil(n_panels / ncols))
    if figsize is None:
        figsize = (3.6 * ncols, 2.8 * nrows)
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    if colors is None:
        import matplotlib

        cmap = matplotlib.colormaps["tab10" if n_clusters <= 10 else "tab20"]
        colors = [cmap(j % cmap.N) for j in range(n_clusters)]
    x, xlabel = _time_axis(traces.shape[1], n_channels, n_samples, fs)

    shown = _subset(np.arange(traces.shape[0]), max_traces)
    axes[0].plot(x, traces[shown].T, color="0.45", linewidth=0.4, alpha=0.35)
    axes[0].set_title(f"all spikes (n = {traces.shape[0]})", fontsize=9)
    for j in range(n_clusters):
        ax = axes[j + 1]
        members = np.flatnonzero(labels == j)
        if members.size:
            ax.plot(x, traces[_subset(members, max_traces)].T, color=colors[j],
                    linewidth=0.4, alpha=0.35)
            ax.plot(x, traces[members].mean(axis=0), color="black", linestyle="--", linewidth=1.6)
        ax.set_title(f"cluster {j} (n = {members.size})", fontsize=9)
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    for ax in axes[:n_panels]:
        if n_channels > 1:
            for c in range(1, n_channels):
                boundary = x[c * (n_samples + 1) - 1]
                ax.axvline(boundary, color="0.8", linewidth=0.6)
        ax.tick_params(labelsize=7)
    for ax in axes[(nrows - 1) * ncols:n_panels]:
        ax.set_xlabel(xlabel, fontsize=8)
    for row in range(nrows):
        axes[row * ncols].set_ylabel("amplitude", fontsize=8)
    if title:
        from nmfaudio.plot import shown_title

        fig.suptitle(shown_title(title), fontsize=10)  # a name that is not UTF-8 (review58)
    return fig


def plot_parts(result, *, fs=None, figsize=None):
    """The NMF parts of a clustering, each scaled by its mean activation.

    Parameters
    ----------
    result : SpikeClustering
        From :func:`nmfaudio.adapters.spikes.cluster`.
    fs : float > 0, optional
        Sampling rate in Hz (x axis in ms).
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the parts (``result.parts``, shifted non-negative units, channels side
        by side), and their sum minus the shift: the mean fitted spike in input units.
    """
    from matplotlib.figure import Figure

    fs = _check_fs(fs)
    parts, n_channels, n_samples = _as_traces(result.parts)
    fig = Figure(figsize=figsize or (7, 5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    x, xlabel = _time_axis(parts.shape[1], n_channels, n_samples, fs)
    top.plot(x, parts.T, linewidth=1.0)
    top.set_ylabel("part × mean activation")
    top.set_title(f"{parts.shape[0]} NMF parts of the shifted spikes (shift {result.shift:.4g})",
                  fontsize=9)
    bottom.plot(x, parts.sum(axis=0) - result.shift, color="black", linestyle="--")
    bottom.set_title("sum of parts − shift (the mean fitted spike)", fontsize=9)
    bottom.set_xlabel(xlabel)
    bottom.set_ylabel("amplitude")
    return fig
