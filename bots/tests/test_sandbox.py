"""The sandbox: uploaded code runs in a separate process that cannot reach the network, the disk
outside its directory, other processes or the worker's environment, and is stopped at its limits.

Each scenario costs one child process (~1-2 s of start-up: the interpreter, numpy and pandas), so
the scenarios of this module run once, concurrently, in a module-scoped fixture; the tests then
assert on their results.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import socket
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bots.safety.sandbox import Limits, SandboxResult, run_sandboxed, test_bot_code
from bots.sdk.candles import candles_to_rows
from bots.tests.test_safety import Payload, _classifier_onnx, _linear_onnx

PROJECT = Path(__file__).resolve().parents[2]
ROWS = [[1_700_000_000_000 + i * 3_600_000, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 10.0] for i in range(120)]


def bot(body: str, *, imports: str = "") -> str:
    """A CustomBot whose analyze_market runs `body` (indented by this helper)."""
    header = "from bots.sdk import Action, CustomBot\n" + imports + "\n\nclass Probe(CustomBot):\n"
    method = "    def analyze_market(self, candles):\n" + textwrap.indent(textwrap.dedent(body).strip(), " " * 8)
    return header + method + "\n"


GOOD = bot(
    """
    print("a bot may print; it goes to stderr")
    close = float(candles["close"].iloc[-1])
    return Action.buy(close, f"saw {len(candles)} candles", confidence=0.75)
    """
)


def _namespaces_available() -> bool:
    """Whether this kernel lets a process enter a new user + network namespace (probed in a fork)."""
    pid = os.fork()
    if pid == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        os._exit(0 if libc.unshare(0x10000000 | 0x40000000) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


@pytest.fixture(scope="module")
def listener():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture(scope="module")
def outcomes(listener, tmp_path_factory) -> dict[str, SandboxResult]:
    port = listener.getsockname()[1]
    outside = tmp_path_factory.mktemp("outside")
    marker = outside / "payload-ran"
    secrets = {"DATABASE_URL": "postgres://u:pw@db/x", "FERNET_KEYS": "k" * 44, "SECRET_KEY": "s3cr3t"}
    no_ns = Limits(use_namespaces=False)
    scenarios = {
        "good": (GOOD, {}, Limits()),
        "env": (
            bot("import os\nreturn Action.hold(','.join(sorted(os.environ)))", imports=""),
            {},
            Limits(),
        ),
        "cpu": (bot("while True:\n    pass"), {}, Limits(cpu_seconds=1, wall_seconds=20)),
        "wall": (bot("import time\nwhile True:\n    time.sleep(0.05)"), {}, Limits(wall_seconds=1)),
        "memory": (
            bot("import numpy as np\nblob = np.ones(2 * 1024**3, dtype=np.uint8)\nreturn Action.hold(str(blob.sum()))"),
            {},
            Limits(),
        ),
        "socket": (
            bot(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\nreturn Action.hold('in')"),
            {},
            Limits(),
        ),
        "raw socket, hook only": (
            bot(f"import socket\ns = socket.socket()\ns.connect(('127.0.0.1', {port}))\nreturn Action.hold('in')"),
            {},
            no_ns,
        ),
        "write outside": (bot(f"open({str(marker)!r}, 'w').write('x')\nreturn Action.hold('wrote')"), {}, Limits()),
        "write outside, hook only": (
            bot(f"open({str(marker)!r}, 'w').write('x')\nreturn Action.hold('wrote')"),
            {},
            no_ns,
        ),
        "write scratch": (
            bot("open('scratch/notes.txt', 'w').write('ok')\nreturn Action.hold(open('scratch/notes.txt').read())"),
            {},
            Limits(),
        ),
        "read passwd": (bot("return Action.hold(open('/etc/passwd').read()[:80])"), {}, Limits()),
        "read project": (
            bot(f"return Action.hold(open({str(PROJECT / 'pyproject.toml')!r}).read())"),
            {},
            Limits(),
        ),
        "what the chroot shows": (
            bot(
                f"""
                import os
                seen = [os.path.exists(p) for p in ({str(PROJECT / "pyproject.toml")!r}, "/etc/passwd", "/proc/1")]
                return Action.hold(repr(seen))
                """
            ),
            {},
            Limits(),
        ),
        "spawn": (
            bot("import subprocess\nreturn Action.hold(subprocess.check_output(['id']).decode())"),
            {},
            Limits(),
        ),
        "os.system, hook only": (bot("import os\nreturn Action.hold(str(os.system('true')))"), {}, no_ns),
        "ctypes": (bot("import ctypes\nctypes.CDLL(None).getpid()\nreturn Action.hold('native')"), {}, Limits()),
        "raises": (bot("return {'kind': 'BUY'}['nope']"), {}, Limits()),
        "not an action": (bot("return 'BUY'"), {}, Limits()),
        "models": (
            bot(
                """
                p = self.predict_with_model("clf", [[2.0, 0.0]], proba=True)[0][0]
                y = self.predict_with_model("../../net", [[1.0, 1.0, 1.0]])[0]
                return Action.hold(f"p={p:.2f} y={y:.1f}")
                """
            ),
            {"clf": _classifier_onnx(), "../../net": _linear_onnx()},  # a name is never a path
            Limits(),
        ),
        "pickle model": (bot("return Action.hold('never')"), {"m": pickle.dumps(Payload(marker))}, Limits()),
    }

    def run(item):
        name, (code, models, limits) = item
        return name, run_sandboxed(code=code, candles=ROWS, config={}, model_files=models, limits=limits)

    saved = {key: os.environ.get(key) for key in secrets}
    os.environ.update(secrets)  # the worker's secrets are in its environment; the child must not see them
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = dict(pool.map(run, scenarios.items()))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    results["_marker"] = marker  # type: ignore[assignment]
    return results


def test_a_well_behaved_bot_returns_its_action(outcomes):
    result = outcomes["good"]
    assert result.ok, (result.error, result.stderr_tail)
    assert result.action == {"kind": "BUY", "price": 219.5, "reason": "saw 120 candles", "confidence": 0.75}
    assert result.killed is None and result.error is None
    assert "a bot may print" in result.stderr_tail
    assert result.startup_ms is not None and result.duration_ms >= result.startup_ms


def test_the_child_gets_an_empty_environment(outcomes):
    result = outcomes["env"]
    assert result.ok, result.error
    names = set(result.action["reason"].split(","))
    assert not names & {"DATABASE_URL", "FERNET_KEYS", "SECRET_KEY", "REDIS_URL", "PATH", "HOME"}


def test_an_endless_loop_is_stopped_at_the_cpu_limit(outcomes):
    result = outcomes["cpu"]
    assert (result.ok, result.killed) == (False, "cpu")
    assert "CPU" in result.error


def test_a_sleeping_bot_is_stopped_at_the_wall_clock_limit(outcomes):
    result = outcomes["wall"]
    assert (result.ok, result.killed) == (False, "wall")
    assert "longer than 1 s" in result.error
    assert result.duration_ms - result.startup_ms < 5000


def test_allocating_2_gb_is_stopped_at_the_memory_limit(outcomes):
    result = outcomes["memory"]
    assert (result.ok, result.killed) == (False, "memory")
    assert "512 MB" in result.error


@pytest.mark.parametrize("scenario", ["socket", "raw socket, hook only"])
def test_network_access_is_blocked_and_reported(outcomes, listener, scenario):
    result = outcomes[scenario]
    assert not result.ok
    assert result.blocked == "network access", result.error
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing ever connected


@pytest.mark.parametrize("scenario", ["write outside", "write outside, hook only"])
def test_writing_outside_the_bot_directory_is_blocked(outcomes, scenario):
    result = outcomes[scenario]
    assert not result.ok and result.blocked == "writing outside the bot's directory", result.error
    assert not outcomes["_marker"].exists()


def test_the_bot_may_write_to_its_scratch_directory(outcomes):
    result = outcomes["write scratch"]
    assert result.ok, result.error
    assert result.action["reason"] == "ok"


@pytest.mark.parametrize("scenario", ["read passwd", "read project"])
def test_reading_outside_the_bot_directory_is_blocked(outcomes, scenario):
    result = outcomes[scenario]
    assert not result.ok and result.blocked == "reading outside the bot's directory", result.error
    assert result.action is None


@pytest.mark.parametrize(
    ("scenario", "blocked"),
    [
        ("spawn", "starting a process"),
        ("os.system, hook only", "starting a process"),
        ("ctypes", "native code (ctypes)"),
    ],
)
def test_processes_and_native_code_are_blocked(outcomes, scenario, blocked):
    result = outcomes[scenario]
    assert not result.ok and result.blocked == blocked, result.error


def test_an_exception_is_reported_with_its_line(outcomes):
    result = outcomes["raises"]
    assert not result.ok and result.killed is None
    assert result.error == "KeyError: 'nope' (bot.py line 6)"
    assert "Traceback" in result.stderr_tail


def test_an_answer_that_is_not_an_action_is_an_error(outcomes):
    result = outcomes["not an action"]
    assert not result.ok and "must return an Action" in result.error


def test_models_are_loaded_safely_in_the_child_and_handed_to_the_bot(outcomes):
    result = outcomes["models"]
    assert result.ok, (result.error, result.stderr_tail)
    assert result.action["reason"] == "p=0.98 y=6.5"


def test_a_pickled_model_is_refused_in_the_child_before_the_bot_runs(outcomes):
    result = outcomes["pickle model"]
    assert not result.ok and "Pickle files can run code" in result.error
    assert not outcomes["_marker"].exists()


def test_namespaces_are_used_where_the_kernel_allows_them(outcomes):
    if not _namespaces_available():
        pytest.skip("user namespaces are not available here: the sandbox runs on limits and the audit hook")
    layers = outcomes["good"].layers
    assert {"user", "net", "pid"} <= set(layers), layers


def test_in_the_chroot_the_project_and_the_host_do_not_exist(outcomes):
    # os.path.exists raises no audit event: this is the mount namespace alone at work
    result = outcomes["what the chroot shows"]
    if "chroot" not in result.layers:
        pytest.skip("no mount namespace here")
    assert result.action["reason"] == "[False, False, False]"


def test_static_check_refuses_before_anything_is_spawned():
    result = test_bot_code(code="import os\n" + GOOD, config={})
    assert not result.ok and result.duration_ms == 0
    assert "line 1: import of 'os' is not allowed" in result.error


def test_bot_code_runs_on_the_shipped_sample():
    from bots.data import sample_candles

    result = test_bot_code(code=GOOD, config={})
    assert result.ok, (result.error, result.stderr_tail)
    last = candles_to_rows(sample_candles("1h").tail(1))[0]
    assert result.action["price"] == last[4]
    assert result.action["reason"] == "saw 300 candles"
