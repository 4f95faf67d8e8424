"""What a render may write, where, and what a killed render leaves behind (real files, real kills)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sora_cli import outputs
from sora_cli.atomic import sweep_stale
from sora_cli.fonts import fallback_chain
from sora_cli.provenance import verify
from sora_cli.scratch import NAME
from tests.conftest import render, run_cli

TWO = """\
version: 1
title: Two shots
output: {width: 160, height: 96, fps: 12, subtitles: [sidecar]}
world:
  location: "a city street"
  characters:
    kim: {description: "courier in green"}
audio: {ambience: none}
shots:
  - {id: a, duration: 1, cast: [kim], dialogue: [{speaker: kim, line: "LINE"}]}
  - {id: b, duration: 1, cast: [kim], continuity: continue}
  - {id: c, duration: 1, cast: [kim]}
"""


def write(folder: Path, line: str = "Hello.", name: str = "film.yaml") -> Path:
    path = folder / name
    path.write_text(TWO.replace("LINE", line))
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def sora(args: list[str], cwd: Path, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sora_cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        **kw,
    )


def complete_set(film: Path) -> dict:
    """The folder holds one render's whole set: every file matches the report's digests, the film is signed."""
    report = json.loads(outputs.set_paths(film)["report"].read_text())
    assert set(report["set"]) == {Path(p).name for k, p in report["outputs"].items() if k != "media"}
    for name, digest in report["set"].items():
        assert sha(film.with_name(name)) == digest, name
    assert verify(film).state in ("Trusted", "Valid")
    for role in ("srt", "vtt", "otio", "media"):
        assert outputs.set_paths(film)[role].exists() == (role in report["outputs"]), role
    assert not list(film.parent.glob(".*.sora-publish"))
    return report


# --- -o and preflight -------------------------------------------------------------------------


def _refused(result, *words: str) -> None:
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_output_that_is_not_a_regular_file_is_refused_before_drawing(tmp_path):
    path = write(tmp_path)
    (tmp_path / "node.mp4").symlink_to("/dev/null")  # a character device, reached safely through a link
    os.mkfifo(tmp_path / "pipe.mp4")
    (tmp_path / "folder.mp4").mkdir()
    for name, kind in (("node.mp4", "character device"), ("pipe.mp4", "FIFO"), ("folder.mp4", "folder")):
        _refused(run_cli("render", str(path), "-q", "-o", str(tmp_path / name)), kind, "regular file")
    assert (tmp_path / "node.mp4").is_symlink() and os.readlink(tmp_path / "node.mp4") == "/dev/null"
    assert (tmp_path / "folder.mp4").is_dir() and not any((tmp_path / "folder.mp4").iterdir())
    assert not (tmp_path / ".sora-cache" / "shots").exists()  # nothing was drawn


def test_output_onto_the_storyboard_the_cache_or_a_cameo_library_is_refused(tmp_path):
    path = write(tmp_path)
    before = path.read_bytes()
    _refused(run_cli("render", str(path), "-q", "-o", str(path)), "storyboard itself")
    assert path.read_bytes() == before
    (tmp_path / ".sora-cache").mkdir()
    _refused(run_cli("render", str(path), "-q", "-o", str(tmp_path / ".sora-cache" / "x.mp4")), "inside the cache")
    (tmp_path / "cameos").mkdir()
    _refused(run_cli("render", str(path), "-q", "-o", str(tmp_path / "cameos" / "x.mp4")), "cameo library")
    # the storyboard is also a file of the set when -o shares its stem: film.yaml is not, but a report name is
    report_named = tmp_path / "cut.report.json"
    report_named.write_text("{}")
    os.mkfifo(tmp_path / "cut.srt")
    _refused(run_cli("render", str(path), "-q", "-o", str(tmp_path / "cut.mp4")), "the srt file")


def test_preflight_folders_and_free_space_before_drawing(tmp_path, monkeypatch):
    path = write(tmp_path)
    (tmp_path / "plain").write_text("a file")
    _refused(run_cli("render", str(path), "-q", "-o", str(tmp_path / "plain" / "film.mp4")), "not a folder")
    _refused(run_cli("render", str(path), "-q", "--cache-dir", str(tmp_path / "plain" / "cache")), "cache folder")
    asked: list[Path] = []

    def tiny_disk(folder: Path) -> int:
        asked.append(folder)
        return 10 << 20

    monkeypatch.setattr(outputs, "free_bytes", tiny_disk)
    _refused(run_cli("render", str(path), "-q"), "not enough free space", "MB free")
    assert asked and not (tmp_path / ".sora-cache" / "shots").exists() and not (tmp_path / "film.mp4").exists()
    monkeypatch.setattr(outputs, "free_bytes", lambda folder: 1 << 40)
    assert run_cli("render", str(path), "-q", "--jobs", "1").code == 0


# --- the set appears whole and signed ---------------------------------------------------------


def test_a_film_appears_only_complete_and_signed(tmp_path):
    path = write(tmp_path)
    killed = sora(["render", str(path), "-q", "--jobs", "1"], tmp_path, {"SORA_FAULT": "before-publish"})
    assert killed.returncode == -signal.SIGKILL
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("film.") and p.suffix != ".yaml"]
    done = sora(["render", str(path), "-q", "--jobs", "1"], tmp_path)
    assert done.returncode == 0 and done.stderr == "" and done.stdout == ""  # --quiet: nothing at all
    report = complete_set(tmp_path / "film.mp4")
    assert len(report["reused"]) == 3  # the killed render's shots were kept
    assert not [p for p in tmp_path.iterdir() if ".sora-" in p.name and p.name.endswith(".part")]


def test_a_large_film_is_signed_apart_and_a_signing_failure_reaches_the_user(tmp_path, monkeypatch):
    """Above APART_BYTES the film is signed and read back by a fresh interpreter: same manifest, same state."""
    from sora_cli import provenance

    path = write(tmp_path)
    monkeypatch.setattr(provenance, "APART_BYTES", 0)
    calls: list[list[str]] = []
    real = subprocess.run
    monkeypatch.setattr(provenance.subprocess, "run", lambda cmd, **kw: calls.append(cmd) or real(cmd, **kw))
    report = render(path)
    assert len([c for c in calls if c[:2] == [sys.executable, "-P"]]) == 1  # signed by the child, not in process
    assert report["provenance"]["c2pa"] in ("Trusted", "Valid")
    assert verify(tmp_path / "film.mp4").summary().facts["storyboard_sha256"] == report["provenance"]["storyboard_sha256"]
    monkeypatch.setattr(provenance.subprocess, "run", real)
    (tmp_path / "bad.key").write_text("not a key")
    monkeypatch.setenv("SORA_C2PA_KEY", str(tmp_path / "bad.key"))
    monkeypatch.setenv("SORA_C2PA_CERTS", str(tmp_path / "bad.key"))
    before = sha(tmp_path / "film.mp4")
    with pytest.raises(provenance.SoraError) as failed:
        provenance.sign_and_verify(tmp_path / "film.mp4", "t", False, {})
    assert "Traceback" not in str(failed.value) and str(failed.value)
    assert sha(tmp_path / "film.mp4") == before  # the failed signing left the film as it was
    monkeypatch.delenv("SORA_C2PA_KEY")
    monkeypatch.delenv("SORA_C2PA_CERTS")
    monkeypatch.setenv("SORA_FAULT", "signing")  # the signer killed (kill -9, the OOM killer) half-way
    with pytest.raises(provenance.SoraError, match="killed by signal 9"):
        provenance.sign_and_verify(tmp_path / "film.mp4", "t", False, {})
    assert sha(tmp_path / "film.mp4") == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]  # its half-written film is gone


def test_the_signing_child_spills_the_film_it_builds_to_disk_and_signs_the_same_bytes(tmp_path, monkeypatch):
    """``spill``: c2pa-rs builds the signed film in a temporary file, not in memory; the film is signed alike.

    The spill is seen by where it goes: with ``$TMPDIR`` missing, only a spilling signer fails.
    """
    import imageio_ffmpeg

    from sora_cli import provenance

    film = tmp_path / "plain.mp4"
    chain = ["-f", "lavfi", "-i", "testsrc2=size=160x96:rate=12", "-t", "1", "-pix_fmt", "yuv420p", str(film)]
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", *chain], check=True)
    monkeypatch.setattr(provenance, "SPILL_MB", 0)  # this small film spills too
    signed = {}
    for spill in (False, True):
        copy = tmp_path / f"signed-{spill}.mp4"
        copy.write_bytes(film.read_bytes())
        monkeypatch.setenv("TMPDIR", str(tmp_path / "missing"))
        if spill:
            with pytest.raises(provenance.SoraError, match="No such file"):
                provenance.sign_film(copy, "t", False, {"seed": 1}, spill=True)
            assert copy.read_bytes() == film.read_bytes()  # left as it was
            monkeypatch.setenv("TMPDIR", str(tmp_path))
        provenance.sign_film(copy, "t", False, {"seed": 1}, spill=spill)
        assert verify(copy).state in ("Trusted", "Valid")
        signed[spill] = provenance.media_digest(copy)
    assert signed[True] == signed[False]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.mp4", "signed-False.mp4", "signed-True.mp4"]


def test_a_renders_checks_take_the_c2pa_state_it_read_back_and_sora_qc_reads_the_same(tmp_path, monkeypatch):
    """The render verified the film it signed: its checks report that state without reading the manifest again."""
    from sora_cli.qc import container, profile_for, run_qc

    class Reread(BaseException):  # (not an Exception: the checks would report it as a reader's failure)
        pass

    def reread(path):
        raise Reread(f"the checks read the manifest of {path} again")

    monkeypatch.setattr(container, "verify", reread)
    report = render(write(tmp_path))
    c2pa = next(c for c in report["qc"]["checks"] if c["id"] == "container.c2pa")
    assert c2pa["passed"] and c2pa["value"] == report["provenance"]["c2pa"] in ("Trusted", "Valid")
    monkeypatch.setattr(container, "verify", verify)
    alone = run_qc(tmp_path / "film.mp4", profile_for(None, None)).to_json()["checks"]
    assert next(c for c in alone if c["id"] == "container.c2pa") == c2pa


def test_a_render_signs_while_its_checks_measure_and_the_container_checks_read_the_signed_film(tmp_path, monkeypatch):
    """Signing overlaps the picture and sound checks (which signing cannot change); the checks of the file's
    boxes and manifest wait for it, and a signing failure is still the render's, with nothing published."""
    import sora_cli.qc as qc
    from sora_cli import film as film_module

    events: list[str] = []
    signing, picture, container = film_module.sign_and_verify, qc.picture_checks, qc.container_checks

    def sign(path, *args):
        events.append("signing")
        state = signing(path, *args)
        events.append("signed")
        return state

    def measure(path, *args):
        events.append("picture measured")
        return picture(path, *args)

    def boxes(path, profile, state):
        assert verify(path).state == state in ("Trusted", "Valid"), "the container checks read the signed film"
        events.append("container checked")
        return container(path, profile, state)

    monkeypatch.setattr(film_module, "sign_and_verify", sign)
    monkeypatch.setattr(qc, "picture_checks", measure)
    monkeypatch.setattr(qc, "container_checks", boxes)
    report = render(write(tmp_path))
    assert all(c["passed"] for c in report["qc"]["checks"] if c["id"].startswith("container."))
    assert events.index("signing") < events.index("container checked")
    assert events.index("signed") < events.index("container checked")
    assert "picture measured" in events

    def refuse(path, *args):
        raise film_module.SoraError("signing the C2PA manifest failed: refused for the test")

    monkeypatch.setattr(film_module, "sign_and_verify", refuse)
    out = run_cli("render", str(write(tmp_path, "Bye now.")), "-q", "-o", str(tmp_path / "other.mp4"))
    assert out.code == 1 and "refused for the test" in out.stderr
    assert not (tmp_path / "other.mp4").exists()


