"""Image adapter (nmfaudio.adapters.image), its plots and the ``nmfaudio image`` command.

Small inputs and few iterations: the full CryptoPunks study lives in benchmarks/image.py.
"""

import hashlib
import importlib.util
import io
import json
import math
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from nmfaudio import ConvergenceWarning
from nmfaudio.adapters.image import (
    CompressedImage,
    ImageFactorization,
    add_noise,
    compress,
    denoise_sweep,
    factorize_images,
    psnr,
    to_matrix,
    truncated_svd,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture(autouse=True)
def _quiet_convergence():
    # Few iterations on purpose; reaching max_iter is expected here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def punks():
    with np.load(DATA / "punks_500.npz") as archive:
        return archive["images"][:40]


def planted_image(planted, shape, rank, seed):
    """A non-negative (m, n) image of exact rank ``rank``, in [0, 1]."""
    image = planted(shape, rank, seed, offset=0.0)[0]
    return image / image.max()


def planted_stack(planted, n_images, shape, rank, seed):
    """A non-negative rank-``rank`` stack in [0, 1]: (n_images,) + shape (one image a column)."""
    A = planted((int(np.prod(shape)), n_images), rank, seed, offset=0.0)[0]
    A /= A.max()
    return A.T.reshape((n_images,) + tuple(shape))


# --------------------------------------------------------------------------- data files


def test_punks_subset_file():
    with np.load(DATA / "punks_500.npz") as archive:
        images, ids = archive["images"], archive["punk_id"]
        labels, names = archive["labels"], archive["label_names"]
    assert images.shape == (500, 24, 24, 4) and images.dtype == np.uint8
    assert np.array_equal(ids, np.arange(500)), "the subset is punks #0..#499 in id order"
    assert labels.shape == (500, len(names))
    assert set(np.unique(images[..., 3])) <= {0, 128, 255}, "alpha takes only 0, 128, 255"
    assert not images[..., :3][images[..., 3] == 0].any(), "RGB is 0 where alpha is 0"
    source = ROOT.parent / "shared" / "data" / "cryptopunks.npz"
    if source.exists():  # regenerable: the first 500 of the full set, bit for bit
        with np.load(source) as full:
            assert np.array_equal(full["images"][:500], images)


def test_camera_photo_matches_recorded_hash():
    spec = importlib.util.spec_from_file_location("make_camera", DATA / "make_camera.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    data = (DATA / "camera.png").read_bytes()
    assert hashlib.sha256(data).hexdigest() == script.SHA256


# --------------------------------------------------------------------------- compress


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_compress_shapes_dtypes_and_storage(dtype, rng):
    image = rng.random((30, 40))
    image = (image * 255).astype(np.uint8) if dtype == np.uint8 else image.astype(dtype)
    result = compress(image, 5, max_iter=20, random_state=0)
    assert isinstance(result, CompressedImage)
    assert result.W.shape == (30, 5) and result.H.shape == (5, 40)
    assert result.W.dtype == (np.float64 if dtype == np.float64 else np.float32)
    out = result.reconstruct()
    assert out.shape == image.shape and out.dtype == image.dtype
    high = 255 if dtype == np.uint8 else 1
    assert out.min() >= 0 and out.max() <= high, "reconstruction clipped to the input's range"
    # (m·r + r·n)/(m·n), exactly
    assert result.storage_ratio == pytest.approx((30 * 5 + 5 * 40) / (30 * 40), rel=1e-12)
    assert result.psnr == pytest.approx(psnr(image, out), rel=1e-12)
    assert result.loss.shape == (result.n_iter + 1,)


def test_compress_rgb_is_stacked_and_rgba_keeps_alpha():
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 256, (20, 16, 4), dtype=np.uint8)
    result = compress(rgba, 4, max_iter=10, random_state=0)
    assert result.W.shape == (20, 4) and result.H.shape == (4, 3 * 16), "V = [R | G | B]"
    out = result.reconstruct()
    assert out.shape == rgba.shape and out.dtype == np.uint8
    assert np.array_equal(out[..., 3], rgba[..., 3]), "opacity restored bit for bit"
    assert result.storage_ratio == pytest.approx((20 * 4 + 4 * 48) / (20 * 48), rel=1e-12)


@pytest.mark.parametrize("shape, most", [((40, 60), 40), ((12, 5, 3), 12), ((12, 3, 4), 9), ((6, 20), 6)])
def test_compress_refuses_a_rank_above_what_the_picture_holds(shape, most):
    # min(height, colour channels x width) independent parts (opacity aside); a larger rank
    # stored more numbers than the pixels (rank 600 of 40 x 60: 60,000 for 2,400) — refused
    # before the fit, naming the most; the most itself is taken
    picture = np.random.default_rng(0).random(shape)
    with pytest.raises(ValueError, match=rf"rank={most + 1} is larger than the picture: .*at most {most} "
                                         rf"independent parts; use rank={most} or less"):
        compress(picture, most + 1, max_iter=2)
    assert compress(picture, most, max_iter=2).rank == most
    # truncated_svd follows the same rule with the same message (before 2026-12-06, polish15,
    # it took any rank and returned the full SVD above the most)
    with pytest.raises(ValueError, match=rf"rank={most + 1} is larger than the picture: .*at most {most} "
                                         rf"independent parts; use rank={most} or less"):
        truncated_svd(picture, most + 1)
    assert truncated_svd(picture, most).shape == picture.shape


def test_image_of_integer_lists_says_how_to_make_the_array():
    """A list of lists of ints is int64 to numpy, refused as an int64 array is; the fix
    named ``image.astype(...)``, which a list does not have (before 2026-12-06, polish15)."""
    pixels = [[0, 128, 255], [255, 0, 64]]
    for call in (lambda: compress(pixels, 1), lambda: truncated_svd(pixels, 1)):
        with pytest.raises(TypeError, match=r"^image has dtype int64; pass uint8 \(0\.\.255\) or float in \[0, 1\] "
                                            r"\(e\.g\. np\.asarray\(image, dtype=np\.float32\) / 255 "):
            call()
    with pytest.raises(TypeError, match=r"e\.g\. images\.astype\(np\.float32\) / 255"):  # an array: its method
        factorize_images(np.array([pixels, pixels]), 1)
    # what the message says works
    assert compress(np.asarray(pixels, dtype=np.float32) / 255, 1, max_iter=2).rank == 1


def test_compress_recovers_a_planted_low_rank_image(planted):
    image = planted_image(planted, (40, 48), 3, 2)
    result = compress(image, 3, max_iter=400, tol=0, random_state=0)
    # Exactly rank 3 and non-negative: the fit is near exact (tolerance: 40 dB PSNR).
    assert result.psnr > 40, f"PSNR {result.psnr:.1f} dB on an exact rank-3 image"


def test_compress_is_close_to_truncated_svd_on_a_photo():
    from PIL import Image

    with Image.open(DATA / "camera.png") as photo:
        crop = np.asarray(photo)[160:288, 192:320]  # 128 x 128, the man's head and camera
    result = compress(crop, 10, max_iter=300, random_state=0)
    svd = psnr(crop, truncated_svd(crop, 10))
    # Truncated SVD is the rank-10 optimum; NMF must come within 1.5 dB of it on this crop
    # (the floor is 1 dB at rank 20 on the whole photo, see benchmarks/image.py).
    assert svd - 1.5 <= result.psnr <= svd + 1e-9, f"NMF {result.psnr:.2f} dB vs SVD {svd:.2f} dB"


def test_compress_same_seed_same_result():
    image = np.random.default_rng(3).random((20, 20))
    a = compress(image, 4, max_iter=15, random_state=7)
    b = compress(image, 4, max_iter=15, random_state=7)
    assert np.array_equal(a.W, b.W) and np.array_equal(a.H, b.H)


def test_truncated_svd_full_rank_is_the_image():
    image = np.random.default_rng(4).integers(0, 256, (12, 9), dtype=np.uint8)
    assert np.array_equal(truncated_svd(image, 9), image), "full-rank SVD after rounding"


# --------------------------------------------------------------------------- stacks


def test_to_matrix_punks_is_1728_by_n(punks):
    A = to_matrix(punks)
    assert A.shape == (24 * 24 * 3, len(punks)) and A.dtype == np.float32
    # column j is punk j's RGB, flattened (h, w, c) in C order, scaled to [0, 1]
    assert np.array_equal(A[:, 5], punks[5, ..., :3].reshape(-1).astype(np.float32) / 255)


@pytest.mark.parametrize("channels", [None, 3, 4])
def test_factorize_images_shapes(channels):
    shape = (15, 6, 5) if channels is None else (15, 6, 5, channels)
    images = np.random.default_rng(5).random(shape).astype(np.float32)
    fit = factorize_images(images, 4, max_iter=10, random_state=0)
    assert isinstance(fit, ImageFactorization)
    c = 1 if channels is None else 3
    assert fit.W.shape == (6 * 5 * c, 4) and fit.codes.shape == (4, 15)
    assert fit.basis.shape == ((4, 6, 5) if channels is None else (4, 6, 5, 3))
    out = fit.reconstruct()
    assert out.shape == images.shape and out.dtype == np.float32


def test_factorize_images_rgba_opacity_bit_exact(punks):
    fit = factorize_images(punks, 8, max_iter=20, random_state=0)
    out = fit.reconstruct()
    assert out.dtype == np.uint8 and out.shape == punks.shape
    assert np.array_equal(out[..., 3], punks[..., 3]), "uint8 opacity restored bit for bit"
    # float opacity with values that do not survive a round trip through 255 steps
    rgba = punks.astype(np.float32) / 255
    rgba[..., 3] = np.random.default_rng(6).random(rgba.shape[:3]).astype(np.float32)
    out = factorize_images(rgba, 8, max_iter=5, random_state=0).reconstruct()
    assert out.dtype == np.float32
    assert out[..., 3].tobytes() == rgba[..., 3].tobytes(), "float opacity bit for bit"


def test_factorize_images_planted_rank_has_small_error(planted):
    images = planted_stack(planted, 60, (8, 8, 3), 4, 7)
    fit = factorize_images(images, 4, max_iter=500, tol=0, random_state=0)
    # exact rank-4 non-negative data: relative error below 1e-3
    assert fit.relative_error < 1e-3, f"relative error {fit.relative_error:.2e}"
    direct = np.linalg.norm(to_matrix(images) - fit.W @ fit.H) / np.linalg.norm(to_matrix(images))
    assert fit.relative_error == pytest.approx(direct, rel=1e-4)


# --------------------------------------------------------------------------- noise


def test_add_noise_model(punks):
    clean = punks.astype(np.float32) / 255
    noisy = add_noise(clean, 0.1, random_state=0)
    assert noisy.shape == clean.shape and noisy.dtype == np.float32
    assert noisy[..., 3].tobytes() == clean[..., 3].tobytes(), "opacity untouched"
    colour, noisy_colour = clean[..., :3], noisy[..., :3]
    zero = colour == 0
    assert not noisy_colour[zero].any(), "zero colour values get no noise"
    assert noisy_colour.min() >= 0 and noisy_colour.max() <= 1, "clipped to [0, 1]"
    inside = (colour > 0) & (colour < 1)
    assert (noisy_colour[inside] != colour[inside]).all(), "every value in (0, 1) is perturbed"
    # a value of exactly 1 stays 1 when its noise is positive (clipped): about half of them
    white_changed = (noisy_colour[colour == 1] != 1).mean()
    assert 0.4 < white_changed < 0.6, f"{white_changed:.2f} of the 1.0 values moved"
    same = add_noise(clean, 0.1, random_state=0)
    assert np.array_equal(same, noisy), "same seed, same noise"
    assert np.array_equal(add_noise(clean, 0.0, random_state=0), clean), "sigma=0 changes nothing"


def test_add_noise_standard_deviation():
    images = np.full((50, 40, 40, 4), 0.5, dtype=np.float64)
    noisy = add_noise(images, 0.1, random_state=1)
    residual = (noisy[..., :3] - 0.5).ravel()  # 0.5 ± 5σ: clipping never triggers
    # 240 000 draws: the sample std is within 1 % of sigma (its standard error is ~0.15 %)
    assert residual.std() == pytest.approx(0.1, rel=0.01)
    assert abs(residual.mean()) < 0.001


def test_add_noise_keeps_uint8():
    images = np.full((4, 5, 5, 4), 128, dtype=np.uint8)
    images[0] = 0
    noisy = add_noise(images, 0.1, random_state=2)
    assert noisy.dtype == np.uint8
    assert np.array_equal(noisy[..., 3], images[..., 3]) and not noisy[0].any()


# --------------------------------------------------------------------------- denoising


def test_denoise_sweep_low_rank_beats_noise_and_high_rank_overfits(planted):
    clean = planted_stack(planted, 120, (8, 8), 3, 8)
    noisy = add_noise(clean, 0.1, random_state=3)
    sweep = denoise_sweep(noisy, [3, 32], clean=clean, max_iter=150, random_state=0)
    assert list(sweep.ranks) == [3, 32] and len(sweep.fits) == 2
    direct = np.linalg.norm(to_matrix(noisy) - to_matrix(clean)) / np.linalg.norm(to_matrix(clean))
    assert sweep.noisy_error == pytest.approx(direct, rel=1e-6)
    # rank 3 (the truth) removes most of the noise; rank 32 fits much of it again
    assert sweep.errors[0] < 0.6 * sweep.noisy_error, (sweep.errors, sweep.noisy_error)
    assert sweep.errors[1] > sweep.errors[0]
    assert sweep.best_rank == 3 and sweep.best_error == sweep.errors.min()


def test_denoise_sweep_without_clean_reports_fit_error_and_progress(planted):
    images = planted_stack(planted, 30, (6, 6), 5, 9)
    seen = []
    sweep = denoise_sweep(images, [1, 2, 5], max_iter=200, random_state=0,
                          on_rank=lambda rank, error: seen.append((rank, error)))
    assert sweep.noisy_error is None
    assert [r for r, _ in seen] == [1, 2, 5]
    assert np.allclose([e for _, e in seen], sweep.errors)
    for fit, error in zip(sweep.fits, sweep.errors):
        assert error == fit.relative_error
    # more components never fit worse (tolerance 1e-6 for the iterative solver)
    assert np.all(np.diff(sweep.errors) <= 1e-6), sweep.errors


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad, match", [
    (np.zeros(10), "shape"),
    (np.zeros((2, 3, 4, 5, 3)), "shape"),
    (np.zeros((4, 4, 5)), "shape"),  # 2 channels is gray + opacity (LA), 5 is nothing
    (np.full((4, 4), 1.5), r"\[0, 1\]"),
    (np.full((4, 4), -0.1), r"\[0, 1\]"),
    (np.full((4, 4), np.nan), "NaN"),
    (np.zeros((0, 4)), "at least one pixel"),
], ids=["1-D", "5-D", "5 channels", "above 1", "below 0", "nan", "empty"])
def test_compress_bad_image_values(bad, match):
    with pytest.raises(ValueError, match=match):
        compress(bad, 2)


