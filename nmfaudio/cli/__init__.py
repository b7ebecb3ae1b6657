"""The ``nmfaudio`` command line: parse, call, write, report.

Each sub-command lives in its own module of this package and exposes

``register(subparsers) -> None``
    adds its ``argparse`` sub-parser and sets ``handler=<function(args) -> int>``
    with ``parser.set_defaults``.

This package is the only part of nmfaudio that prints.  Errors reach the user
as one line on stderr (``nmfaudio: error: ...``) and exit code 1 (with ``--json``, also
as a ``"status": "failed"`` record on stdout: :func:`failure_record`); usage errors
exit with 2 (argparse's convention), also as one line, pointing to the sub-command's
own ``--help``.  No traceback is ever shown.  The library's messages name Python
arguments (``hop_length=4096``); the CLI shows them as the options that set them
(``--hop-length 4096``).  Ctrl-C exits with 130, SIGTERM with 143 and SIGHUP (a closed
terminal or ssh session) with 129, after the outputs' temporary files are removed; a
closed stdout (``| head``) ends the run quietly with 141, like other Unix tools.
"""

from __future__ import annotations

import argparse
import ast
import errno
import importlib
import json
import os
import re
import secrets
import signal
import sys
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

from nmfaudio.cli import _startup
from nmfaudio.cli._startup import resume_collector

# Sub-command modules, in the order ``nmfaudio --help`` lists them.
COMMAND_MODULES = ("separate", "drums", "image", "spikes")


class CLIError(Exception):
    """An error to show the user as one line (exit code 1)."""


