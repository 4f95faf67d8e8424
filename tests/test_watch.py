"""``sora watch``: a real watch loop in a subprocess, edited the way an editor saves."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from tests.conftest import ROOT, decode_video

STORYBOARD = """\
version: 1
title: Watched
output: {{width: 192, height: 108, fps: 12}}
world:
  location: "a city street"
  characters:
    kim: {{description: "courier in green"}}
audio:
  music: {{file: tune.wav, gain: -20}}
shots:
  - id: one
    duration: 1.5
    cast: [kim]
    action: "Kim waits"
    dialogue:
      - {{speaker: kim, line: "Hello there."}}
  - id: two
    duration: {duration}
    action: "The street"
    set: {{time_of_day: {time}}}
"""


def save(path: Path, text: str) -> None:
    """As editors do: write a temp file, then rename it over the storyboard."""
    tmp = path.with_name(".sb.yaml.swp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Watcher:
    """``sora watch --json`` in a subprocess; its updates (JSON lines) and stderr read by threads."""

    def __init__(self, storyboard: Path, tmpdir: Path):
        env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sora_cli", "watch", str(storyboard), "--json", "--jobs", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.updates: queue.Queue = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.updates.put), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr.append), daemon=True).start()

    @staticmethod
    def _read(stream, put) -> None:
        for line in stream:
            put(line)

    def next_update(self) -> dict:
        # generous: the machine is shared; this bounds a hang, it does not measure speed
        return json.loads(self.updates.get(timeout=180))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=60)


def write_tune(path: Path, hz: float) -> None:
    """A second of a sine, as a 16-bit WAV (written beside, then renamed over the old one)."""
    import wave

    t = np.arange(48000) / 48000
    tmp = path.with_name(f".{path.name}.part")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes((np.sin(2 * np.pi * hz * t) * 12000).astype("<i2").tobytes())
    os.replace(tmp, path)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_watch_rerenders_the_edited_shot_survives_errors_and_stops_cleanly(tmp_path: Path) -> None:
    folder, tmpdir = tmp_path / "film", tmp_path / "tmp"
    folder.mkdir()
    tmpdir.mkdir()
    sb = folder / "sb.yaml"
    write_tune(folder / "tune.wav", 440)
    save(sb, STORYBOARD.format(duration=1.5, time="day"))
    film = folder / "sb.draft.mp4"
    watcher = Watcher(sb, tmpdir)
    try:
        first = watcher.next_update()
        assert first["ok"] and sorted(first["rendered"]) == ["one", "two"], first
        before = decode_video(film)
        shot_one = round(1.5 * 12)

        save(sb, STORYBOARD.format(duration=1.5, time="night"))
        edited = watcher.next_update()
        assert edited["ok"] and edited["rendered"] == ["two"] and edited["reused"] == ["one"], edited
        assert edited["changed"] == ["sb.yaml"] and edited["sound"] == "reused"
        after = decode_video(film)
        assert len(after) == len(before)
        # the first shot is the same picture; the edited one is not
        assert all(np.array_equal(a, b) for a, b in zip(before[:shot_one], after[:shot_one], strict=True))
        assert any(not np.array_equal(a, b) for a, b in zip(before[shot_one:], after[shot_one:], strict=True))

        good = digest(film)
        save(sb, STORYBOARD.format(duration=-1, time="night"))
        broken = watcher.next_update()
        assert not broken["ok"]
        assert any(p.startswith(f"{sb}:18:15: shots[1].duration:") for p in broken["problems"]), broken
        assert digest(film) == good  # the last good film stays

        save(sb, STORYBOARD.format(duration=1.5, time="dusk"))
        fixed = watcher.next_update()
        assert fixed["ok"] and fixed["rendered"] == ["two"], fixed
        assert digest(film) != good and len(decode_video(film)) == len(before)

        pictured = decode_video(film)
        write_tune(folder / "tune.wav", 330)  # an asset the storyboard names: the sound is mixed again
        retuned = watcher.next_update()
        assert retuned["ok"] and retuned["changed"] == ["tune.wav"] and retuned["rendered"] == [], retuned
        assert retuned["sound"] == "mixed"
        assert all(np.array_equal(a, b) for a, b in zip(pictured, decode_video(film), strict=True))
    finally:
        code = watcher.stop()
    stderr = "".join(watcher.stderr)
    assert f"{sb}:18:15: shots[1].duration:" in stderr and "the last good film stays" in stderr
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert not [p for p in folder.rglob("*") if p.name.endswith(".part")]  # no temp file left behind
    assert list(tmpdir.iterdir()) == []  # no scratch left behind


def test_watch_with_checks_says_which_failed_and_watches_the_profile_file(tmp_path: Path) -> None:
    """--qc: each update carries the checks' verdict (a draft that fails them says so, and which);
    the profile file the storyboard names is watched like an asset."""
    from sora_cli.film import RenderRequest
    from sora_cli.watch import Watch, describe

    (tmp_path / "p.yaml").write_text("base: web\nname: strict\npicture: {luma_range: [200, 246]}\n")
    write_tune(tmp_path / "tune.wav", 440)
    sb = tmp_path / "sb.yaml"
    save(sb, STORYBOARD.format(duration=1.0, time="day").replace("fps: 12}", "fps: 12, profile: p.yaml}"))
    got: list = []
    watch = Watch(RenderRequest(sb, draft=True, jobs=1, qc=True), got.append)
    update = watch.update({sb})
    assert update.ok and update.qc is False
    assert any(f.startswith("picture.legal_range: ") for f in update.failed)
    assert "CHECKS FAILED" in describe(update) and json.loads(json.dumps(update.to_json()))["qc"] is False
    assert (tmp_path / "p.yaml").resolve() in watch.files


def test_a_storyboard_error_from_a_broken_yaml_file_it_names_reads_as_one_line_not_literal_escapes(
    tmp_path: Path,
) -> None:
    """A profile file (``output.profile``) or a ``--policy`` file with a YAML syntax error: the located problem
    says where in that file, on one line, without PyYAML's multi-line text escaped into literal ``\\n``."""
    from sora_cli.api import RenderRequest, Watch
    from tests.conftest import run_cli

    (tmp_path / "prof.yaml").write_text("base: web\nloudness: {target: -14\n")
    (tmp_path / "policy.yaml").write_text("rules: [\n")
    sb = tmp_path / "sb.yaml"
    sb.write_text(
        "version: 1\ntitle: x\noutput: {width: 192, height: 108, fps: 12, profile: prof.yaml}\n"
        "world: {location: a field}\nshots: [{id: a, duration: 1}]\n"
    )
    updates: list = []
    Watch(RenderRequest(storyboard=sb, draft=True, jobs=1), updates.append).update({sb})
    line = json.loads(json.dumps(updates[0].to_json()))  # as --json prints it
    assert not line["ok"] and len(line["problems"]) == 1, line
    said = "the profile file prof.yaml is not valid YAML: line 3, column 1: expected ',' or '}'"
    assert said in line["problems"][0] and "\\" not in line["problems"][0], line
    rendered = run_cli("render", str(sb), "--quiet")
    assert rendered.code == 2 and said in rendered.stderr and "\\n" not in rendered.stderr, rendered.stderr
    sb.write_text(sb.read_text().replace(", profile: prof.yaml", ""))
    policed = run_cli("render", str(sb), "--quiet", "--policy", str(tmp_path / "policy.yaml"))
    assert policed.code == 2 and "is not valid YAML: line 2, column 1: " in policed.stderr, policed.stderr
    assert "\\n" not in policed.stderr and len(policed.stderr.splitlines()) == 1, policed.stderr


