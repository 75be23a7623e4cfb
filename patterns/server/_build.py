"""``patterns-server build``: llama.cpp's own ``llama-server``, compiled once per machine
from the llama.cpp that llama-cpp-python's sdist vendors (PyPI is the one source this
project's machines reach), into ``<cache>/bin/llama-server``.

Only the server target, portable CPU code (AVX2, not ``-march=native``: a binary built
on another CPU can crash at the first request), one static binary, without curl, tests
or examples. Needs a C++ compiler; cmake and ninja come from PyPI (the ``local`` extra).
A second build started meanwhile waits on a lock and then finds the binary built.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..core import ServerError
from ._models import cache_dir

logger = logging.getLogger("patterns.server")

LLAMA_CPP_PYTHON = "0.3.36"
"""The llama-cpp-python release whose sdist carries the llama.cpp built (the version the
``python-server`` extra pins: both engines run the same llama.cpp)."""

SERVER_BUILD = [
    "-DGGML_NATIVE=OFF", "-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON",
    "-DBUILD_SHARED_LIBS=OFF", "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=ON", "-DCMAKE_BUILD_TYPE=Release",
]  # fmt: skip


def built_binary() -> Path:
    return cache_dir() / "bin" / "llama-server"


def build_llama_server(say: logging.Logger = logger) -> Path:
    """The built ``llama-server``: compiled now unless this machine has it already."""
    target = built_binary()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "a+") as lock:
        _hold(lock, say)  # a concurrent build waits for this one, and says so
        if target.exists():
            say.info("%s is built already", target)
            return target
        say.info("building llama-server once for this machine (a few minutes)")
        with tempfile.TemporaryDirectory(prefix="llama-server-") as work:
            _build(Path(work), target)
    say.info("built %s", target)
    return target


WAIT_NOTICE_S = 60.0


def _hold(lock: Any, say: logging.Logger, poll_s: float = 1.0) -> None:
    """Take the build lock; while another build holds it, say who (its pid, since when)
    at once and every minute, then write our own pid and time into it."""
    said = -math.inf
    started = time.monotonic()
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() - said >= WAIT_NOTICE_S:
                lock.seek(0)
                holder = lock.read(200).strip() or "another process"
                waited = time.monotonic() - started
                say.warning(
                    "waiting for another build of llama-server to finish (%s; waited %.0f s)",
                    holder, waited,
                )  # fmt: skip
                said = time.monotonic()
            time.sleep(poll_s)
    lock.seek(0)
    lock.truncate()
    lock.write(f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}")
    lock.flush()


def _tool(name: str) -> str:
    """cmake or ninja: beside this Python (their PyPI packages), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise ServerError(f"{name} was not found: `pip install cmake ninja` (the local extra)")
    return found


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-25:])
        raise ServerError(f"building llama-server failed: {' '.join(command[:3])} ...\n{tail}")


def _build(work: Path, target: Path) -> None:
    _run([
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", "llama-cpp-python",
        "--dest", str(work), f"llama-cpp-python=={LLAMA_CPP_PYTHON}",
    ])  # fmt: skip
    archive = next(work.glob("llama_cpp_python-*.tar.gz"))
    import tarfile  # only when building: not on every import of the server's package

    with tarfile.open(archive) as sdist:
        sdist.extractall(work, filter="data")
    source = next(work.glob("llama_cpp_python-*/vendor/llama.cpp"))
    build = work / "build"
    cmake = _tool("cmake")
    _run([cmake, "-S", str(source), "-B", str(build), "-G", "Ninja",
          f"-DCMAKE_MAKE_PROGRAM={_tool('ninja')}", *SERVER_BUILD])  # fmt: skip
    jobs = str(os.cpu_count() or 2)
    _run([cmake, "--build", str(build), "--target", "llama-server", "-j", jobs])
    partial = target.with_suffix(".partial")
    shutil.copy2(build / "bin" / "llama-server", partial)
    os.replace(partial, target)  # never a half-written binary under the name
