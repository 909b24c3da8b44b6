"""GA4 BigQuery export adapter: samples written from Google's "[GA4] BigQuery Export schema", loaded and checked
value by value; intraday vs daily tables; two properties side by side; Parquet; the `generate --as ga4` round trip."""

from __future__ import annotations

import gzip
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sourcetest import SAMPLES, load, rows

from northstar.config import Settings
from northstar.sources import detect, ga4, peek

GA4 = SAMPLES / "ga4"
DAILY = GA4 / "events_20240104.json"
INTRADAY = GA4 / "events_intraday_20240104.json"
PROPERTY_B = GA4 / "property_b" / "events_20240104.json"
STREAM = "2893471265"

COLS = (
    "row_number, event_id, occurred_at, anonymous_id, user_id, session_id, event_name, page_url, page_referrer, "
    "utm_source, utm_medium, utm_campaign, utm_content, utm_term, click_id, device_category, country, order_id, "
    "revenue, currency, consent_analytics, email_hash, ip_hash"
)


def md5(*parts: str) -> str:
    """event_id: md5 of stream_id|user_pseudo_id|event_timestamp|event_name|bundle|batch_event_index|ordering|page."""
    return hashlib.md5("|".join(parts).encode()).hexdigest()


def ts(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


# The mapped rows of events_20240104.json (row 5, a consent-denied ping without user_pseudo_id, is quarantined).
U1, U2, U3, U4, U5 = (
    "1187253946.1704355200",
    "902771538.1703980811",
    "33019877.1704369000",
    "550117720.1704380400",
    "77123001.1704300000",
)
SHOP = "https://shop.example.com"
# fmt: off
EXPECTED_DAILY = [
    # row_number, event_id, occurred_at, anonymous_id, user_id, session_id, event_name, page_url, page_referrer,
    # utm_source, utm_medium, utm_campaign, utm_content, utm_term, click_id, device_category, country,
    # order_id, revenue, currency, consent_analytics, email_hash, ip_hash
    (1, md5(STREAM, U1, "1704355200123456", "page_view", "1", "1", "1", "1704355200111"),
     ts("2024-01-04 08:00:00.123456"), U1, None, f"{STREAM}:{U1}:1704355200", "page_view",
     f"{SHOP}/?utm_source=google&utm_medium=cpc&utm_campaign=winter_sale&gclid=Cj0KCQiAwP6sBhDA",
     "https://www.google.com/",
     "google", "cpc", "winter_sale", None, "running shoes", "Cj0KCQiAwP6sBhDA", "desktop", "US",
     None, None, None, True, None, None),
    (2, md5(STREAM, U1, "1704355500654321", "purchase", "4", "2", "5", "1704355480222"),
     ts("2024-01-04 08:05:00.654321"), U1, "u-42", f"{STREAM}:{U1}:1704355200", "purchase",
     f"{SHOP}/checkout/thank-you", f"{SHOP}/checkout",
     None, None, None, None, None, None, "desktop", "US",
     "T-10001", Decimal("129.9900"), "USD", True, None, None),
    # privacy_info.analytics_storage "No" -> consent false
    (3, md5(STREAM, U2, "1704362400000001", "page_view", "2", "", "", ""),
     ts("2024-01-04 10:00:00.000001"), U2, None, f"{STREAM}:{U2}:1704362395", "page_view",
     f"{SHOP}/products/trail-runner", "https://www.bing.com/",
     None, None, None, None, None, None, "mobile", "GB",
     None, None, None, False, None, None),
    # event_timestamp and int_value as JSON numbers instead of strings: read the same; "South Korea" -> KR; a
    # `value` param on an event that is no purchase is no revenue (it stays in properties)
    (4, md5(STREAM, U3, "1704369600500000", "generate_lead", "7", "", "", ""),
     ts("2024-01-04 12:00:00.5"), U3, None, f"{STREAM}:{U3}:1704369000", "generate_lead",
     f"{SHOP}/contact", None,
     None, None, None, None, None, None, "tablet", "KR",
     None, None, "EUR", True, None, None),
    # no ga_session_id: no session_id (northstar sessionizes by inactivity); utm from event params; "smart tv" is
    # no contract category (kept in properties); "Czechia" -> CZ; no privacy_info: the contract default
    (6, md5(STREAM, U4, "1704380400250000", "page_view", "12", "", "", ""),
     ts("2024-01-04 15:00:00.25"), U4, None, None, "page_view",
     f"{SHOP}/blog/winter-running?utm_source=newsletter&utm_medium=email&utm_campaign=jan_digest", None,
     "newsletter", "email", "jan_digest", "hero_link", None, None, None, "CZ",
     None, None, None, True, None, None),
    # a purchase without the ecommerce record: order from the transaction_id param, revenue from `value`;
    # manual_source "(not set)" is no source; click id from collected_traffic_source.dclid; "Türkiye" -> TR
    (7, md5(STREAM, U5, "1704387600999999", "purchase", "3", "", "", ""),
     ts("2024-01-04 17:00:00.999999"), U5, "u-77", f"{STREAM}:{U5}:1704387000", "purchase",
     None, None,
     None, None, None, None, None, "CJf3x5mK", "mobile", "TR",
     "T-10002", Decimal("20.0000"), "EUR", True, None, None),
]
# fmt: on

EXPECTED_PROPERTIES = {
    1: {
        "ga4_stream_id": STREAM,
        "platform": "WEB",
        "ga_session_number": 1,
        "event_params": {
            "page_title": "Winter sale | Example Shop",
            "session_engaged": "1",
            "engagement_time_msec": 4200,
        },
        "session_traffic_source_last_click": {
            "manual_campaign": {
                "campaign_name": "winter_sale",
                "source": "google",
                "medium": "cpc",
                "term": "running shoes",
            },
            "google_ads_campaign": {
                "customer_id": "1234567890",
                "account_name": "Example Shop",
                "campaign_id": "20481234567",
                "campaign_name": "Winter Sale - Search",
                "ad_group_id": "157001234567",
                "ad_group_name": "Running shoes",
            },
        },
    },
    2: {
        "ga4_stream_id": STREAM,
        "platform": "WEB",
        "ga_session_number": 1,
        "event_params": {"value": 129.99, "engagement_time_msec": 15300},
        "user_properties": [
            {"key": "membership", "value": {"string_value": "gold", "set_timestamp_micros": "1704355490000000"}}
        ],
        "items": [
            {
                "item_id": "SKU-RUN-42",
                "item_name": "Trail runner",
                "item_brand": "Example",
                "item_category": "Shoes",
                "price": 49.5,
                "quantity": "2",
                "item_revenue": 99.0,
            },
            {
                "item_id": "SKU-SOCK-3",
                "item_name": "Running socks",
                "price": 30.99,
                "quantity": "1",
                "item_revenue": 30.99,
            },
        ],
        "session_traffic_source_last_click": {
            "manual_campaign": {"campaign_name": "winter_sale", "source": "google", "medium": "cpc"}
        },
    },
    3: {"ga4_stream_id": STREAM, "platform": "WEB", "ga_session_number": 3},
    4: {
        "ga4_stream_id": STREAM,
        "platform": "WEB",
        "event_params": {"value": 49.5, "form_id": "contact-main", "engagement_time_msec": 1200, "lead_score": 0.75},
    },
    6: {"ga4_stream_id": STREAM, "platform": "WEB", "device_category": "smart tv"},
    7: {"ga4_stream_id": STREAM, "platform": "WEB", "event_params": {"value": 20}},
}

# extra: GA4 fields no contract column or property holds (records only when they hold more than the mapped field).
EXPECTED_EXTRA = {
    1: {
        "user_first_touch_timestamp": "1704355200123456",
        "is_active_user": True,
        "traffic_source": {"name": "winter_sale", "medium": "cpc", "source": "google"},
        "device": {
            "category": "desktop",
            "operating_system": "Windows",
            "operating_system_version": "Windows 10",
            "language": "en-us",
            "is_limited_ad_tracking": "No",
            "web_info": {"browser": "Chrome", "browser_version": "120.0.6099.129", "hostname": "shop.example.com"},
        },
        "geo": {
            "city": "Chicago",
            "country": "United States",
            "continent": "Americas",
            "region": "Illinois",
            "sub_continent": "Northern America",
            "metro": "(not set)",
        },
        "privacy_info": {"analytics_storage": "Yes", "ads_storage": "Yes", "uses_transient_token": "No"},
    },
    2: {
        "user_first_touch_timestamp": "1704355200123456",
        "is_active_user": True,
        "privacy_info": {"analytics_storage": "Yes", "ads_storage": "Yes", "uses_transient_token": "No"},
        "ecommerce": {
            "total_item_quantity": "3",
            "purchase_revenue_in_usd": 129.99,
            "purchase_revenue": 129.99,
            "shipping_value": 4.99,
            "tax_value": 10.4,
            "unique_items": "2",
            "transaction_id": "T-10001",
        },
    },
    3: {
        "device": {
            "category": "mobile",
            "mobile_brand_name": "Apple",
            "mobile_model_name": "iPhone",
            "operating_system": "iOS",
        },
        "geo": {"country": "United Kingdom", "city": "London"},
        "privacy_info": {"analytics_storage": "No", "ads_storage": "No", "uses_transient_token": "No"},
    },
    4: None,
    6: {"device": {"category": "smart tv", "operating_system": "Android TV"}},
    7: None,
}


def file_result(report, path: Path):
    (res,) = [
        f for f in report.files if Path(f.path).name == path.name and Path(f.path).parent.name == path.parent.name
    ]
    return res.status, res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped


def test_daily_table_maps_every_column(settings: Settings) -> None:
    report = load(settings, DAILY)
    assert file_result(report, DAILY) == ("loaded", 7, 6, 1, 0)
    assert rows(settings, "select source, file_format from raw.load_manifest") == [("ga4", "jsonl")]
    assert rows(settings, f"select {COLS} from raw.events order by row_number") == EXPECTED_DAILY
    got = rows(settings, "select row_number, properties, extra from raw.events order by row_number")
    assert {n: json.loads(p) for n, p, _ in got} == EXPECTED_PROPERTIES
    assert {n: None if e is None else json.loads(e) for n, _, e in got} == EXPECTED_EXTRA


def test_ping_without_user_pseudo_id_is_quarantined_with_its_line(settings: Settings) -> None:
    load(settings, DAILY)
    line5 = DAILY.read_text(encoding="utf-8").splitlines()[4]
    assert rows(settings, "select row_number, reason, raw_record from raw.quarantine") == [
        (5, "missing_required:anonymous_id", line5)
    ]


def test_intraday_copies_of_the_daily_table_are_duplicates(settings: Settings) -> None:
    report = load(settings, GA4 / "events_intraday_20240104.json", DAILY)  # loads sort by name: daily first
    assert file_result(report, DAILY) == ("loaded", 7, 6, 1, 0)
    assert file_result(report, INTRADAY) == ("loaded", 4, 1, 0, 3)
    assert rows(settings, "select count(*), count(distinct event_id) from raw.events") == [(7, 7)]
    # the daily versions stayed (the intraday one of row 1 has no session_traffic_source_last_click)
    first = rows(
        settings, "select source_file, properties from raw.events where occurred_at = '2024-01-04 08:00:00.123456'"
    )
    assert [(Path(f).name, "session_traffic_source_last_click" in json.loads(p)) for f, p in first] == [
        ("events_20240104.json", True)
    ]
    new = rows(settings, f"select {COLS} from raw.events where source_file like '%intraday%'")
    # fmt: off
    assert new == [
        (4, md5(STREAM, U2, "1704398400000000", "page_view", "5", "", "", ""),
         ts("2024-01-04 20:00:00"), U2, None, f"{STREAM}:{U2}:1704398390", "page_view",
         f"{SHOP}/products/trail-runner?color=blue", f"{SHOP}/products/trail-runner",
         None, None, None, None, None, None, "mobile", "GB",
         None, None, None, False, None, None),
    ]
    # fmt: on


def test_daily_table_after_its_intraday_table_adds_only_new_events(settings: Settings) -> None:
    report = load(settings, INTRADAY)
    assert file_result(report, INTRADAY) == ("loaded", 4, 4, 0, 0)
    report = load(settings, DAILY)
    assert file_result(report, DAILY) == ("loaded", 7, 3, 1, 3)
    assert rows(settings, "select count(*), count(distinct event_id) from raw.events") == [(7, 7)]
    assert rows(settings, "select row_number from raw.events where source_file like '%events_20240104.json'") == [
        (4,),
        (6,),
        (7,),
    ]


def test_two_properties_load_side_by_side(settings: Settings) -> None:
    report = load(settings, DAILY, PROPERTY_B)
    assert file_result(report, PROPERTY_B) == ("loaded", 2, 2, 0, 0)
    # the same page view measured by both properties (same cookie, same time) stays two events in two sessions
    same = rows(
        settings,
        """select event_id, session_id, properties->>'ga4_stream_id' from raw.events
           where occurred_at = '2024-01-04 08:00:00.123456' order by session_id""",
    )
    assert same == [
        (
            md5(STREAM, "1187253946.1704355200", "1704355200123456", "page_view", "1", "1", "1", "1704355200111"),
            f"{STREAM}:1187253946.1704355200:1704355200",
            STREAM,
        ),
        (
            md5("7740021938", "1187253946.1704355200", "1704355200123456", "page_view", "1", "", "", ""),
            "7740021938:1187253946.1704355200:1704355200",
            "7740021938",
        ),
    ]
    assert rows(settings, "select country, user_id, properties from raw.events where event_name = 'sign_up'") == [
        ("NL", "u-42", '{"ga4_stream_id":"7740021938","platform":"WEB","event_params":{"method":"email"}}')
    ]


# --------------------------------------------------------------------------------------------------
# Parquet, gzip, odd lines


S, I64, F64 = pa.string(), pa.int64(), pa.float64()


def _struct(*fields: str | tuple[str, pa.DataType]) -> pa.DataType:
    """A struct of string fields, or (name, type) pairs."""
    return pa.struct([f if isinstance(f, tuple) else (f, S) for f in fields])


def _kv(*value_fields: tuple[str, pa.DataType]) -> pa.DataType:
    """GA4's repeated key / value records (event_params, user_properties)."""
    value = _struct(("string_value", S), ("int_value", I64), ("float_value", F64), ("double_value", F64), *value_fields)
    return pa.list_(_struct("key", ("value", value)))


# The BigQuery types of the sample's fields (INTEGER -> int64, FLOAT -> float64, RECORD -> struct, REPEATED -> list),
# as `bq extract --destination_format PARQUET` keeps them.
# fmt: off
GA4_PARQUET = pa.schema([
    ("event_date", S), ("event_timestamp", I64), ("event_name", S), ("event_params", _kv()),
    ("event_bundle_sequence_id", I64), ("user_id", S), ("user_pseudo_id", S),
    ("privacy_info", _struct("analytics_storage", "ads_storage", "uses_transient_token")),
    ("user_properties", _kv(("set_timestamp_micros", I64))), ("user_first_touch_timestamp", I64),
    ("device", _struct("category", "mobile_brand_name", "mobile_model_name", "operating_system",
                       "operating_system_version", "language", "is_limited_ad_tracking",
                       ("web_info", _struct("browser", "browser_version", "hostname")))),
    ("geo", _struct("city", "country", "continent", "region", "sub_continent", "metro")),
    ("traffic_source", _struct("name", "medium", "source")), ("stream_id", S), ("platform", S),
    ("ecommerce", _struct(("total_item_quantity", I64), ("purchase_revenue_in_usd", F64), ("purchase_revenue", F64),
                          ("shipping_value", F64), ("tax_value", F64), ("unique_items", I64), "transaction_id")),
    ("items", pa.list_(_struct("item_id", "item_name", "item_brand", "item_category", ("price", F64),
                               ("quantity", I64), ("item_revenue", F64)))),
    ("collected_traffic_source", _struct("manual_campaign_name", "manual_source", "manual_medium", "manual_term",
                                         "manual_content", "gclid", "dclid", "srsltid")),
    ("is_active_user", pa.bool_()), ("batch_event_index", I64), ("batch_page_id", I64), ("batch_ordering_id", I64),
    ("session_traffic_source_last_click", _struct(
        ("manual_campaign", _struct("campaign_name", "source", "medium", "term")),
        ("google_ads_campaign", _struct("customer_id", "account_name", "campaign_id", "campaign_name", "ad_group_id",
                                        "ad_group_name")))),
])
# fmt: on


def _typed(value, t: pa.DataType):
    """A JSON value as the Parquet column of type t holds it (bq's "42" strings are INT64 numbers there)."""
    if value is None:
        return None
    if pa.types.is_struct(t):
        return {t.field(i).name: _typed(value.get(t.field(i).name), t.field(i).type) for i in range(t.num_fields)}
    if pa.types.is_list(t):
        return [_typed(v, t.value_type) for v in value]
    if pa.types.is_int64(t):
        return int(value)
    if pa.types.is_floating(t):
        return float(value)
    return value


def _to_parquet(src: Path, dst: Path) -> None:
    records = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines()]
    known = {f.name for f in GA4_PARQUET}
    assert all(set(r) <= known for r in records), "a sample field is missing from GA4_PARQUET"
    table = pa.Table.from_pylist(
        [{f.name: _typed(r.get(f.name), f.type) for f in GA4_PARQUET} for r in records], schema=GA4_PARQUET
    )
    pq.write_table(table, dst)


