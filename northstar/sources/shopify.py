"""Shopify orders: the Admin API's orders JSON and the admin's CSV export (one row per line item).

Both shapes give the same contract row for the same order, so a shop can switch between them:
    order_id    the order's numeric `id` (CSV: `Id`); the `name` (#1001) is kept in extra
    ordered_at  `created_at` (CSV: `Created at`, "2026-03-02 09:15:00 -0500"), converted to UTC by the loader
    user_id     `customer.id` (the CSV export has no customer id: NULL)
    status      `cancelled_at` set -> cancelled; else financial_status: paid, partially_paid, authorized, pending,
                partially_refunded -> completed; refunded -> refunded; voided, expired -> cancelled
    revenue     completed: what the shop keeps, net of refunds: `current_total_price` (Shopify's figure after
                edits and refunds), else `total_price` minus the successful refund transactions (CSV: Total minus
                Refunded Amount); refunded / cancelled: the order's `total_price` (the marts count them as 0)
    currency    `currency`, the shop currency the amounts above are in (presentment currency kept in extra)
    cost_of_goods  not in Shopify's orders: NULL
One record is one order. The CSV export's lines are folded back to one order per `Name` (only an order's first
line carries `Id` and the totals); a line that cannot be attached to an order is a record of its own, quarantined
as `orphan_line_item`. rows_read therefore counts orders plus orphan lines, not CSV lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from northstar.ingest import contract as C
from northstar.sources.base import LoadFileError, Peek, Source, SourceFile
from northstar.sources.sql import (
    REJECTED_LINES,
    contract_select,
    file_lit,
    lit,
    max_object_size,
    numbered,
    q,
    reader_opts,
    stage_json_lines,
)

REASON_ORPHAN_LINE = "orphan_line_item"
_API_KEYS = frozenset({"id", "created_at", "financial_status", "total_price"})
_PAGE_START = re.compile(r'\s*\{\s*"orders"\s*:\s*\[\s*\{')
_CSV_KEYS = frozenset({"name", "financial status", "lineitem name", "lineitem quantity"})
_CSV_REQUIRED = ("name", "id", "created at", "financial status", "currency", "total")
_MAX_DOCUMENT_BYTES = 1 << 30
_COMPLETED = ("paid", "partially_paid", "authorized", "pending", "partially_refunded")
_CANCELLED = ("voided", "expired")


def _order_records(p: Peek) -> list[dict]:
    """The first order objects of the file: records, or the orders of `{"orders": [...]}` pages on one line."""
    out: list[dict] = []
    for r in p.records:
        if set(r) == {"orders"} and isinstance(r["orders"], list):
            out.extend(o for o in r["orders"] if isinstance(o, dict))
        elif set(r) == {"order"} and isinstance(r["order"], dict):
            out.append(r["order"])
        else:
            out.append(r)
    return out


def looks_like(p: Peek) -> bool:
    if p.fmt == "csv":
        return p.keys >= _CSV_KEYS
    if p.fmt in ("json", "jsonl"):
        if any(set(r) >= _API_KEYS for r in _order_records(p)):
            return True
        # API pages appended one per line, each longer than the first look at the file: only a cut line to go by
        head = p.lines[0] if p.lines and not p.records else ""
        return bool(_PAGE_START.match(head)) and all(f'"{k}"' in head for k in _API_KEYS)
    return False


def _status_sql(financial_status: str, cancelled_at: str) -> str:
    """Contract status from Shopify's financial status; unknown values pass through (the loader quarantines them)."""
    fs = f"lower(trim({financial_status}))"
    completed = ", ".join(lit(s) for s in _COMPLETED)
    cancelled = ", ".join(lit(s) for s in _CANCELLED)
    return f"""case when {cancelled_at} is not null then 'cancelled'
                    when {fs} in ({completed}) then 'completed'
                    when {fs} = 'refunded' then 'refunded'
                    when {fs} in ({cancelled}) then 'cancelled'
                    else {financial_status} end"""


