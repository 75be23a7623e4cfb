"""No key, authorization header, organisation or project id in cassettes, logs or errors."""

import json
import logging
import re
from pathlib import Path

import pytest
import vcr
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from patterns import LLM
from patterns.core._redact import KEY_SHAPED, REDACTED, find_secret, redact
from patterns.testing import ReadableYAML, scrub_request, scrub_response
from patterns.testing.stub import Reply, always, stub_server

ROOT = Path(__file__).parents[2]
SECRET_LIKE = re.compile(
    r"sk-[A-Za-z0-9_-]{16,}|Bearer\s+[A-Za-z0-9._-]{8,}|authorization|openai-organization"
    r"|openai-project|org-[A-Za-z0-9]{16,}|proj_[A-Za-z0-9]{16,}|api[-_]key",
    re.IGNORECASE,
)
FAKE_KEY = "sk-proj-FAKEFAKEFAKEFAKEFAKEFAKE1234"


class Answer(BaseModel):
    ok: bool


def test_no_committed_cassette_holds_anything_secret_like() -> None:
    cassettes = sorted((ROOT / "cassettes").rglob("*.yaml"))
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


PASSWORD = "pw-planted-in-the-url-0042"


def test_no_file_an_eval_run_writes_nor_any_log_holds_a_planted_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key in the environment, password in the endpoint, a server that echoes both in its
    answers and its errors; everything written and logged at DEBUG is scanned."""
    from evals.cli import main

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("PATTERNS_API_KEY", FAKE_KEY)
    monkeypatch.setenv("PATTERNS_STRUCTURED_MODE", "json_object")
    echo = f"I was sent {FAKE_KEY} and {PASSWORD}"

    def careless(body: dict[str, object]) -> Reply:
        if "declined" in str(body["messages"]):
            return Reply(echo, status=400)
        return Reply('{"category": "other", "urgent": false, "note": "' + echo + '"}')

    suite = ROOT / "examples" / "evaluate-your-prompt" / "triage.py"
    with stub_server(careless) as stub:
        url = stub.base_url.replace("http://", f"http://bob:{PASSWORD}@")
        argv = ["run", str(suite), "--model", f"stub@{url}", "--out", str(tmp_path / "runs")]
        assert main([*argv, "--cache", str(tmp_path / "cache"), "--max-error-rate", "1"]) == 0
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) > 8  # results, run.json, reports, cache entries
    for path in written:
        text = path.read_text(errors="replace")
        assert FAKE_KEY not in text, path
        assert PASSWORD not in text, path
    assert FAKE_KEY not in caplog.text
    assert PASSWORD not in caplog.text
    assert "[redacted]" in (tmp_path / "runs" / "report.html").read_text()  # the echo was there


def test_a_recorded_answer_keeps_no_field_that_changes_on_every_run() -> None:
    answer = {"id": "x", "choices": [], "timings": {"predicted_per_second": 17.3}}
    response = {"headers": {"Content-Type": ["application/json"], "Date": ["now"]},
                "body": {"string": json.dumps(answer).encode()}}  # fmt: skip
    kept = json.loads(scrub_response(response)["body"]["string"])
    assert kept == {"id": "x", "choices": []}
    assert list(response["headers"]) == ["Content-Type"]


# The scrub skips its scan on text that holds none of the pattern's anchors (a speed-up
# on every record written): it must find exactly what the whole scan finds.
_PIECES = st.sampled_from(
    ["sk-", "SK-", "org-", "proj_", "Bearer ", "AKIA", "AIza", "ghp_", "xoxb-", "://", "@", ":",
     "api-key=", "API_KEY=", 'api_key": "', "token=", "TOKEN=", "\u0130", "\u0131", "\u212a",
     "\u017f", "p", "k", "e", "y", "_", "-", "=", " ", "/", "é", "A1b2C3d4E5f6G7h8J9k0"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_the_scrub_finds_what_the_whole_pattern_finds(text: str) -> None:
    assert redact(text) == KEY_SHAPED.sub(REDACTED, text)
    assert (find_secret(text) is None) == (KEY_SHAPED.search(text) is None)


@pytest.mark.parametrize(
    "text",
    ["apı_key=abcdefgh12", "API_\u212aEY=abcdefgh12", "to\u212aen=abcdefgh12", "xoxb-1234567890ab"],
)
def test_non_ascii_letters_that_the_pattern_folds_are_still_scrubbed(text: str) -> None:
    assert REDACTED in redact(text)
