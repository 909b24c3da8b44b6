"""The Spark/DuckDB mart comparator (northstar/spark/compare.py) on small hand-made tables, no Spark needed.

Each case writes two marts into a DuckDB warehouse (schema marts) and the same rows, changed by a few SQL
statements, as Parquet folders laid out like Spark's (<root>/<mart>/part-00000.parquet), with the keys declared
in a small dbt project's YAML the way the real one declares them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from northstar.spark.compare import Comparison, compare_marts, is_money, project_marts

ORDERS = """
select * replace (cast(revenue as double) as revenue, cast(conversion_rate as double) as conversion_rate)
from (values
    ('o1', date '2026-01-01', 'Email', 120.5, 0.25, 1, true, timestamp '2026-01-01 10:00:00'),
    ('o2', date '2026-01-01', 'Paid Search', 80.0, 0.5, 2, true, timestamp '2026-01-01 11:30:00.123456'),
    ('o3', date '2026-01-02', 'Direct', 1.005, 1.0 / 3, 1, false, timestamp '2026-01-02 23:59:59'),
    ('o4', date '2026-01-02', null, null, null, null, null, null)
) as t(order_id, order_date, channel, revenue, conversion_rate, items, is_paid, ordered_at)
"""
# The attribution grain has a NULL in its key (an untracked order has no session).
CREDITS = """
select * replace (cast(credit as double) as credit, cast(attributed_revenue as double) as attributed_revenue)
from (values
    ('c1', 'linear', 's1', 1.0 / 3, 40.0),
    ('c1', 'linear', 's2', 2.0 / 3, 80.0),
    ('c2', 'first_touch', null, 1.0, 50.0)
) as t(conversion_id, model, session_id, credit, attributed_revenue)
"""
PROJECT_YAML = """
version: 2
models:
  - name: fct_orders
    columns:
      - name: order_id
        data_tests: [unique, not_null]
      - name: revenue
        description: Net revenue, reporting currency.
  - name: fct_credits
    data_tests:
      - unique_combination_of_columns:
          arguments:
            combination_of_columns: [conversion_id, model, session_id]
