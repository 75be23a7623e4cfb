"""Step-by-step scheduling for an endpoint that answers one request at a time: it changes
when requests are sent, never what a case computes."""

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pydantic import BaseModel

from evals import _records as records
from evals._rundir import latest_run
from evals._schedule import PrefixOrder
from evals.cli import main
from patterns import LLM, EndpointError
from patterns.core.plumbing import async_pool
from patterns.testing.stub import Reply, stub_server

SUITE = """
from pathlib import Path
from pydantic import BaseModel
from evals import Accuracy, Equals, Suite, TaskContext
from patterns import LLM

class Word(BaseModel):
    word: str

class Verdict(BaseModel):
    long: bool

async def two_steps(llm: LLM, text: str, context: TaskContext) -> Verdict:
    word = await llm.aparse(Word, system="STEP ONE: pick the key word.", user=text,
                            step="one", trace=context.trace)
    return await llm.aparse(Verdict, system="STEP TWO: is the word long?", user=word.word,
                            step="two", trace=context.trace)

SUITE = Suite(
    name="twostep", dataset=Path(__file__).parent / "words.yaml", input_type=str,
    expected_type=bool, task=two_steps,
    checks=[Equals("long", got=lambda o: o.long, want=lambda e: e)],
    measures=[Accuracy("long")],
)
"""
WORDS = ["a", "elephant", "cat", "hippopotamus", "ox", "butterfly", "antelope", "bee"] * 3


def answer(body: dict[str, Any]) -> Reply:
    """Each answer depends only on the request: a wrong verdict for some words, so the
    cases have different outcomes."""
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    if system.startswith("STEP ONE"):
        return Reply(json.dumps({"word": user.split()[-1]}))
    return Reply(json.dumps({"long": len(user) > 4 if user != "antelope" else False}))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "twostep.py").write_text(SUITE)
    cases = [
        {"id": f"w{i:02d}", "input": f"the word {w}", "expected": len(w) > 4}
        for i, w in enumerate(WORDS)
    ]
    (tmp_path / "words.yaml").write_text(json.dumps({"cases": cases}))
    return tmp_path


Outcome = tuple[Any, dict[str, bool | None], str | None, int]


def run(project: Path, name: str, base_url: str, *settings: str) -> dict[str, Outcome]:
    """Each case's output, check outcomes, error and request count."""
    models = project / f"{name}.yaml"
    models.write_text(
        json.dumps(
            {
                "models": [
                    {"name": "stub", "endpoint": base_url, **dict(s.split("=") for s in settings)}
                ]
            }
        )
    )
    out = project / name
    argv = ["run", str(project / "twostep.py"), "--models", str(models), "--out", str(out),
            "--no-cache"]  # fmt: skip
    assert main(argv) == 0
    directory = latest_run(out, "twostep")
    assert directory is not None
    found = {
        r.case: (r.output, {n: c.passed for n, c in r.checks.items()}, r.error, r.usage.requests)
        for r in records.read(directory / "results.jsonl")
    }
    return found


@pytest.mark.parametrize("settings", [("serial=true",), ("serial=true", "concurrency=1")])
def test_step_by_step_order_changes_no_case_outcome(
    project: Path, monkeypatch: pytest.MonkeyPatch, settings: tuple[str, ...]
) -> None:
    monkeypatch.setenv("PATTERNS_STRUCTURED_MODE", "json_object")
    with stub_server(answer) as stub:
        case_order = run(project, "plain", stub.base_url, "concurrency=1")
        plain = [r["messages"][0]["content"][:8] for r in stub.requests]
        stub.requests.clear()
        scheduled = run(project, "scheduled", stub.base_url, *settings)
        sent = [r["messages"][0]["content"][:8] for r in stub.requests]
    assert scheduled == case_order
    assert len(case_order) == len(WORDS)
    assert {o[1]["long"] for o in case_order.values()} == {True, False}  # outcomes differ
    switches = sum(a != b for a, b in itertools.pairwise(sent))
    assert sum(a != b for a, b in itertools.pairwise(plain)) == 2 * len(WORDS) - 1
    if "concurrency=1" in settings:
        assert switches == 2 * len(WORDS) - 1  # one case at a time: nothing to reorder
    else:
        assert switches == 1  # every first step, then every second step


