"""Crash-safe evals: a run killed mid-way resumes with no case lost or repeated; Ctrl-C
keeps what was done; two runs cannot write one results file at once."""

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evals import results
from evals.bench import STUB_ANSWERS
from evals.run import main
from patterns.stub import Reply, StubServer, by_schema, stub_server

CASES = 12


HELD_AFTER = 16
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

    def answer(title: str) -> Any:
        def reply(_: object) -> Reply:
            if next(answered) >= HELD_AFTER:
                release.wait(30)
            return Reply(json.dumps(STUB_ANSWERS[title]), delay_s=0.05)

        return reply

    with stub_server(by_schema(**{t: answer(t) for t in STUB_ANSWERS})) as server:
        yield server


@pytest.fixture
def argv(stub: StubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("PATTERNS_STRUCTURED_MODE", "json_object")
    dataset = tmp_path / "requests.yaml"
    dataset.write_text(
        "cases:\n"
        + "".join(
            f"- {{id: c{i:02d}, kind: k, calendar_event: true, route: new_event, safe: true, "
            f"text: 'Lunch on day {i}'}}\n"
            for i in range(CASES)
        )
    )
    return [
        "--model",
        f"stub@{stub.base_url}",
        "--requests",
        str(dataset),
        "--only",
        "calendar",
        "--out",
        str(tmp_path / "run"),
        "--no-cache",
        "--concurrency",
        "2",
    ]


def start(argv: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PATTERNS_STRUCTURED_MODE": "json_object"}
    return subprocess.Popen(
        [sys.executable, "-m", "evals", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def wait_for(path: Path, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(lines(path)) < count:
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.02)


def test_a_killed_run_resumes_with_no_case_lost_or_repeated(
    argv: list[str], tmp_path: Path, release: threading.Event
) -> None:
    path = tmp_path / "run" / "results.jsonl"
    run = start(argv)
    wait_for(path, 3)
    run.send_signal(signal.SIGKILL)
    run.communicate()
    kept = len(lines(path))
    assert 3 <= kept < CASES

    release.set()
    assert main(argv) == 0  # resumes

    complete = [json.loads(line) for line in lines(path) if line.endswith("}")]
    ids = [r["case"] for r in complete]
    assert sorted(ids) == [f"c{i:02d}" for i in range(CASES)]  # each case exactly once
    assert len(results.read(path)) == CASES


def test_ctrl_c_stops_cleanly_keeps_results_and_says_so(argv: list[str], tmp_path: Path) -> None:
    path = tmp_path / "run" / "results.jsonl"
    run = start(argv)
    wait_for(path, 2)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == 130
    assert b"Interrupted" in stderr
    assert len(lines(path)) >= 2
    assert all(json.loads(line)["error"] is None for line in lines(path))


def test_two_runs_cannot_write_the_same_results_file(argv: list[str], tmp_path: Path) -> None:
    with results.ResultsFile(tmp_path / "run" / "results.jsonl"):
        assert main(argv) == 2  # refused, with a message; nothing written
