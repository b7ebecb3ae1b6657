"""``nmfaudio spikes``: cluster spike waveforms by neuron with NMF.

::

    nmfaudio spikes FILE -k K -o OUTDIR [--method {templates,codes,argmax}] [--seed S]
                    [--n-init N] [--channel C] [--key NAME] [--index-column {auto,yes,no}]
                    [--label-column {auto,yes,no}] [--fs HZ] [--force] [--json]

FILE is ``.npy``, ``.npz`` (array ``waveforms`` or ``--key``; ``labels`` when present) or
``.csv`` (one waveform per row, optional index column first and label column last).
Writes ``OUTDIR/<stem>_labels.csv`` (columns ``spike,label``; ``spike`` is a CSV's own
index column when it has one, else the row from 0) and
``OUTDIR/<stem>_clusters.png`` (all waveforms, then one panel per cluster with the mean
dashed in black).  When FILE carries ground-truth labels, the adjusted Rand index and the
accuracy (clusters matched to units one-to-one) are reported too.  Existing outputs are
refused before any work unless ``--force``; both files are written under temporary names
and renamed at the end, so a failed run leaves nothing behind.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np

from nmfaudio.cli import FIGURE_BYTES, CLIError, count, output_folder, refuse_outputs
from nmfaudio.cli._args import channel_index, non_negative_int, path_arg, positive_int, positive_number
from nmfaudio.plot import save_figure

_FLAGS = {"auto": "auto", "yes": True, "no": False}


def _rate(text: str) -> float:
    return positive_number(text, what="a rate in Hz", example="30000")


#: :data:`nmfaudio.adapters.spikes.METHODS` (a test holds them equal), copied so the
#: parser, which every command builds, does not import the spike adapters.
METHODS = ("templates", "codes", "argmax")


def register(subparsers) -> None:
    """Add ``spikes``."""
    parser = subparsers.add_parser(
        "spikes", help="cluster spike waveforms by neuron",
        description="Cluster extracellular spike snippets into K putative neurons with NMF "
                    "and write the labels (CSV) and a figure (PNG).")
    parser.add_argument("file", metavar="FILE", type=path_arg,
                        help=".npy, .npz (array 'waveforms') or .csv (one waveform per row)")
    parser.add_argument("-k", "--n-clusters", type=positive_int, required=True, metavar="K",
                        help="number of neurons")
    parser.add_argument("-o", "--output-dir", type=path_arg, required=True, metavar="OUTDIR",
                        help="folder for <stem>_labels.csv and <stem>_clusters.png (created if missing)")
    parser.add_argument("--method", choices=METHODS, default=METHODS[0],
                        help=f"clustering method (default {METHODS[0]}; argmax is the tutorial's recipe)")
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument("--n-init", type=positive_int, default=4, metavar="N",
                        help="k-means++ restarts (default 4)")
    parser.add_argument("--channel", type=channel_index, default=None, metavar="C",
                        help="use only channel C of (n_spikes, n_channels, n_samples) data (-1: the last)")
    parser.add_argument("--key", default=None, metavar="NAME", help="the .npz array holding the waveforms")
    parser.add_argument("--index-column", choices=tuple(_FLAGS), default="auto",
                        help="CSV: is the first column a spike index? (default auto: yes when "
                             "it is exactly 0..n-1 or 1..n, or the header names it); the "
                             "labels file's spike column then holds its values")
    parser.add_argument("--label-column", choices=tuple(_FLAGS), default="auto",
                        help="CSV: is the last column a label? (default auto: yes when the "
                             "header says label/unit/cluster, or it holds few non-negative "
                             "integers while the samples are not integers)")
    parser.add_argument("--fs", type=_rate, default=None, metavar="HZ",
                        help="sampling rate for the figure's time axis (default: the .npz "
                             "'fs' when present, else sample numbers)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs")
    parser.set_defaults(handler=run)


def _outputs(args) -> tuple[Path, Path]:
    from nmfaudio.batch import output_name

    stem = output_name(args.file)  # '.x.npz' -> x_labels.csv, not a hidden .x_labels.csv
    return args.output_dir / f"{stem}_labels.csv", args.output_dir / f"{stem}_clusters.png"


def _read(args):
    """waveforms, true labels or None, the CSV's spike index or None, sampling rate or None."""
    from nmfaudio.adapters.files import load_waveforms

    _check_applies(args)
    waveforms, truth, index = load_waveforms(args.file, key=args.key,
                                             index_column=_FLAGS[args.index_column],
                                             label_column=_FLAGS[args.label_column], return_index=True)
    _check_waveform_array(waveforms, args)
    fs = args.fs
    if fs is None and args.file.suffix.lower() == ".npz":
        with np.load(args.file, allow_pickle=False) as archive:
            # a rate that is no real number (a string, a complex) is ignored as a non-finite
            # one is: float() of it stopped the run with "could not convert string to float"
            if "fs" in archive.files and archive["fs"].size == 1 and archive["fs"].dtype.kind in "biuf":
                value = float(archive["fs"].item())
                fs = value if np.isfinite(value) and value > 0 else None
    if args.channel is not None:
        if waveforms.ndim != 3:
            raise CLIError(f"--channel {args.channel} needs (n_spikes, n_channels, n_samples) "
                           f"data; {args.file.name} holds shape {waveforms.shape}")
        if not -waveforms.shape[1] <= args.channel < waveforms.shape[1]:
            raise CLIError(f"--channel {args.channel} is out of range; {args.file.name} has "
                           f"{count(waveforms.shape[1], 'channel')} (0..{waveforms.shape[1] - 1})")
        waveforms = waveforms[:, args.channel, :]
    _check_finite_spikes(waveforms, index, args)
    return waveforms, truth, index, fs


