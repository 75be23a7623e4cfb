"""``evaluate()``: a complete evaluation as one library call.

    from evals import evaluate
    report = evaluate(["path/to/my_suite.py"], ["gpt-4o-mini@https://api.openai.com/v1"],
                      baseline=Path("runs-before"), floors=["label.accuracy.low<0.8"],
                      fail_on_regression=0.05)
    report.ok, report.metric("gpt-4o-mini", "label.accuracy"), report.comparisons

Suites, models, options, a baseline and gates in; a typed ``Report`` out (metrics per
suite and model, comparisons, the gates that failed, the files written). Nothing is
printed and nothing exits: the command line (``evals.cli``) is argv -> ``evaluate()`` ->
a table and an exit code. Every input is checked before the first request:
``EvalError`` (one line) otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from filelock import FileLock, Timeout

from ._arguments import checked_call, checked_options, checked_prices
from ._budget import Budget
from ._defaults import DEFAULT_MAX_ERROR_RATE
from ._measuring import measure
from ._records import Record
from ._runner import Options, SuiteRun, run_suite
from ._runs import baseline_records, find_suite, from_disk, runs_in
from ._runs import resolve_suites as resolve_suites  # public: the built-ins by name, or files
from .compare import Comparison, ComparisonError, compare
from .data import bulk
from .gates import EvalError, Floor, check_floors, known_metrics, regressions
from .measures import Measure, MetricResult
from .models import ModelConfig, from_flag
from .suite import Suite

if TYPE_CHECKING:
    from . import report

T = TypeVar("T")
REPORT_FILES = (
    "summary.json", "summary.md", "report.md", "report.html", "results.csv", "junit.xml"
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Report:
    """What an evaluation found, and where it wrote it."""

    summary: report.Summary
    runs: list[SuiteRun]
    records: list[Record]
    failed: list[str]
    """The floors and regression gates that failed (empty: all held)."""
    files: list[Path]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def comparisons(self) -> list[Comparison]:
        return self.summary.comparisons

    def metric(self, model: str, name: str, suite: str | None = None) -> MetricResult | None:
        return self.summary.metric(model, name, suite)


async def aevaluate(
    suites: Sequence[Suite[Any, Any] | str | Path],
    models: Sequence[ModelConfig | str] = ("embedded",),
    *,
    judge: ModelConfig | str | None = None,
    options: Options | None = None,
    dataset: Path | None = None,
    baseline: Path | None = None,
    compare_models: bool = False,
    floors: Sequence[Floor | str] = (),
    fail_on_regression: float | None = None,
    primary: str | None = None,
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE,
    prices: dict[str, tuple[float, float]] | None = None,
    report_only: bool = False,
    write: bool = True,
    max_tokens: int | None = None,
    max_cost: float | None = None,
) -> Report:
    """``evaluate()`` for code that already runs an event loop (a notebook)."""
    options = checked_options(options)
    if max_tokens is not None or max_cost is not None:
        options = dataclasses.replace(options, budget=Budget(max_tokens, max_cost))
    checked_call(suites, models, judge, max_error_rate, fail_on_regression, floors)
    chosen = resolve_suites(suites, dataset)
    configs = [m if isinstance(m, ModelConfig) else from_flag(m) for m in models]
    if not configs:
        raise EvalError("no model to evaluate")
    if len({m.name for m in configs}) != len(configs):
        raise EvalError("two models have the same name: give each --model once")
    judge_config = from_flag(judge) if isinstance(judge, str) else judge
    prices = checked_prices(prices, configs)
    if options.budget is not None:
        options.budget.prices = prices
        options.budget.check_prices([m.name for m in configs])
    if options.batch is not None and not report_only:
        _batchable(configs, judge_config, options)
    directions = known_metrics(chosen)
    gates = [f if isinstance(f, Floor) else Floor.parse(f) for f in floors]
    for gate in gates:
        gate.check_known(directions)
    if max_error_rate < 1:
        gates.append(Floor("usage.error_rate", ">", max_error_rate))
    if fail_on_regression is not None and baseline is None and not compare_models:
        raise EvalError("--fail-on-regression needs --baseline or --compare-models")
    if primary is not None and fail_on_regression is None:
        raise EvalError("--primary names the metric --fail-on-regression tests: give both")
    if primary is not None and primary not in directions:
        raise EvalError(
            f"--primary {primary!r}: unknown metric (known: {', '.join(sorted(directions))})"
        )
    before = baseline_records(baseline, chosen) if baseline is not None else None
    with one_at_a_time(options.out):
        return await _evaluated(
            chosen, configs, judge_config, options, before, compare_models, gates,
            (fail_on_regression, primary), prices, report_only, write,
        )  # fmt: skip


def _batchable(configs: list[ModelConfig], judge: ModelConfig | None, options: Options) -> None:
    if options.cache is None:
        raise EvalError("--batch needs the response cache (it carries answers between rounds)")
    local = [m.name for m in configs if m.is_local or m.endpoints]
    if local:
        raise EvalError(
            f"--batch: {', '.join(local)} has no Batch API (an embedded model, a GGUF file or "
            "replicas answer live); run it without --batch"
        )
    if judge is not None and [m.name for m in configs] != [judge.name]:
        raise EvalError("--batch: the judge must be the one model evaluated (one batch each)")


@contextlib.contextmanager
def one_at_a_time(out: Path) -> Iterator[None]:
    """One evaluation at a time per ``--out``: the reports an invocation says it wrote
    describe that invocation, never another one's that finished later."""
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(out / ".evaluation.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise EvalError(
            f"another evaluation is writing to {out}; wait for it, or choose another --out"
        ) from None
    try:
        yield
    finally:
        lock.release()


