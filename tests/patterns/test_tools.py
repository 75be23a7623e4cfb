"""Typed tools and the calendar they act on: exact behaviour on a scripted stub."""

import json
from datetime import datetime
from typing import Any

import pytest

from patterns import LLM, StructuredOutputError, Trace, fixed_clock
from patterns.calendar import Calendar, CalendarTools
from patterns.testing.stub import Reply, always, stub_server
from tests.calendars import dump, office

WEDNESDAY = fixed_clock("2026-11-25T10:00:00")
LUNCH = {
    "name": "Lunch with Ana",
    "day": "tomorrow",
    "start_time": "12:00",
    "participants": ["Ana"],
}


def call(tool_name: str, **arguments: Any) -> Reply:
    return Reply(tool_call=(tool_name, json.dumps(arguments)))


def stub_llm(base_url: str, **settings: Any) -> LLM:
    return LLM.from_env(base_url=base_url, mode="json_object", max_retries=0, **settings)


def test_a_tool_is_declared_from_its_signature() -> None:
    tools = CalendarTools(Calendar(), WEDNESDAY)
    declared = tools.create.schema()["function"]
    assert declared["name"] == "create_event"
    assert declared["description"] == "Create a calendar event."
    parameters = declared["parameters"]
    assert parameters["required"] == ["name", "day", "start_time"]
    assert parameters["additionalProperties"] is False
    assert parameters["properties"]["start_time"]["pattern"] == "^([01][0-9]|2[0-3]):[0-5][0-9]$"


def test_a_valid_tool_call_runs_the_tool() -> None:
    calendar = Calendar()
    with stub_server(always(call("create_event", **LUNCH))) as stub:
        done = stub_llm(stub.base_url).call_tool(
            CalendarTools(calendar, WEDNESDAY).create, system="s", user="Lunch", step="create"
        )
    [body] = stub.requests
    assert body["tool_choice"] == {"type": "function", "function": {"name": "create_event"}}
    assert "response_format" not in body
    assert done.tool == "create_event"
    assert done.arguments["day"] == "tomorrow"
    [event] = calendar.events
    assert done.output == event
    assert (event.name, event.start) == ("Lunch with Ana", datetime(2026, 11, 26, 12))


def test_invalid_arguments_go_back_to_the_model_as_a_tool_error() -> None:
    calendar = Calendar()
    bad = call("create_event", **{**LUNCH, "start_time": "noon"})
    with stub_server(always(bad, call("create_event", **LUNCH))) as stub:
        trace = Trace()
        stub_llm(stub.base_url).call_tool(
            CalendarTools(calendar, WEDNESDAY).create,
            system="s",
            user="u",
            step="create",
            trace=trace,
        )
    retry = stub.requests[1]["messages"]
    assert retry[2]["tool_calls"][0]["function"]["arguments"] == json.dumps(
        {**LUNCH, "start_time": "noon"}
    )
    assert retry[3]["role"] == "tool"
    assert retry[3]["tool_call_id"] == "call_1"
    assert "start_time: String should match pattern" in retry[3]["content"]
    assert len(calendar.events) == 1  # the tool ran once, with the corrected arguments
    assert trace.usage.retries == 1


def test_a_tool_can_ask_the_model_to_try_again() -> None:
    calendar = office()
    unknown = call("modify_event", event="dentist", new_day="Monday")
    known = call("modify_event", event="design review", new_day="Monday")
    with stub_server(always(unknown, known)) as stub:
        stub_llm(stub.base_url).call_tool(
            CalendarTools(calendar, WEDNESDAY).modify, system="s", user="u", step="modify"
        )
    feedback = stub.requests[1]["messages"][3]["content"]
    assert "no event matches 'dentist'" in feedback
    assert "evt-1: Design review on 2026-11-26 11:00" in feedback
    [moved] = calendar.find("evt-1")
    assert moved.start == datetime(2026, 11, 30, 11)  # Monday, at the same time


async def test_when_tool_retries_run_out_the_calendar_is_untouched() -> None:
    calendar = office()
    with stub_server(always(call("remove_event", event="dentist"))) as stub:
        llm = stub_llm(stub.base_url, validation_retries=1)
        with pytest.raises(StructuredOutputError, match="no valid remove_event in 2 attempt"):
            await llm.acall_tool(
                CalendarTools(calendar, WEDNESDAY).remove, system="s", user="u", step="remove"
            )
        await llm.aclose()
    assert dump(calendar) == dump(office())


def test_an_answer_that_is_not_the_tool_call_is_retried() -> None:
    calendar = Calendar()
    with stub_server(always(Reply("I will create it."), call("create_event", **LUNCH))) as stub:
        stub_llm(stub.base_url).call_tool(
            CalendarTools(calendar, WEDNESDAY).create, system="s", user="u", step="create"
        )
    assert "the answer is not a call of create_event" in stub.requests[1]["messages"][3]["content"]
    assert len(calendar.events) == 1


def test_emulated_tools_ask_for_the_arguments_as_structured_output() -> None:
    calendar = Calendar()
    with stub_server(always(Reply(json.dumps(LUNCH)))) as stub:
        llm = stub_llm(stub.base_url, tool_mode="emulated")
        llm.call_tool(CalendarTools(calendar, WEDNESDAY).create, system="s", user="u", step="c")
    [body] = stub.requests
    assert "tools" not in body
    assert body["response_format"]["schema"]["title"] == "create_event_arguments"
    assert "Fill in the arguments of: Create a calendar event." in body["messages"][0]["content"]
    assert len(calendar.events) == 1


# --- The calendar itself -------------------------------------------------------------------


def test_modify_adds_and_removes_participants_and_keeps_the_rest() -> None:
    calendar = office()
    tools = CalendarTools(calendar, WEDNESDAY)
    arguments = {
        "event": "standup",
        "participants_to_add": ["Carol"],
        "participants_to_remove": ["bob"],
    }
    changed = tools.modify.run(json.dumps(arguments)).output
    assert changed.participants == ["Alice", "Carol"]
    assert (changed.start, changed.duration_minutes) == (datetime(2026, 11, 30, 9, 30), 15)


def test_find_matches_names_and_ids_but_not_filler_words() -> None:
    calendar = office()
    assert [e.id for e in calendar.find("the design review")] == ["evt-1"]
    assert [e.id for e in calendar.find("evt-2")] == ["evt-2"]
    assert calendar.find("the meeting with my team") == []
