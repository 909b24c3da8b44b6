"""Opening the DuckDB files: the build file read-write (one writer), the serving file read-only.

DuckDB lets one process at a time write a file (a reader of the build file also waits for a writer to finish).
Whoever opens the build file through connect_warehouse (load; build, before it starts dbt) or wait_for_lock
(publish) waits for another process's lock, up to LOCK_WAIT_S, saying once that it waits: a retry started right
after a kill -9 finds the dying process still holding the lock for a moment, and a second writer queues behind the
first instead of failing. After the wait it fails with one line naming the process that holds the lock.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb
from rich.text import Text

from northstar.config import Settings
from northstar.errors import UserError
from northstar.terminal import make_console

T = TypeVar("T")

# Seconds a command waits for another process's lock on the build warehouse before it gives up.
LOCK_WAIT_S = 60.0
_LOCK_POLL_S = 0.25
# DuckDB's words: `Could not set lock on file "<path>": Conflicting lock is held in <program> (PID <n>) ...`
_LOCK_CONFLICT = re.compile(r"Could not set lock on file|Conflicting lock is held")
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


class WarehouseMissingError(UserError, FileNotFoundError):
    """The warehouse or serving file a read needs is not there yet; the message names the command that makes it."""


class WarehouseLockedError(UserError):
    """Another process held the build warehouse's lock for longer than the wait; the message names it."""


def is_lock_conflict(error: BaseException | str) -> bool:
    """True for DuckDB's "another process holds this file's lock" error (from duckdb or from dbt's log)."""
    return bool(_LOCK_CONFLICT.search(str(error)))


def lock_holder(error: BaseException | str) -> str:
    """`PID 123 (/usr/bin/python3)` from DuckDB's lock error, or "another process" when it names none."""
    found = _LOCK_HOLDER.search(str(error))
    return f"PID {found.group(2)} ({found.group(1)})" if found else "another process"


def locked_message(path: Path, error: BaseException | str, waited_s: float) -> str:
    """The one line a command ends with when the warehouse stayed locked."""
    holder = lock_holder(error)
    pid = re.search(r"PID (\d+)", holder)
    fix = f"wait for it to finish or stop it (kill {pid.group(1)})" if pid else "wait for it to finish or stop it"
    return f"the warehouse {path} is locked by {holder} (waited {waited_s:.0f} s): {fix}"


def wait_for_lock(open_once: Callable[[], T], path: Path, wait_s: float | None = None) -> T:
    """open_once() again and again while another process holds path's lock, for up to wait_s (LOCK_WAIT_S).

    Prints one line when it starts waiting; raises WarehouseLockedError (one line, naming the holder) after it.
    Any other error is raised as it is.
    """
    wait_s = LOCK_WAIT_S if wait_s is None else wait_s
    started = time.monotonic()
    said = False
    while True:
        try:
            return open_once()
        except duckdb.Error as exc:
            if not is_lock_conflict(exc):
                raise
            waited = time.monotonic() - started
            if waited >= wait_s:
                raise WarehouseLockedError(locked_message(path, exc, waited)) from None
            if not said:
                note = f"waiting up to {wait_s:.0f} s for the warehouse lock on {path}, held by {lock_holder(exc)}"
                make_console(stderr=True).print(Text(note, style="yellow"), soft_wrap=True, highlight=False)
                said = True
            time.sleep(min(_LOCK_POLL_S, max(wait_s - waited, 0.0)))


def connect_warehouse(
    settings: Settings, read_only: bool = False, wait_s: float | None = None
) -> duckdb.DuckDBPyConnection:
    """The build warehouse. Creates the directory on write; explains a missing file on read; waits (bounded, see
    wait_for_lock) while another process holds the file."""
    path: Path = settings.warehouse_path
    if read_only and not path.exists():
        raise WarehouseMissingError(f"No warehouse at {path}: run `northstar load` (or `make demo`) first.")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = wait_for_lock(lambda: duckdb.connect(str(path), read_only=read_only), path, wait_s)
    con.execute(f"set memory_limit = '{settings.memory_limit}'")
    con.execute(f"set threads = {int(settings.threads)}")
    return con


# The serving and query paths can read the serving file and nothing else: no other file (read_csv, glob, ATTACH),
# no copy-out (COPY ... TO, EXPORT DATABASE), no extension install or load, no settings change (locked after
# these). `northstar query --out` writes its file itself, from the fetched result (serve/query.py).
SERVING_LOCKDOWN = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


def connect_serving(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The published serving file, read-only (a running build never blocks readers) and locked down as above."""
    path = settings.serving_path
    if not path.exists():
        raise WarehouseMissingError(f"No serving file at {path}: run `northstar publish` (or `make demo`) first.")
    config = {**SERVING_LOCKDOWN, "memory_limit": settings.memory_limit, "threads": int(settings.threads)}
    return duckdb.connect(str(path), read_only=True, config=config)
