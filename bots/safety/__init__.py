"""Untrusted uploads: format inspection, safe model loaders, the static code check and the sandbox.

Names are imported lazily (PEP 562): the sandbox child imports `bots.safety.sandbox_child` before it
may load numpy (entering a user namespace needs a single-threaded process), and a web process
that only inspects uploads should not pay for onnxruntime or scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Verdict": "formats",
    "inspect_upload": "formats",
    "CodeReport": "code_check",
    "check_code": "code_check",
    "ModelLoadError": "models",
    "UnsafeModel": "models",
    "OnnxModel": "models",
    "TRUSTED_SKOPS_TYPES": "models",
    "load_skops": "models",
    "load_onnx": "models",
    "load_model": "models",
    "load_model_file": "models",
    "Limits": "sandbox",
    "SandboxResult": "sandbox",
    "run_sandboxed": "sandbox",
    "test_bot_code": "sandbox",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bots.safety' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
