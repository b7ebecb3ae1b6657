"""The ``nmfaudio`` command line: parse, call, write, report.

Each sub-command lives in its own module of this package and exposes

``register(subparsers) -> None``
    adds its ``argparse`` sub-parser and sets ``handler=<function(args) -> int>``
    with ``parser.set_defaults``.

This package is the only part of nmfaudio that prints.  Errors reach the user
as one line on stderr (``nmfaudio: error: ...``) and exit code 1; usage errors
exit with 2 (argparse's convention), also as one line.  No traceback is ever shown.
Ctrl-C exits with 130 and SIGTERM with 143, after the outputs' temporary files are
removed.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

# Sub-command modules, in the order ``nmfaudio --help`` lists them.
COMMAND_MODULES = ("separate", "drums", "image", "spikes")


class CLIError(Exception):
    """An error to show the user as one line (exit code 1)."""


class Terminated(KeyboardInterrupt):
    """Raised by the SIGTERM handler :func:`main` installs, so that cleanup runs as for Ctrl-C."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit code 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see '{self.prog} --help')\n")


@contextmanager
def output_folder(folder, option: str = "-o"):
    """Make sure ``folder`` exists and is writable before the work starts.

    Creates ``folder`` and any missing parents, and checks that a file can be created in
    it (root ignores permission bits, so only a real write tells).  If the block raises
    (or is interrupted), the folders created here are removed again when empty, so a
    failed run leaves nothing behind.

    Raises
    ------
    CLIError
        ``folder`` (or one of its parents) is a file, cannot be created, or is not writable.
    """
    folder = Path(folder)
    missing = []
    current = folder
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    if not current.is_dir():
        what = "is a file" if current == folder else f"is inside {str(current)!r}, which is a file"
        raise CLIError(f"{option} {str(folder)!r} {what}; give a folder")
    created: list[Path] = []
    try:
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                raise CLIError(f"cannot create the folder {option} {str(path)!r} ({exc.strerror}); "
                               "give a folder you can write to") from None
            created.append(path)
        _check_writable(folder, option)
        yield folder
    except BaseException:
        for path in reversed(created):
            try:
                path.rmdir()
            except OSError:
                pass
        raise


def refuse_outputs(outputs, *, force: bool, output_dir: Path | None = None) -> None:
    """Refuse, before any work: ``output_dir`` (the -o folder) being a file, outputs that are
    folders, and existing outputs without ``--force``.

    Raises
    ------
    CLIError
    """
    if output_dir is not None and output_dir.exists() and not output_dir.is_dir():
        raise CLIError(f"-o {str(output_dir)!r} is a file; give a folder")
    folders = [p for p in outputs if p.is_dir()]
    if folders:
        other = "-o" if output_dir is not None else "path"
        raise CLIError(f"{str(folders[0])!r} is a folder where an output file must go; "
                       f"move it or choose another {other}")
    if not force:
        existing = [p for p in outputs if p.exists()]
        if existing:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            raise CLIError(f"{str(existing[0])!r}{more} exists; use --force to overwrite")


def _check_writable(folder: Path, option: str) -> None:
    probe = folder / f".nmfaudio-write-test-{os.getpid()}"
    try:
        descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise CLIError(f"cannot write in {option} {str(folder)!r} ({exc.strerror}); "
                       "give a folder you can write to") from None
    os.close(descriptor)
    os.unlink(probe)


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


def error_line(exc: BaseException) -> str:
    """One line naming the problem (and, for operating-system errors, the fix)."""
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, (FileExistsError,)) and (
            exc.filename is not None):
        fix = _OS_FIXES.get(exc.errno, "check the path")
        message = f"{exc.strerror}: {str(exc.filename)!r}; {fix}"
    elif isinstance(exc, MemoryError):
        message = ("out of memory; use fewer components, a shorter file, or block-wise separation "
                   "(nmfaudio separate --block-seconds 30)")
    else:
        message = str(exc) or type(exc).__name__
    return f"nmfaudio: error: {' '.join(message.split())}"



#: The signal (SIGINT or SIGTERM) that is stopping the run, if any.  The exception a
#: signal handler raises can surface as another one — raised inside a C extension's
#: import, Python reports "ImportError: initialization failed" — so main() reports the
#: signal, not that exception.
_stopping_signal = None


def _raise_terminated(signum, frame):
    global _stopping_signal
    _stopping_signal = signal.SIGTERM
    raise Terminated()


def _raise_interrupted(signum, frame):
    global _stopping_signal
    _stopping_signal = signal.SIGINT
    raise KeyboardInterrupt


def _stopped(signum) -> int:
    """Report a run stopped by ``signum``; return its exit code (128 + signal)."""
    what = "terminated" if signum == signal.SIGTERM else "interrupted"
    print(f"nmfaudio: {what}; no partial outputs were kept", file=sys.stderr)
    return 128 + signum


def progress_bar(total: int):
    """A tqdm bar on stderr (shown when stderr is a terminal) and the engine callback."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc="NMF", unit="it", file=sys.stderr, disable=None, leave=False,
               dynamic_ncols=True)

    def callback(iteration, loss):
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
    global _stopping_signal
    _stopping_signal = None
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _raise_terminated)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # keep a caller's own
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, _raise_interrupted)
    try:
        return int(args.handler(args) or 0)
    except SystemExit as exit_:  # a handler's late usage error (parser.error: already printed)
        return int(exit_.code or 0)
    except Terminated:
        return _stopped(signal.SIGTERM)
    except KeyboardInterrupt:
        return _stopped(signal.SIGINT)
    except (CLIError, ValueError, TypeError, OSError, RuntimeError, MemoryError) as exc:
        if _stopping_signal is not None:
            return _stopped(_stopping_signal)
        print(error_line(exc), file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: still one line, naming it
        if _stopping_signal is not None:
            return _stopped(_stopping_signal)
        print(f"nmfaudio: error: unexpected {type(exc).__name__}: {' '.join(str(exc).split())} "
              "(please report this as a bug)", file=sys.stderr)
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
