"""``nmfaudio drums`` and ``nmfaudio templates learn`` through ``main([...])``: outputs,
summary, JSON, plot, templates, errors, no overwriting without --force, no partial files."""

import json
import os

import numpy as np
import pytest
import soundfile as sf

import nmfaudio
from nmfaudio.cli import main
from nmfaudio.cli.drums import ABSENT_TEXT, _done_lines

from test_drums import SR, STEMS, synthetic_hits
from test_drums_five import DATA, with_a_quiet_tom

from nmfaudio.drums import CLASSES

FAST = ["--max-iter", "30"]


@pytest.fixture(scope="module")
def hits():
    return synthetic_hits(seconds=2.0)


@pytest.fixture
def song(tmp_path, hits):
    path = tmp_path / "beat.wav"
    mix = np.stack([sum(hits), 0.5 * hits[0] + hits[1] + 0.7 * hits[2]])  # stereo
    nmfaudio.save(path, mix, SR)
    return path


def _mono_mixture(path):
    """The channel mean batch._mono_reads gives of the file at ``path``, read whole."""
    from nmfaudio.batch import _mono_reads

    with _mono_reads(path) as (read, n_samples):
        return read(0, n_samples)


@pytest.fixture
def one_shots(tmp_path, hits):
    folder = tmp_path / "kit"
    starts = {"kick": 0.0, "snare": 0.5, "hihat": 0.25}
    for name, track in zip(STEMS, hits):
        (folder / name).mkdir(parents=True)
        start = int(starts[name] * SR)
        sf.write(folder / name / f"{name}.flac", track[start:start + int(0.2 * SR)], SR)
    return folder


def test_drums_writes_five_stems_and_residual_that_add_up(song, tmp_path, capsys):
    out = tmp_path / "stems"
    assert main(["drums", str(song), "-o", str(out), *FAST]) == 0
    names = sorted(os.listdir(out))
    assert names == sorted(f"beat_{s}.wav" for s in (*CLASSES, "residual"))
    mixture = nmfaudio.load(song)[0]
    tracks = []
    for name in names:
        info = sf.info(out / name)
        assert info.samplerate == SR and info.channels == 2 and info.frames == mixture.shape[1]
        tracks.append(nmfaudio.load(out / name)[0])
    # the stems partition the mixture: float32 tolerance 1e-4 of the peak
    assert np.abs(np.sum(tracks, axis=0) - mixture).max() <= 1e-4 * np.abs(mixture).max()
    summary = capsys.readouterr().out
    assert "kick, snare, toms, hihat, cymbals separated" in summary and "beat_cymbals.wav" in summary
    assert "hits" in summary


def test_json_summary_and_plot(song, tmp_path, capsys, monkeypatch):
    out = tmp_path / "stems"
    calls = []
    detect = nmfaudio.DrumSeparation.hits

    def counted(self, **options):
        calls.append(options)
        return detect(self, **options)

    monkeypatch.setattr(nmfaudio.DrumSeparation, "hits", counted)
    assert main(["drums", str(song), "-o", str(out), "--json", "--plot", "--free", "1", *FAST]) == 0
    assert len(calls) == 1  # the plot, the JSON onsets and the hit counts share one detection
    summary = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in summary["sources"]] == [*CLASSES, "residual"]
    assert all("onsets_s" in s for s in summary["sources"][:5]) and summary["borrowed_from_bundled"] == []
    assert summary["channels"] == 2 and summary["sr"] == SR and summary["n_free"] == 1
    kick = summary["sources"][0]
    # the synthetic kick plays at 0, 1.0 s (every 4th 8th note at 120 BPM): onsets within a frame (23 ms)
    assert any(abs(t - 1.0) < 0.03 for t in kick["onsets_s"]) and any(t < 0.03 for t in kick["onsets_s"])
    assert summary["sources"][5]["rms"] > 0  # --free 1 gives the residual something
    png = out / "beat_drums.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_existing_outputs_need_force(song, tmp_path, capsys, one_line_error):
    out = tmp_path / "stems"
    out.mkdir()
    (out / "beat_snare.wav").write_bytes(b"keep me")
    assert main(["drums", str(song), "-o", str(out), *FAST]) == 1
    one_line_error(capsys.readouterr().err, "beat_snare.wav", "--force")
    assert sorted(os.listdir(out)) == ["beat_snare.wav"]  # nothing else written
    assert (out / "beat_snare.wav").read_bytes() == b"keep me"
    assert main(["drums", str(song), "-o", str(out), "--force", *FAST]) == 0
    assert sf.info(out / "beat_snare.wav").frames > 0


def test_an_unknown_class_is_said_before_existing_outputs(song, tmp_path, capsys, one_line_error):
    # "--classes Kick" over a folder of earlier stems: the class is the problem to name —
    # "use --force" would only lead to this error after a second try
    out = tmp_path / "stems"
    out.mkdir()
    (out / "beat_residual.wav").write_bytes(b"keep me")
    assert main(["drums", str(song), "-o", str(out), "--classes", "Kick", *FAST]) == 1
    err = capsys.readouterr().err
    one_line_error(err, "'Kick'", "kick")
    assert "--force" not in err
    assert (out / "beat_residual.wav").read_bytes() == b"keep me"