def test_bad_dtypes_and_arguments():
    with pytest.raises(TypeError, match="dtype int64"):
        compress(np.zeros((4, 4), dtype=np.int64), 2)
    with pytest.raises(TypeError, match="image"):
        compress("photo.png", 2)
    with pytest.raises(ValueError, match="rank=0"):
        compress(np.zeros((4, 4)), 0)
    with pytest.raises(ValueError, match="n_components=2.5"):
        factorize_images(np.zeros((3, 4, 4)), 2.5)
    with pytest.raises(ValueError, match=r"images has shape \(4, 4\)"):
        factorize_images(np.zeros((4, 4)), 2)
    with pytest.raises(ValueError, match="divide by 255"):
        factorize_images(np.full((3, 4, 4), 200.0), 2)
    with pytest.raises(ValueError, match="NaN"):
        add_noise(np.full((2, 3, 3), np.nan), 0.1)
    with pytest.raises(ValueError, match="sigma=-0.1"):
        add_noise(np.zeros((2, 3, 3)), -0.1)
    with pytest.raises(ValueError, match="ranks"):
        denoise_sweep(np.zeros((2, 3, 3)), [])
    with pytest.raises(ValueError, match="clean has shape"):
        denoise_sweep(np.zeros((2, 3, 3)), [1], clean=np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match="same shape"):
        psnr(np.zeros((2, 2)), np.zeros((3, 3)))


def test_a_stack_refuses_more_basis_images_than_it_holds_as_compress_and_the_cli_do():
    """factorize_images(20 pictures, 100) fitted 100 basis images to 20 pictures, and
    denoise_sweep took any rank, where compress and `nmfaudio image sweep --ranks` refuse
    a rank above what the pictures hold (before 2026-12-06, tour18).  Refused before any
    fit, naming the stack and the most."""
    rng = np.random.default_rng(0)
    stack = (rng.random((3, 4, 5, 4)) * 255).astype(np.uint8)  # 3 RGBA pictures: a 60 x 3 matrix
    said = r"is larger than the stack: 3 pictures of 5 x 4 pixels \(a 60 x 3 matrix\) have at most 3 independent parts"
    with pytest.raises(ValueError, match=rf"^n_components=4 {said}; use n_components=3 or less$"):
        factorize_images(stack, 4)
    with pytest.raises(ValueError, match=rf"^ranks=5 {said}; use ranks=3 or less$"):
        denoise_sweep(stack, [2, 5])
    assert factorize_images(stack, 3, max_iter=5, random_state=0).n_components == 3
    one = np.zeros((1, 2, 2))  # one gray picture: a 4 x 1 matrix
    with pytest.raises(ValueError, match=r"^n_components=2 is larger than the stack: 1 picture of 2 x 2 pixels .* has at most 1"):
        factorize_images(one, 2)


def test_gray_stack_four_pixels_wide_is_not_rgba():
    images = np.random.default_rng(10).random((5, 6, 4))
    from nmfaudio.adapters.image import StackShapeWarning

    with pytest.warns(StackShapeWarning):  # it might be one 6 x 4 RGBA picture: said, not refused
        assert to_matrix(images).shape == (24, 5), "(N, h, 4) is a gray stack, not RGBA"


# --------------------------------------------------------------------------- plots


def test_plots_return_figures(punks):
    from matplotlib.figure import Figure

    from nmfaudio.plot import image as plot

    fit = factorize_images(punks[:12], 4, max_iter=5, random_state=0)
    figures = [
        plot.image_grid(punks[:6], titles=[str(i) for i in range(6)], title="punks"),
        plot.basis_grid(fit),
        plot.image_grid(np.random.default_rng(0).random((3, 5, 5))),
        plot.error_vs_rank([16, 32], {"fit": [0.2, 0.1], "clean": [0.15, 0.17]}, reference=0.16),
        plot.loss_curves({"r=4": fit.loss}),
        plot.storage_vs_rank((512, 512), [5, 10, 20]),
    ]
    for fig in figures:
        assert isinstance(fig, Figure)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="one value per rank"):
        plot.error_vs_rank([1, 2, 3], [0.1, 0.2])
    with pytest.raises(ValueError, match="one per image"):
        plot.image_grid(punks[:3], titles=["a"])


# --------------------------------------------------------------------------- command line


