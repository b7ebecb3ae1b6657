"""File readers for the adapters: pictures (Pillow) and spike waveforms (.npy, .npz, .csv).

The adapters themselves (:mod:`nmfaudio.adapters.image`, :mod:`nmfaudio.adapters.spikes`)
take arrays only; this module turns files into those arrays.  Every error is one
FileNotFoundError or ValueError naming the file and the fix.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import numpy as np

from nmfaudio._validation import DECIMAL_COMMA, check_int

__all__ = ["FirstFrameWarning", "read_picture", "read_image_stack", "load_waveforms"]

# --------------------------------------------------------------------------- pictures


class FirstFrameWarning(UserWarning):
    """A picture file holds several frames (an animated GIF, a multi-page TIFF) and only the
    first is read; the command line prints it as one ``nmfaudio: note:`` line."""


# Pillow modes read as they are; others are converted to one of these.
_DIRECT_MODES = {"L": "L", "LA": "LA", "RGB": "RGB", "RGBA": "RGBA"}
# Pillow modes wider than 8 bits per value: 16-bit (PNG, TIFF) and 32-bit integer, float.
# Refused, with --gray too: Pillow's conversion to "L" clips them (a 16-bit photo comes
# out white, a float one in [0, 1] black) instead of scaling them.
_WIDE_MODES = ("I", "F")
# Bilevel (1 bit per pixel) pictures are gray: read as "L" (0 or 255), not as RGB.
_GRAY_MODES = ("1",)


def _to_array(picture, *, gray: bool = False, name: str = "the picture") -> np.ndarray:
    """A Pillow image as uint8 (m, n), (m, n, 2), (m, n, 3) or (m, n, 4); ``name`` is for errors."""
    mode = picture.mode
    if mode in _WIDE_MODES or mode.startswith("I;16"):
        kind = "16-bit" if mode.startswith("I;16") else ("float" if mode == "F" else "32-bit")
        raise ValueError(f"{name} is a {kind} picture (Pillow mode {mode}), which nmfaudio does not read "
                         "(--gray neither: Pillow would clip it, not scale it); convert it to 8 bits per "
                         "value first")
    if gray or mode in _GRAY_MODES:
        return np.asarray(picture.convert("L"))
    if mode not in _DIRECT_MODES:
        has_alpha = "A" in mode or "transparency" in picture.info
        picture = picture.convert("RGBA" if has_alpha else "RGB")
        return _gray_if_gray(np.asarray(picture))
    return np.asarray(picture)


def _gray_if_gray(pixels: np.ndarray) -> np.ndarray:
    """(m, n, 3) → (m, n) gray, (m, n, 4) → (m, n, 2) gray + opacity, when every pixel has
    R = G = B; else ``pixels`` as they are.

    For pictures that only become RGB(A) through Pillow's conversion (a palette, with or
    without a transparent entry): when the palette is gray, fitting three equal channels
    would triple the numbers fitted and stored and write a colour file for a gray one.
    """
    if not (np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 0], pixels[..., 2])):
        return pixels
    return np.ascontiguousarray(pixels[..., [0, 3]] if pixels.shape[2] == 4 else pixels[..., 0])


def read_picture(path, *, gray: bool = False) -> np.ndarray:
    """Read one picture file (any format Pillow reads) as uint8 pixels.

    Parameters
    ----------
    path : str or os.PathLike
    gray : bool, default False
        Convert to grayscale.

    Returns
    -------
    ndarray of uint8, shape (m, n) gray, (m, n, 2) gray + opacity (LA), (m, n, 3) RGB or
        (m, n, 4) RGBA
        Bilevel (1-bit) pictures are gray; palette and other modes become RGB, or RGBA when
        they carry transparency — gray, or gray + opacity, when all their colours are gray.
        Turned upright as its EXIF orientation tag says (a phone's portrait photo: m rows
        as a viewer shows it, not as stored).

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not a picture Pillow reads, a 16-bit, 32-bit or float picture (with ``gray`` too), a
        pipe or device, or a
        header declaring more than Pillow's ``MAX_IMAGE_PIXELS`` (89 megapixels).

    Warns
    -----
    FirstFrameWarning
        The file holds several frames (an animated GIF, PNG or WebP, a multi-page TIFF):
        only the first is read.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError

    from nmfaudio.audio import check_input_file

    path = check_input_file(path, what="a picture")  # missing, folder, pipe: one clear error each
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that: refuse both
            # before the pixels are decoded (a 200-byte file can declare 30000 x 30000).
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as picture:
                pixels = _to_array(_upright(picture), gray=gray, name=repr(str(path)))
                n_frames = _frame_count(picture)
    except UnidentifiedImageError:
        raise ValueError(f"{str(path)!r} is not a picture Pillow can read (PNG, JPEG, ...)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        width, height = _declared_size(path)
        raise ValueError(f"{str(path)!r} declares {width} x {height} pixels ({width * height / 1e6:.0f} megapixels), "
                         f"more than the {Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels nmfaudio reads: a damaged "
                         "or hostile file, or a picture to scale down first") from None
    if n_frames > 1:  # warned outside the catch above, which turns only bomb warnings into errors
        warnings.warn(f"{str(path)!r} holds {n_frames} frames (an animation or a multi-page file); "
                      "only the first is used: to use another, save it as a picture of its own "
                      "first (e.g. Pillow: im.seek(2); im.save('frame3.png'))", FirstFrameWarning,
                      stacklevel=2)
    return pixels


def _frame_count(picture) -> int:
    """Frames of an animation or pages of a multi-page file; 1 for a still picture.

    A JPEG with an MPF extension (Pillow's "MPO": many phones' photos, holding a preview
    or depth map after the photo) counts as one: its first frame *is* the photo.
    """
    if picture.format == "MPO":
        return 1
    return int(getattr(picture, "n_frames", 1))


#: The EXIF tag saying how a viewer turns the stored pixels (1: as stored).
_ORIENTATION = 0x0112


def _upright(picture):
    """``picture`` turned the way its EXIF orientation tag says viewers show it.

    Cameras and phones store a portrait photo's pixels sideways and set the tag; the
    pixels written back (a reconstruction carries no EXIF) must be the ones the user saw,
    not the sideways ones.  A picture without the tag is returned as it is (no copy).
    """
    from PIL import ImageOps

    if picture.getexif().get(_ORIENTATION, 1) in (0, 1):
        return picture
    return ImageOps.exif_transpose(picture)


def _declared_size(path: Path) -> tuple[int, int]:
    """(width, height) from the picture's header, without decoding (nor the size limit)."""
    from PIL import Image

    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as picture:
            return picture.size
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def read_image_stack(path, n: int | None = None) -> np.ndarray:
    """Read a stack of equally sized pictures.

    Parameters
    ----------
    path : str or os.PathLike
        An ``.npz`` file with an ``images`` array, or a folder of pictures (read in name
        order; gray and RGB pictures are promoted so a mixed folder stacks).
    n : int >= 1, optional
        Keep the first ``n`` images only.

    Returns
    -------
    ndarray, shape (N, h, w) or (N, h, w, c)

    Raises
    ------
    FileNotFoundError
        No such file or folder.
    ValueError
        No pictures, pictures of different sizes, not an .npz, no ``images`` array,
        pixels neither uint8 nor float in [0, 1] (NaN included), or ``n`` < 1.
    """
    if n is not None:
        n = check_int(n, "n")
    path = Path(path)
    if path.is_dir():
        from PIL import Image

        from nmfaudio.audio import is_broken_link

        extensions = Image.registered_extensions()
        # a link whose target is gone is read too, so that it is named (review58: the stack was
        # swept without it, without a word); hidden files are no pictures of the stack (macOS
        # leaves '._x.png' beside 'x.png' on a copied drive: the sweep stopped on it), as the
        # kit folders' one-shots skip them
        files = sorted(p for p in path.iterdir()
                       if p.suffix.lower() in extensions and not p.name.startswith(".")
                       and (p.is_file() or is_broken_link(p)))
        if not files:
            raise ValueError(f"folder {str(path)!r} holds no pictures; give a folder of PNG/JPEG files or an .npz")
        files = files[:n] if n is not None else files
        pictures = [read_picture(p) for p in files]
        shapes = {p.shape[:2] for p in pictures}
        if len(shapes) > 1:
            raise ValueError(f"the pictures in {str(path)!r} have different sizes {sorted(shapes)}; "
                             "resize them to one size first")
        colour = 3 if any(p.ndim == 3 and p.shape[2] >= 3 for p in pictures) else 1
        opacity = any(p.ndim == 3 and p.shape[2] in (2, 4) for p in pictures)
        return np.stack([_with_channels(p, colour, opacity) for p in pictures])
    if not os.path.lexists(path):
        raise FileNotFoundError(f"{str(path)!r} does not exist; give an .npz file or a folder of pictures")
    from nmfaudio.audio import check_array_file, check_input_file

    check_input_file(path, what="an .npz file or a folder of pictures")  # a broken link, a pipe, 0 bytes
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{str(path)!r} is not an .npz file; give an .npz with an 'images' array "
                         "or a folder of pictures (for one picture use 'nmfaudio image compress')")
    check_array_file(path, what="image stack")  # declared shapes against the file's size, before loading
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            images = archive["images"] if "images" in names else None
    except (ValueError, OSError, zipfile.BadZipFile) as exc:  # a damaged archive
        raise ValueError(f"{str(path)!r} is not a readable .npz file ({exc})") from None
    if images is None:
        raise ValueError(f"{str(path)!r} has no 'images' array (it has {', '.join(names)}); "
                         "save the stack as np.savez(path, images=...)")
    _check_stack_shape(images, path)  # before --n slices it (a 0-d array raised a bare IndexError)
    images = images[:n] if n is not None else images
    _check_stack_values(images, path)  # the kept images only: a bad one past --n is not used
    return images


