"""Eval cases from recorded calls: a folder of cassettes (this project's readable ones,
or plain vcrpy YAML) becomes a dataset file that ``patterns-evals run --dataset`` takes.

Each recorded chat completion is one case: its ``input`` is the request's last user
message, its ``expected`` value the recorded answer (parsed when it is JSON; a tool
call as ``{"tool": ..., "arguments": ...}``), marked ``review: draft`` in its metadata:
a recorded answer is what a model said, not yet the truth, until someone has read it.
The same request recorded twice is one case. Cassettes are input like any file: each is
read by the datasets' bounded YAML reader, one that cannot be read is named and skipped, and
every string passes the secret scrub.

The response cache (``--cache``) cannot become cases: it keeps answers under a hash of
their request, not the requests themselves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from patterns.core.plumbing import scrub

from .data import DatasetError, read_yaml
from .errors import EvalsError

REVIEW = "draft"
"""``metadata.review`` of every case made here; set it to ``checked`` once read."""
HEADER = (
    "# Cases from recorded calls (patterns-evals cases-from-cassettes). Each expected\n"
    "# value is the answer a model gave when it was recorded: read it, correct it, and set\n"
    "# metadata.review to checked before reporting against it.\n"
)


class RecordedError(EvalsError, ValueError):
    """The folder holds no cassette, or the dataset file would overwrite one."""


@dataclass
class Found:
    """The cases read, and the cassettes that could not be (named, with why)."""

    cases: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def cases_from_cassettes(folder: Path, split: str = "dev") -> Found:
    """Every recorded chat completion under ``folder`` as a draft case, in file order."""
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml"))
    if not folder.is_dir() or not files:
        raise RecordedError(f"{folder}: no cassette (.yaml) found there")
    found, seen = Found(), set[str]()
    for path in files:
        where = path.relative_to(folder).with_suffix("").as_posix()
        try:
            cassette = read_yaml(path)  # bounded: size, nodes, plain data only
        except DatasetError as error:
            found.skipped.append(str(error))
            continue
        if not isinstance(cassette, dict) or not isinstance(cassette.get("interactions"), list):
            found.skipped.append(f"{path}: not a cassette (no list of interactions)")
            continue
        for number, (request, answer) in enumerate(_completions(cassette), 1):
            case = _case(request, answer, f"{where}#{number}", split)
            if case is None:
                continue
            key = json.dumps([case["metadata"]["system_sha"], case["input"]], sort_keys=True)
            if key not in seen:
                seen.add(key)
                found.cases.append(case)
    return found


def write_dataset(found: Found, out: Path) -> None:
    """The cases as a dataset file (YAML; ``.jsonl`` for one JSON case per line); an
    existing file is never overwritten."""
    if out.exists():
        raise RecordedError(f"{out}: already exists; name a new file (nothing was written)")
    if out.suffix == ".jsonl":
        text = "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in found.cases)
    else:
        body = yaml.safe_dump({"cases": found.cases}, sort_keys=False, allow_unicode=True)
        text = HEADER + body
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


def _completions(cassette: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(request body, completion) of each recorded 200 answer to a chat completion."""
    for interaction in cassette["interactions"]:
        request = interaction.get("request") if isinstance(interaction, dict) else None
        response = interaction.get("response") if isinstance(interaction, dict) else None
        if not isinstance(request, dict) or not isinstance(response, dict):
            continue
        status, body = response.get("status"), response.get("body")
        if not isinstance(status, dict) or status.get("code") != 200:
            continue
        if not str(request.get("uri", "")).endswith("/chat/completions"):
            continue
        answer = (
            _json(body.get("string_json", body.get("string"))) if isinstance(body, dict) else None
        )
        body = _json(request.get("body_json", request.get("body")))
        if isinstance(body, dict) and isinstance(answer, dict):
            yield body, answer


def _json(value: Any) -> Any:
    if isinstance(value, dict | list) or value is None:
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return None


def _case(
    request: dict[str, Any], answer: dict[str, Any], source: str, split: str
) -> dict[str, Any] | None:
    messages = [m for m in request.get("messages", []) if isinstance(m, dict)]
    users = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
    systems = [_text(m.get("content")) for m in messages if m.get("role") == "system"]
    choices = answer.get("choices")
    if not users or not isinstance(choices, list) or not choices:
        return None
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    expected = _expected(message) if isinstance(message, dict) else None
    if expected is None:
        return None
    system = "\n".join(systems)
    metadata = {
        "review": REVIEW,
        "source": source,
        "model": str(request.get("model", "")),
        "system_sha": hashlib.sha256(system.encode()).hexdigest()[:12],
    }
    schema = (request.get("response_format") or {}).get("json_schema") or {}
    if isinstance(schema, dict) and schema.get("name"):
        metadata["schema"] = str(schema["name"])
    return {
        "id": scrub(source),
        "input": scrub(users[-1]),
        "expected": _scrubbed(expected),
        "metadata": {k: scrub(v) for k, v in metadata.items()},
        "split": split,
    }


def _text(content: Any) -> str:
    """A message's text (its text parts, for content given as parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return ""


def _expected(message: dict[str, Any]) -> Any:
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls and isinstance(calls[0], dict):
        function = calls[0].get("function") or {}
        arguments = _json(function.get("arguments"))
        return {"tool": function.get("name"), "arguments": arguments}
    content = message.get("content")
    if not isinstance(content, str):
        return None
    parsed = _json(content)
    return parsed if isinstance(parsed, dict | list) else content


def _scrubbed(value: Any) -> Any:
    return json.loads(scrub(json.dumps(value, ensure_ascii=False)))
