"""The shared core, against a scripted stub endpoint: exact, offline, no model."""

import asyncio
import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from patterns import (
    LLM,
    ConfigurationError,
    InputError,
    StructuredOutputError,
    TokenBudgetExceeded,
    Trace,
    Usage,
    confidence_gate,
    passes,
    resolve_day,
)
from patterns.testing.stub import Reply, always, stub_server


class Score(BaseModel):
    score: float = Field(ge=0, le=1)


GOOD = Reply('{"score": 0.5}')
OUT_OF_RANGE = Reply('{"score": 5}')


def stub_llm(base_url: str, **settings: object) -> LLM:
    return LLM.from_env(base_url=base_url, mode="json_object", max_retries=0, **settings)  # type: ignore[arg-type]


# --- The gate rule -------------------------------------------------------------------------


def test_a_confidence_at_the_threshold_passes() -> None:
    assert passes(0.7, 0.7)
    assert not passes(0.69, 0.7)
    rejection = confidence_gate(0.5, 0.7)
    assert rejection is not None
    assert rejection.reason == "low_confidence"
    assert rejection.detail == "confidence 0.50 is below the threshold 0.70"


@given(st.floats(0, 1), st.floats(0, 1))
def test_the_gate_rejects_exactly_what_falls_below(confidence: float, threshold: float) -> None:
    assert (confidence_gate(confidence, threshold) is None) == (confidence >= threshold)


# --- Usage ---------------------------------------------------------------------------------


def test_usages_add_up() -> None:
    total = Usage(requests=1, prompt_tokens=10, completion_tokens=2, latency_s=0.5) + Usage(
        requests=2, retries=1, prompt_tokens=5, completion_tokens=1, latency_s=0.25
    )
    assert total == Usage(
        requests=3, retries=1, prompt_tokens=15, completion_tokens=3, latency_s=0.75
    )
    assert total.total_tokens == 18


# --- Days resolved in code against the clock -------------------------------------------------

WEDNESDAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("today", "2026-11-25"),
        ("tomorrow", "2026-11-26"),
        ("the day after tomorrow", "2026-11-27"),
        ("Friday", "2026-11-27"),
        ("on Friday", "2026-11-27"),
        ("next Tuesday", "2026-12-01"),
        ("Wednesday", "2026-12-02"),  # today is Wednesday: the next one
        ("in 3 days", "2026-11-28"),
        ("December 3", "2026-12-03"),
        ("3 Dec", "2026-12-03"),
        ("January 2nd", "2027-01-02"),  # already past this year
        ("2026-12-24", "2026-12-24"),
        ("someday", None),
    ],
)
def test_day_phrases_resolve_against_today(phrase: str, expected: str | None) -> None:
    resolved = resolve_day(phrase, WEDNESDAY)
    assert (resolved.isoformat() if resolved else None) == expected


# --- The typed call ------------------------------------------------------------------------


def test_a_valid_answer_comes_back_typed_with_its_usage() -> None:
    with stub_server(always(GOOD)) as stub:
        trace = Trace()
        score = stub_llm(stub.base_url).parse(
            Score, system="Rate.", user="hi", step="rate", trace=trace
        )
    assert score == Score(score=0.5)
    [call] = trace.calls
    assert (call.step, call.usage.requests, call.usage.retries) == ("rate", 1, 0)
    assert (call.usage.prompt_tokens, call.usage.completion_tokens) == (10, 5)
    [body] = stub.requests
    assert body["response_format"] == {"type": "json_object", "schema": Score.model_json_schema()}
    assert body["messages"][1] == {"role": "user", "content": "hi"}
    assert body["temperature"] == 0


def test_an_invalid_answer_goes_back_with_its_error_and_a_warmer_retry() -> None:
    with stub_server(always(OUT_OF_RANGE, GOOD)) as stub:
        trace = Trace()
        score = stub_llm(stub.base_url).parse(
            Score, system="Rate.", user="hi", step="rate", trace=trace
        )
    assert score.score == 0.5
    first, retry = stub.requests
    assert retry["messages"][:2] == first["messages"]
    assert retry["messages"][2] == {"role": "assistant", "content": '{"score": 5}'}
    assert "score: Input should be less than or equal to 1" in retry["messages"][3]["content"]
    assert retry["temperature"] == 0.3
    assert trace.usage.requests == 2
    assert trace.usage.retries == 1


async def test_when_retries_run_out_the_error_keeps_every_attempt() -> None:
    with stub_server(always(Reply("not json"), OUT_OF_RANGE)) as stub:
        trace = Trace()
        llm = stub_llm(stub.base_url, validation_retries=2)
        with pytest.raises(StructuredOutputError) as caught:
            await llm.aparse(Score, system="Rate.", user="hi", step="rate", trace=trace)
    error = caught.value
    assert [a.text for a in error.attempts] == ["not json", '{"score": 5}', '{"score": 5}']
    assert "Invalid JSON" in error.attempts[0].error
    assert "step 'rate': the model gave no valid Score in 3 attempt(s)" in str(error)
    assert trace.usage.requests == 3  # failed calls still count
    assert trace.usage.retries == 2


