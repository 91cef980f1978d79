"""One long-lived event loop per process for the sync world (Django views, Celery tasks).

ccxt instances and aiohttp sessions belong to the loop they were made on; running each
call in a fresh ``asyncio.run`` would rebuild them every time and lose loaded markets.
Sync code calls ``run(coro)``; the coroutine runs on the process's loop thread.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_pid: int | None = None
_closers: list[Callable[[], Coroutine]] = []


def register_closer(closer: Callable[[], Coroutine], *, first: bool = False) -> None:
    """``await closer()`` runs on the loop at process exit (e.g. closing HTTP sessions);
    ``first``: before those registered so far (writing what is pending, before the clients
    close)."""
    if first:
        _closers.insert(0, closer)
    else:
        _closers.append(closer)


def current_loop() -> asyncio.AbstractEventLoop | None:
    """This process's loop if it was started (None otherwise; never starts one)."""
    return _loop if _pid == os.getpid() else None


@atexit.register
def _close() -> None:
    if _loop is None or _pid != os.getpid() or not _loop.is_running():
        return
    for closer in _closers:
        with contextlib.suppress(Exception):  # best effort at exit
            asyncio.run_coroutine_threadsafe(closer(), _loop).result(timeout=5)


def _start() -> asyncio.AbstractEventLoop:
    global _loop, _pid
    with _lock:
        if _loop is None or _pid != os.getpid() or not _loop.is_running():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="exchanges-runtime", daemon=True)
            thread.start()
            _loop, _pid = loop, os.getpid()  # a forked worker child starts its own loop
        return _loop


def loop() -> asyncio.AbstractEventLoop:
    """The process's loop (started on first use), for ``call_soon_threadsafe``."""
    return _start()


def run(coro: Coroutine[object, object, T], *, timeout: float | None = 60) -> T:
    """Run ``coro`` on the process's exchange loop and wait for its result."""
    future = asyncio.run_coroutine_threadsafe(coro, _start())
    try:
        return future.result(timeout=timeout)
    except TimeoutError:
        future.cancel()
        raise


def submit(coro: Coroutine) -> concurrent.futures.Future:
    """Start ``coro`` on the process's loop and return at once (best effort: a failure is
    logged, never raised to the caller)."""
    future = asyncio.run_coroutine_threadsafe(coro, _start())
    future.add_done_callback(_log_failure)
    return future


def _log_failure(future: concurrent.futures.Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("background call failed: %s", future.exception())