def _check_stack_shape(images: np.ndarray, path) -> None:
    """Refuse an ``.npz`` stack whose ``images`` array is no stack of pictures, naming the
    file: a 0-d array raised "too many indices" (an "unexpected IndexError" from
    ``nmfaudio image sweep --n``) or "len() of unsized object", a (5,) or (3, 6, 5, 7) one
    named the command's variable (``noisy has shape (5,)``), an empty one asked for
    ``--ranks`` up to 0 (review11)."""
    channels = images.ndim == 4 and images.shape[3] in (2, 3, 4)
    if images.ndim != 3 and not channels:
        raise ValueError(f"{str(path)!r} holds an 'images' array of shape {images.shape}; an image stack is "
                         "(N, h, w), (N, h, w, 2), (N, h, w, 3) or (N, h, w, 4) (gray, gray with opacity, RGB or "
                         "RGBA): stack the pictures along the first axis and save them as np.savez(path, images=...)")
    if images.size == 0:
        raise ValueError(f"{str(path)!r} holds an 'images' array of shape {images.shape}, no pixels; save at least "
                         "one picture of at least one pixel in it")


def _check_stack_values(images: np.ndarray, path) -> None:
    """Refuse an ``.npz`` stack whose pixels no image function takes, naming the file (the
    functions' own checks named their argument: ``nmfaudio image sweep`` said ``noisy has
    dtype int64`` or ``images has values in [-3.27, 3.14]`` of a file it never named)."""
    if images.dtype != np.uint8 and images.dtype.kind != "f":
        raise ValueError(f"{str(path)!r} holds images of dtype {images.dtype}; an image stack is uint8 (0..255) "
                         "or float in [0, 1]: save it as images.astype(np.uint8) (8-bit values) or scaled to [0, 1]")
    if images.dtype.kind == "f" and images.size:
        finite = np.isfinite(images)
        if not finite.all():
            raise ValueError(f"{str(path)!r} holds {int(images.size - finite.sum())} NaN or infinite pixel values; "
                             "replace them (e.g. np.nan_to_num) and save it again")
        low, high = float(images.min()), float(images.max())
        if low < 0 or high > 1:
            fix = "save it divided by 255 (or as uint8)" if low >= 0 and high <= 255 else "rescale them to [0, 1]"
            raise ValueError(f"{str(path)!r} holds images with values in [{low:.4g}, {high:.4g}]; float images "
                             f"must lie in [0, 1]: {fix}")


