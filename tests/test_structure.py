"""Each pattern reads like its diagram: every box in the pattern's own module, the
calendar domain without model calls, the evals library without the patterns, and what
an import really loads (the import contracts in pyproject.toml check the rest)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CALENDAR = ROOT / "patterns" / "calendar"
CORE_NAMES_THE_DOMAIN_MAY_USE = {"Clock", "Tool", "ToolRetry", "tool", "Trace", "run_demo",
                                 "system_clock"}  # fmt: skip
"""What the calendar takes from the core: no ``LLM``, no typed call, no step."""


def _loaded(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(done.stdout.split())


def test_import_evals_loads_no_pattern_and_no_domain() -> None:
    loaded = _loaded("import evals")
    patterns = {m for m in loaded if m.split(".")[:2] != ["patterns", "core"]}
    assert not {m for m in patterns if m.startswith(("patterns.calendar", "patterns.router",
                                                     "patterns.chain", "patterns.parallel",
                                                     "patterns.orchestra"))}  # fmt: skip


def test_import_patterns_does_not_load_the_domain() -> None:
    assert not any(m.startswith("patterns.calendar") for m in _loaded("import patterns"))
    assert "patterns.calendar" in _loaded("import patterns; patterns.resolve_day")


@pytest.mark.parametrize("path", sorted(CALENDAR.glob("*.py")), ids=lambda p: p.name)
def test_the_calendar_domain_makes_no_model_call(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "core" and node.level == 2:
            taken = {alias.name for alias in node.names}
            assert taken <= CORE_NAMES_THE_DOMAIN_MAY_USE, f"{path.name} takes {taken}"
        if isinstance(node, ast.Attribute):
            assert node.attr not in {"aparse", "parse", "acall", "call"}, path.name


@pytest.mark.parametrize(
    ("module", "boxes"),
    [
        ("chain", ["EventExtraction", "EXTRACT_PROMPT", "DetailsAnswer", "DETAILS_PROMPT",
                   "Confirmation", "CONFIRM_PROMPT", "gate", "parse_event_details"]),
        ("router", ["RouteDecision", "ROUTE_PROMPT", "choice_type", "CHOOSE_PROMPT", "Kinds",
                    "KINDS_PROMPT", "SHAPES", "CHANGE_PROMPTS", "gate", "HANDLERS", "consistent",
                    "checked"]),
        ("parallel", ["CalendarValidation", "VALIDATION_PROMPT", "SecurityAnswer",
                      "SECURITY_PROMPT", "gate", "run_checks"]),
    ],
)  # fmt: skip
def test_every_box_of_a_pattern_is_defined_in_its_module(module: str, boxes: list[str]) -> None:
    tree = ast.parse((ROOT / "patterns" / f"{module}.py").read_text())
    defined = {
        target.id
        for node in tree.body
        for target in (
            [node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            else getattr(node, "targets", [getattr(node, "target", None)])
        )
        if target is not None and hasattr(target, "id")
    } | {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    assert set(boxes) <= defined, set(boxes) - defined


def test_the_router_shares_the_chains_details_step_and_parallel_takes_its_next() -> None:
    from patterns import chain, parallel, router

    assert router.parse_event_details is chain.parse_event_details
    import inspect

    assert "then" in inspect.signature(parallel.process_request).parameters
    assert "calendar" not in inspect.signature(parallel.process_request).parameters


def test_every_pattern_returns_one_result_shape() -> None:
    from patterns.chain import ChainResult
    from patterns.core import PatternResult
    from patterns.orchestra import OrchestraResult
    from patterns.parallel import ParallelResult
    from patterns.router import RouterResult

    for result in (ChainResult, RouterResult, ParallelResult, OrchestraResult):
        assert issubclass(result, PatternResult)
        assert {"outcome", "calls", "usage"} <= set(result.model_fields)
