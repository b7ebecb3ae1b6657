"""Drum hits from the separation's activations: onset picking (:func:`detect_hits`), each
class's defaults for it, and the checks on the separated tracks it makes.

Arrays in, :class:`~nmfaudio.drums.hit_results.DrumHits` out; nothing here prints.  The
rest of the transcription has a module each: the General MIDI notes and velocities
(:mod:`nmfaudio.drums.general_midi`), the result types (:mod:`nmfaudio.drums.hit_results`),
their MIDI and CSV files (:mod:`nmfaudio.drums.hit_files`), the tempo grid
(:mod:`nmfaudio.drums.tempo_grid`); the names of theirs listed in ``__all__`` below are
importable from here too, as before.

Onset picking (:func:`detect_hits`), per drum class (or sub-template) ``k``:

1. **Candidates**: the local maxima of the activation ``h_k`` (summed over channels;
   :func:`librosa.util.localmax`) that stand ``delta`` above its local level over
   ``±average_s``: the moving median, or ``mean_weight`` (3/4) × the moving mean where
   that is higher.  The median alone keeps a ghost note next to an accent (a mean —
   :func:`librosa.util.peak_pick`'s threshold — is raised by the accent and hid snare
   ghosts 0.2 s after it); the mean part rejects the kick's activation firing again
   ~0.14 s after each hit (its decay outlasts the template).  The 3/4 weight was chosen
   by measurement (docs/transcription.md, "How hits are picked"); ``delta`` and
   ``mean_weight`` can be set per class.  An activation of fewer than ``MIN_FRAMES``
   (2) frames — a recording shorter than one hop, 23 ms by default — has no frames for a
   peak to stand above, and gets no hits.
2. **Strength**: the activation's mass over the peak frame and its two neighbours (a hit
   that falls between two frames spreads over both), in the activation's units (the
   mixture's magnitude explained by that drum).  Peaks weaker than ``threshold_db``
   below the class's strongest hit are dropped (-36 dB for the snare and -30 dB for
   the hi-hat and a ride, whose ghost notes and quiet strokes sit 20-36 dB down; -12 dB
   for kicks, toms and crash-like cymbals, whose activations carry the other drums'
   leakage 12-30 dB under their own hits),
   and so are peaks ``silence_db`` (-60 dB) under the strongest hit of any class (a
   drum that does not play).  A crash-like cymbals class whose strongest peak is more
   than ``played_db`` (-26 dB) under the strongest peak of any class is taken as not
   played at all and loses every peak — checked here (so its peaks do not block the
   hi-hat's high-band onsets, step 7) and again on the hits steps 4-9 leave: in a
   groove without cymbals their activation holds the hi-hat's leakage (219 of 224 false
   cymbal hits of the tuning grooves sat on a hat stroke), 27-35 dB under the loudest
   drum, with peaks within 12 dB of its own maximum (so its own threshold keeps them);
   real crashes sat 0-26 dB under it.  A kit whose cymbals the separation barely keeps
   (rumpf_kit_z01_h2) has real ones under -26 dB too, and loses them
   (docs/log/transcription-decisions.md, cymbals round).  Any class with at most
   ``SPARSE_PLAYED_HITS`` (3) final hits, all more than ``SPARSE_PLAYED_DB`` (26 dB) under
   the loudest hit of any class, is taken as not played too (always on): in a sparse
   recording such a lone hit is another drum's leakage (a kick one-shot's hi-hat 36-57 dB
   under the kick), and velocities scaled per class would write it at 127.
3. **Cross-talk (bleed)**: a strong kick leaves a small bump in the snare's activation
   at the same frame.  For each ordered pair of classes ``j → k`` the recording's
   cross-talk ratio ``c_jk`` is *measured*: a low quantile (``crosstalk_quantile``) of
   ``h_k / h_j`` at ``j``'s strong peaks — low because ``k`` really plays together with
   ``j`` on some of them, but bleed is there at every one — capped at
   ``max_crosstalk``.  A candidate of ``k`` is bleed, and dropped, when a hit of ``j``
   within one frame is so strong that ``crosstalk_margin · c_jk · s_j`` exceeds it —
   only weak candidates (below ``bleed_below`` of the class's strongest hit) can be
   bleed, so a hi-hat that plays with every snare stroke keeps its hits.  Both are
   per class: toms and crash-like cymbals, which play few hits among many leakage
   peaks, test every candidate (``bleed_below`` 1; a ride keeps time, 0.2 as the
   hi-hat); kick and snare use a margin of 6,
   the others 3 (chosen on the tuning performances: docs/transcription.md).
   Ghost notes away from louder hits of other drums are never touched by this rule.
4. **Attack check** (when the separated tracks are given as ``signals``): a real hit
   makes the drum's track louder.  The track's energy in the ``rise_window_s`` after
   each instant near the peak is compared with the energy just before; a candidate
   whose best rise is below ``min_rise_db`` is the activation re-firing during a
   sustained sound (an open hi-hat's or a cymbal's ring), and is dropped.
   **A clear attack** (the snare by default): a peak that stands ``delta`` above the
   moving median but not above the mean part of step 1's level — a ghost note a
   sixteenth before or after an accent, whose mass raises the mean — is a candidate
   too, kept where the track rises ``clear_rise_db`` (6 dB): on the tuning
   performances those ghost notes rise 5-19 dB (5th-95th percentile), the other such
   peaks (the activation re-firing, leakage) 0-4 dB (75th percentile).  They go
   through the bleed test as candidates but are not taken as the class's hits there
   (docs/log/transcription-decisions.md, ghost-attack round).
5. **Minimum interval**: two hits of a class closer than its minimum inter-onset
   time (after re-timing) are one hit that peaked twice as it rang (a crash's
   activation peaks again 40-100 ms after its onset): the first time is kept, with
   the larger strength.
6. **Timing**: the instant of that best rise is the onset (sub-frame: steps of
   ``rise_step`` samples, from 1 hop before to 2 hops after the peak frame: the
   activation of a drum played with another one can peak a frame early; for crash-like
   cymbals from ``TIMING_BACK_HOPS`` (3) hops before: a crash's activation can peak 2-4
   frames after its onset where its first peak was dropped, and in songs their hits lay
   63-68 ms late; the attack check of step 4 still reads the usual span).  With the
   ``mixture``, the onset is where the track's rise plus the mixture's (in dB) is
   largest: when the attack went to another stem (a crash's to the hi-hat's) the
   track only swells, and the mixture still marks the onset.  Without
   ``signals``, the peak frame's time, refined by parabolic interpolation of the
   activation.
7. **High-band onsets** (with ``signals``; the hi-hat and a ride by default): the track's
   spectral flux above ``flux_fmin_hz`` (5 kHz), where the kick and the snare's body
   put little energy, marks the hat's attacks even where its activation shows no peak
   (a quiet hat under the kick).  Its onsets ``flux_delta`` above their local mean
   (:func:`librosa.onset.onset_detect`'s picking) are added as hits where no hit of
   the class is within 40 ms, no hit of the snare, toms or a ride's strokes (of another
   family than the class's) within 30 ms (their attacks leak into the hat's track; not
   a crash-like cymbals class's hits, most of which at a missed hat were the hat's own
   leakage into the cymbals' activation: docs/log/transcription-decisions.md, hat-recall round
   2026-12-04), and the activation is within -40 dB of its maximum; they are timed as
   in step 6.  The
   recording's (``mixture``'s) onsets in the same band, ``mix_flux_delta`` (0.1 for the
   hi-hat) above their local mean, are added the same way after them (but 80 ms clear
   of the class's hits: that flux peaks again as a loud hit rings, and a crash-like
   cymbals hit keeps them out too: its attack is always in the recording): a hat attack
   the separation gave another stem (the snare's, the cymbals', the residual) has no
   onset in the hat's track but one there (docs/log/transcription-decisions.md, hat-mixture round:
   mean F k/s/h of the 120 regular tuning grooves 0.9060 → 0.9099, kick/snare/hi-hat
   only 0.9548 → 0.9561; the ride-style ones 0.8389 → 0.8376, false hats at the strokes
   of rides that were not decided).  A ride's
   strokes (``"cymbals_ride"``) get their track's onsets 0.1 above the local mean
   added the same way.  The activation's hits with no flux onset
   ``flux_confirm`` above its local mean within 30 ms, in the track's band or (where
   the recording's band is used) the recording's, are dropped (the activation
   re-firing as an open hat rings, or another drum's body in the track; a hat whose
   attack the snare's stem took has its onset in the recording: docs/log/transcription-decisions.md,
   hat-recall round 2026-12-04).  Skipped
   (both the adding and the dropping) where ``flux_fmin_hz`` is at or above 95 % of
   the Nyquist frequency (5 kHz: sample rates up to ~10.5 kHz): the band is empty or
   holds only the resampler's roll-off, its flux would confirm no hit.
   **The hat's pulse** (7a; the hi-hat by default): a candidate of the class that the
   bleed test, the attack check or the high-band confirmation dropped comes back where
   the kept hits stand at one spacing (up to ``pulse_s``, 0.35 s) on both of its sides
   and the pulse goes on one more step each side
   (:func:`nmfaudio.drums.hat_pulse.on_pulse`): a 16th-note hat played with the kick
   or the snare, whose activation peak is as weak as that drum's leakage and whose
   attack that drum masks (docs/log/transcription-decisions.md, hat-pulse round: 27 real hats against
   2 false ones given back in the 60 regular tuning grooves, 38 against 0 in the
   kick/snare/hi-hat-only ones, none in the ride-style ones).  Timed as in step 6.
   **Weak cymbal peaks at the hat's hits** (7b; with ``signals`` and ``mixture``,
   crash-like cymbals by default): where no ride was decided, a ride's strokes stay in
   the hat's stem, and the cymbals' activation holds them 12-30 dB under the crashes,
   under the class's threshold, among the hats' leakage.  A peak there (down to -30 dB,
   steps 4 and 6 applied, not the bleed test) becomes a hit where a hi-hat hit lies
   within 30 ms (not one of step 7's from the recording's band, which a crash's attack
   gives too), no hit of the class (or a ride's stroke) within its minimum interval,
   and the class's track holds at least ``weak_share_db`` (-4 dB) of the recording's
   energy above 4 kHz in the 1024 samples from its onset: a hat's leakage leaves the
   band to the hat's track.  These peaks block no hat onset (step 7).
8. **Share** (with ``signals`` and ``mixture``; snare, toms and cymbals): a drum that
   plays little or not at all has an activation made of the others' leakage, with
   peaks that stand out relative to itself.  A hit is kept only where the class's
   track holds at least ``min_share_db`` of the recording's energy from the onset on
   (-20 dB; over the whole band in the 1024 samples from the onset, for cymbals above
   4 kHz and the larger of 1024 and 4096 samples — their attack may have gone to
   another stem).  Where 4 kHz is at or above 95 % of the Nyquist frequency (sample
   rates up to ~8.4 kHz) the cymbals' share is measured over the whole band.
   **The residual's share** (with ``signals`` and ``residual``, the separation's
   residual track; the snare by default): a weak hit (under ``bleed_below`` of the
   class's strongest) is dropped where the residual holds more than ``max_residual_db``
   (-3 dB) of the class's track's energy in the same 1024 samples — what the
   separation gave to no drum (percussion, an open hat's low band) sounding there, of
   which the track holds only a part (mostly a shaker with an open hat: 212 → 177
   false snare hits on the regular tuning performances, 2 real ones lost; a conga the
   separation put wholly in the snare's stem is not caught: docs/log/transcription-decisions.md,
   percussion round).  Only in drum recordings with every drum class a stem:
   ``DrumSeparation.hits`` passes no residual in a song, where it is the music, nor with
   a drum class not asked for, which went to the residual (a kick or hats there drop the
   real snare hits played with them: ``DrumSeparation.residual_checks_hits``).
   **The timbre** (with ``signals``; the snare by default): a hit whose body's spectrum
   (80-2000 Hz, the 2048 samples from its onset) has a cosine similarity under
   ``min_timbre`` (0.9) to the median of the class's strongest hits' (the strongest
   quarter, at least 8 of them, never judged themselves; the strongest 3 where the class
   has at most 8 hits, a short loop: the short-loops round) is another sound the
   separation put in the stem — a conga, struck alone or with a ride stroke, which the
   snare's stem holds whole (:mod:`nmfaudio.drums.hit_timbre`; docs/log/transcription-decisions.md,
   the snare-timbre round: false snare hits on the regular tuning performances 281 → 189, 110 →
   56 of them at a conga; real ones 1476 → 1465).
   **The ring** (with ``signals``; crash-like cymbals by default): a hit under
   ``RING_BELOW`` (0.5) of the class's strongest whose track's quietest 20 ms above 4 kHz,
   0.1-0.3 s after its onset, lies more than ``min_ring_db`` (-12 dB) under the onset's
   60 ms is the hat's leakage at a hat stroke, a burst that stopped, not a crash ringing
   on (:mod:`nmfaudio.drums.cymbal_decay`; docs/log/transcription-decisions.md, the cymbal-ring round).
   Where the class has ``RING_MAX_RATE`` (1) hits a second or more (a ride no cue found,
   picked as "cymbals", whose wash the hat's stem holds) the bar is ``FAST_RING_DB`` (-28
   dB) instead: there the hat's leakage at every hat stroke of a groove without cymbals
   stops dead (docs/log/transcription-decisions.md, stray cymbals round).  Not judged: step 7b's weak peaks;
   nor at rates up to 8.4 kHz, whose band above 4 kHz is empty or a bin or two.
   **The crash's ring** (with ``signals``; crash-like cymbals by default; after the minimum
   interval): a hit within ``RING_WITHIN_S`` (0.5 s) after a hit ``RING_STRONGER`` (1.5)
   times as strong that rose ``RING_STRUCK_DB`` (12 dB) or more above the track's last
   0.19 s (above 4 kHz: a crash struck out of the groove), which itself rises at most
   ``ring_rise_db`` (6 dB) above it, is dropped: a hat stroke's leakage peaking on the
   crash's ring, which the valley above reads as the crash's wash
   (:func:`nmfaudio.drums.cymbal_decay.in_ring`; docs/log/transcription-decisions.md, the cymbals'
   precision round).  Not step 7b's weak peaks.
   **The hat's burst** (with ``signals``; crash-like cymbals by default; on the final hits
   of every class): a hit at a hi-hat hit (within 30 ms) where the class's activation is
   at least ``BURST_RATIO`` (1) times the hi-hat's, whose valley (the ring's, above) lies
   under ``burst_ring_db`` (-20 dB) and which rose less than ``RING_STRUCK_DB`` above its
   track's last 0.19 s, is dropped whatever its strength or the class's rate: the hat's
   stroke that the cymbals' templates explain, no crash struck nor ringing
   (:func:`nmfaudio.drums.cymbal_decay.hat_bursts`; docs/log/transcription-decisions.md, the cymbal
   phantoms round).  Not step 7b's weak peaks.  A hit near the recording's end has its
   valley read on the stretches that fit; under 0.12 s before the end none does, and a hit
   there at a hi-hat hit under ``END_WEAK`` (0.5) of the class's strongest is dropped
   with the bursts (a clip cut just after a hat stroke; the clip-end round).
9. **Level floor** (with ``mixture``): a hit is kept only where the recording peaks
   above ``floor_dbfs`` (-70 dBFS; channel mean) in the 50 ms from its onset.  Every
   other step is relative — to the class's strongest hit, to the other drums — so a
   recording of nothing but a noise floor (an empty track exported with dither, whose
   1-LSB noise peaks at -90 dBFS) had its noise picked as hits: 34 on 3 s of sox's
   dither.  Real hits stand far above it — except in a quiet recording (a groove whose
   peak is -50 dBFS has its hats at -75 to -85 dBFS): where the recording's RMS is
   under ``floor_dbfs`` + 15 dB the floor is its RMS - 15 dB, at most 15 dB under
   ``floor_dbfs`` (-85 dBFS; ``QUIET_BELOW_RMS_DB``, ``QUIET_FLOOR_DB``).
   Steps 7, 8 and 9 run before the minimum interval (step 5).
10. **The hats in a fill** (the hi-hat by default; ``fill_s``): on every class's hits
   after steps 1-9, a hat hit within 30 ms of a snare or tom hit, with two tom hits
   within 0.4 s, is dropped where no hat hit clear of the kick, snare and toms lies
   within 0.3 s (:func:`nmfaudio.drums.hat_fill.in_fill`): the hands left the hats for
   a fill, and the hat's stem holds part of each stroke there (docs/log/transcription-decisions.md,
   hat-false round: regular tuning performances' false hats 463 → 326, 20 real ones
   lost).  **Between a fill's toms** (``fill_run_s``): a hat hit with a tom hit before
   and one after it at most 0.35 s apart, two tom hits within 0.4 s, is dropped
   (:func:`nmfaudio.drums.hat_fill.between_toms`): a shaker or tambourine playing on
   through the fill, which the hat's stem holds clear of the drums (docs/log/transcription-decisions.md,
   shaker round).
   **Off the hats' pulse** (10b; the hi-hat by default; ``offbeat_s``): a hat hit
   within 30 ms of a snare hit that falls between two beats of the other hat hits'
   steady pulse (spacing up to 0.35 s, going on one more step each side; at least a
   quarter of the spacing from each beat) is dropped
   (:func:`nmfaudio.drums.hat_pulse.between_beats`): a snare ghost note on the "e" or
   "a" of an 8th-note groove, whose wires the hat's stem holds (docs/log/transcription-decisions.md,
   ride-hat round: on the tuning performances 17 false against 1 real hat in the
   regular grooves, 29 against 5 in the kick/snare/hi-hat-only ones).
   **A lone double** (10c; the hi-hat by default; ``double_s``): a hat hit less than
   95 ms after another, with no other hat hit within 1.5 × 95 ms before the pair or
   after it, is dropped (:func:`nmfaudio.drums.hat_pulse.lone_doubles`): one stroke
   whose activation peaked twice — a crash ridden on 8th notes that the hat's parts
   explain peaks again 80-95 ms after each stroke (docs/log/transcription-decisions.md, ride-crash
   round: on the tuning performances 115 false against 0 real hats in the ride-style
   grooves, 29 against 6 in the regular ones, 7 against 4 in the kick/snare/hi-hat-only
   ones).
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass

import numpy as np

from nmfaudio import audio, spectrum
from nmfaudio._validation import check_int
from nmfaudio.drums import cymbal_decay, hat_fill, hit_timbre, track_reads
from nmfaudio.drums.general_midi import RIDE_NOTE, _note_of, gm_notes, velocities_from_strengths
from nmfaudio.drums.hat_fill import FILL_AT_S, FILL_CLEAR_S, FILL_RUN_S, between_toms, in_fill
from nmfaudio.drums.hat_pulse import DOUBLE_S, PULSE_CLEAR_S, PULSE_LONGEST_S, between_beats, lone_doubles, on_pulse
from nmfaudio.drums.hit_files import MIDI_BPM, MIDI_PPQ, read_csv, read_midi
from nmfaudio.drums.hit_results import ClassHits, DrumHits, track_of
from nmfaudio.drums.peaks import peak_pick
from nmfaudio.drums.tempo_grid import has_tempo, quantize
from nmfaudio.drums.times import near as _near, peak_frames

#: ``detect_hits``, and the public names the module held before the result types, the
#: General MIDI notes, the files and the tempo grid had modules of their own (2026-12-06):
#: ``nmfaudio.drums.hits.quantize`` and the rest stay where the user guide named them.
__all__ = ["ClassHits", "DrumHits", "detect_hits", "gm_notes", "velocities_from_strengths", "quantize", "has_tempo",
           "read_midi", "read_csv", "track_of", "MIDI_PPQ", "MIDI_BPM"]

THRESHOLD_DB = -30.0
MEAN_WEIGHT = 0.75  # of the moving mean in the local level (module notes, step 1)
# the snare's ghost notes sit 30-36 dB under its accents; the share check (step 8) rejects
# the other drums' bleed that this lower threshold lets in (docs/transcription.md)
SNARE_THRESHOLD_DB = -36.0
# kicks are rarely played 12 dB under the loudest; toms, the snare's body and the kick's
# own ring leave peaks of -12 to -30 dB in its activation (docs/transcription.md)
KICK_THRESHOLD_DB = -12.0
# toms and cymbals: few hits, and the other drums' leakage 12-30 dB under them
SPARSE_THRESHOLD_DB = -12.0
#: Frames an activation needs for any hit (module notes, step 1): a peak stands above the
#: frames around it, and a recording of one frame (shorter than one hop) has none.
MIN_FRAMES = 2
#: Hops from the recording's end within which a frame's window is zero-padded (n_fft / 2 with
#: the default n_fft = 4 hops): a hit there needs the recording to rise (module notes, step 9).
EDGE_HOPS = 2
FLOOR_DBFS = -70.0  # the recording's level under which nothing is a hit (module notes, step 9)
FLOOR_SECONDS = 0.05  # the stretch from the onset whose peak is compared with it
# A quiet recording (channel-mean RMS under floor + QUIET_BELOW_RMS_DB: -55 dBFS with the
# default floor) has the floor lowered to its RMS - QUIET_BELOW_RMS_DB, at most
# QUIET_FLOOR_DB under floor_dbfs (-85 dBFS, above 16-bit TPDF dither's -90-dBFS peaks):
# the hats of a groove whose peak is -50 dBFS are at -75 to -85 dBFS, and the plain
# -70 dBFS floor dropped 30 of 78 of them while the stems were those of the loud file
# (module notes, step 9).  A recording louder than that keeps the plain floor.
QUIET_BELOW_RMS_DB = 15.0
QUIET_FLOOR_DB = 15.0

def _default_min_interval(name: str) -> float:
    """Shortest time (s) between two hits of one class: 50 ms for kicks (fast double
    pedal is ~75 ms), 150 ms for crash / china / splash and a plain "cymbals" class
    (they ring; ride eighths up to 200 BPM are 150 ms apart), 60 ms for ride, 30 ms
    otherwise (snare and tom rolls, hi-hat 32nds)."""
    note = _note_of(name)
    if note == 36:
        return 0.05
    if note in (49, 52, 55):
        return 0.15
    if note in (51, 53):
        return 0.06
    return 0.03


# Bleed settings per drum family (module notes, step 3; measured in docs/transcription.md).
_CROSSTALK_MARGIN = {"kick": 6.0, "snare": 6.0}
_BLEED_BELOW = {"toms": 1.0, "cymbals": 1.0}


def _default_margin(name: str) -> float:
    """``crosstalk_margin`` of a class: 6 for kick and snare, 3 otherwise."""
    return _CROSSTALK_MARGIN.get(_family(name), 3.0)


def _default_bleed_below(name: str) -> float:
    """``bleed_below`` of a class: 1 for toms and crash-like cymbals (every candidate),
    0.2 otherwise — a ride (note 51) too: it keeps time like a hi-hat, its strokes are
    many and the other drums' hits fall on most of them (docs/transcription.md)."""
    if _note_of(name) == RIDE_NOTE:
        return 0.2
    return _BLEED_BELOW.get(_family(name), 0.2)


