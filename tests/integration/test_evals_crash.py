"""Crash-safe evals: a run killed mid-way resumes with no case lost or repeated; Ctrl-C
keeps what was done; two runs cannot write one results file at once."""

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals import _records as records
from evals.cli import main
from patterns.testing.stub import Reply, StubServer, stub_server

EXAMPLE = Path(__file__).parents[2] / "examples" / "evaluate-your-prompt"
CASES = 8
HELD_AFTER = 3
"""Requests answered before the stub holds the rest until the test releases them: the run
is still going when the test interrupts it, however loaded the machine is."""


@pytest.fixture
def release() -> Iterator[threading.Event]:
    gate = threading.Event()
    yield gate
    gate.set()


@pytest.fixture
def stub(release: threading.Event) -> Iterator[StubServer]:
    answered = itertools.count()

    def reply(_: object) -> Reply:
        if next(answered) >= HELD_AFTER:
            release.wait(30)
        return Reply('{"category": "other", "urgent": false}', delay_s=0.05)

    with stub_server(reply) as server:
        yield server


@pytest.fixture
def argv(stub: StubServer, tmp_path: Path) -> list[str]:
    shutil.copytree(EXAMPLE, tmp_path / "suite")
    return [
        "run",
        str(tmp_path / "suite" / "triage.py"),
        "--model",
        f"stub@{stub.base_url}",
        "--out",
        str(tmp_path / "runs"),
        "--no-cache",
        "--concurrency",
        "2",
    ]


def results_path(tmp_path: Path) -> Path:
    found = sorted((tmp_path / "runs" / "triage").glob("2*/results.jsonl"))
    return found[-1] if found else tmp_path / "runs" / "none"


def _sigint_by_default() -> None:
    """A shell starts background jobs with SIGINT ignored, and children inherit it: the
    run under test must see Ctrl-C however this suite was started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(argv: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PATTERNS_STRUCTURED_MODE": "json_object"}
    return subprocess.Popen(
        [sys.executable, "-m", "evals", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_sigint_by_default,
    )


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def wait_for(tmp_path: Path, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(lines(results_path(tmp_path))) < count:
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.02)


def test_a_killed_run_resumes_with_no_case_lost_or_repeated(
    argv: list[str], tmp_path: Path, release: threading.Event
) -> None:
    run = start(argv)
    wait_for(tmp_path, 3)
    path = results_path(tmp_path)
    run.send_signal(signal.SIGKILL)
    run.communicate()
    kept = len(lines(path))
    assert 3 <= kept < CASES

    release.set()
    assert main(argv) == 0  # resumes

    assert results_path(tmp_path) == path  # resumed in place
    complete = [json.loads(line) for line in lines(path) if line.endswith("}")]
    ids = [r["case"] for r in complete]
    assert sorted(ids) == [f"t0{i}" for i in range(1, CASES + 1)]  # each case exactly once
    assert len(records.read(path)) == CASES


def test_ctrl_c_stops_cleanly_keeps_results_and_says_so(argv: list[str], tmp_path: Path) -> None:
    run = start(argv)
    wait_for(tmp_path, 2)
    path = results_path(tmp_path)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == 130
    assert b"Interrupted" in stderr
    assert len(lines(path)) >= 2
    assert all(json.loads(line)["error"] is None for line in lines(path))


def test_two_runs_cannot_write_the_same_results_file(
    argv: list[str], tmp_path: Path, release: threading.Event
) -> None:
    run = start(argv)
    wait_for(tmp_path, 1)
    assert main(argv) == 2  # refused, with a message; nothing written
    release.set()
    run.communicate(timeout=30)  # closes its pipes too
    assert run.returncode == 0
