"""Hits on a grid: :func:`quantize` snaps :class:`~nmfaudio.drums.hit_results.DrumHits` to
a constant-tempo grid fitted to the recording (librosa's beat tracker gives the starting
tempo, the hits the step and phase: :func:`_fit_tempo`); :func:`has_tempo` tells whether
hits can carry a tempo at all.  What the fit tries, in order, and why:
docs/transcription.md ("--quantize fits one constant tempo").
"""

from __future__ import annotations

import warnings

import numpy as np

from nmfaudio import audio
from nmfaudio._validation import check_int
from nmfaudio.drums.hit_files import MIDI_BPM
from nmfaudio.drums.hit_results import ClassHits, DrumHits

__all__ = ["quantize", "quantize_read", "has_tempo", "tracker_mono", "tracker_envelope", "tracker_tempo"]


#: The grid each ``quantize`` grid falls back on when no tempo fits the hits: sixteenth
#: notes for the coarser binary grids, which they divide; the others their own.
FIT_GRID = {4: 16, 8: 16, 16: 16, 32: 32, 12: 12, 24: 24}
#: The grids :func:`quantize` takes (``separate_many``'s ``quantize=`` is checked against them).
GRIDS = tuple(FIT_GRID)
#: The grids finer than each that keep its tempo (laid through the same fitted sixteenth
#: notes), coarsest first: where :func:`quantize` looks for one that keeps every hit when
#: this one merged some (``DrumHits.finer_grid``).
FINER_GRIDS = {4: (8, 16, 32), 8: (16, 32), 16: (32,), 32: (), 12: (24,), 24: ()}
#: The triplet grids: on a groove whose hits fit sixteenth notes at the beat tracker's tempo
#: they take that tempo and are laid through its beats; otherwise (a swung groove) they are
#: fitted on themselves before any other tempo is tried.
TRIPLET_GRIDS = (12, 24)
#: A grid fits the hits when they lie within this fraction of its step of it (RMS); a
#: groove played to a click lies within a few hundredths (the bundled loop's hits as
#: played: 0.013 of a sixteenth note).
GRID_FIT = 1 / 8
#: A step is searched within this fraction either side of each one tried: the least-squares
#: slope of librosa's beats was 5-6 % off the played tempo on 4 of the 160 tuning renders
#: (tempofit round, docs/transcription.md), which ±5 % missed.
TEMPO_SPAN = 0.07
#: Ratios of the played tempo's sixteenth note to the beat tracker's tried when the
#: tracker's own does not fit the hits: a tracker locked on half, 2/3, 3/4, 4/3 or 3/2 of
#: the tempo (the step is the tempo's inverse: 2/3 of the step for a tracker on 2/3 of
#: the tempo).  On the tuning renders librosa locked on 1/2 (5 of 160) and 2/3 (1 of 160).
TEMPO_RATIOS = (1 / 2, 2 / 3, 3 / 4, 4 / 3, 3 / 2)
#: Where librosa's beat tracker centres its tempo prior (``start_bpm``): its octave and
#: 3:2 errors took the tempo away from it on every tuning render where it erred (94 for
#: 141, 70 for 140, 182 for 91, 74 for 147 BPM), so another tempo is taken only when it
#: lies nearer this one (in log tempo) than the tracker's.
PRIOR_BPM = 120.0
#: The beat tracker's onset envelope (librosa's ``onset_strength`` defaults, which
#: ``beat_track`` uses): STFT size and mel bands.
TRACKER_N_FFT = 2048
TRACKER_N_MELS = 128
#: The tempo estimate's autocorrelation window (``librosa.feature.tempo``'s ``ac_size``), seconds.
TRACKER_AC_SECONDS = 8.0
#: Frames of the envelope made at a time (:func:`tracker_envelope`): a 1025 x 4096 complex
#: STFT, 34 MB.
ENVELOPE_FRAMES = 4096
#: How far past the last sample of ``y`` a hit given to :func:`quantize` may lie (a CSV's
#: times are rounded to the microsecond) before ``y`` / ``sr`` are refused as not the hits'
#: recording.
LATE_TOLERANCE_S = 0.001
#: A grid start this close to 0 s is a grid point at 0 s that rounding put just beside it
#: (a nanosecond: times are written to the microsecond).
GRID_ROUNDING_S = 1e-9


