"""What every benchmark shares: the row type, the stub endpoint, timed eval runs."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

from pydantic import BaseModel
from rich.console import Console

from evals import Options, Record, run_suite
from evals.evaluate import resolve_suites, run_sync
from evals.models import from_flag, load_models
from patterns.server import free_port

ROOT = Path(__file__).parents[1]
CASSETTE = (
    ROOT / "cassettes/tests/patterns/test_chain/test_a_clear_event_is_confirmed_end_to_end.yaml"
)
console = Console()


class Answer(BaseModel):
    ok: bool


ANSWER = {"ok": True}
REQUEST: dict[str, Any] = {
    "model": "bench",
    "messages": [{"role": "system", "content": "Answer."}, {"role": "user", "content": "hi"}],
    "temperature": 0.0,
    "max_tokens": 64,
    "response_format": {"type": "json_object", "schema": Answer.model_json_schema()},
}


class Row(TypedDict):
    """One benchmark figure against its limit (a line of the table and of bench.json)."""

    figure: str
    measured: str
    limit: str
    ratio: float
    target: str
    met: bool


def row(figure: str, measured: str, limit: str, ratio: float, target: str, met: bool) -> Row:
    return Row(
        figure=figure, measured=measured, limit=limit, ratio=round(ratio, 3), target=target, met=met
    )


@contextlib.contextmanager
def stub_process(
    delay: float = 0.0,
    answers: dict[str, Any] | None = None,
    tls: tuple[Path, Path] | None = None,
    content: dict[str, Any] = ANSWER,
    serial: bool = False,
) -> Iterator[str]:
    """The stub endpoint in its own process, so it does not share the client's CPU time;
    ``serial``: one request at a time, like a one-slot model server."""
    port = free_port()
    command = [sys.executable, "-m", "patterns.testing.stub", "--port", str(port),
               "--delay", str(delay), "--content", json.dumps(content)]  # fmt: skip
    if answers:
        command += ["--answers", json.dumps(answers)]
    if tls:
        command += ["--tls", *map(str, tls)]
    if serial:
        command.append("--serial")
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the stub endpoint did not start")
            time.sleep(0.05)
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait()


STUB_ANSWERS: dict[str, dict[str, Any]] = {
    "EventExtraction": {"description": "x", "is_calendar_event": True, "confidence_percent": 90},
    "RouteDecision": {"description": "x", "request_type": "other", "confidence_percent": 90},
    "Route": {"description": "x", "target": "other", "confidence_percent": 90},
    "CalendarValidation": {
        "description": "x",
        "is_calendar_request": False,
        "confidence_percent": 90,
    },
    "SecurityAnswer": {"verdict": "ordinary_request"},
    "Answer": ANSWER,
}


def synthetic_dataset(directory: Path, cases: int) -> Path:
    path = directory / "requests.yaml"
    path.write_text(
        "cases:\n"
        + "".join(
            f"- {{id: c{i:03d}, metadata: {{kind: k}}, input: 'Lunch on day {i}', "
            "expected: {calendar_event: true, route: new_event, safe: true}}\n"
            for i in range(cases)
        )
    )
    return path


@dataclasses.dataclass
class Eval:
    """One evaluation the benchmark times, as library arguments."""

    suites: list[str]
    out: Path
    models: list[str] = dataclasses.field(default_factory=list)
    """``--model`` forms (``NAME@BASE_URL``)."""
    models_file: Path | None = None
    dataset: Path | None = None
    concurrency: int | None = None
    cache: Path | None = None
    fresh: bool = True
    quick: bool = False

    def options(self) -> Options:
        return Options(
            out=self.out, fresh=self.fresh, cache=self.cache, quick=self.quick,
            concurrency=self.concurrency, say=lambda text: None,
        )  # fmt: skip


def eval_args(
    base_url: str, dataset: Path, out: Path, concurrency: int, cache: bool, model: str = "bench"
) -> Eval:
    return Eval(
        suites=["chain", "router", "parallel"], out=out, models=[f"{model}@{base_url}"],
        dataset=dataset, concurrency=concurrency, cache=out.parent / "cache" if cache else None,
    )  # fmt: skip


def timed_eval(spec: Eval) -> tuple[float, list[Record]]:
    """Seconds the harness takes to run every case (reports not included), and the records."""
    os.environ["PATTERNS_STRUCTURED_MODE"] = "json_object"
    suites = resolve_suites(spec.suites, spec.dataset)
    models = [from_flag(m) for m in spec.models]
    models += load_models(spec.models_file).models if spec.models_file else []
    options = spec.options()

    async def run_all() -> list[Record]:
        runs = [await run_suite(suite, models, None, options) for suite in suites]
        return [r for run in runs for r in run.records]

    started = time.perf_counter()
    found = run_sync(run_all())  # not asyncio.run: see run_sync
    return time.perf_counter() - started, found


def machine() -> dict[str, Any]:
    versions = {}
    for package in ("openai", "pydantic", "vcrpy", "syrupy", "httpx2", "llama-cpp-python"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[package] = importlib.metadata.version(package)
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }
