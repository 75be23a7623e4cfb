"""The core: the typed LLM call every pattern shares, and what it is built from.

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
``PATTERNS_TIMEOUT``        seconds for one request, answer included (default 120)
=========================== =====================================================

``auto`` detects the structured-output mode once per endpoint and process: a tiny
probe request tries ``json_schema``, then ``json_object`` with a schema (what
llama-cpp-python takes); an endpoint that refuses both gets ``prompt``. The choice
is logged. Set the mode explicitly where requests must be the same on every run
(recorded tests: the plugin's ``llm`` fixture always does).

Modules (private; their public names are exported here, the one documented place):
``_llm`` (the ``LLM`` and its two drivers), ``_settings`` (typed settings, the
environment, the key policy), ``_dialogue`` (the retry loop, structured and tool
interpreters), ``_openai`` (the SDK adapter: post path, error translation, completion
checks), ``_modes`` (mode detection), ``_schema``, ``_confidence`` (percent and token
confidence, the gate rule), ``_errors``, ``_tools``, ``_usage``, ``_clock``, ``_examples``
(worked examples chosen for the message), and the infrastructure the evals and the plugin share
(``_transport``: bounded HTTP, ``_redact``: secrets, ``_demo``), exported by
``patterns.core.plumbing``, not here.
"""

from ._clock import Clock, fixed_clock, system_clock, today_line
from ._confidence import (
    DEFAULT_THRESHOLD,
    TOP_LOGPROBS,
    Confident,
    Percent,
    Rejection,
    TokenConfident,
    confidence_gate,
    decision_probability,
    passes,
)
from ._errors import (
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
    ServerError,
    StructuredOutputError,
    TokenBudgetExceeded,
)
from ._examples import nearest
from ._llm import LLM, SHORT_ANSWER_TOKENS, short
from ._schema import schema_of
from ._settings import (
    DEFAULT_MODEL,
    STRUCTURED_MODES,
    ConfidenceSource,
    ModeSetting,
    PromptSchema,
    Settings,
    StructuredMode,
    ToolMode,
)
from ._step import Step
from ._telemetry import configure_tracing, workflow
from ._tools import Tool, ToolCall, ToolRetry, tool
from ._usage import CallRecord, Exchange, Message, PatternResult, Trace, Usage

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_THRESHOLD",
    "LLM",
    "SHORT_ANSWER_TOKENS",
    "STRUCTURED_MODES",
    "TOP_LOGPROBS",
    "Attempt",
    "AuthenticationFailed",
    "CallRecord",
    "Clock",
    "ConfidenceSource",
    "Confident",
    "ConfigurationError",
    "EndpointError",
    "Exchange",
    "InputError",
    "Message",
    "ModeSetting",
    "ModelNotFound",
    "ModelResponseError",
    "PatternResult",
    "PatternsError",
    "Percent",
    "PromptSchema",
    "RateLimited",
    "Rejection",
    "RequestRejected",
    "ServerError",
    "Settings",
    "Step",
    "StructuredMode",
    "StructuredOutputError",
    "TokenBudgetExceeded",
    "TokenConfident",
    "Tool",
    "ToolCall",
    "ToolMode",
    "ToolRetry",
    "Trace",
    "Usage",
    "confidence_gate",
    "configure_tracing",
    "decision_probability",
    "fixed_clock",
    "nearest",
    "passes",
    "schema_of",
    "short",
    "system_clock",
    "today_line",
    "tool",
    "workflow",
]
