"""The labelled datasets, loaded from YAML into typed cases."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel

HERE = Path(__file__).parent / "datasets"
REQUESTS = HERE / "calendar_requests.yaml"
TOPICS = HERE / "orchestra_topics.yaml"


class RequestCase(BaseModel):
    id: str
    text: str
    kind: str
    calendar_event: bool
    route: Literal["new_event", "modify_event", "other"]
    safe: bool

    @property
    def should_process(self) -> bool:
        """What the parallel gate should decide."""
        return self.safe and self.route != "other"


class Criterion(BaseModel):
    name: str
    description: str


class Topic(BaseModel):
    id: str
    brief: str
    rubric: list[Criterion]


class Scale(BaseModel):
    min: int = 1
    max: int = 5


class Topics(BaseModel):
    scale: Scale
    topics: list[Topic]


def load_requests(path: Path = REQUESTS) -> list[RequestCase]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    cases = [RequestCase.model_validate(c) for c in data["cases"]]
    duplicates = {c.id for c in cases if sum(d.id == c.id for d in cases) > 1}
    if duplicates:
        raise ValueError(f"{path}: duplicate case ids {sorted(duplicates)}")
    return cases


def load_topics(path: Path = TOPICS) -> Topics:
    return Topics.model_validate(yaml.safe_load(path.read_text()))


def stratified(cases: list[RequestCase], per_kind: int) -> list[RequestCase]:
    """The first ``per_kind`` cases of every kind: a small subset that keeps every class."""
    taken: dict[str, int] = defaultdict(int)
    subset = []
    for case in cases:
        if taken[case.kind] < per_kind:
            taken[case.kind] += 1
            subset.append(case)
    return subset
