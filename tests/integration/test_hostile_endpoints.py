"""Endpoints that misbehave on purpose: every failure is typed, bounded in time and size,
and shows no secret. (test_faults.py covers the honest faults: timeouts, 5xx, 429 ...)"""

import asyncio
import gzip
import itertools
import json
import logging
import time

import pytest
from pydantic import BaseModel

from patterns import LLM, EndpointError, ModelResponseError, PatternsError, Trace
from patterns.core import TokenBudgetExceeded
from patterns.core.plumbing import redact, redact_url
from patterns.testing.stub import Reply, StubServer, always, completion, stub_server

KEY = "sk-proj-HOSTILEHOSTILEHOSTILE0042"
PASSWORD = "pw-in-the-url-0042"


class Answer(BaseModel):
    ok: bool


def valid(**changes: object) -> bytes:
    body = completion(Reply('{"ok": true}'), "m")
    body.update(changes)
    return json.dumps(body).encode()


def llm_for(stub: StubServer, **options: object) -> LLM:
    settings = {"api_key": KEY, "mode": "json_object", "max_retries": 0, **options}
    return LLM.from_env(base_url=stub.base_url, **settings)  # type: ignore[arg-type]


async def ask(llm: LLM, sync: bool) -> Answer:
    if sync:
        return await asyncio.to_thread(llm.parse, Answer, system="s", user="u", step="x")
    return await llm.aparse(Answer, system="s", user="u", step="x")


NOT_COMPLETIONS = {
    "html-page": Reply(
        raw_body=b"<html><body>Bad gateway</body></html>", headers={"content-type": "text/html"}
    ),
    "event-stream": Reply(
        raw_body=b'data: {"choices": []}\n\ndata: [DONE]\n\n',
        headers={"content-type": "text/event-stream"},
    ),
    "json-string": Reply(raw_body=b'"hello"'),
    "json-list": Reply(raw_body=b"[1, 2, 3]"),
    "choice-without-message": Reply(
        raw_body=valid(choices=[{"index": 0, "finish_reason": "stop"}])
    ),
    "message-is-text": Reply(raw_body=valid(choices=[{"index": 0, "message": "hi"}])),
    "content-is-an-object": Reply(
        raw_body=valid(
            choices=[{"index": 0, "message": {"role": "assistant", "content": {"ok": True}}}]
        )
    ),
    "tool-call-without-arguments": Reply(
        raw_body=valid(
            choices=[
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "tool_calls": [{"id": "1", "type": "function"}],
                    },
                }
            ]
        )
    ),
    "invalid-utf8": Reply(raw_body=valid()[:-2] + b', "x": "\xff\xfe"}'),
    "5000-digit-number": Reply(raw_body=valid()[:-1] + b', "created": ' + b"9" * 5000 + b"}"),
    "nested-100000-deep": Reply(raw_body=b"[" * 100_000 + b"]" * 100_000),
    "truncated-json": Reply(raw_body=valid()[:40]),
}


@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
@pytest.mark.parametrize("reply", NOT_COMPLETIONS.values(), ids=NOT_COMPLETIONS.keys())
async def test_a_200_that_is_not_a_chat_completion_is_a_model_response_error(
    reply: Reply, sync: bool
) -> None:
    with stub_server(always(reply)) as stub:
        llm = llm_for(stub)
        with pytest.raises(ModelResponseError) as raised:
            await ask(llm, sync)
    assert len(str(raised.value)) < 1_000  # an excerpt, not the whole answer
    assert KEY not in str(raised.value)


async def test_null_or_absurd_token_counts_are_estimated_and_still_hold_a_budget() -> None:
    bad_usage = {"prompt_tokens": None, "completion_tokens": -5_000, "total_tokens": "x"}
    with stub_server(always(Reply(raw_body=valid(usage=bad_usage)))) as stub:
        llm = llm_for(stub)
        trace = Trace(token_budget=2)
        assert (await llm.aparse(Answer, system="s", user="u", step="x", trace=trace)).ok
        assert trace.usage.prompt_tokens > 0
        assert trace.usage.completion_tokens > 0
        with pytest.raises(TokenBudgetExceeded):
            await llm.aparse(Answer, system="s", user="u", step="y", trace=trace)
    assert len(stub.requests) == 1
    assert trace.tokens_left == 0


async def test_a_budget_is_shared_by_concurrent_branches() -> None:
    # Each answer costs 15 tokens; two branches keep asking until the budget stops them.
    with stub_server(always(Reply('{"ok": true}', delay_s=0.02))) as stub:
        llm = llm_for(stub)
        trace = Trace(token_budget=40)

        async def branch() -> int:
            child = trace.child()
            for asked in itertools.count():
                try:
                    await llm.aparse(Answer, system="s", user="u", step="b", trace=child)
                except TokenBudgetExceeded:
                    return asked
            raise AssertionError("unreachable")

        asked = await asyncio.gather(branch(), branch())
    # Checked before each request: at most one request per branch in flight past the limit.
    assert 15 * sum(asked) <= 40 + 15 * 2
    assert sum(asked) == len(stub.requests) < 6
    assert trace.tokens_left == 0


