"""nmfaudio.NMF: the scikit-learn-compatible estimator over nmfaudio.factorize."""

import logging
import warnings

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


#: The one check an Itakura-Saito NMF fails, by design (docs/sklearn.md, "What the tests
#: check"): transform's stopping rule is shared by the batch, and IS with MU stops at
#: max_iter here (a floored zero in the check's data), so a subset's rows differ from the
#: whole batch's by up to 5e-3.
IS_EXPECTED_FAILURES = {"check_methods_subset_invariance": "transform's stopping rule is shared by the batch"}


@parametrize_with_checks([NMF(beta_loss="itakura-saito", solver="mu")],
                         expected_failed_checks=lambda estimator: IS_EXPECTED_FAILURES)
def test_sklearn_estimator_checks_itakura_saito(estimator, check):
    # Sparse X with implicit zeros is refused for beta_loss <= 0, so the estimator's tag
    # says it takes no sparse input there and the message says "sparse": before
    # 2026-12-07 (review61) check_estimator_sparse_tag, _sparse_array and _sparse_matrix
    # failed (the tag said sparse=True and the message did not name sparse input).
    check(estimator)


def _low_rank(n_samples=40, n_features=25, k=3, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n_samples, k)) @ rng.random((k, n_features)) + noise * rng.random((n_samples, n_features))
    W0, H0 = rng.random((n_samples, k)), rng.random((k, n_features))
    return X, W0, H0


def test_seed_notebook_snippet_runs_unchanged(ratings):
    X = ratings
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
    # The activations re-solved with the components fixed fit X at least as well as the
    # joint fit's here, so fit_transform returns them: bit-identical to transform.
    np.testing.assert_array_equal(W, model.transform(X))
    np.testing.assert_array_equal(W, NMF(n_components=3, random_state=0).fit(X).transform(X))
    assert np.linalg.norm(X - W @ model.components_) <= model.reconstruction_err_ * (1 + 1e-9)


@pytest.mark.parametrize("kw", [dict(solver="mu", beta_loss="kullback-leibler", tol=0),
                                dict(solver="cd"), dict(solver="mu", max_iter=30)])
def test_fit_transform_never_fits_worse_than_the_fit(kw):
    # The cases: 6×4 data, MU/KL, tol=0 (the fit reached 9.3e-7, the re-solve
    # returned 3.2e-3); rank-5 data with HALS at the default tol.  Whatever fit_transform
    # returns fits X at least as well as the joint fit (1e-9 relative: rounding).
    from nmfaudio.nmf import beta_divergence

    for X in (np.abs(np.random.RandomState(0).randn(6, 4)),
              np.random.default_rng(0).random((40, 5)) @ np.random.default_rng(1).random((5, 30))):
        model = NMF(n_components=min(X.shape[1], 5), init="random", random_state=0, **kw)
        W = model.fit_transform(X)
        beta = model._beta()
        returned = np.sqrt(2 * beta_divergence(X.T, model.components_.T, W.T, beta))
        assert returned <= model.reconstruction_err_ * (1 + 1e-9) + 1e-12


def test_tol_has_sklearns_meaning():
    # Same NNDSVDA start, same multiplicative updates, same stopping rule: the MU fits
    # stop at scikit-learn's iteration with its error (1e-9 relative); HALS, stopped on
    # scikit-learn's projected-gradient rule, fits at least as well as its CD
    # (measured 0.35× its error on this rank-5 matrix).
    rng = np.random.default_rng(0)
    X = rng.random((60, 5)) @ rng.random((5, 40))
    for kw in (dict(solver="mu"), dict(solver="mu", beta_loss="kullback-leibler")):
        ours = NMF(n_components=5, random_state=0, max_iter=1000, **kw).fit(X)
        theirs = sklearn.decomposition.NMF(n_components=5, random_state=0, max_iter=1000, **kw).fit(X)
        assert ours.n_iter_ == theirs.n_iter_
        assert ours.reconstruction_err_ == pytest.approx(theirs.reconstruction_err_, rel=1e-9)
    ours = NMF(n_components=5, random_state=0).fit(X)
    theirs = sklearn.decomposition.NMF(n_components=5, random_state=0).fit(X)
    assert ours.reconstruction_err_ <= theirs.reconstruction_err_


