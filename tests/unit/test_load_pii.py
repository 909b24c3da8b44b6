"""No e-mail or IP reaches raw.* in clear through `northstar load`: quarantined records, unknown columns and
`properties` are masked by pattern with the hash the email_hash / ip_hash columns use (written out below)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings
from northstar.ingest.load import load_paths

SALT = "test-salt"
CLEAR = ("bob@corp.com", "Bob@Corp.com", "1.2.3.4", "2001:db8::1", "ann@example.org")


def token(kind: str, value: str) -> str:
    normalised = value.lower() if kind == "email" else value
    return f"<{kind}:{hashlib.sha256((SALT + normalised).encode()).hexdigest()}>"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(warehouse_dir=tmp_path / "wh", landing_dir=tmp_path / "landing", pii_salt=SALT)


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def all_raw_text(settings: Settings) -> str:
    """Every value of every raw table, as text."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        tables = [
            r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
        ]
        return " ".join(
            con.execute(f"select coalesce(string_agg(cast(t as varchar), ' '), '') from raw.{t} as t").fetchone()[0]
            for t in tables
        )


def test_quarantined_records_mask_emails_and_ips_found_anywhere(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "events_2026-01-05.jsonl"
    f.write_text(
        # bad timestamp; PII in a URL, an unknown key and its own email column
        '{"event_id":"q1","occurred_at":"nope","anonymous_id":"a","event_name":"x",'
        '"page_url":"https://shop.example/?mail=Bob@Corp.com","seen_from":"2001:db8::1","email":"not an address"}\n'
        # not JSON at all: an IPv6 and an e-mail in the broken text
        '{"event_id":"q2", "from 2001:db8::1 by ann@example.org\n'
        '{"event_id":"ok","occurred_at":"2026-01-05T08:00:00Z","anonymous_id":"a","event_name":"x"}\n'
        '{"event_id":"ok2","occurred_at":"2026-01-05T08:00:00Z","anonymous_id":"a","event_name":"x"}\n'
    )
    load_paths(settings, [str(f)], progress=False)
    (r1, reason1), (r2, reason2) = query(settings, "select raw_record, reason from raw.quarantine order by row_number")
    assert reason1 == "bad_timestamp:occurred_at" and reason2 == "malformed_record"  # the reason names the column
    assert r1 == (
        '{"event_id":"q1","occurred_at":"nope","anonymous_id":"a","event_name":"x",'
        f'"page_url":"https://shop.example/?mail={token("email", "bob@corp.com")}",'
        f'"seen_from":"{token("ip", "2001:db8::1")}","email":"<redacted>"}}'
    )
    assert r2 == f'{{"event_id":"q2", "from {token("ip", "2001:db8::1")} by {token("email", "ann@example.org")}'
    assert not any(v in all_raw_text(settings) for v in CLEAR)


def test_quarantined_csv_rows_rebuilt_from_columns_are_masked(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "orders_2026-01-05.csv"
    f.write_text(
        "order_id,ordered_at,status,revenue,currency,buyer_note\n"
        "o1,2026-01-05T10:00:00Z,on_hold,1,USD,call bob@corp.com\n"  # invalid status
        "o2,2026-01-05T10:00:00Z,completed,1,USD,\n"
        "o3,2026-01-05T10:00:00Z,completed,1,USD,\n"
    )
    load_paths(settings, [str(f)], progress=False)
    ((record, reason),) = query(settings, "select raw_record, reason from raw.quarantine")
    assert reason == "invalid_value:status"
    assert json.loads(record)["buyer_note"] == f"call {token('email', 'bob@corp.com')}"


def test_unknown_columns_and_properties_are_masked_before_they_are_stored(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "events_2026-01-05.jsonl"
    f.write_text(
        '{"event_id":"e1","occurred_at":"2026-01-05T08:00:00Z","anonymous_id":"a","event_name":"x",'
        '"email":"bob@corp.com","customer_email":"Bob@Corp.com","client_ip":"1.2.3.4",'
        '"properties":{"contact":"ann@example.org","hops":["2001:db8::1","10.0.0.300"],"plan":"pro"}}\n'
    )
    load_paths(settings, [str(f)], progress=False)
    ((email_hash, extra, properties),) = query(
        settings, "select email_hash, cast(extra as varchar), cast(properties as varchar) from raw.events"
    )
    # the unknown column's e-mail carries the same hash as the email column: still joinable, never in clear
    assert token("email", "bob@corp.com") == f"<email:{email_hash}>"
    assert json.loads(extra) == {"customer_email": token("email", "Bob@Corp.com"), "client_ip": token("ip", "1.2.3.4")}
    assert json.loads(properties) == {
        "contact": token("email", "ann@example.org"),
        "hops": [token("ip", "2001:db8::1"), "10.0.0.300"],  # not an IPv4 address (300 > 255): kept
        "plan": "pro",
    }
    assert not any(v in all_raw_text(settings) for v in CLEAR)


def test_parquet_unknown_columns_are_masked(settings: Settings, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    f = tmp_path / "leads_2026-01-05.parquet"
    table = pa.table(
        {
            "lead_id": ["l1"],
            "changed_at": ["2026-01-05T08:00:00Z"],
            "stage": ["lead"],
            "owner": ["ann@example.org"],
        }
    )
    pq.write_table(table, f)
    load_paths(settings, [str(f)], progress=False)
    assert query(settings, "select cast(extra as varchar) from raw.leads") == [
        (f'{{"owner":"{token("email", "ann@example.org")}"}}',)
    ]


def test_emails_in_urls_tags_and_user_ids_are_masked_and_still_join(settings: Settings, tmp_path: Path) -> None:
    """An e-mail in a newsletter link's query string, in a utm tag or used as the user id is masked in loaded rows
    too, with the same token in events and orders, so identity stitching and order crediting still join."""
    events = tmp_path / "events_2026-01-05.jsonl"
    events.write_text(
        '{"event_id":"e1","occurred_at":"2026-01-05T08:00:00Z","anonymous_id":"a1","event_name":"page_view",'
        '"user_id":"Bob@Corp.com","page_url":"https://shop.example/?utm_source=mail&mail=Bob@Corp.com",'
        '"page_referrer":"https://mail.example/u/ann@example.org","utm_term":"ann@example.org"}\n'
        '{"event_id":"e2","occurred_at":"2026-01-05T08:01:00Z","anonymous_id":"a2","event_name":"page_view",'
        '"user_id":"u-42","page_url":"https://shop.example/v/1.2.3.4"}\n'
    )
    orders = tmp_path / "orders_2026-01-05.csv"
    orders.write_text(
        "order_id,ordered_at,user_id,status,revenue,currency\nO1,2026-01-05T08:05:00Z,Bob@Corp.com,completed,10,USD\n"
    )
    load_paths(settings, [str(events), str(orders)], progress=False)
    rows = query(settings, "select event_id, user_id, page_url, page_referrer, utm_term from raw.events order by 1")
    bob, ann = token("email", "Bob@Corp.com"), token("email", "ann@example.org")
    assert rows == [
        ("e1", bob, f"https://shop.example/?utm_source=mail&mail={bob}", f"https://mail.example/u/{ann}", ann),
        ("e2", "u-42", "https://shop.example/v/1.2.3.4", None, None),  # no '@' in the file's value: as it came
    ]
    assert query(settings, "select user_id from raw.orders") == [(bob,)]  # the same token: the order still joins
    text = all_raw_text(settings)
    assert "Bob@Corp.com" not in text and "ann@example.org" not in text
