"""The API is the front door: the README's example runs, and the CLI prints what the API returns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sora_cli import api
from sora_cli.errors import UsageError
from tests.conftest import MINIMAL, run_cli, small

README = Path(__file__).resolve().parents[1] / "README.md"


def _example() -> str:
    section = README.read_text(encoding="utf-8").split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_renders_from_python(tmp_path, monkeypatch, capsys):
    (tmp_path / "film.yaml").write_text(small(MINIMAL), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    exec(compile(_example(), "README.md", "exec"), {})
    said = capsys.readouterr().out.splitlines()
    assert said[0].startswith("2 shots, ") and said[0].endswith(" at 192x108")
    assert said[1].startswith(f"{tmp_path / 'film.draft.mp4'} ") and said[1].endswith(" LUFS")  # absolute
    assert said[2].split()[0] in ("passes", "fails")
    assert (tmp_path / "film.draft.mp4").stat().st_size > 0


def test_cli_prints_what_the_api_returns(tmp_path, write_sb):
    board = write_sb(small(MINIMAL))
    validation = api.validate([str(board), str(board)])
    assert validation.valid and validation.files == [str(board), str(board)]
    shown = json.loads(run_cli("validate", "--json", str(board)).stdout)
    assert shown["valid"] is validation.valid

    bad = write_sb(small(MINIMAL).replace("speaker: kim", "speaker: nobody"), "bad.yaml")
    found = api.validate([str(bad)])
    printed = run_cli("validate", str(bad))
    assert not found.valid and printed.code == 2
    assert [str(p) for p in found.problems] == printed.stderr.splitlines()

    assert api.sounds() and "thunder" in api.sounds()
    listed = run_cli("cameo", "list", "--json", "--library", str(tmp_path / "lib"))
    assert json.loads(listed.stdout) == api.cameo_list(tmp_path / "lib") == []


def test_validate_takes_one_storyboard_as_a_string_or_a_path(tmp_path: Path):
    """One path is one file, not a sequence of one-character file names."""
    board = tmp_path / "film.yaml"
    board.write_text(MINIMAL, encoding="utf-8")
    for one in (str(board), board):
        checked = api.validate(one)
        assert checked.files == [str(board)] and checked.valid, checked.problems
    broken = tmp_path / "broken.yaml"
    broken.write_text(MINIMAL.replace("version: 1", "version: 9"), encoding="utf-8")
    assert [p.file for p in api.validate(str(broken)).problems] == [str(broken)]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda board: api.plan(None), "storyboard must be a path (str or Path) or '-', not NoneType"),
        (lambda board: api.plan(board, backend=3), "backend must be a name or a backend class, not int"),
        (
            lambda board: api.validate(board, backend=["animatic"]),
            "backend must be a name or a backend class, not list",
        ),
        (lambda board: api.plan(board, model=7), "model must be a string (a folder or a hub id), not int"),
        (lambda board: api.RenderRequest(board, jobs=0), "jobs must be a whole number of at least 1, not 0"),
        (lambda board: api.RenderRequest(board, backend=1.5), "backend must be a name or a backend class, not float"),
    ],
)
def test_a_wrong_argument_is_a_usage_error_with_a_message(tmp_path: Path, call, message: str):
    board = tmp_path / "film.yaml"
    board.write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(UsageError) as refused:
        call(board)
    assert str(refused.value) == message


def test_sound_never_makes_a_folder(tmp_path: Path):
    name = next(iter(api.sounds()))
    with pytest.raises(UsageError, match="does not exist"):
        api.sound(name, tmp_path / "missing" / "x.wav")
    assert not (tmp_path / "missing").exists()
    assert api.sound(name, tmp_path / "x.wav").stat().st_size > 44


def test_the_old_import_path_of_the_animatic_backend_still_works():
    from sora_cli.render.animatic import AnimaticBackend
    from sora_cli.render.animatic.backend import AnimaticBackend as Moved

    assert AnimaticBackend is Moved


def test_the_reports_qc_names_the_published_film_not_its_staged_file(tmp_path: Path):
    board = tmp_path / "film.yaml"
    board.write_text(small(MINIMAL), encoding="utf-8")
    report = api.render(api.RenderRequest(board, jobs=1, use_cache=False))
    assert report["qc"]["film"] == report["output"]["file"]
    assert json.loads((tmp_path / "film.report.json").read_text())["qc"]["film"] == "film.mp4"
