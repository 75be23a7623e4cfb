"""Settings: the typed knobs of an ``LLM``, the environment they fall back to, and the key
policy (an OpenAI key is never sent to another host by accident)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast
from urllib.parse import urlsplit

import httpx2
import openai
from openai import AsyncOpenAI, OpenAI

from ._errors import ConfigurationError
from ._redact import protect_logs, redact_url, url_secrets
from ._transport import (
    DEFAULT_MAX_BYTES,
    AsyncBoundedTransport,
    BoundedTransport,
    async_pool,
    sync_pool,
)

StructuredMode = Literal["json_schema", "json_object", "prompt"]
STRUCTURED_MODES: tuple[StructuredMode, ...] = ("json_schema", "json_object", "prompt")
ModeSetting = StructuredMode | Literal["auto"]
ToolMode = Literal["native", "emulated"]
PromptSchema = Literal["full", "bare", "none"]
ConfidenceSource = Literal["verbal", "tokens"]

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct"
"""The embedded model's name: the default wherever a model is not named."""


class Settings(TypedDict, total=False):
    """What ``LLM.from_env`` and ``LLM.with_settings`` may set besides the clients
    (each field's meaning is documented on ``LLM``)."""

    temperature: float
    max_tokens: int
    validation_retries: int
    retry_temperature_step: float
    max_input_chars: int
    prompt_schema: PromptSchema
    seed: int | None
    frequency_penalty: float | None
    confidence: ConfidenceSource


class Copy(Settings, total=False):
    """What ``LLM.with_settings`` may change: the settings, the model name and the modes."""

    model: str
    mode: ModeSetting
    tool_mode: ToolMode


@dataclass(frozen=True)
class Clients:
    """What ``from_env`` works out: the two SDK clients and the settings named by the
    environment."""

    model: str
    client: OpenAI
    aclient: AsyncOpenAI
    mode: ModeSetting
    tool_mode: ToolMode
    confidence: ConfidenceSource | None


def env(*names: str) -> str | None:
    """The first of ``names`` set to a non-empty value."""
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


DEFAULT_TIMEOUT = 120.0


def timeout_from_env() -> float:
    """``PATTERNS_TIMEOUT`` (seconds for one request, answer included), else 120."""
    text = env("PATTERNS_TIMEOUT")
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ConfigurationError(f"PATTERNS_TIMEOUT={text!r}; expected a number of seconds")
    return value


def openai_key_may_go_to(base_url: str | None) -> bool:
    if base_url is None or base_url == env("OPENAI_BASE_URL"):
        return True
    try:
        return urlsplit(base_url).hostname == "api.openai.com"
    except ValueError:
        return False


def clients_from_env(
    *,
    base_url: str | None,
    api_key: str | None,
    model: str | None,
    mode: ModeSetting | None,
    tool_mode: ToolMode | None,
    confidence: ConfidenceSource | None,
    max_retries: int,
    timeout: float,
    max_answer_bytes: int = DEFAULT_MAX_BYTES,
    async_transport: httpx2.AsyncBaseTransport | None = None,
    organization: str | None = None,
    retry_timeouts: bool | None = None,
) -> Clients:
    """Arguments first, then the environment (``patterns.core``'s docstring lists it).

    Its frame holds the key and the URL as locals: test runners are told to leave it out
    of a traceback (``__tracebackhide__``), so a refusal raised here prints no secret."""
    __tracebackhide__ = True
    base_url = base_url or env("PATTERNS_BASE_URL", "OPENAI_BASE_URL")
    api_key = api_key or env("PATTERNS_API_KEY")
    if api_key is None and openai_key_may_go_to(base_url):
        api_key = env("OPENAI_API_KEY")
    if base_url is not None and urlsplit(base_url).query:
        raise ConfigurationError(
            f"the base URL {redact_url(base_url)} has a query string: the SDK adds each "
            "request's path after the whole URL, so the query would end up in the path. "
            "Give the URL without it (a key goes in PATTERNS_API_KEY)"
        )
    if base_url is None and api_key is None:
        raise ConfigurationError(
            "no endpoint configured: set PATTERNS_BASE_URL (any OpenAI-compatible "
            "server) or OPENAI_API_KEY, or run under `patterns-server exec -- ...` "
            "to use the embedded local model"
        )
    chosen_mode = mode or env("PATTERNS_STRUCTURED_MODE") or "auto"
    if chosen_mode not in (*STRUCTURED_MODES, "auto"):
        raise ConfigurationError(
            f"PATTERNS_STRUCTURED_MODE={chosen_mode!r}; expected auto or one of {STRUCTURED_MODES}"
        )
    chosen_confidence = confidence or env("PATTERNS_CONFIDENCE")
    if chosen_confidence not in (None, "verbal", "tokens"):
        raise ConfigurationError(
            f"PATTERNS_CONFIDENCE={chosen_confidence!r}; expected 'verbal' or 'tokens'"
        )
    chosen_tools = tool_mode or env("PATTERNS_TOOL_MODE") or "native"
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
    if retry_timeouts is None:
        retry_timeouts = env("PATTERNS_RETRY_TIMEOUTS") not in ("0", "false", "no")
    sync_http = openai.DefaultHttpxClient(
        transport=BoundedTransport(sync_pool(), timeout, max_answer_bytes, retry_timeouts),
        follow_redirects=False,
        timeout=timeout,
    )
    async_http = openai.DefaultAsyncHttpxClient(
        transport=AsyncBoundedTransport(
            async_transport or async_pool(), timeout, max_answer_bytes, retry_timeouts
        ),
        follow_redirects=False,
        timeout=timeout,
    )
    protect_logs({key, organization or ""} | url_secrets(base_url or ""))
    return Clients(
        model=model or env("PATTERNS_MODEL") or DEFAULT_MODEL,
        client=OpenAI(**common, http_client=sync_http),
        aclient=AsyncOpenAI(**common, http_client=async_http),
        mode=cast(ModeSetting, chosen_mode),
        tool_mode=cast(ToolMode, chosen_tools),
        confidence=cast(ConfidenceSource | None, chosen_confidence),
    )
