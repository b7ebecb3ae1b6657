"""argparse ``type=`` converters shared by the sub-commands: a bad value becomes a one-line
usage error (exit 2) that names the value and what to give instead."""

from __future__ import annotations

import argparse
import math
from pathlib import Path


def path_arg(text: str) -> Path:
    """``text`` as a path, refusing the empty string: ``Path("")`` is the current folder,
    so an unset shell variable (``-o "$OUT"``) would write the stems there, or separate
    every audio file under it as a batch."""
    if not text:
        raise argparse.ArgumentTypeError("'' is an empty path (an unset shell variable?); give a file or folder")
    return Path(text)


def whole_number(text: str, *, minimum: int = 1) -> int:
    """``text`` as an int >= ``minimum``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give an int >= {minimum}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{text!r} must be an int >= {minimum}")
    return value


def channel_index(text: str) -> int:
    """``text`` as a channel index: a whole number, negative counting from the last
    (argparse's own ``type=int`` said "invalid int value: 'abc'", unlike every other option)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give a channel index, e.g. 0 "
                                         "(-1 for the last)") from None


def positive_int(text: str) -> int:
    """``text`` as an int >= 1."""
    return whole_number(text, minimum=1)


def non_negative_int(text: str) -> int:
    """``text`` as an int >= 0."""
    return whole_number(text, minimum=0)


def positive_number(text: str, *, what: str = "a number", example: str = "1.5") -> float:
    """``text`` as a finite float > 0; ``what``/``example`` word the error."""
    return number(text, minimum=0, strict=True, what=what, example=example)


def seconds(text: str) -> float:
    """``text`` as a duration in seconds (``--block-seconds``): a finite float > 0."""
    return positive_number(text, what="a number of seconds", example="30")


def number(text: str, *, minimum: float = 0, strict: bool = False, what: str = "a number",
           example: str = "1.5") -> float:
    """``text`` as a finite float >= ``minimum`` (> with ``strict``): NaN and infinities
    are refused too (:func:`nmfaudio._validation.check_number`'s rules)."""
    from nmfaudio._validation import check_number

    bound = f"{'>' if strict else '>='} {minimum:g}"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; give {what} {bound}, e.g. {example}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not finite; give {what} {bound}, e.g. {example}")
    try:
        value = check_number(value, "", minimum=minimum, strict=strict)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be {what} {bound}, e.g. {example}") from None
    return value + 0.0  # '-0' is 0: -0.0 would be echoed (summaries, JSON) as "-0.0"


def mask_power(text: str):
    """``text`` as a finite soft-mask power > 0, or ``"binary"`` (the limit of large powers)."""
    if text.strip().lower() == "binary":
        return "binary"
    return soft_mask_power(text, binary=" or 'binary'")


def soft_mask_power(text: str, *, binary: str = "") -> float:
    """``text`` as a finite soft-mask power > 0 (``binary`` words the alternative, if any)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number > 0{binary}, e.g. 1 or 2") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number > 0{binary}, e.g. 1 or 2")
    return value


def memory_size(text: str):
    """``text`` as a memory budget in bytes (``4G``, ``512M``, ``2.5GiB``), or None for
    ``none``: :func:`nmfaudio.budget.check_max_memory`'s rules."""
    from nmfaudio.budget import check_max_memory

    try:
        return check_max_memory(text, "--max-memory")
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc).replace(f"--max-memory={text!r}", repr(text))) from None


def add_max_memory(parser, what: str) -> None:
    """The ``--max-memory`` option (same wording in every sub-command)."""
    from nmfaudio.budget import DEFAULT_MAX_MEMORY, IN_MEMORY_FLOOR, MIN_MAX_MEMORY, format_bytes

    parser.add_argument("--max-memory", type=memory_size, default=DEFAULT_MAX_MEMORY, metavar="SIZE",
                        help=f"memory budget, e.g. 4G or 512M, or none (default {format_bytes(DEFAULT_MAX_MEMORY)}): "
                             f"inputs whose {what} in memory would need more run block-wise by themselves "
                             f"(--block-seconds 30), and the summary says so; at least {MIN_MAX_MEMORY // 2**20}M, "
                             f"and under {IN_MEMORY_FLOOR // 2**20}M every input runs block-wise (the estimates "
                             f"count {format_bytes(IN_MEMORY_FLOOR)} of working buffers whatever its length)")
