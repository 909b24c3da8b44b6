"""Shopify orders: the Admin API's JSON (documents and JSON Lines) and the admin's CSV export, mapped by hand.

Samples in tests/data/sources/shopify/ (shop currency USD, shop time zone UTC-5):
  orders_api_2026-03-02.json  GET /admin/api/<version>/orders.json: paid, refunded the next day, voided + cancelled,
                              presentment EUR, money as numbers, no customer, partially refunded (7 orders)
  orders_connector.jsonl      order objects as a connector writes them (money as numbers): a partial refund
                              without current_total_price, a refund in another currency, a malformed line ...
  orders_export_1.csv         Orders > Export: 9 lines -> 4 orders (only an order's first line has its totals) +
                              2 lines that belong to no order
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
from sourcetest import SAMPLES, load, rows

from northstar.config import Settings
from northstar.sources import shopify

DIR = SAMPLES / "shopify"
API = DIR / "orders_api_2026-03-02.json"
JSONL = DIR / "orders_connector.jsonl"
CSV = DIR / "orders_export_1.csv"
CONTRACT = "order_id, ordered_at, user_id, status, revenue, cost_of_goods, currency"
# The one contract column Shopify's orders cannot carry (the round trip below leaves it out).
NOT_CARRIED = {"cost_of_goods": "Shopify's orders API and CSV export have no cost of goods"}


def _counts(report) -> tuple:
    (res,) = report.files
    assert res.status == "loaded", res.message
    return res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped


def _orders(settings: Settings, where: str = "true") -> list[tuple]:
    return rows(settings, f"select {CONTRACT} from raw.orders where {where} order by source_file, row_number")


def _extra(settings: Settings, order_id: str) -> dict[str, Any]:
    (text,) = rows(settings, f"select extra from raw.orders where order_id = '{order_id}'")[0]
    return json.loads(text)


def test_api_document_maps_every_order_by_hand(settings: Settings) -> None:
    assert _counts(load(settings, API)) == (7, 7, 0, 0)
    assert rows(settings, "select source, file_format from raw.load_manifest") == [("shopify", "json")]
    usd = "USD"
    assert _orders(settings) == [
        # paid: created 09:15 -05:00 -> 14:15 UTC; revenue = current_total_price
        ("5550000001", datetime(2026, 3, 2, 14, 15), "7001001", "completed", Decimal("56.29"), None, usd),
        # refunded the next day: ordered_at stays the order's (22:40 -05:00 is already 03-03 in UTC); revenue is
        # the order's total_price, the status tells the marts it is not kept
        ("5550000002", datetime(2026, 3, 3, 3, 40), "7001002", "refunded", Decimal("120.00"), None, usd),
        # voided and cancelled_at set -> cancelled, revenue total_price
        ("5550000003", datetime(2026, 3, 2, 16, 5), "7001003", "cancelled", Decimal("35.00"), None, usd),
        # paid in EUR (presentment), amounts in the shop currency USD
        ("5550000004", datetime(2026, 3, 2, 18, 20), "7001004", "completed", Decimal("108.00"), None, usd),
        # money as JSON numbers (45.5)
        ("5550000005", datetime(2026, 3, 2, 20, 45, 30), "7001005", "completed", Decimal("45.50"), None, usd),
        # authorized, no customer (a POS sale)
        ("5550000006", datetime(2026, 3, 2, 22, 0), None, "completed", Decimal("19.99"), None, usd),
        # partially refunded: completed, revenue = current_total_price 60.00 (80.00 - 20.00)
        ("5550000007", datetime(2026, 3, 2, 23, 10), "7001001", "completed", Decimal("60.00"), None, usd),
    ]


def test_api_extra_keeps_name_presentment_and_refunds_but_no_personal_data(settings: Settings) -> None:
    load(settings, API)
    first = _extra(settings, "5550000001")
    assert first["name"] == "#1001"
    assert first["landing_site"] == "/products/fern-print?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale"
    assert first["referring_site"] == "https://www.google.com/"
    assert first["discount_codes"] == ["SPRING5"]
    assert first["line_items"] == [
        {"name": "Botanical Fern Print", "sku": "FERN-1", "quantity": 2, "price": "16.00"},
        {"name": "Canvas Tote Bag", "sku": "TOTE-1", "quantity": 1, "price": "20.00"},
    ]
    refunded = _extra(settings, "5550000002")
    assert (refunded["refunded_at"], refunded["refunded_amount"]) == ("2026-03-03T11:30:00-05:00", "120.0000")
    presented = _extra(settings, "5550000004")
    assert (presented["presentment_currency"], presented["presentment_total_price"]) == ("EUR", "100.00")
    partial = _extra(settings, "5550000007")  # the failed refund transaction of 20.00 is not counted
    assert (partial["refunded_amount"], partial["current_total_price"]) == ("20.0000", "60.00")
    cancelled = _extra(settings, "5550000003")
    assert (cancelled["cancel_reason"], cancelled["financial_status"]) == ("customer", "voided")
    text = " ".join(r[0] for r in rows(settings, "select cast(extra as varchar) from raw.orders"))
    for personal in ("@example.com", "203.0.113.7", "first_name", "Example", '"customer":', '"email":'):
        assert personal not in text


def test_connector_json_lines(settings: Settings) -> None:
    assert _counts(load(settings, JSONL)) == (6, 4, 2, 0)
    assert _orders(settings) == [
        # partially refunded, no current_total_price: total_price 80.0 - the refund transaction 25.00
        ("5550000101", datetime(2026, 3, 4, 15, 0), "7001010", "completed", Decimal("55.00"), None, "USD"),
        # "customer": null
        ("5550000102", datetime(2026, 3, 4, 16, 0), None, "completed", Decimal("30.00"), None, "USD"),
        # expired -> cancelled
        ("5550000105", datetime(2026, 3, 4, 18, 0), "7001012", "cancelled", Decimal("12.50"), None, "USD"),
        # cancelled_at wins over financial_status refunded
        ("5550000106", datetime(2026, 3, 4, 19, 0), "7001013", "cancelled", Decimal("22.00"), None, "USD"),
    ]
    assert rows(settings, "select row_number, reason from raw.quarantine order by row_number") == [
        (3, "missing_required:revenue"),  # 50.00 EUR refunded on a USD order: cannot be subtracted
        (4, "malformed_record"),  # cut line
    ]


def test_csv_export_folds_line_items_back_into_orders(settings: Settings) -> None:
    # 9 lines: #1001 (2 lines), #1002 (1), #1007 (3), #1009 (1), a #1010 line without its first line, a line
    # without a Name. rows_read counts records: 4 orders + 2 lines that belong to no order.
    assert _counts(load(settings, CSV)) == (6, 4, 2, 0)
    assert rows(settings, "select source, file_format from raw.load_manifest") == [("shopify", "csv")]
    assert rows(settings, f"select row_number, {CONTRACT} from raw.orders order by row_number") == [
        (1, "5550000001", datetime(2026, 3, 2, 14, 15), None, "completed", Decimal("56.29"), None, "USD"),
        (3, "5550000002", datetime(2026, 3, 3, 3, 40), None, "refunded", Decimal("120.00"), None, "USD"),
        # partially_refunded: Total 80.00 - Refunded Amount 20.00
        (4, "5550000007", datetime(2026, 3, 2, 23, 10), None, "completed", Decimal("60.00"), None, "USD"),
        # voided, Cancelled at set; created 07:30 -0500 -> 12:30 UTC
        (7, "5550000009", datetime(2026, 3, 3, 12, 30), None, "cancelled", Decimal("35.00"), None, "USD"),
    ]
    assert [li["name"] for li in _extra(settings, "5550000007")["line_items"]] == [
        "Stoneware Mug",
        "Stoneware Bowl",
        "Gift Wrap",
    ]
    first = _extra(settings, "5550000001")
    assert (first["name"], first["discount_code"], first["total_price"]) == ("#1001", "SPRING5", "56.29")
    assert "ada@example.com" not in json.dumps(first) and "Fictional Lane" not in json.dumps(first)
    quarantined = rows(settings, "select row_number, reason, raw_record from raw.quarantine order by row_number")
    assert [(r[0], r[1]) for r in quarantined] == [(8, "orphan_line_item"), (9, "orphan_line_item")]
    assert json.loads(quarantined[0][2])["Name"] == "#1010"
    assert json.loads(quarantined[1][2])["Lineitem name"] == "Sample Card"


def test_api_and_csv_export_give_the_same_order(settings: Settings, tmp_path: Path) -> None:
    # A shop can switch shapes: the same order gets the same contract row (the CSV has no customer id).
    load(settings, API)
    api = {r[0]: r for r in _orders(settings)}
    other = Settings(warehouse_dir=tmp_path / "wh_csv", landing_dir=tmp_path, pii_salt="s")
    load(other, CSV)
    for order in _orders(other):
        if order[0] in api:
            assert order[:2] + order[3:] == api[order[0]][:2] + api[order[0]][3:]
    assert sum(1 for o in _orders(other) if o[0] in api) == 3


def test_a_refund_after_the_order_day_is_a_new_version_of_the_order(settings: Settings, tmp_path: Path) -> None:
    # The next day's pull (updated_at_min) brings #1001 again, refunded: the current version is refunded, and the
    # order keeps its own day (the contract has no refund date; refunded_at is in extra).
    load(settings, API)
    doc = json.loads(API.read_text())
    order = next(o for o in doc["orders"] if o["id"] == 5550000001)
    order.update(financial_status="refunded", current_total_price="0.00", updated_at="2026-03-03T10:00:00-05:00")
    order["refunds"] = [
        {"id": 880009, "created_at": "2026-03-03T10:00:00-05:00", "transactions": [
            {"kind": "refund", "status": "success", "amount": "56.29", "currency": "USD"}]}
    ]  # fmt: skip
    later = tmp_path / "orders_api_2026-03-03.json"
    later.write_text(json.dumps({"orders": [order]}))
    assert _counts(load(settings, later)) == (1, 1, 0, 0)
    versions = rows(
        settings,
        "select status, revenue, ordered_at from raw.orders where order_id = '5550000001' order by loaded_at",
    )
    assert versions == [
        ("completed", Decimal("56.29"), datetime(2026, 3, 2, 14, 15)),
        ("refunded", Decimal("56.29"), datetime(2026, 3, 2, 14, 15)),
    ]
    (latest,) = rows(settings, "select extra from raw.orders where order_id = '5550000001' order by loaded_at desc")[0]
    assert json.loads(latest)["refunded_at"] == "2026-03-03T10:00:00-05:00"


def test_one_line_api_pages_larger_than_the_peek_are_recognised(settings: Settings, tmp_path: Path) -> None:
    # curl saves an API page on one line; 250 orders are over 256 KB, more than the first look at a file reads.
    doc = json.loads(API.read_text())
    template = doc["orders"][0]
    pages = []
    for page in range(2):
        orders = []
        for i in range(250):
            o = copy.deepcopy(template)
            o["id"], o["name"] = 6000000000 + page * 1000 + i, f"#{2000 + page * 1000 + i}"
            o["note"] = "x" * 800
            orders.append(o)
        pages.append(json.dumps({"orders": orders}))
    big = tmp_path / "page.json"
    big.write_text(pages[0])
    assert big.stat().st_size > 256 * 1024
    assert _counts(load(settings, big)) == (250, 250, 0, 0)
    two = tmp_path / "pages.jsonl"  # pages appended one per line: records are numbered across pages
    two.write_text(pages[0] + "\n" + pages[1] + "\n")
    other = Settings(warehouse_dir=tmp_path / "wh2", landing_dir=tmp_path, pii_salt="s")
    assert _counts(load(other, two)) == (500, 500, 0, 0)
    assert rows(other, "select min(row_number), max(row_number), count(distinct order_id) from raw.orders") == [
        (1, 500, 500)
    ]


def test_forcing_shopify_on_another_sources_file_is_one_clear_error(settings: Settings) -> None:
    other = SAMPLES / "orders_csv" / "shop_orders_2026-03.csv"
    (res,) = load(settings, other, source="shopify").files
    assert res.status == "error"
    assert res.message == (
        f"{other}: does not look like Shopify orders (Admin API JSON or admin CSV export) (--source shopify);"
        " it looks like orders CSV with a column mapping (orders_mapping.yml) (--source orders_csv)"
    )


def test_a_csv_export_without_the_id_column_is_one_clear_error(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "orders_export_1.csv"
    path.write_text(
        "Name,Financial Status,Currency,Total,Created at,Lineitem quantity,Lineitem name\n"
        "#1001,paid,USD,10.00,2026-03-02 09:15:00 -0500,1,Mug\n"
    )
    (res,) = load(settings, path).files
    assert res.status == "error"
    assert res.message.startswith(f"{path}: Shopify order export without the column(s) id; re-export it")
    assert "\n" not in res.message


def _allow_money_strings(node: Any) -> Any:
    """Airbyte types money as number (its connector casts); the REST API sends strings such as "199.00"."""
    if isinstance(node, dict):
        out = {k: _allow_money_strings(v) for k, v in node.items()}
        if out.get("type") == ["null", "number"]:
            out["type"] = ["null", "number", "string"]
        return out
    if isinstance(node, list):
        return [_allow_money_strings(v) for v in node]
    return node


def test_samples_conform_to_airbytes_orders_schema() -> None:
    schema = json.loads((DIR / "schema" / "orders.json").read_text())
    connector = [json.loads(ln) for ln in JSONL.read_text().splitlines() if ln.endswith("}")]
    assert len(connector) == 5  # the malformed line left out
    for order in connector:
        jsonschema.validate(order, schema)
    api = jsonschema.Draft7Validator(_allow_money_strings(schema))
    for order in json.loads(API.read_text())["orders"]:
        assert not list(api.iter_errors(order)), order["name"]
    strict = jsonschema.Draft7Validator(schema)
    assert list(strict.iter_errors(json.loads(API.read_text())["orders"][0]))  # strings fail Airbyte's own types


# --------------------------------------------------------------------------------------------------
# generate --as shopify: loading the written files gives the same contract rows back


def _contract(settings: Settings) -> set[tuple]:
    cols = ", ".join(c for c in CONTRACT.split(", ") if c not in NOT_CARRIED)
    return set(rows(settings, f"select {cols} from raw.orders"))


def test_export_round_trip_of_every_status(settings: Settings, tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        """create temp view contract_orders as
        select order_id, cast(ordered_at as timestamp) as ordered_at, user_id, status,
               cast(revenue as decimal(18, 4)) as revenue, cast(cost_of_goods as decimal(18, 4)) as cost_of_goods,
               currency
        from (values
            ('ORD-1', '2026-01-05 10:00:00', 'u_1', 'completed', 49.99, 20.0, 'USD'),
            ('ORD-2', '2026-01-05 23:59:59.25', null, 'refunded', 120.0, 50.0, 'EUR'),
            ('ORD-3', '2026-01-06 00:00:00', 'u_3', 'cancelled', 35.5, null, 'GBP'),
            ('5550000001', '2026-01-06 08:30:00', '7001001', 'completed', 1234.5678, null, 'USD')
        ) as t(order_id, ordered_at, user_id, status, revenue, cost_of_goods, currency)"""
    )
    out = tmp_path / "out"
    out.mkdir()
    files = shopify.export(con, out)
    assert [f.name for f in files] == ["orders_shopify_2026-01-05.json", "orders_shopify_2026-01-06.json"]
    day2 = json.loads(files[1].read_text())
    assert [(o["id"], o["financial_status"], o["total_price"]) for o in day2["orders"]] == [
        ("ORD-3", "voided", "35.50"),
        (5550000001, "paid", "1234.5678"),  # Shopify's numeric ids stay JSON numbers
    ]
    tx = json.loads(files[0].read_text())["orders"][1]["refunds"][0]["transactions"][0]
    assert (tx["kind"], tx["status"], tx["amount"], tx["currency"]) == ("refund", "success", "120.00", "EUR")
    report = load(settings, out)
    assert [(f.status, f.rows_loaded) for f in report.files] == [("loaded", 2), ("loaded", 2)]
    assert _contract(settings) == {
        ("ORD-1", datetime(2026, 1, 5, 10, 0), "u_1", "completed", Decimal("49.99"), "USD"),
        ("ORD-2", datetime(2026, 1, 5, 23, 59, 59, 250000), None, "refunded", Decimal("120.00"), "EUR"),
        ("ORD-3", datetime(2026, 1, 6, 0, 0), "u_3", "cancelled", Decimal("35.50"), "GBP"),
        ("5550000001", datetime(2026, 1, 6, 8, 30), "7001001", "completed", Decimal("1234.5678"), "USD"),
    }
    assert rows(settings, "select count(*) from raw.orders where cost_of_goods is not null") == [(0,)]


def test_export_round_trip_of_generated_data(tmp_path: Path) -> None:
    from northstar.sample.as_sources import write_as
    from northstar.sample.generate import generate

    landing, out = tmp_path / "landing", tmp_path / "out"
    generate(landing, days=3, visitors=300, seed=5, file_format="jsonl", progress=False)
    a = Settings(warehouse_dir=tmp_path / "wa", landing_dir=landing, pii_salt="s")
    b = Settings(warehouse_dir=tmp_path / "wb", landing_dir=out, pii_salt="s")
    result = write_as(a, landing, out, ["shopify"])
    assert any(f.name.startswith("orders_shopify_") for f in result.files)
    assert not (out / "orders_landing.csv").exists()
    load(a, landing)
    report = load(b, out)
    assert not report.errors
    shop_files = [f for f in report.files if Path(f.path).name.startswith("orders_shopify_")]
    assert shop_files and all(f.rows_quarantined == 0 for f in shop_files)
    assert rows(b, "select distinct source from raw.load_manifest where kind = 'orders'") == [("shopify",)]
    expected = _contract(a)
    assert expected and _contract(b) == expected
