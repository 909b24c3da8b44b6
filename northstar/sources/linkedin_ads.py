"""LinkedIn Ads (Campaign Manager) spend: the daily report tables of Fivetran's LinkedIn Ads dbt package.

LinkedIn's own analytics API (adAnalytics, and Airbyte's ad_campaign_analytics stream) returns metrics keyed by a
campaign URN only: no account, no campaign name, no currency, which live in other objects. A spend row needs them,
so northstar reads the joined report tables most LinkedIn pipelines already have: fivetran/dbt_linkedin's
linkedin_ads__url_report, __creative_report or __campaign_report, exported as CSV or JSON Lines (date_day, account_id,
account_name, campaign_group_id/_name, campaign_id/_name, creative_id, click_uri, utm_*, currency, clicks,
impressions, cost, and the conversion columns passed through: external_website_conversions or total_conversions,
conversion_value_in_local_currency).

One record = one row of the table: a creative (or campaign) on one day. LinkedIn has no ad set: like Fivetran's
ad_reporting package, the campaign group takes the ad set's place; creatives have no name in these tables: the
creative id is the ad name.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from northstar.sources import _ads as A
from northstar.sources.base import Peek, Source, SourceFile
from northstar.sources.sql import lit

PLATFORM = "linkedin_ads"
TITLE = "LinkedIn Ads daily report table (Fivetran dbt_linkedin, CSV or JSON Lines)"
ROLES = {
    "date": ("date_day",),
    "account": ("account_id",),
    "campaign_id": ("campaign_id",),
    "campaign": ("campaign_name",),
    "adset": ("campaign_group_name",),
    "adset_id": ("campaign_group_id",),
    "ad": ("creative_id",),
    "impressions": ("impressions",),
    "clicks": ("clicks",),
    "spend": ("cost",),
    "currency": ("currency",),
    "conversions": ("external_website_conversions", "total_conversions"),
    "value": ("conversion_value_in_local_currency",),
    "url": ("click_uri",),
}
HINTS = {
    "currency": "the report tables carry the account's currency (account_history.currency): keep that column",
    "account": "keep the account_id column",
    "campaign_id": "keep the campaign_id column",
}


def looks_like(p: Peek) -> bool:
    if p.fmt not in ("csv", "jsonl", "parquet"):
        return False
    return {"date_day", "cost", "campaign_id"} <= p.keys and bool({"campaign_group_id", "campaign_group_name"} & p.keys)


def stage(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    t = A.stage_csv(con, f, 0) if f.peek.fmt == "csv" else A.stage_jsonl(con, f)
    mapping, used = A.flat_mapping(f, t, PLATFORM, ROLES, HINTS)
    A.finish(con, t, mapping, used)


def export(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """linkedin_ads__url_report as CSV, the conversion columns passed through."""
    where = f"where platform = {lit(PLATFORM)}"
    if con.execute(f"select count(*) from contract_ad_spend {where}").fetchone()[0] == 0:
        return []
    path = out_dir / "linkedin_ads__url_report.csv"
    con.execute(
        f"""copy (
            select strftime(date, '%Y-%m-%d') as date_day, null::varchar as click_uri, utm_source, utm_medium,
                   utm_campaign, ad_name as creative_id, campaign_id, campaign_name,
                   adset_name as campaign_group_name, account_id, currency, clicks, impressions, spend as cost,
                   platform_conversions as external_website_conversions,
                   platform_conversion_value as conversion_value_in_local_currency
            from contract_ad_spend {where}
            order by date, account_id, campaign_id, adset_name, ad_name
        ) to {lit(str(path))} (header)"""
    )
    return [path]


SOURCE = Source(
    name=PLATFORM,
    kind="ad_spend",
    title=TITLE,
    shapes=(
        "Fivetran dbt_linkedin linkedin_ads__url_report / __creative_report / __campaign_report (CSV or JSON Lines):"
        " date_day, account_id, campaign_group_id, campaign_group_name, campaign_id, campaign_name, creative_id,"
        " currency, impressions, clicks, cost, external_website_conversions, conversion_value_in_local_currency",
    ),
    looks_like=looks_like,
    stage=stage,
    export=export,
    order=20,
    platform=PLATFORM,
)
