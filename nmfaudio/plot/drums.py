"""Figure for drum separation: the mixture's log-frequency spectrogram, each stem's, and
the activations of every drum with its detected hits marked.

matplotlib is imported inside the function; the figure is a ``matplotlib.figure.Figure``
(no pyplot, no display needed).
"""

from __future__ import annotations

import numpy as np

__all__ = ["drums_figure", "hit_frames", "pooled_from_readers"]

#: Dynamic range shown in the spectrogram panels, in dB below the mixture's peak.
DYNAMIC_RANGE_DB = 80.0

#: The tracks of what the drums leave (``stems`` "all" / "drums"): drawn only when not silent.
REST = ("residual", "accompaniment")

#: A hit is a local maximum of a drum's activation above this fraction of its maximum.
HIT_THRESHOLD = 0.2


def hit_frames(activation, *, threshold: float = HIT_THRESHOLD) -> np.ndarray:
    """Frames where a drum is hit: local maxima of its activation above ``threshold`` ×
    its maximum.

    Parameters
    ----------
    activation : ndarray, shape (n_frames,) or (n_channels, n_frames)
        Channels are averaged.
    threshold : float, default 0.2

    Returns
    -------
    ndarray of int, shape (n_hits,)
    """
    curve = activation if activation.ndim == 1 else activation.mean(axis=0)
    top = curve.max() if curve.size else 0.0
    if not top > 0:
        return np.zeros(0, dtype=int)
    padded = np.concatenate([[-np.inf], curve, [-np.inf]])
    peaks = (curve > padded[:-2]) & (curve >= padded[2:]) & (curve > threshold * top)
    return np.flatnonzero(peaks)


def _hit_count(played: int, merged: dict | None) -> str:
    """The legend's count of the marked hits: ``"80 in all"``, or with hits merged by
    ``--quantize`` what the hit files hold, ``"80 as played; 78 in the MIDI/CSV, 2 merged
    by --quantize"`` -- the number a user compares with the MIDI file's notes."""
    gone = sum((merged or {}).values())
    if not gone:
        return f"{played} in all"
    return f"{played} as played; {played - gone} in the MIDI/CSV, {gone} merged by --quantize"


def _detected_hits(result, hits=None):
    """``{class: hit times (s)}`` from ``hits`` or :meth:`DrumSeparation.hits` — the hits
    the CLI counts and writes as MIDI/CSV, a sub-template's (the ride's ``cymbals_ride``)
    under its class (``DrumHits.times_by_track``) — or None when they cannot be detected
    (no ``sr``)."""
    if hits is not None:
        return hits.times_by_track(result.activations)
    if not result.sr or not hasattr(result, "hits"):
        return None
    try:
        return result.hits().times_by_track(result.activations)
    except ValueError:
        return None


def _panel(track, result, duration):
    """One spectrogram panel's magnitude, channel-averaged and pooled in time
    (:func:`nmfaudio.plot.audio.pooled_columns`), and its column edges."""
    from nmfaudio import spectrum
    from nmfaudio.plot.audio import pooled_columns

    X = np.abs(spectrum.stft(track, n_fft=result.n_fft, hop_length=result.hop_length))
    return pooled_columns(X if X.ndim == 2 else X.mean(axis=0), duration)


#: Spectrogram frames made at once when the panels are read from files
#: (:func:`pooled_from_readers`): with n_fft 4096, a stereo stretch's complex STFT is
#: 2 x 2049 x 512 x 8 bytes = 17 MB.
READ_FRAMES = 512


