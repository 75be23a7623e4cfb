"""The cassette format (JSON bodies as readable YAML, the last gate against secrets)
and how a request is matched (equal JSON bodies, or a diff)."""

from __future__ import annotations

import difflib
import json
from typing import Any, cast

import yaml

from ..core.plumbing import find_secret


class CassetteSecretError(AssertionError):
    """A cassette about to be written still holds a secret: it was not written."""


class ReadableYAML:
    """vcrpy serializer: JSON bodies stored as YAML structures, long text as blocks.

    It is also the last gate before a cassette reaches the disk: one that still holds
    a secret raises ``CassetteSecretError`` and nothing is written.
    """

    def __init__(self, secrets: set[str] | None = None) -> None:
        self.secrets = secrets if secrets is not None else set()

    def serialize(self, cassette: dict[str, Any]) -> str:
        for interaction in cassette["interactions"]:
            _unfold(interaction["request"], "body")
            _unfold(interaction["response"]["body"], "string")
        text = yaml.dump(cassette, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True)
        if kind := find_secret(text, self.secrets):
            raise CassetteSecretError(
                f"refusing to write a cassette that holds {kind}; it was not saved. Remove "
                "the secret from what the test sends (a prompt, a URL), then record again."
            )
        return text

    @staticmethod
    def deserialize(text: str) -> dict[str, Any]:
        cassette = load_cassette(text)
        for interaction in cassette["interactions"]:
            _fold(interaction["request"], "body")
            _fold(interaction["response"]["body"], "string")
        return cassette


class CassetteError(ValueError):
    """A cassette file that cannot be replayed: too large, not plain YAML, or not in the
    shape this plugin writes. The message says what is wrong."""


MAX_CASSETTE_BYTES = 20 * 1024 * 1024
"""A cassette larger than this is refused (the project's largest is well under 1 MB)."""


def load_cassette(text: str) -> dict[str, Any]:
    """A cassette's data, in bounded time: no YAML alias or anchor (this plugin never
    writes one, and an alias bomb would expand without end), no tag but plain data, and
    the shape vcrpy needs; else ``CassetteError``."""
    if len(text) > MAX_CASSETTE_BYTES:
        raise CassetteError(f"it is {len(text):,} characters, over {MAX_CASSETTE_BYTES:,}")
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise CassetteError("it holds a YAML alias or anchor, which cassettes never use")
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CassetteError(f"it is not plain YAML: {' '.join(str(error).split())[:200]}") from None
    problem = _shape_problem(data)
    if problem:
        raise CassetteError(problem)
    return cast(dict[str, Any], data)


def _shape_problem(data: object) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        return "it has no list of interactions"
    for number, interaction in enumerate(data["interactions"], 1):
        request = interaction.get("request") if isinstance(interaction, dict) else None
        response = interaction.get("response") if isinstance(interaction, dict) else None
        if not isinstance(request, dict) or not isinstance(response, dict):
            return f"interaction {number} lacks a request or a response"
        if not isinstance(response.get("body"), dict) or not isinstance(
            response.get("status"), dict
        ):
            return f"interaction {number}'s response lacks a body or a status"
        if not isinstance(request.get("uri"), str) or not isinstance(request.get("method"), str):
            return f"interaction {number}'s request lacks a method or a URI"
    return None


def _unfold(container: dict[str, Any], key: str) -> None:
    try:
        parsed = json.loads(container[key])
    except (TypeError, ValueError):
        return
    if isinstance(parsed, dict | list):
        container[f"{key}_json"] = parsed
        del container[key]


def _fold(container: dict[str, Any], key: str) -> None:
    if f"{key}_json" in container:
        container[key] = json.dumps(container.pop(f"{key}_json"))


class _BlockDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a repeated value is written again, never as an alias


def _str_block(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BlockDumper.add_representer(str, _str_block)


# --- How requests are matched -------------------------------------------------------------


def canonical_body(
    body: bytes | str | None, unmatched: frozenset[str] = frozenset({"model"})
) -> str:
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in unmatched}
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False)


def llm_body(sent: Any, recorded: Any, unmatched: frozenset[str] = frozenset({"model"})) -> None:
    """vcrpy matcher: equal JSON bodies, or an AssertionError holding the diff."""
    now, then = canonical_body(sent.body, unmatched), canonical_body(recorded.body, unmatched)
    if now != then:
        diff = difflib.unified_diff(
            then.splitlines(), now.splitlines(), "recorded", "sent now", lineterm="", n=1
        )
        raise AssertionError("request body changed:\n" + "\n".join(list(diff)[:80]))