def test_parquet_export_maps_like_json_lines(settings: Settings, tmp_path: Path) -> None:
    parquet = tmp_path / "events_20240104.parquet"
    _to_parquet(DAILY, parquet)
    assert detect(peek(parquet, "parquet", False)) is ga4.SOURCE
    report = load(settings, parquet)
    assert file_result(report, parquet) == ("loaded", 7, 6, 1, 0)
    assert rows(settings, f"select {COLS} from raw.events order by row_number") == EXPECTED_DAILY
    assert rows(settings, "select properties from raw.events where row_number = 3") == [
        ('{"ga4_stream_id":"2893471265","platform":"WEB","ga_session_number":3}',)
    ]
    # the same events as the JSON Lines of the same day: loading those too adds nothing
    report = load(settings, DAILY)
    assert file_result(report, DAILY) == ("loaded", 7, 0, 1, 6)


def test_gzipped_json_lines(settings: Settings, tmp_path: Path) -> None:
    gz = tmp_path / "events_20240104.json.gz"
    gz.write_bytes(gzip.compress(DAILY.read_bytes()))
    report = load(settings, gz)
    assert file_result(report, gz) == ("loaded", 7, 6, 1, 0)
    assert rows(settings, f"select {COLS} from raw.events order by row_number") == EXPECTED_DAILY


