"""Each case's context for the transports under its requests: its repeat (the cache
key's epoch), where its time in the scheduler's queue is counted, and whether a batch
round deferred it. It rides on each request (``request.extensions``, as httpx's own
per-request data does), put there from a header the case's client sends: one value,
defined here, never ambient state read in another module."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import httpx2

HEADER = "x-patterns-evals-case"
"""Set by the case's client, taken off (never sent on) by ``CaseTransport``."""
EXTENSION = "patterns_evals_case"


@dataclass
class Deferral:
    """Set on a case whose request went to the next batch: it is not recorded."""

    deferred: bool = False


@dataclass
class Waits:
    """Seconds one case was held by the queue (the runner subtracts them from its time):
    while one of its requests waited and none of its others was being answered. Two
    requests of one case queued at once (the parallel pattern's checks) hold it once,
    and a request queued while another of the case's is answered holds it not at all:
    queue times summed would count the same seconds twice, and a case's time could come
    out below zero."""

    seconds: float = 0.0
    queued: int = 0
    answering: int = 0
    held_since: float | None = None

    def _update(self) -> None:
        now = time.perf_counter()
        held = self.queued > 0 and self.answering == 0
        if held and self.held_since is None:
            self.held_since = now
        elif not held and self.held_since is not None:
            self.seconds += now - self.held_since
            self.held_since = None

    def queue(self) -> None:
        self.queued += 1
        self._update()

    def send(self) -> None:
        """Out of the queue, and sent."""
        self.queued -= 1
        self.answering += 1
        self._update()

    def leave(self) -> None:
        """Out of the queue, not sent (cancelled)."""
        self.queued -= 1
        self._update()

    def answered(self) -> None:
        self.answering -= 1
        self._update()


@dataclass
class CaseContext:
    epoch: int = 0
    waits: Waits = field(default_factory=Waits)
    deferral: Deferral = field(default_factory=Deferral)


NO_CASE = CaseContext()
"""What a request outside any case gets (a direct use of a transport)."""


def case_of(request: httpx2.Request) -> CaseContext:
    found = request.extensions.get(EXTENSION)
    return found if isinstance(found, CaseContext) else NO_CASE


@dataclass
class Cases:
    """The cases in flight, by the token their client's header carries."""

    open: dict[str, CaseContext] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def add(self, context: CaseContext) -> str:
        token = str(next(self._ids))
        self.open[token] = context
        return token


class CaseTransport(httpx2.AsyncBaseTransport):
    """The outermost of the evals' transports: the case header becomes the request's
    case context (an unknown or missing one: ``NO_CASE``), and is not sent on."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, cases: Cases) -> None:
        self.inner = inner
        self.cases = cases

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        token = request.headers.pop(HEADER, None)
        request.extensions[EXTENSION] = self.cases.open.get(token or "", NO_CASE)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
