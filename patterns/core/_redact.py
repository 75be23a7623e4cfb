"""Secrets out of everything this package writes: messages, logs, results, cassettes.

Two kinds of secret are removed: the ones we know (the configured key, a password or
a key in the base URL) and anything shaped like a credential (``sk-…``, a bearer
token, ``api-key=…``). Endpoints are shown as scheme, host, port and path only.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "[redacted]"

SECRET_PARAM = re.compile(r"key|token|secret|password|passwd|pwd|sig|auth|credential", re.I)
"""Query parameter names whose values are secrets (``?api-key=``, ``?sig=``, ``?token=``)."""

KEY_SHAPED = re.compile(
    r"sk-[A-Za-z0-9_\-]{16,}"  # OpenAI, Anthropic (sk-ant-), most proxies
    r"|(?<![A-Za-z0-9])(?:org|proj)[-_][A-Za-z0-9]{16,}"  # OpenAI organisation / project ids
    r"|Bearer\s+[A-Za-z0-9._~+/=\-]{12,}"
    r"|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}"
    r"|(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"  # user:password@ in a URL
    r"|(?i:(?<=api[-_]key=)|(?<=api_key\":\s\")|(?<=token=))[^&\s\"']{8,}",
)
"""Strings shaped like credentials, whatever their origin."""

_ANCHORS = ("sk-", "org-", "org_", "proj-", "proj_", "bearer", "akia", "aiza", "ghp_", "gho_",
            "ghu_", "ghs_", "ghr_", "xox", "api-key", "api_key", "token=")  # fmt: skip
"""What every ``KEY_SHAPED`` match but a URL's password contains, lower-cased: text with
none of them, and no ``_USERINFO``, holds no match and is not scanned (the scan costs
about ten times this test on an eval record)."""
_USERINFO = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
"""``user:password@`` in a URL (``KEY_SHAPED``'s last but one form), looked for apart: a
record names its model as ``name@base_url``, so an ``@`` alone is in every record."""
_FOLDS_TO_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u212a": "k", "\u017f": "s"})
"""Letters that the pattern's case-insensitive part matches as ASCII letters."""


def _may_hold_key(text: str) -> bool:
    if not text.isascii():
        text = text.translate(_FOLDS_TO_ASCII)
    low = text.lower()
    return any(anchor in low for anchor in _ANCHORS) or (
        "@" in text and _USERINFO.search(text) is not None
    )


MIN_KNOWN_SECRET = 6
"""Known secrets shorter than this are not searched for (they would match ordinary text)."""

NOT_SECRET = frozenset({"not-needed", "sk-no-key-required", "EMPTY", "none", "ollama"})
"""Placeholder keys that local servers accept: nothing to hide."""


def redact_url(url: str) -> str:
    """``url`` without userinfo, and with the values of secret query parameters hidden."""
    try:
        parts = urlsplit(str(url))
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
    except ValueError:
        return REDACTED  # not a URL we can take apart: show nothing of it
    query = [
        (name, REDACTED if SECRET_PARAM.search(name) else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="[]"), ""))


def url_secrets(url: str) -> set[str]:
    """The password and secret query values of ``url``, to be searched for elsewhere."""
    try:
        parts = urlsplit(str(url))
        found = {parts.password or ""}
    except ValueError:
        return set()
    found |= {v for k, v in parse_qsl(parts.query) if SECRET_PARAM.search(k)}
    return known(found)


def known(values: Iterable[str | None]) -> set[str]:
    """The values worth searching for: long enough, and not a placeholder."""
    return {v for v in values if v and len(v) >= MIN_KNOWN_SECRET and v not in NOT_SECRET}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every key-shaped string replaced."""
    for secret in sorted(known(secrets), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return KEY_SHAPED.sub(REDACTED, text) if _may_hold_key(text) else text


def find_secret(text: str, secrets: Iterable[str] = ()) -> str | None:
    """What kind of secret ``text`` holds (never the secret itself), or None."""
    if any(secret in text for secret in known(secrets)):
        return "a key, password or token this run was configured with"
    match = KEY_SHAPED.search(text) if _may_hold_key(text) else None
    return f"a credential-shaped string ({match.group(0)[:4]}…)" if match else None


# --- Logs ------------------------------------------------------------------------------------

_REGISTERED: set[str] = set()
"""Secrets configured in this process (keys, URL passwords), redacted from the logs below."""

LOGGERS = (
    "patterns",
    "evals",
    "openai",
    "httpx2",
    "httpx",
    "httpcore2",
    "httpcore",
    "vcr",
    "urllib3",
)
"""Logger name prefixes whose records are redacted: this package's, and the HTTP stack's,
which logs each request's full URL at INFO, userinfo included."""

_installed = False


def _redacting_factory(
    previous: Callable[..., logging.LogRecord],
) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.name.split(".", 1)[0] in LOGGERS:
            message = record.getMessage()
            clean = redact(message, _REGISTERED)
            if clean != message:
                record.msg, record.args = clean, ()
            if record.exc_info and record.exc_info[1] is not None:
                # A logged traceback carries the exception's text (an HTTP error names
                # the URL, password included): formatted and redacted here, once.
                text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
                record.exc_text = redact(text, _REGISTERED)
        return record

    return factory


def scrub(text: str) -> str:
    """``text`` without the secrets configured in this process, nor key-shaped strings:
    for whatever is written to disk (eval results, cached answers)."""
    return redact(text, _REGISTERED)


def protect_logs(secrets: Iterable[str] = ()) -> None:
    """Redact ``secrets`` (and anything key-shaped) from the records of this package's
    and its HTTP stack's loggers, child loggers included, from now on. A log record
    factory does it (a logger filter would miss records of child loggers); records are
    only built for enabled levels, so a quiet logger costs nothing. Called by
    ``LLM.from_env``."""
    global _installed
    _REGISTERED.update(known(secrets))
    if not _installed:
        logging.setLogRecordFactory(_redacting_factory(logging.getLogRecordFactory()))
        _installed = True
