"""Confidence as the model answers it, and the one gate rule every pattern shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import BaseModel, Field, PrivateAttr, computed_field

DEFAULT_THRESHOLD = 0.7

Percent = Annotated[int, Field(ge=0, le=100)]
"""A confidence as the model answers it: small models answer a 0..100 integer far
more reliably than a 0..1 float (29/30 valid answers against 14/30, measured)."""


class Confident(BaseModel):
    """Mixin for answers with a ``confidence_percent: Percent`` field (declare it last,
    so the model states its answer before how sure it is); adds ``confidence`` in 0..1.

    ``decision`` names the field the confidence is about. With
    ``LLM(confidence="tokens")`` on an endpoint that returns log probabilities, the
    confidence is the probability the model gave the value it chose for that field, among
    the values it could have chosen (``true``/``false``, or the labels), not the percent
    it wrote."""

    decision: ClassVar[str | None] = None
    _token_confidence: float | None = PrivateAttr(default=None)

    if TYPE_CHECKING:
        confidence_percent: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def confidence(self) -> float:
        if self._token_confidence is not None:
            return self._token_confidence
        return self.confidence_percent / 100

    @computed_field  # type: ignore[prop-decorator]
    @property
    def confidence_source(self) -> Literal["verbal", "tokens"]:
        return "verbal" if self._token_confidence is None else "tokens"

    def with_token_confidence(self, probability: float) -> Confident:
        copy = self.model_copy()
        copy._token_confidence = probability
        return copy


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
