"""Drums out of a full song: the accompaniment's share of the spectrogram, and whether a
recording has one.  Arrays only; :mod:`nmfaudio.drums.separation` uses it.

In a full song the bass, keys, guitars and pads play under the drums.  Fitted to the
whole spectrogram, the drum templates take them: the bass went into the kick stem,
chords into the snare (issue 14).  The method here is the time axis of
harmonic–percussive separation (Fitzgerald 2010): a **running median over time** of each
frequency band's magnitude (0.7 s: 31 frames at 44.1 kHz with the default hop of 1024,
the drum fit's 1/12-octave bands, every 4th frame) follows what is sustained — notes,
chords, pads — and ignores short events, so at a kick it gives the bass level without
the kick.  That *sustained part* is

* taken out of what the drum model is fitted to (the drums fit ``max(V − sustained, 0)``),
* and added to the residual's model — times a weight that falls with the drums' level
  (:func:`mask_weight`), since the sustained part also holds the drums' own sustain —
  so the masks give it to the accompaniment.

Two corrections for the drums' own sustain: above :data:`HIGH_HZ` (4 kHz), where a
steady hi-hat or ride pattern and ringing cymbals are "sustained" too, only a share of
the sustained part leaves the fit and joins the accompaniment (:func:`high_band_factors`);
and with loud drums the median is longer, up to 2 s (:func:`sustain_seconds`), so tom
fills and kick decays are not called sustained.

With loud music, re-attacks of held notes (a bass line on its root, repeated chords: the
attack rises above the median at the note's own spectral peaks) stay out of the drum
fit too (:func:`reattack_part`, :func:`reattack_share`): the toms and kick templates
took the bass's attacks, the snare template the guitar's.  And in the masks the kick and
snare hits get their level in the whole spectrogram back (:func:`attack_gains`,
:func:`hit_weights`; the kick's decay continued, :data:`TAIL_FRAMES`): fitted to what
rises above the sustained part, they were modelled too quietly, and their body and decay
went to the accompaniment.  Also in the masks, below :data:`NOTE_HZ` the sustained part
is at least a short median of what the drum model leaves (:func:`note_onsets_sustained`):
bass notes shorter than half the 0.7-s window were not in it, and the toms took them (and
a chord starting with a snare hit: the snare stem took its onset).
These three in the masks start at a lower level of the music than the re-attacks
(:func:`hit_share` from energy share 0.40, :func:`reattack_share` from 0.45).

Measured (``benchmarks/full_song.py``, docs/drums-full-song.md, "What the measurements
decided"; signal-to-error ratios in the constants' comments, BSS Eval SDR in the docs):
this beats librosa's HPSS masks as a front end (whose vertical median, 31 bins ≈ 670 Hz
wide, calls a kick on a bass note harmonic), joint free NMF components (they took kick
energy), and shorter medians (0.36 s).

Drum-only recordings also have a sustained part (cymbals ring, toms and kicks decay),
which must not go to the residual.  ``accompaniment="auto"`` decides from the signal:
the share of the magnitude below 1.5 kHz that stands in sustained *spectral peaks*
(:func:`tonal_share`: bass notes and chords hold narrow peaks for many frames, a drum
kit's sustain is a smooth spectrum) is larger in songs than in drum performances;
:data:`AUTO_TONAL` is the threshold.  The sustained part's plain share below 1.5 kHz
(:func:`decision_share`, reported as ``result.sustained_share``) decided before; it
cannot: dense 16th-note drum patterns and songs with loud drums overlap on it.
"""

from __future__ import annotations

import numpy as np

from nmfaudio._validation import check_int, check_number, check_switch
from nmfaudio.nmf.kernels import run_in_threads

__all__ = ["ATTACK_CLASSES", "AUTO_TONAL", "CLEAN_HZ", "DECISION_HZ", "FLOOR_CLASSES", "HIGH_HZ", "KICK_HIT_LEVEL",
           "NOTE_AHEAD_SECONDS", "NOTE_HZ", "REATTACK_HZ", "SUSTAIN_SECONDS", "TAIL_CLASSES", "TAIL_FLOOR_RATIO",
           "accompaniment_mode", "attack_gains", "decision_share", "decision_spans", "energy_share",
           "high_band_factors", "hit_weights", "kick_hit_frames", "mask_weight", "median_frames",
           "note_onsets_sustained", "reattack_part", "reattack_share", "spread_to_bins", "SpreadSustained",
           "sustain_seconds", "sustained_part", "sustained_share", "tonal_share", "tonal_sums", "use_accompaniment"]