async def _evaluated(
    chosen: list[Suite[Any, Any]],
    configs: list[ModelConfig],
    judge_config: ModelConfig | None,
    options: Options,
    before: list[Record] | None,
    compare_models: bool,
    gates: list[Floor],
    regression_gate: tuple[float | None, str | None],
    prices: dict[str, tuple[float, float]],
    report_only: bool,
    write: bool,
) -> Report:
    runs = (
        from_disk(chosen, options.out, options.say)
        if report_only
        else [await run_suite(s, configs, judge_config, options) for s in chosen]
    )
    from . import report  # when the runs are done: not before a first request

    with bulk():  # no collection scanning every record for each metric (2.9x at 100,000)
        for run in runs:
            measure(run, prices)
        summary = report.summarize(runs, options.out, judge_config.name if judge_config else None)
        summary.comparisons = comparisons(runs, before, compare_models)
        if options.budget is not None and (stopped := options.budget.report()):
            options.say(stopped)
            summary.stopped = stopped
        failed = check_floors(gates, runs)
        fail_on_regression, primary = regression_gate
        if fail_on_regression is not None:
            regressed, summary.gate = regressions(summary.comparisons, fail_on_regression, primary)
            failed += regressed
        summary.floors = failed
        found = [r for run in runs for r in run.records]
        rates = {(run.suite.name, m): price for run in runs for m, price in run.prices.items()}
        files = write_reports(options.out, summary, found, rates) if write else []
    return Report(summary=summary, runs=runs, records=found, failed=failed, files=files)


def evaluate(
    suites: Sequence[Suite[Any, Any] | str | Path],
    models: Sequence[ModelConfig | str] = ("embedded",),
    *,
    judge: ModelConfig | str | None = None,
    options: Options | None = None,
    dataset: Path | None = None,
    baseline: Path | None = None,
    compare_models: bool = False,
    floors: Sequence[Floor | str] = (),
    fail_on_regression: float | None = None,
    primary: str | None = None,
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE,
    prices: dict[str, tuple[float, float]] | None = None,
    report_only: bool = False,
    write: bool = True,
    max_tokens: int | None = None,
    max_cost: float | None = None,
) -> Report:
    """Run ``suites`` on ``models`` and report; ``aevaluate`` is the same, awaitable.
    ``max_tokens`` / ``max_cost`` (USD): a budget for this invocation (``Budget``)."""
    return run_sync(
        aevaluate(
            suites, models, judge=judge, options=options, dataset=dataset, baseline=baseline,
            compare_models=compare_models, floors=floors, fail_on_regression=fail_on_regression,
            primary=primary,
            max_error_rate=max_error_rate, prices=prices, report_only=report_only, write=write,
            max_tokens=max_tokens, max_cost=max_cost,
        )
    )  # fmt: skip


