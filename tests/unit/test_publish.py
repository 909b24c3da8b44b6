"""publish(): the serving file and Parquet export, written aside and swapped in whole, or not at all."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings
from northstar.errors import UserError
from northstar.serve import publish as publish_mod
from northstar.serve.publish import PublishError, publish
from northstar.serve.sample_marts import build_sample_marts

# Rows of the sample marts (northstar/serve/sample_marts.py): 59 days x 3 channels of daily KPIs,
# 9 funnel stages for each of those, 2 months x 3 campaigns ...
EXPECTED_ROWS = {
    "dim_campaigns": 3,
    "dim_channels": 3,
    "fct_attributed_conversions": 21,
    "fct_attribution_channel_weights": 6,
    "fct_campaign_performance": 6,
    "fct_funnel_daily": 59 * 3 * 9,
    "fct_kpi_alerts": 3,
    "fct_kpi_daily": 59 * 3,
    "fct_kpi_scorecard": 2 * 9,
    "fct_sessions": 2,
}
VIEWS = ["kpi_daily", "funnel", "campaigns", "scorecard", "alerts", "attribution"]


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_marts(tmp_path_factory.mktemp("sample") / "northstar.duckdb")


@pytest.fixture
def settings(tmp_path: Path, sample_warehouse: Path) -> Settings:
    s = Settings(warehouse_dir=tmp_path / "wh", landing_dir=tmp_path / "landing", threads=1, memory_limit="1GB")
    s.warehouse_dir.mkdir()
    shutil.copyfile(sample_warehouse, s.warehouse_path)
    return s


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _parquet_state(s: Settings) -> tuple[str, dict[str, str]]:
    target = s.parquet_dir.resolve()
    return str(target), {p.name: _sha(p) for p in sorted(target.iterdir())}


def test_publish_copies_every_mart_adds_views_and_meta(settings: Settings) -> None:
    result = publish(settings)

    assert result.serving_path == settings.serving_path
    assert result.row_counts == EXPECTED_ROWS
    assert result.views == VIEWS and result.skipped_views == []
    assert result.data_through == date(2026, 2, 28)
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", result.code_revision)
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        tables = dict(
            con.execute("select table_name, estimated_size from duckdb_tables() where schema_name = 'marts'").fetchall()
        )
        assert set(tables) == set(EXPECTED_ROWS)
        for mart, rows in EXPECTED_ROWS.items():
            assert con.execute(f"select count(*) from marts.{mart}").fetchone()[0] == rows
        views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
        assert views == set(VIEWS)
        meta = con.execute(
            "select mart, row_count, data_through, code_revision, storage_version, reporting_currency, "
            "attribution_model from northstar_meta order by mart"
        ).fetchall()
    assert {m[0]: m[1] for m in meta} == EXPECTED_ROWS
    assert {m[2:] for m in meta} == {(date(2026, 2, 28), result.code_revision, "v1.2.0", "USD", "last_non_direct")}
    # nothing left behind but the outputs
    leftovers = [p.name for p in settings.warehouse_dir.iterdir() if ".tmp-" in p.name or ".link-" in p.name]
    assert leftovers == []


def test_serving_file_uses_a_storage_version_duckdb_1x_reads(settings: Settings) -> None:
    publish(settings)
    header = settings.serving_path.read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    version = struct.unpack("<Q", header[12:20])[0]
    # DuckDB 1.5 reads storage versions 64..68; 2.x writes 69+ by default ("version number 69" refusal).
    assert 64 <= version <= 68
    with duckdb.connect() as con:
        con.execute(f"attach '{settings.serving_path}' as s (read_only)")
        tags = con.execute("select tags from duckdb_databases() where database_name = 's'").fetchone()[0]
    assert tags["storage_version"].startswith("v1.2.0")


def test_friendly_views_answer_the_common_questions(settings: Settings) -> None:
    publish(settings)
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        # kpi_daily carries the campaign's name; January Paid Search: 31 days x $100, 31 x 4 conversions
        assert con.execute(
            "select sum(spend), sum(macro_conversions), any_value(campaign_name) from kpi_daily "
            "where channel = 'Paid Search' and date < '2026-02-01'"
        ).fetchone() == (3100.0, 124, "Brand search")
        # attribution: credits per month, model and channel (linear splits c1 50/50 between Email and Paid Search)
        assert con.execute(
            "select channel, conversions, attributed_revenue from attribution "
            "where model = 'linear' and month = '2026-01-01' order by channel"
        ).fetchall() == [("Email", 0.5, 50.0), ("Paid Search", 0.5, 50.0)]
        # campaigns does not duplicate columns the mart already has
        cols = [r[0] for r in con.execute("describe campaigns").fetchall()]
        assert cols.count("campaign_name") == 1
        assert con.execute("select count(*) from scorecard where is_north_star").fetchone()[0] == 2
        assert con.execute("select count(*) from alerts").fetchone()[0] == 3
        assert con.execute("select count(*) from funnel").fetchone()[0] == EXPECTED_ROWS["fct_funnel_daily"]


def test_parquet_export_has_every_mart_and_swaps_versions(settings: Settings) -> None:
    first = publish(settings)
    assert settings.parquet_dir.is_symlink()
    files = sorted(p.name for p in settings.parquet_dir.iterdir())
    assert files == sorted(f"{m}.parquet" for m in EXPECTED_ROWS)
    with duckdb.connect() as con:
        for mart, rows in EXPECTED_ROWS.items():
            path = settings.parquet_dir / f"{mart}.parquet"
            assert con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0] == rows
    assert [p.name for p in first.parquet_files] == [f"{m}.parquet" for m in sorted(EXPECTED_ROWS)]

    versions = []
    for _ in range(4):
        publish(settings)
        versions.append(settings.parquet_dir.resolve())
    kept = sorted(p for p in (settings.warehouse_dir / publish_mod.PARQUET_VERSIONS_DIR).iterdir())
    # the current version plus the ones before it that a slow reader may still be reading; older ones go
    assert versions[-1] in kept and len(kept) == publish_mod.PARQUET_VERSIONS_KEPT


def test_publish_replaces_a_plain_parquet_directory_from_an_older_layout(settings: Settings) -> None:
    settings.parquet_dir.mkdir(parents=True)
    (settings.parquet_dir / "stale.parquet").write_text("old")
    publish(settings)
    assert settings.parquet_dir.is_symlink()
    assert not (settings.parquet_dir / "stale.parquet").exists()


@pytest.mark.parametrize("where", ["serving", "parquet", "swap"])
def test_a_failed_publish_leaves_the_last_good_outputs_untouched(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    publish(settings)
    serving_before = _sha(settings.serving_path)
    parquet_before = _parquet_state(settings)

    # new data in the warehouse, then a publish that breaks half-way
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("delete from marts.fct_kpi_daily where date = '2026-02-28'")

    def boom(*args, **kwargs):
        raise duckdb.IOException("disk full (injected)")

    if where == "serving":
        # a view that does not bind fails after the marts were copied into the new file
        monkeypatch.setattr(
            publish_mod, "friendly_views", lambda columns: {"kpi_daily": "select * from marts.no_such_mart"}
        )
    elif where == "parquet":
        monkeypatch.setattr(publish_mod, "_write_parquet", boom)
    else:
        monkeypatch.setattr(publish_mod, "_check_complete", boom)

    with pytest.raises(PublishError, match="last good serving file is untouched"):
        publish(settings)

    assert _sha(settings.serving_path) == serving_before
    assert _parquet_state(settings) == parquet_before
    leftovers = [p.name for p in settings.warehouse_dir.iterdir() if ".tmp-" in p.name or ".link-" in p.name]
    assert leftovers == []
    versions = list((settings.warehouse_dir / publish_mod.PARQUET_VERSIONS_DIR).iterdir())
    assert [v.resolve() for v in versions] == [settings.parquet_dir.resolve()]
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        assert con.execute("select count(*) from kpi_daily").fetchone()[0] == EXPECTED_ROWS["fct_kpi_daily"]

    # and the next good publish goes through with the new data
    monkeypatch.undo()
    assert publish(settings).row_counts["fct_kpi_daily"] == EXPECTED_ROWS["fct_kpi_daily"] - 3


def test_publish_explains_a_missing_warehouse(tmp_path: Path) -> None:
    s = Settings(warehouse_dir=tmp_path / "nowhere", landing_dir=tmp_path / "landing")
    with pytest.raises(UserError, match="northstar build"):
        publish(s)


def test_publish_explains_a_warehouse_without_marts(tmp_path: Path) -> None:
    s = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path / "landing")
    duckdb.connect(str(s.warehouse_path)).close()
    with pytest.raises(UserError, match="no schema `marts`"):
        publish(s)
    assert not s.serving_path.exists()


def test_publish_refuses_a_storage_version_that_is_not_one(settings: Settings) -> None:
    bad = Settings(
        warehouse_dir=settings.warehouse_dir, landing_dir=settings.landing_dir, serving_storage_version="1.2"
    )
    with pytest.raises(UserError, match="NORTHSTAR_SERVING_STORAGE_VERSION"):
        publish(bad)


def test_views_are_skipped_not_failed_when_their_mart_is_missing(settings: Settings) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("drop table marts.fct_kpi_alerts")
    result = publish(settings)
    assert "alerts" not in result.views and result.skipped_views == ["alerts"]


def test_summary_names_the_outputs(settings: Settings) -> None:
    from rich.console import Console

    console = Console(record=True, width=160)
    console.print(publish(settings).summary())
    text = console.export_text()
    assert "fct_kpi_daily" in text and "177" in text
    assert str(settings.serving_path) in text and "v1.2.0" in text and "2026-02-28" in text


def test_without_symlinks_parquet_is_swapped_with_renames(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_symlinks(*args, **kwargs):
        raise OSError("symbolic links are not available (injected)")

    monkeypatch.setattr(publish_mod.os, "symlink", no_symlinks)
    for _ in range(2):
        publish(settings)
        assert settings.parquet_dir.is_dir() and not settings.parquet_dir.is_symlink()
        assert sorted(p.name for p in settings.parquet_dir.iterdir()) == sorted(f"{m}.parquet" for m in EXPECTED_ROWS)


def test_temporaries_of_a_killed_publish_are_cleaned_up(settings: Settings) -> None:
    settings.warehouse_dir.mkdir(exist_ok=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = settings.warehouse_dir / f".serving.duckdb.tmp-{dead.pid}-deadbeef"
    alive = settings.warehouse_dir / f".serving.duckdb.tmp-{os.getpid()}-cafecafe"
    stale.write_bytes(b"half a file")
    alive.write_bytes(b"someone else's publish in progress")
    publish(settings)
    assert not stale.exists() and alive.exists()
