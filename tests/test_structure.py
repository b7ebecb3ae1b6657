"""The package's import structure (DESIGN.md, "Imports point toward the math"): no two
nmfaudio modules import each other, there is no import circle, every import points to a
lower layer (or stays inside its own package), nothing imports the command line, and no
private name is imported from another package except from a module whose job is to be
shared.  Imports are read with ``ast`` (lazy imports inside functions count too)."""

from __future__ import annotations

import ast
import importlib
from fnmatch import fnmatch
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "nmfaudio"

#: Layers from the math up: a module may import modules of lower layers, and modules of
#: its own package (``nmfaudio.nmf.*`` among themselves, ...).  Patterns are fnmatch's.
LAYERS = [
    ["nmfaudio._validation", "nmfaudio._lazy"],  # the shared checks (numpy only), the lazy loader (stdlib)
    ["nmfaudio.nmf", "nmfaudio.nmf.*"],  # the engine, arrays only
    ["nmfaudio", "nmfaudio.masks", "nmfaudio.spectrum", "nmfaudio.audio", "nmfaudio.metrics", "nmfaudio.budget",
     "nmfaudio.file_state"],
    ["nmfaudio.fitting", "nmfaudio.estimator", "nmfaudio.adapters", "nmfaudio.adapters.*", "nmfaudio.plot",
     "nmfaudio.plot.*"],
    ["nmfaudio.blockwise", "nmfaudio.drums", "nmfaudio.drums.*"],
    ["nmfaudio.pipeline"],
    ["nmfaudio.batch"],
    ["nmfaudio.cli", "nmfaudio.cli.*"],
    ["nmfaudio.__main__"],  # python -m nmfaudio
]

#: Modules whose job is to be shared: their underscore names may be imported anywhere.
SHARED = {"nmfaudio._validation", "nmfaudio._lazy", "nmfaudio.nmf._checks", "nmfaudio.cli._args"}

#: Known private imports across packages, left to the owner of the importing module
#: (the drum work switches to nmfaudio._validation.as_generator); each entry must still
#: exist, so the list shrinks as they are fixed.
PENDING = set()


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _owner(name: str) -> str:
    """The module (or package) that ``name`` (a dotted import target) lives in."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(module: str) -> list[tuple[str, str | None]]:
    """(imported nmfaudio module, imported name or None) for every import in ``module``."""
    found = []
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(_owner(alias.name), None) for alias in node.names if alias.name.split(".")[0] == "nmfaudio"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "nmfaudio":
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                found.append((target, None) if target in MODULES else (_owner(node.module), alias.name))
    return [(target, name) for target, name in found if target != module]


GRAPH = {module: {target for target, _ in _imports(module)} for module in MODULES}


def _layer(module: str) -> int:
    for index, patterns in enumerate(LAYERS):
        if any(fnmatch(module, pattern) for pattern in patterns):
            return index
    raise AssertionError(f"{module} has no layer; add it to LAYERS in {__file__}")


def _package(module: str) -> str:
    """The subpackage a module belongs to (``nmfaudio.nmf`` for ``nmfaudio.nmf.core``)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else module


def test_the_modules_are_found():
    assert {"nmfaudio._validation", "nmfaudio.fitting", "nmfaudio.pipeline", "nmfaudio.nmf.core"} <= set(MODULES)
    assert GRAPH["nmfaudio.pipeline"] >= {"nmfaudio.fitting", "nmfaudio.blockwise"}  # the parser sees imports


@pytest.mark.parametrize("module", sorted(set(MODULES) - {"nmfaudio.__main__"}))  # (that one runs the CLI)
def test_every_module_imports(module):
    importlib.import_module(module)


def test_no_two_modules_import_each_other():
    pairs = sorted((a, b) for a in GRAPH for b in GRAPH[a] if a < b and a in GRAPH.get(b, ()))
    assert pairs == []


def test_no_import_circle():
    visiting, done = [], set()

    def visit(module):
        if module in done:
            return
        assert module not in visiting, "import circle: " + " -> ".join(visiting[visiting.index(module):] + [module])
        visiting.append(module)
        for target in sorted(GRAPH.get(module, ())):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)


def test_imports_point_toward_the_math():
    upward = sorted(f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
                    for module in GRAPH for target in GRAPH[module]
                    if _package(module) != _package(target) and _layer(target) >= _layer(module)
                    and target != "nmfaudio._validation")
    assert upward == []


def test_nothing_imports_the_command_line():
    importers = sorted(module for module in GRAPH for target in GRAPH[module]
                       if _package(target) == "nmfaudio.cli" and _package(module) != "nmfaudio.cli"
                       and module != "nmfaudio.__main__")
    assert importers == []


def test_no_private_name_is_imported_from_another_package():
    private = {(module, target, name) for module in MODULES for target, name in _imports(module)
               if name is not None and name.startswith("_") and not name.startswith("__")
               and target not in SHARED and _package(target) != _package(module)}
    assert private - PENDING == set()
    assert PENDING <= private, "a pending private import is gone: remove it from PENDING"


#: The transcription's modules under the picking (nmfaudio.drums.hits): the result types,
#: their files, the General MIDI notes and the tempo grid serve hits from anywhere (another
#: tool's table, a CSV read back), so none of them reaches the picking or the separation.
UNDER_THE_PICKING = ("nmfaudio.drums.general_midi", "nmfaudio.drums.hit_files", "nmfaudio.drums.hit_results",
                     "nmfaudio.drums.tempo_grid")


def _reached(module: str) -> set:
    """Every nmfaudio module ``module`` imports, directly or through others."""
    seen, todo = set(), [module]
    while todo:
        for target in GRAPH[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_hits_types_files_notes_and_grid_do_not_reach_the_picking():
    above = {"nmfaudio.drums.hits", "nmfaudio.drums.separation", "nmfaudio.drums.model"}
    assert {module: sorted(_reached(module) & above) for module in UNDER_THE_PICKING} == \
        {module: [] for module in UNDER_THE_PICKING}


def test_the_separations_result_does_not_reach_the_fit():
    # DrumSeparation (nmfaudio.drums.separation_result) picks hits from stems it is given:
    # neither separate_drums' module nor the NMFD fit is behind it (2026-12-06, hitsplit)
    fit = {"nmfaudio.drums.separation", "nmfaudio.drums.model", "nmfaudio.drums.blockwise"}
    assert _reached("nmfaudio.drums.separation_result") & fit == set()
