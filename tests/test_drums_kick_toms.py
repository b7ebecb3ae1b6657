"""A kick part holding toms tuned below the kick, toms parts holding the kick
(nmfaudio.drums.kick_toms): the hits swap outputs only when the kick part's hits split
cleanly into shared ones keeping the groove and lone ones in fills; the model is
unchanged.  Arrays only."""

import numpy as np
import pytest

from nmfaudio.drums.kick_toms import coverage, kick_toms_parts, rerouted_activations, swap_holds, swapped_hits
from nmfaudio.drums.stems import stem_index
from nmfaudio.drums.times import peak_frames

from test_drums import DATA  # the repository's data/, whatever the working directory

LABELS = ("kick", "snare", "toms:low", "toms:mid", "toms:high")
OUTPUTS = ("kick", "snare", "toms")
FRAME_RATE = 43.0  # 22.05 kHz, hop 512
N = 344  # 8 s
GROOVE = np.arange(5, N, 21)  # a kick every ~0.5 s through the recording
FILL = np.array([150, 155, 160, 165, 290, 295, 300, 305])  # two fills of four sixteenths


def _model(P, H):
    """The plain sum over all parts (F, C, N + T - 1): what the move must not change."""
    F, K, T = P.shape
    out = np.zeros((F, H.shape[1], H.shape[2] + T - 1))
    for k in range(K):
        for t in range(T):
            out[:, :, t:t + H.shape[2]] += P[:, k, t][:, None, None] * H[k][None]
    return out


def _templates(seed):
    P = np.random.default_rng(seed).random((6, len(LABELS), 3)).astype(np.float32)
    return P / P.sum(axis=(0, 2), keepdims=True)  # each part sums to 1: the model is the activation


def _activations(groove_shared, fill_shared):
    """The kick part hits at GROOVE (the toms:mid part with it at 1.5 times its level when
    ``groove_shared``) and at FILL (toms:mid with it when ``fill_shared``); a floor tom
    on toms:high at frame 100, the kick part sharing it."""
    H = np.zeros((len(LABELS), 1, N), np.float32)
    groove = np.setdiff1d(GROOVE, np.concatenate([FILL - 2, FILL - 1, FILL, FILL + 1, FILL + 2]))
    H[0, 0, groove] = 1.0
    H[0, 0, FILL] = 0.8
    if groove_shared:
        H[3, 0, groove] = 1.5
    if fill_shared:
        H[3, 0, FILL] = 1.2
    H[1, 0, np.arange(15, N, 42)] = 2.0  # the snare, not involved
    H[4, 0, 100] = 1.0
    H[0, 0, 100] = 0.5
    return H, groove


def test_kick_in_the_toms_and_toms_in_the_kick_swap_and_the_model_is_kept():
    P = _templates(0)
    H, groove = _activations(groove_shared=True, fill_shared=False)  # rumpf's case
    route = stem_index(LABELS, OUTPUTS)
    P2, H2, route2 = kick_toms_parts(P, H, route, LABELS, frame_rate=FRAME_RATE)
    # a copy of the kick part (-> toms) and of the one toms part that took the kick (-> kick)
    assert P2.shape == (6, 7, 3) and H2.shape == (7, 1, N)
    np.testing.assert_array_equal(route2, [*route, route[2], route[0]])
    np.testing.assert_allclose(_model(P2, H2), _model(P, H), rtol=1e-5, atol=1e-7)
    # the fills' kick-part hits go to the toms, the groove's toms:mid hits to the kick
    np.testing.assert_array_equal(H2[5, 0, FILL], H[0, 0, FILL])
    np.testing.assert_array_equal(H2[0, 0, FILL], 0)
    np.testing.assert_array_equal(H2[6, 0, groove], H[3, 0, groove])
    np.testing.assert_array_equal(H2[3, 0, groove], 0)
    # the kick part keeps the groove, the snare and the floor tom (toms:high) are untouched
    np.testing.assert_array_equal(H2[0, 0, groove], H[0, 0, groove])
    np.testing.assert_array_equal(H2[1], H[1])
    np.testing.assert_array_equal(H2[4], H[4])


def test_a_kick_part_holding_only_the_kick_is_left_alone():
    P = _templates(1)
    H, _ = _activations(groove_shared=False, fill_shared=True)  # toms in the toms parts
    H[0, 0, FILL] = 0  # and the kick part silent in the fills: a kit as the templates expect
    route = stem_index(LABELS, OUTPUTS)
    P2, H2, route2 = kick_toms_parts(P, H, route, LABELS, frame_rate=FRAME_RATE)
    assert P2 is P and H2 is H and route2 is route


