"""The injection screen: a deterministic guard the parallel pattern's security check runs
beside the model's verdict, measured on its own (the ``screen`` and
``screen_paraphrases`` suites).

    text -> normalise (compatibility forms, invisible characters, look-alike letters,
            case, spaces) -> readings (as written; decoded: base64, hex, rot13, digits
            for letters, spaced-out letters, layer within layer) -> patterns by
            category of manipulation, in English and in the languages users write in
            -> flags
"""

from __future__ import annotations

import base64
import binascii
import codecs
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
    r"programming|setup|guardrails|constraints|boundaries|filters|context window|"
    r"system message)"
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
        r"|\bnew (instructions?|rules|directives?|orders|polic(y|ies))\s*:"
        r"|\b(ignore|disregard|forget)\s+(all\s+|everything\s+)?(of\s+)?(the\s+)?above\b"
        r"|\b(rules|restrictions|guidelines|limits) (don'?t|do not) (exist|apply|matter)\b"
        r"|\byou (answer|report|listen) (only )?to\b.{0,40}?\bonly\b"
        # a new authority over the assistant, from a point in time or outright
        r"|\b(from (now|this point|here) on|starting now|henceforth)\b"
        r".{0,100}?\byou\b.{0,100}?\b(only|never|always|must|answer|obey|listen)\b"
        r"|\bobey (only )?me\b|\b(listen|answer) (only )?to me (alone|only)\b"
        r"|\bonly (obey|listen to|answer to) me\b"
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
        r"|\b(what|which) (\w+ ){0,2}(were you|have you been|are you) (told|given|instructed|"
        r"programmed)"
        r"|\b(repeat|quote|print|output|recite|copy|write out|show)\b.{0,40}?\b(the )?(text|"
        r"words|lines|messages?|everything) (above|before (this|my))\b"
        r"|\b(starting|starts|begins?|beginning) with ['\"]?you are\b"
        r"|\b(at|from) the (start|beginning) of (this|the|our) (conversation|chat|session)\b"
        # the assistant's own instructions, however they are asked for
        r"|\byour (\w+ ){0,2}(instructions|rules|prompts?|guidelines|directives|programming|"
        r"guardrails|constraints|limits|restrictions|context( window)?|configuration|setup|"
        r"system message)\b"
        # how it was set up, asked about or claimed
        r"|\b(were|are|was) you (\w+ )?(configured|set up|programmed|instructed|trained|"
        r"prompted|initiali[sz]ed)\b|\b(set|configured|programmed|prompted) you( up)?\b"
        r"|\b(instructions|rules|prompts?|guidelines|directives|constraints|polic(y|ies)) "
        r"((that )?you('ve| have| were| are| have been)?|(were|have) you( been)?) (\w+ ){1,2}"
        r"(with|under|by|on)\b"
        r"|\b(developers?|creators?|operators?|makers?|programmers?) (tell|told|instruct\w*|"
        r"ask\w*|program\w*|configur\w*) you\b|\bi have been pwned\b"
        r"|\b(what|which) " + _THEIR_SETUP + r" (do )?you (follow|have|obey|operate under)"
        r"|\b(text|message|content|everything) (that )?(came |comes |is )?(above|before) "
        r"(this|my) (message|line|conversation)"
        # secrets: keys, credentials, the environment, what is marked confidential
        r"|\b(api[ _-]?keys?|access tokens?|secret keys?|credentials|passwords?|"
        r"environment variables|env vars|[a-z]+_api_key)\b.{0,60}?\b(you|your|paste|show|"
        r"print|list|tell|give|reveal|send|share|using|use|have|see)\b"
        r"|\b(what|which|show|print|list|tell|give|reveal|paste)\b.{0,60}?\b(api[ _-]?keys?|"
        r"credentials|environment variables|env vars|[a-z]+_api_key)\b"
        r"|\b(confidential|marked secret|hidden instructions)\b"
        r"|\byour (\w+ ){0,2}(api[ _-]?keys?|access tokens?|tokens|secret keys?|secrets|"
        r"credentials|passwords?|environment variables)\b"
        r"|\b" + _THEIR_SETUP + r" (that )?you (run|operate|work|were set up|were started) "
        r"with\b|\bincluding (any|the|all|your) (api )?(keys|tokens|secrets|passwords)\b"
        r"|\b(exact|full|complete|original) (prompt|instructions|text) (the|that|your) "
        r"(developer|operator|system|creator)s?\b"
        r"|\bprompt (the|your) (developer|operator|creator)s? gave you\b"
        # what the assistant was told before the user came, referred to in any words
        r"|\b(what|whatever|everything|anything|all)( that)? (you (were|have been|'ve been|"
        r"got) (told|given|instructed|asked)|(was|were|has been|had been) (said|told|given|"
        r"written) to you)\b"
        r"|\bhow you (were|have been|are|got) (\w+ )?(instructed|told|programmed|set up|"
        r"configured|trained|prompted|designed) to\b"
        r"|\b(define|defines|govern|governs|control|controls|shape|shapes|determine|"
        r"determines|drive|drives) (your|the assistant'?s|the bot'?s|the model'?s) "
        r"(behaviou?r|responses|answers|personality|conduct|actions)\b"
        r"|\b(print|show|dump|output|reveal|display|list|tell)\b.{0,40}?\b(internal|hidden) "
        r"(state|variables|memory|data|settings|config\w*)\b"
    ),
    "role_change": (
        r"\bact(ing)? as (an? |the )?(\w+ ){0,2}(ai|assistant|model|bot|system|admin\w*|"
        r"developer|root|owner|superuser|dan)\b"
        r"|\b(you are now|you're now|you are no longer|you're no longer|"
        r"pretend (to be|you are|you're)|role-?play as|assume the (role|persona|identity)|"
        r"take on the (role|persona)|(switch|change) (to|into) \w+ mode|enter \w+ mode|"
        r"developer mode|god mode|jailbreak|unrestricted|unfiltered|uncensored)"
        r"|\bbehave (as|like) (a|an|the) (\w+ ){0,2}(ai|assistant|model|bot|system|admin\w*)\b"
        r"|\b(no|without (any )?)(rules|restrictions|limits|limitations|filters|guidelines|"
        r"safeguards|guardrails|constraints)\b.{0,30}?\b(ai|assistant|model|bot|mode|answer|"
        r"respond)\b"
        r"|\b(ai|assistant|model|bot)\b.{0,30}?\b((with|has|having) no|without( any)?) (rules|"
        r"restrictions|limits|limitations|filters|guidelines|safeguards|guardrails|"
        r"constraints)\b"
        # role-play and fiction as a frame for an order about the setup
        r"|\b(let'?s play a game|role-?play|pretend|imagine|hypothetically|in a story|"
        r"for a story|as a character)\b.{0,120}?\b(no rules|no restrictions|without "
        r"(any )?(rules|restrictions)|unrestricted|hidden|system prompts?|instructions|"
        r"admin\w*|deleting|delete)\b"
        r"|\b(you had|you have|with) no (rules|restrictions|limits|guidelines)\b"
        r"|\b(safety|content) (rules|filters?|guidelines) (are|is) (now )?(switched |turned )?"
        r"(off|disabled)\b|\bmaintenance mode\b"
        r"|\bskip (all |any )?(the )?(checks|validation|verification|confirmations?)\b"
        r"|\b(new|updated) instructions (supersede|replace|override)\b"
        r"|\btreat everything (before|above) this\b.{0,30}?\b(void|invalid|cancel+ed)\b"
        r"|\bdo exactly what i say\b"
        r"|\bstop (being|acting as) (a|an|the|my) (\w+ ){0,2}(assistant|bot|ai|model|"
        r"scheduler)\b|\byou are (now )?(a|an) (\w+ ){0,2}(shell|terminal|interpreter|"
        r"console)\b"
        # (f) compliance demanded, authority claimed over it
        r"|\byou (must|will|shall) (comply|obey)\b|\bthat'?s an order\b"
        r"|\bi (hereby )?(authori[sz]e|order|command|instruct) you to\b"
        # (g) an order addressed to the model inside the message
        r"|\b(task|instruction|order|command|note|message)s? (for|to) (the|this) (ai|"
        r"assistant|bot|model|llm)\b"
        # (h) a mode the assistant is told it is in; an evil or unrestricted double
        r"|\b(you'?re|you are|you'?ll be) (now )?in \w+ mode\b"
        r"|\b(debug|diagnostic|developer|admin|sudo|root|unsafe|unlocked|dev) mode\b"
        r"|\b(be|become|play|turn into) (my |an? |the )?(evil|rogue|dark|unhinged|unfiltered|"
        r"jailbroken|uncensored) (twin|version|clone|double|side|assistant|ai|bot)\b"
        # (i) a world without its rules, to act in
        r"|\b(there are|there're|there is|you have) no (rules|polic(y|ies)|restrictions|limits|"
        r"guidelines|guardrails|safeguards|constraints)\b"
        # (j) a new master: it works for, or takes orders from, the writer
        r"|\byou (now )?(work|answer|report) (for|to) me\b"
        r"|\byou no longer (work|answer|report) (for|to)\b"
        r"|\b(take|follow|accept) (your )?(orders|instructions|commands) (only )?from me\b"
    ),
    "hidden_markup": (
        r"</?(system|assistant|user|instructions?|admin|developer|sys)\b[^>]*>"
        r"|\[/?(inst|system|sys|admin|assistant)\]|<\|im_(start|end)\|>|<!--"
        r"|#{2,} ?(system|admin|assistant|developer|instructions?)\b"
        r"|```\s*(system|admin|instructions?)\b"
        r"|\bbegin (admin|system|developer) (command|instructions?|mode|message)\b"
        r"|(^|[.!?\n]\s*)(system|admin|administrator|developer|security|operator) "
        r"(update|notice|message|override|alert|instruction|command)s?\s*:"
    ),
    "destructive_action": (
        r"\b(delete|remove|cancel|wipe|clear|erase|purge|drop)\b.{0,100}?"
        r"\b(all|every|everything|entire|whole)\b"
        r"|\b(wipe|erase|purge|nuke)\b.{0,20}?\b(the|my|your|this) (calendar|schedule)\b"
    ),
    "data_exfiltration": (
        r"\b(send|e-?mail|forward|export|leak|share|upload|post|copy|transfer|grant)\b.{0,100}?"
        r"\b(passwords?|api keys?|credentials|tokens|secrets|contact (details|info\w*)|"
        r"(the )?(whole|entire|full|complete) calendar|(all|every) users?('s|')?|"
        r"other (users|people)('s)?|everyone's|full access|personal data)"
        r"|\b(send|e-?mail|forward|export|share|upload|copy|transfer|cc|bcc)\b.{0,40}?"
        r"\b(all|every|each)\b.{0,60}?\bto\s+\S+@\S+"
        r"|\b(send|e-?mail|mail|forward|export|share|upload|copy|transfer)\b.{0,40}?\b("
        r"contacts?|contact list|address book|attendees|invitees|calendar|events)\b.{0,30}?"
        r"\bto\s+\S+@\S+"
        r"|\b(print|show|list|tell|give|reveal|dump|output)\b.{0,60}?\b(other|all|every) "
        r"(users?|customers|accounts)\b"
        # secrets handed over, in any words; an outside address put on every event
        r"|\b(hand over|give|provide|disclose|surrender)\b.{0,40}?\b(stored|saved|cached|"
        r"all|the|your) (tokens|api keys|keys|passwords|credentials|secrets)\b"
        r"|\b(invite|add|cc|bcc|include)\s+\S+@\S+.{0,30}?\b(all|every|each)\b"
        r"|\b(copy|put|paste|list|collect|gather|dump|export)\b.{0,30}?\b(all|every|"
        r"everyone'?s)\b.{0,30}?\b(participants?|attendees?|invitees?|guests?|contacts?|"
        r"users?)('s|')? (e-?mails?|e-?mail addresses|addresses|phone numbers)\b"
    ),
}
OTHER_LANGUAGES: dict[ScreenFlag, str] = {
    # The same categories in Spanish, French, German, Italian, Portuguese and Chinese: an
    # order to drop the instructions, a request for them, a role without rules.
    "instruction_override": (
        r"\b(ignora\w*|olvida\w*|descarta|oublie\w*|ignore[zr]?|ignoriere\w*|vergiss|"
        r"dimentica\w*|esque[cç]a\w*|desconsidere)\b.{0,60}?\b(instrucciones|reglas|"
        r"indicaciones|instructions|r[eè]gles|consignes|anweisungen|regeln|vorgaben|"
        r"istruzioni|regole|instru[cç][oõ]es|regras)\b"
        r"|(忽略|无视|忘记|忘掉).{0,20}?(指令|指示|规则|提示)"
        # Dutch, Japanese, Korean, Russian (added 2026-12-08)
        r"|\b(negeer|vergeet)\b.{0,60}?\b(instructies|regels|richtlijnen|opdrachten)\b"
        r"|(指示|命令|ルール|プロンプト).{0,20}?(無視|忘れ)"
        r"|(지시|명령|규칙|프롬프트).{0,20}?(무시|잊어)"
        r"|(игнорируй\w*|забудь\w*|не обращай\w*).{0,60}?(инструкци\w*|правил\w*|указани\w*)"
        r"|\b(olvida\w*|ignora\w*|oublie\w*|vergiss\w*|dimentica\w*|esque[cç]a\w*)\b.{0,40}?"
        r"(\bte (dijeron|han dicho)|\bt'a (dit|été dit)|on t'a dit|\bdir gesagt|\bti (hanno|"
        r"è stato) detto|\bte disseram|\blo anterior\b|\btout ce qui pr[eé]c[eè]de|"
        r"\balles bisherige)"
    ),
    "system_prompt_request": (
        r"\b(prompt|mensaje|invite) (del? )?(sistema|syst[eè]me)\b|\bsystem-?prompt\b"
        r"|\bprompt di sistema\b|\bprompt do sistema\b|系统提示|システムプロンプト|시스템 프롬프트"
        r"|\bsysteemprompt\b|системн\w* (промпт|подсказк\w*|инструкци\w*)"
        r"|\b(je|jouw|uw) (\w+ )?(instructies|regels|richtlijnen)\b"
        r"|\b(твои|ваши) (\w+ )?(инструкции|правила)\b"
        r"|\b(muestra\w*|revela\w*|montre\w*|r[eé]v[eè]le\w*|zeig\w*|verrate?\w*|"
        r"mostra\w*|rivela\w*)\b.{0,60}?\b(instrucciones|instructions|consignes|anweisungen|"
        r"istruzioni|instru[cç][oõ]es|prompt)\b"
        # "your instructions" in any sentence, as in English
        r"|\b(tus|tes|vos|deine|ihre|le tue|i tuoi|tuas|suas) (\w+ )?(instrucciones|reglas|"
        r"instructions|r[eè]gles|consignes|anweisungen|regeln|istruzioni|regole|"
        r"instru[cç][oõ]es|regras)\b"
    ),
    "role_change": (
        r"\b(sin|sans|ohne|senza|sem) (reglas|restricciones|r[eè]gles|restrictions|regeln|"
        r"einschr[aä]nkungen|regole|restrizioni|regras|restri[cç][oõ]es)\b"
        r"|\b(eres ahora|tu es maintenant|du bist jetzt|ora sei|agora voc[eê] [eé])\b"
    ),
    "destructive_action": (
        r"\b(borra|elimina|supprime|efface|l[oö]sche|cancella|apague|exclua)\w*\b.{0,60}?"
        r"\b(todos|todas|tous|toutes|alle|tutti|tutte)\b"
        r"|(删除|清空).{0,10}?(所有|全部)"
    ),
}
"""Other languages, by the same categories (read on the normalised text)."""

