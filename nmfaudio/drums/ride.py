"""Ride patterns: tell a recording whose time-keeper is a ride from one with hi-hats, and
send the ride's strokes — which the closed hi-hat's template takes — to the cymbals.

Arrays only.  The bundled ride template does not match most kits' strokes, so in a ride
pattern the closed hi-hat part explains every stroke's attack (docs/log/drums-five-stems-decisions.md,
fourth round); no adaptation limit or template tried changed that.  This module decides
after the fit, from the signal, whether the hat part's hits are a ride's, and routes
them.

**The cue.** A ride rings for seconds and each stroke strikes it again: in the gap
between two strokes the band of :data:`RIDE_BAND_HZ` holds the same ring as in the gap
before — the same fine spectral structure (the cymbal's partials) at about the same
level.  Between two closed hats that band falls away, or holds a crash's wash that
decays.  A gap counts when it is at least :data:`MIN_GAP_S` long (a closed hat has
died by then) and no weaker hat peak (above :data:`SPLIT_DB`) lies inside it (the
unaccented sixteenths of a hat groove ring like a ride otherwise).  Measured on the
tuning material (docs/log/drums-five-stems-decisions.md, tenth round): 18 of 24 ride-style
performances found, none of 112 others (regular performances of seeds 0, 4 and 5, and
kick/snare/hi-hat grooves with the bundled and three kits' templates).
Where the gates (below) fail on the gaps so counted, a drum recording's gaps are
counted once more with a weaker peak within :data:`REFIRE_GAP_S` of a gap's start
merged (the ride's ring re-firing); a ride if either count passes.

**The ride part.** Some kits' strokes fit the ride template better than the closed
hat's (Millo-Drums, Audiophob at times): the ride part takes them, the hat part only
holds the pedal chicks and a crash, and nothing needs moving — but the cymbals'
activation is the crash's and the ride's summed, and the strokes, 10-30 dB under the
crashes there, fall under its threshold.  When the hat part's hits are no ride's, the
same cue judges the ride part's activation (:func:`ride_part_strokes`); when it holds,
``hits()`` picks that part apart as :data:`STROKE_LABEL`.  Measured on the tuning
ride-style performances of six kits, seeds 0, 2 and 4 (36; docs/log/transcription-decisions.md,
ride-part round): 22 found instead of 19, cymbals F per seed 0.614 / 0.504 / 0.569 →
0.680 / 0.509 / 0.639 (mean 0.562 → 0.609); none of 76 regular, kick/snare/hi-hat-only
and loop recordings decided (the ride part's share of steady gaps 0.00-0.14 there, one
0.50 with a 12-dB median change).

**The second cue.** The steady ring can be a crash's wash held over a hat groove's gaps,
and a ride's ring can wander by more than the gate allows (accents, a quiet ride under
the crashes).  The kit's model tells whose ring it is: at the counted gaps' ends, the
ride part's share of the modelled band (:func:`ring_share`) — its template rings, the
hats' do not.  The ride part's hits are a ride's only with that share at least
:data:`RING_SHARE`, under a looser gate (:data:`LOOSE_SHARE`, :data:`LOOSE_DB`); the
closed hat part's pass the strict gate as before, or the loose one — its median level
change under :data:`HAT_LOOSE_DB` — with at least :data:`HAT_RING_SHARE` (for the kits
whose ride the hat template takes, BJA-Pacific's, the share is 0.01-0.08: it cannot be
required there).  Measured on the tuning
material (docs/log/transcription-decisions.md, ride-cue round; 456 regular performances of seeds 0,
2, 4-20 and 72 ride-style ones of seeds 0, 2, 4): ride patterns found 81 → 94 of 150,
regular recordings taken for a ride 5 → 5 of 378 (the same five), kick/snare/hi-hat-only
ones 22 → 20 of 456.  The hat part's tighter level bound (ride false-positive round)
rejects a FluidR3 Standard halftime groove whose crashes' wash passed the loose gate
(4.6 dB), with the same rides found.

**The third cue.** Both gates need gaps that count, and a ride's ring re-fires 70-90 ms
after each stroke, 15-18 dB under it — a weaker hat peak that splits the gap — or wanders
from gap to gap.  Where neither gate holds, the closed hat part's hits are judged one by
one (:func:`hit_ring_share`): does the band, when the hit's ring ends (the next hit, or
an unaccented one past the re-firing), still hold the hit's own partials, not far under
it?  A ride's stroke does; a closed hat has died (the band holds the floor, a crash's
wash or an open hat's noise, of other fine structure).  At least :data:`HIT_RING_SHARE`
of the hits ringing make a ride — only for a kit with a ride part, as measured.
Measured on the tuning material (docs/log/transcription-decisions.md, ride-gap round): ride patterns
found 94 → 101 of 150 and 31 → 34 of the ride-hits round's 60, regular recordings taken
for a ride unchanged (5 of 378 Hydrogen, 7 of 63 FluidR3 Standard, 11 of 264 kick /
snare / hi-hat-only grooves; the share at most 0.33 where no gate decided).  Held out:
every ride-style draw of five above 0.60 cymbals F, one kick/snare/hi-hat-only groove
of 60 taken for a ride.

**The fourth cue.** Where the gates and the third cue fail in a drum recording whose kit
has a ride part, and the ride part's own hits are no ride's (:func:`ride_part_strokes`),
the cymbal parts' share of the kit's model of the band over the whole recording
(:func:`cymbals_hold`) decides: at least :data:`CYMBALS_HOLD`, a ride rings under the
groove (quiet strokes whose gaps wander: Audiophob's ride, whose ring the cymbal templates
hold while the closed hat part takes the strokes' attacks).  Measured
(docs/log/transcription-decisions.md, cymbals-hold round): at most 0.58 on the 372 regular and
kick/snare/hi-hat-only tuning grooves no other cue takes for a ride; 15 of the 91 ride
grooves none finds at 0.70 or more (all Audiophob's).  Not on one crash's wash ringing out
(:func:`crash_wash`): a one-bar loop that starts on a long crash has the cymbal parts hold
the band at every frame, struck once, fallen by the loop's end (docs/log/transcription-decisions.md,
loop-ride round: 10 → 4 of 266 tuning one-bar loops without a ride taken for rides, every
ride loop's and whole recording's decision kept).

**The fifth cue.** Asked with the fourth (and, as it, only where the ride part's own hits
are no ride's): a ridden crash (rumpf's) rings with no partials held from gap to gap, so no
gate holds, and the fit explains its ring by the closed hat part again.  The band at the end
of that part's gaps no more than :data:`HELD_RING_DB` under the band at its hits, with that
part holding at least :data:`HELD_RING_SHARE` of the band's model there
(:func:`hat_ring_level`), make a ride; a groove whose band stays that loud has an open hat's
or a crash's part holding it.  The band must stay within :data:`HELD_RING_LOW_DB` of the hits
at the lower quartile of the gaps too (:data:`HELD_RING_QUANTILE`): a disco groove's median
sits between its open hats' ringing gaps and its closed hats' dying ones and crossed
:data:`HELD_RING_DB` at 44.1 and 48 kHz (docs/log/drums-five-stems-decisions.md, rate-robust ride round).
Measured (docs/log/transcription-decisions.md, ride-held round): 7 of the
40 undecided ride-style rides of the tuning seeds 0, 2, 4, 6, 8 found (all rumpf's), none of
their 225 regular and kick/snare/hi-hat-only grooves taken.  With the lower quartile's bound
in place the median's could go from −5.5 to −8.5 dB (docs/log/drums-five-stems-decisions.md, ridenew round):
three more tuning rides found, no groove taken.

**Thin evidence.** The strict gate on the closed hat part, passed on at most
:data:`FEW_GAPS` counted gaps, needs the second cue or the third (on its hits or the ride
part's) too (drum recordings whose kit has a ride part): a 16th-note hat groove whose hats the fit spreads over
several parts leaves that part a few accents, and the gaps between them end on the
previous 16th's identical tail — steady, with nothing ringing (docs/log/transcription-decisions.md,
ride decision round: the four such grooves of the tuning seeds taken for rides no more).

**Compression.** A bus compressor evens the band at a hat groove's gap ends from gap to gap,
and the gates read that as a ride's ring.  In a drum recording the closed hat part's gates
also need its gaps' ends within :data:`GAP_END_DB` of its hits (:func:`hat_ring_level`'s
median), and the ride part's loose gate two steady gaps (:data:`RIDE_LOOSE_STEADY`).
Measured (docs/log/transcription-decisions.md, ridebus round; 244 tuning grooves without a
ride and 84 ride grooves): dry, 6 → 5 grooves taken for rides; under
``benchmarks/mixbus.py``'s "bus" 16 → 14, "record" 17 → 14 (the extra set's 32: 0 / 4 / 5 →
0 / 4 / 4); the rides found unchanged dry and under "bus", 68 → 67 of 84 under "record".

**The switch.** ``separate_drums(ride=...)`` (:func:`ride_mode`): "auto" decides as
above in drum recordings, and in a song by the strict gate alone at
:data:`SONG_STEADY_SHARE` (the closed hat part only); False looks for no ride (neither
part); True takes the closed hat part's strokes for a ride's without the decision
(``forced`` of :func:`stroke_weights`), in a song too — and, when that part has none to move (no
closed hat part, or no hi-hat stem asked for), the ride part's hits (``forced`` of
:func:`ride_part_strokes`): "on" never finds less than "auto".

**The routing.** In a ride recording the closed hat part's model goes to the cymbals
stem at every frame except within :data:`SNARE_GUARD_S` of the snare's hits: the
hi-hat's pedal chicks of a ride pattern fall on 2 and 4, with the snare.  In a drum
recording whose ride was decided (not forced), the moved model stays in the cymbals stem
only in the bins where the kit's cymbal parts' model holds as much; the rest — a shaker or
tambourine the hat template took with the strokes — goes to the residual
(:func:`split_strokes`, :data:`STROKE_SPLIT`; docs/log/drums-five-stems-decisions.md, ridden-crash round).

**The hits.** The ride is struck on 2 and 4 too, so
:meth:`~nmfaudio.drums.separation_result.DrumSeparation.hits` picks its strokes from the moved
activation *and* the hat part's activation kept at the snare's hits (a note of each
there), adding the cymbals' track's high-band onsets as for the hi-hat
(:data:`~nmfaudio.drums.hits.RIDE_FLUX_DELTA`); the hi-hat's hits that are only a
stroke's echo in its other parts are dropped (:func:`hat_echoes`), and so are the
cymbals' hits within :data:`ECHO_S` of a stronger stroke (the crash parts' echo of it,
:data:`CRASH_SHARE`).  Measured on the tuning ride-style performances
(docs/log/drums-five-stems-decisions.md, the tenth round's follow-ups): cymbals F 0.633 → 0.739 →
0.747, hi-hat F 0.602 → 0.710 (seed 0); the onsets, docs/log/transcription-decisions.md's ride-hits
round: 0.548 → 0.570 (seeds 0, 2, 4, 6, 8).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from nmfaudio import audio
from nmfaudio._validation import check_switch
from nmfaudio.drums import track_reads
from nmfaudio.drums.hat_fill import FILL_TOM_S
from nmfaudio.drums.general_midi import RIDE_NOTE, gm_notes
from nmfaudio.drums.hits import _band_usable, _shares
from nmfaudio.drums.peaks import find_peaks
from nmfaudio.drums.templates import class_of
from nmfaudio.drums.times import near

__all__ = ["RIDE_BAND_HZ", "STROKE_LABEL", "ECHO_SHARE", "CRASH_SHARE", "RING_SHARE", "HAT_RING_SHARE", "HAT_LOOSE_DB",
           "HELD_SHARE", "GAP_END_DB", "RIDE_LOOSE_STEADY",
           "HIT_RING_SHARE", "CYMBALS_HOLD", "HELD_RING_DB", "HELD_RING_SHARE", "HELD_RING_LOW_DB",
           "HELD_RING_QUANTILE", "SONG_STEADY_SHARE", "RIDE_WINDOW_S", "ride_windows", "WASH_END_DB",
           "WASH_RISE_DB", "WASH_RISE_S", "WASH_DB",
           "WASH_FROM", "WASH_RIDE_SHARE", "is_ride_pattern", "crash_wash",
           "hit_ring_share", "ring_share", "stroke_weights", "cymbals_hold", "hat_ring_level",
           "move_strokes", "ride_part_strokes", "hat_echoes", "ride_mode", "backbeat_snare", "STROKE_SPLIT",
           "split_strokes"]

#: The band whose ring is compared (Hz): above the snare's body, below the air.
RIDE_BAND_HZ = (3000.0, 10000.0)
#: Hat-part peaks at least this far under its largest (dB) are not the time-keeper's hits.
PEAK_DB = -12.0
#: A gap with a hat peak above this (dB under the largest) inside does not count.
SPLIT_DB = -20.0
# Times are in seconds, counted in frames of the recording's hop (:func:`_frames`); the
# values were chosen at hop 512 / 22.05 kHz (23.2 ms; the default grid at every rate,
# nmfaudio.spectrum.frames_for_rate), where each gives the frame count named.
#: Shortest gap (s) whose end is measured: 7 frames at the default hop.
MIN_GAP_S = 0.155
#: The ring before a gap's end (and before its start) is the mean of this long (s) just
#: before the hit: 2 frames at the default hop.
RING_S = 0.046
#: Snare peaks closer than this (s) are one hit: 5 frames at the default hop.
SNARE_DISTANCE_S = 0.11
#: Fewest counted gaps for a decision (fewer: not a ride).
MIN_GAPS = 4
#: A gap is *steady* when the fine spectral shape (log magnitude minus its running mean
#: over DETREND_HZ) in the RING_S before its end correlates with the previous gap's above
#: STEADY_CORR and their band energies differ by less than STEADY_DB.
STEADY_CORR = 0.3
STEADY_DB = 3.0
#: 15 bins at n_fft 2048 / 22.05 kHz (10.8 Hz a bin; 4096 at 44.1 kHz, the default, too;
#: 15 bins of 10.75 Hz at 48 kHz since rate48_68, 14 bins of 11.7 Hz at 4096 / 1024).
DETREND_HZ = 161.0
#: A ride: at least this share of the counted gaps steady, and their median level change
#: under MEDIAN_DB.  Measured (the module notes): the 18 ride-style performances found
#: 0.43-0.80 and 0.9-3.5 dB; of the 112 others none above 0.29 (with 4.1 dB).
STEADY_SHARE = 0.35
MEDIAN_DB = 3.5
#: In a song (``song=True`` of :func:`stroke_weights`) the strict gate alone, with at
#: least SONG_STEADY_SHARE of the counted gaps steady: the music's sustained notes hold
#: the band steady between hats too, and the loose gate and the third cue fire on them.
#: Measured on the mixture of the tuning songs (docs/log/drums-full-song-decisions.md, twenty-fourth
#: round; seeds 0-8 and 23-28, GMRockKit and BJA_Pacific, -6/0/+6 dB, 12 s): the ride
#: songs' closed hat part 0.53-0.70 where found (12 of 18; 0.26-0.47 on the six missed),
#: the 41 others with modelled hat parts at most 0.44 (a shaker, seed 7 at -6 dB); the
#: drum recordings' gates took 9 of those 41 for a ride (the third cue up to 0.68) and
#: found 15 of the 18.  At 44.1 kHz with the hat-presence test; at 22.05 kHz (no such
#: test) 8 of the 18 and 6 of the 72 others (the review check after that round).
SONG_STEADY_SHARE = 0.5
#: A recording at least twice this long (s) is judged in windows this long (:func:`ride_windows`,
#: :func:`move_strokes`): a ride chorus between hat verses is found where it plays, and the
#: verses keep their hats.  Judged once, the whole recording went with the chorus (tuning kits,
#: hat / ride / hat sections of 16-20 s: the verses' hi-hat onset F 0.58 / 0.52, each verse
#: alone 0.96 / 0.83; in windows 0.93 / 0.86; docs/log/drums-five-stems-decisions.md,
#: ride-sections round).  About the length of the performances the cues were measured on (8 s).
RIDE_WINDOW_S = 10.0
#: A looser gate, with a second cue (:func:`ring_share`): at least LOOSE_SHARE of the
#: counted gaps steady and their median level change under LOOSE_DB (0.2: one steady gap
#: of five took two kick/snare/hi-hat-only grooves for rides; docs/log/transcription-decisions.md,
#: the ride-cue round).
LOOSE_SHARE = 0.25
LOOSE_DB = 5.0
#: The second cue: the ride part's share of the kit's model of the band at the ends of
#: the counted gaps — the ring between the strokes is the ride template's.  The ride
#: part's hits are a ride's only with at least RING_SHARE (in the loose gate, which holds
#: the strict one); the closed hat part's, either by the strict gate alone or by the
#: loose one with at least HAT_RING_SHARE.  Measured (docs/log/transcription-decisions.md, ride-cue
#: round; 528 tuning recordings, 150 of them ride patterns): where the ride part passes
#: the loose gate, 0.01-0.08 on the 5 that play none, 0.09 and 0.18-0.82 on the 27 ride
#: patterns; where the hat part passes it but not the strict gate, at most 0.21 on the 11
#: that play none, 0.34-0.35 on 3 of the 18 ride patterns.
RING_SHARE = 0.15
HAT_RING_SHARE = 0.3
#: The closed hat part's loose gate takes a median level change under HAT_LOOSE_DB (dB),
#: not LOOSE_DB: FluidR3 Standard's halftime groove of the drums benchmark's tuning set
#: (closed hats, two crashes, no ride: the crashes' wash over the bar, which the ride
#: template explains, 0.33) passed it at 4.6 dB, its hats sent to the cymbals (hi-hat
#: 0.37 → −7.21 dB); the 3 ride patterns found there are at 3.5-3.9 dB, 4.25 the middle
#: (docs/log/transcription-decisions.md, ride false-positive round: 94 of 150 rides found as before).
HAT_LOOSE_DB = 4.25
#: The closed hat part's loose gate also needs at least this many steady gaps: one steady
#: gap of four (0.25, the least LOOSE_SHARE takes) is no ring held from stroke to stroke.
#: AVL Drumkits' Red Zeppelin halftime groove of the drums benchmark's "extra" set (seed 0:
#: closed hats 24 dB under the kick, crashes, no ride) passed the loose gate so — 4
#: counted gaps, 1 steady, median change 3.4 dB, the ride part's share 0.34 — and its
#: hats went to the cymbals stem (hi-hat 3.0 dB oracle, −13.8 dB); docs/log/drums-five-stems-decisions.md,
#: the hat-kits round.
HAT_LOOSE_STEADY = 2
#: The ride part's loose gate's least number of steady gaps (1 before the ridebus round): one
#: steady gap of four or five counted is no ring held from stroke to stroke — under bus
#: compression it took four tuning grooves without a ride for rides, kick/snare/hi-hat-only
#: ones among them (docs/log/transcription-decisions.md, ridebus round); every ride the ride
#: part's gate found dry passed on two or more.
RIDE_LOOSE_STEADY = 2
#: In a drum recording the closed hat part's gates (strict or loose) also need the ride
#: part and the hat parts together to hold at least this share of the band's model at the
#: counted gaps' ends (the median over the ends; :func:`ring_share` of those parts): a
#: ride's ring is the ride template's or, for the kits whose ride the hat templates take,
#: theirs.  Hats 23-27 dB under the kick leave the band at their gaps' ends to a crash's
#: wash or the snare's and kick's tails — as steady from gap to gap as a ride — and five
#: such regular grooves of the tuning kits (FluidR3 Standard, MuseScore Standard) were
#: taken for rides, their hats sent to the cymbals stem (hi-hat −5.7 / −5.7 / −11.0 dB;
#: 1.0 / −1.0 / 3.6 without the ride decision): 0.15-0.35 there, 0.46-0.93 on the 31 tuning
#: ride-style grooves the gates pass (docs/log/drums-five-stems-decisions.md, hat-snare round).  0: off.
HELD_SHARE = 0.4
#: In a drum recording the closed hat part's gates (strict or loose) also need the band at
#: the end of its gaps no more than GAP_END_DB (dB) under the band at its hits, the median
#: over the gaps (:func:`hat_ring_level`, the fifth cue's level): each gap's end measured
#: against its own hit, not against the other gaps' ends.  Bus compression evens a hat
#: groove's gap ends from gap to gap (the compressor's gain, lowered by each loud hit, scales
#: the tails between), and the gates' gap-to-gap level change (STEADY_DB) passed there.
#: Measured (docs/log/transcription-decisions.md, ridebus round; the hat part's gate passes
#: in 1,080 tuning and extra recordings, dry and under ``benchmarks/mixbus.py``'s "bus" and
#: "record"): the rides −16.4 to −2.7 dB, the grooves without a ride −41.2 to −5.1 — three
#: under −20 (one dry, two under "record"); most grooves compression takes for rides stay
#: taken.  None: off.
GAP_END_DB = -20.0
#: The third cue, on the closed hat part's hits one by one (:func:`hit_ring_share`): a ride
#: still rings with the stroke's own partials when the next stroke comes; a closed hat is
#: gone in under 80 ms, and what the band holds then (a crash's wash, an open hat's noise)
#: has other fine structure.  A hit *rings* when the fine spectral shape (as for
#: STEADY_CORR) over the RING_S before its ring's end correlates with the one over the
#: RING_S from the hit above HIT_RING_CORR, and the band there is no more than
#: HIT_RING_DB (dB) under the hit's.  The ring ends at the next hit (PEAK_DB), at a weaker
#: hat peak above RING_SPLIT_DB later than REFIRE_S after the hit (an unaccented hat: the
#: ride's own ring re-fires 70-90 ms after a stroke, 15-18 dB under it), or HIT_RING_S
#: after the hit; shorter than MIN_GAP_S, the hit is not measured.  A ride: at least
#: HIT_RING_SHARE of the measured hits (at least MIN_GAPS of them) ring.  It judges the
#: recordings whose gaps split or wander (the gate needs no gap, and no gap to gap
#: steadiness).  Measured (docs/log/transcription-decisions.md, ride-gap round): the share is at most
#: 0.33 on the 429 regular Hydrogen and FluidR3 Standard grooves no other gate takes for a
#: ride (0.25 on 253 kick/snare/hi-hat-only ones), 0.40-0.81 on the 10 rides it finds
#: (BJA-Pacific, GMRockKit, The Black Pearl).
HIT_RING_CORR = 0.4
HIT_RING_DB = -10.0
HIT_RING_SHARE = 0.4
#: Thin evidence (the ridedec round): the closed hat part's strict gate passed on at most
#: FEW_GAPS counted gaps is a ride's only with the second cue (:func:`ring_share` at least
#: :data:`RING_SHARE`) or the third (:func:`hit_ring_share` at least :data:`HIT_RING_SHARE`,
#: on the hat part's hits or on the ride part's) — in a drum recording whose kit has a
#: ride part (the cues' model).  A 16th-note hat
#: groove whose hats the fit spreads over the hat, open-hat and ride parts leaves the
#: closed hat part a few accents, and the gaps between them end on the previous 16th's
#: identical tail: steady, though nothing rings.  Measured (docs/log/transcription-decisions.md,
#: ride decision round; tuning seeds 0, 2, 4): the four kick/snare/hi-hat-only 16th grooves
#: taken for rides passed on 4-6 gaps with the ride part's share 0.01-0.08 and their hits'
#: ring share 0.00-0.05; of the 40 rides the strict gate found (ride-style and regular
#: sets), the 10 on at most 6 gaps read a ride part's share of 0.20-0.76 or a hit ring
#: share of 0.44 (BJA-Pacific) or, Millo-Drums' (the hat part a hit a second, the strokes
#: in the ride part), 0.46 on the ride part's hits (the four grooves: 0.00-0.11).  0: off.
FEW_GAPS = 6
#: The fourth cue (:func:`cymbals_hold`; drum recordings whose kit has a ride part, where the
#: gates and the third cue fail and the ride part's own hits are no ride's): the cymbal
#: parts' share of the kit's model of the band, the median over every frame of the
#: recording, at least CYMBALS_HOLD.  A ride rings under the whole groove, and where its
#: strokes are quiet or its gaps wander (Audiophob's, Millo-Drums') the cymbal templates
#: still explain the band most of the time while the closed hat part takes the strokes'
#: attacks; crashes ring over a bar or two, hats not at all.  Measured
#: (docs/log/transcription-decisions.md, cymbals-hold round; tuning seeds 0, 2, 4, 6, 8 and 9-20, -n 2):
#: at most 0.58 on the 372 regular and kick/snare/hi-hat-only grooves no gate takes for a
#: ride (a halftime groove's crashes), 0.01-0.90 on the 91 ride grooves none finds, 15 of
#: them (all Audiophob's) at 0.70 or more.  0: off.
CYMBALS_HOLD = 0.7
#: ... but not on one crash's wash (:func:`crash_wash`): a loop that starts on a long crash
#: (FluidR3 Standard's rings past a 2-s bar) has the cymbal parts hold the band at every
#: frame, the hats quiet under it.  A wash rings out: the cymbal parts' band model, its
#: median over the recording's last WASH_FROM, at least -WASH_END_DB under its top.  A
#: ride's ring is kept up — the level holds, or the model rises by more than WASH_RISE_DB
#: over its least in the WASH_RISE_S before (4 frames at the default hop), within WASH_DB
#: of its top, at some frame past the first WASH_FROM — or the ride part holds the band
#: (its median share at least WASH_RIDE_SHARE).  A wash: the fourth cue does not decide.
#: Measured (docs/log/transcription-decisions.md, loop-ride round; one-bar and two-bar loops and
#: 3-s cuts of the tuning performances and ride grooves, seeds 0, 2, 4, 6, 8): the 6
#: one-bar loops of grooves without a ride that the fourth cue took for rides (all FluidR3
#: Standard's, all starting on a crash) fall by 17.8-25.0 dB, rise by 2.7 dB at most, ride
#: share 0.08-0.20; of the ride recordings it decides, those with no rise fall by 20.8 dB
#: with a ride share of 0.48 (a ride groove's bar starting on a crash) or by 6.4-9.2 dB.
#: WASH_RIDE_SHARE 0: off.
WASH_END_DB = -15.0
WASH_RISE_DB = 3.0
WASH_RISE_S = 0.093
WASH_DB = 20.0
WASH_FROM = 0.25
WASH_RIDE_SHARE = 0.3
#: The fifth cue (:func:`hat_ring_level`; drum recordings whose kit has a ride part, asked with
#: the fourth where every other cue fails): the band at the end of the closed hat part's gaps
#: (the mean over RING_S before the next hit) no more than HELD_RING_DB (dB, the median over
#: the gaps) under the band at the hits, and the closed hat part itself holding at least
#: HELD_RING_SHARE of the band's model there (:func:`ring_share`).  A closed hat is gone by
#: a gap's end; a ride or a ridden crash whose strokes the hat template takes still rings,
#: and the fit explains the ring by the hat part again (rumpf's ridden crash: its ring
#: wanders from gap to gap, no gate holds).  Where a groove's band stays that loud, an open
#: hat's or a crash's part holds it.  Measured (docs/log/transcription-decisions.md, ride-held round; the
#: 360 performances of ``benchmarks/transcription.py --ride``, tuning seeds 0, 2, 4, 6, 8):
#: the 40 undecided ride-style rides (37 with enough gaps) −20 to −3 dB and 0.03-0.59; the
#: 225 regular and kick/snare/hi-hat-only grooves measured −43 to −3.9 dB, those at −5.5 dB
#: or more all at 0.20 or less (those at 0.3 or more all −6.3 dB or less); 7 undecided rides
#: pass (all rumpf's ridden crash), no groove.  HELD_RING_SHARE 0: off.  −5.5 dB then; since
#: the lower quartile's bound (HELD_RING_LOW_DB) keeps the disco grooves out, −8.5: the grooves
#: with a share of 0.3 or more and a median from −8.5 to −5.5 dB all read a lower quartile of
#: −10.3 dB or less, and three tuning rides whose ring the median bound alone kept out read
#: −7.4 to −5.8 dB, quartile −8.8 to −8.4 (docs/log/drums-five-stems-decisions.md, ridenew round: rumpf's
#: two regular ride grooves of seeds 4 and 8, BJA-Pacific's ride-style 6.0; no groove of the
#: 1,400 tuning, extra, variant and new-kit recordings traced at 22.05 and 44.1 kHz newly taken).
HELD_RING_DB = -8.5
HELD_RING_SHARE = 0.3
#: ... and the band at most HELD_RING_LOW_DB (dB) under the hits at the HELD_RING_QUANTILE-th
#: percentile of the gaps too: a ride rings at the end of (nearly) every gap, a disco groove's
#: band only after its open hats — its closed hats' gaps die by 10-45 dB, so the median of the
#: two kinds of gap lies on a steep slope and moved over HELD_RING_DB with the fit (at 44.1
#: kHz: Audiophob's and BJA-Pacific's disco grooves of the drums benchmark's tuning set, −5.1 /
#: −5.3 dB, −6.3 / −6.4 at 22.05 kHz; their hats sent to the cymbals, hi-hat SDR 3.2 / 4.2 dB
#: at 22.05 kHz, −9.2 / −11.4 at 44.1).  Measured (docs/log/drums-five-stems-decisions.md,
#: rate-robust ride round; the drums benchmark's tuning set and ``benchmarks/transcription.py
#: --ride``, tuning seeds 0, 2, 4, 6, 8, at 22.05, 44.1 and 48 kHz; transcription sets at
#: ``-n 2``): the four rides the fifth cue finds (rumpf's ridden crash, 22.05 kHz) at −8.7 dB
#: or more, the 13 groove recordings whose median reaches −5.5 dB (disco grooves, none a ride)
#: at −10.3 dB or less.
HELD_RING_LOW_DB = -9.5
HELD_RING_QUANTILE = 25.0
#: Times (s) of the third cue: 15 and 5 frames at the default hop (at 48 kHz too; 16 and 5 at
#: 4096 / 1024, its grid before rate48_68).
HIT_RING_S = 0.35
REFIRE_S = 0.115
#: A weaker hat peak (dB under the largest) that ends a hit's ring (after REFIRE_S).
RING_SPLIT_DB = -30.0
#: The second count of the gaps (:func:`is_ride_pattern`, drum recordings only): a
#: weaker peak within REFIRE_GAP_S (s; 3 frames at the default hop) after a gap's start
#: does not split it — a ride's ring re-fires 2-4 frames after each stroke, 12-20 dB
#: under it, and that peak split the gaps of BJA-Pacific's and Millo-Drums' rides.  It
#: can only add decisions: counting those gaps too lowered some rides' steady share, so
#: a recording the usual count decides stays decided (docs/log/transcription-decisions.md, ride-gate
#: round: on the tuning captures 4 more Hydrogen rides of 72 and 4 more FluidR3
#: Standard ones of 12, none of the 246 regular and kick/snare/hi-hat-only grooves
#: newly taken; ride-style cymbals F on tuning seeds 2 / 6 / 8 0.612 / 0.499 / 0.569 →
#: 0.669 / 0.560 / 0.602; held-out seeds 49 and 51 unchanged; the ride-refire round: as
#: the only count it lost rides held out).
REFIRE_GAP_S = 0.07
#: Time (s) each side of a snare hit where the closed hat part stays the hi-hat: 1 frame
#: at the default hop.
SNARE_GUARD_S = 0.023
#: The General MIDI note of the template part whose model the ride's strokes are taken
#: from: the closed hi-hat (the first hi-hat label that names it: "hihat", "hihat:closed").
HAT_NOTE = 42
#: The name of the strokes' activation in :meth:`DrumSeparation.hits` (a cymbals
#: sub-template: General MIDI note 51, the cymbals' track).
STROKE_LABEL = "cymbals_ride"
#: A hi-hat hit within ECHO_S (s) of a stroke and under ECHO_SHARE of its strength is the
#: stroke's echo in the other hat parts (:func:`hat_echoes`; measured in
#: docs/log/drums-five-stems-decisions.md, tenth round's follow-up).
ECHO_S = 0.03
ECHO_SHARE = 0.6
#: A crash hit (the cymbals' own activation) within ECHO_S of a stronger stroke is the
#: stroke again — the crash parts explain a little of each stroke — not a crash
#: played with it (:func:`hat_echoes` with ``share=CRASH_SHARE``; measured in
#: docs/log/drums-five-stems-decisions.md, tenth round's second follow-up: cymbals F 0.739 → 0.747 on
#: the tuning ride-style performances of seed 0, 0.676 unchanged on seed 2).
CRASH_SHARE = 1.0
#: In a ride recording a weak hi-hat hit (under STROKE_WEAK of the hat's strongest, the
#: bleed test's "weak") where the cymbals' track holds more than STROKE_BAND_DB of the hat
#: track's energy above STROKE_BAND_HZ, in the STROKE_BAND_SAMPLES from its onset, is a
#: stroke the hat's activation explains too (:func:`stroke_bands`; measured in
#: docs/log/transcription-decisions.md, hat-onset round: of the hat's hits in the decided rides of the
#: tuning captures the real ones (pedal chicks) sit at a median −14 dB, 0.8 of the hat's
#: strongest, the false ones at the strokes at +5 dB, 0.1).
STROKE_WEAK = 0.2
STROKE_BAND_DB = -3.0
STROKE_BAND_HZ = 5000.0
STROKE_BAND_SAMPLES = 1024
#: In a ride recording a hi-hat hit under RING_WEAK of the hat's strongest whose band
#: above STROKE_BAND_HZ in the hat's track, RING_LAG_S after its onset, stands within
#: RING_DB of the onset's (STROKE_BAND_SAMPLES each) is a stroke ringing on in the hat's
#: stem, not a hat: a closed hat or a pedal chick is gone by then (:func:`stroke_rings`;
#: measured in docs/log/transcription-decisions.md, hat-precision round: in the decided rides of the
#: tuning captures 38 + 41 false hats against 4 + 2 real ones, regular + ride-style).
RING_WEAK = 0.6
RING_DB = -8.0
RING_LAG_S = 0.09
#: ... except a hit within PEDAL_S (s) of a snare hit: the pedal chick the routing keeps in
#: the hat's stem there (:data:`SNARE_GUARD_S`), played with a stroke whose ring the hat's
#: track holds too (docs/log/transcription-decisions.md, ride-hat round: in the decided rides of the
#: tuning performances 22 real hats given back against 1 false one, with the snare hits
#: ``DrumSeparation.hits`` passes: within PEAK_DB of its strongest, none in a fill).
PEDAL_S = 0.03
#: In a drum recording's ride groove the moved hat parts (:func:`move_strokes`) hold the
#: strokes and whatever else the hat template took: a shaker or a tambourine on the same
#: eighths, in the bands where the stroke is weak.  Per frequency bin, the share of their
#: model the cymbals stem keeps is the kit's cymbal parts' model there over theirs (over
#: the recording) times STROKE_SPLIT, at most 1; the rest goes to the residual
#: (:func:`split_strokes`).  Measured (docs/log/drums-five-stems-decisions.md, ridden-crash round) on
#: the ride grooves of tuning seeds 0, 2, 4, 6, 8 (the Hydrogen tuning kits, their
#: ``-noride`` variants, FluidR3 Standard and the extra set's SoundFont kits; 88
#: recordings, 64 taken for rides): cymbals 6.88 → 7.45 dB (41 up, 3 down, the largest
#: loss 0.85 dB: BJA-Pacific, whose ride the hat template takes), seed 0's shaker groove
#: −2.9 to −1.2 → 1.4 to 2.1 dB where taken for a ride; 0.5 and 0.25 gain more on the
#: ``-noride`` variants but lose up to 1.7 and 2.4 dB.
STROKE_SPLIT = 1.0


def ride_mode(value):
    """Check ``ride=``: "auto", True or False (also "on" / "off")."""
    return check_switch(value, "ride", auto=True,
                        meaning="True: the closed hi-hat's strokes are a ride's, False: no ride is looked for")


def _frames(seconds, frame_rate) -> int:
    """``seconds`` in frames at ``frame_rate`` (frames per second), at least 1."""
    return max(1, int(round(seconds * frame_rate)))


def _detrended_log(spectra, bins):
    logs = np.log(spectra + 1e-9)
    return logs - uniform_filter1d(logs, bins, axis=0)


def _columns_corr(a, b):
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    return (a * b).sum(axis=0) / np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0) + 1e-30)


def _peaks(h, level_db, distance=1):
    if not h.max() > 0:
        return np.zeros(0, dtype=int)
    return find_peaks(h, height=h.max() * 10 ** (level_db / 20), distance=distance)


def _gap_cue(band_magnitude, hat, frame_rate, bin_hz, refire=0):
    """The counted gaps' share of steady ones, their median |level change| (dB) and their
    last frames (ndarray of int), or None when fewer than :data:`MIN_GAPS` count or the
    band has fewer than two :data:`DETREND_HZ` widths of bins.  ``refire`` (frames): a
    weaker peak this close after a gap's start does not split it (:data:`REFIRE_GAP_S`)."""
    hits = _peaks(hat, PEAK_DB)
    weaker = _peaks(hat, SPLIT_DB)
    a, b = hits[:-1], hits[1:]
    inside = np.searchsorted(weaker, b) - np.searchsorted(weaker, a + refire, side="right")
    ring = _frames(RING_S, frame_rate)
    counted = (b - a >= _frames(MIN_GAP_S, frame_rate)) & (a >= ring) & (inside == 0)
    a, b = a[counted], b[counted]
    detrend = _frames(DETREND_HZ, 1 / bin_hz)
    if a.size < MIN_GAPS or band_magnitude.shape[0] < 2 * detrend:
        return None
    before = sum(band_magnitude[:, a - k] for k in range(1, ring + 1)) / ring  # the ring before each gap
    after = sum(band_magnitude[:, b - k] for k in range(1, ring + 1)) / ring  # ... and at its end
    corr = _columns_corr(_detrended_log(before, detrend), _detrended_log(after, detrend))
    change = 10 * np.log10(((after ** 2).sum(axis=0) + 1e-30) / ((before ** 2).sum(axis=0) + 1e-30))
    steady = (corr > STEADY_CORR) & (np.abs(change) < STEADY_DB)
    return float(steady.mean()), float(np.median(np.abs(change))), b - 1


