"""A run's budget in tokens and dollars (``--max-tokens``, ``--max-cost``): checked as each
case run completes; once spent, no further case starts, the cases in flight finish and
are recorded, and the report says so. A run is resumable: the next invocation (with a
larger budget, or none) reuses what was recorded and runs the rest. Before a model's
cases start, what they will cost is estimated from the suite's last recorded run on that
model, when there is one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from patterns import Usage

from . import _records as records
from ._records import Record


@dataclass
class Budget:
    max_tokens: int | None = None
    max_cost: float | None = None
    """USD; counted only for models with a price (``--price`` or models.yaml)."""
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    tokens: int = 0
    cost: float = 0.0
    skipped: int = 0
    """Case runs not started because the budget was spent."""

    def __post_init__(self) -> None:
        from .gates import EvalError  # gates reads runs, which carry a budget

        if self.max_tokens is not None and self.max_tokens < 1:
            raise EvalError(f"--max-tokens {self.max_tokens!r}: must be 1 or more")
        if self.max_cost is not None and not self.max_cost > 0:
            raise EvalError(f"--max-cost {self.max_cost!r}: must be more than 0 (USD)")

    def check_prices(self, models: list[str]) -> None:
        """A cost budget needs a price for every model it runs."""
        from .gates import EvalError

        unpriced = [m for m in models if m not in self.prices]
        if self.max_cost is not None and unpriced:
            raise EvalError(
                f"--max-cost: no price for {', '.join(unpriced)}; give --price MODEL=IN,OUT "
                "(USD per million tokens) or a price in models.yaml"
            )

    def spend(self, model: str, usage: Usage) -> None:
        self.tokens += usage.total_tokens
        price = self.prices.get(model)
        if price is not None:
            self.cost += (usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / 1e6

    @property
    def spent(self) -> bool:
        return (self.max_tokens is not None and self.tokens >= self.max_tokens) or (
            self.max_cost is not None and self.cost >= self.max_cost
        )

    def report(self) -> str | None:
        """What the budget stopped, or None if it stopped nothing."""
        if not self.skipped:
            return None
        of = f" of {self.max_tokens:,}" if self.max_tokens else ""
        limits = [f"{self.tokens:,} tokens{of}"]
        if self.max_cost is not None:
            limits.append(f"${self.cost:.4f} of ${self.max_cost:g}")
        return (
            f"stopped at the budget ({', '.join(limits)}): {self.skipped} case run(s) not "
            "started; the report covers what was recorded. Run again with a larger budget "
            "(or none) to resume: the recorded cases are reused."
        )

    def estimate(self, model: str, cases: int, earlier: list[Record]) -> str | None:
        """What ``cases`` more case runs of ``model`` will use, from the tokens a case
        took in ``earlier`` records (None without any), and whether the budget holds it."""
        used = [r.usage for r in earlier if r.model == model and not r.error]
        used = [u for u in used if u.total_tokens]
        if not used or not cases:
            return None
        prompt = sum(u.prompt_tokens for u in used) / len(used) * cases
        completion = sum(u.completion_tokens for u in used) / len(used) * cases
        line = f"about {round(prompt + completion):,} tokens"
        over = self.max_tokens is not None and self.tokens + prompt + completion > self.max_tokens
        if (price := self.prices.get(model)) is not None:
            cost = (prompt * price[0] + completion * price[1]) / 1e6
            line += f" (${cost:.4f})"
            over = over or (self.max_cost is not None and self.cost + cost > self.max_cost)
        line += f" for {cases} case run(s), estimated from {len(used)} recorded earlier"
        if over:
            line += "; over what is left of the budget: it will stop the run (run again to resume)"
        return line


def earlier_records(out: Path, suite: str, model: str) -> list[Record]:
    """The records of ``model`` in the suite's latest run under ``out`` that has any."""
    for results in sorted((out / suite).glob(f"*/{records.RESULTS}"), reverse=True):
        found = [r for r in records.read(results, transcripts=False) if r.model == model]
        if found:
            return found
    return []
