"""A small typed evals library: datasets of cases, suites of checks and measures, runs that
resume only when nothing changed, paired comparisons, gates and reports; ``evaluate()``
runs a complete evaluation from Python.

The pattern evals (``evals/suites/``) are suites like any a user writes; see the README's
"Evaluate your own prompt".
"""

from ._batch import BatchError, Batching
from ._records import Record
from ._runner import Options, SuiteRun, run_suite
from .calibrated import Abstention, FlagAtRate, GateOnDev
from .checks import Check, CheckContext, CheckResult, Criterion, Equals, Judge, Tolerance
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
