"""Typed tools: a plain Python function the model may call, its arguments validated first.

    @tool
    def create_event(name: str, day: str, duration_minutes: int = 60) -> Event:
        '''Create a calendar event.'''

The parameters' types (``Annotated[..., Field(description=...)]`` for a
description) become the JSON schema the model fills in. Arguments that fail
validation, or a ``ToolRetry`` raised by the function, go back to the model as
an error, bounded like validation retries (``LLM.call_tool``). The function
runs only with valid arguments.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model


class ToolRetry(Exception):
    """Raised by a tool to tell the model what was wrong and let it call again.

    The message goes to the model and may hold what it needs to correct itself (e.g.
    the events a calendar holds); ``public``, when given, is what a person may be shown
    if the model never gets it right (``Attempt.public``)."""

    def __init__(self, message: str, *, public: str | None = None) -> None:
        super().__init__(message)
        self.public = public if public is not None else message


class ToolCall(BaseModel):
    """A tool call that ran: the validated arguments and what the function returned."""

    tool: str
    arguments: dict[str, Any]
    output: Any


@dataclass(frozen=True)
class Tool:
    function: Callable[..., Any]
    name: str
    description: str
    arguments: type[BaseModel]

    @classmethod
    def from_function(cls, function: Callable[..., Any]) -> Tool:
        hints = get_type_hints(function, include_extras=True)
        fields: dict[str, Any] = {
            name: (hints[name], ... if p.default is p.empty else p.default)
            for name, p in inspect.signature(function).parameters.items()
        }
        arguments = create_model(
            f"{function.__name__}_arguments",
            __config__=ConfigDict(extra="forbid"),
            **fields,
        )
        return cls(function, function.__name__, inspect.getdoc(function) or "", arguments)

    def schema(self) -> dict[str, Any]:
        """The tool as the OpenAI chat API declares it."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.arguments.model_json_schema(),
            },
        }

    def run(self, arguments_json: str) -> ToolCall:
        """Validate the model's arguments, then call the function.

        Raises pydantic's ``ValidationError`` or ``ToolRetry``: both are sent back.
        """
        arguments = self.arguments.model_validate_json(arguments_json)
        values = dict(arguments)
        return ToolCall(
            tool=self.name,
            arguments=arguments.model_dump(mode="json"),
            output=self.function(**values),
        )


def tool(function: Callable[..., Any]) -> Tool:
    """Decorator: turn a typed function into a ``Tool``."""
    return Tool.from_function(function)
