"""What the CRM adapters (hubspot.py, salesforce.py) share: the stage-mapping seed, reading records, and turning
stage changes into `_ns_src`.

Each adapter reads its file into `_ns_crm_recs` (one JSON record per contact / deal / lead / opportunity) and
writes the record's stage changes into `_ns_crm_changes` (columns in CHANGE_COLUMNS). `finish()` then looks every
CRM value up in seeds/crm_stage_mapping.csv (a DuckDB join: editing the CSV changes the mapping, not the code)
and writes `_ns_src`:
- a value the seed maps to a stage gives a row with that stage;
- a value the seed lists with an empty stage is ignored (not a record: it is not counted as read);
- a value the seed does not list is quarantined with the reason `unmapped_stage:<field>=<value>`
  (unless the adapter gives a fallback stage, e.g. Salesforce IsWon / IsClosed);
- consecutive changes of one record that map to the same stage (appointmentscheduled -> qualifiedtobuy, both
  `opportunity`) give one row, the first.
One `_ns_src` row is one stage change; row_number numbers them in file order (record, then time).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from northstar import config
from northstar.ingest import contract as C
from northstar.sources.base import LoadFileError, SourceFile
from northstar.sources.sql import (
    contract_select,
    file_lit,
    lit,
    max_object_size,
    numbered,
    reader_opts,
    reject_rows,
    stage_json_lines,
)

STAGES = next(c.values for c in C.LEADS if c.name == "stage")
_MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024
_SEED_OPTS = "header = true, delim = ',', quote = '\"', escape = '\"'"

# _ns_crm_changes: one row per candidate stage change (adapters insert with `insert into ... by name`).
CHANGE_COLUMNS = {
    "rec_no": "bigint",  # the record's number in the file (line, array element, CSV row)
    "track": "varchar",  # changes of one record that follow each other (e.g. 'lead', 'deal')
    "sub": "bigint",  # order of changes with the same timestamp
    "object": "varchar",  # seed column `object`: contact, deal, lead, opportunity
    "field": "varchar",  # seed column `field`: lifecyclestage, dealstage, Status, StageName
    "value": "varchar",  # the CRM value looked up in the seed
    "preset_stage": "varchar",  # a stage decided without the seed (record created -> lead / opportunity)
    "fallback_stage": "varchar",  # used when the seed does not list the value (Salesforce IsWon / IsClosed)
    "lead_id": "varchar",
    "changed_at": "varchar",
    "changed_at_closed": "varchar",  # replaces changed_at when the stage is won or lost (a close date)
    "user_id": "varchar",
    "deal_value": "varchar",
    "currency": "varchar",
    "extra": "json",
    "raw_text": "varchar",
    "pre_reason": "varchar",
}


def seed_path() -> Path:
    return config.PROJECT_DIR / "seeds" / "crm_stage_mapping.csv"


def load_mapping(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Temp table `_ns_crm_map(object, field, value, stage)` of one source, keys lower-cased; checked."""
    path = seed_path()
    if not path.is_file():
        raise LoadFileError(f"{path}: the CRM stage mapping seed is missing; restore seeds/crm_stage_mapping.csv")
    cols = {
        r[0].strip().lower()
        for r in con.execute(f"describe select * from read_csv({file_lit(path)}, {_SEED_OPTS})").fetchall()
    }
    missing = {"source", "object", "field", "source_value", "stage"} - cols
    if missing:
        raise LoadFileError(f"{path}: the stage mapping has no column {', '.join(sorted(missing))}")
    con.execute(
        f"""create temp table _ns_crm_map as
        select distinct lower(trim(object)) as object, lower(trim(field)) as field,
               lower(trim(source_value)) as value, nullif(lower(trim(stage)), '') as stage
        from read_csv({file_lit(path)}, all_varchar = true, {_SEED_OPTS})
        where lower(trim(source)) = {lit(source)} and nullif(trim(source_value), '') is not null"""
    )
    bad = con.execute(
        f"""select object, field, value, string_agg(coalesce(stage, '(empty)'), ' / ') from _ns_crm_map
        group by all having count(*) > 1 or bool_or(stage is not null and stage not in ({", ".join(map(lit, STAGES))}))
        limit 1"""
    ).fetchone()
    if bad:
        raise LoadFileError(
            f"{path}: {source} {bad[0]} {bad[1]} {bad[2]!r} maps to {bad[3]}: one stage of {', '.join(STAGES)}"
            " (or empty to ignore the value) per value"
        )


