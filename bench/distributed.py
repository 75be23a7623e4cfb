"""Past one machine: one model served by two replicas against one, each a one-slot
stub (one request at a time, a fixed time each, like a llama.cpp server with one slot)."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import yaml

from .common import Eval, Row, row, stub_process, timed_eval
from .scale import ONECALL, ROUTE, write_dataset

SECONDS = 0.02
"""Each stub's time per request: one stub answers at most 50 calls/s."""


def replicas(cases: int = 400) -> list[Row]:
    """Calls/s through one replica and through two, the same cases, 8 in flight."""
    rates = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        urls = [
            stack.enter_context(stub_process(SECONDS, content=ROUTE, serial=True)) for _ in range(2)
        ]
        dataset = write_dataset(Path(tmp), cases)
        for count in (1, 2):
            models = Path(tmp) / f"models{count}.yaml"
            model = {"name": "bench", "endpoints": urls[:count], "serial": False}
            models.write_text(yaml.safe_dump({"models": [model]}))
            spec = Eval(suites=[ONECALL], models_file=models, dataset=dataset,
                        out=Path(tmp) / f"r{count}", concurrency=8)  # fmt: skip
            seconds, found = timed_eval(spec)
            assert len(found) == cases
            assert not any(r.error for r in found)
            rates.append(cases / seconds)
    one, two = rates
    alone, pair = one * SECONDS, two / (2 * one)
    return [
        row("one replica (a one-slot stub, 20 ms a call)", f"{one:.0f} calls/s",
            f"{1 / SECONDS:.0f} calls/s (its capacity)", alone, ">= 0.8", alone >= 0.8),
        row("two replicas of the model, least loaded first", f"{two:.0f} calls/s",
            f"2 x one replica ({2 * one:.0f})", pair, ">= 0.9", pair >= 0.9),
    ]  # fmt: skip