def _with_channels(picture: np.ndarray, colour: int, opacity: bool) -> np.ndarray:
    """``picture`` with ``colour`` (1 or 3) colour channels, plus an opacity channel (opaque
    where it had none) when ``opacity``, so a folder of mixed pictures stacks.

    Returns shape (m, n), (m, n, 2), (m, n, 3) or (m, n, 4), the gray / gray + opacity /
    RGB / RGBA layouts of :func:`read_picture`.
    """
    channels = picture[..., None] if picture.ndim == 2 else picture
    alpha = channels[..., -1:] if channels.shape[2] in (2, 4) else None
    values = channels[..., :-1] if alpha is not None else channels
    if values.shape[2] < colour:  # gray → RGB: three equal channels
        values = np.repeat(values, colour, axis=2)
    if opacity:
        if alpha is None:
            alpha = np.full(values.shape[:2] + (1,), 255, dtype=values.dtype)
        return np.concatenate([values, alpha], axis=2)
    return values[..., 0] if colour == 1 else values


# --------------------------------------------------------------------------- spike waveforms


_INDEX_NAMES = {"", "index", "idx", "id", "spike", "spike_id", "spike_index", "#"}
_LABEL_NAMES = {"label", "labels", "unit", "unit_id", "cluster", "neuron", "class", "y"}


