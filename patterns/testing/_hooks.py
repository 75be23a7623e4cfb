"""The plugin's hooks: ini options, the guarded cassette options, strict replay, and the
re-record hint on a stale recording."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from ._cassettes import MAX_CASSETTE_BYTES, CassetteError, ReadableYAML, llm_body, load_cassette
from ._guard import PLUGIN_CONFIG, guarded_options
from ._scrub import Secrets

INI_OPTIONS: dict[str, tuple[str, str | list[str]]] = {
    "llm_record_command": (
        "the command shown on a stale recording; {nodeid} is the test id",
        "pytest {nodeid} --record-mode=rewrite --snapshot-update",
    ),
    "llm_cassette_dir": (
        "cassettes under this folder (relative to the rootdir), by test file path; "
        "empty: a cassettes/ folder beside each test file",
        "",
    ),
    "llm_unmatched_body_keys": (
        "request body keys left out of matching (recordings made on one model "
        "name replay under another)",
        ["model"],
    ),
    "llm_structured_mode": (
        "the llm fixture's structured-output mode (PATTERNS_STRUCTURED_MODE overrides)",
        "json_schema",
    ),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, (help_text, default) in INI_OPTIONS.items():
        if isinstance(default, list):
            parser.addini(name, help_text, type="args", default=default)
        else:
            parser.addini(name, help_text, type="string", default=default)


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """Called by pytest-recording for every cassette, with the options it will pass."""
    unmatched = frozenset(cast(list[str], config.getini("llm_unmatched_body_keys")))
    secrets = Secrets.from_environment()

    def llm_body_matcher(sent: Any, recorded: Any) -> None:
        llm_body(sent, recorded, unmatched)

    llm_body_matcher.__name__ = "llm_body"  # vcrpy names failed matchers in its report
    vcr.register_matcher("llm_body", llm_body_matcher)
    vcr.register_serializer("yaml", ReadableYAML(secrets))
    use_cassette = vcr.use_cassette

    def guarded_use_cassette(path: Any = None, **options: Any) -> Any:
        guarded = guarded_options(options, secrets)
        if path is not None:
            checked_cassette(vcr.path_transformer(os.path.join(vcr.cassette_library_dir, path)))
        return use_cassette(path, **guarded)

    vcr.use_cassette = guarded_use_cassette


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    """The plugin's options; a project's own ``vcr_config`` is merged with them, not instead."""
    return dict(PLUGIN_CONFIG)


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """Beside the test file (``<dir>/cassettes/<module>/``), or under ``llm_cassette_dir``
    by the test file's path, so two ``test_api.py`` in different folders never share one."""
    module = Path(request.node.path)
    configured = cast(str, request.config.getini("llm_cassette_dir"))
    if not configured:
        return str(module.parent / "cassettes" / module.stem)
    root = Path(request.config.rootpath)
    try:
        relative = module.relative_to(root).with_suffix("")
    except ValueError:  # a test file outside the rootdir
        relative = Path(module.stem)
    return str(root / configured / relative)


# --- Replay strictness and the re-record hint -----------------------------------------------


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
    if vcr is not None and record_mode != "none" and not vcr.data:
        raise NothingRecordedError(
            f"{request.node.nodeid} is marked to record, but made no request while recording: "
            "nothing would replay. Check that it sends through the llm fixture's endpoint "
            "(PATTERNS_BASE_URL), or drop its vcr mark."
        )
    if vcr is not None and record_mode == "none" and not vcr.all_played:
        unplayed = len(vcr.data) - vcr.play_count
        raise UnplayedInteractionsError(
            f"{unplayed} recorded interaction(s) in {vcr._path} were not played: "
            "the code now makes fewer calls than when it was recorded"
        )


def checked_cassette(path: str) -> None:
    """A cassette that exists must load in bounded time and hold what vcrpy reads; else
    one error naming the file (the re-record hint follows it)."""
    if not os.path.isfile(path):
        return
    try:
        with open(path, encoding="utf-8") as file:
            load_cassette(file.read(MAX_CASSETTE_BYTES + 1))
    except (CassetteError, UnicodeDecodeError) as error:
        raise CassetteError(
            f"cassette {path} cannot be replayed: {error}; delete it and record it again"
        ) from None


class NothingRecordedError(AssertionError):
    """A test marked to record made no request while recording: its cassette is empty."""


def record_command(config: pytest.Config, nodeid: str) -> str:
    template = cast(str, config.getini("llm_record_command"))
    return template.replace("{nodeid}", shlex.quote(nodeid))


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
            f"    {record_command(item.config, item.nodeid)}\n"
        )
    return report


def _stale_recording(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(
            error,
            CannotOverwriteExistingCassetteException
            | UnplayedInteractionsError
            | CassetteError
            | NothingRecordedError,
        ):
            return True
        error = error.__cause__ or error.__context__
    return False
