"""The core every pattern shares: a typed LLM call, usage accounting, a clock, the gate rule.

``LLM.parse`` (sync) and ``LLM.aparse`` (async) send a system message and the
user's text to any OpenAI-compatible endpoint and return a validated Pydantic
model. An answer that is not valid JSON, or fails validation, goes back to the
model with the error, a bounded number of times; then ``StructuredOutputError``
carries every attempt.

Configuration comes from arguments, or from the environment:

=========================== =====================================================
``PATTERNS_BASE_URL``       endpoint, e.g. ``http://127.0.0.1:8080/v1``
                            (falls back to ``OPENAI_BASE_URL``, then OpenAI)
``PATTERNS_API_KEY``        key (falls back to ``OPENAI_API_KEY``; local servers
                            need none)
``PATTERNS_MODEL``          model name (default: the embedded model's name)
``PATTERNS_STRUCTURED_MODE`` ``json_schema`` (default), ``json_object`` or ``prompt``
=========================== =====================================================
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Generator
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from .errors import (
    Attempt,
    ConfigurationError,
    InputError,
    ModelResponseError,
    StructuredOutputError,
    TokenBudgetExceeded,
)

logger = logging.getLogger("patterns.core")

T = TypeVar("T", bound=BaseModel)

StructuredMode = Literal["json_schema", "json_object", "prompt"]
STRUCTURED_MODES: tuple[StructuredMode, ...] = ("json_schema", "json_object", "prompt")

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct"
DEFAULT_THRESHOLD = 0.7


# --- Usage accounting -------------------------------------------------------------------


class Usage(BaseModel):
    """Tokens, requests and time spent; usages add up (``a + b``)."""

    model_config = ConfigDict(frozen=True)

    requests: int = 0
    """HTTP requests sent, validation retries included."""
    retries: int = 0
    """Requests that were validation retries."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    """Wall time spent waiting for the endpoint."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            requests=self.requests + other.requests,
            retries=self.retries + other.retries,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            latency_s=self.latency_s + other.latency_s,
        )


class CallRecord(BaseModel):
    """One typed call of a run: which step, which model, what it cost."""

    step: str
    model: str
    usage: Usage


@dataclass
class Trace:
    """Collects the calls of one pattern run; ``usage`` is their total.

    ``token_budget`` caps the run: once the total reaches it, the next request
    raises ``TokenBudgetExceeded`` instead of being sent.
    """

    token_budget: int | None = None
    calls: list[CallRecord] = field(default_factory=list)

    @property
    def usage(self) -> Usage:
        return sum((c.usage for c in self.calls), Usage())

    def check_budget(self, pending: Usage) -> None:
        used = (self.usage + pending).total_tokens
        if self.token_budget is not None and used >= self.token_budget:
            raise TokenBudgetExceeded(
                f"this run has used {used} tokens of its budget of {self.token_budget}; "
                "raise token_budget or shorten the prompts"
            )


# --- Clock ------------------------------------------------------------------------------

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now().astimezone()


