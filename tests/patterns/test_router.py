"""The router, replayed from cassettes recorded on a real model: the calendar's
state after each run shows what the handlers really did."""

import json
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from patterns import LLM
from patterns.calendar import calendar_link
from patterns.router import RouterResult, route_calendar_request
from tests.calendars import dump, office
from tests.conftest import WEDNESDAY

pytestmark = pytest.mark.vcr


def steps(result: RouterResult) -> list[str]:
    return [call.step for call in result.calls]


async def test_a_new_event_request_creates_the_event(
    llm: LLM, snapshot_json: SnapshotAssertion
) -> None:
    calendar = office()
    text = "Schedule a team meeting next Tuesday at 2pm with Alice and Bob."
    result = await route_calendar_request(text, calendar=calendar, llm=llm, clock=WEDNESDAY)

    assert result.outcome == "handled"
    assert result.decision.request_type == "new_event"
    assert steps(result) == ["route", "details"]  # the chain's details step, shared
    created = calendar.events[-1]
    assert (created.id, created.start.date().isoformat()) == ("evt-3", "2026-12-01")
    assert created.participants == ["Alice", "Bob"]
    assert result.response is not None
    assert result.response.success
    assert result.response.calendar_link == calendar_link(created)
    assert {"result": result.model_dump(mode="json"), "calendar": dump(calendar)} == snapshot_json


async def test_a_modify_request_changes_the_existing_event(
    llm: LLM, snapshot_json: SnapshotAssertion
) -> None:
    calendar = office()
    text = "Move the design review to Friday at 3pm."
    result = await route_calendar_request(text, calendar=calendar, llm=llm, clock=WEDNESDAY)

    assert result.outcome == "handled"
    assert result.decision.request_type == "modify_event"
    assert steps(result) == ["route", "choose", "change"]
    assert result.action is not None
    assert result.action.arguments["event"] == "evt-1"  # its label chosen, mapped in code
    assert result.action.arguments["change"] == "move"
    [review] = [e for e in calendar.events if e.name == "Design review"]
    assert review.start.isoformat() == "2026-11-27T15:00:00"  # Friday at 3pm
    assert len(calendar.events) == 2
    assert {"result": result.model_dump(mode="json"), "calendar": dump(calendar)} == snapshot_json


async def test_other_requests_are_rejected_before_any_handler(llm: LLM) -> None:
    calendar = office()
    result = await route_calendar_request(
        "Thanks, that's all for today.", calendar=calendar, llm=llm, clock=WEDNESDAY
    )

    assert result.outcome == "rejected"
    assert result.rejection is not None
    assert result.rejection.reason == "unsupported_request"
    assert steps(result) == ["route"]
    assert dump(calendar) == dump(office())


async def test_low_confidence_is_rejected_before_any_handler(llm: LLM) -> None:
    calendar = office()
    text = "Schedule a team meeting next Tuesday at 2pm with Alice and Bob."
    result = await route_calendar_request(
        text, calendar=calendar, llm=llm, clock=WEDNESDAY, threshold=0.99
    )

    assert result.outcome == "rejected"
    assert result.rejection is not None
    assert result.rejection.reason == "low_confidence"
    assert result.decision.confidence < 0.99
    assert steps(result) == ["route"]
    assert dump(calendar) == dump(office())


async def test_changing_an_event_that_does_not_exist_fails_and_changes_nothing(
    llm: LLM, vcr: Any
) -> None:
    calendar = office()
    text = "Reschedule my dentist appointment to next Monday."
    result = await route_calendar_request(text, calendar=calendar, llm=llm, clock=WEDNESDAY)

    assert result.decision.request_type == "modify_event"
    assert result.outcome == "failed"
    assert result.response is not None
    assert not result.response.success
    # The model was shown the calendar and could answer "none": no other event is edited.
    shown = json.loads(vcr.requests[-1].body)["messages"][0]["content"]
    assert "- Design review: Thursday 2026-11-26 11:00, 60 min, with Dana" in shown
    assert result.response.message.startswith("no event in the calendar matches")
    assert steps(result) == ["route", "choose"]
    assert dump(calendar) == dump(office())
