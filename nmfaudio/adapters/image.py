"""Images ↔ non-negative matrices: compression, parts-based features and denoising.

Two layouts, both fitted with :func:`nmfaudio.factorize`:

* one picture (:func:`compress`): a grayscale image ``(m, n)`` *is* the matrix
  V ``(m, n)``; a colour image ``(m, n, 3)`` is stacked side by side, V = [R | G | B]
  ``(m, 3n)``, so the three channels share the column patterns of W (one factorization,
  not three);
* a stack of pictures (:func:`factorize_images`): one column per image, V
  ``(h·w·c, N)``; the basis images are the columns of W.

Values are uint8 (0..255) or float in [0, 1]; everything is fitted in [0, 1] (uint8 is
divided by 255) and given back in the input's dtype and range, clipped (and rounded for
uint8).  With RGBA input the opacity channel is kept aside and put back bit for bit; only
colour is learned (as in the NTNU CryptoPunks project).  Gray with opacity (LA, shape
``(m, n, 2)``) is gray plus an opacity kept aside in the same way.  Arrays only: reading and writing
files is the command line's job.
"""

from __future__ import annotations

import dataclasses
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from nmfaudio._validation import (
    as_array,
    as_generator,
    caller_stacklevel,
    check_finite,
    check_int,
    check_number,
    check_random_state,
    summary_repr,
)
# The engine (numba, scipy) is imported where it is used, not here: the command line
# reads SWEEP_MAX_ITER / SWEEP_TOL to build its parser, which --help alone should not pay for.

__all__ = [
    "SWEEP_MAX_ITER",
    "SWEEP_TOL",
    "CompressedImage",
    "StackShapeWarning",
    "DenoiseSweep",
    "ImageFactorization",
    "add_noise",
    "compress",
    "denoise_sweep",
    "factorize_images",
    "grow_factors",
    "psnr",
    "small_blas",
    "stack_reading",
    "to_matrix",
    "truncated_svd",
]


# --------------------------------------------------------------------------- validation


