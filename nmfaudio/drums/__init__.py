"""Drum separation: kick, snare, toms, hi-hat and cymbal stems (and a residual) from one recording.

- :mod:`nmfaudio.drums.templates`: learn, save, load, convert and select templates;
- :mod:`nmfaudio.drums.model`: the NMFD fit (arrays only);
- :mod:`nmfaudio.drums.separation`: :func:`separate_drums` and its result.
- :mod:`nmfaudio.drums.hits`: onset picking, velocities, MIDI and CSV files.
"""

from nmfaudio.drums.hits import ClassHits, DrumHits, detect_hits, gm_notes
from nmfaudio.drums.model import FREE_ITER
from nmfaudio.drums.separation import DrumSeparation, separate_drums
from nmfaudio.drums.templates import (CLASSES, DEFAULT_TEMPLATES_PATH, KNOWN_CLASSES, TEMPLATE_FRAMES, DrumTemplates,
                                      class_of, default_templates)

__all__ = ["DrumTemplates", "DrumSeparation", "separate_drums", "default_templates",
           "DEFAULT_TEMPLATES_PATH", "CLASSES", "KNOWN_CLASSES", "FREE_ITER", "TEMPLATE_FRAMES", "class_of",
           "DrumHits", "ClassHits", "detect_hits", "gm_notes"]
