"""Building blocks shared by the ad platform sources (google_ads, meta_ads, microsoft_ads, linkedin_ads, tiktok_ads).

Every ad platform file is read the same way: the file becomes a flat temp table `_ns_tab` (rn, pre_reason, raw_text,
one VARCHAR column per source column or JSON key), then one select maps it onto the ad_spend contract. Column names
are matched after normalising them (lower case, letters and digits only), so "Conv. value", "conv_value" and
"ConvValue" are the same column, and so are Microsoft's API names ("CurrencyCode") and UI names ("Currency code").
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from northstar.ingest import contract as C
from northstar.sources.base import LoadFileError, Peek, SourceFile
from northstar.sources.sql import (
    contract_select,
    file_lit,
    json_path,
    lit,
    numbered,
    q,
    reader_opts,
    reject_rows,
    stage_json_lines,
)

KIND = "ad_spend"
# Date layouts seen in ad platform files: ISO (API, most UIs), US UI layouts, connector timestamps.
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%m/%d/%Y", "%b %d, %Y", "%B %d, %Y")


def norm(name: str) -> str:
    """A column name reduced to lower-case letters and digits ("Conv. value" -> "convvalue")."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def norm_keys(names: Iterable[str]) -> set[str]:
    return {norm(n) for n in names}


@dataclass(frozen=True)
class Table:
    """The staged file `_ns_tab`: its source columns (original names) and whether it came from JSON."""

    columns: tuple[str, ...]
    is_json: bool

    def name(self, *candidates: str) -> str | None:
        """The first source column whose normalised name is one of the (normalised) candidates."""
        by_norm: dict[str, str] = {}
        for c in self.columns:
            by_norm.setdefault(norm(c), c)
        for cand in candidates:
            if norm(cand) in by_norm:
                return by_norm[norm(cand)]
        return None

    def col(self, *candidates: str) -> str | None:
        """That column as a quoted SQL identifier, or None."""
        n = self.name(*candidates)
        return q(n) if n is not None else None

    def prefixed(self, prefix: str) -> str | None:
        """The first column whose normalised name starts with `prefix` (e.g. Meta's "Amount spent (EUR)")."""
        return next((c for c in self.columns if norm(c).startswith(norm(prefix))), None)


# --------------------------------------------------------------------------------------------------
# SQL expressions on one text value


def num(expr: str | None) -> str | None:
    """A number as a UI writes it: thousands separators and blanks dropped, '--' (not applicable) -> NULL."""
    if expr is None:
        return None
    return f"nullif(nullif(replace(replace(trim({expr}), ',', ''), ' ', ''), '--'), '')"


def day(expr: str | None) -> str | None:
    """A day in any layout of DATE_FORMATS as YYYY-MM-DD; text that parses in none stays as it is (-> quarantine)."""
    if expr is None:
        return None
    fmts = "[" + ", ".join(lit(f) for f in DATE_FORMATS) + "]"
    return f"coalesce(strftime(try_strptime(trim({expr}), {fmts}), '%Y-%m-%d'), {expr})"


def url_param(expr: str | None, key: str) -> str | None:
    """One query parameter of a URL or URL suffix ('utm_source=a&utm_medium=b'), URL-decoded."""
    if expr is None:
        return None
    pattern = lit(f"(?:^|[?&#;]){key}=([^&#;]*)")
    return f"nullif(url_decode(replace(regexp_extract({expr}, {pattern}, 1), '+', ' ')), '')"


def iana(expr: str | None) -> str | None:
    """A time zone kept only when it is an IANA name ('Europe/Berlin', 'UTC'); UI labels such as
    '(GMT-08:00) Pacific Time' are not (they stay in `extra`)."""
    if expr is None:
        return None
    return f"case when regexp_full_match(trim({expr}), '(UTC|GMT|[A-Za-z_]+(/[A-Za-z0-9_+-]+)+)') then trim({expr}) end"


def utm_columns(t: Table, url_expr: str | None) -> dict[str, str]:
    """utm_source/medium/campaign: the file's own utm_* columns when it has them, else parsed from a URL field."""
    out: dict[str, str] = {}
    for key in ("utm_source", "utm_medium", "utm_campaign"):
        parts = [e for e in (t.col(key), url_param(url_expr, key)) if e]
        if parts:
            out[key] = parts[0] if len(parts) == 1 else f"coalesce(nullif(trim({parts[0]}), ''), {parts[1]})"
    return out


def utm_query(prefix: str = "") -> str:
    """SQL (on contract_ad_spend) writing the set utm tags as a query string after `prefix`; NULL without tags."""
    keys = ("source", "medium", "campaign")
    parts = ", ".join(f"case when utm_{k} is not null then 'utm_{k}=' || url_encode(utm_{k}) end" for k in keys)
    tags = f"array_to_string(list_filter([{parts}], lambda x: x is not null), '&')"
    return f"case when coalesce(utm_source, utm_medium, utm_campaign) is not null then {lit(prefix)} || {tags} end"


