"""LLM workflow patterns (chain, router, parallel, orchestra) on one small typed core.

Layout: ``patterns.core`` (the typed call and what it is built from), ``patterns.calendar``
(the example domain the patterns share), ``patterns.chain``/``router``/``parallel``/
``orchestra`` (one module per pattern), ``patterns.server`` (the embedded model) and
``patterns.testing`` (the pytest plugin and a scripted stub endpoint).
"""

from typing import Any

from .core import (
    DEFAULT_THRESHOLD,
    LLM,
    Attempt,
    AuthenticationFailed,
    CallRecord,
    Clock,
    Confident,
    ConfigurationError,
    EndpointError,
    InputError,
    ModelNotFound,
    ModelResponseError,
    PatternsError,
    Percent,
    RateLimited,
    Rejection,
    RequestRejected,
    ServerError,
    Step,
    StructuredMode,
    StructuredOutputError,
    TokenBudgetExceeded,
    Tool,
    ToolCall,
    ToolMode,
    ToolRetry,
    Trace,
    Usage,
    confidence_gate,
    fixed_clock,
    passes,
    system_clock,
    today_line,
    tool,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "LLM",
    "Attempt",
    "AuthenticationFailed",
    "CallRecord",
    "Clock",
    "Confident",
    "ConfigurationError",
    "EndpointError",
    "InputError",
    "ModelNotFound",
    "ModelResponseError",
    "PatternsError",
    "Percent",
    "RateLimited",
    "Rejection",
    "RequestRejected",
    "ServerError",
    "Step",
    "StructuredMode",
    "StructuredOutputError",
    "TokenBudgetExceeded",
    "Tool",
    "ToolCall",
    "ToolMode",
    "ToolRetry",
    "Trace",
    "Usage",
    "confidence_gate",
    "fixed_clock",
    "passes",
    "resolve_day",
    "system_clock",
    "today_line",
    "tool",
]


def __getattr__(name: str) -> Any:
    """``patterns.resolve_day`` without loading the calendar domain on ``import patterns``."""
    if name == "resolve_day":
        from .calendar import resolve_day

        return resolve_day
    raise AttributeError(f"module 'patterns' has no attribute {name!r}")