def test_cli_compress_writes_and_never_overwrites(tmp_path, cli, planted):
    from PIL import Image

    photo = tmp_path / "photo.png"
    pixels = (planted_image(planted, (32, 24), 2, 11) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(photo)
    out = tmp_path / "out.png"
    code, stdout, _ = cli(["image", "compress", str(photo), "-r", "2", "-o", str(out),
                               "--svd", "--max-iter", "100"])
    assert code == 0 and "PSNR" in stdout and "truncated SVD" in stdout
    written = np.asarray(Image.open(out))
    assert written.shape == pixels.shape and written.dtype == np.uint8
    before = out.read_bytes()
    code, _, stderr = cli(["image", "compress", str(photo), "-r", "3", "-o", str(out)])
    assert code == 1 and "--force" in stderr and out.read_bytes() == before
    code, _, _ = cli(["image", "compress", str(photo), "-r", "3", "-o", str(out), "--force",
                          "--max-iter", "5"])
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png", "photo.png"], "no temporaries left"


@pytest.mark.parametrize("plot", [False, True], ids=["picture", "with --plot"])
def test_cli_compress_on_a_full_disk_says_what_the_outputs_need(plot, tmp_path, cli, one_line_error, monkeypatch):
    """A full disk while the picture was written said "the device holding '.' is full"
    alone, where the audio writers say how much the outputs need (mend60): 32 x 24 RGB
    bytes, four bytes a row and a header, about 6 KB; with --plot the drums' figure allowance
    (16 MiB) more.  Nothing is left behind."""
    import errno

    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(0).random((24, 32, 3)) * 255).astype(np.uint8)).save(photo)
    saved = Image.Image.save

    def full_disk(picture, target, *args, **kwargs):  # in memory (the format probe) it fits
        if isinstance(target, io.BytesIO):
            return saved(picture, target, *args, **kwargs)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Image.Image, "save", full_disk)
    extra = ["--plot", str(tmp_path / "fig.png")] if plot else []
    code, _, err = cli(["image", "compress", str(photo), "-r", "2", "-o", str(tmp_path / "out.png"),
                        *extra])
    need = "16.8 MB" if plot else "6 KB"  # 24 x 32 x 3 + 4 x 24 + 4096 = 6496 bytes (+ 16 MiB)
    assert code == 1
    one_line_error(err, f"No space left on device: the device holding {str(tmp_path)!r}",
                   f"(the outputs need about {need}); free some space or choose another folder")
    assert os.listdir(tmp_path) == ["photo.png"]
    from nmfaudio import batch, cli

    assert cli.FIGURE_BYTES == batch.FIGURE_BYTES  # the parser's copy of the allowance


def test_cli_compress_bad_input_is_one_line(tmp_path, cli):
    code, _, stderr = cli(["image", "compress", str(tmp_path / "missing.png"), "-r", "2",
                               "-o", str(tmp_path / "o.png")])
    assert code == 1 and stderr.count("\n") == 1 and "does not exist" in stderr
    text = tmp_path / "not_a_picture.png"
    text.write_text("hello")
    code, _, stderr = cli(["image", "compress", str(text), "-r", "2", "-o",
                               str(tmp_path / "o.png")])
    assert code == 1 and "Pillow" in stderr
    assert not (tmp_path / "o.png").exists()


def test_cli_compress_output_without_a_suffix_is_told_it_names_a_file(tmp_path, cli, one_line_error):
    """`-o out` or `-o out/` (a folder, as drums and separate take) said `cannot tell the
    picture format of 'out'; use a suffix like .png` (tour14); now that -o is the picture
    file, with a file name beside it and one inside it.  Nothing is written; a suffix
    Pillow does not know keeps its message."""
    from PIL import Image

    photo = tmp_path / "cam.png"
    Image.fromarray((np.random.default_rng(0).random((12, 10)) * 255).astype(np.uint8)).save(photo)
    out = tmp_path / "out"
    for given in (str(out), str(out) + "/"):
        code, _, stderr = cli(["image", "compress", str(photo), "-r", "2", "-o", given])
        line = one_line_error(stderr, f"-o {str(out)!r} has no suffix to tell the picture format from; -o is the "
                                      f"picture file to write, not a folder: e.g. -o {str(out) + '.png'!r}, or "
                                      f"-o {str(out / 'cam_r2.png')!r} inside a folder")
        assert code == 1 and line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cam.png"]
    code, _, stderr = cli(["image", "compress", str(photo), "-r", "2", "-o", str(tmp_path / "c.txt")])
    assert code == 1 and "cannot tell the picture format of" in one_line_error(stderr)


def test_cli_compress_output_that_is_an_existing_folder_is_told_it_names_a_file(tmp_path, cli, one_line_error):
    """`-o out/` where out exists (separate's or drums' -o made it) said `'out' is a folder
    where an output file must go; move it or choose another path` — as if to move the
    user's folder (before 2026-12-06, tour18); now the no-suffix line with a file name
    inside it, and the folder is left alone."""
    from PIL import Image

    photo = tmp_path / "cam.png"
    Image.fromarray((np.random.default_rng(0).random((12, 10)) * 255).astype(np.uint8)).save(photo)
    out = tmp_path / "out"
    out.mkdir()
    for given in (str(out), str(out) + "/"):
        code, _, stderr = cli(["image", "compress", str(photo), "-r", "2", "-o", given, "--force"])
        assert code == 1
        one_line_error(stderr, f"-o {str(out)!r} has no suffix to tell the picture format from",
                       f"-o {str(out / 'cam_r2.png')!r} inside a folder")
    assert out.is_dir() and not any(out.iterdir())


def test_cli_compress_refuses_a_format_that_cannot_store_the_picture(tmp_path, monkeypatch, cli, one_line_error):
    """An RGBA photo to -o .jpg (JPEG holds no opacity) is refused before the fit, naming
    the format and the fix (it failed after the fit with Pillow's 'cannot write mode RGBA
    as JPEG'); the same photo as gray is stored in a JPEG."""
    from PIL import Image

    import nmfaudio.adapters.image

    photo = tmp_path / "rgba.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((12, 10, 4)) * 255).astype(np.uint8), "RGBA").save(photo)
    real = nmfaudio.adapters.image.compress

    def must_not_fit(*args, **kwargs):
        raise AssertionError("the fit ran")

    monkeypatch.setattr(nmfaudio.adapters.image, "compress", must_not_fit)
    code, _, stderr = cli(["image", "compress", str(photo), "-r", "2", "-o", str(tmp_path / "o.jpg")])
    assert code == 1
    one_line_error(stderr, "JPEG cannot store this RGBA", "use a .png output")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rgba.png"]
    monkeypatch.setattr(nmfaudio.adapters.image, "compress", real)
    code, _, _ = cli(["image", "compress", str(photo), "-r", "2", "-o", str(tmp_path / "o.jpg"), "--gray"])
    assert code == 0 and Image.open(tmp_path / "o.jpg").mode == "L"


def test_cli_one_path_for_two_outputs_is_refused_before_the_fit(tmp_path, cli, one_line_error, monkeypatch):
    """-o x.png --plot ./x.png: refused before the fit (it used to fail after it, in the write)."""
    from PIL import Image

    import nmfaudio.adapters.image

    photo = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(0).random((12, 10)) * 255).astype(np.uint8)).save(photo)

    def must_not_fit(*args, **kwargs):
        raise AssertionError("the fit ran")

    monkeypatch.setattr(nmfaudio.adapters.image, "compress", must_not_fit)
    monkeypatch.chdir(tmp_path)
    code, _, stderr = cli(["image", "compress", "photo.png", "-r", "2", "-o", "x.png", "--plot", "./x.png"])
    assert code == 1
    one_line_error(stderr, "'x.png' is given for two outputs")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def _photo_and_stack_with_no_fit(tmp_path, monkeypatch):
    """A 12x10 gray photo and a (4, 6, 5) float stack in ``tmp_path``, with the image fits
    made to fail the test if they run (for refusals that must come before the fit)."""
    from PIL import Image

    import nmfaudio.adapters.image

    def must_not_fit(*args, **kwargs):
        raise AssertionError("the fit ran")

    monkeypatch.setattr(nmfaudio.adapters.image, "compress", must_not_fit)
    monkeypatch.setattr(nmfaudio.adapters.image, "denoise_sweep", must_not_fit)
    photo = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(0).random((12, 10)) * 255).astype(np.uint8)).save(photo)
    stack = tmp_path / "stack.npz"
    np.savez(stack, images=np.random.default_rng(1).random((4, 6, 5)))
    return photo, stack


