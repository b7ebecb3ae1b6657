"""nmfaudio.separate: two-tone mixtures separate; tracks add up to the mixture; the engine
is pluggable; results are reproducible."""

import warnings

import numpy as np
import pytest

import nmfaudio
from nmfaudio import separate
from nmfaudio.metrics import best_permutation

SR = 8000
FRAMES = {"n_fft": 1024, "hop_length": 256}


def two_tones(*, stereo=False, noise=1e-4, duration=1.5, seed=99):
    """Two harmonic tones (440 Hz and 554 Hz, a major third: overlapping partials' bands)
    with staggered on/off envelopes, overlapping in the middle, silent gaps (exact zeros
    but for a faint white noise floor).  Returns (references, mixture) as float32:
    references (2, n) or (2, 2, n) — stereo pans the tones to opposite sides."""
    n = int(duration * SR)
    t = np.arange(n) / SR

    def gate(on, off, ramp=0.01):
        return np.clip((t - on * duration) / ramp, 0, 1) * np.clip((off * duration - t) / ramp, 0, 1)

    def tone(f0, envelope, amplitude):
        return envelope * sum(amplitude * 0.6**h * np.sin(2 * np.pi * f0 * (h + 1) * t) for h in range(3))

    a = tone(440.0, gate(0.05, 0.45) + gate(0.6, 0.8), 0.5)
    b = tone(554.4, gate(0.25, 0.7) + gate(0.85, 0.95), 0.4)
    refs = np.stack([np.stack([0.9 * a, 0.4 * a]), np.stack([0.3 * b, 0.8 * b])]) if stereo else np.stack([a, b])
    mixture = refs.sum(axis=0) + noise * np.random.default_rng(seed).standard_normal(refs.shape[1:])
    return refs.astype(np.float32), mixture.astype(np.float32)


@pytest.mark.parametrize("stereo", [False, True])
def test_frobenius_separates_two_tones_for_every_seed(stereo):
    refs, y = two_tones(stereo=stereo)
    for seed in range(10):
        result = separate(y, SR, n_components=2, random_state=seed, **FRAMES)
        _, scores = best_permutation(refs, result.components)
        assert scores.min() >= 20, f"seed {seed}: SI-SDR {scores} dB, need >= 20 dB per track"


@pytest.mark.parametrize("stereo, noise", [(False, 0.0), (False, 1e-4), (True, 1e-4)])
def test_itakura_saito_separates_two_tones_with_silent_gaps(stereo, noise):
    refs, y = two_tones(stereo=stereo, noise=noise)
    worst = []
    for seed in range(10):
        result = separate(y, SR, n_components=2, beta="itakura-saito", random_state=seed, **FRAMES)
        worst.append(best_permutation(refs, result.components)[1].min())
    successes = sum(w >= 15 for w in worst)
    assert successes >= 9, f"only {successes}/10 seeds reach 15 dB (worst track per seed: {np.round(worst, 1)})"


def test_without_the_noise_floor_itakura_saito_fails_on_this_mixture():
    # The floor is what makes IS multiplicative updates work here: without it, most seeds
    # lose a tone to the noise floor (measured 3/10 successes with "mu"; "auto"'s Frobenius
    # warm start gets 10/10 by itself, so "mu" is pinned).  Guards against a test mixture
    # too easy to matter.
    refs, y = two_tones()
    worst = [best_permutation(refs, separate(y, SR, n_components=2, beta="itakura-saito", noise_floor=0,
                                             solver="mu", random_state=seed, **FRAMES).components)[1].min()
             for seed in range(10)]
    assert sum(w >= 15 for w in worst) < 9


@pytest.mark.parametrize("beta, mask_power", [("frobenius", 1.0), ("kullback-leibler", 2.0),
                                              ("itakura-saito", "binary")])
@pytest.mark.parametrize("stereo", [False, True])
def test_tracks_sum_to_the_mixture_with_its_shape_and_dtype(beta, mask_power, stereo):
    _, y = two_tones(stereo=stereo, duration=0.5)
    y = y[..., :3001]  # a length that is not a multiple of the hop
    result = separate(y, SR, n_components=3, beta=beta, mask_power=mask_power, random_state=0, max_iter=30, tol=0, **FRAMES)
    assert result.components.shape == (3,) + y.shape
    assert result.components.dtype == np.float32
    error = np.abs(result.components.sum(axis=0) - y).max()
    assert error <= 1e-4 * np.abs(y).max(), f"tracks miss the mixture by {error:.3g}"  # float32 tolerance
    M = result.masks
    assert M.shape == (3,) + y.shape[:-1] + (513, result.H.shape[-1])
    np.testing.assert_allclose(M.sum(axis=0), 1.0, atol=1e-6)  # a partition, float32 rounding


def test_components_are_ordered_by_spectral_centroid():
    refs, y = two_tones()
    result = separate(y, SR, n_components=2, random_state=3, **FRAMES)
    order, _ = best_permutation(refs, result.components)
    np.testing.assert_array_equal(order, [0, 1])  # 440 Hz tone first, 554 Hz second
    bins = np.arange(result.W.shape[0])
    centroids = bins @ result.W / result.W.sum(axis=0)
    assert np.all(np.diff(centroids) > 0)


