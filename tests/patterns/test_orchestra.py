"""The orchestra: recorded runs for the whole loop on a real model, a scripted stub
for the exact rules (who sees what, which sections get rewritten, the round cap)."""

import json
import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from patterns import LLM, InputError, StructuredOutputError
from patterns.orchestra import write_document
from patterns.testing.stub import Reply, by_schema, stub_server

TOPIC = "Why small teams should write design docs"


@pytest.mark.vcr
async def test_a_whole_article_is_planned_written_reviewed_and_revised(
    llm: LLM, snapshot_json: SnapshotAssertion
) -> None:
    # Recorded on the embedded model on llama-server (2026-12-07). Every free-text field
    # the writer and the reviewer fill is bounded by the answer's schema (a section is a
    # list of sentences, as many as its target needs; an edit at most 200 characters),
    # so the server's grammar ends a model that would loop; code drops a sentence said
    # twice or copied from an earlier section, and the length gate sends a section left
    # short back for a rewrite.
    result = await write_document(TOPIC, llm=llm)
    assert result.error is None
    assert result.outcome in ("accepted", "not_accepted")
    assert len(result.sections) == len(result.plan.sections) >= 2
    assert all(section.words > 0 for section in result.sections)
    assert result.rounds
    said = [s for section in result.sections for s in re.split(r"(?<=[.!?])\s+", section.content)]
    assert len(said) == len(set(said))  # no sentence twice in the article
    assert result.model_dump(mode="json") == snapshot_json


# --- The rules, on a scripted stub --------------------------------------------------------

PLAN = {
    "topic_analysis": "t",
    "target_audience": "engineers",
    "sections": [
        {
            "name": n,
            "section_type": "body",
            "description": "d",
            "style_guide": "plain",
            "target_words": 50,
        }
        for n in ("One", "Two", "Three")
    ],
}


