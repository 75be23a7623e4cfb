"""The command line's arguments: ``patterns-evals``'s parser, nothing else (``cli`` runs
what it parses and prints what comes back)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._defaults import DEFAULT_CACHE, DEFAULT_MAX_ERROR_RATE, DEFAULT_OUT
from .suites import GROUPS

EXIT_CODES = """exit codes: 0 all gates held; 1 a floor or regression gate failed; 2 bad input
(a flag, suite, dataset, models file, cache, folder or shards that are not one run: one
line on stderr, nothing sent), or a batch rejected or still running (run again to
collect it); 3 the harness could not read or write its own files (a read-only --out, a
full disk: one line naming the file; what was written is kept); 130 interrupted, Ctrl-C
or SIGTERM (results kept: run again to resume)"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="patterns-evals",
        description=__doc__.split("\n")[0],
        epilog=EXIT_CODES,
    )
    p.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    sub = p.add_subparsers(
        dest="command", metavar="{run,compare,merge,cache,schema,cases-from-cassettes}"
    )
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
        "--max-tokens",
        type=int,
        help="a budget: no case starts once this invocation's case runs have used N tokens "
        "(those in flight finish); run again to resume",
    )
    run.add_argument(
        "--max-cost",
        type=float,
        metavar="USD",
        help="a budget in dollars, from each model's price (--price or models.yaml)",
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
    recorded = sub.add_parser(
        "cases-from-cassettes",
        help="a dataset file from a folder of recorded calls: each request's last user "
        "message as the input, the recorded answer as a draft expected value to review",
    )
    recorded.add_argument("folder", type=Path, help="a folder of cassettes (searched below)")
    recorded.add_argument("--out", type=Path, required=True, help="the new dataset file")
    recorded.add_argument("--split", choices=["dev", "test"], default="dev")
    return p


def _shard(text: str) -> tuple[int, int]:
    number, _, total = text.partition("/")
    if not (number.isdigit() and total.isdigit() and 1 <= int(number) <= int(total)):
        raise argparse.ArgumentTypeError(f"{text!r}: expected I/N with 1 <= I <= N, e.g. 2/8")
    return int(number), int(total)


class _Version(argparse.Action):
    """The version, looked up only when asked for (``importlib.metadata`` is not free)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("llm-workflow-patterns")
        except PackageNotFoundError:
            found = "unknown"
        parser.exit(message=f"{parser.prog} {found}\n")
