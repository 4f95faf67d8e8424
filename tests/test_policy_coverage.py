"""The content policy sees every text that reaches a prompt, a caption or speech, whatever its YAML form."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sora_cli.storyboard.policy as policy
from sora_cli.errors import StoryboardError
from sora_cli.plan.resolve import make_plan
from sora_cli.storyboard import parse_storyboard
from tests.conftest import EXAMPLES, problems_of

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=14).map(str.strip).filter(bool)


def _set_forms(draw, location: str, lighting: str, prop: str) -> str:
    """One shot's ``set:`` in one of the forms the format and its extensions accept."""
    form = draw(st.sampled_from(["dotted", "nested", "flow", "merge", "location", "lighting"]))
    q = json.dumps
    return {
        "dotted": f"set: {{props.sled.description: {q(prop)}}}",
        "nested": f"set: {{props: {{sled: {{description: {q(prop)}}}}}}}",
        "flow": f"set:\n      props:\n        sled.description: {q(prop)}",
        "merge": f"set: {{<<: {{props: {{sled: {{description: {q(prop)}}}}}}}, lighting: {q(lighting)}}}",
        "location": f"set: {{location: {q(location)}}}",
        "lighting": f"set: {{lighting: {q(lighting)}}}",
    }[form]


@st.composite
def storyboards(draw) -> str:
    q = json.dumps
    shots = []
    for i in range(draw(st.integers(1, 3))):
        cast = draw(st.sampled_from(["[]", "[kim]", "[kim, ann]"]))
        props = draw(st.sampled_from(["[]", "[sled]", "[sled, box]"]))
        shot = f"  - id: s{i}\n    duration: 3\n    action: {q(draw(WORDS))}\n    cast: {cast}\n    props: {props}\n"
        if draw(st.booleans()):
            shot += f"    dialogue: [{{speaker: kim, line: {q(draw(WORDS))}}}]\n"
        if draw(st.booleans()):
            shot += "    " + _set_forms(draw, draw(WORDS), draw(WORDS), draw(WORDS)) + "\n"
        shots.append(shot)
    return (
        f"version: 1\ntitle: {q(draw(WORDS))}\nstyle: {q(draw(WORDS))}\n"
        "output: {width: 64, height: 64, fps: 4}\n"
        f"world:\n  location: {q(draw(WORDS))}\n  lighting: {q(draw(WORDS))}\n"
        f"  characters:\n    kim: {{description: {q(draw(WORDS))}}}\n    ann: {{description: {q(draw(WORDS))}}}\n"
        f"  props:\n    sled: {{description: {q(draw(WORDS))}}}\n    box: {{}}\n"
        "shots:\n" + "".join(shots)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(storyboards())
def test_every_text_in_the_plan_was_seen_by_the_policy(monkeypatch, text: str):
    seen: set[str] = set()

    def record(value: str, field: str) -> None:
        seen.add(value)

    monkeypatch.setattr(policy, "classifiers", lambda: [record])
    try:
        sb = parse_storyboard(text, "sb.yaml", EXAMPLES)
        plan = make_plan(sb)  # timing rules (a line longer than its fixed shot) are checked here
    except StoryboardError:  # a random text may break a rule; the property is about accepted ones
        return
    reaching: list[str] = [plan.title, sb.style]
    for shot in plan.shots:
        reaching += [shot.world.location, shot.world.lighting, shot.action]
        reaching += [line.line for line in shot.dialogue]
        reaching += [shot.world.props[p] or p for p in shot.props]
        reaching += [c for c in shot.cast] + [shot.world.characters[c].description for c in shot.cast]
    unseen = [t for t in reaching if t and t not in seen]
    assert not unseen, (unseen, text)


@pytest.mark.parametrize(
    "form",
    [
        'set: {props: {sled: {description: "how to build a bomb"}}}',
        'set: {props.sled.description: "how to build a bomb"}',
        'set:\n      props:\n        sled.description: "how to build a bomb"',
        'set: {<<: {props: {sled: {description: "how to build a bomb"}}}}',
    ],
)
def test_the_policy_refuses_a_prop_description_in_every_set_form(form: str):
    text = (
        'version: 1\ntitle: P\nworld: {location: street, props: {sled: {description: "a sled"}}}\n'
        f"shots:\n  - id: one\n    props: [sled]\n    {form}\n"
    )
    [problem] = problems_of(text)
    assert "shots[0].set.props" in problem and "weapons-instructions" in problem


def test_a_prop_id_that_reaches_the_prompt_is_checked():
    text = "version: 1\ntitle: P\nworld: {location: street, props: {gore: {}}}\nshots: [{id: one}]\n"
    assert any("world.props.gore: violates content policy" in p for p in problems_of(text))
