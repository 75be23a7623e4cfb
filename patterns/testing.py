"""A pytest plugin for prompt regression tests on recorded LLM calls.

Install ``llm-workflow-patterns[testing]`` and enable it in a ``conftest.py``::

    pytest_plugins = ["patterns.testing"]

Then every test marked ``@pytest.mark.vcr``:

- replays its cassette (``cassettes/<test module>/<test name>.yaml`` beside the test
  file), never the network;
- matches each request by its JSON body (minus the keys in ``llm_unmatched_body_keys``),
  so a changed prompt, schema or setting fails with a diff and the command that
  re-records the test;
- fails if the run leaves recorded interactions unplayed (it made fewer calls);
- records no header but ``content-type`` and, of the URL, only the path and the query
  parameters that are not secret: cassettes hold no key, host or port, and replay
  under any base URL. A server that echoes the key has it removed from the answer, and
  a cassette that would still hold a secret is refused, not written.

These guarantees hold whatever ``vcr_config`` a project adds: its options are merged
with the plugin's (extra filters run before the plugin's scrubbing), and an option
that would switch a guarantee off is refused with the reason.

Fixtures: ``llm`` (the model under test: the environment's endpoint while recording,
a dummy one at replay), ``snapshot_json`` (syrupy as JSON, latencies masked) and
``llm_stub`` (a scripted endpoint for fault tests). ini options: ``llm_record_command``,
``llm_cassette_dir``, ``llm_unmatched_body_keys``, ``llm_structured_mode``.
"""

from __future__ import annotations

import base64
import difflib
import functools
import json
import os
import shlex
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import pytest_asyncio
import yaml
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension
from syrupy.matchers import path_type
from vcr import filters
from vcr.errors import CannotOverwriteExistingCassetteException

from .core import LLM, STRUCTURED_MODES, StructuredMode
from .redact import REDACTED, SECRET_PARAM, find_secret, known, redact, url_secrets
from .stub import Reply, StubServer, always, stub_server

KEPT_HEADERS = frozenset({"content-type"})
REPLAY_BASE_URL = "http://127.0.0.1:9/v1"
"""Where the ``llm`` fixture points at replay: nothing listens there, so a request that
no cassette answers fails at once instead of reaching a real endpoint."""

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


class RecordingConfigError(ValueError):
    """A ``vcr_config`` (or ``vcr`` mark) asked for something that would make replays lie."""


class CassetteSecretError(AssertionError):
    """A cassette about to be written still holds a secret: it was not written."""


# --- What gets recorded -------------------------------------------------------------------


class Secrets(set[str]):
    """Secrets seen while recording one cassette: the environment's, then each request's."""

    @classmethod
    def from_environment(cls) -> Secrets:
        names = ("PATTERNS_API_KEY", "OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")
        found = cls(known(os.environ.get(name) for name in names))
        for name in ("PATTERNS_BASE_URL", "OPENAI_BASE_URL"):
            found |= url_secrets(os.environ.get(name, ""))
        return found

    def harvest(self, request: Any) -> Any:
        """vcrpy hook: remember the request's credentials before anything drops them."""
        for name, value in request.headers.items():
            if name.lower() in {"authorization", "proxy-authorization"}:
                self |= credentials(value)
            elif name.lower() not in KEPT_HEADERS:
                self |= known([value]) if SECRET_PARAM.search(name) else set()
            if name.lower() in {"openai-organization", "openai-project"}:
                self |= known([value])
        self |= url_secrets(request.uri)
        return request


