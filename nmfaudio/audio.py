"""Read and write audio files.

:func:`load` reads whatever libsndfile reads (WAV 8/16/24/32-bit PCM and float, FLAC,
OGG/Vorbis, MP3 where the bundled libsndfile supports it, AIFF, ...) and optionally
resamples with librosa's soxr backend.  :func:`save` writes atomically: the data go to a
temporary file in the destination folder, which is then renamed over the destination, so
a reader never sees a half-written file and a failed write leaves nothing behind.

Arrays follow librosa's convention: ``(n_samples,)`` for mono and
``(n_channels, n_samples)`` for multichannel audio (soundfile itself uses the transpose).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shlex
import shutil
import stat
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from nmfaudio._validation import MAX_CHANNELS, check_number, check_switch, is_real, refuse_load_pair

__all__ = ["load", "save", "save_tracks", "write_wav", "open_wav_writer", "atomic_outputs", "check_new_outputs", "check_audio",
           "check_float_samples", "check_sr", "check_stored_sr", "check_path", "reading", "audio_info", "make_folder", "made_folder", "without_detours", "OutputFormat",
           "output_format",
           "check_writable", "check_headroom", "audio_extensions", "check_input_file", "not_found", "is_broken_link", "check_not_folders", "check_not_inputs", "check_free_space",
           "ReadOnlyFolderError",
           "source_path", "NoSpaceError", "MAX_CHANNELS", "check_array_file", "ArrayReader",
           "FileReader", "WavWriters", "create_temporary", "decoded_copy", "remove_stale_temporaries",
           "sweep_stale_temporaries",
           "on_stale_removed", "stale_note", "pid_alive"]


#: Resampler used by ``load(..., sr=...)`` (librosa's soxr binding, "high quality").
RES_TYPE = "soxr_hq"


def check_sr(sr, name: str = "sr") -> int:
    """Return ``sr`` as an int >= 1 (a sampling rate in Hz)."""
    if not is_real(sr) or not np.isfinite(sr) or sr < 1 or int(sr) != sr:
        raise ValueError(f"{name}={sr!r} must be a whole number of samples per second >= 1 (e.g. 22050)")
    return int(sr)


#: The highest rate libsndfile stores: a C int (soundfile raised OverflowError above it).
MOST_SR = 2**31 - 1
#: Formats that store less (libsndfile 1.2): FLAC refuses more than 655350 Hz; OGG Vorbis
#: (libvorbis's encoder modes end at 200 kHz) crashed the interpreter above 200000 Hz.
MOST_SR_BY_FORMAT = {"FLAC": 655350, "OGG": 200000}


def sf_name(path):
    """``path`` as soundfile (libsndfile) is given it: the str, or the name's bytes when the
    str holds bytes the file system's encoding cannot write back (a name that is not UTF-8,
    ``caf\xe9.wav`` from an old archive or a Latin-1 disk: Python reads it with its bytes
    escaped as surrogates, and soundfile's strict encoding failed on them, "'utf-8' codec
    can't encode character '\udce9' ...: surrogates not allowed", naming nothing; review56).
    Other names stay str (libsndfile takes a str as UTF-16 on Windows, bytes in the ANSI
    code page)."""
    name = os.fspath(path)
    if isinstance(name, bytes):
        return name
    try:
        name.encode(sys.getfilesystemencoding())
    except UnicodeEncodeError:
        return os.fsencode(name)
    return name


def check_stored_sr(sr: int, fmt: str) -> None:
    """Refuse a rate (a checked int, :func:`check_sr`) that format ``fmt`` (libsndfile's
    name, e.g. ``"WAV"``) cannot store, with a ValueError naming the range: soundfile
    raised a raw OverflowError above :data:`MOST_SR`, a LibsndfileError naming a
    temporary file for FLAC, and OGG crashed (:data:`MOST_SR_BY_FORMAT`)."""
    most = MOST_SR_BY_FORMAT.get(fmt, MOST_SR)
    if sr > most:
        kind, fix = ((f"{fmt} files store", "save to a .wav path, or resample first") if fmt in MOST_SR_BY_FORMAT
                     else ("libsndfile stores", "pass the rate in Hz (e.g. 44100)"))
        raise ValueError(f"sr={sr} is above {most}, the highest rate {kind} (1 to {most} Hz); {fix}")


def input_signal(y, sr=None, *, sr_needed_because: str | None = None):
    """The samples, rate and name of what a user passed as the input: a file or an array.

    Parameters
    ----------
    y : str, os.PathLike or ndarray, shape (n_samples,) or (n_channels, n_samples)
        An audio file (read with :func:`load`, resampled to ``sr`` if given) or samples.
    sr : int, optional
        The array's sampling rate, or the rate to resample a file to.
    sr_needed_because : str, optional
        When given, an array without ``sr`` is a ValueError that says why sr is needed.

    Returns
    -------
    (ndarray, int or None, str)
        Samples, sampling rate and a name for output files (the file's stem, or
        ``"mixture"`` for an array).
    """
    if isinstance(y, (str, os.PathLike)):
        samples, rate = load(y, sr=sr)
        return samples, rate, Path(y).stem or "mixture"
    samples = check_audio(check_float_samples(y))
    if sr is None:
        if sr_needed_because is not None:
            raise ValueError(f"sr is required when y is an array (e.g. sr=22050): {sr_needed_because}")
        return samples, None, "mixture"
    return samples, check_sr(sr), "mixture"


def source_path(y) -> Path | None:
    """The file a user passed as the input (``y`` a path), or None for an array: what a
    result's ``save()`` must never write over (:func:`check_not_inputs`)."""
    return Path(y) if isinstance(y, (str, os.PathLike)) else None


#: How integer PCM samples come to float samples with full scale [-1, 1], per numpy dtype
#: (soundfile's scale for each width; 8-bit WAV is unsigned, centred on 128).
PCM_TO_FLOAT = {"int8": "{0} / 128", "uint8": "({0} - 128) / 128", "int16": "{0} / 32768",
                "int32": "{0} / 2**31"}


def check_float_samples(y, name: str = "y"):
    """Return ``y`` unchanged, or raise TypeError when its samples are integers or booleans.

    Where the samples' level is kept -- a separation's tracks, a written file -- integer
    PCM taken as floats (``scipy.io.wavfile.read`` returns int16) is up to 32768 times
    full scale: stems and files 90 dB too loud.  librosa refuses integer audio too.

    Parameters
    ----------
    y : array_like, shape (n_samples,) or (n_channels, n_samples)
    name : str, default "y"
        The argument's name, for the message.
    """
    dtype = getattr(y, "dtype", None)
    if dtype is None or dtype.kind not in "biu":  # lists, floats, the rest: check_audio's business
        return y
    if dtype.kind == "b":
        raise TypeError(f"{name} has dtype bool; audio must be float samples in [-1, 1]")
    fix = PCM_TO_FLOAT.get(dtype.name, PCM_TO_FLOAT["int16"] + " for 16-bit PCM").format(name)
    raise TypeError(f"{name} has dtype {dtype.name}: integer samples (as scipy.io.wavfile.read returns), which "
                    f"nmfaudio, like librosa, does not rescale; pass float samples in [-1, 1]: {fix}")


def check_audio(y, name: str = "y", *, allow_empty: bool = False, finite: bool = True) -> np.ndarray:
    """Return ``y`` as a finite real float array of shape (n_samples,) or (n_channels, n_samples).

    float32 and float64 are kept; integers and other floats become float32 (integer PCM
    is not rescaled: pass floats in [-1, 1] for the usual full scale; where the level is
    kept, :func:`check_float_samples` refuses integers first).  ``finite=False``
    leaves out the NaN/inf test (a whole pass over the samples) for a caller that makes
    it otherwise (the hit detection's energy pass, :mod:`nmfaudio.drums.hits`).

    Raises
    ------
    TypeError
        If ``y`` is not a real numeric array.
    ValueError
        If ``y`` has the wrong number of dimensions, no samples, or NaN/inf samples, or
        is 2-D with more rows than columns and more than :data:`MAX_CHANNELS` rows: that
        is soundfile's (n_samples, n_channels) layout; pass ``y.T``.
    """
    if isinstance(y, (str, bytes, os.PathLike)) or y is None:
        raise TypeError(f"{name} must be an array of samples, got {type(y).__name__}")
    refuse_load_pair(y, name)
    array = np.asarray(y)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} has dtype {array.dtype}; audio must be real numbers (float in [-1, 1])")
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float32)
    if array.ndim not in (1, 2):
        raise ValueError(
            f"{name} has shape {array.shape}; audio must be (n_samples,) or (n_channels, n_samples)"
        )
    if array.ndim == 2 and array.shape[0] == 0:
        raise ValueError(f"{name} has shape {array.shape}: no channels")
    if array.ndim == 2 and array.shape[0] > MAX_CHANNELS and array.shape[0] > array.shape[1]:
        raise ValueError(
            f"{name} has shape {array.shape}, which looks like (n_samples, n_channels) (soundfile's layout); "
            f"nmfaudio wants (n_channels, n_samples) like librosa: pass {name}.T"
        )
    if not allow_empty and array.shape[-1] == 0:
        raise ValueError(f"{name} has shape {array.shape}: no samples (the audio is empty)")
    if finite and not np.all(np.isfinite(array)):
        n_bad = int(np.count_nonzero(~np.isfinite(array)))
        raise ValueError(f"{name} holds {n_bad} NaN or infinite samples; repair or re-export the audio first")
    return array