@pytest.mark.parametrize("command", ["compress -o", "compress --plot", "sweep -o"])
def test_cli_output_in_a_missing_folder_is_refused_before_the_fit(command, tmp_path, cli, one_line_error,
                                                                  monkeypatch):
    """An output in a folder that does not exist used to fail after the fit (sweep: after
    every rank); now refused first, naming the option."""
    photo, stack = _photo_and_stack_with_no_fit(tmp_path, monkeypatch)
    missing = tmp_path / "nowhere" / "x.png"
    argv = {"compress -o": ["image", "compress", photo, "-r", "2", "-o", missing],
            "compress --plot": ["image", "compress", photo, "-r", "2", "-o", tmp_path / "o.png", "--plot", missing],
            "sweep -o": ["image", "sweep", stack, "--ranks", "1", "-o", missing]}[command]
    code, _, stderr = cli(argv)
    assert code == 1
    one_line_error(stderr, f"{command.split()[-1]} '{missing}'", "does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png", "stack.npz"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc (no new files there, even as root)")
@pytest.mark.parametrize("command", ["compress -o", "compress --plot", "sweep -o"])
def test_cli_output_in_a_folder_that_cannot_be_written_is_refused_before_the_fit(command, tmp_path, cli,
                                                                                 one_line_error, monkeypatch):
    """A folder that exists but takes no new file (read-only, another user's; /proc/self
    even for root) failed after the fit — sweep: after every rank, its table printed —
    naming a hidden temporary file: "Read-only file system: 'ro/.x.png.1234-...part'"
    (tour16).  Now refused first by a real test write, as drums' -o and --onsets are."""
    photo, stack = _photo_and_stack_with_no_fit(tmp_path, monkeypatch)
    closed = Path("/proc/self/x.png")
    argv = {"compress -o": ["image", "compress", photo, "-r", "2", "-o", closed],
            "compress --plot": ["image", "compress", photo, "-r", "2", "-o", tmp_path / "o.png", "--plot", closed],
            "sweep -o": ["image", "sweep", stack, "--ranks", "1", "-o", closed]}[command]
    code, stdout, stderr = cli(argv)
    assert code == 1 and stdout == ""
    one_line_error(stderr, f"cannot write in the {command.split()[-1]} folder '/proc/self' (No such file or "
                           "directory); give a folder you can write to")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png", "stack.npz"]


@pytest.mark.parametrize("inside", ["x.png", "deeper/x.png"])
def test_cli_output_inside_a_file_names_the_file(inside, tmp_path, cli, one_line_error):
    """-o notes/x.png where 'notes' is a file: the error names the file, not a folder
    "that does not exist; create it first" (before 2026-12-05, tour11), which mkdir then
    refuses; before the fit, nothing written, the file untouched."""
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(0).random((12, 10)) * 255).astype(np.uint8)).save(photo)
    (tmp_path / "notes").write_text("keep")
    code, _, stderr = cli(["image", "compress", photo, "-r", "2", "-o", tmp_path / "notes" / inside])
    assert code == 1
    one_line_error(stderr, f"'{tmp_path / 'notes'}' is a file, not a folder; give a path in a folder")
    assert "does not exist" not in stderr
    assert (tmp_path / "notes").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "photo.png"]


def test_cli_figures_must_be_png(tmp_path, cli, one_line_error):
    """The figures are PNG: a .jpg name is refused before any work (PNG bytes used to be
    written under it)."""
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(0).random((12, 10)) * 255).astype(np.uint8)).save(photo)
    code, _, stderr = cli(["image", "compress", str(photo), "-r", "2", "-o", str(tmp_path / "o.png"),
                           "--plot", str(tmp_path / "fig.jpg")])
    assert code == 1
    one_line_error(stderr, "--plot", "fig.jpg", "must end in .png")
    stack = tmp_path / "stack.npz"
    np.savez(stack, images=np.random.default_rng(1).random((4, 6, 5)))
    code, _, stderr = cli(["image", "sweep", str(stack), "--ranks", "1", "-o", str(tmp_path / "curve.jpg")])
    assert code == 1
    one_line_error(stderr, "-o", "curve.jpg", "must end in .png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png", "stack.npz"]


@pytest.mark.parametrize("command, option, value", [
    ("compress", "--tol", "nan"), ("compress", "--tol", "-1"), ("compress", "--tol", "inf"),
    ("sweep", "--tol", "nan"), ("sweep", "--sigma", "nan"), ("sweep", "--sigma", "-0.1"),
    ("sweep", "--sigma", "inf"),
    # the whole numbers: usage errors too (exit 1 after reading the picture, or argparse's "invalid int value")
    ("compress", "--rank", "0"), ("compress", "--max-iter", "-1"), ("sweep", "--n", "0"), ("sweep", "--max-iter", "1.5"),
])
def test_cli_refuses_nan_inf_and_negative_numbers(command, option, value, tmp_path, cli, one_line_error):
    """--tol nan used to run (a NaN tolerance never stops the fit, a negative one neither);
    now a one-line usage error (exit 2) names the option and the range, before any work,
    as for the whole-number options (the shared converters of nmfaudio.cli._args)."""
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(0).random((12, 10)) * 255).astype(np.uint8)).save(photo)
    stack = tmp_path / "stack.npz"
    np.savez(stack, images=np.random.default_rng(1).random((4, 6, 5)))
    argv = (["image", "compress", photo, "-r", "2", "-o", tmp_path / "o.png"] if command == "compress"
            else ["image", "sweep", stack, "--ranks", "1", "-o", tmp_path / "o.png"])
    code, _, stderr = cli([*argv, option, value])
    assert code == 2
    one_line_error(stderr, f"{option}: '{value}'", ">= 1" if option in ("--rank", "--n") else ">= 0",
                   prefix=f"nmfaudio image {command}: error:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png", "stack.npz"]


def test_cli_minus_zero_is_zero(tmp_path, cli):
    """--sigma -0 --tol -0 are 0 (argparse takes '-0' as a value): the JSON said -0.0."""
    stack = tmp_path / "stack.npz"
    np.savez(stack, images=np.random.default_rng(1).random((4, 6, 5)))
    code, stdout, _ = cli(["image", "sweep", stack, "--ranks", "1", "--sigma", "-0", "--tol", "-0", "--max-iter",
                           "3", "--json"])
    # the JSON's numbers, not its whole text: pytest's temporary folder can be "pytest-0"
    assert code == 0 and not re.search(r":\s*-0", stdout)
    record = json.loads(stdout)
    assert record["sigma"] == 0 and record["tol"] == 0 and record["noisy_error"] is None
    assert math.copysign(1, record["sigma"]) == 1 and math.copysign(1, record["tol"]) == 1


def test_cli_sweep_rank_above_one_picture_counts_in_the_singular(tmp_path, cli, one_line_error):
    """--n 1 --ranks 2 read "1 pictures ... have at most 1 independent parts"."""
    stack = tmp_path / "stack.npz"
    np.savez(stack, images=np.random.default_rng(1).random((4, 6, 5)))
    code, _, stderr = cli(["image", "sweep", stack, "--n", "1", "--ranks", "2"])
    assert code == 1
    one_line_error(stderr, "--ranks 2: 1 picture of 5 x 6 pixels has at most 1 independent part; use ranks up to 1")


def test_cli_sweep_says_when_n_asks_for_more_images_than_the_stack_holds(tmp_path, cli):
    """--n 100 on a stack of 4 used the 4 without a word (before 2026-12-06, polish15): one
    note names the count; --n within the stack, no note."""
    stack = tmp_path / "stack.npz"
    np.savez(stack, images=np.random.default_rng(1).random((4, 6, 5)))
    code, stdout, stderr = cli(["image", "sweep", stack, "--n", "100", "--ranks", "1", "--max-iter", "3", "--json"])
    assert code == 0 and json.loads(stdout)["n_images"] == 4
    notes = [line for line in stderr.splitlines() if "--n" in line]
    assert notes == [f"nmfaudio: note: --n 100: {stack} holds 4 images; using all 4"]
    code, _, stderr = cli(["image", "sweep", stack, "--n", "4", "--ranks", "1", "--max-iter", "3"])
    assert code == 0 and "--n" not in stderr


def test_cli_sweep_refuses_a_rank_given_twice(tmp_path, cli, one_line_error):
    """--ranks 2,2,1 used to fit rank 2 twice and print two rows for it."""
    stack = tmp_path / "stack.npz"
    np.savez(stack, images=np.random.default_rng(1).random((4, 6, 5)))
    code, stdout, stderr = cli(["image", "sweep", stack, "--ranks", "2,2,1"])
    assert code == 2 and stdout == ""
    one_line_error(stderr, "argument --ranks: '2,2,1' names rank 2 twice", prefix="nmfaudio image sweep: error:")


def test_denoise_sweep_refuses_a_rank_given_twice_as_the_command_line():
    """denoise_sweep(stack, [2, 2, 1]) fitted rank 2 twice and returned two rows for it,
    where --ranks 2,2,1 is refused (before 2026-12-06, polish17); refused before any fit."""
    stack = np.random.default_rng(1).random((4, 6, 5))
    with pytest.raises(ValueError, match=r"^ranks=\[2, 2, 1\] names rank 2 twice; give each rank once$"):
        denoise_sweep(stack, [2, 2, 1], max_iter=3)
    assert list(denoise_sweep(stack, [2, 1], max_iter=3, tol=0).ranks) == [2, 1]


def test_one_rgba_picture_given_as_a_stack_is_warned_naming_the_fix(tmp_path, cli):
    """factorize_images(picture) of one RGBA picture (24, 24, 4) fitted 24 gray pictures of
    24 x 4 pixels without a word (before 2026-12-06, polish17).  A 3-D stack is (N, h, w)
    — thin gray pictures stay possible — so every stack function warns, naming the stack of
    one to pass; the command line says it as a note."""
    from nmfaudio.adapters.image import StackShapeWarning

    picture = np.random.default_rng(0).integers(0, 256, (24, 24, 4), dtype=np.uint8)
    said = (r"^images: shape \(24, 24, 4\) is read as 24 gray pictures of 24 x 4 pixels \(a stack is \(N, h, w\) "
            r"or \(N, h, w, c\)\); if it is one RGBA picture, pass a stack of one: images\[None\] or \[picture\]$")
    for call in (lambda: factorize_images(picture, 2, max_iter=2), lambda: to_matrix(picture),
                 lambda: add_noise(picture, 0.1), lambda: denoise_sweep(picture, [1], max_iter=2)):
        with pytest.warns(StackShapeWarning, match=said.replace("images", "(images|noisy)")):
            call()
    with warnings.catch_warnings():
        warnings.simplefilter("error", StackShapeWarning)
        assert factorize_images(picture[None], 1, max_iter=2).basis.shape == (1, 24, 24, 3)
        assert factorize_images([picture], 1, max_iter=2).codes.shape == (1, 1)
        to_matrix(picture[:3]), to_matrix(picture[:, :4])  # 3 pictures; 24 x 4 x 4: not a picture's shape
    stack = tmp_path / "one.npz"
    np.savez(stack, images=picture)
    code, _, stderr = cli(["image", "sweep", stack, "--ranks", "1", "--max-iter", "2"])
    assert code == 0 and "Warning" not in stderr, stderr
    assert (f"nmfaudio: note: {stack}: the images' shape (24, 24, 4) is read as 24 gray pictures of 24 x 4 "
            "pixels (a stack is (N, h, w) or (N, h, w, c)); if it is one RGBA picture, save it as images[None] "
            "(shape (1, 24, 24, 4))") in stderr


