"""``nmfaudio drums`` (kick / snare / hi-hat stems) and ``nmfaudio templates learn``.

::

    nmfaudio drums INPUT... -o OUTDIR [--templates DIR_OR_NPZ] [--classes kick,snare,hihat]
                   [--free N] [--fixed] [--mask-power P] [--max-iter M] [--n-fft N]
                   [--hop-length H] [--seed S] [--plot] [--json] [--force]
                   [--format wav|flac] [--subtype float|pcm16|pcm24] [--jobs N] [--scheduler ADDRESS]
    nmfaudio templates learn ONESHOT_DIR -o kit.npz [--classes kick,snare,hihat]
                   [--sr SR] [--n-fft N] [--hop-length H] [--frames T] [--json] [--force]

``drums`` writes ``OUTDIR/<input stem>_kick.wav``, ``_snare.wav``, ``_hihat.wav`` and
``_residual.wav`` (32-bit float WAV at the input's rate and channel count; they add up to
the input) and, with ``--plot``, ``OUTDIR/<input stem>_drums.png``.  Existing outputs are
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

from nmfaudio.cli import CLIError, output_folder, progress_bar, refuse_outputs, signals_deferred
from nmfaudio.cli._args import non_negative_int, positive_int, soft_mask_power
from nmfaudio.cli._batch import add_batch_arguments, add_output_arguments, file_format, is_batch, plan_one, run_batch


def _classes(text: str) -> tuple:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no drum; give e.g. kick,snare,hihat")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"{text!r} names a drum twice")
    return names


def register(subparsers) -> None:
    """Add ``drums`` and ``templates learn``."""
    from nmfaudio.drums import CLASSES

    drums = subparsers.add_parser(
        "drums", help="split a drum recording into kick, snare, hi-hat and residual WAVs",
        description="Separate kick, snare and hi-hat with drum templates that adapt to the recording "
                    "(semi-supervised NMFD); the stems add up to the input.")
    drums.add_argument("inputs", metavar="INPUT", type=Path, nargs="+",
                       help="audio files (WAV, FLAC, OGG, MP3, ...) or folders (searched recursively)")
    drums.add_argument("-o", "--output-dir", type=Path, required=True, metavar="OUTDIR",
                       help="folder for the stems (created if missing)")
    drums.add_argument("--templates", type=Path, default=None, metavar="DIR_OR_NPZ",
                       help="a folder of one-shots (kick/, snare/, hihat/ sub-folders) or a .npz from "
                            "'nmfaudio templates learn' (default: the bundled templates)")
    drums.add_argument("--classes", type=_classes, default=CLASSES, metavar="NAMES",
                       help="drums to separate, comma-separated (default kick,snare,hihat)")
    drums.add_argument("--free", type=non_negative_int, default=1, metavar="N",
                       help="free components for the residual (toms, cymbals, other sounds; default 1); "
                            "0: no residual (no _residual file), every bin goes to a drum")
    drums.add_argument("--fixed", action="store_true",
                       help="keep the templates fixed (supervised NMFD) instead of adapting them")
    drums.add_argument("--mask-power", type=soft_mask_power, default=1.5, metavar="P",
                       help="soft-mask power: 1 ratio, 2 Wiener-like (default 1.5)")
    drums.add_argument("--max-iter", type=positive_int, default=70, metavar="M",
                       help="iterations of the drum fit (default 70); with --free N > 0, 20 more fit the "
                            "residual, which the summary counts too")
    drums.add_argument("--n-fft", type=positive_int, default=2048, metavar="N", help="STFT frame length (default 2048)")
    drums.add_argument("--hop-length", type=positive_int, default=512, metavar="H", help="STFT hop (default 512)")
    drums.add_argument("--seed", type=non_negative_int, default=0, metavar="S", help="random seed (default 0)")
    drums.add_argument("--plot", action="store_true",
                       help="also write OUTDIR/<stem>_drums.png (spectrograms and activations)")
    drums.add_argument("--json", action="store_true", help="print the summary as JSON")
    drums.add_argument("--force", action="store_true", help="overwrite existing outputs (a batch: redo inputs "
                                                             "whose outputs exist instead of skipping them)")
    add_output_arguments(drums)
    add_batch_arguments(drums)
    drums.set_defaults(handler=run_drums, parser=drums)

    templates = subparsers.add_parser(
        "templates", help="learn drum templates from one-shot samples",
        description="Drum templates for 'nmfaudio drums --templates'.")
    commands = templates.add_subparsers(dest="templates_command", metavar="{learn}")
    commands.required = True
    learn = commands.add_parser(
        "learn", help="learn templates from a folder of one-shots",
        description="Learn one template per drum from ONESHOT_DIR/kick/, snare/, hihat/ (audio files of any "
                    "format and rate) and save them with their STFT parameters.")
    learn.add_argument("folder", metavar="ONESHOT_DIR", type=Path, help="folder with one sub-folder per drum")
    learn.add_argument("-o", "--output", type=Path, required=True, metavar="KIT.npz", help="templates to write (.npz)")
    learn.add_argument("--classes", type=_classes, default=CLASSES, metavar="NAMES",
                       help="drum sub-folders, comma-separated (default kick,snare,hihat)")
    learn.add_argument("--sr", type=positive_int, default=22050, help="sampling rate (default 22050)")
    learn.add_argument("--n-fft", type=positive_int, default=2048, metavar="N", help="STFT frame length (default 2048)")
    learn.add_argument("--hop-length", type=positive_int, default=512, metavar="H", help="STFT hop (default 512)")
    learn.add_argument("--frames", type=positive_int, default=8, metavar="T",
                       help="template length in frames (default 8)")
    learn.add_argument("--json", action="store_true", help="print the summary as JSON")
    learn.add_argument("--force", action="store_true", help="overwrite an existing output")
    learn.set_defaults(handler=run_learn)


def _templates(args):
    """Load ``--templates`` once (errors before any output folder exists)."""
    from nmfaudio.batch import load_templates

    if args.templates is None:
        return None
    if not args.templates.exists():
        raise CLIError(f"--templates {str(args.templates)!r} does not exist; give a one-shot folder or a .npz file")
    return load_templates(str(args.templates), tuple(args.classes))


def drum_options(args) -> dict:
    """The per-file options of :func:`nmfaudio.batch.run_task` for ``drums``."""
    return {"templates": None if args.templates is None else str(args.templates), "classes": tuple(args.classes),
            "n_fft": args.n_fft, "hop_length": args.hop_length, "mask_power": args.mask_power,
            "max_iter": args.max_iter, "adapt": not args.fixed, "n_free": args.free, "random_state": args.seed,
            "plot": args.plot}


def run_drums(args) -> int:
    from nmfaudio import batch, spectrum
    from nmfaudio.drums import FREE_ITER

    file_format(args)  # a bad --format/--subtype pair: a usage error before any work
    spectrum.check_frames(args.n_fft, args.hop_length)
    if is_batch(args):
        _templates(args)
        return run_batch(args, "drums", drum_options(args), _done_lines)
    task = plan_one(args, "drums", drum_options(args))
    refuse_outputs([Path(p) for p in task.outputs], force=args.force, inputs=[task.input, args.templates])
    from nmfaudio import audio

    info = audio.audio_info(task.input)  # missing, not audio, truncated, empty: before any output folder
    _templates(args)  # errors (bad folder, bad file) before any output folder exists
    audio.check_free_space(args.output_dir, audio.audio_bytes(info.frames, info.channels, len(task.tracks)))
    # librosa loads its STFT code on first use (1-3 s): do that now, so the time reported is the separation's
    spectrum.stft(np.zeros(args.n_fft, dtype=np.float32), n_fft=args.n_fft, hop_length=args.hop_length)
    with output_folder(args.output_dir):
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


def _done_lines(record) -> list[str]:
    """The report of one separated input: a headline, then one line per output."""
    mode = "adapted templates" if record["adapt"] else "fixed templates"
    from nmfaudio.drums import FREE_ITER

    residual_iter = min(record["n_iter"], FREE_ITER[1]) if record["n_free"] else 0  # n_iter counts both fits
    split = f" ({record['n_iter'] - residual_iter} drum fit + {residual_iter} residual)" if residual_iter else ""
    lines = [f"{Path(record['input']).name}: {', '.join(record['classes'])} separated with {mode} "
             f"({record['templates']}), {record['n_iter']} iterations{split}, {record['seconds']:.2f} s"]
    for source in record["sources"]:
        hits = f", {len(source['onsets_s'])} hits" if "onsets_s" in source else ""
        lines.append(f"  {source['path']}  (rms {source['rms']:.3g}{hits})")
    if record["plot"]:
        lines.append(f"  {record['plot']}  (spectrograms and activations)")
    return lines


def run_learn(args) -> int:
    from nmfaudio.drums import DrumTemplates

    output = args.output
    if output.suffix.lower() != ".npz":
        raise CLIError(f"-o {str(output)!r} must end in .npz")
    refuse_outputs([output], force=args.force)
    if not output.parent.is_dir() and output.parent.exists():
        raise CLIError(f"-o {str(output)!r} is inside a file; give a path in a folder")
    started = time.perf_counter()
    templates = DrumTemplates.from_folder(args.folder, classes=args.classes, sr=args.sr, n_fft=args.n_fft,
                                          hop_length=args.hop_length, n_frames=args.frames)
    with output_folder(output.parent):
        templates.save(output, overwrite=args.force)
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({"folder": str(args.folder), "output": str(output), "classes": list(templates.classes),
                          "n_shots": dict(zip(templates.classes, templates.n_shots)), "sr": templates.sr,
                          "n_fft": templates.n_fft, "hop_length": templates.hop_length, "window": templates.window,
                          "n_frames": templates.n_frames, "bytes": output.stat().st_size,
                          "seconds": round(seconds, 3)}, indent=2))
        return 0
    shots = ", ".join(f"{n} {name}" for name, n in zip(templates.classes, templates.n_shots))
    print(f"{output}: templates for {', '.join(templates.classes)} from {shots} one-shots "
          f"(sr {templates.sr}, n_fft {templates.n_fft}, hop {templates.hop_length}, {templates.n_frames} frames), "
          f"{output.stat().st_size / 1024:.0f} KB, {seconds:.1f} s")
    return 0
