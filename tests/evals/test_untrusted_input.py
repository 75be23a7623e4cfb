"""Reliability round four: what comes back from disk, a batch provider or another machine
is input. One test per class: names that become paths, code imported from a run folder,
batch output and state, a server that answers on our port, secrets in a test runner's
traceback, ``evaluate()``'s arguments, locks before writes, and reports."""

from __future__ import annotations

import json
import math
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from evals import EvalError, EvalsError, Options, evaluate, merge
from evals._batch import BatchState, _take, load_state
from evals._cache import NotAKey, entry_path
from evals._records import Record
from evals._rundir import RunInfo, latest_run
from evals.checks import CheckResult
from evals.cli import main
from evals.models import ModelError, load_models
from evals.report import Summary, csv_text, markdown, pr_summary
from patterns.testing.stub import stub_server
from tests.evals.test_library import model_answer

KEY = "ab" * 32


def opts(out: Path, **more: Any) -> Options:
    return Options(**{"out": out, "cache": None, "say": lambda text: None, **more})


# --- Names that become paths --------------------------------------------------------------------


@pytest.mark.parametrize("key", ["../../../x", "/tmp/abs", "ab/../../cd", "AB" * 32, ""])
def test_a_cache_key_that_is_not_a_digest_never_becomes_a_path(key: str, tmp_path: Path) -> None:
    with pytest.raises(NotAKey):
        entry_path(tmp_path / "cache", key)


def test_a_batch_line_naming_a_path_writes_nothing_and_breaks_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "a" / "b" / "cache"
    answer = {"status_code": 200, "body": json.loads(_completion())}
    lines = [
        {"custom_id": "../../../x", "response": answer},
        {"custom_id": str(tmp_path / "abs"), "response": answer},
        {"custom_id": "cd" * 32, "response": answer},  # a digest, but not one we sent
        {"custom_id": KEY, "response": answer},
    ]
    state = BatchState(pending="batch_1", requested=[KEY])
    _take("\n".join(json.dumps(x) for x in lines), cache, state)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == [Path("a/b/cache/CACHEDIR.TAG"), Path(f"a/b/cache/ab/{KEY}.json")]


def test_malformed_batch_lines_are_skipped_and_ours_unreadable_is_its_failure(
    tmp_path: Path,
) -> None:
    other = "cd" * 32
    text = "\n".join(
        [
            "not json",
            "[1, 2]",
            json.dumps({"no": "custom_id"}),
            json.dumps({"custom_id": 7}),
            json.dumps({"custom_id": other, "response": "a string"}),
        ]
    )
    state = BatchState(pending="batch_1", requested=[KEY, other])
    _take(text, tmp_path, state)
    assert list(state.failed) == [other]
    status, body = state.failed[other]
    assert status == 502
    assert "could not be read" in body


def _completion() -> str:
    return json.dumps(
        {
            "id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "{}"}}],
        }
    )  # fmt: skip


def test_a_corrupt_batch_state_is_set_aside_and_its_pending_batch_still_collected(
    tmp_path: Path,
) -> None:
    path = tmp_path / "batch-x.json"
    path.write_text('{"pending": "batch_42", "failed": {"x": [500,')
    said: list[str] = []
    state = load_state(path, said.append)
    assert state.pending == "batch_42"  # paid for: collected, not bought again
    assert not path.exists()
    assert len(list(tmp_path.glob("batch-x.json.corrupt-*"))) == 1
    assert "corrupt" in said[0]
    assert "batch_42" in said[0]


@pytest.fixture
def shards(suite_file: Path, tmp_path: Path) -> list[Path]:
    with stub_server(model_answer) as stub:
        model = f"m@{stub.base_url}"
        for i in (1, 2):
            evaluate([suite_file], [model], options=opts(tmp_path / f"s{i}", shard=(i, 2)))
    return [tmp_path / "s1", tmp_path / "s2"]


def _edit_run_json(folder: Path, **fields: Any) -> None:
    run = latest_run(folder, "triage")
    assert run is not None
    data = json.loads((run / "run.json").read_text())
    for key, value in fields.items():
        if key in ("suite", "shard"):
            data["fingerprint"][key] = value
        else:
            data[key] = value
    (run / "run.json").write_text(json.dumps(data))


@pytest.mark.parametrize("suite", ["../../x", "/tmp/elsewhere", "a/b", ".."])
def test_a_shards_suite_name_never_chooses_a_folder(
    shards: list[Path], tmp_path: Path, suite: str
) -> None:
    for folder in shards:
        _edit_run_json(folder, suite=suite)
    out = tmp_path / "deep" / "out"
    before = {p for p in tmp_path.rglob("*")}
    with pytest.raises(EvalError, match="not a safe folder name"):
        merge(shards, out)
    assert {p for p in tmp_path.rglob("*")} == before  # nothing written anywhere
    assert main(["merge", *map(str, shards), "--out", str(out)]) == 2


