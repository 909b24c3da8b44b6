"""GA4 BigQuery export: `events_YYYYMMDD` / `events_intraday_YYYYMMDD` tables extracted to JSON Lines or Parquet.

One record is one GA4 event row (one line of `bq extract --destination_format NEWLINE_DELIMITED_JSON`, or one
Parquet row). bq writes INT64 values as JSON strings ("1704355200123456") and leaves NULL fields out; numbers are
read in either form. Parquet keeps the nested STRUCT / LIST types; its rows are turned into the same JSON text, so
both shapes share one mapping (written once, below).

How GA4 maps onto the events contract (docs/sources.md has the full table):
- event_id: md5 of what identifies one event and is the same in the intraday and the daily table of its day
  (stream_id, user_pseudo_id, event_timestamp, event_name, event_bundle_sequence_id, batch_event_index,
  batch_ordering_id, batch_page_id). The loader's event_id de-duplication then makes an intraday row and its daily
  row one event: files load sorted by name, so `events_YYYYMMDD` comes before `events_intraday_YYYYMMDD` and the
  intraday copies count as duplicates; an intraday file loaded earlier means the daily file adds only what is new.
- session_id: stream_id:user_pseudo_id:ga_session_id (GA4's session key); NULL without a ga_session_id param.
- country: GA4 writes English country names; ga4_countries.csv (CLDR English names as GA4 shows them, plus ISO 3166
  names and common variants as aliases) turns them into ISO alpha-2 codes.
"""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path

import duckdb

from northstar.ingest import contract as C
from northstar.sources.base import LoadFileError, Peek, Source, SourceFile
from northstar.sources.landing import read_parquet_sql
from northstar.sources.sql import (
    FIELD_SEP,
    clean,
    file_lit,
    is_blank,
    lit,
    q,
    reader_opts,
    reject_rows,
    starts_with_brace,
)

COUNTRIES_CSV = Path(__file__).with_name("ga4_countries.csv")
# What `generate --as ga4` writes as the (made-up) web data stream and platform of its one property.
EXPORT_STREAM_ID = "4117306512"
EXPORT_PLATFORM = "WEB"

_ID_KEYS = frozenset({"event_timestamp", "event_name", "user_pseudo_id"})
_GA4_KEYS = frozenset({"event_params", "stream_id", "event_bundle_sequence_id", "event_date"})

