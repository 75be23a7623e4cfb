"""Copied schema text: answer fields that repeat a field description of the answer's
schema (small models do: "description": "The request restated in one short sentence.
..."), or the wording of the prompt (its definitions, its worked examples).
Deterministic: a field copies a text when it contains six consecutive words of it (case
and punctuation aside), or a worked example's answer of three words or more that the
user's message does not say."""

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


EXAMPLE_WORDS = 3
_EXAMPLE = re.compile(r"->\s*(\{.*?\})\s*(?=$|\n|Example)", re.DOTALL)


def example_answers(text: str) -> list[str]:
    """The string values of the worked examples' answers in a prompt (``-> {...}``) of
    three words or more: "Move the standup to 10am." is copied if an answer about another
    event says it, though it is shorter than a shingle."""
    found: list[str] = []
    for match in _EXAMPLE.finditer(text):
        with contextlib.suppress(ValueError):
            data = json.loads(match[1].replace("{{", "{").replace("}}", "}"))
            found += [value for _, value in _strings(data) if len(_words(value)) >= EXAMPLE_WORDS]
    return found


def _holds(words: list[str], part: list[str]) -> bool:
    return any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1))


def copied_fields(
    answer: Any, schemas: Sequence[type[BaseModel]], texts: Sequence[str] = (), user: str = ""
) -> list[str]:
    """The paths of the string fields of ``answer`` that copy a description or a text, or
    a worked example's answer in a text (unless the user's message says it too)."""
    sources = [d for m in schemas for d in descriptions(schema_of(m))] + list(texts)
    shown = set().union(*(_shingles(text) for text in sources))
    examples = [_words(v) for t in texts for v in example_answers(t)]
    examples = [e for e in examples if not _holds(_words(user), e)]
    data = answer.model_dump(mode="json") if isinstance(answer, BaseModel) else answer
    return [
        path
        for path, text in _strings(data)
        if _shingles(text) & shown or any(_holds(_words(text), e) for e in examples)
    ]


@dataclass(frozen=True)
class _Copied(Check[Any]):
    schemas: Sequence[type[BaseModel]] = ()
    texts: Sequence[str] = ()

    async def run(self, output: Any, context: CheckContext) -> CheckResult:
        """Every answer the model gave in this case (structured answers and tool
        arguments alike, read from the transcript), else the task's output."""
        answers = [_answer_data(e.answer) for e in context.trace.transcript or []]
        user = str(context.case.input)
        found = [
            f"{number}:{path}" if len(answers) > 1 else path
            for number, answer in enumerate(answers or [output], 1)
            for path in copied_fields(answer, self.schemas, self.texts, user)
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
