"""``evaluate()``'s arguments checked as the command line checks its flags, with the same
messages, before anything runs: a wrong type or value is one ``EvalError`` line, never an
``AttributeError`` or a pydantic error about an internal model."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._runner import Options
from .gates import EvalError
from .models import ModelConfig

SPLITS = ("dev", "test")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive(value: object, flag: str) -> None:
    if not _number(value) or not math.isfinite(value) or value <= 0:  # type: ignore[operator,arg-type]
        raise EvalError(f"{flag} {value!r}: must be a positive number of seconds")


def _listed(value: object, what: str) -> None:
    """A list where one is expected: a lone string would be read one character a time."""
    if isinstance(value, str | Path | bytes) or not isinstance(value, Sequence):
        raise EvalError(f"{what} {value!r}: give a list (e.g. [{value!r}])")


def checked_options(options: Options | None) -> Options:
    """The options, with paths given as strings made paths; anything else wrong raises."""
    if options is None:
        return Options()
    if not isinstance(options, Options):
        raise EvalError(f"options {type(options).__name__}: give evals.Options(...)")
    for name in ("out", "cache"):
        value = getattr(options, name)
        if isinstance(value, str):
            changed: dict[str, Any] = {name: Path(value)}
            options = dataclasses.replace(options, **changed)
        elif not (isinstance(value, Path) or (name == "cache" and value is None)):
            raise EvalError(f"--{name} {value!r}: a folder path")
    if not _whole(options.epochs) or options.epochs < 1:
        raise EvalError(f"--epochs {options.epochs!r}: must be 1 or more (a whole number)")
    if options.concurrency is not None and (
        not _whole(options.concurrency) or not 1 <= options.concurrency <= 1024
    ):
        raise EvalError(f"--concurrency {options.concurrency!r}: must be between 1 and 1024")
    _positive(options.timeout, "--timeout")
    if options.case_timeout is not None:
        _positive(options.case_timeout, "--case-timeout")
    if options.limit is not None and (not _whole(options.limit) or options.limit < 1):
        raise EvalError(f"--limit {options.limit!r}: must be 1 or more")
    if options.shard is not None and not (
        len(options.shard) == 2
        and all(_whole(x) for x in options.shard)
        and 1 <= options.shard[0] <= options.shard[1]
    ):
        raise EvalError(f"--shard {options.shard!r}: I/N with 1 <= I <= N")
    if options.splits is not None:
        _listed(sorted(options.splits) if isinstance(options.splits, set) else options.splits,
                "--split")  # fmt: skip
        unknown = sorted(str(s) for s in options.splits if s not in SPLITS)
        if unknown:
            raise EvalError(f"--split {', '.join(unknown)}: choose from {', '.join(SPLITS)}")
    return options


def checked_call(
    suites: object,
    models: object,
    judge: object,
    max_error_rate: object,
    fail_on_regression: object,
    floors: object,
) -> None:
    _listed(suites, "suites")
    if not suites:
        raise EvalError("no suite to evaluate")
    _listed(models, "models")
    _listed(floors, "floors")
    if judge is not None and not isinstance(judge, str | ModelConfig):
        raise EvalError(f"judge {judge!r}: a model name, NAME@URL, or a ModelConfig")
    if not _number(max_error_rate) or not 0 <= max_error_rate <= 1:  # type: ignore[operator]
        raise EvalError(f"--max-error-rate {max_error_rate!r}: must be between 0 and 1")
    if fail_on_regression is not None and (
        not _number(fail_on_regression) or not 0 < fail_on_regression < 1  # type: ignore[operator]
    ):
        raise EvalError(f"--fail-on-regression {fail_on_regression!r}: a p threshold in (0, 1)")


def checked_prices(prices: object, models: Sequence[ModelConfig]) -> dict[str, tuple[float, float]]:
    """``{model: (in, out)}`` USD per million tokens, for models of this run."""
    if prices is None:
        return {}
    if not isinstance(prices, dict):
        raise EvalError(f"prices {prices!r}: a dict of MODEL -> (IN, OUT)")
    names = {m.name for m in models}
    found: dict[str, tuple[float, float]] = {}
    for name, value in prices.items():
        pair: Any = value
        if not (
            isinstance(pair, tuple | list)
            and len(pair) == 2
            and all(_number(x) and math.isfinite(x) and x >= 0 for x in pair)
        ):
            raise EvalError(
                f"--price {name}={value!r}: expected MODEL=IN,OUT (USD per million tokens, "
                "two numbers)"
            )
        if name not in names:
            raise EvalError(f"--price {name}: {name!r} is not a model of this run")
        found[str(name)] = (float(pair[0]), float(pair[1]))
    return found
