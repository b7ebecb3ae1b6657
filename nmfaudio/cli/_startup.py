"""The command line's start-up, made light for :func:`nmfaudio.cli.run`'s process.

:func:`begin` (called by ``run`` before ``main``) pauses Python's cyclic garbage
collector and installs ``sys.meta_path`` finders that change what the start-up's imports
cost, not what they give: SciPy's docstring notes not rendered (:class:`_NotelessDoc`),
modules no command uses loaded at their first use (:data:`_LAZY_AT_START`), nmfaudio's
cached numba kernels loaded without numba's compiler refresh
(:func:`_light_load_overload`).  :func:`resume_collector` ends the start-up: the
collector resumes and the first two changes are undone.  ``main()`` called from Python
gets none of it.  Each change and its measured cost: docs/performance.md (the speed48,
speed50 and speed51 rounds).
"""

from __future__ import annotations

import functools
import gc
import importlib
import importlib.machinery
import sys

#: True while :func:`begin` keeps Python's cyclic garbage collector paused for the start-up.
_collector_paused = False

#: The SciPy modules whose decorators rewrite the docstrings of the functions they mark as
#: they are defined (array-API notes; the batching note of ``scipy.linalg``'s functions):
#: {module: the decorator it must have}; the parser is read as ``FunctionDoc`` in each.
_SCIPY_DOCS = {"scipy._lib._array_api": "xp_capabilities", "scipy._lib._util": "_apply_over_batch"}
_PARSER = "FunctionDoc"


class _NotelessDoc:
    """What :data:`_SCIPY_DOCS`' decorators get for their docstring parser while the
    start-up lasts (:func:`begin` to :func:`resume_collector`).  For each of the ~280 SciPy
    functions a drum run's imports mark (``scipy.special``, ``ndimage``, ``fft``,
    ``linalg``), SciPy 1.17 parses the docstring (numpydoc's reader, ``copy.deepcopy`` of
    its sections), appends a note to its Notes (or Extended Summary) and renders it again —
    0.1-0.2 s of the one-core start-up,
    measured (docs/performance.md, the speed50 round), for docstrings no command prints.
    Here what is appended to those two sections is kept aside, and ``str(doc)`` is a first
    line (the signature, which the decorators drop) and the docstring as it was.  Any other
    use (another section read, an attribute) is the real parser's, the notes given to it:
    a decorator that reads the docstring, or a SciPy that uses the parser otherwise, gets
    SciPy's own behaviour."""

    APPENDED = ("Notes", "Extended Summary")

    def __init__(self, parser, function, *args, **kwargs):
        self._parser, self._function, self._args, self._kwargs = parser, function, args, kwargs
        self._kept, self._doc = {key: [] for key in self.APPENDED}, None

    def _real(self):
        if self._doc is None:
            self._doc = self._parser(self._function, *self._args, **self._kwargs)
            for key, lines in self._kept.items():
                self._doc[key].extend(lines)
        return self._doc

    def __getitem__(self, key):
        if key in self.APPENDED and self._doc is None:
            return self._kept[key]
        return self._real()[key]

    def __setitem__(self, key, value):
        self._real()[key] = value

    def __getattr__(self, name):  # only for names not set in __init__
        return getattr(self._real(), name)

    def __str__(self):
        if self._doc is not None:
            return str(self._doc)
        return "\n" + (getattr(self._function, "__doc__", None) or "")


class _PlainScipyDocs:
    """A ``sys.meta_path`` finder for :data:`_SCIPY_DOCS`' modules alone: each is found and
    loaded as usual, then its docstring parser is replaced by :class:`_NotelessDoc` (when it
    has the decorator and the parser this is written for; else left alone).
    :func:`_end_plain_scipy_docs` puts the parsers back."""

    replaced = []  # (module, its real parser) of each replaced

    def __init__(self):
        self.waiting = set(_SCIPY_DOCS)

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.waiting:
            return None
        self.waiting.discard(fullname)  # once; and the search below does not come back here
        if not self.waiting:
            _remove_finder(self)
        return _spec_then(fullname, path, target, self._replace_parser)

    @staticmethod
    def _replace_parser(module):
        parser = getattr(module, _PARSER, None)
        if parser is not None and callable(getattr(module, _SCIPY_DOCS[module.__name__], None)):
            setattr(module, _PARSER, functools.partial(_NotelessDoc, parser))
            _PlainScipyDocs.replaced.append((module, parser))