def test_blank_malformed_and_badly_encoded_lines_keep_their_numbers(settings: Settings, tmp_path: Path) -> None:
    good = DAILY.read_bytes().splitlines()
    path = tmp_path / "events_20240104.json"
    path.write_bytes(
        b"\n".join([good[0], b"", b'{"event_name": "page_view", oops', b'{"event_name": "\xff\xfe"}', good[2]])
    )
    report = load(settings, path)
    assert file_result(report, path) == ("loaded", 4, 2, 2, 0)
    assert rows(settings, "select row_number from raw.events order by 1") == [(1,), (5,)]
    assert rows(settings, "select row_number, reason from raw.quarantine order by 1") == [
        (3, "malformed_record"),
        (4, "invalid_encoding"),
    ]


# --------------------------------------------------------------------------------------------------
# Detection


def test_detection_claims_ga4_rows_only(tmp_path: Path) -> None:
    for sample in (DAILY, INTRADAY, PROPERTY_B):
        assert detect(peek(sample, "jsonl", False)) is ga4.SOURCE
    landing = tmp_path / "events_landing.jsonl"
    landing.write_text(
        '{"event_id": "e1", "occurred_at": "2024-01-04T08:00:00Z", "anonymous_id": "a1", "event_name": "page_view",'
        ' "event_timestamp": "1704355200000000", "user_pseudo_id": "a1"}\n'
    )
    assert not ga4.looks_like(peek(landing, "jsonl", False))  # GA4 names, but no GA4-only field


