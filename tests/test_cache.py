"""The shot cache is inert (data, never code), verified against its digests, bounded, and schedules linearly."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sora_cli import digests
from sora_cli.plan.resolve import make_plan
from sora_cli.progress import NullProgress
from sora_cli.provenance import media_digest
from sora_cli.render import cache as shot_cache
from sora_cli.render import shots
from sora_cli.render.backend import Carry, FilmSettings
from sora_cli.render.encode import VideoSettings
from sora_cli.storyboard import parse_storyboard
from tests.conftest import render, run_cli

FILM = """\
version: 1
title: Cache
output: {width: 160, height: 96, fps: 12}
world:
  location: "a snowy street"
  weather: snow
  characters:
    kim: {description: "courier in green"}
audio: {ambience: none}
shots:
  - {id: a, duration: 1, cast: [kim], action: "Kim walks", dialogue: [{speaker: kim, line: "LINE"}]}
  - {id: b, duration: 1, cast: [kim], continuity: continue}
  - {id: c, duration: 1, cast: [kim], transition: {type: crossfade, duration: 0.5}}
"""


def write(folder: Path, line: str = "Hi.") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "film.yaml"
    path.write_text(FILM.replace("LINE", line))
    return path


def sora(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sora_cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def reseal(path: Path) -> None:
    """Write a record that matches whatever is in ``path`` now (as an attacker with write access could)."""
    digests.seal(path)


class Planted:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_a_planted_pickle_carry_never_runs(tmp_path):
    path = write(tmp_path)
    first = render(path)
    carries = list((tmp_path / ".sora-cache" / "shots").glob("*/*.carry"))
    assert carries
    marker = tmp_path / "pwned"
    for carry in carries:
        carry.write_bytes(pickle.dumps(Planted(marker)))
        reseal(carry)  # even with a matching digest record: the format itself cannot hold code
    again = render(path, only=("b",))  # b continues a: its carry must be loaded
    assert not marker.exists()
    assert again["rendered"] == ["a", "b"]  # the unreadable carry was discarded, a drawn again for it
    assert media_digest(Path(again["output"]["file"])) == media_digest(Path(first["output"]["file"]))


def test_corrupt_swapped_and_truncated_entries_are_discarded_and_the_film_is_unchanged(tmp_path):
    path = write(tmp_path / "one")
    other = write(tmp_path / "two", "Other.")
    assert sora(["render", str(path), "-q", "--jobs", "1"], path.parent).returncode == 0
    assert sora(["render", str(other), "-q", "--jobs", "1"], other.parent).returncode == 0
    assert sora(["render", str(path), "-q", "--no-cache", "-o", "plain.mp4"], path.parent).returncode == 0
    expected = media_digest(path.parent / "plain.mp4")
    cache = path.parent / ".sora-cache"
    report = json.loads((path.parent / "film.report.json").read_text())
    key = {s["id"]: s["content_hash"] for s in report["shots"]}
    video = shot_cache.ShotCache(cache).video
    with open(video(key["a"]), "r+b") as fh:  # 2,000 bytes overwritten in the middle
        fh.seek(video(key["a"]).stat().st_size // 2)
        fh.write(os.urandom(2000))
    other_report = json.loads((other.parent / "film.report.json").read_text())
    other_c = shot_cache.ShotCache(other.parent / ".sora-cache").video(other_report["shots"][0]["content_hash"])
    shutil.copyfile(other_c, video(key["c"]))  # another film's shot in c's place, its record copied too:
    shutil.copyfile(digests.record_path(other_c), digests.record_path(video(key["c"])))  # it names its own entry
    (overlap,) = (cache / "transitions").glob("*/*.mp4")
    with open(overlap, "r+b") as fh:  # truncated
        fh.truncate(100)
    (sound,) = (cache / "sound").glob("*.m4a")
    (other_sound,) = (other.parent / ".sora-cache" / "sound").glob("*.m4a")
    shutil.copyfile(other_sound, sound)  # another film's soundtrack
    result = sora(["render", str(path), "-q", "--jobs", "1"], path.parent)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("sora: warning: cache entry") == 4, result.stderr
    assert "holds the record of another entry" in result.stderr
    assert "Traceback" not in result.stderr
    assert media_digest(path.parent / "film.mp4") == expected
    again = sora(["render", str(path), "-q", "--jobs", "1", "--json"], path.parent)
    assert json.loads(again.stdout)["reused"] == ["a", "b", "c"] and again.stderr == ""


def test_an_entry_without_its_record_is_not_trusted(tmp_path):
    path = write(tmp_path)
    render(path)
    records = list((tmp_path / ".sora-cache" / "shots").glob("*/*.mp4.sum"))
    for record in records:
        record.unlink()  # a write cut short between the file and its record
    assert render(path)["reused"] == []


def test_carries_round_trip_as_data_with_their_types(tmp_path):
    rng = np.random.default_rng(7)
    state = {
        "bodies": {"kim": {"x": 1.5, "facing": -1.0}},
        "camera": (0.25, 1.0, np.float64(3.5)),
        "track": np.float32(2.5),
        "weather": {"pos": rng.normal(size=(4, 2)), "rng": rng.bit_generator.state, "kind": "snow"},
        "sky": ("dusk", "snow", None),
        "tail": [np.zeros((2, 2, 3), np.uint8)],
    }
    carry = Carry("a", np.ones((4, 4, 3), np.uint8), state)
    path = tmp_path / "x.carry"
    shot_cache.write_carry(path, carry)
    back = shot_cache.read_carry(path)
    with np.load(path, allow_pickle=False) as data:  # every member is a plain array
        assert all(data[name].dtype != object for name in data.files)
    assert back.shot_id == "a" and np.array_equal(back.last_frame, carry.last_frame)
    assert back.state["camera"] == (0.25, 1.0, 3.5) and type(back.state["camera"][2]) is np.float64
    assert type(back.state["track"]) is np.float32 and back.state["sky"] == ("dusk", "snow", None)
    assert np.array_equal(back.state["weather"]["pos"], state["weather"]["pos"])
    assert back.state["weather"]["rng"] == state["weather"]["rng"]
    with pytest.raises(TypeError):
        shot_cache.write_carry(path, Carry("a", carry.last_frame, {"f": object()}))


def test_the_cache_is_bounded_least_recently_used_first_and_sora_cache_shows_and_prunes(tmp_path):
    cache = tmp_path / "cache"
    one, two = write(tmp_path / "one"), write(tmp_path / "two", "Other.")
    two.write_text(two.read_text().replace("a snowy street", "a sunny beach").replace("weather: snow", ""))
    render(one, cache_dir=cache)
    size_one, entries_one = shot_cache.usage(cache)
    assert entries_one > 0
    shown = run_cli("cache", str(cache), "--json")
    assert json.loads(shown.stdout)["bytes"] == size_one and json.loads(shown.stdout)["entries"] == entries_one
    for record in cache.rglob("*.sum"):  # last used an hour ago
        os.utime(record, (record.stat().st_atime - 3600, record.stat().st_mtime - 3600))
    report = render(two, cache_dir=cache, cache_size="1K")  # far below one film: everything older goes
    kept = {p.name for p in cache.rglob("*.mp4")}
    assert {f"{s['content_hash']}.mp4" for s in report["shots"]} <= kept  # this render's entries stay
    first = json.loads((tmp_path / "one" / "film.report.json").read_text())
    assert not {f"{s['content_hash']}.mp4" for s in first["shots"]} & kept
    size, entries = shot_cache.usage(cache)
    out = run_cli("cache", str(cache), "--clear")
    assert out.code == 0 and f"removed {entries} entries" in out.stdout
    assert shot_cache.usage(cache) == (0, 0)
    assert size > 0
    assert run_cli("cache", str(cache), "--prune", "--cache-size", "lots").code == 2


def test_scheduling_never_compares_chains(tmp_path, monkeypatch):
    """Which chains to render is decided in one pass (today's ``chain not in todo`` was quadratic)."""
    rows = "\n".join(
        f"  - {{id: s{i}, duration: 0.5, cast: [kim]{', continuity: continue' if i % 3 else ''}}}" for i in range(300)
    )
    text = FILM.split("shots:")[0] + "shots:\n" + rows + "\n"
    plan = make_plan(parse_storyboard(text, "long.yaml", tmp_path))
    compared = []
    monkeypatch.setattr(shots.ShotJob, "__eq__", lambda self, other: compared.append(1) or self is other)

    class EverythingCached(shot_cache.ShotCache):
        def has(self, key: str) -> bool:
            return True

    film = FilmSettings.from_plan(plan)
    files = shots.render_shots(
        plan, "animatic", film, VideoSettings(160, 96, 12), EverythingCached(tmp_path), set(), 1, NullProgress()
    )
    assert len(files) == 300 and all(f.reused for f in files.values())
    assert compared == []


@pytest.fixture(scope="module")
def cache_of_a_render(tmp_path_factory) -> Path:
    """The cache of a real render: a continue, a crossfade (a transition), dialogue (sound blocks), the checks."""
    folder = tmp_path_factory.mktemp("cached")
    result = run_cli("render", str(write(folder)), "--quiet", "--jobs", "1")
    assert result.code in (0, 3), result.stderr
    return folder / ".sora-cache"


def test_every_folder_a_render_keeps_is_in_the_cache_layout(cache_of_a_render):
    """LAYOUT and FANNED, which the check below walks, are every folder a render makes (kept in step with the code)."""
    made = {p.relative_to(cache_of_a_render).as_posix() for p in cache_of_a_render.rglob("*") if p.is_dir()}
    fanned = {f for f in made if "/" in f and f.rsplit("/", 1)[0] in shot_cache.FANNED}
    assert made - fanned == set(shot_cache.LAYOUT), made
    assert fanned and all(len(f.rsplit("/", 1)[1]) == 2 for f in fanned), fanned


def _in_place_of(cache_of_a_render: Path, tmp_path: Path, part: str) -> tuple[Path, Path]:
    """A copy of the rendered storyboard and its cache, with a user's file where the cache keeps ``part``."""
    folder = tmp_path / "film"
    write(folder)
    shutil.copytree(cache_of_a_render, folder / ".sora-cache")
    if part == "(fan-out)":
        part = next(p for p in (folder / ".sora-cache" / "shots").iterdir()).relative_to(folder / ".sora-cache").as_posix()
    target = folder / ".sora-cache" / part if part else folder / ".sora-cache"
    shutil.rmtree(target)
    target.write_text("the user's notes\n")
    return folder, target


@pytest.mark.parametrize("part", ["", *shot_cache.LAYOUT, "(fan-out)"])
def test_a_file_in_place_of_a_cache_folder_is_a_usage_error_naming_it_and_is_left_alone(
    cache_of_a_render, tmp_path, part
):
    folder, target = _in_place_of(cache_of_a_render, tmp_path, part)
    result = run_cli("render", str(folder / "film.yaml"), "--quiet", "--jobs", "1")
    assert result.code == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"sora: {target}: ") and "is a file" in lines[0], lines
    assert "--no-cache" in lines[0] and "--cache-dir" in lines[0], lines
    assert target.read_text() == "the user's notes\n" and not (folder / "film.mp4").exists()  # nothing rendered
    # what the message offers works: without the cache the film renders, the user's file untouched
    assert run_cli("render", str(folder / "film.yaml"), "--quiet", "--jobs", "1", "--no-cache").code in (0, 3)
    assert target.read_text() == "the user's notes\n"


