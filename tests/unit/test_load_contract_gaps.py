"""Issue 13's contract gaps of `northstar load`, on hand-written files: every expected value is written out.

1. a file refused whole leaves one row in raw.load_manifest (status refused) and one in raw.quarantine;
2. non-integer impressions / clicks are quarantined, not rounded;
3. a `properties` value that is not a JSON object is quarantined;
4. blank and whitespace-only JSON Lines are no records;
5. an existing file whose name holds glob characters loads as that file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings
from northstar.ingest.load import load_paths

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "landing"
GOOD = FIXTURES / "leads_2026-01-05.jsonl"  # 3 rows load
EVENT = '{{"event_id":"{id}","occurred_at":"2026-01-05T08:00:00Z","anonymous_id":"a1","event_name":"page_view"{more}}}'
AD_HEADER = "date,platform,account_id,campaign_id,impressions,clicks,spend,currency\n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(warehouse_dir=tmp_path / "wh", landing_dir=tmp_path / "landing", pii_salt="test-salt")


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def event(event_id: str, more: str = "") -> str:
    return EVENT.format(id=event_id, more=more)


# --------------------------------------------------------------------------------------------------
# 1. A file refused whole leaves a trace


def _orders_all_bad(tmp_path: Path) -> Path:
    f = tmp_path / "orders_all_bad.csv"
    f.write_text("order_id,ordered_at,status,revenue,currency\n" + "o1,never,completed,1,USD\n" * 4)
    return f


# name -> (make the file, --source, expected kind, reason, rows it could tell, words in the message)
REFUSALS = {
    "unreadable gzip": (
        lambda d: (d / "events_broken.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00this is not really gzip" * 10),
        None,
        "events",
        "file_refused:unreadable",
        None,
        "events_broken.jsonl.gz",
    ),
    "wrong header": (
        lambda d: shutil.copy(FIXTURES / "orders_2026-01-05.csv", d / "ad_spend_wrong.csv"),
        None,
        "ad_spend",
        "file_refused:missing_columns",
        None,
        "has no column date",
    ),
    "kind unknown": (
        lambda d: (d / "mystery.csv").write_text("a,b\n1,2\n"),
        None,
        None,
        "file_refused:unknown_kind",
        None,
        "--kind",
    ),
    "not JSON Lines": (
        lambda d: (d / "events_prose.jsonl").write_text("hello\nworld\n\nagain\n"),
        None,
        "events",
        "file_refused:not_json_lines",
        3,
        "not JSON Lines",
    ),
    "every row bad": (_orders_all_bad, None, "orders", "file_refused:mostly_quarantined", 4, "bad_timestamp"),
    "not that source": (
        lambda d: shutil.copy(FIXTURES / "orders_2026-01-05.csv", d / "orders_x.csv"),
        "shopify",
        None,
        "file_refused:not_this_source",
        None,
        "does not look like",
    ),
    "unknown format": (
        lambda d: (d / "orders_export.xlsx").write_bytes(b"PK\x03\x04"),
        None,
        None,
        "file_refused:unknown_format",
        None,
        "unknown file format",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_file_leaves_a_manifest_and_a_quarantine_row(settings: Settings, tmp_path: Path, case: str) -> None:
    make, source, kind, reason, rows, words = REFUSALS[case]
    landing = tmp_path / "in"
    landing.mkdir()
    make(landing)
    (bad,) = landing.iterdir()
    paths = [str(bad)] + ([] if source else [str(GOOD)])
    report = load_paths(settings, paths, source=source, progress=False)

    assert len(report.errors) == 1 and words in report.errors[0]
    manifest = query(
        settings,
        """select source_file, kind, status, reason, rows_read, rows_loaded, rows_quarantined, duplicates_skipped
           from raw.load_manifest where status = 'refused'""",
    )
    assert manifest == [(str(bad.resolve()), kind, "refused", reason, 0, 0, 0, 0)]
    quarantine = query(
        settings,
        """select q.source_file, q.kind, q.row_number, q.reason, q.rows_in_file, q.raw_record
           from raw.quarantine as q join raw.load_manifest as m using (load_id) where m.status = 'refused'""",
    )
    assert len(quarantine) == 1
    assert quarantine[0][:5] == (str(bad.resolve()), kind, None, reason, rows)
    assert words in quarantine[0][5]  # the message, as printed
    # nothing of it loaded; the other file did
    if not source:
        assert query(settings, "select count(*) from raw.leads") == [(3,)]
        assert query(settings, "select status, rows_loaded from raw.load_manifest where kind = 'leads'") == [
            ("loaded", 3)
        ]
    for table in ("events", "ad_spend", "orders"):
        assert query(settings, f"select count(*) from raw.{table}") == [(0,)]


def test_a_refused_file_is_tried_again_and_loads_once_fixed(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "events_prose.jsonl"
    bad.write_text("hello\n")
    first = load_paths(settings, [str(bad)], progress=False)
    again = load_paths(settings, [str(bad)], progress=False)  # not "already loaded": it never was
    assert [f.status for f in first.files + again.files] == ["error", "error"]
    bad.write_text(event("e1") + "\n")
    fixed = load_paths(settings, [str(bad)], progress=False)
    assert [f.status for f in fixed.files] == ["loaded"]
    assert query(settings, "select status, rows_loaded from raw.load_manifest order by loaded_at") == [
        ("refused", 0),
        ("refused", 0),
        ("loaded", 1),
    ]
    assert query(settings, "select count(*) from raw.quarantine where row_number is null") == [(2,)]


def test_a_refusal_message_keeps_no_pii(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "orders_all_bad.csv"
    f.write_text("order_id,ordered_at,status,revenue,currency\n" + "bob@corp.com,1.2.3.4,completed,1,USD\n" * 3)
    report = load_paths(settings, [str(f)], progress=False)
    assert len(report.errors) == 1
    stored = query(settings, "select string_agg(raw_record || reason, ' ') from raw.quarantine")[0][0]
    stored += query(settings, "select string_agg(reason, ' ') from raw.load_manifest")[0][0]
    assert "bob@corp.com" not in stored and "1.2.3.4" not in stored


# --------------------------------------------------------------------------------------------------
# 2. Non-integer impressions and clicks


def test_non_integer_impressions_and_clicks_are_quarantined_not_rounded(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "ad_spend_2026-01-05.csv"
    f.write_text(
        AD_HEADER
        + "2026-01-05,google_ads,acc1,c1,12.5,3,1.00,USD\n"  # 12.5 impressions: was loaded as 13
        + "2026-01-05,google_ads,acc1,c2,12,3.7,1.00,USD\n"  # 3.7 clicks: was loaded as 4
        + "2026-01-05,google_ads,acc1,c3,12.0,4,1.00,USD\n"  # 12.0 is the integer 12 (a float column's export)
        + "2026-01-05,google_ads,acc1,c4,1e3,0,1.00,USD\n"  # 1e3 is 1000
        + "2026-01-05,google_ads,acc1,c5,abc,0,1.00,USD\n"  # not a number at all
        + "2026-01-05,google_ads,acc1,c6,7,2,1.00,USD\n"
    )
    report = load_paths(settings, [str(f)], progress=False)
    assert report.errors == []
    assert query(settings, "select campaign_id, impressions, clicks from raw.ad_spend order by 1") == [
        ("c3", 12, 4),
        ("c4", 1000, 0),
        ("c6", 7, 2),
    ]
    assert query(settings, "select row_number, reason from raw.quarantine order by 1") == [
        (1, "not_integer:impressions"),
        (2, "not_integer:clicks"),
        (5, "bad_number:impressions"),
    ]


# --------------------------------------------------------------------------------------------------
# 3. properties must be a JSON object


def test_properties_that_are_not_a_json_object_are_quarantined(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "events_2026-01-05.jsonl"
    lines = [
        event("ok", ',"properties":{"plan":"pro"}'),
        event("array", ',"properties":[1,2]'),
        event("number", ',"properties":5'),
        event("quoted", ',"properties":"\\"text\\""'),  # a JSON string inside a string
        event("bool", ',"properties":true'),
        event("text", ',"properties":"not json"'),
        event("null", ',"properties":null'),
        event("stringified", ',"properties":"{\\"plan\\":\\"team\\"}"'),  # an object sent as a string
    ]
    f.write_text("\n".join(lines) + "\n")
    report = load_paths(settings, [str(f)], progress=False)
    assert report.errors == []
    assert query(settings, "select event_id, cast(properties as varchar) from raw.events order by row_number") == [
        ("ok", '{"plan":"pro"}'),
        ("null", None),
        ("stringified", '{"plan":"team"}'),
    ]
    assert query(settings, "select row_number, reason from raw.quarantine order by 1") == [
        (2, "not_json_object:properties"),
        (3, "not_json_object:properties"),
        (4, "not_json_object:properties"),
        (5, "not_json_object:properties"),
        (6, "invalid_value:properties"),
    ]


def test_properties_in_csv_must_be_an_object_too(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "events_2026-01-05.csv"
    f.write_text(
        "event_id,occurred_at,anonymous_id,event_name,properties\n"
        'e1,2026-01-05T08:00:00Z,a1,page_view,"{""a"":1}"\n'
        'e2,2026-01-05T08:00:00Z,a1,page_view,"[""a""]"\n'
        "e3,2026-01-05T08:00:00Z,a1,page_view,42\n"
    )
    load_paths(settings, [str(f)], progress=False)
    assert query(settings, "select event_id from raw.events") == [("e1",)]
    assert query(settings, "select row_number, reason from raw.quarantine order by 1") == [
        (2, "not_json_object:properties"),
        (3, "not_json_object:properties"),
    ]


# --------------------------------------------------------------------------------------------------
# 4. Blank lines are no records


def test_blank_and_whitespace_only_json_lines_are_no_records(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "events_2026-01-05.jsonl"
    f.write_text(event("e1") + "\n\t\n   \n\n \t \f\n" + event("e2") + "\n\t")
    report = load_paths(settings, [str(f)], progress=False)
    assert report.errors == []
    assert (report.files[0].rows_read, report.files[0].rows_quarantined) == (2, 0)
    assert query(settings, "select event_id, row_number from raw.events order by 2") == [("e1", 1), ("e2", 6)]
    assert query(settings, "select count(*) from raw.quarantine") == [(0,)]


def test_blank_lines_in_crlf_json_lines(settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "events_2026-01-05.jsonl"
    f.write_bytes((event("e1") + "\r\n\r\n \t\r\n" + event("e2") + "\r\n").encode())
    report = load_paths(settings, [str(f)], progress=False)
    assert (report.files[0].rows_read, report.files[0].rows_quarantined) == (2, 0)
    assert query(settings, "select event_id, row_number from raw.events order by 2") == [("e1", 1), ("e2", 4)]


# --------------------------------------------------------------------------------------------------
# 5. Glob characters in an existing file's name


@pytest.mark.parametrize(
    "name", ["events_[2026-01-05].jsonl", "events_2026-01-05 [copy].jsonl", "events_*.jsonl", "events_?.jsonl"]
)
def test_an_existing_file_with_glob_characters_loads_as_that_file(
    settings: Settings, tmp_path: Path, name: str
) -> None:
    f = tmp_path / name
    f.write_text(event("e1") + "\n")
    (tmp_path / "events_x.jsonl").write_text(event("other") + "\n")  # what the name would match as a glob
    report = load_paths(settings, [str(f)], progress=False)
    assert [(Path(r.path).name, r.status) for r in report.files] == [(name, "loaded")]
    assert query(settings, "select event_id from raw.events") == [("e1",)]


def test_a_glob_that_names_no_file_is_still_a_glob(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "events_a.jsonl").write_text(event("a") + "\n")
    (tmp_path / "events_b.jsonl").write_text(event("b") + "\n")
    report = load_paths(settings, [str(tmp_path / "events_[ab].jsonl")], progress=False)
    assert sorted(Path(r.path).name for r in report.files) == ["events_a.jsonl", "events_b.jsonl"]
    assert query(settings, "select event_id from raw.events order by 1") == [("a",), ("b",)]
