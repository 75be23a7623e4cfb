"""LLM workflow patterns (chain, router, parallel, orchestra) on one small typed core."""

from .clock import Clock, fixed_clock, resolve_day, system_clock, today_line
from .core import LLM, StructuredMode, ToolMode
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
    TokenBudgetExceeded,
)
from .gate import DEFAULT_THRESHOLD, Confident, Percent, Rejection, confidence_gate, passes
from .tools import Tool, ToolCall, ToolRetry, tool
from .usage import CallRecord, Trace, Usage

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
