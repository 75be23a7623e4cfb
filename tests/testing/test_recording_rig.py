"""The rig itself: a changed prompt, or a call no longer made, fails the replay
and says how to re-record. Runs pytest in a subprocess on a copy of a real cassette."""

import shutil
from pathlib import Path

import pytest

CASSETTE = (
    Path(__file__).parents[2]
    / "cassettes/tests/patterns/test_chain/test_a_non_event_is_rejected_at_the_gate.yaml"
)

CONFTEST = 'pytest_plugins = ["patterns.testing"]  # its llm fixture: a dummy endpoint at replay'

TEST = """
import dataclasses

import pytest
from patterns import chain

TEXT = "Can you send an email to Alice about the project deadline?"

@pytest.mark.vcr
async def test_replay(llm, monkeypatch):
    changed = chain.EXTRACT.instructions.replace({old!r}, {new!r})
    monkeypatch.setattr(chain, "EXTRACT", dataclasses.replace(chain.EXTRACT, instructions=changed))
    result = await chain.process_calendar_request(TEXT, llm=llm)
    assert result.outcome == "rejected"

@pytest.mark.vcr
async def test_replay_without_calls(llm):
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = session\n"
        "asyncio_default_test_loop_scope = session\nllm_structured_mode = json_schema\n"
    )
    pytester.makeconftest(CONFTEST)
    for name in ("test_replay", "test_replay_without_calls"):
        target = pytester.path / "cassettes" / "test_prompt" / f"{name}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CASSETTE, target)
    return pytester


def test_the_recorded_prompt_replays(project: pytest.Pytester) -> None:
    project.makepyfile(test_prompt=TEST.format(old="", new=""))
    result = project.runpytest_subprocess(
        "-k", "test_replay and not without", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)


def test_one_changed_word_fails_with_a_diff_and_the_rerecord_command(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_prompt=TEST.format(old="You triage", new="You sort"))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, errors=1)  # the error: unplayed calls
    output = result.stdout.str()
    assert "request body changed:" in output
    assert '"content": "You triage messages' in output  # the recorded line of the diff
    assert '"content": "You sort messages' in output  # the line sent now
    # No command configured: the plain pytest one with the record flags.
    assert (
        "    pytest test_prompt.py::test_replay --record-mode=rewrite --snapshot-update\n" in output
    )
    # A cassette whose calls are no longer made fails too, with the same advice.
    assert "1 recorded interaction(s)" in output
    assert "pytest test_prompt.py::test_replay_without_calls --record-mode=rewrite" in output