def pooled_from_readers(readers, n_samples: int, *, n_fft: int, hop_length: int, duration: float,
                        max_columns: int | None = None):
    """Each track's spectrogram panel (:func:`_panel`'s) and the mixture's (their sum's),
    made from tracks read a stretch at a time: memory bounded by the figure's columns,
    not the recording's length.

    The same columns as ``pooled_columns(|stft(track)|, duration)`` on the whole track
    (channel mean, each column the loudest of its frames): each stretch holds whole
    columns' frames and the samples they cover (zero outside the track, as the centred
    STFT pads), so every frame is computed from the samples it would be in memory.

    Parameters
    ----------
    readers : dict {str: nmfaudio.audio.ArrayReader or FileReader}
        The tracks, in the order they are summed into the mixture (the result's
        ``sources`` order), each ``n_samples`` long.
    n_samples : int
    n_fft, hop_length : int
    duration : float
        The time the tracks span (the columns' last edge).
    max_columns : int, optional
        Default :data:`nmfaudio.plot.audio.MAX_COLUMNS`.

    Returns
    -------
    panels : dict {str: ndarray, shape (1 + n_fft // 2, n_columns)}
        Each track's, float32.
    mixture : ndarray, shape (1 + n_fft // 2, n_columns)
    x_edges : ndarray, shape (n_columns + 1,)
    """
    from nmfaudio import spectrum
    from nmfaudio.plot.audio import MAX_COLUMNS

    max_columns = MAX_COLUMNS if max_columns is None else max_columns
    n_frames = spectrum.n_frames(n_samples, hop_length=hop_length, n_fft=n_fft)
    frame_edges = np.linspace(0, duration, n_frames + 1)
    step = max(1, -(-n_frames // max_columns))
    starts = np.arange(0, n_frames, step)
    x_edges = frame_edges[np.append(starts, n_frames)]
    n_freq = 1 + n_fft // 2
    panels = {name: np.empty((n_freq, starts.size), np.float32) for name in readers}
    mixture = np.empty((n_freq, starts.size), np.float32)
    per_read = max(1, READ_FRAMES // step)  # whole columns per stretch
    pad = n_fft // 2
    for first_column in range(0, starts.size, per_read):
        columns = slice(first_column, min(first_column + per_read, starts.size))
        start = int(starts[columns.start])
        stop = int(starts[columns.stop]) if columns.stop < starts.size else n_frames
        first, last = start * hop_length - pad, (stop - 1) * hop_length - pad + n_fft
        local = starts[columns] - start
        total = None
        for name, reader in readers.items():
            segment = reader.read(first, last)  # (n_channels, n), zero outside the track
            segment = segment[0] if segment.shape[0] == 1 else segment
            total = segment if total is None else total + segment  # sum(sources) in memory: the same order
            panels[name][:, columns] = _pooled_segment(segment, n_fft, hop_length, local)
        mixture[:, columns] = _pooled_segment(total, n_fft, hop_length, local)
    return panels, mixture, x_edges


def _pooled_segment(segment, n_fft, hop_length, local):
    """The channel-mean magnitude of ``segment``'s frames (no centring: the segment holds
    their samples), each column the maximum of its frames from ``local``."""
    from nmfaudio import spectrum

    X = np.abs(spectrum.stft(segment, n_fft=n_fft, hop_length=hop_length, center=False))
    X = X if X.ndim == 2 else X.mean(axis=0)
    return np.maximum.reduceat(X, local, axis=1)


def drums_figure(result, *, title: str | None = None, hits=None, tracks=None, stems: str = "all",
                 merged: dict | None = None):
    """Mixture spectrogram, one spectrogram per source, and the drums' activations with
    their hits marked.

    Spectrograms have a logarithmic frequency axis (20 Hz to Nyquist), so the kick and
    the bass are not squeezed into the bottom row; hits (``result.hits()``, the ones
    ``nmfaudio drums`` counts and writes; :func:`hit_frames` when ``sr`` is unknown) are
    marked ▼ on each drum's activation.

    Parameters
    ----------
    result : nmfaudio.DrumSeparation
        Multichannel results show the channel average.
    title : str, optional
        Default: the result's name.
    hits : nmfaudio.drums.hit_results.DrumHits, optional
        ``result.hits()`` when the caller has it already (the CLI writes them too):
        marked as given instead of being detected a second time.
    tracks : dict {str: nmfaudio.audio.FileReader or ArrayReader}, optional
        The stems (the classes and ``"residual"``, in ``sources`` order) as files, for a
        result separated with ``stream_to``, or as arrays already made (the CLI's, being
        written): the panels are made from them a stretch at a time
        (:func:`pooled_from_readers`), so a long recording's figure does not hold its
        stems in memory (before 2026-12-07, mend62, ``nmfaudio drums --plot`` kept a
        10-minute file's stems and each panel's full STFT: 3.2 GB under ``--max-memory 64M``).
        With ``stems="drums"``: ``"drums"`` and ``"accompaniment"``, the two files.
        Default: the result's stems, read the same way (before review66, mend66, each
        panel's full STFT and the mixture's sum were held: ``stems="drums"`` on 3 minutes
        of stereo 44.1 kHz traced 529 MB, 161 MB since).
    stems : {"all", "drums"}, default "all"
        The spectrogram panels: one per class and the residual, or (``"drums"``) the two
        tracks of :meth:`~nmfaudio.DrumSeparation.two_stems` -- the drum stems' sum and the
        accompaniment -- as ``nmfaudio drums --stems drums`` writes them (before review64
        its figure showed five stems it had not written).  The activations are every
        class's either way.
    merged : dict {str: int}, optional
        Per class, the hits :func:`~nmfaudio.drums.tempo_grid.quantize` merged onto a grid
        point of a stronger one (``DrumHits.merged`` of the quantized hits, which the
        MIDI/CSV files hold): the hits stay marked as played, and the legend says how many
        of them the files hold and how many were merged (before review66 it gave the played
        count alone: 80 hi-hat hits where the files held 78).

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig("drums.png", dpi=100)``.

    Raises
    ------
    TypeError
        ``result`` is not a DrumSeparation (a Separation: use
        :func:`nmfaudio.plot.audio.separation_figure`).
    ValueError
        ``result`` holds no stems (separated with ``stream_to``) and no ``tracks`` are given.
    """
    from matplotlib.figure import Figure

    from nmfaudio.plot.audio import log_frequency_image

    if not all(hasattr(result, name) for name in ("sources", "activations", "n_fft")):
        # a Separation (or anything else) failed on a missing attribute deep inside
        other = ("draw it with nmfaudio.plot.audio.separation_figure(result)" if hasattr(result, "components")
                 else "give the result of nmfaudio.separate_drums")
        raise TypeError(f"drums_figure draws the result of nmfaudio.separate_drums (stems, activations); "
                        f"got {type(result).__name__}: {other}")
    if not result.sources and not tracks:
        raise ValueError("this result holds no stems to draw: separate_drums(..., stream_to=...) hands them on "
                         "instead of keeping them; separate without stream_to (or read the written stems) to draw it")
    if stems not in ("all", "drums"):
        raise ValueError(f"stems={stems!r} must be 'all' (a panel per class and the residual) or 'drums' "
                         "(the drums and the accompaniment)")
    sr = result.sr or 1
    if not tracks:  # the stems in memory, read a stretch at a time as files are
        from nmfaudio.audio import ArrayReader

        sources = result.two_stems() if stems == "drums" else result.sources
        tracks = {name: ArrayReader(track) for name, track in sources.items()}
    # the panels pooled a stretch of frames at a time: before review66 (mend66) the in-memory
    # figure held the mixture's sum and each panel's full STFT, 0.50 GB more at the peak of
    # `nmfaudio drums --stems drums --plot` on 3 minutes of stereo (docs/performance.md)
    n_samples = next(iter(tracks.values())).n_samples
    duration = n_samples / sr
    spectrograms, mixture_spec, x_edges = pooled_from_readers(tracks, n_samples, n_fft=result.n_fft,
                                                              hop_length=result.hop_length, duration=duration)
    names = [name for name in tracks if name not in REST or spectrograms[name].max() > 0]
    peak = float(mixture_spec.max()) or 1.0

    def decibels(magnitude):
        with np.errstate(divide="ignore"):
            return np.maximum(20 * np.log10(magnitude / peak), -DYNAMIC_RANGE_DB)

    panels = ["mixture", *names, "activations"]
    fig = Figure(figsize=(11, 2.1 * len(panels) + 0.4), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True)
    mesh = None
    for ax, name in zip(axes, panels[:-1]):
        magnitude = mixture_spec if name == "mixture" else spectrograms[name]
        mesh = log_frequency_image(ax, decibels(magnitude), sr=sr, n_fft=result.n_fft, x_edges=x_edges,
                                   cmap="magma", vmin=-DYNAMIC_RANGE_DB, vmax=0)
        # a class whose parts sound in another stem (sounds_in): its own panel is silent, its hits kept
        host = getattr(result, "sounds_in", {}).get(name)
        ax.set(ylabel="Hz (log)", title=name if name == "mixture" else
               f"drums (separated: {' + '.join(result.activations)})" if stems == "drums" and name == "drums" else
               f"{name} (separated)" if host is None else
               f"{name} (separated: silent, its parts sound in the {host} stem; its hits are marked below)")
    if mesh is not None:
        fig.colorbar(mesh, ax=list(axes[:-1]), label="dB re mixture peak", shrink=0.8)

    ax = axes[-1]
    hits_total = 0
    detected = _detected_hits(result, hits)
    for i, (name, activation) in enumerate(result.activations.items()):
        curve = activation if activation.ndim == 1 else activation.mean(axis=0)
        top = curve.max()
        scaled = i + 0.85 * curve / (top if top > 0 else 1)
        times = np.arange(curve.size) * result.hop_length / sr
        line, = ax.plot(times, scaled, lw=1)
        if detected is not None:  # the hits nmfaudio drums counts and writes (drums.hits)
            hits = np.clip(np.round(np.asarray(detected.get(name, []), dtype=float) * sr / result.hop_length)
                           .astype(int), 0, max(curve.size - 1, 0))
        else:
            hits = hit_frames(curve)
        hits_total += hits.size
        # out of the layout's bounds: the markers lie within the rows, and a class's empty marker
        # line (no hits) counted as a point at the figure's corner, which left a fifth of the
        # figure blank under the activations (tour62)
        ax.plot(times[hits], scaled[hits] + 0.08, "v", ms=5, color=line.get_color(), clip_on=False, in_layout=False)
    ax.set(title=f"activations (each drum / its max), ▼ = hit ({_hit_count(hits_total, merged)})",
           xlabel="time (s)" if result.sr else "time (frames·hop)", yticks=range(len(result.activations)),
           yticklabels=list(result.activations), xlim=(0, duration), ylim=(-0.1, len(result.activations) + 0.05))
    from nmfaudio.plot import shown_title

    fig.suptitle(shown_title(title if title is not None else result.name))
    return fig
