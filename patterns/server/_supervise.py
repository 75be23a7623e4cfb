"""``python -m patterns._supervise CMD...``: run CMD and take its whole process group down
with it.

The embedded server is started through this: it leads the server's process group, and
the kernel sends it SIGTERM when its owner dies, however (PR_SET_PDEATHSIG, set by the
owner). It then stops every process of the group, the server's own children included,
which the server alone would leave behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

GRACE_S = 5.0


def _stop_group(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group's SIGTERM reaches us too
    with contextlib.suppress(ProcessLookupError):
        os.killpg(0, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline and _others_alive():
        time.sleep(0.05)
    os.killpg(0, signal.SIGKILL)  # ourselves included: nothing of the group survives


def _others_alive() -> bool:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    group = os.getpgid(0)
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit() and int(entry) != os.getpid():
            with contextlib.suppress(OSError, IndexError):
                stat = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
                if int(stat[2]) == group and stat[0] != "Z":
                    return True
    return False


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_group)
    try:
        child = subprocess.Popen(sys.argv[1:])
    except OSError as error:  # a missing, corrupt or non-executable binary: one line
        print(f"cannot start {sys.argv[1]}: {error.strerror or error}", flush=True)
        return 127
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())
