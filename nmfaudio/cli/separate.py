"""``nmfaudio separate``: one WAV per NMF component of a recording.

::

    nmfaudio separate INPUT... -k K -o OUTDIR [--beta B] [--n-fft N] [--hop-length H]
                      [--mask-power P] [--max-iter M] [--seed S] [--block-seconds S
                      [--learn-frames N]] [--max-memory SIZE] [--plot] [--json] [--force]
                      [--format wav|flac] [--subtype float|pcm16|pcm24] [--jobs N] [--scheduler ADDRESS]

Writes ``OUTDIR/<input stem>_component_01.wav`` … (32-bit float WAV, the input's rate and
channel count; the tracks add up to the input) and, with ``--plot``,
``OUTDIR/<input stem>_separation.png``.  Existing outputs are refused before any work
unless ``--force``; all outputs are written to temporary names and renamed at the end,
so a failed or interrupted run leaves no partial files.  ``--block-seconds`` separates
long files block by block (:mod:`nmfaudio.blockwise`) with memory independent of the
duration; an input that would need more than ``--max-memory`` (default 4 GiB) in memory
runs that way by itself.  Several inputs or folders run as a batch (see ``nmfaudio drums`` and
:mod:`nmfaudio.batch`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from nmfaudio._validation import first_few
from nmfaudio.cli import (count, new_bar, output_folder, progress_bar, refuse_outputs, signals_deferred,
                          stop_if_signalled)
from nmfaudio.cli._args import add_max_memory, mask_power, non_negative_int, path_arg, positive_int, seconds
from nmfaudio.cli._batch import add_batch_arguments, add_output_arguments, file_format, is_batch, plan_one, run_batch

def _beta(text: str):
    """``--beta``: a divergence's name or short name (the library's own table,
    :func:`nmfaudio._validation.beta_name`: the engine is not imported to parse), or a number."""
    from nmfaudio._validation import beta_name, beta_names_text

    name = beta_name(text)
    if name is not None:
        return name
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a divergence; use {beta_names_text()} or a number") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number")
    return value


def register(subparsers) -> None:
    """Add the ``separate`` sub-command."""
    parser = subparsers.add_parser(
        "separate",
        help="split a recording into one WAV per NMF component",
        description="Factorize the magnitude spectrogram of INPUT (V ≈ W H), turn each "
                    "component into a soft mask and write one track per component; the "
                    "tracks add up to the input.",
    )
    parser.add_argument("inputs", metavar="INPUT", type=path_arg, nargs="+",
                        help="audio files (WAV, FLAC, OGG, MP3, ...) or folders (searched recursively)")
    parser.add_argument("-k", "--n-components", type=positive_int, required=True, metavar="K",
                        help="number of components (tracks)")
    parser.add_argument("-o", "--output-dir", type=path_arg, required=True, metavar="OUTDIR",
                        help="folder for the tracks (created if missing)")
    parser.add_argument("--beta", type=_beta, default="frobenius", metavar="B",
                        help="divergence: frobenius (fro), kullback-leibler (kl), itakura-saito (is) "
                             "or a number (default frobenius)")
    parser.add_argument("--n-fft", type=positive_int, default=2048, metavar="N", help="STFT frame length (default 2048)")
    parser.add_argument("--hop-length", type=positive_int, default=512, metavar="H",
                        help="STFT hop (default 512)")
    parser.add_argument("--mask-power", type=mask_power, default=1.0, metavar="P",
                        help="soft-mask power: 1 ratio, 2 Wiener-like, or 'binary' (default 1)")
    parser.add_argument("--max-iter", type=positive_int, default=200, metavar="M",
                        help="iterations of the NMF fit at most (default 200); itakura-saito and other "
                             "beta < 1 first run a short Frobenius warm-up, which the summary counts too")
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument("--block-seconds", type=seconds, default=None, metavar="S",
                        help="separate block by block, S seconds at a time, with memory independent of the "
                             "duration (for long files; templates learned on a subsample of the frames); at least "
                             "one STFT hop")
    parser.add_argument("--learn-frames", type=positive_int, default=None, metavar="N",
                        help="with --block-seconds: learn the templates on at most N spectrogram columns "
                             "(frames x channels; default 20000; at least K)")
    add_max_memory(parser, "separation")
    parser.add_argument("--plot", action="store_true",
                        help="also write OUTDIR/<stem>_separation.png (spectrogram, W, H, loss)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs (a batch: redo inputs "
                                                              "whose outputs exist instead of skipping them)")
    add_output_arguments(parser)
    add_batch_arguments(parser)
    parser.set_defaults(handler=run, parser=parser)


def separate_options(args) -> dict:
    """The per-file options of :func:`nmfaudio.batch.run_task` for ``separate``."""
    return {"n_components": args.n_components, "beta": args.beta, "n_fft": args.n_fft,
            "hop_length": args.hop_length, "mask_power": args.mask_power, "max_iter": args.max_iter,
            "random_state": args.seed, "block_seconds": args.block_seconds, "learn_frames": args.learn_frames,
            "plot": args.plot, "max_memory": args.max_memory}


def run(args) -> int:
    from nmfaudio import audio, pipeline, spectrum  # noqa: F401  (pipeline: see below)

    if args.learn_frames is not None and args.block_seconds is None:
        args.parser.error("--learn-frames needs --block-seconds (add --block-seconds 30, say)")
    fmt = file_format(args)
    if args.block_seconds is not None and tuple(fmt[:2]) != ("WAV", "FLOAT"):
        args.parser.error("--block-seconds writes 32-bit float WAV only; drop --format/--subtype")
    # Bad STFT settings fail before the output folder is made.  This (and importing the
    # pipeline above) also loads librosa and scipy now: a Ctrl-C or SIGTERM landing inside
    # a C extension's import can leave CPython exiting by the signal instead of our code.
    if is_batch(args):
        spectrum.check_frames(args.n_fft, args.hop_length)
        return run_batch(args, "separate", separate_options(args), _done_lines)
    task = plan_one(args, "separate", separate_options(args))
    refuse_outputs([Path(p) for p in task.outputs], force=args.force, output_dir=args.output_dir,
                   inputs=[task.input])
    spectrum.check_frames(args.n_fft, args.hop_length)
    info = audio.audio_info(task.input)  # a missing or broken input fails before the folder is made
    _check_sizes(args, task, info.frames, info.channels, info.samplerate)
    with output_folder(args.output_dir):
        _separate_and_report(args, task)
    leftover = other_components(task)
    if leftover:
        print(f"nmfaudio: note: {leftover}", file=sys.stderr)
    return 0


def other_components(task) -> str:
    """What to say of component files of this input's name in its output folder that this
    run did not write — an earlier run's with a larger -k (``-k 4``, then ``-k 3 --force``
    left ``_component_04``, and the folder's tracks no longer added up to the input;
    review63b) — or "" when there are none."""
    pattern = re.compile(re.escape(task.name) + r"_component_\d+\.[A-Za-z0-9]+")
    written = {Path(path).name for path in task.outputs}
    try:
        names = sorted(entry.name for entry in os.scandir(task.folder)
                       if pattern.fullmatch(entry.name) and entry.name not in written)
    except OSError:  # the folder went away or cannot be listed: nothing to say
        return ""
    if not names:
        return ""
    shown = first_few(names)
    return (f"{str(task.folder)!r} also holds {shown}, which this run did not write (an earlier run's, "
            f"with another -k?): with them the folder's tracks do not add up to the input; delete them")


def _check_sizes(args, task, n_samples: int, channels: int, sr: int) -> None:
    """Before any work: no more components than the spectrogram has columns (frames ×
    channels) or rows (frequency bins), two at least — the extra ones could only be
    silent or duplicate tracks, at a cost growing with -k (the batch's message, in the
    library's names that the CLI's error report turns into options) — and room on the
    disk for the tracks and the ``--plot`` figure (``task``: the file's plan)."""
    from nmfaudio import audio, batch
    from nmfaudio.fitting import check_component_limit

    check_component_limit(args.n_components, n_samples, channels, sr, n_fft=args.n_fft, hop_length=args.hop_length,
                          name=Path(task.input).name)
    audio.check_free_space(args.output_dir, audio.audio_bytes(n_samples, channels, args.n_components,
                                                              file_format(args).subtype)
                           + batch.side_file_bytes(task))


def _separate_and_report(args, task) -> None:
    from nmfaudio import batch
    from nmfaudio.pipeline import planned_iterations

    started = time.perf_counter()
    bar, callback = progress_bar(planned_iterations(args.beta, args.max_iter))
    blocks = new_bar(desc="blocks", unit="block", leave=False)

    def on_block(done, total):
        stop_if_signalled()  # a safe point: between blocks
        if done == 1:
            bar.close()
            blocks.reset(total=total)
        blocks.update(1)

    try:
        with signals_deferred():  # signals: raised between iterations, not inside compiled code
            summary = batch.run_task(task, callback=callback, on_block=on_block)
    finally:
        bar.close()
        blocks.close()
    record = batch.make_record(task, "done", seconds=time.perf_counter() - started, summary=summary)
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print("\n".join(_done_lines(record)))


def _done_lines(record, name: str | None = None) -> list[str]:
    """The report of one separated input: a headline (``name``: the input's file name by
    default; a batch gives its path, review62b), then one line per component."""
    state = "converged" if record["converged"] else f"stopped at --max-iter {record['max_iter']}; raise it to converge"
    warm = record["warm_up_iter"]
    if warm:  # n_iter counts every iteration run: the warm-up's and the β fit's
        state = f"{warm} Frobenius warm-up + {record['n_iter'] - warm} {_divergence(record['beta'])}, {state}"
    mode = ""
    block = record.get("blockwise")
    if block is not None:
        every = "every frame" if block["learn_stride"] == 1 else f"1 frame in {block['learn_stride']}"
        mode = (f"; block-wise: {count(block['blocks'], 'block')} of {block['block_seconds']:g} s, "
                f"templates learned on {every}")
        if block.get("reason"):  # switched by itself: say why, once
            mode += f" (chosen because {block['reason']})"
    loss = record["final_loss"]
    lines = [f"{Path(record['input']).name if name is None else name}: {count(record['n_components'], 'component')}, beta={record['beta']}, "
             f"{count(record['n_iter'], 'iteration')} ({state}), "
             f"final loss {loss if loss is None else format(loss, '.4g')}, "
             f"{record['seconds']:.1f} s{mode}"]
    for component in record["components"]:
        centroid = component["centroid_hz"]
        where = f"centroid {centroid:7.0f} Hz" if centroid is not None else "silent template"
        lines.append(f"  {component['path']}  ({where}, rms {component['rms']:.3g})")
    if record["plot"]:
        lines.append(f"  {record['plot']}  (spectrogram, W, H, loss)")
    return lines


def _divergence(beta) -> str:
    """The divergence as words: its name ("itakura-saito"), or "beta 0.5" for a number
    (a bare "0.5" after an iteration count read as "80 0.5")."""
    return beta if isinstance(beta, str) else f"beta {beta:g}"