#: Length of the running median over time (seconds; :func:`median_frames`: 31 frames at
#: 44.1 kHz with the default hop of 1024).  0.7 s (61 frames at hop 512, the hop of that
#: run) measured better than 0.36 s (librosa's default 31 frames there) on the full-song
#: benchmark (scratch runs, signal-to-error ratio, not BSS Eval SDR: three GMRockKit songs):
#: all drums 5.5 vs 4.6 dB, mean kick/snare/hi-hat 2.5 vs 1.9 dB.
SUSTAIN_SECONDS = 0.7
#: Time decimation of the running median (frames): measured on the full-song benchmark
#: (3 GMRockKit songs, signal-to-error ratio, not BSS Eval SDR): 1/12-octave bands and every 4th frame gave mean3 2.78 dB,
#: drums 5.43 dB against 2.45 / 5.43 for the full-rate median on every bin.
DECIMATION = 4
#: ``accompaniment="auto"`` decides on the frequencies below this (Hz): bass, chords
#: and pads hold sustained energy there, while a drum recording's sustained part lies
#: mostly above it (ringing cymbals and hats; kick and tom decays are shorter than the
#: median).  :func:`decision_share` (the sustained part's share of the band magnitude)
#: and :func:`tonal_share` (its share in spectral peaks) both look below it.
DECISION_HZ = 1500.0
#: Width (bins) of the frequency median that :func:`tonal_share` subtracts: 5 bins are
#: 54 Hz at 44.1 kHz / 4096 and 22.05 kHz / 2048 (a harmonic's peak is ~4 bins wide);
#: measured against 3 and 7 bins (docs/drums-full-song.md, "The auto decision"): with
#: either, drum performances and songs with loud drums overlapped.
PEAK_BINS = 5
#: Time decimation (frames) of :func:`tonal_share`'s running median, as :data:`DECIMATION`.
DECISION_STEP = 4
#: ``accompaniment="auto"`` treats a recording as a full song when sustained spectral
#: peaks hold more than this share of the magnitude below :data:`DECISION_HZ`
#: (:func:`tonal_share`).  Measured 2026-11-30 (scratch run of ``separate_drums`` on the
#: benchmarks' recordings, docs/drums-full-song.md "The auto decision"): chosen on the tuning drum performances (22.05 kHz
#: mono, ``benchmarks/drums.py`` PERFORMANCE_SETS) and seeds 0-2 of the 12-s stereo
#: 44.1-kHz songs (GMRockKit, BJA_Pacific) and their drum-only versions: drums at most
#: 0.123, songs with the drums 6 dB above the music at least 0.168; the threshold is
#: about their geometric mean.  Held out (the held-out performances, seeds 3-5): drums at
#: most 0.118 (Millo-Drums_v.1 funk, 0.027 under), songs at +6 dB at least 0.163
#: (BJA_Pacific seed 4, 0.018 over); at 0 dB at least 0.204, at -6 dB at least 0.233.
#: The old rule (:func:`decision_share` > 0.57) had the ranges overlap (drums up to 0.568,
#: +6-dB songs from 0.541) and took three of those songs for drum recordings.
AUTO_TONAL = 0.145
#: A long recording's :func:`tonal_share` looks at this many seconds in all ...
DECISION_SECONDS = 24.0
#: ... in this many equally spaced excerpts (6 s each, longer than the 0.7-s median):
#: about 6 ms for a 3-minute stereo song at 44.1 kHz, against ~50 ms for all its frames.
DECISION_EXCERPTS = 4
#: Weight of the sustained part in the masks (the accompaniment's model is this weight
#: times the sustained part), as a function of the sustained part's *energy* share
#: (:func:`energy_share`, a level gauge: 0.45-0.55 with the music 6 dB above the drums,
#: 0.32-0.44 at 0 dB, 0.17-0.36 with the drums 6 dB above).  Why below 1: the sustained
#: part also holds the drums' own sustain (tom and kick decays, cymbals, hats), which went
#: to the accompaniment — at +6 dB a fifth to a quarter of the residual was toms.
#: Measured (signal-to-error ratio, seeds 1-2, both kits, 2026-11-30; scratch runs of
#: ``benchmarks/full_song.py``'s songs): the best weight falls with the drums' level —
#: 0.6-0.7 at -6 dB, 0.25-0.35 at 0 dB, 0.15 or less at +6 dB.  The floor is 0.25, not
#: 0.15: at 0.15 the staccato-bass test song of tests/test_drums_full_song.py kept only
#: 67 % of its bass and chords in the accompaniment (0.25: 75 %), for 0.5 dB on the
#: benchmark's +6-dB songs.  BSS Eval SDR before and after: docs/drums-full-song.md.
WEIGHT_ENERGY = (0.30, 0.42, 0.50)
WEIGHT = (0.25, 0.35, 0.65)
#: Above this frequency (Hz) the sustained part is mostly the drums' own: hi-hat and
#: ride patterns are "sustained" to a 0.7-s median, cymbals ring, and the music's
#: guitars, strings and pads have little energy there.  So only :data:`HIGH_FIT` of it
#: is taken out of the drum fit, and its weight in the masks is :data:`HIGH_MASK` times
#: the rest's (:func:`high_band_factors`).  Measured (scale-invariant SDR, seeds 1-2,
#: GMRockKit and BJA_Pacific, 12-s stereo songs; docs/log/drums-full-song-decisions.md, fourth round):
#: mean kick/snare/hi-hat -11.8 → -7.0 dB at -6 dB drums-to-music, -2.2 → -0.1 at 0 dB,
#: -0.1 → 1.9 at +6 dB; all drums +0.1 / +0.7 / +0.8 dB, accompaniment +0.1 / +0.5 /
#: +0.7.  Against 3 and 5 kHz, fit shares 0, 0.5, 1 and mask factors 0, 0.3.
HIGH_HZ = 4000.0
HIGH_FIT = 0.25
HIGH_MASK = 0.15
#: The running median's length follows the drums' level (:func:`sustain_seconds`, from
#: the 0.7-s median's :func:`energy_share`; at 44.1 kHz stereo that share was 0.50-0.60
#: with the music 6 dB above the drums, 0.35-0.52 at 0 dB, 0.20-0.43 with the drums 6 dB
#: above, seeds 0-4): with loud drums a longer median calls fewer tom fills and kick and
#: tom decays sustained, which went to the accompaniment.  Measured as above, on top of
#: the high band: at +6 dB all drums 9.6 → 10.2 dB, accompaniment 1.7 → 2.4 (seeds 3-4:
#: 11.8 → 12.2 and 4.2 → 4.7), mean3 -0.1 / -0.2 dB; 0 and -6 dB unchanged (0.7 s).
#: Starting the ramp at 0.40-0.50 gained more at +6 dB (accompaniment 3.4 on seeds 1-2)
#: but took 0-dB songs for loud drums: one snare collapsed (mean3 5.3 → 2.9 dB on seeds
#: 3-4); a 0.5-s median with loud music gained 1.5 dB mean3 at -6 dB but lost 0.6 dB of
#: drums at 0 dB; 3 s: +0.2 dB accompaniment, -0.2 dB mean3 against 2 s.
#: The ramp was 0.30-0.40 until 12-02: songs with tom fills or held pads read 0.38-0.43
#: at +6 dB (the fills ring through the 0.7-s median), got 0.7-0.9 s, and the toms'
#: decays went to the accompaniment (seed 44 GMRockKit 0.9 dB, oracle 10.1).  0.35-0.45
#: (BSS Eval, seeds 0-8, 23-28, 39-44, both kits; docs/log/drums-full-song-decisions.md, twenty-eighth
#: round): +6 dB accompaniment +0.27, all drums +0.21 (no song loses either); 0 dB
#: accompaniment +0.14, all drums +0.01, mean3 -0.02 (13 of 28 changed songs lose drums,
#: up to 1 dB); -6 dB unchanged (every song reads 0.455 or more).
SUSTAIN_ENERGY = (0.35, 0.45)
SUSTAIN_LEVEL_SECONDS = (2.0, 0.7)
#: Re-attacks of sustained notes (:func:`reattack_part`): below this frequency (Hz) the
#: excess over the sustained part that stands on the sustained part's spectral peaks —
#: a bass or guitar note struck again at the pitch it holds, whose attack rises above
#: the running median — is kept out of the drum fit too.  Before, the toms and kick
#: templates took the bass's re-attacks (seed 0 at -6 dB: the bass in the drum stems
#: held 0.22-0.24 of the drums' energy, 0.12-0.18 in the toms stem alone) and the snare
#: template the guitar's.  Measured (scale-invariant SDR, the two seed-0 songs of
#: GMRockKit and BJA_Pacific at -6 dB, the first form: also in the masks, at every
#: level; docs/log/drums-full-song-decisions.md, sixth round): all drums 2.61 dB before, 3.83 up to
#: 258 Hz (the fit's single bins), 4.14 up to 650 Hz, 4.52 up to 2 kHz, 4.51 up to 3.7 kHz.
REATTACK_HZ = 2000.0
#: ... and only with loud music: the share of that excess taken out of the fit rises
#: from 0 to 1 over these :func:`energy_share` values (-6 dB drums-to-music songs
#: measure 0.50-0.60, 0-dB songs 0.35-0.52).  Applied at every level, it cost 0.16 / 0.5
#: dB of drums at 0 / +6 dB (seeds 0-2, SI-SDR; a kick on a held bass note loses its
#: peak bins); from 0.42 on, two 0-dB songs (0.494, 0.515) lost 0.6-0.7 dB.  With it, at
#: -6 dB on seeds 0-2 (SI-SDR): all drums 2.84 → 3.44, mean3 -4.46 → -1.37,
#: accompaniment 9.53 → 10.01 (BSS Eval SDR on seed 0 in the docs, "12-01b").
#: From 0.45 (tenth round, seeds 0-8: some -6-dB songs measure 0.455-0.49 and got none
#: of it): all drums at -6 dB 4.21 → 4.36 dB (SI-SDR, 18 songs; with :data:`HIT_ENERGY`
#: 4.45), at 0 dB 7.56 → 7.48 (two seed-1 songs at 0.489 / 0.515; 7.64 with
#: :data:`HIT_ENERGY`); 0.47-0.52: 4.39 / 7.67 with it.
REATTACK_ENERGY = (0.45, 0.50)
#: An attack counts at most this many times the sustained part's own peak (its height
#: over the frequency median): a loud hit on a quiet held note keeps the rest.
REATTACK_CAP = 2.0

