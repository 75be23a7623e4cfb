"""A metric's details for the report, typed: a confusion matrix and threshold sweep, a
multiclass breakdown, a trajectory, or usage. One discriminated union (``kind``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field


class Confusion(BaseModel):
    """A yes/no decision's cells (case weights: whole numbers without repeats)."""

    tp: float
    fp: float
    fn: float
    tn: float


class SweepRow(BaseModel):
    threshold: float
    accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    false_positive_rate: float | None


class BinaryDetail(BaseModel):
    kind: Literal["binary"] = "binary"
    confusion: Confusion
    roc_auc: float | None = None
    sweep: list[SweepRow] = []
    best: SweepRow | None = None
    """The sweep row with the highest F1 (the lowest threshold among ties)."""
    threshold: float | None = None
    """The configured threshold, marked on the sweep."""


class ClassScores(BaseModel):
    precision: float | None
    recall: float | None
    f1: float | None
    support: float


class MulticlassDetail(BaseModel):
    kind: Literal["multiclass"] = "multiclass"
    confusion: dict[str, dict[str, int]]
    """counts[expected][predicted], over every answered repeat."""
    per_class: dict[str, ClassScores]
    confidence_roc_auc: float | None = None


class TrajectoryPoint(BaseModel):
    judged: float | None
    cohesion: float | None


class TrajectoryDetail(BaseModel):
    kind: Literal["trajectory"] = "trajectory"
    rounds: dict[int, TrajectoryPoint]


class UsageDetail(BaseModel):
    kind: Literal["usage"] = "usage"
    cases: int
    requests: int
    prompt_tokens: int
    completion_tokens: int
    latency_p50_s: float | None
    latency_p95_s: float | None
    cost_usd: float | None = None


Detail = Annotated[
    BinaryDetail | MulticlassDetail | TrajectoryDetail | UsageDetail, Field(discriminator="kind")
]
