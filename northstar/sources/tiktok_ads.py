"""TikTok Ads spend: the daily report tables of Fivetran's TikTok Ads dbt package.

fivetran/dbt_tiktok_ads's tiktok_ads__url_report, __ad_report, __ad_group_report or __campaign_report, exported as CSV
or JSON Lines: date_day, advertiser_id, advertiser_name, campaign_id/_name, ad_group_id/_name, ad_id/_name, utm_*
(url_report), currency (the advertiser's), impressions, clicks, spend, conversion.

One record = one row of the table: an ad (ad group, campaign) on one day. The tables carry TikTok's conversion count
but no conversion value: platform_conversion_value stays NULL.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from northstar.sources import _ads as A
from northstar.sources.base import Peek, Source, SourceFile
from northstar.sources.sql import lit

PLATFORM = "tiktok_ads"
TITLE = "TikTok Ads daily report table (Fivetran dbt_tiktok_ads, CSV or JSON Lines)"
ROLES = {
    "date": ("date_day",),
    "account": ("advertiser_id",),
    "campaign_id": ("campaign_id",),
    "campaign": ("campaign_name",),
    "adset": ("ad_group_name",),
    "adset_id": ("ad_group_id",),
    "ad": ("ad_name",),
    "ad_id": ("ad_id",),
    "impressions": ("impressions",),
    "clicks": ("clicks",),
    "spend": ("spend",),
    "currency": ("currency",),
    "conversions": ("conversion",),
    "url": ("base_url",),
}
HINTS = {
    "currency": "the report tables carry the advertiser's currency: keep that column",
    "account": "keep the advertiser_id column",
    "campaign_id": "keep the campaign_id column",
}


def looks_like(p: Peek) -> bool:
    return p.fmt in ("csv", "jsonl", "parquet") and {"date_day", "advertiser_id", "spend"} <= p.keys


def stage(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    t = A.stage_csv(con, f, 0) if f.peek.fmt == "csv" else A.stage_jsonl(con, f)
    mapping, used = A.flat_mapping(f, t, PLATFORM, ROLES, HINTS)
    A.finish(con, t, mapping, used)


def export(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """tiktok_ads__url_report as CSV."""
    where = f"where platform = {lit(PLATFORM)}"
    if con.execute(f"select count(*) from contract_ad_spend {where}").fetchone()[0] == 0:
        return []
    path = out_dir / "tiktok_ads__url_report.csv"
    con.execute(
        f"""copy (
            select strftime(date, '%Y-%m-%d') as date_day, account_id as advertiser_id, campaign_id, campaign_name,
                   adset_name as ad_group_name, ad_name, utm_source, utm_medium, utm_campaign, currency,
                   impressions, clicks, spend, platform_conversions as conversion
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
        "Fivetran dbt_tiktok_ads tiktok_ads__url_report / __ad_report / __campaign_report (CSV or JSON Lines):"
        " date_day, advertiser_id, campaign_id, campaign_name, ad_group_name, ad_id, ad_name, utm_*, currency,"
        " impressions, clicks, spend, conversion",
    ),
    looks_like=looks_like,
    stage=stage,
    export=export,
    order=20,
    platform=PLATFORM,
)