def test_cli_sweep_json_and_plot(tmp_path, cli, planted):
    stack = tmp_path / "stack.npz"
    np.savez(stack, images=(planted_stack(planted, 20, (6, 6, 3), 2, 12) * 255).astype(np.uint8))
    plot = tmp_path / "sweep.png"
    code, stdout, _ = cli(["image", "sweep", str(stack), "--ranks", "1,2", "--sigma", "0.1",
                               "--max-iter", "50", "--json", "-o", str(plot)])
    assert code == 0
    report = json.loads(stdout)
    assert [row["rank"] for row in report["rows"]] == [1, 2]
    assert report["best_rank"] in (1, 2) and report["noisy_error"] > 0
    assert plot.read_bytes()[:4] == b"\x89PNG"
    code, _, stderr = cli(["image", "sweep", str(tmp_path / "stack.npz"), "--ranks", "1",
                               "-o", str(plot)])
    assert code == 1 and "exists" in stderr
    code, _, stderr = cli(["image", "sweep", str(DATA / "camera.png"), "--ranks", "1"])
    assert code == 1 and "not an .npz" in stderr and stderr.count("\n") == 1


def test_cli_sweep_json_names_the_figure_it_wrote(tmp_path, cli, planted):
    """--json names the -o figure (null without -o), as compress's record names its files;
    before 2026-12-05 (tour11) the sweep's record did not say where the figure went."""
    stack = tmp_path / "stack.npz"
    np.savez(stack, images=(planted_stack(planted, 20, (6, 6, 3), 2, 12) * 255).astype(np.uint8))
    plot = tmp_path / "sweep.png"
    for output in (plot, None):
        code, stdout, _ = cli(["image", "sweep", str(stack), "--ranks", "1", "--max-iter", "20", "--json",
                               *(["-o", str(output)] if output else [])])
        assert code == 0
        assert json.loads(stdout)["output"] == (None if output is None else str(plot))
    assert plot.read_bytes()[:4] == b"\x89PNG" and sorted(p.name for p in tmp_path.iterdir()) == ["stack.npz",
                                                                                                 "sweep.png"]


def test_cli_sweep_reads_a_folder_of_pictures(tmp_path, cli):
    from PIL import Image

    folder = tmp_path / "pictures"
    folder.mkdir()
    rng = np.random.default_rng(13)
    for i in range(6):  # gray and RGB mixed: stacked as RGB
        shape = (8, 8) if i % 2 else (8, 8, 3)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(folder / f"{i}.png")
    code, stdout, _ = cli(["image", "sweep", str(folder), "--ranks", "1,3", "--max-iter", "20",
                               "--json"])
    assert code == 0 and json.loads(stdout)["n_images"] == 6
    Image.fromarray(np.zeros((5, 5), dtype=np.uint8)).save(folder / "odd.png")
    code, _, stderr = cli(["image", "sweep", str(folder), "--ranks", "1"])
    assert code == 1 and "different sizes" in stderr


def test_cli_sweep_names_a_picture_that_is_a_broken_link(tmp_path, cli, one_line_error):
    # a link to a picture on a moved drive was left out of the stack without a word (review58)
    from PIL import Image

    folder = tmp_path / "pictures"
    folder.mkdir()
    rng = np.random.default_rng(13)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(folder / f"{i}.png")
    (folder / "3.png").symlink_to(tmp_path / "moved.png")
    code, _, err = cli(["image", "sweep", str(folder), "--ranks", "1", "--max-iter", "5"])
    assert code == 1
    one_line_error(err, f"{str(folder / '3.png')!r} is a link to {str(tmp_path / 'moved.png')!r}, which does not exist")


def test_a_folder_of_pictures_skips_hidden_files(tmp_path):
    # macOS leaves AppleDouble files ('._0.png', not pictures) beside the pictures on a copied
    # drive; the stack stopped on "not a picture Pillow can read" (exactly the 3 pictures read)
    from PIL import Image

    from nmfaudio.adapters.files import read_image_stack

    clean, folder = tmp_path / "clean", tmp_path / "copied"
    clean.mkdir(), folder.mkdir()
    rng = np.random.default_rng(13)
    for i in range(3):
        picture = Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8))
        picture.save(clean / f"{i}.png"), picture.save(folder / f"{i}.png")
        (folder / f"._{i}.png").write_bytes(b"\x00\x05\x16\x07" + bytes(60))
    np.testing.assert_array_equal(read_image_stack(folder), read_image_stack(clean))


def test_cli_sweep_refuses_a_figure_in_the_folder_it_sweeps(tmp_path, cli, one_line_error, monkeypatch):
    # -o pictures/curve.png was written, and the next sweep of pictures/ read the figure as
    # one of its pictures: "have different sizes [(8, 8), (432, 660)]" (review58)
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "pictures"
    folder.mkdir()
    rng = np.random.default_rng(13)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(folder / f"{i}.png")
    for output in ["pictures/curve.png", "pictures/../pictures/curve.png", str(folder / "curve.png")]:
        code, _, err = cli(["image", "sweep", "pictures", "--ranks", "1", "--max-iter", "5", "-o", output])
        assert code == 1
        one_line_error(err, f"-o {output!r} is in the folder of pictures 'pictures'", "e.g. -o 'curve.png'")
    assert sorted(p.name for p in folder.iterdir()) == ["0.png", "1.png", "2.png", "3.png"]
    code, _, _ = cli(["image", "sweep", "pictures", "--ranks", "1", "--max-iter", "5", "-o", "curve.png"])
    assert code == 0 and (tmp_path / "curve.png").is_file()


# --------------------------------------------------------------------------- defaults vs scikit-learn, warm starts


# Absolute margin on the relative error ‖A − WH‖/‖A‖.  HALS and scikit-learn's CD land in
# different local minima: on 40 punks ours is 0.008 above at d = 8 and level at d = 12.
SKLEARN_CD_MARGIN = 0.01


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # its 200 iterations
@pytest.mark.parametrize("d", [8, 12])
def test_default_fit_reaches_sklearn_cd_error(punks, d):
    from sklearn.decomposition import NMF

    A = to_matrix(punks).astype(np.float64)
    model = NMF(d, solver="cd", init="nndsvda", random_state=0)
    W = model.fit_transform(A.T)  # scikit-learn's convention: one image per row
    sklearn_error = np.linalg.norm(A.T - W @ model.components_) / np.linalg.norm(A)
    ours = factorize_images(punks, d, random_state=0)
    assert ours.converged
    assert ours.relative_error <= sklearn_error + SKLEARN_CD_MARGIN, (ours.relative_error, sklearn_error)
    # the comparison can fail: a fit stopped after 3 iterations does
    short = factorize_images(punks, d, max_iter=3, random_state=0)
    assert short.relative_error > sklearn_error + SKLEARN_CD_MARGIN


def test_fit_stops_when_the_error_has_settled(punks):
    fit = factorize_images(punks, 8, tol=1e-3, random_state=0)
    assert fit.converged and fit.n_iter < 1000 and fit.n_iter % 10 == 0
    errors = np.sqrt(2 * fit.loss) / np.linalg.norm(to_matrix(punks).astype(np.float64))
    assert errors[-11] - errors[-1] < 1e-3 <= errors[-21] - errors[-11]
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        assert not factorize_images(punks, 8, max_iter=5, random_state=0).converged


def test_warm_started_sweep_is_close_to_cold_starts(punks):
    ranks = [16, 4, 8]  # fitted in increasing order, reported in this order
    warm = denoise_sweep(punks, ranks, random_state=0)
    cold = denoise_sweep(punks, ranks, random_state=0, warm_start=False)
    assert list(warm.ranks) == ranks
    # within 0.01 of the relative error of a cold start at every rank (measured: 0.0064
    # above at d = 16, 0.008 below at d = 8)
    assert np.all(warm.errors <= cold.errors + 0.01), (warm.errors, cold.errors)
    for fit, rank in zip(warm.fits, ranks):
        assert fit.n_components == rank


def test_grow_factors_keeps_the_fit_and_adds_nonnegative_components(punks):
    from nmfaudio.adapters.image import grow_factors

    A = to_matrix(punks)
    fit = factorize_images(punks, 4, random_state=0)
    W, H = grow_factors(A, fit.W, fit.H, 3, random_state=0)
    assert W.shape == (A.shape[0], 7) and H.shape == (7, A.shape[1]) and W.dtype == A.dtype
    assert np.array_equal(W[:, :4], fit.W) and np.array_equal(H[:4], fit.H)
    assert W.min() >= 0 and H.min() >= 0 and W[:, 4:].any()
    with pytest.raises(ValueError, match="both W and H"):
        factorize_images(punks, 7, W=W)


