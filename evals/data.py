"""Cases and datasets: typed, loaded from YAML safely, every problem one line.

A dataset file is a YAML mapping with a ``cases`` list; each case has an ``id``, an
``input``, an ``expected`` value, ``metadata`` (tags such as ``kind``, used to group
results) and a ``split`` (``dev`` to tune prompts on, ``test`` to report). Other
top-level keys are the dataset's own settings (e.g. a judge's scale).
``patterns-evals schema`` writes the JSON schema editors use to check a file. A
pydantic_evals dataset file (``name``, ``inputs``, ``expected_output``) is read too.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, ValidationError

from .errors import EvalsError

if TYPE_CHECKING:
    import yaml

InputT = TypeVar("InputT")
ExpectedT = TypeVar("ExpectedT")

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_SCALAR_CHARS = 1_000_000
"""A single value longer than this is a mistake (or an attack), not a test case."""
MAX_NODES = 2_000_000
"""YAML nodes after aliases are expanded: an alias bomb of a few hundred bytes would
expand to billions and hang whatever reads it."""

Split = Literal["dev", "test"]


def _safe_loader() -> Any:
    """libyaml's parser where PyYAML was built with it (about ten times faster), the same
    safe constructors either way. PyYAML is imported here, when a YAML file is read: a
    run of a JSON Lines dataset never loads it."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DatasetError(EvalsError, ValueError):
    """A dataset that cannot be used; the message names the file and the case."""


class Case(BaseModel, Generic[InputT, ExpectedT]):
    """One labelled example."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    input: InputT
    expected: ExpectedT | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    split: Split = "test"
    """dev: prompts are tuned on it; test: what reports are about. Both are reported."""

    def tag(self, key: str) -> str:
        """A metadata value (or the split) as a group name."""
        value = self.split if key == "split" else self.metadata.get(key)
        return "(none)" if value is None else str(value)


class Dataset(BaseModel, Generic[InputT, ExpectedT]):
    """Cases with unique ids, and the file's other settings."""

    name: str
    cases: list[Case[InputT, ExpectedT]]
    settings: dict[str, JsonValue] = {}

    def digest(self) -> str:
        """A hash of the content: cases and settings (not the file's formatting)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def only(
        self, splits: set[str] | None = None, limit_per_group: tuple[str, int] | None = None
    ) -> Dataset[InputT, ExpectedT]:
        """A subset: some splits, and at most N cases per value of a metadata key."""
        cases = [c for c in self.cases if splits is None or c.split in splits]
        if limit_per_group is not None:
            key, most = limit_per_group
            taken: Counter[str] = Counter()
            kept = []
            for case in cases:
                if taken[case.tag(key)] < most:
                    taken[case.tag(key)] += 1
                    kept.append(case)
            cases = kept
        return self.model_copy(update={"cases": cases})


@contextlib.contextmanager
def bulk() -> Iterator[None]:
    """No cyclic garbage collection while many objects are built and kept (a dataset, a
    results file): each collection would scan every object built so far, which made
    reading 100,000 records take 4.2 s instead of 0.6 s. Re-enabled after, as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load(
    path: Path, input_type: type[InputT], expected_type: type[ExpectedT]
) -> Dataset[InputT, ExpectedT]:
    """The dataset in ``path``, validated; ``DatasetError`` (one line) if it cannot be.

    ``.yaml``/``.yml`` for datasets written by hand; ``.jsonl`` (one case per line) for
    generated ones: a 100,000-case file loads in about a second, where YAML takes 15."""
    with bulk():
        return _load(path, input_type, expected_type)


def _load(
    path: Path, input_type: type[InputT], expected_type: type[ExpectedT]
) -> Dataset[InputT, ExpectedT]:
    data = read_jsonl(path) if path.suffix == ".jsonl" else read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise DatasetError(f"{path}: expected a mapping with a 'cases' list")
    if _pydantic_evals_form(data["cases"]):
        data = from_pydantic_evals(data)
    case_type = Case[input_type, expected_type]  # type: ignore[valid-type]
    try:  # all at once (fast); on an error, name the case and the field
        cases = TypeAdapter(list[case_type]).validate_python(data["cases"])
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        index, *where = first["loc"]
        raw = data["cases"][int(index)]
        name = (
            raw.get("id", f"#{int(index) + 1}") if isinstance(raw, dict) else f"#{int(index) + 1}"
        )
        field = ".".join(map(str, where)) or "case"
        raise DatasetError(f"{path}: case {name}: {field}: {first['msg']}") from None
    duplicates = [i for i, n in Counter(c.id for c in cases).items() if n > 1]  # linear
    if duplicates:
        raise DatasetError(f"{path}: duplicate case ids: {', '.join(sorted(duplicates)[:10])}")
    settings = {k: v for k, v in data.items() if k != "cases" and not k.startswith("_")}
    return Dataset[input_type, expected_type](  # type: ignore[valid-type]
        name=path.stem, cases=cases, settings=_json(settings)
    )