def sentences(draft: int, words: int, each: int = 10, filler: str = "w") -> list[str]:
    """``words`` words in sentences of ``each``, none like another draft's."""
    count = max(1, words // each)
    return [f"draft {draft} s{i}" + f" {filler}" * (each - 3) + "." for i in range(count)]


def scripted(scores: list[int], edited: list[str]) -> Any:
    drafts = iter(range(100))
    reviews = iter(scores)

    def draft(_: dict[str, Any]) -> Reply:
        return Reply(json.dumps({"sentences": sentences(next(drafts), 50), "key_points": ["k"]}))

    def review(_: dict[str, Any]) -> Reply:
        edits = [{"section_name": n, "edit": f"fix {n}"} for n in edited]
        return Reply(json.dumps({"suggested_edits": edits, "cohesion_percent": next(reviews)}))

    return by_schema(Plan=lambda _: Reply(json.dumps(PLAN)), Draft=draft, ReviewAnswer=review)


async def test_each_writer_sees_the_sections_before_it_and_its_target_length() -> None:
    with stub_server(scripted([90], [])) as stub:
        llm = stub.llm()
        await write_document(TOPIC, llm=llm)
        await llm.aclose()
    writes = [b for b in stub.requests if b["response_format"]["schema"]["title"] == "Draft"]
    users = [w["messages"][1]["content"] for w in writes]
    assert "(none yet)" in users[0]
    assert "## One\ndraft 0" in users[1]
    assert "## One\ndraft 0" in users[2]
    assert "## Two\ndraft 1" in users[2]
    assert all("Write about 50 words." in w["messages"][0]["content"] for w in writes)


async def test_only_edited_sections_are_rewritten_and_rounds_are_capped() -> None:
    with stub_server(scripted([50, 60, 70, 95], ["Two"])) as stub:
        llm = stub.llm()
        result = await write_document(TOPIC, llm=llm, threshold=0.8, max_revisions=2)
        await llm.aclose()

    assert [(r.cohesion_score, r.passed, r.revised_sections) for r in result.rounds] == [
        (0.5, False, ["Two"]),
        (0.6, False, ["Two"]),
        (0.7, False, []),  # the cap: two revisions, three reviews, then stop
    ]
    assert not result.accepted
    assert [s.revisions for s in result.sections] == [0, 2, 0]
    assert [first(s.content) for s in result.sections] == ["draft 0", "draft 4", "draft 2"]


async def test_a_plan_cut_off_at_max_tokens_is_a_typed_error_with_every_attempt() -> None:
    # What the 0.5B planner did on llama-server before the plan's free-text fields were
    # bounded by its schema (recorded 2026-12-02: it repeated itself in topic_analysis
    # until max_tokens, three times): nothing is written, every attempt is kept.
    def script(body: dict[str, Any]) -> Reply:
        return Reply('{"topic_analysis": "loops and loops and', finish_reason="length")

    with stub_server(script) as stub:
        llm = stub.llm()
        with pytest.raises(StructuredOutputError) as caught:
            await write_document(TOPIC, llm=llm)
        await llm.aclose()
    assert caught.value.step == "plan"
    attempts = caught.value.attempts
    assert len(attempts) == 3
    assert all("cut off at max_tokens" in a.error for a in attempts)


async def test_a_revision_that_never_validates_keeps_the_draft() -> None:
    otherwise = scripted([50, 60], ["Two"])

    def script(body: dict[str, Any]) -> Reply:
        if "You revise" in body["messages"][0]["content"]:
            return Reply('{"sentences": ["loops and loops', finish_reason="length")
        return otherwise(body)

    with stub_server(script) as stub:
        llm = stub.llm()
        result = await write_document(TOPIC, llm=llm, threshold=0.8, max_revisions=1)
        await llm.aclose()

    one, two = result.rounds
    assert (one.revised_sections, one.failed_revisions) == ([], ["Two"])
    assert [first(s.content) for s in result.sections] == ["draft 0", "draft 1", "draft 2"]
    assert two.cohesion_score == 0.6
    assert sum(r.usage.requests for r in result.rounds) + 4 == result.usage.requests


def first(content: str) -> str:
    return " ".join(content.split()[:2])


def long_drafts(otherwise: Any) -> Any:
    """Five sections of ~4,300 characters each: the review prompt is over 20,000."""
    count = iter(range(100))

    def script(body: dict[str, Any]) -> Reply:
        if body["response_format"]["schema"]["title"] == "Plan":
            section = {**PLAN["sections"][0], "target_words": 250}
            plan = {**PLAN, "sections": [{**section, "name": f"S{i}"} for i in range(5)]}
            return Reply(json.dumps(plan))
        if body["response_format"]["schema"]["title"] == "Draft":
            text = sentences(next(count), 22 * 33, each=33, filler="words")  # 22 of ~190 chars
            return Reply(json.dumps({"sentences": text, "key_points": ["k"]}))
        return otherwise(body)

    return script


async def test_the_input_limit_is_for_the_topic_not_for_the_drafts_the_pattern_adds() -> None:
    with stub_server(long_drafts(scripted([90, 90, 90], []))) as stub:
        llm = stub.llm()
        result = await write_document(TOPIC, llm=llm)
        await llm.aclose()
    reviews = [
        r for r in stub.requests if r["response_format"]["schema"]["title"] == "ReviewAnswer"
    ]
    assert len(reviews[0]["messages"][1]["content"]) > 20_000
    assert result.error is None  # no InputError for the drafts the pattern wrote itself
    assert result.rounds[0].off_length == ["S0", "S1", "S2", "S3", "S4"]  # 800 words, not 50


async def test_a_step_that_fails_after_the_plan_returns_what_was_written() -> None:
    otherwise = scripted([90], [])

    def script(body: dict[str, Any]) -> Reply:
        if body["response_format"]["schema"]["title"] == "ReviewAnswer":
            return Reply("overloaded", status=503)
        return otherwise(body)

    with stub_server(script) as stub:
        llm = stub.llm()
        result = await write_document(TOPIC, llm=llm)
        await llm.aclose()
    assert [first(s.content) for s in result.sections] == ["draft 0", "draft 1", "draft 2"]
    assert result.rounds == []
    assert not result.accepted
    assert result.error is not None
    assert result.error.startswith("EndpointError:")
    assert "HTTP 503" in result.error


async def test_an_oversized_topic_is_still_refused_before_any_request() -> None:
    with stub_server(scripted([90], [])) as stub:
        llm = stub.llm()
        with pytest.raises(InputError):
            await write_document("x" * 20_001, llm=llm)
        await llm.aclose()
    assert stub.requests == []


async def test_a_section_far_from_its_target_length_is_sent_back_whatever_the_score() -> None:
    drafts = iter(range(100))

    def script(body: dict[str, Any]) -> Reply:
        title = body["response_format"]["schema"]["title"]
        if title == "Plan":
            return Reply(json.dumps(PLAN))
        if title == "Draft":
            n = next(drafts)
            words = 10 if n == 1 else 50  # section Two's first draft is far too short
            return Reply(json.dumps({"sentences": sentences(n, words), "key_points": ["k"]}))
        return Reply(json.dumps({"suggested_edits": [], "cohesion_percent": 95}))

    with stub_server(script) as stub:
        llm = stub.llm()
        result = await write_document(TOPIC, llm=llm, criteria=["Covers the brief."])
        await llm.aclose()
    first_round, second_round = result.rounds
    assert (first_round.passed, first_round.off_length) == (False, ["Two"])
    assert first_round.revised_sections == ["Two"]
    assert (second_round.passed, second_round.off_length) == (True, [])
    assert result.accepted
    review = next(
        r for r in stub.requests if r["response_format"]["schema"]["title"] == "ReviewAnswer"
    )
    assert "## Two (10 words; target 50)" in review["messages"][1]["content"]
    assert (
        "Judge it against these criteria too: Covers the brief." in review["messages"][0]["content"]
    )
    revise = next(r for r in stub.requests if "You revise" in r["messages"][0]["content"])
    assert "Rewrite it in about 50 words (it has 10)." in revise["messages"][1]["content"]
