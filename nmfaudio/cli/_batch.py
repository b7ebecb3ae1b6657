"""What ``nmfaudio drums`` and ``nmfaudio separate`` share for many inputs: the batch and
output-format options, running :func:`nmfaudio.batch.separate_many` with one progress bar
over files, and the per-file report lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nmfaudio.cli import CLIError, check_no_broken_link, cli_words, count, new_bar, output_folder, resume_collector
from nmfaudio.cli._args import positive_int


def add_output_arguments(parser) -> None:
    """``--format`` and ``--subtype`` (for every sub-command that writes audio)."""
    parser.add_argument("--format", choices=("wav", "flac"), default="wav",
                        help="audio file format of the outputs (default wav)")
    parser.add_argument("--subtype", choices=("float", "pcm16", "pcm24"), default=None,
                        help="samples: float (32-bit float, WAV only, never clips; default for wav), "
                             "pcm24 (default for flac) or pcm16; a track that would clip is refused, naming its peak")


def add_batch_arguments(parser) -> None:
    """``--jobs`` and ``--scheduler``."""
    parser.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                        help="separate N files at once in local worker processes (default: 1 for one file, "
                             "one per core for several)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run each file as a task on a dask.distributed cluster, e.g. tcp://10.0.0.5:8786 "
                             "(inputs and OUTDIR must be paths every worker can read and write; "
                             'needs pip install "nmfaudio[dask]")')


def file_format(args):
    """The checked ``(format, subtype, extension)``; a bad pair is a usage error (exit 2)."""
    from nmfaudio import audio

    try:
        return audio.output_format(args.format, args.subtype)
    except ValueError:
        args.parser.error(f"--subtype {args.subtype} cannot be stored in {args.format.upper()} files; "
                          "use --format wav or --subtype pcm24")


def is_batch(args) -> bool:
    """Several inputs, a folder, --jobs or --scheduler: the batch path (skip, manifest)."""
    return (len(args.inputs) > 1 or any(Path(p).is_dir() for p in args.inputs)
            or args.jobs is not None or args.scheduler is not None)


def check_output_dir(args) -> None:
    check_no_broken_link(args.output_dir)  # before the outputs' paths are resolved
    if args.output_dir.exists() and not args.output_dir.is_dir():
        raise CLIError(f"-o {str(args.output_dir)!r} is a file; give a folder")


def plan_one(args, job: str, options: dict):
    """The one :class:`nmfaudio.batch.Task` of a single-file run (its errors as one line)."""
    from nmfaudio import batch

    check_output_dir(args)
    try:
        (task,) = batch.plan(args.inputs, args.output_dir, job=job, options=options, file_format=file_format(args),
                             force=args.force)
    except FileNotFoundError as exc:
        raise CLIError(str(exc)) from None
    return task


def _finished_note(counts: dict, total: int, force: bool = False) -> None:
    """Keep the note an interrupted batch ends its message with (``cli.stop_note``): how
    many inputs are finished, and that a rerun does the rest (it skips finished ones —
    not with ``--force``, which redoes them: said so, review62b)."""
    import nmfaudio.cli

    finished = counts.get("done", 0) + counts.get("skipped", 0)
    # the inputs that failed before the stop are said apart: a rerun tries them again, but
    # does not finish them (review66: "4 of 10 finished; rerun ... for the other 6" where 3 of
    # the 6 had failed, and the --force line counted them as "pending" in the manifest)
    failed = counts.get("failed", 0)
    pending = total - finished - failed
    said = f", {failed} failed (said above; a rerun tries {'it' if failed == 1 else 'them'} again)" if failed else ""
    rerun = (f"rerun the same command for the other {pending}: with --force it redoes the finished "
             f"ones too (the manifest lists the {pending} pending)" if force and finished else
             f"rerun the same command for the other {pending}: finished inputs are skipped")
    nmfaudio.cli.stop_note = f"{finished} of {total} inputs finished (their outputs are kept){said}; {rerun}"


def run_batch(args, job: str, options: dict, done_lines) -> int:
    """Separate every input of ``args``; print one report per input; return the exit code.

    ``done_lines(record, name) -> list[str]`` words a finished input's report (as for one file,
    headed by ``name``: the input's path as given).
    Exit code 0 when every input was done or skipped, 1 when any failed.
    """
    from nmfaudio import batch

    resume_collector()  # many inputs in this process: collect as usual (nmfaudio.cli.run paused it)
    if args.jobs is not None and args.scheduler is not None:  # separate_many ignores jobs with a client
        args.parser.error(f"--jobs {args.jobs} starts local workers, and --scheduler runs the files on the "
                          "cluster's workers instead; give one of them")
    check_output_dir(args)
    skipped, unread, linked = [], [], []
    try:
        tasks = batch.plan(args.inputs, args.output_dir, job=job, options=options, file_format=file_format(args),
                           force=args.force, skipped=skipped, unread=unread, linked=linked)
    except FileNotFoundError as exc:
        raise CLIError(str(exc)) from None
    for folder, undecoded in unread:  # passed by in a folder searched: say so, and how to include them
        print(f"nmfaudio: note: {str(folder)!r} also holds {batch.undecoded_text(undecoded)}, which nmfaudio "
              "does not read (left out); convert them to WAV or FLAC to separate them (e.g. ffmpeg -i song.m4a "
              "song.wav)", file=sys.stderr)
    for folder, n_files in skipped:  # left out of a folder searched: say so, and how to include it
        print(f"nmfaudio: note: {str(folder)!r} not searched: it is an earlier batch's output folder (it holds "
              f"{batch.MANIFEST_NAME}); give it as an input to separate its {count(n_files, 'audio file')}",
              file=sys.stderr)
    for link, target in linked:  # a link into the output folder, left out as its files are: said
        print(f"nmfaudio: note: {str(link)!r} left out: it is a link into the output folder "
              f"{str(args.output_dir)!r} (to {str(target)!r}), whose files are never taken from a folder searched "
              "(a rerun must not separate its own outputs); give the link itself as an input to separate it",
              file=sys.stderr)
    client = None
    if args.scheduler is not None:
        try:
            client = batch.connect(args.scheduler)
        except ImportError as exc:
            raise CLIError(str(exc)) from None
    try:
        with output_folder(args.output_dir):
            bar = new_bar(total=len(tasks), desc="files", unit="file")
            counts = {"done": 0, "skipped": 0, "failed": 0}

            def on_record(record):
                counts[record["status"]] = counts.get(record["status"], 0) + 1
                _finished_note(counts, len(tasks), args.force)
                if record.get("error"):  # the library's hop_length=5000 as the --hop-length 5000 typed
                    record = {**record, "error": cli_words(record["error"], args.parser)}
                bar.update(1)
                if args.json:
                    lines, stream = [json.dumps(record)], sys.stdout
                elif record["status"] == "done":  # named by its path, as skipped and failed inputs are:
                    # 'take.wav' of in/set1/ and of in/set2/ read alike (review62b)
                    lines, stream = done_lines(record, str(record["input"])), sys.stdout
                elif record["status"] == "skipped":
                    lines, stream = [f"{record['input']}: skipped (its outputs exist; --force to redo)"], sys.stdout
                else:
                    lines, stream = [failure_line(record)], sys.stderr
                for line in lines:
                    bar.write(line, file=stream)
                stream.flush()
                for line in record.get("notes", ()):  # a worker's clean-up of a killed run's files
                    bar.write(f"nmfaudio: note: {line}", file=sys.stderr)

            _finished_note(counts, len(tasks), args.force)
            try:
                batch.separate_many(None, args.output_dir, tasks=tasks, jobs=args.jobs, client=client,
                                    on_record=on_record)
            finally:
                bar.close()
    finally:
        if client is not None:
            client.close()
    manifest = args.output_dir / batch.MANIFEST_NAME
    line = (f"{len(tasks)} input{'s' if len(tasks) != 1 else ''}: {counts['done']} done, "
            f"{counts['skipped']} skipped, {counts['failed']} failed; manifest {manifest}")
    print(line, file=sys.stderr if args.json else sys.stdout)
    return 1 if counts["failed"] else 0


def failure_line(record: dict) -> str:
    """The stderr line of a failed input: its error, after the input's path unless the
    error already names it (``error: a.wav: cannot read 'a.wav' as audio`` read it twice)."""
    error = record["error"]
    if repr(str(record["input"])) in error:
        return f"nmfaudio: error: {error}"
    return f"nmfaudio: error: {record['input']}: {error}"
