"""Run folders: each run's fingerprint and ``run.json``, the folder a configuration
resumes, and the ``LATEST``/``latest`` pointers, written without following a link and
read back only inside their own suite folder."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pydantic import BaseModel, JsonValue

from .data import Dataset
from .models import ModelConfig
from .suite import SAFE_NAME, Suite, SuiteError


class Fingerprint(BaseModel):
    suite: str
    dataset: str
    models: list[dict[str, JsonValue]]
    judge: dict[str, JsonValue] | None
    sources: str
    package: str
    commit: str | None
    epochs: int
    shard: str | None = None
    """``I/N`` for one shard of a run (``--shard``); None: the whole run."""
    examples: str | None = None
    """The digest of the dev-split cases a suite shows as worked examples (None: none)."""

    def digest(self) -> str:
        # A field that is None is left out: runs without it keep their digests.
        unset = {name for name in ("shard", "examples") if getattr(self, name) is None}
        data = self.model_dump(mode="json", exclude=unset)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def whole(self) -> Fingerprint:
        """The fingerprint of the whole run this is a shard of."""
        return self.model_copy(update={"shard": None})


class BatchStats(BaseModel):
    rounds: int = 0
    """Batches submitted (a chain of three dependent calls takes three)."""
    requests: int = 0
    wait_s: float = 0.0
    """Seconds spent waiting for batches to finish."""
    failed: int = 0
    """Requests the batch answered with an error (their cases record it)."""


class RunInfo(BaseModel):
    """``run.json`` in each run directory: what ran, when, and its fingerprint."""

    fingerprint: Fingerprint
    digest: str
    started: str
    updated: str | None = None
    cases: int = 0
    reused: int = 0
    origin: str | None = None
    """The suite file (None: a built-in suite), for ``compare``."""
    origin_sha256: str | None = None
    """The suite file's bytes when it ran: it is imported again only if they match."""
    runs: int | None = None
    """Case runs (models x cases x repeats) this run covers (its shard's, if sharded)."""
    batch: BatchStats | None = None
    """How a ``--batch`` run went."""


def package_version() -> str:
    try:
        return version("llm-workflow-patterns")
    except PackageNotFoundError:
        return "unknown"


def git_commit() -> str | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
        if done.returncode == 0:
            return done.stdout.strip()
    return None


def fingerprint(
    suite: Suite[Any, Any],
    dataset: Dataset[Any, Any],
    models: Sequence[ModelConfig],
    judge: ModelConfig | None,
    epochs: int,
    shard: tuple[int, int] | None = None,
    examples: Dataset[Any, Any] | None = None,
) -> Fingerprint:
    return Fingerprint(
        suite=suite.name,
        dataset=dataset.digest(),
        models=[m.identity() for m in models] if suite.uses_model else [],
        judge=judge.identity() if judge and suite.uses_model else None,
        sources=suite.source_digest(),
        package=package_version(),
        commit=git_commit(),
        epochs=epochs,
        shard=f"{shard[0]}/{shard[1]}" if shard else None,
        examples=examples.digest() if examples is not None else None,
    )


def in_shard(case: str, epoch: int, shard: tuple[int, int] | None) -> bool:
    """Whether this case run belongs to shard ``I/N`` (1-based): a stable hash of the case
    id and repeat, the same on every machine and Python."""
    if shard is None:
        return True
    number = int.from_bytes(hashlib.sha256(f"{case}\n{epoch}".encode()).digest()[:8], "big")
    return number % shard[1] == shard[0] - 1


def child(root: Path, name: str, what: str) -> Path:
    """``root / name`` for a name read from data (a suite name from a run.json, a run
    id): one safe folder name (letters, digits, '.', '_', '-'; no '..'), and the path
    still inside ``root`` after resolving links. Anything else is ``SuiteError``, before
    anything is written."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise SuiteError(f"{what} {name[:60]!r} is not a safe folder name; nothing was written")
    path = root / name
    if path.resolve().parent != root.resolve():
        raise SuiteError(f"{what} {name[:60]!r} leads outside {root}; nothing was written")
    return path


def file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def run_directory(
    root: Path, suite: str, say: Callable[[str], None], identity: Fingerprint, fresh: bool
) -> Path:
    """The directory of the run with this fingerprint, or a new timestamped one; the
    stable pointer ``<root>/<suite>/latest`` names it."""
    digest = identity.digest()
    root.mkdir(parents=True, exist_ok=True)
    base = child(root, suite, "suite name")
    base.mkdir(exist_ok=True)
    matching = sorted(base.glob(f"*-{digest[:12]}"))
    if matching and not fresh and not _readable(matching[-1], say):
        matching = []
    if matching and not fresh:
        chosen = matching[-1]
    else:
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        chosen = base / f"{stamp}-{digest[:12]}"
        for n in range(2, 1000):  # two runs in one second
            if not chosen.exists():
                break
            chosen = base / f"{stamp}.{n}-{digest[:12]}"
        chosen.mkdir()
        previous = sorted(
            p for p in base.iterdir() if p.is_dir() and p != chosen and p.name != "latest"
        )
        if previous and not fresh:
            say(
                f"{suite}: the configuration changed since {previous[-1].name} (a prompt, "
                f"the dataset, a model or its settings): starting a new run in {chosen}"
            )
        info = RunInfo(fingerprint=identity, digest=digest, started=datetime.now(UTC).isoformat())
        write_atomically(chosen / "run.json", info.model_dump_json(indent=1))
    _point_latest(base, chosen)
    return chosen


def _readable(run: Path, say: Callable[[str], None]) -> bool:
    """Whether the run's ``run.json`` can be read back; if not, the run is not resumed."""
    try:
        RunInfo.model_validate_json((run / "run.json").read_bytes())
    except (OSError, ValueError):
        say(f"{run}/run.json is missing or corrupt: starting a new run (that folder is kept)")
        return False
    return True


def _point_latest(base: Path, chosen: Path) -> None:
    """Point ``LATEST`` (a file) and ``latest`` (a symlink) at the chosen run, never
    writing through a link someone put there: a temporary file, then a rename."""
    write_atomically(base / "LATEST", chosen.name + "\n")
    link = base / "latest"
    with contextlib.suppress(OSError):
        if link.is_symlink():
            link.unlink()
        if not link.exists():
            link.symlink_to(chosen.name, target_is_directory=True)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` by renaming a temporary file over it: a symlink at
    ``path`` is replaced, not followed, and a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def latest_run(root: Path, suite: str) -> Path | None:
    """The run ``<root>/<suite>/LATEST`` names, if it is a run folder inside
    ``<root>/<suite>``; a pointer that leads anywhere else is refused (``SuiteError``)."""
    base = child(root, suite, "suite name")
    pointer = base / "LATEST"
    if not pointer.is_file() or pointer.is_symlink():
        return None
    name = pointer.read_text(errors="replace").strip()
    target = base / name
    if not RUN_NAME.match(name) or target.is_symlink() or target.resolve().parent != base.resolve():
        raise SuiteError(
            f"{pointer} does not name a run folder inside {base} ({name[:80]!r}); "
            "remove it (the next run writes a new one)"
        )
    return target


RUN_NAME = re.compile(r"^\d{8}T\d{6}Z(\.\d+)?-[0-9a-f]{12}$")
"""What a run folder is called: ``<UTC time>[.n]-<fingerprint digest>``."""
