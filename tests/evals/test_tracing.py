"""An evaluation's OpenTelemetry spans (the ``otel`` extra): a span per suite run, one
per case under it with the task's own chat spans, and one ``gen_ai.evaluation.result``
event per check, with no secret in any attribute."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from evals import CheckResult, Options, evaluate
from evals.checks import Check
from evals.suite import load_suites
from patterns.testing.stub import stub_server
from tests.evals.test_library import model_answer

pytest.importorskip("opentelemetry.sdk.trace", reason="the otel extra")
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

KEY = "sk-proj-" + "Zq" * 20


def quoting_a_key(case: object, output: object) -> CheckResult:
    """A check whose reason quotes a key (as a model's answer might)."""
    return CheckResult.of(False, reason=f"the answer quoted {KEY}")


def test_an_evaluation_is_a_span_per_case_with_an_event_per_check(
    suite_file: Path, tmp_path: Path, exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("PATTERNS_STRUCTURED_MODE", "json_object")
    suite = load_suites(suite_file)[0]
    suite = dataclasses.replace(suite, checks=[*suite.checks, Check("leaky", quoting_a_key)])
    with stub_server(model_answer) as stub:
        quiet = Options(out=tmp_path, cache=None, say=lambda t: None)
        report = evaluate([suite], [f"stub@{stub.base_url}"], options=quiet)
    records = report.runs[0].records
    spans = list(exporter.get_finished_spans())
    [run] = [s for s in spans if s.name == "eval_run triage"]
    cases = [s for s in spans if s.name == "eval_case triage"]
    chats = [s for s in spans if s.name.startswith("chat ")]

    assert run.parent is None
    assert len(cases) == len(records) == 8
    assert all(c.parent is not None and c.parent.span_id == run.context.span_id for c in cases)
    by_case = {dict(c.attributes or {})["patterns.case"]: c for c in cases}
    assert set(by_case) == {r.case for r in records}
    case_ids = {c.context.span_id for c in cases}
    assert len(chats) == 8
    assert all(c.parent and c.parent.span_id in case_ids for c in chats)

    for record in records:
        found = by_case[record.case]
        events = {
            dict(e.attributes or {})["gen_ai.evaluation.name"]: dict(e.attributes or {})
            for e in found.events
            if e.name == "gen_ai.evaluation.result"
        }
        assert set(events) == {"category", "urgent", "leaky"}
        for name, result in record.checks.items():
            label = "pass" if result.passed else "fail"
            assert events[name]["gen_ai.evaluation.score.label"] == label
            assert events[name]["gen_ai.evaluation.score.value"] == float(bool(result.passed))
        attributes = dict(found.attributes or {})
        assert attributes["gen_ai.usage.input_tokens"] == record.usage.prompt_tokens
        assert attributes["gen_ai.request.model"] == "stub"

    text = json.dumps(
        [[s.attributes, [e.attributes for e in s.events]] for s in spans], default=str
    )
    assert KEY not in text
    assert "the answer quoted [redacted]" in text
