"""The NTNU CryptoPunks study on 500 punks: basis images, reconstructions, error against
the number of basis images d, and denoising at sigma = 0.1.

Each 24 x 24 punk is one column of the 1728 x 500 colour matrix (RGB; the opacity is kept
aside and put back unchanged).  The fit error falls as d grows; the denoising error
(a fit to noisy punks, measured against the clean ones) is U-shaped: a small d cannot
draw the punks, a large d draws the noise too.

    python examples/punks.py [--ds 16,32,64,128,256] [--sigma 0.1] [--out out/images] [--force]

Writes ``punks_basis.png`` (the 64 basis images), ``punks_reconstructions.png``,
``punks_error_vs_d.png``, ``punks_denoising.png`` and ``punks_denoised.png`` into
``--out`` and prints the tables.  benchmarks/image.py measures the same numbers against
the quality floors.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from nmfaudio import ConvergenceWarning
from nmfaudio.adapters.files import read_image_stack
from nmfaudio.adapters.image import SWEEP_MAX_ITER, SWEEP_TOL, add_noise, denoise_sweep
from nmfaudio.audio import atomic_outputs
from nmfaudio.plot.image import basis_grid, error_vs_rank, image_grid

ROOT = Path(__file__).resolve().parents[1]
FIGURES = (  # written into --out
    "punks_basis.png",
    "punks_reconstructions.png",
    "punks_error_vs_d.png",
    "punks_denoising.png",
    "punks_denoised.png",
)


def positive_int(text: str) -> int:
    """An int >= 1 for --n and --basis-d (a usage error otherwise; tour18)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be an int >= 1")
    return value


def d_list(text: str) -> list[int]:
    """``--ds``: comma-separated ints >= 1, each once (0 ended in a traceback; tour18)."""
    try:
        ds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated ints, e.g. 16,32,64") from None
    if not ds or min(ds) < 1 or len(set(ds)) != len(ds):
        raise argparse.ArgumentTypeError(f"{text!r} must list numbers of basis images >= 1, each once, e.g. 16,32,64")
    return ds


