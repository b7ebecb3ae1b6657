"""Cymbal parts that only ever hold a share of the hats go to the hi-hat's output
(nmfaudio.drums.cymbal_leak): only when every cymbal stroke lies under the hat parts'
model, and then the cymbals stem is empty and its hits the hi-hat's."""

import numpy as np
import pytest

import nmfaudio
from nmfaudio.drums import cymbal_leak, separation
from nmfaudio.drums.cymbal_leak import OVER_DB, cymbals_under_hats, hats_in_cymbals
from nmfaudio.drums.stems import stem_index

LABELS = ("kick", "hihat", "cymbals:crash", "cymbals:ride")
OUTPUTS = ("kick", "hihat", "cymbals")
N = 120


def _parts(cymbal_share):
    """Hat strokes every 10 frames; crash strokes at every other hat stroke, each
    ``cymbal_share`` of a hat stroke's model.  Templates (F 4, T 3) sum to 1."""
    P = np.full((4, len(LABELS), 3), 1 / 12, np.float32)
    H = np.zeros((len(LABELS), 1, N), np.float32)
    H[1, 0, ::10] = 1.0
    H[2, 0, ::20] = cymbal_share
    return P, H


def test_cymbal_strokes_under_the_hats_are_a_share_of_them():
    """A share 1.5 dB under the hats and below: the test holds; at the hats' level or with
    one stroke over them: it does not."""
    under = 10 ** ((OVER_DB - 0.5) / 10)
    assert cymbals_under_hats(*_parts(under), cymbals=[2, 3], hats=[1])
    assert cymbals_under_hats(*_parts(0.1), cymbals=[2, 3], hats=[1])
    assert not cymbals_under_hats(*_parts(1.0), cymbals=[2, 3], hats=[1])
    P, H = _parts(0.1)
    H[2, 0, 40] = 2.0  # one crash over the hats: a cymbal the parts fit
    assert not cymbals_under_hats(P, H, cymbals=[2, 3], hats=[1])
    H[2, 0, 55] = 1.0  # ... or one between the hats' strokes
    H[2, 0, 40] = 0.1
    assert not cymbals_under_hats(P, H, cymbals=[2, 3], hats=[1])


def test_no_strokes_or_no_hats_is_no_leak():
    P, H = _parts(0.0)
    assert not cymbals_under_hats(P, H, cymbals=[2, 3], hats=[1])  # silent cymbal parts
    P, H = _parts(0.1)
    assert not cymbals_under_hats(P, H, cymbals=[2, 3], hats=[])


def test_the_route_moves_only_the_cymbal_parts():
    route = stem_index(LABELS, OUTPUTS)
    hihat = OUTPUTS.index("hihat")
    moved = hats_in_cymbals(*_parts(0.1), route, LABELS, hihat=hihat)
    np.testing.assert_array_equal(moved, [route[0], hihat, hihat, hihat])
    assert moved is not route and route[2] == OUTPUTS.index("cymbals")  # the input is not changed
    kept = hats_in_cymbals(*_parts(1.0), route, LABELS, hihat=hihat)
    assert kept is route


@pytest.fixture(scope="module")
def loop():
    return nmfaudio.load("data/drum_loop.wav")


def test_a_drum_recording_judged_leaky_has_an_empty_cymbals_stem(loop, monkeypatch):
    """With the test forced to hold (every stroke counts as under the hats), the cymbals
    stem and activation are zero, the hi-hat's take them, and the tracks still sum to the
    mixture (1e-4 of its peak: the STFT round trip)."""
    y, sr = loop
    plain = nmfaudio.separate_drums(y, sr, random_state=0)
    assert np.any(plain.sources["cymbals"])  # the loop's crash and hats: the cymbal parts play
    monkeypatch.setattr(cymbal_leak, "OVER_DB", 200.0)
    leaky = nmfaudio.separate_drums(y, sr, random_state=0)
    assert not np.any(leaky.sources["cymbals"])
    assert not np.any(leaky.activations["cymbals"])
    np.testing.assert_allclose(leaky.activations["hihat"],
                               plain.activations["hihat"] + plain.activations["cymbals"], rtol=1e-5, atol=1e-6)
    total = sum(leaky.sources.values())
    assert np.max(np.abs(total - y)) <= 1e-4 * np.max(np.abs(y))
    for other in ("kick", "snare"):  # the other outputs' models are unchanged; with mask power
        # 1.5 the masks' normalisation moves a little (measured 4e-6 and 3e-5 of their energy)
        change = np.sum((leaky.sources[other] - plain.sources[other]) ** 2)
        assert change <= 1e-3 * np.sum(plain.sources[other] ** 2)
    monkeypatch.setattr(separation, "CYMBAL_LEAK", False)  # the switch: the test is not run
    off = nmfaudio.separate_drums(y, sr, random_state=0)
    np.testing.assert_array_equal(off.sources["cymbals"], plain.sources["cymbals"])
