"""Drum separation: kick, snare, toms, hi-hat and cymbal stems (and a residual) from one
recording.

Method (chosen by measurement: ``benchmarks/drums.py`` on recorded kits the templates
never saw; the five-stem choices in docs/drums-five-stems.md):

1. **Templates** (:class:`DrumTemplates`): convolutive templates, short magnitude
   spectrograms averaged over one-shot samples.  The bundled default (learned from five
   acoustic kits of the FluidR3 GM SoundFont) has several *parts* per class — kick,
   snare, low/mid/high tom, closed and open hi-hat, crash and ride, four percussion
   groups ("other") — 8 frames ≈ 0.19 s, the cymbals and toms 24 frames ≈ 0.56 s (a
   cymbal rings, a tom's fundamental too).
   A stem is the sum of its class's parts; percussion and classes not asked for go to
   the residual, but every class is always modelled (so a tom is not pushed into the
   kick when only kick and snare are asked for).
2. **Semi-supervised NMFD** (non-negative matrix factor deconvolution, Smaragdis 2004,
   the engine's :func:`nmfaudio.nmf.factorize_convolutive`): ``V ≈ Σ_k Σ_τ P[:, k, τ]
   H[k, t − τ]`` under the Kullback-Leibler divergence.  The templates start from the
   one-shot templates and *adapt* to the recording, within two limits that keep each
   one the same drum:

   * *support*: template entries more than ``support_db`` (50 dB) below the template's
     peak start at zero, and multiplicative updates keep zeros at zero;
   * *gain cap*, per template (:mod:`nmfaudio.drums.stems`): kick, snare and closed
     hi-hat entries may grow 20 dB (``max_gain_db``) above their start, cymbals 10 dB,
     toms and the open hi-hat 3 dB (toms 10 dB below 120 Hz in drum recordings, not in
     song mode: a kit's tom fundamentals differ from the bundled ones), percussion 0 dB
     — rarely-playing templates with the kick's freedom drift toward the drums that play
     all the time.

   The first fifth of the iterations keep every template fixed (only the activations
   move; :data:`nmfaudio.drums.stems.FIXED_FIRST_SHARE`), so each drum's hits are found
   by its one-shot template before the templates adapt (in drum recordings, with a user's
   own kick and snare templates, the bundled ones play beside them in those iterations
   and hand their hits over: :data:`nmfaudio.drums.stems.GUIDE_LABELS`).  In drum recordings (not in
   song mode) the toms are tested after four fifths of the iterations
   (:data:`nmfaudio.drums.stems.PRESENCE`, :func:`nmfaudio.drums.model.dominance`):
   toms that never explain their own band get zero activations for the rest, so a
   groove without toms does not lend its snare and kick to them (their stem is silent;
   ``presence_test=False`` keeps them modelled, for a fill of one or two quiet toms).
   Toms judged absent whose fill the kick part holds (toms tuned below the kick) still
   reach the toms stem through the masks (:mod:`nmfaudio.drums.lone_toms`).
3. **Speed**: the fit runs on a compressed frequency axis (single bins up to bin 24,
   then 1/12-octave bands: 90 bands instead of 1025 at n_fft 2048); the full-resolution
   templates are the starting templates reshaped by the fitted band envelopes.
4. **Residual** (``n_free``, default 1): after the drum fit, free NMF components are
   fitted to what the drums leave unexplained, then refined against the spectrogram with
   the drum model frozen; their share joins the residual (other instruments) -- in a
   song, one that looks like a drum the templates missed goes to the toms stem, one
   lying almost all above 8 kHz to the cymbals stem (:mod:`nmfaudio.drums.free_drum`).
5. **Full songs** (``accompaniment``, :mod:`nmfaudio.drums.accompaniment`): the
   sustained part of the spectrogram (a running median over time) is kept out of the
   drum fit and added to the residual's model, which then holds the accompaniment.
6. **Masks**: each output's modelled spectrogram ``S_d`` (the sum of its templates')
   gives the soft mask ``S_d^p / Σ_j S_j^p`` (``mask_power`` p = 1.5 by default),
   applied to the mixture's complex STFT, so the outputs add up to the mixture.  In drum
   recordings the hi-hat's model below 300 Hz counts for the residual
   (:data:`nmfaudio.drums.stems.LOW_CUT_HZ`: there it is snare bodies and congas), below
   1 kHz where that band would be most of the hat stem (:mod:`nmfaudio.drums.hat_lows`); in
   songs its model below 1 kHz leaves the masks, shared by the other outputs' models
   (:data:`nmfaudio.drums.stems.SONG_LOW_CUT_HZ`).

Multichannel audio: one set of templates for all channels, fitted once to the channels'
summed magnitude; each drum's (and free component's) level per channel then comes from
:func:`nmfaudio.drums.model.channel_gains`, so a panned drum keeps its pan; masks are applied
per channel.  (``model.FIT_CHANNEL_SUM = False`` fits one activation row per drum and
channel instead.)

The result, :class:`~nmfaudio.drums.separation_result.DrumSeparation` (the stems, and the
hits picked from them), has a module of its own.
"""

from __future__ import annotations

import copy
import dataclasses
import numbers
import os
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from nmfaudio import audio, masks, spectrum
from nmfaudio.budget import DEFAULT_MAX_MEMORY, check_max_memory
from nmfaudio.drums.blockwise import BLOCK_SECONDS, separate_in_blocks, separate_in_blocks_if_needed
from nmfaudio.drums import bass_lines, track_reads
from nmfaudio.drums.bandwidth import band_beyond_templates_hz, band_limit_hz, rate_for_band
from nmfaudio.drums.cymbal_ring import cymbal_ring, ring_share
from nmfaudio.drums.tom_ring import held_notes, tom_ring
from nmfaudio.drums.hit_valley import valley_capped
from nmfaudio.drums.drum_median import MEDIAN_CLASSES, MEDIAN_SHARE, MIN_SHARE, without_drum_median
from nmfaudio.drums.accompaniment import (ATTACK_CLASSES, CLEAN_HZ, DECIMATION, FLOOR_CLASSES, NOTE_AHEAD_SECONDS,
                                           NOTE_HZ, NOTE_SECONDS, TAIL_CLASSES, TAIL_FLOOR_RATIO, TAIL_FRAMES, TAIL_RATIO,
                                           accompaniment_mode, attack_gains, decision_share, energy_share,
                                           high_band_factors, hit_share, hit_weights, kick_hit_frames, mask_weight,
                                           median_frames, note_onsets_sustained, reattack_part, reattack_share,
                                           SpreadSustained, sustain_seconds, sustained_part, tonal_share,
                                           use_accompaniment)
from nmfaudio.drums import model as drum_model
from nmfaudio.drums.model import _band_edges, _fit, channel_gains
from nmfaudio._validation import as_generator, check_engine, check_int, least_seconds
from nmfaudio.drums.free_drum import drum_like_free, follows_cymbals, high_free
from nmfaudio.drums.hat_ceiling import hat_ceilings
from nmfaudio.drums.hat_lows import hat_cut
from nmfaudio.drums.hat_presence import hats_absent, hats_at_snare
from nmfaudio.drums.stems import (ANCHOR, GUIDE_LABELS, LOW_ADAPT, LOW_CUT_HZ, PRESENCE, RESIDUAL_CLASSES,
                                  SONG_ELECTRONIC_SNARE, SONG_LOW_CUT_HZ, SONG_SNARE_BODY_HZ,
                                  adapt_limits_db, low_cut_parts, presence_mode, stem_index)
from nmfaudio.drums.kick_decay import GLIDE_HZ, KICK_DECAY_SLOWER, kick_decay, per_reference_hop
from nmfaudio.drums import kick_gate
from nmfaudio.drums import song_ride
from nmfaudio.drums import hat_presence
from nmfaudio.drums.templates import (CLASSES, KNOWN_CLASSES, MAX_TEMPLATE_SECONDS, RESIDUAL, DrumTemplates, _check_classes,
                                      _resolve_templates, class_of, continue_decay, default_templates, electronic_snare, floor_decay,
                                      trim_support)
from nmfaudio.drums.resynthesis import masked_stems
from nmfaudio.drums.snare_wires import snare_excess_parts
from nmfaudio.drums.kick_toms import kick_toms_parts, rerouted_activations
from nmfaudio.drums.lone_toms import lone_toms_parts
from nmfaudio.drums import tom_leak
from nmfaudio.drums.ride import move_strokes, ride_mode, ride_part_strokes, split_strokes
from nmfaudio.drums.separation_result import DrumSeparation
from nmfaudio.nmf import convolutive_components, convolutive_factors, convolutive_model
from nmfaudio.nmf.kernels import run_in_threads

__all__ = ["DrumSeparation", "separate_drums"]


def _check_block_length(block_seconds: float, n_frames: int, hop_length: int, sr: int) -> None:
    """Refuse blocks shorter than the drum templates (``n_frames`` hops: 0.558 s for the
    bundled cymbals' 24 frames at 22.05 and 44.1 kHz with the default STFT).  Each block is separated alone,
    so a block shorter than a template cuts every hit's template at the seam, the rest of
    the hit landing in a block that never sees its onset: ``--block-seconds 0.001`` ran 376
    one-hop blocks on the 8.7-s loop and lost 3 of its 15 snare hits (0.2 s: 3 false
    cymbal hits; from the templates' length up, the loop keeps its hits within one).

    Raises
    ------
    ValueError
        Naming the least value allowed.
    """
    if block_seconds * sr < n_frames * hop_length:
        least = least_seconds(n_frames * hop_length, sr)
        raise ValueError(f"block_seconds={block_seconds!r} is shorter than the drum templates ({n_frames} frames of "
                         f"hop {hop_length}: {least:g} s at {sr} Hz), which every block must hold; use "
                         f"block_seconds={least:g} or more (30 by default)")


def _check_number(value, name, *, low=None, high=None, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name}={value!r} must be a finite number")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f">= {low}" if high is None else (f"<= {high}" if low is None else f"in [{low}, {high}]")
        raise ValueError(f"{name}={value!r} must be {bounds}")
    return float(value)


def _check_beta(beta) -> float:
    from nmfaudio.nmf.divergence import beta_from_name

    value = beta_from_name(beta)
    if not 0 <= value <= 2:
        raise ValueError(f"beta={beta!r} must be between 0 (Itakura-Saito) and 2 (Frobenius) for drum separation; "
                         "the default 'kullback-leibler' (1) works best")
    return value


