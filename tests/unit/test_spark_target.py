"""The spark target's plumbing, without Spark: NORTHSTAR_TARGET / --target, dbt's --target and its own target dir,
the Java check before dbt starts, and a build that exports raw.* for Spark before it runs dbt (a stand-in dbt that
records how it was called)."""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from northstar import build, cli
from northstar.config import ConfigError, Settings, check_java, load_settings
from northstar.ingest.schema import ensure_raw_schema
from northstar.spark.raw_export import RAW_TABLES


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("NORTHSTAR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NORTHSTAR_WAREHOUSE_DIR", str(tmp_path / "wh"))
    return monkeypatch


def test_the_target_is_duckdb_unless_set_and_each_has_its_own_dbt_dirs(env: pytest.MonkeyPatch, tmp_path: Path):
    duck = load_settings()
    assert (duck.target, duck.dbt_target) == ("duckdb", "dev")
    assert duck.marts_db_path == duck.warehouse_path
    env.setenv("NORTHSTAR_TARGET", "Spark")
    spark = load_settings()
    assert (spark.target, spark.dbt_target) == ("spark", "spark")
    assert spark.dbt_target_dir == tmp_path / "wh" / "dbt_target_spark" != duck.dbt_target_dir
    assert spark.dbt_log_dir != duck.dbt_log_dir
    assert spark.spark_marts_dir == tmp_path / "wh" / "spark" / "marts"
    assert load_settings(target="duckdb").target == "duckdb"  # --target wins over NORTHSTAR_TARGET
    env.setenv("NORTHSTAR_SPARK_EXPORT_PATH", str(tmp_path / "exported"))
    assert load_settings().dbt_env()["NORTHSTAR_SPARK_EXPORT_PATH"] == str(tmp_path / "exported")


def test_a_bad_target_names_the_variable_or_option_and_the_choices(env: pytest.MonkeyPatch) -> None:
    env.setenv("NORTHSTAR_TARGET", "snowflake")
    with pytest.raises(ConfigError, match=r"NORTHSTAR_TARGET='snowflake' is not one of duckdb, spark"):
        load_settings()
    with pytest.raises(ConfigError, match=r"--target 'bigquery' is not one of duckdb, spark"):
        load_settings(target="bigquery")


def test_dbt_gets_the_target_and_spark_its_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A Dagster run earlier in the same process leaves its dbt env (with a derby.log path) in os.environ.
    monkeypatch.delenv("SPARK_SUBMIT_OPTS", raising=False)
    duck = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path)
    spark = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path, target="spark")
    for settings, name in ((duck, "dev"), (spark, "spark")):
        args = build.dbt_args(settings, "build")
        assert args[args.index("--target") + 1] == name
    env = spark.dbt_env()
    assert env["DBT_TARGET_PATH"] == str(tmp_path / "dbt_target_spark")
    assert f"-Dderby.stream.error.file={tmp_path / 'spark' / 'derby.log'}" in env["SPARK_SUBMIT_OPTS"]
    assert "SPARK_SUBMIT_OPTS" not in duck.dbt_env()
    # the default folders are derived from NORTHSTAR_WAREHOUSE_DIR on both sides; set ones are passed on
    assert "NORTHSTAR_SPARK_RAW_PATH" not in env and "NORTHSTAR_SPARK_EXPORT_PATH" not in env
    moved = replace(spark, spark_raw_dir=tmp_path / "r", spark_export_dir=tmp_path / "m")
    assert moved.dbt_env()["NORTHSTAR_SPARK_RAW_PATH"] == str(tmp_path / "r") == str(moved.spark_raw_path)
    assert moved.dbt_env()["NORTHSTAR_SPARK_EXPORT_PATH"] == str(tmp_path / "m") == str(moved.spark_marts_dir)


def _fake_java(tmp_path: Path, version: str) -> Path:
    home = tmp_path / f"jdk-{version}"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2024-01-16' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return home


def test_java_17_or_newer_is_required(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    with pytest.raises(ConfigError, match=r"needs Java 17 or newer, but `java` is not on PATH: install Java 17"):
        check_java()
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, "1.8.0_392")))
    with pytest.raises(ConfigError, match=r"is Java 8"):
        check_java()
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, "17.0.15")))
    check_java()
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=r"JAVA_HOME=.*nowhere has no bin/java"):
        check_java()


