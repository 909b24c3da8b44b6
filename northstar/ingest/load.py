"""`northstar load`: landing files -> raw.* in DuckDB, bad rows -> raw.quarantine, nothing lost.

How one file loads (all set-based SQL inside DuckDB, never row by row in Python):

1. sha256 of the file's bytes; a checksum already in raw.load_manifest -> status `skipped`, nothing written.
2. Read every landing column as VARCHAR into a temp table `_ns_src` (one row per record):
   JSON Lines are read as one text column per line (read_csv with a delimiter that never occurs in valid JSON)
   and parsed with DuckDB's JSON functions, so a malformed line is one quarantined row, not a dead file.
   Lines with invalid UTF-8 are rejected by DuckDB's reader (store_rejects) and come back as
   `invalid_encoding` rows; CSV rows with a wrong column count as `malformed_record`.
3. Cast and check every row in one SQL statement (`_ns_rows`): the first failing check (in contract column order)
   is the row's reason (one reason per row); valid rows are then de-duplicated (events: repeated event_id,
   within the file or against raw.events, first wins; other kinds: a row equal to the current version of its
   business key, see contract.BUSINESS_KEY; a changed version is loaded).
4. One transaction: insert into raw.<kind>, raw.quarantine and raw.load_manifest; check
   rows_read = rows_loaded + rows_quarantined + duplicates_skipped; commit. Any error rolls the file back.

A file refused whole (unreadable, unknown format or kind, not the --source named, required columns missing, not
JSON Lines, (nearly) every row bad ...) loads nothing, and leaves one raw.load_manifest row (status 'refused',
reason file_refused:<what>, counts 0, no checksum) and one raw.quarantine row (row_number null, the message as
raw_record, rows_in_file = the records it could count or null). A failure while writing (a crash, a full disk)
is not a refusal: it rolls back and leaves nothing, so the next run loads the file.

Row numbers (raw.*.row_number, raw.quarantine.row_number) are 1-based record numbers: the line for JSON Lines,
the data row after the header for CSV, the row index + 1 for Parquet. Blank (whitespace-only) lines in JSON Lines
are not records. Quarantined CSV/Parquet rows keep their record as a JSON object of their columns.
PII (northstar/ingest/pii.py): loaded rows keep only email_hash = sha256(salt || lower(trim(email))) and
ip_hash = sha256(salt || trim(ip)), salt = settings.pii_salt. E-mail, IPv4 and IPv6 addresses found by pattern in
unknown columns (`extra`), `properties` and quarantined records are replaced by `<email:HASH>` / `<ip:HASH>` (the
same hash); in quarantined records the values of "email" / "ip" keys become "<redacted>".
Timestamps: ISO-8601 with an offset or Z are converted to UTC, naive ones are taken as UTC; stored as naive UTC.

"""

from __future__ import annotations

import contextlib
import glob as globlib
import hashlib
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from rich.console import Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from northstar.config import Settings
from northstar.db import connect_warehouse
from northstar.ingest import contract as C
from northstar.ingest import pii
from northstar.ingest.schema import KINDS, ensure_raw_schema
from northstar.sources import LoadFileError, Peek, Source, SourceFile, detect, detect_format, get, landing, peek
from northstar.sources.sql import lit as _lit
from northstar.sources.sql import q as _q
from northstar.terminal import make_console


@dataclass
class FileResult:
    path: str
    kind: str | None
    status: str  # 'loaded' | 'skipped' | 'error'
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    duplicates_skipped: int = 0
    message: str = ""
    load_id: str | None = None
    seconds: float = 0.0
    refused: str | None = None  # an existing file refused whole: what kind of refusal (contract.reason_refused)


