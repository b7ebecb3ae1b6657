"""``nmfaudio image``: compress a photo, or sweep the rank over a stack of images.

::

    nmfaudio image compress PHOTO -r 20 -o out.png [--gray] [--svd] [--plot fig.png] [--json] [--force]
    nmfaudio image sweep IMAGES [--ranks 16,32,64,128,256] [--sigma 0.1] [--n 500]
                         [-o sweep.png] [--json] [--force]

IMAGES is an ``.npz`` file with an ``images`` array (N, h, w[, 3 or 4]) — such as
``data/punks_500.npz`` — or a folder of equally sized pictures (read in name order).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from nmfaudio.cli import (
    FIGURE_BYTES,
    CLIError,
    check_output_parent,
    count,
    refuse_outputs,
    stale_notes,
    warnings_as_notes,
)
from nmfaudio.cli._args import non_negative_int, number, path_arg, positive_int
from nmfaudio.plot import save_figure

#: ``image sweep``'s defaults: :data:`nmfaudio.adapters.image.SWEEP_MAX_ITER` and
#: :data:`~nmfaudio.adapters.image.SWEEP_TOL` (a test holds them equal), copied so the
#: parser, which every command builds, does not import the image adapters (~5 ms of a
#: drum run's start-up; docs/performance.md, the speed50 round).
SWEEP_MAX_ITER = 200
SWEEP_TOL = 2e-4


def register(subparsers) -> None:
    """Add ``image compress`` and ``image sweep``."""
    parser = subparsers.add_parser(
        "image", help="compress a photo or study the rank on a stack of images",
        description="Non-negative factorizations of pictures: compression of one photo, "
                    "and fit / denoising error against the rank on a stack of images.")
    commands = parser.add_subparsers(dest="image_command", metavar="{compress,sweep}")
    commands.required = True

    compress = commands.add_parser(
        "compress", help="approximate a photo by rank-r non-negative factors",
        description="Factorize PHOTO (gray, RGB stacked side by side, or either with its "
                    "opacity kept) at rank R and write the reconstruction.")
    compress.add_argument("photo", metavar="PHOTO", type=path_arg, help="an image file Pillow reads")
    compress.add_argument("-r", "--rank", type=positive_int, required=True, help="number of components")
    compress.add_argument("-o", "--output", type=path_arg, required=True,
                          help="reconstruction to write (format from the suffix, e.g. .png)")
    compress.add_argument("--gray", action="store_true", help="convert the photo to grayscale first")
    compress.add_argument("--svd", action="store_true",
                          help="also report the PSNR of the truncated SVD (the rank-r limit)")
    compress.add_argument("--plot", type=path_arg, default=None, metavar="PNG",
                          help="also write a figure: original, reconstruction, loss curve")
    compress.add_argument("--json", action="store_true",
                          help="print the summary as JSON (psnr_db null when the reconstruction is exact)")
    _add_fit_options(compress, max_iter=500, tol=5e-5, each="")
    compress.add_argument("--force", action="store_true", help="overwrite existing outputs")
    compress.set_defaults(handler=run_compress)

    sweep = commands.add_parser(
        "sweep", help="fit or denoising error against the rank",
        description="Fit a stack of images at several ranks and print the relative error "
                    "per rank.  With --sigma > 0 the NTNU noise model is applied first and "
                    "the error is measured against the clean images (the U-shaped "
                    "denoising curve).")
    sweep.add_argument("images", metavar="IMAGES", type=path_arg,
                       help="an .npz with an 'images' array, or a folder of equally sized images")
    sweep.add_argument("--ranks", type=_rank_list, default=[16, 32, 64, 128, 256],
                       help="comma-separated ranks (default 16,32,64,128,256)")
    sweep.add_argument("--sigma", type=_sigma, default=0.0,
                       help="noise standard deviation on the [0, 1] scale (default 0: no noise)")
    sweep.add_argument("--n", type=positive_int, default=None, help="use the first N images only")
    sweep.add_argument("-o", "--output", type=path_arg, default=None, metavar="PNG",
                       help="write the error-versus-rank plot here")
    sweep.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    _add_fit_options(sweep, max_iter=SWEEP_MAX_ITER, tol=SWEEP_TOL, each=" per rank")
    sweep.add_argument("--force", action="store_true", help="overwrite existing outputs")
    sweep.set_defaults(handler=run_sweep)


def _add_fit_options(parser, *, max_iter: int, tol: float, each: str) -> None:
    """--max-iter, --tol and --seed; ``each`` words what --max-iter bounds (" per rank")."""
    parser.add_argument("--max-iter", type=non_negative_int, default=max_iter, metavar="M",
                        help=f"iterations at most{each} (default {max_iter})")
    parser.add_argument("--tol", type=_tol, default=tol, metavar="T",
                        help="stop when the relative error improved by less than this over 10 "
                             f"iterations (default {tol:g}; 0: run all)")
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="S", help="random seed (default 0)")


def _tol(text: str) -> float:
    return number(text, minimum=0, what="a tolerance", example="1e-4 (0: run every iteration)")


def _sigma(text: str) -> float:
    return number(text, minimum=0, what="a noise level", example="0.1 (0: no noise)")


def _rank_list(text: str) -> list[int]:
    import argparse

    try:
        ranks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated ints, e.g. 16,32,64") from None
    if not ranks or min(ranks) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must list ranks >= 1, e.g. 16,32,64")
    twice = sorted({rank for rank in ranks if ranks.count(rank) > 1})
    if twice:  # the sweep would fit it twice and print two rows for it
        raise argparse.ArgumentTypeError(f"{text!r} names rank {twice[0]} twice; give each rank once")
    return ranks


# --------------------------------------------------------------------------- file I/O


def _pillow_format(path: Path, example: str = "out.png") -> str:
    """Pillow's format for ``path``'s suffix.  No suffix at all is most likely a folder
    meant (``-o out``, as ``drums`` and ``separate`` take one): said so, with ``example``,
    a file name in it."""
    from PIL import Image

    if not path.suffix:
        raise CLIError(f"-o {str(path)!r} has no suffix to tell the picture format from; -o is the picture "
                       f"file to write, not a folder: e.g. -o {str(path.with_suffix('.png'))!r}, or "
                       f"-o {str(path / example)!r} inside a folder")
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise CLIError(f"cannot tell the picture format of {str(path)!r}; use a suffix like .png")
    return fmt


def _check_png(path, option: str) -> None:
    """A figure is written as PNG: refuse another suffix (PNG bytes under a .jpg name)."""
    if path is not None and path.suffix.lower() != ".png":
        raise CLIError(f"{option} {str(path)!r} must end in .png (the figure is written as PNG)")


def _check_folder(path, option: str) -> None:
    """Refuse, before the fit, an output whose folder does not exist (as ``drums --onsets``)."""
    if path is not None:
        check_output_parent(path, option)


def _check_outside_stack(output, images) -> None:
    """Refuse, before the fit, a figure written into the folder of pictures it is a sweep of:
    the next sweep of that folder read it as one of them, and stopped on "the pictures in
    'faces' have different sizes [(8, 8), (432, 660)]", a size the user never had (review58)."""
    if output is None or not Path(images).is_dir() or output.parent.resolve() != Path(images).resolve():
        return
    elsewhere = Path(images).parent / output.name
    if elsewhere.parent.resolve() == Path(images).resolve():  # IMAGES is '.': the folder above, spelled out
        elsewhere = Path(images).resolve().parent / output.name
    raise CLIError(f"-o {str(output)!r} is in the folder of pictures {str(images)!r}: the next sweep of it "
                   f"would read the figure as one of its pictures; write it outside, e.g. -o {str(elsewhere)!r}")


