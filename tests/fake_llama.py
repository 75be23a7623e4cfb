"""A stand-in for llama-cpp-python's server, for lifecycle tests: it answers like an
OpenAI endpoint, can start a child of its own, and can crash on request."""

import argparse
import json
import os
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--crash-after", type=int, default=0, help="exit after N completions")
    parser.add_argument("--exit-at-start", action="store_true")
    parser.add_argument("--child-pid-file", type=Path)
    args = parser.parse_args()
    if args.exit_at_start:
        print("fake: cannot load the model", flush=True)
        sys.exit(3)
    if args.child_pid_file:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        args.child_pid_file.write_text(str(child.pid))
    served = 0

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._send({"object": "list", "data": [{"id": "fake", "object": "model"}]})

        def do_POST(self) -> None:
            nonlocal served
            self.rfile.read(int(self.headers["content-length"]))
            message = {"role": "assistant", "content": '{"ok": true}'}
            self._send(
                {
                    "id": "x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "fake",
                    "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                }
            )
            served += 1
            if args.crash_after and served >= args.crash_after:
                self.wfile.flush()
                time.sleep(0.05)
                os._exit(1)  # a crash: no clean shutdown, the child is left behind

        def _send(self, body: dict[str, object]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    HTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
