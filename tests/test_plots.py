"""Issue 19: plots people can read — logarithmic frequency axes, drum hits marked, a loss
curve over every iteration, component labels that never overlap.  Figures are drawn
(Agg) and inspected through matplotlib's objects, not by looking at pixels."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nmfaudio

pytest.importorskip("matplotlib")

SR = 8000


def _mixture(seconds=1.0):
    t = np.arange(int(seconds * SR)) / SR
    low = np.sin(2 * np.pi * 60 * t) * (np.sin(2 * np.pi * 2 * t) > 0)  # a 60 Hz "kick/bass" line
    high = 0.3 * np.sin(2 * np.pi * 2500 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
    return (low + high).astype(np.float32)


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _overlapping(labels, renderer) -> list:
    boxes = [label.get_window_extent(renderer) for label in labels if label.get_visible() and label.get_text()]
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]


def _axis(fig, title: str):
    """The panel whose title starts with ``title``."""
    (ax,) = [ax for ax in fig.axes if ax.get_title().startswith(title)]
    return ax


def _separation(k, beta="frobenius"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nmfaudio.separate(_mixture(), SR, n_components=k, beta=beta, n_fft=512, hop_length=64,
                                 max_iter=30, tol=0, random_state=0)


def test_separation_spectra_are_on_a_log_frequency_axis_that_shows_60_hz():
    from nmfaudio.plot.audio import separation_figure

    fig = separation_figure(_separation(2))
    spectrogram, templates = _axis(fig, "mixture"), _axis(fig, "templates")
    for ax in (spectrogram, templates):
        assert ax.get_yscale() == "log"
        low, high = ax.get_ylim()
        assert 15 <= low <= 30 and high == pytest.approx(SR / 2 + SR / 512 / 2)
    # the 60 Hz line gets more than a tenth of the axis (on a linear axis: 1.5 %)
    span = np.log10(high) - np.log10(low)
    assert (np.log10(120) - np.log10(low)) / span > 0.1


@pytest.mark.parametrize("k", [3, 40])
def test_component_labels_never_overlap(k):
    from nmfaudio.plot.audio import separation_figure

    fig = separation_figure(_separation(k))
    renderer = _drawn(fig)
    templates, activations = _axis(fig, "templates"), _axis(fig, "activations")
    assert not _overlapping(templates.get_xticklabels(), renderer)
    assert not _overlapping(activations.get_yticklabels(), renderer)
    assert 2 <= len([t for t in activations.get_yticklabels() if t.get_text()]) <= 12


@pytest.mark.parametrize("beta, warm", [("frobenius", 0), ("itakura-saito", 50)])
def test_loss_curve_spans_every_iteration(beta, warm):
    from nmfaudio.plot.audio import separation_figure

    result = _separation(2, beta)
    fig = separation_figure(result)
    loss_ax = _axis(fig, "loss")
    (line,) = loss_ax.get_lines()
    x = line.get_xdata()
    assert x[-1] == result.n_iter and x[0] == result.n_iter + 1 - len(result.loss)
    assert x[0] == warm  # a β < 1 fit's curve starts after its Frobenius warm-up
    assert loss_ax.get_xlim() == (0, result.n_iter)
    assert f"{result.n_iter} iterations" in loss_ax.get_title()


def test_loss_curves_draw_a_gappy_history_at_its_iterations():
    # factorize(..., loss_every=10) leaves NaN between its losses: the curve joins the
    # computed ones at their iterations (a line through NaN would draw nothing)
    from nmfaudio.plot.image import loss_curves

    V = np.random.default_rng(0).random((20, 30)).astype(np.float32)
    result = nmfaudio.factorize(V, 3, beta="kullback-leibler", solver="mu", random_state=0, max_iter=25, tol=0,
                                loss_every=10)
    fig = loss_curves({"mu": result.loss}, relative=False)
    (line,) = fig.axes[0].get_lines()
    assert line.get_xdata().tolist() == [0, 10, 20, 25]
    np.testing.assert_array_equal(line.get_ydata(), result.loss[[0, 10, 20, 25]])


def test_drum_figure_marks_the_hits_the_cli_counts():
    from nmfaudio.plot.drums import drums_figure

    y = np.zeros(SR * 2, np.float32)
    t = np.arange(2000) / SR
    for start in (0.1, 0.6, 1.1, 1.6):
        i = int(start * SR)
        y[i:i + t.size] += np.sin(2 * np.pi * 60 * t) * np.exp(-20 * t)
    result = nmfaudio.separate_drums(y, SR, max_iter=20, random_state=0)
    fig = drums_figure(result)
    activations = _axis(fig, "activations")
    markers = [line for line in activations.get_lines() if line.get_marker() == "v"]
    assert len(markers) == len(result.activations)
    counted = result.hits().times  # what `nmfaudio drums` counts and writes
    for line, name in zip(markers, result.activations):
        assert len(line.get_xdata()) == len(counted[name])
    kick = np.asarray(counted["kick"])
    assert sum(np.min(np.abs(kick - s)) < 0.05 for s in (0.1, 0.6, 1.1, 1.6)) == 4  # every kick marked
    spectrograms = [ax for ax in fig.axes if ax.get_title() == "mixture" or ax.get_title().endswith("(separated)")]
    assert len(spectrograms) >= 4 and all(ax.get_yscale() == "log" for ax in spectrograms)


def test_drum_figure_marks_a_sub_templates_hits_on_its_class_row():
    """The hits of a sub-template (the ride's strokes, ``cymbals_ride``) are its class's:
    marked on the cymbals' row, with the cymbals' own hits (before, they were not drawn)."""
    from nmfaudio.drums import ClassHits, DrumHits
    from nmfaudio.plot.drums import drums_figure

    y = np.zeros(SR * 2, np.float32)
    y[::400] = 0.5
    result = nmfaudio.separate_drums(y, SR, max_iter=5, random_state=0)

    def hits_at(name, times):
        times = np.asarray(times, float)
        return ClassHits(name, 49, times, np.ones_like(times), np.full(times.size, 100, dtype=int))

    found = DrumHits({"kick": hits_at("kick", [0.5]), "cymbals": hits_at("cymbals", [0.25]),
                      "cymbals_ride": hits_at("cymbals_ride", [1.0, 1.5])})
    activations = _axis(drums_figure(result, hits=found), "activations")
    markers = dict(zip(result.activations, [line for line in activations.get_lines() if line.get_marker() == "v"]))
    np.testing.assert_allclose(sorted(markers["cymbals"].get_xdata()), [0.25, 1.0, 1.5],
                               atol=0.5 * result.hop_length / SR)  # drawn at the nearest frame
    assert len(markers["kick"].get_xdata()) == 1 and len(markers["snare"].get_xdata()) == 0


def test_a_class_without_hits_leaves_no_blank_under_the_figure():
    """A class with no hits (the loop's toms) has an empty marker line; drawn unclipped it
    counted in the constrained layout as a point at the figure's corner, and the panels
    ended a fifth of the figure above its bottom (tour62: 1.7 of 17.2 inches blank)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from nmfaudio.plot.drums import drums_figure

    y = np.zeros(SR * 2, np.float32)
    y[::400] = 0.5
    result = nmfaudio.separate_drums(y, SR, max_iter=5, random_state=0)
    fig = drums_figure(result)
    FigureCanvasAgg(fig).draw()
    bottom = _axis(fig, "activations").get_position().y0 * fig.get_size_inches()[1]
    assert bottom < 0.8, f"{bottom:.2f} inches under the activations panel"


def test_a_long_recordings_spectrograms_are_pooled_and_keep_a_one_frame_click():
    """Past plot.audio.MAX_COLUMNS frames each spectrogram panel is pooled (the loudest
    frame of each column): drawn frame by frame, a 10-minute file's drum figure took 11 GB
    and 100 s.  A click one frame long keeps its level (to 1e-6 dB) in the pooled panel."""
    import types

    from matplotlib.collections import QuadMesh

    from nmfaudio import spectrum
    from nmfaudio.plot.audio import MAX_COLUMNS
    from nmfaudio.plot.drums import drums_figure

    sr, hop, n_fft = 8000, 64, 256
    n = (3 * MAX_COLUMNS + 7) * hop  # 3 frames per column, the last column of fewer
    rng = np.random.default_rng(0)
    quiet = (1e-3 * rng.standard_normal(n)).astype(np.float32)
    kick = np.zeros(n, np.float32)
    kick[n // 2] = 1.0  # a one-sample click
    result = types.SimpleNamespace(sources={"kick": kick, "residual": quiet}, sr=sr, n_fft=n_fft, hop_length=hop,
                                   activations={"kick": np.zeros(1 + n // hop)}, name="long")
    fig = drums_figure(result)
    panels = {ax.get_title(): [c for c in ax.collections if isinstance(c, QuadMesh)][0] for ax in fig.axes
              if ax.get_title() and any(isinstance(c, QuadMesh) for c in ax.collections)}  # not the colorbar
    assert set(panels) == {"mixture", "kick (separated)", "residual (separated)"}
    for mesh in panels.values():
        columns = mesh.get_coordinates().shape[1] - 1
        assert columns <= MAX_COLUMNS
        edges = mesh.get_coordinates()[0, :, 0]
        np.testing.assert_allclose([edges[0], edges[-1]], [0, n / sr], rtol=0, atol=1e-9)
    mixture = np.abs(spectrum.stft(kick + quiet, n_fft=n_fft, hop_length=hop))
    full_db = 20 * np.log10(np.abs(spectrum.stft(kick, n_fft=n_fft, hop_length=hop))[1:].max() / mixture.max())
    assert abs(float(panels["kick (separated)"].get_array().max()) - full_db) < 1e-6


def test_a_long_separations_mixture_panel_is_pooled():
    """``nmfaudio separate --plot``'s mixture panel is pooled the same way (the loudest
    frame of each column), so its size does not grow with the recording."""
    import types

    from matplotlib.collections import QuadMesh

    from nmfaudio.plot.audio import MAX_COLUMNS, separation_figure

    hop, k = 64, 2
    n = (2 * MAX_COLUMNS + 1) * hop
    components = np.random.default_rng(0).standard_normal((k, n)).astype(np.float32) * 1e-3
    components[0, n // 3] = 1.0  # a one-sample click
    n_frames = 1 + n // hop
    separation = types.SimpleNamespace(components=components, sr=SR, n_fft=256, hop_length=hop, n_components=k,
                                       W=np.ones((129, k)), H=np.ones((k, n_frames)), loss=[2.0, 1.0], n_iter=1,
                                       beta="frobenius", name="long")
    ax = _axis(separation_figure(separation), "mixture")
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert mesh.get_coordinates().shape[1] - 1 <= MAX_COLUMNS
    from nmfaudio import spectrum

    magnitude = np.abs(spectrum.stft(components.sum(axis=0), n_fft=256, hop_length=hop))
    full_db = 20 * np.log10(magnitude[1:].max() / magnitude.max())  # the panel leaves 0 Hz out
    assert abs(float(mesh.get_array().max()) - full_db) < 1e-6  # the click's column keeps its level


def test_a_long_separations_mixture_panel_is_made_a_stretch_at_a_time(monkeypatch):
    """The lead (2026-12-07): the mixture panel took the whole recording's STFT (``nmfaudio
    separate -k 4 --plot`` on 10 minutes of stereo 44.1 kHz: 2.83 GiB resident against 1.38
    without the figure, which ``--max-memory`` does not count).  Made a few frames at a time
    (``mixture_columns``): the same pooled values as the whole STFT's (to float32 rounding), and the
    figure's traced peak under 0.4 of the whole complex STFT's bytes (the whole STFT: more
    than it)."""
    import tracemalloc
    import types

    from nmfaudio import spectrum
    from nmfaudio.plot import audio as plot_audio

    hop, n_fft, k = 512, 2048, 2
    n = SR * 480
    components = (np.random.default_rng(1).standard_normal((k, 2, n)) * 1e-2).astype(np.float32)
    components[1, :, n // 3] = 1.0  # a click
    n_frames = 1 + n // hop
    separation = types.SimpleNamespace(components=components, sr=SR, n_fft=n_fft, hop_length=hop, n_components=k,
                                       W=np.ones((1 + n_fft // 2, k)), H=np.ones((k, 2, n_frames)), loss=[2.0, 1.0],
                                       n_iter=1, beta="frobenius", name="long")
    whole_stft_bytes = 2 * (1 + n_fft // 2) * n_frames * np.dtype(np.complex64).itemsize
    monkeypatch.setattr(plot_audio, "STRETCH_FRAMES", 128)
    plot_audio.separation_figure(separation)  # matplotlib's first use: its own imports and caches
    tracemalloc.start()
    try:
        plot_audio.separation_figure(separation)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.4 * whole_stft_bytes, (peak, whole_stft_bytes)
    short = components[..., : 40 * SR]  # the values: the whole STFT pooled as pooled_columns does
    X = spectrum.stft(short.sum(axis=0), n_fft=n_fft, hop_length=hop)
    expected, edges = plot_audio.pooled_columns(np.abs(X).mean(axis=0), 40.0, max_columns=100)
    got, got_edges = plot_audio.mixture_columns(short, 40.0, n_fft=n_fft, hop_length=hop, max_columns=100)
    # each frame's FFT batched with other frames: exact on the AMD EPYC it was written on (0
    # difference), rounding allowed where another CPU's FFT kernels batch frames otherwise
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6 * float(expected.max()))
    np.testing.assert_array_equal(got_edges, edges)


def test_each_figure_names_the_other_for_the_other_result(tmp_path):
    # separation_figure(separate_drums(...)) raised AttributeError: 'DrumSeparation' object
    # has no attribute 'magnitude', drums_figure(separate(...)) "'Separation' object has no
    # attribute 'sources'", and drums_figure of a streamed result (stream_to: no stems kept)
    # "'int' object has no attribute 'shape'" (main before 2026-12-06, tour15).
    from nmfaudio.plot.audio import separation_figure
    from nmfaudio.plot.drums import drums_figure

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drums = nmfaudio.separate_drums(_mixture(0.5), SR, max_iter=3, random_state=0)
    with pytest.raises(TypeError, match=r"separation_figure draws the result of nmfaudio\.separate .*"
                                        r"got DrumSeparation: draw it with nmfaudio\.plot\.drums\.drums_figure"):
        separation_figure(drums)
    with pytest.raises(TypeError, match=r"drums_figure draws the result of nmfaudio\.separate_drums .*"
                                        r"got Separation: draw it with nmfaudio\.plot\.audio\.separation_figure"):
        drums_figure(_separation(2))
    with pytest.raises(TypeError, match=r"got ndarray: give the result of nmfaudio\.separate_drums"):
        drums_figure(_mixture(0.5))
    path = tmp_path / "take.wav"
    nmfaudio.save(path, _mixture(0.5), SR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        streamed = nmfaudio.separate_drums(path, max_iter=3, random_state=0, stream_to=lambda start, tracks: None)
    with pytest.raises(ValueError, match=r"holds no stems to draw: separate_drums\(\.\.\., stream_to=\.\.\.\)"):
        drums_figure(streamed)


@pytest.mark.parametrize("shape, max_columns", [((2, 3 * 8000 + 123), 1500), ((5000,), 1500), ((2, 40000), 37)])
def test_panels_read_from_files_a_stretch_at_a_time_equal_the_in_memory_panels(shape, max_columns):
    """The streamed drum figure's panels (the stems read back a stretch at a time, mend62)
    are the in-memory panels bit for bit: each track's and the mixture's (their sum)."""
    from nmfaudio import audio, spectrum
    from nmfaudio.plot.audio import pooled_columns
    from nmfaudio.plot.drums import pooled_from_readers

    rng = np.random.default_rng(0)
    sources = {name: (gain * rng.standard_normal(shape)).astype(np.float32)
               for name, gain in (("kick", 1.0), ("snare", 0.5), ("residual", 0.1))}
    n = shape[-1]
    panels, mixture, edges = pooled_from_readers({name: audio.ArrayReader(y) for name, y in sources.items()}, n,
                                                 n_fft=512, hop_length=128, duration=n / SR, max_columns=max_columns)
    for name, y in (*sources.items(), ("mixture", sum(sources.values()))):
        X = np.abs(spectrum.stft(y, n_fft=512, hop_length=128))
        expected, expected_edges = pooled_columns(X if X.ndim == 2 else X.mean(axis=0), n / SR,
                                                  max_columns=max_columns)
        np.testing.assert_array_equal(mixture if name == "mixture" else panels[name], expected)
        np.testing.assert_array_equal(edges, expected_edges)


def test_spectrogram_rows_are_pooled_to_the_figures_resolution():
    """Drawn bin by bin (2049 rows at n_fft 4096), a 10-minute file's seven drum panels took
    1.3 GB in matplotlib (mend62): rows closer than 1/32 octave are pooled (their mean
    power), the low bins stay as they are, the axis keeps its range."""
    from matplotlib.collections import QuadMesh
    from matplotlib.figure import Figure

    from nmfaudio.plot.audio import ROWS_PER_OCTAVE, log_frequency_image

    n_fft, sr = 4096, 44100
    decibels = np.full((1 + n_fft // 2, 3), -40.0)
    decibels[5] = -3.0  # a low bin (54 Hz): kept as it is
    ax = Figure().subplots()
    mesh = log_frequency_image(ax, decibels, sr=sr, n_fft=n_fft, x_edges=np.arange(4.0))
    assert isinstance(mesh, QuadMesh)
    rows = mesh.get_coordinates()[:, 0, 1]
    assert len(rows) - 1 < 12 * ROWS_PER_OCTAVE  # 2048 bins, 11 octaves: at most 32 rows each
    assert rows[0] == pytest.approx(0.5 * sr / n_fft) and rows[-1] == pytest.approx((n_fft // 2 + 0.5) * sr / n_fft)
    assert float(mesh.get_array().max()) == pytest.approx(-3.0)
    high = rows[:-1] >= 1000  # 4.5 octaves up to Nyquist: 32 rows each (one more where the grid starts)
    assert high.sum() <= ROWS_PER_OCTAVE * np.log2(rows[-1] / 1000) + 2


@pytest.mark.parametrize("extra", [[], ["--block-seconds", "1"]])
def test_drums_plot_with_two_stems_draws_the_files_written(tmp_path, monkeypatch, extra):
    """``nmfaudio drums --plot --stems drums`` writes <stem>_drums and <stem>_accompaniment;
    its figure's spectrogram panels are those two (and the mixture), in memory and
    block-wise.  Before review64 it drew the five class stems and the residual,
    none of them written.  Without --stems drums: a panel per class, as before."""
    import soundfile as sf

    from nmfaudio import batch
    from nmfaudio.cli import main

    y = np.zeros(SR * 2, np.float32)
    t = np.arange(2000) / SR
    for start in (0.1, 0.6, 1.1, 1.6):
        i = int(start * SR)
        y[i:i + t.size] += np.sin(2 * np.pi * 60 * t) * np.exp(-20 * t)
    y += 0.05 * np.sin(2 * np.pi * 440 * np.arange(y.size) / SR).astype(np.float32)
    wav = tmp_path / "beat.wav"
    sf.write(wav, y, SR, subtype="FLOAT")
    drawn = []
    real = batch.save_figure
    monkeypatch.setattr(batch, "save_figure", lambda figure, *a, **k: (drawn.append(figure), real(figure, *a, **k)))
    for stems, panels in (("drums", ["mixture", "drums", "accompaniment"]),
                          ("all", ["mixture", "kick", "snare", "toms", "hihat", "cymbals", "residual"])):
        out = tmp_path / stems
        assert main(["drums", str(wav), "-o", str(out), "--plot", "--stems", stems, "--max-iter", "10", "--free", "1",
                     *extra]) == 0
        assert (out / "beat_drums.png").is_file()
        titles = [ax.get_title().split(" ")[0] for ax in drawn[-1].axes if ax.get_title()]
        shown = [name for name in titles if name != "activations"]
        # a silent class's panel may be left out, never one that is not a file
        assert shown[0] == "mixture" and set(shown) <= set(panels) and {"mixture", panels[1]} <= set(shown), titles
        if stems == "drums":  # both files drawn, whatever they hold
            assert shown == panels, titles


def test_drum_figure_in_memory_holds_no_full_spectrogram(monkeypatch):
    """``drums_figure`` on a result holding its stems pools each panel a stretch of frames
    at a time (:func:`pooled_from_readers`, as from files): no STFT it computes spans more
    than :data:`READ_FRAMES` frames, and the figure is the same as from the tracks given
    as readers.  Before review66 (mend66) it held the mixture's sum and each panel's full
    STFT (``stems="drums"`` on 3 minutes of stereo 44.1 kHz: 529 MB traced, 161 MB now;
    the command's peak 1.35 GB, 0.94 GB now; docs/performance.md)."""
    from nmfaudio import spectrum
    from nmfaudio.audio import ArrayReader
    from nmfaudio.plot.drums import READ_FRAMES, drums_figure

    n = SR * 100  # 100 s at 8 kHz: 1563 frames of hop 512, four stretches of READ_FRAMES
    y = np.zeros((2, n), np.float32)
    t = np.arange(800) / SR
    for start in range(0, n - t.size, SR // 2):
        y[:, start:start + t.size] += np.sin(2 * np.pi * 60 * t) * np.exp(-20 * t)
    y += 0.01 * np.random.default_rng(0).standard_normal(y.shape).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nmfaudio.separate_drums(y, SR, max_iter=3, random_state=0)
    assert spectrum.n_frames(n, hop_length=result.hop_length, n_fft=result.n_fft) > 3 * READ_FRAMES
    hits = result.hits()
    widest = []
    real = spectrum.stft

    def counted(*args, **kwargs):
        X = real(*args, **kwargs)
        widest.append(X.shape[-1])
        return X

    monkeypatch.setattr(spectrum, "stft", counted)
    for stems in ("all", "drums"):
        widest.clear()
        fig = drums_figure(result, hits=hits, stems=stems)
        assert widest and max(widest) <= READ_FRAMES, (stems, max(widest))
        sources = result.two_stems() if stems == "drums" else result.sources
        given = drums_figure(result, hits=hits, stems=stems,
                             tracks={name: ArrayReader(track) for name, track in sources.items()})
        for ax, other in zip(fig.axes, given.axes):  # the same panels, the same pixels' values
            assert ax.get_title() == other.get_title()
            for mine, theirs in zip(ax.collections, other.collections):
                np.testing.assert_array_equal(np.asarray(mine.get_array()), np.asarray(theirs.get_array()))
