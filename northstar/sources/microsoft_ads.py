"""Microsoft Advertising (Bing Ads) spend: the downloaded performance report (CSV) and Airbyte's bing-ads streams.

Report download (UI: Reports > Download > CSV; API: ReportingService, Format=Csv): a header block ("Report Name: ...",
"Report Time: ...", "Time Zone: ...", ..., "Rows: N"), the column header, the rows and a copyright footer line
("(c)2026 Microsoft Corporation. All rights reserved."). The block and the footer are not records: skipped. Columns are
the Reporting API's names (TimePeriod, AccountId, AccountNumber, CampaignId, CampaignName, AdGroupName, AdId, AdTitle,
CurrencyCode, Impressions, Clicks, Spend, Conversions, Revenue, FinalUrlSuffix) or the UI's spelled-out ones
("Currency code", "Campaign ID" ...): names are compared without case and spaces.
Airbyte (ad_performance_report / campaign_performance_report / custom reports, JSON Lines): the same column names.

One record = one report row (campaign, ad group or ad) for one day. Microsoft ads have no name and several ads may
share a title: the ad id is the ad name (the title only when there is no AdId column); the title stays in `extra`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from northstar.sources import _ads as A
from northstar.sources.base import Peek, Source, SourceFile
from northstar.sources.sql import lit

PLATFORM = "microsoft_ads"
TITLE = "Microsoft Advertising performance report (CSV download or Airbyte JSON Lines)"
ROLES = {
    "date": ("TimePeriod", "GregorianDate", "Day", "Date"),
    "account": ("AccountId", "AccountNumber"),
    "campaign_id": ("CampaignId",),
    "campaign": ("CampaignName", "Campaign"),
    "adset": ("AdGroupName", "AdGroup"),
    "adset_id": ("AdGroupId",),
    # Microsoft ads have no name and titles repeat across ads: the ad id is the ad (the title when there is no id)
    "ad": ("AdId",),
    "ad_id": ("AdTitle", "Title"),
    "impressions": ("Impressions", "Impr."),
    "clicks": ("Clicks",),
    "spend": ("Spend",),
    "currency": ("CurrencyCode", "Currency"),
    "conversions": ("Conversions", "Conv."),
    "value": ("Revenue",),
    "url": ("FinalUrlSuffix", "TrackingTemplate"),
}
HINTS = {
    "currency": "add the CurrencyCode (Currency code) column to the report",
    "account": "add the AccountId (Account ID) column to the report",
    "campaign_id": "add the CampaignId (Campaign ID) column to the report",
}


def _is_header(keys: set[str]) -> bool:
    return "spend" in keys and "campaignid" in keys and bool({"timeperiod", "gregoriandate", "accountnumber"} & keys)


def looks_like(p: Peek) -> bool:
    if p.fmt == "csv":
        titled = bool(p.lines) and p.lines[0].lstrip('"').startswith("Report Name:")
        return A.find_header(p, _is_header) is not None or (titled and "spend" in A.norm_keys(p.csv_rows()[-1]))
    return p.fmt == "jsonl" and {"timeperiod", "spend"} <= p.keys


def stage(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    if f.peek.fmt == "csv":
        header = A.physical_header_line(f, _is_header)
        t = A.stage_csv(con, f, header, footer_like="%Microsoft Corporation. All rights reserved.%")
    else:
        t = A.stage_jsonl(con, f)
    mapping, used = A.flat_mapping(f, t, PLATFORM, ROLES, HINTS)
    A.finish(con, t, mapping, used)


def export(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """Airbyte's ad_performance_report records (Microsoft's report column names), one a line."""
    where = f"where platform = {lit(PLATFORM)}"
    if con.execute(f"select count(*) from contract_ad_spend {where}").fetchone()[0] == 0:
        return []
    path = out_dir / "microsoft_ads_ad_performance_report.jsonl"
    con.execute(
        f"""copy (
            select account_id as AccountId, strftime(date, '%Y-%m-%d') as TimePeriod, campaign_id as CampaignId,
                   campaign_name as CampaignName, adset_name as AdGroupName, ad_name as AdId,
                   currency as CurrencyCode, impressions as Impressions, clicks as Clicks, spend as Spend,
                   platform_conversions as Conversions, platform_conversion_value as Revenue,
                   {A.utm_query()} as FinalUrlSuffix
            from contract_ad_spend {where}
            order by date, account_id, campaign_id, adset_name, ad_name
        ) to {lit(str(path))} (format json)"""
    )
    return [path]


SOURCE = Source(
    name=PLATFORM,
    kind="ad_spend",
    title=TITLE,
    shapes=(
        "performance report download (CSV): 'Report Name:' ... 'Rows:' header block and copyright footer skipped;"
        " TimePeriod, AccountId, CampaignId, CampaignName, AdGroupName, AdTitle, CurrencyCode, Impressions, Clicks,"
        " Spend, Conversions, Revenue (or the UI's spelled-out names)",
        "Airbyte bing-ads report streams (JSON Lines): the same column names",
    ),
    looks_like=looks_like,
    stage=stage,
    export=export,
    order=20,
    platform=PLATFORM,
)
