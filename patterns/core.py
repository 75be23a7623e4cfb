"""The typed LLM call every pattern shares.

``LLM.parse`` (sync) and ``LLM.aparse`` (async) send a system message and the
user's text to any OpenAI-compatible endpoint and return a validated Pydantic
model. An answer that is not valid JSON, or fails validation, goes back to the
model with the error, a bounded number of times; then ``StructuredOutputError``
carries every attempt. ``call_tool``/``acall_tool`` do the same for a typed
tool's arguments, then run the tool. Each call is filed, with its usage, in the
run's ``Trace``.

Configuration comes from arguments, or from the environment:

=========================== =====================================================
``PATTERNS_BASE_URL``       endpoint, e.g. ``http://127.0.0.1:8080/v1``
                            (falls back to ``OPENAI_BASE_URL``, then OpenAI)
``PATTERNS_API_KEY``        key (falls back to ``OPENAI_API_KEY``; local servers
                            need none)
``PATTERNS_MODEL``          model name (default: the embedded model's name)
``PATTERNS_STRUCTURED_MODE`` ``auto`` (default), ``json_schema``, ``json_object`` or
                            ``prompt``
``PATTERNS_TOOL_MODE``      ``native`` (default) or ``emulated`` (structured output)
``PATTERNS_CONFIDENCE``     ``verbal`` (default) or ``tokens`` (log probabilities)
=========================== =====================================================

``auto`` detects the structured-output mode once per endpoint and process: a tiny
probe request tries ``json_schema``, then ``json_object`` with a schema (what
llama-cpp-python takes); an endpoint that refuses both gets ``prompt``. The choice
is logged. Set the mode explicitly where requests must be the same on every run
(recorded tests: the plugin's ``llm`` fixture always does).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal, TypeAlias, TypeVar, cast
from urllib.parse import urlsplit

import httpx2
import openai
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion, ChatCompletionMessage
from pydantic import BaseModel, ValidationError

from .errors import (
    Attempt,
    AuthenticationFailed,
    ConfigurationError,
    EndpointError,
    InputError,
    ModelNotFound,
    ModelResponseError,
    PatternsError,
    RateLimited,
    RequestRejected,
    StructuredOutputError,
)
from .gate import Confident
from .redact import protect_logs, redact, redact_url, url_secrets
from .tools import Tool, ToolCall, ToolRetry
from .transport import (
    DEFAULT_MAX_BYTES,
    AnswerTooLarge,
    AsyncBoundedTransport,
    BoundedTransport,
    DeadlineExceeded,
    async_pool,
    sync_pool,
)
from .usage import CallRecord, Trace, Usage

logger = logging.getLogger("patterns.core")

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")
Dialogue: TypeAlias = Generator[dict[str, Any], ChatCompletion, R]

StructuredMode = Literal["json_schema", "json_object", "prompt"]
STRUCTURED_MODES: tuple[StructuredMode, ...] = ("json_schema", "json_object", "prompt")
ModeSetting = StructuredMode | Literal["auto"]

_DETECTED: dict[str, StructuredMode] = {}
"""The mode each endpoint accepted, by base URL, for the life of the process."""
_PROBE_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "title": "Probe",
}

ToolMode = Literal["native", "emulated"]
PromptSchema = Literal["full", "bare", "none"]

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct"


# --- The typed call ---------------------------------------------------------------------


def _env(*names: str) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def _openai_key_may_go_to(base_url: str | None) -> bool:
    if base_url is None or base_url == _env("OPENAI_BASE_URL"):
        return True
    try:
        return urlsplit(base_url).hostname == "api.openai.com"
    except ValueError:
        return False


@dataclass(frozen=True)
class LLM:
    """A model behind an OpenAI-compatible endpoint, and how to ask it for typed output."""

    model: str = DEFAULT_MODEL
    client: OpenAI | None = None
    aclient: AsyncOpenAI | None = None
    mode: ModeSetting = "auto"
    tool_mode: ToolMode = "native"
    temperature: float = 0.0
    max_tokens: int = 1024
    validation_retries: int = 2
    retry_temperature_step: float = 0.3
    """Each retry raises the temperature by this much: at temperature 0 a
    deterministic local model repeats the same invalid answer."""
    max_input_chars: int = 20_000
    prompt_schema: PromptSchema = "bare"
    """What of the schema the system prompt shows in ``json_object`` and ``prompt`` modes:
    ``full`` (with field descriptions), ``bare`` (names, types and bounds: small models
    copy descriptions into their answers, measured), or ``none`` (``json_object`` only:
    the endpoint's grammar alone). The prompts say what each field means."""
    seed: int | None = None
    """Sent as the request's ``seed`` when set (endpoints that sample reproducibly)."""
    confidence: Literal["verbal", "tokens"] = "verbal"
    """Where a ``Confident`` answer's confidence comes from: the percent the model wrote,
    or the probability of its decision token (``logprobs``; endpoints without them fall
    back to the percent). Measured on the embedded model in the ``chain`` suite."""

    @classmethod
    def from_env(
        cls,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        mode: ModeSetting | None = None,
        tool_mode: ToolMode | None = None,
        max_retries: int = 2,
        timeout: float = 120.0,
        max_answer_bytes: int = DEFAULT_MAX_BYTES,
        async_transport: httpx2.AsyncBaseTransport | None = None,
        organization: str | None = None,
        **settings: Any,
    ) -> LLM:
        """Build clients from arguments, falling back to the environment (module docstring).

        ``max_retries`` is the openai SDK's own retry count for transport errors,
        429 and 5xx answers (with backoff); validation retries are separate.
        ``timeout`` is each request's deadline: the whole answer must have arrived
        by then, however slowly a server trickles it. An answer larger than
        ``max_answer_bytes`` (after decompression) is not read further. Redirects are
        not followed: the prompt and headers go to the configured endpoint only.
        ``async_transport`` is the async client's own transport, under those bounds
        (the evals' response cache uses it).

        The key: ``api_key``, else ``PATTERNS_API_KEY``, else ``OPENAI_API_KEY`` but
        only for OpenAI's own endpoint (or one named by ``OPENAI_BASE_URL``, its own
        convention): an OpenAI key is never sent to another host by accident.
        """
        base_url = base_url or _env("PATTERNS_BASE_URL", "OPENAI_BASE_URL")
        api_key = api_key or _env("PATTERNS_API_KEY")
        if api_key is None and _openai_key_may_go_to(base_url):
            api_key = _env("OPENAI_API_KEY")
        if base_url is None and api_key is None:
            raise ConfigurationError(
                "no endpoint configured: set PATTERNS_BASE_URL (any OpenAI-compatible "
                "server) or OPENAI_API_KEY, or run under `patterns-server exec -- ...` "
                "to use the embedded local model"
            )
        chosen_mode = mode or _env("PATTERNS_STRUCTURED_MODE") or "auto"
        if chosen_mode not in (*STRUCTURED_MODES, "auto"):
            raise ConfigurationError(
                f"PATTERNS_STRUCTURED_MODE={chosen_mode!r}; expected auto or one of "
                f"{STRUCTURED_MODES}"
            )
        if "confidence" not in settings and _env("PATTERNS_CONFIDENCE"):
            settings["confidence"] = _env("PATTERNS_CONFIDENCE")
        if settings.get("confidence", "verbal") not in ("verbal", "tokens"):
            raise ConfigurationError(
                f"PATTERNS_CONFIDENCE={settings['confidence']!r}; expected 'verbal' or 'tokens'"
            )
        chosen_tools = tool_mode or _env("PATTERNS_TOOL_MODE") or "native"
        if chosen_tools not in ("native", "emulated"):
            raise ConfigurationError(
                f"PATTERNS_TOOL_MODE={chosen_tools!r}; expected 'native' or 'emulated'"
            )
        key = api_key or "not-needed"  # local servers ignore the key, the SDK wants one
        common: dict[str, Any] = {
            "base_url": base_url,
            "api_key": key,
            "max_retries": max_retries,
            "timeout": timeout,
            "organization": organization,
        }
        sync_http = openai.DefaultHttpxClient(
            transport=BoundedTransport(sync_pool(), timeout, max_answer_bytes),
            follow_redirects=False,
            timeout=timeout,
        )
        async_http = openai.DefaultAsyncHttpxClient(
            transport=AsyncBoundedTransport(
                async_transport or async_pool(),
                timeout,
                max_answer_bytes,
            ),
            follow_redirects=False,
            timeout=timeout,
        )
        protect_logs({key, organization or ""} | url_secrets(base_url or ""))
        return cls(
            model=model or _env("PATTERNS_MODEL") or DEFAULT_MODEL,
            client=OpenAI(**common, http_client=sync_http),
            aclient=AsyncOpenAI(**common, http_client=async_http),
            mode=cast(ModeSetting, chosen_mode),
            tool_mode=cast(ToolMode, chosen_tools),
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
        llm = self._detect_mode()
        dialogue = llm._structured(output_type, system, user, step, context)
        return llm._run(dialogue, step, trace)

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
        llm = await self._adetect_mode()
        dialogue = llm._structured(output_type, system, user, step, context)
        return await llm._arun(dialogue, step, trace)

    def call_tool(
        self, tool: Tool, *, system: str, user: str, step: str, trace: Trace | None = None
    ) -> ToolCall:
        """Have the model call ``tool``; the sync twin of ``acall_tool``."""
        llm = self if self.tool_mode == "native" else self._detect_mode()
        return llm._run(llm._tool_dialogue(tool, system, user, step), step, trace)

    async def acall_tool(
        self, tool: Tool, *, system: str, user: str, step: str, trace: Trace | None = None
    ) -> ToolCall:
        """Have the model fill in ``tool``'s arguments, validate them, run the tool.

        ``tool_mode="native"`` uses the API's tool calls (``tool_choice`` names the
        tool: small local models do not call tools on their own); ``"emulated"``
        asks for the arguments as structured output, for endpoints without tools.
        """
        llm = self if self.tool_mode == "native" else await self._adetect_mode()
        return await llm._arun(llm._tool_dialogue(tool, system, user, step), step, trace)

    # --- Structured-output mode detection (``mode="auto"``) --------------------------------

    def _detect_mode(self) -> LLM:
        if (known := self._known_mode()) is not None:
            return known
        assert self.client is not None
        for mode, probe in self._probes():
            with self._refusal() as refused:
                self.client.with_options(max_retries=0).chat.completions.create(**probe)
            if not refused:
                return self._settle(mode)
        return self._settle("prompt")

    async def _adetect_mode(self) -> LLM:
        if (known := self._known_mode()) is not None:
            return known
        assert self.aclient is not None
        for mode, probe in self._probes():
            with self._refusal() as refused:
                await self.aclient.with_options(max_retries=0).chat.completions.create(**probe)
            if not refused:
                return self._settle(mode)
        return self._settle("prompt")

    def _known_mode(self) -> LLM | None:
        if self.mode != "auto":
            return self
        client = self.aclient or self.client
        if client is None:
            raise ConfigurationError("this LLM has no client; use LLM.from_env()")
        mode = _DETECTED.get(str(client.base_url))
        return None if mode is None else replace(self, mode=mode)

    def _probes(self) -> Iterator[tuple[StructuredMode, dict[str, Any]]]:
        for mode in ("json_schema", "json_object"):
            shape = replace(self, mode=mode)._response_format("Probe", _PROBE_SCHEMA)
            messages = [{"role": "user", "content": 'Reply with {"ok": true}'}]
            yield mode, {"model": self.model, "messages": messages, "max_tokens": 8, **shape}

    def _settle(self, mode: StructuredMode) -> LLM:
        client = self.aclient or self.client
        assert client is not None
        _DETECTED[str(client.base_url)] = mode
        logger.info("structured-output mode for %s: %s", redact_url(str(client.base_url)), mode)
        return replace(self, mode=mode)

    @contextmanager
    def _refusal(self) -> Iterator[list[bool]]:
        """Notes whether the endpoint refused the request's shape (400, 422, or the 500
        that llama-cpp-python answers to json_schema); other failures are raised, typed."""
        refused: list[bool] = []
        with self._endpoint_errors():
            try:
                yield refused
            except (openai.BadRequestError, openai.UnprocessableEntityError):
                refused.append(True)
            except openai.InternalServerError as error:
                if error.status_code != 500:
                    raise
                refused.append(True)

    # --- How a call runs: one retry loop, two drivers ------------------------------------

    def _run(self, dialogue: Dialogue[R], step: str, trace: Trace | None) -> R:
        if self.client is None:
            raise ConfigurationError("this LLM has no sync client; use LLM.from_env()")
        meter = _Meter(trace if trace is not None else Trace(), step, self.model)
        try:
            request = next(dialogue)
            while True:
                started = meter.before()
                with self._endpoint_errors():
                    completion = self.client.post(CHAT_PATH, cast_to=ChatCompletion, body=request)
                request = dialogue.send(meter.after(completion, started, request))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        finally:
            meter.close()

    async def _arun(self, dialogue: Dialogue[R], step: str, trace: Trace | None) -> R:
        if self.aclient is None:
            raise ConfigurationError("this LLM has no async client; use LLM.from_env()")
        meter = _Meter(trace if trace is not None else Trace(), step, self.model)
        try:
            request = next(dialogue)
            while True:
                started = meter.before()
                with self._endpoint_errors():
                    completion = await self.aclient.post(
                        CHAT_PATH, cast_to=ChatCompletion, body=request
                    )
                request = dialogue.send(meter.after(completion, started, request))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        finally:
            meter.close()

    def _secrets(self) -> set[str]:
        """What must never appear in a message: the key, the organisation, URL secrets."""
        client = self.aclient or self.client
        if client is None:
            return set()
        found = {client.api_key, client.organization or "", client.project or ""}
        return found | url_secrets(str(client.base_url))

    def _where(self) -> str:
        """The endpoint, as messages name it (no userinfo, no secret query values)."""
        client = self.aclient or self.client
        return redact_url(str(client.base_url)) if client is not None else "the endpoint"

    @contextmanager
    def _endpoint_errors(self) -> Iterator[None]:
        """The openai SDK's errors, after its own retries, as this package's typed errors,
        each saying what happened and what to do. No key, password or key-shaped text
        appears in them, nor in the SDK error they are chained to."""
        client = self.aclient or self.client
        try:
            yield
        except DeadlineExceeded as error:
            raise EndpointError(
                f"{self._where()} did not finish its answer in time ({error}); check that the "
                "server is up and not overloaded, or raise LLM.from_env(timeout=...)"
            ) from None
        except AnswerTooLarge as error:
            raise ModelResponseError(
                f"{self._where()} sent an answer that cannot be a chat completion: {error}; "
                "raise LLM.from_env(max_answer_bytes=...) if it is genuine"
            ) from None
        except openai.APIError as error:
            _scrub(error, self._secrets())
            retries = client.max_retries if client is not None else 0
            raise self._typed(error, self._where(), retries) from error
        except (ValueError, TypeError, AttributeError, RecursionError) as error:
            # The SDK decoding a 200 that is not a chat completion: invalid UTF-8, a
            # 5,000-digit number, JSON nested past the recursion limit, a bare string.
            raise ModelResponseError(
                f"{self._where()} answered with something that is not a chat completion "
                f"({type(error).__name__}: {redact(str(error), self._secrets())[:200]})"
            ) from None

    def _typed(self, error: openai.APIError, where: str, retries: int) -> PatternsError:
        if isinstance(error, openai.APITimeoutError):
            return EndpointError(
                f"{where} did not answer in time ({retries} retries); check that the server "
                "is up and not overloaded, or raise LLM.from_env(timeout=...)"
            )
        if isinstance(error, openai.APIConnectionError):
            cause = redact(str(error.__cause__ or error), self._secrets())
            return EndpointError(
                f"cannot reach {where} ({retries} retries): {cause}; "
                "is the server running? (the embedded one: patterns-server serve)"
            )
        if isinstance(error, openai.RateLimitError):
            return RateLimited(
                f"{where} kept answering 429 (rate limited) through {retries} retries with "
                "backoff; lower the concurrency or raise LLM.from_env(max_retries=...)"
            )
        if isinstance(error, openai.NotFoundError):
            return ModelNotFound(
                f"{where} has no model {self.model!r} (404); check PATTERNS_MODEL against "
                "the endpoint's /models list"
            )
        if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
            return AuthenticationFailed(
                f"{where} refused the API key (HTTP {error.status_code}); check "
                "PATTERNS_API_KEY or OPENAI_API_KEY"
            )
        if isinstance(error, openai.BadRequestError | openai.UnprocessableEntityError):
            return RequestRejected(
                f"{where} refused the request (HTTP {error.status_code}): {_brief(error)}; "
                "if it is about response_format, set PATTERNS_STRUCTURED_MODE to "
                "json_object or prompt"
            )
        if isinstance(error, openai.APIStatusError) and 300 <= error.status_code < 400:
            target = redact_url(error.response.headers.get("location", "elsewhere"))
            return EndpointError(
                f"{where} redirected the request (HTTP {error.status_code}) to {target}; "
                "redirects are not followed, so that the prompt and the key go to the "
                "configured endpoint only: set the final URL as the base URL"
            )
        if isinstance(error, openai.APIStatusError):
            return EndpointError(
                f"{where} failed with HTTP {error.status_code} ({retries} retries): {_brief(error)}"
            )
        return ModelResponseError(
            f"{where} answered with something that is not a chat completion: "
            f"{redact(str(error), self._secrets())[:200]}"
        )

    def _dialogue(
        self,
        *,
        system: str,
        user: str,
        step: str,
        label: str,
        shape: dict[str, Any],
        interpret: Callable[[ChatCompletion], R],
    ) -> Dialogue[R]:
        """The retry loop, written once: yields requests, receives completions.

        ``interpret`` turns a completion into the result or raises ``_Invalid``,
        whose messages go back to the model for the next attempt.
        """
        _check_input(user, self.max_input_chars)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        attempts: list[Attempt] = []
        for attempt in range(self.validation_retries + 1):
            temperature = min(1.0, self.temperature + attempt * self.retry_temperature_step)
            completion = yield {
                "model": self.model,
                "messages": list(messages),
                "temperature": round(temperature, 2),
                "max_tokens": self.max_tokens,
                **({"seed": self.seed} if self.seed is not None else {}),
                **shape,
            }
            try:
                return interpret(completion)
            except _Invalid as invalid:
                attempts.append(Attempt(invalid.text, invalid.problem, invalid.public))
                messages += invalid.reply
                last = attempt == self.validation_retries
                logger.info(
                    "step %s: invalid answer (%s), %s",
                    step,
                    invalid.problem,
                    "giving up" if last else "retrying",
                )
        raise StructuredOutputError(step, label, attempts)

    def _structured(
        self,
        output_type: type[T],
        system: str,
        user: str,
        step: str,
        context: dict[str, Any] | None,
    ) -> Dialogue[T]:
        schema = schema_of(output_type)

        decision = getattr(output_type, "decision", None)
        by_tokens = self.confidence == "tokens" and isinstance(decision, str)

        def interpret(completion: ChatCompletion) -> T:
            text = _answer_text(completion)
            logger.debug("step %s raw answer: %s", step, text)
            try:
                answer = output_type.model_validate_json(_json_part(text), context=context)
            except ValidationError as error:
                raise _Invalid.answer(text, _describe(error, completion)) from error
            if by_tokens and isinstance(answer, Confident):
                probability = decision_probability(completion, str(decision), schema)
                if probability is not None:
                    return cast(T, answer.with_token_confidence(probability))
            return answer

        shape = self._response_format(output_type.__name__, schema)
        if by_tokens:
            shape = {**shape, "logprobs": True, "top_logprobs": TOP_LOGPROBS}
        return self._dialogue(
            system=self._instructions(system, schema),
            user=user,
            step=step,
            label=output_type.__name__,
            shape=shape,
            interpret=interpret,
        )

    def _tool_dialogue(self, tool: Tool, system: str, user: str, step: str) -> Dialogue[ToolCall]:
        def run(arguments: str, completion: ChatCompletion) -> ToolCall:
            public = None
            try:
                return tool.run(arguments)
            except ValidationError as error:
                problem = _describe(error, completion)
            except ToolRetry as retry:
                problem, public = str(retry), retry.public
            invalid = _Invalid.tool_call(completion, problem, native=self.tool_mode == "native")
            invalid.public = public
            raise invalid

        def native(completion: ChatCompletion) -> ToolCall:
            calls = _message(completion).tool_calls or []
            call = next((c for c in calls if c.type == "function"), None)
            if call is None or call.function.name != tool.name:
                raise _Invalid.answer(
                    _message(completion).content or "", f"the answer is not a call of {tool.name}"
                )
            logger.debug("step %s tool call: %s", step, call.function.arguments)
            return run(call.function.arguments, completion)

        def emulated(completion: ChatCompletion) -> ToolCall:
            return run(_json_part(_answer_text(completion)), completion)

        if self.tool_mode == "native":
            choice = {"type": "function", "function": {"name": tool.name}}
            shape: dict[str, Any] = {"tools": [tool.schema()], "tool_choice": choice}
            return self._dialogue(
                system=system, user=user, step=step, label=tool.name, shape=shape, interpret=native
            )
        schema = schema_of(tool.arguments)
        return self._dialogue(
            system=self._instructions(
                f"{system}\n\nFill in the arguments of: {tool.description}", schema
            ),
            user=user,
            step=step,
            label=tool.name,
            shape=self._response_format(tool.name, schema),
            interpret=emulated,
        )

    def _instructions(self, system: str, schema: dict[str, Any]) -> str:
        if self.mode == "json_schema":
            return system  # the endpoint enforces the schema, descriptions included
        if self.prompt_schema == "none" and self.mode == "json_object":
            return system  # the grammar built from the schema is the only copy
        shown = _compact(json.dumps(schema), self.prompt_schema == "full")
        return f"{system}\n\nReply with one JSON object that matches this JSON schema: {shown}"

    def _response_format(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        if self.mode == "json_schema":
            json_schema = {"name": name, "schema": schema, "strict": False}
            return {"response_format": {"type": "json_schema", "json_schema": json_schema}}
        if self.mode == "json_object":
            # llama-cpp-python's server turns this schema into a grammar.
            return {"response_format": {"type": "json_object", "schema": schema}}
        return {}


MAX_ECHO_CHARS = 8_000
"""An invalid answer is sent back to the model at most this long (more than max_tokens'
worth): a runaway answer must not grow every retry's request."""


TOP_LOGPROBS = 5


def decision_probability(
    completion: ChatCompletion, field: str, schema: dict[str, Any]
) -> float | None:
    """The probability the model gave the value it wrote for ``field``, normalised over the
    values the field can take (``true``/``false``, or the enum's labels), read at the
    token where the value starts. None when the answer carries no log probabilities."""
    logprobs = completion.choices[0].logprobs if completion.choices else None
    tokens = list(getattr(logprobs, "content", None) or [])
    if not tokens:
        return None
    text, starts = "", []
    for token in tokens:
        starts.append(len(text))
        text += token.token
    found = re.search(rf'"{re.escape(field)}"\s*:\s*"?', text)
    if found is None:
        return None
    at = next(
        (i for i, start in enumerate(starts) if start + len(tokens[i].token) > found.end()), None
    )
    if at is None:
        return None
    options = _choices(schema.get("properties", {}).get(field, {}))
    chosen = text[found.end() :]
    picked = next((o for o in options if chosen.startswith(o)), None)
    if picked is None:
        return None
    weights = dict.fromkeys(options, 0.0)
    for alternative in tokens[at].top_logprobs or []:
        piece = re.sub(r"^[^A-Za-z0-9_]+", "", alternative.token)
        for option in options:
            if piece and option.startswith(piece):
                weights[option] += math.exp(alternative.logprob)
                break
    total = sum(weights.values())
    return weights[picked] / total if total > 0 else None


def _choices(field_schema: dict[str, Any]) -> list[str]:
    if field_schema.get("type") == "boolean":
        return ["true", "false"]
    return [str(v) for v in field_schema.get("enum", [])]


SHORT_ANSWER_TOKENS = 200
"""A classification's JSON fits in well under this many tokens."""


def short(llm: LLM) -> LLM:
    """``llm`` for a short answer (a label, a confidence, a sentence): a model that rambles
    in a free-text field is cut off, and told to be brief, after seconds instead of after
    a thousand tokens (measured on the embedded model: about 66 s per runaway attempt)."""
    return llm.with_settings(max_tokens=min(llm.max_tokens, SHORT_ANSWER_TOKENS))


class _Invalid(Exception):
    """An answer that cannot be used, and the messages that tell the model why."""

    def __init__(self, text: str, problem: str, reply: list[dict[str, Any]]) -> None:
        super().__init__(problem)
        self.text, self.problem, self.reply = text, problem, reply
        self.public: str | None = None

    @classmethod
    def answer(cls, text: str, problem: str) -> _Invalid:
        return cls(
            text,
            problem,
            [
                {"role": "assistant", "content": _excerpt(text, MAX_ECHO_CHARS)},
                {
                    "role": "user",
                    "content": f"That answer is invalid: {problem}\n"
                    "Reply again with only the corrected JSON object.",
                },
            ],
        )

    @classmethod
    def tool_call(cls, completion: ChatCompletion, problem: str, *, native: bool) -> _Invalid:
        message = _message(completion)
        if not native:
            return cls.answer(message.content or "", problem)
        call = (message.tool_calls or [])[0]
        assert call.type == "function"
        return cls(
            call.function.arguments,
            problem,
            [
                {
                    "role": "assistant",
                    "content": message.content or "",  # llama-cpp-python refuses null
                    "tool_calls": [call.model_dump(include={"id", "type", "function"})],
                },
                {
                    "role": "tool",
                    "tool_call_id": call.id,
                    "content": f"Error: {problem}\nCall {call.function.name} again, corrected.",
                },
            ],
        )


CHAT_PATH = "/chat/completions"
"""Requests go through the SDK's own ``post`` (its retries, errors, auth and parsing into
``ChatCompletion``) with the body as built: ``chat.completions.create`` would first walk
every node of the messages and of the JSON schema looking for fields to rename (none
here), about 0.5 ms of CPU per call, as much as the rest of the call."""


@dataclass
class _Meter:
    """Counts the requests of one typed call and files them in the run's trace."""

    trace: Trace
    step: str
    model: str
    usage: Usage = field(default_factory=Usage)

    def before(self) -> float:
        self.trace.check_budget()
        return time.perf_counter()

    def after(self, completion: object, started: float, request: dict[str, Any]) -> ChatCompletion:
        checked = _checked(completion)
        prompt_tokens, completion_tokens = _token_counts(checked, request)
        used = Usage(
            requests=1,
            retries=1 if self.usage.requests else 0,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=time.perf_counter() - started,
        )
        self.usage += used
        self.trace.charge(used.total_tokens)
        return checked

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


def _brief(error: openai.APIError) -> str:
    return " ".join(str(error.message).split())[:300]


def _scrub(error: openai.APIError, secrets: set[str]) -> None:
    """Take the secrets a server echoed out of the SDK's error, which ours is chained to."""
    error.message = redact(str(error.message), secrets)
    error.args = tuple(redact(str(a), secrets) for a in error.args)
    if error.body is not None:
        error.body = json.loads(redact(json.dumps(error.body, default=str), secrets))


@lru_cache(maxsize=256)
def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema, built once per model (it costs more than a replayed call)."""
    return model.model_json_schema()


@lru_cache(maxsize=256)
def _compact(schema_json: str, descriptions: bool = True) -> str:
    dropped = {"title"} if descriptions else {"title", "description"}
    return json.dumps(_without(json.loads(schema_json), dropped), separators=(",", ":"))


def _without(schema: Any, keys: set[str]) -> Any:
    """The schema without pydantic's "title" keys (tokens the model does not need) and,
    when asked, without descriptions (text a small model copies into its answer)."""
    if isinstance(schema, dict):
        return {
            k: _without(v, keys)
            for k, v in schema.items()
            if not (k in keys and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_without(v, keys) for v in schema]
    return schema


def _check_input(text: str, limit: int) -> None:
    if not text.strip():
        raise InputError("the input text is empty")
    if len(text) > limit:
        raise InputError(
            f"the input is {len(text):,} characters, over the limit of {limit:,}; "
            "shorten it or raise LLM(max_input_chars=...)"
        )


MAX_TOKENS_PER_REQUEST = 10_000_000
"""Token counts above this (or negative, or not integers) are not believed."""


def _checked(completion: object) -> ChatCompletion:
    """The completion, if it has the shape the core reads; else ``ModelResponseError``.

    The SDK builds its models without validating them, so a 200 with a choice that has
    no message, or content that is an object, would otherwise surface as a raw Python
    error deep in a pattern."""
    problem = _shape_problem(completion)
    if problem:
        raise ModelResponseError(
            f"the endpoint's answer is not a usable chat completion: {problem} "
            f"(answer starts: {_excerpt(repr(completion), 200)})"
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


def _excerpt(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _message(completion: ChatCompletion) -> ChatCompletionMessage:
    if not completion.choices:
        raise ModelResponseError("the endpoint returned a completion with no choices")
    message = completion.choices[0].message
    if message.refusal:
        raise ModelResponseError(f"the model refused: {message.refusal}")
    return message


def _answer_text(completion: ChatCompletion) -> str:
    return _message(completion).content or ""


def _json_part(text: str) -> str:
    """The JSON object inside an answer (prompted mode may wrap it in prose or fences)."""
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def _describe(error: ValidationError, completion: ChatCompletion) -> str:
    if completion.choices[0].finish_reason == "length":
        return "the answer was cut off at max_tokens before the JSON was complete: be brief"
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}"
        for e in error.errors(include_url=False)
    )
