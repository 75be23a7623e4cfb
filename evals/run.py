"""Run the evals: every model, every case, bounded concurrency, resumable, cached.

    python -m evals                          # the embedded model, everything
    python -m evals --quick                  # a stratified subset (a few minutes)
    python -m evals --model embedded --model embedded:smollm2-135m-instruct
    python -m evals --model gpt-4o-mini@https://api.openai.com/v1 --judge gpt-4o@https://api.openai.com/v1

Results go to --out (default evals/runs/latest): results.jsonl (one line per case,
appended as it completes), summary.json, report.md and report.html.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from patterns import LLM, Trace
from patterns.server import MODELS, LocalServer, stop_on_sigterm

from . import html, report, results
from .cache import CachingTransport
from .datasets import (
    REQUESTS,
    TOPICS,
    RequestCase,
    Topic,
    Topics,
    load_requests,
    load_topics,
    stratified,
)
from .tasks import calendar_case, expected_calendar, orchestra_case

console = Console(stderr=True)
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class ModelSpec:
    """``embedded`` | ``embedded:NAME`` | ``gguf:PATH`` | ``MODEL@BASE_URL``."""

    text: str

    @property
    def label(self) -> str:
        if self.text == "embedded":
            return "embedded:qwen2.5-coder-0.5b-instruct"
        if self.text.startswith("gguf:"):
            return Path(self.text[5:]).stem
        return self.text.split("@")[0] if "@" in self.text else self.text

    @property
    def is_local(self) -> bool:
        return self.text.startswith(("embedded", "gguf:"))

    def local_server(self) -> LocalServer:
        if self.text.startswith("gguf:"):
            return LocalServer(Path(self.text[5:]))
        name = self.text.partition(":")[2] or "qwen2.5-coder-0.5b-instruct"
        if name not in MODELS:
            raise SystemExit(f"unknown embedded model {name!r}; known: {sorted(MODELS)}")
        return LocalServer(MODELS[name])


@contextlib.contextmanager
def endpoint(spec: ModelSpec) -> Iterator[dict[str, Any]]:
    """LLM.from_env arguments for the model, starting its local server if it has one."""
    if spec.is_local:
        with spec.local_server() as server:
            yield {"base_url": server.base_url, "model": server.model_name, "mode": "json_object"}
    else:
        model, _, base_url = spec.text.partition("@")
        yield {"base_url": base_url or None, "model": model}


@contextlib.asynccontextmanager
async def connect(settings: dict[str, Any], cache: Path | None) -> AsyncIterator[LLM]:
    transport = CachingTransport(cache) if cache else None
    llm = LLM.from_env(**settings, timeout=300, async_transport=transport)
    try:
        yield llm
    finally:
        await llm.aclose()


def record_of(
    model: str,
    eval_name: str,
    case_id: str,
    payload: dict[str, Any],
    trace: Trace,
    started: float,
    error: str | None,
) -> dict[str, Any]:
    return {
        "model": model,
        "eval": eval_name,
        "case": case_id,
        **payload,
        "error": error,
        "seconds": round(time.perf_counter() - started, 3),
        "calls": [c.model_dump(mode="json") for c in trace.calls],
        "usage": trace.usage.model_dump(mode="json"),
    }


async def run_model(
    llm: LLM,
    judge: LLM,
    label: str,
    cases: list[RequestCase],
    topics: Topics,
    out: results.ResultsFile,
    done: set[tuple[str, str, str]],
    concurrency: int,
    progress: Progress,
) -> None:
    gate = asyncio.Semaphore(concurrency)
    todo_cases = [c for c in cases if (label, "calendar", c.id) not in done]
    todo_topics = [t for t in topics.topics if (label, "orchestra", t.id) not in done]
    task = progress.add_task(label, total=len(todo_cases) + len(todo_topics))

    async def one(eval_name: str, case_id: str, payload: dict[str, Any], work: Any) -> None:
        async with gate:
            trace, started, error = Trace(), time.perf_counter(), None
            payload["output"] = None
            try:
                payload["output"] = await work(trace)
            except Exception as failure:  # recorded, and the run goes on
                error = f"{type(failure).__name__}: {failure}"
            out.append(record_of(label, eval_name, case_id, payload, trace, started, error))
            progress.advance(task)

    def calendar(case: RequestCase) -> Any:
        return one(
            "calendar",
            case.id,
            {"input": case.text, "expected": expected_calendar(case)},
            lambda trace: calendar_case(llm, case, trace),
        )

    def orchestra(topic: Topic) -> Any:
        return one(
            "orchestra",
            topic.id,
            {"input": topic.brief, "expected": None},
            lambda trace: orchestra_case(llm, judge, topic, topics.scale, trace),
        )

    await asyncio.gather(*map(calendar, todo_cases), *map(orchestra, todo_topics))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m evals", description=__doc__.split("\n")[0])
    p.add_argument(
        "--model", action="append", help="model under test (repeatable); default: embedded"
    )
    p.add_argument(
        "--judge", help="model that judges orchestra output (default: the model under test)"
    )
    p.add_argument("--quick", action="store_true", help="2 cases per kind and 2 topics")
    p.add_argument("--requests", type=Path, default=REQUESTS, help="calendar requests dataset")
    p.add_argument("--topics", type=Path, default=TOPICS, help="orchestra topics dataset")
    p.add_argument("--only", choices=["calendar", "orchestra"], help="run one eval only")
    p.add_argument("--out", type=Path, default=Path("evals/runs/latest"))
    p.add_argument("--fresh", action="store_true", help="discard earlier results in --out")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: write the reports from the results already in --out",
    )
    p.add_argument("--retry-errors", action="store_true", help="re-run only cases that errored")
    p.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="cases in flight per model (default: 1 for a local server, which "
        "answers one request at a time, else 8)",
    )
    p.add_argument("--no-cache", action="store_true", help="do not use the response cache")
    p.add_argument("--cache", type=Path, default=Path("evals/cache"))
    p.add_argument("--baseline", type=Path, help="an earlier results.jsonl to compare against")
    p.add_argument(
        "--price",
        action="append",
        default=[],
        help="MODEL=IN,OUT: USD per million input and output tokens",
    )
    p.add_argument(
        "--fail-under",
        action="append",
        default=[],
        help=f"METRIC=VALUE: exit 1 if below; metrics: {', '.join(report.HEADLINES)}",
    )
    return p.parse_args(argv)


def select(args: argparse.Namespace) -> tuple[list[RequestCase], Topics]:
    cases = load_requests(args.requests) if args.only != "orchestra" else []
    topics = load_topics(args.topics)
    if args.only == "calendar":
        topics = topics.model_copy(update={"topics": []})
    if args.quick:
        cases = stratified(cases, per_kind=2)
        topics = topics.model_copy(update={"topics": topics.topics[:2]})
    return cases, topics


async def run_all(args: argparse.Namespace, path: Path) -> None:
    cases, topics = select(args)
    previous = results.read(path)
    done = {results.key(r) for r in previous if not (args.retry_errors and _errored(r))}
    cache = None if args.no_cache else args.cache
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with results.ResultsFile(path) as out, Progress(*columns, console=console) as progress:
        for spec in [ModelSpec(m) for m in (args.model or ["embedded"])]:
            async with contextlib.AsyncExitStack() as stack:
                llm = await stack.enter_async_context(
                    connect(stack.enter_context(endpoint(spec)), cache)
                )
                judge = llm
                if args.judge:
                    judge_settings = stack.enter_context(endpoint(ModelSpec(args.judge)))
                    judge = await stack.enter_async_context(connect(judge_settings, cache))
                await run_model(
                    llm,
                    judge,
                    spec.label,
                    cases,
                    topics,
                    out,
                    done,
                    concurrency(args, spec),
                    progress,
                )


def concurrency(args: argparse.Namespace, spec: ModelSpec) -> int:
    return int(args.concurrency or (1 if spec.is_local else 8))


def _errored(record: dict[str, Any]) -> bool:
    return bool(record.get("error")) or report.part_failed(record)


def write_reports(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    records = results.read(path)
    labels = {ModelSpec(m).label for m in (args.model or ["embedded"])}
    records = [r for r in records if r["model"] in labels]
    prices = {
        m: tuple(map(float, v.split(","))) for m, _, v in (p.partition("=") for p in args.price)
    }
    summary = report.summarize(records, prices)  # type: ignore[arg-type]
    changes = report.compare(results.read(args.baseline), records) if args.baseline else None
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(report.to_json(summary), indent=1))
    (args.out / "report.md").write_text(report.markdown(summary, changes))
    (args.out / "report.html").write_text(html.render(summary, changes, "Eval report"))
    table = Table(*report.table_rows(summary)[0], title="Eval summary")
    for row in report.table_rows(summary)[1:]:
        table.add_row(*row)
    console.print(table)
    console.print(f"Reports: {args.out}/report.md, report.html, summary.json")
    return summary


def failures(summary: dict[str, Any], floors: list[str]) -> list[str]:
    found = []
    for floor in floors:
        name, _, value = floor.partition("=")
        for model, s in summary.items():
            estimate = report.headline(s, name)
            if estimate is None or estimate.value is None or estimate.value < float(value):
                got = (
                    "n/a" if estimate is None or estimate.value is None else f"{estimate.value:.3f}"
                )
                found.append(f"{model}: {name} = {got} < {value}")
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=os.environ.get("PATTERNS_LOG_LEVEL", "WARNING"))
    stop_on_sigterm()
    path = args.out / "results.jsonl"
    if args.fresh and path.exists():
        path.unlink()
    started = time.perf_counter()
    try:
        if not args.report_only:
            asyncio.run(run_all(args, path))
    except (KeyboardInterrupt, SystemExit):
        console.print(f"Interrupted: results so far are kept in {path}; run again to resume.")
        return EXIT_INTERRUPTED
    except results.ResultsLocked as locked:
        console.print(str(locked))
        return 2
    summary = write_reports(args, path)
    console.print(f"Wall time: {time.perf_counter() - started:.0f} s")
    if missed := failures(summary, args.fail_under):
        console.print("Below the floor:\n  " + "\n  ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
