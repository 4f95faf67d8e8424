"""`sora render`: the finished film, decoded and measured."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from sora_cli.plan.resolve import make_plan
from sora_cli.provenance import media_digest
from sora_cli.render.encode import VideoSettings
from sora_cli.render.shots import longest_first, plan_jobs
from sora_cli.storyboard import parse_storyboard
from tests.conftest import EXAMPLES, decode_video, example_text, render, run_cli

SIX = """\
version: 1
title: Six shots
output: {width: 160, height: 96, fps: 12, subtitles: [sidecar, soft]}
world:
  location: "a city street"
  characters:
    kim: {description: "courier in green"}
    ann: {description: "baker in white"}
audio: {ambience: none}
shots:
  - {id: a, duration: 1, cast: [kim], action: "Kim walks"}
  - {id: b, duration: 1, cast: [kim, ann], continuity: continue}
  - {id: c, duration: 1, cast: [ann], dialogue: [{speaker: ann, line: "Hi."}]}
  - {id: d, duration: 1, cast: [ann], continuity: continue}
  - {id: e, duration: 1, cast: [kim], transition: {type: crossfade, duration: 0.5}}
  - {id: f, duration: 1, cast: [kim, ann]}
"""


def write(dir_: Path, text: str, name: str = "film.yaml") -> Path:
    path = dir_ / name
    path.write_text(text)
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_film_matches_the_plan(storyboard_dir):
    path = write(storyboard_dir, example_text("polar", width=192, height=108, fps=12))
    report = render(path)
    film = Path(report["output"]["file"])
    plan = make_plan(parse_storyboard(path.read_text(), str(path), storyboard_dir))
    with av.open(str(film)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert (v.codec_context.width, v.codec_context.height) == (192, 108)
        assert v.average_rate == 12
        assert a.rate == 48000 and a.channels == 2
        assert abs(float(c.duration / av.time_base) - plan.duration) <= 1 / 12 + 0.03
    frames = decode_video(film)
    assert len(frames) == plan.frames
    # the frame at each cut shot's planned start is that shot's own first frame
    cache = storyboard_dir / ".sora-cache"
    for shot in plan.shots:
        if shot.transition.frames:
            continue
        key = next(s["content_hash"] for s in report["shots"] if s["id"] == shot.id)
        own = decode_video(cache / "shots" / key[:2] / f"{key}.mp4")
        assert np.array_equal(frames[shot.start_frame], own[0]), shot.id
    assert Path(report["subtitles"]["files"]["srt"]).read_text().count("-->") == 2
    saved = json.loads((storyboard_dir / "film.report.json").read_text())
    assert saved["storyboard"]["sha256"] == plan.storyboard_hash and len(saved["shots"]) == 3


def test_editing_one_shot_rerenders_it_and_its_continuations(tmp_path):
    path = write(tmp_path, SIX)
    first = render(path)
    assert first["rendered"] == list("abcdef")
    path.write_text(
        SIX.replace(
            'cast: [ann], dialogue: [{speaker: ann, line: "Hi."}]',
            'cast: [ann], action: "Ann waves", dialogue: [{speaker: ann, line: "Hi."}]',
        )
    )
    second = render(path)
    assert second["rendered"] == ["c", "d"]  # c changed; d continues it
    assert second["reused"] == ["a", "b", "e", "f"]
    path.write_text(SIX.replace("id: f, duration: 1", "id: f, duration: 1.5"))
    third = render(path)
    assert third["rendered"] == ["f"]  # c and d are back to their first version, still in the cache


def test_only_forces_the_named_shots_and_their_continuations(tmp_path):
    path = write(tmp_path, SIX)
    render(path)
    again = render(path, only=("a", "e"))
    assert again["rendered"] == ["a", "b", "e"]


def test_renders_are_byte_identical_whatever_the_jobs(tmp_path):
    one = write(tmp_path, SIX, "one.yaml")
    r1 = render(one, jobs=1, use_cache=False)
    r2 = render(one, jobs=2, use_cache=False, output=tmp_path / "two.mp4")
    # C2PA salts its manifest at random (by the spec): everything else is byte-identical
    assert media_digest(Path(r1["output"]["file"])) == media_digest(Path(r2["output"]["file"]))
    assert sha(Path(r1["output"]["file"])) != sha(Path(r2["output"]["file"]))


def test_renders_are_byte_identical_with_and_without_the_cache_and_in_any_chain_order(tmp_path):
    """Chains go out longest first (not in film order); a cold and a warm cache give the same bytes as none."""
    text = SIX.replace("{id: c, duration: 1,", "{id: c, duration: 2,")  # the second chain is the longest
    one = write(tmp_path, text, "one.yaml")
    plain = media_digest(Path(render(one, jobs=1, use_cache=False)["output"]["file"]))
    plan = make_plan(parse_storyboard(text, "x", tmp_path))
    work = longest_first(plan_jobs(plan, {"name": "animatic"}, False, VideoSettings(160, 96, 12), set()))
    assert [job.shot.id for chain in work for job in chain] == ["c", "d", "a", "b", "e", "f"]
    cold = render(one, jobs=3, output=tmp_path / "cold.mp4")
    warm = render(one, jobs=2, output=tmp_path / "warm.mp4")
    assert cold["rendered"] and not warm["rendered"]  # the second render took every shot from the cache
    assert media_digest(Path(cold["output"]["file"])) == plain
    assert media_digest(Path(warm["output"]["file"])) == plain


def test_soft_subtitles_and_transitions(tmp_path):
    path = write(tmp_path, SIX)
    report = render(path)
    film = Path(report["output"]["file"])
    with av.open(str(film)) as c:
        assert [s.type for s in c.streams] == ["video", "audio", "subtitle"]
        texts = [bytes(p)[2:].decode() for p in c.demux(c.streams.subtitles[0]) if p.size > 2]
    assert texts == ["Hi."]
    frames = decode_video(film)
    plan = make_plan(parse_storyboard(SIX, "x", tmp_path))
    e = plan.shot("e")
    mid = frames[e.start_frame + e.transition.frames // 2]
    before, after = frames[e.start_frame - 1], frames[e.start_frame + e.transition.frames]
    # a crossfade frame lies between the two shots
    assert np.mean(np.abs(mid.astype(int) - before)) > 1 and np.mean(np.abs(mid.astype(int) - after)) > 1


def test_draft_is_smaller_and_keeps_the_full_cache(tmp_path):
    path = write(tmp_path, SIX.replace("width: 160, height: 96, fps: 12", "width: 320, height: 192, fps: 24"))
    full = render(path)
    draft = render(path, draft=True)
    assert (draft["output"]["width"], draft["output"]["fps"]) == (160, 12)
    assert draft["output"]["file"].endswith(".draft.mp4")
    again = render(path)
    assert again["rendered"] == [] and full["output"]["file"] == again["output"]["file"]


def test_cache_key_changes_with_everything_that_changes_pixels():
    base = SIX
    video = VideoSettings(160, 96, 12)

    def keys(text: str, video: VideoSettings = video, options: dict | None = None) -> dict[str, str]:
        plan = make_plan(parse_storyboard(text, "x", EXAMPLES))
        identity = {"name": "animatic", "version": "1", "options": options or {}, "model": None}
        return {j.shot.id: j.key for chain in plan_jobs(plan, identity, False, video, set()) for j in chain}

    k0 = keys(base)
    changes = {
        "action": (base.replace('action: "Kim walks"', 'action: "Kim runs"'), {"a", "b"}),
        "framing": (
            base.replace(
                "{id: f, duration: 1, cast: [kim, ann]}",
                "{id: f, duration: 1, cast: [kim, ann], camera: {framing: wide}}",
            ),
            {"f"},
        ),
        "move": (
            base.replace(
                "{id: f, duration: 1, cast: [kim, ann]}",
                "{id: f, duration: 1, cast: [kim, ann], camera: {move: pan_left}}",
            ),
            {"f"},
        ),
        "cast": (base.replace("{id: f, duration: 1, cast: [kim, ann]}", "{id: f, duration: 1, cast: [ann]}"), {"f"}),
        "duration": (base.replace("{id: f, duration: 1,", "{id: f, duration: 2,"), {"f"}),
        "dialogue": (base.replace('line: "Hi."', 'line: "Hey."'), {"c", "d"}),
        "transition": (base.replace("duration: 0.5}", "duration: 0.25}"), {"e"}),
        "seed": (base.replace("title: Six shots", "title: Six shots\nseed: 3"), set("abcdef")),
        "style": (base.replace("title: Six shots", "title: Six shots\nstyle: noir"), set("abcdef")),
        "world": (base.replace('location: "a city street"', 'location: "a forest"'), set("abcdef")),
        "set": (
            base.replace(
                "{id: e, duration: 1, cast: [kim],", "{id: e, duration: 1, cast: [kim], set: {weather: rain},"
            ),
            {"e", "f"},
        ),
        "character": (base.replace('courier in green"', 'courier in red"'), {"a", "b", "e", "f"}),
        "continuity": (
            base.replace(
                "{id: d, duration: 1, cast: [ann], continuity: continue}", "{id: d, duration: 1, cast: [ann]}"
            ),
            {"d"},
        ),
    }
    for name, (text, expected) in changes.items():
        k = keys(text)
        changed = {s for s in k0 if k0[s] != k[s]}
        assert changed == expected, name
    assert keys(base, VideoSettings(320, 96, 12)) != k0
    assert set(keys(base, options={"slate": False}).values()).isdisjoint(k0.values())
    # sound-only changes keep the picture cached
    assert keys(base.replace("audio: {ambience: none}", "audio: {ambience: auto}")) == k0
    assert keys(base.replace("id: a, duration: 1,", "id: a, duration: 1, sfx: [{sound: click}],")) == k0


def test_likeness_file_content_is_part_of_the_key(tmp_path):
    from PIL import Image

    Image.new("RGB", (8, 8), "red").save(tmp_path / "kim.png")
    text = SIX.replace(
        'kim: {description: "courier in green"}', 'kim: {description: "courier in green", reference: [kim.png]}'
    )

    def key_a() -> str:
        plan = make_plan(parse_storyboard(text, "x", tmp_path))
        return plan_jobs(plan, {"name": "animatic"}, False, VideoSettings(160, 96, 12), set())[0][0].key

    before = key_a()
    time.sleep(0.01)
    Image.new("RGB", (8, 8), "blue").save(tmp_path / "kim.png")
    assert key_a() != before


def _sora(args: list[str], cwd: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sora_cli", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw
    )


LONG = SIX.replace("duration: 1", "duration: 3")


def test_kill_mid_render_leaves_no_partial_film_and_resumes(tmp_path):
    # killed (SIGKILL, by itself) right after its second shot is stored: the same moment every run
    path = write(tmp_path, LONG)
    proc = _sora(
        ["render", str(path), "-q", "--jobs", "1"],
        tmp_path,
        env={**os.environ, "SORA_FAULT": "shot-stored:2"},
        start_new_session=True,
    )
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 30  # its sound worker dies with it (parent-death signal): let it finish dying
    while _alive_in_session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (tmp_path / "film.mp4").exists()
    shots = tmp_path / ".sora-cache" / "shots"
    assert len(list(shots.glob("*/*.mp4"))) == 2
    report = render(path)
    assert not list(tmp_path.rglob("*.part"))  # the killed render's temp files were swept
    assert report["reused"] == ["a", "b"] and Path(report["output"]["file"]).is_file()
    frames = decode_video(Path(report["output"]["file"]))
    assert len(frames) == report["output"]["frames"]


def _alive_in_session(sid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            return True
    return False


def test_an_interrupted_render_sweeps_what_a_worker_killed_after_its_grace_left(tmp_path, monkeypatch):
    """A busy worker gets SIGINT and a grace period to clean up; one still busy after it is killed, and the
    temp file it was writing (named for its pid) goes with the render, not with the next one."""
    from sora_cli import workers
    from sora_cli.film import RenderRequest, render_film
    from sora_cli.progress import NullProgress

    shots = tmp_path / ".sora-cache" / "shots"

    class Interrupting(NullProgress):
        def shot_advanced(self, shot_id: str, frames: int) -> None:
            if list(shots.glob("*/.*.part")):
                raise KeyboardInterrupt

    monkeypatch.setattr(workers, "STOP_GRACE", 0.0)  # no time to clean up: every busy worker is killed
    with pytest.raises(KeyboardInterrupt):
        render_film(RenderRequest(storyboard=write(tmp_path, LONG), jobs=2), progress=Interrupting())
    assert not list(tmp_path.rglob("*.part")), list(tmp_path.rglob("*.part"))


@pytest.mark.parametrize("presses", [1, 4])
def test_ctrl_c_stops_cleanly(tmp_path, presses):
    """Ctrl-C, or an impatient user's Ctrl-C pressed again and again (the cleanup is not cut short)."""
    path = write(tmp_path, LONG.replace("duration: 3", "duration: 6"))
    proc = _sora(["render", str(path), "-q", "--jobs", "2"], tmp_path, start_new_session=True)
    shots = tmp_path / ".sora-cache" / "shots"
    deadline = time.time() + 60
    while time.time() < deadline and not list(shots.glob("*/.*.part")):
        time.sleep(0.02)
    for press in range(presses):
        if press:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert b"Traceback" not in err
    assert not list(tmp_path.rglob("*.part")), list(tmp_path.rglob("*.part"))
    assert not (tmp_path / "film.mp4").exists()
    assert _still_running(proc.pid) == []