def _family(name: str) -> str:
    """kick, snare, toms, hihat, cymbals or other, from a class or sub-template name."""
    note = _note_of(name)
    if note == "tom":
        return "toms"
    if note == 36:
        return "kick"
    if note in (37, 38, 40):
        return "snare"
    if note in (42, 44, 46):
        return "hihat"
    if note in (49, 51, 52, 53, 55):
        return "cymbals"
    return "other"


# Step 7 (module notes): the hi-hat's track, high band.  Chosen on the tuning performances
# (docs/log/transcription-decisions.md, "What the measurements decided").
_FLUX_DELTA = {"hihat": 0.2}
# A ride's strokes (note 51): their track's onsets added as the hi-hat's, lower since the
# cymbals' track rings between the strokes (docs/log/transcription-decisions.md, ride-hits round: cymbals
# F of the ride-style tuning performances 0.548 → 0.570, 0.08-0.12 within 0.003 of it)
RIDE_FLUX_DELTA = 0.1
_FLUX_CONFIRM = {"hihat": 0.1}
# Step 7, the recording's band: a hat attack the separation gave another stem (the snare's,
# the cymbals') has its onset there.  The confirmation's height; on the tuning performances
# (docs/log/transcription-decisions.md, hat-mixture round) mean F k/s/h regular 0.9060 → 0.9099, 0.05-0.08
# more (0.9129 / 0.9113) but the ride-style set's undecided rides lose 0.007 / 0.003 there.
_MIX_FLUX_DELTA = {"hihat": 0.1}
# ... added only this far (s) from the class's hits: at 0.1 the recording's band flux peaks
# again 45-70 ms after a loud hit as it rings (tests/test_cli_drums.py's one-shot); 16th
# notes up to 187 BPM stay apart
_MIX_FLUX_CLEAR_S = 0.08
# Step 7's onsets are kept out by these families' hits (their attacks leak into the hat's
# track) and by a ride's strokes (note 51); a crash-like cymbals class's hits keep out only
# the recording's onsets (a crash's attack is always there), not the hat track's: most of
# those at a missed hat were the hat's own leakage into the cymbals' activation, or a crash
# played with the hat (docs/log/transcription-decisions.md, hat-recall round 2026-12-04: with the
# recording's confirmation below, mean F k/s/h of the 120 regular tuning grooves 0.9118 →
# 0.9139, the ride-style ones 0.8414 → 0.8422)
_FLUX_BLOCKERS = ("snare", "toms")
# The band flux's frame and hop (46 ms, 5.8 ms at 22.05 kHz); at other rates the hop is
# scaled as the fit's frames are (_flux_frames), so the flux has the 22.05-kHz frame count
# and its peak picking (in frames) the same durations
_FLUX_N_FFT = 1024
_FLUX_HOP = 128
_FLUX_MATCH_S = 0.03
_FLUX_NEW_S = 0.04
_FLUX_FLOOR_DB = -40.0
# A band whose lower edge is this close to the Nyquist frequency is empty or only the
# resampler's roll-off (at 11.025 kHz the 5-kHz band, 0.91 of Nyquist, still times the hat)
_BAND_MAX_NYQUIST_FRACTION = 0.95


# Share check (module notes, step 8): over the whole band, cymbals above 4 kHz
_MIN_SHARE_DB = {"snare": -20.0, "toms": -20.0, "cymbals": -20.0}
_SHARE_FMIN = {"cymbals": 4000.0}
# samples from the onset over which the share is measured: ~46 ms at 22.05 kHz; a cymbal's
# ~186 ms (its stem may hold the ring but not the attack, see step 6)
_SHARE_SAMPLES = {"cymbals": (1024, 4096)}
_SHARE_SAMPLES_DEFAULT = (1024,)


def _band_usable(fmin, sr) -> bool:
    """Does the band above ``fmin`` Hz hold enough of the spectrum at rate ``sr`` to
    measure (its edge under ``_BAND_MAX_NYQUIST_FRACTION`` of the Nyquist frequency)?"""
    return fmin < _BAND_MAX_NYQUIST_FRACTION * sr / 2


def _blocks_band_onsets(other: str, name: str, *, recording: bool = False) -> bool:
    """Whether class ``other``'s hits keep class ``name``'s high-band onsets out (step 7):
    the snare's and the toms' and a ride's strokes (note 51), of another family than
    ``name``'s; a crash-like cymbals class's only those of the ``recording``'s band (a
    crash's attack is always there; :data:`_FLUX_BLOCKERS`)."""
    family = _family(other)
    if family == _family(name):
        return False
    return family in _FLUX_BLOCKERS or (family == "cymbals" and (recording or _note_of(other) == RIDE_NOTE))