# --------------------------------------------------------------------------------------------------
# Reading files into _ns_tab


def head_lines(path: Path, gz: bool, limit: int = 60) -> list[str]:
    """The first physical lines of a text file (blank lines kept: DuckDB's `skip` counts them)."""
    opener = gzip.open if gz else open
    out: list[str] = []
    with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as fh:  # type: ignore[operator]
        for line in fh:
            out.append(line.rstrip("\r\n"))
            if len(out) >= limit:
                break
    return out


def find_header(p: Peek, is_header: Callable[[set[str]], bool], limit: int = 15) -> int | None:
    """Index (in p.csv_rows(), blank lines not counted) of the first row that looks like the column header."""
    for i, row in enumerate(p.csv_rows(limit)):
        if is_header(norm_keys(row)):
            return i
    return None


def physical_header_line(f: SourceFile, is_header: Callable[[set[str]], bool]) -> int:
    """0-based physical line of the column header (report title lines above it are skipped)."""
    import csv

    for i, line in enumerate(head_lines(f.path, f.peek.gz)):
        if not line.strip():
            continue
        row = next(csv.reader([line]), [])
        if is_header(norm_keys(row)):
            return i
    raise LoadFileError(f"{f.path}: no column header row found in the first lines of the report")


def stage_csv(
    con: duckdb.DuckDBPyConnection,
    f: SourceFile,
    header_line: int,
    not_records: str | None = None,
    footer_like: str | None = None,
) -> Table:
    """A CSV report into _ns_tab; `header_line` physical lines (report title, date range ...) are skipped.

    `not_records`: SQL condition (on the first column, `_first`) of rows that are not records (Google's
    "Total: ..." lines): they are dropped, not quarantined. `footer_like`: a LIKE pattern of one-cell footer lines
    (Microsoft's copyright line) that DuckDB rejects for their column count: dropped from the rejects too.
    """
    con.execute(
        f"""create temp table _ns_csv as select * from read_csv({file_lit(f.path)}, skip = {header_line},
            header = true, all_varchar = true, delim = ',', quote = '"', escape = '"', {reader_opts()})"""
    )
    if footer_like is not None:
        con.execute(f"delete from _ns_rej where ltrim(csv_line, '\"') like {lit(footer_like)}")
    cols = [r[0] for r in con.execute("describe _ns_csv").fetchall()]
    rows = numbered(con, "_ns_csv", header_line + 1)
    where = f"where not coalesce({not_records.replace('_first', q(cols[0]))}, false)" if not_records else ""
    con.execute(
        f"""create temp table _ns_tab as
        select cast(rn as bigint) as rn, null::varchar as pre_reason, null::varchar as raw_text,
               {", ".join(q(c) for c in cols)}
        from ({rows}) {where}"""
    )
    con.execute(f"create temp table _ns_tab_rej as {reject_rows(KIND, header_line + 1)}")
    return Table(tuple(cols), is_json=False)


def _json_keys(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            f"""select k from (select unnest(json_keys(line)) as k, rn from {table} where ok)
                group by k order by min(rn), k"""
        ).fetchall()
    ]


def _tab_from_json(con: duckdb.DuckDBPyConnection, table: str) -> Table:
    """_ns_tab from `table`(rn, line, ok): one VARCHAR column per top-level key (nested values as JSON text)."""
    keys = _json_keys(con, table)
    if keys:
        paths = "[" + ", ".join(json_path(k) for k in keys) + "]"
        cols = ", ".join(f"v[{i + 1}] as {q(k)}" for i, k in enumerate(keys))
        vals = f", case when ok then json_extract_string(line, {paths}) end as v"
    else:
        cols, vals = "", ""
    con.execute(
        f"""create temp table _ns_tab as
        select cast(rn as bigint) as rn, case when not ok then {lit(C.REASON_MALFORMED)} end as pre_reason,
               line as raw_text{", " + cols if cols else ""}
        from (select rn, line, ok{vals} from {table})"""
    )
    return Table(tuple(keys), is_json=True)


def stage_jsonl(con: duckdb.DuckDBPyConnection, f: SourceFile) -> Table:
    """JSON Lines (one record a line; a malformed line is one quarantined record)."""
    stage_json_lines(con, f.path)
    con.execute(f"create temp table _ns_tab_rej as {reject_rows(KIND, 0)}")
    return _tab_from_json(con, "_ns_lines")


