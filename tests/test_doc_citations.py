"""Comments and docstrings of ``nmfaudio/`` and ``benchmarks/`` that cite the docs land on
the page that holds what they cite.

A citation is a ``docs/<page>.md`` path in a comment or a string literal, with what it names:

- a round after it — ``docs/P.md, the hat-recall round``, ``docs/P.md: the hat-onset round
  and the hat-false round``, ``docs/P.md, the speed45 and speed46 rounds``, ``docs/P.md,
  tenth round's follow-up``, ``docs/P.md's ride-hits round`` — or before it: ``the
  thirtieth round of docs/P.md``, ``(tempofit round, docs/P.md)``, ``round (docs/P.md``;
- a quoted heading: ``docs/P.md, "The auto decision"``, ``docs/P.md ("Stereo fitted once")``
  (a quoted one-word lower-case name, ``docs/P.md 2026-12-05 "fitspeed"``, and a bare branch
  name with digits, ``docs/P.md, speed48)``, are round names; a quote ending in "round" too);
- nothing else (``see docs/P.md``): then only the page must exist.

Where text is compared: case-insensitive, runs of whitespace as one space, Markdown's ``*``
and backticks dropped, the page's fenced code blocks left out.

The page holds round NAME when it introduces the round, not merely mentions it:

- a heading or a bold span starts, after an optional date ("2026-12-04, ",
  "2026-12-05 (04:35–05:30 UTC): ") and an optional "the", with "NAME round" ("**Toms
  round (branch toms16, ...**", "### 2026-12-04, song ride round (songride)");
- a paragraph, or a line starting with a date, starts (after the optional date and "the")
  with "NAME round" and then "(", ",", ":", "." or ";" ("Fourth round (2026-12-01 ...",
  not "The ride-gap round moved seed 1's ...");
- NAME is the round's branch: such an opening reads "... round (NAME" or has "(branch NAME"
  / "(..., branch NAME" in its first 300 characters (so do table rows of the decision
  tables), or a heading ends with "(NAME)" (docs/performance.md's "... (speed45)");
  spaces, hyphens and apostrophes do not count here ("shell-speed" is branch shellspeed).

A quoted heading is held when a heading or bold span contains it, or a paragraph starts with it.

Why this rule: the guides still mention most rounds after their dated sections moved to
``docs/log/`` ("### Five stems, seed 1 after the hat-recall round"), so "the page contains
the name" would pass a citation of the wrong page; every round of docs/ and docs/log/ is
introduced at the start of a heading, bold span or paragraph, so wording inside a section
can change freely.  The cure for a failure is in the message: the pages that do hold it.
"""
from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for sub in ("nmfaudio", "benchmarks") for p in sorted((ROOT / sub).rglob("*.py"))
           if "__pycache__" not in p.parts]
DOCS = {str(p.relative_to(ROOT)): p for p in sorted((ROOT / "docs").rglob("*.md"))}

PAGE = r"docs/[\w/.-]+?\.md"
_S = r"\s+"
NAME = rf"[\w'.+-]+(?:{_S}[\w'.+-]+){{0,3}}?"  # one to four words
NAMES = rf"(?:the{_S})?{NAME}(?:(?:,|{_S}and|,{_S}and){_S}(?:the{_S})?{NAME})*"
AFTER = re.compile(rf"(?P<page>{PAGE})(?:,|:|'s){_S}(?P<names>{NAMES}){_S}rounds?\b"
                   rf"(?:'s[\w\s-]*?)?(?:{_S}and{_S}the{_S}(?P<name2>{NAME}){_S}round\b)?", re.I)
BEFORE = re.compile(rf"(?:\bthe{_S}|\()(?P<names>[\w'.+-]+){_S}rounds?(?:{_S}of{_S}|,{_S}|{_S}\()"
                    rf"(?P<page>{PAGE})", re.I)
QUOTED = re.compile(rf"(?P<page>{PAGE})(?:,?{_S}\(?|{_S}\S+{_S})\"(?P<title>[^\"]+)\""
                    rf"(?:{_S}and{_S}\"(?P<title2>[^\"]+)\")?")
BARE = re.compile(rf"(?P<page>{PAGE}),?{_S}(?:\d{{4}}-\d{{2}}-\d{{2}}{_S})?(?P<name>[a-z]+\d+[a-z]?)\b"
                  rf"(?!{_S}round)")
ANY_PAGE = re.compile(PAGE)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[a-z]?(?: \([^)]*\))?[,:]? ")


