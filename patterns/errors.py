"""Typed errors raised by the core. Every one says what happened and what to do."""

from __future__ import annotations

from dataclasses import dataclass


class PatternsError(Exception):
    """Base class for every error this package raises on purpose."""


class ConfigurationError(PatternsError):
    """No endpoint, model or key could be worked out from arguments and environment."""


class InputError(PatternsError):
    """The user text cannot be sent: empty, or larger than the configured limit."""


class TokenBudgetExceeded(PatternsError):
    """A run used more tokens than its budget allows; no further request was made."""


@dataclass(frozen=True)
class Attempt:
    """One answer the model gave and why it was not accepted."""

    text: str
    error: str
    """Why it was not accepted, as the model was told."""
    public: str | None = None
    """The same, fit to show a person (None: ``error`` is); no data only the model may see."""

    @property
    def shown(self) -> str:
        return self.error if self.public is None else self.public


class StructuredOutputError(PatternsError):
    """The model never produced output that validates, after every allowed retry.

    ``attempts`` holds each raw answer and its validation error, in order, so
    nothing the model said is lost.
    """

    def __init__(self, step: str, output_type: str, attempts: list[Attempt]) -> None:
        self.step = step
        self.output_type = output_type
        self.attempts = attempts
        last = attempts[-1].shown if attempts else "no answer"
        super().__init__(
            f"step {step!r}: the model gave no valid {output_type} in {len(attempts)} "
            f"attempt(s); last error: {last}. Try a stronger model, a simpler schema, "
            "or more validation retries."
        )


class ModelResponseError(PatternsError):
    """The endpoint answered, but not with a usable chat completion (no choices, a refusal)."""


class EndpointError(PatternsError):
    """The endpoint could not be reached, timed out, or kept failing (5xx) after retries."""


class RateLimited(EndpointError):
    """The endpoint kept answering 429 after every retry with backoff."""


class ModelNotFound(PatternsError):
    """The endpoint does not serve the model asked for (404)."""


class AuthenticationFailed(PatternsError):
    """The endpoint refused the key (401/403). The key itself is never shown."""


class RequestRejected(PatternsError):
    """The endpoint refused the request as malformed (400/422)."""
