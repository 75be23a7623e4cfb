"""What a cassette keeps of a request and an answer: no key, host, port or header but
``content-type``; the secrets seen while recording are harvested first."""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..core.plumbing import SECRET_PARAM, known, protect_logs, redact, url_secrets

KEPT_HEADERS = frozenset({"content-type"})


class Secrets(set[str]):
    """Secrets seen while recording one cassette: the environment's, then each request's."""

    @classmethod
    def from_environment(cls) -> Secrets:
        names = ("PATTERNS_API_KEY", "OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")
        found = cls(known(os.environ.get(name) for name in names))
        for name in ("PATTERNS_BASE_URL", "OPENAI_BASE_URL"):
            found |= url_secrets(os.environ.get(name, ""))
        protect_logs(found)  # vcrpy's and the HTTP stack's log records, while recording
        return found

    def harvest(self, request: Any) -> Any:
        """vcrpy hook: remember the request's credentials before anything drops them."""
        for name, value in request.headers.items():
            if name.lower() in {"authorization", "proxy-authorization"}:
                self |= credentials(value)
            elif name.lower() not in KEPT_HEADERS:
                self |= known([value]) if SECRET_PARAM.search(name) else set()
            if name.lower() in {"openai-organization", "openai-project"}:
                self |= known([value])
        self |= url_secrets(request.uri)
        protect_logs(self)
        return request


def credentials(authorization: str) -> set[str]:
    """The secrets in an Authorization header: a bearer token, or Basic user:password
    (what an HTTP client sends for a base URL with credentials in it)."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return known([value or scheme])
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return known([value])
    return known([password, f"{user}:{password}", value])


def scrub_request(request: Any) -> Any:
    """Keep only what matching needs: the method, the path, the body, safe query values."""
    request.headers = {k: v for k, v in request.headers.items() if k.lower() in KEPT_HEADERS}
    request.uri = scrub_uri(request.uri)
    return request


def scrub_uri(uri: str) -> str:
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, True) if not SECRET_PARAM.search(k)]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


def scrub_response(
    response: dict[str, Any], secrets: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """Only ``content-type`` headers; no echoed key or key-shaped string in the body; no
    field that changes on every recording of the same answer (``VOLATILE``: llama-server's
    ``timings``), so a re-recorded cassette differs only where the answer does."""
    response["headers"] = {
        k: v for k, v in response["headers"].items() if k.lower() in KEPT_HEADERS
    }
    body = response["body"].get("string")
    if isinstance(body, bytes):
        text = body.decode("utf-8", "replace")
        if (clean := redact(_steady(text), secrets)) != text:
            response["body"]["string"] = clean.encode()
    elif isinstance(body, str):
        response["body"]["string"] = redact(_steady(body), secrets)
    return response


VOLATILE = ("timings",)
"""Top-level fields of an answer that change on every run (speeds, durations)."""


def _steady(text: str) -> str:
    """The answer without its volatile fields (unchanged if it is not a JSON object)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict) or not any(k in data for k in VOLATILE):
        return text
    return json.dumps({k: v for k, v in data.items() if k not in VOLATILE}, ensure_ascii=False)