def quantize(hits: DrumHits, y, sr, *, grid: int = 16, hop_length: int = 512) -> DrumHits:
    """Snap the hits to a constant-tempo grid fitted to the recording.

    The beat period starts from the least-squares slope of the beats
    :func:`librosa.beat.beat_track` finds in ``y`` (its tempo estimate when it finds
    fewer than 4 beats); the grid has ``grid / 4`` steps per beat (``grid`` 16: sixteenth
    notes, 12: eighth-note triplets).  The tempo is then fitted to the hits on sixteenth
    notes (:func:`_fit_tempo`), searched within ``TEMPO_SPAN`` (±7 %) of the tracker's
    step and kept when it leaves the hits within 1/8 of a step (RMS): the tracker's own,
    or half its tempo when that fits too and lies nearer ``PRIOR_BPM`` (a tracker locked
    on double); else ``TEMPO_RATIOS`` of the tracker's step (a tracker locked on half
    or 2/3 of the tempo...) whose tempo lies nearer ``PRIOR_BPM`` than the tracker's and,
    for a triplet grid, that grid at the tracker's tempo (a swung groove) -- both fitting,
    the tempo whose beats hold the hits; else sixteenth notes at twice the tracker's tempo
    when it lies below ``PRIOR_BPM`` (a tracker locked on half of a fast tempo), or, for
    grid 32, 32nd notes at the tracker's tempo.  The grid's phase is the
    strength-weighted circular mean of the hit times modulo the step, so the grid sits on
    the hits to sub-millisecond precision (the tracker's own beats are frame-accurate
    only).  Every grid is laid through the fitted sixteenth notes, so sixteenth notes
    played between a coarse grid's points do not change the tempo: 4 and 8 take every
    few of their points, starting at the one nearest the hits' weighted circular mean
    on their own step; 32 halves their step; a triplet grid (12, 24) is laid through
    their beats.  Each hit moves to the nearest grid point inside the recording (a hit
    in its last half step whose nearest point is after the last sample goes to the one
    before, or to the last sample when another hit of its class is on
    that one); two hits of a class on one point become one (the stronger), counted in
    ``merged``, and ``finer_grid`` names the grid that would keep them.  Velocities are kept.  A
    constant grid suits recordings played to a click; a performance that drifts in
    tempo is better left unquantized.

    Parameters
    ----------
    hits : DrumHits
    y : ndarray, shape (n_samples,) or (n_channels, n_samples)
        The recording the hits come from (whole: the hits' times count from its start).
    sr : int
        Its sampling rate.
    grid : {4, 8, 16, 32, 12, 24}, default 16
    hop_length : int, default 512
        Hop of the beat tracker's onset envelope.

    Returns
    -------
    DrumHits
        The snapped hits, with ``bpm`` the fitted tempo (so a DAW's grid has the notes'
        spacing), ``tempo_fit`` whether one fitted (False: the tracker's tempo, on hits that
        fit none -- the grid moved some of them by up to half a step) and ``grid_start``
        the grid's point nearest 0 s (-step/2 < grid_start <= step/2; its offset from a DAW's
        grid lines, negative when the grid starts before the file), and ``triplet_grid`` the
        triplet grid (12, 24) that fits hits no tempo fitted on a binary grid (a swung
        groove), else None; ``merged`` the hits per class that shared a grid point with a
        stronger one of their class and were dropped (``{}``: none) and ``finer_grid`` the
        coarsest finer grid of the same tempo (8, 16, 32; 24 for 12) on which none would be,
        else None; the hits as given when they cannot carry a tempo (:func:`has_tempo`).

    Raises
    ------
    ValueError
        A hit lies after ``y``'s last sample (by more than ``LATE_TOLERANCE_S``): ``y`` is
        not the whole recording, or ``sr`` not its rate.
    """
    if grid not in GRIDS:
        raise ValueError(f"grid={grid!r} must be 4, 8, 16 or 32 (or 12, 24 for triplets)")
    y = audio.check_audio(y)
    sr = check_int(sr, "sr")
    hop_length = check_int(hop_length, "hop_length")  # librosa's ParameterError is no ValueError
    if not has_tempo(hits):  # the grid would be the beat tracker's prior alone
        return hits
    mono = tracker_mono(y)
    return quantize_read(hits, lambda start, stop: mono[start:stop], mono.shape[-1], sr, grid=grid,
                         hop_length=hop_length)


