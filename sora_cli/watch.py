"""``sora watch``: re-render a draft whenever the storyboard or one of its assets is saved.

One long-lived process: the imports, the fonts, the backend's tables and the
file digests memoised by the cache stay warm between updates, so an update
costs what changed (the edited shots, the touched sound blocks, a stitch by
stream copy and the signature), not a Python start-up. Worker pools are forked
per update from this warm process (cheap with ``fork``); they are not kept
between updates because a backend opened for one film's options may not draw
the next one's.

The watcher (``watchfiles``: inotify on Linux, FSEvents on macOS) watches the
folders of the storyboard and of every asset it references, non-recursively,
and keeps only events on those files; what changed is then decided by each
file's (mtime, size, inode), so an event that arrives for a render already
made, or an editor touching a file without changing it, renders nothing.
A change saved while an update renders is picked up right after it, and the files are
also compared every :data:`SETTLE_MS` without an event, so a save that lands while the
watcher is being armed (before it can see events) is not lost.

An update that fails (a storyboard error, a tool failure) prints what went
wrong and keeps the previous film: the film is published atomically by the
render (see :mod:`sora_cli.outputs`), so a player pointed at it sees each new
version appear whole, and a failed update never touches it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sora_cli.atomic import SYMLINK_LOOP, symlink_loop
from sora_cli.digests import path_version
from sora_cli.errors import SoraError, StoryboardError, UsageError, detail_lines, internal_error, one_line
from sora_cli.film import RenderRequest, output_and_cache, render_film
from sora_cli.outputs import check_outputs
from sora_cli.preflight import asset_files
from sora_cli.profiles import profile_file
from sora_cli.storyboard import load_storyboard

#: how long the watcher waits for a burst of writes (an editor's save) to end before rendering, in ms
QUIET_MS = 50
#: the longest it groups changes while they keep coming, in ms
GROUP_MS = 800
#: how often the files are compared even without an event: a save made while the watcher is
#: (re)armed, before its first event can arrive, is still seen, within this many ms
SETTLE_MS = 500

Stamp = tuple[int, ...] | None


@dataclass
class Update:
    """One pass of the loop: what changed, what was redrawn, how long it took (one JSON line with --json)."""

    number: int
    ok: bool
    changed: list[str]
    seconds: float
    since_save: float | None = None  # from the newest changed file's mtime to the new film in place
    cpu_seconds: float = 0.0  # processor time of the update, this process and its finished children
    film: str | None = None
    rendered: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # dialogue lines that are new or changed
    sound: str | None = None  # "reused" or "mixed"
    qc: bool | None = None  # with --qc: whether the draft passed the delivery checks (None: not checked)
    failed: list[str] = field(default_factory=list)  # with --qc: the checks it failed, with their values
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def stamp(path: Path) -> Stamp:
    """What identifies a file's version cheaply (:func:`~sora_cli.digests.file_version`, its change time last);
    None when it is missing. Size, mtime and inode missed a file rewritten in place with its time set back."""
    return path_version(path)


def _dialogue(sb: Any) -> dict[tuple[str, int], str]:
    """(shot id, line index) -> a readable identity of the line (speaker, text, delivery, take, time)."""
    out = {}
    for shot in sb.shots:
        for i, line in enumerate(shot.dialogue):
            out[(shot.id, i)] = f"{shot.id}: {line.speaker}: {line.line!r}" + (
                f" ({line.delivery})" if line.delivery != "normal" else ""
            )
            out[(shot.id, i)] += "\0" + repr((line.at, line.audio))
    return out


class Watch:
    """The loop: render, wait for a change to a watched file, render again; ``report`` gets each :class:`Update`."""

    def __init__(self, request: RenderRequest, report: Callable[[Update], None], debug: bool = False):
        if str(request.storyboard) == "-":
            raise UsageError("sora watch needs a storyboard file (it re-reads it when it is saved), not -")
        if symlink_loop(Path(request.storyboard)):
            raise UsageError(f"{request.storyboard}: {SYMLINK_LOOP}")
        self.request = replace(request, storyboard=Path(request.storyboard).resolve())
        self.storyboard = Path(self.request.storyboard)
        # what the command line names and no edit of the storyboard can mend (a symlink loop, a device as -o):
        # exit 2 now, not an error on every update of a loop that waits for a fix that cannot come
        output, cache = output_and_cache(self.request, self.storyboard.parent)
        check_outputs(output, self.storyboard, cache, ())
        self.report = report
        self.debug = debug
        self.files: set[Path] = {self.storyboard}
        self.rendered: dict[Path, Stamp] = {}  # the files' stamps when the last update started
        self.lines: dict[tuple[str, int], str] = {}
        self.count = 0
        self.stop = threading.Event()

    # --- what is watched ---------------------------------------------------------------------------

    def _load(self) -> Any:
        """Load the storyboard (raises its located problems) and note the files it draws from."""

        r = self.request
        sb = load_storyboard(self.storyboard, r.cameo_dirs, r.policy, r.allow_assets)
        files = {self.storyboard, *(Path(os.path.abspath(p)) for p in asset_files(sb, r.cameo_dirs))}
        if r.policy:
            files.add(Path(os.path.abspath(r.policy)))
        if (profile := profile_file(sb.output.profile, self.storyboard.parent)) is not None:  # the checks read it
            files.add(Path(os.path.abspath(profile)))
        self.files = files
        return sb

    def folders(self) -> list[str]:
        return sorted({str(p.parent) for p in self.files if p.parent.is_dir()})

    def stamps(self) -> dict[Path, Stamp]:
        return {p: stamp(p) for p in self.files}

    # --- one update ----------------------------------------------------------------------------------

    def update(self, changed: Iterable[Path]) -> Update:
        """Render once (or report why not); the film is replaced only by a render that succeeded."""
        self.count += 1
        started = time.perf_counter()
        names = sorted(_name(p, self.storyboard.parent) for p in changed)
        # when the newest change happened: the change time, which a move, a copy keeping times or `touch -d`
        # sets to the moment they ran (the modification time they set can be years old, or in the future)
        saved = max((s[-1] / 1e9 for p in changed if (s := stamp(p))), default=None)
        cpu = _cpu()
        before = self.stamps()
        self.rendered = before
        result = Update(self.count, False, names, 0.0)
        try:
            sb = self._load()
            self.rendered = {**self.stamps(), **before}  # files the storyboard names now, as of this update
            report = render_film(self.request)
        except StoryboardError as exc:
            result.problems = [str(p) for p in exc.problems]
        except UsageError as exc:
            result.error = one_line(str(exc))
        except SoraError as exc:  # a tool's stderr lines after its headline, on the update's one line
            head, *tail = detail_lines(str(exc))
            result.error = " ".join([head, "; ".join(line.strip() for line in tail)]) if tail else head
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # a bug: one line (the traceback with --debug), and the loop goes on
            if self.debug:
                raise
            result.error = internal_error(exc)
        else:
            lines = _dialogue(sb)
            result.ok = True
            result.film = report["output"]["file"]
            result.rendered, result.reused = list(report["rendered"]), list(report["reused"])
            result.lines = [v.split("\0")[0] for k, v in lines.items() if self.count > 1 and self.lines.get(k) != v]
            result.sound = "reused" if report["sound"].get("reused") else "mixed"
            if "qc" in report:
                result.qc = bool(report["qc"]["passed"])
                result.failed = [
                    f"{c['id']}: {c.get('value')} (limit {c.get('limit')})"
                    for c in report["qc"]["checks"]
                    if not c["passed"]
                ]
            self.lines = lines
            if saved is not None and self.count > 1:
                result.since_save = max(0.0, time.time() - saved)
        result.seconds = time.perf_counter() - started
        result.cpu_seconds = _cpu() - cpu
        self.report(result)
        return result

    def catch_up(self, changed: Iterable[Path]) -> None:
        """Render for ``changed``, then again for as long as files were saved during the render."""
        changed = set(changed)
        while changed:
            self.update(changed)
            now = self.stamps()
            changed = {p for p, s in now.items() if s != self.rendered.get(p)}

    # --- the loop ------------------------------------------------------------------------------------

    def run(self) -> None:
        """Render, then re-render on every change until :attr:`stop` is set (or Ctrl-C)."""
        from watchfiles import watch

        self.catch_up({self.storyboard})
        while not self.stop.is_set():
            folders = self.folders()
            wanted = self.files

            def keep(change: Any, path: str, wanted: set[Path] = wanted) -> bool:
                return Path(os.path.abspath(path)) in wanted

            for _ in watch(
                *folders,
                watch_filter=keep,
                debounce=GROUP_MS,
                step=QUIET_MS,
                stop_event=self.stop,
                rust_timeout=SETTLE_MS,
                yield_on_timeout=True,  # the files are compared on every wake-up, events or not
                recursive=False,
                raise_interrupt=True,
            ):
                now = self.stamps()
                changed = {p for p, s in now.items() if s != self.rendered.get(p)}
                if changed:
                    self.catch_up(changed)
                if self.files != wanted:
                    break  # the storyboard names other files now: watch their folders


def _cpu() -> float:
    """Processor seconds used so far by this process and its reaped children (pool workers, ffmpeg).

    On a shared machine the wall time of an update says as much about the neighbours as about
    sora; the processor time it took does not.
    """
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _name(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def describe(update: Update) -> str:
    """One human line for an update that rendered."""
    redrawn = ", ".join(update.rendered) if update.rendered else "none"
    text = (
        f"update {update.number}: {update.film} in {update.seconds:.2f} s"
        + (f" ({update.since_save:.2f} s after the save)" if update.since_save is not None else "")
        + f"; shots redrawn: {redrawn} ({len(update.reused)} reused); sound {update.sound}"
        + f"; {update.cpu_seconds:.2f} s of processor time"
    )
    if update.qc is not None:
        text += "; checks passed" if update.qc else f"; CHECKS FAILED ({len(update.failed)})"
    for failure in update.failed:
        text += f"\n  failed: {failure}"
    if update.changed:
        text += f"\n  changed: {', '.join(update.changed)}"
    for line in update.lines:
        text += f"\n  line: {line}"
    return text