def separate_drums(
    y,
    sr=None,
    *,
    templates=None,
    classes=CLASSES,
    beta="kullback-leibler",
    n_fft: int | None = None,
    hop_length: int | None = None,
    mask_power: float = 1.5,
    max_iter: int = 50,
    adapt: bool = True,
    support_db: float | None = -50.0,
    max_gain_db: float | None = 20.0,
    n_free: int = 1,
    bands: bool = True,
    accompaniment="auto",
    presence_test=True,
    ride="auto",
    random_state=None,
    callback=None,
    engine=None,
    block_seconds=None,
    max_memory=DEFAULT_MAX_MEMORY,
    stream_to=None,
) -> DrumSeparation:
    """Separate a drum recording into kick, snare, toms, hi-hat, cymbals (and a residual).

    Every class of the templates is modelled (five drums and percussion, several
    templates per class); ``classes`` only chooses which get their own stem: the share
    of any other class (and of percussion, ``"other"``) goes to the residual.  Each
    channel's DC offset (its mean) is kept out of the model and stays in the residual
    (``result.offset``).

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_channels, n_samples), or str / os.PathLike
        The mixture (float samples in [-1, 1]) or an audio file to :func:`nmfaudio.load`.
    sr : int, optional
        Sampling rate of ``y`` (needed for an array: the templates are in Hz).  For a
        file: resample to this rate first (default: keep the file's).
    templates : None, DrumTemplates, str or os.PathLike, optional
        ``None``: the bundled templates.  A folder of one-shots (``kick/``, ``snare/``,
        ``toms/``, ``hihat/``, ``cymbals/`` sub-folders: learned with
        :meth:`DrumTemplates.from_folder`), a ``.npz`` written by
        :meth:`DrumTemplates.save`, or a :class:`DrumTemplates`.  Classes they lack
        (e.g. a kick/snare/hi-hat kit) are taken from the bundled templates
        (``result.borrowed`` names them).  Templates made with another sr / n_fft /
        hop_length are converted (see :meth:`DrumTemplates.convert`); in a drum
        recording (not with the accompaniment model) above their rate, templates with a
        measured band above their Nyquist frequency (the bundled hi-hat parts:
        ``DrumTemplates.high_band_db``) get it at that level.
    classes : sequence of str, default ("kick", "snare", "toms", "hihat", "cymbals")
        The stems to output.  All classes are modelled whatever this says: an
        instrument that is not asked for goes to the residual, never into a requested
        stem.  ``"other"`` (percussion) may be asked for too.
    beta : "kullback-leibler" (1), "itakura-saito" (0), "frobenius" (2) or a float in [0, 2]
    n_fft, hop_length : int, optional
        STFT frame length and hop.  Default: 2048 and 512 at 22.05 kHz (and below),
        scaled with the rate to keep their durations (93 ms, 23 ms: the grid the model
        was tuned on) — 4096 / 1024 at 44.1 kHz, 4464 / 1116 at 48 kHz (the 44.1-kHz
        grid's bin width and hop in seconds), 8192 / 2048 at 88.2 and 96 kHz
        (:func:`nmfaudio.spectrum.frames_for_rate`; at 44.1 kHz about 4× faster than
        2048 / 512).  Only ``n_fft`` given: ``hop_length = n_fft // 4``.
    mask_power : float > 0, default 1.5
        Soft-mask power p: 1 ratio mask, 2 Wiener-like.
    max_iter : int >= 1, default 50
        Multiplicative-update iterations (fixed count: the result is the same on any
        machine).
    adapt : bool, default True
        Let the templates adapt to the recording (False: supervised NMFD with the
        templates fixed, the classic method, ~4 dB worse on the benchmark).
    support_db : float <= 0 or None, default -50
        Template entries this far below the template's peak start (and stay) at zero.
        None: keep every entry (the bundled templates store entries more than 70 dB
        below their peak as zeros).
    max_gain_db : float >= 0 or None, default 20
        No kick, snare or closed hi-hat template entry may grow more than this above its
        start; the other templates' limits scale with it (toms and open hi-hat 3 dB,
        toms 10 dB below 120 Hz unless the accompaniment model is used, cymbals 10 dB,
        percussion 0 dB at the default; see :mod:`nmfaudio.drums.stems`).  None: no limit.
    n_free : int >= 0, default 1
        Free components for the residual (toms, cymbals, other instruments), fitted
        after the drums to what they leave unexplained, with the drum model frozen; in a
        song, one that looks like a drum (:mod:`nmfaudio.drums.free_drum`) goes to the
        toms stem instead, one whose template lies almost all above 8 kHz to the cymbals
        stem (their activations are not in ``activations``).
        0: the residual is silent but for the DC offset (every bin goes to a drum).
    bands : bool, default True
        Fit on 1/12-octave bands above 258 Hz (single bins below; about 5× faster);
        False: fit every frequency bin.
    accompaniment : "auto", True or False, default "auto"
        Whether the recording is a full song (bass, keys, guitars, pads under the drums;
        :mod:`nmfaudio.drums.accompaniment`).  True: the sustained part of the spectrogram
        (a 0.7-s running median over time per frequency band) is kept out of the drum fit
        and goes to the residual, which then holds the accompaniment (weighted in the
        masks by a gauge of the drums' level: 0.25 with loud drums to 0.65 with loud
        music).  False: a drum recording (the drum model explains everything it can).
        "auto": True when sustained spectral peaks (bass notes, chords) hold more than
        14.5 % of the magnitude below 1.5 kHz (``result.tonal_share``;
        ``result.accompaniment`` says what was used).
    presence_test : bool, default True
        In a drum recording (not with the accompaniment model), test after four fifths of
        the iterations (40 of 50) whether the toms play (:data:`nmfaudio.drums.stems.PRESENCE`): toms
        whose parts never explain their own band are taken out for the last iterations
        (activations and stem silent), so a groove without toms does not lend its snare
        and kick to them.  A fill of one or two quiet toms can be judged absent the same
        way.  In a song (with the accompaniment model) at 44.1 kHz and up, with adapted
        templates, hi-hat parts whose fitted model lies mostly below 5 kHz
        (:mod:`nmfaudio.drums.hat_presence`: they took a guitar, the snare or a ride, not
        hats) are left out of the masks: the hi-hat stem and activation are silent, their
        share goes to the other outputs; hi-hat parts whose fitted model sits at the
        snare's hits (:func:`~nmfaudio.drums.hat_presence.hats_at_snare`: the snare's noise,
        a drum machine's cymbal) sound in the cymbals stem instead (the residual without
        a cymbals output): the hi-hat stem is silent, but the hi-hat is not judged absent
        — its activation stays the hat parts' and ``hits()`` reads its hits on the stem
        they sound in (``result.sounds_in``: ``{"hihat": "cymbals"}``); so do the hat parts'
        rest in a song whose ride groove ``ride`` found (pedal chicks under the percussion
        and the ride's wash they took; :data:`RIDE_SONG_HATS`).  ``hits()`` still
        gives a hi-hat judged absent the recording's high-band onsets (at strength 0).
        ``result.absent`` names the classes judged not playing.  False keeps every
        class modelled to the end.  Also "on" / "off".
    ride : "auto", True or False, default "auto"
        Whether the time is kept on a ride (:mod:`nmfaudio.drums.ride`), whose strokes
        the closed hi-hat's template takes.  "auto": decided from the signal in a drum
        recording (the ride's ring between strokes, and whose ring it is in the fit; it
        finds most loud rides, misses some quiet ones, and takes 1-4 % of hi-hat
        grooves for a ride); in a song by the strict gate alone, at a higher share of steady
        gaps (:data:`~nmfaudio.drums.ride.SONG_STEADY_SHARE`: 12 of 18 tuning ride songs, none
        of 72 others, at 44.1 kHz with ``presence_test``; at 22.05 kHz 8 of 18 and 6 of
        the 72) with one ring shape kept at the gaps' ends
        (:func:`nmfaudio.drums.song_ride.is_shape_ride`: some drum machines' hats pass the
        gate), and the ride part's own hits are not judged there.  True:
        the closed hi-hat part's strokes are a ride's without asking — they go to the
        cymbals stem (the residual without a cymbals output) except at the snare's hits,
        and ``hits()`` names them ``"cymbals_ride"`` — in a song too; without a closed
        hi-hat part (or a ``"hihat"`` class asked for, or in a song whose hat parts
        ``presence_test`` judged to hold no hats) the ride part's hits are named so.
        False: no ride is looked for (the hi-hat stem keeps the closed hat part; no
        ``"cymbals_ride"`` hits).  Also "on" / "off".  ``result.ride_strokes`` is None
        when no ride was found.
    random_state : None, int or numpy.random.Generator
        Seeds the starting activations (and free components).
    callback : callable(iteration, loss) -> bool or None, optional
        Called after every iteration; returning True stops the fit early.
    engine : None, callable or scikit-learn-style transformer, optional
        The NMF that starts the residual's ``n_free`` free components (the drums
        themselves are always fitted by the engine's NMFD,
        :func:`nmfaudio.nmf.factorize_convolutive`).  It factorizes what the fitted drum
        model leaves unexplained, R = max(V − drums, 0) (n_bands × n_frames, all
        channels side by side), into ``n_free`` components, which are then refined
        against the spectrogram with the drums frozen.  As in :func:`nmfaudio.separate`:
        ``None`` uses :func:`nmfaudio.factorize` (Kullback-Leibler multiplicative
        updates, 20 iterations from a random start drawn from ``random_state``); a
        callable with its signature is called as ``engine(R, n_free,
        beta="kullback-leibler", solver="mu", W=..., H=..., max_iter=20, tol=0,
        random_state=...)`` and must return an object with ``.W`` and ``.H``; a
        transformer such as ``nmfaudio.NMF(n_components=n_free)`` or
        ``sklearn.decomposition.NMF(n_components=n_free)`` is fitted to Rᵀ (frames are
        its samples) with its own settings and initialization.  Unused with ``n_free=0``.
    block_seconds : float > 0, optional
        Separate block by block (:mod:`nmfaudio.drums.blockwise`: blocks of this many
        seconds, cross-faded over 4 s), holding one block's spectrograms at a time.
        Default: in memory, unless that would exceed ``max_memory``.
    max_memory : int (bytes), str such as "4G", or None, default 4 GiB
        Memory budget (:data:`nmfaudio.budget.DEFAULT_MAX_MEMORY`): when the separation
        in memory would need more (estimated from the input's length and channels before
        anything large is allocated), it runs block-wise by itself (30 s blocks), warns
        once and says why in ``result.blockwise_reason``.  None: always in memory.
        The result holds the stems as arrays (the input's size each) whatever the mode:
        for files longer than the budget allows, use ``stream_to``.
    stream_to : callable(start, {name: ndarray}), optional
        Streaming, for files of any length (what ``nmfaudio drums`` uses when it runs
        block-wise): ``y`` must be a file path (read a block at a time, never whole; no
        resampling: ``sr`` None or the file's rate), the separation runs block-wise
        (``block_seconds``, default 30), and the finished samples of every stem are handed
        to ``stream_to(start, tracks)`` in order (each track (n,) or (n_channels, n),
        from sample ``start`` on) instead of being kept: ``result.sources`` is empty;
        ``result.activations`` covers the whole file (small: k floats per frame).

    Returns
    -------
    DrumSeparation
        ``.sources`` ({class: track, ..., "residual": track}, each the input's shape),
        ``.activations``, ``.templates`` (adapted), ``.save(directory)``.

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        Missing or unreadable audio or templates, bad parameters, samples beyond
        ``audio.DRUM_PEAK_LIMIT`` (1e12, +240 dBFS: where the float32 sums would overflow).

    Examples
    --------
    >>> import nmfaudio
    >>> result = nmfaudio.separate_drums("data/drum_loop.wav")  # doctest: +SKIP
    >>> result.save("stems")  # stems/drum_loop_kick.wav, ..._snare, ..._hihat, ..._residual  # doctest: +SKIP
    """
    classes = _check_classes(classes)
    beta_value = _check_beta(beta)
    if n_fft is not None and hop_length is not None:  # both given: checked before any loading
        spectrum.check_frames(n_fft, hop_length)
    elif n_fft is not None or hop_length is not None:
        check_int(n_fft if hop_length is None else hop_length, "n_fft" if hop_length is None else "hop_length",
                  2 if hop_length is None else 1)
    mask_power = masks.check_mask_power(mask_power)
    if mask_power == "binary":
        raise ValueError("mask_power='binary' is not available for drums; use a number > 0 (1.5 by default)")
    max_iter = check_int(max_iter, "max_iter", 1)
    n_free = check_int(n_free, "n_free", 0)
    support_db = _check_number(support_db, "support_db", high=0, allow_none=True)
    max_gain_db = _check_number(max_gain_db, "max_gain_db", low=0, allow_none=True)
    max_memory = check_max_memory(max_memory)
    if block_seconds is not None:
        # one message for every value below the least (-1 said "must be >= 0", where 0 is refused too)
        block_seconds = _check_number(block_seconds, "block_seconds")
        if block_seconds <= 0:
            raise ValueError(f"block_seconds={block_seconds!r} must be a number of seconds > 0 (e.g. 30)")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback={callback!r} must be callable(iteration, loss)")
    if engine is not None:
        check_engine(engine)
    declared = getattr(engine, "n_components", None) if hasattr(engine, "fit_transform") else None
    if n_free and declared is not None and declared != n_free:
        raise ValueError(f"n_free={n_free} but the engine {type(engine).__name__} has n_components={declared}; "
                         "make them equal")
    accompaniment = accompaniment_mode(accompaniment)
    presence_test = presence_mode(presence_test)
    ride = ride_mode(ride)
    rng = as_generator(random_state)
    source = audio.source_path(y)

    if stream_to is not None:
        y, sr, name = _streamed_input(y, sr, stream_to)  # the checked path: read a block at a time below
    else:
        y, sr, name = audio.input_signal(y, sr, sr_needed_because="the drum templates are in Hz")
        audio.check_peak(y, "y" if source is None else source)
    n_fft, hop_length = _frames(n_fft, hop_length, sr)
    kit, borrowed = _resolve_templates(templates, sr)  # a folder: learned at the recording's rate
    unknown = [c for c in classes if c not in kit.stems]
    if unknown:
        known = "" if tuple(kit.stems) == tuple(KNOWN_CLASSES) else f" (known classes: {', '.join(KNOWN_CLASSES)})"
        raise ValueError(f"classes={classes!r}: no template for {', '.join(map(repr, unknown))}; the templates "
                         f"have {', '.join(kit.stems)}{known}")
    # drum recordings: the measured parts' band above the templates' Nyquist frequency at its
    # measured level (songs keep the held level: there the brighter hats took the shaker;
    # docs/drums-five-stems.md).  Only the templates' start differs: "auto" decides song or
    # drums from the mixture alone (accompaniment.tonal_share), before any fit
    # above the templates' rate, a band-limited recording's templates stop at its bandwidth
    # (nmfaudio.drums.bandwidth, decided per segment from its spectrogram)
    above_hz = kit.sr / 2 if sr > kit.sr else None
    templates_sr = kit.sr
    filled_kit = (kit.convert(sr=sr, n_fft=n_fft, hop_length=hop_length, high_band=True)
                  if kit.high_band_db is not None and sr > kit.sr and accompaniment is not True else None)
    kit = kit.convert(sr=sr, n_fft=n_fft, hop_length=hop_length)
    if block_seconds is not None:
        _check_block_length(block_seconds, kit.n_frames, hop_length, sr)
    filled_kit = None if filled_kit is None or np.array_equal(filled_kit.P, kit.P) else filled_kit
    # a user's own kick and snare: the bundled ones guide the fixed first iterations (stems.GUIDE_LABELS)
    # (a label whose template is the bundled one, e.g. the bundled kit passed as templates=, is not:
    # it would only guide itself)
    own = [label for label in GUIDE_LABELS
           if templates is not None and label in kit.classes and class_of(label) not in borrowed]
    bundled = default_templates().select(own).convert(sr=sr, n_fft=n_fft, hop_length=hop_length) if own else None
    guided = [label for label in own if not _same_template(kit.select([label]).P, bundled.select([label]).P)]
    guides = bundled.select(guided) if guided else None
    song_snare = (_song_snare(kit, sr=sr, n_fft=n_fft, hop_length=hop_length)
                  if accompaniment is not False else None)  # a song's start only
    # the hat's raised low cut (HAT_LOWS) reads its bound off the bundled hat templates: a
    # user's own hat one-shots may hold real low mids (hihat69 round: rumpf's and BJA_Pacific's
    # hats passed it on every kick/snare/hi-hat-only groove, the hi-hat −0.47 / +0.16 dB)
    hat_lows = HAT_LOWS and accompaniment is not True and _bundled_hats(kit, sr=sr, n_fft=n_fft,
                                                                         hop_length=hop_length)

    # each channel's DC offset over the whole recording (streamed: one pass over the file)
    offset = _file_offset(y) if stream_to is not None else dc_offset(y)

    def separate_segment(y, mode, offset=offset, decided=None):
        # decided (block-wise only): the decisions a block separated again takes from the
        # blocks around it (blockwise.Decided); it draws from a copy of the generator, so
        # every other block gets the numbers it gets without the second separation
        if _same_channels(y):  # centred: the mono file's separation, in every channel
            return _in_channels(separate_segment(y[0], mode, offset[0], decided), y.shape[0])
        return _separate(y, sr, kit, classes, name=name, beta=beta_value, n_fft=n_fft, hop_length=hop_length,
                         mask_power=float(mask_power), max_iter=max_iter, adapt=bool(adapt), support_db=support_db,
                         max_gain_db=max_gain_db, n_free=n_free, bands=bool(bands), engine=engine,
                         rng=rng if decided is None else copy.deepcopy(rng),
                         callback=callback, accompaniment=mode, presence_test=presence_test,
                         ride=ride if decided is None or decided.ride is None else decided.ride,
                         guides=guides, filled_kit=filled_kit, song_snare=song_snare, offset=offset,
                         above_hz=above_hz, decided=decided, hat_lows=hat_lows)

    # block-wise: the decisions a block makes from the signal, taken from the blocks around
    # it (blockwise.block_decision); not those the user made for every block
    decide = tuple(name for name, on in (("presence", presence_test), ("ride", ride == "auto")) if on)
    with threadpool_limits(limits=1, user_api="blas"):  # small products: threads only add overhead
        if stream_to is not None:
            reader = audio.FileReader(y)
            try:
                result = separate_in_blocks(reader, separate_segment, stream_to, sr=sr, n_fft=n_fft,
                                            hop_length=hop_length, accompaniment=accompaniment,
                                            block_seconds=BLOCK_SECONDS if block_seconds is None else block_seconds,
                                            offset=offset, decide=decide)
            finally:
                reader.close()
        else:
            result = separate_in_blocks_if_needed(
                y, separate_segment, sr=sr, hop_length=hop_length, n_fft=n_fft, n_stems=len(classes),
                block_seconds=block_seconds, max_memory=max_memory, accompaniment=accompaniment, offset=offset,
                decide=decide)
    result.borrowed = borrowed
    result.offset = offset
    result.source = source
    result.templates_sr = templates_sr
    if result.input_band_hz is not None:  # said once, whatever the blocks (polish15)
        warnings.warn(short_templates_text(templates_sr, result.input_band_hz, sr) + " (nmfaudio templates learn "
                      f"DIR --sr {rate_for_band(result.input_band_hz, sr)}, or DrumTemplates.from_folder(path, "
                      f"sr={rate_for_band(result.input_band_hz, sr)}))", UserWarning, stacklevel=2)
    return result