def test_a_cache_dir_that_is_a_file_or_lies_under_one_is_a_usage_error(tmp_path):
    sb = write(tmp_path / "film")
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    for cache_dir, said in ((notes, "the cache folder is a file"), (notes / "cache", "cannot be made under it")):
        result = run_cli("render", str(sb), "--quiet", "--cache-dir", str(cache_dir))
        assert result.code == 2 and f"sora: {notes}: " in result.stderr and said in result.stderr, result.stderr
    assert notes.read_text() == "mine\n" and not (sb.parent / "film.mp4").exists()


MOVED = """\
version: 1
title: Moved
output: {width: 160, height: 96, fps: 12}
world:
  location: "a harbour"
  characters:
    nora: {description: "designer in a blue raincoat", reference: [assets/nora.png]}
    ivan: {description: "tall man in grey"}
audio: {ambience: none}
shots:
  - {id: a, duration: 1, cast: [nora], action: "Nora waves"}
  - {id: b, duration: 1.5, cast: [ivan], dialogue: [{speaker: ivan, line: "We camp here.", audio: assets/ivan_take2.wav}]}
"""


def test_a_project_moved_to_another_folder_finds_its_shots_by_the_assets_content(tmp_path, storyboard_dir):
    """The plan's asset paths are absolute; the cache keys the files' content, so a moved project (a CI runner's
    other workspace) reuses every shot and makes the same film, while a changed likeness redraws its shots."""
    first = tmp_path / "here"
    (first / "assets").mkdir(parents=True)
    for name in ("nora.png", "ivan_take2.wav", "mara.png"):
        shutil.copy(storyboard_dir / "assets" / name, first / "assets" / name)
    (first / "film.yaml").write_text(MOVED)
    made = render(first / "film.yaml", qc=False)
    assert made["rendered"] == ["a", "b"]
    moved = tmp_path / "elsewhere" / "there"
    shutil.copytree(first, moved)
    again = render(moved / "film.yaml", qc=False)
    assert again["rendered"] == []
    assert media_digest(moved / "film.mp4") == media_digest(first / "film.mp4")
    shutil.copy(moved / "assets" / "mara.png", moved / "assets" / "nora.png")  # the same name, another face
    assert render(moved / "film.yaml", qc=False)["rendered"] == ["a"]
    # a take counts through the mouth shapes planned from it, unless the backend hears takes (its content then)
    sb = parse_storyboard((moved / "film.yaml").read_text(), "film.yaml", moved)
    line = make_plan(sb).shots[1]
    video = VideoSettings(160, 96, 12)
    keys = [shot_cache.shot_key(line, {}, video, False, None, hears) for hears in (False, True)]
    (moved / "assets" / "ivan_take2.wav").write_bytes((moved / "assets" / "ivan_take2.wav").read_bytes()[:-2] + b"\1\0")
    assert shot_cache.shot_key(line, {}, video, False, None, False) == keys[0]
    assert shot_cache.shot_key(line, {}, video, False, None, True) != keys[1]