@dataclass
class LoadReport:
    files: list[FileResult] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [f.message for f in self.files if f.status == "error"]

    def totals(self) -> dict[str, int]:
        keys = ("rows_read", "rows_loaded", "rows_quarantined", "duplicates_skipped")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def summary_table(self, per_file: bool | None = None) -> Table:
        """One row per file (past 30 files: one row per kind and status, plus the files that need attention).

        Error messages are printed in full under the table.
        """
        if per_file is None:
            per_file = len(self.files) <= 30
        counts = {s: sum(1 for f in self.files if f.status == s) for s in ("loaded", "skipped", "error")}
        caption = Text(f"{counts['loaded']} loaded, {counts['skipped']} skipped, {counts['error']} errors")
        for msg in self.errors:
            caption.append("\nerror: ", style="bold red")
            caption.append(msg)
        table = Table(title="northstar load", caption=caption, caption_justify="left")
        table.add_column("file" if per_file else "files", overflow="fold", min_width=12)
        table.add_column("kind", no_wrap=True)
        table.add_column("status", no_wrap=True)
        for name in ("read", "loaded", "quarantined", "dups"):
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("note", overflow="fold", ratio=1)
        styles = {"loaded": "green", "skipped": "yellow", "error": "red"}

        def add_row(name: str, kind: str, status: str, fs: list[FileResult], note: str) -> None:
            table.add_row(
                name,
                kind,
                Text(status, style=styles.get(status, "")),
                f"{sum(f.rows_read for f in fs):,}",
                f"{sum(f.rows_loaded for f in fs):,}",
                f"{sum(f.rows_quarantined for f in fs):,}",
                f"{sum(f.duplicates_skipped for f in fs):,}",
                note,
            )

        if per_file:
            for f in self.files:
                add_row(Path(f.path).name or f.path, f.kind or "?", f.status, [f], _short_note(f))
        else:
            groups: dict[tuple[str, str], list[FileResult]] = {}
            for f in self.files:
                if f.kind is not None and f.status != "error":
                    groups.setdefault((f.kind, f.status), []).append(f)
            for (kind, status), fs in sorted(groups.items()):
                note = "already loaded" if status == "skipped" else ""
                add_row(f"{len(fs)} files", kind, status, fs, note)
            for f in self.files:  # errors and non-landing files one by one
                if f.kind is None or f.status == "error":
                    add_row(Path(f.path).name or f.path, f.kind or "?", f.status, [f], _short_note(f))
        table.add_section()
        add_row(f"{len(self.files)} files", "", "", self.files, "")
        return table


def _short_note(f: FileResult) -> str:
    if f.status == "error":
        return "see below"
    if f.message.startswith("already loaded on "):
        return "already loaded " + f.message[len("already loaded on ") :].split(" UTC")[0][5:16]
    return f.message


# --------------------------------------------------------------------------------------------------
# Which files, which kind, which format


@dataclass
class _Candidate:
    path: Path
    kind: str
    source: Source
    peek: Peek
    explicit: bool  # named on the command line (not found by walking a directory or a glob)

    @property
    def file_format(self) -> str:
        """How the manifest records the file: the source and its format, e.g. 'ga4:jsonl.gz'."""
        return f"{self.source.name}:{self.peek.fmt}{'.gz' if self.peek.gz else ''}"


def kind_from_name(name: str) -> str | None:
    lower = name.lower()
    for kind in KINDS:
        if lower.startswith(kind):
            return kind
    return None


def _walk(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.parts[-1:])
    )


def looks_like_text(p: Peek) -> str:
    """What a file looks like, for error messages: a source's title, or what it holds."""
    found = detect(p)
    if found is not None:
        return f"it looks like {found.title} (--source {found.name})"
    return f"it looks like none of the known formats ({p.describe()}); `northstar sources` lists them"


def _choose(
    path: Path, fmt: str, gz: bool, kind: str | None, source: Source | None, explicit: bool
) -> _Candidate | FileResult | None:
    """Which source reads this file and which kind it feeds: a candidate, an error/skip result, or None (ignore).

    Content decides (each source's `looks_like`); the landing format also goes by the file name prefix or --kind.
    `source` (from --source) forces one source: a file that does not look like it is an error (explicit) or
    skipped (found in a directory).
    """
    p = peek(path, fmt, gz)
    name_kind = kind_from_name(path.name)
    if source is not None:
        if not source.looks_like(p):
            msg = f"{path}: does not look like {source.title} (--source {source.name}); {looks_like_text(p)}"
            if not explicit:
                return FileResult(str(path), kind, "skipped", message=msg)
            return FileResult(str(path), kind, "error", message=msg, refused="not_this_source")
        src = source
    else:
        src = detect(p) or landing.SOURCE
    if src.kind is not None:
        if kind is not None and src.kind != kind:
            if not explicit:
                return None  # --kind on a directory selects that kind's files
            msg = f"{path}: is {src.title}, which holds {src.kind}, not {kind}; drop --kind or pick another file"
            return FileResult(str(path), kind, "error", message=msg, refused="wrong_kind")
        return _Candidate(path.resolve(), src.kind, src, p, explicit)
    # the landing format: kind from --kind, else the name, else the columns
    if kind is not None and not explicit and name_kind is not None and name_kind != kind:
        return None
    file_kind = kind or name_kind or landing.kind_of(p)
    if file_kind is None:
        if not explicit:
            return FileResult(
                str(path),
                None,
                "skipped",
                message=f"not a landing file: {looks_like_text(p)}; its name starts with none of {', '.join(KINDS)}",
            )
        return FileResult(
            str(path),
            None,
            "error",
            message=f"{path}: cannot tell what this is: {looks_like_text(p)}, and its name starts with none of"
            f" {', '.join(KINDS)}; pass --source or --kind",
            refused="unknown_kind",
        )
    return _Candidate(path.resolve(), file_kind, src, p, explicit)