def _still_running(session: int, grace: float = 5.0) -> list[str]:
    """Processes of ``session`` that still run after ``grace`` seconds (pid, state, command): a child killed as
    the render stopped may take a moment to be gone, and one whose parent has exited waits, a zombie, until
    the system's init reaps it; neither runs any more, so only the living count."""
    deadline = time.monotonic() + grace
    while True:
        listed = subprocess.run(
            ["ps", "-s", str(session), "-o", "pid=,stat=,args="], capture_output=True, text=True
        ).stdout.splitlines()
        living = [line.strip() for line in listed if line.split()[1:2] and not line.split()[1].startswith("Z")]
        if not living or time.monotonic() > deadline:
            return living
        time.sleep(0.1)


def test_cli_render_json_and_bad_backend(tmp_path):
    path = write(tmp_path, SIX)
    result = run_cli("render", str(path), "--json", "-q", "--jobs", "1")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["output"]["frames"] == 66 and report["backend"]["name"] == "animatic"
    bad = run_cli("render", str(path), "--backend", "animatc", "-q")
    assert bad.code == 2 and "did you mean 'animatic'" in bad.stderr
    bad_option = run_cli(
        "render",
        str(write(tmp_path, SIX.replace("audio:", "backend: {options: {slat: false}}\naudio:"), "o.yaml")),
        "-q",
    )
    assert (
        bad_option.code == 2
        and "backend.options.slat: unknown animatic option 'slat'; did you mean 'slate'?" in bad_option.stderr
    )
    assert not (tmp_path / "o.mp4").exists()


