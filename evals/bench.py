"""Benchmarks: each figure against its natural limit, measured in one run on this machine.

    python -m evals.bench               # everything, the embedded model included
    python -m evals.bench --skip-model  # the offline figures only (no model needed)

Prints a table and writes evals/runs/bench.json. Nothing here is a test: a slow
machine gives slow figures, not failures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypedDict

import vcr
from openai import AsyncOpenAI, OpenAI
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from syrupy.extensions.json import JSONSnapshotExtension

from patterns import LLM, fixed_clock
from patterns.calendar import Calendar
from patterns.chain import process_calendar_request
from patterns.parallel import process_request
from patterns.server import LocalServer, free_port
from patterns.stub import Reply, by_schema, stub_server
from patterns.testing import ReadableYAML, llm_body, scrub_request, scrub_response

from . import cli
from .records import Record

ROOT = Path(__file__).parent.parent
CASSETTE = ROOT / "tests/cassettes/test_chain/test_a_clear_event_is_confirmed_end_to_end.yaml"
console = Console()


class Answer(BaseModel):
    ok: bool


ANSWER = {"ok": True}
REQUEST: dict[str, Any] = {
    "model": "bench",
    "messages": [{"role": "system", "content": "Answer."}, {"role": "user", "content": "hi"}],
    "temperature": 0.0,
    "max_tokens": 64,
    "response_format": {"type": "json_object", "schema": Answer.model_json_schema()},
}


class Row(TypedDict):
    """One benchmark figure against its limit (a line of the table and of bench.json)."""

    figure: str
    measured: str
    limit: str
    ratio: float
    target: str
    met: bool


def row(figure: str, measured: str, limit: str, ratio: float, target: str, met: bool) -> Row:
    return Row(
        figure=figure, measured=measured, limit=limit, ratio=round(ratio, 3), target=target, met=met
    )


@contextlib.contextmanager
def stub_process(delay: float = 0.0, answers: dict[str, Any] | None = None) -> Iterator[str]:
    """The stub endpoint in its own process, so it does not share the client's CPU time."""
    port = free_port()
    command = [sys.executable, "-m", "patterns.stub", "--port", str(port), "--delay", str(delay),
               "--content", json.dumps(ANSWER)]  # fmt: skip
    if answers:
        command += ["--answers", json.dumps(answers)]
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the stub endpoint did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait()


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

        def sync_bare() -> None:
            Answer.model_validate_json(
                bare.chat.completions.create(**REQUEST).choices[0].message.content or ""
            )

        async def async_typed() -> None:
            await llm.aparse(Answer, system="Answer.", user="hi", step="bench")

        async def async_bare() -> None:
            answer = await abare.chat.completions.create(**REQUEST)
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

STUB_ANSWERS: dict[str, dict[str, Any]] = {
    "EventExtraction": {"description": "x", "is_calendar_event": True, "confidence_percent": 90},
    "RouteDecision": {"description": "x", "request_type": "other", "confidence_percent": 90},
    "CalendarValidation": {
        "description": "x",
        "is_calendar_request": False,
        "confidence_percent": 90,
    },
    "SecurityAnswer": {"verdict": "ordinary_request"},
}


def _dataset(directory: Path, cases: int) -> Path:
    path = directory / "requests.yaml"
    path.write_text(
        "cases:\n"
        + "".join(
            f"- {{id: c{i:03d}, metadata: {{kind: k}}, input: 'Lunch on day {i}', "
            "expected: {calendar_event: true, route: new_event, safe: true}}\n"
            for i in range(cases)
        )
    )
    return path


def _eval_args(
    base_url: str, dataset: Path, out: Path, concurrency: int, cache: bool, model: str = "bench"
) -> list[str]:
    argv = [
        "run",
        "chain",
        "router",
        "parallel",
        "--model",
        f"{model}@{base_url}",
        "--dataset",
        str(dataset),
        "--out",
        str(out),
        "--fresh",
        "--concurrency",
        str(concurrency),
        "--cache",
        str(out.parent / "cache"),
    ]
    return argv if cache else [*argv, "--no-cache"]


def _timed_eval(argv: list[str]) -> tuple[float, list[Record]]:
    """Seconds the harness takes to run every case (reports not included), and the records."""
    os.environ["PATTERNS_STRUCTURED_MODE"] = "json_object"
    plan = cli.plan(cli.parser().parse_args(argv))
    started = time.perf_counter()
    with contextlib.redirect_stderr(open(os.devnull, "w")):
        runs = asyncio.run(cli.execute(plan))
    return time.perf_counter() - started, [r for run in runs for r in run.records]


