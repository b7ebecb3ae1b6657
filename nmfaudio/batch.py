"""Separate many audio files: in this process, on local worker processes, or on a
``dask.distributed`` cluster; with a manifest, resume and per-file failures.

The unit of work is one input file (a :class:`Task`): load, separate (drums or NMF
components), write every output atomically, return one record.  :func:`separate_many`
plans the tasks (finding audio files in folders, refusing output-name collisions before
any work), skips inputs whose outputs all exist, runs the rest, and keeps a manifest
(:data:`MANIFEST_NAME` in the output folder) up to date as files finish.

A record (one per input; the manifest's ``records`` and what :func:`separate_many`
returns) is a JSON-able dict::

    {"input": "songs/a.wav", "status": "done" | "skipped" | "failed" | "pending",
     "outputs": ["out/a_kick.wav", ...], "seconds": 3.2, "error": null, ...}

``done`` records also carry the job's summary (``sr``, ``channels``, ``n_iter``,
``final_loss``, and per output its ``rms`` ...; see :func:`run_task`).  A record whose run
removed temporary files a killed run had left (:func:`nmfaudio.audio.remove_stale_temporaries`)
says so in ``notes`` (one line each), which the command line prints as notes.

The same input and options give the same bytes however the file is run (alone, in a
batch, on workers or on Dask): BLAS runs single-threaded inside every task (its result
bits depend on its thread count; the compiled NMF kernels split work the same way for any
number of threads, so they keep using several).
"""

from __future__ import annotations

import _thread
import contextlib
import functools
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from nmfaudio import audio
from nmfaudio._validation import check_int, check_switch
from nmfaudio.budget import DEFAULT_MAX_MEMORY
from nmfaudio.file_state import file_state, unchanged_during
from nmfaudio.plot import save_figure

__all__ = ["Task", "separate_many", "plan", "find_inputs", "output_name", "run_task", "default_jobs", "MANIFEST_NAME",
           "JOBS"]

#: The separations a batch runs: ``drums`` (:func:`nmfaudio.separate_drums`) and
#: ``separate`` (:func:`nmfaudio.separate`, one track per NMF component).
JOBS = ("drums", "separate")
#: The manifest's file name, in the output folder.
MANIFEST_NAME = "nmfaudio-manifest.json"
MANIFEST_VERSION = 1

#: Options of each job and their defaults (the keyword arguments of ``separate_drums`` /
#: ``separate`` that a batch passes on, plus ``plot``).
DRUM_OPTIONS = {"templates": None, "classes": ("kick", "snare", "toms", "hihat", "cymbals"), "n_fft": None,
                "hop_length": None, "mask_power": 1.5, "max_iter": 50, "adapt": True, "n_free": 1, "random_state": 0,
                "plot": False, "midi": False, "onsets": False, "quantize": None, "block_seconds": None,
                "max_memory": DEFAULT_MAX_MEMORY, "accompaniment": "auto", "presence_test": True,
                "ride": "auto", "stems": "all", "drumless": None}
SEPARATE_OPTIONS = {"n_components": None, "beta": "frobenius", "n_fft": 2048, "hop_length": 512, "mask_power": 1.0,
                    "max_iter": 200, "random_state": 0, "block_seconds": None, "learn_frames": None,
                    "plot": False, "max_memory": DEFAULT_MAX_MEMORY}


@dataclass(frozen=True)
class Task:
    """One input file and everything needed to separate it anywhere (it pickles).

    Attributes
    ----------
    input : str
        The audio file.
    name : str
        Output file-name stem (the input's stem).
    folder : str
        Output folder for this input (the output folder, plus the input's sub-folder
        when it was found in a folder).
    job : {"drums", "separate"}
    options : dict
        Job options (see :data:`DRUM_OPTIONS`, :data:`SEPARATE_OPTIONS`).
    file_format : audio.OutputFormat
    tracks : tuple of (str, str)
        (source name, output path) per audio output, in order.
    plot : str or None
        The figure's path when ``options["plot"]``.
    force : bool
        Overwrite existing outputs.
    hit_files : tuple of (str, str)
        drums: ("midi" or "csv", path) per hit file asked for (``options["midi"]``,
        ``options["onsets"]``), written with the stems.
    """

    input: str
    name: str
    folder: str
    job: str
    options: dict
    file_format: tuple
    tracks: tuple
    plot: str | None = None
    force: bool = False
    hit_files: tuple = ()

    @property
    def outputs(self) -> list[str]:
        """Every output path (audio, then the figure, then the hit files)."""
        return ([path for _, path in self.tracks] + ([self.plot] if self.plot else [])
                + [path for _, path in self.hit_files])


def check_options(job: str, options: dict) -> dict:
    """Return ``options`` completed with the job's defaults; unknown names are a TypeError."""
    if job not in JOBS:
        raise ValueError(f"job={job!r} is not a batch job; use one of {', '.join(JOBS)}")
    defaults = DRUM_OPTIONS if job == "drums" else SEPARATE_OPTIONS
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise TypeError(f"unknown option(s) for job={job!r}: {', '.join(unknown)}; known: {', '.join(defaults)}")
    merged = {**defaults, **options}
    if job == "separate" and merged["n_components"] is None:
        raise TypeError("job='separate' needs n_components=K (CLI: -k K)")
    # the batch's own switches, which no separation checks: "no" was read as True (a figure
    # drawn), stems="two" as "all", classes="kick,snare" as the letters k, i, c, ... (review62b)
    for key, meaning in (("plot", "True also draws each input's figure"), ("midi", "True also writes "
                         "<name>_drums.mid"), ("onsets", "True also writes <name>_onsets.csv")):
        if key in merged:
            merged[key] = check_switch(merged[key], key, meaning=meaning)
    if "drumless" in merged:  # the check of hits(drumless=), and its message (None / "auto": the default)
        from nmfaudio.drums.drumless import drumless_mode

        merged["drumless"] = drumless_mode(merged["drumless"])
    if job == "drums":
        classes = merged["classes"]
        if isinstance(classes, str) and "," in classes:
            names = tuple(part.strip() for part in classes.split(",") if part.strip())
            raise ValueError(f"classes={classes!r} is one string; give the names apart: classes={names!r}")
        merged["classes"] = (classes,) if isinstance(classes, str) else tuple(classes)
        if merged["stems"] not in ("all", "drums"):
            raise ValueError(f"stems={merged['stems']!r} must be 'all' (one file per drum class and the residual) "
                             "or 'drums' (<name>_drums and <name>_accompaniment)")
        # before any work, as the command line's --quantize (mend62: a bad grid failed each file
        # on its own, and a grid without hit files was ignored without a word)
        grid = merged["quantize"]
        if grid is not None:
            from nmfaudio.drums.tempo_grid import GRIDS

            if grid not in GRIDS:
                raise ValueError(f"quantize={grid!r} must be 4, 8, 16 or 32 (or 12, 24 for triplets), or None for "
                                 "the hits as played")
            if not (merged["midi"] or merged["onsets"]):
                raise ValueError(f"quantize={grid!r} changes the hit files; add midi=True or onsets=True "
                                 "(or leave quantize out)")
    # max_iter=0 failed each file on its own (mend62); the other numbers are checked by the
    # separation before it reads anything
    merged["max_iter"] = check_int(merged["max_iter"], "max_iter", 1)
    return merged


def output_tracks(job: str, name: str, folder, options: dict, file_format) -> tuple[list, str | None]:
    """``([(source, path), ...], plot path or None)`` for one input.

    drums: ``<name>_<class>.<ext>`` for each class and ``residual`` (with ``stems="drums"``:
    ``<name>_drums.<ext>`` and ``<name>_accompaniment.<ext>``), figure ``<name>_drums.png``;
    separate: ``<name>_component_01.<ext>`` ..., figure ``<name>_separation.png``.
    """
    folder = Path(folder)
    extension = file_format[2]
    if job == "drums":
        # the residual always: even with n_free=0 it holds the percussion parts and the
        # modelled classes that were not asked for
        sources = [*options["classes"], "residual"]
        if options.get("stems") == "drums":  # the two-stem view: DrumSeparation.two_stems()
            sources = ["drums", "accompaniment"]
        tracks = [(source, str(folder / f"{name}_{source}.{extension}")) for source in sources]
        plot = folder / f"{name}_drums.png"
    else:
        from nmfaudio.fitting import component_file_names

        names = component_file_names(name, int(options["n_components"]))  # <name>_component_01.wav ...
        tracks = [(Path(file).stem[len(name) + 1:], str(folder / Path(file).with_suffix(f".{extension}")))
                  for file in names]
        plot = folder / f"{name}_separation.png"
    return tracks, (str(plot) if options.get("plot") else None)


def hit_files(job: str, name: str, folder, options: dict) -> tuple:
    """drums: ``(("midi", <name>_drums.mid), ("csv", <name>_onsets.csv))`` as asked for by
    ``options["midi"]`` / ``options["onsets"]``; ``()`` otherwise."""
    if job != "drums":
        return ()
    folder = Path(folder)
    files = [("midi", str(folder / f"{name}_drums.mid"))] if options.get("midi") else []
    if options.get("onsets"):
        files.append(("csv", str(folder / f"{name}_onsets.csv")))
    return tuple(files)


#: Extensions of audio formats libsndfile does not decode (phones' and stores' AAC, WMA,
#: video containers): a folder search passes them by, and says so (:func:`find_inputs`).
UNREAD_AUDIO = frozenset({"m4a", "m4b", "aac", "alac", "wma", "mp4", "m4v", "mov", "webm", "mka", "ape", "amr",
                          "3gp"})


