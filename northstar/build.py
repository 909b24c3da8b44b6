"""`northstar build`: run `dbt build` (seeds, models, data tests, unit tests) with the configured vars.

The venv's own dbt is run as a subprocess (never whatever `dbt` is on PATH), with the environment of
`Settings.dbt_env()` and `--vars` from `Settings.dbt_vars()`, so the CLI and Dagster build the same thing.
Progress is streamed one line per finished node; the outcome is read from dbt's run_results.json.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from northstar.config import PROJECT_DIR, Settings

# dbt's structured log events that mark a finished node (one progress line each).
_RESULT_EVENTS = {
    "LogModelResult",
    "LogSeedResult",
    "LogTestResult",
    "LogSnapshotResult",
    "LogNodeNoOpResult",
    "LogUnitTestResult",
    "SkippingDetails",
}
# Summary rows, in display order: dbt resource_type -> label.
_KINDS = {"seed": "seeds", "model": "models", "test": "data tests", "unit_test": "unit tests"}
_FAILED = {"error", "fail", "runtime error"}


def dbt_executable() -> Path:
    """The dbt of the running interpreter's environment."""
    exe = Path(sys.executable).parent / "dbt"
    if not exe.exists():
        raise FileNotFoundError(f"dbt not found at {exe}; install the project (make install)")
    return exe


def dbt_args(settings: Settings, *args: str) -> list[str]:
    """A dbt command line with the project, profiles and configured vars, e.g. dbt_args(s, 'build', '--select', 'x').

    Dagster reuses it (without the executable: `dbt_args(s, 'build')[1:]`) so both pass the same vars.
    """
    return [
        str(dbt_executable()),
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--vars",
        json.dumps(settings.dbt_vars(), sort_keys=True),
    ]


def dbt_subprocess_env(settings: Settings) -> dict[str, str]:
    """The current environment plus the settings dbt reads (warehouse path, threads, target and log dirs)."""
    return {**os.environ, **settings.dbt_env()}


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    resource_type: str
    name: str
    status: str
    message: str
    execution_time: float

    @property
    def failed(self) -> bool:
        return self.status in _FAILED


@dataclass
class BuildResult:
    success: bool
    log_path: Path
    nodes: list[NodeResult] = field(default_factory=list)
    elapsed_s: float = 0.0
    error: str | None = None  # a dbt error outside any node (project does not parse, warehouse locked ...)

    @property
    def failures(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.failed]

    def counts(self) -> dict[str, Counter[str]]:
        """Per resource type, how many nodes ended in each status (pass, success, error, fail, skipped ...)."""
        out: dict[str, Counter[str]] = {}
        for node in self.nodes:
            out.setdefault(node.resource_type, Counter())[node.status] += 1
        return out

    def summary(self) -> Group:
        """A rich renderable: passed / failed / skipped per kind, the time, and on failure the failing nodes."""
        table = Table(title="dbt build", title_justify="left")
        table.add_column("kind")
        for col in ("passed", "warned", "failed", "skipped"):
            table.add_column(col, justify="right")
        counts = self.counts()
        for kind, label in _KINDS.items():
            c = counts.get(kind, Counter())
            passed = c["pass"] + c["success"] + c["no-op"]
            failed = sum(c[s] for s in _FAILED)
            table.add_row(label, str(passed), str(c["warn"]), str(failed), str(c["skipped"]))
        parts: list[object] = [table]
        status = Text("succeeded", style="bold green") if self.success else Text("FAILED", style="bold red")
        parts.append(Text.assemble("build ", status, f" in {self.elapsed_s:.1f}s"))
        for node in self.failures:
            parts.append(Text(f"  {node.resource_type} {node.name}: {_first_lines(node.message)}", style="red"))
        if self.error:
            parts.append(Text(f"  {_first_lines(self.error, 6)}", style="red"))
        if not self.success:
            parts.append(Text(f"dbt log: {self.log_path}"))
        return Group(*parts)


def _first_lines(message: str, n: int = 3) -> str:
    lines = [ln.strip() for ln in (message or "").strip().splitlines() if ln.strip()]
    return " ".join(lines[:n]) if lines else "(no message)"


