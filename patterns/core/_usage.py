"""Usage accounting: what each call and each run cost. Usages add up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, computed_field

from ._errors import TokenBudgetExceeded

if TYPE_CHECKING:
    from ._tools import ToolCall


class Usage(BaseModel):
    """Tokens, requests and time spent; usages add up (``a + b``)."""

    model_config = ConfigDict(frozen=True)

    requests: int = 0
    """HTTP requests sent, validation retries included."""
    retries: int = 0
    """Requests that were validation retries."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    """Wall time spent waiting for the endpoint."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            requests=self.requests + other.requests,
            retries=self.retries + other.retries,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            latency_s=self.latency_s + other.latency_s,
        )


class CallRecord(BaseModel):
    """One typed call of a run: which step, which model, what it cost."""

    step: str
    model: str
    usage: Usage


class Message(BaseModel):
    """One message as it was sent (a tool call is shown as its JSON arguments)."""

    role: str
    content: str


class Exchange(BaseModel):
    """One request of a typed call and what came back: the evidence behind a result."""

    step: str
    messages: list[Message]
    """What was sent: system, user, and any retry feedback, in order."""
    answer: str
    """The raw answer text (or a tool call's name and arguments)."""
    finish_reason: str | None = None
    usage: Usage


@dataclass
class _Budget:
    limit: int
    used: int = 0


@dataclass
class Trace:
    """Collects the calls of one pattern run; ``usage`` is their total.

    ``token_budget`` caps the run: once the tokens spent reach it, the next request
    raises ``TokenBudgetExceeded`` instead of being sent. Branches of a run
    (``child()``) spend from the same budget, checked before each of their requests.
    """

    token_budget: int | None = None
    calls: list[CallRecord] = field(default_factory=list)
    transcript: list[Exchange] | None = None
    """When a list, every request and its answer is appended to it (the evals keep them
    as each case's evidence); branches (``child()``) append to the same list."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    """Every tool call that ran, with its validated arguments and output (``acall_tool``,
    and the router's actions on the calendar); branches append to the same list."""
    _budget: _Budget | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.token_budget is not None and self._budget is None:
            if self.token_budget < 0:
                raise ValueError(f"token_budget must be 0 or more, not {self.token_budget}")
            self._budget = _Budget(self.token_budget)

    @property
    def usage(self) -> Usage:
        return sum((c.usage for c in self.calls), Usage())

    @property
    def tokens_left(self) -> int | None:
        """What is left of the budget shared by this run and its branches (never negative)."""
        return None if self._budget is None else max(0, self._budget.limit - self._budget.used)

    def child(self) -> Trace:
        """A fresh trace for a branch of this run, spending from the same budget; the
        caller merges its calls back."""
        return Trace(
            token_budget=self.token_budget,
            transcript=self.transcript,
            tool_calls=self.tool_calls,
            _budget=self._budget,
        )

    def charge(self, tokens: int) -> None:
        """Count a request's tokens against the budget (as soon as its answer arrives)."""
        if self._budget is not None:
            self._budget.used += tokens

    def check_budget(self) -> None:
        budget = self._budget
        if budget is not None and budget.used >= budget.limit:
            raise TokenBudgetExceeded(
                f"this run has used {budget.used} tokens of its budget of {budget.limit}; "
                "raise token_budget or shorten the prompts"
            )


class PatternResult(BaseModel):
    """What every pattern returns: how it ended (``outcome``: each pattern names its own
    ends), every typed call it made, and what they cost."""

    outcome: str
    calls: list[CallRecord]
    usage: Usage
