"""Block-wise separation of long recordings: memory that does not grow with duration.

:func:`separate_file` separates an audio file into one WAV per component while holding
only one block of audio (and of its spectrogram) at a time; ``separate(...,
block_seconds=...)`` runs the same computation on an array or file and returns the tracks
in memory.  Three passes read the input (a file with soundfile's ``seek``/``read``):

1. **Level.**  The peak sample and a finite check, so NaN is refused before any output
   exists and extreme levels get :func:`nmfaudio.fitting.level_scale`'s exact
   power-of-two rescaling (:func:`nmfaudio.fitting.level_scale`), as in memory.
2. **Learn.**  The STFT block by block: the spectrogram's mean (for the noise floor) and
   maximum (for the engine's floor), and every ``s``-th frame of every channel, ``s =
   ceil(n_channels · n_frames / learn_frames)``.  The templates W are fitted on those
   columns exactly as :func:`nmfaudio.separate` fits the whole spectrogram (same engine,
   seed, warm start, noise floor, component order).  When everything fits in
   ``learn_frames`` (``s = 1``) that is the very same fit.
3. **Separate.**  For each block of output samples: the STFT frames that touch it
   (reading ``n_fft / 2`` samples of context on either side), the activations of those
   frames with W fixed, the masks, and the inverse STFT of those frames only; the
   block's samples go to the outputs.  Every output sample gets exactly the frames (and
   window normalization) it gets in memory, so the seams are exact, and the activations
   are computed frame by frame (from a frame-local start, a fixed ``max_iter``
   iterations without early stopping: HALS sweeps for Frobenius, multiplicative updates
   with the spectrogram-wide floors otherwise), so a frame's activations do not depend
   on the block it falls in: the output does not depend on ``block_seconds`` beyond
   float rounding.  The masks and the inverse STFT go a chunk of frames at a time, as
   in memory.

What differs from in-memory separation is the activations: in memory they come out of
the joint fit of W and H; here they are refitted with W fixed.  ``benchmarks/
pipeline_memory.py`` measures the difference and the memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nmfaudio import audio, masks, spectrum
from nmfaudio._validation import check_int, check_number, least_seconds
from nmfaudio.fitting import SeparationBase, Settings, component_file_names, level_scale, scaled, unscale_activations
from nmfaudio.nmf.divergence import FLOOR_RELATIVE

__all__ = ["separate_file", "separate_in_blocks", "BlockSeparation", "LEARN_FRAMES", "BLOCK_SECONDS",
           "check_block_length"]

#: Default for ``learn_frames``: at most this many spectrogram columns (frames ×
#: channels) are kept for learning the templates — about 4 minutes of stereo at 44.1 kHz
#: with hop 512 is 20 000 columns, 82 MB of float32 magnitudes at n_fft = 2048.
LEARN_FRAMES = 20_000

#: Default block length of :func:`separate_file`, in seconds.
BLOCK_SECONDS = 30.0

#: Most columns of the (decimated) mixture spectrogram kept for a figure.
_FIGURE_COLUMNS = 1500


@dataclass(kw_only=True, repr=False)  # SeparationBase's one-line repr, not every array
class BlockSeparation(SeparationBase):
    """What :func:`separate_file` wrote and learned: the fields of
    :class:`nmfaudio.fitting.SeparationBase` (``W``, ``H``, ``loss``, ``sr``, ``n_iter``,
    ``converged``, ``beta``, ``mask_power``, ``n_fft``, ``hop_length``, ``name``,
    ``noise_floor``, ``engine_result``) and the following.

    Attributes
    ----------
    paths : list of pathlib.Path
        One WAV per component (32-bit float, the input's rate and channel count), in
        component order (low to high spectral centroid).
    H : ndarray, shape (k, n_frames) for mono input, (k, n_channels, n_frames) otherwise
        The activations of every frame (k floats per frame and channel: the one thing
        that grows with the duration, about 1.6 MB for 10 minutes of stereo with k = 4).
    loss : ndarray
        The learning fit's loss per iteration, at the input's level.
    n_samples, n_channels : int
    n_iter : int
        Iterations of the learning fit.
    learn_stride : int
        Every ``learn_stride``-th frame was used to learn W (1: all of them).
    blocks : int
        Number of blocks.
    magnitude : ndarray, shape (n_freq, <= 1500)
        The mixture's magnitude spectrogram at reduced time resolution (channel mean of
        the learning frames), for figures.
    rms : ndarray, shape (k,)
        Each track's RMS level (over all its samples and channels).
    """

    paths: list
    n_samples: int
    n_channels: int
    learn_stride: int
    blocks: int
    magnitude: np.ndarray
    rms: np.ndarray


# --- sources and sinks: audio.ArrayReader / audio.FileReader and audio.WavWriters
# (shared with the drums' block-wise mode)


class _ArraySink:
    """Collects the tracks in memory: (k, n_samples) or (k, n_channels, n_samples)."""

    def __init__(self, k: int, source: audio.ArrayReader):
        self.components = np.empty((k, source.n_channels, source.n_samples), dtype=source.dtype)
        self.mono = source.mono

    def write(self, start: int, block: np.ndarray) -> None:
        self.components[:, :, start:start + block.shape[-1]] = block

    def result(self) -> np.ndarray:
        return self.components[:, 0] if self.mono else self.components


# --- the computation -------------------------------------------------------------------


def _check_block_seconds(block_seconds) -> float:
    return check_number(block_seconds, "block_seconds", minimum=0, strict=True,
                        expected="a number of seconds > 0 (e.g. 30)")


def check_block_length(block_seconds: float, hop_length: int, sr: int) -> None:
    """Refuse a block shorter than one STFT hop: each block recomputes the frames that
    touch it (``n_fft / hop_length`` of them), so blocks of a few samples gave the same
    tracks hundreds of times slower (``--block-seconds 0.001``: 8748 blocks for the
    8.7-s loop, 11 s instead of 0.3 s; an hour would not end).

    Raises
    ------
    ValueError
        Naming the least value allowed.
    """
    if block_seconds * sr < hop_length:
        least = least_seconds(hop_length, sr)
        raise ValueError(f"block_seconds={block_seconds!r} is shorter than one STFT hop ({hop_length} samples, "
                         f"{least:g} s at {sr} Hz); use block_seconds={least:g} or more (30 by default)")


def _check_learn_frames(learn_frames, k: int) -> int:
    """``learn_frames`` (default :data:`LEARN_FRAMES`), at least ``k``: k templates learned
    on fewer spectrogram columns leave all but that many dead (``learn_frames=1`` with k = 3
    gave a fit of loss 0 on one column, then three tracks; tour18)."""
    learn_frames = LEARN_FRAMES if learn_frames is None else check_int(learn_frames, "learn_frames",
                                                                        example=LEARN_FRAMES)
    if learn_frames < k:
        raise ValueError(f"learn_frames={learn_frames} is fewer than n_components={k}: the templates are learned on "
                         f"at most that many spectrogram columns, and {k} templates need {k} at least; use "
                         f"learn_frames={k} or more ({LEARN_FRAMES} by default)")
    return learn_frames


@dataclass
class _Layout:
    """Where the blocks, and the frames each needs, lie."""

    n_samples: int
    n_fft: int
    hop: int
    block: int  # samples per block

    @property
    def pad(self) -> int:
        return self.n_fft // 2

    @property
    def n_frames(self) -> int:
        return spectrum.n_frames(self.n_samples, hop_length=self.hop, n_fft=self.n_fft)

    def blocks(self):
        """(first sample, end sample) of each output block."""
        return [(start, min(start + self.block, self.n_samples)) for start in range(0, self.n_samples, self.block)]

    def frames_touching(self, start: int, stop: int) -> tuple[int, int]:
        """Frames [t0, t1) whose window covers any sample in [start, stop)."""
        t0 = max(0, (start + self.pad - self.n_fft) // self.hop + 1)
        t1 = min(self.n_frames, -(-(stop + self.pad) // self.hop))
        return t0, t1

    def frames_owned(self, start: int, stop: int) -> tuple[int, int]:
        """Frames [t0, t1) centred in [start, stop) (each frame belongs to one block)."""
        t1 = self.n_frames if stop >= self.n_samples else -(-stop // self.hop)
        return -(-start // self.hop), t1

    def segment(self, t0: int, t1: int) -> tuple[int, int]:
        """Samples [a, b) that frames [t0, t1) read (centred frames, zero outside the signal)."""
        return t0 * self.hop - self.pad, (t1 - 1) * self.hop - self.pad + self.n_fft


def _stft_frames(source, layout: _Layout, t0: int, t1: int, scale: float):
    """STFT frames [t0, t1) of every channel, exactly as the centred STFT of the whole
    signal has them: (n_channels, n_freq, t1 - t0), and the segment's first sample."""
    a, b = layout.segment(t0, t1)
    segment = source.read(a, b)
    audio.check_finite_samples(segment, getattr(source, "path", "y"))
    if scale != 1:
        segment = scaled(segment, scale)
    X = spectrum.stft(segment, n_fft=layout.n_fft, hop_length=layout.hop, center=False)
    return X, a


