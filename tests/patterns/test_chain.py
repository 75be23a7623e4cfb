"""The chain, replayed from cassettes recorded on a real model (``nox -s record``).

What the model answered is pinned by the snapshots; what the code does with it
(gate, date resolution, link, usage) is asserted here.
"""

from datetime import datetime

import pytest
from syrupy.assertion import SnapshotAssertion

from patterns import LLM, Usage, fixed_clock
from patterns.chain import ChainResult, process_calendar_request
from tests.conftest import WEDNESDAY

pytestmark = pytest.mark.vcr


def steps(result: ChainResult) -> list[str]:
    return [call.step for call in result.calls]


async def test_a_clear_event_is_confirmed_end_to_end(
    llm: LLM, snapshot_json: SnapshotAssertion
) -> None:
    text = (
        "Let's schedule a team meeting next Tuesday at 2pm with Alice and Bob "
        "to discuss the roadmap."
    )
    result = await process_calendar_request(text, llm=llm, clock=WEDNESDAY)

    assert result.outcome == "confirmed"
    assert steps(result) == ["extract", "details", "confirm"]
    assert result.details is not None
    assert result.details.start.date().isoformat() == "2026-12-01"  # next Tuesday
    assert result.calendar_link is not None
    assert result.calendar_link.startswith("https://calendar.google.com/calendar/render?")
    assert result.usage == sum((c.usage for c in result.calls), Usage())
    assert result.model_dump(mode="json") == snapshot_json


async def test_a_non_event_is_rejected_at_the_gate(
    llm: LLM, snapshot_json: SnapshotAssertion
) -> None:
    text = "Can you send an email to Alice about the project deadline?"
    result = await process_calendar_request(text, llm=llm, clock=WEDNESDAY)

    assert result.outcome == "rejected"
    assert result.rejection is not None
    assert result.rejection.reason == "not_calendar_event"
    assert steps(result) == ["extract"]  # nothing after the gate ran
    assert result.details is None
    assert result.model_dump(mode="json") == snapshot_json


async def test_a_confidence_below_the_threshold_is_rejected(llm: LLM) -> None:
    text = "Book a dentist appointment on Friday."  # a day, but no time: not enough
    result = await process_calendar_request(text, llm=llm, clock=WEDNESDAY, threshold=0.99)

    assert result.extraction.is_calendar_event
    assert result.outcome == "rejected"
    assert result.rejection is not None
    assert result.rejection.reason == "low_confidence"
    assert result.extraction.confidence < 0.99
    assert steps(result) == ["extract"]


async def test_an_event_below_the_threshold_passes_on_the_day_and_time_code_reads(
    llm: LLM,
) -> None:
    text = "Book a dentist appointment on Friday at 10:30."
    result = await process_calendar_request(text, llm=llm, clock=WEDNESDAY, threshold=0.99)

    assert result.extraction.is_calendar_event
    assert result.extraction.confidence < 0.99
    assert result.outcome == "confirmed"
    assert steps(result) == ["extract", "details", "confirm"]
    assert result.details is not None
    assert result.details.start == datetime(2026, 11, 27, 10, 30)


@pytest.mark.parametrize(
    ("today", "expected"),
    [("2026-11-25T10:00:00", "2026-12-01"), ("2026-12-03T10:00:00", "2026-12-08")],
    ids=["from-wednesday-nov-25", "from-thursday-dec-3"],
)
async def test_next_tuesday_resolves_against_the_injected_clock(
    llm: LLM, today: str, expected: str
) -> None:
    text = "Put a call with the vendor on the calendar for next Tuesday at 4pm."
    result = await process_calendar_request(text, llm=llm, clock=fixed_clock(today))

    assert result.details is not None, result.rejection
    assert result.details.start.date().isoformat() == expected
    assert result.details.start.date() > datetime.fromisoformat(today).date()
