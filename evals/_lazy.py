"""``scipy.stats``, imported when a statistic is first computed: it takes 1.7 s to import
on a 2-core machine, and a command that computes no interval should not wait for it."""

from __future__ import annotations

import importlib
from typing import Any


class _Stats:
    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("scipy.stats"), name)


stats: Any = _Stats()
"""``scipy.stats``, loaded on first use."""
