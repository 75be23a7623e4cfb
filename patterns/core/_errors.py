"""Typed errors. Every one says what happened and what to do, and carries its data.

PatternsError
├── ConfigurationError          no endpoint, model or key could be worked out
├── InputError                  the user text cannot be sent
├── TokenBudgetExceeded         a run's token budget is spent
├── StructuredOutputError       no valid answer after every retry (attempts, usage)
├── ModelResponseError          an answer that is not a usable chat completion
├── EndpointError               the endpoint failed (status_code, endpoint, model)
│   ├── RateLimited             429 after every retry
│   ├── ModelNotFound           404: no such model
│   ├── AuthenticationFailed    401/403: the key was refused
│   └── RequestRejected         400/422: the request was refused as malformed
└── ServerError                 the embedded server could not be started or used
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._usage import Usage


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

    def __init__(
        self, step: str, output_type: str, attempts: list[Attempt], usage: Usage | None = None
    ) -> None:
        self.step = step
        self.output_type = output_type
        self.attempts = attempts
        self.usage = usage
        """What the attempts spent (None where no request was counted)."""
        last = attempts[-1].shown if attempts else "no answer"
        super().__init__(
            f"step {step!r}: the model gave no valid {output_type} in {len(attempts)} "
            f"attempt(s); last error: {last}. Try a stronger model, a simpler schema, "
            "or more validation retries."
        )


class ModelResponseError(PatternsError):
    """The endpoint answered, but not with a usable chat completion (no choices, a refusal)."""


class EndpointError(PatternsError):
    """The endpoint could not be reached, timed out, or kept failing (5xx) after retries.

    ``status_code`` is the HTTP status (None: no answer), ``endpoint`` the URL as
    messages name it (no userinfo, no secret query values), ``model`` the model asked."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        endpoint: str | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.endpoint = endpoint
        self.model = model


class RateLimited(EndpointError):
    """The endpoint kept answering 429 after every retry with backoff."""


class ModelNotFound(EndpointError):
    """The endpoint does not serve the model asked for (404)."""


class AuthenticationFailed(EndpointError):
    """The endpoint refused the key (401/403). The key itself is never shown."""


class RequestRejected(EndpointError):
    """The endpoint refused the request as malformed (400/422)."""


class ServerError(PatternsError):
    """The embedded model server could not be installed, started or reached."""
