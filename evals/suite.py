"""A suite: a dataset, a task that runs a case on a model, checks and report metrics.

    from evals import Suite, Equals, Accuracy, TaskContext

    async def classify(llm: LLM, text: str, context: TaskContext) -> Label:
        return await llm.aparse(Label, system=PROMPT, user=text, step="classify",
                                trace=context.trace)

    SUITE = Suite(
        name="sentiment",
        dataset=Path(__file__).parent / "sentiment.yaml",
        input_type=str, expected_type=str,
        task=classify,
        checks=[Equals("label", got=lambda o: o.label, want=lambda e: e)],
        measures=[Accuracy("label")],
    )

A Python file anywhere that defines ``SUITE`` (or ``SUITES``) runs with
``patterns-evals run path/to/file.py``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

import patterns
from patterns import LLM, Trace

from .checks import Check, Judge
from .data import Case, Dataset, load
from .errors import EvalsError
from .measures import Accuracy, Measure

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class SuiteError(EvalsError, ValueError):
    """A suite file that cannot be used (one line: which file, what is wrong)."""


@dataclass(frozen=True)
class TaskContext:
    """What a task may use besides the model and the input."""

    case: Case[Any, Any]
    trace: Trace
    judge: LLM
    examples: Sequence[Case[Any, Any]] = ()
    """For a suite made with ``examples=True``: the dataset's dev-split cases other than
    this one (whatever ``--split``, ``--quick`` or ``--case`` select), as worked examples
    a task may show the model. Never a test case, never the case itself."""


InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
Task = Callable[[LLM, InputT, TaskContext], Awaitable[OutputT]]


@dataclass(frozen=True)
class Suite(Generic[InputT, OutputT]):
    """A dataset, a task, checks of the task's output and measures. Generic in the task's
    input and output: a type checker sees a check that reads another type of output."""

    name: str
    dataset: Path | Callable[[], Dataset[Any, Any]]
    """A YAML file, or a function that builds the dataset (e.g. variants of another)."""
    task: Task[InputT, OutputT]
    input_type: type[Any] = str
    expected_type: type[Any] = dict
    checks: Sequence[Check[OutputT] | Judge[OutputT]] = ()
    measures: Sequence[Measure] = ()
    cluster: str | None = None
    """A metadata key whose value groups related cases (paraphrases, obfuscations,
    templates of one source): each group weighs one case in every interval and paired
    test, and n counts groups. A case's own ``cluster`` metadata does the same."""
    group_by: Sequence[str] = ("split",)
    """Metadata keys (or ``split``) whose values get their own rows in the report."""
    sources: Sequence[ModuleType | Path] = ()
    """Code whose text is part of the run's identity, besides the task's own module: the
    prompts and schemas the task sends. A change to any starts a new run, never a resume."""
    uses_model: bool = True
    """False for suites that measure deterministic code (no model, no server needed)."""
    judged: bool = False
    """True: the task or a check asks a judge model (``TaskContext.judge``); a suite with a
    ``Judge`` check is judged whatever this says. The report names the judge, and says
    when a model judges its own outputs."""
    examples: bool = False
    """True: each task gets the dataset's other dev-split cases (``TaskContext.examples``),
    and their content is part of the run's identity."""
    extra: dict[str, Any] = field(default_factory=dict)
    origin: str | None = None
    """The suite file it was loaded from (None: built in, or made in code); a run
    records it, so that ``compare`` finds the suite's measures again."""

    def __post_init__(self) -> None:
        """Everything a suite declares is checked when it is made: a bad one fails at
        load (one line), never in the middle of a run."""
        if not SAFE_NAME.match(self.name) or ".." in self.name:
            raise SuiteError(
                f"suite name {self.name[:60]!r}: use letters, digits, '.', '_' and '-' "
                "(it names a folder under --out)"
            )
        names = [c.name for c in self.checks]
        if duplicated := sorted({n for n in names if names.count(n) > 1}):
            raise SuiteError(f"suite {self.name}: two checks named {', '.join(duplicated)}")
        for check in self.checks:
            problem = check.problem() if hasattr(check, "problem") else None
            if problem:
                raise SuiteError(f"suite {self.name}: check {check.name!r}: {problem}")
        for measure in self.measures:
            scale = getattr(measure, "scale", None)
            if scale is not None and not scale[0] < scale[1]:
                raise SuiteError(f"suite {self.name}: a scale of {scale} is empty or reversed")

    def with_dataset(self, path: Path) -> Suite[Any, Any]:
        """This suite on another dataset file; a suite that builds its cases in code
        cannot take one (``SuiteError``)."""
        if not isinstance(self.dataset, Path):
            raise SuiteError(
                f"suite {self.name} builds its cases in code and cannot take --dataset"
            )
        return replace(self, dataset=path)

    def load(self) -> Dataset[Any, Any]:
        if isinstance(self.dataset, Path):
            return load(self.dataset, self.input_type, self.expected_type)
        return self.dataset()

    @property
    def reported_measures(self) -> list[Measure]:
        """The suite's measures, and the pass rate (``CHECK.pass_rate``) of each check
        that no measure reads: no check is left out of the reports and comparisons."""
        read = {getattr(m, "check", None) for m in self.measures}
        implied = [
            Accuracy(c.name, name=f"{c.name}.pass_rate") for c in self.checks if c.name not in read
        ]
        return [*self.measures, *implied]

    @property
    def uses_judge(self) -> bool:
        return self.judged or any(isinstance(c, Judge) for c in self.checks)

    def source_digest(self) -> str:
        """A hash of the code that decides what the task sends: the task's module, the
        declared sources, and the ``patterns`` package."""
        digest = hashlib.sha256()
        modules: list[ModuleType | Path] = [*self.sources]
        if (module := inspect.getmodule(self.task)) is not None:
            modules.append(module)
        files = {Path(m) if isinstance(m, Path) else Path(inspect.getfile(m)) for m in modules}
        files |= set(Path(inspect.getfile(patterns)).parent.rglob("*.py"))
        for path in sorted(files):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()


def output_json(output: Any) -> Any:
    """A task's output as JSON data for the results file."""
    if isinstance(output, BaseModel):
        return output.model_dump(mode="json")
    if isinstance(output, list | tuple):
        return [output_json(o) for o in output]
    if isinstance(output, dict):
        return {k: output_json(v) for k, v in output.items()}
    return output


def load_suites(path: Path) -> list[Suite[Any, Any]]:
    """The suites a Python file defines (``SUITE`` or ``SUITES``)."""
    if not path.is_file():
        raise SuiteError(f"{path}: no such suite file")
    name = f"evals_user_suite_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SuiteError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))  # its own helpers, beside it
    try:
        spec.loader.exec_module(module)
    except BaseException as error:
        raise SuiteError(f"{path}: importing it failed: {type(error).__name__}: {error}") from None
    finally:
        sys.path.remove(str(path.parent))
    found = getattr(module, "SUITES", None) or ([module.SUITE] if hasattr(module, "SUITE") else [])
    if not found or not all(isinstance(s, Suite) for s in found):
        raise SuiteError(f"{path}: define SUITE = Suite(...) (or SUITES = [...])")
    return list(found)
