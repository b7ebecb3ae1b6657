"""nmfaudio.audio: load/save round trips, librosa's shape convention, atomic no-clobber writes."""

import os
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from nmfaudio import audio

SR = 8000


def _noise(shape, seed=0):
    return np.random.default_rng(seed).uniform(-0.9, 0.9, shape).astype(np.float32)


@pytest.mark.parametrize("shape", [(1000,), (2, 1000), (3, 500)])
def test_save_load_round_trip_is_exact_in_float(tmp_path, shape):
    y = _noise(shape)
    path = audio.save(tmp_path / "x.wav", y, SR)
    z, sr = audio.load(path)
    assert sr == SR
    assert z.shape == y.shape and z.dtype == np.float32
    # FLOAT WAV stores float32 samples unchanged: tolerance 0.
    np.testing.assert_array_equal(z, y)


def test_load_reads_pcm_and_flac_to_float(tmp_path):
    y = _noise((2, 800))
    sf.write(tmp_path / "a.wav", y.T, SR, subtype="PCM_16")
    sf.write(tmp_path / "a.flac", y.T, SR, subtype="PCM_24")
    for name, step in (("a.wav", 2.0**-15), ("a.flac", 2.0**-23)):
        z, sr = audio.load(tmp_path / name)
        assert z.shape == (2, 800) and sr == SR
        # PCM quantization error is at most one step (2**-(bits-1)) of full scale.
        assert np.abs(z - y).max() <= step


def test_load_mono_and_resample(tmp_path):
    t = np.arange(SR) / SR
    tone = 0.5 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    audio.save(tmp_path / "s.wav", np.stack([tone, tone]), SR)
    z, sr = audio.load(tmp_path / "s.wav", mono=True)
    assert z.shape == (SR,)
    np.testing.assert_allclose(z, tone, atol=1e-7)  # mean of two equal channels
    r, sr2 = audio.load(tmp_path / "s.wav", sr=16000)
    assert sr2 == 16000 and r.shape == (2, 2 * SR)
    # A 440 Hz tone survives resampling: compare to the analytic tone away from the edges
    # (soxr's passband error is well below 1 % of full scale).
    t2 = np.arange(2 * SR) / 16000
    expected = 0.5 * np.sin(2 * np.pi * 440 * t2)
    assert np.abs(r[0, 200:-200] - expected[200:-200]).max() < 5e-3



@pytest.mark.parametrize("name, subtype", [("s.wav", "FLOAT"), ("s.flac", "PCM_24"), ("s.ogg", "VORBIS")])
def test_load_a_stretch_by_offset_and_duration(tmp_path, name, subtype):
    """offset / duration (s, as librosa.load's) read exactly the samples of the whole file's
    stretch (tolerance 0: the same decode cut), Ogg included (decoded, then cut); a
    duration past the end stops at the end; an offset at the end is refused."""
    y = _noise((2, 4 * SR))
    sf.write(tmp_path / name, y.T, SR, subtype=subtype)
    whole, _ = audio.load(tmp_path / name)
    part, sr = audio.load(tmp_path / name, offset=1.25, duration=0.5)
    assert sr == SR
    np.testing.assert_array_equal(part, whole[:, int(1.25 * SR):int(1.75 * SR)])
    tail, _ = audio.load(tmp_path / name, offset=3.5, duration=10)
    np.testing.assert_array_equal(tail, whole[:, int(3.5 * SR):])
    with pytest.raises(ValueError, match=r"offset=4 s is at or past the end of .* \(4\.000 s long\)"):
        audio.load(tmp_path / name, offset=4)
    for bad in (dict(offset=-1), dict(duration=0), dict(offset=float("nan"))):
        with pytest.raises(ValueError, match="must be a finite number"):
            audio.load(tmp_path / name, **bad)

def test_save_refuses_to_overwrite_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "x.wav"
    audio.save(path, _noise(100), SR)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        audio.save(path, _noise(100, seed=1), SR)
    assert path.read_bytes() == before
    audio.save(path, _noise(100, seed=1), SR, overwrite=True)
    assert path.read_bytes() != before
    assert sorted(os.listdir(tmp_path)) == ["x.wav"]  # no .part files left


