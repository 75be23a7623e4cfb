"""Usage accounting: what each call and each run cost. Usages add up."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, computed_field

from .errors import TokenBudgetExceeded


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


@dataclass
class Trace:
    """Collects the calls of one pattern run; ``usage`` is their total.

    ``token_budget`` caps the run: once the total reaches it, the next request
    raises ``TokenBudgetExceeded`` instead of being sent.
    """

    token_budget: int | None = None
    calls: list[CallRecord] = field(default_factory=list)

    @property
    def usage(self) -> Usage:
        return sum((c.usage for c in self.calls), Usage())

    def child(self) -> Trace:
        """A fresh trace for a branch of this run, with what is left of the budget;
        the caller merges its calls back."""
        left = None if self.token_budget is None else self.token_budget - self.usage.total_tokens
        return Trace(token_budget=left)

    def check_budget(self, pending: Usage) -> None:
        used = (self.usage + pending).total_tokens
        if self.token_budget is not None and used >= self.token_budget:
            raise TokenBudgetExceeded(
                f"this run has used {used} tokens of its budget of {self.token_budget}; "
                "raise token_budget or shorten the prompts"
            )