def _level_pass(source, layout: _Layout) -> float:
    """Pass 1: the peak |sample| (and NaN/inf refused), one block at a time."""
    peak = 0.0
    for start, stop in layout.blocks():
        block = source.read(start, stop)
        audio.check_finite_samples(block, getattr(source, "path", "y"))
        peak = max(peak, float(np.abs(block).max(initial=0)))
    return peak


def _learn_pass(source, layout: _Layout, stride: int, scale: float):
    """Pass 2: (the learning columns (n_freq, n_channels · n_selected), the spectrogram's
    mean and maximum, and a decimated channel-mean magnitude for figures)."""
    selected = [[] for _ in range(source.n_channels)]
    total, largest, count = 0.0, 0.0, 0
    for start, stop in layout.blocks():
        t0, t1 = layout.frames_owned(start, stop)
        if t1 <= t0:
            continue
        X, _ = _stft_frames(source, layout, t0, t1, scale)
        V = np.abs(X)  # (n_channels, n_freq, t1 - t0)
        total += float(V.sum(dtype=np.float64))
        largest = max(largest, float(V.max()))
        count += V.size
        first = -(-t0 // stride) * stride  # the first multiple of stride >= t0
        for c in range(source.n_channels):
            selected[c].append(V[c][:, first - t0::stride].copy())  # a copy: a view would keep V alive
    V_learn = np.concatenate([np.concatenate(parts, axis=1) for parts in selected], axis=1)
    n_selected = V_learn.shape[1] // source.n_channels
    channel_mean = V_learn.reshape(V_learn.shape[0], source.n_channels, n_selected).mean(axis=1)
    step = max(1, -(-n_selected // _FIGURE_COLUMNS))
    return V_learn, total / max(count, 1), largest, np.ascontiguousarray(channel_mean[:, ::step])


def _activations(V: np.ndarray, W: np.ndarray, *, beta, delta: float, eps: float, n_iter: int) -> np.ndarray:
    """H (k, n_columns) for V (n_freq, n_columns) with W fixed, column by column.

    From the column-local start ``(Wᵀv) / (WᵀW 1)``, exactly ``n_iter`` iterations (no
    early stop: a column's activations do not depend on which other columns are in V),
    with the noise floor ``delta`` of the whole spectrogram as a fixed extra component:

    * Frobenius: HALS sweeps (coordinate descent on each column's non-negative least
      squares, from WᵀV and WᵀW computed once) — the solver the in-memory fit uses by
      default; k² operations per column and sweep, and exact zeros where a component
      is absent (the masks stay in the fast float32 path);
    * other β: multiplicative updates with the floors ``eps`` of the whole spectrogram.
    """
    from nmfaudio.nmf import factorize
    from nmfaudio.nmf.divergence import beta_from_name

    k = W.shape[1]
    dtype = V.dtype
    W = W.astype(dtype, copy=False)
    gram = (W.T @ W).sum(axis=1)
    gram[gram <= 0] = 1
    H0 = np.maximum(W.T @ V, 0) / gram[:, None].astype(dtype)
    if delta > 0:
        W = np.hstack([W, np.full((W.shape[0], 1), delta, dtype=dtype)])
        H0 = np.vstack([H0, np.ones((1, V.shape[1]), dtype=dtype)])
        V = V + dtype.type(delta)
    if beta_from_name(beta) == 2:
        H = np.ascontiguousarray(H0)
        _hals_columns(H, W.T @ V, W.T @ W, k, n_iter)
        return H[:k]
    fix_H = [k] if delta > 0 else False
    # Only H is kept, so the loss is computed at the start and the end alone (H is
    # bit-identical either way: see factorize's loss_every).
    result = factorize(V, W.shape[1], beta=beta, solver="mu", W=W, H=H0, fix_W=True, fix_H=fix_H,
                       max_iter=n_iter, tol=0, eps=eps, loss_every=max(1, n_iter))
    return np.asarray(result.H)[:k]


def _hals_columns(H: np.ndarray, WtV: np.ndarray, WtW: np.ndarray, k: int, n_sweeps: int) -> None:
    """``n_sweeps`` HALS sweeps over the first ``k`` rows of H (k', n_columns), in place,
    for ½‖V − WH‖² with W fixed (given through WᵀV and WᵀW).  Each column's update reads
    that column only; the sweeps stop early only when a sweep changes nothing (a fixed
    point, so the result is the same as running on)."""
    from nmfaudio.nmf import kernels

    rows = np.arange(k)
    if kernels.HAVE_NUMBA:
        kernels.hals_sweeps(H, WtV, WtW, rows, 0.0, 0.0, n_sweeps, 0.0)
        return
    for _ in range(n_sweeps):  # pragma: no cover - numba comes with librosa
        for j in rows:
            if WtW[j, j] > 0:
                H[j] = np.maximum(H[j] - (WtW[j] @ H - WtV[j]) / WtW[j, j], 0)


def _masked_tracks(X: np.ndarray, W: np.ndarray, H: np.ndarray, out: np.ndarray, *, offset: int, settings) -> None:
    """One channel's tracks into ``out`` (k, n_out): the masks of W (n_freq, k) and H
    (k, n_frames) applied to the block's frames X (n_freq, n_frames) and inverted, a
    chunk of frames at a time (as in memory: the k masks and masked spectrograms of the
    whole block are never held), keeping the samples from ``offset`` of the frames'
    signal on."""

    def masked_frames(t0, t1):
        return masks.masks(W, H[:, t0:t1], power=settings.mask_power) * X[:, t0:t1]

    spectrum.istft_from_frames(masked_frames, out, n_frames=X.shape[-1], n_fft=settings.n_fft,
                               hop_length=settings.hop_length, offset=offset)


@dataclass
class _Outcome:
    """What :func:`_run` learned; the tracks went to the sink."""

    W: np.ndarray  # (n_freq, k)
    H: np.ndarray  # (k, n_channels, n_frames), at the input's level
    fit: object  # the learning fit (nmfaudio.fitting.Fit)
    scale: float  # the level factor the audio was multiplied by
    stride: int  # every stride-th frame was learned on
    blocks: int
    magnitude: np.ndarray  # decimated mixture spectrogram for figures


def _run(source, sink, settings, *, block_seconds: float, learn_frames: int, sr: int, stacklevel: int,
         on_block=None) -> _Outcome:
    """The three passes (level, learn, separate); the tracks go to ``sink()`` (a factory,
    called once the templates are learned)."""
    n_fft, hop = settings.n_fft, settings.hop_length
    block = max(1, round(block_seconds * sr))
    layout = _Layout(source.n_samples, n_fft, hop, block)
    n_frames, n_channels, k = layout.n_frames, source.n_channels, settings.k

    scale = level_scale(_level_pass(source, layout))
    stride = max(1, -(-(n_channels * n_frames) // learn_frames))
    V_learn, mean, largest, magnitude = _learn_pass(source, layout, stride, scale)
    W, H_learn, fit = settings.fit(V_learn, mean=mean, scale=scale, stacklevel=stacklevel)
    del V_learn, H_learn
    delta = settings.floor * mean if not settings.is_transformer else 0.0
    eps = max(FLOOR_RELATIVE * (largest + delta), float(np.finfo(W.dtype).tiny))

    H = np.zeros((k, n_channels, n_frames), dtype=W.dtype)
    sink = sink()
    blocks = layout.blocks()
    for index, (start, stop) in enumerate(blocks):
        t0, t1 = layout.frames_touching(start, stop)
        X, first_sample = _stft_frames(source, layout, t0, t1, scale)
        V = np.abs(X)
        V = V[0] if n_channels == 1 else np.concatenate(list(V), axis=1)
        H_block = _activations(V, W, beta=settings.beta, delta=delta, eps=eps, n_iter=settings.max_iter)
        H_block = H_block.reshape(k, n_channels, t1 - t0)
        own0, own1 = layout.frames_owned(start, stop)
        H[:, :, own0:own1] = H_block[:, :, own0 - t0:own1 - t0]
        tracks = np.empty((k, n_channels, stop - start), dtype=source.dtype)
        out = np.empty((k, stop - start), dtype=source.dtype)
        for c in range(n_channels):
            _masked_tracks(X[c], W, H_block[:, c], out, offset=start - first_sample, settings=settings)
            tracks[:, c] = out
        if scale != 1:
            tracks = scaled(tracks, 1 / scale)
        sink.write(start, tracks)
        if on_block is not None:
            on_block(index + 1, len(blocks))
    return _Outcome(W, unscale_activations(H, scale), fit, scale, stride, len(blocks), magnitude)


def separate_in_blocks(y, sr, settings: Settings, *, block_seconds, learn_frames) -> dict:
    """``separate(..., block_seconds=...)``: the block-wise computation with the tracks
    collected in memory; returns the fields of a :class:`nmfaudio.Separation`
    (``components``, ``W``, ``H``, ``sr``, ``name`` and the settings' and fit's)."""
    block_seconds = _check_block_seconds(BLOCK_SECONDS if block_seconds is None else block_seconds)
    learn_frames = _check_learn_frames(learn_frames, settings.k)
    name, shown = "mixture", None  # shown: the file's name in messages (None: an array)
    if isinstance(y, (str, os.PathLike)):
        path = audio.check_path(y)
        name, shown = path.stem or name, path.name
        source = audio.FileReader(path)
        if sr is not None and audio.check_sr(sr) != source.sr:
            source.close()
            raise ValueError(f"sr={sr} differs from the file's {source.sr} Hz; block-wise separation does not "
                             "resample — resample the file first, or leave sr=None")
        sr = source.sr
    else:
        source = audio.ArrayReader(audio.check_audio(audio.check_float_samples(y)))
        if sr is None:
            raise ValueError("sr=None: block_seconds needs the sampling rate of an array (pass sr=..., e.g. 44100)")
        sr = audio.check_sr(sr)
    try:
        check_block_length(block_seconds, settings.hop_length, sr)
        settings.check_size(source.n_samples, source.n_channels, sr, shown)
    except ValueError:
        source.close()
        raise
    sink = _ArraySink(settings.k, source)
    try:
        run = _run(source, lambda: sink, settings, block_seconds=block_seconds, learn_frames=learn_frames, sr=sr,
                   stacklevel=5)
    finally:
        source.close()
    return dict(components=sink.result(), W=run.W, H=run.H[:, 0] if source.mono else run.H, sr=sr, name=name,
                **settings.result_fields(run.fit, run.scale))


def separate_file(
    path,
    directory,
    *,
    n_components,
    block_seconds: float = BLOCK_SECONDS,
    learn_frames: int = LEARN_FRAMES,
    overwrite: bool = False,
    name: str | None = None,
    on_block=None,
    extra_outputs=(),
    **kwargs,
) -> BlockSeparation:
    """Separate an audio file block by block into ``directory``, with memory independent
    of its duration.

    Parameters
    ----------
    path : str or os.PathLike
        Any file libsndfile reads (it is read in blocks, never whole; no resampling).
    directory : str or os.PathLike
        Created if missing.  Files ``<name>_component_01.wav`` … (32-bit float WAV, the
        input's rate and channel count), written block by block to hidden temporary files
        renamed at the end: a failed or interrupted run leaves no partial files.
    n_components : int
    block_seconds : float > 0, default 30
        Output samples per block.  Memory grows with it (and with n_fft, k, channels),
        not with the file's duration.
    learn_frames : int >= 1, default 20000
        Most spectrogram columns (frames × channels) used to learn the templates; more
        frames are subsampled evenly (every s-th frame).
    overwrite : bool, default False
        Without it an existing output raises FileExistsError before any work.
    name : str, optional
        File stem, default the input's stem.
    on_block : callable(done, total), optional
        Progress of the separation pass.
    extra_outputs : sequence of (path, write(result, temporary_path)), optional
        More files written in the same all-or-nothing step (the CLI's figure).
    **kwargs
        The other parameters of :func:`nmfaudio.separate` (``beta``, ``n_fft``,
        ``hop_length``, ``mask_power``, ``solver``, ``max_iter``, ``tol``, ``W``,
        ``fix_W``, ``noise_floor``, ``random_state``, ``callback`` for the learning fit,
        ``engine`` for the learning fit).

    Returns
    -------
    BlockSeparation

    Raises
    ------
    ValueError
        Among others: ``directory`` does not exist and is named like a file
        (``"out.wav"``: it made a folder ``out.wav``), as ``result.save()`` refuses it.
    """
    # separate_file(path, "out.wav") made a folder out.wav (polish16); the batch's sub-folders,
    # named after the input's folders, go through separate_into unchecked, as the CLI's do
    audio.check_folder_name(directory, "separate_file() writes one file per component")
    return separate_into(path, directory, n_components=n_components, block_seconds=block_seconds,
                          learn_frames=learn_frames, overwrite=overwrite, name=name, on_block=on_block,
                          extra_outputs=extra_outputs, **kwargs)


def separate_into(path, directory, *, n_components, block_seconds: float = BLOCK_SECONDS,
                   learn_frames: int = LEARN_FRAMES, overwrite: bool = False, name: str | None = None,
                   on_block=None, extra_outputs=(), **kwargs) -> BlockSeparation:
    """:func:`separate_file` without its check of ``directory``'s name (the batch's
    sub-folders are named after the input's folders, whatever their names)."""
    unknown = sorted(set(kwargs) - set(Settings.options()))
    if unknown:
        raise TypeError(f"separate_file() got unexpected keyword argument(s) {', '.join(unknown)}")
    settings = Settings.check(n_components=n_components, **kwargs)  # separate()'s defaults
    block_seconds = _check_block_seconds(block_seconds)
    learn_frames = _check_learn_frames(learn_frames, settings.k)
    path = audio.check_path(path)
    directory = audio.without_detours(audio.check_path(directory))  # 'a/sub/..': a/sub not made (mend60)
    stem = (path.stem or "input") if name is None else str(name)
    paths = [directory / file_name for file_name in component_file_names(stem, settings.k)]
    extra = list(extra_outputs)
    outputs = paths + [Path(p) for p, _ in extra]
    audio.check_not_folders(outputs)
    if not overwrite:
        audio.check_new_outputs(outputs)
    audio.check_not_inputs(outputs, [path])  # never write over the input, even with overwrite
    source = audio.FileReader(path)
    count = source.n_samples * source.n_channels
    try:
        check_block_length(block_seconds, settings.hop_length, source.sr)  # before the folder is made
        settings.check_size(source.n_samples, source.n_channels, source.sr, path.name)
        need = audio.audio_bytes(source.n_samples, source.n_channels, settings.k)
        # a failed run removes the folder it made, when empty (mend60)
        with audio.made_folder(directory), \
                audio.atomic_outputs(outputs, overwrite=overwrite, need_bytes=need) as temporaries:
            sinks = []

            def sink_factory():
                sinks.append(audio.WavWriters(temporaries[:settings.k], source.sr, source.n_channels))
                return sinks[-1]

            try:
                run = _run(source, sink_factory, settings, block_seconds=block_seconds, learn_frames=learn_frames,
                           sr=source.sr, stacklevel=5, on_block=on_block)
            finally:
                for sink in sinks:
                    sink.close()
            result = BlockSeparation(
                paths=paths, W=run.W, H=run.H[:, 0] if source.mono else run.H, sr=source.sr, name=stem,
                n_samples=source.n_samples, n_channels=source.n_channels, learn_stride=run.stride,
                blocks=run.blocks, magnitude=run.magnitude, rms=np.sqrt(sinks[0].sum_squares / count),
                **settings.result_fields(run.fit, run.scale))
            for (_, write), temporary in zip(extra, temporaries[settings.k:]):
                write(result, temporary)
    finally:
        source.close()
    return result
