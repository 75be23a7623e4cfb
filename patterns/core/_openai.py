"""The openai SDK adapter: the post path, the SDK's errors as this package's typed
errors, and the checks that an answer is a chat completion the core can read."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessage

from ._errors import (
    AuthenticationFailed,
    EndpointError,
    ModelNotFound,
    ModelResponseError,
    PatternsError,
    RateLimited,
    RequestRejected,
)
from ._redact import redact, redact_url, url_secrets
from ._transport import ATTEMPTS, AnswerTooLarge, Attempts, DeadlineExceeded
from ._usage import CallRecord, Exchange, Message, Trace, Usage

if TYPE_CHECKING:
    from ._llm import LLM

logger = logging.getLogger("patterns.core")


CHAT_PATH = "/chat/completions"
"""Requests go through the SDK's own ``post`` (its retries, errors, auth and parsing into
``ChatCompletion``) with the body as built: ``chat.completions.create`` would first walk
every node of the messages and of the JSON schema looking for fields to rename (none
here), about 0.5 ms of CPU per call, as much as the rest of the call."""


def secrets_of(llm: LLM) -> set[str]:
    """What must never appear in a message: the key, the organisation, URL secrets."""
    client = llm.aclient or llm.client
    if client is None:
        return set()
    found = {client.api_key, client.organization or "", client.project or ""}
    return found | url_secrets(str(client.base_url))


def where(llm: LLM) -> str:
    """The endpoint, as messages name it (no userinfo, no secret query values)."""
    client = llm.aclient or llm.client
    return redact_url(str(client.base_url)) if client is not None else "the endpoint"


@contextmanager
def endpoint_errors(llm: LLM) -> Iterator[None]:
    """The openai SDK's errors, after its own retries, as this package's typed errors,
    each saying what happened and what to do. No key, password or key-shaped text
    appears in them, nor in the SDK error they are chained to."""
    try:
        yield
    except DeadlineExceeded as error:
        raise EndpointError(
            f"{where(llm)} did not finish its answer in time ({error}); check that the "
            "server is up and not overloaded, or raise PATTERNS_TIMEOUT "
            f"(LLM.from_env(timeout=...)); {BUSY_HINT}",
            endpoint=where(llm),
            model=llm.model,
        ) from None
    except AnswerTooLarge as error:
        raise ModelResponseError(
            f"{where(llm)} sent an answer that cannot be a chat completion: {error}; "
            "raise LLM.from_env(max_answer_bytes=...) if it is genuine"
        ) from None
    except openai.APIError as error:
        _scrub(error, secrets_of(llm))
        raise _typed(llm, error, where(llm), _retries_taken(error)) from error
    except (ValueError, TypeError, AttributeError, RecursionError) as error:
        # The SDK decoding a 200 that is not a chat completion: invalid UTF-8, a
        # 5,000-digit number, JSON nested past the recursion limit, a bare string.
        raise ModelResponseError(
            f"{where(llm)} answered with something that is not a chat completion "
            f"({type(error).__name__}: {redact(str(error), secrets_of(llm))[:200]})"
        ) from None


BUSY_HINT = (
    "for the embedded model on a busy machine, fewer server threads can be faster "
    "(PATTERNS_THREADS=1)"
)


def _retries_taken(error: openai.APIError) -> int:
    """How often the SDK sent the request again (its retry-count header on the last)."""
    try:
        return int(error.request.headers.get("x-stainless-retry-count", "0"))
    except (AttributeError, ValueError):
        return 0


def _typed(llm: LLM, error: openai.APIError, where: str, retries: int) -> PatternsError:
    status = error.status_code if isinstance(error, openai.APIStatusError) else None
    data: dict[str, Any] = {"status_code": status, "endpoint": where, "model": llm.model}
    if isinstance(error, openai.APITimeoutError):
        return EndpointError(
            f"{where} did not answer in time ({retries} retries); check that the server "
            "is up and not overloaded, or raise PATTERNS_TIMEOUT (LLM.from_env(timeout=...)); "
            f"{BUSY_HINT}",
            **data,
        )
    if isinstance(error, openai.APIConnectionError):
        cause = redact(str(error.__cause__ or error), secrets_of(llm))
        return EndpointError(
            f"cannot reach {where} ({retries} retries): {cause}; "
            "is the server running? (the embedded one: patterns-server serve)",
            **data,
        )
    if isinstance(error, openai.RateLimitError):
        return RateLimited(
            f"{where} kept answering 429 (rate limited) through {retries} retries with "
            "backoff; lower the concurrency or raise LLM.from_env(max_retries=...)",
            **data,
        )
    if isinstance(error, openai.NotFoundError):
        return ModelNotFound(
            f"{where} has no model {llm.model!r} (404); check PATTERNS_MODEL against "
            "the endpoint's /models list",
            **data,
        )
    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        return AuthenticationFailed(
            f"{where} refused the API key (HTTP {error.status_code}); check "
            "PATTERNS_API_KEY or OPENAI_API_KEY",
            **data,
        )
    if isinstance(error, openai.BadRequestError | openai.UnprocessableEntityError):
        return RequestRejected(
            f"{where} refused the request (HTTP {error.status_code}): {_brief(error)}; "
            "if it is about response_format, set PATTERNS_STRUCTURED_MODE to "
            "json_object or prompt",
            **data,
        )
    if isinstance(error, openai.APIStatusError) and 300 <= error.status_code < 400:
        target = redact_url(error.response.headers.get("location", "elsewhere"))
        return EndpointError(
            f"{where} redirected the request (HTTP {error.status_code}) to {target}; "
            "redirects are not followed, so that the prompt and the key go to the "
            "configured endpoint only: set the final URL as the base URL",
            **data,
        )
    if isinstance(error, openai.APIStatusError):
        return EndpointError(
            f"{where} failed with HTTP {error.status_code} ({retries} retries): {_brief(error)}",
            **data,
        )
    return ModelResponseError(
        f"{where} answered with something that is not a chat completion: "
        f"{redact(str(error), secrets_of(llm))[:200]}"
    )


@dataclass
class Meter:
    """Counts the requests of one typed call and files them in the run's trace."""

    trace: Trace
    step: str
    model: str
    usage: Usage = field(default_factory=Usage)
    attempts: Attempts = field(default_factory=Attempts)

    def before(self) -> float:
        self.trace.check_budget()
        self.attempts = Attempts()
        ATTEMPTS.set(self.attempts)  # the transports count what the SDK sends
        return time.perf_counter()

    def _sent(self) -> tuple[int, int]:
        """(requests, retries) of this request: the SDK's resends (after a timeout, a
        dropped connection, a 429 or a 5xx) are requests, and retries, too."""
        sent = max(self.attempts.sent, 1)
        return sent, (1 if self.usage.requests else 0) + sent - 1

    @contextmanager
    def sending(self, started: float) -> Iterator[None]:
        """A request that fails still counts: its attempts and the time they took."""
        try:
            yield
        except BaseException:
            if self.attempts.sent:
                requests, retries = self._sent()
                latency = time.perf_counter() - started
                self.usage += Usage(requests=requests, retries=retries, latency_s=latency)
            raise

    def after(self, completion: object, started: float, request: dict[str, Any]) -> ChatCompletion:
        answer = checked(completion)
        prompt_tokens, completion_tokens = _token_counts(answer, request)
        requests, retries = self._sent()
        used = Usage(
            requests=requests,
            retries=retries,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=time.perf_counter() - started,
        )
        self.usage += used
        self.trace.charge(used.total_tokens)
        if self.trace.transcript is not None:
            self.trace.transcript.append(_exchange(self.step, request, answer, used))
        return answer

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


