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


#: Lowest frequency shown on the logarithmic frequency axes, in Hz.
LOWEST_HZ = 20.0

#: Most tick labels on a component axis (more would overlap): every n-th is labelled.
MAX_TICK_LABELS = 12


def log_frequency_image(ax, decibels, *, sr, n_fft, x_edges, **style):
    """Draw ``decibels`` (n_freq, n) on a logarithmic frequency axis.

    The 0 Hz bin cannot sit on a log axis and is left out; the axis starts at the first
    bin's lower edge or :data:`LOWEST_HZ`, whichever is higher, so kick drums and bass
    lines get as much room per octave as cymbals.

    Parameters
    ----------
    ax : matplotlib Axes
    decibels : ndarray, shape (1 + n_fft // 2, n)
    sr : float
        Sampling rate (1 for "bins / n_fft" units).
    n_fft : int
    x_edges : ndarray, shape (n + 1,)
        Column edges (time, or component numbers).

    Returns
    -------
    matplotlib QuadMesh
    """
    step = sr / n_fft
    bins = np.arange(1, decibels.shape[0])
    y_edges = np.concatenate([(bins - 0.5) * step, [(bins[-1] + 0.5) * step]]) if bins.size else np.array([step, 2 * step])
    data = decibels[1:] if bins.size else decibels
    if bins.size:
        data, y_edges = pooled_rows(data, y_edges, bins * step)
    mesh = ax.pcolormesh(x_edges, y_edges, data, shading="flat", rasterized=True, **style)
    ax.set_yscale("log")
    lowest = LOWEST_HZ if sr > 1 else y_edges[0]  # sr = 1: frequencies in bins / n_fft
    ax.set_ylim(max(y_edges[0], min(lowest, y_edges[-1] / 2)), y_edges[-1])
    return mesh


#: Rows drawn per octave on a logarithmic frequency axis: bins closer together than this
#: (above about 500 Hz at n_fft 4096 and 44.1 kHz) are pooled, each row the mean power of
#: its bins (:func:`pooled_rows`).  A panel is about 150 pixels high over 10 octaves (15 an octave), so the rows are
#: still finer than the pixels; drawn bin by bin (2049 rows), a 10-minute file's seven
#: drum panels took 1.3 GB in matplotlib alone (mend62, docs/performance.md).
ROWS_PER_OCTAVE = 32


def pooled_rows(data, y_edges, centres):
    """``data``'s rows (frequency bins, on a logarithmic axis) pooled so that no row is
    narrower than 1 / :data:`ROWS_PER_OCTAVE` octave: bins whose centres fall in one
    such band (on a grid from the first centre) become one row, the maximum of them.
    Bins wider than a band (low frequencies) stay as they are.

    Parameters
    ----------
    data : ndarray, shape (n_bins, n)
    y_edges : ndarray, shape (n_bins + 1,)
    centres : ndarray, shape (n_bins,)
        The bins' centre frequencies, increasing and positive.

    Returns
    -------
    pooled : ndarray, shape (n_rows, n)
    edges : ndarray, shape (n_rows + 1,)
    """
    band = np.floor(ROWS_PER_OCTAVE * np.log2(centres / centres[0]) + 1e-9).astype(np.int64)
    starts = np.flatnonzero(np.diff(band, prepend=-1))
    if starts.size == band.size:
        return data, y_edges
    # the mean power of the row's bins, in dB (data are dB): the loudest bin (max) made the
    # high frequencies of an 8-s loop visibly brighter than drawn bin by bin
    power = np.power(10.0, np.asarray(data, dtype=np.float64) / 10)
    counts = np.diff(np.append(starts, band.size))[:, None]
    pooled = 10 * np.log10(np.add.reduceat(power, starts, axis=0) / counts)
    return pooled.astype(data.dtype, copy=False), y_edges[np.append(starts, band.size)]


#: Most time columns drawn in a spectrogram panel: about the figures' width in pixels at
#: dpi 100-150.  A longer recording's frames are pooled (each column the loudest of its
#: frames, so a hit stays visible): drawn frame by frame, a 10-minute file's seven drum
#: panels took 11 GB and 100 s (docs/errors-and-limits.md, Outputs).
MAX_COLUMNS = 1500