def test_same_seed_gives_identical_wav_bytes(tmp_path):
    _, y = two_tones(stereo=True, duration=0.5)
    paths_a = separate(y, SR, n_components=2, random_state=7, **FRAMES).save(tmp_path / "a")
    paths_b = separate(y, SR, n_components=2, random_state=7, **FRAMES).save(tmp_path / "b")
    assert [p.name for p in paths_a] == ["mixture_component_01.wav", "mixture_component_02.wav"]
    assert [p.read_bytes() for p in paths_a] == [p.read_bytes() for p in paths_b]


def test_save_round_trip_and_refuses_to_overwrite(tmp_path):
    _, y = two_tones(stereo=True, duration=0.5)
    result = separate(y, SR, n_components=2, random_state=0, **FRAMES)
    paths = result.save(tmp_path, name="loop")
    assert [p.name for p in paths] == ["loop_component_01.wav", "loop_component_02.wav"]
    for path, track in zip(paths, result.components):
        z, sr = nmfaudio.load(path)
        assert sr == SR
        np.testing.assert_array_equal(z, track)  # float WAV: exact
    before = paths[1].read_bytes()
    paths[0].unlink()
    with pytest.raises(FileExistsError, match="loop_component_02.wav"):
        result.save(tmp_path, name="loop")
    assert not paths[0].exists() and paths[1].read_bytes() == before  # nothing written
    result.save(tmp_path, name="loop", overwrite=True)
    assert paths[0].exists()


def test_path_input_uses_file_stem_and_resamples(tmp_path):
    _, y = two_tones(duration=0.5)
    nmfaudio.save(tmp_path / "song.wav", y, SR)
    result = separate(tmp_path / "song.wav", n_components=2, random_state=0, **FRAMES)
    assert result.sr == SR and result.name == "song" and result.components.shape == (2, y.size)
    resampled = separate(str(tmp_path / "song.wav"), 16000, n_components=2, random_state=0, **FRAMES)
    assert resampled.sr == 16000 and resampled.components.shape == (2, 2 * y.size)


def test_fixed_templates_stay_bit_identical():
    refs, y = two_tones()
    learned = separate(refs[0], SR, n_components=1, random_state=0, **FRAMES).W
    other = np.random.default_rng(0).random(learned.shape).astype(np.float32)
    W = np.hstack([other, learned])  # component 1 (the 440 Hz tone's template) fixed
    result = separate(y, SR, n_components=2, W=W, fix_W=[1], random_state=0, **FRAMES)
    matches = [np.array_equal(result.W[:, j], learned[:, 0]) for j in range(2)]
    assert sum(matches) == 1, "the fixed template must come back unchanged (in some position)"


def test_callback_sees_every_iteration_and_can_stop():
    _, y = two_tones(duration=0.5)
    seen = []
    result = separate(y, SR, n_components=2, beta="itakura-saito", max_iter=40, tol=0, random_state=0,
                      callback=lambda i, loss: seen.append(i), **FRAMES)
    total = nmfaudio.pipeline.planned_iterations("itakura-saito", 40)
    assert seen == list(range(1, total + 1)) and result.n_iter == total
    stopped = separate(y, SR, n_components=2, max_iter=40, tol=0, random_state=0,
                       callback=lambda i, loss: i >= 5, **FRAMES)
    assert stopped.n_iter == 5 and stopped.loss.shape == (6,)


def test_engine_callable_is_called_with_the_factorize_signature():
    _, y = two_tones(duration=0.5)
    calls = []

    def engine(V, n_components, **kwargs):
        calls.append((V.shape, n_components, kwargs["beta"]))
        return nmfaudio.factorize(V, n_components, **kwargs)

    result = separate(y, SR, n_components=2, random_state=0, engine=engine, **FRAMES)
    assert calls == [((513, result.H.shape[1]), 2, "frobenius")]
    reference = separate(y, SR, n_components=2, random_state=0, **FRAMES)
    np.testing.assert_array_equal(result.components, reference.components)


def test_engine_sklearn_transformer():
    from sklearn.decomposition import NMF

    refs, y = two_tones()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's own convergence warnings
        transformer = NMF(n_components=2, init="nndsvda", max_iter=400, random_state=0)
        result = separate(y, SR, n_components=2, engine=transformer, **FRAMES)
    assert hasattr(transformer, "components_")  # the caller's transformer is fitted, as in librosa
    _, scores = best_permutation(refs, result.components)
    assert scores.min() >= 20, f"sklearn engine SI-SDR {scores}"