def test_a_shard_field_that_is_not_i_of_n_is_one_line(shards: list[Path], tmp_path: Path) -> None:
    _edit_run_json(shards[0], shard="x/3")
    with pytest.raises(EvalError, match="not I/N"):
        merge(shards, tmp_path / "out")


def test_a_shard_cannot_choose_the_code_merge_imports(
    shards: list[Path], tmp_path: Path, suite_file: Path
) -> None:
    planted = shards[0] / "evil.py"
    planted.write_text("raise SystemExit('imported the shard own code')\n")
    for folder in shards:
        _edit_run_json(folder, origin=str(planted))
    with pytest.raises(EvalError, match="came with the run: not importing it"):
        merge(shards, tmp_path / "out")
    elsewhere = tmp_path / "evil.py"
    elsewhere.write_text(planted.read_text())
    for folder in shards:
        _edit_run_json(folder, origin=str(elsewhere))
    with pytest.raises(EvalError, match="is not the suite file the run recorded"):
        merge(shards, tmp_path / "out")


def test_merge_into_an_out_another_evaluation_holds_writes_nothing(
    shards: list[Path], tmp_path: Path
) -> None:
    from filelock import FileLock

    out = tmp_path / "out"
    out.mkdir()
    with FileLock(out / ".evaluation.lock"), pytest.raises(EvalError, match="another evaluation"):
        merge(shards, out)
    assert [p.name for p in out.iterdir()] == [".evaluation.lock"]


# --- A server that answers on our port ------------------------------------------------------------