#: The words for a picture's Pillow mode (a picture from ``read_picture``): the summary's
#: and ``--json``'s ``kind``, and the refusal of an output format that cannot store it.
KINDS = {"L": "gray", "LA": "gray + opacity", "RGB": "RGB", "RGBA": "RGBA"}


def _picture_bytes(pixels: np.ndarray) -> int:
    """Bytes to count for writing ``pixels`` as a picture: its samples as they are (what an
    uncompressed PNG, TIFF or BMP stores, about the most a compressed one takes), a filter
    or padding byte per row and a header.  Given to :func:`nmfaudio.audio.atomic_outputs`,
    a full disk is said as the audio writers say it, "the outputs need about 12 KB" (it
    was "the device holding '.' is full" alone; mend60)."""
    return int(pixels.nbytes) + 4 * int(pixels.shape[0]) + 4096


def _mode(image: np.ndarray) -> str:
    """The Pillow mode of a picture from ``read_picture``: L, LA, RGB or RGBA."""
    channels = 1 if image.ndim == 2 else image.shape[2]
    return {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels]


def _check_storable(path: Path, fmt: str, image) -> None:
    """Refuse, before the fit, an output format that cannot store the picture (JPEG holds no
    opacity): a 1-pixel picture of the same kind is saved to memory first."""
    import io

    from PIL import Image

    mode = _mode(image)
    try:
        Image.new(mode, (1, 1)).save(io.BytesIO(), format=fmt)
    except (OSError, KeyError, ValueError) as exc:
        raise CLIError(f"-o {str(path)!r}: {fmt} cannot store this {KINDS[mode]} picture ({exc}); "
                       "use a .png output") from None
    height, width = image.shape[:2]
    problem = _round_trip_problem(fmt, mode, width, height)
    if problem is not None:
        raise CLIError(f"-o {str(path)!r}: {fmt} would {problem}; use a .png output")