def test_lone_hits_keeping_the_groove_are_the_kick():
    # the kick part alone through the groove, sharing the fills with a toms part (toms
    # below a kick the kick part holds: Audiophob with its kick and toms samples
    # exchanged, tuning seed 4): the kick part's lone hits are the kick, nothing moves
    P = _templates(2)
    H, _ = _activations(groove_shared=False, fill_shared=True)
    route = stem_index(LABELS, OUTPUTS)
    P2, H2, route2 = kick_toms_parts(P, H, route, LABELS, frame_rate=FRAME_RATE)
    assert P2 is P and H2 is H and route2 is route


def test_lone_hits_scattered_through_the_groove_are_not_fills():
    # every other groove hit lone (a toms part sharing only the loud kicks): no runs
    kick = np.zeros(N, np.float32)
    toms = np.zeros(N, np.float32)
    kick[GROOVE] = 1.0
    toms[GROOVE[::2]] = 1.0
    hits, lone, shared = swapped_hits(kick, toms, frame_rate=FRAME_RATE)
    np.testing.assert_array_equal(hits, GROOVE)
    assert lone is None and shared is None


@pytest.mark.parametrize("seed, groove_shared, fill_shared", [(0, True, False), (1, False, True), (2, False, True)])
def test_swap_holds_is_the_swaps_own_test(seed, groove_shared, fill_shared):
    # swap_holds (what nmfaudio.drums.tom_leak reads) says True exactly when kick_toms_parts moves
    P = _templates(seed)
    H, _ = _activations(groove_shared=groove_shared, fill_shared=fill_shared)
    route = stem_index(LABELS, OUTPUTS)
    moved = kick_toms_parts(P, H, route, LABELS, frame_rate=FRAME_RATE)[1] is not H
    assert swap_holds(P, H, LABELS, frame_rate=FRAME_RATE) is moved
    assert moved is groove_shared
    assert swap_holds(P[:, :2], H[:2], LABELS[:2], frame_rate=FRAME_RATE) is False  # no toms parts


def test_coverage_counts_the_frames_near_a_hit():
    assert coverage(np.array([10]), 100, 5) == 0.11
    assert coverage(np.array([0, 99]), 100, 0) == 0.02
    assert coverage(np.zeros(0, int), 100, 5) == 0.0


def test_no_kick_or_no_toms_parts_leave_the_inputs():
    P = _templates(3)[:, :2]
    H = np.ones((2, 1, N), np.float32)
    route = stem_index(LABELS[:2], OUTPUTS[:2])
    out = kick_toms_parts(P, H, route, LABELS[:2], frame_rate=FRAME_RATE)
    assert out[0] is P and out[1] is H and out[2] is route


def test_toms_not_asked_for_take_the_lone_hits_to_the_residual():
    # classes=("kick", "snare"): the toms the kick part held go to the residual, never
    # into a requested stem; the kick still gets its share back from the toms parts
    P = _templates(4)
    H, _ = _activations(groove_shared=True, fill_shared=False)
    outputs = ("kick", "snare")
    route = stem_index(LABELS, outputs)
    residual = len(outputs)
    assert route[2] == residual  # the toms parts' own output: the residual
    _, H2, route2 = kick_toms_parts(P, H, route, LABELS, frame_rate=FRAME_RATE)
    np.testing.assert_array_equal(route2[len(LABELS):], [residual, route[0]])
    np.testing.assert_array_equal(H2[5, 0, FILL], H[0, 0, FILL])


def test_peak_frames_finds_the_local_maxima_above_the_share():
    a = np.array([0.0, 1.0, 0.2, 0.05, 0.3, 0.3, 0.1, 0.15, 0.0])
    # 1.0 at frame 1, the plateau 0.3 once at its first frame 4, the small peak 0.15 at
    # frame 7 only when the share lets it in
    assert peak_frames(a, 0.2).tolist() == [1, 4]
    assert peak_frames(a, 0.1).tolist() == [1, 4, 7]
    assert peak_frames(np.zeros(5), 0.1).size == 0
    assert peak_frames(np.zeros(0), 0.1).size == 0


def _by_output(H, route, n_outputs):
    """Each output's activation: the rows routed to it, summed (n_outputs, C, N)."""
    return np.stack([H[route == d].sum(axis=0) for d in range(n_outputs)])