def short_templates_text(templates_sr: int, band_hz: float, sr: int) -> str:
    """What :attr:`DrumSeparation.input_band_hz` means, for the warning and the CLI's summary
    (each adds its own way to learn them again)."""
    return (f"the templates were made at {templates_sr} Hz and stop at {templates_sr / 2000:.1f} kHz, but the "
            f"recording holds sound up to {band_hz / 1000:.1f} kHz: the hi-hat's band is missing from its template, "
            f"and its hits may go to the cymbals or the residual; learn the templates at "
            f"{rate_for_band(band_hz, sr)} Hz")


def _file_offset(path, block: int = 1 << 20) -> np.ndarray:
    """:func:`dc_offset` of an audio file, read ``block`` samples at a time (float64 sums
    of float32 samples, as :func:`nmfaudio.load` reads them): shape (1,) for a mono file,
    (n_channels, 1) otherwise.  The first pass over a streamed input: NaN or infinite
    samples are refused here, naming the file with their count (as a file read whole is;
    the accompaniment decision that reads excerpts next would name no file)."""
    reader = audio.FileReader(path)
    try:
        total = np.zeros((reader.n_channels, 1))
        count = np.zeros((reader.n_channels, 1))
        n_bad, peak = 0, 0.0
        for start in range(0, reader.n_samples, block):
            segment = reader.read(start, min(start + block, reader.n_samples))
            n_bad += int(np.count_nonzero(~np.isfinite(segment)))
            peak = max(peak, float(np.max(np.abs(segment), initial=0.0)))
            total += segment.sum(axis=1, keepdims=True, dtype=np.float64)
            count += segment.shape[1] - track_reads.n_silent(segment)[:, None]
        if n_bad:
            raise audio.non_finite_error(path, n_bad)
        if peak > audio.DRUM_PEAK_LIMIT:
            raise audio.too_loud_error(path, peak)
        mean = total / np.maximum(count, 1)
    finally:
        reader.close()
    return (mean[0] if reader.mono else mean).astype(np.float32)


def dc_offset(y) -> np.ndarray:
    """Each channel's mean over its samples that are not digital silence (runs of exact
    zeros, :func:`~nmfaudio.drums.track_reads.digital_silence`: a gap or padding an editor
    left holds no offset; accumulated in float64), in ``y``'s
    dtype: shape (1,) for ``y`` of shape (n_samples,), (n_channels, 1) for (n_channels,
    n_samples)."""
    y = np.asarray(y)
    total = y.sum(axis=-1, keepdims=True, dtype=np.float64)
    kept = y.shape[-1] - track_reads.n_silent(y)
    count = kept[..., None] if y.ndim > 1 else np.reshape(kept, (1,))
    return (total / np.maximum(count, 1)).astype(y.dtype)


def _same_channels(y) -> bool:
    """Whether ``y`` (n_samples,) or (C, n_samples) has several channels, all equal: a
    mono recording in stereo, which gets the mono separation (the same stems as the mono
    file, and half the work; the pan has nothing to tell)."""
    return y.ndim == 2 and y.shape[0] > 1 and all(np.array_equal(y[0], channel) for channel in y[1:])


def _in_channels(result: DrumSeparation, n_channels: int) -> DrumSeparation:
    """A mono separation as the separation of ``n_channels`` equal channels: every track
    and activation repeated in each channel, shape (n_channels, n)."""
    def repeated(x):
        return None if x is None else np.repeat(np.asarray(x)[None], n_channels, axis=0)

    return dataclasses.replace(result, sources={k: repeated(v) for k, v in result.sources.items()},
                               activations={k: repeated(v) for k, v in result.activations.items()},
                               ride_strokes=repeated(result.ride_strokes),
                               ride_with_snare=repeated(result.ride_with_snare))