"""


def _compare(tmp_path: Path, spark_changes: list[str] = (), *, marts: dict[str, str] | None = None) -> Comparison:
    """The warehouse holds marts (default fct_orders, fct_credits); Spark the same after spark_changes."""
    marts = marts or {"fct_orders": ORDERS, "fct_credits": CREDITS}
    project = tmp_path / "project"
    (project / "models" / "marts").mkdir(parents=True)
    (project / "models" / "marts" / "_models.yml").write_text(PROJECT_YAML)
    for name in marts:
        (project / "models" / "marts" / f"{name}.sql").write_text("select 1")
    warehouse = tmp_path / "northstar.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        for name, sql in marts.items():
            con.execute(f"create table marts.{name} as {sql}")
    spark_root = tmp_path / "spark" / "marts"
    with duckdb.connect() as con:
        for name, sql in marts.items():
            con.execute(f"create table {name} as {sql}")
        for statement in spark_changes:
            con.execute(statement)
        for name in marts:
            (spark_root / name).mkdir(parents=True)
            con.execute(f"copy {name} to '{spark_root / name / 'part-00000.parquet'}' (format parquet)")
    return compare_marts(warehouse, spark_root, project_dir=project)


def _mart(result: Comparison, name: str):
    return next(m for m in result.marts if m.mart == name)


def test_equal_marts_pass_and_float_noise_is_not_a_difference(tmp_path: Path) -> None:
    result = _compare(
        tmp_path,
        [
            "update fct_orders set conversion_rate = conversion_rate + 1e-12, revenue = revenue * (1 + 1e-12)",
            "update fct_credits set credit = credit + 1e-12, attributed_revenue = attributed_revenue - 1e-12",
        ],
    )
    assert result.ok, result.report()
    assert result.failed == [] and result.unkeyed == []
    assert [m.mart for m in result.marts] == ["fct_credits", "fct_orders"]
    orders = _mart(result, "fct_orders")
    assert (orders.rows_duckdb, orders.rows_spark, orders.key, orders.compared_columns) == (4, 4, ("order_id",), 8)
    assert "ok    fct_orders: 4 rows, key order_id, 8 columns equal" in result.report()
    assert result.report().startswith("Spark against DuckDB, 2 marts: 2 equal, 0 differ")


def test_one_cent_off_fails_with_the_column_and_an_example(tmp_path: Path) -> None:
    result = _compare(tmp_path, ["update fct_orders set revenue = 80.01 where order_id = 'o2'"])
    assert not result.ok and result.failed == ["fct_orders"]
    [col] = _mart(result, "fct_orders").columns
    assert (col.column, col.kind, col.rows) == ("revenue", "money", 1)
    assert col.example == {"order_id": "o2", "duckdb": 80.0, "spark": 80.01}
    assert "revenue (money, to the cent): 1 row differ, e.g. order_id='o2': DuckDB 80.0, Spark 80.01" in (
        result.report()
    )


def test_money_is_compared_to_the_cent(tmp_path: Path) -> None:
    # 120.5 -> 120.504 rounds to the same cent; 1.005 is 1.00499999999999989... in binary, so 1e-12 more rounds
    # to 1.01 instead of 1.0: float noise, not a cent, and it passes.
    result = _compare(
        tmp_path,
        [
            "update fct_orders set revenue = 120.504 where order_id = 'o1'",
            "update fct_orders set revenue = 1.005 + 1e-12 where order_id = 'o3'",
        ],
    )
    assert result.ok, result.report()


def test_a_rate_off_by_1e6_fails(tmp_path: Path) -> None:
    result = _compare(tmp_path, ["update fct_orders set conversion_rate = 0.500001 where order_id = 'o2'"])
    [col] = _mart(result, "fct_orders").columns
    assert (col.column, col.kind, col.rows) == ("conversion_rate", "double", 1)
    assert "conversion_rate (double, within 1e-09): 1 row differ, e.g. order_id='o2': DuckDB 0.5, Spark 0.500001" in (
        result.report()
    )


def test_an_attribution_credit_off_by_1e8_fails(tmp_path: Path) -> None:
    result = _compare(tmp_path, ["update fct_credits set credit = credit + 1e-8 where session_id = 's2'"])
    assert result.failed == ["fct_credits"]
    [col] = _mart(result, "fct_credits").columns
    assert (col.column, col.kind, col.rows) == ("credit", "double", 1)
    assert col.example["session_id"] == "s2" and col.example["conversion_id"] == "c1"


def test_a_missing_key_fails(tmp_path: Path) -> None:
    result = _compare(tmp_path, ["delete from fct_credits where session_id is null"])
    mart = _mart(result, "fct_credits")
    assert (mart.rows_duckdb, mart.rows_spark, mart.missing_keys, mart.extra_keys) == (3, 2, 1, 0)
    assert mart.missing_examples == [{"conversion_id": "c2", "model": "first_touch", "session_id": None}]
    assert "DIFF  fct_credits: 3 rows in DuckDB, 2 on Spark" in result.report()
    assert "1 keys missing on Spark, e.g. conversion_id='c2', model='first_touch', session_id=None" in result.report()


def test_an_extra_row_fails_as_a_new_key_or_a_duplicate(tmp_path: Path) -> None:
    result = _compare(
        tmp_path,
        [
            "insert into fct_orders select * replace ('o5' as order_id) from fct_orders where order_id = 'o1'",
            "insert into fct_credits select * from fct_credits where session_id = 's1'",
        ],
    )
    orders, credits = _mart(result, "fct_orders"), _mart(result, "fct_credits")
    assert (orders.rows_spark, orders.extra_keys, orders.extra_examples) == (5, 1, [{"order_id": "o5"}])
    assert (credits.rows_spark, credits.duplicate_keys_spark, credits.extra_keys) == (4, 1, 0)
    report = result.report()
    assert "1 keys only on Spark (extra rows), e.g. order_id='o5'" in report
    assert "1 keys more than once on Spark" in report
    assert "2 marts: 0 equal, 2 differ" in report


def test_strings_dates_timestamps_booleans_integers_and_nulls_compare_exactly(tmp_path: Path) -> None:
    result = _compare(
        tmp_path,
        [
            "update fct_orders set channel = 'email' where order_id = 'o1'",
            "update fct_orders set order_date = date '2026-01-03' where order_id = 'o3'",
            "update fct_orders set ordered_at = ordered_at + interval 1 microsecond where order_id = 'o2'",
            "update fct_orders set is_paid = false where order_id = 'o1'",
            "update fct_orders set items = 3 where order_id = 'o2'",
            "update fct_orders set revenue = 0 where order_id = 'o4'",  # NULL in DuckDB
        ],
    )
    cols = {c.column: (c.kind, c.rows) for c in _mart(result, "fct_orders").columns}
    assert cols == {
        "channel": ("exact", 1),
        "order_date": ("exact", 1),
        "ordered_at": ("exact", 1),
        "is_paid": ("exact", 1),
        "items": ("exact", 1),
        "revenue": ("money", 1),
    }


def test_every_difference_is_reported_not_only_the_first(tmp_path: Path) -> None:
    result = _compare(
        tmp_path,
        [
            "update fct_orders set revenue = revenue + 0.01, conversion_rate = conversion_rate * 2",
            "delete from fct_orders where order_id = 'o3'",
            "alter table fct_orders add column extra int",
            "alter table fct_orders drop column items",
            "update fct_credits set attributed_revenue = 0",
        ],
    )
    orders = _mart(result, "fct_orders")
    assert orders.missing_keys == 1
    cols = {c.column: (c.kind, c.rows) for c in orders.columns}
    # o4's revenue and rate are NULL on both sides: equal.
    assert cols == {
        "items": ("missing_on_spark", 0),
        "extra": ("extra_on_spark", 0),
        "revenue": ("money", 2),
        "conversion_rate": ("double", 2),
    }
    assert [c.rows for c in _mart(result, "fct_credits").columns] == [3]
    assert result.failed == ["fct_credits", "fct_orders"]


def test_a_changed_type_is_reported(tmp_path: Path) -> None:
    result = _compare(
        tmp_path, ["alter table fct_orders alter order_date type varchar using cast(order_date as varchar)"]
    )
    [col] = _mart(result, "fct_orders").columns
    assert (col.column, col.kind, col.detail) == ("order_date", "type", "DuckDB DATE, Spark VARCHAR")


def test_a_spark_timestamp_with_time_zone_is_read_as_utc(tmp_path: Path) -> None:
    """Spark's TIMESTAMP (an instant) may come back as timestamptz; the session time zone is UTC."""
    result = _compare(
        tmp_path,
        ["alter table fct_orders alter ordered_at type timestamptz using timezone('UTC', ordered_at)"],
    )
    assert result.ok, result.report()


