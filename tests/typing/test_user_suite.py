"""What a user's type checker sees in a suite file: the task's output type reaches the
checks, so a check that reads another type is an error before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

EXAMPLE = Path(__file__).parents[2] / "examples" / "evaluate-your-prompt" / "triage.py"
WRONG_CHECK = """
from evals import Check, CheckResult, Case


def too_long(case: Case[str, Expected], output: str) -> CheckResult:
    return CheckResult.of(len(output) < 200)


BROKEN = Suite(
    name="broken", dataset=Path("tickets.yaml"), task=triage, checks=[Check("long", too_long)]
)
"""


def mypy_strict(path: Path, tmp_path: Path) -> tuple[str, int]:
    stdout, stderr, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(path)]
    )
    return stdout + stderr, status


@pytest.mark.slow
def test_a_typed_suite_passes_strict_and_a_check_of_another_output_type_fails(
    tmp_path: Path,
) -> None:
    output, status = mypy_strict(EXAMPLE, tmp_path)
    assert status == 0, output
    broken = tmp_path / "broken_suite.py"
    broken.write_text(EXAMPLE.read_text() + WRONG_CHECK)
    output, status = mypy_strict(broken, tmp_path)
    assert status == 1
    assert 'Argument "task" to "Suite" has incompatible type' in output
    assert "Awaitable[str]" in output
