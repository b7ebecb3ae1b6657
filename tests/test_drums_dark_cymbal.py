"""A drum recording's dark cymbal part (nmfaudio.drums.dark_cymbal; docs/drums-five-stems.md,
the dark-cymbals round)."""

import numpy as np
import pytest

from nmfaudio.drums.dark_cymbal import DARK_LABEL, DARK_SHIFT, SOURCE_LABEL, dark_source, dark_template

SR = 22050


def test_the_dark_template_moves_the_peak_down_by_the_shift_and_keeps_the_sum():
    F, T = 1025, 6
    f = np.arange(F)
    P = np.exp(-0.5 * ((f - 300) / 20.0) ** 2)[:, None] * np.linspace(1, 0.1, T)[None]  # a peak at bin 300
    dark = dark_template(P.astype(np.float32), shift=6.0)
    assert dark.shape == P.shape and dark.dtype == np.float32
    assert abs(int(np.argmax(dark[:, 0])) - 50) <= 1  # 300 / 6
    np.testing.assert_allclose(dark.sum(), P.sum(), rtol=1e-5)
    # the time course: each frame's share of the template is the source's (a separable template)
    np.testing.assert_allclose(dark.sum(axis=0) / dark.sum(), P.sum(axis=0) / P.sum(), rtol=1e-5)
    # bins whose source lies past the last bin are 0, not the last bin repeated
    assert not dark[int(np.ceil(F / 6.0)) + 1:].any()


def test_the_dark_template_refuses_bad_input():
    with pytest.raises(ValueError, match="shape"):
        dark_template(np.ones(5))
    with pytest.raises(ValueError, match="at least 1"):
        dark_template(np.ones((5, 2)), shift=0.5)


def test_the_source_is_the_crash_else_the_first_cymbal_part():
    assert dark_source(("kick", "cymbals:ride", SOURCE_LABEL)) == 2
    assert dark_source(("kick", "cymbals:ride", "cymbals:bell")) == 1
    assert dark_source(("kick", "snare", "hihat")) is None
    assert dark_source(("kick", SOURCE_LABEL, DARK_LABEL)) is None  # never twice


def _dark_crash(rng):
    """A dark crash whose spectrum the dark part fits: noise shaped frame by frame by the
    bundled crash template compressed DARK_SHIFT times (a peak near 570 Hz, 24 frames)."""
    from nmfaudio import spectrum
    from nmfaudio.drums.templates import default_templates

    kit = default_templates()
    shape = dark_template(kit.P[:, kit.classes.index(SOURCE_LABEL)])  # (F, T)
    T = shape.shape[1]
    noise = spectrum.stft(rng.standard_normal((T + 3) * 512), n_fft=2048, hop_length=512)[:, :T]
    X = noise / np.maximum(np.abs(noise), 1e-12) * shape
    y = spectrum.istft(X, n_fft=2048, hop_length=512, length=T * 512)
    return y / np.abs(y).max()


def _dark_crash_recording(seed=0, seconds=6.0):
    """A kick on the beats, a snare on the off-beats, closed hats on eighths and a dark
    crash (:func:`_dark_crash`) every two seconds."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(int(0.3 * SR)) / SR
    kick = np.sin(2 * np.pi * 55 * t) * np.exp(-t / 0.08)
    ts = np.arange(int(0.2 * SR)) / SR
    snare = (np.sin(2 * np.pi * 190 * ts) + sosfilt(butter(2, (1000, 6000), "bandpass", fs=SR, output="sos"),
                                                    rng.standard_normal(ts.size))) * np.exp(-ts / 0.04)
    th = np.arange(int(0.05 * SR)) / SR
    hat = sosfilt(butter(4, 7000, "highpass", fs=SR, output="sos"), rng.standard_normal(th.size)) * np.exp(-th / 0.01)
    crash = _dark_crash(rng)
    stems = {c: np.zeros(n) for c in ("kick", "snare", "hihat", "cymbals")}
    for start in range(0, n - kick.size, SR):
        stems["kick"][start:start + kick.size] += kick
        stems["snare"][start + SR // 2:start + SR // 2 + snare.size] += 0.8 * snare / np.abs(snare).max()
    for start in range(0, n - hat.size, SR // 4):
        stems["hihat"][start:start + hat.size] += 0.3 * hat / np.abs(hat).max()
    for start in range(SR // 4, n - crash.size, 2 * SR):
        stems["cymbals"][start:start + crash.size] += 0.5 * crash
    mix = sum(stems.values()).astype(np.float32)
    return mix, stems


def _share(stem, reference):
    """The reference's share of its energy that the stem holds (projection)."""
    reference = reference[:stem.size]
    return float(np.dot(stem, reference) / np.dot(reference, reference))


