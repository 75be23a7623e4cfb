"""Defaults the command line shows in its help, kept apart so that parsing a command line
imports nothing heavy."""

from pathlib import Path

DEFAULT_OUT = Path("evals/runs")
"""Where runs go."""
DEFAULT_CACHE = Path("evals/cache")
"""Where answers are cached."""
DEFAULT_MAX_ERROR_RATE = 0.2
"""A run with more errors than this fails."""