def find_inputs(paths, *, exclude=None, skipped: list | None = None,
                unread: list | None = None, linked: list | None = None) -> list[tuple[Path, Path]]:
    """The audio files named by ``paths``: files as given, folders searched recursively.

    Parameters
    ----------
    paths : str, os.PathLike or a sequence of them
        Files (taken whatever their extension) and folders (every file inside, at any
        depth, whose extension is one libsndfile reads — :func:`audio.audio_extensions` —
        except hidden files and folders; a broken symbolic link is taken, so that the run
        reports it as a failed input instead of losing it without a word).
    exclude : str or os.PathLike, optional
        A folder whose contents are never taken (the output folder, so a rerun does not
        separate its own outputs).  Sub-folders holding a :data:`MANIFEST_NAME` (an
        earlier batch's output folder inside a folder searched) are not taken either;
        a folder given in ``paths`` is searched even when it holds one.
    skipped : list, optional
        Appended with ``(folder, n_files)`` for each such earlier output folder whose
        audio files were left out (the CLI names them in a note).
    unread : list, optional
        Appended with ``(folder, {extension: n_files})`` for each folder given whose
        search passed by audio files of formats libsndfile does not decode
        (:data:`UNREAD_AUDIO`: ``.m4a``, ``.aac``, ...; the CLI names them in a note).
    linked : list, optional
        Appended with ``(link, target)`` for each symbolic link of a folder searched that
        leads into ``exclude`` (a link to an earlier output): left out as the files there
        are, but it sits outside it, so the CLI names it in a note (it was left out without
        a word; review56).

    Returns
    -------
    list of (file, relative folder)
        In the order given, folders sorted; the relative folder is ``.`` for a file given
        directly, else the file's sub-folder under the folder given.  A file named twice is
        kept once, under its own name rather than a symbolic link's.

    Raises
    ------
    FileNotFoundError
        A path does not exist.
    ValueError
        No paths, or a folder holds no audio file.
    """
    if isinstance(paths, (str, os.PathLike)):  # one file or folder: not its characters
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("no inputs; give audio files or folders")
    excluded = _resolved(Path(exclude)) if exclude is not None else None  # (a loop of links: -o says so)
    extensions = audio.audio_extensions()
    found: list[tuple[Path, Path]] = []
    seen: dict[Path, int] = {}  # resolved file -> its index in found

    def add(file: Path, relative: Path) -> None:
        key = _resolved(file)
        if key not in seen:
            seen[key] = len(found)
            found.append((file, relative))
        elif found[seen[key]][0].is_symlink() and not file.is_symlink():
            # A file and a link to it: the outputs take the file's name (loop.flac and
            # link.flac -> loop.flac in a folder, where "link" sorts first: loop_kick.wav).
            found[seen[key]] = (file, relative)

    for path in paths:
        if not path.exists():  # (a broken link too: its message names the missing target)
            raise audio.not_found(path)
        if not path.is_dir():
            add(path, Path("."))
            continue
        files = []
        in_excluded = 0  # audio files skipped because they are in the output folder
        in_outputs = 0  # ... because they are in an earlier batch's output folder
        left_out: dict[Path, int] = {}  # those folders: how many audio files each held
        undecoded: dict[str, int] = {}  # audio files of formats libsndfile does not read, by extension
        earlier = _earlier_outputs(path)
        for file in sorted(path.rglob("*")):
            relative = file.relative_to(path)
            # a broken link is kept (audio extension): the run reports it as a failed file
            # naming the link, where skipping it lost the file without a word
            if any(part.startswith(".") for part in relative.parts) or not (file.is_file() or audio.is_broken_link(file)):
                continue
            extension = file.suffix.lower().lstrip(".")
            if extension not in extensions:
                if extension in UNREAD_AUDIO:  # passed by, but said: a phone's .m4a is someone's song
                    undecoded[extension] = undecoded.get(extension, 0) + 1
                continue
            where = _resolved(file)
            if excluded is not None and (excluded == where.parent or excluded in where.parents):
                in_excluded += 1
                home = _resolved(file.parent)  # where the entry itself lies (a link's own folder)
                if linked is not None and not (excluded == home or excluded in home.parents):
                    linked.append((file, where))
                continue
            holder = next((parent for parent in relative.parents if parent in earlier), None)
            if holder is not None:
                in_outputs += 1
                left_out[path / holder] = left_out.get(path / holder, 0) + 1
                continue
            files.append((file, relative.parent))
        if skipped is not None:
            skipped.extend(left_out.items())
        if not files and in_excluded:
            raise ValueError(f"the audio files of {str(path)!r} are all inside the output folder "
                             f"{str(exclude)!r}, whose files are never taken as inputs (a rerun must not "
                             "separate its own outputs); choose another output folder")
        if not files and in_outputs:
            raise ValueError(f"the audio files of {str(path)!r} are all inside earlier output folders (holding an "
                             f"{MANIFEST_NAME}), whose files are not taken from a folder searched; give such a "
                             "folder itself to separate its files")
        if not files and undecoded:
            raise ValueError(f"{str(path)!r} holds {undecoded_text(undecoded)}, which nmfaudio does not read; "
                             "convert them to WAV or FLAC first (e.g. ffmpeg -i song.m4a song.wav)")
        if not files:
            raise ValueError(f"{str(path)!r} is a folder that holds no audio files (.wav, .flac, .ogg, .mp3, ...); "
                             "give audio files or a folder of them")
        if undecoded and unread is not None:
            unread.append((path, undecoded))
        for file, relative in files:
            add(file, relative)
    return found


def undecoded_text(undecoded: dict) -> str:
    """``3 .m4a files and 1 .aac file`` of ``{"m4a": 3, "aac": 1}``."""
    parts = [f"{n} .{extension} file{'s' if n != 1 else ''}" for extension, n in sorted(undecoded.items())]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _resolved(path: Path) -> Path:
    """``path.resolve()``, or its absolute path where a loop of links has no end (resolve
    raises there: one such link in a folder stopped the whole batch with "Symlink loop")."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return Path(os.path.abspath(path))




def _earlier_outputs(folder: Path) -> set[Path]:
    """The sub-folders of ``folder`` (relative to it) that hold a :data:`MANIFEST_NAME`:
    earlier batches' output folders.  Their stems are not inputs: ``drums songs -o
    songs/stems`` then ``drums songs -o songs/kicks`` would otherwise separate every stem
    of the first batch again (``song_kick_kick.wav``, ...).

    Returns
    -------
    set of pathlib.Path
        Relative to ``folder``; never ``.`` (a folder given as an input is searched).
    """
    return {manifest.parent.relative_to(folder) for manifest in folder.rglob(MANIFEST_NAME)
            if manifest.parent != folder and manifest.is_file()}


def output_name(path) -> str:
    """The stem of the outputs of input ``path``: its file stem without leading dots
    (``.take.wav`` -> ``take``; ``.wav``, whose stem is ``.wav``, -> ``wav``; ``..wav`` ->
    ``input``).

    A hidden input would otherwise write hidden outputs (``.take_kick.wav``) that ``ls``
    and a rerun's folder search do not show.  Every sub-command names its outputs so.
    """
    return Path(path).stem.lstrip(".") or "input"


def _collision_fix(first: str, second: str) -> str:
    """The ways out of two inputs writing the same output: renaming one, two output folders,
    and — when they lie in different folders — their common folder given instead (a folder's
    sub-folders are kept under the output folder, so each writes its own; two files of one
    folder have no such way: before 2026-12-07 (mend62) docs/batch.md offered it, the
    message did not)."""
    fix = "rename one of them or separate them into different output folders"
    if Path(os.path.abspath(first)).parent == Path(os.path.abspath(second)).parent:
        return fix
    try:  # as the user wrote the paths
        common = os.path.commonpath([os.path.dirname(first), os.path.dirname(second)]) or "."
    except ValueError:  # one relative, one absolute (or two drives)
        common = os.path.commonpath([os.path.abspath(first), os.path.abspath(second)])
    return (f"{fix}, or give their common folder {common!r} instead (its sub-folders are kept under "
            "the output folder; every audio file in it is then separated)")


def _check_outside_kit(out_dir: Path, templates) -> None:
    """Refuse an output folder that is a one-shot kit folder given as ``templates``, or is
    inside it: the stems written into ``kit/kick/`` were learned as kick one-shots by the next
    run (or stopped it: a silent stem is refused as a one-shot), and the user's kit was changed.

    Raises
    ------
    ValueError
    """
    if not isinstance(templates, (str, os.PathLike)) or not os.path.isdir(templates):
        return  # the bundled templates, an .npz, a DrumTemplates object: nothing is read from a folder
    kit = _resolved(Path(templates))
    where = _resolved(out_dir)
    if where == kit or kit in where.parents:
        relation = "is" if where == kit else "is inside"
        raise ValueError(f"the output folder {str(out_dir)!r} {relation} the one-shot folder {str(templates)!r} "
                         "given as templates, where the next run would learn the stems as one-shots; give an "
                         "output folder outside the kit (-o)")


def plan(paths, out_dir, *, job: str, options: dict | None = None, file_format=None,
         force: bool = False, skipped: list | None = None, unread: list | None = None,
         linked: list | None = None) -> list[Task]:
    """One :class:`Task` per input found in ``paths`` (see :func:`find_inputs`, which
    ``skipped``, ``unread`` and ``linked`` are passed to).

    Raises
    ------
    ValueError
        Two inputs would write the same output file (both are named), or bad options.
    """
    options = check_options(job, dict(options or {}))
    # a container's name alone ("flac") is its default sample format: taken as a tuple it was
    # ("f", "l", "a"), every input failing on "cannot be stored as f" (review65)
    file_format = (audio.output_format() if file_format is None else
                   audio.output_format(file_format) if isinstance(file_format, str) else file_format)
    out_dir = audio.without_detours(audio.check_path(out_dir))  # 'a/sub/..': a/sub is not made (mend60)
    if job == "drums":
        _check_outside_kit(out_dir, options["templates"])
    tasks = []
    writers: dict[Path, str] = {}
    inputs = find_inputs(paths, exclude=out_dir, skipped=skipped, unread=unread, linked=linked)
    # (device, inode) of every input: with force, an output that is an input (under any
    # name or link) would replace a file the user gave; refused like a single file's.
    # Without force an existing output is never written (its input is skipped or failed).
    identities = {}
    for file, _ in inputs if force else ():
        info = file.stat()
        identities[(info.st_dev, info.st_ino)] = str(file)
    for file, relative in inputs:
        folder = out_dir / relative
        name = output_name(file)
        tracks, plot = output_tracks(job, name, folder, options, file_format)
        task = Task(input=str(file), name=name, folder=str(folder), job=job, options=options,
                    file_format=tuple(file_format), tracks=tuple(tracks), plot=plot, force=force,
                    hit_files=hit_files(job, name, folder, options))
        for output in task.outputs:
            key = Path(os.path.abspath(output))
            if key in writers:
                raise ValueError(f"{writers[key]!r} and {str(file)!r} would both write {output!r}; "
                                 + _collision_fix(writers[key], str(file)))
            writers[key] = str(file)
            if not identities:
                continue
            try:
                info = os.stat(output)
            except OSError:  # not there (yet): not an input
                continue
            if (info.st_dev, info.st_ino) in identities:  # the one wording of this refusal
                audio.check_not_inputs([output], [identities[(info.st_dev, info.st_ino)]])
        tasks.append(task)
    return tasks


#: How a PNG file starts, and how a whole one ends (its IEND chunk and that chunk's CRC).
PNG_START = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"


def incomplete_output(task: Task) -> str | None:
    """Why an existing output of ``task`` is not a whole file, or None when each reads: an
    audio track whose header :func:`nmfaudio.audio.audio_info` takes (not empty, not a WAV
    cut short) and, compressed, whose last sample reads (:func:`nmfaudio.audio.last_sample_reads`),
    a figure that is a PNG to its last chunk, hit files their readers read
    (:func:`~nmfaudio.drums.hit_files.read_midi`, :func:`~nmfaudio.drums.hit_files.read_csv`).
    What resume checks before it skips an input whose outputs all exist: nmfaudio's own
    outputs are renamed into place whole, so a broken one is another writer's."""
    for path in task.outputs:
        if os.path.isfile(path) and os.path.getsize(path) == 0:
            return f"{path!r} is empty"
    for _, path in task.tracks:
        try:
            info = audio.audio_info(path)
        except (ValueError, OSError) as exc:
            return _reason(exc)
        # a FLAC stem cut short past its whole header declares every sample: its last one is
        # sought (review65: such a stem was "skipped", as the WAV header check cannot tell it)
        if info.format not in ("WAV", "WAVEX", "RF64", "W64") and not audio.last_sample_reads(path, info):
            return f"{path!r} is cut short: its header declares {info.frames} samples, and the last cannot be read"
    if task.plot:
        try:
            with open(task.plot, "rb") as handle:
                start = handle.read(len(PNG_START))
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - len(PNG_END)))
                end = handle.read()
        except OSError as exc:  # a folder of that name, no permission to read
            return f"{task.plot!r} cannot be read ({exc.strerror or exc})"
        if start != PNG_START or end != PNG_END:
            return f"{task.plot!r} is not a whole PNG image"
    if task.hit_files:  # the drums package only for a drum task's hit files
        from nmfaudio.drums.hit_files import read_csv, read_midi
    for kind, path in task.hit_files:
        try:
            (read_midi if kind == "midi" else read_csv)(path)
        except (ValueError, OSError) as exc:
            return _reason(exc)
    return None


def _reason(exc: Exception) -> str:
    """An error's first clause (what is wrong, without the fix it offers for an input)."""
    return str(exc).split("; ")[0]


# --------------------------------------------------------------------------- one file

def run_task(task: Task, *, callback=None, on_block=None) -> dict:
    """Separate one input and write its outputs atomically; return its summary.

    Errors are raised (the caller decides whether one input's failure stops anything).

    Parameters
    ----------
    task : Task
    callback : callable(iteration, loss), optional
        The NMF progress callback (as for :func:`nmfaudio.separate`).
    on_block : callable(done, total), optional
        Block progress for ``separate`` with ``block_seconds``.

    Returns
    -------
    dict
        JSON-able: ``sr``, ``channels``, ``n_samples``, ``n_iter``, ``final_loss``, the
        options, and per output its ``path`` and ``rms`` (drums: ``sources`` with onset
        times, ``classes``; separate: ``components`` with centroids, ``converged``).
    """
    from threadpoolctl import threadpool_limits

    info = audio.audio_info(task.input)  # an output format that cannot hold it: before any work
    audio.check_writable(task.file_format, info.samplerate, info.channels)
    audio.check_name_lengths(task.outputs)  # an input name too long for "_accompaniment.wav": before the work
    # One BLAS thread: its result bits depend on its thread count, and a batch must give
    # the bytes a single run gives.  (The compiled kernels still use every thread allowed.)
    with threadpool_limits(1, user_api="blas"):
        if task.job == "drums":
            return _drums_file(task, callback)
        return _separate_file(task, callback, on_block)


