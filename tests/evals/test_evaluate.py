"""A complete evaluation from Python (``evaluate()``): a user's suite with a measure of
their own, a baseline, floors on interval bounds and the regression gate; the same
through the command line gives the same numbers."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from evals import (
    Check,
    CheckResult,
    EvalError,
    Mean,
    Options,
    Proportion,
    Record,
    Report,
    Suite,
    compare_runs,
    evaluate,
)
from evals.cli import main
from evals.suite import load_suites
from patterns.testing.stub import StubServer, stub_server
from tests.evals.test_library import model_answer


class ShortAnswers(Proportion):
    """A user's own measure: the share of cases whose answer fits in 80 characters."""

    def __init__(self) -> None:
        super().__init__(name="triage.short_answers")

    def outcome(self, record: Record) -> bool | None:
        return len(json.dumps(record.output)) <= 80


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with stub_server(model_answer) as server:
        yield server


def with_measure(path: Path) -> list[Suite[Any, Any]]:
    suite = load_suites(path)[0]
    return [
        dataclasses.replace(suite, measures=[*suite.measures, ShortAnswers()], origin=str(path))
    ]


def options(out: Path) -> Options:
    return Options(out=out, cache=None, say=lambda text: None)


@pytest.fixture(autouse=True)
def _json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATTERNS_STRUCTURED_MODE", "json_object")


def test_a_users_measure_is_reported_compared_and_floored_from_python(
    suite_file: Path, stub: StubServer, tmp_path: Path
) -> None:
    model = f"stub@{stub.base_url}"
    first = evaluate(with_measure(suite_file), [model], options=options(tmp_path / "a"))
    assert first.ok
    short = first.metric("stub", "triage.short_answers")
    assert short is not None
    assert short.estimate.value == 1.0

    second = evaluate(
        with_measure(suite_file),
        [model],
        options=options(tmp_path / "b"),
        baseline=tmp_path / "a",
        floors=["triage.short_answers.low<0.9", "category.accuracy<0.5"],
    )
    rows = {d.name: d for d in second.comparisons[0].deltas}
    assert rows["triage.short_answers"].pairs == 8
    assert rows["triage.short_answers"].delta.value == 0
    # 8 of 8 short answers: 1.00 [0.63, 1.00] (Clopper-Pearson); its low bound is under
    # the floor of 0.9
    assert second.failed == [
        "triage / stub: triage.short_answers (low of 1.00 [0.63, 1.00]) = 0.631 "
        "(triage.short_answers.low<0.9 fails)"
    ]
    assert (tmp_path / "b" / "report.md") in second.files


def test_the_command_line_gives_the_same_numbers(
    suite_file: Path, stub: StubServer, tmp_path: Path
) -> None:
    model = f"stub@{stub.base_url}"
    found = evaluate([suite_file], [model], options=options(tmp_path / "lib"))
    code = main(["run", str(suite_file), "--model", model, "--out", str(tmp_path / "cli"),
                 "--no-cache"])  # fmt: skip
    assert code == 0
    summary = json.loads((tmp_path / "cli" / "summary.json").read_text())
    cli_metrics = {
        m["name"]: m["estimate"] for m in summary["suites"][0]["models"]["stub"]["metrics"]
    }
    for metric in found.summary.suites[0].models["stub"].metrics:
        assert cli_metrics[metric.name] == dataclasses.asdict(metric.estimate)


def a_prompt_made_worse(
    suite_file: Path, tmp_path: Path, fail_on_regression: float | None = None
) -> Report:
    """The prompt with its urgency rule, then without it, against the first run."""
    fixed = suite_file.read_text().replace(
        'or other."', 'or other. Urgent means a customer cannot work."'
    )
    with stub_server(model_answer) as stub:
        suite_file.write_text(fixed)
        evaluate([suite_file], [f"stub@{stub.base_url}"], options=options(tmp_path / "good"))
        suite_file.write_text(fixed.replace(" Urgent means a customer cannot work.", ""))
        return evaluate(
            [suite_file], [f"stub@{stub.base_url}"], options=options(tmp_path / "bad"),
            baseline=tmp_path / "good", fail_on_regression=fail_on_regression,
        )  # fmt: skip


def test_a_significant_regression_fails_the_gate_and_noise_does_not(
    suite_file: Path, tmp_path: Path
) -> None:
    worse = a_prompt_made_worse(suite_file, tmp_path, fail_on_regression=0.05)
    # 2 of 8 cases broke: McNemar p = 0.5, not significant: the gate holds
    assert worse.ok
    strict = [d for d in worse.comparisons[0].deltas if d.worse]
    assert {d.name for d in strict} >= {"category.accuracy"}
    assert all(d.p_value >= 0.05 for d in strict)


