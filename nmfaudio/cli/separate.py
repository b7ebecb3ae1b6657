"""``nmfaudio separate``: one WAV per NMF component of a recording.

::

    nmfaudio separate INPUT -k K -o OUTDIR [--beta B] [--n-fft N] [--hop-length H]
                      [--mask-power P] [--max-iter M] [--seed S] [--block-seconds S
                      [--learn-frames N]] [--plot] [--json] [--force]

Writes ``OUTDIR/<input stem>_component_01.wav`` … (32-bit float WAV, the input's rate and
channel count; the tracks add up to the input) and, with ``--plot``,
``OUTDIR/<input stem>_separation.png``.  Existing outputs are refused before any work
unless ``--force``; all outputs are written to temporary names and renamed at the end,
so a failed or interrupted run leaves no partial files.  ``--block-seconds`` separates
long files block by block (:mod:`nmfaudio.blockwise`) with memory independent of the
duration.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from nmfaudio.cli import CLIError, output_folder, progress_bar, refuse_outputs, signals_deferred, stop_if_signalled
from nmfaudio.cli._args import mask_power, non_negative_int, positive_int, positive_number

BETA_ALIASES = {
    "frobenius": "frobenius", "fro": "frobenius", "euclidean": "frobenius",
    "kullback-leibler": "kullback-leibler", "kl": "kullback-leibler",
    "itakura-saito": "itakura-saito", "is": "itakura-saito",
}


def _beta(text: str):
    name = BETA_ALIASES.get(text.strip().lower())
    if name is not None:
        return name
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a divergence; use frobenius (fro), kullback-leibler (kl), itakura-saito (is) or a number"
        ) from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number")
    return value


def _seconds(text: str) -> float:
    return positive_number(text, what="a number of seconds", example="30")


def register(subparsers) -> None:
    """Add the ``separate`` sub-command."""
    parser = subparsers.add_parser(
        "separate",
        help="split a recording into one WAV per NMF component",
        description="Factorize the magnitude spectrogram of INPUT (V ≈ W H), turn each "
                    "component into a soft mask and write one track per component; the "
                    "tracks add up to the input.",
    )
    parser.add_argument("input", metavar="INPUT", type=Path, help="an audio file (WAV, FLAC, OGG, MP3, ...)")
    parser.add_argument("-k", "--n-components", type=positive_int, required=True, metavar="K",
                        help="number of components (tracks)")
    parser.add_argument("-o", "--output-dir", type=Path, required=True, metavar="OUTDIR",
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
    parser.add_argument("--block-seconds", type=_seconds, default=None, metavar="S",
                        help="separate block by block, S seconds at a time, with memory independent of the "
                             "duration (for long files; templates learned on a subsample of the frames)")
    parser.add_argument("--learn-frames", type=positive_int, default=None, metavar="N",
                        help="with --block-seconds: learn the templates on at most N spectrogram columns "
                             "(frames x channels; default 20000)")
    parser.add_argument("--plot", action="store_true",
                        help="also write OUTDIR/<stem>_separation.png (spectrogram, W, H, loss)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs")
    parser.set_defaults(handler=run, parser=parser)


def _outputs(args) -> tuple[list[Path], Path | None]:
    from nmfaudio.fitting import component_file_names

    stem = args.input.stem or "input"
    tracks = [args.output_dir / name for name in component_file_names(stem, args.n_components)]
    plot = args.output_dir / f"{stem}_separation.png" if args.plot else None
    return tracks, plot


def run(args) -> int:
    from nmfaudio import audio, pipeline, spectrum  # noqa: F401  (pipeline: see below)

    if args.learn_frames is not None and args.block_seconds is None:
        args.parser.error("--learn-frames needs --block-seconds (add --block-seconds 30, say)")
    tracks, plot = _outputs(args)
    outputs = tracks + ([plot] if plot else [])
    refuse_outputs(outputs, force=args.force, output_dir=args.output_dir, inputs=[args.input])
    # Bad STFT settings fail before the output folder is made.  This (and importing the
    # pipeline above) also loads librosa and scipy now: a Ctrl-C or SIGTERM landing inside
    # a C extension's import can leave CPython exiting by the signal instead of our code.
    spectrum.check_frames(args.n_fft, args.hop_length)
    if args.block_seconds is not None:
        info = audio.audio_info(args.input)  # a missing or broken input fails before the folder is made
        _check_sizes(args, info.frames, info.channels, info.samplerate)
        with output_folder(args.output_dir):
            _separate_blocks(args, tracks, plot)
        return 0
    y, sr = audio.load(args.input)
    _check_sizes(args, y.shape[-1], 1 if y.ndim == 1 else y.shape[0], sr)
    with output_folder(args.output_dir):
        _separate_and_write(args, y, sr, tracks, plot, outputs)
    return 0


def _check_sizes(args, n_samples: int, channels: int, sr: int) -> None:
    """Before any work: no more components than the spectrogram has columns (frames ×
    channels) or rows (frequency bins), two at least — the extra ones could only be
    silent or duplicate tracks, at a cost growing with -k — and room on the disk for
    the tracks."""
    from nmfaudio import audio, spectrum

    frames = spectrum.n_frames(n_samples, hop_length=args.hop_length, n_fft=args.n_fft)
    bins = 1 + args.n_fft // 2
    most = max(2, min(frames * channels, bins))  # two always: a clip shorter than a frame still splits
    if args.n_components > most:
        what = (f"the {frames} spectrogram frames of {args.input.name!r} ({n_samples / sr:.3g} s at --hop-length "
                f"{args.hop_length}" + (f", x {channels} channels)" if channels > 1 else ")")
                if most < bins else f"the {bins} frequency bins of --n-fft {args.n_fft}")
        raise CLIError(f"-k {args.n_components} is more than {what}: at most {most} components can differ; "
                       f"use -k {most} or less" + (", or a longer recording" if most < bins else ", or a larger --n-fft"))
    audio.check_free_space(args.output_dir, audio.audio_bytes(n_samples, channels, args.n_components))


def _separate_blocks(args, tracks, plot) -> None:
    from tqdm import tqdm

    from nmfaudio.blockwise import separate_file
    from nmfaudio.pipeline import planned_iterations

    extra = []
    if plot:
        def write_figure(result, temporary):
            from nmfaudio.plot.audio import separation_figure

            separation_figure(result, title=args.input.name).savefig(temporary, format="png", dpi=100)

        extra.append((plot, write_figure))
    started = time.perf_counter()
    bar, callback = progress_bar(planned_iterations(args.beta, args.max_iter))
    blocks = tqdm(desc="blocks", unit="block", file=sys.stderr, disable=None, leave=False, dynamic_ncols=True)

    def on_block(done, total):
        stop_if_signalled()  # a safe point: between blocks
        if done == 1:
            bar.close()
            blocks.reset(total=total)
        blocks.update(1)

    try:
        with warnings.catch_warnings(), signals_deferred():  # signals: raised between iterations
            warnings.simplefilter("ignore")  # non-convergence is reported in the summary instead
            result = separate_file(
                args.input, args.output_dir, n_components=args.n_components, block_seconds=args.block_seconds,
                learn_frames=args.learn_frames or None, overwrite=args.force, on_block=on_block,
                extra_outputs=extra, beta=args.beta, n_fft=args.n_fft, hop_length=args.hop_length,
                mask_power=args.mask_power, max_iter=args.max_iter, random_state=args.seed, callback=callback)
    finally:
        bar.close()
        blocks.close()
    seconds = time.perf_counter() - started
    _report(args, result, result.sr, seconds, tracks, plot, rms=list(result.rms),
            channels=result.n_channels, n_samples=result.n_samples,
            block={"block_seconds": args.block_seconds, "blocks": result.blocks,
                   "learn_stride": result.learn_stride})


def _separate_and_write(args, y, sr, tracks, plot, outputs) -> None:
    from nmfaudio import audio
    from nmfaudio.pipeline import planned_iterations, separate

    started = time.perf_counter()
    bar, callback = progress_bar(planned_iterations(args.beta, args.max_iter))
    try:
        with warnings.catch_warnings(), signals_deferred():  # signals: raised between iterations
            warnings.simplefilter("ignore")  # non-convergence is reported in the summary instead
            result = separate(y, sr, n_components=args.n_components, beta=args.beta, n_fft=args.n_fft,
                              hop_length=args.hop_length, mask_power=args.mask_power, max_iter=args.max_iter,
                              random_state=args.seed, callback=callback)
    finally:
        bar.close()
    seconds = time.perf_counter() - started

    figure = None
    if plot:
        from nmfaudio.plot.audio import separation_figure

        figure = separation_figure(result, title=args.input.name)
    need = audio.audio_bytes(y.shape[-1], 1 if y.ndim == 1 else y.shape[0], len(tracks))
    with audio.atomic_outputs(outputs, overwrite=args.force, need_bytes=need) as temporaries:
        for temporary, track in zip(temporaries, result.components):
            audio.write_wav(temporary, track, sr)
        if figure is not None:
            figure.savefig(temporaries[-1], format="png", dpi=100)

    _report(args, result, sr, seconds, tracks, plot)


def _warm_up_iterations(args) -> int:
    """The Frobenius warm-up iterations that come before the β fit (β < 1 only)."""
    from nmfaudio.pipeline import planned_iterations

    return planned_iterations(args.beta, args.max_iter) - args.max_iter


def _report(args, result, sr, seconds, tracks, plot, *, rms=None, channels=None, n_samples=None,
            block=None) -> None:
    bins_hz = np.arange(result.W.shape[0]) * sr / args.n_fft
    weight = result.W.sum(axis=0)
    centroids = [float(bins_hz @ result.W[:, j] / weight[j]) if weight[j] > 0 else None
                 for j in range(result.n_components)]
    if rms is None:
        rms = [float(np.sqrt(np.mean(np.square(track, dtype=np.float64)))) for track in result.components]
        channels = 1 if result.components.ndim == 2 else result.components.shape[1]
        n_samples = int(result.components.shape[-1])
    final_loss = float(result.loss[-1]) if len(result.loss) else float("nan")
    if args.json:
        summary = {
            "input": str(args.input), "sr": sr, "channels": int(channels),
            "n_samples": int(n_samples), "n_components": result.n_components,
            "beta": args.beta, "n_fft": args.n_fft, "hop_length": args.hop_length, "mask_power": args.mask_power,
            "seed": args.seed, "n_iter": result.n_iter, "warm_up_iter": min(result.n_iter, _warm_up_iterations(args)),
            "converged": result.converged, "final_loss": final_loss,
            "seconds": round(seconds, 3),
            "components": [{"path": str(p), "centroid_hz": c, "rms": r} for p, c, r in zip(tracks, centroids, rms)],
            "plot": str(plot) if plot else None,
        }
        if block is not None:
            summary["blockwise"] = block
        print(json.dumps(summary, indent=2))
        return
    state = "converged" if result.converged else f"stopped at --max-iter {args.max_iter}; raise it to converge"
    warm = min(result.n_iter, _warm_up_iterations(args))
    if warm:  # n_iter counts every iteration run: the warm-up's and the β fit's
        state = f"{warm} Frobenius warm-up + {result.n_iter - warm} {args.beta}, {state}"
    mode = ""
    if block is not None:
        every = "every frame" if block["learn_stride"] == 1 else f"1 frame in {block['learn_stride']}"
        mode = f"; block-wise: {block['blocks']} blocks of {block['block_seconds']:g} s, templates learned on {every}"
    print(f"{args.input.name}: {result.n_components} components, beta={args.beta}, "
          f"{result.n_iter} iterations ({state}), final loss {final_loss:.4g}, {seconds:.1f} s{mode}")
    for path, centroid, level in zip(tracks, centroids, rms):
        where = f"centroid {centroid:7.0f} Hz" if centroid is not None else "silent template"
        print(f"  {path}  ({where}, rms {level:.3g})")
    if plot:
        print(f"  {plot}  (spectrogram, W, H, loss)")
