"""Which client features work on the embedded model, probed on each engine with the
openai SDK (the README's feature table): ``python -m bench.features``.

Each probe sends one small request and reads the answer's shape: "works", or the HTTP
status and the first words of the error. Not a test: a table for people choosing a client.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import openai
from pydantic import BaseModel

from patterns.server import ENGINES, LocalServer


class Lunch(BaseModel):
    day: str
    hour: int


SCHEMA = Lunch.model_json_schema()
TOOL = {
    "type": "function",
    "function": {"name": "book", "description": "Book lunch.", "parameters": SCHEMA},
}
ASK: list[Any] = [{"role": "user", "content": "Book lunch on Friday at 12."}]


def _probes(client: openai.OpenAI, model: str) -> dict[str, Callable[[], str]]:
    def create(**extra: Any) -> Any:
        return client.chat.completions.create(
            model=model, messages=ASK, max_tokens=60, temperature=0, **extra
        )

    def tool_called(answer: Any) -> str:
        calls = answer.choices[0].message.tool_calls or []
        if not calls:
            return "answers text, no tool call"
        Lunch.model_validate_json(calls[0].function.arguments)
        return "works"

    def streamed() -> str:
        chunks = list(create(stream=True))
        return "works" if any(c.choices and c.choices[0].delta.content for c in chunks) else "empty"

    return {
        "plain text": lambda: "works" if create().choices[0].message.content else "empty",
        "json_object with a schema": lambda: _valid(
            create(response_format={"type": "json_object", "schema": SCHEMA})
        ),
        "json_schema (the SDK's parse, instructor's JSON_SCHEMA)": lambda: _valid(
            create(
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "Lunch", "schema": SCHEMA},
                }
            )
        ),
        "tools, tool_choice naming the function": lambda: tool_called(
            create(tools=[TOOL], tool_choice={"type": "function", "function": {"name": "book"}})
        ),
        'tools, tool_choice="auto"': lambda: tool_called(create(tools=[TOOL], tool_choice="auto")),
        'tools, tool_choice="required"': lambda: tool_called(
            create(tools=[TOOL], tool_choice="required")
        ),
        "logprobs / top_logprobs": lambda: (
            "works" if create(logprobs=True, top_logprobs=5).choices[0].logprobs else "none"
        ),
        "streaming": streamed,
    }


def _valid(answer: Any) -> str:
    Lunch.model_validate_json(answer.choices[0].message.content)
    return "works"


def probe(engine: str) -> dict[str, str]:
    found = {}
    with LocalServer(engine=engine) as server:  # type: ignore[arg-type]
        client = openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0)
        for name, run in _probes(client, server.model_name).items():
            try:
                found[name] = run()
            except openai.APIStatusError as error:
                found[name] = f"HTTP {error.status_code}"
            except Exception as error:  # a malformed answer: say what, and go on
                found[name] = f"{type(error).__name__}"
        client.close()
    return found


def main(argv: list[str]) -> int:
    engines = argv or list(ENGINES)
    results = {engine: probe(engine) for engine in engines}
    print("| client feature | " + " | ".join(engines) + " |")
    print("|---|" + "---|" * len(engines))
    for feature in results[engines[0]]:
        print(f"| {feature} | " + " | ".join(results[e][feature] for e in engines) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