def _pydantic_evals_form(cases: list[Any]) -> bool:
    """Cases with ``inputs`` and none with ``input``: a pydantic_evals dataset file."""
    shaped = [c for c in cases if isinstance(c, dict)]
    return any("inputs" in c for c in shaped) and not any("input" in c for c in shaped)


def from_pydantic_evals(data: dict[str, Any]) -> dict[str, Any]:
    """A pydantic_evals dataset file (``Dataset.to_file``: cases with ``name``,
    ``inputs``, ``expected_output``, ``metadata`` and ``evaluators``) in this project's
    form. A case without a name is ``Case N`` (as pydantic_evals names it); its split is
    its metadata's ``split`` if that is ``dev`` or ``test``, else ``test``. Evaluators
    are not checks: they are kept as the dataset's settings, and a suite's own checks
    run."""
    cases = []
    for number, raw in enumerate(data["cases"], 1):
        if not isinstance(raw, dict):
            cases.append(raw)  # refused, with its number, by the validation that follows
            continue
        metadata = raw.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {} if metadata is None else {
            "metadata": metadata
        }  # fmt: skip
        split = metadata.get("split")
        case: dict[str, Any] = {
            "id": raw.get("name") or f"Case {number}",
            "input": raw.get("inputs"),
            "metadata": metadata,
            "split": split if split in ("dev", "test") else "test",
        }
        if raw.get("expected_output") is not None:
            case["expected"] = raw["expected_output"]
        cases.append(case)
    settings = {k: v for k, v in data.items() if k not in ("cases", "$schema")}
    if any(isinstance(c, dict) and c.get("evaluators") for c in data["cases"]):
        settings["case_evaluators"] = {
            c.get("name") or f"Case {n}": c["evaluators"]
            for n, c in enumerate(data["cases"], 1)
            if isinstance(c, dict) and c.get("evaluators")
        }
    return {**settings, "cases": cases}


def _json(value: Any) -> dict[str, JsonValue]:
    return json.loads(json.dumps(value, default=str))  # type: ignore[no-any-return]


def read_jsonl(path: Path) -> dict[str, Any]:
    """``{"cases": [...]}`` from a JSON Lines file (JSON has no aliases to expand)."""
    cases = []
    try:
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if len(line) > MAX_SCALAR_CHARS:
                    raise DatasetError(
                        f"{path}: line {number}: over {MAX_SCALAR_CHARS:,} characters"
                    )
                try:
                    cases += [json.loads(line)] if line.strip() else []
                except json.JSONDecodeError as error:
                    raise DatasetError(f"{path}: line {number}: not JSON: {error.msg}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot read it: {error}") from None
    return {"cases": cases}


def read_yaml(path: Path) -> Any:
    """YAML from ``path``, refusing what would hang or exhaust memory."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DatasetError(f"{path}: {size:,} bytes, over the limit of {MAX_FILE_BYTES:,}")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot read it: {error}") from None
    import yaml

    loader_type = _safe_loader()
    try:
        node = yaml.compose(text, Loader=loader_type)
    except yaml.YAMLError as error:
        raise DatasetError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    if node is None:
        return None
    _check_size(path, node)
    loader = loader_type(text)
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as error:  # a tag such as !!python/object: never constructed
        raise DatasetError(f"{path}: not plain YAML data: {' '.join(str(error).split())}") from None
    finally:
        loader.dispose()


def _check_size(path: Path, root: yaml.Node) -> None:
    """Counts the nodes the document expands to (aliases included), in time linear in
    the distinct nodes, and refuses a document over the limits."""
    import yaml

    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > MAX_SCALAR_CHARS:
                line = node.start_mark.line + 1
                raise DatasetError(
                    f"{path}: line {line}: a value of {len(node.value):,} characters, over "
                    f"the limit of {MAX_SCALAR_CHARS:,}"
                )
            sizes[id(node)] = 1
            continue
        children = [
            child for item in node.value for child in (item if isinstance(item, tuple) else (item,))
        ]
        if not children_done:
            if any(id(c) in visiting for c in children) or node in children:
                raise DatasetError(f"{path}: an alias refers to itself (a recursive document)")
            visiting.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        visiting.discard(id(node))
        sizes[id(node)] = 1 + sum(sizes.get(id(c), 1) for c in children)
        if sizes[id(node)] > MAX_NODES:
            raise DatasetError(
                f"{path}: the document expands to more than {MAX_NODES:,} values (aliases "
                "repeated inside aliases?)"
            )


def write_schema(input_type: type[Any], expected_type: type[Any]) -> str:
    """The JSON schema of a dataset file whose cases have these types."""

    class DatasetFile(BaseModel):
        cases: list[Case[input_type, expected_type]]  # type: ignore[valid-type]

    return json.dumps(DatasetFile.model_json_schema(), indent=1)
