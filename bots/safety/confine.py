"""Confining the sandbox child: Linux namespaces with a chroot, and resource limits.

Used only by `bots.safety.sandbox_child`, before it imports anything heavy: entering a user
namespace needs a single-threaded process, and numpy may start threads. Standard library only.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import resource
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME = 1 << 18, 1 << 21
PR_SET_NO_NEW_PRIVS = 38
# capset(2) has no libc wrapper everywhere; its syscall number differs by architecture
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


# -- layer 1: namespaces ----------------------------------------------------------------------------


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    libc.unshare.argtypes = [ctypes.c_int]
    return libc


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _write_proc(name: str, value: str) -> None:
    with open(f"/proc/self/{name}", "w") as handle:
        handle.write(value)


def _mount_flags(path: str, *, writable: bool) -> int:
    # a bind remount in a user namespace must keep the source's locked flags (nosuid, nodev,
    # noexec, atime) or the kernel refuses it
    st = os.statvfs(path)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (0 if writable else MS_RDONLY)
    if st.f_flag & os.ST_NOEXEC:
        flags |= MS_NOEXEC
    if st.f_flag & os.ST_NOATIME:
        flags |= MS_NOATIME
    if st.f_flag & os.ST_NODIRATIME:
        flags |= MS_NODIRATIME
    if st.f_flag & os.ST_RELATIME:
        flags |= MS_RELATIME
    return flags


def _bind(libc: ctypes.CDLL, root: str, src: str, *, writable: bool = False) -> None:
    dst = root + src
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "a"):
            pass
    _check(libc.mount(src.encode(), dst.encode(), None, MS_BIND | MS_REC, None), f"bind {src}")
    _check(libc.mount(None, dst.encode(), None, _mount_flags(src, writable=writable), None), f"remount {src}")


def _build_root(libc: ctypes.CDLL, spec: dict) -> None:
    """Chroot into a tmpfs holding only read-only binds of what the bot needs."""
    root, work = spec["root"], spec["work"]
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    _check(libc.mount(b"tmpfs", root.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"size=1m,mode=0755"), "tmpfs root")
    covered: list[str] = []
    for src in sorted(spec["binds"]):
        if any(src == c or src.startswith(c + "/") for c in covered) or not os.path.exists(src):
            continue
        _bind(libc, root, src)
        covered.append(src)
    for src in spec.get("optional_binds", []):
        with contextlib.suppress(OSError):  # e.g. no /etc/ld.so.cache: the loader searches default paths
            _bind(libc, root, src)
    for link in ("/lib", "/lib64", "/bin", "/sbin"):
        if os.path.islink(link):
            os.symlink(os.readlink(link), root + link)
        elif os.path.isdir(link) and link not in covered:
            _bind(libc, root, link)
    _bind(libc, root, work)  # read-only: code, models and input
    scratch = (root + work + "/scratch").encode()
    size = f"size={int(spec['scratch_mb'])}m,mode=0700".encode()
    _check(libc.mount(b"tmpfs", scratch, b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, size), "tmpfs scratch")
    _check(libc.mount(None, root.encode(), None, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_RDONLY, None), "ro root")
    os.chroot(root)
    os.chdir(work)


def _drop_capabilities(libc: ctypes.CDLL, capset: int) -> None:
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    header, data = Header(_LINUX_CAPABILITY_VERSION_3, 0), (Data * 2)()
    _check(libc.syscall(capset, ctypes.byref(header), data), "drop capabilities")


def _supervise(pid: int) -> None:
    """The process outside the pid namespace: wait for the bot and die the way it died. Never returns."""
    code = 1
    try:
        for fd in (0, 1, 2):
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            code = 128 + sig
            if sig not in (signal.SIGKILL, signal.SIGSTOP):
                signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
        else:
            code = os.waitstatus_to_exitcode(status)
    except BaseException:  # noqa: S110 - whatever happens, this process must not go on to run the bot
        pass
    os._exit(code)


def isolate(spec: dict) -> list[str]:
    """Enter the namespaces; return the layers that are active. Never raises."""
    layers: list[str] = []
    if not spec.get("namespaces", True):
        return layers
    capset = SYS_CAPSET.get(os.uname().machine)
    try:
        libc = _libc()
    except OSError:
        return layers
    uid, gid = os.getuid(), os.getgid()
    attempts = [(CLONE_NEWUSER | CLONE_NEWNET, ["user", "net"])]
    if capset is not None:
        # a chroot is only worth having when the capabilities that could undo it can be dropped
        attempts.insert(0, (CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID, ["user", "net", "mount", "pid"]))
    for flags, names in attempts:
        if libc.unshare(flags) == 0:
            layers = names
            break
    if not layers:
        return layers
    try:
        # the sandbox runs as an unprivileged uid inside; outside it is still the caller
        _write_proc("setgroups", "deny")
        _write_proc("uid_map", f"65534 {uid} 1")
        _write_proc("gid_map", f"65534 {gid} 1")
    except OSError:
        pass
    if "mount" in layers:
        try:
            _build_root(libc, spec)
            layers.append("chroot")
        except OSError as exc:
            print(f"sandbox: no chroot ({exc})", file=sys.stderr)
    try:
        if capset is None:
            raise OSError(0, f"unknown capset syscall on {os.uname().machine}")
        _drop_capabilities(libc, capset)
        layers.append("no-capabilities")
    except OSError as exc:
        print(f"sandbox: capabilities kept ({exc})", file=sys.stderr)
    if "pid" in layers:
        try:
            pid = os.fork()  # the namespace's first process; the bot runs there
        except OSError:
            layers.remove("pid")
            return layers
        if pid:
            _supervise(pid)
    return layers


# -- layer 2: resource limits -----------------------------------------------------------------------


def _limit(which: int, value: int) -> None:
    with contextlib.suppress(ValueError, OSError):  # e.g. a hard limit already lower: keep it
        resource.setrlimit(which, (value, value))


def apply_limits(limits: dict) -> None:
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_AS, int(limits["memory_mb"]) * 1024 * 1024)
    _limit(resource.RLIMIT_NOFILE, 64)
    _limit(resource.RLIMIT_FSIZE, int(limits["fsize_mb"]) * 1024 * 1024)
    # start-up (imports, model loading) has its own budget; `tighten_cpu` sets the bot's
    cpu = int(limits["startup_cpu_seconds"]) + int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def tighten_cpu(cpu_seconds: float) -> None:
    """From now on the bot gets `cpu_seconds` (whole seconds: RLIMIT_CPU's granularity)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + cpu_seconds)
    # SIGXCPU at soft, SIGKILL one second later (a pid namespace's first process ignores SIGXCPU)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
