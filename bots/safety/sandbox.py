"""Run uploaded bot code once, in a separate sandboxed process, never inside a worker.

`run_sandboxed` writes the code, the model files and the input (candles, config) to a fresh 0700
temporary directory, starts `python -I -S` on `bots.safety.sandbox_child` with an empty environment,
and reads one JSON result back. The child isolates itself (namespaces, chroot, resource limits, an
audit hook: see sandbox_child's docstring); this side enforces the wall clock, caps the output,
kills the whole process group when a limit is hit and tells which limit it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .code_check import check_code
from .sandbox_child import READY

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BOTS_DIR = PROJECT_ROOT / "bots"
STDERR_TAIL_BYTES = 4000
_NOISE = re.compile(
    r"cpuinfo|\[W:onnxruntime:|joblib will operate in serial mode|warnings\.warn\(\"%s\.  joblib will operate"
)
# after its output closes, how long the child may take to exit before its group is killed
EXIT_GRACE_SECONDS = 2.0

# The child starts with exactly this environment: never the worker's (DATABASE_URL, FERNET_KEYS ...).
# One thread per numeric library: a bot must not spread over every core of the machine.
CHILD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_MAX_THREADS": "1",
}

_BOOTSTRAP = (
    "import sys, json; spec = json.loads(sys.argv[1]); sys.path[:] = spec['sys_path']; "
    "from bots.safety.sandbox_child import main; main()"
)


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 2
    wall_seconds: float = 5
    memory_mb: int = 512
    output_bytes: int = 64_000
    #: start-up (interpreter, numpy/pandas, model loading) is not the bot's time: its own budgets
    startup_wall_seconds: float = 30
    startup_cpu_seconds: int = 20
    scratch_mb: int = 16
    #: refuse to run when user+network namespaces are unavailable (production should set this)
    require_namespaces: bool = False
    #: False skips the namespaces (tests of the inner layers: limits and the audit hook)
    use_namespaces: bool = True


@dataclass(frozen=True)
class SandboxResult:
    ok: bool
    action: dict | None
    error: str | None
    killed: str | None  # "cpu" | "wall" | "memory" | None
    duration_ms: int
    stderr_tail: str
    #: the isolation layers that were active, e.g. ["user", "net", "mount", "pid", "chroot", ...]
    layers: list[str] = field(default_factory=list)
    #: what the audit hook stopped, e.g. "network access", when the run was blocked
    blocked: str | None = None
    #: time from spawn until the bot's code started (interpreter + imports + models)
    startup_ms: int | None = None


def _python_paths() -> list[str]:
    paths = sysconfig.get_paths()
    stdlib = paths["stdlib"]
    candidates = [stdlib, os.path.join(stdlib, "lib-dynload"), paths["platstdlib"], paths["purelib"], paths["platlib"]]
    out: list[str] = []
    for path in candidates:
        real = os.path.realpath(path)
        if os.path.isdir(real) and real not in out:
            out.append(real)
    return out


def _spec(*, base: str, work: str, limits: Limits) -> dict[str, Any]:
    python_paths = _python_paths()
    project = str(PROJECT_ROOT)
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), os.path.realpath(sys.exec_prefix)}
    return {
        "sys_path": [*python_paths, project],
        "work": work,
        "root": os.path.join(base, "root"),
        # what the chroot shows, read-only: /usr (shared libraries), the interpreter, the venv, bots/
        "binds": sorted({"/usr", *prefixes, str(BOTS_DIR), os.path.realpath(sys.executable)}),
        "optional_binds": ["/etc/ld.so.cache"],
        "read_roots": [*python_paths, str(BOTS_DIR), "/usr/share/zoneinfo"],
        "scratch_mb": limits.scratch_mb,
        "require_namespaces": limits.require_namespaces,
        "namespaces": limits.use_namespaces,
        "limits": {
            "cpu_seconds": limits.cpu_seconds,
            "memory_mb": limits.memory_mb,
            "fsize_mb": limits.scratch_mb,
            "startup_cpu_seconds": limits.startup_cpu_seconds,
        },
    }


def _prepare(base: str, *, code: str, candles: list[list], config: dict, model_files: dict[str, bytes]) -> str:
    os.mkdir(os.path.join(base, "root"), 0o700)  # the child's chroot mounts a tmpfs here
    work = os.path.join(base, "work")
    os.mkdir(work, 0o700)
    os.mkdir(os.path.join(work, "scratch"), 0o700)
    Path(work, "bot.py").write_text(code, encoding="utf-8")
    names = {}
    for index, (name, data) in enumerate(model_files.items()):
        # never use the uploaded name as a path: it could be "../../x"
        filename = f"model_{index}.bin"
        Path(work, filename).write_bytes(data)
        names[str(name)] = filename
    Path(work, "input.json").write_text(
        json.dumps({"candles": candles, "config": config, "models": names}), encoding="utf-8"
    )
    return work


class _Run:
    """Reads the child's stdout (result) and stderr (tail) until it exits or a limit is hit."""

    def __init__(self, process: subprocess.Popen, limits: Limits) -> None:
        self.process = process
        self.limits = limits
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.killed: str | None = None
        self.error: str | None = None
        self.started = time.monotonic()
        self.ready_at: float | None = None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the whole group: the child and anything it started

    def pump(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ, "stdout")
        selector.register(self.process.stderr, selectors.EVENT_READ, "stderr")
        open_streams = 2
        while open_streams:
            now = time.monotonic()
            if self.ready_at is None:
                deadline = self.started + self.limits.startup_wall_seconds
            else:
                deadline = self.ready_at + self.limits.wall_seconds
            if now >= deadline:
                self.killed = "wall"
                self.kill()
                break
            for key, _ in selector.select(timeout=deadline - now):
                chunk = os.read(key.fileobj.fileno(), 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                elif key.data == "stderr":
                    self.stderr += chunk
                    del self.stderr[:-STDERR_TAIL_BYTES]
                else:
                    self._stdout(chunk)
            if self.error:
                break
        selector.close()

    def _stdout(self, chunk: bytes) -> None:
        self.stdout += chunk
        if self.ready_at is None and self.stdout.startswith(READY):
            self.ready_at = time.monotonic()
            del self.stdout[: len(READY)]
        if len(self.stdout) > self.limits.output_bytes:
            self.error = f"the bot produced more than {self.limits.output_bytes} bytes of output"
            self.kill()


def _without_noise(text: str) -> str:
    # start-up chatter of the libraries in a chroot without /proc; an author wants their own output
    return "".join(line for line in text.splitlines(keepends=True) if not _NOISE.search(line))


def _reap(run: _Run, *, grace: float) -> tuple[int, Any]:
    """Wait for the child (its exit status and resource usage), killing its group after `grace`.

    The group is always killed in the end: a bot that closed its output and kept running must not
    outlive the call, and the wall clock no longer watches it once its pipes are closed.
    """
    pid = run.process.pid
    deadline = time.monotonic() + grace
    # WNOWAIT: see the exit without reaping, so the pid (the group's id) cannot be reused before
    # the group is killed below
    while time.monotonic() < deadline:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            break
        time.sleep(0.01)
    run.kill()
    _, status, usage = os.wait4(pid, 0)
    run.process.returncode = os.waitstatus_to_exitcode(status)
    return status, usage


def _classify_exit(status: int, usage: Any, run: _Run, limits: Limits) -> tuple[str | None, str | None]:
    """(killed, error) for a child that left no result."""
    cpu = usage.ru_utime + usage.ru_stime
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and run.ready_at and cpu >= limits.cpu_seconds):
            return "cpu", f"the bot used more than {limits.cpu_seconds:g} s of CPU time and was stopped"
        if usage.ru_maxrss >= 0.9 * limits.memory_mb * 1024:
            return "memory", f"the bot exceeded its memory limit ({limits.memory_mb} MB) and was stopped"
        return None, f"the bot's process died with {name}"
    return None, f"the bot's process exited with code {os.waitstatus_to_exitcode(status)} without a result"


