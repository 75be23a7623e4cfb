"""No key, authorization header, organisation or project id in cassettes, logs or errors."""

import logging
import re
from pathlib import Path

import pytest
import vcr
from pydantic import BaseModel

from patterns import LLM
from patterns.stub import Reply, always, stub_server
from patterns.testing import ReadableYAML, scrub_request, scrub_response

ROOT = Path(__file__).parent.parent
SECRET_LIKE = re.compile(
    r"sk-[A-Za-z0-9_-]{16,}|Bearer\s+[A-Za-z0-9._-]{8,}|authorization|openai-organization"
    r"|openai-project|org-[A-Za-z0-9]{16,}|proj_[A-Za-z0-9]{16,}|api[-_]key",
    re.IGNORECASE,
)
FAKE_KEY = "sk-proj-FAKEFAKEFAKEFAKEFAKEFAKE1234"


class Answer(BaseModel):
    ok: bool


def test_no_committed_cassette_holds_anything_secret_like() -> None:
    cassettes = sorted((ROOT / "tests" / "cassettes").rglob("*.yaml"))
    assert cassettes, "no cassettes found"
    found = {
        str(path.relative_to(ROOT)): match.group(0)
        for path in cassettes
        if (match := SECRET_LIKE.search(path.read_text()))
    }
    assert found == {}


def test_recording_with_a_key_keeps_it_out_of_the_cassette_and_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = vcr.VCR(
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        record_mode="all",
    )
    recorder.register_serializer("readable", ReadableYAML())
    cassette = tmp_path / "recorded.yaml"
    caplog.set_level(logging.DEBUG)
    with stub_server(
        always(Reply('{"ok": true}', headers={"openai-organization": "org-x"}))
    ) as stub:
        llm = LLM.from_env(
            base_url=stub.base_url,
            api_key=FAKE_KEY,
            organization="org-secret",
            mode="json_object",
            max_retries=0,
        )
        with recorder.use_cassette(str(cassette), serializer="readable"):
            llm.parse(Answer, system="s", user="u", step="x")
    text = cassette.read_text()
    assert "chat/completions" in text  # it did record
    assert FAKE_KEY not in text
    assert "org-secret" not in text
    assert "org-x" not in text
    assert SECRET_LIKE.search(text) is None
    assert FAKE_KEY not in caplog.text
