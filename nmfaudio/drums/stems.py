"""From templates to stems: how far each template may adapt, and which output its share
of the mixture goes to.  Arrays and labels only.

Why per-template limits (measured on ``benchmarks/drums.py --performances``, tuning set;
see docs/drums-five-stems.md): with one adaptation limit for all, rarely-playing
templates (toms, cymbals, percussion) drift toward the drums that play all the time —
adapted tom templates took 25-58 % of the snare, cymbal templates took open hi-hats.
Kick, snare and hi-hat keep the 20 dB of the three-stem model; toms and the open hat
may move 3 dB (the toms 10 dB below 120 Hz in drum recordings, ``LOW_ADAPT``: their
fundamentals), cymbals 10 dB, and percussion ("other") stays as learned.
"""

from __future__ import annotations

import numpy as np

from nmfaudio._validation import check_switch
from nmfaudio.drums.templates import class_of

__all__ = ["ADAPT_DB", "ANCHOR", "ANCHOR_RELEASE_SHARE", "ANCHOR_SHARE_QUANTILE", "ANCHOR_CROWDED", "FIXED_FIRST_SHARE",
           "GUIDE_LABELS", "LOW_ADAPT", "PRESENCE", "PRESENCE_AT_SHARE", "RESIDUAL_CLASSES", "SONG_ELECTRONIC_SNARE",
           "SONG_SNARE_BODY_HZ", "LOW_CUT_HZ", "LOW_LEFT_SHARE", "SONG_LOW_CUT_HZ", "adapt_limits_db", "low_cut_parts",
           "presence_mode", "stem_index"]

#: Largest adaptation (dB above its start) of any entry of a template, by label, else by
#: class; ``max_gain_db`` of :func:`separate_drums` is the limit of the first group
#: (kick, snare, closed hi-hat) and scales the others.
ADAPT_DB = {"kick": 20.0, "snare": 20.0, "hihat": 20.0, "hihat:open": 3.0, "toms": 3.0, "cymbals": 10.0,
            "other": 0.0}
