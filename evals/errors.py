"""The one error base of the evals library: every refusal it raises is an ``EvalsError``
(one line, naming what is wrong; exit code 2 on the command line, a full disk 3)."""

from __future__ import annotations


class EvalsError(Exception):
    """Anything the evals library refuses or cannot finish, in one line."""
