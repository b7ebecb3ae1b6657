"""Rumpf-like tuning material: tuning Hydrogen kits whose toms sit below their kick, with
no ride (its notes played on the crash), or whose one crash is dark or sounds like the snare.

The held-out kit rumpf_kit_z01_h2 has a 97-Hz kick and "high" and "mid" toms at 32 and
75 Hz: below the bundled kick template's 54 Hz, while its kick sits where the bundled
toms do (docs/log/drums-five-stems-decisions.md, twenty-sixth round).  No tuning kit has such
toms, so this script builds some from the tuning kits (GMRockKit, Audiophob,
BJA_Pacific), as folders that ``benchmarks/performances.py`` renders like any Hydrogen
kit (``--kit <folder>``); the samples are the installed kit's (symbolic links), nothing
is committed:

- ``<kit>-lowtoms``: the kick and two toms exchange samples (the kick plays a tom, two
  toms play the kick);
- ``<kit>-downtoms``: the toms an octave lower (resampled to twice their length), the
  kick unchanged;
- ``<kit>-noride``: the kit's ride instruments (ride, ride 2, ride bell) left out, so that
  ``performances.hydrogen_roles`` gives the benchmark's "ride" and "ride bell" notes to the
  crash (its ``_FALLBACK``): a ridden crash, as a held-out kit without a ride sample
  plays it (docs/log/drums-five-stems-decisions.md, ridden-crash round) and as drummers ride a crash
  in a loud chorus.  Everything else is the installed kit's;
- ``<kit>-darkcym``: every cymbal instrument (ride, ride 2, ride bell, splash, the other
  crashes) left out and the one crash kept made dark and short, so that the crash, ride,
  ride-bell, splash and china notes all play it (``_FALLBACK``): a kit whose only cymbal
  is a dark crash (docs/log/drums-five-stems-decisions.md, twenty-sixth and dark-cymbals rounds).  Each
  layer of the crash is resampled down by the fewest octaves (0, 1 or 2:
  ``DARK_OCTAVES``) that put the spectral peak of its first ``DARK_SECONDS`` under
  ``DARK_PEAK_HZ``, low-passed (2nd-order Butterworth at ``DARK_LOWPASS_HZ``) and cut to
  ``DARK_SECONDS`` under an exponential fade to ``DARK_FADE_DB``: GMRockKit's and
  BJA_Pacific's crashes stay at pitch (peaks 484-571 Hz, centroids 552-844 Hz), Audiophob's
  goes two octaves down (538 Hz, 1087 Hz).
- ``<kit>-snarecym``: as ``-darkcym``, every cymbal note on the one crash kept, whose
  layers now sound like the kit's own snare: white noise under an exponential decay of
  ``SNARE_CYMBAL_SECONDS`` to ``SNARE_CYMBAL_FADE_DB``, filtered by the kit's snare sample
  (its power spectrum is the snare's), at the crash layer's RMS.  The held-out
  rumpf_kit_z01_h2 plays every cymbal note on such a sound: an analog noise burst, 82 % of
  its energy under 2 kHz, whose spectrum has a cosine of 0.81 with its own snare's
  (docs/log/drums-five-stems-decisions.md, rumpf-cymbals round); the ``-darkcym`` crashes are dark but
  not snare-like (cosines 0.06-0.23).

Usage::

    python benchmarks/kit_variants.py --out /tmp/kits
    python benchmarks/drums.py --performances -n 2 --seed 4 --kit /tmp/kits/Audiophob-downtoms
    python benchmarks/drums.py --performances -n 2 --seed 0 --kit /tmp/kits/GMRockKit-noride
    python benchmarks/drums.py --performances -n 2 --seed 2 --kit /tmp/kits/BJA_Pacific-darkcym
    python benchmarks/drums.py --performances -n 2 --seed 4 --kit /tmp/kits/GMRockKit-snarecym
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import numpy as np

from drumkits import KIT_ROOT

#: {variant: (tuning kit, {instrument: instrument whose samples it plays})}
LOW_TOMS = {
    "Audiophob-lowtoms": ("Audiophob", {"Kick": "Tom Mid", "Tom Low": "Kick", "Tom Mid": "Kick"}),
    "GMRockKit-lowtoms": ("GMRockKit", {"Kick": "Tom 2", "Tom 1": "Kick", "Tom 2": "Kick"}),
    "BJA_Pacific-lowtoms": ("BJA_Pacific", {"BassDrum": "Tom", "Tom": "BassDrum"}),
}
#: {variant: (tuning kit, instruments played an octave lower)}
DOWN_TOMS = {
    "GMRockKit-downtoms": ("GMRockKit", ("Floor Tom", "Tom 1", "Tom 2")),
    "BJA_Pacific-downtoms": ("BJA_Pacific", ("Tom", "Floor Tom")),
    "Audiophob-downtoms": ("Audiophob", ("Tom Low", "Tom Mid", "Tom Hi")),
}

#: {variant: (tuning kit, instruments left out)}: the kit's ride instruments
NO_RIDE = {
    "GMRockKit-noride": ("GMRockKit", ("Ride", "Ride 2", "Bell")),
    "Audiophob-noride": ("Audiophob", ("Ride Jazz",)),
    "BJA_Pacific-noride": ("BJA_Pacific", ("Ride Bell", "Ride", "Ride 2")),
}

#: {variant: (tuning kit, the crash kept and darkened, the other cymbal instruments left out)}
DARK_CYMBALS = {
    "GMRockKit-darkcym": ("GMRockKit", "Crash", ("Ride", "Ride 2", "Bell", "Splash")),
    "Audiophob-darkcym": ("Audiophob", "Crash", ("Ride Jazz",)),
    "BJA_Pacific-darkcym": ("BJA_Pacific", "Crash Left", ("Crash Right", "Ride Bell", "Ride", "Ride 2")),
}
#: The dark crash's length (s): a short, trashy one (the held-out kit of the twenty-sixth
#: round plays a 0.46-s crash)
DARK_SECONDS = 0.46
#: Its level at the end of ``DARK_SECONDS`` (dB under the start; an exponential fade)
DARK_FADE_DB = -40.0
#: Corner of its low-pass (Hz): a dark cymbal's energy sits under 1-2 kHz
DARK_LOWPASS_HZ = 2000.0
#: The spectral peak its resampling aims under (Hz): near 400-600 Hz, as the twenty-sixth
#: round's dark crash (495 Hz)
DARK_PEAK_HZ = 650.0
#: Octaves down tried, fewest first
DARK_OCTAVES = (0, 1, 2)

#: {variant: (tuning kit, the crash kept and made snare-like, the other cymbal instruments
#: left out, the snare instrument whose loudest layer shapes it)}
SNARE_CYMBALS = {
    "GMRockKit-snarecym": ("GMRockKit", "Crash", ("Ride", "Ride 2", "Bell", "Splash"), "Snare"),
    "Audiophob-snarecym": ("Audiophob", "Crash", ("Ride Jazz",), "Snare Jazz"),
    "BJA_Pacific-snarecym": ("BJA_Pacific", "Crash Left", ("Crash Right", "Ride Bell", "Ride", "Ride 2"), "Snare"),
}
#: The snare-like crash's length (s) and its level at the end (dB under the start): rumpf's
#: crash holds 90 % of its energy in its first 0.18 s, its snare in 0.04 s
SNARE_CYMBAL_SECONDS = 0.9
SNARE_CYMBAL_FADE_DB = -40.0


def _blocks(xml):
    """The drumkit.xml split before each ``<instrument>``, with each block's name (or None)."""
    blocks = re.split(r"(?=<instrument>)", xml)
    return [(b, (re.search(r"<name>(.*?)</name>", b) or [None, None])[1]) for b in blocks]