def _spec_then(fullname, path, target, after_exec):
    """The module's spec as Python's path finder gives it, its loader's ``exec_module``
    wrapped once so that ``after_exec(module)`` runs after the module's own code (a spec
    without ``exec_module`` as it is).  For the finders here, which change a module as it
    is first imported: a later reload is the module's own."""
    spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
    loader = getattr(spec, "loader", None)
    if loader is None or not hasattr(loader, "exec_module"):
        return spec
    exec_module = loader.exec_module

    def exec_then(module):
        del loader.exec_module  # the loader's own method again
        exec_module(module)
        after_exec(module)

    loader.exec_module = exec_then  # this module's own loader object
    return spec


def _remove_finder(finder) -> None:
    try:
        sys.meta_path.remove(finder)
    except ValueError:
        pass


def _plain_scipy_docs() -> None:
    """For the start-up (:func:`begin`): SciPy's docstring notes not written (see
    :class:`_NotelessDoc`) — unless SciPy's modules are loaded already."""
    if (not any(name in sys.modules for name in _SCIPY_DOCS)
            and not any(isinstance(f, _PlainScipyDocs) for f in sys.meta_path)):
        sys.meta_path.insert(0, _PlainScipyDocs())


def _end_plain_scipy_docs() -> None:
    """SciPy's docstring parsers back, the finder gone: modules imported from here on get
    SciPy's notes as usual."""
    for finder in [f for f in sys.meta_path if isinstance(f, _PlainScipyDocs)]:
        _remove_finder(finder)
    while _PlainScipyDocs.replaced:
        module, parser = _PlainScipyDocs.replaced.pop()
        setattr(module, _PARSER, parser)


#: numba's module of the per-function caches that load the compiled kernels from disk.
_NUMBA_CACHING = "numba.core.caching"
#: The kernels :func:`_light_load_overload` loads: nmfaudio's own (their modules' prefix).
_OWN_KERNELS = "nmfaudio."


def _light_load_overload(load_overload):
    """``numba.core.caching.Cache.load_overload`` for the process of :func:`nmfaudio.cli.run`: a cached
    kernel of nmfaudio's loaded without refreshing numba's compiler first.

    numba refreshes its target context before every cache load: the first one imports
    and registers the implementations of everything its compiler can compile (~320
    modules, ``numba.np.arraymath`` and through it ``scipy.linalg``, ``cffi``'s parser,
    ...): 0.3 s of the one-core start-up, measured (docs/performance.md, the speed51
    round), before the first kernel, ``dc_offset``'s, runs.  Loading a compiled kernel
    needs none of it: its object code is linked against the symbols of numba's runtime
    (NRT, made ready here as the refresh does), numba's C helpers, the C math functions
    and Python's C API, all registered when numba's target context is made, not by the
    refresh; and a kernel that is not in the cache is compiled by numba's compiler,
    which refreshes the context itself.  Other functions' cache loads (a user's, a
    library's) are numba's own, ``load_overload`` as it was."""
    @functools.wraps(load_overload)
    def load(self, sig, target_context):
        module = getattr(getattr(self, "_py_func", None), "__module__", None) or ""
        if not module.startswith(_OWN_KERNELS):
            return load_overload(self, sig, target_context)
        from numba.core.runtime import nrt

        nrt.rtsys.initialize(target_context)  # what the refresh does first (idempotent)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)
        # None when the guard swallowed an I/O error: compiled instead, as numba does

    load.light = True
    return load


def _lighten_numba_caching(module) -> None:
    """Put :func:`_light_load_overload` in ``module`` (``numba.core.caching``) when its
    ``Cache`` has the methods it is written for; else leave numba as it is."""
    cache = getattr(module, "Cache", None)
    load_overload = getattr(cache, "load_overload", None)
    if (load_overload is None or getattr(load_overload, "light", False)
            or not all(hasattr(cache, name) for name in ("_load_overload", "_guard_against_spurious_io_errors"))):
        return
    cache.load_overload = _light_load_overload(load_overload)


