"""Sound separation end to end: STFT → NMF → masks → inverse STFT.

:func:`separate` turns a recording into one track per NMF component.  The magnitude
spectrogram ``V = |X|`` is factorized as ``V ≈ W H``; each component's share of the model
becomes a soft mask (:mod:`nmfaudio.masks`), the mask is applied to the complex STFT of
the mixture (so the mixture's phase is kept) and the inverse STFT gives the track.  The
masks sum to one in every bin, so the tracks add back up to the mixture.

The settings, the fit and the level scaling are shared with the block-wise mode and live
in :mod:`nmfaudio.fitting`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

import os
import warnings

from nmfaudio import audio, blockwise, budget, masks, spectrum
from nmfaudio.fitting import (
    LEVEL_RANGE,
    NOISE_FLOOR,
    WARM_START_ITER,
    SeparationBase,
    Settings,
    component_file_names,
    level_scale,
    planned_iterations,
    scaled,
    unscale_activations,
)

__all__ = ["separate", "Separation", "NOISE_FLOOR", "WARM_START_ITER", "LEVEL_RANGE", "planned_iterations",
           "level_scale"]


@dataclass(kw_only=True, repr=False)  # SeparationBase's one-line repr, not every array
class Separation(SeparationBase):
    """The result of :func:`separate`: the fields of
    :class:`nmfaudio.fitting.SeparationBase` (``W``, ``H``, ``loss``, ``sr``, ``n_iter``,
    ``converged``, ``beta``, ``mask_power``, ``n_fft``, ``hop_length``, ``name``,
    ``noise_floor``, ``engine_result``) and the tracks.

    Attributes
    ----------
    components : ndarray, shape (k, n_samples) for mono input, (k, n_channels, n_samples) otherwise
        One track per component, ordered from low to high spectral centroid; same length,
        channel count and dtype as the input; ``components.sum(axis=0)`` is the mixture.
    W : ndarray, shape (n_freq, k)
        Spectral templates (columns, same order as ``components``).
    H : ndarray, shape (k, n_frames) for mono input, (k, n_channels, n_frames) otherwise
        Activations, one row per channel sharing ``W`` (float64 for float32 audio so loud
        — peak near 1e38 — that H overflows float32).
    loss : ndarray, shape (n_iter + 1,)
        For β < 1: of the floored fit after the warm start (see :func:`separate`).
    sr : int or None
        None when an array was given without ``sr``.
    name : str
        The input file's stem, or ``"mixture"`` for arrays.
    """

    components: np.ndarray
    #: Why the block-wise mode was chosen by itself (the estimate and the budget), or
    #: None when the separation ran as asked.
    blockwise_reason: str | None = None

    @property
    def masks(self) -> np.ndarray:
        """The masks applied to the mixture's STFT, computed on demand.

        Returns
        -------
        ndarray, shape (k, n_freq, n_frames) for mono, (k, n_channels, n_freq, n_frames) otherwise
        """
        if self.H.ndim == 2:
            return masks.masks(self.W, self.H, power=self.mask_power)
        return np.stack([masks.masks(self.W, self.H[:, c], power=self.mask_power)
                         for c in range(self.H.shape[1])], axis=1)

    def file_names(self, name: str | None = None) -> list[str]:
        """``<name>_component_01.wav`` … for every component (two digits, more if k ≥ 100)."""
        return component_file_names(self.name if name is None else name, self.n_components)

    def save(self, directory, *, overwrite: bool = False, name: str | None = None) -> list[Path]:
        """Write one WAV per component into ``directory`` (created if missing).

        Files are named ``<name>_component_01.wav``, ``..._02.wav``, …, 32-bit float
        WAV at ``sr`` with the input's channel count.  All files are written to temporary
        names first and renamed only when every one succeeded; without ``overwrite`` an
        existing file raises FileExistsError before anything is written, and a file that
        is the input (:attr:`source`) raises ValueError even with ``overwrite``.

        Parameters
        ----------
        directory : str or os.PathLike
        overwrite : bool, default False
        name : str, optional
            File stem; default ``self.name`` (the input file's stem, or "mixture").

        Returns
        -------
        list of pathlib.Path, one per component, in component order
        """
        if self.sr is None:
            raise ValueError("sr is unknown: pass sr= to separate() when giving an array, then save")
        return audio.save_tracks(directory, self.file_names(name), self.components, self.sr,
                                 overwrite=overwrite, inputs=[self.source])




def separate(
    y,
    sr=None,
    *,
    n_components,
    beta="frobenius",
    n_fft: int = spectrum.N_FFT,
    hop_length: int = spectrum.HOP_LENGTH,
    mask_power=1.0,
    solver: str = "auto",
    max_iter: int = 200,
    tol: float = 1e-4,
    W=None,
    fix_W=False,
    noise_floor="auto",
    random_state=None,
    callback=None,
    engine=None,
    block_seconds=None,
    learn_frames=None,
    max_memory=budget.DEFAULT_MAX_MEMORY,
) -> Separation:
    """Separate a recording into ``n_components`` tracks with NMF.

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_channels, n_samples), or str / os.PathLike
        The mixture (float samples in [-1, 1]), or an audio file to :func:`nmfaudio.load`.
    sr : int, optional
        Sampling rate of ``y`` when it is an array (needed only to save).  For a file:
        resample to this rate (default: keep the file's).
    n_components : int
        Number of components (tracks) k: at most the spectrogram's columns (frames ×
        channels) or frequency bins, whichever is fewer (2 at least), as on the command
        line (:func:`nmfaudio.fitting.check_component_limit`), unless ``W`` is given.
    beta : {"frobenius", "kullback-leibler", "itakura-saito"} or float, default "frobenius"
    n_fft, hop_length : int, default 2048, 512
        STFT frame length and hop (Hann window, centred frames).
    mask_power : float > 0 or "binary", default 1.0
        1: ratio masks, 2: Wiener-like masks, "binary": each bin to its loudest component.
    solver, max_iter, tol, random_state :
        Passed to the engine (see :func:`nmfaudio.factorize`).
    W : ndarray, shape (1 + n_fft // 2, n_components), optional
        Starting (or, with ``fix_W``, fixed) spectral templates, e.g. learned drum sounds.
    fix_W : bool, sequence of int or boolean mask, default False
        Templates kept exactly as given.
    noise_floor : "auto" or float >= 0, default "auto"
        For β < 1 the fit models a noise floor: ``V + δ ≈ W H + δ`` with
        ``δ = noise_floor · mean(V)``, after a short Frobenius warm start
        (``WARM_START_ITER`` iterations).  "auto" means ``NOISE_FLOOR`` (0.1) for β < 1
        and 0 (off) otherwise.  Without it, Itakura-Saito — blind to scale — spends
        components on silence and the noise floor.
    callback : callable(iteration, loss) -> bool or None, optional
        Progress: called after every engine iteration (numbered continuously across the
        warm start); returning True stops the fit early.
    engine : callable or scikit-learn-style transformer, optional
        Default :func:`nmfaudio.factorize`.  Any callable with its signature, or an
        object with ``fit_transform`` and ``components_`` such as
        ``sklearn.decomposition.NMF(n_components=k)`` (fitted on ``V.T``, like
        ``librosa.decompose.decompose``; then ``W``, ``fix_W`` and ``callback`` are not
        available and the transformer's own settings apply).
    block_seconds : float > 0, optional
        Block-wise mode for long recordings (see :mod:`nmfaudio.blockwise`): templates
        learned on a subsample of the frames, then activations, masks and the inverse
        STFT computed block by block, exact at the seams.  The STFT, masks and engine
        work on one block at a time; the returned components still hold the whole
        recording (use :func:`nmfaudio.blockwise.separate_file` to write them to disk
        with memory independent of the duration).  Default: everything in memory.
    learn_frames : int, optional
        Block-wise mode: most spectrogram columns (frames × channels) the templates are
        learned on (default :data:`nmfaudio.blockwise.LEARN_FRAMES`).
    max_memory : int (bytes), str such as "4G" / "512M", or None, default 4 GiB
        Memory budget (:data:`nmfaudio.budget.DEFAULT_MAX_MEMORY`).  When the separation
        in memory would need more (estimated from the input's length, channels and the
        settings, before anything large is allocated), it runs block-wise by itself
        (blocks of :data:`nmfaudio.blockwise.BLOCK_SECONDS` seconds), warns once, and
        says why in ``result.blockwise_reason``.  None: always in memory.  Unused with
        ``block_seconds``.

    Returns
    -------
    Separation
        ``components`` (k, n_samples) or (k, n_channels, n_samples), ordered by spectral
        centroid (low to high); ``W``, ``H``, ``loss``, ``sr``; ``.save(directory)``.

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        Missing or unreadable file, empty or non-finite audio, bad parameters, more
        components than the spectrogram holds.

    Notes
    -----
    Audio whose peak level lies outside :data:`LEVEL_RANGE` is scaled by a power of two
    before the factorization and scaled back afterwards (see :func:`level_scale`), so
    very quiet and absurdly loud float files separate as well as normal ones.

    Multichannel audio is factorized once for all channels: the channels' magnitude
    spectrograms are concatenated along time, ``[|X_1| |X_2| …] ≈ W [H_1 H_2 …]``, so a
    component has one spectral template (the same sound in every channel) and its own
    activation per channel; the masks are then computed and applied per channel, which
    keeps each source's stereo position.  On panned two-tone mixtures this beats
    factorizing the channel-averaged magnitude (one mask shared by all channels); the
    numbers are in docs/separate.md.
    """
    settings = Settings.check(
        n_components=n_components, beta=beta, n_fft=n_fft, hop_length=hop_length, mask_power=mask_power,
        solver=solver, max_iter=max_iter, tol=tol, W=W, fix_W=fix_W, noise_floor=noise_floor,
        random_state=random_state, callback=callback, engine=engine)
    if learn_frames is not None and block_seconds is None:
        raise ValueError(f"learn_frames={learn_frames!r} needs block_seconds (the block-wise mode); "
                         "pass block_seconds=30, say, or drop learn_frames")
    max_memory = budget.check_max_memory(max_memory)
    reason = None if block_seconds is not None else _over_budget(y, sr, settings, max_memory)
    if reason is not None:
        block_seconds = blockwise.BLOCK_SECONDS
        warnings.warn(f"separate(): block-wise, {block_seconds:g} s blocks: {reason} (pass block_seconds= to "
                      "choose the blocks, or a larger max_memory)", UserWarning, stacklevel=2)
    source = audio.source_path(y)
    if block_seconds is not None:
        return Separation(**blockwise.separate_in_blocks(y, sr, settings, block_seconds=block_seconds,
                                                         learn_frames=learn_frames), blockwise_reason=reason,
                          source=source)
    y, sr, name = audio.input_signal(y, sr)
    k, n_fft, hop_length, mask_power = settings.k, settings.n_fft, settings.hop_length, settings.mask_power

    channels = y[None] if y.ndim == 1 else y  # (n_channels, n_samples), a view
    n_channels, n_samples = channels.shape
    settings.check_size(n_samples, n_channels, sr, None if source is None else source.name)
    n_frames = spectrum.n_frames(n_samples, hop_length=hop_length, n_fft=n_fft)
    scale = level_scale(max(float(y.max()), -float(y.min())))  # the peak, without an |y| copy
    V = _magnitudes(channels, n_frames, scale=scale, n_fft=n_fft, hop_length=hop_length)
    W_out, H_out, fit = settings.fit(V, scale=scale)
    del V

    H_out = H_out.reshape(k, n_channels, n_frames)
    components = np.empty((k, n_channels, n_samples), dtype=y.dtype)
    for c in range(n_channels):
        _masked_tracks(channels[c], W_out, H_out[:, c], components[:, c], scale=scale, mask_power=mask_power,
                       n_fft=n_fft, hop_length=hop_length)
    if y.ndim == 1:
        components, H_out = components[:, 0], H_out[:, 0]
    if scale != 1:  # back to the input's level: V was scale·V, so H scales back
        components = scaled(components, 1 / scale)
        H_out = unscale_activations(H_out, scale)
    return Separation(components=components, W=W_out, H=H_out, sr=sr, name=name, source=source,
                      **settings.result_fields(fit, scale))


# Memory: the complex STFT of the whole recording (twice the size of its magnitudes) is
# never held.  The magnitudes are made a stretch of frames at a time from the samples,
# and after the fit the STFT is made again, chunk by chunk, to be masked and inverted:
# what is held is the input, V (n_freq × n_channels·n_frames) during the fit, and the
# tracks — the measurements are in docs/separate.md.

#: Frames of STFT made at a time for the magnitudes.
_FRAMES_PER_CHUNK = 2048


def _magnitudes(channels: np.ndarray, n_frames: int, *, scale: float, n_fft: int, hop_length: int) -> np.ndarray:
    """V = [|X_1| |X_2| …] (n_freq, n_channels · n_frames) of ``channels`` (n_channels,
    n_samples) multiplied by ``scale``, float32 for float32 audio."""
    n_channels = channels.shape[0]
    real = np.float32 if channels.dtype == np.float32 else np.float64
    V = np.empty((1 + n_fft // 2, n_channels * n_frames), dtype=real)
    for c in range(n_channels):
        for t0 in range(0, n_frames, _FRAMES_PER_CHUNK):
            t1 = min(t0 + _FRAMES_PER_CHUNK, n_frames)
            X = spectrum.stft_frames(channels[c], t0, t1, n_fft=n_fft, hop_length=hop_length, scale=scale)
            np.abs(X, out=V[:, c * n_frames + t0:c * n_frames + t1])
    return V


def _masked_tracks(channel: np.ndarray, W: np.ndarray, H: np.ndarray, out: np.ndarray, *, scale: float,
                   mask_power, n_fft: int, hop_length: int) -> None:
    """One channel's tracks into ``out`` (k, n_samples): the masks of W (n_freq, k) and H
    (k, n_frames) applied to the channel's STFT and inverted, a chunk of frames at a time
    (neither the k masks nor the k masked spectrograms are ever held whole)."""

    def masked_frames(t0, t1):
        X = spectrum.stft_frames(channel, t0, t1, n_fft=n_fft, hop_length=hop_length, scale=scale)
        M = masks.masks(W, H[:, t0:t1], power=mask_power)
        return M * X

    spectrum.istft_from_frames(masked_frames, out, n_frames=H.shape[1], n_fft=n_fft, hop_length=hop_length)


def _over_budget(y, sr, settings: Settings, max_memory) -> str | None:
    """Why ``y`` (an array or a file) should be separated block-wise under ``max_memory``
    (bytes or None), or None.  A file is sized from its header, without reading it; a
    file to resample (``sr`` differs from its rate) stays in memory, since the block-wise
    mode does not resample."""
    if max_memory is None:
        return None
    if isinstance(y, (str, os.PathLike)):
        try:
            info = audio.audio_info(audio.check_path(y))
        except (OSError, ValueError):
            return None  # the in-memory path reports the problem
        if sr is not None and sr != info.samplerate:
            return None
        n_samples, n_channels, itemsize = int(info.frames), int(info.channels), 4
    else:
        try:
            shape = np.shape(y)
        except ValueError:  # ragged, or a (samples, sr) pair: check_audio names it
            return None
        if len(shape) not in (1, 2) or sr is None:
            return None  # check_audio reports the shape; without sr there are no seconds to block by
        n_samples, n_channels = shape[-1], (1 if len(shape) == 1 else shape[0])
        itemsize = 8 if getattr(y, "dtype", None) == np.float64 else 4
    estimate = budget.separate_bytes(n_samples, n_channels, k=settings.k, n_fft=settings.n_fft,
                                     hop_length=settings.hop_length, beta=settings.beta_value, itemsize=itemsize,
                                     transformer=settings.is_transformer, noise_floor=settings.floor > 0)
    reason = budget.over_budget(estimate, max_memory)
    tracks = settings.k * n_samples * n_channels * itemsize
    if reason is not None and tracks > max_memory:  # the result's arrays alone: only writing them as they come helps
        reason += (f"; the {settings.k} tracks returned alone take {budget.format_bytes(tracks)}: "
                   "nmfaudio.blockwise.separate_file writes them to disk block by block instead")
    return reason
