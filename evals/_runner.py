"""The engine: every suite, every model, every case (and repeat), bounded concurrency,
resumable, cached, and never reporting numbers from another configuration.

Each run has a fingerprint: the suite, the dataset's content, each model's endpoint and
settings, the code that shapes the requests (the task's module and the ``patterns``
package), the package version and the git commit. A run resumes only a run directory
with the same fingerprint; anything else starts a new directory, and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from pydantic import JsonValue

from patterns import LLM, Trace
from patterns.core import Exchange
from patterns.core.plumbing import async_pool

from . import _batch as batch
from . import _records as records
from ._batch import Batching, Collector
from ._budget import Budget, earlier_records
from ._cache import CachingTransport
from ._case import HEADER, CaseContext, Cases, CaseTransport
from ._defaults import DEFAULT_CACHE, DEFAULT_OUT
from ._records import RESULTS, Record, ResultsFile
from ._replicas import Replicas
from ._rundir import (
    BatchStats,
    RunInfo,
    file_sha256,
    fingerprint,
    in_shard,
    run_directory,
    write_atomically,
)
from ._schedule import PrefixOrder
from ._tracing import case_span, evaluated, suite_span
from .checks import CheckContext, CheckResult
from .data import Case, Dataset
from .measures import CLUSTER, Average, MetricResult
from .models import ModelConfig, connect
from .suite import Suite, SuiteError, TaskContext, output_json

SERIAL_WINDOW = 64
"""Cases in flight against an endpoint that answers one request at a time (``serial``):
it still gets one request at a time; the window lets them be sent step by step."""
NO_MODEL = "deterministic code"
"""The model label of a suite that sends no request (``uses_model=False``)."""


CASE_REQUESTS = 12
"""A case's default deadline, in request deadlines: the longest pattern sends 3 steps of
up to 3 attempts each, plus a judge."""


@dataclass
class Options:
    out: Path = DEFAULT_OUT
    epochs: int = 1
    fresh: bool = False
    retry_errors: bool = False
    cache: Path | None = DEFAULT_CACHE
    timeout: float = 300.0
    splits: set[str] | None = None
    quick: bool = False
    limit: int | None = None
    """The first N cases only (after splits and ``quick``): part of the run's identity."""
    cases: set[str] | None = None
    """These case ids only: part of the run's identity."""
    shard: tuple[int, int] | None = None
    """``(I, N)``: only the case runs of shard I of N (``--shard I/N``, 1-based); each
    shard is a run of its own, and ``merge`` puts them together."""
    batch: Batching | None = None
    """Send each step's requests as one provider batch (``--batch``; needs the cache)."""
    transcript_chars: int = 4_000
    """Each message and answer kept in a record's transcript at most this long (0: no
    transcripts); a cut text ends with a note of its full length."""
    max_output_chars: int = 100_000
    """A record keeps at most this much of a task's output (as JSON), saying so."""
    case_timeout: float | None = None
    """Seconds one case may take, task and checks (default: ``CASE_REQUESTS`` times
    ``timeout``); past it the case is cancelled and recorded as an error."""

    def case_deadline(self) -> float:
        return self.case_timeout if self.case_timeout is not None else CASE_REQUESTS * self.timeout

    concurrency: int | None = None
    budget: Budget | None = None
    """Tokens and dollars this invocation may spend (``--max-tokens``, ``--max-cost``)."""
    progress: Callable[[str, int, int], None] = lambda label, done, total: None
    say: Callable[[str], None] = print


@dataclass
class SuiteRun:
    suite: Suite[Any, Any]
    directory: Path
    records: list[Record]
    reused: int
    info: RunInfo
    results: dict[str, list[MetricResult]] = field(default_factory=dict)
    groups: dict[str, dict[str, dict[str, list[MetricResult]]]] = field(default_factory=dict)
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    """USD per million prompt and completion tokens each model was answered at."""


def select(
    suite: Suite[Any, Any], dataset: Dataset[Any, Any], options: Options
) -> Dataset[Any, Any]:
    picked = dataset.only(options.splits)
    if options.quick:
        key = suite.extra.get("quick_group", "kind")
        picked = picked.only(limit_per_group=(key, suite.extra.get("quick_per_group", 2)))
    if options.cases is not None:
        unknown = options.cases - {c.id for c in picked.cases}
        if unknown:
            raise SuiteError(f"{suite.name}: no case {', '.join(sorted(unknown))} (--case)")
        picked = picked.model_copy(
            update={"cases": [c for c in picked.cases if c.id in options.cases]}
        )
    if options.limit is not None:
        picked = picked.model_copy(update={"cases": picked.cases[: options.limit]})
    return picked


