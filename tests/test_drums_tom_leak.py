"""The toms' share riding on every kick and snare hit leaves the masks
(nmfaudio.drums.tom_leak): a toms activation that is the same share of every kick hit (a
decay or a room's tail the 24-frame toms templates took) is taken off; a tom struck with
the kick keeps its excess, a tom alone all of it.  Synthetic activations, seeded."""

import numpy as np
import pytest

from nmfaudio.drums.tom_leak import MIN_HITS, leak_kept

N = 344  # 8 s of 23-ms frames
KICKS = np.arange(8, 330, 20)  # 17 kick hits
SNARES = KICKS[::2] + 10  # 9 snare hits between them
WITH_KICK = KICKS[5]  # a tom struck with the kick
ALONE = 250  # a tom on its own (no kick or snare within a frame)
LEAK_KICK, LEAK_SNARE, TOM = 0.08, 0.05, 0.6


def _activations(seed=0, channels=1):
    rng = np.random.default_rng(seed)
    kick, snare, toms = (np.zeros((channels, N), np.float32) for _ in range(3))
    # each hit spreads over a frame either side, as a fit's activation does
    for h, at, low in ((kick, KICKS, 0.7), (snare, SNARES, 0.6)):
        level = rng.uniform(low, 1.0, at.size)
        for offset, share in ((-1, 0.3), (0, 1.0), (1, 0.4)):
            h[:, at + offset] = share * level
    toms += LEAK_KICK * kick + LEAK_SNARE * snare  # the leak: a share of every hit
    toms[:, WITH_KICK] += TOM
    toms[:, ALONE] += TOM
    return kick, snare, toms


@pytest.mark.parametrize("channels", [1, 2])
def test_the_leak_leaves_a_tom_keeps_its_own(channels):
    kick, snare, toms = _activations(channels=channels)
    kept = leak_kept(toms, [kick, snare])
    assert kept.shape == toms.shape and kept.dtype == np.float32
    left = kept * toms
    hits = np.union1d(KICKS, SNARES)
    leak_only = np.setdiff1d(np.concatenate([hits - 1, hits, hits + 1]), [WITH_KICK])
    # every hit's leak is taken off (to 1e-6 of the tom's level)
    np.testing.assert_allclose(left[:, leak_only], 0, atol=1e-6 * TOM)
    # the tom struck with the kick keeps what lies above the leak, to 1 %
    np.testing.assert_allclose(left[:, WITH_KICK], TOM, rtol=0.01)
    # a tom alone, and frames without toms, are untouched
    np.testing.assert_array_equal(kept[:, ALONE], 1)
    assert np.all((kept >= 0) & (kept <= 1))


def test_a_class_with_too_few_hits_adds_no_leak():
    kick, snare, toms = _activations()
    few = np.zeros_like(kick)
    few[:, KICKS[0]] = kick[:, KICKS[0]]  # one hit: its frame and one either side are MIN_HITS - 1
    assert MIN_HITS == 4
    kept = leak_kept(toms, [few])
    np.testing.assert_array_equal(kept, 1)
    # the kick's leak alone is taken off when the kick has hits enough; the snare's stays
    kept = leak_kept(toms, [kick])
    snare_only = np.setdiff1d(SNARES, KICKS)
    np.testing.assert_allclose((kept * toms)[:, snare_only], toms[:, snare_only], rtol=1e-5)


def test_no_leak_no_change():
    kick, snare, toms = _activations()
    toms = np.zeros_like(toms)
    toms[:, ALONE] = TOM  # toms that never sound with the kick or snare
    np.testing.assert_array_equal(leak_kept(toms, [kick, snare]), 1)


def test_bad_shapes_are_named():
    kick, snare, toms = _activations()
    with pytest.raises(ValueError, match="toms must have shape"):
        leak_kept(toms[0], [kick])
    with pytest.raises(ValueError, match="the toms' shape"):
        leak_kept(toms, [kick[:, :-1]])
    with pytest.raises(ValueError, match="min_hits"):
        leak_kept(toms, [kick], min_hits=0)


def test_the_separation_takes_the_leak_off_the_toms_masks_only(monkeypatch):
    # wiring: in a drum recording the toms parts' activations in the masks are the fit's
    # times leak_kept (seen by the kick/toms step, the first to read them); the reported
    # activations stay the fit's
    import nmfaudio
    from nmfaudio.drums import separation
    from nmfaudio.drums.templates import class_of
    from test_drums import DATA

    y, sr = nmfaudio.load(DATA / "drum_loop.wav")
    seen = {}

    def spy(P, H, route, labels, frame_rate):
        seen["H"] = H.copy()
        seen["labels"] = labels
        return P, H, route

    monkeypatch.setattr(separation, "kick_toms_parts", spy)
    monkeypatch.setattr(separation, "LONE_TOMS", False)
    result = nmfaudio.separate_drums(y, sr, random_state=0, presence_test=False)
    H = seen["H"]
    labels = seen["labels"]
    parts = {c: [k for k, label in enumerate(labels) if class_of(label) == c] for c in ("kick", "snare", "toms")}
    fit = result.activations  # the fit's class activations (input units)
    toms_fit = fit["toms"]
    toms_masks = H[parts["toms"]].sum(axis=(0, 1))
    # the masks' units: the kick's activation is the same in both, up to the fit's scale
    scale = H[parts["kick"]].sum() / float(fit["kick"].sum())
    np.testing.assert_allclose(H[parts["kick"]].sum(axis=(0, 1)), scale * fit["kick"], rtol=1e-4,
                               atol=1e-5 * scale * float(fit["kick"].max()))
    # the masks hold less than the fit (the leak is there in this loop), never more
    assert toms_masks.sum() < 0.95 * scale * toms_fit.sum()
    assert np.all(toms_masks <= scale * toms_fit * (1 + 1e-4) + 1e-6 * toms_masks.max())
