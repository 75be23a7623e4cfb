"""Shared by the plugin's tests: a user's project, copied from examples/."""

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "prompt-regression"


@pytest.fixture
def example(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A copy of examples/prompt-regression without its recordings."""
    for name in ("pyproject.toml", "summarize.py", "tests/conftest.py", "tests/test_summarize.py"):
        (pytester.path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLE / name, pytester.path / name)
    for name in ("PATTERNS_BASE_URL", "PATTERNS_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return pytester
