"""Microsoft Advertising: the report download (header block and copyright footer) and Airbyte's report stream."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

from adstest import round_trip, sample, schema_errors
from sourcetest import load, rows

from northstar.config import Settings

REPORT = sample("microsoft_ads", "ad_performance_report.csv")
AIRBYTE = sample("microsoft_ads", "ad_performance_report_airbyte.jsonl")
SELECT = """select date::varchar, account_id, campaign_id, adset_name, ad_name, utm_campaign, impressions, clicks,
                   spend, currency, platform_conversions, platform_conversion_value
            from raw.ad_spend order by row_number"""


def test_report_download_skips_header_block_and_footer(settings: Settings) -> None:
    (res,) = load(settings, REPORT).files
    assert res.status == "loaded", res.message
    # 5 rows; the 9 header-block lines, the blank lines and the copyright footer are not records
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (5, 4, 1, 0)
    us, uk = "880120", "880777"
    assert rows(settings, SELECT) == [
        # "1,120" with a thousands separator; utm tags parsed from FinalUrlSuffix
        ("2026-12-01", us, "531016227", "shop", "7700001", "bing_generic_shop", 1120, 41, D("24.60"), "USD",
         D("2"), D("180")),
        # second account, GBP
        ("2026-12-01", uk, "531016300", "brand", "7700101", None, 310, 12, D("6.05"), "GBP", D("0"), D("0")),
        ("2026-12-02", us, "531016227", "shop", "7700001", "bing_generic_shop", 0, 0, D("0"), "USD", D("0"), D("0")),
        # another ad with the same title on the same day: its id keeps it apart (not a restatement of row 3)
        ("2026-12-02", us, "531016227", "shop", "7700002", None, 77, 3, D("2.10"), "USD", None, None),
    ]  # fmt: skip
    assert rows(settings, "select row_number, reason from raw.quarantine") == [(4, "negative_value:spend")]
    assert rows(settings, "select extra->>'AdTitle' from raw.ad_spend where row_number = 1") == [
        ("Trail shoes on sale",)
    ]


def test_airbyte_stream_restatement_and_string_number(settings: Settings) -> None:
    (res,) = load(settings, AIRBYTE).files
    assert res.status == "loaded", res.message
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (4, 4, 0, 0)
    us, uk = "880120", "880777"
    assert rows(settings, SELECT) == [
        ("2026-12-01", us, "531016227", "shop", "7700001", None, 1120, 41, D("24.6"), "USD", D("2"), D("180")),
        # restated by the next sync: a new version of the same key
        ("2026-12-01", us, "531016227", "shop", "7700001", None, 1131, 42, D("25.2"), "USD", D("2"), D("180")),
        ("2026-12-01", uk, "531016300", "brand", "7700101", None, 310, 12, D("6.05"), "GBP", D("0"), D("0")),
        ("2026-12-02", uk, "531016300", "brand", "7700101", None, 0, 0, D("0"), "GBP", D("0"), D("0")),
    ]  # fmt: skip


def test_airbyte_sample_conforms_to_the_published_schema() -> None:
    records = [json.loads(ln) for ln in AIRBYTE.read_text().splitlines()]
    errors = schema_errors(AIRBYTE.parent / "schema" / "ad_performance_report.json", records)
    assert errors == [(2, "$.Spend")]  # "6.05" as a string, on purpose


def test_forcing_microsoft_ads_on_a_meta_file_names_what_it_looks_like(settings: Settings) -> None:
    (res,) = load(settings, sample("meta_ads", "ads_manager_export.csv"), source="microsoft_ads").files
    assert res.status == "error" and "--source meta_ads" in res.message


def test_round_trip_through_the_airbyte_stream(tmp_path: Path) -> None:
    landing, exported = round_trip(tmp_path, "microsoft_ads", "microsoft_ads")
    assert landing and exported == landing