def test_otio_timeline_matches_the_film(tmp_path):
    import opentimelineio as otio

    path = write(tmp_path, SIX)
    report = render(path, otio=True)
    timeline = otio.adapters.read_from_file(report["outputs"]["otio"])
    picture, sound = timeline.tracks
    assert [c.name for c in picture.find_clips()] == list("abcdef")
    assert not any(
        ref.startswith(("/", "file:")) for ref in (c.media_reference.target_url for c in timeline.find_clips())
    )
    assert picture.duration().to_frames() == report["output"]["frames"] == sound.duration().to_frames()
    transitions = [t for t in picture if isinstance(t, otio.schema.Transition)]
    assert [t.name for t in transitions] == ["crossfade"] and transitions[0].in_offset.to_frames() + transitions[
        0
    ].out_offset.to_frames() == 6
    for clip in picture.find_clips():  # relative to the timeline: the export folder travels whole
        assert (Path(report["outputs"]["otio"]).parent / clip.media_reference.target_url).is_file()
    assert [m.name for m in sound.markers] == ["Hi."]


def test_otio_needs_the_cache(tmp_path):
    path = write(tmp_path, SIX)
    result = run_cli("render", str(path), "--otio", "--no-cache", "-q")
    assert result.code == 2 and "--otio" in result.stderr


