"""Confidence as the model answers it, and the one gate rule every pattern shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, Field, computed_field

DEFAULT_THRESHOLD = 0.7

Percent = Annotated[int, Field(ge=0, le=100)]
"""A confidence as the model answers it: small models answer a 0..100 integer far
more reliably than a 0..1 float (29/30 valid answers against 14/30, measured)."""


class Confident(BaseModel):
    """Mixin for answers with a ``confidence_percent: Percent`` field (declare it last,
    so the model states its answer before how sure it is); adds ``confidence`` in 0..1."""

    if TYPE_CHECKING:
        confidence_percent: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def confidence(self) -> float:
        return self.confidence_percent / 100


RejectionReason = Literal["not_calendar_event", "low_confidence", "unsupported_request", "unsafe"]


class Rejection(BaseModel):
    """Why a gate stopped a run."""

    reason: RejectionReason
    detail: str


def passes(confidence: float, threshold: float) -> bool:
    """The one gate rule every pattern uses: a confidence at the threshold passes."""
    return confidence >= threshold


def confidence_gate(confidence: float, threshold: float) -> Rejection | None:
    if passes(confidence, threshold):
        return None
    return Rejection(
        reason="low_confidence",
        detail=f"confidence {confidence:.2f} is below the threshold {threshold:.2f}",
    )
