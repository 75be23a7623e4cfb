"""``python -m evals`` (or ``patterns-evals``): run suites, compare runs, manage the cache.

    python -m evals run                          # every built-in suite on the embedded model
    python -m evals run calendar --quick         # the calendar suites, 2 cases per kind
    python -m evals run path/to/my_suite.py --model gpt-4o-mini@https://api.openai.com/v1
    python -m evals run --models models.yaml --fail-if 'router.accuracy<0.8'
    python -m evals compare evals/runs-before evals/runs
    python -m evals cache clear
    python -m evals schema chain > calendar_requests.schema.json

Every input is checked before the first request: a bad flag, model, floor or dataset
is one line on stderr and exit code 2. Exit 1: a floor failed. Exit 130: interrupted
(results kept; run again to resume).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from patterns.server import ServerError, stop_on_sigterm

from . import cache as response_cache
from . import html, records, report
from .compare import Comparison, compare
from .data import DatasetError, write_schema
from .models import ModelConfig, ModelError, from_flag, load_models
from .records import DiskFull, Record, ResultsLocked
from .runner import DEFAULT_CACHE, DEFAULT_OUT, Options, SuiteRun, latest_run, measure, run_suite
from .suite import Suite, SuiteError, load_suites
from .suites import BUILTIN

console = Console(stderr=True, soft_wrap=True)
EXIT_FLOOR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
DEFAULT_MAX_ERROR_RATE = 0.2


class UsageError(ValueError):
    """Bad input from the command line: one line, exit code 2."""


# --- Floors ----------------------------------------------------------------------------------

FLOOR = re.compile(r"^\s*([\w.:-]+)\s*(<=|>=|<|>)\s*(-?[0-9.]+)\s*$")


@dataclasses.dataclass(frozen=True)
class Floor:
    """``NAME<VALUE``: fail when the metric is below VALUE (and so on); a metric with no
    value fails too: the floor cannot be checked."""

    metric: str
    operator: str
    value: float

    @classmethod
    def parse(cls, text: str) -> Floor:
        match = FLOOR.match(text)
        if not match:
            raise UsageError(f"--fail-if {text!r}: expected METRIC<VALUE (or <=, >, >=)")
        return cls(match[1], match[2], float(match[3]))

    @classmethod
    def under(cls, text: str, directions: dict[str, str]) -> Floor:
        """The older ``NAME=VALUE`` form: a floor in the direction the metric improves."""
        name, _, value = text.partition("=")
        if name not in directions:
            raise UsageError(
                f"--fail-under {text!r}: unknown metric (known: {', '.join(sorted(directions))})"
            )
        try:
            number = float(value)
        except ValueError:
            raise UsageError(f"--fail-under {text!r}: {value!r} is not a number") from None
        return cls(name, "<" if directions[name] == "higher" else ">", number)

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
        return f"{self.metric}{self.operator}{self.value:g}"


def known_metrics(suites: Sequence[Suite]) -> dict[str, str]:
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
                if floor.failed_by(metric.estimate.value):
                    shown = (
                        "n/a" if metric.estimate.value is None else f"{metric.estimate.value:.3f}"
                    )
                    failed.append(
                        f"{run.suite.name} / {model}: {floor.metric} = {shown} ({floor} fails)"
                    )
    return failed


# --- Arguments -------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evals", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run suites (built-in names or Python files)")
    run.add_argument(
        "suites",
        nargs="*",
        default=["all"],
        help=f"built-in ({', '.join(BUILTIN)}) or a suite file",
    )
    run.add_argument(
        "--model",
        action="append",
        default=[],
        help="embedded | embedded:NAME | gguf:PATH | MODEL@BASE_URL (repeatable)",
    )
    run.add_argument(
        "--models", type=Path, help="a models.yaml: endpoints, key variables, settings, prices"
    )
    run.add_argument(
        "--judge",
        help="the judging model (a --model form, or a name in --models); default: the model tested",
    )
    run.add_argument(
        "--confidence",
        choices=["verbal", "tokens"],
        help="gate confidence for every --model: the written percent, or token probabilities",
    )
    run.add_argument("--dataset", type=Path, help="another dataset file for the suites named")
    run.add_argument(
        "--split",
        action="append",
        choices=["dev", "test"],
        help="run only these splits (default: both)",
    )
    run.add_argument("--quick", action="store_true", help="a small stratified subset")
    run.add_argument(
        "--epochs",
        type=int,
        default=1,
        help="repeat every case N times (non-deterministic endpoints)",
    )
    run.add_argument("--out", type=Path, default=DEFAULT_OUT)
    run.add_argument(
        "--fresh",
        action="store_true",
        help="start a new run even if one with this configuration exists",
    )
    run.add_argument("--retry-errors", action="store_true", help="run again the cases that errored")
    run.add_argument(
        "--report-only",
        action="store_true",
        help="send nothing: rebuild the reports from the latest runs in --out",
    )
    run.add_argument(
        "--concurrency",
        type=int,
        help="cases in flight per model (default: 1 for a local server, else 8)",
    )
    run.add_argument(
        "--timeout", type=float, default=300.0, help="seconds for one request, answer included"
    )
    run.add_argument("--no-cache", action="store_true")
    run.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    run.add_argument(
        "--baseline", type=Path, help="an earlier --out folder (or run folder) to compare against"
    )
    run.add_argument(
        "--compare-models",
        action="store_true",
        help="compare each model with the first one, case by case",
    )
    run.add_argument(
        "--price", action="append", default=[], help="MODEL=IN,OUT: USD per million tokens"
    )
    run.add_argument(
        "--fail-if",
        action="append",
        default=[],
        help="METRIC<VALUE (or <=, >, >=): exit 1 if it holds",
    )
    run.add_argument(
        "--fail-under",
        action="append",
        default=[],
        help="METRIC=VALUE: exit 1 if worse (in the metric's direction)",
    )
    run.add_argument(
        "--max-error-rate",
        type=float,
        default=DEFAULT_MAX_ERROR_RATE,
        help="exit 1 above this share of errored cases (default 0.2; 1 turns it off)",
    )
    cmp_ = sub.add_parser("compare", help="compare two runs case by case")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    cmp_.add_argument(
        "--out", type=Path, help="write report.md and report.html of the comparison here"
    )
    cache = sub.add_parser("cache", help="the response cache")
    cache.add_argument("action", choices=["clear"])
    cache.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    schema = sub.add_parser("schema", help="print the JSON schema of a suite's dataset files")
    schema.add_argument("suite")
    return p


@dataclasses.dataclass
class Plan:
    suites: list[Suite]
    models: list[ModelConfig]
    judge: ModelConfig | None
    floors: list[Floor]
    prices: dict[str, tuple[float, float]]
    options: Options


def resolve_suites(names: Sequence[str], dataset: Path | None) -> list[Suite]:
    suites: list[Suite] = []
    for name in names:
        if name in BUILTIN:
            suites += BUILTIN[name]
        elif name.endswith(".py") or Path(name).exists():
            suites += load_suites(Path(name))
        else:
            raise UsageError(
                f"unknown suite {name!r}: a built-in ({', '.join(BUILTIN)}) or a .py file"
            )
    unique = list({s.name: s for s in suites}.values())
    if dataset is not None:
        if not dataset.is_file():
            raise UsageError(f"--dataset {dataset}: no such file")
        unique = [
            dataclasses.replace(s, dataset=dataset) if isinstance(s.dataset, Path) else s
            for s in unique
        ]
    for suite in unique:
        suite.load()  # a broken dataset fails now, before any request
    return unique


def plan(args: argparse.Namespace) -> Plan:
    """Everything the run needs, checked before anything is sent."""
    if args.epochs < 1:
        raise UsageError(f"--epochs {args.epochs}: must be 1 or more")
    if args.concurrency is not None and not 1 <= args.concurrency <= 1024:
        raise UsageError(f"--concurrency {args.concurrency}: must be between 1 and 1024")
    if args.timeout <= 0:
        raise UsageError(f"--timeout {args.timeout}: must be positive")
    if not 0 <= args.max_error_rate <= 1:
        raise UsageError(f"--max-error-rate {args.max_error_rate}: must be between 0 and 1")
    suites = resolve_suites(args.suites, args.dataset)
    listed = load_models(args.models) if args.models else None
    models = [from_flag(m) for m in args.model] + (listed.models if listed else [])
    if not models:
        models = [from_flag("embedded")]
    if args.confidence:
        models = [m.model_copy(update={"confidence": args.confidence}) for m in models]
    if len({m.name for m in models}) != len(models):
        raise UsageError("two models have the same name: give each --model once")
    judge = None
    if args.judge or (listed and listed.judge):
        wanted = args.judge or (listed.judge if listed else None)
        judge = next((m for m in models if m.name == wanted), None) or from_flag(str(wanted))
    prices = {m.name: m.price for m in models if m.price}
    for text in args.price:
        name, _, value = text.partition("=")
        try:
            numbers = tuple(float(v) for v in value.split(","))
            if len(numbers) != 2 or min(numbers) < 0:
                raise ValueError(value)
            prices[name] = (numbers[0], numbers[1])
        except ValueError:
            raise UsageError(
                f"--price {text!r}: expected MODEL=IN,OUT (USD per million tokens, two numbers)"
            ) from None
        if name not in {m.name for m in models}:
            raise UsageError(f"--price {text!r}: {name!r} is not a model of this run")
    directions = known_metrics(suites)
    floors = [Floor.parse(f) for f in args.fail_if] + [
        Floor.under(f, directions) for f in args.fail_under
    ]
    for floor in floors:
        if floor.metric not in directions:
            raise UsageError(
                f"--fail-if {floor}: unknown metric (known: {', '.join(sorted(directions))})"
            )
    if args.max_error_rate < 1:
        floors.append(Floor("usage.error_rate", ">", args.max_error_rate))
    options = Options(
        out=args.out,
        epochs=args.epochs,
        fresh=args.fresh,
        retry_errors=args.retry_errors,
        cache=None if args.no_cache else args.cache,
        timeout=args.timeout,
        splits=set(args.split) if args.split else None,
        quick=args.quick,
        concurrency=args.concurrency,
        say=lambda text: console.print(text, markup=False, highlight=False),
    )
    return Plan(suites, models, judge, floors, prices, options)


# --- Running ---------------------------------------------------------------------------------


async def execute(p: Plan) -> list[SuiteRun]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done)

        p.options.progress = progress
        return [await run_suite(suite, p.models, p.judge, p.options) for suite in p.suites]


def from_disk(p: Plan) -> list[SuiteRun]:
    """The latest run of each suite in --out, read back (``--report-only``)."""
    runs = []
    for suite in p.suites:
        directory = latest_run(p.options.out, suite.name)
        if directory is None or not (directory / "results.jsonl").exists():
            raise UsageError(f"--report-only: no run of {suite.name} in {p.options.out}")
        info = (directory / "run.json").read_text()
        from .runner import RunInfo

        found = records.read(directory / "results.jsonl")
        runs.append(SuiteRun(suite, directory, found, 0, RunInfo.model_validate_json(info)))
    return runs


def baseline_records(path: Path, suites: Sequence[Suite]) -> list[Record]:
    """Records of an earlier --out folder (latest run of each suite) or of one run folder."""
    if (path / "results.jsonl").exists():
        return records.read(path / "results.jsonl")
    found: list[Record] = []
    for suite in suites:
        directory = latest_run(path, suite.name)
        if directory is not None:
            found += records.read(directory / "results.jsonl")
    if not found:
        raise UsageError(
            f"--baseline {path}: no results there for {', '.join(s.name for s in suites)}"
        )
    return found


def comparisons(
    p: Plan, runs: Sequence[SuiteRun], baseline: list[Record] | None, compare_models: bool
) -> list[Comparison]:
    measures = {run.suite.name: run.suite.measures for run in runs}
    current = [r for run in runs for r in run.records]
    found = []
    if baseline is not None:
        before_models = list(dict.fromkeys(r.model for r in baseline))
        for model in dict.fromkeys(r.model for r in current):
            source = (
                model
                if model in before_models
                else (before_models[0] if len(before_models) == 1 else None)
            )
            if source is None:
                continue
            before = [r for r in baseline if r.model == source]
            after = [r for r in current if r.model == model]
            found.append(compare(before, after, measures, (f"baseline {source}", model)))
    if compare_models:
        names = list(dict.fromkeys(r.model for r in current))
        for other in names[1:]:
            before = [r for r in current if r.model == names[0]]
            after = [r for r in current if r.model == other]
            found.append(compare(before, after, measures, (names[0], other)))
    return found


def write_reports(out: Path, summary: report.Summary, found: list[Record]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(summary.model_dump_json(indent=1))
    (out / "report.md").write_text(report.markdown(summary, found))
    (out / "report.html").write_text(html.render(summary, found))
    (out / "results.csv").write_text(report.csv_text(found))
    (out / "junit.xml").write_text(report.junit_xml(found, summary.floors))


def print_summary(summary: report.Summary) -> None:
    from rich.table import Table

    rows = report.headline_rows(summary)
    table = Table(*rows[0], title="Eval summary")
    for row in rows[1:]:
        table.add_row(*row)
    console.print(table)


def run_command(args: argparse.Namespace) -> int:
    p = plan(args)
    baseline = baseline_records(args.baseline, p.suites) if args.baseline else None
    runs = from_disk(p) if args.report_only else asyncio.run(execute(p))
    for run in runs:
        measure(run, p.prices)
    summary = report.summarize(runs, p.options.out, p.judge.name if p.judge else None)
    summary.comparisons = comparisons(p, runs, baseline, args.compare_models)
    summary.floors = check_floors(p.floors, runs)
    found = [r for run in runs for r in run.records]
    write_reports(p.options.out, summary, found)
    print_summary(summary)
    for comparison in summary.comparisons:
        console.print(
            f"{comparison.after} against {comparison.before}: "
            f"{len(comparison.regressions)} regression(s), {len(comparison.fixes)} fix(es) "
            f"over {comparison.pairs} paired case runs"
        )
    console.print(
        f"Reports: {p.options.out}/report.md, report.html, summary.json, results.csv, junit.xml"
    )
    if summary.floors:
        console.print("Floors that failed:\n  " + "\n  ".join(summary.floors), markup=False)
        return EXIT_FLOOR
    return 0


def compare_command(args: argparse.Namespace) -> int:
    suites = BUILTIN["all"]
    before, after = baseline_records(args.before, suites), baseline_records(args.after, suites)
    names = {r.suite for r in before} | {r.suite for r in after}
    measures = {s.name: s.measures for s in suites if s.name in names}
    models_after = list(dict.fromkeys(r.model for r in after))
    found = []
    for model in models_after:
        olds = [r for r in before if r.model == model] or before
        news = [r for r in after if r.model == model]
        found.append(compare(olds, news, measures, (str(args.before), f"{args.after} {model}")))
    for comparison in found:
        console.print("\n".join(report.comparison_markdown(comparison)), markup=False)
    if args.out:
        summary = report.Summary(
            created=time.strftime("%Y-%m-%dT%H:%M:%S"), suites=[], comparisons=found
        )
        write_reports(args.out, summary, after)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-"):
        argv = ["run", *argv]  # `python -m evals --quick` runs
    logging.basicConfig(level=os.environ.get("PATTERNS_LOG_LEVEL", "WARNING"))
    stop_on_sigterm()
    args = parser().parse_args(argv)
    try:
        if args.command == "run":
            return run_command(args)
        if args.command == "compare":
            return compare_command(args)
        if args.command == "cache":
            console.print(
                f"removed {response_cache.clear(args.cache)} cached answer(s) from {args.cache}"
            )
            return 0
        suites = resolve_suites([args.suite], None)
        sys.stdout.write(write_schema(suites[0].input_type, suites[0].expected_type) + "\n")
        return 0
    except (UsageError, DatasetError, SuiteError, ModelError, ResultsLocked, ServerError) as error:
        console.print(f"error: {error}", markup=False, highlight=False)
        return EXIT_USAGE
    except DiskFull as error:
        console.print(f"error: {error}", markup=False, highlight=False)
        return EXIT_USAGE
    except (KeyboardInterrupt, SystemExit) as stop:
        if isinstance(stop, SystemExit) and stop.code in (0, None, EXIT_USAGE):
            raise
        console.print("Interrupted: results so far are kept; run again to resume.")
        return EXIT_INTERRUPTED
