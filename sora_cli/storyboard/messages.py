"""Turn pydantic's validation errors into messages a storyboard author can act on.

Each message says what is wrong and what would be valid: the allowed values of
an enum, the keys a mapping accepts (with a "did you mean" for typos), the
range of a number.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from sora_cli.errors import Problem, choice_list, did_you_mean, show
from sora_cli.storyboard.source import FieldPath, SourceMap


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0]
        else:
            return tp


def model_at(root: type[BaseModel], loc: FieldPath) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc``, if any."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if not isinstance(part, str) or part not in tp.model_fields:
                return None
            tp = tp.model_fields[part].annotation
        elif origin is list:
            tp = typing.get_args(tp)[0]
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


_RANGE = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}
_KIND = {
    "int": "a whole number",
    "float": "a number",
    "string": "text",
    "bool": "true or false",
    "dict": "a mapping (key: value)",
    "model": "a mapping (key: value)",
    "list": "a list",
}


def _expected_kind(error_type: str) -> str | None:
    for prefix, kind in _KIND.items():
        if error_type.startswith(prefix + "_"):
            return kind
    return None


def describe(root: type[BaseModel], err: dict[str, Any], loc: FieldPath) -> tuple[str, bool]:
    """The message for one pydantic error, and whether it points at a key."""
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "extra_forbidden":
        model = model_at(root, loc[:-1])
        fields = sorted(model.model_fields) if model else []
        return f"unknown key {loc[-1]!r}{did_you_mean(str(loc[-1]), fields)} (valid keys: {choice_list(fields)})", True
    if kind == "missing":
        return f"{loc[-1]!r} is required", False
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'|(\d+)", str(ctx.get("expected", "")))
        allowed_values = [a or b for a, b in allowed]
        return (
            f"{show(value)} is not valid{did_you_mean(str(value), allowed_values)} (valid: {choice_list(allowed_values)})",
            False,
        )
    if kind == "string_pattern_mismatch":
        if loc and loc[-1] == "color":
            return f"{show(value)} is not a colour; write it as '#rrggbb', e.g. '#d33b2f'", False
        return f"{show(value)} is not a valid name: use lowercase letters, digits, '_' and '-'", False
    if kind in _RANGE:
        words, key = _RANGE[kind]
        return f"must be {words} {ctx.get(key)} (got {show(value)})", False
    if kind == "multiple_of":
        what = "an even number" if ctx.get("multiple_of") == 2 else f"a multiple of {ctx.get('multiple_of')}"
        return f"must be {what} (got {show(value)})", False
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} entr{'y' if ctx.get('min_length') == 1 else 'ies'}", False
    if kind == "string_too_short":
        return "must not be empty", False
    if kind == "too_long":
        return f"has too many entries (at most {ctx.get('max_length')})", False
    if kind == "string_too_long":
        return f"is too long (at most {ctx.get('max_length')})", False
    expected = _expected_kind(kind)
    if expected:
        return f"expected {expected}, got {show(value)}", False
    return str(err.get("msg", "invalid value")), False


def problems_from(error: ValidationError, root: type[BaseModel], source: SourceMap) -> list[Problem]:
    """One :class:`Problem` per distinct error, located through ``source``."""
    out: list[Problem] = []
    seen: set[tuple[FieldPath, str]] = set()
    for err in error.errors(include_url=False):
        loc = tuple(err["loc"])  # the model has no unions, so loc is the data path
        message, at_key = describe(root, err, loc)
        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        out.append(source.problem(loc, message, key=at_key))
    return out
