"""Drum separation: kick, snare, toms, hi-hat and cymbal stems (and a residual) from one recording.

- :mod:`nmfaudio.drums.templates`: learn, save, load, convert and select templates;
- :mod:`nmfaudio.drums.model`: the NMFD fit (arrays only);
- :mod:`nmfaudio.drums.separation`: :func:`separate_drums`;
- :mod:`nmfaudio.drums.separation_result`: its result, :class:`DrumSeparation` (the stems, and the hits picked from
  them);
- :mod:`nmfaudio.drums.hits`: onset picking (:func:`detect_hits`);
- :mod:`nmfaudio.drums.hit_results`: the hits it returns (:class:`DrumHits`, :class:`ClassHits`);
- :mod:`nmfaudio.drums.general_midi`: their General MIDI notes and velocities;
- :mod:`nmfaudio.drums.hit_files`: their MIDI and CSV files, written and read back;
- :mod:`nmfaudio.drums.tempo_grid`: ``quantize``, the hits on a grid of the recording's tempo.

The names below load their module on first use (PEP 562): ``from nmfaudio.drums import
CLASSES`` reads the templates module alone, not the separation's (scipy, numba, the
engine: about a second), so the command line's parser and its usage errors stay quick.
"""

from nmfaudio._lazy import attach as _attach

#: name -> (the module that defines it, the name there)
_LAZY = {name: (module, name) for module, names in (
    ("nmfaudio.drums.general_midi", ("gm_notes",)),
    ("nmfaudio.drums.hit_results", ("ClassHits", "DrumHits")),
    ("nmfaudio.drums.hits", ("detect_hits",)),
    ("nmfaudio.drums.model", ("FREE_ITER",)),
    ("nmfaudio.drums.separation", ("separate_drums",)),
    ("nmfaudio.drums.separation_result", ("DrumSeparation",)),
    ("nmfaudio.drums.templates", ("CLASSES", "DEFAULT_TEMPLATES_PATH", "KNOWN_CLASSES", "TEMPLATE_FRAMES",
                                  "DrumTemplates", "class_of", "default_templates")),
) for name in names}

__all__ = ["DrumTemplates", "DrumSeparation", "separate_drums", "default_templates",
           "DEFAULT_TEMPLATES_PATH", "CLASSES", "KNOWN_CLASSES", "FREE_ITER", "TEMPLATE_FRAMES", "class_of",
           "DrumHits", "ClassHits", "detect_hits", "gm_notes"]

__getattr__, __dir__ = _attach(__name__, _LAZY)