def test_failed_save_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="NaN"):
        audio.save(tmp_path / "x.wav", np.array([0.0, np.nan]), SR)
    with pytest.raises(ValueError, match="subtype"):
        audio.save(tmp_path / "x.flac", _noise(10), SR, subtype="FLOAT")
    with pytest.raises(ValueError, match="extension"):
        audio.save(tmp_path / "x.txt", _noise(10), SR)
    assert os.listdir(tmp_path) == []


def test_save_takes_the_command_lines_subtype_names(tmp_path):
    """``--subtype pcm16`` (and output_format's 'pcm16') given to save: refused with
    libsndfile's 16 names, none of them said to be it (tour16).  'pcm16', 'pcm24' and
    'float' (any case) are libsndfile's PCM_16, PCM_24 and FLOAT; a FLAC of floats is still
    refused, in the name given."""
    import soundfile as sf

    for name, subtype, stored in [("a.wav", "pcm16", "PCM_16"), ("b.flac", "PCM24", "PCM_24"),
                                  ("c.wav", "Float", "FLOAT"), ("d.wav", "PCM_16", "PCM_16")]:
        audio.save(tmp_path / name, _noise(100) / 4, SR, subtype=subtype)
        assert sf.info(str(tmp_path / name)).subtype == stored, name
    with pytest.raises(ValueError, match="^subtype='float' is not valid for FLAC files"):
        audio.save(tmp_path / "e.flac", _noise(10), SR, subtype="float")
    assert sorted(os.listdir(tmp_path)) == ["a.wav", "b.flac", "c.wav", "d.wav"]


@pytest.mark.parametrize("name, subtype, fix", [("x.wav", "PCM_16", "subtype='FLOAT'"),
                                                ("x.flac", None, "FLAC stores no float samples")])
def test_save_refuses_samples_an_integer_subtype_would_clip(tmp_path, name, subtype, fix):
    """PCM holds [-1, 1]: libsndfile clipped a louder track without a word (a 4x track's
    peak read back as 1.0) -- FLAC's default PCM_24 included.  Refused with the peak, as
    the command line does; nothing written.  Float WAV keeps the samples unchanged."""
    loud = 4 * _noise((2, 500))
    with pytest.raises(ValueError, match=rf"{name} peaks at 3\.\d+ \(\+11\.\d+ dBFS\) and would clip.*{fix}"):
        audio.save(tmp_path / name, loud, SR, subtype=subtype)
    assert os.listdir(tmp_path) == []
    audio.save(tmp_path / name, loud / 4, SR, subtype=subtype)  # within full scale: written
    np.testing.assert_array_equal(audio.load(audio.save(tmp_path / "f.wav", loud, SR))[0], loud)  # float: exact


@pytest.mark.parametrize("name, sr, most, fix", [
    ("x.wav", 10**10, 2**31 - 1, "pass the rate in Hz"),
    ("x.flac", 10**6, 655350, "save to a .wav path"),
    ("x.ogg", 250000, 200000, "save to a .wav path"),
])
def test_save_refuses_a_rate_the_format_cannot_store(tmp_path, name, sr, most, fix):
    """sr above what libsndfile stores: a raw OverflowError ('integer 10000000000 does not fit
    'int''), for FLAC a LibsndfileError naming the temporary file, and for OGG Vorbis above
    200 kHz a crash of the interpreter (before 2026-12-06, polish15)."""
    y = np.zeros(100, dtype=np.float32)
    with pytest.raises(ValueError, match=rf"^sr={sr} is above {most}, the highest rate .*\(1 to {most} Hz\); {fix}"):
        audio.save(tmp_path / name, y, sr)
    with pytest.raises(ValueError, match=r"^sr=10000000000 is above 2147483647"):  # WAVs only
        audio.save_tracks(tmp_path / "tracks", ["a.wav"], [y], 10**10)
    assert sorted(tmp_path.iterdir()) == []  # nothing written, no folder made
    audio.save(tmp_path / name, y, most)  # the highest rate itself is stored
    assert sf.info(str(tmp_path / name)).samplerate == most


