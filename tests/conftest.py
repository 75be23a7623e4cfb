from patterns import fixed_clock

# The `llm` fixture comes from the plugin: the embedded model (or PATTERNS_*) while
# recording, a dummy endpoint at replay, in the mode set by `llm_structured_mode`.
pytest_plugins = ["patterns.testing", "pytester"]

WEDNESDAY = fixed_clock("2026-11-25T10:00:00")
"""The day every recording believes it is: prompts that say today's date replay forever."""