def _check_waveform_array(waveforms: np.ndarray, args) -> None:
    """An array in FILE that is no set of spike waveforms, refused naming the file (and for
    an .npz, --key): the library's words named its own argument, ``waveforms has shape
    (60,) (ndim=1); expected ...``, which the command line never showed (tour18)."""
    where = repr(str(args.file))
    other = " (--key NAME picks another of its arrays)" if args.file.suffix.lower() == ".npz" else ""
    layout = "(n_spikes, n_samples) or (n_spikes, n_channels, n_samples)"
    if waveforms.dtype.kind not in "biuf":
        raise CLIError(f"{where} holds {waveforms.dtype} values where spike waveforms go; they must be real "
                       f"numbers{other}")
    if waveforms.ndim not in (2, 3):
        raise CLIError(f"{where} holds an array of shape {waveforms.shape}; spike waveforms are {layout}, "
                       f"one spike per row{other}")
    if waveforms.size == 0:
        raise CLIError(f"{where} holds waveforms of shape {waveforms.shape}, with no samples; give at least "
                       "one spike of at least one sample")


def _check_finite_spikes(waveforms: np.ndarray, index, args) -> None:
    """NaN or infinite samples named with the file and the spikes holding them (as the
    labels file's spike column names them: a CSV's own index, else the row from 0); the
    library's words, "waveforms holds 20 NaN or infinite values", named neither (tour16)."""
    if waveforms.dtype.kind != "f" or waveforms.ndim not in (2, 3) or waveforms.size == 0:
        return  # (other shapes: the library's shape error)
    bad = ~np.isfinite(waveforms.reshape(len(waveforms), -1)).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        names = rows if index is None else np.asarray(index)[rows]
        listed = ", ".join(str(n) for n in names[:5].tolist()) + (", ..." if rows.size > 5 else "")
        plural = "s" if rows.size > 1 else ""
        which = (f"row{plural} {listed}, counted from 0" if index is None
                 else f"spike{plural} {listed} of its index column")
        raise CLIError(f"{str(args.file)!r} holds NaN or infinite samples in {rows.size} of its "
                       f"{count(len(waveforms), 'spike')} ({which}); drop those spikes or replace the values "
                       "before clustering")


def _check_applies(args) -> None:
    """Refuse an option that FILE's format ignores (``--key`` on a CSV was silently dropped)."""
    suffix = args.file.suffix.lower()
    given = [f"--key {args.key}"] if args.key is not None and suffix != ".npz" else []
    if suffix not in (".csv", ".txt"):
        given += [f"--{name.replace('_', '-')} {getattr(args, name)}" for name in ("index_column", "label_column")
                  if getattr(args, name) != "auto"]
    if given:
        needs = ".npz files" if given[0].startswith("--key") else ".csv (or .txt) files"
        raise CLIError(f"{given[0]} applies to {needs} only, and {args.file.name!r} is not one; drop it")


def _agreement(truth: np.ndarray, labels: np.ndarray, n_clusters: int) -> dict:
    """Adjusted Rand index and one-to-one matched accuracy against ground truth."""
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import adjusted_rand_score

    units, truth_index = np.unique(truth, return_inverse=True)
    table = np.zeros((units.size, n_clusters), dtype=np.int64)
    np.add.at(table, (truth_index, labels), 1)
    rows, cols = linear_sum_assignment(-table)
    return {"ari": float(adjusted_rand_score(truth, labels)),
            "accuracy": float(table[rows, cols].sum() / truth.size),
            "n_units": int(units.size)}