#: Below a frequency some classes may adapt further than ``ADAPT_DB`` says, by label or
#: class: (frequency in Hz, limit in dB).  A kit's toms differ from the bundled ones most
#: in their fundamental (80-130 Hz on the tuning kits); with 3 dB there the tom templates
#: could not fit it and the kick (20 dB) explained the toms' lows: toms 12-22 % into the
#: kick stem.  10 dB below 120 Hz only — above it (the snare's body starts at ~150 Hz)
#: freer toms took the snare.  Measured (docs/log/drums-five-stems-decisions.md, sixth round): tuning
#: seeds 5-6 kick 15.35 -> 17.59 dB, toms 8.92 -> 10.39; seed 0 kick +0.26, toms -0.28.
#: Not in a song (accompaniment modelled): there a bass plays below 120 Hz.
LOW_ADAPT = {"toms": (120.0, 10.0)}
#: Limit for a class this table does not know (a user's own class name).
DEFAULT_ADAPT_DB = 20.0
#: Share of the iterations run first with every template fixed (only the activations
#: move), before the templates may adapt within their limits: templates adapting from
#: random activations drift toward whatever drum their random start lit up.  Measured
#: (docs/drums-five-stems.md, 10 of 50 iterations): tuning performances mean3 10.70 →
#: 11.07 dB, toms 8.03 → 9.30; the harder seed-4 tuning performances 2.33 → 2.81.
FIXED_FIRST_SHARE = 0.2
#: In a song (accompaniment modelled), classes whose templates adapt only from their own
#: hits, with the level (share of the activation's maximum) of a hit: after the fixed
#: iterations, a class's activations outside ±1 frame of the peaks above that level are
#: set to zero, so its template adapts only to what its start template found at its hits
#: (:func:`nmfaudio.drums.model.anchor_activations`); for the last ``ANCHOR_RELEASE_SHARE``
#: of the iterations its template is kept and its activations start again from the fixed
#: iterations' (ghost notes and quieter hits come back).  Why: a snare that always plays
#: with the kick (disco, four on the floor) is half explained by the kick at its hits, and
#: its template (20 dB free) learned the music's chord onsets (400-1000 Hz) instead of its
#: own hits — the snare stem empty, -30 dB SI-SDR.  Measured (docs/log/drums-five-stems-decisions.md,
#: fifteenth round; SI-SDR, GMRockKit and BJA_Pacific, 12-s songs): seeds 7-8 at -6 dB
#: snare -12.3 -> 1.5 dB, seeds 0-6 3.5 -> 4.7 (0 dB: 4.3 -> 5.3, 7.5 -> 7.7).  Levels 0.2 and
#: 0.3 gave seed 7 -0.4 / -5.8 (one kit found at one level, lost at the other): the level
#: is not a clean boundary.  Not in drum recordings: there the restriction cost the
#: tuning performances' snare 0.5 dB (ghost notes under the level).
ANCHOR = {"snare": 0.25}
#: In a song, the share of the drum machines' snare template
#: (:func:`nmfaudio.drums.templates.electronic_snare`, FluidR3's Electronic and TR-808
#: snares) in the snare's start template, the bundled snare the rest — when the snare is
#: the bundled one.  Why: a drum machine's snare is a tuned body (TR808EmulationKit's: 93 %
#: of its energy at 150-400 Hz, peak 258 Hz) where the acoustic snares hold little, and a
#: template adapts multiplicatively from its start: under music 40-63 % of it went to the
#: accompaniment.  Measured (docs/log/drums-full-song-decisions.md, "A drum machine's tuned snare"; SNR,
#: tuning seeds 0-3, 12-s songs, -6 / 0 / +6 dB): TR808EmulationKit snare 2.00 / 4.00 /
#: 11.19 -> 3.99 / 5.86 / 11.57 dB (at every frequency; below SONG_SNARE_BODY_HZ only:
#: 2.78 / 5.64 / 11.32); the acoustic tuning songs' snare 7.97 -> 8.03, toms 4.34 -> 4.32.
#: A third (the one-shots pooled) gained the 808 less; two thirds cost BJA_Pacific's snare
#: at -6 dB 0.4 dB.  Not in drum recordings: there the pooled snare cost the
#: kick/snare/hi-hat-only grooves 0.2-0.3 dB (below the issue's floor).  Held out (fresh
#: seeds 55-56): the 808's snare at -6 dB 0.86 -> 4.00 dB SNR, but HardElectro1's hats
#: at 0 / +6 dB 1.7-1.9 dB lower.
SONG_ELECTRONIC_SNARE = 0.5
#: Below this frequency (Hz) only (above it the bundled snare alone): mixed at every
#: frequency, the drum machines' bright noise took a synthetic song's hats (the hat in the
#: snare stem 1.8 -> 5.2 %, tests/test_drums_full_song.py); mixed below 1 kHz only (the
#: body) the 808 kept none of the gain.  Measured (the same SNR runs): 6 kHz, TR808EmulationKit
#: snare 2.00 / 4.00 / 11.19 -> 2.78 / 5.64 / 11.32 dB, the acoustic songs' snare 7.97 -> 8.03.
SONG_SNARE_BODY_HZ = 6000.0
#: Share of the iterations at the end that free the anchored classes' activations again,
#: their templates fixed (see ``ANCHOR``).
ANCHOR_RELEASE_SHARE = 0.2
#: In a song, when an anchored class (see ``ANCHOR``) has more peaks above its level than the
#: kick has (``ANCHOR_CROWDED`` times as many), its hits are only the peaks where its share of
#: the drum model's energy is at most this quantile of the shares at its peaks
#: (:func:`nmfaudio.drums.model.anchor_activations`): the peaks it explains alone are music
#: onsets more often than its hits.  Why: on TR808EmulationKit songs with a guitar, the
#: snare's anchors landed on the strums (15-31 % at a snare note) and its template learned
#: the guitar; the 808's snare, a tuned body the start template fits badly, holds 1-8 % of
#: the model's energy at its notes, the strums 3-31 %.  Measured (docs/log/drums-full-song-decisions.md,
#: "Snare anchors away from the strums (snareanchor)"; SNR, the electronic tuning songs,
#: seeds 0-3 and 51-64, -6 / 0 / +6 dB): see there.  0.5 gained the 808 more (-6 dB all
#: drums +0.40) but cost the other electronic kits' snares (VariBreaks 51 -7.8 dB: there
#: the kit's snare fills the template and holds the larger shares at its notes).
ANCHOR_SHARE_QUANTILE = 0.75
#: See ``ANCHOR_SHARE_QUANTILE``: the selection applies only where the anchored class has
#: more than this many times as many peaks as the kick (a groove's snare plays about half as
#: often as its kick).  At -6 dB (after the fixed iterations): GMRockKit, BJA_Pacific,
#: HardElectro1 and ElectricEmpireKit seeds 0-3 0.33-0.79; the 808's lost snares 0.93-2.05
#: (1, 51, 58, 61, 62; not reached on 53 and 56: 0.62, 0.58); the other kits' seeds 51,
#: 58, 61, 62 looked at 0.90-2.06 (there the kept half cost some: see the docs).
ANCHOR_CROWDED = 0.9
#: A user's own templates (not the bundled ones), in drum recordings (not in a song, not
#: with ``adapt=False``: not measured there): during those fixed first iterations the
#: bundled template of each of these labels plays beside the user's one of the same label,
#: and its activations then join the user's, which alone adapts — so one-shots that match
#: the recording badly (a kit whose "kick" is a tom) do not place the hits alone.  The hats
#: are not guided: a second hat part in the fixed start took the cymbals where they play.
#: Measured (docs/drums-five-stems.md, sixteenth round): kick/snare/hi-hat-only grooves with
#: other kits' one-shots, Audiophob 13.16 -> 13.70 dB, BJA_Pacific 16.42 -> 16.46, rumpf
#: 14.49 -> 14.69; performances with toms and cymbals on a kit's own one-shots mean3 10.69
#: -> 10.74, toms 8.82 -> 9.31, hi-hat 2.26 -> 2.29.  The bundled templates are unchanged.
GUIDE_LABELS = ("kick", "snare")
#: Classes tested for presence in drum recordings (not in song mode), with the smallest
#: *dominance* (:func:`nmfaudio.drums.model.dominance`: the largest share the class's
#: parts hold of the model in their own spectrum, over the frames where that spectrum is
#: loud) that counts as playing.  A class under it does not play: its parts' activations
#: are set to zero for the last iterations, so the grooves without toms do not lend the
#: snare or the kick to the toms parts (its stem is then silent).  Measured after the full
#: fit (docs/drums-five-stems.md, the k/s/h-only section): toms that play 0.64-0.99 (24
#: tuning performances, seeds 0, 2, 3), toms that do not 0.04-0.55 (8 such performances)
#: and at most 0.33 on kick/snare/hi-hat grooves; 0.5 is between (at 40 iterations, the
#: same kits' seeds 2-3: 0.74-0.89 with toms, 0.04-0.54 without).  Cymbals and
#: percussion are not tested: no statistic tried told their absence apart.  A fill of one
#: or two quiet toms can be judged "not playing" (3 of 24 held-out performances of
#: ``benchmarks/transcription.py --seed 1``, with 1-7 tom notes; 3 of 72 on the tuning
#: kits' seeds 0, 2, 4, 5, 6, each a single tom note 19-20 dB under the kick: no rule
#: tried did better, docs/log/drums-five-stems-decisions.md, twelfth round): ``presence_test=False``
#: of :func:`nmfaudio.separate_drums` (``--presence-test off``) models every class to the end.
PRESENCE = {"toms": 0.5}
#: Share of the iterations after which the presence test runs (the rest are fitted without
#: the absent classes).
PRESENCE_AT_SHARE = 0.8
#: Below this frequency (Hz) a class's stem holds nothing: in the masks, what its parts'
#: model explains there goes to the residual (the fit is unchanged).  A hi-hat has next to
#: no energy below 300 Hz; what its templates (adapting 20 dB) explain there is snare
#: bodies, congas and kick.  Measured (docs/log/drums-five-stems-decisions.md, seventh round), mean3 /
#: hi-hat SDR: tuning seed 0 11.25 / 1.20 -> 11.26 / 1.23 dB, seeds 5-6 8.88 / -6.46 ->
#: 9.08 / -5.86, seed 4 3.58 / -17.21 -> 4.07 / -15.73 (the percussion's energy in the
#: hat stem 31 -> 10 %); kick/snare/hi-hat-only grooves +0.01 to +0.03 dB; held-out
#: 3.12 / -10.83 -> 3.16 / -10.73.  500 Hz and above took the hats' own lows too
#: (k/s/h-only -0.04 to -0.09 dB).  Drum recordings only (in a song the residual is the
#: accompaniment, and these lows are drums).
LOW_CUT_HZ = {"hihat": 300.0}
#: In a song, below this frequency (Hz) a class's parts' model leaves the masks (numerator
#: and denominator, :func:`low_cut_parts` with ``to_residual=False``): those bins are
#: shared among the other outputs — kick, snare, toms, cymbals, accompaniment — by their
#: own models, so what the hat parts explain there goes to whatever models it next.  Why:
#: below 1 kHz the hat parts (20 dB free) also explain bass, chords and snare bodies
#: (docs/log/drums-full-song-decisions.md, twenty-first round); sent to the accompaniment instead
#: (twenty-second round) the snare's and kick's share went with it.
SONG_LOW_CUT_HZ = {"hihat": 1000.0}
#: Share of the cut parts' model left below the cut when it leaves the masks: where the
#: other outputs model (almost) nothing in a bin — less than ~this share of the cut
#: part's model — the bin still goes to the cut part's output, as without the cut.
LOW_LEFT_SHARE = 1e-3
#: Template classes modelled but always sent to the residual.
RESIDUAL_CLASSES = ("other",)


