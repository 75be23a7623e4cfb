"""HTTP bounds for every request the core sends: a deadline, a size cap, no redirects.

The openai SDK's ``timeout`` bounds each read, not the answer: a server that sends one
byte every half second keeps a call open indefinitely. These transports wrap httpx's
and stop reading an answer once the request's deadline has passed or the answer has
grown past ``max_bytes``, counted after decompression (a 1 MB gzip body cannot
inflate to 1 GB: the transports decode gzip and deflate themselves, bounded). Both
errors are ``openai.OpenAIError``s, which the SDK passes on at once instead of
retrying; the core turns them into ``EndpointError`` and ``ModelResponseError``.
"""

from __future__ import annotations

import contextvars
import importlib.util
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx2
import openai

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
"""8 MiB: a chat completion of any model's context window fits many times over."""

SENT_AT = "patterns.sent_at"
"""A request extension: when an inner transport that queues requests (the evals'
scheduler) actually sent it (``time.monotonic()``). The deadline counts from then, so
time spent in a queue is not the endpoint's."""


KEEP_ALIVE = 100
"""Connections kept open by default: every request in flight can reuse one, up to 100."""


def pool_limits(in_flight: int = KEEP_ALIVE) -> httpx2.Limits:
    """A pool that keeps a connection alive for each request in flight: a new connection
    is a TCP (and, remotely, a TLS) handshake; httpx's default keeps only 20."""
    return httpx2.Limits(max_connections=max(in_flight, 1000), max_keepalive_connections=in_flight)


def http2_available() -> bool:
    """HTTP/2 is offered (negotiated over TLS) when the ``h2`` package is installed
    (``pip install 'llm-workflow-patterns[http2]'``); plain HTTP stays HTTP/1.1."""
    return importlib.util.find_spec("h2") is not None


def async_pool(in_flight: int = KEEP_ALIVE) -> httpx2.AsyncHTTPTransport:
    return httpx2.AsyncHTTPTransport(limits=pool_limits(in_flight), http2=http2_available())


def sync_pool(in_flight: int = KEEP_ALIVE) -> httpx2.HTTPTransport:
    return httpx2.HTTPTransport(limits=pool_limits(in_flight), http2=http2_available())


@dataclass
class Attempts:
    """HTTP requests one call sent (the SDK's own resends included)."""

    sent: int = 0


ATTEMPTS: contextvars.ContextVar[Attempts | None] = contextvars.ContextVar(
    "patterns_attempts", default=None
)
"""The current call's counter (set by the core's meter, counted by the transports)."""


def _attempt() -> None:
    counter = ATTEMPTS.get()
    if counter is not None:
        counter.sent += 1


def _no_resend(request: httpx2.Request) -> openai.APITimeoutError:
    """A timeout the SDK must not send again (an ``OpenAIError`` it passes on as is): a
    server that computes one request at a time is still computing the abandoned one, and
    a resend would wait behind it."""
    return openai.APITimeoutError(request=request)


class DeadlineExceeded(openai.OpenAIError):
    """The answer did not arrive in full before the request's deadline."""


class AnswerTooLarge(openai.OpenAIError):
    """The answer grew past the size cap; the rest was not read."""


class _Bounds:
    """One answer's reading: its deadline, its size so far, its decompression."""

    def __init__(
        self, started: float, deadline_s: float, max_bytes: int, response: httpx2.Response
    ) -> None:
        self.deadline = started + deadline_s
        self.deadline_s, self.max_bytes, self.size = deadline_s, max_bytes, 0
        encoding = response.headers.get("content-encoding", "").strip().lower()
        self.decoder = None
        if encoding in ("gzip", "deflate"):
            self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else 0)
            del response.headers["content-encoding"]  # decoded here, not again by httpx

    def take(self, chunk: bytes) -> bytes:
        if self.decoder is not None:
            try:
                chunk = self.decoder.decompress(chunk, self.max_bytes + 1 - self.size)
            except zlib.error as error:
                raise AnswerTooLarge(f"the answer's compression is broken: {error}") from None
            if self.decoder.unconsumed_tail:
                self.size = self.max_bytes + 1
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise AnswerTooLarge(f"the answer is larger than {self.max_bytes:,} bytes")
        if time.monotonic() > self.deadline:
            raise DeadlineExceeded(f"the answer took longer than {self.deadline_s:g} s")
        return chunk


class _BoundedStream(httpx2.SyncByteStream):
    def __init__(self, stream: httpx2.SyncByteStream, bounds: _Bounds) -> None:
        self.stream, self.bounds = stream, bounds

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.stream:
            yield self.bounds.take(chunk)

    def close(self) -> None:
        self.stream.close()


class _AsyncBoundedStream(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream, bounds: _Bounds) -> None:
        self.stream, self.bounds = stream, bounds

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield self.bounds.take(chunk)

    async def aclose(self) -> None:
        await self.stream.aclose()


class BoundedTransport(httpx2.BaseTransport):
    """A sync transport whose answers stop at a deadline and a size."""

    def __init__(
        self,
        inner: httpx2.BaseTransport,
        deadline_s: float,
        max_bytes: int,
        retry_timeouts: bool = True,
    ) -> None:
        self.inner, self.deadline_s, self.max_bytes = inner, deadline_s, max_bytes
        self.retry_timeouts = retry_timeouts

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        started = time.monotonic()
        _attempt()
        try:
            response = self.inner.handle_request(request)
        except httpx2.TimeoutException as error:
            if self.retry_timeouts:
                raise
            raise _no_resend(request) from error
        bounds = _Bounds(started, self.deadline_s, self.max_bytes, response)
        assert isinstance(response.stream, httpx2.SyncByteStream)
        response.stream = _BoundedStream(response.stream, bounds)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncBoundedTransport(httpx2.AsyncBaseTransport):
    """An async transport whose answers stop at a deadline and a size."""

    def __init__(
        self,
        inner: httpx2.AsyncBaseTransport,
        deadline_s: float,
        max_bytes: int,
        retry_timeouts: bool = True,
    ) -> None:
        self.inner, self.deadline_s, self.max_bytes = inner, deadline_s, max_bytes
        self.retry_timeouts = retry_timeouts

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        started = time.monotonic()
        _attempt()
        try:
            response = await self.inner.handle_async_request(request)
        except httpx2.TimeoutException as error:
            if self.retry_timeouts:
                raise
            raise _no_resend(request) from error
        started = request.extensions.get(SENT_AT, started)
        bounds = _Bounds(started, self.deadline_s, self.max_bytes, response)
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        response.stream = _AsyncBoundedStream(response.stream, bounds)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