def test_time_in_the_queue_counts_against_no_deadline_and_no_latency(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """24 cases of 2 requests at 0.05 s each wait up to 2.4 s in the queue: with a 1 s
    deadline per request none fails, and each case's seconds are its own two requests."""
    monkeypatch.setenv("PATTERNS_STRUCTURED_MODE", "json_object")

    def slow(body: dict[str, Any]) -> Reply:
        reply = answer(body)
        reply.delay_s = 0.05
        return reply

    with stub_server(slow) as stub:
        models = project / "m.yaml"
        models.write_text(json.dumps({"models": [{"name": "stub", "endpoint": stub.base_url,
                                                  "serial": True}]}))  # fmt: skip
        argv = ["run", str(project / "twostep.py"), "--models", str(models), "--out",
                str(project / "out"), "--no-cache", "--timeout", "1"]  # fmt: skip
        assert main(argv) == 0
    directory = latest_run(project / "out", "twostep")
    assert directory is not None
    found = records.read(directory / "results.jsonl")
    assert len(found) == len(WORDS)
    assert all(r.error is None for r in found)
    assert max(r.seconds for r in found) < 0.5


class Word(BaseModel):
    word: str


async def test_a_request_that_fails_mid_answer_passes_the_turn_on() -> None:
    """The first answer trickles past its deadline: that call fails, and every request
    queued behind it is still sent (a lost turn would hang the whole run)."""

    def script(body: dict[str, Any]) -> Reply:
        if body["messages"][1]["content"] == "slow":
            return Reply(json.dumps({"word": "x" * 200}), trickle_s=0.01)
        return Reply(json.dumps({"word": "ok"}))

    with stub_server(script) as stub:
        order = PrefixOrder(async_pool(8))
        llm = LLM.from_env(base_url=stub.base_url, mode="json_object", timeout=0.5,
                           max_retries=0, async_transport=order)  # fmt: skip

        async def ask(text: str) -> str:
            return (await llm.aparse(Word, system="Pick a word.", user=text, step="w")).word

        results = await asyncio.wait_for(
            asyncio.gather(*(ask(t) for t in ["slow", "a", "b", "c"]), return_exceptions=True),
            timeout=20,
        )
        await llm.aclose()
    assert isinstance(results[0], EndpointError)
    assert results[1:] == ["ok", "ok", "ok"]
    assert order.sent == 4
    assert not order.busy


class Body(httpx2.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{}"


async def test_a_body_closed_twice_ends_its_own_turn_only() -> None:
    order = PrefixOrder(httpx2.MockTransport(lambda request: httpx2.Response(200, stream=Body())))
    body = json.dumps({"model": "m", "messages": [{"role": "system", "content": "s"}]})
    request = httpx2.Request("POST", "http://x/v1/chat/completions", content=body)
    first = await order.handle_async_request(request)
    second = asyncio.ensure_future(order.handle_async_request(request))
    await asyncio.sleep(0)
    assert order.waiting  # the second waits for the first's turn
    await first.aclose()
    answer = await second
    assert order.busy  # the second holds the turn now
    await first.aclose()  # closed again (a client may): the second's turn is untouched
    assert order.busy
    await answer.aclose()
    assert not order.busy


async def test_a_cases_context_rides_on_its_requests_and_its_header_is_not_sent_on() -> None:
    import httpx2

    from evals._case import EXTENSION, HEADER, NO_CASE, CaseContext, Cases, CaseTransport

    seen: list[httpx2.Request] = []

    class Endpoint(httpx2.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            seen.append(request)
            return httpx2.Response(200, json={})

    cases = Cases()
    mine = CaseContext(epoch=3)
    token = cases.add(mine)
    transport = CaseTransport(Endpoint(), cases)
    for headers in ({HEADER: token}, {}, {HEADER: "no-such-case"}):
        request = httpx2.Request("POST", "http://h/v1/chat/completions", headers=headers)
        await transport.handle_async_request(request)
    assert [r.extensions[EXTENSION] for r in seen] == [mine, NO_CASE, NO_CASE]
    assert all(HEADER not in r.headers for r in seen)


async def test_a_case_held_by_the_queue_with_two_requests_at_once_is_held_once() -> None:
    """Another case's request holds the only slot for 0.2 s while one case sends two
    requests at once (the parallel pattern's checks): that case was held 0.2 s, not the
    0.45 s its two queue times add up to, and its own time (0.3 s elapsed, less the
    hold) is never below zero."""
    from evals._case import EXTENSION, CaseContext

    class Endpoint(httpx2.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            await asyncio.sleep(float(request.headers["x-delay"]))
            return httpx2.Response(200, stream=Body())

    order = PrefixOrder(Endpoint(), slots=1)
    mine, other = CaseContext(), CaseContext()

    async def send(case: CaseContext, delay: float) -> None:
        url = "http://h/v1/chat/completions"
        headers = {"x-delay": str(delay)}
        request = httpx2.Request("POST", url, headers=headers, json={"messages": []})
        request.extensions[EXTENSION] = case
        response = await order.handle_async_request(request)
        await response.aclose()  # the answer read: the slot is free

    started = asyncio.get_running_loop().time()
    first = asyncio.create_task(send(other, 0.2))
    await asyncio.sleep(0)  # the other case's request has the slot
    await asyncio.gather(send(mine, 0.05), send(mine, 0.05))
    elapsed = asyncio.get_running_loop().time() - started
    await first
    assert 0.15 < mine.waits.seconds < 0.25
    assert elapsed - mine.waits.seconds > 0.08  # its two answers, one after the other
    assert (mine.waits.queued, mine.waits.answering, mine.waits.held_since) == (0, 0, None)