# The parts of a GA4 row that are read. Scalars as VARCHAR keep a number's text (INT64 may come as "42" or 42);
# what only goes to properties or extra stays JSON, as GA4 wrote it. _RECORDS below adds the partly mapped records.
_VALUE = {"string_value": "VARCHAR", "int_value": "VARCHAR", "float_value": "VARCHAR", "double_value": "VARCHAR"}
_ROW_TYPE = {
    "event_date": "JSON",
    "event_timestamp": "VARCHAR",
    "event_name": "VARCHAR",
    "event_params": [{"key": "VARCHAR", "value": _VALUE}],
    "event_previous_timestamp": "JSON",
    "event_value_in_usd": "JSON",
    "event_bundle_sequence_id": "VARCHAR",
    "event_server_timestamp_offset": "JSON",
    "batch_event_index": "VARCHAR",
    "batch_ordering_id": "VARCHAR",
    "batch_page_id": "VARCHAR",
    "user_id": "VARCHAR",
    "user_pseudo_id": "VARCHAR",
    "user_first_touch_timestamp": "JSON",
    "is_active_user": "JSON",
    "user_properties": "JSON",
    "user_ltv": "JSON",
    "app_info": "JSON",
    "traffic_source": "JSON",
    "stream_id": "VARCHAR",
    "platform": "VARCHAR",
    "event_dimensions": "JSON",
    "items": "JSON",
    "session_traffic_source_last_click": "JSON",
    "publisher": "JSON",
}
# Top-level fields kept in `extra` as GA4 wrote them. Not kept: event_bundle_sequence_id and batch_* (they only
# identify the event: event_id is made from them) and event_date when it is the UTC day of event_timestamp.
_EXTRA_SCALARS = (
    "event_previous_timestamp",
    "event_value_in_usd",
    "event_server_timestamp_offset",
    "user_first_touch_timestamp",
    "is_active_user",
)
_EXTRA_RECORDS = ("user_ltv", "app_info", "traffic_source", "event_dimensions", "publisher")
# Records of which some fields are mapped: (mapped fields, the other fields of Google's schema). The mapped ones
# are read as text; the others stay JSON (as GA4 wrote them) and the record goes to `extra` when one is set. Typed
# here (not read as one JSON value and parsed again) because that second parse cost more than all the rest.
_RECORDS = {
    "device": (
        ("category",),
        (
            "mobile_brand_name",
            "mobile_model_name",
            "mobile_marketing_name",
            "mobile_os_hardware_model",
            "operating_system",
            "operating_system_version",
            "vendor_id",
            "advertising_id",
            "language",
            "is_limited_ad_tracking",
            "time_zone_offset_seconds",
            "browser",
            "browser_version",
            "web_info",
        ),
    ),
    "geo": (("country",), ("city", "continent", "region", "sub_continent", "metro")),
    "privacy_info": (("analytics_storage",), ("ads_storage", "uses_transient_token")),
    "ecommerce": (
        ("transaction_id", "purchase_revenue"),
        (
            "total_item_quantity",
            "purchase_revenue_in_usd",
            "refund_value_in_usd",
            "refund_value",
            "shipping_value_in_usd",
            "shipping_value",
            "tax_value_in_usd",
            "tax_value",
            "unique_items",
        ),
    ),
    "collected_traffic_source": (
        (
            "manual_source",
            "manual_medium",
            "manual_campaign_name",
            "manual_term",
            "manual_content",
            "gclid",
            "dclid",
            "srsltid",
        ),
        ("manual_campaign_id", "manual_source_platform", "manual_creative_format", "manual_marketing_tactic"),
    ),
}
for _rec, (_mapped, _other) in _RECORDS.items():
    _ROW_TYPE[_rec] = {**dict.fromkeys(_mapped, "VARCHAR"), **dict.fromkeys(_other, "JSON")}
# What identifies one event, the same in the intraday and the daily table (event_id is their md5).
_ID_FIELDS = (
    "stream_id",
    "user_pseudo_id",
    "event_timestamp",
    "event_name",
    "event_bundle_sequence_id",
    "batch_event_index",
    "batch_ordering_id",
    "batch_page_id",
)
_PARAMS = (
    "page_location",
    "page_referrer",
    "ga_session_id",
    "ga_session_number",
    "source",
    "medium",
    "campaign",
    "term",
    "content",
    "gclid",
    "currency",
    "value",
    "transaction_id",
)
_DEVICES = ("desktop", "mobile", "tablet")
_BLANK = "'_blank_line'"  # pre_reason of blank lines until they are deleted (never seen by the loader)


def looks_like(p: Peek) -> bool:
    """GA4 export rows: event_timestamp, event_name and user_pseudo_id plus a GA4-only field (event_params ...)."""
    if p.fmt not in ("jsonl", "parquet"):
        return False
    return p.keys >= _ID_KEYS and bool(_GA4_KEYS & p.keys)


def _countries_sql() -> str:
    """(key, iso2): every lower-cased name and alias of ga4_countries.csv."""
    return f"""
        select distinct lower(trim(n)) as key, iso2
        from (
            select iso2, unnest(list_concat([name], coalesce(string_split(aliases, '|'), []))) as n
            from read_csv({file_lit(COUNTRIES_CSV)}, header = true, all_varchar = true, delim = ',', quote = '"')
        )
    """


def _json_part(key: str, json_expr: str) -> str:
    """'"key":<json>' or NULL when the value is NULL (concat_ws then leaves it out)."""
    return f"{lit(json.dumps(key) + ':')} || {json_expr}"


