"""The plugin's fixtures for the code under test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, cast

import pytest
import pytest_asyncio
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension
from syrupy.matchers import path_type

from ..core import LLM, STRUCTURED_MODES, StructuredMode
from ..core.plumbing import find_secret
from ._cassettes import CassetteSecretError
from ._scrub import Secrets
from .stub import Reply, StubServer, always, stub_server

REPLAY_BASE_URL = "http://127.0.0.1:9/v1"
"""Where the ``llm`` fixture points at replay: nothing listens there, so a request that
no cassette answers fails at once instead of reaching a real endpoint."""


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


class GuardedJSON(JSONSnapshotExtension):
    """syrupy's JSON snapshots behind the cassettes' secret gate: a snapshot that would
    hold a key (a server can echo one in a 200 answer while recording) is refused, not
    written, naming the kind of secret and never the secret."""

    def serialize(self, data: Any, **kwargs: Any) -> Any:
        text = super().serialize(data, **kwargs)
        if kind := find_secret(str(text), Secrets.from_environment()):
            raise CassetteSecretError(
                f"refusing to write a snapshot that holds {kind}; it was not saved. The "
                "answer echoed a secret: remove it from what the test sends, or from the "
                "value the test snapshots, then record again."
            )
        return text


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """syrupy as clean JSON; latencies (the only local volatile values) masked; secrets
    refused like in cassettes."""
    return snapshot.with_defaults(
        extension_class=GuardedJSON,
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
