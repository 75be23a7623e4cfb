"""OpenTelemetry spans, optional and off unless configured.

A pattern run is an ``invoke_workflow`` span, each typed call in it a ``chat`` span (the
GenAI semantic conventions: model, tokens, finish, and this project's step, requests and
retries); the evals add a span per suite run and per case, with one
``gen_ai.evaluation.result`` event per check. Neither a prompt nor an answer is ever an
attribute (the conventions make content opt-in; here there is none), and every string
attribute passes the secret scrub.

Spans are made when, in this order:

1. ``configure_tracing(exporter=...)`` (or ``provider=``) was called: that exporter;
2. the application set a global tracer provider (``trace.set_tracer_provider``, as
   Logfire, Phoenix or the OpenTelemetry distro do): that provider;
3. ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set: an OTLP/HTTP
   exporter to it, batched (the ``otel`` extra).

Otherwise nothing is imported and each span is one cheap no-op; ``OTEL_SDK_DISABLED=true``
turns everything off. The ``opentelemetry`` packages are imported only when one of these
holds, so a run without tracing pays nothing for it.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from ._errors import ConfigurationError
from ._redact import scrub

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

    from ._usage import Usage

logger = logging.getLogger(__name__)

SCOPE = "llm-workflow-patterns"
KIND = "openinference.span.kind"
"""How Phoenix (and other OpenInference viewers) classify a span: ``LLM``, ``CHAIN``; the
GenAI conventions' ``gen_ai.operation.name`` says the same for the others."""
AttributeValue = str | bool | int | float
P = ParamSpec("P")
R = TypeVar("R")

_explicit: TracerProvider | None = None
_from_env: TracerProvider | None = None
_tracers: dict[int, Tracer] = {}


def configure_tracing(
    exporter: SpanExporter | None = None, *, provider: TracerProvider | None = None
) -> TracerProvider | None:
    """Send this project's spans to ``exporter`` (each span as it ends: e.g. the SDK's
    ``InMemorySpanExporter`` in a test, or an ``OTLPSpanExporter``), or through
    ``provider``; with neither, go back to the default (a global provider, or the
    environment, or off). Returns the provider used. Needs the ``otel`` extra."""
    global _explicit
    if exporter is not None and provider is not None:
        raise ConfigurationError("configure_tracing takes an exporter or a provider, not both")
    if exporter is not None:
        provider = _sdk_provider()
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        provider.add_span_processor(SimpleSpanProcessor(exporter))
    _explicit = provider
    _tracers.clear()
    return provider


def _sdk_provider() -> TracerProvider:
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError as missing:
        raise ConfigurationError(
            "tracing needs the OpenTelemetry SDK: pip install 'llm-workflow-patterns[otel]'"
        ) from missing
    service = os.environ.get("OTEL_SERVICE_NAME") or SCOPE
    return TracerProvider(resource=Resource.create({"service.name": service}))


def _endpoint_set() -> bool:
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def tracer() -> Tracer | None:
    """The tracer to make spans with, or None: tracing is off (see the module's note)."""
    provider: Any = _explicit
    if provider is None:
        if "opentelemetry.trace" not in sys.modules and not _endpoint_set():
            return None  # nothing configured it: import nothing
        if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
            return None
        provider = _global_or_env()
        if provider is None:
            return None
    found = _tracers.get(id(provider))
    if found is None:
        found = _tracers[id(provider)] = provider.get_tracer(SCOPE, _version())
    return found


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(SCOPE)
    except PackageNotFoundError:  # run from a source tree
        return None


def _global_or_env() -> Any:
    global _from_env
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    if not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return provider  # the application's own
    if not _endpoint_set():
        return None
    if _from_env is None:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            logger.warning(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set but the OTLP exporter is not installed: "
                "no spans are sent (pip install 'llm-workflow-patterns[otel]')"
            )
            os.environ["OTEL_SDK_DISABLED"] = "true"  # say it once, not per call
            return None
        _from_env = _sdk_provider()
        _from_env.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return _from_env


