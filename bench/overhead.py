"""The harness's own cost, beside the bare openai SDK's ``post`` and pydantic-evals, in one
interleaved run: every figure from fresh processes, repeated, paired by repetition, and
printed as a median with its range and the machine's load; nothing from a single sample.

- calls/s of 2,000 one-call cases at 0 s and 0.1 s a call, 8 and 64 in flight (the
  marginal rate: a run of 40 cases subtracted, so start-up and reports cancel out), as a
  ratio to the bare SDK's in the same repetition (each repetition runs the tools in a
  rotated order, so drift in the machine's load falls on each alike);
- time from process start to the first request, with and without compiled byte-code;
- peak memory of the 2,000-case run; CPU time of ``patterns-evals --version``.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import Row, row, stub_process
from .peers import BARE, BARE_SDK, PYDANTIC_EVALS, SMALL, install, run_tool, timed
from .scale import ONECALL, ROUTE, onecall_request, write_dataset

TOOLS = (BARE_SDK[1], "this harness", "pydantic-evals")
SETTINGS = ((0.0, 8), (0.0, 64), (0.1, 8), (0.1, 64))
"""(seconds a call, calls in flight)."""
TARGETS = {(0.1, 64): 0.9, (0.0, 8): 0.8}
"""The ratio to the bare SDK each setting must reach (the others are informative)."""
MAX_PEAK_MB = 110.0
MAX_FIRST_REQUEST_S = 2.5
MAX_VERSION_CPU_S = 0.5


def load() -> float:
    return os.getloadavg()[0]


def spread(values: list[float], digits: int = 2) -> str:
    """``median [min, max]``."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def overhead(cases: int = 2000, reps: int = 3) -> list[Row]:
    # A shell that sets PYTHONDONTWRITEBYTECODE makes every tool compile its imports on
    # every start (1.3 s of the harness's 2.7 s, measured): as a user's machine is, not.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        body = work / "body.json"
        body.write_text(json.dumps(onecall_request()))
        dataset, small = write_dataset(work, cases), write_dataset(work, SMALL, "small")
        prefixes = {tool: install(tool) for tool in TOOLS}
        tools = [t for t, p in prefixes.items() if p is not None]
        peaks: list[float] = []
        for delay, flight in SETTINGS:
            ratios: dict[str, list[float]] = {t: [] for t in tools if t != BARE_SDK[1]}
            loads = [load()]
            with stub_process(delay=delay, content=ROUTE) as base_url:
                for rep in range(reps):
                    order = tools[rep % len(tools) :] + tools[: rep % len(tools)]
                    rates: dict[str, float] = {}
                    for tool in order:
                        prefix = prefixes[tool]
                        assert prefix is not None
                        full = run_tool(tool, prefix, base_url, dataset, body, flight, work)
                        few = run_tool(tool, prefix, base_url, small, body, flight, work)
                        # the marginal rate: start-up and reports cancel out (own row below)
                        rates[tool] = (cases - SMALL) / max(full.wall_s - few.wall_s, 1e-9)
                        if tool == "this harness":
                            peaks.append(full.peak_mb)
                    for tool in ratios:
                        ratios[tool].append(rates[tool] / rates[BARE_SDK[1]])
                    loads.append(load())
            for tool, values in ratios.items():
                target = TARGETS.get((delay, flight)) if tool == "this harness" else None
                rows.append(
                    row(
                        f"{tool} / bare post: {cases:,} cases, {delay:g} s, {flight} in flight",
                        f"{spread(values)} (load {min(loads):.1f}-{max(loads):.1f})",
                        f"bare SDK post, {reps} reps, paired",
                        statistics.median(values),
                        f">= {target}" if target else "informative",
                        target is None or statistics.median(values) >= target,
                    )
                )
        rows.append(
            row(
                f"harness peak memory, {cases:,} one-call cases",
                f"{spread(peaks, 0)} MB",
                f"{MAX_PEAK_MB:.0f} MB",
                statistics.median(peaks) / MAX_PEAK_MB,
                f"<= {MAX_PEAK_MB:.0f} MB",
                statistics.median(peaks) <= MAX_PEAK_MB,
            )
        )
        rows += first_request(prefixes, work, reps)
        rows.append(version_cpu(reps))
    return rows


def first_request(prefixes: dict[str, list[str] | None], work: Path, reps: int) -> list[Row]:
    """Seconds from process start to the first request's connection, each tool in turn,
    with byte-code compiled beforehand and with none (an empty, unwritable cache)."""
    body = work / "body.json"
    one = write_dataset(work, 1, "one")
    rows = []
    for compiled in (True, False):
        times: dict[str, list[float]] = {t: [] for t, p in prefixes.items() if p is not None}
        for rep in range(reps + 1):
            for tool in times:
                prefix = prefixes[tool]
                assert prefix is not None
                cache = (
                    work
                    / f"pycache-{tool.replace(' ', '_')}-{compiled}-{rep if not compiled else 0}"
                )
                seconds = _until_first_request(tool, prefix, one, body, cache, compiled)
                if rep:  # the first repetition compiles (or warms the disk): not counted
                    times[tool].append(seconds)
        bare = times[BARE_SDK[1]]
        for tool, values in times.items():
            budget = tool == "this harness" and not compiled
            kind = "compiled" if compiled else "not compiled"
            rows.append(
                row(
                    f"{tool}: start to first request, byte-code {kind}",
                    f"{spread(values)} s",
                    f"bare SDK {statistics.median(bare):.2f} s",
                    statistics.median(values) / statistics.median(bare),
                    f"<= {MAX_FIRST_REQUEST_S} s" if budget else "informative",
                    not budget or statistics.median(values) <= MAX_FIRST_REQUEST_S,
                )
            )
    return rows


def _until_first_request(
    tool: str, prefix: list[str], one: Path, body: Path, cache: Path, compiled: bool
) -> float:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(120)
        base_url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        env = {**os.environ, "PYTHONPYCACHEPREFIX": str(cache)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # set in some shells: nothing compiled
        if not compiled:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        started = time.perf_counter()
        process = _start(tool, prefix, base_url, one, body, env)
        try:
            connection, _ = listener.accept()
            seconds = time.perf_counter() - started
            connection.close()
        finally:
            process.kill()
            process.wait()
    return seconds


def _start(
    tool: str, prefix: list[str], base_url: str, one: Path, body: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    env = {**env, "OPENAI_API_KEY": "x", "PATTERNS_STRUCTURED_MODE": "json_object"}
    args = [base_url, str(one), "1", str(body)]
    if tool == "this harness":
        command = [*prefix, "-m", "evals", "run", ONECALL, "--model", f"bench@{base_url}",
                   "--dataset", str(one), "--out", str(one.parent / "first"), "--no-cache",
                   "--fresh"]  # fmt: skip
    elif tool == "pydantic-evals":
        command = [*prefix, "-c", PYDANTIC_EVALS, *args]
    else:
        command = [*prefix, "-c", BARE, *args, "post"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def version_cpu(reps: int) -> Row:
    """CPU seconds of ``patterns-evals --version`` (byte-code compiled: the second run on)."""
    values = [timed([sys.executable, "-m", "evals", "--version"]).cpu_s for _ in range(reps + 1)][
        1:
    ]
    median = statistics.median(values)
    return row(
        "patterns-evals --version, CPU",
        f"{spread(values)} s",
        f"{MAX_VERSION_CPU_S} s",
        median / MAX_VERSION_CPU_S,
        f"<= {MAX_VERSION_CPU_S} s",
        median <= MAX_VERSION_CPU_S,
    )
