"""Batch rounds (``--batch``): a multi-step suite through the OpenAI Batch API.

A round replays what the response cache holds and collects every request that misses
(instead of sending it: the case stops there and is not recorded); the collected
requests go out as one batch (``custom_id`` = the cache key); each answer is written
into the cache; the next round goes one step further. A one-call suite finishes in one
round, a chain of three dependent calls in three. Each case still computes exactly
what it computes live: it only waits longer between its calls.

The batch id is written to the run folder (``batch-<model>.json``) before the wait, so a
run killed while waiting resumes that batch next time instead of submitting again.
A request the batch answered with an error is answered with that error next round (the
case records it); one the batch never reached (an expired batch) goes out again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from pydantic import BaseModel

from patterns import LLM

from ._cache import KEY, entry_key, store_answer
from ._case import NO_CASE, case_of
from ._rundir import BatchStats, write_atomically
from .errors import EvalsError

logger = logging.getLogger("evals._batch")

DONE = ("completed", "failed", "expired", "cancelled")
"""Batch states that will not change again."""
CHAT = "/v1/chat/completions"
BATCH_PRICE = 0.5
"""Batch prices as a share of live prices (the OpenAI Batch API: half)."""


class BatchError(EvalsError, RuntimeError):
    """A batch that cannot go on (one line): rejected as a whole, or still waiting."""


@dataclass
class Batching:
    """``Options.batch``: how batch rounds poll and how long they wait."""

    poll_s: float = 30.0
    """The first wait between polls; it doubles up to ``max_poll_s``."""
    max_poll_s: float = 300.0
    max_wait_s: float = 25 * 3600.0
    """A batch still running after this long stops the run (run again to resume it)."""
    max_rounds: int = 20
    """Rounds at most (a case's steps and retries each take one)."""
    completion_window: str = "24h"
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


class BatchState(BaseModel):
    """``batch-<model>.json`` in the run folder."""

    pending: str | None = None
    """The id of a submitted batch not yet collected."""
    requested: list[str] = []
    """The cache keys the pending batch was sent (its lines' ``custom_id``): an output
    line naming anything else is not ours."""
    failed: dict[str, tuple[int, str]] = {}
    """Cache key -> (status, error body) of requests the batch answered with an error."""
    stats: BatchStats = BatchStats()


@dataclass
class Collector(httpx2.AsyncBaseTransport):
    """Under the cache in a batch round: a request that missed is kept for the batch and
    answered with a 400 (not retried); the case is marked deferred."""

    endpoint: str | None
    failed: dict[str, tuple[int, str]]
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        key = entry_key(request, self.endpoint)
        if key in self.failed:
            status, body = self.failed[key]
            headers = {"content-type": "application/json", "x-should-retry": "false"}
            return httpx2.Response(status, headers=headers, content=body.encode(), request=request)
        self.pending[key] = {
            "custom_id": key,
            "method": request.method,
            "url": CHAT,
            "body": json.loads(request.content),
        }
        if (case := case_of(request)) is not NO_CASE:
            case.deferral.deferred = True
        error = {"error": {"message": "deferred to the next batch", "type": "batch"}}
        return httpx2.Response(400, json=error, request=request)


def state_path(directory: Path, model: str) -> Path:
    return directory / f"batch-{hashlib.sha256(model.encode()).hexdigest()[:12]}.json"


PENDING = re.compile(r'"pending"\s*:\s*"([A-Za-z0-9_.:-]{1,200})"')


def load_state(path: Path, say: Callable[[str], None] = logger.warning) -> BatchState:
    """The run's batch state; one that does not decode is set aside (renamed, named in a
    line) and a pending batch id is salvaged from its text, so a batch already paid for
    is collected, never bought again."""
    if not path.exists():
        return BatchState()
    text = path.read_text(errors="replace")
    try:
        return BatchState.model_validate_json(text)
    except ValueError:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        with contextlib.suppress(OSError):
            os.replace(path, aside)
        found = PENDING.search(text)
        pending = found[1] if found else None
        say(
            f"{path} is corrupt: set aside as {aside.name}; "
            + (f"collecting batch {pending} it named" if pending else "no pending batch in it")
        )
        return BatchState(pending=pending)


async def rounds(
    run_round: Callable[[Collector], Awaitable[None]],
    settings: dict[str, object],
    endpoint: str | None,
    cache: Path,
    state_file: Path,
    batching: Batching,
) -> BatchStats:
    """Run rounds until a round sends nothing: each round's misses as one batch."""
    state = load_state(state_file)
    async with _client(settings) as llm:
        if state.pending is not None:  # killed while waiting: collect it, do not resubmit
            await _collect(llm, state, state_file, cache, batching)
        for _ in range(batching.max_rounds):
            collector = Collector(endpoint, state.failed)
            await run_round(collector)
            if not collector.pending:
                return state.stats
            state.pending = await _submit(llm, list(collector.pending.values()), batching)
            state.requested = list(collector.pending)
            state.stats.rounds += 1
            state.stats.requests += len(collector.pending)
            write_atomically(state_file, state.model_dump_json(indent=1))
            await _collect(llm, state, state_file, cache, batching)
    raise BatchError(
        f"the cases still had requests after {batching.max_rounds} batch rounds; run again "
        "to go on (answers so far are cached)"
    )


@contextlib.asynccontextmanager
async def _client(settings: dict[str, object]) -> AsyncIterator[LLM]:
    """An ``LLM`` on the model's endpoint with its own connections (not the cache's)."""
    wanted = {k: v for k, v in settings.items() if k in ("base_url", "api_key", "model")}
    llm = LLM.from_env(**wanted, max_answer_bytes=1 << 31)  # type: ignore[arg-type]
    try:
        yield llm
    finally:
        await llm.aclose()


def _api(llm: LLM) -> Any:
    return llm.api()


async def _submit(llm: LLM, lines: list[dict[str, Any]], batching: Batching) -> str:
    content = "".join(json.dumps(line) + "\n" for line in lines).encode()
    uploaded = await _api(llm).files.create(file=("batch.jsonl", content), purpose="batch")
    batch = await _api(llm).batches.create(
        input_file_id=uploaded.id,
        endpoint=CHAT,
        completion_window=batching.completion_window,
    )
    return str(batch.id)


async def _collect(
    llm: LLM, state: BatchState, state_file: Path, cache: Path, batching: Batching
) -> None:
    """Wait for the pending batch (bounded), store its answers, keep its errors."""
    assert state.pending is not None
    started, pause = time.monotonic(), batching.poll_s
    while True:
        batch = await _api(llm).batches.retrieve(state.pending)
        if batch.status in DONE:
            break
        waited = time.monotonic() - started
        if waited > batching.max_wait_s:
            raise BatchError(
                f"batch {batch.id} is still {batch.status} after {waited:.0f} s; run again "
                "later to collect it (it is not submitted again)"
            )
        await batching.sleep(pause)
        state.stats.wait_s = round(state.stats.wait_s + pause, 3)
        pause = min(pause * 2, batching.max_poll_s)
    if batch.status == "failed" and not batch.output_file_id:
        reasons = [e.message for e in (batch.errors.data if batch.errors else None) or []]
        state.pending = None
        write_atomically(state_file, state.model_dump_json(indent=1))
        raise BatchError(f"batch {batch.id} was rejected: {'; '.join(map(str, reasons))[:300]}")
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id:
            text = (await _api(llm).files.content(file_id)).text
            _take(text, cache, state)
    state.pending, state.requested = None, []
    write_atomically(state_file, state.model_dump_json(indent=1))


def _take(text: str, cache: Path, state: BatchState) -> None:
    """Each output line's answer into the cache; an error line kept as that request's
    answer, except a request the batch never reached (it goes out again).

    The file is the provider's, so each line is input: one that is not a JSON object,
    or names no request of this batch (``custom_id`` must be one of the cache keys it
    was sent: never a path), is skipped with a warning; one of ours whose answer cannot
    be read is that request's recorded failure."""
    ours = set(state.requested)
    skipped = 0
    for raw in text.splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            line = None
        key = line.get("custom_id") if isinstance(line, dict) else None
        if not isinstance(key, str) or not KEY.match(key) or (ours and key not in ours):
            skipped += 1
            continue
        assert isinstance(line, dict)
        _answer(line, key, cache, state)
    if skipped:
        logger.warning("skipped %d batch output line(s) that name no request of the batch", skipped)


def _answer(line: dict[str, Any], key: str, cache: Path, state: BatchState) -> None:
    response = line.get("response")
    response = response if isinstance(response, dict) else {}
    error = line.get("error")
    error = error if isinstance(error, dict) else {}
    body = response.get("body")
    answered = response.get("status_code") == 200 and body is not None
    if answered and store_answer(cache, key, json.dumps(body).encode()):
        return
    if error.get("code") == "batch_expired":
        return
    status = response.get("status_code")
    status = status if isinstance(status, int) and 400 <= status <= 599 else 502
    found = body if isinstance(body, dict) and "error" in body else None
    fallback = {"message": "the batch's answer to this request could not be read"}
    message = json.dumps(found or {"error": error or fallback})[:4000]
    state.failed[key] = (status, message)
    state.stats.failed += 1
