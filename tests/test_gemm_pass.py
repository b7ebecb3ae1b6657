"""The BLAS-product pass (nmfaudio.nmf.gemm_pass) gives the fused pass's updates: equal to
the plain NumPy updates within float32/float64 rounding, one pass equal to the fused
pass's, frozen components untouched, the same whatever its block size and thread count;
make_pass picks it by the number of components.  (Its loss: test_kernels.py.)"""

import numpy as np
import pytest

from nmfaudio.nmf import extrapolated, gemm_pass, kernels, solvers
from nmfaudio.nmf.solvers import BetaMU, Problem

from test_kernels import BETAS, K, max_rel, problem_data, run

needs_numba = pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="numba not installed")


@pytest.fixture
def gemm_always(monkeypatch):
    """make_pass chooses the GEMM pass whatever k."""
    monkeypatch.setattr(gemm_pass, "GEMM_MIN_K", {kernels.MODE_KL: 1, "other": 1})


@needs_numba
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("dtype, loss_tol, factor_tol", [
    (np.float64, 1e-12, 1e-12),  # only the summation order differs
    (np.float32, 1e-5, 1e-4),  # float32 rounding over 12 iterations (as test_kernels)
], ids=["float64", "float32"])
def test_gemm_pass_mu_equals_numpy_mu(beta, dtype, loss_tol, factor_tol, gemm_always):
    V, W0, H0, problem = problem_data(dtype, beta)
    loss_ref, W_ref, H_ref = run(BetaMU, V, W0, H0, problem, 12)
    solver = solvers.FusedBetaMU(V, W0.copy(), H0.copy(), problem)
    assert isinstance(solver.pass_, gemm_pass.GemmBetaPass)
    loss, W, H = run(solvers.FusedBetaMU, V, W0, H0, problem, 12)
    assert max_rel(loss, loss_ref) < loss_tol
    assert max_rel(W, W_ref) < factor_tol and max_rel(H, H_ref) < factor_tol
    np.testing.assert_array_equal(W[:, ~problem.free_W], W0[:, ~problem.free_W])
    np.testing.assert_array_equal(H[~problem.free_H], H0[~problem.free_H])


@needs_numba
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_gemm_pass_with_all_templates_fixed(beta, gemm_always):
    V, W0, H0, problem = problem_data(np.float64, beta)
    problem = Problem(beta=beta, free_W=np.zeros(K, bool), free_H=np.ones(K, bool), eps=problem.eps)
    loss_ref, _, H_ref = run(BetaMU, V, W0, H0, problem, 8)
    loss, W, H = run(solvers.FusedBetaMU, V, W0, H0, problem, 8)
    np.testing.assert_array_equal(W, W0)
    assert max_rel(H, H_ref) < 1e-12 and max_rel(loss, loss_ref) < 1e-12


@needs_numba
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_extrapolated_solver_on_the_gemm_pass_never_raises_the_loss(beta, gemm_always):
    V, W0, H0, problem = problem_data(np.float32, beta)
    solver = extrapolated.ExtrapolatedBetaMU(V, W0.copy(), H0.copy(), problem, gamma=solvers.mm_exponent(beta),
                                             ratio=solvers.mu_ratio)
    assert isinstance(solver.pass_, gemm_pass.GemmBetaPass)
    losses = np.array([solver.start()] + [solver.step() for _ in range(30)])
    assert np.all(np.diff(losses) <= 0) and losses[-1] < losses[0]


def pass_options(problem, gamma=None):
    beta = problem.beta
    return dict(beta=beta, gamma=solvers.mm_exponent(beta) if gamma is None else gamma, eps=problem.eps,
                free_H=problem.free_H, l1_H=problem.l1_H, l2_H=problem.l2_H, update_W=True)


@needs_numba
@pytest.mark.parametrize("beta, gamma", [(1.0, None), (0.0, None), (0.0, 0.75), (0.0, 0.6)],
                         ids=["KL", "IS", "IS-0.75", "IS-0.6"])
