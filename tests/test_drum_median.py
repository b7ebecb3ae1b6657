"""Song mode: the toms' own running median out of the masks' sustained part
(nmfaudio.drums.drum_median)."""

import re

import numpy as np
import pytest

from nmfaudio import separate_drums
from nmfaudio.drums.accompaniment import sustained_part
from nmfaudio.drums.drum_median import MEDIAN_CLASSES, MIN_SHARE, without_drum_median

from test_drums import SR, synthetic_hits  # noqa: E402
from test_drums_full_song import SECONDS, _projection, held_music  # noqa: E402


def test_a_dense_drums_median_leaves_the_sustained_part_a_sparse_ones_does_not():
    n = 64
    music = np.full((3, 1, n), 1.0, np.float32)
    drums = np.zeros((3, 1, n), np.float32)
    drums[0, 0, ::4] = 3.0  # band 0: a hit every 4th frame, ringing 2 more frames (3 of 4 frames)
    drums[0, 0, 1::4] = 2.0
    drums[0, 0, 2::4] = 0.5
    drums[1, 0, ::16] = 3.0  # band 1: a lone hit every 16 frames, its median 0
    drums[2] = 0.1 * drums[0]  # band 2: dense but faint, its median 0.05: a tenth of the level
    sustained = sustained_part(music + drums, frames=9, step=1)
    out = without_drum_median(sustained, drums, frames=9, step=1, min_share=0)
    assert out.dtype == np.float32 and out.shape == sustained.shape
    # the dense band: the median of V = music + drums is 1 + 0.5 in the middle (the
    # drums' median is 0.5): taken out, the music's level is left
    np.testing.assert_allclose(out[0, 0, 8:-8], 1.0, rtol=1e-6)
    np.testing.assert_array_equal(out[1], sustained[1])  # sparse hits: unchanged
    np.testing.assert_allclose(out[2, 0, 8:-8], 1.0, rtol=1e-6)  # min_share 0: the faint median too
    assert np.all(out >= 0) and np.all(out <= sustained)
    np.testing.assert_array_equal(without_drum_median(sustained, drums, frames=9, step=1, share=0), sustained)
    # never below 0, whatever the share
    assert np.all(without_drum_median(sustained, 10 * drums, frames=9, step=1, share=5, min_share=0) >= 0)


def test_a_small_drum_median_stays_in_the_sustained_part():
    # MIN_SHARE: a median under that share of the sustained level stays (mostly music the
    # toms templates took); one above it leaves
    assert 0 < MIN_SHARE < 1
    n = 64
    drums = np.zeros((2, 1, n), np.float32)
    drums[:, 0, ::4], drums[:, 0, 1::4], drums[:, 0, 2::4] = 2.0, 1.0, 1.0  # median 1 in both bands
    music = np.array([1.0, 8.0], np.float32)[:, None, None] * np.ones((1, 1, n), np.float32)
    sustained = sustained_part(music + drums, frames=9, step=1)  # 2 and 9
    np.testing.assert_array_equal(sustained[:, 0, 8:-8], [[2.0], [9.0]] * np.ones((1, n - 16)))
    out = without_drum_median(sustained, drums, frames=9, step=1, min_share=0.25)
    np.testing.assert_allclose(out[0, 0, 8:-8], 1.0, rtol=1e-6)  # 1 / 2: out
    np.testing.assert_array_equal(out[1], sustained[1])  # 1 / 9 = 0.11: stays


@pytest.mark.parametrize("call, message", [
    (lambda: without_drum_median(np.ones((2, 1, 5)), np.ones((2, 5)), frames=3), "must both be (F_b, C, N)"),
    (lambda: without_drum_median(np.ones((2, 1, 5)), np.ones((2, 1, 5)), frames=3, share=-1), "share=-1"),
    (lambda: without_drum_median(np.ones((2, 1, 5)), np.ones((2, 1, 5)), frames=3, min_share=np.nan),
     "min_share=nan"),
])
def test_without_drum_median_rejects_bad_arguments(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def fill_song(rate=4, music_db=-6.0, f0=120.0, decay=5.0, seed=2):
    """The synthetic kit with a tom fill: a tom whose ``f0`` / 1.5 ``f0`` body rings
    ``decay`` per second, struck ``rate`` times a second (so it rings through most frames
    of the 2-s median), under held notes ``music_db`` from the drums (-6 dB: loud drums):
    (tom, music, mix) at SR."""
    kick, snare, hat = synthetic_hits(seconds=SECONDS)
    t = np.arange(int(0.9 * SR)) / SR
    rng = np.random.default_rng(seed)
    body = (0.6 * np.sin(2 * np.pi * f0 * t) + 0.25 * np.sin(2 * np.pi * 1.5 * f0 * t)) * np.exp(-decay * t)
    tom = np.zeros(kick.size)
    for start in range(int(0.1 * SR), kick.size, SR // rate):
        hit = body + 0.2 * rng.standard_normal(t.size) * np.exp(-40 * t)
        stop = min(kick.size, start + t.size)
        tom[start:stop] += hit[:stop - start]
    drums = kick + snare + hat + tom
    music = held_music(drums, music_db)
    return tom.astype(np.float32), music, (drums + music).astype(np.float32)


def test_the_toms_median_is_taken_in_songs_only(monkeypatch):
    # song mode: the masks' sustained part goes through without_drum_median with the toms
    # parts' band model, in the sustained part's own window; a drum recording never
    # reaches it.  (On the synthetic fill the toms templates take too little of the tom
    # for the step to move the stems measurably: its effect is measured on the tuning
    # songs, docs/drums-full-song.md's forty-first round.)
    from nmfaudio.drums import separation
    from nmfaudio.drums.accompaniment import median_frames

    calls = []

    def recorded(sustained, drum_model, **kwargs):
        calls.append((sustained.shape, drum_model.shape, kwargs))
        return without_drum_median(sustained, drum_model, **kwargs)

    monkeypatch.setattr(separation, "without_drum_median", recorded)
    tom, music, mix = fill_song()
    result = separate_drums(mix, SR, random_state=0, accompaniment=True)
    assert len(calls) == 1
    (s_shape, d_shape, kwargs), = calls
    assert s_shape == d_shape and kwargs["min_share"] == MIN_SHARE
    assert kwargs["frames"] >= median_frames(SR, result.hop_length)  # the sustained part's window
    np.testing.assert_allclose(sum(result.sources.values()), mix, atol=1e-4)  # still the input
    calls.clear()
    separate_drums(mix - music.astype(np.float32), SR, random_state=0, accompaniment=False)
    assert calls == []
    monkeypatch.setattr(separation, "MEDIAN_CLASSES", ())  # no class: no step
    separate_drums(mix, SR, random_state=0, accompaniment=True)
    assert calls == []
