"""Spike adapter against the quality floors of issue 7, on the ground-truth spike sets.

For the 3-, 5- and 8-unit sets (spikes_gt_{3,5,8}u_noise10.npz: ../shared/data/, else
data/ which bundles the 5-unit one), with all 4 channels concatenated and with the
single-channel view (``waveforms[:, single_channel, :]``), over 5 seeds:

* every method of ``nmfaudio.adapters.spikes.cluster`` (templates = default, codes, argmax),
* PCA(3) + k-means (scikit-learn, n_init=10), the textbook baseline,
* the true templates as a nearest-template classifier (deterministic; the reference).

Score: adjusted Rand index (ARI), mean and spread (min..max, sd) over the seeds.
Floors (default method, 4 channels): ARI >= 0.975 / 0.95 / 0.88 for 3 / 5 / 8 units, and
never more than 0.03 below the true-template classifier.

    python benchmarks/spikes.py [--data-dir DIR] [--seeds 0,1,2,3,4] [--sets 3,5,8] [--json out.json]

Exit code 0 when every floor holds, 1 otherwise.  About a minute on two cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

FLOORS = {3: 0.975, 5: 0.95, 8: 0.88}
MAX_GAP_TO_TRUE_TEMPLATES = 0.03


def _find(data_dir: Path | None, name: str) -> Path | None:
    folders = [data_dir] if data_dir else [ROOT.parent / "shared" / "data", ROOT / "data"]
    for folder in folders:
        if folder is not None and (folder / name).is_file():
            return folder / name
    return None


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv=None) -> int:
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import adjusted_rand_score

    from nmfaudio.adapters.spikes import METHODS, cluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--seeds", type=_int_list, default=[0, 1, 2, 3, 4])
    parser.add_argument("--sets", type=_int_list, default=[3, 5, 8])
    parser.add_argument("--json", type=Path, default=None, help="write all numbers here")
    args = parser.parse_args(argv)

    try:
        from _machine import machine_lines

        for line in machine_lines():
            print(line)
    except Exception as exc:  # the description is a nicety, never a reason to fail
        print(f"machine: ({exc})")
    print(f"seeds {args.seeds}\n")

    results, failures = [], []
    header = f"{'set':<4} {'view':<10} {'method':<24} {'ARI mean':>8} {'min':>6} {'max':>6} {'sd':>6} {'s/run':>6}"
    print(header)
    print("-" * len(header))
    for k in args.sets:
        path = _find(args.data_dir, f"spikes_gt_{k}u_noise10.npz")
        if path is None:
            print(f"{k}u   (spikes_gt_{k}u_noise10.npz not found; skipped)")
            failures.append(f"{k}u: data missing")
            continue
        with np.load(path) as data:
            waveforms, truth = data["waveforms"], data["labels"].astype(np.int64)
            templates, channel = data["templates"], int(data["single_channel"])
        for view in ("4ch", "single"):
            X = waveforms if view == "4ch" else waveforms[:, channel]
            T = templates if view == "4ch" else templates[:, channel]
            flat = X.reshape(len(truth), -1).astype(np.float64)
            flat_T = T.reshape(k, -1).astype(np.float64)
            nearest = ((flat[:, None, :] - flat_T[None]) ** 2).sum(axis=2).argmin(axis=1)
            reference = float(adjusted_rand_score(truth, nearest))
            rows = {}
            for method in METHODS:
                scores, seconds = [], []
                for seed in args.seeds:
                    started = time.perf_counter()
                    labels = cluster(X, k, method=method, random_state=seed).labels
                    seconds.append(time.perf_counter() - started)
                    scores.append(float(adjusted_rand_score(truth, labels)))
                rows[method] = (scores, seconds)
            scores, seconds = [], []
            for seed in args.seeds:
                started = time.perf_counter()
                Z = PCA(3, random_state=seed).fit_transform(flat)
                labels = KMeans(k, n_init=10, random_state=seed).fit_predict(Z)
                seconds.append(time.perf_counter() - started)
                scores.append(float(adjusted_rand_score(truth, labels)))
            rows["pca3+kmeans"] = (scores, seconds)
            rows["true templates"] = ([reference], [0.0])
            for name, (scores, seconds) in rows.items():
                a = np.asarray(scores)
                print(f"{k}u   {view:<10} {name:<24} {a.mean():8.3f} {a.min():6.3f} {a.max():6.3f} "
                      f"{a.std():6.3f} {np.mean(seconds):6.2f}")
                results.append({"units": k, "view": "single_channel" if view == "single" else "4ch",
                                "channel": channel if view == "single" else None, "method": name,
                                "ari": scores, "mean": float(a.mean()), "min": float(a.min()),
                                "max": float(a.max()), "sd": float(a.std()),
                                "seconds_per_run": float(np.mean(seconds))})
            if view == "4ch":
                default = np.asarray(rows[METHODS[0]][0])
                floor = FLOORS.get(k)
                if floor is not None and default.min() < floor:
                    failures.append(f"{k}u 4ch: default ARI min {default.min():.3f} < floor {floor}")
                if default.min() < reference - MAX_GAP_TO_TRUE_TEMPLATES:
                    failures.append(f"{k}u 4ch: default ARI min {default.min():.3f} more than "
                                    f"{MAX_GAP_TO_TRUE_TEMPLATES} below the true templates' {reference:.3f}")
        print()

    if args.json is not None:
        args.json.write_text(json.dumps({"seeds": args.seeds, "floors": FLOORS, "results": results,
                                         "failures": failures}, indent=2))
        print(f"wrote {args.json}")
    if failures:
        print("FLOORS MISSED:\n  " + "\n  ".join(failures))
        return 1
    print("all floors hold (default method, 4 channels: "
          + ", ".join(f"{k}u >= {FLOORS[k]}" for k in args.sets if k in FLOORS)
          + f"; within {MAX_GAP_TO_TRUE_TEMPLATES} of the true templates)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
