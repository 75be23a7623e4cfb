"""The evals library as a user meets it: their own suite in their own folder, run by the
CLI against the stub endpoint. Each of the wrong answers the harness used to give has
a test here."""

import csv
import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from evals import _records as records
from evals._cache import CachingTransport
from evals._records import Record, ResultsFile
from evals._rundir import latest_run
from evals.cli import main
from patterns.testing.stub import Reply, StubServer, completion, stub_server

EXAMPLE = Path(__file__).parents[2] / "examples" / "evaluate-your-prompt"
TICKETS = {
    "I was charged twice": ("billing", False),
    "The checkout page crashes": ("bug", True),
    "export my reports to CSV": ("feature", False),
    "Thanks for the quick help": ("other", False),
    "The date picker shows Sunday": ("bug", False),
    "My card was declined": ("billing", True),
    "Please add dark mode": ("feature", False),
    "Typo on the pricing page": ("bug", False),
}
HARD = ("My card was declined", "Typo on the pricing page")
"""Tickets a model gets wrong unless the prompt defines 'urgent' (a prompt edit fixes them)."""


def model_answer(body: dict[str, Any], *, weak: bool = False) -> Reply:
    """A model whose answers depend on the prompt: right on every ticket if the system
    prompt defines urgency, wrong on the HARD ones otherwise (or always, if weak)."""
    system, ticket = body["messages"][0]["content"], body["messages"][1]["content"]
    key = next(k for k in TICKETS if k in ticket)
    category, urgent = TICKETS[key]
    if key in HARD and (weak or "Urgent means" not in system):
        category, urgent = "other", not urgent
    return Reply(json.dumps({"category": category, "urgent": urgent}))


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """The README's example suite, copied into a folder of the user's own."""
    folder = tmp_path / "my-project"
    shutil.copytree(EXAMPLE, folder)
    return folder / "triage.py"


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with stub_server(model_answer) as server:
        yield server


