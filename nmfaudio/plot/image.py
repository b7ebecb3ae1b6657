"""Figures for the image adapter: image grids, basis images, error / loss / storage curves.

Every function returns a :class:`matplotlib.figure.Figure` built directly (no pyplot
state, no display needed); save it with ``fig.savefig("out.png")``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from nmfaudio._validation import check_int

__all__ = ["basis_grid", "error_vs_rank", "image_grid", "loss_curves", "storage_vs_rank"]


def _figure(figsize):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _display_values(image: np.ndarray, normalize: bool) -> np.ndarray:
    """float in [0, 1] for imshow; ``normalize`` divides the colour by its maximum."""
    array = np.asarray(image)
    values = array.astype(np.float64) / (255.0 if array.dtype == np.uint8 else 1.0)
    if values.ndim == 3 and values.shape[-1] == 2:  # gray + opacity: imshow draws RGBA only
        values = values[..., [0, 0, 0, 1]]
    if normalize:
        rgba = values.ndim == 3 and values.shape[-1] == 4
        colour = values[..., :3] if rgba else values
        peak = colour.max()
        if peak > 0:
            colour = colour / peak
        values = np.concatenate([colour, values[..., 3:]], axis=-1) if rgba else colour
    return np.clip(values, 0, 1)


def image_grid(images, *, ncols=None, titles=None, title=None, normalize=False, cmap="gray",
               background="white", panel_size=1.2):
    """A grid of images.

    Parameters
    ----------
    images : array-like, shape (N, h, w), (N, h, w, 2), (N, h, w, 3) or (N, h, w, 4), or a list of such images
        uint8 or float (shown clipped to [0, 1]).  Gray + opacity (LA) and RGBA are drawn
        over ``background``.
    ncols : int, optional
        Columns; default about sqrt(N), at most 10.
    titles : sequence of str, optional
        One per image.
    title : str, optional
        Figure title.
    normalize : bool, default False
        Divide each image by its own maximum (for basis images, whose scale is arbitrary).
    cmap : str, default "gray"
        Colour map for gray images (``vmin=0, vmax=1``).
    background : str, default "white"
        Colour behind transparent pixels.
    panel_size : float, default 1.2
        Inches per image.

    Returns
    -------
    matplotlib.figure.Figure
    """
    items = list(images)
    if not items:
        raise ValueError("images is empty; give at least one image to show")
    n = len(items)
    if ncols is None:
        ncols = min(10, max(1, math.ceil(math.sqrt(n))))
    ncols = check_int(ncols, "ncols")
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles has {len(titles)} entries for {n} images; give one per image")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig = _figure((panel_size * ncols, panel_size * nrows + (0.4 if title else 0) + (0.25 * nrows if titles else 0)))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= n:
            continue
        ax.set_facecolor(background)
        values = _display_values(items[i], normalize)
        if values.ndim == 2:
            ax.imshow(values, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        else:
            ax.imshow(values, interpolation="nearest")
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def basis_grid(fit, *, n=None, ncols=8, title=None):
    """The basis images of an :class:`~nmfaudio.adapters.image.ImageFactorization`,
    each scaled to its own maximum (shown as RGB for colour input).

    Parameters
    ----------
    fit : ImageFactorization
    n : int, optional
        Show the first ``n`` (default all k).
    ncols : int, default 8
    title : str, optional
        Default "k basis images".

    Returns
    -------
    matplotlib.figure.Figure
    """
    basis = fit.basis if n is None else fit.basis[:n]
    return image_grid(basis, ncols=ncols, normalize=True,
                      title=title if title is not None else f"{fit.n_components} basis images")


def error_vs_rank(ranks, errors, *, ylabel="relative error", xlabel="rank", reference=None,
                  reference_label="reference", mark="min", title=None, logx=True):
    """One or more curves of a quality measure against the rank.

    Parameters
    ----------
    ranks : sequence of int, shape (n_ranks,)
    errors : sequence of float, shape (n_ranks,), or mapping label -> sequence
        One curve, or several (e.g. ``{"fit": ..., "vs clean": ...}``).
    ylabel : str
        E.g. "relative error" or "PSNR (dB)".
    xlabel : str, default "rank"
    reference : float, optional
        A horizontal line (e.g. the noisy input's error).
    reference_label : str
    mark : {"min", "max", None}, default "min"
        Mark the best point of the first curve.
    title : str, optional
    logx : bool, default True
        Log-2 rank axis (ranks 16, 32, … evenly spaced).

    Returns
    -------
    matplotlib.figure.Figure
    """
    ranks = np.asarray(ranks)
    curves = dict(errors) if isinstance(errors, Mapping) else {None: errors}
    fig = _figure((5.5, 3.6))
    ax = fig.add_subplot()
    for index, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=float)
        if values.shape != ranks.shape:
            raise ValueError(f"errors{'' if label is None else f'[{label!r}]'} has shape "
                             f"{values.shape}; expected one value per rank {ranks.shape}")
        (line,) = ax.plot(ranks, values, "o-", label=label)
        if mark in ("min", "max") and index == 0:
            best = int(np.argmin(values) if mark == "min" else np.argmax(values))
            ax.plot(ranks[best], values[best], "*", ms=14, color=line.get_color(),
                    label=f"best: rank {ranks[best]} ({values[best]:.4g})")
    if reference is not None:
        ax.axhline(reference, ls="--", color="gray", label=f"{reference_label} ({reference:.4g})")
    if logx:
        ax.set_xscale("log", base=2)
    ax.set_xticks(ranks)
    ax.set_xticklabels([str(r) for r in ranks])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def loss_curves(losses, *, title=None, relative=True):
    """Loss against iteration, one curve per label, log scale.

    Parameters
    ----------
    losses : mapping label -> sequence of float
        e.g. ``{f"r={r}": result.loss for r, result in results.items()}``.
    title : str, optional
    relative : bool, default True
        Divide each curve by its first value (curves of different sizes then share an axis).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(losses, Mapping) or not losses:
        raise ValueError("losses must be a non-empty mapping label -> loss values")
    fig = _figure((5.5, 3.6))
    ax = fig.add_subplot()
    for label, values in losses.items():
        values = np.asarray(values, dtype=float)
        if relative and values.size and values[0] > 0:
            values = values / values[0]
        computed = np.isfinite(values)  # factorize(..., loss_every=N) leaves NaN in the gaps
        ax.plot(np.flatnonzero(computed), values[computed], label=str(label))
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss / initial loss" if relative else "loss")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def storage_vs_rank(shape, ranks, *, title=None):
    """Numbers stored by a rank-r factorization, m·r + r·n, against the original's m·n.

    Parameters
    ----------
    shape : (m, n)
        The factorized matrix's shape (for a stacked RGB picture, (m, 3n)).
    ranks : sequence of int
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if len(shape) != 2:
        raise ValueError(f"shape={tuple(shape)!r} must be the matrix shape (m, n)")
    m, n = (int(v) for v in shape)
    ranks = np.asarray(ranks)
    stored = ranks * (m + n)
    fig = _figure((5.5, 3.6))
    ax = fig.add_subplot()
    ax.plot(ranks, stored, "o-", label="W and H: r·(m + n)")
    ax.axhline(m * n, ls="--", color="gray", label=f"original: m·n = {m * n:,}")
    ax.axvline(m * n / (m + n), ls=":", color="gray",
               label=f"break-even rank {m * n / (m + n):.0f}")
    for r, s in zip(ranks, stored):
        ax.annotate(f"{s / (m * n):.0%}", (r, s), textcoords="offset points", xytext=(4, -12),
                    fontsize=8)
    ax.set_xlabel("rank r")
    ax.set_ylabel("numbers stored")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig
