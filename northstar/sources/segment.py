"""Segment (and RudderStack) messages: `track`, `page`, `screen`, `identify` (and `group`, `alias`) as their specs
document them, mapped onto the events contract.

Files: JSON Lines, one message per line (what Segment's S3 / warehouse destinations, RudderStack's object-storage
destinations or a batch export write), or one JSON document `{"batch": [...]}` as the HTTP tracking API's
/v1/batch takes (a bare top-level array of messages is read the same way); any of them gzip-compressed.
One record = one message (a line, or one element of the batch array).

Mapping (field names of the Segment Spec; RudderStack uses the same shape plus `rudderId`, `channel`, `request_ip`):
    event_id        messageId
    occurred_at     timestamp, else originalTimestamp, else receivedAt
    anonymous_id    anonymousId, else userId (server-side calls often carry only userId: the user is then their
                    own device, so the row is kept and stitches to itself); alias: previousId first (alias says
                    previousId and userId are one person, which is what identity stitching reads)
    user_id         userId
    session_id      context.sessionId (RudderStack session tracking; Segment has none)
    event_name      page / screen -> page_view; identify -> identify; group -> group; alias -> alias;
                    track -> snake_case of `event`, with the Segment e-commerce / B2B spec names renamed to the GA4
                    style names northstar's goals and funnels use (EVENT_NAMES: Order Completed -> purchase ...)
    page_url, page_referrer   properties.url / .referrer (page, screen), else context.page.url / .referrer
    utm_*           context.campaign.source / medium / name (-> utm_campaign) / term / content
    device_category context.device.type (mobile / phone / ios / android -> mobile, tablet / ipad -> tablet,
                    desktop / computer / pc / laptop -> desktop), else guessed from context.userAgent
    country         context.location.country when it is a 2-letter code (Segment often holds a country name)
    order_id, revenue, currency   properties.order_id (v1: orderId), properties.revenue else .total, .currency
    consent_analytics  false when context.consent.categoryPreferences has an analytics category set to false
                    (Segment Consent Management), or context.consentManagement.deniedConsentIds names one
                    (RudderStack); true when such a category is true; else unset (the contract default, true)
    email           traits.email, else context.traits.email (hashed by the loader)
    ip              context.ip, else request_ip (RudderStack)
    properties      the message's properties without the keys that went into columns (url and referrer of page
                    and screen calls; order_id / orderId, revenue, currency; total when it gave the revenue);
                    empty -> NULL. Traits are never kept (they are personal data).
    extra           type, the original event / page name, the other timestamps, userAgent, locale, library,
                    channel, rudderId, groupId, previousId
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb

from northstar.ingest import contract as C
from northstar.sources.base import LoadFileError, Peek, Source, SourceFile
from northstar.sources.sql import (
    contract_select,
    file_lit,
    lit,
    max_object_size,
    reject_rows,
    stage_json_lines,
)

KIND = "events"
MESSAGE_TYPES = ("track", "page", "screen", "identify", "group", "alias")

# Segment spec event names <-> northstar (GA4 style) names. One to one: `generate --as segment` writes the inverse.
EVENT_NAMES: dict[str, str] = {
    "Order Completed": "purchase",
    "Product Added": "add_to_cart",
    "Product Removed": "remove_from_cart",
    "Checkout Started": "begin_checkout",
    "Product Viewed": "view_item",
    "Product List Viewed": "view_item_list",
    "Product Clicked": "select_item",
    "Cart Viewed": "view_cart",
    "Payment Info Entered": "add_payment_info",
    "Product Added to Wishlist": "add_to_wishlist",
    "Order Refunded": "refund",
    "Products Searched": "search",
    "Promotion Viewed": "view_promotion",
    "Promotion Clicked": "select_promotion",
    "Product Shared": "share",
    "Signed Up": "sign_up",
    "Signed In": "login",
}
# Read only: names of Segment's e-commerce spec v1, still sent by older tracking plans.
_V1_NAMES: dict[str, str] = {
    "Completed Order": "purchase",
    "Added Product": "add_to_cart",
    "Removed Product": "remove_from_cart",
    "Viewed Product": "view_item",
}

_MAX_DOCUMENT_BYTES = 512 * 1024 * 1024

# (alias, JSON path) of every scalar read from a message, extracted in one json_extract_string call per record.
_FIELDS: tuple[tuple[str, str], ...] = (
    ("type", "$.type"),
    ("message_id", "$.messageId"),
    ("anonymous_id", "$.anonymousId"),
    ("user_id", "$.userId"),
    ("previous_id", "$.previousId"),
    ("timestamp", "$.timestamp"),
    ("original_timestamp", "$.originalTimestamp"),
    ("received_at", "$.receivedAt"),
    ("sent_at", "$.sentAt"),
    ("event", "$.event"),
    ("name", "$.name"),
    ("p_url", "$.properties.url"),
    ("p_referrer", "$.properties.referrer"),
    ("c_url", "$.context.page.url"),
    ("c_referrer", "$.context.page.referrer"),
    ("utm_campaign", "$.context.campaign.name"),
    ("utm_source", "$.context.campaign.source"),
    ("utm_medium", "$.context.campaign.medium"),
    ("utm_term", "$.context.campaign.term"),
    ("utm_content", "$.context.campaign.content"),
    ("device_type", "$.context.device.type"),
    ("user_agent", "$.context.userAgent"),
    ("country", "$.context.location.country"),
    ("order_id", "$.properties.order_id"),
    ("order_id_v1", "$.properties.orderId"),
    ("revenue", "$.properties.revenue"),
    ("total", "$.properties.total"),
    ("currency", "$.properties.currency"),
    ("email", "$.traits.email"),
    ("context_email", "$.context.traits.email"),
    ("ip", "$.context.ip"),
    ("request_ip", "$.request_ip"),
    ("session_id", "$.context.sessionId"),
    ("locale", "$.context.locale"),
    ("channel", "$.channel"),
    ("rudder_id", "$.rudderId"),
    ("group_id", "$.groupId"),
)
_IDX = {alias: i + 1 for i, (alias, _) in enumerate(_FIELDS)}


def _f(alias: str) -> str:
    """The cleaned text of one extracted field (NULL when absent or blank): a column of _src_sql's inner select."""
    assert alias in _IDX, alias
    return f"f_{alias}"


def snake_case(name: str) -> str:
    """Python twin of _SNAKE_SQL for ASCII names (used for the name map and in tests)."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip()).lower()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


# snake_case in SQL: camelCase boundaries become '_', every run of non letters/digits becomes one '_'.
_SNAKE_SQL = (
    "trim(regexp_replace(lower(regexp_replace(trim({x}), '([\\p{{Ll}}\\p{{N}}])(\\p{{Lu}})', '\\1_\\2', 'g')),"
    " '[^\\p{{L}}\\p{{N}}]+', '_', 'g'), '_')"
)
_LOAD_NAMES = {snake_case(k): v for k, v in {**_V1_NAMES, **EVENT_NAMES}.items()}


def _track_name_sql() -> str:
    """event_name of a track call from `ev`, the snake_case event name computed once per record (_SNAKE_SQL)."""
    whens = " ".join(f"when {lit(k)} then {lit(v)}" for k, v in sorted(_LOAD_NAMES.items()))
    return f"(case ev {whens} else ev end)"


_DEVICE_SQL = f"""case
    when lower({_f("device_type")}) in ('mobile', 'phone', 'smartphone', 'ios', 'android') then 'mobile'
    when lower({_f("device_type")}) in ('tablet', 'ipad') then 'tablet'
    when lower({_f("device_type")}) in ('desktop', 'computer', 'pc', 'laptop') then 'desktop'
    when {_f("device_type")} is not null then null
    when regexp_matches({_f("user_agent")}, 'iPad|Tablet|PlayBook|Silk') then 'tablet'
    when regexp_matches({_f("user_agent")}, 'Mobi|iPhone|iPod') then 'mobile'
    when regexp_matches({_f("user_agent")}, 'Android') then 'tablet'
    when {_f("user_agent")} is not null then 'desktop'
end"""

# Consent: values of the categories whose id mentions analytics (Segment: {"Analytics": false, ...}).
_CONSENT_SQL = """case
    when list_contains(cp_values, 'false') or denied_analytics then 'false'
    when list_contains(cp_values, 'true') then 'true'