def _mapping(lines: str) -> tuple[str, dict[str, str], str]:
    """(SQL of the parsed rows `g`, contract column -> SQL over g, extra SQL).

    `lines` gives (rn, line, ok): one GA4 row per line as JSON text. `g` holds the parsed row `r` (_ROW_TYPE), the
    event_params as parallel lists pk (keys) and pv (values as text), the params read as p_<key>, and the fields
    device category and country name trimmed as dev and geo.
    """
    picks = ", ".join(
        f"pv[list_position(pk, {lit(k)})] as {q('p_' + k)}"  # list_position: NULL when the key is not there
        for k in _PARAMS
    )
    g = f"""
        select *, lower(trim(r.device.category)) as dev, trim(r.geo.country) as geo
        from (
        select rn, line, ok, r, pk, pv, {picks}
        from (
            select rn, line, ok, r,
                   list_transform(r.event_params, lambda p: p.key) as pk,
                   list_transform(r.event_params, lambda p: coalesce(p.value.string_value, p.value.int_value,
                       p.value.double_value, p.value.float_value)) as pv
            from (select rn, line, ok and r is not null as ok, r
                  from (select *, try(from_json(line, {lit(json.dumps(_ROW_TYPE))})) as r from ({lines})))
        ))
    """

    def nn(expr: str) -> str:  # GA4 writes '(not set)' where it has no value
        return f"nullif(nullif({expr}, ''), '(not set)')"

    stream, pseudo = "r.stream_id", "r.user_pseudo_id"
    # concat: NULL -> '' and every separator stays, so each field keeps its place in the hashed text
    id_parts = ", '|', ".join(f"r.{k}" for k in _ID_FIELDS)
    micros = "try_cast(r.event_timestamp as bigint)"  # the cast allows surrounding blanks
    device = "dev"
    cts = {f: nn(f"r.collected_traffic_source.{f}") for f in _RECORDS["collected_traffic_source"][0]}
    is_purchase = "r.event_name = 'purchase'"
    mapping = {
        "event_id": f"md5(concat({id_parts}))",
        # micros -> timestamp text; a value that is no number is passed on as it is (the loader says bad_timestamp)
        "occurred_at": f"coalesce(cast({_timestamp(micros)} as varchar), r.event_timestamp)",
        "anonymous_id": pseudo,
        "user_id": "r.user_id",
        "session_id": f"coalesce({stream}, '') || ':' || {pseudo} || ':' || nullif(trim(p_ga_session_id), '')",
        "event_name": "r.event_name",
        "page_url": "p_page_location",
        "page_referrer": "p_page_referrer",
        "utm_source": f"coalesce({cts['manual_source']}, {nn('p_source')})",
        "utm_medium": f"coalesce({cts['manual_medium']}, {nn('p_medium')})",
        "utm_campaign": f"coalesce({cts['manual_campaign_name']}, {nn('p_campaign')})",
        "utm_content": f"coalesce({cts['manual_content']}, {nn('p_content')})",
        "utm_term": f"coalesce({cts['manual_term']}, {nn('p_term')})",
        "click_id": f"coalesce({cts['gclid']}, {cts['dclid']}, {cts['srsltid']}, {nn('p_gclid')})",
        "device_category": f"case when {device} in {tuple(_DEVICES)} then {device} end",
        "country": "coalesce(cn.iso2, case when length(geo) = 2 then upper(geo) end)",
        "order_id": f"coalesce({nn('r.ecommerce.transaction_id')}, {nn('p_transaction_id')})",
        "revenue": f"coalesce(r.ecommerce.purchase_revenue, case when {is_purchase} then p_value end)",
        "currency": "p_currency",
        "consent_analytics": """case lower(trim(r.privacy_info.analytics_storage))
            when 'no' then 'false' when 'yes' then 'true' end""",
        "properties": _properties_sql(device),
    }
    return g, mapping, _extra_sql(micros)


def _timestamp(micros: str) -> str:
    """Unix microseconds -> timestamp; NULL outside years 1-9999 (make_timestamp would fail the statement)."""
    return f"case when {micros} between -62135596800000000 and 253402300799999999 then make_timestamp({micros}) end"