@pytest.mark.parametrize("moment", ["publish-journal@TERM", "publish-film@TERM"])
def test_a_stop_while_switching_sets_finishes_the_switch_first(tmp_path, moment):
    """SIGTERM (or Ctrl-C) once the journal is written: the switch is decided, so it is finished before the render
    stops. It used to stop half-way: the new report beside the old film, and a journal naming a film's temp file
    that the stop had removed (tester)."""
    path = write(tmp_path, "Hello.")
    render(path)
    old = complete_set(tmp_path / "film.mp4")
    write(tmp_path, "Bye now.")
    stopped = sora(["render", str(path), "-q", "--jobs", "1"], tmp_path, {"SORA_FAULT": moment})
    assert stopped.returncode == 130, stopped.stderr
    assert not list(tmp_path.glob(".film.mp4.sora-publish")) and not list(tmp_path.glob(".*.part"))
    new = complete_set(tmp_path / "film.mp4")
    assert new["set"] != old["set"] and "Bye now." in (tmp_path / "film.srt").read_text()


@pytest.mark.parametrize("moment", ["before-publish", "publish-journal", "publish-film"])
def test_kill_while_switching_sets_leaves_the_old_set_or_the_new_one(tmp_path, moment):
    path = write(tmp_path, "Hello.")
    render(path)
    old = complete_set(tmp_path / "film.mp4")
    write(tmp_path, "Bye now.")  # a new line: new subtitles, new soundtrack, same pictures
    killed = sora(["render", str(path), "-q", "--jobs", "1"], tmp_path, {"SORA_FAULT": moment})
    assert killed.returncode == -signal.SIGKILL
    if moment == "before-publish":  # nothing switched: the old set, whole
        assert complete_set(tmp_path / "film.mp4") == old
    else:  # the journal exists: the next sora run in that folder finishes the switch first
        assert list(tmp_path.glob(".film.mp4.sora-publish"))
        assert outputs.recover(tmp_path / "film.mp4")
        new = complete_set(tmp_path / "film.mp4")
        assert new["set"] != old["set"] and "Bye now." in (tmp_path / "film.srt").read_text()
    rerun = render(path)
    assert len(rerun["reused"]) == 3
    complete_set(tmp_path / "film.mp4")


