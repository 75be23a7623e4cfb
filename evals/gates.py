"""Gates for CI: floors on a metric or on a bound of its interval, and a regression gate
against a baseline. Both are checked before any request is sent."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any, Literal

from ._runner import SuiteRun
from .compare import Comparison
from .errors import EvalsError
from .suite import Suite


class EvalError(EvalsError, ValueError):
    """Input that cannot be evaluated (a flag, a model, a floor, a folder): one line,
    exit code 2 on the command line."""


FLOOR = re.compile(r"^\s*([\w.:^@-]+?)(?:\.(low|high))?\s*(<=|>=|<|>)\s*(-?[0-9.]+)\s*$")
Bound = Literal["value", "low", "high"]


@dataclasses.dataclass(frozen=True)
class Floor:
    """``NAME<VALUE``: fail when the metric is below VALUE (and so on). ``NAME.low<VALUE``
    reads the low end of its 95% interval instead, so that noise cannot pass the gate:
    0.82 [0.60, 0.93] fails ``accuracy.low<0.8``. A metric (or bound) with no value
    fails too: the floor cannot be checked."""

    metric: str
    operator: str
    value: float
    bound: Bound = "value"

    @classmethod
    def parse(cls, text: str) -> Floor:
        match = FLOOR.match(text)
        if not match:
            raise EvalError(
                f"--fail-if {text!r}: expected METRIC<VALUE or METRIC.low<VALUE (or <=, >, >=)"
            )
        bound: Bound = match[2] or "value"  # type: ignore[assignment]
        return cls(match[1], match[3], float(match[4]), bound)

    @classmethod
    def under(cls, text: str, directions: dict[str, str]) -> Floor:
        """The older ``NAME=VALUE`` form: a floor in the direction the metric improves."""
        name, _, value = text.partition("=")
        if name not in directions:
            raise EvalError(
                f"--fail-under {text!r}: unknown metric (known: {', '.join(sorted(directions))})"
            )
        try:
            number = float(value)
        except ValueError:
            raise EvalError(f"--fail-under {text!r}: {value!r} is not a number") from None
        return cls(name, "<" if directions[name] == "higher" else ">", number)

    def check_known(self, directions: dict[str, str]) -> None:
        if self.metric not in directions:
            raise EvalError(
                f"--fail-if {self}: unknown metric (known: {', '.join(sorted(directions))})"
            )

    def failed_by(self, estimate: float | None) -> bool:
        if estimate is None:
            return True
        return {
            "<": estimate < self.value,
            "<=": estimate <= self.value,
            ">": estimate > self.value,
            ">=": estimate >= self.value,
        }[self.operator]

    def __str__(self) -> str:
        name = self.metric if self.bound == "value" else f"{self.metric}.{self.bound}"
        return f"{name}{self.operator}{self.value:g}"


def known_metrics(suites: Sequence[Suite[Any, Any]]) -> dict[str, str]:
    """Every metric name the suites can report, with its better direction (from the
    measures themselves, run on no records: nothing is sent)."""
    found: dict[str, str] = {}
    for suite in suites:
        for each in suite.measures:
            for result in each.compute([]):
                found[result.name] = result.direction
    found |= {"usage.error_rate": "lower", "usage.retry_rate": "lower"}
    return found


def check_floors(floors: Sequence[Floor], runs: Sequence[SuiteRun]) -> list[str]:
    failed = []
    for floor in floors:
        for run in runs:
            for model, results in run.results.items():
                metric = next((m for m in results if m.name == floor.metric), None)
                if metric is None:
                    continue
                read = getattr(metric.estimate, floor.bound)
                if floor.failed_by(read):
                    shown = "n/a" if read is None else f"{read:.3f}"
                    where = (
                        "" if floor.bound == "value" else f" ({floor.bound} of {metric.estimate})"
                    )
                    failed.append(
                        f"{run.suite.name} / {model}: {floor.metric}{where} = {shown} "
                        f"({floor} fails)"
                    )
    return failed


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given: the family's false-alarm
    rate is at most P when each adjusted p is compared with P."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def regressions(
    comparisons: Sequence[Comparison], p: float, primary: str | None = None
) -> tuple[list[str], list[str]]:
    """The metrics that got significantly worse (one line each), and how the gate decided.

    P is the gate's false-alarm rate, not each metric's: with ``primary`` only that
    metric is tested (the others are reported); otherwise Holm's adjustment over every
    compared metric of each comparison. A metric over too few cases to reach P (an exact
    test of n units gives p >= 2^(1-n)) is named: the gate cannot flag it."""
    failed, notes = [], []
    for c in comparisons:
        tested = [d for d in c.deltas if primary is None or d.name == primary]
        adjusted = holm([d.p_value for d in tested]) if primary is None else None
        how = (
            f"primary metric {primary} at P = {p:g}"
            if primary
            else f"Holm over {len(tested)} compared metrics at P = {p:g}"
        )
        notes.append(f"{c.after} against {c.before}: {how}")
        reach = p / max(1, len(tested)) if primary is None else p
        mute = [d for d in tested if 2.0 ** (1 - d.pairs) >= reach]
        if tested and len(mute) == len(tested):
            most = max(d.pairs for d in tested)
            notes.append(
                f"{c.after} against {c.before}: the gate cannot fire on {most} paired cases "
                f"(it would need a p below {reach:.2g})"
            )
        elif mute:
            names = ", ".join(f"{d.suite} {d.name}" for d in mute[:5])
            notes.append(f"{c.after} against {c.before}: too few cases to flag {names}")
        for i, d in enumerate(tested):
            shown = d.p_value if adjusted is None else adjusted[i]
            if d.worse and shown < p:
                label = "p" if adjusted is None else "Holm-adjusted p"
                failed.append(
                    f"{c.after} against {c.before}: {d.suite} {d.name} {d.delta.value:+.3f} "
                    f"({label} {shown:.3g} < {p:g}, {d.test}) is significantly worse"
                )
    return failed, notes