def _param_json() -> str:
    """One event param's value as JSON (lambda body over `p`): the typed slot that is set."""
    return """coalesce(to_json(p.value.string_value), to_json(try_cast(p.value.int_value as bigint)),
        to_json(try_cast(p.value.double_value as double)), to_json(try_cast(p.value.float_value as double)),
        to_json(p.value.int_value), 'null')"""


def _properties_sql(device: str) -> str:
    """properties: stream, platform, session number, the other event params, user properties, items, GA4's own
    session attribution, and GA4 values the contract columns cannot hold (another device category, a country name
    not in the table). Built as one concat (every row has it: intermediate strings cost)."""
    known = [k for k in _PARAMS if k != "value"]  # `value` stays: revenue only takes it on purchases
    other = f"list_filter(r.event_params, lambda p: p.key not in ({', '.join(lit(k) for k in known)}))"
    other_obj = f"""nullif('{{' || array_to_string(list_transform({other},
        lambda p: to_json(p.key) || ':' || {_param_json()}), ',') || '}}', '{{}}')"""
    # more params than known ones found: some param is another one (counting is cheaper than filtering every row)
    n_known = " + ".join(f"({q('p_' + k)} is not null)::int" for k in known)
    optional = [
        ("ga_session_number", "to_json(try_cast(p_ga_session_number as bigint))"),
        ("event_params", f"case when len(pk) > {n_known} then {other_obj} end"),
        ("user_properties", "nullif(cast(r.user_properties as varchar), '[]')"),
        ("items", "nullif(cast(r.items as varchar), '[]')"),
        ("session_traffic_source_last_click", "cast(r.session_traffic_source_last_click as varchar)"),
        ("device_category", f"case when {device} not in {tuple(_DEVICES)} then to_json({device}) end"),
        ("geo_country", "case when cn.iso2 is null and length(geo) <> 2 and geo <> '(not set)' then to_json(geo) end"),
    ]
    parts = ", ".join(f"{lit(',' + json.dumps(k) + ':')} || {v}" for k, v in optional)  # NULL parts: '' in concat
    return f"""concat('{{"ga4_stream_id":', coalesce(to_json(r.stream_id), 'null'), ',"platform":',
        coalesce(to_json(r.platform), 'null'), {parts}, '}}')"""


def _extra_sql(micros: str) -> str:
    """extra: the GA4 fields no contract column or property holds, as GA4 wrote them."""
    utc_day = f"strftime({_timestamp(micros)}, '%Y%m%d')"
    parts = [
        _json_part("event_date", f"case when r.event_date <> to_json({utc_day}) then cast(r.event_date as varchar) end")
    ]
    parts += [_json_part(k, f"cast(r.{k} as varchar)") for k in _EXTRA_SCALARS + _EXTRA_RECORDS]
    for rec, (mapped, other) in _RECORDS.items():
        # the record when it holds more than its mapped fields (fields outside Google's schema are not read)
        # mapped fields were read as text: numbers (purchase_revenue) go back as numbers
        fields = [
            _json_part(k, f"coalesce(cast(try_cast(r.{rec}.{k} as double) as varchar), to_json(r.{rec}.{k}))")
            if k == "purchase_revenue"
            else _json_part(k, f"to_json(r.{rec}.{k})")
            for k in mapped
        ]
        fields += [_json_part(k, f"cast(r.{rec}.{k} as varchar)") for k in other]
        cond = f"coalesce({', '.join(f'r.{rec}.{k}' for k in other)}) is not null"
        parts.append(_json_part(rec, f"case when {cond} then '{{' || concat_ws(',', {', '.join(fields)}) || '}}' end"))
    return f"cast(nullif('{{' || concat_ws(',', {', '.join(parts)}) || '}}', '{{}}') as json)"


