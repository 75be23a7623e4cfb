"""A suite's worked examples: the dataset's other dev-split cases, whatever the run
selects, never a test case and never the case itself; part of the run's identity."""

from __future__ import annotations

from pathlib import Path

import yaml

from evals import Options, Suite, evaluate
from evals.suite import TaskContext
from patterns import LLM
from patterns.core import nearest

CASES = [
    {"id": "d1", "split": "dev", "input": "move the standup", "expected": "modify"},
    {"id": "d2", "split": "dev", "input": "lunch with Ana", "expected": "new"},
    {"id": "d3", "split": "dev", "input": "what is the weather", "expected": "other"},
    {"id": "t1", "split": "test", "input": "dinner with Sam", "expected": "new"},
]


UNUSED = ["m@http://127.0.0.1:9/v1"]
"""The suites run code, not a model: never contacted."""


async def shown(llm: LLM, text: str, context: TaskContext) -> list[str]:
    return [case.id for case in context.examples]


def suite(path: Path) -> Suite[str, list[str]]:
    return Suite(
        name="examples",
        dataset=path,
        task=shown,
        expected_type=str,
        uses_model=False,
        examples=True,
    )


def run(path: Path, out: Path, **selection: object) -> dict[str, list[str]]:
    found = evaluate(
        [suite(path)], UNUSED, options=Options(out=out, cache=None, say=lambda t: None, **selection)
    )  # type: ignore[arg-type]
    return {r.case: r.output for r in found.records}  # type: ignore[misc]


def test_each_case_sees_the_other_dev_cases_only(tmp_path: Path) -> None:
    data = tmp_path / "cases.yaml"
    data.write_text(yaml.safe_dump({"cases": CASES}))
    assert run(data, tmp_path / "a") == {
        "d1": ["d2", "d3"], "d2": ["d1", "d3"], "d3": ["d1", "d2"], "t1": ["d1", "d2", "d3"],
    }  # fmt: skip
    # a run of the test split alone still shows the dev split
    assert run(data, tmp_path / "b", splits={"test"}) == {"t1": ["d1", "d2", "d3"]}


def test_a_changed_dev_case_starts_a_new_run_of_the_test_split(tmp_path: Path) -> None:
    data = tmp_path / "cases.yaml"
    data.write_text(yaml.safe_dump({"cases": CASES}))
    test_only = Options(out=tmp_path, cache=None, splits={"test"}, say=lambda t: None)
    first = evaluate([suite(data)], UNUSED, options=test_only)
    changed = [dict(c, input="cancel the standup") if c["id"] == "d1" else c for c in CASES]
    data.write_text(yaml.safe_dump({"cases": changed}))
    second = evaluate([suite(data)], UNUSED, options=test_only)
    assert first.runs[0].directory != second.runs[0].directory


def test_a_suite_without_examples_shows_none(tmp_path: Path) -> None:
    data = tmp_path / "cases.yaml"
    data.write_text(yaml.safe_dump({"cases": CASES}))
    plain = Suite(name="plain", dataset=data, task=shown, expected_type=str, uses_model=False)
    found = evaluate([plain], UNUSED, options=Options(out=tmp_path, cache=None, say=lambda t: None))
    assert all(r.output == [] for r in found.records)


def test_the_nearest_examples_share_the_rarest_words_nearest_last() -> None:
    bank = ["move the standup to 10", "lunch with Ana on Friday", "what is the weather",
            "move the dentist appointment"]  # fmt: skip
    assert nearest("Move the standup to Friday", bank, 2, str) == [
        "move the dentist appointment",
        "move the standup to 10",
    ]
    # ties keep the bank's order; k larger than the bank shows all of it
    assert nearest("nothing shared", bank, 9, str) == list(reversed(bank))
