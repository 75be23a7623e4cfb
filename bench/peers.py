"""This harness beside the bare openai SDK and three peers, on the same stub endpoint.

Each tool runs one-call cases (a chat completion, its answer compared with the expected
one) in its own process and, for the peers, its own environment, created on first use
under ``~/.cache/llm-workflow-patterns/peers`` (pydantic-evals and inspect-ai with uv,
promptfoo with npm); nothing of theirs is installed in the project's environments.

Every tool is timed the same way, from outside: wall time, CPU time (user + system, the
tool's process and its children) and peak memory of a run of N cases and of a run of a
few cases; the difference is the cost of the extra cases, so start-up (imports, Node,
writing logs) is left out. Ratios are to the bare SDK in the same run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from patterns.server import cache_dir

from .common import Row, row, stub_process
from .scale import ONECALL, ROUTE, onecall_request, write_dataset

PEERS = cache_dir() / "peers"
BARE_SDK = ("bare openai SDK", "bare openai SDK, post()")
"""The limit: the SDK alone sending the same body, through ``chat.completions.create``
(which walks the body's every node first) and through ``post`` (the body as it is, what
the core does); the faster of the two is the limit."""
TOOLS = (*BARE_SDK, "this harness", "pydantic-evals", "inspect-ai", "promptfoo")
SMALL = 40
"""Cases in the run whose costs are subtracted (start-up, imports, log files)."""

BARE = """
import asyncio, json, sys
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion
base_url, dataset, concurrency, body = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
body = json.load(open(body))
cases = [json.loads(line) for line in open(dataset)]
async def main():
    client = AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
    gate = asyncio.Semaphore(concurrency)
    async def one(case):
        async with gate:
            if sys.argv[5] == "post":  # the same body, not walked by the SDK's transform
                answer = await client.post("/chat/completions", body=body, cast_to=ChatCompletion)
            else:
                answer = await client.chat.completions.create(**body)
            return json.loads(answer.choices[0].message.content)["request_type"] == "other"
    return await asyncio.gather(*(one(c) for c in cases))
assert len(asyncio.run(main())) == len(cases)
"""

PYDANTIC_EVALS = """
import json, sys
from openai import AsyncOpenAI
from pydantic_evals import Case, Dataset
from pydantic_evals.evaluators import EqualsExpected
base_url, dataset, concurrency, body = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
body = json.load(open(body))
client = AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
async def route(text: str) -> str:
    request = {**body, "messages": [body["messages"][0], {"role": "user", "content": text}]}
    answer = await client.chat.completions.create(**request)
    return json.loads(answer.choices[0].message.content)["request_type"]
cases = [json.loads(line) for line in open(dataset)]
data = Dataset(name="bench", cases=[Case(name=c["id"], inputs=c["input"], expected_output="other")
                      for c in cases], evaluators=[EqualsExpected()])
report = data.evaluate_sync(route, max_concurrency=concurrency, progress=False)
assert len(report.cases) == len(cases), report.failures[:1]
"""

INSPECT = """
import json, sys
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import generate
base_url, dataset, concurrency, body = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
cases = [json.loads(line) for line in open(dataset)]
task = Task(dataset=[Sample(input=c["input"], target="other", id=c["id"]) for c in cases],
            solver=generate(), scorer=includes())
logs = eval(task, model="openai/bench", model_base_url=base_url, max_connections=concurrency,
            max_retries=0, display="none", log_dir=sys.argv[5], max_tokens=64,
            model_args={"responses_api": False})
assert logs[0].status == "success", logs[0].error
"""

PROMPTFOO = """
description: bench
providers:
  - id: openai:chat:bench
    config: {apiBaseUrl: "%(base_url)s", apiKey: x, max_tokens: 64, temperature: 0}
