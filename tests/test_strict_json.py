"""Every JSON sora writes is JSON: no ``NaN``/``Infinity`` (which Python writes by default and strict parsers
such as ``jq`` reject), even for a silent film whose levels are -inf dB."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from sora_cli.json_text import dumps
from tests.conftest import run_cli

SILENT = (
    "version: 1\ntitle: Silent\noutput: {width: 192, height: 108, fps: 12}\n"
    "world: {location: a quiet field}\naudio: {ambience: none}\n"
    "shots:\n  - {id: one, duration: 1, action: grass sways}\n  - {id: two, duration: 1, action: clouds pass}\n"
)


def strict(text: str) -> Any:
    """``json.loads`` that refuses the non-JSON constants NaN, Infinity and -Infinity."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_a_silent_film_reports_null_levels_in_strict_json(tmp_path: Path) -> None:
    sb = tmp_path / "silent.yaml"
    sb.write_text(SILENT)
    rendered = run_cli("render", str(sb), "--json", "--quiet", "--no-cache", "--jobs", "1")
    assert rendered.code == 0, rendered.stderr
    for text in (rendered.stdout, (tmp_path / "silent.report.json").read_text()):
        sound = strict(text)["sound"]
        assert sound["silent"] is True and sound["loudness_lufs"] is None and sound["true_peak_dbtp"] is None
        assert "silent soundtrack" in sound["note"], sound
    checked = run_cli("qc", str(tmp_path / "silent.mp4"), "--plan", str(sb), "--json")
    assert checked.code == 0, checked.stderr
    checks = {c["id"]: c for c in strict(checked.stdout)["checks"]}
    for level in ("audio.true_peak", "audio.max_momentary"):  # no level, never the meter's -200.7 floor
        assert checks[level]["value"] is None and "silence" in checks[level]["note"], checks[level]
    # a film with sound still reports its levels as numbers
    sb.write_text(SILENT.replace("audio: {ambience: none}", "audio: {ambience: auto}"))
    sound = strict(run_cli("render", str(sb), "--json", "--quiet", "--no-cache", "--jobs", "1").stdout)["sound"]
    assert sound["silent"] is False and math.isfinite(sound["loudness_lufs"]) and "note" not in sound, sound


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_values_are_written_as_null_at_any_depth(value: float) -> None:
    assert strict(dumps({"a": [1.5, {"b": (value, 2)}], "c": value})) == {"a": [1.5, {"b": [None, 2]}], "c": None}