def _song_snare(kit, *, sr, n_fft, hop_length):
    """The drum machines' snare for a song's start (stems.SONG_ELECTRONIC_SNARE): (index of
    the kit's ``"snare"`` template, the electronic snare template (F, T) at these STFT
    parameters) when that template is the bundled snare (the bundled kit, or a snare
    borrowed from it), else None (a user's own snare is left as it is)."""
    if "snare" not in kit.classes or SONG_ELECTRONIC_SNARE <= 0:
        return None
    bundled = default_templates().select(["snare"]).convert(sr=sr, n_fft=n_fft, hop_length=hop_length)
    if not _same_template(kit.select(["snare"]).P, bundled.P):
        return None
    return kit.classes.index("snare"), electronic_snare().convert(sr=sr, n_fft=n_fft, hop_length=hop_length).P[:, 0]


def _bundled_hats(kit, *, sr, n_fft, hop_length) -> bool:
    """Whether every hi-hat part of ``kit`` (converted to these STFT parameters) is the
    bundled one (the bundled kit, or hats borrowed from it)."""
    hats = [label for label in kit.classes if class_of(label) == "hihat"]
    bundled = default_templates()
    if not hats or any(label not in bundled.classes for label in hats):
        return False
    return _same_template(kit.select(hats).P,
                          bundled.select(hats).convert(sr=sr, n_fft=n_fft, hop_length=hop_length).P)


def _same_template(P, Q) -> bool:
    """Whether two templates (n_freq, n_parts, n_frames) are the same up to float rounding."""
    return P.shape == Q.shape and np.allclose(P, Q, rtol=1e-5, atol=1e-9)


def _streamed_input(y, sr, stream_to):
    """``separate_drums(..., stream_to=...)``'s input, checked (missing, not audio,
    truncated, empty, another rate): (its path, the file's rate, its stem)."""
    if not callable(stream_to):
        raise TypeError(f"stream_to={stream_to!r} must be callable(start, tracks)")
    if not isinstance(y, (str, os.PathLike)):
        raise TypeError("stream_to needs y to be an audio file path (it is read a block at a time); "
                        "for an array, leave stream_to out")
    path = audio.check_path(y)
    rate = int(audio.audio_info(path).samplerate)
    if sr is not None and audio.check_sr(sr) != rate:
        raise ValueError(f"sr={sr} differs from the file's {rate} Hz; streaming does not resample — "
                         "resample the file first, or leave sr=None")
    return path, rate, path.stem or "mixture"


#: The smallest STFT size and the largest frame rate (frames per second) drum separation accepts.
MIN_N_FFT = 256
#: Whether, in a drum recording, a free component whose activation follows the cymbal
#: parts' model goes to the cymbals stem (nmfaudio.drums.free_drum.follows_cymbals; the
#: hat-and-cymbals error round); a switch for the benchmark.
FREE_CYMBALS = True
#: Whether, in a drum recording, the hi-hat output's model is held under a ceiling per bin
#: before the masks, the kick's mask kept (nmfaudio.drums.hat_ceiling; docs/log/drums-five-stems-decisions.md,
#: hat-proxy round); a switch for the benchmark.
HAT_CEILING = True
#: Whether, in a drum recording, the hi-hat output's low cut goes up to 1 kHz where its low
#: mids would be most of its stem (nmfaudio.drums.hat_lows; docs/log/drums-five-stems-decisions.md,
#: hihat69 round); a switch for the benchmark.
HAT_LOWS = True
#: Whether the kick / toms swap test runs (nmfaudio.drums.kick_toms); a switch for the benchmark.
KICK_TOMS_SWAP = True
#: Whether the lone-toms test runs when the toms are judged absent (nmfaudio.drums.lone_toms);
#: a switch for the benchmark.
LONE_TOMS = True
#: Whether, in a drum recording, the toms' activation leaves the masks by the share that
#: rides on every kick and snare hit (nmfaudio.drums.tom_leak; docs/log/drums-five-stems-decisions.md,
#: room-tails round); a switch for the benchmark.
TOMS_LEAK = True
#: Whether that leak is taken only when it leaves the kick / toms swap test's outcome as the
#: fit's activations read it (nmfaudio.drums.tom_leak.keeps_swap; docs/log/drums-five-stems-decisions.md,
#: tomleak69 round); a switch for the benchmark.
TOMS_LEAK_KEEPS_SWAP = True
#: Whether, in a drum recording's ride groove, the open hat part's activation moves to the
#: cymbals with the closed hat part's strokes (nmfaudio.drums.ride.move_strokes' ``also``;
#: twenty-eighth round); a switch for the benchmark.
RIDE_OPEN_HAT = True
#: Whether the open hat part's moved share (:data:`RIDE_OPEN_HAT`) moves in the activations
#: too: off the hi-hat's, onto the ride's strokes (``ride_strokes``, picked as
#: ``"cymbals_ride"``), as the stems hold it (docs/log/transcription-decisions.md, the ride open-hat hits
#: round); a switch for the benchmark.
RIDE_OPEN_HAT_HITS = True
#: Whether, in a drum recording's ride groove, the moved hat parts' model stays in the
#: cymbals stem only where the kit's cymbal parts' model holds as much, the rest going to
#: the residual (nmfaudio.drums.ride.split_strokes; docs/log/drums-five-stems-decisions.md, ridden-crash
#: round); a switch for the benchmark.
RIDE_STROKE_SPLIT = True
#: Whether, in a song whose ride groove was found (its strokes moved), the hat parts' rest
#: (pedal chicks under the percussion and the ride's wash they took) sounds in the cymbals
#: stem, the hi-hat stem silent, its hits kept (``result.sounds_in``;
#: docs/log/drums-full-song-decisions.md, songhat60 and hatkeep62); a switch for the benchmark.
RIDE_SONG_HATS = True
MAX_FRAME_RATE = 1000


def _frames(n_fft, hop_length, sr) -> tuple[int, int]:
    """The STFT's (n_fft, hop_length): the given ones, else scaled with ``sr``
    (:func:`nmfaudio.spectrum.frames_for_rate`); only n_fft given: hop n_fft // 4."""
    scaled_n_fft, scaled_hop = spectrum.frames_for_rate(sr)  # for the messages
    n_fft, hop_length = spectrum.frames_or_defaults(n_fft, hop_length, sr)
    # The templates are spectra in Hz and envelopes in seconds: fewer bins than this cannot
    # tell a kick from a tom, and a hop far under a millisecond makes every template (and the
    # fit) thousands of frames long -- n_fft=7 (hop 1) asked numpy for 49 GiB.
    if n_fft < MIN_N_FFT:
        raise ValueError(f"n_fft={n_fft} is too small for drum separation: use n_fft={MIN_N_FFT} or larger "
                         f"(the default at {sr} Hz is {scaled_n_fft})")
    if hop_length < sr // MAX_FRAME_RATE:
        raise ValueError(f"hop_length={hop_length} is too small for drum separation at {sr} Hz: use "
                         f"hop_length={sr // MAX_FRAME_RATE} or larger (the default is {scaled_hop})")
    if hop_length / sr > MAX_TEMPLATE_SECONDS:
        # a template is at least one frame: the templates' own check said "n_frames=1 at
        # hop_length=512 and sr=100 makes templates 5.12 s long ...: use at most 0 frames"
        if scaled_hop / sr > MAX_TEMPLATE_SECONDS:  # the default fails too: the rate is what is wrong
            raise ValueError(f"a sample rate of {sr} Hz is too low for drum separation: one STFT hop ({scaled_hop} "
                             f"samples, the least at any rate) lasts {scaled_hop / sr:.3g} s, longer than a drum "
                             f"template may ({MAX_TEMPLATE_SECONDS:g} s); resample the audio to 8000 Hz or more first")
        raise ValueError(f"hop_length={hop_length} lasts {hop_length / sr:.3g} s at {sr} Hz, longer than a drum "
                         f"template may ({MAX_TEMPLATE_SECONDS:g} s): use hop_length={int(MAX_TEMPLATE_SECONDS * sr)} "
                         f"or smaller (the default is {scaled_hop})")
    return n_fft, hop_length


def _silent_separation(y, sr, kit, classes, *, name, beta, n_fft, hop_length, mask_power, n_frames) -> DrumSeparation:
    """The result for an all-zero recording: silent stems and activations, the templates
    unchanged, no iterations."""
    sources = {label: np.zeros_like(y) for label in classes}
    sources["residual"] = y.copy()  # zeros, or a constant (a DC offset alone): no drum
    shape = (n_frames,) if y.ndim == 1 else (y.shape[0], n_frames)
    activations = {label: np.zeros(shape, np.float32) for label in classes}
    return DrumSeparation(sources=sources, activations=activations, templates=kit, sr=sr, n_fft=n_fft,
                          hop_length=hop_length, loss=np.zeros(1), n_iter=0, mask_power=mask_power,
                          name=name, beta=beta)


def _mixture_minus(y, drums, *, block: int = 2**18) -> np.ndarray:
    """``y − drums.sum(axis=0)`` (drums (D, C, n_samples), y (n_samples,) or (C, n_samples)),
    a block of samples per task on the engine's threads (one thread: 0.15 s for a 3-minute
    stereo song at 44.1 kHz); the same sums in the same order as the whole-array code."""
    residual = np.empty(drums.shape[1:], dtype=np.result_type(y, drums))
    y2 = y.reshape(drums.shape[1:])
    starts = range(0, drums.shape[-1], block)

    def task(i):
        part = slice(starts[i], starts[i] + block)
        np.subtract(y2[:, part], drums[:, :, part].sum(axis=0), out=residual[:, part])

    run_in_threads(task, len(starts))
    return residual.reshape(y.shape)


def _without_held_notes(H_masks, H, P_bands, toms, band_magnitude, band_low_hz, frames_per_second, *,
                        weight=1.0, others=()):
    """The masks' activations with the toms parts' held notes (:func:`tom_ring.held_notes`,
    measured on ``H_masks``) scaled down by ``1 - weight``; a copy where they change and
    ``H_masks`` is the fit's ``H`` (the reported activations stay the fit's).

    Parameters
    ----------
    H_masks, H : ndarray, shape (K, C, N)
        The masks' activations and the fit's.
    P_bands : ndarray, shape (F_b, K, L)
    toms : sequence of int
        The toms parts (indices into K).
    band_magnitude : ndarray, shape (F_b, C, N)
    band_low_hz : ndarray, shape (F_b,)
    frames_per_second : float
    weight : float, default 1
        How much of a held note leaves the toms' masks (the loud music's hit share).
    others : sequence of int, default ()
        Other drum parts whose model is taken out before the level is measured.

    Returns
    -------
    ndarray, shape (K, C, N)
    """
    held = held_notes(P_bands, H_masks, toms, band_magnitude, band_low_hz, frames_per_second=frames_per_second,
                      others=others)
    if held is None or not held.any():
        return H_masks
    H_masks = H_masks.copy() if H_masks is H else H_masks
    H_masks[toms] *= 1 - np.float32(weight) * held[:, None, :]
    return H_masks


