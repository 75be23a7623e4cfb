"""A fake of the OpenAI files and batches endpoints, part of the stub server: a batch's
input lines are answered by the stub's own script when the batch finishes.

    batches = FakeBatches(polls=2)          # "in_progress" for 2 polls, then done
    with stub_server(script, batches=batches) as stub: ...

Faults: ``expire_first=K``: the first batch answers K lines and expires (the rest get
the ``batch_expired`` error); ``fail`` picks lines answered with an error; ``reject``
fails the whole batch at validation; ``hostile`` lines are added to every output file.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Answer = Callable[[dict[str, Any]], dict[str, Any]]
"""A chat request body -> a chat completion (the stub's script)."""


@dataclass
class FakeBatches:
    polls: int = 0
    """Polls a batch answers ``in_progress`` before it finishes."""
    expire_first: int | None = None
    fail: Callable[[dict[str, Any]], bool] = lambda body: False
    reject: bool = False
    hostile: list[str] = field(default_factory=list)
    """Raw lines added to every output file (a provider's malformed or foreign lines)."""
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    """Batch ids in the order they were created (a resumed run must not add one)."""
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handles(self, path: str) -> bool:
        return "/files" in path or "/batches" in path

    def post(self, path: str, content_type: str, body: bytes, answer: Answer) -> dict[str, Any]:
        with self._lock:
            if path.endswith("/files"):
                return self._upload(content_type, body)
            request = json.loads(body)
            number = next(self._ids)
            batch = {
                "id": f"batch_{number}", "object": "batch", "endpoint": request["endpoint"],
                "input_file_id": request["input_file_id"], "completion_window": "24h",
                "status": "validating", "created_at": 0, "output_file_id": None,
                "error_file_id": None, "errors": None, "polls": 0,
            }  # fmt: skip
            self.batches[batch["id"]] = batch
            self.created.append(batch["id"])
            return _public(batch)

    def get(self, path: str, answer: Answer) -> tuple[dict[str, Any] | bytes, int]:
        with self._lock:
            parts = path.rstrip("/").split("/")
            if parts[-1] == "content" and parts[-2] in self.files:
                return self.files[parts[-2]], 200
            if parts[-1] in self.batches:
                batch = self.batches[parts[-1]]
                self._advance(batch, answer)
                return _public(batch), 200
            return {"error": {"message": f"no such object: {path}"}}, 404

    def _upload(self, content_type: str, body: bytes) -> dict[str, Any]:
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"content-type: {content_type}\r\n\r\n".encode() + body
        )
        data = b""
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
        return self._file(data)

    def _file(self, data: bytes) -> dict[str, Any]:
        file_id = f"file_{next(self._ids)}"
        self.files[file_id] = data
        return {"id": file_id, "object": "file", "bytes": len(data), "created_at": 0,
                "filename": "batch.jsonl", "purpose": "batch", "status": "processed"}  # fmt: skip

    def _advance(self, batch: dict[str, Any], answer: Answer) -> None:
        if batch["status"] not in ("validating", "in_progress"):
            return
        batch["polls"] += 1
        if self.reject:
            batch["status"] = "failed"
            batch["errors"] = {"object": "list", "data": [{"code": "invalid", "message": "bad"}]}
            return
        if batch["polls"] <= self.polls:
            batch["status"] = "in_progress"
            return
        lines = [json.loads(x) for x in self.files[batch["input_file_id"]].splitlines() if x]
        expire = self.expire_first if batch["id"] == self.created[0] else None
        done, errors = [], []
        for index, line in enumerate(lines):
            head = {"id": f"req_{index}", "custom_id": line["custom_id"]}
            if expire is not None and index >= expire:
                error = {"code": "batch_expired", "message": "This request could not be executed"}
                errors.append({**head, "response": None, "error": error})
            elif self.fail(line["body"]):
                body = {"error": {"message": "the fake failed this line", "type": "server_error"}}
                errors.append(
                    {**head, "response": {"status_code": 500, "body": body}, "error": None}
                )
            else:
                response = {"status_code": 200, "request_id": "r", "body": answer(line["body"])}
                done.append({**head, "response": response, "error": None})
        if done or self.hostile:
            extra = "".join(line + "\n" for line in self.hostile).encode()
            batch["output_file_id"] = self._file(_jsonl(done) + extra)["id"]
        if errors:
            batch["error_file_id"] = self._file(_jsonl(errors))["id"]
        batch["status"] = "expired" if expire is not None else "completed"


def _jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if k != "polls"}