def test_forcing_ga4_on_segment_messages_names_what_they_are(settings: Settings) -> None:
    sample = SAMPLES / "segment" / "segment_2024-01-04.jsonl"
    (msg,) = load(settings, sample, source="ga4").errors
    assert msg.startswith(f"{sample}: does not look like GA4 BigQuery export (--source ga4); it looks like ")
    assert msg.endswith("(--source segment)")


def test_forcing_ga4_on_another_format_is_one_clear_error(settings: Settings, tmp_path: Path) -> None:
    landing = tmp_path / "events_2024-01-04.jsonl"
    landing.write_text(
        '{"event_id": "e1", "occurred_at": "2024-01-04T08:00:00Z", "anonymous_id": "a1", "event_name": "page_view"}\n'
    )
    report = load(settings, landing, source="ga4")
    (msg,) = report.errors
    assert msg == (
        f"{landing}: does not look like GA4 BigQuery export (--source ga4); it looks like northstar landing format"
        " (DATA_CONTRACT.md) (--source landing)"
    )


# --------------------------------------------------------------------------------------------------
# generate --as ga4: the round trip


def test_round_trip_through_ga4_files(tmp_path: Path) -> None:
    from northstar.sample.as_sources import write_as
    from northstar.sample.generate import generate

    land, out = tmp_path / "landing", tmp_path / "ga4"
    generate(land, days=3, visitors=2000, seed=5, file_format="jsonl", progress=False)
    a = Settings(warehouse_dir=tmp_path / "wh_landing", landing_dir=land, pii_salt="s")
    b = Settings(warehouse_dir=tmp_path / "wh_ga4", landing_dir=out, pii_salt="s")
    result = write_as(a, land, out, ["ga4"])
    days = sorted(p.name for p in result.files if p.name.startswith("events_"))
    assert days == ["events_20260101.json", "events_20260102.json", "events_20260103.json"]
    first = json.loads((out / days[0]).read_text(encoding="utf-8").splitlines()[0])
    assert isinstance(first["event_timestamp"], str) and first["stream_id"] == ga4.EXPORT_STREAM_ID  # as bq writes

    assert not load(a, land).errors
    report = load(b, out)
    assert not report.errors
    ga4_files = [f for f in report.files if Path(f.path).name.startswith("events_")]
    assert {f.rows_quarantined + f.duplicates_skipped for f in ga4_files} == {0}

    # Compared: every contract column but event_id (GA4 has none: a hash of GA4's own ids), properties (not carried)
    # and email/ip (never in raw). session_id is GA4's stream:user_pseudo_id:ga_session_id: compared as the grouping
    # it makes (same events in the same sessions). click_id: GA4 keeps gclid, dclid and srsltid only (the others stay
    # in page_url, where staging finds their type).
    def snapshot(s: Settings, click: str) -> list[tuple]:
        with duckdb.connect(str(s.warehouse_path), read_only=True) as con:
            return con.execute(
                f"""select occurred_at, anonymous_id, user_id, event_name, page_url, page_referrer, utm_source,
                           utm_medium, utm_campaign, utm_content, utm_term, {click} as click_id, device_category,
                           country, order_id, revenue, currency, consent_analytics,
                           case when session_id is not null
                                then min(occurred_at) over (partition by anonymous_id, session_id) end as session_start
                    from raw.events order by all"""
            ).fetchall()

    kept = " or ".join(f"contains(page_url, '{p}=' || click_id)" for p in ("gclid", "dclid", "srsltid"))
    expected = snapshot(a, f"case when {kept} then click_id end")
    got = snapshot(b, "click_id")
    assert len(got) == len(expected) > 1000
    assert got == expected
    with duckdb.connect(str(b.warehouse_path), read_only=True) as con:
        assert con.execute(
            "select count(*) from raw.events where session_id not similar to '4117306512:[^:]+:[0-9]+'"
        ).fetchone() == (0,)
        # sessions: as many, and each holds the same events (checked above through session_start)
        assert con.execute("select count(distinct (anonymous_id, session_id)) from raw.events").fetchone()[0] > 0
    with duckdb.connect(str(a.warehouse_path), read_only=True) as con:
        covered = con.execute(
            f"""select count(distinct session_id), count(order_id), count(*) filter (where not consent_analytics),
                       count(*) filter (where {kept}), count(utm_source), count(user_id)
                from raw.events"""
        ).fetchone()
    assert min(covered) > 0  # the data set has source sessions, orders, no-consent rows, gclids, utm tags, users