def resolve_paths(
    paths: Iterable[str], kind: str | None = None, source: Source | None = None
) -> tuple[list[FileResult], list[_Candidate]]:
    """Expand files, directories and globs. Returns (results for paths that are errors or skipped, files to load).

    A file named explicitly must be loadable (known format, a source recognises it or its kind is known) or it is
    an error. Files found by walking a directory or expanding a glob are filtered: other formats are ignored, files
    nothing recognises are reported as skipped (e.g. the generator's incidents.json), and with --kind only that
    kind's files are taken (so one Dagster asset per kind can point at the whole landing directory).
    """
    early: list[FileResult] = []
    found: list[_Candidate] = []
    seen: set[Path] = set()

    def add(path: Path, explicit: bool) -> None:
        real = path.resolve()
        if real in seen:
            return
        seen.add(real)
        fmt, gz = detect_format(path.name)
        if fmt is None:
            if explicit:
                early.append(
                    FileResult(
                        str(path),
                        kind,
                        "error",
                        message=f"{path}: unknown file format; expected .jsonl/.ndjson/.json, .csv or .parquet"
                        " (optionally .gz)",
                        refused="unknown_format",
                    )
                )
            return  # found in a directory: not a landing format at all (README, _SUCCESS, ...): ignore quietly
        chosen = _choose(path, fmt, gz, kind, source, explicit)
        if isinstance(chosen, _Candidate):
            found.append(chosen)
        elif chosen is not None:
            early.append(chosen)

    for raw in paths:
        p = Path(raw).expanduser()
        # A path that exists is that file or directory, whatever its name holds ("report [final].csv").
        if not p.exists() and any(ch in raw for ch in "*?["):
            matches = sorted(globlib.glob(str(Path(raw).expanduser()), recursive=True))
            if not matches:
                early.append(FileResult(raw, kind, "error", message=f"{raw}: no files match this pattern"))
            for m in matches:
                mp = Path(m)
                if mp.is_dir():
                    for found_file in _walk(mp):
                        add(found_file, False)
                else:
                    add(mp, False)
            continue
        if p.is_dir():
            files = _walk(p)
            before = len(found)
            for f in files:
                add(f, False)
            if len(found) == before and not any(r.path.startswith(str(p)) for r in early):
                early.append(
                    FileResult(
                        raw,
                        kind,
                        "skipped",
                        message=f"{raw}: no landing files{' of kind ' + kind if kind else ''} in this directory",
                    )
                )
        elif p.is_file():
            add(p, True)
        else:
            early.append(FileResult(raw, kind, "error", message=f"{raw}: no such file or directory"))

    # Daily files load in date order whatever directory they came from.
    found.sort(key=lambda c: (c.path.name, str(c.path)))
    return early, found


# --------------------------------------------------------------------------------------------------
# SQL helpers


# '|AED|AFN|...|': a 3-letter code is valid when '|CODE|' occurs in it (one string search, trivial to plan)
_CURRENCY_SET = _lit("|" + "|".join(sorted(C.ISO_4217)) + "|")


def _typed_expr(col: C.Column, v: str, salt: str, mask: bool = True) -> str:
    """SQL turning the cleaned varchar `v` into the raw column's value (NULL when it does not parse).

    `mask`: mask e-mails and IPs in a JSON or free-text column (False when no value in the file can hold one:
    nothing to compile).
    """
    if col.type == C.TEXT:
        if col.free_text and mask:  # only values with an '@' (see _validate)
            return f"case when contains({v}, '@') then {pii.mask_sql(v, salt)} else {v} end"
        return f"upper({v})" if col.upper else v
    if col.type == C.TIMESTAMP:
        # The connection runs in UTC: offsets are converted, naive values are taken as UTC.
        return f"cast(try_cast({v} as timestamptz) as timestamp)"
    if col.type == C.DATE:
        return f"try_cast({v} as date)"
    if col.type == C.DECIMAL:
        return f"try_cast({v} as decimal(18, 4))"
    if col.type == C.INTEGER:
        # exact: 12, 12.0 and 1e3 are integers; 12.5 is not (a cast to bigint alone would round it to 13)
        return f"case when try_cast({v} as bigint) = try_cast({v} as double) then try_cast({v} as bigint) end"
    if col.type == C.BOOLEAN:
        return f"try_cast({v} as boolean)"
    if col.type == C.JSON:
        # a JSON object (properties), with e-mails and IPs in it masked
        value = pii.mask_json_sql(v, salt) if mask else f"cast({v} as json)"
        return f"case when json_valid({v}) and json_type({v}) = 'OBJECT' then {value} end"
    if col.type == C.CURRENCY:
        return f"case when length({v}) = 3 and contains({_CURRENCY_SET}, '|' || upper({v}) || '|') then upper({v}) end"
    if col.type == C.ENUM:
        allowed = ", ".join(_lit(x) for x in col.values)
        return f"case when lower({v}) in ({allowed}) then lower({v}) end"
    if col.type == C.PII:
        return f"case when {v} is not null then {pii.hash_sql(col.name, v, salt)} end"
    raise ValueError(f"unknown column type {col.type}")