def _attack_scaled(H, P_bands, band_magnitude, labels, share: float = 1.0) -> np.ndarray:
    """Song mode: the activations for the masks, with the hits of the
    :data:`~nmfaudio.drums.accompaniment.ATTACK_CLASSES` templates scaled to their level
    in the whole spectrogram (:func:`~nmfaudio.drums.accompaniment.attack_gains`; the fit
    saw only what rises above the sustained part).  H (K, C, N), P_bands (F_b, K, T),
    band_magnitude (F_b, C, N); the gains g move the activations by ``1 + share · w · (g − 1)``
    (w: :func:`~nmfaudio.drums.accompaniment.hit_weights`);
    a new array, H is not modified (the reported activations stay the fit's)."""
    drums = np.flatnonzero([class_of(label) not in RESIDUAL_CLASSES for label in labels])
    parts = np.flatnonzero([class_of(label) in ATTACK_CLASSES for label in labels])
    if not parts.size:
        return H
    summed = H.sum(axis=1)  # the channels' sum, as band_magnitude is summed below
    drums_model = convolutive_model(P_bands[:, drums], summed[drums])  # not `drum_model`: the module's alias
    part_models = convolutive_components(P_bands[:, parts], summed[parts])  # (n_parts, F_b, N)
    gains = attack_gains(band_magnitude.sum(axis=1), drums_model, part_models)
    gains = 1 + np.float32(share) * hit_weights(summed[parts]) * (gains - 1)  # the larger hits, loud music
    scaled = H.copy()
    scaled[parts] *= gains[:, None, :]
    return scaled


def _without_off_hit(H_masks, labels, frames_per_second, band_magnitude=None, P_bands=None,
                     band_hz=None) -> np.ndarray:
    """Song mode: the masks' activations with the :data:`~nmfaudio.drums.kick_gate.GATE_CLASSES`
    parts' activations 0 away from their hits (:func:`nmfaudio.drums.kick_gate.without_off_hit`:
    a kick template took bass notes between the kick's hits; docs/log/drums-full-song-decisions.md,
    forty-second round).  H_masks (K, C, N); a new array where the kit has parts of a gated
    class (even if no frame is gated), H_masks itself otherwise (the reported activations
    stay the fit's)."""
    reach = kick_gate.reach_frames(frames_per_second)
    for cls in kick_gate.GATE_CLASSES:
        parts = np.flatnonzero([class_of(label) == cls for label in labels])
        cover = None
        if kick_gate.COVER_MIN > 0 and band_magnitude is not None and parts.size:
            cover = kick_gate.coverage(band_magnitude.sum(axis=1), P_bands[:, parts],
                                       np.asarray(H_masks)[parts].sum(axis=1), band_hz)
        # ... and a hit soon after a larger one, with no rise in the mixture, is the kick's
        # activation peaking again in its decay (kick_gate.AFTER_SECONDS; loud music only)
        after, rises = 0, None
        if kick_gate.AFTER_SECONDS > 0 and band_magnitude is not None and parts.size:
            after = kick_gate.after_frames(frames_per_second, kick_gate.AFTER_SECONDS)
            rises = kick_gate.low_rise_db(band_magnitude.sum(axis=1), band_hz) >= kick_gate.AFTER_RISE_DB
        H_masks = kick_gate.without_off_hit(H_masks, parts, reach=reach, cover=cover,
                                            cover_min=kick_gate.COVER_MIN, after=after, rises=rises)
    return H_masks


def _output_name(classes, index: int) -> str:
    """The name of output ``index`` of the masks' routing: a requested class, or the
    residual (index ``len(classes)``)."""
    return classes[index] if index < len(classes) else RESIDUAL