async def run_suite(
    suite: Suite[Any, Any],
    models: Sequence[ModelConfig],
    judge: ModelConfig | None,
    options: Options,
) -> SuiteRun:
    loaded = suite.load()
    dataset = select(suite, loaded, options)
    examples = loaded.only({"dev"}) if suite.examples else None
    identity = fingerprint(suite, dataset, models, judge, options.epochs, options.shard, examples)
    directory = run_directory(options.out, suite.name, options.say, identity, options.fresh)
    path = directory / RESULTS
    run_models = list(models) if suite.uses_model else [ModelConfig(name=NO_MODEL)]
    mine = [
        (case, epoch)
        for case in dataset.cases
        for epoch in range(options.epochs)
        if in_shard(case.id, epoch, options.shard)
    ]
    stats: BatchStats | None = None
    traced = suite_span(suite.name, [m.name for m in run_models], len(mine) * len(run_models))
    with traced, ResultsFile(path) as out:
        if options.fresh:
            out.discard()
        kept = [
            r
            for r in records.read(path, transcripts=False)
            if not (options.retry_errors and r.error)
        ]
        done = {r.key for r in kept}
        reused = sum((suite.name, m.name, c.id, e) in done for m in run_models for c, e in mine)
        if reused:
            options.say(f"{suite.name}: resuming {directory.name}: {reused} case run(s) reused")
        for model in run_models:

            def todo(name: str = model.name) -> list[tuple[Case[Any, Any], int]]:
                return [(c, e) for c, e in mine if (suite.name, name, c.id, e) not in done]

            if options.batch is not None and suite.uses_model:
                found = await _batched(
                    suite, model, judge, todo, done, out, options, directory, examples
                )
                stats = _added(stats, found)
            elif todo():
                if options.budget is not None and suite.uses_model:
                    earlier = earlier_records(options.out, suite.name, model.name)
                    if line := options.budget.estimate(model.name, len(todo()), earlier):
                        options.say(f"{suite.name} · {model.name}: {line}")
                await _run_model(suite, model, judge, todo(), out, options, done, examples)
    info = RunInfo.model_validate_json((directory / "run.json").read_text())
    info.updated, info.cases, info.reused, info.origin = (
        datetime.now(UTC).isoformat(),
        len(dataset.cases),
        reused,
        suite.origin,
    )
    info.origin_sha256 = file_sha256(Path(suite.origin)) if suite.origin else None
    info.runs, info.batch = len(mine) * len(run_models), stats or info.batch
    write_atomically(directory / "run.json", info.model_dump_json(indent=1))
    wanted = {(c.id, e) for c, e in mine}
    names = {m.name for m in run_models}
    final = [r for r in records.read(path, transcripts=False)
             if (r.case, r.epoch) in wanted and r.model in names]  # fmt: skip
    return SuiteRun(suite, directory, final, reused, info)


async def _batched(
    suite: Suite[Any, Any],
    model: ModelConfig,
    judge: ModelConfig | None,
    todo: Callable[[], list[tuple[Case[Any, Any], int]]],
    done: set[tuple[str, str, str, int]],
    out: ResultsFile,
    options: Options,
    directory: Path,
    examples: Dataset[Any, Any] | None,
) -> BatchStats:
    """Batch rounds of one model (``evals._batch``): each round runs the cases not yet
    recorded, replaying the cache; what missed goes out as the next batch."""
    assert options.batch is not None
    assert options.cache is not None

    async def one_round(collector: Collector) -> None:
        if pending := todo():
            await _run_model(suite, model, judge, pending, out, options, done, examples, collector)

    with model.settings() as settings:
        return await batch.rounds(
            one_round, settings, model.cache_identity(), options.cache,
            batch.state_path(directory, model.name), options.batch,
        )  # fmt: skip


def _added(total: BatchStats | None, more: BatchStats) -> BatchStats:
    if total is None:
        return more
    return BatchStats(
        rounds=max(total.rounds, more.rounds), requests=total.requests + more.requests,
        wait_s=total.wait_s + more.wait_s, failed=total.failed + more.failed,
    )  # fmt: skip


