"""northstar load on a small `northstar generate` run: the dirty rows it injects all end in quarantine.

The generator writes incidents.json with `dirty_rows` = {category: {kind: count}}. Each category maps to one
quarantine reason family (or, for duplicates, to duplicates_skipped).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings
from northstar.ingest.load import load_paths

# generator category -> quarantine reason (prefix match); None = counted in duplicates_skipped, not quarantined
CATEGORY_REASON = {
    "malformed_json": "malformed_record",
    "missing_required": "missing_required:",
    "bad_timestamp": "bad_timestamp:",
    "future_timestamp": "future_timestamp:",
    "negative_spend": "negative_value:spend",
    "unknown_currency": "unknown_currency",
    "duplicate": None,
    "non_utf8": "invalid_encoding",
    "invalid_status": "invalid_value:status",
    "invalid_stage": "invalid_value:stage",
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from northstar.sample.generate import generate

    out = tmp_path_factory.mktemp("landing")
    generate(out, days=4, visitors=1500, seed=11, file_format="jsonl", progress=False)
    return out, json.loads((out / "incidents.json").read_text())


def test_generated_dirty_rows_are_all_quarantined(generated: tuple[Path, dict], tmp_path: Path) -> None:
    landing, incidents = generated
    settings = Settings(warehouse_dir=tmp_path / "wh", landing_dir=landing)
    report = load_paths(settings, [str(landing)], progress=False)
    assert report.errors == []

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        bad = con.execute(
            "select count(*) from raw.load_manifest "
            "where rows_read <> rows_loaded + rows_quarantined + duplicates_skipped"
        ).fetchone()[0]
        assert bad == 0
        reasons = con.execute("select kind, reason, count(*) from raw.quarantine group by all").fetchall()
        quarantined = dict(con.execute("select kind, count(*) from raw.quarantine group by kind").fetchall())
        event_dups = con.execute(
            "select sum(duplicates_skipped) from raw.load_manifest where kind = 'events'"
        ).fetchone()[0]

    dirty = incidents["dirty_rows"]
    for category, per_kind in dirty.items():
        for kind, n in per_kind.items():
            if not n:
                continue
            reason = CATEGORY_REASON[category]
            if reason is None:
                assert event_dups >= n, category
                continue
            # Each injected row carries exactly one defect, so the counts match per category.
            got = sum(c for k, r, c in reasons if k == kind and r.startswith(reason))
            assert got == n, (category, kind, got, n)
    # Every injected bad row is quarantined, and nothing else is.
    for kind in ("events", "ad_spend", "orders", "leads"):
        expected = sum(per_kind.get(kind, 0) for c, per_kind in dirty.items() if CATEGORY_REASON[c] is not None)
        assert quarantined.get(kind, 0) == expected, kind
    assert event_dups == dirty["duplicate"]["events"]


def test_reloading_the_generated_directory_changes_nothing(generated: tuple[Path, dict], tmp_path: Path) -> None:
    landing, _ = generated
    settings = Settings(warehouse_dir=tmp_path / "wh", landing_dir=landing)
    load_paths(settings, [str(landing)], progress=False)
    tables = ("events", "ad_spend", "orders", "leads", "quarantine", "load_manifest")

    def counts() -> dict[str, int]:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in tables}

    before = counts()
    report = load_paths(settings, [str(landing)], progress=False)
    assert counts() == before
    assert {f.status for f in report.files} == {"skipped"}
