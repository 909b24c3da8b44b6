"""The Spark bodies of macros/cross_db_alerts.sql give what DuckDB gives (issue 14).

alert_printf writes fct_kpi_alerts' messages. Spark's own printf is Java's: 2.5 -> "3" and 0.15 -> "0.2" where C
rounds the exact binary value half to even ("2", "0.1"), %g keeps trailing zeros, a NULL prints "null". The
generated data has few alerts, so the formats run here on ties, near-ties, carries, zero, NULL and random values,
on local Spark against DuckDB's printf. The medians (list_median, median over a frame) likewise.

Renders the macros with plain Jinja like tests/unit/test_dbt_kpi_macros.py. Needs Java (17) for local Spark.
"""

from __future__ import annotations

import random
import re
import shutil
import types
from pathlib import Path

import duckdb
import jinja2
import pytest

pytestmark = pytest.mark.spark

MACROS = Path(__file__).resolve().parents[2] / "macros" / "cross_db_alerts.sql"
# The formats of the messages (macros/alert_text.sql, fct_kpi_alerts) and %.1g / %.3g.
FORMATS = ["%.0f %%", "%.1f %%", "%.1f", "%.0f", "%.2g", "%.1g", "%.3g", " (q = %.2g, %d %s test%s that day)"]
EDGES = [0.0, 0.5, 1.5, 2.5, 0.25, 0.15, 0.35, 0.125, 12.5, 99.5, 99.95, 9.96, 2.675, 1.005, 0.045, 0.095, 1e-5,
         1.25e-5, 0.0035, 0.00995, 0.0000999999, 0.0001, 0.00015, 0.004, 0.0099999, 5.2e-13, 1e-300, 1234567.25,
         -0.3, -0.0035, -2.5, None]  # fmt: skip


def _raise(message: str) -> None:
    raise RuntimeError(message)


@pytest.fixture(scope="module")
def macros():  # the module of macros, e.g. macros.spark__alert_printf("%.1f", ["x"])
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    context = {
        "modules": types.SimpleNamespace(re=re),
        "exceptions": types.SimpleNamespace(raise_compiler_error=_raise),
    }
    return env.from_string(MACROS.read_text()).make_module(context)


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("no java on PATH: local Spark needs Java 17")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.parser.escapedStringLiterals", "true")  # as profiles.yml
        .getOrCreate()
    )
    yield session
    session.stop()


def _values() -> list[float | None]:
    rng = random.Random(7)
    values: list[float | None] = list(EDGES)
    values += [rng.random() * 10 ** rng.randint(-14, 4) for _ in range(1500)]  # q-values, rates, counts
    values += [rng.randint(0, 3000) / rng.choice([2, 4, 8, 20, 40, 3, 7]) for _ in range(1000)]  # ties, near-ties
    return values


def test_alert_printf_formats_like_duckdb(macros, spark) -> None:
    values = _values()
    duck = duckdb.connect()
    duck.execute("create table v (i integer, x double)")
    duck.executemany("insert into v values (?, ?)", list(enumerate(values)))
    spark.createDataFrame(list(enumerate(values)), "i int, x double").createOrReplaceTempView("v")
    differences = []
    for fmt in FORMATS:
        args = ["x"]
        if "%d" in fmt:
            scope = "case when i % 2 = 0 then 'whole-business' else 'channel' end"
            args += ["i", scope, "case when i = 1 then '' else 's' end"]
        expected = dict(duck.execute(f"select i, printf('{fmt}', {', '.join(args)}) from v").fetchall())
        got = dict(spark.sql(f"select i, {macros.spark__alert_printf(fmt, args)} from v").collect())
        precision = re.search(r"%\.(\d)g", fmt)
        for i, text in expected.items():
            x = values[i]
            # documented in spark__alert_general: exact ties from 10^p up (125 at %.2g) round up on Spark
            if precision and x is not None and abs(x) >= 10 ** int(precision.group(1)) and x.is_integer():
                continue
            if got[i] != text:
                differences.append((fmt, x, text, got[i]))
    assert differences == [], f"{len(differences)} differ (format, value, duckdb, spark): {differences[:10]}"


def test_alert_printf_rejects_unknown_conversions(macros) -> None:
    with pytest.raises(RuntimeError, match="unsupported conversion"):
        macros.spark__alert_printf("%5.1f", ["x"])
    with pytest.raises(RuntimeError, match="2 arguments"):
        macros.spark__alert_printf("%.1f", ["x", "y"])
    with pytest.raises(RuntimeError, match="no apostrophe"):
        macros.spark__alert_printf("it's %d", ["x"])


def test_medians_like_duckdb(macros, spark) -> None:
    rng = random.Random(11)
    # NULLs, ties (small whole numbers) and random doubles, whose mean of the middle two must match bit for bit
    rows = [
        (i, *(rng.choice([None, rng.random() * 100, float(rng.randint(0, 9))]) for _ in range(4))) for i in range(400)
    ]
    duck = duckdb.connect()
    duck.execute("create table v (i integer, a double, b double, c double, d double)")
    duck.executemany("insert into v values (?, ?, ?, ?, ?)", rows)
    spark.createDataFrame(rows, "i int, a double, b double, c double, d double").createOrReplaceTempView("v")
    items = ["a", "b", "c", "d"]
    window = "window w as (order by i rows between 28 preceding and 1 preceding)"
    query = "select i, {median}, {count}, {window_median} from v {window}"
    expected = duck.execute(
        query.format(
            median=f"list_median([{', '.join(items)}])",
            count=f"list_count([{', '.join(items)}])",
            window_median="median(a) over w",
            window=window,
        )
        + " order by i"
    ).fetchall()
    got = spark.sql(
        query.format(
            median=macros.spark__alert_list_median(items),
            count=macros.spark__alert_list_count(items),
            window_median=macros.spark__alert_window_median("a", "w"),
            window=window,
        )
        + " order by i"
    ).collect()
    assert [tuple(row) for row in got] == expected