def test_a_tool_failure_in_an_update_is_one_line_without_literal_escapes(tmp_path: Path, monkeypatch) -> None:
    from sora_cli import watch
    from sora_cli.api import RenderRequest, Watch
    from sora_cli.errors import SoraError

    def fails(*_a, **_k):
        raise SoraError("ffmpeg failed while stitching:\nfilm.mp4: No space left on device\nConversion failed!\n")

    monkeypatch.setattr(watch, "render_film", fails)
    sb = tmp_path / "sb.yaml"
    sb.write_text("version: 1\ntitle: x\nworld: {location: a field}\nshots: [{id: a, duration: 1}]\n")
    updates: list = []
    Watch(RenderRequest(storyboard=sb, draft=True, jobs=1), updates.append).update({sb})
    said = "ffmpeg failed while stitching: film.mp4: No space left on device; Conversion failed!"
    assert updates[0].error == said, updates[0]


def test_watch_refuses_an_output_no_edit_can_mend_and_says_when_there_is_no_film_yet(tmp_path: Path) -> None:
    """``-o`` through a symlink loop is exit 2 at once (the loop waited for ever for a change that could not
    mend it); a first update that fails says there is no film yet, not that "the last good film" stays."""
    from tests.conftest import run_cli

    sb = tmp_path / "sb.yaml"
    write_tune(tmp_path / "tune.wav", 440)
    save(sb, STORYBOARD.format(duration=-1, time="day"))
    os.symlink("l2", tmp_path / "l1")
    os.symlink("l1", tmp_path / "l2")
    refused = run_cli("watch", str(sb), "-o", str(tmp_path / "l1" / "x.mp4"))
    assert refused.code == 2 and "a symlink loop" in refused.stderr, refused.stderr
    watcher = Watcher(sb, tmp_path)
    try:
        first = watcher.next_update()
        assert not first["ok"] and first["problems"], first
        # the update's JSON comes before its lines on stderr: wait for them (a bound on a hang, not a timing)
        deadline = time.monotonic() + 60
        while "waiting for a fix" not in "".join(watcher.stderr) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert watcher.stop() == 130
    said = "".join(watcher.stderr)
    assert "no film yet, waiting for a fix" in said and "last good film" not in said, said


