from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from openai import OpenAI

if TYPE_CHECKING:  # imported by pytest_plugins below, so pytest can rewrite its asserts
    from patterns.testing import Endpoint

pytest_plugins = ["patterns.testing"]


@pytest.fixture(scope="session")
def client(llm_endpoint: Endpoint) -> Iterator[OpenAI]:
    """The real endpoint while recording, a dummy one at replay (cassettes answer)."""
    with OpenAI(base_url=llm_endpoint.base_url, api_key=llm_endpoint.api_key, max_retries=0) as c:
        yield c


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, object]:
    # What every pytest-recording guide shows. The plugin merges it with its own
    # settings: body matching, the readable cassettes and the scrubbing stay on.
    return {"filter_headers": ["authorization"]}
