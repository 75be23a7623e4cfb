"""The pytest plugin as a user's project meets it: their own conftest, their own
``vcr_config``, plain openai SDK code, recorded against the stub endpoint here."""

from collections.abc import Callable
from pathlib import Path

import pytest

from patterns.testing.stub import Reply, StubServer

EXAMPLE = Path(__file__).parents[2] / "examples" / "prompt-regression"
SUMMARY = (
    '{"sentence": "The old depot becomes a library with a rooftop garden.", "topic": "library"}'
)

KEY = "sk-proj-USERKEYUSERKEYUSERKEY0042"
PASSWORD = "hunter2-in-the-url"
QUERY_KEY = "query-secret-0042"
ORGANISATION = "org-USERORGUSERORGUSER42"

StartStub = Callable[..., StubServer]


def cassettes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.yaml"))}


def test_a_user_project_records_replays_and_fails_on_a_changed_prompt(
    example: pytest.Pytester, llm_stub: StartStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = llm_stub(Reply(SUMMARY))
    monkeypatch.setenv("PATTERNS_BASE_URL", stub.base_url)
    monkeypatch.setenv("PATTERNS_API_KEY", KEY)
    example.runpytest_subprocess("--record-mode=once", "--snapshot-update").assert_outcomes(
        passed=2
    )
    recorded = cassettes(example.path)
    assert sorted(recorded) == [
        "tests/cassettes/test_summarize/test_an_article_becomes_one_short_sentence.yaml",
        "tests/cassettes/test_summarize/test_the_prompt_sent_is_the_one_recorded.yaml",
    ]
    assert len(stub.requests) == 2

    # Replay: no endpoint, no key, no network.
    monkeypatch.delenv("PATTERNS_BASE_URL")
    monkeypatch.delenv("PATTERNS_API_KEY")
    example.runpytest_subprocess().assert_outcomes(passed=2)
    assert len(stub.requests) == 2

    # One word of the prompt changes: both tests fail, each with the diff and the
    # re-record command this project configured (its own vcr_config notwithstanding).
    source = example.path / "summarize.py"
    source.write_text(source.read_text().replace("one short sentence", "a single short sentence"))
    result = example.runpytest_subprocess()
    result.assert_outcomes(failed=2)
    output = result.stdout.str()
    assert "request body changed:" in output
    # The plugin's report leads, alone: no vcrpy traceback, none of its advice
    # (new_episodes, a looser match_on) that this plugin refuses.
    assert "new_episodes" not in output
    assert "match_on" not in output
    assert "httpx_stubs.py" not in output
    assert "CannotOverwrite" not in output
    failures = output.split("= FAILURES =")[1].split("short test summary")[0]
    assert len(failures.strip().splitlines()) <= 40  # two tests, about 16 lines each
    assert '-   "content": "Summarise the user\'s text in one short sentence' in output
    assert '+   "content": "Summarise the user\'s text in a single short sentence' in output
    assert (
        "    OPENAI_API_KEY=... pytest "
        "tests/test_summarize.py::test_an_article_becomes_one_short_sentence "
        "--record-mode=rewrite --snapshot-update\n"
    ) in output
    assert len(stub.requests) == 2  # still nothing reached the endpoint


SECRET_CONFTEST = f"""
import os
import pytest
from openai import OpenAI

pytest_plugins = ["patterns.testing"]

@pytest.fixture
def client(llm_endpoint):
    base = llm_endpoint.base_url
    if llm_endpoint.recording:  # credentials in the URL and in its query string
        base = base.replace("http://", "http://bob:{PASSWORD}@")
    with OpenAI(base_url=base, api_key=llm_endpoint.api_key, organization="{ORGANISATION}",
                default_query={{"api-key": "{QUERY_KEY}", "api-version": "2026-01"}},
                max_retries=0) as c:
        yield c
"""

SECRET_TESTS = """
import openai
import pytest

def ask(client, text="hello"):
    return client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": text}])

@pytest.mark.vcr
def test_an_answer_that_echoes_the_key(client):
    assert ask(client).choices[0].message.content

@pytest.mark.vcr
def test_an_error_that_echoes_the_key(client):
    with pytest.raises(openai.BadRequestError):
        ask(client, "error")
"""


def echo_secrets(body: dict[str, object]) -> Reply:
    """A careless server: it repeats every credential it was sent."""
    echoed = f"key {KEY}, org {ORGANISATION}, password {PASSWORD}, query {QUERY_KEY}"
    if "error" in str(body["messages"]):
        return Reply(f"invalid request from {echoed}", status=400)
    return Reply(f"hello from {echoed}")


def test_no_secret_or_machine_detail_reaches_a_cassette(
    example: pytest.Pytester, llm_stub: StartStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = llm_stub(script=echo_secrets)
    (example.path / "tests" / "conftest.py").write_text(SECRET_CONFTEST)
    (example.path / "tests" / "test_secrets.py").write_text(SECRET_TESTS)
    (example.path / "tests" / "test_summarize.py").unlink()
    monkeypatch.setenv("PATTERNS_BASE_URL", stub.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    example.runpytest_subprocess("--record-mode=once", "tests").assert_outcomes(passed=2)
    recorded = cassettes(example.path)
    assert len(recorded) == 2
    port = stub.base_url.split(":")[2].split("/")[0]
    for name, text in recorded.items():
        assert "chat/completions" in text, name
        assert "[redacted]" in text, name  # the echo was there, and was removed
        for secret in (KEY, PASSWORD, QUERY_KEY, ORGANISATION, "127.0.0.1", port, "bob"):
            assert secret not in text, (name, secret)
        assert "uri: /v1/chat/completions?api-version=2026-01\n" in text  # path, safe query

    # The recordings replay under the dummy endpoint, with no key anywhere.
    monkeypatch.delenv("PATTERNS_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY")
    example.runpytest_subprocess("tests").assert_outcomes(passed=2)


def test_a_cassette_that_would_hold_a_secret_is_not_written(
    example: pytest.Pytester, llm_stub: StartStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = llm_stub(Reply("fine"))
    (example.path / "tests" / "conftest.py").write_text(SECRET_CONFTEST)
    (example.path / "tests" / "test_summarize.py").unlink()
    (example.path / "tests" / "test_leak.py").write_text(
        SECRET_TESTS.replace('text="hello"', f'text="my key is {KEY}"')
    )
    monkeypatch.setenv("PATTERNS_BASE_URL", stub.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    result = example.runpytest_subprocess("--record-mode=once", "tests", "-k", "answer")
    result.assert_outcomes(passed=1, errors=1)
    assert "refusing to write a cassette that holds a key" in result.stdout.str()
    assert KEY not in result.stdout.str()
    assert cassettes(example.path) == {}


@pytest.mark.parametrize(
    ("config", "why"),
    [
        ({"match_on": ["method", "uri"]}, "match_on=['method', 'uri']: requests must be matched"),
        ({"record_mode": "once"}, "record_mode='once': it would decide for every run"),
        ({"serializer": "json"}, "serializer='json': the plugin's serializer"),
        ({"allow_playback_repeats": True}, "allow_playback_repeats=True: a test that makes more"),
    ],
    ids=["no-body-matching", "record-mode", "serializer", "playback-repeats"],
)
def test_a_config_that_would_switch_a_guarantee_off_is_refused(
    example: pytest.Pytester, config: dict[str, object], why: str
) -> None:
    conftest = (example.path / "tests" / "conftest.py").read_text()
    (example.path / "tests" / "conftest.py").write_text(
        conftest.replace('{"filter_headers": ["authorization"]}', repr(config))
    )
    result = example.runpytest_subprocess("-k", "article")
    result.assert_outcomes(errors=1)
    assert f"patterns.testing refuses vcr option {why}" in result.stdout.str()


API_TEST = """
import pytest

@pytest.mark.vcr
def test_call(client):
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": __file__}])
"""


@pytest.mark.parametrize(
    ("ini", "expected"),
    [
        ("", ["a/cassettes/test_api/test_call.yaml", "b/cassettes/test_api/test_call.yaml"]),
        (
            'llm_cassette_dir = "recorded"',
            [
                "recorded/tests/a/test_api/test_call.yaml",
                "recorded/tests/b/test_api/test_call.yaml",
            ],
        ),
    ],
    ids=["beside-the-tests", "configured-folder"],
)
def test_two_test_files_of_one_name_never_share_cassettes(
    example: pytest.Pytester,
    llm_stub: StartStub,
    monkeypatch: pytest.MonkeyPatch,
    ini: str,
    expected: list[str],
) -> None:
    stub = llm_stub(Reply("ok"))
    (example.path / "tests" / "test_summarize.py").unlink()
    for folder in ("a", "b"):
        (example.path / "tests" / folder).mkdir()
        (example.path / "tests" / folder / "test_api.py").write_text(API_TEST)
    pyproject = example.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + ini + "\n")
    monkeypatch.setenv("PATTERNS_BASE_URL", stub.base_url)
    example.runpytest_subprocess("--record-mode=once", "--import-mode=importlib").assert_outcomes(
        passed=2
    )
    base = example.path if ini else example.path / "tests"
    assert sorted(str(p.relative_to(base)) for p in base.rglob("*.yaml")) == expected


def test_a_5xx_answer_is_never_saved_while_recording(
    example: pytest.Pytester, llm_stub: StartStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded once, a server error would replay forever: it is left out and the test
    says why (unless the project asks for it with llm_record_server_errors)."""
    stub = llm_stub(Reply("the model crashed", status=500))
    monkeypatch.setenv("PATTERNS_BASE_URL", stub.base_url)
    result = example.runpytest_subprocess("--record-mode=once", "-k", "article")
    output = result.stdout.str()
    assert "answered HTTP 500 while recording" in output
    assert "llm_record_server_errors = true" in output
    saved = cassettes(example.path)
    assert not any("the model crashed" in text for text in saved.values())
