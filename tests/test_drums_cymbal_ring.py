"""The cymbal ring test (nmfaudio.drums.cymbal_ring) and what a user's own templates do
where no cymbal rings (stems.UNRUNG_FREE, UNRUNG_ABSENT): synthetic hats and crashes,
the bundled loop with one-shots cut from its own stems, and the fit's two new options
(model._fit's free_first, model._fit_leaving_out) on small planted problems."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, sosfilt

from nmfaudio import separate_drums
from nmfaudio.drums import default_templates, model
from nmfaudio.nmf import convolutive_model
from nmfaudio.drums.cymbal_ring import RING_DB, cymbal_rings, ring_level_db

DATA = Path(__file__).resolve().parents[1] / "data"
SR = 22050


def _noise_hits(onsets, decay_s, seconds=4.0, level=1.0, seed=0):
    """High-passed (4 kHz) noise bursts at ``onsets`` (s), each decaying exponentially
    with time constant ``decay_s`` (float32, ``seconds`` long)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    y = np.zeros(n)
    for onset in onsets:
        start = int(onset * SR)
        t = np.arange(n - start) / SR
        y[start:] += rng.standard_normal(n - start) * np.exp(-t / decay_s)
    y = sosfilt(butter(4, 4000, "highpass", fs=SR, output="sos"), y)
    return (level * y / np.abs(y).max()).astype(np.float32)


def _kick(onsets, seconds=4.0):
    n = int(seconds * SR)
    y = np.zeros(n, np.float32)
    t = np.arange(int(0.3 * SR)) / SR
    hit = (np.sin(2 * np.pi * 60 * t) * np.exp(-t / 0.08)).astype(np.float32)
    for onset in onsets:
        start = int(onset * SR)
        y[start:start + hit.size] += hit[:n - start]
    return y


# sixteenth-note closed hats at 140 bpm (the densest grooves measured) and a kick on the beat
HATS = np.arange(0, 4.0, 60 / 140 / 4)
BEATS = np.arange(0, 4.0, 60 / 140)


def test_closed_hats_do_not_ring_a_crash_does():
    # tolerance: 5 dB on each side of RING_DB (the measured ranges were 4 dB apart from it)
    groove = _noise_hits(HATS, 0.015, level=0.3) + _kick(BEATS)
    assert ring_level_db(groove, SR) < RING_DB - 5
    crash = _noise_hits([1.0], 0.8, level=0.3, seed=1)  # a crash as loud as the hats, ringing
    assert ring_level_db(groove + crash, SR) > RING_DB + 5
    assert not cymbal_rings(groove, SR) and cymbal_rings(groove + crash, SR)


