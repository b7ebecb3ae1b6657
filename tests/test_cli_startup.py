"""The command line's start-up and exit (docs/performance.md, the start-up round of
2026-12-05): ``--help``, ``--version`` and usage or input errors import none of the heavy
modules; the entry point :func:`nmfaudio.cli.run` exits with main's code after the
threads and ``atexit`` functions Python's exit would run."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOOP = ROOT / "data" / "drum_loop.wav"

#: Modules the parser, --help, --version and the refusal of a bad input must not import:
#: the separation (scipy.signal, the engine) and the libraries it brings.
HEAVY = ("nmfaudio.drums.separation", "nmfaudio.drums.hits", "nmfaudio.nmf", "scipy.signal", "librosa",
         "sklearn", "matplotlib")


#: Modules a default ``nmfaudio drums`` run does not need (0.9-1.0 s of its start-up
#: together): scipy.signal (and the scipy.stats it brings), librosa's windows, utilities,
#: onsets and STFT modules; the drum code picks peaks and makes windows itself.
NOT_FOR_A_SEPARATION = ("scipy.signal", "scipy.stats", "librosa.filters", "librosa.util.utils", "librosa.onset",
                        "librosa.core.spectrum", "librosa.core.audio", "librosa.feature", "sklearn", "matplotlib")


def _modules_after(argv: list[str], cwd, watched=HEAVY) -> tuple[int, list[str]]:
    """Run ``nmfaudio.cli.main(argv)`` in a fresh interpreter; (its code, the modules
    starting with one of ``watched`` it imported)."""
    script = f"""