def test_rerouted_activations_follow_the_rows_to_their_outputs():
    # the class activations a separation reports (sums of the labelled parts by class)
    # plus the change are each output's rows summed after the move: the fill's hits are
    # the toms', the groove's toms:mid hits the kick's; the total is kept
    P = _templates(5)
    H, groove = _activations(groove_shared=True, fill_shared=False)
    index = stem_index(LABELS, OUTPUTS)
    _, H2, route2 = kick_toms_parts(P, H, index, LABELS, frame_rate=FRAME_RATE)
    change = rerouted_activations(H, H2, route2, index, len(OUTPUTS))
    classes_before = _by_output(H, index, len(OUTPUTS))
    np.testing.assert_allclose(classes_before + change, _by_output(H2, route2, len(OUTPUTS)), atol=1e-6)
    np.testing.assert_allclose(change.sum(axis=0), 0, atol=1e-6)  # moved, not made
    kick, toms = OUTPUTS.index("kick"), OUTPUTS.index("toms")
    np.testing.assert_allclose((classes_before + change)[toms, 0, FILL], H[0, 0, FILL], atol=1e-6)
    np.testing.assert_allclose((classes_before + change)[kick, 0, FILL], 0, atol=1e-6)
    np.testing.assert_allclose((classes_before + change)[kick, 0, groove], H[0, 0, groove] + H[3, 0, groove],
                               atol=1e-6)
    np.testing.assert_array_equal(change[OUTPUTS.index("snare")], 0)


def test_rerouted_activations_drop_what_goes_to_the_residual():
    # toms not asked for: the fill leaves the kick's activation and reaches no reported class
    P = _templates(6)
    H, _ = _activations(groove_shared=True, fill_shared=False)
    outputs = ("kick", "snare")
    index = stem_index(LABELS, outputs)
    _, H2, route2 = kick_toms_parts(P, H, index, LABELS, frame_rate=FRAME_RATE)
    change = rerouted_activations(H, H2, route2, index, len(outputs))
    assert change.shape == (2, 1, N)
    np.testing.assert_allclose(change[0, 0, FILL], -H[0, 0, FILL], atol=1e-6)
    np.testing.assert_array_equal(change[1], 0)


def test_the_separations_activations_and_hits_follow_the_swap(monkeypatch):
    # wiring: when the re-routing moves the kick part's activation in some frames to the
    # toms' output, result.activations (and so hits() and the MIDI file) move it too;
    # the class activations' sum is kept (to float32 rounding of the fit's scale)
    import nmfaudio
    from nmfaudio.drums import separation
    from nmfaudio.drums.kick_toms import moved_parts

    y, sr = nmfaudio.load(DATA / "drum_loop.wav")
    y = y[: 4 * sr]
    monkeypatch.setattr(separation, "LONE_TOMS", False)
    plain = nmfaudio.separate_drums(y, sr, random_state=0)
    moved_frames = np.zeros(plain.activations["kick"].shape[-1], bool)
    moved_frames[40:120] = True  # about 1 s of the kick's hits

    def kick_to_toms(P, H, route, labels, frame_rate):
        kicks = [k for k, label in enumerate(labels) if label.split(":")[0] == "kick"]
        toms = [k for k, label in enumerate(labels) if label.split(":")[0] == "toms"]
        return moved_parts(P, H, route, [(k, moved_frames, route[toms[0]]) for k in kicks])

    monkeypatch.setattr(separation, "kick_toms_parts", kick_to_toms)
    swapped = nmfaudio.separate_drums(y, sr, random_state=0)
    kick, toms = plain.activations["kick"], plain.activations["toms"]
    assert kick[moved_frames].max() > 0  # kick hits were there to move
    np.testing.assert_allclose(swapped.activations["kick"][moved_frames], 0, atol=1e-6 * kick.max())
    np.testing.assert_allclose(swapped.activations["kick"][~moved_frames], kick[~moved_frames], rtol=1e-5,
                               atol=1e-6 * kick.max())
    np.testing.assert_allclose(swapped.activations["toms"], toms + np.where(moved_frames, kick, 0), rtol=1e-5,
                               atol=1e-6 * kick.max())
    for label in ("snare", "hihat", "cymbals"):
        np.testing.assert_array_equal(swapped.activations[label], plain.activations[label])
    # the hits read them: the kick's hits in those frames are now the toms'
    frame_s = plain.hop_length / sr
    hits_plain, hits_swapped = plain.hits(), swapped.hits()
    inside = lambda t: (t >= 40 * frame_s) & (t < 120 * frame_s)
    assert np.sum(inside(hits_plain["kick"].times)) >= 1
    assert np.sum(inside(hits_swapped["kick"].times)) == 0
    assert np.sum(inside(hits_swapped["toms"].times)) >= 1
