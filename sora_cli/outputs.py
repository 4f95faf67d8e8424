"""The files one render writes, checked before drawing and switched together.

A render's *set* is the film, its report and, when asked for, the SRT/VTT
sidecars and the OTIO timeline. Three guarantees:

* :func:`check_outputs` refuses (exit 2, before anything renders) an output
  that is not a regular file or a new name (a device, a folder, a FIFO), that
  is the storyboard, or that lies inside the cache or a cameo library.
* :func:`preflight` checks, before drawing, that the folders can be written
  and that their filesystems have room for the estimated film and scratch.
* :class:`Publisher` stages every file of the new set under a temp name beside
  its target (the film complete and signed), writes a journal naming them,
  then renames the sidecars, the report and the film last, and removes the
  journal. A ``kill -9`` before the journal exists leaves the previous set
  (the temp files are swept by the next run); after it, :func:`recover` (run
  at the start of the next render into that folder) completes the switch. So
  after any interruption the folder holds the previous complete set or the new
  one, never a mix; a journal ``.FILM.sora-publish`` present means a switch is
  under way.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sora_cli import faults
from sora_cli.atomic import (
    SYMLINK_LOOP,
    _alive,
    folder_of,
    fsync_dir,
    fsync_file,
    sweep_stale,
    symlink_loop,
    temp_beside,
)
from sora_cli.errors import STORAGE_ERRORS, UsageError, storage_error_at
from sora_cli.temp_names import PART, TEMP_NAME

JOURNAL = ".sora-publish"
#: bytes per pixel of an encoded frame, generous for x264 at the CRFs sora uses
FILM_BYTES_PER_PIXEL = 0.25
#: raw mix + limiter headroom scratch, and cached mix blocks: bytes per second of film
SOUND_SCRATCH_PER_SECOND = 48_000 * 4 * 3
MARGIN = 64 << 20  # keep this much free beyond the estimate


def set_paths(film: Path) -> dict[str, Path]:
    """Every file a render into ``film`` may write, by role."""
    return {
        "srt": film.with_suffix(".srt"),
        "vtt": film.with_suffix(".vtt"),
        "otio": film.with_suffix(".otio"),
        "media": film.with_suffix(".media"),  # a folder: the timeline's shot files (see sora_cli.assemble.timeline)
        "report": film.with_name(film.stem + ".report.json"),
        "film": film,
    }


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    for test, words in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return None if stat.S_ISREG(mode) else "not a regular file"


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def check_outputs(
    film: Path, storyboard: Path | None, cache_root: Path | None, cameo_libraries: Iterable[Path]
) -> None:
    """Refuse an output set that would destroy something; every reason at once (exit 2)."""
    looped = [
        f"{what} {path}: {SYMLINK_LOOP}"
        for what, path in (("-o", film), ("--cache-dir", cache_root))
        if path is not None and symlink_loop(path)
    ]
    if looped:  # (nothing else can be asked of such a path: every later check would meet the loop)
        raise UsageError("; ".join(looped))
    problems: list[str] = []
    for role, path in set_paths(film).items():
        if role == "media":
            problems += _media_problems(path)
            continue
        try:
            st = path.stat()  # through a symlink: what would really be written over
        except (FileNotFoundError, NotADirectoryError):  # a new name (a folder in the way: see preflight)
            continue
        except OSError as exc:
            problems.append(f"{path}: cannot be examined ({exc.strerror})")
            continue
        kind = _kind(st.st_mode)
        if kind:
            what = "-o" if role == "film" else f"the {role} file"
            problems.append(f"{what} {path} is {kind}; the output must be a regular file or a new name")
        elif storyboard is not None and storyboard.exists() and os.path.samefile(path, storyboard):
            problems.append(f"{path} is the storyboard itself; choose another output name")
    if cache_root is not None and _inside(film, cache_root):
        problems.append(f"-o {film} is inside the cache folder {cache_root}; choose a path outside it")
    for library in cameo_libraries:
        if library.is_dir() and _inside(film, library):
            problems.append(f"-o {film} is inside the cameo library {library}; choose a path outside it")
    if problems:
        raise UsageError("; ".join(problems))


MEDIA_FILE = re.compile(r"^\d{2,}-.+\.mp4$")


def is_media_folder(path: Path) -> bool:
    """A folder that holds only shot files named as sora names them (``NN-SHOT.mp4``): one sora wrote."""
    try:
        return path.is_dir() and not path.is_symlink() and all(MEDIA_FILE.match(p.name) for p in path.iterdir())
    except OSError:
        return False


def _media_problems(path: Path) -> list[str]:
    """``FILM.media`` is replaced with the timeline: only when it is new or a media folder sora wrote."""
    if not os.path.lexists(path) or is_media_folder(path):
        return []
    return [f"{path} is in the way of the timeline's media folder (it is not one sora wrote); move it or choose another -o"]


# --- preflight --------------------------------------------------------------------------------


def free_bytes(folder: Path) -> int:
    """Free space for an unprivileged writer in ``folder``'s filesystem (tests replace this)."""
    return shutil.disk_usage(folder).free