#: The largest side of :func:`_round_trip_problem`'s probe: above every fixed icon size
#: Pillow writes but ICNS's (which comes back larger), so a changed size still shows, while
#: a 12-megapixel probe took up to 2 s to encode (WebP with opacity).
PROBE_SIDE = 300


def _round_trip_problem(fmt: str, mode: str, width: int, height: int) -> str | None:
    """What ``fmt`` would lose of a ``width`` x ``height`` picture in ``mode``, or None: a
    probe of that size (each side at most :data:`PROBE_SIDE`; every opacity level for LA
    and RGBA) is saved to memory and read back.  ICO stores a 40x30 picture as a 24x18
    icon; GIF keeps one transparent colour at most, BMP and PPM no opacity, AVIF and ICNS
    change it — Pillow writes all of them without a word.  A format Pillow cannot read
    back (PDF) passes unless the picture has opacity, which then cannot be shown to be kept."""
    import io

    from PIL import Image

    size = (min(width, PROBE_SIDE), min(height, PROBE_SIDE))
    levels = np.resize(np.arange(256, dtype=np.uint8), size[::-1])
    channels = [np.full(size[::-1], 128, dtype=np.uint8)] * (len(mode) - mode.endswith("A"))
    if mode.endswith("A"):
        channels.append(levels)
    probe = Image.fromarray(channels[0] if len(channels) == 1 else np.dstack(channels), mode)
    opacity = f"drop or change the opacity of this {KINDS[mode]} picture (the fit keeps it bit for bit)"
    buffer = io.BytesIO()
    try:
        probe.save(buffer, format=fmt)
        buffer.seek(0)
        with Image.open(buffer) as back:
            if back.size != size:
                if size == (width, height):
                    return (f"store this {width}x{height} picture at {back.size[0]}x{back.size[1]} "
                            "(its pictures come in fixed sizes)")
                return f"not keep the size of this {width}x{height} picture (its pictures come in fixed sizes)"
            if mode.endswith("A") and not np.array_equal(np.asarray(back.convert(mode))[..., -1], levels):
                return opacity
    except Exception:  # noqa: BLE001 - Pillow's readers raise many kinds; the write was checked above
        return opacity if mode.endswith("A") else None
    return None


# --------------------------------------------------------------------------- commands


