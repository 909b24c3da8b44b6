"""`northstar build`: run `dbt build` (seeds, models, data tests) with the configured vars.

dbt unit tests check the models' SQL, not the day's data: they run in `make test` / CI
(tests/integration/test_dbt_settings.py) and with `northstar build --unit-tests`, not in production builds.

The venv's own dbt is run as a subprocess (never whatever `dbt` is on PATH), with the environment of
`Settings.dbt_env()` and `--vars` from `Settings.dbt_vars()`, so the CLI and Dagster build the same thing.
Progress is a rich progress bar fed by the streamed JSON events (nodes done of total, the node running), with
failed and warned nodes printed above it. The outcome is counted from the same streamed JSON events,
not from run_results.json: dbt does not write that file when it aborts mid-run (e.g. a DuckDB error outside
a model's SQL), and a summary of zeros after 90 nodes had run hid what happened.

On the spark target (Settings.target; docs/scale.md) the loader's raw.* tables are first exported from DuckDB to
Parquet, which Spark reads (northstar/spark/raw_export.py), and after a good build the marts Spark wrote become the
views publish and the quality checks read (northstar/spark/marts_source.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from northstar.config import PROJECT_DIR, Settings
from northstar.db import WarehouseLockedError, connect_warehouse, is_lock_conflict, locked_message
from northstar.terminal import make_console

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
# node_info.node_status values that end a node; unit tests leave it "None" and carry theirs in data.status.
_FINAL = {"success", "pass", "warn", "skipped", "no-op", *_FAILED}
_RUNTIME_ERROR_IN = re.compile(r"Runtime Error in \w+ \S+ \([^)]*\)$")
# dbt's words for a --select that matches nothing (a warning dbt is told to raise; see run_dbt_build)
_UNMATCHED = re.compile(r"selection criterion '(.+?)' does not match any enabled nodes")


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
        "--target",
        settings.dbt_target,
        "--vars",
        json.dumps(settings.dbt_vars(), sort_keys=True),
    ]


def exclude_args(unit_tests: bool = False) -> list[str]:
    """`--exclude-resource-type unit_test` unless unit tests are wanted; the CLI, `run` and Dagster use it.

    dbt's flag replaces DBT_EXCLUDE_RESOURCE_TYPES, so the types the environment excludes are kept.
    """
    types = os.environ.get("DBT_EXCLUDE_RESOURCE_TYPES", "").split()
    if not unit_tests and "unit_test" not in types:
        types.append("unit_test")
    return ["--exclude-resource-type", *types] if types else []


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
    total: int = 0  # nodes dbt selected; more than len(nodes) when it stopped early
    unmatched: list[str] = field(default_factory=list)  # --select values that match no node (nothing was built)

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
        if not self.success and self.total > len(self.nodes):
            parts.append(Text(f"  dbt stopped after {len(self.nodes)} of {self.total} nodes", style="red"))
        for node in self.failures:
            parts.append(Text(f"  {node.resource_type} {node.name}: {_first_lines(node.message)}", style="red"))
        if self.error:
            parts.append(Text(f"  {_first_lines(self.error, 6)}", style="red"))
        if not self.success:
            parts.append(Text(f"dbt log: {self.log_path}"))
        return Group(*parts)


def _first_lines(message: str, n: int = 3) -> str:
    lines = [ln.strip() for ln in (message or "").strip().splitlines() if ln.strip()]
    # dbt's "Runtime Error in model x (models/x.sql)" repeats the node the line already names
    if lines and _RUNTIME_ERROR_IN.match(lines[0]):
        lines = lines[1:]
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


class DbtEvents:
    """What dbt's JSON log says as it streams: one result per node and the error texts, in order."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeResult] = {}
        self.node_errors: dict[str, str] = {}  # unique_id -> the real error (DuckDB text, unit test diff ...)
        self.errors: list[str] = []  # dbt errors outside any node
        self.raw: list[str] = []  # lines that are not dbt events (a crash before logging started)
        self.unmatched: list[str] = []  # --select values dbt found no node for
        self.total = 0

    def feed(self, line: str) -> dict | None:
        """Record one line of dbt's output; returns the parsed event (None for a blank or non-JSON line)."""
        line = line.strip()
        if not line:
            return None
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            self.raw.append(line)
            return None
        info, data = event.get("info", {}), event.get("data", {})
        node = data.get("node_info") or {}
        uid = node.get("unique_id") or data.get("unique_id") or ""
        name = info.get("name")
        if name in _RESULT_EVENTS and uid:
            self._result(uid, node, data, info)
        elif name == "RunResultError" and uid:
            self.node_errors[uid] = _strip(data.get("msg") or info.get("msg"))  # dbt's final word on the node
        elif name == "GenericExceptionOnRun" and uid:
            self.node_errors.setdefault(uid, _strip(data.get("exc") or info.get("msg")))
        elif info.get("level") == "error" and not uid and name != "MainStackTrace":
            self.errors.append(_strip(data.get("exc") or info.get("msg")))
        if name in ("NoNodesForSelectionCriteria", "MainEncounteredError"):
            self.unmatched += [s for s in _UNMATCHED.findall(str(info.get("msg"))) if s not in self.unmatched]
        return event

    def _result(self, uid: str, node: dict, data: dict, info: dict) -> None:
        status = str(node.get("node_status", "")).lower()
        if status not in _FINAL:
            status = {"ok": "success"}.get(str(data.get("status", "")).lower(), str(data.get("status", "")).lower())
        self.total = max(self.total, int(data.get("total") or data.get("num_models") or 0))
        self.nodes[uid] = NodeResult(
            unique_id=uid,
            resource_type=node.get("resource_type") or uid.split(".")[0],
            name=node.get("node_name") or uid.split(".")[-1],
            status=status,
            message=_strip(info.get("msg")),
            execution_time=float(data.get("execution_time") or 0.0),
        )

    def results(self) -> list[NodeResult]:
        """Node results, a failed node's message replaced by its real error when dbt gave one."""
        return [
            replace(n, message=self.node_errors[n.unique_id]) if n.failed and n.unique_id in self.node_errors else n
            for n in self.nodes.values()
        ]

    def first_error(self, nodes: list[NodeResult], code: int) -> str | None:
        """The first error not already shown with a failed node, else None when nodes failed."""
        shown = {n.message for n in nodes if n.failed}
        for err in self.errors:
            if err and err not in shown and not any(err in m for m in shown):
                return err
        if any(n.failed for n in nodes):
            return None
        return "\n".join(self.raw[-6:]) or f"dbt exited with code {code}"