class SpanHandle:
    """An open span (or nothing, when tracing is off): attributes and events are
    scrubbed of secrets before they are set."""

    def __init__(self, span: Span | None) -> None:
        self.span = span

    def set(self, attributes: Mapping[str, AttributeValue | None]) -> None:
        if self.span is not None:
            self.span.set_attributes(_clean(attributes))

    def event(self, name: str, attributes: Mapping[str, AttributeValue | None]) -> None:
        if self.span is not None:
            self.span.add_event(name, _clean(attributes))

    def answer(self, completion: ChatCompletion) -> None:
        """What the endpoint said about an answer (the last request's wins)."""
        if self.span is None:
            return
        self.set(
            {
                "gen_ai.response.id": completion.id,
                "gen_ai.response.model": completion.model,
            }
        )
        reasons = [c.finish_reason for c in completion.choices if c.finish_reason]
        self.span.set_attribute("gen_ai.response.finish_reasons", reasons)

    def usage(self, usage: Usage) -> None:
        """Tokens, requests and retries, in the conventions' names where they have one."""
        if self.span is None:
            return
        self.set(
            {
                "gen_ai.usage.input_tokens": usage.prompt_tokens,
                "gen_ai.usage.output_tokens": usage.completion_tokens,
                "patterns.requests": usage.requests,
                "patterns.retries": usage.retries,
            }
        )

    def failed(self, error: BaseException | str) -> None:
        """The span's status is an error; only the error's type is kept (a message may
        quote the model's answer or the endpoint's reply)."""
        if self.span is None:
            return
        from opentelemetry.trace import StatusCode

        kind = error if isinstance(error, str) else type(error).__name__
        self.span.set_attribute("error.type", scrub(kind))
        self.span.set_status(StatusCode.ERROR, scrub(kind))


class SpanScope:
    """``with span(...) as handle``: a current span while the block runs; an exception
    leaving the block marks it failed and goes on."""

    def __init__(
        self, tracer: Tracer | None, name: str, attributes: Mapping[str, AttributeValue | None]
    ) -> None:
        self.tracer, self.name, self.attributes = tracer, name, attributes
        self.manager: Any = None

    def __enter__(self) -> SpanHandle:
        if self.tracer is None:
            return OFF
        self.manager = self.tracer.start_as_current_span(
            scrub(self.name),
            attributes=_clean(self.attributes),
            record_exception=False,  # an exception's text may quote an answer
            set_status_on_exception=False,
        )
        self.handle = SpanHandle(self.manager.__enter__())
        return self.handle

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if self.manager is None:
            return
        if error is not None:
            self.handle.failed(error)
        self.manager.__exit__(kind, error, traceback)


OFF = SpanHandle(None)
NO_SPAN = SpanScope(None, "", {})
"""What every span is when tracing is off: one shared no-op (no attribute is built)."""


def span(name: str, attributes: Mapping[str, AttributeValue | None] | None = None) -> SpanScope:
    """A span named ``name`` around a block (a no-op when tracing is off)."""
    found = tracer()
    return NO_SPAN if found is None else SpanScope(found, name, attributes or {})


def chat_span(model: str, step: str, client: object | None) -> SpanScope:
    """One typed call: every request of it, validation retries included (``client``'s
    ``base_url`` is read only when tracing is on: the SDK builds it on every read)."""
    if tracer() is None:
        return NO_SPAN
    base_url = getattr(client, "base_url", None)
    host = urlsplit(str(base_url)) if base_url is not None else None
    return span(
        f"chat {model}",
        {
            "gen_ai.operation.name": "chat",
            KIND: "LLM",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
            "patterns.step": step,
            "server.address": host.hostname if host else None,
            "server.port": host.port if host else None,
        },
    )


def workflow(
    name: str,
) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """A pattern's entry point as an ``invoke_workflow`` span: its outcome and the run's
    total usage (from the ``PatternResult`` it returns)."""

    def wrap(run: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(run)
        async def traced(*args: P.args, **kwargs: P.kwargs) -> R:
            with span(
                f"invoke_workflow {name}",
                {
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.agent.name": name,
                    KIND: "CHAIN",
                },
            ) as handle:
                result = await run(*args, **kwargs)
                if handle.span is not None:
                    handle.set({"patterns.outcome": getattr(result, "outcome", None)})
                    if (usage := getattr(result, "usage", None)) is not None:
                        handle.usage(usage)
                return result

        return traced

    return wrap


def _clean(attributes: Mapping[str, AttributeValue | None]) -> dict[str, AttributeValue]:
    return {
        key: scrub(value) if isinstance(value, str) else value
        for key, value in attributes.items()
        if value is not None
    }