def _rms(track) -> float:
    """RMS level, accumulated in float64 a stretch at a time (no float64 copy of the track):
    the sum of squares of :func:`nmfaudio.drums.track_reads.sum_of_squares`, compiled."""
    from nmfaudio.drums.track_reads import sum_of_squares

    flat = np.asarray(track).reshape(-1)
    if flat.size == 0:
        return float("nan")
    return float(np.sqrt(sum_of_squares(flat, 2**20) / flat.size))


#: Free space counted for a figure (``--plot``): a drums figure is 1100 pixels wide and
#: 210 a panel, 7.6 MB as uncompressed RGBA with 8 panels (PNG compresses it: a minute of
#: noise drew 1.3 MB); twice that, to be safe.
FIGURE_BYTES = 16 * 2**20
#: Free space counted for a MIDI or CSV hit file: a minute of noise (811 hits, more than a
#: groove has) wrote 22 KB of CSV and 6 KB of MIDI, so 4 MiB holds hours of hits.
HIT_FILE_BYTES = 4 * 2**20


def side_file_bytes(task: Task) -> int:
    """Free space to count, besides the audio, for the task's figure and hit files.

    Parameters
    ----------
    task : Task

    Returns
    -------
    int
        :data:`FIGURE_BYTES` for the figure and :data:`HIT_FILE_BYTES` per hit file, of
        those in ``task.folder`` (an ``--onsets`` CSV elsewhere is on another folder's
        space): small next to the stems, but not nothing when the disk is nearly full.
    """
    folder = Path(task.folder)
    n_figures = int(task.plot is not None and Path(task.plot).parent == folder)
    n_hit_files = sum(Path(path).parent == folder for _, path in task.hit_files)
    return n_figures * FIGURE_BYTES + n_hit_files * HIT_FILE_BYTES


def _track_seconds(sources: dict, sr: int) -> float:
    """The length in seconds of the tracks in ``sources`` (each the input's length)."""
    return np.shape(next(iter(sources.values())))[-1] / sr


def _write(task: Task, sources: dict, sr: int, figure=None, hits=None, side=None) -> tuple | None:
    """Write the task's audio outputs (and figure, and hit files) all-or-nothing, after the
    headroom check.

    Parameters
    ----------
    task : Task
    sources : dict {str: ndarray of shape (n_samples,) or (n_channels, n_samples)}
    sr : int
    figure, hits : optional
        The figure (``task.plot``) and the hits (``task.hit_files``), if made already.
    side : callable () -> (figure, hits, ...), optional
        Makes them instead, on this thread while the tracks are written on others
        (:func:`_meanwhile`); its error, else the writing's, is raised, and no
        file is left either way.

    Returns
    -------
    tuple or None
        What ``side`` returned.
    """
    fmt, subtype, _ = task.file_format
    audio.check_headroom({Path(path).name: sources[source] for source, path in task.tracks}, subtype, fmt)
    Path(task.folder).mkdir(parents=True, exist_ok=True)
    need = sum(audio.audio_bytes(sources[source].size, subtype=subtype) for source, _ in task.tracks)
    need += side_file_bytes(task)
    with audio.atomic_outputs(task.outputs, overwrite=task.force, need_bytes=need) as temporaries:
        jobs = [(temporary, sources[source]) for temporary, (source, _) in zip(temporaries, task.tracks)]
        made = None
        if side is None:
            _write_tracks(jobs, sr, fmt, subtype)
        else:
            # one gate for the thread and each file it writes: an error or a stop here lets
            # no further stem begin, and waits only for those being written
            gate = _Gate()
            _, made = _meanwhile(lambda: _write_tracks(jobs, sr, fmt, subtype, flush=True, gate=gate), side,
                                 gate=gate)
            figure, hits = made[:2]
        if figure is not None:
            save_figure(figure, temporaries[len(task.tracks)], format="png", dpi=100)
        for temporary, (kind, _) in zip(temporaries[len(temporaries) - len(task.hit_files):], task.hit_files):
            if kind == "midi":  # the track ends with the recording (the tracks' length)
                hits.write_midi(temporary, overwrite=True, duration=_track_seconds(sources, sr))
            else:
                hits.write_csv(temporary, overwrite=True)
    if figure is not None:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return made


def _meanwhile(background, foreground, gate: _Gate | None = None) -> tuple:
    """``background()`` on a thread of its own while ``foreground()`` runs on this one;
    return ``(background(), foreground())``.

    For work that releases the GIL (libsndfile's writing, ``fsync``, NumPy's sums) beside
    the hits' Python: the stems of a 3-minute 44.1-kHz track, six 31-MB files, reach the
    disk while the hits are picked (docs/performance.md, the speed44b round).  Whatever
    this thread raises, wherever (a stop landing inside ``submit``, as the thread starts,
    included), the background work is over or called off before the exception leaves
    (:class:`_Gate`): the caller's :func:`nmfaudio.audio.atomic_outputs` then removes its
    temporary files, and nothing writes them any more.  ``foreground``'s error comes
    first, else ``background``'s, each as it is: the order of the sequential form,
    ``foreground()`` then ``background()``.

    Parameters
    ----------
    background, foreground : callable () -> object
    gate : _Gate, optional
        The gate ``background`` runs through (default: a new one); ``background`` may
        hand its own pieces through it too (:func:`_write_tracks`' files), so that once
        it is closed the pieces not yet begun are not begun, and the close waits only
        for those running rather than for the whole of ``background``.

    Returns
    -------
    tuple (object, object)
    """
    from concurrent.futures import ThreadPoolExecutor

    gate = _Gate() if gate is None else gate
    with ThreadPoolExecutor(1, thread_name_prefix="nmfaudio-meanwhile") as runner:
        try:  # submit inside: a stop landing as the thread starts must close the gate too
            behind = runner.submit(gate.run, background)
            made = foreground()
            return behind.result(), made
        except BaseException:
            gate.close()  # foreground's error (or the stop) is the one to raise
            raise


class _Gate:
    """Work handed to other threads, called off by the thread that handed it.

    A ThreadPoolExecutor loses track of a thread when an exception (a signal's: SIGTERM
    in a worker, Ctrl-C) lands in ``submit`` as the thread starts: ``shutdown`` does not
    join it, and it goes on to write a stem after :func:`nmfaudio.audio.atomic_outputs`
    removed the temporary file, recreating it (the speed44b revert: six ``.part`` files
    left by a stopped worker).  Work run through :meth:`run` instead begins only while
    the gate is open, and :meth:`close` waits for what began: once it returns, nothing
    handed through the gate writes any more, whichever threads the pool still knows of.
    ``audio._write_wavs`` does the same for ``nmfaudio.save_tracks``.
    """

    def __init__(self):
        self._changed = threading.Condition()
        self._open = True
        self._running = 0

    def run(self, fn, *args):
        """``fn(*args)``, on any thread, if the gate is still open; else nothing (None)."""
        with self._changed:
            if not self._open:
                return None
            self._running += 1
        try:
            return fn(*args)
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    def close(self) -> None:
        """Let nothing begin any more, and return once what began has ended."""
        with self._changed:
            self._open = False
            self._changed.wait_for(lambda: self._running == 0)


def _write_tracks(jobs, sr: int, fmt: str, subtype: str, n_threads: int | None = None, flush: bool = False,
                  gate: _Gate | None = None) -> None:
    """:func:`nmfaudio.audio.write_wav` of each ``(path, samples)`` job, the files on
    ``n_threads`` threads at once (default: the engine's, :func:`nmfaudio.nmf.kernels.num_threads`).

    Each file is written by one thread, as alone, so the bytes are the same; libsndfile
    releases the GIL, and writing was a one-core stretch of every run (the 3-minute
    stereo song's six stems: ~0.4 s of CPU; docs/performance.md, the shell-speed round).
    Errors are raised in the jobs' order, once no file is being written any more (none
    started after the first error): the caller's :func:`nmfaudio.audio.atomic_outputs`
    then removes every temporary file.

    Parameters
    ----------
    jobs : list of (path, ndarray of shape (n_samples,) or (n_channels, n_samples))
    sr : int
    fmt, subtype : str
        libsndfile's container and subtype (``task.file_format``).
    n_threads : int, optional
    flush : bool, default False
        Also ``fsync`` each file once written (on its thread): what
        :func:`nmfaudio.audio.atomic_outputs` does before renaming, done early (its own
        ``fsync`` of a flushed file then costs next to nothing); and then drop the file's
        pages from the page cache (``audio._fsync(drop=True)``: the run reads the stems
        from memory, not from the files, and their 190 MB of cached pages at 44.1 kHz
        were fresh memory the hits' arrays then could not reuse).
    gate : _Gate, optional
        The caller's (:func:`_meanwhile`'s, whose thread runs this): each file begins
        only while it is open.  Closed (an error or a stop on the caller's thread), the
        files not yet begun are skipped: its close waits for the one or two being
        written, not for every stem (seconds of a long track's, in which a second and a
        third Ctrl-C could cut the waiting short and leave the rest to be written after
        the clean-up).
    """
    from concurrent.futures import ThreadPoolExecutor

    from nmfaudio.nmf.kernels import num_threads

    n_threads = min(len(jobs), num_threads() if n_threads is None else max(1, int(n_threads)))

    def one(path, samples):
        audio.write_wav(path, samples, sr, format=fmt, subtype=subtype)
        if flush:
            audio._fsync(path, drop=True)

    begin = one if gate is None else functools.partial(gate.run, one)
    if n_threads <= 1:
        for path, samples in jobs:
            begin(path, samples)
        return
    own = _Gate()  # a stop landing in submit: the thread it starts writes nothing after it
    pool = ThreadPoolExecutor(n_threads, thread_name_prefix="nmfaudio-write")
    try:
        futures = [pool.submit(own.run, begin, path, samples) for path, samples in jobs]
        for future in futures:
            future.result()
    except BaseException:
        own.close()  # the files not yet begun are not begun; those begun are ended
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _drums_file(task: Task, callback) -> dict:
    """The per-file drum work: load, separate_drums, write stems (and figure), summarize.
    Block-wise (``block_seconds``, or past ``max_memory``) without a figure, the file is
    streamed (:func:`_drums_streamed`)."""
    import warnings

    from nmfaudio.drums import DrumTemplates, separate_drums

    o = task.options
    templates = o["templates"]
    if templates is not None and not isinstance(templates, DrumTemplates):
        from nmfaudio.drums.templates import SkippedShotsWarning

        with warnings.catch_warnings():  # the command said it once; a worker reading the folder again stays quiet
            warnings.simplefilter("ignore", SkippedShotsWarning)
            # a one-shot folder is learned at the file's rate (read_templates): one learning per rate
            templates = load_templates(str(templates), tuple(o["classes"]), sr=audio.audio_info(task.input).samplerate)
    reason = None if o["block_seconds"] is not None else _drums_over_budget(task)
    # every drum task can stream: the figure reads the stems back from their files
    # (_streamed_figure), quantized hits read the mixture's channel mean a stretch at a time (_mono_reads),
    # and other formats are converted from float scratch files at the end (_convert_tracks)
    streamed = o["block_seconds"] is not None or reason is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-convergence: the summary has n_iter
        if streamed:
            return _drums_streamed(task, callback, templates, reason)
        y = None
        if o["quantize"] and task.hit_files:
            # the quantizer's beat tracker reads the mixture too: read once here (a second read
            # cost an MP3's decoding again, 0.5 s per stereo 3 minutes), its peak named by its file
            y, sr = audio.load(task.input)
            audio.check_peak(y, task.input)
        # else the file itself: separate_drums reads it and checks its peak once, naming it (the
        # batch read it and checked it, and separate_drums checked the array again; review64)
        given = (task.input,) if y is None else (y, sr)
        result = separate_drums(*given, templates=templates, callback=callback, **_drum_kwargs(o),
                                block_seconds=o["block_seconds"], max_memory=o["max_memory"])
    result.name = task.name
    sr = result.sr
    if y is not None:  # the beat tracker's channel mean, as when streamed: the stereo mixture is
        from nmfaudio.drums.tempo_grid import tracker_mono  # not held through the hits and writes

        y = tracker_mono(y)
    outputs = result.two_stems() if o["stems"] == "drums" else result.sources
    tracks = [outputs[name] for name, _ in task.tracks]
    # the hits picked (and the figure drawn) while the stems are written, and the stems'
    # levels measured (one thread: the engine's are the hits')
    levels, (_, hits, played) = _meanwhile(
        lambda: [_rms(track) for track in tracks],
        lambda: _write(task, outputs, sr, side=lambda: _drum_hits(task, result, y, sr, outputs)))
    residual = result.sources["residual"]
    rms = dict(zip([name for name, _ in task.tracks], levels))
    blocks = _drum_blocks(o, result.blockwise_reason, residual.shape[-1], result.hop_length, sr)
    rest = outputs["accompaniment" if o["stems"] == "drums" else "residual"]
    offset_energy = _offset_energy(result.offset, np.sum(rest, axis=-1, dtype=np.float64), rest.size)
    return _drums_summary(task, result, sr, 1 if residual.ndim == 1 else int(residual.shape[0]),
                          int(residual.shape[-1]), rms, played, hits, blocks, offset_energy)


