"""Evaluate your own prompt: a support-ticket triage prompt, as a suite.

    patterns-evals run examples/evaluate-your-prompt/triage.py --model embedded

Nothing here imports from this project's patterns except the typed call (``LLM``):
the task is any async function of a model, a case's input and a context.
"""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from evals import Accuracy, Equals, Multiclass, Suite, TaskContext
from patterns import LLM

PROMPT = (
    "You sort customer support tickets. Answer with the ticket's category: billing "
    "(payments, invoices, refunds), bug (something is broken), feature (a request for "
    "something new) or other."
)

Category = Literal["billing", "bug", "feature", "other"]


class Triage(BaseModel):
    category: Category
    urgent: bool


class Expected(BaseModel):
    category: Category
    urgent: bool


async def triage(llm: LLM, ticket: str, context: TaskContext) -> Triage:
    return await llm.aparse(Triage, system=PROMPT, user=ticket, step="triage", trace=context.trace)


SUITE = Suite(
    name="triage",
    dataset=Path(__file__).parent / "tickets.yaml",
    input_type=str,
    expected_type=Expected,
    task=triage,
    checks=[
        Equals("category", got=lambda o: o.category, want=lambda e: e.category),
        Equals("urgent", got=lambda o: o.urgent, want=lambda e: e.urgent),
    ],
    measures=[
        Multiclass("category", labels=["billing", "bug", "feature", "other"]),
        Accuracy("urgent"),
    ],
    group_by=("split", "channel"),
)