def load(path, *, sr=None, mono: bool = False, offset: float = 0.0, duration: float | None = None,
         dtype=np.float32):
    """Read an audio file, or a stretch of it.

    Parameters
    ----------
    path : str or os.PathLike
        Any file libsndfile reads (WAV, FLAC, OGG, MP3, AIFF, ...).
    sr : int, optional
        Resample to this rate (librosa's soxr "high quality" resampler).  Default: keep
        the file's rate.
    mono : bool, default False
        Average the channels into one.
    offset : float, default 0.0
        Start reading this many seconds into the file (as librosa.load's ``offset``),
        rounded to the nearest sample of the file's rate.
    duration : float, optional
        Read at most this many seconds (default: to the end).
    dtype : numpy float dtype, default float32

    Returns
    -------
    y : ndarray, shape (n_samples,) for mono files (or ``mono=True``), else (n_channels, n_samples)
        Samples in [-1, 1] for PCM files.
    sr : int
        The sampling rate of ``y``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IsADirectoryError
        If ``path`` is a folder.
    ValueError
        If the file is not audio libsndfile can read, is a truncated WAV, holds no
        samples, or holds NaN/inf; ``offset`` is at or past the file's end; ``sr`` is
        above 2**31 - 1 (:data:`MOST_SR`, more than any file stores); or ``mono`` is not
        True / False ("on" / "off").
    MemoryError
        If the audio resampled to ``sr`` does not fit in memory (the message names the size).
    """
    import soundfile as sf

    path = check_path(path)
    mono = check_switch(mono, "mono", meaning="True averages the channels into one")  # "no" read as True
    if sr is not None:
        sr = check_sr(sr)
        check_stored_sr(sr, "WAV")  # a rate nothing can save (soxr failed with a bare std::bad_alloc)
    offset = check_number(offset, "offset", minimum=0)
    if duration is not None:
        duration = check_number(duration, "duration", minimum=0, strict=True)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype={dtype} must be float32 or float64")
    info = audio_info(path)  # missing, folder, not audio, truncated, empty: one clear error each
    start, stop = _stretch(info, path, offset, duration)
    with reading(path):
        if info.format in SEQUENTIAL_FORMATS and (start, stop) != (0, None):
            # Ogg and MP3 seek only approximately: decode from the start, then cut
            data, file_sr = sf.read(sf_name(path), dtype=dtype.name, always_2d=True)
            data = data[start:stop]
        else:
            data, file_sr = sf.read(sf_name(path), start=start, stop=stop, dtype=dtype.name, always_2d=True)
    y = np.ascontiguousarray(data.T)  # (n_channels, n_samples)
    if y.shape[1] == 0:
        raise ValueError(f"{str(path)!r} holds no samples (the audio is empty)")
    check_finite_samples(y, path)
    if mono or y.shape[0] == 1:
        y = y.mean(axis=0, dtype=dtype) if y.shape[0] > 1 else y[0]
    if sr is not None and sr != file_sr:
        import librosa

        try:
            y = librosa.resample(y, orig_sr=file_sr, target_sr=sr, res_type=RES_TYPE).astype(dtype, copy=False)
        except MemoryError:  # soxr's is a bare "std::bad_alloc": say what the resampled audio needs
            need = y.size * sr / file_sr * dtype.itemsize / 2**30  # (budget.format_bytes sits a layer above)
            raise MemoryError(f"resampling {str(path)!r} from {file_sr} Hz to sr={sr} needs {need:.1f} GiB for the "
                              "samples alone, more than is free; choose a lower sr") from None
        file_sr = sr
    return y, int(file_sr)


def _stretch(info, path, offset: float, duration: float | None) -> tuple[int, int | None]:
    """The first sample and the end (None: the file's end) of :func:`load`'s stretch:
    ``offset`` and ``duration`` seconds at the file's rate, rounded to whole samples."""
    if offset == 0 and duration is None:
        return 0, None
    start = int(round(offset * info.samplerate))
    if start >= info.frames:
        raise ValueError(f"offset={offset:g} s is at or past the end of {str(path)!r} "
                         f"({info.frames / info.samplerate:.3f} s long); give a smaller offset")
    if duration is None:
        return start, None
    return start, min(info.frames, start + max(1, int(round(duration * info.samplerate))))


#: ``data : <declared> (should be <present>)``: libsndfile's log line for a WAV whose
#: header announces more audio than the file holds (it then reads what is there).
_WAV_DATA_SHORT = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
#: Placeholder data sizes written by streaming encoders that cannot seek back (e.g. a
#: WAV piped out of ffmpeg): not truncation; the audio runs to the end of the file.
_STREAMING_SIZES = (0xFFFFFFFF, 0x7FFFFFFF)


@contextmanager
def reading(path: Path):
    """Turn libsndfile's errors while opening or reading ``path`` into one ValueError."""
    import soundfile as sf

    try:
        yield
    except sf.LibsndfileError as exc:
        raise ValueError(
            f"cannot read {str(path)!r} as audio ({exc.error_string.strip()}); give a WAV, FLAC, OGG or MP3 file"
        ) from None
    except sf.SoundFileError as exc:
        raise ValueError(f"cannot read {str(path)!r} as audio ({exc}); give a WAV, FLAC, OGG or MP3 file") from None


def audio_info(path):
    """Check that ``path`` is a complete, non-empty audio file; return soundfile's info.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    soundfile._SoundFileInfo
        ``.samplerate``, ``.channels``, ``.frames``, ``.format``, ``.subtype``, ...

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        Missing file, or a folder.
    ValueError
        Not audio libsndfile reads; a WAV whose header announces more audio than the
        file holds (truncated: an interrupted copy or download); no samples.
    """
    import soundfile as sf

    path = check_input_file(path, what="an audio file")
    with reading(path):
        info = sf.info(sf_name(path))
    if info.format in ("WAV", "WAVEX", "RF64", "W64"):
        short = _WAV_DATA_SHORT.search(info.extra_info or "")
        if short:
            declared, present = int(short.group(1)), int(short.group(2))
            if declared not in _STREAMING_SIZES and present < declared:
                raise ValueError(
                    f"{str(path)!r} is truncated: its header announces {declared} bytes of audio but only "
                    f"{present} are there; copy or export the file again"
                )
    if info.frames == 0:
        unfinished = _unfinished_wav_bytes(path, info)
        if unfinished:
            raise ValueError(
                f"{str(path)!r} declares no audio (its header's data size is 0) but holds {unfinished} bytes after "
                "it: a recording still in progress, or one whose recorder stopped before finishing the header; wait "
                "for it to finish, or rewrite it reading to the end (e.g. sox --ignore-length "
                f"{shlex.quote(str(path))} fixed.wav)")
        raise ValueError(f"{str(path)!r} holds no samples (the audio is empty)")
    _check_declared_length(path, info)
    return info


#: libsndfile's log of a WAV whose data chunk declares 0 bytes, and where its parser
#: stopped (the first byte after the data chunk's header, which it took for a chunk).
_WAV_DATA_ZERO = re.compile(r"^data\s*:\s*0\s*$", re.MULTILINE)
_WAV_STOPPED_AT = re.compile(r"chunk marker \(\w+\) at position (\d+)")


def _unfinished_wav_bytes(path: Path, info) -> int:
    """Bytes after the data chunk's header of a WAV that declares 0 bytes of audio (a
    recorder writes the size when it stops: a file copied while recording, or left by a
    crashed recorder), or 0 when there are none or the log does not say where they start.
    libsndfile reads such a file as empty: it was said to hold no samples."""
    if info.format not in ("WAV", "WAVEX") or not _WAV_DATA_ZERO.search(info.extra_info or ""):
        return 0
    stopped = _WAV_STOPPED_AT.search(info.extra_info or "")
    if stopped is None:
        return 0
    return max(0, os.path.getsize(path) - int(stopped.group(1)))


#: Decoded float32 bytes per byte of file above which a compressed file's declared
#: length is verified (lossless and lossy codecs stay far below this, except on long
#: digital silence, which passes the check).
_SUSPICIOUS_RATIO = 64


def _check_declared_length(path: Path, info) -> None:
    """Refuse a compressed file whose header declares far more audio than it holds.

    A FLAC/OGG/MP3 header states the number of samples; a damaged or hostile one can
    claim hours in a few bytes, and reading would allocate for all of them.  When the
    claim is out of proportion to the file's size, seek to the last declared sample:
    only a file that really holds it passes.
    """
    if info.format in ("WAV", "WAVEX", "RF64", "W64"):
        return  # the data size is checked against the file size above
    declared = info.frames * info.channels * 4
    size = path.stat().st_size
    if declared <= max(_SUSPICIOUS_RATIO * size, 16 << 20):
        return
    if not last_sample_reads(path, info):
        hours = info.frames / info.samplerate / 3600
        raise ValueError(
            f"{str(path)!r} has a damaged header: it declares {info.frames} samples ({hours:.3g} hours at "
            f"{info.samplerate} Hz) but the file ({size} bytes) holds far fewer; export or convert the file again"
        )


def last_sample_reads(path, info) -> bool:
    """Whether the last sample ``info`` (:func:`audio_info`'s) declares can be read from
    ``path``: a FLAC, Ogg or MP3 file cut short after a whole header declares all its
    samples and fails here (a seek, not a read of the file)."""
    import soundfile as sf

    try:
        with sf.SoundFile(sf_name(Path(path))) as handle:
            handle.seek(info.frames - 1)
            return handle.read(1).shape[0] == 1
    except (sf.SoundFileError, RuntimeError, ValueError):
        return False


