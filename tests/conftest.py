import os
from collections.abc import AsyncIterator

import pytest

from patterns import LLM, StructuredMode, fixed_clock

pytest_plugins = ["patterns.testing", "pytester"]

WEDNESDAY = fixed_clock("2026-11-25T10:00:00")
"""The day every recording believes it is: prompts that say today's date replay forever."""


@pytest.fixture(scope="session")
async def llm() -> AsyncIterator[LLM]:
    """The model under test.

    Recording (``nox -s record``) points PATTERNS_* at the embedded model or an
    endpoint of your choice; replay needs no server, only the structured-output
    mode the cassettes were recorded with (it is part of every request body).
    """
    mode: StructuredMode = os.environ.get("PATTERNS_STRUCTURED_MODE", "json_object")  # type: ignore[assignment]
    model = LLM.from_env(
        base_url=os.environ.get("PATTERNS_BASE_URL", "http://127.0.0.1:9/v1"),
        mode=mode,
        max_retries=0,  # a missing recording should fail at once, not after backoff
    )
    yield model
    await model.aclose()