_LOOKALIKES = str.maketrans(
    # Cyrillic and Greek letters that look like Latin ones, in both cases (a payload in
    # base64 is case-sensitive, so the mapping keeps case).
    "аеорсухіјѕԁһӏԛԝɡαεοριτυνκηχАВСЕНІЈКМОРЅТХУΑΒΕΗΙΚΜΝΟΡΤΥΧΖ",
    "aeopcyxijsdhlqwgaeopituvknxABCEHIJKMOPSTXYABEHIKMNOPTYXZ",
)

SCREEN = {
    # written as people write; read, like the text, with look-alike letters mapped (the
    # Cyrillic letters of a Russian order among them)
    flag: re.compile(
        (pattern + ("|" + OTHER_LANGUAGES[flag] if flag in OTHER_LANGUAGES else "")).translate(
            _LOOKALIKES
        ),
        re.IGNORECASE | re.DOTALL,
    )
    for flag, pattern in SCREEN_PATTERNS.items()
}


def _unmasked(text: str) -> str:
    """Compatibility forms folded, invisible format characters dropped, look-alike
    letters mapped to Latin; case and spacing kept (an encoded payload needs both)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").translate(_LOOKALIKES)


def _unaccented(text: str) -> str:
    """The text with its letters' accents taken off (a reading beside the accented one)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalise(text: str) -> str:
    """The text as the screen reads it: compatibility forms folded (fullwidth letters,
    ligatures, non-breaking spaces), invisible format characters dropped (zero-width
    spaces and joiners, soft hyphens, direction marks), look-alike letters mapped to
    Latin, case folded, every run of whitespace one space."""
    return " ".join(_unmasked(text).casefold().split())


