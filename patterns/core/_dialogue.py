"""The dialogue with the model, provider-neutral: the one retry loop (a generator that
yields requests and receives completions; ``LLM``'s two drivers send them), and how a
structured answer or a tool call is interpreted and, when invalid, corrected."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast

from openai.types.chat import ChatCompletion, ChatCompletionMessage
from pydantic import BaseModel, ValidationError

from ._confidence import TOP_LOGPROBS, TokenConfident, decision_probability
from ._errors import Attempt, InputError, ModelResponseError, StructuredOutputError
from ._openai import excerpt
from ._schema import schema_of, schema_text
from ._tools import Tool, ToolCall, ToolRetry

if TYPE_CHECKING:
    from ._llm import LLM

logger = logging.getLogger("patterns.core")

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")
Dialogue: TypeAlias = Generator[dict[str, Any], ChatCompletion, R]
"""A typed call's requests and its result: what the drivers run."""


def dialogue(
    llm: LLM,
    *,
    system: str,
    user: str,
    step: str,
    label: str,
    shape: dict[str, Any],
    interpret: Callable[[ChatCompletion], R],
) -> Dialogue[R]:
    """The retry loop, written once: yields requests, receives completions.

    ``interpret`` turns a completion into the result or raises ``Invalid``,
    whose messages go back to the model for the next attempt.
    """
    _check_input(user, llm.max_input_chars)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
    ]
    attempts: list[Attempt] = []
    for attempt in range(llm.validation_retries + 1):
        temperature = min(1.0, llm.temperature + attempt * llm.retry_temperature_step)
        completion = yield {
            "model": llm.model,
            "messages": list(messages),
            "temperature": round(temperature, 2),
            "max_tokens": llm.max_tokens,
            **({"seed": llm.seed} if llm.seed is not None else {}),
            **penalty(llm),
            **shape,
        }
        try:
            return interpret(completion)
        except Invalid as invalid:
            attempts.append(Attempt(invalid.text, invalid.problem, invalid.public))
            messages += invalid.reply
            last = attempt == llm.validation_retries
            logger.info(
                "step %s: invalid answer (%s), %s",
                step,
                invalid.problem,
                "giving up" if last else "retrying",
            )
    raise StructuredOutputError(step, label, attempts)


def penalty(llm: LLM) -> dict[str, float]:
    """The request's ``frequency_penalty``, only where the step sets one (so every other
    request, and every recording of one, is unchanged)."""
    return {} if llm.frequency_penalty is None else {"frequency_penalty": llm.frequency_penalty}


def structured(
    llm: LLM,
    output_type: type[T],
    system: str,
    user: str,
    step: str,
    context: dict[str, Any] | None,
) -> Dialogue[T]:
    schema = schema_of(output_type)

    decision = getattr(output_type, "decision", None)
    by_tokens = llm.confidence == "tokens" and isinstance(decision, str)

    def interpret(completion: ChatCompletion) -> T:
        text = _answer_text(completion)
        logger.debug("step %s raw answer: %s", step, text)
        try:
            answer = output_type.model_validate_json(_json_part(text), context=context)
        except ValidationError as error:
            raise Invalid.answer(text, _describe(error, completion)) from error
        if by_tokens and isinstance(answer, TokenConfident):
            probability = decision_probability(completion, str(decision), schema)
            if probability is not None:
                return cast(T, answer.with_token_confidence(probability))
        return answer

    shape = response_format(llm, output_type.__name__, schema)
    if by_tokens:
        shape = {**shape, "logprobs": True, "top_logprobs": TOP_LOGPROBS}
    return dialogue(
        llm,
        system=instructions(llm, system, output_type),
        user=user,
        step=step,
        label=output_type.__name__,
        shape=shape,
        interpret=interpret,
    )


