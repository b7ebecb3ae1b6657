"""The Python API's argument errors: bad arrays, rates, spectrograms, factors and paths
raise the built-in exception naming the argument.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import nmfaudio
from nmfaudio import masks


#: Sampling rate of the conftest ``tones`` (8000 Hz).
SR = 8000


# --- the API: bad arrays name the argument ----------------------------------------------


BAD_ARRAYS = [
    (np.array([0.1, np.nan, 0.2] * 100, np.float32), ValueError, "NaN"),
    (np.array([0.1, np.inf] * 100), ValueError, "NaN or infinite"),
    (np.zeros((2, 2, 100), np.float32), ValueError, r"shape \(2, 2, 100\)"),
    (np.float32(0.5), ValueError, r"shape \(\)"),
    (np.zeros((0, 100), np.float32), ValueError, "no channels"),
    (np.ones(300, np.complex64), TypeError, "complex64"),
    (np.array([0.1, 0.2] * 100, dtype=object), TypeError, "object"),
    (np.array(["a", "b"]), TypeError, "<U1"),
]


@pytest.mark.parametrize("y, exc, match", BAD_ARRAYS,
                         ids=["nan", "inf", "3-D", "0-D", "no channels", "complex", "object", "strings"])
def test_separate_save_stft_reject_bad_audio_naming_y(y, exc, match, tmp_path):
    for call in (lambda: nmfaudio.separate(y, SR, n_components=2),
                 lambda: nmfaudio.save(tmp_path / "x.wav", y, SR),
                 lambda: nmfaudio.stft(y)):
        with pytest.raises(exc, match=match) as info:
            call()
        assert str(info.value).startswith("y ")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("dtype, fix", [(np.int16, "y / 32768"), (np.int32, r"y / 2\*\*31"),
                                        (np.uint8, r"\(y - 128\) / 128"), (np.int64, "y / 32768 for 16-bit")])
def test_integer_samples_are_refused_where_their_level_is_kept(dtype, fix, tmp_path):
    """Integer PCM (scipy.io.wavfile.read's int16) taken as floats was 32768 times full
    scale: separate_drums' stems and nmfaudio.save's float WAV peaked at ~29000 (+89 dBFS).
    Refused, naming the division that brings them to [-1, 1]; no file written."""
    y = (np.random.default_rng(0).uniform(-0.5, 0.5, 4000) * 100).astype(dtype)
    for call in (lambda: nmfaudio.separate(y, SR, n_components=2),
                 lambda: nmfaudio.separate(y, SR, n_components=2, block_seconds=0.2),
                 lambda: nmfaudio.separate_drums(y, SR),
                 lambda: nmfaudio.save(tmp_path / "x.wav", y, SR)):
        with pytest.raises(TypeError, match=f"y has dtype {np.dtype(dtype).name}: integer samples.*: {fix}"):
            call()
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("sr", [-1, 0, -44100.0, 22050.5, float("nan"), "44100", True])
def test_bad_sr_is_named(sr, tmp_path, write_audio, tones):
    y = tones()
    for call in (lambda: nmfaudio.separate(y, sr, n_components=2),
                 lambda: nmfaudio.save(tmp_path / "x.wav", y, sr),
                 lambda: nmfaudio.load(write_audio(tmp_path / "y.wav", y), sr=sr)):
        with pytest.raises(ValueError, match=r"^sr=") as info:
            call()
        assert "whole number" in str(info.value)
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("X, exc, match", [
    (np.full((129, 10), np.nan + 0j, np.complex64), ValueError, "NaN"),
    (np.ones((129, 10), dtype=object), TypeError, "object"),
    (np.ones(129, np.complex64), ValueError, r"shape \(129,\)"),
], ids=["nan", "object", "1-D"])
def test_istft_rejects_bad_spectrograms_naming_X(X, exc, match):
    with pytest.raises(exc, match=match) as info:
        nmfaudio.istft(X, hop_length=64)
    assert str(info.value).startswith("X ")


@pytest.mark.parametrize("W, H, exc, match", [
    (np.full((5, 2), np.nan), np.ones((2, 4)), ValueError, "^W holds NaN"),
    (np.ones((5, 2), complex), np.ones((2, 4)), TypeError, "^W has dtype complex128"),
    (np.ones((5, 2)), np.ones((2, 4), dtype=object), TypeError, "^H has dtype object"),
    (np.ones((5, 2, 1)), np.ones((2, 4)), ValueError, r"W must be \(n_freq, k\)"),
], ids=["nan W", "complex W", "object H", "3-D W"])
def test_masks_reject_bad_factors_naming_them(W, H, exc, match):
    with pytest.raises(exc, match=match):
        masks.masks(W, H)


@pytest.mark.parametrize("V, exc, match", [
    (np.full((4, 5), np.nan), ValueError, "^V holds"),
    (np.ones((4, 5), complex), TypeError, "^V has dtype complex128"),
    (np.ones((4, 5), dtype=object), TypeError, "^V has dtype object"),
    (np.ones(5), ValueError, "^V must be 2-D"),
], ids=["nan", "complex", "object", "1-D"])
def test_factorize_rejects_bad_data_naming_V(V, exc, match):
    with pytest.raises(exc, match=match):
        nmfaudio.factorize(V, 2)


@pytest.mark.parametrize("where", ["a file", "below a file"])
def test_saving_into_a_file_names_the_directory(where, tmp_path, write_audio, tones):
    from nmfaudio.blockwise import separate_file

    (tmp_path / "file.txt").write_text("x")
    target = tmp_path / "file.txt" if where == "a file" else tmp_path / "file.txt" / "sub"
    song = write_audio(tmp_path / "song.wav", tones())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nmfaudio.separate(song, n_components=2, n_fft=256, hop_length=64, max_iter=5)
        with pytest.raises(NotADirectoryError, match="^directory=.*give a folder"):
            result.save(target)
        with pytest.raises(NotADirectoryError, match="^directory=.*give a folder"):
            separate_file(song, target, n_components=2, n_fft=256, hop_length=64, max_iter=5)
    assert sorted(os.listdir(tmp_path)) == ["file.txt", "song.wav"]


def test_saving_into_a_folder_named_like_a_file_is_refused(tmp_path, tones):
    """``result.save("stems.wav")`` (one file expected) made a folder ``stems.wav`` holding a
    WAV per track, which ``nmfaudio drums -o stems.wav`` refuses since tour13 (tour16).  Both
    results say to give a folder; a folder of that name that exists, or a dotted name that
    is no file name (``stems.v2``), is used as before."""
    sr = 8000
    y = tones(sr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [nmfaudio.separate(y, sr, n_components=2, n_fft=256, hop_length=64, max_iter=5),
                   nmfaudio.separate_drums(y, sr, max_iter=2, random_state=0)]
    for result, first in zip(results, ("x_component_01.wav", "x_kick.wav")):
        for name, suffix, stem in (("stems.wav", ".wav", "stems"), ("hits.MID", ".mid", "hits"),
                                   ("out.flac", ".flac", "out")):
            with pytest.raises(ValueError, match=rf"^directory='.*/{name}' looks like a \{suffix} file name, but "
                                                 r"save\(\) writes one file per track into the folder it is given; "
                                                 rf"give a folder, e.g. '.*/{stem}' \(or create the folder"):
                result.save(tmp_path / name, name="x")
        assert not {"stems.wav", "hits.MID", "out.flac"} & set(os.listdir(tmp_path))  # nothing made
        assert result.save(tmp_path / "stems.v2", name="x")[0] == tmp_path / "stems.v2" / first
        (tmp_path / "made.wav").mkdir(exist_ok=True)
        assert result.save(tmp_path / "made.wav", name="x")[0] == tmp_path / "made.wav" / first
        for folder in ("stems.v2", "made.wav"):
            for file in (tmp_path / folder).iterdir():
                file.unlink()


def test_saving_through_a_folder_left_again_makes_no_folder(tmp_path, tones, write_audio, monkeypatch):
    """``result.save("a/sub/..")`` made ``a/sub`` on the way (as ``mkdir -p`` does) and left
    it there, empty, once the tracks were written in ``a`` (the command line's ``-o
    out/sub/..`` removes it since review58); the input guard did not see through it either:
    ``save("in/sub/..", overwrite=True)`` replaced the input ``in/x_kick.wav`` (mend60).
    Now ``a/sub/..`` is ``a`` while ``a/sub`` does not exist, for ``save()``,
    ``separate_file()`` and ``separate_many()``."""
    from nmfaudio.batch import separate_many
    from nmfaudio.blockwise import separate_file

    monkeypatch.chdir(tmp_path)
    sr = 8000
    y = tones(sr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nmfaudio.separate_drums(y, sr, max_iter=2, random_state=0)
        paths = result.save("a/sub/..", name="x")
        assert paths[0] == Path("a/x_kick.wav") and all(path.is_file() for path in paths)
        assert sorted(os.listdir("a")) == sorted(f"x_{source}.wav" for source in result.sources)
        song = write_audio(tmp_path / "song.wav", y, sr)
        separate_file(song, "b/sub/../c/d/../..", n_components=2, n_fft=256, hop_length=64, max_iter=5)
        assert sorted(os.listdir("b")) == ["song_component_01.wav", "song_component_02.wav"]
        separate_many([song], "m/sub/..", job="separate", options={"n_components": 2, "max_iter": 5}, jobs=1)
        assert "sub" not in os.listdir("m") and "song_component_01.wav" in os.listdir("m")
        os.mkdir("in")
        os.rename(song, "in/x_kick.wav")
        drums = nmfaudio.separate_drums("in/x_kick.wav", max_iter=2, random_state=0)
    before = Path("in/x_kick.wav").read_bytes()
    with pytest.raises(ValueError, match="is the input"):
        drums.save("in/sub/..", name="x", overwrite=True)
    assert Path("in/x_kick.wav").read_bytes() == before and os.listdir("in") == ["x_kick.wav"]


def test_a_failed_save_removes_the_folders_it_made(tmp_path, tones, write_audio, monkeypatch):
    """``result.save("out/new")`` (or ``separate_file``) that failed on a full disk removed its
    temporary files but left ``out/new`` and ``out`` behind, empty; the command line's output
    folders are removed in that case (mend60).  A folder that held something stays."""
    import errno

    from nmfaudio import audio
    from nmfaudio.blockwise import separate_file

    song = write_audio(tmp_path / "song.wav", tones())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nmfaudio.separate(song, n_components=2, n_fft=256, hop_length=64, max_iter=5)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(audio, "write_wav", full_disk)
    monkeypatch.setattr(audio, "WavWriters", full_disk)
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "notes.txt").write_text("mine")
    for target in (tmp_path / "out" / "new", tmp_path / "kept" / "new"):
        with pytest.raises(audio.NoSpaceError):
            result.save(target)
        with pytest.raises(audio.NoSpaceError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            separate_file(song, target, n_components=2, n_fft=256, hop_length=64, max_iter=5)
    assert sorted(os.listdir(tmp_path)) == ["kept", "song.wav"]
    assert os.listdir(tmp_path / "kept") == ["notes.txt"]


def test_separate_file_into_a_folder_named_like_a_file_is_refused_but_not_in_a_batch(tmp_path, write_audio, tones,
                                                                                      cli):
    """``separate_file(path, "out.wav")`` made a folder ``out.wav`` holding the components,
    as ``result.save("out.wav")`` did until tour16 (polish16): the same ValueError now,
    before any work; a folder of that name that exists is used.  A batch's sub-folders keep
    the names of the input's folders: ``in/take.wav/a.wav`` still writes into
    ``OUT/take.wav/``."""
    from nmfaudio.blockwise import separate_file

    song = write_audio(tmp_path / "song.wav", tones())
    fast = dict(n_components=2, n_fft=256, hop_length=64, max_iter=5, block_seconds=0.5)
    with pytest.raises(ValueError, match=r"^directory='.*/out.wav' looks like a \.wav file name, but "
                                         r"separate_file\(\) writes one file per component into the folder it is "
                                         r"given; give a folder, e.g. '.*/out' \(or create the folder"):
        separate_file(song, tmp_path / "out.wav", **fast)
    assert sorted(os.listdir(tmp_path)) == ["song.wav"]
    (tmp_path / "out.wav").mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = separate_file(song, tmp_path / "out.wav", **fast)
    assert result.paths[0] == tmp_path / "out.wav" / "song_component_01.wav" and result.paths[0].is_file()
    (tmp_path / "in" / "take.wav").mkdir(parents=True)
    write_audio(tmp_path / "in" / "take.wav" / "a.wav", tones())
    write_audio(tmp_path / "in" / "b.wav", tones())
    code, _, err = cli(["separate", tmp_path / "in", "-o", tmp_path / "batch", "-k", "2", "--n-fft", "256",
                        "--hop-length", "64", "--max-iter", "5", "--block-seconds", "0.5"])
    assert code == 0, err
    assert (tmp_path / "batch" / "take.wav" / "a_component_02.wav").is_file()


# --- keywords passed on: named with the method the user called (tour13) ---------------


def test_hits_misspelt_option_names_hits_and_the_close_match():
    """``result.hits(treshold_db=...)`` said ``detect_hits() got an unexpected keyword
    argument`` (a function the user never called) and suggested nothing; now the method's
    own name and the closest option, as one TypeError line.  The check comes before any
    hit is picked."""
    y = np.random.default_rng(0).uniform(-0.3, 0.3, SR).astype(np.float32)  # 1 s of noise
    result = nmfaudio.separate_drums(y, SR, random_state=0, max_iter=2)
    with pytest.raises(TypeError, match=r"^hits\(\) got an unexpected keyword argument 'treshold_db'; "
                                        r"did you mean 'threshold_db'\?$"):
        result.hits(treshold_db=-20)
    with pytest.raises(TypeError, match=r"^detect_hits_in\(\) got an unexpected keyword argument 'mixtur'; "
                                        r"did you mean 'mixture'\?$"):
        result.detect_hits_in(None, mixtur=None)
    with pytest.raises(TypeError, match=r"^hits\(\) sets 'sr' itself"):  # was "multiple values", naming detect_hits
        result.hits(sr=SR)
    with pytest.raises(TypeError, match=r"^hits\(\) .* 'qqqzzz'; it takes mixture, notes, "):
        result.hits(qqqzzz=1)
    assert len(result.hits(threshold_db=-20)) >= 0  # the right spelling still works


def test_quantize_asked_of_the_hits_or_their_files_points_to_quantize(tmp_path):
    """The CLI's ``--quantize 16`` asked of ``result.hits(quantize=16)`` or
    ``result.write_midi(path, quantize=16)`` was answered ``hits() got an unexpected
    keyword argument 'quantize'; it takes mixture, notes, ...`` — 40 options, none of them
    a grid, and ``hits()`` named when ``write_midi()`` was called (tour14).  Now the method
    called and the function that quantizes; the MIDI file's own ``bpm`` and ``ppq`` are
    taken by ``result.write_midi`` as by ``DrumHits.write_midi`` (they were refused the
    same way).  Nothing is written by a refused call."""
    import mido

    y = np.random.default_rng(0).uniform(-0.3, 0.3, SR).astype(np.float32)  # 1 s of noise
    result = nmfaudio.separate_drums(y, SR, random_state=0, max_iter=2)
    pointer = (r"; the hits are snapped to a grid by nmfaudio\.drums\.hits\.quantize\(result\.hits\(\), y, sr, grid=16, "
               r"hop_length=result\.hop_length\)")
    for call, method, key in ((lambda: result.hits(quantize=16), "hits", "quantize"),
                              (lambda: result.write_midi(tmp_path / "a.mid", quantize=16), "write_midi", "quantize"),
                              (lambda: result.write_onsets(tmp_path / "a.csv", grid=16), "write_onsets", "grid")):
        with pytest.raises(TypeError, match=rf"^{method}\(\) got an unexpected keyword argument '{key}'{pointer}"):
            call()
    with pytest.raises(TypeError, match=r"^write_midi\(\) got an unexpected keyword argument 'treshold_db'; did you"):
        result.write_midi(tmp_path / "a.mid", treshold_db=-20)
    assert sorted(os.listdir(tmp_path)) == []
    midi = mido.MidiFile(result.write_midi(tmp_path / "b.mid", bpm=100, ppq=480))
    assert midi.ticks_per_beat == 480
    assert [m.tempo for m in midi.tracks[0] if m.type == "set_tempo"] == [mido.bpm2tempo(100)]
    assert mido.MidiFile(result.write_midi(tmp_path / "c.mid")).ticks_per_beat == 960  # the default kept


# --- a file name where the file's contents go (tour14) -----------------------------------


def test_a_path_given_for_pixels_or_spikes_names_the_reader(tmp_path):
    """``compress("photo.png", 20)`` — the command line takes a path — said ``got str``,
    and ``compress(Path("photo.png"), 20)`` ``image has dtype object; pass uint8 (0..255)
    ... image.astype(np.float32) / 255``, a fix that cannot work; the spike clusterer the
    same, and ``cluster(load_waveforms(path), 5)`` (the pair passed whole) numpy's
    ``inhomogeneous shape``.  Now each names the reader to call.  Two spikes of (n_channels,
    n_samples) given as a tuple are still two spikes."""
    from pathlib import Path

    from nmfaudio.adapters.image import compress, factorize_images
    from nmfaudio.adapters.spikes import cluster

    for path in ("photo.png", Path("photo.png")):
        with pytest.raises(TypeError, match=r"^image must be an array of pixels .*, got the path 'photo\.png'; read "
                                            r"the file first: nmfaudio\.adapters\.files\.read_picture\('photo\.png'\)$"):
            compress(path, 2)
    with pytest.raises(TypeError, match=r"got the path 'punks\.npz'; .*read_image_stack\('punks\.npz'\)$"):
        factorize_images(Path("punks.npz"), 2)
    with pytest.raises(TypeError, match=r"got the path 's\.npz'; read the file first: waveforms, labels = "
                                        r"nmfaudio\.adapters\.files\.load_waveforms\('s\.npz'\)$"):
        cluster(Path("s.npz"), 2)
    spikes = np.random.default_rng(0).normal(size=(6, 2, 16))
    with pytest.raises(TypeError, match=r"^waveforms is a tuple \(waveforms, labels, \.\.\.\), as load_waveforms "
                                        r"returns; unpack it first"):
        cluster((spikes, np.arange(6)), 2)
    assert len(cluster((spikes[0], spikes[1]), 2, random_state=0).labels) == 2
    with pytest.raises(TypeError, match=r"^V must be a 2-D array of non-negative numbers, got PosixPath$"):
        nmfaudio.factorize(Path("v.npy"), 2)  # no reader to name: the type, not "dtype object"


# --- a callable engine's result -------------------------------------------------------------


def test_a_callable_engine_returning_no_factors_is_named():
    # engine= a callable that returns None, a (W, H) tuple or transposed factors: separate
    # and separate_drums stopped deep inside on "'NoneType' object has no attribute 'W'",
    # "'tuple' object has no attribute 'W'" or an IndexError (main before 2026-12-06, tour15).
    # Each names the engine, what it returned and the shapes it must return, for every fit
    # path (Frobenius; Itakura-Saito's warm start and floor; the drums' free components).
    from types import SimpleNamespace

    y = (np.random.default_rng(0).standard_normal(4000) * 0.1).astype(np.float32)

    def returns_none(V, k, **options):
        return None

    def returns_tuple(V, k, **options):
        result = nmfaudio.factorize(V, k, **options)
        return result.W, result.H

    def returns_transposed(V, k, **options):
        result = nmfaudio.factorize(V, k, **options)
        return SimpleNamespace(W=result.W.T, H=result.H.T, loss=result.loss, n_iter=1, converged=True)

    for engine, said in ((returns_none, r"returned NoneType"), (returns_tuple, r"returned tuple"),
                         (returns_transposed, r"returned W \(2, 129\) and H \(\d+, 2\)")):
        for beta in ("frobenius", "itakura-saito"):
            with pytest.raises(ValueError, match=rf"engine {engine.__name__} {said}; a callable engine must return "
                                                 r"an object with \.W \(129, 2\) and \.H \(2, \d+\)"):
                nmfaudio.separate(y, SR, n_components=2, n_fft=256, hop_length=64, beta=beta, engine=engine,
                                  max_iter=5)
    with pytest.raises(ValueError, match=r"engine returns_none returned NoneType; a callable engine must return"):
        nmfaudio.separate_drums(y, SR, engine=returns_none, max_iter=3)


def test_the_pair_load_returns_given_for_the_samples_says_to_unpack_it(tmp_path):
    # nmfaudio.separate_drums(nmfaudio.load(path)) -- the (samples, sr) pair where the
    # samples go, as librosa.load's users write by habit -- and the same pair given to
    # separate, save, stft, quantize, DrumTemplates.from_one_shots or metrics.sdr: numpy's
    # "setting an array element with a sequence ... inhomogeneous shape", naming nothing
    # (main before 2026-12-06, tour15).  Each says what it is and how to unpack it.
    from nmfaudio.drums.hit_results import ClassHits, DrumHits
    from nmfaudio.drums.tempo_grid import quantize
    from nmfaudio.metrics import sdr

    y = (0.1 * np.sin(np.arange(4000) * 0.3)).astype(np.float32)
    path = nmfaudio.save(tmp_path / "x.wav", y, SR)
    pair = nmfaudio.load(path)
    hits = DrumHits({"kick": ClassHits("kick", 36, np.array([0.1, 0.3]), np.ones(2), np.full(2, 100))})
    unpack = r"is a \(samples, sr\) pair, as nmfaudio\.load \(and librosa\.load\) return; unpack it first: " \
             r"y, sr = nmfaudio\.load\(path\), then pass y and sr"
    for call, name in ((lambda: nmfaudio.separate_drums(pair), "y"),
                       (lambda: nmfaudio.separate(pair, n_components=2), "y"),
                       (lambda: nmfaudio.separate(pair, SR, n_components=2), "y"),
                       (lambda: nmfaudio.save(tmp_path / "y.wav", pair, SR), "y"),
                       (lambda: nmfaudio.stft(pair), "y"),
                       (lambda: quantize(hits, pair, SR), "y"),
                       (lambda: nmfaudio.DrumTemplates.from_one_shots({"kick": [pair]}, SR), r"one_shots\['kick'\]\[0\]"),
                       (lambda: sdr(pair, y), "reference")):
        with pytest.raises(TypeError, match=rf"^{name} {unpack}$"):
            call()
    assert not (tmp_path / "y.wav").exists()
    # two channels given as a tuple of arrays are still audio
    assert nmfaudio.stft((y, y)).shape[0] == 2


def test_from_one_shots_given_one_recording_instead_of_a_list_says_so():
    # DrumTemplates.from_one_shots({"kick": y}) -- one array where the list of recordings
    # goes -- iterated over its samples: "one_shots['kick'][0] has shape (); audio must be
    # (n_samples,) ..."; a path, over its letters: "one_shots['kick'][0] must be an array of
    # samples, got str" (main before 2026-12-06, tour15).
    y = (np.random.default_rng(0).standard_normal(4000) * np.exp(-np.arange(4000) / 500)).astype(np.float32)
    with pytest.raises(TypeError, match=r"^one_shots\['kick'\] is one array; give a list of recordings \(arrays\), "
                                        r"even for one: \{'kick': \[y\]\}$"):
        nmfaudio.DrumTemplates.from_one_shots({"kick": y}, 22050)
    with pytest.raises(TypeError, match=r"^one_shots\['kick'\] is the path 'kick\.wav'; .* "
                                        r"DrumTemplates\.from_folder\(kit\)$"):
        nmfaudio.DrumTemplates.from_one_shots({"kick": "kick.wav"}, 22050)
    assert nmfaudio.DrumTemplates.from_one_shots({"kick": [y]}, 22050).classes == ("kick",)



def test_from_one_shots_reads_a_2d_array_as_one_shot_a_row():
    # {"kick": shots} with shots an (n_shots, n_samples) array of equal-length one-shots was
    # read row by row (numpy's iteration) before tour15, which refused every array as "one
    # array; give a list of recordings (arrays), even for one" -- a working call, and not one
    # recording (review10).  The same templates as the list of its rows.
    rng = np.random.default_rng(10)
    shots = (rng.standard_normal((3, 4000)) * np.exp(-np.arange(4000) / 500)).astype(np.float32) * 0.3
    stacked = nmfaudio.DrumTemplates.from_one_shots({"kick": shots}, 22050)
    listed = nmfaudio.DrumTemplates.from_one_shots({"kick": list(shots)}, 22050)
    assert stacked.n_shots == listed.n_shots == (3,)
    np.testing.assert_array_equal(stacked.P, listed.P)


@pytest.mark.parametrize("value", [-1, -0.5, 0])
def test_separate_drums_block_seconds_below_zero_says_what_separate_says(value):
    """block_seconds=-1 said "must be >= 0" while 0 is refused too (review63b); every value
    up to 0 now gets separate()'s words, checked before any work."""
    y = np.zeros(SR, np.float32)
    with pytest.raises(ValueError, match=r"block_seconds=.* must be a number of seconds > 0 \(e\.g\. 30\)"):
        nmfaudio.separate_drums(y, SR, block_seconds=value)
    with pytest.raises(ValueError, match=r"block_seconds=.* must be a number of seconds > 0 \(e\.g\. 30\)"):
        nmfaudio.separate(y, SR, n_components=2, block_seconds=value)
