"""``nmfaudio drums`` (kick / snare / toms / hi-hat / cymbals stems) and ``nmfaudio templates learn``.

::

    nmfaudio drums INPUT... -o OUTDIR [--templates DIR_OR_NPZ] [--classes kick,snare,hihat]
                   [--free N] [--stems all|drums] [--accompaniment auto|on|off] [--fixed]
                   [--presence-test on|off] [--ride auto|on|off] [--mask-power P] [--max-iter M] [--n-fft N]
                   [--hop-length H] [--seed S] [--block-seconds S] [--max-memory SIZE]
                   [--plot] [--json] [--force] [--format wav|flac] [--subtype float|pcm16|pcm24] [--jobs N] [--scheduler ADDRESS]
                   [--midi] [--onsets [CSV]] [--quantize GRID] [--drumless [{auto,on,off}]]
    nmfaudio templates learn ONESHOT_DIR -o kit.npz [--classes kick,snare,hihat]
                   [--sr SR] [--n-fft N] [--hop-length H] [--frames T] [--json] [--force]

``drums`` writes ``OUTDIR/<input stem>_kick.wav``, ``_snare.wav``, ``_toms.wav``, ``_hihat.wav``,
``_cymbals.wav`` and ``_residual.wav`` (or, with ``--stems drums``, ``_drums.wav`` and
``_accompaniment.wav``; 32-bit float WAV at the input's rate and channel count; they add up to
the input) and, with ``--plot``, ``OUTDIR/<input stem>_drums.png``; with ``--midi``
``OUTDIR/<input stem>_drums.mid`` and with ``--onsets`` ``OUTDIR/<input stem>_onsets.csv``
(or the CSV path given, for one input): the hits (docs/transcription.md).  Existing outputs are
refused before any work unless ``--force``; outputs are written to temporary names and
renamed at the end, so a failed run leaves no partial files.

Several inputs or folders (searched recursively) run as a batch (:mod:`nmfaudio.batch`):
sub-folders are kept under OUTDIR, an input whose outputs all exist is skipped, one input's
failure does not stop the others, and ``OUTDIR/nmfaudio-manifest.json`` records each input.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from nmfaudio.cli import (CLIError, check_output_parent, count, output_folder, progress_bar, refuse_outputs,
                          signals_deferred, warnings_as_notes)
from nmfaudio.cli._args import add_max_memory, non_negative_int, path_arg, positive_int, seconds, soft_mask_power
from nmfaudio.cli._batch import add_batch_arguments, add_output_arguments, file_format, is_batch, plan_one, run_batch

#: Said on the line of a stem a presence decision left silent (``result.absent``): why, and
#: how to keep it.
ABSENT_TEXT = "judged not playing: --presence-test off keeps every class"
#: Said on the line of a stem a presence decision left silent in some blocks only
#: (``result.absent_in``, block-wise): where, and how to keep it.  ``{where}``: the stretches.
ABSENT_IN_TEXT = ("judged not playing in {where} (some blocks only): silent there and no hits there; "
                  "--presence-test off keeps every class")
#: ... and, when that silent stem still has hits (the hi-hat's: step 7 of nmfaudio.drums.hits adds the
#: recording's high-band onsets, at strength 0), where they come from (review60)
ABSENT_HITS_TEXT = ", its hits read from the recording's high band"
#: Said on the line of a stem whose parts sound in another stem (``result.sounds_in``: the hat
#: parts at the snare's hits in a song, nmfaudio.drums.hat_presence.hats_at_snare): where they are,
#: that its hits are kept, and how to keep them in their own stem; ``{host}``: that stem's name.
SOUNDS_IN_TEXT = ("its parts sound in the {host} stem (hats at the snare's hits, or a ride groove's), its hits "
                  "kept: --presence-test off keeps them in this one")
#: ... and when that stem is not silent (block-wise: the parts moved in some blocks only).
SOUNDS_IN_SOME_TEXT = ("in some blocks its parts sound in the {host} stem (hats at the snare's hits, or a ride "
                       "groove's), its hits read there too")
#: Below this share of the outputs' energy in the drum outputs (``drums_share``) the summary
#: says the recording holds little or no drums: a drumless or a-cappella track still gets
#: stems and hundreds of hits, the music's (review63b: a 200-s drumless FluidR3 arrangement,
#: 730 hits in the MIDI file, without a word).  Measured on the full-song tuning songs
#: (benchmarks/songs.py, seeds 0-3, 20 s): their music alone 0.8-1.8 % at 44.1 kHz stereo and
#: 1.6-4.9 % resampled to 22.05 kHz mono; the songs with the drums 6 dB under the music (the
#: benchmark's quietest; GMRockKit and FluidR3 Standard) 11.4-17.3 %.
LITTLE_DRUMS = 0.07
#: Said after "quantized to ..." when no constant tempo fitted the hits (``hits_tempo_fit``
#: False): the grid is the beat tracker's, and hits moved by up to half a step.
UNFIT_TEXT = ("; but no one tempo fits the hits (a tempo change, a free performance?): some moved up to "
              "half a step; leave out --quantize to keep them as played")
#: ... and when a triplet grid's tempo fits them (``hits_triplet_grid``: a swung groove, whose
#: off-beats lie 2/3 of the way through the beat, between a binary grid's points); before
#: review63 it was called a tempo change.  ``{grid}``: 12 or 24; ``{notes}``: its notes.
SWING_TEXT = ("; but no tempo fits the hits on this grid, and {notes} do (a swung groove?): some moved up "
              "to half a step; use --quantize {grid}")
TRIPLET_NOTES = {12: "eighth-note triplets", 24: "sixteenth-note triplets"}
#: Said after "quantized to ..." when hits of a class shared a grid point (``hits_merged``):
#: how many, that one note per class per point is kept, and the grid that keeps them
#: (``hits_finer_grid``) -- before review64 --quantize 8 on sixteenth-note hats wrote a
#: quarter of them fewer without a word.  ``{hits}``: "10 hihat hits", ...
MERGED_TEXT = "; {hits} merged into a stronger hit of their class on the same grid point (one note per class per point)"
#: ... and the fix: ``{grid}`` the finer grid; or why there is none.
FINER_TEXT = ": --quantize {grid} keeps them"
NO_FINER_TEXT = ": no finer grid keeps them (hits closer than its step: flams, double strokes?)"
#: ... when no tempo fitted the hits (``hits_tempo_fit`` False: :data:`UNFIT_TEXT` or
#: :data:`SWING_TEXT` said so): they lie on no grid, so closeness is not why (review65: a
#: noise recording's merged hits were called flams).
NO_FINER_UNFIT_TEXT = ": no finer grid of the beat tracker's tempo keeps them either (the hits follow no grid)"


def _classes(text: str) -> tuple:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no drum; give e.g. kick,snare,hihat")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"{text!r} names a drum twice")
    if "residual" in names:  # nmfaudio.drums.templates.RESIDUAL (not imported here: --help stays light)
        raise argparse.ArgumentTypeError(f"{text!r} names residual, which is always written (what the drums do not "
                                         "take); name drums only, e.g. kick,snare")
    return names


def register(subparsers) -> None:
    """Add ``drums`` and ``templates learn``.  Nothing heavy is imported here: the parser
    serves ``--help`` and usage errors, which should not wait for the separation's
    modules (``--classes`` defaults to None, read as every class by :func:`run_drums`)."""
    drums = subparsers.add_parser(
        "drums", help="split drums (a drum recording or a full song) into kick, snare, toms, hi-hat, cymbals "
                      "and residual WAVs",
        description="Separate kick, snare, toms, hi-hat and cymbals with drum templates that adapt to the "
                    "recording (semi-supervised NMFD); the stems add up to the input.")
    drums.add_argument("inputs", metavar="INPUT", type=path_arg, nargs="+",
                       help="audio files (WAV, FLAC, OGG, MP3, ...) or folders (searched recursively)")
    drums.add_argument("-o", "--output-dir", type=path_arg, required=True, metavar="OUTDIR",
                       help="folder for the stems (created if missing)")
    drums.add_argument("--templates", type=path_arg, default=None, metavar="DIR_OR_NPZ",
                       help="a folder of one-shots (kick/, snare/, toms/, hihat/, cymbals/, other/ sub-folders; missing "
                            "classes come from the bundled templates) or a .npz from 'nmfaudio templates learn' "
                            "(default: the bundled templates)")
    drums.add_argument("--classes", type=_classes, default=None, metavar="NAMES",
                       help="stems to write, comma-separated (default kick,snare,toms,hihat,cymbals); every "
                            "class is still modelled, the others go to the residual")
    drums.add_argument("--free", type=non_negative_int, default=1, metavar="N",
                       help="free components for the residual (sounds no drum template explains; default 1); "
                            "0: no free components (the residual then holds only percussion, the classes "
                            "not asked for and the hi-hat model below 300 Hz)")
    drums.add_argument("--stems", choices=("all", "drums"), default="all",
                       help="all: one file per drum class and the residual (default); drums: two files, "
                            "<stem>_drums (the sum of the drum stems) and <stem>_accompaniment (the residual; "
                            "with --classes, also the drums not listed: the summary names them)")
    drums.add_argument("--accompaniment", choices=("auto", "on", "off"), default="auto",
                       help="on: the input is a full song (bass, keys, pads...): their sustained sound is kept "
                            "out of the drum stems and goes to the residual; off: a drum recording; auto "
                            "(default): decided from the signal (the summary says which)")
    drums.add_argument("--presence-test", choices=("on", "off"), default="on",
                       help="on (default): in a drum recording, toms that never explain their own band "
                            "after 40 of the 50 iterations are judged not playing and their stem is silent "
                            "(in a song at 44.1 kHz and up, not with --fixed: a hi-hat stem whose model lies "
                            "mostly below 5 kHz; or whose model sits at the snare's hits or whose ride groove was "
                            "found: then its parts sound in the cymbals stem, its hits kept); off: every class is modelled to the end (keeps "
                            "a fill of one or two quiet toms)")
    drums.add_argument("--ride", choices=("auto", "on", "off"), default="auto",
                       help="auto (default): decided from the signal whether the time is kept on a ride (in a "
                            "song by a stricter gate), whose strokes then go from the hi-hat to the cymbals stem "
                            "(the summary says so); off: no ride is looked for — use it if the hats of a "
                            "groove become ride notes; on: the closed hi-hat's strokes are a ride's (except "
                            "at the snare's hits), in a song too — use it for a ride pattern the "
                            "detector misses (a quiet ride)")
    drums.add_argument("--fixed", action="store_true",
                       help="keep the templates fixed (supervised NMFD) instead of adapting them")
    drums.add_argument("--mask-power", type=soft_mask_power, default=1.5, metavar="P",
                       help="soft-mask power: 1 ratio, 2 Wiener-like (default 1.5)")
    drums.add_argument("--max-iter", type=positive_int, default=50, metavar="M",
                       help="iterations of the drum fit (default 50); with --free N > 0, 20 more fit the "
                            "residual, which the summary counts too")
    drums.add_argument("--n-fft", type=positive_int, default=None, metavar="N",
                       help="STFT frame length (default 2048 at 22.05 kHz, scaled with the rate: 4096 at 44.1 kHz, "
                            "4464 at 48 kHz)")
    drums.add_argument("--hop-length", type=positive_int, default=None, metavar="H",
                       help="STFT hop (default 512 at 22.05 kHz, 1024 at 44.1 kHz, 1116 at 48 kHz; n_fft / 4 with "
                            "--n-fft)")
    drums.add_argument("--seed", type=non_negative_int, default=0, metavar="S", help="random seed (default 0)")
    drums.add_argument("--plot", action="store_true",
                       help="also write OUTDIR/<stem>_drums.png (spectrograms and activations)")
    drums.add_argument("--block-seconds", type=seconds, default=None, metavar="S",
                       help="separate block by block, S seconds at a time (cross-faded over 4 s; over half "
                            "of blocks under 8 s), holding one block's spectrograms at a time (for long files); a "
                            "block must hold the drum templates (0.558 s with the defaults)")
    add_max_memory(drums, "drum separation")
    drums.add_argument("--json", action="store_true", help="print the summary as JSON")
    drums.add_argument("--force", action="store_true", help="overwrite existing outputs (a batch: redo inputs "
                                                             "whose outputs exist instead of skipping them)")
    add_output_arguments(drums)
    add_batch_arguments(drums)
    _register_hits(drums)
    drums.set_defaults(handler=run_drums, parser=drums)

    templates = subparsers.add_parser(
        "templates", help="learn drum templates from one-shot samples",
        description="Drum templates for 'nmfaudio drums --templates'.")
    commands = templates.add_subparsers(dest="templates_command", metavar="{learn}")
    commands.required = True
    learn = commands.add_parser(
        "learn", help="learn templates from a folder of one-shots",
        description="Learn one template per drum from ONESHOT_DIR/kick/, snare/, toms/, hihat/, cymbals/, other/ "
                    "(those that exist; audio files of any format and rate) and save them with their STFT parameters.")
    learn.add_argument("folder", metavar="ONESHOT_DIR", type=path_arg, help="folder with one sub-folder per drum")
    learn.add_argument("-o", "--output", type=path_arg, required=True, metavar="KIT.npz", help="templates to write (.npz)")
    learn.add_argument("--classes", type=_classes, default=None, metavar="NAMES",
                       help="drum sub-folders, comma-separated (default: every one of kick, snare, toms, hihat, "
                            "cymbals, other that exists)")
    learn.add_argument("--sr", type=positive_int, default=22050, help="sampling rate (default 22050)")
    learn.add_argument("--n-fft", type=positive_int, default=None, metavar="N",
                       help="STFT frame length (default: the separation's at --sr: 2048 at 22.05 kHz, 4096 at "
                            "44.1 kHz, 4464 at 48 kHz)")
    learn.add_argument("--hop-length", type=positive_int, default=None, metavar="H",
                       help="STFT hop (default 512 at 22.05 kHz, 1024 at 44.1 kHz, 1116 at 48 kHz; n_fft / 4 with "
                            "--n-fft)")
    learn.add_argument("--frames", type=positive_int, default=None, metavar="T",
                       help="template length in frames (default 8, cymbals 24)")
    learn.add_argument("--json", action="store_true", help="print the summary as JSON")
    learn.add_argument("--force", action="store_true", help="overwrite an existing output")
    learn.set_defaults(handler=run_learn)


def _templates(args, sr=None):
    """Load ``--templates`` once (errors before any output folder exists); ``sr``: the
    input's rate when known, so that a one-shot folder is learned here at the rate the run
    learns it at (``batch.load_templates`` keeps it) and not a second time."""
    from nmfaudio.audio import is_broken_link, not_found
    from nmfaudio.batch import load_templates

    if args.templates is None:
        from nmfaudio.drums import KNOWN_CLASSES  # the bundled templates' classes

        unknown = [name for name in args.classes if name not in KNOWN_CLASSES]
        if unknown:  # the separation's own check, said before the outputs' and the input's
            raise CLIError(f"--classes {','.join(args.classes)}: no template for {', '.join(map(repr, unknown))}; "
                           f"the templates have {', '.join(KNOWN_CLASSES)}")
        return None
    if is_broken_link(args.templates):  # a kit on a moved drive: name the link
        raise CLIError(f"--templates {not_found(args.templates)}")
    if not args.templates.exists():
        raise CLIError(f"--templates {str(args.templates)!r} does not exist; give a one-shot folder or a .npz file")
    with _skipped_shots_note():
        return load_templates(str(args.templates), tuple(args.classes), sr=sr)


def _skipped_shots_note():
    """A one-shot folder's :class:`~nmfaudio.drums.templates.SkippedShotsWarning` as one
    ``nmfaudio: note:`` line on stderr (:func:`~nmfaudio.cli.warnings_as_notes`)."""
    from nmfaudio.drums.templates import SkippedShotsWarning

    return warnings_as_notes(SkippedShotsWarning)


def drum_options(args) -> dict:
    """The per-file options of :func:`nmfaudio.batch.run_task` for ``drums``."""
    return {"templates": None if args.templates is None else str(args.templates), "classes": tuple(args.classes),
            "n_fft": args.n_fft, "hop_length": args.hop_length, "mask_power": args.mask_power,
            "max_iter": args.max_iter, "adapt": not args.fixed, "n_free": args.free, "random_state": args.seed,
            "plot": args.plot, "midi": args.midi, "onsets": args.onsets is not None, "quantize": args.quantize,
            "block_seconds": args.block_seconds, "max_memory": args.max_memory,
            "accompaniment": args.accompaniment, "presence_test": args.presence_test,
            "ride": args.ride, "stems": args.stems,  # separate_drums reads "on" / "off"
            "drumless": {"auto": None, "on": True, "off": False}[args.drumless]}


def run_drums(args) -> int:
    from nmfaudio import batch, spectrum
    from nmfaudio.drums import CLASSES  # the templates module: not the engine (usage errors stay quick)

    if args.classes is None:  # the parser's default: every class
        args.classes = CLASSES
    file_format(args)  # a bad --format/--subtype pair: a usage error before any work
    if args.n_fft is not None:  # else scaled with each file's rate: the hop alone is checked per file
        spectrum.check_frames(args.n_fft, args.hop_length or max(1, args.n_fft // 4))
    _check_hit_options(args)
    if is_batch(args):
        _templates(args)
        return run_batch(args, "drums", drum_options(args), _done_lines)
    task = _with_onsets_path(args, plan_one(args, "drums", drum_options(args)))
    # a class the templates lack (--classes Kick), a bad folder or file: said before the
    # outputs' "already exists", which --force would only trade for this error
    from nmfaudio import audio

    try:  # the input's rate, for the kit folder's learning; an unreadable input is named below
        info = audio.audio_info(task.input)
    except Exception:  # noqa: BLE001 - said after the kit's errors and the outputs', as before
        info = None
    _templates(args, sr=None if info is None else info.samplerate)
    refuse_outputs([Path(p) for p in task.outputs], force=args.force, inputs=[task.input, args.templates])

    if info is None:  # missing, not audio, truncated, empty: before any output folder
        info = audio.audio_info(task.input)
    if args.n_fft is None and args.hop_length is not None:
        # separate_drums' n_fft for this file's rate (4096 at 44.1 kHz), not the 22.05-kHz 2048
        spectrum.check_frames(spectrum.frames_for_rate(info.samplerate)[0], args.hop_length)
    from nmfaudio.batch import side_file_bytes

    # the stems, and a generous bound for the figure and the MIDI / CSV files
    audio.check_free_space(args.output_dir, audio.audio_bytes(info.frames, info.channels, len(task.tracks),
                                                              file_format(args).subtype) + side_file_bytes(task))
    # Load now what the work loads on first use, so the time reported is the separation's:
    # librosa's STFT (0.5-3 s: librosa.core.spectrum brings its audio module) only for the
    # runs that use it, the figure and the blocks — the in-memory separation and the hits
    # need neither librosa's STFT nor its windows and peak picking, nor scipy.signal
    # (docs/performance.md, the start-up rounds of 2026-12-05).
    if args.plot or args.block_seconds is not None:
        spectrum.stft(np.zeros(spectrum.N_FFT, dtype=np.float32))
    from nmfaudio.drums import FREE_ITER

    with output_folder(args.output_dir), _onsets_folder(args):
        started = time.perf_counter()
        bar, callback = progress_bar(args.max_iter + (FREE_ITER[1] if args.free else 0))
        try:
            with signals_deferred():  # signals: raised between iterations, not inside compiled code
                summary = batch.run_task(task, callback=callback)
        finally:
            bar.close()
        seconds = time.perf_counter() - started
    record = batch.make_record(task, "done", seconds=seconds, summary=summary)
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print("\n".join(_done_lines(record)))
    return 0


def _frames_text(lengths: dict) -> str:
    """``8 frames``, or ``8 frames, cymbals 24`` when classes differ (the most common length first)."""
    values = list(lengths.values())
    common = max(values, key=values.count)
    others = ", ".join(f"{name} {n}" for name, n in lengths.items() if n != common)
    return count(common, "frame") + (f", {others}" if others else "")


def _stretches_text(spans) -> str:
    """``0.0-30.0 s`` or ``0.0-30.0 and 90.0-120.0 s``: block-wise stretches (s)."""
    parts = [f"{start:.1f}-{stop:.1f}" for start, stop in spans]
    return (", ".join(parts[:-1]) + " and " if len(parts) > 1 else "") + parts[-1] + " s"


def _ride_lines(record) -> list[str]:
    """What the ride switch did (nmfaudio.drums.ride): said only with a ride found, or
    with ``--ride on`` that had nothing to take; other recordings keep the summary they had.
    Block-wise, where only some blocks found one, it names their stretches (``ride_in``)."""
    forced = record.get("ride") is True
    where_found = f" in {_stretches_text(record['ride_in'])} only" if record.get("ride_in") else ""
    found = "found from the signal" + (", block by block" if where_found else "")
    if record.get("ride_moved"):  # the closed hat part's strokes: to the cymbals, else the residual
        how = "--ride on" if forced else f"{found}; --ride off if they are hi-hats"
        where = "cymbals" if "cymbals" in record["classes"] else "residual"
        how = how if where == "cymbals" else f"no cymbals stem; {how}"
        return [f"  ride strokes taken from the hi-hat to the {where}{where_found} ({how})"]
    if record.get("ride_found"):  # the ride part's own hits: nothing moved, named cymbals_ride
        how = "--ride on" if forced else f"{found}; --ride off for none"
        return [f"  ride strokes picked apart in the cymbals' ride part{where_found} ({how})"]
    if forced:
        if "hihat" in record.get("absent", ()):  # the hat parts were left out: no strokes to move
            return ["  --ride on: no ride strokes taken (the hi-hat parts were judged to hold no hats: "
                    "--presence-test off keeps them, or add the cymbals class for the ride part's hits)"]
        if "hihat" in record.get("sounds_in", {}):  # the hat parts sound in the cymbals stem already
            return [f"  --ride on: no ride strokes taken (the hi-hat parts sound in the "
                    f"{record['sounds_in']['hihat']} stem already: --presence-test off keeps them in their own)"]
        return ["  --ride on: no ride strokes taken (they need a closed hi-hat part and the hihat class, "
                "or a ride part and the cymbals class)"]
    return []


def _learned_at(record) -> str:
    """", one-shots learned at 44100 Hz" for a one-shot folder (learned at the recording's
    rate above 22.05 kHz: nmfaudio.drums.templates.folder_rate), else nothing."""
    kit = record.get("templates")
    if not kit or kit in ("bundled templates", "DrumTemplates object") or not Path(kit).is_dir():
        return ""
    return f", one-shots learned at {record['templates_sr']} Hz"


def _done_lines(record, name: str | None = None) -> list[str]:
    """The report of one separated input: a headline (``name``: the input's file name by
    default; a batch gives its path, review62b), then one line per output."""
    mode = "adapted templates" if record["adapt"] else "fixed templates"
    from nmfaudio.drums import FREE_ITER

    residual_iter = min(record["n_iter"], FREE_ITER[1]) if record["n_free"] else 0  # n_iter counts both fits
    split = f" ({record['n_iter'] - residual_iter} drum fit + {residual_iter} residual)" if residual_iter else ""
    lines = [f"{Path(record['input']).name if name is None else name}: {', '.join(record['classes'])} separated with {mode} "
             f"({record['templates']}{_learned_at(record)}), {count(record['n_iter'], 'iteration')}{split}, "
             f"{record['seconds']:.2f} s"
             + _blockwise_text(record.get("blockwise"))]
    if record.get("accompaniment"):  # said only for songs: drum recordings keep the summary they had
        share = record.get("tonal_share")  # the number "auto" decided on (threshold AUTO_TONAL)
        detail = "" if share is None else f"tonal share {share:.2f}; "
        # the advice is for "auto"'s decision: with --accompaniment on the user chose it
        why = ("--accompaniment on" if record.get("accompaniment_setting") is True
               else "--accompaniment off for a drum recording")
        lines.append(f"  treated as a full song ({detail}{why}): the residual holds the music")
    lines += _ride_lines(record)
    left_out = record.get("drumless_left_out")
    if left_out:  # the default leaves hits out: said, with the way to keep them (--drumless off)
        said = ", ".join(f"{n} {name}" for name, n in left_out.items())
        lines.append(f"  {said} {'hits' if sum(left_out.values()) > 1 else 'hit'} left out of the hits: in drumless "
                     "stretches (an intro, a break) they are the music's; --drumless off keeps them")
    share = record.get("drums_share")
    if share is not None and share < LITTLE_DRUMS:
        lines.append(f"  little or no drums: the drum stems hold {100 * share:.1f} % of the outputs' energy; on a "
                     "drumless or a-cappella recording their sound and hits are the music's")
    if record.get("band_limit_hz"):  # nmfaudio.drums.bandwidth: said only where it acted
        lines.append(f"  band-limited input (nothing above {record['band_limit_hz'] / 1000:.1f} kHz, "
                     "e.g. upsampled): the templates stop there")
    if record.get("input_band_hz"):  # templates made far below the input's band (nmfaudio.drums.bandwidth)
        from nmfaudio.drums.bandwidth import rate_for_band
        from nmfaudio.drums.separation import short_templates_text

        rate = rate_for_band(record["input_band_hz"], record["sr"])
        lines.append(f"  {short_templates_text(record['templates_sr'], record['input_band_hz'], record['sr'])} "
                     f"(nmfaudio templates learn DIR --sr {rate} -o kit.npz)")
    if record.get("borrowed_from_bundled"):
        lines.append(f"  {', '.join(record['borrowed_from_bundled'])}: not in {record['templates']}; "
                     "modelled with the bundled templates")
    absent = record.get("absent", ())
    for source in record["sources"]:
        hits = f", {count(len(source['onsets_s']), 'hit')}" if "onsets_s" in source else ""
        # a stem silenced by a presence decision: why, and how to keep it (on the same line)
        why = f"; {ABSENT_TEXT}" if source["name"] in absent else ""
        if source["name"] == "drums" and "drums" not in record["classes"]:  # --stems drums: the classes it
            # sums that were left silent, named (review62b: `--classes hihat` on a song gave a drums
            # file at rms 0, "hihat only", without a word of why)
            silent = [name for name in record["classes"] if name in absent]
            why = f"; {', '.join(silent)} {ABSENT_TEXT}" if silent else ""
            # ... and those whose parts sound in the residual, so in the accompaniment file (hatkeep62)
            away = [name for name, host in record.get("sounds_in", {}).items() if host == "residual"]
            if away:
                why += f"; {', '.join(away)}: {SOUNDS_IN_TEXT.format(host='accompaniment')}"
        if why and len(source.get("onsets_s", ())):  # "rms 0, 54 hits; judged not playing": say whence
            why += ABSENT_HITS_TEXT
        # block-wise: a stem silent in some blocks only (the drums file: its classes that were)
        partly = {name: spans for name, spans in record.get("absent_in", {}).items()
                  if name == source["name"] or (source["name"] == "drums" and "drums" not in record["classes"])}
        for name, spans in partly.items():
            label = "" if name == source["name"] else f"{name} "
            why += f"; {label}{ABSENT_IN_TEXT.format(where=_stretches_text(spans))}"
        host = record.get("sounds_in", {}).get(source["name"])
        if host is not None:  # silent too, but playing: its parts are in the host's stem
            why = "; " + (SOUNDS_IN_TEXT if not source["rms"] else SOUNDS_IN_SOME_TEXT).format(host=host)
        lines.append(f"  {source['path']}  (rms {source['rms']:.3g}{hits}{why}{_holds(source['name'], record)})")
    if record["plot"]:
        lines.append(f"  {record['plot']}  (spectrograms and activations)")
    if record.get("hit_files"):
        # no class with a note (--classes other alone): "no hits", not an empty list
        counts = ", ".join(f"{n} {name}" for name, n in record["hit_counts"].items()) or "no hits"
        grid = (f", quantized to 1/{record['quantize']} notes at {record['hits_bpm']:.1f} BPM, "
                f"grid from {round(record['hits_grid_start_s'], 3) + 0.0:.3f} s"  # + 0.0: no "-0.000"
                + ("" if record.get("hits_tempo_fit") is not False else
                   SWING_TEXT.format(grid=record["hits_triplet_grid"], notes=TRIPLET_NOTES[record["hits_triplet_grid"]])
                   if record.get("hits_triplet_grid") else UNFIT_TEXT)
                if record.get("hits_bpm") else
                "" if not record.get("quantize") else
                ", not quantized: no hits to fit a tempo to" if not sum(record["hit_counts"].values()) else
                ", not quantized: the hits fall on one instant, no tempo to fit") + _merged_text(record)
        lines.extend(f"  {path}  ({counts}{grid})" for path in record["hit_files"].values())
    return lines


def _merged_text(record) -> str:
    """What ``--quantize`` merged (:data:`MERGED_TEXT`) and the grid that keeps it, or ""."""
    merged = record.get("hits_merged")
    if not merged:
        return ""
    said = ", ".join(f"{n} {name}" for name, n in merged.items())
    finer = record.get("hits_finer_grid")
    return (MERGED_TEXT.format(hits=said + (" hits" if sum(merged.values()) > 1 else " hit"))
            + (FINER_TEXT.format(grid=finer) if finer else
               NO_FINER_UNFIT_TEXT if record.get("hits_tempo_fit") is False else NO_FINER_TEXT))


def _holds(name: str, record) -> str:
    """What a subset of ``--classes`` left where (said only then): ``--stems drums
    --classes kick,snare`` sums the kick and snare into ``_drums`` and leaves the hats with
    the music in ``_accompaniment`` (the residual) — a drums file without the hats is not
    what its name says, so the two lines name what each holds."""
    others = record.get("classes_in_residual") or []
    if not others:
        return ""
    if name == "drums":
        return f"; {', '.join(record['classes'])} only"
    if name in ("accompaniment", "residual"):
        return f"; with the {', '.join(others)}: not in --classes"
    return ""


def _blockwise_text(block) -> str:
    """``; block-wise: N blocks of S s`` (and why, when the budget chose it), or ""."""
    if not block:
        return ""
    text = f"; block-wise: {count(block['blocks'], 'block')} of {block['block_seconds']:g} s"
    return text + (f" (chosen because {block['reason']})" if block.get("reason") else "")


# --- drum hits: --midi, --onsets, --quantize (the logic is in nmfaudio.drums: hits, hit_files, tempo_grid)
def _grid(text: str) -> int:
    value = text.strip().removeprefix("1/")
    if value not in {"4", "8", "16", "32", "12", "24"}:
        raise argparse.ArgumentTypeError(f"{text!r} is not a grid; give 4, 8, 16, 32 (or 12, 24 for triplets), "
                                         "e.g. --quantize 16 for sixteenth notes")
    return int(value)


def _register_hits(drums) -> None:
    group = drums.add_argument_group("drum hits (transcription)")
    group.add_argument("--midi", action="store_true",
                       help="also write OUTDIR/<stem>_drums.mid: one General MIDI drum note (channel 10) per hit")
    group.add_argument("--onsets", nargs="?", type=path_arg, const=True, default=None, metavar="CSV",
                       help="also write the hits as CSV time_s,class,velocity,strength "
                            "(default path OUTDIR/<stem>_onsets.csv; a path only with one input)")
    group.add_argument("--quantize", type=_grid, default=None, metavar="GRID",
                       help="snap the hits in the MIDI and CSV files to a 1/GRID-note grid of the detected "
                            "tempo (e.g. 16; hits of a drum on one grid point become one, the summary counts "
                            "them); default: the hits as played")
    # "--drumless song.wav" (a flag before 2026-12-07) still means "on" (ArgumentParser._bare_flags_set)
    drums.bare_flags = {**getattr(drums, "bare_flags", {}), "--drumless": (("auto", "on", "off"), "on")}
    group.add_argument("--drumless", nargs="?", const="on", default="auto", choices=("auto", "on", "off"),
                       help="in a full song, the hits of stretches without drums (an intro, a break: their "
                            "hits are the music's): auto (the default) drops their kick and snare hits, on "
                            "(--drumless alone) their toms' too (a tom intro then loses toms), off keeps "
                            "them all; a stretch whose snare plays without the kick (a build-up) keeps its hits")


def _check_notes(classes, templates) -> None:
    """Every class asked for but "other" needs a General MIDI note: every run picks each
    class's hits (the summary counts them), and the command line has no option for the
    library's ``notes=``.  A kit's class named otherwise (``templates learn --classes
    cowbell``) stopped the run after the separation.  With the bundled templates
    (``templates`` None) every class they have has a note; a name they lack is refused by
    the separation's own check ("no template for ..."), which says what they have."""
    from nmfaudio.drums import KNOWN_CLASSES  # each has a note, or is "other" (no note, no hits)

    if templates is None:
        return
    custom = [name for name in classes if name not in KNOWN_CLASSES]
    if not custom:  # (the hits module stays unimported: a usage error answers quickly)
        return
    kit = _kit_classes(templates)
    lacking = [name for name in custom if kit is not None and name not in kit]
    if lacking:
        # a name the kit does not have either (--classes kick,cowbell, no cowbell/): "no General
        # MIDI note is known for 'cowbell'" sent the user to rename a folder that is not there;
        # the bundled templates, which fill a kit's missing drums, lack it too (kitprobe67)
        have = list(KNOWN_CLASSES) + [name for name in kit if name not in KNOWN_CLASSES]
        raise CLIError(f"--classes {','.join(classes)}: no template for {', '.join(map(repr, lacking))}; "
                       f"the templates have {', '.join(have)}")
    from nmfaudio.drums.general_midi import gm_notes

    for name in custom:
        try:
            gm_notes([name])
        except ValueError:
            raise CLIError(f"--classes {','.join(classes)}: no General MIDI drum note is known for {name!r}, and "
                           "every run picks each class's hits; name its one-shot folder after a drum (kick, snare, "
                           "toms, hihat, cymbals), or other for percussion that gets no hits") from None