def _exchange(step: str, request: dict[str, Any], answer: ChatCompletion, used: Usage) -> Exchange:
    sent = [
        Message(role=str(m.get("role")), content=_text(m.get("content"), m.get("tool_calls")))
        for m in request.get("messages", [])
    ]
    choice = answer.choices[0] if answer.choices else None
    message = choice.message if choice else None
    said = _text(message.content, message.tool_calls) if message else ""
    reason = choice.finish_reason if choice else None
    return Exchange(step=step, messages=sent, answer=said, finish_reason=reason, usage=used)


def _text(content: object, calls: object) -> str:
    """A message's text; a tool call as ``name(arguments)``."""
    text = content if isinstance(content, str) else ""
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function", {}) if isinstance(call, dict) else call.function
        name = function.get("name") if isinstance(function, dict) else function.name
        arguments = function.get("arguments") if isinstance(function, dict) else function.arguments
        text += f"{name}({arguments})"
    return text


def _brief(error: openai.APIError) -> str:
    return " ".join(str(error.message).split())[:300]


def _scrub(error: openai.APIError, secrets: set[str]) -> None:
    """Take the secrets a server echoed out of the SDK's error, which ours is chained to."""
    error.message = redact(str(error.message), secrets)
    error.args = tuple(redact(str(a), secrets) for a in error.args)
    if error.body is not None:
        error.body = json.loads(redact(json.dumps(error.body, default=str), secrets))


MAX_TOKENS_PER_REQUEST = 10_000_000
"""Token counts above this (or negative, or not integers) are not believed."""


def checked(completion: object) -> ChatCompletion:
    """The completion, if it has the shape the core reads; else ``ModelResponseError``.

    The SDK builds its models without validating them, so a 200 with a choice that has
    no message, or content that is an object, would otherwise surface as a raw Python
    error deep in a pattern."""
    problem = _shape_problem(completion)
    if problem:
        raise ModelResponseError(
            f"the endpoint's answer is not a usable chat completion: {problem} "
            f"(answer starts: {excerpt(repr(completion), 200)})"
        )
    return cast(ChatCompletion, completion)


def _shape_problem(completion: object) -> str | None:
    if not isinstance(completion, ChatCompletion):
        return f"a {type(completion).__name__}, not an object"
    if not isinstance(completion.choices, list):
        return "choices is not a list"
    if not completion.choices:
        return None  # reported by _message, with its own message
    message = getattr(completion.choices[0], "message", None)
    if not isinstance(message, ChatCompletionMessage):
        return "the first choice has no message"
    if not isinstance(message.content, str | None) or not isinstance(message.refusal, str | None):
        return "the message's content is not text"
    calls = message.tool_calls
    if calls is not None and not (
        isinstance(calls, list)
        and all(
            isinstance(getattr(getattr(c, "function", None), "arguments", None), str) for c in calls
        )
    ):
        return "a tool call without arguments as text"
    return None


def _token_counts(completion: ChatCompletion, request: dict[str, Any]) -> tuple[int, int]:
    """The endpoint's token counts when they are believable, else an estimate from the
    text (about 4 characters a token), so that usage and budgets stay meaningful."""
    usage = completion.usage
    counts = (getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None))
    if all(
        isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_TOKENS_PER_REQUEST
        for n in counts
    ):
        return cast(tuple[int, int], counts)
    logger.warning("the endpoint reported no usable token counts (%r); estimating", counts)
    message = completion.choices[0].message if completion.choices else None
    answer = (message.content or "") if message else ""
    if message and message.tool_calls:
        answer += "".join(c.function.arguments for c in message.tool_calls if c.type == "function")
    prompt = json.dumps(request.get("messages", []), ensure_ascii=False)
    return len(prompt) // 4 + 1, len(answer) // 4 + 1


def excerpt(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"
