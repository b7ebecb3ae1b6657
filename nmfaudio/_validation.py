"""The argument checks shared across nmfaudio, and ``random_state`` handling — one copy each
(and the results' one-line ``repr``, which every layer's result dataclasses share).

Every public function validates its arguments at its boundary with these helpers, so the
same mistake gives the same one-line message everywhere: the argument's name, the value,
what is expected and, where useful, an example (``n_components=0 must be an int >= 1``).

numpy only: this module sits below the engine and imports no other nmfaudio module.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import re
import sys

import numpy as np

__all__ = ["is_int", "is_real", "check_int", "check_number", "as_generator", "check_random_state",
           "RANDOM_STATE_TYPES", "free_mask", "as_array", "check_finite", "check_engine", "summary_repr",
           "BETA_NAMES", "BETA_ALIASES", "beta_name", "beta_names_text", "check_keywords",
           "least_seconds", "caller_stacklevel"]


def caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first caller outside
    nmfaudio and scikit-learn (to be called directly by the function that warns)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] in ("nmfaudio", "sklearn"):
        frame, level = frame.f_back, level + 1
    return level


#: The β-divergences by name, and their β.
BETA_NAMES = {"frobenius": 2.0, "kullback-leibler": 1.0, "itakura-saito": 0.0}
#: Short names of the divergences, taken wherever a divergence name is (``beta="kl"``, ``--beta kl``).
BETA_ALIASES = {"fro": "frobenius", "euclidean": "frobenius", "kl": "kullback-leibler", "is": "itakura-saito"}


def beta_name(text: str):
    """The divergence ``text`` names (case and surrounding spaces aside; an alias of
    :data:`BETA_ALIASES` gives its full name), or None if it names none.  Here, below the
    engine, so the command line checks ``--beta`` without importing the engine."""
    name = text.strip().lower()
    name = BETA_ALIASES.get(name, name)
    return name if name in BETA_NAMES else None


def beta_names_text() -> str:
    """The names :func:`beta_name` takes, for messages: ``frobenius (fro, euclidean), ...``."""
    parts = []
    for name in BETA_NAMES:
        short = [alias for alias, full in BETA_ALIASES.items() if full == name]
        parts.append(f"{name} ({', '.join(short)})" if short else name)
    return ", ".join(parts)


def check_keywords(options, accepted, called: str) -> None:
    """Refuse a keyword of ``options`` that ``accepted`` lacks, naming ``called`` (the
    function the user called) and the closest accepted name.

    A method that passes ``**options`` on (``result.hits(**options)`` to
    :func:`nmfaudio.drums.hits.detect_hits`) otherwise lets Python's TypeError name the
    inner function, which the user never called, and suggest nothing.

    Parameters
    ----------
    options : mapping
        The keywords given.
    accepted : iterable of str
        The keywords the call takes.
    called : str
        The name to report, e.g. ``"hits"``.

    Raises
    ------
    TypeError
        ``hits() got an unexpected keyword argument 'treshold_db'; did you mean 'threshold_db'?``
    """
    import difflib

    accepted = list(accepted)
    for key in options:
        if key not in accepted:
            close = difflib.get_close_matches(key, accepted, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; it takes {', '.join(accepted)}"
            raise TypeError(f"{called}() got an unexpected keyword argument {key!r}{hint}")


def least_seconds(samples: int, sr: int) -> float:
    """``samples`` at ``sr`` in seconds, rounded *up* to 3 significant digits: a value a
    message can offer as the least allowed one (0.0233 s for a 512-sample hop at 22050 Hz,
    whose 0.02322 s would fall short)."""
    seconds = samples / sr
    digits = 2 - math.floor(math.log10(seconds))  # 3 significant digits
    return math.ceil(seconds * 10**digits - 1e-9) / 10**digits


#: What ``random_state`` may be, everywhere in nmfaudio (for messages and docstrings).
RANDOM_STATE_TYPES = "None, an int, a numpy Generator or a numpy RandomState"

#: A 2-D array with more rows than this and more rows than columns is (n_samples,
#: n_channels) — soundfile's layout — not (n_channels, n_samples): it is refused rather
#: than turned into thousands of two-sample channels (``nmfaudio.audio.check_audio``, the
#: metrics' sources).
MAX_CHANNELS = 64


def is_int(value) -> bool:
    """True for Python and numpy integers, False for bools (``True`` is no count)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_real(value) -> bool:
    """True for Python and numpy real numbers (ints and floats), False for bools."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def as_array(value, name: str, *, expected: str, content: str, read_with: str | None = None) -> np.ndarray:
    """``np.asarray(value)``, refusing what is no array at all.

    Parameters
    ----------
    value : object
    name : str
        The argument's name, for the messages.
    expected : str
        What ``name`` must be, for ``None``, strings, bytes, dicts and sets
        (``"<name> must be <expected>, got str"``).
    content : str
        What it must hold, for values numpy cannot make an array of, e.g. ragged lists
        (``"<name> must be <content>: <numpy's message>"``).
    read_with : str, optional
        The call that reads such an array from a file, ``{path}`` standing for the path
        (``"nmfaudio.adapters.files.read_picture({path})"``), named when ``value`` is one.

    Raises
    ------
    TypeError
    """
    if read_with is not None and isinstance(value, (str, os.PathLike)):  # a file name where its contents go
        raise TypeError(f"{name} must be {expected}, got the path {os.fspath(value)!r}; read the file first: "
                        + read_with.format(path=repr(os.fspath(value))))
    if value is None or isinstance(value, (str, bytes, dict, set, os.PathLike)):
        # a pathlib.Path made a 0-d object array, then refused by dtype ("pass uint8 ...")
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}")
    try:
        return np.asarray(value)
    except Exception as exc:  # ragged nested lists and the like
        raise TypeError(f"{name} must be {content}: {exc}") from None


def refuse_load_pair(value, name: str) -> None:
    """Raise TypeError when ``value``, given where samples go, is the ``(samples, sr)`` pair
    ``nmfaudio.load`` / ``librosa.load`` return (a tuple or list of an array of samples and
    one number): ``separate_drums(nmfaudio.load(path))`` failed on numpy's "setting an array
    element with a sequence ... inhomogeneous shape", which named neither."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return
    samples, rate = value
    if (isinstance(rate, numbers.Real) and not isinstance(rate, (bool, np.bool_)) and np.ndim(rate) == 0
            and isinstance(samples, np.ndarray) and samples.ndim in (1, 2) and samples.size > 1):
        raise TypeError(f"{name} is a (samples, sr) pair, as nmfaudio.load (and librosa.load) return; unpack it "
                        "first: y, sr = nmfaudio.load(path), then pass y and sr")


