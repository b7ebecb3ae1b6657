"""README.md, docs/*.md and the decision logs in docs/log/*.md: links resolve, examples run,
printed output is still true.

Conventions for the pages (summed up in README.md, section Development):

- Every ```python and ```sh block is preceded (blank lines allowed) by a marker comment:
  ``<!-- run -->`` (this test runs it) or ``<!-- not run: REASON -->`` (too slow, needs a
  tool or data the test does not have, installs packages, ...; the reason is required).
- A ```text block right after a run block is its expected standard output. ``…`` in it
  matches any text within one line; numbers with a decimal point or an exponent match to
  within one unit in their last printed digit (integers exactly); every other character must match exactly.
- Run blocks of one page run in order, in a fresh folder of their own where ``data/`` is
  the repository's data folder: Python blocks share one namespace; in ```sh blocks each line
  ``nmfaudio ARGS`` runs ``nmfaudio.cli.main(ARGS)`` in the same process and must exit 0.
- Output names (``-o NAME``, ``.save("NAME")``, ``.savefig("NAME")``) are unique across
  all pages, so the examples can be run one after the other in one clone.
- Error messages docs/errors-and-limits.md quotes (``QUOTED_MESSAGES`` below) are what their
  commands print on stderr now.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import nmfaudio

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "docs" / "log").glob("*.md"))]
PAGE_IDS = [str(p.relative_to(ROOT)) for p in PAGES]

FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*(run|not run:\s*(.*?))\s*-->\s*$")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
CHECKED_LANGUAGES = {"python", "sh"}


def parse_blocks(text: str) -> list[dict]:
    """Fenced blocks of a Markdown page: language, code, marker, line of the fence."""
    lines = text.split("\n")
    blocks, i, marker = [], 0, None
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence:
            start = i
            j = i + 1
            while j < len(lines) and lines[j].rstrip() != "```":
                j += 1
            blocks.append({"lang": fence.group(1), "code": "\n".join(lines[i + 1:j]) + "\n",
                           "marker": marker, "line": start + 1})
            marker, i = None, j + 1
            continue
        found = MARKER.match(line.strip())
        if found:
            marker = ("run", None) if found.group(1) == "run" else ("not run", found.group(2))
        elif line.strip():
            marker = None
        i += 1
    return blocks


def outside_code(text: str) -> str:
    """The page without its fenced blocks and inline code (links there are not links)."""
    return "\n".join(re.sub(r"`[^`]*`", "", line) for line in outside_fences(text).split("\n"))


def github_anchors(text: str) -> set[str]:
    """Anchors GitHub makes from a page's headings (lowercase, punctuation dropped,
    spaces to hyphens, repeats numbered -1, -2, ...)."""
    anchors, seen = set(), {}
    for line in outside_code(text).split("\n"):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        title = re.sub(r"<[^>]+>", "", heading.group(1)).strip().lower()
        slug = "".join(c for c in title if c in " -_" or unicodedata.category(c)[0] in "LNM")
        slug = slug.replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_readme_is_short_and_keeps_the_quick_start():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.split("\n")) <= 250 + 1, "README.md must stay at most 250 lines"
    # .ci/run runs exactly these two commands; the wording here guards them.
    quick = re.search(r"^## Quick start\n.*?^```sh\n(.*?)^```", text, re.S | re.M)
    assert quick, "README.md lost its '## Quick start' ```sh block"
    commands = [c for c in quick.group(1).split("\n") if c.strip()]
    assert commands == ['pip install . && nmfaudio drums data/drum_loop.wav -o stems',
                        'pip install ".[test]" && pytest']


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_relative_links_resolve(page):
    text = page.read_text(encoding="utf-8")
    broken = []
    for match in LINK.finditer(outside_code(text)):
        target = match.group(1) or match.group(2)
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto: — not checked offline
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif anchor and file.suffix == ".md":
            if anchor not in github_anchors(file.read_text(encoding="utf-8")):
                broken.append(f"{target}: no heading gives #{anchor}")
        elif anchor:
            broken.append(f"{target}: anchor into a non-Markdown file")
    assert not broken, f"{page.name}: " + "; ".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_example_is_run_or_says_why_not(page):
    blocks = parse_blocks(page.read_text(encoding="utf-8"))
    unmarked = [b["line"] for b in blocks if b["lang"] in CHECKED_LANGUAGES and b["marker"] is None]
    no_reason = [b["line"] for b in blocks if b["marker"] and b["marker"][0] == "not run"
                 and not b["marker"][1]]
    assert not unmarked, f"{page.name}: blocks at lines {unmarked} need <!-- run --> or <!-- not run: reason -->"
    assert not no_reason, f"{page.name}: 'not run' markers without a reason at lines {no_reason}"


def test_output_names_are_unique_across_pages():
    """Issue 19: two examples writing the same folder or file collide when run in order."""
    owner, clashes = {}, []
    pattern = re.compile(r"""(?:\s-o\s+|\.save(?:fig)?\(\s*)["']?([\w./-]+)""")
    for page in PAGES:
        for block in parse_blocks(page.read_text(encoding="utf-8")):
            if block["lang"] not in CHECKED_LANGUAGES:
                continue
            for name in pattern.findall(block["code"]):
                where = f"{page.name}:{block['line']}"
                if name in owner and owner[name] != where:
                    clashes.append(f"{name} ({owner[name]} and {where})")
                owner.setdefault(name, where)
    assert not clashes, "examples write the same output: " + "; ".join(clashes)


# Inline code on the guide pages names options in prose (`--presence-test off`, `nmfaudio drums
# ... --quantize 16`), which no example runs: each must still exist. The dated logs
# (docs/performance.md, docs/log/) keep the commands as they were run, so they are left out.
GUIDES = [p for p in PAGES if p.parent == ROOT / "docs" and p.name != "performance.md"
          or p.name == "README.md"]
OTHER_TOOLS = ("pip ", "sox ", "dask ", "git ", "apt-get ", "ffmpeg ")  # spans of other programs
OTHER_OPTIONS = {"--nworkers", "--nthreads",  # dask worker's (batch.md), named alone
                 "--ignore-length"}           # sox's, suggested inside a quoted message


def known_options() -> set[str]:
    """Every long option of the command line's parsers and of the scripts under benchmarks/,
    examples/ and data/ (read from their source: they are not importable as one package)."""
    import argparse

    from nmfaudio.cli import build_parser

    found, parsers = set(), [build_parser()]
    while parsers:
        parser = parsers.pop()
        for action in parser._actions:
            found.update(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
    for folder in ("benchmarks", "examples", "data"):
        for script in (ROOT / folder).rglob("*.py"):
            found.update(re.findall(r"""["'](--[a-z][a-z0-9-]*)["']""", script.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("page", GUIDES, ids=[str(p.relative_to(ROOT)) for p in GUIDES])
def test_options_named_in_the_guides_exist(page):
    """tour66: the run blocks are checked by running them; an option named in the prose
    (inline code) was checked by nothing, so a renamed option would stay in the guides.
    An abbreviation argparse accepts (`--drum` for `--drumless`) counts; a quoted usage
    error's unknown option and other programs' options (`pip --target`) do not."""
    options = known_options()
    text = page.read_text(encoding="utf-8")
    unknown = []
    for span in re.finditer(r"`([^`]+)`", outside_fences(text)):
        code = span.group(1)
        if code.startswith(OTHER_TOOLS) or "unrecognized arguments" in code:
            continue
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", code):
            if option not in options | OTHER_OPTIONS and not any(o.startswith(option) for o in options):
                unknown.append(f"{option} (in `{code[:60]}`)")
    assert not unknown, f"{page.name} names options nothing accepts: " + "; ".join(sorted(set(unknown)))


def outside_fences(text: str) -> str:
    """The page without its fenced blocks (inline code kept)."""
    kept, inside = [], False
    for line in text.split("\n"):
        if FENCE.match(line) or (inside and line.rstrip() == "```"):
            inside = not inside
            continue
        if not inside:
            kept.append(line)
    return "\n".join(kept)


# The runner: one process for all pages (imports paid once); each page in its own folder
# and namespace, its blocks in order, the standard output of each block captured.
RUNNER = r'''
import contextlib, io, json, os, shlex, sys, traceback, warnings
# The warnings a reader sees (Python's default filters hide these categories outside __main__)
HIDDEN = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
import matplotlib
matplotlib.use("Agg")
pages, report = json.load(sys.stdin), {}
for page, (folder, blocks) in pages.items():
    os.chdir(folder)
    namespace, results = {"__name__": "__docs__"}, []
    for block in blocks:
        out = io.StringIO()
        caught = []
        try:
            with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if block["lang"] == "python":
                    exec(compile(block["code"], block["where"], "exec"), namespace)
                else:
                    from nmfaudio.cli import main
                    for line in block["code"].splitlines():
                        argv = shlex.split(line, comments=True)
                        if not argv:
                            continue
                        if argv[0] != "nmfaudio":
                            raise RuntimeError(f"only 'nmfaudio ...' lines can run: {line!r}")
                        code = main(argv[1:])
                        if code != 0:
                            raise RuntimeError(f"{line!r} exited {code}")
            shown = sorted({f"{w.category.__name__}: {w.message}" for w in caught
                            if not issubclass(w.category, HIDDEN)})
            results.append({"stdout": out.getvalue(), "error": None, "warnings": shown})
        except BaseException:
            results.append({"stdout": out.getvalue(), "error": traceback.format_exc(limit=3)})
            break
    report[page] = results
print(json.dumps(report))
'''


NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")


def output_pattern(expected: str) -> tuple[re.Pattern, list[str]]:
    """A regex for the printed output and the numbers it claims. ``…`` matches anything
    within a line; each number is captured; trailing blanks are ignored."""
    lines = [line.rstrip() for line in expected.strip("\n").split("\n")]
    numbers, parts = [], []
    for line in lines:
        pieces = []
        for literal in line.split("…"):
            out, last = [], 0
            for found in NUMBER.finditer(literal):
                out += [re.escape(literal[last:found.start()]), f"({NUMBER.pattern})"]
                numbers.append(found.group())
                last = found.end()
            pieces.append("".join(out) + re.escape(literal[last:]))
        parts.append(".*?".join(pieces))
    return re.compile("\n".join(parts)), numbers


def last_digit(number: str) -> float:
    """One unit in the last printed digit: 22.0 -> 0.1, 6.0e-04 -> 1e-05, 130 -> 1."""
    mantissa, _, exponent = number.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def matches(expected: str, got: str) -> bool:
    """The output matches; decimals to within one unit in their last printed digit (a
    rounding that flips on another CPU's float32 arithmetic is not a changed result)."""
    pattern, numbers = output_pattern(expected)
    found = pattern.fullmatch(got)
    if not found:
        return False
    return all(g == e if re.fullmatch(r"[-+]?\d+", e)  # counts, shapes, sizes: exact
               else abs(float(g) - float(e)) <= 1.0001 * last_digit(e)
               for e, g in zip(numbers, found.groups()))


def runnable(page: Path) -> list[dict]:
    blocks = parse_blocks(page.read_text(encoding="utf-8"))
    runs = []
    for i, block in enumerate(blocks):
        if block["marker"] != ("run", None) or block["lang"] not in CHECKED_LANGUAGES:
            continue
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        expected = None
        if following and following["lang"] == "text" and following["marker"] is None:
            # lines after this block's closing fence, before the next block's opening one
            between = page.read_text(encoding="utf-8").split("\n")[
                block["line"] + block["code"].count("\n") + 1:following["line"] - 1]
            if not any(line.strip() for line in between):
                expected = following["code"]
        runs.append({"lang": block["lang"], "code": block["code"], "expected": expected,
                     "where": f"{page.name}:{block['line']}"})
    return runs


RUN_PAGES = [p for p in PAGES if runnable(p)]


def test_output_blocks_are_found():
    """The parser pairs the README's first example with the output block after it."""
    first = runnable(ROOT / "README.md")[0]
    assert first["expected"] is not None and "drum_loop_kick.wav" in first["expected"]
RUN_IDS = [str(p.relative_to(ROOT)) for p in RUN_PAGES]


@pytest.fixture(scope="module")
def page_runs(tmp_path_factory):
    """Run every page's run blocks once; {page id: [{"stdout", "error"} per block]}."""
    pages = {}
    for page, page_id in zip(RUN_PAGES, RUN_IDS):
        folder = tmp_path_factory.mktemp(page.stem)
        (folder / "data").symlink_to(ROOT / "data", target_is_directory=True)
        pages[page_id] = (str(folder), runnable(page))
    # One thread each: on a shared machine, spinning BLAS/numba threads make a 0.3 s fit take
    # 6-9 s (measured with the rank-20 photo on 2 busy cores); the outputs do not depend on it.
    threads = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                       "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
    # The examples import the nmfaudio these tests import (the installed one in CI, whose
    # numba cache the Quick start command has filled; the work tree with PYTHONPATH set).
    home = str(Path(nmfaudio.__file__).resolve().parent.parent)
    env = dict(os.environ, **threads,
               PYTHONPATH=os.pathsep.join([home, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(pages), env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().split("\n")[-1])


@pytest.mark.parametrize("page", RUN_PAGES, ids=RUN_IDS)
def test_examples_run_and_print_what_the_page_says(page, page_runs):
    blocks, results = runnable(page), page_runs[str(page.relative_to(ROOT))]
    for block, result in zip(blocks, results):
        assert result["error"] is None, f"{block['where']} failed:\n{result['error']}"
        if block["expected"] is not None:
            got = "\n".join(line.rstrip() for line in result["stdout"].strip("\n").split("\n"))
            assert matches(block["expected"], got), (
                f"{block['where']} printed\n{got}\ninstead of\n{block['expected']}")
    assert len(results) == len(blocks)


def warned_about(page_text: str, block: dict, category: str) -> bool:
    """The page names ``category`` beside the block: in the paragraph before its marker, the
    block itself (a comment), its output block or the first paragraph after that (at most
    8 lines: a mention further down the page is no warning a reader typing it has read)."""
    lines = page_text.split("\n")
    start = block["line"] - 2                       # the marker line, above the fence
    while start > 0 and lines[start - 1].strip():
        start -= 1
    end = block["line"] + block["code"].count("\n")  # the closing fence
    following = end + 1
    while following < len(lines) and not lines[following].strip():
        following += 1
    if following < len(lines) and lines[following].strip() == "```text":
        end = following
        while end + 1 < len(lines) and lines[end + 1].rstrip() != "```":
            end += 1
        end += 1                                      # the output block's closing fence
        following = end + 1
        while following < len(lines) and not lines[following].strip():
            following += 1
    paragraph = following
    while (paragraph < len(lines) and paragraph < following + 8 and lines[paragraph].strip()
           and not FENCE.match(lines[paragraph]) and not MARKER.match(lines[paragraph].strip())):
        paragraph += 1
    return category in " ".join(lines[start:paragraph])


@pytest.mark.parametrize("page", RUN_PAGES, ids=RUN_IDS)
def test_examples_warn_only_where_the_page_says_so(page, page_runs):
    """A warning a run block prints on stderr (a ConvergenceWarning, a UserWarning) is what a
    reader typing it sees: the page names its class beside the block (tour66: sklearn.md's
    sparse example printed an NMFConvergenceWarning the page did not mention; the runner
    ignored every warning before)."""
    text = page.read_text(encoding="utf-8")
    blocks = [b for b in parse_blocks(text)
              if b["marker"] == ("run", None) and b["lang"] in CHECKED_LANGUAGES]
    unsaid = []
    for block, result in zip(blocks, page_runs[str(page.relative_to(ROOT))]):
        for shown in result.get("warnings", []):
            category = shown.partition(":")[0]
            if not warned_about(text, block, category):
                unsaid.append(f"{page.name}:{block['line']} warns {shown!r}")
    assert not unsaid, "; ".join(unsaid) + " — name the warning beside the example or avoid it"


# Messages docs/errors-and-limits.md quotes, each with a command that prints it now: the quote
# must stand in the page (line breaks aside) and in what the command prints on stderr. The
# other tests check that each refusal happens; this one that the page still quotes its words.
QUOTED_MESSAGES = [
    ("separate x.wav -k 2 -o out", "'x.wav' does not exist; check the path"),
    ("separate x -k 2 -o out", "'x' is a folder that holds no audio files (.wav, .flac, .ogg, .mp3, "
                               "...); give audio files or a folder of them"),
    ("image compress x.png -r 3 -o y.png", "'x.png' is a folder; give a picture"),
    ("separate song.wav -k 2 -o notes.txt", "-o 'notes.txt' is a file; give a folder"),
    ("separate song.wav -k 2 -o out.wav", "-o 'out.wav' looks like a .wav file name, but -o is the folder "
     "the outputs go in; give a folder, e.g. -o 'out' (or create the folder 'out.wav' first to use that name)"),
    ("separate song.wav -k 2 -o out --beta 1e9", "--beta 1000000000.0 is outside -5..5: such divergences "
     "overflow floating point; use 0 (itakura-saito), 1 (kullback-leibler), 2 (frobenius) or a value in between"),
    ("separate song.wav -k abc -o out", "nmfaudio separate: error: argument -k/--n-components: 'abc' is not "
     "a whole number; give an int >= 1 (see 'nmfaudio separate --help')"),
    ("separate song.wav -k 2 -o out --bogus",
     "nmfaudio separate: error: unrecognized arguments: --bogus (see 'nmfaudio separate --help')"),
    ("separate song.wav -k 2 -o out --seed -1", "argument --seed: '-1' must be an int >= 0"),
    ("separate song.wav -k 2 -o out --max-memory 12Q", "argument --max-memory: '12Q' is not a memory size; "
     "write it like 4G, 512M or 2.5GiB (or none for no limit)"),
    ("separate song.wav -k 2 -o out", "'out/song_component_02.wav' already exists; "
     "use --force to overwrite it"),
    ("separate song.wav -k 3 -o out", "'out/song_component_01.wav' exists, as do 2 more of the "
     "outputs; use --force to overwrite them"),
    ("separate song.wav -k 2 -o out --block-seconds 0.001", "--block-seconds 0.001 is shorter than one STFT "
     "hop (512 samples, 0.0233 s at 22050 Hz); use --block-seconds 0.0233 or more (30 by default)"),
    ("separate song.wav -k 3 -o out --block-seconds 0.5 --learn-frames 2", "--learn-frames 2 is fewer than "
     "--n-components 3: the templates are learned on at most that many spectrogram columns, and 3 templates need 3 "
     "at least; use --learn-frames 3 or more (20000 by default)"),
    ("drums song.wav -o out --templates kit",
     "--templates 'kit' does not exist; give a one-shot folder or a .npz file"),
    ("drums song.wav -o out --n-fft 7", "--n-fft 7 is too small for drum separation: use --n-fft 256 or "
     "larger (the default at 22050 Hz is 2048)"),
    ("drums -x.wav -o out", "nmfaudio drums: error: '-x.wav' starts with '-', so it is read as an option; "
     "give such inputs after '--', last: nmfaudio drums -o out -- -x.wav (or write ./-x.wav)"),
    ("drums --onsets song.wav -o out", "--onsets takes an optional CSV path and took 'song.wav' as it, so no "
     "input is left; write --onsets after the inputs: nmfaudio drums song.wav -o out --onsets"),
]


@pytest.mark.parametrize("command, quote", QUOTED_MESSAGES, ids=[c for c, _ in QUOTED_MESSAGES])
def test_errors_page_quotes_what_the_cli_prints(command, quote, tmp_path, monkeypatch, capsys):
    import shlex

    import numpy as np
    import soundfile

    from nmfaudio.cli import main

    page = " ".join((ROOT / "docs" / "errors-and-limits.md").read_text(encoding="utf-8").split())
    assert f"`{quote}" in page, f"docs/errors-and-limits.md no longer quotes {quote!r}"
    monkeypatch.chdir(tmp_path)
    noise = np.random.default_rng(0).standard_normal(22050).astype(np.float32) * 0.1
    for name in ("song.wav", "-x.wav"):
        soundfile.write(name, noise, 22050, subtype="FLOAT")
    for folder in ("x", "x.png"):
        os.mkdir(folder)
    Path("notes.txt").write_text("notes\n")
    existing = re.findall(r"'(out/song_component_0\d\.wav)'", quote)  # the outputs the quote finds
    if existing:
        os.mkdir("out")
        for i in range(int(existing[0][-5]), int(command.split()[3]) + 1):
            Path(f"out/song_component_0{i}.wav").write_bytes(b"")
    try:
        code = main(shlex.split(command))
    except SystemExit as exc:  # argparse's own exit, should a usage error take that path
        code = exc.code
    printed = " ".join(capsys.readouterr().err.split())
    assert code in (1, 2)
    assert quote in printed, f"{command!r} printed {printed!r}; the page quotes {quote!r}"


def test_readme_names_every_dependency():
    """The Quick start paragraph lists what pip installs; pyproject.toml's list is the truth
    (Pillow, mido, tqdm and threadpoolctl were missing from it until tour17)."""
    toml = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # no tomllib on Python 3.10
    lists = re.findall(r"^(?:dependencies|test) = \[(.*?)\]$", toml, re.S | re.M)
    assert len(lists) == 2, "pyproject.toml: the dependencies and test lists were not found"
    names = {re.match(r"[A-Za-z0-9_.-]+", spec).group().lower()
             for spec in re.findall(r'"([^"]+)"', " ".join(lists))}
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = re.search(r"everything comes\s+from PyPI \((.*?)\)\.", text, re.S)
    assert paragraph, "README.md's Quick start no longer says what comes from PyPI"
    listed = {name.strip().lower() for name in re.split(r"[,;]|the tests add", paragraph.group(1))}
    missing = sorted(name for name in names if name not in listed)
    assert not missing, f"README.md's Quick start does not name {missing} (pyproject.toml's dependencies)"


def test_example_outputs_are_ignored_by_git():
    """tour66: a newcomer who runs the guides' examples in a clone was left with 27 untracked
    files and folders at its root (``git status`` full of them); each top-level name an example
    writes (``-o NAME``, ``.save(NAME)``, ``savefig(NAME)``) is listed in .gitignore."""
    ignored = {line.strip().strip("/") for line in (ROOT / ".gitignore").read_text(encoding="utf-8").split("\n")
               if line.startswith("/")}
    pattern = re.compile(r"""(?:\s-o\s+|\.save(?:fig)?\(\s*)["']?([\w./-]+)""")
    unlisted = set()
    for page in PAGES:
        for block in parse_blocks(page.read_text(encoding="utf-8")):
            if block["lang"] in CHECKED_LANGUAGES:
                for name in pattern.findall(block["code"]):
                    top = name.split("/")[0]
                    if top not in ("", ".", "..") and top not in ignored:
                        unlisted.add(f"{top} ({page.name}:{block['line']})")
    assert not unlisted, "examples write outputs .gitignore does not list: " + "; ".join(sorted(unlisted))
