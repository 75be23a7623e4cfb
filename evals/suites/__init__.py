"""The built-in suites, by name; ``calendar``, ``e2e`` and ``all`` name groups of them."""

from __future__ import annotations

from typing import Any

from ..suite import Suite
from .calendar import CHAIN, PARALLEL, ROUTER, ROUTER_NEAREST, SCREEN, SCREEN_PARAPHRASES
from .e2e import CHAIN_E2E, ROUTER_E2E
from .orchestra import ORCHESTRA

BUILTIN: dict[str, list[Suite[Any, Any]]] = {
    "chain": [CHAIN],
    "router": [ROUTER],
    "router_nearest": [ROUTER_NEAREST],
    "parallel": [PARALLEL],
    "screen": [SCREEN],
    "screen_paraphrases": [SCREEN_PARAPHRASES],
    "orchestra": [ORCHESTRA],
    "chain_e2e": [CHAIN_E2E],
    "router_e2e": [ROUTER_E2E],
    "calendar": [CHAIN, ROUTER, PARALLEL, SCREEN, SCREEN_PARAPHRASES],
    "e2e": [CHAIN_E2E, ROUTER_E2E],
    "all": [CHAIN, ROUTER, PARALLEL, SCREEN, SCREEN_PARAPHRASES, CHAIN_E2E, ROUTER_E2E, ORCHESTRA],
}