def presence_mode(value) -> bool:
    """Check ``presence_test=``: True or False (also "on" / "off")."""
    return check_switch(value, "presence_test",
                        meaning="False: every class is modelled to the end (toms are never judged absent)")


def low_cut_parts(P, H, labels, index, freqs_hz, residual, *, cut=None, to_residual=True):
    """Route each template's model below its class's :data:`LOW_CUT_HZ` to the residual,
    or (``to_residual=False``) out of the masks.

    Parameters
    ----------
    P : ndarray, shape (F, K, T)
        Templates (full frequency resolution).
    H : ndarray, shape (K, C, N)
        Activations.
    labels : sequence of K str
    index : ndarray of int, shape (K,)
        Output of each template (:func:`stem_index`); ``residual`` is the residual's.
    freqs_hz : ndarray, shape (F,)
        The bins' frequencies.
    residual : int
    cut : dict, optional
        Label or class → frequency (default :data:`LOW_CUT_HZ`).
    to_residual : bool, default True
        False: the cut template's bins below the cut are scaled by :data:`LOW_LEFT_SHARE`
        instead — its model there leaves the masks' numerators and denominators, so the
        other outputs share those bins by their own models, except where they model
        (almost) nothing (the bin stays the cut template's output's).

    Returns
    -------
    P, H, index : shapes (F, K + B, T), (K + B, C, N), (K + B,)
        One extra template per cut one (B of them): its bins below the cut, with the same
        activation, sent to the residual; the cut template keeps the bins above.  The
        model ``Σ_k P_k * H_k`` is unchanged.  The inputs themselves when nothing is cut.
        With ``to_residual=False``: B = 0 (P a scaled copy, H and index the inputs).
    """
    cut = LOW_CUT_HZ if cut is None else cut
    index = np.asarray(index)
    cuts = [(k, cut.get(label, cut.get(class_of(label)))) for k, label in enumerate(labels)]
    cuts = [(k, hz) for k, hz in cuts if hz is not None and index[k] != residual]
    if not cuts:
        return P, H, index
    P = P.copy()
    freqs_hz = np.asarray(freqs_hz)
    if not to_residual:
        for k, hz in cuts:
            P[freqs_hz < hz, k] *= P.dtype.type(LOW_LEFT_SHARE)
        return P, H, index
    low_parts = []
    for k, hz in cuts:
        low = freqs_hz < hz
        part = np.zeros_like(P[:, k])
        part[low] = P[low, k]
        P[low, k] = 0
        low_parts.append(part)
    kept = [k for k, _ in cuts]
    return (np.concatenate([P, np.stack(low_parts, axis=1)], axis=1), np.concatenate([H, H[kept]]),
            np.concatenate([index, np.full(len(kept), residual)]))