def bare_async_rate(base_url: str, calls: int = 600, concurrency: int = 64) -> float:
    async def go() -> float:
        client = AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                await client.chat.completions.create(**REQUEST)

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
            dataset = _dataset(Path(tmp), 16 * concurrency)  # long enough to amortise start-up
            out = Path(tmp) / "run"
            elapsed, found = _timed_eval(
                _eval_args(base_url, dataset, out, concurrency, cache=False)
            )
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
        await process_request("Tea?", calendar=Calendar(), llm=llm)  # warm-up
        started = time.perf_counter()
        for _ in range(rounds):
            await process_request("Tea?", calendar=Calendar(), llm=llm)
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
        dataset = _dataset(Path(tmp), cases)
        argv = _eval_args(base_url, dataset, Path(tmp) / "run", 1, cache=True)
        live, _ = _timed_eval(argv)
        cached, _ = _timed_eval(argv)  # --fresh results, same cache
    return row(
        f"cache: re-run served from the cache ({label})",
        f"{cached:.2f} s",
        f"live {live:.1f} s",
        live / cached,
        ">= 100x faster",
        live / cached >= 100,
    )


def embedded_model(server: LocalServer) -> list[Row]:
    """The quick calendar eval on the embedded model, against the token-rate limit: the
    time the server needs for the run's own tokens at its own measured rates, without and
    with the prompt prefixes it reused (the eval sends one step's requests together)."""
    log_start = server.log_path.stat().st_size
    with tempfile.TemporaryDirectory() as tmp:
        argv = [
            "run", "chain", "router", "parallel", "--quick",
            "--model", f"{server.model_name}@{server.base_url}",
            "--out", str(Path(tmp) / "run"), "--no-cache", "--concurrency", "1",
        ]  # fmt: skip
        elapsed, found = _timed_eval(argv)
    calls = [c.usage for r in found for c in r.calls]
    prompt_tokens = sum(c.prompt_tokens for c in calls)
    completion_tokens = sum(c.completion_tokens for c in calls)
    log = server.log_path.read_text(errors="replace")[log_start:]
    prompt_rate = _server_rate(log, prompt=True)
    gen_rate = _server_rate(log, prompt=False)
    reused = _prefix_reused(log)
    no_reuse = prompt_tokens / prompt_rate + completion_tokens / gen_rate
    with_reuse = max(0, prompt_tokens - reused) / prompt_rate + completion_tokens / gen_rate
    warm, cold = _prefix_reuse(server)
    return [
        row(
            f"embedded model: quick eval ({len(found)} case runs, {len(calls)} calls), wall",
            f"{elapsed:.0f} s",
            f"token-rate limit {with_reuse:.0f} s with prefix reuse, {no_reuse:.0f} s without",
            elapsed / with_reuse,
            "<= 1.5x",
            elapsed / with_reuse <= 1.5,
        ),
        row(
            "embedded model: prompt tokens served from the reused prefix (server log)",
            f"{reused:,} of {prompt_tokens:,}",
            "all",
            reused / prompt_tokens if prompt_tokens else 0.0,
            "informative",
            True,
        ),
        row(
            "embedded model: server rates (server log)",
            f"prompt {prompt_rate:.0f} tok/s, generation {gen_rate:.1f} tok/s",
            "-",
            1.0,
            "informative",
            True,
        ),
        row(
            "embedded model: shared prompt prefix reused (KV cache)",
            f"warm {warm:.2f} s vs cold {cold:.2f} s",
            "-",
            cold / warm,
            "speedup > 1",
            cold / warm > 1,
        ),
    ]


