"""Segment / RudderStack messages: the samples load as the mapping says, value by value; identify rows carry both ids
for identity stitching; the export (`generate --as segment`) round-trips every column the messages can carry."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import duckdb
import jsonschema
import pytest
from conftest import SALT
from sourcetest import SAMPLES, load, rows

from northstar.config import Settings
from northstar.ingest import contract as C
from northstar.sample.as_sources import create_contract_views, write_as
from northstar.sample.generate import generate
from northstar.sources import segment

HERE = SAMPLES / "segment"
DAY = HERE / "segment_2024-01-04.jsonl"
BATCH = HERE / "segment_batch_2024-01-05.json"
RUDDER = HERE / "rudderstack_2024-01-05.jsonl"

# Contract columns a Segment message cannot carry: click ids live only in the page URL's query string (staging reads
# them from there), and e-mail / IP are not in the contract views at all (raw keeps only their hashes).
NOT_CARRIED = {"click_id", "email", "ip"}

COLS = (
    "event_id, occurred_at, anonymous_id, user_id, session_id, event_name, page_url, page_referrer, utm_source,"
    " utm_medium, utm_campaign, utm_content, utm_term, device_category, country, order_id, revenue, currency,"
    " consent_analytics, properties"
)


def _h(value: str) -> str:
    return hashlib.sha256((SALT + value).encode()).hexdigest()


def _events(settings: Settings) -> list[dict]:
    names = [c.strip() for c in COLS.split(",")]
    out = []
    for r in rows(settings, f"select {COLS}, email_hash, ip_hash from raw.events order by occurred_at"):
        d = dict(zip([*names, "email_hash", "ip_hash"], r, strict=True))
        d["properties"] = json.loads(d["properties"]) if d["properties"] is not None else None
        d["revenue"] = None if d["revenue"] is None else str(d["revenue"])
        d["occurred_at"] = d["occurred_at"].isoformat()
        out.append(d)
    return out


def test_samples_conform_to_the_vendored_segment_schema() -> None:
    schema = json.loads((HERE / "schema" / "segment-event-schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    bad = []
    for path in (DAY, RUDDER):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            try:
                msg = json.loads(line)
            except ValueError:
                bad.append((path.name, i, "malformed"))
                continue
            if list(validator.iter_errors(msg)):
                bad.append((path.name, i, "invalid"))
    for i, msg in enumerate(json.loads(BATCH.read_text())["batch"], 1):
        if list(validator.iter_errors(msg)):
            bad.append((BATCH.name, i, "invalid"))
    # exactly the two deliberately broken lines: a cut line and a message with neither anonymousId nor userId
    assert bad == [(DAY.name, 5, "malformed"), (DAY.name, 6, "invalid")]


def test_segment_day_file(settings: Settings) -> None:
    (res,) = load(settings, DAY).files  # no --source: detection picks it
    assert (res.status, res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (
        "loaded",
        9,
        6,
        2,
        1,
    )
    assert rows(settings, "select source from raw.load_manifest") == [("segment",)]
    assert rows(settings, "select row_number, reason from raw.quarantine order by 1") == [
        (5, "malformed_record"),
        (6, "missing_required:anonymous_id"),
    ]
    a1 = "4f1c2e7a-8b3d-4c59-9e21-7d0a6b5c3f10"
    page, add, ident, order, signed_up, screen = _events(settings)
    base = dict.fromkeys([c.strip() for c in COLS.split(",")]) | {"consent_analytics": True}
    shoe = "https://shop.example.com/products/trail-shoe"
    assert page == base | {
        "event_id": "ajs-next-5d1e0c4b8a7f6e3d2c1b0a9f8e7d6c5b",
        "occurred_at": "2024-01-04T09:15:02.310000",  # timestamp, not originalTimestamp
        "anonymous_id": a1,
        "event_name": "page_view",
        "page_url": shoe,
        "page_referrer": "https://www.google.com/",
        "device_category": "desktop",  # from the Mac user agent
        "properties": {"path": "/products/trail-shoe", "search": "", "title": "Trail Shoe"},  # url/referrer moved
        "email_hash": None,
        "ip_hash": _h("203.0.113.7"),
    }
    utm = "?utm_source=newsletter&utm_medium=email&utm_campaign=winter-sale&utm_content=hero-banner"
    assert add == base | {
        "event_id": "ajs-next-0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "occurred_at": "2024-01-04T09:16:40.120000",
        "anonymous_id": a1,
        "event_name": "add_to_cart",  # "Product Added"
        "page_url": shoe + utm,
        "page_referrer": "https://mail.example.net/",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "winter-sale",
        "utm_content": "hero-banner",
        "device_category": "mobile",  # iPhone user agent
        "country": "DE",
        "properties": {"cart_id": "c-88", "product_id": "SKU-123", "name": "Trail Shoe", "price": 89.5, "quantity": 1},
        "email_hash": None,
        "ip_hash": _h("203.0.113.7"),
    }
    assert ident == base | {
        "event_id": "ajs-next-9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "occurred_at": "2024-01-04T09:18:03",
        "anonymous_id": a1,
        "user_id": "user-4711",
        "event_name": "identify",
        "device_category": "desktop",
        "email_hash": _h("jane.doe@example.com"),  # traits.email, trimmed and lower-cased by the loader
        "ip_hash": _h("203.0.113.7"),
    }
    assert order == base | {
        "event_id": "ajs-next-11223344556677889900aabbccddeeff",
        "occurred_at": "2024-01-04T09:21:45.800000",
        "anonymous_id": a1,
        "user_id": "user-4711",
        "event_name": "purchase",  # "Order Completed"
        "page_url": "https://shop.example.com/checkout/thank-you",  # context.page.url
        "page_referrer": "https://shop.example.com/checkout",
        "device_category": "desktop",
        "order_id": "ORD-1001",
        "revenue": "89.5000",  # revenue wins over total
        "currency": "EUR",
        "consent_analytics": True,  # categoryPreferences.Analytics = true (Advertising false does not matter)
        "properties": {
            "checkout_id": "chk-31",
            "total": 101.9,
            "shipping": 7.5,
            "tax": 4.9,
            "products": [{"product_id": "SKU-123", "sku": "TS-42", "price": 89.5, "quantity": 1}],
        },
        "email_hash": _h("jane.doe@example.com"),  # context.traits.email
        "ip_hash": _h("203.0.113.7"),
    }
    assert signed_up == base | {
        "event_id": "node-6e5d4c3b-2a19-4807-b6f5-e4d3c2b1a098",
        "occurred_at": "2024-01-04T11:30:00",  # no timestamp: originalTimestamp
        "anonymous_id": "user-4712",  # server-side call with userId only: the user is their own device
        "user_id": "user-4712",
        "event_name": "sign_up",  # "Signed Up"
        "properties": {"type": "organic", "plan": "team"},
        "email_hash": None,
        "ip_hash": None,
    }
    assert screen == base | {
        "event_id": "9c1f0e2d-7b3a-4c5d-8e6f-0a1b2c3d4e5f",
        "occurred_at": "2024-01-04T18:45:10.500000",
        "anonymous_id": "e2d9c7b1-3f4a-4b6c-8d0e-1a2b3c4d5e6f",
        "event_name": "page_view",  # a screen call counts as a page view
        "device_category": "mobile",  # context.device.type android
        "country": None,  # "United States" is a name, not an ISO code
        "consent_analytics": False,  # categoryPreferences.Analytics = false
        "properties": {"name": "Home"},
        "email_hash": None,
        "ip_hash": None,
    }
    extra = rows(settings, "select extra from raw.events where event_name = 'purchase'")[0][0]
    assert json.loads(extra)["event"] == "Order Completed"  # the original name is kept
    assert "traits" not in extra and "@" not in extra  # no personal data in extra


def test_batch_document(settings: Settings) -> None:
    (res,) = load(settings, BATCH).files
    assert (res.status, res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (
        "loaded",
        3,
        3,
        0,
        0,
    )
    got = rows(
        settings,
        """select row_number, event_id, occurred_at::varchar, anonymous_id, user_id, event_name, page_url, order_id,
                  revenue::varchar, currency, properties, ip_hash from raw.events order by row_number""",
    )
    anon = "0b6f3c2a-9d8e-4f71-a2b3-c4d5e6f70812"
    assert got == [
        (1, "py-8a7b6c5d-0001", "2024-01-05 08:00:00", anon, None, "page_view",
         "https://app.example.com/pricing?plan=team", None, None, None, '{"title":"Pricing"}', _h("198.51.100.23")),
        # +01:00 converted to UTC; the message's own context.ip wins over the batch context; 'usd' upper-cased
        (2, "py-8a7b6c5d-0002", "2024-01-05 07:03:30", anon, None, "begin_checkout",
         "https://app.example.com/checkout", "ORD-2002", "45.0000", "USD", '{"value":49.0}', _h("192.0.2.44")),
        # alias: previousId is the device, userId the person it belongs to
        (3, "py-8a7b6c5d-0003", "2024-01-05 08:04:00", anon, "user-5005", "alias", None, None, None, None, None,
         _h("198.51.100.23")),
    ]  # fmt: skip


def test_rudderstack_messages(settings: Settings) -> None:
    (res,) = load(settings, RUDDER).files
    assert (res.status, res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (
        "loaded",
        4,
        4,
        0,
        0,
    )
    got = rows(
        settings,
        """select event_name, session_id, user_id, page_url, page_referrer, device_category, order_id,
                  revenue::varchar, currency, consent_analytics, properties, email_hash, ip_hash
           from raw.events order by occurred_at""",
    )
    url = "https://www.example.com/blog/attribution?gclid=Cj0KCQ1"
    ip = _h("198.51.100.77")  # request_ip: RudderStack's own record of the caller's address
    assert got == [
        # referrer '$direct' is RudderStack's placeholder for no referrer
        ("page_view", "1704448800123", None, url, None, "desktop", None, None, None, True,
         json.dumps({"path": "/blog/attribution", "title": "Attribution 101", "tab_url": url}, separators=(",", ":")),
         None, ip),
        ("view_item", "1704448800123", None, "https://www.example.com/products/p-9",
         "https://www.example.com/blog/attribution", "tablet", None, None, "EUR", True,
         '{"product_id":"P-9","price":19.99}', None, ip),  # Android without "Mobile": a tablet
        ("identify", "1704448800123", "crm-000815", None, None, "desktop", None, None, None, True, None,
         _h("luc@example.fr"), ip),
        # total gives the revenue when there is no revenue; analytics in deniedConsentIds -> no consent
        ("purchase", "1704448800123", "crm-000815", None, None, "desktop", "R-77", "49.0000", "EUR", False,
         '{"coupon":"WELCOME"}', None, ip),
    ]  # fmt: skip
    extra = json.loads(rows(settings, "select extra from raw.events order by occurred_at limit 1")[0][0])
    assert (extra["channel"], extra["rudderId"]) == ("web", "bb1c2d3e-0000-4000-8000-000000000001")


def test_identify_rows_carry_both_ids_and_are_not_page_views(settings: Settings) -> None:
    # int_identities_stitched takes every consented event with anonymous_id and user_id: identify calls are that;
    # int_events_sessionized counts page views as event_name = 'page_view' only.
    load(settings, DAY)
    assert rows(
        settings,
        "select anonymous_id, user_id, event_name = 'page_view' from raw.events where event_name = 'identify'",
    ) == [("4f1c2e7a-8b3d-4c59-9e21-7d0a6b5c3f10", "user-4711", False)]


def test_forcing_segment_on_another_file_is_one_clear_error(settings: Settings, tmp_path: Path) -> None:
    landing = tmp_path / "events_2024-01-04.jsonl"
    landing.write_text(
        json.dumps({"event_id": "e1", "occurred_at": "2024-01-04T10:00:00Z", "anonymous_id": "a", "event_name": "x"})
        + "\n"
    )
    (res,) = load(settings, landing, source="segment").files
    assert res.status == "error"
    assert "does not look like Segment / RudderStack messages" in res.message
    assert "northstar landing format" in res.message and "\n" not in res.message


def test_snake_case_and_the_name_map() -> None:
    names = ["Order Completed", "productAdded", "contact_form_submit", " Signed  Up! ", "Product Added to Wishlist"]
    expected = ["order_completed", "product_added", "contact_form_submit", "signed_up", "product_added_to_wishlist"]
    assert [segment.snake_case(n) for n in names] == expected
    with duckdb.connect() as con:  # the SQL the loader runs gives the same
        sql = segment._SNAKE_SQL.format(x="n")
        assert [r[0] for r in con.execute(f"select {sql} from unnest(?) as t(n)", [names]).fetchall()] == expected
    assert len(set(segment.EVENT_NAMES.values())) == len(segment.EVENT_NAMES)  # one to one: export inverts it


def _contract_rows(settings: Settings) -> dict[str, dict]:
    cols = [c.name for c in C.EVENTS if c.name not in NOT_CARRIED]
    out = {}
    for r in rows(settings, f"select {', '.join(cols)} from raw.events"):
        d = dict(zip(cols, r, strict=True))
        d["properties"] = json.loads(d["properties"]) if d["properties"] is not None else None
        out[d["event_id"]] = d
    return out


def test_export_round_trip_on_generated_data(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    generate(landing, days=3, visitors=300, seed=5, file_format="jsonl", progress=False)
    before = Settings(warehouse_dir=tmp_path / "wh_landing", landing_dir=landing, pii_salt=SALT)
    assert not load(before, landing).errors
    out = tmp_path / "out"
    result = write_as(before, landing, out, ["segment"])
    seg_files = [p.name for p in result.files if p.name.startswith("segment_")]
    assert len(seg_files) >= 3 and all(re.fullmatch(r"segment_\d{4}-\d{2}-\d{2}\.jsonl\.gz", n) for n in seg_files)
    after = Settings(warehouse_dir=tmp_path / "wh_segment", landing_dir=out, pii_salt=SALT)
    report = load(after, out)
    assert not report.errors
    seg = [f for f in report.files if Path(f.path).name.startswith("segment_")]
    assert all(f.rows_quarantined == 0 and f.duplicates_skipped == 0 for f in seg)
    a, b = _contract_rows(before), _contract_rows(after)
    assert len(a) > 150 and a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    # the data set exercises what matters: purchases with money, identified users, missing consent
    names = {d["event_name"] for d in b.values()}
    assert {"page_view", "purchase", "add_to_cart"} <= names
    assert any(d["user_id"] for d in b.values()) and any(d["revenue"] for d in b.values())


@pytest.mark.parametrize("sample", [DAY, BATCH, RUDDER], ids=lambda p: p.name)
def test_export_round_trip_on_the_samples(settings: Settings, tmp_path: Path, sample: Path) -> None:
    # identify, alias, screen and total-only orders are not in the generated data: the samples have them
    load(settings, sample)
    out = tmp_path / "out"
    out.mkdir()
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("set TimeZone = 'UTC'")
        create_contract_views(con)
        files = segment.export(con, out)
    after = Settings(warehouse_dir=tmp_path / "wh2", landing_dir=out, pii_salt=SALT)
    assert not load(after, *files).errors
    assert _contract_rows(after) == _contract_rows(settings)