def _strip(text: object) -> str:
    return str(text or "").strip()


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that makes the kernel SIGKILL the dbt child when its parent dies (Linux; None elsewhere).

    Why not a process group of its own and signal handlers: SIGKILL (an orchestrator's timeout, the OOM killer,
    kill -9) cannot be caught, so the parent never gets to pass it on, and dbt would go on writing the warehouse
    and holding its lock with nobody reading its output. PR_SET_PDEATHSIG is set by the kernel and fires however
    the parent dies. It fires when the *thread* that started the child ends: run_dbt_build's thread waits for
    dbt, so that is the parent's death too. libc's prctl is looked up here, before the fork, so the child only
    makes one system call between fork and exec; a parent that died before that call is caught by getppid.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl: nobody is left to wait for dbt
            os._exit(1)

    return preexec


def _run_streaming(cmd: list[str], env: dict[str, str], events: DbtEvents, on_event: Callable[[dict], None]) -> int:
    """Run dbt with JSON logs, recording every line in `events` and calling on_event for each event; the exit code."""
    with subprocess.Popen(
        cmd,
        env=env,
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        preexec_fn=_die_with_parent(),
    ) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            event = events.feed(raw)
            if event is not None:
                on_event(event)
        return proc.wait()


class _BuildProgress:
    """A progress bar of dbt nodes done of total, naming the latest node running; a failed or warned node is
    printed above the bar as it ends. Fed one event at a time; without a terminal only the final bar is printed."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("dbt build"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}", markup=False),
            console=console,
        )
        self.task = self.progress.add_task("build", total=None, current="parsing the project")
        self.running: dict[str, str] = {}  # unique_id -> "model fct_sessions", in start order
        self.done: set[str] = set()
        self.total = 0

    def __enter__(self) -> _BuildProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.done:
            self.progress.update(self.task, current="")
        else:  # dbt stopped before any node (a bad --select, a project that does not parse): no empty bar left
            self.progress.live.transient = True
        self.progress.stop()

    def __call__(self, event: dict) -> None:
        info, data = event.get("info", {}), event.get("data", {})
        node = data.get("node_info") or {}
        uid, name = node.get("unique_id") or "", info.get("name")
        total = int(data.get("total") or data.get("num_models") or 0)
        if name == "LogStartLine" and uid:
            self.running[uid] = f"{node.get('resource_type', '')} {node.get('node_name', '')}".strip()
        elif name in _RESULT_EVENTS and uid:
            self.running.pop(uid, None)
            self.done.add(uid)
            if info.get("level") in ("error", "warn"):
                msg = re.sub(r"\s*\.{3,}\s*", " ", " ".join(str(info.get("msg", "")).split()))
                style = "red" if info.get("level") == "error" else "yellow"
                self.progress.console.print(Text(msg, style=style), highlight=False)
        elif name in ("FoundStats", "ConcurrencyLine"):  # parsed; dbt compiles and connects before node 1
            self.progress.update(self.task, current="starting")
            return
        else:
            return
        self.total = max(self.total, total)
        current = next(reversed(self.running.values()), "")
        self.progress.update(self.task, total=self.total or None, completed=len(self.done), current=current)


def run_dbt_build(
    settings: Settings,
    select: list[str] | None = None,
    full_refresh: bool = False,
    console: Console | None = None,
    unit_tests: bool = False,
) -> BuildResult:
    """`dbt build` with the configured vars; streams one line per node; never raises for a failed model/test.

    Unit tests are excluded unless `unit_tests`: a production build must not fail on a test of the SQL.
    Waits (bounded) for another process's lock on the warehouse before dbt starts; a WarehouseLockedError (one
    line) when it stays locked, also when dbt itself still finds it locked.
    """
    console = console or make_console(stderr=True)
    log_path = settings.dbt_log_dir / "dbt.log"
    if settings.target == "spark":
        from northstar.spark.metastore import check_spark_can_start

        check_spark_can_start(settings)  # one line, not pyspark's gateway traceback or a write into another warehouse
    setup_error = _ensure_raw_schema(settings)
    if settings.target == "spark" and not setup_error:
        setup_error = _export_raw_for_spark(settings, console)
    if setup_error:
        return BuildResult(success=False, log_path=log_path, error=setup_error)
    args = ["build", "--log-format", "json", "--no-use-colors", *exclude_args(unit_tests)]
    if full_refresh:
        args.append("--full-refresh")
    for sel in _flatten(select):
        args += ["--select", sel]
    if select:  # a selection that matches nothing is an error, before anything is built (dbt only warns)
        args += ["--warn-error-options", json.dumps({"error": ["NoNodesForSelectionCriteria"]})]
    cmd = dbt_args(settings, *args)
    started = time.time()
    events = DbtEvents()
    try:
        with _BuildProgress(console) as progress:
            code = _run_streaming(cmd, dbt_subprocess_env(settings), events, progress)
    except OSError as exc:
        return BuildResult(success=False, log_path=log_path, error=f"could not start dbt: {exc}")
    # run_results.json only when the stream had no node results (e.g. dbt's log format changed).
    nodes = events.results() or _read_run_results(settings.dbt_target_dir, started)
    elapsed = time.time() - started
    success = code == 0 and not any(n.failed for n in nodes) and not events.unmatched
    error = None if success else events.first_error(nodes, code)
    if not success and not nodes and error and is_lock_conflict(error):
        # Another process took the lock between our wait and dbt's open: the same one line as a wait that ran out.
        raise WarehouseLockedError(locked_message(settings.warehouse_path, error, 0))
    if success and settings.target == "spark":
        from northstar.spark.marts_source import write_marts_source

        write_marts_source(settings)  # views over the marts Spark wrote, for check and publish (milliseconds)
    return BuildResult(
        success=success,
        log_path=log_path,
        nodes=nodes,
        elapsed_s=elapsed,
        error=error,
        total=events.total,
        unmatched=events.unmatched,
    )


def _ensure_raw_schema(settings: Settings) -> str | None:
    """Create the raw tables if missing, so a build on a fresh warehouse gives empty marts instead of errors.

    It opens the warehouse read-write before dbt starts, so it is also where a build waits for another process's
    lock (connect_warehouse; WarehouseLockedError when the wait runs out).
    """
    import duckdb

    from northstar.ingest.schema import ensure_raw_schema

    try:
        con = connect_warehouse(settings)
        try:
            ensure_raw_schema(con)
        finally:
            con.close()
    except duckdb.Error as exc:  # not a DuckDB file, a full disk ...
        return f"cannot prepare the warehouse {settings.warehouse_path}: {' '.join(str(exc).split())}"
    return None


def _export_raw_for_spark(settings: Settings, console: Console) -> str | None:
    """raw.* to Parquet for Spark (the on-run-start hook makes Spark tables over it); one line with the rows."""
    import duckdb

    from northstar.spark.raw_export import export_line, export_raw_tables

    started = time.monotonic()
    try:
        with console.status("exporting raw.* to Parquet for Spark") as status:
            counts = export_raw_tables(
                settings, on_table=lambda table: status.update(f"exporting raw.{table} to Parquet for Spark")
            )
    except (duckdb.Error, OSError) as exc:
        return f"cannot export raw.* for Spark to {settings.spark_raw_path}: {' '.join(str(exc).split())}"
    console.print(export_line(counts, time.monotonic() - started), highlight=False, soft_wrap=True)
    return None


def _flatten(select: Iterable[str] | None) -> list[str]:
    # `--select "a b"` and repeated `--select a --select b` both work.
    return [part for sel in (select or []) for part in sel.split() if part]


def build_docs(settings: Settings) -> Path:
    """dbt docs as one page that opens offline from a file: warehouse_dir/docs/index.html; returns its path.

    dbt's own index.html fetches manifest.json and catalog.json, which browsers refuse for file:// pages;
    `--static` also writes static_index.html with both inlined. That page is kept, the rest of the run's
    artifacts are thrown away, and the page replaces the last one in one rename.
    """
    out = settings.warehouse_dir / "docs"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".dbt-docs-", dir=out) as target:
        connect_warehouse(settings).close()  # waits (bounded) for another process's lock, as a build does
        cmd = dbt_args(settings, "docs", "generate", "--static", "--target-path", target)
        proc = subprocess.run(
            cmd,
            env=dbt_subprocess_env(settings),
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            preexec_fn=_die_with_parent(),
        )
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.strip().splitlines()[-5:])
            raise RuntimeError(f"dbt docs generate failed (log {settings.dbt_log_dir / 'dbt.log'}):\n{tail}")
        page = out / "index.html"
        os.replace(Path(target) / "static_index.html", page)
    return page