def quantize_read(hits: DrumHits, read, n_samples: int, sr, *, grid: int = 16, hop_length: int = 512) -> DrumHits:
    """:func:`quantize` on a recording read a stretch at a time: ``read(start, stop)`` gives
    the mono samples ``start:stop`` (float32, shape ``(stop - start,)``) of a recording of
    ``n_samples`` samples -- what :func:`tracker_mono` makes of it.  The beat tracker's onset
    envelope is made a stretch at a time (:func:`tracker_envelope`), so a long file's
    quantizing holds no more than its envelope (128 values a frame) in memory; the
    block-wise run of a file too long for memory quantizes through this.

    Parameters
    ----------
    hits : DrumHits
    read : callable(start, stop) -> ndarray of float32, shape (stop - start,)
    n_samples : int
        The recording's length (samples).
    sr, grid, hop_length
        As for :func:`quantize`.

    Returns
    -------
    DrumHits
        As :func:`quantize` returns.

    Raises
    ------
    ValueError
        As :func:`quantize` raises.
    """
    import librosa

    if grid not in GRIDS:
        raise ValueError(f"grid={grid!r} must be 4, 8, 16 or 32 (or 12, 24 for triplets)")
    sr = check_int(sr, "sr")
    hop_length = check_int(hop_length, "hop_length")  # librosa's ParameterError is no ValueError
    if not has_tempo(hits):  # the grid would be the beat tracker's prior alone
        return hits
    envelope = tracker_envelope(read, n_samples, sr, hop_length)
    # beat_track's tempo is 0 on an envelope without an onset (silence, a file shorter than
    # a frame): the grid then comes from the hits about MIDI_BPM, not from the tempogram's
    # prior alone (119.97 BPM on silence moved hits laid at 120 BPM by 0.3 ms; review68)
    tempo = tracker_tempo(envelope, sr, hop_length) if envelope.any() else 0.0
    _, beats = librosa.beat.beat_track(onset_envelope=envelope, sr=sr, hop_length=hop_length, bpm=tempo,
                                       units="time")
    tempo = float(np.atleast_1d(tempo)[0])
    beats = np.asarray(beats, dtype=np.float64)
    if len(beats) >= 4:
        period = float(np.polyfit(np.arange(len(beats)), beats, 1)[0])
    else:
        period = 60.0 / tempo if tempo > 0 else 60.0 / MIDI_BPM
    times = np.concatenate([c.times for c in hits]) if len(hits) else np.zeros(0)
    weights = np.concatenate([c.strengths for c in hits]) if len(hits) else np.zeros(0)
    if not weights.sum() > 0:
        # hits without strengths (another tool's table given zeros: read_midi has none) weigh
        # alike: with no weight the phase fit read every step as fitting exactly, and the first
        # one tried, 7 % off, was kept -- a 120-BPM groove quantized at 129 BPM (review63)
        weights = np.ones_like(weights)
    last = (n_samples - 1) / sr  # the time of the recording's last sample
    if times.size and float(times.max()) > last + LATE_TOLERANCE_S:
        # hits lie inside the recording they come from: these do not, so y or sr is not
        # theirs (a part of it, another file, the rate of a resampled copy), and snapping
        # them inside it would merge every late hit into the last grid points
        raise ValueError(f"the hits run to {float(times.max()):.3f} s but y lasts {n_samples / sr:.3f} s "
                         f"({n_samples} samples at sr={sr}): give quantize the recording the hits come "
                         f"from, whole, and its own sampling rate")
    tracked = period  # the beat tracker's, from which every grid is fitted
    fit, period, step, phase, triplet_grid = _grid(times, weights, tracked, grid)
    snapped = _snap(hits, step, phase, last)
    merged = {c.name: len(c) - len(snapped[c.name]) for c in hits if len(snapped[c.name]) < len(c)}
    finer_grid = None
    for finer in FINER_GRIDS[grid] if merged else ():
        # the coarsest finer grid laid through the same fitted tempo on which every hit keeps
        # its own point: what the summary offers in place of this one (review64)
        _, _, finer_step, finer_phase, _ = _grid(times, weights, tracked, finer)
        kept = _snap(hits, finer_step, finer_phase, last)
        if all(len(kept[c.name]) == len(c) for c in hits):
            finer_grid = finer
            break
    # where the grid starts in the file: a DAW lays its grid from the file's start, so the
    # notes sit this far after its lines unless the recording begins on a grid point
    # bpm a Python float, as grid_start is: NumPy 2 shows a np.float64 in the repr
    # ("bpm=np.float64(109.96657529074777)"; tour16), the same value
    # a phase a rounding error from a grid point (hits exactly on a grid from 0 s: -1.7e-16)
    # is on it: "% step" made that nearly a whole step ("grid from 0.125 s"; review62a)
    # The grid point nearest 0 s, before it too: hits detected a fraction of a millisecond
    # early on a recording that starts on the beat have a phase just under 0, and "the first
    # point at or after 0 s" made that nearly a whole step ("grid from 0.136 s" on a 110-BPM
    # MP3 starting on its downbeat, telling the user to move the audio a step earlier and cut
    # its first hit; review63)
    start = float(phase % step)
    start = start - float(step) if start > step / 2 else start
    start = 0.0 if abs(start) < GRID_ROUNDING_S else start
    return DrumHits(snapped, bpm=float(60.0 / period), tempo_fit=fit is not None, grid_start=start,
                    triplet_grid=triplet_grid, merged=merged, finer_grid=finer_grid,
                    drumless=hits.drumless)


