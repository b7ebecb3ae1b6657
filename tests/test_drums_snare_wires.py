"""The hat parts' excess at the snare's hits goes to the snare's output
(nmfaudio.drums.snare_wires): only when the hat model sits at the snare's hits, only the
excess over the hat's own level around them, and the model is unchanged.  Arrays only."""

import numpy as np

from nmfaudio.drums.snare_wires import AT_SNARE_SHARE, snare_excess_parts
from nmfaudio.drums.stems import stem_index

LABELS = ("kick", "snare", "hihat", "hihat:open")
OUTPUTS = ("kick", "snare", "hihat")
FRAME_RATE = 43.0  # 22.05 kHz, hop 512
N = 200


def _model(P, H):
    """Σ_k P_k * H_k per output would need the routes; the plain sum over all parts
    (shape (F, C, N)) is what must not change."""
    F, K, T = P.shape
    out = np.zeros((F, H.shape[1], H.shape[2] + T - 1))
    for k in range(K):
        for t in range(T):
            out[:, :, t:t + H.shape[2]] += P[:, k, t][:, None, None] * H[k][None]
    return out


def _activations(hat_at_snare):
    """Snare hits every 40 frames; closed-hat hits every 5 frames at 0.1, and at the
    snare's hits ``hat_at_snare``."""
    H = np.zeros((len(LABELS), 1, N), np.float32)
    snare_frames = np.arange(20, N, 40)
    H[1, 0, snare_frames] = 1.0
    H[2, 0, np.arange(0, N, 5)] = 0.1
    H[2, 0, snare_frames] = hat_at_snare
    H[3, 0, 7] = 0.05  # one open hat, away from the snare
    return H, snare_frames


def test_the_excess_at_the_snare_moves_and_the_model_is_kept():
    rng = np.random.default_rng(0)
    P = rng.random((6, len(LABELS), 3)).astype(np.float32)
    H, snare_frames = _activations(hat_at_snare=1.0)  # the hat model piles up at the snare's hits
    route = stem_index(LABELS, OUTPUTS)
    P2, H2, route2 = snare_excess_parts(P, H, route, LABELS, frame_rate=FRAME_RATE)
    assert P2.shape == (6, 6, 3) and H2.shape == (6, 1, N)
    np.testing.assert_array_equal(route2, [*route, route[1], route[1]])  # both hat copies -> snare
    np.testing.assert_allclose(_model(P2, H2), _model(P, H), rtol=1e-5, atol=1e-7)
    # at the snare's hits the closed hat keeps its own level (0.1), the rest (0.9) moves
    np.testing.assert_allclose(H2[2, 0, snare_frames], 0.1, rtol=1e-6)
    np.testing.assert_allclose(H2[4, 0, snare_frames], 0.9, rtol=1e-5)
    away = np.setdiff1d(np.arange(N), snare_frames)
    np.testing.assert_array_equal(H2[2, 0, away], H[2, 0, away])  # elsewhere untouched
    np.testing.assert_array_equal(H2[4, 0, away], 0)
    np.testing.assert_array_equal(H2[3], H[3])  # the open hat: no hits near the snare's


def test_hats_at_their_own_level_at_the_snare_stay():
    rng = np.random.default_rng(1)
    P = rng.random((6, len(LABELS), 3)).astype(np.float32)
    H, _ = _activations(hat_at_snare=0.1)  # an even hat pattern: its share at the snare is small
    route = stem_index(LABELS, OUTPUTS)
    norms = P.sum(axis=(0, 2))
    hat_model = H[2, 0] * norms[2] + H[3, 0] * norms[3]
    assert hat_model[[19, 20, 21, 59, 60, 61, 99, 100, 101, 139, 140, 141, 179, 180, 181]].sum() \
        < AT_SNARE_SHARE * hat_model.sum()
    P2, H2, route2 = snare_excess_parts(P, H, route, LABELS, frame_rate=FRAME_RATE)
    assert P2 is P and H2 is H and route2 is route