def _kit_classes(templates):
    """The class names of a ``--templates`` kit without learning it: a folder's sub-folders, an
    .npz's labels (``toms:low`` counts as ``toms``); None when they cannot be read cheaply (the
    load that follows names the problem)."""
    from nmfaudio.drums.templates import class_of

    path = Path(templates)
    try:
        if path.is_dir():
            return tuple(sorted(sub.name for sub in path.iterdir() if sub.is_dir() and not sub.name.startswith(".")))
        with np.load(path, allow_pickle=False) as archive:
            return tuple(dict.fromkeys(class_of(label) for label in archive["classes"]))
    except Exception:  # noqa: BLE001 - anything unreadable here is read (and named) by the load
        return None


def _check_hit_options(args) -> None:
    """Usage errors of the hit options, before any work."""
    _check_notes(args.classes, args.templates)
    if args.quantize and not (args.midi or args.onsets is not None):
        # an option that needs another: a usage error (exit 2), as --learn-frames without
        # --block-seconds is; it was exit 1, an input's error (review58)
        args.parser.error("--quantize changes the hit files; add --midi or --onsets")
    if args.onsets is None or args.onsets is True:
        return
    csv = args.onsets
    if is_batch(args):
        why = ("several inputs" if len(args.inputs) > 1 else "a folder" if args.inputs[0].is_dir() else
               "--jobs" if args.jobs is not None else "--scheduler")
        # the command line itself: a usage error (exit 2, no --json record), as --quantize without
        # hit files and --jobs with --scheduler are; it was exit 1 (review59)
        args.parser.error(f"--onsets {str(csv)!r} names one file, but this is a batch ({why}); give --onsets "
                          "alone (each input gets OUTDIR/<stem>_onsets.csv)")
    from nmfaudio.audio import without_detours

    # 'out/x/../h.csv' is 'out/h.csv' while out/x does not exist: the summary and the --json
    # record named the CSV through out/x, a folder made on the way and removed at the end (mend60)
    csv = args.onsets = without_detours(args.onsets)
    if csv.suffix.lower() != ".csv":
        # '.csv' alone is a hidden file named '.csv' with no suffix (pathlib): say what is missing
        # an input written after --onsets, which takes an optional path, became the path (tour16)
        # (a folder of inputs, or any audio file an input may be: .aifc, .caf, .w64 too, as the
        # parser's words for --onsets taking the only input say; review11)
        from nmfaudio.audio import AUDIO_SUFFIXES, audio_extensions

        suffix = csv.suffix.lower()
        an_input = csv.is_dir() or (csv.is_file() and (suffix in AUDIO_SUFFIXES or suffix[1:] in audio_extensions()))
        taken = ("; --onsets takes an optional path and took this input as it: to separate it, write --onsets "
                 "after the inputs" if an_input else "")
        raise CLIError(f"--onsets {str(csv)!r} must end in .csv{taken}" if csv.name.lower() != ".csv" else
                       f"--onsets {str(csv)!r} has no name before .csv; give e.g. {str(csv.parent / 'hits.csv')!r}")
    # -o's folder, made by the run, however it is spelled (absolute, relative, with '..')
    if csv.parent.resolve() != args.output_dir.resolve():
        check_output_parent(csv, "--onsets")


