"""nmfaudio.masks: masks partition the mixture, also where the model is zero."""

import numpy as np
import pytest

from nmfaudio import masks


def _factors(seed=0, F=30, k=4, T=40, zero_fraction=0.3):
    rng = np.random.default_rng(seed)
    W = rng.random((F, k)).astype(np.float32)
    H = rng.random((k, T)).astype(np.float32)
    W[rng.random(W.shape) < zero_fraction] = 0  # plenty of bins where every component is 0
    H[rng.random(H.shape) < zero_fraction] = 0
    H[:, :3] = 0  # three silent frames
    return W, H


@pytest.mark.parametrize("power", [0.5, 1.0, 2.0, 50.0, 1e4, "binary"])
def test_masks_partition_unity_everywhere(power):
    W, H = _factors()
    M = masks.masks(W, H, power=power)
    assert M.shape == (4, 30, 40)
    assert np.all(np.isfinite(M)) and M.min() >= 0 and M.max() <= 1
    np.testing.assert_allclose(M.sum(axis=0), 1.0, atol=1e-6)  # float32 rounding


def test_ratio_mask_formula_and_equal_split_where_zero():
    W, H = _factors(seed=1)
    S = masks.component_spectrograms(W, H)
    np.testing.assert_allclose(S[2], np.outer(W[:, 2], H[2]), rtol=1e-6)
    total = S.sum(axis=0)
    M = masks.soft_masks(W, H, power=2.0)
    live = total > 0
    expected = S**2 / np.maximum((S**2).sum(axis=0), 1e-30)
    np.testing.assert_allclose(M[:, live], expected[:, live], rtol=1e-5, atol=1e-6)
    assert (~live).sum() > 0
    np.testing.assert_allclose(M[:, ~live], 0.25)  # k = 4: equal split, exactly


def test_masked_spectrograms_add_up_to_the_mixture():
    rng = np.random.default_rng(2)
    W, H = _factors(seed=2)
    X = (rng.standard_normal((30, 40)) + 1j * rng.standard_normal((30, 40))).astype(np.complex64)
    for power in (1.0, 2.0, "binary"):
        parts = masks.masks(W, H, power=power) * X
        assert np.abs(parts.sum(axis=0) - X).max() <= 1e-5 * np.abs(X).max()


def test_binary_masks_pick_the_loudest():
    W = np.array([[1.0, 0.0], [1.0, 3.0]])
    H = np.array([[1.0, 0.0], [1.0, 0.0]])
    M = masks.binary_masks(W, H)
    # bin (0, 0): component 0 louder; (1, 0): component 1 louder; frame 1 silent -> index 0.
    np.testing.assert_array_equal(M[0], [[1, 1], [0, 1]])
    np.testing.assert_array_equal(M[1], [[0, 0], [1, 0]])


@pytest.mark.parametrize(
    "W, H, power, exc, match",
    [(np.ones((3, 2)), np.ones((3, 4)), 1.0, ValueError, "columns"),
     (-np.ones((3, 2)), np.ones((2, 4)), 1.0, ValueError, "negative"),
     (np.ones((3, 2)), np.full((2, 4), np.nan), 1.0, ValueError, "NaN"),
     (np.ones((3, 2)), np.ones((2, 4)), 0.0, ValueError, "mask_power"),
     (np.ones((3, 2)), np.ones((2, 4)), "wiener", ValueError, "mask_power"),
     (np.ones(3), np.ones((2, 4)), 1.0, ValueError, "shapes")],
    ids=["k mismatch", "negative W", "nan H", "power 0", "unknown power", "1-D W"],
)
def test_bad_input(W, H, power, exc, match):
    with pytest.raises(exc, match=match):
        masks.masks(W, H, power=power)


def test_binary_is_taken_in_any_case_as_the_command_line_takes_it():
    """--mask-power Binary worked on the command line while separate(mask_power="Binary")
    and masks(power="Binary") were refused (before 2026-12-06, tour18)."""
    rng = np.random.default_rng(0)
    W, H = rng.random((5, 2)), rng.random((2, 6))
    for given in ("Binary", " BINARY ", "binary"):
        np.testing.assert_array_equal(masks.masks(W, H, power=given), masks.binary_masks(W, H))
        assert masks.check_mask_power(given) == "binary"
    with pytest.raises(ValueError, match="mask_power='binry' must be a number > 0 or 'binary'"):
        masks.check_mask_power("binry")


@pytest.mark.skipif(not masks.HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("power", [1.0, 1.5, 2.0, 0.7, 3.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_spectrogram_masks_equal_the_numpy_ones(monkeypatch, power, dtype):
    """The one-pass compiled masks equal the NumPy formula to 4 float32 ulp (1e-12 in
    float64), silent bins included (equal split), on a shape that crosses chunk borders."""
    rng = np.random.default_rng(5)
    S = (rng.random((3, 40, 2, 700)) ** 3).astype(dtype)
    S[:, :2] = 0  # silent bins
    S[1, 5:9] = 0
    compiled = masks.spectrogram_masks(S, power=power)
    monkeypatch.setattr(masks, "HAVE_NUMBA", False)
    reference = masks.spectrogram_masks(S, power=power)
    assert compiled.dtype == reference.dtype == dtype
    np.testing.assert_allclose(compiled, reference, rtol=0, atol=5e-7 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(compiled[:, :2], 1 / 3)
    np.testing.assert_allclose(compiled.sum(axis=0), 1, atol=5e-7 if dtype == np.float32 else 1e-12)
    monkeypatch.setattr(masks, "HAVE_NUMBA", True)
    in_place = S.copy()
    returned = masks.spectrogram_masks(in_place, power=power, overwrite=True)  # the masks replace S
    assert np.shares_memory(returned, in_place)
    np.testing.assert_array_equal(returned, compiled)


@pytest.mark.parametrize("power", [1.0, 1.5, 2.0])
def test_spectrogram_masks_with_a_subnormal_peak(power):
    """A bin whose loudest source is subnormal (float32 < 1.2e-38: silence after a fade)
    still gets the sources' ratios, never NaN (its reciprocal would be inf)."""
    S = np.array([[1e-39, 0, 3e-39, 1], [5e-40, 0, 1e-45, 0.5]], dtype=np.float32)
    M = masks.spectrogram_masks(S, power=power)
    assert np.all(np.isfinite(M))
    expected = np.array([1, 0.5 ** power]) / (1 + 0.5 ** power)
    np.testing.assert_allclose(M[:, 0], expected, rtol=1e-3)  # 5e-40 is stored to ~3 digits
    np.testing.assert_allclose(M[:, 3], expected, rtol=1e-6)
    np.testing.assert_allclose(M[:, 1], 0.5)
    np.testing.assert_allclose(M.sum(axis=0), 1, atol=5e-7)
