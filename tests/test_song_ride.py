"""A song's ride judged by its ring's shape too (nmfaudio.drums.song_ride): a ride keeps one
fine ring shape at every gap's end, under loud music too; closed hats under held chords
pass the steady-gap gate but keep no such shape, and in a song the gate's ride needs it.

Offline and small: the synthetic bands of tests/test_drums_ride.py with "music" added —
a fresh partial spectrum per chord whose level wanders ±6 dB — and its synthetic song."""

import numpy as np
import pytest

from nmfaudio.drums import ride, song_ride
from test_drums_ride import BINS, GAP, GRID, N_FRAMES, _activation, _strokes, hats_band, ride_band


def _music(seed, level, gaps=1):
    """A new chord (lognormal partials) every ``gaps`` strokes at ``level`` ±6 dB: (650, N_FRAMES)."""
    rng = np.random.default_rng(seed + 100)
    out = np.zeros((BINS, N_FRAMES))
    for start in range(0, N_FRAMES, gaps * GAP):
        out[:, start:start + gaps * GAP] = (rng.lognormal(0, 1, BINS)[:, None] * level
                                            * 10 ** (rng.uniform(-6, 6) / 20))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hats_under_held_chords_pass_the_gate_but_keep_no_ring_shape(seed):
    """A chord held over two strokes makes every other gap steady: the song gate takes
    the closed hats for a ride (measured 0.52 of the gaps steady, median change under
    0.02 dB), the ring shape reads 0.20-0.24 (a ride under the same music 0.85-0.93)."""
    hat = _activation(_strokes())
    music = _music(seed, 0.1, gaps=2)
    share, median, _ = ride._gap_cue(hats_band(seed) + music, hat, *GRID)
    assert share >= ride.SONG_STEADY_SHARE and median < ride.MEDIAN_DB
    assert song_ride.ring_shape(hats_band(seed) + music, hat, *GRID) < song_ride.SHAPE_CORR - 0.2
    assert song_ride.ring_shape(ride_band(seed) + music, hat, *GRID) > song_ride.SHAPE_CORR + 0.2


@pytest.mark.parametrize("seed", [0, 2])
def test_a_ride_under_loud_changing_music_keeps_its_ring_shape_where_the_gate_misses_it(seed):
    """Music 0.7 of the ride's partials' level: the steady-gap gate's share falls under
    SONG_STEADY_SHARE (measured 0.34 on both seeds), the ring shape stays at or above
    SHAPE_CORR (0.60 / 0.58); closed hats under the same music read 0.14-0.16."""
    hat = _activation(_strokes())
    music = _music(seed, 0.7)
    share = ride._gap_cue(ride_band(seed) + music, hat, *GRID)[0]
    assert share < ride.SONG_STEADY_SHARE
    assert song_ride.ring_shape(ride_band(seed) + music, hat, *GRID) >= song_ride.SHAPE_CORR
    assert song_ride.ring_shape(hats_band(seed) + music, hat, *GRID) < song_ride.SHAPE_CORR - 0.3


def test_without_music_a_ride_has_one_ring_shape_and_hats_none():
    """Measured: the ride 1.00, the hats 0.15."""
    hat = _activation(_strokes())
    assert song_ride.ring_shape(ride_band(0), hat, *GRID) > 0.95
    assert song_ride.ring_shape(hats_band(0), hat, *GRID) < 0.3


def test_too_few_gaps_give_no_shape():
    hat = _activation(_strokes()[:ride.MIN_GAPS])  # MIN_GAPS hits: MIN_GAPS - 1 gaps
    assert song_ride.ring_shape(ride_band(0), hat, *GRID) is None