def credentials(authorization: str) -> set[str]:
    """The secrets in an Authorization header: a bearer token, or Basic user:password
    (what an HTTP client sends for a base URL with credentials in it)."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return known([value or scheme])
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return known([value])
    return known([password, f"{user}:{password}", value])


def scrub_request(request: Any) -> Any:
    """Keep only what matching needs: the method, the path, the body, safe query values."""
    request.headers = {k: v for k, v in request.headers.items() if k.lower() in KEPT_HEADERS}
    request.uri = scrub_uri(request.uri)
    return request


def scrub_uri(uri: str) -> str:
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, True) if not SECRET_PARAM.search(k)]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


def scrub_response(
    response: dict[str, Any], secrets: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """Only ``content-type`` headers; no echoed key or key-shaped string in the body."""
    response["headers"] = {
        k: v for k, v in response["headers"].items() if k.lower() in KEPT_HEADERS
    }
    body = response["body"].get("string")
    if isinstance(body, bytes):
        text = body.decode("utf-8", "replace")
        if (clean := redact(text, secrets)) != text:
            response["body"]["string"] = clean.encode()
    elif isinstance(body, str):
        response["body"]["string"] = redact(body, secrets)
    return response


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


# --- The guarantees, whatever the project configures ----------------------------------------

PLUGIN_CONFIG: dict[str, Any] = {
    "serializer": "yaml",
    "match_on": ("method", "path", "llm_body"),
    "decode_compressed_response": True,
    "allow_playback_repeats": False,
    # Loopback stays reachable for the stub servers some tests start.
    "allowed_hosts": ["127.0.0.1", "localhost"],
}

REFUSED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "record_mode": (
        lambda value: True,
        "it would decide for every run whether tests may reach the network; pass "
        "--record-mode on the command line when you mean to record",
    ),
    "serializer": (
        lambda value: value != "yaml",
        "the plugin's serializer keeps cassettes readable and refuses to write secrets",
    ),
    "match_on": (
        lambda value: (
            "llm_body" not in value or bool({"uri", "host", "port", "scheme"} & set(value))
        ),
        "requests must be matched by 'llm_body' (a changed prompt must fail), and cannot be "
        "matched by uri, host, port or scheme, which cassettes do not store; add matchers "
        "with additional_matchers",
    ),
    "allow_playback_repeats": (
        bool,
        "a test that makes more calls than were recorded would pass",
    ),
    "decode_compressed_response": (
        lambda value: not value,
        "a compressed answer cannot be scrubbed of secrets or read in a diff",
    ),
}


def guarded_options(options: dict[str, Any], secrets: Secrets) -> dict[str, Any]:
    """The cassette options a project asked for, merged with the plugin's guarantees."""
    for name, (refused, why) in REFUSED.items():
        if name in options and refused(options[name]):
            raise RecordingConfigError(
                f"patterns.testing refuses vcr option {name}={options[name]!r}: {why}."
            )
    merged = {**PLUGIN_CONFIG, **options}
    header_filters = [
        h if isinstance(h, tuple) else (h, None) for h in merged.pop("filter_headers", ())
    ]
    theirs_request = _as_tuple(merged.pop("before_record_request", merged.pop("before_record", ())))
    theirs_response = _as_tuple(merged.get("before_record_response", ()))
    merged["before_record_request"] = (
        secrets.harvest,  # first: their filters may drop the headers that carry the key
        functools.partial(filters.replace_headers, replacements=header_filters),
        *theirs_request,
        scrub_request,  # last: nothing they do can bring back what it removes
    )
    merged["before_record_response"] = (
        *theirs_response,
        functools.partial(scrub_response, secrets=secrets),
    )
    return merged


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if not value:
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)


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
        return use_cassette(path, **guarded_options(options, secrets))

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
    if vcr is not None and record_mode == "none" and not vcr.all_played:
        unplayed = len(vcr.data) - vcr.play_count
        raise UnplayedInteractionsError(
            f"{unplayed} recorded interaction(s) in {vcr._path} were not played: "
            "the code now makes fewer calls than when it was recorded"
        )


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
        if isinstance(error, CannotOverwriteExistingCassetteException | UnplayedInteractionsError):
            return True
        error = error.__cause__ or error.__context__
    return False


# --- Fixtures for the code under test -------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """Where the code under test sends its requests, for clients a project builds itself."""

    base_url: str | None
    """None: the SDK's default (OpenAI)."""
    api_key: str
    recording: bool


@pytest.fixture(scope="session")
def llm_endpoint(record_mode: str) -> Endpoint:
    """While recording (``--record-mode`` other than ``none``): the environment's endpoint
    (``PATTERNS_BASE_URL`` or ``OPENAI_BASE_URL``) and key (``PATTERNS_API_KEY`` or
    ``OPENAI_API_KEY``). At replay: a dummy endpoint and key, so a request that no
    cassette answers fails at once and no real key is needed."""
    if record_mode == "none":
        return Endpoint(REPLAY_BASE_URL, "not-needed", recording=False)
    base_url = os.environ.get("PATTERNS_BASE_URL") or os.environ.get("OPENAI_BASE_URL")
    api_key = os.environ.get("PATTERNS_API_KEY") or os.environ.get("OPENAI_API_KEY")
    return Endpoint(base_url or None, api_key or "not-needed", recording=True)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def llm(pytestconfig: pytest.Config, llm_endpoint: Endpoint) -> AsyncIterator[LLM]:
    """The model under test, on ``llm_endpoint`` (``PATTERNS_MODEL`` names the model).

    The structured-output mode is fixed (``llm_structured_mode``, or
    ``PATTERNS_STRUCTURED_MODE``), never detected, so recorded requests are the same on
    every run. The SDK does not retry: a 429 while recording fails loudly instead of
    leaving a retry in the cassette that a replay would not follow.
    """
    mode = os.environ.get("PATTERNS_STRUCTURED_MODE") or pytestconfig.getini("llm_structured_mode")
    if mode not in STRUCTURED_MODES:
        raise pytest.UsageError(f"llm_structured_mode={mode!r}; expected one of {STRUCTURED_MODES}")
    model = LLM.from_env(
        base_url=llm_endpoint.base_url,
        api_key=llm_endpoint.api_key,
        mode=cast(StructuredMode, mode),
        max_retries=0,
        confidence="verbal",  # fixed, like the mode: what is sent must not depend on the env
    )
    yield model
    await model.aclose()


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """syrupy as clean JSON; latencies (the only local volatile values) masked."""
    return snapshot.with_defaults(
        extension_class=JSONSnapshotExtension,
        matcher=path_type({r".*latency_s": (float,)}, regex=True),
    )


@pytest.fixture
def llm_stub() -> Iterator[Callable[..., StubServer]]:
    """Start a scripted endpoint: ``stub = llm_stub(Reply("{}"), Reply(status=500))``
    plays the replies in order (the last one repeats); ``llm_stub(script=fn)`` answers
    each request body with ``fn(body)``. Stopped when the test ends."""
    with ExitStack() as stack:

        def start(
            *replies: Reply, script: Callable[[dict[str, Any]], Reply] | None = None
        ) -> StubServer:
            return stack.enter_context(stub_server(script or always(*replies)))

        yield start


__all__ = [
    "REDACTED",
    "CassetteSecretError",
    "Endpoint",
    "ReadableYAML",
    "RecordingConfigError",
    "Secrets",
    "UnplayedInteractionsError",
    "canonical_body",
    "guarded_options",
    "llm_body",
    "scrub_request",
    "scrub_response",
    "scrub_uri",
]
