"""nmfaudio.NMF: the scikit-learn-compatible estimator over nmfaudio.factorize."""

import logging

import numpy as np
import pytest
import scipy.sparse
import sklearn.decomposition
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import nmfaudio
from nmfaudio import NMF


@parametrize_with_checks([NMF(), NMF(solver="mu", beta_loss="kullback-leibler", l1_ratio=0.5, alpha_W=1e-3)])
def test_sklearn_estimator_checks(estimator, check):
    # All of scikit-learn's estimator checks, none marked as expected failure.
    check(estimator)


def _low_rank(n_samples=40, n_features=25, k=3, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n_samples, k)) @ rng.random((k, n_features)) + noise * rng.random((n_samples, n_features))
    W0, H0 = rng.random((n_samples, k)), rng.random((k, n_features))
    return X, W0, H0


RATINGS = np.array([  # 3 Marvel films then 3 Lord of the Rings films (rows), 6 viewers
    [5, 4, 5, 1, 0, 1],
    [4, 5, 4, 0, 1, 0],
    [5, 5, 4, 1, 1, 0],
    [0, 1, 0, 5, 4, 5],
    [1, 0, 1, 4, 5, 5],
    [0, 1, 1, 5, 5, 4],
], dtype=float)


def test_seed_notebook_snippet_runs_unchanged():
    X = RATINGS
    model = NMF(n_components=2)
    model.fit(X)
    W = model.transform(X)
    H = model.components_
    assert W.shape == (6, 2) and H.shape == (2, 6)
    assert W.min() >= 0 and H.min() >= 0
    # Two franchises, one component each: the films of a franchise load on the same one.
    franchise = W.argmax(axis=1)
    assert len(set(franchise[:3])) == 1 and len(set(franchise[3:])) == 1 and franchise[0] != franchise[3]
    # Rank-2 structure plus ±1 noise: the rank-2 fit leaves under 20 % of ‖X‖_F.
    assert np.linalg.norm(X - W @ H) < 0.2 * np.linalg.norm(X)


@pytest.mark.parametrize("beta", ["frobenius", "kullback-leibler", 0.5, 1.5, 3.0])
@pytest.mark.parametrize("reg", [{}, {"alpha_W": 0.01, "l1_ratio": 0.5},
                                 {"alpha_W": 0.005, "alpha_H": 0.02, "l1_ratio": 0.3}])
def test_mu_matches_sklearn_from_the_same_start(beta, reg):
    # Same start (init="custom"), same updates, fixed iteration count: scikit-learn's MU
    # and ours agree to rounding (measured 4e-13 relative), which also pins the mapping
    # of alpha_W / alpha_H / l1_ratio onto the engine's penalties.  Tolerance 1e-9.
    X, W0, H0 = _low_rank()
    kw = dict(n_components=3, init="custom", solver="mu", beta_loss=beta, tol=0, max_iter=100, **reg)
    ours = NMF(**kw).fit(X, W=W0, H=H0)
    theirs = sklearn.decomposition.NMF(**kw).fit(X, W=W0.copy(), H=H0.copy())  # sklearn updates W, H in place
    np.testing.assert_allclose(ours.reconstruction_err_, theirs.reconstruction_err_, rtol=1e-9)
    np.testing.assert_allclose(ours.components_, theirs.components_, rtol=1e-9, atol=1e-12)


def test_hals_reaches_sklearn_cd_error():
    # Both are coordinate descent on the Frobenius loss; run to tight tolerance from the
    # same start they reach the same reconstruction error (measured 1e-6 relative).
    X, W0, H0 = _low_rank()
    kw = dict(n_components=3, init="custom", tol=1e-8, max_iter=3000)
    ours = NMF(solver="cd", **kw).fit(X, W=W0, H=H0)
    theirs = sklearn.decomposition.NMF(solver="cd", **kw).fit(X, W=W0.copy(), H=H0.copy())
    assert abs(ours.reconstruction_err_ / theirs.reconstruction_err_ - 1) < 1e-4


def test_fit_transform_equals_fit_then_transform():
    X, _, _ = _low_rank(seed=1)
    model = NMF(n_components=3, random_state=0)
    W = model.fit_transform(X)
    # Same activations solve, same start: bit-identical.
    np.testing.assert_array_equal(W, model.transform(X))
    np.testing.assert_array_equal(W, NMF(n_components=3, random_state=0).fit(X).transform(X))
    # The re-solved activations fit X at least as well as the joint fit (tolerance 1e-9).
    assert np.linalg.norm(X - W @ model.components_) <= model.reconstruction_err_ * (1 + 1e-9)


def test_transform_recovers_activations_of_new_data():
    # New samples made of the learned components: transform finds their activations.
    X, _, _ = _low_rank(noise=0.0, seed=2)
    model = NMF(n_components=3, random_state=0, tol=1e-10, max_iter=2000).fit(X)
    components = model.components_.copy()
    W_new = np.random.default_rng(3).random((7, 3))
    W_found = model.transform(W_new @ components)
    np.testing.assert_allclose(W_found, W_new, rtol=1e-3, atol=1e-4)
    np.testing.assert_array_equal(model.components_, components)  # transform leaves them alone


