"""The CLI's contract: exit codes, located messages, JSON, stdin, schema, init."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sora_cli import api
from sora_cli.schema import SCHEMA_FILE
from tests.conftest import EXAMPLES, MINIMAL, run_cli


def test_validate_ok_and_bad(write_sb):
    good = write_sb(MINIMAL)
    assert run_cli("validate", str(good)).code == 0
    bad = write_sb(MINIMAL.replace("cast: [kim]", "cast: [kym]"), "bad.yaml")
    result = run_cli("validate", str(good), str(bad))
    assert result.code == 2
    assert f"{bad}:12:12: shots[0].cast[0]: 'kym' is not a character; did you mean 'kim'?" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_validate_json(write_sb):
    bad = write_sb(MINIMAL.replace("cast: [kim]", "cast: [kym]").replace("id: two", "id: one"))
    result = run_cli("validate", "--json", str(bad))
    assert result.code == 2
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert [(e["line"], e["column"], e["path"]) for e in report["errors"]] == [
        (12, 12, "shots[0].cast[0]"),
        (15, 9, "shots[1].id"),
    ]
    assert set(report["errors"][0]) == {"file", "line", "column", "path", "message"}


def test_stdin_resolves_assets_from_cwd(monkeypatch):
    monkeypatch.chdir(EXAMPLES)
    text = (EXAMPLES / "polar.yaml").read_text()
    result = run_cli("plan", "-", "--json", stdin=text)
    assert result.code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["storyboard"] == "<stdin>"
    assert plan["shots"][2]["dialogue"][0]["audio"] == "assets/ivan_take2.wav"  # relative: no machine paths
    bad = run_cli("validate", "-", stdin="version: 1\ntitle: x\n")
    assert bad.code == 2 and "<stdin>:1:1: world: 'world' is required" in bad.stderr.splitlines()


def test_plan_json_shape():
    result = run_cli("plan", str(EXAMPLES / "polar.yaml"), "--json")
    assert result.code == 0
    plan = json.loads(result.stdout)
    for key in ("title", "duration", "width", "height", "fps", "shots"):
        assert key in plan
    shot = plan["shots"][1]
    for key in (
        "id",
        "index",
        "start",
        "duration",
        "continuity",
        "transition",
        "seed",
        "world",
        "cast",
        "props",
        "prompt",
        "dialogue",
    ):
        assert key in shot
    assert set(shot["world"]) >= {"location", "time_of_day", "weather", "lighting", "characters", "props"}
    assert set(shot["dialogue"][0]) >= {"speaker", "line", "start", "end", "delivery"}
    assert shot["dialogue"][0]["start"] == pytest.approx(shot["start"] + 0.4)


def test_plan_table_shows_every_shot():
    result = run_cli("plan", str(EXAMPLES / "harbour_night.yaml"))
    assert result.code == 0
    for shot_id in ("pier", "ask", "rain-starts", "ben-close", "storm"):
        assert shot_id in result.stdout


def test_schema_is_json_schema():
    result = run_cli("schema")
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"version", "title", "world", "shots"} <= set(schema["required"])
    assert "Shot" in schema["$defs"]
    assert schema["$defs"]["World"]["properties"]["weather"]["enum"] == [
        "clear",
        "cloudy",
        "rain",
        "snow",
        "blizzard",
        "fog",
        "storm",
    ]


def test_init_makes_a_valid_project(tmp_path):
    target = tmp_path / "film"
    result = run_cli("init", str(target))
    assert result.code == 0, result.stderr
    assert (target / "assets").is_dir()
    assert json.loads((target / SCHEMA_FILE).read_text())["title"].startswith("sora storyboard")
    text = (target / "storyboard.yaml").read_text()
    assert text.startswith(f"# yaml-language-server: $schema={SCHEMA_FILE}")
    assert api.plan(target / "storyboard.yaml").shots
    again = run_cli("init", str(target))
    assert again.code == 2 and "already exists" in again.stderr


def test_version_and_help():
    assert run_cli("--version").stdout.startswith("sora ")
    for command in ("validate", "plan", "schema", "init"):
        result = run_cli(command, "--help")
        assert result.code == 0 and "Example" in result.stdout


def test_missing_file_is_located():
    result = run_cli("validate", "nope.yaml")
    assert result.code == 2 and result.stderr.startswith("nope.yaml:1:1: no such file")


def test_internal_error_is_one_line(monkeypatch, write_sb):
    def boom(*_a, **_k):
        raise RuntimeError("kaput")

    monkeypatch.setattr(api, "plan", boom)
    result = run_cli("plan", str(write_sb(MINIMAL)))
    assert result.code == 1
    assert result.stderr.strip().splitlines() == [
        "sora: internal error: RuntimeError: kaput (add --debug to the command for the traceback, and report it)"
    ]


@pytest.mark.parametrize("where", ["before", "after", "both"])
def test_debug_shows_the_traceback_before_or_after_the_command(monkeypatch, write_sb, where):
    """The hint says to add --debug to the command: it works as ``sora --debug plan F`` and ``sora plan F --debug``."""

    def boom(*_a, **_k):
        raise RuntimeError("kaput")

    monkeypatch.setattr(api, "plan", boom)
    args = ["plan", str(write_sb(MINIMAL))]
    args = {"before": ["--debug", *args], "after": [*args, "--debug"], "both": ["--debug", *args, "--debug"]}[where]
    with pytest.raises(RuntimeError, match="kaput"):  # the traceback: the error itself, not one line
        run_cli(*args)


def test_debug_after_a_double_dash_is_an_argument_not_the_option(write_sb):
    result = run_cli("validate", str(write_sb(MINIMAL)), "--", "--debug")
    assert result.code == 2 and result.stderr.startswith("--debug:1:1: no such file"), result.stderr


def test_plan_takes_backend_and_model_as_validate_and_render_do(tmp_path):
    """``plan.backend`` is what would render: the storyboard's diffusers model is refused, --backend overrides it."""
    board = tmp_path / "film.yaml"
    board.write_text(
        "version: 1\ntitle: Plan\noutput: {width: 160, height: 96, fps: 12}\n"
        "backend: {name: diffusers, model: ./no-such-model}\nworld:\n  location: an empty room\n"
        "shots:\n  - id: first\n    duration: 1\n    action: A grey frame.\n",
        encoding="utf-8",
    )
    refused = run_cli("plan", str(board), "--json")
    assert refused.code == 2 and "backend.model: model './no-such-model'" in refused.stderr
    planned = run_cli("plan", str(board), "--backend", "animatic", "--model", "sketch", "--json")
    assert planned.code == 0, planned.stderr
    assert json.loads(planned.stdout)["backend"] == {"name": "animatic", "model": "sketch", "options": {}}