def is_broken_link(path) -> bool:
    """Whether ``path`` is a symbolic link leading nowhere (a missing target or a loop of
    links): an input to name with :func:`not_found`, not to pass over."""
    path = Path(path)
    return path.is_symlink() and not path.exists()


def not_found(path) -> FileNotFoundError:
    """The error for an input ``path`` that does not exist: the one wording of it, for a
    file read (:func:`check_input_file`) and for a batch's inputs
    (:func:`nmfaudio.batch.find_inputs`).  A symbolic link whose target is gone is named
    with that target: ``'x.wav' is a link to 'moved/x.wav', which does not exist``; a target
    that is itself a link leading nowhere (a chain of links, a loop) is said to be one."""
    path = Path(path)
    if path.is_symlink():
        target = os.readlink(path)
        if os.path.lexists(path.parent / target):  # a link too: it, or one after it, is broken or loops
            return FileNotFoundError(f"{str(path)!r} is a link to {target!r}, a link that leads to no file (a "
                                     "missing target or a loop of links); check the links")
        return FileNotFoundError(f"{str(path)!r} is a link to {target!r}, which does not exist; "
                                 "check the link or its target")
    return FileNotFoundError(f"{str(path)!r} does not exist; check the path")


def check_input_file(path, *, what: str = "a file") -> Path:
    """Return ``path`` as a Path if it is a regular file (or a link to one) that can be read.

    Pipes (FIFOs, ``/dev/stdin`` fed by ``|``), sockets and devices are refused: nmfaudio
    reads its inputs more than once (header, then data), which a stream cannot give,
    and reading a FIFO nobody writes to would never return.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist (or is a broken link).
    IsADirectoryError
        ``path`` is a folder.
    ValueError
        ``path`` is a pipe, socket or device, or an empty file (0 bytes).
    """
    path = check_path(path)
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise not_found(path) from None
    except NotADirectoryError:
        raise FileNotFoundError(f"{str(path)!r} does not exist (a part of the path is a file); check the path") from None
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise not_found(path) from None  # a loop of links: named as such, not "Too many levels ..."
    mode = status.st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{str(path)!r} is a folder; give {what}")
    if stat.S_ISREG(mode) and status.st_size == 0:
        # each reader said "not audio" / "not a picture" / "not an .npz", not that it holds nothing
        raise ValueError(f"{str(path)!r} is an empty file (0 bytes; an interrupted copy, download or export?); "
                         "copy or export it again")
    if not stat.S_ISREG(mode):
        kind = ("a pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise ValueError(
            f"{str(path)!r} is {kind}, not a file; pipes and streams are not supported (the input is read "
            "more than once): save it to a file first (e.g. '... > input.wav') and give that file"
        )
    return path


def check_not_inputs(outputs, inputs, *, force: str = "--force") -> None:
    """Refuse any output that is one of the inputs — the same file, however it is named.

    Links are followed and files compared by device and inode (``os.path.samefile``),
    so a symbolic or hard link to an input is caught whatever its name.  Applies with
    or without overwriting: an input is never replaced.  ``force`` names the overwrite
    switch in the message (the CLI's ``--force``, the API's ``overwrite=True``).

    Raises
    ------
    ValueError
        Naming the output and the input it would replace.
    """
    inputs = [Path(p) for p in inputs if p is not None]
    for output in outputs:
        output = Path(output)
        for source in inputs:
            try:
                same = os.path.samefile(output, source)
            except OSError:  # either does not exist (yet): not the same file
                continue
            if same:
                how = "" if output.absolute() == source.absolute() else " (through a link)"
                raise ValueError(
                    f"the output {str(output)!r} is the input {str(source)!r}{how}; nmfaudio never overwrites "
                    f"an input, even with {force}: choose another output path"
                )


def check_array_file(path, *, max_bytes: int | None = None, what: str = "array file") -> Path:
    """Check an ``.npy`` or ``.npz`` file's declared sizes before anything is loaded.

    Every array's header states its shape and dtype; a damaged or hostile header can
    declare terabytes in a few bytes, and an ``.npz`` (a zip) can inflate a small file a
    thousandfold.  Refuses an array that declares more bytes than the file (or the zip
    member) holds, and — when ``max_bytes`` is given — files whose arrays add up to more.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError, IsADirectoryError
    ValueError
        Naming the array, its declared shape and size, and what the file holds.
    """
    import zipfile

    path = check_input_file(path, what=f"{'an' if what[:1] in 'aeiou' else 'a'} {what}")  # not "an drum-..."
    total = 0
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                for member in archive.infolist():
                    total += member.file_size
                    if member.filename.endswith(".npy"):
                        with archive.open(member) as handle:
                            _check_npy_header(handle, member.file_size, f"{str(path)!r} ({member.filename})")
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ValueError(f"{str(path)!r} is a damaged .npz archive ({exc}); write it again") from None
    else:
        total = path.stat().st_size
        with open(path, "rb") as handle:
            if handle.read(6) == b"\x93NUMPY":
                handle.seek(0)
                _check_npy_header(handle, total, repr(str(path)))
    if max_bytes is not None and total > max_bytes:
        raise ValueError(f"{str(path)!r} ({path.stat().st_size} bytes) would inflate to {_megabytes(total)}, far "
                         f"more than a {what} holds (at most {_megabytes(max_bytes)}): a damaged or hostile file")
    return path


def _check_npy_header(handle, size: int, name: str) -> None:
    """Refuse an .npy stream whose header declares more data than its ``size`` bytes hold."""
    from numpy.lib import format as npy

    try:
        version = npy.read_magic(handle)
        shape, _, dtype = (npy.read_array_header_1_0(handle) if version == (1, 0)
                           else npy.read_array_header_2_0(handle))
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{name} has a damaged array header ({' '.join(str(exc).split())}); write it again") from None
    if dtype.hasobject:  # np.load(allow_pickle=False) would refuse it, in Python terms
        raise ValueError(f"{name} holds pickled Python objects, which are never loaded (unsafe); "
                         "save plain numeric arrays")
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if declared > size:
        raise ValueError(f"{name} has a damaged header: it declares an array of shape {tuple(shape)} ({dtype}, "
                         f"{_megabytes(declared)}) but holds {size} bytes; write the file again")


class NoSpaceError(OSError):
    """The device holding the outputs is full (``errno.ENOSPC``); the message names the
    folder and, where known, how much the outputs need."""

    def __init__(self, folder, need_bytes=None, free_bytes=None):
        where = f"No space left on device: the device holding {str(folder)!r}"
        if need_bytes and free_bytes is not None and free_bytes < need_bytes:
            what = f"has {_megabytes(free_bytes)} free and the outputs need about {_megabytes(need_bytes)}"
        elif need_bytes:
            what = f"filled up while writing (the outputs need about {_megabytes(need_bytes)})"
        else:
            what = "is full"
        message = f"{where} {what}; free some space or choose another folder"
        super().__init__(errno.ENOSPC, message)
        self.folder, self.need_bytes, self.free_bytes = Path(folder), need_bytes, free_bytes

    def __str__(self) -> str:
        return self.strerror


def _megabytes(n_bytes) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:.0f} KB"


def _free_bytes(folder: Path):
    """Free bytes on the device holding ``folder`` (or its nearest existing parent)."""
    try:
        usage = shutil.disk_usage(_existing(folder))
    except OSError:
        return None
    return usage.free if usage.total > 0 else None  # /proc and the like report no size at all


class ReadOnlyFolderError(OSError):
    """The output folder cannot be written in: on a read-only file system
    (``errno.EROFS``) or without write permission (``errno.EACCES``); the message names
    the folder."""

    def __init__(self, folder, read_only_device: bool, existing=None):
        where = "" if existing is None or Path(existing) == Path(folder).absolute() else f" in {str(existing)!r}"
        why = ("is on a read-only file system" if read_only_device
               else f"cannot be written in (no write permission{where})")
        message = f"the output folder {str(folder)!r} {why}; choose another folder"
        super().__init__(errno.EROFS if read_only_device else errno.EACCES, message)
        self.folder = Path(folder)

    def __str__(self) -> str:
        return self.strerror


def _existing(folder) -> Path:
    """``folder``, or its nearest existing parent (the one a missing folder is made in)."""
    folder = Path(folder).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _read_only(folder) -> bool | None:
    """None when ``folder`` (or its nearest existing parent) can be written in, else
    whether its device is read-only (True) or the permission is missing (False)."""
    folder = _existing(folder)
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except (OSError, AttributeError):  # no statvfs (Windows)
        pass
    return None if os.access(folder, os.W_OK) else False


def check_free_space(folder, need_bytes: int) -> None:
    """Raise :class:`NoSpaceError` if the device holding ``folder`` has fewer than
    ``need_bytes`` free (checked before the work, so a full disk fails in a second) —
    or :class:`ReadOnlyFolderError` when it cannot be written in anyway: a full read-only
    device was "No space left on device" (before 2026-12-07, mend62), and freeing space
    would not have helped."""
    free = _free_bytes(folder)
    if free is not None and free < need_bytes:
        read_only = _read_only(folder)
        if read_only is not None:
            raise ReadOnlyFolderError(folder, read_only, _existing(folder))
        raise NoSpaceError(folder, need_bytes, free)


