"""Ride patterns (nmfaudio.drums.ride): a time-keeper whose gaps hold a steady ring is a
ride, and its strokes go from the closed hi-hat part to the cymbals stem, except at the
snare's hits (the pedal chicks).

Offline and small: synthetic magnitude spectrograms for the decision, the bundled loop
(FluidR3 kick/snare/hi-hat) for the separation."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from nmfaudio import separate_drums
from nmfaudio.drums import gm_notes, ride

ROOT = Path(__file__).resolve().parents[1]
SR, N_FFT, HOP = 22050, 2048, 512
GRID = (SR / HOP, SR / N_FFT)  # is_ride_pattern's frame rate and bin width
N_FRAMES, GAP = 340, 11  # eighth notes at 117 BPM (hop 512)
BINS = 650  # the RIDE_BAND_HZ bins, 3-10 kHz at 22.05 kHz / n_fft 2048


def _strokes():
    return np.arange(3, N_FRAMES - GAP, GAP)


def _activation(frames, levels=None):
    hat = np.full(N_FRAMES, 1e-4)
    hat[frames] = 1.0 if levels is None else levels
    return hat


def ride_band(seed=0):
    """A ride: one fixed fine spectrum (its partials) struck again every GAP frames,
    ringing on (-8 dB over a gap) under fresh noise 20 dB down: (650, N_FRAMES)."""
    rng = np.random.default_rng(seed)
    partials = rng.lognormal(0, 1, BINS)
    envelope = np.zeros(N_FRAMES)
    for s in _strokes():
        envelope[s:] = np.exp(-np.arange(N_FRAMES - s) / 12.0)
    noise = 0.1 * rng.random((BINS, N_FRAMES))
    return partials[:, None] * envelope + noise


def hats_band(seed=0):
    """Closed hats: a fresh noise spectrum per hit, gone within three frames, over
    fresh noise: (650, N_FRAMES)."""
    rng = np.random.default_rng(seed)
    magnitude = 0.01 * rng.random((BINS, N_FRAMES))
    for s in _strokes():
        for k in range(4):
            magnitude[:, s + k] += rng.lognormal(0, 1, BINS) * np.exp(-2.0 * k)
    return magnitude


def test_a_steady_ring_between_strokes_is_a_ride_and_dying_hats_are_not():
    hat = _activation(_strokes())
    assert ride.is_ride_pattern(ride_band(), hat, *GRID)
    assert not ride.is_ride_pattern(hats_band(), hat, *GRID)
    # too few gaps to judge: not a ride
    assert not ride.is_ride_pattern(ride_band(), _activation(_strokes()[:4]), *GRID)


def test_weaker_hats_inside_a_gap_keep_it_from_counting():
    """Sixteenths 15 dB under the accents: the ring at a gap's end would be the
    unaccented hat's, so no gap counts (SPLIT_DB) and no ride is found."""
    strokes = _strokes()
    frames = np.sort(np.concatenate([strokes, strokes[:-1] + GAP // 2]))
    levels = np.where(np.isin(frames, strokes), 1.0, 10 ** (-15 / 20))
    assert ride.is_ride_pattern(ride_band(), _activation(strokes), *GRID)
    assert not ride.is_ride_pattern(ride_band(), _activation(frames, levels), *GRID)


def test_stroke_weights_keep_the_hat_at_the_snare_hits():
    magnitude = np.zeros((N_FFT // 2 + 1, 1, N_FRAMES))
    freqs = np.arange(N_FFT // 2 + 1) * SR / N_FFT
    band = np.flatnonzero((freqs >= ride.RIDE_BAND_HZ[0]) & (freqs < ride.RIDE_BAND_HZ[1]))
    magnitude[band, 0] = ride_band()[:band.size]
    snare_frames = _strokes()[1::2]
    weights = ride.stroke_weights(magnitude, _activation(_strokes()), _activation(snare_frames), sr=SR, n_fft=N_FFT,
                                  hop_length=HOP)
    guard = np.zeros(N_FRAMES, bool)
    width = round(ride.SNARE_GUARD_S * SR / HOP)
    assert width == 1  # the guard chosen at the default hop
    for f in snare_frames:
        guard[f - width:f + width + 1] = True
    assert np.all(weights[guard] == 0) and np.all(weights[~guard] == 1)
    # no ride: nothing moves
    magnitude[band, 0] = hats_band()[:band.size]
    assert not ride.stroke_weights(magnitude, _activation(_strokes()), _activation(snare_frames), sr=SR,
                                   n_fft=N_FFT, hop_length=HOP).any()


def _refiring(strokes):
    """The hat part's activation of a ride whose ring re-fires: a peak 16 dB under each
    stroke 4 frames (93 ms) after it, as the ride's ring does 70-90 ms after a stroke."""
    frames = np.sort(np.concatenate([strokes, strokes + 4]))
    return _activation(frames, np.where(np.isin(frames, strokes), 1.0, 10 ** (-16 / 20)))


def same_hat_band(seed=0):
    """Closed hats of one sample: the same fine spectrum at every hit (a sample kit's),
    gone within three frames, over fresh noise: (650, N_FRAMES)."""
    rng = np.random.default_rng(seed)
    spectrum = rng.lognormal(0, 1, BINS)
    magnitude = 0.01 * rng.random((BINS, N_FRAMES))
    for s in _strokes():
        for k in range(4):
            magnitude[:, s + k] += spectrum * np.exp(-2.0 * k)
    return magnitude


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_ride_whose_ring_refires_is_found_by_its_hits_ringing_on(seed):
    """The ride's re-firing ring splits every gap (SPLIT_DB), so the gaps' cue cannot
    judge it; each stroke still rings with its own partials at the next one, 7-8 dB
    down: the third cue takes every measured hit (share ≥ 0.9), and none of the
    closed hats' — fresh noise or one sample's spectrum at every hit — whose band has
    fallen to the floor by then (share ≤ 0.1)."""
    hat = _refiring(_strokes())
    assert ride._gap_cue(ride_band(seed), hat, *GRID) is None
    assert ride.hit_ring_share(ride_band(seed), hat, *GRID) >= 0.9
    assert ride.hit_ring_share(hats_band(seed), hat, *GRID) <= 0.1
    assert ride.hit_ring_share(same_hat_band(seed), hat, *GRID) <= 0.1
    # too few hits to judge: no share
    assert ride.hit_ring_share(ride_band(seed), _refiring(_strokes()[:3]), *GRID) is None


def _refired_at(strokes, after, lag=3):
    """The hat part's activation with a peak 16 dB under the strokes ``strokes[after]``
    (bool mask) ``lag`` frames after each: the ride's ring re-firing, 70 ms at lag 3."""
    refires = strokes[after] + lag
    frames = np.concatenate([strokes, refires])
    levels = np.concatenate([np.ones(strokes.size), np.full(refires.size, 10 ** (-16 / 20))])
    order = np.argsort(frames)
    return _activation(frames[order], levels[order])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_ride_whose_ring_refires_within_70ms_is_found_by_the_second_count(seed):
    """A re-firing 3 frames after every stroke splits every gap (SPLIT_DB): the gaps as
    counted cannot judge the ride; counted with the re-firing merged (REFIRE_GAP_S) they
    are the steady ride's (share >= 0.9, median change < 1 dB), and ``refire=True``
    finds it.  A re-firing 4 frames after (93 ms) is past the merge and still splits."""
    strokes = _strokes()
    hat = _refired_at(strokes, np.ones(strokes.size, bool))
    band = ride_band(seed)
    assert ride._gap_cue(band, hat, *GRID) is None
    assert not ride.is_ride_pattern(band, hat, *GRID)
    share, median, _ = ride._gap_cue(band, hat, *GRID, refire=ride._frames(ride.REFIRE_GAP_S, GRID[0]))
    assert share >= 0.9 and median < 1.0
    assert ride.is_ride_pattern(band, hat, *GRID, refire=True)
    assert not ride.is_ride_pattern(band, _refiring(strokes), *GRID, refire=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_second_count_loses_no_ride_the_first_one_finds(seed):
    """Every third stroke 6 dB louder moves the ring in the two gaps next to it; a
    re-firing after those strokes' neighbours splits exactly those gaps, so the first
    count holds only the steady third (share >= 0.9: the strict gate passes), while the
    merged count holds all (share <= 0.4 and median >= MEDIAN_DB: the strict gate fails
    there).  The ride stays found with ``refire=True``: the second count only adds."""
    rng = np.random.default_rng(seed)
    partials = rng.lognormal(0, 1, BINS)
    strokes = _strokes()
    i = np.arange(strokes.size)
    envelope = np.zeros(N_FRAMES)
    for s, loud in zip(strokes, i % 3 == 0):
        envelope[s:] = 10 ** ((6.0 if loud else 0.0) / 20) * np.exp(-np.arange(N_FRAMES - s) / 12.0)
    band = partials[:, None] * envelope + 0.1 * rng.random((BINS, N_FRAMES))
    hat = _refired_at(strokes, i % 3 != 2)
    share, median, _ = ride._gap_cue(band, hat, *GRID)
    assert share >= 0.9 and median < ride.MEDIAN_DB
    merged_share, merged_median, _ = ride._gap_cue(band, hat, *GRID, refire=ride._frames(ride.REFIRE_GAP_S, GRID[0]))
    assert merged_share <= 0.4 and merged_median >= ride.MEDIAN_DB
    assert ride.is_ride_pattern(band, hat, *GRID) and ride.is_ride_pattern(band, hat, *GRID, refire=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dying_closed_hats_with_a_peak_after_each_are_no_ride_by_the_second_count(seed):
    """Closed hats — fresh noise or one sample's spectrum at every hit — with a weaker
    peak 3 frames after each: merged, their gaps end on the band's floor, not a ring, and
    neither gate takes them even with the whole ring the ride template's."""
    strokes = _strokes()
    hat = _refired_at(strokes, np.ones(strokes.size, bool))
    for band in (hats_band(seed), same_hat_band(seed)):
        assert not ride.is_ride_pattern(band, hat, *GRID, refire=True)
        assert not ride.is_ride_pattern(band, hat, *GRID, ring=lambda frames: 1.0, refire=True)


def test_in_a_song_the_gaps_are_counted_once():
    """The second count was measured on drum recordings only: in a song
    (``stroke_weights(song=True)``) a ride whose gaps only the merged count holds is not
    judged one; in a drum recording it is."""
    strokes = _strokes()
    hat = _refired_at(strokes, np.ones(strokes.size, bool))
    magnitude = _full_band(ride_band())
    snare = _activation(strokes[1::2])
    kwargs = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    assert ride.stroke_weights(magnitude, hat, snare, **kwargs).any()
    assert not ride.stroke_weights(magnitude, hat, snare, song=True, **kwargs).any()


def test_the_third_cue_moves_the_strokes_only_with_the_kits_ride_part():
    """stroke_weights takes the third cue (HIT_RING_SHARE) when a model is given (the
    kit has a ride part, as where it was measured); without one the strict gate alone
    judges, and the re-firing ride is not moved."""
    magnitude = np.zeros((N_FFT // 2 + 1, 1, N_FRAMES))
    freqs = np.arange(N_FFT // 2 + 1) * SR / N_FFT
    band = np.flatnonzero((freqs >= ride.RIDE_BAND_HZ[0]) & (freqs < ride.RIDE_BAND_HZ[1]))
    magnitude[band, 0] = ride_band()[:band.size]
    hat, snare = _refiring(_strokes()), np.zeros(N_FRAMES)
    # the second cue is never asked here (no gap counts): any model of the right shapes
    model = (np.ones((N_FFT // 2 + 1, 2, 1)), np.ones((2, N_FRAMES)), 1)
    kw = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    assert np.all(ride.stroke_weights(magnitude, hat, snare, model=model, **kw) == 1)
    assert not ride.stroke_weights(magnitude, hat, snare, **kw).any()
    magnitude[band, 0] = same_hat_band()[:band.size]
    assert not ride.stroke_weights(magnitude, hat, snare, model=model, **kw).any()


def test_move_strokes_keeps_the_model_and_routes_the_strokes(monkeypatch):
    rng = np.random.default_rng(0)
    labels = ["kick", "snare", "hihat", "cymbals:ride"]
    P = rng.random((20, 4, 3))
    H = rng.random((4, 2, 50))
    route = np.array([0, 1, 3, 4])
    weights = (np.arange(50) % 2).astype(np.float32)
    monkeypatch.setattr(ride, "stroke_weights", lambda *a, **k: weights)
    P2, H2, route2, strokes, with_snare = ride.move_strokes(P, H, route, labels, None, sr=SR, n_fft=N_FFT,
                                                            hop_length=HOP, target=4)
    assert route2.tolist() == [0, 1, 3, 4, 4]
    np.testing.assert_allclose(strokes, H[2] * weights)
    # what stays (the frames at the snare's hits) is returned too: the strokes are picked from both
    np.testing.assert_allclose(with_snare, H[2] * (1 - weights))
    np.testing.assert_allclose(H2[2], with_snare)
    np.testing.assert_allclose(H2[2] + H2[4], H[2])
    np.testing.assert_array_equal(P2[:, 4], P[:, 2])
    model = np.einsum("fkt,kcn->fcn", P, H)
    np.testing.assert_allclose(np.einsum("fkt,kcn->fcn", P2, H2), model, rtol=1e-12)
    # no ride: the inputs themselves
    monkeypatch.setattr(ride, "stroke_weights", lambda *a, **k: np.zeros(50, np.float32))
    assert ride.move_strokes(P, H, route, labels, None, sr=SR, n_fft=N_FFT, hop_length=HOP,
                             target=4)[3:] == (None, None)


def test_move_strokes_moves_the_other_hat_parts_with_the_same_weights(monkeypatch):
    """``also``: the open hat part's activation moves with the closed part's per-frame
    weights to copies routed to the cymbals (the model unchanged); the strokes returned
    stay the closed part's; the closed part named in ``also`` moves once."""
    rng = np.random.default_rng(2)
    labels = ["kick", "snare", "hihat", "hihat:open", "cymbals:ride"]
    P = rng.random((20, 5, 3))
    H = rng.random((5, 2, 50))
    route = np.array([0, 1, 3, 3, 4])
    weights = (np.arange(50) % 3 > 0).astype(np.float32)
    monkeypatch.setattr(ride, "stroke_weights", lambda *a, **k: weights)
    kw = dict(sr=SR, n_fft=N_FFT, hop_length=HOP, target=4)
    P2, H2, route2, strokes, with_snare = ride.move_strokes(P, H, route, labels, None, also=[2, 3], **kw)
    assert route2.tolist() == [0, 1, 3, 3, 4, 4, 4]
    np.testing.assert_allclose(strokes, H[2] * weights)
    np.testing.assert_allclose(H2[5], H[2] * weights)
    np.testing.assert_allclose(H2[6], H[3] * weights)
    np.testing.assert_allclose(H2[3], H[3] * (1 - weights))
    np.testing.assert_array_equal(P2[:, 6], P[:, 3])
    model = np.einsum("fkt,kcn->fcn", P, H)
    np.testing.assert_allclose(np.einsum("fkt,kcn->fcn", P2, H2), model, rtol=1e-12)
    # without ``also``: as before, the open part untouched
    P3, H3, route3, _, _ = ride.move_strokes(P, H, route, labels, None, **kw)
    assert route3.tolist() == [0, 1, 3, 3, 4, 4]
    np.testing.assert_array_equal(H3[3], H[3])


def test_in_a_drum_recordings_ride_the_open_hat_part_goes_with_the_strokes(loop, monkeypatch):
    """A drum recording taken for a ride (forced on the loop): with the switch on, the hi-hat
    stem loses energy and the cymbals' gains beyond the closed part's strokes, the stems
    still add up to the mixture, and the activations and strokes are those of the switch
    off (only the masks' routing changes); no ride found (auto on the loop): identical
    stems."""
    from nmfaudio.drums import separation

    mix, sr = loop
    # the activations' share of the open hat part (RIDE_OPEN_HAT_HITS) is the next test's;
    # the moved parts' split between the cymbals and the residual (RIDE_STROKE_SPLIT: the
    # loop's hats, not a cymbal's, would leave for the residual) is tested on its own
    monkeypatch.setattr(separation, "RIDE_OPEN_HAT_HITS", False)
    monkeypatch.setattr(separation, "RIDE_STROKE_SPLIT", False)
    # ... and the hat ceiling (HAT_CEILING) caps the hat output's model by its own median,
    # which the open part's move changes: with it on, the loop's forced-ride hat stem reads
    # 35.6 against 33.8 with the open part kept (hat-proxy round, not resolved)
    monkeypatch.setattr(separation, "HAT_CEILING", False)
    on = separate_drums(mix, sr, random_state=0, ride="on")
    monkeypatch.setattr(separation, "RIDE_OPEN_HAT", False)
    off = separate_drums(mix, sr, random_state=0, ride="on")
    energy = {name: {s: float(np.sum(r.sources[s] ** 2)) for s in ("hihat", "cymbals")}
              for name, r in (("on", on), ("off", off))}
    # measured: hi-hat stem energy 0.73 x the switch off's, cymbals 1.25 x
    assert energy["on"]["hihat"] < 0.85 * energy["off"]["hihat"]
    assert energy["on"]["cymbals"] > 1.1 * energy["off"]["cymbals"]
    assert np.max(np.abs(sum(on.sources.values()) - mix)) <= 1e-5 * np.max(np.abs(mix))
    for cls in on.activations:
        np.testing.assert_array_equal(on.activations[cls], off.activations[cls])
    np.testing.assert_array_equal(on.ride_strokes, off.ride_strokes)
    auto_off = separate_drums(mix, sr, random_state=0)
    monkeypatch.setattr(separation, "RIDE_OPEN_HAT", True)
    auto_on = separate_drums(mix, sr, random_state=0)
    for stem in auto_on.sources:
        np.testing.assert_array_equal(auto_on.sources[stem], auto_off.sources[stem])


def test_the_open_hat_parts_moved_share_moves_in_the_activations_too(loop, monkeypatch):
    """A drum recording taken for a ride (forced on the loop): with RIDE_OPEN_HAT_HITS the
    open hat part's share that the stems put in the cymbals leaves the hi-hat's activation
    and joins the ride's strokes (picked as "cymbals_ride") and the cymbals' activation —
    what the hi-hat loses the strokes gain, frame by frame; the stems are those of the
    switch off.  With RIDE_OPEN_HAT off (nothing of the open hat moves) the switch changes
    nothing."""
    from nmfaudio.drums import separation

    mix, sr = loop
    on = separate_drums(mix, sr, random_state=0, ride="on")
    monkeypatch.setattr(separation, "RIDE_OPEN_HAT_HITS", False)
    off = separate_drums(mix, sr, random_state=0, ride="on")
    for stem in on.sources:
        np.testing.assert_array_equal(on.sources[stem], off.sources[stem])
    gained = on.ride_strokes - off.ride_strokes
    assert np.all(gained >= 0)
    # the open hat part's moved share is a real part of the strokes (measured: 0.28 of
    # the closed part's on the loop), not rounding
    assert gained.sum() > 0.05 * off.ride_strokes.sum()
    # the hi-hat loses it where it held it (a clipped frame loses what it had), the cymbals gain it
    lost = off.activations["hihat"] - on.activations["hihat"]
    np.testing.assert_allclose(lost, np.minimum(gained, off.activations["hihat"]), rtol=1e-5,
                               atol=1e-6 * gained.max())
    np.testing.assert_allclose(on.activations["cymbals"] - off.activations["cymbals"], gained, rtol=1e-5,
                               atol=1e-6 * gained.max())
    for cls in ("kick", "snare", "toms"):
        np.testing.assert_array_equal(on.activations[cls], off.activations[cls])
    # hits(): the moved share is picked as the ride's strokes, not as hats
    assert len(on.hits()["cymbals_ride"].times) >= len(off.hits()["cymbals_ride"].times)
    monkeypatch.setattr(separation, "RIDE_OPEN_HAT", False)
    plain_off = separate_drums(mix, sr, random_state=0, ride="on")
    monkeypatch.setattr(separation, "RIDE_OPEN_HAT_HITS", True)
    plain_on = separate_drums(mix, sr, random_state=0, ride="on")
    np.testing.assert_array_equal(plain_on.ride_strokes, plain_off.ride_strokes)
    for cls in plain_on.activations:
        np.testing.assert_array_equal(plain_on.activations[cls], plain_off.activations[cls])


def test_the_closed_hat_part_is_found_by_its_note_and_no_snare_moves_every_stroke():
    """The strokes come from the closed hi-hat part whatever its label ("hihat:closed"
    after "hihat:open": General MIDI 42, not the open hat's 46); templates without a snare
    have no pedal chicks to keep apart, so every frame moves (before: a label exactly
    "hihat" and a snare were required, else nothing moved)."""
    rng = np.random.default_rng(1)
    labels = ["kick", "hihat:open", "hihat:closed", "cymbals:ride"]
    P = rng.random((N_FFT // 2 + 1, 4, 3))
    H = rng.random((4, 1, 60))
    magnitude = rng.random((N_FFT // 2 + 1, 1, 60))
    P2, H2, route2, strokes, with_snare = ride.move_strokes(P, H, np.arange(4), labels, magnitude, sr=SR,
                                                            n_fft=N_FFT, hop_length=HOP, target=3, forced=True)
    np.testing.assert_allclose(strokes, H[2])  # all of the closed part, at every frame
    assert not with_snare.any() and not H2[2].any() and np.array_equal(H2[1], H[1])
    np.testing.assert_array_equal(P2[:, 4], P[:, 2])
    # no closed hat part: nothing to move
    assert ride.move_strokes(P, H, np.arange(4), ["kick", "hihat:open", "snare", "cymbals"], magnitude, sr=SR,
                             n_fft=N_FFT, hop_length=HOP, target=3, forced=True)[3:] == (None, None)


@pytest.mark.parametrize("sr, n_fft, hop, detrend", [(22050, 2048, 512, 15), (44100, 4096, 1024, 15),
                                                     (48000, 4464, 1116, 15)])
def test_the_frame_counts_are_the_tuned_ones_at_the_default_grids(sr, n_fft, hop, detrend):
    """The times (s) give the frame counts chosen at hop 512 / 22.05 kHz on every rate's
    default grid (nmfaudio.spectrum.frames_for_rate): 7-frame gaps, 2-frame rings, snare
    peaks 5 frames apart, a 1-frame guard; the detrending keeps its width in Hz (15 bins
    of 10.8 Hz; at 48 kHz 15 of 10.75 Hz since rate48_68, 14 of 11.7 Hz at 4096 / 1024)."""
    from nmfaudio.spectrum import frames_for_rate

    assert frames_for_rate(sr) == (n_fft, hop)
    frames = {name: ride._frames(getattr(ride, name), sr / hop)
              for name in ("MIN_GAP_S", "RING_S", "SNARE_DISTANCE_S", "SNARE_GUARD_S")}
    assert frames == {"MIN_GAP_S": 7, "RING_S": 2, "SNARE_DISTANCE_S": 5, "SNARE_GUARD_S": 1}
    assert ride._frames(ride.DETREND_HZ, n_fft / sr) == detrend
    # the third cue's: the ring's re-firing skipped for 5 frames, the ring looked at up to
    # 15 (16 at 48 kHz on 4096 / 1024: 0.3-0.4 s measured alike)
    assert ride._frames(ride.REFIRE_S, sr / hop) == 5 and ride._frames(ride.HIT_RING_S, sr / hop) in (15, 16)
    # the gaps' second count merges a re-firing within 3 frames of a stroke
    assert ride._frames(ride.REFIRE_GAP_S, sr / hop) == 3
    # at a 4x finer hop the counts scale with it
    assert ride._frames(ride.MIN_GAP_S, 4 * sr / hop) in (27, 28, 29)


@pytest.fixture(scope="module")
def loop():
    mix, sr = sf.read(ROOT / "data" / "drum_loop.wav", dtype="float32")
    return mix, sr


def test_the_bundled_hihat_loop_is_not_a_ride(loop, monkeypatch):
    """The loop's hats are judged (the decision runs on the closed hat part, then on the
    ride part) and found no ride: nothing moves, no strokes are picked apart."""
    decisions = []
    decide = ride.is_ride_pattern
    monkeypatch.setattr(ride, "is_ride_pattern", lambda *a, **k: decisions.append(decide(*a, **k)) or decisions[-1])
    result = separate_drums(*loop, random_state=0)
    assert decisions == [False, False]
    assert result.ride_strokes is None and result.ride_with_snare is None


def test_a_ride_moves_the_hat_parts_strokes_to_the_cymbals(loop):
    """With the decision forced (the loop's hats taken for a ride): the hi-hat's activation
    loses what the cymbals' gains, the stems still add up to the mixture, the hits name
    the strokes as ride notes (51), and the hat keeps its activation at the snare's hits."""
    mix, sr = loop
    before = separate_drums(mix, sr, random_state=0)
    after = separate_drums(mix, sr, random_state=0, ride="on")
    strokes = after.ride_strokes
    assert strokes is not None and strokes.shape == after.activations["hihat"].shape
    both = before.activations["hihat"] + before.activations["cymbals"]
    np.testing.assert_allclose(after.activations["hihat"] + after.activations["cymbals"], both,
                               rtol=1e-4, atol=1e-6 * both.max())
    assert after.activations["hihat"].sum() < 0.5 * before.activations["hihat"].sum()
    assert np.max(np.abs(sum(after.sources.values()) - mix)) <= 1e-5 * np.max(np.abs(mix))
    assert np.sum(after.sources["cymbals"] ** 2) > 3 * np.sum(before.sources["cymbals"] ** 2)
    hits = after.hits()
    assert len(hits["cymbals_ride"].times) >= 10 and gm_notes(["cymbals_ride"]) == {"cymbals_ride": 51}
    kept = strokes == 0
    assert kept.any()
    np.testing.assert_allclose(after.activations["hihat"][kept], before.activations["hihat"][kept], rtol=1e-5)
    assert after.ride_with_snare is not None and np.all(after.ride_with_snare[~kept] == 0)
    # what stays is within SNARE_GUARD_S of the snare's hits (its activation's peaks)
    guard = round(ride.SNARE_GUARD_S * sr / after.hop_length)
    snare_hits = ride._peaks(after.activations["snare"], ride.PEAK_DB,
                             distance=round(ride.SNARE_DISTANCE_S * sr / after.hop_length))
    stays = np.flatnonzero(after.ride_with_snare > 0)
    assert stays.size >= len(snare_hits) >= 5  # measured: 9 snare peaks above PEAK_DB
    assert np.all(np.min(np.abs(stays[:, None] - snare_hits[None, :]), axis=1) <= guard)


def test_the_strokes_played_with_the_snare_are_ride_notes_too(loop):
    """At the snare's hits the closed hat part stays in the hi-hat (pedal chicks), but a
    ride keeping time is struck there too: ``hits()`` picks a ride note at most of the
    snare's hits (measured 11 of 15; before, 4: those frames held no strokes), and the
    hi-hat keeps its hits there (8 of 15 before and after: the echo rule leaves them)."""
    mix, sr = loop
    hits = separate_drums(mix, sr, random_state=0, ride="on").hits()
    snare, strokes, hat = hits["snare"].times, hits["cymbals_ride"].times, hits["hihat"].times
    assert len(snare) >= 4

    def share_near(times):
        return np.mean([np.min(np.abs(times - t)) < 0.03 if len(times) else False for t in snare])

    assert share_near(strokes) >= 0.6
    assert share_near(hat) >= 0.5


def _parts(ride_activation, ride_decay=12.0):
    """Templates with crash and ride parts: (P, H, labels) whose ride part has
    ``ride_activation`` (N_FRAMES,) and rings on (a flat spectrum decaying over
    ``ride_decay`` frames), the crash part one hit; P (N_FFT // 2 + 1, 5, 16)."""
    rng = np.random.default_rng(2)
    labels = ["kick", "snare", "hihat", "cymbals:crash", "cymbals:ride"]
    H = rng.random((5, 1, N_FRAMES)) * 1e-3
    H[4, 0] = ride_activation
    H[3, 0, 40] = 5.0
    P = np.full((N_FFT // 2 + 1, 5, 16), 1e-3)
    P[:, 3] = np.exp(-np.arange(16) / 6.0)
    P[:, 4] = np.exp(-np.arange(16) / ride_decay)
    return P, H, labels


def _full_band(band):
    magnitude = np.full((N_FFT // 2 + 1, 1, N_FRAMES), 1e-3)
    lo = int(np.ceil(ride.RIDE_BAND_HZ[0] * N_FFT / SR))
    magnitude[lo:lo + BINS, 0] = band
    return magnitude


def test_the_ride_part_is_judged_with_the_same_cue():
    """A kit whose strokes the ride template took (the closed hat part 20-30 dB under its
    own peaks there, measured on Millo-Drums and Audiophob): the ride part's activation is
    judged like the hat's — a steady ring between its hits is a ride and the part's
    activation is returned as the strokes; dying hats under the same hits, or no part
    with the ride's note, give None."""
    P, H, labels = _parts(_activation(_strokes()))
    grid = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    strokes = ride.ride_part_strokes(P, H, labels, _full_band(ride_band()), **grid)
    assert strokes is not None and strokes.shape == (1, N_FRAMES)
    np.testing.assert_array_equal(strokes, H[4])
    assert ride.ride_part_strokes(P, H, labels, _full_band(hats_band()), **grid) is None
    crash_only = ["kick", "snare", "hihat", "cymbals:crash", "cymbals:china"]
    assert ride.ride_part_strokes(P, H, crash_only, _full_band(ride_band()), **grid) is None
    # the band reaching past Nyquist: no ride judged, as for the hat part
    assert ride.ride_part_strokes(P, H, labels, _full_band(ride_band()), sr=16000, n_fft=N_FFT,
                                  hop_length=HOP) is None


def test_the_ride_part_needs_its_own_ring_between_its_hits():
    """The second cue (``ride.ring_share``): the same steady ring under the same hits is
    no ride when, at the gaps' ends, the kit's model holds it in another part — here a
    ride template gone within two frames and the closed hat part ringing on (a hat
    groove whose ride part picks up the hats and a crash's wash; measured 0.01-0.08 on
    the regular performances, RING_SHARE 0.15).  Without the second cue (before) this
    was a ride."""
    P, H, labels = _parts(_activation(_strokes()))
    grid = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    band = _full_band(ride_band())
    assert ride.ride_part_strokes(P, H, labels, band, **grid) is not None
    P[:, 4] = np.exp(-np.arange(16) / 0.5)  # the ride template: no ring
    H[2, 0] = 0.5  # the hat part holds the band everywhere
    lo, hi = (int(np.ceil(edge * N_FFT / SR)) for edge in ride.RIDE_BAND_HZ)
    ends = _strokes()[1:] - 1
    assert ride.ring_share(P, H.sum(axis=1), 4, ends, slice(lo, hi)) < 0.01
    assert ride.ride_part_strokes(P, H, labels, band, **grid) is None
    # the strict gate alone still calls it a ride: the second cue made the difference
    assert ride.is_ride_pattern(band[lo:hi].sum(axis=1), H[4, 0], *GRID)
    # ride="on" asks neither cue
    assert ride.ride_part_strokes(P, H, labels, band, **grid, forced=True) is not None


def test_ring_share_is_each_parts_share_of_the_bands_model():
    """Shares of the parts at the same frames add up to 1 (to 1e-9); a part alone at a
    frame has all of it, and before its first hit none."""
    P, H, labels = _parts(_activation(_strokes()))
    H = H.sum(axis=1)
    frames = np.array([10, 50, 120])
    rows = slice(200, 600)
    total = [ride.ring_share(P, H, k, frames[i:i + 1], rows) for i in range(3) for k in range(5)]
    np.testing.assert_allclose(np.reshape(total, (3, 5)).sum(axis=1), 1.0, atol=1e-9)
    only = np.zeros_like(H)
    only[4, 5] = 1.0
    assert ride.ring_share(P, only, 4, np.array([6, 12]), rows) == 1.0
    assert ride.ring_share(P, only, 4, np.array([2, 4]), rows) == 0.0
    assert ride.ring_share(P, only, 4, np.array([], dtype=int), rows) == 0.0


def test_cymbals_holding_the_band_under_the_whole_groove_make_a_ride(monkeypatch):
    """The fourth cue (``ride.CYMBALS_HOLD``): closed hats that die within three frames
    pass no gate and no ringing-hits cue, and the ride part, held on at every frame, has
    no hits of its own to judge — but the cymbal parts hold the band's model under the
    whole groove (share ~1, at least CYMBALS_HOLD), so the hat part's strokes move; with
    the cymbal parts quiet (share ~0) or the cue off (``CYMBALS_HOLD = 0``, main before the
    cymbals-hold round) they stay."""
    grid = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    band = _full_band(hats_band())
    P, H, labels = _parts(np.full(N_FRAMES, 0.5))
    H[2, 0] = _activation(_strokes())
    route = np.arange(5)
    lo, hi = (int(np.ceil(edge * N_FFT / SR)) for edge in ride.RIDE_BAND_HZ)
    assert ride.cymbals_hold(P, H.sum(axis=1), [3, 4], slice(lo, hi)) > 0.99
    assert ride.ride_part_strokes(P, H, labels, band, **grid) is None  # the ride part judges nothing
    moved = ride.move_strokes(P, H, route, labels, band, target=4, **grid)
    assert moved[3] is not None and moved[0].shape[1] == 6
    quiet = H.copy()
    quiet[3:, 0] = 1e-7  # no crash, no ride: the kick's and snare's parts hold the band
    assert ride.cymbals_hold(P, quiet.sum(axis=1), [3, 4], slice(lo, hi)) < 0.01
    assert ride.move_strokes(P, quiet, route, labels, band, target=4, **grid)[3] is None
    monkeypatch.setattr(ride, "CYMBALS_HOLD", 0)
    assert ride.move_strokes(P, H, route, labels, band, target=4, **grid)[3] is None


def test_cymbals_hold_is_each_frames_share_of_the_bands_model_and_0_without_parts_or_frames():
    """``ride.cymbals_hold`` against the model built outright (each part's band model
    ``Σ_t P[:, k, t] H[k, n - t]``, its energy per frame, the parts' share, the median),
    to 1e-12 on random float32 / float64 cases with T = 1 and N < T among them; no cymbal
    parts (an empty list) or no frames gives 0, all-zero activations 0."""
    rng = np.random.default_rng(5)

    def direct(P, H, parts, rows):
        F, K, T = P.shape
        N = H.shape[1]
        V = np.zeros((K, F, N))
        for k in range(K):
            for t in range(min(T, N)):
                V[k, :, t:] += np.outer(P[:, k, t], H[k, :N - t])
        energy = (V[:, rows] ** 2).sum(axis=1)  # (K, N)
        total = energy.sum(axis=0)
        share = np.where(total > 0, energy[np.atleast_1d(parts)].sum(axis=0) / np.where(total > 0, total, 1), 0)
        return float(np.median(share))

    for T, N, dtype in [(1, 20, np.float64), (6, 3, np.float32), (8, 40, np.float64), (5, 25, np.float32)]:
        P = rng.random((24, 4, T)).astype(dtype)
        H = rng.random((4, N)) * (rng.random((4, N)) > 0.4)
        rows = slice(6, 18)
        for parts in ([3], [2, 3], 1):
            assert abs(ride.cymbals_hold(P, H, parts, rows) - direct(P.astype(float), H, parts, rows)) < 1e-12
    assert ride.cymbals_hold(P, H, [], rows) == 0.0  # a kit without cymbal parts
    assert ride.cymbals_hold(P, H[:, :0], [3], rows) == 0.0
    assert ride.cymbals_hold(P, np.zeros_like(H), [3], rows) == 0.0


def test_the_fourth_cue_is_not_asked_in_a_song_nor_past_the_ride_parts_own_ride(monkeypatch):
    """The fourth cue's setting of the test above: in a song (``song=True``) it is never
    asked (``cymbals_hold`` not called, nothing moves); in a drum recording a stereo H
    (two channels, the right at half the left) moves the strokes as a mono one does; the
    ride part's own hits judged a ride's (``ride_part_strokes`` not None) keep the strokes
    where they are; and with the cymbals quiet ``ride_part_strokes`` is not computed."""
    grid = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    band = _full_band(hats_band())
    P, H, labels = _parts(np.full(N_FRAMES, 0.5))
    H[2, 0] = _activation(_strokes())
    route = np.arange(5)
    holds, judged = [], []
    cymbals_hold, ride_part_strokes = ride.cymbals_hold, ride.ride_part_strokes
    monkeypatch.setattr(ride, "cymbals_hold", lambda *a: holds.append(1) or cymbals_hold(*a))
    monkeypatch.setattr(ride, "ride_part_strokes", lambda *a, **k: judged.append(1) or ride_part_strokes(*a, **k))
    assert ride.move_strokes(P, H, route, labels, band, target=4, song=True, **grid)[3] is None
    assert holds == [] and judged == []
    stereo = ride.move_strokes(P, np.concatenate([H, H / 2], axis=1), route, labels,
                               np.concatenate([band, band / 2], axis=1), target=4, **grid)
    assert stereo[3] is not None and stereo[3].shape == (2, N_FRAMES)
    quiet = H.copy()
    quiet[3:, 0] = 1e-7
    holds.clear(), judged.clear()
    assert ride.move_strokes(P, quiet, route, labels, band, target=4, **grid)[3] is None
    assert holds == [1] and judged == []
    monkeypatch.setattr(ride, "ride_part_strokes", lambda *a, **k: np.ones((1, N_FRAMES)))
    assert ride.move_strokes(P, H, route, labels, band, target=4, **grid)[3] is None


def _crash_loop(n=100, restruck=None, ride_level=1e-3, decay=35.0):
    """A one-bar loop (``n`` frames, 2.3 s at 100) of closed hats that start on a long
    crash: the crash part's activation rings from frame 0 (``decay`` frames: -25 dB over
    the loop at 35), the ride part quiet (``ride_level``), the hat part struck every GAP
    frames (dying within three frames in the band); ``restruck``: a frame where the crash
    is struck again.  Returns (P, H, labels, band) for ``ride.move_strokes``."""
    P, H, labels = _parts(np.full(N_FRAMES, ride_level))
    H[3, 0] = 5.0 * np.exp(-np.arange(N_FRAMES) / decay)
    if restruck is not None:
        H[3, 0, restruck:] += 5.0 * np.exp(-np.arange(N_FRAMES - restruck) / 35.0)
    H[2, 0] = _activation(_strokes())
    return P, H[..., :n], labels, _full_band(hats_band())[..., :n]


def test_a_one_bar_loop_starting_on_a_long_crash_is_no_ride():
    """The fourth cue (``ride.CYMBALS_HOLD``) on a loop a crash's wash fills: the cymbal
    parts hold the band's model at every frame (share > 0.99) and the closed hats pass no
    other cue, so main took the hats for a ride's strokes.  The wash is struck once:
    ``ride.crash_wash`` finds no rise of the cymbals past the loop's first quarter and the
    ride part holding under ``WASH_RIDE_SHARE``, and nothing moves.  The same loop with the
    crash struck again at 0.6 of the loop, with the ride part holding the band, or with
    the cymbals' ring held to the end (-2.5 dB over the loop: a ride's kept up, not a wash
    ringing out, ``WASH_END_DB``) still moves the strokes (the fourth cue as before), and
    so does the wash with the check off (``WASH_RIDE_SHARE = 0``, main)."""
    grid = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    route = np.arange(5)
    lo, hi = (int(np.ceil(edge * N_FFT / SR)) for edge in ride.RIDE_BAND_HZ)
    P, H, labels, band = _crash_loop()
    assert ride.cymbals_hold(P, H.sum(axis=1), [3, 4], slice(lo, hi)) > 0.99
    assert ride.move_strokes(P, H, route, labels, band, target=4, **grid)[3] is None
    assert ride.crash_wash(P, H.sum(axis=1), [3, 4], 4, slice(lo, hi), SR / HOP)
    P, H2, labels, band = _crash_loop(restruck=60)
    assert not ride.crash_wash(P, H2.sum(axis=1), [3, 4], 4, slice(lo, hi), SR / HOP)
    assert ride.move_strokes(P, H2, route, labels, band, target=4, **grid)[3] is not None
    P, H3, labels, band = _crash_loop(ride_level=2.0)
    assert not ride.crash_wash(P, H3.sum(axis=1), [3, 4], 4, slice(lo, hi), SR / HOP)
    assert ride.move_strokes(P, H3, route, labels, band, target=4, **grid)[3] is not None
    P, H4, labels, band = _crash_loop(decay=350.0)
    assert not ride.crash_wash(P, H4.sum(axis=1), [3, 4], 4, slice(lo, hi), SR / HOP)
    assert ride.move_strokes(P, H4, route, labels, band, target=4, **grid)[3] is not None


def test_the_crash_wash_check_off_gives_mains_fourth_cue(monkeypatch):
    """``WASH_RIDE_SHARE = 0`` turns the check off: the loop of the test above is taken for
    a ride by the fourth cue, as on main."""
    grid = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    P, H, labels, band = _crash_loop()
    monkeypatch.setattr(ride, "WASH_RIDE_SHARE", 0)
    assert ride.move_strokes(P, H, np.arange(5), labels, band, target=4, **grid)[3] is not None


def wash_band(seed=0, decay=30.0):
    """A ridden crash: a fresh noise spectrum every frame (no partials held from gap to
    gap), struck every GAP frames and ringing on (``decay`` frames: -2.9 dB over a gap at
    30): (650, N_FRAMES)."""
    rng = np.random.default_rng(seed)
    envelope = np.full(N_FRAMES, 1e-3)
    for s in _strokes():
        envelope[s:] = np.exp(-np.arange(N_FRAMES - s) / decay)
    return rng.lognormal(0, 1, (BINS, N_FRAMES)) * envelope


def test_hat_ring_level_reads_the_bands_level_at_the_gaps_ends():
    """``ride.hat_ring_level``: the median level at the gaps' ends against the hits is the
    envelope's (a wash decaying over 30 frames: 10 frames from the hit's 2-frame mean to the
    end's, -2.9 dB within 0.5 dB; closed hats gone in three frames: under -20 dB), with the
    gaps' last frames (each next hit's frame - 1); fewer than MIN_GAPS gaps: None."""
    frame_rate = SR / HOP
    hat = _activation(_strokes())
    level, ends, low = ride.hat_ring_level(wash_band(), hat, frame_rate)
    expected = 10 * np.log10(np.mean(np.exp(-2 * np.arange(9, 11) / 30.0)) / np.mean(np.exp(-2 * np.arange(2) / 30.0)))
    assert abs(level - expected) < 0.5 and -3.5 < expected < -2.5
    assert ends.tolist() == (_strokes()[1:] - 1).tolist()
    assert ride.hat_ring_level(hats_band(), hat, frame_rate)[0] < -20
    stereo = np.stack([wash_band(), wash_band()], axis=1)  # (F, C, N): the channels summed, the same level
    assert abs(ride.hat_ring_level(stereo, hat, frame_rate)[0] - level) < 1e-9
    assert ride.hat_ring_level(wash_band(), _activation(_strokes()[:4]), frame_rate) is None  # three gaps


def test_the_fifth_cue_moves_a_ridden_crashs_strokes_and_not_dying_hats(monkeypatch):
    """The fifth cue (``ride.HELD_RING_DB``, ``HELD_RING_SHARE``): a ridden crash whose wash
    holds no partials from gap to gap passes no gate, no ringing-hits cue and (cymbals
    quiet) no fourth cue — but the band stays within 3 dB of the hits at the gaps' ends
    and the hat part holds it there: the strokes move.  Closed hats gone in three frames,
    the same hat part, stay; with the hat part's share under HELD_RING_SHARE, the level
    under HELD_RING_DB (a wash decaying over 8 frames: -11 dB) or the cue off (0, main
    before the ride-held round), the wash stays too."""
    grid = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    P, H, labels = _parts(np.full(N_FRAMES, 1e-7))
    H[3, 0] = 1e-7  # no crash hit: the fourth cue fails
    H[2, 0] = _activation(_strokes())
    route = np.arange(5)
    wash = _full_band(wash_band())
    moved = ride.move_strokes(P, H, route, labels, wash, target=4, **grid)
    assert moved[3] is not None and moved[0].shape[1] == 6
    assert ride.move_strokes(P, H, route, labels, _full_band(hats_band()), target=4, **grid)[3] is None
    assert ride.move_strokes(P, H, route, labels, _full_band(wash_band(decay=8.0)), target=4, **grid)[3] is None
    share = ride.ring_share(P, H.sum(axis=1), 2, _strokes()[1:] - 1, slice(None))
    assert 0.3 < share < 1
    monkeypatch.setattr(ride, "HELD_RING_SHARE", (1 + share) / 2)  # the hat part's share under it
    assert ride.move_strokes(P, H, route, labels, wash, target=4, **grid)[3] is None
    monkeypatch.setattr(ride, "HELD_RING_SHARE", 0)
    assert ride.move_strokes(P, H, route, labels, wash, target=4, **grid)[3] is None


def test_the_fifth_cue_takes_a_ring_7_db_under_the_hits(monkeypatch):
    """``ride.HELD_RING_DB`` (the ridenew round): a ridden crash whose wash decays over 11
    frames reads about -7.1 dB at every gap's end (its lower quartile too, within 1 dB) — under
    the -5.5 dB main had, over HELD_RING_DB and HELD_RING_LOW_DB — and its strokes move; with
    the median's bound at -5.5 dB (main before this round) they stay."""
    frame_rate = SR / HOP
    hat = _activation(_strokes())
    wash = wash_band(decay=11.0)
    level, _, low = ride.hat_ring_level(wash, hat, frame_rate)
    assert ride.HELD_RING_DB + 0.5 < level < -5.5 - 0.5 and abs(low - level) < 1.0
    assert low >= ride.HELD_RING_LOW_DB + 0.5
    grid = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    P, H, labels = _parts(np.full(N_FRAMES, 1e-7))
    H[3, 0] = 1e-7  # no crash hit: the fourth cue fails
    H[2, 0] = hat
    route = np.arange(5)
    assert ride.move_strokes(P, H, route, labels, _full_band(wash), target=4, **grid)[3] is not None
    monkeypatch.setattr(ride, "HELD_RING_DB", -5.5)
    assert ride.move_strokes(P, H, route, labels, _full_band(wash), target=4, **grid)[3] is None


def disco_band(seed=0):
    """A disco groove's band in small: every third gap dies (a closed hat gone in three
    frames, about -40 dB at the gap's end), the other two ring on (an open hat's wash
    decaying over 30 frames, -2.9 dB): the median gap rings, the lower quartile does not;
    a fresh noise spectrum every frame, (650, N_FRAMES)."""
    rng = np.random.default_rng(seed)
    envelope = np.full(N_FRAMES, 1e-3)
    for i, s in enumerate(_strokes()):
        envelope[s:] = np.exp(-np.arange(N_FRAMES - s) / (30.0 if i % 3 else 1.5))
    return rng.lognormal(0, 1, (BINS, N_FRAMES)) * envelope


def test_the_fifth_cue_needs_the_lower_quartile_of_the_gaps_to_ring(monkeypatch):
    """``ride.HELD_RING_LOW_DB``: a groove whose median gap rings (two of three gaps an open
    hat's wash, within HELD_RING_DB of the hits) but whose closed hats' gaps die (the lower
    quartile under HELD_RING_LOW_DB) is no ride, its strokes stay; with that bound off
    (-inf, main before the rate-robust ride round) the fifth cue moved them.  A ridden
    crash ringing at every gap's end (``wash_band``) still moves: its lower quartile is
    its median within 1 dB."""
    frame_rate = SR / HOP
    hat = _activation(_strokes())
    level, _, low = ride.hat_ring_level(disco_band(), hat, frame_rate)
    assert level >= ride.HELD_RING_DB and low < ride.HELD_RING_LOW_DB - 10
    level, _, low = ride.hat_ring_level(wash_band(), hat, frame_rate)
    assert abs(low - level) < 1.0 and low >= ride.HELD_RING_LOW_DB
    grid = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    P, H, labels = _parts(np.full(N_FRAMES, 1e-7))
    H[3, 0] = 1e-7  # no crash hit: the fourth cue fails
    H[2, 0] = hat
    route = np.arange(5)
    assert ride.move_strokes(P, H, route, labels, _full_band(disco_band()), target=4, **grid)[3] is None
    assert ride.move_strokes(P, H, route, labels, _full_band(wash_band()), target=4, **grid)[3] is not None
    monkeypatch.setattr(ride, "HELD_RING_LOW_DB", -np.inf)
    assert ride.move_strokes(P, H, route, labels, _full_band(disco_band()), target=4, **grid)[3] is not None


def test_the_cues_read_the_same_hz_and_times_at_44100():
    """At 44.1 kHz (n_fft 4096, hop 1024: ``spectrum.frames_for_rate``) the ride cues read
    the same 10.8-Hz bins of RIDE_BAND_HZ and the same 23.2-ms frames as at 22.05 kHz: the
    same band and parts give the same verdict and the same moved activation for a ride
    (``ride_band``), a ridden crash (the fifth cue), a disco groove and dying hats — what
    differs between the rates is the fit's activations, not the cues' view (the rate-robust
    ride round)."""
    P, H, labels = _parts(np.full(N_FRAMES, 1e-7))
    H[3, 0] = 1e-7
    H[2, 0] = _activation(_strokes())
    route = np.arange(5)
    n_fft = 2 * N_FFT
    wide_P = np.concatenate([P, np.repeat(P[-1:], n_fft // 2 + 1 - P.shape[0], axis=0)])
    for band in (ride_band(), wash_band(), disco_band(), hats_band()):
        low = ride.move_strokes(P, H, route, labels, _full_band(band), target=4, sr=SR, n_fft=N_FFT, hop_length=HOP)
        wide = np.full((n_fft // 2 + 1, 1, N_FRAMES), 1e-3)
        wide[:N_FFT // 2 + 1] = _full_band(band)
        high = ride.move_strokes(wide_P, H, route, labels, wide, target=4, sr=2 * SR, n_fft=n_fft, hop_length=2 * HOP)
        assert (low[3] is None) == (high[3] is None)
        if low[3] is not None:
            np.testing.assert_array_equal(low[3], high[3])
    verdicts = [ride.move_strokes(P, H, route, labels, _full_band(band), target=4, sr=SR, n_fft=N_FFT,
                                  hop_length=HOP)[3] is not None for band in (wash_band(), disco_band())]
    assert verdicts == [True, False]


def test_a_looser_gate_with_the_ride_ring_finds_a_ride_the_strict_one_misses():
    """Strokes whose accents move the ring by 4 dB every third gap (a third of the gaps
    steady, median |change| 4 dB: under STEADY_SHARE, over MEDIAN_DB) are no ride by the
    gaps' cue alone, but pass the loose gate (LOOSE_SHARE, LOOSE_DB) and are a ride when
    the second cue says the ring is the ride part's: the closed hat part needs
    HAT_RING_SHARE there, the ride part RING_SHARE."""
    rng = np.random.default_rng(0)
    partials = rng.lognormal(0, 1, BINS)
    strokes = _strokes()
    levels = 10 ** (np.resize([0.0, 0.0, 4.0], strokes.size) / 20)
    envelope = np.zeros(N_FRAMES)
    for s, level in zip(strokes, levels):
        envelope[s:] = level * np.exp(-np.arange(N_FRAMES - s) / 12.0)
    band = partials[:, None] * envelope + 0.1 * rng.random((BINS, N_FRAMES))
    hat = _activation(strokes)
    assert not ride.is_ride_pattern(band, hat, *GRID)
    assert not ride.is_ride_pattern(band, hat, *GRID, ring=lambda frames: ride.HAT_RING_SHARE - 0.01)
    assert ride.is_ride_pattern(band, hat, *GRID, ring=lambda frames: ride.HAT_RING_SHARE)
    ride_part = (ride.RING_SHARE, ride.RING_SHARE)
    assert ride.is_ride_pattern(band, hat, *GRID, ring=lambda frames: ride.RING_SHARE, need=ride_part)
    assert not ride.is_ride_pattern(band, hat, *GRID, ring=lambda frames: ride.RING_SHARE - 0.01, need=ride_part)
    # no loose gate asked for: the strict one alone
    assert not ride.is_ride_pattern(band, hat, *GRID, ring=lambda frames: 1.0, need=(None, None))


def crash_wash_band(seed=0):
    """Closed hats (gaps of 7, 7, 7, 13, 13, 13 frames) under a crash struck on each
    bar's first hat whose wash falls 4.6 dB over a 13-frame gap (2.5 dB over a 7-frame
    one) and rings on over the bar, its partials the same throughout — FluidR3
    Standard's halftime groove in the drums benchmark, in small: (650, N_FRAMES) and the
    hat activation (N_FRAMES,)."""
    rng = np.random.default_rng(seed)
    partials = rng.lognormal(0, 1, BINS)
    hits = 3 + np.concatenate([[0], np.cumsum(np.resize([7, 7, 7, 13, 13, 13], 40))])
    hits = hits[hits < N_FRAMES - 2]
    envelope = np.zeros(N_FRAMES)
    for c in hits[::6]:
        envelope[c:] += 10 ** (-4.6 / 20 * np.arange(N_FRAMES - c) / 13)
    return partials[:, None] * envelope + 0.01 * rng.random((BINS, N_FRAMES)), _activation(hits)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_crash_wash_over_closed_hats_is_not_the_hat_parts_ride(seed):
    """A crash's wash over a hat groove falls by more per gap than a ride's re-struck
    ring: its gaps' median level change (4.6 dB, within 0.2 dB) lies between
    HAT_LOOSE_DB and LOOSE_DB, so the closed hat part's loose gate refuses it even with
    the whole ring the ride template's (the ride template explains a crash's wash too:
    0.33 on the benchmark's groove), while the ride part's bound still takes it."""
    band, hat = crash_wash_band(seed)
    share, median, _ = ride._gap_cue(band, hat, *GRID)
    assert ride.HAT_LOOSE_DB < median < ride.LOOSE_DB and abs(median - 4.6) < 0.2
    assert share >= ride.LOOSE_SHARE and not median < ride.MEDIAN_DB  # the loose gate's, not the strict one's
    assert not ride.is_ride_pattern(band, hat, *GRID, ring=lambda frames: 1.0)
    assert ride.is_ride_pattern(band, hat, *GRID, ring=lambda frames: 1.0, need=(ride.RING_SHARE, ride.RING_SHARE),
                                loose_db=ride.LOOSE_DB)


def test_one_steady_gap_of_four_is_not_the_hat_parts_ride():
    """The closed hat part's loose gate needs HAT_LOOSE_STEADY (2) steady gaps: one of four
    (share 0.25, the least LOOSE_SHARE takes; AVL Red Zeppelin's halftime groove: median
    change 3.4 dB, ring share 0.34) is refused, two of eight pass, as does one of four
    for the ride part (loose_steady=1, its gate as measured).  Exact: the cues are given."""
    ring = lambda frames: 0.34  # noqa: E731 - the groove's ride part share, over HAT_RING_SHARE
    hat_need, ride_need = (None, ride.HAT_RING_SHARE), (ride.RING_SHARE, ride.RING_SHARE)
    one_of_four, two_of_eight = (0.25, 3.42, np.arange(4)), (0.25, 3.42, np.arange(8))
    assert ride.HAT_LOOSE_STEADY == 2 and ride.LOOSE_SHARE == 0.25
    assert not ride._gates(one_of_four, ring, hat_need, ride.HAT_LOOSE_DB, ride.STEADY_SHARE, ride.HAT_LOOSE_STEADY)
    assert ride._gates(two_of_eight, ring, hat_need, ride.HAT_LOOSE_DB, ride.STEADY_SHARE, ride.HAT_LOOSE_STEADY)
    assert ride._gates(one_of_four, ring, ride_need, ride.LOOSE_DB, ride.STEADY_SHARE, 1)
    # the strict gate counts no gaps: a share at STEADY_SHARE of four gaps still decides
    assert ride._gates((0.5, 3.0, np.arange(4)), None, hat_need, ride.HAT_LOOSE_DB, ride.STEADY_SHARE,
                       ride.HAT_LOOSE_STEADY)
    import inspect

    assert inspect.signature(ride.is_ride_pattern).parameters["loose_steady"].default == ride.HAT_LOOSE_STEADY


def test_a_ride_in_its_own_part_changes_no_stem_and_is_picked_apart(loop, monkeypatch):
    """When the closed hat part is no ride but the ride part is (the decision forced on
    the second judgement only): nothing moves — stems and activations identical to the
    run without a ride — and ``hits()`` picks the ride part's strokes as ``cymbals_ride``
    (note 51), the crash's hits from what is left of the cymbals' activation."""
    mix, sr = loop
    before = separate_drums(mix, sr, random_state=0)
    calls = []
    monkeypatch.setattr(ride, "is_ride_pattern", lambda *a, **k: calls.append(1) or len(calls) == 2)
    after = separate_drums(mix, sr, random_state=0)
    assert len(calls) == 2 and after.ride_strokes is not None and after.ride_with_snare is None
    for name in before.sources:
        np.testing.assert_array_equal(after.sources[name], before.sources[name])
    for name in before.activations:
        np.testing.assert_array_equal(after.activations[name], before.activations[name])
    assert after.ride_strokes.shape == after.activations["cymbals"].shape
    assert np.all(after.ride_strokes <= after.activations["cymbals"] * (1 + 1e-6) + 1e-12)
    # the loop plays no ride (its ride part holds no stroke above the threshold): the
    # split is checked — a note-51 class, and the crash's hits picked without the ride part
    from nmfaudio.drums import detect_hits

    hits = after.hits()
    assert hits["cymbals_ride"].note == 51
    crash_only = dict(after.activations, cymbals=np.maximum(after.activations["cymbals"] - after.ride_strokes, 0))
    signals = {name: after.sources[name] for name in after.activations}
    expected = detect_hits(crash_only, sr=sr, hop_length=after.hop_length, signals=signals,
                           mixture=sum(after.sources.values()))["cymbals"].times
    np.testing.assert_array_equal(hits["cymbals"].times, expected)


def test_hat_echoes_are_weak_hat_hits_at_a_stroke():
    """A hi-hat hit within 30 ms of a ride stroke and under ECHO_SHARE of its strength is
    the stroke's echo; a strong one (a pedal chick with the stroke) or one away from
    every stroke is kept."""
    strokes_t, strokes_s = np.array([1.0, 2.0, 3.0]), np.array([10.0, 10.0, 10.0])
    hat_t = np.array([1.01, 2.0, 2.5, 3.05])
    hat_s = np.array([0.5 * 10.0, 12.0, 1.0, 1.0])
    echo = ride.hat_echoes(hat_t, hat_s, strokes_t, strokes_s)
    assert echo.tolist() == [True, False, False, False]
    assert ride.hat_echoes(hat_t, hat_s, np.zeros(0), np.zeros(0)).tolist() == [False] * 4
    # the boundary: ECHO_SHARE of the stroke is no echo
    assert not ride.hat_echoes([1.0], [ride.ECHO_SHARE * 10.0], strokes_t, strokes_s)[0]


def test_no_crash_hit_doubles_a_stronger_stroke(loop):
    """The crash parts explain a little of each ride stroke: a cymbals hit within ECHO_S of
    a stronger stroke is dropped (before, on the forced-ride loop, 7 of the 8
    crash hits sat within 30 ms of a stroke, all weaker than it)."""
    mix, sr = loop
    hits = separate_drums(mix, sr, random_state=0, ride="on").hits()
    crash, strokes = hits["cymbals"], hits["cymbals_ride"]
    assert len(strokes.times) >= 10
    for t, strength in zip(crash.times, crash.strengths):
        close = np.abs(strokes.times - t) < ride.ECHO_S
        assert not np.any(strokes.strengths[close] > strength), t
    # the rule itself: a crash weaker than the stroke goes, one as strong or stronger stays
    assert ride.hat_echoes([1.0, 2.0], [1.0, 1.01], [1.0, 2.0], [1.0, 1.0], share=ride.CRASH_SHARE).tolist() == [
        False, False]
    assert ride.hat_echoes([1.0, 2.0], [0.99, 1.01], [1.0, 2.0], [1.0, 1.0], share=ride.CRASH_SHARE).tolist() == [
        True, False]


def test_a_ride_is_picked_down_to_the_hi_hats_threshold():
    """A ride keeps time with dynamics: strokes 20 dB under the loudest are ride notes
    (a crash's -12 dB threshold dropped them), and a louder kick on every accent does not
    make the accents bleed (a ride tests only its weak candidates, as the hi-hat; a
    crash's rule tested them all and took the accents for the kick's bleed)."""
    from nmfaudio.drums import detect_hits

    n, sr, hop = 400, 22050, 512
    frames = np.arange(10, n - 10, 12)
    ride_act, kick = np.full(n, 1e-4), np.full(n, 1e-4)
    ride_act[frames] = np.where(np.arange(frames.size) % 4 == 0, 1.0, 0.1)  # accents, others -20 dB
    kick[frames[::4]] = 3.0
    found = detect_hits({"kick": kick, "cymbals_ride": ride_act}, sr=sr, hop_length=hop)
    np.testing.assert_allclose(found["cymbals_ride"].times, frames * hop / sr, atol=0.5 * hop / sr)


def test_json_onsets_of_the_cymbals_include_the_ride_strokes(tmp_path, capsys):
    """``nmfaudio drums --json``: the cymbals track's ``onsets_s`` hold its crash hits and
    the ride's strokes (``cymbals_ride``), whose count is listed on its own."""
    import json

    from nmfaudio.cli import main

    assert main(["drums", str(ROOT / "data" / "drum_loop.wav"), "-o", str(tmp_path / "stems"), "--json",
                 "--ride", "on"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ride"] is True and summary["ride_found"] is True  # the setting and what it gave
    counts = summary["hit_counts"]
    cymbals = next(s for s in summary["sources"] if s["name"] == "cymbals")
    assert counts["cymbals_ride"] >= 10
    assert len(cymbals["onsets_s"]) == counts["cymbals"] + counts["cymbals_ride"]
    assert cymbals["onsets_s"] == sorted(cymbals["onsets_s"])


def test_without_a_cymbals_output_the_strokes_go_to_the_residual(loop):
    """A ride's strokes are the cymbals': with only kick, snare and hi-hat asked for they
    go to the residual, never into the hi-hat stem — with ``mask_power=1`` the subset's
    residual is the full run's toms + cymbals + residual (to float32 rounding)."""
    mix, sr = loop
    full = separate_drums(mix, sr, random_state=0, ride="on", mask_power=1)
    subset = separate_drums(mix, sr, random_state=0, ride="on", mask_power=1, classes=("kick", "snare", "hihat"))
    assert subset.ride_strokes is not None and "cymbals" not in subset.sources
    for name in ("kick", "snare", "hihat"):
        np.testing.assert_allclose(subset.sources[name], full.sources[name], atol=1e-5 * np.max(np.abs(mix)))
    others = full.sources["toms"] + full.sources["cymbals"] + full.sources["residual"]
    np.testing.assert_allclose(subset.sources["residual"], others, atol=1e-5 * np.max(np.abs(mix)))
    assert np.sum(subset.sources["residual"] ** 2) > 2 * np.sum(full.sources["residual"] ** 2)


def test_block_wise_separation_stitches_both_ride_activations(loop):
    """In blocks (here 3 s) the moved strokes and the hat part's activation at the snare's
    hits are stitched over the whole recording like the activations: the same shape, never
    both at a frame, and what stays at the snare's hits part of the hi-hat's activation."""
    mix, sr = loop
    result = separate_drums(mix, sr, random_state=0, ride="on", block_seconds=3.0)
    moved, kept = result.ride_strokes, result.ride_with_snare
    assert moved is not None and kept is not None
    assert moved.shape == kept.shape == result.activations["hihat"].shape
    assert not np.any((moved > 0) & (kept > 0))
    assert kept.any() and np.all(kept <= result.activations["hihat"] * (1 + 1e-5) + 1e-12)


def test_block_wise_cli_picks_the_ride_strokes_as_in_memory(tmp_path, capsys):
    """``nmfaudio drums --block-seconds 3 --json`` detects the hits from the stems written
    block by block (readers, not arrays): with a ride it picks the strokes as
    ``cymbals_ride`` as the in-memory run does (before, the streamed path took the
    strokes as crash hits: 23 ``cymbals`` and no ``cymbals_ride``).  Each class's count
    within 1 of the in-memory block-wise run's: the tracks are the same float32 samples,
    the mixture is the file there and the stems' sum here (equal to float rounding), so
    at most a hit at a threshold's edge may differ (measured: all equal)."""
    import json

    from nmfaudio.cli import main

    path = ROOT / "data" / "drum_loop.wav"
    in_memory = separate_drums(path, random_state=0, ride="on", block_seconds=3.0).hits()
    assert main(["drums", str(path), "-o", str(tmp_path / "stems"), "--json", "--seed", "0",
                 "--block-seconds", "3", "--ride", "on"]) == 0
    counts = json.loads(capsys.readouterr().out)["hit_counts"]
    expected = {c.name: len(c) for c in in_memory}
    assert set(counts) == set(expected) and expected["cymbals_ride"] >= 10
    assert all(abs(counts[name] - n) <= 1 for name, n in expected.items()), (counts, expected)


def test_no_ride_is_judged_when_the_band_reaches_past_nyquist(monkeypatch):
    """The cue was measured over all of RIDE_BAND_HZ: below 20 kHz part of it is above the
    Nyquist frequency and nothing moves (at 8 kHz, with the times in seconds, the loop's
    hats passed for a ride: tests/test_hits.py's 8-kHz loop kept 14 of its 30 hat hits)."""
    monkeypatch.setattr(ride, "is_ride_pattern", lambda *a, **k: True)
    magnitude = np.ones((N_FFT // 2 + 1, 1, N_FRAMES))
    hat, snare = _activation(_strokes()), _activation(_strokes()[1::2])
    assert ride.stroke_weights(magnitude, hat, snare, sr=22050, n_fft=N_FFT, hop_length=HOP).any()
    assert ride.stroke_weights(magnitude, hat, snare, sr=20000, n_fft=N_FFT, hop_length=HOP).any()
    for sr in (16000, 8000):
        assert not ride.stroke_weights(magnitude, hat, snare, sr=sr, n_fft=N_FFT, hop_length=HOP).any()


def test_ride_auto_judges_and_changes_nothing_on_the_hihat_loop(loop, monkeypatch):
    """``ride="auto"`` (the default) asks the decision, which finds no ride in the loop:
    stems and hits bit-identical to ``ride="off"``, which asks nothing."""
    mix, sr = loop
    calls = []
    decide = ride.is_ride_pattern
    monkeypatch.setattr(ride, "is_ride_pattern", lambda *a, **k: calls.append(1) or decide(*a, **k))
    auto = separate_drums(mix, sr, random_state=0, ride="auto")
    assert len(calls) == 2  # the closed hat part, then the ride part
    off = separate_drums(mix, sr, random_state=0, ride="off")
    assert len(calls) == 2 and auto.ride_strokes is None and off.ride_strokes is None
    assert all(np.array_equal(auto.sources[k], off.sources[k]) for k in off.sources)
    a, o = auto.hits(), off.hits()
    assert [c.name for c in a] == [c.name for c in o]
    assert all(np.array_equal(a[c.name].times, o[c.name].times) for c in o)


@pytest.mark.parametrize("block_seconds", [None, 3.0])
def test_ride_off_looks_for_no_ride_even_where_one_would_be_found(loop, monkeypatch, block_seconds):
    """With every decision saying "ride" (the misfire on a hi-hat groove), ``ride="off"``
    moves nothing, in memory and block-wise: no ``cymbals_ride`` hits and the hi-hat stem
    equal to the unpatched run's (no ride there), while "auto" moves the strokes."""
    mix, sr = loop
    plain = separate_drums(mix, sr, random_state=0, block_seconds=block_seconds)
    monkeypatch.setattr(ride, "is_ride_pattern", lambda *a, **k: True)
    assert separate_drums(mix, sr, random_state=0, block_seconds=block_seconds).ride_strokes is not None
    off = separate_drums(mix, sr, random_state=0, block_seconds=block_seconds, ride="off")
    assert off.ride_strokes is None and off.ride_with_snare is None
    assert "cymbals_ride" not in [c.name for c in off.hits()]
    np.testing.assert_array_equal(off.sources["hihat"], plain.sources["hihat"])


def test_ride_on_moves_the_strokes_without_asking_the_decision(loop, monkeypatch):
    """``ride="on"`` routes the closed hat part's strokes of the (hi-hat) loop to the
    cymbals without calling the decision; the snare guard is kept (the hat keeps its
    activation at the snare's hits)."""
    mix, sr = loop

    def never(*a, **k):
        raise AssertionError("ride='on' asked the decision")

    monkeypatch.setattr(ride, "is_ride_pattern", never)
    result = separate_drums(mix, sr, random_state=0, ride="on")
    assert result.ride_strokes is not None and result.ride_with_snare.any()
    assert len(result.hits()["cymbals_ride"].times) >= 10


def test_ride_on_routes_in_a_song_and_auto_does_not(loop):
    """In song mode (the accompaniment model) "auto" takes the loop's hats for no ride (the
    song gate, SONG_STEADY_SHARE); "on" routes the strokes there too (docs/drums.md)."""
    mix, sr = loop
    assert separate_drums(mix, sr, random_state=0, accompaniment=True).ride_strokes is None
    song = separate_drums(mix, sr, random_state=0, accompaniment=True, ride="on")
    assert song.accompaniment and song.ride_strokes is not None
    assert np.max(np.abs(sum(song.sources.values()) - mix)) <= 1e-5 * np.max(np.abs(mix))


def test_a_song_takes_the_strict_gate_alone_at_its_own_share(monkeypatch):
    """In a song (``song=True``) a ride needs SONG_STEADY_SHARE of the gaps steady, and
    neither the loose gate nor the third cue is asked (the music's held notes pass them):
    a share between STEADY_SHARE and it is a ride in a drum recording, not in a song; the
    re-firing ride the third cue finds in a recording is not moved in a song."""
    assert ride.STEADY_SHARE < 0.45 < ride.SONG_STEADY_SHARE
    magnitude = np.zeros((N_FFT // 2 + 1, 1, N_FRAMES))
    freqs = np.arange(N_FFT // 2 + 1) * SR / N_FFT
    band = np.flatnonzero((freqs >= ride.RIDE_BAND_HZ[0]) & (freqs < ride.RIDE_BAND_HZ[1]))
    magnitude[band, 0] = ride_band()[:band.size]
    snare = np.zeros(N_FRAMES)
    kw = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    model = (np.ones((N_FFT // 2 + 1, 2, 1)), np.ones((2, N_FRAMES)), 1)
    # the third cue: the re-firing ride (no gap counts) is a ride's in a recording only
    hat = _refiring(_strokes())
    assert ride.stroke_weights(magnitude, hat, snare, model=model, **kw).all()
    assert not ride.stroke_weights(magnitude, hat, snare, model=model, song=True, **kw).any()
    # every gap steady: a ride in both
    hat = _activation(_strokes())
    assert ride.stroke_weights(magnitude, hat, snare, model=model, song=True, **kw).all()
    # 0.45 of the gaps steady (the gaps' cue stood in for): a recording's ride, not a song's
    ends = np.arange(ride.MIN_GAPS) + 10
    monkeypatch.setattr(ride, "_gap_cue", lambda *a: (0.45, 2.0, ends))
    assert ride.stroke_weights(magnitude, hat, snare, **kw).all()
    assert not ride.stroke_weights(magnitude, hat, snare, model=model, song=True, **kw).any()


def _ringing_ride(kick_snare_seconds=4.0, seed=0):
    """A ride on every eighth (120 BPM): a noise attack above 7 kHz (the synthetic hats)
    and a ring of 80 fixed partials between 3 and 10 kHz that each stroke strikes again
    (decay 1 s), float32 at SR."""
    from test_drums import synthetic_hits

    attack = synthetic_hits(seconds=kick_snare_seconds)[2]
    rng = np.random.default_rng(seed)
    n = attack.size
    t = np.arange(n) / SR
    partials = np.zeros(n)
    for f, a, phase in zip(rng.uniform(3000, 10000, 80), rng.lognormal(0, 0.5, 80), rng.uniform(0, 2 * np.pi, 80)):
        partials += a * np.sin(2 * np.pi * f * t + phase)
    envelope = np.exp(-(t % 0.25))  # struck again every 0.25 s
    return (attack + 0.01 * partials * envelope).astype(np.float32)


def _ride_song(seconds=4.0):
    """A synthetic song: kick, snare, bass and chords with a ringing ride
    (:func:`_ringing_ride`), and the same with closed hats instead; float32 at SR."""
    from test_drums import synthetic_hits
    from test_drums_full_song import tonal_parts

    kick, snare, hats = synthetic_hits(seconds=seconds)
    bass, chords = tonal_parts(seconds=seconds)
    played = _ringing_ride(seconds)
    return ((kick + snare + played + bass + chords).astype(np.float32),
            (kick + snare + hats + bass + chords).astype(np.float32))


def test_auto_finds_a_ride_in_a_song_and_moves_its_strokes():
    """A synthetic song (kick, snare, a ringing ride, bass and chords): "auto" decides a
    ride and routes the closed hat part's strokes to the cymbals, as "on" does; the stems
    still add up to the mixture.  The same song with closed hats instead: no ride."""
    mix, hat_song = _ride_song()
    auto = separate_drums(mix, SR, random_state=0, accompaniment=True)
    off = separate_drums(mix, SR, random_state=0, accompaniment=True, ride=False)
    assert auto.accompaniment and auto.ride_strokes is not None and auto.ride_with_snare is not None
    on = separate_drums(mix, SR, random_state=0, accompaniment=True, ride=True)
    np.testing.assert_array_equal(auto.sources["cymbals"], on.sources["cymbals"])
    assert np.max(np.abs(sum(auto.sources.values()) - mix)) <= 1e-5 * np.max(np.abs(mix))

    def energy(x):
        return float(np.sum(x.astype(np.float64) ** 2))

    # measured: the hi-hat stem 0.33 -> 0.065 of the ride's energy, the cymbals 0.144 -> 0.546; 16 strokes picked
    assert energy(auto.sources["hihat"]) <= 0.5 * energy(off.sources["hihat"])
    assert energy(auto.sources["cymbals"]) >= 2 * energy(off.sources["cymbals"])
    assert len(auto.hits()["cymbals_ride"].times) >= 8  # 16 strokes, some with the snare
    assert separate_drums(hat_song, SR, random_state=0, accompaniment=True).ride_strokes is None


def test_separate_drums_judges_a_song_by_the_song_gate_alone(monkeypatch):
    """The song mode reaches the song gate: with SONG_STEADY_SHARE out of reach the ride
    song's strokes stay (a drum recording's gates would take them: the same mixture
    judged as a recording is a ride), and the ride part's own hits are not judged in a
    song ("on" still takes them)."""
    from nmfaudio.drums import separation

    mix, _ = _ride_song()
    monkeypatch.setattr(ride, "SONG_STEADY_SHARE", 1.01)  # no share of gaps reaches it
    assert separate_drums(mix, SR, random_state=0, accompaniment=True).ride_strokes is None
    assert separate_drums(mix, SR, random_state=0, accompaniment=False).ride_strokes is not None
    judged = []

    def spy(*args, forced=False, **kwargs):
        judged.append(forced)
        return None

    monkeypatch.setattr(separation, "ride_part_strokes", spy)
    no_hats = ("kick", "snare", "cymbals")  # no closed hat strokes to move: the ride part's turn
    separate_drums(mix, SR, random_state=0, accompaniment=True, classes=no_hats)
    assert judged == []
    separate_drums(mix, SR, random_state=0, accompaniment=True, classes=no_hats, ride=True)
    assert judged == [True]


@pytest.mark.parametrize("value", ["maybe", 1, None])
def test_an_unknown_ride_value_is_refused_in_one_line(value):
    with pytest.raises(ValueError) as error:
        separate_drums(np.zeros(22050, np.float32), 22050, ride=value)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"ride={value!r} must be 'auto', True or False")


def test_cli_ride_off_round_trip_and_summary(tmp_path, capsys):
    """``--ride off`` reaches the separation and the JSON record (setting False, no ride
    found); the text summary names the ride only when one was found or forced."""
    import json

    from nmfaudio.cli import main

    path = str(ROOT / "data" / "drum_loop.wav")
    assert main(["drums", path, "-o", str(tmp_path / "off"), "--json", "--ride", "off"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["ride"] is False and record["ride_found"] is False and "cymbals_ride" not in record["hit_counts"]
    assert main(["drums", path, "-o", str(tmp_path / "auto")]) == 0
    assert "ride strokes" not in capsys.readouterr().out
    assert main(["drums", path, "-o", str(tmp_path / "on"), "--ride", "on"]) == 0
    assert "ride strokes taken from the hi-hat to the cymbals (--ride on)" in capsys.readouterr().out
    assert main(["drums", path, "-o", str(tmp_path / "bad"), "--ride", "maybe"]) == 2  # argparse's usage error
    assert "--ride: invalid choice: 'maybe'" in capsys.readouterr().err


def test_streamed_block_wise_cli_honours_ride_off(tmp_path, monkeypatch, capsys):
    """``--block-seconds`` (stems streamed to disk, hits read back): with every decision
    saying "ride", auto finds one and ``--ride off`` none (no ``cymbals_ride`` hits)."""
    import json

    from nmfaudio.cli import main

    path = str(ROOT / "data" / "drum_loop.wav")
    monkeypatch.setattr(ride, "is_ride_pattern", lambda *a, **k: True)
    found = {}
    for setting in ("auto", "off"):
        assert main(["drums", path, "-o", str(tmp_path / setting), "--json", "--seed", "0",
                     "--block-seconds", "3", "--ride", setting]) == 0
        found[setting] = json.loads(capsys.readouterr().out)
    assert found["auto"]["ride_found"] and found["auto"]["hit_counts"]["cymbals_ride"] >= 10
    assert not found["off"]["ride_found"] and "cymbals_ride" not in found["off"]["hit_counts"]
    assert found["off"]["blockwise"] is not None


def test_ride_on_without_the_hi_hat_asked_for_picks_the_ride_part(loop, monkeypatch):
    """With the hi-hat not asked for (or no closed hat part in the templates) nothing can
    move; "auto" then judges the ride part, so "on" must not do less: it takes the ride
    part's hits for the ride's without asking.  Nothing moves — the stems are the ones of
    "off" — and ``hits()`` has ``cymbals_ride`` (before: "on" found no ride where "auto",
    with the decision saying "ride", did)."""
    mix, sr = loop
    classes = ("kick", "snare", "cymbals")

    def never(*a, **k):
        raise AssertionError("ride='on' asked the decision")

    monkeypatch.setattr(ride, "is_ride_pattern", never)
    on = separate_drums(mix, sr, random_state=0, classes=classes, ride="on")
    off = separate_drums(mix, sr, random_state=0, classes=classes, ride="off")
    assert on.ride_strokes is not None and on.ride_with_snare is None and off.ride_strokes is None
    for name in off.sources:
        np.testing.assert_array_equal(on.sources[name], off.sources[name])
    assert "cymbals_ride" in [c.name for c in on.hits()]


def test_cli_ride_on_summary_says_where_the_strokes_went(tmp_path, capsys):
    """The summary and the record say what ``--ride on`` did with the classes asked for:
    without a cymbals stem the strokes go to the residual (before, the summary said "to
    the cymbals"), without a hi-hat class the ride part's hits are picked apart (nothing
    moved), and with neither, that nothing was taken."""
    import json

    from nmfaudio.cli import main

    path = str(ROOT / "data" / "drum_loop.wav")
    said = {}
    for classes in ("kick,snare,hihat", "kick,snare,cymbals", "kick,snare"):
        assert main(["drums", path, "-o", str(tmp_path / classes), "--ride", "on", "--classes", classes]) == 0
        said[classes] = capsys.readouterr().out
        assert main(["drums", path, "-o", str(tmp_path / classes), "--ride", "on", "--classes", classes,
                     "--json", "--force"]) == 0
        record = json.loads(capsys.readouterr().out)
        assert record["ride_moved"] is (classes == "kick,snare,hihat")
        assert record["ride_found"] is (classes != "kick,snare")
    assert "ride strokes taken from the hi-hat to the residual (no cymbals stem; --ride on)" in said["kick,snare,hihat"]
    assert "to the cymbals" not in said["kick,snare,hihat"]
    assert "ride strokes picked apart in the cymbals' ride part (--ride on)" in said["kick,snare,cymbals"]
    assert "--ride on: no ride strokes taken" in said["kick,snare"]


def test_cli_ride_on_with_hats_judged_absent_says_why_nothing_was_taken():
    """``--ride on`` in a song whose hat parts were judged to hold no hats (and no cymbals
    stem): the summary names that decision and the switch that keeps the hats, not the
    hi-hat class the user did ask for."""
    from nmfaudio.cli.drums import _ride_lines

    record = {"ride": True, "ride_moved": False, "ride_found": False, "classes": ["kick", "snare", "hihat"],
              "absent": ("hihat",)}
    (line,) = _ride_lines(record)
    assert "judged to hold no hats" in line and "--presence-test off" in line
    assert "need a closed hi-hat part" not in line
    (line,) = _ride_lines(dict(record, absent=()))
    assert "need a closed hi-hat part and the hihat class" in line


def sixteenth_hats_band(seed=0, accents=4):
    """A 16th-note hat groove of one hat sample: the same fine spectrum at every 16th (every
    GAP // 2 frames), gone within three frames (−35 dB two frames on), over fresh noise;
    the returned activation holds only ``accents`` of its accented hits — the fit spread
    the rest over the open-hat and ride parts: ((650, N_FRAMES), (N_FRAMES,))."""
    rng = np.random.default_rng(seed)
    spectrum = rng.lognormal(0, 1, BINS)
    magnitude = 1e-3 * rng.random((BINS, N_FRAMES))
    sixteenths = np.arange(3, N_FRAMES - 4, GAP // 2)
    for s in sixteenths:
        for k in range(4):
            magnitude[:, s + k] += spectrum * np.exp(-2.0 * k)
    return magnitude, _activation(sixteenths[::4][:accents])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_sixteenth_hat_groove_steady_on_a_few_gaps_is_no_ride_without_a_ring(seed, monkeypatch):
    """The ridedec round: the gaps between a 16th groove's few accents the closed hat part
    holds end on the previous 16th's tail — the same sample at the same level, steady — so
    the strict gate passes on a few gaps (4-6 in the tuning grooves taken for rides).  With
    no ring in the model (second cue 0) and none in the hits (third cue under 0.1) that
    thin evidence is no ride (FEW_GAPS); FEW_GAPS = 0 (the switch) takes it, as before."""
    band, hat = sixteenth_hats_band(seed, accents=7)
    share, median, ends = ride._gap_cue(band, hat, *GRID)
    assert ends.size == 6 <= ride.FEW_GAPS and share >= ride.STEADY_SHARE and median < ride.MEDIAN_DB
    third = ride.hit_ring_share(band, hat, *GRID)
    assert third is not None and third <= 0.1

    def judged():
        return ride.is_ride_pattern(band, hat, *GRID, ring=lambda frames: 0.0, refire=True,
                                    hit_ring=lambda: ride.hit_ring_share(band, hat, *GRID))

    assert not judged()
    # without the check (the ride part's call, a song's, a kit with no ride part) it decides
    assert ride.is_ride_pattern(band, hat, *GRID, ring=lambda frames: 0.0, refire=True)
    monkeypatch.setattr(ride, "FEW_GAPS", 0)
    assert judged()


def test_a_strict_pass_on_a_few_gaps_needs_the_second_or_third_cue(monkeypatch):
    """Exact, the cues given: on FEW_GAPS gaps or fewer the strict pass needs the ride
    part's ring (RING_SHARE) or the hits' (HIT_RING_SHARE); on more it needs neither, and
    the ride part's own gate (which needs RING_SHARE anyway) and the strict-only call are
    unchanged."""
    hat_need = (None, ride.HAT_RING_SHARE)
    few, many = (0.5, 2.0, np.arange(ride.FEW_GAPS)), (0.5, 2.0, np.arange(ride.FEW_GAPS + 1))

    def gates(cue, ring_value, hit_value, need=hat_need):
        return ride._gates(cue, lambda frames: ring_value, need, ride.HAT_LOOSE_DB, ride.STEADY_SHARE,
                           ride.HAT_LOOSE_STEADY, lambda: hit_value)

    assert not gates(few, 0.08, 0.05)  # the tuning grooves' largest: no ride
    assert not gates(few, 0.0, None)  # too few hits measured: no third cue
    assert gates(few, ride.RING_SHARE, 0.0)
    assert gates(few, 0.0, ride.HIT_RING_SHARE)
    assert gates(many, 0.0, 0.0)
    assert gates(few, 0.2, 0.0, need=(ride.RING_SHARE, ride.RING_SHARE))
    assert ride._gates(few, None, hat_need, ride.HAT_LOOSE_DB, ride.STEADY_SHARE, ride.HAT_LOOSE_STEADY,
                       lambda: 0.0)  # no model: the strict gate alone
    monkeypatch.setattr(ride, "FEW_GAPS", 0)
    assert gates(few, 0.0, 0.0)


def test_the_few_gaps_check_takes_the_ride_parts_ringing_hits_too(monkeypatch):
    """A kit whose strokes the ride part took (Millo-Drums) leaves the closed hat part a
    hit a second: a strict pass on a few gaps, the hat part's hits not ringing, but the
    ride part's do (0.46 on the tuning ride groove; the 16th grooves 0.00-0.11) — a ride.
    The third cue itself (where no gate passes) still reads the judged part alone."""
    band, hat = sixteenth_hats_band(0, accents=7)
    magnitude = np.zeros((N_FFT // 2 + 1, 1, N_FRAMES))
    lo = int(np.ceil(ride.RIDE_BAND_HZ[0] / (SR / N_FFT)))
    magnitude[lo:lo + BINS, 0] = band
    ride_row = np.full(N_FRAMES, 0.5)
    H = np.zeros((2, N_FRAMES))
    H[1] = ride_row
    model = (np.zeros((N_FFT // 2 + 1, 2, 1)), H, 1)  # the ride part explains none of the band
    for ride_share, decided in ((0.46, True), (0.11, False)):
        monkeypatch.setattr(ride, "hit_ring_share",
                            lambda b, part, *grid, s=ride_share: s if part is ride_row or np.array_equal(part, ride_row)
                            else 0.0)
        assert ride._rings(magnitude, hat, sr=SR, n_fft=N_FFT, hop_length=HOP, model=model,
                           hit_ring=True) is decided


def test_a_pass_needs_the_ride_and_hat_parts_to_hold_the_band_at_the_gaps_ends():
    """HELD_SHARE: with ``held`` given, a strict or loose pass also needs the ride and hat
    parts' share of the band at the counted gaps' ends (quiet hats under a crash's wash
    read 0.15-0.35, the tuning rides 0.46-0.93); a gate that fails still fails, and
    without ``held`` the gates decide as before.  Exact: the cues are given."""
    hat_need = (None, ride.HAT_RING_SHARE)
    strict = (0.45, 3.38, np.arange(11))  # FluidR3 Standard's quiet-hat rock8 groove's cue
    gates = lambda cue, held: ride._gates(cue, lambda frames: 0.09, hat_need, ride.HAT_LOOSE_DB,  # noqa: E731
                                          ride.STEADY_SHARE, ride.HAT_LOOSE_STEADY, None, held)
    assert ride.HELD_SHARE == 0.4
    assert gates(strict, None)
    assert not gates(strict, lambda frames: 0.18)
    assert gates(strict, lambda frames: 0.46)
    seen = []
    assert gates(strict, lambda frames: seen.append(frames) or 0.5) and np.array_equal(seen[0], strict[2])
    assert not gates((0.1, 6.0, np.arange(11)), lambda frames: 1.0)  # no pass: nothing to hold
    # the loose gate too (two steady gaps of eight, the ride part's share over HAT_RING_SHARE)
    loose = ride._gates((0.25, 3.42, np.arange(8)), lambda frames: 0.34, hat_need, ride.HAT_LOOSE_DB,
                        ride.STEADY_SHARE, ride.HAT_LOOSE_STEADY, None, lambda frames: 0.2)
    assert not loose


def test_ring_share_of_several_parts_is_their_summed_share():
    """``ring_share`` with a sequence of parts: the median of their summed energy share, which
    for frames where the parts hold fixed shares is the sum of those shares (to 1e-9)."""
    rng = np.random.default_rng(0)
    F, K, T, N = 12, 4, 3, 40
    P = rng.random((F, K, T))
    H = np.zeros((K, N))
    frames = np.array([10, 20, 30])
    H[:, frames - 1] = rng.random((K, 1)) + 0.1  # each part struck one frame before each end
    rows = slice(2, 10)
    one = [ride.ring_share(P, H, k, frames, rows) for k in range(K)]
    assert abs(sum(one) - 1) < 1e-9
    assert abs(ride.ring_share(P, H, [0, 2], frames, rows) - (one[0] + one[2])) < 1e-9
    assert abs(ride.ring_share(P, H, [1], frames, rows) - one[1]) < 1e-9


def test_split_strokes_keeps_in_the_cymbals_only_what_the_cymbal_parts_hold(rng):
    """The moved hat part (index 4) holds the strokes in bins 0-9 and a shaker in bins
    10-19, where the kit's cymbal part (index 3) is silent: per bin the kept share is the
    cymbal parts' model over the moved part's, at most 1 — bins 0-9 stay whole in the
    cymbals, bins 10-19 go whole to the residual (a new part after the others, the same
    activation); the model Σ P H is unchanged (to float rounding).  No cymbal part, or
    STROKE_SPLIT 0: the inputs themselves."""
    labels = ["kick", "snare", "hihat", "cymbals:ride"]
    P = rng.random((20, 5, 3))
    P[10:, 3] = 0  # the cymbal part: nothing in the shaker's bins
    P[:10, 3] *= 10  # ... and louder than the strokes in its own
    H = rng.random((5, 2, 50))
    route = np.array([0, 1, 3, 4, 4])
    P2, H2, route2 = ride.split_strokes(P, H, route, labels, [4], 5)
    assert route2.tolist() == [0, 1, 3, 4, 4, 5]
    np.testing.assert_array_equal(P2[:10, 4], P[:10, 4])  # kept share 1 (the ratio is capped)
    np.testing.assert_array_equal(P2[10:, 4], 0)
    np.testing.assert_array_equal(P2[10:, 5], P[10:, 4])
    np.testing.assert_array_equal(P2[:10, 5], 0)
    np.testing.assert_array_equal(H2[5], H[4])
    np.testing.assert_allclose(np.einsum("fkt,kcn->fcn", P2, H2), np.einsum("fkt,kcn->fcn", P, H), rtol=1e-12)
    # a bin the moved part holds twice as loud as the cymbal parts: half of it stays (±1e-6)
    P[0, 3] = 0.5 * P[0, 4] * H[4].sum() / H[3].sum()
    assert abs(ride.split_strokes(P, H, route, labels, [4], 5)[0][0, 4, 0] / P[0, 4, 0] - 0.5) < 1e-6
    for other_labels in (["kick", "snare", "hihat", "toms"],):
        out = ride.split_strokes(P, H, route, other_labels, [4], 5)
        assert out[0] is P and out[1] is H and out[2] is route


def test_split_strokes_bins_the_moved_parts_leave_empty_raise_no_warning(rng):
    """Bins where the moved part's template is 0 but a cymbal part's is not (a ride's
    ring above a hat template's band): no overflow warning, no NaN, the bins stay 0
    in both the kept and the moved-on parts, and the other bins read as before."""
    import warnings
    labels = ["kick", "snare", "hihat", "cymbals:ride"]
    P = rng.random((20, 5, 3))
    P[15:, 4] = 0  # the moved part: nothing in the top bins, the cymbal part rings there
    H = rng.random((5, 2, 50))
    route = np.array([0, 1, 3, 4, 4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        P2, H2, route2 = ride.split_strokes(P, H, route, labels, [4], 5)
    assert np.isfinite(P2).all()
    np.testing.assert_array_equal(P2[15:, 4:], 0)
    held = np.einsum("fkt,k->f", P[:15, [4]], H[[4]].sum(axis=(1, 2)))
    cym = np.einsum("fkt,k->f", P[:15, [3]], H[[3]].sum(axis=(1, 2)))
    np.testing.assert_allclose(P2[:15, 4], P[:15, 4] * np.clip(cym / held, 0, 1)[:, None], rtol=1e-6)


def test_split_strokes_off_and_no_moved_part_change_nothing(rng, monkeypatch):
    """STROKE_SPLIT 0 or nothing moved: the inputs themselves."""
    labels = ["kick", "snare", "hihat", "cymbals:ride"]
    P, H, route = rng.random((20, 5, 3)), rng.random((5, 1, 30)), np.array([0, 1, 3, 4, 4])
    out = ride.split_strokes(P, H, route, labels, [], 5)
    assert out[0] is P and out[1] is H and out[2] is route
    monkeypatch.setattr(ride, "STROKE_SPLIT", 0.0)
    out = ride.split_strokes(P, H, route, labels, [4], 5)
    assert out[0] is P and out[1] is H and out[2] is route


def test_a_decided_rides_hats_the_cymbal_parts_do_not_hold_leave_the_cymbals_for_the_residual(loop, monkeypatch):
    """The loop's hats taken for a ride by the decision (ride="auto", the decision's weights
    patched to every frame): with RIDE_STROKE_SPLIT the cymbals stem keeps only the moved
    model the kit's cymbal parts hold as much of — the loop's hats are no cymbal's, so most
    of their energy leaves it (measured: 0.016 × the energy without the split) — and what it
    loses the residual gains: with mask power 1 the kick, snare, toms and hi-hat stems and
    the cymbals + residual sum are those without the split (1e-4 of the peak), and so are
    the activations and the strokes; ride="on" (the user's word) moves everything as before."""
    from nmfaudio.drums import separation

    mix, sr = loop
    monkeypatch.setattr(ride, "stroke_weights", lambda magnitude, hat, *a, **k: np.ones(hat.shape[0], np.float32))
    split = separate_drums(mix, sr, random_state=0, mask_power=1)
    monkeypatch.setattr(separation, "RIDE_STROKE_SPLIT", False)
    whole = separate_drums(mix, sr, random_state=0, mask_power=1)
    assert split.ride_strokes is not None
    peak = float(np.max(np.abs(mix)))
    for stem in ("kick", "snare", "toms", "hihat"):
        np.testing.assert_allclose(split.sources[stem], whole.sources[stem], atol=1e-4 * peak)
    np.testing.assert_allclose(split.sources["cymbals"] + split.sources["residual"],
                               whole.sources["cymbals"] + whole.sources["residual"], atol=1e-4 * peak)
    energy = {name: float(np.sum(r.sources["cymbals"] ** 2)) for name, r in (("split", split), ("whole", whole))}
    assert energy["split"] < 0.1 * energy["whole"]
    for cls in split.activations:
        np.testing.assert_array_equal(split.activations[cls], whole.activations[cls])
    np.testing.assert_array_equal(split.ride_strokes, whole.ride_strokes)
    monkeypatch.setattr(separation, "RIDE_STROKE_SPLIT", True)
    forced = separate_drums(mix, sr, random_state=0, mask_power=1, ride="on")
    np.testing.assert_array_equal(forced.sources["cymbals"], whole.sources["cymbals"])


def test_block_wise_summary_names_the_stretches_whose_blocks_found_the_ride():
    """Block-wise, a ride found in some blocks only is said with its stretches
    (``ride_in``): on a 10-minute concatenation of performances the ride was found in
    0-90 s and, wrongly, in 270-300 s, and before blockprobe67 the summary read as if the
    whole file's time were kept on a ride."""
    from nmfaudio.cli.drums import _ride_lines

    record = {"ride": "auto", "ride_found": True, "ride_moved": True, "classes": ["hihat", "cymbals"],
              "ride_in": [[0.0, 90.0], [270.0, 300.0]]}
    (line,) = _ride_lines(record)
    assert "to the cymbals in 0.0-90.0 and 270.0-300.0 s only (found from the signal, block by block;" in line
    (line,) = _ride_lines({**record, "ride_moved": False})
    assert "ride part in 0.0-90.0 and 270.0-300.0 s only (" in line
    (line,) = _ride_lines({**record, "ride_in": None})  # every block found it (or in memory): as before
    assert line == "  ride strokes taken from the hi-hat to the cymbals (found from the signal; --ride off if they are hi-hats)"


def _one_ring_band(steady_gaps, strokes, seed=0):
    """Fresh noise at every frame (no ring held), except that the RING_S before the ends of
    the first ``steady_gaps`` gaps after the first hold one fixed spectrum at the same
    level: those gaps are steady, the rest not (level change ~0 dB everywhere)."""
    rng = np.random.default_rng(seed)
    band = 0.5 + rng.random((BINS, N_FRAMES))
    spectrum = rng.lognormal(0, 1, BINS)
    spectrum *= np.sqrt((band[:, 0] ** 2).sum() / (spectrum ** 2).sum())
    for s in strokes[1:steady_gaps + 2]:  # the ends of gaps 0 .. steady_gaps, the first one unsteady
        band[:, s - 2:s] = spectrum[:, None]
    return band


def test_the_ride_parts_loose_gate_needs_two_steady_gaps():
    """The ride part's loose gate (LOOSE_SHARE 0.25) passed on one steady gap of four
    counted: under bus compression one such gap took 4 of 244 tuning grooves without a
    ride (kick/snare/hi-hat-only ones among them) for rides, 2 under ``mixbus`` "bus" and
    2 under "record" (docs/log/transcription-decisions.md, ridebus round).  One steady gap is no ring held from stroke to stroke: the part needs
    ``RIDE_LOOSE_STEADY`` (2) of them, as the hat part's loose gate does.  Main took it."""
    strokes = np.arange(100, 100 + 5 * GAP, GAP)  # 4 gaps, past the crash part's hit
    P, H, labels = _parts(_activation(strokes))
    grid = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    lo, hi = (int(np.ceil(edge * N_FFT / SR)) for edge in ride.RIDE_BAND_HZ)
    for steady, found in ((1, False), (2, True)):
        band = _one_ring_band(steady, strokes)
        share, median, ends = ride._gap_cue(band, H[4, 0], *GRID)
        assert ends.size == 4 and share == pytest.approx(steady / 4) and median < ride.LOOSE_DB
        assert ride.ring_share(P, H.sum(axis=1), 4, ends, slice(lo, hi)) >= ride.RING_SHARE
        strokes_found = ride.ride_part_strokes(P, H, labels, _full_band(band), **grid)
        assert (strokes_found is not None) == found


def _compressed_hats_band(end_db, seed=0):
    """Closed hats struck every GAP frames (a fresh spectrum per hit, two frames), and the
    two frames before each hit holding one fixed spectrum ``end_db`` dB under the hits:
    gap ends as even as a bus compressor leaves a hat groove's, over a floor 80 dB down:
    (650, N_FRAMES)."""
    rng = np.random.default_rng(seed)
    band = 1e-5 * rng.random((BINS, N_FRAMES))
    held = rng.lognormal(0, 1, BINS)
    held *= 10 ** (end_db / 20) / np.sqrt((held ** 2).sum())
    for s in _strokes():
        hit = rng.lognormal(0, 1, BINS)
        band[:, s:s + 2] += (hit / np.sqrt((hit ** 2).sum()))[:, None]  # every hit of one energy
        band[:, s - 2:s] += held[:, None]
    return band


def test_the_hat_parts_gates_need_the_gaps_ends_near_the_hits():
    """Bus compression evens the band at a hat groove's gap ends from one gap to the next,
    and the gates' gap-to-gap test (STEADY_DB) passed there.  Measured against its own
    hit, a ride's gap end had fallen 2.7-16.4 dB where the gates passed, some hat grooves'
    24-41 dB (docs/log/transcription-decisions.md, ridebus round): the gates' pass needs the
    median within GAP_END_DB (-20 dB).  Gap ends 30 dB under the hits: no ride (main took
    it); 10 dB under: a ride."""
    grid = dict(sr=SR, n_fft=N_FFT, hop_length=HOP)
    P, H, labels = _parts(np.full(N_FRAMES, 1e-4))
    H[2, 0] = _activation(_strokes())
    P[:, 2] = 1.0  # the closed hat part holds the band's model (HELD_SHARE)
    route = np.arange(5)
    lo, hi = (int(np.ceil(edge * N_FFT / SR)) for edge in ride.RIDE_BAND_HZ)
    for end_db, moved in ((-30.0, False), (-10.0, True)):
        band = _compressed_hats_band(end_db)
        share, median, ends = ride._gap_cue(band, H[2, 0], *GRID)
        assert share > 0.9 and median < 0.5 and ends.size > ride.FEW_GAPS  # the strict gate passes
        level = ride.hat_ring_level(band, H[2, 0], GRID[0])[0]
        assert abs(level - end_db) < 1.0
        result = ride.move_strokes(P, H, route, labels, _full_band(band), target=4, **grid)
        assert (result[3] is not None) == moved


def _sections_hat(frame_rate, seconds=48.0):
    """A closed hat part's activation over hat verse / ride chorus / hat verse (16 s each):
    1 in the chorus, 0.1 in the verses; and the chorus' frames."""
    n = int(seconds * frame_rate)
    chorus = np.zeros(n, bool)
    chorus[n // 3:2 * n // 3] = True
    return np.where(chorus, 1.0, 0.1), chorus


def test_a_long_recording_is_judged_in_windows_so_a_ride_chorus_leaves_the_verses_hats(monkeypatch):
    """A hat verse, a ride chorus and a hat verse in one recording: judged once (main
    before 2026-12-07) the whole recording was a ride, and every verse hat went to the
    cymbals (verses' hi-hat onset F 0.02-0.22 on four tuning kits).  Judged in windows of
    RIDE_WINDOW_S, the strokes move in the whole chorus and at most half a window past its
    edges (the windows across an edge, here judged a ride when they hold 2 s of it: 3 s
    past it, measured 2.8 s), never further into the verses; a short recording is judged
    once, as before."""
    frame_rate = SR / HOP
    hat, chorus = _sections_hat(frame_rate)
    calls = []

    def judged(magnitude, hat_activation, snare, *, forced=False, **kwargs):  # a ride where 2 s of it play
        calls.append(hat_activation.size)
        ride_like = forced or np.sum(hat_activation > 0.5) >= 2 * frame_rate
        return np.full(hat_activation.size, float(ride_like), np.float32)

    monkeypatch.setattr(ride, "stroke_weights", judged)
    labels = ["kick", "snare", "hihat", "cymbals:ride"]
    n = hat.size
    P = np.ones((8, 4, 2))
    H = np.full((4, 1, n), 0.5)
    H[2, 0] = hat
    magnitude = np.ones((8, 1, n))
    _, _, _, strokes, _ = ride.move_strokes(P, H, np.arange(4), labels, magnitude, sr=SR, n_fft=N_FFT,
                                            hop_length=HOP, target=3)
    moved = strokes[0] > 0
    window = round(ride.RIDE_WINDOW_S * frame_rate)
    assert np.all(moved[chorus])  # the whole chorus
    reach = np.flatnonzero(moved & ~chorus)
    assert reach.size and np.all(np.minimum(np.abs(reach - n // 3), np.abs(reach - 2 * n // 3)) <= window // 2)
    assert not moved[:n // 3 - window // 2].any() and not moved[2 * n // 3 + window // 2:].any()
    assert len(calls) > 2  # the windows, then the strokes' weights over the recording
    # 15 s: one decision over the whole recording, as before
    calls.clear()
    short = int(15 * frame_rate)
    ride.move_strokes(P, H[..., :short], np.arange(4), labels, magnitude[..., :short], sr=SR, n_fft=N_FFT,
                      hop_length=HOP, target=3)
    assert calls == [short]


def test_ride_windows_take_a_majority_and_drop_runs_shorter_than_half_a_window():
    frame_rate = SR / HOP
    window = round(ride.RIDE_WINDOW_S * frame_rate)
    assert ride.ride_windows(2 * window - 1, frame_rate, lambda a, b: True) is None
    n = 5 * window
    assert ride.ride_windows(n, frame_rate, lambda a, b: True).all()
    assert not ride.ride_windows(n, frame_rate, lambda a, b: False).any()
    # only the first window judged a ride: its first quarter lies in that window alone, a run
    # of a quarter window (shorter than half a window): no ride anywhere
    assert not ride.ride_windows(n, frame_rate, lambda a, b: a == 0).any()
    # the windows of the middle fifth and those reaching a quarter into it: a ride there
    middle = ride.ride_windows(n, frame_rate,
                               lambda a, b: b > 2 * window + window // 4 and a < 3 * window - window // 4)
    assert middle[2 * window:3 * window].all() and not middle[:window].any() and not middle[4 * window:].any()