def _default_min_share_db(name: str) -> float:
    """``min_share_db`` of a class: -20 dB for snare, toms and cymbals (above 4 kHz),
    off otherwise."""
    return _MIN_SHARE_DB.get(_family(name), -np.inf)


# Step 8, the residual's share (module notes): the snare's, chosen on the tuning performances
# (docs/log/transcription-decisions.md, percussion round: -6 / -3 / 0 dB gave regular k/s/h +0.0018 /
# +0.0032 / +0.0024; the hi-hat's lost on the kick/snare/hi-hat-only grooves)
_MAX_RESIDUAL_DB = {"snare": -3.0}


def _default_max_residual_db(name: str) -> float:
    """``max_residual_db`` of a class: -3 dB for the snare, off (inf) otherwise."""
    return _MAX_RESIDUAL_DB.get(_family(name), np.inf)


# Step 8, the timbre (module notes, nmfaudio/drums/hit_timbre.py): the snare's, chosen on the
# tuning performances (docs/log/transcription-decisions.md, the snare-timbre round)
# (regular k/s/h 0.9144 off; 0.88 / 0.90 / 0.92 with a reference of at least 3 hits: 0.9157 /
# 0.9180 / 0.9162; 0.90 with at least hit_timbre.MIN_TOP = 8: 0.9183)
_MIN_TIMBRE = {"snare": 0.90}


def _default_min_timbre(name: str) -> float:
    """``min_timbre`` of a class: 0.9 for the snare, off (0) otherwise."""
    return _MIN_TIMBRE.get(_family(name), 0.0)


# Step 2 (module notes): the cymbals' "is it played at all" check, chosen on the tuning
# performances (docs/log/transcription-decisions.md, "Cymbals round")
_PLAYED_DB = {"cymbals": -26.0}
# ... and, for every class, on the final hits of a sparse recording (module notes, step 2):
# a class with at most SPARSE_PLAYED_HITS hits, all more than SPARSE_PLAYED_DB under the
# loudest hit of any class, is another drum's leakage (a kick one-shot's hi-hat hit 36-57 dB
# under it, a kick + hat one-shot's snare hit 28-41 dB under; docs/log/transcription-decisions.md,
# "sparse played round"); real quiet hats and ghost notes come many to a recording
SPARSE_PLAYED_DB = -26.0
SPARSE_PLAYED_HITS = 3


def _default_played_db(name: str) -> float:
    """``played_db`` of a class: -26 dB for crash-like cymbals, off (-inf) otherwise —
    a ride (note 51) too: its strokes are picked only where the separation found one."""
    if _note_of(name) == RIDE_NOTE:
        return -np.inf
    return _PLAYED_DB.get(_family(name), -np.inf)


# Step 7b (module notes): a crash-like cymbals class's weak peaks at the hi-hat's hits, where
# the cymbals' track holds the recording's high band — an undecided ride's strokes, which
# the hat's stem took, 12-30 dB under the crashes.  Chosen on the tuning performances
# (docs/log/transcription-decisions.md, ride-recall round; seeds 0-8, 60 per set): ride-style cymbals F
# 0.607 -> 0.631 at -4 dB (-3 / -6 / -8 dB: 0.616 / 0.649 / 0.655, but the regular
# performances' 0.727 -> 0.726 / 0.706 / 0.690: the crashes' own re-firings and hat
# leakage pass); kick, snare and hi-hat identical
_WEAK_SHARE_DB = {"cymbals": -4.0}
WEAK_THRESHOLD_DB = -30.0


def _default_weak_share_db(name: str) -> float:
    """``weak_share_db`` of a class: crash-like cymbals' (not a ride's), off (inf) otherwise."""
    if _note_of(name) == RIDE_NOTE:
        return np.inf
    return _WEAK_SHARE_DB.get(_family(name), np.inf)


#: step 8, the ring (nmfaudio/drums/cymbal_decay.py): a weak crash-like cymbal hit whose
#: track's quietest 20 ms above 4 kHz, 0.1-0.3 s after its onset, lies more than this many
#: dB under the onset's is a burst that stopped (the hat's leakage into the cymbals'
#: activation at a hat stroke), not a crash ringing on.  "Weak": under RING_BELOW of the
#: class's strongest hit.  Chosen on the tuning performances (docs/log/transcription-decisions.md, the
#: cymbal-ring round).  None of it for a ride's strokes, which keep the wash up anyway.
_MIN_RING_DB = {"cymbals": -12.0}
RING_BELOW = 0.5
#: ... and only where the class has fewer hits than this many a second (at step 8): more,
#: and it keeps time (a ride no cue found, picked as "cymbals"), whose strokes' wash the
#: hat's stem holds, so its own track is quiet between them (ride-style tuning cymbals F
#: 0.662 -> 0.641 judged everywhere, 0.657 with this gate).
RING_MAX_RATE = 1.0
#: ... where it has that many or more, a weak hit (under RING_BELOW of the strongest) is
#: judged against this lower bar instead: a ride's strokes picked as "cymbals" keep some
#: wash in the cymbals' track (−20 dB at the 5th percentile), the hat's leakage at every hat
#: stroke of a groove without cymbals often stops dead (docs/log/transcription-decisions.md, stray cymbals
#: round: k/s/h-only tuning stray cymbal hits 528 -> 509, cymbals F unchanged).  -inf turns
#: it off (no judgement at those rates, as before).
FAST_RING_DB = -28.0
#: step 8, the crash's ring: a crash-like cymbal hit that rises at most ``ring_rise_db`` (6
#: dB) above what the class's track held in the 0.19 s before it (above 4 kHz,
#: ``cymbal_decay.rises``; a steady sound reads +4.8 dB), with a hit at least
#: RING_STRONGER times as strong that rose RING_STRUCK_DB or more (a crash struck out of
#: the groove) at most RING_WITHIN_S before it, is that crash's ring peaking again under
#: another drum's leakage (a hat stroke 0.15-0.5 s after the crash), not a new strike: its
#: ring is the crash's, so the valley above keeps it (docs/log/transcription-decisions.md, the cymbals'
#: precision round: regular tuning cymbals F 0.761 -> 0.778).  None of it for a ride.
_RING_RISE_DB = {"cymbals": 6.0}
RING_STRUCK_DB = 12.0
RING_STRONGER = 1.5
RING_WITHIN_S = 0.5


#: step 8, the hat's burst: a crash-like cymbal hit at a hi-hat hit (within 30 ms) where the
#: cymbals' activation is at least BURST_RATIO times the hat's, whose track's valley (the
#: ring's, 0.1-0.3 s) lies under ``burst_ring_db`` (-20 dB) and which rose less than
#: RING_STRUCK_DB above what its track held before it, is the hat's stroke that the
#: cymbals' templates explain: no crash struck, none rings.  Judged whatever its strength
#: or the class's rate (the ring above spares strong hits and time-keeping classes); read
#: on the final hits.  A ride no cue found kept its strokes on the tuning set: at the hat
#: hits there (the ride's, in the hat's stem) the cymbals' activation stayed under the
#: hat's, or they rang on above -20 dB (docs/log/transcription-decisions.md, the cymbal phantoms round:
#: the k/s/h-only tuning grooves' phantom cymbal hits 434 -> 398, ride-style cymbals F
#: unchanged; held out, seed 123, no phantom met it).
_BURST_RING_DB = {"cymbals": -20.0}
BURST_RATIO = 1.0
#: ... and, with it (where ``burst_ring_db`` is on), a hit less than 0.12 s before the
#: recording's end — no stretch of the ring's 0.1-0.3 s left to read
#: (``cymbal_decay.unread``) — at a hi-hat hit and under END_WEAK of the class's strongest
#: hit is dropped: a clip cut just after a hat stroke got a cymbals hit there, which no
#: valley could judge.  Chosen on 3-s clips of the tuning performances cut 0.02-0.3 s
#: after their notes (docs/log/transcription-decisions.md, the clip-end round).
END_WEAK = 0.5
#: ... judged only where ``burst_ring_db`` lies above this: the bar that turns the hat's
#: burst off (-200, under any valley a track reads) turns this part off too.
END_OFF_DB = -100.0


#: Hops before a hit's activation peak that step 6's timing searches (1 for every class not
#: named, and a ride's strokes): a crash's activation can peak 2-4 frames after its onset where
#: its first peak was dropped (song cymbals 63-68 ms late, median: docs/log/errors-and-limits-history.md
#: ("A 48-kHz user's tour")); 3 hops: tuning songs' cymbals F 0.338 / 0.440 / 0.589 -> 0.507 / 0.757 / 0.867 at
#: -6 / 0 / +6 dB (docs/log/transcription-decisions.md, crash-timing round).
TIMING_BACK_HOPS = {"cymbals": 3}


def _crash_like_default(table: dict, name: str) -> float:
    """A class's default from ``table`` (by family) for the rules of crash-like cymbals:
    off (−inf) for a ride's sub-template and for the families ``table`` lacks."""
    if _note_of(name) == RIDE_NOTE:
        return -np.inf
    return table.get(_family(name), -np.inf)


def _default_burst_ring_db(name: str) -> float:
    """``burst_ring_db`` of a class: crash-like cymbals' −20 dB (not a ride's), off (−inf) otherwise."""
    return _crash_like_default(_BURST_RING_DB, name)


def _default_ring_rise_db(name: str) -> float:
    """``ring_rise_db`` of a class: crash-like cymbals' 6 dB (not a ride's), off (−inf) otherwise."""
    return _crash_like_default(_RING_RISE_DB, name)


def _default_min_ring_db(name: str) -> float:
    """``min_ring_db`` of a class: crash-like cymbals' −12 dB (not a ride's), off (−inf) otherwise."""
    return _crash_like_default(_MIN_RING_DB, name)


def _default_flux_delta(name: str) -> float:
    """``flux_delta`` of a class: 0.2 for the hi-hat, 0.1 for a ride (note 51: it keeps
    time like a hat, and its separated strokes miss some of its attacks), 0 (off)
    otherwise."""
    if _note_of(name) == RIDE_NOTE:
        return RIDE_FLUX_DELTA
    return _FLUX_DELTA.get(_family(name), 0.0)


def _default_mix_flux_delta(name: str) -> float:
    """``mix_flux_delta`` of a class: 0.1 for the hi-hat, 0 (off) otherwise."""
    return _MIX_FLUX_DELTA.get(_family(name), 0.0)


def _default_pulse_s(name: str) -> float:
    """``pulse_s`` of a class: :data:`~nmfaudio.drums.hat_pulse.PULSE_LONGEST_S` for the
    hi-hat (it keeps time), 0 (off) otherwise."""
    return PULSE_LONGEST_S if _family(name) == "hihat" else 0.0


def _default_flux_confirm(name: str) -> float:
    """``flux_confirm`` of a class: 0.1 for the hi-hat, 0 (off) otherwise."""
    return _FLUX_CONFIRM.get(_family(name), 0.0)


#: the least rise (dB) of a snare peak that only the moving median let through (step 4):
#: on the tuning performances the ghost notes the mean part hid rise 5-19 dB (5th-95th
#: percentile, median 13), the activation's other peaks there 0-4 dB (75th percentile)
_CLEAR_RISE_DB = {"snare": 6.0}


def _default_clear_rise_db(name: str) -> float:
    """``clear_rise_db`` of a class: 6 dB for the snare, off (inf) otherwise."""
    return _CLEAR_RISE_DB.get(_family(name), np.inf)


def _default_fill_s(name: str) -> float:
    """``fill_s`` of a class: :data:`~nmfaudio.drums.hat_fill.FILL_CLEAR_S` for the hi-hat
    (its hands leave the hats for a fill), 0 (off) otherwise."""
    return FILL_CLEAR_S if _family(name) == "hihat" else 0.0


def _default_fill_run_s(name: str) -> float:
    """``fill_run_s`` of a class: :data:`~nmfaudio.drums.hat_fill.FILL_RUN_S` for the hi-hat
    (between a fill's tom strokes its stem holds a shaker, not hats) where the switch
    :data:`~nmfaudio.drums.hat_fill.FILL_RUN` is on, 0 (off) otherwise."""
    return FILL_RUN_S if _family(name) == "hihat" and hat_fill.FILL_RUN else 0.0


def _default_offbeat_s(name: str) -> float:
    """``offbeat_s`` of a class: :data:`~nmfaudio.drums.hat_pulse.PULSE_LONGEST_S` for the
    hi-hat (a snare stroke between its beats leaks into its stem), 0 (off) otherwise."""
    return PULSE_LONGEST_S if _family(name) == "hihat" else 0.0


def _default_double_s(name: str) -> float:
    """``double_s`` of a class: :data:`~nmfaudio.drums.hat_pulse.DOUBLE_S` for the hi-hat
    (a ridden crash in its stem peaks twice per stroke), 0 (off) otherwise."""
    return DOUBLE_S if _family(name) == "hihat" else 0.0


def _default_mean_weight(name: str) -> float:
    """``mean_weight`` of a class: 3/4."""
    return MEAN_WEIGHT


def _default_threshold_db(name: str) -> float:
    """How far under the class's strongest hit a hit may be: -12 dB for kicks, toms and
    crash-like cymbals, -36 dB for the snare, -30 dB otherwise — a ride (note 51) too:
    it keeps time with the dynamics of a hi-hat (docs/transcription.md)."""
    family = _family(name)
    if _note_of(name) == RIDE_NOTE:
        return THRESHOLD_DB
    if family in ("toms", "cymbals"):
        return SPARSE_THRESHOLD_DB
    if family == "snare":
        return SNARE_THRESHOLD_DB
    return KICK_THRESHOLD_DB if family == "kick" else THRESHOLD_DB