def _checks(col: C.Column, v: str, typed: str, loaded_at_sql: str) -> list[tuple[str, str]]:
    """(condition, reason) pairs for one column, in the order they are tried."""
    out: list[tuple[str, str]] = []
    if col.required:
        out.append((f"{v} is null", C.reason_missing(col.name)))
    bad_if_unparsed = f"{v} is not null and {typed} is null"
    if col.type in (C.TIMESTAMP, C.DATE):
        out.append((bad_if_unparsed, C.reason_bad_timestamp(col.name)))
        if col.no_future:
            out.append((f"{typed} > {loaded_at_sql} + interval 1 day", C.reason_future(col.name)))
    elif col.type == C.DECIMAL:
        out.append((bad_if_unparsed, C.reason_bad_number(col.name)))
        if col.non_negative:
            out.append((f"{typed} < 0", C.reason_negative(col.name)))
    elif col.type == C.INTEGER:
        out.append(
            (
                f"{v} is not null and not coalesce(isfinite(try_cast({v} as double)), false)",
                C.reason_bad_number(col.name),
            )
        )
        out.append((bad_if_unparsed, C.reason_not_integer(col.name)))
        if col.non_negative:
            out.append((f"{typed} < 0", C.reason_negative(col.name)))
    elif col.type == C.CURRENCY:
        out.append((bad_if_unparsed, C.REASON_UNKNOWN_CURRENCY))
    elif col.type == C.JSON:
        out.append((f"{v} is not null and not json_valid({v})", C.reason_invalid(col.name)))
        out.append((bad_if_unparsed, C.reason_not_object(col.name)))
    elif col.type in (C.BOOLEAN, C.ENUM):
        out.append((bad_if_unparsed, C.reason_invalid(col.name)))
    return out


# --------------------------------------------------------------------------------------------------
# Reading one file into _ns_src (all VARCHAR)


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    """Drop this loader's temp tables (those that exist: one catalog query instead of six blind drops)."""
    names = con.execute(
        "select table_name from duckdb_tables() where temporary and table_name like '\\_ns\\_%' escape '\\'"
    ).fetchall()
    if names:
        con.execute("; ".join(f"drop table if exists temp.{_q(n)}" for (n,) in names))


# --------------------------------------------------------------------------------------------------
# Validate, de-duplicate, write


