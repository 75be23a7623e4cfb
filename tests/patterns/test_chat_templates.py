"""What the model actually reads: the request the core sends, rendered offline through the
chat format the embedded server uses for tools (llama-cpp-python's
``chatml-function-calling``, vendored verbatim from llama-cpp-python 0.3.36, MIT licence,
in ``tests/fixtures``). A cassette holds the request, not what the server's template made
of it: a correction the template drops never reaches the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jinja2 import StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from patterns import fixed_clock
from patterns.calendar import Calendar, CalendarTools
from patterns.testing.stub import Reply, always, stub_server

TEMPLATE = Path(__file__).parents[1] / "fixtures" / "chatml_function_calling.jinja"
LUNCH = {"name": "Lunch with Ana", "day": "tomorrow", "start_time": "12:00"}


def rendered(body: dict[str, object]) -> str:
    """The prompt llama-cpp-python's server builds when ``tool_choice`` names a tool."""
    environment = ImmutableSandboxedEnvironment(
        autoescape=select_autoescape(["html", "xml"]), undefined=StrictUndefined
    )
    template = environment.from_string(TEMPLATE.read_text().rstrip("\n"))
    return template.render(
        messages=body["messages"], tools=body["tools"], tool_calls=True, add_generation_prompt=True
    )


def test_a_tool_error_reaches_the_model_through_the_servers_chat_format() -> None:
    bad = Reply(tool_call=("create_event", json.dumps({**LUNCH, "start_time": "noon"})))
    good = Reply(tool_call=("create_event", json.dumps(LUNCH)))
    with stub_server(always(bad, good)) as stub:
        tools = CalendarTools(Calendar(), fixed_clock("2026-11-25T10:00:00"))
        stub.llm().call_tool(tools.create, system="Create it.", user="Lunch", step="create")
    prompt = rendered(stub.requests[1])
    assert "start_time: String should match pattern" in prompt  # the correction is seen
    tool_turn = prompt.split("<|im_start|>tool\n", 1)[1].split("<|im_start|>", 1)[0]
    assert tool_turn == ""  # the template drops the tool message itself: hence the user turn


def test_the_vendored_template_is_the_servers_own() -> None:
    llama_chat_format = pytest.importorskip("llama_cpp.llama_chat_format")
    source = Path(llama_chat_format.__file__).read_text()
    start = source.index("function_calling_template = (")
    end = source.index("template_renderer = ImmutableSandboxedEnvironment", start)
    namespace: dict[str, object] = {}
    exec(source[start:end].strip(), namespace)
    assert namespace["function_calling_template"] == TEMPLATE.read_text().rstrip("\n")