def test_files_of_the_old_set_that_the_new_one_lacks_are_removed_with_the_switch(tmp_path):
    path = write(tmp_path)
    render(path)
    assert (tmp_path / "film.srt").exists()
    path.write_text(path.read_text().replace("subtitles: [sidecar]", "subtitles: [soft]"))
    render(path)
    assert not (tmp_path / "film.srt").exists() and not (tmp_path / "film.vtt").exists()
    complete_set(tmp_path / "film.mp4")


# --- temp files, scratch, processes, modes ----------------------------------------------------


def test_sweep_removes_only_sora_temp_names_of_dead_writers_and_never_recurses(tmp_path):
    pid = dead_pid()
    (tmp_path / "sub").mkdir()
    user = [tmp_path / ".holiday.2019.part", tmp_path / "sub" / ".holiday.2019.part", tmp_path / f".x.{pid}.part"]
    nested = tmp_path / "sub" / f".film.mp4.sora-{pid}-abcd1234.mp4.part"
    stale = tmp_path / f".film.mp4.sora-{pid}-abcd1234.mp4.part"
    live = tmp_path / f".film.mp4.sora-{os.getpid()}-abcd1234.mp4.part"
    for p in [*user, nested, stale, live]:
        p.write_text("x")
    assert sweep_stale(tmp_path) == 1
    assert not stale.exists()
    assert all(p.exists() for p in [*user, nested, live])