def _validate(con: duckdb.DuckDBPyConnection, kind: str, salt: str, loaded_at: datetime) -> None:
    cols = C.CONTRACT[kind]
    loaded_at_sql = f"timestamp '{loaded_at:%Y-%m-%d %H:%M:%S.%f}'"
    # Which of extra and the JSON columns hold anything: the PII mask's regexes take ~10 ms to compile per
    # statement, worth skipping for the many files that have no unknown columns or no properties.
    # Free-text columns (URLs, utm tags, user ids) are masked only in files where one of their values has an '@':
    # an e-mail needs one, and an IP in a URL is the site's, not a person's.
    free = ["extra", *(c.name for c in cols if c.type == C.JSON)]
    texts = [c.name for c in cols if c.free_text]
    tests = [f"count({_q(n)}) > 0" for n in free] + [f"bool_or(contains({_q(n)}, '@'))" for n in texts]
    counts = con.execute(f"select {', '.join(tests)} from _ns_src").fetchone()
    has = {n: bool(x) for n, x in zip(free + texts, counts, strict=True)}
    typed_select, conditions = [], []
    for c in cols:
        v = f"s.{_q(c.name)}"
        if c.default is not None:
            v = f"coalesce({v}, {_lit(c.default)})"
        typed_select.append(f"{v} as {_q('v_' + c.name)}")
        typed_select.append(f"{_typed_expr(c, v, salt, has.get(c.name, True))} as {_q(c.raw_name)}")
    for c in cols:
        for cond, reason in _checks(c, _q("v_" + c.name), _q(c.raw_name), loaded_at_sql):
            conditions.append(f"when {cond} then {_lit(reason)}")
    out_cols = [c.raw_name for c in cols]
    all_cols = ", ".join(_q(k) for k in out_cols)
    extra = pii.mask_json_sql("s.extra", salt) if has["extra"] else "s.extra"  # unknown columns, PII masked
    head = f"""create temp table _ns_rows as
        with checked as materialized (
            -- materialized: read by two branches, and inlining this wide CTE costs more to plan than to run
            select *, case when pre_reason is not null then pre_reason {" ".join(conditions)} end as _ns_reason
            from (
                select s.row_number, s.pre_reason, {extra} as extra, {", ".join(typed_select)}
                from _ns_src as s
            ) as typed
        ),
        valid as (select * from checked where _ns_reason is null),"""
    tail = f"""
        final as (
            select * from flagged
            union all
            select row_number, _ns_reason, extra, {all_cols}, 'quarantine' as _ns_status
            from checked
            where _ns_reason is not null
        )
        select * from final"""

    def match(a: str, b: str, cols: Iterable[str]) -> str:
        return " and ".join(f"{a}.{_q(k)} is not distinct from {b}.{_q(k)}" for k in cols)

    v_cols = ", ".join(f"v.{_q(k)}" for k in out_cols)
    if kind in C.DEDUP_KEY:
        # First occurrence wins. Aggregate + hash joins, not a window: a window would sort every wide row.
        key = C.DEDUP_KEY[kind]
        keys = ", ".join(_q(k) for k in key)
        body = f"""
        firsts as (
            select {keys}, min(row_number) as _ns_first_row
            from valid
            group by all
        ),
        existing as (
            -- keys of this file already loaded (semi join: the hash table is built on the file's keys)
            select distinct {", ".join(f"r.{_q(k)}" for k in key)}
            from raw.{kind} as r
            semi join firsts as f on {match("r", "f", key)}
        ),
        flagged as (
            select v.row_number, v._ns_reason, v.extra, {v_cols},
                   case when v.row_number <> f._ns_first_row then 'duplicate'
                        when e.{_q(key[0])} is not null then 'duplicate'
                        else 'load' end as _ns_status
            from valid as v
            join firsts as f on {match("v", "f", key)}
            left join existing as e on {match("v", "e", key)}
        ),"""
    else:
        # Versioned by business key: a duplicate equals the current version of its key.
        key = C.BUSINESS_KEY[kind]
        keys = ", ".join(_q(k) for k in key)
        row_sig = f"row({all_cols})"
        body = f"""
        latest as (
            -- current version of each key of this file already loaded (aggregates, not windows: a window has
            -- a large fixed cost per statement and most files here are small)
            select {keys}, arg_max({row_sig}, row(loaded_at, load_id, row_number)) as _ns_sig
            from raw.{kind} as r
            semi join valid as v on {match("r", "v", key)}
            group by all
        ),
        signed as (
            select *, {row_sig} as _ns_sig from valid
        ),
        previous as (
            -- the version of the same key just before each row in this file
            select v.row_number, arg_max(p._ns_sig, p.row_number) as _ns_prev_sig
            from signed as v
            join signed as p on {match("v", "p", key)} and p.row_number < v.row_number
            group by v.row_number
        ),
        flagged as (
            select v.row_number, v._ns_reason, v.extra, {v_cols},
                   case when pv.row_number is not null and v._ns_sig is not distinct from pv._ns_prev_sig
                            then 'duplicate'
                        when pv.row_number is null and v._ns_sig is not distinct from l._ns_sig then 'duplicate'
                        else 'load' end as _ns_status
            from signed as v
            left join previous as pv on pv.row_number = v.row_number
            left join latest as l on {match("v", "l", key)}
        ),"""
    con.execute(head + body + tail)


def _raw_record_sql(kind: str, salt: str) -> str:
    """SQL: a quarantined row's record as stored: its text, or its columns as a JSON object, PII masked."""
    cols = C.CONTRACT[kind]
    obj = ", ".join(f"{_lit(c.name)}, s.{_q(c.name)}" for c in cols if c.type != C.PII)
    # Structured rows: rebuild the record from its columns (PII columns left out: they are never kept).
    rebuilt = f"cast(json_merge_patch(json_object({obj}), coalesce(s.extra, '{{}}'::json)) as varchar)"
    return pii.mask_sql(pii.redact_keys_sql(f"coalesce(s.raw_text, {rebuilt})"), salt)


def _write(
    con: duckdb.DuckDBPyConnection,
    cand: _Candidate,
    load_id: str,
    loaded_at: datetime,
    checksum: str,
    size: int,
    salt: str,
) -> tuple[int, int, int, int]:
    kind = cand.kind
    assert kind is not None
    cols = [c.raw_name for c in C.CONTRACT[kind]]
    col_list = ", ".join(_q(c) for c in cols)
    n_read, n_load, n_quar, n_dup = con.execute(
        """select (select count(*) from _ns_src),
                  count(*) filter (where _ns_status = 'load'),
                  count(*) filter (where _ns_status = 'quarantine'),
                  count(*) filter (where _ns_status = 'duplicate')
           from _ns_rows"""
    ).fetchone()
    params = [load_id, str(cand.path), loaded_at]
    # No `order by`: the file order is kept in row_number, and sorting wide rows would double the insert's cost.
    inserted = con.execute(
        f"""insert into raw.{kind} ({col_list}, extra, load_id, source_file, row_number, loaded_at)
        select {col_list}, extra, ?, ?, row_number, ? from _ns_rows where _ns_status = 'load'""",
        params,
    ).fetchone()[0]
    quarantined = 0
    if n_quar:  # (no statement to plan for a clean file)
        quarantined = con.execute(
            f"""insert into raw.quarantine (load_id, kind, source_file, row_number, raw_record, reason, loaded_at)
            select ?, {_lit(kind)}, ?, r.row_number, {_raw_record_sql(kind, salt)}, r._ns_reason, ?
            from _ns_rows as r join _ns_src as s on s.row_number = r.row_number
            where r._ns_status = 'quarantine' order by r.row_number""",
            [load_id, str(cand.path), loaded_at],
        ).fetchone()[0]
    if not (inserted == n_load and quarantined == n_quar and n_read == n_load + n_quar + n_dup):
        raise RuntimeError(
            f"row accounting does not add up: read {n_read}, loaded {inserted}/{n_load}, "
            f"quarantined {quarantined}/{n_quar}, duplicates {n_dup}"
        )
    _write_manifest(con, cand, load_id, checksum, size, (n_read, n_load, n_quar, n_dup), loaded_at)
    return n_read, n_load, n_quar, n_dup