# Contract columns whose SQL gives clean text already: not trimmed again. URLs and GA4's own ids and names (which
# never hold blanks) are not trimmed either, only emptied when blank: copying long strings costs on every row.
_CLEAN = frozenset({"event_id", "occurred_at", "device_category", "country", "consent_analytics", "properties"})
_NO_TRIM = frozenset({"page_url", "page_referrer", "session_id", "anonymous_id", "event_name"})


def _select(mapping: dict[str, str]) -> str:
    """sql.contract_select, without the trim of the columns in _CLEAN (it costs on every row of a big file)."""
    out = []
    for c in C.CONTRACT["events"]:
        expr = mapping.get(c.name)
        if expr is None:
            out.append(f"null::varchar as {q(c.name)}")
        elif c.name in _CLEAN:
            out.append(f"cast({expr} as varchar) as {q(c.name)}")
        elif c.name in _NO_TRIM:
            out.append(f"nullif(cast({expr} as varchar), '') as {q(c.name)}")
        else:
            out.append(f"{clean(f'cast({expr} as varchar)')} as {q(c.name)}")
    return ", ".join(out)


def _create_src(con: duckdb.DuckDBPyConnection, lines: str) -> None:
    """_ns_src from `lines` (rn, line, ok), in one statement: reading, parsing and mapping run in one parallel
    pipeline (a 100k-row day is one row group of a temp table, which later statements would scan on one thread)."""
    g, mapping, extra = _mapping(lines)
    con.execute(
        f"""create temp table _ns_src as
        select cast(g.rn as bigint) as row_number,
               case when not g.ok then
                   case when {is_blank("g.line")} then {_BLANK} else {lit(C.REASON_MALFORMED)} end
               end as pre_reason,
               g.line as raw_text,
               {_select(mapping)},
               {extra} as extra
        from ({g}) as g
        left join ({_countries_sql()}) as cn on cn.key = lower(g.geo)"""
    )