@pytest.mark.parametrize("kw", [dict(beta_loss="kullback-leibler"), dict(beta_loss="itakura-saito"),
                                dict(beta_loss=1.5, max_iter=45), dict(solver="cd")])
@pytest.mark.filterwarnings("ignore:Maximum number of iterations")
def test_loss_every_10_changes_no_attribute(kw, monkeypatch):
    # The estimator asks the engine for the loss every 10th iteration (scikit-learn's
    # checks; β-MU skips the loss's terms in between): components_, the activations,
    # n_iter_ and reconstruction_err_ are bit-identical to a run computing every loss,
    # and no NaN reaches them.
    import nmfaudio.estimator as estimator

    rng = np.random.default_rng(3)
    X = rng.random((50, 4)) @ rng.random((4, 30)) + 0.01  # no zeros: the dense engine
    calls = {1: [], 10: []}  # per run: (the estimator's loss_every, NaN in the loss)

    def run(every):
        def engine(*args, loss_every, **kwargs):
            result = nmfaudio.factorize(*args, loss_every=every, **kwargs)
            calls[every].append((loss_every, bool(np.isnan(result.loss).any())))
            return result

        monkeypatch.setattr(estimator, "factorize", engine)
        model = NMF(n_components=4, init="random", random_state=0, **{"solver": "mu", "tol": 1e-3, "max_iter": 300, **kw})
        return model, model.fit_transform(X), model.transform(X[:7])

    (gaps, W_gaps, T_gaps), (full, W_full, T_full) = run(10), run(1)
    assert {asked for asked, _ in calls[1] + calls[10]} == {10}  # fit and transform both ask
    assert any(nan for _, nan in calls[10]) and not any(nan for _, nan in calls[1])
    assert gaps.n_iter_ == full.n_iter_ and np.isfinite(gaps.reconstruction_err_)
    assert gaps.n_iter_ < 300 if kw.get("max_iter") is None else gaps.n_iter_ == 45  # stopped by tol; or the cap
    assert gaps.reconstruction_err_ == full.reconstruction_err_
    for ours, theirs in ((gaps.components_, full.components_), (W_gaps, W_full), (T_gaps, T_full)):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("container", [scipy.sparse.csr_array, scipy.sparse.csc_matrix])
def test_sparse_kl_matches_sklearn_dense(container):
    # Sparse X (KL, zeros kept exact): the same iterates as scikit-learn's MU on the
    # dense matrix from the same start (1e-9 relative), and a transform of sparse X.
    X, W0, H0 = _low_rank()
    X[X < 0.6] = 0
    kw = dict(n_components=3, init="custom", solver="mu", beta_loss="kullback-leibler", tol=0, max_iter=50)
    ours = NMF(**kw)
    W = ours.fit_transform(container(X), W=W0, H=H0)
    theirs = sklearn.decomposition.NMF(**kw).fit(X, W=W0.copy(), H=H0.copy())
    np.testing.assert_allclose(ours.components_, theirs.components_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.reconstruction_err_, theirs.reconstruction_err_, rtol=1e-9)
    assert W.shape == (X.shape[0], 3) and np.isfinite(W).all()
    np.testing.assert_allclose(ours.transform(container(X)), ours.transform(X), rtol=1e-9, atol=1e-12)


def test_kl_zeros_stay_exact_zeros():
    # Zeros in X are zeros of the model, not the floor eps (sklearn's own
    # test_nmf_true_reconstruction asks X ≈ WH with no absolute tolerance).
    X = np.zeros((8, 6))
    X[:3, :2] = np.random.default_rng(0).random((3, 2)) + 0.5
    model = NMF(n_components=2, solver="mu", beta_loss="kullback-leibler", random_state=0, max_iter=500)
    W = model.fit_transform(X)
    assert np.all((W @ model.components_)[3:] == 0)


