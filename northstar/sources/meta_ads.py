"""Meta (Facebook / Instagram) Ads spend: the Insights API, as Meta returns it or as Airbyte's ads_insights stream
writes it, and the table exported from Ads Manager.

Insights API (`GET act_<id>/insights?level=ad&time_increment=1&fields=...`): a document `{"data": [...], "paging":
{...}}` whose numbers are strings; Airbyte's `ads_insights` stream writes the same records one a line, numbers typed.
Fields: account_id, account_currency, campaign_id/_name, adset_id/_name, ad_id/_name, date_start, date_stop,
impressions, clicks, spend, actions[], action_values[].
Ads Manager export (Reports > Export table data > .csv): "Reporting starts", "Day", "Account ID", "Campaign ID",
"Campaign name", "Ad set name", "Ad name", "Impressions", "Clicks (all)", "Amount spent (EUR)", "Currency",
"Purchases", "Purchases conversion value".

One record = one Insights row: one ad (ad set, campaign) on one day. The platform's own conversions are purchases:
the first of the action types in PURCHASE_TYPES that the row has (they count the same purchases at different scopes,
so they are never added up); the full actions[] and action_values[] stay in `extra`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from northstar.ingest import contract as C
from northstar.sources import _ads as A
from northstar.sources.base import LoadFileError, Peek, Source, SourceFile
from northstar.sources.sql import lit

PLATFORM = "meta_ads"
TITLE = "Meta Ads Insights (API response, Airbyte ads_insights, or Ads Manager CSV export)"
# Purchase-like action types, most specific first: the pixel's website purchases, then Meta's "omni" and generic ones.
PURCHASE_TYPES = ("offsite_conversion.fb_pixel_purchase", "omni_purchase", "purchase")
_API_KEYS = {"date_start", "spend", "account_id"}


def _is_ui_header(keys: set[str]) -> bool:
    spent = any(k.startswith("amountspent") for k in keys)
    return spent and bool({"campaignname", "adsetname", "adname"} & keys) and bool({"reportingstarts", "day"} & keys)


def _is_api_document(p: Peek) -> bool:
    # A response saved on one line reads as one JSON Lines record {"data": [...], "paging": ...}.
    if p.fmt == "jsonl" and {"data"} <= p.keys and p.records:
        data = p.records[0].get("data")
        return isinstance(data, list) and bool(data) and isinstance(data[0], dict) and set(data[0]) >= _API_KEYS
    return p.fmt == "json" and "data" in p.document_keys and p.keys >= _API_KEYS


def looks_like(p: Peek) -> bool:
    if p.fmt == "csv":
        return A.find_header(p, _is_ui_header) is not None
    if _is_api_document(p):
        return True
    return p.fmt == "jsonl" and p.keys >= _API_KEYS


def _account(expr: str | None) -> str | None:
    """Meta names ad accounts act_<id> (the Graph API path); Insights and exports give the bare id."""
    if expr is None:
        return None
    return f"case when starts_with(trim({expr}), 'act_') then trim({expr}) else 'act_' || trim({expr}) end"


def _purchases(expr: str | None) -> str | None:
    """The value of the first purchase-like action type present in an actions[] / action_values[] array."""
    if expr is None:
        return None
    arr = f"cast(case when json_valid({expr}) then {expr} end as json[])"
    per_type = [
        f"list_sum(list_transform(list_filter({arr}, lambda a: a->>'action_type' = {lit(t)}),"
        f" lambda a: try_cast(a->>'value' as decimal(38, 6))))"
        for t in PURCHASE_TYPES
    ]
    return f"cast(coalesce({', '.join(per_type)}) as varchar)"


def _first(*exprs: str | None) -> str | None:
    present = [e for e in exprs if e]
    if len(present) < 2:
        return present[0] if present else None
    return f"coalesce(nullif(trim({present[0]}), ''), {present[1]})"


def _not_one_day(start: str | None, stop: str | None, stop_name: str) -> str | None:
    """Rows must be daily (time_increment=1 / "Day" breakdown): a row covering several days is quarantined."""
    if start is None or stop is None:
        return None
    return f"case when {A.day(stop)} <> {A.day(start)} then {lit(C.reason_invalid(stop_name))} end"


def _stage_api(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    t = A.stage_json_document(con, f, "data") if _is_api_document(f.peek) else A.stage_jsonl(con, f)
    c = {
        name: t.col(name)
        for name in (
            "date_start", "date_stop", "account_id", "account_currency", "campaign_id", "campaign_name", "adset_id",
            "adset_name", "ad_id", "ad_name", "impressions", "clicks", "spend", "actions", "action_values",
            "url_tags", "timezone_name",
        )
    }  # fmt: skip
    A.require(f, t, "account_currency", c["account_currency"], "add account_currency to the Insights fields")
    mapping = {
        "date": A.day(c["date_start"]),
        "platform": lit(PLATFORM),
        "account_id": _account(c["account_id"]),
        "campaign_id": c["campaign_id"],
        "campaign_name": c["campaign_name"],
        "adset_name": _first(c["adset_name"], c["adset_id"]),
        "ad_name": _first(c["ad_name"], c["ad_id"]),
        "impressions": c["impressions"],
        "clicks": c["clicks"],
        "spend": c["spend"],
        "currency": c["account_currency"],
        "platform_conversions": _purchases(c["actions"]),
        "platform_conversion_value": _purchases(c["action_values"]),
        # Ad-account and ad-creative fields, when a file carries them (the export does): not Insights fields.
        "account_timezone": A.iana(c["timezone_name"]),
        **A.utm_columns(t, c["url_tags"]),
    }
    used = [v for k, v in c.items() if k not in ("actions", "action_values", "date_stop")]
    A.finish(con, t, mapping, used, pre_reason=_not_one_day(c["date_start"], c["date_stop"], "date_stop"))


def _stage_ui(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    header = A.physical_header_line(f, _is_ui_header)
    t = A.stage_csv(con, f, header)
    spent = t.prefixed("Amount spent")
    assert spent is not None  # looks_like checked it
    currency = t.col("Currency")
    if currency is None and "(" in spent:  # "Amount spent (EUR)": the account currency is in the header
        currency = lit(spent[spent.rindex("(") + 1 :].rstrip(")").strip())
    A.require(f, t, "Currency", currency, "add the Currency column (or keep the currency in 'Amount spent (EUR)')")
    c = {
        "day": t.col("Day"),
        "start": t.col("Reporting starts"),
        "end": t.col("Reporting ends"),
        "account": A.require(f, t, "Account ID", t.col("Account ID"), "add the Account ID column to the export"),
        "campaign_id": A.require(f, t, "Campaign ID", t.col("Campaign ID"), "add the Campaign ID column to the export"),
        "campaign": t.col("Campaign name"),
        "adset": t.col("Ad set name"),
        "adset_id": t.col("Ad set ID"),
        "ad": t.col("Ad name"),
        "ad_id": t.col("Ad ID"),
        "impressions": t.col("Impressions"),
        "clicks": t.col("Clicks (all)", "Clicks", "Link clicks"),
        "spend": A.q(spent),
        "currency": t.col("Currency"),
        "conversions": t.col("Purchases"),
        "value": t.col("Purchases conversion value"),
        "url": t.col("URL parameters"),
    }
    mapping = {
        "date": A.day(c["day"] or c["start"]),
        "platform": lit(PLATFORM),
        "account_id": _account(c["account"]),
        "campaign_id": c["campaign_id"],
        "campaign_name": c["campaign"],
        "adset_name": _first(c["adset"], c["adset_id"]),
        "ad_name": _first(c["ad"], c["ad_id"]),
        "impressions": A.num(c["impressions"]),
        "clicks": A.num(c["clicks"]),
        "spend": A.num(c["spend"]),
        "currency": currency,
        "platform_conversions": A.num(c["conversions"]),
        "platform_conversion_value": A.num(c["value"]),
        **A.utm_columns(t, c["url"]),
    }
    one_day = None if c["day"] else _not_one_day(c["start"], c["end"], "reporting_ends")
    A.finish(con, t, mapping, used=[v for k, v in c.items() if k not in ("start", "end")], pre_reason=one_day)


def stage(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    if f.peek.fmt == "csv":
        _stage_ui(con, f)
    elif f.peek.fmt in ("json", "jsonl"):
        _stage_api(con, f)
    else:
        raise LoadFileError(f"{f.path}: Meta Ads files are JSON (Insights API, Airbyte) or CSV (Ads Manager)")


# --------------------------------------------------------------------------------------------------
# Export: one Insights API response page


def _action(action_type: str, col: str) -> str:
    item = f"json_object('action_type', {lit(action_type)}, 'value', {col}::varchar)"
    return f"case when {col} is not null then [{item}] end"


def export(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    where = f"where platform = {lit(PLATFORM)}"
    if con.execute(f"select count(*) from contract_ad_spend {where}").fetchone()[0] == 0:
        return []
    path = out_dir / "meta_ads_insights.json"
    purchase = PURCHASE_TYPES[0]
    record = f"""json_merge_patch(
            json_object(
                'account_id', regexp_replace(account_id, '^act_', ''), 'account_currency', currency,
                'campaign_id', campaign_id, 'campaign_name', campaign_name, 'adset_name', adset_name,
                'ad_name', ad_name, 'impressions', impressions::varchar, 'clicks', clicks::varchar,
                'spend', spend::varchar, 'date_start', strftime(date, '%Y-%m-%d'),
                'date_stop', strftime(date, '%Y-%m-%d')),
            -- absent fields are left out (null deletes a key in a merge patch)
            json_object('actions', {_action(purchase, "platform_conversions")},
                        'action_values', {_action(purchase, "platform_conversion_value")},
                        'url_tags', {A.utm_query()}, 'timezone_name', account_timezone))"""
    order = "date, account_id, campaign_id, adset_name, ad_name"
    con.execute(
        f"""copy (
            select list({record} order by {order}) as data,
                   {{'cursors': {{'before': 'MAZDZD', 'after': 'MjQZD'}}}} as paging
            from contract_ad_spend {where}
        ) to {lit(str(path))} (format json)"""
    )
    return [path]


SOURCE = Source(
    name=PLATFORM,
    kind="ad_spend",
    title=TITLE,
    shapes=(
        'Insights API response {"data": [...], "paging": {...}} (level=ad, time_increment=1): date_start, account_id,'
        " account_currency, campaign_id, campaign_name, adset_name, ad_name, impressions, clicks, spend,"
        " actions[], action_values[]",
        "Airbyte ads_insights stream (JSON Lines): the same fields, numbers typed",
        "Ads Manager export (CSV): Day or Reporting starts, Account ID, Campaign ID, Campaign name, Ad set name,"
        " Ad name, Impressions, Clicks (all), Amount spent (<currency>), Currency, Purchases,"
        " Purchases conversion value",
    ),
    looks_like=looks_like,
    stage=stage,
    export=export,
    order=20,
    platform=PLATFORM,
)
