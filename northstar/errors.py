"""The one error type a user can fix: the CLI prints it as one line and exits 2, never a traceback.

It sits at the bottom of the dependency order (cli/orchestration -> pipeline -> steps -> db/config/errors), so any
module can raise it without importing the CLI. ConfigError (config.py) and WarehouseMissingError (db.py) are
kinds of it.
"""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """An error the user can fix (a bad setting, a missing file, a wrong name); the message says how."""


def check_out(out: Path, suffixes: tuple[str, ...]) -> None:
    """An --out file must be of a kind the command writes, in a directory that exists (a typo creates nothing)."""
    if out.suffix.lower() not in suffixes:
        raise UserError(f"--out {out}: write {' or '.join(suffixes)} (not {out.suffix or 'a file without one'})")
    if out.is_dir():
        raise UserError(f"--out {out} is a directory: name a file in it")
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: the directory {out.parent} does not exist; create it first")