def mapped_fields(con: duckdb.DuckDBPyConnection, obj: str) -> list[str]:
    """The CRM fields the seed lists for one object (lower-cased)."""
    return [
        r[0]
        for r in con.execute("select distinct field from _ns_crm_map where object = ? order by 1", [obj]).fetchall()
    ]


def read_document(con: duckdb.DuckDBPyConnection, f: SourceFile, array_key: str | None) -> None:
    """`_ns_crm_recs(rec_no, rec, pre_reason, raw)` from JSON documents (one, pretty-printed or on one line, or
    one per line as paged API responses): the elements of each one's array `array_key` (or of the document itself
    when it is an array), numbered across the pages in file order."""
    path_expr = f"$.{array_key}[*]" if array_key else "$[*]"
    con.execute(
        f"""create temp table _ns_crm_recs as
        select cast(row_number() over (order by page, i) as bigint) as rec_no, rec,
               null::varchar as pre_reason, null::varchar as raw
        from (
            select page, unnest(range(1, len(l) + 1)) as i, unnest(l) as rec
            from (
                select row_number() over () as page, json_extract(json, {lit(path_expr)}) as l
                from read_json_objects({file_lit(f.path)}, format = 'auto',
                                       maximum_object_size = {max_object_size(f.path, f.peek.gz, _MAX_DOCUMENT_BYTES)})
            )
        )"""
    )