def test_stereo_is_the_channels_average_and_silence_or_short_clips_do_not_ring():
    y = _noise_hits(HATS, 0.015) + _noise_hits([0.5], 0.8, seed=1)
    assert ring_level_db(np.stack([y, y]), SR) == pytest.approx(ring_level_db(y, SR), abs=1e-4)
    assert ring_level_db(np.zeros(SR * 2, np.float32), SR) == -np.inf
    assert ring_level_db(y[:SR // 4], SR) == -np.inf  # shorter than the window
    assert not cymbal_rings(np.zeros(SR * 2, np.float32), SR)


def _planted(K=4, F=12, N=60, T=3, seed=0):
    rng = np.random.default_rng(seed)
    P0 = rng.random((F, K, T)).astype(np.float32) + 0.05
    P0 /= P0.sum(axis=(0, 2), keepdims=True)
    H = (rng.random((K, 1, N)) < 0.15).astype(np.float32) * rng.random((K, 1, N)).astype(np.float32)
    V = convolutive_model(P0, H[:, 0])[:, None, :] + np.float32(0.01)  # (F, 1, N)
    return V.astype(np.float32), P0


def _fit(V, P0, max_iter=10, **kwargs):
    return model._fit(V, P0, beta=1.0, max_iter=max_iter, adapt=True, max_gain=P0 * np.float32(10.0), n_free=0,
                      engine=None, rng=np.random.default_rng(0), callback=None, **kwargs)


def test_free_first_templates_adapt_during_the_fixed_iterations_the_others_stay(monkeypatch):
    V, P0 = _planted()
    monkeypatch.setattr(model, "FIXED_FIRST_SHARE", 1.0)  # every iteration is a "fixed" one
    fixed = _fit(V, P0)
    np.testing.assert_array_equal(fixed.P, P0)
    free = np.array([False, True, False, False])
    fit = _fit(V, P0, free_first=free)
    np.testing.assert_array_equal(fit.P[:, ~free], P0[:, ~free])  # exactly: fixed stays fixed
    assert np.abs(fit.P[:, 1] - P0[:, 1]).max() > 1e-3  # the free one moved


def test_fit_leaving_out_is_the_fit_without_those_templates():
    V, P0 = _planted()
    presence = [(np.array([2, 3]), 0.5)]
    nothing = model._fit_leaving_out(V, P0, np.zeros(0, int), beta=1.0, max_iter=10, adapt=True,
                                     max_gain=P0 * np.float32(10.0), n_free=0, engine=None,
                                     rng=np.random.default_rng(0), callback=None, presence=presence)
    whole = _fit(V, P0, presence=presence)
    np.testing.assert_array_equal(nothing.H, whole.H)
    left = model._fit_leaving_out(V, P0, np.array([3]), beta=1.0, max_iter=10, adapt=True,
                                  max_gain=P0 * np.float32(10.0), n_free=0, engine=None,
                                  rng=np.random.default_rng(0), callback=None, presence=presence)
    reduced = _fit(V, P0[:, :3], presence=[(np.array([2]), 0.5)])
    np.testing.assert_array_equal(left.H[3], 0)  # exactly silent
    np.testing.assert_array_equal(left.P[:, 3], P0[:, 3])
    np.testing.assert_array_equal(left.H[:3], reduced.H)  # the same fit as without it
    assert left.absent == tuple(0 for _ in reduced.absent)  # positions in the caller's presence list


@pytest.fixture(scope="module")
def own_kit(tmp_path_factory):
    """The bundled loop (kick, snare, closed hats; no cymbals) and a kit folder of
    one-shots cut from its own stems."""
    mix, sr = sf.read(DATA / "drum_loop.wav", dtype="float32")
    folder = tmp_path_factory.mktemp("kit")
    for name in ("kick", "snare", "hihat"):
        stem = sf.read(DATA / f"drum_loop_{name}.wav", dtype="float32")[0]
        (folder / name).mkdir()
        first = int(np.argmax(np.abs(stem) > 0.1 * np.abs(stem).max()))
        sf.write(folder / name / "hit.wav", stem[first:first + sr // 2], sr)
    return mix, sr, folder


def test_own_templates_without_a_ringing_cymbal_leave_the_cymbals_out(own_kit):
    mix, sr, folder = own_kit
    assert not cymbal_rings(mix, sr)
    result = separate_drums(mix, sr, templates=folder, random_state=0)
    assert "cymbals" in result.absent
    assert np.max(np.abs(result.sources["cymbals"])) == 0
    # the stems still add up to the input (tolerance: float32 rounding)
    assert np.max(np.abs(sum(result.sources.values()) - mix)) <= 1e-5 * np.max(np.abs(mix))
    # the bundled templates are not changed by the test, nor is presence_test=False
    assert "cymbals" not in separate_drums(mix, sr, random_state=0).absent
    assert "cymbals" not in separate_drums(mix, sr, templates=default_templates(), random_state=0).absent
    assert "cymbals" not in separate_drums(mix, sr, templates=folder, random_state=0, presence_test=False).absent


def test_own_templates_with_a_ringing_crash_keep_the_cymbals(own_kit):
    mix, sr, folder = own_kit
    seconds = mix.size / sr
    crash = _noise_hits([0.05], 0.8, seconds=seconds, level=0.5 * float(np.abs(mix).max()), seed=2)[:mix.size]
    assert cymbal_rings(mix + crash, sr)
    result = separate_drums(mix + crash, sr, templates=folder, random_state=0)
    assert "cymbals" not in result.absent
    assert np.sum(result.sources["cymbals"] ** 2) > 0