def _labels_csv(labels: np.ndarray, index: np.ndarray | None = None) -> bytes:
    """``spike,label`` rows: ``spike`` is the input CSV's own index (``index``, so labels
    join back to the file's spike ids, a 1-based index staying 1-based), else the row
    number from 0."""
    spikes = range(len(labels)) if index is None else index.tolist()  # ints stay ints, floats repr
    text = io.StringIO()
    text.write("spike,label\n")
    for spike, label in zip(spikes, labels):
        text.write(f"{spike!r},{int(label)}\n")
    return text.getvalue().encode()


def run(args) -> int:
    from nmfaudio.adapters.spikes import cluster
    from nmfaudio.audio import atomic_outputs, without_detours
    from nmfaudio.plot.spikes import plot_clusters

    # '-o out/sub/..' is 'out' while out/sub does not exist: the summary and the --json record
    # named the files through out/sub, a folder made on the way and removed at the end (mend60)
    args.output_dir = without_detours(args.output_dir)
    labels_path, figure_path = _outputs(args)
    refuse_outputs((labels_path, figure_path), force=args.force, output_dir=args.output_dir, inputs=[args.file])
    waveforms, truth, index, fs = _read(args)
    started = time.perf_counter()
    result = cluster(waveforms, args.n_clusters, method=args.method, n_init=args.n_init,
                     random_state=args.seed)
    seconds = time.perf_counter() - started
    if truth is not None and truth.shape != result.labels.shape:
        truth = None
    scores = _agreement(truth, result.labels, result.n_clusters) if truth is not None else None

    figure = plot_clusters(waveforms, result, fs=fs,
                           title=f"{args.file.name}: {count(result.n_clusters, 'cluster')} ({args.method})")
    table = _labels_csv(result.labels, index)
    with output_folder(args.output_dir):
        # a full disk said with what the outputs need, as the other writers say it (mend60)
        with atomic_outputs([labels_path, figure_path], overwrite=args.force,
                            need_bytes=len(table) + FIGURE_BYTES) as temporaries:
            Path(temporaries[0]).write_bytes(table)
            save_figure(figure, temporaries[1], format="png", dpi=100)

    counts = [int(c) for c in result.counts]
    if args.json:
        summary = {
            "input": str(args.file), "n_spikes": int(result.labels.size),
            "waveform_shape": list(result.waveform_shape), "n_clusters": result.n_clusters,
            "method": args.method, "seed": args.seed, "n_init": args.n_init,
            "n_components": int(result.W.shape[1]), "shift": result.shift,
            "counts": counts, "objective": result.objective, "seconds": round(seconds, 3),
            "labels": str(labels_path), "plot": str(figure_path),
            # what the labels file's spike column holds: the CSV's own index, or row numbers from 0
            "spike_column": "index" if index is not None else "row",
            "ground_truth": scores,
        }
        print(json.dumps(summary, indent=2))
        return 0
    shape = " x ".join(map(str, result.waveform_shape))
    samples = "sample" if np.prod(result.waveform_shape) == 1 else "samples"  # "1 sample", "4 x 30 samples"
    print(f"{args.file.name}: {count(result.labels.size, 'spike')} of {shape} {samples}, "
          f"{count(result.n_clusters, 'cluster')} ({args.method}, NMF rank {result.W.shape[1]}, "
          f"shift {result.shift:.4g}), {seconds:.1f} s")
    print("  members per cluster: " + ", ".join(f"{j}: {c}" for j, c in enumerate(counts)))
    empty = [j for j, c in enumerate(counts) if c == 0]
    if empty:  # argmax leaves clusters no spike's largest activation falls in (polish16)
        other_method = "" if args.method == METHODS[0] else f" or --method {METHODS[0]}"
        print(f"  {len(empty)} of {count(len(counts), 'cluster')} empty ({', '.join(map(str, empty))}): no spike "
              f"went {'to it' if len(empty) == 1 else 'to them'}; try a smaller -k{other_method}")
    if scores is not None:
        print(f"  against the file's labels ({scores['n_units']} units): adjusted Rand index "
              f"{scores['ari']:.3f}, accuracy {scores['accuracy']:.1%}")
    # the spike column is the row from 0, unless the CSV numbered its spikes itself
    numbered = "; spike: the file's index column" if index is not None else ""
    print(f"  {labels_path}  (spike,label{numbered})")
    print(f"  {figure_path}  (all waveforms, then each cluster with its mean dashed)")
    return 0
