"""Past one machine: shards that merge into the run done in one piece (and refuse what
is not one run), replicas of one model, and batch rounds through the fake files and
batches endpoints (a three-step suite in three rounds, an expired batch, a partly
failed one, and a kill during the wait)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evals import BatchError, Batching, EvalError, ModelConfig, Options, Report, evaluate, merge
from evals.cli import main
from patterns.testing.stub import FakeBatches, Reply, StubServer, schema_title, stub_server
from tests.evals.test_library import model_answer

STEPS = '''
from pathlib import Path
from pydantic import BaseModel
from evals import Accuracy, Equals, Suite, TaskContext
from patterns import LLM


class Step(BaseModel):
    value: int


async def three_steps(llm: LLM, number: int, context: TaskContext) -> int:
    """Three dependent calls: each is sent the previous answer."""
    value = number
    for step in ("one", "two", "three"):
        answer = await llm.aparse(Step, system=f"Add one ({step}).", user=str(value),
                                  step=step, trace=context.trace)
        value = answer.value
    return value


SUITE = Suite(
    name="steps", dataset=Path(__file__).with_name("steps.jsonl"), input_type=int,
    expected_type=int, task=three_steps,
    checks=[Equals("sum", got=lambda o: o, want=lambda e: e)], measures=[Accuracy("sum")],
)
'''


def add_one(body: dict[str, Any]) -> Reply:
    assert schema_title(body) == "Step"
    return Reply(json.dumps({"value": int(body["messages"][-1]["content"]) + 1}))


@pytest.fixture
def steps_file(tmp_path: Path) -> Path:
    folder = tmp_path / "steps"
    folder.mkdir()
    (folder / "steps.py").write_text(STEPS)
    lines = [json.dumps({"id": f"case-{n}", "input": n, "expected": n + 3}) for n in range(4)]
    (folder / "steps.jsonl").write_text("\n".join(lines) + "\n")
    return folder / "steps.py"


@pytest.fixture(autouse=True)
def _json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATTERNS_STRUCTURED_MODE", "json_object")


def opts(out: Path, **more: Any) -> Options:
    return Options(**{"out": out, "cache": None, "say": lambda text: None, **more})


def metrics(report: Report) -> str:
    """Every metric, as JSON, but the measured times (two runs never take the same)."""

    def timeless(data: Any) -> Any:
        if isinstance(data, dict):
            return {k: timeless(v) for k, v in data.items() if "latency" not in k}
        return [timeless(v) for v in data] if isinstance(data, list) else data

    return json.dumps(
        [{m: timeless(s.models[m].model_dump(mode="json")) for m in s.models}
         for s in report.summary.suites]
    )  # fmt: skip


# --- Shards ----------------------------------------------------------------------------------


def test_three_shards_merge_into_the_metrics_of_the_run_done_in_one_piece(
    suite_file: Path,
    tmp_path: Path,
) -> None:
    with stub_server(model_answer) as stub:
        model = f"m@{stub.base_url}"
        whole = evaluate([suite_file], [model], options=opts(tmp_path / "whole", epochs=2))
        shards = [tmp_path / f"shard{i}" for i in (1, 2, 3)]
        sizes = [
            len(evaluate([suite_file], [model], options=opts(path, epochs=2, shard=(i, 3))).records)
            for i, path in enumerate(shards, 1)
        ]
    assert sum(sizes) == len(whole.records) == 16
    assert 0 < max(sizes) < 16
    merged = merge(shards, tmp_path / "merged")
    assert metrics(merged) == metrics(whole)
    assert (tmp_path / "merged" / "report.html").exists()
    run = merged.summary.suites[0].info
    assert run.fingerprint == whole.summary.suites[0].info.fingerprint  # the whole run's
    assert run.fingerprint.shard is None
    assert run.runs == 16


def test_merging_shards_of_another_prompt_a_missing_or_doubled_shard_is_refused(
    suite_file: Path,
    tmp_path: Path,
) -> None:
    with stub_server(model_answer) as stub:
        model = f"m@{stub.base_url}"
        evaluate([suite_file], [model], options=opts(tmp_path / "a1", shard=(1, 2)))
        evaluate([suite_file], [model], options=opts(tmp_path / "a2", shard=(2, 2)))
        source = suite_file.read_text()
        suite_file.write_text(
            source.replace('or other."', 'or other. Urgent means a customer cannot work."')
        )
        assert source != suite_file.read_text()
        evaluate([suite_file], [model], options=opts(tmp_path / "b2", shard=(2, 2)))
        evaluate([suite_file], [model], options=opts(tmp_path / "whole"))
    cases = {
        ("a1", "b2"): "differ in the code that shapes the requests",
        ("a1",): "shard 2/2 missing",
        ("a1", "a1", "a2"): "shard 1/2 given twice",
        ("a1", "whole"): "is a whole run, not a shard",
    }
    for folders, reason in cases.items():
        with pytest.raises(EvalError, match=reason):
            merge([tmp_path / f for f in folders], tmp_path / "merged")
    assert not (tmp_path / "merged").exists()  # nothing written by a refused merge


def test_a_shard_that_did_not_finish_is_refused(suite_file: Path, tmp_path: Path) -> None:
    with stub_server(model_answer) as stub:
        model = f"m@{stub.base_url}"
        for i in (1, 2):
            evaluate([suite_file], [model], options=opts(tmp_path / f"s{i}", shard=(i, 2)))
    results = next((tmp_path / "s1").glob("*/2*/results.jsonl"))
    lines = results.read_text().splitlines(keepends=True)
    results.write_text("".join(lines[:-1]))
    with pytest.raises(EvalError, match=r"shard 1/2 .* is incomplete"):
        merge([tmp_path / "s1", tmp_path / "s2"], tmp_path / "merged")


def test_the_command_line_shards_and_merges(
    suite_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with stub_server(model_answer) as stub:
        for i in (1, 2):
            code = main(["run", str(suite_file), "--model", f"m@{stub.base_url}", "--no-cache",
                         "--shard", f"{i}/2", "--out", str(tmp_path / f"s{i}")])  # fmt: skip
            assert code == 0
    assert (
        main(["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(tmp_path / "m")])
        == 0
    )
    assert (
        json.loads((tmp_path / "m" / "summary.json").read_text())["suites"][0]["info"]["runs"] == 8
    )
    capsys.readouterr()
    assert main(["merge", str(tmp_path / "s1"), "--out", str(tmp_path / "m2")]) == 2
    assert capsys.readouterr().err.strip() == "error: merge triage: shard 2/2 missing"
    with pytest.raises(SystemExit) as stop:
        main(["run", str(suite_file), "--shard", "3/2"])
    assert stop.value.code == 2
    assert "expected I/N" in capsys.readouterr().err


@pytest.mark.parametrize("shard", [(0, 3), (4, 3)])
def test_a_shard_outside_its_count_is_refused(
    suite_file: Path,
    tmp_path: Path,
    shard: tuple[int, int],
) -> None:
    with pytest.raises(EvalError, match="1 <= I <= N"):
        evaluate([suite_file], ["m@http://127.0.0.1:9/v1"], options=opts(tmp_path, shard=shard))


# --- Replicas --------------------------------------------------------------------------------


def test_replicas_share_the_work_and_a_dead_one_leaves_the_rotation(
    suite_file: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with stub_server(model_answer) as one, stub_server(model_answer) as two:
        dead = "http://127.0.0.1:9/v1"  # the discard port: nothing listens
        model = ModelConfig(name="m", endpoints=[one.base_url, dead, two.base_url])
        with caplog.at_level(logging.WARNING, "evals._replicas"):
            found = evaluate([suite_file], [model], options=opts(tmp_path, concurrency=4))
    assert not any(r.error for r in found.records)
    assert len(found.records) == 8
    assert one.requests
    assert two.requests
    assert len(one.requests) + len(two.requests) == 8
    assert "out of rotation" in caplog.text
    assert "2 left" in caplog.text
    moved = ModelConfig(name="m", endpoints=["http://10.0.0.5:8000/v1"])
    assert moved.identity() == model.identity()  # the model, not where it runs
    assert moved.cache_identity() == model.cache_identity()


# --- Batch rounds ----------------------------------------------------------------------------


@pytest.fixture
def batches() -> FakeBatches:
    return FakeBatches(polls=1)


@pytest.fixture
def fake(batches: FakeBatches) -> Iterator[StubServer]:
    with stub_server(add_one, batches=batches) as stub:
        yield stub


async def no_wait(seconds: float) -> None:
    return None


def batched(steps_file: Path, fake: StubServer, out: Path, cache: Path | None = None) -> Report:
    batch = Batching(sleep=no_wait)
    options = opts(out, cache=cache or out / "cache", batch=batch)
    return evaluate([steps_file], [f"m@{fake.base_url}"], options=options, max_error_rate=1)


def test_three_dependent_steps_finish_in_three_batch_rounds(
    steps_file: Path, fake: StubServer, batches: FakeBatches, tmp_path: Path
) -> None:
    found = batched(steps_file, fake, tmp_path)
    assert fake.requests == []  # no request was sent live: every answer is a batch's
    assert len(batches.created) == 3
    assert [r.output for r in sorted(found.records, key=lambda r: r.case)] == [3, 4, 5, 6]
    assert found.metric("m", "sum.accuracy").estimate.value == 1.0  # type: ignore[union-attr]
    stats = found.summary.suites[0].info.batch
    assert stats is not None
    assert (stats.rounds, stats.requests, stats.failed) == (3, 12, 0)
    again = batched(steps_file, fake, tmp_path / "again", cache=tmp_path / "cache")  # cached
    assert len(batches.created) == 3
    assert again.metric("m", "sum.accuracy").estimate.value == 1.0


def test_an_expired_batch_sends_what_it_did_not_reach_again(
    steps_file: Path, fake: StubServer, batches: FakeBatches, tmp_path: Path
) -> None:
    batches.expire_first = 1
    found = batched(steps_file, fake, tmp_path)
    assert not any(r.error for r in found.records)
    assert len(found.records) == 4
    assert len(batches.created) == 4  # the three unanswered first steps went out again


def test_a_line_the_batch_failed_is_that_cases_recorded_error(
    steps_file: Path, fake: StubServer, batches: FakeBatches, tmp_path: Path
) -> None:
    batches.fail = lambda body: body["messages"][-1]["content"] == "2"
    found = batched(steps_file, fake, tmp_path)
    errors = {r.case: r.error or "" for r in found.records if r.error}
    assert sorted(errors) == ["case-0", "case-1", "case-2"]  # each sends "2" at some step
    assert all("the fake failed this line" in e for e in errors.values()), errors
    assert len(found.records) == 4
    assert found.summary.suites[0].info.batch.failed == 3  # type: ignore[union-attr]


def test_a_rejected_batch_stops_the_run_in_one_line(
    steps_file: Path, fake: StubServer, batches: FakeBatches, tmp_path: Path
) -> None:
    batches.reject = True
    with pytest.raises(BatchError, match="was rejected: bad"):
        batched(steps_file, fake, tmp_path)


def test_batch_needs_an_endpoint_with_a_batch_api(steps_file: Path, tmp_path: Path) -> None:
    options = opts(tmp_path, cache=tmp_path / "cache", batch=Batching())
    with pytest.raises(EvalError, match="has no Batch API"):
        evaluate([steps_file], ["embedded"], options=options)
    with pytest.raises(EvalError, match="needs the response cache"):
        evaluate(
            [steps_file], ["m@http://127.0.0.1:9/v1"], options=opts(tmp_path, batch=Batching())
        )


KILLED = """
import sys
from pathlib import Path
from evals import Batching, Options, evaluate
out = Path(sys.argv[3])
evaluate([sys.argv[1]], [f"m@{sys.argv[2]}"], options=Options(
    out=out, cache=out / "cache", say=lambda t: None, batch=Batching(poll_s=0.05, max_poll_s=0.05)))
"""


def test_a_run_killed_while_waiting_resumes_its_batch_without_submitting_again(
    steps_file: Path, fake: StubServer, batches: FakeBatches, tmp_path: Path
) -> None:
    batches.polls = 10**9  # the first batch does not finish while the process lives
    env = {**os.environ, "PATTERNS_STRUCTURED_MODE": "json_object"}
    log = tmp_path / "child.log"
    with log.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", KILLED, str(steps_file), fake.base_url, str(tmp_path)],
            env=env, stderr=stderr,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("steps/*/batch-*.json")) and time.monotonic() < deadline:
            assert child.poll() is None, log.read_text()
            time.sleep(0.05)
        time.sleep(0.2)  # it is polling now
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert batches.created == ["batch_1"]  # ids count files too: file_0 was the input
    batches.polls = 0
    found = batched(steps_file, fake, tmp_path)
    assert len(batches.created) == 3
    assert batches.created[0] == "batch_1"
    assert sorted(r.output for r in found.records) == [3, 4, 5, 6]  # type: ignore[type-var]