#: Per-hit level of these drums in the masks (:func:`attack_gains`): their hits are fitted
#: to what rises above the sustained part, so a hit on a loud sustained level (a kick on a
#: bass note, a snare in a busy fill) is modelled too quiet, and its body and decay went
#: to the accompaniment.  Measured (scale-invariant SDR, the six seed 0-2 songs of
#: GMRockKit and BJA_Pacific, docs/log/drums-full-song-decisions.md, eighth round), first at every
#: level: all drums 3.57 → 3.82 / 7.05 → 7.21 / 10.60 → 10.68 dB at -6 / 0 / +6 dB
#: drums-to-music (kick alone 3.73 at -6 dB, snare alone 3.64; with the toms 3.71: the
#: toms templates hold the bass on seed 0, and louder toms hits took more of it).  Used
#: only with loud music (:func:`hit_share`): at every level the staccato-bass test
#: song kept 0.676 of its bass and chords in the accompaniment (its floor 0.70).  The kept
#: form (with :data:`ATTACK_FULL` and the kick's tail): -6 dB 3.57 → 3.86 dB, BSS Eval SDR
#: on seed 0 4.80 → 4.96 dB, held out (seeds 5-6) 3.8 → 4.0 dB.
ATTACK_CLASSES = ("kick", "snare")
#: The level before a hit: the smallest band magnitude of this many frames before it
#: (2: 3.82, 3: 3.81, 4: 3.80 dB of all drums at -6 dB, as above; kick and snare at 1 frame
#: not measured — the kick alone 3.67 / 3.73 / 3.76 at 1 / 2 / 4 frames).
ATTACK_LAG = 2
#: A hit is made at most this many times louder (2: 3.71, 4: 3.73, 8: 3.73 dB, the kick
#: alone as above).
ATTACK_MAX_GAIN = 4.0
#: The correction is for a part's real hits, its larger activations: it grows with the
#: activation, in full from this share of the part's largest one on (:func:`hit_weights`).
#: Small activations are often another instrument the template took: without this, a loud
#: staccato bass (tests/test_drums_full_song.py, music 9.5 dB above the drums) put 0.080
#: of itself into the drum stems instead of 0.065 (with it 0.074; -6 dB as above 3.86 dB
#: either way; a hard gate at 0.25 of the largest 0.075 and 3.86, at 0.5 0.069 and 3.75).
ATTACK_FULL = 0.5
#: In song mode the masks continue these templates past their last frame by
#: :data:`TAIL_FRAMES`, decaying at each bin's ratio of the last two frames, at most
#: :data:`TAIL_RATIO` (:func:`nmfaudio.drums.templates.continue_decay`): the bundled kick
#: is 8 frames (0.19 s); a kick ringing longer lost its decay to the accompaniment.
#: Measured on top of :func:`attack_gains` (as above): all drums 3.82 → 3.87 / 7.21 →
#: 7.26 / 10.68 → 10.81 dB at -6 / 0 / +6 dB (4 frames 3.86, 16 frames 3.87; ratio 0.7
#: 3.86, 0.9 3.87; kick and snare 3.86, the snare's own tail losing on seed 2).  The
#: snare too since the thirty-first round of docs/log/drums-full-song-decisions.md: with the drums 6 dB
#: above the music its body rings under the 2-s sustained level at 250 Hz-1 kHz and went
#: to the accompaniment (the largest drum leak there); the 42 tuning songs (BSS Eval,
#: all drums / accompaniment) 12.18 / 4.25 → 12.22 / 4.32 at +6 dB, 8.61 / 7.73 → 8.61 /
#: 7.76 at 0 dB, 5.75 / 11.45 → 5.75 / 11.45 at -6 dB.  The toms too since the
#: fortieth round (branch acc8): with loud drums their bodies ring at 60-250 Hz under the
#: 2-s sustained level, the largest cell of the drums left in the accompaniment (2.4 % of
#: the music's energy over-assigned to it on the 42 tuning songs at +6 dB); signal-to-error
#: ratio of the accompaniment there 5.576 → 5.594 (14 songs gain, none loses), electronic
#: tuning 5.827 → 5.845; BSS Eval in docs/log/drums-full-song-decisions.md.
TAIL_CLASSES = ("kick", "snare", "toms")
TAIL_FRAMES = 8
TAIL_RATIO = 0.8
#: In song mode, below :data:`CLEAN_HZ`, the masks' :data:`TAIL_CLASSES` templates decay
#: from their peak frame no faster than this ratio per frame
#: (:func:`nmfaudio.drums.templates.floor_decay`; in every song, as the tail, since the
#: thirtieth round of docs/log/drums-full-song-decisions.md — with loud music only before): the fit
#: sees only what rises above the sustained part, so the kick's fitted template decays far
#: faster than the kick (seed 6 GMRockKit at -6 dB below 60 Hz, 1-5 frames after the peak:
#: template 0.47 0.31 0.14 0.10 0.03, the true kick 0.94 0.74 0.58 0.47 0.39).  Measured
#: (the 18 songs of seeds 0-8 at -6 dB, all drums, SI-SDR / BSS Eval; docs/log/drums-full-song-decisions.md,
#: thirteenth round): 4.62 → 4.84 / 5.40 → 5.74 dB, every seed gaining (seeds 5-6 BSS Eval
#: 4.69 → 5.12); 0.6 / 0.8 / 0.85: 4.69 / 4.89 / 4.90, 5.51 / 5.82 / 5.87 but seed 4 (the
#: bass on the kick) 5.21 → 5.20 / 5.02; below 80 Hz (0.75) 4.64 / 5.53 (seed 4 3.86: the
#: bass); in every bin (0.75 / 0.6) 4.26 / 4.41.  A song whose own kick decays clearly
#: slower (a drum machine's long kick) gets its own ratio instead
#: (:mod:`nmfaudio.drums.kick_decay`; docs/log/drums-full-song-decisions.md, "The kick's own decay").
TAIL_FLOOR_RATIO = 0.75
#: The templates that get :data:`TAIL_FLOOR_RATIO`'s floor: the kick's (a floor on the
#: snare's bins below 1 kHz, 0.75 / 0.6 per frame, cost the 42 tuning songs at +6 dB 0.20
#: / 0.10 dB of accompaniment: thirty-first round).
FLOOR_CLASSES = ("kick",)
#: With loud music, below this frequency (Hz) the masks' sustained part is at least a
#: *short* running median (:data:`NOTE_SECONDS`) of what the fitted drum model leaves of
#: the band magnitude (:func:`note_onsets_sustained`): a bass note shorter than half the
#: 0.7-s window at a pitch not held around it never shows up in that median, and the toms
#: and kick templates took it (seed 0 at -6 dB: the bass held 0.11-0.15 of the drums'
#: energy in the drum stems, 0.07 in the toms stem).  With the drum model subtracted, the
#: short median skips the kick and tom hits; without it (0.4 s, 250 Hz) seeds 1-2 lost
#: 0.12 dB.  Measured (scale-invariant SDR, the six seed 0-2 songs at -6 dB, all drums;
#: docs/log/drums-full-song-decisions.md, ninth round): 3.86 → 4.25 dB, no song losing (seed 0
#: 4.16 / 4.52 → 5.17 / 5.61); 0.4 s 4.16, 0.2 s 4.26 (a seed-2 song losing); up to
#: 350 Hz 4.16 (0.4 s).  2000 Hz since the fifty-sixth round (docs/log/drums-full-song-decisions.md,
#: song54): the chords' and leads' notes that start with a snare or kick hit (on the beat)
#: are in no running median at their onset either, and the snare and kick stems took them
#: at 250 Hz-2 kHz (acoustic tuning songs at -6 dB: music in the snare stem 3.7 → 3.2 %
#: of the drums' energy, in the kick stem 4.7 → 4.4).  Measured (BSS Eval SDR of all
#: drums, the 24 acoustic / 24 electronic tuning songs): -6 dB 6.287 → 6.457 / 5.335 →
#: 5.447, 0 dB 9.222 → 9.272 / 8.126 → 8.155, +6 dB unchanged (no short notes there
#: until the songacc56 round);
#: one song losing more than 0.02 dB (BJA_Pacific 4 at -6 dB, -0.05); 1000 Hz 6.413 /
#: 5.439, 4000 Hz 6.467 / 5.448 at -6 dB.
NOTE_HZ = 2000.0
NOTE_SECONDS = 0.3
#: ... on every this many frames (the 0.7-s median's :data:`DECIMATION` is too coarse for
#: note onsets).
NOTE_STEP = 2
#: With loud music, below this frequency (Hz) the masks' sustained part is at most the
#: running median (the sustained part's length) of what the fitted drum model leaves,
#: ``max(V − drum model, 0)`` (:func:`note_onsets_sustained`): there, a kick on most beats
#: is the "sustained" level itself, and the masks gave its body and decay to the
#: accompaniment (seed 6 at -6 dB: the GMRockKit kick lost 0.108 of the drums' energy,
#: 86 % of it below 60 Hz, 3-16 frames after its hits, where the kick is louder than the
#: music).  Measured (scale-invariant SDR, the 18 songs of seeds 0-8, all drums;
#: docs/log/drums-full-song-decisions.md, eleventh round): 4.45 → 4.51 / 7.64 → 7.68 / 11.48 → 11.49 dB
#: at -6 / 0 / +6 dB, no seed losing (the kick 6.73 → 6.89 at -6 dB); tried on another
#: form of the code, 50 / 70 / 90 / 130 Hz gave -0.02 / 0 / -0.02 / 0 dB against 60 Hz
#: (130 Hz: seeds 0 and 6 lose, the bass), and from 250 Hz or in every band it lost.
CLEAN_HZ = 60.0
#: With loud music, below :data:`NOTE_HZ` the masks' sustained part in each frame is at
#: least the level that what the fitted drum model leaves holds over the next this many
#: seconds (their minimum; :func:`note_onsets_sustained`'s ``ahead``; 4 frames at 44.1 kHz
#: with the default hop of 1024): a bass note that starts with a kick is in no running
#: median during its attack (the medians hold the level before), so its first frame went
#: to the kick stem (seed 6 GMRockKit at -6 dB: 40 % of the bass in the kick stem), and a
#: note's first frames without a kick to the toms stem.  What moved (seed 6 at -6 dB,
#: shares of the drums' energy, GMRockKit / BJA_Pacific): the bass in the toms stem 0.038
#: / 0.042 → 0.033 / 0.039, in the kick stem only 0.046 / 0.075 → 0.044 / 0.072 (at a
#: hit the kick's model still outweighs the note's weighted level).
#: Measured (scale-invariant SDR, the 18 songs of seeds 0-8, all drums;
#: docs/log/drums-full-song-decisions.md, twelfth round): 4.51 → 4.58 / 7.68 → 7.70 / 11.49 → 11.48 dB
#: at -6 / 0 / +6 dB, no seed losing more than 0.01 dB; over the next 1 / 2 / 3 / 5
#: frames 4.37 / 4.51 / 4.57 / 4.57, 70 % of the level 4.54, only at frames where the
#: low bands' drum model rises (a hit) 4.53.
NOTE_AHEAD_SECONDS = 0.09
#: With loud music the toms are left out of the masks at the kick's large hits: frames
#: where the kick's fitted activation (parts and channels summed) reaches this share of its
#: largest, within :data:`KICK_HIT_REACH` frames (:func:`kick_hit_frames`).  A bass note
#: that starts with the kick is in no running median during its attack, and the kick
#: template cannot explain its harmonics: the toms templates took it (seed 6 GMRockKit at
#: -6 dB: the song's largest toms activation is such a note, 20 times the real tom hits').
#: Measured (the 18 songs of seeds 0-8 at -6 dB, all drums, scale-invariant SDR / BSS Eval;
#: docs/log/drums-full-song-decisions.md, thirteenth round): 4.58 → 4.62 / 5.34 → 5.40 dB, toms -4.05 →
#: -3.75, no seed losing more than 0.01 dB; from 0.25 of the largest 4.62 / 5.41 but seed
#: 7's tom fills over the kick lost 0.07 dB BSS Eval; the toms at 0.3 instead of 0: 4.62 / 5.40.
KICK_HIT_LEVEL = 0.5
#: Frames either side of a kick hit that count as the hit (the bass note may start a
#: frame off the kick's onset; 0: 4.60 / 5.38 dB with 0.25 of the largest).
KICK_HIT_REACH = 1
#: The masks' hit levels, the kick's tail and the short notes (:func:`attack_gains`,
#: :data:`TAIL_CLASSES`, :func:`note_onsets_sustained`; since the thirtieth round the tail
#: and since the songacc56 round the short notes are in every song, loud drums too,
#: docs/log/drums-full-song-decisions.md) are used with a share rising from
#: 0 to 1 over these :func:`energy_share` values (:func:`hit_share`): from where the
#: running median stopped lengthening when this was chosen (0.40; since 12-02
#: :data:`SUSTAIN_ENERGY` ends at 0.45, so over 0.40-0.45 both ramps move), under the
#: re-attacks' :data:`REATTACK_ENERGY`.  At every level they gained on the benchmark
#: (SI-SDR, seeds 0-8, 18 songs per ratio: all drums 4.21 → 4.28 / 7.56 → 7.83 / 11.47 →
#: 11.84 dB at -6 / 0 / +6 dB) but the staccato-bass test song (energy share 0.26) lost
#: its bass to the drum stems (eighth round); with the re-attacks' level (0.50-0.55,
#: before the tenth round) the -6-dB songs under 0.50 and the 0-dB songs got none of it.
#: From 0.40 (with the re-attacks from 0.45): 4.21 → 4.45 / 7.56 → 7.64 / 11.47 → 11.48
#: dB; from 0.35: 4.45 / 7.71 / 11.49 (closer to the test song and to the +6-dB songs,
#: 0.16-0.43).
HIT_ENERGY = (0.40, 0.45)