def is_ride_pattern(band_magnitude, hat, frame_rate, bin_hz, *, ring=None, need=(None, HAT_RING_SHARE),
                    loose_db=HAT_LOOSE_DB, loose_steady=HAT_LOOSE_STEADY, steady_share=STEADY_SHARE,
                    refire=False, hit_ring=None, held=None, end_level=None) -> bool:
    """Whether the closed hi-hat part's (or the ride part's) hits are a ride's strokes
    (the module notes).

    Parameters
    ----------
    band_magnitude : ndarray, shape (F_band, N)
        The recording's magnitude in the bins of :data:`RIDE_BAND_HZ` (channels summed).
    hat : ndarray, shape (N,)
        The judged part's activation.
    frame_rate : float
        Frames per second (``sr / hop_length``).
    bin_hz : float
        The width of a frequency bin (``sr / n_fft``).
    ring : callable or None, default None
        ``ring(frames)``, frames an ndarray of int (n,): the second cue there
        (:func:`ring_share`).  None: the strict gate alone.
    need : (float or None, float or None), default (None, HAT_RING_SHARE)
        The least ``ring`` needed with the strict gate (None: none needed) and with the
        loose one (None: that gate not used); (RING_SHARE, RING_SHARE) for the ride part.
    loose_db : float, default HAT_LOOSE_DB
        The loose gate's bound on the gaps' median level change (dB): the closed hat
        part's; :data:`LOOSE_DB` for the ride part.
    loose_steady : int, default HAT_LOOSE_STEADY
        The loose gate's least number of steady gaps: the closed hat part's; 1 for the
        ride part (its share alone, as measured).
    steady_share : float, default STEADY_SHARE
        The strict gate's least share of steady gaps (:data:`SONG_STEADY_SHARE` in a song).
    refire : bool, default False
        True: where the gates fail on the gaps as counted, they judge them once more
        counted with the ride's re-firing merged (:data:`REFIRE_GAP_S`); a ride if
        either count passes.
    hit_ring : callable or None, default None
        ``hit_ring()``: the third cue's share (:func:`hit_ring_share`, float or None).
        Given (with ``ring``), a strict pass with no second cue needed, on at most
        :data:`FEW_GAPS` counted gaps, needs ``ring`` at least :data:`RING_SHARE` or
        this at least :data:`HIT_RING_SHARE`.  None: no such check.
    held : callable or None, default None
        ``held(frames)``: the ride and hat parts' share of the band's model there
        (:func:`ring_share` of those parts); given, a pass of either gate needs it at least
        :data:`HELD_SHARE` at the counted gaps' ends.  None: no such check.
    end_level : callable or None, default None
        ``end_level()``: the band at the gaps' ends against the hits (dB, the median;
        :func:`hat_ring_level`, float or None); given, a pass of either gate needs it at
        least :data:`GAP_END_DB` (None: no gaps measured, no check).  None: no such check.

    Returns
    -------
    bool
    """
    if _gates(_gap_cue(band_magnitude, hat, frame_rate, bin_hz), ring, need, loose_db, steady_share, loose_steady,
              hit_ring, held, end_level):
        return True
    if not refire:
        return False
    # the second count only adds: with the re-fired gaps counted some rides' share falls
    cue = _gap_cue(band_magnitude, hat, frame_rate, bin_hz, refire=_frames(REFIRE_GAP_S, frame_rate))
    return _gates(cue, ring, need, loose_db, steady_share, loose_steady, hit_ring, held, end_level)


