"""The drum fit's schedule: the first share of the iterations with every template fixed
(nmfaudio.drums.stems.FIXED_FIRST_SHARE), then the templates adapt within their caps."""

import dataclasses

import numpy as np
import pytest

from nmfaudio.drums import stems
from nmfaudio.drums.model import _fit

from test_drums import DATA  # the repository's data/, whatever the working directory


def _problem(seed=0, F=24, K=3, T=4, N=80):
    rng = np.random.default_rng(seed)
    P_true = rng.random((F, K, T)).astype(np.float32)
    H_true = (rng.random((K, 1, N)) < 0.15) * rng.random((K, 1, N))
    V = np.einsum("fkt,kcn->fcn", P_true[:, :, :1], H_true).astype(np.float32) + np.float32(1e-3)
    P0 = (P_true + 0.3 * rng.random((F, K, T))).astype(np.float32)
    P0 /= P0.sum(axis=(0, 2), keepdims=True)
    return V, P0


def _run(V, P0, max_iter, callback=None, seed=0):
    return _fit(V, P0, beta=1.0, max_iter=max_iter, adapt=True, max_gain=P0 * np.float32(10.0), n_free=0,
                engine=None, rng=np.random.default_rng(seed), callback=callback)


def test_loss_never_increases_across_the_switch_and_counts_every_iteration():
    V, P0 = _problem()
    seen = []
    fit = _run(V, P0, 20, callback=lambda i, loss: seen.append((i, loss)))
    loss = np.asarray(fit.loss)
    assert fit.n_iter == 20 and len(loss) == 21
    assert [i for i, _ in seen] == list(range(1, 21))  # one numbering over both phases
    # KL multiplicative updates never increase the loss (tolerance: float32 rounding)
    assert np.all(np.diff(loss) <= 1e-5 * loss[:-1])
    assert not np.allclose(fit.P, P0)  # the templates did adapt after the fixed phase