def test_tall_stack_is_fitted_transposed_with_the_same_factors(punks):
    from nmfaudio import factorize

    A = to_matrix(punks)  # (1728, 40): more rows than columns, fitted as Aᵀ
    fit = factorize_images(punks, 6, max_iter=20, tol=0, random_state=0)
    ref = factorize(A.T, 6, solver="hals", init="nndsvda", max_iter=20, tol=0,
                    random_state=0)
    assert fit.W.shape == (A.shape[0], 6) and fit.H.shape == (6, A.shape[1])
    assert fit.W.flags.c_contiguous and fit.H.flags.c_contiguous
    np.testing.assert_allclose(fit.W, ref.H.T, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(fit.H, ref.W.T, rtol=1e-5, atol=1e-7)
    # the loss is that of the returned factors, in the input's orientation
    np.testing.assert_allclose(fit.loss[-1], 0.5 * np.sum((A.astype(np.float64) - fit.W @ fit.H) ** 2), rtol=1e-4)
    # a warm start given in the input's orientation is used as such: 0 iterations return it
    warm = factorize_images(punks, 6, W=fit.W, H=fit.H, max_iter=0, tol=0)
    np.testing.assert_array_equal(warm.W, fit.W)
    np.testing.assert_array_equal(warm.H, fit.H)


def test_small_blas_limits_threads_only_inside_and_only_for_small_problems():
    from threadpoolctl import threadpool_info, threadpool_limits

    from nmfaudio.adapters.image import SMALL_BLAS_MACS, small_blas

    def blas_threads():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    with threadpool_limits(limits=2, user_api="blas"):  # the caller's own setting
        before = blas_threads()
        with small_blas(SMALL_BLAS_MACS / 2):
            assert set(blas_threads()) == {1}
        assert blas_threads() == before  # restored on exit
        with small_blas(SMALL_BLAS_MACS * 2):
            assert blas_threads() == before  # large problems keep it


@pytest.mark.parametrize("mode, values", [("I;16", np.uint16), ("F", np.float32)])
def test_cli_compress_refuses_wide_pictures_with_gray_too(tmp_path, cli, one_line_error, mode, values):
    """A 16-bit PNG or a float TIFF with --gray is refused, naming the file, as it is without
    --gray. On main, --gray let Pillow convert it to 8 bits by clipping: a 16-bit photo came
    out white (every pixel 255 on a ramp up to 65535) with PSNR 67 dB, and no error."""
    from PIL import Image

    ramp = np.linspace(0, 1, 24 * 16, dtype=np.float32).reshape(24, 16)
    pixels = (ramp * 65535).astype(np.uint16) if values is np.uint16 else ramp
    photo = tmp_path / ("wide.png" if values is np.uint16 else "wide.tiff")
    Image.fromarray(pixels).save(photo)
    assert Image.open(photo).mode == mode
    for gray in ([], ["--gray"]):
        code, _, stderr = cli(["image", "compress", photo, "-r", "2", "-o", tmp_path / "o.png", *gray])
        assert code == 1
        one_line_error(stderr, repr(str(photo)), f"(Pillow mode {mode})", "convert it to 8 bits")
    assert not (tmp_path / "o.png").exists()


def test_read_picture_reads_a_bilevel_picture_as_gray(tmp_path):
    """A 1-bit picture (Pillow mode "1") is gray: (m, n) of 0 and 255, not three equal RGB
    channels (main read it as RGB: three times the numbers to factorize and store)."""
    from PIL import Image

    from nmfaudio.adapters.files import read_picture

    bits = np.random.default_rng(0).random((9, 7)) > 0.5
    Image.fromarray(bits).save(tmp_path / "bits.png")
    assert Image.open(tmp_path / "bits.png").mode == "1"
    pixels = read_picture(tmp_path / "bits.png")
    assert pixels.shape == (9, 7) and pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels, np.where(bits, 255, 0))


@pytest.mark.parametrize("orientation, turn", [(6, -1), (8, 1), (3, 2)])
def test_read_picture_turns_a_photo_upright_as_its_exif_says(orientation, turn, tmp_path):
    """A phone's portrait photo is stored sideways with an EXIF orientation tag; viewers
    turn it.  The reconstruction carries no EXIF, so the pixels must be read upright: main
    read them as stored, and `image compress` wrote the photo sideways (a 30x40 portrait
    came out 40x30)."""
    from PIL import Image

    from nmfaudio.adapters.files import read_picture

    stored = (np.random.default_rng(0).random((9, 7, 3)) * 255).astype(np.uint8)
    picture = Image.fromarray(stored)
    exif = picture.getexif()
    exif[0x0112] = orientation  # 6: turn 90° clockwise to view, 8: counter-clockwise, 3: 180°
    picture.save(tmp_path / "portrait.png", exif=exif)
    np.testing.assert_array_equal(read_picture(tmp_path / "portrait.png"), np.rot90(stored, turn))
    np.testing.assert_array_equal(read_picture(tmp_path / "portrait.png", gray=True),
                                  np.rot90(np.asarray(Image.fromarray(stored).convert("L")), turn))
    # a tag saying "as stored" (1) changes nothing
    exif[0x0112] = 1
    picture.save(tmp_path / "as_stored.png", exif=exif)
    np.testing.assert_array_equal(read_picture(tmp_path / "as_stored.png"), stored)


def test_image_compress_writes_a_tagged_photo_the_way_it_is_viewed(tmp_path, cli):
    from PIL import Image, ImageOps

    stored = (np.random.default_rng(1).random((12, 20)) * 255).astype(np.uint8)
    picture = Image.fromarray(stored)
    exif = picture.getexif()
    exif[0x0112] = 6
    picture.save(tmp_path / "portrait.png", exif=exif)
    code, _, stderr = cli(["image", "compress", str(tmp_path / "portrait.png"), "-r", "12", "-o",
                               str(tmp_path / "o.png")])
    assert code == 0, stderr
    viewed = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "portrait.png")))
    written = np.asarray(Image.open(tmp_path / "o.png"))
    assert written.shape == viewed.shape == (20, 12)
    # rank 12 of a 20 x 12 matrix: the reconstruction is the viewed photo, to a few grey levels
    assert np.abs(written.astype(int) - viewed.astype(int)).mean() < 3.0


def _gray_and_opacity(m=40, n=30):
    """A rank-1 gray ramp (uint8) and a random opacity of the same (m, n) shape."""
    gray = (np.outer(np.linspace(0, 1, m), np.linspace(1, 0.3, n)) * 255).astype(np.uint8)
    alpha = np.random.default_rng(0).integers(0, 256, (m, n), dtype=np.uint8)
    return gray, alpha


@pytest.mark.parametrize("kind", ["LA", "P"])
def test_image_compress_fits_gray_with_opacity_as_gray_and_writes_la(kind, tmp_path, cli):
    """A gray picture with transparency (mode LA, or a gray palette with a transparent
    entry) is one gray channel plus opacity: main read it as RGBA (three channels fitted,
    "stores 390 of 3,600 numbers", an RGBA file written).  Now: an LA file of the same size,
    opacity byte-identical, the gray channel exactly the gray picture's reconstruction, and
    the stored count the gray one's."""
    from PIL import Image

    gray, alpha = _gray_and_opacity()
    if kind == "LA":
        Image.fromarray(np.stack([gray, alpha], axis=-1)).save(tmp_path / "in.png")
    else:  # palette of grays; entry 0 transparent, the rest opaque
        picture = Image.fromarray(gray).convert("P")
        picture.info["transparency"] = 0
        picture.save(tmp_path / "in.png")
        alpha = np.where(np.asarray(picture) == 0, 0, 255).astype(np.uint8)
    assert Image.open(tmp_path / "in.png").mode == ("LA" if kind == "LA" else "P")
    Image.fromarray(gray).save(tmp_path / "gray.png")

    code, out, _ = cli(["image", "compress", tmp_path / "in.png", "-r", "2", "-o", tmp_path / "out.png"])
    assert code == 0
    code, gray_out, _ = cli(["image", "compress", tmp_path / "gray.png", "-r", "2", "-o", tmp_path / "gray_out.png"])
    assert code == 0
    written = Image.open(tmp_path / "out.png")
    assert written.mode == "LA" and written.size == (30, 40)
    pixels = np.asarray(written)
    np.testing.assert_array_equal(pixels[..., 1], alpha)  # opacity untouched, bit for bit
    np.testing.assert_array_equal(pixels[..., 0], np.asarray(Image.open(tmp_path / "gray_out.png")))
    stored = re.search(r"stores ([\d,]+) of ([\d,]+) numbers", out).groups()
    assert stored == re.search(r"stores ([\d,]+) of ([\d,]+) numbers", gray_out).groups()
    assert stored == (f"{2 * (40 + 30)}", f"{40 * 30:,}")  # rank 2: m·r + r·n of m·n
    assert "gray + opacity" in out


def test_compress_and_stacks_take_gray_with_opacity_as_gray():
    """The array API: (m, n, 2) is gray + opacity; the fit is the gray picture's (same
    factors, same count), the opacity is put back unchanged; stacks (N, h, w, 2) too."""
    gray, alpha = _gray_and_opacity()
    la = np.stack([gray, alpha], axis=-1)
    fit, gray_fit = compress(la, 2, random_state=0), compress(gray, 2, random_state=0)
    assert fit.H.shape == gray_fit.H.shape == (2, 30) and fit.n_stored == gray_fit.n_stored
    out = fit.reconstruct()
    assert out.shape == la.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 1], alpha)
    np.testing.assert_array_equal(out[..., 0], gray_fit.reconstruct())
    assert fit.psnr == gray_fit.psnr
    svd = truncated_svd(la, 2)
    assert svd.shape == la.shape and np.array_equal(svd[..., 1], alpha)

    stack = np.stack([la, la[::-1]])
    assert to_matrix(stack).shape == (40 * 30, 2)
    factors = factorize_images(stack, 2, max_iter=20, tol=0, random_state=0)
    assert factors.basis.shape == (2, 40, 30)
    np.testing.assert_array_equal(factors.reconstruct()[..., 1], stack[..., 1])


