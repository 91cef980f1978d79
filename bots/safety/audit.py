"""The sandbox child's audit hook (PEP 578): the innermost layer, and the only one when the kernel
offers no namespaces. Once added, a hook cannot be removed from Python code.

Any network, process, signal, ctypes or sub-interpreter use, any write outside the bot's directory
and any read outside the Python installation, the `bots` package and the bot's directory ends the
run at once (an exception could be caught by the bot and the attempt hidden).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

_BLOCKED_EXIT = 3

_BLOCKED_EVENTS = {
    "socket.": "network access",
    "urllib.Request": "network access",
    "http.client.": "network access",
    "ftplib.": "network access",
    "smtplib.": "network access",
    "poplib.": "network access",
    "imaplib.": "network access",
    "nntplib.": "network access",
    "telnetlib.": "network access",
    "webbrowser.open": "network access",
    "subprocess.Popen": "starting a process",
    "os.system": "starting a process",
    "os.exec": "starting a process",
    "os.posix_spawn": "starting a process",
    "os.spawn": "starting a process",
    "os.fork": "starting a process",
    "os.forkpty": "starting a process",
    "os.startfile": "starting a process",
    "pty.spawn": "starting a process",
    "os.kill": "sending a signal",
    "os.killpg": "sending a signal",
    "signal.pthread_kill": "sending a signal",
    "ctypes.": "native code (ctypes)",
    "resource.setrlimit": "changing resource limits",
    "resource.prlimit": "changing resource limits",
    "sqlite3.connect": "opening a database",
    "pickle.find_class": "unpickling",
    # Python audit hooks belong to one interpreter: a sub-interpreter would start without ours
    "cpython.PyInterpreterState_New": "starting a sub-interpreter",
    "os.symlink": "creating links",
    "os.link": "creating links",
    "os.chown": "changing file ownership",
    "os.setxattr": "changing file attributes",
    "os.removexattr": "changing file attributes",
}
_PATH_WRITE_EVENTS = {"os.mkdir", "os.remove", "os.rename", "os.rmdir", "os.chmod", "os.truncate", "os.utime"}
_PATH_READ_EVENTS = {"os.listdir", "os.scandir"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


# -- layer 3: the audit hook ------------------------------------------------------------------------


def _under(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)


def install_audit_hook(
    *,
    read_roots: list[str],
    write_roots: list[str],
    list_only: list[str],
    on_violation: Callable[[str, str], None],
) -> None:
    """Add the hook. `list_only`: directories that may be listed but not read below (sys.path
    entries holding more than the bot may see: the import system lists them to find a module).

    `on_violation(what, detail)` must end the process (os._exit); if it returns, the hook exits.
    """
    read_roots = [os.path.realpath(p) for p in read_roots]
    write_roots = [os.path.realpath(p) for p in write_roots]
    list_only = [os.path.realpath(p) for p in list_only]

    def refuse(what: str, detail: str) -> None:
        try:
            on_violation(what, detail)
        finally:
            os._exit(_BLOCKED_EXIT)

    def resolve(path: object) -> str | None:
        if isinstance(path, int):
            return None  # an already open descriptor
        try:
            text = os.fsdecode(path)  # type: ignore[arg-type]
        except TypeError:
            return None
        return os.path.realpath(os.path.join(os.getcwd(), text))

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path = resolve(args[0])
            if path is None:
                return
            mode, flags = args[1], args[2] if len(args) > 2 else 0
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing and not _under(path, write_roots):
                refuse("writing outside the bot's directory", path)
            if not writing and not _under(path, read_roots + write_roots):
                refuse("reading outside the bot's directory", path)
            return
        if event in _PATH_WRITE_EVENTS:
            path = resolve(args[0])
            if path is not None and not _under(path, write_roots):
                refuse("changing files outside the bot's directory", f"{event} {path}")
            if event == "os.rename" and len(args) > 1:
                target = resolve(args[1])
                if target is not None and not _under(target, write_roots):
                    refuse("changing files outside the bot's directory", f"{event} {target}")
            return
        if event in _PATH_READ_EVENTS:
            path = resolve(args[0] if args and args[0] is not None else ".")
            if path is not None and path not in list_only and not _under(path, read_roots + write_roots):
                refuse("listing outside the bot's directory", path)
            return
        for name, what in _BLOCKED_EVENTS.items():
            if event == name or (name.endswith(".") and event.startswith(name)) or event.startswith(name + "."):
                refuse(what, event)

    sys.addaudithook(hook)