@dataclass(frozen=True)
class Estimate:
    film: int  # bytes of the finished film
    sound: int  # bytes of sound scratch and cached mix blocks

    @classmethod
    def of(cls, frames: int, width: int, height: int, duration: float) -> Estimate:
        return cls(
            int(frames * width * height * FILM_BYTES_PER_PIXEL) + (1 << 20), int(duration * SOUND_SCRATCH_PER_SECOND)
        )


def _writable_folder(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and prove it takes a file (as the render will write one)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise UsageError(f"the {what} {folder} cannot be created: {existing} is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = temp_beside(folder / "write-test")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"the {what} {folder} is not writable: {exc.strerror or exc}") from None


def preflight(
    film: Path, cache_root: Path, scratch: Path, estimate: Estimate, free: Callable[[Path], int] | None = None
) -> None:
    """Before drawing: the folders take files and their filesystems have room (exit 2 if not)."""
    free = free or free_bytes
    _writable_folder(film.parent, "output folder")
    _writable_folder(cache_root, "cache folder")
    # the film twice in the output folder (staged, then signed), the shots and mix blocks in the
    # cache, the stitched/burned pictures and raw mix in the scratch; summed per filesystem
    needs = [
        (film.parent, 2 * estimate.film, "the film"),
        (cache_root, estimate.film + estimate.sound, "the shot and sound cache"),
        (scratch, 2 * estimate.film + estimate.sound, "scratch"),
    ]
    by_device: dict[int, tuple[Path, int, list[str]]] = {}
    for folder, need, what in needs:
        dev = folder.stat().st_dev
        where, total, whats = by_device.get(dev, (folder, 0, []))
        by_device[dev] = (where, total + need, [*whats, what])
    for folder, need, whats in by_device.values():
        have = free(folder)
        if have < need + MARGIN:
            raise UsageError(
                f"not enough free space in {folder}: {_mb(have)} free, about {_mb(need + MARGIN)} needed "
                f"for {', '.join(whats)}; free some space or choose other folders (-o, --cache-dir, TMPDIR)"
            )


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.0f} MB"


# --- publishing a set -------------------------------------------------------------------------


@dataclass
class Publisher:
    """Stage the files of a new set, then switch them in together (see the module docstring)."""

    film: Path
    staged: dict[Path, Path] = field(default_factory=dict)  # target -> temp

    def stage(self, target: Path) -> Path:
        """A temp path that will become ``target`` when the set is published."""
        tmp = temp_beside(target)
        self.staged[target] = tmp
        return tmp

    def stage_folder(self, target: Path) -> Path:
        """A temp folder that will become the folder ``target`` when the set is published (the one it
        replaces is removed then)."""
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.sora-{os.getpid()}-", suffix=PART, dir=folder_of(target)))
        self.staged[target] = tmp
        return tmp

    def discard(self) -> None:
        for tmp in self.staged.values():
            _remove(tmp)
        self.staged.clear()

    def named_target(self, exc: BaseException) -> OSError | None:
        """A storage failure writing a staged file, said of the file it was to become (``film.mp4``), not of
        the temp file removed with it (``.film.mp4.sora-12-ab3d.mp4.part``, or a file in a staged folder);
        None for any other error."""
        if not (isinstance(exc, OSError) and exc.errno in STORAGE_ERRORS and exc.filename):
            return None
        failed = Path(os.fsdecode(exc.filename))
        for target, tmp in self.staged.items():
            if failed == tmp or tmp in failed.parents:
                return storage_error_at(exc, str(target / failed.relative_to(tmp)) if failed != tmp else str(target))
        return None

    def publish(self, stale: Iterable[Path] = ()) -> None:
        """Switch to the staged set; ``stale`` are files of the previous set the new one lacks."""
        for tmp in self.staged.values():
            for file in sorted(tmp.iterdir()) if tmp.is_dir() else [tmp]:
                fsync_file(file)
        # folders first (the timeline's media before the timeline), the film last
        order = sorted(self.staged, key=lambda target: (target == self.film, not self.staged[target].is_dir()))
        entries = [[str(self.staged[t].name), str(t.name)] for t in order]
        journal = journal_path(self.film)
        switch = {"pid": os.getpid(), "rename": entries, "remove": [p.name for p in stale]}
        text = json.dumps(switch)
        tmp_journal = temp_beside(journal)
        tmp_journal.write_text(text, encoding="utf-8")
        fsync_file(tmp_journal)
        os.replace(tmp_journal, journal)
        # from here the journal owns the staged files: the switch is decided, and whatever ends this call, they
        # are never discarded (the next run finishes a journal it finds)
        self.staged.clear()
        try:
            fsync_dir(self.film.parent)
            faults.checkpoint("publish-journal")
            _apply(self.film.parent, switch, journal)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM mid-switch (the first stop; later ones are ignored):
            _apply(self.film.parent, switch, journal)  # finish it, then stop, on a whole new set
            raise


def journal_path(film: Path) -> Path:
    return film.with_name(f".{film.name}{JOURNAL}")


def _apply(folder: Path, journal: dict, journal_file: Path) -> None:
    """Carry out a journal: renames in order (the film last), then removals, then the journal goes."""
    renames = journal["rename"]
    for i, (tmp_name, target_name) in enumerate(renames):
        if i == len(renames) - 1:
            faults.checkpoint("publish-film")
        tmp = folder / tmp_name
        if tmp.is_dir() and not tmp.is_symlink():
            _replace_folder(tmp, folder / target_name)
        elif tmp.exists():
            os.replace(tmp, folder / target_name)
    for name in journal["remove"]:
        _remove(folder / name)
    fsync_dir(folder)
    journal_file.unlink()
    fsync_dir(folder)


def _remove(path: Path) -> None:
    """A file, or a folder of sora's (a staged or replaced media folder) with what it holds."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _replace_folder(new: Path, target: Path) -> None:
    """``new`` renamed to ``target``; a previous ``target`` folder is first moved aside under a temp name
    (swept by a later run if killed here), then removed."""
    if target.is_dir() and not target.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.sora-{os.getpid()}-", suffix=PART, dir=folder_of(target)))
        os.replace(target, old)  # onto the empty temp folder
        os.replace(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)


def recover(film: Path) -> bool:
    """Finish a switch that a killed render journaled; then sweep sora's stale temp files."""
    journal = journal_path(film)
    finished = False
    with contextlib.suppress(FileNotFoundError, ValueError, TypeError, KeyError):
        data = json.loads(journal.read_text(encoding="utf-8"))
        if not _alive(int(data["pid"])) and _valid(data, film):
            _apply(film.parent, data, journal)
            finished = True
    sweep_stale(film.parent)
    return finished


def _valid(data: dict, film: Path) -> bool:
    """A journal renames only sora's temp files onto, and removes only, files of ``film``'s set."""
    names = {p.name for p in set_paths(film).values()}
    pairs = data["rename"]
    return all(TEMP_NAME.match(tmp) and target in names for tmp, target in pairs) and all(
        n in names for n in data["remove"]
    )