def test_a_folder_mixing_gray_and_gray_with_opacity_stacks_as_gray_with_opacity(tmp_path):
    """Gray pictures next to LA ones are promoted to LA (opaque), not to RGB or RGBA."""
    from PIL import Image

    from nmfaudio.adapters.files import read_image_stack

    gray, alpha = _gray_and_opacity(6, 5)
    Image.fromarray(gray).save(tmp_path / "a.png")
    Image.fromarray(np.stack([gray, alpha], axis=-1)).save(tmp_path / "b.png")
    stack = read_image_stack(tmp_path)
    assert stack.shape == (2, 6, 5, 2)
    np.testing.assert_array_equal(stack[..., 0], [gray, gray])
    np.testing.assert_array_equal(stack[..., 1], [np.full_like(alpha, 255), alpha])


def test_image_sweep_bounds_the_rank_of_gray_with_opacity_by_one_channel(tmp_path, cli, one_line_error):
    """Six 2 x 2 LA pictures are a 4 x 6 gray matrix: rank 5 is refused before the fit
    (main read them as RGBA, a 12 x 6 matrix, and fitted three channels)."""
    from PIL import Image

    rng = np.random.default_rng(1)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (2, 2, 2), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    code, _, stderr = cli(["image", "sweep", tmp_path, "--ranks", "1,5"])
    assert code == 1
    one_line_error(stderr, "--ranks 5", "at most 4 independent parts", "use ranks up to 4")


def _three_frames(path, fmt):
    """Write three different 20 x 16 gray frames to ``path`` as an animation / multi-page file."""
    from PIL import Image

    rng = np.random.default_rng(0)
    frames = [Image.fromarray(rng.integers(0, 256, (20, 16), dtype=np.uint8)) for _ in range(3)]
    frames[0].save(path, format=fmt, save_all=True, append_images=frames[1:])
    return np.asarray(frames[0])


@pytest.mark.parametrize("name, fmt", [("anim.gif", "GIF"), ("pages.tiff", "TIFF")])
def test_read_picture_warns_that_only_the_first_of_several_frames_is_used(name, fmt, tmp_path):
    """An animated GIF or multi-page TIFF: main read the first frame without a word."""
    from nmfaudio.adapters.files import FirstFrameWarning, read_picture

    first = _three_frames(tmp_path / name, fmt)
    with pytest.warns(FirstFrameWarning, match=r"holds 3 frames.*only the first is used.*save it as a picture"):
        pixels = read_picture(tmp_path / name)
    assert pixels.shape[:2] == (20, 16)
    np.testing.assert_array_equal(pixels if pixels.ndim == 2 else pixels[..., 0], first)
    # a still picture: no warning
    from PIL import Image

    Image.fromarray(first).save(tmp_path / "still.tiff")
    # a phone's JPEG with a second picture (preview, depth map) after the photo: Pillow's
    # MPO, two frames, but the first is the photo: no warning either
    photo = Image.fromarray(np.stack([first] * 3, axis=-1))
    photo.save(tmp_path / "phone.jpg", format="MPO", save_all=True, append_images=[photo])
    with Image.open(tmp_path / "phone.jpg") as opened:
        assert (opened.format, opened.n_frames) == ("MPO", 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_picture(tmp_path / "still.tiff")
        assert read_picture(tmp_path / "phone.jpg").shape == (20, 16, 3)


def test_image_compress_notes_the_frame_count_in_one_line(tmp_path, cli):
    _three_frames(tmp_path / "anim.gif", "GIF")
    code, out, err = cli(["image", "compress", tmp_path / "anim.gif", "-r", "2", "-o", tmp_path / "o.png"])
    assert code == 0 and (tmp_path / "o.png").exists()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nmfaudio: note: ")
    assert "'" + str(tmp_path / "anim.gif") + "' holds 3 frames" in lines[0] and "only the first" in lines[0]


def test_a_gray_palette_picture_is_read_as_gray(tmp_path):
    """A palette picture (a GIF) of grays without transparency is gray, (m, n): main read it
    as RGB, three equal channels (three times the numbers to fit and store); a palette with
    a colour stays RGB."""
    from PIL import Image

    from nmfaudio.adapters.files import read_picture

    gray, _ = _gray_and_opacity(9, 7)
    Image.fromarray(gray).convert("P").save(tmp_path / "gray.gif")
    assert Image.open(tmp_path / "gray.gif").mode == "P"
    np.testing.assert_array_equal(read_picture(tmp_path / "gray.gif"),
                                  np.asarray(Image.open(tmp_path / "gray.gif").convert("L")))
    colour = np.stack([gray, gray, 255 - gray], axis=-1)
    Image.fromarray(colour).convert("P").save(tmp_path / "colour.gif")
    assert read_picture(tmp_path / "colour.gif").shape == (9, 7, 3)


def test_pillow_pictures_whose_array_is_not_their_pixels_are_refused():
    """``compress(Image.open(...))`` takes the picture's array: right for gray and RGB(A),
    but a palette picture's array is its palette indices and a CMYK one's its inks.  Before
    2026-12-05 (tour10) those were factorized as gray levels / RGB + opacity without a word
    (the camera photo as a 64-colour GIF: "PSNR 34.4 dB" of indices).  Refused, naming the
    conversion; the pixel modes give what their array gives."""
    from PIL import Image

    rgb = Image.fromarray((np.random.default_rng(0).random((12, 10, 3)) * 255).astype(np.uint8))
    refused = {"P": ("palette indices", "convert('RGB')"), "CMYK": ("ink amounts", "convert('RGB')"),
               "1": ("booleans", "convert('L')"), "I;16": ("wider than the 8 bits", "/ 65535")}
    for mode, (contents, fix) in refused.items():
        picture = rgb.convert("L").convert(mode) if mode in ("1", "I;16") else rgb.convert(mode)
        with pytest.raises(ValueError, match=rf"^image is a Pillow picture in mode {re.escape(mode)}, .*"
                                             rf"{contents}.*{re.escape(fix)}"):
            compress(picture, 2)
        with pytest.raises(ValueError, match=re.escape(mode)):
            truncated_svd(picture, 2)
    for picture in (rgb, rgb.convert("L"), rgb.convert("RGBA")):
        from_picture = compress(picture, 2, max_iter=20, random_state=0)
        from_array = compress(np.asarray(picture), 2, max_iter=20, random_state=0)
        np.testing.assert_array_equal(from_picture.reconstruct(), from_array.reconstruct())  # exact: same input


def test_sweep_of_black_pictures_prints_strict_json(tmp_path, cli):
    """Black pictures stay black under the NTNU noise (it touches non-zero pixels only), so
    the noisy input's error against the clean one is 0/0: it was NaN, printed as ``NaN`` --
    not JSON (jq and JavaScript refuse it) -- after a numpy RuntimeWarning on stderr.  Now
    0, as the fit errors of a black stack already were; nothing on stderr."""
    stack = tmp_path / "black.npz"
    np.savez(stack, images=np.zeros((4, 6, 5), dtype=np.uint8))
    code, stdout, stderr = cli(["image", "sweep", stack, "--ranks", "1,2", "--sigma", "0.1", "--json"])

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    record = json.loads(stdout, parse_constant=refuse)
    assert code == 0 and stderr == "", stderr
    assert record["noisy_error"] == 0.0 and record["best_error"] == 0.0, record


def test_compress_of_a_black_picture_is_exact(tmp_path, cli):
    """An all-black picture (a blank scan, a lens cap on) stopped `image compress` with
    "nmfaudio: error: ARPACK error -9: Starting vector is zero." (its SVD start); now its
    reconstruction is black, exact (PSNR null in JSON, "exact" in text), with --svd too."""
    from PIL import Image

    photo = tmp_path / "black.png"
    Image.fromarray(np.zeros((64, 80), np.uint8)).save(photo)
    code, stdout, stderr = cli(["image", "compress", photo, "-r", "3", "-o", tmp_path / "r3.png", "--svd", "--json"])
    assert code == 0, stderr
    record = json.loads(stdout)
    assert record["psnr_db"] is None and record["svd_psnr_db"] is None
    assert not np.asarray(Image.open(tmp_path / "r3.png")).any()


def test_compress_text_summary_calls_an_exact_reconstruction_exact(tmp_path, cli):
    """The text summary printed "PSNR inf dB (truncated SVD inf dB)" for a black picture
    (before 2026-12-06, polish17); now it says exact, as JSON's null does."""
    from PIL import Image

    photo = tmp_path / "black.png"
    Image.fromarray(np.zeros((20, 16), np.uint8)).save(photo)
    code, stdout, stderr = cli(["image", "compress", photo, "-r", "2", "-o", tmp_path / "r2.png", "--svd"])
    assert code == 0, stderr
    assert "inf" not in stdout and "nan" not in stdout
    assert "rank 2: exact, every pixel as in the photo (truncated SVD exact), stores" in stdout


@pytest.mark.parametrize("suffix, fmt", [(".gif", "GIF"), (".jpg", "JPEG")])
def test_compress_prints_the_psnr_of_the_picture_written(tmp_path, cli, suffix, fmt):
    """GIF keeps 256 colours, JPEG is lossy: the summary printed the PSNR of the fit's
    reconstruction, not of the file written (before 2026-12-06, polish17).  Now the printed
    number (and --json's output_psnr_db) is the written file's, read back, and the fit's
    is named beside it; a PNG keeps every pixel and prints one number, the fit's."""
    from PIL import Image

    rng = np.random.default_rng(4)  # 1200 pixels of smooth colour plus noise: > 256 colours
    ramp = np.linspace(0, 1, 40)[:, None, None] * np.linspace(1, 0.3, 30)[None, :, None]
    picture = np.clip(ramp * [1.0, 0.6, 0.3] + 0.15 * rng.random((40, 30, 3)), 0, 1)
    photo, output = tmp_path / "photo.png", tmp_path / f"r3{suffix}"
    Image.fromarray((picture * 255).round().astype(np.uint8)).save(photo)
    original = np.asarray(Image.open(photo))
    code, stdout, stderr = cli(["image", "compress", photo, "-r", "3", "-o", output])
    assert code == 0, stderr
    written = psnr(original, np.asarray(Image.open(output).convert("RGB")))
    fit = compress(original, 3, random_state=0).psnr
    assert abs(written - fit) > 0.01  # the format did change the picture
    assert f"rank 3: PSNR {written:.2f} dB as written ({fmt} changed the fit's {fit:.2f} dB)" in stdout
    code, stdout, _ = cli(["image", "compress", photo, "-r", "3", "-o", output, "--force", "--json"])
    record = json.loads(stdout)
    assert record["output_psnr_db"] == pytest.approx(written, rel=1e-12) and record["output_changed"] is True
    assert record["psnr_db"] == pytest.approx(fit, rel=1e-12)
    code, stdout, _ = cli(["image", "compress", photo, "-r", "3", "-o", tmp_path / "r3.png"])
    assert f"rank 3: PSNR {fit:.2f} dB, stores" in stdout
    assert psnr(original, np.asarray(Image.open(tmp_path / "r3.png"))) == pytest.approx(fit, rel=1e-12)


def test_compress_json_is_strict_json_with_the_fits_numbers(tmp_path, cli):
    """``image compress --json`` (every other command had --json; compress printed text
    only before 2026-12-05, tour10): the numbers of the fit the library gives for the same
    seed, the files written; an exact reconstruction (a black picture: PSNR infinite) is
    null, since JSON has no Infinity."""
    from PIL import Image

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    pixels = (np.random.default_rng(3).random((16, 12, 3)) * 255).astype(np.uint8)
    for name, picture in (("noise", pixels), ("black", np.zeros((16, 12), np.uint8))):
        photo, output = tmp_path / f"{name}.png", tmp_path / f"{name}_r2.png"
        Image.fromarray(picture).save(photo)
        code, stdout, stderr = cli(["image", "compress", photo, "-r", "2", "-o", output, "--svd", "--json"])
        record = json.loads(stdout, parse_constant=refuse)
        assert code == 0 and output.is_file() and record["output"] == str(output), (code, stderr)
        expected = compress(picture, 2, random_state=0)
        assert record["rank"] == 2 and record["n_iter"] == expected.n_iter
        assert record["n_stored"] == expected.n_stored and record["n_original"] == expected.n_original
        if name == "black":
            assert record["psnr_db"] is None and record["svd_psnr_db"] is None, record
        else:
            assert record["psnr_db"] == pytest.approx(expected.psnr, rel=1e-12), record
            assert record["svd_psnr_db"] == pytest.approx(psnr(picture, truncated_svd(picture, 2)), rel=1e-12)


@pytest.mark.parametrize("channels, mode, suffix, said", [
    (2, "LA", ".gif", "GIF would drop or change the opacity of this gray + opacity picture"),
    (4, "RGBA", ".bmp", "BMP would drop or change the opacity of this RGBA picture"),
    (3, "RGB", ".ico", "ICO would store this 40x30 picture at 24x18"),
], ids=["LA to GIF", "RGBA to BMP", "RGB to ICO"])
def test_cli_compress_refuses_a_format_that_would_change_the_picture(tmp_path, monkeypatch, cli, one_line_error,
                                                                     channels, mode, suffix, said):
    """Pillow writes these without a word: GIF keeps one transparent colour at most, BMP
    no opacity, ICO only its icon sizes (a 40x30 picture came back 24x18).  Before
    2026-12-06 (tour18) the reconstruction was written so, its opacity — which the fit keeps
    bit for bit — dropped; now refused before the fit, naming the format and the fix."""
    from PIL import Image

    import nmfaudio.adapters.image

    photo = tmp_path / "in.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((30, 40, channels)) * 255).astype(np.uint8), mode).save(photo)

    def must_not_fit(*args, **kwargs):
        raise AssertionError("the fit ran")

    real = nmfaudio.adapters.image.compress
    monkeypatch.setattr(nmfaudio.adapters.image, "compress", must_not_fit)
    code, _, stderr = cli(["image", "compress", str(photo), "-r", "2", "-o", str(tmp_path / f"o{suffix}")])
    assert code == 1
    one_line_error(stderr, said, "use a .png output")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]
    monkeypatch.setattr(nmfaudio.adapters.image, "compress", real)
    code, _, _ = cli(["image", "compress", str(photo), "-r", "2", "-o", str(tmp_path / "o.tif")])
    assert code == 0  # TIFF keeps the size and the opacity, bit for bit
    written, given = np.asarray(Image.open(tmp_path / "o.tif")), np.asarray(Image.open(photo))
    assert written.shape == given.shape
    if mode != "RGB":
        np.testing.assert_array_equal(written[..., -1], given[..., -1])