def tool_dialogue(llm: LLM, tool: Tool, system: str, user: str, step: str) -> Dialogue[ToolCall]:
    def run(arguments: str, completion: ChatCompletion) -> ToolCall:
        public = None
        try:
            return tool.run(arguments)
        except ValidationError as error:
            problem = _describe(error, completion)
        except ToolRetry as retry:
            problem, public = str(retry), retry.public
        invalid = Invalid.tool_call(completion, problem, native=llm.tool_mode == "native")
        invalid.public = public
        raise invalid

    def native(completion: ChatCompletion) -> ToolCall:
        calls = _message(completion).tool_calls or []
        call = next((c for c in calls if c.type == "function"), None)
        if call is None or call.function.name != tool.name:
            raise Invalid.answer(
                _message(completion).content or "", f"the answer is not a call of {tool.name}"
            )
        logger.debug("step %s tool call: %s", step, call.function.arguments)
        return run(call.function.arguments, completion)

    def emulated(completion: ChatCompletion) -> ToolCall:
        return run(_json_part(_answer_text(completion)), completion)

    if llm.tool_mode == "native":
        choice = {"type": "function", "function": {"name": tool.name}}
        shape: dict[str, Any] = {"tools": [tool.schema()], "tool_choice": choice}
        return dialogue(
            llm, system=system, user=user, step=step, label=tool.name, shape=shape, interpret=native
        )
    schema = schema_of(tool.arguments)
    return dialogue(
        llm,
        system=instructions(
            llm, f"{system}\n\nFill in the arguments of: {tool.description}", tool.arguments
        ),
        user=user,
        step=step,
        label=tool.name,
        shape=response_format(llm, tool.name, schema),
        interpret=emulated,
    )


def instructions(llm: LLM, system: str, model: type[BaseModel]) -> str:
    if llm.mode == "json_schema":
        return system  # the endpoint enforces the schema, descriptions included
    if llm.prompt_schema == "none" and llm.mode == "json_object":
        return system  # the grammar built from the schema is the only copy
    shown = schema_text(model, llm.prompt_schema == "full")
    return f"{system}\n\nReply with one JSON object that matches this JSON schema: {shown}"


def response_format(llm: LLM, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if llm.mode == "json_schema":
        json_schema = {"name": name, "schema": schema, "strict": False}
        return {"response_format": {"type": "json_schema", "json_schema": json_schema}}
    if llm.mode == "json_object":
        # llama-cpp-python's server turns this schema into a grammar.
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {}


MAX_ECHO_CHARS = 8_000
"""An invalid answer is sent back to the model at most this long (more than max_tokens'
worth): a runaway answer must not grow every retry's request."""


class Invalid(Exception):
    """An answer that cannot be used, and the messages that tell the model why."""

    def __init__(self, text: str, problem: str, reply: list[dict[str, Any]]) -> None:
        super().__init__(problem)
        self.text, self.problem, self.reply = text, problem, reply
        self.public: str | None = None

    @classmethod
    def answer(cls, text: str, problem: str) -> Invalid:
        return cls(
            text,
            problem,
            [
                {"role": "assistant", "content": excerpt(text, MAX_ECHO_CHARS)},
                {
                    "role": "user",
                    "content": f"That answer is invalid: {problem}\n"
                    "Reply again with only the corrected JSON object.",
                },
            ],
        )

    @classmethod
    def tool_call(cls, completion: ChatCompletion, problem: str, *, native: bool) -> Invalid:
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
                # The same correction as a user message: the tool message answers the call
                # (the API requires it), but some servers' chat formats render a tool
                # message as an empty header (llama-cpp-python's chatml-function-calling,
                # measured: 8 of 24 retries repeated the first call word for word). A user
                # message reaches the model under every template.
                {
                    "role": "user",
                    "content": f"That call of {call.function.name} failed: {problem}\n"
                    f"Call {call.function.name} again with corrected arguments.",
                },
            ],
        )


def _check_input(text: str, limit: int) -> None:
    if not text.strip():
        raise InputError("the input text is empty")
    if len(text) > limit:
        raise InputError(
            f"the input is {len(text):,} characters, over the limit of {limit:,}; "
            "shorten it or raise LLM(max_input_chars=...)"
        )


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
