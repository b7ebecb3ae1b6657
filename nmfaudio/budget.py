"""The memory budget: what ``max_memory`` accepts, and how much memory a separation in
memory would need, estimated from the input's size and the settings before anything
large is allocated.

:func:`nmfaudio.separate` and :func:`nmfaudio.separate_drums` compare the estimate with
``max_memory`` and, past it, switch to their block-wise form by themselves (see
docs/separate.md, "Long recordings").  The estimates count the arrays each computation holds
at its peak (measured against the process's peak resident memory in
``benchmarks/pipeline_memory.py``), not the ~250 MB of libraries a Python process with
NumPy, SciPy and librosa loaded already holds.
"""

from __future__ import annotations

import numbers
import re

__all__ = ["DEFAULT_MAX_MEMORY", "check_max_memory", "format_bytes", "separate_bytes", "drums_bytes",
           "drums_block_bytes", "figure_bytes", "over_budget", "block_note"]

#: Default ``max_memory`` (``--max-memory``): 4 GiB.  On a 24 GiB machine that leaves
#: room for four separations at once (``--jobs 4``) beside the system and other work;
#: a 10-minute stereo 44.1 kHz file separates in memory well inside it, a 1-hour one
#: switches to blocks (drums: up to about 15 minutes of stereo 44.1 kHz stay in memory,
#: 2.0-2.2 GiB measured for 10; budget67 — before, the drums' estimate sent 4 minutes on
#: to blocks).
DEFAULT_MAX_MEMORY = 4 * 2**30

_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20,
          "g": 2**30, "gb": 2**30, "gib": 2**30, "t": 2**40, "tb": 2**40, "tib": 2**40}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*$", re.IGNORECASE)

#: Smallest budget accepted (a floor against typos such as ``64K``).  It is below
#: :data:`IN_MEMORY_FLOOR`: under that every input, however short, runs block-wise and
#: the summary says a block does not meet the budget either (polish16: this comment said
#: one block fits above 64 MiB, which no estimate allows).
MIN_MAX_MEMORY = 64 * 2**20


