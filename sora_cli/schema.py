"""The JSON Schema of the storyboard format, for editors (yaml-language-server)."""

from __future__ import annotations

import json
from typing import Any

from sora_cli.storyboard.model import Storyboard

SCHEMA_FILE = "storyboard.schema.json"


def storyboard_schema() -> dict[str, Any]:
    schema = Storyboard.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sora storyboard, version 1",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def schema_text() -> str:
    return json.dumps(storyboard_schema(), indent=2, sort_keys=True) + "\n"
