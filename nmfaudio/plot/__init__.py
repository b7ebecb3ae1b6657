"""Matplotlib figures, one module per domain (``nmfaudio.plot.audio``, ``.drums``,
``.image``, ``.spikes``).  matplotlib is imported lazily, inside the functions'
modules, so ``import nmfaudio`` stays fast and needs no display.
"""

import warnings

#: matplotlib's warning for a character its font lacks (a CJK file name in a title with
#: DejaVu Sans): "Glyph 26085 (...) missing from font(s) DejaVu Sans." (older versions:
#: "... missing from current font.").
_MISSING_GLYPH = r"Glyph \d+ .*missing from"


def shown_title(text) -> str:
    """``text`` as a figure's title can draw it: a file name that is not UTF-8 (``caf\xe9.wav``
    from an old archive: Python holds its bytes as surrogates) has them as the replacement
    character; matplotlib refused the title, and with it the run (``set_text(): incompatible
    function arguments``; review56)."""
    text = str(text)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def save_figure(figure, path, **kwargs) -> None:
    """``figure.savefig(path, **kwargs)`` without matplotlib's missing-glyph warnings.

    The CLI titles its figures with the input's file name; a name in a script the font
    lacks (日本語 with the default DejaVu Sans) drew one warning per character, two lines
    each with a line of nmfaudio's source, on the stderr of a run that succeeded.  Those
    characters are drawn as boxes; the file name is in the output's name anyway.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    path : str or path-like or file object
    **kwargs
        Passed to :meth:`~matplotlib.figure.Figure.savefig` (``format``, ``dpi``, ...).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_MISSING_GLYPH, category=UserWarning)
        figure.savefig(path, **kwargs)
