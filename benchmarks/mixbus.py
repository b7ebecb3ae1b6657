"""A drum-bus mix that keeps the stems exact: EQ, room reverb, bus compression, limiter.

The performances (:mod:`performances`) are rendered dry: sampled kits with no EQ, no room,
no compression and no limiter.  Real drum tracks are mixed.  Every stage here keeps the
per-class stems exact — after it the stems still add up to the mixture (to float32
rounding) — so the separation and transcription benchmarks can score a mixed record:

* ``eq``: one linear filter (RBJ "Audio EQ Cookbook" biquads, :func:`eq_sos`) applied to
  every stem: a low shelf +4 dB at 70 Hz, a cut of −3 dB at 400 Hz (Q 1.2, the "box"),
  a presence peak +3 dB at 5 kHz (Q 1) and a high shelf +4 dB at 10 kHz.  Linear, so the
  filtered stems add up to the filtered mixture.
* ``room``: every stem convolved with one seeded synthetic room impulse response
  (:func:`room_ir`) and cut to its length (the tail after the last sample is dropped
  from every stem alike).  The IR: 1 at lag 0 (the dry signal), eight early reflections
  at 7-45 ms (uniform times, gains 0.35-0.15 falling with time, random signs), and a
  diffuse tail from 20 ms: white noise under an exponential decay of RT60 0.8 s (60 dB
  down in 0.8 s), low-passed by a one-pole filter whose cut-off glides from 8 kHz to 2
  kHz over the tail (air and walls absorb the highs first), scaled to the early
  reflections' energy; early reflections and tail together scaled to −10 dB of the dry
  path's energy (the wet/dry level); 1.5 × RT60 long.  Stereo: one
  IR per channel from the same seed (the tails decorrelated), the early reflections
  shared.
* ``bus``: a feed-forward compressor whose gain is computed ONCE from the mixture
  (:func:`compressor_gain`: the mixture's level through a 5-ms RMS detector,
  threshold 18 dB under the mixture's peak, ratio 4, soft knee 6 dB, attack 10 ms,
  release 120 ms, the gain reduction smoothed in dB) and multiplied into every stem, so
  the stems add up to the compressed mixture.  Stereo: one gain from both channels.  On
  the 16 tuning performances of seed 0 (regular and kick/snare/hi-hat only) the gain
  reduction's 99th percentile is 5.0-7.4 dB: a glue compressor on the kick's and snare's
  hits, the hats between them left at full gain.
* ``record``: ``eq``, then ``room``, then ``bus``, then a peak limiter (:func:`limiter_gain`:
  the mixture driven 4 dB over a ceiling of 0.9 and its gain held under
  ceiling / |peak| over a 5-ms lookahead, released over 80 ms), again one gain for every
  stem.

Every mode ends with one common scaling of all stems to a mixture peak of 0.9 (the dry
render's, :func:`performances.render`); ``dry`` returns its input untouched.  Notes and
note times are unchanged: the direct path stays at lag 0 and the compressor and limiter
do not delay.

Functions
---------
apply(rendered, mix, seed=0)
    A render of :func:`performances.render` mixed by one of ``MIXES``.
eq_sos(sr)
    The EQ's second-order sections.
room_ir(sr, seed, ...)
    The room's impulse response.
compressor_gain(mix, sr, ...), limiter_gain(mix, sr, ...)
    The gain curves, computed from the mixture only.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

#: The mix modes: ``dry`` (as rendered), one stage alone, or ``record`` (all four).
MIXES = ("dry", "eq", "room", "bus", "record")
#: What each mode does, for a table's title.
DESCRIPTION = {"dry": "dry", "eq": "EQ", "room": "room reverb", "bus": "bus compression",
               "record": "EQ + room reverb + bus compression + limiter"}
#: The classes of a render (:data:`performances.CLASSES`; repeated so this module needs no kit packages).
CLASSES = ("kick", "snare", "toms", "hihat", "cymbals", "other")
PEAK = 0.9
#: (kind, frequency Hz, gain dB, Q or shelf slope): the EQ's bands.
EQ_BANDS = (("lowshelf", 70.0, 4.0, 0.8), ("peak", 400.0, -3.0, 1.2), ("peak", 5000.0, 3.0, 1.0),
            ("highshelf", 10000.0, 4.0, 0.8))
ROOM = {"rt60": 0.8, "wet_db": -10.0, "n_early": 8, "early_ms": (7.0, 45.0), "tail_ms": 20.0,
        "cutoff_hz": (8000.0, 2000.0)}
BUS = {"threshold_db": -18.0, "ratio": 4.0, "knee_db": 6.0, "attack_ms": 10.0, "release_ms": 120.0,
       "rms_ms": 5.0}
LIMITER = {"drive_db": 4.0, "ceiling": PEAK, "lookahead_ms": 5.0, "release_ms": 80.0}


def _biquad(kind, f0, gain_db, q, sr):
    """One RBJ cookbook biquad as a second-order section (b0, b1, b2, 1, a1, a2)."""
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * f0 / sr
    cos, sin = np.cos(w0), np.sin(w0)
    if kind == "peak":
        alpha = sin / (2 * q)
        b = [1 + alpha * a, -2 * cos, 1 - alpha * a]
        den = [1 + alpha / a, -2 * cos, 1 - alpha / a]
    else:  # shelves; q is the shelf slope S
        alpha = sin / 2 * np.sqrt((a + 1 / a) * (1 / q - 1) + 2)
        root = 2 * np.sqrt(a) * alpha
        sign = 1 if kind == "lowshelf" else -1
        b = [a * ((a + 1) - sign * (a - 1) * cos + root), sign * 2 * a * ((a - 1) - sign * (a + 1) * cos),
             a * ((a + 1) - sign * (a - 1) * cos - root)]
        den = [(a + 1) + sign * (a - 1) * cos + root, -sign * 2 * ((a - 1) + sign * (a + 1) * cos),
               (a + 1) + sign * (a - 1) * cos - root]
    return np.array(b + den) / den[0]


def eq_sos(sr):
    """The EQ of ``EQ_BANDS`` at ``sr`` (bands above 0.45 ``sr`` left out).

    Parameters
    ----------
    sr : int

    Returns
    -------
    numpy.ndarray, shape (n_bands, 6)
        Second-order sections for :func:`scipy.signal.sosfilt`.
    """
    return np.stack([_biquad(kind, f, g, q, sr) for kind, f, g, q in EQ_BANDS if f < 0.45 * sr])


def room_ir(sr, seed=0, *, channels=1, rt60=ROOM["rt60"], wet_db=ROOM["wet_db"]):
    """A seeded synthetic room impulse response (recipe: module docstring).

    Parameters
    ----------
    sr : int
    seed : int
        Same seed, same IR (numpy ``default_rng``).
    channels : int
        1 (mono) or 2 (one tail per channel, the early reflections shared).
    rt60 : float
        Time (s) for the tail to fall 60 dB.
    wet_db : float
        Energy of the reflections and tail relative to the dry path's (dB).

    Returns
    -------
    numpy.ndarray, shape (channels, n_taps)
        ``ir[:, 0] == 1``: the dry path; ``n_taps`` = 1.5 ``rt60`` × ``sr``.
    """
    rng = np.random.default_rng([seed, 67])
    n = int(1.5 * rt60 * sr)
    t = np.arange(n) / sr
    lo, hi = ROOM["early_ms"]
    early_t = np.sort(rng.uniform(lo, hi, ROOM["n_early"])) / 1000
    early = np.zeros(n)
    gains = np.linspace(0.35, 0.15, ROOM["n_early"]) * rng.choice([-1.0, 1.0], ROOM["n_early"])
    np.add.at(early, np.round(early_t * sr).astype(int), gains)
    start = int(ROOM["tail_ms"] / 1000 * sr)
    envelope = np.where(t >= t[start], np.exp(-6.91 * (t - t[start]) / rt60), 0.0)
    # the one-pole low-pass's cut-off glides down the tail: highs die first
    f_hi, f_lo = ROOM["cutoff_hz"]
    cutoff = np.minimum(f_hi * (f_lo / f_hi) ** np.clip((t - t[start]) / rt60, 0, 1), 0.45 * sr)
    coef = np.exp(-2 * np.pi * cutoff / sr)
    irs = []
    for _ in range(channels):
        noise = rng.standard_normal(n) * envelope
        tail = np.empty(n)
        state = 0.0
        for i in range(start, n):  # time-varying one-pole: no lfilter form
            state = coef[i] * state + (1 - coef[i]) * noise[i]
            tail[i] = state
        tail[:start] = 0.0
        wet = early + tail / np.sqrt(np.sum(tail ** 2)) * np.sqrt(np.sum(early ** 2))  # tail as loud as the early part
        wet *= 10 ** (wet_db / 20) / np.sqrt(np.sum(wet ** 2))
        wet[0] = 1.0
        irs.append(wet)
    return np.stack(irs)


def _one_pole(x, attack, release):
    """Attack/release smoothing of a gain reduction in dB (≥ 0): rises with ``attack``,
    falls with ``release`` (per-sample coefficients)."""
    out = np.empty_like(x)
    state = 0.0
    for i, value in enumerate(x.tolist()):
        coef = attack if value > state else release
        state = coef * state + (1 - coef) * value
        out[i] = state
    return out


def compressor_gain(mix, sr, *, threshold_db=BUS["threshold_db"], ratio=BUS["ratio"], knee_db=BUS["knee_db"],
                    attack_ms=BUS["attack_ms"], release_ms=BUS["release_ms"], rms_ms=BUS["rms_ms"]):
    """A feed-forward bus compressor's gain, computed from the mixture alone.

    Parameters
    ----------
    mix : numpy.ndarray, shape (n_samples,) or (channels, n_samples)
    sr : int
    threshold_db : float
        Relative to the mixture's peak (dB).
    ratio, knee_db, attack_ms, release_ms, rms_ms : float
        Ratio, soft-knee width, the gain reduction's attack and release, and the RMS
        detector's window.

    Returns
    -------
    numpy.ndarray, shape (n_samples,)
        Linear gain ≤ 1 (no make-up: the caller rescales), the same for every channel.
    """
    x = np.asarray(mix, np.float64)
    power = (x ** 2).mean(axis=0) if x.ndim == 2 else x ** 2
    window = max(1, int(rms_ms / 1000 * sr))
    level = 10 * np.log10(np.maximum(np.convolve(power, np.ones(window) / window, mode="full")[:len(power)], 1e-20))
    over = level - (20 * np.log10(max(np.abs(x).max(), 1e-12)) + threshold_db)
    slope = 1 - 1 / ratio
    reduction = np.where(over <= -knee_db / 2, 0.0,
                         np.where(over >= knee_db / 2, slope * over, slope * (over + knee_db / 2) ** 2 / (2 * knee_db)))
    smooth = _one_pole(reduction, np.exp(-1 / (attack_ms / 1000 * sr)), np.exp(-1 / (release_ms / 1000 * sr)))
    return 10 ** (-smooth / 20)


def limiter_gain(mix, sr, *, ceiling=LIMITER["ceiling"], lookahead_ms=LIMITER["lookahead_ms"],
                 release_ms=LIMITER["release_ms"]):
    """A lookahead peak limiter's gain, computed from the mixture alone.

    The gain each sample needs (ceiling / |x|, at most 1; stereo: the louder channel) is
    taken as the minimum over the next ``lookahead_ms``, released over ``release_ms``,
    smoothed by a moving average as long as the lookahead (so the gain falls before a
    peak, not at it) and finally held under the needed gain, so no sample of
    ``gain × mix`` exceeds ``ceiling``.

    Parameters
    ----------
    mix : numpy.ndarray, shape (n_samples,) or (channels, n_samples)
    sr : int
    ceiling, lookahead_ms, release_ms : float

    Returns
    -------
    numpy.ndarray, shape (n_samples,)
        Linear gain ≤ 1.
    """
    from scipy.ndimage import minimum_filter1d

    x = np.asarray(mix, np.float64)
    peak = np.abs(x).max(axis=0) if x.ndim == 2 else np.abs(x)
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    look = max(1, int(lookahead_ms / 1000 * sr))
    # the minimum over [i, i + look): a forward-looking window
    ahead = minimum_filter1d(need, look, mode="nearest", origin=-(look // 2))
    released = 1 - _one_pole(1 - ahead, 0.0, np.exp(-1 / (release_ms / 1000 * sr)))
    # a trailing average: at a peak every sample averaged looked ahead to it, so it stays under the need there
    smooth = np.convolve(np.concatenate([np.ones(look - 1), released]), np.ones(look) / look, mode="valid")
    return np.minimum(smooth, need)


def _stems(rendered):
    return {c: np.asarray(rendered[c], np.float64) for c in CLASSES if c in rendered}


def _eq(stems, sr):
    sos = eq_sos(sr)
    return {c: signal.sosfilt(sos, s, axis=-1) for c, s in stems.items()}


def _room(stems, sr, seed):
    mix = sum(stems.values())
    ir = room_ir(sr, seed, channels=mix.shape[0] if mix.ndim == 2 else 1)
    n = mix.shape[-1]
    out = {}
    for c, s in stems.items():
        if s.ndim == 2:
            out[c] = np.stack([signal.oaconvolve(s[k], ir[k])[:n] for k in range(s.shape[0])])
        else:
            out[c] = signal.oaconvolve(s, ir[0])[:n]
    return out


def _times(stems, gain):
    return {c: s * gain for c, s in stems.items()}


def apply(rendered, mix, seed=0):
    """A render mixed like a record.

    Parameters
    ----------
    rendered : dict
        From :func:`performances.render`: ``mix``, one float32 stem per class, shape
        (n_samples,) or (2, n_samples), ``sr``.
    mix : str
        One of ``MIXES``: ``"dry"`` returns ``rendered`` itself (the same object).
    seed : int
        The room's IR seed.

    Returns
    -------
    dict
        A copy of ``rendered`` with every stem processed, then all scaled by one factor
        to a mixture peak of ``PEAK``, cast to float32, and ``mix`` their float32 sum in
        ``CLASSES`` order (as :func:`performances.render` builds it); ``mix_bus``: the
        mode.  Notes are unchanged.
    """
    if mix not in MIXES:
        raise ValueError(f"unknown mix {mix!r}; choose one of {', '.join(MIXES)}")
    if mix == "dry":
        return rendered
    sr = rendered["sr"]
    stems = _stems(rendered)
    if mix in ("eq", "record"):
        stems = _eq(stems, sr)
    if mix in ("room", "record"):
        stems = _room(stems, sr, seed)
    if mix in ("bus", "record"):
        stems = _times(stems, compressor_gain(sum(stems.values()), sr))
    if mix == "record":
        total = sum(stems.values())
        drive = LIMITER["ceiling"] * 10 ** (LIMITER["drive_db"] / 20) / max(float(np.abs(total).max()), 1e-12)
        stems = _times(stems, drive)
        stems = _times(stems, limiter_gain(sum(stems.values()), sr))
    scale = PEAK / max(float(np.abs(sum(stems.values())).max()), 1e-12)
    out = {c: (s * scale).astype(np.float32) for c, s in stems.items()}
    total = np.zeros(out["kick"].shape, np.float32)
    for c in CLASSES:
        if c in out:
            total += out[c]
    return {**rendered, **out, "mix": total, "mix_bus": mix}