def test_a_mart_without_key_test_or_without_spark_output_fails(tmp_path: Path) -> None:
    marts = {"fct_orders": ORDERS, "fct_credits": CREDITS, "fct_unkeyed": "select 1 as a"}
    project = tmp_path / "p"
    result = _compare(project, marts=marts)
    assert result.unkeyed == ["fct_unkeyed"]
    assert "DIFF  fct_unkeyed: no key test (unique or unique_combination_of_columns)" in result.report()

    # A new mart: first only in the project, then built on DuckDB but not on Spark.
    (project / "project" / "models" / "marts" / "fct_new.sql").write_text("select 1")
    again = compare_marts(project / "northstar.duckdb", project / "spark" / "marts", project_dir=project / "project")
    assert _mart(again, "fct_new").error == 'not in the DuckDB warehouse (wh."marts"."fct_new")'
    with duckdb.connect(str(project / "northstar.duckdb")) as con:
        con.execute("create table marts.fct_new as select 1 as a")
    again = compare_marts(project / "northstar.duckdb", project / "spark" / "marts", project_dir=project / "project")
    new = _mart(again, "fct_new")
    assert new.error == f"not built on Spark: no Parquet files in {project / 'spark' / 'marts' / 'fct_new'}"
    assert not again.ok and "fct_new" in again.failed


def test_a_spark_folder_without_data_files_is_an_empty_table(tmp_path: Path) -> None:
    marts = {"fct_orders": ORDERS, "fct_credits": f"select * from ({CREDITS}) where false"}
    result = _compare(tmp_path, marts=marts)
    for name in marts:
        for part in (tmp_path / "spark" / "marts" / name).glob("*.parquet"):
            part.unlink()
    again = compare_marts(tmp_path / "northstar.duckdb", tmp_path / "spark" / "marts", project_dir=tmp_path / "project")
    assert result.ok and again.failed == ["fct_orders"]
    assert (_mart(again, "fct_credits").rows_duckdb, _mart(again, "fct_credits").rows_spark) == (0, 0)
    assert "Spark wrote no data files" in _mart(again, "fct_orders").error
    assert "DuckDB has 4 rows" in _mart(again, "fct_orders").error


def test_the_projects_marts_all_have_their_grain_as_key() -> None:
    """The keys come from the real YAML tests and match MARTS.md's grains."""
    marts = project_marts()
    assert [n for n, spec in marts.items() if spec.key is None] == []
    keys = {n: spec.key for n, spec in marts.items()}
    assert keys["fct_sessions"] == ("session_id",)
    assert keys["fct_attributed_conversions"] == ("conversion_id", "model", "session_id")
    assert keys["fct_kpi_daily"] == ("date", "channel", "campaign_key")
    assert keys["fct_kpi_alerts"] == ("alert_date", "kpi", "scope", "scope_value")
    assert len(marts) == len(list((Path(__file__).parents[2] / "models" / "marts").rglob("*.sql")))


@pytest.mark.parametrize(
    ("column", "money"),
    [
        ("revenue", True),
        ("spend", True),
        ("gross_margin", True),
        ("aov", True),
        ("cpa", True),
        ("break_even_cpa", True),
        ("clv_predicted", True),
        ("attributed_revenue", True),
        ("platform_conversion_value", True),
        ("margin_rate", False),
        ("conversion_rate", False),
        ("over_claim_ratio", False),
        ("roas", False),
        ("credit", False),
        ("attributed_conversions_linear", False),
        ("goal_score", False),
    ],
)
def test_money_columns_by_name(column: str, money: bool) -> None:
    assert is_money(column) is money


def test_money_columns_by_description() -> None:
    assert is_money("feed_amount", "Their amount, reporting currency.")
