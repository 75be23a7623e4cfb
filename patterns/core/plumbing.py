"""What the evals and the pytest plugin share with the core, apart from its public API:
secret redaction, the bounded HTTP transports, the chat path, the demo runner, and spans.

Internal: stable for this repository's own packages (``evals``, ``patterns.testing``,
``patterns.server``), not a promise to users; ``patterns.core`` exports what a user of the
typed call needs."""

from ._demo import run_demo
from ._openai import CHAT_PATH
from ._redact import (
    REDACTED,
    SECRET_PARAM,
    find_secret,
    known,
    protect_logs,
    redact,
    redact_url,
    scrub,
    url_secrets,
)
from ._telemetry import KIND, SpanHandle, SpanScope, span
from ._transport import DEFAULT_MAX_BYTES, SENT_AT, async_pool, sync_pool

__all__ = [
    "CHAT_PATH",
    "DEFAULT_MAX_BYTES",
    "KIND",
    "REDACTED",
    "SECRET_PARAM",
    "SENT_AT",
    "SpanHandle",
    "SpanScope",
    "async_pool",
    "find_secret",
    "known",
    "protect_logs",
    "redact",
    "redact_url",
    "run_demo",
    "scrub",
    "span",
    "sync_pool",
    "url_secrets",
]