prompts: ["{{text}}"]
tests: file://%(tests)s
"""


@dataclass
class Cost:
    wall_s: float
    cpu_s: float
    peak_mb: float


def install(tool: str) -> list[str] | None:
    """The command prefix that runs ``tool``'s script (installing it on first use), or
    None if it cannot be installed here."""
    if tool in (*BARE_SDK, "this harness"):
        return [sys.executable]
    folder = PEERS / tool
    if tool == "promptfoo":
        binary = folder / "node_modules/.bin/promptfoo"
        if not binary.exists():
            if shutil.which("npm") is None:
                return None
            folder.mkdir(parents=True, exist_ok=True)
            subprocess.run(["npm", "install", "--prefix", str(folder), "promptfoo"],
                           check=True, capture_output=True)  # fmt: skip
        return [str(binary)]
    python = folder / "bin/python"
    if not python.exists():
        uv = shutil.which("uv")
        if uv is not None:
            subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(folder)], check=True)
            install = [uv, "pip", "install", "-q", "--python", str(python)]
        else:  # no uv on PATH: the standard library's venv and pip (slower, same result)
            subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
            install = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*install, tool, "openai"], check=True)
    return [str(python)]


def timed(command: list[str], env: dict[str, str] | None = None) -> Cost:
    """Wall, CPU and peak memory of a command, measured by GNU time (or Python's
    ``resource`` where it is missing)."""
    with tempfile.NamedTemporaryFile("r") as report:
        wrapped = ["/usr/bin/time", "-o", report.name, "-f", "%e %U %S %M", *command]
        done = subprocess.run(wrapped, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["?"])[-1]
            raise RuntimeError(f"{Path(command[0]).name} exited {done.returncode}: {last}")
        wall, user, system, peak_kb = report.read().split()[-4:]
    return Cost(float(wall), float(user) + float(system), int(peak_kb) / 1024)


def run_tool(tool: str, prefix: list[str], base_url: str, cases: Path, body: Path,
             concurrency: int, work: Path) -> Cost:  # fmt: skip
    env = {**os.environ, "OPENAI_API_KEY": "x", "INSPECT_LOG_DIR": str(work / "logs"),
           "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_CACHE_ENABLED": "false",
           "PROMPTFOO_DISABLE_UPDATE": "1", "PATTERNS_STRUCTURED_MODE": "json_object",
           "PROMPTFOO_CONFIG_DIR": str(work / "promptfoo")}  # fmt: skip
    args = [base_url, str(cases), str(concurrency), str(body)]
    if tool in BARE_SDK:
        return timed([*prefix, "-c", BARE, *args, "post" if "post" in tool else "create"], env)
    if tool == "this harness":
        command = ["-m", "evals", "run", ONECALL, "--model", f"bench@{base_url}", "--dataset",
                   str(cases), "--out", str(work / "runs"), "--no-cache", "--fresh",
                   "--concurrency", str(concurrency)]  # fmt: skip
        return timed([*prefix, *command], env)
    if tool == "pydantic-evals":
        return timed([*prefix, "-c", PYDANTIC_EVALS, *args], env)
    if tool == "inspect-ai":
        return timed([*prefix, "-c", INSPECT, *args, str(work / "logs")], env)
    tests = work / f"tests-{cases.stem}.jsonl"
    tests.write_text("".join(
        json.dumps({"vars": {"text": json.loads(line)["input"]},
                    "assert": [{"type": "contains", "value": "other"}]}) + "\n"
        for line in cases.read_text().splitlines()
    ))  # fmt: skip
    config = work / f"promptfoo-{cases.stem}.yaml"
    config.write_text(PROMPTFOO % {"base_url": base_url, "tests": tests})
    command = ["eval", "-c", str(config), "--no-cache", "--no-progress-bar", "--no-write",
               "--no-table", "--max-concurrency", str(concurrency)]  # fmt: skip
    return timed([*prefix, *command], env)


def _twice(tool: str, prefix: list[str], base_url: str, cases: Path, body: Path,
           concurrency: int, work: Path) -> Cost:  # fmt: skip
    """One run, and one more if the tool crashed (promptfoo's logger sometimes does)."""
    args = (tool, prefix, base_url, cases, body, concurrency, work)
    try:
        return run_tool(*args)
    except RuntimeError:
        return run_tool(*args)


def peers(cases: int = 2000, concurrencies: tuple[int, ...] = (1, 8, 64)) -> list[Row]:
    """calls/s, CPU per 1,000 calls and peak memory of each tool, as ratios to the bare
    SDK's in the same run; and the harness's own CPU overhead against the best peer's."""
    rows: list[Row] = []
    # One fixed answer, whatever the request: each tool shapes its request its own way.
    with tempfile.TemporaryDirectory() as tmp, stub_process(content=ROUTE) as base_url:
        work = Path(tmp)
        body = work / "body.json"
        body.write_text(json.dumps(onecall_request()))
        big, small = write_dataset(work, cases, "big"), write_dataset(work, SMALL, "small")
        prefixes = {tool: install(tool) for tool in TOOLS}
        for concurrency in concurrencies:
            marginal: dict[str, tuple[float, float, float]] = {}
            for tool, prefix in prefixes.items():
                if prefix is None:
                    continue
                try:
                    full = _twice(tool, prefix, base_url, big, body, concurrency, work)
                    few = _twice(tool, prefix, base_url, small, body, concurrency, work)
                except RuntimeError as error:  # a peer's crash is a figure, not our failure
                    rows.append(row(f"{tool}: {cases:,} one-call cases, {concurrency} in flight",
                                    "failed twice", str(error)[-200:], float("nan"),
                                    "informative", True))  # fmt: skip
                    continue
                extra = cases - SMALL
                marginal[tool] = (
                    extra / max(full.wall_s - few.wall_s, 1e-9),
                    1000 * (full.cpu_s - few.cpu_s) / extra,
                    full.peak_mb,
                )
            rows += _rows(marginal, concurrency, cases)
    return rows


def _rows(
    marginal: dict[str, tuple[float, float, float]], concurrency: int, cases: int
) -> list[Row]:
    fastest = max((t for t in BARE_SDK if t in marginal), key=lambda t: marginal[t][0])
    rate, cpu, _ = marginal[fastest]
    overheads = {t: c - cpu for t, (_, c, _) in marginal.items() if t not in BARE_SDK}
    best_peer = min((v for t, v in overheads.items() if t != "this harness"), default=float("nan"))
    rows = []
    for tool, (r, c, peak) in marginal.items():
        target, met = "informative", True
        if tool == "this harness":
            target, met = ">= 0.95", r / rate >= 0.95
        rows.append(
            row(
                f"{tool}: {cases:,} one-call cases, {concurrency} in flight",
                f"{r:.0f} calls/s, {c:.2f} CPU s per 1,000 calls, {peak:.0f} MB peak",
                f"{fastest}: {rate:.0f} calls/s, {cpu:.2f} CPU s",
                r / rate,
                target,
                met,
            )
        )
    own = overheads.get("this harness", float("nan"))
    rows.append(
        row(
            f"harness CPU overhead over the bare SDK, {concurrency} in flight",
            f"{own:.2f} s per 1,000 calls",
            f"best peer's {best_peer:.2f} s",
            own / best_peer if best_peer > 0 else float("nan"),
            "<= 0.5",
            best_peer > 0 and own / best_peer <= 0.5,
        )
    )
    return rows