class Terminated(KeyboardInterrupt):
    """Raised by the SIGTERM/SIGHUP handler :func:`main` installs, so that cleanup runs as for Ctrl-C."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit code 2) that
    points to the help of the (sub-)command that failed."""

    def error(self, message):
        # an input named '-x.wav' is read as an unknown option: "INPUT ... required" or "unrecognized"
        read_as_option = "unrecognized arguments" in message or "arguments are required" in message
        dashed = self._dashed_paths() if read_as_option and getattr(self, "_is_sub_command", False) else []
        late = self._options_after_dashes() if read_as_option and getattr(self, "_is_sub_command", False) else []
        if late and not dashed:  # "nmfaudio drums -- -x.wav -o out": -o was read as an input
            self.exit(2, f"{self.prog}: error: {self.dashes_fix()}\n")
        swallowed = self.swallowed_input_fix() if "arguments are required" in message else None
        if swallowed and not dashed:  # "nmfaudio drums --onsets song.wav -o out": the input went to --onsets
            self.exit(2, f"{self.prog}: error: {swallowed}\n")
        if dashed:
            self.exit(2, f"{self.prog}: error: {dashed[0]!r} starts with '-', so it is read as an option; "
                         f"give such inputs after '--', last: {self._with_dashed_last(dashed)} "
                         f"(or write ./{dashed[0]})\n")
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}{self._split_list_hint(message)} "
                     f"(see '{self.prog} --help')\n")

    def _split_list_hint(self, message: str) -> str:
        """``--classes kick, snare`` (a space after the comma: the shell makes two words) left
        'snare' unrecognized without a word on why: say how the list is written."""
        if "unrecognized arguments" not in message:
            return ""
        return split_list_hint(getattr(self, "_words", None) or [])

    def _dashed_paths(self) -> list:
        """The words of the command line that start with '-', are no option of this
        parser and name an existing file or folder (an input named ``-x.wav``)."""
        words = getattr(self, "_words", None) or []
        if "--" in words:
            words = words[:words.index("--")]
        return [w for w in words if w.startswith("-") and len(w) > 1
                and w.split("=")[0] not in self._option_string_actions and os.path.lexists(w)]

    def dashes_fix(self) -> str | None:
        """``after '--' every word is an input, so -o was read as one; give the options
        before '--': nmfaudio drums -o out -- -x.wav`` when options of this parser were
        written after ``--`` (:meth:`parse_known_args` keeps the words), else None."""
        import shlex

        late = self._options_after_dashes()
        if not late:
            return None
        words = self._words
        cut = words.index("--")
        inputs = [w for w in words[cut + 1:] if w not in late and w not in self._values_of(late, words)]
        options = [w for w in words[cut + 1:] if w not in inputs]
        fixed = shlex.join([*self.prog.split(), *words[:cut], *options, *(["--", *inputs] if inputs else [])])
        return f"after '--' every word is an input, so {late[0]} was read as one; give the options before '--': {fixed}"

    def swallowed_input_fix(self) -> str | None:
        """``--onsets took 'song.wav' as its CSV path ...; write it after the inputs: nmfaudio
        drums song.wav -o out --onsets`` when an option whose value is optional (``--onsets
        [CSV]``) took the word after it, an existing file or folder that is no such file (the
        input: ``nmfaudio drums --onsets song.wav -o out``), else None.  argparse said only
        that INPUT was required."""
        import shlex

        words = getattr(self, "_words", None) or []
        if "--" in words:
            words = words[:words.index("--")]
        for i, word in enumerate(words[:-1]):
            action = self._option_string_actions.get(word)
            value = words[i + 1]
            if action is None or action.nargs != "?" or value.startswith("-") or not action.metavar:
                continue
            if Path(value).suffix.lower() != f".{action.metavar.lower()}" and os.path.exists(value):
                fixed = shlex.join([*self.prog.split(), *words[:i], *words[i + 1:], word])
                return (f"{word} takes an optional {action.metavar} path and took {value!r} as it, so no input is "
                        f"left; write {word} after the inputs: {fixed}")
        return None

    def _options_after_dashes(self) -> list:
        """This parser's options written after ``--`` (where they are inputs)."""
        words = getattr(self, "_words", None) or []
        if "--" not in words:
            return []
        return [w for w in words[words.index("--") + 1:] if w.split("=")[0] in self._option_string_actions]

    def _values_of(self, options, words) -> list:
        """The words that follow each of ``options`` that takes a value (``-o out``: out)."""
        values = []
        for option in options:
            action = self._option_string_actions[option.split("=")[0]]
            if "=" not in option and action.nargs != 0 and words.index(option) + 1 < len(words):
                values.append(words[words.index(option) + 1])
        return values

    def _with_dashed_last(self, dashed) -> str:
        """The command line again with the ``dashed`` inputs after ``--``, at the end."""
        import shlex

        rest = [w for w in self._words if w not in dashed]
        return shlex.join([*self.prog.split(), *rest, "--", *dashed])

    def parse_known_args(self, args=None, namespace=None):
        # A sub-command's parser reports its own unknown options, so the error points to
        # 'nmfaudio separate --help' rather than to the top-level help.
        self._words = list(sys.argv[1:] if args is None else args)  # for error(): inputs named -x.wav
        args = self._bare_flags_set(self._words)
        namespace, extras = super().parse_known_args(args, namespace)
        if extras and getattr(self, "_is_sub_command", False):
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


    def _bare_flags_set(self, words: list) -> list:
        """``words`` with an option whose value may be left out (``bare_flags``: ``--drumless
        [auto|on|off]``, once a flag) written as ``--option=CONST`` where the next word is none
        of its values: ``--drumless song.wav`` read the input as the option's value.  Also
        the option's abbreviation argparse takes (``--drum song.wav``, as the flag took it:
        review65, it was "invalid choice: 'song.wav'")."""
        flags = getattr(self, "bare_flags", {})
        out = list(words)
        if not flags:
            return out
        for i, word in enumerate(out[:-1]):
            if word == "--":
                break
            if word.startswith("--") and "=" not in word and word not in flags and self.allow_abbrev:
                named = [option for option in self._option_string_actions if option.startswith(word)]
                word = named[0] if len(named) == 1 else word
            # a value in another case ("OFF") is left to argparse's "invalid choice": taken for an
            # input it turned the option on and said "'OFF' does not exist" (review65)
            if word in flags and out[i + 1].lower() not in flags[word][0] and not out[i + 1].startswith("-"):
                out[i] = f"{word}={flags[word][1]}"
        return out


def split_list_hint(words, stray: str | None = None) -> str:
    """``; a comma-separated list takes no spaces: --classes kick,snare`` when ``words`` (a
    command line) holds an option's value ending with a comma followed by a loose word
    (``--classes kick, snare``: the shell split the list), else "".  ``stray``: only when
    that loose word is this one (an input said not to exist)."""
    for i, word in enumerate(words[1:-1], start=1):
        if word.endswith(",") and words[i - 1].startswith("-") and not words[i + 1].startswith("-"):
            if stray is not None and words[i + 1] != stray:
                continue
            joined, j = word, i + 1
            while joined.endswith(",") and j < len(words) and not words[j].startswith("-"):
                joined, j = joined + words[j], j + 1  # "kick, snare, hihat": every piece
            return f"; a comma-separated list takes no spaces: {words[i - 1]} {joined}"
    return ""


