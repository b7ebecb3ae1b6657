"""The ``nmfaudio`` command line: parse, call, write, report.

Each sub-command lives in its own module of this package and exposes

``register(subparsers) -> None``
    adds its ``argparse`` sub-parser and sets ``handler=<function(args) -> int>``
    with ``parser.set_defaults``.

This package is the only part of nmfaudio that prints.  Errors reach the user
as one line on stderr (``nmfaudio: error: ...``) and exit code 1; usage errors
exit with 2 (argparse's convention).  No traceback is ever shown.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Sub-command modules, in the order ``nmfaudio --help`` lists them.
COMMAND_MODULES = ("separate", "image")


class CLIError(Exception):
    """An error to show the user as one line (exit code 1)."""


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command registered."""
    from nmfaudio import __version__

    parser = argparse.ArgumentParser(
        prog="nmfaudio",
        description="Separate sounds with non-negative matrix factorization.",
    )
    parser.add_argument("--version", action="version", version=f"nmfaudio {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def error_line(exc: BaseException) -> str:
    """One line naming the problem: the exception's message, flattened."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    return f"nmfaudio: error: {message}"


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help/--version exit 0, usage errors exit 2
        return int(exit_.code or 0)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("nmfaudio: interrupted; no partial outputs were kept", file=sys.stderr)
        return 130
    except (CLIError, ValueError, TypeError, OSError, RuntimeError) as exc:
        print(error_line(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