def run_sync(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)``, its result handed back outside the task: on CPython 3.11
    ``asyncio.run`` looks up its own SIGINT handler (which holds the task) through
    ``signal.getsignal``, whose failed enum lookup formats the handler's ``repr``, the
    finished task's result included: 100,000 records took 12 s to format, twice."""
    found: list[T] = []

    async def main() -> None:
        found.append(await work)

    asyncio.run(main())
    return found[0]


def comparisons(
    runs: Sequence[SuiteRun], baseline: list[Record] | None, compare_models: bool
) -> list[Comparison]:
    measures = {run.suite.name: run.suite.reported_measures for run in runs}
    current = [r for run in runs for r in run.records]
    found = []
    if baseline is not None:
        before_models = list(dict.fromkeys(r.model for r in baseline))
        for model in dict.fromkeys(r.model for r in current):
            source = model if model in before_models else (
                before_models[0] if len(before_models) == 1 else None
            )  # fmt: skip
            if source is None:
                continue
            before = [r for r in baseline if r.model == source]
            after = [r for r in current if r.model == model]
            found.append(_compared(before, after, measures, (f"baseline {source}", model)))
    if compare_models:  # the suites that ask a model (deterministic code has no rival)
        modelled = [r for run in runs if run.suite.uses_model for r in run.records]
        names = list(dict.fromkeys(r.model for r in modelled))
        for other in names[1:]:
            before = [r for r in modelled if r.model == names[0]]
            after = [r for r in modelled if r.model == other]
            found.append(_compared(before, after, measures, (names[0], other)))
    return found


def _compared(
    before: list[Record],
    after: list[Record],
    measures: Mapping[str, Sequence[Measure]],
    labels: tuple[str, str],
) -> Comparison:
    try:
        return compare(before, after, measures, labels)
    except ComparisonError as error:
        raise EvalError(str(error)) from None


def compare_runs(before: Path, after: Path) -> list[Comparison]:
    """Two ``--out`` folders (or run folders) compared, any suite: each run's suite is
    found again from its ``run.json`` (a built-in name, or the suite file it came from)."""
    old, new = runs_in(before), runs_in(after)
    shared = sorted(old.keys() & new.keys())
    if not shared:
        raise EvalError(f"{after} against {before}: no suite was run in both")
    measures = {
        name: find_suite(name, new[name][0], (before, after)).reported_measures for name in shared
    }
    before_records = [r for name in shared for r in old[name][1]]
    after_records = [r for name in shared for r in new[name][1]]
    found = []
    for model in dict.fromkeys(r.model for r in after_records):
        olds = [r for r in before_records if r.model == model] or before_records
        news = [r for r in after_records if r.model == model]
        found.append(_compared(olds, news, measures, (str(before), f"{after} {model}")))
    return found


def write_reports(
    out: Path,
    summary: report.Summary,
    found: list[Record],
    prices: dict[tuple[str, str], tuple[float, float]] | None = None,
) -> list[Path]:
    from . import html, report

    out.mkdir(parents=True, exist_ok=True)
    # each written as it is made: never every report of a large run in memory at once
    texts: dict[str, Callable[[], str]] = {
        "summary.json": lambda: summary.model_dump_json(indent=1),
        "summary.md": lambda: report.pr_summary(summary),
        "report.md": lambda: report.markdown(summary, found),
        "results.csv": lambda: report.csv_text(found, prices or {}),
        "junit.xml": lambda: report.junit_xml(found, summary.floors),
    }
    for name, text in texts.items():
        (out / name).write_text(text())
    html.write(out / "report.html", summary, found)
    return [out / name for name in REPORT_FILES]