def test_a_transformer_engine_fits_the_beta_the_result_names():
    """A transformer fits its own beta_loss: separate(beta="itakura-saito", engine=NMF())
    named an Itakura-Saito separation of a Frobenius fit, its loss converted to the input's
    level with the wrong power (before 2026-12-06, tour18).  Unequal betas are refused
    naming both; equal ones (a float, a name) fit.  An engine with no components_ (a
    Pipeline) is a TypeError naming it, not an AttributeError."""
    from sklearn.decomposition import NMF
    from sklearn.pipeline import make_pipeline

    refs, y = two_tones()
    with pytest.raises(ValueError, match=r"^beta='itakura-saito' but the engine NMF has beta_loss='frobenius'; make "
                                         r"them equal, e\.g\. beta='frobenius'"):
        separate(y, SR, n_components=2, beta="is", engine=NMF(n_components=2), **FRAMES)
    with pytest.raises(ValueError, match=r"^beta='frobenius' but the engine NMF has beta_loss='kullback-leibler'"):
        separate(y, SR, n_components=2, engine=nmfaudio.NMF(n_components=2, beta_loss="kullback-leibler"), **FRAMES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the engines' convergence warnings
        for beta, loss in (("kl", "kullback-leibler"), (1.0, 1.0)):
            result = separate(y, SR, n_components=2, beta=beta, max_iter=20, random_state=0,
                              engine=NMF(n_components=2, beta_loss=loss, solver="mu", max_iter=20), **FRAMES)
            assert result.beta == ("kullback-leibler" if beta == "kl" else 1.0)
        with pytest.raises(TypeError, match=r"^engine Pipeline has no components_ after fit_transform"):
            separate(y, SR, n_components=2, engine=make_pipeline(NMF(n_components=2, max_iter=20)), **FRAMES)


def test_a_transformer_engine_left_at_auto_components_is_refused_before_its_fit(monkeypatch):
    """engine=NMF() (n_components="auto", scikit-learn's default too) fitted one component
    per frequency bin — 513 here, 1025 at the default n_fft — and only then was refused
    for its shapes (before 2026-12-06, tour18); now before the fit, naming the fix."""
    from sklearn.decomposition import NMF

    _, y = two_tones()
    for engine in (NMF(), nmfaudio.NMF(n_components=None)):
        monkeypatch.setattr(type(engine), "fit_transform", lambda *a, **k: pytest.fail("the engine was fitted"))
        declared = "'auto'" if engine.n_components == "auto" else "None"
        with pytest.raises(ValueError, match=rf"^n_components=2 but the engine NMF has n_components={declared} \(one "
                                             r"component per frequency bin, 513\); make them equal: "
                                             r"NMF\(n_components=2, \.\.\.\)$"):
            separate(y, SR, n_components=2, engine=engine, **FRAMES)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [({"n_components": 0}, ValueError, "n_components=0"),
     ({"n_components": 2.5}, ValueError, "n_components=2.5"),
     ({"n_components": 2, "beta": "euclid"}, ValueError, "beta="),
     ({"n_components": 2, "mask_power": -1}, ValueError, "mask_power=-1"),
     ({"n_components": 2, "noise_floor": -1}, ValueError, "noise_floor=-1"),
     ({"n_components": 2, "hop_length": 0}, ValueError, "hop_length=0"),
     ({"n_components": 2, "W": np.ones((5, 2))}, ValueError, r"W has shape \(5, 2\)"),
     ({"n_components": 2, "engine": 42}, TypeError, "engine=42")],
)
def test_bad_arguments_name_themselves(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        separate(np.zeros(1000, np.float32), SR, **kwargs)


def test_bad_audio_and_transformer_misuse(tmp_path):
    from sklearn.decomposition import NMF

    with pytest.raises(ValueError, match="NaN"):
        separate(np.array([0.0, np.nan] * 100), SR, n_components=2)
    with pytest.raises(ValueError, match="no samples"):
        separate(np.zeros(0), SR, n_components=2)
    with pytest.raises(FileNotFoundError):
        separate(tmp_path / "missing.wav", n_components=2)
    with pytest.raises(ValueError, match="n_components=3"):
        separate(np.ones(1000), SR, n_components=3, engine=NMF(n_components=2))
    with pytest.raises(ValueError, match="callable engine"):
        separate(np.ones(1000), SR, n_components=2, engine=NMF(n_components=2), callback=print)
    # The class, not an instance (the parentheses forgotten): named before any work; before
    # 2026-12-05 (tour10), "NMF.fit_transform() missing 1 required positional argument: 'X'".
    for engine in (NMF, nmfaudio.NMF):
        with pytest.raises(TypeError, match=r"^engine=NMF is a class; pass an instance, e\.g\. engine=NMF\("):
            separate(np.ones(1000), SR, n_components=2, engine=engine)
    with pytest.raises(ValueError, match="sr"):
        separate(np.ones(1000), n_components=1, max_iter=2, tol=0).save(tmp_path)


def test_silent_input_gives_silent_tracks():
    result = separate(np.zeros((2, 2000), np.float32), SR, n_components=2, beta="itakura-saito", **FRAMES)
    assert result.components.shape == (2, 2, 2000) and not result.components.any()


def test_separate_file_takes_separates_defaults():
    """separate()'s keyword defaults are the shared settings' defaults (what the block-wise
    separate_file uses), so the two cannot drift apart."""
    import inspect

    from nmfaudio.fitting import Settings

    shared = inspect.signature(Settings.check).parameters
    own = inspect.signature(separate).parameters
    assert Settings.options() == [name for name in shared if name != "n_components"]
    for name in Settings.options():
        assert own[name].default == shared[name].default, name