# ---------------------------------------------------------------------------------------
# Onset picking
# ---------------------------------------------------------------------------------------
def _check_real(value, name, low=None, high=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value) \
            or (low is not None and value < low) or (high is not None and value > high):
        bounds = "" if low is None and high is None else (
            f" >= {low}" if high is None else (f" <= {high}" if low is None else f" in [{low}, {high}]"))
        raise ValueError(f"{name}={value!r} must be a finite number{bounds}")
    return float(value)


def _envelope(activation, name) -> np.ndarray:
    a = np.asarray(activation)
    if a.ndim not in (1, 2) or a.shape[-1] == 0 or not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"activations[{name!r}] must be a non-empty numeric array of shape (n_frames,) or "
                         f"(n_channels, n_frames); got shape {a.shape}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)) or (a < 0).any():
        raise ValueError(f"activations[{name!r}] must be finite and non-negative (an NMF activation)")
    return a if a.ndim == 1 else a.sum(axis=0)


def _signal_for(name, signals):
    """The track for ``name`` (:func:`track_of`), or None."""
    if signals is None:
        return None
    owner = track_of(name, signals)
    return None if owner is None else signals[owner]


@dataclass
class _Candidates:
    frames: np.ndarray
    strengths: np.ndarray
    times: np.ndarray