@contextmanager
def _convergence_note():
    """Collect the engine's ConvergenceWarnings; print one note line to stderr instead."""
    from nmfaudio import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        yield
    count = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    for other in caught:
        if not issubclass(other.category, ConvergenceWarning):
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    if count:
        fits = "a fit" if count == 1 else f"{count} fits"
        print(f"nmfaudio: note: {fits} reached --max-iter before --tol; raise --max-iter "
              "for a closer fit", file=sys.stderr)


def _frame_notes():
    """Each :class:`~nmfaudio.adapters.files.FirstFrameWarning` raised while reading as one
    ``nmfaudio: note:`` line on stderr (:func:`~nmfaudio.cli.warnings_as_notes`)."""
    from nmfaudio.adapters.files import FirstFrameWarning

    return warnings_as_notes(FirstFrameWarning)


def run_compress(args) -> int:
    from PIL import Image

    from nmfaudio.adapters.files import read_picture
    from nmfaudio.adapters.image import compress, psnr, truncated_svd
    from nmfaudio.audio import atomic_outputs

    outputs = [args.output] + ([args.plot] if args.plot is not None else [])
    _check_png(args.plot, "--plot")
    # before refuse_outputs: `-o out/` where out is an existing folder (as separate's -o)
    # is told -o names the picture file, not "'out' is a folder ...; move it" (tour18)
    fmt = _pillow_format(args.output, f"{args.photo.stem}_r{args.rank}.png")
    refuse_outputs(outputs, force=args.force, inputs=[args.photo])
    _check_folder(args.output, "-o")
    _check_folder(args.plot, "--plot")
    with _frame_notes():
        image = read_picture(args.photo, gray=args.gray)
    _check_storable(args.output, fmt, image)
    started = time.perf_counter()
    with _convergence_note():
        result = compress(image, args.rank, max_iter=args.max_iter, tol=args.tol,
                          random_state=args.seed)
    seconds = time.perf_counter() - started
    reconstruction = result.reconstruct()
    svd_psnr = None
    if args.svd:
        svd_image = truncated_svd(image, args.rank)
        colour = slice(0, -1) if _mode(image).endswith("A") else slice(None)  # opacity left out
        svd_psnr = psnr(image[..., colour], svd_image[..., colour])

    need = _picture_bytes(reconstruction) + (FIGURE_BYTES if args.plot is not None else 0)
    with stale_notes(), atomic_outputs(outputs, overwrite=args.force, need_bytes=need) as temporaries:
        Image.fromarray(reconstruction).save(temporaries[0], format=fmt)
        written = _written_psnr(temporaries[0], image, reconstruction, result.psnr)
        if args.plot is not None:
            save_figure(_compress_figure(image, result, svd_psnr), temporaries[1], format="png", dpi=120)

    kind = KINDS[_mode(image)]
    height, width = image.shape[:2]
    if args.json:
        print(json.dumps(_compress_record(args, result, svd_psnr, written, kind, width, height, seconds), indent=2))
        return 0
    main, asides = _psnr_words(result.psnr, written, fmt)
    if svd_psnr is not None:
        asides.append(f"truncated SVD {_db(svd_psnr)}")
    line = f"{args.photo.name}: {width}x{height} {kind}, rank {result.rank}: {main}"
    if asides:
        line += f" ({'; '.join(asides)})"
    line += (f", stores {result.n_stored:,} of {result.n_original:,} numbers "
             f"({result.storage_ratio:.1%}), {count(result.n_iter, 'iteration')} in {seconds:.1f} s")
    print(line)
    print(f"wrote {args.output}" + (f" and {args.plot}" if args.plot is not None else ""))
    return 0


def _db(value: float) -> str:
    """A PSNR for a reader: "30.55 dB", or "exact" for an exact reconstruction (infinite
    PSNR, which printed as "inf dB" before 2026-12-06, polish17)."""
    return "exact" if value == float("inf") else f"{value:.2f} dB"


def _psnr_text(value: float) -> str:
    """"PSNR 30.55 dB", or "exact" (:func:`_db`)."""
    return "exact" if value == float("inf") else f"PSNR {_db(value)}"


