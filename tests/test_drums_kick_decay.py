"""nmfaudio.drums.kick_decay: the song's own kick decay below 60 Hz, read from its hits."""

import numpy as np
import pytest

from nmfaudio.drums.kick_decay import KICK_DECAY_SLOWER, kick_decay


def _song(ratio, *, bass=0.0, bass_with_kick=0.0, period=20, n_hits=12, seed=0):
    """A low band of kick hits every ``period`` frames decaying at ``ratio`` per frame,
    over a constant ``bass`` level, and on two hits of three a bass note of level
    ``bass_with_kick`` starting with the kick (held to the next hit); the kick's
    activation a spike per hit.  Shapes (N,), (N,)."""
    rng = np.random.default_rng(seed)
    N = period * n_hits + 10
    low, kick = np.full(N, bass), np.zeros(N)
    frames = np.arange(N)
    for i, t in enumerate(range(2, N - period, period)):
        gain = rng.uniform(0.7, 1.0)
        kick[t] = gain
        low[t:] += gain * ratio ** (frames[t:] - t)
        if i % 3:
            low[t:t + period] += bass_with_kick
    return low, kick


@pytest.mark.parametrize("ratio", [0.6, 0.8, 0.92])
def test_reads_the_decay_of_clean_hits(ratio):
    low, kick = _song(ratio)
    assert kick_decay(low, kick) == pytest.approx(ratio, abs=0.01)


def test_a_fast_kick_under_bass_notes_stays_under_the_threshold():
    # a bass note starting with two of three kick hits slows their decay (a 0.8 kick with
    # a note at 0.3 of the hit level: 0.87-0.89 per frame on those hits, the median of all
    # hits 0.87); the low quantile reads the hits without a note
    low, kick = _song(0.8, bass=0.02, bass_with_kick=0.3)
    assert kick_decay(low, kick) < KICK_DECAY_SLOWER - 0.03
    low, kick = _song(0.93, bass=0.02, bass_with_kick=0.3)
    assert kick_decay(low, kick) > KICK_DECAY_SLOWER + 0.03


def test_no_estimate_without_enough_lone_hits():
    low, kick = _song(0.9, period=4)  # a hit every 4 frames: none stands alone
    assert np.isnan(kick_decay(low, kick))
    assert np.isnan(kick_decay(np.zeros(50), np.zeros(50)))
    with pytest.raises(ValueError, match="same shape"):
        kick_decay(np.ones(5), np.ones(6))