def test_a_truncated_answer_says_so() -> None:
    truncated = Reply('{"score": 0.', finish_reason="length")
    with stub_server(always(truncated)) as stub, pytest.raises(StructuredOutputError) as caught:
        stub_llm(stub.base_url, validation_retries=0).parse(Score, system="s", user="u", step="x")
    assert "cut off at max_tokens" in caught.value.attempts[0].error


async def test_sync_and_async_send_the_same_requests() -> None:
    with stub_server(always(OUT_OF_RANGE, GOOD, OUT_OF_RANGE, GOOD)) as stub:
        llm = stub_llm(stub.base_url)
        llm.parse(Score, system="Rate.", user="hi", step="rate")
        await llm.aparse(Score, system="Rate.", user="hi", step="rate")
    assert stub.requests[:2] == stub.requests[2:]


@pytest.mark.parametrize("mode", ["json_schema", "json_object", "prompt"])
def test_each_structured_output_mode(mode: str) -> None:
    fenced = Reply('Here it is:\n```json\n{"score": 0.25}\n```')
    with stub_server(always(fenced)) as stub:
        llm = LLM.from_env(base_url=stub.base_url, mode=mode, max_retries=0)  # type: ignore[arg-type]
        assert llm.parse(Score, system="Rate.", user="hi", step="x").score == 0.25
    [body] = stub.requests
    system = body["messages"][0]["content"]
    schema = Score.model_json_schema()
    if mode == "json_schema":
        assert body["response_format"]["json_schema"]["schema"] == schema
        assert system == "Rate."
    else:
        assert system == (  # titles dropped: tokens the model does not need
            "Rate.\n\nReply with one JSON object that matches this JSON schema: "
            '{"properties":{"score":{"maximum":1,"minimum":0,"type":"number"}},'
            '"required":["score"],"type":"object"}'
        )
        assert ("response_format" in body) == (mode == "json_object")


def test_bad_input_fails_before_any_request() -> None:
    with stub_server(always(GOOD)) as stub:
        llm = stub_llm(stub.base_url, max_input_chars=100)
        with pytest.raises(InputError, match="over the limit of 100"):
            llm.parse(Score, system="s", user="x" * 101, step="x")
        with pytest.raises(InputError, match="empty"):
            llm.parse(Score, system="s", user=" \n\t", step="x")
    assert stub.requests == []


def test_a_token_budget_stops_the_run_before_the_next_request() -> None:
    with stub_server(always(OUT_OF_RANGE, GOOD)) as stub:
        trace = Trace(token_budget=15)  # the first answer alone costs 15
        with pytest.raises(TokenBudgetExceeded, match="used 15 tokens of its budget of 15"):
            stub_llm(stub.base_url).parse(Score, system="s", user="u", step="x", trace=trace)
    assert len(stub.requests) == 1
    assert trace.usage.total_tokens == 15


def test_no_endpoint_is_a_clear_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PATTERNS_BASE_URL", "OPENAI_BASE_URL", "PATTERNS_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="set PATTERNS_BASE_URL"):
        LLM.from_env()


# --- A real model's invalid answer, recorded --------------------------------------------------


class PublishedExtraction(BaseModel):
    # The published chain's schema: no field descriptions, a free-length description.
    description: str
    is_calendar_event: bool
    confidence_score: float = Field(ge=0, le=1)


@pytest.mark.vcr
async def test_a_real_truncated_answer_is_retried_then_a_typed_error(llm: LLM) -> None:
    # Recorded: asked for a story, the embedded model writes one into
    # "description" and runs past max_tokens each time, so the JSON never closes.
    trace = Trace()
    short = llm.with_settings(max_tokens=120, validation_retries=2)
    with pytest.raises(StructuredOutputError) as caught:
        await short.aparse(
            PublishedExtraction,
            system="Analyze if the text describes a calendar event.",
            user="Tell me a long story about a meeting.",
            step="extract",
            trace=trace,
        )
    attempts = caught.value.attempts
    assert len(attempts) == 3
    assert all("cut off at max_tokens" in a.error for a in attempts)
    # each attempt was writing the story into the first field when it was cut off
    assert all(re.match(r'\s*\{\s*"description"\s*:\s*"', a.text) for a in attempts)
    assert (trace.usage.requests, trace.usage.retries) == (3, 2)
    assert trace.usage.completion_tokens == 3 * 120