def _written_psnr(path, image, reconstruction, fit_psnr):
    """(PSNR, changed) of the picture as written to ``path``, read back: a format may change
    the reconstruction — GIF keeps 256 colours, JPEG and (Pillow's default) WebP are lossy —
    while the fit's PSNR is of the reconstruction before writing (tour18 saw a GIF's summary
    print the fit's).  ``(fit_psnr, False)`` when every pixel was kept; ``(None, None)`` for
    a format Pillow cannot read back (PDF)."""
    from PIL import Image

    from nmfaudio.adapters.image import psnr

    mode = _mode(image)
    try:
        with Image.open(path) as back:
            pixels = np.asarray(back.convert(mode))
    except Exception:  # noqa: BLE001 - Pillow's readers raise many kinds (PDF: cannot identify)
        return None, None
    if pixels.shape != reconstruction.shape:  # the size is checked before the fit: not expected
        return None, None
    if np.array_equal(pixels, reconstruction):
        return fit_psnr, False
    colour = slice(0, -1) if mode.endswith("A") else slice(None)  # opacity left out, as the fit's
    return psnr(image[..., colour], pixels[..., colour]), True


def _psnr_words(fit_psnr: float, written, fmt: str) -> tuple[str, list[str]]:
    """The summary's PSNR and its asides: of the picture written, which is the fit's unless
    the format changed it (the fit's is then an aside), or the fit's, said so, when the file
    is not read back; an exact reconstruction is called exact."""
    value, changed = written
    if changed is None:
        return f"PSNR {_db(fit_psnr)} before writing", [f"{fmt} files are not read back to check"]
    if changed:
        return f"PSNR {_db(value)} as written", [f"{fmt} changed the fit's {_db(fit_psnr)}"]
    if fit_psnr == float("inf"):
        return "exact, every pixel as in the photo", []
    return _psnr_text(fit_psnr), []


def _finite_db(value):
    """A PSNR for JSON: infinite (an exact reconstruction, e.g. a black picture) is null,
    as JSON has no Infinity; None stays None."""
    return None if value is None or not np.isfinite(value) else float(value)


def _compress_record(args, result, svd_psnr, written, kind, width, height, seconds) -> dict:
    """``image compress --json``: the summary line's numbers and the files written
    (``output_psnr_db`` of the picture as written, ``output_changed`` whether the format
    changed the fit's reconstruction, null when the file is not read back)."""
    return {"photo": str(args.photo), "output": str(args.output),
            "plot": None if args.plot is None else str(args.plot), "width": int(width), "height": int(height),
            "kind": kind, "rank": int(result.rank), "psnr_db": _finite_db(result.psnr),
            "svd_psnr_db": _finite_db(svd_psnr), "output_psnr_db": _finite_db(written[0]),
            "output_changed": written[1], "n_stored": int(result.n_stored),
            "n_original": int(result.n_original), "storage_ratio": float(result.storage_ratio),
            "n_iter": int(result.n_iter), "converged": bool(result.converged), "max_iter": args.max_iter,
            "tol": args.tol, "seed": args.seed, "seconds": round(seconds, 3)}


def _compress_figure(image, result, svd_psnr):
    from nmfaudio.plot.image import image_grid

    title = f"rank {result.rank}: {_psnr_text(result.psnr)}"
    if svd_psnr is not None:
        title += f" (SVD {_db(svd_psnr)})"
    return image_grid([image, result.reconstruct()], ncols=2, panel_size=3.5,
                      titles=["original", f"{title}, {result.storage_ratio:.1%} storage"])


