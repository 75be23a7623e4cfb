"""``patterns-server``: serve, exec, locate or build the embedded model's server."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

from ..core import DEFAULT_MODEL
from ._build import build_llama_server
from ._local import ENGINES, LocalServer, stop_on_sigterm
from ._models import MODELS, ModelSpec, model_file

logger = logging.getLogger("patterns.server")


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patterns-server", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model",
        default=os.environ.get("PATTERNS_GGUF"),
        help=f"a GGUF path or one of {sorted(MODELS)} (default: {DEFAULT_MODEL})",
    )
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="llama.cpp's threads (default: PATTERNS_THREADS, else one per core; fewer on "
        "a machine busy with other work)",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="the server: llama.cpp's llama-server (the default, PATTERNS_ENGINE; built by "
        "`patterns-server build`) or llama-cpp-python's (the python-server extra)",
    )
    parser.add_argument(
        "--slots",
        type=int,
        default=None,
        help="llama-server: requests computed at once (default: PATTERNS_SLOTS, else 2)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("path", help="assemble and verify the model file, print its path")
    sub.add_parser(
        "build", help="compile llama.cpp's llama-server once for this machine (a few minutes)"
    )
    sub.add_parser("serve", help="serve until Ctrl-C")
    run = sub.add_parser("exec", help="start the server, run a command with PATTERNS_* set, stop")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop_on_sigterm()

    if args.command == "build":
        print(build_llama_server())
        return 0
    model: ModelSpec | Path = MODELS.get(args.model or DEFAULT_MODEL) or Path(args.model)
    if args.command == "path":
        print(model_file(model) if isinstance(model, ModelSpec) else model)
        return 0
    with LocalServer(
        model, port=args.port, n_threads=args.threads, engine=args.engine, slots=args.slots
    ) as server:
        if args.command == "serve":
            print(f"serving {server.model_name} at {server.base_url} (Ctrl-C stops)", flush=True)
            try:
                assert server.process is not None
                return server.process.wait()
            except KeyboardInterrupt:
                return 130
        command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        if not command:
            cli.error("exec needs a command after --")
        try:
            return subprocess.call(command, env={**os.environ, **server.env()})
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    sys.exit(main())
