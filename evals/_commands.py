"""The commands of ``patterns-evals`` (``evals.cli`` parses the line first: ``--version``
and ``--help`` import none of this)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from patterns.server import ServerError, stop_on_sigterm

from . import _cache as response_cache
from ._batch import Batching
from ._records import DiskFull
from ._runner import Options
from .data import write_schema
from .errors import EvalsError
from .evaluate import (
    Report,
    aevaluate,
    compare_runs,
    resolve_suites,
    run_sync,
    write_reports,
)
from .gates import Floor, known_metrics
from .merge import merge
from .models import ModelConfig, from_flag, load_models

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from . import report


@cache
def console() -> Console:
    """rich's console on standard error, made (and rich imported) when first used."""
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


EXIT_FLOOR, EXIT_USAGE, EXIT_IO, EXIT_INTERRUPTED = 1, 2, 3, 130


def print_summary(summary: report.Summary) -> None:
    from rich.table import Table

    from . import report

    rows = report.headline_rows(summary)
    table = Table(*rows[0], title="Eval summary")
    for row in rows[1:]:
        table.add_row(*row)
    console().print(table)
    if judged := report.judge_line(summary, plain=True):
        console().print(judged.replace("**", ""), markup=False, highlight=False)


def _prices(args: argparse.Namespace, models: list[ModelConfig]) -> dict[str, Any]:
    """models.yaml's prices, then each ``--price MODEL=IN,OUT`` read as numbers where it
    holds numbers (``evaluate`` checks them all, with the messages every caller gets)."""
    prices: dict[str, Any] = {m.name: m.price for m in models if m.price}
    for text in args.price:
        name, _, value = text.partition("=")
        prices[name] = tuple(_number(v) for v in value.split(","))
    return prices


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def _models(args: argparse.Namespace) -> tuple[list[ModelConfig], ModelConfig | None]:
    listed = load_models(args.models) if args.models else None
    models = [from_flag(m) for m in args.model] + (listed.models if listed else [])
    models = models or [from_flag("embedded")]
    if args.confidence:
        models = [m.model_copy(update={"confidence": args.confidence}) for m in models]
    wanted = args.judge or (listed.judge if listed else None)
    judge = None
    if wanted:
        judge = next((m for m in models if m.name == wanted), None) or from_flag(str(wanted))
    return models, judge


def _bar() -> AbstractContextManager[Progress | None]:
    """A progress bar on a terminal; on none (a log, a pipe), none: nothing to redraw."""
    if not sys.stderr.isatty():
        return nullcontext()
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())  # fmt: skip
    return Progress(*columns, console=console())


def _progress(bar: Progress) -> Callable[[str, int, int], None]:
    tasks: dict[str, TaskID] = {}

    def progress(label: str, done: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=total)
        bar.update(tasks[label], completed=done)

    return progress


def run_command(args: argparse.Namespace) -> int:
    models, judge = _models(args)
    suites = resolve_suites(args.suites, args.dataset)
    floors = [Floor.parse(f) for f in args.fail_if]
    floors += [Floor.under(f, known_metrics(suites)) for f in args.fail_under]
    options = Options(
        out=args.out, epochs=args.epochs, fresh=args.fresh, retry_errors=args.retry_errors,
        cache=None if args.no_cache else args.cache, timeout=args.timeout,
        splits=set(args.split) if args.split else None, quick=args.quick, limit=args.limit,
        cases=set(args.case) or None, concurrency=args.concurrency,
        case_timeout=args.case_timeout, shard=args.shard,
        batch=Batching() if args.batch else None,
        say=lambda text: console().print(text, markup=False, highlight=False),
    )  # fmt: skip
    with _bar() as bar:
        if bar is not None:
            options.progress = _progress(bar)
        found = run_sync(
            aevaluate(
                suites, models, judge=judge, options=options, baseline=args.baseline,
                compare_models=args.compare_models, floors=floors,
                fail_on_regression=args.fail_on_regression, primary=args.primary,
                max_error_rate=args.max_error_rate,
                prices=_prices(args, models), report_only=args.report_only,
                max_tokens=args.max_tokens, max_cost=args.max_cost,
            )
        )  # fmt: skip
    return _printed(found, options.out)


def _printed(found: Report, out: Path) -> int:
    print_summary(found.summary)
    for comparison in found.comparisons:
        console().print(
            f"{comparison.after} against {comparison.before}: "
            f"{len(comparison.regressions)} regression(s), {len(comparison.fixes)} fix(es) "
            f"over {comparison.pairs} paired cases"
        )
    console().print(f"Reports: {out}/report.md, report.html, summary.json, results.csv, junit.xml")
    for line in found.summary.gate:
        console().print(f"Regression gate: {line}", markup=False)
    if found.failed:
        console().print("Gates that failed:\n  " + "\n  ".join(found.failed), markup=False)
        return EXIT_FLOOR
    return 0


def compare_command(args: argparse.Namespace) -> int:
    from . import report

    found = compare_runs(args.before, args.after)
    for comparison in found:
        sys.stdout.write("\n".join(report.comparison_markdown(comparison)) + "\n")
    if args.out:
        summary = report.Summary(created=report.now(), suites=[], comparisons=found)
        write_reports(args.out, summary, [])
    return 0


def cases_command(args: argparse.Namespace) -> int:
    from .recorded import REVIEW, cases_from_cassettes, write_dataset

    found = cases_from_cassettes(args.folder, args.split)
    write_dataset(found, args.out)
    for skipped in found.skipped:
        console().print(f"skipped {skipped}", markup=False, highlight=False)
    console().print(
        f"wrote {len(found.cases)} case(s) to {args.out}, each marked review: {REVIEW}: "
        "the expected values are recorded answers; read them before reporting against them",
        markup=False,
        highlight=False,
    )
    return 0


def dispatch(args: argparse.Namespace) -> int:
    """Run the parsed command; its exit code."""
    stop_on_sigterm()
    try:
        if args.command == "run":
            return run_command(args)
        if args.command == "compare":
            return compare_command(args)
        if args.command == "merge":
            return _printed(merge(args.shards, args.out), args.out)
        if args.command == "cases-from-cassettes":
            return cases_command(args)
        if args.command == "cache":
            removed = response_cache.clear(args.cache)
            console().print(f"removed {removed} cached answer(s) from {args.cache}", markup=False)
            return 0
        suites = resolve_suites([args.suite], None)
        sys.stdout.write(write_schema(suites[0].input_type, suites[0].expected_type) + "\n")
        return 0
    except DiskFull as error:
        console().print(f"error: {error}", markup=False, highlight=False)
        return EXIT_IO
    except (EvalsError, ServerError) as error:
        console().print(f"error: {error}", markup=False, highlight=False)
        return EXIT_USAGE
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        console().print(f"error: {where}{error.strerror or error}", markup=False, highlight=False)
        return EXIT_IO
    except (KeyboardInterrupt, SystemExit, asyncio.CancelledError) as stop:
        if isinstance(stop, SystemExit) and stop.code in (0, None, EXIT_USAGE):
            raise
        signal = "SIGTERM" if isinstance(stop, SystemExit) else "interrupted"
        console().print(f"Interrupted ({signal}): results so far are kept; run again to resume.")
        return EXIT_INTERRUPTED
