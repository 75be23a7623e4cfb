"""A disk cache of model answers, as an httpx2 transport under the openai client.

The key is the endpoint (its identity: the model file for an embedded server, whose port
changes from run to run; else scheme, host, port and path, never a key or password), the
request path, the whole request body (the model name and every setting are in it) and
the repeat index
(``--epochs``: each repeat is its own answer). Only answers that parse as chat
completions are stored: an error, a torn body or an HTML page is fetched again next
time. An entry that does not decode is dropped and fetched again. A full disk costs the
cache, never the answer. ``patterns-evals cache clear`` empties it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

import httpx2
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from patterns.core.plumbing import async_pool, redact_url, scrub

from ._case import case_of
from .errors import EvalsError

logger = logging.getLogger("evals._cache")


class CachingTransport(httpx2.AsyncBaseTransport):
    def __init__(
        self,
        directory: Path,
        inner: httpx2.AsyncBaseTransport | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.directory = directory
        self.endpoint = endpoint
        self.inner = inner or async_pool()
        self.hits = 0
        self.misses = 0

    def _path(self, request: httpx2.Request) -> Path:
        return entry_path(self.directory, entry_key(request, self.endpoint))

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        path = self._path(request)
        if (body := _stored(path)) is not None:
            self.hits += 1
            return httpx2.Response(
                200, headers={"content-type": "application/json"}, content=body, request=request
            )
        self.misses += 1
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if response.status_code == 200 and _is_completion(body):
            _store(path, scrub(body.decode("utf-8", "replace")).encode())
        headers = {"content-type": response.headers.get("content-type", "application/json")}
        if "location" in response.headers:
            headers["location"] = response.headers["location"]
        return httpx2.Response(response.status_code, headers=headers, content=body, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def entry_key(request: httpx2.Request, endpoint: str | None) -> str:
    """The cache key of a request (also a batch line's ``custom_id``): the endpoint's
    identity, the path, the repeat index and the whole body."""
    where = endpoint or redact_url(str(request.url.copy_with(query=None)))
    where += "\n" + request.url.path
    parts = [
        request.method.encode(),
        where.encode(),
        str(case_of(request).epoch).encode(),
        request.content,
    ]
    return hashlib.sha256(b"\n".join(parts)).hexdigest()


KEY = re.compile(r"^[0-9a-f]{64}$")


class NotAKey(EvalsError, ValueError):
    """A cache key that is not the 64-hex digest this cache computes (one read back from
    a batch provider, say): it never becomes a file name."""


def entry_path(directory: Path, key: str) -> Path:
    """Where the answer to ``key`` is stored; ``NotAKey`` for anything but a digest."""
    if not KEY.match(key):
        raise NotAKey(f"{key[:80]!r} is not a cache key (64 hex digits)")
    return directory / key[:2] / f"{key}.json"


def store_answer(directory: Path, key: str, body: bytes) -> bool:
    """Store an answer fetched another way (a batch's output line); False if it is not a
    chat completion (not stored)."""
    if not _is_completion(body):
        return False
    _store(entry_path(directory, key), scrub(body.decode("utf-8", "replace")).encode())
    return True


def _is_completion(body: bytes) -> bool:
    try:
        ChatCompletion.model_validate_json(body)
    except (ValidationError, ValueError):
        return False
    return True


def _stored(path: Path) -> bytes | None:
    try:
        body = path.read_bytes()
    except OSError:
        return None
    if _is_completion(body):
        return body
    logger.warning("dropping a corrupt cache entry %s", path.name)
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def _store(path: Path, body: bytes) -> None:
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _mark(path.parent.parent)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as f:
            temporary = f.name
            f.write(body)
        os.replace(temporary, path)
    except OSError as error:
        logger.warning("could not cache an answer (%s); it is used, not stored", error.strerror)
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


TAG = "CACHEDIR.TAG"
TAG_TEXT = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# The response cache of llm-workflow-patterns' evals (patterns-evals cache clear).\n"
)
"""The Cache Directory Tagging standard's file: marks the folder as this cache (backup
tools skip it, and ``clear`` refuses a folder without it)."""
ENTRY = re.compile(r"^[0-9a-f]{64}\.json$")
SHARD = re.compile(r"^[0-9a-f]{2}$")


class NotACache(EvalsError, ValueError):
    """A folder ``clear`` will not touch: it is not a response cache."""


def _mark(directory: Path) -> None:
    tag = directory / TAG
    if not tag.exists():
        with contextlib.suppress(OSError):
            tag.write_text(TAG_TEXT)


def clear(directory: Path) -> int:
    """Remove the cached answers, and only them: entries this cache wrote (``xx/<sha256>.json``,
    never through a symlink). A folder that is not a cache is refused (``NotACache``);
    anything else in it is kept. Returns how many answers were removed."""
    if directory.is_symlink():
        raise NotACache(f"{directory} is a symbolic link; name the cache folder itself")
    if not directory.exists():
        return 0
    if not directory.is_dir():
        raise NotACache(f"{directory} is not a folder")
    shards = [
        p for p in directory.iterdir() if SHARD.match(p.name) and p.is_dir() and not p.is_symlink()
    ]
    entries = [e for shard in shards for e in shard.iterdir() if ENTRY.match(e.name)]
    others = [p for p in directory.iterdir() if p.name != TAG and p not in shards]
    if not (directory / TAG).is_file() and (others or not entries):
        raise NotACache(
            f"{directory} is not a response cache (no {TAG}, and it holds other files); "
            "nothing was removed"
        )
    removed = 0
    for entry in entries:
        if entry.is_file() and not entry.is_symlink():
            entry.unlink()
            removed += 1
    for shard in shards:
        with contextlib.suppress(OSError):
            shard.rmdir()  # only if empty: anything else stays
    return removed