class _LightNumbaLoads:
    """A ``sys.meta_path`` finder for :data:`_NUMBA_CACHING` alone: found and loaded as
    usual, then lightened (:func:`_lighten_numba_caching`)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _NUMBA_CACHING:
            return None
        _remove_finder(self)  # once; and the search below does not come back here
        return _spec_then(fullname, path, target, _lighten_numba_caching)


def _light_numba_loads() -> None:
    """For the process of :func:`nmfaudio.cli.run`: nmfaudio's compiled kernels loaded from numba's cache
    without refreshing its compiler (:func:`_light_load_overload`), from numba's import
    on, or now if numba is loaded already."""
    module = sys.modules.get(_NUMBA_CACHING)
    if module is not None:
        _lighten_numba_caching(module)
    elif not any(isinstance(f, _LightNumbaLoads) for f in sys.meta_path):
        sys.meta_path.insert(0, _LightNumbaLoads())


#: Modules the start-up imports and a command does not use, loaded at their first use
#: while the start-up lasts (:func:`begin` to :func:`resume_collector`; :class:`_LazyParts`):
#: NumPy's submodules that SciPy's array-API layer imports — ``scipy._lib.array_api_compat.numpy`` copies NumPy's
#: namespace, and its ``hasattr`` on every name imports NumPy's lazily loaded submodules,
#: ``numpy.f2py`` (and through its Fortran reader ``charset_normalizer``) and
#: ``numpy.testing`` (with ``unittest``) —, and ``yaml``, which numba's configuration
#: imports to read a ``.numba_config.yaml`` should the working folder hold one: 0.05-0.1 s
#: of the one-core start-up together, measured (docs/performance.md, the speed51 round).
#: Not ``numpy.ma``, which numba reads as it types every array argument
#: (``np.ma.MaskedArray``).
_LAZY_AT_START = ("numpy.f2py", "numpy.testing", "yaml")


class _LazyParts:
    """A ``sys.meta_path`` finder for :data:`_LAZY_AT_START` while the start-up
    lasts: each is found as usual and loaded by Python's own
    ``importlib.util.LazyLoader`` — the module object made (so SciPy's copy of NumPy's
    namespace holds the very module it would), its code run at the first use of one of
    its attributes.  :func:`_end_lazy_parts` removes the finder."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _LAZY_AT_START:
            return None
        import importlib.util

        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        spec.loader = importlib.util.LazyLoader(loader)
        return spec


def _lazy_parts() -> None:
    """For the start-up (:func:`begin`): :data:`_LAZY_AT_START` (those not imported yet) loaded
    at their first use (:class:`_LazyParts`)."""
    if not any(isinstance(f, _LazyParts) for f in sys.meta_path):
        sys.meta_path.insert(0, _LazyParts())


def _end_lazy_parts() -> None:
    """The finder gone: those modules imported from here on (any not imported during the
    start-up) are loaded as usual; those imported lazily load at their first use."""
    for finder in [f for f in sys.meta_path if isinstance(f, _LazyParts)]:
        _remove_finder(finder)


def resume_collector() -> None:
    """End the start-up's pause of the cyclic garbage collector, once: the objects made so
    far — the start-up's modules, numba's and SciPy's tables, ~190 000 objects, almost none
    of them garbage — go to the collector's permanent generation (``gc.freeze``), so
    later full collections skip them, and collection resumes.  A no-op unless :func:`begin` paused
    it (:func:`main` called from Python leaves the collector alone)."""
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        _end_plain_scipy_docs()
        _end_lazy_parts()
        gc.freeze()
        gc.enable()


def begin() -> None:
    """What :func:`nmfaudio.cli.run` does before ``main``: the collector paused and the
    start-up's finders installed (unless the collector is off already: a caller that
    manages it), and nmfaudio's kernels loaded without numba's refresh for the whole
    process — a kernel first loaded after the fit began (the stems', the hits') would
    otherwise pay the refresh there (speed51)."""
    global _collector_paused
    # The start-up (imports of NumPy, SciPy and numba, numba's first kernel load) makes
    # ~190 000 objects, nearly all long-lived (~2 600 unreachable after a whole drum run
    # without the collector), yet the collector passed over them ~290 times, 2 of them
    # full passes: 0.07-0.14 s of a 3-minute track's one-core start-up (docs/performance.md,
    # speed48).  So the collector is paused until the fit iterates (a single-file
    # ``drums`` / ``separate`` run), until the batch starts (several inputs: run_batch) or
    # until the parsed command is known (the others); then :func:`resume_collector`
    # freezes what exists and resumes.
    if gc.isenabled():
        gc.disable()
        _collector_paused = True
        _plain_scipy_docs()  # ended with the pause: SciPy's docstrings as they are (_NotelessDoc)
        _lazy_parts()  # ended with the pause too: modules no command uses loaded at their first use
    _light_numba_loads()