def detect_hits(
    activations,
    *,
    sr,
    hop_length,
    signals=None,
    mixture=None,
    notes=None,
    min_interval=None,
    threshold_db=None,
    delta=0.01,
    average_s: float = 0.25,
    mean_weight=None,
    silence_db: float = -60.0,
    played_db=None,
    crosstalk_quantile: float = 0.1,
    max_crosstalk: float = 0.15,
    crosstalk_margin=None,
    bleed_below=None,
    min_rise_db: float = 3.0,
    rise_window_s: float = 0.01,
    rise_step: int = 16,
    flux_delta=None,
    mix_flux_delta=None,
    flux_confirm=None,
    flux_fmin_hz: float = 5000.0,
    min_share_db=None,
    residual=None,
    max_residual_db=None,
    min_timbre=None,
    min_ring_db=None,
    ring_rise_db=None,
    burst_ring_db=None,
    weak_share_db=None,
    pulse_s=None,
    clear_rise_db=None,
    fill_s=None,
    fill_run_s=None,
    offbeat_s=None,
    double_s=None,
    floor_dbfs: float = FLOOR_DBFS,
) -> DrumHits:
    """Pick the drum hits from NMF(D) activations.

    Parameters
    ----------
    activations : dict {str: ndarray}
        Per class (or sub-template), shape (n_frames,) or (n_channels, n_frames); frame
        ``t`` is at ``t · hop_length / sr`` s and marks the start of the class's template
        (as :func:`nmfaudio.separate_drums` returns them).
    sr : int
        Sampling rate (Hz).
    hop_length : int
        Samples between frames.
    signals : dict {str: ndarray}, optional
        The separated track of each class, shape (n_samples,) or (n_channels, n_samples),
        or an :class:`nmfaudio.audio.FileReader` of its file (read a stretch at a time,
        :mod:`nmfaudio.drums.track_reads`; a sub-template uses its class's track:
        ``"hihat"`` for ``"hihat_open"``).  Given,
        they check every hit's attack and time it to ``rise_step`` samples (see the
        module notes); without them, times are frame-accurate (±½ hop), refined by
        parabolic interpolation.
    mixture : ndarray, shape (n_samples,) or (n_channels, n_samples), or a FileReader, optional
        The recording (the sum of the tracks).  Given with ``signals``, a hit's onset is
        where its track and the mixture rise together (module notes, step 6).
    notes : dict {str: int}, optional
        General MIDI notes to use instead of :func:`gm_notes`'s.
    min_interval : float or dict {str: float}, optional
        Shortest time (s) between two hits of a class; default 50 ms for kicks,
        150 ms for crash-like cymbals (and a plain "cymbals" class: ride eighths up to
        200 BPM still fit), 60 ms for ride, 30 ms otherwise.  Closer peaks are one hit
        at the first peak's time.
    threshold_db : float <= 0 or dict {str: float}, optional
        Hits weaker than this below the class's strongest hit are dropped; default
        -12 dB for kicks, toms and cymbals (they are rarely played softer, and leakage
        leaves peaks of -12 to -30 dB in their activations — measured in
        docs/transcription.md; a ride pattern under loud crashes needs -30, see its
        limits), -36 dB for the snare (ghost notes) and -30 dB for the hi-hat (quiet hats)
        and a ride (``"cymbals_ride"``: it keeps time like a hat).
    silence_db : float <= 0, default -60
        Peaks this far under the strongest hit of *any* drum are dropped, so a drum
        that does not play gets no hits from its near-zero activation.
    played_db : float <= 0 or dict {str: float}, optional
        A class whose strongest peak is more than this under the strongest peak of any
        drum (and again: whose strongest hit, after the other checks, under the strongest
        hit) is taken as not played, and all its hits are dropped; default -26 dB for
        crash-like cymbals (module notes, step 2), off for the others and a ride; -200
        turns it off.
    delta : float >= 0 or dict {str: float}, default 0.01
        How far (in units of the class's largest activation) a peak must stand above
        the activation's local level (the adaptive threshold).
    average_s : float > 0, default 0.25
        Half-width of the local level's window, in seconds.
    mean_weight : float >= 0 or dict {str: float}, optional
        The local level is the moving median of the activation, or ``mean_weight`` ×
        its moving mean where that is higher (0: the median alone); default 0.75.
    crosstalk_quantile : float in [0, 1], default 0.1
        Quantile of the measured ``h_k / h_j`` ratios taken as ``j``'s bleed into ``k``.
    max_crosstalk : float >= 0, default 0.15
        Upper limit of a measured cross-talk ratio (0 turns bleed suppression off).
    crosstalk_margin : float >= 1 or dict {str: float}, optional
        A candidate weaker than ``margin · ratio · (the other drum's hit)`` is bleed;
        default 6 for kick and snare, 3 for the others.
    bleed_below : float in [0, 1] or dict {str: float}, optional
        Only candidates weaker than this fraction of the class's strongest hit can be
        bleed; default 1 for toms and crash-like cymbals, 0.2 for the others and a ride
        (a hi-hat played with every snare stroke is measured as "cross-talk" too; this
        keeps its normal-strength hits).
    min_rise_db : float, default 3
        Least energy rise of the class's track at a hit (with ``signals``).
    rise_window_s : float > 0, default 0.01
        Length of the energy windows compared for the rise.
    rise_step : int >= 1, default 16
        Time step (samples) of the onset search.
    flux_delta : float >= 0 or dict {str: float}, optional
        Height above its local mean of a high-band onset of the track to add it as a
        hit (module notes, step 7); default 0.2 for the hi-hat, 0.1 for a ride
        (``"cymbals_ride"``, its strokes' onsets in the cymbals' track), 0 (off) for the
        others.
    mix_flux_delta : float >= 0 or dict {str: float}, optional
        Height above its local mean of a high-band onset of ``mixture`` to add it as a
        hit, as the track's (module notes, step 7: the same blockers, activation floor
        and timing, 80 ms clear of the class's hits; only where the class uses step 7);
        default 0.1 for the hi-hat, 0 (off) for the others.
    flux_confirm : float >= 0 or dict {str: float}, optional
        Height of the high-band onset that confirms an activation's hit; default 0.1
        for the hi-hat, 0 (off: no confirmation) for the others.
    flux_fmin_hz : float >= 0, default 5000
        Lower edge of the band of step 7.
    min_share_db : float <= 0 or dict {str: float}, optional
        Least share of the recording's energy the class's track holds at a hit
        (module notes, step 8); default -20 dB for snare, toms and cymbals, off for
        kick and hi-hat (a hat 30 dB under the kick is real).  Needs ``signals`` and
        ``mixture``; a low value such as -200 turns it off.
    residual : ndarray, shape (n_samples,) or (n_channels, n_samples), or a FileReader, optional
        The separation's residual track (what no drum stem took; the channels' mean
        is measured, as of the tracks).  Given with ``signals``, a weak hit
        (under ``bleed_below`` of its class's strongest) where the residual holds more
        than ``max_residual_db`` of the class's track's energy is dropped (module notes,
        step 8).  It must hold no drum: not a song's residual (the music), nor one from
        ``classes=`` without a drum class (that drum is in it; see
        ``DrumSeparation.residual_checks_hits``).  None (the default): no such check.
    max_residual_db : float or dict {str: float}, optional
        The residual's energy relative to the class's track (dB, in the 1024 samples from
        the onset) above which a weak hit is dropped; default -3 dB for the snare, off
        for the others; a high value such as 200 turns it off.
    min_timbre : float or dict {str: float}, optional
        The least cosine similarity (0-1) of a hit's 80-2000 Hz spectrum to its class's
        strongest hits' (with ``signals``; module notes, step 8, and
        :mod:`nmfaudio.drums.hit_timbre`); default 0.9 for the snare, 0 (off) for the others.
    min_ring_db : float or dict {str: float}, optional
        A hit under ``RING_BELOW`` (0.5) of its class's strongest is dropped where the
        class's track, above 4 kHz, is quieter than this (dB against the onset's 60 ms) in
        some 20 ms between 0.1 and 0.3 s after the onset (with ``signals``; module notes,
        step 8, and :mod:`nmfaudio.drums.cymbal_decay`): a hat stroke's short burst in the
        cymbals' activation, not a crash ringing; default -12 dB for crash-like cymbals,
        off for the others and a ride; a low value such as -200 turns it off.  Not judged
        at rates up to 8.4 kHz (the band above 4 kHz empty or a bin or two).
    ring_rise_db : float or dict {str: float}, optional
        A hit that rises at most this much (dB) above the loudest 20 ms of the class's
        track (above 4 kHz) in the 0.19 s before its onset, within ``RING_WITHIN_S`` (0.5 s)
        after a hit ``RING_STRONGER`` (1.5) times as strong that rose ``RING_STRUCK_DB``
        (12 dB) or more, is dropped (with ``signals``; module notes, step 8, and
        :func:`nmfaudio.drums.cymbal_decay.in_ring`): another drum's leakage peaking on a
        crash's ring, not a new strike; default 6 dB for crash-like cymbals, off for the
        others and a ride; a low value such as -200 turns it off.  Not judged at rates up to
        8.4 kHz, nor step 7b's weak peaks.
    burst_ring_db : float or dict {str: float}, optional
        A hit at a hi-hat hit (within 30 ms) where the class's activation is at least
        ``BURST_RATIO`` (1) times the hi-hat's, whose track's valley (as ``min_ring_db``'s)
        lies under this (dB) and which rose less than ``RING_STRUCK_DB`` (12 dB) above the
        track's 0.19 s before it, is dropped whatever its strength (with ``signals``;
        module notes, step 8, and :func:`nmfaudio.drums.cymbal_decay.hat_bursts`): the hat's
        stroke in the cymbals' templates, neither struck nor ringing; default -20 dB for
        crash-like cymbals, off for the others and a ride; a low value such as -200 turns it
        off.  Not judged at rates up to 8.4 kHz, nor step 7b's weak peaks, nor the hi-hat's
        own classes (each of whose hits lies at itself).
    weak_share_db : float or dict {str: float}, optional
        A class's weak peaks — between its ``threshold_db`` and -30 dB under its strongest
        — become hits where a hi-hat hit lies within 30 ms and the class's track holds
        at least this share (dB) of the recording's energy in the 1024 samples from the
        onset (above 4 kHz for cymbals; module notes, step 7b); default -4 dB for
        crash-like cymbals, off for the others and a ride; a high value such as 200
        turns it off.  Needs ``signals`` and ``mixture``.
    pulse_s : float >= 0 or dict {str: float}, optional
        The longest spacing (s) of the kept hits' pulse that gives back a candidate the
        bleed test, the attack check or the high-band confirmation dropped, where the
        pulse runs through it (module notes, step 7a;
        :func:`nmfaudio.drums.hat_pulse.on_pulse`); default 0.35 s for the hi-hat, 0
        (off) for the others.
    clear_rise_db : float or dict {str: float}, optional
        A peak that stands ``delta`` above the moving median but not above the mean part
        of the local level (step 1) is kept where the class's track rises at least this
        much (dB, step 4's measure) at it (module notes, step 4); default 6 dB for the
        snare, off for the others; a high value such as 200 turns it off.  Needs
        ``signals``.
    fill_s : float >= 0 or dict {str: float}, optional
        A hit of the class within 30 ms of a snare or tom hit, with two tom hits within
        0.4 s, is dropped where no hit of the class clear of the kick, snare and toms lies
        within ``fill_s`` (s) of it: a stroke of a fill, where the hats have stopped
        (module notes, step 10; :func:`nmfaudio.drums.hat_fill.in_fill`); default 0.3 s
        for the hi-hat, 0 (off) for the others.
    fill_run_s : float >= 0 or dict {str: float}, optional
        A hit of the class between two tom hits at most ``fill_run_s`` (s) apart, with two
        tom hits within 0.4 s, is dropped: what the class's stem holds between a fill's
        strokes (a shaker playing on) (module notes, step 10;
        :func:`nmfaudio.drums.hat_fill.between_toms`); default 0.35 s for the hi-hat, 0
        (off) for the others.
    offbeat_s : float >= 0 or dict {str: float}, optional
        A hit of the class within 30 ms of a snare hit that falls between two beats of
        the class's other hits' steady pulse, whose spacing is at most ``offbeat_s`` (s),
        is dropped: a snare ghost note off the hats' pulse,
        whose wires the class's stem holds (module notes, step 10b;
        :func:`nmfaudio.drums.hat_pulse.between_beats`); default 0.35 s for the hi-hat,
        0 (off) for the others.
    double_s : float >= 0 or dict {str: float}, optional
        A hit of the class less than ``double_s`` (s) after another, with no other hit
        of the class within 1.5 × ``double_s`` before the pair or after it, is dropped:
        one stroke whose activation peaked twice (module notes, step 10c;
        :func:`nmfaudio.drums.hat_pulse.lone_doubles`); default 0.095 s for the hi-hat,
        0 (off) for the others.
    floor_dbfs : float <= 0, default -70
        Least peak of the ``mixture`` (dB re full scale, channel mean) in the 50 ms from
        a hit's onset (module notes, step 9; lowered by at most 15 dB in a recording
        whose RMS is under ``floor_dbfs`` + 15 dB); needs ``mixture``; -200 turns it off.

    Returns
    -------
    DrumHits
        ``.classes[name]`` → :class:`ClassHits` (``times``, ``strengths``,
        ``velocities``, ``note``); ``.write_midi(path)``, ``.write_csv(path)``.

    Raises
    ------
    ValueError
        Bad parameters, activations that are not finite and non-negative, or a class
        with no known General MIDI note (pass ``notes=``).
    """
    if not isinstance(activations, dict) or not activations:
        raise ValueError("activations must be a non-empty dict {class name: activation array}")
    sr = check_int(sr, "sr")
    hop_length = check_int(hop_length, "hop_length")
    average_s = _check_real(average_s, "average_s", low=0)
    silence_db = _check_real(silence_db, "silence_db", high=0)
    crosstalk_quantile = _check_real(crosstalk_quantile, "crosstalk_quantile", 0, 1)
    max_crosstalk = _check_real(max_crosstalk, "max_crosstalk", low=0)
    min_rise_db = _check_real(min_rise_db, "min_rise_db")
    rise_window_s = _check_real(rise_window_s, "rise_window_s", low=1 / sr)
    rise_step = check_int(rise_step, "rise_step")
    flux_fmin_hz = _check_real(flux_fmin_hz, "flux_fmin_hz", low=0)
    floor_dbfs = _check_real(floor_dbfs, "floor_dbfs", high=0)
    names = [str(name) for name in activations]
    note_of = gm_notes(names, notes)
    intervals = _per_class(min_interval, "min_interval", names, _default_min_interval, low=0)
    thresholds = _per_class(threshold_db, "threshold_db", names, _default_threshold_db, high=0)
    crosstalk_margin = _per_class(crosstalk_margin, "crosstalk_margin", names, _default_margin, low=1)
    bleed_below = _per_class(bleed_below, "bleed_below", names, _default_bleed_below, low=0, high=1)
    delta = _per_class(delta, "delta", names, lambda name: 0.01, low=0)
    mean_weight = _per_class(mean_weight, "mean_weight", names, _default_mean_weight, low=0)
    flux_delta = _per_class(flux_delta, "flux_delta", names, _default_flux_delta, low=0)
    mix_flux_delta = _per_class(mix_flux_delta, "mix_flux_delta", names, _default_mix_flux_delta, low=0)
    flux_confirm = _per_class(flux_confirm, "flux_confirm", names, _default_flux_confirm, low=0)
    min_share_db = _per_class(min_share_db, "min_share_db", names, _default_min_share_db, high=0)
    played_db = _per_class(played_db, "played_db", names, _default_played_db, high=0)
    max_residual_db = _per_class(max_residual_db, "max_residual_db", names, _default_max_residual_db)
    min_timbre = _per_class(min_timbre, "min_timbre", names, _default_min_timbre, low=0, high=1)
    weak_share_db = _per_class(weak_share_db, "weak_share_db", names, _default_weak_share_db)
    min_ring_db = _per_class(min_ring_db, "min_ring_db", names, _default_min_ring_db)
    ring_rise_db = _per_class(ring_rise_db, "ring_rise_db", names, _default_ring_rise_db)
    burst_ring_db = _per_class(burst_ring_db, "burst_ring_db", names, _default_burst_ring_db)
    pulse_s = _per_class(pulse_s, "pulse_s", names, _default_pulse_s, low=0)
    clear_rise_db = _per_class(clear_rise_db, "clear_rise_db", names, _default_clear_rise_db)
    fill_s = _per_class(fill_s, "fill_s", names, _default_fill_s, low=0)
    fill_run_s = _per_class(fill_run_s, "fill_run_s", names, _default_fill_run_s, low=0)
    offbeat_s = _per_class(offbeat_s, "offbeat_s", names, _default_offbeat_s, low=0)
    double_s = _per_class(double_s, "double_s", names, _default_double_s, low=0)
    envelopes = {name: _envelope(activations[name], name) for name in names}
    lengths = {len(e) for e in envelopes.values()}
    if len(lengths) > 1:
        raise ValueError(f"activations have different numbers of frames {sorted(lengths)}; give one separation's")
    if signals is not None and not isinstance(signals, dict):
        raise ValueError("signals must be a dict {class name: separated track} or None")
    if min(lengths) < MIN_FRAMES:  # (one length: checked above)
        # one frame (a recording shorter than one hop, 23 ms by default): no frame around
        # it to stand above, so every class that explains any of it would peak there (a
        # 4.5-ms click got a kick and a snare hit)
        return DrumHits({name: ClassHits(name=name, note=note_of[name], times=np.zeros(0), strengths=np.zeros(0),
                                         velocities=velocities_from_strengths(np.zeros(0))) for name in names})

    candidates = {name: _candidates(envelopes[name], sr=sr, hop_length=hop_length, threshold_db=thresholds[name],
                                    delta=delta[name], average_s=average_s, mean_weight=mean_weight[name])
                  for name in names}
    # a drum that does not play has a near-zero activation whose ripples are no hits:
    # drop peaks more than `silence_db` under the strongest hit of any drum
    loudest = max((float(c.strengths.max()) for c in candidates.values() if len(c.strengths)), default=0.0)
    candidates = {name: _keep(c, c.strengths >= loudest * 10 ** (silence_db / 20)) for name, c in candidates.items()}
    # a crash-like cymbals class whose strongest peak sits far under the loudest drum is the
    # hi-hat's and snare's leakage, not a cymbal that plays: all its peaks go (step 2)
    silent = _unplayed({name: c.strengths for name, c in candidates.items()}, played_db)
    candidates = {name: _keep(c, np.zeros(len(c.frames), dtype=bool)) if name in silent else c
                  for name, c in candidates.items()}
    # step 7b's weak peaks (between the class's threshold and WEAK_THRESHOLD_DB), apart from
    # the candidates: they take no part in the bleed test nor block the hat's onsets (step 7)
    weak = {}
    if signals is not None and mixture is not None:
        for name in names:
            if (not np.isfinite(weak_share_db[name]) or name in silent or not len(candidates[name].frames)
                    or _signal_for(name, signals) is None):
                continue
            low = _candidates(envelopes[name], sr=sr, hop_length=hop_length,
                              threshold_db=min(WEAK_THRESHOLD_DB, thresholds[name]), delta=delta[name],
                              average_s=average_s, mean_weight=mean_weight[name])
            floor = 10 ** (thresholds[name] / 20) * low.strengths.max(initial=0.0)
            weak[name] = _keep(low, (low.strengths < floor) & (low.strengths >= loudest * 10 ** (silence_db / 20)))
    picked = candidates  # before the bleed test, the attack check and the confirmation (step 7a)
    # step 4's clear attack: the peaks only the mean part of the local level rejected (a ghost
    # note a sixteenth from an accent) are candidates too, that must rise clear_rise_db
    extras = {}
    for name in names:
        if (signals is None or _signal_for(name, signals) is None or not np.isfinite(clear_rise_db[name])
                or not mean_weight[name] > 0 or name in silent):
            continue  # no track to check the attack in: the extras would pass unchecked
        median_only = _candidates(envelopes[name], sr=sr, hop_length=hop_length, threshold_db=thresholds[name],
                                  delta=delta[name], average_s=average_s, mean_weight=0.0)
        extras[name] = _keep(median_only, ~np.isin(median_only.frames, candidates[name].frames)
                             & (median_only.strengths >= loudest * 10 ** (silence_db / 20)))
    if max_crosstalk > 0 and len(names) > 1:
        if extras:
            # the extras are tested as bleed but are not taken as another drum's hits there
            tested = _drop_bleed({name: _merged(c, extras.get(name)) for name, c in candidates.items()}, envelopes,
                                 quantile=crosstalk_quantile, cap=max_crosstalk, margin=crosstalk_margin,
                                 weak_fraction=bleed_below)
            extras = {name: _keep(tested[name], np.isin(tested[name].frames, e.frames)) for name, e in extras.items()}
        candidates = _drop_bleed(candidates, envelopes, quantile=crosstalk_quantile, cap=max_crosstalk,
                                 margin=crosstalk_margin, weak_fraction=bleed_below)
    clear_only = {name: e.frames for name, e in extras.items()}
    candidates = {name: _merged(c, extras.get(name)) for name, c in candidates.items()}
    window = max(1, int(round(rise_window_s * sr)))
    energies = {}
    checked_tracks = {}

    def checked(track, label, verified=None):
        # each track checked once (a whole pass over it), however many steps read it; the
        # track is kept with its check, so its id stays its own.  `verified`: the track as
        # checked already (_energies_ahead's checks)
        if id(track) not in checked_tracks:
            checked_tracks[id(track)] = (track, track_reads.checked(track, label) if verified is None else verified)
        return checked_tracks[id(track)][1]

    def energy(signal, label):
        if id(signal) not in energies:
            energies[id(signal)] = track_reads.cumulative_energy(checked(signal, label))
        return energies[id(signal)]

    def attack(name, found, check=True):
        # steps 4 and 6: the track's rise at each candidate (dropped under min_rise_db where
        # `check`), and the onset's time
        signal = _signal_for(name, signals)
        if signal is not None and len(found.frames):
            centres = found.frames * hop_length
            # instants from `back` hops before the peak frame to 2 after it: rises() spans
            # centre - search .. centre + 2 search, so the centre moves back and the search widens
            back = TIMING_BACK_HOPS.get(_family(name), 1) if _note_of(name) != RIDE_NOTE else 1
            search = (2 + back) * hop_length // 3
            shifted = centres + search - back * hop_length
            rises, instants = track_reads.rises(energy(signal, f"signals[{name!r}]"), shifted, window=window,
                                                search=search, step=rise_step)
            # the attack check reads the usual span (1 hop before to 2 after): a wider one
            # reached an earlier hit's attack
            usual = instants >= (centres - hop_length)[:, None]
            # a peak only the median let through needs a clear attack (clear_rise_db)
            least = np.where(np.isin(found.frames, clear_only.get(name, ())), clear_rise_db[name], min_rise_db)
            keep = (np.where(usual, rises, -np.inf).max(axis=1) >= least if check
                    else np.ones(len(centres), dtype=bool))
            timing = rises
            if mixture is not None:
                # the attack may have gone to another stem (a crash's onset to the hi-hat's):
                # time the hit where the track and the mixture rise together
                track, mix = energy(signal, f"signals[{name!r}]"), energy(mixture, "mixture")
                if len(mix) != len(track):
                    raise ValueError(f"mixture has {len(mix) - 1} samples but signals[{name!r}] has "
                                     f"{len(track) - 1}; give the recording the tracks were separated from")
                timing = rises + track_reads.rises(mix, shifted, window=window, search=search, step=rise_step)[0]
            onset = instants[np.arange(len(centres)), np.argmax(timing, axis=1)]
            found = _Candidates(found.frames[keep], found.strengths[keep], onset[keep] / sr)
        return found

    # the first attacks' cumulative energies (their tracks', the mixture's), on the engine's
    # threads: the compiled pass releases the GIL, and one at a time they were the hits'
    # longest one-core stretch (docs/performance.md, the shell-speed round)
    _energies_ahead([(_signal_for(name, signals), f"signals[{name!r}]") for name in names
                     if len(candidates[name].frames)], mixture, checked, energies)
    result = {name: attack(name, candidates[name]) for name in names}
    weak = {name: attack(name, found) for name, found in weak.items()}
    from_mixture = {}  # the hits step 7 took from the recording's band, by class
    mixture_flux = None  # that band's flux (step 7), computed once

    @functools.cache
    def mixture_mono():
        # an array mixture's channel mean (its own dtype), made once for the band flux (step 7),
        # the shares (step 8) and the level floor (step 9): each averaged the channels again;
        # None for a reader (read a stretch at a time)
        mix = checked(mixture, "mixture")
        return None if track_reads.is_reader(mix) else (mix if mix.ndim == 1 else mix.mean(axis=0))

    if signals is not None:
        # step 7: the track's high-band onsets, for the classes that use them (the hi-hat)
        flux_n_fft, flux_hop = _flux_frames(sr)
        for name in names:
            signal = _signal_for(name, signals)
            if signal is None or not (flux_delta[name] > 0 or flux_confirm[name] > 0):
                continue
            if not _band_usable(flux_fmin_hz, sr):
                # at low rates the band is empty: its flux would confirm no hit and drop them all
                continue
            # a clear-attack peak (a ghost note) leaks too little into this track to block an onset
            others, others_in_mixture = (
                np.concatenate([result[o].times[~np.isin(result[o].frames, clear_only.get(o, ()))] for o in names
                                if _blocks_band_onsets(o, name, recording=recording)] or [np.zeros(0)])
                for recording in (False, True))
            track = energy(signal, f"signals[{name!r}]")
            curves = [track] if mixture is None else [track, energy(mixture, "mixture")]

            def retime(samples, curves=curves):
                # the flux frame's window starts up to half a window before the attack:
                # time the onset as in step 6, where the track (and the mixture) rise most
                rises = [track_reads.rises(c, samples, window=window, search=flux_n_fft // 4, step=rise_step)
                         for c in curves]
                total = sum(r[0] for r in rises)
                return rises[0][1][np.arange(len(samples)), np.argmax(total, axis=1)]

            mix_flux = None
            if mixture is not None and mix_flux_delta[name] > 0:
                # the recording's band: it confirms a hit too (a hat whose attack another stem
                # took), and gives the onsets added below; one flux for every class
                if mixture_flux is None:
                    mixture_flux = _band_flux(checked(mixture, "mixture"), sr, fmin=flux_fmin_hz,
                                              hop=flux_hop, n_fft=flux_n_fft, mono=mixture_mono())
                mix_flux = mixture_flux
            result[name] = _with_band_onsets(
                result[name], envelopes[name], checked(signal, f"signals[{name!r}]"), sr=sr,
                hop_length=hop_length, fmin=flux_fmin_hz, delta=flux_delta[name], confirm=flux_confirm[name],
                others=others, retime=retime, confirm_also=mix_flux)
            if mix_flux is not None:
                own = result[name].times
                # step 7, the recording's band: a hat attack the separation gave another stem
                # (the snare's, the cymbals') has no onset in the hat's track but one here
                result[name] = _with_band_onsets(
                    result[name], envelopes[name], checked(mixture, "mixture"), sr=sr,
                    hop_length=hop_length, fmin=flux_fmin_hz, delta=mix_flux_delta[name], confirm=0.0,
                    others=others_in_mixture, retime=retime, clear_s=_MIX_FLUX_CLEAR_S, flux=mix_flux)
                from_mixture[name] = result[name].times[~np.isin(result[name].times, own)]
    for name in names:
        # step 7a: a candidate steps 3, 4 and 7 dropped, which the kept hits' pulse runs
        # through, is a hat masked by the drum it was played with (hat_pulse)
        if not pulse_s[name] > 0 or not len(picked[name].frames):
            continue
        every = attack(name, picked[name], check=False)  # each timed as in step 6
        kept = result[name]
        back = _keep(every, ~_near(every.times, kept.times, PULSE_CLEAR_S)
                     & on_pulse(every.times, kept.times, longest=pulse_s[name]))
        if len(back.times):
            order = np.argsort(np.concatenate([kept.times, back.times]), kind="stable")
            result[name] = _Candidates(np.concatenate([kept.frames, back.frames])[order],
                                       np.concatenate([kept.strengths, back.strengths])[order],
                                       np.concatenate([kept.times, back.times])[order])
    mixture_mean_square = []  # one pass over a streamed mixture for every class and width (step 8)
    array_mean_squares = {}  # and over an array's (_shares)

    def mean_square(mix):
        # the one mixture, maybe wrapped in a reader by _shares: its mean square once
        if not mixture_mean_square:
            mixture_mean_square.append(track_reads.mono_mean_square(mix))
        return mixture_mean_square[0]

    # step 7b: a weak peak at a hi-hat hit where the class's track holds the recording's band
    # is the class's stroke that the hat's stem took too (an undecided ride's), not leakage
    # (not the hats from the recording's band: a crash's or an undecided ride's attack is there too)
    hats = [result[o].times[~np.isin(result[o].times, from_mixture.get(o, ()))] for o in names
            if _family(o) == "hihat"]
    hats = np.concatenate(hats) if hats else np.zeros(0)
    added = {}
    for name, found in weak.items():
        # ... and away from the class's own hits (and a ride's strokes): a weak peak next to
        # a hit is that hit ringing, and the minimum interval would move the hit to it
        own = np.concatenate([result[o].times for o in names if _family(o) == _family(name)])
        found = _keep(found, _near(found.times, hats, _FLUX_MATCH_S) & ~_near(found.times, own, intervals[name]))
        if not len(found.times):
            continue
        fmin = _SHARE_FMIN.get(_family(name), 0.0)
        shares = _shares(checked(_signal_for(name, signals), f"signals[{name!r}]"),
                         checked(mixture, "mixture"), np.rint(found.times * sr).astype(int), sr=sr,
                         fmin=fmin if _band_usable(fmin, sr) else 0.0, width=_SHARE_SAMPLES_DEFAULT[0],
                         mean_square=mean_square, array_mean_squares=array_mean_squares, mix_mono=mixture_mono())
        found = _keep(found, shares >= weak_share_db[name])
        added[name] = found.times  # the ring (step 8) does not judge them: a ride's strokes
        both = result[name]
        order = np.argsort(np.concatenate([both.times, found.times]), kind="stable")
        result[name] = _Candidates(np.concatenate([both.frames, found.frames])[order],
                                   np.concatenate([both.strengths, found.strengths])[order],
                                   np.concatenate([both.times, found.times])[order])

    final = {}
    for name in names:
        found = result[name]
        signal = _signal_for(name, signals)
        if signal is not None and mixture is not None and np.isfinite(min_share_db[name]) and len(found.times):
            # step 8: leakage of the other drums fires as hits of a drum that plays little or
            # not at all; keep a hit only where the track holds a share of the recording
            track = checked(signal, f"signals[{name!r}]")
            mix = checked(mixture, "mixture")
            starts, fmin = np.rint(found.times * sr).astype(int), _SHARE_FMIN.get(_family(name), 0.0)
            if not _band_usable(fmin, sr):
                fmin = 0.0  # at low rates the cymbals' high band is empty or one bin: the whole band
            shares = np.max([_shares(track, mix, starts, sr=sr, fmin=fmin, width=width, mean_square=mean_square,
                                     array_mean_squares=array_mean_squares, mix_mono=mixture_mono())
                             for width in _SHARE_SAMPLES.get(_family(name), _SHARE_SAMPLES_DEFAULT)], axis=0)
            found = _keep(found, shares >= min_share_db[name])
        if signal is not None and residual is not None and np.isfinite(max_residual_db[name]) and len(found.times):
            # step 8, the residual: a weak hit where what no drum took (percussion) sounds
            # louder than the track is that sound's part in the track
            track = checked(signal, f"signals[{name!r}]")
            over = _shares(checked(residual, "residual"), track, np.rint(found.times * sr).astype(int),
                           sr=sr, fmin=0.0, width=_SHARE_SAMPLES_DEFAULT[0]) > max_residual_db[name]
            found = _keep(found, ~(over & (found.strengths < bleed_below[name] * found.strengths.max())))
        if signal is not None and min_timbre[name] > 0 and len(found.times):
            # step 8, the timbre: a hit whose body's spectrum is not the drum's (a conga in
            # the snare's stem) against the recording's strongest hits of the drum
            similarity, reference = hit_timbre.similarities(
                checked(signal, f"signals[{name!r}]"), np.rint(found.times * sr).astype(int),
                found.strengths, sr=sr)
            found = _keep(found, reference | (similarity >= min_timbre[name]))
        fast = len(found.times) >= RING_MAX_RATE * len(envelopes[name]) * hop_length / sr
        if (signal is not None and np.isfinite(min_ring_db[name]) and len(found.times)
                and (not fast or np.isfinite(FAST_RING_DB)) and _band_usable(cymbal_decay.FMIN_HZ, sr)):
            # step 8, the ring: a weak cymbal hit whose track is quiet again 0.1-0.3 s later
            # is a hat stroke's leakage, not a crash.  A class with a hit a second or more
            # keeps time (a ride no cue found, whose wash the hat's stem holds): judged there
            # only against the lower FAST_RING_DB, which the hat's leakage at every stroke of
            # a groove without cymbals still crosses (it stops dead); a min_ring_db lower
            # still, e.g. -200, turns both off.  Not judged at rates whose band above 4 kHz
            # is empty or a bin or two (8 kHz: a ringing crash's few bins read 20-70 dB under
            # the onset there).
            ring = cymbal_decay.valleys(checked(signal, f"signals[{name!r}]"),
                                        np.rint(found.times * sr).astype(int), sr=sr)
            rings = ring >= (min(FAST_RING_DB, min_ring_db[name]) if fast else min_ring_db[name])
            rings |= found.strengths >= RING_BELOW * found.strengths.max()
            # (not the weak peaks step 7b added: an undecided ride's strokes, whose wash the
            # hat's stem holds, so the cymbals' track is quiet between them too)
            found = _keep(found, rings | np.isin(found.times, added.get(name, ())))
        if mixture is not None and len(found.times):
            # step 9: an absolute floor; every step above is relative, and picks a noise floor's bumps
            checked_mixture = checked(mixture, "mixture")
            peaks = _peak_levels(checked_mixture, np.rint(found.times * sr).astype(int),
                                 width=max(1, int(round(FLOOR_SECONDS * sr))), mono=mixture_mono())
            found = _keep(found, peaks >= 10 ** (_level_floor_db(checked_mixture, floor_dbfs, mean_square) / 20))
            found = _keep(found, ~_padding_edge(found.times, energy(mixture, "mixture"), sr=sr, hop_length=hop_length,
                                                window=window, step=rise_step, min_rise_db=min_rise_db))
        found = _enforce_interval(found, intervals[name])
        if (signal is not None and np.isfinite(ring_rise_db[name]) and len(found.times) > 1
                and _band_usable(cymbal_decay.FMIN_HZ, sr)):
            # step 8, the crash's ring: a weaker peak on the ring of a crash just struck,
            # rising little above it, is another drum's leakage on that ring (the valley
            # above reads the crash's wash there); not step 7b's weak peaks (a ride's strokes)
            rise = cymbal_decay.rises(checked(signal, f"signals[{name!r}]"), np.rint(found.times * sr).astype(int),
                                      sr=sr)
            ringing = cymbal_decay.in_ring(found.times, found.strengths, rise, within_s=RING_WITHIN_S,
                                           stronger=RING_STRONGER, struck_db=RING_STRUCK_DB, sits_db=ring_rise_db[name])
            found = _keep(found, ~ringing | np.isin(found.times, added.get(name, ())))
        final[name] = found
    _drop_hat_bursts(final, envelopes, names, signals, checked, added, burst_ring_db, sr=sr, hop_length=hop_length)
    hits = {}
    # step 10: a hat hit at a snare or tom stroke where the hats have stopped (a fill) is
    # that stroke's leakage into the hat's stem; read on every class's final hits
    by_family = {family: np.concatenate([final[o].times for o in names if _family(o) == family] or [np.zeros(0)])
                 for family in ("kick", "snare", "toms")}
    for name in names:
        found = final[name]
        if fill_s[name] > 0 and len(found.times):
            found = _keep(found, ~in_fill(found.times, snare=by_family["snare"], toms=by_family["toms"],
                                          kick=by_family["kick"], clear_s=fill_s[name]))
        if fill_run_s[name] > 0 and len(found.times):
            # between a fill's tom strokes the hands are off the hats: a shaker or tambourine
            # playing on there is in the hat's stem, clear of the drums (so in_fill keeps it)
            found = _keep(found, ~between_toms(found.times, toms=by_family["toms"], longest=fill_run_s[name]))
        if offbeat_s[name] > 0 and len(found.times):
            # step 10b: a hat hit at a snare stroke between the hats' beats, off their
            # pulse, is the snare's leakage (a ghost note where the hats do not play)
            at = np.flatnonzero(_near(found.times, by_family["snare"], FILL_AT_S))  # only these are measured
            off = np.zeros(len(found.times), dtype=bool)
            off[at] = between_beats(found.times[at], found.times, longest=offbeat_s[name])
            found = _keep(found, ~off)
        if double_s[name] > 0 and len(found.times):
            # step 10c: a lone pair of hits closer than a 16th note is one stroke peaking
            # twice (a ridden crash in the hat's stem), not two strokes
            found = _keep(found, ~lone_doubles(found.times, shortest=double_s[name]))
        hits[name] = ClassHits(name=name, note=note_of[name], times=found.times, strengths=found.strengths,
                               velocities=velocities_from_strengths(found.strengths))
    # the played check again on what steps 4-9 left: a peak they dropped may have been the
    # one that stood within played_db of the loudest
    final = {name: c.strengths for name, c in hits.items()}
    silent = _unplayed(final, played_db) | _sparse_unplayed(final)
    return DrumHits({name: ClassHits(name=name, note=c.note, times=c.times[:0], strengths=c.strengths[:0],
                                     velocities=c.velocities[:0]) if name in silent else c
                     for name, c in hits.items()})


def _drop_hat_bursts(final, envelopes, names, signals, checked, added, burst_ring_db, *, sr, hop_length) -> None:
    """Step 8, the hat's burst (``burst_ring_db``): drop, in place, the crash-like cymbal
    hits of ``final`` (``{name: _Candidates}``) that
    :func:`nmfaudio.drums.cymbal_decay.hat_bursts` takes for a hi-hat stroke's burst, read
    against the hi-hat family's hits of ``final``; step 7b's peaks (``added``) are kept.

    Parameters
    ----------
    final : dict {str: _Candidates}
        Each class's hits after step 9 and the minimum interval; replaced where judged.
    envelopes : dict {str: ndarray, shape (n_frames,)}
        The classes' activations (channels summed).
    names : list of str
        The classes.
    signals : dict or None
        The separated tracks (:func:`detect_hits`' ``signals``).
    checked : callable
        ``detect_hits``' track check (each track checked once).
    added : dict {str: ndarray}
        Step 7b's weak peaks' times by class (not judged).
    burst_ring_db : dict {str: float}
        The valley's bar per class (−inf: not judged).
    sr, hop_length : int
        Sampling rate (Hz) and the activations' hop (samples).
    """
    hats = [o for o in names if _family(o) == "hihat"]
    if signals is None or not hats or not _band_usable(cymbal_decay.FMIN_HZ, sr):
        return
    hat_times = np.concatenate([final[o].times for o in hats])
    hat_envelope = np.sum([envelopes[o] for o in hats], axis=0)
    for name in names:
        found, signal = final[name], _signal_for(name, signals)
        # not the hats' own classes: each hat hit lies at itself, its ratio to the hats' sum >= 1
        if (signal is None or name in hats or not np.isfinite(burst_ring_db[name]) or not len(found.times)
                or not len(hat_times)):
            continue
        track = checked(signal, f"signals[{name!r}]")
        onsets = np.rint(found.times * sr).astype(int)
        # the activations' largest within a frame either side of the hit's (its onset may
        # lie a frame before the peak, and the two classes' peaks a frame apart)
        frames = np.clip(np.rint(found.times * sr / hop_length).astype(int), 0, len(hat_envelope) - 1)
        spans = [slice(max(0, f - 1), f + 2) for f in frames]
        own = np.array([envelopes[name][span].max() for span in spans])
        hat = np.array([hat_envelope[span].max() for span in spans])
        ratio = np.divide(own, hat, out=np.full(len(own), np.inf), where=hat > 0)
        at_hat = _near(found.times, hat_times, _FLUX_MATCH_S)
        burst = cymbal_decay.hat_bursts(cymbal_decay.valleys(track, onsets, sr=sr),
                                        cymbal_decay.rises(track, onsets, sr=sr), ratio, at_hat,
                                        ring_db=burst_ring_db[name], struck_db=RING_STRUCK_DB, least_ratio=BURST_RATIO)
        # the file's end: a weak hit at a hat stroke whose ring no stretch left can show
        # (END_WEAK; step 8's ring would judge it, but reads nothing there)
        n_samples = track.n_samples if track_reads.is_reader(track) else np.shape(track)[-1]
        if burst_ring_db[name] > END_OFF_DB:
            burst |= (at_hat & (found.strengths < END_WEAK * found.strengths.max())
                      & cymbal_decay.unread(onsets, n_samples, sr=sr))
        final[name] = _keep(found, ~burst | np.isin(found.times, added.get(name, ())))


def _padding_edge(times, mix_energy, *, sr, hop_length, window, step, min_rise_db) -> np.ndarray:
    """Which hits lie in the recording's last :data:`EDGE_HOPS` hops with no rise of the
    recording there (step 9).

    The frames there reach past the end and are zero-padded: a sound still playing at
    the cut (a steady tone, a chord held to the end) looks like an attack to the stems
    and band fluxes the padding leaks into — a 3-s 440-Hz sine got a velocity-127
    hi-hat hit 10 ms before its end, from the hat's high-band onsets.  A hit struck
    there raises the recording (``min_rise_db`` over ``window`` samples, searched as
    step 4 searches); a sound that only goes on does not.

    Parameters
    ----------
    times : ndarray, shape (n_hits,)
        Onsets (s).
    mix_energy : cumulative energy of the mixture (:func:`track_reads.cumulative_energy`)
    sr, hop_length, window, step : int
    min_rise_db : float

    Returns
    -------
    ndarray of bool, shape (n_hits,)
    """
    n_samples = len(mix_energy) - 1
    samples = np.rint(np.asarray(times) * sr).astype(np.int64)
    edge = samples > n_samples - EDGE_HOPS * hop_length
    if not edge.any():
        return edge
    rises = track_reads.rises(mix_energy, samples[edge], window=window, search=hop_length, step=step)[0]
    edge[edge] = rises.max(axis=1) < min_rise_db
    return edge


#: Frames of the flux's STFT made at a time (a 10-minute stem at hop 128 has 206 720: its
#: whole spectrogram and the level, difference and band copies were 2-3 GB).
_FLUX_CHUNK_FRAMES = 8192
#: Bytes of band magnitudes :func:`_band_flux` keeps from its first pass (the band's
#: peak) for its second (the flux), instead of making them again: the whole band of a
#: track up to ~3.9 minutes at 44.1 kHz (396 bins above 5 kHz, 98 MB for 3 minutes),
#: ~8.7 minutes at 22.05 kHz; the chunks of a longer one past these are made twice.
_FLUX_KEEP_BYTES = 2**27


#: Whether the band flux's magnitudes are librosa's STFT's bit for bit (a float64 window
#: and transform); False: the window and the real FFT in float32 (scipy.fft), ~0.14 ->
#: 0.08 s of CPU per 30 000 frames, the magnitudes to float32 rounding.  The hits of the
#: transcription benchmark's seed-0 material (72 performances with --ride, 5337 hits) and
#: of the speed benchmark's three 3-minute files came out the same, every one
#: (docs/performance.md, the shell-speed round).
_FLUX_EXACT = False


def _energies_ahead(tracks, mixture, checked, energies) -> None:
    """Fill ``energies`` (by ``id``, as :func:`detect_hits`' ``energy``) with the
    cumulative energies (:func:`nmfaudio.drums.track_reads.cumulative_energy`) of
    ``tracks`` and of ``mixture``, computed on the engine's threads: the same arrays as
    one at a time, the compiled pass releasing the GIL.

    Each track is checked here, in the order the attacks check them (each track, then the
    mixture after the first); a track that fails its check stops this, and the attacks
    raise the error where they did.  Readers (streamed stems) are left to the attacks:
    each reads its file a stretch at a time.  The NaN/inf test is the energy's: a NaN or
    infinite sample makes the cumulative energy's total NaN or infinite, so a finite
    total clears its track without a pass of its own (0.05 s of one-thread time over a
    3-minute stereo song's seven arrays); a track whose total is not finite gets the
    whole check (which raises, or passes a float64 track whose squares overflow).

    Parameters
    ----------
    tracks : list of (ndarray or reader or None, str)
        Each attacked class's track, shape (n_samples,) or (n_channels, n_samples), and
        its label; None (no track) is skipped.
    mixture : ndarray or reader or None
    checked : callable(track, label, verified=None) -> checked track
        :func:`detect_hits`' ``checked`` (it keeps each check; ``verified``: the track
        as checked here).
    energies : dict {id(track): CheckpointedEnergy, or ndarray of shape (n_samples + 1,)}
        Filled in place (:func:`~nmfaudio.drums.track_reads.cumulative_energy`'s).
    """
    from nmfaudio.nmf.kernels import run_in_threads

    order, seen = [], set()
    for track, label in tracks:
        if track is None:
            continue
        for item in [(track, label)] + ([(mixture, "mixture")] if mixture is not None else []):
            if id(item[0]) not in seen and id(item[0]) not in energies:
                seen.add(id(item[0]))
                order.append(item)
    if any(track_reads.is_reader(track) for track, _ in order):
        return
    try:
        # all but the NaN/inf test, in order
        arrays = [audio.check_audio(track, label, finite=False) for track, label in order]
    except (ValueError, TypeError):
        return  # the attacks raise it, in their order (a mismatched length may come first)
    results = [None] * len(order)

    def one(i):
        results[i] = track_reads.cumulative_energy(arrays[i])

    run_in_threads(one, len(order))
    for (track, label), array, energy in zip(order, arrays, results):
        try:
            # a finite total: every sample finite; else the whole check, which raises for a
            # NaN or infinite sample (the attacks raise it again, in their order)
            checked(track, label, array if np.isfinite(track_reads.total_energy(energy)) else None)
        except (ValueError, TypeError):
            return
    for (track, _), energy in zip(order, results):
        energies[id(track)] = energy


def _band_flux(y, sr, *, fmin, hop, mono=None, n_fft=_FLUX_N_FFT):
    """Spectral flux of ``y`` (mono mix of its channels) above ``fmin`` Hz: the mean over
    those bins of the rise in log magnitude, frames ``hop`` samples apart, scaled to a
    maximum of 1.  Shape (n_frames,).

    Two passes over the frames, a chunk at a time (on the engine's threads for an array),
    so memory does not grow with the track's length: the band's peak magnitude (the level
    is relative to it), then the flux.  The first pass's magnitudes are kept for the
    second up to :data:`_FLUX_KEEP_BYTES`.  ``mono``: an array ``y``'s channel mean
    (``y.mean(axis=0)``, shape (n_samples,)) when the caller has it already; ``n_fft``:
    the frame (:func:`_flux_frames` gives both at a rate)."""
    from nmfaudio.nmf.kernels import run_in_threads

    # the channel mean a chunk of frames at a time, on the chunks' threads (an array's whole
    # mean was a one-thread pass over the track: the same samples, float32 either way), or
    # the one given
    if mono is None or track_reads.is_reader(y):
        mono = y
    else:
        mono = np.asarray(mono, dtype=np.float32)
    n_frames = spectrum.n_frames(track_reads.n_samples(mono), hop_length=hop, n_fft=n_fft)
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr) >= fmin  # librosa.fft_frequencies
    if not bins.any():
        return np.zeros(n_frames)
    first_bin = int(np.argmax(bins))  # the band: every bin from the first at or above fmin
    chunks = [(t0, min(t0 + _FLUX_CHUNK_FRAMES, n_frames)) for t0 in range(0, n_frames, _FLUX_CHUNK_FRAMES)]
    n_kept = _FLUX_KEEP_BYTES // ((bins.size - first_bin) * (_FLUX_CHUNK_FRAMES + 1) * 4)
    # a reader's file is read by one thread at a time
    n_threads = 1 if track_reads.is_reader(mono) else None

    def band(i):
        # the chunk's band magnitudes from the frame before it on (its first frame's rise);
        # the project's stft frames (centred): a track shorter than a frame is zero-padded
        t0, t1 = chunks[i]
        return track_reads.band_magnitudes(mono, max(t0 - 1, 0), t1, n_fft=n_fft, hop_length=hop,
                                           first_bin=first_bin, exact=_FLUX_EXACT)

    kept = [None] * len(chunks)
    peaks = np.zeros(len(chunks), dtype=np.float32)

    def peak_of(i):
        magnitudes = band(i)
        peaks[i] = magnitudes.max()
        if i < n_kept:
            kept[i] = magnitudes

    run_in_threads(peak_of, len(chunks), n_threads)
    peak = peaks.max()
    if not peak > 0:
        return np.zeros(n_frames)
    flux = np.empty(n_frames, dtype=np.float32)

    def flux_of(i):
        level = band(i) if kept[i] is None else kept[i]  # the chunk's own: made into its level in place
        kept[i] = None
        # log(1 + 1000 x): compresses the range so a quiet hat's attack counts next to a loud one
        # (1000 * x / peak, as written: the same float32 steps, without two temporaries)
        np.multiply(level, np.float32(1000), out=level)
        np.divide(level, peak, out=level)
        np.log1p(level, out=level)
        t0, t1 = chunks[i]
        # the mean rise over the bins in one pass (the difference and its maximum were two
        # more arrays of the chunk's size)
        flux[t0:t1] = track_reads.rise_means(level, first_zero=i == 0)

    run_in_threads(flux_of, len(chunks), n_threads)
    top = flux.max()
    return flux / top if top > 0 else flux