def _parse_result(raw: bytes) -> dict | None:
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        value = json.loads(text.splitlines()[-1])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _validated_action(action: Any) -> tuple[dict | None, str | None]:
    # the child is untrusted too: re-validate what it claims the bot answered
    from bots.sdk.actions import Action

    try:
        return Action.from_json(action).to_json(), None
    except (ValueError, TypeError) as exc:
        return None, f"the bot returned an invalid action: {exc}"


def run_sandboxed(
    *,
    code: str,
    candles: list[list],
    config: dict,
    model_files: dict[str, bytes] | None = None,
    limits: Limits = Limits(),  # noqa: B008 - frozen dataclass, safe as a default
) -> SandboxResult:
    """Run `code` (defining one CustomBot subclass) once on `candles` in a sandboxed process.

    `model_files` maps the names the bot passes to `predict_with_model` to skops/ONNX bytes; the
    child loads them with the safe loaders and hands them to `bot.load_models`. This does not run
    the static check (callers do, see `test_bot_code`): the sandbox holds on its own.
    """
    base = tempfile.mkdtemp(prefix="botsandbox-")  # 0700
    started = time.monotonic()
    try:
        work = _prepare(base, code=code, candles=candles, config=config, model_files=model_files or {})
        spec = _spec(base=base, work=work, limits=limits)
        process = subprocess.Popen(  # noqa: S603 - fixed argv: our interpreter and our bootstrap
            [sys.executable, "-I", "-S", "-B", "-X", "utf8", "-c", _BOOTSTRAP, json.dumps(spec)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=work,
            env=dict(CHILD_ENV),
            close_fds=True,
            start_new_session=True,  # its own process group, killed as one
        )
        run = _Run(process, limits)
        try:
            run.pump()
        finally:
            status, usage = _reap(run, grace=0.0 if run.killed or run.error else EXIT_GRACE_SECONDS)
            process.stdout.close()
            process.stderr.close()
        duration_ms = int((time.monotonic() - started) * 1000)
        startup_ms = int((run.ready_at - run.started) * 1000) if run.ready_at else None
        stderr_tail = _without_noise(run.stderr.decode("utf-8", "replace"))
        return _result(run, status, usage, limits, duration_ms, startup_ms, stderr_tail)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _result(
    run: _Run, status: int, usage: Any, limits: Limits, duration_ms: int, startup_ms: int | None, stderr_tail: str
) -> SandboxResult:
    common = {"duration_ms": duration_ms, "stderr_tail": stderr_tail, "startup_ms": startup_ms}
    if run.killed == "wall":
        error = f"the bot ran longer than {limits.wall_seconds:g} s and was stopped"
        if run.ready_at is None:
            error = f"the sandbox did not start within {limits.startup_wall_seconds:g} s"
        return SandboxResult(ok=False, action=None, error=error, killed="wall", **common)
    if run.error:
        return SandboxResult(ok=False, action=None, error=run.error, killed=None, **common)
    payload = _parse_result(bytes(run.stdout))
    if payload is None:
        killed, error = _classify_exit(status, usage, run, limits)
        return SandboxResult(ok=False, action=None, error=error, killed=killed, **common)
    layers = [str(layer) for layer in payload.get("layers") or []]
    if payload.get("ok") is True:
        action, error = _validated_action(payload.get("action"))
        return SandboxResult(ok=action is not None, action=action, error=error, killed=None, layers=layers, **common)
    killed = payload.get("killed") if payload.get("killed") in ("cpu", "wall", "memory") else None
    blocked = payload.get("blocked") if isinstance(payload.get("blocked"), str) else None
    error = str(payload.get("error") or "the bot failed")[:1000]
    return SandboxResult(ok=False, action=None, error=error, killed=killed, layers=layers, blocked=blocked, **common)


def sample_candles_rows(count: int = 300) -> list[list]:
    """The last `count` candles of the shipped hourly BTC/USDT sample, as ccxt-style rows."""
    from bots.data import sample_candles
    from bots.sdk.candles import candles_frame, candles_to_rows

    frame = candles_frame(sample_candles("1h"))
    return candles_to_rows(frame.tail(count))


def test_bot_code(
    *,
    code: str,
    model_files: dict[str, bytes] | None = None,
    config: dict | None = None,
    limits: Limits = Limits(),  # noqa: B008 - frozen dataclass, safe as a default
) -> SandboxResult:
    """Check `code` statically, then run it once in the sandbox on the last 300 sample candles."""
    report = check_code(code)
    if not report.ok:
        error = "the code was refused by the static check: " + "; ".join(report.problems)
        return SandboxResult(ok=False, action=None, error=error, killed=None, duration_ms=0, stderr_tail="")
    return run_sandboxed(
        code=code, candles=sample_candles_rows(), config=config or {}, model_files=model_files or {}, limits=limits
    )


test_bot_code.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name