def non_negative_float(text: str) -> float:
    """--sigma: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--punks", type=Path, default=ROOT / "data" / "punks_500.npz",
                        help="an .npz with an 'images' array (default data/punks_500.npz)")
    parser.add_argument("--n", type=positive_int, default=500, help="number of punks (default 500)")
    parser.add_argument("--ds", type=d_list, default=[16, 32, 64, 128, 256],
                        help="comma-separated numbers of basis images d (default 16,32,64,128,256)")
    parser.add_argument("--basis-d", type=positive_int, default=64, help="d whose basis is drawn (default 64)")
    parser.add_argument("--sigma", type=non_negative_float, default=0.1,
                        help="noise standard deviation on the [0, 1] scale for the denoising study (default 0.1)")
    parser.add_argument("--max-iter", type=int, default=SWEEP_MAX_ITER,
                        help=f"iterations at most per fit (default {SWEEP_MAX_ITER}, the sweep's)")
    parser.add_argument("--tol", type=float, default=SWEEP_TOL,
                        help="stop when the relative error improved by less than this over 10 "
                             f"iterations (default {SWEEP_TOL:g}, the sweep's)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    # relative to where it is run, as the other examples' outputs (not inside the repository)
    parser.add_argument("--out", type=Path, default=Path("out") / "images",
                        help="folder for the figures (default out/images)")
    parser.add_argument("--force", action="store_true", help="overwrite existing figures")
    args = parser.parse_args(argv)
    existing = [args.out / name for name in FIGURES if (args.out / name).exists()]
    if existing and not args.force:  # before the work, not after it
        print(f"punks.py: error: {existing[0]} already exists; use --force to overwrite", file=sys.stderr)
        return 1
    ds = args.ds
    if args.basis_d not in ds:
        parser.error(f"--basis-d {args.basis_d} must be one of --ds {','.join(map(str, ds))}")
    try:  # the command line's reader: a missing or malformed stack is one line, not a traceback
        punks = read_image_stack(args.punks, args.n)
    except (OSError, ValueError) as exc:
        print(f"punks.py: error: {exc}", file=sys.stderr)
        return 1
    most = min(len(punks), int(np.prod(punks.shape[1:3])) * 3)
    if max(ds) > most:  # before the first fit, not after the others
        print(f"punks.py: error: --ds {max(ds)}: {len(punks)} pictures have at most {most} independent parts; "
              f"use d up to {most}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    # RGBA in [0, 1], as in the NTNU project
    clean = punks.astype(np.float32) / 255 if punks.dtype == np.uint8 else punks.astype(np.float32)
    fit_options = dict(max_iter=args.max_iter, tol=args.tol, random_state=args.seed)
    print(f"{len(punks)} punks, colour matrix {24 * 24 * 3} x {len(punks)}; "
          f"max_iter={args.max_iter}, tol={args.tol:g}, seed={args.seed}")

    def progress(rank, error):
        print(f"  d={rank:<4} relative error {error:.4f}", flush=True)

    # At the defaults no fit reaches the cap (2026-12-01: at most 130 of 200 iterations,
    # d = 256 of the clean sweep; the noisy sweep at most 110), so nothing is hidden there.
    # A lower --max-iter is the reader's own cap: the tables show its errors, and one
    # warning per rank would only bury them.  Ignored here, in this script only.
    warnings.simplefilter("ignore", ConvergenceWarning)
    print("fit error |A - WH| / |A| against d:")
    started = time.perf_counter()
    fits = denoise_sweep(clean, ds, on_rank=progress, **fit_options)
    print(f"  ({time.perf_counter() - started:.0f} s)")

    noisy = add_noise(clean, args.sigma, random_state=args.seed)
    print(f"denoising at sigma={args.sigma:g}: |A_clean - WH| / |A_clean|, WH fitted to the noisy punks:")
    started = time.perf_counter()
    denoised = denoise_sweep(noisy, ds, clean=clean, on_rank=progress, **fit_options)
    print(f"  ({time.perf_counter() - started:.0f} s)")
    print(f"  noisy input {denoised.noisy_error:.4f}; best d={denoised.best_rank}: "
          f"{denoised.best_error:.4f}")

    shown = slice(0, 12)
    basis_fit = fits.fits[ds.index(args.basis_d)]
    best_fit = denoised.fits[ds.index(denoised.best_rank)]
    figures = {
        "punks_basis.png": basis_grid(basis_fit, ncols=8, title=f"{args.basis_d} basis images "
                                      "(each scaled to its maximum)"),
        "punks_reconstructions.png": image_grid(
            np.concatenate([clean[shown], basis_fit.reconstruct()[shown]]),
            ncols=12, title=f"top: originals; bottom: reconstructions with d={args.basis_d} "
                            f"(relative error {basis_fit.relative_error:.3f})"),
        "punks_error_vs_d.png": error_vs_rank(ds, fits.errors, mark=None, xlabel="d (basis images)",
                                              title=f"fit error, {len(punks)} punks"),
        "punks_denoising.png": error_vs_rank(
            ds, {"vs clean (denoising)": denoised.errors,
                 "vs noisy (fit)": [f.relative_error for f in denoised.fits]},
            reference=denoised.noisy_error, reference_label="noisy input", xlabel="d (basis images)",
            title=f"denoising, sigma={args.sigma:g}"),
        "punks_denoised.png": image_grid(
            np.concatenate([clean[shown], noisy[shown], best_fit.reconstruct()[shown]]),
            ncols=12, title=f"clean / noisy (sigma={args.sigma:g}) / denoised with "
                            f"d={denoised.best_rank}"),
    }
    with atomic_outputs([args.out / name for name in figures], overwrite=args.force) as temporaries:
        for temporary, fig in zip(temporaries, figures.values()):
            fig.savefig(temporary, format="png", dpi=110)
    print(f"wrote {', '.join(figures)} in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