def _flux_frames(sr) -> tuple[int, int]:
    """The band flux's ``(n_fft, hop)`` at rate ``sr``: :data:`_FLUX_N_FFT`, and
    :data:`_FLUX_HOP` times :func:`nmfaudio.spectrum.frames_for_rate`'s hop over 512
    (1 up to ~31 kHz, 2 at 32, 44.1 and 48 kHz -- 1116 // 512 on the 48-kHz grid --,
    4 at 88.2 and 96 kHz), at most half of
    :data:`_FLUX_N_FFT` (the hop at 96 kHz, kept above it: 176.4 and 192 kHz).

    Why: with the hop in samples the flux at 44.1 kHz made twice the frames of
    22.05 kHz (a 2.9-ms hop) and its peak picking (±3 / ±20 frames, 4 apart) spanned
    half the time; with the hop scaled it has the 22.05-kHz grid's frame count, and
    ``result.hits()`` on the 3-minute 44.1-kHz track takes ~0.40 s warm instead of ~0.52 s.
    The frame stays :data:`_FLUX_N_FFT` samples (23 ms at 44.1 kHz): scaled with the hop
    (2048 / 256) it cost as much as before (twice the bins in half the frames) and lost
    hi-hat hits at 44.1 kHz (transcription seed 2 hi-hat F 0.989 -> 0.970; docs/
    performance.md, the hits44 round)."""
    factor = spectrum.frames_for_rate(sr)[1] // spectrum.HOP_LENGTH
    # at most half the frame (96 kHz's 512 / 1024), as spectrum.check_frames asks: from
    # ~125 kHz the factor is 8 and more, and hop 1024 (192 kHz) or 2048 (384 kHz) left
    # samples no frame covers -- every such run stopped on that error after the separation
    return _FLUX_N_FFT, min(_FLUX_HOP * factor, _FLUX_N_FFT // 2)


def _flux_onsets(flux, *, sr, hop, delta) -> np.ndarray:
    """Onset times (s) of a band flux: :func:`librosa.onset.onset_detect`'s peak picking
    (a local maximum over ±3 frames, ``delta`` above the mean of ±20 frames, 4 frames apart).

    Its steps written out — the envelope scaled to [0, 1] as it does (``normalize=True``),
    librosa's peak picking (:func:`nmfaudio.drums.peaks.peak_pick`, its loop), frames to
    seconds as ``librosa.frames_to_time`` — so the times are its own bit for bit
    (tests/test_hits.py), without importing ``librosa.onset`` (its feature and audio
    modules: 0.3-0.5 s of a command-line run's start-up) or ``librosa.util`` (docs/
    performance.md, the start-up rounds)."""
    if not flux.max() > 0:
        return np.zeros(0)
    envelope = flux - np.min(flux, keepdims=True, axis=-1)
    envelope /= np.max(envelope, keepdims=True, axis=-1) + np.finfo(envelope.dtype).tiny  # librosa.util.tiny
    if not envelope.any() or not np.all(np.isfinite(envelope)):
        frames = np.array([], dtype=int)
    else:
        frames = peak_pick(envelope, pre_max=3, post_max=3, pre_avg=20, post_avg=20, delta=delta, wait=4)
    return (np.asanyarray(frames) * hop).astype(int) / float(sr)  # librosa.frames_to_time's two steps


def _with_band_onsets(found, envelope, signal, *, sr, hop_length, fmin, delta, confirm, others,
                      retime=None, clear_s=_FLUX_NEW_S, flux=None, confirm_also=None) -> _Candidates:
    """Step 7 of the module notes: drop the activation's hits that the track's high band
    does not confirm (no flux onset ``confirm`` above its local mean within
    ``_FLUX_MATCH_S``), and add the flux onsets (``delta`` above their local mean) that no
    hit explains yet — none of this class within ``clear_s`` (``_FLUX_NEW_S``), none of
    ``others`` (the times of the hits that keep them out: :func:`_blocks_band_onsets`)
    within ``_FLUX_MATCH_S`` — where the activation is within ``_FLUX_FLOOR_DB`` of its
    maximum.  ``flux``: ``signal``'s band flux
    (:func:`_band_flux`) when already computed; ``confirm_also``: another band flux (the
    recording's) whose onsets ``confirm`` above their local mean confirm a hit too."""
    n_fft, hop = _flux_frames(sr)  # ``flux``'s given at the same rate has these frames
    if flux is None:
        flux = _band_flux(signal, sr, fmin=fmin, hop=hop, n_fft=n_fft)
    if confirm > 0 and len(found.times):
        confirmed = _flux_onsets(flux, sr=sr, hop=hop, delta=confirm)
        if confirm_also is not None:
            # a hat whose attack the separation gave another stem (the snare's at a backbeat,
            # a pedal chick's under a ride stroke) has its onset in the recording's band
            # (docs/log/transcription-decisions.md, hat-recall round 2026-12-04)
            confirmed = np.concatenate([confirmed, _flux_onsets(confirm_also, sr=sr, hop=hop, delta=confirm)])
        found = _keep(found, _near(found.times, confirmed, _FLUX_MATCH_S))
    if not delta > 0:
        return found
    onsets = _flux_onsets(flux, sr=sr, hop=hop, delta=delta)
    if retime is not None and len(onsets):
        onsets = retime(np.rint(onsets * sr).astype(int)) / sr
    onsets = onsets[~_near(onsets, found.times, clear_s) & ~_near(onsets, others, _FLUX_MATCH_S)]
    frames = np.clip(np.rint(onsets * sr / hop_length).astype(int), 0, len(envelope) - 1)
    padded = np.concatenate([[0.0], envelope, [0.0], [0.0]])
    # the activation's mass over the frame and its neighbours (frames may be one early or late)
    strengths = padded[frames] + padded[frames + 1] + padded[frames + 2]
    support = np.maximum.reduce([padded[frames], padded[frames + 1], padded[frames + 2], padded[frames + 3]])
    keep = support >= 10 ** (_FLUX_FLOOR_DB / 20) * envelope.max()
    added = _Candidates(frames[keep], strengths[keep], onsets[keep])
    order = np.argsort(np.concatenate([found.times, added.times]), kind="stable")
    return _Candidates(np.concatenate([found.frames, added.frames])[order],
                       np.concatenate([found.strengths, added.strengths])[order],
                       np.concatenate([found.times, added.times])[order])


def _shares(signal, mixture, onsets, *, sr, fmin, width, mean_square=None, array_mean_squares=None,
            mix_mono=None) -> np.ndarray:
    """The track's share (dB) of the recording's energy above ``fmin`` Hz in the
    ``width`` samples from each onset (sample index), Hann-windowed; shape (n_onsets,).
    Arrays or streamed tracks (:mod:`nmfaudio.drums.track_reads`).  ``mean_square``
    (default :func:`~nmfaudio.drums.track_reads.mono_mean_square`) gives a streamed
    mixture's mean square: :func:`detect_hits` computes it once for all classes (a
    whole pass over the file); ``array_mean_squares``, a dict :func:`detect_hits` keeps,
    an array mixture's (its channel mean's, float32) once too; ``mix_mono``: an array
    mixture's channel mean (``mixture.mean(axis=0)``, shape (n_samples,)) when the caller
    has it, read instead of averaging the channels again (the same numbers)."""
    streamed = track_reads.is_reader(signal) or track_reads.is_reader(mixture)
    n = min(track_reads.n_samples(signal), track_reads.n_samples(mixture))
    width = min(width, n)
    starts = np.clip(np.asarray(onsets, dtype=int), 0, n - width)
    if not streamed:
        window = np.hanning(width)
        band = np.fft.rfftfreq(width, 1 / sr) >= fmin
        index = starts[:, None] + np.arange(width)[None, :]
        # the windows' channel means: the whole tracks' means' samples, without making them
        track = signal[index] if signal.ndim == 1 else signal[:, index].mean(axis=0)
        if mix_mono is not None:  # the windows' samples of the same channel mean
            mix = mix_mono[index]
        else:
            mix = mixture[index] if mixture.ndim == 1 else mixture[:, index].mean(axis=0)
        track_power = (np.abs(np.fft.rfft(track * window, axis=1)) ** 2)[:, band].sum(axis=1)
        mix_power = (np.abs(np.fft.rfft(mix * window, axis=1)) ** 2)[:, band].sum(axis=1)
        cache = {} if array_mean_squares is None else array_mean_squares
        if (id(mixture), n) not in cache:  # (the array is kept with it: its id stays its own)
            whole = mix_mono if mix_mono is not None else (mixture if mixture.ndim == 1 else mixture.mean(axis=0))
            cache[id(mixture), n] = (mixture, float(np.mean(whole[:n] ** 2)))
        tiny = 1e-20 * max(cache[id(mixture), n][1], 1e-30) * width
    else:  # a stretch of onsets at a time (windows read from the files)
        # an array beside a streamed track is read through the same windows
        signal, mixture = (source if track_reads.is_reader(source) else audio.ArrayReader(source)
                           for source in (signal, mixture))
        track_power, mix_power = (track_reads.band_powers(source, starts, width, sr=sr, fmin=fmin)
                                  for source in (signal, mixture))
        tiny = 1e-20 * max((mean_square or track_reads.mono_mean_square)(mixture), 1e-30) * width
    return 10 * np.log10((track_power + tiny) / (mix_power + tiny))


def _level_floor_db(mixture, floor_dbfs, mean_square) -> float:
    """Step 9's floor (dBFS) for ``mixture``: ``floor_dbfs``, lowered for a quiet
    recording to its channel mean's RMS - ``QUIET_BELOW_RMS_DB``, but never more than
    ``QUIET_FLOOR_DB`` under ``floor_dbfs``.  ``mean_square``: :func:`detect_hits`'s
    cached pass over the mixture (one for every class), given the array or reader as it is
    (:func:`~nmfaudio.drums.track_reads.mono_mean_square` takes both)."""
    power = mean_square(mixture)
    rms_db = 10 * np.log10(power) if power > 0 else -np.inf
    return max(min(floor_dbfs, rms_db - QUIET_BELOW_RMS_DB), floor_dbfs - QUIET_FLOOR_DB)


def _peak_levels(mixture, onsets, *, width, mono=None) -> np.ndarray:
    """The largest magnitude of the recording's channel mean in the ``width`` samples
    from each onset (sample index), shape (n_onsets,); an array or a streamed track.
    ``mono``: an array's channel mean (``mixture.mean(axis=0)``, shape (n_samples,)), read
    without gathering and averaging the channels' windows (the same numbers)."""
    reader = mixture if track_reads.is_reader(mixture) else audio.ArrayReader(mixture)
    width = max(1, min(width, reader.n_samples))
    starts = np.clip(np.asarray(onsets, dtype=np.int64), 0, reader.n_samples - width)
    if mono is not None and not track_reads.is_reader(mixture):
        return track_reads.window_peaks(mono, starts, width)
    peaks = np.empty(len(starts))
    for group, windows in track_reads.mono_windows(reader, starts, width):
        peaks[group] = np.abs(windows).max(axis=1)
    return peaks


def _per_class(value, label, names, default, *, low=None, high=None) -> dict:
    """A per-class setting: None (the defaults), one number for all, or a dict."""
    if value is None:
        return {name: default(name) for name in names}
    if isinstance(value, dict):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"{label} names {sorted(unknown)}, which are not among the classes {names}")
        return {name: _check_real(value[name], f"{label}[{name!r}]", low=low, high=high) if name in value
                else default(name) for name in names}
    value = _check_real(value, label, low=low, high=high)
    return {name: value for name in names}