def _write_manifest(
    con: duckdb.DuckDBPyConnection,
    cand: _Candidate,
    load_id: str,
    checksum: str,
    size: int,
    counts: tuple[int, int, int, int],
    loaded_at: datetime,
) -> None:
    fmt = cand.peek.fmt + (".gz" if cand.peek.gz else "")
    con.execute(
        """insert into raw.load_manifest (load_id, source_file, kind, file_format, source, checksum, size_bytes,
            rows_read, rows_loaded, rows_quarantined, duplicates_skipped, loaded_at)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [load_id, str(cand.path), cand.kind, fmt, cand.source.name, checksum, size, *counts, loaded_at],
    )


def file_checksum(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _error_text(exc: BaseException) -> str:
    """One line of an exception's text, without DuckDB's echo of the loader's SQL ("LINE 1: ...")."""
    text = " ".join(str(exc).split("\nLINE ")[0].split()) or type(exc).__name__
    return text[:400]


def load_file(con: duckdb.DuckDBPyConnection, settings: Settings, cand: _Candidate) -> FileResult:
    """Load one landing file in one transaction. Never raises for a bad file: the result says what happened."""
    started = time.perf_counter()
    result = FileResult(str(cand.path), cand.kind, "loaded")
    try:
        checksum, size = file_checksum(cand.path)
    except OSError as exc:
        result.status, result.message = "error", f"{cand.path}: cannot read: {exc.strerror or exc}"
        result.refused = "unreadable"
        _record_refusal(con, settings, result, cand)
        return result
    prev = con.execute(
        """select load_id, loaded_at from raw.load_manifest where checksum = ? and status = 'loaded'
           order by loaded_at limit 1""",
        [checksum],
    ).fetchone()
    if prev:
        result.status = "skipped"
        result.load_id = prev[0]
        result.message = f"already loaded on {prev[1]:%Y-%m-%d %H:%M:%S} UTC as {prev[0]}"
        return result
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    load_id = f"{cand.kind}-{loaded_at:%Y%m%dT%H%M%S%f}-{checksum[:8]}"
    in_tx = False
    try:
        if size == 0:
            # An empty file is a valid file with no records.
            con.execute("create or replace temp table _ns_src as select 0::bigint as row_number where false")
            con.execute("create or replace temp table _ns_rows as select 'load' as _ns_status where false")
            con.begin()
            in_tx = True
            counts = (0, 0, 0, 0)
            _write_manifest(con, cand, load_id, checksum, size, counts, loaded_at)
        else:
            tmp_dir = settings.warehouse_dir / ".duckdb_tmp" / "unpacked"
            cand.source.stage(con, SourceFile(cand.peek, cand.kind, settings, tmp_dir))
            _validate(con, cand.kind, settings.pii_salt, loaded_at)
            _check_quarantine_share(con, cand, settings.max_quarantine_share)
            con.begin()
            in_tx = True
            counts = _write(con, cand, load_id, loaded_at, checksum, size, settings.pii_salt)
        _before_commit(cand)
        con.commit()
        in_tx = False
    except (duckdb.Error, LoadFileError, RuntimeError, OSError, EOFError) as exc:
        if in_tx:
            _rollback(con)
        result.status = "error"
        msg = str(exc) if isinstance(exc, LoadFileError) else f"{cand.path}: cannot load: {_error_text(exc)}"
        result.message = f"{msg}. Nothing of this file was loaded."
        if not in_tx and not _out_of_space(exc):
            # Refused while reading or checking it (not a failed write): leave a trace of why.
            result.refused = exc.code if isinstance(exc, LoadFileError) else "unreadable"
            _record_refusal(con, settings, result, cand, _rows_it_could_count(con))
        return result
    finally:
        _drop_temp(con)
        shutil.rmtree(settings.warehouse_dir / ".duckdb_tmp" / "unpacked", ignore_errors=True)
        result.seconds = time.perf_counter() - started
    result.rows_read, result.rows_loaded, result.rows_quarantined, result.duplicates_skipped = counts
    result.load_id = load_id
    result.message = "bad rows in raw.quarantine" if result.rows_quarantined else "ok"
    return result


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back, if DuckDB has not already: a failed commit (a full disk) ends the transaction itself."""
    with contextlib.suppress(duckdb.Error):
        con.rollback()


def _out_of_space(exc: BaseException) -> bool:
    """A full disk or memory is no fault of the file: it is retried, not refused."""
    text = str(exc)
    return isinstance(exc, duckdb.OutOfMemoryException) or any(
        s in text for s in ("No space left on device", "File too large", "Disk quota exceeded")
    )


def _rows_it_could_count(con: duckdb.DuckDBPyConnection) -> int | None:
    """Records staged before the file was refused (None when it was refused before any were read)."""
    for table in ("_ns_src", "_ns_lines"):
        try:
            return con.execute(f"select count(*) from temp.{table}").fetchone()[0]
        except duckdb.Error:
            continue
    return None


def _record_refusal(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    result: FileResult,
    cand: _Candidate | None = None,
    rows: int | None = None,
) -> None:
    """One raw.load_manifest row (status refused) and one raw.quarantine row (row_number null) for a refused file.

    Both carry reason file_refused:<what>; the quarantine row keeps the message (PII masked) and the records the
    loader could count. No checksum: only loads are keyed by it, so the same bytes load once a fix (--source,
    --kind, a mapping) makes them loadable. Recording never fails the run: if it cannot be written (full disk),
    the message says so.
    """
    assert result.refused is not None
    path = cand.path if cand is not None else Path(result.path).expanduser().resolve()
    kind = cand.kind if cand is not None else result.kind
    if cand is not None:
        fmt, source = cand.file_format.split(":", 1)[1], cand.source.name
    else:
        ext, gz = detect_format(path.name)
        fmt, source = (ext + (".gz" if gz else "")) if ext else None, None
    try:
        size: int | None = path.stat().st_size
    except OSError:
        size = None
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    load_id = f"refused-{kind or 'file'}-{loaded_at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
    reason = C.reason_refused(result.refused)
    began = False
    try:
        con.begin()
        began = True
        con.execute(
            """insert into raw.load_manifest (load_id, source_file, kind, file_format, source, checksum, size_bytes,
                rows_read, rows_loaded, rows_quarantined, duplicates_skipped, loaded_at, status, reason)
            values (?, ?, ?, ?, ?, null, ?, 0, 0, 0, 0, ?, 'refused', ?)""",
            [load_id, str(path), kind, fmt, source, size, loaded_at, reason],
        )
        con.execute(
            f"""insert into raw.quarantine (load_id, kind, source_file, row_number, raw_record, reason, loaded_at,
                rows_in_file)
            select ?, ?, ?, null, {pii.mask_sql("m", settings.pii_salt)}, ?, ?, ?
            from (select ?::varchar as m)""",
            [load_id, kind, str(path), reason, loaded_at, rows, result.message],
        )
        con.commit()
        result.load_id = load_id
    except duckdb.Error as exc:
        if began:
            _rollback(con)
        result.message += f" (The refusal could not be recorded in raw.load_manifest: {_error_text(exc)}.)"


def _check_quarantine_share(con: duckdb.DuckDBPyConnection, cand: _Candidate, max_share: float) -> None:
    """Fail the file when (nearly) every row would go to quarantine: it is the wrong file, not bad rows.

    A file that is all quarantine is most often another format than the one it was read as; loading it would
    report "loaded" while nothing landed.
    """
    n_rows, n_quar, top_reason = con.execute(
        """select count(*), count(*) filter (where _ns_status = 'quarantine'),
                  mode(_ns_reason) filter (where _ns_status = 'quarantine')
           from _ns_rows"""
    ).fetchone()
    if n_rows and n_quar / n_rows >= max_share:
        share = "all" if n_quar == n_rows else f"{n_quar:,} of {n_rows:,}"
        raise LoadFileError(
            f"{cand.path}: {share} rows would be quarantined (most often: {top_reason}) when read as"
            f" {cand.source.title}; {looks_like_text(cand.peek)}"
            f" (the limit is NORTHSTAR_MAX_QUARANTINE_SHARE={max_share:g})",
            "mostly_quarantined",
        )


def _before_commit(cand: _Candidate) -> None:
    """Hook for tests that simulate a crash after the inserts and before the commit."""


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("set TimeZone = 'UTC'")
    # No `set temp_directory`: DuckDB spills to <db file>.tmp by default, and refuses to switch the directory once
    # another connection to the same database (in this process) has spilled.
    con.execute("set preserve_insertion_order = true")
    ensure_raw_schema(con)


def load_paths(
    settings: Settings,
    paths: list[str],
    kind: str | None = None,
    progress: bool = True,
    on_file: Callable[[FileResult], None] | None = None,
    source: str | None = None,
) -> LoadReport:
    """Load landing files, directories or globs into raw.*; one transaction per file, idempotent by checksum.

    Each file is read by the source adapter that recognises it (`source` forces one, see northstar/sources).
    Errors in one file never stop the others; they are in `report.errors`. `on_file` is called after each file.
    """
    report = LoadReport()
    if kind is not None and kind not in KINDS:
        report.files.append(
            FileResult(", ".join(paths), kind, "error", message=f"--kind {kind!r} is not one of {', '.join(KINDS)}")
        )
        return report
    try:
        forced = get(source) if source is not None else None
    except KeyError as exc:
        report.files.append(FileResult(", ".join(paths), kind, "error", message=f"--source: {exc.args[0]}"))
        return report
    early, candidates = resolve_paths(paths, kind, forced)
    report = LoadReport(files=list(early))
    refused = [r for r in early if r.refused]
    if not candidates and not refused:
        return report
    try:
        con = connect_warehouse(settings)
    except duckdb.IOException as exc:
        from northstar.errors import UserError  # one clear line on the command line, no traceback

        raise UserError(
            f"cannot open the warehouse {settings.warehouse_path}: {_error_text(exc)} "
            "(another northstar, dbt or Dagster process may be writing it; wait for it or stop it)"
        ) from None
    try:
        _prepare(con)
        for r in refused:
            _record_refusal(con, settings, r)
        if progress:
            with Progress(
                TextColumn("[bold]load[/bold]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=make_console(stderr=True),
                transient=True,
            ) as bar:
                task = bar.add_task("", total=len(candidates))
                for cand in candidates:
                    bar.update(task, description=cand.path.name)
                    res = load_file(con, settings, cand)
                    report.files.append(res)
                    if on_file:
                        on_file(res)
                    bar.advance(task)
        else:
            for cand in candidates:
                res = load_file(con, settings, cand)
                report.files.append(res)
                if on_file:
                    on_file(res)
    finally:
        con.close()
    return report


# --------------------------------------------------------------------------------------------------
# What is in raw (for the demo and `northstar load`'s closing words)


def raw_summary(con: duckdb.DuckDBPyConnection) -> Group:
    """Rows per raw table, quarantined rows by kind and reason, and where the warehouse file is.

    Works on a read-only connection; a warehouse without the raw tables says so.
    """
    path = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0]
    n_raw = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'raw' and database_name = current_database()"
    ).fetchone()[0]
    if n_raw < len(KINDS) + 2:
        return Group(Text(f"no raw tables yet in {path}: run `northstar load` first"))
    has_status = con.execute(
        """select count(*) from duckdb_columns() where schema_name = 'raw' and table_name = 'load_manifest'
           and column_name = 'status' and database_name = current_database()"""
    ).fetchone()[0]
    loaded = "status = 'loaded'" if has_status else "true"  # a warehouse last loaded before refusals were kept
    tables = Table(title="raw tables")
    tables.add_column("table")
    tables.add_column("rows", justify="right")
    tables.add_column("files", justify="right")
    tables.add_column("quarantined", justify="right")
    tables.add_column("duplicates skipped", justify="right")
    per_kind = {
        k: (f, q, d)
        for k, f, q, d in con.execute(
            f"""select kind, count(*), sum(rows_quarantined), sum(duplicates_skipped)
               from raw.load_manifest where {loaded} group by kind"""
        ).fetchall()
    }
    for kind in KINDS:
        rows = con.execute(f"select count(*) from raw.{kind}").fetchone()[0]
        files, quarantined, dups = per_kind.get(kind, (0, 0, 0))
        tables.add_row(f"raw.{kind}", f"{rows:,}", f"{files:,}", f"{quarantined:,}", f"{dups:,}")
    n_quarantine = con.execute("select count(*) from raw.quarantine").fetchone()[0]
    tables.add_row("raw.quarantine", f"{n_quarantine:,}", "", "", "")
    m = con.execute(
        f"""select count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0),
                  coalesce(sum(rows_quarantined), 0), coalesce(sum(duplicates_skipped), 0),
                  count(*) filter (where not {loaded})
           from raw.load_manifest"""
    ).fetchone()
    tables.add_section()
    refused = f" ({m[5]:,} refused)" if m[5] else ""
    tables.add_row("raw.load_manifest", f"{m[0]:,} files{refused}", "", "", "")
    quarantine = Table(title="quarantined rows by reason")
    quarantine.add_column("kind")
    quarantine.add_column("reason")
    quarantine.add_column("rows", justify="right")
    for k, reason, n in con.execute(
        "select kind, reason, count(*) from raw.quarantine group by all order by kind, count(*) desc, reason"
    ).fetchall():
        quarantine.add_row(k, reason, f"{n:,}")
    footer = Text(f"read {m[1]:,} = loaded {m[2]:,} + quarantined {m[3]:,} + duplicates {m[4]:,}\nwarehouse: {path}")
    return Group(tables, quarantine, footer)
