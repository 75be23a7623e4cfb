"""JSON schemas as the model is shown them: built once per type, titles dropped, and
descriptions dropped where asked (small models copy them into their answers)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic import BaseModel


@lru_cache(maxsize=256)
def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema, built once per model (it costs more than a replayed call)."""
    return model.model_json_schema()


@lru_cache(maxsize=256)
def schema_text(model: type[BaseModel], descriptions: bool = True) -> str:
    """``compact`` of the model's schema, built once per model (a JSON dump a call)."""
    return compact(json.dumps(schema_of(model)), descriptions)


@lru_cache(maxsize=256)
def compact(schema_json: str, descriptions: bool = True) -> str:
    dropped = {"title"} if descriptions else {"title", "description"}
    return json.dumps(_without(json.loads(schema_json), dropped), separators=(",", ":"))


def _without(schema: Any, keys: set[str]) -> Any:
    """The schema without pydantic's "title" keys (tokens the model does not need) and,
    when asked, without descriptions (text a small model copies into its answer)."""
    if isinstance(schema, dict):
        return {
            k: _without(v, keys)
            for k, v in schema.items()
            if not (k in keys and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_without(v, keys) for v in schema]
    return schema