async def _run_model(
    suite: Suite[Any, Any],
    model: ModelConfig,
    judge: ModelConfig | None,
    todo: list[tuple[Case[Any, Any], int]],
    out: ResultsFile,
    options: Options,
    done: set[tuple[str, str, str, int]],
    examples: Dataset[Any, Any] | None = None,
    collector: Collector | None = None,
) -> None:
    serial = model.one_at_a_time and suite.uses_model
    limit = options.concurrency or model.concurrency or (SERIAL_WINDOW if serial else 8)
    transport: httpx2.AsyncBaseTransport = (
        collector  # a batch round: what the cache lacks waits for the batch
        or (Replicas(model.endpoints, limit) if model.endpoints else async_pool(limit))
    )
    if serial and collector is None:
        # One request at a time (per replica), step by step: many cases in flight, the
        # server's prompt prefix reused (see ``schedule``); what each case computes is
        # unchanged.
        transport = PrefixOrder(transport, slots=model.in_flight)
    if options.cache:
        transport = CachingTransport(
            options.cache, inner=transport, endpoint=model.cache_identity()
        )
    cases = Cases()
    transport = CaseTransport(transport, cases)  # each request's case, from its header
    async with contextlib.AsyncExitStack() as stack:
        if suite.uses_model:
            settings = stack.enter_context(model.settings())
            llm = await stack.enter_async_context(connect(settings, transport, options.timeout))
            judge_llm = llm
            if judge is not None and judge.name != model.name:
                judge_settings = stack.enter_context(judge.settings())
                judge_llm = await stack.enter_async_context(
                    connect(judge_settings, transport, options.timeout)
                )
        else:
            llm = judge_llm = LLM()  # never asked: the suite runs deterministic code
        gate = asyncio.Semaphore(limit)
        finished = 0

        async def one(case: Case[Any, Any], epoch: int) -> None:
            nonlocal finished
            async with gate:
                if options.budget is not None and options.budget.spent:
                    options.budget.skipped += 1
                    return  # not started: the next invocation runs it
                context = CaseContext(epoch=epoch)
                token = cases.add(context)
                mine = {HEADER: token}
                case_llm = llm.with_headers(mine)
                case_judge = case_llm if judge_llm is llm else judge_llm.with_headers(mine)
                try:
                    record = await run_case(
                        suite, model.name, case_llm, case_judge, case, epoch, options, examples,
                        context,
                    )  # fmt: skip
                finally:
                    del cases.open[token]
                if context.deferral.deferred:
                    return  # its next request is in the batch: run again next round
                out.append(record)
                done.add(record.key)
                if options.budget is not None:
                    options.budget.spend(model.name, record.usage)
                finished += 1
                options.progress(f"{suite.name} · {model.name}", finished, len(todo))

        await asyncio.gather(*(one(case, epoch) for case, epoch in todo))


async def run_case(
    suite: Suite[Any, Any],
    model: str,
    llm: LLM,
    judge: LLM,
    case: Case[Any, Any],
    epoch: int,
    options: Options | None = None,
    examples: Dataset[Any, Any] | None = None,
    context: CaseContext | None = None,
) -> Record:
    """One case on one model: the task, then every check, within the case's deadline.
    Any failure of the model or of the user's code is the case's recorded error, with
    whatever the task had produced, and the run goes on."""
    options = options or Options()
    trace = Trace(transcript=[] if options.transcript_chars > 0 else None)
    started, error, output = time.perf_counter(), None, None
    waits = (context or CaseContext()).waits  # its requests' time in the scheduler's queue
    checks: dict[str, CheckResult] = {}

    async def task_and_checks() -> Any:
        others = [c for c in examples.cases if c.id != case.id] if examples else []
        context = TaskContext(case=case, trace=trace, judge=judge, examples=others)
        result = await suite.task(llm, case.input, context)
        for check in suite.checks:
            found = await check.run(result, CheckContext(case=case, judge=judge, trace=trace))
            checks[check.name] = kept(admissible(suite, check.name, found), options)
        return result

    deadline = options.case_deadline()
    with case_span(suite.name, model, case.id, epoch, case.split) as span:
        try:
            # asyncio.timeout, not wait_for: no second task per case, and on 3.11 wait_for
            # can swallow a cancellation (Ctrl-C) arriving as the case finishes (gh-86296).
            async with asyncio.timeout(deadline):
                output = await task_and_checks()
        except TimeoutError:
            error = f"CaseTimeout: the case did not finish within {deadline:g} s (--case-timeout)"
        except Exception as failure:
            error = f"{type(failure).__name__}: {failure}"
        evaluated(span, checks, trace.usage, error)
    stored, problem = storable(output, options.max_output_chars)
    return Record(
        suite=suite.name,
        model=model,
        case=case.id,
        epoch=epoch,
        split=case.split,
        metadata=clustered(suite, case.metadata),
        input=output_json(case.input),
        expected=output_json(case.expected),
        output=stored,
        checks=checks,
        error=error or problem,
        seconds=round(time.perf_counter() - started - waits.seconds, 3),
        usage=trace.usage,
        calls=trace.calls,
        transcript=bounded(trace.transcript or [], options.transcript_chars),
    )