@pytest.fixture
def run(suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    monkeypatch.setenv("PATTERNS_STRUCTURED_MODE", "json_object")

    def invoke(*args: str, model: str | None = None, out: str = "runs") -> int:
        argv = ["run", str(suite), "--out", str(tmp_path / out), "--cache", str(tmp_path / "cache")]
        return main([*argv, *(["--model", model] if model else []), *args])

    return invoke


def results_of(out: Path, suite: str = "triage") -> list[Record]:
    directory = latest_run(out, suite)
    assert directory is not None
    return records.read(directory / "results.jsonl")


def test_a_users_suite_runs_with_reports_resume_and_cache(
    run: Callable[..., int], stub: StubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = f"stub@{stub.base_url}"
    assert run(model=model) == 0
    assert len(stub.requests) == 8
    out = tmp_path / "runs"
    for name in ("report.md", "report.html", "summary.json", "results.csv", "junit.xml"):
        assert (out / name).stat().st_size > 0
    assert "| triage | category.accuracy | 0.75 [0.35, 0.97] |" in (out / "report.md").read_text()
    assert "### stub: by channel" in (out / "report.md").read_text()

    capsys.readouterr()
    assert run(model=model) == 0  # nothing changed: everything is reused
    assert len(stub.requests) == 8
    assert "triage: resuming" in capsys.readouterr().err

    assert run("--fresh", model=model) == 0  # a new run, answered from the cache
    assert len(stub.requests) == 8
    assert len(list((out / "triage").glob("2*"))) == 2


def test_an_edited_prompt_starts_a_new_run_and_the_comparison_lists_what_changed(
    run: Callable[..., int], suite: Path, stub: StubServer, tmp_path: Path
) -> None:
    model = f"stub@{stub.base_url}"
    assert run(model=model) == 0
    before = latest_run(tmp_path / "runs", "triage")
    text = suite.read_text().replace(
        'or other."', 'or other. Urgent means a customer cannot work."'
    )
    suite.write_text(text)

    assert run("--baseline", str(before), model=model) == 0

    after = latest_run(tmp_path / "runs", "triage")
    assert after != before  # not resumed: the old numbers are not reported as new ones
    assert len(stub.requests) == 16  # every case ran again
    report = (tmp_path / "runs" / "report.md").read_text()
    assert "## stub against baseline stub" in report
    assert "### Regressions (0)" in report
    assert "### Fixes (4)" in report  # two tickets, two checks each
    assert "- triage / t06 (repeat 0): category fail → pass" in report
    # category accuracy 0.75 -> 1.00: 2 discordant pairs, both fixes: McNemar p = 0.5
    assert (
        "| triage | category.accuracy | 0.750 | 1.000 | +0.250 (no interval) | 0.5 "
        "| exact McNemar | 8 | 0 |"
    ) in report


def test_two_models_in_one_run_are_paired_by_case_not_by_label(
    run: Callable[..., int], stub: StubServer, tmp_path: Path
) -> None:
    with stub_server(lambda body: model_answer(body, weak=True)) as weak:
        code = run(
            "--model", f"strong@{stub.base_url}", "--model", f"weak@{weak.base_url}",
            "--compare-models", "--fail-if", "category.accuracy<0.5",
        )  # fmt: skip
    assert code == 0
    report = (tmp_path / "runs" / "report.md").read_text()
    assert "## weak against strong" in report
    assert "### Regressions (0)" in report  # the suite's prompt has no urgency rule:
    assert "### Fixes (0)" in report  # both models miss the same two tickets


def test_a_baseline_of_another_model_still_pairs_cases(
    run: Callable[..., int], stub: StubServer, tmp_path: Path, suite: Path
) -> None:
    suite.write_text(
        suite.read_text().replace('or other."', 'or other. Urgent means a customer cannot work."')
    )
    assert run(model=f"strong@{stub.base_url}", out="a") == 0
    with stub_server(lambda body: model_answer(body, weak=True)) as weak:
        assert run("--baseline", str(tmp_path / "a"), model=f"weak@{weak.base_url}", out="b") == 0
    report = (tmp_path / "b" / "report.md").read_text()
    assert "## weak against baseline strong" in report
    assert "### Regressions (4)" in report  # no longer "no case changed outcome"


def test_a_missing_baseline_is_an_error(
    run: Callable[..., int], stub: StubServer, tmp_path: Path
) -> None:
    assert run("--baseline", str(tmp_path / "nowhere"), model=f"stub@{stub.base_url}") == 2
    assert stub.requests == []


def test_an_error_rate_floor_fails_in_the_right_direction(
    run: Callable[..., int], stub: StubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--fail-if", "usage.error_rate>0.05", model=f"stub@{stub.base_url}") == 0
    with stub_server(lambda body: Reply("down", status=500)) as broken:
        assert run("--no-cache", model=f"broken@{broken.base_url}", out="broken") == 1
    assert "usage.error_rate = 1.000 (usage.error_rate>0.2 fails)" in capsys.readouterr().err


def test_report_only_rebuilds_the_reports_from_the_results_alone(
    run: Callable[..., int], stub: StubServer, tmp_path: Path
) -> None:
    assert run(model=f"stub@{stub.base_url}") == 0
    (tmp_path / "runs" / "report.md").unlink()
    assert run("--report-only") == 0  # no --model needed
    assert "| triage | category.accuracy | 0.75" in (tmp_path / "runs" / "report.md").read_text()


def test_report_only_says_when_the_suite_changed_since_its_run(
    run: Callable[..., int], stub: StubServer, suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(model=f"stub@{stub.base_url}") == 0
    assert run("--report-only") == 0
    assert "code changed since run" not in "".join(capsys.readouterr())
    suite.write_text(suite.read_text() + "\n# an edit\n")
    assert run("--report-only") == 0
    assert "triage: its code changed since run" in "".join(capsys.readouterr())


def test_cost_is_shown_wherever_the_metrics_are(
    run: Callable[..., int], stub: StubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 8 cases, one request each, 10 prompt and 5 completion tokens (the stub's usage),
    # at $1 and $2 a million: 8 * (10 * 1 + 5 * 2) / 1e6 = $0.00016
    assert run("--price", "stub=1,2", model=f"stub@{stub.base_url}") == 0
    shown = "| triage | usage.cost_usd | $0.0002 |"
    printed = capsys.readouterr()
    assert "usage.cost_usd" in printed.out + printed.err
    for name in ("report.md", "summary.md"):
        assert shown in (tmp_path / "runs" / name).read_text(), name
    assert "usage.tokens" in (tmp_path / "runs" / "report.md").read_text()
    assert "$0.0002" in (tmp_path / "runs" / "report.html").read_text()
    rows = list(csv.DictReader((tmp_path / "runs" / "results.csv").read_text().splitlines()))
    per_case = {r["case"]: float(r["cost_usd"]) for r in rows}
    assert len(per_case) == 8
    assert sum(per_case.values()) == pytest.approx(0.00016)
    assert {r["prompt_tokens"] for r in rows} == {"10"}


def test_a_budget_stops_the_run_cleanly_and_the_next_run_resumes(
    run: Callable[..., int], stub: StubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = f"stub@{stub.base_url}"
    # one case at a time, 15 tokens a case: the third case does not start
    assert run("--max-tokens", "30", "--concurrency", "1", model=model) == 0
    said = "".join(capsys.readouterr())
    assert "stopped at the budget (30 tokens of 30): 6 case run(s) not started" in said
    assert len(stub.requests) == 2
    assert len(results_of(tmp_path / "runs")) == 2
    assert "**Budget:** stopped at the budget" in (tmp_path / "runs" / "report.md").read_text()

    assert run(model=model) == 0  # no budget: the rest, the two recorded reused
    assert len(stub.requests) == 8
    assert len(results_of(tmp_path / "runs")) == 8
    assert "stopped at the budget" not in (tmp_path / "runs" / "report.md").read_text()


def test_a_budget_estimates_the_cost_from_the_last_recorded_run(
    run: Callable[..., int], stub: StubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    model = f"stub@{stub.base_url}"
    assert run("--max-tokens", "30", "--concurrency", "1", model=model) == 0
    assert "estimated" not in "".join(capsys.readouterr())  # nothing recorded before it
    # 15 tokens a case recorded; 6 cases left: 90 tokens, $0.0018 at $20 a million
    assert run("--max-cost", "1", "--price", "stub=20,20", model=model) == 0
    said = "".join(capsys.readouterr())
    assert "about 90 tokens ($0.0018) for 6 case run(s), estimated from 2 recorded" in said
    assert "over what is left" not in said
    assert run("--max-tokens", "5", "--fresh", model=model) == 0
    assert "over what is left of the budget: it will stop the run" in "".join(capsys.readouterr())


def test_a_cost_budget_needs_a_price_and_counts_dollars(
    run: Callable[..., int], stub: StubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    model = f"stub@{stub.base_url}"
    assert run("--max-cost", "0.01", model=model) == 2
    assert "--max-cost: no price for stub" in capsys.readouterr().err
    assert stub.requests == []
    # $20 a million tokens of either kind: 15 tokens a case is $0.0003; $0.0006 is 2 cases
    assert run("--max-cost", "0.0006", "--price", "stub=20,20", "--concurrency", "1",
               model=model) == 0  # fmt: skip
    assert "6 case run(s) not started" in "".join(capsys.readouterr())


def test_the_report_names_the_judge_and_says_when_a_model_judged_itself(
    run: Callable[..., int], stub: StubServer, suite: Path, tmp_path: Path
) -> None:
    model = f"stub@{stub.base_url}"
    assert run(model=model) == 0  # no judge asked for: nothing said
    assert "**Judge:**" not in (tmp_path / "runs" / "report.md").read_text()
    suite.write_text(suite.read_text().replace("SUITE = Suite(", "SUITE = Suite(judged=True, "))
    assert run(model=model) == 0
    for name in ("report.md", "summary.md"):
        said = (tmp_path / "runs" / name).read_text()
        assert "**Judge:** none given: in triage each model judged its own outputs" in said
    assert "each model judged its own outputs" in (tmp_path / "runs" / "report.html").read_text()
    assert run("--judge", model, model=model) == 0
    assert "**Judge:** stub." in (tmp_path / "runs" / "report.md").read_text()


def test_a_large_run_shows_failures_first_and_says_where_the_rest_are(
    run: Callable[..., int], stub: StubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("evals._html_cases.CASE_ROWS", 3)
    assert run(model=f"stub@{stub.base_url}") == 0
    page = (tmp_path / "runs" / "report.html").read_text()
    assert page.count('<tr class="fail">') == 2  # both failing tickets, before any pass
    assert page.count('<tr class="pass">') == 1
    assert "5 more case runs (passing ones last) are in results.csv." in page
    rows = (tmp_path / "runs" / "results.csv").read_text().splitlines()[1:]
    assert len({row.split(",")[2] for row in rows}) == 8  # every case, one row per check


def test_fresh_never_deletes_a_run_that_is_still_writing(
    run: Callable[..., int], stub: StubServer, tmp_path: Path
) -> None:
    model = f"stub@{stub.base_url}"
    assert run(model=model) == 0
    directory = latest_run(tmp_path / "runs", "triage")
    assert directory is not None
    with ResultsFile(directory / "results.jsonl"):  # another run holds it
        assert run(model=model) == 2  # the same run: refused, with a message
        assert run("--fresh", model=model) == 0  # a new run folder: the old one untouched
    assert len(records.read(directory / "results.jsonl")) == 8


def test_a_torn_tail_is_repaired_and_a_bad_line_runs_again(
    run: Callable[..., int], stub: StubServer, tmp_path: Path
) -> None:
    model = f"stub@{stub.base_url}"
    assert run(model=model) == 0
    path = latest_run(tmp_path / "runs", "triage") / "results.jsonl"  # type: ignore[operator]
    lines = path.read_bytes().splitlines(keepends=True)
    # Line 3 garbled; the last line cut inside a multi-byte character (no newline).
    torn = '{"suite": "triage", "case": "é'.encode()[:-1]
    path.write_bytes(b"".join(lines[:2]) + b"not json\n" + b"".join(lines[3:-1]) + torn)
    assert run(model=model) == 0
    kept = records.read(path)
    assert sorted(r.case for r in kept) == [f"t0{i}" for i in range(1, 9)]
    assert len(stub.requests) == 8  # the two lost cases came back from the cache


def test_records_read_for_reports_leave_their_transcripts_on_disk(
    run: Callable[..., int], stub: StubServer, tmp_path: Path
) -> None:
    assert run(model=f"stub@{stub.base_url}") == 0
    path = latest_run(tmp_path / "runs", "triage") / "results.jsonl"  # type: ignore[operator]
    whole = {r.case: r for r in records.read(path)}
    light = records.read(path, transcripts=False)
    assert all(whole[r.case].transcript for r in light)
    assert not any(r.transcript for r in light)
    # the same exchanges, read from each record's own line, and the rest of it alike
    assert all(r.exchanges() == whole[r.case].transcript for r in light)
    assert all(r.model_dump(exclude={"transcript"}) ==
               whole[r.case].model_dump(exclude={"transcript"}) for r in light)  # fmt: skip
    # a file rewritten since: no transcript shown, never another case's
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(reversed(lines)))
    assert [r.exchanges() for r in light if r.case != light[len(light) // 2].case] == [
        [] for _ in range(len(light) - 1)
    ]
    path.write_text("")
    assert light[0].exchanges() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-if", "catgory.accuracy<0.8"], "unknown metric"),
        (["--fail-if", "category.accuracy=0.8"], "expected METRIC<VALUE"),
        (["--price", "stub=abc"], "expected MODEL=IN,OUT"),
        (["--concurrency", "-1"], "must be between 1 and 1024"),
        (["--epochs", "0"], "must be 1 or more"),
        (["--model", "@nowhere"], "expected MODEL@BASE_URL"),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_2_before_any_request(
    run: Callable[..., int],
    stub: StubServer,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(*args, model=f"stub@{stub.base_url}") == 2
    said = capsys.readouterr().err
    assert message in said
    assert "Traceback" not in said
    assert stub.requests == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
            + "".join(
                f"{c}: &{c} [{','.join([f'*{p}'] * 10)}]\n"
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            )
            + "cases: *i\n",
            "expands to more than",
        ),
        (
            "cases:\n- {id: x, input: '" + "y" * 1_100_000 + "'}\n",
            "a value of 1,100,000 characters",
        ),
        ("cases:\n- {id: a, input: x}\n- {id: a, input: y}\n", "duplicate case ids: a"),
        (
            "cases:\n- {id: a, input: x, expected: {category: nonsense, urgent: false}}\n",
            "case a: expected.category",
        ),
    ],
    ids=["alias-bomb", "10-MB-field", "duplicate-ids", "bad-label"],
)
def test_a_broken_dataset_is_one_line_naming_the_file_and_case(
    run: Callable[..., int],
    suite: Path,
    stub: StubServer,
    content: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (suite.parent / "tickets.yaml").write_text(content)
    started = time.monotonic()
    assert run(model=f"stub@{stub.base_url}") == 2
    assert time.monotonic() - started < 10
    said = capsys.readouterr().err
    assert "tickets.yaml" in said
    assert message in said
    assert stub.requests == []


async def test_the_cache_keeps_only_chat_completions_keyed_by_endpoint(tmp_path: Path) -> None:
    good = json.dumps(completion(Reply('{"ok": true}'), "m")).encode()
    answers = iter([b"<html>busy</html>", good, good, good])
    with (
        stub_server(lambda body: Reply(raw_body=next(answers))) as one,
        stub_server(lambda body: Reply(raw_body=good)) as two,
    ):
        transport = CachingTransport(tmp_path / "cache")
        async with httpx2.AsyncClient(transport=transport) as client:

            async def ask(base: str) -> bytes:
                response = await client.post(f"{base}/chat/completions", json={"model": "m"})
                return response.content

            assert await ask(one.base_url) == b"<html>busy</html>"  # not stored ...
            assert await ask(one.base_url) == good  # ... so asked again, and stored
            assert await ask(one.base_url) == good  # from the cache
            assert len(one.requests) == 2
            assert await ask(two.base_url) == good  # same body, other endpoint: its own
            assert len(two.requests) == 1
            [entry] = [p for p in (tmp_path / "cache").rglob("*.json") if p.read_bytes() == good][
                :1
            ]
            entry.write_bytes(good[:20])  # a truncated entry ...
            await ask(one.base_url)
            await ask(two.base_url)
            assert len(one.requests) + len(two.requests) == 4  # ... is dropped and fetched again
    assert main(["cache", "clear", "--cache", str(tmp_path / "cache")]) == 0
    assert [p.name for p in (tmp_path / "cache").rglob("*")] == ["CACHEDIR.TAG"]


def test_a_generated_dataset_can_be_json_lines(tmp_path: Path) -> None:
    from evals.data import DatasetError, load
    from evals.suites.calendar import Expected

    path = tmp_path / "cases.jsonl"
    row = {
        "id": "a",
        "input": "Lunch?",
        "expected": {"calendar_event": True, "route": "new_event", "safe": True},
    }
    path.write_text(json.dumps(row) + "\n\n" + json.dumps({**row, "id": "b"}) + "\n")
    assert [c.id for c in load(path, str, Expected).cases] == ["a", "b"]
    path.write_text(json.dumps(row) + "\n{not json\n")
    with pytest.raises(DatasetError, match="line 2: not JSON"):
        load(path, str, Expected)


def test_repeats_report_how_often_each_case_agreed_with_itself(
    run: Callable[..., int], tmp_path: Path
) -> None:
    flips = iter(range(1000))

    def moody(body: dict[str, Any]) -> Reply:
        """Right on every ticket, except urgency on every other answer."""
        reply = model_answer(body)
        answer = json.loads(reply.content)
        if next(flips) % 2:
            answer["urgent"] = not answer["urgent"]
        return Reply(json.dumps(answer))

    with stub_server(moody) as stub:
        assert run("--epochs", "2", "--concurrency", "1", model=f"moody@{stub.base_url}") == 0
    assert len(stub.requests) == 16
    summary = json.loads((tmp_path / "runs" / "summary.json").read_text())
    metrics = {
        m["name"]: m["estimate"]["value"]
        for m in summary["suites"][0]["models"]["moody"]["metrics"]
    }
    assert metrics["agreement.category"] == 1.0
    assert metrics["agreement.urgent"] == 0.0  # each ticket answered both ways


def test_a_full_disk_under_the_cache_keeps_the_answer_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from evals import _cache as cache

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    target = tmp_path / "cache" / "ab" / "entry.json"
    cache._store(target, b"{}")
    assert not target.exists()
    assert list((tmp_path / "cache" / "ab").iterdir()) == []  # no temporary file left
