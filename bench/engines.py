"""The two engines for the embedded GGUF side by side, in one run on the same prompts:
llama-cpp-python's server and llama.cpp's own ``llama-server`` at 1, 2 and 4 slots.

For each: the quick calendar eval's wall time and generated tokens per second (no
cache, step by step, as many requests in flight as the engine has slots), and what
token-probability confidence costs per gate call against the written percent."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from patterns.core import DEFAULT_MODEL

from .common import Eval, Row, row, timed_eval

ENGINES = [("llama-cpp-python", 1), ("llama-server", 1), ("llama-server", 2), ("llama-server", 4)]
SUITES = ["chain", "router", "parallel"]


def _run(
    tmp: Path, engine: str, slots: int, confidence: str, suites: list[str]
) -> tuple[float, int, int]:
    """(wall seconds, case runs, generated tokens) of the quick eval on one engine."""
    name = f"{engine}-{slots}-{confidence}"
    models = tmp / f"{name}.yaml"
    model = {"name": name, "embedded": DEFAULT_MODEL, "engine": engine, "slots": slots,
             "confidence": confidence}  # fmt: skip
    models.write_text(yaml.safe_dump({"models": [model]}))
    spec = Eval(suites=suites, quick=True, models_file=models, out=tmp / name)
    seconds, found = timed_eval(spec)
    generated = sum(c.usage.completion_tokens for r in found for c in r.calls)
    return seconds, len(found), generated


def engines() -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = None
        for engine, slots in ENGINES:
            wall, cases, generated = _run(Path(tmp), engine, slots, "tokens", SUITES)
            base = base or wall
            rows.append(row(
                f"{engine}, {slots} slot(s): quick eval ({cases} case runs), wall",
                f"{wall:.0f} s, {generated / wall:.1f} generated tok/s",
                f"llama-cpp-python {base:.0f} s", base / wall, "speedup >= 1.5 to adopt",
                base / wall >= 1.5,
            ))  # fmt: skip
        for engine in ("llama-cpp-python", "llama-server"):
            verbal, n, _ = _run(Path(tmp), engine, 1, "verbal", ["chain"])
            tokens, _, _ = _run(Path(tmp), engine, 1, "tokens", ["chain"])
            rows.append(row(
                f"{engine}: token-probability confidence, chain --quick ({n} gate calls)",
                f"{tokens:.1f} s vs written percent {verbal:.1f} s", "the written percent",
                tokens / verbal, "<= 1.2 to adopt", tokens / verbal <= 1.2,
            ))  # fmt: skip
    return rows
