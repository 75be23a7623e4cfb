"""The patterns' command lines: a failure in a few lines, not a page of tracebacks."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ._errors import PatternsError
from ._usage import Trace

T = TypeVar("T")


def run_demo(
    work: Callable[[Trace], Coroutine[Any, Any, T]], show: Callable[[T], str], level: int
) -> int:
    """Run one pattern from the command line: ``show(result)`` on success (exit 0); on a
    failure, what failed, the steps that had succeeded and what to do, in a few lines on
    stderr (exit 1). The message of every error of this package says what to do."""
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(message)s")
    trace = Trace()
    try:
        result = asyncio.run(work(trace))
    except PatternsError as error:
        sys.stderr.write(f"error: {type(error).__name__}: {_first_lines(str(error))}\n")
        done = [f"{c.step} ({c.usage.requests} request(s), {c.usage.latency_s:.1f} s)"
                for c in trace.calls]  # fmt: skip
        sys.stderr.write(f"steps before it: {', '.join(done) or 'none'}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    sys.stdout.write(show(result) + "\n")
    return 0


def _first_lines(text: str, lines: int = 8, width: int = 600) -> str:
    kept = text.strip().splitlines()[:lines]
    return "\n".join(line[:width] for line in kept)