MODES = ("auto", True, False)


def accompaniment_mode(value):
    """Check ``accompaniment=``: "auto", True or False (also "on" / "off")."""
    return check_switch(value, "accompaniment", auto=True,
                        meaning="True: the recording is a full song, False: drums only")


def median_frames(sr: float, hop_length: int, seconds: float | None = None) -> int:
    """The running median's length in frames (odd, >= 3) for ``seconds`` (default
    :data:`SUSTAIN_SECONDS`)."""
    frames = int(round((SUSTAIN_SECONDS if seconds is None else seconds) * sr / hop_length))
    return max(3, frames | 1)


def sustain_seconds(energy: float) -> float:
    """The running median's length (s) for a song whose 0.7-s sustained part has this
    :func:`energy_share` (piecewise linear through :data:`SUSTAIN_ENERGY` →
    :data:`SUSTAIN_LEVEL_SECONDS`, constant outside)."""
    return float(np.interp(energy, SUSTAIN_ENERGY, SUSTAIN_LEVEL_SECONDS))


def reattack_share(energy: float) -> float:
    """The share of :func:`reattack_part` kept out of the drum fit for a song whose 0.7-s
    sustained part has this :func:`energy_share`: 0 up to ``REATTACK_ENERGY[0]``, 1
    from ``REATTACK_ENERGY[1]`` on, linear between."""
    return float(np.interp(energy, REATTACK_ENERGY, (0.0, 1.0)))


