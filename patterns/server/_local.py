"""``LocalServer``: the embedded model's server process, started, checked and stopped."""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from ..core import LLM, ServerError
from ._build import built_binary
from ._models import QWEN_05B, ModelSpec, _port_taken, cache_dir, free_port, model_file

logger = logging.getLogger("patterns.server")


Engine = Literal["llama-cpp-python", "llama-server"]
ENGINES: tuple[Engine, ...] = ("llama-cpp-python", "llama-server")


def engine_from_env() -> Engine:
    """``PATTERNS_ENGINE``: ``llama-server`` (the default: llama.cpp's own server, built by
    ``patterns-server build``, or ``PATTERNS_LLAMA_SERVER``, or on PATH) or
    ``llama-cpp-python`` (its Python server, from the ``python-server`` extra)."""
    text = os.environ.get("PATTERNS_ENGINE", "").strip() or "llama-server"
    if text not in ENGINES:
        raise ServerError(f"PATTERNS_ENGINE={text!r}: expected one of {', '.join(ENGINES)}")
    return text


DEFAULT_SLOTS = 2
"""llama-server's parallel slots unless told (``PATTERNS_SLOTS``, ``--slots``): measured
on 2 cores, two in flight decode faster than one or four (``python -m bench --engines``)."""


def slots_from_env() -> int | None:
    text = os.environ.get("PATTERNS_SLOTS", "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise ServerError(f"PATTERNS_SLOTS={text!r}: expected a whole number from 1 to 64")
    return int(text)


def resolve_slots(engine: Engine, slots: int | None = None) -> int:
    """The slots a server of ``engine`` gets: one for llama-cpp-python's; for llama-server
    ``slots``, else ``PATTERNS_SLOTS``, else ``DEFAULT_SLOTS``."""
    if engine == "llama-cpp-python":
        return 1
    return slots or slots_from_env() or DEFAULT_SLOTS


def llama_server_binary() -> str:
    """llama.cpp's ``llama-server``: ``PATTERNS_LLAMA_SERVER``, else on PATH, else the
    one ``patterns-server build`` compiles into the cache folder."""
    for found in (
        os.environ.get("PATTERNS_LLAMA_SERVER"),
        shutil.which("llama-server"),
        str(built_binary()),
    ):
        if found and os.path.isfile(found) and os.access(found, os.X_OK):
            return found
    raise ServerError(
        "llama.cpp's llama-server was not found: build it once with `patterns-server build` "
        "(or `nox -s llama_server`), set PATTERNS_LLAMA_SERVER to its path, or use the "
        "other engine (PATTERNS_ENGINE=llama-cpp-python, the python-server extra)"
    )


KEPT_LOGS = 20
"""Server logs kept in ``<cache>/logs`` (the newest; older ones of this naming go)."""


def threads_from_env() -> int | None:
    text = os.environ.get("PATTERNS_THREADS", "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ServerError(
            f"PATTERNS_THREADS={text!r}: expected a whole number of threads, 1 or more"
        )
    return int(text)


def threads_for_load() -> int:
    """One thread per core that is free now (the last minute's load average taken off
    the core count), at least one: llama.cpp's threads wait for each other, so on a busy
    machine a thread on a taken core slows every token (measured: one thread beat two on
    2 cores under load). ``PATTERNS_THREADS`` overrides it."""
    cores = os.cpu_count() or 2
    try:
        busy = os.getloadavg()[0]
    except OSError:
        return cores
    chosen = max(1, min(cores, cores - int(busy + 0.5)))
    if chosen < cores:
        logger.warning(
            "the machine is busy (load %.1f on %d cores): the server gets %d thread(s); "
            "PATTERNS_THREADS overrides", busy, cores, chosen,
        )  # fmt: skip
    return chosen


def _prune_logs(directory: Path) -> None:
    logs = sorted(directory.glob("server-*-*.log"), key=lambda p: p.stat().st_mtime)
    for old in logs[: max(0, len(logs) - KEPT_LOGS + 1)]:
        with contextlib.suppress(OSError):
            if old.is_file() and not old.is_symlink():
                old.unlink()


class LocalServer:
    """Starts the embedded model's server (``engine``) on 127.0.0.1 and stops it (and its
    children) on exit."""

    def __init__(
        self,
        model: ModelSpec | Path = QWEN_05B,
        *,
        port: int | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        startup_timeout: float = 180.0,
        log_path: Path | None = None,
        ram_cache: bool = False,
        engine: Engine | None = None,
        slots: int | None = None,
    ) -> None:
        self.engine: Engine = engine or engine_from_env()
        """Which server serves the GGUF (``PATTERNS_ENGINE``)."""
        self.slots = resolve_slots(self.engine, slots)
        """Requests computed at once (llama-server's ``--parallel``; llama-cpp-python's
        server has one)."""
        self.ram_cache = ram_cache
        """Start the server with ``--cache true``: a RAM cache of saved prompt states (up
        to 2 GiB), so a prompt can reuse a prefix evaluated before the previous request.
        Off by default: saving and restoring a state costs each request time, and the
        evals already send requests step by step (``python -m evals.bench --orders``
        measures both)."""
        self.model = model
        self.port = port
        self.n_ctx = n_ctx
        self.n_threads = n_threads or threads_from_env() or threads_for_load()
        """llama.cpp's threads (``PATTERNS_THREADS``; default: one per core). On a machine
        busy with other work, fewer threads spin less against it."""
        self.startup_timeout = startup_timeout
        self._log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        """This server's own log (``<cache>/logs/server-<port>-<pid>.log`` unless given):
        a ``ServerError`` shows this server's lines, never another's."""
        if self._log_path is None:
            self._log_path = cache_dir() / "logs" / f"server-{self.port}-{os.getpid()}.log"
        return self._log_path

    @property
    def model_name(self) -> str:
        return self.model.name if isinstance(self.model, ModelSpec) else self.model.stem

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def structured_mode(self) -> str:
        # llama-cpp-python refuses json_schema; json_object + schema is its grammar mode.
        return "json_schema" if self.engine == "llama-server" else "json_object"

    def env(self) -> dict[str, str]:
        """What a child process needs to use this server through ``LLM.from_env()``."""
        return {
            "PATTERNS_BASE_URL": self.base_url,
            "PATTERNS_MODEL": self.model_name,
            "PATTERNS_STRUCTURED_MODE": self.structured_mode,
            # One request at a time: a resend after a timeout waits behind the abandoned one.
            "PATTERNS_RETRY_TIMEOUTS": "0",
        }

    def llm(self, **settings: Any) -> LLM:
        settings.setdefault("retry_timeouts", False)
        settings.setdefault("mode", self.structured_mode)
        return LLM.from_env(base_url=self.base_url, model=self.model_name, **settings)

    def command(self, path: Path) -> list[str]:
        """How the server process is started (tests replace it with a fake server)."""
        if self.engine == "llama-server":
            return [
                llama_server_binary(), "--model", str(path), "--alias", self.model_name,
                "--host", "127.0.0.1", "--port", str(self.port),
                "--ctx-size", str(self.n_ctx * self.slots), "--parallel", str(self.slots),
                "--threads", str(self.n_threads), "--jinja", "--no-webui",
            ]  # fmt: skip
        if importlib.util.find_spec("llama_cpp") is None:
            raise ServerError(
                "llama-cpp-python is not installed (PATTERNS_ENGINE=llama-cpp-python): "
                "`PATTERNS_ENGINE=llama-cpp-python nox -s server` builds it once per machine, "
                "or install the python-server extra; or use the default engine, llama-server"
            )
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(path),
            "--model_alias", self.model_name, "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads),
        ]  # fmt: skip
        if self.ram_cache:
            command += ["--cache", "true", "--cache_type", "ram"]
        if isinstance(self.model, ModelSpec) and self.model.chat_format:
            command += ["--chat_format", self.model.chat_format]
        return command

    def start(self) -> LocalServer:
        path = model_file(self.model) if isinstance(self.model, ModelSpec) else self.model
        if not path.exists():
            raise ServerError(f"model file {path} does not exist")
        if not path.is_file():
            raise ServerError(f"model file {path} is not a file (a directory?)")
        if self.port is None:
            self.port = free_port()
        elif _port_taken(self.port):
            raise ServerError(f"port {self.port} on 127.0.0.1 is already in use; pick another")
        command = self.command(path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        _prune_logs(self.log_path.parent)
        with self.log_path.open("ab") as log:
            # A session of its own: Ctrl-C in the terminal reaches us, and we stop
            # the whole group, so no server (nor anything it started) outlives its owner.
            # The supervisor leads the group: if the owner is killed outright, the kernel
            # tells it (PR_SET_PDEATHSIG) and it stops the group, server's children too.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "patterns.server._supervise", *command],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        logger.info("starting %s on %s (log: %s)", self.model_name, self.base_url, self.log_path)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServerError(
                    f"the model server exited with code {self.process.returncode} while "
                    f"starting; its log says:\n{self._log_tail()}"
                )
            if self._answers_as_ours():
                return
            time.sleep(0.25)
        raise ServerError(
            f"the model server did not answer within {self.startup_timeout:.0f}s; "
            f"log:\n{self._log_tail()}"
        )

    def _answers_as_ours(self) -> bool:
        """Ready only when the answer is ours: it lists this server's alias, and our
        process is still alive after it (another server that took the port between
        choosing it and binding it would answer too, under another name, while ours
        exits on the failed bind)."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as answer:
                listed = json.loads(answer.read(1 << 20))
        except (OSError, ValueError):
            return False
        data = listed.get("data") if isinstance(listed, dict) else None
        names = (
            {m.get("id") for m in data if isinstance(m, dict)} if isinstance(data, list) else set()
        )
        assert self.process is not None
        return self.model_name in names and self.process.poll() is None

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server's whole process group (TERM, then KILL), even if the server
        itself has already died and left children behind."""
        if self.process is None:
            return
        group = self.process.pid
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            if not _group_alive(group, self.process):
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, sig)
            deadline = time.monotonic() + grace
            while _group_alive(group, self.process) and time.monotonic() < deadline:
                time.sleep(0.05)
        logger.info("stopped the model server on %s", self.base_url)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, ask for SIGTERM when the parent dies, so even
    a SIGKILLed owner leaves no server behind."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so ``with LocalServer()`` blocks unwind and stop
    their server when the owner is terminated (by a CI runner, ``kill``, nox)."""
    signal.signal(signal.SIGTERM, _raise_on_sigterm)


def _group_alive(group: int, leader: subprocess.Popen[bytes]) -> bool:
    leader.poll()  # reap the leader if it has exited, so it no longer counts
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _raise_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)
