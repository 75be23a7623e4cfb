"""Property-based tests: the retry loop's bound and the result models' round trip."""

import json
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from patterns import LLM, CallRecord, StructuredOutputError, Trace, Usage
from patterns.calendar import EventDetails
from patterns.chain import ChainRejection, ChainResult, Confirmation, EventExtraction
from patterns.testing.stub import Reply, always, stub_server


class Answer(BaseModel):
    ok: bool


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invalid=st.integers(0, 5), retries=st.integers(0, 3))
def test_the_retry_loop_sends_at_most_retries_plus_one_requests(invalid: int, retries: int) -> None:
    replies = [Reply('{"ok": "perhaps"}')] * invalid + [Reply('{"ok": true}')]
    with stub_server(always(*replies)) as stub:
        llm = LLM.from_env(
            base_url=stub.base_url, mode="json_object", max_retries=0, validation_retries=retries
        )
        trace = Trace()
        try:
            llm.parse(Answer, system="s", user="u", step="x", trace=trace)
            attempts_kept = None
        except StructuredOutputError as error:
            attempts_kept = len(error.attempts)
    assert attempts_kept == (None if invalid <= retries else retries + 1)
    assert len(stub.requests) == min(invalid, retries) + 1
    assert trace.usage.requests == len(stub.requests)
    assert trace.usage.retries == len(stub.requests) - 1


text = st.text(max_size=40)
usages = st.builds(
    Usage,
    requests=st.integers(0, 10**6),
    retries=st.integers(0, 10**6),
    prompt_tokens=st.integers(0, 10**9),
    completion_tokens=st.integers(0, 10**9),
    latency_s=st.floats(0, 1e6, allow_nan=False),
)
results = st.builds(
    ChainResult,
    outcome=st.sampled_from(["confirmed", "rejected"]),
    extraction=st.builds(
        EventExtraction,
        description=text,
        is_calendar_event=st.booleans(),
        confidence_percent=st.integers(0, 100),
    ),
    rejection=st.none()
    | st.builds(
        ChainRejection,
        reason=st.sampled_from(["not_calendar_event", "low_confidence"]),
        detail=text,
    ),
    details=st.none()
    | st.builds(
        EventDetails,
        name=text,
        start=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)),
        duration_minutes=st.integers(1, 1440),
        participants=st.lists(text, max_size=3),
    ),
    confirmation=st.none() | st.builds(Confirmation, confirmation_message=text),
    calendar_link=st.none() | text,
    calls=st.lists(st.builds(CallRecord, step=text, model=text, usage=usages), max_size=3),
    usage=usages,
)


@given(results)
def test_a_result_survives_a_json_round_trip(result: ChainResult) -> None:
    again = ChainResult.model_validate_json(result.model_dump_json())
    assert again == result
    assert json.loads(again.model_dump_json()) == json.loads(result.model_dump_json())


@given(st.lists(usages, max_size=5))
def test_usage_sums_are_associative_and_start_at_zero(parts: list[Usage]) -> None:
    total = sum(parts, Usage())
    assert total.requests == sum(p.requests for p in parts)
    assert total.total_tokens == sum(p.total_tokens for p in parts)
