"""A disk cache of model responses, as an httpx2 transport under the openai client.

The key is the request's method, path and body (which holds the model name and
every setting), not the host: the embedded server's port changes from run to run.
Only successful answers are stored, so a re-run retries what failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import httpx2


class CachingTransport(httpx2.AsyncBaseTransport):
    def __init__(self, directory: Path, inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self.directory = directory
        self.inner = inner or httpx2.AsyncHTTPTransport()
        self.hits = 0
        self.misses = 0

    def _path(self, request: httpx2.Request) -> Path:
        key = hashlib.sha256(
            b"\n".join([request.method.encode(), request.url.path.encode(), request.content])
        ).hexdigest()
        return self.directory / key[:2] / f"{key}.json"

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        path = self._path(request)
        if path.exists():
            self.hits += 1
            stored = json.loads(path.read_text())
            return httpx2.Response(
                stored["status"],
                headers={"content-type": "application/json"},
                content=stored["body"].encode(),
                request=request,
            )
        self.misses += 1
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if response.status_code == 200:
            _write_atomically(path, json.dumps({"status": 200, "body": body.decode()}))
        return httpx2.Response(
            response.status_code,
            headers={"content-type": response.headers.get("content-type", "application/json")},
            content=body,
            request=request,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as f:
        f.write(text)
    os.replace(f.name, path)
