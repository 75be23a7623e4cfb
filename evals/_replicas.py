"""Replicas: one model served by several endpoints (N vLLM or llama.cpp servers behind
no load balancer), as a transport under the cache.

    models:
      - name: qwen-7b
        endpoints: [http://gpu1:8000/v1, http://gpu2:8000/v1]

Each request goes to the replica with the fewest requests in flight (ties: the one
that has been sent the fewest). A replica that cannot be reached (refused, reset, no
answer to the connection) is taken out of rotation with a warning, and the request
goes to another; the run stops only when none is left. The cache and the fingerprint
name the model, not the replica, so replicas share answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx2

from patterns.core.plumbing import async_pool, redact_url

logger = logging.getLogger("evals._replicas")

UNREACHABLE = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.RemoteProtocolError)
"""Failures that say the replica is gone, not that the model is slow (a read timeout
is left to the request's own deadline: sending it elsewhere would compute it twice)."""


class NoReplicaLeft(httpx2.ConnectError):
    """Every replica of the model was taken out of rotation."""


@dataclass(eq=False)
class Replica:
    url: httpx2.URL
    pool: httpx2.AsyncBaseTransport
    in_flight: int = 0
    sent: int = 0
    up: bool = True


@dataclass
class Replicas(httpx2.AsyncBaseTransport):
    endpoints: list[str]
    """The base URLs; requests are addressed to the first (the client's ``base_url``)."""
    in_flight: int = 8
    replicas: list[Replica] = field(init=False)

    def __post_init__(self) -> None:
        self.replicas = [
            Replica(httpx2.URL(url.rstrip("/")), async_pool(self.in_flight))
            for url in self.endpoints
        ]

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        base = self.replicas[0].url.path
        rest = request.url.path[len(base) :] if request.url.path.startswith(base) else ""
        while True:
            live = [r for r in self.replicas if r.up]
            if not live:
                raise NoReplicaLeft("every replica of this model is out of rotation")
            replica = min(live, key=lambda r: (r.in_flight, r.sent))
            moved = httpx2.Request(
                request.method,
                replica.url.copy_with(path=replica.url.path + rest, query=request.url.query),
                headers=[(k, v) for k, v in request.headers.raw if k.lower() != b"host"],
                content=request.content,
                extensions=request.extensions,
            )
            replica.in_flight += 1
            replica.sent += 1
            try:
                return await replica.pool.handle_async_request(moved)
            except UNREACHABLE as error:
                replica.up = False
                left = sum(r.up for r in self.replicas)
                logger.warning(
                    "replica %s is out of rotation (%s); %d left",
                    redact_url(str(replica.url)), type(error).__name__, left,
                )  # fmt: skip
            finally:
                replica.in_flight -= 1

    async def aclose(self) -> None:
        for replica in self.replicas:
            await replica.pool.aclose()
