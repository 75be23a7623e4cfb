"""``patterns-evals`` (also ``python -m evals``): run suites, compare runs, manage the cache.

    patterns-evals run                          # every built-in suite on the embedded model
    patterns-evals run calendar --quick         # the calendar suites, 2 cases per kind
    patterns-evals run path/to/my_suite.py --model gpt-4o-mini@https://api.openai.com/v1
    patterns-evals run --models models.yaml --fail-if 'router.accuracy<0.8'
    patterns-evals compare evals/runs-before evals/runs
    patterns-evals run calendar --shard 2/8 --out shard-2   # one of 8 workers
    patterns-evals merge shard-* --out evals/runs           # their runs as one
    patterns-evals cache clear
    patterns-evals schema chain > calendar_requests.schema.json

Every input is checked before the first request: a bad flag, model, floor or dataset
is one line on stderr and exit code 2. Exit 1: a floor failed. Exit 130: interrupted
(results kept; run again to resume).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from patterns.server import ServerError, stop_on_sigterm

from . import _cache as response_cache
from . import report
from ._batch import Batching
from ._records import DiskFull
from ._runner import DEFAULT_CACHE, DEFAULT_OUT, Options
from .data import write_schema
from .errors import EvalsError
from .evaluate import (
    DEFAULT_MAX_ERROR_RATE,
    Report,
    aevaluate,
    compare_runs,
    resolve_suites,
    run_sync,
    write_reports,
)
from .gates import EvalError, Floor, known_metrics
from .merge import merge
from .models import ModelConfig, from_flag, load_models
from .suites import GROUPS

console = Console(stderr=True, soft_wrap=True)
EXIT_FLOOR, EXIT_USAGE, EXIT_IO, EXIT_INTERRUPTED = 1, 2, 3, 130
EXIT_CODES = """exit codes: 0 all gates held; 1 a floor or regression gate failed; 2 bad input
(a flag, suite, dataset, models file, cache, folder or shards that are not one run: one
line on stderr, nothing sent), or a batch rejected or still running (run again to
collect it); 3 the harness could not read or write its own files (a read-only --out, a
full disk: one line naming the file; what was written is kept); 130 interrupted, Ctrl-C
or SIGTERM (results kept: run again to resume)"""


# --- Arguments -------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="patterns-evals",
        description=__doc__.split("\n")[0],
        epilog=EXIT_CODES,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", metavar="{run,compare,merge,cache,schema}")
    run = sub.add_parser("run", help="run suites (built-in names or Python files)")
    run.add_argument(
        "suites",
        nargs="*",
        default=["all"],
        help=f"built-in ({', '.join(GROUPS)}) or a suite file",
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
    run.add_argument("--limit", type=int, help="the first N cases of each suite only")
    run.add_argument("--case", action="append", default=[], help="this case id only (repeatable)")
    run.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="only shard I of N (1-based; a stable hash of case id and repeat): one worker's "
        "part of a run; `patterns-evals merge` puts the shards' --out folders together",
    )
    run.add_argument(
        "--batch",
        action="store_true",
        help="send each step's requests as one OpenAI Batch API job (half price, up to 24 h "
        "a round; a chain of three calls takes three rounds); killed while waiting, run it "
        "again to resume the batch",
    )
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
    run.add_argument(
        "--case-timeout",
        type=float,
        help="seconds one case may take in all (default: 12 request timeouts); past it the "
        "case is recorded as an error and the run goes on",
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
        help="METRIC<VALUE or METRIC.low<VALUE (the interval's bound; or <=, >, >=): "
        "exit 1 if it holds",
    )
    run.add_argument(
        "--fail-on-regression",
        type=float,
        metavar="P",
        help="exit 1 if a metric is significantly worse than --baseline (or the first "
        "--compare-models model); P is the gate's false-alarm rate (Holm over the compared "
        "metrics, or --primary alone), e.g. 0.05",
    )
    run.add_argument(
        "--primary",
        metavar="METRIC",
        help="the one metric --fail-on-regression tests (the others are reported only)",
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
    joined = sub.add_parser("merge", help="merge shard runs (--shard I/N) into one run")
    joined.add_argument("shards", nargs="+", type=Path, help="each shard's --out folder")
    joined.add_argument("--out", type=Path, required=True, help="where the merged run goes")
    cache = sub.add_parser("cache", help="the response cache")
    cache.add_argument("action", choices=["clear"])
    cache.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    schema = sub.add_parser("schema", help="print the JSON schema of a suite's dataset files")
    schema.add_argument("suite")
    return p


def print_summary(summary: report.Summary) -> None:
    from rich.table import Table

    rows = report.headline_rows(summary)
    table = Table(*rows[0], title="Eval summary")
    for row in rows[1:]:
        table.add_row(*row)
    console.print(table)


def _shard(text: str) -> tuple[int, int]:
    number, _, total = text.partition("/")
    if not (number.isdigit() and total.isdigit() and 1 <= int(number) <= int(total)):
        raise argparse.ArgumentTypeError(f"{text!r}: expected I/N with 1 <= I <= N, e.g. 2/8")
    return int(number), int(total)


def _version() -> str:
    try:
        return version("llm-workflow-patterns")
    except PackageNotFoundError:
        return "unknown"


def _prices(args: argparse.Namespace, models: list[ModelConfig]) -> dict[str, tuple[float, float]]:
    prices = {m.name: m.price for m in models if m.price}
    for text in args.price:
        name, _, value = text.partition("=")
        try:
            numbers = tuple(float(v) for v in value.split(","))
            if len(numbers) != 2 or min(numbers) < 0:
                raise ValueError(value)
        except ValueError:
            raise EvalError(
                f"--price {text!r}: expected MODEL=IN,OUT (USD per million tokens, two numbers)"
            ) from None
        if name not in {m.name for m in models}:
            raise EvalError(f"--price {text!r}: {name!r} is not a model of this run")
        prices[name] = (numbers[0], numbers[1])
    return prices


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
        say=lambda text: console.print(text, markup=False, highlight=False),
    )  # fmt: skip
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        options.progress = _progress(bar)
        found = run_sync(
            aevaluate(
                suites, models, judge=judge, options=options, baseline=args.baseline,
                compare_models=args.compare_models, floors=floors,
                fail_on_regression=args.fail_on_regression, primary=args.primary,
                max_error_rate=args.max_error_rate,
                prices=_prices(args, models), report_only=args.report_only,
            )
        )  # fmt: skip
    return _printed(found, options.out)


def _printed(found: Report, out: Path) -> int:
    print_summary(found.summary)
    for comparison in found.comparisons:
        console.print(
            f"{comparison.after} against {comparison.before}: "
            f"{len(comparison.regressions)} regression(s), {len(comparison.fixes)} fix(es) "
            f"over {comparison.pairs} paired cases"
        )
    console.print(f"Reports: {out}/report.md, report.html, summary.json, results.csv, junit.xml")
    for line in found.summary.gate:
        console.print(f"Regression gate: {line}", markup=False)
    if found.failed:
        console.print("Gates that failed:\n  " + "\n  ".join(found.failed), markup=False)
        return EXIT_FLOOR
    return 0


def compare_command(args: argparse.Namespace) -> int:
    found = compare_runs(args.before, args.after)
    for comparison in found:
        sys.stdout.write("\n".join(report.comparison_markdown(comparison)) + "\n")
    if args.out:
        summary = report.Summary(created=report.now(), suites=[], comparisons=found)
        write_reports(args.out, summary, [])
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["run", *argv]  # `patterns-evals --quick` runs
    logging.basicConfig(level=os.environ.get("PATTERNS_LOG_LEVEL", "WARNING"))
    stop_on_sigterm()
    args = parser().parse_args(argv)
    try:
        if args.command == "run":
            return run_command(args)
        if args.command == "compare":
            return compare_command(args)
        if args.command == "merge":
            return _printed(merge(args.shards, args.out), args.out)
        if args.command == "cache":
            removed = response_cache.clear(args.cache)
            console.print(f"removed {removed} cached answer(s) from {args.cache}", markup=False)
            return 0
        suites = resolve_suites([args.suite], None)
        sys.stdout.write(write_schema(suites[0].input_type, suites[0].expected_type) + "\n")
        return 0
    except DiskFull as error:
        console.print(f"error: {error}", markup=False, highlight=False)
        return EXIT_IO
    except (EvalsError, ServerError) as error:
        console.print(f"error: {error}", markup=False, highlight=False)
        return EXIT_USAGE
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        console.print(f"error: {where}{error.strerror or error}", markup=False, highlight=False)
        return EXIT_IO
    except (KeyboardInterrupt, SystemExit, asyncio.CancelledError) as stop:
        if isinstance(stop, SystemExit) and stop.code in (0, None, EXIT_USAGE):
            raise
        signal = "SIGTERM" if isinstance(stop, SystemExit) else "interrupted"
        console.print(f"Interrupted ({signal}): results so far are kept; run again to resume.")
        return EXIT_INTERRUPTED