def test_ffmpeg_failure_is_one_clear_message(tmp_path):
    from sora_cli.errors import SoraError
    from sora_cli.ffmpeg import run_ffmpeg

    with pytest.raises(SoraError) as caught:
        run_ffmpeg(["-i", str(tmp_path / "missing.mp4"), str(tmp_path / "out.mp4")], "reading a shot")
    message = str(caught.value)
    assert message.startswith("ffmpeg failed while reading a shot:") and "missing.mp4" in message


def test_a_worker_killed_mid_render_is_said_plainly_not_as_an_internal_error(tmp_path):
    """A picture worker killed (the OOM killer, kill -9) breaks its pool: exit 1 with what happened and what to
    do, never "internal error: BrokenProcessPool"; nothing is published and a re-render reuses what was made."""
    path = write(tmp_path, SIX)
    proc = _sora(["render", str(path), "-q", "--jobs", "2"], tmp_path, env={**os.environ, "SORA_FAULT": "shot-stored"})
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    assert "internal error" not in err.decode() and "a worker process of the render ended abruptly" in err.decode()
    assert "the shots it finished are kept in the cache" in err.decode()
    assert not (tmp_path / "film.mp4").exists()


def test_an_encoder_killed_mid_shot_is_said_so_under_the_shots_own_name(tmp_path):
    """Its message names the shot (or, unlabelled, the file it was writing, not its temp name) and says it was
    killed and by what, never a headline ending in a colon over nothing; so do sora's other ffmpeg steps."""
    from sora_cli.atomic import atomic_path
    from sora_cli.errors import SoraError
    from sora_cli.ffmpeg import failure, run_ffmpeg, signal_name
    from sora_cli.render.encode import FrameEncoder

    frame = np.zeros((96, 160, 4), np.uint8)
    for label, named in (("shot s002", "shot s002"), (None, "abc123.mp4")):
        with atomic_path(tmp_path / "abc123.mp4") as tmp:
            encoder = FrameEncoder(tmp, VideoSettings(160, 96, 12), [0], label=label)
            encoder.write(frame)
            encoder._proc.kill()
            with pytest.raises(SoraError) as caught:
                for _ in range(200):  # (the pipe's buffer takes a few frames before the write breaks)
                    encoder.write(frame)
                encoder.close()
        assert str(caught.value) in (
            f"ffmpeg failed while encoding frames ({named}):\nit was killed by SIGKILL (signal 9)",
            f"ffmpeg failed while finishing a shot file ({named}):\nit was killed by SIGKILL (signal 9)",
        )
    assert signal_name(25) == "SIGXFSZ (signal 25) (a file grew past the size limit, ulimit -f)"
    said = failure("encoding the soundtrack", -9, "")  # (the soundtrack's encoder and run_ffmpeg say it alike)
    assert said == "ffmpeg failed while encoding the soundtrack:\nit was killed by SIGKILL (signal 9)"
    with pytest.raises(SoraError) as caught:  # a step that fails and says why: its own words, no headline alone
        run_ffmpeg(["-i", str(tmp_path / "missing.wav"), str(tmp_path / "out.wav")], "reading a take")
    assert str(caught.value).startswith("ffmpeg failed while reading a take:\n") and "missing.wav" in str(caught.value)


