"""A pytest plugin for prompt regression tests on recorded LLM calls.

Enable it with ``pytest_plugins = ["patterns.testing"]`` in a ``conftest.py``
(it needs the ``test`` dependency group: pytest-recording, vcrpy, syrupy,
pyyaml). Then every test marked ``@pytest.mark.vcr``:

- replays ``cassettes/<test module>/<test name>.yaml``, never the network;
- matches each request by its JSON body (minus the model name), so a changed
  prompt, schema or setting fails with a diff and the command that re-records
  the test;
- fails if the run leaves recorded interactions unplayed (it made fewer calls);
- records no header but ``content-type``: no key, organisation or machine
  detail reaches a cassette, and cassettes replay under any base URL.

Cassettes store JSON bodies as YAML, so a re-recorded prompt reads as a diff.
``snapshot_json`` is syrupy's snapshot as JSON, with latencies masked.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension
from syrupy.matchers import path_type
from vcr.errors import CannotOverwriteExistingCassetteException

RECORD_COMMAND = "nox -s record -- {nodeid}"
KEPT_HEADERS = frozenset({"content-type"})
UNMATCHED_KEYS = frozenset({"model"})
"""Request body keys left out of matching: recordings made against one model name
replay under another (what is sent to it is still matched)."""


def cassette_root(config: pytest.Config) -> Path:
    return Path(config.rootpath) / "cassettes"


# --- What gets recorded -------------------------------------------------------------------


def scrub_request(request: Any) -> Any:
    request.headers = {k: v for k, v in request.headers.items() if k.lower() in KEPT_HEADERS}
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = {
        k: v for k, v in response["headers"].items() if k.lower() in KEPT_HEADERS
    }
    return response


class ReadableYAML:
    """vcrpy serializer: JSON bodies stored as YAML structures, long text as blocks."""

    @staticmethod
    def serialize(cassette: dict[str, Any]) -> str:
        for interaction in cassette["interactions"]:
            _unfold(interaction["request"], "body")
            _unfold(interaction["response"]["body"], "string")
        return yaml.dump(cassette, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True)

    @staticmethod
    def deserialize(text: str) -> dict[str, Any]:
        cassette: dict[str, Any] = yaml.safe_load(text)
        for interaction in cassette["interactions"]:
            _fold(interaction["request"], "body")
            _fold(interaction["response"]["body"], "string")
        return cassette


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
    pass


def _str_block(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BlockDumper.add_representer(str, _str_block)


# --- How requests are matched -------------------------------------------------------------


def canonical_body(body: bytes | str | None) -> str:
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in UNMATCHED_KEYS}
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False)


def llm_body(sent: Any, recorded: Any) -> None:
    """vcrpy matcher: equal JSON bodies, or an AssertionError holding the diff."""
    now, then = canonical_body(sent.body), canonical_body(recorded.body)
    if now != then:
        diff = difflib.unified_diff(
            then.splitlines(), now.splitlines(), "recorded", "sent now", lineterm="", n=1
        )
        raise AssertionError("request body changed:\n" + "\n".join(list(diff)[:80]))


# --- pytest wiring ------------------------------------------------------------------------


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("llm_body", llm_body)
    vcr.register_serializer("yaml", ReadableYAML())


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    return {
        "serializer": "yaml",
        "match_on": ("method", "path", "llm_body"),
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "decode_compressed_response": True,
        "allow_playback_repeats": False,
        # Loopback stays reachable for the stub servers some tests start.
        "allowed_hosts": ["127.0.0.1", "localhost"],
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(cassette_root(request.config) / Path(request.node.path).stem)


class UnplayedInteractionsError(AssertionError):
    """A replayed test made fewer LLM calls than its cassette holds."""


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _every_interaction_played(
    vcr: Any, record_mode: str, request: pytest.FixtureRequest
) -> Iterator[None]:
    yield
    if request.node.stash.get(_CALL_FAILED, False):
        return  # the test failed already: one report is enough
    if vcr is not None and record_mode == "none" and not vcr.all_played:
        unplayed = len(vcr.data) - vcr.play_count
        raise UnplayedInteractionsError(
            f"{unplayed} recorded interaction(s) in {vcr._path} were not played: "
            "the code now makes fewer calls than when it was recorded"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Add the re-record command to failures caused by stale or missing recordings."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    if report.failed and call.excinfo is not None and _stale_recording(call.excinfo.value):
        report.longrepr = (
            f"{report.longrepr}\n\n"
            f"The recorded LLM calls of {item.nodeid} no longer match what the code "
            "sends (a prompt, schema or setting changed), or were never recorded.\n"
            "If the change is intended, re-record this test against a real model:\n\n"
            f"    {RECORD_COMMAND.format(nodeid=item.nodeid)}\n"
        )
    return report


def _stale_recording(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, CannotOverwriteExistingCassetteException | UnplayedInteractionsError):
            return True
        error = error.__cause__ or error.__context__
    return False


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """syrupy as clean JSON; latencies (the only local volatile values) masked."""
    return snapshot.with_defaults(
        extension_class=JSONSnapshotExtension,
        matcher=path_type({r".*latency_s": (float,)}, regex=True),
    )
