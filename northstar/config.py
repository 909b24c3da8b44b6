"""The one place configuration is read: NORTHSTAR_* environment variables with laptop defaults.

The CLI, dbt (as vars) and Dagster (as a resource) all read their settings from `load_settings()`.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from northstar.errors import UserError

PROJECT_DIR = Path(__file__).resolve().parent.parent


class ConfigError(UserError, ValueError):
    """A setting has a value we cannot use; the message names the variable and the fix."""


def _env(name: str, default: str) -> str:
    return os.environ.get(f"NORTHSTAR_{name}", default)


def _env_int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"NORTHSTAR_{name}={raw!r} is not a whole number (default {default})") from None


def _env_float(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # float() takes "nan" and "inf": no threshold means either
        raise ConfigError(f"NORTHSTAR_{name}={raw!r} is not a number (default {default})")
    return value


@dataclass(frozen=True)
class Settings:
    warehouse_dir: Path
    landing_dir: Path
    reporting_currency: str = "USD"
    reporting_timezone: str = "UTC"
    session_timeout_minutes: int = 30
    attribution_lookback_days: int = 30
    attribution_model: str = "last_non_direct"
    attribution_training_days: int = 90  # markov and shapley learn from the journeys of these last days
    incremental_lookback_days: int = 3
    alert_min_change: float = 0.20
    alert_max_p_value: float = 0.01
    min_conversions_for_verdict: int = 30
    recommendation_cut_ratio: float = 1.5  # fct_campaign_performance: CPA above this x break-even -> cut
    recommendation_scale_ratio: float = 0.8  # CPA at or below this x min(break-even, target) -> scale
    expected_lifetime_years: float = 3.0
    pii_salt: str = field(default="northstar-dev-salt", repr=False)
    max_quarantine_share: float = 0.9  # a file with this share of its rows quarantined (or more) fails to load
    memory_limit: str = "4GB"
    threads: int = 2
    serving_storage_version: str = "v1.2.0"
    partitions_start: str = "2026-01-01"  # first daily partition in Dagster (the sample data starts here)
    target: str = "duckdb"  # the engine dbt builds on: duckdb, or spark (docs/scale.md)
    spark_export_dir: Path | None = None  # where Spark writes the marts as Parquet (default <warehouse>/spark/marts)
    spark_raw_dir: Path | None = None  # where raw.* is exported for Spark (default <warehouse>/spark/raw)

    @property
    def warehouse_path(self) -> Path:
        """The build file: only the pipeline writes it."""
        return self.warehouse_dir / "northstar.duckdb"

    @property
    def serving_path(self) -> Path:
        """The published file every reader opens read-only."""
        return self.warehouse_dir / "serving.duckdb"

    @property
    def parquet_dir(self) -> Path:
        return self.warehouse_dir / "parquet"

    @property
    def report_dir(self) -> Path:
        return self.warehouse_dir / "report"

    @property
    def quality_dir(self) -> Path:
        return self.warehouse_dir / "quality"

    @property
    def dbt_target(self) -> str:
        """The output of profiles.yml dbt builds on (`--target`)."""
        return DBT_TARGETS[self.target]

    @property
    def dbt_target_dir(self) -> Path:
        """One per engine: the two targets never share dbt's partial-parse state or artifacts."""
        return self.warehouse_dir / ("dbt_target" if self.target == "duckdb" else f"dbt_target_{self.target}")

    @property
    def dbt_log_dir(self) -> Path:
        return self.warehouse_dir / ("dbt_logs" if self.target == "duckdb" else f"dbt_logs_{self.target}")

    @property
    def spark_dir(self) -> Path:
        """Spark's side of the warehouse: metastore, tables, the raw export (profiles.yml puts them here)."""
        return self.warehouse_dir / "spark"

    @property
    def spark_tables_dir(self) -> Path:
        """Spark's managed tables, <schema>.db/<table>/ (spark.sql.warehouse.dir in profiles.yml)."""
        return self.spark_dir / "tables"

    @property
    def spark_raw_path(self) -> Path:
        """raw.* as Parquet for Spark: a folder per table (northstar/spark/raw_export.py; macros/spark.sql)."""
        return self.spark_raw_dir or self.spark_dir / "raw"

    @property
    def spark_marts_dir(self) -> Path:
        """The marts as Spark wrote them: a folder of part-*.parquet files per mart (dbt_project.yml location_root)."""
        return self.spark_export_dir or self.spark_dir / "marts"

    @property
    def marts_db_path(self) -> Path:
        """The DuckDB file whose raw.* and marts.* the quality checks and publish read: the build file, or on
        spark a file of views over the Parquet Spark read and wrote (northstar/spark/marts_source.py). Not
        `marts.duckdb`: a file's catalog is named after it, and `marts` would clash with the schema."""
        return self.warehouse_path if self.target == "duckdb" else self.spark_dir / "northstar_spark.duckdb"

    def dbt_vars(self) -> dict[str, object]:
        """The settings dbt models read with var(); names match dbt_project.yml."""
        return {
            "reporting_currency": self.reporting_currency,
            "reporting_timezone": self.reporting_timezone,
            "session_timeout_minutes": self.session_timeout_minutes,
            "attribution_lookback_days": self.attribution_lookback_days,
            "attribution_model": self.attribution_model,
            "attribution_training_days": self.attribution_training_days,
            "incremental_lookback_days": self.incremental_lookback_days,
            "alert_min_change": self.alert_min_change,
            "alert_max_p_value": self.alert_max_p_value,
            "min_conversions_for_verdict": self.min_conversions_for_verdict,
            "recommendation_cut_ratio": self.recommendation_cut_ratio,
            "recommendation_scale_ratio": self.recommendation_scale_ratio,
            "expected_lifetime_years": self.expected_lifetime_years,
        }

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess: profiles.yml, dbt_project.yml and macros/spark.sql read these."""
        env = {
            "NORTHSTAR_WAREHOUSE_DIR": str(self.warehouse_dir),
            "NORTHSTAR_MEMORY_LIMIT": self.memory_limit,
            "NORTHSTAR_THREADS": str(self.threads),
            "DBT_TARGET_PATH": str(self.dbt_target_dir),
            "DBT_LOG_PATH": str(self.dbt_log_dir),
        }
        # Set only when configured: unset, dbt_project.yml and macros/spark.sql derive the same default folders
        # from NORTHSTAR_WAREHOUSE_DIR (and Dagster, which copies this into its environment, keeps no stale path).
        if self.spark_raw_dir:
            env["NORTHSTAR_SPARK_RAW_PATH"] = str(self.spark_raw_dir)
        if self.spark_export_dir:
            env["NORTHSTAR_SPARK_EXPORT_PATH"] = str(self.spark_export_dir)
        if self.target == "spark":
            # Spark's metastore (Derby) writes derby.log into the working directory (the project) unless told.
            # Always set on spark: Dagster copies this env into os.environ, so an earlier run's value may be there.
            opts = os.environ.get("SPARK_SUBMIT_OPTS", "")
            if "derby.stream.error.file" not in opts:
                opts = f"{opts} -Dderby.stream.error.file={self.spark_dir / 'derby.log'}".strip()
            env["SPARK_SUBMIT_OPTS"] = opts
        return env


def load_settings(*, writes: bool = False, target: str | None = None) -> Settings:
    """Read NORTHSTAR_* variables; relative paths are taken from the current directory.

    Every value is checked here, so a bad one stops a command before it starts, as one ConfigError naming the
    variable. `writes`: the command writes into the warehouse dir (load, build, publish ...), so it must be a
    directory that exists or can be created, and writable; readers of the serving file (query, kpis) need neither.
    `target`: the CLI's --target, which overrides NORTHSTAR_TARGET.
    """
    if target is not None and target not in DBT_TARGETS:
        raise ConfigError(f"--target {target!r} is not one of {', '.join(DBT_TARGETS)}")
    warehouse_dir = Path(_env("WAREHOUSE_DIR", "warehouse")).expanduser().resolve()
    export, raw = _env("SPARK_EXPORT_PATH", ""), _env("SPARK_RAW_PATH", "")
    settings = Settings(
        warehouse_dir=warehouse_dir,
        landing_dir=Path(_env("LANDING_DIR", str(warehouse_dir / "landing"))).expanduser().resolve(),
        reporting_currency=_env("REPORTING_CURRENCY", "USD").upper(),
        reporting_timezone=_env("REPORTING_TIMEZONE", "UTC"),
        session_timeout_minutes=_env_int("SESSION_TIMEOUT_MINUTES", 30),
        attribution_lookback_days=_env_int("ATTRIBUTION_LOOKBACK_DAYS", 30),
        attribution_model=_env("ATTRIBUTION_MODEL", "last_non_direct"),
        attribution_training_days=_env_int("ATTRIBUTION_TRAINING_DAYS", 90),
        incremental_lookback_days=_env_int("INCREMENTAL_LOOKBACK_DAYS", 3),
        alert_min_change=_env_float("ALERT_MIN_CHANGE", 0.20),
        alert_max_p_value=_env_float("ALERT_MAX_P_VALUE", 0.01),
        min_conversions_for_verdict=_env_int("MIN_CONVERSIONS_FOR_VERDICT", 30),
        recommendation_cut_ratio=_env_float("RECOMMENDATION_CUT_RATIO", 1.5),
        recommendation_scale_ratio=_env_float("RECOMMENDATION_SCALE_RATIO", 0.8),
        expected_lifetime_years=_env_float("EXPECTED_LIFETIME_YEARS", 3.0),
        pii_salt=_env("PII_SALT", "northstar-dev-salt"),
        max_quarantine_share=_env_float("MAX_QUARANTINE_SHARE", 0.9),
        memory_limit=_env("MEMORY_LIMIT", "4GB"),
        threads=_env_int("THREADS", 2),
        serving_storage_version=_env("SERVING_STORAGE_VERSION", "v1.2.0"),
        partitions_start=_env("PARTITIONS_START", "2026-01-01"),
        target=target or _env("TARGET", "duckdb").strip().lower(),
        spark_export_dir=Path(export).expanduser().resolve() if export else None,
        spark_raw_dir=Path(raw).expanduser().resolve() if raw else None,
    )
    _validate(settings)
    if writes:
        _check_writable(settings.warehouse_dir, "NORTHSTAR_WAREHOUSE_DIR")
    return settings


# NORTHSTAR_TARGET -> the output of profiles.yml (DuckDB's is dbt's default `dev`)
DBT_TARGETS = {"duckdb": "dev", "spark": "spark"}
# Spark 4 (pyspark in requirements.lock) runs on Java 17 or 21
MIN_JAVA = 17

# six rules, then the two learned from the journeys (macros/attribution_models.sql lists the same for dbt)
ATTRIBUTION_MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "position_based",
    "time_decay",
    "markov",
    "shapley",
)
LEARNED_ATTRIBUTION_MODELS = ("markov", "shapley")  # fct_attribution_channel_weights holds what they learned

# DuckDB's memory_limit units (its own parser's list; "4 GB" and "4gb" are fine too); a value below the floor
# parses but fails every query with "Out of Memory Error".
_MEMORY = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*|%)\s*", re.IGNORECASE)
_MEMORY_UNITS = {
    **dict.fromkeys(("b", "byte", "bytes"), 1),
    **dict.fromkeys(("k", "kb", "kilobyte", "kilobytes"), 1000),
    **dict.fromkeys(("m", "mb", "megabyte", "megabytes"), 1000**2),
    **dict.fromkeys(("g", "gb", "gigabyte", "gigabytes"), 1000**3),
    **dict.fromkeys(("t", "tb", "terabyte", "terabytes"), 1000**4),
    **{"kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4},
}
_MIN_MEMORY = 64 * 1000**2


def _check_memory_limit(value: str) -> None:
    match = _MEMORY.fullmatch(value)
    number, unit = (float(match[1]), match[2].lower()) if match else (0.0, "")
    ok = (0 < number <= 100) if unit == "%" else number * _MEMORY_UNITS.get(unit, 0) >= _MIN_MEMORY
    if not ok:
        raise ConfigError(
            f"NORTHSTAR_MEMORY_LIMIT={value!r} is not a DuckDB memory limit of at least 64MB:"
            " use a size like 4GB, 512MB or 2GiB, or a share of RAM like 80%"
        )


def _check_timezone(name: str) -> None:
    """Python (zoneinfo: Dagster, the bench) and DuckDB (the marts) must both know it."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
        known = name == "UTC" or _duckdb_knows_timezone(name)
    except Exception:
        known = False
    if not known:
        raise ConfigError(f"NORTHSTAR_REPORTING_TIMEZONE={name!r} is not an IANA timezone like UTC or Europe/Berlin")