def _separate(y, sr, kit, classes, *, name, beta, n_fft, hop_length, mask_power, max_iter, adapt, support_db,
              max_gain_db, n_free, bands, engine, rng, callback, accompaniment=False,
              presence_test=True, ride="auto", guides=None, filled_kit=None, song_snare=None,
              offset=None, above_hz=None, decided=None, hat_lows=False) -> DrumSeparation:
    # a DC offset (a constant the recording chain added; 0.01 of full scale cost the tuning
    # performances' kick 2.4 dB, docs/log/drums-five-stems-decisions.md, the DC-offset round) is no drum:
    # the fit and the masks see each channel without ``offset`` (its mean, shape (1,) or
    # (C, 1)), which stays in the residual, the mixture minus the drums (below)
    offset = np.zeros((1,) * y.ndim, y.dtype) if offset is None else offset
    centred = track_reads.without_offset(y, offset)  # digital silence stays silent
    # (C, F, N), each channel frame-major (as a mono STFT is): the masked inverse below
    # reads X[c].T without a copy
    X, magnitude = spectrum.stft_frame_major(centred.reshape(-1, y.shape[-1]), n_fft=n_fft, hop_length=hop_length,
                                             magnitude=True)
    # the centred copy (a track's length) is read by the STFT alone: freed now, its pages
    # are the fit's and the stems' (fresh memory costs this machine's runs the most;
    # docs/performance.md, the speed45 round)
    del centred
    C, F, N = X.shape
    magnitude = magnitude.transpose(1, 0, 2)  # (F, C, N), each channel frame-major
    freqs = np.arange(F) * (sr / n_fft)  # each bin's frequency (Hz)
    peak = float(magnitude.max())
    if peak == 0:  # silence (or a constant): nothing to separate, every stem silent
        return _silent_separation(y, sr, kit, classes, name=name, beta=beta, n_fft=n_fft, hop_length=hop_length,
                                  mask_power=mask_power, n_frames=N)
    scale = 1.0 / peak  # fit at unit level (KL and float32 need sane magnitudes)
    magnitude = np.multiply(magnitude, np.float32(scale), out=magnitude).astype(np.float32, copy=False)

    edges = _band_edges(F) if bands else np.arange(F + 1)
    widths = np.diff(edges)
    band_low_hz = edges[:-1] * (sr / n_fft)  # each band's lowest frequency
    Vb = np.add.reduceat(magnitude, edges[:-1], axis=0)  # (F_b, C, N)
    # full song (nmfaudio.drums.accompaniment): the sustained part is kept out of the drum
    # fit and modelled as accompaniment (it joins the residual's spectrogram below)
    sustained, sustained_fraction, tonal, reattack, hits = None, None, None, 0.0, 0.0
    if accompaniment is not False:
        sustained_bands = sustained_part(Vb, frames=median_frames(sr, hop_length))
        sustained_fraction = decision_share(Vb, sustained_bands, band_low_hz)
        tonal = tonal_share(magnitude, sr=sr, n_fft=n_fft, hop_length=hop_length)
        if use_accompaniment(accompaniment, tonal):
            # the accompaniment's weight in the masks and the median's length: the sustained
            # part holds the drums' own sustain too, which weighs more the louder the drums are
            energy = energy_share(Vb, sustained_bands)
            weight = mask_weight(energy)
            median_length = median_frames(sr, hop_length, sustain_seconds(energy))
            base_frames = median_frames(sr, hop_length)
            median_step = DECIMATION * max(1, median_length // base_frames)
            if median_length != base_frames:  # a longer median on proportionally fewer frames: the same cost
                sustained_bands = sustained_part(Vb, frames=median_length, step=median_step)
            # above HIGH_HZ the sustained part is mostly hats and cymbals: less of it leaves
            # the fit, less goes to the accompaniment
            fit_share, mask_share = high_band_factors(band_low_hz)
            # at full resolution only a few frames at a time, by the resynthesis threads
            sustained = SpreadSustained(magnitude, Vb, sustained_bands * mask_share[:, None, None], widths, weight)
            mask_bands = sustained_bands  # the masks' sustained part before its weight and high-band factor
            fitted_out = sustained_bands
            reattack = reattack_share(energy)
            hits = hit_share(energy)  # the masks' hit levels and short notes: from a lower level
            if reattack > 0:  # loud music: held notes struck again stay out of the drum fit too
                low = reattack_part(Vb, sustained_bands, band_low_hz)
                fitted_out = sustained_bands.copy()
                fitted_out[:len(low)] += np.float32(reattack) * low
            band_magnitude = Vb  # the whole band magnitude, for the hits' levels (attack_gains)
            Vb = np.maximum(Vb - fitted_out * fit_share[:, None, None], 0)
    # a drum recording starts from the templates with the measured high band (filled_kit, if any)
    P0 = (kit if sustained is not None or filled_kit is None else filled_kit).P.astype(np.float32).copy()
    # a recording with nothing above some frequency (upsampled, an MP3's lowpass): above the
    # templates' own rate they hold nothing there either (nmfaudio.drums.bandwidth); the
    # converted hats' band there drew their activations down
    limit_hz = band_limit_hz(magnitude, freqs, sr=sr, n_fft=n_fft, hop_length=hop_length,
                             above_hz=above_hz)
    cut = None if limit_hz is None else freqs > limit_hz
    # templates made far below the recording's band (learned at 8 kHz, a 44.1-kHz recording):
    # the hats' band is missing from them; separate_drums warns (polish15)
    band_hz = band_beyond_templates_hz(magnitude, freqs, n_fft=n_fft, hop_length=hop_length, above_hz=above_hz)
    if cut is not None:
        P0[cut] = 0
    if sustained is not None and song_snare is not None:
        # a song's snare starts half from drum machines' snares (stems.SONG_ELECTRONIC_SNARE):
        # a tuned body at 150-400 Hz, where the bundled (acoustic) snare holds little; not
        # their bright noise (stems.SONG_SNARE_BODY_HZ: it took the hats)
        k, electronic = song_snare
        n_snare = min(P0.shape[2], electronic.shape[1])
        body = freqs < SONG_SNARE_BODY_HZ
        P0[body, k] *= np.float32(1 - SONG_ELECTRONIC_SNARE)
        P0[body, k, :n_snare] += np.float32(SONG_ELECTRONIC_SNARE) * electronic[body, :n_snare]
    if support_db is not None:
        trim_support(P0, support_db)
    Pb0 = np.add.reduceat(P0, edges[:-1], axis=0)  # (F_b, K, T)
    # the bundled templates guiding the user's own in the fixed start (_fit, stems.GUIDE_LABELS);
    # drum recordings only (not measured on songs)
    band_guides = None
    if guides is not None and sustained is None:
        G = np.zeros((F, len(guides.classes), P0.shape[2]), np.float32)
        n_guide = min(P0.shape[2], guides.P.shape[2])
        G[:, :, :n_guide] = guides.P[:, :, :n_guide]
        if cut is not None:
            G[cut] = 0
        if support_db is not None:
            trim_support(G, support_db)
        band_guides = (np.add.reduceat(G, edges[:-1], axis=0),
                       [kit.classes.index(label) for label in guides.classes])
    # one cap per template (see nmfaudio.drums.stems): rare drums must not drift into frequent ones
    # and per band: toms may adapt more below 120 Hz (stems.LOW_ADAPT), to fit a kit's
    # fundamentals — not in a song, where the bass plays there and freer toms took it (the
    # accompaniment's share of a song's bass and chords 0.73 -> 0.69, tests/test_drums_full_song.py)
    max_gain = None
    if max_gain_db is not None:
        limits_db = adapt_limits_db(kit.classes, max_gain_db, (edges[:-1] + widths / 2) * (sr / n_fft),
                                    low=LOW_ADAPT if sustained is None else {})
        max_gain = Pb0 * (10 ** (limits_db / 20)).astype(np.float32)[:, :, None]
    # multichannel: one fit to the channels' sum, then each component's level per channel
    # (drum_model.FIT_CHANNEL_SUM, channel_gains): half the fit's cost for stereo
    summed = C > 1 and drum_model.FIT_CHANNEL_SUM
    # classes that may not play (stems.PRESENCE): tested before the last iterations, in drum
    # recordings only (not measured on songs, where the music fills the toms' band), unless
    # the user keeps every class (presence_test=False)
    def parts_of(cls):  # the kit's templates of a class (indices into K)
        return np.flatnonzero([class_of(label) == cls for label in kit.classes])

    def parts_of_any(classes):  # the kit's templates of any of these classes
        return np.flatnonzero([class_of(label) in classes for label in kit.classes])

    tested = [] if sustained is not None or not presence_test else [
        (cls, parts, threshold) for cls, threshold in PRESENCE.items() if (parts := parts_of(cls)).size]
    if decided is not None:  # block-wise, the neighbouring blocks' decision: kept, or absent whatever the test
        tested = [(cls, parts, np.inf if cls in decided.absent else threshold)
                  for cls, parts, threshold in tested if cls not in decided.present]
    # in a song, the snare's template adapts from its own hits only (stems.ANCHOR): with the
    # kick on its every hit it learned the music's chord onsets instead
    anchored = [] if sustained is None else [
        (parts, level) for cls, level in ANCHOR.items() if (parts := parts_of(cls)).size]
    fit = _fit(Vb.sum(axis=1, keepdims=True) if summed else Vb, Pb0, beta=beta, max_iter=max_iter, adapt=adapt,
               max_gain=max_gain, n_free=n_free, engine=engine, rng=rng, callback=callback,
               presence=[(parts, threshold) for _, parts, threshold in tested], anchored=anchored,
               guides=band_guides, anchor_reference=parts_of("kick") if anchored and parts_of("kick").size else None)
    judged_absent = {tested[position][0] for position in fit.absent}  # the fit's own outcome, by class
    if summed:
        gains = channel_gains(Vb, fit, beta=beta)  # (K + n_free, C)
        K = fit.H.shape[0]
        fit.H = fit.H[:, 0][:, None, :] * gains[:K, :, None]  # (K, C, N)
        fit.H_free = (fit.H_free[:, None, :] * gains[K:, :, None]).reshape(-1, C * N)
    # full-resolution templates: the starting fine structure, reshaped by the fitted band envelope
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = np.where(Pb0 > 0, fit.P / np.where(Pb0 > 0, Pb0, 1), 0).astype(np.float32)
    P = P0 * np.repeat(gain, widths, axis=0)
    empty = P.sum(axis=(0, 2)) <= 0
    P[:, empty] = P0[:, empty]  # a template the fit zeroed (a clip shorter than it): report its start
    H = fit.H  # (K, C, N)
    # song mode: the kick's decay continued, and with loud music the kick and snare hits at
    # their level in the whole spectrogram (the fit saw only what rises above the sustained
    # part); the masks only: the reported activations and templates stay the fit's
    H_masks, P_masks = H, P
    # a drum recording: the toms' activation at every kick and snare hit is what rings past
    # their 8-frame templates (their decay, a room's tail), which the toms' 24 frames took:
    # the recording's typical share per hit leaves the toms' masks, a tom struck with the
    # kick keeps its excess (nmfaudio.drums.tom_leak; room-tails round: tuning toms dry
    # 10.54 -> 11.85, in a room 8.25 -> 10.73 dB)
    toms = parts_of("toms")
    if sustained is None and TOMS_LEAK and toms.size:
        others = [H[parts].sum(axis=0) for cls in tom_leak.LEAK_CLASSES if (parts := parts_of(cls)).size]
        if others:
            leaked = H_masks.copy()
            leaked[toms] *= tom_leak.leak_kept(H[toms].sum(axis=0), others)[None]
            # toms below the kick: the toms parts hold the kick's body at its hits, no leak;
            # taking it off hid the kick / toms swap below (tuning kits rebuilt with toms
            # under their kick: 5 of 180 recordings, toms 10.7-33.5 dB down; tomleak69 round)
            if not (TOMS_LEAK_KEEPS_SWAP and KICK_TOMS_SWAP) or tom_leak.keeps_swap(
                    P, H, leaked, kit.classes, frame_rate=sr / hop_length):
                H_masks = leaked
    if sustained is not None:
        # the kick's, the snare's and the toms' decay in every song, loud drums too
        # (docs/log/drums-full-song-decisions.md, thirtieth, thirty-first and fortieth rounds: at +6 dB
        # the accompaniment 0.17, 0.07 and 0.02 dB up): continued past the template's end, and the
        # kick's below CLEAN_HZ, where its body lies under the bass, no faster than
        # TAIL_FLOOR_RATIO per frame (templates.floor_decay)
        tails = [k for k, label in enumerate(kit.classes) if class_of(label) in TAIL_CLASSES]
        floors = [k for k, label in enumerate(kit.classes) if class_of(label) in FLOOR_CLASSES]
        P_masks = continue_decay(P, tails, TAIL_FRAMES, TAIL_RATIO)
        # a kick ringing clearly slower than that (a drum machine's long kick), read from
        # its own hits (nmfaudio.drums.kick_decay), keeps its own decay
        floor_ratio, start_bins = TAIL_FLOOR_RATIO, None
        if floors:
            decay = kick_decay(magnitude[freqs < CLEAN_HZ].sum(axis=(0, 1)), H[floors].sum(axis=(0, 1)))
            if per_reference_hop(decay, hop_length / sr) >= KICK_DECAY_SLOWER:
                # such a kick is a sine gliding down after its click: its ring starts from
                # the template's largest low bin at the peak frame (kick_decay.GLIDE_HZ;
                # docs/log/drums-full-song-decisions.md, "The 808's gliding kick")
                floor_ratio, start_bins = decay, int(np.sum(freqs < GLIDE_HZ))
        P_masks = floor_decay(P_masks, floors, floor_ratio, int(np.sum(freqs < CLEAN_HZ)), start_bins=start_bins)
    # song mode with loud drums (no hit levels): a toms onset whose level holds is a note the
    # toms templates took, as with loud music below (tom_ring.held_notes), its level measured
    # without the other drums' model, which with loud drums is most of it: a kick or snare
    # right after a tom kept the level up, a bass note starting with the kick fell with the
    # kick's decay (docs/log/drums-full-song-decisions.md, thirty-ninth round: the tuning songs at +6 dB,
    # BSS Eval accompaniment electronic 5.12 -> 5.37 dB, acoustic 4.646 -> 4.640; all drums
    # +0.43 / +0.04; at -6 dB every song the same)
    # in a song with loud music (kick_gate.COVER_ENERGY) the kick gate's coverage test reads
    # the band spectrogram, the templates and the bands' frequencies
    loud = sustained is not None and energy >= kick_gate.COVER_ENERGY
    gate_cover = (band_magnitude, fit.P, band_low_hz) if loud else ()

    def note_levels(H_masks):
        # a bass note shorter than half the 0.7-s window is not in its median, nor a chord's
        # onset on a snare or kick hit: in the masks, below NOTE_HZ, the sustained part is at
        # least a short median of what the drum model leaves and the level it holds over the
        # next frames (accompaniment.note_onsets_sustained), in every song: with loud music
        # in full from HIT_ENERGY's lowest level on (scaled by the share: seeds 0-2 at -6 dB
        # 0.05 dB less, SI-SDR), with loud drums too since the songacc56 round
        # (docs/log/drums-full-song-decisions.md)
        n_low = int(np.sum(band_low_hz < NOTE_HZ))  # the drum model of those bands only
        drum_bands = convolutive_model(fit.P[:n_low], H_masks)  # (n_low, C, N)
        return note_onsets_sustained(band_magnitude, sustained_bands, drum_bands, band_low_hz,
                                     frames=median_frames(sr, hop_length, NOTE_SECONDS),
                                     clean_frames=median_length,
                                     ahead=max(1, int(round(NOTE_AHEAD_SECONDS * sr / hop_length))))

    if sustained is not None and hits == 0:
        toms = parts_of("toms")
        others = [k for k, label in enumerate(kit.classes) if class_of(label) not in RESIDUAL_CLASSES and k not in toms]
        H_masks = _without_held_notes(H_masks, H, fit.P, toms, band_magnitude, band_low_hz, sr / hop_length,
                                      others=others)
        # ... and the kick's activations away from its hits (bass notes a kick template
        # took) leave the masks, in every song (nmfaudio.drums.kick_gate)
        H_masks = _without_off_hit(H_masks, kit.classes, sr / hop_length, *gate_cover)
        # the note onsets' level as with loud music (below), from this model: with loud
        # drums a chord's or bass note's onset on a hit went to the drum stems too
        # (docs/log/drums-full-song-decisions.md, songacc56 round: the tuning songs at +6 dB,
        # BSS Eval accompaniment acoustic 5.06 -> 5.23 dB, electronic 4.46 -> 5.15; all
        # drums at 0 dB 9.27 -> 9.53 / 8.16 -> 9.01)
        mask_bands = note_levels(H_masks)
    if sustained is not None and hits > 0:  # only with loud music (accompaniment.HIT_ENERGY)
        H_masks = _attack_scaled(H, fit.P, band_magnitude, kit.classes, share=hits)
        # the kick's activations away from its hits: bass notes a kick template took
        # (nmfaudio.drums.kick_gate; docs/log/drums-full-song-decisions.md, forty-second round: the
        # electronic tuning songs' kick model 5-90 times the true kick there)
        H_masks = _without_off_hit(H_masks, kit.classes, sr / hop_length, *gate_cover)
        # a bass note starting with the kick: the toms templates took it (accompaniment.kick_hit_frames)
        kicks, toms = ([k for k, label in enumerate(kit.classes) if class_of(label) == cls] for cls in ("kick", "toms"))
        if kicks and toms:
            H_masks = H_masks.copy() if H_masks is H else H_masks  # the reported activations stay the fit's
            H_masks[toms] *= 1 - np.float32(hits) * kick_hit_frames(H[kicks].sum(axis=(0, 1)))
        # the note onsets (note_levels, above), from the hit-scaled model
        mask_bands = note_levels(H_masks)
        # a toms onset after which the level holds is a note the toms templates took (a
        # struck drum decays): from its rise to the next toms onset the toms leave the
        # masks (tom_ring.held_notes; docs/log/drums-full-song-decisions.md, thirty-second round: the
        # 42 tuning songs at -6 dB 5.75 -> 5.88 dB of all drums), after the short notes'
        # level, which was measured with them in the drum model
        H_masks = _without_held_notes(H_masks, H, fit.P, toms, band_magnitude, band_low_hz, sr / hop_length,
                                      weight=hits)
    # song mode: at each band's onset and for 0.14 s after it the masks' sustained part is
    # at most the level just before the onset or, if higher, the lowest level a few frames
    # on (nmfaudio.drums.hit_valley): where drums play densely the running median holds
    # their bodies, which the masks gave to the accompaniment; music held through the hit
    # keeps its level (docs/log/drums-full-song-decisions.md, thirty-eighth round). Before the rings,
    # which start from the masks' sustained part too; the masks' sustained part is built
    # here, from the short notes' level above (with loud music) and this cap
    if sustained is not None:
        mask_bands = valley_capped(band_magnitude, mask_bands, frames_per_second=sr / hop_length)
        # ... and less the toms' own running median, in the same window: where toms play in
        # most of its frames (a fill) the median holds their bodies, which are not the
        # music's (nmfaudio.drums.drum_median; docs/log/drums-full-song-decisions.md, forty-first round)
        median_parts = parts_of_any(MEDIAN_CLASSES)
        if median_parts.size:
            toms_model = convolutive_model(fit.P[:, median_parts], H_masks[median_parts])  # (F_b, C, N)
            mask_bands = without_drum_median(mask_bands, toms_model, frames=median_length, step=median_step,
                                             share=MEDIAN_SHARE, min_share=MIN_SHARE)
        sustained = SpreadSustained(magnitude, band_magnitude, mask_bands * mask_share[:, None, None], widths, weight)
    # song mode with loud drums and loud cymbals: the cymbals' ring under the sustained level
    # goes from the accompaniment's model to the cymbals stem, from RING_HZ on
    # (nmfaudio.drums.cymbal_ring); the fit and the reported activations are unchanged
    ring = None
    if sustained is not None and "cymbals" in classes:
        drum_parts = np.flatnonzero([class_of(label) not in RESIDUAL_CLASSES for label in kit.classes])
        ring_bands = cymbal_ring(fit.P, H_masks, parts_of("cymbals"), drum_parts, band_magnitude, mask_bands,
                                 band_low_hz, frames_per_second=sr / hop_length, share=ring_share(energy))
        if ring_bands is not None:
            ring = (classes.index("cymbals"), SpreadSustained(magnitude, band_magnitude, ring_bands, widths))
    # song mode with loud music: the toms' ring under the sustained level goes from the
    # accompaniment's model to the toms stem, 60-250 Hz, from the onsets whose level falls
    # after them (nmfaudio.drums.tom_ring; the cymbals' ring lies above 3 kHz)
    rings = [] if ring is None else [ring]
    if sustained is not None and hits > 0 and "toms" in classes:
        drum_parts = np.flatnonzero([class_of(label) not in RESIDUAL_CLASSES for label in kit.classes])
        toms_bands = tom_ring(fit.P, H_masks, parts_of("toms"), drum_parts, band_magnitude, mask_bands, band_low_hz,
                              frames_per_second=sr / hop_length, share=hits)
        if toms_bands is not None:
            rings.append((classes.index("toms"), SpreadSustained(magnitude, band_magnitude, toms_bands, widths)))

    # song mode at 44.1 kHz and up: hat parts whose model lies mostly below 5 kHz took a
    # guitar, the snare or a ride, not hats (nmfaudio.drums.hat_presence): left out of the
    # masks and the activations (only with a hi-hat stem asked for: otherwise their share is
    # the residual's already, and must not move into a requested stem); with adapted
    # templates only, as the toms' test (fixed ones are the kit's, not the song's: the
    # bundled hats hold 0.82 of their model above 5 kHz in any song)
    hats = parts_of("hihat")
    no_hats = (sustained is not None and presence_test and adapt and hats.size > 0 and "hihat" in classes
               and (hats_absent(fit.P, fit.H.sum(axis=1), kit.classes, band_low_hz, sr=sr) if decided is None
                    or "hihat" not in decided.present | decided.absent else "hihat" in decided.absent))
    if no_hats:
        H_masks = H_masks.copy() if H_masks is H else H_masks  # the fit's H is zeroed below, for the report
        H_masks[hats] = 0
        judged_absent.add("hihat")
    # ... and hat parts whose model sits at the snare's hits (its noise, a drum machine's
    # cymbal or percussion struck with it; hat_presence.hats_at_snare) stay in the masks but
    # sound in the cymbals stem (the residual's when the cymbals are not asked for), as a
    # ride's strokes do: what they explain is drums, so the drums and the accompaniment keep
    # main's masks; the hi-hat stem is silent (docs/log/drums-full-song-decisions.md, songelec58).
    # The hi-hat is not judged absent: its activations stay the hat parts' and its hits are
    # read on the stem they sound in (result.sounds_in; hatkeep62: with them 0 its hits were
    # the recording's high band, hi-hat onset F 0.79 -> 0.62 at -6 dB on acoustic tuning songs)
    hats_to = None
    if (sustained is not None and presence_test and adapt and hats.size > 0 and "hihat" in classes and not no_hats
            and hats_at_snare(fit.P, fit.H.sum(axis=1), kit.classes, sr=sr)):
        hats_to = classes.index("cymbals") if "cymbals" in classes else len(classes)
    sounds_in = {} if hats_to is None else {"hihat": _output_name(classes, hats_to)}
    has_free = fit.W_free.shape[1] > 0  # False for n_free=0, or when the callback stopped the fit early
    # each template's modelled spectrogram adds to its output: a requested class's stem
    # (the sum of its parts) or the residual (free components, percussion, classes not asked for)
    index = stem_index(kit.classes, classes)
    D = len(classes)
    free = {}
    if has_free:
        # spread each band of the free templates over its bins like the mixture's average spectrum
        fitted_mean = (magnitude.reshape(F, C * N).mean(axis=1) if sustained is None
                       else sustained.remainder_mean())  # the mean of what the drums were fitted to
        mean_spectrum = fitted_mean + np.float32(1e-12)
        share = mean_spectrum / np.repeat(np.add.reduceat(mean_spectrum, edges[:-1]), widths)
        free = {"W_free": np.repeat(fit.W_free, widths, axis=0) * share[:, None], "H_free": fit.H_free}
    # each output's model as one plain product (its templates' non-zero frames, and for
    # the residual the free components); the masks, the masked spectra and their inverse
    # STFTs are then made a few frames at a time (nmfaudio.drums.resynthesis)
    # the hi-hat stem holds nothing below stems.LOW_CUT_HZ: what its parts' model explains
    # there (snare bodies, congas, the kick) goes to the residual; the fit is unchanged.
    # Drum recordings only: in a song the residual is the accompaniment, and those lows
    # are drums (docs/drums-full-song.md's example: drums 9.6 -> 9.5 dB with the cut).
    # Nor when nothing else goes to the residual (n_free=0, every class an output): a user
    # who asked for no residual gets none.
    # Where the hat parts' share of the model would make their stem mostly 300 Hz - 1 kHz
    # (snare bodies, congas under quiet hats), the cut goes up to 1 kHz (nmfaudio.drums.hat_lows;
    # docs/log/drums-five-stems-decisions.md, hihat69 round)
    route = index
    if sustained is None and (has_free or np.any(index == D)):
        cut = LOW_CUT_HZ
        if hat_lows and "hihat" in classes:
            power = np.einsum("fcn,fcn->f", magnitude, magnitude)  # float32, no (F, C, N) temporary: 2-4 ms
            cut = hat_cut(P_masks, H_masks, kit.classes, freqs, power, LOW_CUT_HZ)
        P_masks, H_masks, route = low_cut_parts(P_masks, H_masks, kit.classes, index, freqs,
                                                residual=D, cut=cut)
    elif sustained is not None:
        # in a song the hat parts' model below 1 kHz (bass, chords, snare bodies) leaves
        # the masks: those bins go to the other outputs by their own models, not all to
        # the accompaniment (docs/log/drums-full-song-decisions.md, twenty-third round)
        P_masks, H_masks, route = low_cut_parts(P_masks, H_masks, kit.classes, index, freqs, residual=D,
                                                cut=SONG_LOW_CUT_HZ, to_residual=False)
    if hats_to is not None:  # the hat parts sound in the cymbals stem (hats_at_snare, above)
        route = np.array(route, copy=True)
        route[hats] = hats_to
    # a drum recording whose toms lie below its kick: the kick part took those toms and the
    # toms parts the kick; each one's hits go to the other's output (nmfaudio.drums.kick_toms)
    H_unswapped = H_masks  # the class activations follow these two steps (kick_toms.rerouted_activations)
    if sustained is None and KICK_TOMS_SWAP:
        P_masks, H_masks, route = kick_toms_parts(P_masks, H_masks, route, kit.classes,
                                                   frame_rate=sr / hop_length)
    # toms judged absent on a kit whose toms lie below its kick: the kick part holds a
    # fill of them; its hits with a tom's spectrum, in runs, go to the toms' output
    # (nmfaudio.drums.lone_toms)
    if sustained is None and LONE_TOMS and "toms" in judged_absent:
        P_masks, H_masks, route = lone_toms_parts(P_masks, H_masks, route, kit.classes, y.reshape(-1, y.shape[-1]).sum(axis=0),
                                                   sr=sr, hop_length=hop_length)
    # the hits of a kick part's tom fill (or of a toms part's kick) are the class's whose
    # output they sound in: the stems, the hits and the MIDI file agree
    rerouted = (rerouted_activations(H_unswapped, H_masks, route, index, D)
                if H_masks is not H_unswapped else None)
    # a ride keeping time (nmfaudio.drums.ride): the closed hat part's strokes go to the
    # cymbals stem — or to the residual when the cymbals are not asked for: never into a
    # requested stem — except at the snare's hits (the pedal chicks of 2 and 4); in a song
    # by a stricter gate on the mixture (ride.SONG_STEADY_SHARE: the music's held notes
    # pass the others), unless the user says it is a ride (ride=True); ride=False: none
    # is looked for
    strokes = with_snare = None
    judged = ride == "auto"  # the signal decides
    # hat parts judged to hold no hats (no_hats): their activations are 0 in the masks,
    # the closed hat part has no strokes to move (ride=True then takes the ride part's); nor
    # hat parts sounding in the cymbals stem already (hats_to): none are looked for
    if (judged or ride is True) and "hihat" in classes and not no_hats and hats_to is None:
        target = classes.index("cymbals") if "cymbals" in classes else D
        # in a drum recording the other hat parts (the open hat) move with the closed one:
        # in a ride groove they hold the ride's wash, not hats (twenty-eighth round)
        also = (parts_of("hihat") if RIDE_OPEN_HAT and sustained is None else ())
        n_before = len(route)
        # in a song the steady-gap gate's ride must also keep one ring shape from gap to gap
        # (nmfaudio.drums.song_ride): the hats of some drum machines pass the gate
        # (docs/log/drums-full-song-decisions.md, songride round)
        no_ring_shape = (judged and sustained is not None and song_ride.SONG_RING_SHAPE
                         and not song_ride.is_shape_ride(H_masks, kit.classes, magnitude, sr=sr, n_fft=n_fft,
                                                         hop_length=hop_length))
        if not no_ring_shape:
            P_masks, H_masks, route, strokes, with_snare = move_strokes(
                P_masks, H_masks, route, kit.classes, magnitude, sr=sr, n_fft=n_fft, hop_length=hop_length,
                target=target, forced=ride is True, song=sustained is not None, also=also)
        if strokes is not None and RIDE_OPEN_HAT_HITS and len(route) > n_before + 1:
            # the other hat parts' moved shares (appended after the closed part's) are the
            # ride's strokes in the cymbals' stem: the activations follow, or the hi-hat's
            # hits would keep what its stem lost (as kick_toms.rerouted_activations)
            strokes = strokes + H_masks[n_before + 1:].sum(axis=0)
        if strokes is not None and RIDE_STROKE_SPLIT and judged and sustained is None and target != D:
            # ... where the kit's cymbal parts hold as much: a shaker or tambourine the hat
            # template took with the strokes goes to the residual (measured on drum
            # recordings only; ride=True: the user says the part's strokes are a ride's,
            # all of them move)
            P_masks, H_masks, route = split_strokes(P_masks, H_masks, route, kit.classes,
                                                    np.arange(n_before, len(route)), D)
    moved = strokes is not None
    # song mode, a ride groove found (its strokes moved): what the hat parts keep — the
    # pedal chicks at the snare's hits, under the percussion and the ride's wash they took —
    # sounds in the cymbals stem too (the residual's when the cymbals are not asked for), as
    # hat parts at the snare's hits do (hats_at_snare above): the hi-hat stem is silent, its
    # activation (the hat parts' less the strokes) and hits kept (sounds_in); the drums and
    # the accompaniment keep their masks; at 44.1 kHz and up, where it was measured, as the
    # presence test (docs/log/drums-full-song-decisions.md, songhat60 and hatkeep62)
    if (moved and RIDE_SONG_HATS and sustained is not None and presence_test and adapt and "hihat" in classes
            and not no_hats and sr >= hat_presence.HAT_MIN_SR):
        route = np.where(np.asarray(route) == classes.index("hihat"), target, route)
        sounds_in = {"hihat": _output_name(classes, target)}
    # no ride, a drum recording: where the hat parts' model sits at the snare's hits (quiet
    # hats under a loud snare: they explain its wires), their excess over their own level
    # around is the snare's (nmfaudio.drums.snare_wires; not in a ride groove, whose hats
    # are the pedal chicks at the snare's hits)
    if not moved and sustained is None and "hihat" in classes:
        P_masks, H_masks, route = snare_excess_parts(P_masks, H_masks, route, kit.classes,
                                                     frame_rate=sr / hop_length)
    # the ride part's own hits: judged in drum recordings only (not measured on songs)
    if ((judged and sustained is None) or ride is True) and not moved and "cymbals" in classes:
        # ... or the kit's ride part took the strokes: already the cymbals', picked apart
        # (ride=True: the closed hat part had none to move — no such part, no hi-hat
        # stem, or hat parts judged to hold no hats — so the ride part's hits are the
        # ride's, as "auto" may find them)
        strokes = ride_part_strokes(P_masks, H_masks, kit.classes, magnitude, sr=sr, n_fft=n_fft,
                                    hop_length=hop_length, forced=ride is True)
    # each free component goes to the residual, except in a song one that looks like a
    # drum the templates could not fit (a tom pitched far above the bundled ones: its
    # template at 150-400 Hz, its activation percussive; nmfaudio.drums.free_drum):
    # that one goes to the toms stem (docs/log/drums-full-song-decisions.md, thirty-fourth round).  Not
    # with the music loud enough for the hit levels in full (hit_share 1: energy share from
    # 0.45): there the component holds music too (BSS Eval on the two tuning songs at -6 dB
    # it judged a drum: all drums -0.14 / -0.51 dB)
    free_output = np.full(fit.W_free.shape[1], D)
    if free and sustained is not None and hits < 1 and "toms" in classes:
        free_output[drum_like_free(fit.W_free, fit.H_free.reshape(-1, C, N), band_low_hz)] = classes.index("toms")
    # ... and in a song one whose template lies almost all above 8 kHz (crash attacks, hats
    # and shakers the templates left; the music has almost nothing there) goes to the
    # cymbals stem, at every level (free_drum.high_free; docs/log/drums-full-song-decisions.md,
    # thirty-sixth round: the 42 tuning songs' accompaniment at +6 dB +0.17 dB)
    if free and sustained is not None and "cymbals" in classes:
        free_output[high_free(fit.W_free, band_low_hz) & (free_output == D)] = classes.index("cymbals")
    # ... and in a drum recording one whose activation follows the cymbal parts' model (a
    # cymbal's ring the templates left; free_drum.follows_cymbals, docs/log/drums-five-stems-decisions.md,
    # the hat-and-cymbals error round)
    if free and sustained is None and FREE_CYMBALS and "cymbals" in classes and parts_of("cymbals").size:
        labelled = np.arange(len(kit.classes))
        cymbal_parts = parts_of("cymbals")
        other_parts = labelled[~np.isin(labelled, cymbal_parts)]
        cymbal_model = convolutive_model(fit.P[:, cymbal_parts], H_masks[cymbal_parts]).sum(axis=(0, 1))
        other_model = convolutive_model(fit.P[:, other_parts], H_masks[other_parts]).sum(axis=(0, 1))
        free_model = fit.W_free.sum(axis=0)[:, None] * fit.H_free.reshape(-1, C, N).sum(axis=1)
        free_output[follows_cymbals(cymbal_model, other_model, free_model) & (free_output == D)] = \
            classes.index("cymbals")
    factors = []
    for d in range(D + 1):
        parts = np.flatnonzero(route == d)
        W, Hs = convolutive_factors(P_masks[:, parts], H_masks[parts]) if parts.size else (None, None)
        mine = np.flatnonzero(free_output == d) if free else ()
        if len(mine):
            W_free = free["W_free"][:, mine]
            H_free = free["H_free"].reshape(-1, C * N)[mine]
            W = W_free if W is None else np.hstack([W, W_free])
            Hs = H_free if Hs is None else np.vstack([Hs, H_free])
        factors.append(None if W is None else (W, Hs))
    # song mode: a held, harmonic bass note's cells below 250 Hz leave the kick and toms
    # stems for the residual, their masks 0 there (nmfaudio.drums.bass_lines;
    # docs/log/drums-full-song-decisions.md, "song bass round" and "bass step in the masks"): the toms'
    # and the kick's decays lie over the bass notes after a hit
    leave_out = None
    lined = [classes.index(c) for c in bass_lines.CLASSES if c in classes]
    if sustained is not None and bass_lines.BASS_LINES and lined:
        cells = bass_lines.channel_cells(magnitude, sr=sr, n_fft=n_fft, hop_length=hop_length)
        leave_out = [(d, cells) for d in lined]
    # stereo drum recordings: each bin's left/right balance moves it toward the outputs
    # whose pan explains it (drum_model.SPATIAL_ITER); not in a song (not measured there:
    # the music's pans are not the drums')
    # drum recordings: the hi-hat's model held under its usual level per bin, so that the
    # hats' excess at louder classes' hits (snare wires, percussion, cymbal attacks) leaves
    # the hat stem (nmfaudio.drums.hat_ceiling; not in a song: not measured there)
    ceiling = None
    if HAT_CEILING and sustained is None and "hihat" in classes and factors[classes.index("hihat")] is not None:
        hat = classes.index("hihat")
        ceiling = (hat, hat_ceilings(*factors[hat], C), classes.index("kick") if "kick" in classes else None)
    # the full-resolution magnitude is read no further here (in a song, the accompaniment's
    # and the rings' SpreadSustained keep it for the masks): released before the stems'
    # array is made, so that array takes its pages rather than fresh ones
    del magnitude
    n_samples = y.shape[-1]
    drums = np.empty((D, C, n_samples), dtype=y.dtype)
    residual_modelled = masked_stems(X, factors, drums, mask_power=mask_power, n_fft=n_fft, hop_length=hop_length,
                                     sustained=sustained, ring=rings, leave_out=leave_out, hat_ceiling=ceiling,
                                     spatial=drum_model.SPATIAL_ITER if sustained is None else 0, release=True)
    # the STFT (the largest array here) is done with, its pages given back as the stems were
    # made (release): the residual takes the rest
    del X
    sources = {label: (drums[k, 0] if y.ndim == 1 else drums[k]) for k, label in enumerate(classes)}
    # The masks partition the mixture and the inverse STFT is linear, so the residual's
    # track is the mixture minus the drums (to the STFT round trip's ~1e-7 of the peak):
    # one inverse STFT fewer, and the tracks add up to the input to float rounding.
    # (no model for it: the masks gave every bin to a drum, so the residual is the offset alone)
    residual = (_mixture_minus(y, drums) if residual_modelled
                else np.where(track_reads.digital_silence(y), y.dtype.type(0), np.broadcast_to(offset, y.shape)))
    sources["residual"] = residual.astype(y.dtype, copy=False)
    H_out = (H / np.float32(scale)).astype(np.float32)  # (K, C, N)
    # no hats: no hat activations either (hits() takes none from them; its step 7 still adds the
    # recording's high-band onsets, at strength 0: hi-hat F 0.73 against 0.42 without them on the
    # electronic tuning songs at -6 dB, review60 in docs/drums-full-song.md)
    if no_hats:
        H_out[hats] = 0

    def as_output(h):  # an activation (C, N) in the input's units: (N,) for mono input
        if h is None:
            return None
        h = (h / np.float32(scale)).astype(np.float32)
        return h[0] if y.ndim == 1 else h

    strokes_out, with_snare_out = as_output(strokes), as_output(with_snare)
    activations = {}
    for d, label in enumerate(classes):  # a class's activation: the sum of its parts'
        summed = H_out[index == d].sum(axis=0)
        if rerouted is not None:
            summed = np.maximum(summed + rerouted[d] / np.float32(scale), 0)
        summed = summed[0] if y.ndim == 1 else summed
        if moved and label in ("hihat", "cymbals"):  # the moved strokes are the cymbals'
            summed = np.maximum(summed - strokes_out, 0) if label == "hihat" else summed + strokes_out
        mine = np.flatnonzero(free_output == d) if free and label == "toms" else ()
        if len(mine):  # a free component judged a drum (free_drum.drum_like_free) gives the toms
            # their hits too, or the MIDI would lack the toms the stem holds (docs/transcription.md,
            # "In a song"); not the cymbals' high_free ones: they hold hats and shakers too (false
            # crashes: an 808 tuning song's cymbals F 0.25 -> 0.18). A drum template sums to 1, so
            # its activation is the magnitude a hit adds; a free component's per frame is its
            # template's sum times its activation
            H_own = (fit.H_free.reshape(-1, C, N)[mine] * fit.W_free[:, mine].sum(axis=0)[:, None, None]).sum(axis=0)
            summed = summed + as_output(H_own)
        activations[label] = summed
    adapted = DrumTemplates(P, kit.classes, kit.sr, kit.n_fft, kit.hop_length, kit.window, kit.n_shots,
                            f"{kit.source} (adapted to {name})")
    return DrumSeparation(sources=sources, activations=activations, templates=adapted, sr=sr, n_fft=n_fft,
                          hop_length=hop_length, loss=np.asarray(fit.loss), n_iter=fit.n_iter, mask_power=mask_power,
                          name=name, beta=beta, accompaniment=sustained is not None,
                          sustained_share=sustained_fraction, tonal_share=tonal,
                          ride_strokes=strokes_out, ride_with_snare=with_snare_out,
                          absent=tuple(c for c in classes if c in judged_absent),  # stems only, in their order
                          sounds_in=sounds_in,
                          band_limit_hz=limit_hz, input_band_hz=band_hz)
