"""Suites found by name or file, and runs read back from disk (``--report-only``, a
baseline, ``compare``): what was written elsewhere is checked before it is used."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import _records as records
from ._records import Record
from ._rundir import RunInfo, file_sha256, latest_run
from ._runner import SuiteRun
from .gates import EvalError
from .suite import SAFE_NAME, Suite, load_suites
from .suites import GROUPS, builtin


def resolve_suites(
    names: Sequence[Suite[Any, Any] | str | Path], dataset: Path | None = None
) -> list[Suite[Any, Any]]:
    """Suites from objects, built-in names or suite files, each loaded (a broken dataset
    fails now, before any request). ``dataset`` replaces each suite's dataset file."""
    found: list[Suite[Any, Any]] = []
    for name in names:
        if isinstance(name, Suite):
            found.append(name)
        elif str(name) in GROUPS:
            found += builtin(str(name))
        elif str(name).endswith(".py") or Path(name).exists():
            found += [
                dataclasses.replace(s, origin=str(Path(name))) for s in load_suites(Path(name))
            ]
        else:
            raise EvalError(
                f"unknown suite {str(name)!r}: a built-in ({', '.join(GROUPS)}) or a .py file"
            )
    unique = list({s.name: s for s in found}.values())
    if dataset is not None:
        if not dataset.is_file():
            raise EvalError(f"--dataset {dataset}: no such file")
        unique = [s.with_dataset(dataset) for s in unique]
    for suite in unique:
        suite.load()
    return unique


def from_disk(
    suites: Sequence[Suite[Any, Any]], out: Path, say: Callable[[str], None] = print
) -> list[SuiteRun]:
    """The latest run of each suite in ``out``, read back (``--report-only``); says so
    when the suite's code changed since (its checks ran as they were then)."""
    runs = []
    for suite in suites:
        directory = latest_run(out, suite.name)
        if directory is None or not (directory / "results.jsonl").exists():
            raise EvalError(f"--report-only: no run of {suite.name} in {out}")
        info = RunInfo.model_validate_json((directory / "run.json").read_text())
        if info.fingerprint.sources != suite.source_digest():
            say(
                f"warning: {suite.name}: its code changed since run {directory.name}; this "
                "report shows the checks as they ran then. Run it again to apply this "
                "version (answers come from the cache, with no new requests)."
            )
        found = records.read(directory / "results.jsonl", transcripts=False)
        runs.append(SuiteRun(suite, directory, found, 0, info))
    return runs


def baseline_records(path: Path, suites: Sequence[Suite[Any, Any]]) -> list[Record]:
    """Records of an earlier --out folder (latest run of each suite) or of one run folder."""
    if (path / "results.jsonl").exists():
        return records.read(path / "results.jsonl", transcripts=False)
    found: list[Record] = []
    for suite in suites:
        directory = latest_run(path, suite.name)
        if directory is not None:
            found += records.read(directory / "results.jsonl", transcripts=False)
    if not found:
        raise EvalError(
            f"--baseline {path}: no results there for {', '.join(s.name for s in suites)}"
        )
    return found


def runs_in(path: Path) -> dict[str, tuple[RunInfo, list[Record]]]:
    """Suite name -> (run info, records) of a run folder or of an --out folder."""
    folders = [path] if (path / "run.json").exists() else [
        d for s in sorted(path.iterdir())
        if s.is_dir() and SAFE_NAME.match(s.name) and (d := latest_run(path, s.name))
    ] if path.is_dir() else []  # fmt: skip
    found = {}
    for folder in folders:
        if not (folder / "results.jsonl").exists():
            continue
        info = RunInfo.model_validate_json((folder / "run.json").read_text())
        found[info.fingerprint.suite] = (
            info,
            records.read(folder / "results.jsonl", transcripts=False),
        )
    if not found:
        raise EvalError(f"{path}: no eval run there (no run.json with results)")
    return found


def find_suite(name: str, info: RunInfo, read_from: Sequence[Path] = ()) -> Suite[Any, Any]:
    """The suite a run recorded: a built-in by name, or its suite file, imported only if
    its bytes are the ones the run recorded and it does not lie inside a folder being
    read back (``read_from``: a shard or a run another machine made can name any file,
    its own included)."""
    if info.origin is not None:
        origin = Path(info.origin)
        inside = [f for f in read_from if origin.resolve().is_relative_to(f.resolve())]
        if inside:
            raise EvalError(
                f"suite {name}: its run names a suite file inside {inside[0]} "
                f"({info.origin[:80]}), which came with the run: not importing it"
            )
        if info.origin_sha256 is None or file_sha256(origin) != info.origin_sha256:
            raise EvalError(
                f"suite {name}: {info.origin[:80]} is not the suite file the run recorded "
                "(its bytes differ, or the run records no digest): not importing it; run "
                "the suite again with this version"
            )
        suites = [s for s in resolve_suites([info.origin]) if s.name == name]
        if suites:
            return suites[0]
    known = [s for s in builtin("all") if s.name == name] if name in GROUPS else []
    if known:
        return known[0]
    raise EvalError(
        f"cannot find suite {name!r} to compare its measures: its run names no suite file "
        f"({info.origin or 'none'}); run it again with this version"
    )
