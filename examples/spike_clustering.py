"""Cluster simulated extracellular spikes by neuron and score the result against ground truth.

The 5-unit set (data/spikes_gt_5u_noise10.npz: 1231 snippets, 4 channels x 60 samples)
is clustered with

* the default method (NMF parts -> over-clustered codes -> template matching),
* the tutorial's recipe (shift by |min|, NMF of rank k, label = argmax of each column of H),
* PCA(3) + k-means (scikit-learn), the textbook baseline,

and the true templates used as a nearest-template classifier (the reference no clustering
can be expected to beat).  Scores: adjusted Rand index (ARI) and accuracy after matching
clusters to units one-to-one (Hungarian algorithm).

    python examples/spike_clustering.py [FILE.npz] [--seed 0] [--single-channel] [--plot out.png] [--force]

FILE defaults to the bundled 5-unit set; the 3- and 8-unit sets of the same series
(spikes_gt_{3,8}u_noise10.npz) work too, but are not in the repository (data/README.md;
benchmarks/spikes.py looks for them in ../shared/data/, beside the checkout).
"""

from __future__ import annotations

import argparse
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

from nmfaudio.adapters.spikes import cluster
from nmfaudio.audio import atomic_outputs

ROOT = Path(__file__).resolve().parents[1]


def accuracy(truth: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of spikes in the cluster matched to their unit (one-to-one matching)."""
    table = np.zeros((truth.max() + 1, max(labels.max(), truth.max()) + 1), dtype=np.int64)
    np.add.at(table, (truth, labels), 1)
    rows, cols = linear_sum_assignment(-table)
    return table[rows, cols].sum() / truth.size


#: The arrays a spike set with ground truth holds (the simulated sets in data/).
GROUND_TRUTH = ("waveforms", "labels", "templates", "single_channel", "fs")


def read_ground_truth(path: Path):
    """waveforms, labels (int64), templates, the single channel and fs of a spike set with
    ground truth; a ValueError naming the file and what to run instead for other files (a
    user's own .npy, .csv or .npz without labels ended in a traceback: tour18)."""
    instead = ("; this example scores against ground truth (arrays " + ", ".join(GROUND_TRUTH) +
               ", as data/spikes_gt_5u_noise10.npz holds): to cluster your own waveforms, run "
               f"nmfaudio spikes {path} -k K -o OUTDIR")
    if not path.is_file():
        raise ValueError(f"{str(path)!r} is not a file{instead}")
    if not zipfile.is_zipfile(path):  # an .npy, a CSV, anything but an .npz
        raise ValueError(f"{str(path)!r} is not an .npz spike set{instead}")
    with np.load(path, allow_pickle=False) as data:
        missing = [name for name in GROUND_TRUTH if name not in data.files]
        if missing:
            raise ValueError(f"{str(path)!r} holds no {', '.join(missing)}{instead}")
        return (data["waveforms"], data["labels"].astype(np.int64), data["templates"],
                int(data["single_channel"]), float(data["fs"]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("file", nargs="?", type=Path, default=ROOT / "data" / "spikes_gt_5u_noise10.npz",
                        help="a spike set with ground truth (default data/spikes_gt_5u_noise10.npz)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--single-channel", action="store_true",
                        help="use only the channel where the units are largest")
    parser.add_argument("--plot", type=Path, default=None, help="write the default method's figure here")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --plot file")
    args = parser.parse_args(argv)
    if args.plot is not None and args.plot.exists() and not args.force:  # before the work, not after it
        print(f"spike_clustering.py: error: {args.plot} already exists; use --force to overwrite", file=sys.stderr)
        return 1
    if args.plot is not None:  # a suffix matplotlib cannot write: before the work, not after it
        from matplotlib.backend_bases import FigureCanvasBase

        suffix = args.plot.suffix.lstrip(".").lower() or "png"
        if suffix not in FigureCanvasBase.get_supported_filetypes():
            print(f"spike_clustering.py: error: --plot {args.plot}: matplotlib cannot write .{suffix} figures; "
                  "use .png, .pdf or .svg", file=sys.stderr)
            return 1

    try:
        waveforms, truth, templates, channel, fs = read_ground_truth(args.file)
    except (OSError, ValueError) as exc:
        print(f"spike_clustering.py: error: {exc}", file=sys.stderr)
        return 1
    if args.single_channel:
        waveforms, templates = waveforms[:, channel], templates[:, channel]
    k = templates.shape[0]
    view = f"channel {channel} only" if args.single_channel else f"{waveforms.shape[1]} channels concatenated"
    print(f"{args.file.name}: {len(truth)} spikes, {k} units, {view}, seed {args.seed}\n")

    flat = waveforms.reshape(len(truth), -1).astype(np.float64)
    rows = []
    for name, method in (("NMF, default ('templates')", "templates"),
                         ("NMF codes + k-means ('codes')", "codes"),
                         ("tutorial recipe ('argmax')", "argmax")):
        started = time.perf_counter()
        result = cluster(waveforms, k, method=method, random_state=args.seed)
        rows.append((name, result.labels, time.perf_counter() - started))
        if method == "templates":
            default = result

    started = time.perf_counter()
    scores = PCA(3, random_state=args.seed).fit_transform(flat)
    kmeans = KMeans(k, n_init=10, random_state=args.seed).fit_predict(scores)
    rows.append(("PCA(3) + k-means (scikit-learn)", kmeans, time.perf_counter() - started))

    flat_templates = templates.reshape(k, -1).astype(np.float64)
    nearest = ((flat[:, None, :] - flat_templates[None]) ** 2).sum(axis=2).argmin(axis=1)
    rows.append(("true templates, nearest (reference)", nearest, 0.0))

    print(f"{'method':<38} {'ARI':>6} {'accuracy':>9} {'seconds':>8}")
    for name, labels, seconds in rows:
        print(f"{name:<38} {adjusted_rand_score(truth, labels):6.3f} {accuracy(truth, labels):9.1%} "
              f"{seconds:8.2f}")

    if args.plot is not None:
        from nmfaudio.plot.spikes import plot_clusters

        figure = plot_clusters(waveforms, default, fs=fs, title=f"{args.file.name}: default method")
        args.plot.parent.mkdir(parents=True, exist_ok=True)  # as the other examples make their folders
        with atomic_outputs([args.plot], overwrite=args.force) as (temporary,):
            # the temporary name has no suffix matplotlib reads: the format from the user's name
            figure.savefig(temporary, format=args.plot.suffix.lstrip(".").lower() or "png", dpi=100)
        print(f"\nwrote {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