def _drum_hits(task: Task, result, y, sr, outputs) -> tuple:
    """The hits of a separated input (:mod:`nmfaudio.drums.hits`, picked once: the hit
    files, the summary's onsets and the figure's markers) and its figure, drawn from
    ``outputs`` (``{track: samples}``, the stems being written).

    Returns
    -------
    figure : matplotlib Figure or None
        With ``task.plot``.
    hits : DrumHits
        ``played`` quantized (``--quantize``, with hit files), else ``played``.
    played : DrumHits
    """
    o = task.options
    played = result.hits(drumless=o["drumless"])  # --drumless: a song's drumless stretches' hits (None: kick, snare)
    hits = played
    if o["quantize"] and task.hit_files:  # hits that cannot carry a tempo come back as they are
        from nmfaudio.drums.tempo_grid import quantize

        hits = quantize(played, y, sr, grid=o["quantize"], hop_length=result.hop_length)
    figure = None
    if task.plot:  # after quantize: its legend says how many hits the files hold (review66)
        from nmfaudio.plot.drums import drums_figure

        # the arrays being written: with --stems drums the drums' sum is not made again (review66)
        figure = drums_figure(result, title=Path(task.input).name, hits=played, stems=o["stems"],
                              tracks={name: audio.ArrayReader(track) for name, track in outputs.items()},
                              merged=hits.merged)
    return figure, hits, played


def _drum_kwargs(o: dict) -> dict:
    """The task options that go to :func:`nmfaudio.separate_drums` as they are."""
    return {"classes": o["classes"], "n_fft": o["n_fft"], "hop_length": o["hop_length"],
            "mask_power": o["mask_power"], "max_iter": o["max_iter"], "adapt": o["adapt"], "n_free": o["n_free"],
            "random_state": o["random_state"], "accompaniment": o["accompaniment"],
            "presence_test": o["presence_test"], "ride": o["ride"]}


def _drums_over_budget(task: Task) -> str | None:
    """Why the drum ``task`` should run block-wise under its ``max_memory``, or None
    (:func:`nmfaudio.budget.drums_bytes` from the file's header, before it is read)."""
    from nmfaudio import budget, spectrum

    o = task.options
    max_memory = budget.check_max_memory(o["max_memory"])
    if max_memory is None:
        return None
    info = audio.audio_info(task.input)
    # separate_drums' frames for the file's rate, checked (a hop of 0 is its one-line error here)
    n_fft, hop_length = spectrum.frames_or_defaults(o["n_fft"], o["hop_length"], int(info.samplerate))
    estimate = budget.drums_bytes(int(info.frames), int(info.channels), n_stems=len(o["classes"]), n_fft=n_fft,
                                  hop_length=hop_length)
    # the figure (the mixture, each class and the residual; with --stems drums the mixture and
    # the two files written: review65, it counted 7 panels for those 3), drawn while the stems
    # are held; block-wise, from their files after the blocks (mend62: it was not counted)
    panels = 3 if o["stems"] == "drums" else len(o["classes"]) + 2
    figure = budget.figure_bytes(int(info.frames), n_panels=panels, n_fft=n_fft,
                                 hop_length=hop_length) if task.plot else 0
    reason = budget.over_budget(estimate + figure, max_memory, "--max-memory")
    if reason is not None:
        from nmfaudio.drums.blockwise import block_bytes

        note = budget.block_note(block_bytes(int(info.frames), int(info.channels), sr=info.samplerate,
                                             n_stems=len(o["classes"]), n_fft=n_fft, hop_length=hop_length),
                                 max_memory)
        if not note and figure > max_memory:
            note = f"; the figure (--plot) needs about {budget.format_bytes(figure)} too, so --max-memory is not met"
        reason += note
    return reason


def _streamed_figure(task: Task, result, files: dict, played, destination, merged=None) -> None:
    """Draw the streamed drum task's figure from the stems' float files (``files``:
    {class or "residual": path}, the result's ``sources`` order; with ``--stems drums``
    {"drums": path, "accompaniment": path}) into ``destination``; ``merged``: the hits
    ``--quantize`` merged (``DrumHits.merged``), which the legend counts."""
    from nmfaudio.plot.drums import drums_figure

    readers = {name: audio.FileReader(Path(path)) for name, path in files.items()}
    try:
        figure = drums_figure(result, title=Path(task.input).name, hits=played, tracks=readers,
                              stems=task.options["stems"], merged=merged)
    finally:
        for reader in readers.values():
            reader.close()
    save_figure(figure, destination, format="png", dpi=100)


def _drums_streamed(task: Task, callback, templates, reason) -> dict:
    """The drum work on a long file, in memory bounded by the block: the input read a block
    at a time, the stems written block by block to the outputs' temporary files
    (all-or-nothing, :func:`nmfaudio.audio.atomic_outputs`), the hits detected from those
    files and the input a stretch at a time (:mod:`nmfaudio.drums.track_reads`)."""
    from nmfaudio.drums import separate_drums

    o = task.options
    # the input is read again and again (its length here, its DC offset, each block, the
    # hits): one replaced or rewritten meanwhile is named before anything is published
    # (not a length mismatch between two of the reads, naming arrays the user never gave)
    state = file_state(task.input)
    info = audio.audio_info(task.input)
    sr, channels, n_samples = int(info.samplerate), int(info.channels), int(info.frames)
    classes = tuple(o["classes"])
    two = o["stems"] == "drums"  # the outputs are the drums' sum and the residual: the classes go to scratch files
    Path(task.folder).mkdir(parents=True, exist_ok=True)
    # an input that cannot seek exactly (Ogg, MP3) is decoded once, to a scratch copy that the
    # separation (its DC-offset pass and its blocks) and the hits read with seek
    copy = info.format in audio.SEQUENTIAL_FORMATS
    # outputs other than 32-bit float WAV (FLAC, 16/24-bit PCM): the stems stream to float
    # scratch files first, converted into the outputs at the end (their peaks known then)
    converted = tuple(task.file_format[:2]) != ("WAV", "FLOAT")
    fmt, subtype, _ = task.file_format
    n_tracks = len(task.tracks)
    need = audio.audio_bytes(n_samples, channels, (n_tracks if converted else 0) + (len(classes) if two else 0) + copy)
    need += audio.audio_bytes(n_samples, channels, n_tracks, subtype) + side_file_bytes(task)
    scratch = []
    labels = [*(classes if two else ()), *(source for source, _ in task.tracks if converted), *(["mixture"] * copy)]
    scratch_names = [(Path(task.folder), f"{task.name}_{label}") for label in labels]  # _scratch_file's
    with audio.atomic_outputs(task.outputs, overwrite=task.force, need_bytes=need,
                              scratch=scratch_names) as temporaries, unchanged_during(task.input, state):
        try:
            for name in classes if two else ():
                _scratch_file(task, name, scratch)
            class_files = list(scratch)
            track_files = ([_scratch_file(task, source, scratch) for source, _ in task.tracks] if converted
                           else list(temporaries[:n_tracks]))
            # before the writers open: a failing decode leaves none of them open
            mixture_path = _seekable_input(task, copy, scratch)  # the stems add up to it (to float rounding)
            writers = audio.WavWriters(track_files + class_files, sr, channels, peaks=converted)

            def write(start, block):
                if two:
                    residual = block["residual"]
                    drums = sum((block[c] for c in classes), np.zeros_like(residual)).astype(residual.dtype,
                                                                                              copy=False)
                    block = {**block, "drums": drums, "accompaniment": residual}
                writers.write(start, [block[source] for source, _ in task.tracks] + [block[c] for c in classes
                                                                                     if two])

            try:
                result = separate_drums(mixture_path, templates=templates, callback=callback, **_drum_kwargs(o),
                                        block_seconds=o["block_seconds"], stream_to=write)
            finally:
                writers.close()
            outputs = {source: path for (source, _), path in zip(task.tracks, track_files)}
            files = dict(zip(classes, class_files)) if two else outputs
            readers = {name: audio.FileReader(files[name]) for name in result.activations}
            if "residual" in result.sounds_in.values():  # a class's parts sound there: its hits are read there too
                readers["residual"] = audio.FileReader(outputs["accompaniment" if two else "residual"])
            remainder = None
            try:
                if result.residual_checks_hits:  # the residual as result.hits() passes it (the same track)
                    remainder = audio.FileReader(outputs["accompaniment" if two else "residual"])
                mixture = audio.FileReader(mixture_path)
                try:
                    # the same detection as in memory (a ride's strokes picked on their own)
                    played = result.detect_hits_in(readers, mixture=mixture, residual=remainder,
                                                   drumless=o["drumless"])
                finally:
                    mixture.close()
            finally:
                for reader in (*readers.values(), remainder):
                    if reader is not None:
                        reader.close()
            hits = played
            if o["quantize"] and task.hit_files:  # as in memory: the grid of the mixture's channel mean
                from nmfaudio.drums.tempo_grid import quantize_read

                with _mono_reads(mixture_path) as (read, n_samples):
                    hits = quantize_read(played, read, n_samples, sr, grid=o["quantize"],
                                         hop_length=result.hop_length)
            if task.plot:  # the outputs' files read back a stretch at a time (the figure draws what is written)
                drawn = outputs if two else {**{name: files[name] for name in classes}, "residual": outputs["residual"]}
                _streamed_figure(task, result, drawn, played, temporaries[len(task.tracks)], hits.merged)
            if converted:
                _convert_tracks([(Path(path).name, track, temporary, peak) for (_, path), track, temporary, peak
                                 in zip(task.tracks, track_files, temporaries, writers.peaks)], sr, fmt, subtype)
        finally:
            for path in scratch:
                path.unlink(missing_ok=True)
        for temporary, (kind, _) in zip(temporaries[len(temporaries) - len(task.hit_files):], task.hit_files):
            if kind == "midi":  # the track ends with the recording
                hits.write_midi(temporary, overwrite=True, duration=n_samples / sr)
            else:
                hits.write_csv(temporary, overwrite=True)
    count = n_samples * channels
    rms = {source: float(np.sqrt(total / count)) for (source, _), total in zip(task.tracks, writers.sum_squares)}
    blocks = _drum_blocks(o, reason, n_samples, result.hop_length, sr)
    rest = [source for source, _ in task.tracks].index("accompaniment" if two else "residual")
    offset_energy = _offset_energy(result.offset, writers.sums[rest], count)
    return _drums_summary(task, result, sr, channels, n_samples, rms, played, hits, blocks, offset_energy)


def _convert_tracks(jobs, sr: int, fmt: str, subtype: str) -> None:
    """Write each 32-bit float WAV ``track`` into ``destination`` as ``fmt`` / ``subtype``,
    a stretch at a time, after the headroom check on the peaks (:func:`nmfaudio.audio.check_headroom`:
    a track that would clip is refused, named, before any is written) — the bytes the
    in-memory path writes from the same float32 samples.

    Parameters
    ----------
    jobs : sequence of (name, track, destination, peak)
        The output's file name (for the message), the float WAV, the temporary to write,
        and the track's largest magnitude (kept by :class:`nmfaudio.audio.WavWriters`
        while the float WAV was written: no pass to read it back for the check).
    sr : int
    fmt, subtype : str
        libsndfile's container and subtype (``task.file_format``).
    """
    from nmfaudio.drums.track_reads import CHUNK_SAMPLES

    audio.check_headroom({name: np.array([peak]) for name, _, _, peak in jobs}, subtype, fmt)
    for _, track, destination, _ in jobs:
        reader = audio.FileReader(Path(track))
        try:
            with audio.open_wav_writer(destination, sr, reader.n_channels, format=fmt, subtype=subtype) as handle:
                for start in range(0, reader.n_samples, CHUNK_SAMPLES):
                    stretch = reader.read(start, min(start + CHUNK_SAMPLES, reader.n_samples))
                    handle.write(np.ascontiguousarray(stretch[0] if reader.n_channels == 1 else stretch.T))
        finally:
            reader.close()