def _start(src, out):
    """The variant folder ``out`` with links to ``src``'s files; ``src``'s drumkit.xml text."""
    out.mkdir(parents=True, exist_ok=True)
    for f in (KIT_ROOT / src).iterdir():
        if f.name != "drumkit.xml" and not (out / f.name).exists():
            os.symlink(f, out / f.name)
    return (KIT_ROOT / src / "drumkit.xml").read_text()


def _finish(xml, src, out):
    (out / "drumkit.xml").write_text(xml.replace(f"<name>{src}</name>", f"<name>{out.name}</name>", 1))


def low_toms(name, root):
    """Build the ``LOW_TOMS`` variant ``name`` under ``root``; returns its folder."""
    src, plays = LOW_TOMS[name]
    out = Path(root) / name
    xml = _start(src, out)
    blocks = _blocks(xml)
    files = {n: re.findall(r"<filename>(.*?)</filename>", b) for b, n in blocks if n}
    parts = []
    for b, n in blocks:
        if n in plays and "<filename>" in b:  # every layer plays the other's first sample
            b = re.sub(r"<filename>.*?</filename>", f"<filename>{files[plays[n]][0]}</filename>", b)
        parts.append(b)
    _finish("".join(parts), src, out)
    return out


def _rewritten_layers(src, out, prefix, transform):
    """A ``re.sub`` callback for a drumkit.xml layer's ``<filename>``: the sample ``src/file``
    written once as ``out/<prefix>_<stem>.wav`` = ``transform(y, sr)`` (y of shape
    (n_samples, n_channels)), and the layer pointed at it."""
    import soundfile as sf

    def rewrite(match):
        file = match.group(1)
        dst = f"{prefix}_{Path(file).stem}.wav"
        if not (out / dst).exists():
            y, sr = sf.read(KIT_ROOT / src / file, always_2d=True)
            sf.write(out / dst, transform(y, sr), sr)
        return f"<filename>{dst}</filename>"

    return rewrite