def test_a_render_leaves_no_scratch_and_a_killed_ones_is_swept_next_time(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    path = write(tmp_path)
    path.write_text(path.read_text().replace("subtitles: [sidecar]", "subtitles: [sidecar, soft, burn]"))
    env = {"TMPDIR": str(scratch)}
    killed = sora(["render", str(path), "-q", "--jobs", "1"], tmp_path, {**env, "SORA_FAULT": "before-publish"})
    assert killed.returncode == -signal.SIGKILL
    left = [p for p in scratch.iterdir() if p.name.startswith("sora")]  # (libraries leave e.g. a .uuid file)
    assert left and all(NAME.match(p.name) for p in left)  # the killed render's scratch folder
    assert sum(f.stat().st_size for p in left for f in p.rglob("*") if f.is_file()) > 0
    done = sora(["render", str(path), "-q", "--jobs", "1"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert [p for p in scratch.iterdir() if p.name.startswith("sora")] == []  # swept at start, own removed at end


def _session_processes(sid: int) -> list[str]:
    """Live (not zombie) processes of a session, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(text.split(" ", 2)[1])
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
def test_workers_exit_when_the_render_is_killed(tmp_path):
    text = TWO.replace("continuity: continue", "action: walks").replace("duration: 1", "duration: 3")
    path = tmp_path / "film.yaml"
    path.write_text(text.replace("LINE", "Hi."))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sora_cli", "render", str(path), "-q", "--jobs", "2"],
        cwd=tmp_path,
        env={**os.environ, "SORA_FAULT": "chain-done"},  # the driver dies as soon as one chain is back
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert proc.wait(timeout=300) == -signal.SIGKILL
    deadline = time.monotonic() + 30  # the kernel's signal is immediate; this only bounds a hung test
    while _session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session_processes(proc.pid) == []


def test_files_are_created_with_the_users_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = write(tmp_path)
        render(path)
        for name in ("film.mp4", "film.report.json", "film.srt", "film.vtt"):
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name
        assert run_cli("init", str(tmp_path / "new")).code == 0
        made = [p for p in (tmp_path / "new").iterdir() if p.is_file()]
        assert made and all(p.stat().st_mode & 0o777 == 0o644 for p in made)
    finally:
        os.umask(old)


def test_sigterm_stops_a_render_and_cleans_up_like_ctrl_c(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    path = write(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sora_cli", "render", str(path), "-q", "--jobs", "1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(scratch), "SORA_FAULT": "shot-stored:2@TERM"},
        start_new_session=True,
    )
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130 and b"Traceback" not in err, err.decode()
    assert [p for p in scratch.iterdir() if p.name.startswith("sora")] == []
    assert not list(tmp_path.rglob("*.part")) and not (tmp_path / "film.mp4").exists()
    deadline = time.monotonic() + 30  # bounds a hung test only
    while _session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session_processes(proc.pid) == []


def test_an_in_process_render_leaves_the_sigterm_handler_as_it_found_it(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    assert run_cli("render", str(write(tmp_path)), "-q", "--jobs", "1").code == 0
    assert signal.getsignal(signal.SIGTERM) is before  # forked pools of the host program stay terminable


def test_the_first_interrupt_is_the_only_one_until_the_cleanup_it_started_is_done():
    """A second Ctrl-C (or SIGTERM) during the cleanup the first started is ignored: it used to cut the cleanup
    short, leaving a checks' temp file behind or ending in an internal error. The handlers are restored after."""
    from sora_cli.cli import _stops_cleanly

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    cleaned = False
    with pytest.raises(KeyboardInterrupt), _stops_cleanly():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # (interrupted at once)
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C, and a SIGTERM, during the cleanup
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            cleaned = True
    assert cleaned
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_nothing_reads_the_working_directory_a_fifo_there_cannot_stall_a_render(tmp_path):
    """fontconfig is given no font folder: sora's fonts are opened by path, so the folder a render
    starts in is never scanned (a FIFO below it used to block the render forever in FreeType's open)."""
    film = write(tmp_path)
    cwd = tmp_path / "work"
    (cwd / "deep" / "er").mkdir(parents=True)
    os.mkfifo(cwd / "deep" / "er" / "pipe")
    home = tmp_path / "home"
    result = sora(["render", str(film), "-o", str(tmp_path / "out.mp4"), "-q", "--no-qc"], cwd, {"HOME": str(home)})
    assert result.returncode == 0 and result.stderr == "", result.stderr
    cached = list((home / ".cache" / "sora-fontconfig").glob("*")) if (home / ".cache").exists() else []
    assert cached == []  # no folder was scanned, so fontconfig cached none


def test_a_write_through_a_symlink_and_dotdot_is_staged_where_it_lands(tmp_path, monkeypatch):
    """``link/../name``: the temp file is made in the folder the final rename lands in (the link target's
    parent, as the kernel resolves it), not in the folder that holds ``link`` (tempfile's textual ``..``), so
    the rename never crosses folders or disks, and an atomic write and a staged set both leave no temp behind."""
    from sora_cli.atomic import atomic_write_text

    work, target = tmp_path / "work", tmp_path / "elsewhere" / "deep"
    work.mkdir()
    target.mkdir(parents=True)
    (work / "link").symlink_to(target)
    monkeypatch.chdir(work)
    atomic_write_text(Path("link/../note.txt"), "hello")
    publisher = outputs.Publisher(Path("link/../film.mp4"))
    staged = publisher.stage(Path("link/../film.mp4"))
    assert staged.parent.resolve() == target.parent.resolve()
    staged.write_bytes(b"film")
    publisher.publish()
    landed = tmp_path / "elsewhere"
    assert (landed / "note.txt").read_text() == "hello" and (landed / "film.mp4").read_bytes() == b"film"
    assert sorted(p.name for p in landed.iterdir()) == ["deep", "film.mp4", "note.txt"]
    assert sorted(p.name for p in work.iterdir()) == ["link"]


def test_a_symlink_loop_in_any_path_a_command_takes_is_a_usage_error(tmp_path, monkeypatch):
    """Symlink loops (a chain of links that leads back to itself) where a path is taken: render's ``-o`` and
    ``--cache-dir``, ``board -o``, ``watch``'s storyboard, ``init``'s folder, and ``init`` under a file: exit
    2 with one line, before anything is made (they were internal errors: pathlib's "Symlink loop",
    FileExistsError, OSError ELOOP; a board silently replaced a link to itself)."""
    monkeypatch.chdir(tmp_path)
    Path("film.yaml").write_text(
        "version: 1\ntitle: Loop\noutput: {width: 192, height: 108, fps: 12}\n"
        "world: {location: a field}\nshots:\n  - {id: a, duration: 1}\n"
    )
    os.symlink("l2", "l1")
    os.symlink("l1", "l2")
    for name in ("self.mp4", "self.png", "me.yaml"):
        os.symlink(name, name)
    Path("afile").write_text("")
    for args, said in (
        (["render", "film.yaml", "-o", "l1/x.mp4"], "-o l1/x.mp4: a symlink loop"),
        (["render", "film.yaml", "-o", "self.mp4"], "-o self.mp4: a symlink loop"),
        (["render", "film.yaml", "-o", "x.mp4", "--cache-dir", "l1"], "--cache-dir l1: a symlink loop"),
        (["board", "film.yaml", "-o", "l1/x.png"], "-o l1/x.png: a symlink loop"),
        (["board", "film.yaml", "-o", "self.png"], "-o self.png: a symlink loop"),
        (["watch", "me.yaml"], "me.yaml: a symlink loop"),
        (["init", "l1/p"], "l1/p: a symlink loop"),
        (["init", "afile/p"], "afile/p: cannot make the project's folders"),
    ):
        result = run_cli(*args, "--quiet") if args[0] == "render" else run_cli(*args)
        assert result.code == 2 and said in result.stderr and "internal error" not in result.stderr, result.stderr
    assert os.readlink("self.png") == "self.png"
    names = ["afile", "film.yaml", "l1", "l2", "me.yaml", "self.mp4", "self.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names


_UNDER_LIMIT = """
import resource, sys
from sora_cli.entry import main
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
sys.argv = ["sora", *sys.argv[2:]]
main()
"""


def _sora_under_limit(folder: Path, limit: int, *args: str) -> subprocess.CompletedProcess:
    """``sora ARGS`` with files limited to ``limit`` bytes (``ulimit -f``), from ``folder``."""
    return subprocess.run(
        [sys.executable, "-c", _UNDER_LIMIT, str(limit), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_storage_failures_under_a_render_name_the_file_it_was_writing(tmp_path):
    """``ulimit -f`` under a render (the kernel's SIGXFSZ kills an ffmpeg, Python's writes get EFBIG): one line
    ``sora: cannot write FILE: File too large``, exit 1, naming the file being written, never the temp name a
    set is staged under nor a source it was copied from (the shot encoder said 'ffmpeg failed ... killed by
    SIGXFSZ'; the film, its temp name; the burn's font copy, the installed font). Nothing is left behind."""
    board = (
        "version: 1\ntitle: Limit\noutput: {{width: 320, height: 180, fps: 12, subtitles: {subtitles}}}\n"
        "world: {{location: a harbour, weather: rain, characters: {{kim: {{description: a courier}}}}}}\n"
        'shots:\n  - {{id: a, duration: 3, cast: [kim], dialogue: [{{speaker: kim, line: "Hello there."}}]}}\n'
    )
    (tmp_path / "film.yaml").write_text(board.format(subtitles="sidecar"))
    (tmp_path / "burn.yaml").write_text(board.format(subtitles="burn"))
    shot = _sora_under_limit(tmp_path, 8192, "render", "film.yaml", "-o", "a.mp4", "--quiet")
    assert shot.returncode == 1, shot.stderr
    said = shot.stderr.strip().splitlines()
    assert len(said) == 1 and re.fullmatch(r"sora: cannot write \S+/shots/\w\w/\w{64}\.mp4: File too large", said[0])
    for sb in ("film.yaml", "burn.yaml"):
        assert run_cli("render", str(tmp_path / sb), "-o", str(tmp_path / f"{sb[0]}.mp4"), "--quiet").code == 0
    film = (tmp_path / "f.mp4").stat().st_size
    font = next(path for _, path in fallback_chain())  # (copied for the burn after the film's other scratch)
    assert film < font.stat().st_size // 2  # (the burn's scratch film fits under the limit that stops the font)
    cases = (("film.yaml", film // 2, str(tmp_path / "c.mp4")), ("burn.yaml", font.stat().st_size // 2, font.name))
    for sb, limit, named in cases:
        done = _sora_under_limit(tmp_path, limit, "render", sb, "-o", "c.mp4", "--quiet")
        said = done.stderr.strip().splitlines()
        assert done.returncode == 1 and len(said) == 1 and said[0].startswith("sora: cannot write "), done.stderr
        assert said[0].split("cannot write ")[1].split(": ")[0].endswith(named), said[0]
        assert "sora_cli" not in said[0]  # (not the installed font the copy was made from)
    board = _sora_under_limit(tmp_path, 1024, "board", "film.yaml", "-o", "sheet.png")  # (PIL's write names none)
    assert board.returncode == 1 and board.stderr.strip() == "sora: cannot write sheet.png: File too large"
    left = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".sora-cache"))
    assert left == ["b.mp4", "b.report.json", "burn.yaml", "f.mp4", "f.report.json", "f.srt", "f.vtt", "film.yaml"]


def test_an_ffmpeg_whose_disk_filled_says_which_file_it_could_not_write():
    """A full disk or quota under an ffmpeg is told as every storage failure is (ffmpeg's own five lines
    said 'Could not write header ... No space left on device'), of the file a temp name becomes; any other
    ffmpeg failure keeps its own words."""
    from sora_cli.ffmpeg import failure

    temp = Path("/films/.cut.mp4.sora-12-ab3d.mp4.part")
    said = "[out#0/mp4 @ 0x1] Could not write header (incorrect codec parameters ?): No space left on device\n"
    assert failure("muxing", 1, said, temp) == "cannot write /films/cut.mp4: No space left on device"
    assert failure("muxing", -25, "", Path("/films/x.m4a")) == "cannot write /films/x.m4a: File too large"
    assert failure("muxing", 1, "Disk quota exceeded", Path("x.mp4")) == "cannot write x.mp4: Disk quota exceeded"
    assert failure("muxing", 1, "Invalid data found", temp).startswith("ffmpeg failed while muxing:")
    assert failure("muxing", 1, said).startswith("ffmpeg failed while muxing:")  # (no file: its own words)


def test_a_failed_copy_is_said_of_the_file_it_was_writing_by_its_final_name():
    """shutil's copy names its source first and its destination second, and the destination is a temp file
    in the cache: the message names neither the source (sora only read it) nor the temp name (the second
    tester saw 'cannot write …/sound/.c94e….m4a.sora-29990-zbnadrhk.m4a.part: No space left on device')."""
    import errno

    from sora_cli.errors import internal_error

    copy = OSError(errno.ENOSPC, "No space left on device", "/tmp/scratch/soundtrack.m4a")
    copy.filename2 = "/cache/sound/.c94e.m4a.sora-29990-zbnadrhk.m4a.part"
    assert internal_error(copy) == "cannot write /cache/sound/c94e.m4a: No space left on device"
    plain = OSError(errno.EFBIG, "File too large", "/films/.cut.mp4.sora-7-abcd.mp4.part")
    assert internal_error(plain) == "cannot write /films/cut.mp4: File too large"


def test_an_encoder_that_fails_says_why_without_needing_the_temp_folder(tmp_path, monkeypatch):
    """A shot's encoder and the soundtrack's keep what ffmpeg says in memory: their stderr went to a temporary
    file, and with $TMPDIR full ffmpeg's words (a full disk's "No space left on device" among them) were lost,
    leaving "ffmpeg failed" and no reason. Here no temporary file can be made at all."""
    import tempfile

    import numpy as np

    from sora_cli.errors import SoraError
    from sora_cli.render.encode import FrameEncoder, VideoSettings
    from sora_cli.sound import mix

    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device", tempfile.gettempdir())

    monkeypatch.setattr(tempfile, "TemporaryFile", no_room)
    nowhere = tmp_path / "gone" / "shot.mp4"  # (its folder does not exist: ffmpeg cannot open it)
    encoder = FrameEncoder(nowhere, VideoSettings(64, 64, 12), [0], channels=3, label="shot a")
    with pytest.raises(SoraError) as shot:
        for _ in range(200):  # (until the pipe breaks: ffmpeg has given up)
            encoder.write(np.zeros((64, 64, 3), np.uint8))
        encoder.close()
    encoder.abort()
    assert "(shot a)" in str(shot.value) and "No such file or directory" in str(shot.value)
    with pytest.raises(SoraError) as sound:
        mix._encode_aac(iter([np.zeros((4800, 2), np.float32)]), tmp_path / "gone" / "sound.m4a")
    assert "encoding the soundtrack" in str(sound.value) and "No such file or directory" in str(sound.value)
    assert threading_leftovers() == []


def threading_leftovers() -> list[str]:
    """Threads of this process still draining an ffmpeg's stderr."""
    import threading

    return [t.name for t in threading.enumerate() if t.name == "sora-ffmpeg-stderr"]