def _duckdb_knows_timezone(name: str) -> bool:
    import duckdb

    with duckdb.connect() as con:  # in memory, a few ms; only for a timezone other than UTC
        return con.execute("select count(*) from pg_timezone_names() where name = ?", [name]).fetchone()[0] > 0


def _check_dir(path: Path, var: str) -> None:
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{var}={path} is a file, not a directory: point {var} at a directory")


def _check_writable(path: Path, var: str) -> None:
    """The dir, or the nearest existing parent it would be created in, takes a file. Nothing is left behind."""
    existing = path
    while not existing.exists():
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(0, f"{existing} is a file")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        how = "is not writable" if existing == path else "cannot be created"
        raise ConfigError(f"{var}={path} {how} ({exc.strerror}): point {var} at a directory you can write") from None


def _check_range(var: str, value: float, ok: bool, expected: str) -> None:
    if not ok:  # written as "not ok" so NaN fails too
        raise ConfigError(f"NORTHSTAR_{var}={value:g} must be {expected}")


def _validate(s: Settings) -> None:
    if len(s.reporting_currency) != 3 or not s.reporting_currency.isalpha() or not s.reporting_currency.isascii():
        raise ConfigError(f"NORTHSTAR_REPORTING_CURRENCY={s.reporting_currency!r} is not an ISO-4217 code like USD")
    if s.target not in DBT_TARGETS:
        raise ConfigError(f"NORTHSTAR_TARGET={s.target!r} is not one of {', '.join(DBT_TARGETS)}")
    if s.attribution_model not in ATTRIBUTION_MODELS:
        raise ConfigError(
            f"NORTHSTAR_ATTRIBUTION_MODEL={s.attribution_model!r} is not one of {', '.join(ATTRIBUTION_MODELS)}"
        )
    try:
        date.fromisoformat(s.partitions_start)
    except ValueError:
        raise ConfigError(f"NORTHSTAR_PARTITIONS_START={s.partitions_start!r} is not a date like 2026-01-01") from None
    _check_range("SESSION_TIMEOUT_MINUTES", s.session_timeout_minutes, s.session_timeout_minutes > 0, "above 0")
    _check_range(
        "ATTRIBUTION_LOOKBACK_DAYS", s.attribution_lookback_days, s.attribution_lookback_days >= 0, "0 or more"
    )
    _check_range(
        "ATTRIBUTION_TRAINING_DAYS", s.attribution_training_days, s.attribution_training_days >= 1, "1 or more"
    )
    _check_range(
        "INCREMENTAL_LOOKBACK_DAYS", s.incremental_lookback_days, s.incremental_lookback_days >= 0, "0 or more"
    )
    _check_range("ALERT_MIN_CHANGE", s.alert_min_change, s.alert_min_change >= 0, "0 or more (0.2 is a 20% change)")
    _check_range("ALERT_MAX_P_VALUE", s.alert_max_p_value, 0 < s.alert_max_p_value < 1, "above 0 and below 1")
    _check_range(
        "MIN_CONVERSIONS_FOR_VERDICT", s.min_conversions_for_verdict, s.min_conversions_for_verdict >= 1, "1 or more"
    )
    _check_range("RECOMMENDATION_CUT_RATIO", s.recommendation_cut_ratio, s.recommendation_cut_ratio > 0, "above 0")
    _check_range(
        "RECOMMENDATION_SCALE_RATIO", s.recommendation_scale_ratio, s.recommendation_scale_ratio > 0, "above 0"
    )
    _check_range("EXPECTED_LIFETIME_YEARS", s.expected_lifetime_years, s.expected_lifetime_years > 0, "above 0")
    _check_range(
        "MAX_QUARANTINE_SHARE", s.max_quarantine_share, 0 < s.max_quarantine_share <= 1, "above 0 and at most 1"
    )
    _check_range("THREADS", s.threads, s.threads >= 1, "1 or more (DuckDB threads)")
    _check_memory_limit(s.memory_limit)
    _check_timezone(s.reporting_timezone)
    _check_dir(s.warehouse_dir, "NORTHSTAR_WAREHOUSE_DIR")
    _check_dir(s.landing_dir, "NORTHSTAR_LANDING_DIR")


def check_java() -> None:
    """The spark target starts a local Spark (dbt-spark's session method), which needs Java 17+: say so in one
    line before dbt starts instead of pyspark's "Java gateway process exited" traceback. pyspark runs
    $JAVA_HOME/bin/java when JAVA_HOME is set, else `java` on PATH; so is this check."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "`java` is not on PATH"
    fix = "install Java 17 (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME to one"
    if not java or not Path(java).is_file():
        raise ConfigError(f"the spark target needs Java {MIN_JAVA} or newer, but {where}: {fix}")
    try:  # about 0.1 s
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        failed = f"`{java} -version` failed ({exc})"
        raise ConfigError(f"the spark target needs Java {MIN_JAVA} or newer, but {failed}: {fix}") from None
    # `openjdk version "17.0.15" 2025-04-15`; Java 8 says "1.8.0_392"
    found = re.search(r'version "(?:1\.)?(\d+)', out.stderr + out.stdout)
    if found and int(found[1]) < MIN_JAVA:
        raise ConfigError(f"the spark target needs Java {MIN_JAVA} or newer, but {java} is Java {found[1]}: {fix}")
