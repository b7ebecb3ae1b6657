"""Drum separation: kick, snare, toms, hi-hat and cymbal stems (and a residual) from one recording.

- :mod:`nmfaudio.drums.templates`: learn, save, load, convert and select templates;
- :mod:`nmfaudio.drums.model`: the NMFD fit (arrays only);
- :mod:`nmfaudio.drums.separation`: :func:`separate_drums` and its result.
- :mod:`nmfaudio.drums.hits`: onset picking, velocities, MIDI and CSV files.

The names below load their module on first use (PEP 562): ``from nmfaudio.drums import
CLASSES`` reads the templates module alone, not the separation's (scipy.signal, the
engine: about a second), so the command line's parser and its usage errors stay quick.
"""

#: name -> the module that defines it
_LAZY = {
    "ClassHits": "nmfaudio.drums.hits", "DrumHits": "nmfaudio.drums.hits", "detect_hits": "nmfaudio.drums.hits",
    "gm_notes": "nmfaudio.drums.hits",
    "FREE_ITER": "nmfaudio.drums.model",
    "DrumSeparation": "nmfaudio.drums.separation", "separate_drums": "nmfaudio.drums.separation",
    "CLASSES": "nmfaudio.drums.templates", "DEFAULT_TEMPLATES_PATH": "nmfaudio.drums.templates",
    "KNOWN_CLASSES": "nmfaudio.drums.templates", "TEMPLATE_FRAMES": "nmfaudio.drums.templates",
    "DrumTemplates": "nmfaudio.drums.templates", "class_of": "nmfaudio.drums.templates",
    "default_templates": "nmfaudio.drums.templates",
}

__all__ = ["DrumTemplates", "DrumSeparation", "separate_drums", "default_templates",
           "DEFAULT_TEMPLATES_PATH", "CLASSES", "KNOWN_CLASSES", "FREE_ITER", "TEMPLATE_FRAMES", "class_of",
           "DrumHits", "ClassHits", "detect_hits", "gm_notes"]


def __getattr__(name):
    try:
        module_name = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'nmfaudio.drums' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