def _grid(times, weights, period, grid) -> tuple:
    """``(fit, beat period, step, phase, triplet_grid)`` of ``grid`` for the hits, from the
    beat tracker's ``period`` (s): :func:`_fit_tempo`'s fit when one fits (``fit`` not
    None); else the tracker's step laid through the hits (``fit`` None: they move up to half
    a step), with ``triplet_grid`` the triplet grid whose tempo fits them, if any."""
    fit = _fit_tempo(times, weights, period, grid)
    if fit is not None:
        return (fit, *fit, None)
    triplet_grid = None
    if grid not in TRIPLET_GRIDS:
        # a swung groove (eighth notes at 0 and 2/3 of a beat) fits no binary grid but a
        # triplet one: the caller can name it, rather than a tempo change (review63)
        triplet_grid = next((g for g in TRIPLET_GRIDS if _fit_tempo(times, weights, period, g) is not None), None)
    # no tempo fits (a tempo change, a free performance): the tracker's step, and the
    # caller is told (tempo_fit False) -- hits move up to half a step
    fine = FIT_GRID[grid]
    fine_step = period / (fine // 4)
    step, phase = _coarse_grid(times, weights, fine_step, _grid_phase(times, weights, fine_step)[0], fine // grid)
    return None, period, step, phase, triplet_grid


def _snap(hits, step, phase, last) -> dict:
    """``{class: ClassHits}``: each hit of ``hits`` on its nearest point of the grid
    ``phase + n * step`` inside the recording (0 to ``last`` s); two hits of a class on one
    point become one, the stronger."""
    snapped = {}
    for c in hits:
        points = phase + np.rint((c.times - phase) / step) * step
        points = np.maximum(points, 0.0)  # a hit just after 0 s whose grid point is before it
        # a hit in the last half step whose grid point is after the last sample: the grid
        # point before it, so no note or CSV row lies past the end of the recording -- or
        # the last sample when another hit of the class snaps to that point (the two would
        # become one: a hit played lost to the end of the file)
        late = points > last
        if late.any():
            before = np.clip(points[late] - step, 0.0, last)
            taken = np.isin(np.round(before, 9), np.round(points[~late], 9))
            points[late] = np.where(taken, last, before)
        keep = {}
        for i, t in enumerate(np.round(points, 9)):  # one hit per grid point: the stronger
            if t not in keep or c.strengths[i] > c.strengths[keep[t]]:
                keep[t] = i
        chosen = np.array(sorted(keep.values(), key=lambda i: points[i]), dtype=int)
        snapped[c.name] = ClassHits(c.name, c.note, points[chosen], c.strengths[chosen], c.velocities[chosen])
    return snapped


def polarity_signs(dots) -> np.ndarray:
    """+1 or -1 per channel from ``dots``, each channel's dot product with the first: -1 for a
    channel in opposite polarity to it (a negative correlation), whose part of the channels'
    mean would cancel the first's."""
    return np.where(np.asarray(dots, dtype=np.float64) < 0, -1.0, 1.0)


def tracker_envelope(read, n_samples: int, sr: int, hop_length: int) -> np.ndarray:
    """The onset envelope :func:`librosa.beat.beat_track` makes of a mono recording
    (``librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop_length, aggregate=np.median)``:
    128 mel bands of a 2048-point STFT in dB, 80 dB under the recording's loudest, their
    median rise from frame to frame), made ``ENVELOPE_FRAMES`` frames at a time from
    ``read(start, stop)`` (the mono samples ``start:stop``).  In one piece the tracker held the
    recording's whole complex STFT: 10 minutes of 44.1 kHz added 0.41 GB to a block-wise
    run's peak (docs/log/errors-and-limits-history.md ("Block-wise against in memory")); here the mel bands in dB
    are the largest array (128 float32 values a frame).  Equal to librosa's within float32
    rounding (``tests/test_hits.py``).

    Parameters
    ----------
    read : callable(start, stop) -> ndarray of float32, shape (stop - start,)
    n_samples : int
        The recording's length (samples).
    sr, hop_length : int

    Returns
    -------
    ndarray of float32, shape (1 + n_samples // hop_length,)
    """
    import librosa

    n_frames = 1 + n_samples // hop_length  # librosa's centred frames
    half = TRACKER_N_FFT // 2
    bands = np.empty((TRACKER_N_MELS, n_frames), dtype=np.float32)
    with warnings.catch_warnings():
        # Above ~100 kHz the tracker's mel bands (2048-point FFT, 128 bands) include low
        # bands narrower than a bin, and librosa warns on every such run: two lines on
        # stderr from a run that worked (192 kHz tuning renders: the tempo right on 18 of
        # 18 with those bands empty, as at 22.05 kHz).
        warnings.filterwarnings("ignore", message="Empty filters detected in mel frequency basis",
                                category=UserWarning)
        for first in range(0, n_frames, ENVELOPE_FRAMES):
            last = min(first + ENVELOPE_FRAMES, n_frames)
            # the samples these frames cover, centred (zeros beyond the recording, as librosa pads)
            start, stop = first * hop_length - half, (last - 1) * hop_length + half + TRACKER_N_FFT % 2
            stretch = np.zeros(stop - start, dtype=np.float32)
            inside = max(start, 0), min(stop, n_samples)
            if inside[1] > inside[0]:
                stretch[inside[0] - start:inside[1] - start] = read(*inside)
            power = librosa.feature.melspectrogram(y=stretch, sr=sr, n_fft=TRACKER_N_FFT, hop_length=hop_length,
                                                   n_mels=TRACKER_N_MELS, center=False)
            bands[:, first:last] = librosa.power_to_db(power, top_db=None)
    np.maximum(bands, bands.max() - 80.0, out=bands)  # power_to_db's top_db, over the whole recording
    rise = np.maximum(0.0, bands[:, 1:] - bands[:, :-1])
    lag = 1 + TRACKER_N_FFT // (2 * hop_length)  # onset_strength's shift for the lag and the centring
    return np.pad(np.median(rise, axis=0), (lag, 0))[:n_frames].astype(np.float32, copy=False)


def tracker_tempo(envelope, sr: int, hop_length: int) -> float:
    """The tempo :func:`librosa.beat.beat_track` estimates from an onset envelope
    (:func:`librosa.feature.tempo`'s defaults: the envelope's autocorrelation over 8-s windows
    averaged over the recording, weighted by a log-normal prior around 120 BPM), the
    windows taken ``ENVELOPE_FRAMES`` at a time: whole, librosa's tempogram held 384
    lags per frame and peaked at 0.54 GB for 10 minutes of 44.1 kHz (2.7 GB for an hour).
    Equal to librosa's tempo (``tests/test_hits.py``).

    Parameters
    ----------
    envelope : ndarray, shape (n_frames,)
        :func:`tracker_envelope`.

    Returns
    -------
    float
        Beats per minute.
    """
    import librosa

    n_frames = envelope.shape[-1]
    lags = int(librosa.time_to_frames(TRACKER_AC_SECONDS, sr=sr, hop_length=hop_length))
    padded = np.pad(envelope, (lags // 2, lags // 2), mode="linear_ramp", end_values=(0, 0))  # tempogram's centring
    window = librosa.filters.get_window("hann", lags, fftbins=True)[:, None]
    total = np.zeros(lags)
    for first in range(0, n_frames, ENVELOPE_FRAMES):
        last = min(first + ENVELOPE_FRAMES, n_frames)
        frames = librosa.util.frame(padded[first:last - 1 + lags], frame_length=lags, hop_length=1)
        total += librosa.util.normalize(librosa.autocorrelate(frames * window, axis=-2), norm=np.inf,
                                        axis=-2).sum(axis=-1)
    mean = (total / max(n_frames, 1))[:, None]  # librosa.feature.tempo's aggregate (np.mean over frames)
    return float(librosa.feature.tempo(tg=mean, sr=sr, hop_length=hop_length, aggregate=None)[0])


def tracker_mono(y) -> np.ndarray:
    """What :func:`quantize`'s beat tracker reads of ``y``: a mono recording as it is, else
    the channels' mean, a channel in opposite polarity to the first flipped first
    (:func:`polarity_signs`).  The plain mean of a stereo file with one channel's polarity
    inverted (L = -R: a wiring or export mistake) was silence: the tracker read its prior,
    and the hits the separation found in both channels were "quantized to 1/16 notes at
    120.0 BPM ... but no one tempo fits", moved up to half a step (the bundled 110-BPM loop
    so; review62a).  Channels of one polarity (most recordings) give their mean as before."""
    if y.ndim == 1:
        return y
    signs = polarity_signs([np.dot(channel, y[0]) for channel in y])
    if np.all(signs > 0):
        return y.mean(axis=0)
    return (y * signs.astype(y.dtype)[:, None]).mean(axis=0)


def has_tempo(hits: DrumHits) -> bool:
    """Whether ``hits`` can carry a tempo for :func:`quantize`: hits at two instants at
    least (10 ms apart).  With none, or one (a one-shot: kick and hi-hat together), the
    grid would come from the beat tracker's prior alone (126.3 BPM on silence): a made-up
    tempo."""
    times = np.concatenate([np.zeros(0), *(np.asarray(c.times, float) for c in hits)])
    return times.size > 1 and float(np.ptp(times)) > 0.01


def _grid_phase(times, weights, step) -> tuple:
    """Strength-weighted circular mean phase of ``times`` on a grid of ``step`` seconds,
    and the RMS distance (s) of the times (every hit alike) to that grid."""
    if not weights.sum() > 0:
        return 0.0, 0.0
    phase = float(np.angle(np.sum(weights * np.exp(2j * np.pi * times / step)))) / (2 * np.pi) * step
    off = times - phase - np.rint((times - phase) / step) * step
    return phase, float(np.sqrt(np.mean(off ** 2)))


def _coarse_grid(times, weights, fine_step, fine_phase, ratio) -> tuple:
    """A grid of ``ratio`` fine steps through one of the fine grid's points: the one of the
    ``ratio`` candidate phases nearest the hits' strength-weighted circular mean on the
    coarse step (the beats' strong hits, not the off-beat ones, set it).  ``ratio`` 1: the
    fine grid itself."""
    if ratio == 1:
        return fine_step, fine_phase
    step = fine_step * ratio
    mean = _grid_phase(times, weights, step)[0]
    candidates = fine_phase + fine_step * np.arange(ratio)
    distance = np.abs((candidates - mean + step / 2) % step - step / 2)
    return step, float(candidates[int(np.argmin(distance))] % step)


def _fit_near(times, weights, step):
    """The grid step within ``TEMPO_SPAN`` of ``step`` (a beat tracker's tempo is often a few
    percent off on a short excerpt) that fits the hits best, and its phase, if it leaves
    them within ``GRID_FIT`` of a step (RMS); else None."""
    factors = np.linspace(1 - TEMPO_SPAN, 1 + TEMPO_SPAN, int(round(TEMPO_SPAN * 4000)) + 1)  # 0.05 % apart
    fits = [(_grid_phase(times, weights, step * f), step * f) for f in factors]
    (phase, spread), best = min(fits, key=lambda fit: fit[0][1] / fit[1])
    return (best, phase) if spread <= best * GRID_FIT else None


def _prior_distance(period) -> float:
    """How far a beat period (s) lies from ``PRIOR_BPM``, in log tempo."""
    return abs(np.log(60.0 / period / PRIOR_BPM))


def _beat_concentration(times, weights, period) -> float:
    """How closely the hits gather on beats of ``period`` (s): the length of their
    strength-weighted mean phasor on it, 1 when every hit is on a beat, 0 when they
    spread evenly (or in equal weight on and half-way between the beats)."""
    return float(np.abs(np.sum(weights * np.exp(2j * np.pi * times / period))) / max(weights.sum(), 1e-12))


def _lay(times, weights, sixteenth, phase, grid) -> tuple:
    """The ``grid``'s (beat period, step, phase) on fitted sixteenth notes: every few of
    their points for 4 and 8 (:func:`_coarse_grid`), half their step for 32, a triplet
    grid through their beats."""
    period = 4 * sixteenth
    if grid == 32:
        return period, sixteenth / 2, phase
    if grid in TRIPLET_GRIDS:
        beat_phase = _coarse_grid(times, weights, sixteenth, phase, 4)[1]
        step = period / (grid // 4)
        return period, step, beat_phase % step
    return (period, *_coarse_grid(times, weights, sixteenth, phase, 16 // grid))


def _fit_tempo(times, weights, period, grid):
    """Beat period, grid step and phase fitted to the hits from the beat tracker's
    ``period`` (s), or None when no tempo fits.  Tried in turn, the first that fits kept:

    1. sixteenth notes at the tracker's tempo -- or at half of it, when eighth notes fit
       too and half the tempo lies nearer ``PRIOR_BPM`` (a tracker locked on double);
    2. sixteenth notes at ``TEMPO_RATIOS`` of the tracker's step whose tempo lies nearer
       ``PRIOR_BPM`` than the tracker's, the nearest (a tracker locked on half or 2/3 of
       the tempo; a tempo change of 3:4 also fits a fine grid of 3/2 the tempo, away from
       the prior); for a triplet grid, that grid itself at the tracker's tempo (or twice
       it, nearer ``PRIOR_BPM``: a swung groove) -- when both fit (a swung groove's eighth
       notes at 0 and 2/3 of a beat are sixteenth notes of 3/2 its tempo too; a binary
       groove's eighth notes, triplets of 2/3 its tempo) the one whose beats hold the hits
       (:func:`_beat_concentration`);
    3. sixteenth notes at twice the tracker's tempo, even though farther from the prior,
       when the tracker's lies below ``PRIOR_BPM`` (a tracker locked on half of a tempo
       past about 170 BPM); else, for grid 32, 32nd notes at the tracker's tempo.

    Sixteenth notes fitted (1, 2) lay every grid through them (:func:`_lay`), so all grids
    read one tempo: fitted on a coarser grid, hits played between its points would fit
    half its step and double the tempo.
    """
    own = _fit_near(times, weights, period / 4)
    if own is not None:
        half = _fit_near(times, weights, period / 2)  # the sixteenth notes of half the tempo
        if half is not None and _prior_distance(4 * half[0]) < _prior_distance(4 * own[0]):
            own = half
        return _lay(times, weights, *own, grid)
    triplet = None
    if grid in TRIPLET_GRIDS:
        per_beat = grid // 4
        fit = _fit_near(times, weights, period / per_beat)
        if fit is None:  # a tracker locked on half the tempo
            fit = _fit_near(times, weights, period / per_beat / 2)
            fit = fit if fit is not None and _prior_distance(per_beat * fit[0]) < _prior_distance(period) else None
        triplet = None if fit is None else (fit[0] * per_beat, *fit)
    fits = [fit for fit in (_fit_near(times, weights, period / 4 * ratio) for ratio in TEMPO_RATIOS)
            if fit is not None and _prior_distance(4 * fit[0]) < _prior_distance(period)]
    binary = _lay(times, weights, *min(fits, key=lambda fit: _prior_distance(4 * fit[0])), grid) if fits else None
    if triplet is not None and binary is not None:
        # 3:2 apart, both fit: the one whose beats hold the hits (a swung groove's beats
        # fall on and between the beats of 3/2 its tempo, a binary groove's on and
        # between those of 2/3 its tempo)
        return max(triplet, binary, key=lambda fit: _beat_concentration(times, weights, fit[0]))
    if triplet is not None or binary is not None:
        return triplet or binary
    # Sixteenth notes at twice the tracker's tempo, farther from the prior than its own: past
    # about 170 BPM (120 x sqrt 2) half the tempo lies nearer PRIOR_BPM, where librosa's
    # tracker locks (a 187-BPM render read 93.5 BPM), and step 2 passes the double by; a
    # groove with sixteenth notes there fitted no step, and --quantize 16 merged its hat
    # sixteenths in pairs (64 of the 74 hi-hat hits written).  A grid that holds every hit
    # beats none.
    # (Grid 32 lays 32nd notes of that doubled tempo: 64th notes of the tracker's.)
    # Only a tracker below PRIOR_BPM can have halved such a tempo (half of 170-240 BPM lies
    # at 85-120): one reading 140 is right, and a groove there with 32nd-note hat rolls
    # (trap) fits sixteenth notes of 280 BPM too -- read as 280 BPM at every grid, grid 32
    # laid on 64th notes, where it had fitted 140 on its own 32nd notes (review9).
    double = _fit_near(times, weights, period / 8)
    if double is not None and 60.0 / period < PRIOR_BPM:
        return _lay(times, weights, *double, grid)
    if double is not None and grid == 32:  # 32nd notes at the tracker's tempo
        return double[0] * 8, *double
    return None
