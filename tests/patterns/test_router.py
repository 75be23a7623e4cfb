"""The router, replayed from cassettes recorded on a real model: the calendar's
state after each run shows what the handlers really did."""

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
    assert steps(result) == ["route", "choose", "kinds", "change"]
    assert result.event == "evt-1"  # the one event the message names, found by code
    assert result.action is not None
    assert result.action.arguments["event"] == "evt-1"
    assert [c["change"] for c in result.action.arguments["changes"]] == ["move"]
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


async def test_changing_an_event_that_does_not_exist_changes_nothing(llm: LLM) -> None:
    calendar = office()
    text = "Reschedule my dentist appointment to next Monday."
    result = await route_calendar_request(text, calendar=calendar, llm=llm, clock=WEDNESDAY)

    # The message names no listed event (code finds none): it is not a change to one, so
    # it is routed again, between a new event and other; no listed event is edited.
    assert steps(result)[:2] == ["route", "reroute"]
    assert result.decision.request_type in ("new_event", "other")
    assert dump(calendar)[:2] == dump(office())


async def test_a_change_worded_indirectly_reaches_the_event_it_names(
    llm: LLM, snapshot_json: SnapshotAssertion
) -> None:
    calendar = office()
    text = "Dana can't make it tomorrow morning, so the design review is now at 2pm."
    result = await route_calendar_request(text, calendar=calendar, llm=llm, clock=WEDNESDAY)

    assert result.outcome == "handled"
    assert result.event == "evt-1"
    [review] = [e for e in calendar.events if e.name == "Design review"]
    assert review.start.isoformat() == "2026-11-26T14:00:00"  # the stated time, read by code
    assert {"result": result.model_dump(mode="json"), "calendar": dump(calendar)} == snapshot_json


async def test_a_two_part_change_is_applied_as_two_changes(
    llm: LLM, snapshot_json: SnapshotAssertion
) -> None:
    calendar = office()
    text = "Move the weekly standup to 10am and add Carol."
    result = await route_calendar_request(text, calendar=calendar, llm=llm, clock=WEDNESDAY)

    assert result.outcome == "handled"
    assert steps(result) == ["route", "choose", "kinds", "change", "change"]
    [standup] = [e for e in calendar.events if e.name == "Weekly standup"]
    assert standup.start.isoformat() == "2026-11-30T10:00:00"
    assert standup.participants == ["Alice", "Bob", "Carol"]
    assert {"result": result.model_dump(mode="json"), "calendar": dump(calendar)} == snapshot_json