def test_the_report_names_the_film_beside_it_by_its_name_when_o_says_dotdot(tmp_path, monkeypatch):
    """``-o sb/../x.mp4`` from a subfolder: report.json's ``outputs``, ``output.file`` and ``qc.film`` all
    name the film ``x.mp4`` (they said ``sb/../x.mp4``), and that name opens the film from the report's folder."""
    import av

    work = tmp_path / "work"
    (work / "sb").mkdir(parents=True)
    (work / "sb" / "film.yaml").write_text(
        "version: 1\ntitle: Dots\noutput: {width: 192, height: 108, fps: 12, subtitles: [sidecar]}\n"
        "world: {location: a field, characters: {kim: {description: a courier}}}\n"
        'shots:\n  - {id: a, duration: 1, cast: [kim], dialogue: [{speaker: kim, line: "Hi."}]}\n'
    )
    monkeypatch.chdir(work)
    result = run_cli("render", "sb/film.yaml", "-o", "sb/../x.mp4", "--quiet", "--jobs", "1", "--no-cache")
    assert result.code == 0, result.stderr
    written = json.loads((work / "x.report.json").read_text())
    assert written["outputs"] == {"film": "x.mp4", "srt": "x.srt", "vtt": "x.vtt"}, written["outputs"]
    assert written["qc"]["film"] == written["output"]["file"] == "x.mp4"
    assert written["storyboard"]["file"] == "sb/film.yaml"
    with av.open(str(work / written["qc"]["film"])) as film:
        assert sum(1 for _ in film.decode(video=0)) == 12


def test_o_through_a_symlink_and_dotdot_lands_where_the_kernel_puts_it(tmp_path, monkeypatch):
    """``-o link/../x.mp4`` where ``link`` points elsewhere: the film, its sidecars and report land in the link
    target's parent, as the kernel resolves the path (tempfile folds ``..`` as text: the staged files once
    went to the working folder while the set was switched in through the link), no temp file is left in
    either folder, and ``--json`` names the film by that folder, with no ``..``."""
    work, target = tmp_path / "work", tmp_path / "elsewhere" / "deep"
    work.mkdir()
    target.mkdir(parents=True)
    (work / "link").symlink_to(target)
    (work / "film.yaml").write_text(
        "version: 1\ntitle: Link\noutput: {width: 192, height: 108, fps: 12, subtitles: [sidecar]}\n"
        "world: {location: a field}\nshots:\n  - {id: a, duration: 1}\n"
    )
    monkeypatch.chdir(work)
    result = run_cli("render", "film.yaml", "-o", "link/../x.mp4", "--json", "--quiet", "--jobs", "1", "--no-cache")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    landed = tmp_path / "elsewhere"
    assert report["output"]["file"] == report["qc"]["film"] == str(landed.resolve() / "x.mp4")
    assert sorted(p.name for p in landed.iterdir()) == ["deep", "x.mp4", "x.report.json", "x.srt", "x.vtt"]
    assert sorted(p.name for p in work.iterdir()) == ["film.yaml", "link"]