def test_load_refuses_a_rate_no_file_stores_and_names_what_a_resample_needs(tmp_path, monkeypatch):
    """load(sr=10**10) raised a bare MemoryError("std::bad_alloc") from soxr (before
    2026-12-06); now the same one-line ValueError as save().  A resample that does run out
    of memory names the file, the rates and the size the samples need."""
    path = audio.save(tmp_path / "x.wav", _noise(2205), 22050)
    with pytest.raises(ValueError, match=r"^sr=10000000000 is above 2147483647, the highest rate libsndfile stores"):
        audio.load(path, sr=10**10)
    import librosa

    def no_memory(*args, **kwargs):
        raise MemoryError("std::bad_alloc")

    monkeypatch.setattr(librosa, "resample", no_memory)
    with pytest.raises(MemoryError, match=r"^resampling '.*x\.wav' from 22050 Hz to sr=2000000000 needs "
                                          r"[0-9.]+ GiB for the samples alone, more than is free; choose a lower sr$"):
        audio.load(path, sr=2 * 10**9)
    assert audio.load(path)[1] == 22050  # the file untouched


@pytest.mark.parametrize("mono", ["no", "false", 0, None])
def test_load_refuses_a_mono_that_is_not_a_switch(tmp_path, mono):
    """load(mono="no") averaged the channels ("no" is truthy) before 2026-12-06 (tour16)."""
    path = audio.save(tmp_path / "x.wav", np.stack([_noise(100), _noise(100)]), 22050)
    with pytest.raises(ValueError, match=rf"^mono={mono!r} must be True or False \('on' / 'off'\); True averages"):
        audio.load(path, mono=mono)
    assert audio.load(path, mono="off")[0].shape == (2, 100)
    assert audio.load(path, mono=np.True_)[0].shape == (100,)


def test_saved_file_has_normal_permissions(tmp_path):
    path = audio.save(tmp_path / "x.wav", _noise(10), SR)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_same_data_gives_identical_bytes(tmp_path):
    y = _noise((2, 300))
    a = audio.save(tmp_path / "a.wav", y, SR).read_bytes()
    b = audio.save(tmp_path / "b.wav", y.copy(), SR).read_bytes()
    assert a == b
    # libsndfile's PEAK chunk stores the time of writing; with it, files written a second
    # apart would differ.  It must not be there.
    assert b"PEAK" not in a[:200]
    assert sf.info(tmp_path / "a.wav").subtype == "FLOAT"


def test_an_output_inside_a_file_is_refused_naming_the_file(tmp_path):
    """save('notes/x.wav') where 'notes' is a file: NotADirectoryError naming it (before
    2026-12-05, tour11, "folder 'notes' does not exist; create it first", which mkdir
    refuses); a missing folder still says to create it; nothing is written."""
    (tmp_path / "notes").write_text("keep")
    for inside in ("x.wav", "deeper/x.wav"):
        with pytest.raises(NotADirectoryError, match=f"'{re.escape(str(tmp_path / 'notes'))}' is a file, not a folder"):
            audio.save(tmp_path / "notes" / inside, _noise((300,)), SR)
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        audio.save(tmp_path / "nowhere" / "x.wav", _noise((300,)), SR)
    assert (tmp_path / "notes").read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == ["notes"]


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        audio.load(tmp_path / "missing.wav")
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(ValueError, match="cannot read"):
        audio.load(tmp_path / "text.wav")
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1)), SR)
    with pytest.raises(ValueError, match="no samples"):
        audio.load(tmp_path / "empty.wav")
    sf.write(tmp_path / "nan.wav", np.array([0.0, np.nan, 0.1]), SR, subtype="FLOAT")
    with pytest.raises(ValueError, match="NaN"):
        audio.load(tmp_path / "nan.wav")
    with pytest.raises(ValueError, match="sr=0"):
        audio.load(tmp_path / "nan.wav", sr=0)


@pytest.mark.parametrize("bad, exc", [(np.zeros((2, 2, 2)), ValueError), (np.zeros(3, complex), TypeError),
                                      (np.zeros((2, 0)), ValueError), ("x.wav", TypeError)],
                         ids=["3-D", "complex", "no samples", "a file name"])
def test_save_rejects_bad_arrays(tmp_path, bad, exc):
    with pytest.raises(exc, match="y"):
        audio.save(tmp_path / "x.wav", bad, SR)


