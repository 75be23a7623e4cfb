"""The built-in suites, by name; ``calendar`` is the four calendar suites together."""

from __future__ import annotations

from ..suite import Suite
from .calendar import CHAIN, PARALLEL, ROUTER, SCREEN
from .orchestra import ORCHESTRA

BUILTIN: dict[str, list[Suite]] = {
    "chain": [CHAIN],
    "router": [ROUTER],
    "parallel": [PARALLEL],
    "screen": [SCREEN],
    "orchestra": [ORCHESTRA],
    "calendar": [CHAIN, ROUTER, PARALLEL, SCREEN],
    "all": [CHAIN, ROUTER, PARALLEL, SCREEN, ORCHESTRA],
}
