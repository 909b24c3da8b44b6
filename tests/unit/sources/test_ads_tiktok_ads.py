"""TikTok Ads: Fivetran's daily report table (tiktok_ads__ad_report), here as JSON Lines."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from adstest import round_trip, sample
from sourcetest import load, rows

from northstar.config import Settings

REPORT = sample("tiktok_ads", "tiktok_ads__ad_report.jsonl")
SELECT = """select date::varchar, account_id, campaign_id, adset_name, ad_name, impressions, clicks, spend, currency,
                   platform_conversions, platform_conversion_value
            from raw.ad_spend order by row_number"""


def test_ad_report_two_advertisers_duplicate_and_bad_number(settings: Settings) -> None:
    (res,) = load(settings, REPORT).files
    assert res.status == "loaded", res.message
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (5, 3, 1, 1)
    assert rows(settings, SELECT) == [
        ("2026-12-01", "7001", "1790001", "gen_z_outdoor", "ugc_unboxing", 11600, 98, D("28.4"), "USD", D("2"), None),
        # a second advertiser in JPY; spend written as a string
        ("2026-12-01", "7002", "1799001", "jp_broad", "spark_jp", 20400, 130, D("5120"), "JPY", D("0"), None),
        # no ad name: the ad id; zero spend
        ("2026-12-01", "7001", "1790002", "broad_18_34", "1792002", 0, 0, D("0"), "USD", D("0"), None),
    ]  # fmt: skip
    # line 4 repeats line 1: a duplicate; line 5's conversion "two" is not a number
    assert rows(settings, "select row_number, reason from raw.quarantine") == [(5, "bad_number:platform_conversions")]


def test_forcing_tiktok_ads_on_a_linkedin_table_names_what_it_looks_like(settings: Settings) -> None:
    (res,) = load(settings, sample("linkedin_ads", "linkedin_ads__url_report.csv"), source="tiktok_ads").files
    assert res.status == "error" and "--source linkedin_ads" in res.message


def test_round_trip_through_the_url_report(tmp_path: Path) -> None:
    # the table has no conversion value column: TikTok's value claim cannot travel
    landing, exported = round_trip(tmp_path, "tiktok_ads", "tiktok_ads", not_carried=("platform_conversion_value",))
    assert landing and exported == landing
