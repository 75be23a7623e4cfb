"""``mode="auto"``: the structured-output mode is found once per endpoint, by its refusals."""

import logging

import pytest
from pydantic import BaseModel

from patterns import LLM, EndpointError
from patterns.testing.stub import Reply, StubServer, stub_server


class Answer(BaseModel):
    ok: bool


def refusing(*refused: str, status: int = 500) -> StubServer:
    """An endpoint that refuses the response_format types named, like llama-cpp-python
    (500 for json_schema) or a server without structured output (400)."""

    def script(body: dict[str, object]) -> Reply:
        kind = (body.get("response_format") or {}).get("type", "none")  # type: ignore[attr-defined]
        if kind in refused:
            return Reply(f"response_format {kind} is not supported", status=status)
        return Reply('{"ok": true}')

    return script  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("refused", "status", "chosen"),
    [
        ((), 500, "json_schema"),
        (("json_schema",), 500, "json_object"),
        (("json_schema", "json_object"), 400, "prompt"),
    ],
    ids=["openai-like", "llama-cpp-like", "no-structured-output"],
)
async def test_the_first_mode_the_endpoint_accepts_is_used_and_remembered(
    refused: tuple[str, ...], status: int, chosen: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="patterns.core")
    with stub_server(refusing(*refused, status=status)) as stub:
        llm = LLM.from_env(base_url=stub.base_url, api_key="k", max_retries=0)
        assert llm.mode == "auto"
        assert (await llm.aparse(Answer, system="s", user="u", step="one")).ok
        assert llm.parse(Answer, system="s", user="u", step="two").ok
    probes = len(refused) + (1 if chosen != "prompt" else 0)
    assert len(stub.requests) == probes + 2  # probed once for the endpoint, then two calls
    sent = stub.requests[-1].get("response_format", {}).get("type", "prompt")
    assert sent == chosen
    assert f"structured-output mode for {stub.base_url}/: {chosen}" in caplog.text


def test_an_explicit_mode_is_never_probed() -> None:
    with stub_server(refusing()) as stub:
        llm = LLM.from_env(base_url=stub.base_url, api_key="k", mode="json_object")
        llm.parse(Answer, system="s", user="u", step="x")
    assert len(stub.requests) == 1
    assert stub.requests[0]["response_format"]["type"] == "json_object"


def test_an_endpoint_that_is_down_is_an_endpoint_error_not_a_refusal() -> None:
    with stub_server(refusing("json_schema", "json_object", status=503)) as stub:
        llm = LLM.from_env(base_url=stub.base_url, api_key="k", max_retries=0)
        with pytest.raises(EndpointError, match="HTTP 503"):
            llm.parse(Answer, system="s", user="u", step="x")
