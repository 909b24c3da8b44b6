"""Any shop's orders CSV read through orders_mapping.yml: the sample mapped by hand, where the mapping is found,
which CSVs it claims, and one clear error line for each way a mapping can be wrong.

Sample tests/data/sources/orders_csv/: a German shop's export (";" delimiter, decimal comma, "02.03.2026 09:15"
in Europe/Berlin = UTC+1 in March, German status values) and the orders_mapping.yml that describes it.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sourcetest import SAMPLES, load, rows

from northstar.config import Settings
from northstar.sources import detect, orders_csv, peek

DIR = SAMPLES / "orders_csv"
CSV = DIR / "shop_orders_2026-03.csv"
CONTRACT = "order_id, ordered_at, user_id, status, revenue, cost_of_goods, currency"


@pytest.fixture(autouse=True)
def _no_mapping_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(orders_csv.MAPPING_ENV, raising=False)


def _result(report):
    (res,) = report.files
    return res


def test_sample_maps_every_row_by_hand(settings: Settings) -> None:
    res = _result(load(settings, CSV))
    assert (res.status, res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped) == (
        "loaded", 6, 4, 2, 0,
    )  # fmt: skip
    assert rows(settings, "select source, file_format from raw.load_manifest") == [("orders_csv", "csv")]
    assert rows(settings, f"select row_number, {CONTRACT} from raw.orders order by row_number") == [
        # 02.03.2026 09:15 Berlin -> 08:15 UTC; "1.234,50" -> 1234.50; Bezahlt -> completed
        (1, "B-24001", datetime(2026, 3, 2, 8, 15), "K-501", "completed", Decimal("1234.50"), Decimal("700"), "EUR"),
        # no customer number; "versendet" matches Versendet (case-insensitive) -> completed
        (2, "B-24002", datetime(2026, 3, 2, 22, 40), None, "completed", Decimal("89.90"), Decimal("41.25"), "EUR"),
        (3, "B-24003", datetime(2026, 3, 3, 9, 5), "K-502", "refunded", Decimal("45.00"), Decimal("20"), "EUR"),
        # Storniert -> cancelled; no cost of goods; another currency in the currency column
        (4, "B-24004", datetime(2026, 3, 3, 10, 30), "K-503", "cancelled", Decimal("19.99"), None, "CHF"),
    ]
    assert rows(settings, "select row_number, reason from raw.quarantine order by row_number") == [
        (5, "invalid_value:status"),  # "Offen" is not in status_values and not a contract status
        (6, "bad_timestamp:ordered_at"),  # 25:00
    ]
    (extra,) = rows(settings, "select extra from raw.orders where order_id = 'B-24001'")[0]
    assert json.loads(extra) == {"Zahlungsart": "Rechnung"}  # columns the mapping does not name are kept


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


_PLAIN_MAPPING = """
columns: {order_id: Order, ordered_at: Date, status: State, revenue: Amount}
currency: gbp
status_values: {Paid: completed}
"""
_PLAIN_CSV = """Order,Date,State,Amount,Note
X1,2026-03-02T10:00:00+01:00,Paid,"1,250.00",gift
X2,2026-03-02 10:00,paid,5,
"""


def test_a_mapping_named_in_the_environment_with_a_fixed_currency(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = _write(tmp_path / "conf", "my_shop.yml", _PLAIN_MAPPING)
    path = _write(tmp_path / "data", "export.csv", _PLAIN_CSV)
    assert detect(peek(path, "csv", False)) is None  # no mapping: nothing claims it
    monkeypatch.setenv(orders_csv.MAPPING_ENV, str(mapping))
    assert detect(peek(path, "csv", False)).name == "orders_csv"
    res = _result(load(settings, path))
    assert (res.status, res.rows_read, res.rows_loaded) == ("loaded", 2, 2)
    # ISO timestamps (an offset is converted, a naive one is UTC); "1,250.00": the thousands comma is dropped
    assert rows(settings, f"select {CONTRACT} from raw.orders order by row_number") == [
        ("X1", datetime(2026, 3, 2, 9, 0), None, "completed", Decimal("1250.00"), None, "GBP"),
        ("X2", datetime(2026, 3, 2, 10, 0), None, "completed", Decimal("5"), None, "GBP"),
    ]


def test_without_a_files_pattern_the_header_decides(tmp_path: Path) -> None:
    _write(tmp_path, "orders_mapping.yml", _PLAIN_MAPPING)
    mine = _write(tmp_path, "anything.csv", _PLAIN_CSV)
    other = _write(tmp_path, "other.csv", "Order,Date,State\nX1,2026-03-02,Paid\n")  # no Amount column
    assert orders_csv.looks_like(peek(mine, "csv", False))
    assert not orders_csv.looks_like(peek(other, "csv", False))


def test_a_timezone_applies_to_timestamps_without_an_offset_only(settings: Settings, tmp_path: Path) -> None:
    _write(tmp_path, "orders_mapping.yml", _PLAIN_MAPPING + "timezone: America/New_York\n")
    path = _write(tmp_path, "export.csv", _PLAIN_CSV)
    assert _result(load(settings, path)).rows_loaded == 2
    assert rows(settings, "select order_id, ordered_at from raw.orders order by row_number") == [
        ("X1", datetime(2026, 3, 2, 9, 0)),  # had +01:00: kept
        ("X2", datetime(2026, 3, 2, 15, 0)),  # 10:00 in New York (UTC-5)
    ]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            "files: '*.csv'\ncolumns: {order_id: Order, ordered_at: Date, status: State}\ncurrency: GBP\n",
            "columns: revenue missing (required: order_id, ordered_at, status, revenue)",
        ),
        (
            "files: '*.csv'\ncolumns: {order_id: Order, ordered_at: Date, status: State, revenue: Amount}\n",
            "give the currency either as columns.currency or as a fixed `currency: EUR`, once",
        ),
        (
            "files: '*.csv'\n" + _PLAIN_MAPPING.replace("completed}", "done}"),
            "status_values: done not one of completed, refunded, cancelled",
        ),
        ("files: '*.csv'\n" + _PLAIN_MAPPING + "timezone_of_shop: x\n", "unknown key(s) timezone_of_shop"),
    ],
    ids=["missing-column", "no-currency", "bad-status", "typo"],
)
def test_a_wrong_mapping_is_one_clear_error(settings: Settings, tmp_path: Path, mapping: str, message: str) -> None:
    mapping_path = _write(tmp_path, "orders_mapping.yml", mapping)
    path = _write(tmp_path, "export.csv", _PLAIN_CSV)
    res = _result(load(settings, path))
    assert res.status == "error"
    assert res.message.startswith(f"{path}: the orders mapping {mapping_path} is not usable: {message}")
    assert "\n" not in res.message


def test_a_column_the_mapping_names_but_the_file_lacks(settings: Settings, tmp_path: Path) -> None:
    mapping_path = _write(tmp_path, "orders_mapping.yml", "files: 'export*.csv'\n" + _PLAIN_MAPPING)
    path = _write(tmp_path, "export.csv", "Order,Date,State,Total\nX1,2026-03-02,Paid,5\n")
    res = _result(load(settings, path))
    assert res.status == "error"
    assert res.message == (
        f"{path}: column(s) Amount named in {mapping_path} not in the file; columns found: Order, Date, State, Total."
        " Nothing of this file was loaded."
    )


def test_an_unknown_timezone_is_one_clear_error(settings: Settings, tmp_path: Path) -> None:
    mapping_path = _write(tmp_path, "orders_mapping.yml", _PLAIN_MAPPING + "timezone: Mars/Olympus\n")
    path = _write(tmp_path, "export.csv", _PLAIN_CSV)
    res = _result(load(settings, path))
    assert res.status == "error"
    assert res.message.startswith(f"{path}: the orders mapping {mapping_path} names an unknown timezone 'Mars/Olympus'")


def test_forcing_orders_csv_on_another_sources_file_is_one_clear_error(settings: Settings) -> None:
    other = SAMPLES / "shopify" / "orders_export_1.csv"
    res = _result(load(settings, other, source="orders_csv"))
    assert res.status == "error"
    assert res.message == (
        f"{other}: does not look like orders CSV with a column mapping (orders_mapping.yml) (--source orders_csv);"
        " it looks like Shopify orders (Admin API JSON or admin CSV export) (--source shopify)"
    )