def _working_dtype(dtype: np.dtype) -> np.dtype:
    """float32 for uint8, float16 and float32 (the engine's fast path); float64 stays."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


#: Pillow modes whose numpy array holds pixel values as nmfaudio reads them (gray, gray with
#: opacity, RGB, RGBA, float gray).  Any other mode's array holds something else -- palette
#: indices (P, PA), inks (CMYK), luma and chroma (YCbCr), booleans (1), 16-bit values --
#: and a Pillow picture in such a mode is refused, naming the conversion.
PIXEL_MODES = ("L", "LA", "RGB", "RGBA", "F")
#: What the array of a Pillow picture in another mode holds, for the message.
MODE_CONTENTS = {"P": "palette indices", "PA": "palette indices", "CMYK": "ink amounts",
                 "YCbCr": "luma and chroma", "LAB": "L*a*b* values", "HSV": "hue, saturation, value",
                 "1": "booleans"}


def _check_pillow_mode(image, name: str) -> None:
    """Refuse a Pillow picture whose ``np.asarray`` is not its pixels (see PIXEL_MODES).

    ``compress(Image.open("photo.gif"), r)`` factorized the palette indices as gray levels,
    a CMYK JPEG's inks as RGB and opacity, without a word.  Duck-typed (a ``mode`` string
    and ``convert``): this module takes arrays and does not import Pillow.
    """
    mode = getattr(image, "mode", None)
    if not isinstance(mode, str) or not callable(getattr(image, "convert", None)) or mode in PIXEL_MODES:
        return
    if mode not in MODE_CONTENTS:  # 16- and 32-bit integers: Pillow's convert clips them, not scales them
        scale = "65535" if mode.startswith("I;16") else "its maximum"
        raise ValueError(f"{name} is a Pillow picture in mode {mode}, wider than the 8 bits per value read as "
                         f"pixels; pass floats in [0, 1], e.g. np.asarray({name}) / {scale}")
    opacity = "A" in mode or "transparency" in getattr(image, "info", {})
    target = "L" if mode == "1" else ("RGBA" if opacity else "RGB")
    raise ValueError(f"{name} is a Pillow picture in mode {mode}, whose array holds {MODE_CONTENTS[mode]}, not "
                     f"pixel values; pass {name}.convert({target!r}), or nmfaudio.adapters.files.read_picture(path) "
                     "(what the command line reads)")


class StackShapeWarning(UserWarning):
    """A 3-D stack whose last axis could be colour channels: (24, 24, 4) is read as 24
    gray pictures of 24 x 4 pixels, as a stack (N, h, w) is, though it may be one RGBA
    picture (see :func:`stack_reading`)."""


#: The kinds of picture a last axis of 2, 3 or 4 would make.
_CHANNEL_KINDS = {2: "gray + opacity (LA)", 3: "RGB", 4: "RGBA"}


def stack_reading(shape: tuple) -> str | None:
    """How a stack of shape ``shape`` is read, when that may not be what was meant, else
    None: a 3-D stack (N, h, w) whose w is 2, 3 or 4 while N and h are above 4 looks like
    one picture (h, w, c) with colour channels — a single RGBA CryptoPunk (24, 24, 4) was
    fitted as 24 gray pictures of 24 x 4 pixels without a word before 2026-12-06 (polish17).
    Thin gray pictures are a stack too, so this is a warning, not an error."""
    if len(shape) == 3 and shape[2] in _CHANNEL_KINDS and shape[0] > 4 and shape[1] > 4:
        return (f"shape {tuple(shape)} is read as {shape[0]} gray pictures of {shape[1]} x {shape[2]} pixels "
                f"(a stack is (N, h, w) or (N, h, w, c)); if it is one {_CHANNEL_KINDS[shape[2]]} picture")
    return None


def _check_images(images, name: str, *, stack: bool) -> np.ndarray:
    """Return ``images`` as an array after checking dtype, shape and value range.

    ``stack=False``: one image (m, n), (m, n, 2), (m, n, 3) or (m, n, 4).  ``stack=True``:
    a stack (N, h, w), (N, h, w, 2), (N, h, w, 3) or (N, h, w, 4).  uint8 or float in
    [0, 1], no NaN.  A Pillow picture is taken as its array when that holds its pixels
    (:func:`_check_pillow_mode`).
    """
    _check_pillow_mode(images, name)
    reader = f"nmfaudio.adapters.files.{'read_image_stack' if stack else 'read_picture'}({{path}})"
    array = as_array(images, name, expected="an array of pixels (uint8 or float in [0, 1])",
                     content="an array of pixels", read_with=reader)
    if array.dtype != np.uint8 and array.dtype.kind != "f":
        # a list has no .astype: say how to make the array (polish15)
        convert = (f"{name}.astype(np.float32)" if isinstance(images, np.ndarray)
                   else f"np.asarray({name}, dtype=np.float32)")
        raise TypeError(
            f"{name} has dtype {array.dtype}; pass uint8 (0..255) or float in [0, 1] "
            f"(e.g. {convert} / 255 for 8-bit data in another integer type)"
        )
    gray_ndim = 3 if stack else 2
    expected = ("(N, h, w), (N, h, w, 2), (N, h, w, 3) or (N, h, w, 4)" if stack
                else "(m, n), (m, n, 2), (m, n, 3) or (m, n, 4)")
    channels = array.ndim == gray_ndim + 1 and array.shape[-1] in (2, 3, 4)
    if array.ndim != gray_ndim and not channels:
        raise ValueError(f"{name} has shape {array.shape}; expected {expected} "
                         "(gray, gray with opacity, RGB or RGBA)")
    if array.size == 0:
        raise ValueError(f"{name} has shape {array.shape}; it must hold at least one pixel")
    if array.dtype.kind == "f":
        check_finite(array, name, fix="replace them (e.g. np.nan_to_num) first")
        low, high = float(array.min()), float(array.max())
        if low < 0 or high > 1:
            hint = " (divide by 255, or pass uint8)" if high <= 255 and low >= 0 else " (rescale them)"
            raise ValueError(f"{name} has values in [{low:.4g}, {high:.4g}]; float images must "
                             f"lie in [0, 1]{hint}")
    reading = stack_reading(array.shape) if stack else None
    if reading is not None:
        warnings.warn(f"{name}: {reading}, pass a stack of one: {name}[None] or [picture]",
                      StackShapeWarning, stacklevel=caller_stacklevel())
    return array


def _split_alpha(array: np.ndarray, *, stack: bool):
    """(colour in [0, 1] as float, alpha or None); alpha is a copy in the input's dtype.

    Whether the last axis holds channels follows from ``ndim`` alone (a stack of gray
    images 4 pixels wide is not RGBA).  The opacity of LA (2 channels) and RGBA (4) is
    the last channel; LA's colour is gray, shape (m, n) (or (N, h, w)), not (m, n, 1).
    """
    alpha = None
    if _has_opacity(array.shape, stack=stack):
        alpha = array[..., -1].copy()
        array = array[..., 0] if array.shape[-1] == 2 else array[..., :3]
    work = _working_dtype(array.dtype)
    if array.dtype == np.uint8:
        colour = array.astype(work) / work.type(255)
    else:
        colour = array.astype(work, copy=True)
    return colour, alpha


def _has_opacity(shape: tuple, *, stack: bool) -> bool:
    """Whether an image (``stack=False``) or stack of shape ``shape`` is LA or RGBA."""
    return len(shape) == (4 if stack else 3) and shape[-1] in (2, 4)


def _colour_part(array: np.ndarray, *, stack: bool) -> np.ndarray:
    """``array`` without its opacity channel (LA keeps a length-1 channel axis)."""
    return array[..., :-1] if _has_opacity(array.shape, stack=stack) else array


def _colour_shape(shape: tuple, *, stack: bool) -> tuple:
    """The fitted colour's shape for input of shape ``shape``: gray and LA give no channel
    axis, RGB and RGBA give 3."""
    plain = shape[:3] if stack else shape[:2]
    return plain + ((3,) if len(shape) > len(plain) and shape[-1] >= 3 else ())


def _to_input_range(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Clip float values to [0, 1] and convert to ``dtype`` (uint8: ×255, rounded)."""
    clipped = np.clip(values, 0, 1)
    if dtype == np.uint8:
        return np.rint(clipped * 255).astype(np.uint8)
    return clipped.astype(dtype)


