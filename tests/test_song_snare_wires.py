"""Song mode: the hat parts' excess at the snare's hits goes to the snare stem
(separation.SONG_SNARE_WIRES, nmfaudio.drums.snare_wires; docs/drums-full-song.md,
"2026-12-04, electronic hat round (ehat)")."""

import numpy as np
import pytest

from nmfaudio import separate_drums
from nmfaudio.drums import separation

from test_drums import SR, synthetic_hits  # noqa: E402
from test_drums_full_song import SECONDS, tonal_parts  # noqa: E402


@pytest.fixture(scope="module")
def quiet_hat_song():
    """Quiet hats (-26 dB) under a loud snare, with a bass line and chords."""
    kick, snare, hat = synthetic_hits(seconds=SECONDS)
    bass, chords = tonal_parts()
    parts = {"kick": kick, "snare": snare, "hihat": 0.05 * hat, "music": bass + chords}
    return parts, sum(parts.values()).astype(np.float32)


def _spy(monkeypatch):
    calls = []
    real = separation.snare_excess_parts

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(out[0].shape[1] > args[0].shape[1])  # True: it moved an excess
        return out

    monkeypatch.setattr(separation, "snare_excess_parts", spy)
    return calls


def test_the_step_runs_in_a_song_and_the_outputs_sum_to_the_input(quiet_hat_song, monkeypatch):
    _, mix = quiet_hat_song
    calls = _spy(monkeypatch)
    result = separate_drums(mix, SR, random_state=0, accompaniment=True)
    assert calls, "snare_excess_parts was not called in song mode"
    two = result.two_stems()
    # the stems and the accompaniment add up to the input (within float32 rounding)
    np.testing.assert_allclose(two["drums"] + two["accompaniment"], mix, atol=1e-4)


def test_the_switch_turns_the_step_off_in_a_song(quiet_hat_song, monkeypatch):
    _, mix = quiet_hat_song
    monkeypatch.setattr(separation, "SONG_SNARE_WIRES", False)
    calls = _spy(monkeypatch)
    separate_drums(mix, SR, random_state=0, accompaniment=True)
    assert not calls