def check_finite(array: np.ndarray, name: str, *, fix: str) -> None:
    """Raise ``ValueError("<name> holds <count> NaN or infinite values; <fix>")`` unless
    every entry of ``array`` is finite."""
    finite = np.isfinite(array)
    if not finite.all():
        raise ValueError(f"{name} holds {int(np.count_nonzero(~finite))} NaN or infinite values; {fix}")


def check_int(value, name: str, minimum: int = 1, *, example=None) -> int:
    """Return ``value`` as an int >= ``minimum``.

    Parameters
    ----------
    value : object
    name : str
        The argument's name, for the message.
    minimum : int, default 1
    example : object, optional
        Appended to the message as ``(e.g. <example>)``.

    Raises
    ------
    ValueError
        ``name=<value> must be an int >= <minimum>`` for bools, non-integers and values
        below ``minimum``.
    """
    if not is_int(value) or value < minimum:
        hint = "" if example is None else f" (e.g. {example})"
        raise ValueError(f"{name}={value!r} must be an int >= {minimum}{hint}")
    return int(value)


def check_number(value, name: str, *, minimum=None, strict: bool = False, maximum=None,
                 strict_maximum: bool = False, expected: str | None = None) -> float:
    """Return ``value`` as a finite float, optionally bounded below and above.

    Parameters
    ----------
    value : object
    name : str
        The argument's name, for the message.
    minimum : float, optional
        Smallest value allowed (``strict``: values must exceed it).
    strict : bool, default False
    maximum : float, optional
        Largest value allowed (``strict_maximum``: values must be below it).
    strict_maximum : bool, default False
    expected : str, optional
        The message's wording after "must be"; default ``"a finite number"`` followed by
        the bounds (``">= minimum"``, ``"< maximum"``, ...).

    Raises
    ------
    ValueError
        For bools, non-numbers, NaN, infinities and values out of range.
    """
    bad = not is_real(value) or not math.isfinite(value)
    if not bad and minimum is not None:
        bad = value <= minimum if strict else value < minimum
    if not bad and maximum is not None:
        bad = value >= maximum if strict_maximum else value > maximum
    if bad:
        if expected is None:
            expected = "a finite number"
            if minimum is not None:
                expected += f" {'>' if strict else '>='} {minimum:g}"
            if maximum is not None:
                expected += f"{' and' if minimum is not None else ''} {'<' if strict_maximum else '<='} {maximum:g}"
        raise ValueError(f"{name}={value!r} must be {expected}")
    return float(value)


