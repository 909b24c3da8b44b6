"""Publish the marts for readers: a new serving DuckDB file and a Parquet export, each swapped in atomically.

Readers never open the build file. `publish` copies every relation of schema `marts` of the build warehouse
into a fresh file next to the serving file, written in a storage version that DuckDB 1.x clients (the CLI, the
JDBC and ODBC drivers BI tools ship) can read, adds friendly views and a `northstar_meta` table, and only then
renames it over `serving.duckdb` with `os.replace`. A reader that has the old file open keeps its snapshot (on
POSIX the old inode lives on until it closes); a reader that opens afterwards sees the new file whole.

The Parquet export goes to a new versioned directory; `parquet` is a symlink to it, replaced atomically too,
so a reader resolving `parquet/<mart>.parquet` sees either every old file or every new one. Nothing is swapped
until both the serving file and the Parquet files are complete: a failure anywhere leaves the last good
outputs untouched.

On the spark target the marts come from the Parquet Spark wrote (northstar/spark/marts_source.py makes a DuckDB
file of views over it); everything after reading them is the same.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
from rich.console import Group
from rich.table import Table

from northstar.config import PROJECT_DIR, Settings
from northstar.db import wait_for_lock
from northstar.errors import UserError

SERVING_SCHEMA = "marts"
PARQUET_VERSIONS_DIR = ".parquet_versions"
# Parquet versions kept: the current one and the ones just replaced, which a slow reader may still be reading.
PARQUET_VERSIONS_KEPT = 3
# The serving file is published read-only for everyone (r--r--r--): only publish replaces it, by rename.
SERVING_FILE_MODE = 0o444

# Friendly views for the common questions, created in schema `main` of the serving file so that
# `select * from kpi_daily` works in any client. DuckDB 1.x readers bind them, so they use only plain SQL
# (joins, sums, date_trunc). A view whose marts are missing is skipped and reported.
VIEW_DESCRIPTIONS: dict[str, str] = {
    "kpi_daily": "Daily KPIs per channel and campaign (last touch: a conversion counts in its own session), "
    "with the campaign's name and platform.",
    "funnel": "Sessions reaching each funnel stage per day and channel, closed (stages in order) and open, "
    "with step conversion and drop-off.",
    "campaigns": "Monthly campaign performance with target and break-even CPA, PRR and the recommendation "
    "(scale / keep / fix / cut) with its reason, plus the campaign's name and platform.",
    "scorecard": "Each KPI per month and scope against its target: attainment, on track; is_north_star marks "
    "the north star.",
    "alerts": "KPI changes that are both large and statistically significant (the last 1, 3 and 7 days against the "
    "same weekdays of the 4 weeks before; docs/alerts.md).",
    "attribution": "Macro conversions credited to channels per month under every attribution model: "
    "conversions credited, attributed revenue, gross margin and value.",
}


# Where each view's column descriptions come from: the marts it selects from, in order (columns a view
# computes itself are described in ATTRIBUTION_COLUMNS). BI tools show them next to the column names.
VIEW_COLUMN_SOURCES: dict[str, list[str]] = {
    "kpi_daily": ["fct_kpi_daily", "dim_campaigns"],
    "funnel": ["fct_funnel_daily"],
    "campaigns": ["fct_campaign_performance", "dim_campaigns"],
    "scorecard": ["fct_kpi_scorecard"],
    "alerts": ["fct_kpi_alerts"],
    "attribution": ["fct_attributed_conversions"],
}
ATTRIBUTION_COLUMNS = {
    "month": "First day of the month the conversions count in (kpi_date: an order's feed day, else the "
    "converting session's day), as in the campaigns view and the scorecard.",
    "model": "Attribution model: the rules first_touch, last_touch, last_non_direct, linear, position_based, "
    "time_decay, or markov and shapley, learned from the journeys (fct_attribution_channel_weights).",
    "conversions": "Macro conversions credited to the channel by the model (sum of credit).",
}


def _with_campaign_names(alias: str, mart: str, columns: dict[str, set[str]]) -> str:
    """`select x.*, <name and platform of the campaign>` without duplicating columns the mart already has."""
    extra = [c for c in ("campaign_name", "platform") if c not in columns[mart]]
    if "dim_campaigns" not in columns or not extra:
        return f"select {alias}.* from marts.{mart} as {alias}"
    picked = "".join(f", c.{c} as {c}" for c in extra)
    return (
        f"select {alias}.*{picked} from marts.{mart} as {alias} "
        f"left join marts.dim_campaigns as c on c.campaign_key = {alias}.campaign_key"
    )


def _attribution_sql(columns: dict[str, set[str]]) -> str:
    have = columns["fct_attributed_conversions"]
    sums = ["sum(a.credit) as conversions"] + [
        f"sum(a.{c}) as {c}" for c in ("attributed_revenue", "attributed_gross_margin", "attributed_value") if c in have
    ]
    # The month of kpi_date, the day fct_campaign_performance and fct_kpi_scorecard count a conversion on, so the
    # view's monthly totals are theirs (marts from before kpi_date existed have only conversion_date).
    day = "kpi_date" if "kpi_date" in have else "conversion_date"
    return (
        f"select cast(date_trunc('month', a.{day}) as date) as month, a.model as model, "
        f"a.channel as channel, {', '.join(sums)} "
        "from marts.fct_attributed_conversions as a group by 1, 2, 3"
    )


def friendly_views(columns: dict[str, set[str]]) -> dict[str, str]:
    """The view SQL for the marts present; `columns` maps each mart to its column names."""
    views: dict[str, str] = {}
    if "fct_kpi_daily" in columns:
        views["kpi_daily"] = _with_campaign_names("k", "fct_kpi_daily", columns)
    if "fct_funnel_daily" in columns:
        views["funnel"] = "select * from marts.fct_funnel_daily"
    if "fct_campaign_performance" in columns:
        views["campaigns"] = _with_campaign_names("p", "fct_campaign_performance", columns)
    if "fct_kpi_scorecard" in columns:
        views["scorecard"] = "select * from marts.fct_kpi_scorecard"
    if "fct_kpi_alerts" in columns:
        views["alerts"] = "select * from marts.fct_kpi_alerts"
    if {"credit", "conversion_date", "model", "channel"} <= columns.get("fct_attributed_conversions", set()):
        views["attribution"] = _attribution_sql(columns)
    return views


class PublishError(UserError):
    """Publishing could not complete; the last good serving file and Parquet export are untouched."""


@dataclass
class PublishResult:
    serving_path: Path
    parquet_dir: Path
    row_counts: dict[str, int]
    views: list[str]
    skipped_views: list[str]
    published_at: datetime
    data_through: date | None
    code_revision: str
    storage_version: str
    seconds: float = 0.0
    parquet_files: list[Path] = field(default_factory=list)
    source: str = ""  # where the marts were read from

    def summary(self) -> Group:
        """What was published, for the CLI and the Dagster log."""
        table = Table(title="Published marts", title_justify="left")
        table.add_column("mart")
        table.add_column("rows", justify="right")
        for name, count in sorted(self.row_counts.items()):
            table.add_row(name, f"{count:,}")
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="dim")
        facts.add_column()
        if self.source:
            facts.add_row("marts from", self.source)
        facts.add_row("serving file", f"{self.serving_path} (DuckDB storage {self.storage_version}, read-only)")
        facts.add_row("Parquet", str(self.parquet_dir))
        facts.add_row("data through", self.data_through.isoformat() if self.data_through else "no data")
        facts.add_row("views", ", ".join(self.views) or "none")
        if self.skipped_views:
            facts.add_row("views skipped", ", ".join(self.skipped_views) + " (their marts are missing)")
        facts.add_row("code revision", self.code_revision)
        facts.add_row("took", f"{self.seconds:.1f} s")
        return Group(table, facts)


def code_revision(project_dir: Path = PROJECT_DIR) -> str:
    """The git commit the code runs from, or "unknown" outside a checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project_dir, capture_output=True, text=True, timeout=10, check=True
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _check_storage_version(version: str) -> str:
    if not re.fullmatch(r"v\d+\.\d+\.\d+", version):
        raise UserError(f"NORTHSTAR_SERVING_STORAGE_VERSION={version!r} is not a DuckDB storage version like v1.2.0")
    return version


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list_marts(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = con.execute(
        """
        select table_name from duckdb_tables() where database_name = ? and schema_name = ?
        union
        select view_name from duckdb_views() where database_name = ? and schema_name = ? and not internal
        order by 1
        """,
        [catalog, SERVING_SCHEMA, catalog, SERVING_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def _data_through(con: duckdb.DuckDBPyConnection, marts: Iterable[str]) -> date | None:
    """The last day with data: the last day of fct_kpi_daily (int_data_through: the last day with sessions or
    spend; no KPI-dated mart goes past it), else max session_date of fct_sessions."""
    marts = set(marts)
    candidates = [("fct_kpi_daily", "date"), ("fct_kpi_daily", "kpi_date"), ("fct_sessions", "session_date")]
    for mart, column in candidates:
        if mart not in marts:
            continue
        cols = {r[0] for r in con.execute(f"describe marts.{_quote_ident(mart)}").fetchall()}
        if column in cols:
            value = con.execute(f"select max({_quote_ident(column)}) from marts.{_quote_ident(mart)}").fetchone()[0]
            if isinstance(value, datetime):
                return value.date()
            return value
    return None


def _warehouse_comments(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Table and column comments of the marts in catalog `wh` (dbt writes them from the models' YAML:
    persist_docs in dbt_project.yml); CREATE TABLE AS does not copy them."""
    tables = dict(
        con.execute(
            """
            select table_name, comment from duckdb_tables() where database_name = 'wh' and schema_name = ?
                and comment is not null
            union all
            select view_name, comment from duckdb_views() where database_name = 'wh' and schema_name = ?
                and comment is not null
            """,
            [SERVING_SCHEMA, SERVING_SCHEMA],
        ).fetchall()
    )
    columns: dict[str, dict[str, str]] = {}
    for table, column, comment in con.execute(
        "select table_name, column_name, comment from duckdb_columns() "
        "where database_name = 'wh' and schema_name = ? and comment is not null",
        [SERVING_SCHEMA],
    ).fetchall():
        columns.setdefault(table, {})[column] = comment
    return tables, columns


def _comment_columns(con: duckdb.DuckDBPyConnection, relation: str, comments: dict[str, str]) -> None:
    for column, comment in comments.items():
        con.execute(f"comment on column {relation}.{_quote_ident(column)} is {_quote_str(comment)}")


def _write_serving_file(
    con: duckdb.DuckDBPyConnection, settings: Settings, tmp_path: Path, marts: list[str], meta: dict[str, object]
) -> tuple[dict[str, int], list[str], list[str]]:
    """Copy the marts from catalog `wh` into a new file at tmp_path; add the views and northstar_meta."""
    version = _check_storage_version(settings.serving_storage_version)
    con.execute(f"attach {_quote_str(str(tmp_path))} as serving (storage_version {_quote_str(version)})")
    # `use` makes the new file the default catalog, so the views' stored SQL names no catalog and binds
    # to whatever name a reader attaches the file under.
    con.execute("use serving")
    # One transaction: one commit (one fsync) instead of one per statement.
    con.execute("begin transaction")
    con.execute(f"create schema {SERVING_SCHEMA}")
    table_comments, column_comments = _warehouse_comments(con)
    row_counts: dict[str, int] = {}
    for mart in marts:
        relation = f"{SERVING_SCHEMA}.{_quote_ident(mart)}"
        con.execute(f"create table {relation} as select * from wh.{relation}")
        row_counts[mart] = con.execute(f"select count(*) from {relation}").fetchone()[0]
        comment = table_comments.get(mart) or f"{mart}: see MARTS.md"
        con.execute(f"comment on table {relation} is {_quote_str(comment)}")
        _comment_columns(con, relation, column_comments.get(mart, {}))

    columns: dict[str, set[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from duckdb_columns() where database_name = 'serving' and schema_name = ?",
        [SERVING_SCHEMA],
    ).fetchall():
        columns.setdefault(table, set()).add(column)
    view_sql = friendly_views(columns)
    for name, sql in view_sql.items():
        con.execute(f"create view main.{name} as {sql}")
        con.execute(f"comment on view main.{name} is {_quote_str(VIEW_DESCRIPTIONS[name])}")
        described: dict[str, str] = dict(ATTRIBUTION_COLUMNS) if name == "attribution" else {}
        for mart in VIEW_COLUMN_SOURCES[name]:  # the first source that describes a column wins
            for column, comment in column_comments.get(mart, {}).items():
                described.setdefault(column, comment)
        in_view = {r[0] for r in con.execute(f"describe main.{name}").fetchall()}
        _comment_columns(con, f"main.{name}", {c: d for c, d in described.items() if c in in_view})
    views = list(view_sql)
    skipped = [name for name in VIEW_DESCRIPTIONS if name not in view_sql]

    con.execute(
        """
        create table main.northstar_meta (
            published_at timestamp,
            data_through date,
            code_revision varchar,
            storage_version varchar,
            reporting_currency varchar,
            reporting_timezone varchar,
            attribution_model varchar,
            mart varchar,
            row_count bigint
        )
        """
    )
    con.executemany(
        "insert into main.northstar_meta values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                meta["published_at"],
                meta["data_through"],
                meta["code_revision"],
                version,
                settings.reporting_currency,
                settings.reporting_timezone,
                settings.attribution_model,
                mart,
                count,
            ]
            for mart, count in sorted(row_counts.items())
        ],
    )
    con.execute(
        "comment on table main.northstar_meta is 'One row per published mart: when it was published, "
        "the last day with data, its row count and the code revision that built it.'"
    )
    con.execute("commit")
    con.execute("use wh")
    con.execute("checkpoint serving")
    con.execute("detach serving")
    return row_counts, views, skipped


def _write_parquet(con: duckdb.DuckDBPyConnection, out_dir: Path, marts: list[str]) -> list[Path]:
    out_dir.mkdir(parents=True)
    files = []
    for mart in marts:
        path = out_dir / f"{mart}.parquet"
        con.execute(
            f"copy (select * from wh.{SERVING_SCHEMA}.{_quote_ident(mart)}) "
            f"to {_quote_str(str(path))} (format parquet, compression zstd)"
        )
        files.append(path)
    return files


def _swap_parquet(settings: Settings, new_version_dir: Path) -> None:
    """Point `parquet` at the new version with one atomic rename of a symlink; keep the newest few versions."""
    link = settings.parquet_dir
    versions = new_version_dir.parent
    if link.exists() and not link.is_symlink():
        # A plain directory from an older layout: move it into the versions dir first (not atomic, once).
        os.replace(link, versions / f"legacy-{uuid.uuid4().hex[:8]}")
    tmp_link = link.with_name(f".{link.name}.link-{uuid.uuid4().hex[:8]}")
    try:
        os.symlink(os.path.relpath(new_version_dir, link.parent), tmp_link, target_is_directory=True)
    except (OSError, NotImplementedError):
        # No symlinks here (Windows without developer mode): two renames, with a moment without `parquet`.
        os.replace(new_version_dir, link)
        return
    os.replace(tmp_link, link)
    # Keep the newest few versions (a reader may still be reading one it resolved earlier), drop the rest.
    others = sorted(
        (p for p in versions.iterdir() if p != new_version_dir), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in others[PARQUET_VERSIONS_KEPT - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def _check_complete(serving_file: Path, parquet_dir: Path, row_counts: dict[str, int]) -> None:
    """Re-open what was written and compare row counts, before anything is swapped in."""
    with duckdb.connect() as con:
        con.execute(f"attach {_quote_str(str(serving_file))} as written (read_only)")
        for mart, expected in row_counts.items():
            ident = _quote_ident(mart)
            in_file = con.execute(f"select count(*) from written.{SERVING_SCHEMA}.{ident}").fetchone()[0]
            path = _quote_str(str(parquet_dir / f"{mart}.parquet"))
            in_parquet = con.execute(f"select count(*) from read_parquet({path})").fetchone()[0]
            if in_file != expected or in_parquet != expected:
                raise PublishError(
                    f"publish failed, the last good serving file is untouched: {mart} has {expected} rows in the "
                    f"warehouse but {in_file} in the new serving file and {in_parquet} in Parquet"
                )


def _fsync(path: Path) -> None:
    """Flush a file (or a directory's entries) to disk, so a crash cannot leave a renamed but empty file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # e.g. directories cannot be opened on Windows: best effort
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace_read_only(src: Path, dst: Path) -> None:
    """os.replace; Windows refuses to rename over a read-only file, so there the old one is made writable first."""
    try:
        os.replace(src, dst)
    except PermissionError:
        if os.name != "nt" or not dst.exists():
            raise
        os.chmod(dst, 0o644)
        os.replace(src, dst)


def _remove_stale_temporaries(out_dir: Path, serving_name: str) -> None:
    """Temp files of a publish that was killed (its process is gone) are removed; a running one's are kept."""
    for leftover in out_dir.glob(f".{serving_name}.tmp-*"):
        pid = leftover.name.split(".tmp-", 1)[1].split("-", 1)[0]
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            leftover.unlink(missing_ok=True)
        except (ValueError, OSError):
            continue


def publish(settings: Settings) -> PublishResult:
    """Copy the marts to a new serving file and Parquet export, then swap both in atomically."""
    started = time.monotonic()
    warehouse = settings.marts_db_path
    source = f"the build file {warehouse}"
    if settings.target == "spark":
        source = f"Spark's Parquet in {settings.spark_marts_dir}"
        _write_spark_source(settings)
    elif not warehouse.exists():
        raise UserError(f"No warehouse at {warehouse}: run `northstar load` and `northstar build` first.")
    _check_storage_version(settings.serving_storage_version)
    out_dir = settings.serving_path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(out_dir, settings.serving_path.name)
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp_serving = out_dir / f".{settings.serving_path.name}.tmp-{token}"
    versions_dir = out_dir / PARQUET_VERSIONS_DIR
    versions_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    parquet_version = versions_dir / f"{stamp}-{token}"

    con = duckdb.connect()
    swapped = False
    try:
        con.execute(f"set memory_limit = {_quote_str(settings.memory_limit)}")
        con.execute(f"set threads = {int(settings.threads)}")
        # A build or load still writing the warehouse holds its lock: wait for it (bounded; one line after).
        wait_for_lock(lambda: con.execute(f"attach {_quote_str(str(warehouse))} as wh (read_only)"), warehouse)
        marts = _list_marts(con, "wh")
        if not marts:
            raise UserError(f"The warehouse {warehouse} has no schema `marts` yet: run `northstar build` first.")
        con.execute("use wh")
        published_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        meta = {
            "published_at": published_at,
            "data_through": _data_through(con, marts),
            "code_revision": code_revision(),
        }
        row_counts, views, skipped = _write_serving_file(con, settings, tmp_serving, marts, meta)
        files = _write_parquet(con, parquet_version, marts)
        con.close()
        _check_complete(tmp_serving, parquet_version, row_counts)
        # Read-only on disk: a reader that forgets read_only (`duckdb serving.duckdb`) cannot write into it.
        # Renaming over it needs only the directory to be writable, so the next publish still replaces it.
        os.chmod(tmp_serving, SERVING_FILE_MODE)
        for path in [tmp_serving, *files, parquet_version]:
            _fsync(path)
        # Both outputs are complete and on disk: swap them in. Each swap is one rename.
        _replace_read_only(tmp_serving, settings.serving_path)
        swapped = True
        _swap_parquet(settings, parquet_version)
        _fsync(out_dir)
    except (duckdb.Error, OSError) as exc:  # e.g. disk full: say so in one line, keep the last good outputs
        where = (
            "the new serving file is in place but Parquet is not"
            if swapped
            else "the last good serving file is untouched"
        )
        raise PublishError(f"publish failed, {where}: {exc}") from exc
    finally:
        con.close()
        for leftover in (tmp_serving, tmp_serving.with_name(tmp_serving.name + ".wal")):
            leftover.unlink(missing_ok=True)
        if not swapped:
            shutil.rmtree(parquet_version, ignore_errors=True)

    return PublishResult(
        serving_path=settings.serving_path,
        parquet_dir=settings.parquet_dir,
        row_counts=row_counts,
        views=views,
        skipped_views=skipped,
        published_at=meta["published_at"],
        data_through=meta["data_through"],
        code_revision=meta["code_revision"],
        storage_version=settings.serving_storage_version,
        seconds=time.monotonic() - started,
        parquet_files=[settings.parquet_dir / f.name for f in files],
        source=source,
    )


def _write_spark_source(settings: Settings) -> None:
    """The marts Spark wrote, as views publish reads like the build file; every mart of the project or none."""
    from northstar.spark.marts_source import write_marts_source

    written = write_marts_source(settings)
    if written.missing:
        raise UserError(
            f"Spark has not written {', '.join(written.missing)} (no folder in {settings.spark_marts_dir}):"
            " run `northstar build --target spark` first; the last good serving file is untouched"
        )
