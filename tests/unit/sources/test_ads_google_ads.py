"""Google Ads: the UI report download (title, date range and total lines) and the API rows of Airbyte's stream."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

from adstest import round_trip, sample, schema_errors
from sourcetest import load, rows

from northstar.config import Settings

UI = sample("google_ads", "ad_report_ui.csv")
API = sample("google_ads", "ad_group_ad_legacy.jsonl")
SELECT = """select date::varchar, account_id, campaign_id, campaign_name, adset_name, ad_name, utm_source, utm_medium,
                   utm_campaign, impressions, clicks, spend, currency, platform_conversions,
                   platform_conversion_value, account_timezone
            from raw.ad_spend order by row_number"""


def test_ui_report_skips_title_and_total_lines_and_quarantines_a_row_without_currency(settings: Settings) -> None:
    (res,) = load(settings, UI).files
    assert res.status == "loaded", res.message
    # 5 data rows; the 2 lines above the header and the 3 "Total: ..." lines are not records
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (5, 4, 1, 0)
    us, de = "123-456-7890", "987-654-3210"
    tags = ("google", "cpc")
    assert rows(settings, SELECT) == [
        ("2026-12-01", us, "11001", "Brand Search", "brand_exact", "rsa_brand_1", *tags, "brand_search",
         1204, 54, D("18.90"), "USD", D("3"), D("240"), None),
        # a zero-spend row is a row
        ("2026-12-01", us, "11002", "Generic Shop Search", "shoes", "rsa_shoes_a", *tags, "generic_shop",
         0, 0, D("0"), "USD", D("0"), D("0"), None),
        # second account, other currency; "1,020.55" has a thousands separator; no URL suffix -> no utm tags
        ("2026-12-01", de, "22001", "Marken Suche", "marke_exakt", "rsa_marke_1", None, None, None,
         310, 12, D("1020.55"), "EUR", D("1.5"), D("99.9"), None),
        # '--' (not applicable) is NULL, not 0
        ("2026-12-02", us, "11001", "Brand Search", "brand_exact", "rsa_brand_1", *tags, "brand_search",
         980, 41, D("15.20"), "USD", None, None, None),
    ]  # fmt: skip
    # the UI's time zone label is not an IANA name: kept in extra, account_timezone stays NULL
    assert rows(settings, "select extra->>'Time zone' from raw.ad_spend where row_number = 3") == [
        ("(GMT+01:00) Berlin",)
    ]
    assert rows(settings, "select row_number, reason from raw.quarantine") == [(5, "missing_required:currency")]


def test_api_rows_micros_string_numbers_restatement_and_duplicate(settings: Settings) -> None:
    (res,) = load(settings, API).files
    assert res.status == "loaded", res.message
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (7, 5, 1, 1)
    us, de, la, berlin = "123-456-7890", "987-654-3210", "America/Los_Angeles", "Europe/Berlin"
    assert rows(settings, SELECT) == [
        # customer.id 1234567890 is written as the UI writes it; no ad name in this stream: the ad id stands in
        ("2026-12-01", us, "11001", "Brand Search", "brand_exact", "9001", None, None, None,
         1204, 54, D("18.90"), "USD", D("3"), D("240"), la),
        # cost_micros 1234567 -> 1.234567, kept to 4 places by raw.ad_spend.spend decimal(18, 4)
        ("2026-12-01", us, "11002", "Generic Shop Search", "shoes", "9002", None, None, None,
         88, 3, D("1.2346"), "USD", D("0.5"), D("41.25"), la),
        # numbers sent as strings ("310", "2500000") read the same
        ("2026-12-01", de, "22001", "Marken Suche", "marke_exakt", "9101", None, None, None,
         310, 12, D("2.5"), "EUR", D("1.5"), D("99.9"), berlin),
        ("2026-12-01", us, "11002", "Generic Shop Search", "shoes", "9003", None, None, None,
         0, 0, D("0"), "USD", D("0"), D("0"), la),
        # the same key again with new numbers: a restatement, loaded (staging keeps the latest)
        ("2026-12-01", us, "11001", "Brand Search", "brand_exact", "9001", None, None, None,
         1210, 55, D("19.05"), "USD", D("3"), D("240"), la),
    ]  # fmt: skip
    # line 6 repeats line 4 exactly: a duplicate; line 7 is cut off: quarantined
    assert rows(settings, "select row_number, reason from raw.quarantine") == [(7, "malformed_record")]


def test_api_sample_conforms_to_airbytes_published_schema() -> None:
    lines = API.read_text().splitlines()[:-1]  # the last line is malformed on purpose
    errors = schema_errors(API.parent / "schema" / "ad_group_ad_legacy.json", [json.loads(ln) for ln in lines])
    # only the two numbers written as strings (as Google's REST API sends int64) break Airbyte's types
    assert errors == [(2, "$['metrics.cost_micros']"), (2, "$['metrics.impressions']")]


def test_forcing_google_ads_on_another_file_names_what_it_looks_like(settings: Settings, tmp_path: Path) -> None:
    other = tmp_path / "ad_spend_x.csv"
    other.write_text("date,platform,account_id,campaign_id,spend,currency\n2026-12-01,tv,a,c,1,USD\n")
    (res,) = load(settings, other, source="google_ads").files
    assert res.status == "error"
    assert "does not look like Google Ads report" in res.message
    assert "northstar landing format" in res.message
    assert "\n" not in res.message


def test_a_report_without_the_currency_column_fails_with_what_to_add(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("Campaign report\nDay,Customer ID,Campaign,Campaign ID,Impr.,Clicks,Cost\n"
                    "2026-12-01,123-456-7890,Brand,1,10,1,2.00\n")  # fmt: skip
    (res,) = load(settings, path).files
    assert res.status == "error"
    assert "no currency column; add the 'Currency code' column to the report" in res.message


def test_round_trip_through_the_ui_report_gives_back_the_contract_rows(tmp_path: Path) -> None:
    landing, exported = round_trip(tmp_path, "google_ads", "google_ads")
    assert landing and exported == landing