def test_a_swapped_asset_of_the_same_size_and_time_is_read_anew_by_a_long_lived_process(tmp_path):
    """`sora watch` lives on between renders: its memos of what a file holds were keyed by the file's path, size
    and modification time, so a take or likeness swapped by renames with another of the same size, both given one
    time (a copy keeping times, `touch -d`), kept the old digest (the old face drawn) and the old samples."""
    import wave

    from sora_cli.audio_files import decode_audio

    def take(path: Path, level: int) -> None:
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
            w.writeframes(np.full(800, level, "<i2").tobytes())

    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    take(a, 1000), take(b, -3000)
    for p in (a, b):
        os.utime(p, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    before, heard = digests.file_digest(a), decode_audio(str(a), 8000, 1)
    swap = tmp_path / "swap"
    a.rename(swap), b.rename(a), swap.rename(b)  # the same names, sizes and times; the other content
    assert a.stat().st_size == b.stat().st_size and a.stat().st_mtime_ns == b.stat().st_mtime_ns
    assert digests.file_digest(a) != before and digests.file_digest(b) == before
    assert np.sign(decode_audio(str(a), 8000, 1)).mean() == -np.sign(heard).mean() == -1.0
    take(a, 2000)  # rewritten in place, its time set back
    os.utime(a, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    assert decode_audio(str(a), 8000, 1).max() > heard.max() and digests.file_digest(a) not in (before,)
