"""The API is the front door: the README's example runs, and the CLI prints what the API returns."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sora_cli import api
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
    assert said[1].startswith("film.draft.mp4 ") and said[1].endswith(" LUFS")
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