@pytest.mark.parametrize("overwrite", [False, True], ids=["new", "overwrite"])
def test_a_signal_between_a_rename_and_its_bookkeeping_leaves_no_partial_set(tmp_path, monkeypatch, overwrite):
    # A Ctrl-C/SIGTERM can land right after a rename took place and before atomic_outputs
    # recorded it; the outputs must still be all or nothing (none here).
    paths = [tmp_path / "a.wav", tmp_path / "b.wav"]
    if overwrite:
        for p in paths:
            p.write_bytes(b"old")
    real = audio._rename_no_clobber if not overwrite else audio.os.replace

    def rename_then_interrupt(source, destination):
        real(source, destination)
        raise KeyboardInterrupt

    monkeypatch.setattr(audio, "_rename_no_clobber", rename_then_interrupt)
    if overwrite:
        monkeypatch.setattr(audio.os, "replace", rename_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        with audio.atomic_outputs(paths, overwrite=overwrite) as temporaries:
            for t in temporaries:
                t.write_bytes(b"new")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if not overwrite else ["b.wav"])
    if overwrite:  # the untouched old output stays; the half-renamed set's new file is gone
        assert (tmp_path / "b.wav").read_bytes() == b"old"


def test_save_tracks_writes_on_threads_the_bytes_of_one_write_each(tmp_path):
    """save_tracks writes its tracks several at a time: each file has the bytes write_wav
    gives alone, in the order of the names; a failing write raises and leaves no file (nor,
    since mend60, the folder it made)."""
    from nmfaudio.audio import save_tracks, write_wav

    rng = np.random.default_rng(0)
    tracks = [rng.standard_normal((2, 5000 + 100 * i)).astype(np.float32) * 0.1 for i in range(5)]
    paths = save_tracks(tmp_path / "out", [f"t{i}.wav" for i in range(5)], tracks, 22050)
    for i, (path, track) in enumerate(zip(paths, tracks)):
        assert path.name == f"t{i}.wav"
        write_wav(tmp_path / "alone.wav", track, 22050)
        assert path.read_bytes() == (tmp_path / "alone.wav").read_bytes()
    bad = tracks[:2] + [np.zeros((2, 3, 4), np.float32)] + tracks[2:]
    with pytest.raises(ValueError, match="dimensions"):
        save_tracks(tmp_path / "bad", [f"t{i}.wav" for i in range(6)], bad, 22050)
    assert not (tmp_path / "bad").exists()


@pytest.mark.skipif(not hasattr(__import__("signal"), "pthread_kill"), reason="POSIX signals")
def test_an_interrupt_while_save_tracks_writes_on_threads_leaves_no_file(tmp_path, monkeypatch):
    """Ctrl-C (SIGINT to the main thread) while the tracks are being written: no write
    starts after it, the running ones end before the temporary files are removed, so no
    hidden ``.part`` file (nor output) is left behind once the threads are done."""
    import signal
    import threading

    real_write = audio.write_wav
    main = threading.main_thread().ident

    def write(path, track, sr):
        if track[0] == 1:  # the first track: interrupt the main thread while it waits
            signal.pthread_kill(main, signal.SIGINT)
        real_write(path, track, sr)

    monkeypatch.setattr(audio, "write_wav", write)
    monkeypatch.setattr(audio.os, "cpu_count", lambda: 2)  # two writers, the rest queued
    # Ctrl-C as a terminal delivers it: a test runner started in the background ('cmd &' in
    # a script) inherits SIGINT ignored, and the signal would then never arrive (as
    # hostile.start_cli resets it for the subprocess tests)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    tracks = [np.full(20000, 1.0 if i == 0 else 0.5, np.float32) for i in range(6)]
    before = set(threading.enumerate())
    try:
        with pytest.raises(KeyboardInterrupt):
            audio.save_tracks(tmp_path, [f"t{i}.wav" for i in range(6)], tracks, 8000)
    finally:
        signal.signal(signal.SIGINT, previous)
    for thread in set(threading.enumerate()) - before:  # writes still running or queued
        thread.join()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt, subtype", [("OGG", "VORBIS"), ("FLAC", "PCM_16"), ("MP3", "MPEG_LAYER_III")])
