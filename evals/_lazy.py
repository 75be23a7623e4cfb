"""numpy, ``scipy.stats`` and ``scipy.special``, imported when a statistic is first computed:
``scipy.stats`` takes 1.7 s and about 50 MB more than ``scipy.special`` to import on a
2-core machine, so the intervals and tests every report computes use ``scipy.special``'s
distribution functions (the same code ``scipy.stats`` calls for them), and a command that
computes none waits for neither."""

from __future__ import annotations

import importlib
from typing import Any


class _Module:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, name)


stats: Any = _Module("scipy.stats")
"""``scipy.stats``, loaded on first use (ranks, Spearman's rho)."""
special: Any = _Module("scipy.special")
"""``scipy.special``, loaded on first use: beta, binomial and Student's t distributions."""
numpy: Any = _Module("numpy")
"""numpy, loaded on first use: a command that computes no statistic never imports it."""