def test_sklearn_page_quotes_the_messages_raised():
    """docs/sklearn.md quotes scikit-learn's messages; it said "Negative values in data
    passed to NMF" where the estimator (and scikit-learn's check_array) says "... passed to
    X in NMF." (before 2026-12-06, polish17).  Each quote is checked against the message."""
    from pathlib import Path

    page = " ".join((Path(__file__).resolve().parents[1] / "docs" / "sklearn.md").read_text("utf-8").split())
    X = np.random.default_rng(0).random((6, 5))
    W0, H0 = np.ones((6, 3)), np.ones((3, 5))
    cases = [
        ("Invalid beta_loss parameter: solver 'cd' does not handle beta_loss = 'kullback-leibler'",
         lambda: NMF(2, solver="cd", beta_loss="kullback-leibler").fit(X)),
        ("Negative values in data passed to X in NMF.", lambda: NMF(2).fit(-X)),
        ("Negative values in data passed to X in NMF.", lambda: NMF(2, max_iter=5).fit(X).transform(-X)),
        ("init = 'nndsvd' can only be used when n_components <= min(n_samples, n_features)",
         lambda: NMF(6, init="nndsvd").fit(X)),
        ("Array with wrong first dimension passed to NMF (input W)",
         lambda: NMF(3, init="custom").fit(X, W=W0[:-1], H=H0)),
        ("Array passed to NMF (input H) is full of zeros.", lambda: NMF(3, init="custom").fit(X, W=W0, H=0 * H0)),
        ("H and W should have the same dtype as X",
         lambda: NMF(3, init="custom").fit(X, W=W0, H=H0.astype(np.float32))),
    ]
    for quote, call in cases:
        assert f"`{quote}" in page, f"docs/sklearn.md no longer quotes {quote!r}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises((ValueError, TypeError)) as raised:
                call()
        assert quote in str(raised.value), (quote, str(raised.value))


def test_custom_init_and_nndsvd_checks_use_sklearns_messages():
    X, W0, H0 = _low_rank()
    with pytest.raises(TypeError, match="should have the same dtype as X"):
        NMF(n_components=3, init="custom").fit(X, W=W0, H=H0.astype(np.float32))
    with pytest.raises(ValueError, match="Array with wrong first dimension passed"):
        NMF(n_components=3, init="custom").fit(X, W=W0[:-1], H=H0)
    with pytest.raises(ValueError, match="is full of zeros"):
        NMF(n_components=3, init="custom").fit(X, W=W0, H=0 * H0)
    small = X[:4, :6]
    with pytest.raises(ValueError, match=r"init = 'nndsvda' can only be used when n_components <= min"):
        NMF(n_components=5, init="nndsvda").fit(small)
    model = NMF(n_components="auto", init="custom", tol=1e-3, random_state=0).fit(X, W=W0, H=H0)
    assert model._n_components == model.n_components_ == 3


def test_auto_components_with_only_w_ask_for_the_h_that_goes_with_it():
    """n_components="auto", init="custom" and W alone: the missing H's shape follows W's
    columns.  Before 2026-12-06 (tour18) the message asked for H of shape (n_features,
    n_features), which W (n_samples, 3) cannot go with."""
    X, W0, H0 = _low_rank()
    with pytest.raises(ValueError, match=rf"^init='custom' needs H of shape \(3, {X.shape[1]}\): pass"):
        NMF(n_components="auto", init="custom").fit(X, W=W0)
    with pytest.raises(ValueError, match=rf"^init='custom' needs W of shape \({X.shape[0]}, 3\): pass"):
        NMF(n_components="auto", init="custom").fit(X, H=H0)


def test_extra_components_keep_o1_scales():
    # k = 12 above the rank 5: HALS from NNDSVD used to give components_ up to 1e16
    # against activations of 1e-16.  Both stay within 100× the data's scale now.
    rng = np.random.default_rng(0)
    X = rng.random((30, 5)) @ rng.random((5, 20))
    for solver in ("cd", "mu"):
        model = NMF(n_components=12, solver=solver, init="nndsvd", random_state=0, max_iter=1000)
        W = model.fit_transform(X)
        assert model.components_.max() < 100 * X.max() and W.max() < 100 * X.max()
        assert model.transform(X).max() < 100 * X.max()


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


