"""A user's own LLM feature, written with the plain openai SDK: nothing from this project."""

from __future__ import annotations

import os

from openai import OpenAI
from pydantic import BaseModel

PROMPT = (
    "Summarise the user's text in one short sentence of your own, at most 20 words: "
    "the main fact only. Reply with a JSON object with two keys: sentence (your summary) "
    "and topic (the main subject, in one or two words)."
)


class Summary(BaseModel):
    sentence: str
    topic: str


def summarize(client: OpenAI, text: str) -> Summary:
    completion = client.chat.completions.create(
        model=os.environ.get("SUMMARY_MODEL", "gpt-4o-mini"),
        messages=[{"role": "system", "content": PROMPT}, {"role": "user", "content": text}],
        response_format={"type": "json_object"},
        temperature=0,
        max_tokens=120,
    )
    return Summary.model_validate_json(completion.choices[0].message.content or "")
