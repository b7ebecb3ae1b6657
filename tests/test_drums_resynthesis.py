"""masked_stems (a few frames at a time, ranges on threads) equals the whole-array chain:
models, masks, masked STFT, inverse STFT."""

import sys

import numpy as np
import pytest

from nmfaudio import masks, spectrum
from nmfaudio.drums.resynthesis import masked_stems
from nmfaudio.nmf import convolutive_factors, convolutive_model


def _case(rng, channels, n_samples=40000, n_fft=512, hop=128):
    y = rng.standard_normal((channels, n_samples)).astype(np.float32) * 0.1
    X = spectrum.stft_frame_major(y, n_fft=n_fft, hop_length=hop)
    F, N = X.shape[1:]
    factors = []
    for parts in (2, 3, 1):  # two drum outputs, then the residual
        P = rng.random((F, parts, 4)).astype(np.float32)
        H = rng.random((parts, channels, N)).astype(np.float32)
        factors.append((P, H))
    return y, X, factors


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("with_sustained", [False, True])
def test_equals_whole_array_chain(channels, with_sustained):
    rng = np.random.default_rng(0)
    n_fft, hop = 512, 128
    y, X, factors = _case(rng, channels, n_fft=n_fft, hop=hop)
    C, F, N = X.shape
    sustained = rng.random((F, C, N)).astype(np.float32) if with_sustained else None
    S = np.stack([convolutive_model(P, H) for P, H in factors]).transpose(0, 2, 1, 3)  # (3, C, F, N)
    if sustained is not None:
        S[-1] += sustained.transpose(1, 0, 2)
    M = masks.spectrogram_masks(S, power=1.5)
    expected = spectrum.istft(M[:2] * X[None], n_fft=n_fft, hop_length=hop, length=y.shape[-1])  # (2, C, n)
    out = np.full((2, C, y.shape[-1]), np.nan, np.float32)
    modelled = masked_stems(X, [convolutive_factors(P, H) for P, H in factors], out, mask_power=1.5, n_fft=n_fft,
                            hop_length=hop, sustained=sustained)
    assert modelled
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, expected, atol=2e-6 * np.abs(y).max())


def test_zero_residual_model_gives_every_bin_to_the_drums():
    rng = np.random.default_rng(1)
    y, X, factors = _case(rng, 1)
    P, H = factors[-1]
    out = np.empty((2, 1, y.shape[-1]), np.float32)
    modelled = masked_stems(X, [convolutive_factors(P_, H_) for P_, H_ in factors[:2]] + [
        convolutive_factors(P, np.zeros_like(H))], out, mask_power=1.5, n_fft=512, hop_length=128)
    assert not modelled
    # the two drum stems then add up to the mixture (to the STFT round trip's rounding)
    np.testing.assert_allclose(out.sum(axis=0), y, atol=1e-5)


def test_compiled_mask_product_equals_numpy_bit_for_bit():
    from nmfaudio.drums.resynthesis import _mask_spectra, _mask_spectra_numpy

    rng = np.random.default_rng(3)
    M = rng.random((4, 5, 33)).astype(np.float32)  # one mask more than stems: it is not used
    pairs = rng.standard_normal((5, 33, 2)).astype(np.float32)
    got, expected = np.full((3, 5, 33, 2), np.nan, np.float32), np.empty((3, 5, 33, 2), np.float32)
    _mask_spectra(M, pairs, got)
    _mask_spectra_numpy(M, pairs, expected)
    np.testing.assert_array_equal(got, expected)