def down_toms(name, root, factor=2):
    """Build the ``DOWN_TOMS`` variant ``name`` under ``root`` (toms ``factor`` times slower:
    an octave lower for 2); returns its folder."""
    from scipy.signal import resample_poly

    src, toms = DOWN_TOMS[name]
    out = Path(root) / name
    xml = _start(src, out)
    lowered = _rewritten_layers(src, out, "down", lambda y, sr: resample_poly(y, factor, 1, axis=0))
    parts = [re.sub(r"<filename>(.*?)</filename>", lowered, b) if n in toms else b for b, n in _blocks(xml)]
    _finish("".join(parts), src, out)
    return out


def no_ride(name, root):
    """Build the ``NO_RIDE`` variant ``name`` under ``root`` (its ride instruments' elements
    removed from drumkit.xml); returns its folder."""
    src, rides = NO_RIDE[name]
    out = Path(root) / name
    xml = _start(src, out)

    def kept(match):
        found = re.search(r"<name>(.*?)</name>", match.group(0))
        return "" if found and found.group(1) in rides else match.group(0)

    _finish(re.sub(r"<instrument>.*?</instrument>\s*", kept, xml, flags=re.DOTALL), src, out)
    return out


def _peak_hz(y, sr):
    """Frequency (Hz) of the largest Welch PSD bin of ``y`` (samples, channels)."""
    from scipy.signal import welch

    freqs, power = welch(y.mean(axis=1), sr, nperseg=4096)
    return float(freqs[np.argmax(power)])


def darkened(y, sr):
    """A crash sample made dark and short (see the module docstring).

    Parameters
    ----------
    y : ndarray, shape (n_samples, n_channels)
        The crash sample.
    sr : int
        Its sample rate (kept: resampling down by ``2**k`` plays it ``k`` octaves lower).

    Returns
    -------
    ndarray, shape (round(DARK_SECONDS * sr), n_channels) or shorter
        The dark crash; its spectral peak under ``DARK_PEAK_HZ`` unless two octaves
        down are not enough (then two octaves down).
    """
    from scipy.signal import butter, resample_poly, sosfilt

    lowpass = butter(2, DARK_LOWPASS_HZ, fs=sr, output="sos")
    n = round(DARK_SECONDS * sr)
    for octaves in DARK_OCTAVES:
        z = resample_poly(y, 2**octaves, 1, axis=0) if octaves else y
        z = sosfilt(lowpass, z, axis=0)[:n]
        fade = 10.0 ** (DARK_FADE_DB / 20.0 * np.arange(len(z)) / n)  # the sample's decay, shortened
        z = z * fade[:, None]
        if _peak_hz(z, sr) < DARK_PEAK_HZ:
            break
    return z