def test_inverse_transform_shape_and_value():
    X, _, _ = _low_rank()
    model = NMF(n_components=3, random_state=0)
    W = model.fit_transform(X)
    X_back = model.inverse_transform(W)
    assert X_back.shape == X.shape
    np.testing.assert_allclose(X_back, W @ model.components_, rtol=1e-12)
    with pytest.raises(ValueError, match="n_components=3"):
        model.inverse_transform(W[:, :2])


def test_float32_preserved_and_close_to_float64():
    X, _, _ = _low_rank()
    model32 = NMF(n_components=3, random_state=0)
    W32 = model32.fit_transform(X.astype(np.float32))
    assert W32.dtype == np.float32 and model32.components_.dtype == np.float32
    assert model32.transform(X.astype(np.float32)).dtype == np.float32
    assert model32.inverse_transform(W32).dtype == np.float32
    model64 = NMF(n_components=3, random_state=0).fit(X)
    # float32 rounding only: the errors agree to 1e-3 relative.
    assert abs(model32.reconstruction_err_ / model64.reconstruction_err_ - 1) < 1e-3


def test_attributes_and_feature_names():
    X, _, _ = _low_rank()
    model = NMF().fit(X)  # n_components="auto" -> n_features
    assert model.n_components_ == X.shape[1] == model.n_features_in_
    assert model.components_.shape == (X.shape[1], X.shape[1])
    assert model.n_iter_ >= 1
    model = NMF(n_components=2, random_state=0).fit(X)
    assert list(model.get_feature_names_out()) == ["nmf0", "nmf1"]
    assert NMF(n_components=None).fit(X).n_components_ == X.shape[1]


def test_feature_names_in():
    pd = pytest.importorskip("pandas")
    X, _, _ = _low_rank(n_features=4)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = NMF(n_components=2, random_state=0).fit(frame)
    assert list(model.feature_names_in_) == ["a", "b", "c", "d"]


def test_same_seed_same_result_and_generator_accepted():
    X, _, _ = _low_rank()
    a = NMF(n_components=3, init="random", random_state=5).fit_transform(X)
    b = NMF(n_components=3, init="random", random_state=5).fit_transform(X)
    np.testing.assert_array_equal(a, b)
    c = NMF(n_components=3, init="random", random_state=np.random.default_rng(5)).fit_transform(X)
    assert c.shape == a.shape


def test_convergence_warning_is_both_kinds():
    X, _, _ = _low_rank()
    with pytest.warns(SklearnConvergenceWarning, match="max_iter=2") as record:
        NMF(n_components=3, max_iter=2, random_state=0).fit(X)
    assert all(isinstance(w.message, nmfaudio.ConvergenceWarning) for w in record)
    # Only the converted warning leaves the estimator, once per solve.
    assert len(record) == 1


def test_verbose_logs_and_never_prints(caplog, capsys):
    X, _, _ = _low_rank()
    with caplog.at_level(logging.INFO, logger="nmfaudio"):
        NMF(n_components=3, random_state=0, verbose=1).fit(X)
    assert any("iteration 10" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nmfaudio"):
        NMF(n_components=3, random_state=0).fit(X)
    assert not caplog.records
    assert capsys.readouterr() == ("", "")


def test_zeros_accepted_for_itakura_saito():
    # scikit-learn refuses beta_loss <= 0 with zeros in X; the engine floors them.
    X, _, _ = _low_rank()
    X[::3, ::2] = 0
    model = NMF(n_components=3, solver="mu", beta_loss="itakura-saito", random_state=0, max_iter=50, tol=0)
    W = model.fit_transform(X)
    assert np.isfinite(W).all() and np.isfinite(model.components_).all()
    assert np.isfinite(model.reconstruction_err_)


def test_bad_input_and_parameters():
    X, W0, H0 = _low_rank()
    with pytest.raises(ValueError, match="Negative values"):
        NMF().fit(X - 1)
    with pytest.raises(TypeError, match="[Ss]parse"):
        NMF().fit(scipy.sparse.csr_array(X))
    with pytest.raises(ValueError, match="solver='cd'"):
        NMF(solver="cd", beta_loss="kullback-leibler").fit(X)
    with pytest.raises(ValueError, match="solver"):
        NMF(solver="nope").fit(X)
    with pytest.raises(ValueError, match="n_components"):
        NMF(n_components=0).fit(X)
    with pytest.raises(ValueError, match="init='custom' needs W"):
        NMF(n_components=3, init="custom").fit(X, H=H0)
    with pytest.raises(ValueError, match=r"H has shape \(3, 24\)"):
        NMF(n_components=3, init="custom").fit(X, W=W0, H=H0[:, :24])
    with pytest.warns(RuntimeWarning, match="init='custom'"):
        NMF(n_components=3, random_state=0).fit(X, W=W0, H=H0)
    with pytest.raises(ValueError, match="features"):
        NMF(n_components=3, random_state=0).fit(X).transform(X[:, :5])
