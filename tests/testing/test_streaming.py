"""Streamed answers (``stream=True``, server-sent events) through the plugin: recorded,
replayed offline, sync and async, a changed prompt failing with the plugin's diff, and a
key inside a chunk redacted."""

import json
from collections.abc import Callable

import pytest

from patterns.testing.stub import Reply, StubServer

KEY = "sk-proj-STREAMKEYSTREAMKEY0042"
CONFTEST = """
import pytest
from openai import AsyncOpenAI, OpenAI

pytest_plugins = ["patterns.testing"]

@pytest.fixture
def clients(llm_endpoint):
    options = dict(base_url=llm_endpoint.base_url, api_key=llm_endpoint.api_key, max_retries=0)
    return OpenAI(**options), AsyncOpenAI(**options)
"""
TESTS = """
import pytest

PROMPT = "Say hello in three words."

def ask(text=PROMPT):
    return dict(model="m", stream=True, messages=[{"role": "user", "content": text}])

@pytest.mark.vcr
def test_a_sync_stream(clients):
    chunks = clients[0].chat.completions.create(**ask())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Hello there, friend.")

@pytest.mark.asyncio
@pytest.mark.vcr
async def test_an_async_stream(clients):
    chunks = await clients[1].chat.completions.create(**ask())
    text = "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])
    assert text.startswith("Hello there, friend.")
"""


def events(*pieces: str) -> bytes:
    """A chat completion as server-sent events, one chunk a piece."""
    chunks = [
        {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        for piece in pieces
    ]  # fmt: skip
    lines = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


def stream(*pieces: str) -> Reply:
    return Reply(raw_body=events(*pieces), headers={"content-type": "text/event-stream"})


def test_a_streamed_answer_records_replays_and_fails_on_a_changed_prompt(
    example: pytest.Pytester,
    llm_stub: Callable[..., StubServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stub = llm_stub(stream("Hello", " there,", " friend.", f" (a careless echo of {KEY})"))
    (example.path / "tests" / "conftest.py").write_text(CONFTEST)
    (example.path / "tests" / "test_summarize.py").unlink()
    (example.path / "tests" / "test_stream.py").write_text(TESTS)
    monkeypatch.setenv("PATTERNS_BASE_URL", stub.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    example.runpytest_subprocess("--record-mode=once", "tests").assert_outcomes(passed=2)
    assert len(stub.requests) == 2
    cassettes = {p.name: p.read_text() for p in (example.path / "tests").rglob("*.yaml")}
    assert sorted(cassettes) == ["test_a_sync_stream.yaml", "test_an_async_stream.yaml"]
    for text in cassettes.values():
        assert "text/event-stream" in text
        assert "data: [DONE]" in text
        assert KEY not in text
        assert "[redacted]" in text

    # Replay: no endpoint, no key; both read the recorded, redacted chunks.
    monkeypatch.delenv("PATTERNS_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY")
    example.runpytest_subprocess("tests").assert_outcomes(passed=2)

    # A changed prompt fails both, with the plugin's diff; nothing reaches the endpoint.
    test_file = example.path / "tests" / "test_stream.py"
    test_file.write_text(test_file.read_text().replace("three words", "two words"))
    changed = example.runpytest_subprocess("tests")
    changed.assert_outcomes(failed=2)
    assert "request body changed:" in changed.stdout.str()
    assert len(stub.requests) == 2