end"""


def _moved_keys(page: bool, from_total: bool) -> list[str]:
    """Keys of `properties` whose values the mapping moved into contract columns."""
    keys = ["url", "referrer"] if page else []
    return [*keys, "order_id", "orderId", "revenue", "currency", *(["total"] if from_total else [])]


def _mapping() -> dict[str, str]:
    is_page = "coalesce(t in ('page', 'screen'), false)"
    # Keys of properties that went into columns are removed (a JSON merge patch removes the keys it sets to
    # null; removing an absent key is a no-op, so only two things vary: page-like call, revenue read from total).
    from_total = f"{_f('revenue')} is null"
    patch = (
        "case "
        + " ".join(
            f"when {is_page if page else 'not ' + is_page} and {from_total if tot else 'not ' + from_total}"
            f" then {lit(json.dumps(dict.fromkeys(_moved_keys(page, tot)), separators=(',', ':')))}::json"
            for page in (True, False)
            for tot in (True, False)
        )
        + " end"
    )
    return {
        "event_id": _f("message_id"),
        "occurred_at": f"coalesce({_f('timestamp')}, {_f('original_timestamp')}, {_f('received_at')})",
        "anonymous_id": f"""case when t = 'alias'
            then coalesce({_f("previous_id")}, {_f("anonymous_id")}, {_f("user_id")})
            else coalesce({_f("anonymous_id")}, {_f("user_id")}) end""",
        "user_id": _f("user_id"),
        "session_id": _f("session_id"),
        "event_name": f"""case t when 'page' then 'page_view' when 'screen' then 'page_view'
            when 'identify' then 'identify' when 'group' then 'group' when 'alias' then 'alias'
            when 'track' then {_track_name_sql()} end""",
        "page_url": f"case when {is_page} then coalesce({_f('p_url')}, {_f('c_url')}) else {_f('c_url')} end",
        # RudderStack's JavaScript SDK writes the placeholder '$direct' when there is no referrer.
        "page_referrer": f"""nullif(case when {is_page} then coalesce({_f("p_referrer")}, {_f("c_referrer")})
            else {_f("c_referrer")} end, '$direct')""",
        "utm_source": _f("utm_source"),
        "utm_medium": _f("utm_medium"),
        "utm_campaign": _f("utm_campaign"),
        "utm_content": _f("utm_content"),
        "utm_term": _f("utm_term"),
        "device_category": _DEVICE_SQL,
        "country": f"case when regexp_full_match({_f('country')}, '[A-Za-z]{{2}}') then {_f('country')} end",
        "order_id": f"coalesce({_f('order_id')}, {_f('order_id_v1')})",
        "revenue": f"coalesce({_f('revenue')}, {_f('total')})",
        "currency": _f("currency"),
        "consent_analytics": _CONSENT_SQL,
        "email": f"coalesce({_f('email')}, {_f('context_email')})",
        "ip": f"coalesce({_f('ip')}, {_f('request_ip')})",
        "properties": f"""case
            when props is null or json_type(props) = 'NULL' then null
            when json_type(props) <> 'OBJECT' then props
            else nullif(json_merge_patch(props, {patch}), '{{}}') end""",
    }


def _extra_sql() -> str:
    pairs = [
        ("type", _f("type")),
        ("event", _f("event")),
        ("name", _f("name")),
        ("originalTimestamp", _f("original_timestamp")),
        ("sentAt", _f("sent_at")),
        ("receivedAt", _f("received_at")),
        ("userAgent", _f("user_agent")),
        ("locale", _f("locale")),
        ("channel", _f("channel")),
        ("rudderId", _f("rudder_id")),
        ("groupId", _f("group_id")),
        ("previousId", _f("previous_id")),
        ("library", "library"),
    ]
    obj = ", ".join(f"{lit(k)}, {v}" for k, v in pairs)
    return f"nullif(json_merge_patch('{{}}', json_object({obj})), '{{}}')"


# --------------------------------------------------------------------------------------------------
# Detection


def _records(p: Peek) -> list[dict[str, Any]]:
    """The first messages: the peek's records, else its lines parsed one by one (a malformed line among the
    first ones leaves the peek without records)."""
    if p.records:
        return p.records
    out = []
    for line in p.lines[:50]:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def _is_message(r: dict[str, Any]) -> bool:
    kind = r.get("type")
    ids = ("messageId", "anonymousId", "userId")
    return isinstance(kind, str) and kind.lower() in MESSAGE_TYPES and any(k in r for k in ids)


def looks_like(p: Peek) -> bool:
    """Segment / RudderStack messages: most records have a call `type` and a messageId / anonymousId / userId."""
    if p.fmt not in ("jsonl", "json"):
        return False
    if p.fmt == "json" and p.document_keys and "batch" not in p.document_keys:
        return False
    recs = _records(p)
    n = sum(1 for r in recs if _is_message(r))
    return n > 0 and n * 2 >= len(recs)


# --------------------------------------------------------------------------------------------------
# Staging


def _stage_document(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    """`_ns_lines` (rn, line, ok) from a /v1/batch document: one row per element of `batch` (or of a top-level
    array). A batch-level `context` applies to every message; the message's own context wins key by key."""
    array = "$.batch" if "batch" in f.peek.document_keys else "$"
    con.execute(
        f"""create temp table _ns_lines as
        with doc as (
            select json as d from read_json_objects({file_lit(f.path)}, format = 'unstructured',
                maximum_object_size = {max_object_size(f.path, f.peek.gz, _MAX_DOCUMENT_BYTES)})
        ),
        items as (
            select unnest(coalesce(json_extract(d, {lit(array + "[*]")}), [])) as el,
                   generate_subscripts(coalesce(json_extract(d, {lit(array + "[*]")}), []), 1) as rn,
                   case when {lit(array)} = '$.batch' then json_extract(d, '$.context') end as batch_context
            from doc
        )
        select cast(rn as bigint) as rn,
               cast(case when json_type(el) = 'OBJECT' and batch_context is not null
                              and json_type(batch_context) = 'OBJECT'
                         then json_merge_patch(el, json_object('context', json_merge_patch(batch_context,
                              coalesce(json_extract(el, '$.context'), '{{}}'::json))))
                         else el end as varchar) as line,
               json_type(el) = 'OBJECT' as ok
        from items"""
    )