def hit_share(energy: float) -> float:
    """How much of the masks' hit levels, kick tail and short notes a song whose 0.7-s
    sustained part has this :func:`energy_share` gets: 0 up to ``HIT_ENERGY[0]``, 1 from
    ``HIT_ENERGY[1]`` on, linear between."""
    return float(np.interp(energy, HIT_ENERGY, (0.0, 1.0)))


def reattack_part(band_magnitude, band_sustained, band_hz, *, cap: float = REATTACK_CAP) -> np.ndarray:
    """The re-attacks of sustained notes in the bands below :data:`REATTACK_HZ`: the excess
    over the sustained part that forms a spectral peak where the sustained part has one,
    ``min(peak(max(V − S, 0)), cap · peak(S))`` with ``peak(x) = max(x − median over 5
    bands, 0)`` (5 as :data:`PEAK_BINS`, but fixed: :func:`_median5`; single bins below
    258 Hz in the drum fit's bands, 54 Hz; 1/12-octave bands above, 5 semitones).

    Why: a note struck again at the pitch it holds (a bass line on the root, strummed
    chords) rises above the running median at its partials' bins for its attack; that
    excess is not sustained, so the drum fit got it and the toms, kick and snare
    templates took it.  A drum hit's excess is smooth across neighbouring bands (its
    frequency median explains it) or peaks at its own pitch, where a held note rarely
    has a peak; where both meet, ``cap`` keeps all but that many times the note's own
    peak for the drum.

    Parameters
    ----------
    band_magnitude, band_sustained : ndarray, shape (n_bands, n_frames) or (n_bands, n_channels, n_frames)
        Band magnitude and its :func:`sustained_part`, bands by increasing frequency.
    band_hz : ndarray, shape (n_bands,)
        Lowest frequency of each band (Hz).
    cap : float >= 0

    Returns
    -------
    ndarray, shape (n_low, ...) and dtype of ``band_magnitude``
        The part for the ``n_low`` bands below :data:`REATTACK_HZ` (the first ones).
    """
    n_low = int(np.sum(np.asarray(band_hz) < REATTACK_HZ))
    magnitude, sustained = np.asarray(band_magnitude)[:n_low], np.asarray(band_sustained)[:n_low]
    excess = np.maximum(magnitude - sustained, 0)
    held_peak = np.maximum(sustained - _median5(sustained), 0)
    excess_peak = np.maximum(excess - _median5(excess), 0)
    return np.minimum(excess_peak, np.asarray(cap, magnitude.dtype) * held_peak)


def attack_gains(band_magnitude, drum_model, part_models, *, lag: int = ATTACK_LAG,
                 max_gain: float = ATTACK_MAX_GAIN) -> np.ndarray:
    """Per frame, how much louder each drum part's hits are in the whole spectrogram than
    in the drum fit: the rise of the band magnitude over its level just before,
    ``max(V − min(V[t − lag … t − 1]), 0)``, shared among the drums by their fitted
    models, over the part's own model, summed over the bands and clipped to
    ``[1, max_gain]``.

    Why: in song mode the drums are fitted to what lies above the sustained part, so a
    hit on a loud sustained level (a kick on a bass note, a snare in a busy fill, where the
    running median holds the drums' own level) gets an activation that explains only its
    excess; its template's body and decay are then modelled too quiet, and the masks give
    them to the accompaniment.  The rise over the preceding frames is the hit's own level
    whatever lies under it (the music, the previous hit's decay), so the whole hit (the
    activation times the full template) is scaled to it.  Never below 1: a part the fit
    already makes loud enough keeps its level.

    Parameters
    ----------
    band_magnitude : ndarray, shape (n_bands, n_frames)
        The band magnitude before the sustained part was taken out (channels summed).
    drum_model : ndarray, shape (n_bands, n_frames)
        The fitted model of all drums (the same scale as ``band_magnitude``).
    part_models : ndarray, shape (n_parts, n_bands, n_frames)
        The fitted models of the parts to scale (included in ``drum_model``).
    lag : int >= 1
    max_gain : float >= 1

    Returns
    -------
    ndarray, shape (n_parts, n_frames), float32, values in [1, max_gain]
        The factor for each part's activation in each frame.

    Raises
    ------
    ValueError
        For ``lag`` < 1, ``max_gain`` < 1, or shapes that do not match.
    """
    lag = check_int(lag, "lag", 1)
    max_gain = check_number(max_gain, "max_gain", minimum=1)
    V = np.asarray(band_magnitude, dtype=np.float32)
    drum_model = np.asarray(drum_model, dtype=np.float32)
    part_models = np.asarray(part_models, dtype=np.float32)
    if V.ndim != 2 or drum_model.shape != V.shape or part_models.ndim != 3 or part_models.shape[1:] != V.shape:
        raise ValueError(f"band_magnitude {V.shape} and drum_model {drum_model.shape} must have the same "
                         f"shape (n_bands, n_frames), part_models {part_models.shape} (n_parts, n_bands, n_frames)")
    floor = V.copy()
    for shift in range(1, min(int(lag), V.shape[1] - 1) + 1):  # the frames before, the first one repeated
        np.minimum(floor[:, shift:], V[:, :-shift], out=floor[:, shift:])
        np.minimum(floor[:, :shift], V[:, :1], out=floor[:, :shift])
    rise = V - floor  # >= 0: the floor includes V itself
    # rise per unit of model, then each part's share of it over the part's own model
    shared = np.divide(rise, drum_model, out=np.zeros_like(rise), where=drum_model > 0)
    own = part_models.sum(axis=1)
    gains = np.divide(np.sum(part_models * shared, axis=1), own, out=np.ones_like(own), where=own > 0)
    return np.clip(gains, 1.0, max_gain).astype(np.float32)