def clustered(suite: Suite[Any, Any], metadata: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """The case's metadata, with its cluster (``Suite.cluster``'s key) under ``cluster``."""
    if suite.cluster is None or suite.cluster == CLUSTER or suite.cluster not in metadata:
        return metadata
    return {**metadata, CLUSTER: str(metadata[suite.cluster])}


def storable(output: Any, limit: int) -> tuple[JsonValue, str | None]:
    """The output as JSON data for the results file, cut to ``limit`` characters of JSON
    (saying so); one that is not JSON data (a set, an object) is stored as its ``repr``
    with an error that says why."""
    data = output_json(output)
    try:
        text = json.dumps(data, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        shown = repr(output)
        shown = shown if len(shown) <= 2_000 else shown[:2_000] + "…"
        return (
            shown,
            f"OutputNotStorable: the task's output is not JSON data ({error}): {shown[:200]}",
        )
    if len(text) > limit:
        return f"{text[:limit]}… [cut: {len(text):,} characters of JSON]", None
    return data, None


CHECK_CHARS = 4_000
"""A check's value, expected value and reason are kept at most this long (the output
is cut at ``max_output_chars``): a 4 MB answer copied into a check is not a 4 MB line."""


def kept(result: CheckResult, options: Options) -> CheckResult:
    """The check's result with its texts cut (saying so), measured on what it got."""
    limit = min(CHECK_CHARS, options.max_output_chars)
    cut: dict[str, Any] = {}
    for name in ("value", "expected", "reason"):
        data = getattr(result, name)
        if isinstance(data, str) and len(data) > limit:
            cut[name] = f"{data[:limit]}… [cut: {len(data):,} characters]"
        elif isinstance(data, list | dict):
            stored, _ = storable(data, limit)
            if isinstance(stored, str):
                cut[name] = stored
    return result.model_copy(update=cut) if cut else result


def bounded(exchanges: list[Exchange], limit: int) -> list[Exchange]:
    """The transcript with every text cut to ``limit`` characters, saying so."""
    if limit <= 0:
        return []

    def cut(text: str) -> str:
        return text if len(text) <= limit else f"{text[:limit]}… [cut: {len(text):,} characters]"

    def fits(e: Exchange) -> bool:
        return len(e.answer) <= limit and all(len(m.content) <= limit for m in e.messages)

    return [
        e
        if fits(e)
        else e.model_copy(
            update={
                "answer": cut(e.answer),
                "messages": [m.model_copy(update={"content": cut(m.content)}) for m in e.messages],
            }
        )
        for e in exchanges
    ]


class CheckValueError(ValueError):
    """A check gave a value no metric can hold: not finite, or outside a measure's scale."""


def admissible(suite: Suite[Any, Any], name: str, result: CheckResult) -> CheckResult:
    """``result``, if every number in it can be measured; else ``CheckValueError`` (the
    case's recorded error), never a NaN folded into a mean or an AUC."""
    numbers = {"value": result.value, "score": result.score}
    for field_name, number in numbers.items():
        if isinstance(number, float) and not math.isfinite(number):
            raise CheckValueError(f"check {name!r} gave {field_name} {number}: not a finite number")
    if result.score is not None and not 0 <= result.score <= 1:
        raise CheckValueError(f"check {name!r} gave score {result.score:g}: outside 0..1")
    for each in suite.measures:
        if (
            isinstance(each, Average)
            and each.check == name
            and isinstance(result.value, int | float)
        ):
            low, high = each.scale
            if not low <= result.value <= high:
                raise CheckValueError(
                    f"check {name!r} gave {result.value:g}, outside the scale [{low:g}, {high:g}] "
                    f"of {each.name}"
                )
    return result