def test_a_render_with_nothing_to_draw_still_sweeps_what_killed_writers_left(tmp_path):
    """The sweep of killed writers' temp files runs beside the drawing, or after the film where there was
    none to run beside: a render that reuses every shot sweeps too."""
    path = write(tmp_path, SIX)
    render(path)
    dead = 2**22 + 17  # (above any pid this machine hands out: no such process)
    stale = [
        tmp_path / ".sora-cache" / "shots" / "ab" / f".x.mp4.sora-{dead}-abcd.mp4.part",
        tmp_path / ".sora-cache" / "transitions" / "cd" / f".y.mp4.sora-{dead}-efgh.mp4.part",
        tmp_path / ".sora-cache" / f".z.json.sora-{dead}-ijkl.json.part",
    ]
    for file in stale:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"left by a killed writer")
    report = render(path)
    assert report["rendered"] == [] and not [f for f in stale if f.exists()]


def test_a_cached_shot_damaged_under_a_valid_seal_is_one_line_at_its_transition(tmp_path):
    """A shot file whose bytes were damaged and sealed again (with the user's own key) passes the cache's check;
    decoding it for a crossfade then fails: one line naming the file and the way out, not an internal error."""
    from sora_cli.digests import seal

    path = write(tmp_path, SIX)
    report = render(path)
    shot = next(s for s in report["shots"] if s["id"] == "d")  # (e crossfades from d)
    cached = tmp_path / ".sora-cache" / "shots" / shot["content_hash"][:2] / f"{shot['content_hash']}.mp4"
    data = bytearray(cached.read_bytes())
    data[len(data) // 3 :] = bytes(len(data) - len(data) // 3)  # (its media data zeroed from a third on)
    cached.write_bytes(bytes(data))
    seal(cached)
    path.write_text(SIX.replace("transition: {type: crossfade, duration: 0.5}", "transition: {type: crossfade, duration: 0.25}"))
    done = _sora(["render", str(path), "-q", "--no-qc"], tmp_path)
    err = done.communicate(timeout=300)[1].decode()
    assert done.returncode == 1, err
    assert err.startswith(f"sora: shot file {cached.name} does not decode (") and err.count("\n") == 1, err
    assert "`sora cache --clear` and render again" in err and "internal error" not in err