def pooled_columns(magnitude, duration: float, *, max_columns: int = MAX_COLUMNS):
    """``magnitude``'s frames pooled to at most ``max_columns`` columns, and their edges.

    Parameters
    ----------
    magnitude : ndarray, shape (n_freq, n_frames)
    duration : float
        The time ``n_frames`` frames span (the last edge).
    max_columns : int

    Returns
    -------
    pooled : ndarray, shape (n_freq, n_columns)
        Each column the maximum of ``step = ceil(n_frames / max_columns)`` consecutive
        frames (the last of fewer); ``magnitude`` itself when it has no more columns.
    x_edges : ndarray, shape (n_columns + 1,)
        The columns' edges in time, on the frames' grid (frame ``t`` spans
        ``[t, t + 1] * duration / n_frames``).
    """
    n_frames = magnitude.shape[1]
    frame_edges = np.linspace(0, duration, n_frames + 1)
    step = max(1, -(-n_frames // max_columns))
    if step == 1:
        return magnitude, frame_edges
    starts = np.arange(0, n_frames, step)
    return np.maximum.reduceat(magnitude, starts, axis=1), frame_edges[np.append(starts, n_frames)]


#: Frames of the mixture's STFT made at a time for :func:`mixture_columns` (a multiple of
#: the pooling step is taken): 2048 frames of a 2048-point STFT, 17 MB a channel.
STRETCH_FRAMES = 2048


def mixture_columns(components, duration: float, *, n_fft: int, hop_length: int,
                    max_columns: int = MAX_COLUMNS):
    """:func:`pooled_columns` of the channel-mean magnitude spectrogram of the tracks' sum
    (the mixture), made ``STRETCH_FRAMES`` frames at a time: the same values as pooling the
    whole centred STFT, which for 10 minutes of stereo 44.1 kHz held 1.5 GB more than the
    separation (``nmfaudio separate -k 4 --plot``: 2.83 GiB resident against 1.38 without
    the figure, whose panel has at most ``max_columns`` columns).

    Parameters
    ----------
    components : ndarray, shape (k, n_samples) or (k, n_channels, n_samples)
    duration : float
        The time the frames span (the last edge).
    n_fft, hop_length : int

    Returns
    -------
    pooled : ndarray, shape (1 + n_fft // 2, n_columns)
    x_edges : ndarray, shape (n_columns + 1,)
    """
    from nmfaudio import spectrum

    n_samples = components.shape[-1]
    n_frames = spectrum.n_frames(n_samples, hop_length=hop_length, n_fft=n_fft)
    step = max(1, -(-n_frames // max_columns))  # pooled_columns' step
    chunk = step * max(1, STRETCH_FRAMES // step)
    pad = n_fft // 2
    columns = []
    for start in range(0, n_frames, chunk):
        stop = min(start + chunk, n_frames)
        # the samples these frames cover (spectrum.stft_frames), summed over the tracks there only
        first, last = start * hop_length - pad, (stop - 1) * hop_length - pad + n_fft
        segment = np.zeros(components.shape[1:-1] + (last - first,), dtype=components.dtype)
        lo, hi = max(first, 0), min(last, n_samples)
        if hi > lo:
            components[..., lo:hi].sum(axis=0, out=segment[..., lo - first:hi - first])
        X = spectrum.stft(segment, n_fft=n_fft, hop_length=hop_length, center=False)
        magnitude = np.abs(X) if X.ndim == 2 else np.abs(X).mean(axis=0)
        columns.append(np.maximum.reduceat(magnitude, np.arange(0, stop - start, step), axis=1))
    frame_edges = np.linspace(0, duration, n_frames + 1)
    return np.concatenate(columns, axis=1), frame_edges[np.append(np.arange(0, n_frames, step), n_frames)]


def thin_ticks(count: int, *, first: int = 1) -> list[int]:
    """Tick positions first..first+count-1, every n-th so at most MAX_TICK_LABELS show."""
    every = max(1, int(np.ceil(count / MAX_TICK_LABELS)))
    return list(range(first, first + count, every))


def separation_figure(separation, *, title: str | None = None):
    """A 2×2 figure: the mixture's spectrogram, the templates W, the activations H and
    the loss at every iteration.

    Frequencies are on a logarithmic axis (20 Hz to Nyquist) in both spectral panels;
    component labels are thinned so they never overlap.  The loss panel spans every
    iteration the fit ran: a β < 1 fit's Frobenius warm-up (whose loss is in other
    units) is shaded and its β-divergence curve starts after it.

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

    Raises
    ------
    TypeError
        ``separation`` is not such a result (a DrumSeparation: use
        :func:`nmfaudio.plot.drums.drums_figure`).
    """
    from matplotlib.figure import Figure

    if not all(hasattr(separation, name) for name in ("W", "H", "n_components")):
        # a DrumSeparation (or anything else) failed on a missing attribute deep inside
        other = ("draw it with nmfaudio.plot.drums.drums_figure(result)" if hasattr(separation, "activations")
                 else "give the result of nmfaudio.separate")
        raise TypeError(f"separation_figure draws the result of nmfaudio.separate (W, H, loss); "
                        f"got {type(separation).__name__}: {other}")
    sr = separation.sr or 1
    unit_t = "s" if separation.sr else "frames·hop"
    unit_f = "Hz" if separation.sr else "bins/n_fft"
    components = getattr(separation, "components", None)
    if components is not None:
        duration = components.shape[-1] / sr
        magnitude, x_edges = mixture_columns(components, duration, n_fft=separation.n_fft,
                                             hop_length=separation.hop_length)
    else:  # block-wise result: the tracks are on disk; a decimated spectrogram was kept
        duration = separation.n_samples / sr
        magnitude, x_edges = pooled_columns(separation.magnitude, duration)
    k = separation.n_components
    H = separation.H if separation.H.ndim == 2 else separation.H.mean(axis=1)
    W = separation.W

    fig = Figure(figsize=(12, 7.5), layout="constrained")
    axes = fig.subplots(2, 2, width_ratios=(3, 2))
    mesh = log_frequency_image(axes[0, 0], _decibels(magnitude), sr=sr, n_fft=separation.n_fft,
                               x_edges=x_edges, cmap="magma")
    axes[0, 0].set(title="mixture |STFT|", xlabel=f"time ({unit_t})", ylabel=f"frequency ({unit_f}, log)")
    fig.colorbar(mesh, ax=axes[0, 0], label="dB re peak")

    W_db = np.column_stack([_decibels(W[:, j]) for j in range(k)])
    mesh = log_frequency_image(axes[0, 1], W_db, sr=sr, n_fft=separation.n_fft,
                               x_edges=np.arange(k + 1) + 0.5, cmap="viridis")
    axes[0, 1].set(title="templates W (each column / its peak)", xlabel="component",
                   ylabel=f"frequency ({unit_f}, log)", xticks=thin_ticks(k))
    fig.colorbar(mesh, ax=axes[0, 1], label="dB re column peak")

    times = np.arange(H.shape[1]) * separation.hop_length / sr
    for j in range(k):
        peak = H[j].max()
        axes[1, 0].plot(times, j + 1 + 0.9 * H[j] / (peak if peak > 0 else 1), lw=1)
    axes[1, 0].set(title="activations H (each row / its max)", xlabel=f"time ({unit_t})", ylabel="component",
                   yticks=thin_ticks(k), xlim=(0, duration), ylim=(0.8, k + 1))

    _loss_panel(axes[1, 1], separation)
    from nmfaudio.plot import shown_title

    fig.suptitle(shown_title(title if title is not None else separation.name))
    return fig


def _loss_panel(ax, separation) -> None:
    """The loss at every iteration; the iterations before the recorded loss (a β < 1
    fit's Frobenius warm-up) are shaded."""
    loss = np.asarray(separation.loss, dtype=float)
    n_iter = int(getattr(separation, "n_iter", len(loss) - 1))
    first = max(0, n_iter + 1 - len(loss))  # iteration of loss[0]
    iterations = np.arange(first, first + len(loss))
    computed = np.isfinite(loss)  # factorize(..., loss_every=N) leaves NaN in the gaps
    iterations, loss = iterations[computed], loss[computed]
    if first > 0:
        ax.axvspan(0, first, color="0.85", lw=0)
        ax.text(first / 2, 0.5, f"{first} Frobenius\nwarm-up\niterations", transform=ax.get_xaxis_transform(),
                ha="center", va="center", fontsize=8, color="0.3")
    positive = loss > 0
    if positive.all() and len(loss):
        ax.semilogy(iterations, loss, lw=1.5, marker="." if len(loss) < 30 else None)
    elif len(loss):
        ax.plot(iterations, loss, lw=1.5)
    ax.set(title=f"loss (β-divergence, {separation.beta}), {n_iter} iterations", xlabel="iteration",
           ylabel="loss", xlim=(0, max(n_iter, 1)))
    ax.grid(True, which="both", alpha=0.3)
