"""LinkedIn Ads: Fivetran's daily report table (linkedin_ads__url_report)."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from adstest import round_trip, sample
from sourcetest import load, rows

from northstar.config import Settings

REPORT = sample("linkedin_ads", "linkedin_ads__url_report.csv")
SELECT = """select date::varchar, account_id, campaign_id, adset_name, ad_name, utm_source, utm_campaign, impressions,
                   clicks, spend, currency, platform_conversions, platform_conversion_value
            from raw.ad_spend order by row_number"""


def test_url_report_campaign_group_as_ad_set_creative_as_ad(settings: Settings) -> None:
    (res,) = load(settings, REPORT).files
    assert res.status == "loaded", res.message
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (5, 4, 1, 0)
    us, de = "501234", "507777"
    assert rows(settings, SELECT) == [
        ("2026-12-01", us, "6601", "hr_leaders", "140012001", "linkedin", "li_abm_demo", 2210, 14, D("41.87"), "USD",
         D("1"), D("0")),
        # empty utm_* columns: the tags are read from click_uri
        ("2026-12-01", us, "6601", "procurement", "140012002", "linkedin", "li_abm_demo", 980, 6, D("18.20"), "USD",
         D("0"), D("0")),
        # second account in EUR, zero spend
        ("2026-12-01", de, "6701", "dach_it", "140019001", "linkedin", "li_dach", 0, 0, D("0"), "EUR", D("0"), D("0")),
        # the same creative and day again with new numbers: a restatement
        ("2026-12-01", us, "6601", "hr_leaders", "140012001", "linkedin", "li_abm_demo", 2244, 15, D("43.05"), "USD",
         D("1"), D("250")),
    ]  # fmt: skip
    assert rows(settings, "select row_number, reason from raw.quarantine") == [(5, "missing_required:currency")]


def test_forcing_linkedin_ads_on_a_tiktok_table_names_what_it_looks_like(settings: Settings) -> None:
    (res,) = load(settings, sample("tiktok_ads", "tiktok_ads__ad_report.jsonl"), source="linkedin_ads").files
    assert res.status == "error" and "--source tiktok_ads" in res.message


def test_round_trip_through_the_url_report(tmp_path: Path) -> None:
    landing, exported = round_trip(tmp_path, "linkedin_ads", "linkedin_ads")
    assert landing and exported == landing
