"""A pytest plugin for prompt regression tests on recorded LLM calls.

Install ``llm-workflow-patterns[testing]`` and enable it in a ``conftest.py``::

    pytest_plugins = ["patterns.testing"]

Then every test marked ``@pytest.mark.vcr``:

- replays its cassette (``cassettes/<test module>/<test name>.yaml`` beside the test
  file), never the network;
- matches each request by its JSON body (minus the keys in ``llm_unmatched_body_keys``),
  so a changed prompt, schema or setting fails with a diff and the command that
  re-records the test;
- fails if the run leaves recorded interactions unplayed (it made fewer calls);
- records no header but ``content-type`` and, of the URL, only the path and the query
  parameters that are not secret: cassettes hold no key, host or port, and replay
  under any base URL. A server that echoes the key has it removed from the answer, and
  a cassette that would still hold a secret is refused, not written.

These guarantees hold whatever ``vcr_config`` a project adds: its options are merged
with the plugin's (extra filters run before the plugin's scrubbing), and an option
that would switch a guarantee off is refused with the reason.

Fixtures: ``llm`` (the model under test: the environment's endpoint while recording,
a dummy one at replay), ``snapshot_json`` (syrupy as JSON, latencies masked) and
``llm_stub`` (a scripted endpoint for fault tests). ini options: ``llm_record_command``,
``llm_cassette_dir``, ``llm_unmatched_body_keys``, ``llm_structured_mode``.

Modules: ``_hooks`` and ``_fixtures`` (the plugin), ``_cassettes`` (format and matching),
``_scrub`` (what a cassette keeps), ``_guard`` (the refused options), ``stub`` (a scripted
endpoint).
"""

from ..core.plumbing import REDACTED

# The helpers, for projects that build their own rig.
from ._cassettes import CassetteSecretError, ReadableYAML, canonical_body, llm_body

# The plugin: pytest registers the hooks and fixtures it finds in this module.
from ._fixtures import (  # noqa: F401
    REPLAY_BASE_URL,
    Endpoint,
    llm,
    llm_endpoint,
    llm_stub,
    snapshot_json,
)
from ._guard import PLUGIN_CONFIG, REFUSED, RecordingConfigError, guarded_options
from ._hooks import (  # noqa: F401
    INI_OPTIONS,
    UnplayedInteractionsError,
    _every_interaction_played,
    pytest_addoption,
    pytest_recording_configure,
    pytest_runtest_makereport,
    record_command,
    vcr_cassette_dir,
    vcr_config,
)
from ._scrub import KEPT_HEADERS, Secrets, credentials, scrub_request, scrub_response, scrub_uri

__all__ = [
    "KEPT_HEADERS",
    "PLUGIN_CONFIG",
    "REDACTED",
    "REFUSED",
    "CassetteSecretError",
    "Endpoint",
    "ReadableYAML",
    "RecordingConfigError",
    "Secrets",
    "UnplayedInteractionsError",
    "canonical_body",
    "credentials",
    "guarded_options",
    "llm_body",
    "record_command",
    "scrub_request",
    "scrub_response",
    "scrub_uri",
]
