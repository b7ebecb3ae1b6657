"""benchmarks/mixbus.py: the drum-bus mix keeps the stems exact (no benchmark is run here)."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SR = 22050
CLASSES = ("kick", "snare", "toms", "hihat", "cymbals", "other")


@pytest.fixture(scope="module")
def mixbus():
    spec = importlib.util.spec_from_file_location("mixbus_bench", ROOT / "benchmarks" / "mixbus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rendered(channels=1, seconds=2.0, seed=0):
    """A render's layout (performances.render): one float32 stem per class, decaying noise
    bursts of different colours and levels, the mixture their float32 sum at peak 0.9."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    shape = (channels, n) if channels > 1 else (n,)
    stems = {}
    for k, cls in enumerate(CLASSES):
        x = np.zeros(shape)
        burst = rng.standard_normal(shape[:-1] + (SR // 4,)) * np.exp(-np.arange(SR // 4) / (SR / (40 + 60 * k)))
        burst = np.cumsum(burst, axis=-1) if k == 0 else burst  # a dark "kick"
        for start in rng.integers(0, n - SR // 4, 4 + 2 * k):
            x[..., start:start + SR // 4] += burst * 10 ** (-(3 * k) / 20)
        stems[cls] = x
    scale = 0.9 / np.abs(sum(stems.values())).max()
    out = {c: (s * scale).astype(np.float32) for c, s in stems.items()}
    mix = np.zeros(shape, np.float32)
    for c in CLASSES:
        mix += out[c]
    return {"mix": mix, **out, "sr": SR, "notes": [{"time": 0.5, "class": "kick"}]}


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("mode", ["eq", "room", "bus", "record"])
def test_stems_sum_to_the_mix(mixbus, mode, channels):
    # every mode keeps the stems exact: their sum is the mixed mixture to float32 rounding
    # (1e-6 of the peak), the peak is 0.9 again, the notes untouched and the input unmodified
    rendered = _rendered(channels)
    before = {c: rendered[c].copy() for c in ("mix",) + CLASSES}
    out = mixbus.apply(rendered, mode, seed=3)
    total = sum(out[c].astype(np.float64) for c in CLASSES)
    assert out["mix"].dtype == np.float32 and out["mix"].shape == rendered["mix"].shape
    assert np.abs(total - out["mix"]).max() <= 1e-6 * 0.9
    assert abs(float(np.abs(out["mix"]).max()) - 0.9) < 1e-6
    assert out["notes"] == rendered["notes"] and out["mix_bus"] == mode
    assert not np.allclose(out["mix"], rendered["mix"], atol=1e-3)  # something was done
    for c, x in before.items():
        assert np.array_equal(rendered[c], x)


def test_mixed_mix_is_the_effect_applied_to_the_mixture(mixbus):
    # the linear stages: filtering (convolving) the dry mixture gives the same mixture as
    # filtering each stem and summing (to 1e-5 of the peak, float32 stems)
    from scipy import signal

    rendered = _rendered()
    dry = rendered["mix"].astype(np.float64)
    for mode, direct in (("eq", signal.sosfilt(mixbus.eq_sos(SR), dry)),
                         ("room", signal.oaconvolve(dry, mixbus.room_ir(SR, 3)[0])[:dry.size])):
        expected = direct * 0.9 / np.abs(direct).max()
        assert np.abs(mixbus.apply(rendered, mode, seed=3)["mix"] - expected).max() < 1e-5


def test_compressor_gain_is_the_same_for_every_stem(mixbus):
    # bus: one gain, computed from the mixture, multiplies every stem: each stem's ratio
    # out / in is the same curve (where the stem is not tiny: relative error 1e-4, float32)
    rendered = _rendered()
    out = mixbus.apply(rendered, "bus")
    gain = mixbus.compressor_gain(rendered["mix"].astype(np.float64), SR)
    gain = gain * 0.9 / np.abs(gain * rendered["mix"]).max()
    assert gain.min() < 0.9 * gain.max()  # it compresses
    for c in CLASSES:
        x = rendered[c].astype(np.float64)
        loud = np.abs(x) > 1e-3
        assert loud.sum() > 1000
        ratio = out[c][loud] / x[loud]
        assert np.abs(ratio / gain[loud] - 1).max() < 1e-4, c


def test_compressor_static_curve(mixbus):
    # a steady tone 12 dB over the threshold, past the knee: the gain settles at
    # -(1 - 1/ratio) * 12 = -9 dB (±0.2 dB); under the threshold (a tone 30 dB under the
    # peak of an earlier burst, which sets the threshold) it returns to 0 dB after the release
    t = np.arange(2 * SR) / SR
    x = np.sin(2 * np.pi * 200 * t)
    peak_db = 20 * np.log10(np.abs(x).max())
    level_db = 10 * np.log10(0.5)  # the tone's RMS
    threshold = level_db - peak_db - 12.0
    gain = mixbus.compressor_gain(x, SR, threshold_db=threshold, ratio=4.0, knee_db=6.0)
    assert abs(20 * np.log10(gain[SR:]).mean() + 9.0) < 0.2
    y = np.where(t < 0.5, x, 10 ** (-30 / 20) * x)
    gain = mixbus.compressor_gain(y, SR)
    assert gain[: SR // 2].min() < 10 ** (-3 / 20)
    assert np.all(gain[SR + SR // 2:] > 10 ** (-0.01 / 20))


def test_limiter_holds_the_ceiling(mixbus):
    # the limiter's gain keeps every sample of gain * mix at or under the ceiling, stays
    # at 1 where there is room, and falls before a peak (lookahead), not only at it
    rng = np.random.default_rng(1)
    x = 0.1 * rng.standard_normal(SR)  # 9 standard deviations under the ceiling
    x[SR // 2] = 2.0
    gain = mixbus.limiter_gain(x, SR, ceiling=0.9, lookahead_ms=5.0)
    assert np.abs(gain * x).max() <= 0.9 + 1e-12
    assert gain[SR // 2 - 50] < 1.0 and gain[1000] > 1 - 1e-12
    out = mixbus.apply(_rendered(), "record")
    assert np.abs(out["mix"]).max() <= 0.9 + 1e-6


def test_room_ir_is_seeded(mixbus):
    # same seed, same IR (byte for byte); another seed, another; the dry path at lag 0;
    # the reflections and tail at wet_db (-10 dB ± 0.01) of it; the tail decays (its last
    # tenth 40 dB under its first); stereo: two different tails
    a, b, c = mixbus.room_ir(SR, 5), mixbus.room_ir(SR, 5), mixbus.room_ir(SR, 6)
    assert a.tobytes() == b.tobytes() and not np.array_equal(a, c)
    assert a.shape == (1, int(1.5 * mixbus.ROOM["rt60"] * SR)) and a[0, 0] == 1.0
    assert abs(10 * np.log10(np.sum(a[0, 1:] ** 2)) - mixbus.ROOM["wet_db"]) < 0.01
    tenth = a.shape[1] // 10
    assert 10 * np.log10(np.sum(a[0, 1:tenth] ** 2) / np.sum(a[0, -tenth:] ** 2)) > 40
    stereo = mixbus.room_ir(SR, 5, channels=2)
    assert not np.allclose(stereo[0], stereo[1])


def test_dry_is_the_render_itself(mixbus):
    # --mix dry (the default) changes nothing: the same object, so every existing number stays
    rendered = _rendered()
    assert mixbus.apply(rendered, "dry") is rendered
    with pytest.raises(ValueError, match="unknown mix 'wet'"):
        mixbus.apply(rendered, "wet")


def test_dry_is_byte_identical_to_a_kit_render(mixbus):
    # the real path: a performance rendered on a Hydrogen kit, through --mix dry, byte for byte
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    performances = pytest.importorskip("performances")
    try:
        rendered = performances.render(performances.compose(0, seconds=2.0), "GMRockKit")
    except FileNotFoundError:
        pytest.skip("hydrogen-data not installed")
    again = mixbus.apply(rendered, "dry")
    for key in ("mix",) + CLASSES:
        assert again[key].tobytes() == rendered[key].tobytes()