class _Squatter(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        payload = json.dumps({"object": "list", "data": [{"id": "someone-else"}]}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def squatter() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), _Squatter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_server_is_ready_only_when_the_answer_is_ours(
    tmp_path: Path, squatter: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patterns.core import ServerError
    from patterns.server import _local
    from tests.patterns.test_server import FakeServer

    monkeypatch.setattr(_local, "free_port", lambda: squatter)  # taken after it was chosen
    with pytest.raises(ServerError, match="exited"):
        FakeServer(tmp_path).start()


def test_a_binary_that_cannot_run_is_one_line(tmp_path: Path) -> None:
    from patterns.core import ServerError
    from tests.patterns.test_server import FakeServer

    corrupt = tmp_path / "llama-server"
    corrupt.write_bytes(b"\x7fELF garbage")
    corrupt.chmod(0o755)

    class Corrupt(FakeServer):
        def command(self, path: Path) -> list[str]:
            return [str(corrupt)]

    with pytest.raises(ServerError) as raised:
        Corrupt(tmp_path).start()
    tail = str(raised.value).split("log says:\n", 1)[1]
    assert tail.strip().startswith("cannot start")
    assert "Traceback" not in tail


# --- Secrets in a test runner's traceback ---------------------------------------------------------


def test_a_refused_url_prints_no_key_in_pytests_traceback(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATTERNS_BASE_URL", "http://127.0.0.1:9/v1?api-key=query-secret-0042")
    monkeypatch.setenv("PATTERNS_API_KEY", "sk-secret-0042")
    pytester.makepyfile(
        """
        from patterns import LLM

        def test_it():
            LLM.from_env()  # the URL and the key come from the environment
        """
    )
    result = pytester.runpytest_subprocess("-l", "-p", "no:cacheprovider", "--tb=long")
    result.assert_outcomes(failed=1)
    text = result.stdout.str() + result.stderr.str()
    assert "has a query string" in text
    assert "secret-0042" not in text


def test_endpoints_with_a_key_in_the_query_are_refused_at_load(tmp_path: Path) -> None:
    models = tmp_path / "models.yaml"
    models.write_text(
        "models:\n  - name: m\n    endpoints: [http://a:8000/v1?api-key=ep-secret-0042,"
        " http://b:8000/v1]\n"
    )
    with pytest.raises(ModelError) as raised:
        load_models(models)
    assert "query string" in str(raised.value)
    assert "ep-secret-0042" not in str(raised.value)


# --- evaluate() checks its arguments as the command line does -------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"suites": []}, "no suite to evaluate"),
        ({"suites": "screen"}, "give a list"),
        ({"models": "stub"}, "give a list"),
        ({"options": Options(splits={"train"})}, "--split train: choose from dev, test"),
        ({"options": Options(timeout=math.nan)}, "--timeout nan"),
        ({"options": Options(epochs=2.5)}, "--epochs 2.5"),  # type: ignore[arg-type]
        ({"options": Options(case_timeout=-1)}, "--case-timeout -1"),
        ({"judge": 123}, "judge 123"),
        ({"prices": {"stub": (-1.0, 2.0)}}, "expected MODEL=IN,OUT"),
        ({"prices": {"other": (1.0, 2.0)}}, "'other' is not a model of this run"),
        ({"fail_on_regression": math.nan}, "--fail-on-regression nan"),
    ],
)
def test_evaluate_refuses_what_the_command_line_refuses(
    kwargs: dict[str, Any], message: str, tmp_path: Path
) -> None:
    call: dict[str, Any] = {"suites": ["screen"], "models": ["stub@http://127.0.0.1:9/v1"]}
    call |= kwargs
    call.setdefault("options", opts(tmp_path / "out"))
    with pytest.raises(EvalsError, match=message.replace("(", r"\(").replace("[", r"\[")):
        evaluate(**call)
    assert not (tmp_path / "out").exists()


def test_evaluate_takes_an_out_folder_given_as_a_string(tmp_path: Path) -> None:
    found = evaluate(
        ["screen"], ["stub@http://127.0.0.1:9/v1"],
        options=Options(out=str(tmp_path / "runs"), cache=None, say=lambda t: None,  # type: ignore[arg-type]
                        cases={"inj-01/as_written"}),
    )  # fmt: skip
    assert found.ok
    assert (tmp_path / "runs" / "report.md").exists()


# --- Reports -------------------------------------------------------------------------------------


def _hostile_record() -> Record:
    text = "see http://evil.example/x and www.evil.example \x1b[31mred\x00 \x07"
    return Record(
        suite="s", model="m", case="c\x1b[2J", output=text, error=f"Boom: {text}",
        checks={"k": CheckResult(value=text, expected="x", passed=False)},
    )  # fmt: skip


def test_reports_show_control_characters_and_keep_urls_inert() -> None:
    record = _hostile_record()
    summary = Summary(created="now", suites=[])
    for text in (markdown(summary, [record]), csv_text([record])):
        assert "\x1b" not in text
        assert "\x00" not in text
        assert "\\x1b" in text
    md = markdown(summary, [record])
    assert "http://evil" not in md
    assert "www.evil" not in md
    from evals import html

    page = html.render(summary, [record])
    assert "\x1b" not in page
    assert "\x00" not in page
    digest = pr_summary(summary.model_copy(update={"floors": [record.error or ""]}))
    assert "http://evil" not in digest


def test_a_huge_answer_copied_into_a_check_is_cut(tmp_path: Path) -> None:
    from evals._runner import kept

    result = CheckResult(value="x" * 4_000_000, expected="y", passed=False)
    stored = kept(result, Options())
    assert isinstance(stored.value, str)
    assert len(stored.value) < 5_000
    assert "[cut: 4,000,000 characters]" in stored.value
    assert stored.passed is False


def test_every_evals_refusal_is_one_error_base() -> None:
    from evals._batch import BatchError
    from evals._cache import NotACache
    from evals._records import DiskFull, ResultsLocked
    from evals.compare import ComparisonError
    from evals.data import DatasetError
    from evals.suite import SuiteError

    for error in (BatchError, NotACache, NotAKey, ComparisonError, DatasetError, DiskFull,
                  ResultsLocked, SuiteError, EvalError, ModelError):  # fmt: skip
        assert issubclass(error, EvalsError)


def test_a_waiting_build_says_who_holds_the_lock(tmp_path: Path) -> None:
    import fcntl
    import logging

    from patterns.server import _build

    lock_path = tmp_path / ".lock"
    holder = lock_path.open("a+")
    fcntl.flock(holder, fcntl.LOCK_EX)
    holder.write("pid 4242, since 10:00:00")
    holder.flush()
    said: list[str] = []

    class Say(logging.Logger):
        def warning(self, msg: object, *args: object, **kwargs: object) -> None:  # type: ignore[override]
            said.append(str(msg) % args)

    def release() -> None:
        fcntl.flock(holder, fcntl.LOCK_UN)

    threading.Timer(0.3, release).start()
    with lock_path.open("a+") as lock:
        _build._hold(lock, Say("x"), poll_s=0.05)
        lock.seek(0)
        mine = lock.read()
    holder.close()
    assert "pid 4242" in said[0]
    assert "waiting for another build" in said[0]
    assert mine.startswith("pid ")


def test_a_free_port_helper_is_not_trusted_either() -> None:
    # the race the readiness check closes: a port is free when chosen, taken before bind
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        from patterns.server._models import _port_taken

        assert _port_taken(port)


def test_run_info_without_an_origin_digest_is_not_imported(tmp_path: Path) -> None:
    from evals._rundir import Fingerprint
    from evals.evaluate import find_suite

    suite = tmp_path / "s.py"
    suite.write_text("SUITE = None\n")
    fingerprint = Fingerprint(suite="s", dataset="d", models=[], judge=None, sources="x",
                              package="p", commit=None, epochs=1)  # fmt: skip
    info = RunInfo(fingerprint=fingerprint, digest="d", started="t", origin=str(suite))
    with pytest.raises(EvalError, match="records no digest"):
        find_suite("s", info)
