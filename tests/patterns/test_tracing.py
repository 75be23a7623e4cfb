"""OpenTelemetry spans of a pattern run (the ``otel`` extra), replayed from the parallel
pattern's recorded run: a workflow span per pattern, a chat span per typed call, under
the span that ran it, with the conventions' attributes and no secret."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from patterns import LLM, Trace
from patterns.core._telemetry import tracer
from patterns.core.plumbing import span
from patterns.parallel import process_request
from patterns.router import on_calendar
from patterns.testing.stub import Reply, always, stub_server
from tests.calendars import office
from tests.conftest import WEDNESDAY

otel = pytest.importorskip("opentelemetry.sdk.trace", reason="the otel extra")
from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

KEY = "sk-live-" + "Q7" * 20


@pytest.fixture
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """The parallel pattern's own recordings: the same run, traced."""
    return str(Path(request.config.rootpath) / "cassettes/tests/patterns/test_parallel")


def attributes(found: ReadableSpan) -> dict[str, Any]:
    return dict(found.attributes or {})


def every_value(spans: list[ReadableSpan]) -> str:
    values: list[object] = []
    for found in spans:
        values += [found.name, *(found.attributes or {}).values()]
        for event in found.events:
            values += list((event.attributes or {}).values())
    return json.dumps(values, default=str)


@pytest.mark.vcr
@pytest.mark.default_cassette("test_a_valid_request_is_processed_and_changes_the_calendar.yaml")
async def test_a_pattern_run_is_a_workflow_span_with_a_chat_span_per_call(
    llm: LLM, exporter: InMemorySpanExporter
) -> None:
    result = await process_request(
        "Move the design review to Friday at 3pm.",
        then=on_calendar(office(), llm=llm, clock=WEDNESDAY),
        llm=llm,
    )
    assert result.outcome == "processed"
    spans = list(exporter.get_finished_spans())
    by_id = {s.context.span_id: s for s in spans}
    [parallel] = [s for s in spans if s.name == "invoke_workflow parallel"]
    [router] = [s for s in spans if s.name == "invoke_workflow router"]
    chats = [s for s in spans if s.name.startswith("chat ")]

    assert parallel.parent is None
    assert router.parent is not None
    assert router.parent.span_id == parallel.context.span_id
    assert attributes(parallel)["gen_ai.operation.name"] == "invoke_workflow"
    assert attributes(parallel)["gen_ai.agent.name"] == "parallel"
    assert attributes(parallel)["patterns.outcome"] == "processed"
    assert attributes(parallel)["gen_ai.usage.input_tokens"] == result.usage.prompt_tokens
    assert attributes(parallel)["gen_ai.usage.output_tokens"] == result.usage.completion_tokens

    # one chat span per typed call, in the run's order of steps, each under its pattern
    assert sorted(attributes(c)["patterns.step"] for c in chats) == sorted(
        c.step for c in result.calls
    )
    for chat in chats:
        step = attributes(chat)["patterns.step"]
        owner = parallel if step in ("validate", "security") else router
        assert chat.parent is not None
        assert by_id[chat.parent.span_id] is owner
        assert attributes(chat)["gen_ai.request.model"] == llm.model
        assert attributes(chat)["gen_ai.response.finish_reasons"] == ("stop",)
    assert sum(attributes(c)["gen_ai.usage.input_tokens"] for c in chats) == (
        result.usage.prompt_tokens
    )
    assert sum(attributes(c)["patterns.requests"] for c in chats) == result.usage.requests
    # no prompt and no answer in any attribute (content is opt-in in the conventions)
    assert "design review" not in every_value(spans).lower()


class Score(BaseModel):
    score: float


def test_a_failed_call_is_an_error_span_that_names_no_secret(
    exporter: InMemorySpanExporter,
) -> None:
    with stub_server(always(Reply(f"not json, and the key {KEY}"))) as stub:
        llm = LLM.from_env(base_url=stub.base_url, api_key=KEY, mode="json_object",
                           max_retries=0, validation_retries=1)  # fmt: skip
        with pytest.raises(Exception, match="no valid Score"):
            llm.parse(Score, system="Rate.", user="hi", step="rate", trace=Trace())
    [chat] = exporter.get_finished_spans()
    assert chat.status.status_code.name == "ERROR"
    assert attributes(chat)["error.type"] == "StructuredOutputError"
    assert (attributes(chat)["patterns.requests"], attributes(chat)["patterns.retries"]) == (2, 1)
    assert attributes(chat)["server.address"] == "127.0.0.1"
    assert KEY not in every_value([chat])
    assert not chat.events  # no exception event: its text would quote the answer


def test_attributes_pass_the_secret_scrub(exporter: InMemorySpanExporter) -> None:
    with span("checked", {"note": f"an answer that quotes {KEY}"}) as handle:
        handle.event("seen", {"detail": f"Bearer {KEY}"})
    [found] = exporter.get_finished_spans()
    assert KEY not in every_value([found])
    assert "[redacted]" in attributes(found)["note"]


def test_tracing_is_off_and_imports_nothing_unless_configured() -> None:
    code = (
        "import sys, patterns, evals\n"
        "from patterns.core._telemetry import tracer\n"
        "from patterns.core.plumbing import span\n"
        "with span('x') as handle: pass\n"
        "assert tracer() is None and handle.span is None\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')], 'imported'\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_global_provider_set_by_the_application_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    found = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(found))
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)  # what set_tracer_provider sets
    with span("from the application's provider"):
        pass
    assert [s.name for s in found.get_finished_spans()] == ["from the application's provider"]


class Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_otlp_endpoint_in_the_environment_receives_the_spans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from patterns.core import _telemetry

    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setattr(_telemetry, "_from_env", None)
    try:
        with span("sent over OTLP", {"patterns.step": "route"}):
            pass
        assert tracer() is not None
        assert _telemetry._from_env is not None
        _telemetry._from_env.force_flush()
    finally:
        server.shutdown()
        server.server_close()
        if _telemetry._from_env is not None:
            _telemetry._from_env.shutdown()
    [(path, body)] = Collector.received
    assert path == "/v1/traces"
    sent = ExportTraceServiceRequest.FromString(body)
    [resource] = sent.resource_spans
    [scope] = resource.scope_spans
    assert [s.name for s in scope.spans] == ["sent over OTLP"]
    assert scope.scope.name == "llm-workflow-patterns"