@pytest.mark.parametrize("dtype, loss_tol, tol", [
    (np.float64, 1e-12, 1e-12),  # only the summation order of the products differs
    # float32: BLAS and the fused loops round WH and the products differently (an ulp
    # or two per entry, ε = 6e-8); measured 7e-9 (loss), 1.2e-7 (H, W products)
    (np.float32, 1e-7, 1e-6),
], ids=["float64", "float32"])
def test_one_pass_equals_the_fused_pass(beta, gamma, dtype, loss_tol, tol):
    # same (W, H), with frozen H rows and penalties: the same loss, new H and W products;
    # the H update's exponent: 1, ½ and ¾ are constants in kernels._update_block (¾ as
    # √x·√√x), 0.6 takes its run-time power
    V, W0, H0, problem = problem_data(dtype, beta)
    fused = kernels.BetaPass(V, K, **pass_options(problem, gamma))
    gemm = gemm_pass.GemmBetaPass(V, K, **pass_options(problem, gamma))
    H_fused, H_gemm = np.empty_like(H0), np.empty_like(H0)
    loss_fused, loss_gemm = fused.run(W0, H0, H_fused), gemm.run(W0, H0, H_gemm)
    assert abs(loss_gemm - loss_fused) <= loss_tol * abs(loss_fused)
    assert max_rel(H_gemm, H_fused) < tol
    for ours, theirs in zip(gemm.w_products(), fused.w_products()):
        assert ours.shape == theirs.shape and max_rel(ours, theirs) < tol
    np.testing.assert_array_equal(H_gemm[~problem.free_H], H0[~problem.free_H])  # frozen: bit-identical
    assert np.all(H_gemm[problem.free_H] != H0[problem.free_H])  # the free rows did move


@needs_numba
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_pass_is_the_same_for_any_block_size_and_thread_count(beta, monkeypatch):
    # blocks of 7 (a short last block), 256 and 512 columns: float64, only the order in
    # which BLAS sums the W products differs (1e-12); 1 vs 2 threads over the same fixed
    # tasks: bit-identical
    from threadpoolctl import threadpool_limits

    V, W0, H0, problem = problem_data(np.float64, beta)
    results = {}
    monkeypatch.setattr(kernels, "PARALLEL_MIN_WORK", 0)
    with threadpool_limits(1, user_api="blas"):
        for block, threads in ((256, 1), (256, 2), (7, 1), (512, 1)):
            monkeypatch.setattr(kernels, "THREADS", threads)
            pass_ = gemm_pass.GemmBetaPass(V, K, block=block, **pass_options(problem))
            H = np.empty_like(H0)
            loss = pass_.run(W0, H0, H)
            results[block, threads] = (np.array([loss]), H, *pass_.w_products())
    for a, b in zip(results[256, 1], results[256, 2]):
        np.testing.assert_array_equal(a, b)
    for block in (7, 512):
        for a, b in zip(results[block, 1], results[256, 1]):
            assert max_rel(a, b) < 1e-12


@needs_numba
def test_make_pass_picks_by_components():
    V = np.random.default_rng(0).random((20, 30)).astype(np.float32)
    options = dict(gamma=1.0, eps=1e-6, l1_H=0.0, l2_H=0.0, update_W=True)
    for beta, k_gemm in ((1.0, gemm_pass.GEMM_MIN_K[kernels.MODE_KL]), (0.0, gemm_pass.GEMM_MIN_K["other"])):
        small = gemm_pass.make_pass(V, k_gemm - 1, beta=beta, free_H=np.ones(k_gemm - 1, bool), **options)
        large = gemm_pass.make_pass(V, k_gemm, beta=beta, free_H=np.ones(k_gemm, bool), **options)
        assert isinstance(small, kernels.BetaPass) and isinstance(large, gemm_pass.GemmBetaPass)