def test_a_pictures_kind_has_one_wording(tmp_path, cli, one_line_error):
    """The summary's (and --json's) word for a gray picture with opacity is the refusal's
    too: cli/image.py held two tables of them ("gray + opacity" in the summary, "gray (with
    opacity)" when JPEG could not store it)."""
    import json

    from PIL import Image

    photo = tmp_path / "la.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((12, 10, 2)) * 255).astype(np.uint8), "LA").save(photo)
    code, stdout, _ = cli(["image", "compress", str(photo), "-r", "2", "-o", str(tmp_path / "o.png"), "--json"])
    assert code == 0
    kind = json.loads(stdout)["kind"]
    assert kind == "gray + opacity"
    code, _, stderr = cli(["image", "compress", str(photo), "-r", "2", "-o", str(tmp_path / "o.jpg")])
    assert code == 1
    one_line_error(stderr, f"JPEG cannot store this {kind} picture", "use a .png output")


@pytest.mark.parametrize("pixels, said", [
    (np.arange(4 * 6 * 5).reshape(4, 6, 5) % 256, r"holds images of dtype int64; an image stack is uint8"),
    (np.full((4, 6, 5), 0.5).clip(0, 1) * np.array([np.nan, 1, 1, 1])[:, None, None],
     r"holds 30 NaN or infinite pixel values; replace them"),
    (np.linspace(0, 255, 4 * 6 * 5).reshape(4, 6, 5), r"holds images with values in \[0, 255\]; float images must "
                                                       r"lie in \[0, 1\]: save it divided by 255"),
    (np.linspace(-3, 3, 4 * 6 * 5).reshape(4, 6, 5), r"values in \[-3, 3\]; .*: rescale them to \[0, 1\]"),
], ids=["int64", "nan", "0-255 floats", "negative"])
@pytest.mark.parametrize("sigma", ["0", "0.1"])
def test_cli_sweep_names_the_stack_file_whose_pixels_it_cannot_use(pixels, said, sigma, tmp_path, cli,
                                                                   one_line_error):
    """An .npz stack of int64 pixels, NaN, 0-255 floats or negative values: 'nmfaudio image
    sweep' said 'noisy has dtype int64' / 'images has values in [0, 255]', naming its own
    variables, not the file (main before 2026-12-06, tour15).  The reader names the file."""
    stack = tmp_path / "stack.npz"
    np.savez(stack, images=pixels)
    code, _, stderr = cli(["image", "sweep", stack, "--ranks", "1", "--sigma", sigma])
    assert code == 1
    one_line_error(stderr, f"'{stack}' ")
    assert re.search(said, stderr), stderr


def test_a_stack_is_checked_only_over_the_images_n_keeps(tmp_path):
    """--n 2 of an .npz stack whose third image holds NaN: read_image_stack refused the
    whole file though the run never uses that image (before 2026-12-06); now the kept
    images are checked — and a bad one among them is still named."""
    from nmfaudio.adapters.files import read_image_stack

    pixels = np.full((3, 6, 5), 0.5)
    pixels[2, 0, 0] = np.nan
    stack = tmp_path / "stack.npz"
    np.savez(stack, images=pixels)
    np.testing.assert_array_equal(read_image_stack(stack, n=2), pixels[:2])
    with pytest.raises(ValueError, match=r"holds 1 NaN or infinite pixel values"):
        read_image_stack(stack, n=3)


@pytest.mark.parametrize("pixels, said", [
    (np.float64(0.5), r"shape \(\); an image stack is \(N, h, w\), \(N, h, w, 2\), \(N, h, w, 3\) or \(N, h, w, 4\)"),
    (np.full(5, 0.5), r"shape \(5,\); an image stack is"),
    (np.zeros((3, 6, 5, 7)), r"shape \(3, 6, 5, 7\); an image stack is"),
    (np.zeros((0, 6, 5)), r"shape \(0, 6, 5\), no pixels; save at least one picture"),
])
@pytest.mark.parametrize("n", [None, 2])
def test_a_stack_that_is_no_stack_of_pictures_is_named_with_the_file(pixels, said, n, tmp_path, cli, one_line_error):
    """An .npz whose 'images' array is no stack of pictures: a 0-d one raised "too many
    indices" with --n (the CLI's "unexpected IndexError ... please report this as a bug")
    or "len() of unsized object", a (5,) or 4-channel-7 one named the command's variable
    ('noisy has shape (5,)'), an empty one asked for --ranks up to 0 (review11).  The
    file and the shapes a stack takes are named, before any fit."""
    from nmfaudio.adapters.files import read_image_stack

    stack = tmp_path / "stack.npz"
    np.savez(stack, images=pixels)
    with pytest.raises(ValueError, match=rf"^'{re.escape(str(stack))}' holds an 'images' array of {said}"):
        read_image_stack(stack, n=n)
    code, stdout, stderr = cli(["image", "sweep", stack, "--ranks", "1", *(["--n", str(n)] if n else [])])
    assert code == 1 and stdout == ""
    one_line_error(stderr, f"'{stack}' holds an 'images' array of shape")
