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


def _swap_case(groove_shared):
    """tests/test_drums_kick_toms.py's kit: a kick part hitting a groove and two fills; with
    ``groove_shared`` a toms part holds the kick's body at every groove hit (toms below
    the kick, held-out rumpf's case), else it holds a leak of 0.08 of each kick hit; each
    hit spread over a frame either side."""
    from test_drums_kick_toms import FRAME_RATE, LABELS, _activations, _templates

    P = _templates(0)
    H, groove = _activations(groove_shared=groove_shared, fill_shared=False)
    if not groove_shared:
        H[3] += LEAK_KICK * H[0]
    # each hit spread over a frame either side, as a fit's activation is
    H = sum(share * np.roll(H, offset, axis=-1) for offset, share in ((-1, 0.3), (0, 1.0), (1, 0.4)))
    toms = [2, 3, 4]
    leaked = H.copy()
    leaked[toms] *= leak_kept(H[toms].sum(axis=0), [H[[0]].sum(axis=0), H[[1]].sum(axis=0)])[None]
    return P, H, leaked, LABELS, FRAME_RATE, toms


def test_a_leak_that_would_hide_the_kick_toms_swap_is_not_taken():
    # the toms part's activation at the kick's groove hits is the kick (1.5 times its
    # level at every hit: the median ratio takes it whole); taken off, the kick part's
    # hits no longer split into shared and lone ones and the swap test fails
    from nmfaudio.drums.kick_toms import swap_holds
    from nmfaudio.drums.tom_leak import keeps_swap

    P, H, leaked, labels, frame_rate, toms = _swap_case(groove_shared=True)
    assert swap_holds(P, H, labels, frame_rate=frame_rate)
    assert leaked[toms].sum() < 0.5 * H[toms].sum()  # the leak step takes most of it
    assert not swap_holds(P, leaked, labels, frame_rate=frame_rate)
    assert keeps_swap(P, H, leaked, labels, frame_rate=frame_rate) is False


def test_a_leak_on_a_kit_with_toms_above_the_kick_is_taken():
    from nmfaudio.drums.kick_toms import swap_holds
    from nmfaudio.drums.tom_leak import keeps_swap

    P, H, leaked, labels, frame_rate, toms = _swap_case(groove_shared=False)
    assert leaked[toms].sum() < 0.9 * H[toms].sum()  # a leak is there and is taken
    assert not swap_holds(P, H, labels, frame_rate=frame_rate)
    assert keeps_swap(P, H, leaked, labels, frame_rate=frame_rate) is True


@pytest.mark.parametrize("keeps", [False, True])
def test_the_separation_skips_the_leak_when_it_would_change_the_swap_test(monkeypatch, keeps):
    # wiring: when keeps_swap says the leak changes the kick / toms swap test's outcome,
    # the toms' masks are the fit's (no leak taken); when it does not, the leak is taken;
    # keeps_swap is asked about the fit's activations and the leaked ones
    import nmfaudio
    from nmfaudio.drums import separation, tom_leak
    from nmfaudio.drums.templates import class_of
    from test_drums import DATA

    y, sr = nmfaudio.load(DATA / "drum_loop.wav")
    seen = {}

    def asked(P, H, leaked, labels, *, frame_rate):
        seen["asked"] = (H.copy(), leaked.copy())
        return keeps

    def spy(P, H, route, labels, frame_rate):
        seen["H"] = H.copy()
        seen["labels"] = labels
        return P, H, route

    monkeypatch.setattr(tom_leak, "keeps_swap", asked, raising=False)
    monkeypatch.setattr(separation, "kick_toms_parts", spy)
    monkeypatch.setattr(separation, "LONE_TOMS", False)
    result = nmfaudio.separate_drums(y, sr, random_state=0, presence_test=False)
    assert "asked" in seen  # fails where the leak is taken unasked
    fit_H, leaked = seen["asked"]
    labels = seen["labels"]
    toms = [k for k, label in enumerate(labels) if class_of(label) == "toms"]
    kicks = [k for k, label in enumerate(labels) if class_of(label) == "kick"]
    assert leaked[toms].sum() < 0.95 * fit_H[toms].sum()  # the leak is there in this loop
    np.testing.assert_array_equal(leaked[kicks], fit_H[kicks])
    H = seen["H"]
    scale = H[kicks].sum() / float(result.activations["kick"].sum())
    toms_fit = scale * result.activations["toms"]
    toms_masks = H[toms].sum(axis=(0, 1))
    if keeps:
        np.testing.assert_allclose(toms_masks, leaked[toms].sum(axis=(0, 1)), rtol=1e-6, atol=1e-9)
    else:  # the fit's, to float32 rounding of the scale
        np.testing.assert_allclose(toms_masks, toms_fit, rtol=1e-4, atol=1e-5 * float(toms_fit.max()))