@contextlib.contextmanager
def _mono_reads(path):
    """``(read, n_samples)``: ``read(start, stop)`` gives the samples ``start:stop`` of the
    channel mean of the audio file at ``path`` (float32, shape ``(stop - start,)``).

    What :func:`nmfaudio.drums.tempo_grid.quantize` takes of a recording (the beat tracker
    reads the channels' mean, a channel in opposite polarity to the first flipped:
    :func:`~nmfaudio.drums.tempo_grid.tracker_mono`), without the whole file in memory: the
    block-wise run quantizes through it (``quantize_read``; the whole channel mean was 0.3 GB
    for 30 minutes of 44.1 kHz), the polarity found in a first pass.
    """
    from nmfaudio.drums.tempo_grid import polarity_signs
    from nmfaudio.drums.track_reads import CHUNK_SAMPLES

    reader = audio.FileReader(Path(path))
    try:
        signs = None
        if reader.n_channels > 1:  # a first pass: each channel's polarity against the first
            dots = np.zeros(reader.n_channels)
            for start in range(0, reader.n_samples, CHUNK_SAMPLES):
                stretch = reader.read(start, min(start + CHUNK_SAMPLES, reader.n_samples))
                dots += [np.dot(channel, stretch[0]) for channel in stretch]
            signs = polarity_signs(dots)
            signs = None if np.all(signs > 0) else signs.astype(np.float32)[:, None]

        def read(start, stop):
            mono = np.empty(stop - start, dtype=np.float32)
            for first in range(start, stop, CHUNK_SAMPLES):
                end = min(first + CHUNK_SAMPLES, stop)
                stretch = reader.read(first, end)
                mono[first - start:end - start] = (stretch[0] if reader.n_channels == 1 else stretch.mean(axis=0)
                                                   if signs is None else (stretch * signs).mean(axis=0))
            return mono

        yield read, reader.n_samples
    finally:
        reader.close()


def _seekable_input(task: Task, copy: bool, scratch: list) -> Path:
    """The drum task's input as the streamed separation and the hit detection read it.

    Both read it many times (the DC offset's pass, the blocks, the accompaniment
    decision's excerpts; the mixture's energy near every class's hits, its mean square):
    an Ogg or MP3 file, which cannot seek exactly, would be decoded from its start each
    time; with ``copy`` it is decoded once to a float scratch file in the output folder
    (appended to ``scratch``, which the caller removes), read with seek — the same
    float32 samples.  Without ``copy``: the input's own path."""
    if not copy:
        return Path(task.input)
    reader = audio.FileReader(Path(task.input))
    try:
        path = _scratch_file(task, "mixture", scratch)
        audio.decoded_copy(reader, path)
    finally:
        reader.close()
    return path


def _scratch_file(task: Task, label: str, scratch: list) -> Path:
    """A new empty hidden file ``.<name>_<label>.*.part`` in the task's output folder,
    appended to ``scratch`` (the caller removes every one of them at the end; a killed
    run's were swept with the outputs', ``atomic_outputs(scratch=...)``)."""
    audio.create_temporary(Path(task.folder), f"{task.name}_{label}", scratch, sweep=False)
    return scratch[-1]


def _drums_summary(task: Task, result, sr, channels, n_samples, rms, played, hits, blocks,
                   offset_energy: float = 0.0) -> dict:
    """The JSON-able summary of one drum task (``played``: the hits as played, for the
    onsets; ``hits``: as written, maybe quantized; ``offset_energy``: :func:`_offset_energy`)."""
    from nmfaudio.drums import DrumTemplates
    from nmfaudio.drums.tempo_grid import has_tempo
    from nmfaudio.drums.ride import ride_mode
    from nmfaudio.drums.accompaniment import accompaniment_mode
    from nmfaudio.drums.stems import presence_mode

    o = task.options
    # a sub-template's hits (the ride's strokes, "cymbals_ride") are its class's track's
    onsets = {owner: [round(float(t), 3) for t in times]
              for owner, times in played.times_by_track([name for name, _ in task.tracks]).items()}
    # --stems drums: no track is a class's, so each class's times go under the drums file,
    # by class (review66: the record held no hit time at all)
    # (a sub-template's, the ride's strokes, under its class as in the five stems)
    by_class = ({owner: [round(float(t), 3) for t in times]
                 for owner, times in played.times_by_track(list(result.classes)).items()}
                if o["stems"] == "drums" and played is not None else {})
    # the hit files hold quantized hits (the tempo, the fit and the grid's start are theirs)
    quantized = bool(o["quantize"] and task.hit_files and has_tempo(played))
    source = "bundled templates" if o["templates"] is None else (
        "DrumTemplates object" if isinstance(o["templates"], DrumTemplates) else str(o["templates"]))
    return {
        "sr": int(sr), "channels": int(channels), "n_samples": int(n_samples), "templates": source,
        "classes": list(result.classes),
        # the drums modelled but not asked for (--classes): in the residual (the accompaniment)
        "classes_in_residual": _classes_in_residual(result),
        "adapt": bool(o["adapt"]), "n_free": int(o["n_free"]),
        "mask_power": o["mask_power"], "n_fft": int(result.n_fft), "hop_length": int(result.hop_length),
        "seed": o["random_state"], "n_iter": int(result.n_iter), "final_loss": float(result.loss[-1]),
        "borrowed_from_bundled": list(result.borrowed), "accompaniment": bool(result.accompaniment),
        # the setting ("auto", True, False) beside the decision: the summary's advice is for "auto"
        "accompaniment_setting": accompaniment_mode(o["accompaniment"]),
        "sustained_share": result.sustained_share, "tonal_share": result.tonal_share,
        "presence_test": presence_mode(o["presence_test"]),
        # the stems left silent because a presence decision judged their class not playing
        "absent": list(result.absent),
        # block-wise: the classes judged not playing in some blocks only, and where (s; their stem
        # silent there) — before blockprobe67 a hi-hat silent for the last 30 s of a song went unsaid
        "absent_in": {c: [list(span) for span in spans] for c, spans in result.absent_in.items()},
        # the classes whose parts sound in another stem (their own silent, their hits kept), by that stem
        "sounds_in": dict(result.sounds_in),
        # the setting ("auto", True, False), whether the strokes of a ride were found, and
        # whether they were moved out of the hi-hat (not when the ride part held them)
        "ride": ride_mode(o["ride"]), "ride_found": result.ride_strokes is not None,
        "ride_moved": result.ride_with_snare is not None,
        # block-wise: the stretches (s) whose blocks found the ride, when others did not (else None)
        "ride_in": None if result.ride_in is None else [list(span) for span in result.ride_in],
        # the drumless setting ("auto", True, False; review65: the --json record did not say which
        # hits a song's drumless stretches were left; a manifest's header options had it, as null)
        "drumless": "auto" if o["drumless"] is None else bool(o["drumless"]),
        # ... and the hits it left out there, per class ({}: none; None: not judged, a drum recording)
        "drumless_left_out": None if played is None or played.drumless is None else dict(played.drumless),
        # a band-limited input above the templates' rate: where its templates stopped (Hz)
        "band_limit_hz": result.band_limit_hz,
        # the input's band when it reaches far above templates made at a lower rate (the hats
        # may be lost), and that rate: the summary names the rate to learn them at
        "input_band_hz": result.input_band_hz, "templates_sr": result.templates_sr,
        "sources": [{"name": name, "path": path, "rms": rms[name],
                     **({"onsets_s": onsets[name]} if name in onsets else {}),
                     **({"onsets_s_by_class": by_class} if name == "drums" and by_class else {})}
                    for name, path in task.tracks],
        # the drum outputs' share of the outputs' energy: near 0 on a drumless or a-cappella
        # track, whose "hits" are the music's (the summary says so; review63b)
        "drums_share": _drums_share(rms, result, offset_energy),
        "plot": task.plot,
        "hit_files": dict((kind, path) for kind, path in task.hit_files),
        "hit_counts": {c.name: len(c) for c in hits}, "quantize": o["quantize"],
        "hits_bpm": float(hits.bpm) if quantized else None,
        # False: no constant tempo fitted the hits (a tempo change?), the grid is the beat tracker's
        "hits_tempo_fit": hits.tempo_fit if quantized else None,
        # the grid's point nearest 0 s (s): the notes sit this far after a DAW's grid lines (before: < 0)
        "hits_grid_start_s": round(hits.grid_start, 6) + 0.0 if quantized else None,  # + 0.0: no -0.0
        # no tempo fitted a binary grid, but this triplet grid's does (a swung groove): 12, 24 or None
        "hits_triplet_grid": hits.triplet_grid if quantized else None,
        # hits per class dropped for sharing a grid point with a stronger one of their class
        # ({}: none), and the finer grid of the same tempo that keeps them all (or None)
        "hits_merged": dict(hits.merged or {}) if quantized else None,
        "hits_finer_grid": hits.finer_grid if quantized else None,
        "blockwise": blocks,
    }


def _offset_energy(offset, sums, count: int) -> float:
    """The mean square the recording's DC offset adds to the track that holds it (the
    residual, or the accompaniment): ``Σ_c offset_c · Σ_t rest_ct / count``, from that
    track's per-channel sums (``sums``, shape (n_channels,) or () for mono) and its number
    of values (samples × channels).  The track holds the offset where the recording is not
    digital silence, and its mean there is the offset's, so this is the offset's part of
    its mean square (to the drum stems' means, which the masks keep near 0); 0 when no
    offset was taken off (``offset`` None)."""
    if offset is None or not count:
        return 0.0
    offset = np.asarray(offset, dtype=np.float64).reshape(-1)
    sums = np.asarray(sums, dtype=np.float64).reshape(-1)
    return max(0.0, float(np.dot(offset, sums)) / count)


def _drums_share(rms: dict, result, offset_energy: float = 0.0) -> float | None:
    """The drum outputs' share of the outputs' energy, Σ rms² of the drum tracks (the
    stems, or ``--stems drums``' drums file) over Σ rms² of every track, in [0, 1]; None
    when some modelled drums are not outputs (``--classes`` a subset: they are in the
    residual, so the share would not be the kit's) or the tracks are silent.  The
    recording's DC offset, which the residual (or the accompaniment) keeps, is not counted:
    ``offset_energy`` (:func:`_offset_energy`) is taken off the total (review66: a take at
    0.7 x a song + 0.2 was said to hold "little or no drums", 4.2 %)."""
    if _classes_in_residual(result):
        return None
    energies = {name: float(value) ** 2 for name, value in rms.items()}
    rest = sum(value for name, value in energies.items() if name in ("residual", "accompaniment"))
    total = sum(energies.values()) - min(offset_energy, rest)
    if not total > 0:
        return None
    drums = sum(value for name, value in energies.items() if name not in ("residual", "accompaniment"))
    return round(drums / total, 4)


def _classes_in_residual(result) -> list:
    """The drum classes the templates model that are not stems (not in ``--classes``):
    their sound is in the residual, and with ``--stems drums`` in the accompaniment, not
    the drums.  Sub-templates count as their class (``toms:low`` as toms); the percussion
    parts (``other``) are the residual's in every run, so they are not listed."""
    asked = set(result.classes)
    families = dict.fromkeys(name.split(":")[0] for name in result.templates.classes)
    return [name for name in families if name not in asked and name not in ("other", "residual")]


def _whole_seconds(n_samples: int, sr: int) -> float:
    """The length of an input that is one block, in seconds (3 significant digits, at
    least 0.001: what the summary's "1 block of S s" says)."""
    return max(float(f"{n_samples / sr:.3g}"), 0.001)