#: Bytes per sample of the output subtypes (:data:`SUBTYPES`).
SAMPLE_BYTES = {"FLOAT": 4, "PCM_24": 3, "PCM_16": 2}


def audio_bytes(n_samples: int, n_channels: int = 1, n_files: int = 1, subtype: str = "FLOAT") -> int:
    """Bytes that ``n_files`` audio files of ``n_samples`` x ``n_channels`` samples of
    ``subtype`` take, about (header included).

    The size of uncompressed PCM (WAV) in the subtype's bytes per sample, which is also
    about the most FLAC of that subtype takes: FLAC compresses, and stores a block it
    cannot compress (noise) as it is, with about 20 bytes of framing per 4096 samples.
    An unknown subtype counts 4 bytes a sample (32-bit float, the largest written).

    Parameters
    ----------
    n_samples, n_channels, n_files : int
    subtype : str, default "FLOAT"
        libsndfile subtype of the outputs (``"FLOAT"``, ``"PCM_24"``, ``"PCM_16"``).

    Returns
    -------
    int
    """
    samples = int(n_samples) * int(n_channels)
    data = SAMPLE_BYTES.get(str(subtype).upper(), 4) * samples
    return int(n_files) * (data + 4096)


#: Free bytes below which a failed write is taken for a full device (libsndfile reports
#: ENOSPC only as "System error.").
_FULL_BELOW = 1 << 20


def _disk_full(exc: BaseException, folder: Path) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(exc, (OSError, RuntimeError)):  # soundfile.LibsndfileError is a RuntimeError
        free = _free_bytes(folder)
        return free is not None and free < _FULL_BELOW
    return False


def check_finite_samples(y: np.ndarray, path) -> None:
    """Raise ValueError if ``y`` (read from ``path``) holds NaN or infinite samples."""
    if not np.all(np.isfinite(y)):
        raise non_finite_error(path, int(np.count_nonzero(~np.isfinite(y))))


#: The largest sample magnitude the drum separation takes (+240 dBFS; full scale is 1): its
#: float32 spectrogram sums and the hits' float32 mean squares overflow from about 1e17, where
#: a float file's snare hits were lost and, from about 1e35, the fit stopped on "V holds NaN"
#: (lead, 2026-12-07).  No recording is near it: a float file that is (a gain applied twice, an
#: export that wrote integer-scaled floats and then scaled them again) is told the fix.
DRUM_PEAK_LIMIT = 1e12


def check_peak(y: np.ndarray, path, limit: float = DRUM_PEAK_LIMIT) -> None:
    """Raise ValueError if a sample of ``y`` (from ``path``) exceeds ``limit`` in magnitude."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > limit:
        raise too_loud_error(path, peak, limit)


def too_loud_error(path, peak: float, limit: float = DRUM_PEAK_LIMIT) -> ValueError:
    """The error for ``path`` peaking at ``peak`` (above ``limit``; found by a caller that
    reads it a stretch at a time too)."""
    return ValueError(f"{str(path)!r} peaks at {peak:.3g} ({20 * np.log10(peak):+.0f} dBFS; full scale is 1), beyond "
                      f"the {limit:.0e} the drum separation takes; divide the samples by their peak first")


def non_finite_error(path, n_bad: int) -> ValueError:
    """The error for a file at ``path`` holding ``n_bad`` NaN or infinite samples (counted
    over the whole file by a caller reading it a stretch at a time)."""
    return ValueError(f"{str(path)!r} holds {n_bad} NaN or infinite samples; repair or re-export it first")


def _format_for(path: Path, subtype: str | None = None) -> tuple[str, str]:
    """(libsndfile format, subtype) for a destination.

    The default subtype is FLOAT, else PCM_24, else the format's default."""
    import soundfile as sf

    extension = path.suffix.lower().lstrip(".")
    formats = {name.lower(): name for name in sf.available_formats()}
    aliases = {"aif": "AIFF", "aiff": "AIFF", "oga": "OGG", "opus": "OGG"}
    fmt = aliases.get(extension) or formats.get(extension)
    if fmt is None:
        raise ValueError(f"path={str(path)!r} has no known audio extension; use .wav (or .flac, .ogg, .aiff)")
    given = subtype
    if isinstance(subtype, str) and subtype.lower() in SUBTYPES:
        # the CLI's and output_format's names (--subtype pcm16) as libsndfile's: 'pcm16' was
        # refused with a list of libsndfile's names that did not say which one it is (tour16)
        subtype = SUBTYPES[subtype.lower()]
    if subtype is None:
        preferred = [name for name in ("FLOAT", "PCM_24") if sf.check_format(fmt, name)]
        subtype = preferred[0] if preferred else sf.default_subtype(fmt)
    elif not sf.check_format(fmt, subtype):
        known = ", ".join(sorted(sf.available_subtypes(fmt)))
        raise ValueError(f"subtype={given!r} is not valid for {fmt} files; use one of {known}")
    return fmt, subtype


#: Output containers the command line offers: name -> (libsndfile format, file extension).
FORMATS = {"wav": ("WAV", "wav"), "flac": ("FLAC", "flac")}
#: Output sample formats: name -> libsndfile subtype.
SUBTYPES = {"float": "FLOAT", "pcm16": "PCM_16", "pcm24": "PCM_24"}
#: The subtype used when none is given: samples unchanged (WAV), else the finest PCM.
DEFAULT_SUBTYPES = {"wav": "float", "flac": "pcm24"}


class OutputFormat(tuple):
    """``(format, subtype, extension)`` for written audio, e.g. ``("WAV", "FLOAT", "wav")``.

    Build it with :func:`output_format`; a plain tuple, so it pickles to worker processes.
    """

    __slots__ = ()

    def __new__(cls, format: str, subtype: str, extension: str):
        return super().__new__(cls, (format, subtype, extension))

    def __getnewargs__(self):
        return tuple(self)

    format = property(lambda self: self[0])
    subtype = property(lambda self: self[1])
    extension = property(lambda self: self[2])


def output_format(format: str = "wav", subtype: str | None = None) -> OutputFormat:
    """Check an output container and sample format; return an :class:`OutputFormat`.

    Parameters
    ----------
    format : {"wav", "flac"}, default "wav"
    subtype : {"float", "pcm16", "pcm24"}, optional
        Default: ``"float"`` for WAV (32-bit float: samples stored unchanged, tracks still
        add up to the mixture), ``"pcm24"`` for FLAC (which stores no floats).

    Raises
    ------
    ValueError
        An unknown name, or ``float`` with FLAC.
    """
    name = str(format).lower()
    if name not in FORMATS:
        raise ValueError(f"format={format!r} is not an output format; use one of {', '.join(FORMATS)}")
    sub = DEFAULT_SUBTYPES[name] if subtype is None else str(subtype).lower()
    if sub not in SUBTYPES:
        raise ValueError(f"subtype={subtype!r} is not an output subtype; use one of {', '.join(SUBTYPES)}")
    sf_format, extension = FORMATS[name]
    if name == "flac" and sub == "float":
        raise ValueError("subtype='float' cannot be stored in FLAC; use format='wav' or subtype='pcm24' "
                         "(CLI: --format wav, or --subtype pcm24)")
    return OutputFormat(sf_format, SUBTYPES[sub], extension)


def check_writable(file_format, sr: int, channels: int) -> None:
    """Raise ValueError, before any work, when ``file_format`` cannot hold ``channels``
    channels at ``sr`` Hz (FLAC: at most 8 channels and 655,350 Hz).

    libsndfile itself is asked (a header written to memory), so its limits are the ones
    checked; otherwise they surfaced after the separation, naming a temporary file.

    Parameters
    ----------
    file_format : OutputFormat
        From :func:`output_format`.
    sr, channels : int
        Of the tracks to write (those of the input).
    """
    import io

    import soundfile as sf

    fmt, subtype = file_format[0], file_format[1]
    try:
        sf.SoundFile(io.BytesIO(), "w", int(sr), int(channels), subtype, format=fmt).close()
    except (sf.LibsndfileError, RuntimeError, ValueError):
        limits = " (at most 8 channels and 655350 Hz)" if fmt == "FLAC" else ""
        raise ValueError(f"{channels}-channel audio at {sr} Hz cannot be stored as {fmt}{limits}; "
                         "use format='wav'") from None


def check_headroom(tracks, subtype: str, format: str = "WAV", *, fix: str | None = None) -> None:
    """Raise ValueError if a track would clip when stored as the integer ``subtype``.

    Integer PCM holds [-1, 1]; libsndfile would clip (or wrap) louder samples, so they are
    refused with the peak and the fix instead.  Float subtypes hold any level.

    Parameters
    ----------
    tracks : mapping of str to ndarray
        Name (for the message) -> samples, (n_samples,) or (n_channels, n_samples).
    subtype : str
        A libsndfile subtype, e.g. ``"PCM_16"`` or ``"FLOAT"``.
    format : str, default "WAV"
        The libsndfile container, e.g. ``"FLAC"``: it words the fix (FLAC stores no floats,
        so the fix there is WAV, not ``subtype float``).
    fix : str, optional
        The fix to name instead (default: :func:`output_format`'s arguments, ``use
        subtype='float'`` / ``use format='wav'``, which the command line's messages read
        as ``--subtype float`` / ``--format wav``).
    """
    if not subtype.upper().startswith("PCM"):
        return
    # Written as output_format's arguments (name='value'), which the command line's
    # messages turn into its options (--subtype float, --format wav: cli.option_names).
    if fix is None and str(format).upper() == "WAV":
        fix = "use subtype='float'"
    elif fix is None:  # FLAC cannot hold float samples: --subtype float alone would be refused
        fix = f"{str(format).upper()} stores no float samples: use format='wav' (32-bit float by default)"
    peaks = {name: float(np.max(np.abs(track))) if np.size(track) else 0.0 for name, track in tracks.items()}
    loud = [name for name, peak in peaks.items() if peak > 1.0]
    if loud:
        # the loudest named (review62b: the first one was, the kick at +2.53 dBFS, while the
        # snare peaked at +7.40: an input lowered by the level named was refused again)
        name = max(loud, key=peaks.get)
        peak = peaks[name]
        others = f" (the loudest of {len(loud)} tracks that would)" if len(loud) > 1 else ""
        raise ValueError(
            f"{name} peaks at {peak:.4g} ({20 * np.log10(peak):+.2f} dBFS) and would clip as {subtype}{others}; "
            f"{fix}, or lower the input level")