def fixed_clock(at: datetime | str) -> Clock:
    """A clock that always says ``at``: makes prompts that mention today reproducible."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return lambda: moment


def today_line(clock: Clock) -> str:
    """The sentence prompts use to say what day it is, from the injected clock."""
    return f"Today is {_day(clock().date())}."


def _day(d: date) -> str:
    return f"{d:%A} {d.isoformat()}"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE = {"today": 0, "tonight": 0, "tomorrow": 1, "day after tomorrow": 2}
_FILLERS = ("on ", "this ", "next ", "coming ", "the ")


def resolve_day(phrase: str, today: date) -> date | None:
    """The date a day phrase means, counted from ``today``; None if it cannot tell.

    Understands ISO dates, "today"/"tomorrow"/"day after tomorrow", weekdays
    ("Friday", "on Friday", "next Tuesday": the first such day after today),
    "in N days" and month-day forms ("December 3", "3 Dec", "Dec 3rd").
    """
    text = " ".join(phrase.lower().replace(",", " ").split())
    with suppress(ValueError):
        return date.fromisoformat(text)
    if text.startswith("in ") and text.endswith((" days", " day")) and text.split()[1].isdigit():
        return today + timedelta(days=int(text.split()[1]))
    while text.startswith(_FILLERS):
        text = text.split(" ", 1)[1]
    if text in _RELATIVE:
        return today + timedelta(days=_RELATIVE[text])
    if text in WEEKDAYS:
        ahead = (WEEKDAYS.index(text) - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    return _month_day(text, today)


def _month_day(text: str, today: date) -> date | None:
    words = " ".join(w.rstrip("stndrh") if w[:1].isdigit() else w for w in text.split())
    for fmt in ("%B %d", "%d %B", "%b %d", "%d %b"):
        with suppress(ValueError):
            parsed = datetime.strptime(f"{words} {today.year}", f"{fmt} %Y").date()
            return parsed if parsed >= today else parsed.replace(year=today.year + 1)
    return None


# --- Confidence and the gate rule ---------------------------------------------------------


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


# --- The typed call ---------------------------------------------------------------------


def _env(*names: str) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


@dataclass(frozen=True)
class LLM:
    """A model behind an OpenAI-compatible endpoint, and how to ask it for typed output."""

    model: str = DEFAULT_MODEL
    client: OpenAI | None = None
    aclient: AsyncOpenAI | None = None
    mode: StructuredMode = "json_schema"
    temperature: float = 0.0
    max_tokens: int = 1024
    validation_retries: int = 2
    retry_temperature_step: float = 0.3
    """Each retry raises the temperature by this much: at temperature 0 a
    deterministic local model repeats the same invalid answer."""
    max_input_chars: int = 20_000

    @classmethod
    def from_env(
        cls,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        mode: StructuredMode | None = None,
        max_retries: int = 2,
        timeout: float = 120.0,
        **settings: Any,
    ) -> LLM:
        """Build clients from arguments, falling back to the environment (module docstring).

        ``max_retries`` is the openai SDK's own retry count for transport errors,
        429 and 5xx answers (with backoff); validation retries are separate.
        """
        base_url = base_url or _env("PATTERNS_BASE_URL", "OPENAI_BASE_URL")
        api_key = api_key or _env("PATTERNS_API_KEY", "OPENAI_API_KEY")
        if base_url is None and api_key is None:
            raise ConfigurationError(
                "no endpoint configured: set PATTERNS_BASE_URL (any OpenAI-compatible "
                "server) or OPENAI_API_KEY, or run under `patterns-server exec -- ...` "
                "to use the embedded local model"
            )
        chosen_mode = mode or _env("PATTERNS_STRUCTURED_MODE") or "json_schema"
        if chosen_mode not in STRUCTURED_MODES:
            raise ConfigurationError(
                f"PATTERNS_STRUCTURED_MODE={chosen_mode!r}; expected one of {STRUCTURED_MODES}"
            )
        key = api_key or "not-needed"  # local servers ignore the key, the SDK wants one
        common: dict[str, Any] = {
            "base_url": base_url,
            "api_key": key,
            "max_retries": max_retries,
            "timeout": timeout,
        }
        return cls(
            model=model or _env("PATTERNS_MODEL") or DEFAULT_MODEL,
            client=OpenAI(**common),
            aclient=AsyncOpenAI(**common),
            mode=chosen_mode,
            **settings,
        )

    def with_settings(self, **settings: Any) -> LLM:
        """A copy with other settings (e.g. ``validation_retries=0``), same clients."""
        return replace(self, **settings)

    async def aclose(self) -> None:
        """Close both clients' connection pools."""
        if self.client is not None:
            self.client.close()
        if self.aclient is not None:
            await self.aclient.close()

    def parse(
        self,
        output_type: type[T],
        *,
        system: str,
        user: str,
        step: str,
        trace: Trace | None = None,
        context: dict[str, Any] | None = None,
    ) -> T:
        """Ask for one ``output_type``; the sync twin of ``aparse``."""
        if self.client is None:
            raise ConfigurationError("this LLM has no sync client; use LLM.from_env()")
        conversation = self._conversation(output_type, system, user, step, context)
        meter = _Meter(trace if trace is not None else Trace(), step, self.model)
        request = next(conversation)
        try:
            while True:
                started = meter.before()
                completion = self.client.chat.completions.create(**request)
                request = conversation.send(meter.after(completion, started))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        finally:
            meter.close()

    async def aparse(
        self,
        output_type: type[T],
        *,
        system: str,
        user: str,
        step: str,
        trace: Trace | None = None,
        context: dict[str, Any] | None = None,
    ) -> T:
        """Ask for one ``output_type`` without blocking the event loop.

        ``context`` reaches the output type's validators (pydantic's validation
        context): a validator that rejects an answer sends its message back to the
        model like any other validation error.
        """
        if self.aclient is None:
            raise ConfigurationError("this LLM has no async client; use LLM.from_env()")
        conversation = self._conversation(output_type, system, user, step, context)
        meter = _Meter(trace if trace is not None else Trace(), step, self.model)
        request = next(conversation)
        try:
            while True:
                started = meter.before()
                completion = await self.aclient.chat.completions.create(**request)
                request = conversation.send(meter.after(completion, started))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        finally:
            meter.close()

    def _conversation(
        self,
        output_type: type[T],
        system: str,
        user: str,
        step: str,
        context: dict[str, Any] | None,
    ) -> Generator[dict[str, Any], ChatCompletion, T]:
        """The retry loop, written once: yields requests, receives completions.

        ``parse`` and ``aparse`` only differ in how they send a request.
        """
        _check_input(user, self.max_input_chars)
        schema = output_type.model_json_schema()
        messages: list[dict[str, str]] = [
            {"role": "system", "content": self._instructions(system, schema)},
            {"role": "user", "content": user},
        ]
        attempts: list[Attempt] = []
        for attempt in range(self.validation_retries + 1):
            completion = yield self._request(messages, output_type.__name__, schema, attempt)
            text = _answer_text(completion)
            logger.debug("step %s attempt %d raw answer: %s", step, attempt, text)
            try:
                return output_type.model_validate_json(_json_part(text), context=context)
            except ValidationError as error:
                problem = _describe(error, completion)
            attempts.append(Attempt(text=text, error=problem))
            logger.info(
                "step %s: invalid answer (%s), %s",
                step,
                problem,
                "retrying" if attempt < self.validation_retries else "giving up",
            )
            messages += [
                {"role": "assistant", "content": text},
                {
                    "role": "user",
                    "content": (
                        f"That answer is invalid: {problem}\n"
                        "Reply again with only the corrected JSON object."
                    ),
                },
            ]
        raise StructuredOutputError(step, output_type.__name__, attempts)

    def _instructions(self, system: str, schema: dict[str, Any]) -> str:
        if self.mode == "json_schema":
            return system  # the endpoint enforces the schema, descriptions included
        compact = json.dumps(_untitled(schema), separators=(",", ":"))
        return f"{system}\n\nReply with one JSON object that matches this JSON schema: {compact}"

    def _request(
        self, messages: list[dict[str, str]], name: str, schema: dict[str, Any], attempt: int
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": list(messages),
            "temperature": round(
                min(1.0, self.temperature + attempt * self.retry_temperature_step), 2
            ),
            "max_tokens": self.max_tokens,
        }
        if self.mode == "json_schema":
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": False},
            }
        elif self.mode == "json_object":
            # llama-cpp-python's server turns this schema into a grammar.
            request["response_format"] = {"type": "json_object", "schema": schema}
        return request


