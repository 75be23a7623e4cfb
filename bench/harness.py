"""Offline figures: replay, core overhead, harness throughput, parallel pattern, cache."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import vcr
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion
from syrupy.extensions.json import JSONSnapshotExtension

from patterns import LLM, fixed_clock
from patterns.calendar import Calendar
from patterns.chain import process_calendar_request
from patterns.core.plumbing import CHAT_PATH
from patterns.parallel import process_request
from patterns.router import on_calendar
from patterns.testing import ReadableYAML, llm_body, scrub_request, scrub_response
from patterns.testing.stub import Reply, by_schema, stub_server

from .common import (
    CASSETTE,
    REQUEST,
    STUB_ANSWERS,
    Answer,
    Row,
    eval_args,
    row,
    stub_process,
    synthetic_dataset,
    timed_eval,
)

# --- 1. Replay ---------------------------------------------------------------------------------


def _recorder(**config: Any) -> vcr.VCR:
    recorder = vcr.VCR(record_mode="none", **config)
    recorder.register_serializer("readable", ReadableYAML())
    recorder.register_matcher("llm_body", llm_body)
    return recorder


async def replay(rounds: int = 30) -> Row:
    patterned = _recorder(
        match_on=("method", "path", "llm_body"),
        before_record_request=scrub_request,
        before_record_response=scrub_response,
    )
    raw = _recorder(match_on=("method", "path"))  # cassettes keep the path only
    bodies = [
        json.loads(
            ReadableYAML.deserialize(CASSETTE.read_text())["interactions"][i]["request"]["body"]
        )
        for i in range(3)
    ]
    llm = LLM.from_env(base_url="http://127.0.0.1:9/v1", mode="json_object", max_retries=0)
    bare = AsyncOpenAI(base_url="http://127.0.0.1:9/v1", api_key="x", max_retries=0)
    snapshot = JSONSnapshotExtension()

    async def pattern_run() -> None:
        with patterned.use_cassette(str(CASSETTE), serializer="readable"):
            result = await process_calendar_request(
                "Let's schedule a team meeting next Tuesday at "
                "2pm with Alice and Bob to discuss the roadmap.",
                llm=llm,
                clock=fixed_clock("2026-11-25T10:00:00"),
            )
            snapshot.serialize(result.model_dump(mode="json"))

    async def raw_run() -> None:
        with raw.use_cassette(str(CASSETTE), serializer="readable"):
            for body in bodies:
                await bare.chat.completions.create(**body)

    pattern_s = await _per_round(pattern_run, rounds) / 3
    raw_s = await _per_round(raw_run, rounds) / 3
    await llm.aclose()
    await bare.close()
    ratio = pattern_s / raw_s
    return row(
        "replay: s per recorded call, whole pattern run",
        f"{pattern_s * 1000:.1f} ms",
        f"raw vcrpy + bare SDK {raw_s * 1000:.1f} ms",
        ratio,
        "<= 10 ms and <= 2x",
        pattern_s <= 0.010 and ratio <= 2,
    )


async def _per_round(work: Callable[[], Awaitable[None]], rounds: int) -> float:
    await work()  # warm-up
    started = time.perf_counter()
    for _ in range(rounds):
        await work()
    return (time.perf_counter() - started) / rounds


# --- 2. Core overhead -------------------------------------------------------------------------


def core_overhead(calls: int = 300) -> list[Row]:
    with stub_process() as base_url:
        llm = LLM.from_env(base_url=base_url, model="bench", mode="json_object", max_retries=0)
        bare, abare = (
            OpenAI(base_url=base_url, api_key="x", max_retries=0),
            AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0),
        )

        def sync_typed() -> None:
            llm.parse(Answer, system="Answer.", user="hi", step="bench")

        # The bare SDK at its cheapest for the same body: ``post``, as the core sends it.
        def sync_bare() -> None:
            answer = bare.post(CHAT_PATH, body=REQUEST, cast_to=ChatCompletion)
            Answer.model_validate_json(answer.choices[0].message.content or "")

        async def async_typed() -> None:
            await llm.aparse(Answer, system="Answer.", user="hi", step="bench")

        async def async_bare() -> None:
            answer = await abare.post(CHAT_PATH, body=REQUEST, cast_to=ChatCompletion)
            Answer.model_validate_json(answer.choices[0].message.content or "")

        sync = _interleaved(sync_typed, sync_bare, calls)
        loop = asyncio.new_event_loop()
        asynchronous = loop.run_until_complete(_ainterleaved(async_typed, async_bare, calls))
        loop.run_until_complete(llm.aclose())
        loop.run_until_complete(abare.close())
        loop.close()
        bare.close()
    return [
        row(
            f"core overhead ({name}): typed call vs bare SDK, zero-latency stub",
            f"{typed * 1000:.2f} ms",
            f"bare {base * 1000:.2f} ms",
            typed / base,
            "<= 1.05x",
            typed / base <= 1.05,
        )
        for name, (typed, base) in (("sync", sync), ("async", asynchronous))
    ]


def _interleaved(a: Callable[[], None], b: Callable[[], None], calls: int) -> tuple[float, float]:
    """Median per-call time of a and b, alternating so drift hits both alike."""
    times: dict[str, list[float]] = {"a": [], "b": []}
    for _ in range(calls):
        for name, work in (("a", a), ("b", b)):
            started = time.perf_counter()
            work()
            times[name].append(time.perf_counter() - started)
    return _median(times["a"]), _median(times["b"])


async def _ainterleaved(
    a: Callable[[], Awaitable[None]], b: Callable[[], Awaitable[None]], calls: int
) -> tuple[float, float]:
    times: dict[str, list[float]] = {"a": [], "b": []}
    for _ in range(calls):
        for name, work in (("a", a), ("b", b)):
            started = time.perf_counter()
            await work()
            times[name].append(time.perf_counter() - started)
    return _median(times["a"]), _median(times["b"])


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


# --- 3. Harness throughput ----------------------------------------------------------------------
def bare_async_rate(
    base_url: str, calls: int = 600, concurrency: int = 64, request: dict[str, Any] | None = None
) -> float:
    """Calls a second of the bare openai SDK sending ``request`` (default: a tiny one)
    through its ``post``: the same body as the core sends, with the least work the SDK
    can do for it (``chat.completions.create`` first walks the body, ~0.4 ms a call)."""
    body = request or REQUEST

    async def go() -> float:
        client = AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                await client.post(CHAT_PATH, body=body, cast_to=ChatCompletion)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(calls)))
        elapsed = time.perf_counter() - started
        await client.close()
        return calls / elapsed

    return asyncio.run(go())


def _fixed(answer: dict[str, Any], delay: float) -> Callable[[dict[str, Any]], Reply]:
    return lambda _: Reply(json.dumps(answer), delay_s=delay)


def harness_throughput(delay: float = 0.1) -> list[Row]:
    """Each case is 4 calls, 3 deep (chain, router, then the parallel pair at once), so N
    cases in flight could make 4N/(3D) calls a second, if the SDK kept up."""
    rows = []
    with stub_process() as zero:
        ceiling = bare_async_rate(zero)
    with tempfile.TemporaryDirectory() as tmp, stub_process(delay, STUB_ANSWERS) as base_url:
        for concurrency in (1, 8, 64):
            dataset = synthetic_dataset(
                Path(tmp), 16 * concurrency
            )  # long enough to amortise start-up
            out = Path(tmp) / "run"
            elapsed, found = timed_eval(eval_args(base_url, dataset, out, concurrency, cache=False))
            requests = sum(r.usage.requests for r in found)
            rate, ideal = requests / elapsed, min(4 * concurrency / (3 * delay), ceiling)
            rows.append(
                row(
                    f"harness throughput, N={concurrency}, D={delay}s",
                    f"{rate:.0f} calls/s",
                    f"ideal {ideal:.0f} calls/s (SDK alone: {ceiling:.0f}/s)",
                    rate / ideal,
                    ">= 0.90",
                    rate / ideal >= 0.9,
                )
            )
    return rows


# --- 4. Parallel pattern -------------------------------------------------------------------------


def parallel_overlap(delay: float = 0.3, rounds: int = 5) -> Row:
    script = by_schema(
        CalendarValidation=lambda _: Reply(
            json.dumps(STUB_ANSWERS["CalendarValidation"]), delay_s=delay
        ),
        SecurityAnswer=lambda _: Reply(json.dumps(STUB_ANSWERS["SecurityAnswer"]), delay_s=delay),
    )

    async def go(base_url: str) -> float:
        llm = LLM.from_env(base_url=base_url, mode="json_object", max_retries=0)
        await process_request("Tea?", then=on_calendar(Calendar(), llm=llm), llm=llm)  # warm-up
        started = time.perf_counter()
        for _ in range(rounds):
            await process_request("Tea?", then=on_calendar(Calendar(), llm=llm), llm=llm)
        await llm.aclose()
        return (time.perf_counter() - started) / rounds

    with stub_server(script) as stub:
        wall = asyncio.run(go(stub.base_url))
    return row(
        "parallel pattern: both checks, wall time",
        f"{wall:.3f} s",
        f"slowest branch {delay:.3f} s",
        wall / delay,
        "<= 1.05x",
        wall / delay <= 1.05,
    )


# --- 5. Cache, 6. Embedded model ---------------------------------------------------------------


def cache_speedup(base_url: str, label: str, cases: int = 4) -> Row:
    with tempfile.TemporaryDirectory() as tmp:
        dataset = synthetic_dataset(Path(tmp), cases)
        spec = eval_args(base_url, dataset, Path(tmp) / "run", 1, cache=True)
        live, _ = timed_eval(spec)
        cached, _ = timed_eval(spec)  # fresh results, same cache
    return row(
        f"cache: re-run served from the cache ({label})",
        f"{cached:.2f} s",
        f"live {live:.1f} s",
        live / cached,
        ">= 100x faster",
        live / cached >= 100,
    )