import contextlib, io, json, sys
from nmfaudio.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main({argv!r})
print(json.dumps([code, sorted(m for m in sys.modules if m.startswith({tuple(watched)!r}))]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    code, modules = json.loads(done.stdout.strip().splitlines()[-1])
    return code, modules


@pytest.mark.parametrize("argv, code", [
    (["--help"], 0),
    (["--version"], 0),
    (["drums", "--help"], 0),
    (["separate", "--help"], 0),
    (["image", "--help"], 0),
    (["spikes", "--help"], 0),
    (["drums", "x.wav"], 2),  # usage error: -o missing
    (["drums", "missing.wav", "-o", "out"], 1),  # no such input
    (["drums", "not_audio.wav", "-o", "out"], 1),  # not audio
])
def test_help_version_and_bad_inputs_import_no_heavy_module(tmp_path, argv, code):
    (tmp_path / "not_audio.wav").write_text("hello")
    got, modules = _modules_after(argv, tmp_path)
    assert got == code
    assert modules == [], f"{argv} imported {modules}"
    assert not (tmp_path / "out").exists()  # refused before any output folder


@pytest.mark.parametrize("extra", [[], ["--midi", "--onsets", "--json"]])
def test_a_drum_separation_imports_neither_scipy_signal_nor_librosas_utilities(tmp_path, extra):
    """The separation, its hits and their files load none of :data:`NOT_FOR_A_SEPARATION`
    (docs/performance.md, the second start-up round of 2026-12-05)."""
    code, modules = _modules_after(["drums", str(LOOP), "-o", "out", *extra], tmp_path, NOT_FOR_A_SEPARATION)
    assert code == 0
    assert modules == [], modules
    assert (tmp_path / "out" / "drum_loop_kick.wav").exists()


#: Modules a drum run whose stderr is no terminal (a script's, the benchmark's) does not
#: need: tqdm (its bar would not show) and the multiprocessing its lock loads; the image
#: and spike adapters (the parser read three defaults from them): ~14 ms of the one-core
#: start-up together (docs/performance.md, the speed50 round).
NOT_FOR_A_SCRIPTED_RUN = ("tqdm", "multiprocessing", "nmfaudio.adapters")


def test_a_scripted_drum_run_imports_neither_tqdm_nor_the_adapters(tmp_path):
    code, modules = _modules_after(["drums", str(LOOP), "-o", "out", "--midi", "--onsets"], tmp_path,
                                   NOT_FOR_A_SCRIPTED_RUN)
    assert code == 0
    assert modules == [], modules
    assert (tmp_path / "out" / "drum_loop_kick.wav").exists()
    # the parser's copies of the adapters' defaults are the adapters' own
    from nmfaudio.adapters import image, spikes
    from nmfaudio.cli import image as image_cli
    from nmfaudio.cli import spikes as spikes_cli

    assert (image_cli.SWEEP_MAX_ITER, image_cli.SWEEP_TOL) == (image.SWEEP_MAX_ITER, image.SWEEP_TOL)
    assert spikes_cli.METHODS == spikes.METHODS


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_hidden_bar_does_what_a_disabled_tqdm_does(monkeypatch):
    """Without a terminal, :func:`nmfaudio.cli.new_bar` is a :class:`~nmfaudio.cli.HiddenBar`
    (tqdm not imported) that draws nothing and writes lines as ``tqdm.write`` does; on a
    terminal it is tqdm's bar, as before."""
    from tqdm import tqdm

    from nmfaudio import cli

    streams = {}
    for name in ("tqdm", "hidden"):
        streams[name] = stream = io.StringIO()
        monkeypatch.setattr("sys.stderr", stream)
        bar = (tqdm(total=5, desc="NMF", unit="it", file=stream, disable=None, leave=False, dynamic_ncols=True)
               if name == "tqdm" else cli.new_bar(total=5, desc="NMF", unit="it", leave=False))
        assert isinstance(bar, cli.HiddenBar) == (name == "hidden")
        bar.update(3 - bar.n)
        bar.set_postfix(loss="1.5", refresh=False)
        bar.reset(total=2)
        bar.update(1)
        bar.write("a line", file=stream)
        bar.write("another", file=stream, end="!")
        streams[name + " n"] = bar.n
        bar.close()
    assert streams["hidden"].getvalue() == streams["tqdm"].getvalue() == "a line\nanother!"
    assert streams["hidden n"] == streams["tqdm n"] == 0  # a disabled tqdm does not count
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert cli.bar_writer() is tqdm
    bar, callback = cli.progress_bar(10)
    try:
        assert isinstance(bar, tqdm) and not bar.disable
        callback(4, 1.0)
        assert bar.n == 4
    finally:
        bar.close()
    assert "NMF" in terminal.getvalue()


def test_the_default_classes_are_every_class(tmp_path):
    """``--classes`` defaults to None in the parser (no templates import there); the run
    reads it as every class, as the parser's default used to be."""
    from nmfaudio.cli import build_parser
    from nmfaudio.drums import CLASSES

    args = build_parser().parse_args(["drums", str(LOOP), "-o", str(tmp_path)])
    assert args.classes is None
    from nmfaudio.cli.drums import drum_options

    args.classes = CLASSES  # what run_drums does first
    assert drum_options(args)["classes"] == CLASSES == ("kick", "snare", "toms", "hihat", "cymbals")


def _entry(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)


def test_run_exits_with_mains_code_after_threads_and_atexit(tmp_path):
    """run() skips only the interpreter's tear-down: a non-daemon thread still running is
    joined, atexit functions run (after it, as in Python's exit), and the code and the
    printed lines come through."""
    code = """
import atexit, sys, threading, time
def late():
    time.sleep(0.3)
    print("thread done", flush=True)
threading.Thread(target=late).start()
atexit.register(lambda: print("atexit ran"))  # not flushed here: run() flushes
sys.argv = ["nmfaudio", "--version"]
from nmfaudio.cli import run
run()
print("not reached")
"""
    done = _entry(code, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # the thread's line may come before or after the version's (when the thread ran out
    # while the CLI was being imported); the atexit function's comes after both
    assert sorted(lines[:2]) == ["nmfaudio 0.1.0", "thread done"] and lines[2:] == ["atexit ran"], done.stdout


@pytest.mark.parametrize("argv, code, needle", [
    (["drums", "missing.wav", "-o", "out"], 1, "nmfaudio: error: 'missing.wav' does not exist"),
    (["drums"], 2, "nmfaudio drums: error:"),
])
def test_python_m_nmfaudio_keeps_the_exit_codes(tmp_path, argv, code, needle):
    done = subprocess.run([sys.executable, "-m", "nmfaudio", *argv], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith(needle) and len(done.stderr.splitlines()) == 1, done.stderr


def test_the_entry_point_is_run():
    """The installed ``nmfaudio`` command calls run() (the quick exit), not main()."""
    text = (ROOT / "pyproject.toml").read_text()
    assert 'nmfaudio = "nmfaudio.cli:run"' in text


def test_run_pauses_the_collector_until_the_fit_iterates(tmp_path):
    """run() (the process's entry point) keeps Python's cyclic garbage collector from
    passing over the start-up's ~190 000 long-lived objects (0.07-0.14 s of a drum run's
    one-core start-up, docs/performance.md, speed48): no collection before the fit's first
    iteration; from there on it collects again, the start-up's objects frozen.  main()
    called from Python leaves the collector alone."""
    code = f"""
import gc, json, sys
passes = []
gc.callbacks.append(lambda phase, info: passes.append(info["generation"]) if phase == "start" else None)
import contextlib, io
from nmfaudio import cli
with contextlib.redirect_stdout(io.StringIO()):
    assert cli.main(["drums", {str(LOOP)!r}, "-o", "lib"]) == 0
library = [gc.isenabled(), gc.get_freeze_count()]
import nmfaudio.cli.drums as drums
made = drums.progress_bar
seen = {{}}
def progress_bar(total):
    bar, callback = made(total)
    def first(iteration, loss):
        if not seen:
            seen["passes"], seen["paused"] = len(passes), not gc.isenabled()
        out = callback(iteration, loss)
        seen.setdefault("enabled", gc.isenabled())
        seen.setdefault("frozen", gc.get_freeze_count())
        return out
    return bar, first
drums.progress_bar = progress_bar
passes.clear()
import atexit
atexit.register(lambda: print(json.dumps([library, seen])))
sys.argv = ["nmfaudio", "drums", {str(LOOP)!r}, "-o", "out"]
cli.run()
"""
    done = _entry(code, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    library, seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert library == [True, 0]  # main(): the collector untouched
    assert seen["paused"] and seen["passes"] == 0, seen  # nothing collected before the fit iterated
    assert seen["enabled"] and seen["frozen"] > 10_000, seen  # then collecting again, the start-up frozen
    assert (tmp_path / "out" / "drum_loop_kick.wav").exists()


def _scipy_writes_docstring_notes() -> None:
    """Skip unless this SciPy is one whose import writes the notes run() skips: its modules of
    :data:`nmfaudio.cli._startup._SCIPY_DOCS` with their decorators and the ``FunctionDoc`` parser
    (SciPy 1.17).  Another SciPy (the names moved or gone) gets nothing swapped in, and
    these tests would be testing SciPy's layout rather than nmfaudio."""
    import importlib

    from nmfaudio.cli import _startup

    for name, decorator in _startup._SCIPY_DOCS.items():
        module = importlib.import_module(name)
        if not (callable(getattr(module, decorator, None)) and callable(getattr(module, _startup._PARSER, None))):
            pytest.skip(f"this SciPy's {name} has no {decorator} / {_startup._PARSER}: no docstring notes to skip")


def test_run_skips_scipys_docstring_notes_during_the_start_up(tmp_path):
    """run()'s start-up imports SciPy without its docstring notes (the parsing and
    rendering of ~280 docstrings: 0.1-0.2 s of the one-core start-up, docs/performance.md,
    speed50); SciPy's parsers are back once the fit iterates, the finder gone; main() called
    from Python leaves SciPy's docstrings alone.  The outputs are the same bytes either way."""
    _scipy_writes_docstring_notes()
    code = f"""
import json, sys
import contextlib, io
from nmfaudio import cli
import nmfaudio.cli.drums as drums
made = drums.progress_bar
seen = {{}}
def progress_bar(total):
    bar, callback = made(total)
    def first(iteration, loss):
        if not seen:
            import scipy.fft, scipy.linalg, scipy.ndimage, scipy.special
            seen["notes"] = ["dev-arrayapi" in (f.__doc__ or "")
                             for f in (scipy.fft.rfft, scipy.ndimage.median_filter, scipy.special.gamma)]
            seen["notes"].append("linalg_batch" in scipy.linalg.cholesky.__doc__)
            seen["median_filter"] = scipy.ndimage.median_filter.__doc__.lstrip().startswith("Calculate")
        out = callback(iteration, loss)
        import scipy._lib._array_api as api, scipy._lib._util as util, scipy._lib._docscrape as docscrape
        seen.setdefault("parser back", api.FunctionDoc is util.FunctionDoc is docscrape.FunctionDoc)
        seen.setdefault("finders", [type(f).__name__ for f in sys.meta_path if "Scipy" in type(f).__name__])
        return out
    return bar, first
drums.progress_bar = progress_bar
import atexit
atexit.register(lambda: print(json.dumps(seen)))
sys.argv = ["nmfaudio", "drums", {str(LOOP)!r}, "-o", "out"]
cli.run()
"""
    done = _entry(code, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["notes"] == [False, False, False, False] and seen["median_filter"], seen
    assert seen["parser back"] and seen["finders"] == [], seen
    assert (tmp_path / "out" / "drum_loop_kick.wav").exists()
    library = f"""
import contextlib, io
from nmfaudio import cli
with contextlib.redirect_stdout(io.StringIO()):
    assert cli.main(["drums", {str(LOOP)!r}, "-o", "lib"]) == 0
import scipy.fft, scipy.linalg
print("dev-arrayapi" in scipy.fft.rfft.__doc__ and "linalg_batch" in scipy.linalg.cholesky.__doc__)
"""
    done = _entry(library, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"


def test_the_noteless_doc_keeps_the_docstring_and_falls_back_to_scipys_parser():
    """What SciPy's ``xp_capabilities`` does with its parser — append a note to Notes, render,
    drop the first line — leaves the docstring as it was; any other use is the real
    parser's, with the notes given to it."""
    _scipy_writes_docstring_notes()
    from scipy._lib._docscrape import FunctionDoc

    from nmfaudio.cli._startup import _NotelessDoc

    def f(x):
        """Add one.

        Parameters
        ----------
        x : float

        Notes
        -----
        Plain.
        """
        return x + 1

    for section in ("Notes", "Extended Summary"):  # xp_capabilities', _apply_over_batch's
        doc = _NotelessDoc(FunctionDoc, f)
        doc[section].append("the note")
        assert str(doc).split("\n", 1)[1].lstrip(" \n") == f.__doc__.lstrip(" \n")
        doc = _NotelessDoc(FunctionDoc, f)
        doc[section].append("the note")
        assert [p.name for p in doc["Parameters"]] == ["x"]  # another section: the real parser
        real = FunctionDoc(f)
        real[section].append("the note")
        assert str(doc) == str(real) and "the note" in str(doc)
    doc = _NotelessDoc(FunctionDoc, f)
    doc["Notes"] = ["replaced"]  # a section set: the real parser's
    assert "replaced" in str(doc) and "Plain." not in str(doc)


def test_a_batch_collects_as_usual(tmp_path, monkeypatch):
    """Several inputs in one process: run_batch ends run()'s pause of the collector before
    the batch starts (the pause is for one file's start-up)."""
    import gc
    import shutil

    from nmfaudio import batch, cli
    from nmfaudio.cli import _startup

    (tmp_path / "in").mkdir()
    shutil.copy(LOOP, tmp_path / "in")
    seen = []

    def plan(*args, **kwargs):  # the batch's first step: record the collector's state, stop there
        seen.append(gc.isenabled())
        raise cli.CLIError("stopped by the test")

    monkeypatch.setattr(batch, "plan", plan)
    monkeypatch.setattr(_startup, "_collector_paused", True, raising=False)  # as run() leaves it (_startup.begin)
    gc.disable()
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            code = cli.main(["drums", str(tmp_path / "in"), "-o", str(tmp_path / "out")])
    finally:
        gc.enable()
        gc.unfreeze()  # resume_collector froze this test process's objects: give them back to the collector
    assert code == 1 and seen == [True]


#: Modules numba's compiler refresh imports (its implementations of NumPy's functions, of
#: print, of cffi calls) and loading a compiled kernel from the cache does not.
_REFRESH_ONLY = ("numba.np.npyimpl", "numba.cpython.printimpl", "numba.misc.cffiimpl")


def test_run_loads_the_kernels_without_refreshing_numbas_compiler(tmp_path):
    """run()'s process loads nmfaudio's kernels from numba's cache without numba's refresh
    of its compiler before the first load (~320 implementation modules: ~0.15 s of the
    one-core start-up, docs/performance.md, speed51): the outputs are the bytes of a run
    through main(), which leaves numba as it is."""
    library = f"""
import contextlib, io, json, sys
from nmfaudio import cli
with contextlib.redirect_stdout(io.StringIO()):
    assert cli.main(["drums", {str(LOOP)!r}, "-o", "lib"]) == 0  # compiles and caches the kernels if need be
from numba.core import caching
print(json.dumps([getattr(caching.Cache.load_overload, "light", False),
                  [m for m in {_REFRESH_ONLY!r} if m in sys.modules]]))
"""
    done = _entry(library, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    light, refreshed = json.loads(done.stdout.strip().splitlines()[-1])
    assert not light and refreshed == list(_REFRESH_ONLY)  # main(): numba's own loads, refreshed
    code = f"""
import atexit, json, sys
from nmfaudio import cli
def seen():
    from numba.core import caching
    print(json.dumps([getattr(caching.Cache.load_overload, "light", False),
                      [m for m in {_REFRESH_ONLY!r} if m in sys.modules]]))
atexit.register(seen)
sys.argv = ["nmfaudio", "drums", {str(LOOP)!r}, "-o", "out"]
cli.run()
"""
    done = _entry(code, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    light, refreshed = json.loads(done.stdout.strip().splitlines()[-1])
    assert light and refreshed == [], (light, refreshed)
    for stem in ("kick", "snare", "toms", "hihat", "cymbals", "residual"):
        name = f"drum_loop_{stem}.wav"
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "lib" / name).read_bytes(), name


def test_a_light_load_is_for_nmfaudios_kernels_only():
    """Another function's cache load (a user's, a library's) is numba's own, refresh and all."""
    from nmfaudio.cli import _startup

    calls = []

    def numbas(cache, sig, context):
        calls.append(sig)
        return "numba's"

    class Cache:  # numba's Cache as far as the light load reads it
        def __init__(self, function):
            self._py_func = function

        def _guard_against_spurious_io_errors(self):
            return contextlib.nullcontext()

        def _load_overload(self, sig, context):
            return "light"

    load = _startup._light_load_overload(numbas)
    assert load(Cache(json.dumps), "sig", None) == "numba's" and calls == ["sig"]
    assert load.light and load.__wrapped__ is numbas


def test_run_loads_the_unused_parts_at_their_first_use(tmp_path):
    """During run()'s start-up SciPy's copy of NumPy's namespace gets ``numpy.f2py`` and
    ``numpy.testing`` as modules whose code runs at their first use (their import with
    ``charset_normalizer`` and ``unittest``), and numba's configuration gets ``yaml`` so
    (0.05-0.1 s of the one-core start-up together, docs/performance.md, speed51): the same
    module objects, loaded when read; the finder gone once the fit iterates."""
    code = f"""
import atexit, json, sys
from nmfaudio import cli
def seen():
    import scipy._lib.array_api_compat.numpy as xp
    ran = ("numpy.f2py.crackfortran", "numpy.testing._private", "yaml.cyaml")
    state = {{"same": xp.f2py is sys.modules["numpy.f2py"] and xp.testing is sys.modules["numpy.testing"],
              "ran": [m for m in ran if m in sys.modules],
              "finders": [type(f).__name__ for f in sys.meta_path if "Lazy" in type(f).__name__]}}
    import numba.core.config as config  # a .numba_config.yaml read through the lazy yaml
    with open(".numba_config.yaml", "w") as f:
        f.write("show_help: 1\\n")
    config.reload_config()
    state["used"] = (callable(xp.testing.assert_array_equal) and callable(xp.f2py.run_main)
                     and config.SHOW_HELP == 1)
    state["ran after"] = [m for m in ran if m in sys.modules]
    print(json.dumps(state))
atexit.register(seen)
sys.argv = ["nmfaudio", "drums", {str(LOOP)!r}, "-o", "out"]
cli.run()
"""
    done = _entry(code, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["same"] and state["ran"] == [] and state["finders"] == [], state
    assert state["used"] and len(state["ran after"]) == 3, state