def _drum_blocks(o: dict, reason, n_samples: int, hop_length: int, sr: int) -> dict | None:
    """The summary's ``blockwise`` entry of a drum separation (None: it ran in memory)."""
    if o["block_seconds"] is None and reason is None:
        return None
    from nmfaudio.drums.blockwise import BLOCK_SECONDS, OVERLAP_SECONDS, block_spans

    seconds = BLOCK_SECONDS if o["block_seconds"] is None else o["block_seconds"]
    spans = block_spans(n_samples, block=round(seconds * sr), overlap=round(OVERLAP_SECONDS * sr), hop=hop_length)
    core = spans[0][1] - spans[0][0]
    if len(spans) == 1:  # the whole input is the block: "1 block of 30 s" said of an 8.7-s file
        seconds = _whole_seconds(n_samples, sr)
    elif abs(core - seconds * sr) > hop_length / 2:
        # blocks are whole hops, one at least: under half a hop (1e-3 s) one hop ran, not
        # what was asked (the nearest hop elsewhere: "30 s" stays as asked)
        seconds = core / sr
    return {"block_seconds": seconds, "blocks": len(spans),
            "reason": None if reason is None else reason.replace("max_memory", "--max-memory")}


_TEMPLATES_CACHE: dict = {}


def load_templates(path: str, classes: tuple, sr=None):
    """Drum templates from a one-shot folder (learned for a recording at ``sr`` Hz:
    :func:`~nmfaudio.drums.templates.read_templates`) or an .npz, once per process, state
    of the kit and learning rate: read again when a file in it (or the .npz) was added,
    removed or changed."""
    from nmfaudio.drums.templates import folder_rate, read_templates

    # keyed on the path alone, a kit changed between two batches of one process (a notebook:
    # a bad one-shot removed, 'templates learn --force' run again; a Dask worker serving
    # several runs) gave the second batch the first one's templates without a word (kitprobe67)
    # a batch of mixed rates: one learning per rate, each kept (an .npz: one, whatever the rate)
    rate = folder_rate(path, sr) if os.path.isdir(path) else None
    key = (path, classes, rate, _kit_state(path))
    if key not in _TEMPLATES_CACHE:
        for stale in [k for k in _TEMPLATES_CACHE if k[:3] == key[:3]]:
            del _TEMPLATES_CACHE[stale]
        # a folder: every class folder it has (classes= picks outputs; missing classes are borrowed)
        _TEMPLATES_CACHE[key] = read_templates(path, sr=rate)
    return _TEMPLATES_CACHE[key]


def _kit_state(path: str) -> tuple:
    """What tells one state of a kit from another without reading it: (name, size, mtime in
    ns) of the .npz, or of the one-shot folder, each entry in it and each entry of its
    sub-folders (the class folders and their one-shots: what is read; links followed as
    the kit is read, no deeper, so a link loop ends); an entry that cannot be stat'ed (a
    link leading nowhere) counts as (name, None, None), for read_templates to name."""
    def entry(item):
        try:
            stat = os.stat(item)
        except OSError:
            return (item, None, None)
        return (item, stat.st_size, stat.st_mtime_ns)

    def listed(folder):
        try:
            return sorted(os.path.join(folder, name) for name in os.listdir(folder))
        except OSError:
            return []

    state = [entry(path)]
    if os.path.isdir(path):
        for item in listed(path):
            state.append(entry(item))
            if os.path.isdir(item):
                state += [entry(sub) for sub in listed(item)]
    return tuple(state)


def _check_components(task: Task) -> None:
    """:func:`nmfaudio.fitting.check_component_limit` for a task's file and options."""
    from nmfaudio.fitting import check_component_limit

    o = task.options
    info = audio.audio_info(task.input)
    check_component_limit(int(o["n_components"]), info.frames, info.channels, info.samplerate, n_fft=o["n_fft"],
                          hop_length=o["hop_length"], name=Path(task.input).name)


def _separate_file(task: Task, callback, on_block) -> dict:
    """The per-file NMF work: load, separate (in memory or block-wise), write, summarize."""
    import warnings

    o = task.options
    k = int(o["n_components"])
    _check_components(task)
    block = None
    reason = None if o["block_seconds"] is not None else _separate_over_budget(task)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-convergence: the summary says so
        if o["block_seconds"] is not None or reason is not None:
            result, sr, rms, channels, n_samples, block = _separate_blocks(task, callback, on_block, reason)
        else:
            from nmfaudio.pipeline import separate

            y, sr = audio.load(task.input)
            result = separate(y, sr, n_components=k, beta=o["beta"], n_fft=o["n_fft"], hop_length=o["hop_length"],
                              mask_power=o["mask_power"], max_iter=o["max_iter"], random_state=o["random_state"],
                              callback=callback, max_memory=None)
            figure = None
            if task.plot:
                from nmfaudio.plot.audio import separation_figure

                figure = separation_figure(result, title=Path(task.input).name)
            _write(task, {source: track for (source, _), track in zip(task.tracks, result.components)}, sr, figure)
            rms = [_rms(track) for track in result.components]
            channels = 1 if result.components.ndim == 2 else result.components.shape[1]
            n_samples = int(result.components.shape[-1])
    bins_hz = np.arange(result.W.shape[0]) * sr / o["n_fft"]
    weight = result.W.sum(axis=0)
    centroids = [float(bins_hz @ result.W[:, j] / weight[j]) if weight[j] > 0 else None
                 for j in range(result.n_components)]
    from nmfaudio.pipeline import planned_iterations

    # n_iter counts every iteration run: beta < 1's Frobenius warm-up first, then the beta fit's
    warm_up = min(int(result.n_iter), planned_iterations(o["beta"], o["max_iter"]) - o["max_iter"])
    summary = {
        "sr": int(sr), "channels": int(channels), "n_samples": int(n_samples), "n_components": result.n_components,
        "beta": result.beta, "n_fft": o["n_fft"], "hop_length": o["hop_length"], "mask_power": o["mask_power"],
        "seed": o["random_state"], "n_iter": int(result.n_iter), "warm_up_iter": warm_up,
        "converged": bool(result.converged),
        "final_loss": float(result.loss[-1]) if len(result.loss) else None, "max_iter": o["max_iter"],
        "components": [{"path": path, "centroid_hz": c, "rms": r}
                       for (_, path), c, r in zip(task.tracks, centroids, rms)],
        "plot": task.plot,
    }
    if block is not None:
        summary["blockwise"] = block
    return summary


def _separate_over_budget(task: Task) -> str | None:
    """Why ``task`` should run block-wise under its ``max_memory``, or None.

    The estimate (:func:`nmfaudio.budget.separate_bytes`) is made from the file's header
    before it is read; it counts the tracks, which the block-wise mode streams to disk."""
    from nmfaudio import budget
    from nmfaudio.nmf.divergence import beta_from_name

    o = task.options
    max_memory = budget.check_max_memory(o["max_memory"])
    if max_memory is None:
        return None
    info = audio.audio_info(task.input)
    beta = beta_from_name(o["beta"])
    estimate = budget.separate_bytes(int(info.frames), int(info.channels), k=int(o["n_components"]),
                                     n_fft=o["n_fft"], hop_length=o["hop_length"], beta=beta,
                                     noise_floor=beta < 1)
    reason = budget.over_budget(estimate, max_memory, "--max-memory")
    from nmfaudio.blockwise import BLOCK_SECONDS

    if reason is not None and info.frames <= BLOCK_SECONDS * info.samplerate:
        # one block, the whole input: it holds the spectrogram, the fit and the tracks as in memory
        reason += budget.block_note(estimate, max_memory)
    return reason


def _separate_blocks(task: Task, callback, on_block, reason=None):
    from nmfaudio.blockwise import BLOCK_SECONDS
    from nmfaudio.blockwise import separate_into as separate_file  # sub-folders keep the input folders' names

    o = task.options
    block_seconds = BLOCK_SECONDS if o["block_seconds"] is None else o["block_seconds"]
    if tuple(task.file_format[:2]) != ("WAV", "FLOAT"):
        if reason is not None:
            # the input quoted, as other reasons name it: a batch's line then names it once
            # ("error: in/x.wav: x.wav: in memory ..." read it twice; tour16)
            raise ValueError(f"{str(task.input)!r}: {reason}, and the block-wise mode writes 32-bit float WAV "
                             "only; drop --format/--subtype or raise --max-memory")
        raise ValueError("block-wise separation writes 32-bit float WAV only; drop --block-seconds or "
                         "--format/--subtype")
    extra = []
    if task.plot:
        def write_figure(result, temporary):
            import matplotlib.pyplot as plt

            from nmfaudio.plot.audio import separation_figure

            figure = separation_figure(result, title=Path(task.input).name)
            save_figure(figure, temporary, format="png", dpi=100)
            plt.close(figure)

        extra.append((Path(task.plot), write_figure))
    kwargs = {} if o["learn_frames"] is None else {"learn_frames": o["learn_frames"]}
    result = separate_file(task.input, task.folder, n_components=int(o["n_components"]),
                           block_seconds=block_seconds, overwrite=task.force, name=task.name,
                           on_block=on_block, extra_outputs=extra, beta=o["beta"], n_fft=o["n_fft"],
                           hop_length=o["hop_length"], mask_power=o["mask_power"], max_iter=o["max_iter"],
                           random_state=o["random_state"], callback=callback, **kwargs)
    if result.blocks == 1:  # the whole input is the block: "1 block of 30 s" said of an 8.7-s file
        block_seconds = _whole_seconds(result.n_samples, result.sr)
    block = {"block_seconds": block_seconds, "blocks": result.blocks, "learn_stride": result.learn_stride,
             "reason": reason}
    return result, result.sr, list(result.rms), result.n_channels, result.n_samples, block


# --------------------------------------------------------------------------- records

def make_record(task: Task, status: str, *, seconds=None, error=None, summary=None, worker=None,
                cpu_seconds=None, notes=None) -> dict:
    """A record (see the module docstring) for ``task``; ``notes`` (what the run cleaned up
    that a killed run left) only when there are some."""
    record = {"input": task.input, "status": status, "outputs": task.outputs,
              "seconds": None if seconds is None else round(seconds, 3), "error": error}
    if worker is not None:
        record["worker"] = worker
    if cpu_seconds is not None:
        record["cpu_seconds"] = round(cpu_seconds, 3)
    if notes:
        record["notes"] = list(notes)
    if summary:
        record.update(summary)
    return record


