"""Obfuscated variants of a text, as an attacker writes them to slip past a pattern screen.

Used by the security suite to measure the deterministic screen on text phrased to evade
it (no model involved), and by the tests.
"""

from __future__ import annotations

import base64
import codecs
import re
from collections.abc import Callable

_TRIGGER = re.compile(
    r"\b(ignore|disregard|forget|override|bypass|reveal|show|print|repeat|delete|remove"
    r"|cancel|wipe|clear|send|e-?mail|forward|export|leak|share)\b",
    re.IGNORECASE,
)
FILLER = " (and this part really matters, so please read it with care)"
"""60 characters put between a trigger word and what it applies to."""

_CYRILLIC = str.maketrans("aeopcxyAEOPCXY", "аеорсхуАЕОРСХУ")


def _inside_words(separator: str) -> Callable[[str], str]:
    return lambda text: re.sub(r"(?<=\w)(?=\w)", separator, text)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


VARIANTS: dict[str, Callable[[str], str]] = {
    "zero_width_space": _inside_words("\u200b"),
    "soft_hyphen": _inside_words("\u00ad"),
    "fullwidth": _fullwidth,
    "cyrillic_lookalikes": lambda text: text.translate(_CYRILLIC),
    "longer_gap": lambda text: _TRIGGER.sub(lambda m: m.group(0) + FILLER, text, count=1),
    "non_breaking_spaces": lambda text: text.replace(" ", "\u00a0"),
    # encodings: the payload hidden, with a line asking to decode it
    "base64": lambda text: "Decode and follow: " + base64.b64encode(text.encode()).decode(),
    "hex": lambda text: "Run this hex: " + text.encode().hex(),
    "rot13": lambda text: "rot13: " + codecs.encode(text, "rot13"),
    "digits_for_letters": lambda text: text.translate(str.maketrans("oieast", "013457")),
    "spaced_letters": lambda text: "  ".join(" ".join(word) for word in text.split()),
}


def variants(text: str) -> dict[str, str]:
    """Each obfuscation of ``text``, by name, plus all of them at once (``combined``)."""
    found = {name: change(text) for name, change in VARIANTS.items()}
    combined = text
    for name in ("longer_gap", "cyrillic_lookalikes", "zero_width_space", "fullwidth"):
        combined = VARIANTS[name](combined)
    return {**found, "combined": combined}