def test_file_reader_stretches_are_the_whole_reads_samples(tmp_path, fmt, subtype):
    # the block-wise modes read stretches of the input: each must hold exactly the samples
    # a whole read gives (libsndfile's seek in Ogg Vorbis and MP3 decoded some wrong, by
    # up to 1.5; those formats are now decoded front to back)
    if fmt not in sf.available_formats() or subtype not in sf.available_subtypes(fmt):
        pytest.skip(f"libsndfile here writes no {fmt} {subtype}")
    rng = np.random.default_rng(7)
    path = tmp_path / f"noise.{fmt.lower()}"
    sf.write(path, (0.3 * rng.standard_normal((120_000, 2))).astype(np.float32), 44100, format=fmt, subtype=subtype)
    whole, _ = audio.load(path)
    reader = audio.FileReader(path)
    try:
        assert reader.n_samples == whole.shape[-1]
        # at random, in increasing order with overlaps (the block-wise reads), inside the
        # last stretch, backwards, and at both ends
        starts = rng.integers(0, whole.shape[-1] - 5000, 12).tolist()
        increasing = np.arange(0, whole.shape[-1], 3000).tolist()
        reads = [(start, 4000) for start in [*starts, *increasing, 50_000, 51_000, 52_000, 51_500, 100, -50,
                                              whole.shape[-1] - 300]]
        reads += [(60_000, 4000), (61_000, 1000), (61_500, 3500), (70_000, 10)]  # one inside the last
        for start, size in reads:
            stretch = reader.read(start, start + size)
            expected = np.zeros((2, size), np.float32)
            lo, hi = max(start, 0), min(start + size, whole.shape[-1])
            expected[:, lo - start:hi - start] = whole[:, lo:hi]
            np.testing.assert_array_equal(stretch, expected, err_msg=f"start {start}")
    finally:
        reader.close()


@pytest.mark.parametrize("fmt, subtype", [("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")])
def test_decoded_copy_is_seekable_and_holds_the_whole_reads_samples(tmp_path, fmt, subtype):
    # `nmfaudio drums` block-wise copies an Ogg/MP3 input once to float RF64 for the hit
    # detection: the copy is read with seek and gives exactly the samples load() gives
    if fmt not in sf.available_formats() or subtype not in sf.available_subtypes(fmt):
        pytest.skip(f"libsndfile here writes no {fmt} {subtype}")
    rng = np.random.default_rng(8)
    path, copy = tmp_path / f"noise.{fmt.lower()}", tmp_path / "copy.part"
    sf.write(path, (0.3 * rng.standard_normal((70_001, 2))).astype(np.float32), 44100, format=fmt, subtype=subtype)
    whole, sr = audio.load(path)
    reader = audio.FileReader(path)
    try:
        audio.decoded_copy(reader, copy)
    finally:
        reader.close()
    copied = audio.FileReader(copy)
    try:
        assert not copied.sequential and copied.sr == sr
        np.testing.assert_array_equal(copied.read(50_000, 60_000), whole[:, 50_000:60_000])  # after a seek
        np.testing.assert_array_equal(copied.read(-10, copied.n_samples), np.pad(whole, ((0, 0), (10, 0))))
    finally:
        copied.close()


def test_a_long_name_cut_inside_a_multibyte_character_still_gets_its_temporary(tmp_path):
    # "x" + 125 "é" + ".wav": 255 bytes of UTF-8, a valid output name; its temporary
    # ".<name>.<8 hex>.part" is cut to 240 bytes of the name, which falls inside an "é"
    # (2 bytes): the half character is dropped, not a UnicodeDecodeError
    target = tmp_path / ("x" + "é" * 125 + ".wav")
    assert len(os.fsencode(target.name)) == 255
    with audio.atomic_outputs([target]) as (temporary,):
        assert len(os.fsencode(Path(temporary).name)) <= 255
        Path(temporary).write_bytes(b"data")
    assert target.read_bytes() == b"data"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no temporary left


def test_atomic_outputs_refuses_a_name_too_long_before_creating_anything(tmp_path):
    # every caller (image, spikes, batch) gets the check, not the drums CLI alone: 256 bytes
    # would otherwise fail at the rename, after the work
    target = tmp_path / "out" / ("a" * 252 + ".wav")
    with pytest.raises(ValueError, match="256 bytes long, more than the 255"):
        with audio.atomic_outputs([tmp_path / "short.wav", target]):
            pytest.fail("the body ran")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc (no new files there, even as root)")
