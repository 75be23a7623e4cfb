"""``merge()``: shard runs (``--shard I/N``, one per worker) put back into one run.

    from evals import merge
    report = merge([Path("shard-1"), Path("shard-2"), Path("shard-3")], Path("runs"))

Each folder is an ``--out`` folder (its latest run of each suite) or one run folder.
Shards merge only if they are the same run: fingerprints equal in everything but the
shard (suite, dataset, models and settings, the prompts' code, package, commit,
repeats), every shard of ``N`` present once and complete, no case run in two. Anything
else is refused with one line naming the difference (``EvalError``), and nothing is
written. The merged run is a normal run folder with the unsharded run's fingerprint,
and its reports are those of the same run done in one piece.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from . import _records as records
from ._records import RESULTS, Record
from ._rundir import BatchStats, Fingerprint, RunInfo, latest_run, run_directory, write_atomically
from ._runner import Options
from ._runs import find_suite
from .evaluate import Report, evaluate, one_at_a_time
from .gates import EvalError, Floor
from .suite import SAFE_NAME

SHARD = re.compile(r"^(\d{1,6})/(\d{1,6})$")

DIFFERENCES = {
    "suite": "the suite",
    "dataset": "the dataset (its content, splits, --limit or --case)",
    "models": "a model or its settings",
    "judge": "the judge",
    "sources": "the code that shapes the requests (a prompt, a task or the patterns package)",
    "package": "the package version",
    "commit": "the git commit",
    "epochs": "--epochs",
}


def merge(
    folders: Sequence[Path],
    out: Path,
    *,
    floors: Sequence[Floor | str] = (),
    prices: dict[str, tuple[float, float]] | None = None,
) -> Report:
    """Merge shard runs into ``out`` and report them as one run."""
    by_suite: dict[str, list[tuple[Path, RunInfo, list[Record]]]] = {}
    for folder in folders:
        for run in _runs(folder):
            by_suite.setdefault(run[1].fingerprint.suite, []).append(run)
    if not by_suite:
        raise EvalError("merge: no shard runs given")
    merged = {name: _checked(name, shards) for name, shards in by_suite.items()}
    suites = [find_suite(name, info, folders) for name, (info, _) in merged.items()]
    with one_at_a_time(out):  # before the first write: another evaluation may hold --out
        for name, (info, found) in merged.items():
            directory = run_directory(out, name, lambda _: None, info.fingerprint, fresh=True)
            write_atomically(directory / RESULTS, records.dump_lines(found))
            write_atomically(directory / "run.json", info.model_dump_json(indent=1))
    return evaluate(suites, options=Options(out=out), floors=floors, prices=prices,
                    report_only=True)  # fmt: skip


def _runs(folder: Path) -> list[tuple[Path, RunInfo, list[Record]]]:
    if (folder / "run.json").exists():
        runs = [folder]
    elif folder.is_dir():
        runs = [
            d
            for s in sorted(folder.iterdir())
            if s.is_dir() and SAFE_NAME.match(s.name) and (d := latest_run(folder, s.name))
        ]
    else:
        raise EvalError(f"merge: {folder} is not a folder")
    found = []
    for run in runs:
        try:
            info = RunInfo.model_validate_json((run / "run.json").read_bytes())
        except (OSError, ValueError):
            raise EvalError(f"merge: {run}/run.json is missing or corrupt") from None
        suite = info.fingerprint.suite
        if not SAFE_NAME.match(suite) or ".." in suite:
            raise EvalError(
                f"merge: {run}/run.json names the suite {suite[:60]!r}, not a safe folder "
                "name; nothing was written"
            )
        found.append((run, info, records.read(run / RESULTS)))
    if not found:
        raise EvalError(f"merge: {folder} holds no run (no run.json)")
    return found


def _shard(path: Path, info: RunInfo) -> tuple[int, int]:
    text = info.fingerprint.shard
    if text is None:
        raise EvalError(f"merge: {path} is a whole run, not a shard (--shard I/N)")
    match = SHARD.match(text)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise EvalError(f"merge: {path}/run.json names the shard {text[:40]!r}, not I/N")
    return int(match[1]), int(match[2])


def _checked(
    name: str, shards: list[tuple[Path, RunInfo, list[Record]]]
) -> tuple[RunInfo, list[Record]]:
    first_path, first, _ = shards[0]
    whole = first.fingerprint.whole()
    total = _shard(first_path, first)[1]
    seen: dict[int, Path] = {}
    owner: dict[tuple[str, str, str, int], str] = {}
    for path, info, found in shards:
        number, count = _shard(path, info)
        if count != total:
            raise EvalError(
                f"merge {name}: {path} is shard {number}/{count}, {first_path} is of {total}"
            )
        _same(whole, info.fingerprint.whole(), (first_path, path), name)
        if number in seen:
            raise EvalError(
                f"merge {name}: shard {number}/{total} given twice: {seen[number]}, {path}"
            )
        seen[number] = path
        if info.runs is not None and len(found) != info.runs:
            raise EvalError(
                f"merge {name}: shard {number}/{total} ({path}) is incomplete: {len(found)} of "
                f"{info.runs} case runs recorded; run it again to finish it"
            )
        for record in found:
            if record.key in owner:
                raise EvalError(
                    f"merge {name}: case {record.case!r} ({record.model}, repeat {record.epoch}) "
                    f"is in shard {owner[record.key]} and in shard {number}/{total}"
                )
            owner[record.key] = f"{number}/{total}"
    missing = sorted(set(range(1, total + 1)) - set(seen))
    if missing:
        shown = ", ".join(f"{m}/{total}" for m in missing)
        raise EvalError(f"merge {name}: shard {shown} missing")
    found = sorted((r for _, _, rs in shards for r in rs), key=lambda r: r.key)
    stats = [i.batch for _, i, _ in shards if i.batch is not None]
    info = RunInfo(
        fingerprint=whole, digest=whole.digest(),
        started=min(i.started for _, i, _ in shards), updated=datetime.now(UTC).isoformat(),
        cases=first.cases, origin=first.origin, origin_sha256=first.origin_sha256,
        runs=len(found),
        batch=BatchStats(
            rounds=max(s.rounds for s in stats), requests=sum(s.requests for s in stats),
            wait_s=sum(s.wait_s for s in stats), failed=sum(s.failed for s in stats),
        ) if stats else None,
    )  # fmt: skip
    return info, found


def _same(a: Fingerprint, b: Fingerprint, paths: tuple[Path, Path], name: str) -> None:
    left, right = a.model_dump(mode="json"), b.model_dump(mode="json")
    for field_name, what in DIFFERENCES.items():
        if left[field_name] != right[field_name]:
            raise EvalError(
                f"merge {name}: {paths[1]} and {paths[0]} are not shards of one run: they "
                f"differ in {what}"
            )
