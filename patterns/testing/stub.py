"""A scripted OpenAI-compatible chat endpoint on 127.0.0.1, for tests and benchmarks
that need exact, repeatable model behaviour (bad answers, faults, delays) without a model.

    with stub_server(always(Reply('{"ok": true}', delay_s=0.1))) as stub:
        llm = LLM.from_env(base_url=stub.base_url, mode="json_object")

``python -m patterns.testing.stub --port N --delay S`` serves one fixed answer from its own
process (benchmarks use it so the server does not share the client's CPU time).
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..core import LLM
from ._batches import FakeBatches

__all__ = ["FakeBatches", "Reply", "StubServer", "always", "by_schema", "completion",
           "schema_title", "stub_server"]  # fmt: skip


@dataclass
class Reply:
    content: str = "{}"
    status: int = 200
    delay_s: float = 0.0
    finish_reason: str = "stop"
    prompt_tokens: int = 10
    completion_tokens: int = 5
    tool_call: tuple[str, str] | None = None
    """(function name, arguments JSON): answer with a tool call instead of text."""
    refusal: str | None = None
    no_choices: bool = False
    raw_body: bytes | None = None
    """Sent as is instead of a completion (e.g. JSON cut off mid-way)."""
    drop: bool = False
    """Close the connection without answering."""
    headers: dict[str, str] = field(default_factory=dict)
    trickle_s: float = 0.0
    """Send the body one byte at a time, this long apart (a slow or hostile server)."""


@dataclass
class StubServer:
    script: Callable[[dict[str, Any]], Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    """Each request's headers (lower-case names), in order."""
    base_url: str = ""
    started: list[float] = field(default_factory=list)
    connections: int = 0
    answered: int = 0
    """Connections accepted (a client that keeps connections alive opens few)."""

    def llm(self, **options: Any) -> LLM:
        """An ``LLM`` on this stub: ``json_object`` mode, no SDK retries, unless told."""
        return LLM.from_env(
            base_url=self.base_url,
            **{"mode": "json_object", "max_retries": 0, **options},
        )


def completion(reply: Reply, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.content,
        "refusal": reply.refusal,
    }
    if reply.tool_call:
        name, arguments = reply.tool_call
        function = {"name": name, "arguments": arguments}
        message["content"] = None
        message["tool_calls"] = [{"id": "call_1", "type": "function", "function": function}]
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": []
        if reply.no_choices
        else [{"index": 0, "finish_reason": reply.finish_reason, "message": message}],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many clients at once (the default backlog of 5 refuses them)
    daemon_threads = True
    block_on_close = False  # a hanging handler must not hold up the test


@contextmanager
def stub_server(
    script: Callable[[dict[str, Any]], Reply],
    port: int = 0,
    *,
    keep_alive: bool = False,
    record: bool = True,
    tls: ssl.SSLContext | None = None,
    serial: bool = False,
    batches: FakeBatches | None = None,
) -> Iterator[StubServer]:
    """``record=False`` keeps counts only (a long benchmark); ``tls`` serves HTTPS;
    ``serial`` answers one chat request at a time (like a one-slot model server);
    ``batches`` adds the files and batches endpoints (``FakeBatches``)."""
    stub = StubServer(script)
    one_at_a_time = threading.Lock() if serial else contextlib.nullcontext()

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        return completion(stub.script(body), body.get("model", "stub"))

    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, like a real endpoint (benchmarks); tests close each connection so
        # clients they never close leave no socket behind.
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
        disable_nagle_algorithm = True  # small writes must not wait for delayed ACKs

        def setup(self) -> None:
            stub.connections += 1
            super().setup()

        def do_GET(self) -> None:
            """``/stats``: requests answered and connections accepted so far."""
            if batches is not None and batches.handles(self.path):
                found, status = batches.get(self.path, answer)
                self._send(status, found)
                return
            self._send(200, {"requests": stub.answered, "connections": stub.connections})

        def _send(self, status: int, data: dict[str, Any] | bytes) -> None:
            payload = data if isinstance(data, bytes) else json.dumps(data).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["content-length"]))
            if batches is not None and batches.handles(self.path):
                self._send(200, batches.post(self.path, self.headers["content-type"], raw, answer))
                return
            with one_at_a_time:
                self._chat(json.loads(raw))

        def _chat(self, body: dict[str, Any]) -> None:
            stub.answered += 1
            if record:
                stub.requests.append(body)
                stub.headers.append({k.lower(): v for k, v in self.headers.items()})
                stub.started.append(time.perf_counter())
            reply = stub.script(body)
            time.sleep(reply.delay_s)
            if reply.drop:
                self.close_connection = True
                return
            if reply.raw_body is not None:
                payload = reply.raw_body
            elif reply.status != 200:
                payload = json.dumps({"error": {"message": reply.content, "type": "stub"}}).encode()
            else:
                payload = json.dumps(completion(reply, body.get("model", "stub"))).encode()
            try:
                self.send_response(reply.status)
                for name, value in {"content-type": "application/json", **reply.headers}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                if reply.trickle_s:
                    for i in range(len(payload)):
                        self.wfile.write(payload[i : i + 1])
                        self.wfile.flush()
                        time.sleep(reply.trickle_s)
                else:
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

        def log_message(self, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", port), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls else "http"
    stub.base_url = f"{scheme}://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


def always(*replies: Reply) -> Callable[[dict[str, Any]], Reply]:
    """A script that plays ``replies`` in order, repeating the last one."""
    played = iter(replies)
    last = replies[-1]

    def script(_: dict[str, Any]) -> Reply:
        return next(played, last)

    return script


def by_schema(**replies: Callable[[dict[str, Any]], Reply]) -> Callable[[dict[str, Any]], Reply]:
    """A script that answers by the title of the requested schema (json_object mode)."""

    def script(body: dict[str, Any]) -> Reply:
        return replies[body["response_format"]["schema"]["title"]](body)

    return script


def schema_title(body: dict[str, Any]) -> str:
    return str(body["response_format"]["schema"]["title"])


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="serve a fixed chat completion")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--content", default='{"ok": true}')
    parser.add_argument("--answers", help="JSON: schema title -> answer, to answer by schema")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS")
    parser.add_argument("--serial", action="store_true", help="one request at a time")
    args = parser.parse_args()
    tls = None
    if args.tls:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(*args.tls)
    script = always(Reply(args.content, delay_s=args.delay))
    if args.answers:
        script = by_schema(
            **{
                title: always(Reply(json.dumps(answer), delay_s=args.delay))
                for title, answer in json.loads(args.answers).items()
            }
        )
    with stub_server(
        script, port=args.port, keep_alive=True, record=False, tls=tls, serial=args.serial
    ):
        threading.Event().wait()


if __name__ == "__main__":
    main()
