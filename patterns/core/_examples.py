"""Worked examples chosen for the message: of a bank of labelled examples, the ``k``
nearest to it in wording, so that a prompt shows the cases that look like this one.

Nearness is the cosine of TF-IDF word weights (a shared rare word counts for more than a
shared "the"): deterministic, no model, no embedding endpoint, microseconds for a bank
of hundreds. Ties keep the bank's order, so a prompt is the same on every run.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.casefold()))


def nearest(text: str, bank: Sequence[T], k: int, text_of: Callable[[T], str]) -> list[T]:
    """The ``k`` items of ``bank`` whose ``text_of`` is nearest to ``text``, nearest
    last (closest to the message it precedes in a prompt)."""
    bags = [words(text_of(item)) for item in bank]
    counts = Counter(word for bag in bags for word in bag)
    weight = {w: math.log((1 + len(bags)) / (1 + c)) + 1 for w, c in counts.items()}
    unseen = math.log(1 + len(bags)) + 1

    def norm(bag: frozenset[str]) -> float:
        return math.sqrt(sum(weight.get(w, unseen) ** 2 for w in bag)) or 1.0

    query = words(text)
    scores = [sum(weight[w] ** 2 for w in query & bag) / norm(bag) for bag in bags]
    ranked = sorted(range(len(bank)), key=lambda i: (-scores[i], i))[:k]
    return [bank[i] for i in reversed(ranked)]