def test_templates_learn_summary_gives_each_class_its_length(one_shots, tmp_path, capsys):
    """A kit with cymbals: the kick, snare and hi-hat templates are 8 frames, the cymbals'
    24; the summary said "24 frames" (the array's width) as if every template were 24
    (review63b); --frames sets them all."""
    import shutil

    shutil.copytree(one_shots / "snare", one_shots / "cymbals")  # a stand-in crash one-shot
    assert main(["templates", "learn", str(one_shots), "-o", str(tmp_path / "a.npz")]) == 0
    assert "hop 512, 8 frames, cymbals 24)" in capsys.readouterr().out
    assert main(["templates", "learn", str(one_shots), "-o", str(tmp_path / "b.npz"), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["class_frames"] == {"kick": 8, "snare": 8, "hihat": 8, "cymbals": 24}
    assert record["n_frames"] == 24  # the array's width, as before
    assert main(["templates", "learn", str(one_shots), "-o", str(tmp_path / "c.npz"), "--frames", "12"]) == 0
    assert "hop 512, 12 frames)" in capsys.readouterr().out

def test_templates_learn_then_drums_with_them(one_shots, song, tmp_path, capsys, one_line_error):
    kit = tmp_path / "out" / "kit.npz"
    # a missing folder is asked for, as for image compress -o and drums --onsets (it was made; polish16)
    assert main(["templates", "learn", str(one_shots), "-o", str(kit)]) == 1
    one_line_error(capsys.readouterr().err,
                   f"-o {str(kit)!r}: folder {str(kit.parent)!r} does not exist; create it first")
    assert not kit.parent.exists()
    kit.parent.mkdir()
    assert main(["templates", "learn", str(one_shots), "-o", str(kit)]) == 0
    assert "1 kick, 1 snare, 1 hihat one-shots" in capsys.readouterr().out
    templates = nmfaudio.DrumTemplates.load(kit)
    assert templates.classes == STEMS and templates.n_shots == (1, 1, 1)
    assert main(["templates", "learn", str(one_shots), "-o", str(kit)]) == 1
    one_line_error(capsys.readouterr().err, "kit.npz", "--force")
    assert main(["templates", "learn", str(one_shots), "-o", str(kit), "--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_shots"] == {"kick": 1, "snare": 1, "hihat": 1}

    for i, source in enumerate((kit, one_shots)):  # an .npz or the folder itself
        out = tmp_path / f"stems_{i}"
        assert main(["drums", str(song), "-o", str(out), "--templates", str(source), *FAST]) == 0
        assert len(os.listdir(out)) == 6
        # the kit has no toms, cymbals or percussion: said once, taken from the bundled templates
        assert capsys.readouterr().out.count("toms, cymbals, other: not in") == 1


def test_a_kit_folders_learning_rate_is_said_where_the_templates_are_named(one_shots, song, tmp_path, capsys):
    """kitrate67: a one-shot folder stored above 22.05 kHz is learned at a recording's rate
    above 22.05 kHz; the summary line naming the templates says at which (an .npz: nothing)."""
    import shutil

    import librosa

    y, _ = nmfaudio.load(song)
    for shot in one_shots.rglob("*.flac"):  # the kit stored at 44.1 kHz (one at 22.05 kHz: learned at 22.05)
        data, rate = sf.read(shot)
        sf.write(shot, librosa.resample(data, orig_sr=rate, target_sr=44100), 44100)
    high = tmp_path / "beat44.wav"
    nmfaudio.save(high, librosa.resample(y, orig_sr=SR, target_sr=44100), 44100)
    npz = tmp_path / "kit.npz"
    assert main(["templates", "learn", str(one_shots), "-o", str(npz)]) == 0
    capsys.readouterr()
    said = {}
    for i, (source, templates) in enumerate(((song, one_shots), (high, one_shots), (high, npz))):
        assert main(["drums", str(source), "-o", str(tmp_path / f"out{i}"), "--templates", str(templates), *FAST]) == 0
        said[i] = capsys.readouterr().out.splitlines()[0]
    assert f"({one_shots}, one-shots learned at 22050 Hz)" in said[0], said[0]
    assert f"({one_shots}, one-shots learned at 44100 Hz)" in said[1], said[1]
    assert f"({npz})" in said[2], said[2]
    low = tmp_path / "low"  # a kit holding a 22.05-kHz one-shot: learned at 22.05 kHz, as said
    shutil.copytree(one_shots, low)
    snare = next(low.rglob("snare/*.flac"))
    data, rate = sf.read(snare)
    sf.write(snare, librosa.resample(data, orig_sr=rate, target_sr=SR), SR)
    assert main(["drums", str(high), "-o", str(tmp_path / "out3"), "--templates", str(low), *FAST]) == 0
    assert f"({low}, one-shots learned at 22050 Hz)" in capsys.readouterr().out.splitlines()[0]


@pytest.mark.parametrize("rate", [48000, 44100])
def test_templates_learn_at_a_rate_uses_the_separations_frames_there(one_shots, song, tmp_path, capsys, rate):
    """'templates learn KIT --sr 48000' learned on 2048 / 512 whatever the rate, so its .npz
    gave other stems than the folder itself, which a 48-kHz recording learns on 4464 / 1116
    (tour68).  The frames now default to the separation's at --sr: the .npz's templates
    equal the folder's as learned for a recording at that rate (exact), and so do the stems."""
    import librosa

    from nmfaudio import spectrum
    from nmfaudio.drums.templates import read_templates

    for shot in one_shots.rglob("*.flac"):  # a kit stored at the rate: the folder is learned there
        data, stored = sf.read(shot)
        sf.write(shot, librosa.resample(data, orig_sr=stored, target_sr=rate), rate)
    npz = tmp_path / "kit.npz"
    assert main(["templates", "learn", str(one_shots), "-o", str(npz), "--sr", str(rate)]) == 0
    n_fft, hop = spectrum.frames_for_rate(rate)
    assert f"(sr {rate}, n_fft {n_fft}, hop {hop}," in capsys.readouterr().out
    learned, folder = nmfaudio.DrumTemplates.load(npz), read_templates(one_shots, sr=rate)
    assert (learned.sr, learned.n_fft, learned.hop_length) == (folder.sr, folder.n_fft, folder.hop_length)
    np.testing.assert_array_equal(learned.P, folder.P)
    y, _ = nmfaudio.load(song)
    high = tmp_path / f"beat{rate}.wav"
    nmfaudio.save(high, librosa.resample(y, orig_sr=SR, target_sr=rate), rate)
    for name, templates in (("npz", npz), ("folder", one_shots)):
        assert main(["drums", str(high), "-o", str(tmp_path / name), "--templates", str(templates), *FAST]) == 0
    for stem in sorted(os.listdir(tmp_path / "folder")):
        np.testing.assert_array_equal(sf.read(tmp_path / "npz" / stem)[0], sf.read(tmp_path / "folder" / stem)[0])
    # --n-fft alone: the hop is a quarter of it, as 'nmfaudio drums --n-fft' takes it
    assert main(["templates", "learn", str(one_shots), "-o", str(tmp_path / "b.npz"), "--sr", str(rate),
                 "--n-fft", "2048"]) == 0
    assert "n_fft 2048, hop 512," in capsys.readouterr().out


def test_templates_learn_reads_capitalised_class_folders_by_name(one_shots, song, tmp_path, capsys,
                                                                  one_line_error):
    """kitprobe67: a sample library's Kick/, Snare/, HiHat/, kept as they are and read with
    --classes Kick,Snare,HiHat, made templates labelled "Kick", ...: 'nmfaudio drums' then
    modelled every drum with the bundled templates ("kick, snare, ...: not in kit.npz") and
    put the user's in the residual.  The refusal without --classes says that way out."""
    for name in ("kick", "snare", "hihat"):
        (one_shots / name).rename(one_shots / {"hihat": "HiHat"}.get(name, name.capitalize()))
    kit = tmp_path / "kit.npz"
    (one_shots / "other").mkdir()  # laid out ahead, empty: not named among the folders to read
    assert main(["templates", "learn", str(one_shots), "-o", str(kit)]) == 1
    one_line_error(capsys.readouterr().err, "rename HiHat -> hihat, Kick -> kick, Snare -> snare, or keep the names "
                                            "and read them by name: --classes Kick,Snare,HiHat")
    (one_shots / "other").rmdir()
    # given to 'drums' (whose --classes picks the stems written): learn them by name first
    assert main(["drums", str(song), "-o", str(tmp_path / "none"), "--templates", str(one_shots), *FAST]) == 1
    one_line_error(capsys.readouterr().err, "or keep the names and learn the templates from them by name: nmfaudio "
                                            f"templates learn {str(one_shots)!r} -o kit.npz --classes Kick,Snare,HiHat "
                                            "(DrumTemplates.from_folder with those classes in Python), then give kit.npz")
    assert not (tmp_path / "none").exists()
    assert main(["templates", "learn", str(one_shots), "-o", str(kit), "--classes", "kick,snare,hihat"]) == 1
    one_line_error(capsys.readouterr().err, "kit/kick' is missing, but", "read it by name: --classes Kick,Snare,HiHat")
    assert not kit.exists()
    assert main(["templates", "learn", str(one_shots), "-o", str(kit), "--classes", "Kick,Snare,HiHat"]) == 0
    assert "templates for kick, snare, hihat from 1 kick, 1 snare, 1 hihat one-shots" in capsys.readouterr().out
    assert main(["drums", str(song), "-o", str(tmp_path / "stems"), "--templates", str(kit), *FAST]) == 0
    summary = capsys.readouterr().out
    assert f"  toms, cymbals, other: not in {kit}; modelled with the bundled templates" in summary.splitlines()
    assert "not in --classes" not in summary  # no class of the kit left in the residual


def test_classes_subset(song, tmp_path):
    out = tmp_path / "stems"
    assert main(["drums", str(song), "-o", str(out), "--classes", "kick,hihat", *FAST]) == 0
    assert sorted(os.listdir(out)) == ["beat_hihat.wav", "beat_kick.wav", "beat_residual.wav"]


@pytest.mark.parametrize("blocks", [[], ["--block-seconds", "1"]], ids=["in-memory", "streamed"])
def test_percussion_stem_with_midi_and_onsets(song, tmp_path, capsys, blocks):
    # "other" (percussion: several instruments, no one General MIDI note) may be asked for:
    # its stem is written, the other classes' hits are, and it gets none (it used to stop
    # the command: "no General MIDI drum note is known for 'other'").  Block by block the
    # hits are read back from the stems on disk (batch's streamed path, its own call)
    out = tmp_path / "stems"
    assert main(["drums", str(song), "-o", str(out), "--classes", "kick,other", "--midi",
                 "--onsets", str(tmp_path / "hits.csv"), "--json", *blocks, *FAST]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "done" and sorted(summary["hit_counts"]) == ["kick"]
    assert (summary["blockwise"] is not None) == bool(blocks)
    assert sorted(os.listdir(out)) == ["beat_drums.mid", "beat_kick.wav", "beat_other.wav", "beat_residual.wav"]
    rows = (tmp_path / "hits.csv").read_text().splitlines()[1:]
    assert rows and {row.split(",")[1] for row in rows} == {"kick"}


@pytest.mark.parametrize("blocks", [[], ["--block-seconds", "1"]], ids=["in-memory", "streamed"])
def test_percussion_stem_alone_gets_no_hits(song, tmp_path, capsys, blocks):
    # "other" alone has no General MIDI note: no class has hits to pick, and the run writes
    # its stems with empty hit files (it used to separate, then stop on "activations must be
    # a non-empty dict", an internal message, with nothing written)
    out = tmp_path / "stems"
    assert main(["drums", str(song), "-o", str(out), "--classes", "other", "--midi", "--onsets", "--json",
                 *blocks, *FAST]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "done" and summary["hit_counts"] == {}
    assert sorted(os.listdir(out)) == ["beat_drums.mid", "beat_onsets.csv", "beat_other.wav", "beat_residual.wav"]
    assert (out / "beat_onsets.csv").read_text().splitlines() == ["time_s,class,velocity,strength"]
    lines = _done_lines(summary)  # the text summary: "no hits", not an empty list "()"
    assert f"  {out / 'beat_drums.mid'}  (no hits)" in lines and f"  {out / 'beat_onsets.csv'}  (no hits)" in lines


def test_quantized_hits_stream_block_wise(song, tmp_path, monkeypatch):
    # --quantize reads only the mixture's channel mean (the beat tracker): a block-wise run
    # streams with it, never loading the input and its stems whole (before tour9 it took
    # the in-memory path: a 20-minute stereo file's `drums --quantize 16 --midi` peaked at
    # 7.1 GB, past the 4 GiB budget that sent it to blocks); the hit files are byte for
    # byte the in-memory block-wise run's (--plot still takes that path).
    options = ["--block-seconds", "1", "--midi", "--onsets", "--quantize", "16", *FAST]
    from nmfaudio.drums import tempo_grid

    # both runs make the tracker's envelope 8 frames at a time: the same arithmetic, so the
    # same bytes on any CPU (the stretches' mel products in one piece could round otherwise)
    monkeypatch.setattr(tempo_grid, "ENVELOPE_FRAMES", 8)
    assert main(["drums", str(song), "-o", str(tmp_path / "in_memory"), "--plot", *options]) == 0
    load = nmfaudio.audio.load

    def load_no_input(path, *args, **kwargs):
        assert os.path.abspath(path) != os.path.abspath(song), "the input was loaded whole"
        return load(path, *args, **kwargs)

    monkeypatch.setattr(nmfaudio.audio, "load", load_no_input)
    # nor its channel mean whole: the beat tracker reads it a few frames at a time (the lead,
    # 2026-12-07: the tracker's STFT of the whole mixture added 0.41 GB to 10 minutes' run)
    quantize_read, reads = tempo_grid.quantize_read, []

    def spied(hits, read, n_samples, *args, **kwargs):
        return quantize_read(hits, lambda start, stop: (reads.append(stop - start), read(start, stop))[1],
                             n_samples, *args, **kwargs)

    monkeypatch.setattr(tempo_grid, "quantize_read", spied)
    assert main(["drums", str(song), "-o", str(tmp_path / "streamed"), *options]) == 0
    n_fft, hop = tempo_grid.TRACKER_N_FFT, 512  # the separation's hop at 22.05 kHz
    assert len(reads) > 1 and max(reads) <= 7 * hop + n_fft, reads
    for name in ("beat_drums.mid", "beat_onsets.csv"):
        assert (tmp_path / "streamed" / name).read_bytes() == (tmp_path / "in_memory" / name).read_bytes(), name
    rows = (tmp_path / "streamed" / "beat_onsets.csv").read_text().splitlines()[1:]
    assert rows  # the groove's hits, on the grid of its tempo
    # a mono file's samples are read as they are (no channel mean to take)
    mono = tmp_path / "mono.wav"
    nmfaudio.save(mono, load(song)[0][0], SR)
    np.testing.assert_array_equal(_mono_mixture(mono), load(mono)[0])
    np.testing.assert_array_equal(_mono_mixture(song), load(song)[0].mean(axis=0))


def test_streamed_tracker_signal_flips_an_inverted_channel(tmp_path):
    """Block-wise, --quantize's beat tracker reads the file's channels a stretch at a time
    (batch._mono_reads): a stereo file with one channel's polarity inverted gave silence (the
    channels' mean), as in memory (review62a).  Now the values tracker_mono gives the
    whole file: the inverted channel flipped."""
    rng = np.random.default_rng(0)
    left = (rng.standard_normal(SR * 3) * 0.1).astype(np.float32)
    path = tmp_path / "inverted.wav"
    nmfaudio.save(path, np.stack([left, -left, 0.5 * left]), SR)
    mono = _mono_mixture(path)
    np.testing.assert_allclose(mono, left * (2.5 / 3), rtol=1e-5)
    from nmfaudio.drums.tempo_grid import tracker_mono

    np.testing.assert_array_equal(mono, tracker_mono(nmfaudio.audio.load(path)[0]))


@pytest.mark.parametrize("file_format", [["--subtype", "pcm16"], ["--format", "flac"]], ids=["pcm16", "flac"])
def test_other_output_formats_stream_block_wise(song, tmp_path, monkeypatch, capsys, one_line_error,
                                                 file_format):
    # FLAC and 16/24-bit outputs stream too: the stems go to float scratch files, converted
    # at the end (before tour9 they took the in-memory path: a 20-minute stereo file's
    # `drums --format flac` peaked at 7.1 GB past the 4 GiB budget that sent it to blocks);
    # the same bytes as the in-memory block-wise run (--plot still takes that path), and no
    # scratch file left.
    quiet = tmp_path / "quiet.wav"  # the fixture's stems peak over full scale: PCM refuses them
    nmfaudio.save(quiet, 0.25 * load_samples(song), SR)
    song = quiet
    loud = tmp_path / "loud.wav"
    nmfaudio.save(loud, 16 * load_samples(song), SR)
    options = ["--block-seconds", "1", "--midi", *file_format, *FAST]
    assert main(["drums", str(song), "-o", str(tmp_path / "in_memory"), "--plot", *options]) == 0
    load = nmfaudio.audio.load

    def load_no_input(path, *args, **kwargs):
        assert os.path.abspath(path) not in (os.path.abspath(song), os.path.abspath(loud)), "an input was loaded whole"
        return load(path, *args, **kwargs)

    monkeypatch.setattr(nmfaudio.audio, "load", load_no_input)
    assert main(["drums", str(song), "-o", str(tmp_path / "streamed"), *options]) == 0
    names = sorted(os.listdir(tmp_path / "streamed"))  # hidden scratch files would be listed too
    assert names == sorted(n for n in os.listdir(tmp_path / "in_memory") if not n.endswith(".png"))
    for name in names:
        assert (tmp_path / "streamed" / name).read_bytes() == (tmp_path / "in_memory" / name).read_bytes(), name
    # streamed, a stem over full scale is refused as in memory, naming it, and nothing is left
    capsys.readouterr()
    assert main(["drums", str(loud), "-o", str(tmp_path / "loud"), *options]) == 1
    one_line_error(capsys.readouterr().err, "peaks at", "would clip as PCM_")
    assert not (tmp_path / "loud").exists()


def load_samples(path):
    return nmfaudio.load(path)[0]


@pytest.mark.parametrize("how", ["a folder of one file", "--jobs", "two files"])
def test_onsets_path_in_a_batch_names_what_made_it_one(how, song, tmp_path, capsys, one_line_error):
    # --onsets PATH is for one input; a folder holding one file or --jobs on one file used
    # to be refused with "but there are several inputs", which there were not
    folder = tmp_path / "in"
    folder.mkdir()
    song = song.rename(folder / song.name)
    other = tmp_path / "b.wav"
    other.write_bytes(song.read_bytes())
    inputs = {"a folder of one file": [folder], "--jobs": [song, "--jobs", "2"], "two files": [song, other]}
    code = main(["drums", *map(str, inputs[how]), "-o", str(tmp_path / "out"), "--onsets", str(tmp_path / "h.csv")])
    assert code == 2  # a usage error since review59 (exit 1 before)
    line = one_line_error(capsys.readouterr().err, "--onsets", "a batch", prefix="nmfaudio drums: error:")
    assert "several inputs" not in line or how == "two files"
    assert not (tmp_path / "out").exists()


def test_a_class_with_no_midi_note_is_refused_before_the_work(one_shots, song, tmp_path, capsys, one_line_error,
                                                              monkeypatch):
    # a kit learned with --classes cowbell (any sub-folder name is a class) separated, then
    # stopped on "pass notes={'cowbell': NOTE}", a Python argument the command line has no
    # option for: every run counts each class's hits, --midi or not
    import nmfaudio.drums

    (one_shots / "snare").rename(one_shots / "cowbell")
    kit = tmp_path / "cb.npz"
    assert main(["templates", "learn", str(one_shots), "-o", str(kit), "--classes", "cowbell"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(nmfaudio.drums, "separate_drums", lambda *a, **k: pytest.fail("the work started"))
    for extra in ([], ["--midi"]):
        out = tmp_path / "out"
        code = main(["drums", str(song), "-o", str(out), "--templates", str(kit), "--classes", "kick,cowbell", *extra])
        assert code == 1
        one_line_error(capsys.readouterr().err, "--classes kick,cowbell", "'cowbell'", "General MIDI", "other")
        assert not out.exists()


def test_a_class_the_kit_does_not_have_is_named_as_having_no_template(one_shots, song, tmp_path, capsys,
                                                                     one_line_error, monkeypatch):
    # --classes kick,cowbell with a kit (folder or .npz) that has no cowbell: the error said "no
    # General MIDI drum note is known for 'cowbell' ... name its one-shot folder after a drum",
    # a folder that is not there; neither the kit nor the bundled templates (which fill a
    # kit's missing drums) have a cowbell (kitprobe67)
    import nmfaudio.drums

    kit = tmp_path / "kit.npz"
    assert main(["templates", "learn", str(one_shots), "-o", str(kit)]) == 0
    capsys.readouterr()
    monkeypatch.setattr(nmfaudio.drums, "separate_drums", lambda *a, **k: pytest.fail("the work started"))
    for templates in (one_shots, kit):
        out = tmp_path / "out"
        code = main(["drums", str(song), "-o", str(out), "--templates", str(templates), "--classes", "kick,cowbell"])
        assert code == 1
        line = one_line_error(capsys.readouterr().err, "--classes kick,cowbell", "no template for 'cowbell'", "kick",
                              "snare", "hihat")
        assert "General MIDI" not in line
        assert not out.exists()


def test_residual_is_not_a_class_to_ask_for(song, tmp_path, capsys, one_line_error):
    # the residual is always written: naming it used to be refused as two inputs colliding
    # ("'beat.wav' and 'beat.wav' would both write ..._residual.wav"), the same file named twice
    for classes in ("residual", "kick,residual"):
        assert main(["drums", str(song), "-o", str(tmp_path / "out"), "--classes", classes]) == 2
        err = capsys.readouterr().err
        assert "residual" in err and "always written" in err and "would both write" not in err
    assert not (tmp_path / "out").exists()


def test_presence_test_off_keeps_the_toms(tmp_path, capsys):
    # the bundled loop and one quiet tom, which the toms' presence test judges absent
    mix, _ = with_a_quiet_tom(*sf.read(DATA / "drum_loop.wav", dtype="float32"))
    path = tmp_path / "fill.wav"
    nmfaudio.save(path, mix, SR)
    rms = {}
    for flag in ("on", "off"):
        assert main(["drums", str(path), "-o", str(tmp_path / flag), "--presence-test", flag, "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["presence_test"] is (flag == "on")
        rms[flag] = {s["name"]: s["rms"] for s in summary["sources"]}["toms"]
        # the record names the class judged absent, and the text summary says why on its line only
        assert summary["absent"] == (["toms"] if flag == "on" else [])
        said = [line for line in _done_lines(summary) if ABSENT_TEXT in line]
        assert said == ([f"  {tmp_path / flag / 'fill_toms.wav'}  (rms 0, 0 hits; {ABSENT_TEXT})"]
                        if flag == "on" else [])
    assert rms["on"] == 0 and rms["off"] > 2e-3  # the tom's own rms over the clip: 4.4e-3


def test_learn_errors_name_the_folder(one_shots, tmp_path, capsys, one_line_error):
    for path in (one_shots / "hihat").iterdir():
        path.unlink()
    assert main(["templates", "learn", str(one_shots), "-o", str(tmp_path / "k.npz")]) == 1
    one_line_error(capsys.readouterr().err, "hihat", "holds no audio files")
    (one_shots / "hihat").rmdir()
    # a missing class folder is an error only when asked for (by default: the folders there)
    assert main(["templates", "learn", str(one_shots), "-o", str(tmp_path / "k.npz"), "--classes", "kick,hihat"]) == 1
    one_line_error(capsys.readouterr().err, "hihat", "is missing")
    assert not (tmp_path / "k.npz").exists()
    assert main(["templates", "learn", str(one_shots), "-o", str(tmp_path / "k.txt")]) == 1
    one_line_error(capsys.readouterr().err, ".npz")


def test_learn_refuses_an_absurd_rate_and_a_one_shot_too_short_naming_it(one_shots, tmp_path, capsys,
                                                                         one_line_error):
    """--sr 1000000 resampled every one-shot to 1 MHz, and a 10-sample one-shot made a
    template, both without a word (mend62)."""
    kit = tmp_path / "k.npz"
    assert main(["templates", "learn", str(one_shots), "-o", str(kit), "--sr", "1000000"]) == 1
    one_line_error(capsys.readouterr().err, "--sr 1000000 is above 384000 Hz")
    assert main(["templates", "learn", str(one_shots), "-o", str(kit), "--sr", "384000", "--frames", "2"]) == 0
    capsys.readouterr()
    kit.unlink()
    click = one_shots / "snare" / "click.wav"
    sf.write(click, np.r_[np.ones(10), np.zeros(0)].astype(np.float32) * 0.5, SR)
    assert main(["templates", "learn", str(one_shots), "-o", str(kit)]) == 1
    one_line_error(capsys.readouterr().err, "click.wav", "lasts 10 samples (", "less than 5 ms: too short")
    assert not kit.exists()


def test_learn_to_a_bare_npz_name_says_the_name_is_missing(one_shots, tmp_path, capsys, one_line_error):
    """'-o "kits/$KIT.npz"' with KIT unset is 'kits/.npz': pathlib's hidden file with no
    suffix, refused as "must end in .npz" -- which it does (review62a); DrumTemplates.save
    said the same."""
    out = tmp_path / ".npz"
    assert main(["templates", "learn", str(one_shots), "-o", str(out)]) == 1
    one_line_error(capsys.readouterr().err, "has no name before .npz", repr(str(tmp_path / "kit.npz")))
    assert not out.exists()
    templates = nmfaudio.DrumTemplates.from_folder(one_shots)
    with pytest.raises(ValueError, match="has no name before .npz"):
        templates.save(tmp_path / ".NPZ")


def test_drums_errors_leave_nothing(tmp_path, capsys, song, one_line_error):
    out = tmp_path / "never"
    assert main(["drums", str(tmp_path / "missing.wav"), "-o", str(out)]) == 1
    one_line_error(capsys.readouterr().err, "missing.wav")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    assert main(["drums", str(text), "-o", str(out)]) == 1
    one_line_error(capsys.readouterr().err, "notes.wav")
    assert main(["drums", str(song), "-o", str(out), "--templates", str(tmp_path / "nokit")]) == 1
    one_line_error(capsys.readouterr().err, "nokit")
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(2))
    assert main(["drums", str(song), "-o", str(out), "--templates", str(bad)]) == 1
    one_line_error(capsys.readouterr().err, "not a drum-template file")
    assert not out.exists()  # no output folder was created for failed runs
    assert main(["drums", str(song), "-o", str(out), "--free", "-1"]) == 2  # usage error
    assert "--free" in capsys.readouterr().err


@pytest.mark.parametrize("fields, said", [
    ({"classes": np.array(["kick", "kick", "hihat"])}, "classes ('kick', 'kick', 'hihat') must name each"),
    ({"n_fft": 100}, "hop_length 512 must be"),
    ({"classes": np.array("kick")}, "a single value"),
])
def test_a_damaged_template_file_is_named_not_options_nobody_gave(tmp_path, capsys, song, one_line_error,
                                                                  fields, said):
    """A kit .npz whose fields disagree (made by hand, by another tool) was refused in the
    words of the library's arguments, which the command line turned into its options:
    "--classes kick,kick,hihat must name each of the 3 templates once", "--hop-length 512
    must be <= --n-fft 100", or numpy's "iteration over a 0-d array" -- none naming the
    file, two naming options the user never gave (review62a)."""
    P = np.random.default_rng(0).random((1025, 3, 8)).astype(np.float32)
    kit = tmp_path / "my kit.npz"
    np.savez(kit, **{"P": P, "classes": np.array(["kick", "snare", "hihat"]), "sr": 22050, "n_fft": 2048,
                     "hop_length": 512, "window": "hann", **fields})
    out = tmp_path / "out"
    assert main(["drums", str(song), "-o", str(out), "--templates", str(kit)]) == 1
    line = one_line_error(capsys.readouterr().err, repr(str(kit)), "holds unusable drum templates", said,
                          "nmfaudio templates learn")
    assert "--classes" not in line and "--n-fft" not in line and "--hop-length" not in line
    assert not out.exists()


def test_quantize_with_no_hits_invents_no_tempo(tmp_path, capsys):
    """A silent input has no hits to fit a grid to: the summary says so, the JSON has no
    tempo, and the MIDI file keeps the unquantized default tempo (120 BPM), as without
    --quantize, instead of one the beat tracker made up from silence."""
    import mido

    from nmfaudio.drums.hit_files import MIDI_BPM

    silent = tmp_path / "silence.wav"
    nmfaudio.save(silent, np.zeros(2 * SR, dtype=np.float32), SR)
    out = tmp_path / "out"
    assert main(["drums", str(silent), "-o", str(out), "--midi", "--onsets", "--quantize", "16",
                 "--max-iter", "5"]) == 0
    text = capsys.readouterr().out
    assert text.count("not quantized: no hits to fit a tempo to") == 2 and "BPM" not in text
    tempi = [m.tempo for m in mido.MidiFile(out / "silence_drums.mid").tracks[0] if m.type == "set_tempo"]
    assert tempi == [mido.bpm2tempo(MIDI_BPM)]
    assert (out / "silence_onsets.csv").read_text().splitlines() == ["time_s,class,velocity,strength"]
    assert main(["drums", str(silent), "-o", str(out), "--midi", "--onsets", "--quantize", "16",
                 "--max-iter", "5", "--force", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["hits_bpm"] is None and record["quantize"] == 16 and sum(record["hit_counts"].values()) == 0
    assert record["hits_grid_start_s"] is None


def test_quantize_says_when_no_tempo_fits_the_hits(tmp_path, capsys):
    """5 s of an eighth-note groove at 120 BPM, then 5 s at 84 BPM: no one tempo fits, and
    the summary says so after "quantized to ..." (--json: hits_tempo_fit false); the same
    groove at 120 BPM throughout says nothing more (hits_tempo_fit true). Main said
    "quantized to 1/16 notes at 118.2 BPM" and nothing else, its hits moved up to half a step."""
    from nmfaudio.cli.drums import UNFIT_TEXT

    first = sum(synthetic_hits(seconds=5.0, bpm=120))
    out = tmp_path / "out"
    for name, bpm, fits in (("steady", 120, True), ("change", 84, False)):
        y = np.concatenate([first, sum(synthetic_hits(seconds=5.0, bpm=bpm, seed=1))])
        nmfaudio.save(tmp_path / f"{name}.wav", (0.5 * y / np.abs(y).max()).astype(np.float32), SR)
        args = ["drums", str(tmp_path / f"{name}.wav"), "-o", str(out), "--midi", "--quantize", "16", *FAST]
        assert main([*args, "--json"]) == 0
        record = json.loads(capsys.readouterr().out)
        assert record["hits_tempo_fit"] is fits and record["hits_bpm"] is not None, (name, record["hits_bpm"])
        step = 60 / record["hits_bpm"] / 4  # the sixteenth-note line nearest 0 s (review63)
        assert -step / 2 < record["hits_grid_start_s"] <= step / 2
        assert record["hits_triplet_grid"] is None  # a tempo change, no swing
        assert main([*args, "--force"]) == 0
        (line,) = [line for line in capsys.readouterr().out.splitlines() if line.endswith(")") and ".mid" in line]
        assert ("quantized to 1/16 notes at" in line) and ((UNFIT_TEXT in line) is not fits), line


def test_quantize_a_one_shot_invents_no_tempo(hits, tmp_path, capsys):
    """Hits at one instant (a one-shot: kick and hi-hat at 0 s) give no tempo either: the
    file is left unquantized at 120 BPM, not snapped to the beat tracker's prior."""
    import mido

    from nmfaudio.drums.hit_files import MIDI_BPM

    shot = tmp_path / "shot.wav"
    nmfaudio.save(shot, np.asarray(sum(hits), dtype=np.float32)[: int(0.2 * SR)], SR)
    out = tmp_path / "out"
    assert main(["drums", str(shot), "-o", str(out), "--midi", "--quantize", "16", "--max-iter", "5",
                 "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert sum(record["hit_counts"].values()) >= 1 and record["hits_bpm"] is None
    tempi = [m.tempo for m in mido.MidiFile(out / "shot_drums.mid").tracks[0] if m.type == "set_tempo"]
    assert tempi == [mido.bpm2tempo(MIDI_BPM)]
    assert main(["drums", str(shot), "-o", str(out), "--midi", "--quantize", "16", "--max-iter", "5",
                 "--force"]) == 0
    assert "not quantized: the hits fall on one instant, no tempo to fit" in capsys.readouterr().out


def test_onsets_path_without_a_name_says_so(song, tmp_path, capsys, one_line_error):
    """--onsets out/.csv used to be refused as not ending in .csv (it does: it has no name)."""
    out = tmp_path / "out"
    assert main(["drums", str(song), "-o", str(out), "--onsets", str(out / ".csv"), *FAST]) == 1
    one_line_error(capsys.readouterr().err, ".csv' has no name before .csv", "hits.csv")
    assert not out.exists()


def test_block_wise_summary_gives_the_block_that_ran(song, tmp_path, capsys):
    """Blocks are whole hops (one at least): --block-seconds 1e-3 ran blocks of one hop
    (23 ms here) but the summary said "N blocks of 0.001 s".  Since tour13 a block shorter
    than the drum templates is refused (test_blockwise); a block the hops round keeps the
    length asked (within half a hop) and the count that ran."""
    out = tmp_path / "out"
    assert main(["drums", str(song), "-o", str(out), "--block-seconds", "0.61", "--json", *FAST]) == 0
    record = json.loads(capsys.readouterr().out)
    block = record["blockwise"]
    assert block["block_seconds"] == pytest.approx(0.61, abs=record["hop_length"] / record["sr"] / 2)
    assert block["blocks"] * block["block_seconds"] == pytest.approx(record["n_samples"] / record["sr"],
                                                                      abs=2 * block["block_seconds"])


@pytest.mark.parametrize("extras, n_figures, n_hit_files", [
    ([], 0, 0), (["--plot", "--midi", "--onsets"], 1, 2), (["--midi"], 0, 1)])
def test_free_space_asked_for_counts_the_figure_and_hit_files(song, tmp_path, monkeypatch, extras, n_figures,
                                                             n_hit_files):
    """The free space asked for before `drums` (and again when the outputs are written) is
    the stems' plus a bound per figure and hit file; main asked for the stems' alone."""
    from nmfaudio import audio
    from nmfaudio.batch import FIGURE_BYTES, HIT_FILE_BYTES

    asked = []
    monkeypatch.setattr(audio, "check_free_space", lambda folder, need: asked.append(need))
    out = tmp_path / "out"
    assert main(["drums", str(song), "-o", str(out), *extras, *FAST]) == 0
    info = sf.info(song)
    stems = audio.audio_bytes(info.frames, info.channels, len(CLASSES) + 1)  # 32-bit float WAV
    assert FIGURE_BYTES >= 2**20 and HIT_FILE_BYTES >= 2**20  # a bound, generous next to the files
    assert len(asked) == 2 and set(asked) == {stems + n_figures * FIGURE_BYTES + n_hit_files * HIT_FILE_BYTES}
    sizes = {p.suffix: p.stat().st_size for p in out.iterdir()}
    assert sizes.get(".png", 0) <= FIGURE_BYTES and max(sizes.get(".mid", 0), sizes.get(".csv", 0)) <= HIT_FILE_BYTES


def test_free_space_asked_for_block_by_block_counts_the_figure_and_hit_files(song, tmp_path, monkeypatch):
    """Streamed block by block, the space asked for grows by the same bounds."""
    from nmfaudio import audio
    from nmfaudio.batch import FIGURE_BYTES, HIT_FILE_BYTES

    asked = []
    monkeypatch.setattr(audio, "check_free_space", lambda folder, need: asked.append(need))
    for extras in ([], ["--plot", "--midi", "--onsets"]):
        assert main(["drums", str(song), "-o", str(tmp_path / "out"), "--block-seconds", "1", "--force",
                     *extras, *FAST]) == 0
    assert len(asked) == 4  # before the work and at the write, each run
    assert asked[2] - asked[0] == asked[3] - asked[1] == FIGURE_BYTES + 2 * HIT_FILE_BYTES


@pytest.mark.parametrize("spelling", ["absolute csv", "absolute -o", "dot-dot", "through a new folder"])
def test_onsets_in_the_output_folder_however_it_is_spelled(spelling, song, tmp_path, capsys, monkeypatch):
    """--onsets in the -o folder the run makes was refused ("folder ... does not exist") when
    the two paths were spelled differently: -o out --onsets /abs/out/hits.csv.  Through a
    folder that does not exist (out/sub/../hits.csv) the CSV was written, and an empty
    out/sub left behind (made on the way, as mkdir -p does; review58)."""
    monkeypatch.chdir(tmp_path)
    out, csv = {"absolute csv": ("out", str(tmp_path / "out" / "hits.csv")),
                "absolute -o": (str(tmp_path / "out"), "out/hits.csv"),
                "dot-dot": ("out", "out/../out/hits.csv"),
                "through a new folder": ("out", "out/sub/../hits.csv")}[spelling]
    assert main(["drums", str(song), "-o", out, "--onsets", csv, *FAST]) == 0
    assert "hits.csv" in capsys.readouterr().out
    assert (tmp_path / "out" / "hits.csv").read_text().startswith("time_s,class,velocity,strength")
    assert not [path.name for path in (tmp_path / "out").iterdir() if path.is_dir()]


def test_onsets_in_a_missing_folder_is_worded_as_the_other_outputs(song, tmp_path, capsys, one_line_error):
    # drums --onsets said "folder 'x' does not exist", image compress -o / --plot "...; create
    # it first": two copies of the check (cli.check_output_parent now), two wordings
    out = tmp_path / "out"
    assert main(["drums", str(song), "-o", str(out), "--onsets", str(tmp_path / "nodir" / "x.csv"), *FAST]) == 1
    one_line_error(capsys.readouterr().err,
                   f"--onsets {str(tmp_path / 'nodir' / 'x.csv')!r}: folder {str(tmp_path / 'nodir')!r} does not exist; "
                   "create it first")
    assert not out.exists()


@pytest.mark.parametrize("length", ["shorter", "same"])
def test_an_input_replaced_during_a_block_wise_run_is_named(song, tmp_path, monkeypatch, capsys, one_line_error,
                                                            length):
    # Block-wise drums read the input several times (its offset, each block, the hits): a
    # file replaced between the separation and the hits (an editor saving it again, `mv
    # new.wav take.wav`) made the hits stop on `mixture has 14700 samples but
    # signals['kick'] has 44100; give the recording the tracks were separated from`
    # (tour14; arrays the user never gave), and one of the same length was separated
    # half from each file without a word.  Now: one line naming the file, nothing written.
    import nmfaudio.drums as drums

    y = load_samples(song)
    other = 0.5 * y[:, ::-1] if length == "same" else y[:, : y.shape[1] // 3]
    replacement = tmp_path / "new.wav"
    nmfaudio.save(replacement, np.ascontiguousarray(other), SR)
    separate = drums.separate_drums

    def separate_then_replace(*args, **kwargs):
        result = separate(*args, **kwargs)
        os.replace(replacement, song)  # the input replaced once the blocks are read
        return result

    monkeypatch.setattr(drums, "separate_drums", separate_then_replace)
    out = tmp_path / "out"
    assert main(["drums", str(song), "-o", str(out), "--block-seconds", "1", "--onsets", *FAST]) == 1
    one_line_error(capsys.readouterr().err, repr(str(song)), "changed while it was being read",
                   "no output was written")
    assert not out.exists()


def test_a_class_subset_says_where_the_other_drums_went(song, tmp_path, capsys):
    # `--stems drums --classes kick,snare` sums the kick and snare into _drums and leaves
    # the hats with the residual in _accompaniment, as documented; the summary said only
    # `_drums.wav (rms ...)`, so a drums file without the hats (or, with --classes cymbals,
    # one at -60 dB beside an "accompaniment" holding the whole kit) looked like the drums
    # (tour14).  Both lines name what they hold; --json lists the classes in the residual;
    # the files still add up to the input (float32 rounding), and a full run says nothing new.
    out = tmp_path / "two"
    assert main(["drums", str(song), "-o", str(out), "--stems", "drums", "--classes", "kick,snare", *FAST]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].endswith("; kick, snare only)") and "beat_drums.wav" in lines[1]
    assert lines[2].endswith("; with the toms, hihat, cymbals: not in --classes)"), lines[2]
    total = load_samples(out / "beat_drums.wav") + load_samples(out / "beat_accompaniment.wav")
    assert np.abs(total - load_samples(song)).max() < 1e-5
    assert main(["drums", str(song), "-o", str(tmp_path / "one"), "--classes", "hihat", "--json", *FAST]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["classes_in_residual"] == ["kick", "snare", "toms", "cymbals"]
    assert _done_lines(record)[-1].endswith("; with the kick, snare, toms, cymbals: not in --classes)")
    assert main(["drums", str(song), "-o", str(tmp_path / "all"), "--stems", "drums", "--json", *FAST]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["classes_in_residual"] == [] and not any("--classes" in line for line in _done_lines(record))



def test_a_silent_stem_with_hits_says_where_they_come_from():
    # review60: a song's hi-hat stem judged to hold no hats (hat_presence) is silent, yet
    # hits() gives it hits (step 7 adds the recording's high-band onsets, at strength 0):
    # the summary read "rms 0, 54 hits; judged not playing" without saying whence
    from nmfaudio.cli.drums import ABSENT_HITS_TEXT

    record = {"adapt": True, "n_iter": 50, "n_free": 0, "input": "song.wav", "classes": ["snare", "hihat"],
              "templates": "bundled templates", "seconds": 1.0, "plot": None, "absent": ["hihat"],
              "sources": [{"name": "snare", "path": "o/song_snare.wav", "rms": 0.1, "onsets_s": [0.5]},
                          {"name": "hihat", "path": "o/song_hihat.wav", "rms": 0.0, "onsets_s": [0.1, 0.3]},
                          {"name": "residual", "path": "o/song_residual.wav", "rms": 0.2}]}
    lines = _done_lines(record)
    assert lines[2] == f"  o/song_hihat.wav  (rms 0, 2 hits; {ABSENT_TEXT}{ABSENT_HITS_TEXT})", lines
    assert lines[1] == "  o/song_snare.wav  (rms 0.1, 1 hit)", lines
    record["sources"][1]["onsets_s"] = []
    assert _done_lines(record)[2] == f"  o/song_hihat.wav  (rms 0, 0 hits; {ABSENT_TEXT})"

def test_a_silent_stem_whose_parts_sound_elsewhere_says_where_and_keeps_its_hits():
    # hatkeep62: a song's hat parts at the snare's hits sound in the cymbals stem
    # (result.sounds_in); the hi-hat stem is silent but not judged absent, and its hits are kept
    from nmfaudio.cli.drums import SOUNDS_IN_TEXT

    record = {"adapt": True, "n_iter": 50, "n_free": 0, "input": "song.wav", "classes": ["hihat", "cymbals"],
              "templates": "bundled templates", "seconds": 1.0, "plot": None, "absent": [],
              "sounds_in": {"hihat": "cymbals"},
              "sources": [{"name": "hihat", "path": "o/song_hihat.wav", "rms": 0.0, "onsets_s": [0.1, 0.3]},
                          {"name": "cymbals", "path": "o/song_cymbals.wav", "rms": 0.1, "onsets_s": [0.5]},
                          {"name": "residual", "path": "o/song_residual.wav", "rms": 0.2}]}
    lines = _done_lines(record)
    said = SOUNDS_IN_TEXT.format(host="cymbals")
    assert lines[1] == f"  o/song_hihat.wav  (rms 0, 2 hits; {said})", lines
    assert ABSENT_TEXT not in said and "cymbals stem" in said
    assert lines[2] == "  o/song_cymbals.wav  (rms 0.1, 1 hit)", lines
    from nmfaudio.cli.drums import SOUNDS_IN_SOME_TEXT

    record["sources"][0]["rms"] = 0.01  # block-wise: moved in some blocks only, the stem not silent
    assert _done_lines(record)[1] == f"  o/song_hihat.wav  (rms 0.01, 2 hits; {SOUNDS_IN_SOME_TEXT.format(host='cymbals')})"
    record.update(ride=True, ride_found=False)  # --ride on: the hat parts had no strokes to give
    assert any("sound in the cymbals stem already" in line for line in _done_lines(record))

def test_a_two_stem_drums_file_names_the_classes_left_silent():
    # review62b: `--stems drums --classes hihat` on a 44.1-kHz song whose hats the presence
    # decision left out wrote a drums file at rms 0, "hihat only", with no word of why (the
    # five-stem line says "judged not playing"); the drums line names the silent classes
    record = {"adapt": True, "n_iter": 70, "n_free": 1, "input": "song.wav", "classes": ["kick", "hihat"],
              "templates": "bundled templates", "seconds": 1.0, "plot": None, "absent": ["hihat"],
              "classes_in_residual": ["snare", "toms", "cymbals"],
              "sources": [{"name": "drums", "path": "o/song_drums.wav", "rms": 0.03},
                          {"name": "accompaniment", "path": "o/song_accompaniment.wav", "rms": 0.1}]}
    lines = _done_lines(record)
    assert lines[1] == f"  o/song_drums.wav  (rms 0.03; hihat {ABSENT_TEXT}; kick, hihat only)", lines
    assert lines[2] == "  o/song_accompaniment.wav  (rms 0.1; with the snare, toms, cymbals: not in --classes)"
    record["absent"] = []
    assert _done_lines(record)[1] == "  o/song_drums.wav  (rms 0.03; kick, hihat only)"
    # hatkeep62: hat parts sounding in the residual (no cymbals asked for) are in the accompaniment file
    from nmfaudio.cli.drums import SOUNDS_IN_TEXT

    record["sounds_in"] = {"hihat": "residual"}
    said = SOUNDS_IN_TEXT.format(host="accompaniment")
    assert _done_lines(record)[1] == f"  o/song_drums.wav  (rms 0.03; hihat: {said}; kick, hihat only)"


def test_an_input_whose_name_is_not_utf8_is_separated(song, tmp_path, capsys):
    """A file name that is not UTF-8 (``caf\\xe9.wav`` from an old archive or a Latin-1
    disk; Python holds the byte as a surrogate) failed in a batch and alone with "'utf-8'
    codec can't encode character '\\udce9' in position 7: surrogates not allowed" (soundfile
    encodes names strictly), naming no file; with --plot matplotlib then refused the title
    (review56).  The stems, hit files and figure get the input's own bytes in their names."""
    folder = tmp_path / "latin"
    folder.mkdir()
    raw = os.path.join(os.fsencode(folder), b"caf\xe9.wav")
    try:
        with open(raw, "wb") as handle:
            handle.write(song.read_bytes())
    except OSError:  # pragma: no cover - a file system that takes UTF-8 names only (macOS)
        pytest.skip("the file system refuses a name that is not UTF-8")
    name = os.fsdecode(raw)
    for argv, out in [([name], tmp_path / "one"), ([str(folder), "--jobs", "1"], tmp_path / "batch")]:
        assert main(["drums", *argv, "-o", str(out), *FAST, "--plot", "--midi", "--onsets"]) == 0, \
            capsys.readouterr().err
        written = sorted(os.listdir(os.fsencode(out)))
        assert b"caf\xe9_kick.wav" in written and b"caf\xe9_drums.png" in written
        assert b"caf\xe9_drums.mid" in written and b"caf\xe9_onsets.csv" in written
        y, _ = nmfaudio.load(os.path.join(out, "caf\udce9_kick.wav"))
        assert np.isfinite(y).all()
    capsys.readouterr()


@pytest.mark.parametrize("batch", [False, True])
def test_an_output_folder_that_is_a_broken_link_is_named(song, tmp_path, capsys, one_line_error, batch):
    """-o a symbolic link to nothing (a moved disk, a renamed folder) or a loop of links:
    it was taken for a folder removed meanwhile ("cannot keep the folder -o 'out':
    something removes it") or failed with "Symlink loop from ..." (review56).  The link is
    named, before any work."""
    gone = tmp_path / "gone"
    gone.symlink_to(tmp_path / "moved")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    inputs = [str(song), str(song)] if batch else [str(song)]
    for out, words in [(gone, "which does not exist; check the link or its target"),
                       (gone / "sub", "which does not exist"), (loop, "a loop of links"),
                       (loop / "sub", "a loop of links")]:
        assert main(["drums", *inputs, "-o", str(out), *FAST]) == 1
        line = one_line_error(capsys.readouterr().err, f"-o {str(out)!r}: ", words)
        assert "something removes it" not in line
    assert not (tmp_path / "moved").exists()


def test_summary_says_a_grid_just_before_the_files_start_as_negative(song, tmp_path, capsys):
    """``hits_grid_start_s`` is the grid point nearest 0 s (review63): one 2 ms before the
    file's start reads ``grid from -0.002 s``, one 0.4 ms before it ``grid from 0.000 s``
    (never ``-0.000``); on main such grids read nearly a whole step, ``grid from 0.136 s``
    at 110 BPM."""
    assert main(["drums", str(song), "-o", str(tmp_path / "out"), "--midi", "--quantize", "16", "--json",
                 *FAST]) == 0
    record = json.loads(capsys.readouterr().out)
    step = 60 / record["hits_bpm"] / 4
    assert -step / 2 < record["hits_grid_start_s"] <= step / 2, record["hits_grid_start_s"]
    for start, said in ((-0.002, "grid from -0.002 s"), (-0.0004, "grid from 0.000 s"), (0.05, "grid from 0.050 s")):
        line = [line for line in _done_lines({**record, "hits_grid_start_s": start}) if "quantized" in line]
        assert len(line) == 1 and said in line[0], (start, line)


def test_summary_names_the_triplet_grid_a_swung_groove_fits(song, tmp_path, capsys):
    """No tempo fitted a binary grid but a triplet grid's does (``hits_triplet_grid``, a
    swung groove): the summary names that grid instead of a tempo change (review63)."""
    from nmfaudio.cli.drums import UNFIT_TEXT

    assert main(["drums", str(song), "-o", str(tmp_path / "out"), "--midi", "--quantize", "16", "--json",
                 *FAST]) == 0
    record = json.loads(capsys.readouterr().out)
    assert "hits_triplet_grid" in record and record["hits_triplet_grid"] is None
    swung = {**record, "hits_tempo_fit": False, "hits_triplet_grid": 12}
    (line,) = [line for line in _done_lines(swung) if "quantized" in line]
    assert "eighth-note triplets do (a swung groove?)" in line and "use --quantize 12" in line, line
    assert UNFIT_TEXT not in line
    (line,) = [line for line in _done_lines({**swung, "hits_triplet_grid": None}) if "quantized" in line]
    assert UNFIT_TEXT in line


def test_merged_hits_without_a_fitted_tempo_are_not_called_flams(song, tmp_path, capsys):
    """Hits merged on a grid that no tempo fitted (``hits_tempo_fit`` False: noise, a free
    performance) lie on no grid, so "hits closer than its step: flams" is not why no finer
    grid keeps them (review65: a 10-s noise file under ``--quantize 16``); with a fitted
    tempo that reason stays."""
    from nmfaudio.cli.drums import NO_FINER_TEXT, NO_FINER_UNFIT_TEXT, UNFIT_TEXT

    assert main(["drums", str(song), "-o", str(tmp_path / "out"), "--midi", "--quantize", "16", "--json",
                 *FAST]) == 0
    record = {**json.loads(capsys.readouterr().out), "hits_merged": {"kick": 3}, "hits_finer_grid": None}
    (line,) = [line for line in _done_lines({**record, "hits_tempo_fit": False}) if "quantized" in line]
    assert UNFIT_TEXT in line and NO_FINER_UNFIT_TEXT in line and "flams" not in line, line
    (line,) = [line for line in _done_lines({**record, "hits_tempo_fit": True}) if "quantized" in line]
    assert line.endswith(NO_FINER_TEXT + ")"), line


def test_the_record_names_the_drumless_setting(song, tmp_path, capsys):
    """``--json`` (and a batch's manifest) says which ``--drumless`` the hits were picked
    with, as it does for ``--ride``: "auto" by default, true for ``--drumless`` / ``on``,
    false for ``off`` (review65: no field told the runs apart)."""
    for i, (words, said) in enumerate((([], "auto"), (["--drumless"], True), (["--drumless=off"], False))):
        assert main(["drums", *words, str(song), "-o", str(tmp_path / str(i)), "--json", *FAST]) == 0
        got = json.loads(capsys.readouterr().out)["drumless"]
        assert (got, type(got)) == (said, type(said)), (words, got)


def test_quantize_says_how_many_hits_a_coarse_grid_merged(tmp_path, capsys):
    """A 90-BPM groove with sixteenth-note hats (synthetic_hits' eighth notes at 180 BPM):
    ``--quantize 8`` keeps one hat per eighth-note point and says how many it merged and
    that ``--quantize 16`` keeps them (``--json``: hits_merged, hits_finer_grid); the
    CSV holds the hits counted.  Before review64 the hats were halved without a word."""
    from nmfaudio.cli.drums import FINER_TEXT, MERGED_TEXT

    y = sum(synthetic_hits(seconds=4.0, bpm=180))
    wav = tmp_path / "groove90.wav"
    nmfaudio.save(wav, (0.5 * y / np.abs(y).max()).astype(np.float32), SR)
    out = tmp_path / "out"
    args = ["drums", str(wav), "-o", str(out), "--onsets", "--quantize", "8", "--classes", "kick,snare,hihat", *FAST]
    assert main([*args, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    played = {s["name"]: len(s["onsets_s"]) for s in record["sources"] if "onsets_s" in s}
    assert abs(record["hits_bpm"] - 90) < 1, record["hits_bpm"]
    merged = record["hits_merged"]
    assert merged.get("hihat", 0) >= played["hihat"] // 3, (merged, played)
    for name, n in record["hit_counts"].items():  # each hit written or counted as merged
        assert n + merged.get(name, 0) == played[name], (name, n, merged, played)
    assert record["hits_finer_grid"] == 16
    rows = (out / "groove90_onsets.csv").read_text().splitlines()[1:]
    assert len(rows) == sum(record["hit_counts"].values())
    assert main([*args, "--force"]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "_onsets.csv" in line]
    said = ", ".join(f"{n} {name}" for name, n in merged.items())
    assert MERGED_TEXT.format(hits=f"{said} hits") + FINER_TEXT.format(grid=16) in line, line


@pytest.mark.parametrize("extra", [[], ["--block-seconds", "2"]])
def test_plot_legend_counts_the_hits_the_files_hold_after_quantize(tmp_path, monkeypatch, capsys, extra):
    """``--plot --quantize 8`` on sixteenth-note hats (the groove above): the figure's legend
    gives the hits as played, and how many the CSV holds and how many ``--quantize`` merged
    (the summary's hits_merged), in memory and block-wise.  Before review66 it said
    "▼ = hit (N in all)" with N the played count, more than the CSV's rows (80 vs 78)."""
    from nmfaudio import batch

    y = sum(synthetic_hits(seconds=4.0, bpm=180))
    wav = tmp_path / "groove90.wav"
    nmfaudio.save(wav, (0.5 * y / np.abs(y).max()).astype(np.float32), SR)
    drawn = []
    real = batch.save_figure
    monkeypatch.setattr(batch, "save_figure", lambda figure, *a, **k: (drawn.append(figure), real(figure, *a, **k)))
    out = tmp_path / "out"
    assert main(["drums", str(wav), "-o", str(out), "--onsets", "--plot", "--quantize", "8", "--json",
                 "--classes", "kick,snare,hihat", *FAST, *extra]) == 0
    record = json.loads(capsys.readouterr().out)
    merged = sum(record["hits_merged"].values())
    written = len((out / "groove90_onsets.csv").read_text().splitlines()[1:])
    assert merged > 0 and written == sum(record["hit_counts"].values())
    (title,) = [ax.get_title() for ax in drawn[-1].axes if ax.get_title().startswith("activations")]
    markers = sum(len(line.get_xdata()) for ax in drawn[-1].axes if ax.get_title() == title
                  for line in ax.get_lines() if line.get_marker() == "v")
    assert markers == written + merged  # every played hit stays marked where it was played
    assert f"({written + merged} as played; {written} in the MIDI/CSV, {merged} merged by --quantize)" in title, title


def test_json_with_two_stems_keeps_each_classs_hit_times(tmp_path, cli):
    """``--stems drums --json``: no file is a class's, so each class's hit times are under
    the drums file's ``onsets_s_by_class`` — the five-stem record's ``onsets_s`` per class,
    the same times (review66: the record held no hit time at all, where drums.md promises
    each drum's)."""
    import json

    loop = DATA / "drum_loop.wav"
    records = {}
    for stems in ("all", "drums"):
        code, out, err = cli(["drums", loop, "-o", tmp_path / stems, "--stems", stems, "--json"])
        assert code == 0, err
        records[stems] = {s["name"]: s for s in json.loads(out)["sources"]}
    five = {name: s["onsets_s"] for name, s in records["all"].items() if "onsets_s" in s}
    assert sum(map(len, five.values())) > 50  # the loop's 71 hits
    assert records["drums"]["drums"]["onsets_s_by_class"] == five
    assert "onsets_s_by_class" not in records["drums"]["accompaniment"]


def test_an_output_folder_inside_the_kit_folder_is_refused(one_shots, song, tmp_path, capsys, one_line_error):
    """The lead (2026-12-07): ``-o kit/kick`` with ``--templates kit`` wrote the stems among
    the kick one-shots, and the next run learned them as kick samples (or stopped on a silent
    stem taken for a one-shot).  Refused before any work, single file, batch and Python; the
    kit's files unchanged."""
    from nmfaudio import batch

    before = sorted(p.relative_to(one_shots) for p in one_shots.rglob("*"))
    for out in (one_shots / "kick", one_shots, one_shots / "new" / "sub"):
        for inputs in ([str(song)], [str(song), str(song.with_name("other.wav"))]):
            if len(inputs) == 2:
                song.with_name("other.wav").write_bytes(song.read_bytes())
            assert main(["drums", *inputs, "-o", str(out), "--templates", str(one_shots), *FAST]) == 1
            one_line_error(capsys.readouterr().err, f"the output folder {str(out)!r}",
                           f"the one-shot folder {str(one_shots)!r}", "give an output folder outside the kit")
    with pytest.raises(ValueError, match="inside the one-shot folder"):
        batch.separate_many([song], one_shots / "snare", job="drums", options={"templates": str(one_shots)})
    assert sorted(p.relative_to(one_shots) for p in one_shots.rglob("*")) == before
    # an output folder beside the kit is fine
    assert main(["drums", str(song), "-o", str(tmp_path / "beside"), "--templates", str(one_shots), *FAST]) == 0