def test_the_time_since_the_save_of_a_file_moved_in_with_an_old_time_counts_from_when_it_was_last_seen(
    tmp_path: Path, monkeypatch
) -> None:
    """A file moved into place (or copied with its times kept) carries an old modification time: the update
    said it came 91664201 s after the save. It cannot have come before the watcher last read the files."""
    from sora_cli import watch
    from sora_cli.api import RenderRequest, Watch

    made = {"output": {"file": str(tmp_path / "sb.draft.mp4")}, "rendered": [], "reused": ["a"], "sound": {}}
    monkeypatch.setattr(watch, "render_film", lambda *_a, **_k: made)
    sb = tmp_path / "sb.yaml"
    sb.write_text("version: 1\ntitle: x\nworld: {location: a field}\nshots: [{id: a, duration: 1}]\n")
    updates: list = []
    loop = Watch(RenderRequest(storyboard=sb, draft=True, jobs=1), updates.append)
    loop.update({sb})
    moved = tmp_path / "elsewhere.yaml"
    moved.write_text(sb.read_text().replace("a field", "a meadow"))
    os.utime(moved, (1_000_000_000, 1_000_000_000))  # 2001
    os.replace(moved, sb)
    loop.update({sb})
    assert updates[1].ok and updates[1].since_save is not None
    assert 0 <= updates[1].since_save < 3600, updates[1]
    os.utime(sb, (4_000_000_000, 4_000_000_000))  # an hour... a century ahead: never a negative figure
    loop.update({sb})
    assert 0 <= updates[2].since_save < 3600, updates[2]


def test_a_file_rewritten_in_place_with_its_time_set_back_is_seen_to_change(tmp_path: Path) -> None:
    """The same inode, size and modification time (`cp -p` over it, or a rewrite then `touch -d`): the watcher
    compared those alone and never updated, leaving the old take in the draft (second tester)."""
    from sora_cli.watch import stamp

    take = tmp_path / "take.wav"
    take.write_bytes(b"a" * 64)
    os.utime(take, (1_700_000_000, 1_700_000_000))
    before = stamp(take)
    inode = take.stat().st_ino
    time.sleep(0.05)  # (a change time moves with the kernel's clock tick: one tick at least between the two)
    with open(take, "r+b") as fh:
        fh.write(b"b" * 64)
    os.utime(take, (1_700_000_000, 1_700_000_000))
    assert take.stat().st_ino == inode and take.stat().st_mtime_ns == 1_700_000_000_000_000_000
    assert stamp(take) != before