@needs_numba
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_one_row_factors_with_any_row_stride(beta):
    # V with one feature: W (1, k) made as the transpose of a (k, 1) array is C-contiguous
    # to NumPy with a row stride of one item, below the row length BLAS requires (which
    # then skipped every product: the loss was 3.4x the fused pass's).  float64: only
    # the summation order differs (1e-12)
    rng = np.random.default_rng(5)
    k, T = 24, 700
    V = rng.random((1, T)) + 0.1
    W = np.ascontiguousarray(rng.random((k, 1)).T)
    assert W.flags.c_contiguous and W.strides[0] == W.itemsize  # the case
    H = rng.random((k, T))
    options = dict(beta=beta, gamma=solvers.mm_exponent(beta), eps=1e-12, free_H=np.ones(k, bool), l1_H=0.0,
                   l2_H=0.0, update_W=True)
    fused, gemm = kernels.BetaPass(V, k, **options), gemm_pass.GemmBetaPass(V, k, **options)
    H_fused, H_gemm = np.empty_like(H), np.empty_like(H)
    loss_fused, loss_gemm = fused.run(W, H, H_fused), gemm.run(W, H, H_gemm)
    assert abs(loss_gemm - loss_fused) <= 1e-12 * abs(loss_fused)
    assert max_rel(H_gemm, H_fused) < 1e-12
    for ours, theirs in zip(gemm.w_products(), fused.w_products()):
        assert max_rel(ours, theirs) < 1e-12


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_pass_is_the_same_on_every_blas_found(beta, dtype):
    # blas_gemm picks the newest OpenBLAS loaded (NumPy's wheels: ILP64, 64-bit sizes),
    # else scipy.linalg.cython_blas (32-bit sizes): each ?gemm the process offers gives
    # the same pass.  A wrong integer width would pass garbage sizes (a crash or no
    # product).  The two libraries' kernels may block the sums differently: float64
    # 1e-12, float32 1e-6 (the fused pass's tolerance above; identical on the machine
    # measured)
    V, W0, H0, problem = problem_data(dtype, beta)
    routines = {"chosen": gemm_pass.blas_gemm(dtype), "scipy": gemm_pass._cython_gemm(
        "sgemm" if dtype == np.float32 else "dgemm")}
    routines["openblas"] = gemm_pass._openblas_gemm("sgemm" if dtype == np.float32 else "dgemm")
    tol = 1e-6 if dtype == np.float32 else 1e-12
    results = {}
    for name, routine in routines.items():
        if routine is None:
            continue
        pass_ = gemm_pass.GemmBetaPass(V, K, **pass_options(problem))
        pass_._gemm, pass_._int_dtype = routine  # before the first run makes the buffers
        H = np.empty_like(H0)
        results[name] = (np.array([pass_.run(W0, H0, H)]), H, *pass_.w_products())
    for name, result in results.items():
        for ours, theirs in zip(result, results["scipy"]):
            assert max_rel(ours, theirs) < tol, name


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chosen_routine_is_in_the_newest_openblas_with_its_width(dtype):
    # Checked from outside blas_gemm: the dynamic linker names the file and symbol of the
    # routine chosen; the file is the newest OpenBLAS threadpoolctl lists, and the integer
    # width is the one the symbol's build says (OpenBLAS's ILP64 builds end their names
    # in "64_": NumPy's wheels).
    import ctypes
    import os

    from threadpoolctl import threadpool_info

    class DlInfo(ctypes.Structure):
        _fields_ = [("fname", ctypes.c_char_p), ("fbase", ctypes.c_void_p), ("sname", ctypes.c_char_p),
                    ("saddr", ctypes.c_void_p)]

    try:
        dladdr = getattr(ctypes.CDLL(None), "dladdr", None)
    except (OSError, TypeError):  # pragma: no cover - Windows
        dladdr = None
    found = [lib for lib in threadpool_info() if lib["internal_api"] == "openblas"]
    if dladdr is None or not found:
        pytest.skip("no dladdr, or no OpenBLAS loaded")
    newest = max(found, key=lambda lib: gemm_pass._version(lib["version"]))
    routine, width = gemm_pass.blas_gemm(dtype)
    info = DlInfo()
    dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(DlInfo)]
    assert dladdr(ctypes.cast(routine, ctypes.c_void_p).value, ctypes.byref(info))
    assert os.path.samefile(info.fname.decode(), newest["filepath"])
    symbol = info.sname.decode()
    assert symbol.endswith("dgemm_64_" if dtype == np.float64 else "sgemm_64_") == (width == np.int64)
    assert ("sgemm" if dtype == np.float32 else "dgemm") in symbol


def test_blas_version_order():
    assert gemm_pass._version("0.3.31.188.0") > gemm_pass._version("0.3.30")
    assert gemm_pass._version("0.3.9") < gemm_pass._version("0.3.30")
    assert gemm_pass._version("0.3.dev") == (0, 3) and gemm_pass._version(None) == ()


