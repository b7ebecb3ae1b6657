"""Toms judged absent, a fill of toms below the kick held by the kick part
(nmfaudio.drums.lone_toms): the kick part's hits with an odd low spectrum, in runs, go
to the toms' output; single odd hits and a kick part holding only the kick are left
alone; the model is unchanged.  Synthetic drums, seeded."""

import numpy as np
import pytest

from nmfaudio.drums.lone_toms import hit_spectra, lone_tom_hits, lone_toms_parts
from nmfaudio.drums.stems import stem_index

LABELS = ("kick", "snare", "toms:low", "toms:mid")
OUTPUTS = ("kick", "snare", "toms")
HOP = 512
N = 344  # 8 s at 22.05 kHz
GROOVE = np.arange(10, 330, 21)
FILL = np.array([232, 238, 244])  # three toms replacing the groove's kicks at 234 and 255
ODD = 150  # a lone hit of something else (a conga the kick part picked up)


def _drum(sr, f0, decay_s, n):
    t = np.arange(n) / sr
    return np.sin(2 * np.pi * f0 * t) * np.exp(-t / decay_s)


def _mixture(sr, *, fill=True, odd=True, seed=0):
    """A 100-Hz kick on GROOVE (frames), 50-Hz toms (an octave under it) on FILL, a
    190-Hz hit at ODD; a little noise.  Returns the mixture and the kick part's model
    (1 at each hit's frame, as the fit would give)."""
    rng = np.random.default_rng(seed)
    y = 1e-3 * rng.standard_normal(N * HOP)
    model = np.zeros(N)
    groove = GROOVE[(GROOVE < FILL[0] - 3) | (GROOVE > FILL[-1] + 8)] if fill else GROOVE
    hits = [(t, 100.0, 0.12) for t in groove]
    if fill:
        hits += [(t, 50.0, 0.3) for t in FILL]
    if odd:
        hits += [(ODD, 190.0, 0.1)]
    for t, f0, decay in hits:
        start = t * HOP
        sound = rng.uniform(0.7, 1.0) * _drum(sr, f0, decay, min(N * HOP - start, sr))
        y[start:start + sound.size] += sound
        model[t] = 1.0
    return y.astype(np.float32), model


@pytest.mark.parametrize("sr", [22050, 44100])
def test_a_run_of_odd_hits_is_toms_a_single_one_is_not(sr):
    y, model = _mixture(sr)
    hits, toms = lone_tom_hits(model, y, sr=sr, hop_length=HOP)
    np.testing.assert_array_equal(hits[toms], FILL)
    assert ODD in hits and not toms[list(hits).index(ODD)]


def test_a_kick_part_holding_only_the_kick_finds_no_toms():
    y, model = _mixture(22050, fill=False)
    hits, toms = lone_tom_hits(model, y, sr=22050, hop_length=HOP)
    assert hits.size == GROOVE.size + 1 and not toms.any()


def test_hit_spectra_read_the_band_at_each_hit():
    y, model = _mixture(22050, fill=False, odd=False)
    spectra = hit_spectra(y, GROOVE[:3], sr=22050, hop_length=HOP)
    freqs = np.fft.rfftfreq(4096, 1 / 22050)
    band = freqs[(freqs > 20) & (freqs < 300)]
    assert spectra.shape == (3, band.size)
    np.testing.assert_allclose(band[spectra.argmax(axis=1)], 100.0, atol=6.0)  # the kick's 100 Hz


def _parts(model):
    """Templates summing to 1 and activations: the kick part at its model, the rest quiet."""
    P = np.random.default_rng(1).random((5, len(LABELS), 3)).astype(np.float32)
    P /= P.sum(axis=(0, 2), keepdims=True)
    H = np.zeros((len(LABELS), 1, N), np.float32)
    H[0, 0] = model
    H[1, 0, 20::42] = 1.0  # the snare, not involved
    return P, H


def _model(P, H):
    F, K, T = P.shape
    out = np.zeros((F, H.shape[1], H.shape[2] + T - 1))
    for k in range(K):
        for t in range(T):
            out[:, :, t:t + H.shape[2]] += P[:, k, t][:, None, None] * H[k][None]
    return out


def test_the_fill_moves_to_the_toms_and_the_model_is_kept():
    y, model = _mixture(22050)
    P, H = _parts(model)
    route = stem_index(LABELS, OUTPUTS)
    P2, H2, route2 = lone_toms_parts(P, H, route, LABELS, y, sr=22050, hop_length=HOP)
    assert P2.shape == (5, len(LABELS) + 1, 3) and H2.shape == (len(LABELS) + 1, 1, N)
    np.testing.assert_array_equal(route2, [*route, route[2]])
    np.testing.assert_allclose(_model(P2, H2), _model(P, H), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(H2[-1, 0, FILL], 1.0)
    np.testing.assert_array_equal(H2[0, 0, FILL], 0.0)
    kept = np.setdiff1d(np.flatnonzero(model), FILL)  # the groove and the odd single hit
    np.testing.assert_array_equal(H2[0, 0, kept], 1.0)
    np.testing.assert_array_equal(H2[1], H[1])


def test_nothing_found_or_no_toms_parts_leave_the_inputs():
    y, model = _mixture(22050, fill=False)
    P, H = _parts(model)
    route = stem_index(LABELS, OUTPUTS)
    out = lone_toms_parts(P, H, route, LABELS, y, sr=22050, hop_length=HOP)
    assert out[0] is P and out[1] is H and out[2] is route
    y, model = _mixture(22050)
    P, H = _parts(model)
    P, H, route = P[:, :2], H[:2], route[:2]  # no toms part: nowhere to move the fill
    out = lone_toms_parts(P, H, route, LABELS[:2], y, sr=22050, hop_length=HOP)
    assert out[0] is P and out[1] is H and out[2] is route


def test_toms_not_asked_for_take_the_fill_to_the_residual():
    y, model = _mixture(22050)
    P, H = _parts(model)
    outputs = ("kick", "snare")
    route = stem_index(LABELS, outputs)
    assert route[2] == len(outputs)  # the toms parts' output: the residual
    _, H2, route2 = lone_toms_parts(P, H, route, LABELS, y, sr=22050, hop_length=HOP)
    assert route2[-1] == len(outputs)
    np.testing.assert_array_equal(H2[-1, 0, FILL], 1.0)