def _src_sql() -> str:
    """`_ns_src` rows of the messages in `_ns_lines` (rn, line, ok). JSON is parsed twice per record: once for
    every scalar (one json_extract_string with a list of paths), once for the objects kept as JSON."""
    paths = "[" + ", ".join(lit(path) for _, path in _FIELDS) + "]"
    fields = ", ".join(f"nullif(trim(v[{i}]), '') as f_{alias}" for alias, i in _IDX.items())
    return f"""
        select cast(rn as bigint) as row_number,
               case when not ok then {lit(C.REASON_MALFORMED)} end as pre_reason,
               line as raw_text,
               {contract_select(KIND, _mapping())},
               case when ok then {_extra_sql()} end as extra
        from (
            select *, lower({_f("type")}) as t,
                   case when lower({_f("type")}) = 'track' then {_SNAKE_SQL.format(x=_f("event"))} end as ev,
                   list_transform(
                       list_filter(coalesce(json_keys(cp), []), lambda k: contains(lower(k), 'analytic')),
                       lambda k: json_extract_string(cp, '$."' || replace(k, '"', '\\"') || '"')) as cp_values,
                   coalesce(list_bool_or(list_transform(
                       coalesce(try_cast(denied as varchar[]), []),
                       lambda x: contains(lower(x), 'analytic'))), false) as denied_analytics
            from (
                select rn, line, ok, {fields},
                       j[1] as props, j[2] as cp, j[3] as library, j[4] as denied
                from (
                    select *, case when ok then json_extract_string(line, {paths}) end as v,
                        case when ok then json_extract(line, ['$.properties',
                        '$.context.consent.categoryPreferences', '$.context.library',
                        '$.context.consentManagement.deniedConsentIds']) end as j
                    from _ns_lines
                )
            )
        )
        """