#: A number written with a decimal comma (``-0,17764``, ``3``, ``1,2e-05``): a spreadsheet
#: saved in a locale that writes them (German, French, ...), which separates cells with ";"
#: (its CSV) or a tab (its "Text (Tab delimited)").  Read by the spike adapter's CSV files
#: and :func:`nmfaudio.drums.hit_files.read_csv`.
DECIMAL_COMMA = re.compile(r"[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?")


def cell_number(text: str) -> float:
    """A table cell's number, written with a decimal point or a decimal comma
    (:data:`DECIMAL_COMMA`: ``"0,5"`` is 0.5); ValueError for anything else."""
    try:
        return float(text)
    except ValueError:
        if not DECIMAL_COMMA.fullmatch(text.strip()):
            raise
        return float(text.strip().replace(",", "."))


def check_switch(value, name: str, *, auto: bool = False, meaning: str = ""):
    """Return an on/off option as True or False (also "on" / "off", any case; with
    ``auto`` also "auto", returned as "auto").

    Raises
    ------
    ValueError
        One line naming the accepted values, then ``meaning`` (what True / False do).
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    words = {"on": True, "off": False, **({"auto": "auto"} if auto else {})}
    if isinstance(value, str) and value.lower() in words:
        return words[value.lower()]
    accepted = "'auto', True or False" if auto else "True or False"
    raise ValueError(f"{name}={value!r} must be {accepted} ('on' / 'off'); {meaning}")


def check_engine(engine):
    """Return ``engine`` -- a callable like ``nmfaudio.factorize`` or a scikit-learn-style
    transformer instance (``fit_transform``) -- or raise TypeError.

    A transformer's class (``engine=NMF``, the parentheses forgotten) has ``fit_transform``
    too, and failed later inside the fit with ``NMF.fit_transform() missing 1 required
    positional argument: 'X'``; it is refused here, naming the fix.
    """
    if isinstance(engine, type):
        raise TypeError(f"engine={engine.__name__} is a class; pass an instance, e.g. "
                        f"engine={engine.__name__}(n_components=...)")
    if not hasattr(engine, "fit_transform") and not callable(engine):
        raise TypeError(f"engine={engine!r} must be a callable like nmfaudio.factorize or an object with "
                        "fit_transform")
    return engine


def engine_factors(result, engine, n_features: int, k: int, n_samples: int):
    """``(W, H)`` as arrays from what a callable ``engine`` returned, or ValueError naming
    the engine, what it returned and the shapes expected (W (n_features, k), H (k,
    n_samples)).  Without this an engine returning None, a tuple or transposed factors
    failed deep inside with ``'NoneType' object has no attribute 'W'`` or an IndexError."""
    name = getattr(engine, "__name__", type(engine).__name__)
    expected = (f"an object with .W ({n_features}, {k}) and .H ({k}, {n_samples}), "
                "as nmfaudio.factorize's NMFResult")
    if not (hasattr(result, "W") and hasattr(result, "H")):
        raise ValueError(f"engine {name} returned {type(result).__name__}; a callable engine must return {expected}")
    W, H = np.asarray(result.W), np.asarray(result.H)
    if W.shape != (n_features, k) or H.shape != (k, n_samples):
        raise ValueError(f"engine {name} returned W {W.shape} and H {H.shape}; a callable engine must return "
                         f"{expected}")
    return W, H


def check_random_state(random_state):
    """Return ``random_state`` unchanged if :func:`as_generator` accepts it, without
    drawing from it (to validate before a long computation that uses it later).

    Raises
    ------
    ValueError
        As :func:`as_generator`.
    """
    if is_int(random_state) and random_state < 0:  # numpy said "expected non-negative integer", naming nothing
        raise ValueError(f"random_state={int(random_state)} must be an int >= 0 (a seed), or None, a numpy Generator "
                         "or a numpy RandomState")
    if (random_state is None or is_int(random_state)
            or isinstance(random_state, (np.random.Generator, np.random.RandomState))):
        return random_state
    raise ValueError(f"random_state={random_state!r} must be {RANDOM_STATE_TYPES}")


def as_generator(random_state) -> np.random.Generator:
    """The ``numpy.random.Generator`` that ``random_state`` stands for.

    The one rule for ``random_state`` in nmfaudio (engine, ``separate``, drums, adapters):

    - ``None``: fresh, unpredictable entropy;
    - an int >= 0: a seed (the same seed gives the same result);
    - a ``numpy.random.Generator``: used as it is (drawn from, so its state advances);
    - a legacy ``numpy.random.RandomState`` (scikit-learn code passes these): one seed is
      drawn from it (``randint(2**31 - 1)``), so its state advances and the same
      RandomState state gives the same result.

    Raises
    ------
    ValueError
        For anything else (bools, floats, strings, negative ints).
    """
    if isinstance(check_random_state(random_state), np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(random_state)


def free_mask(fix, n_components: int, name: str) -> np.ndarray:
    """Turn ``fix_W``/``fix_H`` into a boolean mask of the components that *learn*.

    Parameters
    ----------
    fix : bool, sequence of int, or boolean array of length n_components
        ``True`` fixes all, ``False`` none; indices or a mask fix those components.
    n_components : int
    name : str

    Returns
    -------
    ndarray of bool, shape (n_components,)
    """
    if isinstance(fix, (bool, np.bool_)):
        return np.full(n_components, not fix)
    array = np.asarray(fix)
    if array.dtype == bool:
        if array.shape != (n_components,):
            raise ValueError(
                f"{name} as a boolean mask must have length n_components={n_components}, got shape {array.shape}"
            )
        return ~array
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValueError(f"{name}={fix!r} must be a bool, a list of component indices or a boolean mask")
    if array.size and (array.min() < -n_components or array.max() >= n_components):
        raise ValueError(f"{name}={fix!r} has indices outside 0..{n_components - 1}")
    free = np.ones(n_components, dtype=bool)
    free[array] = False
    return free


#: Arrays up to this many entries are shown in full by :func:`summary_repr` (a cluster's
#: counts, a sweep's ranks); larger ones by their shape and dtype.
REPR_ENTRIES = 8


def first_few(names, most: int = 3) -> str:
    """``"a, b and c"``, or past ``most`` names ``"a, b, c and 4 more"``: the one way a
    message lists files or names it does not show in full (a kit's loose one-shots, an
    earlier run's components)."""
    names = [str(name) for name in names]
    if len(names) > most:
        return ", ".join(names[:most]) + f" and {len(names) - most} more"
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def summary_repr(result) -> str:
    """One line for a result dataclass: its fields, arrays by shape and dtype.

    The dataclasses' own ``repr`` printed every array -- 14 KB for a ``Separation`` of
    the bundled loop, the whole of an image's factors -- which is what a notebook or a
    REPL shows for a result left on the last line.  Fields declared ``repr=False`` stay out.

    Parameters
    ----------
    result : dataclass instance

    Returns
    -------
    str
        ``Name(field=value, ...)``; an array is ``ndarray(shape=(1025, 3), dtype=float32)``
        unless it has at most :data:`REPR_ENTRIES` entries.
    """
    fields = ", ".join(f"{field.name}={_short(getattr(result, field.name))}"
                       for field in dataclasses.fields(result) if field.repr)
    return f"{type(result).__name__}({fields})"


def _short(value) -> str:
    """``repr(value)``, with large arrays (also inside dicts, lists, tuples) by shape and dtype."""
    if isinstance(value, np.ndarray):
        if value.size <= REPR_ENTRIES:
            return np.array2string(value, separator=", ", max_line_width=np.inf)  # never wrapped
        return f"ndarray(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {_short(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list) and value and all(dataclasses.is_dataclass(item) for item in value):
        return f"[{len(value)} {type(value[0]).__name__}]"  # a sweep's fits: one line, not one each
    if isinstance(value, (list, tuple)) and any(isinstance(item, np.ndarray) for item in value):
        items = ", ".join(_short(item) for item in value)
        return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
    return repr(value)