def audio_extensions() -> frozenset:
    """File extensions (lower case, no dot) of the formats libsndfile reads here."""
    import soundfile as sf

    names = {name.lower() for name in sf.available_formats()} - {"raw"}  # raw has no header to read
    names |= {"aif", "aifc", "oga", "opus"}
    return frozenset(names)


def save(path, y, sr, *, overwrite: bool = False, subtype: str | None = None) -> Path:
    """Write audio atomically (temporary file in the same folder, then rename).

    Parameters
    ----------
    path : str or os.PathLike
        Destination; the format follows the extension (``.wav`` usually).  The folder must exist.
    y : ndarray, shape (n_samples,) or (n_channels, n_samples)
        Finite samples; full scale is [-1, 1].
    sr : int
        Sampling rate in Hz.
    overwrite : bool, default False
        Replace an existing file.  Without it an existing ``path`` raises FileExistsError.
    subtype : str, optional
        libsndfile subtype (``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``, ...), or the command
        line's name for one (``"pcm16"``, ``"pcm24"``, ``"float"``).  Default:
        ``"FLOAT"`` (32-bit float) where the format allows it, so samples are stored
        unchanged, without clipping or quantization, and separated tracks still add up to
        the mixture; otherwise PCM_24 where allowed (FLAC), else the format's default.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    TypeError
        If ``y`` holds integer samples (:func:`check_float_samples`: pass floats in [-1, 1]).
    ValueError
        If ``y`` or ``sr`` is invalid (``sr`` above what the format stores, too:
        :func:`check_stored_sr`), the extension/subtype is unknown, or the subtype is
        integer PCM (PCM_16, PCM_24: the FLAC default) and ``y`` peaks above 1, which it
        would clip (:func:`check_headroom`).
    """
    path = check_path(path)
    y = check_audio(check_float_samples(y))
    sr = check_sr(sr)
    fmt, subtype = _format_for(path, subtype)
    check_stored_sr(sr, fmt)
    # libsndfile would clip louder samples to integer PCM without a word (the CLI refuses them too)
    fix = "use subtype='FLOAT'" if fmt == "WAV" else f"{fmt} stores no float samples: save to a .wav path"
    check_headroom({path.name: y}, subtype, fmt, fix=fix)
    # a full disk said with what the file needs, as the command line says it (mend60); only
    # for the formats whose size audio_bytes bounds (compressed OGG / MP3 take far less)
    need = _track_bytes([y], subtype) if fmt in ("WAV", "FLAC", "AIFF") else None
    with atomic_outputs([path], overwrite=overwrite, need_bytes=need) as (temporary,):
        write_wav(temporary, y, sr, format=fmt, subtype=subtype)
    return path


def write_wav(destination, y, sr, *, format: str = "WAV", subtype: str = "FLOAT") -> None:
    """Write ``y`` (n_samples,) or (n_channels, n_samples) to ``destination`` directly
    (no checks, not atomic: meant for the temporary paths of :func:`atomic_outputs`).

    The same samples always give the same bytes: libsndfile's PEAK chunk, which it adds
    to float files and which holds the time of writing, is switched off.
    """
    y = np.asarray(y)
    channels = 1 if y.ndim == 1 else y.shape[0]
    with open_wav_writer(destination, sr, channels, format=format, subtype=subtype) as handle:
        # a block at a time: soundfile copies what it writes to (n_samples, n_channels) order
        for start in range(0, max(y.shape[-1], 1), _WRITE_BLOCK):
            block = y[..., start:start + _WRITE_BLOCK]
            handle.write(block if y.ndim == 1 else block.T)


#: Samples per channel that :func:`write_wav` hands to libsndfile at a time.
_WRITE_BLOCK = 2**18


def open_wav_writer(destination, sr, channels, *, format: str = "WAV", subtype: str = "FLOAT"):
    """Open ``destination`` for writing blocks of samples (no checks, not atomic: meant for
    the temporary paths of :func:`atomic_outputs`).

    Returns a ``soundfile.SoundFile``: call ``.write(block)`` with blocks of shape
    (n, channels) (or (n,) for one channel), then ``.close()``.  No PEAK chunk is
    written, so the same samples give the same bytes however they were blocked.
    """
    import soundfile as sf

    handle = sf.SoundFile(sf_name(destination), "w", int(sr), int(channels), subtype, format=format)
    _no_peak_chunk(handle)
    return handle


#: libsndfile's SFC_SET_ADD_PEAK_CHUNK command (sndfile.h); soundfile does not name it.
_SFC_SET_ADD_PEAK_CHUNK = 0x1050