def _mark_sub_commands(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub._is_sub_command = True
                _mark_sub_commands(sub)


def command_parser(parser: argparse.ArgumentParser, args) -> argparse.ArgumentParser:
    """The (sub-)sub-parser that parsed ``args`` (e.g. the one of ``image compress``)."""
    while True:
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        name = getattr(args, actions[0].dest, None) if actions else None
        if name is None or name not in actions[0].choices:
            return parser
        parser = actions[0].choices[name]


def refuse_outputs(outputs, *, force: bool, output_dir: Path | None = None, inputs=()) -> None:
    """Refuse, before any work: ``output_dir`` (the -o folder) being a file, one path given
    for two outputs, outputs that are folders, an output that is one of the ``inputs``
    (whatever the links: with or without --force), and existing outputs without ``--force``.  The one wording of
    these errors for every sub-command.

    Raises
    ------
    CLIError
    """
    from nmfaudio.audio import check_not_inputs

    if output_dir is not None and output_dir.exists() and not output_dir.is_dir():
        raise CLIError(f"-o {str(output_dir)!r} is a file; give a folder")
    outputs = [Path(p) for p in outputs]
    seen = {}
    for path in outputs:  # e.g. image compress -o x.png --plot x.png: refused now, not after the fit
        if seen.setdefault(path.resolve(), path) is not path:
            raise CLIError(f"{str(path)!r} is given for two outputs; give each output its own name")
    folders = [p for p in outputs if p.is_dir()]
    if folders:
        other = "-o" if output_dir is not None else "path"
        raise CLIError(f"{str(folders[0])!r} is a folder where an output file must go; "
                       f"move it or choose another {other}")
    try:
        check_not_inputs(outputs, inputs)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    if not force:
        existing = [p for p in outputs if os.path.lexists(p)]
        if len(existing) == 1:
            raise CLIError(f"{str(existing[0])!r} already exists; use --force to overwrite it")
        if existing:
            raise CLIError(f"{str(existing[0])!r} exists, as do {len(existing) - 1} more of the outputs; "
                           "use --force to overwrite them")


def check_output_parent(path: Path, option: str) -> None:
    """Refuse, before any work, an output file ``path`` (given to ``option``) whose folder
    does not exist, or cannot be written in: the write after the work would fail on it.  The one wording of it
    (``image compress -o``/``--plot``, ``drums --onsets``), naming a file that has the
    folder's name when there is one.

    Raises
    ------
    CLIError
    """
    if path.parent.is_dir():
        # writable, by a real write (root ignores permission bits): a read-only folder failed
        # after the work, naming a hidden temporary file (image compress / sweep; tour16)
        marker = _run_marker(path.parent, f"the {option} folder")
        if marker is None:  # removed meanwhile
            raise CLIError(f"{option} {str(path)!r}: folder {str(path.parent)!r} does not exist; create it first")
        _remove(marker)
        return
    from nmfaudio.audio import file_in_the_way

    blocking = file_in_the_way(path.parent)  # a file has its name: creating the folder would fail
    if blocking is not None:
        raise CLIError(f"{option} {str(path)!r}: {str(blocking)!r} is a file, not a folder; give a path in a folder")
    raise CLIError(f"{option} {str(path)!r}: folder {str(path.parent)!r} does not exist; create it first")


def check_not_file_name(folder: Path, option: str = "-o") -> None:
    """Refuse a missing output folder named like a file (``-o out.wav``, ``-o labels.csv``):
    ``-o`` is the folder the outputs go in, and such a name made a folder ``out.wav``
    holding ``out.wav/x_kick.wav``.  A folder that exists already is the user's, whatever
    its name; other dotted names (``stems.v2``) are folders.

    Raises
    ------
    CLIError
    """
    from nmfaudio.audio import file_named_folder

    suffix = file_named_folder(folder)
    if suffix:
        raise CLIError(f"{option} {str(folder)!r} looks like a {suffix} file name, but {option} is the folder the "
                       f"outputs go in; give a folder, e.g. {option} {str(folder.with_suffix(''))!r} (or create "
                       f"the folder {str(folder)!r} first to use that name)")


def check_no_broken_link(folder: Path, option: str = "-o") -> None:
    """Refuse an output ``folder`` that is (or lies below) a symbolic link leading nowhere — a
    missing target or a loop of links — naming the link: no folder can be made there, nor a
    file in it.  It was taken for a folder removed meanwhile ("cannot keep the folder -o
    'out': something removes it") or failed in the library ("Symlink loop from ..."; review56).

    Raises
    ------
    CLIError
    """
    current = Path(folder)
    while current != current.parent and not current.exists():
        if current.is_symlink():
            from nmfaudio.audio import not_found

            raise CLIError(f"{option} {str(folder)!r}: {not_found(current)}")
        current = current.parent


@contextmanager
def output_folder(folder, option: str = "-o"):
    """Make sure ``folder`` exists and is writable before the work starts.

    Creates ``folder`` and any missing parents, and checks that a file can be created in
    it (root ignores permission bits, so only a real write tells): a hidden marker file,
    ``.nmfaudio-run-<pid>-<random>``, stays there for the whole run and is removed at
    the end.  If the block raises (or is interrupted), the folders created here are
    removed again — only when empty, so never while another run is using them (its
    marker keeps the folder), and never with anyone's files in them.  A folder made only
    on the way, which ``folder`` leaves again through ``..`` (``q/sub`` of ``q/sub/..``), is
    removed at the end too, when empty.

    Raises
    ------
    CLIError
        ``folder`` (or one of its parents) is a file, cannot be created, or is not writable.
    """
    folder = Path(folder)
    check_not_file_name(folder, option)
    missing = []
    current = folder
    check_no_broken_link(folder, option)
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    if not current.is_dir():
        what = "is a file" if current == folder else f"is inside {str(current)!r}, which is a file"
        raise CLIError(f"{option} {str(folder)!r} {what}; give a folder")
    created: list[Path] = []
    marker = None
    try:
        for _ in range(10):  # another run may remove a folder we saw: make it again
            for path in reversed(missing):
                try:
                    path.mkdir()
                except FileExistsError:
                    continue
                except FileNotFoundError:
                    # its parent, seen a moment ago, is gone: another run's folder made on the way,
                    # removed at its end (q of '-o q/sub/..'); the next round makes it again (review59)
                    break
                except OSError as exc:
                    raise CLIError(f"cannot create the folder {option} {str(path)!r} ({exc.strerror}); "
                                   "give a folder you can write to") from None
                created.append(path)
            marker = _run_marker(folder, option)
            if marker is not None:
                break
            missing = [p for p in [folder, *folder.parents] if not p.exists()]
        else:  # pragma: no cover - ten races in a row
            raise CLIError(f"cannot keep the folder {option} {str(folder)!r}: something removes it")
        with stale_notes():
            yield folder
    except BaseException:
        _remove(marker)
        for path in reversed(created):
            try:
                path.rmdir()  # only if empty: never another run's folder or files
            except OSError:
                pass
        raise
    _remove(marker)
    # a folder made only on the way, which the path then leaves ('q/sub' of '--onsets
    # q/sub/../x.csv', as mkdir -p makes it), holds nothing of the run: removed if empty (review58)
    kept = folder.resolve()
    for path in reversed(created):
        if path.resolve() != kept and path.resolve() not in kept.parents:
            try:
                path.rmdir()
            except OSError:
                pass


@contextmanager
def stale_notes():
    """Inside the block, say on stderr what the writes removed that a killed run left:
    ``nmfaudio: note: removed 6 temporary files left by an interrupted run (pid 1234) in
    'out'`` (:func:`nmfaudio.audio.remove_stale_temporaries`).  A batch worker's removals
    come back in its input's record instead (``notes``), printed with it."""
    from nmfaudio import audio  # here, not at the top: --help and usage errors load no NumPy

    def note(folder, removed):  # tqdm's write: above a progress bar drawn meanwhile, not through it
        bar_writer().write(f"nmfaudio: note: {audio.stale_note(folder, removed)}", file=sys.stderr)

    with audio.on_stale_removed(note):
        yield


def _run_marker(folder: Path, option: str):
    """Create this run's hidden marker in ``folder``; None if ``folder`` vanished meanwhile."""
    marker = folder / f".nmfaudio-run-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileNotFoundError as exc:
        if not folder.is_dir():
            return None
        raise CLIError(f"cannot write in {option} {str(folder)!r} ({exc.strerror}); "
                       "give a folder you can write to") from None
    except OSError as exc:
        raise CLIError(f"cannot write in {option} {str(folder)!r} ({exc.strerror}); "
                       "give a folder you can write to") from None
    os.close(descriptor)
    return marker


def _remove(path) -> None:
    if path is not None:
        try:
            os.unlink(path)
        except OSError:
            pass


#: Free space counted for a figure the command writes (``image compress --plot``, ``image
#: sweep -o``, ``spikes``' clusters): the drums' allowance (:data:`nmfaudio.batch.FIGURE_BYTES`,
#: a test holds them equal), copied so the parser, which every command builds, does not
#: import the batch module.
FIGURE_BYTES = 16 * 2**20


def count(n: int, noun: str) -> str:
    """``"1 component"``, ``"3 components"``: a count for the summaries (regular plurals)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command registered."""
    from nmfaudio import __version__

    parser = OneLineParser(
        prog="nmfaudio",
        description="Separate sounds with non-negative matrix factorization.",
    )
    parser.add_argument("--version", action="version", version=f"nmfaudio {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    _mark_sub_commands(parser)
    return parser


#: The fix suggested for operating-system errors, by errno.
_OS_FIXES = {
    errno.EACCES: "check the permissions or choose another path",
    errno.EPERM: "check the permissions or choose another path",
    errno.EROFS: "the file system is read-only; choose another path",
    errno.ENOSPC: "free some disk space or choose another folder",
    errno.EDQUOT: "free some disk space or choose another folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder; check the path",
    errno.ENOENT: "check the path",
    errno.EISDIR: "the path is a folder; give a file",
}


#: What to do when a run needs more memory than there is, by sub-command.  Inputs whose
#: sizes are absurd (damaged headers, ranks larger than the data, huge template lengths)
#: are refused with their own message before anything is allocated; this is for real,
#: large inputs.
_MEMORY_FIXES = {
    "separate": "use fewer components, or separate block by block (--block-seconds 30, or a lower --max-memory)",
    "drums": "separate block by block (--block-seconds 30, or a lower --max-memory)",
    "image": "use a smaller picture (or fewer pictures) or a lower rank",
    "spikes": "use fewer spikes or clusters",
    "templates": "use fewer or shorter one-shots, or fewer --frames",
}


def error_line(exc: BaseException, *, command: str | None = None, parser=None) -> str:
    """One line naming the problem (and, for operating-system errors, the fix):
    ``nmfaudio: error: `` and :func:`error_message`."""
    return f"nmfaudio: error: {error_message(exc, command=command, parser=parser)}"


def error_message(exc: BaseException, *, command: str | None = None, parser=None) -> str:
    """The problem (and, for operating-system errors, the fix) on one line, without the
    ``nmfaudio: error:`` prefix (the ``"error"`` of a ``--json`` record).

    ``command`` picks the advice for running out of memory; ``parser`` (the sub-command's)
    turns the library's Python argument names into its options."""
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, (FileExistsError,)) and (
            exc.filename is not None):
        fix = _OS_FIXES.get(exc.errno, "check the path")
        message = f"{exc.strerror}: {str(exc.filename)!r}; {fix}"
    elif isinstance(exc, MemoryError):
        fix = _MEMORY_FIXES.get(command, "use a smaller input")
        message = f"out of memory: this input and these options need more memory than is free; {fix}"
    else:
        message = cli_words(str(exc) or type(exc).__name__, parser)
    return " ".join(message.split())


def cli_words(message: str, parser=None) -> str:
    """A library message in the CLI's words: ``pass overwrite=True`` is ``use --force``
    (and ``use --force (force=True in Python)`` is ``use --force``), and
    with ``parser`` (the sub-command's) the Python argument names are its options
    (:func:`option_names`).  One place for a file given alone and a batch's failed input
    (whose line said "pass overwrite=True" when another run wrote its outputs meanwhile)."""
    message = message.replace("pass overwrite=True", "use --force")
    # a batch's partly done input names both ways to redo it; on the command line --force
    # alone (the option renaming below made "force=True" "--force True": "use --force
    # (--force True in Python)"; review63)
    message = message.replace(" (force=True in Python)", "")
    return message if parser is None else option_names(message, parser)


#: The argument that holds a sub-command's input, by ``dest``: named by a ``--json``
#: failure record (:func:`failure_record`).
_INPUT_ARGUMENTS = ("inputs", "photo", "images", "file", "folder")


def failure_record(args, message: str) -> dict:
    """The ``--json`` record of a run that stopped on an error: ``{"input": ..., "status":
    "failed", "error": message}``, as a batch prints for a failed input, so a script reading
    stdout gets a record whether the run worked or not.  ``input`` is the one input given
    (a path as typed), or None when several were (the error is the command's, not one
    input's: a batch's records are printed per input as it runs)."""
    given = next((getattr(args, name) for name in _INPUT_ARGUMENTS if getattr(args, name, None) is not None), None)
    if isinstance(given, list):
        given = given[0] if len(given) == 1 else None
    return {"input": None if given is None else str(given), "status": "failed", "error": message}


#: ``name=value`` in a library message; value: a tuple/list literal, a quoted string or a word.
_ARGUMENT = r"\b{name}=(\([^)]*\)|\[[^\]]*\]|'[^']*'|\"[^\"]*\"|[^\s,;:()]+)"


#: Options whose ``dest`` is not the library's name for the same argument.
_LIBRARY_NAMES = {"seed": "random_state", "frames": "n_frames", "free": "n_free", "output_dir": "directory",
                  "rank": "n_components", "sigma": "sigma"}


def option_names(message: str, parser: argparse.ArgumentParser) -> str:
    """Rewrite the library's ``hop_length=4096`` as ``--hop-length 4096`` and
    ``classes=('kick', 'snare')`` as ``--classes kick,snare``, for every option of
    ``parser`` (its ``dest`` is the library's argument name)."""
    for action in parser._actions:
        longest = max(action.option_strings, key=len, default=None)
        if longest is None or action.dest in ("help", "version"):
            continue
        for name in {action.dest, _LIBRARY_NAMES.get(action.dest, action.dest)}:
            message = re.sub(_ARGUMENT.format(name=re.escape(name)),
                             lambda match, flag=longest: f"{flag} {_plain(match.group(1))}", message)
    return message


def _plain(value: str) -> str:
    """A Python literal as the user typed it on the command line."""
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value
    if isinstance(parsed, (tuple, list)):
        return ",".join(str(item) for item in parsed)
    return str(parsed)



#: The signal (SIGINT, SIGTERM or SIGHUP) that is stopping the run, if any.  The exception a
#: signal handler raises can surface as another one — raised inside a C extension's
#: import, Python reports "ImportError: initialization failed" — so main() reports the
#: signal, not that exception.
_stopping_signal = None


#: Said after "no partial outputs were kept" when a run is stopped (:func:`_stopped`): a
#: batch keeps it up to date with how many inputs are finished (their outputs stay, and
#: a rerun skips them); None for one file.
stop_note = None


#: While > 0, signals are only recorded, not raised: inside the compiled engine (numba
#: compiling or loading its cache, worker threads writing shared arrays) an exception
#: raised from a signal handler can crash the process (SIGSEGV/SIGABRT) or be swallowed.
#: The work checks for a recorded signal at safe points (each iteration's callback,
#: each block) and when the deferred section ends — see :func:`signals_deferred`.
_deferring = 0


def _raise_terminated(signum, frame):
    global _stopping_signal
    _stopping_signal = signum
    if not _deferring:
        raise Terminated()


def _raise_interrupted(signum, frame):
    global _stopping_signal
    _stopping_signal = signal.SIGINT
    if not _deferring:
        raise KeyboardInterrupt


def stop_if_signalled() -> None:
    """Raise the recorded signal's exception (a safe point of the work)."""
    if _stopping_signal is not None:
        raise KeyboardInterrupt if _stopping_signal == signal.SIGINT else Terminated()


@contextmanager
def signals_deferred():
    """Run the block with SIGINT/SIGTERM/SIGHUP recorded instead of raised; raise a
    recorded one at the block's safe points (:func:`stop_if_signalled`, called by the
    progress callback, and before :func:`nmfaudio.audio.atomic_outputs` renames its files
    into place) or when it ends.  For the engine's compiled, threaded work."""
    from nmfaudio import audio  # (imported by the work already; not at start-up)

    global _deferring
    _deferring += 1
    try:
        with audio.commit_check(stop_if_signalled):  # a signal recorded by then: no output is published
            yield
    finally:
        _deferring -= 1
    stop_if_signalled()


def _stopped(signum) -> int:
    """Report a run stopped by ``signum``; return its exit code (128 + signal)."""
    what = {signal.SIGINT: "interrupted", signal.SIGHUP: "hung up (the terminal closed)"}.get(signum, "terminated")
    try:
        print(f"nmfaudio: {what}; no partial outputs were kept" + (f"; {stop_note}" if stop_note else ""),
              file=sys.stderr)
    except OSError:  # the terminal that would show it is gone (SIGHUP)
        pass
    return 128 + signum


def _quiet_broken_pipe() -> int:
    """stdout's reader has gone (``nmfaudio ... | head``): stop quietly, like other Unix
    tools, and keep Python from complaining when it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 128 + signal.SIGPIPE


#: The null devices :func:`_attach_streams` set as ``sys.stdout`` / ``sys.stderr``, by name:
#: [stream, how many main() calls still run on it] (the last to end closes it).
_ATTACHED: dict = {}


def _attach_streams() -> list:
    """``sys.stdout`` / ``sys.stderr`` that are None (Python's when its file descriptor was
    closed at start, ``nmfaudio ... >&-``, or under pythonw) set to the null device for the
    run: the summary's flush failed on "'NoneType' object has no attribute 'flush'" after
    the outputs were written, exit 1 with "please report this as a bug" (review10).  Returns
    the names set, for :func:`_detach_streams`."""
    names = []
    with _ESCAPED_LOCK:
        for name in ("stdout", "stderr"):
            entry = _ATTACHED.get(name)
            if entry is not None and getattr(sys, name) is entry[0]:  # another main() set it
                entry[1] += 1
            elif getattr(sys, name) is None:
                _ATTACHED[name] = [open(os.devnull, "w", encoding="utf-8"), 1]
                setattr(sys, name, _ATTACHED[name][0])
            else:
                continue
            names.append(name)
    return names


def _detach_streams(names: list) -> None:
    """``sys.stdout`` / ``sys.stderr`` None again (unless replaced since) once the last main()
    that :func:`_attach_streams` counted ends; the null device closed."""
    with _ESCAPED_LOCK:
        for name in names:
            entry = _ATTACHED[name]
            entry[1] -= 1
            if entry[1] > 0:
                continue
            del _ATTACHED[name]
            if getattr(sys, name) is entry[0]:
                setattr(sys, name, None)
            entry[0].close()


#: The streams :func:`_escape_stdout` set to ``errors="backslashreplace"``, by id: [stream,
#: how many main() calls still run on it].  Calls on threads share one stdout: the last to
#: end sets it back to "strict" (the first to end did, while the others still printed).
_ESCAPED: dict = {}
_ESCAPED_LOCK = threading.Lock()


def _escape_stdout():
    """``sys.stdout`` set to write what its encoding cannot hold as escapes, when it is a
    strict text stream; the stream to give to :func:`_restore_stdout`, or None.  A stream
    that cannot be reconfigured (closed by the caller, a pipe whose pending bytes cannot be
    flushed) is left as it is: main()'s own handling of a closed stdout then applies (it
    returned 1 with the error line on stderr before the escapes, 2026-12-06, tour15)."""
    stream = sys.stdout
    with _ESCAPED_LOCK:
        entry = _ESCAPED.get(id(stream))
        if entry is not None and entry[0] is stream:  # another main() on it: escaped already
            entry[1] += 1
            return stream
        if getattr(stream, "errors", None) != "strict" or not hasattr(stream, "reconfigure"):
            return None
        try:
            stream.reconfigure(errors="backslashreplace")
        except (ValueError, OSError):  # closed, or its pending bytes cannot be written
            return None
        _ESCAPED[id(stream)] = [stream, 1]
        return stream


def _restore_stdout(stream) -> None:
    """The caller's stream as it was (``errors="strict"``) once the last main() on it ends."""
    if stream is None:
        return
    with _ESCAPED_LOCK:
        entry = _ESCAPED[id(stream)]
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _ESCAPED[id(stream)]
        try:
            stream.reconfigure(errors="strict")
        except (ValueError, OSError):  # closed meanwhile (| head)
            pass


