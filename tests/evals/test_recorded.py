"""Recorded calls as eval cases: a folder of cassettes becomes a dataset file that
``patterns-evals run --dataset`` takes, and a pydantic_evals dataset file is read as
written by pydantic_evals itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from evals.cli import main
from evals.data import load
from evals.recorded import RecordedError, cases_from_cassettes, write_dataset
from patterns.testing.stub import Reply, stub_server

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "prompt-regression" / "tests" / "cassettes"
KEY = "sk-" + "Hx" * 20

SUITE = """
from pathlib import Path

from pydantic import BaseModel

from evals import Accuracy, Equals, Suite, TaskContext
from patterns import LLM


class Summary(BaseModel):
    sentence: str
    topic: str


async def summarize(llm: LLM, text: str, context: TaskContext) -> Summary:
    return await llm.aparse(Summary, system="Summarise.", user=text, step="summarize",
                            trace=context.trace)


SUITE = Suite(
    name="summaries", dataset=Path(__file__).parent / "none.yaml", input_type=str,
    expected_type=Summary, task=summarize,
    checks=[Equals("topic", got=lambda o: o.topic, want=lambda e: e.topic)],
    measures=[Accuracy("topic")],
)
"""


def test_recorded_calls_become_a_dataset_that_a_run_takes(tmp_path: Path) -> None:
    dataset = tmp_path / "recorded.yaml"
    assert main(["cases-from-cassettes", str(EXAMPLE), "--out", str(dataset)]) == 0
    [case] = yaml.safe_load(dataset.read_text())["cases"]  # two cassettes, one request
    assert case["input"].startswith("The city council voted on Tuesday")
    assert case["expected"]["topic"] == "city council decision"
    assert case["metadata"]["review"] == "draft"
    assert case["split"] == "dev"
    assert dataset.read_text().startswith("# Cases from recorded calls")

    (tmp_path / "summaries.py").write_text(SUITE)
    recorded = json.dumps(case["expected"])
    with stub_server(lambda body: Reply(recorded)) as stub:
        code = main(["run", str(tmp_path / "summaries.py"), "--dataset", str(dataset),
                     "--model", f"stub@{stub.base_url}", "--out", str(tmp_path / "out"),
                     "--no-cache"])  # fmt: skip
    assert code == 0
    [results] = (tmp_path / "out").rglob("results.jsonl")
    [record] = [json.loads(line) for line in results.read_text().splitlines()]
    assert record["checks"]["topic"]["passed"] is True
    assert stub.requests[-1]["messages"][-1]["content"] == case["input"]


def interaction(body: dict[str, Any], answer: dict[str, Any], code: int = 200) -> dict[str, Any]:
    """One interaction as plain vcrpy writes it: bodies as JSON strings."""
    return {
        "request": {"method": "POST", "uri": "https://api.example/v1/chat/completions",
                    "body": json.dumps(body), "headers": {}},
        "response": {"status": {"code": code, "message": "OK"}, "headers": {},
                     "body": {"string": json.dumps(answer)}},
    }  # fmt: skip


def completion(message: dict[str, Any]) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}  # fmt: skip


def request(user: str) -> dict[str, Any]:
    return {"model": "gpt-x", "messages": [{"role": "system", "content": "Book it."},
                                           {"role": "user", "content": user}]}  # fmt: skip


def test_plain_vcrpy_cassettes_tool_calls_and_what_is_not_a_case(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    (folder / "deep").mkdir(parents=True)
    tool = {"role": "assistant", "content": None, "tool_calls": [{"id": "t", "type": "function",
            "function": {"name": "create_event", "arguments": '{"day": "Friday"}'}}]}  # fmt: skip
    cassette = {"version": 1, "interactions": [
        interaction(request("Lunch on Friday"), completion(tool)),
        interaction(request(f"Tea, key {KEY}"), completion({"role": "assistant",
                                                            "content": "plain text"})),
        interaction(request("refused"), {"error": "rate limited"}, code=429),
    ]}  # fmt: skip
    (folder / "deep" / "a.yaml").write_text(yaml.safe_dump(cassette))
    (folder / "broken.yaml").write_text("interactions: [unclosed")
    (folder / "other.yaml").write_text("just: a mapping")

    found = cases_from_cassettes(folder)
    assert [c["expected"] for c in found.cases] == [
        {"tool": "create_event", "arguments": {"day": "Friday"}},
        "plain text",
    ]
    assert found.cases[0]["id"] == "deep/a#1"
    assert KEY not in json.dumps(found.cases)
    assert found.cases[1]["input"] == "Tea, key [redacted]"
    assert len(found.skipped) == 2
    assert any("broken.yaml: not valid YAML" in s for s in found.skipped)

    out = tmp_path / "cases.jsonl"
    write_dataset(found, out)
    assert [c.id for c in load(out, str, object).cases] == ["deep/a#1", "deep/a#2"]
    with pytest.raises(RecordedError, match="already exists"):
        write_dataset(found, out)
    with pytest.raises(RecordedError, match="no cassette"):
        cases_from_cassettes(tmp_path / "empty")


class Answer(BaseModel):
    category: str
    urgent: bool


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_pydantic_evals_dataset_file_is_read(tmp_path: Path, suffix: str) -> None:
    pydantic_evals = pytest.importorskip("pydantic_evals")
    from pydantic_evals.evaluators import EqualsExpected

    written = pydantic_evals.Dataset[str, Answer, Any](
        name="tickets",
        cases=[
            pydantic_evals.Case(name="refund", inputs="I want my money back",
                                expected_output=Answer(category="billing", urgent=False),
                                metadata={"channel": "email", "split": "dev"},
                                evaluators=[EqualsExpected()]),
            pydantic_evals.Case(inputs="The app crashes", metadata={"channel": "chat"}),
        ],
        evaluators=[EqualsExpected()],
    )  # fmt: skip
    path = tmp_path / f"tickets{suffix}"
    written.to_file(path)

    dataset = load(path, str, Answer)
    refund, second = dataset.cases
    assert (refund.id, refund.input, refund.split) == ("refund", "I want my money back", "dev")
    assert refund.expected == Answer(category="billing", urgent=False)
    assert refund.metadata == {"channel": "email", "split": "dev"}
    assert (second.id, second.expected, second.split) == ("Case 2", None, "test")
    assert dataset.settings["name"] == "tickets"
    assert "refund" in dataset.settings["case_evaluators"]  # type: ignore[operator]