def _no_peak_chunk(handle) -> None:
    """Ask libsndfile not to write a PEAK chunk (it holds a timestamp, so identical audio
    written a second apart would differ).  Must run before the first sample is written.
    Uses soundfile's cffi handle; tests/test_audio.py checks that no PEAK chunk is written."""
    import soundfile as sf

    try:
        sf._snd.sf_command(handle._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
    except AttributeError:  # pragma: no cover - a future soundfile without these internals
        pass


def file_in_the_way(folder) -> Path | None:
    """The file standing where ``folder`` or one of its parents should be, or None.

    An output's folder that "does not exist" cannot be created when a file has its name (or
    a parent's): the message must name that file, not ask for a ``mkdir`` that fails."""
    for place in (Path(folder), *Path(folder).parents):
        if place.exists():
            return None if place.is_dir() else place
    return None


#: Suffixes of the files nmfaudio reads or writes: a missing output *folder* named so
#: (``-o out.wav``, ``result.save("stems.wav")``) is a file name given where a folder goes.
AUDIO_SUFFIXES = frozenset({".wav", ".wave", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".aif", ".aiff", ".m4a"})
FILE_SUFFIXES = AUDIO_SUFFIXES | {".mid", ".midi", ".csv", ".png", ".jpg", ".jpeg", ".npz", ".npy", ".json"}


def file_named_folder(folder) -> str | None:
    """The suffix (``".wav"``) when ``folder``, an output folder that does not exist yet, is
    named like a file (:data:`FILE_SUFFIXES`), else None.  A folder that exists is the
    user's, whatever its name; other dotted names (``stems.v2``) are folders."""
    folder = Path(folder)
    suffix = folder.suffix.lower()
    return suffix if suffix in FILE_SUFFIXES and folder.stem and not folder.exists() else None


def check_folder_name(directory, writes: str) -> None:
    """Refuse an output folder ``directory=`` that does not exist and is named like a file
    (:func:`file_named_folder`); ``writes`` says what the function puts in it ("save()
    writes one file per track").

    Raises
    ------
    ValueError
    """
    directory = Path(directory)
    suffix = file_named_folder(directory)
    if suffix:
        raise ValueError(f"directory={str(directory)!r} looks like a {suffix} file name, but {writes} into the "
                         f"folder it is given; give a folder, e.g. {str(directory.with_suffix(''))!r} (or create "
                         f"the folder {str(directory)!r} first to use that name)")


def without_detours(directory) -> Path:
    """``directory`` without its detours through folders that do not exist yet: ``a/sub/..``
    is ``a`` while ``a/sub`` does not exist (``x/new/../../y`` is ``y``).

    Made as spelled, as ``mkdir -p`` makes it, such a folder ``a/sub`` was created only to
    be left again, and stayed behind, empty, once the files were written in ``a``; the
    checks before the writes were blind too (``a/sub/../x.wav`` does not exist while
    ``a/sub`` does not, so an existing ``a/x.wav``, even the input, was not seen).  A
    folder that exists (or a link) keeps its ``..``: it is the file system's to resolve.
    The command line's ``-o out/sub/..`` removes the folder made on the way at the end
    instead (``nmfaudio.cli.output_folder``).
    """
    directory = Path(directory)
    kept: list[str] = []
    for part in directory.parts:
        if part == ".." and kept and kept[-1] not in ("..", directory.anchor) and not os.path.lexists(Path(*kept)):
            kept.pop()  # 'sub' of 'sub/..' will not exist but for this path: no need to make it
        else:
            kept.append(part)
    return Path(*kept) if kept else Path(".")


def make_folder(directory, name: str = "directory") -> Path:
    """Create ``directory`` (and missing parents) if needed; return it as a Path.

    Raises NotADirectoryError naming ``name`` when it, or a parent, is a file."""
    directory = check_path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(f"{name}={str(directory)!r} is (or is inside) a file; give a folder") from None
    return directory


@contextmanager
def made_folder(directory, name: str = "directory"):
    """:func:`make_folder` for the block's writes: if the block raises (a full disk, a
    failed write, Ctrl-C), the folders made here are removed again — only when empty,
    so never with anyone's files in them — as the command line's output folders are
    (``nmfaudio.cli.output_folder``).  ``result.save("out/new")`` that failed left
    ``out/new`` (and ``out``) behind, empty (mend60).

    Yields
    ------
    pathlib.Path
        ``directory``.
    """
    directory = check_path(directory)
    missing = [path for path in (directory, *directory.parents) if not os.path.lexists(path)]  # deepest first
    make_folder(directory, name)
    try:
        yield directory
    except BaseException:
        for path in missing:
            try:
                path.rmdir()
            except OSError:
                pass
        raise


def save_tracks(directory, file_names, tracks, sr, *, overwrite: bool = False, inputs=()) -> list[Path]:
    """Write several tracks as WAVs in ``directory``, all or nothing.

    Parameters
    ----------
    directory : str or os.PathLike
        Created if missing (and removed again, when empty, if the writes fail).  A folder
        that does not exist and is left again through ``..`` (``a/sub/..``) is not made:
        the files go in ``a`` (:func:`without_detours`).
    file_names : sequence of str
    tracks : iterable of ndarray, each (n_samples,) or (n_channels, n_samples)
    sr : int
    overwrite : bool, default False
        Without it, any existing output raises FileExistsError before anything is written.
    inputs : sequence of path or None, optional
        Files the tracks came from: an output that is one of them raises ValueError
        before anything is written, even with ``overwrite`` (:func:`check_not_inputs`).

    Returns
    -------
    list of pathlib.Path, in the order of ``file_names`` (in ``a``, for ``a/sub/..``)
    """
    check_stored_sr(check_sr(sr), "WAV")
    # 'a/sub/..' is 'a' while a/sub does not exist: a/sub is not made, nor left behind (mend60)
    directory = without_detours(check_path(directory))
    # result.save("stems.wav") made a folder stems.wav holding a WAV per track (tour16)
    check_folder_name(directory, "save() writes one file per track")
    paths = [directory / file_name for file_name in file_names]
    check_not_inputs(paths, inputs, force="overwrite=True")
    check_not_folders(paths)
    if not overwrite:
        check_new_outputs(paths)
    tracks = list(tracks)
    # a full disk said with what the tracks need ("the outputs need about 1.2 MB"), as the
    # command line says it; it was "the device holding 'out' is full" alone (mend60)
    with made_folder(directory), atomic_outputs(paths, overwrite=overwrite,
                                                need_bytes=_track_bytes(tracks)) as temporaries:
        _write_wavs(temporaries, tracks, sr)
    return paths


def _track_bytes(tracks, subtype: str = "FLOAT") -> int:
    """:func:`audio_bytes` of ``tracks``, each (n_samples,) or (n_channels, n_samples)."""
    return sum(audio_bytes(np.shape(track)[-1], 1 if np.ndim(track) == 1 else np.shape(track)[0], subtype=subtype)
               for track in tracks)


def _write_wavs(paths, tracks, sr) -> None:
    """:func:`write_wav` each track to its path, several at a time on threads (libsndfile
    and the sample copies release the GIL: the six stems of a 3-minute stereo song took
    0.4 s of one core).  The first error (in the order of ``paths``) is raised once every
    write has ended.

    Interrupted (Ctrl-C in the main thread, even while a thread is being started), no
    write starts any more and the running ones end before the exception goes on to
    :func:`atomic_outputs`, which removes the temporary files: a write still running then
    would recreate its file after the removal.  Hence each writer takes its next track
    and registers it under one lock with the stop flag, rather than a pool whose
    ``submit`` and ``shutdown`` lose track of a thread interrupted while starting.
    """
    workers = min(len(paths), os.cpu_count() or 1)
    if workers <= 1:
        for path, track in zip(paths, tracks):
            write_wav(path, track, sr)
        return
    jobs = list(zip(paths, tracks))
    errors = [None] * len(jobs)
    lock = threading.Lock()
    state = {"next": 0, "stop": False}
    running = []  # one event per write taken, set when it has ended

    def writer():
        while True:
            with lock:
                i = state["next"]
                if state["stop"] or i >= len(jobs):
                    return
                state["next"] = i + 1
                done = threading.Event()
                running.append(done)
            try:
                write_wav(jobs[i][0], jobs[i][1], sr)
            except BaseException as exc:  # raised in the caller's thread below
                errors[i] = exc
            finally:
                done.set()

    threads = [threading.Thread(target=writer, daemon=True) for _ in range(workers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        with lock:
            state["stop"] = True
            taken = list(running)
        for done in taken:
            done.wait()
    for error in errors:
        if error is not None:
            raise error


def check_not_folders(paths) -> None:
    """Raise IsADirectoryError naming the first of ``paths`` that is a folder: an output file
    cannot go there, with ``overwrite`` or not (the rename onto it failed with "[Errno 21] Is
    a directory: '.x.1a2b3c4d.part' -> 'x'", naming a temporary file, and without
    ``overwrite`` the message said to pass it)."""
    folders = [Path(p) for p in paths if Path(p).is_dir()]
    if folders:
        raise IsADirectoryError(f"{str(folders[0])!r} is a folder where an output file must go; give a file name "
                                "(a folder is never replaced, even with overwrite=True)")


def check_new_outputs(paths) -> None:
    """Raise FileExistsError naming the first of ``paths`` that exists (and how many do)."""
    existing = [Path(p) for p in paths if os.path.lexists(p)]
    if len(existing) == 1:
        raise FileExistsError(f"{str(existing[0])!r} already exists; pass overwrite=True to replace it")
    if existing:
        raise FileExistsError(f"{str(existing[0])!r} exists, as do {len(existing) - 1} more of the outputs; "
                              "pass overwrite=True to replace them")


#: Checks (callables, no arguments) :func:`atomic_outputs` runs once its files are written
#: and flushed, before the first is renamed into place: one that raises makes every output
#: go (all or nothing).  The command line adds the check for a signal it deferred while the
#: work ran (:func:`commit_check`), so a run stopped after the fit's last iteration (hits,
#: figure, writes) publishes nothing rather than every output followed by "terminated".
_COMMIT_CHECKS: list = []


@contextmanager
def commit_check(check):
    """Run ``check()`` before every :func:`atomic_outputs` commit inside the block."""
    _COMMIT_CHECKS.append(check)
    try:
        yield
    finally:
        _COMMIT_CHECKS.remove(check)


@contextmanager
def atomic_outputs(paths, *, overwrite: bool = False, need_bytes: int | None = None, scratch=()):
    """Write several files all-or-nothing.

    Yields one temporary path per destination (a hidden ``.part`` file in the same
    folder); write each, and on leaving the block they are flushed to disk (fsync) and
    renamed onto the destinations.  If the block raises, or an existing destination is found without
    ``overwrite``, every temporary file (and any destination already created by this
    call) is removed, so a failed run leaves no partial files.  What only ``kill -9`` (or an
    out-of-memory kill) leaves, a dead run's temporary files of the same destinations, is
    removed before the new ones are made (:func:`sweep_stale_temporaries`).

    Parameters
    ----------
    paths : sequence of str or os.PathLike
    overwrite : bool, default False
    need_bytes : int, optional
        What the outputs will take; checked against the free space first.  Whether or not
        it is given, a write that fails because the device is full raises
        :class:`NoSpaceError` naming the folder (after removing the temporary files).
    scratch : iterable of (folder, name), optional
        Scratch files the block will make with :func:`create_temporary` (``sweep=False``):
        a dead run's are swept with the outputs', in the same note.

    Yields
    ------
    list of pathlib.Path, one temporary path per destination

    Examples
    --------
    >>> with atomic_outputs(["a.wav", "b.wav"]) as (tmp_a, tmp_b):  # doctest: +SKIP
    ...     write_wav(tmp_a, y_a, sr); write_wav(tmp_b, y_b, sr)
    """
    paths = [check_path(p) for p in paths]
    if len({p.resolve() for p in paths}) != len(paths):
        raise ValueError("the output paths are not all different; give each output its own name")
    check_name_lengths(paths)
    check_not_folders(paths)
    if not overwrite:
        check_new_outputs(paths)
    for folder in {p.parent for p in paths}:
        blocking = file_in_the_way(folder)  # "create it first" would fail: a file has the name
        if blocking is not None:
            raise NotADirectoryError(f"{str(blocking)!r} is a file, not a folder; give a path in a folder")
        if not folder.is_dir():
            raise FileNotFoundError(f"folder {str(folder)!r} does not exist; create it first")
    if need_bytes:
        check_free_space(paths[0].parent, need_bytes)
    temporaries: list[Path] = []
    created: list[Path] = []
    renaming = None
    try:
        # a killed run's temporary files of these outputs (and of the caller's scratch files)
        # go first, one note for them all
        sweep_stale_temporaries([*((path.parent, path.name) for path in paths), *scratch])
        for path in paths:
            create_temporary(path.parent, path.name, temporaries, sweep=False)
        yield list(temporaries)
        for temporary in temporaries:
            _fsync(temporary)  # the data are on disk before any name points at them
        for check in tuple(_COMMIT_CHECKS):  # e.g. a signal the command line deferred: nothing published
            check()
        for temporary, path in zip(temporaries, paths):
            renaming = (temporary, path)
            if overwrite:
                os.replace(temporary, path)
            else:
                _rename_no_clobber(str(temporary), path)
            created.append(path)
            renaming = None
    except BaseException as exc:
        if renaming is not None and _renamed(*renaming):
            created.append(renaming[1])  # a signal landed between a rename and its bookkeeping
        # All or nothing: what this call already renamed goes too (with overwrite, the
        # replaced files are gone either way; a mix of new and old outputs is worse).
        for leftover in (*temporaries, *created):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass
        folder = paths[0].parent
        if _disk_full(exc, folder):
            raise NoSpaceError(folder, need_bytes, _free_bytes(folder)) from None
        raise
    for folder in {p.parent for p in paths}:
        _fsync(folder)  # the renames themselves survive a crash


def _fsync(path, drop: bool = False) -> None:
    """Flush a file's (or a folder's) data to disk; ignored where unsupported.

    ``drop``: then let the kernel drop the file's pages from its page cache
    (``posix_fadvise(DONTNEED)``; nothing where unsupported).  Written once and not read
    again by the run, a stem's cached pages only raise the machine's memory in use while
    the run goes on (a 3-minute 44.1-kHz track's six stems: 190 MB), and on a virtual
    machine whose host takes back free memory, every page beyond what was freed moments
    earlier costs a host fault (docs/performance.md, the speed45 and speed46 rounds).
    Dropped, the next stem's writes reuse them.  The bytes on disk are the same."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
        if drop and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def check_path(path) -> Path:
    """Return ``path`` as a pathlib.Path; TypeError for anything but str and os.PathLike."""
    if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file name (str or pathlib.Path), got {type(path).__name__}")
    return Path(path)


#: Bytes a file name may have (Linux ext4/xfs/btrfs, macOS APFS, Windows NTFS in UTF-16
#: units): an output or temporary name longer than this cannot be created.
NAME_MAX = 255
#: What :func:`create_temporary` adds to a name: ``.`` before it, ``.<pid>-<host>-<8 hex>.part``
#: after (room for a 7-digit pid: Linux's largest ``pid_max`` is 4194304).
_TEMPORARY_EXTRA = len(".") + len(".4194304-0123-01234567.part")


def _name_max(folder) -> int:
    """The longest file name (bytes) ``folder``'s file system takes (``NAME_MAX`` when
    it cannot say: a folder not made yet)."""
    try:
        return min(NAME_MAX, int(os.pathconf(folder, "PC_NAME_MAX")))
    except (OSError, ValueError, AttributeError):
        return NAME_MAX


def check_name_lengths(paths) -> None:
    """Raise ValueError, before any work, for an output whose file name is longer than
    its file system allows (255 bytes of UTF-8): ``song_accompaniment.wav`` of a
    245-character input name.  Without it the run failed after the separation, naming
    a hidden temporary file (``File name too long: 'out/.<name>.1a2b3c4d.part'``).

    Parameters
    ----------
    paths : iterable of str or path-like
        The outputs; each folder's limit is asked of its file system (255 bytes when the
        folder does not exist yet).  The size is counted in UTF-8 bytes (``os.fsencode``),
        which is the limit on Linux and macOS; NTFS counts UTF-16 units, so on Windows a
        non-ASCII name may be refused that NTFS would take.
    """
    for path in (Path(p) for p in paths):
        size = len(os.fsencode(path.name))
        limit = _name_max(path.parent)
        if size > limit:
            raise ValueError(f"the output name {path.name!r} is {size} bytes long, more than the {limit} a file "
                             f"name can have; give the input a shorter name (its name is part of every output's)")


def _host_tag() -> str:
    """Four hex digits naming this machine (its host name hashed): a temporary file's pid
    means something only on the machine, and in the container, that wrote it."""
    import hashlib
    import socket

    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:4]


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` may still be running on this machine (True when unsure).

    ``os.kill(pid, 0)`` sends nothing: ProcessLookupError means no such process; a
    PermissionError means one exists (another user's).  A pid taken again by an unrelated
    process reads as alive: its files are kept, never another run's removed.  Off POSIX
    (Windows' ``os.kill`` ends the process) every pid reads as alive.
    """
    if pid <= 0 or pid == os.getpid() or os.name != "posix":
        return True  # 0 and negative pids name process groups: never signalled
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: someone else's live process; anything else: unsure
        return True
    return True


#: Per thread, the hooks :func:`sweep_stale_temporaries` calls with ``(folder, {pid:
#: [paths]})`` when it removed files a dead run left; the innermost (last) one only.  The
#: command line prints a note, a batch worker puts it in the input's record
#: (:func:`on_stale_removed`).  Per thread: two Dask tasks running on one worker's threads
#: each get their own removals.
_STALE_HOOKS = threading.local()


def _stale_hooks() -> list:
    if not hasattr(_STALE_HOOKS, "stack"):
        _STALE_HOOKS.stack = []
    return _STALE_HOOKS.stack


@contextmanager
def on_stale_removed(hook):
    """Call ``hook(folder, {pid: [paths]})`` for the stale temporary files removed inside
    the block, on this thread (:func:`sweep_stale_temporaries`); an enclosing hook is not
    called for them.

    Without any hook the removal is silent: the library's callers are told nothing, as
    for any other file it cleans up."""
    stack = _stale_hooks()
    stack.append(hook)
    try:
        yield
    finally:
        stack.remove(hook)


def stale_note(folder, removed: dict) -> str:
    """The note for :func:`on_stale_removed`'s ``(folder, removed)``: ``removed 6
    temporary files left by an interrupted run (pid 1234) in 'out'``."""
    n_files = sum(len(paths) for paths in removed.values())
    pids = ", ".join(str(pid) for pid in sorted(removed))
    files = "a temporary file" if n_files == 1 else f"{n_files} temporary files"
    runs = f"an interrupted run (pid {pids})" if len(removed) == 1 else f"interrupted runs (pids {pids})"
    return f"removed {files} left by {runs} in {str(folder)!r}"


def remove_stale_temporaries(folder: Path, name) -> dict:
    """Remove the temporary files of ``name`` in ``folder`` that a run no longer alive left
    (killed with ``kill -9``, or by the kernel when out of memory); return ``{pid: [paths]}``.

    Only names :func:`create_temporary` makes, ``.<name>.<pid>-<host>-<8 hex>.part``, with
    this machine's ``<host>`` tag and a ``<pid>`` that is not running (:func:`pid_alive`):
    never a live run's (two runs may share a folder; a worker of this very run), nor one
    written from another machine or container sharing the folder, whose pids mean nothing
    here.  Older names (``.<name>.<8 hex>.part``, before 2026-12-06) carry no pid and are
    left alone, as is every other file.  A file already gone (another run sweeping too)
    is no error.

    Parameters
    ----------
    folder : pathlib.Path
    name : str or iterable of str
        The destination's name as :func:`create_temporary` uses it (already shortened), or
        several: the folder is read once for them all (a batch's six stems into a folder
        of thousands of files).

    Returns
    -------
    dict {int: list of pathlib.Path}
    """
    names = [name] if isinstance(name, str) else list(name)
    removed: dict = {}
    if not names:
        return removed
    alternatives = "|".join(re.escape(f".{one}.") for one in names)
    pattern = re.compile(f"(?:{alternatives})" + r"([0-9]{1,9})-" + re.escape(_host_tag())
                         + r"-[0-9a-f]{8}\.part")
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or pid_alive(int(match.group(1))):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            os.unlink(entry.path)
        except FileNotFoundError:
            continue
        except OSError:  # not ours to remove after all (permissions): left, as before
            continue
        removed.setdefault(int(match.group(1)), []).append(Path(entry.path))
    return removed


def _temporary_stem(folder: Path, name: str) -> str:
    """``name`` as its temporary file's name holds it: cut to leave room for the dot and
    ``.<pid>-<host>-<hex>.part`` (a name of 229-255 bytes is a valid output whose temporary
    file was too long to create)."""
    room = _name_max(folder) - _TEMPORARY_EXTRA
    encoded = os.fsencode(name)
    if len(encoded) > room:
        name = encoded[:max(room, 1)].decode("utf-8", "ignore") or "nmfaudio"
    return name


def sweep_stale_temporaries(names) -> None:
    """:func:`remove_stale_temporaries` for each ``(folder, name)`` of ``names``, then one
    call of the innermost :func:`on_stale_removed` hook per folder that had some: one
    note for a killed run's six stems, not six."""
    wanted: dict = {}  # each folder read once, for all its names
    for folder, name in names:
        wanted.setdefault(Path(folder), []).append(_temporary_stem(Path(folder), name))
    by_folder = {folder: removed for folder, stems in wanted.items()
                 if (removed := remove_stale_temporaries(folder, stems))}
    hooks = _stale_hooks()
    for folder, removed in by_folder.items():
        if hooks:
            hooks[-1](folder, removed)


def create_temporary(folder: Path, name: str, temporaries: list, *, sweep: bool = True) -> None:
    """Create a new hidden, empty file next to the destination and append its path to
    ``temporaries``.

    The name, ``.<name>.<pid>-<host>-<8 hex>.part``, says which process on which machine
    writes it: the stale ones of the same ``name`` that a killed run left are removed first
    (:func:`remove_stale_temporaries`; before 2026-12-06 they stayed until deleted by hand),
    unless ``sweep`` is False (the caller swept them already, all its names at once).
    The path is appended *before* the file is created, so that a signal landing between
    the two still finds it in the list the caller cleans up (removing a path that was
    never created is a no-op there).  ``os.open(..., 0o666)`` honours the umask, so the
    final file gets the same permissions as any other new file (``tempfile.mkstemp``
    would make it private).
    """
    destination = folder / name
    name = _temporary_stem(folder, name)
    if sweep:
        sweep_stale_temporaries([(folder, name)])
    prefix = f".{name}.{os.getpid()}-{_host_tag()}-"
    for _ in range(100):
        candidate = folder / f"{prefix}{secrets.token_hex(4)}.part"
        temporaries.append(candidate)
        try:
            descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # another writer's file (a 1-in-4-billion name clash): not ours
            temporaries.pop()
            continue
        except OSError as exc:  # read-only, no permission: name the output asked for, not the
            temporaries.pop()   # hidden temporary nobody asked for (tour16)
            raise type(exc)(exc.errno, exc.strerror, str(destination)) from None
        os.close(descriptor)
        return
    raise FileExistsError(f"cannot create a temporary file in {str(folder)!r}")  # pragma: no cover


def _renamed(temporary: Path, destination: Path) -> bool:
    """Whether this call's rename of ``temporary`` onto ``destination`` took place: the
    temporary name (known to this call only) is gone, or is a second link to it."""
    try:
        return destination.exists() and (not temporary.exists() or os.path.samefile(temporary, destination))
    except OSError:
        return False


def _rename_no_clobber(source: str, destination: Path) -> None:
    """Rename ``source`` to ``destination`` atomically, failing if the destination exists
    (a hard link cannot replace a file; fall back to a checked rename where links are not
    supported)."""
    try:
        os.link(source, destination)
    except FileExistsError:
        raise FileExistsError(
            f"{str(destination)!r} already exists; pass overwrite=True to replace it"
        ) from None
    except OSError:
        if destination.exists():
            raise FileExistsError(
                f"{str(destination)!r} already exists; pass overwrite=True to replace it"
            ) from None
        os.replace(source, destination)
        return
    os.unlink(source)


# --- block by block: readers of samples and writers of several WAVs (block-wise modes) --


class ArrayReader:
    """Samples from an array (n_samples,) or (n_channels, n_samples)."""

    def __init__(self, y: np.ndarray):
        self.mono = y.ndim == 1
        self.y = y[None] if self.mono else y
        self.n_channels, self.n_samples = self.y.shape
        self.dtype = self.y.dtype

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples [start, stop), zero outside the signal: (n_channels, stop - start)."""
        out = np.zeros((self.n_channels, stop - start), dtype=self.dtype)
        lo, hi = max(start, 0), min(stop, self.n_samples)
        if hi > lo:
            out[:, lo - start:hi - start] = self.y[:, lo:hi]
        return out

    def close(self) -> None:
        pass


#: Formats whose seek libsndfile (1.2.2) gets wrong, read front to back instead
#: (measured on noise of RMS 0.3): Ogg Vorbis decodes the few hundred samples after a
#: seek without the previous block's overlap (errors up to 1.5) and lands 64 samples off
#: in the last page; MP3 read 1000 samples wrong (error 0.9) after a seek 3000 samples
#: back into the stretch just read.  Reading on from sample 0 gives the whole read's samples.
SEQUENTIAL_FORMATS = ("OGG", "MP3")
#: Samples decoded at a time when a sequential reader skips ahead.
_SKIP_SAMPLES = 1 << 16


class FileReader(ArrayReader):
    """Samples from an audio file, read on demand (float32, no resampling):
    ``read(start, stop)`` gives what :class:`ArrayReader`'s would on the whole file as
    :func:`load` reads it; ``sr``, ``path``; ``close()``.

    Most formats are read with seek.  Those in :data:`SEQUENTIAL_FORMATS` are decoded
    front to back: a read at or after the last one's start continues the decoding (the
    last stretch is kept for the overlap), one before it starts again at sample 0, so
    reads in increasing order (what the block-wise modes do) decode the file once."""

    def __init__(self, path: Path):
        import soundfile as sf

        info = audio_info(path)  # missing, folder, not audio, truncated, empty
        self.path = path
        self.sr = int(info.samplerate)
        self.mono = info.channels == 1
        self.n_channels, self.n_samples = int(info.channels), int(info.frames)
        self.dtype = np.dtype(np.float32)
        self.sequential = info.format in SEQUENTIAL_FORMATS
        self._position = 0  # the sample the handle decodes next (sequential formats)
        self._last, self._last_start = np.zeros((self.n_channels, 0), np.float32), 0  # the last stretch decoded
        with reading(path):
            self.handle = sf.SoundFile(sf_name(path))

    def read(self, start: int, stop: int) -> np.ndarray:
        out = np.zeros((self.n_channels, stop - start), dtype=self.dtype)
        lo, hi = max(start, 0), min(stop, self.n_samples)
        if hi > lo:
            data = self._decoded(lo, hi) if self.sequential else self._sought(lo, hi)
            out[:, lo - start:hi - start] = data
        return out

    def _decode(self, n: int) -> np.ndarray:
        """The next ``n`` samples of the handle, (n_channels, n); a short file is damaged."""
        with reading(self.path):
            data = self.handle.read(n, dtype="float32", always_2d=True).T
        if data.shape[1] != n:
            raise ValueError(f"{str(self.path)!r} ended after {self._position + data.shape[1]} of {self.n_samples} "
                             "samples; the file is damaged — copy or export it again")
        self._position += n
        return data

    def _sought(self, lo: int, hi: int) -> np.ndarray:
        with reading(self.path):
            self.handle.seek(lo)
        self._position = lo
        return self._decode(hi - lo)

    def _decoded(self, lo: int, hi: int) -> np.ndarray:
        """Samples [lo, hi) decoded front to back (see the class notes).  ``_last`` holds
        the samples [_last_start, _position) between calls."""
        if lo < self._last_start:  # before the kept stretch: decode again from the start
            with reading(self.path):
                self.handle.seek(0)
            self._position, self._last, self._last_start = 0, self._last[:, :0], 0
        if lo > self._position:
            while self._position < lo:  # skip ahead, a bounded piece at a time
                self._decode(min(_SKIP_SAMPLES, lo - self._position))
            self._last = self._last[:, :0]
        else:
            self._last = self._last[:, lo - self._last_start:]  # the overlap with the last read
        self._last_start = lo
        if hi > self._position:
            self._last = np.concatenate([self._last, self._decode(hi - self._position)], axis=1)
        return self._last[:, :hi - lo]

    def close(self) -> None:
        self.handle.close()


def decoded_copy(reader: FileReader, destination) -> None:
    """Write all of ``reader``'s samples to ``destination`` as 32-bit float RF64 (a WAV
    that may pass 4 GB), read front to back a stretch at a time (:data:`_WRITE_BLOCK`
    samples): one decode of a file that cannot seek exactly (:data:`SEQUENTIAL_FORMATS`),
    after which a :class:`FileReader` of the copy gives the same float32 samples with
    seek.  No checks, not atomic: meant for a scratch file."""
    with open_wav_writer(destination, reader.sr, reader.n_channels, format="RF64") as handle:
        for start in range(0, reader.n_samples, _WRITE_BLOCK):
            handle.write(reader.read(start, min(start + _WRITE_BLOCK, reader.n_samples)).T)


class WavWriters:
    """One open WAV writer per track (temporary paths of :func:`atomic_outputs`); each
    :meth:`write` appends a block of samples (n_tracks, n_channels, n) to all of them,
    in order, and adds each track's sum of squares (float64) to ``sum_squares``, each
    channel's sum to ``sums`` (n_tracks, n_channels; the DC offset's share of a residual)
    and, with ``peaks``, keeps each track's largest magnitude in ``peaks`` (a headroom check
    on outputs converted afterwards, without reading them back)."""

    def __init__(self, paths, sr: int, n_channels: int, *, peaks: bool = False):
        self.handles = []
        try:
            for path in paths:
                self.handles.append(open_wav_writer(path, sr, n_channels))
        except BaseException:
            self.close()
            raise
        self.position = 0
        self.sum_squares = np.zeros(len(self.handles))
        self.sums = np.zeros((len(self.handles), n_channels))
        self.peaks = np.zeros(len(self.handles)) if peaks else None

    def write(self, start: int, block) -> None:
        """Append ``block`` (one track per writer, each (n_channels, n) or (n,) for one
        channel: an array (n_tracks, ...) or a sequence), which starts at sample ``start``."""
        if start != self.position:  # pragma: no cover - blocks are written in order
            raise RuntimeError(f"block at sample {start} written out of order (expected {self.position})")
        from nmfaudio.nmf.kernels import dot64

        for index, (handle, track) in enumerate(zip(self.handles, block)):
            handle.write(np.ascontiguousarray(track.T))
            flat = track.reshape(-1, track.shape[-1])  # (n_channels, n): one channel as a row
            self.sum_squares[index] += dot64(flat, flat)  # float64 sums without a float64 copy
            self.sums[index] += flat.sum(axis=-1, dtype=np.float64)
            if self.peaks is not None and track.size:
                # as the float32 file holds it (rounding keeps the order: the peak rounded)
                top = max(float(track.max()), -float(track.min()))
                self.peaks[index] = max(self.peaks[index], float(np.float32(top)))
        self.position += block[0].shape[-1]

    def close(self) -> None:
        for handle in self.handles:
            handle.close()
