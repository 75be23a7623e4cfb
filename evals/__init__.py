"""A small typed evals library: datasets of cases, suites of checks and metrics, runs that
resume only when nothing changed, paired comparisons, and reports.

The pattern evals (``evals/suites/``) are suites like any a user writes; see the README's
"Evaluate your own prompt".
"""

from .checks import Check, CheckContext, CheckResult, Criterion, Equals, Judge, Tolerance
from .compare import Comparison, compare
from .data import Case, Dataset, DatasetError, load
from .measures import Accuracy, Binary, Custom, Detection, Mean, MetricResult, Multiclass
from .metrics import Estimate
from .models import ModelConfig
from .records import Record
from .runner import Options, SuiteRun, run_suite
from .suite import Suite, TaskContext

__all__ = [
    "Accuracy",
    "Binary",
    "Case",
    "Check",
    "CheckContext",
    "CheckResult",
    "Comparison",
    "Criterion",
    "Custom",
    "Dataset",
    "DatasetError",
    "Detection",
    "Equals",
    "Estimate",
    "Judge",
    "Mean",
    "MetricResult",
    "ModelConfig",
    "Multiclass",
    "Options",
    "Record",
    "Suite",
    "SuiteRun",
    "TaskContext",
    "Tolerance",
    "compare",
    "load",
    "run_suite",
]
