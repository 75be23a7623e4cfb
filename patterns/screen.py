"""The injection screen: a deterministic guard the parallel pattern's security check runs
beside the model's verdict, measured on its own (the ``screen`` and
``screen_paraphrases`` suites).

    text -> normalise (compatibility forms, invisible characters, look-alike letters,
            case, spaces) -> patterns by category of manipulation -> flags
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

ScreenFlag = Literal[
    "instruction_override",
    "system_prompt_request",
    "role_change",
    "hidden_markup",
    "destructive_action",
    "data_exfiltration",
]

_THEIR_SETUP = (
    r"(instructions?|rules|prompts?|guidelines|guidance|polic(y|ies)|directives?|"
    r"configuration|config|settings|restrictions|limits|safeguards|safety( \w+)?|"
    r"programming|setup)"
)
"""What an assistant is configured with: the object of every order about it."""

SCREEN_PATTERNS: dict[ScreenFlag, str] = {
    # Written by category of manipulation (orders about the assistant's instructions, its
    # role, revealing its setup, markup carrying orders, acting on everything or on other
    # people's data), from the dev split; measured on the test split and on held-out
    # paraphrases (evals/datasets/injection_paraphrases.yaml).
    "instruction_override": (
        r"\b(ignore|disregard|forget|override|bypass|skip|drop|discard|abandon|set aside|"
        r"stop following|no longer (follow|obey))\b.{0,100}?\b(" + _THEIR_SETUP[1:-1] + r"|"
        r"(what|everything) you (were|have been) (told|given))\b"
        r"|\b" + _THEIR_SETUP + r"\b.{0,100}?\b(no longer appl(y|ies)|(are|is) (now )?"
        r"(cancel+ed|void|lifted|revoked|suspended|off|disabled))"
        r"|\bnew (instructions?|rules|directives?|orders)\s*:"
        r"|\bfrom now on\b.{0,100}?\byou\b.{0,100}?\b(only|never|always|must|answer|obey)\b"
    ),
    "system_prompt_request": (
        r"\bsystem prompt\b|\b(initial|original|hidden|secret|underlying) (prompt|"
        r"instructions|rules|directives|guidelines)\b"
        r"|\b(reveal|show|print|repeat|output|display|tell|share|list|recite|dump|quote|"
        r"copy|paste|write out|give me)\b.{0,100}?\b(your|its)\b.{0,30}?\b" + _THEIR_SETUP + r"\b"
        r"|\b(reveal|show|print|repeat|output|display|tell|share|list|recite|dump|quote|"
        r"copy|paste|write out|give me)\b.{0,100}?\bthe\b.{0,30}?\b"
        + _THEIR_SETUP
        + r"\b.{0,40}?\b(above|you (were|have been) given|you (follow|obey|operate under)|"
        r"verbatim|word for word|in full)"
        r"|\b(what|which) (were you|have you been|are you) (told|given|instructed|programmed)"
        r"|\b(what|which) " + _THEIR_SETUP + r" (do )?you (follow|have|obey|operate under)"
        r"|\b(text|message|content|everything) (that )?(came |comes |is )?(above|before) "
        r"(this|my) (message|line|conversation)"
    ),
    "role_change": (
        r"\b(you are now|you're now|you are no longer|you're no longer|act as|"
        r"pretend (to be|you are|you're)|role-?play as|assume the (role|persona|identity)|"
        r"take on the (role|persona)|(switch|change) (to|into) \w+ mode|enter \w+ mode|"
        r"developer mode|god mode|jailbreak|unrestricted|unfiltered|uncensored)"
        r"|\bbehave (as|like) (a|an|the) (\w+ ){0,2}(ai|assistant|model|bot|system|admin\w*)\b"
        r"|\b(no|without (any )?)(rules|restrictions|limits|limitations|filters|guidelines|"
        r"safeguards)\b.{0,30}?\b(ai|assistant|model|bot|mode|answer|respond)\b"
        r"|\b(ai|assistant|model|bot)\b.{0,30}?\b(with|has|having) no (rules|restrictions|"
        r"limits|limitations|filters|guidelines)\b"
    ),
    "hidden_markup": (
        r"</?(system|assistant|user|instructions?|admin|developer|sys)\b[^>]*>"
        r"|\[/?(inst|system|sys|admin|assistant)\]|<\|im_(start|end)\|>|<!--"
        r"|#{2,} ?(system|admin|assistant|developer|instructions?)\b"
        r"|```\s*(system|admin|instructions?)\b"
        r"|\bbegin (admin|system|developer) (command|instructions?|mode|message)\b"
    ),
    "destructive_action": (
        r"\b(delete|remove|cancel|wipe|clear|erase|purge|drop)\b.{0,100}?"
        r"\b(all|every|everything|entire|whole)\b"
    ),
    "data_exfiltration": (
        r"\b(send|e-?mail|forward|export|leak|share|upload|post|copy|transfer|grant)\b.{0,100}?"
        r"\b(passwords?|api keys?|credentials|tokens|secrets|contact (details|info\w*)|"
        r"(the )?(whole|entire|full|complete) calendar|(all|every) users?('s|')?|"
        r"other (users|people)('s)?|everyone's|full access|personal data)"
    ),
}
SCREEN = {
    flag: re.compile(pattern, re.IGNORECASE | re.DOTALL)
    for flag, pattern in SCREEN_PATTERNS.items()
}

_LOOKALIKES = str.maketrans(
    # Cyrillic and Greek letters that look like Latin ones (lower case: text is folded first).
    "аеорсухіјѕԁһӏԛԝɡαεοριτυνκηχ",
    "aeopcyxijsdhlqwgaeopituvknx",
)


def normalise(text: str) -> str:
    """The text as the screen reads it: compatibility forms folded (fullwidth letters,
    ligatures, non-breaking spaces), invisible format characters dropped (zero-width
    spaces and joiners, soft hyphens, direction marks), look-alike letters mapped to
    Latin, case folded, every run of whitespace one space."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.casefold().translate(_LOOKALIKES).split())


def screen(text: str) -> list[ScreenFlag]:
    """The deterministic layer of the security check: which patterns the text matches,
    once normalised (obfuscation must not be a way around it)."""
    seen = normalise(text)
    return [flag for flag, pattern in SCREEN.items() if pattern.search(seen)]