def test_blas_limit_is_restored_when_passes_finish_out_of_order():
    # Two passes in two user threads share the process-wide BLAS limit: entering A, B and
    # leaving A, B (the order two threads can take) must keep BLAS on one thread until
    # both left, then restore the original count (each restoring what it found left BLAS
    # on one thread for good).  Entered and left by hand: deterministic, no timing.
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})

    with threadpool_limits(2, user_api="blas"):
        original = blas_threads()
        first, second = gemm_pass.blas_on_one_thread(), gemm_pass.blas_on_one_thread()
        first.__enter__()
        second.__enter__()
        assert blas_threads() == [1]
        first.__exit__(None, None, None)
        assert blas_threads() == [1]  # the second pass is still running
        second.__exit__(None, None, None)
        assert blas_threads() == original


def test_blas_limit_covers_a_library_loaded_after_the_controller(monkeypatch):
    # The controller is made once; an OpenBLAS loaded later (a newer one that blas_gemm
    # then picks) is not in it.  Emulated with a controller that knows only SciPy's
    # library while the routine called is NumPy's: inside the pass's thread pool the
    # library actually called must be held to one thread too (also when it is chosen
    # while another pass already holds the limit), and restored after.  "Restored" is
    # every pool's count as found, not "every pool at 2": the controller also lists
    # non-BLAS pools (scikit-learn's libgomp, loaded by any test module importing
    # sklearn), which the BLAS limit leaves alone at their own count (OMP_NUM_THREADS,
    # or the cores), so a fixed 2 failed under OMP_NUM_THREADS=1 in the full suite.
    from threadpoolctl import ThreadpoolController, threadpool_info, threadpool_limits

    gemm_pass.blas_gemm(np.float32)  # records the library chosen
    chosen = gemm_pass._CHOSEN_LIBRARIES
    if not chosen:
        pytest.skip("no OpenBLAS chosen (SciPy's cython_blas is called)")
    everything = ThreadpoolController()
    others = [lib.filepath for lib in everything.lib_controllers if lib.filepath not in chosen]

    def threads(paths):
        return sorted({lib["num_threads"] for lib in threadpool_info() if lib["filepath"] in paths})

    def pools():
        return {lib["filepath"]: (lib["user_api"], lib["num_threads"]) for lib in threadpool_info()}

    with threadpool_limits(2, user_api="blas"):
        found = pools()
        # every BLAS at 2 (so a pass leaving one at 1 shows); other pools as they were
        assert {n for api, n in found.values() if api == "blas"} == {2}
        for hold_first in (False, True):
            monkeypatch.setattr(gemm_pass, "_CONTROLLER", everything.select(filepath=others))
            first = gemm_pass.blas_on_one_thread()
            if hold_first:  # another pass holds the limit when the new library is chosen
                monkeypatch.setattr(gemm_pass, "_CHOSEN_LIBRARIES", set())
                first.__enter__()
                monkeypatch.setattr(gemm_pass, "_CHOSEN_LIBRARIES", chosen)
            with gemm_pass.blas_on_one_thread():
                assert threads(chosen) == [1], hold_first
            if hold_first:
                first.__exit__(None, None, None)
            assert pools() == found, hold_first


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("make", [kernels.BetaPass, gemm_pass.GemmBetaPass], ids=["fused", "gemm"])
def test_pass_without_the_loss_is_bit_identical(make, beta, dtype):
    # run(with_loss=False) skips the loss (NaN) but updates H and forms the W products
    # exactly as with it (the solvers' MU skips it between checks, see core.CHECK_EVERY)
    V, W0, H0, problem = problem_data(dtype, beta)
    pass_ = make(V, K, **pass_options(problem))
    if dtype == np.float32 and beta in (0.0, 1.0):  # the split modes are covered
        assert pass_.mode in (kernels.MODE_IS_SPLIT, kernels.MODE_KL_SPLIT)
    H_loss, H_none = np.empty_like(H0), np.empty_like(H0)
    assert np.isfinite(pass_.run(W0, H0, H_loss))
    with_loss = [p.copy() for p in pass_.w_products()]
    assert np.isnan(pass_.run(W0, H0, H_none, with_loss=False))
    np.testing.assert_array_equal(H_none, H_loss)
    for ours, theirs in zip(pass_.w_products(), with_loss):
        np.testing.assert_array_equal(ours, theirs)