def test_export_keeps_sessions_of_one_device_apart(settings: Settings, tmp_path: Path) -> None:
    # ga_session_id is the session start in Unix seconds; sessions of one device starting in the same second
    # take the next free second, so they stay four sessions after the round trip
    cols = ("event_id", "occurred_at", "anonymous_id", "session_id")
    rows_ = [
        ("e1", "2026-01-01 00:00:00.1", "a", "s1"),
        ("e2", "2026-01-01 00:00:00.5", "a", "s2"),
        ("e3", "2026-01-01 00:00:01.2", "a", "s3"),
        ("e4", "2026-01-01 00:00:09", "a", "s4"),
        ("e5", "2026-01-01 00:00:09.5", "a", None),
    ]
    values = ", ".join(f"('{e}', timestamp '{t}', '{a}', {repr(s) if s else 'null'})" for e, t, a, s in rows_)
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(
            f"""create temp view contract_events as
            select *, 'page_view' as event_name, 'https://x.example/' as page_url, null as page_referrer,
                   null as utm_source, null as utm_medium, null as utm_campaign, null as utm_content,
                   null as utm_term, null as click_id, null as device_category, null as country, null as order_id,
                   null::decimal(18, 4) as revenue, null as currency, true as consent_analytics, null as user_id
            from (values {values}) as t({", ".join(cols)})"""
        )
        (path,) = ga4.export(con, tmp_path)
    params = [
        {p["key"]: p["value"] for p in json.loads(line)["event_params"]} for line in path.read_text().splitlines()
    ]
    assert [p.get("ga_session_id") for p in params] == [
        {"int_value": "1767225600"},
        {"int_value": "1767225601"},
        {"int_value": "1767225602"},
        {"int_value": "1767225609"},
        None,  # no session_id: no ga_session_id
    ]
    load(settings, path)
    assert rows(settings, "select session_id from raw.events order by occurred_at") == [
        (f"{ga4.EXPORT_STREAM_ID}:a:1767225600",),
        (f"{ga4.EXPORT_STREAM_ID}:a:1767225601",),
        (f"{ga4.EXPORT_STREAM_ID}:a:1767225602",),
        (f"{ga4.EXPORT_STREAM_ID}:a:1767225609",),
        (None,),
    ]