def _gates(cue, ring, need, loose_db, steady_share, loose_steady=1, hit_ring=None, held=None,
           end_level=None) -> bool:
    """The strict and loose gates of :func:`is_ride_pattern` on one count of the gaps
    (``cue``: :func:`_gap_cue`'s result; ``loose_steady``: the loose gate's least number
    of steady gaps; ``hit_ring``: the thin-evidence check's third cue, :data:`FEW_GAPS`;
    ``held``: the ride and hat parts' share, :data:`HELD_SHARE`; ``end_level``: the gaps'
    ends against the hits, :data:`GAP_END_DB`)."""
    if cue is None:
        return False
    # evaluated once: a failing pass measures the ring share and maybe the hits' ring
    passed = _passes(cue, ring, need, loose_db, steady_share, loose_steady, hit_ring)
    if passed and held is not None and HELD_SHARE > 0:
        # the band at the gaps' ends must be the ride's ring (or the hats'), not a crash's
        # wash or the drums' tails over quiet hats
        passed = held(cue[2]) >= HELD_SHARE
    if passed and end_level is not None and GAP_END_DB is not None:
        # ... and still near the hits' level: compression evens the ends of a hat groove's
        # gaps from one to the next, not their fall from the hit
        level = end_level()
        passed = level is None or level >= GAP_END_DB
    return passed