def test_templates_are_unchanged_when_stopped_during_the_fixed_phase():
    V, P0 = _problem(seed=1)
    n_fixed = int(20 * stems.FIXED_FIRST_SHARE)  # 4 of 20 at the default 0.2
    assert n_fixed >= 2
    fit = _run(V, P0, 20, callback=lambda i, loss: i >= n_fixed // 2)
    assert fit.stopped and fit.n_iter == n_fixed // 2
    np.testing.assert_array_equal(fit.P, P0)  # frozen templates are bit-identical


def _presence_run(V, P0, presence, max_iter=20, callback=None):
    return _fit(V, P0, beta=1.0, max_iter=max_iter, adapt=True, max_gain=P0 * np.float32(10.0), n_free=0,
                engine=None, rng=np.random.default_rng(0), callback=callback, presence=presence)


def test_dominance_is_one_for_a_template_alone_in_its_band_and_small_for_a_copy():
    # a template whose spectrum nothing else covers explains its band alone at its hits (1);
    # a second template sharing a playing one's spectrum never holds more than its share
    from nmfaudio.drums.model import dominance

    F, N = 8, 40
    P = np.zeros((F, 3, 1), np.float32)
    P[:4, 0, 0] = 1  # low drum
    P[4:, 1, 0] = 1  # high drum
    P[4:, 2, 0] = 1  # a copy of the high drum's spectrum
    H = np.zeros((3, N), np.float32)
    H[0, ::5] = 1
    H[1, 2::5] = 1
    H[2, 2::5] = 0.25  # the copy takes a fifth of the high drum's hits
    V = np.einsum("fkt,kn->fn", P, H)
    assert abs(dominance(V, P, H, [0]) - 1) < 1e-6
    assert abs(dominance(V, P, H, [2]) - 0.2) < 1e-6
    assert abs(dominance(V, P, H, [1, 2]) - 1) < 1e-6
    assert dominance(V, P, H, []) == 0.0
    # a template that starts with a silent frame is weighted by its first sounding one (it
    # was weighted by nothing, measured 0 and counted as not playing)
    late = np.concatenate([np.zeros_like(P), P], axis=2)  # every template one frame later
    H_late = np.roll(H, -1, axis=1)
    H_late[:, -1] = 0
    V_late = np.einsum("fkt,kn->fn", P, H)
    assert abs(dominance(V_late, late, H_late, [0]) - 1) < 1e-6
    assert abs(dominance(V_late, late, H_late, [2]) - 0.2) < 1e-6


def test_presence_test_silences_a_group_under_its_threshold_and_changes_nothing_otherwise():
    V, P0 = _problem(seed=2)
    plain = _run(V, P0, 20)
    kept = _presence_run(V, P0, [(np.array([2]), 0.0)])  # a threshold nothing is under: same updates
    np.testing.assert_allclose(kept.H, plain.H, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(kept.loss, plain.loss, rtol=1e-5)
    seen = []
    dropped = _presence_run(V, P0, [(np.array([2]), 1.1)], callback=lambda i, loss: seen.append(i))
    assert not dropped.H[2].any() and dropped.H[:2].any()  # the tested template is silent at the end
    assert dropped.n_iter == 20 and [i for i in seen] == list(range(1, 21))  # one numbering throughout
    n_test = int(20 * stems.PRESENCE_AT_SHARE)
    # the loss jumps where the template is dropped, and never increases otherwise
    steps = np.diff(np.asarray(dropped.loss))
    assert np.all(np.delete(steps, n_test) <= 1e-5 * np.asarray(dropped.loss)[:-1][np.arange(20) != n_test])


def test_no_iterations_still_gives_activations():
    # max_iter=0 (the split at the presence test leaves no stage to run): the starting H,
    # not None
    V, P0 = _problem()
    for presence in ((), [(np.array([2]), 1.1)]):
        fit = _presence_run(V, P0, presence, max_iter=0)
        assert fit.n_iter == 0 and fit.H is not None and fit.H.shape == (P0.shape[1], 1, V.shape[2])
        np.testing.assert_array_equal(fit.P, P0)


def test_anchor_activations_keeps_only_the_peaks_and_their_neighbours():
    from nmfaudio.drums.model import anchor_activations

    H = np.zeros((2, 2, 30), np.float32)
    H[0, :, 5] = [2.0, 1.0]  # a hit (channel sum 3: the maximum)
    H[0, 0, 4] = H[0, 0, 6] = 0.5  # its neighbours
    H[0, 0, 15] = 0.2  # a peak under 0.25 × 3
    H[0, 1, 20] = 1.0  # a peak over it, on one channel
    H[0, :, 25:] = 0.01  # a low floor
    H[1] = 1.0  # another template, not anchored
    out = anchor_activations(H, [0], 0.25)
    kept = np.flatnonzero(out[0].sum(axis=0))
    assert kept.tolist() == [4, 5, 6, 20]  # the two peaks over 0.75 and their (non-zero) neighbours
    np.testing.assert_array_equal(out[0][:, [4, 5, 6, 20]], H[0][:, [4, 5, 6, 20]])  # the hits unchanged
    assert not out[0][:, 15].any() and not out[0][:, 25:].any()
    np.testing.assert_array_equal(out[1], H[1])  # other templates untouched
    assert H[0, 0, 15] == np.float32(0.2)  # the input is not modified
    assert not anchor_activations(H, [0], 0.25, reach=0)[0][:, [4, 6]].any()  # reach 0: the peak frame only



def test_model_share_is_each_templates_share_of_the_model():
    from nmfaudio.drums.model import model_share

    rng = np.random.default_rng(0)
    H = rng.random((3, 2, 40)).astype(np.float32)
    H[:, :, 30:] = 0  # a silent stretch (the templates are 4 frames long)
    P = rng.random((6, 3, 4)).astype(np.float32)
    shares = np.stack([model_share(H, P, k) for k in range(3)])  # (3, N)
    assert shares.shape == (3, 40) and (shares >= 0).all() and (shares <= 1).all()
    np.testing.assert_allclose(shares[:, :33].sum(axis=0), 1, atol=1e-6)  # the shares add up where it plays
    assert not shares[:, 33:].any()  # 0 where the model is silent
    # a template alone at a frame holds all of it
    H2 = np.zeros((2, 1, 20), np.float32)
    H2[0, 0, 5] = 1.0
    assert model_share(H2, P[:, :2], 0)[5] == 1.0


def test_anchor_activations_keeps_the_peaks_the_template_shares_with_the_others():
    # with the templates and quantile 0.5, only the half of the peaks where the anchored
    # template's share of the model is the lowest are hits: a peak it explains alone is
    # more often a music onset than a drum hit (stems.ANCHOR_SHARE_QUANTILE)
    from nmfaudio.drums.model import anchor_activations

    H = np.zeros((2, 1, 60), np.float32)
    P = np.ones((4, 2, 1), np.float32)  # one-frame templates of equal energy
    for frame in (5, 15, 25, 35):
        H[0, 0, frame] = 1.0
    for frame in (15, 35):  # the other template plays with two of the peaks
        H[1, 0, frame] = 2.0
    out = anchor_activations(H, [0], 0.25, P=P, quantile=0.5)
    assert np.flatnonzero(out[0, 0]).tolist() == [15, 35]
    np.testing.assert_array_equal(out[1], H[1])
    # quantile 1 (or no templates): every peak over the level, as before
    for kwargs in ({"P": P, "quantile": 1.0}, {}):
        assert np.flatnonzero(anchor_activations(H, [0], 0.25, **kwargs)[0, 0]).tolist() == [5, 15, 25, 35]
    # with a reference (the kick's parts): only where the template has more than `crowded`
    # times as many peaks as the reference; template 1 has 2 peaks, template 0 has 4
    crowded = anchor_activations(H, [0], 0.25, P=P, quantile=0.5, reference=[1], crowded=1.5)
    assert np.flatnonzero(crowded[0, 0]).tolist() == [15, 35]  # 4 > 1.5 x 2: selected
    sparse = anchor_activations(H, [0], 0.25, P=P, quantile=0.5, reference=[1], crowded=2.0)
    assert np.flatnonzero(sparse[0, 0]).tolist() == [5, 15, 25, 35]  # 4 = 2 x 2: not crowded, every peak
    # a single peak is kept whatever its share
    H1 = np.zeros((2, 1, 20), np.float32)
    H1[0, 0, 8] = 1.0
    assert np.flatnonzero(anchor_activations(H1, [0], 0.25, P=P, quantile=0.5)[0, 0]).tolist() == [8]


def test_anchored_templates_are_kept_for_the_release_and_the_loss_is_counted_once():
    V, P0 = _problem(seed=3)
    seen = []
    fit = _fit(V, P0, beta=1.0, max_iter=20, adapt=True, max_gain=P0 * np.float32(10.0), n_free=0, engine=None,
               rng=np.random.default_rng(0), callback=lambda i, loss: seen.append(i),
               anchored=[(np.array([1]), 0.25)])
    assert fit.n_iter == 20 and seen == list(range(1, 21))  # one numbering over the three runs
    assert not np.allclose(fit.P[:, 1], P0[:, 1])  # the anchored template adapted (before the release)
    assert fit.H[1].any() and fit.H[0].any()
    # the anchored activations are freed for the release: more frames active than peaks
    n_peaks = np.count_nonzero(fit.H[1, 0] > 0.25 * fit.H[1, 0].max())
    assert np.count_nonzero(fit.H[1, 0]) > n_peaks
    plain = _run(V, P0, 20)
    assert not np.allclose(fit.P[:, 1], plain.P[:, 1])  # anchoring changed what it learned


def test_a_fit_stopped_while_anchored_gives_back_the_freed_activations():
    # stopped by the callback inside the anchored stretch (after the fixed iterations,
    # before the release), the anchored template's activations are not left cut to its
    # peaks: they are freed as the release would free them
    V, P0 = _problem(seed=3)
    n_fixed = int(20 * stems.FIXED_FIRST_SHARE)
    stop_at = n_fixed + 3
    assert stop_at < 20 - int(20 * stems.ANCHOR_RELEASE_SHARE)  # inside the anchored stretch
    fit = _fit(V, P0, beta=1.0, max_iter=20, adapt=True, max_gain=P0 * np.float32(10.0), n_free=0, engine=None,
               rng=np.random.default_rng(0), callback=lambda i, loss: i >= stop_at,
               anchored=[(np.array([1]), 0.25)])
    assert fit.stopped and fit.n_iter == stop_at
    # freed: active in every frame, as after the fixed iterations (cut, 24 of 80 frames here)
    assert np.count_nonzero(fit.H[1, 0]) == V.shape[2]
    assert np.all(np.isfinite(fit.H)) and fit.H.min() >= 0


def _guided_problem(seed, F=32, T=2, N=160):
    """Three drums; the first one's starting template a mismatched one-shot (an unrelated
    spectrum), its true template the guide (as the bundled kick guides a user's tom-like one)."""
    from nmfaudio.nmf.nmfd import convolutive_model

    rng = np.random.default_rng(seed)
    P_true = (rng.random((F, 3, T)) ** 4).astype(np.float32)
    P_true /= P_true.sum(axis=(0, 2), keepdims=True)
    H_true = ((rng.random((3, N)) < 0.1) * (0.5 + rng.random((3, N)))).astype(np.float32)
    V = (convolutive_model(P_true, H_true) + 1e-3).astype(np.float32)[:, None, :]
    P0 = P_true.copy()
    P0[:, 0] = rng.random((F, T)) ** 4
    P0 /= P0.sum(axis=(0, 2), keepdims=True)
    return V, P0, P_true[:, :1], H_true


def _guided_run(V, P0, guides, max_iter=20, callback=None):
    return _fit(V, P0, beta=1.0, max_iter=max_iter, adapt=True, max_gain=P0 * np.float32(10.0), n_free=0,
                engine=None, rng=np.random.default_rng(0), callback=callback, guides=guides)


def test_a_guide_in_the_fixed_phase_finds_the_hits_of_a_mismatched_template():
    # stems.GUIDE_LABELS: the guide's activations join its target's after the fixed phase.
    # Over 8 seeded problems the target's activation follows the true hits at least as well
    # (correlation within 0.01) and, on average, better by 0.05 or more (measured: 0.10).
    gains = []
    for seed in range(8):
        V, P0, guide, H_true = _guided_problem(seed)
        plain = _guided_run(V, P0, None)
        guided = _guided_run(V, P0, (guide, [0]))
        assert guided.H.shape == plain.H.shape == (3, 1, V.shape[2])  # the guides leave no rows behind
        r_plain, r_guided = (np.corrcoef(fit.H[0, 0], H_true[0])[0, 1] for fit in (plain, guided))
        assert r_guided >= r_plain - 0.01
        gains.append(r_guided - r_plain)
    assert np.mean(gains) >= 0.05


def test_guided_fit_stopped_in_the_fixed_phase_keeps_the_templates():
    V, P0, guide, _ = _guided_problem(5)
    n_fixed = int(20 * stems.FIXED_FIRST_SHARE)
    fit = _guided_run(V, P0, (guide, [0]), callback=lambda i, loss: i >= n_fixed // 2)
    assert fit.stopped and fit.n_iter == n_fixed // 2 and fit.H.shape[0] == 3
    np.testing.assert_array_equal(fit.P, P0)  # frozen templates are bit-identical


def test_guides_only_for_a_users_kick_and_snare_and_the_stems_still_add_up():
    # the bundled templates are never guided (their separation is unchanged); a user's
    # templates are, and the stems still add up to the mixture (float rounding: 1e-4 of the peak)
    import nmfaudio
    from nmfaudio.drums import separation
    from nmfaudio.drums.templates import default_templates

    y, sr = nmfaudio.load(DATA / "drum_loop.wav")
    y = y[..., : 4 * sr]
    seen = []
    original = separation._fit

    def spy(*args, guides=None, **kwargs):
        seen.append(None if guides is None else len(guides[1]))
        return original(*args, guides=guides, **kwargs)

    separation._fit = spy
    try:
        plain = nmfaudio.separate_drums(y, sr, random_state=0)
        bundled = nmfaudio.separate_drums(y, sr, templates=default_templates(), random_state=0)
        user = default_templates().select(["kick", "snare", "hihat"])
        user = dataclasses.replace(user, P=user.P[:, :, ::-1].copy())  # one-shots unlike the bundled ones
        result = nmfaudio.separate_drums(y, sr, templates=user, random_state=0)
    finally:
        separation._fit = original
    # the bundled kit passed as templates= is not guided by itself: the default's stems (float rounding)
    assert seen == [None, None, len(stems.GUIDE_LABELS)]
    for name, source in plain.sources.items():
        np.testing.assert_allclose(bundled.sources[name], source, atol=1e-6 * np.max(np.abs(y)))
    total = sum(result.sources.values())
    assert np.max(np.abs(total - y)) <= 1e-4 * np.max(np.abs(y))


@pytest.mark.parametrize("n_frames", [1, 2, 3])
def test_anchor_activations_on_fewer_frames_than_the_reach(n_frames):
    # a clip of one or two frames (song mode anchors the snare): the mask has the
    # activations' length, a single frame is its own peak and is kept
    from nmfaudio.drums.model import anchor_activations

    H = np.ones((2, 1, n_frames), np.float32)
    out = anchor_activations(H, [0], 0.25)
    assert out.shape == H.shape and out[0].any()
    np.testing.assert_array_equal(out[1], H[1])


def test_a_song_of_a_few_frames_is_separated():
    # song mode (accompaniment=True) on a clip shorter than three frames: the snare's
    # anchoring (stems.ANCHOR) must not fail, and the outputs still add up (1e-4 of the peak)
    import nmfaudio

    sr = 22050
    t = np.arange(700) / sr
    y = (np.sin(2 * np.pi * 220 * t) + 0.1 * np.random.default_rng(0).standard_normal(t.size)).astype(np.float32)
    result = nmfaudio.separate_drums(y, sr, accompaniment=True, random_state=0)
    total = sum(result.sources.values())
    assert np.max(np.abs(total - y)) <= 1e-4 * np.max(np.abs(y))


def test_anchored_templates_are_kept_for_the_last_share_with_a_presence_test_too():
    # _fit's docstring and stems.ANCHOR: the anchored templates are kept (their activations
    # freed) for the last ANCHOR_RELEASE_SHARE of the iterations, whether or not a presence
    # test splits the adapting iterations; the other templates still adapt there
    V, P0 = _problem(seed=3)
    max_iter = 20
    release_at = max_iter - int(max_iter * stems.ANCHOR_RELEASE_SHARE)
    for presence in ((), [(np.array([2]), 0.0)]):  # threshold 0: tested, never found absent

        def run(stop=None, presence=presence):
            return _fit(V, P0, beta=1.0, max_iter=max_iter, adapt=True, max_gain=P0 * np.float32(10.0), n_free=0,
                        engine=None, rng=np.random.default_rng(0),
                        callback=None if stop is None else (lambda i, loss: i >= stop), presence=presence,
                        anchored=[(np.array([1]), 0.25)])

        full, before = run(), run(stop=release_at)
        assert full.n_iter == max_iter and before.n_iter == release_at
        np.testing.assert_array_equal(full.P[:, 1], before.P[:, 1])
        assert not np.allclose(full.P[:, 0], before.P[:, 0])
        n_peaks = np.count_nonzero(full.H[1, 0] > 0.25 * full.H[1, 0].max())
        assert np.count_nonzero(full.H[1, 0]) > n_peaks  # the anchored activations were freed


def test_guides_only_in_drum_recordings_with_adapting_templates(monkeypatch):
    # stems.GUIDE_LABELS (and the docs): a user's kick and snare are guided in drum
    # recordings only; with adapt=False there are no fixed first iterations to guide
    import nmfaudio
    from nmfaudio.drums import separation
    from nmfaudio.drums.templates import default_templates

    y, sr = nmfaudio.load(DATA / "drum_loop.wav")
    y = y[..., : 2 * sr]
    seen, original = [], separation._fit
    monkeypatch.setattr(separation, "_fit", lambda *a, guides=None, **k: seen.append(guides) or original(
        *a, guides=guides, **k))
    nmfaudio.separate_drums(y, sr, templates=default_templates().select(["kick", "snare", "hihat"]),
                            accompaniment=True, random_state=0)
    assert seen == [None]  # a song: not guided
    V, P0, guide, _ = _guided_problem(5)
    fixed = [_fit(V, P0, beta=1.0, max_iter=20, adapt=False, max_gain=None, n_free=0, engine=None,
                  rng=np.random.default_rng(0), callback=None, guides=guides) for guides in (None, (guide, [0]))]
    np.testing.assert_array_equal(fixed[0].H, fixed[1].H)  # adapt=False: the guide plays no part
