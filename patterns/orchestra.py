"""Orchestrator-workers: plan, write section by section, review, revise until good enough.

    topic -> orchestrator plans sections -> workers write them in order
             (each sees the sections before it, and its target length)
          -> reviewer scores cohesion (against the criteria, if given), suggests edits;
             code checks each section's length against its target (an edit if far off)
          -> quality gate: score >= threshold and lengths right? -> accepted
                   no, and rounds left -> rewrite only the sections with edits -> review
                   no, and no rounds left -> returned, marked not accepted

Every review round is kept (score, edits, sections changed, usage), so a user can
see whether revising helped. Run it on the embedded model with
``patterns-server exec -- python -m patterns.orchestra "Why teams should write docs"``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, create_model

from .core import (
    LLM,
    PatternResult,
    PatternsError,
    Percent,
    StructuredOutputError,
    Trace,
    Usage,
    passes,
    workflow,
)
from .core.plumbing import run_demo
from .sentences import fresh, without_repeats

logger = logging.getLogger("patterns.orchestra")

DEFAULT_QUALITY_THRESHOLD = 0.8
DEFAULT_MAX_REVISIONS = 2


class SectionPlan(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    name: str = Field(max_length=60)
    """A short, unique section title."""
    section_type: str = Field(max_length=40)
    """What the section does, e.g. introduction, argument, example, conclusion."""
    description: str = Field(max_length=200)
    """What the section must cover, in one sentence."""
    style_guide: str = Field(max_length=100)
    """How it should read, in a few words."""
    target_words: int = Field(ge=20, le=250)
    """How many words the section should have."""


class Plan(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    topic_analysis: str = Field(max_length=300)
    """What the topic is about and what a good document on it must do, in 1-2 sentences."""
    target_audience: str = Field(max_length=100)
    """Who will read it."""
    sections: list[SectionPlan] = Field(min_length=2, max_length=5)
    """2 to 4 sections, in reading order."""


EDIT_CHARS = 200
"""An edit's bound in the review's schema: the grammar ends a reviewer that would loop."""
SENTENCE_CHARS = 200
"""A sentence's bound in the answer's schema (the server's grammar stops it there)."""
KEY_POINTS, KEY_POINT_CHARS = 5, 60
CHARS_PER_TOKEN = 4
"""Fewest characters a token of a writer's JSON answer holds on the embedded model's
tokenizer (4.4 to 5.6 measured in the recorded article): a token budget from a bound in
characters."""


class Draft(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    sentences: list[Annotated[str, Field(max_length=SENTENCE_CHARS)]]
    """The section's text, one sentence an item, without its title."""
    key_points: list[Annotated[str, Field(max_length=KEY_POINT_CHARS)]] = Field(
        max_length=KEY_POINTS
    )
    """The section's main points, a few words each."""

    def text(self, *before: str) -> str:
        """The sentences, each once and none already in ``before`` (the sections written
        so far): a small model repeats a sentence, or copies an earlier section; code
        drops the copies, and a section left short is sent back by the length gate."""
        return fresh(self.sentences, *before)


def without_copies(sections: list[Section]) -> list[Section]:
    """Each section without the sentences an earlier one already says (a rewrite sees only
    its own section): code keeps the first, the length gate sends one left short back."""
    texts = without_repeats([s.content for s in sections])
    return [s if t == s.content else s.model_copy(update={"content": t})
            for s, t in zip(sections, texts, strict=True)]  # fmt: skip


def most_sentences(target_words: int) -> int:
    """As many sentences as the target needs and a few more (twelve words a sentence)."""
    return target_words // 12 + 2


def draft_type(target_words: int) -> type[Draft]:
    """Draft with at most ``most_sentences``: the grammar ends a writer that would loop,
    and the whole answer fits the writer's token budget (``_writer``)."""
    return create_model(
        "Draft",
        __base__=Draft,
        sentences=(
            list[Annotated[str, Field(max_length=SENTENCE_CHARS)]],
            Field(min_length=1, max_length=most_sentences(target_words)),
        ),
    )


class SuggestedEdit(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    section_name: str
    """The name of the section to change."""
    edit: str = Field(max_length=EDIT_CHARS)
    """What to change in that section, as an instruction."""


class ReviewAnswer(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    suggested_edits: list[SuggestedEdit]
    """One edit per section that needs one; [] if none does."""
    cohesion_percent: Percent
    """How well the sections read as one document, from 0 to 100."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cohesion_score(self) -> float:
        return self.cohesion_percent / 100


class Section(BaseModel):
    plan: SectionPlan
    content: str
    key_points: list[str]
    revisions: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def words(self) -> int:
        return len(self.content.split())


class ReviewRound(BaseModel):
    round: int
    """1 for the review of the first draft, 2 after the first revision, and so on."""
    version: str
    """The document this round reviewed."""
    cohesion_score: float
    suggested_edits: list[SuggestedEdit]
    passed: bool
    revised_sections: list[str]
    """Sections rewritten after this review (none when it passed or rounds ran out)."""
    failed_revisions: list[str] = []
    """Sections whose rewrite never validated: kept as they were, nothing lost."""
    off_length: list[str] = []
    """Sections outside half to one and a half times their target length (checked in code:
    the gate does not pass while any is)."""
    usage: Usage
    """Everything this round cost: the review, and the rewrites it caused."""


class OrchestraResult(PatternResult):
    outcome: Literal["accepted", "not_accepted", "failed"]
    """accepted: the last review passed the quality gate; not_accepted: no round passed
    it; failed: a step after the plan failed (``error``)."""
    topic: str
    plan: Plan
    sections: list[Section]
    rounds: list[ReviewRound]
    error: str | None = None
    """Why the run stopped early (a step that failed after the plan): what was written
    until then is kept in ``sections`` and ``rounds``."""

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def final_version(self) -> str:
        return render(self.sections)


def length_edits(sections: list[Section]) -> dict[str, str]:
    """Edits decided in code, not by the reviewer: a section far from its target length."""
    low, high = LENGTH_BOUNDS
    return {
        s.plan.name: f"Rewrite it in about {s.plan.target_words} words (it has {s.words})."
        for s in sections
        if not low * s.plan.target_words <= s.words <= high * s.plan.target_words
    }


def render(sections: list[Section]) -> str:
    return "\n\n".join(f"## {s.plan.name}\n\n{s.content}" for s in sections)


PLAN_PROMPT = (
    "You are the editor of a short document. Analyse the topic, name its audience, and "
    "plan 2 to 4 sections that together cover it."
)
WRITE_PROMPT = (
    "You write one section of a document for {audience}. Section '{name}' ({section_type}): "
    "{description} Style: {style_guide}. Write about {target_words} words. The message holds "
    "the topic and the sections written so far: continue from them, do not repeat them."
)
REVIEW_PROMPT = (
    "You review a document for cohesion: do its sections flow into each other, stay "
    "consistent and avoid repeating themselves? Score it, and suggest an edit for each "
    "section that needs one, naming the section exactly."
)
CRITERIA_PROMPT = " Judge it against these criteria too: {criteria}."
LENGTH_BOUNDS = (0.5, 1.5)
"""A section's words over its target: outside these, the gate sends it back."""
REVISE_PROMPT = (
    "You revise one section of a document. Apply the edit; keep about {target_words} words "
    "and everything the edit does not touch."
)


async def make_plan(llm: LLM, topic: str, trace: Trace) -> Plan:
    return await llm.aparse(Plan, system=PLAN_PROMPT, user=topic, step="plan", trace=trace)


async def write_section(
    llm: LLM, topic: str, plan: Plan, spec: SectionPlan, before: list[Section], trace: Trace
) -> Section:
    system = WRITE_PROMPT.format(audience=plan.target_audience, **spec.model_dump())
    written = "\n\n".join(f"## {s.plan.name}\n{s.content}" for s in before) or "(none yet)"
    user = f"Topic: {topic}\n\nSections so far:\n{written}"
    draft = await _writer(llm, spec, *before).aparse(
        draft_type(spec.target_words), system=system, user=user, step="write", trace=trace
    )
    text = draft.text(*(s.content for s in before))
    return Section(plan=spec, content=text, key_points=draft.key_points)


def review_answer_for(names: list[str]) -> type[ReviewAnswer]:
    """ReviewAnswer whose section names can only be this document's (an enum in the
    schema: a small model invents section names otherwise)."""
    name_type: Any = Literal[tuple(names)]
    edit = create_model(
        "SuggestedEdit",
        __base__=SuggestedEdit,
        section_name=(name_type, Field(description="The section to change.")),
    )
    return create_model(
        "ReviewAnswer",
        __base__=ReviewAnswer,
        suggested_edits=(list[edit], Field(max_length=len(names))),
    )


def _writer(llm: LLM, spec: SectionPlan, *drafts: Section) -> LLM:
    """A token budget that holds the longest answer the draft's schema admits (its
    sentences and key points at their bounds, with the JSON around them): the grammar,
    not the budget, ends a writer, so no answer is cut off (a budget of 4 tokens a
    target word cut writers off on the suite's topics, three attempts each)."""
    chars = most_sentences(spec.target_words) * (SENTENCE_CHARS + 4)
    chars += KEY_POINTS * (KEY_POINT_CHARS + 4) + 64
    return _own(llm, *drafts).with_settings(max_tokens=-(-chars // CHARS_PER_TOKEN))


def _own(llm: LLM, *drafts: Section) -> LLM:
    """The input limit is for the user's topic (checked by the plan step); the drafts
    this pattern adds to a prompt are its own, bounded by each writer's token cap."""
    own = sum(len(d.content) + len(d.plan.name) + 8 for d in drafts)
    return llm.with_settings(max_input_chars=llm.max_input_chars + own)


async def review(
    llm: LLM, topic: str, sections: list[Section], trace: Trace, criteria: Sequence[str] = ()
) -> ReviewAnswer:
    document = "\n\n".join(
        f"## {s.plan.name} ({s.words} words; target {s.plan.target_words})\n{s.content}"
        for s in sections
    )
    answer_type = review_answer_for([s.plan.name for s in sections])
    system = REVIEW_PROMPT + (
        CRITERIA_PROMPT.format(criteria="; ".join(criteria)) if criteria else ""
    )
    return await _own(llm, *sections).aparse(
        answer_type,
        system=system,
        user=f"Topic: {topic}\n\n{document}",
        step="review",
        trace=trace,
    )


async def revise(llm: LLM, section: Section, edit: str, trace: Trace) -> Section:
    system = REVISE_PROMPT.format(target_words=section.plan.target_words)
    user = f"Section '{section.plan.name}':\n{section.content}\n\nEdit: {edit}"
    draft = await _writer(llm, section.plan, section).aparse(
        draft_type(section.plan.target_words), system=system, user=user, step="revise",
        trace=trace,
    )  # fmt: skip
    return section.model_copy(
        update={
            "content": draft.text(),
            "key_points": draft.key_points,
            "revisions": section.revisions + 1,
        }
    )


async def revise_or_keep(
    llm: LLM, section: Section, edits: dict[str, str], failed: list[str], trace: Trace
) -> Section:
    """The section rewritten if it has an edit; unchanged if it has none, or if the
    rewrite never validates (noted in ``failed``: a bad revision must not lose the draft)."""
    if section.plan.name not in edits:
        return section
    try:
        return await revise(llm, section, edits[section.plan.name], trace)
    except StructuredOutputError as error:
        logger.warning("revision of %r failed, keeping the draft: %s", section.plan.name, error)
        failed.append(section.plan.name)
        return section


@workflow("orchestra")
async def write_document(
    topic: str,
    *,
    llm: LLM | None = None,
    threshold: float = DEFAULT_QUALITY_THRESHOLD,
    max_revisions: int = DEFAULT_MAX_REVISIONS,
    trace: Trace | None = None,
    criteria: Sequence[str] = (),
) -> OrchestraResult:
    """Plan, write, review and revise a document on ``topic``; ``criteria`` (e.g. a
    rubric's) are given to the reviewer."""
    llm = llm or LLM.from_env()
    trace = trace if trace is not None else Trace()

    plan = await make_plan(llm, topic, trace)  # nothing written yet: a failure is raised
    logger.info("planned %d sections for %s", len(plan.sections), plan.target_audience)
    sections: list[Section] = []
    rounds: list[ReviewRound] = []
    error = None
    try:
        for spec in plan.sections:  # in order: each writer sees the sections before it
            sections.append(await write_section(llm, topic, plan, spec, sections, trace))
            done = sections[-1]
            logger.info("wrote section %d of %d, %r: %d words (target %d)", len(sections),
                        len(plan.sections), spec.name, done.words, spec.target_words)  # fmt: skip
        await review_and_revise(
            llm, topic, sections, rounds, Gate(threshold, max_revisions, criteria), trace
        )
    except PatternsError as failure:
        error = f"{type(failure).__name__}: {failure}"
        logger.warning("stopped early, keeping what was written: %s", error)
    if rounds and not rounds[-1].passed:
        logger.warning(
            "the quality gate never passed: last cohesion %.2f", rounds[-1].cohesion_score
        )
    return OrchestraResult(
        topic=topic,
        plan=plan,
        sections=sections,
        rounds=rounds,
        outcome="failed"
        if error
        else "accepted"
        if rounds and rounds[-1].passed
        else "not_accepted",
        error=error,
        calls=trace.calls,
        usage=trace.usage,
    )


@dataclass(frozen=True)
class Gate:
    threshold: float
    max_revisions: int
    criteria: Sequence[str] = ()


async def review_and_revise(
    llm: LLM,
    topic: str,
    sections: list[Section],
    rounds: list[ReviewRound],
    gate: Gate,
    trace: Trace,
) -> None:
    """Review, and revise the sections with edits, until the gate passes or rounds run
    out. ``sections`` and ``rounds`` are updated in place, so a failure keeps them."""
    for round_number in range(1, gate.max_revisions + 2):
        first_call = len(trace.calls)
        version = render(sections)
        answer = await review(llm, topic, sections, trace, gate.criteria)
        off_length = length_edits(sections)
        passed = passes(answer.cohesion_score, gate.threshold) and not off_length
        edits = {e.section_name: e.edit for e in answer.suggested_edits}
        for name, edit in off_length.items():
            edits[name] = f"{edits[name]} {edit}" if name in edits else edit
        revise_now = not passed and round_number <= gate.max_revisions and bool(edits)
        logger.info(
            "round %d: cohesion %.2f, passed=%s", round_number, answer.cohesion_score, passed
        )
        failed: list[str] = []
        if revise_now:
            revised = [await revise_or_keep(llm, s, edits, failed, trace) for s in sections]
            sections[:] = without_copies(revised)
        rounds.append(
            ReviewRound(
                round=round_number,
                version=version,
                cohesion_score=answer.cohesion_score,
                suggested_edits=answer.suggested_edits,
                passed=passed,
                revised_sections=[n for n in edits if n not in failed] if revise_now else [],
                failed_revisions=failed,
                off_length=list(off_length),
                usage=sum((c.usage for c in trace.calls[first_call:]), Usage()),
            )
        )
        if not revise_now:
            return


if __name__ == "__main__":
    topic = " ".join(sys.argv[1:])
    sys.exit(
        run_demo(
            lambda trace: write_document(topic, trace=trace),
            lambda result: result.final_version,
            logging.INFO,
        )
    )
