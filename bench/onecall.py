"""The benchmarks' one-call suite: one typed call per case and one exact check, the
smallest case a harness runs (what the peers run too). Its dataset comes with
``--dataset``: JSON Lines of ``{"id", "input", "expected"}``."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from evals import Accuracy, Equals, Suite, TaskContext
from patterns import LLM

PROMPT = "Sort the request: new_event, modify_event or other."


class Route(BaseModel):
    description: str
    request_type: Literal["new_event", "modify_event", "other"]
    confidence_percent: int


async def route(llm: LLM, text: str, context: TaskContext) -> str:
    answer = await llm.aparse(Route, system=PROMPT, user=text, step="route", trace=context.trace)
    return answer.request_type


SUITE = Suite(
    name="onecall",
    dataset=Path(__file__).parent / "onecall.jsonl",
    input_type=str,
    expected_type=str,
    task=route,
    checks=[Equals("route", got=lambda o: o, want=lambda e: e)],
    measures=[Accuracy("route")],
)