# --------------------------------------------------------------------------------------------------
# Admin API JSON: {"orders": [...]} documents (pretty-printed or on one line), or JSON Lines of order objects


def _api_records(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    """Temp table `_ns_shop_recs` (row_number, pre_reason, raw_text, rec): one row per order object.

    Lines (or documents) holding an `orders` array, a bare array or `{"order": {...}}` are unpacked; any other
    line is one order. Record numbers are line numbers for plain JSON Lines, else the order's position in the file.
    """
    path = file_lit(f.path)
    if f.peek.fmt == "json":
        con.execute(
            f"""create temp table _ns_lines as
            select row_number() over () as rn, cast(json as varchar) as line, true as ok
            from read_json_objects({path}, format = 'unstructured',
                maximum_object_size = {max_object_size(f.path, f.peek.gz, _MAX_DOCUMENT_BYTES)})"""
        )
        rejected = ""
    else:
        stage_json_lines(con, f.path)
        rejected = f"""union all
            select cast(line as bigint), 0, reason, text, null::json from ({REJECTED_LINES})"""
    con.execute(
        """create temp table _ns_shop_pages as
        select rn, line, ok, doc,
               case when json_type(doc) = 'ARRAY' then json_extract(doc, '$[*]')
                    when json_type(doc, '$.orders') = 'ARRAY' then json_extract(doc, '$.orders[*]')
                    when json_type(doc, '$.order') = 'OBJECT' then [json_extract(doc, '$.order')]
               end as items
        from (select rn, line, ok, case when ok then cast(line as json) end as doc from _ns_lines)"""
    )
    has_pages = con.execute("select count(*) > 0 from _ns_shop_pages where items is not null").fetchone()[0]
    number = "row_number() over (order by rn, idx)" if has_pages else "rn"
    con.execute(
        f"""create temp table _ns_shop_recs as
        select cast({number} as bigint) as row_number, pre_reason, raw_text, rec
        from (
            select rn, 0 as idx, case when not ok then {lit(C.REASON_MALFORMED)} end as pre_reason,
                   line as raw_text, doc as rec
            from _ns_shop_pages where items is null
            union all
            select rn, unnest(range(1, len(items) + 1)) as idx, null as pre_reason,
                   cast(unnest(items) as varchar) as raw_text, unnest(items) as rec
            from _ns_shop_pages where items is not null
            {rejected}
        )"""
    )


# Scalar fields read once per order (one JSON parse for all of them), and the ones kept in extra as they are.
_FIELDS = {
    "id": "$.id",
    "created_at": "$.created_at",
    "customer_id": "$.customer.id",
    "currency": "$.currency",
    "total_price": "$.total_price",
    "current_total_price": "$.current_total_price",
    "financial_status": "$.financial_status",
    "cancelled_at": "$.cancelled_at",
}
_EXTRA = {
    "name": "$.name",
    "financial_status": "$.financial_status",
    "fulfillment_status": "$.fulfillment_status",
    "cancelled_at": "$.cancelled_at",
    "cancel_reason": "$.cancel_reason",
    "total_price": "$.total_price",
    "current_total_price": "$.current_total_price",
    "presentment_currency": "$.presentment_currency",
    "presentment_total_price": "$.total_price_set.presentment_money.amount",
    "landing_site": "$.landing_site",
    "referring_site": "$.referring_site",
    "source_name": "$.source_name",
    "test": "$.test",
}


def _stage_api(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    _api_records(con, f)
    pos = {name: i + 1 for i, name in enumerate(_FIELDS)}

    def v(name: str) -> str:
        return f"nullif(trim(v[{pos[name]}]), '')"

    # Successful refund transactions; Shopify writes them in the transaction's (presentment) currency.
    is_refund = (
        "coalesce(json_extract_string(t, '$.kind'), 'refund') = 'refund'"
        " and coalesce(json_extract_string(t, '$.status'), 'success') = 'success'"
    )
    revenue = """case when st = 'completed' then
                     case when current_total is not null then current_total
                          when coalesce(refunded, 0) = 0 then total
                          when foreign_refund then null  -- cannot subtract another currency: quarantined
                          else cast(try_cast(total as decimal(18, 4)) - refunded as varchar) end
                 else total end"""
    line_item = (
        "json_object('name', json_extract(li, '$.name'), 'sku', json_extract(li, '$.sku'),"
        " 'quantity', json_extract(li, '$.quantity'), 'price', json_extract(li, '$.price'))"
    )
    kept = ", ".join(f"{lit(k)}, x[{i + 1}]" for i, k in enumerate(_EXTRA))
    extra = f"""json_merge_patch('{{}}', json_object({kept},
        'refunded_amount', case when len(txs) > 0 then cast(refunded as varchar) end,
        'refunded_at', list_max(json_extract_string(rec, '$.refunds[*].created_at')),
        'discount_codes', nullif(json_extract_string(rec, '$.discount_codes[*].code'), []),
        'line_items', nullif(list_transform(json_extract(rec, '$.line_items[*]'), lambda li: {line_item}), [])
    ))"""
    mapping = {
        "order_id": v("id"),
        "ordered_at": v("created_at"),
        "user_id": v("customer_id"),
        "status": "st",
        "revenue": revenue,
        "currency": "currency",
    }
    fields = "[" + ", ".join(lit(p) for p in _FIELDS.values()) + "]"
    kept_paths = "[" + ", ".join(lit(p) for p in _EXTRA.values()) + "]"
    con.execute(
        f"""create temp table _ns_src as
        with r as (
            select row_number, pre_reason, raw_text, rec, v,
                   {v("currency")} as currency,
                   {v("total_price")} as total,
                   {v("current_total_price")} as current_total,
                   {_status_sql(v("financial_status"), v("cancelled_at"))} as st,
                   list_filter(json_extract(rec, '$.refunds[*].transactions[*]'), lambda t: {is_refund}) as txs
            from (select *, json_extract_string(rec, {fields}) as v from _ns_shop_recs)
        ),
        m as (
            select *,
                   list_sum(list_transform(txs, lambda t: try_cast(json_extract_string(t, '$.amount')
                       as decimal(18, 4)))) as refunded,
                   len(list_filter(txs, lambda t: json_extract_string(t, '$.currency') <> currency)) > 0
                       as foreign_refund,
                   case when rec is not null and json_type(rec) = 'OBJECT' then json_extract(rec, {kept_paths}) end
                       as x
            from r
        )
        select row_number, pre_reason, raw_text, {contract_select("orders", mapping)},
               case when x is not null then {extra} end as extra
        from m"""
    )


# --------------------------------------------------------------------------------------------------
# Admin CSV export: one row per line item, the order's values on its first line only


def _stage_csv(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    con.execute(
        f"""create temp table _ns_csv as
        select * from read_csv({file_lit(f.path)}, all_varchar = true, header = true, delim = ',', quote = '"',
            escape = '"', {reader_opts()})"""
    )
    names = [d[0] for d in con.execute("describe _ns_csv").fetchall()]
    by_lower = {n.strip().lower(): n for n in reversed(names)}  # the first of repeated names wins
    missing = [c for c in _CSV_REQUIRED if c not in by_lower]
    if missing:
        raise LoadFileError(
            f"{f.path}: Shopify order export without the column(s) {', '.join(missing)}; re-export it from"
            " Shopify admin (Orders > Export, all columns): the order Id is what makes it match the API's orders"
        )

    def c(name: str) -> str:
        return f"nullif(trim({q(by_lower[name])}), '')" if name in by_lower else "null::varchar"

    def ts(name: str) -> str:  # "2026-03-02 09:15:00 -0500" -> "2026-03-02 09:15:00-05:00"
        return f"regexp_replace({c(name)}, '\\s([+-]\\d{{2}}):?(\\d{{2}})$', '\\1:\\2')"

    fields = {
        "name": c("name"),
        "id": c("id"),
        "fs": c("financial status"),
        "fulfillment_status": c("fulfillment status"),
        "created_at": ts("created at"),
        "paid_at": ts("paid at"),
        "cancelled_at": ts("cancelled at"),
        "currency": c("currency"),
        "subtotal": c("subtotal"),
        "shipping": c("shipping"),
        "taxes": c("taxes"),
        "total": c("total"),
        "discount_code": c("discount code"),
        "discount_amount": c("discount amount"),
        "refunded_amount": c("refunded amount"),
        "source": c("source"),
        "tags": c("tags"),
        "payment_method": c("payment method"),
        "li_name": c("lineitem name"),
        "li_sku": c("lineitem sku"),
        "li_quantity": c("lineitem quantity"),
        "li_price": c("lineitem price"),
    }
    select_fields = ", ".join(f"{expr} as {q(k)}" for k, expr in fields.items())
    revenue = """case when st = 'completed' and coalesce(try_cast(refunded_amount as decimal(18, 4)), 0) <> 0
                      then cast(try_cast(total as decimal(18, 4)) - try_cast(refunded_amount as decimal(18, 4))
                                as varchar)
                      else total end"""
    mapping = {
        "order_id": "id",
        "ordered_at": "created_at",
        "status": "st",
        "revenue": revenue,
        "currency": "currency",
    }
    order_keys = [
        "name", "financial_status", "fulfillment_status", "paid_at", "cancelled_at", "subtotal", "shipping",
        "taxes", "discount_code", "discount_amount", "refunded_amount", "source", "tags", "payment_method",
    ]  # fmt: skip
    extra_pairs = ", ".join(f"{lit(k)}, {q('fs' if k == 'financial_status' else k)}" for k in order_keys)
    extra = f"json_merge_patch('{{}}', json_object({extra_pairs}, 'total_price', total, 'line_items', line_items))"
    orphan_text = (
        "cast(json_merge_patch('{}', json_object('Name', name, 'Created at', created_at, 'Lineitem name', li_name,"
        " 'Lineitem sku', li_sku, 'Lineitem quantity', li_quantity, 'Lineitem price', li_price)) as varchar)"
    )
    nulls = ", ".join(f"null::varchar as {q(col.name)}" for col in C.CONTRACT["orders"])
    con.execute(
        f"""create temp table _ns_src as
        with lines as (
            select rn, {select_fields} from ({numbered(con, "_ns_csv", 1)})
        ),
        attached as (
            -- an order's first line carries its Id; later lines (same Name, no Id) belong to the nearest one above
            select *,
                   case when id is not null then rn
                        when name is not null then max(case when id is not null then rn end) over (
                            partition by name order by rn rows between unbounded preceding and current row)
                   end as head_rn
            from lines
        ),
        items as (
            select head_rn, list(json_merge_patch('{{}}', json_object('name', li_name, 'sku', li_sku,
                       'quantity', try_cast(li_quantity as bigint), 'price', li_price)) order by rn) as line_items
            from attached where head_rn is not null
            group by head_rn
        ),
        orders as (
            select a.*, i.line_items, {_status_sql("a.fs", "a.cancelled_at")} as st
            from attached as a join items as i on i.head_rn = a.rn
            where a.id is not null
        )
        select cast(rn as bigint) as row_number, null::varchar as pre_reason, null::varchar as raw_text,
               {contract_select("orders", mapping)}, {extra} as extra
        from orders
        union all
        select cast(rn as bigint), {lit(REASON_ORPHAN_LINE)}, {orphan_text}, {nulls}, null::json
        from attached where head_rn is null
        union all
        select cast(line as bigint) - 1, reason, text, {nulls}, null::json from ({REJECTED_LINES})"""
    )


def stage(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    if f.peek.fmt == "csv":
        _stage_csv(con, f)
    elif f.peek.fmt in ("json", "jsonl"):
        _stage_api(con, f)
    else:
        raise LoadFileError(f"{f.path}: Shopify orders come as the API's JSON or the admin's CSV export, not Parquet")


# --------------------------------------------------------------------------------------------------
# generate --as shopify: contract_orders as the API's daily {"orders": [...]} documents


def _id_json(col: str) -> str:
    """Shopify's ids are integers: digits become a JSON number, anything else (the demo's ORD-...) stays a string."""
    digits = f"regexp_full_match({col}, '[1-9][0-9]{{0,15}}')"
    return f"case when {digits} then to_json(cast({col} as bigint)) else to_json({col}) end"


def export(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """One `orders_shopify_<day>.json` per UTC order day. cost_of_goods is not carried: Shopify has no field for it."""
    ts = (
        "strftime(ordered_at, '%Y-%m-%dT%H:%M:%S')"
        " || case when epoch_us(ordered_at) % 1000000 <> 0 then strftime(ordered_at, '.%f') else '' end || '+00:00'"
    )
    money = (
        "case when revenue = round(revenue, 2) then cast(cast(revenue as decimal(18, 2)) as varchar)"
        " else cast(revenue as varchar) end"
    )
    amount = "json_object('amount', money, 'currency_code', currency)"
    refund = (
        "json_object('order_id', id, 'created_at', ts, 'processed_at', ts, 'transactions', json_array(json_object("
        "'order_id', id, 'kind', 'refund', 'status', 'success', 'amount', money, 'currency', currency)))"
    )
    order = f"""json_object(
        'id', id, 'name', '#' || order_id, 'created_at', ts, 'updated_at', ts, 'processed_at', ts,
        'cancelled_at', case when status = 'cancelled' then ts end,
        'cancel_reason', case when status = 'cancelled' then 'other' end,
        'currency', currency, 'presentment_currency', currency,
        'financial_status', case status when 'completed' then 'paid' when 'refunded' then 'refunded' else 'voided' end,
        'total_price', money, 'current_total_price', case when status = 'completed' then money else '0.00' end,
        'total_price_set', json_object('shop_money', {amount}, 'presentment_money', {amount}),
        'customer', case when user_id is not null then json_object('id', {_id_json("user_id")}) end,
        'refunds', case when status = 'refunded' then json_array({refund}) else json_array() end,
        'test', false)"""
    con.execute(
        f"""create or replace temp table _ns_shopify_out as
        select cast(ordered_at as date) as day, ordered_at, order_id, {order} as o
        from (
            select *, {_id_json("order_id")} as id, {ts} as ts, {money} as money
            from contract_orders
        )"""
    )
    files: list[Path] = []
    days = [r[0] for r in con.execute("select distinct day from _ns_shopify_out order by day").fetchall()]
    for day in days:
        path = out_dir / f"orders_shopify_{day.isoformat()}.json"
        con.execute(
            f"""copy (select to_json(list(o order by ordered_at, order_id)) as orders
                      from _ns_shopify_out where day = date {lit(day.isoformat())})
                to {lit(str(path))} (format json)"""
        )
        files.append(path)
    con.execute("drop table if exists _ns_shopify_out")
    return files


SOURCE = Source(
    name="shopify",
    kind="orders",
    title="Shopify orders (Admin API JSON or admin CSV export)",
    shapes=(
        'Admin API GET /admin/api/<version>/orders.json responses ({"orders": [...]}), one per file or one per line',
        "JSON Lines of order objects, as connectors (Airbyte, Fivetran, Singer) write them",
        "the admin's order export CSV (Orders > Export): one row per line item, folded back to one order",
    ),
    looks_like=looks_like,
    stage=stage,
    export=export,
    order=40,
)