def _passes(cue, ring, need, loose_db, steady_share, loose_steady=1, hit_ring=None) -> bool:
    """:func:`_gates` without the :data:`HELD_SHARE` check (``cue`` not None)."""
    share, median, ends = cue
    strict = share >= steady_share and median < MEDIAN_DB
    if ring is None:
        return strict
    need_strict, need_loose = need
    if strict and need_strict is None:
        if hit_ring is None or ends.size > FEW_GAPS:
            return True
        # a decision on a few gaps: the ride's ring must show in the model or in its hits
        # (a 16th-note hat groove's gaps end on its previous 16th's tail, steady too)
        if ring(ends) >= RING_SHARE:
            return True
        confirmed = hit_ring()
        return confirmed is not None and confirmed >= HIT_RING_SHARE
    loose = (need_loose is not None and share >= LOOSE_SHARE and median < loose_db
             and round(share * ends.size) >= loose_steady)
    if not (strict or loose):
        return False
    measured = ring(ends)
    return bool((strict and measured >= need_strict) or (loose and measured >= need_loose))


def hit_ring_share(band_magnitude, hat, frame_rate, bin_hz):
    """The share of a part's hits whose band still rings with the hit's own partials at
    the end of its ring (the third cue, :data:`HIT_RING_SHARE`).

    Parameters
    ----------
    band_magnitude : ndarray, shape (F_band, N)
        The recording's magnitude in the bins of :data:`RIDE_BAND_HZ` (channels summed).
    hat : ndarray, shape (N,)
        The judged part's activation (the closed hi-hat's).
    frame_rate : float
        Frames per second (``sr / hop_length``).
    bin_hz : float
        The width of a frequency bin (``sr / n_fft``).

    Returns
    -------
    float or None
        The share of the measured hits that ring (:data:`HIT_RING_CORR`,
        :data:`HIT_RING_DB`); None when fewer than :data:`MIN_GAPS` hits are measured or
        the band has fewer than two :data:`DETREND_HZ` widths of bins.
    """
    hits = _peaks(hat, PEAK_DB)
    weaker = _peaks(hat, RING_SPLIT_DB)
    n = hat.shape[0]
    ends = np.minimum(np.append(hits[1:], n), hits + _frames(HIT_RING_S, frame_rate))
    # the first weaker peak past the ring's re-firing ends the ring: an unaccented hat
    first = np.searchsorted(weaker, hits + _frames(REFIRE_S, frame_rate), side="right")
    ends = np.minimum(ends, np.append(weaker, n)[first])
    measured = ends - hits >= _frames(MIN_GAP_S, frame_rate)
    hits, ends = hits[measured], ends[measured]
    detrend = _frames(DETREND_HZ, 1 / bin_hz)
    if hits.size < MIN_GAPS or band_magnitude.shape[0] < 2 * detrend:
        return None
    ring = _frames(RING_S, frame_rate)
    attack = sum(band_magnitude[:, hits + k] for k in range(ring)) / ring  # the hit itself
    late = sum(band_magnitude[:, ends - 1 - k] for k in range(ring)) / ring  # its ring's end
    corr = _columns_corr(_detrended_log(attack, detrend), _detrended_log(late, detrend))
    level = 10 * np.log10(((late ** 2).sum(axis=0) + 1e-30) / ((attack ** 2).sum(axis=0) + 1e-30))
    return float(((corr > HIT_RING_CORR) & (level > HIT_RING_DB)).mean())