def request_orders(suites: tuple[str, ...] = ("chain_e2e", "router_e2e")) -> list[Row]:
    """The multi-step suites (``--quick``) on the embedded model, four ways: requests in
    case order (one case at a time) or step by step (``evals.schedule``), each with the
    server's default cache (the previous request's prefix) and with its RAM cache of saved
    prompt states (``--cache true``). Same cases, same answers; only the order and the
    server's cache differ."""
    rows, walls = [], {}
    for ram in (False, True):
        with LocalServer(ram_cache=ram) as server, tempfile.TemporaryDirectory() as tmp:
            for serial in (False, True):
                models = Path(tmp) / "models.yaml"
                settings = {"name": server.model_name, "endpoint": server.base_url,
                            "serial": serial, "confidence": "tokens"}  # fmt: skip
                models.write_text(json.dumps({"models": [settings]}))
                log_start = server.log_path.stat().st_size
                argv = ["run", *suites, "--quick", "--models", str(models), "--no-cache",
                        "--out", str(Path(tmp) / f"run-{serial}")]  # fmt: skip
                if not serial:
                    argv += ["--concurrency", "1"]
                elapsed, found = _timed_eval(argv)
                log = server.log_path.read_text(errors="replace")[log_start:]
                prompt_tokens = sum(c.usage.prompt_tokens for r in found for c in r.calls)
                label = (
                    f"{'step by step' if serial else 'case order'}, "
                    f"{'RAM cache' if ram else 'default cache'}"
                )
                walls[label] = elapsed
                rows.append(
                    row(
                        f"embedded model: {'+'.join(suites)} --quick, {label}",
                        f"{elapsed:.0f} s, {_prefix_reused(log):,} of {prompt_tokens:,} "
                        f"prompt tokens reused, {sum(r.error is not None for r in found)} errors",
                        "fastest of the four",
                        0.0,
                        "informative",
                        True,
                    )
                )
    best = min(walls.values())
    for r in rows:
        r["ratio"] = walls[r["figure"].split("--quick, ")[1]] / best
    return rows


def _prefix_reused(log: str) -> int:
    """Prompt tokens llama-cpp-python took from its cache ("N prefix-match hit")."""
    return sum(int(n) for n in re.findall(r"(\d+) prefix-match hit", log))


def _server_rate(log: str, *, prompt: bool) -> float:
    """Tokens per second from llama.cpp's own timing lines in the server log."""
    label = "prompt eval time" if prompt else "(?<!prompt )eval time"
    pairs = [
        (float(ms), int(n)) for ms, n in re.findall(label + r"\s*=\s*([\d.]+) ms /\s*(\d+)", log)
    ]
    total_ms = sum(ms for ms, _ in pairs)
    return sum(n for _, n in pairs) / (total_ms / 1000) if total_ms else float("nan")


def _prefix_reuse(server: LocalServer) -> tuple[float, float]:
    """The same long instructions twice (the second can reuse the cached prefix), against
    different instructions of the same length (nothing to reuse)."""
    client = OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
    long = "You are a careful calendar assistant. " * 40

    def ask(system: str, user: str = "hi") -> float:
        started = time.perf_counter()
        client.chat.completions.create(
            model=server.model_name,
            max_tokens=1,
            temperature=0,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        )
        return time.perf_counter() - started

    ask(long)
    warm = ask(long, "hello")
    cold = ask("You are a careful meeting planner. " * 40)
    client.close()
    return warm, cold


def machine() -> dict[str, Any]:
    versions = {}
    for package in ("openai", "pydantic", "vcrpy", "syrupy", "httpx2", "llama-cpp-python"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[package] = importlib.metadata.version(package)
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--skip-model", action="store_true", help="leave out the embedded model")
    parser.add_argument("--out", type=Path, default=ROOT / "evals/runs/bench.json")
    parser.add_argument(
        "--orders",
        action="store_true",
        help="only the request-order figures: case order vs step by step, with and "
        "without the server's RAM cache (about 10 minutes)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.orders:
        return _report(request_orders(), args.out, started)
    rows = [asyncio.run(replay()), *core_overhead(), *harness_throughput(), parallel_overlap()]
    if args.skip_model:
        with stub_process(delay=0.5) as base_url:
            rows.append(cache_speedup(base_url, "stub, 0.5 s a call"))
    else:
        with LocalServer() as server:
            rows.append(cache_speedup(server.base_url, "embedded model"))
            rows += embedded_model(server)
    return _report(rows, args.out, started)


def _report(rows: list[Row], out: Path, started: float) -> int:
    table = Table("figure", "measured", "limit", "ratio", "target", "met", title="Benchmarks")
    for r in rows:
        table.add_row(
            r["figure"],
            r["measured"],
            r["limit"],
            f"{r['ratio']:.2f}",
            r["target"],
            "yes" if r["met"] else "NO",
        )
    console.print(table)
    info = machine()
    console.print(
        f"{info['cores']} cores, Python {info['python']}, {info['versions']}; "
        f"{time.perf_counter() - started:.0f} s"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "figures": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