# --- Bounds: time and size ------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply(raw_body=valid(), trickle_s=0.05),  # one byte at a time: a valid answer, too slow
        Reply(raw_body=b" " * 100_000, trickle_s=0.002),  # spaces, forever
    ],
    ids=["trickled-answer", "endless-spaces"],
)
async def test_a_call_ends_by_its_deadline_however_slowly_the_server_sends(reply: Reply) -> None:
    with stub_server(always(reply)) as stub:
        llm = llm_for(stub, timeout=1.0)
        started = time.monotonic()
        with pytest.raises(EndpointError, match="did not finish its answer in time"):
            await llm.aparse(Answer, system="s", user="u", step="x")
        assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "reply",
    [
        Reply(raw_body=valid()[:-1] + b', "padding": "' + b"x" * 2_000_000 + b'"}'),
        Reply(
            raw_body=gzip.compress(valid()[:-1] + b', "padding": "' + b" " * 50_000_000 + b'"}'),
            headers={"content-encoding": "gzip"},
        ),
    ],
    ids=["2-MB-answer", "gzip-bomb"],
)
async def test_an_oversized_answer_is_not_read_past_the_cap(reply: Reply) -> None:
    with stub_server(always(reply)) as stub:
        llm = llm_for(stub, max_answer_bytes=1_000_000)
        with pytest.raises(ModelResponseError, match="larger than 1,000,000 bytes"):
            await llm.aparse(Answer, system="s", user="u", step="x")


async def test_a_runaway_invalid_answer_is_sent_back_only_as_an_excerpt() -> None:
    runaway = "not json " * 50_000  # 450,000 characters
    with stub_server(always(Reply(runaway), Reply('{"ok": true}'))) as stub:
        assert (await llm_for(stub).aparse(Answer, system="s", user="u", step="x")).ok
    echoed = stub.requests[1]["messages"][2]["content"]
    assert 8_000 <= len(echoed) < 8_100
    assert len(json.dumps(stub.requests[1])) < 10_000


# --- Secrets ---------------------------------------------------------------------------------


def secret_url(stub: StubServer) -> str:
    return stub.base_url.replace("http://", f"http://bob:{PASSWORD}@")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 503])
async def test_no_error_shows_the_key_or_a_password_even_when_the_server_echoes_them(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = f"bad request from key {KEY} (password {PASSWORD})"
    with stub_server(always(Reply(echo, status=status))) as stub:
        llm = LLM.from_env(
            base_url=secret_url(stub), api_key=KEY, mode="json_object", max_retries=0
        )
        with pytest.raises(PatternsError) as raised:
            await llm.aparse(Answer, system="s", user="u", step="x")
    shown = [
        str(raised.value),
        str(raised.value.__cause__),
        repr(raised.value.__cause__),
        caplog.text,
    ]
    cause = raised.value.__cause__
    if cause is not None:
        shown.append(json.dumps(getattr(cause, "body", None)))
    for text in shown:
        assert KEY not in text
        assert PASSWORD not in text
    assert "127.0.0.1" in str(raised.value)  # the endpoint is still named, redacted


async def test_an_unreachable_endpoint_with_credentials_is_named_without_them() -> None:
    llm = LLM.from_env(
        base_url=f"http://bob:{PASSWORD}@127.0.0.1:9/v1",
        api_key=KEY,
        mode="json_object",
        max_retries=0,
    )
    with pytest.raises(EndpointError) as raised:
        await llm.aparse(Answer, system="s", user="u", step="x")
    assert "http://127.0.0.1:9/v1" in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_endpoints_are_shown_without_userinfo_or_query_secrets() -> None:
    url = f"https://bob:{PASSWORD}@example.com:8443/v1?api-key=abc123456&api-version=2026-01"
    assert redact_url(url) == "https://example.com:8443/v1?api-key=[redacted]&api-version=2026-01"
    assert redact(f"Authorization: Bearer {KEY}") == "Authorization: [redacted]"
    assert redact("the key is hunter22", ["hunter22"]) == "the key is [redacted]"


def test_the_openai_key_goes_only_to_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("PATTERNS_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with stub_server(always(Reply('{"ok": true}'))) as stub:
        LLM.from_env(base_url=stub.base_url, mode="json_object").parse(
            Answer, system="s", user="u", step="x"
        )
        monkeypatch.setenv("PATTERNS_API_KEY", "sk-named-explicitly-for-this-endpoint")
        LLM.from_env(base_url=stub.base_url, mode="json_object").parse(
            Answer, system="s", user="u", step="x"
        )
    assert stub.headers[0]["authorization"] == "Bearer not-needed"
    assert stub.headers[1]["authorization"] == "Bearer sk-named-explicitly-for-this-endpoint"
    monkeypatch.delenv("PATTERNS_API_KEY")
    assert LLM.from_env(mode="json_object").client.api_key == KEY  # type: ignore[union-attr]


async def test_a_redirect_to_another_host_is_not_followed() -> None:
    with stub_server(always(Reply('{"ok": true}'))) as elsewhere:
        target = f"{elsewhere.base_url}/chat/completions"
        redirect = Reply("moved", status=307, headers={"location": target})
        with stub_server(always(redirect)) as stub:
            llm = LLM.from_env(
                base_url=stub.base_url, api_key=KEY, organization="org-x", mode="json_object"
            )
            with pytest.raises(EndpointError, match="redirects are not followed"):
                await llm.aparse(Answer, system="s", user="u", step="x")
    assert elsewhere.requests == []
