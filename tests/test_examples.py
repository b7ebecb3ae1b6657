"""Issue 19: the examples and data scripts run as written — every option has help, the
description is whole, existing outputs are refused before the work, and a missing
renderer is one line naming the Debian packages to install."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def _import(path: Path):
    spec = importlib.util.spec_from_file_location(f"_example_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", [*EXAMPLES, ROOT / "data" / "make_drum_loop.py"], ids=lambda p: p.name)
def test_every_option_has_help_and_the_description_is_whole(path, capsys):
    module = _import(path)
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    description = " ".join(text.split("\n\n")[1].split())
    assert description.endswith("."), f"description cut: {description!r}"
    options = text.split("options:")[1] if "options:" in text else text.split("optional arguments:")[1]
    entries = [line for line in options.splitlines() if line.startswith("  -")]
    for entry in entries:
        name = entry.split()[0].rstrip(",")
        if name in ("-h",):
            continue
        # help follows the option on its line, or on the next (indented) line
        following = options.split(entry, 1)[1].splitlines()[1:2]
        has_help = len(entry.strip().split("  ")) > 1 or (following and following[0].startswith(" " * 10))
        assert has_help, f"{path.name}: {name} has no help text"


def test_make_drum_loop_without_fluidsynth_is_one_line_naming_the_packages(tmp_path, capsys, monkeypatch):
    script = _import(ROOT / "data" / "make_drum_loop.py")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(script, "SOUNDFONT", tmp_path / "missing.sf2")
    assert script.main(["--one-shots", str(tmp_path / "shots")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "install the Debian packages fluidsynth fluid-soundfont-gm" in err
    assert not (tmp_path / "shots").exists()  # checked before any work


def test_two_tones_refuses_existing_outputs_before_the_work(tmp_path, capsys, monkeypatch):
    import nmfaudio

    example = _import(ROOT / "examples" / "two_tones.py")
    (tmp_path / "frobenius").mkdir()
    (tmp_path / "frobenius" / "two_tones_component_02.wav").write_bytes(b"keep")
    monkeypatch.setattr(nmfaudio, "separate", lambda *a, **k: pytest.fail("the work ran first"))
    assert example.main([str(tmp_path)]) == 1
    assert "two_tones_component_02.wav already exists; use --force" in capsys.readouterr().err
    assert (tmp_path / "frobenius" / "two_tones_component_02.wav").read_bytes() == b"keep"


def test_drum_separation_refuses_existing_outputs_before_the_work(tmp_path, capsys, monkeypatch):
    import nmfaudio

    example = _import(ROOT / "examples" / "drum_separation.py")
    (tmp_path / "drum_loop_drums.png").write_bytes(b"keep")
    monkeypatch.setattr(nmfaudio, "separate_drums", lambda *a, **k: pytest.fail("the work ran first"))
    assert example.main([str(tmp_path)]) == 1
    assert "already exists; use --force" in capsys.readouterr().err


@pytest.mark.parametrize("leftover", ["drum_loop_toms.wav", "drum_loop_cymbals.wav"])
def test_drum_separation_refuses_every_stem_it_writes_before_the_work(leftover, tmp_path, capsys, monkeypatch):
    """The toms and cymbals stems are written too: one left from an earlier run is refused
    before the separation (before 2026-12-05, tour11, only the kick, snare, hi-hat,
    residual and figure were checked, and result.save refused it after the work)."""
    import nmfaudio

    example = _import(ROOT / "examples" / "drum_separation.py")
    (tmp_path / leftover).write_bytes(b"keep")
    monkeypatch.setattr(nmfaudio, "separate_drums", lambda *a, **k: pytest.fail("the work ran first"))
    assert example.main([str(tmp_path)]) == 1
    assert f"{leftover} already exists; use --force" in capsys.readouterr().err
    assert (tmp_path / leftover).read_bytes() == b"keep"


def test_spike_clustering_makes_the_plots_folder(tmp_path, capsys):
    """'--plot figs/clusters.png' with no figs/ yet: the folder is made, as the other
    examples make theirs (before 2026-12-05, tour11, a FileNotFoundError traceback after
    the clustering)."""
    example = _import(ROOT / "examples" / "spike_clustering.py")
    plot = tmp_path / "figs" / "clusters.png"
    assert example.main(["--plot", str(plot)]) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {plot}" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["image_compression", "punks"])
def test_image_examples_write_under_the_working_folder_and_refuse_existing_figures(name, tmp_path, capsys,
                                                                                   monkeypatch):
    """Their figures go to ./out/images where they are run, as the other examples' outputs
    (they went inside the repository), and existing ones are refused before the work
    unless --force (they were overwritten)."""
    import numpy as np
    from PIL import Image

    example = _import(ROOT / "examples" / f"{name}.py")
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    if name == "image_compression":
        Image.fromarray((rng.random((16, 12)) * 255).astype(np.uint8)).save(tmp_path / "p.png")
        argv = [str(tmp_path / "p.png"), "--ranks", "2", "--max-iter", "20"]
        work = "compress"
    else:
        np.savez(tmp_path / "p.npz", images=(rng.random((8, 24, 24, 4)) * 255).astype(np.uint8))
        argv = ["--punks", str(tmp_path / "p.npz"), "--n", "8", "--ds", "2,3", "--basis-d", "2", "--max-iter", "20"]
        work = "denoise_sweep"
    assert example.main(argv) == 0
    out = tmp_path / "out" / "images"
    assert sorted(p.name for p in out.iterdir()) == sorted(example.FIGURES)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    monkeypatch.setattr(example, work, lambda *a, **k: pytest.fail("the work ran first"))
    assert example.main(argv) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "already exists; use --force" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_image_compression_calls_an_exact_reconstruction_exact(tmp_path, capsys, monkeypatch):
    """A black photo's table read "inf inf nan" (PSNR, SVD PSNR, gap) before 2026-12-06
    (polish17); the command line says exact, and so does the example."""
    import warnings

    import numpy as np
    from PIL import Image

    example = _import(ROOT / "examples" / "image_compression.py")
    monkeypatch.chdir(tmp_path)
    Image.fromarray(np.zeros((16, 12), np.uint8)).save(tmp_path / "black.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the loss plot of a zero loss cannot be log-scaled
        assert example.main([str(tmp_path / "black.png"), "--ranks", "2", "--max-iter", "20"]) == 0
    row = capsys.readouterr().out.splitlines()[2].split()
    assert row[:4] == ["2", "exact", "exact", "0.00"], row


def test_spike_clustering_refuses_an_existing_plot_before_the_work(tmp_path, capsys, monkeypatch):
    example = _import(ROOT / "examples" / "spike_clustering.py")
    plot = tmp_path / "clusters.png"
    plot.write_bytes(b"keep")
    monkeypatch.setattr(example, "cluster", lambda *a, **k: pytest.fail("the work ran first"))
    assert example.main(["--plot", str(plot)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "already exists; use --force" in err
    assert plot.read_bytes() == b"keep"


def test_spike_clustering_refuses_a_figure_format_matplotlib_cannot_write(tmp_path, capsys, monkeypatch):
    # '--plot clusters.xyz': refused before the clustering with one line (it ran the work,
    # then matplotlib's ValueError ended it in a traceback); nothing is written
    example = _import(ROOT / "examples" / "spike_clustering.py")
    monkeypatch.setattr(example, "cluster", lambda *a, **k: pytest.fail("the work ran first"))
    assert example.main(["--plot", str(tmp_path / "clusters.xyz")]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "cannot write .xyz figures" in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, argv, exit_code, said", [
    ("image_compression", ["--ranks", "0,2"], 2, "argument --ranks: '0,2' must list ranks >= 1"),
    ("image_compression", ["{tmp}/row.png", "--ranks", "5"], 1,
     "--ranks 5 is larger than the picture: 40 x 1 pixels have at most 1 independent parts"),
    ("image_compression", ["{tmp}/missing.png"], 1, "does not exist"),
    ("punks", ["--ds", "0,2", "--basis-d", "2"], 2, "argument --ds: '0,2' must list numbers of basis images >= 1"),
    ("punks", ["--n", "0"], 2, "argument --n: '0' must be an int >= 1"),
    ("punks", ["--punks", "{tmp}/missing.npz"], 1, "does not exist"),
    ("punks", ["--punks", "{tmp}/p.npz", "--ds", "2,50", "--basis-d", "2"], 1,
     "--ds 50: 4 pictures have at most 4 independent parts"),
    ("spike_clustering", ["{tmp}/own.npy"], 1, "is not an .npz spike set; this example scores against ground truth"),
    ("spike_clustering", ["{tmp}/own.npz"], 1, "holds no labels, templates, single_channel, fs; "),
], ids=["ranks 0", "rank above the picture", "missing photo", "ds 0", "n 0", "missing punks", "d above the stack",
        "own .npy", "npz without ground truth"])
def test_examples_refuse_bad_input_in_one_line_before_the_work(name, argv, exit_code, said, tmp_path, capsys,
                                                               monkeypatch):
    """Each ended in a traceback before 2026-12-06 (tour18): `ValueError: rank=0 must be an
    int >= 1` after the work began, `FileNotFoundError`, `TypeError: 'numpy.ndarray' object
    does not support the context manager protocol` for one's own spike file.  Now one line
    (argparse's usage error, exit 2, for an option's value), nothing written."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((1, 40)) * 255).astype(np.uint8)).save(tmp_path / "row.png")
    np.savez(tmp_path / "p.npz", images=(rng.random((4, 24, 24, 4)) * 255).astype(np.uint8))
    np.save(tmp_path / "own.npy", rng.normal(size=(20, 30)))
    np.savez(tmp_path / "own.npz", waveforms=rng.normal(size=(20, 30)))
    example = _import(ROOT / "examples" / f"{name}.py")
    monkeypatch.chdir(tmp_path)
    argv = [arg.format(tmp=tmp_path) for arg in argv]
    try:
        code = example.main(argv)
    except SystemExit as exit_:  # argparse's usage error
        code = exit_.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == exit_code and "Traceback" not in "\n".join(err)
    # argparse names the program after sys.argv[0] (pytest's own under pytest)
    assert said in err[-1] and (err[-1].startswith(f"{name}.py: error: ") or exit_code == 2), err
    assert not (tmp_path / "out").exists()
