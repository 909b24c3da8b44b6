import pytest

from northstar.config import ConfigError, load_settings


def test_defaults_work_on_a_laptop(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith("NORTHSTAR_"):
            monkeypatch.delenv(name)
    s = load_settings()
    assert s.warehouse_path == tmp_path / "warehouse" / "northstar.duckdb"
    assert s.serving_path == tmp_path / "warehouse" / "serving.duckdb"
    assert s.landing_dir == tmp_path / "warehouse" / "landing"
    assert (s.reporting_currency, s.reporting_timezone, s.session_timeout_minutes) == ("USD", "UTC", 30)
    assert s.attribution_lookback_days == 30
    assert s.serving_storage_version == "v1.2.0"


def test_dbt_receives_the_same_values_as_vars(monkeypatch, tmp_path):
    monkeypatch.setenv("NORTHSTAR_WAREHOUSE_DIR", str(tmp_path))
    monkeypatch.setenv("NORTHSTAR_SESSION_TIMEOUT_MINUTES", "45")
    monkeypatch.setenv("NORTHSTAR_REPORTING_CURRENCY", "eur")
    s = load_settings()
    assert s.dbt_vars()["session_timeout_minutes"] == 45
    assert s.dbt_vars()["reporting_currency"] == "EUR"
    assert s.dbt_env()["NORTHSTAR_WAREHOUSE_DIR"] == str(tmp_path)


@pytest.mark.parametrize("model", ["markov", "shapley"])
def test_the_learned_attribution_models_can_be_configured(monkeypatch, tmp_path, model):
    monkeypatch.setenv("NORTHSTAR_WAREHOUSE_DIR", str(tmp_path))
    monkeypatch.setenv("NORTHSTAR_ATTRIBUTION_MODEL", model)
    monkeypatch.setenv("NORTHSTAR_ATTRIBUTION_TRAINING_DAYS", "60")
    settings = load_settings()
    assert (settings.dbt_vars()["attribution_model"], settings.dbt_vars()["attribution_training_days"]) == (model, 60)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SESSION_TIMEOUT_MINUTES", "half an hour", "NORTHSTAR_SESSION_TIMEOUT_MINUTES"),
        ("REPORTING_TIMEZONE", "Mars/Olympus", "IANA timezone"),
        ("ATTRIBUTION_MODEL", "magic", "first_touch"),
        ("ATTRIBUTION_TRAINING_DAYS", "0", "NORTHSTAR_ATTRIBUTION_TRAINING_DAYS"),
        ("REPORTING_CURRENCY", "dollars", "ISO-4217"),
    ],
)
def test_bad_settings_name_the_variable(monkeypatch, tmp_path, name, value, message):
    monkeypatch.setenv("NORTHSTAR_WAREHOUSE_DIR", str(tmp_path))
    monkeypatch.setenv(f"NORTHSTAR_{name}", value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


@pytest.mark.parametrize("value", ["4GB", "512MB", "2GiB", "80%", "1.5 GB", "4gb", "400M", "100000000 bytes"])
def test_memory_limits_duckdb_takes_are_accepted(monkeypatch, tmp_path, value):
    import duckdb

    monkeypatch.setenv("NORTHSTAR_WAREHOUSE_DIR", str(tmp_path))
    monkeypatch.setenv("NORTHSTAR_MEMORY_LIMIT", value)
    settings = load_settings()
    with duckdb.connect(config={"memory_limit": settings.memory_limit}) as con:  # DuckDB takes it as given
        assert con.execute("select 1").fetchone() == (1,)


def test_writers_check_the_warehouse_dir_without_leaving_anything(monkeypatch, tmp_path):
    warehouse = tmp_path / "a" / "b"
    monkeypatch.setenv("NORTHSTAR_WAREHOUSE_DIR", str(warehouse))
    assert load_settings(writes=True).warehouse_dir == warehouse
    assert list(tmp_path.iterdir()) == []  # checked where it would be created; created by the command itself
