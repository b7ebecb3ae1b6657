"""Block-wise drum separation of long recordings: the drum fit's memory bounded by the
block, not the duration.

The drum model is per-frame activations of templates that adapt only a little (their
support and gain are capped, :mod:`nmfaudio.drums.stems`), so a long recording is cut
into blocks of ``block_seconds`` that overlap by ``2 · overlap_seconds``; each block
(with the overlap on either side) is separated on its own, exactly as a short file is,
and neighbouring blocks are cross-faded over the overlap with raised-cosine weights that
sum to one.  Every block's stems add up to its samples, so the cross-faded stems still
add up to the mixture.  Each frame's activations come from the block that owns it (the
frame's centre lies in the block's core); the reported templates are the blocks'
adapted templates averaged (weighted by block length) and the loss is the blocks'
losses summed per iteration.

``accompaniment="auto"`` is decided once, on the whole recording, before it is cut
(:func:`nmfaudio.drums.accompaniment.tonal_share` of its low bins, made a stretch at a
time): decided per block, a song whose first block is drums only would be treated as
drums there and as a song later, and the result would report the first block's
decision.  Every block is then separated with that decision (True or False), and the
result reports it and the whole recording's tonal share.

The presence tests' and the ride's decisions are made per block, then taken from the
blocks around (:func:`block_decision`): a block whose decision differs from most of the
three blocks nearest it is separated again with theirs, so one block's wrong call (a
song's hi-hat silenced for 30 s, a lone block's hats moved to the cymbals as a ride's)
gives way, while a stretch of two blocks or more (a drumless intro, a ride groove) keeps
its own.  Deciding once on the whole recording would lose those stretches.

What is held: one block's separation (and up to two blocks ahead, separated for the
decision above), the activations of the whole recording, and the cross-fade still
waiting for the next block.  :func:`separate_in_blocks` hands the
finished tracks to a writer as they come (``separate_drums(path, stream_to=)``, the
CLI's block-wise mode: memory independent of the duration);
:func:`separate_in_blocks_if_needed` collects them into arrays (then the input and the
stems, ``n_stems + 2`` times the input, are held too).
docs/performance.md logs the memory and time of ``nmfaudio drums`` on 10-minute and
1-hour files (``benchmarks/pipeline_memory.py``'s ``write_input``).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from nmfaudio import audio, budget
from nmfaudio._validation import check_number
from nmfaudio.drums import track_reads
from nmfaudio.drums.accompaniment import DECISION_HZ, decision_spans, tonal_sums, use_accompaniment

__all__ = ["BLOCK_SECONDS", "OVERLAP_SECONDS", "Decided", "block_bytes", "block_decision", "block_spans",
           "separate_in_blocks", "separate_in_blocks_if_needed"]

#: Default block length (seconds) of the block-wise drum separation.
BLOCK_SECONDS = 30.0

#: Half the cross-fade between neighbouring blocks (seconds): each block is separated
#: with this much audio of its neighbours on either side.
OVERLAP_SECONDS = 2.0


def block_spans(n_samples: int, *, block: int, overlap: int, hop: int) -> list[tuple[int, int, int, int]]:
    """``(core_start, core_stop, segment_start, segment_stop)`` per block, in samples.

    Cores tile ``[0, n_samples)``; a segment is its core with ``overlap`` samples of each
    neighbour.  ``block`` and ``overlap`` are rounded to whole hops (so every segment
    starts on a frame of the whole recording's STFT), ``overlap`` to at most a quarter
    of the block.
    """
    block = max(hop, round(block / hop) * hop)
    overlap = min(round(overlap / hop) * hop, (block // 4) // hop * hop)
    spans = []
    for start in range(0, n_samples, block):
        stop = min(start + block, n_samples)
        spans.append((start, stop, max(0, start - overlap), min(n_samples, stop + overlap)))
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < 2 * overlap:  # a stub: join it to the block before
        last = spans.pop()
        start, _, first, _ = spans.pop()
        spans.append((start, last[1], first, last[1]))
    return spans


def block_bytes(n_samples: int, n_channels: int, *, sr: int, n_stems: int, n_fft: int, hop_length: int,
                itemsize: int = 4) -> int:
    """Peak bytes of the default block-wise drum separation of a recording of ``n_samples``
    samples: one block separated as a short file is (``BLOCK_SECONDS`` and its overlaps) and
    the stems of the blocks held ahead for the decisions (:func:`nmfaudio.budget.drums_block_bytes`)."""
    segment = min(n_samples, round((BLOCK_SECONDS + 2 * OVERLAP_SECONDS) * sr))
    n_blocks = len(block_spans(n_samples, block=round(BLOCK_SECONDS * sr), overlap=round(OVERLAP_SECONDS * sr),
                               hop=hop_length))
    return budget.drums_block_bytes(segment, n_channels, n_stems=n_stems, n_fft=n_fft, hop_length=hop_length,
                                    n_blocks=n_blocks, itemsize=itemsize)


def _fade_weights(span, previous_span, next_span) -> np.ndarray:
    """Weights (segment length,) of one block: 1 in its own part, raised-cosine ramps
    where it overlaps a neighbour (the neighbour's ramp is one minus this one)."""
    start, stop, first, last = span
    weights = np.ones(last - first)
    if previous_span is not None:  # overlap [first, previous segment's end) ramps up
        width = previous_span[3] - first
        weights[:width] = 0.5 - 0.5 * np.cos(np.pi * (np.arange(width) + 0.5) / width)
    if next_span is not None:  # overlap [next segment's start, last) ramps down
        width = last - next_span[2]
        weights[len(weights) - width:] = 0.5 + 0.5 * np.cos(np.pi * (np.arange(width) + 0.5) / width)
    return weights


def separate_in_blocks_if_needed(y, separate_segment, *, sr: int, hop_length: int, n_fft: int, n_stems: int,
                                 block_seconds=None, max_memory=budget.DEFAULT_MAX_MEMORY, on_block=None,
                                 accompaniment=False, offset=None, decide=()):
    """``separate_segment(y)`` (a :class:`nmfaudio.drums.DrumSeparation`), or the same
    computation block by block when ``block_seconds`` is given or the separation in
    memory would exceed ``max_memory``.

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_channels, n_samples)
    separate_segment : callable(segment, accompaniment, decided=None) -> DrumSeparation
        The drum separation of a stretch of ``y`` (same settings for every block), with
        ``accompaniment`` "auto", True or False (``decided``: see ``decide``).
    sr, hop_length, n_fft : int
    n_stems : int
        Drum stems asked for (the residual besides).
    block_seconds : float > 0, optional
        Block length; default: in memory unless over ``max_memory``, then
        :data:`BLOCK_SECONDS`.
    max_memory : bytes, str or None
        See :func:`nmfaudio.budget.check_max_memory`.
    on_block : callable(done, total), optional
    accompaniment : "auto", True or False
        From :func:`nmfaudio.drums.accompaniment.accompaniment_mode`.  Block-wise, "auto"
        is decided once on the whole recording and every block gets the decision.
    offset : ndarray, shape (1,) or (n_channels, 1), optional
        The recording's DC offset, which ``separate_segment`` keeps out of the fit: the
        decision reads the recording without it too.
    decide : tuple of "presence" and "ride"
        The per-recording decisions a block takes from its neighbours (:func:`block_decision`):
        ``separate_segment`` must accept ``decided=`` (a :class:`Decided` or None).

    Returns
    -------
    DrumSeparation
        Block-wise: ``blockwise_reason`` says why when the budget chose it;
        ``accompaniment`` and ``tonal_share`` are the whole recording's.
    """
    max_memory = budget.check_max_memory(max_memory)
    reason = None
    if block_seconds is None:
        n_channels = 1 if y.ndim == 1 else y.shape[0]
        estimate = budget.drums_bytes(y.shape[-1], n_channels, n_stems=n_stems, n_fft=n_fft, hop_length=hop_length,
                                      itemsize=y.dtype.itemsize)
        reason = budget.over_budget(estimate, max_memory)
        if reason is None:
            return separate_segment(y, accompaniment)
        stems = (n_stems + 2) * y.size * y.dtype.itemsize  # the input, the stems and the residual
        if stems > max_memory:  # held whatever the blocks: the result is arrays
            reason += (f"; the input and its {n_stems + 1} stems alone take {budget.format_bytes(stems)}, "
                       "which blocks do not reduce (the CLI writes them block by block)")
        block_seconds = BLOCK_SECONDS
        reason += budget.block_note(block_bytes(y.shape[-1], n_channels, sr=sr, n_stems=n_stems, n_fft=n_fft,
                                                hop_length=hop_length, itemsize=y.dtype.itemsize),
                                    max_memory, "max_memory")
        blocks = (f"{block_seconds:g} s blocks" if y.shape[-1] > block_seconds * sr else
                  f"one block, the whole {y.shape[-1] / sr:.3g} s")  # not "30 s blocks" of an 8.7-s clip
        warnings.warn(f"separate_drums(): block-wise, {blocks}: {reason} (pass block_seconds= "
                      "to choose the blocks, or a larger max_memory)", UserWarning, stacklevel=3)
    reader = audio.ArrayReader(y)
    sources = {}

    def collect(start, block):  # the cross-faded tracks into arrays of the input's shape
        for name, track in block.items():
            if name not in sources:
                sources[name] = np.zeros_like(y)
            sources[name][..., start:start + track.shape[-1]] = track

    result = separate_in_blocks(reader, separate_segment, collect, sr=sr, n_fft=n_fft, hop_length=hop_length,
                                block_seconds=block_seconds, on_block=on_block, accompaniment=accompaniment,
                                offset=offset, decide=decide)
    return dataclasses.replace(result, sources=sources, blockwise_reason=reason)


def separate_in_blocks(reader, separate_segment, write, *, sr: int, n_fft: int, hop_length: int, block_seconds,
                       on_block=None, accompaniment=False, offset=None, decide=()):
    """The block-wise drum separation of everything ``reader`` holds, the tracks handed
    to ``write`` as they are finished: memory bounded by the block, not the duration.

    Parameters
    ----------
    reader : nmfaudio.audio.ArrayReader or nmfaudio.audio.FileReader
        The recording, read a segment at a time (``read(start, stop)``: (n_channels, n)).
    separate_segment : callable(segment, accompaniment, decided=None) -> DrumSeparation
        As for :func:`separate_in_blocks_if_needed`; a segment has the shape (n,) for a
        mono recording, (n_channels, n) otherwise.
    write : callable(start, {name: ndarray})
        Receives the finished (cross-faded) samples of every track from sample
        ``start`` on, each shape (n,) or (n_channels, n): consecutive stretches in
        order, covering the recording once.
    sr, n_fft, hop_length : int
    block_seconds : float > 0
    on_block : callable(done, total), optional
    accompaniment : "auto", True or False
        "auto" is decided once, on the whole recording (without ``offset``).
    offset : ndarray, shape (1,) or (n_channels, 1), optional
        As for :func:`separate_in_blocks_if_needed`.
    decide : tuple of "presence" and "ride"
        As for :func:`separate_in_blocks_if_needed`.

    Returns
    -------
    DrumSeparation
        With ``sources`` empty (the tracks went to ``write``); ``activations`` of the
        whole recording, the blocks' templates averaged, their losses summed;
        ``accompaniment`` and ``tonal_share`` the whole recording's; ``absent`` the
        classes judged not playing in every block that is not digital silence (their
        stem silent throughout); ``absent_in`` those judged not playing in some blocks
        only, with the stretches where their stem is silent; ``ride_in`` the stretches
        whose blocks found a ride when others did not; ``sounds_in`` the classes whose parts
        sounded in another stem in some block.
    """
    block_seconds = check_number(block_seconds, "block_seconds", minimum=0, strict=True,
                                 expected="a number of seconds > 0 (e.g. 30)")
    spans = block_spans(reader.n_samples, block=round(block_seconds * sr), overlap=round(OVERLAP_SECONDS * sr),
                        hop=hop_length)
    tonal = None if accompaniment is False else whole_tonal_share(track_reads.without_offset(reader, offset), sr=sr,
                                                                  n_fft=n_fft, hop_length=hop_length)
    decided = use_accompaniment(accompaniment, tonal) if tonal is not None else False

    def read(first, last):
        segment = reader.read(first, last)
        audio.check_finite_samples(segment, getattr(reader, "path", "y"))
        return segment[0] if reader.mono else segment

    def separate(segment, forced=None):
        return separate_segment(segment, decided, decided=forced)

    result = _run(read, reader.n_samples, separate, spans, hop_length, on_block, write, decide=decide)
    return dataclasses.replace(result, accompaniment=decided, tonal_share=tonal)


def whole_tonal_share(y, *, sr: int, n_fft: int, hop_length: int) -> float:
    """:func:`nmfaudio.drums.accompaniment.tonal_share` of the whole recording, as the
    separation in memory computes it, without holding its spectrogram: only the frames
    it reads (:func:`~nmfaudio.drums.accompaniment.decision_spans`: a few excerpts of a
    long recording) and the bins below :data:`~nmfaudio.drums.accompaniment.DECISION_HZ`
    are made, a stretch of frames at a time.

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_channels, n_samples), or an nmfaudio.audio reader
        The recording (a reader: :class:`nmfaudio.audio.FileReader`, read a stretch at a time).
    sr, n_fft, hop_length : int
        The blocks' sample rate and STFT.

    Returns
    -------
    float in [0, 1]
    """
    from nmfaudio import spectrum

    reader = y if isinstance(y, audio.ArrayReader) else audio.ArrayReader(y)
    # as tonal_share slices it: at most every bin (below ~3 kHz DECISION_HZ is past the Nyquist
    # frequency, and the rows made for it did not fit the frames: "could not broadcast")
    low = min(max(1, int(DECISION_HZ * n_fft / sr)), n_fft // 2 + 1)
    n_frames = spectrum.n_frames(reader.n_samples, hop_length=hop_length, n_fft=n_fft)
    pad = n_fft // 2
    peaks, total = 0.0, 0.0
    # only the frames tonal_share reads (a few excerpts of a long recording), a stretch at a time
    step = spectrum.istft_chunk_frames(n_fft, reader.n_channels, reader.dtype)  # the same bounded chunk size
    for span_start, span_stop in decision_spans(n_frames, sr=sr, hop_length=hop_length):
        magnitude = np.empty((low, reader.n_channels, span_stop - span_start), dtype=np.float32)  # (F_low, C, N)
        for start in range(span_start, span_stop, step):
            stop = min(start + step, span_stop)
            # the frames' samples (zero outside the recording, as spectrum.stft_frames pads)
            segment = reader.read(start * hop_length - pad, (stop - 1) * hop_length - pad + n_fft)
            frames = spectrum.stft(segment, n_fft=n_fft, hop_length=hop_length, center=False)  # (C, F, n)
            magnitude[..., start - span_start:stop - span_start] = np.abs(frames[:, :low]).transpose(1, 0, 2)
        span_peaks, span_total = tonal_sums(magnitude, sr=sr, hop_length=hop_length)
        peaks, total = peaks + span_peaks, total + span_total
    return peaks / total if total > 0 else 0.0


@dataclasses.dataclass(frozen=True)
class Decided:
    """The decisions a block takes from its neighbours (:func:`block_decision`): the
    classes kept whatever its presence test says, those judged absent whatever it says,
    and the ride (False: none looked for; None: its own)."""

    present: frozenset = frozenset()
    absent: frozenset = frozenset()
    ride: bool | None = None


def _window(index: int, n_blocks: int) -> range:
    """The three blocks nearest block ``index``: it and its neighbours, at either end
    the two next to it (fewer when there are fewer blocks)."""
    low = min(max(index - 1, 0), max(n_blocks - 3, 0))
    return range(low, min(low + 3, n_blocks))


def block_decision(own, votes, decide) -> Decided | None:
    """The decisions a block takes where most of the blocks nearest it decided otherwise.

    Parameters
    ----------
    own : (frozenset, bool)
        The block's own decisions: the classes its presence tests judged absent, and
        whether it found a ride.
    votes : sequence of (frozenset, bool)
        The same of the blocks nearest it (:func:`_window`, itself included; blocks of
        digital silence, which judge nothing, left out).
    decide : tuple of "presence" and "ride"

    Returns
    -------
    Decided or None
        None where the block agrees with most of them (a tie keeps its own; a block
        without a ride keeps none).
    """
    present, absent, ride = set(), set(), None
    if "presence" in decide:
        for cls in set().union(*(judged for judged, _ in votes)):
            n_absent = sum(cls in judged for judged, _ in votes)
            if 2 * n_absent > len(votes) and cls not in own[0]:
                absent.add(cls)
            elif 2 * n_absent < len(votes) and cls in own[0]:
                present.add(cls)
    # a ride only given up: ride=True is another method (the closed hat's strokes taken
    # whatever the signal), not the test's outcome, and the long tuning files had no block
    # that missed a ride its neighbours found
    if "ride" in decide and own[1] and 2 * sum(found for _, found in votes) < len(votes):
        ride = False
    if not (present or absent or ride is not None):
        return None
    return Decided(frozenset(present), frozenset(absent), ride)


def _run(read, n_samples: int, separate_segment, spans, hop: int, on_block, write, decide=()):
    """Separate every block (``read(first, last)``: its segment), cross-fade the tracks
    and hand each finished stretch to ``write``; stitch the activations.  With
    ``decide``, a block whose presence or ride decision differs from most of the three
    blocks nearest it is separated again with theirs (the blocks ahead are separated
    and held until then: at most two besides the block written)."""
    n_blocks = len(spans)
    ahead, own = {}, [None] * n_blocks  # the blocks separated, not yet written; each block's own decisions

    def separated(index):
        if index not in ahead:
            segment = read(*spans[index][2:])
            judged = bool(np.any(segment))  # a block of digital silence judges no class (absent below)
            ahead[index] = (separate_segment(segment), judged)
            part = ahead[index][0]
            own[index] = (frozenset(part.absent), part.ride_strokes is not None) if judged else None
        return ahead[index]

    n_frames = 1 + n_samples // hop
    strokes = {}  # the ride's activations of the blocks that have one (field: whole-recording array)
    activations = pending = None  # pending: the weighted tracks the next block cross-fades into
    # the templates' length-weighted sum as it goes (kept per block, 120 blocks of full-
    # resolution templates were 470 MB for an hour of 44.1 kHz audio)
    weighted_P, losses, n_iters, limits, bands = None, [], [], [], []
    absent = None  # the classes judged not playing in every block so far (a stem silent throughout)
    sounds_in = {}  # the classes whose parts sounded in another stem in some block (its hits read there too)
    # per block: the classes judged absent and whether a ride was found, for the stretches
    # a decision covered (a flip between blocks changes a stem's character at the seam)
    judged_absent, found_ride = [], []
    for index, span in enumerate(spans):
        start, stop, first, last = span
        part, judged = separated(index)
        if decide and judged:  # the per-recording decisions: those of most of the blocks around
            window = _window(index, n_blocks)
            for later in window:  # the blocks ahead in the window: separated now, written later
                if later > index:
                    separated(later)
            votes = [own[j] for j in window if own[j] is not None]
            decided = block_decision(own[index], votes, decide)
            if decided is not None:
                # its own separation goes first: with the two blocks ahead still held (block 0)
                # it made three held at once, one more than budget.DRUM_BLOCKS_AHEAD counts
                del part, ahead[index]
                part = separate_segment(read(first, last), decided)
        ahead.pop(index, None)
        if activations is None:
            first_part = dataclasses.replace(part, sources={})  # its fields for the result, not its tracks
            activations = {name: np.zeros(track.shape[:-1] + (n_frames,), dtype=track.dtype)
                           for name, track in part.activations.items()}
        weights = _fade_weights(span, spans[index - 1] if index else None,
                                spans[index + 1] if index + 1 < len(spans) else None)
        keep = spans[index + 1][2] if index + 1 < len(spans) else last  # where the next segment starts
        done, held = {}, {}
        for name, track in part.sources.items():
            weighted = (track * weights).astype(track.dtype, copy=False)
            if pending is not None:  # the previous block's ramp down over [first, its last)
                weighted[..., :pending[name].shape[-1]] += pending[name]
            done[name] = weighted[..., :keep - first]
            held[name] = weighted[..., keep - first:].copy()  # a copy: the block's tracks can go
        write(first, done)
        pending = held
        own0, own1 = start // hop, (n_frames if stop >= n_samples else stop // hop)
        offset = first // hop  # the segment's frame 0 is frame `offset` of the whole recording
        for name, track in part.activations.items():
            activations[name][..., own0:own1] = track[..., own0 - offset:own1 - offset]
        for field in ("ride_strokes", "ride_with_snare"):  # a block whose time-keeper is a ride
            track = getattr(part, field)  # (nmfaudio.drums.ride)
            if track is not None:
                if field not in strokes:
                    strokes[field] = np.zeros(track.shape[:-1] + (n_frames,), dtype=track.dtype)
                strokes[field][..., own0:own1] = track[..., own0 - offset:own1 - offset]
        block_P = part.templates.P * (stop - start)
        weighted_P = block_P if weighted_P is None else weighted_P + block_P
        losses.append(np.asarray(part.loss, dtype=np.float64))
        n_iters.append(part.n_iter)
        if part.band_limit_hz is not None:
            limits.append(part.band_limit_hz)
        if part.input_band_hz is not None:
            bands.append(part.input_band_hz)
        if judged:  # silence judges nothing: it neither adds to nor clears the others' list
            absent = [c for c in (part.absent if absent is None else absent) if c in part.absent]
        judged_absent.append(tuple(part.absent) if judged else None)
        found_ride.append(part.ride_strokes is not None)
        sounds_in.update(part.sounds_in)
        del part, done, weighted, block_P
        if on_block is not None:
            on_block(index + 1, len(spans))
    P = weighted_P / n_samples
    kit = first_part.templates
    averaged = type(kit)(P.astype(kit.P.dtype), kit.classes, kit.sr, kit.n_fft, kit.hop_length, kit.window,
                         kit.n_shots, f"{kit.source.split(' (adapted to')[0]} (adapted, mean of {len(spans)} blocks)")
    sr = first_part.sr or 1  # None only for an array given without a rate: spans in samples then
    absent = tuple(absent or ())
    absent_in = {c: _stretches(spans, [bool(a) and c in a for a in judged_absent], sr)
                 for c in dict.fromkeys(c for a in judged_absent if a for c in a) if c not in absent}
    ride_in = _stretches(spans, found_ride, sr) if any(found_ride) and not all(found_ride) else None
    longest = max(len(loss) for loss in losses)
    loss = sum(np.pad(loss, (0, longest - len(loss)), mode="edge") for loss in losses)
    return dataclasses.replace(first_part, sources={}, activations=activations, templates=averaged, loss=loss,
                               n_iter=max(n_iters), ride_strokes=strokes.get("ride_strokes"),
                               ride_with_snare=strokes.get("ride_with_snare"), absent=absent,
                               absent_in=absent_in, ride_in=ride_in, sounds_in=sounds_in,
                               band_limit_hz=max(limits, default=None), input_band_hz=max(bands, default=None))


def _stretches(spans, flags, sr: int) -> tuple:
    """The blocks' own parts (``spans``' cores) where ``flags`` is true, neighbouring
    blocks joined, as ``((start_s, stop_s), ...)`` rounded to 0.1 s."""
    out = []
    for (start, stop, _, _), flag in zip(spans, flags):
        if not flag:
            continue
        if out and out[-1][1] == start:
            out[-1][1] = stop
        else:
            out.append([start, stop])
    return tuple((round(start / sr, 1), round(stop / sr, 1)) for start, stop in out)