def dark_cymbals(name, root):
    """Build the ``DARK_CYMBALS`` variant ``name`` under ``root`` (the other cymbals removed
    from drumkit.xml, the crash's layers replaced by :func:`darkened` copies); returns its
    folder."""
    src, crash, removed = DARK_CYMBALS[name]
    out = Path(root) / name
    xml = _start(src, out)
    dark_file = _rewritten_layers(src, out, "dark", darkened)

    _finish(_crash_replaced(xml, crash, removed, dark_file), src, out)
    return out


def _crash_replaced(xml, crash, removed, layer_file):
    """``xml`` (a drumkit.xml) with the instruments named in ``removed`` left out and the
    ``crash`` instrument's layer file names replaced by ``layer_file`` (a ``re.sub``
    replacement: a string or a function of the match)."""
    def kept(match):
        block = match.group(0)
        found = re.search(r"<name>(.*?)</name>", block)
        if found and found.group(1) in removed:
            return ""
        if found and found.group(1) == crash:
            return re.sub(r"<filename>(.*?)</filename>", layer_file, block)
        return block

    return re.sub(r"<instrument>.*?</instrument>\s*", kept, xml, flags=re.DOTALL)


def snare_like(y, sr, snare, seed=0):
    """A crash layer replaced by a sound with the snare's spectrum and a cymbal's ring (see
    the module docstring).

    Parameters
    ----------
    y : ndarray, shape (n_samples, n_channels)
        The crash layer (its RMS and channel count are kept).
    sr : int
        Its sample rate (the snare is read at it).
    snare : ndarray, shape (n,)
        The kit's snare sample, mono, at ``sr``.
    seed : int
        Seed of the noise.

    Returns
    -------
    ndarray, shape (round(SNARE_CYMBAL_SECONDS * sr) + len(snare) - 1, n_channels)
    """
    from scipy.signal import fftconvolve

    n = round(SNARE_CYMBAL_SECONDS * sr)
    decay = 10.0 ** (SNARE_CYMBAL_FADE_DB / 20.0 * np.arange(n) / n)
    noise = np.random.default_rng(seed).standard_normal(n) * decay
    z = fftconvolve(noise, snare)  # power spectrum: the snare's (times the flat noise's)
    rms = np.sqrt(np.mean(y.astype(np.float64) ** 2))
    z = z * (rms / max(np.sqrt(np.mean(z**2)), 1e-12))
    peak = np.max(np.abs(z))
    if peak > 0.99:  # a float file may exceed 1, not a kit's PCM one
        z = z * (0.99 / peak)
    return np.repeat(z[:, None], y.shape[1], axis=1)


def snare_cymbals(name, root):
    """Build the ``SNARE_CYMBALS`` variant ``name`` under ``root`` (the other cymbals removed
    from drumkit.xml, the crash's layers replaced by :func:`snare_like` copies shaped by
    the snare instrument's last — loudest — layer); returns its folder."""
    import soundfile as sf
    from scipy.signal import resample_poly

    src, crash, removed, snare_name = SNARE_CYMBALS[name]
    out = Path(root) / name
    xml = _start(src, out)
    snare_block = next(b for b, n in _blocks(xml) if n == snare_name)
    snare_file = re.findall(r"<filename>(.*?)</filename>", snare_block)[-1]
    snare, snare_sr = sf.read(KIT_ROOT / src / snare_file, always_2d=True)
    snare = snare.mean(axis=1)

    def shaped(y, sr):
        at_rate = snare if sr == snare_sr else resample_poly(snare, sr, snare_sr)
        return snare_like(y, sr, at_rate)

    snare_file_of = _rewritten_layers(src, out, "snarecym", shaped)
    _finish(_crash_replaced(xml, crash, removed, snare_file_of), src, out)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the variant kits (not committed)")
    args = parser.parse_args(argv)
    for name in LOW_TOMS:
        print(low_toms(name, args.out))
    for name in DOWN_TOMS:
        print(down_toms(name, args.out))
    for name in NO_RIDE:
        print(no_ride(name, args.out))
    for name in DARK_CYMBALS:
        print(dark_cymbals(name, args.out))
    for name in SNARE_CYMBALS:
        print(snare_cymbals(name, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
