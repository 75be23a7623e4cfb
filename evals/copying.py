"""Copied schema text: answer fields that repeat a field description of the answer's
schema (small models do: "description": "The request restated in one short sentence.
..."), or the wording of the prompt (its definitions, its worked examples).
Deterministic: a field copies a text when it contains six consecutive words of it (case
and punctuation aside)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from patterns.core import Step, schema_of

from .checks import Check, CheckContext, CheckResult

SHINGLE = 6


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9_]+", text.lower())


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def descriptions(schema: Any) -> Iterator[str]:
    """Every description in a JSON schema, nested ones included."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                yield value
            else:
                yield from descriptions(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from descriptions(item)


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path or "answer", value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def copied_fields(
    answer: Any, schemas: Sequence[type[BaseModel]], texts: Sequence[str] = ()
) -> list[str]:
    """The paths of the string fields of ``answer`` that copy a description or a text."""
    sources = [d for m in schemas for d in descriptions(schema_of(m))] + list(texts)
    shown = set().union(*(_shingles(text) for text in sources))
    data = answer.model_dump(mode="json") if isinstance(answer, BaseModel) else answer
    return [path for path, text in _strings(data) if _shingles(text) & shown]


@dataclass(frozen=True)
class _Copied(Check[Any]):
    schemas: Sequence[type[BaseModel]] = ()
    texts: Sequence[str] = ()

    async def run(self, output: Any, context: CheckContext) -> CheckResult:
        """Every answer the model gave in this case (structured answers and tool
        arguments alike, read from the transcript), else the task's output."""
        answers = [_answer_data(e.answer) for e in context.trace.transcript or []]
        found = [
            f"{number}:{path}" if len(answers) > 1 else path
            for number, answer in enumerate(answers or [output], 1)
            for path in copied_fields(answer, self.schemas, self.texts)
        ]
        return CheckResult(value=found, expected=[], passed=not found)


def _answer_data(text: str) -> Any:
    """The JSON inside a raw answer (a tool call is written ``name({...})``), else the text."""
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        with contextlib.suppress(ValueError):
            return json.loads(text[start : end + 1])
    return text


def CopiedSchemaText(
    schemas: Sequence[type[BaseModel]],
    texts: Sequence[str] = (),
    name: str = "copied_schema_text",
) -> Check[Any]:
    """Passes when no model-written field of the case (every answer in its transcript,
    tool arguments included) copies a description of ``schemas`` or six words running of
    ``texts`` (the prompts the model was given)."""
    return _Copied(name, lambda case, output: CheckResult(), schemas, texts)


def CopiedStepText(steps: Sequence[Step[Any]], name: str = "copied_schema_text") -> Check[Any]:
    """``CopiedSchemaText`` over a pattern's steps (``chain.STEPS``, ...): each step's
    answer schema and instructions, read from the pattern itself."""
    schemas = [s.output_type for s in steps if s.output_type is not None]
    return CopiedSchemaText(schemas, [s.instructions for s in steps], name)
