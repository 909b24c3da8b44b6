"""northstar load on small hand-written files: every row's fate is written out below."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from northstar.config import Settings
from northstar.ingest import load as load_mod
from northstar.ingest.load import load_paths, raw_summary

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "landing"
SALT = "test-salt"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(warehouse_dir=tmp_path / "wh", landing_dir=tmp_path / "landing", pii_salt=SALT)


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def counts(settings: Settings) -> dict[str, int]:
    tables = ("events", "ad_spend", "orders", "leads", "quarantine", "load_manifest")
    return {t: query(settings, f"select count(*) from raw.{t}")[0][0] for t in tables}


# Every quarantined row of the fixture directory: (file, row_number, reason).
EXPECTED_QUARANTINE = {
    ("ad_spend_2026-01-05.csv", 3, "negative_value:spend"),
    ("ad_spend_2026-01-05.csv", 4, "unknown_currency"),
    ("ad_spend_2026-01-05.csv", 5, "missing_required:campaign_id"),
    ("ad_spend_2026-01-05.csv", 6, "bad_number:spend"),
    ("ad_spend_2026-01-05.csv", 7, "bad_timestamp:date"),
    ("ad_spend_2026-01-05.csv", 8, "malformed_record"),  # one column too many
    ("ad_spend_2026-01-05.csv", 10, "negative_value:clicks"),
    ("events_2026-01-05.jsonl", 5, "malformed_record"),  # truncated JSON
    ("events_2026-01-05.jsonl", 6, "missing_required:anonymous_id"),
    ("events_2026-01-05.jsonl", 7, "bad_timestamp:occurred_at"),
    ("events_2026-01-05.jsonl", 8, "future_timestamp:occurred_at"),
    ("events_2026-01-05.jsonl", 9, "invalid_encoding"),  # bytes ff fe
    ("events_2026-01-05.jsonl", 10, "unknown_currency"),
    ("events_2026-01-05.jsonl", 11, "invalid_value:device_category"),
    ("events_2026-01-06.jsonl", 4, "invalid_value:consent_analytics"),  # line 3 is blank: not a record
    ("events_2026-01-06.jsonl", 5, "invalid_value:properties"),
    ("events_2026-01-06.jsonl", 6, "bad_number:revenue"),
    ("events_2026-01-06.jsonl", 7, "malformed_record"),  # valid JSON, but not an object
    ("leads_2026-01-05.jsonl", 3, "invalid_value:stage"),
    ("orders_2026-01-05.csv", 3, "invalid_value:status"),
    ("orders_2026-01-05.csv", 4, "bad_timestamp:ordered_at"),
}

# file -> (rows_read, rows_loaded, rows_quarantined, duplicates_skipped)
EXPECTED_MANIFEST = {
    "ad_spend_2026-01-05.csv": (10, 2, 7, 1),  # row 9 repeats row 1 exactly
    "ad_spend_2026-01-06.csv": (3, 2, 0, 1),  # restated c1 loaded, unchanged meta row is a duplicate
    "events_2026-01-05.jsonl": (11, 3, 7, 1),  # row 3 repeats event e1
    "events_2026-01-06.jsonl": (6, 1, 4, 1),  # e1 again, already loaded from the day before
    "leads_2026-01-05.jsonl": (5, 3, 1, 1),
    "orders_2026-01-05.csv": (4, 2, 2, 0),
    "orders_2026-01-06.csv": (2, 1, 0, 1),  # o1 refunded is a change (loaded), o2 unchanged
}


def test_fixture_directory_every_row_accounted_for(settings: Settings) -> None:
    report = load_paths(settings, [str(FIXTURES)], progress=False)

    assert report.errors == []
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["incidents.json"].status == "skipped"
    assert "not a landing file" in by_name["incidents.json"].message
    assert "README.md" not in by_name
    got = {
        (Path(f).name, n, r)
        for f, n, r in query(settings, "select source_file, row_number, reason from raw.quarantine")
    }
    assert got == EXPECTED_QUARANTINE
    manifest = {
        Path(f).name: (a, b, c, d)
        for f, a, b, c, d in query(
            settings,
            "select source_file, rows_read, rows_loaded, rows_quarantined, duplicates_skipped from raw.load_manifest",
        )
    }
    assert manifest == EXPECTED_MANIFEST
    for read, loaded, quarantined, dups in manifest.values():
        assert read == loaded + quarantined + dups
    for name, (read, loaded, quarantined, dups) in EXPECTED_MANIFEST.items():
        f = by_name[name]
        assert (f.rows_read, f.rows_loaded, f.rows_quarantined, f.duplicates_skipped) == (
            read,
            loaded,
            quarantined,
            dups,
        )


def test_event_values_offsets_to_utc_and_extra(settings: Settings) -> None:
    load_paths(settings, [str(FIXTURES / "events_2026-01-05.jsonl")], progress=False)
    rows = query(
        settings,
        """select event_id, occurred_at, utm_source, device_category, revenue, currency, consent_analytics,
                  properties::varchar, extra::varchar, row_number
           from raw.events order by event_id""",
    )
    assert rows == [
        # +02:00 -> 08:00 UTC; key "Utm_Source" matched case-insensitively; unknown key kept in extra
        ("e1", datetime(2026, 1, 5, 8, 0), "google", None, None, None, True, None, '{"campaign_group":"x"}', 1),
        # Z -> as is; currency upper-cased; consent false kept; nested properties kept as JSON
        ("e2", datetime(2026, 1, 5, 10, 5), None, None, Decimal("19.9"), "EUR", False, '{"items":2}', None, 2),
        # naive means UTC; device category lower-cased
        ("e3", datetime(2026, 1, 5, 10, 10), None, "mobile", None, None, True, None, None, 4),
    ]


def test_pii_is_hashed_never_stored_in_clear(settings: Settings) -> None:
    load_paths(settings, [str(FIXTURES)], progress=False)
    email_hash, ip_hash = query(settings, "select email_hash, ip_hash from raw.events where event_id = 'e1'")[0]
    # " Ann@Example.com " is trimmed and lower-cased before hashing
    assert email_hash == hashlib.sha256((SALT + "ann@example.com").encode()).hexdigest()
    assert ip_hash == hashlib.sha256((SALT + "10.0.0.1").encode()).hexdigest()
    raw_columns = {r[0] for r in query(settings, "select column_name from duckdb_columns() where schema_name='raw'")}
    assert "email" not in raw_columns and "ip" not in raw_columns
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for table in ("events", "quarantine"):
            text = con.execute(f"select string_agg(cast(t as varchar), ' ') from raw.{table} as t").fetchone()[0]
            assert "nn@example.com" not in text.lower() and "10.0.0.1" not in text


def test_pii_in_quarantined_records_is_redacted(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "events_pii.jsonl"
    f.write_text(
        '{"event_id":"p1","occurred_at":"nope","anonymous_id":"a","event_name":"x","email":"bob@corp.com","ip":"1.2.3.4"}\n'
        '{"event_id":"p2","occurred_at":"2026-01-01T00:00:00Z","anonymous_id":"a","event_name":"x"}\n'
        '{"event_id":"p3", "mail me at bob@corp.com from 1.2.3.4\n'
    )
    load_paths(settings, [str(f)], progress=False)
    records = [r[0] for r in query(settings, "select raw_record from raw.quarantine order by row_number")]
    assert len(records) == 2
    assert all("bob@corp.com" not in r and "1.2.3.4" not in r for r in records)
    assert '"email":"<redacted>"' in records[0]


def test_event_dedup_within_and_across_files(settings: Settings) -> None:
    load_paths(settings, [str(FIXTURES / "events_2026-01-05.jsonl")], progress=False)
    report = load_paths(settings, [str(FIXTURES / "events_2026-01-06.jsonl")], progress=False)
    assert report.files[0].duplicates_skipped == 1  # e1, already in raw.events
    rows = query(settings, "select event_id, count(*), min(row_number) from raw.events group by 1 order by 1")
    assert rows == [("e1", 1, 1), ("e11", 1, 2), ("e2", 1, 2), ("e3", 1, 4)]
    # first occurrence wins: e1 keeps the first file's timestamp and page_url
    assert query(settings, "select page_url from raw.events where event_id = 'e1'") == [
        ("https://www.northstar-shop.example/",)
    ]


def test_ad_spend_restatement_and_exact_duplicates(settings: Settings) -> None:
    load_paths(settings, [str(FIXTURES / "ad_spend_2026-01-05.csv"), str(FIXTURES / "ad_spend_2026-01-06.csv")])
    rows = query(
        settings,
        """select date, platform, campaign_id, clicks, spend, currency, split_part(source_file, '/', -1)
           from raw.ad_spend order by loaded_at, row_number""",
    )
    assert rows == [
        (date(2026, 1, 5), "google_ads", "c1", 50, Decimal("120.5"), "USD", "ad_spend_2026-01-05.csv"),
        (date(2026, 1, 5), "meta_ads", "c2", 40, Decimal("80"), "USD", "ad_spend_2026-01-05.csv"),
        # the restated row for the same key is loaded; staging keeps the latest
        (date(2026, 1, 5), "google_ads", "c1", 55, Decimal("125"), "USD", "ad_spend_2026-01-06.csv"),
        (date(2026, 1, 6), "google_ads", "c1", 45, Decimal("110"), "USD", "ad_spend_2026-01-06.csv"),
    ]


def test_orders_status_change_is_loaded_exact_repeat_is_not(settings: Settings) -> None:
    load_paths(settings, [str(FIXTURES / "orders_2026-01-05.csv"), str(FIXTURES / "orders_2026-01-06.csv")])
    rows = query(settings, "select order_id, status, ordered_at, extra::varchar from raw.orders order by loaded_at")
    assert rows == [
        ("o1", "completed", datetime(2026, 1, 5, 10, 5), '{"Coupon":"WINTER"}'),
        ("o2", "completed", datetime(2026, 1, 5, 10, 0), None),  # +01:00 -> UTC; empty Coupon: no extra
        ("o1", "refunded", datetime(2026, 1, 5, 10, 5), None),
    ]


def test_a_duplicate_is_a_repeat_of_the_current_version_not_of_any_old_one(settings: Settings, tmp_path: Path) -> None:
    header = "order_id,ordered_at,status,revenue,currency\n"
    completed = "o1,2026-01-05T10:00:00Z,completed,10,USD\n"
    refunded = "o1,2026-01-05T10:00:00Z,refunded,10,USD\n"
    days = {
        "orders_1.csv": header + completed,
        "orders_2.csv": header + refunded + refunded,  # second line repeats the first: duplicate
        # back to completed: a change against the latest (refunded), so loaded (header differs: not the same bytes)
        "orders_3.csv": header.upper() + completed,
        "orders_4.csv": header + "o2,2026-01-05T11:00:00Z,completed,5,USD\n" + completed,  # o1 unchanged: duplicate
    }
    for name, text in days.items():
        (tmp_path / name).write_text(text)
    report = load_paths(settings, [str(tmp_path / n) for n in days], progress=False)
    assert [(f.rows_loaded, f.duplicates_skipped) for f in report.files] == [(1, 0), (1, 1), (1, 0), (1, 1)]
    assert query(settings, "select order_id, status from raw.orders order by loaded_at, row_number") == [
        ("o1", "completed"),
        ("o1", "refunded"),
        ("o1", "completed"),
        ("o2", "completed"),
    ]


def test_reload_is_a_noop_that_says_so(settings: Settings) -> None:
    first = load_paths(settings, [str(FIXTURES)], progress=False)
    before = counts(settings)
    second = load_paths(settings, [str(FIXTURES)], progress=False)
    assert counts(settings) == before
    loaded = [f for f in first.files if f.status == "loaded"]
    again = {f.path: f for f in second.files}
    assert len(loaded) == 7
    for f in loaded:
        assert again[f.path].status == "skipped"
        assert again[f.path].message.startswith("already loaded on ")
        assert again[f.path].message.endswith(f"as {f.load_id}")
    assert second.errors == []


def _events_rows() -> list[dict[str, str]]:
    return [
        {"event_id": "f1", "occurred_at": "2026-01-05T10:00:00+02:00", "anonymous_id": "a1", "event_name": "page_view"},
        {"event_id": "f2", "occurred_at": "2026-01-05T09:30:00Z", "anonymous_id": "a1", "event_name": "purchase"},
        {"event_id": "f2", "occurred_at": "2026-01-05T09:30:00Z", "anonymous_id": "a1", "event_name": "purchase"},
        {"event_id": "f3", "occurred_at": "", "anonymous_id": "a2", "event_name": "page_view"},
    ]


def _write_formats(tmp_path: Path) -> dict[str, Path]:
    import json

    rows = _events_rows()
    d = tmp_path / "formats"
    d.mkdir()
    jsonl = d / "events_a.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    csv = d / "events_b.csv"
    csv.write_text(
        "event_id,occurred_at,anonymous_id,event_name\n" + "".join(",".join(r.values()) + "\n" for r in rows)
    )
    out = {"jsonl": jsonl, "csv": csv}
    for name, src in (("jsonl.gz", jsonl), ("csv.gz", csv)):
        gz = d / f"events_{name.replace('.', '_')}.{name}"
        with src.open("rb") as fin, gzip.open(gz, "wb") as fout:
            shutil.copyfileobj(fin, fout)
        out[name] = gz
    parquet = d / "events_c.parquet"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        # typed Parquet: a timestamptz column and an UPPER-case column name
        con.execute(
            f"""copy (
                select * from (values
                    ('f1', timestamptz '2026-01-05 08:00:00+00', 'a1', 'page_view'),
                    ('f2', timestamptz '2026-01-05 09:30:00+00', 'a1', 'purchase'),
                    ('f2', timestamptz '2026-01-05 09:30:00+00', 'a1', 'purchase'),
                    ('f3', null, 'a2', 'page_view')
                ) as t(event_id, occurred_at, ANONYMOUS_ID, event_name)
            ) to '{parquet}' (format parquet)"""
        )
    out["parquet"] = parquet
    return out


def test_jsonl_csv_gzip_parquet_load_the_same_rows(tmp_path: Path) -> None:
    files = _write_formats(tmp_path)
    results = {}
    for fmt, path in files.items():
        s = Settings(warehouse_dir=tmp_path / f"wh_{fmt}", landing_dir=tmp_path, pii_salt=SALT)
        report = load_paths(s, [str(path)], progress=False)
        assert report.errors == []
        f = report.files[0]
        assert (f.rows_read, f.rows_loaded, f.rows_quarantined, f.duplicates_skipped) == (4, 2, 1, 1), fmt
        results[fmt] = (
            query(s, "select event_id, occurred_at, anonymous_id, event_name from raw.events order by 1"),
            query(s, "select row_number, reason from raw.quarantine"),
            query(s, "select file_format from raw.load_manifest")[0][0],
        )
    expected_rows = [
        ("f1", datetime(2026, 1, 5, 8, 0), "a1", "page_view"),
        ("f2", datetime(2026, 1, 5, 9, 30), "a1", "purchase"),
    ]
    for fmt, (rows, quarantine, file_format) in results.items():
        assert rows == expected_rows, fmt
        assert quarantine == [(4, "missing_required:occurred_at")], fmt  # empty string is missing
        assert file_format == fmt


def test_parquet_nested_properties_extra_columns_and_gzip(settings: Settings, tmp_path: Path) -> None:
    plain = tmp_path / "events_nested.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"""copy (
                select 'n1' as event_id, timestamp '2026-01-05 10:00:00' as occurred_at, 'a1' as anonymous_id,
                       'purchase' as event_name, 12.5::double as revenue, 'usd' as currency,
                       {{'items': 2, 'sku': 'x'}} as properties, 'spring' as Campaign_Group
            ) to '{plain}' (format parquet)"""
        )
    packed = tmp_path / "events_nested.parquet.gz"
    with plain.open("rb") as fin, gzip.open(packed, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    plain.unlink()
    report = load_paths(settings, [str(packed)], progress=False)
    assert report.errors == []
    assert query(
        settings, "select event_id, occurred_at, revenue, currency, properties::varchar, extra::varchar from raw.events"
    ) == [
        (
            "n1",
            datetime(2026, 1, 5, 10, 0),
            Decimal("12.5"),
            "USD",
            '{"items":2,"sku":"x"}',
            '{"Campaign_Group":"spring"}',
        )
    ]
    assert query(settings, "select file_format from raw.load_manifest") == [("parquet.gz",)]


def test_invalid_utf8_in_csv_quarantines_only_that_row(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "orders_enc.csv"
    f.write_bytes(
        b"order_id,ordered_at,status,revenue,currency\n"
        b"o1,2026-01-05T10:00:00Z,completed,10,USD\n"
        b"o2\xff,2026-01-05T10:00:00Z,completed,10,USD\n"
        b"o3,2026-01-05T10:00:00Z,cancelled,10,USD\n"
    )
    report = load_paths(settings, [str(f)], progress=False)
    assert report.errors == []
    assert query(settings, "select order_id, row_number from raw.orders order by 1") == [("o1", 1), ("o3", 3)]
    assert query(settings, "select row_number, reason from raw.quarantine") == [(2, "invalid_encoding")]


def test_unknown_kind_is_a_clear_error_and_the_other_file_loads(settings: Settings, tmp_path: Path) -> None:
    mystery = tmp_path / "mystery.csv"
    mystery.write_text("a,b\n1,2\n")
    report = load_paths(settings, [str(mystery), str(FIXTURES / "orders_2026-01-05.csv")], progress=False)
    assert len(report.errors) == 1
    assert "mystery.csv" in report.errors[0] and "--kind" in report.errors[0]
    assert counts(settings)["orders"] == 2
    manifest = query(settings, "select source_file, status from raw.load_manifest")
    assert sorted((Path(f).name, status) for f, status in manifest) == [
        ("mystery.csv", "refused"),  # its trace; nothing of it loaded
        ("orders_2026-01-05.csv", "loaded"),
    ]


def test_unreadable_file_loads_nothing_and_names_the_file(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "events_broken.jsonl.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00this is not really gzip" * 10)
    report = load_paths(settings, [str(bad), str(FIXTURES / "leads_2026-01-05.jsonl")], progress=False)
    assert len(report.errors) == 1
    assert str(bad) in report.errors[0] and "Nothing of this file was loaded" in report.errors[0]
    c = counts(settings)
    assert (c["events"], c["leads"], c["load_manifest"]) == (0, 3, 2)
    assert query(settings, "select kind, status from raw.load_manifest order by 1") == [
        ("events", "refused"),
        ("leads", "loaded"),
    ]


def test_file_of_another_kind_is_rejected_whole(settings: Settings, tmp_path: Path) -> None:
    wrong = tmp_path / "ad_spend_wrong.csv"
    shutil.copy(FIXTURES / "orders_2026-01-05.csv", wrong)
    report = load_paths(settings, [str(wrong)], progress=False)
    assert len(report.errors) == 1 and "has no column date" in report.errors[0]
    assert counts(settings)["ad_spend"] == 0
    assert query(settings, "select row_number, reason from raw.quarantine") == [(None, "file_refused:missing_columns")]


def test_crash_before_commit_leaves_nothing_behind(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(cand: object) -> None:
        raise RuntimeError("simulated crash after the inserts")

    monkeypatch.setattr(load_mod, "_before_commit", crash)
    report = load_paths(settings, [str(FIXTURES / "events_2026-01-05.jsonl")], progress=False)
    assert len(report.errors) == 1 and "simulated crash" in report.errors[0]
    assert counts(settings) == {
        "events": 0,
        "ad_spend": 0,
        "orders": 0,
        "leads": 0,
        "quarantine": 0,
        "load_manifest": 0,
    }
    monkeypatch.undo()
    # Not recorded as loaded, so the next run loads it for real.
    report = load_paths(settings, [str(FIXTURES / "events_2026-01-05.jsonl")], progress=False)
    assert report.files[0].status == "loaded" and counts(settings)["events"] == 3


def test_kind_option_on_a_directory_selects_that_kind(settings: Settings) -> None:
    report = load_paths(settings, [str(FIXTURES)], kind="orders", progress=False)
    assert sorted(Path(f.path).name for f in report.files if f.status == "loaded") == [
        "orders_2026-01-05.csv",
        "orders_2026-01-06.csv",
    ]
    assert counts(settings)["events"] == 0


def test_kind_option_loads_a_file_with_any_name(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "crm_export.jsonl"
    shutil.copy(FIXTURES / "leads_2026-01-05.jsonl", f)
    report = load_paths(settings, [str(f)], kind="leads", progress=False)
    assert report.errors == [] and counts(settings)["leads"] == 3


def test_globs_missing_paths_and_empty_files(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "leads_empty.jsonl").write_bytes(b"")
    report = load_paths(
        settings,
        [str(FIXTURES / "orders_*.csv"), str(tmp_path / "nope.csv"), str(tmp_path / "leads_*.jsonl")],
        progress=False,
    )
    statuses = {Path(f.path).name: f.status for f in report.files}
    assert statuses == {
        "nope.csv": "error",
        "orders_2026-01-05.csv": "loaded",
        "orders_2026-01-06.csv": "loaded",
        "leads_empty.jsonl": "loaded",
    }
    assert "no such file" in report.errors[0]


def test_summary_table_and_raw_summary_render(settings: Settings) -> None:
    report = load_paths(settings, [str(FIXTURES)], progress=False)
    console = Console(record=True, width=160)
    console.print(report.summary_table())
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:  # the demo reads it read-only
        console.print(raw_summary(con))
    text = console.export_text()
    assert "events_2026-01-05.jsonl" in text and "raw.quarantine" in text
    assert "negative_value:spend" in text and str(settings.warehouse_path) in text
    # past 30 files (or on request) one row per kind and status
    compact = Console(record=True, width=160)
    compact.print(report.summary_table(per_file=False))
    text = compact.export_text()
    assert "2 files" in text and "events_2026-01-05.jsonl" not in text and "incidents.json" in text