def error_text(exc: BaseException) -> str:
    """One line naming an input's failure."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        message = f"{exc.strerror}: {str(exc.filename)!r}"
    elif isinstance(exc, MemoryError):
        message = "out of memory; use fewer components or --block-seconds, or fewer --jobs"
    elif isinstance(exc, (ValueError, TypeError, OSError, RuntimeError)):
        message = str(exc) or type(exc).__name__
    else:
        message = f"unexpected {type(exc).__name__}: {exc} (please report this as a bug)"
    return " ".join(message.split())


class _Stopped(BaseException):
    """SIGTERM in a worker process while it separates a file: unwind (removing temporary
    files), then exit."""


_IN_TASK = False
_STOPPING = False  # this worker has taken its first SIGTERM
_REDELIVER = False  # that SIGTERM's _Stopped was swallowed (see _worker_unraisable): raise it again
_IN_HOOK = False  # _worker_unraisable is running: a _Stopped raised there would be swallowed too
_ASKING = False  # _ask_again is starting the thread that asks for the stop again


def run_record(task: Task) -> dict:
    """Run one task and return its record; an input's error becomes a ``failed`` record.

    This is what worker processes and Dask workers run; ``worker`` in the record is
    ``host:pid`` of the process that ran it."""
    global _IN_TASK
    import socket

    started, cpu = time.perf_counter(), time.process_time()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    notes: list[str] = []  # stale temporary files removed (a killed run's): said with the record
    try:  # a stop raised anywhere while _IN_TASK is set ends the worker here, never in its caller
        _IN_TASK = True
        try:
            with audio.on_stale_removed(lambda folder, removed: notes.append(audio.stale_note(folder, removed))):
                summary = run_task(task)
        except Exception as exc:  # one input's failure must not stop the others
            record = make_record(task, "failed", seconds=time.perf_counter() - started, error=error_text(exc),
                                 worker=worker, cpu_seconds=time.process_time() - cpu, notes=notes)
        else:
            record = make_record(task, "done", seconds=time.perf_counter() - started, summary=summary,
                                 worker=worker, cpu_seconds=time.process_time() - cpu, notes=notes)
        finally:
            _IN_TASK = False
    except _Stopped:
        # the temporary files are gone: the exception unwound through them.  Raised in the
        # record's making or in the finally above, it would otherwise leave this function:
        # the pool's worker loop takes it for the task's error and runs the next queued
        # file with the stop spent (race47)
        os._exit(128 + signal.SIGTERM)
    if _STOPPING:  # a stop deferred while the task's error was handled: no further file for this worker
        os._exit(128 + signal.SIGTERM)
    return record


def _worker_sigterm(signum, frame):
    # Only the first SIGTERM counts.  When the parent stops the pool, the executor's
    # own manager thread sees the idle sibling exit, takes the pool for broken and
    # terminates every worker again; a second _Stopped raised inside atomic_outputs'
    # clean-up would cut it short and leave temporary files behind.
    global _STOPPING, _REDELIVER
    if _STOPPING and not _REDELIVER:
        return
    # Not raised where it would be swallowed as well (in the hook), nor while the main thread
    # handles an exception (an except or finally block, a with block's __exit__ on an error):
    # those are clean-ups — _meanwhile's gate.close() waiting for the stems' writer,
    # atomic_outputs removing the temporaries — and a _Stopped raised inside one cuts it
    # short.  A stop swallowed in numba's ctypes callback makes numba raise its own error
    # ("no compiled object yet"); the stop asked for again then landed in that error's
    # clean-up and left the stems not yet removed (race47).  Nor inside a context manager's
    # __enter__: raised there after it took a lock (threading.Condition's, in
    # Future.result), its __exit__ never runs and the lock stays taken — the writer thread
    # then waits for it forever, and so does the join of that thread.  Asked for again
    # until taken outside.
    if _IN_HOOK or _ASKING or (_IN_TASK and (sys.exc_info()[1] is not None or _in_unsafe_frame(frame))):
        _STOPPING = True
        _ask_again()
        return
    _STOPPING, _REDELIVER = True, False
    if _IN_TASK:
        raise _Stopped()
    os._exit(128 + signum)


#: llvmlite's object-cache callbacks, which numba's code loading calls from C: a _Stopped
#: raised in one is swallowed, and the callback cut short then made numba raise "no compiled
#: object yet" (notify) or the worker die in LLVM, every stem's temporary left (getbuffer;
#: race47's warm-cache loop, 3 runs in 100)
_C_CALLBACKS = ("_raw_object_cache_notify", "_raw_object_cache_getbuffer")


def _in_unsafe_frame(frame) -> bool:
    """Whether a stop raised at ``frame`` would skip a clean-up: in a context manager's own
    ``__enter__`` (a lock just taken, its ``__exit__`` not to run), or anywhere inside one of
    llvmlite's callbacks (:data:`_C_CALLBACKS`)."""
    if frame is not None and frame.f_code.co_name == "__enter__":
        return True
    while frame is not None:
        if frame.f_code.co_name in _C_CALLBACKS:
            return True
        frame = frame.f_back
    return False


def _worker_unraisable(unraisable) -> None:
    """``sys.unraisablehook`` of a local worker: a :class:`_Stopped` that could not be
    raised is delivered again.

    A signal handler runs between two bytecodes of the main thread, and these may be Python
    code called from C — llvmlite's ctypes callbacks while numba loads its cache, say.  An
    exception cannot leave such a callback: CPython prints "Exception ignored" and returns
    to C, and the worker went on separating with its one stop spent (tour14, 2026-12-06: a
    batch stopped at load 5 left two stems' ``.part`` files).  A thread asks for the
    handler again until the main thread takes the stop outside such a callback (and outside
    this hook, where it would be swallowed as well)."""
    global _IN_HOOK
    _IN_HOOK = True  # also around the default hook: a stop landing in it is asked for again
    try:
        if not isinstance(unraisable.exc_value, _Stopped):
            sys.__unraisablehook__(unraisable)
        else:
            _ask_again()
    finally:
        _IN_HOOK = False


def _ask_again() -> None:
    """Have :func:`_redeliver_stop` ask for the handler until it has raised."""
    global _REDELIVER, _ASKING
    if not _REDELIVER:
        _REDELIVER = True
        # the thread's first request can land while it starts (Thread.start waits for it),
        # inside the handler that defers: a _Stopped raised there would leave from the
        # very place the stop was deferred from
        _ASKING = True
        try:
            threading.Thread(target=_redeliver_stop, name="nmfaudio-stop", daemon=True).start()
        finally:
            _ASKING = False


def _redeliver_stop() -> None:
    # The main thread runs the handler at its next bytecode, which may still lie in a
    # callback or in the hook: ask again until the handler has raised (it clears the flag).
    while _REDELIVER:
        _thread.interrupt_main(signal.SIGTERM)
        time.sleep(0.01)


def _init_worker(threads: int, begun=None) -> None:
    """Local worker processes: ``threads`` compute threads each, Ctrl-C left to the parent
    (which stops the workers with SIGTERM), SIGTERM unwinds the current file; ``begun``: the
    pool's flags of the files taken (:func:`_run_marked`)."""
    global _BEGUN
    _BEGUN = begun
    os.environ["NUMBA_NUM_THREADS"] = str(threads)  # for anything that reads it later
    from nmfaudio.nmf import kernels

    kernels.THREADS = threads
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_sigterm)
    sys.unraisablehook = _worker_unraisable
    _stop_with_the_batch()


def _stop_with_the_batch() -> None:
    """Stop this worker (its own SIGTERM: the file it runs is unwound, its temporary files
    removed) when the batch's process is gone — killed with ``kill -9``, or by the kernel
    out of memory, where it could stop no worker.  The workers waited for their next file
    forever otherwise (each holds both ends of the pool's queue, so it never reads its
    end), each with the separation's modules loaded, and kept the fork server and
    multiprocessing's resource tracker alive with them (review56: four processes left
    after ``kill -9`` of a ``--jobs 2`` batch).  A daemon thread waits on the parent's
    sentinel (:func:`multiprocessing.parent_process`), which ends with that process."""
    import multiprocessing
    from multiprocessing.connection import wait

    sentinel = getattr(multiprocessing.parent_process(), "sentinel", None)
    if sentinel is None:  # pragma: no cover - not started by multiprocessing
        return

    def watch():
        wait([sentinel])
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="nmfaudio-batch-watch", daemon=True).start()


def _dask_record(task: Task, threads: int) -> dict:
    """A task on a Dask worker: ``threads`` compute threads for the kernels."""
    from nmfaudio.nmf import kernels

    kernels.THREADS = threads
    return run_record(task)


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_jobs(n_inputs: int) -> int:
    """Worker processes for ``n_inputs`` files when none is asked: 1 for one file, else
    one per core (at most one per file) — benchmarks/batch.py measures why."""
    return 1 if n_inputs <= 1 else max(1, min(n_inputs, available_cores()))


# --------------------------------------------------------------------------- manifest

class Manifest:
    """The batch's records, rewritten atomically (temporary file + rename) on each update.

    JSON: ``{"nmfaudio": version, "manifest_version": 1, "job": ..., "options": {...},
    "output_dir": ..., "started": ISO time, "updated": ISO time, "counts": {status: n},
    "records": [record, ...]}`` — one record per input, in input order.
    """

    def __init__(self, path, *, job: str, options: dict, output_dir, records: list[dict], file_format=None):
        from nmfaudio import __version__

        self.path = Path(path)
        self.records = records
        self.header = {"nmfaudio": __version__, "manifest_version": MANIFEST_VERSION, "job": job,
                       "options": _jsonable(options), **_format_names(file_format),
                       "output_dir": str(output_dir), "started": _now()}

    def write(self) -> None:
        counts: dict[str, int] = {}
        for record in self.records:
            counts[record["status"]] = counts.get(record["status"], 0) + 1
        document = {**self.header, "updated": _now(), "counts": counts, "records": self.records}
        text = json.dumps(document, indent=2)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException as exc:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            if isinstance(exc, OSError) and exc.errno is not None and exc.filename in (None, str(temporary)):
                # a full disk's write error names no file, an open's the hidden temporary: the
                # command line said "[Errno 28] No space left on device" alone (review56)
                raise OSError(exc.errno, exc.strerror, str(self.path)) from None
            raise


def _format_names(file_format) -> dict:
    """``{"format": "flac", "subtype": "pcm16"}``: the audio the batch writes, in the words
    of ``--format`` / ``--subtype`` (:func:`nmfaudio.audio.output_format`'s); the manifest
    said nothing of it, so a batch written as 16-bit FLAC read like one of float WAVs
    (tour16).  Empty without a format (no task)."""
    if file_format is None:
        return {}
    fmt, subtype = tuple(file_format)[:2]
    names = {sf_format: name for name, (sf_format, _) in audio.FORMATS.items()}
    subtypes = {sf_subtype: name for name, sf_subtype in audio.SUBTYPES.items()}
    return {"format": names.get(fmt, fmt), "subtype": subtypes.get(subtype, subtype)}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _jsonable(options: dict) -> dict:
    out = {}
    for key, value in options.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
        elif isinstance(value, (tuple, list)):
            out[key] = list(value)
        else:
            out[key] = type(value).__name__  # e.g. a DrumTemplates object
    return out


# --------------------------------------------------------------------------- many files

def separate_many(paths, out_dir, *, job: str = "drums", options: dict | None = None, file_format=None,
                  jobs: int | None = None, client=None, force: bool = False, manifest: bool = True,
                  on_record=None, tasks: list[Task] | None = None) -> list[dict]:
    """Separate many files; return one record per input (see the module docstring).

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Audio files and folders (searched recursively; sub-folders are kept under
        ``out_dir``).
    out_dir : str or os.PathLike
        Output folder (created if missing).
    job : {"drums", "separate"}
    options : dict, optional
        Keyword arguments of the job (:data:`DRUM_OPTIONS`, :data:`SEPARATE_OPTIONS`): for
        ``drums`` ``templates`` (a DrumTemplates, a one-shot folder or an .npz), ``classes``,
        ``n_fft``, ``hop_length``, ``mask_power``, ``max_iter``, ``adapt``, ``n_free``,
        ``random_state``, ``block_seconds``, ``max_memory``, ``accompaniment``,
        ``presence_test``, ``ride``, ``drumless``, ``plot``, and the command line's
        ``stems``, ``midi``, ``onsets``, ``quantize``; for ``separate`` ``n_components``
        (required), ``beta``, ``n_fft``, ``hop_length``, ``mask_power``, ``max_iter``,
        ``random_state``, ``block_seconds``, ``learn_frames``, ``max_memory``, ``plot``.
    file_format : audio.OutputFormat or {"wav", "flac"}, optional
        From :func:`nmfaudio.audio.output_format`; default 32-bit float WAV.
    jobs : int, optional
        Local worker processes (default :func:`default_jobs`); 1 runs in this process.
        Ignored when ``client`` is given.
    client : dask.distributed.Client, optional
        Run each file as a task on this cluster; inputs and ``out_dir`` must be paths every
        worker can read and write.
    force : bool, default False
        Redo inputs whose outputs exist (else an input whose outputs all exist is
        ``skipped``, and one with only some is ``failed``, naming them).
    manifest : bool, default True
        Keep ``out_dir/nmfaudio-manifest.json`` up to date as files finish.
    on_record : callable(record), optional
        Called in this process as each input finishes (or is skipped).
    tasks : list of Task, optional
        Already planned tasks (from :func:`plan`); then ``paths`` and the options are not used.

    Returns
    -------
    list of dict
        One record per input, in input order.  An input's failure is its record's
        ``error``; only bad arguments (no inputs, colliding outputs) raise.

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        Before any work: missing inputs, output-name collisions, bad options.
    KeyboardInterrupt
        After writing the manifest (finished files are kept and marked ``done``).
    """
    if tasks is None:
        tasks = plan(paths, out_dir, job=job, options=options, file_format=file_format, force=force)
    out_dir = audio.without_detours(audio.check_path(out_dir))
    records = [make_record(task, "pending") for task in tasks]
    todo = []
    for i, task in enumerate(tasks):
        existing = [p for p in task.outputs if Path(p).exists()]
        if task.force or not existing:
            todo.append(i)
        elif len(existing) == len(task.outputs):
            # taken as done only when every output is whole: a file of the same name left empty
            # or cut short (a copy interrupted, a disk filled, another program's) was "skipped"
            # before review64, and the input never redone
            broken = incomplete_output(task)
            records[i] = (make_record(task, "skipped", error=None) if broken is None else make_record(
                task, "failed", error=f"{broken}: not a complete output (a copy or write interrupted, or not made by "
                                      "nmfaudio?); delete it or use --force (force=True in Python) to redo the input"))
        else:
            missing = [p for p in task.outputs if not Path(p).exists()]
            records[i] = make_record(task, "failed", error=(
                f"{existing[0]!r} exists but {missing[0]!r} does not (left by a run that wrote other "
                "outputs, e.g. no hit files or figure, or not made by nmfaudio?); move them away or use --force "
                "(force=True in Python) to redo the input"))
    book = None
    if manifest:
        out_dir.mkdir(parents=True, exist_ok=True)
        book = Manifest(out_dir / MANIFEST_NAME, job=tasks[0].job if tasks else job,
                        options=tasks[0].options if tasks else {}, output_dir=out_dir, records=records,
                        file_format=tasks[0].file_format if tasks else None)
        book.write()
    for i, record in enumerate(records):
        if record["status"] != "pending" and on_record is not None:
            on_record(record)

    def finish(i: int, record: dict) -> None:
        records[i] = record
        if book is not None:
            book.write()
        if on_record is not None:
            on_record(record)

    try:
        if client is not None:
            _run_dask(client, tasks, todo, finish)
        else:
            n_jobs = default_jobs(len(todo)) if jobs is None else int(jobs)
            if n_jobs < 1:
                raise ValueError(f"jobs={jobs!r} must be an int >= 1")
            if n_jobs == 1 or len(todo) <= 1:
                for i in todo:
                    finish(i, run_record(tasks[i]))
            else:
                _run_processes(tasks, todo, finish, min(n_jobs, len(todo)))
    finally:
        if book is not None:
            book.write()  # also on Ctrl-C: every finished file is recorded
    return records