def test_a_folder_that_takes_no_new_file_is_named_with_the_output(tmp_path):
    """Writing into a folder that takes no new file (read-only, no permission; /proc/self
    even for root) raised the OSError of the hidden temporary file: "[Errno 30] Read-only
    file system: 'ro/.x_component_01.wav.1234-0a7c-eb52f03d.part'", a name nobody asked for
    (tour16).  The error now names the output; nothing is left behind."""
    from nmfaudio.drums.hit_results import ClassHits, DrumHits

    folder = Path("/proc/self")
    hits = DrumHits({"kick": ClassHits("kick", 36, np.array([0.5]), np.ones(1), np.full(1, 100))})
    writes = {"x.wav": lambda: audio.save(folder / "x.wav", np.zeros(100, np.float32), 8000),
              "a_component_01.wav": lambda: audio.save_tracks(folder, ["a_component_01.wav"],
                                                              [np.zeros(100, np.float32)], 8000),
              "hits.mid": lambda: hits.write_midi(folder / "hits.mid"),
              "hits.csv": lambda: hits.write_csv(folder / "hits.csv")}
    for name, write in writes.items():
        with pytest.raises(OSError) as info:
            write()
        assert info.value.filename == str(folder / name) and ".part" not in str(info.value), info.value
    assert not any(p.name.endswith(".part") for p in folder.iterdir())


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_folder_where_an_output_file_must_go_is_named_and_kept(overwrite, tmp_path):
    """An output path that is a folder: with overwrite=True the rename onto it failed with
    "[Errno 21] Is a directory: '.x.1a2b3c4d.part' -> 'x'" (a temporary file's name), and
    without it the message said to pass overwrite=True, which cannot replace a folder."""
    from nmfaudio.drums.hit_results import ClassHits, DrumHits

    csv_folder, wav_folder = tmp_path / "hits.csv", tmp_path / "take.wav"
    for folder in (csv_folder, wav_folder):
        (folder / "inner").mkdir(parents=True)
        (folder / "inner" / "keep.txt").write_text("mine")
    hits = DrumHits({"kick": ClassHits("kick", 36, np.array([0.5]), np.ones(1), np.full(1, 100))})
    writes = [lambda: hits.write_csv(csv_folder, overwrite=overwrite),
              lambda: hits.write_midi(csv_folder, overwrite=overwrite),
              lambda: audio.save(wav_folder, np.zeros(100, np.float32), 8000, overwrite=overwrite)]
    for write in writes:
        with pytest.raises(IsADirectoryError, match="is a folder where an output file must go; give a file name"):
            write()
    for folder in (csv_folder, wav_folder):
        assert (folder / "inner" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hits.csv", "take.wav"]  # no temporary file left


def test_a_wav_still_being_recorded_is_named_as_such(tmp_path):
    """A recorder writes the WAV's data size when it stops: a file copied while recording
    (or left by a crashed recorder) declares 0 bytes of audio with the audio after it.  It
    was called empty ('holds no samples'), though 44 KB of audio were there; now the bytes
    are counted and the fix given.  A WAV that is really empty keeps its message."""
    import struct

    payload = (np.sin(np.arange(22050) * 0.05) * 10000).astype("<i2").tobytes()
    header = (b"RIFF" + struct.pack("<I", 36) + b"WAVE"
              + struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 22050, 44100, 2, 16) + b"data" + struct.pack("<I", 0))
    recording = tmp_path / "take 1.wav"
    recording.write_bytes(header + payload)
    message = (r"'.*take 1.wav' declares no audio \(its header's data size is 0\) but holds 44100 bytes after it: a "
               r"recording still in progress.*sox --ignore-length '.*take 1.wav' fixed.wav\)$")
    for call in (audio.audio_info, audio.load):
        with pytest.raises(ValueError, match=message):
            call(recording)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0), 22050)
    with pytest.raises(ValueError, match="holds no samples"):
        audio.load(empty)


# ----------------------------------------------------------------------------- stale temporaries

