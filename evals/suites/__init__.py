"""The built-in suites, found by name when asked for: the library never imports them
itself (``import evals`` loads no pattern). ``calendar``, ``e2e`` and ``all`` name groups."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..suite import Suite

GROUPS: dict[str, tuple[str, ...]] = {
    "chain": ("calendar.CHAIN",),
    "router": ("calendar.ROUTER",),
    "router_nearest": ("calendar.ROUTER_NEAREST",),
    "parallel": ("calendar.PARALLEL",),
    "screen": ("calendar.SCREEN",),
    "screen_paraphrases": ("calendar.SCREEN_PARAPHRASES",),
    "orchestra": ("orchestra.ORCHESTRA",),
    "chain_e2e": ("e2e.CHAIN_E2E",),
    "router_e2e": ("e2e.ROUTER_E2E",),
    "router_others": ("e2e.ROUTER_OTHERS",),
    "calendar": ("calendar.CHAIN", "calendar.ROUTER", "calendar.PARALLEL", "calendar.SCREEN",
                 "calendar.SCREEN_PARAPHRASES"),
    "e2e": ("e2e.CHAIN_E2E", "e2e.ROUTER_E2E", "e2e.ROUTER_OTHERS"),
    "all": ("calendar.CHAIN", "calendar.ROUTER", "calendar.PARALLEL", "calendar.SCREEN",
            "calendar.SCREEN_PARAPHRASES", "e2e.CHAIN_E2E", "e2e.ROUTER_E2E",
            "e2e.ROUTER_OTHERS", "orchestra.ORCHESTRA"),
}  # fmt: skip
"""Each built-in name (or group) and where its suites are defined (module.NAME)."""


def builtin(name: str) -> list[Suite[Any, Any]]:
    """The built-in suites ``name`` stands for (``KeyError`` if none), imported now."""
    found = []
    for where in GROUPS[name]:
        module, _, attribute = where.partition(".")
        found.append(getattr(importlib.import_module(f"{__name__}.{module}"), attribute))
    return found
