"""Regenerate ``data/camera.png``: scikit-image's CC0 "camera" photograph, 512 x 512 gray.

The file is copied byte for byte from scikit-image (``skimage/data/camera.png``, the
image by Lav Varshney that scikit-image ships since 0.18 under CC0; see
``data/README.md``).  scikit-image is not a dependency of nmfaudio, so either

    pip install scikit-image && python data/make_camera.py

or, without installing it,

    pip download scikit-image==0.26.0 --no-deps -d /tmp/skimage
    python data/make_camera.py /tmp/skimage/scikit_image-0.26.0-*.whl

The copy is checked against the SHA-256 recorded below.
"""

from __future__ import annotations

import argparse
import hashlib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHA256 = "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a"
MEMBER = "skimage/data/camera.png"


def read_camera(wheel: Path | None) -> bytes:
    """The bytes of ``camera.png`` from a scikit-image wheel, or the installed package."""
    if wheel is not None:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(MEMBER)
    try:
        import skimage
    except ImportError as exc:
        raise SystemExit(
            "scikit-image is not installed; install it or pass the path of a downloaded "
            "scikit-image wheel (see this script's docstring)"
        ) from exc
    return (Path(skimage.__file__).parent / "data" / "camera.png").read_bytes()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", nargs="?", type=Path, default=None,
                        help="a scikit-image wheel (default: the installed scikit-image)")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "camera.png")
    args = parser.parse_args(argv)
    data = read_camera(args.wheel)
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"camera.png has sha256 {digest}, expected {SHA256}; "
                         "use scikit-image 0.18 or later (0.26.0 was used)")
    from nmfaudio.audio import atomic_outputs

    with atomic_outputs([args.output], overwrite=True) as (temporary,):
        temporary.write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes, sha256 {digest})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