def _relative_error(target: np.ndarray, W: np.ndarray, H: np.ndarray) -> float:
    """‖target − WH‖_F / ‖target‖_F in float64 (0 when target is all zeros and WH too)."""
    return _relative_distance(target, W.astype(np.float64) @ H.astype(np.float64))


def _relative_distance(target: np.ndarray, estimate: np.ndarray) -> float:
    """‖target − estimate‖_F / ‖target‖_F in float64: 0 when both are all zeros (black
    pictures: 0/0 was NaN, printed as ``NaN`` in ``image sweep --json``, not JSON), inf
    when only the target is."""
    target = np.asarray(target, dtype=np.float64)
    residual = np.linalg.norm(target - estimate)
    norm = np.linalg.norm(target)
    if norm == 0:
        return 0.0 if residual == 0 else float("inf")
    return float(residual / norm)


class _Settled:
    """A :func:`nmfaudio.factorize` callback: stop once the error has settled.

    The error is e = sqrt(2·loss) / ‖V‖_F, the relative error ‖V − WH‖_F / ‖V‖_F for the
    Frobenius loss (for other β, the same expression of their loss).  Every
    CHECK_EVERY iterations, stop when e fell by less than ``tol`` over the last
    CHECK_EVERY iterations.  An absolute change of a relative error means the same at
    every rank, for a cold start and for a warm start that begins near the answer (the
    engine's ``tol`` is relative to the starting loss instead): with ``tol=5e-5`` the
    fit stops when ten more iterations improve the relative error by less than 0.00005.
    """

    def __init__(self, tol: float, V):
        from nmfaudio.nmf import CHECK_EVERY

        self.tol = tol
        self.scale = float(np.linalg.norm(V.astype(np.float64, copy=False)))
        self.errors = []
        self.every = CHECK_EVERY  # read once here, not on every iteration's call

    def __call__(self, iteration, loss) -> bool:
        every = self.every
        self.errors.append(np.sqrt(max(2.0 * loss, 0.0)) / self.scale if self.scale > 0 else 0.0)
        if self.tol <= 0 or iteration % every or len(self.errors) <= every:
            return False
        return self.errors[-1 - every] - self.errors[-1] < self.tol


#: Below this size (n_features · n_samples · rank, the multiply-adds of one product
#: WᵀV) the fits run with one BLAS thread.  benchmarks/blas_threads.py, 2026-11-30,
#: 2 shared cores at load average 11-15: two OpenBLAS threads cost 6-13x the wall time
#: of one for every image-sized fit (photo r=20 5.2e6 ... punks d=256 2.2e8) and still
#: 2.4x at 5.5e8 (docs/performance.md); image fits rarely go beyond.
SMALL_BLAS_MACS = 1e9


def small_blas(n_macs: float):
    """A context manager: one BLAS thread inside when ``n_macs`` < :data:`SMALL_BLAS_MACS`.

    Small products gain nothing from a second BLAS thread and lose badly when the cores
    are shared (the threads wait for each other).  The limit is threadpoolctl's, undone
    on exit, so the caller's own setting is untouched; large problems keep it.
    """
    if n_macs < SMALL_BLAS_MACS:
        return threadpool_limits(limits=1, user_api="blas")
    return nullcontext()


def _fit(V, rank, *, max_iter, tol, beta, solver, init, random_state, W=None, H=None):
    """:func:`nmfaudio.factorize` stopped by :class:`_Settled`; returns (result, converged).

    V (n, m) with more rows than columns is fitted as Vᵀ ≈ HᵀWᵀ and the factors are
    transposed back (the loss is the same), so that the solver's first half-step updates
    the larger factor: HALS updates H first, and when that is the smaller factor of a
    tall V (the codes of an image stack) it zeroes some components for good (punks at
    d = 64: 2 of 64 dead, error 0.1309; fitted transposed: none dead, 0.1286;
    docs/images.md).  Small problems run with one BLAS thread (:func:`small_blas`).
    Warns :class:`~nmfaudio.ConvergenceWarning` (as the engine does) when ``max_iter``
    came first.
    """
    from nmfaudio.nmf import ConvergenceWarning, factorize

    settled = _Settled(tol, V)
    if init is None:  # "the default" here, as factorize's None is its own default
        init = "nndsvda"
    if W is not None:
        init = "custom"
    transpose = V.shape[0] > V.shape[1]
    if transpose:
        V = V.T
        W, H = (None, None) if W is None else (np.ascontiguousarray(H.T), np.ascontiguousarray(W.T))
    with small_blas(V.shape[0] * V.shape[1] * rank):
        res = factorize(V, rank, beta=beta, solver=solver, init=init, W=W, H=H, max_iter=max_iter,
                        tol=0, random_state=random_state, callback=settled)
    if transpose:
        res = dataclasses.replace(res, W=np.ascontiguousarray(res.H.T), H=np.ascontiguousarray(res.W.T))
    converged = res.stop_reason in ("callback", "zero")
    if not converged and tol > 0 and max_iter > 0:
        warnings.warn(f"NMF reached max_iter={max_iter} before the loss settled (tol={tol:g}); "
                      "raise max_iter or tol", ConvergenceWarning, stacklevel=3)
    return res, converged