def test_spatial_update_equals_whole_array_chain():
    # masked_stems(..., spatial=n) a few frames at a time equals the whole-array chain:
    # every channel's models, n per-bin updates (the numpy reference), masks, inverse STFT
    from nmfaudio.drums.resynthesis import _spatial_update_numpy

    rng = np.random.default_rng(4)
    n_fft, hop = 512, 128
    y, X, factors = _case(rng, 2, n_fft=n_fft, hop=hop)
    S = np.stack([convolutive_model(P, H) for P, H in factors]).transpose(2, 0, 3, 1)  # (C, 3, N, F)
    pairs = np.stack([np.ascontiguousarray(x.T).view(np.float32).reshape(x.shape[1], x.shape[0], 2) for x in X])
    _spatial_update_numpy(S, pairs, 5)
    M = masks.spectrogram_masks(S.transpose(1, 0, 3, 2), power=1.5)  # (3, C, F, N)
    expected = spectrum.istft(M[:2] * X[None], n_fft=n_fft, hop_length=hop, length=y.shape[-1])
    out = np.full((2, 2, y.shape[-1]), np.nan, np.float32)
    masked_stems(X, [convolutive_factors(P, H) for P, H in factors], out, mask_power=1.5, n_fft=n_fft,
                 hop_length=hop, spatial=5)
    np.testing.assert_allclose(out, expected, atol=2e-5 * np.abs(y).max())
    plain = np.empty_like(out)
    masked_stems(X, [convolutive_factors(P, H) for P, H in factors], plain, mask_power=1.5, n_fft=n_fft,
                 hop_length=hop)
    assert np.abs(out - plain).max() > 1e-3 * np.abs(y).max()  # the update did change the stems


def test_compiled_spatial_update_equals_numpy():
    from nmfaudio.drums.resynthesis import _spatial_update, _spatial_update_numpy

    rng = np.random.default_rng(5)
    S = rng.random((2, 4, 16, 257)).astype(np.float32)
    pairs = rng.standard_normal((2, 16, 257, 2)).astype(np.float32)
    compiled, reference = S.copy(), S.copy()
    _spatial_update(compiled, pairs, 5)
    _spatial_update_numpy(reference, pairs, 5)
    np.testing.assert_allclose(compiled, reference, rtol=1e-4)  # float32, summed in another order


def test_spatial_update_keeps_the_masks_of_equal_channels():
    # the same mixture and models in both channels (a centred or mono recording): every
    # output's level scales alike, so each output's share of every bin stays (float32)
    from nmfaudio.drums.resynthesis import _spatial_update

    rng = np.random.default_rng(6)
    one = rng.random((1, 5, 16, 257)).astype(np.float32)
    S = np.concatenate([one, one])
    pairs = np.repeat(rng.standard_normal((1, 16, 257, 2)).astype(np.float32), 2, axis=0)
    before = S / S.sum(axis=1, keepdims=True)
    _spatial_update(S, pairs, 5)
    np.testing.assert_allclose(S / S.sum(axis=1, keepdims=True), before, rtol=1e-5, atol=1e-7)


def test_spatial_update_follows_the_pan():
    # two outputs the model thinks equally loud in a bin, one panned left (gains 1, 1/4),
    # one right (1/4, 1); the bin's mixture is the left one's alone (left 1, right 1/4):
    # after the updates the left output holds most of the bin in both channels (its share
    # from 0.8 and 0.2 before to 0.989 and 0.849 after 5 updates)
    from nmfaudio.drums.resynthesis import _spatial_update

    S = np.array([[1.0, 0.25], [0.25, 1.0]], np.float32).reshape(2, 2, 1, 1)  # (C, outputs, n, F)
    pairs = np.array([[1.0, 0.0], [0.25, 0.0]], np.float32).reshape(2, 1, 1, 2)
    _spatial_update(S, pairs, 5)
    share = S[:, 0, 0, 0] / S[:, :, 0, 0].sum(axis=1)
    assert share[0] > 0.95 and share[1] > 0.8, share