_LEET = str.maketrans("013457@$", "oieastas")
_SPACED = re.compile(r"(?<!\S)(?:\S ){1,}\S(?!\S)")
_SPELLED = re.compile(r"(?<![\w.*·-])(?:[^\W\d_][-.*·_]){2,}[^\W\d_](?![\w*·-])")


def _joined(text: str) -> str:
    """Words written with a space or a sign between their characters, joined ("i g n o r
    e", "d-e-l-e-t-e"); a wider gap is a space between words."""
    text = _SPELLED.sub(lambda m: re.sub(r"[-.*·_]", "", m.group(0)), text)
    return " ".join(
        _SPACED.sub(lambda m: m.group(0).replace(" ", ""), chunk)
        for chunk in re.split(r"\s{2,}", text)
    )


_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){8,}\b")
DEPTH = 3
"""Layers of encoding read through (rot13 of base64 of hex is three)."""
MAX_READ = 20_000
"""Characters of a message the screen decodes (all of it is read as written)."""


def _printable(data: bytes) -> str | None:
    decoded = data.decode("utf-8", errors="ignore")  # a payload cut mid-character
    shown = "".join(c for c in decoded if c.isprintable() or c.isspace())
    return (
        shown
        if len(shown) >= 0.9 * max(len(decoded), 1) and any(c.isalpha() for c in shown)
        else None
    )


