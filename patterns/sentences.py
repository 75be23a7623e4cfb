"""Sentences, as code reads them: ended, compared without case or spacing, and kept once.
A small model repeats a sentence or copies one from an earlier section; the orchestra's
writers and rewrites go through here (deterministic, no model)."""

from __future__ import annotations

import re
from collections.abc import Sequence

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def key(sentence: str) -> str:
    """A sentence as compared: lower case, spaces collapsed."""
    return " ".join(sentence.lower().split())


def ended(sentence: str) -> str:
    """The sentence with its final stop (a small model often leaves it off an item)."""
    text = sentence.strip()
    return text if not text or text[-1] in ".!?" else f"{text}."


def fresh(items: Sequence[str], *before: str) -> str:
    """The items as one text, each ended and kept once, none already said in ``before``."""
    seen = {key(s) for text in before for s in SENTENCE_END.split(text)}
    kept = []
    for item in items:
        sentence = ended(item)
        if (k := key(sentence)) and k not in seen:
            seen.add(k)
            kept.append(sentence)
    return " ".join(kept)


def without_repeats(texts: Sequence[str]) -> list[str]:
    """Each text without the sentences an earlier one already says (the first keeps them)."""
    seen: set[str] = set()
    found = []
    for text in texts:
        own = [s for s in SENTENCE_END.split(text) if key(s) not in seen]
        seen |= {key(s) for s in own}
        found.append(" ".join(s.strip() for s in own if s.strip()))
    return found