# --------------------------------------------------------------------------- one picture


def psnr(reference, estimate) -> float:
    """Peak signal-to-noise ratio in dB, on the [0, 1] scale (uint8 is divided by 255).

    Parameters
    ----------
    reference, estimate : ndarray, same shape
        uint8 or float in [0, 1] images (any shape, channels included).

    Returns
    -------
    float
        10·log10(1 / MSE); ``inf`` when the two are identical.
    """
    ref = np.asarray(reference)
    est = np.asarray(estimate)
    if ref.shape != est.shape:
        raise ValueError(f"reference has shape {ref.shape} but estimate has {est.shape}; "
                         "compare images of the same shape")
    scale_ref = 255.0 if ref.dtype == np.uint8 else 1.0
    scale_est = 255.0 if est.dtype == np.uint8 else 1.0
    mse = float(np.mean((ref.astype(np.float64) / scale_ref - est.astype(np.float64) / scale_est) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))


def _check_rank(rank: int, shape: tuple) -> None:
    """Refuse a rank above what a picture of colour shape ``shape`` ((m, n) or (m, n, c))
    can hold: its matrix (:func:`_picture_matrix`, m × c·n) has at most min(m, c·n)
    independent parts, and a larger rank stores more numbers than the pixels themselves
    (rank 600 of a 40 × 60 picture: 60,000 numbers for 2,400 pixels)."""
    height, width = shape[:2]
    columns = width * (shape[2] if len(shape) == 3 else 1)  # colour channels side by side
    most = min(height, columns)
    if rank > most:
        side = "RGB side by side, " if len(shape) == 3 else ""
        raise ValueError(f"rank={rank} is larger than the picture: {width} x {height} pixels ({side}a {height} x "
                         f"{columns} matrix) have at most {most} independent parts; use rank={most} or less")


def _check_stack_rank(rank: int, A_shape: tuple, stack_shape: tuple, name: str) -> None:
    """Refuse a rank above what a stack can hold, as :func:`_check_rank` does for one
    picture and ``nmfaudio image sweep --ranks`` for a stack: its colour matrix A
    (h·w·c × N) has at most min(h·w·c, N) independent parts.  Before 2026-12-06 (tour18)
    ``factorize_images(20 punks, 100)`` fitted 100 basis images to 20 pictures."""
    most = min(A_shape)
    if rank > most:
        count = stack_shape[0]
        height, width = stack_shape[1:3]
        pictures = f"{count} picture{'s' if count != 1 else ''} of {width} x {height} pixels"
        verb = "has" if count == 1 else "have"
        raise ValueError(f"{name}={rank} is larger than the stack: {pictures} (a {A_shape[0]} x {A_shape[1]} "
                         f"matrix) {verb} at most {most} independent parts; use {name}={most} or less")


def _picture_matrix(colour: np.ndarray) -> np.ndarray:
    """(m, n) → itself; (m, n, c) → [ch0 | ch1 | …] of shape (m, c·n)."""
    if colour.ndim == 2:
        return colour
    m, n, c = colour.shape
    return np.ascontiguousarray(colour.transpose(0, 2, 1).reshape(m, c * n))