#: A file's error when the pool's worker processes died and it had not begun (or nothing
#: told which file was running), and when its own worker died again as it ran alone.
WORKER_DIED = ("a worker process died while this file waited or ran (killed, or out of memory); run the same "
               "command again to finish the rest")
DIED_ALONE = ("its worker process died running this file, again when it ran alone (killed, or out of "
              "memory); the other files went on")


def _run_processes(tasks, todo, finish, n_jobs: int) -> None:
    """Run ``todo`` on ``n_jobs`` local worker processes, calling ``finish(i, record)`` as
    each ends.  A worker that dies (``kill -9``, the kernel out of memory) breaks the whole
    pool: the files that were running then are run again one at a time, each in a pool of
    its own — the one whose worker dies again is failed (:data:`DIED_ALONE`) — and the files
    not begun go on in a new pool.  Before 2026-12-07 (review62b) every file not finished
    was failed, and a rerun failed them all again at the same file."""
    queue = list(todo)
    while queue:
        running, not_begun = _pool_round(tasks, queue, finish, n_jobs)
        if running is None:  # broken, and no file had begun: nothing to tell apart
            for i in not_begun:
                finish(i, make_record(tasks[i], "failed", error=WORKER_DIED))
            return
        for i in running:  # each alone: a death now is its own
            # with --force: a file can end (its outputs in place) just as the pool breaks,
            # and its result be lost with it; run again, it found its own outputs "already
            # there" and failed (tests/test_batch.py, the lost-result test).  The plan ran it
            # only where no output stood, or with --force, so whatever stands now is this run's.
            alone, never = _pool_round(tasks, [i], finish, 1, force=True)
            if alone or never or alone is None:
                finish(i, make_record(tasks[i], "failed", error=DIED_ALONE if alone else WORKER_DIED))
        queue = not_begun


def _pool_round(tasks, indices, finish, n_jobs: int, *, force: bool = False):
    """One pool of ``n_jobs`` workers over ``indices``: ``([], [])`` when every file ended
    (each through ``finish``), else, the pool broken, ``(running, not_begun)``: the files
    that had begun and not ended, and those not begun (``running`` None when none had begun).
    ``force``: the files run as with --force (their outputs replaced)."""
    import multiprocessing
    import pickle
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    context = _worker_context(multiprocessing)
    begun = context.RawArray("b", max(len(tasks), 1))  # set by a worker as it takes a file: no lock to leave held
    threads = max(1, available_cores() // n_jobs)
    executor = ProcessPoolExecutor(n_jobs, mp_context=context, initializer=_init_worker, initargs=(threads, begun))
    pending = {}
    ended, broken = set(), False
    starting = True  # executor.submit starts the workers (and waits for the fork server)
    try:
        for i in indices:  # the task pickled here: a worker marks it begun before anything of it is read
            task = replace(tasks[i], force=True) if force else tasks[i]
            pending[executor.submit(_run_marked, i, pickle.dumps(task))] = i
        starting = False
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                i = pending.pop(future)
                try:
                    record = future.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                ended.add(i)
                finish(i, record)
    except BaseException:
        _stop_executor(executor)
        if starting:  # a worker being started, the pool not yet knowing it: the fork server must fork none
            _stop_forkserver()
        raise
    executor.shutdown(wait=True)
    if not broken:
        return [], []
    left = [i for i in indices if i not in ended]
    running = [i for i in left if begun[i]]
    return (running or None), [i for i in left if not begun[i]]


#: The local pool's flags of the files its workers have taken (:func:`_pool_round`), set by
#: :func:`_init_worker` in each worker.
_BEGUN = None


def _run_marked(i: int, task_bytes: bytes) -> dict:
    """A local worker's file ``i``: marked begun, then read and run (:func:`run_record`)."""
    import pickle

    if _BEGUN is not None:
        _BEGUN[i] = 1
    return run_record(pickle.loads(task_bytes))


#: Imported once by the fork server, before it forks the workers: each worker then starts
#: with them loaded instead of importing them itself (seconds each, at the same time).
#: ``librosa.util.utils`` compiles its numba gufuncs (``localmax``, ``peak_pick``) when
#: imported (about 20 s on an empty cache, e.g. the first run after installing): workers
#: doing that at the same time can write one gufunc's two cache files from two processes,
#: which crashes a later run with a segmentation fault (numba issue #10128).
#: ``librosa.onset`` (which ``--quantize``'s ``librosa.beat`` imports) brings
#: ``librosa.core.pitch``'s gufunc through its spectral-feature imports; ``librosa.beat`` is
#: left to the workers: its gufuncs are not cached, so nothing is written.  The separation
#: and the hits use neither librosa's utilities nor scipy.signal any more (nmfaudio.drums.peaks;
#: `--quantize`, `--plot` and the block-wise runs still reach librosa), so scipy.signal is
#: not loaded.
PRELOAD = ["nmfaudio.batch", "nmfaudio.drums.separation", "nmfaudio.drums.hits", "nmfaudio.pipeline",
           "nmfaudio.blockwise", "librosa.core.spectrum", "librosa.util.utils", "librosa.onset"]


def _worker_context(multiprocessing):
    """forkserver with :data:`PRELOAD` where there is one (fresh processes, safe whatever
    threads this one runs, cheap to start), else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _start_forkserver()
        return context
    return multiprocessing.get_context("spawn")  # pragma: no cover - not Linux/macOS


def _start_forkserver() -> None:
    """Start the fork server (if it is not running) with SIGINT and SIGHUP ignored, which
    it keeps across its ``exec`` (Python leaves an ignored SIGINT ignored), and so do the
    workers it forks (the parent stops them with SIGTERM) and multiprocessing's resource
    tracker, started with it (a hang-up killed the tracker, and the batch's last lines were
    multiprocessing's "UserWarning: resource_tracker: process died unexpectedly,
    relaunching.  Some resources might leak.").

    A Ctrl-C reaches the terminal's whole process group: the fork server, importing
    :data:`PRELOAD` for its first seconds (CPython ignores its SIGINT only after that),
    printed a KeyboardInterrupt traceback of that import, or numba's "Exception ignored on
    calling ctypes callback function" (review56: ``timeout -s INT 2`` on a ``--jobs 2``
    batch).  This process blocks SIGINT meanwhile, so one arriving in the few milliseconds
    of the start stays pending and is raised here once the handler is back (a thread of
    its own that does not block it, e.g. a progress bar's monitor, could still take it
    then: that Ctrl-C is lost, and a second one stops the batch).  Off the main thread the
    handler cannot be changed: the server is started as before."""
    from multiprocessing import forkserver

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        forkserver.ensure_running()
        return
    quiet = [signum for signum in (signal.SIGINT, getattr(signal, "SIGHUP", None))
             if signum is not None and signal.getsignal(signum) is not None]  # None: set in C, not restorable
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, quiet)
    try:
        handlers = {signum: signal.signal(signum, signal.SIG_IGN) for signum in quiet}
        try:
            forkserver.ensure_running()
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _stop_executor(executor) -> None:
    """Cancel what has not started and stop the workers now (SIGTERM: each removes its
    temporary files)."""
    processes = list(getattr(executor, "_processes", {}).values())  # no public API to stop them
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.terminate()
        except Exception:  # pragma: no cover - already gone
            pass
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():  # pragma: no cover - a worker stuck past its unwinding
            process.kill()
            process.join()


def _stop_forkserver() -> None:
    """Stop the fork server (SIGTERM: it ends without a word), so that it forks no worker
    after this: a stop that landed while a worker was being started (``executor.submit``
    waiting for the fork server, busy importing :data:`PRELOAD` for seconds) left a worker
    the pool did not know of and so did not stop; forked once this process had gone, it
    printed a traceback (``FileNotFoundError`` rebuilding the pool's semaphores; review56,
    Ctrl-C 3-5 s into a ``--jobs 2`` batch).  Called once the known workers are joined (a
    worker's exit is learned through the fork server: stopped first, the joins returned at
    once and the batch reported before its workers had removed their temporary files), and
    only for such a stop (the server is shared by every pool of this process).  A later
    batch starts a new one (multiprocessing does when it finds it gone)."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:  # pragma: no cover - gone already
        pass
    try:
        server._stop()  # its pipe closed and the process reaped, so the next start makes a new one
    except Exception:  # pragma: no cover - another Python's internals: the next start finds it gone
        pass


def _run_dask(client, tasks, todo, finish) -> None:
    from distributed import as_completed

    futures = {}
    for i in todo:
        # one key per input and run: a rerun must not reuse a result the cluster remembers
        key = f"nmfaudio-{tasks[i].job}-{i}-{os.getpid()}-{time.time_ns()}"
        futures[client.submit(_dask_record, tasks[i], 1, key=key, pure=False, retries=0)] = i
    try:
        for future, result in as_completed(list(futures), with_results=True, raise_errors=False):
            i = futures[future]
            if future.status == "error":
                exc = future.exception()
                record = make_record(tasks[i], "failed", error=(
                    f"the Dask task failed ({type(exc).__name__}: {' '.join(str(exc).split())}); "
                    "run the same command again to retry"))
            else:
                record = result
            finish(i, record)
    except BaseException:
        client.cancel(list(futures))
        raise


def import_distributed():
    """``dask.distributed``, or an ImportError naming the extra to install."""
    try:
        import distributed
    except ImportError:
        raise ImportError('running on a Dask cluster needs dask.distributed; '
                          'pip install "nmfaudio[dask]"') from None
    return distributed


def connect(address: str):
    """A ``dask.distributed.Client`` for the scheduler at ``address`` (e.g. tcp://10.0.0.5:8786)."""
    distributed = import_distributed()
    try:
        return distributed.Client(address, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise OSError(f"cannot reach the Dask scheduler at {address!r} ({' '.join(str(exc).split())}); "
                      "check that 'dask scheduler' runs there and the address") from None
    except ValueError as exc:  # dask's words alone named neither the option nor a good address
        raise ValueError(f"{address!r} is not a Dask scheduler address ({' '.join(str(exc).split())}); "
                         "give one like tcp://10.0.0.5:8786") from None