def ring_share(P, H, part, frames, rows) -> float:
    """The median share of one part in the kit's model of a band, at some frames.

    Between a ride's strokes its ring is the ride template's: the ride part explains the
    band's energy at the gaps' ends, where between closed hats a crash's wash or the
    hats' own parts do (the module notes, :data:`RING_SHARE`).

    Parameters
    ----------
    P : ndarray, shape (F, K, T)
        The kit's templates (full resolution).
    H : ndarray, shape (K, N)
        Their activations (channels summed).
    part : int or sequence of int
        The part whose share is measured (the ride's), or parts measured together
        (:data:`HELD_SHARE`).
    frames : ndarray of int, shape (n,)
        The frames (the counted gaps' last ones).
    rows : slice
        The band's bins (:data:`RIDE_BAND_HZ`).

    Returns
    -------
    float
        The median over ``frames`` of the part's energy in the band's model over all
        parts' (0 with no frames or no model).
    """
    frames = np.asarray(frames, dtype=int)
    if frames.size == 0:
        return 0.0
    band = P[rows].astype(np.float64)  # (F_band, K, T)
    lags = np.arange(P.shape[2])
    source = frames[None, :] - lags[:, None]  # (T, n): the activation frame each lag reads
    lagged = np.where(source >= 0, H[:, np.maximum(source, 0)], 0)  # (K, T, n)
    energy = (np.einsum("fkt,ktn->fkn", band, lagged) ** 2).sum(axis=0)  # (K, n)
    return _median_share(energy, part)


def _median_share(energy, parts) -> float:
    """The median over frames of ``parts``' share of ``energy`` (shape (K, n): each part's
    energy in the band's model per frame), 0 at frames where the model is silent;
    ``parts`` one index or several, summed."""
    total = energy.sum(axis=0)
    held = energy[np.asarray(parts, dtype=int).reshape(-1)].sum(axis=0)
    return float(np.median(np.where(total > 0, held / np.where(total > 0, total, 1), 0)))


def band_rows(sr, n_fft, n_freq):
    """The bins of :data:`RIDE_BAND_HZ` as a slice (a view, not a copy of the band), or
    None when part of the band lies above the Nyquist frequency (``n_freq`` bins): the
    cues were measured over the whole band, so with part of it missing (rates below
    20 kHz) no ride is judged — at 8 kHz (3-4 kHz left, 64-ms frames) the hats of the
    bundled loop passed for a ride."""
    bin_hz = sr / n_fft
    lo, hi = (int(np.ceil(edge / bin_hz)) for edge in RIDE_BAND_HZ)
    return None if hi > n_freq else slice(lo, hi)


def closed_hat_part(labels):
    """The index in ``labels`` of the first closed hi-hat part (:data:`HAT_NOTE`), or None."""
    hats = [k for k, label in enumerate(labels) if class_of(label) == "hihat" and gm_notes([label])[label] == HAT_NOTE]
    return hats[0] if hats else None


def _rings(magnitude, activation, *, sr, n_fft, hop_length, model=None, need=(None, HAT_RING_SHARE),
           loose_db=HAT_LOOSE_DB, loose_steady=HAT_LOOSE_STEADY, hit_ring=False, steady_share=STEADY_SHARE,
           refire=True, held_parts=None, hold=None, end_level=False) -> bool:
    """:func:`is_ride_pattern` for ``activation`` (shape (N,)) on the full-resolution
    ``magnitude`` (shape (F, C, N)): False when part of the band is above Nyquist.
    ``model``: (P, H, part) for :func:`ring_share` (P shape (F, K, T), H (K, N)), or None;
    ``need``, ``loose_db``, ``loose_steady``: as in :func:`is_ride_pattern`; ``hit_ring``: True when the
    gates fail, the third cue (:func:`hit_ring_share` at least :data:`HIT_RING_SHARE`) — and, with
    ``model``, the few-gaps check (:data:`FEW_GAPS`) on this part's or the ride part's hits;
    ``steady_share``, ``refire``: as in :func:`is_ride_pattern`; ``held_parts``: with ``model``,
    the parts (indices into its P and H) whose share :data:`HELD_SHARE` asks of a pass;
    ``hold``: ``hold(rows)`` (rows the band's slice), the fourth cue (:data:`CYMBALS_HOLD`),
    asked where every other cue fails (None: not asked); ``end_level``: True, with ``model``, a
    gate's pass needs the gaps' ends within :data:`GAP_END_DB` of the hits (:func:`hat_ring_level`)."""
    bin_hz, frame_rate = sr / n_fft, sr / hop_length
    rows = band_rows(sr, n_fft, magnitude.shape[0])
    if rows is None:
        return False
    ring = None if model is None else (lambda frames: ring_share(*model, frames, rows))
    held = (None if model is None or held_parts is None
            else (lambda frames: ring_share(model[0], model[1], held_parts, frames, rows)))
    band = magnitude[rows].sum(axis=1)

    def either_rings():
        # the thin-evidence check (FEW_GAPS): the third cue on the judged part's hits or on
        # the ride part's — a kit whose strokes the ride part took (Millo-Drums) leaves the
        # hat part a hit a second, steady gaps between them, and the ringing hits there
        shares = [hit_ring_share(band, part, frame_rate, bin_hz) for part in (activation, model[1][model[2]])]
        shares = [share for share in shares if share is not None]
        return max(shares) if shares else None

    confirm = either_rings if hit_ring and model is not None else None

    def gap_end():  # the median of hat_ring_level, None with too few gaps
        cue = hat_ring_level(band, activation, frame_rate)
        return None if cue is None else cue[0]

    if is_ride_pattern(band, activation, frame_rate, bin_hz, ring=ring, need=need, loose_db=loose_db,
                       loose_steady=loose_steady, steady_share=steady_share, refire=refire, hit_ring=confirm,
                       held=held, end_level=gap_end if end_level and model is not None else None):
        return True
    share = hit_ring_share(band, activation, frame_rate, bin_hz) if hit_ring else None
    if share is not None and share >= HIT_RING_SHARE:
        return True
    # the fourth cue: the ride's ring holds the band under the whole groove
    return hold is not None and CYMBALS_HOLD > 0 and bool(hold(rows))


def hat_ring_level(band_magnitude, hat, frame_rate):
    """How loud the band stays at the end of the closed hat part's gaps (the fifth cue's
    level, :data:`HELD_RING_DB`).

    Parameters
    ----------
    band_magnitude : ndarray, shape (F_band, N) or (F_band, C, N)
        The recording's magnitude in the bins of :data:`RIDE_BAND_HZ` (channels summed, or
        summed here at the frames read).
    hat : ndarray, shape (N,)
        The closed hat part's activation (channels summed).
    frame_rate : float
        Frames per second (``sr / hop_length``).

    Returns
    -------
    (float, ndarray of int, float) or None
        The median over the gaps of the band's energy over the :data:`RING_S` before each
        gap's end against the :data:`RING_S` from its hit (dB), the gaps' last frames
        (where the fifth cue asks the part's share, :func:`ring_share`,
        :data:`HELD_RING_SHARE`) and the :data:`HELD_RING_QUANTILE`-th percentile of the
        same levels (dB; :data:`HELD_RING_LOW_DB`); None with fewer than :data:`MIN_GAPS`
        gaps of at least :data:`MIN_GAP_S` between the part's hits (:data:`PEAK_DB`;
        every gap, a weaker peak inside or not).
    """
    hits = _peaks(hat, PEAK_DB)
    ring = _frames(RING_S, frame_rate)
    a, b = hits[:-1], hits[1:]
    counted = (b - a >= _frames(MIN_GAP_S, frame_rate)) & (a >= ring)
    a, b = a[counted], b[counted]
    if a.size < MIN_GAPS:
        return None
    # only the frames read: the band's energy at the hits and at the gaps' ends
    def energy(frames):
        m = band_magnitude[..., frames].astype(np.float64)
        return ((m.sum(axis=1) if m.ndim == 3 else m) ** 2).sum(axis=0)

    at = sum(energy(a + k) for k in range(ring)) / ring  # the hit
    end = sum(energy(b - 1 - k) for k in range(ring)) / ring  # the gap's end
    levels = 10 * np.log10((end + 1e-30) / (at + 1e-30))
    return float(np.median(levels)), b - 1, float(np.percentile(levels, HELD_RING_QUANTILE))