def stage(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    if f.peek.fmt == "json":
        _stage_document(con, f)
        rejects = ""
    elif f.peek.fmt == "jsonl":
        stage_json_lines(con, f.path)
        rejects = f"union all {reject_rows(KIND, 0)}"
    else:
        raise LoadFileError(f"{f.path}: Segment messages are JSON Lines or a JSON batch document, not {f.peek.fmt}")
    con.execute(f"create temp table _ns_src as {_src_sql()} {rejects}")


# --------------------------------------------------------------------------------------------------
# Export (`northstar generate --as segment`)


def _object_sql(pairs: list[tuple[str, str]]) -> str:
    """json_object of the non-null pairs; NULL when every value is NULL."""
    any_set = " or ".join(f"{v} is not null" for _, v in pairs)
    obj = ", ".join(f"{lit(k)}, {v}" for k, v in pairs)
    return f"case when {any_set} then json_merge_patch('{{}}', json_object({obj})) end"


def _export_sql() -> str:
    inverse = " ".join(f"when {lit(v)} then {lit(k)}" for k, v in EVENT_NAMES.items())
    msg_type = "case event_name when 'page_view' then 'page' when 'identify' then 'identify' else 'track' end"
    ts = """case when microsecond(occurred_at) % 1000 = 0 then strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%gZ')
        else strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%fZ') end"""
    page = "event_name = 'page_view'"
    moved = _object_sql(
        [
            ("url", f"case when {page} then page_url end"),
            ("referrer", f"case when {page} then page_referrer end"),
            ("order_id", "order_id"),
            ("revenue", "revenue"),
            ("currency", "currency"),
        ]
    )
    context = _object_sql(
        [
            ("page", _object_sql([("url", "page_url"), ("referrer", "page_referrer")])),
            (
                "campaign",
                _object_sql(
                    [
                        ("name", "utm_campaign"),
                        ("source", "utm_source"),
                        ("medium", "utm_medium"),
                        ("term", "utm_term"),
                        ("content", "utm_content"),
                    ]
                ),
            ),
            ("device", _object_sql([("type", "device_category")])),
            ("location", _object_sql([("country", "country")])),
            ("sessionId", "session_id"),
            (
                "consent",
                "case when not consent_analytics then json_object('categoryPreferences',"
                " json_object('Analytics', false)) end",
            ),
        ]
    )
    return f"""
        select {msg_type} as "type",
               event_id as "messageId",
               anonymous_id as "anonymousId",
               user_id as "userId",
               case when {msg_type} = 'track' then (case event_name {inverse} else event_name end) end as "event",
               {ts} as "timestamp",
               {ts} as "originalTimestamp",
               coalesce(json_merge_patch(coalesce(properties, '{{}}'::json), {moved}),
                        coalesce(properties, '{{}}'::json)) as "properties",
               {context} as "context",
               cast(occurred_at as date) as _day
        from contract_events"""


def export(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """contract_events as Segment messages, one gzip-compressed JSON Lines file per UTC day
    (segment_YYYY-MM-DD.jsonl.gz): page_view -> page, identify -> identify, every other event -> track with its
    Segment spec name where it has one (purchase -> Order Completed ...), else its own name."""
    parts = out_dir / ".segment_parts"
    shutil.rmtree(parts, ignore_errors=True)
    con.execute(
        f"""copy ({_export_sql()}) to {lit(str(parts))}
        (format json, compression gzip, partition_by (_day), filename_pattern 'part_{{i}}')"""
    )
    files: list[Path] = []
    for day_dir in sorted(parts.glob("_day=*")):
        day = day_dir.name.split("=", 1)[1]
        chunks = sorted(day_dir.glob("*.json*"))
        for i, chunk in enumerate(chunks):
            suffix = f"_{i + 1}" if len(chunks) > 1 else ""
            target = out_dir / f"segment_{day}{suffix}.jsonl.gz"
            shutil.move(str(chunk), target)
            files.append(target)
    shutil.rmtree(parts, ignore_errors=True)
    return files


SOURCE = Source(
    name="segment",
    kind=KIND,
    title="Segment / RudderStack messages (track, page, identify)",
    shapes=(
        "JSON Lines, one Segment or RudderStack message per line (S3 / warehouse destination, batch export)",
        '{"batch": [...]} document as the HTTP tracking API /v1/batch takes (or a JSON array of messages)',
        "any of them gzip-compressed",
    ),
    looks_like=looks_like,
    stage=stage,
    export=export,
    order=40,
)
