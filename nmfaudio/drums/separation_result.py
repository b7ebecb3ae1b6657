"""The result of :func:`~nmfaudio.drums.separation.separate_drums`: :class:`DrumSeparation` —
the stems (``save``, ``two_stems``) and the hits picked from its activations and tracks
(``hits``, ``detect_hits_in``, ``write_midi``, ``write_onsets``; the picking itself is
:func:`nmfaudio.drums.hits.detect_hits`), with a ride's rules on them
(:mod:`nmfaudio.drums.ride`: the strokes picked from their own activation, their echoes
in the hat's and the crashes' hits dropped).  Nothing here fits or separates.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nmfaudio import audio
from nmfaudio._validation import check_keywords
from nmfaudio.drums import track_reads
from nmfaudio.drums.drumless import (DEFAULT_CLASSES, DRUMLESS_CLASSES, drumless_frames, drumless_hits, drumless_mode,
                                     played_frames)
from nmfaudio.drums.hat_pulse import DOUBLE_S, lone_doubles
from nmfaudio.drums.ride import (CRASH_SHARE, ECHO_SHARE, STROKE_LABEL, backbeat_snare, hat_echoes, stroke_bands,
                                 stroke_rings)
from nmfaudio.drums.templates import CLASSES, DrumTemplates

__all__ = ["DrumSeparation"]


@dataclass
class DrumSeparation:
    """The result of :func:`~nmfaudio.drums.separation.separate_drums`.

    Attributes
    ----------
    sources : dict {str: ndarray}
        One track per requested drum class plus ``"residual"``, each with the input's
        shape ((n_samples,) or (n_channels, n_samples)) and dtype; they add up to the
        mixture.
    activations : dict {str: ndarray}
        Per requested drum class, its activation over time (the sum of its parts'):
        shape (n_frames,) for mono input, (n_channels, n_frames) otherwise (frame t is
        at ``t · hop_length / sr`` seconds).  Peaks mark the onsets.
    templates : DrumTemplates
        The adapted templates of every modelled class (at full frequency resolution).
    sr : int or None
    n_fft, hop_length : int
    loss : ndarray, shape (n_iter + 1,)
        The β-divergence of the (band-compressed) fit per iteration.  For multichannel
        input it is the fit to the channels' sum (before the per-channel gains), so it is
        not comparable with a per-channel fit's loss or a mono run's on one channel —
        except when the channels are all equal: that input gets the mono separation, and
        its loss is the mono run's on one channel.
    n_iter : int
    mask_power : float
    name : str
        File stem for :meth:`save` (the input file's stem, or "mixture").
    ride_strokes : ndarray or None
        In a recording whose time is kept on a ride (:mod:`nmfaudio.drums.ride`), the
        strokes taken from the closed hi-hat part (in a drum recording with the other hat
        parts' share moved with them: :data:`~nmfaudio.drums.separation.RIDE_OPEN_HAT`,
        :data:`~nmfaudio.drums.separation.RIDE_OPEN_HAT_HITS`)
        — or, when that part's hits are no
        ride's but the ride part's are, the ride part's own activation (nothing moved:
        :func:`~nmfaudio.drums.ride.ride_part_strokes`): shape (n_frames,) for mono
        input, (n_channels, n_frames) otherwise.  Part of ``activations["cymbals"]``
        (not of the hi-hat's); with the cymbals not asked for the moved strokes went to
        the residual.  None when no ride was found.
    ride_with_snare : ndarray or None
        In a ride recording, the closed hi-hat part's activation within
        :data:`~nmfaudio.drums.ride.SNARE_GUARD_S` of the snare's hits, where it stays in
        ``activations["hihat"]`` (pedal chicks; a stroke with the snare is there too), 0
        elsewhere; the shape of ``ride_strokes``.  None when no ride was found.
    """

    sources: dict
    activations: dict
    templates: DrumTemplates
    sr: int | None
    n_fft: int
    hop_length: int
    loss: np.ndarray
    n_iter: int
    mask_power: float
    name: str = "mixture"
    beta: float = 1.0
    #: Classes whose templates came from the bundled ones (the given templates lacked them).
    borrowed: tuple = ()
    #: Requested classes whose stem was left silent because a presence decision judged
    #: them not playing (``presence_test`` of :func:`~nmfaudio.drums.separation.separate_drums`): the toms by the
    #: presence test in a drum recording, the hi-hat in a song at 44.1 kHz and up with
    #: adapted templates (:mod:`nmfaudio.drums.hat_presence`).  Block-wise: the classes
    #: absent in every block but those of digital silence (a class playing in one block
    #: has a stem that is not silent).  Empty with ``presence_test=False``.  (Silent: the
    #: class's model is zero; with ``n_free=0`` its stem keeps a trace, the equal share of
    #: bins that no model explains.)
    absent: tuple = ()
    #: Requested classes whose parts sound in another output, by that output's name
    #: (``{"hihat": "cymbals"}``, or ``"residual"`` when the cymbals are not asked for): in
    #: a song, hat parts whose fitted model sits at the snare's hits
    #: (:func:`~nmfaudio.drums.hat_presence.hats_at_snare`) go to the cymbals stem as a
    #: ride's strokes do, and the class's own stem is silent.  The class is not
    #: :attr:`absent`: it plays, its activation stays its parts', and :meth:`hits` reads its
    #: hits' attacks on its track and that output's together (the cymbals' activation, and
    #: so their hits, hold none of its parts).  Block-wise: the classes whose parts sounded
    #: elsewhere in some block.  Empty with ``presence_test=False``.
    sounds_in: dict = field(default_factory=dict)
    #: Block-wise only: the requested classes judged not playing (as for :attr:`absent`) in
    #: some blocks but not in all, so not in :attr:`absent`, with the stretches where their
    #: stem is silent — ``{"hihat": ((150.0, 180.0),)}``: seconds, the blocks' own parts
    #: (their edges cross-faded over 4 s), neighbouring blocks joined.  Their hits there are
    #: lost too.  Empty in memory.
    absent_in: dict = field(default_factory=dict)
    #: Block-wise only: the stretches (seconds, as for :attr:`absent_in`) whose blocks found
    #: a ride (:attr:`ride_strokes`, zero elsewhere) when others did not; None when every
    #: block or none found one, and in memory.
    ride_in: tuple | None = None
    #: Why the block-wise mode was chosen by itself (:mod:`nmfaudio.drums.blockwise`), or None.
    blockwise_reason: str | None = None
    #: Whether the accompaniment model was used (``accompaniment=`` of separate_drums,
    #: "auto" decided), the sustained part's share of the band magnitude below 1.5 kHz
    #: (:func:`nmfaudio.drums.accompaniment.decision_share`), and the share in sustained
    #: spectral peaks below 1.5 kHz that "auto" decided on
    #: (:func:`nmfaudio.drums.accompaniment.tonal_share`).
    accompaniment: bool = False
    sustained_share: float | None = None
    tonal_share: float | None = None
    #: The ride's strokes taken from the closed hi-hat part, or the ride part's own
    #: (see Attributes): their activation — part of ``activations["cymbals"]``, or of
    #: the residual when the cymbals are not asked for — or None.
    ride_strokes: np.ndarray | None = None
    #: The closed hi-hat part's activation at the snare's hits in a ride recording (see
    #: Attributes), or None.
    ride_with_snare: np.ndarray | None = None
    #: Each channel's DC offset (its mean over the recording), shape (1,) for mono input,
    #: (n_channels, 1) otherwise: kept out of the fit and the masks, it is in the residual
    #: (:func:`~nmfaudio.drums.separation.separate_drums`); :meth:`hits` and :meth:`detect_hits_in` read the mixture
    #: and the residual without it.  None: not known (no offset taken off).
    offset: np.ndarray | None = None
    #: The input file (None for an array): :meth:`save`, :meth:`write_midi` and
    #: :meth:`write_onsets` never write over it, even with ``overwrite``.
    source: Path | None = field(default=None, repr=False)
    #: Where the templates stopped (Hz) for a band-limited recording above their rate
    #: (:mod:`nmfaudio.drums.bandwidth`: nothing above it, e.g. upsampled from 22.05 kHz),
    #: or None (nothing cut).  Block-wise: the highest of the blocks' that were cut.
    band_limit_hz: float | None = None
    #: The rate (Hz) the templates were made at (before their conversion to ``sr``).
    templates_sr: int | None = None
    #: The recording's band (Hz) when it reaches far above templates made at a lower rate
    #: whose band stops short of the hats' (:func:`nmfaudio.drums.bandwidth.band_beyond_templates_hz`:
    #: learned below 20 kHz); the hats may then go to the cymbals or the residual, and
    #: :func:`~nmfaudio.drums.separation.separate_drums` warns.  None otherwise.  Block-wise: the
    #: highest of the blocks'.
    input_band_hz: float | None = None

    def __repr__(self) -> str:
        """One line: the name, sources and their shape, rate, STFT and fit -- not the
        arrays (the dataclass's own repr printed every track, activation and template:
        30 KB, 421 lines for the bundled loop in a REPL)."""
        tracks = next(iter(self.sources.values()), None)
        shape = (f"{tuple(tracks.shape)} {tracks.dtype}" if tracks is not None
                 else "none: streamed to stream_to")
        loss = f"{float(self.loss[-1]):.4g}" if len(self.loss) else "n/a"
        extras = "".join(f", {key}={value!r}" for key, value in
                         (("absent", self.absent), ("absent_in", self.absent_in), ("sounds_in", self.sounds_in),
                          ("ride_in", self.ride_in), ("borrowed", self.borrowed),
                          ("band_limit_hz", self.band_limit_hz), ("blockwise_reason", self.blockwise_reason))
                         if value)
        return (f"DrumSeparation(name={self.name!r}, sources={list(self.sources)} of {shape}, sr={self.sr}, "
                f"n_fft={self.n_fft}, hop_length={self.hop_length}, n_iter={self.n_iter}, final loss {loss}, "
                f"accompaniment={self.accompaniment}{extras})")

    def two_stems(self) -> dict:
        """``{"drums": the sum of the drum stems, "accompaniment": the residual}``, each the
        input's shape; they add up to the mixture.  With ``classes`` a subset, the drums
        not asked for are in the accompaniment."""
        self._check_tracks("two_stems()")
        residual = self.sources["residual"]
        drums = sum((self.sources[c] for c in self.classes), np.zeros_like(residual))
        return {"drums": drums.astype(residual.dtype, copy=False), "accompaniment": residual}

    def _check_tracks(self, what: str) -> None:
        """Refuse ``what`` (a method needing the tracks) on a streamed result, whose tracks
        went to ``separate_drums(..., stream_to=)`` and whose ``sources`` is empty."""
        if not self.sources:
            raise ValueError(f"{what} needs the tracks, and this result holds none: they were streamed to stream_to "
                             "(result.sources is empty). Write them there, or leave stream_to out; for the hits, "
                             "result.detect_hits_in({class: track}, mixture=...) with the tracks written")

    @property
    def classes(self) -> tuple:
        """The separated drum classes (the stems without "residual")."""
        return tuple(self.activations)

    def file_names(self, name: str | None = None) -> list[str]:
        """``<name>_kick.wav``, ``<name>_snare.wav``, …, ``<name>_residual.wav``."""
        stem = self.name if name is None else str(name)
        if not stem or os.sep in stem or (os.altsep and os.altsep in stem):
            raise ValueError(f"name={stem!r} must be a plain file stem, without folders")
        return [f"{stem}_{source}.wav" for source in self.sources]

    def save(self, directory, *, overwrite: bool = False, name: str | None = None) -> list[Path]:
        """Write ``<name>_<source>.wav`` for every source into ``directory`` (created if
        missing): 32-bit float WAV at ``sr``, all-or-nothing (temporary files renamed
        at the end); existing files raise FileExistsError unless ``overwrite``, and the
        input file (:attr:`source`) is never written over: ValueError, even with ``overwrite``.

        Returns
        -------
        list of pathlib.Path, in the order of ``sources``
        """
        self._check_tracks("save()")
        if self.sr is None:
            raise ValueError("sr is unknown: pass sr= to separate_drums() when giving an array, then save")
        return audio.save_tracks(directory, self.file_names(name), self.sources.values(), self.sr,
                                 overwrite=overwrite, inputs=[self.source])

    # --- hits (the logic is in nmfaudio.drums.hits) ------------------------------------
    @property
    def residual_checks_hits(self) -> bool:
        """Whether :meth:`hits` passes the residual (step 8 of
        :func:`~nmfaudio.drums.hits.detect_hits`): only where it holds what no drum took —
        a drum recording (with the accompaniment model the residual is the music) whose
        stems include every drum class (one not asked for goes to the residual: a kick or
        hats there would explain the real snare hits played with them)."""
        return not self.accompaniment and set(CLASSES) <= set(self.classes)

    def hits(self, **options):
        """The drum hits: :meth:`detect_hits_in` on the separated tracks (to check each
        attack) and, with the mixture (the sum of the tracks), to time it; where
        :attr:`residual_checks_hits` (a drum recording with every drum class a stem) the
        residual is passed too: a weak snare hit where it is louder than the snare's
        track is dropped (:func:`~nmfaudio.drums.hits.detect_hits`, step 8).

        In a song (the accompaniment model) the kick and snare hits of a stretch without drums
        (a drumless intro, break or outro, whose "hits" are the music's) are dropped
        (:mod:`nmfaudio.drums.drumless`): where the kick's track holds a share of the mixture
        more than 8 dB under its usual level over 4 s and the snare's loud hits there are more
        than 9 dB weaker than its loud hits elsewhere (90th percentiles of the strengths; a
        build-up's or a snare intro's snare, played without the kick, keeps the stretch's
        hits).  ``drumless=True`` drops the toms' hits there too (a tom intro, without kick or
        snare, then loses toms); ``drumless=False`` turns it off.  A drum recording's hits are
        never judged.

        Returns
        -------
        DrumHits
            ``result.hits()["snare"].times`` / ``.strengths`` / ``.velocities``;
            ``.write_midi(path)``, ``.write_csv(path)``.
        """
        drumless = drumless_mode(options.pop("drumless", None))
        _check_hit_options(options, "hits")
        self._check_tracks("hits()")
        centred = ()
        if "mixture" not in options:  # mixture=None turns the mixture's timing off
            # the tracks add up to the mixture: sum()'s bits, a block at a time (track_reads.track_sum);
            # this array is ours, so it loses the offset in place (detect_hits_in would copy it)
            mixture = track_reads.track_sum(list(self.sources.values()))
            options["mixture"] = track_reads.without_offset(mixture, self.offset, in_place=True)
            centred = ("mixture",)
        if "residual" not in options and self.residual_checks_hits:  # residual=None turns that check off
            options["residual"] = self.sources["residual"]
        signals = {name: self.sources[name] for name in self.activations if name in self.sources}
        return self._detect_hits_in(self._hosted(signals, self.sources), options, centred, drumless=drumless)

    def detect_hits_in(self, signals, **options):
        """:func:`nmfaudio.drums.hits.detect_hits` on ``activations`` with the given tracks
        (arrays, or readers of the stems written block by block: the streamed mode).

        The percussion stem (``"other"``, when asked for) mixes several instruments and has
        no General MIDI note of its own: it gets hits only with ``notes={"other": NOTE}``.

        A ride's strokes (``ride_strokes``, and ``ride_with_snare`` at the snare's hits)
        are picked from their own activation, as ``"cymbals_ride"`` (General MIDI 51;
        checked on the cymbals' track: a sub-template's track is its class's); the
        hi-hat's hits that are only their echo in the other hat parts, and the cymbals'
        hits at a stronger stroke, are dropped
        (:func:`nmfaudio.drums.ride.hat_echoes`), as are the hi-hat's weak hits whose
        high band the cymbals' track holds (:func:`nmfaudio.drums.ride.stroke_bands`)
        and those whose high band still rings in the hat's track
        (:func:`nmfaudio.drums.ride.stroke_rings`) — but for the pedal chicks at the
        snare's backbeat (:func:`nmfaudio.drums.ride.backbeat_snare`); the lone doubles
        (``double_s``, step 10c of :func:`~nmfaudio.drums.hits.detect_hits`) are judged
        on the hat hits those rules leave.

        Parameters
        ----------
        signals : dict {str: ndarray or reader} or None
            The separated tracks by class name (shape (n_samples,) or (n_channels,
            n_samples)).  A class of :attr:`sounds_in` is read on its track and its
            host's together, the host's given under its name here (``"cymbals"``, or
            ``"residual"``: given only for that).
        **options
            ``drumless=`` as :meth:`hits` (the kick's track among ``signals`` and ``mixture=``
            needed); the rest passed to :func:`~nmfaudio.drums.hits.detect_hits` (``mixture=`` and, where
            :attr:`residual_checks_hits`, ``residual=`` among them).  In a song (the
            accompaniment model) ``min_timbre`` is 0 unless given: the snare's stem holds
            the music under its hits' bodies.

        Returns
        -------
        DrumHits
        """
        drumless = drumless_mode(options.pop("drumless", None))
        if signals:  # a class of sounds_in on its host's track too (given as "cymbals" or "residual")
            signals = self._hosted(signals, signals)
        return self._detect_hits_in(signals, options, drumless=drumless)

    def _hosted(self, signals: dict, tracks: dict) -> dict:
        """``signals`` with each class of :attr:`sounds_in` read on its own track and its
        host's (from ``tracks``, by output name) together: its parts' sound is in the host's
        stem, its own is silent (or, block-wise, silent in the blocks where they moved)."""
        signals = dict(signals)
        for name, host in self.sounds_in.items():
            own, other = signals.get(name), tracks.get(host)
            if own is not None and other is not None:
                signals[name] = track_reads.summed(own, other)
        return signals

    def _detect_hits_in(self, signals, options: dict, centred: tuple = (), *, drumless: bool | None = None):
        """:meth:`detect_hits_in`; ``centred``: the keys of ``options`` ("mixture",
        "residual") already without the offset (:meth:`hits`' own mixture)."""
        from nmfaudio.drums.hits import detect_hits

        _check_hit_options(options, "detect_hits_in")
        if self.sr is None:
            raise ValueError("sr is unknown: pass sr= to separate_drums() when giving an array")
        activations = self.activations
        if "other" in activations and "other" not in (options.get("notes") or {}):
            # the percussion stem mixes several instruments (cowbell, shaker, congas...): no
            # one General MIDI note is theirs, so its hits are picked only with notes={"other": N}
            activations = {name: a for name, a in activations.items() if name != "other"}
        if not activations:  # classes=("other",): no class has a note, so no hits (and empty hit files)
            from nmfaudio.drums.hit_results import DrumHits

            return DrumHits({})
        if self.accompaniment and "min_timbre" not in options:
            # step 8's timbre compares a hit's body with the drum's strongest hits: in a song
            # the snare's stem holds the music there too (bass, keys), and real hits went
            # (docs/log/transcription-decisions.md, the snare-timbre round: songs' snare recall 0.50 -> 0.45 at 0 dB)
            options = {**options, "min_timbre": 0.0}
        hosts = sorted({host for name, host in self.sounds_in.items() if name in activations and host in activations})
        if hosts and options.get("weak_share_db") is None:
            # a class whose stem holds another class's parts (the hats' in the cymbals'; sounds_in)
            # takes no weak peaks at that class's hits (step 7b of detect_hits): its track holds
            # the recording's band there because those hits sound in it, and they are hits
            # already — the other class's (hatkeep62: cymbals F of the acoustic seed-7 songs at
            # -6 dB 0.33 / 0.50 -> 0.22 / 0.24 with them)
            options = {**options, "weak_share_db": {host: HOSTED_WEAK_SHARE_DB for host in hosts}}
        ride = self.ride_strokes is not None and "cymbals" in activations
        if ride:
            activations = dict(activations)
            activations["cymbals"] = np.maximum(activations["cymbals"] - self.ride_strokes, 0)
            # the strokes played with the snare stayed in the hat's activation: picked for both
            activations[STROKE_LABEL] = (self.ride_strokes if self.ride_with_snare is None
                                         else self.ride_strokes + self.ride_with_snare)
            # a lone double (step 10c) is judged on the hat hits the ride's rules below leave: before
            # them a stroke's echo in the hat parts pairs with the pedal chick played with it
            given = options.get("double_s")
            double_s = _hat_double_s(given)
            if "hihat" in activations:  # (a ride with no hi-hat stem asked for: nothing to judge)
                by_class = dict(given) if isinstance(given, dict) else ({} if given is None else
                                                                        {name: given for name in activations})
                options = {**options, "double_s": {**by_class, "hihat": 0.0}}
        # the mixture and the residual as the fit saw them: without the recording's DC offset
        # (a constant under every hit: 0.03 of full scale lost 30 of the tuning performances'
        # 458 hits; docs/log/drums-five-stems-decisions.md, the DC-offset round)
        options = {**options, **{key: track_reads.without_offset(options[key], self.offset)
                                 for key in ("mixture", "residual")
                                 if options.get(key) is not None and key not in centred}}
        reference = options.get("mixture")
        tracks = [t for t in (signals or {}).values() if t is not None]
        if (reference is None and tracks and not any(track_reads.is_reader(t) for t in tracks)
                and len({np.shape(t) for t in tracks}) == 1):
            reference = sum(np.asarray(t) for t in tracks)  # mixture=None: the tracks add up to it
        signs = track_reads.polarity_signs(reference) if reference is not None else None
        if signs is not None:
            # channels of opposite polarity (L = -R): the hits read the channels' mean, which
            # cancels there (no hits at all); read every track with its channels in phase
            signals = None if signals is None else {name: track_reads.with_signs(track, signs)
                                                    for name, track in signals.items()}
            options = {**options, **{key: track_reads.with_signs(options[key], signs)
                                     for key in ("mixture", "residual") if options.get(key) is not None}}
        found = detect_hits(activations, sr=self.sr, hop_length=self.hop_length, signals=signals, **options)
        if drumless is not False and self.accompaniment:
            # a song's drumless stretches (an intro, a break, an outro): the kick and snare hits
            # there are the music's, and the toms' when asked for (nmfaudio.drums.drumless)
            found = _without_drumless(found, (signals or {}).get("kick"), options.get("mixture"), sr=self.sr,
                                      classes=DRUMLESS_CLASSES if drumless else DEFAULT_CLASSES)
        if not ride:
            return found
        strokes, classes = found[STROKE_LABEL], dict(found.classes)
        for name, share in (("hihat", ECHO_SHARE), ("cymbals", CRASH_SHARE)):
            if name in classes:  # a stroke's echo in the hat's other parts / the crash parts
                hit = classes[name]
                keep = ~hat_echoes(hit.times, hit.strengths, strokes.times, strokes.strengths, share=share)
                classes[name] = _kept_hits(hit, keep)
        tracks = signals or {}
        if "hihat" in classes and tracks.get("hihat") is not None and tracks.get("cymbals") is not None:
            # a weak hat hit that is a stroke held by the cymbals' track (ride.stroke_bands)
            hit = classes["hihat"]
            hit = _kept_hits(hit, ~stroke_bands(hit.times, hit.strengths, tracks["hihat"], tracks["cymbals"],
                                                sr=self.sr))
            # measured on the hits left: their strongest is the reference of "weak" (ride.stroke_rings)
            # ... but not the pedal chicks played with the snare's backbeat, which the routing kept in
            # the hat's stem (ride.backbeat_snare)
            classes["hihat"] = _kept_hits(hit, ~stroke_rings(hit.times, hit.strengths, tracks["hihat"], sr=self.sr,
                                                             snare_times=backbeat_snare(classes)))
        if "hihat" in classes and double_s > 0:
            classes["hihat"] = _kept_hits(classes["hihat"], ~lone_doubles(classes["hihat"].times, shortest=double_s))
        return dataclasses.replace(found, classes=classes)

    @property
    def duration(self) -> float | None:
        """The recording's length in seconds (samples / ``sr``); None when the tracks were
        streamed to files (``stream_to``: ``sources`` is empty) or ``sr`` is not known."""
        tracks = next(iter(self.sources.values()), None)
        if tracks is None or self.sr is None:
            return None
        return np.shape(tracks)[-1] / self.sr

    def write_midi(self, path, *, overwrite: bool = False, bpm: float | None = None, ppq: int | None = None,
                   **options) -> Path:
        """Write the hits as a General MIDI drum file (see :meth:`DrumHits.write_midi`:
        ``bpm``, its tempo, default 120; ``ppq``, its ticks per quarter note) whose track
        ends at the end of the recording (:attr:`duration`, when known); ``options`` go to
        :meth:`hits`.  The input file (:attr:`source`) is never written over: ValueError,
        even with ``overwrite``.  Hits on a grid: :func:`nmfaudio.drums.tempo_grid.quantize`,
        then its result's ``write_midi``."""
        _check_hit_options(options, "write_midi")
        audio.check_not_inputs([path], [self.source], force="overwrite=True")
        from nmfaudio.drums.hit_files import _hit_file_path

        path = _hit_file_path(path, "midi")  # before the hits are picked, not after (review11)
        tempo = {} if ppq is None else {"ppq": ppq}  # DrumHits.write_midi's default otherwise
        return self.hits(**options).write_midi(path, overwrite=overwrite, duration=self.duration, bpm=bpm, **tempo)

    def write_onsets(self, path, *, overwrite: bool = False, **options) -> Path:
        """Write the hits as CSV ``time_s,class,velocity,strength`` (see
        :meth:`DrumHits.write_csv`); ``options`` go to :meth:`hits`.  The input file
        (:attr:`source`) is never written over: ValueError, even with ``overwrite``."""
        _check_hit_options(options, "write_onsets")
        audio.check_not_inputs([path], [self.source], force="overwrite=True")
        from nmfaudio.drums.hit_files import _hit_file_path

        path = _hit_file_path(path, "csv")  # before the hits are picked, not after (review11)
        return self.hits(**options).write_csv(path, overwrite=overwrite)


#: ``weak_share_db`` of :func:`~nmfaudio.drums.hits.detect_hits` for a class whose stem holds
#: another class's parts (:attr:`DrumSeparation.sounds_in`): above any share, so none of its
#: weak peaks at that class's hits (step 7b) is taken.
HOSTED_WEAK_SHARE_DB = 200.0

#: Keywords a user of ``--quantize GRID`` passes to ``hits()`` / ``write_midi()`` for it.
GRID_WORDS = frozenset({"quantize", "grid"})


def _check_hit_options(options, called: str) -> None:
    """The keywords of ``hits(**options)`` / ``detect_hits_in(signals, **options)`` are
    :func:`~nmfaudio.drums.hits.detect_hits`' own (but those the method passes itself);
    a misspelt one is named with the method the user called and the closest option."""
    import inspect

    from nmfaudio.drums.hits import detect_hits

    passed = {"activations", "sr", "hop_length", "signals"}  # the method gives these itself
    given = sorted(passed & set(options))
    if given:  # Python's "got multiple values for keyword argument" named detect_hits
        raise TypeError(f"{called}() sets {given[0]!r} itself (the separation's); leave it out")
    grid = sorted(GRID_WORDS & set(options))
    if grid:  # the CLI's --quantize: a function of its own (it needs the recording's beats)
        raise TypeError(f"{called}() got an unexpected keyword argument {grid[0]!r}; the hits are snapped to a "
                        "grid by nmfaudio.drums.hits.quantize(result.hits(), y, sr, grid=16, "
                        "hop_length=result.hop_length) (y: the recording; the separation's hop, as --quantize), "
                        "then the quantized hits' .write_midi(path) or .write_csv(path)")
    parameters = inspect.signature(detect_hits).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return  # a wrapper taking any keyword (a test's spy): it passes them on, to be checked there
    check_keywords(options, [name for name in parameters if name not in passed], called)


def _hat_double_s(value) -> float:
    """The hi-hat's ``double_s`` of :func:`~nmfaudio.drums.hits.detect_hits` from the
    option as given (None, a number, or a dict by class)."""
    from nmfaudio.drums.hits import _check_real  # the check detect_hits makes of the same option

    label = "double_s"
    if isinstance(value, dict):
        value, label = value.get("hihat"), "double_s['hihat']"
    return DOUBLE_S if value is None else _check_real(value, label, low=0)


def _without_drumless(found, kick, mixture, *, sr, classes=DRUMLESS_CLASSES):
    """``found`` (DrumHits) without the hits of ``classes`` in the stretches
    :func:`~nmfaudio.drums.drumless.drumless_hits` judges drumless and
    :func:`~nmfaudio.drums.drumless.played_frames` does not find the snare played in; as it
    is without the kick's track or the mixture."""
    if kick is None or mixture is None:
        return found
    if not any(name in found.classes and len(found.classes[name].times) for name in classes):
        return found
    frames = drumless_frames(kick, mixture, sr=sr)
    snare = found.classes.get("snare")
    if snare is not None and len(snare.times):
        # a stretch without the kick where the snare plays as the drummer does (a build-up, a
        # snare intro) has drums: its hits stay (drumless64)
        frames = frames & ~played_frames(snare.times, snare.strengths, frames)
    kept, dropped = dict(found.classes), {}
    for name in classes:
        if name in kept:
            keep = ~drumless_hits(kept[name].times, frames)
            if not keep.all():
                dropped[name] = int((~keep).sum())
            kept[name] = _kept_hits(kept[name], keep)
    # the counts, for the summary: a default that leaves hits out says so
    return dataclasses.replace(found, classes=kept, drumless=dropped)


def _kept_hits(hit, keep):
    """``hit`` (a ClassHits) with only the hits where ``keep`` (bool, shape (n_hits,)) is True."""
    return dataclasses.replace(hit, times=hit.times[keep], strengths=hit.strengths[keep],
                               velocities=hit.velocities[keep])