@contextmanager
def warnings_as_notes(category):
    """Print each warning of ``category`` raised inside the block as one ``nmfaudio: note:``
    line on stderr, not as Python's warning with its source line; other warnings pass on
    as they were (``warnings.warn_explicit``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", category)
        yield
    for warning in caught:
        if issubclass(warning.category, category):
            print(f"nmfaudio: note: {warning.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def bar_shown(stream=None) -> bool:
    """Whether a tqdm bar made with ``disable=None`` draws on ``stream`` (default
    ``sys.stderr``): tqdm's own test — not when the stream says it is no terminal."""
    stream = sys.stderr if stream is None else stream
    return not (hasattr(stream, "isatty") and not stream.isatty())


class HiddenBar:
    """What a tqdm bar made with ``disable=None`` does on a stream that is no terminal
    (a file, a pipe: a script's run), without importing tqdm: nothing drawn, its count
    left at 0, :meth:`write` writing the text and ``end`` as ``tqdm.write`` does (it has
    no bar to clear).  tqdm and the ``multiprocessing`` its lock loads are ~9 ms of a
    drum run's single-core start-up (docs/performance.md, the speed50 round)."""

    n = 0

    def __init__(self, total=None):
        self.total = total

    def update(self, n=1):
        return None

    def set_postfix(self, *args, **kwargs):
        return None

    def reset(self, total=None):
        if total is not None:
            self.total = total

    def close(self):
        return None

    @staticmethod
    def write(s, file=None, end="\n"):
        stream = sys.stdout if file is None else file
        if stream is not None:
            stream.write(s)
            stream.write(end)