def _decoded(text: str) -> list[str]:
    """The base64 and hex runs of a text, decoded (a run cut short is read as far as it
    goes)."""
    found = []
    for run in _BASE64.findall(text):
        whole = run.rstrip("=")
        if len(whole) % 4 == 1:  # no whole byte in its last character: a run cut short
            whole = whole[:-1]
        whole += "=" * (-len(whole) % 4)  # padding left off (or cut) is put back
        try:
            decoded = _printable(base64.b64decode(whole, validate=True))
        except (binascii.Error, ValueError):
            continue
        found += [decoded] if decoded else []
    for run in _HEX.findall(text):
        decoded = _printable(bytes.fromhex(run))
        found += [decoded] if decoded else []
    return found


def readings(text: str, depth: int = DEPTH) -> list[str]:
    """The text as the screen reads it, once normalised (``normalise``): as written, and
    decoded the ways a payload is hidden, layer within layer (``DEPTH``): rot13, digits
    and signs read as letters ("1gn0r3"), spaced-out letters joined ("i g n o r e"), and
    base64 and hex runs decoded, from the text with its disguises (invisible characters,
    look-alike letters, fullwidth forms) taken off; and once more without accents."""
    plain = _unmasked(text[:MAX_READ])
    joined = _joined(plain)
    leet = plain.translate(_LEET)
    layers = [plain, codecs.encode(plain, "rot13"), leet, codecs.encode(leet, "rot13"),
              codecs.encode(plain, "rot13").translate(_LEET), joined,
              joined.translate(_LEET), codecs.encode(joined, "rot13")]  # fmt: skip
    found = [normalise(text), *(normalise(layer) for layer in layers[1:])]
    found.append(_unaccented(found[0]))  # "muéstrame" read as "muestrame" too
    if depth > 1:
        for layer in layers:
            for payload in _decoded(layer):
                found += readings(payload, depth - 1)
    return list(dict.fromkeys(found))


def screen(text: str) -> list[ScreenFlag]:
    """The deterministic layer of the security check: which patterns the text matches,
    in any of its readings (obfuscation and encodings must not be a way around it)."""
    seen = readings(text)
    return [flag for flag, pattern in SCREEN.items() if any(pattern.search(r) for r in seen)]
