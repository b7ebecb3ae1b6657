"""The benchmark scripts' table formatting (no benchmark is run here)."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_benchmark(name, module_name):
    """The script benchmarks/<name>.py as a module called ``module_name``."""
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def transcription():
    return _load_benchmark("transcription", "transcription_bench")


def test_unplayed_class_is_not_applicable_not_zero(transcription):
    # the kick/snare/hi-hat-only table: toms are separated (scored 0.0 against an empty
    # reference by mir_eval) but never played, so their cell says "not applicable"
    rows = [{"kick": (1.0, 1.0, 1.0), "toms": (0.0, 0.0, 0.0)},
            {"kick": (0.5, 0.25, 1.0), "toms": (0.0, 0.0, 0.0)}]
    played = {"kick"}
    assert transcription.table_cell(rows, "toms", played) == transcription.NOT_APPLICABLE == "–"
    assert transcription.table_cell(rows, "kick", played) == "0.750 (0.62 / 1.00)"


def test_class_not_played_is_left_out_of_f_and_its_hits_counted(transcription):
    # a performance without a tom fill: mir_eval scores its empty toms reference 0.000 even
    # when no tom hit is found, which halved the toms mean of `--seed 2 -n 2`; such a class
    # has no F, and the hits found for it are all false and counted apart
    reference = {"kick": [0.5, 1.0], "toms": [], "hihat": [0.25]}
    found = {"kick": [0.51, 1.0], "toms": [0.75, 1.5], "hihat_open": [0.26]}
    scores, errors, stray = transcription.score(found, reference)
    assert set(scores) == {"kick", "hihat"}
    assert scores["kick"] == (1.0, 1.0, 1.0) and scores["hihat"] == (1.0, 1.0, 1.0)
    assert stray == {"toms": 2}
    assert sorted(round(e, 6) for e in errors) == [0.0, 0.01, 0.01]
    silent = transcription.score({"kick": [0.5], "toms": []}, {"kick": [0.5], "toms": []})
    assert "toms" not in silent[0] and silent[2] == {"toms": 0}
    # a played class found nowhere still scores 0 (a miss, not "not applicable")
    assert transcription.score({"toms": []}, {"toms": [1.0]})[0]["toms"] == (0.0, 0.0, 0.0)
    assert transcription.stray_hits([stray, silent[2], {}]) == "toms 2 in 1 of 2 mixtures"
    assert transcription.stray_hits([silent[2]]) == ""
    # the toms mean is over the mixtures that play toms
    rows = [scores, {"kick": (1.0, 1.0, 1.0), "toms": (0.5, 0.5, 0.5)}]
    assert transcription.table_cell(rows, "toms", {"kick", "toms"}) == "0.500 (0.50 / 0.50)"


@pytest.fixture(scope="module")
def drums_bench():
    # benchmarks/drums.py imports its sibling modules (drumkits, performances) by name
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(ROOT / "benchmarks"))
        spec = importlib.util.spec_from_file_location("drums_bench", ROOT / "benchmarks" / "drums.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


def test_routing_over_kick_snare_hihat(drums_bench):
    # --ksh-only's routing: each true class's shares sum to 1 over the outputs; a perfect
    # separation routes each class to its own stem (here tones far apart in frequency:
    # > 99 %), and a class split into two equal halves lands half in each
    import numpy as np

    t = np.arange(22050) / 22050
    m = {c: np.sin(2 * np.pi * f * t).astype(np.float32) for c, f in zip(drums_bench.STEMS, (100, 1000, 8000))}
    silent = np.zeros(22050, np.float32)
    perfect = {"kick": m["kick"], "snare": m["snare"], "hihat": m["hihat"], "cymbals": silent}
    table = drums_bench.routing(m, perfect, classes=drums_bench.STEMS)
    assert list(table) == list(drums_bench.STEMS)
    for cls, shares in table.items():
        assert abs(sum(shares.values()) - 1) < 1e-6  # float32 spectra
        assert shares[cls] > 0.99, (cls, shares)
    split = dict(perfect, hihat=0.5 * m["hihat"], cymbals=0.5 * m["hihat"])
    table = drums_bench.routing(m, split, classes=("hihat",))
    assert list(table) == ["hihat"]
    assert abs(table["hihat"]["hihat"] - 0.5) < 0.01 and abs(table["hihat"]["cymbals"] - 0.5) < 0.01, table


def test_hat_routing_split_at_the_snares_hits(drums_bench):
    # --performances' hat rows: the hats' routing over the frames of the snare's accents (one
    # before to two after each note over SNARE_HIT_VELOCITY) and over the others, each
    # normalized over the outputs; here the hat (a steady 8-kHz tone) goes to the snare stem
    # in the first second only, where the one accented snare note is, and to the hat stem after
    import numpy as np

    sr, n = 22050, 3 * 22050
    t = np.arange(n) / sr
    hat = (0.1 * np.sin(2 * np.pi * 8000 * t)).astype(np.float32)
    first = (t < 1.0).astype(np.float32)
    silent = np.zeros(n, np.float32)
    notes = [{"time": 0.5, "class": "snare", "velocity": 0.9}, {"time": 2.0, "class": "snare", "velocity": 0.2},
             {"time": 2.5, "class": "hihat", "velocity": 0.9}]
    m = {"hihat": hat, "sr": sr, "notes": notes}
    outputs = {"kick": silent, "snare": hat * first, "toms": silent, "hihat": hat * (1 - first), "cymbals": silent,
               "residual": silent}
    split = drums_bench.hat_routing_at_snare(m, outputs)
    assert split["at"]["snare"] > 0.99 and split["at"]["hihat"] < 0.01, split  # the ghost note at 2 s: not a hit
    assert 0.5 < split["away"]["hihat"] < 0.8, split  # 2 of the 3 s away from the hit
    assert all(abs(sum(split[k].values()) - 1) < 1e-6 for k in ("at", "away"))
    frames = 1 + n // 512
    assert abs(split["at_energy"] - 4 / frames) < 0.01, split  # 4 of 130 frames, the hat steady
    assert drums_bench.hat_routing_at_snare(dict(m, notes=notes[1:]), outputs) is None  # no accent
    assert drums_bench.hat_routing_at_snare(dict(m, hihat=silent), outputs) is None  # no hats
    # the benchmark's routing rows carry the split
    played = dict(m, kit="k", mix=hat, **{c: silent for c in ("kick", "snare", "toms", "cymbals", "other")})
    route = drums_bench._score_performances([played], lambda _: outputs)[1][0]
    assert route[drums_bench.HAT_SPLIT_ROWS[0]] == split["at"] and route[drums_bench.HAT_SPLIT_ROWS[1]] == split["away"]


def test_silent_stem_of_a_played_class_counts_and_is_counted(drums_bench):
    # --performances: a toms stem the presence test silenced while toms play (BSS Eval
    # −inf) was skipped in the toms mean, hiding it; it counts as SILENT_SDR_DB (0 dB) and
    # the table's "silent" column counts it; a class that does not play (NaN) stays out
    import numpy as np

    rows = [{"sdr_kick": 20.0, "sdr_snare": 10.0, "sdr_toms": 12.0, "sdr_hihat": 0.0, "sdr_cymbals": np.nan},
            {"sdr_kick": 18.0, "sdr_snare": 12.0, "sdr_toms": -np.inf, "sdr_hihat": 2.0, "sdr_cymbals": 5.0}]
    assert drums_bench.SILENT_SDR_DB == 0.0
    assert drums_bench._mean(rows, "sdr_toms") == 6.0  # (12 + 0) / 2, not 12
    assert drums_bench._mean(rows, "sdr_cymbals") == 5.0  # the NaN row does not play cymbals
    assert drums_bench._silent(rows) == {"toms": 1}
    assert drums_bench._silent(rows[:1]) == {}


@pytest.fixture(scope="module")
def full_song_bench():
    return _load_benchmark("full_song", "full_song_bench")


def test_full_song_counts_a_silent_stem_as_zero_and_keeps_the_others(full_song_bench):
    # a hi-hat stem left silent (the song mode's hat presence test) made BSS Eval
    # undefined and dropped every class of the song; it counts as SILENT_SDR_DB and the
    # other classes' SDR is what it is with any hi-hat estimate (a source's SDR depends
    # on its own estimate only), to 1e-6 dB
    import numpy as np

    rng = np.random.default_rng(0)
    stems = {c: rng.standard_normal((2, 6000)).astype(np.float32) for c in ("kick", "snare", "hihat")}
    music = rng.standard_normal((2, 6000)).astype(np.float32)
    drums = sum(stems.values())
    song = {"stems": stems, "mix": drums + music, "drums": drums, "accompaniment": music}
    estimate = {c: s + 0.3 * rng.standard_normal(s.shape).astype(np.float32) for c, s in stems.items()}
    silent = dict(estimate, hihat=np.zeros_like(stems["hihat"]))
    scored = full_song_bench.score(song, silent, drums, music)
    assert full_song_bench.SILENT_SDR_DB == 0.0 and scored["hihat"] == 0.0
    other = full_song_bench.score(song, estimate, drums, music)
    for c in ("kick", "snare"):
        assert abs(scored[c] - other[c]) < 1e-6, (c, scored[c], other[c])
    # and the table's "silent" column can count it
    assert scored["silent"] == ("hihat",) and other["silent"] == ()


def test_full_song_renders_its_songs_at_the_asked_rate(full_song_bench, monkeypatch, capsys):
    # --sr: the songs are rendered at that rate (48 kHz, the rate of video and most DAW
    # sessions, decided the hat presence test differently on the same songs: song48_67) and the
    # header says it; without it the rate stays 44.1 kHz and the header unchanged
    import numpy as np

    asked = []

    def render(seed, kit, *, dmr_db, seconds, style, sr=44100):
        asked.append(sr)
        n = int(seconds * sr)
        rng = np.random.default_rng(seed)
        stems = {c: np.zeros((2, n), np.float32) for c in full_song_bench.songs.performances.CLASSES}
        stems["kick"] = rng.standard_normal((2, n)).astype(np.float32)
        music = rng.standard_normal((2, n)).astype(np.float32)
        return {"stems": stems, "drums": stems["kick"], "accompaniment": music, "mix": stems["kick"] + music,
                "sr": sr, "notes": []}

    monkeypatch.setattr(full_song_bench.songs, "render_song", render)
    args = ["-n", "1", "--seconds", "0.2", "--dmr", "0", "--method", "oracle ratio mask", "--metric", "snr"]
    assert full_song_bench.main(args + ["--sr", "48000"]) == 0
    assert asked == [48000] and "; 48000 Hz" in capsys.readouterr().out
    assert full_song_bench.main(args) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert asked == [48000, 44100] and "; 44100 Hz" not in header and "; 48000 Hz" not in header


def test_full_song_hits_line_averages_the_songs_that_play_each_class(full_song_bench):
    # --hits: a class's F is the mean over the songs that play it (a song without toms does
    # not count as 0 for them), mean F over kick/snare/hi-hat from those means, and the
    # median |timing error| in ms; the song's notes become onset times per class
    import numpy as np

    scores = [{"kick": (1.0, 1.0, 1.0), "snare": (0.5, 1.0, 1 / 3), "hihat": (0.9, 0.9, 0.9), "toms": (0.6, 0.5, 0.75)},
              {"kick": (0.8, 0.8, 0.8), "snare": (0.7, 0.7, 0.7), "hihat": (0.6, 0.6, 0.6)}]
    line = full_song_bench._hits_line(6.0, scores, [0.001, -0.003, 0.002])
    assert "2 songs" in line and "kick 0.900 (0.90 / 0.90)" in line and "toms 0.600 (0.50 / 0.75)" in line
    assert "mean F kick/snare/hi-hat 0.750" in line  # (0.9 + 0.6 + 0.75) / 3
    assert "|error| median 2.0 ms" in line and "cymbals" not in line
    song = {"notes": [{"time": 0.5, "class": "snare"}, {"time": 0.1, "class": "snare"}, {"time": 0.2, "class": "kick"}]}
    onsets = full_song_bench._song_onsets(song)
    np.testing.assert_array_equal(onsets["snare"], [0.1, 0.5])
    assert len(onsets["toms"]) == 0


def test_shell_table_gives_medians_ratios_and_floor_marks(drums_bench, capsys):
    # --speed's rows timed from a shell: the median over rounds of each tree, this / --compare,
    # and the floor judged on this checkout's median wall time
    def runs(*walls):
        return [{"wall": w, "cpu": 2 * w, "rss_mb": 100.0 * w} for w in walls]

    trees = {"this checkout": "a", "--compare": "b"}
    timings = {"this checkout": {"shell_track": runs(2.0, 9.0, 2.4), "shell_track44": runs(3.0, 3.0, 3.0),
                                 "shell_song": runs(4.0, 5.0, 4.5)},
               "--compare": {"shell_track": runs(4.0, 2.8, 3.2), "shell_track44": runs(6.0, 6.0, 6.0),
                             "shell_song": runs(8.0, 9.0, 10.0)}}
    ok = drums_bench._print_shell_table(trees, timings, 3, ["1.0/1.0/1.0"])
    rows = {line.split(" | ")[0].lstrip("| "): line for line in capsys.readouterr().out.splitlines()
            if line.startswith("| 3-minute")}
    track, track44, song = (rows[title] for _, _, title, _ in drums_bench.SHELL_ROWS)
    assert "| 2.40 s | 4.80 s | 240 MB | 3.20 s | 6.40 s | 320 MB | 0.75 | 2.5 s ok |" in track
    assert track44.endswith("| 0.50 | 2.5 s MISS |")
    assert song.endswith("| 0.50 | 5 s ok |")
    assert not ok  # the 44.1 kHz track misses its floor


def test_proxy_set_plays_no_held_out_or_reserved_kit_and_no_held_out_draw(drums_bench):
    # the "proxy" set stands in for the held-out set while choosing: it may play neither a
    # held-out kit (nor a SoundFont kit made of one's samples: MuseScore's Power and Jazz
    # are FluidR3's held-out Power and Jazz) nor a reserved one, and none of the held-out
    # draws' performances (odd seeds) nor the tuning set's own draws
    import re

    sets = {label: (kits, seed if isinstance(seed, tuple) else (seed,)) for label, kits, seed in
            drums_bench.PERFORMANCE_SETS}
    proxy_kits, proxy_seeds = sets["proxy"]
    held_kits, held_seeds = sets["held out"]
    performances = drums_bench.performances
    held_fonts = {f"sf2:musescore:{performances.soundfont_kit(k)[1]}" for k in held_kits
                  if performances.soundfont_kit(k) is not None}
    assert held_fonts == {"sf2:musescore:16", "sf2:musescore:32"}
    forbidden = set(held_kits) | held_fonts | set(performances.RESERVED_KITS)
    assert proxy_kits and not set(proxy_kits) & forbidden, set(proxy_kits) & forbidden
    assert not any(re.search(performances.REFUSED_SOUNDFONTS, k, re.I) for k in proxy_kits)
    # the tuning set's kits: no package beyond the tuning set's is needed
    assert set(proxy_kits) <= set(sets["tuning"][0])
    assert len(proxy_seeds) == len(set(proxy_seeds)) >= 4
    assert all(s % 2 == 0 for s in proxy_seeds), "held-out draws play odd seeds"
    assert not set(proxy_seeds) & (set(held_seeds) | set(sets["tuning"][1]) | set(range(0, 9)))


def test_dark_cymbals_set_plays_a_non_held_out_kit_on_the_proxy_draws(drums_bench):
    # the "dark cymbals" set (a kit whose cymbals stem reads like the held-out set's) is
    # choosing material: no held-out or reserved kit (nor a SoundFont made of one's samples,
    # nor the refused Black Pearl SoundFont), none of the tuning set's kits (they read 7.8 dB
    # there), and the proxy's draws (even seeds, off the held-out and tuning draws)
    import re

    sets = {label: (kits, seed if isinstance(seed, tuple) else (seed,)) for label, kits, seed in
            drums_bench.PERFORMANCE_SETS}
    kits, seeds = sets["dark cymbals"]
    held_kits, _ = sets["held out"]
    performances = drums_bench.performances
    held_fonts = {"sf2:musescore:16", "sf2:musescore:32"}
    assert kits and not set(kits) & (set(held_kits) | held_fonts | set(performances.RESERVED_KITS))
    assert not any(re.search(performances.REFUSED_SOUNDFONTS, k, re.I) for k in kits)
    assert not set(kits) & set(sets["tuning"][0])
    # every kit is one the benchmark renders from an installed package it names
    assert all(performances.soundfont_kit(k) is not None for k in kits)
    assert seeds == sets["proxy"][1]


def test_ride_sets_with_the_hat_foot_elsewhere(transcription, monkeypatch):
    # ride_performances(..., hat_foot=...): the --ride draws (seeds (seed, i)) with the foot
    # moved, named after the pattern; without it the --ride set as before (its names too)
    played = []
    monkeypatch.setattr(transcription.performances, "render",
                        lambda performance, kit, **_: played.append(performance) or {
                            "notes": [], "name": f"{kit}-{performance['style']}"})
    sets = {foot: transcription.ride_performances(["A", "B"], n=2, seed=3, hat_foot=foot)
            for foot in (None, "quarters")}
    assert [m["name"] for m in sets[None]] == ["A-ride-ride-3.0", "A-ride-ride-3.1", "B-ride-ride-3.0",
                                               "B-ride-ride-3.1"]
    assert [m["name"] for m in sets["quarters"]] == ["A-ride-ride-quarters-3.0", "A-ride-ride-quarters-3.1",
                                                     "B-ride-ride-quarters-3.0", "B-ride-ride-quarters-3.1"]
    default, quarters = played[:2], played[4:6]
    assert [p["bpm"] for p in quarters] == [p["bpm"] for p in default]
    chicks = [sum(r == "hihat_pedal" for _, r, _ in p["notes"]) for p in default + quarters]
    assert all(c > 0 for c in chicks) and sum(chicks[2:]) > 1.5 * sum(chicks[:2])


def test_ride_sets_in_stereo_and_their_sdr_on_the_channel_average(transcription, monkeypatch):
    # --stereo: the ride grooves rendered at each kit's pan (performances.render's stereo),
    # mono as before when not asked; a stereo stem is scored on its channels' average
    asked = []
    monkeypatch.setattr(transcription.performances, "render",
                        lambda performance, kit, **kw: asked.append(kw.get("stereo", False)) or {
                            "notes": [], "name": kit})
    transcription.ride_performances(["A"], n=1, seed=3)
    transcription.ride_performances(["A"], n=1, seed=3, hat_foot="jazz", stereo=True)
    assert asked == [False, True]
    stereo = [[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]]
    import numpy as np

    assert transcription.channel_average(np.array(stereo)).tolist() == [2.0, 3.0, 4.0]
    assert transcription.channel_average(np.array([1.0, 2.0])).tolist() == [1.0, 2.0]
