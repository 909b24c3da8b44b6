"""SQL building blocks every source adapter uses to read a file into the loader's staging table `_ns_src`.

`_ns_src` is what the loader validates (northstar/ingest/load.py): one row per source record with
    row_number bigint   1-based record number in the file (line for JSON Lines, data row for CSV, row for Parquet,
                        element for a JSON document's array)
    pre_reason varchar  set when the record could not be read or mapped at all (malformed JSON, invalid encoding,
                        a CRM stage the mapping seed does not know ...): the row is quarantined with it
    raw_text varchar    the record's text when there is one (quarantined rows keep it), else NULL
    <contract columns>  one VARCHAR per column of the kind in contract.CONTRACT (NULL when the source has none)
    extra json          source fields the contract has no column for (kept, never dropped silently)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import duckdb

from northstar.ingest import contract as C

FIELD_SEP = chr(1)  # never appears in a valid JSON line (control characters must be escaped in JSON)
MAX_LINE_BYTES = 32 * 1024 * 1024


def q(identifier: str) -> str:
    """A quoted SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


# Characters of a blank line: a line of only these is no record (DuckDB's trim() alone strips spaces only).
_SPACE_CHARS = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"


def is_blank(expr: str) -> str:
    """SQL: true when the text is NULL, empty or only whitespace (tabs, CR, form feeds ...)."""
    return f"trim(coalesce({expr}, ''), {_SPACE_CHARS}) = ''"


def starts_with_brace(expr: str) -> str:
    """SQL: the text's first non-whitespace character is `{` (a JSON object)."""
    return f"starts_with(ltrim({expr}, {_SPACE_CHARS}), '{{')"


def file_lit(path: Path | str) -> str:
    """A file path as a SQL literal for DuckDB's readers, read as that one file.

    The readers treat *, ? and [ as a glob; each is escaped as a one-character class ([*]), so a file named
    `report [final].csv` is read as itself and `events_*.jsonl` does not pull in its neighbours.
    """
    return lit(re.sub(r"([*?\[])", r"[\1]", str(path)))


def max_object_size(path: Path, gz: bool, cap: int) -> int:
    """`maximum_object_size` for DuckDB's JSON reader on one file: its buffers are allocated at this size up front,
    so a 10 KB document read with a fixed 1 GiB would need 2 GiB of memory (and fail under a low memory limit).
    No object is larger than the file; a gzip file's text size is not known up front, so it gets `cap`."""
    if gz:
        return cap
    try:
        size = path.stat().st_size
    except OSError:
        return cap
    return min(cap, max(2 * size, 1 << 20))


def clean(expr: str) -> str:
    """Trimmed text, empty -> NULL."""
    return f"nullif(trim({expr}), '')"


def json_path(key: str) -> str:
    """The JSON path literal of one top-level key (quoted: keys may hold dots or spaces)."""
    return lit('$."' + key.replace('"', '\\"') + '"')


# One row per rejected line: (line, reason, text). Invalid encoding wins over other structural errors.
REJECTED_LINES = f"""
    select line,
           case when bool_or(error_type = 'INVALID ENCODING') then {lit(C.REASON_ENCODING)}
                else {lit(C.REASON_MALFORMED)} end as reason,
           any_value(csv_line) as text
    from _ns_rej
    group by line
"""


def reader_opts() -> str:
    """read_csv options that keep bad lines (in temp table _ns_rej) instead of failing the file."""
    return (
        "ignore_errors = true, store_rejects = true, rejects_table = '_ns_rej', rejects_scan = '_ns_rej_scans', "
        f"max_line_size = {MAX_LINE_BYTES}"
    )


def numbered(con: duckdb.DuckDBPyConnection, table: str, header_lines: int) -> str:
    """SQL giving (rn, *) for the good rows of `table`, numbered by their position among all records.

    DuckDB drops rejected lines from the result; their line numbers are in _ns_rej. Good rows keep file order
    (rowid of the temp table), so the k-th good row sits on the k-th record number that was not rejected.
    """
    n_rej = con.execute("select count(distinct line) from _ns_rej").fetchone()[0]
    if n_rej == 0:
        return f"select rowid + 1 as rn, * from {table}"
    total = con.execute(f"select count(*) from {table}").fetchone()[0] + n_rej
    return f"""
        select slots.rn, t.* exclude (rid)
        from (select rowid as rid, * from {table}) as t
        join (
            select n as rn, row_number() over (order by n) - 1 as rid
            from range(1, {total} + 1) as r(n)
            where n not in (select line - {header_lines} from _ns_rej)
        ) as slots on slots.rid = t.rid
    """


def reject_rows(kind: str, header_lines: int) -> str:
    """`_ns_src`-shaped rows for the lines DuckDB's reader rejected (bad encoding, wrong column count)."""
    nulls = ", ".join(f"null as {q(c.name)}" for c in C.CONTRACT[kind])
    return f"""
        select cast(line as bigint) - {header_lines} as row_number, reason as pre_reason, text as raw_text,
               {nulls}, null::json as extra
        from ({REJECTED_LINES})
    """


def stage_json_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Temp table `_ns_lines` (rn, line, ok): one row per line that is not blank (whitespace only); ok = the line is
    a JSON object.

    Lines are read as text (read_csv with a delimiter that never occurs in valid JSON), so one malformed line is
    one quarantined record, not a dead file. A byte-order mark on the first line is stripped. Lines DuckDB
    rejects (invalid UTF-8) are in `_ns_rej`: add `reject_rows(kind, 0)` to `_ns_src`.
    """
    con.execute(
        f"""create temp table _ns_lines as
        select line from read_csv({file_lit(path)}, columns = {{'line': 'varchar'}}, header = false,
            delim = {lit(FIELD_SEP)}, quote = '', escape = '', auto_detect = false, {reader_opts()})"""
    )
    rows = numbered(con, "_ns_lines", 0)
    con.execute(
        f"""create or replace temp table _ns_lines as
        select rn, line, json_valid(line) and {starts_with_brace("line")} as ok
        from (
            select rn, case when rn = 1 then ltrim(line, chr(65279)) else line end as line
            from ({rows})
            where not {is_blank("line")}
        )"""
    )


def contract_select(kind: str, mapping: Mapping[str, str]) -> str:
    """The select list of `_ns_src`'s contract columns: `mapping` gives a SQL expression per column it maps.

    Every expression is cast to VARCHAR and cleaned (trimmed, empty -> NULL); unmapped columns are NULL.
    Unknown names in `mapping` are a programming error.
    """
    names = {c.name for c in C.CONTRACT[kind]}
    unknown = set(mapping) - names
    if unknown:
        raise ValueError(f"not {kind} contract columns: {', '.join(sorted(unknown))}")
    out = []
    for c in C.CONTRACT[kind]:
        expr = mapping.get(c.name)
        out.append(f"{clean(f'cast({expr} as varchar)')} as {q(c.name)}" if expr else f"null::varchar as {q(c.name)}")
    return ", ".join(out)
