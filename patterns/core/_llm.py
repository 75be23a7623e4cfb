"""The ``LLM``: a model behind an OpenAI-compatible endpoint, its settings, and the two
drivers (sync and async) that run a dialogue's requests through the SDK."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

import httpx2
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion
from pydantic import BaseModel

from . import _modes
from ._dialogue import Dialogue, structured, tool_dialogue
from ._errors import ConfigurationError, StructuredOutputError
from ._openai import CHAT_PATH, Meter, endpoint_errors
from ._settings import (
    DEFAULT_MODEL,
    ConfidenceSource,
    Copy,
    ModeSetting,
    PromptSchema,
    Settings,
    ToolMode,
    clients_from_env,
    timeout_from_env,
)
from ._telemetry import chat_span
from ._transport import DEFAULT_MAX_BYTES
from ._usage import Trace

if TYPE_CHECKING:
    from ._tools import Tool, ToolCall

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")


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
    frequency_penalty: float | None = None
    """Sent as the request's ``frequency_penalty`` when set (OpenAI's, which llama-server
    takes too): a long free-text step on a small model at low temperature repeats a
    sentence until its token cap otherwise. Steps that do not set it send nothing."""
    confidence: ConfidenceSource = "verbal"
    """Where a ``Confident`` answer's confidence comes from: the percent the model wrote,
    or the probability of its decision token (``logprobs``; endpoints without them fall
    back to the percent). Measured on the embedded model in the ``chain`` suite."""
    headers: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Sent with each of this copy's requests (``with_headers``)."""

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
        timeout: float | None = None,
        max_answer_bytes: int = DEFAULT_MAX_BYTES,
        async_transport: httpx2.AsyncBaseTransport | None = None,
        organization: str | None = None,
        retry_timeouts: bool | None = None,
        **settings: Unpack[Settings],
    ) -> LLM:
        """Build clients from arguments, falling back to the environment (module docstring).

        ``max_retries`` is the openai SDK's own retry count for transport errors,
        429 and 5xx answers (with backoff); validation retries are separate.
        ``retry_timeouts=False`` (``PATTERNS_RETRY_TIMEOUTS=0``; set for the embedded
        server) sends nothing again after a timeout: a server that computes one request
        at a time is still computing the abandoned one, and a resend waits behind it.
        ``timeout`` is each request's deadline: the whole answer must have arrived
        by then, however slowly a server trickles it. An answer larger than
        ``max_answer_bytes`` (after decompression) is not read further. Redirects are
        not followed: the prompt and headers go to the configured endpoint only.
        ``async_transport`` is the async client's own transport, under those bounds
        (the evals' response cache uses it).

        The key: ``api_key``, else ``PATTERNS_API_KEY``, else ``OPENAI_API_KEY`` but
        only for OpenAI's own endpoint (or one named by ``OPENAI_BASE_URL``, its own
        convention): an OpenAI key is never sent to another host by accident. A refusal
        raised while building them shows no frame holding a key or a URL in a test
        runner's traceback (``__tracebackhide__``).
        """
        __tracebackhide__ = True
        confidence = settings.pop("confidence", None)
        if timeout is None:
            timeout = timeout_from_env()
        clients = clients_from_env(
            base_url=base_url,
            api_key=api_key,
            model=model,
            mode=mode,
            tool_mode=tool_mode,
            confidence=confidence,
            max_retries=max_retries,
            timeout=timeout,
            max_answer_bytes=max_answer_bytes,
            async_transport=async_transport,
            organization=organization,
            retry_timeouts=retry_timeouts,
        )
        if clients.confidence is not None:
            settings["confidence"] = clients.confidence
        return cls(
            model=clients.model,
            client=clients.client,
            aclient=clients.aclient,
            mode=clients.mode,
            tool_mode=clients.tool_mode,
            **settings,
        )

    def with_settings(self, **settings: Unpack[Copy]) -> LLM:
        """A copy with other settings (e.g. ``validation_retries=0``), same clients."""
        return replace(self, **settings)

    def with_headers(self, headers: Mapping[str, str]) -> LLM:
        """A copy whose requests carry ``headers`` too, on the same clients and
        connections (sent as each request's headers: no client is copied)."""
        return replace(self, headers={**self.headers, **headers})

    def api(self) -> AsyncOpenAI:
        """The async client for a call outside ``aparse`` (a probe, a batch upload), with
        this copy's headers."""
        if self.aclient is None:
            raise ConfigurationError("this LLM has no async client; use LLM.from_env()")
        return (
            self.aclient.with_options(default_headers=self.headers)
            if self.headers
            else self.aclient
        )

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
        llm = _modes.detect(self)
        dialogue = structured(llm, output_type, system, user, step, context)
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
        llm = await _modes.adetect(self)
        dialogue = structured(llm, output_type, system, user, step, context)
        return await llm._arun(dialogue, step, trace)

    def call_tool(
        self, tool: Tool, *, system: str, user: str, step: str, trace: Trace | None = None
    ) -> ToolCall:
        """Have the model call ``tool``; the sync twin of ``acall_tool``."""
        llm = self if self.tool_mode == "native" else _modes.detect(self)
        called = llm._run(tool_dialogue(llm, tool, system, user, step), step, trace)
        if trace is not None:
            trace.tool_calls.append(called)
        return called

    async def acall_tool(
        self, tool: Tool, *, system: str, user: str, step: str, trace: Trace | None = None
    ) -> ToolCall:
        """Have the model fill in ``tool``'s arguments, validate them, run the tool.

        ``tool_mode="native"`` uses the API's tool calls (``tool_choice`` names the
        tool: small local models do not call tools on their own); ``"emulated"``
        asks for the arguments as structured output, for endpoints without tools.
        """
        llm = self if self.tool_mode == "native" else await _modes.adetect(self)
        called = await llm._arun(tool_dialogue(llm, tool, system, user, step), step, trace)
        if trace is not None:
            trace.tool_calls.append(called)
        return called

    # --- How a call runs: one retry loop (``_dialogue``), two drivers ----------------------

    def _run(self, dialogue: Dialogue[R], step: str, trace: Trace | None) -> R:
        if self.client is None:
            raise ConfigurationError("this LLM has no sync client; use LLM.from_env()")
        meter = Meter(trace if trace is not None else Trace(), step, self.model)
        with chat_span(self.model, step, self.client) as span:
            try:
                request = next(dialogue)
                while True:
                    started = meter.before()
                    with endpoint_errors(self), meter.sending(started):
                        completion = self.client.post(
                            CHAT_PATH,
                            cast_to=ChatCompletion,
                            body=request,
                            options={"headers": self.headers},
                        )
                    answer = meter.after(completion, started, request)
                    span.answer(answer)
                    request = dialogue.send(answer)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            except StructuredOutputError as error:
                error.usage = meter.usage
                raise
            finally:
                meter.close()
                span.usage(meter.usage)

    async def _arun(self, dialogue: Dialogue[R], step: str, trace: Trace | None) -> R:
        if self.aclient is None:
            raise ConfigurationError("this LLM has no async client; use LLM.from_env()")
        meter = Meter(trace if trace is not None else Trace(), step, self.model)
        with chat_span(self.model, step, self.aclient) as span:
            try:
                request = next(dialogue)
                while True:
                    started = meter.before()
                    with endpoint_errors(self), meter.sending(started):
                        completion = await self.aclient.post(
                            CHAT_PATH,
                            cast_to=ChatCompletion,
                            body=request,
                            options={"headers": self.headers},
                        )
                    answer = meter.after(completion, started, request)
                    span.answer(answer)
                    request = dialogue.send(answer)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            except StructuredOutputError as error:
                error.usage = meter.usage
                raise
            finally:
                meter.close()
                span.usage(meter.usage)


SHORT_ANSWER_TOKENS = 200
"""A classification's JSON fits in well under this many tokens."""


def short(llm: LLM) -> LLM:
    """``llm`` for a short answer (a label, a confidence, a sentence): a model that rambles
    in a free-text field is cut off, and told to be brief, after seconds instead of after
    a thousand tokens (measured on the embedded model: about 66 s per runaway attempt)."""
    return llm.with_settings(max_tokens=min(llm.max_tokens, SHORT_ANSWER_TOKENS))