def _recording_dbt(tmp_path: Path) -> Path:
    """A dbt that records its arguments and environment, writes an empty manifest and succeeds."""
    script = tmp_path / "dbt"
    script.write_text(
        f"#!{sys.executable}\n"
        + r"""import json, os, pathlib, sys
target = pathlib.Path(os.environ["DBT_TARGET_PATH"])
target.mkdir(parents=True, exist_ok=True)
(target / "manifest.json").write_text(json.dumps({"nodes": {}}))
keep = ("DBT_TARGET_PATH", "NORTHSTAR_WAREHOUSE_DIR")
record = {"args": sys.argv[1:], "env": {k: os.environ.get(k) for k in keep}}
pathlib.Path(os.environ["RECORD"]).write_text(json.dumps(record))
"""
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_build_on_spark_exports_raw_then_runs_dbt_on_the_spark_target(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setattr(build, "dbt_executable", lambda: _recording_dbt(tmp_path))
    env.setenv("RECORD", str(tmp_path / "record.json"))
    settings = load_settings(target="spark")
    settings.warehouse_dir.mkdir()
    with duckdb.connect(str(settings.warehouse_path)) as con:
        ensure_raw_schema(con)
        con.execute("insert into raw.quarantine values ('l1', 'events', 'e.jsonl', 1, '{}', 'bad', now(), null)")

    result = build.run_dbt_build(settings, console=cli.console)
    assert result.success, result.error
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["args"][record["args"].index("--target") + 1] == "spark"
    assert record["env"]["DBT_TARGET_PATH"] == str(settings.dbt_target_dir)
    assert record["env"]["NORTHSTAR_WAREHOUSE_DIR"] == str(settings.warehouse_dir)
    for table in RAW_TABLES:  # what the on-run-start hook points Spark's raw.* at
        assert (settings.spark_raw_path / table / "data.parquet").exists()
    out = capsys.readouterr().out
    assert "raw.* exported to Parquet for Spark" in out and "quarantine 1 ·" in out
    assert settings.marts_db_path.exists()  # the (empty) marts source check and publish read


def test_build_target_spark_without_java_is_one_line_before_dbt_starts(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setattr(build, "dbt_executable", lambda: _recording_dbt(tmp_path))
    env.setenv("RECORD", str(tmp_path / "record.json"))
    env.delenv("JAVA_HOME", raising=False)
    env.setenv("PATH", str(tmp_path))
    env.setattr(sys, "argv", ["northstar", "build", "--target", "spark"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: the spark target needs Java 17"), err
    assert not (tmp_path / "record.json").exists()  # dbt never started
    assert not (tmp_path / "wh" / "spark").exists()  # nothing exported


def test_an_unknown_target_option_is_one_line(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env.setattr(sys, "argv", ["northstar", "run", "--target", "oracle"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip() == "error: --target 'oracle' is not one of duckdb, spark"


def test_run_on_spark_checks_java_before_loading(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from northstar.pipeline import run_pipeline

    env.delenv("JAVA_HOME", raising=False)
    env.setenv("PATH", str(tmp_path))
    (tmp_path / "landing").mkdir()
    settings = Settings(warehouse_dir=tmp_path / "wh", landing_dir=tmp_path / "landing", target="spark")
    with pytest.raises(ConfigError, match="Java 17"):
        run_pipeline(settings)
    assert not settings.warehouse_path.exists()


def test_a_metastore_copied_from_another_warehouse_is_refused(tmp_path: Path) -> None:
    from northstar.errors import UserError
    from northstar.spark.metastore import check_metastore

    here = Settings(warehouse_dir=tmp_path / "copy", landing_dir=tmp_path, target="spark")
    check_metastore(here)  # none yet: Spark makes one
    seg0 = here.spark_dir / "metastore_db" / "seg0"
    seg0.mkdir(parents=True)
    # Derby keeps the databases' locations as plain bytes (here: those of the warehouse it was copied from)
    (seg0 / "c490.dat").write_bytes(b"\x00\x01file:/elsewhere/wh/spark/tables/seeds.db\x00")
    with pytest.raises(UserError, match=r"was made for another warehouse directory .* Delete .*metastore_db"):
        check_metastore(here)
    (seg0 / "c491.dat").write_bytes(f"\x00file:{here.spark_tables_dir}\x00".encode())
    check_metastore(here)