def test_json_names_every_file_by_an_absolute_path_when_given_relative_ones(tmp_path, monkeypatch):
    """A script reading ``--json`` from another folder finds the files: render, masters, qc and cache print
    absolute paths though -o, the storyboard and the film were given relative; the reports beside the films
    stay relative to their own folders."""
    monkeypatch.chdir(tmp_path)
    Path("film.yaml").write_text(
        "version: 1\ntitle: Paths\noutput: {width: 192, height: 108, fps: 12, subtitles: [sidecar]}\n"
        "world: {location: a field, characters: {kim: {description: a courier}}}\n"
        "deliverables: [{name: small, width: 160, height: 90}]\n"
        'shots:\n  - {id: a, duration: 1, cast: [kim], dialogue: [{speaker: kim, line: "Hi."}]}\n'
    )
    result = run_cli("render", "film.yaml", "-o", "out/cut.mp4", "--json", "--quiet", "--jobs", "1")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    named = [report["storyboard"]["file"], report["output"]["file"], report["qc"]["film"]]
    named += [*report["subtitles"]["files"].values(), *report["outputs"].values()]
    assert len(named) == 8 and all(Path(p).is_absolute() and Path(p).is_file() for p in named), named
    assert report["output"]["file"] == str(tmp_path / "out" / "cut.mp4")
    written = json.loads(Path("out/cut.report.json").read_text())
    assert written["output"]["file"] == "cut.mp4" and written["outputs"]["srt"] == "cut.srt"  # portable, as before
    checked = run_cli("qc", "out/cut.mp4", "--plan", "film.yaml", "--json")
    assert json.loads(checked.stdout)["film"] == str(tmp_path / "out" / "cut.mp4"), checked.stderr
    cached = run_cli("cache", "film.yaml", "--json")
    assert json.loads(cached.stdout)["cache"] == str(tmp_path / ".sora-cache"), cached.stderr
    masters = run_cli("render", "film.yaml", "--all-deliverables", "-o", "masters", "--json", "--quiet", "--jobs", "1")
    assert masters.code == 0, masters.stderr
    manifest = json.loads(masters.stdout)
    entry = manifest["deliverables"][0]
    assert manifest["storyboard"]["file"] == str(tmp_path / "film.yaml")
    assert entry["file"] == str(tmp_path / "masters" / "small.mp4") and Path(entry["file"]).is_file(), entry
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in entry["outputs"].values()), entry
    assert json.loads(Path("masters/deliverables.json").read_text())["deliverables"][0]["file"] == "small.mp4"


def test_a_tool_failure_shows_the_tools_lines_as_lines(monkeypatch, write_sb):
    """ffmpeg's stderr lines after the headline are shown on their own lines (indented), not as literal \\n."""
    from sora_cli.errors import SoraError

    def fails(*_a, **_k):
        raise SoraError("ffmpeg failed while reading a shot:\nshot.mp4: Invalid data\nError opening input\n")

    monkeypatch.setattr(api, "plan", fails)
    result = run_cli("plan", str(write_sb(MINIMAL)))
    assert result.code == 1 and result.stderr.splitlines() == [
        "sora: ffmpeg failed while reading a shot:",
        "  shot.mp4: Invalid data",
        "  Error opening input",
    ], result.stderr


def test_the_storage_failing_under_a_render_is_said_as_such_not_as_a_bug():
    """A full disk, ``ulimit -f``, a quota or a read-only disk, wherever the write was (a worker's included)."""
    import errno

    from sora_cli.errors import internal_error

    said = internal_error(OSError(errno.ENOSPC, "No space left on device", "/films/x.mp4"))
    assert said == "cannot write /films/x.mp4: No space left on device"
    assert internal_error(OSError(errno.EFBIG, "File too large")) == "cannot write: File too large"
    assert internal_error(OSError(errno.ENOENT, "gone")).startswith("internal error: ")
    assert internal_error(ValueError("x")).startswith("internal error: ValueError: x")