def _picture_from_matrix(matrix: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of :func:`_picture_matrix` for a picture of colour shape ``shape``."""
    if len(shape) == 2:
        return matrix
    m, n, c = shape
    return matrix.reshape(m, c, n).transpose(0, 2, 1)


def _restore(colour: np.ndarray, alpha, dtype) -> np.ndarray:
    """Colour back in ``dtype`` with ``alpha`` appended as the last channel (LA or RGBA)."""
    out = _to_input_range(colour, dtype)
    if alpha is not None:
        if out.ndim == alpha.ndim:  # gray colour: give it a channel axis (→ LA)
            out = out[..., None]
        out = np.concatenate([out, alpha[..., None]], axis=-1)
    return out


@dataclass(frozen=True, eq=False)
class CompressedImage:
    """A picture stored as two non-negative factors; see :func:`compress`.

    Attributes
    ----------
    W : ndarray, shape (m, rank)
        Column patterns.
    H : ndarray, shape (rank, c·n)
        Their weights, one block of n columns per colour channel (c = 1 for gray).
    shape : tuple
        The input's shape, (m, n), (m, n, 2), (m, n, 3) or (m, n, 4).
    dtype : numpy.dtype
        The input's dtype (uint8 or a float dtype).
    alpha : ndarray, shape (m, n), or None
        The opacity channel of LA or RGBA input, unchanged (not learned, not counted in
        ``storage_ratio``).
    loss : ndarray, shape (n_iter + 1,)
        The engine's loss per iteration (½‖V − WH‖²_F for Frobenius, V in [0, 1]).
    n_iter : int
    converged : bool
    psnr : float
        PSNR in dB of :meth:`reconstruct` against the input (colour channels).
    """

    W: np.ndarray
    H: np.ndarray
    shape: tuple
    dtype: np.dtype
    alpha: np.ndarray | None
    loss: np.ndarray
    n_iter: int
    converged: bool
    psnr: float = field(default=float("nan"))

    def __repr__(self) -> str:
        """One line, arrays by shape and dtype (:func:`nmfaudio._validation.summary_repr`)."""
        return summary_repr(self)

    @property
    def rank(self) -> int:
        """Number of components r."""
        return int(self.W.shape[1])

    @property
    def n_stored(self) -> int:
        """Numbers stored: m·r + r·c·n."""
        return int(self.W.size + self.H.size)

    @property
    def n_original(self) -> int:
        """Numbers in the original colour channels: m·n·c."""
        return int(self.W.shape[0] * self.H.shape[1])

    @property
    def storage_ratio(self) -> float:
        """(m·r + r·c·n) / (m·c·n): below 1 means the factors are smaller than the image."""
        return self.n_stored / self.n_original

    def reconstruct(self) -> np.ndarray:
        """The picture W @ H in the input's shape, dtype and range (clipped; uint8 rounded).

        Returns
        -------
        ndarray, shape ``self.shape``, dtype ``self.dtype``
        """
        colour = _picture_from_matrix(self.W @ self.H, _colour_shape(self.shape, stack=False))
        return _restore(colour, self.alpha, self.dtype)


def compress(image, rank, *, max_iter=500, tol=5e-5, beta="frobenius", solver="auto",
             init="nndsvda", random_state=None) -> CompressedImage:
    """Approximate one picture by a rank-``rank`` non-negative factorization.

    Parameters
    ----------
    image : ndarray, shape (m, n), (m, n, 2), (m, n, 3) or (m, n, 4)
        Gray, gray with opacity (LA), RGB or RGBA; uint8 or float in [0, 1].  RGB
        channels are stacked side by side into V = [R | G | B] of shape (m, 3n) (they
        share W); LA is fitted as gray, V of shape (m, n); LA and RGBA opacity is kept
        aside unchanged.
    rank : int >= 1
        Number of components r.
    max_iter, tol, beta, solver, init, random_state
        As in :func:`factorize_images`: ``tol`` stops the fit once the relative error
        has settled (fell by less than ``tol`` over the last 10 iterations).

    Returns
    -------
    CompressedImage
        ``.W`` (m, r), ``.H`` (r, c·n), ``.reconstruct()``, ``.storage_ratio``,
        ``.psnr``, ``.loss``.

    Raises
    ------
    TypeError
        ``image`` is not uint8 or float.
    ValueError
        Wrong shape, NaN, float values outside [0, 1], ``rank`` < 1, or ``rank`` above
        what the picture can hold (its height, or its width times its colour channels).

    Examples
    --------
    >>> import numpy as np
    >>> from nmfaudio.adapters.image import compress
    >>> image = np.outer(np.linspace(0, 1, 40), np.linspace(1, 0.5, 30))  # rank 1
    >>> result = compress(image, 1, random_state=0)
    >>> result.reconstruct().shape, bool(result.psnr > 40)
    ((40, 30), True)
    """
    array = _check_images(image, "image", stack=False)
    rank = check_int(rank, "rank")
    colour, alpha = _split_alpha(array, stack=False)
    _check_rank(rank, colour.shape)
    res, converged = _fit(_picture_matrix(colour), rank, beta=beta, solver=solver, init=init,
                          max_iter=max_iter, tol=tol, random_state=random_state)
    result = CompressedImage(res.W, res.H, tuple(array.shape), array.dtype, alpha,
                             res.loss, res.n_iter, converged)
    colour_out = _colour_part(result.reconstruct(), stack=False)
    object.__setattr__(result, "psnr", psnr(_colour_part(array, stack=False), colour_out))
    return result


def truncated_svd(image, rank) -> np.ndarray:
    """The best rank-``rank`` approximation (Eckart–Young), in the input's shape and range.

    The bound any rank-r factorization, non-negative or not, can reach in squared error;
    used as the reference for :func:`compress`.  Same layout as :func:`compress`
    (RGB stacked side by side, LA and RGBA opacity kept).

    Parameters
    ----------
    image : ndarray, shape (m, n), (m, n, 2), (m, n, 3) or (m, n, 4)
        uint8 or float in [0, 1].
    rank : int >= 1
        At most what the picture can hold, as for :func:`compress` (its height, or its
        width times its colour channels).

    Returns
    -------
    ndarray, same shape and dtype as ``image`` (clipped to its range; uint8 rounded)

    Raises
    ------
    TypeError, ValueError
        As :func:`compress`: the image's dtype, shape or values, or ``rank``.
    """
    array = _check_images(image, "image", stack=False)
    rank = check_int(rank, "rank")
    colour, alpha = _split_alpha(array, stack=False)
    _check_rank(rank, colour.shape)  # compress's rule (before polish15 any rank, the full SVD above it)
    matrix = _picture_matrix(colour).astype(np.float64)
    U, S, Vt = np.linalg.svd(matrix, full_matrices=False)
    approx = (U[:, :rank] * S[:rank]) @ Vt[:rank]
    return _restore(_picture_from_matrix(approx, colour.shape), alpha, array.dtype)


# --------------------------------------------------------------------------- a stack


def to_matrix(images) -> np.ndarray:
    """The data matrix of a stack: one column per image, colour only, values in [0, 1].

    Parameters
    ----------
    images : ndarray, shape (N, h, w), (N, h, w, 2), (N, h, w, 3) or (N, h, w, 4)
        uint8 or float in [0, 1]; the opacity of LA and RGBA is left out.

    Returns
    -------
    ndarray, shape (h·w·c, N)
        c = 1 for gray and LA, 3 for RGB and RGBA (24×24 RGBA punks: 1728 × N).  float32 for
        uint8/float32 input, float64 for float64.
    """
    array = _check_images(images, "images", stack=True)
    colour, _ = _split_alpha(array, stack=True)
    return np.ascontiguousarray(colour.reshape(colour.shape[0], -1).T)


@dataclass(frozen=True, eq=False)
class ImageFactorization:
    """A stack of images as basis images times codes; see :func:`factorize_images`.

    Attributes
    ----------
    W : ndarray, shape (h·w·c, k)
        Basis images, one per column (c = 1 for gray and LA, 3 for RGB and RGBA).
    H : ndarray, shape (k, N)
        Codes: how much of each basis image each input image uses.
    shape : tuple
        The input's shape.
    dtype : numpy.dtype
        The input's dtype.
    alpha : ndarray, shape (N, h, w), or None
        The opacity channel of LA or RGBA input, unchanged.
    loss : ndarray, shape (n_iter + 1,)
        The engine's loss (½‖A − WH‖²_F for Frobenius, A in [0, 1]).
    n_iter : int
    converged : bool
    relative_error : float
        ‖A − WH‖_F / ‖A‖_F for the fitted data matrix A (h·w·c, N), unclipped model.
    """

    W: np.ndarray
    H: np.ndarray
    shape: tuple
    dtype: np.dtype
    alpha: np.ndarray | None
    loss: np.ndarray
    n_iter: int
    converged: bool
    relative_error: float

    def __repr__(self) -> str:
        """One line, arrays by shape and dtype (:func:`nmfaudio._validation.summary_repr`)."""
        return summary_repr(self)

    @property
    def n_components(self) -> int:
        """k."""
        return int(self.W.shape[1])

    @property
    def _colour_shape(self) -> tuple:
        return _colour_shape(self.shape, stack=True)[1:]

    @property
    def basis(self) -> np.ndarray:
        """Basis images, shape (k, h, w) for gray and LA input, (k, h, w, 3) for RGB/RGBA.

        Raw (not clipped): a basis image's scale is shared with its code, so show each
        one divided by its maximum.
        """
        return self.W.T.reshape((self.n_components,) + self._colour_shape)

    @property
    def codes(self) -> np.ndarray:
        """The codes H, shape (k, N)."""
        return self.H

    def reconstruct(self) -> np.ndarray:
        """W @ H as images: the input's shape, dtype and range (clipped; uint8 rounded),
        with the input's opacity restored bit for bit.

        Returns
        -------
        ndarray, shape ``self.shape``, dtype ``self.dtype``
        """
        colour = (self.W @ self.H).T.reshape((self.H.shape[1],) + self._colour_shape)
        return _restore(colour, self.alpha, self.dtype)


def factorize_images(images, n_components, *, max_iter=1000, tol=5e-5, beta="frobenius",
                     solver="auto", init="nndsvda", random_state=None, W=None,
                     H=None) -> ImageFactorization:
    """Learn ``n_components`` basis images from a stack, one column per image.

    Parameters
    ----------
    images : ndarray, shape (N, h, w), (N, h, w, 3) or (N, h, w, 4)
        uint8 or float in [0, 1].  With RGBA the opacity is kept aside and restored on
        :meth:`ImageFactorization.reconstruct`; only the colour (h·w·3 × N) is learned.
    n_components : int >= 1
        Number of basis images k (the NTNU project's d).
    max_iter : int, default 1000
        Iterations at most.
    tol : float >= 0, default 5e-5
        Every 10 iterations, stop when the relative error ‖A − WH‖_F / ‖A‖_F fell by
        less than ``tol`` over the last 10 (it has settled); 0 runs ``max_iter``.
    beta, solver, init, random_state
        Passed to :func:`nmfaudio.factorize`.  The defaults (Frobenius, HALS, NNDSVDa
        start; ``init=None`` is that default) reach scikit-learn's coordinate descent's
        error sooner (docs/images.md).
    W : ndarray, shape (h·w·c, n_components), optional
        Starting basis (a warm start, e.g. a fit at a lower rank plus new columns); needs ``H``.
    H : ndarray, shape (n_components, N), optional
        Starting codes; needs ``W``.

    Returns
    -------
    ImageFactorization
        ``.basis`` (k, h, w[, 3]), ``.codes`` (k, N), ``.reconstruct()``,
        ``.relative_error``, ``.loss``.

    Raises
    ------
    TypeError
        ``images`` is not uint8 or float.
    ValueError
        Wrong shape, NaN, float values outside [0, 1], ``n_components`` < 1, or only
        one of ``W`` and ``H``.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfaudio.adapters.image import factorize_images
    >>> rgba = np.random.default_rng(0).integers(0, 256, (10, 6, 6, 4), dtype=np.uint8)
    >>> fit = factorize_images(rgba, 3, max_iter=50, tol=0, random_state=0)
    >>> fit.basis.shape, fit.codes.shape, bool((fit.reconstruct()[..., 3] == rgba[..., 3]).all())
    ((3, 6, 6, 3), (3, 10), True)
    """
    array = _check_images(images, "images", stack=True)
    k = check_int(n_components, "n_components")
    colour, alpha = _split_alpha(array, stack=True)
    if (W is None) != (H is None):
        raise ValueError("a warm start needs both W and H (or neither); pass the other "
                         "factor too")
    A = np.ascontiguousarray(colour.reshape(colour.shape[0], -1).T)
    _check_stack_rank(k, A.shape, array.shape, "n_components")
    return _fit_stack(A, array, alpha, k, max_iter=max_iter, tol=tol, beta=beta, solver=solver,
                      init=init, random_state=random_state, W=W, H=H)


def _fit_stack(A, array, alpha, k, **options) -> ImageFactorization:
    """Fit the colour matrix A (h·w·c, N) of the checked stack ``array``."""
    res, converged = _fit(A, k, **options)
    return ImageFactorization(res.W, res.H, tuple(array.shape), array.dtype, alpha, res.loss,
                              res.n_iter, converged, _relative_error(A, res.W, res.H))


def grow_factors(A, W, H, n_new, *, random_state=None):
    """A warm start for rank k + ``n_new`` from a rank-k fit: W and H plus new columns.

    The new components are the non-negative double SVD (NNDSVD, Boutsidis & Gallopoulos
    2008) of the positive part of the residual, max(A − WH, 0): they start on what the
    rank-k model leaves out, on its scale, while the k fitted ones are kept as they are.

    Parameters
    ----------
    A : ndarray, shape (n_features, N)
        The non-negative data matrix (e.g. :func:`to_matrix` of a stack).
    W : ndarray, shape (n_features, k)
    H : ndarray, shape (k, N)
    n_new : int >= 0
        Components to add.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Seeds the SVD's start vector.

    Returns
    -------
    W : ndarray, shape (n_features, k + n_new)
    H : ndarray, shape (k + n_new, N)
        In A's dtype.
    """
    from nmfaudio.nmf.init import nndsvd_init

    if n_new == 0:
        return W.astype(A.dtype, copy=True), H.astype(A.dtype, copy=True)
    with small_blas(A.shape[0] * A.shape[1] * (W.shape[1] + n_new)):
        residual = np.maximum(A - W.astype(A.dtype) @ H.astype(A.dtype), 0)
        W_new, H_new = nndsvd_init(residual, n_new, as_generator(random_state), variant="nndsvd")
    return (np.concatenate([W.astype(A.dtype), W_new.astype(A.dtype)], axis=1),
            np.concatenate([H.astype(A.dtype), H_new.astype(A.dtype)], axis=0))





# --------------------------------------------------------------------------- denoising


def add_noise(images, sigma, *, random_state=None) -> np.ndarray:
    """The NTNU noise model: Gaussian noise on the non-zero colour values, clipped to [0, 1].

    Every colour entry (R, G, B or gray) that is not exactly 0 gets N(0, σ²) added on
    the [0, 1] scale; zeros stay zero (the transparent background and black outlines of
    the CryptoPunks stay clean), results are clipped to [0, 1], and the opacity channel
    of RGBA input is returned untouched.

    Parameters
    ----------
    images : ndarray, shape (N, h, w), (N, h, w, 3) or (N, h, w, 4)
        uint8 or float in [0, 1].
    sigma : float >= 0
        Noise standard deviation on the [0, 1] scale.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState

    Returns
    -------
    ndarray, same shape and dtype as ``images``
        uint8 input gives uint8 output (noisy values rounded to 1/255 steps); pass float
        images for the unquantized model.
    """
    array = _check_images(images, "images", stack=True)
    sigma = check_number(sigma, "sigma", minimum=0, expected="a finite number >= 0 (on the [0, 1] scale)")
    rng = as_generator(random_state)
    colour, alpha = _split_alpha(array, stack=True)
    noise = rng.standard_normal(colour.shape).astype(colour.dtype) * colour.dtype.type(sigma)
    noisy = np.where(colour != 0, colour + noise, colour)
    return _restore(noisy, alpha, array.dtype)


@dataclass(frozen=True, eq=False)
class DenoiseSweep:
    """The outcome of :func:`denoise_sweep`.

    Attributes
    ----------
    ranks : ndarray of int, shape (n_ranks,)
    errors : ndarray of float, shape (n_ranks,)
        ‖A − WH‖_F / ‖A‖_F per rank, with A the clean data matrix when ``clean`` was
        given (the denoising error: U-shaped in the rank), else the noisy one (the fit
        error: decreasing).
    best_rank : int
        The rank of the smallest error.
    best_error : float
    noisy_error : float or None
        ‖noisy − clean‖_F / ‖clean‖_F (the error of doing nothing), when ``clean`` was given.
    fits : list of ImageFactorization
        One per rank, fitted to the noisy images.
    """

    ranks: np.ndarray
    errors: np.ndarray
    best_rank: int
    best_error: float
    noisy_error: float | None
    fits: list

    def __repr__(self) -> str:
        """One line, arrays by shape and dtype (:func:`nmfaudio._validation.summary_repr`)."""
        return summary_repr(self)


#: A sweep's stopping rule, looser than one fit's (tol=5e-5, max_iter=1000): a sweep
#: draws an error-versus-rank curve, and at high rank the tight rule keeps going for
#: digits the curve does not show.  500 punks, ranks 16-256, 2026-11-30: both sweeps of
#: examples/punks.py 45 -> 20 s of CPU; d = 64 0.1250 -> 0.1277, denoising best d = 128
#: 0.1049 -> 0.1068 (docs/images.md).
SWEEP_TOL = 2e-4
SWEEP_MAX_ITER = 200


def denoise_sweep(noisy, ranks, *, clean=None, max_iter=SWEEP_MAX_ITER, tol=SWEEP_TOL, beta="frobenius",
                  solver="auto", init="nndsvda", random_state=None, warm_start=True,
                  on_rank=None) -> DenoiseSweep:
    """Fit the noisy stack at each rank; a low rank cannot fit the noise, a high one does.

    Parameters
    ----------
    noisy : ndarray, shape (N, h, w), (N, h, w, 3) or (N, h, w, 4)
        uint8 or float in [0, 1] (e.g. from :func:`add_noise`).
    ranks : sequence of int >= 1
        The ranks to try, each once, e.g. ``[16, 32, 64, 128, 256]``.
    clean : ndarray, same shape as ``noisy``, optional
        The noise-free stack; errors are then measured against it.
    max_iter : int, default 200
        Iterations at most, per rank.
    tol : float >= 0, default 2e-4
        Per rank, stop when the relative error fell by less than ``tol`` over the last
        10 iterations (looser than :func:`factorize_images`' 5e-5: a sweep draws a
        curve; see :data:`SWEEP_TOL`).
    beta, solver, init
        As in :func:`factorize_images` (same for every rank; ``init`` is the start of
        the first, smallest rank only when ``warm_start``).
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        An int seeds every rank's fit identically; a Generator (or RandomState) is drawn
        from in order.
    warm_start : bool, default True
        Fit the ranks in increasing order, each starting from the fit at the next lower
        rank plus new components from its residual (:func:`grow_factors`): several
        times faster than cold starts, to about the same errors (tests/test_image.py
        holds the difference).  False fits every rank from ``init``.
    on_rank : callable(rank, error) -> None, optional
        Called after each rank, in the order fitted (progress reporting).

    Returns
    -------
    DenoiseSweep
        ``.ranks``, ``.errors``, ``.best_rank``, ``.best_error``, ``.noisy_error``, ``.fits``.
    """
    array = _check_images(noisy, "noisy", stack=True)
    try:
        rank_list = [check_int(r, "ranks") for r in ranks]
    except TypeError:
        raise TypeError(f"ranks={ranks!r} must be a sequence of ints >= 1") from None
    if not rank_list:
        raise ValueError("ranks=[] is empty; give at least one rank, e.g. [16, 32, 64]")
    twice = sorted({rank for rank in rank_list if rank_list.count(rank) > 1})
    if twice:  # fitted twice, two rows for it (before 2026-12-06, polish17; the command line refused it)
        raise ValueError(f"ranks={ranks!r} names rank {twice[0]} twice; give each rank once")
    if on_rank is not None and not callable(on_rank):
        raise TypeError(f"on_rank={on_rank!r} must be callable(rank, error)")
    A_noisy = to_matrix(array)
    for rank in rank_list:  # before the first (long) fit, as the command line does
        _check_stack_rank(rank, A_noisy.shape, array.shape, "ranks")
    target, noisy_error = A_noisy, None
    if clean is not None:
        clean_array = _check_images(clean, "clean", stack=True)
        if clean_array.shape != array.shape:
            raise ValueError(f"clean has shape {clean_array.shape} but noisy has {array.shape}; "
                             "pass the same images before noise")
        target = to_matrix(clean_array)
        noisy_error = _relative_distance(target, A_noisy.astype(np.float64))
    check_random_state(random_state)  # validate before the first (long) fit
    options = dict(max_iter=max_iter, tol=tol, beta=beta, solver=solver, init=init,
                   random_state=random_state)
    alpha = _split_alpha(array, stack=True)[1]
    # Warm starts need the ranks in increasing order; results keep the caller's order.
    order = sorted(range(len(rank_list)), key=rank_list.__getitem__) if warm_start else range(len(rank_list))
    fits, errors = [None] * len(rank_list), [None] * len(rank_list)
    previous = None
    for index in order:
        rank = rank_list[index]
        start = {}
        if previous is not None:
            start = dict(zip("WH", grow_factors(A_noisy, previous.W, previous.H, rank - previous.n_components,
                                                 random_state=random_state)))
        fit = _fit_stack(A_noisy, array, alpha, rank, **options, **start)
        error = fit.relative_error if clean is None else _relative_error(target, fit.W, fit.H)
        fits[index], errors[index] = fit, error
        previous = fit if warm_start else None
        if on_rank is not None:
            on_rank(rank, error)
    errors = np.asarray(errors)
    best = int(np.argmin(errors))
    return DenoiseSweep(np.asarray(rank_list), errors, rank_list[best], float(errors[best]),
                        noisy_error, fits)
