"""The evaluation's spans (when tracing is configured: see ``patterns.core._telemetry``):
one per suite run, one per case under it (the pattern's own spans under that), and one
``gen_ai.evaluation.result`` event per check on the case's span."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from patterns.core import Usage
from patterns.core.plumbing import KIND, SpanHandle, SpanScope, span

if TYPE_CHECKING:
    from .checks import CheckResult

EXPLANATION_CHARS = 1_000
"""A check's reason is cut to this length in its event (it may quote the output)."""


def suite_span(suite: str, models: list[str], runs: int) -> SpanScope:
    """Around one suite's run on every model."""
    return span(
        f"eval_run {suite}",
        {
            "patterns.suite": suite,
            "patterns.models": ", ".join(models),
            "patterns.runs": runs,
            KIND: "CHAIN",
        },
    )


def case_span(suite: str, model: str, case: str, epoch: int, split: str | None) -> SpanScope:
    """Around one case on one model: the task and its checks."""
    return span(
        f"eval_case {suite}",
        {
            "gen_ai.operation.name": "invoke_workflow",
            KIND: "CHAIN",
            "gen_ai.request.model": model,
            "patterns.suite": suite,
            "patterns.case": case,
            "patterns.epoch": epoch,
            "patterns.split": split,
        },
    )


def evaluated(
    handle: SpanHandle, checks: Mapping[str, CheckResult], usage: Usage, error: str | None
) -> None:
    """The case's checks as evaluation events, its usage, and its error's type."""
    if handle.span is None:
        return
    for name, result in checks.items():
        value = result.score if result.score is not None else _passed(result.passed)
        label = "n/a" if result.passed is None else ("pass" if result.passed else "fail")
        reason = result.reason[:EXPLANATION_CHARS] if result.reason else None
        handle.event(
            "gen_ai.evaluation.result",
            {
                "gen_ai.evaluation.name": name,
                "gen_ai.evaluation.score.value": value,
                "gen_ai.evaluation.score.label": label,
                "gen_ai.evaluation.explanation": reason,
            },
        )
    handle.usage(usage)
    if error is not None:
        handle.failed(error.split(":", 1)[0])


def _passed(passed: bool | None) -> float | None:
    return None if passed is None else float(passed)
