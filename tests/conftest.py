from collections.abc import Iterator
from typing import Any

import pytest

from patterns import fixed_clock

# The `llm` fixture comes from the plugin: the embedded model (or PATTERNS_*) while
# recording, a dummy endpoint at replay, in the mode set by `llm_structured_mode`.
pytest_plugins = ["patterns.testing", "pytester"]

WEDNESDAY = fixed_clock("2026-11-25T10:00:00")
"""The day every recording believes it is: prompts that say today's date replay forever."""


@pytest.fixture
def exporter() -> Iterator[Any]:
    """The SDK's in-memory span exporter, receiving this project's spans for one test
    (the ``otel`` extra; skipped without it)."""
    pytest.importorskip("opentelemetry.sdk.trace", reason="the otel extra")
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from patterns.core import configure_tracing

    found = InMemorySpanExporter()
    configure_tracing(found)
    yield found
    configure_tracing()
