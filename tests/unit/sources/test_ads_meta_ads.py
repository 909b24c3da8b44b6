"""Meta Ads: the Insights API response document, Airbyte's ads_insights stream and the Ads Manager CSV export."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

from adstest import round_trip, sample, schema_errors
from sourcetest import load, rows

from northstar.config import Settings

API = sample("meta_ads", "insights_api_response.json")
AIRBYTE = sample("meta_ads", "ads_insights_airbyte.jsonl")
UI = sample("meta_ads", "ads_manager_export.csv")
SELECT = """select date::varchar, account_id, campaign_id, campaign_name, adset_name, ad_name, impressions, clicks,
                   spend, currency, platform_conversions, platform_conversion_value
            from raw.ad_spend order by row_number"""


def test_api_response_counts_purchases_once_and_quarantines_a_multi_day_row(settings: Settings) -> None:
    (res,) = load(settings, API).files
    assert res.status == "loaded", res.message
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (5, 4, 1, 0)
    eu, us = "act_55500017", "act_55500099"
    assert rows(settings, SELECT) == [
        # pixel, omni and generic purchase all say 2: the pixel's count is taken, never their sum
        ("2026-12-01", eu, "23850001", "FB Prospecting", "lookalike_1pct", "video_15s", 5120, 61, D("33.47"), "EUR",
         D("2"), D("118.5")),
        # second account in USD; only omni_purchase reported: that one
        ("2026-12-01", us, "23859001", "US Retargeting", "cart_abandoners", "story_reminder", 800, 9, D("12"), "USD",
         D("1"), D("40")),
        # zero spend, no actions at all: no conversions claimed (NULL, not 0)
        ("2026-12-01", eu, "23850002", "IG Retargeting", "cart_abandoners", "story_static", 0, 0, D("0"), "EUR",
         None, None),
        # no ad_name in the row: the ad id keeps two ads of one ad set apart
        ("2026-12-01", eu, "23850001", "FB Prospecting", "interests_outdoor", "23850299", 410, 5, D("5.10"), "EUR",
         None, None),
    ]  # fmt: skip
    assert rows(settings, "select row_number, reason from raw.quarantine") == [(5, "invalid_value:date_stop")]
    # the full actions[] stay in extra
    (extra,) = rows(settings, "select extra from raw.ad_spend where row_number = 1")[0]
    assert [a["action_type"] for a in json.loads(extra)["actions"]] == [
        "link_click", "offsite_conversion.fb_pixel_purchase", "omni_purchase", "purchase"
    ]  # fmt: skip


def test_airbyte_stream_restatement_duplicate_and_string_number(settings: Settings) -> None:
    (res,) = load(settings, AIRBYTE).files
    assert res.status == "loaded", res.message
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (5, 4, 0, 1)
    eu, us = "act_55500017", "act_55500099"
    assert rows(settings, SELECT) == [
        ("2026-12-01", eu, "23850001", "FB Prospecting", "lookalike_1pct", "video_15s", 5120, 61, D("33.47"), "EUR",
         D("2"), D("118.5")),
        # the next sync restated the day: loaded as a new version of the key
        ("2026-12-01", eu, "23850001", "FB Prospecting", "lookalike_1pct", "video_15s", 5188, 62, D("34.02"), "EUR",
         D("3"), D("160.4")),
        # "spend": "7.5" as a string reads the same as 7.5
        ("2026-12-01", us, "23859001", "US Retargeting", "cart_abandoners", "story_reminder", 800, 9, D("7.5"), "USD",
         None, None),
        ("2026-12-02", eu, "23850002", "IG Retargeting", "cart_abandoners", "story_static", 0, 0, D("0"), "EUR",
         None, None),
    ]  # fmt: skip


def test_ads_manager_export_takes_the_currency_from_the_amount_spent_header(settings: Settings) -> None:
    (res,) = load(settings, UI).files
    assert res.status == "loaded", res.message
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (4, 3, 1, 0)
    eu = "act_55500017"
    assert rows(settings, SELECT) == [
        ("2026-12-01", eu, "23850001", "FB Prospecting", "lookalike_1pct", "video_15s", 5120, 61, D("33.47"), "EUR",
         D("2"), D("118.5")),
        ("2026-12-02", eu, "23850001", "FB Prospecting", "lookalike_1pct", "carousel_bestsellers", 3300, 40,
         D("21.05"), "EUR", None, None),
        ("2026-12-01", eu, "23850002", "IG Retargeting", "cart_abandoners", "story_reminder", 0, 0, D("0"), "EUR",
         None, None),
    ]  # fmt: skip
    assert rows(settings, "select row_number, reason from raw.quarantine") == [(4, "bad_number:impressions")]


def test_airbyte_sample_conforms_to_the_published_ads_insights_schema() -> None:
    records = [json.loads(ln) for ln in AIRBYTE.read_text().splitlines()]
    errors = schema_errors(AIRBYTE.parent / "schema" / "ads_insights.json", records)
    assert errors == [(2, "$.spend")]  # the string number, on purpose


def test_forcing_meta_ads_on_a_google_report_names_what_it_looks_like(settings: Settings) -> None:
    (res,) = load(settings, sample("google_ads", "ad_report_ui.csv"), source="meta_ads").files
    assert res.status == "error"
    assert "does not look like Meta Ads Insights" in res.message and "--source google_ads" in res.message


def test_round_trip_through_the_insights_api_document(tmp_path: Path) -> None:
    landing, exported = round_trip(tmp_path, "meta_ads", "meta_ads")
    assert landing and exported == landing