def check_max_memory(value, name: str = "max_memory"):
    """``value`` as a number of bytes (int), or None for "no limit".

    Accepts None, "none", a number of bytes (int or float), or a string with a unit:
    ``"4G"``, ``"4 GiB"``, ``"512M"``, ``"2.5GB"`` (K/M/G/T are powers of 1024, with or
    without "B" / "iB").

    Raises
    ------
    ValueError, TypeError
        An unreadable size, or less than 64 MiB.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "off")):
        return None
    if isinstance(value, str):
        match = _SIZE.match(value)
        unit = match and match.group(2).lower()
        if not match or unit not in _UNITS:
            raise ValueError(f"{name}={value!r} is not a memory size; write it like 4G, 512M or 2.5GiB "
                             "(or none for no limit)")
        size = float(match.group(1)) * _UNITS[unit]
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        size = float(value)
    else:
        raise TypeError(f"{name}={value!r} must be a size like '4G' or a number of bytes")
    if not size == size or size < MIN_MAX_MEMORY or size == float("inf"):
        raise ValueError(f"{name}={value!r} is less than 64M (or not finite); give at least 64M, e.g. 4G")
    return int(size)


def format_bytes(n_bytes: float) -> str:
    """``"3.1 GiB"``, ``"820 MiB"``."""
    if n_bytes >= 2**30:
        return f"{n_bytes / 2**30:.1f} GiB"
    return f"{n_bytes / 2**20:.0f} MiB"


#: Bytes held besides the arrays counted below: a chunk of frames being masked and
#: inverted, the FFT's work buffers, the fit's k-sized arrays.
_OVERHEAD = 96 * 2**20

#: The smallest in-memory estimate (its fixed part, :data:`_OVERHEAD`): a ``max_memory``
#: below it sends every input block-wise.
IN_MEMORY_FLOOR = _OVERHEAD


def _fit_copies(beta: float, transformer: bool, noise_floor: bool) -> float:
    """Working arrays of a fit, in units of V (docs/performance.md: HALS about 1, the
    fused KL/IS passes 2.1–2.5 with a scaled or floored copy of V, scikit-learn's MU 5.3;
    a noise floor adds the floored copy V + δ)."""
    if transformer:
        return 5.5
    return (1.2 if beta == 2 else 2.5) + (1.0 if noise_floor else 0.0)


def separate_bytes(n_samples: int, n_channels: int, *, k: int, n_fft: int, hop_length: int, beta: float = 2.0,
                   itemsize: int = 4, transformer: bool = False, noise_floor: bool = False,
                   input_held: bool = True) -> int:
    """Peak bytes of :func:`nmfaudio.separate` in memory.

    The input (``input_held``), then the larger of the fit's phase (V, n_freq ×
    n_channels·n_frames, and the fit's working copies) and the output's (k tracks of the
    input's size, and one more for the working arrays of the track being made: counting k,
    the estimate was 1.02 times the peak resident memory less the libraries' at k = 4 and
    0.97 times it at k = 8 on 10 minutes of stereo 44.1 kHz; the lead, 2026-12-07,
    docs/performance.md ("Memory of separate")).
    """
    n_frames = 1 + n_samples // hop_length
    signal = n_samples * n_channels * itemsize
    V = (1 + n_fft // 2) * n_frames * n_channels * itemsize
    fit = V * (1 + _fit_copies(beta, transformer, noise_floor))
    tracks = (k + 1) * signal
    return int((signal if input_held else 0) + max(fit, tracks) + _OVERHEAD)


def drums_bytes(n_samples: int, n_channels: int, *, n_stems: int, n_fft: int, hop_length: int,
                itemsize: int = 4) -> int:
    """Peak bytes of :func:`nmfaudio.separate_drums` in memory, with ``n_stems`` outputs
    besides the residual (and of ``nmfaudio drums`` writing them), counted as if these
    arrays were all held at once:

    * the input: one *track*, ``n_channels × n_samples`` samples of ``itemsize`` bytes;
    * the ``n_stems`` drum stems and the residual: ``n_stems + 1`` tracks;
    * the complex STFT of the input (``separate_drums`` keeps it to mask every stem): two
      *units*, a unit being one value of ``itemsize`` bytes per bin, frame and channel,
      ``(1 + n_fft // 2) × n_frames × n_channels`` with ``n_frames = 1 + n_samples //
      hop_length``;
    * its magnitudes (the fit's spectrogram, also read by a song's accompaniment and rings
      while the stems are made): one unit;

    plus :data:`_OVERHEAD`.  At the default frames (``n_fft = 4 · hop_length``,
    :func:`nmfaudio.spectrum.frames_for_rate`) a unit is about two tracks, so the
    five-stem estimate is about 13 tracks: 2.7 GiB for 10 minutes of stereo 44.1 kHz, so
    the default :data:`DEFAULT_MAX_MEMORY` keeps about 15 minutes of it in memory.

    It errs high on purpose: the STFT's pages go back as the stems are made
    (:mod:`nmfaudio.drums.pages`), so not everything above is held at once.  Measured
    (budget67, docs/performance.md): peak resident memory less the libraries' (0.21 GB)
    of ``nmfaudio drums --max-memory none`` with the defaults, ``--plot``, ``--onsets
    --midi``, ``--stems drums``, ``--classes kick,snare``, ``--format flac`` and of
    ``separate_drums`` + ``save``, on 1-10 minutes of drum recordings and full songs
    (``--accompaniment on``) in mono 22.05 kHz and stereo 44.1 / 48 kHz, was at most
    0.84 of this estimate (the estimate at least 1.19 times it).  (Before, it also
    counted every output's modelled spectrogram and mask as whole arrays, which the run
    makes a range of frames at a time: 9.8 GiB for those 10 minutes, which took 2.0-2.2
    GiB.)
    """
    n_frames = 1 + n_samples // hop_length
    track = n_samples * n_channels * itemsize
    unit = (1 + n_fft // 2) * n_frames * n_channels * itemsize
    return int(track * (n_stems + 2) + 3 * unit + _OVERHEAD)


def figure_bytes(n_samples: int, *, n_panels: int, n_fft: int, hop_length: int) -> int:
    """Peak bytes of a ``--plot`` figure with ``n_panels`` spectrogram panels
    (:mod:`nmfaudio.plot`): each panel's columns are pooled to at most
    :data:`nmfaudio.plot.audio.MAX_COLUMNS` (4 bytes a bin), its rows to
    :data:`~nmfaudio.plot.audio.ROWS_PER_OCTAVE` an octave for matplotlib (about 100 bytes
    a drawn cell), plus the canvas — bounded whatever the recording's length.  Measured
    (mend62) in a fresh process: 7 panels of 1436 columns took 214, 270 and 537 MiB at
    1025, 2049 and 8193 bins (190, 222 and 286 rows); this counts 15-20 % more."""
    import numpy as np

    n_frames = 1 + n_samples // hop_length
    step = -(-n_frames // 1500)  # nmfaudio.plot.audio.MAX_COLUMNS (budget sits below plot; a test keeps them equal)
    columns = -(-n_frames // step)
    n_freq = 1 + n_fft // 2
    # nmfaudio.plot.audio.pooled_rows' rows: bins 1.. (the 0 Hz bin is not drawn), 32 bands an octave (ROWS_PER_OCTAVE)
    rows = np.unique(np.floor(32 * np.log2(np.arange(1, max(n_freq, 2))) + 1e-9)).size
    return int(n_panels * columns * (4 * n_freq + 100 * rows) + 32 * 2**20)


def over_budget(estimate: int, max_memory, name: str = "max_memory") -> str | None:
    """None when ``estimate`` fits ``max_memory`` (bytes or None), else the one-line
    reason to go block-wise."""
    if max_memory is None or estimate <= max_memory:
        return None
    return (f"in memory it would need about {format_bytes(estimate)}, more than {name} "
            f"{format_bytes(max_memory)}")


#: Blocks a block-wise drum run holds separated ahead of the one it writes: a block takes
#: its presence and ride decisions from the blocks around it (nmfaudio.drums.blockwise,
#: blockonce68: +120 MiB at 30-s blocks of stereo 44.1 kHz).
DRUM_BLOCKS_AHEAD = 2


def drums_block_bytes(segment: int, n_channels: int, *, n_stems: int, n_fft: int, hop_length: int,
                      n_blocks: int, itemsize: int = 4) -> int:
    """Peak bytes of a block-wise drum run of ``n_blocks`` blocks: one block of ``segment``
    samples separated (:func:`drums_bytes`), and the stems and residual of the blocks ahead
    held until their decisions are taken (:data:`DRUM_BLOCKS_AHEAD`, fewer when the
    recording has fewer blocks)."""
    ahead = min(DRUM_BLOCKS_AHEAD, max(int(n_blocks) - 1, 0))
    held = ahead * (n_stems + 1) * segment * n_channels * itemsize
    return drums_bytes(segment, n_channels, n_stems=n_stems, n_fft=n_fft, hop_length=hop_length,
                       itemsize=itemsize) + held


def block_note(block_estimate: int, max_memory: int, name: str = "--max-memory") -> str:
    """What to add to :func:`over_budget`'s reason when one block alone needs more than
    ``max_memory`` too (``block_estimate`` bytes), else "": the blocks then do not bring
    the run under the budget, and the summary should not suggest they do (``--max-memory
    64M`` on an 8.7-s loop said "1 block of 30 s (chosen because ...)": one block was the
    whole loop, and the run's peak was higher than in memory)."""
    if block_estimate <= max_memory:
        return ""
    return f"; a block needs about {format_bytes(block_estimate)} too, so {name} is not met"
