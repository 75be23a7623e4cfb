"""Benchmarks: each figure against its natural limit, measured in one run on this machine.

    python -m bench               # everything, the embedded model included
    python -m bench --skip-model  # the offline figures only (no model needed)
    python -m bench --orders      # request order and the server's cache (model)
    python -m bench --scale       # 100,000 cases: load, run, report; connections
    python -m bench --replicas    # one model on one replica and on two
    python -m bench --engines     # llama-server (the default) against llama-cpp-python
    python -m bench --orchestra   # one whole orchestra article on the embedded model
    python -m bench --overhead    # the harness's own cost: calls/s, start-up and memory
                                        # beside the bare SDK and pydantic-evals
    python -m bench --peers       # beside the bare SDK, pydantic-evals, inspect-ai,
                                        # promptfoo (installed in their own environments)

Prints a table and writes evals/runs/bench.json. Nothing here is a test: a slow
machine gives slow figures, not failures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

from rich.table import Table

from patterns.server import LocalServer

from .common import ROOT, Row, console, machine, stub_process
from .distributed import replicas
from .engines import engines
from .harness import cache_speedup, core_overhead, harness_throughput, parallel_overlap, replay
from .model import embedded_model, first_run, orchestra_article, request_orders
from .overhead import overhead
from .peers import peers
from .scale import connections, scale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--skip-model", action="store_true", help="leave out the embedded model")
    parser.add_argument("--out", type=Path, default=ROOT / "evals/runs/bench.json")
    parser.add_argument(
        "--orders",
        action="store_true",
        help="only the request-order figures: case order vs step by step, with and "
        "without the server's RAM cache (about 10 minutes)",
    )
    parser.add_argument(
        "--scale",
        type=int,
        nargs="?",
        const=100_000,
        metavar="CASES",
        help="only the scale figures: load, run (stub) and report CASES one-call cases "
        "(default 100,000; about 5 minutes), and connections kept alive over HTTP and TLS",
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="only the peer comparison: the bare openai SDK, this harness, pydantic-evals, "
        "inspect-ai and promptfoo on the same stub (installed in their own environments "
        "under ~/.cache on first use; about 10 minutes)",
    )
    parser.add_argument(
        "--first-run",
        action="store_true",
        help="only the first-run figures: `nox -s demo` on a fresh clone with empty caches, "
        "then again (about 5 minutes; needs the network)",
    )
    parser.add_argument(
        "--overhead",
        action="store_true",
        help="only the harness's own cost: calls/s against the bare SDK's post and "
        "pydantic-evals (paired, interleaved reps in fresh processes), start-up, memory "
        "(about 8 minutes; pydantic-evals installed in its own environment on first use)",
    )
    parser.add_argument(
        "--orchestra",
        action="store_true",
        help="only one whole orchestra article on the embedded model (about 3 minutes)",
    )
    parser.add_argument("--replicas", action="store_true", help="only the replica figures")
    parser.add_argument(
        "--engines",
        action="store_true",
        help="only the engine comparison: llama.cpp's llama-server at 1, 2 and 4 slots "
        "and llama-cpp-python's server (needs both built; about 15 minutes)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.orchestra:
        with LocalServer() as server:
            return _report(orchestra_article(server), args.out, started)
    if args.overhead:
        return _report(overhead(), args.out, started)
    if args.replicas:
        return _report(replicas(), args.out, started)
    if args.engines:
        return _report(engines(), args.out, started)
    if args.first_run:
        return _report(first_run(), args.out, started)
    if args.peers:
        return _report(peers(), args.out, started)
    if args.orders:
        return _report(request_orders(), args.out, started)
    if args.scale:
        return _report([*connections(), *scale(args.scale)], args.out, started)
    rows = [asyncio.run(replay()), *core_overhead(), *harness_throughput(), parallel_overlap()]
    rows += overhead()
    rows += replicas()
    if args.skip_model:
        with stub_process(delay=0.5) as base_url:
            rows.append(cache_speedup(base_url, "stub, 0.5 s a call"))
    else:
        with LocalServer() as server:
            rows.append(cache_speedup(server.base_url, "embedded model"))
            rows += embedded_model(server)
            rows += orchestra_article(server)
    return _report(rows, args.out, started)


def _report(rows: list[Row], out: Path, started: float) -> int:
    table = Table("figure", "measured", "limit", "ratio", "target", "met", title="Benchmarks")
    for r in rows:
        table.add_row(
            r["figure"],
            r["measured"],
            r["limit"],
            f"{r['ratio']:.2f}",
            r["target"],
            "yes" if r["met"] else "NO",
        )
    console.print(table)
    info = machine()
    console.print(
        f"load {os.getloadavg()[0]:.1f}; {info['cores']} cores, Python {info['python']}, "
        f"{info['versions']}; {time.perf_counter() - started:.0f} s"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "figures": rows}, indent=1))
    return 0