def _candidates(envelope, *, sr, hop_length, threshold_db, delta, average_s, mean_weight=0.0) -> _Candidates:
    """Peaks of one class's activation above the adaptive and the absolute threshold."""
    top = float(envelope.max())
    empty = _Candidates(np.zeros(0, dtype=int), np.zeros(0), np.zeros(0))
    if not top > 0:
        return empty
    x = envelope / top
    frames_per_second = sr / hop_length
    half = max(1, int(round(average_s * frames_per_second)))
    # The local level: the moving median (keeps ghost notes next to accents), or 3/4 of
    # the moving mean where higher (rejects a kick's re-firing); module notes, step 1.
    from scipy.ndimage import median_filter

    level = median_filter(x, size=2 * half + 1, mode="constant", cval=0.0)
    if mean_weight > 0:
        from scipy.ndimage import uniform_filter1d

        level = np.maximum(level, mean_weight * uniform_filter1d(x, size=2 * half + 1, mode="constant", cval=0.0))
    # a maximum at the first or last frame counts: zeros on both sides; a local maximum as
    # librosa.util.localmax has it (above the frame before, not below the frame after)
    frames = peak_frames(np.concatenate([[0.0], x, [0.0]]), 0.0) - 1
    frames = frames[x[frames] >= level[frames] + delta]
    if not len(frames):
        return empty
    padded = np.concatenate([[0.0], envelope, [0.0]])
    strengths = padded[frames] + padded[frames + 1] + padded[frames + 2]  # frames n-1, n, n+1
    keep = strengths >= 10 ** (threshold_db / 20) * strengths.max()
    frames, strengths = frames[keep], strengths[keep]
    # parabolic interpolation of the peak (sub-frame, in frames), bounded to ±½ frame
    left, mid, right = padded[frames], padded[frames + 1], padded[frames + 2]
    curvature = left - 2 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    times = (frames + np.clip(shift, -0.5, 0.5)) * hop_length / sr
    return _Candidates(frames, strengths, np.maximum(times, 0.0))


