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
from ._guard import PLUGIN_CONFIG, SERVER_ERRORS, guarded_options
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
    "llm_record_server_errors": (
        "save 5xx answers while recording (default false: one recorded would replay forever)",
        "false",
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

    keep_errors = str(config.getini("llm_record_server_errors")).lower() in ("true", "1", "yes")

    def guarded_use_cassette(path: Any = None, **options: Any) -> Any:
        guarded = guarded_options(options, secrets, keep_errors)
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
    SERVER_ERRORS.clear()
    yield
    if SERVER_ERRORS:
        codes = ", ".join(map(str, sorted(set(SERVER_ERRORS))))
        SERVER_ERRORS.clear()
        raise ServerErrorNotRecordedError(
            f"the endpoint answered HTTP {codes} while recording {request.node.nodeid}; that "
            "answer was not saved (recorded once, it would replay forever). Fix the endpoint "
            "or the request and record again, or set llm_record_server_errors = true to "
            "record it on purpose"
        )
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


class ServerErrorNotRecordedError(AssertionError):
    """The endpoint answered 5xx while recording; the answer was left out."""


class NothingRecordedError(AssertionError):
    """A test marked to record made no request while recording: its cassette is empty."""


def record_command(config: pytest.Config, nodeid: str) -> str:
    template = cast(str, config.getini("llm_record_command"))
    return template.replace("{nodeid}", shlex.quote(nodeid))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failure caused by a stale or missing recording is reported as the plugin's own:
    what changed (the request body's diff), the cassette and the re-record command, in
    place of vcrpy's traceback and its advice (``new_episodes``, a looser ``match_on``),
    which this plugin refuses."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    stale = _stale_recording(call.excinfo.value) if call.excinfo is not None else None
    if report.failed and stale is not None:
        path, line, _ = item.location
        report.longrepr = (
            f"{path}:{(line or 0) + 1}: the recorded LLM calls of {item.nodeid} no longer "
            "match what the code sends (a prompt, schema or setting changed), or were "
            f"never recorded.\n{_what_changed(stale, item.config)}\n\n"
            "If the change is intended, re-record this test against a real model:\n\n"
            f"    {record_command(item.config, item.nodeid)}\n"
        )
    return report


def _what_changed(error: BaseException, config: pytest.Config) -> str:
    if not isinstance(error, CannotOverwriteExistingCassetteException):
        return f"{type(error).__name__}: {error}"
    unmatched = frozenset(cast(list[str], config.getini("llm_unmatched_body_keys")))
    sent, cassette = error.failed_request, error.cassette
    found = f"cassette: {cassette._path}\n{sent.method} {sent.path}: "
    same_path = [r for r in cassette.requests if (r.method, r.path) == (sent.method, sent.path)]
    differences = []
    for recorded in same_path:
        try:
            llm_body(sent, recorded, unmatched)
        except AssertionError as difference:
            differences.append(str(difference))
    if differences:  # the closest recorded request: the shortest diff
        return found + min(differences, key=lambda text: len(text.splitlines()))
    if not same_path:
        return found + "no recorded request to this path"
    return found + (
        "it matches a recorded request that was already played: the code now sends it more "
        "often than when it was recorded"
    )


def _stale_recording(error: BaseException | None) -> BaseException | None:
    """The recording error behind a failure (through the SDK's wrapping), if any."""
    while error is not None:
        if isinstance(
            error,
            CannotOverwriteExistingCassetteException
            | UnplayedInteractionsError
            | CassetteError
            | NothingRecordedError,
        ):
            return error
        error = error.__cause__ or error.__context__
    return None
