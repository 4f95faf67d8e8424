"""The command line's storyboard changes are one function, and the plan made after it is what renders."""

from __future__ import annotations

from sora_cli import api
from sora_cli.plan.resolve import make_plan
from sora_cli.storyboard.overrides import Overrides, overridden
from tests.conftest import MINIMAL, render, small

DIFFUSERS = small(MINIMAL).replace("title: Test", "title: Test\nbackend: {name: diffusers, model: no-such-model}")


def test_backend_override_is_in_the_plan(write_sb):
    """`--backend` is applied before planning: plan.backend.name names the backend that draws."""
    path = write_sb(DIFFUSERS)
    plan = api.plan(path, backend="animatic")
    assert plan.backend.name == "animatic"
    assert plan.backend.model == "no-such-model"  # only what was overridden changes
    assert make_plan(overridden(api.load(path), Overrides(backend="animatic"))).backend.name == "animatic"


def test_render_with_backend_override_reports_and_plans_the_backend_it_drew_with(write_sb, tmp_path):
    path = write_sb(DIFFUSERS)
    report = render(path, backend="animatic", output=tmp_path / "film.mp4", qc=False)
    assert report["backend"]["name"] == "animatic"
    assert report["provenance"]["backend"] == "animatic"


def test_overrides_return_a_new_storyboard_and_leave_the_old_one(write_sb):
    sb = api.load(write_sb(small(MINIMAL, 640, 360, 24)))
    drafted = overridden(sb, Overrides(model="m", draft=True))
    assert (drafted.output.width, drafted.output.height, drafted.output.fps) == (320, 180, 12)  # a quarter of the pixels
    assert drafted.backend.model == "m" and drafted.backend.name == "animatic"
    assert (sb.output.width, sb.backend.model) == (640, None)
    assert drafted.source is sb.source and drafted.sha256 == sb.sha256  # problems still point into the file
    assert overridden(sb, Overrides()) is sb
