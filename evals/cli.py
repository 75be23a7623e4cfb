"""``patterns-evals`` (also ``python -m evals``): run suites, compare runs, manage the cache.

    patterns-evals run                          # every built-in suite on the embedded model
    patterns-evals run calendar --quick         # the calendar suites, 2 cases per kind
    patterns-evals run path/to/my_suite.py --model gpt-4o-mini@https://api.openai.com/v1
    patterns-evals run --models models.yaml --fail-if 'router.accuracy<0.8'
    patterns-evals compare evals/runs-before evals/runs
    patterns-evals run calendar --shard 2/8 --out shard-2   # one of 8 workers
    patterns-evals merge shard-* --out evals/runs           # their runs as one
    patterns-evals cache clear
    patterns-evals schema chain > calendar_requests.schema.json

Every input is checked before the first request: a bad flag, model, floor or dataset
is one line on stderr and exit code 2. Exit 1: a floor failed. Exit 130: interrupted
(results kept; run again to resume).
"""

from __future__ import annotations

import logging
import os
import sys

from ._parser import parser

__all__ = ["main", "parser"]


def main(argv: list[str] | None = None) -> int:
    """The command line: parsed first, so that ``--version`` and ``--help`` import no
    model client, numpy or scipy (``evals._commands`` does the work)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["run", *argv]  # `patterns-evals --quick` runs
    args = parser().parse_args(argv)
    logging.basicConfig(level=os.environ.get("PATTERNS_LOG_LEVEL", "WARNING"))
    from ._commands import dispatch

    return dispatch(args)