def run_sweep(args) -> int:
    from nmfaudio.adapters.files import read_image_stack
    from nmfaudio.adapters.image import StackShapeWarning, add_noise, denoise_sweep, stack_reading
    from nmfaudio.audio import atomic_outputs

    outputs = [args.output] if args.output is not None else []
    _check_png(args.output, "-o")
    refuse_outputs(outputs, force=args.force, inputs=[args.images])
    _check_folder(args.output, "-o")
    _check_outside_stack(args.output, args.images)
    with _frame_notes():
        images = read_image_stack(args.images, args.n)
    if args.n is not None and args.n > len(images):  # "the first N": said, not silently fewer (polish15)
        print(f"nmfaudio: note: --n {args.n}: {args.images} holds {count(len(images), 'image')}; "
              f"using all {len(images)}", file=sys.stderr)
    reading = stack_reading(images.shape)
    if reading is not None:  # one RGBA picture saved without its stack axis? (polish17)
        print(f"nmfaudio: note: {args.images}: the images' {reading}, save it as images[None] "
              f"(shape {(1, *images.shape)})", file=sys.stderr)
    rgb = images.ndim == 4 and images.shape[3] >= 3  # RGB(A); gray with opacity has one colour
    rows = int(np.prod(images.shape[1:3])) * (3 if rgb else 1)  # colour channels stacked
    most = min(len(images), rows)
    too_high = [rank for rank in args.ranks if rank > most]
    if too_high:  # refused before the first (long) fit, not after the others
        raise CLIError(f"--ranks {','.join(map(str, too_high))}: {count(len(images), 'picture')} of "
                       f"{images.shape[2]} x {images.shape[1]} pixels {'has' if len(images) == 1 else 'have'} "
                       f"at most {count(most, 'independent part')}; use ranks up to {most}")
    clean = None
    noisy = images
    if args.sigma > 0:
        # Noise on the [0, 1] scale, unquantized: work in float32.
        clean = images.astype(np.float32) / 255 if images.dtype == np.uint8 else images
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StackShapeWarning)
            noisy = add_noise(clean, args.sigma, random_state=args.seed)

    rows = []
    clock = [time.perf_counter()]

    def on_rank(rank, error):
        now = time.perf_counter()
        rows.append({"rank": int(rank), "error": float(error), "seconds": round(now - clock[0], 2)})
        clock[0] = now
        if not args.json:
            if len(rows) == 1:
                print(f"{'rank':>6}  {'rel. error':>10}  {'seconds':>8}")
            print(f"{rank:>6}  {error:>10.4f}  {rows[-1]['seconds']:>8.1f}", flush=True)

    with _convergence_note(), warnings.catch_warnings():
        warnings.simplefilter("ignore", StackShapeWarning)  # said above, in the command line's words
        sweep = denoise_sweep(noisy, args.ranks, clean=clean, max_iter=args.max_iter,
                              tol=args.tol, random_state=args.seed, on_rank=on_rank)
    for row, fit in zip(rows, sweep.fits):
        row["n_iter"] = int(fit.n_iter)

    what = "denoising error (vs clean)" if clean is not None else "fit error"
    if outputs:
        from nmfaudio.plot.image import error_vs_rank

        title = f"{count(len(images), 'image')}, {what}" + (f", sigma={args.sigma:g}" if clean is not None else "")
        fig = error_vs_rank(sweep.ranks, sweep.errors, reference=sweep.noisy_error,
                            reference_label="noisy input", title=title)
        with stale_notes(), atomic_outputs(outputs, overwrite=args.force, need_bytes=FIGURE_BYTES) as temporaries:
            save_figure(fig, temporaries[0], format="png", dpi=120)

    if args.json:
        print(json.dumps({
            "images": str(args.images), "n_images": int(len(images)), "sigma": args.sigma,
            "measure": what, "max_iter": args.max_iter, "tol": args.tol, "seed": args.seed,
            "rows": rows, "best_rank": int(sweep.best_rank), "best_error": sweep.best_error,
            "noisy_error": sweep.noisy_error,
            # the figure written (-o), as compress's record names its files; null without -o
            "output": None if args.output is None else str(args.output),
        }, indent=2))
    else:
        summary = f"best rank {sweep.best_rank}: {what} {sweep.best_error:.4f}"
        if sweep.noisy_error is not None:
            summary += f" (noisy input {sweep.noisy_error:.4f})"
        print(summary)
        if outputs:
            print(f"wrote {args.output}")
    return 0
