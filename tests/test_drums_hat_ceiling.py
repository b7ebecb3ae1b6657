"""The hi-hat output's model held under a ceiling per bin before the masks, the kick's mask
kept (nmfaudio.drums.hat_ceiling; docs/drums-five-stems.md, hat-proxy round).

Offline and small: planted factors, and the bundled drum loop (data/drum_loop.wav)."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from nmfaudio import masks, separate_drums
from nmfaudio.drums import separation
from nmfaudio.drums.hat_ceiling import ACTIVE_SHARE, MIN_FRAMES, capped_models, hat_ceilings

DATA = Path(__file__).resolve().parents[1] / "data"
POWER = 1.5  # the drums' mask power


def _hat_factors(rng, n_channels=1, n=60, silent=()):
    """Planted factors (W (F, 3), Hs (3, n_channels·n)): sparse hits, frames ``silent`` of
    channel 0 with no activation."""
    W = rng.random((20, 3)) + 0.1
    Hs = rng.random((3, n_channels * n)) * (rng.random((1, n_channels * n)) < 0.3)
    Hs[:, list(silent)] = 0
    return W, Hs


def test_the_ceiling_is_the_ratio_times_the_median_of_the_active_frames(rng):
    W, Hs = _hat_factors(rng, n_channels=2)
    got = hat_ceilings(W, Hs, 2, ratio=2.0)
    for c in range(2):
        model = W @ Hs[:, c * 60:(c + 1) * 60]
        total = model.sum(axis=0)
        active = total > ACTIVE_SHARE * total.max()
        np.testing.assert_allclose(got[c], 2.0 * np.median(model[:, active], axis=1), rtol=1e-5)


def test_no_ceiling_where_the_hats_barely_play(rng):
    W, Hs = _hat_factors(rng, n=60)
    Hs[:] = 0
    Hs[:, 5] = 1.0  # one frame: fewer than MIN_FRAMES
    assert MIN_FRAMES > 1
    assert np.isinf(hat_ceilings(W, Hs, 1)).all()
    assert np.isinf(hat_ceilings(W, np.zeros_like(Hs), 1)).all()


def test_the_cap_keeps_the_kicks_mask_and_the_others_proportions(rng):
    S = (rng.random((6, 16, 20)) ** 3).astype(np.float32)  # kick, snare, toms, hi-hat, cymbals, residual
    ceiling = np.quantile(S[3], 0.5, axis=0).astype(np.float32)
    before = masks.spectrogram_masks(S.copy(), power=POWER)
    capped = capped_models(S.copy(), 3, ceiling, power=POWER, kept=0)
    after = masks.spectrogram_masks(capped.copy(), power=POWER)
    assert (capped[3] <= ceiling).all()
    over = S[3] > ceiling
    assert over.any()
    np.testing.assert_allclose(after[0], before[0], atol=1e-5)  # the kick's mask as it was
    # the hat's mask falls where the cap acts, nowhere else; the others rise in proportion
    assert (after[3][over] < before[3][over]).all()
    np.testing.assert_allclose(after[:, ~over], before[:, ~over], atol=1e-6)
    others = [1, 2, 4, 5]
    np.testing.assert_allclose(after[others][:, over] / after[others].sum(axis=0)[over],
                               before[others][:, over] / before[others].sum(axis=0)[over], rtol=1e-4)


def test_without_a_kept_output_every_other_output_takes_its_share(rng):
    S = (rng.random((6, 16, 20)) ** 3).astype(np.float32)
    ceiling = np.quantile(S[3], 0.5, axis=0).astype(np.float32)
    before = masks.spectrogram_masks(S.copy(), power=POWER)
    after = masks.spectrogram_masks(capped_models(S.copy(), 3, ceiling, power=POWER), power=POWER)
    over = S[3] > ceiling
    assert (after[0][over] > before[0][over]).all()


@pytest.fixture(scope="module")
def loop():
    mix, sr = sf.read(DATA / "drum_loop.wav", dtype="float32")
    return mix, sr


@pytest.mark.parametrize("accompaniment", [False, True])
def test_the_loop_keeps_its_kick_and_a_song_is_untouched(loop, monkeypatch, accompaniment):
    """With the ceiling the kick stem keeps its samples (its mask is kept) and the hat stem
    changes; the tracks still add up to the mixture.  In a song (accompaniment) nothing
    changes."""
    mix, sr = loop
    on = separate_drums(mix, sr, random_state=0, accompaniment=accompaniment).sources
    monkeypatch.setattr(separation, "HAT_CEILING", False)
    off = separate_drums(mix, sr, random_state=0, accompaniment=accompaniment).sources
    peak = np.abs(mix).max()
    np.testing.assert_allclose(on["kick"], off["kick"], atol=1e-5 * peak)
    if accompaniment:
        for name in on:
            np.testing.assert_allclose(on[name], off[name], atol=1e-5 * peak)
    else:
        assert np.abs(on["hihat"] - off["hihat"]).max() > 1e-3 * peak
    np.testing.assert_allclose(sum(on.values()), mix, atol=1e-4 * peak)


def test_a_zero_median_bin_gets_no_ceiling():
    # a part silent in most active frames puts a 0 median in the bins only it covers: a cap
    # of 0 there, where nothing else is modelled, split the cell evenly (the kick's mask moved)
    W = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    Hs = np.zeros((2, 8), np.float32)
    Hs[0] = 1.0
    Hs[1, 3] = 5.0
    ceilings = hat_ceilings(W, Hs, 1)
    assert ceilings[0, 0] == pytest.approx(2.0) and np.isinf(ceilings[0, 1])


def test_hats_in_a_short_stretch_keep_their_strokes():
    # hats only in the loop's first 0.45 s (under 5 % of the frames): the ceiling's active
    # frames must be the strokes, not the activations' small leak elsewhere — with them
    # taken against the 95th percentile, the stem fell 12.2 -> 9.5 dB SDR.  Tolerance:
    # the ceiling may cost at most 0.5 dB here (measured 0.2)
    from nmfaudio.metrics import sdr

    stems = [sf.read(DATA / f"drum_loop_{name}.wav", dtype="float32")[0] for name in ("kick", "snare", "hihat")]
    sr = sf.info(DATA / "drum_loop_kick.wav").samplerate
    hats = stems[2].copy()
    hats[int(0.45 * sr):] = 0
    mix = stems[0] + stems[1] + hats
    scores = {}
    for on in (False, True):
        separation.HAT_CEILING = on
        try:
            scores[on] = sdr(hats, separate_drums(mix, sr, random_state=0).sources["hihat"])
        finally:
            separation.HAT_CEILING = True
    assert scores[True] >= scores[False] - 0.5, scores


def test_the_compiled_cap_is_the_numpy_forms_bits():
    """The compiled cap (the cells over the ceiling gathered, their powers NumPy's, the
    sums and ratios in the NumPy form's order) gives the NumPy form's float32 bits, tolerance
    0: chunks of every size, powers 1, 1.5, 2 and 1.7, the kept output before and after the
    hat's, bins without a ceiling (inf), silent cells, tiny models (1e-30 of the level) and
    chunks with nothing over the ceiling.  (It runs in every drum recording's stems:
    docs/performance.md, the speed46 round.)"""
    import warnings

    from nmfaudio.drums import hat_ceiling

    rng = np.random.default_rng(46)
    n_capped = 0
    for trial in range(240):
        D, n, F = int(rng.integers(3, 8)), int(rng.integers(1, 20)), int(rng.integers(1, 300))
        S = (rng.random((D, n, F)) ** rng.uniform(1, 6)).astype(np.float32)
        S[:, rng.random((n, F)) < 0.1] = 0
        if trial % 7 == 0:
            S *= np.float32(1e-30)
        hat = int(rng.integers(D))
        kept = (hat + int(rng.integers(1, D))) % D
        ceiling = (np.quantile(S[hat], rng.uniform(0.1, 0.99), axis=0) * rng.uniform(0.5, 2)).astype(np.float32)
        ceiling[rng.random(F) < 0.1] = np.inf
        if trial % 11 == 0:
            ceiling[:] = np.inf  # nothing over it
        power = (1.5, 1.0, 2.0, 1.7)[trial % 4]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a rounding-negative ratio's root, in both forms
            expected = hat_ceiling._capped_models_numpy(S.copy(), hat, ceiling, power=power, kept=kept)
            got = capped_models(S.copy(), hat, ceiling, power=power, kept=kept)
        n_capped += bool((S[hat] > ceiling).any())
        assert np.array_equal(got.view(np.uint32), expected.view(np.uint32)), (trial, D, n, F, power)
    assert n_capped > 150


def test_ceilings_other_than_float32_rows_give_the_numpy_forms_bits():
    """capped_models' ceiling as the NumPy form takes it: a float64 row (compared in float64,
    not rounded to float32 first), a scalar and a (1, F) row (broadcast).  The compiled cap
    (speed46) read a scalar's one value and then past its end (NaN or garbage models),
    failed on a (1, F) row with numba's "truth value of an array", and rounded a float64
    row, capping other cells (review10); hat_ceilings' float32 (F,) rows still take it."""
    import warnings

    from nmfaudio.drums import hat_ceiling

    rng = np.random.default_rng(10)
    S = rng.random((4, 7, 300)).astype(np.float32)
    row = np.quantile(S[1], 0.6, axis=0)  # float64, between float32 values
    for ceiling in (row, np.float32(0.5), 0.5, row.astype(np.float32)[None]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            expected = hat_ceiling._capped_models_numpy(S.copy(), 1, ceiling, power=1.5, kept=0)
            got = capped_models(S.copy(), 1, ceiling, power=1.5, kept=0)
        assert np.all(np.isfinite(got))
        assert np.array_equal(got.view(np.uint32), expected.view(np.uint32)), np.shape(ceiling)