def _onsets_folder(args):
    """The folder of ``--onsets PATH``, checked writable before any work (like ``-o``), so
    an unwritable one fails at once, not after the separation naming a temporary file."""
    from contextlib import nullcontext

    if args.onsets is None or args.onsets is True:
        return nullcontext()
    return output_folder(args.onsets.parent, "the --onsets folder")


def _with_onsets_path(args, task):
    """The single-file task with the CSV at the path given to ``--onsets`` (if one was)."""
    if args.onsets is None or args.onsets is True:
        return task
    import dataclasses

    files = tuple((kind, str(args.onsets) if kind == "csv" else path) for kind, path in task.hit_files)
    return dataclasses.replace(task, hit_files=files)


def run_learn(args) -> int:
    from nmfaudio.drums import DrumTemplates

    output = args.output
    if output.name.lower() == ".npz":
        # pathlib reads '.npz' as a hidden file with no suffix, and "must end in .npz" was all
        # that was said ('-o "kits/$KIT.npz"' with KIT unset; review62a), as --onsets '.csv' says
        raise CLIError(f"-o {str(output)!r} has no name before .npz (an unset shell variable?); give e.g. "
                       f"{str(output.parent / 'kit.npz')!r}")
    if output.suffix.lower() != ".npz":
        raise CLIError(f"-o {str(output)!r} must end in .npz")
    refuse_outputs([output], force=args.force)
    # a missing folder is asked for, as for every output file (image compress -o, drums --onsets,
    # DrumTemplates.save): it was made here, -o a/b/kit.npz creating a/b (polish16)
    check_output_parent(output, "-o")
    started = time.perf_counter()
    with _skipped_shots_note():
        templates = DrumTemplates.from_folder(args.folder, classes=args.classes, sr=args.sr, n_fft=args.n_fft,
                                              hop_length=args.hop_length, n_frames=args.frames)
    with output_folder(output.parent):
        templates.save(output, overwrite=args.force)
    seconds = time.perf_counter() - started
    # each class's length as learned (from_folder's rule): the array's n_frames is the longest
    # (the cymbals' 24), and "24 frames" alone read as every template's (review63b: the kick's is 8)
    from nmfaudio.drums.templates import class_lengths

    lengths = class_lengths(templates.classes, args.frames)
    if args.json:
        print(json.dumps({"folder": str(args.folder), "output": str(output), "classes": list(templates.classes),
                          "n_shots": dict(zip(templates.classes, templates.n_shots)), "sr": templates.sr,
                          "n_fft": templates.n_fft, "hop_length": templates.hop_length, "window": templates.window,
                          "n_frames": templates.n_frames, "class_frames": lengths, "bytes": output.stat().st_size,
                          "seconds": round(seconds, 3)}, indent=2))
        return 0
    shots = ", ".join(f"{n} {name}" for name, n in zip(templates.classes, templates.n_shots))
    print(f"{output}: templates for {', '.join(templates.classes)} from {shots} one-shots "
          f"(sr {templates.sr}, n_fft {templates.n_fft}, hop {templates.hop_length}, "
          f"{_frames_text(lengths)}), "
          f"{output.stat().st_size / 1024:.0f} KB, {seconds:.1f} s")
    return 0