@pytest.mark.parametrize("container", [scipy.sparse.csr_matrix, scipy.sparse.csc_array, scipy.sparse.coo_matrix])
def test_inverse_transform_takes_what_sklearns_does(container):
    """scikit-learn's inverse_transform is ``X @ components_``: it takes sparse W (the
    product is an ndarray) and one sample as a 1-D array.  Before 2026-12-06 (tour18) ours
    refused both (`Sparse data was passed, but dense data is required`, `Expected 2D
    array`), so code written for scikit-learn broke on the switch."""
    X, _, _ = _low_rank()
    model = NMF(n_components=3, random_state=0)
    W = model.fit_transform(X)
    theirs = sklearn.decomposition.NMF(n_components=3, random_state=0, max_iter=1000).fit(X)
    for estimator, activations in ((model, W), (theirs, theirs.transform(X))):
        back = estimator.inverse_transform(container(activations))
        assert isinstance(back, np.ndarray) and back.shape == X.shape
        np.testing.assert_allclose(back, activations @ estimator.components_, rtol=1e-12)
        one = estimator.inverse_transform(activations[0])
        assert one.shape == (X.shape[1],)
        np.testing.assert_allclose(one, activations[0] @ estimator.components_, rtol=1e-12)
    with pytest.raises(ValueError, match="X has 2 columns; inverse_transform needs n_components=3"):
        model.inverse_transform(W[0, :2])


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
    with pytest.warns(SklearnConvergenceWarning, match="Maximum number of iterations 2 reached") as record:
        NMF(n_components=3, max_iter=2, random_state=0).fit(X)
    assert all(isinstance(w.message, nmfaudio.ConvergenceWarning) for w in record)
    # Only the converted warning leaves the estimator, once per solve.
    assert len(record) == 1


@pytest.mark.parametrize("kw", [{}, {"solver": "mu", "beta_loss": "kullback-leibler"}])
def test_fit_transform_warns_once_as_sklearn(kw):
    """fit_transform re-solves the activations: that solve reaching max_iter added a second
    NMFConvergenceWarning ('NMF transform: ...') to the fit's, where scikit-learn gives one
    (before 2026-12-06, tour18).  transform alone still warns for its own solve."""
    X, _, _ = _low_rank()
    with pytest.warns(SklearnConvergenceWarning) as ours:
        model = NMF(n_components=3, max_iter=2, random_state=0, **kw)
        model.fit_transform(X)
    with pytest.warns(SklearnConvergenceWarning) as theirs:
        sklearn.decomposition.NMF(n_components=3, max_iter=2, random_state=0, **kw).fit_transform(X)
    assert len(ours) == len(theirs) == 1 and "NMF fit" in str(ours[0].message)
    with pytest.warns(SklearnConvergenceWarning, match="NMF transform"):
        model.transform(X)


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
    with pytest.raises(ValueError, match="solver 'cd' does not handle"):
        NMF(solver="cd", beta_loss="kullback-leibler").fit(X)
    with pytest.raises(ValueError, match="solver"):
        NMF(solver="nope").fit(X)
    with pytest.raises(ValueError, match="n_components"):
        NMF(n_components=0).fit(X)
    with pytest.raises(ValueError, match="init='custom' needs W"):
        NMF(n_components=3, init="custom").fit(X, H=H0)
    with pytest.raises(ValueError, match=r"wrong second dimension passed to NMF \(input H\)"):
        NMF(n_components=3, init="custom").fit(X, W=W0, H=H0[:, :24])
    with pytest.warns(RuntimeWarning, match="init='custom'"):
        NMF(n_components=3, random_state=0).fit(X, W=W0, H=H0)
    with pytest.raises(ValueError, match="features"):
        NMF(n_components=3, random_state=0).fit(X).transform(X[:, :5])