def _drop_bleed(candidates, envelopes, *, quantile, cap, margin, weak_fraction) -> dict:
    """Drop the candidates of a class that are another class's bleed (module notes, step 3);
    ``margin`` and ``weak_fraction`` are ``{class: value}``."""
    names = list(candidates)
    n_frames = len(next(iter(envelopes.values())))
    # h_k around a frame: the largest of the frame and its neighbours (peaks may be one frame apart)
    near = {name: np.maximum.reduce([np.concatenate([[0.0], e[:-1]]), e, np.concatenate([e[1:], [0.0]])])
            for name, e in envelopes.items()}
    drop = {name: np.zeros(len(candidates[name].frames), dtype=bool) for name in names}
    for j in names:
        source = candidates[j]
        if not len(source.frames):
            continue
        strong = source.frames[source.strengths >= 0.3 * source.strengths.max()]
        peak_j = envelopes[j][strong]
        at = np.zeros(n_frames)
        at[source.frames] = source.strengths  # j's hit strengths by frame
        at = np.maximum.reduce([np.concatenate([[0.0], at[:-1]]), at, np.concatenate([at[1:], [0.0]])])
        for k in names:
            target = candidates[k]
            if not len(target.frames):
                continue
            weak = target.strengths < weak_fraction[k] * target.strengths.max()
            if k == j:
                continue
            ratio = min(cap, float(np.quantile(near[k][strong] / peak_j, quantile)))
            drop[k] |= weak & (target.strengths < margin[k] * ratio * at[target.frames])
    return {name: _Candidates(c.frames[~drop[name]], c.strengths[~drop[name]], c.times[~drop[name]])
            for name, c in candidates.items()}


def _unplayed(strengths, played_db) -> set:
    """The classes taken as not played (module notes, step 2): their strongest hit is more
    than ``played_db[name]`` dB under the strongest of any class.  ``strengths``:
    ``{class: hit strengths}``."""
    loudest = max((float(s.max()) for s in strengths.values() if len(s)), default=0.0)
    return {name for name, s in strengths.items() if len(s) and s.max() < loudest * 10 ** (played_db[name] / 20)}


def _sparse_unplayed(strengths) -> set:
    """The classes taken as not played because they have few, weak hits (module notes,
    step 2): at most ``SPARSE_PLAYED_HITS`` hits, the strongest more than
    ``SPARSE_PLAYED_DB`` under the strongest hit of any class.  ``strengths``:
    ``{class: hit strengths}``."""
    loudest = max((float(s.max()) for s in strengths.values() if len(s)), default=0.0)
    return {name for name, s in strengths.items()
            if 0 < len(s) <= SPARSE_PLAYED_HITS and s.max() < loudest * 10 ** (SPARSE_PLAYED_DB / 20)}


def _merged(found: _Candidates, more) -> _Candidates:
    """``found`` and ``more`` (or None) in one set, in frame order."""
    if more is None or not len(more.frames):
        return found
    order = np.argsort(np.concatenate([found.frames, more.frames]), kind="stable")
    return _Candidates(*(np.concatenate([a, b])[order] for a, b in zip(
        (found.frames, found.strengths, found.times), (more.frames, more.strengths, more.times))))


def _keep(found: _Candidates, mask) -> _Candidates:
    return _Candidates(found.frames[mask], found.strengths[mask], found.times[mask])


def _enforce_interval(found: _Candidates, interval: float) -> _Candidates:
    """Merge hits closer than ``interval`` (after re-timing) into the first, with the
    larger strength (module notes, step 5)."""
    if len(found.times) < 2 or interval <= 0:
        return found
    order = np.argsort(found.times, kind="stable")
    frames, strengths, times = found.frames[order], found.strengths[order], found.times[order]
    keep = []
    for i in range(len(times)):
        if keep and times[i] - times[keep[-1]] < interval:
            # the same hit peaking again while it rings: its onset is the first peak, its
            # strength the larger (docs/transcription.md: crashes re-peak 40-100 ms later)
            strengths[keep[-1]] = max(strengths[keep[-1]], strengths[i])
            continue
        keep.append(i)
    keep = np.array(keep, dtype=int)
    return _Candidates(frames[keep], strengths[keep], times[keep])
