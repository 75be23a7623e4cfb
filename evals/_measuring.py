"""Every metric of a suite run, per model, overall and per group, with per-case
consistency when cases were repeated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._batch import BATCH_PRICE
from ._records import Record
from ._runner import SuiteRun
from .measures import MetricResult, answered, by_case, usage
from .metrics import proportion
from .suite import Suite


def measure(run: SuiteRun, prices: dict[str, tuple[float, float]]) -> None:
    """Every metric of the suite, per model, overall and per group."""
    by_model: dict[str, list[Record]] = {}
    for record in run.records:
        by_model.setdefault(record.model, []).append(record)
    for model, model_records in by_model.items():
        price = prices.get(model)
        if price is not None and run.info.batch is not None:  # answered at batch prices
            price = (price[0] * BATCH_PRICE, price[1] * BATCH_PRICE)
        if price is not None:
            run.prices[model] = price
        run.results[model] = _metrics(run.suite, model_records, price)
        run.groups[model] = {}
        for key in run.suite.group_by:
            values = sorted({_tag(r, key) for r in model_records})
            run.groups[model][key] = {
                v: _metrics(
                    run.suite,
                    [r for r in model_records if _tag(r, key) == v],
                    None,
                    with_usage=False,
                )
                for v in values
            }


def _tag(record: Record, key: str) -> str:
    value = record.split if key == "split" else record.metadata.get(key)
    return "(none)" if value is None else str(value)


def _metrics(
    suite: Suite[Any, Any],
    recs: list[Record],
    price: tuple[float, float] | None,
    with_usage: bool = True,
) -> list[MetricResult]:
    found = [m for measure_ in suite.reported_measures for m in measure_.compute(recs)]
    return found + consistency(recs) + (usage(recs, price) if with_usage else [])


def consistency(recs: Sequence[Record]) -> list[MetricResult]:
    """With repeats (``--epochs``), for each check, over the cases: the share whose outcome
    was the same in every repeat (agreement), whose every repeat passed (pass^k) and
    where at least one passed (pass@k). Repeats that errored or did not apply are left
    out; a case needs two repeats that count."""
    groups = by_case(recs)
    if all(len(group) < 2 for group in groups.values()):
        return []
    found = []
    for check in sorted({name for r in recs for name in r.checks}):
        outcomes = [
            [bool(r.passed(check)) for r in answered(group, check)] for group in groups.values()
        ]
        repeated = [o for o in outcomes if len(o) >= 2]
        n = len(repeated)
        found += [
            MetricResult(
                name=f"agreement.{check}",
                estimate=proportion(sum(len(set(o)) == 1 for o in repeated), n),
            ),
            MetricResult(
                name=f"pass^k.{check}", estimate=proportion(sum(all(o) for o in repeated), n)
            ),
            MetricResult(
                name=f"pass@k.{check}", estimate=proportion(sum(any(o) for o in repeated), n)
            ),
        ]
    return found
