"""The sandboxed process that runs one uploaded bot once. Started only by `bots.safety.sandbox`.

Layers, outermost first (each one holds even if the ones inside it are bypassed); 1 and 2 live in
`confine.py`, 3 in `audit.py`:

1. Linux namespaces, set up before anything else is imported (unshare needs a single thread):
   a new user namespace (no capability in the host's), a network namespace (no interface but a
   down loopback: no network at all), a pid namespace (when its first process dies the kernel kills
   every process left in it) and a mount namespace in which the process is chrooted into a tmpfs
   holding only read-only binds of the Python installation, the venv, the `bots` package and /usr,
   plus its own work directory (read-only) with a small tmpfs `scratch/` to write to. All
   capabilities are then dropped, so the chroot and mounts cannot be undone.
2. Resource limits: address space, CPU seconds, open files, file size, no core dumps.
3. An audit hook (PEP 578, cannot be removed from Python) that ends the run on any network,
   process, ctypes or signal use, on writing outside the work directory and on reading outside
   the Python installation, the `bots` package and the work directory.

When namespaces are unavailable (a container without user namespaces) layers 2 and 3 still apply
and the result says which layers were active. Input comes from `input.json` in the work directory;
the one JSON result goes to the original stdout; anything the bot prints goes to stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import traceback

from .audit import install_audit_hook
from .confine import apply_limits, isolate, tighten_cpu

READY = b"\x00READY\n"
_BLOCKED_EXIT = 3


class _Result:
    """Writes the one result line to the fd the parent reads, whatever the bot did to stdout."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, payload: dict) -> None:
        data = (json.dumps(payload, default=str) + "\n").encode()
        while data:
            written = os.write(self.fd, data)
            data = data[written:]

    def ready(self) -> None:
        os.write(self.fd, READY)


# -- running the bot --------------------------------------------------------------------------------


def _bot_class(namespace: dict, custom_bot: type) -> type:
    classes = [
        value
        for value in namespace.values()
        if isinstance(value, type) and issubclass(value, custom_bot) and value.__module__ == "bot_upload"
    ]
    if len(classes) != 1:
        names = ", ".join(c.__name__ for c in classes) or "none"
        raise TypeError(f"the code must define exactly one CustomBot subclass (found: {names})")
    return classes[0]


def _error_line(exc: BaseException) -> str:
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == "bot.py"]
    where = f" (bot.py line {lines[-1]})" if lines else ""
    message = str(exc)[:500]
    return f"{type(exc).__name__}: {message}{where}" if message else f"{type(exc).__name__}{where}"


def run(spec: dict, result: _Result, layers: list[str]) -> None:
    with open(os.path.join(spec["work"], "input.json"), encoding="utf-8") as handle:
        payload = json.load(handle)
    with open(os.path.join(spec["work"], "bot.py"), encoding="utf-8") as handle:
        code = handle.read()
    model_bytes = {}
    for name, filename in payload.get("models", {}).items():
        with open(os.path.join(spec["work"], filename), "rb") as handle:
            model_bytes[name] = handle.read()

    # trusted imports, before the hook: what every bot needs
    import types

    import numpy  # noqa: F401
    import pandas  # noqa: F401

    import bots.sdk as sdk

    with contextlib.suppress(ImportError):
        import jsonschema  # noqa: F401  (CustomBot validates its config with it)
    loader = None
    if model_bytes:
        from bots.safety.models import load_model_file as loader

    # Models are loaded by our own loaders (skops with trusted types, onnxruntime) before the hook and
    # outside the bot's CPU budget; what protects against a hostile file here is the namespaces.
    models = {}
    for name, data in model_bytes.items():
        try:
            models[name] = loader(data)  # type: ignore[misc]
        except Exception as exc:
            result.write({"ok": False, "error": f"model {name!r}: {exc}", "stage": "models", "layers": layers})
            return
    del model_bytes
    frame = sdk.candles_frame(payload["candles"])
    module = types.ModuleType("bot_upload")
    module.__file__ = "bot.py"
    sys.modules["bot_upload"] = module  # dataclasses and typing look classes' modules up here

    cpu_seconds = float(spec["limits"]["cpu_seconds"])

    def out_of_cpu(signum: int, frame: object) -> None:
        # SIGXCPU at the soft limit (the pid namespace's first process would otherwise ignore it);
        # a bot stuck in C code past it meets SIGKILL at the hard limit one second later
        result.write({"ok": False, "error": f"the bot used more than {cpu_seconds:g} s of CPU time", "killed": "cpu"})
        os._exit(0)

    signal.signal(signal.SIGXCPU, out_of_cpu)
    tighten_cpu(cpu_seconds)
    scratch = os.path.join(spec["work"], "scratch")

    def blocked(what: str, detail: str) -> None:
        result.write({"ok": False, "error": f"blocked: {what} ({detail})", "blocked": what, "layers": layers})
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(_BLOCKED_EXIT)

    install_audit_hook(
        read_roots=spec["read_roots"] + [spec["work"]],
        write_roots=[scratch] if "chroot" in layers else [spec["work"]],
        list_only=list(sys.path),
        on_violation=blocked,
    )
    # from here on everything runs under the hook; sys.stdout writes to stderr (see main), so a bot
    # that prints cannot corrupt the result
    result.ready()
    stage = "load"
    try:
        exec(compile(code, "bot.py", "exec"), module.__dict__)  # noqa: S102 - this process is the sandbox
        cls = _bot_class(module.__dict__, sdk.CustomBot)
        stage = "init"
        bot = cls(payload.get("config") or {})
        if models:
            stage = "models"
            bot.load_models(models)
        stage = "analyze"
        action = bot.analyze_market(frame)
        if not isinstance(action, sdk.Action):
            raise TypeError(f"analyze_market must return an Action, got {type(action).__name__}")
        out = {"ok": True, "action": action.to_json(), "bot": cls.__name__, "layers": layers}
    except MemoryError:
        limit = spec["limits"]["memory_mb"]
        out = {"ok": False, "error": f"the bot ran out of memory (limit {limit} MB)", "killed": "memory"}
    except RecursionError:
        out = {"ok": False, "error": "RecursionError: maximum recursion depth exceeded", "stage": stage}
    except BaseException as exc:  # noqa: BLE001 - anything the bot raises is its result
        traceback.print_exception(exc, file=sys.stderr)
        out = {"ok": False, "error": _error_line(exc), "stage": stage}
    out.setdefault("layers", layers)
    result.write(out)


def main() -> None:
    spec = json.loads(sys.argv[1])
    # the parent reads the result from the original stdout; everything else goes to stderr
    result = _Result(os.dup(1))
    os.dup2(2, 1)
    apply_limits(spec["limits"])
    layers = isolate(spec)
    required = spec.get("require_namespaces", False)
    if required and not {"user", "net"} <= set(layers):
        result.write({"ok": False, "error": "sandbox isolation (user and network namespaces) is unavailable"})
        os._exit(2)
    with contextlib.suppress(OSError):
        os.nice(10)  # a runaway bot must not starve the worker that waits for it
    try:
        run(spec, result, layers)
    except MemoryError:
        limit = spec["limits"]["memory_mb"]
        result.write({"ok": False, "error": f"out of memory (limit {limit} MB)", "killed": "memory"})
    except BaseException as exc:  # noqa: BLE001 - report, never a traceback on the parent's side
        traceback.print_exception(exc, file=sys.stderr)
        result.write({"ok": False, "error": f"sandbox start-up failed: {type(exc).__name__}: {exc}"[:500]})
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)  # skip interpreter teardown: atexit handlers a bot registered never run