def _is_index_column(column: np.ndarray) -> bool:
    """An integer column equal to 0..n−1 or 1..n."""
    if not np.all(column == np.round(column)):
        return False
    n = column.size
    return bool(np.array_equal(column, np.arange(n)) or np.array_equal(column, np.arange(1, n + 1)))


def _looks_like_labels(column: np.ndarray, rest: np.ndarray) -> bool:
    """Non-negative integers with few distinct values, next to non-integer samples."""
    if not np.all(column == np.round(column)) or column.min() < 0:
        return False
    n_distinct = np.unique(column).size
    if n_distinct > min(256, max(1, column.size // 2)):
        return False
    # Integer ADC counts are indistinguishable from labels: then only say so explicitly.
    return not np.all(rest == np.round(rest))


def _flag(value, name: str):
    if value == "auto" or isinstance(value, (bool, np.bool_)):
        return value if value == "auto" else bool(value)
    raise ValueError(f"{name}={value!r} must be True, False or 'auto'")


def _first_non_number(rows) -> tuple[int, int, str]:
    """(row index, 1-based column, cell) of the first cell of ``rows`` that is not a number."""
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            try:
                float(cell)
            except ValueError:
                return i, j + 1, cell
    raise AssertionError("every cell is a number")  # only called after float() failed


class _Semicolons(csv.excel):
    """Excel's CSV dialect with ";" between cells (its export where commas are decimal points)."""

    delimiter = ";"


def _decimal_commas(sample: str, complete: bool):
    """The dialect of ``sample`` (the file's start; ``complete``: the whole file) when it is
    ";"- or tab-separated with decimal commas, else None: every line after the first (a
    header) splits on that delimiter into numbers written that way, one at least with a
    comma.  csv.Sniffer took the commas for the delimiter (``-0,17764;-0,2`` read as cells
    ``-0`` and ``17764;-0``)."""
    lines = [line for line in sample.splitlines() if line.strip()]
    if not complete:
        lines = lines[:-1]  # the last may be cut
    for delimiter, dialect in ((";", _Semicolons), ("\t", csv.excel_tab)):
        cells = [cell.strip() for line in lines[1:] for cell in line.split(delimiter)]
        if (len(lines) > 1 and all(delimiter in line for line in lines[1:]) and any("," in cell for cell in cells)
                and all(not cell or DECIMAL_COMMA.fullmatch(cell) for cell in cells)):
            return dialect
    return None


def _read_csv(path: Path, index_column, label_column):
    # utf-8-sig: the byte-order mark Excel's "CSV UTF-8" puts first is dropped (read as
    # text it made the first row's first cell "\ufeff-0.12", not a number: the first
    # waveform was taken for a header and lost); plain UTF-8 and ASCII read the same.
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(65536)
            complete = not handle.read(1)
            handle.seek(0)
            decimal_commas = _decimal_commas(sample, complete)
            if decimal_commas:  # "-0,17764;-0,2": cells between ";" (or tabs), commas as decimal points
                dialect = decimal_commas
            else:
                try:
                    dialect = csv.Sniffer().sniff(sample, delimiters=",;\t ")
                except csv.Error:
                    dialect = csv.excel
            rows = [row for row in csv.reader(handle, dialect) if any(cell.strip() for cell in row)]
            if decimal_commas:
                rows = [[cell.replace(",", ".") for cell in row] for row in rows]
    except UnicodeDecodeError as exc:
        raise ValueError(f"{str(path)!r} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as "
                         "UTF-8 CSV (a header in another encoding, e.g. Latin-1, is the usual cause)") from None
    if not rows:
        raise ValueError(f"{str(path)!r} is empty; expected one waveform per row")
    # A delimiter ending every row ("0.1,0.2,0.3,", as a loop printing "value," writes)
    # makes an empty last column: dropped, not read as a value that is not a number.
    while all(len(row) > 1 and not row[-1].strip() for row in rows):
        rows = [row[:-1] for row in rows]
    header = None
    try:
        [float(cell) for cell in rows[0] if cell.strip()]
    except ValueError:
        header, rows = [cell.strip().lower() for cell in rows[0]], rows[1:]
    if not rows:
        raise ValueError(f"{str(path)!r} has a header but no data rows")
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise ValueError(f"{str(path)!r} has rows of different lengths {sorted(widths)}; "
                         "expected one waveform per row, all of the same length")
    try:
        table = np.array([[float(cell) for cell in row] for row in rows])
    except ValueError:
        row, column, cell = _first_non_number(rows)  # counted as the waveforms are: no header, no blank line
        raise ValueError(f"{str(path)!r} holds a value that is not a number: {cell!r} in waveform row {row + 1}, "
                         f"column {column}; expected numbers only (plus an optional header row)") from None

    if header is not None and len(header) == table.shape[1]:
        if index_column == "auto":
            index_column = header[0] in _INDEX_NAMES
        if label_column == "auto":
            label_column = header[-1] in _LABEL_NAMES
    if index_column == "auto":
        index_column = table.shape[1] > 1 and _is_index_column(table[:, 0])
    start = 1 if index_column else 0
    if label_column == "auto":
        body = table[:, start:-1]
        label_column = body.shape[1] >= 1 and _looks_like_labels(table[:, -1], body)
    stop = table.shape[1] - 1 if label_column else table.shape[1]
    if stop - start < 1:
        raise ValueError(f"{str(path)!r} has {table.shape[1]} columns; after the index and "
                         "label columns no samples are left")
    labels = None
    if label_column:
        column = table[:, -1]
        if not np.all(column == np.round(column)):
            raise ValueError(f"the last column of {str(path)!r} is not integer; it cannot be "
                             "labels (pass label_column=False)")
        labels = column.astype(np.int64)
    return table[:, start:stop], labels, (_index_values(table[:, 0]) if index_column else None)


def _index_values(column: np.ndarray) -> np.ndarray:
    """A CSV's index column as int64 when every value is a whole number (spike ids), else
    as the float64 it was read as."""
    if np.all(np.isfinite(column)) and np.all(column == np.round(column)):
        return column.astype(np.int64)
    return column


#: The file suffixes :func:`load_waveforms` reads.
WAVEFORM_SUFFIXES = (".npy", ".npz", ".csv", ".txt", ".tsv")


def load_waveforms(path, *, key=None, index_column="auto", label_column="auto", return_index=False):
    """Read spike waveforms (and labels when the file has them).

    Parameters
    ----------
    path : str or Path
        ``.npy`` (the waveform array), ``.npz`` (array ``key``, default ``"waveforms"`` or
        the only array; labels from a ``"labels"`` array when present) or ``.csv`` / ``.txt``
        (one waveform per row, comma, semicolon, tab or space separated, optional header
        row, optional index column first, optional label column last).
    key : str, optional
        The ``.npz`` array holding the waveforms.
    index_column, label_column : bool or "auto", default "auto"
        CSV only: whether the first column is a spike index and the last a label.
        ``"auto"``: a header names them (``index``/``id``/empty first, ``label``/``unit``/
        ``cluster`` last), otherwise the first column is an index when it is exactly
        0..n−1 (or 1..n), and the last column holds labels when it is non-negative
        integers with few distinct values while the samples are not all integers.  With
        integer samples (ADC counts) say ``label_column=True`` explicitly.
    return_index : bool, default False
        Also return the CSV's index column, so results can be written against the spike
        ids the file gave (a 1-based index stays 1-based).

    Returns
    -------
    waveforms : ndarray, shape (n_spikes, n_samples) or (n_spikes, n_channels, n_samples)
    labels : ndarray of int64, shape (n_spikes,), or None
    index : ndarray, shape (n_spikes,), or None
        Only with ``return_index``: the CSV's index column (int64 when its values are whole
        numbers, else float64); None for ``.npy`` / ``.npz`` files and a CSV without one.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Unknown suffix, missing or ambiguous ``key``, ragged or non-numeric CSV rows, an
        ``.npz`` whose ``labels`` array is not one label per waveform (both counts named).
    """
    path = Path(path)
    index_column = _flag(index_column, "index_column")
    label_column = _flag(label_column, "label_column")
    if not isinstance(return_index, (bool, np.bool_)):
        raise TypeError(f"return_index={return_index!r} must be True or False")
    from nmfaudio.audio import check_array_file, check_input_file

    suffix = path.suffix.lower()
    if suffix not in WAVEFORM_SUFFIXES and not path.is_dir():  # the wrong kind of file, empty or not
        raise ValueError(f"{str(path)!r} has suffix {suffix!r}; give a .npy, .npz or .csv file")
    check_input_file(path, what="a waveform file")  # missing, folder, pipe, 0 bytes: one clear error each
    if suffix in (".npy", ".npz"):
        check_array_file(path, what="waveform file")  # declared shapes against the file's size
    if suffix == ".npy":
        with open(path, "rb") as handle:  # else numpy tries it as a pickle, and says so
            if handle.read(6) != b"\x93NUMPY":
                raise ValueError(f"{str(path)!r} is not an .npy file (no NumPy header); give a .npy, .npz or .csv file")
        read = np.load(path, allow_pickle=False), None, None
    elif suffix == ".npz":
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{str(path)!r} is not a valid .npz archive")
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if key is None:
                if "waveforms" in names:
                    key = "waveforms"
                elif len(names) == 1:
                    key = names[0]
                else:
                    # key='name': the CLI shows it as --key name (cli.option_names)
                    raise ValueError(f"{str(path)!r} holds arrays {names}; say which one holds "
                                     f"the waveforms, e.g. key={names[0]!r}")
            if key not in names:
                raise ValueError(f"key={key!r} is not in {str(path)!r}; it holds {names}")
            waveforms = archive[key]
            labels = archive["labels"] if "labels" in names and key != "labels" else None
        if labels is not None:
            labels = np.asarray(labels)
            if labels.ndim == 1 and waveforms.ndim >= 1 and labels.shape[0] != waveforms.shape[0]:
                # one label per waveform, or none: more or fewer were ignored without a word (mend60)
                raise ValueError(f"{str(path)!r} holds {waveforms.shape[0]} waveforms (array {key!r}) but "
                                 f"{labels.shape[0]} labels (array 'labels'); give one label per waveform, "
                                 "or remove the 'labels' array")
            # shape[:1], not (shape[0],): a 0-d array picked with key= (an .npz's "fs") has
            # no shape[0]; its shape is refused by the caller, in the words of the others
            if waveforms.ndim == 0 or labels.shape != waveforms.shape[:1] or labels.dtype.kind not in "iu":
                labels = None  # not per-spike integer labels: ignore them
            else:
                labels = labels.astype(np.int64)
        read = waveforms, labels, None
    else:  # .csv, .txt, .tsv
        read = _read_csv(path, index_column, label_column)
    return read if return_index else read[:2]