def _stage_json_lines(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    """Like sql.stage_json_lines + a select over _ns_lines, fused: each line is read as text (a malformed line is
    one quarantined record), parsed and mapped as it is read; record numbers are set afterwards from the table's
    file order (rowid), blank lines dropped, and lines the reader rejected (invalid UTF-8) added.

    The reader first runs without keeping rejected lines (DuckDB then reads the file on several threads); a file it
    cannot read that way (invalid UTF-8, a line over the size limit) is read again keeping them, on one thread."""
    opts = "columns = {'line': 'varchar'}, header = false, quote = '', escape = '', auto_detect = false"
    path = file_lit(f.path)
    try:
        _create_src(con, _lines_sql(f"read_csv({path}, {opts}, delim = {lit(FIELD_SEP)})"))
        n_rej = 0
    except duckdb.Error:
        con.execute("drop table if exists _ns_src")
        _create_src(con, _lines_sql(f"read_csv({path}, {opts}, delim = {lit(FIELD_SEP)}, {reader_opts()})"))
        n_rej = con.execute("select count(distinct line) from _ns_rej").fetchone()[0]
    if n_rej == 0:
        con.execute("update _ns_src set row_number = rowid + 1")
    else:
        # the k-th row read sits on the k-th line number that was not rejected
        total = con.execute("select count(*) from _ns_src").fetchone()[0] + n_rej
        con.execute(
            f"""update _ns_src set row_number = slots.rn
            from (select n as rn, row_number() over (order by n) - 1 as rid
                  from range(1, {total} + 1) as r(n) where n not in (select line from _ns_rej)) as slots
            where slots.rid = _ns_src.rowid"""
        )
    # blank lines are no records (they were read to keep the line numbers)
    n_lines, n_objects, n_blank = con.execute(
        f"""select count(*), count(*) filter (where pre_reason is null), count(*) filter (where pre_reason = {_BLANK})
        from _ns_src"""
    ).fetchone()
    if n_blank:
        con.execute(f"delete from _ns_src where pre_reason = {_BLANK}")
        n_lines -= n_blank
    if n_lines and not n_objects:
        raise LoadFileError(
            f"{f.path}: not JSON Lines: none of its {n_lines:,} lines is a JSON object", "not_json_lines"
        )
    if n_rej:
        con.execute(f"insert into _ns_src {reject_rows('events', 0)}")


def _lines_sql(reader: str) -> str:
    """(rn, line, ok) of a line reader; rn is set later (see _stage_json_lines)."""
    return f"""select null::bigint as rn, line, coalesce({starts_with_brace("line")}, false) as ok
        from (select ltrim(line, chr(65279)) as line from {reader})"""


def stage(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    if f.peek.fmt != "parquet":
        _stage_json_lines(con, f)
        return
    # Parquet rows become the JSON text bq would have written (NULL fields left out), so both shapes share the mapping
    source_sql = read_parquet_sql(f)
    names = [d[0] for d in con.execute(f"describe {source_sql}").fetchall() if d[0] != "file_row_number"]
    row = "{" + ", ".join(f"{lit(n)}: {q(n)}" for n in names) + "}"
    line = f"cast(json_merge_patch('{{}}', to_json({row})) as varchar)"
    _create_src(con, f"select file_row_number + 1 as rn, {line} as line, true as ok from ({source_sql})")


# --------------------------------------------------------------------------------------------------
# export: contract events -> one events_YYYYMMDD.json per UTC day, as `bq extract` writes them


@cache
def _export_names() -> dict[str, str]:
    """iso2 -> the country name GA4 writes (the `name` column of ga4_countries.csv)."""
    import csv

    with COUNTRIES_CSV.open(encoding="utf-8", newline="") as fh:
        return {row["iso2"]: row["name"] for row in csv.DictReader(fh)}


def _param(key: str, slot: str, expr: str) -> str:
    """One event_params element as JSON text, NULL when expr is NULL. INT64 values are strings, as bq writes them."""
    value = f"'\"' || {expr} || '\"'" if slot == "int_value" else f"to_json({expr})"
    return f'\'{{"key":"{key}","value":{{"{slot}":\' || {value} || \'}}}}\''


def _object(parts: list[str]) -> str:
    """'{...}' of the non-NULL parts, NULL when every part is NULL."""
    return f"'{{' || nullif(concat_ws(',', {', '.join(parts)}), '') || '}}'"


def _click(param: str) -> str:
    """The click id when page_url carries it as `param` (GA4 keeps gclid, dclid and srsltid only)."""
    return f"case when contains(page_url, '{param}=' || click_id) then click_id end"


def export_sql(stream_id: str = EXPORT_STREAM_ID) -> str:
    """(day, line) for every row of contract_events: day = YYYYMMDD (UTC), line = the GA4 row as bq writes it."""
    names = _export_names()
    country_map = "map {" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in sorted(names.items())) + "}"
    params = [
        _param("page_location", "string_value", "page_url"),
        _param("page_referrer", "string_value", "page_referrer"),
        _param("ga_session_id", "int_value", "cast(s.ga_session_id as varchar)"),
        _param("source", "string_value", "utm_source"),
        _param("medium", "string_value", "utm_medium"),
        _param("campaign", "string_value", "utm_campaign"),
        _param("term", "string_value", "utm_term"),
        _param("content", "string_value", "utm_content"),
        _param("gclid", "string_value", _click("gclid")),
        _param("currency", "string_value", "currency"),
        _param("value", "double_value", "cast(revenue as double)"),
    ]
    cts = _object(
        [
            _json_part("manual_campaign_name", "to_json(utm_campaign)"),
            _json_part("manual_source", "to_json(utm_source)"),
            _json_part("manual_medium", "to_json(utm_medium)"),
            _json_part("manual_term", "to_json(utm_term)"),
            _json_part("manual_content", "to_json(utm_content)"),
            _json_part("gclid", f"to_json({_click('gclid')})"),
            _json_part("dclid", f"to_json({_click('dclid')})"),
            _json_part("srsltid", f"to_json({_click('srsltid')})"),
        ]
    )
    ecommerce = _object(
        [
            _json_part("transaction_id", "to_json(order_id)"),
            _json_part("purchase_revenue", "to_json(cast(revenue as double))"),
        ]
    )
    country = f"coalesce({country_map}[country], country)"
    line = _object(
        [
            _json_part("event_date", "to_json(strftime(occurred_at, '%Y%m%d'))"),
            _json_part("event_timestamp", "'\"' || epoch_us(occurred_at) || '\"'"),
            _json_part("event_name", "to_json(event_name)"),
            _json_part("event_params", f"'[' || concat_ws(',', {', '.join(params)}) || ']'"),
            # a per-event number standing in for GA4's upload counter: keeps two events of one device at the same
            # microsecond with the same name apart (they would share an event_id otherwise)
            _json_part("event_bundle_sequence_id", "'\"' || (md5_number_lower(event_id) >> 24) || '\"'"),
            _json_part("user_id", "to_json(user_id)"),
            _json_part("user_pseudo_id", "to_json(anonymous_id)"),
            _json_part(
                "privacy_info",
                "'{\"analytics_storage\":' || case consent_analytics when true then '\"Yes\"'"
                " when false then '\"No\"' end || '}'",
            ),
            _json_part("device", "'{\"category\":' || to_json(device_category) || '}'"),
            _json_part("geo", f"'{{\"country\":' || to_json({country}) || '}}'"),
            _json_part("collected_traffic_source", cts),
            _json_part("ecommerce", ecommerce),
            _json_part("stream_id", f"to_json({lit(stream_id)})"),
            _json_part("platform", f"to_json({lit(EXPORT_PLATFORM)})"),
        ]
    )
    # ga_session_id is the session's start in Unix seconds, as GA4 sets it. A device's sessions must keep distinct
    # ids: in start order, each takes its start or, when an earlier one took that second, the next one up
    # (i + running max of start - i: strictly increasing, equal to the start whenever there is room).
    return f"""
        with starts as (
            select anonymous_id, session_id, epoch(min(occurred_at))::bigint as start_s
            from contract_events where session_id is not null group by all
        ),
        numbered as (
            select *, row_number() over (partition by anonymous_id order by start_s, session_id) as i from starts
        ),
        sessions as (
            select anonymous_id, session_id,
                   i + max(start_s - i) over (partition by anonymous_id order by i rows unbounded preceding)
                       as ga_session_id
            from numbered
        )
        select strftime(occurred_at, '%Y%m%d') as day, {line} as line
        from contract_events as e
        left join sessions as s using (anonymous_id, session_id)
        order by occurred_at, event_id
    """


def export(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """contract_events as GA4 daily tables extracted with bq: out_dir/events_YYYYMMDD.json (JSON Lines)."""
    out_dir = Path(out_dir)
    tmp = out_dir / "_ga4_export"
    shutil.rmtree(tmp, ignore_errors=True)
    con.execute(
        f"""copy ({export_sql()}) to {lit(str(tmp))}
        (format csv, header false, quote '', escape '', delimiter '\t', partition_by (day), overwrite_or_ignore true)"""
    )
    files: list[Path] = []
    for part in sorted(tmp.glob("day=*")):
        target = out_dir / f"events_{part.name.removeprefix('day=')}.json"
        chunks = sorted(part.glob("*.csv"))
        if len(chunks) == 1:
            shutil.move(str(chunks[0]), target)
        else:
            with target.open("wb") as out:
                for c in chunks:
                    with c.open("rb") as fh:
                        shutil.copyfileobj(fh, out)
        files.append(target)
    shutil.rmtree(tmp, ignore_errors=True)
    return files


SOURCE = Source(
    name="ga4",
    kind="events",
    title="GA4 BigQuery export",
    shapes=(
        "events_YYYYMMDD / events_intraday_YYYYMMDD tables extracted with `bq extract` to JSON Lines"
        " (--destination_format NEWLINE_DELIMITED_JSON, optionally .gz)",
        "the same tables extracted to Parquet (--destination_format PARQUET)",
    ),
    looks_like=looks_like,
    stage=stage,
    export=export,
    order=20,
)
