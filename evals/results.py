"""The results file: one JSON line per case, appended and flushed as each completes.

A killed run loses at most the cases in flight; running again resumes where it
stopped. A lock stops two runs from writing the same file at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from filelock import FileLock, Timeout


class ResultsLocked(RuntimeError):
    pass


def key(record: dict[str, Any]) -> tuple[str, str, str]:
    return (record["model"], record["eval"], record["case"])


class ResultsFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None
        # A lock file beside the results (filelock: flock on POSIX, msvcrt on Windows).
        self._lock = FileLock(path.with_name(path.name + ".lock"))

    def __enter__(self) -> ResultsFile:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise ResultsLocked(
                f"{self.path} is being written by another eval run; wait for it to finish "
                "or choose another --out folder"
            ) from None
        self._file = self.path.open("a", encoding="utf-8")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
        self._lock.release()

    def append(self, record: dict[str, Any]) -> None:
        assert self._file is not None
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        # Flushed to the OS: a killed process loses nothing written. (An fsync per case
        # would also survive a power cut, at a cost the harness's throughput shows.)
        self._file.flush()


def read(path: Path) -> list[dict[str, Any]]:
    """Every complete record, the latest per case; a line cut off by a kill is skipped."""
    if not path.exists():
        return []
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        latest[key(record)] = record
    return list(latest.values())
