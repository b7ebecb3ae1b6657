"""Regenerate ``data/punks_500.npz``: the first 500 CryptoPunks (ids 0..499), RGBA uint8.

Usage::

    python data/make_punks_subset.py [SOURCE] [--n 500] [-o data/punks_500.npz]

SOURCE defaults to ``../shared/data/cryptopunks.npz`` (10 000 punks, see its README for
the original source).  The first ``n`` punks in id order are kept, with their attribute
labels, so the subset is the same every time.  Rights: see ``data/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "data" / "cryptopunks.npz"
KEYS = ("images", "labels", "label_names", "type_id", "type_names", "punk_id")


def make_subset(source: Path, n: int) -> dict[str, np.ndarray]:
    """The first ``n`` punks of ``source`` (all keys of :data:`KEYS`)."""
    if not 1 <= n <= 1000:
        raise ValueError(f"n={n} must be between 1 and 1000 (keep data/ small)")
    with np.load(source) as full:
        subset = {key: full[key] for key in KEYS}
    for key in ("images", "labels", "type_id", "punk_id"):
        subset[key] = subset[key][:n]
    if not np.array_equal(subset["punk_id"], np.arange(n)):
        raise ValueError(f"{source} is not in punk id order; expected ids 0..{n - 1}")
    return subset


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("-o", "--output", type=Path, default=None)
    args = parser.parse_args(argv)
    output = args.output or HERE / f"punks_{args.n}.npz"
    subset = make_subset(args.source, args.n)
    from nmfaudio.audio import atomic_outputs

    with atomic_outputs([output], overwrite=True) as (temporary,):
        with open(temporary, "wb") as handle:  # a file name would get ".npz" appended
            np.savez_compressed(handle, **subset)
    digest = hashlib.sha256(subset["images"].tobytes()).hexdigest()
    print(f"wrote {output} ({output.stat().st_size} bytes); sha256(images bytes) {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
