"""A step: one box of a pattern's diagram, its output type and its instructions bound
once (as pydantic-ai's ``Agent(output_type=...)`` binds them). A pattern lists its steps
(``STEPS``), so the evals read what each box asks from the pattern itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ._llm import LLM, short
from ._usage import Trace

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Step(Generic[T]):
    """``await STEP(llm, text, trace)``: the model's typed answer for this box."""

    name: str
    """The step's name in the trace and the transcripts."""
    output_type: type[T] | None
    """None: the type is built for each call (``output_type=``), e.g. from a calendar."""
    instructions: str
    """The system prompt (a template where a call fills it in: ``system=``)."""
    brief: bool = False
    """A short answer (a label, a confidence, a sentence): a low token cap, so a model
    that rambles is cut off and told to be brief after seconds (``short``)."""

    async def __call__(
        self,
        llm: LLM,
        user: str,
        trace: Trace,
        *,
        system: str | None = None,
        output_type: type[T] | None = None,
        context: dict[str, Any] | None = None,
    ) -> T:
        """The answer; ``system`` replaces the instructions for this call (filled in),
        ``output_type`` the type (one built per call, e.g. from a calendar's events)."""
        model = short(llm) if self.brief else llm
        answer_type = output_type or self.output_type
        assert answer_type is not None, f"step {self.name} builds its type per call"
        return await model.aparse(
            answer_type,
            system=self.instructions if system is None else system,
            user=user,
            step=self.name,
            trace=trace,
            context=context,
        )
