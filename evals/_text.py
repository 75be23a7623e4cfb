"""Text from answers, ids and errors made safe to show: control characters visible, and
bare URLs that a Markdown viewer would turn into links made inert."""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""C0 and C1 control characters but tab, line feed and carriage return (an escape
sequence in a terminal, a character HTML and XML forbid, a NUL that cuts a cell)."""
URL = re.compile(r"(?i)\b(https?|ftp)(:)(?=//)|\b(www)(\.)(?=\w)")
ZWSP = "\u200b"


def visible(text: str) -> str:
    """Each control character written as ``\\xNN``, so it is seen, not obeyed."""
    return CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def unlinked(text: str) -> str:
    """``http://``, ``https://``, ``ftp://`` and ``www.`` broken by a zero-width space,
    so GitHub and GitLab do not autolink a model's URL in a PR comment."""
    return URL.sub(lambda m: (m[1] or m[3]) + ZWSP + (m[2] or m[4]), text)