def _dead_pid() -> int:
    """A pid no process has: a child that has exited and been waited for (not a zombie)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _host_tag() -> str:
    """This machine's tag in a temporary file's name (the host name's SHA-1, 4 hex digits),
    worked out here rather than asked of the module under test."""
    import hashlib
    import socket

    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:4]


@pytest.mark.skipif(os.name != "posix", reason="liveness is asked with os.kill(pid, 0): POSIX only")
def test_a_killed_runs_temporaries_of_an_output_are_removed_when_it_is_written_again(tmp_path):
    """A ``kill -9`` (or the kernel's out-of-memory kill) of a run while it wrote left its
    hidden ``.x.wav.<pid>-<host>-<hex>.part`` files, tens of MB each, for good: the next
    write of ``x.wav`` removes those of a dead pid, and only those — a live process's
    (another run sharing the folder), another machine's, another output's, the old
    names without a pid and any other hidden file are kept — and says what it removed.
    On main nothing was removed."""
    dead, tag = _dead_pid(), _host_tag()
    clean, out = tmp_path / "clean", tmp_path / "out"
    clean.mkdir()
    out.mkdir()
    y = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 4000)).astype(np.float32)
    audio.save(clean / "x.wav", y, 8000)
    stale = [out / f".x.wav.{dead}-{tag}-0123abcd.part", out / f".x.wav.{dead}-{tag}-deadbeef.part"]
    kept = [out / f".x.wav.{os.getppid()}-{tag}-0123abcd.part",  # a live run's (the parent: os.kill says alive)
            out / f".x.wav.{os.getpid()}-{tag}-0123abcd.part",  # this process's own
            out / f".x.wav.{dead}-{'f' if tag[0] != 'f' else 'e'}{tag[1:]}-0123abcd.part",  # another machine's
            out / f".y.wav.{dead}-{tag}-0123abcd.part",  # another output's
            out / f".x.wav.wav.{dead}-{tag}-0123abcd.part",  # another output's, named like it
            out / ".x.wav.1a2b3c4d.part",  # the old name, without a pid: who wrote it is unknown
            out / ".x.wav", out / ".hidden"]
    for i, path in enumerate(stale + kept):
        path.write_bytes(bytes([i]) * 1000)
    notes = []
    with audio.on_stale_removed(lambda folder, removed: notes.append(audio.stale_note(folder, removed))):
        audio.save(out / "x.wav", y, 8000)
    assert not any(path.exists() for path in stale)
    assert [path.read_bytes() for path in kept] == [bytes([i]) * 1000 for i in range(len(stale), len(stale + kept))]
    assert (out / "x.wav").read_bytes() == (clean / "x.wav").read_bytes()
    assert notes == [f"removed 2 temporary files left by an interrupted run (pid {dead}) in {str(out)!r}"]
    assert sorted(p.name for p in out.iterdir()) == sorted([path.name for path in kept] + ["x.wav"])


def test_the_stale_sweep_reads_each_folder_once_for_all_its_outputs(tmp_path, monkeypatch):
    """Six stems written together into one folder read it once for the dead runs' files,
    not once per stem (a batch into a folder of thousands of files read it six times per
    input), and each stem's stale temporaries are still removed (a name that is another's
    prefix included); the folder-read count is exact."""
    dead, tag = _dead_pid(), _host_tag()
    names = ["a_kick.wav", "a_snare.wav", "a_toms.wav", "a_hihat.wav", "a_cymbals.wav", "a_cymbals.wav.wav"]
    stale = [tmp_path / f".{name}.{dead}-{tag}-0123abcd.part" for name in names]
    for path in stale:
        path.write_bytes(b"x")
    other = tmp_path / f".b_kick.wav.{dead}-{tag}-0123abcd.part"  # an output not written now
    other.write_bytes(b"x")
    reads = []
    scandir = os.scandir
    monkeypatch.setattr(audio.os, "scandir", lambda folder: reads.append(Path(folder)) or scandir(folder))
    with audio.atomic_outputs([tmp_path / name for name in names]) as temporaries:
        for temporary in temporaries:
            temporary.write_bytes(b"y")
    assert reads == [tmp_path]
    assert not any(path.exists() for path in stale) and other.exists()
    assert all((tmp_path / name).read_bytes() == b"y" for name in names)


def test_pid_alive_is_conservative():
    """Only a pid that certainly has no process reads as dead: this process, the parent
    (os.kill's answer), pid 0 and negative pids (process groups: never signalled)."""
    assert audio.pid_alive(os.getpid()) and audio.pid_alive(os.getppid())
    assert audio.pid_alive(0) and audio.pid_alive(-1)
    if os.name == "posix":
        assert not audio.pid_alive(_dead_pid())