def read_json_lines(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    """`_ns_crm_recs` from JSON Lines: one record per line; malformed / undecodable lines keep their reason."""
    stage_json_lines(con, f.path)
    con.execute(
        f"""create temp table _ns_crm_recs as
        select cast(rn as bigint) as rec_no, case when ok then cast(line as json) end as rec,
               case when not ok then {lit(C.REASON_MALFORMED)} end as pre_reason, line as raw
        from _ns_lines
        union all
        select row_number, null, pre_reason, raw_text from ({reject_rows("leads", 0)})"""
    )


def read_csv_records(
    con: duckdb.DuckDBPyConnection, f: SourceFile, known: list[str], parents: dict[str, list[str]]
) -> None:
    """`_ns_crm_recs` from a CSV export: each row as a JSON object with the API names in `known` (header names are
    matched case-insensitively: Data Loader writes them upper-case); `Parent.Field` columns of a parent in `parents`
    become a nested object (as the REST API returns relationship fields). Other columns are not read."""
    src = f"""select * from read_csv({file_lit(f.path)}, all_varchar = true, header = true, delim = ',',
        quote = '"', escape = '"', {reader_opts()})"""
    con.execute(f"create temp table _ns_crm_csv as {src}")
    canon = {k.lower(): k for k in known}
    parent_canon = {k.lower(): (k, {c.lower(): c for c in v}) for k, v in parents.items()}
    top: dict[str, str] = {}
    nested: dict[str, dict[str, str]] = {}
    for (name,) in con.execute("select column_name from (describe _ns_crm_csv)").fetchall():
        low = name.strip().lower()
        parent, _, child = low.partition(".")
        if child and parent in parent_canon and child in parent_canon[parent][1]:
            pname, fields = parent_canon[parent]
            nested.setdefault(pname, {})[fields[child]] = name
        elif not child and low in canon:
            top[canon[low]] = name
    parts = [f"{lit(k)}, nullif(trim({_q(v)}), '')" for k, v in top.items()]
    for pname, fields in nested.items():
        obj = ", ".join(f"{lit(k)}, nullif(trim({_q(v)}), '')" for k, v in fields.items())
        any_set = " or ".join(f"nullif(trim({_q(v)}), '') is not null" for v in fields.values())
        parts.append(f"{lit(pname)}, case when {any_set} then json_object({obj}) end")
    rec = f"json_object({', '.join(parts)})" if parts else "json_object()"
    con.execute(
        f"""create temp table _ns_crm_recs as
        select cast(rn as bigint) as rec_no, {rec} as rec, null::varchar as pre_reason, null::varchar as raw
        from ({numbered(con, "_ns_crm_csv", 1)})
        union all
        select row_number, null, pre_reason, raw_text from ({reject_rows("leads", 1)})"""
    )


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def create_changes(con: duckdb.DuckDBPyConnection) -> None:
    """Empty `_ns_crm_changes`, with the records that could not be read already in it (quarantined as they are)."""
    cols = ", ".join(f"{k} {t}" for k, t in CHANGE_COLUMNS.items())
    con.execute(f"create temp table _ns_crm_changes ({cols})")
    con.execute(
        """insert into _ns_crm_changes by name
        select rec_no, 0 as sub, pre_reason, raw as raw_text from _ns_crm_recs where pre_reason is not null"""
    )


def ts(expr: str) -> str:
    """A CRM timestamp as ISO text: epoch milliseconds (older HubSpot APIs, connectors) become ISO; others as is."""
    e = f"nullif(trim(cast({expr} as varchar)), '')"
    return (
        f"case when regexp_full_match({e}, '[0-9]{{11,14}}') "
        f"then strftime(epoch_ms(cast({e} as bigint)), '%Y-%m-%dT%H:%M:%S.%gZ') else {e} end"
    )


def finish(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    """`_ns_src` from `_ns_crm_changes` and the mapping (see the module doc)."""
    n_rec, n_changes = con.execute(
        "select (select count(*) from _ns_crm_recs where rec is not null), count(*) from _ns_crm_changes"
    ).fetchone()
    if n_rec and not n_changes:
        raise LoadFileError(
            f"{f.path}: none of its {n_rec:,} records has a stage or a stage history the loader can read"
            " (see docs/sources.md for the properties / fields to export)"
        )
    mapping = {
        "lead_id": "lead_id",
        "changed_at": "changed_at",
        "user_id": "user_id",
        "stage": "stage",
        "deal_value": "deal_value",
        "currency": "currency",
    }
    con.execute(
        f"""create temp table _ns_src as
        with joined as (
            select c.*, m.value is not null as in_seed,
                   coalesce(c.preset_stage, case when m.value is not null then m.stage else c.fallback_stage end)
                       as stage_final
            from _ns_crm_changes as c
            left join _ns_crm_map as m
                on m.object = lower(c.object) and m.field = lower(c.field) and m.value = lower(trim(c.value))
        ),
        resolved as (
            select *, pre_reason is null and (preset_stage is not null or in_seed or fallback_stage is not null)
                       as known
            from joined
        ),
        kept as (
            -- a value the seed lists without a stage is ignored
            select *, case when known and stage_final in ('won', 'lost') and changed_at_closed is not null
                           then changed_at_closed else changed_at end as change_at
            from resolved
            where not known or stage_final is not null
        ),
        ordered as (
            select *, try_cast(change_at as timestamptz) as at_ts,
                   lag(case when known then stage_final end) over (
                       partition by rec_no, track order by try_cast(change_at as timestamptz) nulls first, sub
                   ) as previous_stage
            from kept
        )
        select cast(row_number() over (order by rec_no, track, at_ts nulls first, sub) as bigint) as row_number,
               coalesce(pre_reason, case when not known then 'unmapped_stage:' || field || '='
                                         || coalesce(value, '(empty)') end) as pre_reason,
               raw_text,
               {contract_select("leads", mapping | {"changed_at": "change_at", "stage": "stage_final"})},
               extra
        from ordered
        where not known or previous_stage is distinct from stage_final"""
    )
