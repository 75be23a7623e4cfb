"""Fixtures shared by the evals' tests."""

from pathlib import Path

import pytest

from tests.evals.test_library import EXAMPLE


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    """A copy of the README's example suite (triage.py and its tickets) to edit."""
    target = tmp_path / "project"
    target.mkdir()
    for name in ("triage.py", "tickets.yaml"):
        (target / name).write_text((EXAMPLE / name).read_text())
    return target / "triage.py"