def hit_weights(activations, *, full: float = ATTACK_FULL) -> np.ndarray:
    """How much of :func:`attack_gains`' correction each frame of each part gets:
    ``min(1, h / (full · max h))`` per part (row), 0 for a part that never plays.

    Parameters
    ----------
    activations : ndarray, shape (n_parts, n_frames), non-negative
    full : float in (0, 1]

    Returns
    -------
    ndarray, shape (n_parts, n_frames), float32, values in [0, 1]

    Raises
    ------
    ValueError
        For ``full`` outside (0, 1] or activations that are not 2-D.
    """
    full = check_number(full, "full", minimum=0, strict=True, maximum=1, expected="a number in (0, 1]")
    h = np.asarray(activations, dtype=np.float32)
    if h.ndim != 2:
        raise ValueError(f"activations must have shape (n_parts, n_frames), got {h.shape}")
    top = h.max(axis=1, keepdims=True) * np.float32(full) if h.size else np.zeros((h.shape[0], 1), np.float32)
    return np.minimum(np.divide(h, top, out=np.zeros_like(h), where=top > 0), 1)


def kick_hit_frames(kick_activation, *, level: float = KICK_HIT_LEVEL, reach: int = KICK_HIT_REACH) -> np.ndarray:
    """The frames of the kick's large hits: 1 where the kick's activation within ``reach``
    frames reaches ``level`` times its largest, else 0 (all 0 for a kick that never plays).

    Why: with loud music the toms are left out of the masks there (the song mode's
    :func:`~nmfaudio.drums.separation.separate_drums`).  A bass note that starts with the kick is
    in no running median during its attack and the kick template cannot explain its
    harmonics, so the toms templates took it: the toms stem held bass notes where no tom
    plays.  Real toms struck with a loud kick lose their hit there (see
    docs/drums-full-song.md, Limits).

    Parameters
    ----------
    kick_activation : ndarray, shape (n_frames,), non-negative
        The kick's fitted activation (its parts and channels summed).
    level : float in (0, 1]
    reach : int >= 0

    Returns
    -------
    ndarray, shape (n_frames,), float32, values 0 or 1

    Raises
    ------
    ValueError
        For ``level`` outside (0, 1], ``reach`` < 0 or an activation that is not 1-D.
    """
    from scipy.ndimage import maximum_filter1d

    level = check_number(level, "level", minimum=0, strict=True, maximum=1, expected="a number in (0, 1]")
    reach = check_int(reach, "reach", 0)
    h = np.asarray(kick_activation, dtype=np.float32)
    if h.ndim != 1:
        raise ValueError(f"kick_activation must have shape (n_frames,), got {h.shape}")
    top = float(h.max()) if h.size else 0.0
    if top <= 0:
        return np.zeros(h.shape, np.float32)
    near = maximum_filter1d(h, size=2 * reach + 1, mode="nearest")  # the largest within reach
    return (near >= np.float32(level) * np.float32(top)).astype(np.float32)


def note_onsets_sustained(band_magnitude, band_sustained, drum_model, band_hz, *, frames: int,
                          step: int = NOTE_STEP, clean_frames: int | None = None, ahead: int = 0) -> np.ndarray:
    """The sustained part for the masks (every song; with loud music only before the
    songacc56 round, docs/log/drums-full-song-decisions.md): below :data:`NOTE_HZ` at least
    the running median over ``frames`` (short: :data:`NOTE_SECONDS`) of
    ``max(V − drum model, 0)``, so a bass note gets its level from its first frames, and
    at least the minimum of the same over the next ``ahead`` frames (at most ``V``), so
    a note starting with a kick gets its attack frame; and below :data:`CLEAN_HZ` first
    at most the running median over ``clean_frames`` (the sustained part's length) of
    the same, so a kick's body is not "sustained".

    Why: a bass note shorter than half the 0.7-s window, at a pitch not held around it,
    never shows up in that median; it stood above the sustained part, and the toms and
    kick templates took it.  The drum model is subtracted first so that the short median
    does not hold the kick and tom hits themselves (a tom ringing for half its window).
    Below :data:`CLEAN_HZ` a kick on most beats is the band's median itself, and its body
    and decay went to the accompaniment.  A note that starts with a kick is in neither
    median during its attack (both hold the level before), and the kick stem took its
    first frame; the frames after the hit, with the drum model subtracted, hold it.

    Parameters
    ----------
    band_magnitude, band_sustained : ndarray, shape (n_bands, n_channels, n_frames)
        Band magnitude and its :func:`sustained_part`.
    drum_model : ndarray, shape (n_low, n_channels, n_frames)
        The fitted drums' band model, at least of the ``n_low`` bands below :data:`NOTE_HZ`
        (more rows are ignored).
    band_hz : ndarray, shape (n_bands,)
        Lowest frequency of each band (Hz), increasing.
    frames : int >= 1
        Length of the short median in frames.
    step : int >= 1
        Time decimation of the short median.
    clean_frames : int >= 1, optional
        Length of the median below :data:`CLEAN_HZ` (on every :data:`DECIMATION`-th frame);
        None: that step is skipped.
    ahead : int >= 0
        How many following frames give a frame their level (:data:`NOTE_AHEAD_SECONDS`);
        0: that step is skipped.

    Returns
    -------
    ndarray, the shape of ``band_sustained``, float32
        A new array; bands from :data:`NOTE_HZ` on are ``band_sustained``'s.
    """
    out = np.array(band_sustained, dtype=np.float32)
    n_low = int(np.sum(np.asarray(band_hz) < NOTE_HZ))
    if n_low == 0:
        return out
    left = np.maximum(np.asarray(band_magnitude)[:n_low] - np.asarray(drum_model)[:n_low], 0)
    n_clean = int(np.sum(np.asarray(band_hz)[:n_low] < CLEAN_HZ)) if clean_frames is not None else 0
    if n_clean:  # the kick's band: the median of what the drums leave, not of the drums
        np.minimum(out[:n_clean], sustained_part(left[:n_clean], frames=clean_frames), out=out[:n_clean])
    np.maximum(out[:n_low], sustained_part(left, frames=frames, step=step), out=out[:n_low])
    if ahead > 0:  # the level the next frames hold: a note that starts here
        np.maximum(out[:n_low], np.minimum(_ahead_min(left, int(ahead)), np.asarray(band_magnitude)[:n_low]),
                   out=out[:n_low])
    return out