def _spectrogram(band, sr=22050, n_fft=2048):
    """The band placed in a full-resolution (F, 2, N) magnitude at RIDE_BAND_HZ's bins."""
    lo = int(np.ceil(ride.RIDE_BAND_HZ[0] / (sr / n_fft)))
    magnitude = np.full((n_fft // 2 + 1, 2, band.shape[1]), 1e-6)
    magnitude[lo:lo + band.shape[0]] = band[:, None] / 2
    return magnitude


def test_is_shape_ride_judges_the_closed_hat_part_only_with_the_whole_band():
    labels = ["kick", "snare", "hihat:open", "hihat"]
    hat = _activation(_strokes())
    H = np.zeros((len(labels), 2, N_FRAMES))
    H[3] = hat / 2
    H[2] = 1e-4  # the open hat part keeps no time: the closed one (GM 42) is judged
    kw = dict(sr=22050, n_fft=2048, hop_length=512)
    magnitude = _spectrogram(ride_band(0) + _music(0, 0.7))
    assert song_ride.is_shape_ride(H, labels, magnitude, **kw)
    assert not song_ride.is_shape_ride(H, labels, _spectrogram(hats_band(0) + _music(0, 0.7)), **kw)
    assert not song_ride.is_shape_ride(H[:3], labels[:3], magnitude, **kw)  # no closed hat part
    # at 16 kHz part of the 3-10 kHz band is above Nyquist: no judgement (as the steady gate)
    assert not song_ride.is_shape_ride(H, labels, magnitude[:400], sr=16000, n_fft=2048, hop_length=512)


def test_a_songs_ride_needs_the_ring_shape_too(monkeypatch):
    """The synthetic ride song (tests/test_drums_ride.py; its ring shape reads 0.97): with
    SHAPE_CORR out of reach its ride is not moved; the switch off, the gate alone moves it."""
    from test_drums_ride import SR, _ride_song

    from nmfaudio import separate_drums

    mix, _ = _ride_song()
    monkeypatch.setattr(song_ride, "SHAPE_CORR", 1.01)
    assert separate_drums(mix, SR, random_state=0, accompaniment=True).ride_strokes is None
    assert separate_drums(mix, SR, random_state=0, accompaniment=True, ride=True).ride_strokes is not None
    monkeypatch.setattr(song_ride, "SONG_RING_SHAPE", False)
    assert separate_drums(mix, SR, random_state=0, accompaniment=True).ride_strokes is not None


def test_a_songs_found_ride_sends_the_hat_parts_rest_to_the_cymbals_and_keeps_its_hits(monkeypatch):
    """songhat60 with hatkeep62's keeping of the hits: in a song whose ride groove is found
    (its strokes moved), the hat parts' rest — on the benchmark's songs the pedal chicks
    under the percussion and the ride's wash, the stem at −4.4 to −7.8 dB where a silent one
    counts 0 — sounds in the cymbals stem: the hi-hat stem is silent, the hi-hat is not
    judged absent (``sounds_in``), its activation (the hat parts' less the strokes) and its
    hits stay.  At 44.1 kHz and up only (the synthetic ride song is at 22.05 kHz: judged
    with HAT_MIN_SR lowered), not without a ride, not with the switch off."""
    from test_drums_ride import SR, _ride_song

    from nmfaudio import separate_drums
    from nmfaudio.drums import hat_presence, separation

    def energy(x):
        return float(np.sum(x.astype(np.float64) ** 2))

    mix, hat_song = _ride_song()
    kept = separate_drums(mix, SR, random_state=0, accompaniment=True)  # 22.05 kHz: not judged
    assert kept.ride_strokes is not None and kept.sounds_in == {} and np.any(kept.sources["hihat"])
    monkeypatch.setattr(hat_presence, "HAT_MIN_SR", SR)
    judged = separate_drums(mix, SR, random_state=0, accompaniment=True)
    assert judged.ride_strokes is not None and judged.sounds_in == {"hihat": "cymbals"} and judged.absent == ()
    assert not np.any(judged.sources["hihat"])
    # the fit and the strokes are the same: so are the hi-hat's and the cymbals' activations
    np.testing.assert_array_equal(judged.activations["hihat"], kept.activations["hihat"])
    np.testing.assert_array_equal(judged.ride_strokes, kept.ride_strokes)
    # the hat parts' share joined the cymbals (the masks' power 1.5 moves a little more there)
    assert energy(judged.sources["cymbals"]) >= energy(kept.sources["cymbals"]) + 0.5 * energy(kept.sources["hihat"])
    assert energy(judged.sources["residual"]) == pytest.approx(energy(kept.sources["residual"]), rel=0.01)
    assert np.max(np.abs(sum(judged.sources.values()) - mix)) <= 1e-5 * np.max(np.abs(mix))
    # the hi-hat's hits are read on the cymbals' track: the pedal chicks stay
    hats, reference = judged.hits()["hihat"].times, kept.hits()["hihat"].times  # measured: the same 3
    assert len(reference) >= 3 and len(hats) == len(reference)
    np.testing.assert_allclose(hats, reference, atol=0.005)
    # no ride found: the hats keep their stem
    hats_only = separate_drums(hat_song, SR, random_state=0, accompaniment=True)
    assert hats_only.ride_strokes is None and np.any(hats_only.sources["hihat"]) and hats_only.sounds_in == {}
    monkeypatch.setattr(separation, "RIDE_SONG_HATS", False)
    off = separate_drums(mix, SR, random_state=0, accompaniment=True)
    np.testing.assert_array_equal(off.sources["hihat"], kept.sources["hihat"])