class Described(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    summary: str
    """The request restated in one short sentence."""


@pytest.mark.parametrize(
    ("shown", "has_schema", "has_descriptions"),
    [("full", True, True), ("bare", True, False), ("none", False, False)],
)
def test_the_prompt_shows_as_much_of_the_schema_as_asked(
    shown: str, has_schema: bool, has_descriptions: bool
) -> None:
    with stub_server(always(Reply('{"summary": "Lunch on Friday."}'))) as stub:
        llm = stub.llm()
        llm.with_settings(prompt_schema=shown, seed=7).parse(
            Described, system="Summarise.", user="lunch friday", step="x"
        )
    [request] = stub.requests
    system = request["messages"][0]["content"]
    assert ("JSON schema" in system) is has_schema
    assert ("restated in one short sentence" in system) is has_descriptions
    assert request["response_format"]["schema"]["properties"]["summary"]["description"]  # grammar
    assert request["seed"] == 7


def _with_logprobs(tokens: list[tuple[str, list[tuple[str, float]]]]) -> bytes:
    import json as json_

    from patterns.testing.stub import completion

    body = completion(Reply("".join(t for t, _ in tokens)), "m")
    body["choices"][0]["logprobs"] = {
        "content": [
            {
                "token": token,
                "logprob": dict(top).get(token, -9.0),
                "bytes": None,
                "top_logprobs": [{"token": t, "logprob": lp, "bytes": None} for t, lp in top],
            }
            for token, top in tokens
        ]
    }
    return json_.dumps(body).encode()


def test_token_confidence_is_the_probability_of_the_decision_among_its_values() -> None:
    import math

    from patterns.chain import EventExtraction

    answer = [
        ('{"description": "Lunch."', []),
        (', "is_calendar_event": ', []),
        ("true", [("true", math.log(0.6)), ("false", math.log(0.2)), ("maybe", math.log(0.2))]),
        (', "confidence_percent": 99}', []),
    ]
    with stub_server(always(Reply(raw_body=_with_logprobs(answer)))) as stub:
        llm = stub.llm()
        verbal = llm.parse(EventExtraction, system="s", user="u", step="x")
        tokens = llm.with_settings(confidence="tokens").parse(
            EventExtraction, system="s", user="u", step="x"
        )
    assert (verbal.confidence, verbal.confidence_source) == (0.99, "verbal")
    assert tokens.confidence == pytest.approx(0.75)  # 0.6 / (0.6 + 0.2): only true or false
    assert tokens.confidence_source == "tokens"
    assert "logprobs" not in stub.requests[0]
    assert stub.requests[1]["logprobs"] is True
    assert stub.requests[1]["top_logprobs"] == 5


def test_a_verdict_without_a_written_percent_gets_its_token_probability() -> None:
    import math

    from patterns.parallel import check_security

    answer = [
        ('{"verdict": "', []),
        ("ordinary", [("ordinary", math.log(0.3)), ("manip", math.log(0.1))]),
        ('_request"}', []),
    ]
    with stub_server(always(Reply(raw_body=_with_logprobs(answer)))) as stub:
        llm = stub.llm()
        verbal = asyncio.run(check_security(llm, "lunch friday", Trace()))
        tokens = asyncio.run(
            check_security(llm.with_settings(confidence="tokens"), "lunch friday", Trace())
        )
    assert verbal.manipulation_probability is None
    assert tokens.model_verdict == "ordinary_request"
    assert tokens.manipulation_probability == pytest.approx(0.25)  # 0.1 / (0.3 + 0.1)
    assert stub.requests[1]["logprobs"] is True


def test_without_log_probabilities_the_written_percent_is_kept() -> None:
    from patterns.chain import EventExtraction

    answer = '{"description": "x", "is_calendar_event": false, "confidence_percent": 70}'
    with stub_server(always(Reply(answer))) as stub:
        llm = LLM.from_env(base_url=stub.base_url, mode="json_object", confidence="tokens")
        result = llm.parse(EventExtraction, system="s", user="u", step="x")
    assert (result.confidence, result.confidence_source) == (0.7, "verbal")


def test_the_request_deadline_comes_from_patterns_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from patterns import ConfigurationError

    monkeypatch.setenv("PATTERNS_TIMEOUT", "7.5")
    llm = LLM.from_env(base_url="http://127.0.0.1:9/v1")
    assert llm.client is not None
    assert llm.client.timeout == 7.5
    monkeypatch.setenv("PATTERNS_TIMEOUT", "soon")
    with pytest.raises(ConfigurationError, match="PATTERNS_TIMEOUT='soon'"):
        LLM.from_env(base_url="http://127.0.0.1:9/v1")


def test_a_frequency_penalty_is_sent_only_by_a_step_that_sets_one() -> None:

    from patterns.testing.stub import Reply, always, stub_server

    class Answer(BaseModel):
        ok: bool

    with stub_server(always(Reply('{"ok": true}'))) as stub:
        llm = stub.llm()
        llm.parse(Answer, system="s", user="u", step="plain")
        llm.with_settings(frequency_penalty=0.5).parse(Answer, system="s", user="u", step="long")
    plain, long = stub.requests
    assert "frequency_penalty" not in plain
    assert long["frequency_penalty"] == 0.5