def _ahead_min(x, k: int) -> np.ndarray:
    """Per frame ``t`` the minimum of ``x[..., t + 1 … t + k]`` (last axis; the last
    frame repeated past the end), a new array."""
    from scipy.ndimage import minimum_filter1d

    n = x.shape[-1]
    # the running minimum of x[s … s + k - 1] (origin shifts scipy's centred window), read at s = t + 1
    starting_here = minimum_filter1d(x, size=k, axis=-1, mode="nearest", origin=-(k // 2))
    return starting_here[..., np.minimum(np.arange(n) + 1, n - 1)]


def _median5(x) -> np.ndarray:
    """Running median over 5 entries of axis 0, edges repeated (``scipy.ndimage.median_filter``
    with ``size=(5, 1, ...)``, ``mode="nearest"``), by a comparison network: 5-15 ms of CPU
    instead of 60-110 ms per call on a 3-minute stereo song's 60 bands below 2 kHz
    (float32, 60 × 2 × 7752; Intel Xeon, idle, 2026-12-01; the spread is run to run)."""
    n = x.shape[0]
    padded = np.concatenate([x[:1], x[:1], x, x[-1:], x[-1:]]) if n else x
    a, b, c, d, e = (padded[i:i + n] for i in range(5))
    # of a..d the smallest and the largest cannot be the median of five: keep the middle two
    low, high = np.maximum(np.minimum(a, b), np.minimum(c, d)), np.minimum(np.maximum(a, b), np.maximum(c, d))
    # the median of five is the median of those two and e
    return np.maximum(np.minimum(low, high), np.minimum(np.maximum(low, high), e))


def high_band_factors(band_hz) -> tuple[np.ndarray, np.ndarray]:
    """Per band, the share of the sustained part taken out of the drum fit and its factor
    in the masks: 1 below :data:`HIGH_HZ`, :data:`HIGH_FIT` and :data:`HIGH_MASK` from it
    on.

    Parameters
    ----------
    band_hz : ndarray, shape (n_bands,)
        Lowest frequency of each band (Hz).

    Returns
    -------
    (fit, mask) : two float32 ndarrays of shape (n_bands,)
    """
    high = np.asarray(band_hz) >= HIGH_HZ
    fit = np.where(high, HIGH_FIT, 1.0).astype(np.float32)
    mask = np.where(high, HIGH_MASK, 1.0).astype(np.float32)
    return fit, mask


def sustained_part(band_magnitude, *, frames: int, step: int = DECIMATION) -> np.ndarray:
    """Running median over time of each frequency band (and channel), on every ``step``-th
    frame (the median of a 0.7-s window hardly changes from one 23-ms hop to the next;
    a full-rate median at full frequency resolution took minutes on a 3-minute song).

    Parameters
    ----------
    band_magnitude : ndarray, shape (n_bands, n_frames) or (n_bands, n_channels, n_frames)
        Band-compressed magnitude spectrogram, non-negative.  Never modified.
    frames : int >= 1
        Median length in frames of the full-rate spectrogram.
    step : int >= 1, default 4
        Time decimation of the median.

    Returns
    -------
    ndarray, the shape and dtype of ``band_magnitude``
        The sustained part (each value held for ``step`` frames; not clipped to the
        magnitude).
    """
    from scipy.ndimage import median_filter

    band_magnitude = np.asarray(band_magnitude)
    n_frames = band_magnitude.shape[-1]
    decimated = band_magnitude[..., ::step]
    size = (1,) * (band_magnitude.ndim - 1) + (max(1, (int(frames) // step) | 1),)
    # "reflect" at the ends: a song that starts with a chord is sustained from frame 0
    held = median_filter(decimated, size=size, mode="reflect")
    return np.repeat(held, step, axis=-1)[..., :n_frames]


def spread_to_bins(magnitude, band_magnitude, band_sustained, widths) -> np.ndarray:
    """The sustained part at full frequency resolution: each bin gets its band's sustained
    share of that frame, ``magnitude · S_band / V_band``.

    Parameters
    ----------
    magnitude : ndarray, shape (n_freq, ..., n_frames)
    band_magnitude, band_sustained : ndarray, shape (n_bands, ..., n_frames)
    widths : ndarray of int, shape (n_bands,), summing to n_freq

    Returns
    -------
    ndarray, the shape of ``magnitude``, float32
    """
    return (magnitude * np.repeat(_band_ratio(band_magnitude, band_sustained), widths, axis=0)).astype(np.float32)


def _band_ratio(band_magnitude, band_sustained) -> np.ndarray:
    """S_band / V_band where V_band > 0, else 0 (float32, the bands' shape): the share of
    each band that is sustained, for :func:`spread_to_bins` and :class:`SpreadSustained`."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(band_magnitude > 0, band_sustained / np.where(band_magnitude > 0, band_magnitude, 1), 0)
    return ratio.astype(np.float32)


def sustained_share(magnitude, sustained) -> float:
    """Share of the magnitude that the sustained part explains: Σ min(S, V) / Σ V, in [0, 1]
    (0 for silence).  Arrays as :func:`sustained_part`'s input and output."""
    total = float(np.sum(magnitude, dtype=np.float64))
    if total <= 0:
        return 0.0
    return float(np.sum(np.minimum(sustained, magnitude), dtype=np.float64)) / total


def decision_share(band_magnitude, sustained, band_hz) -> float:
    """:func:`sustained_share` over the bands below :data:`DECISION_HZ` (all bands if none
    is), reported as ``result.sustained_share`` (``accompaniment="auto"`` decided on it
    until it was found to overlap between drum performances and songs; it now decides on
    :func:`tonal_share`).

    Parameters
    ----------
    band_magnitude, sustained : ndarray, shape (n_bands, ...)
    band_hz : ndarray, shape (n_bands,)
        Lowest frequency of each band (Hz).
    """
    low = np.asarray(band_hz) < DECISION_HZ
    if not low.any():
        return sustained_share(band_magnitude, sustained)
    return sustained_share(band_magnitude[low], sustained[low])


def tonal_share(magnitude, *, sr: float, n_fft: int, hop_length: int, width: int | None = None,
                step: int = DECISION_STEP) -> float:
    """Share of the magnitude below :data:`DECISION_HZ` that stands in sustained *spectral
    peaks*: the running median over time at full frequency resolution (channels summed,
    every ``step``-th frame), minus its own running median over ``width`` bins, clipped
    at 0, summed and divided by the magnitude.  The value ``accompaniment="auto"``
    decides on (:data:`AUTO_TONAL`).

    Why: bass notes and chords hold narrow peaks at the same bins for many frames; the
    sustained part of a dense drum pattern (kick and tom decays, a 16th-note hi-hat in a
    0.7-s median) is a smooth, noisy spectrum that its frequency median explains.

    Parameters
    ----------
    magnitude : ndarray, shape (n_freq, n_frames) or (n_freq, n_channels, n_frames)
        Magnitude spectrogram at full resolution (``n_freq = n_fft // 2 + 1``).  Never
        modified.
    sr : float
        Sample rate (Hz).
    n_fft, hop_length : int
        The STFT's frame and hop (samples).
    width : int >= 1, optional
        Frequency median's width in bins; default :data:`PEAK_BINS`.
    step : int >= 1
        Time decimation (frames).

    Returns
    -------
    float in [0, 1] (0 for silence)
    """
    magnitude = np.asarray(magnitude)
    low = max(1, int(DECISION_HZ * n_fft / sr))
    peaks, total = 0.0, 0.0
    for start, stop in decision_spans(magnitude.shape[-1], sr=sr, hop_length=hop_length, step=step):
        span_peaks, span_total = tonal_sums(magnitude[:low, ..., start:stop], sr=sr, hop_length=hop_length,
                                            width=width, step=step)
        peaks, total = peaks + span_peaks, total + span_total
    return peaks / total if total > 0 else 0.0


def decision_spans(n_frames: int, *, sr: float, hop_length: int, step: int = DECISION_STEP) -> list[tuple[int, int]]:
    """The frame spans ``[start, stop)`` :func:`tonal_share` reads: the whole recording, or
    for a long one :data:`DECISION_EXCERPTS` equally spaced excerpts holding
    :data:`DECISION_SECONDS` in all (the running medians cost ~50 ms on a whole 3-minute
    song; block-wise separation computes only these frames)."""
    length = max(1, (median_frames(sr, hop_length) // step) | 1)
    excerpt = max(length, int(DECISION_SECONDS * sr / hop_length / DECISION_EXCERPTS))
    if n_frames <= excerpt * DECISION_EXCERPTS:
        return [(0, n_frames)]
    starts = np.linspace(0, n_frames - excerpt, DECISION_EXCERPTS).astype(int)
    return [(int(a), int(a) + excerpt) for a in starts]


def tonal_sums(frames, *, sr: float, hop_length: int, width: int | None = None,
               step: int = DECISION_STEP) -> tuple[float, float]:
    """``(peak magnitude, magnitude)`` of one span of :func:`tonal_share`: ``frames``,
    shape (n_low, n_frames) or (n_low, n_channels, n_frames), are its bins below
    :data:`DECISION_HZ` over the span's frames."""
    from scipy.ndimage import median_filter

    width = PEAK_BINS if width is None else int(width)
    length = max(1, (median_frames(sr, hop_length) // step) | 1)
    frames = frames[..., ::step]
    if frames.ndim == 3:
        frames = frames.sum(axis=1, dtype=np.float32)
    held = median_filter(frames, size=(1, length), mode="reflect")
    floor = median_filter(held, size=(width, 1), mode="reflect")
    return float(np.sum(np.maximum(held - floor, 0), dtype=np.float64)), float(np.sum(frames, dtype=np.float64))


def energy_share(magnitude, sustained) -> float:
    """Share of the energy that the sustained part explains: Σ min(S, V)² / Σ V², in [0, 1]
    (0 for silence).  The loud drum hits dominate the energy, so this follows the drums'
    level against the music more than :func:`sustained_share` does."""
    magnitude = np.asarray(magnitude, dtype=np.float64)
    total = float(np.sum(magnitude ** 2))
    if total <= 0:
        return 0.0
    return float(np.sum(np.minimum(sustained, magnitude) ** 2)) / total


def mask_weight(energy: float) -> float:
    """The sustained part's weight in the masks for an :func:`energy_share` (piecewise
    linear through :data:`WEIGHT_ENERGY` → :data:`WEIGHT`, constant outside)."""
    return float(np.interp(energy, WEIGHT_ENERGY, WEIGHT))


def use_accompaniment(mode, tonal: float) -> bool:
    """``mode`` (from :func:`accompaniment_mode`) made definite: "auto" means ``tonal >
    AUTO_TONAL`` (``tonal`` from :func:`tonal_share`)."""
    return tonal > AUTO_TONAL if mode == "auto" else bool(mode)


class SpreadSustained:
    """The weighted sustained part at full frequency resolution — ``weight ·``
    :func:`spread_to_bins` ``(magnitude, band_magnitude, band_sustained, widths)`` — made
    a few frames of one channel at a time, never whole.

    Why: for a 3-minute stereo 44.1 kHz song the whole array is 127 MB of float32; made
    at once (with the ``max(V − S, 0)`` the free templates' spread needs), it took
    0.85 s of one thread between the STFT and the fit.  Here the chunks are made by the
    resynthesis threads (:func:`nmfaudio.drums.resynthesis.masked_stems`) with the same
    float32 operations, so the values are bit-identical to the whole array's.

    Parameters
    ----------
    magnitude : ndarray, float32, shape (n_freq, n_channels, n_frames)
        Full-resolution magnitude; ``magnitude[:, c].T`` must be C-contiguous (the
        frame-major layout of ``np.abs`` of :func:`nmfaudio.spectrum.stft_frame_major`'s
        result, transposed).  Kept by reference, never modified.
    band_magnitude, band_sustained : ndarray, shape (n_bands, n_channels, n_frames)
    widths : ndarray of int, shape (n_bands,), summing to n_freq
    weight : float, default 1
        The accompaniment's weight in the masks (:func:`mask_weight`).
    """

    def __init__(self, magnitude, band_magnitude, band_sustained, widths, weight: float = 1.0):
        F, C, N = magnitude.shape
        if magnitude.dtype != np.float32 or any(not magnitude[:, c].T.flags.c_contiguous for c in range(C)):
            raise ValueError("magnitude must be float32 with each channel frame-major (magnitude[:, c].T "
                             "C-contiguous), as np.abs(stft_frame_major(y)).transpose(1, 0, 2) is")
        ratio = _band_ratio(band_magnitude, band_sustained)
        self.magnitude = magnitude
        self.shape = (F, C, N)
        self.widths = np.asarray(widths)
        self.weight = np.float32(weight)
        # per channel, frame-major (n_frames, n_bands): a stretch of frames is a block of rows
        self._ratio = [np.ascontiguousarray(ratio[:, c].T) for c in range(C)]

    def frames(self, channel: int, start: int, stop: int, out=None) -> np.ndarray:
        """Frames ``start:stop`` of one channel, frame-major: shape (stop − start, n_freq),
        float32 (written into ``out`` when given)."""
        out = self._unweighted(channel, start, stop, out)
        out *= self.weight
        return out

    def _unweighted(self, channel, start, stop, out=None) -> np.ndarray:
        """:meth:`frames` before the weight."""
        block = self.magnitude[:, channel, start:stop].T
        return np.multiply(block, np.repeat(self._ratio[channel][start:stop], self.widths, axis=1), out=out)

    def any(self) -> bool:
        """Whether the part is non-zero somewhere (a band's ratio is positive only where
        its magnitude is; a product underflowing to zero is not looked for)."""
        return bool(self.weight > 0) and any(bool(r.any()) for r in self._ratio)

    def remainder_mean(self, *, chunk: int = 256) -> np.ndarray:
        """Mean over channels and frames of ``max(magnitude − sustained, 0)`` (the
        sustained part unweighted: what the drums are fitted to, at full resolution),
        per bin, shape (n_freq,), float32; channels on the engine's threads."""
        F, C, N = self.shape
        sums = np.zeros((C, F), np.float32)

        def channel_sum(c):
            block = np.empty((chunk, F), np.float32)
            for t0 in range(0, N, chunk):
                t1 = min(t0 + chunk, N)
                part = self._unweighted(c, t0, t1, out=block[:t1 - t0])
                np.subtract(self.magnitude[:, c, t0:t1].T, part, out=part)
                np.maximum(part, 0, out=part)
                sums[c] += part.sum(axis=0)

        run_in_threads(channel_sum, C)
        return sums.sum(axis=0) / np.float32(C * N)
