"""Random mutations of valid storyboards: the CLI answers 0 or 2, never a traceback."""

from __future__ import annotations

import contextlib
import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLES, run_cli

SOURCES = {p.name: p.read_text() for p in sorted(EXAMPLES.glob("*.yaml"))}
DATA = {name: yaml.safe_load(text) for name, text in SOURCES.items()}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["continue", "cut", "mara", "snow", "crossfade", "whisper", "assets/mara.png", "-1", "1e9"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


@st.composite
def mutated_data(draw):
    data = copy.deepcopy(DATA[draw(st.sampled_from(sorted(DATA)))])
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "rename", "duplicate"]))
        key = path[-1]
        if action == "replace":
            parent[key] = draw(values)
        elif action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = parent.pop(key)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@st.composite
def mutated_text(draw):
    text = SOURCES[draw(st.sampled_from(sorted(SOURCES)))]
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 5))
        text = (
            text[:at]
            + draw(st.text(max_size=4, alphabet=st.sampled_from(list(":-[]{}&*!|>'\"#\n\t x1"))))
            + text[at + cut :]
        )
    return text


def _assert_clean_exit(text: str) -> None:
    with contextlib.chdir(EXAMPLES):
        result = run_cli("validate", "-", stdin=text)
    assert result.code in (0, 2), (result.code, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    if result.code == 2:
        assert result.stderr.startswith("<stdin>:")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_data())
def test_mutated_structure_never_crashes(text: str):
    _assert_clean_exit(text)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_text())
def test_mutated_text_never_crashes(text: str):
    _assert_clean_exit(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_generated_and_hostile_storyboards_never_crash_validate_or_plan(rng):
    """The `make fuzz` generator, bounded for CI: exit 0 or 2, never a traceback or an internal error."""
    from tests.fuzzing import answer, hostile, storyboard

    for text in (storyboard(rng), hostile(rng)):
        for command in ("validate", "plan"):
            code, crashed = answer(command, text)
            assert code in (0, 2) and not crashed, (command, code, text[:500])
