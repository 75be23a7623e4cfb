"""The README's commands cannot rot: every shell command in its Quickstart, "Regression-test
your own prompts" and "Evaluate your own prompt" sections names a nox session, an extra,
a file and flags that exist, and each `patterns-evals` command line parses. (What they
do is run elsewhere: the plugin's record/replay/changed-prompt cycle on the example
project in ``tests/testing/test_plugin.py``, the example suite through the command line
in ``tests/evals/test_evaluate.py``, the sessions in CI and ``nox -s example``.)"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from evals.cli import parser as evals_parser
from patterns.server._cli import parser as server_parser

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
SECTIONS = ("## Quickstart", "## Regression-test your own prompts", "### Evaluate your own prompt")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SESSIONS = set(re.findall(r"^def (\w+)\(session", (ROOT / "noxfile.py").read_text(), re.M))
PYTEST_FLAGS = {"--record-mode", "--snapshot-update", "--block-network", "-p", "-k", "-x", "-q"}


def section(title: str) -> str:
    start = README.index(title)
    level = title.split(" ")[0]
    following = [
        README.find(f"\n{level} ", start + 1),
        README.find(f"\n{level[:-1]} ", start + 1) if len(level) > 2 else -1,
    ]
    ends = [e for e in following if e > 0]
    return README[start : min(ends) if ends else len(README)]


def commands() -> list[tuple[str, str]]:
    found = []
    for title in SECTIONS:
        for block in re.findall(r"```bash\n(.*?)```", section(title), re.S):
            for line in block.splitlines():
                line = line.split("  #")[0].strip()
                if line and not line.startswith("#"):
                    found.append((title, line))
        found += [(title, c) for c in re.findall(r"`((?:OPENAI_API_KEY=\S+ )?pytest [^`]*)`",
                                                  section(title))]  # fmt: skip
    return found


COMMANDS = commands()


def test_the_sections_hold_commands() -> None:
    assert {title for title, _ in COMMANDS} == set(SECTIONS)


@pytest.mark.parametrize(("title", "line"), COMMANDS, ids=[c for _, c in COMMANDS])
def test_each_readme_command_names_what_exists(title: str, line: str) -> None:
    words = shlex.split(line.replace("\n", " "))
    while words and re.match(r"^[A-Z_]+=", words[0]):
        words.pop(0)  # VAR=value before the command
    tool, args = words[0], words[1:]
    if tool == "nox":
        assert args[:1] == ["-s"], line
        assert args[1] in SESSIONS, f"no nox session {args[1]}"
    elif tool == "pip":
        extras = set(PYPROJECT["project"]["optional-dependencies"])
        # the package is on no index: never installed by its bare name
        assert not any(a.startswith("llm-workflow-patterns") for a in args), line
        ours = ("llm-workflow-patterns[", ".[", "./llm-workflow-patterns[")
        for target in (a for a in args if a.startswith(ours)):
            wanted = set(re.sub(r".*\[(.*)\].*", r"\1", target).split(","))
            assert wanted <= extras, f"{line}: no extra {wanted - extras}"
    elif tool == "patterns-evals":
        evals_parser().parse_args(args)  # exits (fails the test) on an unknown flag
        for path in (a for a in args if a.endswith(".py")):
            assert (ROOT / path).is_file(), f"{line}: no file {path}"
    elif tool == "git":
        assert args[:1] == ["clone"], line
        assert args[1] == PYPROJECT["project"]["urls"]["Homepage"], f"{line}: not the project"
    elif tool == "patterns-server":
        server_parser().parse_args(args)
    elif tool == "pytest":
        flags = {a.split("=")[0] for a in args if a.startswith("-")}
        assert flags <= PYTEST_FLAGS, f"{line}: unknown flags {flags - PYTEST_FLAGS}"
    else:
        pytest.fail(f"{title}: a command this test does not know: {line!r}")


def test_the_changelog_links_nothing_relative() -> None:
    """The changelog is read at the repository's root and, through a link, as a page of
    the documentation site: a relative link resolves in one place only, and the site's
    strict build fails on it."""
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    relative = re.findall(r"\]\((?!https?://|#)([^)]+)\)", changelog)
    assert not relative, f"relative links in CHANGELOG.md: {relative}"
