"""Structured-output mode detection (``mode="auto"``): once per endpoint and process, a
tiny probe tries ``json_schema``, then ``json_object`` with a schema (what
llama-cpp-python takes); an endpoint that refuses both gets ``prompt``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import openai

from ._dialogue import response_format
from ._errors import ConfigurationError
from ._openai import endpoint_errors
from ._redact import redact_url
from ._settings import StructuredMode

if TYPE_CHECKING:
    from ._llm import LLM

logger = logging.getLogger("patterns.core")


DETECTED: dict[str, StructuredMode] = {}
"""The mode each endpoint accepted, by base URL, for the life of the process."""
_PROBE_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "title": "Probe",
}


def detect(llm: LLM) -> LLM:
    if (known := _known(llm)) is not None:
        return known
    assert llm.client is not None
    for mode, probe in _probes(llm):
        with _refusal(llm) as refused:
            client = llm.client.with_options(max_retries=0, default_headers=llm.headers)
            client.chat.completions.create(**probe)
        if not refused:
            return _settle(llm, mode)
    return _settle(llm, "prompt")


async def adetect(llm: LLM) -> LLM:
    if (known := _known(llm)) is not None:
        return known
    assert llm.aclient is not None
    for mode, probe in _probes(llm):
        with _refusal(llm) as refused:
            aclient = llm.aclient.with_options(max_retries=0, default_headers=llm.headers)
            await aclient.chat.completions.create(**probe)
        if not refused:
            return _settle(llm, mode)
    return _settle(llm, "prompt")


def _known(llm: LLM) -> LLM | None:
    if llm.mode != "auto":
        return llm
    client = llm.aclient or llm.client
    if client is None:
        raise ConfigurationError("this LLM has no client; use LLM.from_env()")
    mode = DETECTED.get(str(client.base_url))
    return None if mode is None else replace(llm, mode=mode)


def _probes(llm: LLM) -> Iterator[tuple[StructuredMode, dict[str, Any]]]:
    for mode in ("json_schema", "json_object"):
        shape = response_format(replace(llm, mode=mode), "Probe", _PROBE_SCHEMA)
        messages = [{"role": "user", "content": 'Reply with {"ok": true}'}]
        yield mode, {"model": llm.model, "messages": messages, "max_tokens": 8, **shape}


def _settle(llm: LLM, mode: StructuredMode) -> LLM:
    client = llm.aclient or llm.client
    assert client is not None
    DETECTED[str(client.base_url)] = mode
    logger.info("structured-output mode for %s: %s", redact_url(str(client.base_url)), mode)
    return replace(llm, mode=mode)


@contextmanager
def _refusal(llm: LLM) -> Iterator[list[bool]]:
    """Notes whether the endpoint refused the request's shape (400, 422, or the 500
    that llama-cpp-python answers to json_schema); other failures are raised, typed."""
    refused: list[bool] = []
    with endpoint_errors(llm):
        try:
            yield refused
        except (openai.BadRequestError, openai.UnprocessableEntityError):
            refused.append(True)
        except openai.InternalServerError as error:
            if error.status_code != 500:
                raise
            refused.append(True)
