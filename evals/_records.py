"""The results file: one typed record per case (and epoch), appended and flushed as each
completes, read back line by line.

A killed run loses at most the cases in flight. A torn last line (a kill or a full disk
mid-write) is cut off before anything is appended, so it cannot swallow the next
record; any line that does not decode is reported and its case runs again. A lock
(filelock: POSIX and Windows) keeps two runs from writing one file.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from filelock import FileLock, Timeout
from pydantic import (
    BaseModel,
    Field,
    JsonValue,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)

from patterns import CallRecord, Usage
from patterns.core import Exchange
from patterns.core.plumbing import scrub

from .checks import CheckResult
from .data import bulk
from .errors import EvalsError

logger = logging.getLogger("evals._records")


RESULTS = "results.jsonl"
"""A run's records, one JSON object a line, in its folder."""


class Record(BaseModel):
    """What one case gave one model: the output, each check, the cost, or the error."""

    suite: str
    model: str
    case: str
    epoch: int = 0
    split: str = "test"
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    input: JsonValue = None
    expected: JsonValue = None
    output: JsonValue = None
    checks: dict[str, CheckResult] = Field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    usage: Usage = Usage()
    calls: list[CallRecord] = Field(default_factory=list)
    transcript: list[Exchange] = Field(default_factory=list)
    """Every request the case sent and its raw answer, scrubbed, each text bounded
    (``Options.transcript_chars``: a cut text says so). Empty in the records read back
    for metrics and reports (``evaluate()``'s, a run folder's): ``exchanges()`` reads it
    from the results file."""

    _on_disk: tuple[Path, int] | None = PrivateAttr(default=None)
    """Where its line is (file, offset), when read back without its transcript."""

    @field_validator("transcript", mode="wrap")
    @classmethod
    def _left_on_disk(cls, value: Any, handler: ValidatorFunctionWrapHandler,
                      info: ValidationInfo) -> Any:  # fmt: skip
        if isinstance(info.context, dict) and info.context.get(_TRANSCRIPTS) is False:
            return []  # read back for metrics and reports: the transcript stays on disk
        return handler(value)

    def exchanges(self) -> list[Exchange]:
        """Its transcript: held, or read from its line in the results file."""
        if self.transcript or self._on_disk is None:
            return self.transcript
        path, offset = self._on_disk
        try:
            with path.open("rb") as f:
                f.seek(offset)
                line = _Transcript.model_validate_json(f.readline())
        except (OSError, ValidationError, ValueError):
            return []  # the file changed since: shown as no transcript
        # never another case's: the line must still be this record's
        return (
            line.transcript if (line.suite, line.model, line.case, line.epoch) == self.key else []
        )

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.suite, self.model, self.case, self.epoch)

    def passed(self, check: str) -> bool | None:
        result = self.checks.get(check)
        return None if result is None else result.passed


_TRANSCRIPTS = "transcripts"


class _Transcript(BaseModel):
    suite: str
    model: str
    case: str
    epoch: int = 0
    transcript: list[Exchange] = Field(default_factory=list)


class ResultsLocked(EvalsError, RuntimeError):
    pass


class DiskFull(EvalsError, RuntimeError):
    pass


class ResultsFile:
    """Append-only results, locked for one writer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None
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
        try:
            _repair_tail(self.path)
            self._file = self.path.open("a", encoding="utf-8")
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
        self._lock.release()

    def discard(self) -> None:
        """Empty the file (``--fresh``): only while holding the lock."""
        assert self._file is not None, "discard() needs the lock: use it inside `with`"
        self._file.truncate(0)

    def append(self, record: Record) -> None:
        assert self._file is not None
        line = scrub(record.model_dump_json()) + "\n"  # an answer may echo a key
        try:
            self._file.write(line)
            # Flushed to the OS: a killed process loses nothing written. (An fsync per
            # case would also survive a power cut, at a cost the throughput bench shows.)
            self._file.flush()
        except OSError as error:
            # Nothing received is lost: the record goes to stderr, where it can be saved.
            sys.stderr.write(line)
            raise DiskFull(
                f"cannot write to {self.path} ({error.strerror}); the run stops here. The "
                "record that could not be written was printed above; free some space and "
                "run again to resume."
            ) from None


def _repair_tail(path: Path) -> None:
    """Cut a last line that has no newline (a torn write): it would glue itself to the
    next record appended."""
    try:
        with path.open("rb+") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return
            keep, end = 0, size
            while end > 0:  # back, a window at a time, to the last newline
                start = max(0, end - (1 << 20))
                f.seek(start)
                cut = f.read(end - start).rfind(b"\n")
                if cut >= 0:
                    keep = start + cut + 1
                    break
                end = start
            logger.warning("%s: removing a torn last line (%d bytes)", path, size - keep)
            f.truncate(keep)
    except FileNotFoundError:
        return


def read(path: Path, transcripts: bool = True) -> list[Record]:
    """Every complete record, the latest per case; lines that do not decode are reported
    and skipped (their cases run again). ``transcripts=False``: each record's transcript
    is left on disk (``Record.exchanges`` reads it): a record is a third of the memory."""
    if not path.exists():
        return []
    latest: dict[tuple[str, str, str, int], Record] = {}
    context = {_TRANSCRIPTS: transcripts}
    offset = 0
    with path.open("rb") as f, bulk():
        for number, raw in enumerate(f, 1):
            at, offset = offset, offset + len(raw)
            if not raw.endswith(b"\n"):
                break  # a torn last line: repaired before the next append
            try:
                record = Record.model_validate_json(raw, context=context)
                if not transcripts:
                    record._on_disk = (path, at)
            except (ValidationError, ValueError) as error:
                logger.warning(
                    "%s: line %d is not a record (%s); it will run again",
                    path,
                    number,
                    str(error).splitlines()[0],
                )
                continue
            latest[record.key] = record
    return list(latest.values())


def dump_lines(records: list[Record]) -> str:
    return "".join(json.dumps(r.model_dump(mode="json")) + "\n" for r in records)