def new_bar(**options):
    """``tqdm(file=sys.stderr, disable=None, dynamic_ncols=True, **options)``: a progress bar
    on stderr when it is a terminal; a :class:`HiddenBar` (tqdm not imported) when it is not."""
    if not bar_shown():
        return HiddenBar(options.get("total"))
    from tqdm import tqdm

    return tqdm(**{"file": sys.stderr, "disable": None, "dynamic_ncols": True, **options})


def bar_writer():
    """What writes a line above the bars: ``tqdm`` (its ``write``) when a bar may be drawn
    on stderr, else :class:`HiddenBar` (tqdm not imported)."""
    if not bar_shown():
        return HiddenBar
    from tqdm import tqdm

    return tqdm


def progress_bar(total: int):
    """A tqdm bar on stderr (shown when stderr is a terminal) and the engine callback."""
    bar = new_bar(total=total, desc="NMF", unit="it", leave=False)

    def callback(iteration, loss):
        resume_collector()  # the start-up is over once the fit iterates (see run())
        stop_if_signalled()  # a safe point: between iterations, no worker thread running
        bar.update(iteration - bar.n)
        if iteration % 10 == 0:
            bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
        return None

    return bar, callback


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help/--version exit 0, usage errors exit 2
        return int(exit_.code or 0)
    global _stopping_signal, _deferring, stop_note
    _stopping_signal, _deferring, stop_note = None, 0, None
    if getattr(args, "command", None) not in ("drums", "separate"):  # no fit's callback ends run()'s pause
        resume_collector()  # of the collector (drums / separate batches end it in run_batch)
    # A stdout that cannot encode every character (a Windows console or file redirect in
    # cp1252, PYTHONIOENCODING=ascii, a latin-1 terminal) failed the summary line of an
    # input named in another script *after* the outputs were written: exit 1, "'ascii' codec
    # can't encode characters ...".  Such characters are written as escapes instead, as
    # Python's stderr does (_escape_stdout: also for main() called from Python, where
    # stdout may be closed, or shared by calls on other threads).
    detached = _attach_streams()
    escaped = _escape_stdout()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _raise_terminated)
        if signal.getsignal(signal.SIGHUP) is signal.SIG_DFL:  # keep nohup's SIG_IGN
            previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, _raise_terminated)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # keep a caller's own
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, _raise_interrupted)
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in Python's exit
        return code
    except SystemExit as exit_:  # a handler's late usage error (parser.error: already printed)
        return int(exit_.code or 0)
    except Terminated:
        return _stopped(_stopping_signal or signal.SIGTERM)
    except KeyboardInterrupt:
        return _stopped(signal.SIGINT)
    except BrokenPipeError:
        if _stopping_signal is not None:
            return _stopped(_stopping_signal)
        return _quiet_broken_pipe()
    except (CLIError, ValueError, TypeError, OSError, RuntimeError, MemoryError) as exc:
        if _stopping_signal is not None:
            return _stopped(_stopping_signal)
        sub = command_parser(parser, args)
        message = error_message(exc, command=getattr(args, "command", None), parser=sub)
        missing = re.match(r"^'([^']*)' does not exist; check the path$", message)
        if missing and isinstance(sub, OneLineParser) and missing.group(1) in sub._options_after_dashes():
            message = sub.dashes_fix()  # "-o out -- -x.wav --midi": '--midi' was taken for an input
        elif missing:  # "--classes kick, snare x.wav": 'snare' was taken for an input
            message += split_list_hint(getattr(sub, "_words", None) or [], missing.group(1))
        return _failed(args, message)
    except Exception as exc:  # a bug: still one line, naming it
        if _stopping_signal is not None:
            return _stopped(_stopping_signal)
        return _failed(args, f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())} "
                             "(please report this as a bug)")
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _restore_stdout(escaped)
        _detach_streams(detached)


