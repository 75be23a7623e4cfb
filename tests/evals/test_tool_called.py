"""ToolCalled: a generic check that a task called a tool, with given arguments, read from
the typed tool calls in the task's trace."""

import json
from typing import Any

from evals import CheckContext, ToolCalled
from evals.data import Case
from patterns import LLM, Trace, fixed_clock
from patterns.calendar import Calendar, CalendarTools
from patterns.testing.stub import Reply, always, stub_server

LUNCH = {"name": "Lunch with Ana", "day": "tomorrow", "start_time": "12:00"}


async def called(**arguments: Any) -> Trace:
    """A trace in which the model called create_event with ``arguments``."""
    trace = Trace()
    reply = Reply(tool_call=("create_event", json.dumps(arguments)))
    with stub_server(always(reply)) as stub:
        llm = LLM.from_env(base_url=stub.base_url, mode="json_object", max_retries=0)
        tools = CalendarTools(Calendar(), fixed_clock("2026-11-25T10:00:00"))
        await llm.acall_tool(tools.create, system="s", user="Lunch", step="create", trace=trace)
        await llm.aclose()
    return trace


async def test_a_tool_call_passes_when_its_named_arguments_match() -> None:
    trace = await called(**LUNCH)
    context = CheckContext(case=Case(id="c", input="x", expected="12:00"), judge=LLM(), trace=trace)
    assert len(trace.tool_calls) == 1

    plain = await ToolCalled("create_event").run(None, context)
    assert plain.passed is True
    assert plain.value == [LUNCH | {"duration_minutes": 60, "participants": []}]
    by_value = await ToolCalled("create_event", {"day": "tomorrow"}).run(None, context)
    assert by_value.passed is True
    from_case = ToolCalled("create_event", lambda expected: {"start_time": expected})
    assert (await from_case.run(None, context)).passed is True

    wrong = await ToolCalled("create_event", {"day": "Friday"}).run(None, context)
    assert (wrong.passed, wrong.reason) == (False, "called with other arguments")
    other = await ToolCalled("delete_event").run(None, context)
    assert (other.passed, other.reason) == (False, "delete_event was not called")
    assert ToolCalled("delete_event").name == "called_delete_event"
