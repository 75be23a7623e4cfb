"""A small typed evals library: datasets of cases, suites of checks and measures, runs that
resume only when nothing changed, paired comparisons, gates and reports; ``evaluate()``
runs a complete evaluation from Python.

The pattern evals (``evals/suites/``) are suites like any a user writes; see the README's
"Evaluate your own prompt".
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._batch import BatchError, Batching
    from ._records import Record
    from ._runner import Options, SuiteRun, run_suite
    from .calibrated import Abstention, FlagAtRate, GateOnDev
    from .checks import (
        Check,
        CheckContext,
        CheckResult,
        Criterion,
        Equals,
        Judge,
        Tolerance,
        ToolCalled,
    )
    from .compare import Comparison, ComparisonError, compare
    from .data import Case, Dataset, DatasetError, load
    from .decisions import Binary, Detection, Multiclass
    from .details import BinaryDetail, Detail, MulticlassDetail, TrajectoryDetail, UsageDetail
    from .errors import EvalsError
    from .evaluate import Report, aevaluate, compare_runs, evaluate
    from .gates import EvalError, Floor
    from .measures import (
        Accuracy,
        Average,
        Custom,
        FailureRate,
        Mean,
        Measure,
        MetricDelta,
        MetricResult,
        Proportion,
    )
    from .merge import merge
    from .metrics import Estimate
    from .models import ModelConfig
    from .suite import Suite, TaskContext

_WHERE = {
    "Abstention": ".calibrated",
    "Accuracy": ".measures",
    "Average": ".measures",
    "BatchError": "._batch",
    "Batching": "._batch",
    "Binary": ".decisions",
    "BinaryDetail": ".details",
    "Case": ".data",
    "Check": ".checks",
    "CheckContext": ".checks",
    "CheckResult": ".checks",
    "Comparison": ".compare",
    "ComparisonError": ".compare",
    "Criterion": ".checks",
    "Custom": ".measures",
    "Dataset": ".data",
    "DatasetError": ".data",
    "Detail": ".details",
    "Detection": ".decisions",
    "Equals": ".checks",
    "ToolCalled": ".checks",
    "Estimate": ".metrics",
    "EvalError": ".gates",
    "EvalsError": ".errors",
    "FailureRate": ".measures",
    "FlagAtRate": ".calibrated",
    "Floor": ".gates",
    "GateOnDev": ".calibrated",
    "Judge": ".checks",
    "Mean": ".measures",
    "Measure": ".measures",
    "MetricDelta": ".measures",
    "MetricResult": ".measures",
    "ModelConfig": ".models",
    "Multiclass": ".decisions",
    "MulticlassDetail": ".details",
    "Options": "._runner",
    "Proportion": ".measures",
    "Record": "._records",
    "Report": ".evaluate",
    "Suite": ".suite",
    "SuiteRun": "._runner",
    "TaskContext": ".suite",
    "Tolerance": ".checks",
    "TrajectoryDetail": ".details",
    "UsageDetail": ".details",
    "aevaluate": ".evaluate",
    "compare": ".compare",
    "compare_runs": ".evaluate",
    "evaluate": ".evaluate",
    "load": ".data",
    "merge": ".merge",
    "run_suite": "._runner",
}
"""Each public name and the module it lives in, imported when first used (PEP 562):
``import evals`` and ``patterns-evals --version`` load no model client, numpy or scipy."""


class _Package(types.ModuleType):
    """``evals.evaluate``, ``evals.compare`` and ``evals.merge`` name the functions, not
    their modules: importing a submodule sets the package's attribute to it, and here the
    function it defines wins (as ``from .merge import merge`` made it)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _WHERE.get(name) == f".{name}":
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'evals' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "Abstention",
    "Accuracy",
    "Average",
    "BatchError",
    "Batching",
    "Binary",
    "BinaryDetail",
    "Case",
    "Check",
    "CheckContext",
    "CheckResult",
    "Comparison",
    "ComparisonError",
    "Criterion",
    "Custom",
    "Dataset",
    "DatasetError",
    "Detail",
    "Detection",
    "Equals",
    "Estimate",
    "EvalError",
    "EvalsError",
    "FailureRate",
    "FlagAtRate",
    "Floor",
    "GateOnDev",
    "Judge",
    "Mean",
    "Measure",
    "MetricDelta",
    "MetricResult",
    "ModelConfig",
    "Multiclass",
    "MulticlassDetail",
    "Options",
    "Proportion",
    "Record",
    "Report",
    "Suite",
    "SuiteRun",
    "TaskContext",
    "Tolerance",
    "ToolCalled",
    "TrajectoryDetail",
    "UsageDetail",
    "aevaluate",
    "compare",
    "compare_runs",
    "evaluate",
    "load",
    "merge",
    "run_suite",
]