@pytest.mark.parametrize("kernel", ["_spatial_update", "_spatial_update_numpy"])
def test_spatial_update_of_a_bin_the_model_leaves_almost_empty_stays_finite(kernel):
    # one output's model 1e-25 in a bin, the other's 0, the mixture 1 and 0.5: u ~ 1e25,
    # u² overflowed float32 and the next update made NaN in every output; the first
    # output is the bin's only model, so it keeps all of it (share 1, exact)
    from nmfaudio.drums import resynthesis

    S = np.array([[1e-25, 0.0], [1e-25, 0.0]], np.float32).reshape(2, 2, 1, 1)  # (C, outputs, n, F)
    pairs = np.array([[1.0, 0.0], [0.5, 0.0]], np.float32).reshape(2, 1, 1, 2)
    getattr(resynthesis, kernel)(S, pairs, 5)
    assert np.isfinite(S).all(), S.ravel()
    np.testing.assert_array_equal(S[:, 1], 0)
    assert (S[:, 0] > 0).all()


def test_spatial_update_scaled_bins_keep_their_shares():
    # models 1e-12 of their mixture (scaled up together inside the update): each output's
    # share of each channel is the one float64 gives without scaling (float32: 1e-5)
    from nmfaudio.drums.resynthesis import _spatial_update

    rng = np.random.default_rng(7)
    S = (rng.random((2, 3, 4, 33)) * 1e-12).astype(np.float32)
    pairs = rng.standard_normal((2, 4, 33, 2)).astype(np.float32)
    wide = S.astype(np.float64)
    magnitude = np.hypot(pairs[..., 0], pairs[..., 1]).astype(np.float64)
    for _ in range(5):
        ratio = magnitude / wide.sum(axis=1)
        u = np.einsum("cdnf,cnf->dnf", wide, ratio) / wide.sum(axis=0)
        wide *= (u * u)[None]
    _spatial_update(S, pairs, 5)
    np.testing.assert_allclose(S / S.sum(axis=1, keepdims=True), wide / wide.sum(axis=1, keepdims=True),
                               rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("channels", [1, 2])
def test_ring_moves_its_part_of_the_residuals_model_as_the_whole_array_chain(channels):
    # ring=(d, part): min(part, residual's model) moves from the residual's model to
    # output d's, a few frames at a time as on whole arrays (nmfaudio.drums.cymbal_ring)
    from nmfaudio.drums.accompaniment import SpreadSustained

    rng = np.random.default_rng(2)
    n_fft, hop = 512, 128
    y, X, factors = _case(rng, channels, n_fft=n_fft, hop=hop)
    C, F, N = X.shape
    magnitude = np.abs(X).transpose(1, 0, 2)  # (F, C, N), each channel frame-major
    sustained = rng.random((F, C, N)).astype(np.float32)
    ring = (rng.random((F, C, N)) * 3).astype(np.float32)
    part = SpreadSustained(magnitude, magnitude.copy(), ring, np.ones(F, int))  # one bin per band
    S = np.stack([convolutive_model(P, H) for P, H in factors]).transpose(0, 2, 1, 3)  # (3, C, F, N)
    S[-1] += sustained.transpose(1, 0, 2)
    moved = np.minimum(part.frames(0, 0, N).T if C == 1 else
                       np.stack([part.frames(c, 0, N).T for c in range(C)]), S[-1])
    assert 0 < moved.sum() < S[-1].sum()  # a case where the ring takes part of the residual, not all
    S[-1] -= moved
    S[1] += moved
    M = masks.spectrogram_masks(S, power=1.5)
    expected = spectrum.istft(M[:2] * X[None], n_fft=n_fft, hop_length=hop, length=y.shape[-1])
    out = np.full((2, C, y.shape[-1]), np.nan, np.float32)
    masked_stems(X, [convolutive_factors(P, H) for P, H in factors], out, mask_power=1.5, n_fft=n_fft,
                 hop_length=hop, sustained=sustained, ring=(1, part))
    np.testing.assert_allclose(out, expected, atol=2e-6 * np.abs(y).max())


@pytest.mark.parametrize("channels", [1, 2])
def test_leave_out_gives_its_cells_to_the_residual_as_the_whole_array_chain(channels):
    # leave_out=(d, cells): output d's mask is 0 in the cells marked (the low rows), a few
    # frames at a time as on whole arrays; the other output's stem is unchanged; frames
    # without a cell (a third of them here) are skipped
    rng = np.random.default_rng(8)
    n_fft, hop = 512, 128
    y, X, factors = _case(rng, channels, n_fft=n_fft, hop=hop)
    C, F, N = X.shape
    cells = rng.random((C, 20, N)) < 0.3
    cells[:, :, N // 3:2 * N // 3] = False
    S = np.stack([convolutive_model(P, H) for P, H in factors]).transpose(0, 2, 1, 3)  # (3, C, F, N)
    M = masks.spectrogram_masks(S, power=1.5)
    M[1, :, :20][cells] = 0
    expected = spectrum.istft(M[:2] * X[None], n_fft=n_fft, hop_length=hop, length=y.shape[-1])
    out = np.full((2, C, y.shape[-1]), np.nan, np.float32)
    plain = np.empty_like(out)
    models = [convolutive_factors(P, H) for P, H in factors]
    masked_stems(X, models, out, mask_power=1.5, n_fft=n_fft, hop_length=hop, leave_out=[(1, cells)])
    masked_stems(X, models, plain, mask_power=1.5, n_fft=n_fft, hop_length=hop)
    np.testing.assert_allclose(out, expected, atol=2e-6 * np.abs(y).max())
    np.testing.assert_array_equal(out[0], plain[0])
    assert np.abs(out[1] - plain[1]).max() > 1e-3 * np.abs(y).max()  # the cells did leave


def test_leave_out_needs_a_modelled_residual_and_checks_its_cells():
    # no residual model: every bin is the drums' (the cells have nowhere to go), so
    # leave_out changes nothing; cells of the wrong shape or a non-drum output are refused
    rng = np.random.default_rng(9)
    y, X, factors = _case(rng, 1)
    C, F, N = X.shape
    P, H = factors[-1]
    models = [convolutive_factors(P_, H_) for P_, H_ in factors[:2]] + [convolutive_factors(P, np.zeros_like(H))]
    cells = np.ones((C, 20, N), bool)
    out, plain = np.empty((2, 1, y.shape[-1]), np.float32), np.empty((2, 1, y.shape[-1]), np.float32)
    assert not masked_stems(X, models, out, mask_power=1.5, n_fft=512, hop_length=128, leave_out=(0, cells))
    masked_stems(X, models, plain, mask_power=1.5, n_fft=512, hop_length=128)
    np.testing.assert_array_equal(out, plain)
    with pytest.raises(ValueError, match="leave_out cells"):
        masked_stems(X, models, out, mask_power=1.5, n_fft=512, hop_length=128, leave_out=(0, cells[:, :, 1:]))
    with pytest.raises(ValueError, match="leave_out output"):
        masked_stems(X, models, out, mask_power=1.5, n_fft=512, hop_length=128, leave_out=(2, cells))


@pytest.mark.parametrize("channels", [1, 2])
def test_stems_do_not_depend_on_the_thread_count(channels, monkeypatch):
    # a file gives the same bytes alone (2 threads), on a --jobs 2 worker (1 thread) or on a
    # Dask worker: the frame ranges (whose shared samples are summed from both) must not
    # follow the threads (RANGE_TASKS); 313 frames make several ranges per channel
    from nmfaudio.drums import resynthesis
    from nmfaudio.nmf import kernels

    rng = np.random.default_rng(11)
    n_fft, hop = 512, 128
    y, X, factors = _case(rng, channels, n_fft=n_fft, hop=hop)
    models = [convolutive_factors(P, H) for P, H in factors]
    outs = {}
    for threads in (1, 2, 3):
        monkeypatch.setattr(kernels, "THREADS", threads)
        outs[threads] = np.full((2, channels, y.shape[-1]), np.nan, np.float32)
        masked_stems(X, models, outs[threads], mask_power=1.5, n_fft=n_fft, hop_length=hop)
    assert len(resynthesis._frame_ranges(X.shape[-1], channels, n_fft, hop)) > 1
    assert outs[1].tobytes() == outs[2].tobytes() == outs[3].tobytes()


@pytest.mark.parametrize("outer_hold", [False, True])
def test_tasks_run_with_blas_on_one_thread_and_the_same_bytes(outer_hold, monkeypatch):
    # the chunks' products are the tasks' own: a threaded BLAS under two tasks
    # oversubscribes the cores (docs/performance.md, stemspeed), so masked_stems holds BLAS
    # to one thread while they run — whether or not its caller already does (separate_drums
    # does; a script may not) — restores the caller's limit after, and gives the same bytes
    # on 1 and 2 threads either way
    from threadpoolctl import ThreadpoolController, threadpool_limits

    from nmfaudio.drums import resynthesis
    from nmfaudio.nmf import kernels

    rng = np.random.default_rng(5)
    n_fft, hop = 512, 128
    y, X, factors = _case(rng, 2, n_fft=n_fft, hop=hop)
    models = [convolutive_factors(P, H) for P, H in factors]
    blas = ThreadpoolController().select(user_api="blas")
    if not blas.lib_controllers:
        pytest.skip("no BLAS library threadpoolctl can see")
    seen = []
    products = resynthesis._output_models

    def recording(*args):
        seen.append(max(lib.num_threads for lib in ThreadpoolController().select(user_api="blas").lib_controllers))
        return products(*args)

    monkeypatch.setattr(resynthesis, "_output_models", recording)
    outs = {}
    with threadpool_limits(limits=1 if outer_hold else 2, user_api="blas"):
        before = [lib.num_threads for lib in ThreadpoolController().select(user_api="blas").lib_controllers]
        for threads in (1, 2):
            monkeypatch.setattr(kernels, "THREADS", threads)
            outs[threads] = np.full((2, 2, y.shape[-1]), np.nan, np.float32)
            masked_stems(X, models, outs[threads], mask_power=1.5, n_fft=n_fft, hop_length=hop)
        after = [lib.num_threads for lib in ThreadpoolController().select(user_api="blas").lib_controllers]
    assert seen and set(seen) == {1}
    assert after == before
    assert outs[1].tobytes() == outs[2].tobytes()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pages are given back on Linux only")
@pytest.mark.parametrize("channels, spatial", [(1, 0), (2, 0), (2, 3)])
def test_released_stft_gives_its_pages_back_and_the_same_stems(channels, spatial):
    """``release=True`` (the separation's own STFT, read no more after the stems): the
    frames each range has finished with are given back as it goes (they read as zeros
    afterwards: most of X), and the stems are the same bits as without it (tolerance 0),
    per channel and with the channels' joint update.  (docs/performance.md, the speed46
    round: the 3-minute stereo song's peak RSS 1133 -> 1012 MB.)"""
    from nmfaudio.drums import pages

    rng = np.random.default_rng(46)
    y, X, factors = _case(rng, channels, n_samples=600_000, n_fft=1024, hop=128)
    fitted = [convolutive_factors(P, H) for P, H in factors]
    assert X[0].nbytes > 6 * pages.BLOCK  # several whole blocks per channel
    outs = []
    for release in (False, True):
        Xr = X.copy(order="K")  # frame-major as the STFT's (X[c].T C-contiguous)
        assert np.ascontiguousarray(Xr[0].T).base is not None  # a view, not a copy
        out = np.full((2, channels, y.shape[-1]), np.nan, np.float32)
        masked_stems(Xr, fitted, out, mask_power=1.5, n_fft=1024, hop_length=128, spatial=spatial, release=release)
        outs.append(out)
        zero = float(np.mean(Xr == 0))
        if release:
            assert zero > 0.5, zero  # given back: most of the STFT
        else:
            np.testing.assert_array_equal(Xr, X)
    assert np.all(np.isfinite(outs[0]))
    np.testing.assert_array_equal(outs[1], outs[0])