def cymbals_hold(P, H, parts, rows, energy=None) -> float:
    """The cymbal parts' share of the kit's model of a band over a whole recording (the
    fourth cue, :data:`CYMBALS_HOLD`).

    Parameters
    ----------
    P : ndarray, shape (F, K, T)
        The kit's templates (full resolution).
    H : ndarray, shape (K, N)
        Their activations (channels summed).
    parts : sequence of int
        The cymbal parts (the crashes' and the ride's).
    rows : slice
        The band's bins (:data:`RIDE_BAND_HZ`).
    energy : callable or None, default None
        ``energy()``: :func:`_band_energy` of ``P``, ``H`` and ``rows``, made by the caller
        (once for a recording judged in windows); None: made here.

    Returns
    -------
    float
        The median over the recording's N frames of those parts' energy in the band's
        model over all parts' (:func:`ring_share` at every frame); 0 with no parts (a kit
        without cymbal parts) or no frames.
    """
    parts = np.asarray(parts, dtype=int).reshape(-1)  # [] indexes nothing (a float array would raise)
    if parts.size == 0 or H.shape[1] == 0:
        return 0.0
    return _median_share(_band_energy(P, H, rows) if energy is None else energy(), parts)


def _band_energy(P, H, rows):
    """Each part's energy in the band's model at every frame, shape (K, N)."""
    # ring_share at every frame without the model itself: a part's energy in the band at
    # frame n is l' G l, l its activation's last T frames (H[k, n - t]) and G the Gram
    # matrix of its band template (T × T) — ring_share's einsum took 44 s on a 5-minute
    # recording, this a fraction of a second
    band = P[rows].astype(np.float64)  # (F_band, K, T)
    T = P.shape[2]
    padded = np.concatenate([np.zeros((H.shape[0], T - 1)), H.astype(np.float64)], axis=1)
    lagged = np.lib.stride_tricks.sliding_window_view(padded, T, axis=1)[:, :, ::-1]  # (K, N, T): H[k, n - t]
    gram = np.einsum("fkt,fks->kts", band, band)  # (K, T, T)
    return np.stack([((lagged[k] @ gram[k]) * lagged[k]).sum(axis=1) for k in range(band.shape[1])])  # (K, N)