def test_the_regression_gate_needs_something_to_compare_with(
    suite_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(EvalError, match="needs --baseline"):
        evaluate([suite_file], ["m@http://127.0.0.1:9/v1"], fail_on_regression=0.05,
                 options=options(tmp_path))  # fmt: skip


def test_compare_works_for_any_suite_and_refuses_runs_of_another(
    suite_file: Path, stub: StubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = f"stub@{stub.base_url}"
    evaluate([suite_file], [model], options=options(tmp_path / "a"))
    evaluate([suite_file], [model], options=options(tmp_path / "b"))
    found = compare_runs(tmp_path / "a", tmp_path / "b")
    names = {d.name for d in found[0].deltas}
    assert {"category.accuracy", "urgent.accuracy", "usage.error_rate"} <= names
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "category.accuracy" in capsys.readouterr().out

    other = suite_file.parent / "other.py"
    other.write_text(suite_file.read_text().replace('name="triage"', 'name="other"'))
    evaluate([other], [model], options=options(tmp_path / "c"))
    with pytest.raises(EvalError, match="no suite was run in both"):
        compare_runs(tmp_path / "a", tmp_path / "c")
    baseline = str(tmp_path / "a")
    assert main(["run", str(other), "--model", model, "--out", str(tmp_path / "d"),
                 "--baseline", baseline]) == 2  # fmt: skip


def nan_score(case: object, output: object) -> CheckResult:
    return CheckResult(value=0.5, score=math.nan)


def test_a_check_that_gives_nan_is_that_cases_recorded_error(
    suite_file: Path, stub: StubServer, tmp_path: Path
) -> None:
    suite = load_suites(suite_file)[0]
    broken = dataclasses.replace(
        suite,
        checks=[*suite.checks, Check("odd", nan_score)],
        measures=[*suite.measures, Mean("odd")],
    )
    found = evaluate(
        [broken], [f"stub@{stub.base_url}"], options=options(tmp_path), max_error_rate=1
    )
    errors: Sequence[str | None] = [r.error for r in found.records]
    assert all(
        e is not None and "check 'odd' gave score nan: not a finite number" in e for e in errors
    )


def test_a_failing_case_shows_its_prompt_and_raw_answer_and_both_sides_of_a_change(
    suite_file: Path, tmp_path: Path
) -> None:
    worse = a_prompt_made_worse(suite_file, tmp_path)
    failing = next(r for r in worse.records if r.case == "t06")
    assert not failing.transcript  # left on disk: read when asked for
    sent = failing.exchanges()
    assert sent[0].messages[0].role == "system"
    assert sent[0].messages[0].content.startswith("You sort customer support")
    assert sent[0].answer == '{"category": "other", "urgent": false}'
    assert sent[0].finish_reason == "stop"
    page = (tmp_path / "bad" / "report.html").read_text()
    assert "You sort customer support tickets." in page
    assert "{&quot;category&quot;: &quot;other&quot;, &quot;urgent&quot;: false}" in page
    assert "Side by side: baseline stub | stub" in page
    pair = worse.comparisons[0].changed[0]
    assert pair.kind == "regression"
    assert "Urgent means" in pair.before.exchanges()[0].messages[0].content
    assert "Urgent means" not in pair.after.exchanges()[0].messages[0].content
    summary = (tmp_path / "bad" / "summary.md").read_text().splitlines()
    assert len(summary) <= 60
    assert any(line.startswith("- t0") and "regression" not in line for line in summary)


def test_a_check_no_measure_reads_is_reported_as_its_pass_rate(
    suite_file: Path, stub: StubServer, tmp_path: Path
) -> None:
    suite = load_suites(suite_file)[0]

    def short(case: object, output: Any) -> CheckResult:
        return CheckResult.of(len(output.category) <= 5)

    unmeasured = dataclasses.replace(suite, checks=[*suite.checks, Check("short", short)])
    found = evaluate([unmeasured], [f"stub@{stub.base_url}"], options=options(tmp_path))
    rate = found.metric("stub", "short.pass_rate")
    assert rate is not None
    records = found.runs[0].records
    assert rate.estimate.value == sum(bool(r.checks["short"].passed) for r in records) / 8
    assert 0 < rate.estimate.value < 1  # "bug", "other" pass; "billing", "feature" fail
    assert found.metric("stub", "category.pass_rate") is None  # Multiclass reads it
    assert "short.pass_rate" in (tmp_path / "report.md").read_text()


def test_models_compared_beside_a_suite_of_deterministic_code(
    suite_file: Path, stub: StubServer, tmp_path: Path
) -> None:
    triage = load_suites(suite_file)[0]

    async def upper(llm: object, text: str, context: object) -> str:
        return text.upper()

    code_only = dataclasses.replace(
        triage, name="code", task=upper, uses_model=False, checks=[], measures=[]
    )
    found = evaluate([triage, code_only], [f"strong@{stub.base_url}", f"other@{stub.base_url}"],
                     options=options(tmp_path), compare_models=True)  # fmt: skip
    [comparison] = found.comparisons  # the model suite's two models; the code has no rival
    assert (comparison.before, comparison.after) == ("strong", "other")
    assert comparison.pairs == 8
