"""Every Python block of the README and the docs runs as written.

A block is marked by the comment line before its fence:

- ``<!-- example: run -->``: executed here, in a fresh interpreter, against a scripted
  stub endpoint that answers each of the patterns' steps (what the block prints is not
  checked: that it runs, with the names and arguments it shows, is);
- ``<!-- example: model -->``: needs a real model; checked here for names it uses and
  never defines or imports (a missing ``import asyncio``), and executed on the embedded
  model by ``nox -s docs_examples`` (``DOCS_EXAMPLES_MODEL=1``);
- ``<!-- example: fragment -->``: a piece of a larger project (``examples/``, run by the
  tests as a whole): checked for syntax.

A Python block without a mark fails: nothing in the docs goes unchecked.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from patterns.testing.stub import Reply, schema_title, stub_server

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"(?:<!-- example: (\w+) -->\n)?```python\n(.*?)```", re.S)


def blocks() -> list[tuple[str, str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for number, match in enumerate(BLOCK.finditer(text), 1):
            name = f"{page.relative_to(ROOT)}#{number}"
            found.append((name, match[1] or "unmarked", match[2]))
    return found


BLOCKS = blocks()


def undefined_names(code: str) -> set[str]:
    """Names a block loads at module level, or in its functions, that nothing in it
    defines, imports or binds, and that are not builtins."""
    tree = ast.parse(code)
    bound = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
            if not isinstance(node, ast.ClassDef):
                args = node.args
                every = args.posonlyargs + args.args + args.kwonlyargs
                every += [a for a in (args.vararg, args.kwarg) if a is not None]
                bound |= {a.arg for a in every}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.comprehension | ast.ExceptHandler):
            for target in ast.walk(node):
                if isinstance(target, ast.Name):
                    bound.add(target.id)
    loaded = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    return loaded - bound


def test_every_python_block_is_marked() -> None:
    unmarked = [name for name, kind, _ in BLOCKS if kind not in ("run", "model", "fragment")]
    assert not unmarked, f"mark these blocks (example: run, model or fragment): {unmarked}"
    assert {kind for _, kind, _ in BLOCKS} >= {"run", "model", "fragment"}


@pytest.mark.parametrize(("name", "kind", "code"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_every_block_parses_and_uses_no_undefined_name(name: str, kind: str, code: str) -> None:
    ast.parse(code)
    if kind != "fragment":
        assert not undefined_names(code), f"{name} uses undefined names"


def test_the_undefined_name_check_finds_a_missing_import() -> None:
    assert undefined_names("result = asyncio.run(main())") == {"asyncio", "main"}
    assert not undefined_names("import asyncio\n\nasync def main(x):\n    return [y for y in x]")


def _event_choice(body: dict[str, Any]) -> dict[str, Any]:
    """The listed event whose words the message uses (the first one otherwise)."""
    labels = body["response_format"]["schema"]["properties"]["event"]["enum"]
    message = body["messages"][-1]["content"].lower()
    return {"event": next((label for label in labels if label.lower() in message), labels[0])}


ANSWERS: dict[str, Any] = {
    "EventExtraction": {"is_calendar_event": True, "confidence_percent": 95,
                        "description": "A lunch."},
    "DetailsAnswer": {"name": "Lunch with Ana", "day": "Friday", "start_time": "12:00",
                      "duration_minutes": 60, "participants": ["Ana"]},
    "Confirmation": {"confirmation_message": "Lunch with Ana is booked."},
    "RouteDecision": {"description": "A move.", "request_type": "modify_event",
                      "confidence_percent": 95},
    "EventChoice": _event_choice,
    "Kinds": {"changes": ["move"]},
    "MoveTo": {"day": "Friday", "start_time": "15:00"},
    "Names": {"names": ["Ana"]},
    "CalendarValidation": {"is_calendar_request": True, "confidence_percent": 95,
                           "description": "A move."},
    "SecurityAnswer": {"verdict": "ordinary_request"},
}  # fmt: skip


def _answer(body: dict[str, Any]) -> Reply:
    answer = ANSWERS[schema_title(body)]
    return Reply(json.dumps(answer(body) if callable(answer) else answer))


RUN = [b for b in BLOCKS if b[1] == "run"]
MODEL = [b for b in BLOCKS if b[1] == "model"]


@pytest.mark.parametrize(("name", "kind", "code"), RUN, ids=[b[0] for b in RUN])
def test_a_run_block_runs_as_written(name: str, kind: str, code: str, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(code)
    with stub_server(_answer) as stub:
        env = {**os.environ, "PATTERNS_BASE_URL": stub.base_url, "PATTERNS_API_KEY": "x",
               "PATTERNS_STRUCTURED_MODE": "json_object"}  # fmt: skip
        done = subprocess.run(
            [sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, f"{name}:\n{done.stderr[-2000:]}"
    assert done.stdout.strip() or "print(" not in code


@pytest.mark.skipif(not os.environ.get("DOCS_EXAMPLES_MODEL"), reason="nox -s docs_examples")
@pytest.mark.parametrize(("name", "kind", "code"), MODEL, ids=[b[0] for b in MODEL])
def test_a_model_block_runs_on_the_embedded_model(
    name: str, kind: str, code: str, tmp_path: Path
) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(code)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == 0, f"{name}:\n{done.stderr[-2000:]}"