def _norm(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip()


def _texts(path: Path):
    """(first line, text) of each comment block (consecutive comment lines, ``#`` / ``#:``
    dropped, joined by newlines) and of each string literal of a source file."""
    source = path.read_text(encoding="utf-8")
    if "docs/" not in source:
        return
    block, start, last = [], 0, None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            if not (block and last == tok.start[0] - 1):
                if block:
                    yield start, "\n".join(block)
                block, start = [], tok.start[0]
            block.append(re.sub(r"^#:?", "", tok.string))
            last = tok.start[0]
            continue
        if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            continue
        if block:
            yield start, "\n".join(block)
            block, last = [], None
        if tok.type == tokenize.STRING:
            yield tok.start[0], tok.string
    if block:
        yield start, "\n".join(block)


def _names(names: str) -> list[str]:
    return [re.sub(r"^the ", "", n.strip(), flags=re.I).lower()
            for n in re.split(r",? and |, ", _norm(names)) if n.strip()]


def citations():
    """(where, page, kind, name): kind "round", "title" or "page" (name None)."""
    for path in SOURCES:
        for first_line, raw in _texts(path):
            text = raw.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
            named = set()

            def cite(match, kind, name):
                line = first_line + text[:match.start("page")].count("\n")
                named.add(match.start("page"))
                return f"{path.relative_to(ROOT)}:{line}", match.group("page"), kind, name

            for m in AFTER.finditer(text):
                for name in _names(m.group("names")) + _names(m.group("name2") or ""):
                    yield cite(m, "round", name)
            for m in BEFORE.finditer(text):
                for name in _names(m.group("names")):
                    yield cite(m, "round", name)
            for m in QUOTED.finditer(text):
                for title in filter(None, (m.group("title"), m.group("title2"))):
                    title = _norm(title)
                    if re.search(r" round$", title, re.I) or re.fullmatch(r"[a-z][\w-]*", title):
                        yield cite(m, "round", re.sub(r" round$", "", title, flags=re.I).lower())
                    else:
                        yield cite(m, "title", title)
            for m in BARE.finditer(text):
                if m.start("page") not in named:
                    yield cite(m, "round", m.group("name"))
            for m in ANY_PAGE.finditer(text):
                if m.start() not in named:
                    line = first_line + text[:m.start()].count("\n")
                    yield f"{path.relative_to(ROOT)}:{line}", m.group(0), "page", None


def openings(page_text: str) -> list[tuple[str, str]]:
    """(kind, normalised text) of a page's headings, bold spans, paragraph openings (their
    first three lines), lines starting with a date and table rows, fenced code left out."""
    text = re.sub(r"^```.*?^```", "", page_text, flags=re.S | re.M)
    found = [("heading", m.group(1)) for m in re.finditer(r"^#{1,6} +(.*)$", text, re.M)]
    found += [("bold", m.group(1)) for m in re.finditer(r"\*\*(.+?)\*\*", text, re.S)]
    found += [("paragraph", m.group(1)) for m in
              re.finditer(r"^(\d{4}-\d{2}-\d{2}\b[^\n]*(?:\n[^\n]+){0,2})", text, re.M)]
    found += [("row", m.group(1)) for m in re.finditer(r"^\|([^\n]{0,300})", text, re.M)]
    found += [("paragraph", m.group(1)) for m in
              re.finditer(r"(?:\A|\n[ \t]*\n)((?:[-*] |\d+\. )?[^\n]*(?:\n[^\n]+){0,2})", text)]
    out = []
    for kind, t in found:
        t = _norm(t).lower()
        t = re.sub(r"^[-*#|\s]+|^\d+\. ", "", t).replace("*", "").replace("`", "")
        out.append((kind, t))
    return out


def _squash(name: str) -> str:
    return re.sub(r"[\s'-]", "", name.lower())


def round_index(page_openings) -> tuple[set[str], set[str]]:
    """The round names a page introduces (the text before "round" at the start of an
    opening, see the module notes) and its rounds' branch names, squashed."""
    names, branches = set(), set()
    for kind, t in page_openings:
        t2 = DATE.sub("", t)
        if kind in ("heading", "bold"):
            t2 = re.sub(r"^the ", "", t2)
            start = re.match(r"(.{1,80}?) rounds?\b", t2)
            if start:
                names.add(start.group(1))
            end = re.search(r"\(([\w.-]+)\)$", t2)
            if kind == "heading" and end:
                branches.add(_squash(end.group(1)))
        elif kind == "paragraph":
            names.update(re.findall(r"^(?:the )?(.{1,80}?) rounds? ?[(,:.;]", t2))
        branch = re.match(r"(?:the )?[^()]{1,60}? rounds? \(([\w.-]+)[,)]", t2)
        if branch:
            branches.add(_squash(branch.group(1)))
        branches.update(_squash(b) for b in re.findall(r"\((?:[^()]{0,30}?, )?branch ([\w.-]+)", t[:300]))
    return names, branches


def holds_round(index, name: str) -> bool:
    names, branches = index
    return name.lower() in names or _squash(name) in branches


def holds_title(page_openings, title: str) -> bool:
    q = _norm(title).lower().replace("`", "")
    return any(q in t if kind in ("heading", "bold") else kind == "paragraph" and t.startswith(q)
               for kind, t in page_openings)


def test_cited_rounds_and_headings_are_on_the_cited_page():
    pages = {name: openings(path.read_text(encoding="utf-8")) for name, path in DOCS.items()}
    rounds = {name: round_index(found) for name, found in pages.items()}

    def holds(page, kind, name):
        if kind == "round":
            return holds_round(rounds[page], name)
        return kind == "page" or holds_title(pages[page], name)

    found = list(citations())
    # The parser still reads the comments' forms: most citations name a round or heading.
    assert sum(kind != "page" for _, _, kind, _ in found) >= 150, len(found)
    wrong = []
    for where, page, kind, name in found:
        if page not in pages:
            wrong.append(f"{where}: {page} does not exist")
        elif not holds(page, kind, name):
            others = [p for p in pages if p != page and holds(p, kind, name)]
            wrong.append(f"{where}: {page} does not hold {kind} {name!r}; "
                         + (f"held by {', '.join(others)}" if others else "no page holds it"))
    assert not wrong, f"{len(wrong)} citations:\n" + "\n".join(wrong)