def _read_run_results(target_dir: Path, started: float) -> list[NodeResult]:
    path = target_dir / "run_results.json"
    if not path.exists() or path.stat().st_mtime < started - 1:
        return []  # dbt stopped before running anything (or the file is from an earlier run)
    data = json.loads(path.read_text(encoding="utf-8"))
    nodes = []
    for r in data.get("results", []):
        uid = r.get("unique_id", "")
        parts = uid.split(".")
        nodes.append(
            NodeResult(
                unique_id=uid,
                resource_type=parts[0] if parts else "",
                name=parts[-1] if parts else uid,
                status=str(r.get("status", "")).lower(),
                message=r.get("message") or "",
                execution_time=float(r.get("execution_time") or 0.0),
            )
        )
    return nodes


def _run_streaming(cmd: list[str], env: dict[str, str], on_line: Callable[[dict], None]) -> tuple[int, list[str]]:
    """Run dbt with JSON logs; call on_line for each structured event; return the exit code and error messages."""
    errors: list[str] = []
    with subprocess.Popen(
        cmd, env=env, cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            raw = raw.strip()
            if not raw:
                continue
            try:
                event = json.loads(raw)
            except json.JSONDecodeError:
                errors.append(raw)  # not a dbt event (a crash message): keep it for the summary
                continue
            info = event.get("info", {})
            if info.get("level") == "error" and info.get("name") not in _RESULT_EVENTS:
                errors.append(info.get("msg", ""))
            on_line(event)
        return proc.wait(), errors


def _progress_printer(console: Console) -> Callable[[dict], None]:
    def on_line(event: dict) -> None:
        info = event.get("info", {})
        if info.get("name") in _RESULT_EVENTS:
            msg = re.sub(r"\s*\.{3,}\s*", " ", " ".join(str(info.get("msg", "")).split()))
            style = "red" if info.get("level") == "error" else ("yellow" if info.get("level") == "warn" else None)
            console.print(Text(msg, style=style) if style else Text(msg), highlight=False)

    return on_line


def run_dbt_build(
    settings: Settings,
    select: list[str] | None = None,
    full_refresh: bool = False,
    console: Console | None = None,
) -> BuildResult:
    """`dbt build` with the configured vars; streams one line per node; never raises for a failed model/test."""
    console = console or Console(stderr=True)
    log_path = settings.dbt_log_dir / "dbt.log"
    setup_error = _ensure_raw_schema(settings)
    if setup_error:
        return BuildResult(success=False, log_path=log_path, error=setup_error)
    args = ["build", "--log-format", "json", "--no-use-colors"]
    if full_refresh:
        args.append("--full-refresh")
    for sel in _flatten(select):
        args += ["--select", sel]
    cmd = dbt_args(settings, *args)
    started = time.time()
    try:
        code, errors = _run_streaming(cmd, dbt_subprocess_env(settings), _progress_printer(console))
    except OSError as exc:
        return BuildResult(success=False, log_path=log_path, error=f"could not start dbt: {exc}")
    nodes = _read_run_results(settings.dbt_target_dir, started)
    elapsed = time.time() - started
    success = code == 0 and not any(n.failed for n in nodes)
    error = None
    if not success and not any(n.failed for n in nodes):
        error = "\n".join(e for e in errors if e) or f"dbt exited with code {code}"
    return BuildResult(success=success, log_path=log_path, nodes=nodes, elapsed_s=elapsed, error=error)


def _ensure_raw_schema(settings: Settings) -> str | None:
    """Create the raw tables if missing, so a build on a fresh warehouse gives empty marts instead of errors."""
    import duckdb

    from northstar.db import connect_warehouse
    from northstar.ingest.schema import ensure_raw_schema

    try:
        con = connect_warehouse(settings)
    except duckdb.Error as exc:
        return f"cannot open the warehouse {settings.warehouse_path}: {exc} (is another northstar command running?)"
    try:
        ensure_raw_schema(con)
    finally:
        con.close()
    return None


def _flatten(select: Iterable[str] | None) -> list[str]:
    # `--select "a b"` and repeated `--select a --select b` both work.
    return [part for sel in (select or []) for part in sel.split() if part]


def build_docs(settings: Settings) -> Path:
    """`dbt docs generate` into warehouse_dir/docs (a static single-file site included); returns the directory."""
    out = settings.warehouse_dir / "docs"
    out.mkdir(parents=True, exist_ok=True)
    cmd = dbt_args(settings, "docs", "generate", "--static", "--target-path", str(out))
    proc = subprocess.run(cmd, env=dbt_subprocess_env(settings), cwd=PROJECT_DIR, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-5:])
        raise RuntimeError(f"dbt docs generate failed (log {settings.dbt_log_dir / 'dbt.log'}):\n{tail}")
    return out
