"""The landing format of DATA_CONTRACT.md itself: contract column names in JSON Lines, CSV or Parquet.

The kind comes from `--kind` or the file name prefix (events*, ad_spend*, orders*, leads*). Column names are
matched case-insensitively; columns the contract does not know go to `extra`.
"""

from __future__ import annotations

import gzip
import shutil

import duckdb

from northstar.ingest import contract as C
from northstar.sources.base import LoadFileError, Peek, Source, SourceFile
from northstar.sources.sql import (
    clean,
    file_lit,
    json_path,
    lit,
    numbered,
    q,
    reader_opts,
    reject_rows,
    stage_json_lines,
)

_REQUIRED = {kind: {c.name for c in cols if c.required} for kind, cols in C.CONTRACT.items()}


def looks_like(p: Peek) -> bool:
    """Records that carry every required column of some kind."""
    return any(req <= p.keys for req in _REQUIRED.values())


def kind_of(p: Peek) -> str | None:
    """The kind whose required columns the file has (None when none or several fit)."""
    fits = [kind for kind, req in _REQUIRED.items() if req <= p.keys]
    return fits[0] if len(fits) == 1 else None


def _stage_jsonl(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    path, kind = f.path, f.kind
    cols = C.CONTRACT[kind]
    stage_json_lines(con, path)
    keys = [
        r[0]
        for r in con.execute("select distinct unnest(json_keys(line)) from _ns_lines where ok order by 1").fetchall()
    ]
    known = {c.name for c in cols}
    n_lines, n_objects = con.execute("select count(*), count(*) filter (where ok) from _ns_lines").fetchone()
    if n_lines and not n_objects:
        raise LoadFileError(f"{path}: not JSON Lines: none of its {n_lines:,} lines is a JSON object", "not_json_lines")
    present = {k.lower() for k in keys}
    required = [c.name for c in cols if c.required]
    if n_objects and not present & set(required):
        raise LoadFileError(
            f"{path}: does not look like {kind} data: none of {', '.join(required)} appears in any record"
            f" (keys found: {', '.join(sorted(keys)[:12])}); check --kind or the file name",
            "missing_columns",
        )
    idx = {k: i + 1 for i, k in enumerate(keys)}
    paths_sql = "[" + ", ".join(json_path(k) for k in keys) + "]"
    select_cols = []
    for c in cols:
        variants = [k for k in keys if k.lower() == c.name]
        if not variants:
            select_cols.append(f"null::varchar as {q(c.name)}")
        else:
            parts = ", ".join(clean(f"v[{idx[k]}]") for k in variants)
            expr = parts if len(variants) == 1 else f"coalesce({parts})"
            select_cols.append(f"{expr} as {q(c.name)}")
    unknown = [k for k in keys if k.lower() not in known]
    if unknown:
        upaths = "[" + ", ".join(json_path(k) for k in unknown) + "]"
        obj = ", ".join(f"{lit(k)}, u[{i + 1}]" for i, k in enumerate(unknown))
        extra = f"case when list_count(u) > 0 then json_object({obj}) end"
        extract_u = f", case when ok then json_extract(line, {upaths}) end as u"
    else:
        extra, extract_u = "null::json", ""
    extract_v = f"case when ok then json_extract_string(line, {paths_sql}) end" if keys else "null"
    con.execute(
        f"""create temp table _ns_src as
        select cast(rn as bigint) as row_number,
               case when not ok then {lit(C.REASON_MALFORMED)} end as pre_reason,
               line as raw_text,
               {", ".join(select_cols)},
               {extra} as extra
        from (select rn, line, ok, {extract_v} as v{extract_u} from _ns_lines)
        union all
        {reject_rows(kind, 0)}"""
    )


def _stage_table(con: duckdb.DuckDBPyConnection, f: SourceFile, source_sql: str, header_lines: int) -> None:
    """CSV and Parquet: columns by name (case-insensitive), everything cast to varchar."""
    path, kind = f.path, f.kind
    cols = C.CONTRACT[kind]
    desc = con.execute(f"describe {source_sql}").fetchall()
    names = [d[0] for d in desc if d[0] != "file_row_number"]
    types = {d[0]: str(d[1]).upper() for d in desc}
    by_lower: dict[str, list[str]] = {}
    for n in names:
        by_lower.setdefault(n.strip().lower(), []).append(n)
    missing = [c.name for c in cols if c.required and c.name not in by_lower]
    if missing:
        raise LoadFileError(
            f"{path}: has no column {', '.join(missing)} (required for {kind}); columns found:"
            f" {', '.join(names[:20])}; check --kind or the file name",
            "missing_columns",
        )

    def as_text(n: str) -> str:
        t = types.get(n, "")
        if any(x in t for x in ("STRUCT", "MAP", "[]", "JSON", "UNION")):
            return f"cast(to_json({q(n)}) as varchar)"
        return f"cast({q(n)} as varchar)"

    select_cols = []
    for c in cols:
        variants = by_lower.get(c.name, [])
        if not variants:
            select_cols.append(f"null::varchar as {q(c.name)}")
        else:
            parts = ", ".join(clean(as_text(n)) for n in variants)
            expr = parts if len(variants) == 1 else f"coalesce({parts})"
            select_cols.append(f"{expr} as {q(c.name)}")
    known = {c.name for c in cols}
    unknown = [n for n in names if n.strip().lower() not in known]
    if unknown:
        any_set = " or ".join(f"{q(n)} is not null" for n in unknown)
        obj = ", ".join(f"{lit(n)}, {q(n)}" for n in unknown)
        extra = f"case when {any_set} then json_object({obj}) end"
    else:
        extra = "null::json"
    if f.peek.fmt == "parquet":
        rows = f"select file_row_number + 1 as rn, * from ({source_sql})"
        rejects = ""
    else:
        con.execute(f"create temp table _ns_csv as {source_sql}")
        rows = numbered(con, "_ns_csv", header_lines)
        rejects = f"union all {reject_rows(kind, header_lines)}"
    con.execute(
        f"""create temp table _ns_src as
        select cast(rn as bigint) as row_number, null::varchar as pre_reason, null::varchar as raw_text,
               {", ".join(select_cols)}, {extra} as extra
        from ({rows})
        {rejects}"""
    )


def read_csv_sql(f: SourceFile) -> str:
    """All columns as text, bad lines kept in _ns_rej (see sql.reader_opts)."""
    return f"""select * from read_csv({file_lit(f.path)}, all_varchar = true, header = true, delim = ',',
        quote = '"', escape = '"', {reader_opts()})"""


def read_parquet_sql(f: SourceFile) -> str:
    """A Parquet file with its row numbers; a gzip-compressed one is unpacked to the load's scratch dir first."""
    path = f.path
    if f.peek.gz:
        f.tmp_dir.mkdir(parents=True, exist_ok=True)
        unpacked = f.tmp_dir / (path.name[:-3] or "file.parquet")
        with gzip.open(path, "rb") as src_fh, unpacked.open("wb") as dst_fh:
            shutil.copyfileobj(src_fh, dst_fh, 8 * 1024 * 1024)
        path = unpacked
    return f"select * from read_parquet({file_lit(path)}, file_row_number = true)"


def stage(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    if f.peek.fmt in ("jsonl", "json"):
        _stage_jsonl(con, f)
    elif f.peek.fmt == "csv":
        _stage_table(con, f, read_csv_sql(f), 1)
    elif f.peek.fmt == "parquet":
        if not f.peek.columns:  # pyarrow found no Parquet schema in it
            raise LoadFileError(
                f"{f.path}: not a Parquet file (no Parquet footer); check what wrote it or its file name", "unreadable"
            )
        _stage_table(con, f, read_parquet_sql(f), 0)
    else:
        raise LoadFileError(f"{f.path}: unknown format")


SOURCE = Source(
    name="landing",
    kind=None,
    title="northstar landing format (DATA_CONTRACT.md)",
    shapes=(
        "events*, ad_spend*, orders*, leads* files with the contract's column names",
        "JSON Lines, CSV with a header row, or Parquet; any of them gzip-compressed",
    ),
    looks_like=looks_like,
    stage=stage,
    order=1000,
)
