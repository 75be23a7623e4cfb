import json

import pytest
from summarize import PROMPT, summarize
from syrupy.assertion import SnapshotAssertion

ARTICLE = (
    "The city council voted on Tuesday to turn the old railway depot into a public "
    "library with a rooftop garden. Work starts in March and should take two years."
)


@pytest.mark.vcr
def test_an_article_becomes_one_short_sentence(client, snapshot_json: SnapshotAssertion) -> None:
    summary = summarize(client, ARTICLE)
    assert len(summary.sentence.split()) <= 25
    assert summary.model_dump() == snapshot_json


@pytest.mark.vcr
def test_the_prompt_sent_is_the_one_recorded(client, vcr) -> None:
    summarize(client, ARTICLE)
    sent = json.loads(vcr.requests[0].body)
    assert sent["messages"][0]["content"] == PROMPT
    assert sent["response_format"] == {"type": "json_object"}
