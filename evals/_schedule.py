"""Request order for an endpoint that answers one request at a time.

llama-cpp-python's server computes one request at a time and keeps the KV cache of the
previous request only: a request whose prompt starts like the previous one's reuses that
prefix (a step's long system prompt) instead of evaluating it again. Sent case by case
(extract, route, screen for one case, then the next) consecutive prompts differ at every
call; sent step by step (every case's extraction, then every case's routing ...) they
share the system prompt.

``PrefixOrder`` is a transport that gives such an endpoint that order without changing
what any case computes: the runner starts many cases at once, each case still sends its
own requests one after another and sees only its own answers, and this transport lets
one request through at a time, preferring a request with the same system prompt as the
one before it, else the largest group of waiting requests (ties: the oldest). What it
changes is only *when* a request is sent; it records the time each case spent waiting,
so latency figures count the endpoint's time, not the queue's.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx2

from patterns.core.plumbing import SENT_AT

from ._case import NO_CASE, Waits, case_of


def prompt_key(request: httpx2.Request) -> str:
    """The request's system prompt (its first message), the prefix worth keeping."""
    try:
        body = json.loads(request.content)
        first = body["messages"][0]
        return f"{body.get('model')}\n{first.get('role')}\n{first.get('content')}"
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""


@dataclass(eq=False)
class _Waiter:
    key: str
    ready: asyncio.Future[None]


@dataclass
class PrefixOrder(httpx2.AsyncBaseTransport):
    inner: httpx2.AsyncBaseTransport
    slots: int = 1
    """Requests the endpoint computes at once (one per replica of a one-at-a-time server)."""
    waiting: list[_Waiter] = field(default_factory=list)
    busy: int = 0
    """Requests sent and not yet read."""
    last: str | None = None
    sent: int = 0
    """Requests sent so far."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        key = prompt_key(request)
        case = case_of(request)
        waits = case.waits if case is not NO_CASE else Waits()  # no case: nothing to keep
        waits.queue()
        if self.busy >= self.slots or self.waiting:
            waiter = _Waiter(key, asyncio.get_running_loop().create_future())
            self.waiting.append(waiter)
            try:
                await waiter.ready
            except asyncio.CancelledError:
                waits.leave()
                if waiter in self.waiting:
                    self.waiting.remove(waiter)
                else:  # granted as it was cancelled: pass the turn on
                    self._release()
                raise
        else:
            self.busy += 1
        self.last = key
        self.sent += 1
        waits.send()
        request.extensions[SENT_AT] = time.monotonic()
        try:
            response = await self.inner.handle_async_request(request)
        except BaseException:
            waits.answered()
            self._release()
            raise
        assert isinstance(response.stream, httpx2.AsyncByteStream)

        def release() -> None:
            waits.answered()
            self._release()

        response.stream = _Releasing(response.stream, release)
        return response

    def _release(self) -> None:
        if not self.busy:
            return
        self.busy -= 1
        if self.waiting:
            chosen = self._next()
            self.waiting.remove(chosen)
            self.busy += 1  # held for the chosen request until it is sent and read
            chosen.ready.set_result(None)

    def _next(self) -> _Waiter:
        for waiter in self.waiting:
            if waiter.key == self.last:
                return waiter
        counts = Counter(w.key for w in self.waiting)
        largest = max(counts.values())
        return next(w for w in self.waiting if counts[w.key] == largest)

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Releasing(httpx2.AsyncByteStream):
    """The answer's body; the endpoint's turn ends when it has been read (or dropped),
    once, however many times the body is closed."""

    def __init__(self, stream: httpx2.AsyncByteStream, release: Callable[[], None]) -> None:
        self.stream, self.release, self.released = stream, release, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield chunk
        self._done()  # read to the end: the endpoint is free (closing comes later)

    async def aclose(self) -> None:
        try:
            await self.stream.aclose()
        finally:
            self._done()

    def _done(self) -> None:
        if not self.released:
            self.released = True
            self.release()
