"""benchmarks/kit_variants.py's snare-like cymbals (``<kit>-snarecym``), on a tiny kit made
here: no Hydrogen kit is read, nothing is rendered."""
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kit_variants():
    sys.path.insert(0, str(ROOT / "benchmarks"))  # it imports drumkits by name
    try:
        spec = importlib.util.spec_from_file_location("kit_variants_bench", ROOT / "benchmarks" / "kit_variants.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


def _power(y, sr=22050, n=1 << 16):
    """Power in 39 log-spaced bands, 40 Hz to 10 kHz (the docs' measure, smooth enough for noise)."""
    power = np.abs(np.fft.rfft(y, n)) ** 2
    f = np.fft.rfftfreq(n, 1 / sr)
    edges = np.geomspace(40, 10000, 40)
    return np.array([power[(f >= lo) & (f < hi)].sum() for lo, hi in zip(edges[:-1], edges[1:])])


def _t90(y, sr):
    e = np.cumsum(y**2)
    return np.searchsorted(e, 0.9 * e[-1]) / sr


def test_snare_like_crash_has_the_snares_spectrum_and_a_cymbals_ring(kit_variants):
    sr = 22050
    rng = np.random.default_rng(1)
    t = np.arange(int(0.3 * sr)) / sr
    snare = np.sin(2 * np.pi * 400 * t) * np.exp(-t / 0.02) + 0.1 * rng.standard_normal(t.size) * np.exp(-t / 0.01)
    crash = 0.05 * rng.standard_normal((sr, 2))  # a bright stereo crash layer
    z = kit_variants.snare_like(crash, sr, snare)
    assert z.shape == (round(kit_variants.SNARE_CYMBAL_SECONDS * sr) + snare.size - 1, 2)
    assert np.sqrt(np.mean(z**2)) == pytest.approx(np.sqrt(np.mean(crash**2)), rel=1e-6)  # the layer's level
    a, b, c = _power(z[:, 0]), _power(snare), _power(crash[:, 0])
    cosine = lambda u, v: u @ v / np.linalg.norm(u) / np.linalg.norm(v)  # noqa: E731
    assert cosine(a, b) > 0.9 and cosine(a, c) < 0.5  # the snare's spectrum, not the crash's
    assert _t90(z[:, 0], sr) > 3 * _t90(snare, sr)  # it rings like a cymbal


def test_snarecym_variant_keeps_one_crash_playing_the_snare_like_layers(kit_variants, tmp_path, monkeypatch):
    import soundfile as sf

    sr = 22050
    src = tmp_path / "kits" / "Tiny"
    src.mkdir(parents=True)
    rng = np.random.default_rng(2)
    t = np.arange(int(0.2 * sr)) / sr
    sf.write(src / "snare.wav", np.sin(2 * np.pi * 300 * t) * np.exp(-t / 0.03), sr)
    sf.write(src / "crash.wav", 0.1 * rng.standard_normal(sr), sr)
    sf.write(src / "ride.wav", 0.1 * rng.standard_normal(sr), sr)
    instrument = ("<instrument><name>{}</name><layer><filename>{}</filename></layer></instrument>\n")
    xml = ("<drumkit_info><name>Tiny</name><instrumentList>\n" + instrument.format("Snare", "snare.wav")
           + instrument.format("Crash", "crash.wav") + instrument.format("Ride", "ride.wav")
           + "</instrumentList></drumkit_info>\n")
    (src / "drumkit.xml").write_text(xml)
    monkeypatch.setattr(kit_variants, "KIT_ROOT", tmp_path / "kits")
    monkeypatch.setitem(kit_variants.SNARE_CYMBALS, "Tiny-snarecym", ("Tiny", "Crash", ("Ride",), "Snare"))
    out = kit_variants.snare_cymbals("Tiny-snarecym", tmp_path / "out")
    text = (out / "drumkit.xml").read_text()
    assert "<name>Tiny-snarecym</name>" in text and "<name>Ride</name>" not in text
    crash_block = re.search(r"<instrument><name>Crash</name>.*?</instrument>", text, flags=re.DOTALL).group(0)
    assert "<filename>snarecym_crash.wav</filename>" in crash_block
    assert "<filename>snare.wav</filename>" in text  # the snare itself unchanged
    z, z_sr = sf.read(out / "snarecym_crash.wav")
    snare, _ = sf.read(src / "snare.wav")
    assert z_sr == sr
    a, b = _power(z), _power(snare)
    assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > 0.9
