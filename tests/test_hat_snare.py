"""nmfaudio.drums.hat_snare: the hat parts capped at their pulse at the snare's hits."""

import numpy as np
import pytest

from nmfaudio.drums import hat_snare
from nmfaudio.drums.hat_snare import capped_at_snare


def _groove(n=400, hat_at_snare=6.0):
    """Two channels; part 0 a hat on every 8th frame at level 1 (+/- 10 %), part 1 the
    snare on every 32nd frame (offset 16), where the hat part also fires at hat_at_snare."""
    rng = np.random.default_rng(0)
    H = np.zeros((3, 2, n), np.float32)
    strokes = np.arange(4, n - 4, 8)
    H[0, :, strokes] = (1 + 0.1 * rng.standard_normal(strokes.size))[:, None].astype(np.float32)
    snare = np.arange(20, n - 4, 32)
    H[1, :, snare] = 2.0
    H[0, :, snare] = hat_at_snare  # the snare's noise taken by the hat part
    H[0, 1] *= 0.5  # the hat panned left: the cap must keep the channels' ratio
    return H, strokes, snare


def test_hat_capped_at_the_snare_hits_to_its_pulse():
    H, strokes, snare = _groove()
    out = capped_at_snare(H, [0], [1], factor=1.5)
    pulse = np.median(H[0].sum(axis=0)[np.setdiff1d(strokes, snare)])
    # at the snare's hits the hat part (channels summed) is 1.5 x its pulse, within 1e-5
    np.testing.assert_allclose(out[0].sum(axis=0)[snare], 1.5 * pulse, rtol=1e-5)
    # the channels keep their ratio there
    np.testing.assert_allclose(out[0, 1, snare] / out[0, 0, snare], 0.5, rtol=1e-5)
    # everywhere else, and the snare and the third part, unchanged
    away = np.setdiff1d(np.arange(H.shape[2]), snare)
    np.testing.assert_array_equal(out[0][:, away], H[0][:, away])
    np.testing.assert_array_equal(out[1:], H[1:])
    assert H[0, 0, snare[0]] == 6.0  # the input is not modified


def test_a_hat_at_its_pulse_level_is_left_alone():
    H, _, _ = _groove(hat_at_snare=1.0)  # a real stroke with the snare, no louder than the others
    assert capped_at_snare(H, [0], [1]) is H


def test_no_pulse_or_no_snare_leaves_the_masks():
    H, _, snare = _groove()
    only_snare = H.copy()
    only_snare[0] = 0
    only_snare[0, :, snare] = 6.0  # a hat part that fires only with the snare: no pulse to read
    assert capped_at_snare(only_snare, [0], [1]) is only_snare
    assert capped_at_snare(H, [0], []) is H
    assert capped_at_snare(H, [], [1]) is H


def test_switch_exists_and_is_on():
    assert hat_snare.HAT_SNARE_CAP is True
    assert 1.0 <= hat_snare.PULSE_FACTOR <= 3.0