def stage_json_document(con: duckdb.DuckDBPyConnection, f: SourceFile, array_key: str) -> Table:
    """An API response document `{"<array_key>": [records], "paging": ...}` (several documents: pages in a row)."""
    try:
        con.execute(
            f"""create temp table _ns_items as
            with docs as (
                select row_number() over () as doc, cast(json_extract(json, {json_path(array_key)}) as json[]) as arr
                from read_json_objects({file_lit(f.path)}, format = 'auto')
            )
            select row_number() over (order by doc, i) as rn, cast(arr[i] as varchar) as line,
                   json_type(arr[i]) = 'OBJECT' as ok
            from docs, range(1, coalesce(len(arr), 0) + 1) as r(i)"""
        )
    except duckdb.Error as exc:
        raise LoadFileError(f"{f.path}: not a readable JSON document ({' '.join(str(exc).split())[:200]})") from None
    con.execute(
        f"""create temp table _ns_tab_rej as select null::bigint as row_number, null::varchar as pre_reason,
            null::varchar as raw_text, {contract_select(KIND, {})}, null::json as extra where false"""
    )
    return _tab_from_json(con, "_ns_items")


def finish(
    con: duckdb.DuckDBPyConnection,
    t: Table,
    mapping: Mapping[str, str | None],
    used: Iterable[str | None],
    pre_reason: str | None = None,
) -> None:
    """_ns_src from _ns_tab: `mapping` gives the contract columns; source columns not in `used` go to `extra`.

    `pre_reason`: an extra SQL expression giving a quarantine reason for records that are readable but not
    daily spend rows (e.g. a Meta row covering several days).
    """
    cleaned = {k: v for k, v in mapping.items() if v is not None}
    used_names = {u.strip('"').replace('""', '"') for u in used if u}
    unknown = [c for c in t.columns if c not in used_names]
    if unknown:
        # JSON keeps nested values (Meta's actions[]) as JSON; CSV cells are text
        vals = [f"json_extract(raw_text, {json_path(c)})" if t.is_json else q(c) for c in unknown]
        any_set = " or ".join(f"{q(c)} is not null" for c in unknown)
        obj = ", ".join(f"{lit(c)}, {v}" for c, v in zip(unknown, vals, strict=True))
        # merged into {}: keys whose value is null are dropped
        extra = f"case when {any_set} then json_merge_patch('{{}}', json_object({obj})) end"
    else:
        extra = "null::json"
    reason = "pre_reason" if pre_reason is None else f"coalesce(pre_reason, {pre_reason})"
    con.execute(
        f"""create temp table _ns_src as
        select rn as row_number, {reason} as pre_reason, raw_text, {contract_select(KIND, cleaned)}, {extra} as extra
        from _ns_tab
        union all
        select * from _ns_tab_rej"""
    )


def require(f: SourceFile, t: Table, what: str, expr: str | None, hint: str) -> str:
    """A column the whole file needs (else one clear error naming it and how to get it)."""
    if expr is None:
        raise LoadFileError(f"{f.path}: no {what} column; {hint}")
    return expr


# --------------------------------------------------------------------------------------------------
# Flat tables (one column per field): the mapping from the platform's column names


def first_of(*exprs: str | None) -> str | None:
    """The first non-empty of several columns (a name, else its id)."""
    present = [e for e in exprs if e]
    if len(present) < 2:
        return present[0] if present else None
    return f"coalesce(nullif(trim({present[0]}), ''), {present[1]})"


def flat_mapping(
    f: SourceFile,
    t: Table,
    platform: str,
    roles: Mapping[str, tuple[str, ...]],
    hints: Mapping[str, str],
    account: Callable[[str | None], str | None] = lambda e: e,
) -> tuple[dict[str, str | None], list[str | None]]:
    """(contract mapping, source columns used) of a flat spend table; `roles` names the platform's columns per role
    (date, account, campaign_id, campaign, adset, adset_id, ad, ad_id, impressions, clicks, spend, currency,
    conversions, value, timezone, url). Account, campaign id and currency columns are required of the whole file."""
    c = {role: t.col(*cands) for role, cands in roles.items()}
    for role, what in (("currency", "currency"), ("account", "account"), ("campaign_id", "campaign id")):
        require(f, t, what, c.get(role), hints.get(role, "include it in the export"))
    mapping = {
        "date": day(c.get("date")),
        "platform": lit(platform),
        "account_id": account(c.get("account")),
        "campaign_id": c.get("campaign_id"),
        "campaign_name": c.get("campaign"),
        "adset_name": first_of(c.get("adset"), c.get("adset_id")),
        "ad_name": first_of(c.get("ad"), c.get("ad_id")),
        "impressions": num(c.get("impressions")),
        "clicks": num(c.get("clicks")),
        "spend": num(c.get("spend")),
        "currency": c.get("currency"),
        "platform_conversions": num(c.get("conversions")),
        "platform_conversion_value": num(c.get("value")),
        "account_timezone": iana(c.get("timezone")),
        **utm_columns(t, c.get("url")),
    }
    # the time zone stays in extra too (UI labels are not IANA), and so does a title standing behind an ad id
    used = [v for k, v in c.items() if k != "timezone" and not (k == "ad_id" and c.get("ad"))]
    used += [t.col(k) for k in ("utm_source", "utm_medium", "utm_campaign")]
    return mapping, used
