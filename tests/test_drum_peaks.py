"""nmfaudio.drums.peaks picks the peaks scipy's find_peaks and librosa's peak_pick pick
(written out so that a run imports neither scipy.signal nor librosa.util)."""

import librosa.util
import numpy as np
import pytest
import scipy.signal

from nmfaudio.drums.peaks import find_peaks, peak_pick


def _signals(seed: int, count: int):
    """Random signals of 0-200 samples: uniform noise, the same quantized to five levels
    (flat tops and equal peaks), decaying hits on zeros (activation-like), a constant."""
    rng = np.random.default_rng(seed)
    for index in range(count):
        n = int(rng.integers(0, 200))
        x = rng.random(n)
        kind = index % 4
        if kind == 1:
            x = np.round(x * 4) / 4
        elif kind == 2:
            x = np.convolve(rng.random(n + 8) * (rng.random(n + 8) < 0.1), np.exp(-np.arange(8) / 2))[:n]
        elif kind == 3:
            x = np.full(n, 0.5)
        yield rng, x


@pytest.mark.parametrize("seed", [0, 1])
def test_find_peaks_is_scipys(seed):
    for rng, x in _signals(seed, 400):
        height = float(rng.random() * x.max()) if x.size else 0.0
        distance = int(rng.integers(1, 12))
        np.testing.assert_array_equal(find_peaks(x, height=height, distance=distance),
                                      scipy.signal.find_peaks(x, height=height, distance=distance)[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_peak_pick_is_librosas(dtype):
    for rng, x in _signals(2, 400):
        if not x.size:
            continue
        options = dict(pre_max=int(rng.integers(0, 5)), post_max=int(rng.integers(1, 5)),
                       pre_avg=int(rng.integers(0, 25)), post_avg=int(rng.integers(1, 25)),
                       delta=float(rng.random() * 0.3), wait=int(rng.integers(0, 6)))
        x = x.astype(dtype)
        np.testing.assert_array_equal(peak_pick(x, **options), librosa.util.peak_pick(x, sparse=True, **options))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="1-D"):
        find_peaks(np.zeros((2, 3)), height=0.0)
    with pytest.raises(ValueError, match="distance"):
        find_peaks(np.zeros(5), height=0.0, distance=0)
    with pytest.raises(ValueError, match="1-D float"):
        peak_pick(np.zeros(5, dtype=int), pre_max=1, post_max=1, pre_avg=1, post_avg=1, delta=0.0, wait=0)
    with pytest.raises(ValueError, match="post_max"):
        peak_pick(np.zeros(5), pre_max=1, post_max=0, pre_avg=1, post_avg=1, delta=0.0, wait=0)
    assert peak_pick(np.zeros(0), pre_max=1, post_max=1, pre_avg=1, post_avg=1, delta=0.0, wait=0).size == 0


@pytest.mark.parametrize("wait", [0, 3])
def test_peak_pick_on_a_flat_signal_with_no_delta_is_librosas(wait):
    """Every sample of a flat signal equals its local maximum and mean: picked every
    ``wait + 1`` samples (the ">=" of librosa's loop, not ">")."""
    x = np.full(30, 0.5)
    options = dict(pre_max=2, post_max=2, pre_avg=5, post_avg=5, delta=0.0, wait=wait)
    got = peak_pick(x, **options)
    np.testing.assert_array_equal(got, librosa.util.peak_pick(x, sparse=True, **options))
    np.testing.assert_array_equal(got, np.arange(0, 30, wait + 1))


def test_fractional_window_sizes_are_rounded_up_as_librosa_does():
    x = np.random.default_rng(3).random(100)
    options = dict(pre_max=2.5, post_max=0.5, pre_avg=3.2, post_avg=3.7, delta=0.01, wait=1.5)
    np.testing.assert_array_equal(peak_pick(x, **options), librosa.util.peak_pick(x, sparse=True, **options))
    np.testing.assert_array_equal(find_peaks(x, height=0.2, distance=2.5),
                                  scipy.signal.find_peaks(x, height=0.2, distance=2.5)[0])
