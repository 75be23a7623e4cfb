"""The plugin's guarantees, whatever ``vcr_config`` a project adds: refused options, and
the filters that always run."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from vcr import filters

from ._scrub import Secrets, scrub_request, scrub_response


class RecordingConfigError(ValueError):
    """A ``vcr_config`` (or ``vcr`` mark) asked for something that would make replays lie."""


PLUGIN_CONFIG: dict[str, Any] = {
    "serializer": "yaml",
    "match_on": ("method", "path", "llm_body"),
    "decode_compressed_response": True,
    "allow_playback_repeats": False,
    # Loopback stays reachable for the stub servers some tests start.
    "allowed_hosts": ["127.0.0.1", "localhost"],
}

REFUSED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "record_mode": (
        lambda value: True,
        "it would decide for every run whether tests may reach the network; pass "
        "--record-mode on the command line when you mean to record",
    ),
    "serializer": (
        lambda value: value != "yaml",
        "the plugin's serializer keeps cassettes readable and refuses to write secrets",
    ),
    "ignore_localhost": (
        bool,
        "requests to localhost would pass unrecorded: a recording that 'passes' with no "
        "cassette written",
    ),
    "ignore_hosts": (
        bool,
        "requests to those hosts would pass unrecorded: a recording that 'passes' with no "
        "cassette written",
    ),
    "match_on": (
        lambda value: (
            not {"method", "path", "llm_body"} <= set(value)
            or bool({"uri", "host", "port", "scheme"} & set(value))
        ),
        "requests must be matched by method, path and 'llm_body' (a changed prompt must "
        "fail), and cannot be matched by uri, host, port or scheme, which cassettes do not "
        "store; add matchers with additional_matchers",
    ),
    "allow_playback_repeats": (
        bool,
        "a test that makes more calls than were recorded would pass",
    ),
    "decode_compressed_response": (
        lambda value: not value,
        "a compressed answer cannot be scrubbed of secrets or read in a diff",
    ),
}


SEQUENCE = (list, tuple)


def _hooks(value: Any) -> bool:
    return callable(value) or (isinstance(value, SEQUENCE) and all(map(callable, value)))


TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "match_on": (lambda v: isinstance(v, SEQUENCE) and all(isinstance(m, str) for m in v),
                 "a list of matcher names"),
    "additional_matchers": (lambda v: isinstance(v, SEQUENCE) and all(map(callable, v)),
                            "a list of functions"),
    "filter_headers": (lambda v: isinstance(v, SEQUENCE), "a list of header names"),
    "filter_query_parameters": (lambda v: isinstance(v, SEQUENCE), "a list of names"),
    "filter_post_data_parameters": (lambda v: isinstance(v, SEQUENCE), "a list of names"),
    "allowed_hosts": (lambda v: isinstance(v, SEQUENCE) and all(isinstance(h, str) for h in v),
                      "a list of host names"),
    "before_record_request": (lambda v: _hooks(v), "a function or a list of functions"),
    "before_record_response": (lambda v: _hooks(v), "a function or a list of functions"),
    "decode_compressed_response": (lambda v: isinstance(v, bool), "true or false"),
    "allow_playback_repeats": (lambda v: isinstance(v, bool), "true or false"),
    "serializer": (lambda v: isinstance(v, str), "a serializer name"),
}  # fmt: skip
"""What each option must be: a value of another type fails here, naming the option,
instead of deep inside vcrpy with a bare TypeError."""


SERVER_ERRORS: list[int] = []
"""5xx answers left out of the recording of the current test (the plugin reports them)."""


def _no_server_errors(response: dict[str, Any]) -> dict[str, Any] | None:
    """A 5xx is not saved: recorded once, it would replay forever (``None`` leaves it out
    of the cassette; the test then fails, saying so)."""
    status = int((response.get("status") or {}).get("code", 200))
    if status >= 500:
        SERVER_ERRORS.append(status)
        return None
    return response


def guarded_options(
    options: dict[str, Any], secrets: Secrets, record_server_errors: bool = False
) -> dict[str, Any]:
    """The cassette options a project asked for, merged with the plugin's guarantees."""
    for name, (valid, expected) in TYPES.items():
        if name in options and not valid(options[name]):
            raise RecordingConfigError(
                f"patterns.testing: vcr option {name}={options[name]!r} is not {expected}."
            )
    for name, (refused, why) in REFUSED.items():
        if name in options and refused(options[name]):
            raise RecordingConfigError(
                f"patterns.testing refuses vcr option {name}={options[name]!r}: {why}."
            )
    merged = {**PLUGIN_CONFIG, **options}
    header_filters = [
        h if isinstance(h, tuple) else (h, None) for h in merged.pop("filter_headers", ())
    ]
    theirs_request = _as_tuple(merged.pop("before_record_request", merged.pop("before_record", ())))
    theirs_response = _as_tuple(merged.get("before_record_response", ()))
    merged["before_record_request"] = (
        secrets.harvest,  # first: their filters may drop the headers that carry the key
        functools.partial(filters.replace_headers, replacements=header_filters),
        *(_keeping(hook, "before_record_request") for hook in theirs_request),
        scrub_request,  # last: nothing they do can bring back what it removes
    )
    merged["before_record_response"] = (
        *(() if record_server_errors else (_no_server_errors,)),
        *(_keeping(hook, "before_record_response") for hook in theirs_response),
        functools.partial(scrub_response, secrets=secrets),
    )
    return merged


def _keeping(hook: Callable[[Any], Any], option: str) -> Callable[[Any], Any]:
    """A project's hook that may not drop what it is given: a hook returning None would
    leave the interaction out of the cassette, and the recording would 'pass'."""

    @functools.wraps(hook)
    def kept(item: Any) -> Any:
        result = hook(item)
        if result is None:
            name = getattr(hook, "__name__", repr(hook))
            raise RecordingConfigError(
                f"patterns.testing: the {option} hook {name} returned None, which would leave "
                "this interaction out of the cassette; return it (changed if you like)"
            )
        return result

    return kept


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if not value:
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)
