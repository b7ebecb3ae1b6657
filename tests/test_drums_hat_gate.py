"""The closed hat part's activations away from the hi-hat's hits leave the hi-hat stem, the
kick's, toms' and cymbals' masks kept (nmfaudio.drums.hat_gate; off by default,
``separation.HAT_GATE``: docs/log/drums-five-stems-decisions.md, hat-gate round).

Offline and small: planted factors, and the bundled drum loop (data/drum_loop*.wav)."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from nmfaudio import masks, separate_drums
from nmfaudio.drums import separation
from nmfaudio.drums.hat_gate import AFTER, BEFORE, gate_frames, gated_parts, kept_masks
from nmfaudio.nmf import convolutive_model

DATA = Path(__file__).resolve().parents[1] / "data"
POWER = 1.5  # the drums' mask power
LABELS = ("kick", "snare", "hihat", "hihat:open")


def test_the_gate_keeps_the_frames_around_each_hit():
    keep = gate_frames(12, [0, 6, 11], before=1, after=2)
    assert np.flatnonzero(keep).tolist() == [0, 1, 2, 5, 6, 7, 8, 10, 11]
    assert not gate_frames(5, []).any()


def test_the_closed_hat_part_moves_away_from_the_hits_and_the_model_is_unchanged(rng):
    P = rng.random((10, 4, 3)).astype(np.float32)
    H = rng.random((4, 2, 30)).astype(np.float32)
    route = np.array([0, 1, 2, 2])
    hits = [5, 20]
    P2, H2, route2 = gated_parts(P, H, route, LABELS, hits=hits, to=9)
    assert P2.shape == (10, 5, 3) and H2.shape == (5, 2, 30) and route2.tolist() == [0, 1, 2, 2, 9]
    keep = gate_frames(30, hits, before=BEFORE, after=AFTER)
    np.testing.assert_array_equal(H2[2][:, ~keep], 0)  # the closed hat away from its hits: moved
    np.testing.assert_array_equal(H2[2][:, keep], H[2][:, keep])
    np.testing.assert_array_equal(H2[4][:, ~keep], H[2][:, ~keep])
    np.testing.assert_array_equal(H2[[0, 1, 3]], H[[0, 1, 3]])  # the open hat is not gated
    # the model (every part summed) is what it was, to float32 rounding
    np.testing.assert_allclose(convolutive_model(P2, H2), convolutive_model(P, H), rtol=1e-5)


def test_no_hit_or_no_closed_hat_gates_nothing(rng):
    P = rng.random((10, 4, 3)).astype(np.float32)
    H = rng.random((4, 1, 30)).astype(np.float32)
    route = np.array([0, 1, 2, 2])
    assert gated_parts(P, H, route, LABELS, hits=[], to=9)[1] is H
    assert gated_parts(P, H, route, ("kick", "snare", "toms", "hihat:open"), hits=[3], to=9)[1] is H


@pytest.mark.parametrize("with_ceiling", [False, True])
def test_the_kept_masks_are_those_with_the_moved_share_in_the_hat(rng, with_ceiling):
    # outputs kick, snare, toms, hi-hat, cymbals, residual; tolerance: float32 masks, 1e-5
    S = (rng.random((6, 16, 20)) ** 3).astype(np.float32)
    moved = (rng.random((16, 20)) ** 2).astype(np.float32)
    ceiling = np.quantile(S[3] + moved, 0.7, axis=0).astype(np.float32) if with_ceiling else None
    whole = S.copy()
    whole[3] = S[3] + moved if ceiling is None else np.minimum(S[3] + moved, ceiling)
    if ceiling is not None:
        S[3] = np.minimum(S[3], ceiling)
    before = masks.spectrogram_masks(whole, power=POWER)
    after = masks.spectrogram_masks(kept_masks(S.copy(), 3, moved, [0, 2, 4], POWER, ceiling), power=POWER)
    np.testing.assert_allclose(after[[0, 2, 4]], before[[0, 2, 4]], atol=1e-5)
    # the freed share goes to the others; the hi-hat's falls where the moved share is
    assert (after[[1, 5]] >= before[[1, 5]] - 1e-6).all()
    assert (after[3] <= before[3] + 1e-6).all()
    np.testing.assert_allclose(after.sum(axis=0), 1, atol=1e-5)


@pytest.fixture(scope="module")
def loop():
    stems = {name: sf.read(DATA / f"drum_loop_{name}.wav", dtype="float32")[0] for name in ("kick", "snare", "hihat")}
    return stems, sf.info(DATA / "drum_loop_kick.wav").samplerate


def _bursts_between_hats(hats, sr, level, hop=512):
    """Short bright noise bursts (50 ms, 12-ms decay) halfway between the loop's hat onsets
    more than 0.15 s apart, their peak ``level`` × the hats' (a shaker the hats do not play)."""
    rng = np.random.default_rng(0)
    frames = np.add.reduceat(hats[: len(hats) // hop * hop] ** 2, np.arange(0, len(hats) // hop * hop, hop))
    onsets = np.flatnonzero((frames[1:-1] > 4 * frames[:-2]) & (frames[1:-1] > 1e-3 * frames.max())) + 1
    out = np.zeros_like(hats)
    t = np.arange(int(0.05 * sr)) / sr
    for a, b in zip(onsets[:-1], onsets[1:]):
        if (b - a) * hop / sr > 0.15:
            i = (a + b) * hop // 2
            burst = np.diff(rng.standard_normal(t.size) * np.exp(-t / 0.012), prepend=0).astype(np.float32)
            out[i:i + burst.size] += burst[: len(out) - i]
    return out * np.float32(level * np.abs(hats).max() / np.abs(out).max())


@pytest.mark.parametrize("accompaniment", [False, True])
def test_a_shaker_between_the_hats_leaves_the_hat_stem(loop, monkeypatch, accompaniment):
    """The loop with bursts between its hats: the gate takes part of them out of the hi-hat
    stem (measured 0.67 -> 0.57 of the bursts' energy projected onto the stem; bound: 0.05
    less) without costing the hats (measured +0.12 dB SDR; bound: −0.1); the kick's mask is
    kept but for the cells where the hat ceiling acts (it keeps the kick's mask against the
    gated hat's model there): its samples move by at most 0.3 % of the peak (measured
    0.11 %) and its SDR by at most 0.05 dB (measured 0.002); the tracks add up to the
    mixture.  In a song (accompaniment) nothing changes."""
    from nmfaudio.metrics import sdr

    stems, sr = loop
    bursts = _bursts_between_hats(stems["hihat"], sr, 0.2)
    mix = stems["kick"] + stems["snare"] + stems["hihat"] + bursts
    off = separate_drums(mix, sr, random_state=0, accompaniment=accompaniment).sources  # the default: off
    monkeypatch.setattr(separation, "HAT_GATE", True)
    on = separate_drums(mix, sr, random_state=0, accompaniment=accompaniment).sources
    peak = np.abs(mix).max()
    if accompaniment:
        for name in on:
            np.testing.assert_allclose(on[name], off[name], atol=1e-6 * peak)
        return
    share = {key: float(np.dot(out["hihat"], bursts) / np.dot(bursts, bursts)) for key, out in (("on", on), ("off", off))}
    assert share["on"] <= share["off"] - 0.05, share
    assert sdr(stems["hihat"], on["hihat"]) >= sdr(stems["hihat"], off["hihat"]) - 0.1
    np.testing.assert_allclose(on["kick"], off["kick"], atol=3e-3 * peak)
    assert abs(sdr(stems["kick"], on["kick"]) - sdr(stems["kick"], off["kick"])) <= 0.05
    np.testing.assert_allclose(sum(on.values()), mix, atol=1e-4 * peak)


@pytest.mark.parametrize("power", [1.5, 2.0])
@pytest.mark.parametrize("with_ceiling", [False, True])
def test_the_compiled_kept_masks_are_the_numpy_forms(rng, power, with_ceiling):
    # the float32 compiled form against the float64 NumPy reference: the masks within 1e-5
    # (measured ~3e-7); a cell whose powers are all 0 keeps its model (no NaN)
    from nmfaudio.drums import hat_gate

    if hat_gate._kept_scaled is None:
        pytest.skip("numba not installed")
    S = (rng.random((6, 40, 33)) ** 3 * 50).astype(np.float32)
    S[:, 3, :5] = 0
    moved = (rng.random((40, 33)) ** 2 * 20).astype(np.float32)
    moved[3, :5] = 0
    ceiling = np.quantile(S[3] + moved, 0.7, axis=0).astype(np.float32) if with_ceiling else None
    if ceiling is not None:
        S[3] = np.minimum(S[3], ceiling)
    compiled = kept_masks(S.copy(), 3, moved, [0, 2, 4], power, ceiling)
    reference = hat_gate._kept_masks_numpy(S.copy(), 3, moved, [0, 2, 4], power, ceiling)
    assert np.isfinite(compiled).all()
    np.testing.assert_array_equal(compiled[[1, 3, 5]], S[[1, 3, 5]])  # only the kept outputs scale
    np.testing.assert_allclose(masks.spectrogram_masks(compiled, power=power),
                               masks.spectrogram_masks(reference, power=power), atol=1e-5)


@pytest.mark.parametrize("power", [1.5, 2.0])
@pytest.mark.parametrize("with_ceiling", [False, True])
def test_the_gated_masks_are_the_kept_models_masks(rng, power, with_ceiling):
    # one pass (the masks' own) against spectrogram_masks of the NumPy form's models: within
    # 1e-5 (measured ~3e-7), silent cells (every model 0, a moved share there) split equally
    from nmfaudio.drums import hat_gate
    from nmfaudio.drums.hat_gate import gated_masks

    S = (rng.random((6, 40, 33)) ** 3 * 50).astype(np.float32)
    S[:, 3, :5] = 0
    moved = (rng.random((40, 33)) ** 2 * 20).astype(np.float32)
    ceiling = np.quantile(S[3] + moved, 0.7, axis=0).astype(np.float32) if with_ceiling else None
    if ceiling is not None:
        S[3] = np.minimum(S[3], ceiling)
    expected = masks.spectrogram_masks(hat_gate._kept_masks_numpy(S.copy(), 3, moved, [0, 2, 4], power, ceiling),
                                       power=power)
    got = gated_masks(S.copy(), 3, moved, [0, 2, 4], power, ceiling)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got[:, 3, :5], 1 / 6, atol=1e-6)