def adapt_limits_db(labels, max_gain_db=20.0, band_hz=None, *, low=LOW_ADAPT) -> np.ndarray:
    """Adaptation limit (dB) of each template label: shape (n_templates,), or with
    ``band_hz`` (the fit's band centres in Hz, shape (n_bands,)) one limit per band and
    template, shape (n_bands, n_templates), where ``low`` (default :data:`LOW_ADAPT`;
    ``{}`` for none, as in a song) raises a class's limit below its frequency.

    ``max_gain_db`` replaces the 20 dB of kick, snare and hi-hat; the other limits keep
    their ratio to it (so ``max_gain_db=0`` fixes every template's envelope cap at its
    start)."""
    scale = max_gain_db / DEFAULT_ADAPT_DB

    def lookup(table, label, default):
        return table.get(label, table.get(class_of(label), default))

    limits = np.asarray([lookup(ADAPT_DB, label, DEFAULT_ADAPT_DB) * scale for label in labels], dtype=np.float64)
    if band_hz is None:
        return limits
    band_hz = np.asarray(band_hz, dtype=np.float64)
    per_band = np.repeat(limits[None, :], band_hz.size, axis=0)
    for k, label in enumerate(labels):
        raised = lookup(low, label, None)
        if raised is not None:
            below = band_hz < raised[0]
            per_band[below, k] = np.maximum(per_band[below, k], raised[1] * scale)
    return per_band


def stem_index(labels, outputs):
    """Which output each template goes to: index into ``outputs`` (requested classes),
    or ``len(outputs)`` for the residual (classes not requested, and ``"other"``).

    Returns
    -------
    ndarray of int, shape (n_templates,)
    """
    outputs = list(outputs)
    return np.asarray([outputs.index(class_of(label)) if class_of(label) in outputs else len(outputs)
                       for label in labels])
