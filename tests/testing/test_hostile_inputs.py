"""The plugin's inputs made hostile: a cassette that is an alias bomb or the wrong shape,
``vcr_config`` values of the wrong type or that switch recording off, hooks that drop
what they are given, a key echoed into a snapshot. Each is one message naming the file
or option, in bounded time; nothing is written that holds a secret."""

from __future__ import annotations

import pytest

from patterns.testing.stub import Reply
from tests.testing.test_plugin import KEY, SUMMARY, StartStub

CASSETTE = "tests/cassettes/test_summarize/test_an_article_becomes_one_short_sentence.yaml"
BOMB = """\
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
interactions: [*h]
"""


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (BOMB, "it holds a YAML alias or anchor"),
        ("interactions: [{request: {}}]\n", "interaction 1 lacks a request or a response"),
        ("- just\n- a list\n", "it has no list of interactions"),
        ("interactions: [!!python/object:os.system {}]\n", "it is not plain YAML"),
    ],
    ids=["alias-bomb", "no-response", "a-list", "python-tag"],
)
def test_a_hostile_cassette_fails_at_once_naming_the_file(
    example: pytest.Pytester,
    content: str,
    why: str,
) -> None:
    path = example.path / CASSETTE
    path.parent.mkdir(parents=True)
    path.write_text(content)
    result = example.runpytest_subprocess("-k", "article", timeout=60)
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert f"{CASSETTE} cannot be replayed: {why}" in output
    assert "record it again" in output


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"match_on": "method"}, "match_on='method' is not a list of matcher names"),
        ({"before_record_request": 42}, "before_record_request=42 is not a function"),
        ({"allowed_hosts": "localhost"}, "allowed_hosts='localhost' is not a list of host names"),
        ({"ignore_localhost": True}, "refuses vcr option ignore_localhost=True"),
        ({"ignore_hosts": ["127.0.0.1"]}, "refuses vcr option ignore_hosts=['127.0.0.1']"),
        ({"match_on": ["llm_body"]}, "refuses vcr option match_on=['llm_body']"),
    ],
    ids=["match-on-string", "hook-number", "hosts-string", "localhost", "hosts", "no-method"],
)
def test_a_vcr_option_of_the_wrong_type_or_that_records_nothing_is_refused(
    example: pytest.Pytester,
    config: dict[str, object],
    message: str,
) -> None:
    conftest = (example.path / "tests" / "conftest.py").read_text()
    (example.path / "tests" / "conftest.py").write_text(
        conftest.replace('{"filter_headers": ["authorization"]}', repr(config))
    )
    result = example.runpytest_subprocess("-k", "article")
    result.assert_outcomes(errors=1)
    assert message in result.stdout.str()
    assert "Traceback" not in result.stdout.str().split("short test summary")[0][-2000:]


def test_a_hook_that_drops_the_request_fails_the_recording(
    example: pytest.Pytester,
    llm_stub: StartStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conftest = (example.path / "tests" / "conftest.py").read_text()
    conftest = conftest.replace(
        '{"filter_headers": ["authorization"]}', '{"before_record_request": drop}'
    )
    (example.path / "tests" / "conftest.py").write_text(
        conftest + "\n\ndef drop(request: object) -> None:\n    return None\n"
    )
    monkeypatch.setenv("PATTERNS_BASE_URL", llm_stub(Reply(SUMMARY)).base_url)
    result = example.runpytest_subprocess("--record-mode=once", "-k", "article")
    assert "the before_record_request hook drop returned None" in result.stdout.str()
    assert not (example.path / CASSETTE).exists()


def test_a_key_echoed_in_an_answer_never_reaches_a_snapshot(
    example: pytest.Pytester,
    llm_stub: StartStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    echoed = SUMMARY.replace("rooftop garden", f"rooftop garden {KEY}")
    monkeypatch.setenv("PATTERNS_BASE_URL", llm_stub(Reply(echoed)).base_url)
    monkeypatch.setenv("PATTERNS_API_KEY", KEY)
    result = example.runpytest_subprocess("--record-mode=once", "--snapshot-update")
    output = result.stdout.str()
    assert "refusing to write a snapshot that holds" in output
    assert KEY not in output
    for path in example.path.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".ambr", ".yaml"):
            assert KEY not in path.read_text(errors="replace"), path
