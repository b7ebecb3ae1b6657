"""Compress a grayscale photo with NMF at ranks 5, 10, 20, 50 and 100.

Reproduces the rank study of the NMF image-compression tutorial on the bundled CC0
photo ``data/camera.png`` (512 x 512): reconstructions, loss curves, the numbers stored
against the original's, and truncated SVD's PSNR alongside as the rank-r limit (no
rank-r factorization, non-negative or not, has a smaller squared error).

    python examples/image_compression.py [PHOTO] [--ranks 5,10,20,50,100] [--out out/images] [--force]

Writes ``compression_reconstructions.png``, ``compression_psnr.png``,
``compression_loss.png`` and ``compression_storage.png`` into ``--out`` and prints a table.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from nmfaudio import ConvergenceWarning
from nmfaudio.adapters.files import read_picture
from nmfaudio.adapters.image import compress, psnr, truncated_svd
from nmfaudio.audio import atomic_outputs
from nmfaudio.plot.image import error_vs_rank, image_grid, loss_curves, storage_vs_rank

ROOT = Path(__file__).resolve().parents[1]
FIGURES = (  # written into --out
    "compression_reconstructions.png",
    "compression_psnr.png",
    "compression_loss.png",
    "compression_storage.png",
)


def rank_list(text: str) -> list[int]:
    """``--ranks``: comma-separated ints >= 1, each once (a usage error otherwise, not a
    traceback from the first fit; tour18)."""
    try:
        ranks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated ints, e.g. 5,10,20") from None
    if not ranks or min(ranks) < 1 or len(set(ranks)) != len(ranks):
        raise argparse.ArgumentTypeError(f"{text!r} must list ranks >= 1, each once, e.g. 5,10,20")
    return ranks


def db(value: float, width: int = 0, digits: int = 2) -> str:
    """A PSNR in the table and the titles: "exact" for an exact reconstruction (infinite
    PSNR; it printed "inf", and the gap "nan", before 2026-12-06, polish17)."""
    return f"{'exact':>{width}}" if value == float("inf") else f"{value:>{width}.{digits}f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("photo", nargs="?", type=Path, default=ROOT / "data" / "camera.png",
                        help="picture to compress, read as gray (default data/camera.png)")
    parser.add_argument("--ranks", type=rank_list, default=[5, 10, 20, 50, 100],
                        help="comma-separated ranks (default 5,10,20,50,100)")
    parser.add_argument("--max-iter", type=int, default=500, help="iterations at most per rank (default 500)")
    parser.add_argument("--tol", type=float, default=5e-5,
                        help="stop when the relative error improved by less than this over 10 iterations (default 5e-5)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    # relative to where it is run, as the other examples' outputs (not inside the repository)
    parser.add_argument("--out", type=Path, default=Path("out") / "images",
                        help="folder for the figures (default out/images)")
    parser.add_argument("--force", action="store_true", help="overwrite existing figures")
    args = parser.parse_args(argv)
    existing = [args.out / name for name in FIGURES if (args.out / name).exists()]
    if existing and not args.force:  # before the work, not after it
        print(f"image_compression.py: error: {existing[0]} already exists; use --force to overwrite", file=sys.stderr)
        return 1
    ranks = args.ranks
    try:  # the command line's reader: a missing or unreadable file is one line, not a traceback
        image = read_picture(args.photo, gray=True)
    except (OSError, ValueError) as exc:
        print(f"image_compression.py: error: {exc}", file=sys.stderr)
        return 1
    m, n = image.shape
    if max(ranks) > min(m, n):  # before the first fit, not after the others
        print(f"image_compression.py: error: --ranks {max(ranks)} is larger than the picture: {n} x {m} pixels "
              f"have at most {min(m, n)} independent parts; use ranks up to {min(m, n)}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{args.photo.name}: {m} x {n} gray; NMF (engine default, max_iter={args.max_iter}, "
          f"tol={args.tol:g}) vs truncated SVD")
    print(f"{'rank':>5} {'NMF PSNR':>9} {'SVD PSNR':>9} {'gap dB':>7} {'stored':>8} {'iters':>6} {'s':>6}")
    results, svd_psnrs = {}, []
    for rank in ranks:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = compress(image, rank, max_iter=args.max_iter, tol=args.tol,
                              random_state=args.seed)
        seconds = time.perf_counter() - started
        svd_psnr = psnr(image, truncated_svd(image, rank))
        results[rank] = result
        svd_psnrs.append(svd_psnr)
        exact = np.isinf([result.psnr, svd_psnr])
        gap = f"{'-':>7}" if exact.any() and not exact.all() else f"{0.0 if exact.all() else svd_psnr - result.psnr:>7.2f}"
        print(f"{rank:>5} {db(result.psnr, 9)} {db(svd_psnr, 9)} {gap} "
              f"{result.storage_ratio:>8.1%} {result.n_iter:>6} {seconds:>6.1f}", flush=True)

    pictures = [image] + [r.reconstruct() for r in results.values()]
    titles = ["original"] + [
        f"r={rank}: " + (f"{r.psnr:.1f} dB (SVD {db(s, digits=1)})" if np.isfinite(r.psnr) else "exact")
        + f"\n{r.storage_ratio:.1%} of the numbers"
        for (rank, r), s in zip(results.items(), svd_psnrs)
    ]
    figures = {
        "compression_reconstructions.png": image_grid(pictures, ncols=3, titles=titles,
                                                       panel_size=3.2),
        "compression_psnr.png": error_vs_rank(
            ranks, {"NMF": [r.psnr for r in results.values()], "truncated SVD": svd_psnrs},
            ylabel="PSNR (dB)", mark=None, title="PSNR against rank"),
        "compression_loss.png": loss_curves({f"r={rank}": r.loss for rank, r in results.items()},
                                            title="NMF loss per iteration"),
        "compression_storage.png": storage_vs_rank((m, n), ranks,
                                                   title="numbers stored: W and H vs the photo"),
    }
    with atomic_outputs([args.out / name for name in figures], overwrite=args.force) as temporaries:
        for temporary, fig in zip(temporaries, figures.values()):
            fig.savefig(temporary, format="png", dpi=110)
    print(f"wrote {', '.join(figures)} in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
