"""Drum recordings: the hi-hat stem's low mids go to the residual where they are most of it.
Arrays and labels only.

A hi-hat holds little between 300 Hz and 1 kHz (the oracle ratio mask's hat stem on the
proxy draws: 5 % of its energy there), but the hat parts, free to adapt 20 dB, learn
snare bodies and congas there; under quiet hats the mixture is so much louder in that band
than above it that a small share of the model makes the band most of the stem (the proxy
draws, docs/log/drums-five-stems-decisions.md, hihat69 round: up to 82 % of the hat
stem's energy at 300 Hz - 1 kHz; the hats themselves 0.7 %).  The statistic is the
stem's expected share there, read before the masks: each bin's hat share of the labelled
parts' model (summed over the frames), squared, times the mixture's power in the bin —
the hat stem's power per bin if the share held in every frame — at 300 Hz to
:data:`CUT_HZ` over all of it above 300 Hz.  At :data:`SHARE` or more the hat output's low
cut (:data:`nmfaudio.drums.stems.LOW_CUT_HZ`, 300 Hz) goes up to :data:`CUT_HZ`: what
the hat parts explain there goes to the residual, the fit and the other outputs' models
unchanged.  Unlike raising the cut for every recording (seventh round: the loud hats'
lows went with it), it acts only where the band is mostly not hats.
"""

from __future__ import annotations

import numpy as np

from nmfaudio.drums.templates import class_of

__all__ = ["CUT_HZ", "FROM_HZ", "SHARE", "hat_cut", "low_mid_share"]

#: The band's lower edge (Hz): the hat stem holds nothing below it anyway (stems.LOW_CUT_HZ).
FROM_HZ = 300.0
#: The band's upper edge and the raised cut (Hz).  Screened on the proxy draws (64; hihat69
#: round): cut at 1 / 2 kHz where the statistic passes 0.35, hi-hat −6.54 → −5.85 / −5.83 dB.
CUT_HZ = 1000.0
#: The statistic's bound.  On the proxy draws every recording at 0.25 or more gained from
#: the raised cut (+0.26 to +7.5 dB hi-hat; 21 of 64), below it 13 of 43 lost 0.05-0.99 dB;
#: 0.35 (12 of 64, each +1.45 dB or more) keeps a margin; the tuning draws read 0.06-0.34.
SHARE = 0.35


def low_mid_share(P, H, labels, freqs_hz, power, *, low_hz=FROM_HZ, high_hz=CUT_HZ) -> float:
    """The hat output's expected share of its power at ``low_hz``-``high_hz``, of all of it
    above ``low_hz``.

    Parameters
    ----------
    P : ndarray, shape (F, K', T)
        Templates at full frequency resolution (K' ≥ K: extra parts after the labelled ones
        are not counted).
    H : ndarray, shape (K', C, N)
        Activations.
    labels : sequence of K str
    freqs_hz : ndarray, shape (F,)
        The bins' frequencies.
    power : ndarray, shape (F,)
        The mixture's power per bin, summed over channels and frames.

    Returns
    -------
    float
        In [0, 1]; 0 when there is no hat part or it models nothing above ``low_hz``.
    """
    K = len(labels)
    hats = [k for k in range(K) if class_of(labels[k]) == "hihat"]
    if not hats:
        return 0.0
    totals = H[:K].sum(axis=(1, 2), dtype=np.float64)  # each part's activation over time
    per_bin = P[:, :K].sum(axis=2, dtype=np.float64) * totals  # (F, K): each part's model summed over frames
    model = per_bin.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(model > 0, per_bin[:, hats].sum(axis=1) / model, 0.0)
    expected = share ** 2 * np.asarray(power, np.float64)
    freqs_hz = np.asarray(freqs_hz)
    above = expected[freqs_hz >= low_hz].sum()
    if not above > 0:
        return 0.0
    return float(expected[(freqs_hz >= low_hz) & (freqs_hz < high_hz)].sum() / above)


def hat_cut(P, H, labels, freqs_hz, power, base):
    """The low cut for :func:`nmfaudio.drums.stems.low_cut_parts`: ``base`` with the hi-hat's
    raised to :data:`CUT_HZ` where :func:`low_mid_share` is :data:`SHARE` or more.

    Parameters
    ----------
    P, H, labels, freqs_hz, power
        As for :func:`low_mid_share`.
    base : dict
        Label or class → frequency (Hz), the usual cut (``stems.LOW_CUT_HZ``).

    Returns
    -------
    dict
        ``base`` itself when the statistic is under :data:`SHARE`, else a copy with
        ``"hihat": max(base's, CUT_HZ)``.
    """
    if low_mid_share(P, H, labels, freqs_hz, power) < SHARE:
        return base
    return {**base, "hihat": max(float(base.get("hihat", 0.0)), CUT_HZ)}
