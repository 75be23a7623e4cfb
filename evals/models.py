"""The models under test: from ``--model`` flags or a ``models.yaml`` file.

    models:
      - name: gpt-4o-mini
        endpoint: https://api.openai.com/v1
        key_env: OPENAI_API_KEY        # the variable's name, never the key
        price: [0.15, 0.60]           # USD per million input and output tokens
      - name: qwen                   # the embedded model
        embedded: qwen2.5-coder-0.5b-instruct
      - name: qwen-fast              # the same GGUF on llama.cpp's llama-server
        embedded: qwen2.5-coder-0.5b-instruct
        engine: llama-server
        slots: 2
      - name: qwen-7b                # one model, several replicas (least loaded first)
        endpoints: [http://gpu1:8000/v1, http://gpu2:8000/v1]
    judge: gpt-4o-mini               # one of the above

A flag is ``embedded``, ``embedded:NAME``, ``gguf:PATH`` or ``MODEL@BASE_URL``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Literal, cast
from urllib.parse import urlsplit

import httpx2
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from patterns import LLM
from patterns.core import DEFAULT_MODEL
from patterns.core.plumbing import find_secret, redact_url
from patterns.server import MODELS, Engine, LocalServer, engine_from_env, resolve_slots

from .data import read_yaml
from .errors import EvalsError

DEFAULT_EMBEDDED = DEFAULT_MODEL


class ModelError(EvalsError, ValueError):
    """A model that cannot be used (one line)."""


ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    """The label in reports (and the model name sent, unless ``model`` is set)."""
    model: str | None = None
    endpoint: str | None = None
    endpoints: list[str] | None = Field(default=None, min_length=1)
    """Replicas of one model (``evals._replicas``): requests go to the least loaded."""
    embedded: str | None = None
    gguf: Path | None = None
    engine: Literal["llama-cpp-python", "llama-server"] | None = None
    """The server for an embedded model or GGUF (default: ``PATTERNS_ENGINE``, else
    llama-cpp-python's)."""
    slots: int | None = Field(default=None, ge=1, le=64)
    """llama-server's parallel slots: requests it computes at once (default:
    ``PATTERNS_SLOTS``, else 2)."""
    key_env: str | None = None
    structured_mode: Literal["auto", "json_schema", "json_object", "prompt"] | None = None
    tool_mode: Literal["native", "emulated"] | None = None
    temperature: float = Field(default=0.0, ge=0, le=2)
    confidence: Literal["verbal", "tokens"] | None = None
    """Gate confidence from the written percent, or from the decision token's probability.
    Default: ``tokens`` for the embedded models, where it wins (chain gate on the test
    split: ROC AUC 0.76 against 0.62, accuracy 0.81 against 0.68, at about 3x the time per
    call), ``verbal`` elsewhere."""

    @property
    def gate_confidence(self) -> Literal["verbal", "tokens"]:
        return self.confidence or ("tokens" if self.is_local else "verbal")

    prompt_schema: Literal["full", "bare", "none"] | None = None
    """In the prompted modes, the schema shown in the system prompt: with its field
    descriptions, without them (the core's default), or not at all (the grammar of
    ``json_object`` mode still holds the answer to it)."""
    seed: int | None = None
    price: tuple[float, float] | None = None
    concurrency: int | None = Field(default=None, ge=1, le=1024)
    serial: bool | None = None
    """The endpoint answers one request at a time and reuses the previous request's prompt
    prefix (llama-cpp-python's server): the runner then sends requests step by step
    (``evals._schedule``). Default: true for the embedded models and GGUF files."""

    @property
    def one_at_a_time(self) -> bool:
        return self.is_local if self.serial is None else self.serial

    @property
    def in_flight(self) -> int:
        """Requests the endpoint computes at once: one per replica, or per slot."""
        if self.endpoints:
            return len(self.endpoints)
        if self.is_local:
            return resolve_slots(cast(Engine, self.resolved_engine), self.slots)
        return self.slots or 1

    @property
    def resolved_engine(self) -> str:
        return self.engine or engine_from_env()

    @field_validator("name", "model")
    @classmethod
    def _not_a_key(cls, value: str | None) -> str | None:
        if value is not None and find_secret(value):
            raise ValueError(
                "this looks like an API key, not a model name (it is not shown); put the key "
                "in an environment variable and name that variable in key_env"
            )
        return value

    @field_validator("key_env")
    @classmethod
    def _a_variable_name(cls, value: str | None) -> str | None:
        if value is not None and not ENV_NAME.match(value):
            raise ValueError(
                "key_env must name an environment variable (letters, digits, _), not hold "
                "the key itself; the value given is not shown"
            )
        return value

    @field_validator("endpoint")
    @classmethod
    def _a_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            shown = "it is not shown" if find_secret(value) else f"got {redact_url(value)!r}"
            raise ValueError(f"endpoint must be an http(s) URL ({shown})")
        if parts.query:  # the SDK appends each path after it: refused by the client too
            raise ValueError(
                f"endpoint {redact_url(value)} has a query string; give the URL without it "
                "(a key goes in the variable key_env names)"
            )
        return value

    @field_validator("endpoints")
    @classmethod
    def _urls(cls, value: list[str] | None) -> list[str] | None:
        for url in value or []:
            cls._a_url(url)
        if value is not None and len(set(value)) != len(value):
            raise ValueError("endpoints lists a replica twice")
        return value

    @property
    def base_url(self) -> str | None:
        return self.endpoints[0] if self.endpoints else self.endpoint

    @model_validator(mode="after")
    def _one_source(self) -> ModelConfig:
        sources = [self.endpoint, self.endpoints, self.embedded, self.gguf]
        if sum(s is not None for s in sources) > 1:
            raise ValueError("give one of endpoint, endpoints, embedded or gguf")
        if self.embedded is not None and self.embedded not in MODELS:
            raise ValueError(f"unknown embedded model {self.embedded!r}; known: {sorted(MODELS)}")
        if self.key_env is not None and not os.environ.get(self.key_env):  # a name: safe
            raise ValueError(f"key_env {self.key_env} is not set in the environment")
        if any(p < 0 for p in self.price or ()):
            raise ValueError("prices cannot be negative")
        return self

    @property
    def is_local(self) -> bool:
        return self.embedded is not None or self.gguf is not None

    def identity(self) -> dict[str, object]:
        """What decides this model's answers, for the run fingerprint (no key)."""
        unused = {"key_env", "price", "concurrency", "serial", "endpoints"}
        data = self.model_dump(mode="json", exclude=unused)
        data["confidence"] = self.gate_confidence
        data.pop("slots", None)  # how fast, not what it answers
        if self.is_local:
            data["engine"] = self.resolved_engine
        else:
            data.pop("engine", None)
        if self.endpoint:
            data["endpoint"] = redact_url(self.endpoint)
        if self.endpoints:
            data["endpoint"] = "replicas"  # the model, not where its replicas run
        if self.gguf is not None:
            data["gguf"] = hashlib.sha256(str(self.gguf.resolve()).encode()).hexdigest()[:16]
        return data

    def cache_identity(self) -> str | None:
        """What the cache keys this model's answers by: the model file for a local server
        (its port changes every run), None for an endpoint (its URL is the identity)."""
        engine = "" if self.resolved_engine == "llama-cpp-python" else f":{self.resolved_engine}"
        if self.embedded is not None:
            return f"embedded:{MODELS[self.embedded].sha256}{engine}"
        if self.gguf is not None:
            return f"gguf:{self.identity()['gguf']}{engine}"
        if self.endpoints:
            return f"replicas:{self.model or self.name}"
        return None

    @contextlib.contextmanager
    def settings(self) -> Iterator[dict[str, object]]:
        """``LLM.from_env`` arguments, with the local server started if there is one."""
        common: dict[str, object] = {"temperature": self.temperature}
        if self.seed is not None:
            common["seed"] = self.seed
        if self.gate_confidence != "verbal":
            common["confidence"] = self.gate_confidence
        if self.tool_mode:
            common["tool_mode"] = self.tool_mode
        if self.prompt_schema:
            common["prompt_schema"] = self.prompt_schema
        if self.is_local:
            server = LocalServer(
                self.gguf or MODELS[self.embedded or DEFAULT_EMBEDDED],
                engine=self.engine, slots=self.slots,
            )  # fmt: skip
            with server:
                yield {**common, "base_url": server.base_url, "model": server.model_name,
                       "mode": self.structured_mode or server.structured_mode,
                       "retry_timeouts": False}  # fmt: skip
            return
        key = os.environ[self.key_env] if self.key_env else None
        yield {**common, "base_url": self.base_url, "model": self.model or self.name,
               "api_key": key, "mode": self.structured_mode,
               "retry_timeouts": not self.one_at_a_time}  # fmt: skip


def from_flag(text: str) -> ModelConfig:
    """``embedded`` | ``embedded:NAME`` | ``gguf:PATH`` | ``MODEL@BASE_URL`` | ``MODEL``."""
    try:
        if text == "embedded" or text.startswith("embedded:"):
            name = text.partition(":")[2] or DEFAULT_EMBEDDED
            return ModelConfig(name=f"embedded:{name}", embedded=name)
        if text.startswith("gguf:"):
            path = Path(text[5:])
            if not path.is_file():
                raise ModelError(f"--model {text}: no such GGUF file")
            return ModelConfig(name=path.stem, gguf=path)
        model, _, endpoint = text.partition("@")
        if not model:
            raise ModelError(f"--model {redact_url(text)!r}: expected MODEL@BASE_URL")
        return ModelConfig(name=model, endpoint=endpoint or None)
    except ValidationError as error:
        shown = "(a key-shaped value, not shown)" if find_secret(text) else redact_url(text)
        raise ModelError(f"--model {shown}: {error.errors(include_url=False)[0]['msg']}") from None


class ModelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[ModelConfig] = Field(min_length=1)
    """At least one: a models file that yields nothing to run is an error."""
    judge: str | None = None

    @model_validator(mode="after")
    def _judge_is_listed(self) -> ModelsFile:
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError("two models have the same name")
        if self.judge is not None and self.judge not in names:
            raise ValueError(f"judge {self.judge!r} is not one of the models {names}")
        return self


def load_models(path: Path) -> ModelsFile:
    try:
        return ModelsFile.model_validate(read_yaml(path))
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"]))
        raise ModelError(f"{path}: {where}: {first['msg']}") from None


@contextlib.asynccontextmanager
async def connect(
    settings: dict[str, object], transport: httpx2.AsyncBaseTransport | None, deadline_s: float
) -> AsyncIterator[LLM]:
    llm = LLM.from_env(**settings, timeout=deadline_s, async_transport=transport)  # type: ignore[arg-type]
    try:
        yield llm
    finally:
        await llm.aclose()