def test_a_dark_crash_reaches_the_cymbals_stem_with_the_dark_part(monkeypatch):
    import nmfaudio
    from nmfaudio.drums import separation

    mix, stems = _dark_crash_recording()
    monkeypatch.setattr(separation, "DARK_CYMBAL", False)
    without = nmfaudio.separate_drums(mix, SR, random_state=0)
    monkeypatch.setattr(separation, "DARK_CYMBAL", True)
    with_dark = nmfaudio.separate_drums(mix, SR, random_state=0)
    # the reported templates are the kit's own either way (the dark part is the separation's)
    assert with_dark.templates.classes == without.templates.classes and DARK_LABEL not in without.templates.classes
    assert "cymbals" not in with_dark.absent
    before = _share(without.sources["cymbals"], stems["cymbals"])
    after = _share(with_dark.sources["cymbals"], stems["cymbals"])
    # measured 0.43 -> 0.96 (the bright parts adapt toward it, 10 dB at most)
    assert before < 0.6 and after > 0.9 and after - before > 0.3, (before, after)
    # the tracks still add up to the mixture
    total = sum(with_dark.sources.values())
    np.testing.assert_allclose(total, mix, atol=1e-4 * float(np.abs(mix).max()))


@pytest.mark.parametrize("options", [{"presence_test": False}, {"accompaniment": True}, {"adapt": False}])
def test_no_dark_part_where_no_presence_test_runs(monkeypatch, options):
    # without the presence test (kept classes, a song, fixed templates) the part could not
    # leave: it is not added, and the switch changes nothing
    import nmfaudio
    from nmfaudio.drums import separation

    mix, _ = _dark_crash_recording(seconds=3.0)
    made = []
    real = separation._with_dark_part
    monkeypatch.setattr(separation, "_with_dark_part", lambda kit, source: made.append(1) or real(kit, source))
    on = nmfaudio.separate_drums(mix, SR, random_state=0, **options)
    assert not made
    nmfaudio.separate_drums(mix, SR, random_state=0)  # a drum recording with the test: made
    assert made
    monkeypatch.setattr(separation, "DARK_CYMBAL", False)
    off = nmfaudio.separate_drums(mix, SR, random_state=0, **options)
    for label in on.sources:
        np.testing.assert_array_equal(on.sources[label], off.sources[label])


def test_a_struck_activation_is_percussive_a_spread_one_is_not():
    from nmfaudio.drums.dark_cymbal import DARK_PEAK_SHARE, percussive

    n = 400
    struck = np.zeros(n)
    struck[[20, 180, 340]] = 1.0  # three crashes: all the energy in under 5 % of the frames
    assert percussive(struck)
    rng = np.random.default_rng(0)
    held = 1.0 + 0.1 * rng.random(n)  # a held note's level: its loudest 5 % hold about 5 %
    assert not percussive(held)
    assert not percussive(np.zeros(n))  # silent
    # the bound itself: an activation holding exactly DARK_PEAK_SHARE in its loudest 20 frames
    edge = np.full(n, 1.0)
    top = np.sqrt(DARK_PEAK_SHARE * (n - 20) / (1 - DARK_PEAK_SHARE) / 20)
    edge[:20] = top
    assert percussive(edge, share=DARK_PEAK_SHARE - 1e-9) and not percussive(edge, share=DARK_PEAK_SHARE + 1e-6)


def test_a_dark_part_that_is_not_struck_goes_to_the_residual(monkeypatch):
    # wiring: judged not struck, the playing dark part's share leaves the cymbals stem for
    # the residual and nothing else moves (mask power 1: the masks are linear in the models)
    import nmfaudio
    from nmfaudio.drums import separation

    mix, stems = _dark_crash_recording()
    struck = nmfaudio.separate_drums(mix, SR, random_state=0, mask_power=1)
    monkeypatch.setattr(separation, "percussive", lambda h: False)
    held = nmfaudio.separate_drums(mix, SR, random_state=0, mask_power=1)
    peak = float(np.abs(mix).max())
    for label in ("kick", "snare", "toms", "hihat"):
        np.testing.assert_allclose(held.sources[label], struck.sources[label], atol=1e-5 * peak)
    np.testing.assert_allclose(held.sources["cymbals"] + held.sources["residual"],
                               struck.sources["cymbals"] + struck.sources["residual"], atol=1e-4 * peak)
    # measured: the crash's share in the cymbals stem 0.96 struck, under 0.1 held
    assert _share(struck.sources["cymbals"], stems["cymbals"]) > 0.9
    assert _share(held.sources["cymbals"], stems["cymbals"]) < 0.5
    assert _share(held.sources["residual"], stems["cymbals"]) > 0.5