@dataclass
class _Meter:
    """Counts the requests of one typed call and files them in the run's trace."""

    trace: Trace
    step: str
    model: str
    usage: Usage = field(default_factory=Usage)

    def before(self) -> float:
        self.trace.check_budget(self.usage)
        return time.perf_counter()

    def after(self, completion: ChatCompletion, started: float) -> ChatCompletion:
        tokens = completion.usage
        self.usage += Usage(
            requests=1,
            retries=1 if self.usage.requests else 0,
            prompt_tokens=tokens.prompt_tokens if tokens else 0,
            completion_tokens=tokens.completion_tokens if tokens else 0,
            latency_s=time.perf_counter() - started,
        )
        return completion

    def close(self) -> None:
        """File the call, failed ones too: usage totals include every retry."""
        if self.usage.requests == 0:
            return
        self.trace.calls.append(CallRecord(step=self.step, model=self.model, usage=self.usage))
        logger.info(
            "step %s: %d request(s), %d+%d tokens, %.2fs",
            self.step,
            self.usage.requests,
            self.usage.prompt_tokens,
            self.usage.completion_tokens,
            self.usage.latency_s,
        )


def _untitled(schema: Any) -> Any:
    """The schema without pydantic's "title" keys: tokens the model does not need."""
    if isinstance(schema, dict):
        return {
            k: _untitled(v) for k, v in schema.items() if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_untitled(v) for v in schema]
    return schema


def _check_input(text: str, limit: int) -> None:
    if not text.strip():
        raise InputError("the input text is empty")
    if len(text) > limit:
        raise InputError(
            f"the input is {len(text):,} characters, over the limit of {limit:,}; "
            "shorten it or raise LLM(max_input_chars=...)"
        )


def _answer_text(completion: ChatCompletion) -> str:
    if not completion.choices:
        raise ModelResponseError("the endpoint returned a completion with no choices")
    message = completion.choices[0].message
    if message.refusal:
        raise ModelResponseError(f"the model refused: {message.refusal}")
    return message.content or ""


def _json_part(text: str) -> str:
    """The JSON object inside an answer (prompted mode may wrap it in prose or fences)."""
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def _describe(error: ValidationError, completion: ChatCompletion) -> str:
    if completion.choices[0].finish_reason == "length":
        return "the answer was cut off at max_tokens before the JSON was complete"
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}"
        for e in error.errors(include_url=False)
    )