def _failed(args, message: str) -> int:
    """Report a run that stopped on an error: the one line on stderr and, with ``--json``,
    its record on stdout (:func:`failure_record`); return the exit code, 1."""
    print(f"nmfaudio: error: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        try:
            print(json.dumps(failure_record(args, message)), flush=True)
        except OSError:  # stdout's reader has gone (| head): the line on stderr said it
            pass
    return 1


def run() -> None:
    """The program's entry point (the ``nmfaudio`` command, ``python -m nmfaudio``):
    :func:`main` with ``sys.argv``, then exit with its code.

    Once :func:`main` has returned every output is written, flushed to disk and renamed,
    so the exit skips Python's own tear-down of the interpreter — freeing every module,
    numba's and LLVM's compiled code among them, one object at a time: about 0.3-0.45 s
    after a drum run, measured (docs/performance.md, the start-up round).  What that
    tear-down does first still happens, in its order: non-daemon threads are joined
    (``threading._shutdown``), ``atexit`` functions run, stdout and stderr are flushed.
    Where this Python lacks ``threading._shutdown``, or under a profiler or tracer
    (``python -m cProfile -m nmfaudio ...`` writes its statistics after the program's
    code has returned), the exit is Python's usual one.  Before :func:`main`, the start-up
    is made light (:func:`nmfaudio.cli._startup.begin`: the collector paused until
    :func:`resume_collector`, unused modules loaded at their first use, nmfaudio's cached
    kernels loaded without numba's compiler refresh).
    """
    _startup.begin()
    code = main()
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is None or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    try:
        shutdown()  # join the non-daemon threads (as Python's exit does first)
        import atexit

        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # pragma: no cover - a late failure: let Python's exit report it
        sys.exit(code)
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
