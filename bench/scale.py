"""The harness at scale: a 100,000-case dataset loaded, run against the stub and reported;
connections kept alive over plain HTTP and TLS."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evals.evaluate import evaluate, resolve_suites
from evals.suite import Suite
from patterns.testing.stub import Reply, always, stub_server

from .common import STUB_ANSWERS, Eval, Row, row, stub_process, timed_eval
from .harness import bare_async_rate

ROUTE = STUB_ANSWERS["RouteDecision"]
"""The stub's one answer (the one-call suite's schema)."""
ONECALL = str(Path(__file__).parent / "onecall.py")
"""The one-call suite (a typed call and an exact check per case), run as a user's suite."""


def write_dataset(directory: Path, cases: int, name: str = "requests") -> Path:
    """``cases`` requests for the one-call suite, as JSON Lines."""
    path = directory / f"{name}.jsonl"
    with path.open("w") as out:
        for i in range(cases):
            case = {"id": f"c{i:06d}", "input": f"Lunch on day {i}", "expected": "other"}
            out.write(json.dumps(case) + "\n")
    return path


def _onecall(model: str, dataset: Path, out: Path, concurrency: int | None) -> Eval:
    return Eval(suites=[ONECALL], models=[model], dataset=dataset, out=out, concurrency=concurrency)


def onecall_request() -> dict[str, Any]:
    """The request body the harness sends for one case of the one-call suite (the bare
    SDK sends the same), captured from an in-process stub."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        stub_server(always(Reply(json.dumps(ROUTE)))) as stub,
    ):
        dataset = write_dataset(Path(tmp), 1)
        timed_eval(_onecall(f"bench@{stub.base_url}", dataset, Path(tmp) / "r", None))
        return stub.requests[0]


def scale(cases: int = 100_000, concurrency: int = 64) -> list[Row]:
    """Load, run and report ``cases`` one-call cases; the run against the bare SDK's rate
    on the same stub (in its own process) in the same minute."""
    with tempfile.TemporaryDirectory() as tmp, stub_process(content=ROUTE) as base_url:
        dataset = write_dataset(Path(tmp), cases)
        suite = resolve_suites([ONECALL], dataset)[0]
        started = time.perf_counter()
        loaded = Suite.load(suite)
        load_s = time.perf_counter() - started
        assert len(loaded.cases) == cases
        out = Path(tmp) / "runs"
        spec = _onecall(f"bench@{base_url}", dataset, out, concurrency)
        run_s, found = timed_eval(spec)
        bare = bare_async_rate(base_url, min(cases, 20_000), concurrency, request=onecall_request())
        started = time.perf_counter()
        evaluate(spec.suites, spec.models, dataset=dataset, options=spec.options(),
                 report_only=True)  # fmt: skip
        report_s = time.perf_counter() - started
        html_mb = (out / "report.html").stat().st_size / 1e6
    rate = len(found) / run_s
    return [
        row(f"{cases:,}-case dataset: load and validate (JSON Lines)", f"{load_s:.1f} s",
            "10 s", load_s / 10, "<= 1", load_s <= 10),
        row(f"{cases:,} one-call cases against the stub, {concurrency} in flight",
            f"{rate:.0f} calls/s ({run_s:.0f} s)", f"bare SDK (post) {bare:.0f} calls/s",
            rate / bare, ">= 0.95", rate / bare >= 0.95),
        row(f"{cases:,}-case run: report (read results, metrics, 5 reports; HTML "
            f"{html_mb:.1f} MB)", f"{report_s:.1f} s", "10 s", report_s / 10, "<= 1",
            report_s <= 10),
    ]  # fmt: skip


@contextlib.contextmanager
def tls_stub() -> Iterator[str]:
    """The stub over HTTPS with a throwaway self-signed certificate, trusted by the
    clients through ``SSL_CERT_FILE`` (openai, httpx and Node read it)."""
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        saved = {k: os.environ.get(k) for k in ("SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS")}
        os.environ["SSL_CERT_FILE"] = os.environ["NODE_EXTRA_CA_CERTS"] = str(cert)
        try:
            with stub_process(content=ROUTE, tls=(cert, key)) as base_url:
                yield base_url
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def stats(base_url: str) -> dict[str, int]:
    """Requests answered and connections accepted by the stub so far."""
    url = base_url.removesuffix("/v1") + "/stats"
    with urllib.request.urlopen(url, timeout=10) as answer:
        counts: dict[str, int] = json.loads(answer.read())
    return counts


def connections(cases: int = 2000, concurrency: int = 64) -> list[Row]:
    """Connections the harness opens for ``cases`` one-call cases at ``concurrency``: one
    per case in flight is the limit (each new one is a TCP, and remotely a TLS,
    handshake); over plain HTTP and over TLS, with the bare SDK's rate beside it."""
    rows = []
    for scheme, endpoint in (("HTTP", _plain_stub), ("TLS", tls_stub)):
        with endpoint() as base_url, tempfile.TemporaryDirectory() as tmp:
            dataset = write_dataset(Path(tmp), cases)
            before = stats(base_url)
            spec = _onecall(f"bench@{base_url}", dataset, Path(tmp) / "runs", concurrency)
            run_s, found = timed_eval(spec)
            opened = stats(base_url)["connections"] - before["connections"] - 1  # this ask
            bare = bare_async_rate(base_url, cases, concurrency, request=onecall_request())
        rate = len(found) / run_s
        rows.append(
            row(
                f"{scheme}: connections opened for {cases:,} calls, {concurrency} in flight",
                f"{opened} ({rate:.0f} calls/s; bare SDK (post) {bare:.0f})",
                f"{concurrency}",
                opened / concurrency,
                "<= 1.1",
                opened <= concurrency * 1.1,
            )
        )
    return rows


@contextlib.contextmanager
def _plain_stub() -> Iterator[str]:
    with stub_process(content=ROUTE) as base_url:
        yield base_url