def crash_wash(P, H, parts, ride, rows, frame_rate) -> bool:
    """Whether the cymbal parts' hold of the band (the fourth cue) is one crash's wash
    ringing out: the cymbals' band fallen by :data:`WASH_END_DB` at the recording's end, no
    cymbal struck again (:data:`WASH_RISE_DB`) past its first :data:`WASH_FROM`, and the
    ride part holding under :data:`WASH_RIDE_SHARE`.

    Parameters
    ----------
    P : ndarray, shape (F, K, T)
        The kit's templates (full resolution).
    H : ndarray, shape (K, N)
        Their activations (channels summed).
    parts : sequence of int
        The cymbal parts (the crashes' and the ride's).
    ride : int or None
        The ride part (one of ``parts``), or None.
    rows : slice
        The band's bins (:data:`RIDE_BAND_HZ`).
    frame_rate : float
        Frames per second (``sr / hop_length``).

    Returns
    -------
    bool
        True for a lone crash's wash (the fourth cue then does not decide); False when the
        median of the cymbal parts' band model (dB) over the recording's last
        :data:`WASH_FROM` stands less than -:data:`WASH_END_DB` under its top, when it rises
        by more than :data:`WASH_RISE_DB` over its least in the :data:`WASH_RISE_S` before,
        within :data:`WASH_DB` of its top, at some frame past the first :data:`WASH_FROM` of
        the recording, or the ride part's median share of the band's model is at least
        :data:`WASH_RIDE_SHARE` (also with no parts or no frames).
    """
    parts = np.asarray(parts, dtype=int).reshape(-1)
    n = H.shape[1]
    if parts.size == 0 or n < 2:
        return False
    energy = _band_energy(P, H, rows)
    if ride is not None and _median_share(energy, ride) >= WASH_RIDE_SHARE:
        return False
    level = 10 * np.log10(energy[parts].sum(axis=0) + 1e-30)
    quarter = max(1, n // int(round(1 / WASH_FROM)))
    if np.median(level[n - quarter:]) > level.max() + WASH_END_DB:
        return False  # the ring holds to the end: kept up, no crash ringing out
    back = _frames(WASH_RISE_S, frame_rate)
    # each frame's level over its least in the frames before (a stroke's onset rises over
    # the ring it strikes again); only where the cymbals are loud, past the first crash
    padded = np.concatenate([np.full(back, np.inf), level])
    before = np.lib.stride_tricks.sliding_window_view(padded[:-1], back).min(axis=1)  # (N,)
    later = np.arange(n) >= quarter
    struck = later & (level > level.max() - WASH_DB) & (level - before > WASH_RISE_DB)
    return not struck.any()


def _ride_part(labels):
    """The index of the first template part with the ride's note, or None."""
    parts = [k for k, label in enumerate(labels)
             if class_of(label) == "cymbals" and gm_notes([label])[label] == RIDE_NOTE]
    return parts[0] if parts else None


def stroke_weights(magnitude, hat, snare, *, sr, n_fft, hop_length, forced=False, model=None,
                   song=False, held_parts=None, hold=None) -> np.ndarray:
    """The share of the closed hat part's activation that is the ride's, per frame.

    Parameters
    ----------
    magnitude : ndarray, shape (F, C, N)
        The recording's magnitude spectrogram (full resolution, ``n_fft // 2 + 1`` bins).
    hat, snare : ndarray, shape (N,)
        The closed hi-hat part's and the snare's activations (channels summed).
    sr : float
        The sampling rate (Hz).
    n_fft, hop_length : int
        The STFT's frame length (the bins' width is ``sr / n_fft``) and hop (the frames
        are ``hop_length / sr`` s apart).
    forced : bool, default False
        True: the hits are a ride's without asking :func:`is_ride_pattern` (``ride="on"``
        of :func:`~nmfaudio.drums.separation.separate_drums`).
    model : (P, H, part) or None, default None
        The kit's templates (shape (F, K, T)), their activations (shape (K, N), channels
        summed) and the ride part's index, for the second cue (:func:`ring_share`,
        :data:`HAT_RING_SHARE`) — and with it the third (:func:`hit_ring_share`, when
        neither gate holds); None: the strict gate alone.
    song : bool, default False
        True: ``magnitude`` is a song's (the accompaniment model): the strict gate alone,
        at :data:`SONG_STEADY_SHARE` (``model`` unused).
    held_parts : sequence of int or None, default None
        With ``model``: the ride and hat parts (indices into its P and H) whose share of
        the band a gate's pass needs (:data:`HELD_SHARE`); None: no such check.
    hold : callable or None, default None
        ``hold(rows)`` (``rows`` the band's bins, a slice): the fourth cue
        (:func:`cymbals_hold` at least :data:`CYMBALS_HOLD`), asked where every other cue
        fails (not in a song); None: not asked.

    Returns
    -------
    ndarray, float32, shape (N,)
        All 0 unless :func:`is_ride_pattern` (or ``forced``); then 1 except within
        :data:`SNARE_GUARD_S` of the snare's hits (the pedal chicks).
    """
    n = hat.shape[0]
    weights = np.zeros(n, np.float32)
    frame_rate = sr / hop_length
    # the third cue with the second only: measured on kits with a ride part; in a song
    # neither (the music's held notes pass them), and a stricter strict gate; the
    # re-fired gaps' second count was measured on drum recordings only
    if song:
        model = None
    steady = SONG_STEADY_SHARE if song else STEADY_SHARE
    if not forced and not _rings(magnitude, hat, sr=sr, n_fft=n_fft, hop_length=hop_length, model=model,
                                 hit_ring=model is not None, steady_share=steady, refire=not song,
                                 held_parts=held_parts, hold=None if song else hold, end_level=not song):
        return weights
    weights[:] = 1
    guard = _frames(SNARE_GUARD_S, frame_rate)
    for p in _peaks(snare, PEAK_DB, distance=_frames(SNARE_DISTANCE_S, frame_rate)):
        weights[max(0, p - guard):p + guard + 1] = 0
    return weights


def move_strokes(P, H, route, labels, magnitude, *, sr, n_fft, hop_length, target, forced=False, song=False,
                 also=()):
    """Route the ride's strokes from the closed hat part to the output ``target``.

    The pattern is judged by :func:`stroke_weights`, with the second cue
    (:func:`ring_share`, :data:`HAT_RING_SHARE`) on the labelled parts' model when the
    labels have a ride part (:data:`~nmfaudio.drums.general_midi.RIDE_NOTE`); without one, by the
    strict gate alone.  A recording at least twice :data:`RIDE_WINDOW_S` long is judged in
    windows (:func:`ride_windows`): the strokes move only where a ride is found.

    Parameters
    ----------
    P : ndarray, shape (F, K', T)
        The masks' templates (full resolution; K' ≥ K: extra parts appended after the K
        labelled ones, e.g. by :func:`nmfaudio.drums.stems.low_cut_parts`).
    H : ndarray, shape (K', C, N)
        Their activations.
    route : ndarray of int, shape (K',)
        Output of each template.
    labels : sequence of K str
        The labels of the first K templates.
    magnitude : ndarray, shape (F, C, N)
    sr, n_fft, hop_length : int
        As in :func:`stroke_weights`.
    target : int
        The cymbals' output.
    forced : bool, default False
        As in :func:`stroke_weights`: move the strokes without judging the pattern.
    song : bool, default False
        As in :func:`stroke_weights`: a song's magnitude, judged by the strict gate at
        :data:`SONG_STEADY_SHARE` alone.
    also : sequence of int, default ()
        Other parts (indices into the first K) whose activation moves with the same
        per-frame weights — the open hat part in a drum recording
        (:data:`~nmfaudio.drums.separation.RIDE_OPEN_HAT`): in a ride groove it holds the
        ride's wash, not hats (docs/log/drums-five-stems-decisions.md, twenty-eighth round).

    Returns
    -------
    P : ndarray, shape (F, K' + 1 + A, T)
        With one extra template (the hat part, routed to ``target``) carrying the moved
        share of its activation, and one per part of ``also`` (A of them), after it.
    H : ndarray, shape (K' + 1 + A, C, N)
    route : ndarray of int, shape (K' + 1 + A,)
    strokes : ndarray, shape (C, N)
        That moved activation.
    with_snare : ndarray, shape (C, N)
        The hat part's activation where it stays (within :data:`SNARE_GUARD_S` of the
        snare's hits, 0 elsewhere) — a ride struck with the snare is there too, so
        :meth:`~nmfaudio.drums.separation_result.DrumSeparation.hits` picks the strokes from
        both.

        The inputs and None, None when the recording is not a ride pattern (or the
        templates have no closed hi-hat part).  The model ``Σ_k P_k * H_k`` is unchanged.
    """
    labels = list(labels)
    hat = closed_hat_part(labels)
    if hat is None:
        return P, H, route, None, None

    energy = []  # each part's energy in the band's model (the fourth cue), made once when asked

    def band_energy(a, b):
        if not energy:
            energy.append(_band_energy(P[:, :len(labels)], H[:len(labels)].sum(axis=1),
                                       band_rows(sr, n_fft, magnitude.shape[0])))
        return energy[0][:, a:b]

    def judged(a, b, forced):  # the cues on frames a:b
        return _judged_weights(P, H[..., a:b], labels, hat, None if magnitude is None else magnitude[..., a:b],
                               sr=sr, n_fft=n_fft, hop_length=hop_length, forced=forced, song=song,
                               band_energy=lambda: band_energy(a, b))

    n_frames = H.shape[-1]
    # a long recording is judged window by window (RIDE_WINDOW_S): a song's ride chorus
    # between hat verses took the verses' hats with it when the whole recording was judged
    # once; ride="on" moves every stroke, windows or not
    ride_frames = None if forced else ride_windows(n_frames, sr / hop_length, lambda a, b: judged(a, b, False).any())
    if ride_frames is None:
        weights = judged(0, n_frames, forced)
    else:
        weights = (judged(0, n_frames, True) * ride_frames.astype(np.float32) if ride_frames.any()
                   else np.zeros(n_frames, np.float32))
    if not weights.any():
        return P, H, route, None, None
    strokes = H[hat] * weights  # (C, N)
    with_snare = H[hat] - strokes
    moved = [hat] + [k for k in also if k != hat]
    shares = [strokes] + [H[k] * weights for k in moved[1:]]
    H = np.concatenate([H, np.stack(shares)])
    H[hat] = with_snare
    for k, share in zip(moved[1:], shares[1:]):
        H[k] = H[k] - share
    return (np.concatenate([P, P[:, moved]], axis=1), H, np.append(route, [target] * len(moved)), strokes,
            with_snare)


def ride_windows(n_frames: int, frame_rate: float, is_ride):
    """Which frames of a long recording are a ride groove's, or None for a recording
    shorter than twice :data:`RIDE_WINDOW_S` (judged whole).

    Windows of :data:`RIDE_WINDOW_S` end to end (the last one ending at the recording's
    end) are judged first by ``is_ride(start, stop)``: all alike, every frame is as they
    are.  Otherwise windows a quarter of that apart are judged too, and a frame is a ride's
    when more than half of the windows holding it are (a window across a section's edge
    holds either groove: the windows inside the section outvote it), in a run of such
    frames at least half a window long (the first and last frames lie in one window
    only).  A recording of one groove costs one judgement per frame, as judging it whole.

    Returns
    -------
    ndarray of bool, shape (n_frames,), or None
    """
    window = max(1, _frames(RIDE_WINDOW_S, frame_rate))
    if n_frames < 2 * window:
        return None
    judged = {}

    def decided(start):
        if start not in judged:
            judged[start] = bool(is_ride(start, start + window))
        return judged[start]

    def starts(step):
        found = list(range(0, n_frames - window + 1, step))
        return found if found[-1] == n_frames - window else found + [n_frames - window]

    first = {decided(start) for start in starts(window)}
    if len(first) == 1:
        return np.full(n_frames, first.pop())
    votes = np.zeros(n_frames)
    counts = np.zeros(n_frames)
    for start in starts(max(1, window // 4)):
        counts[start:start + window] += 1
        votes[start:start + window] += decided(start)
    ride = 2 * votes > counts
    edges = np.flatnonzero(np.diff(np.concatenate([[0], ride.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2]):
        if stop - start < window // 2:  # shorter than half a window: not a groove
            ride[start:stop] = False
    return ride


def _judged_weights(P, H, labels, hat, magnitude, *, sr, n_fft, hop_length, forced, song, band_energy):
    """:func:`stroke_weights` of the closed hat part ``hat`` with the cues of
    :func:`move_strokes`, for the frames of ``H`` (K', C, n) and ``magnitude`` (F, C, n);
    ``band_energy()``: the labelled parts' :func:`_band_energy` at those frames (made once
    for the recording: the windows of :func:`ride_windows` overlap four times)."""
    snare = [k for k, label in enumerate(labels) if class_of(label) == "snare"]
    summed = H[:len(labels)].sum(axis=1)
    # no snare part: no pedal chicks to keep apart, every stroke moves (the guard finds no hit)
    snare_activation = summed[snare].sum(axis=0) if snare else np.zeros_like(summed[hat])
    ride = _ride_part(labels)  # the second cue's part (none: the strict gate alone)
    model = None if ride is None else (P[:, :len(labels)], summed, ride)
    # the parts a ride's ring between strokes lies in (HELD_SHARE): the ride's and the hats'
    held_parts = (None if ride is None
                  else [ride] + [k for k, label in enumerate(labels) if class_of(label) == "hihat"])
    # the fourth cue (CYMBALS_HOLD): the cymbal parts hold the band under the whole groove
    # — unless the ride part's own hits are a ride's (ride_part_strokes): the strokes are
    # in that part then, picked apart from it, and the hat part holds the pedal chicks
    cymbals = [k for k, label in enumerate(labels) if class_of(label) == "cymbals"]

    def hold(rows):  # asked only with a ride part, so with ``model``
        return ((held_cymbals(rows) or held_ring(rows))
                and ride_part_strokes(P, H, labels, magnitude, sr=sr, n_fft=n_fft, hop_length=hop_length) is None)

    def held_cymbals(rows):  # the fourth cue (CYMBALS_HOLD), not on a lone crash's wash (crash_wash)
        return (cymbals_hold(model[0], summed, cymbals, rows, band_energy) >= CYMBALS_HOLD
                and not (WASH_RIDE_SHARE > 0 and crash_wash(model[0], summed, cymbals, ride, rows, sr / hop_length)))

    def held_ring(rows):  # the fifth cue (HELD_RING_DB): the hat part holds a ring loud at its gaps' ends
        if HELD_RING_SHARE <= 0:
            return False
        cue = hat_ring_level(magnitude[rows].sum(axis=1), summed[hat], sr / hop_length)
        # the part's share (ring_share) only where the level holds: most grooves' band falls away
        return (cue is not None and cue[0] >= HELD_RING_DB and cue[2] >= HELD_RING_LOW_DB
                and ring_share(model[0], summed, hat, cue[1], rows) >= HELD_RING_SHARE)

    return stroke_weights(magnitude, summed[hat], snare_activation, sr=sr, n_fft=n_fft, hop_length=hop_length,
                          forced=forced, model=model, song=song, held_parts=held_parts,
                          hold=None if ride is None else hold)


def split_strokes(P, H, route, labels, moved, residual):
    """Leave the moved hat parts' model in the cymbals stem only where the kit's cymbal
    parts' model holds as much (:data:`STROKE_SPLIT`); the rest to the residual.

    In a ride groove the closed hat part's template explains the strokes' attacks and
    anything hat-like played with them (a shaker, a tambourine: docs/log/drums-five-stems-decisions.md,
    ridden-crash round); :func:`move_strokes` moves all of it to the cymbals.  The crash
    and ride parts hold the cymbals' own ring, so per bin their model against the moved
    parts' tells how much of those is a cymbal's.  Each moved part becomes two: its
    template times the kept share (still routed to the cymbals) and times the rest
    (routed to ``residual``), with the same activation: the model ``Σ P H`` and the
    activations the hits read are unchanged (the other outputs' masks move only through
    the mask power).

    Parameters
    ----------
    P : ndarray, shape (F, K', T)
        The masks' templates (full resolution; the first K labelled).
    H : ndarray, shape (K', C, N)
        Their activations.
    route : ndarray of int, shape (K',)
        Output of each template.
    labels : sequence of K str
        The labels of the first K templates.
    moved : sequence of int
        The moved parts (indices ≥ K: :func:`move_strokes`' appended templates).
    residual : int
        The residual's output.

    Returns
    -------
    P : ndarray, shape (F, K' + M, T)
        With the moved parts' kept shares in place and one template per moved part (M of
        them) after them, holding the rest.
    H : ndarray, shape (K' + M, C, N)
    route : ndarray of int, shape (K' + M,)
        The inputs unchanged when nothing is moved, the kit has no cymbal parts, or
        :data:`STROKE_SPLIT` is 0.
    """
    moved = np.asarray(moved, dtype=int).reshape(-1)
    cymbals = [k for k, label in enumerate(labels) if class_of(label) == "cymbals"]
    if moved.size == 0 or not cymbals or STROKE_SPLIT <= 0:
        return P, H, route

    def model(parts):  # each bin's model magnitude summed over the recording: Σ_k Σ_t P[f, k, t] Σ_{c,n} H[k, c, n]
        return np.einsum("fkt,k->f", P[:, parts].astype(np.float64), H[parts].sum(axis=(1, 2), dtype=np.float64))

    held = model(moved)
    # min(a, h) / h is clip(a / h, 0, 1) bit for bit where the moved parts hold anything;
    # a / max(h, tiny) overflowed (a RuntimeWarning) in bins they leave empty, where the
    # share multiplies zeros anyway
    kept = np.minimum(STROKE_SPLIT * model(cymbals), held) / np.maximum(held, np.finfo(np.float64).tiny)
    kept = kept.astype(P.dtype)[:, None, None]  # (F, 1, 1)
    rest = P[:, moved] * (1 - kept)
    P = P.copy()
    P[:, moved] = P[:, moved] * kept
    return (np.concatenate([P, rest], axis=1), np.concatenate([H, H[moved]]),
            np.append(route, np.full(moved.size, residual, dtype=route.dtype)))


def ride_part_strokes(P, H, labels, magnitude, *, sr, n_fft, hop_length, forced=False):
    """The ride part's own activation, when its hits are a ride's and the closed hat
    part's were not.

    Some kits' strokes fit the ride template (:data:`~nmfaudio.drums.general_midi.RIDE_NOTE`) better than the
    closed hat's: the ride part then takes them (a few dB under its largest hit, the
    closed hat part 20-30 dB under its own) and rings between them, while the hat part
    holds the pedal chicks and a crash.  That part already goes to the cymbals stem;
    the same cue as :func:`is_ride_pattern`, on its activation, tells that it keeps time
    — the strict or the loose gate, with the part's own ring (:func:`ring_share`) at
    least :data:`RING_SHARE` in either — and
    :meth:`~nmfaudio.drums.separation_result.DrumSeparation.hits` then picks its strokes as
    :data:`STROKE_LABEL` (a ride sits 10-30 dB under the crashes in the cymbals'
    activation, under their threshold).  Nothing is moved: the model and the stems are
    unchanged.

    Parameters
    ----------
    P : ndarray, shape (F, K', T)
        The masks' templates (full resolution; the first K labelled), for the second cue.
    H : ndarray, shape (K', C, N)
        The activations (the first K labelled).
    labels : sequence of K str
    magnitude : ndarray, shape (F, C, N)
    sr, n_fft, hop_length : int
        As in :func:`stroke_weights`.
    forced : bool, default False
        True: the part's hits are a ride's without judging them (``ride="on"`` when the
        closed hat part has nothing to move: no such part, no hi-hat stem asked for, or
        a song's hat parts judged to hold no hats).

    Returns
    -------
    ndarray, shape (C, N), or None
        The ride part's activation, or None when its hits are no ride's (or the templates
        have no ride part).
    """
    labels = list(labels)
    ride = _ride_part(labels)
    if ride is None:
        return None
    strokes = H[ride]
    # judged with the second cue required (RING_SHARE): where a hat groove's ride part
    # rings steadily, the ring is the hats' and a crash's, not the ride template's
    model = (P[:, :len(labels)], H[:len(labels)].sum(axis=1), ride)
    if not forced and not _rings(magnitude, strokes.sum(axis=0), sr=sr, n_fft=n_fft, hop_length=hop_length,
                                 model=model, need=(RING_SHARE, RING_SHARE), loose_db=LOOSE_DB,
                                 loose_steady=RIDE_LOOSE_STEADY):
        return None
    return strokes.copy()


def stroke_bands(hat_times, hat_strengths, hat_track, cymbals_track, *, sr) -> np.ndarray:
    """Which of the hi-hat's hits in a ride recording are a stroke in the cymbals' track.

    Where a ride is decided its strokes go to the cymbals' track, but the hat's parts
    still explain part of some strokes, often more than :func:`hat_echoes` allows, or a
    stroke that was not picked.  A weak hat hit (under :data:`STROKE_WEAK` of the hat's
    strongest) whose band above :data:`STROKE_BAND_HZ` is louder in the cymbals' track
    than :data:`STROKE_BAND_DB` under the hat's own is that stroke: a pedal chick or a
    hat played with the ride holds its own high band in the hat's track.

    Parameters
    ----------
    hat_times, hat_strengths : ndarray, shape (n_hat,)
        The hi-hat's hits (s) and their strengths.
    hat_track, cymbals_track : ndarray, shape (n_samples,) or (n_channels, n_samples), or a FileReader
        The separated hi-hat and cymbals tracks.
    sr : int
        Their sampling rate (Hz).

    Returns
    -------
    ndarray of bool, shape (n_hat,)
        True for the strokes (to drop).
    """
    hat_times, hat_strengths = np.asarray(hat_times, float), np.asarray(hat_strengths, float)
    weak = hat_strengths < STROKE_WEAK * hat_strengths.max(initial=0.0)
    if not weak.any():
        return weak
    # the strong hits are kept whatever the band says: only the weak ones are measured
    over = _shares(cymbals_track, hat_track, np.rint(hat_times[weak] * sr).astype(int), sr=sr,
                   fmin=STROKE_BAND_HZ, width=STROKE_BAND_SAMPLES) > STROKE_BAND_DB
    drop = np.zeros(len(hat_times), dtype=bool)
    drop[np.flatnonzero(weak)[over]] = True
    return drop


def _band_powers(track, starts, *, sr, fmin, width) -> np.ndarray:
    """The energy above ``fmin`` Hz of the track's channel mean in the ``width`` samples
    (Hann-windowed) from each of ``starts`` (sample indices), shape (n_starts,); an array
    or a streamed track (:mod:`nmfaudio.drums.track_reads`)."""
    reader = track if track_reads.is_reader(track) else audio.ArrayReader(np.asarray(track))
    width = min(width, reader.n_samples)
    starts = np.clip(np.asarray(starts, dtype=np.int64), 0, reader.n_samples - width)
    return track_reads.band_powers(reader, starts, width, sr=sr, fmin=fmin)


def backbeat_snare(classes):
    """The snare's backbeat hits, where a ride's pedal chicks fall (:func:`stroke_rings`).

    Parameters
    ----------
    classes : dict {str: ClassHits}
        The picked hits per label (``DrumHits.classes``).

    Returns
    -------
    ndarray, shape (n,), or None
        The times (s) of the ``"snare"`` hits within :data:`PEAK_DB` of its strongest (as
        the routing's guard takes them) outside a fill (no tom hit within
        :data:`~nmfaudio.drums.hat_fill.FILL_TOM_S`: the hats stop there); None without a
        snare.
    """
    if "snare" not in classes:
        return None
    strengths, times = classes["snare"].strengths, classes["snare"].times
    toms = [hit.times for label, hit in classes.items() if class_of(label) == "toms"]
    return times[(strengths >= 10 ** (PEAK_DB / 20) * strengths.max(initial=0.0))
                 & ~near(times, np.concatenate(toms) if toms else np.zeros(0), FILL_TOM_S)]


def stroke_rings(hat_times, hat_strengths, hat_track, *, sr, snare_times=None) -> np.ndarray:
    """Which of the hi-hat's hits in a ride recording are a stroke ringing in the hat's track.

    Where a ride is decided, the hat's stem still holds part of some strokes, and its
    activation fires at them at any strength (:func:`hat_echoes` and
    :func:`stroke_bands` take the weakest).  A ride's stroke rings on: its band above
    :data:`STROKE_BAND_HZ` in the hat's track stands :data:`RING_LAG_S` after the onset
    within :data:`RING_DB` of the onset's.  A closed hat or a pedal chick has died away
    by then, so a hit under :data:`RING_WEAK` of the hat's strongest that still rings is
    the stroke; the strongest hits (an open hat played with the ride) are kept, and so
    are those within :data:`PEDAL_S` of a snare hit: a ride's pedal chicks fall on 2 and
    4 with the snare and a stroke, whose ring the hat's track holds there too (the
    routing keeps the hat part's model at the snare's hits, :data:`SNARE_GUARD_S`).

    Parameters
    ----------
    hat_times : ndarray, shape (n_hat,)
        The hi-hat's hits (s).
    hat_strengths : ndarray, shape (n_hat,)
        Their strengths: the hits under RING_WEAK of the largest are measured.
    hat_track : ndarray, shape (n_samples,) or (n_channels, n_samples), or a FileReader
        The separated hi-hat track, whose ring is measured (the channels' mean).
    sr : int
        Its sampling rate (Hz).
    snare_times : ndarray, shape (n_snare,), optional
        The snare's hits (s): a hat hit within :data:`PEDAL_S` of one is kept.

    Returns
    -------
    ndarray of bool, shape (n_hat,)
        True for the hits that ring on: the strokes, to drop.
    """
    hat_times, hat_strengths = np.asarray(hat_times, float), np.asarray(hat_strengths, float)
    weak = hat_strengths < RING_WEAK * hat_strengths.max(initial=0.0)
    if snare_times is not None:
        weak &= ~near(hat_times, snare_times, PEDAL_S)  # a pedal chick with the snare: not measured
    if not weak.any() or not _band_usable(STROKE_BAND_HZ, sr):
        return np.zeros(len(hat_times), dtype=bool)  # no band to measure at this rate: keep all
    onsets = np.rint(hat_times[weak] * sr).astype(np.int64)
    at = _band_powers(hat_track, onsets, sr=sr, fmin=STROKE_BAND_HZ, width=STROKE_BAND_SAMPLES)
    later_starts = onsets + int(round(RING_LAG_S * sr))
    later = _band_powers(hat_track, later_starts, sr=sr, fmin=STROKE_BAND_HZ, width=STROKE_BAND_SAMPLES)
    # a silent onset window (nothing in the band) is no evidence of a ring: kept; nor is a
    # later window that the track's end would cut (_band_powers moves it back, onto the onset's)
    n_samples = hat_track.n_samples if track_reads.is_reader(hat_track) else np.shape(hat_track)[-1]
    measured = later_starts + STROKE_BAND_SAMPLES <= n_samples
    rings = (at > 0) & (later > 10 ** (RING_DB / 10) * at) & measured
    drop = np.zeros(len(hat_times), dtype=bool)
    drop[np.flatnonzero(weak)[rings]] = True
    return drop


def hat_echoes(hat_times, hat_strengths, stroke_times, stroke_strengths, *, share=ECHO_SHARE) -> np.ndarray:
    """Which of the hi-hat's hits are a ride stroke's echo in the other hat parts.

    In a ride recording the closed hat part's strokes are moved, but the hat's other
    parts (open, pedal) still explain a little of each stroke: a hit of the hat within
    :data:`ECHO_S` of a stroke and under :data:`ECHO_SHARE` of the stroke's strength is
    that echo, not a hat played with the ride (a pedal chick with the snare stays as
    strong as the stroke it is picked with: the activation there is the same).  The
    crash parts echo the strokes too: with ``share=CRASH_SHARE`` the same rule finds the
    cymbals' hits that are a stroke again.

    Parameters
    ----------
    hat_times, hat_strengths : ndarray, shape (n_hat,)
        The hi-hat's (or the cymbals') hits (s) and their strengths.
    stroke_times, stroke_strengths : ndarray, shape (n_strokes,)
        The ride's strokes (:data:`STROKE_LABEL`), in the same activation units.
    share : float, default ECHO_SHARE
        A hit under ``share`` × the strongest stroke within :data:`ECHO_S` is an echo
        (:data:`CRASH_SHARE` for the cymbals: weaker than the stroke).

    Returns
    -------
    ndarray of bool, shape (n_hat,)
        True for the echoes (to drop).
    """
    hat_times, hat_strengths = np.asarray(hat_times, float), np.asarray(hat_strengths, float)
    order = np.argsort(stroke_times, kind="stable")
    stroke_times = np.asarray(stroke_times, float)[order]
    stroke_strengths = np.asarray(stroke_strengths, float)[order]
    # the strokes within ECHO_S of each hit, by bisection: a slice of the sorted strokes
    # (a pairwise (n_hat, n_strokes) table was gigabytes for an hour of a ride pattern)
    first = np.searchsorted(stroke_times, hat_times - ECHO_S, side="right")
    stop = np.searchsorted(stroke_times, hat_times + ECHO_S, side="left")
    loudest = np.zeros(len(hat_times))
    for offset in range(int((stop - first).max(initial=0))):  # a few strokes per window at most
        index = first + offset
        inside = index < stop
        loudest[inside] = np.maximum(loudest[inside], stroke_strengths[index[inside]])
    return (stop > first) & (hat_strengths < share * loudest)
