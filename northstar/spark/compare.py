"""Mart-by-mart equality of the DuckDB warehouse and the marts Spark wrote as Parquet (issue 14).

DuckDB reads both sides: the warehouse file (schema `marts`) and, per mart, the Parquet files Spark wrote into
<spark_root>/<mart>/ (part-*.parquet). For every mart:

- the same row count, and no key twice on either side;
- the same keys. The key is the mart's grain as the dbt project itself tests it: a `unique` column test or a
  `unique_combination_of_columns` model test in the YAML next to the models. A mart without one cannot be joined
  and fails the comparison (add the test: it documents the grain anyway);
- joined on the key, every column (compared by DuckDB's type of it):
  - money equal to the cent: round(x, 2) equal on both sides (or the float rule below, so 1e-12 of summation
    noise on a value that ends in exactly half a cent does not round to two different cents);
  - other doubles (rates, ratios, p-values, attribution credits) within 1e-9, relative above 1 and absolute
    below: |a - b| <= 1e-9 * max(1, |a|, |b|);
  - strings, dates, timestamps, booleans and integers exactly; NULL equals NULL.

Money columns are recognised by name, the units MARTS.md defines: a column whose name has a money word
(revenue, spend, margin, value, aov, cpa, cpl, cpc, cpm, cac, clv) and does not end in _rate / _ratio / _share
(margin_rate is a rate), or whose YAML description says "reporting currency". Columns holding money only on some
rows (fct_kpi_scorecard.actual for kpi = revenue) fall under the stricter double rule, which money passes too.

Every difference is collected; nothing stops at the first one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-9
MONEY_WORDS = frozenset({"revenue", "spend", "margin", "value", "aov", "cpa", "cpl", "cpc", "cpm", "cac", "clv"})
NOT_MONEY_SUFFIXES = ("_rate", "_ratio", "_share")
EXAMPLES = 3  # keys shown per finding


def spark_marts_dir(warehouse_dir: Path) -> Path:
    """Where Spark's marts are: <warehouse>/spark/marts (location_root) if it exists, else Spark's default."""
    chosen = warehouse_dir / "spark" / "marts"
    return chosen if chosen.is_dir() else warehouse_dir / "spark" / "tables" / "marts.db"


# -- what the dbt project says ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MartSpec:
    name: str
    key: tuple[str, ...] | None  # None: no unique / unique_combination_of_columns test
    descriptions: dict[str, str] = field(default_factory=dict)


def _test_name(test: object) -> tuple[str, dict]:
    """('unique', {}) or ('unique_combination_of_columns', {its arguments}) from a YAML test entry."""
    if isinstance(test, str):
        return test.split(".")[-1], {}
    if isinstance(test, dict) and len(test) == 1:
        name, body = next(iter(test.items()))
        body = body or {}
        args = body.get("arguments", body) if isinstance(body, dict) else {}
        return str(name).split(".")[-1], args
    return "", {}


def project_marts(project_dir: Path = PROJECT_DIR, models_dir: str = "models/marts") -> dict[str, MartSpec]:
    """Every model (.sql file) under models_dir with its key from the YAML tests there; sorted by name."""
    root = project_dir / models_dir
    names = sorted(p.stem for p in root.rglob("*.sql"))
    found: dict[str, MartSpec] = {}
    for path in sorted(root.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []:
            key: list[str] = []
            for test in model.get("data_tests") or model.get("tests") or []:
                name, args = _test_name(test)
                if name == "unique_combination_of_columns" and not key:
                    key = list(args.get("combination_of_columns") or [])
            descriptions = {}
            for column in model.get("columns") or []:
                descriptions[column["name"]] = str(column.get("description") or "")
                tests = [_test_name(t)[0] for t in column.get("data_tests") or column.get("tests") or []]
                if "unique" in tests and not key:
                    key = [column["name"]]
            found[model["name"]] = MartSpec(model["name"], tuple(key) or None, descriptions)
    return {n: found.get(n, MartSpec(n, None)) for n in names}


def is_money(column: str, description: str = "") -> bool:
    if column.endswith(NOT_MONEY_SUFFIXES):
        return False
    return bool(set(column.split("_")) & MONEY_WORDS) or "reporting currency" in description.lower()


# -- results --------------------------------------------------------------------------------------------------------


@dataclass
class ColumnDiff:
    column: str
    kind: str  # money | double | exact | type | missing_on_spark | extra_on_spark
    rows: int = 0  # joined rows whose values differ
    example: dict[str, Any] | None = None  # the key of one such row plus duckdb / spark values
    detail: str = ""

    def line(self) -> str:
        if self.kind == "missing_on_spark":
            return f"column {self.column} missing on Spark"
        if self.kind == "extra_on_spark":
            return f"column {self.column} only on Spark"
        if self.kind == "type":
            return f"column {self.column} type differs: {self.detail}"
        rule = {"money": "money, to the cent", "double": f"double, within {TOLERANCE:g}", "exact": "exact"}[self.kind]
        text = f"{self.column} ({rule}): {self.rows} row{'s' * (self.rows != 1)} differ"
        if self.example:
            ex = dict(self.example)
            d, s = ex.pop("duckdb"), ex.pop("spark")
            text += f", e.g. {_fmt_key(ex)}: DuckDB {d!r}, Spark {s!r}"
        return text


@dataclass
class MartDiff:
    mart: str
    key: tuple[str, ...] | None
    rows_duckdb: int | None = None
    rows_spark: int | None = None
    duplicate_keys_duckdb: int = 0
    duplicate_keys_spark: int = 0
    missing_keys: int = 0  # keys in DuckDB, not on Spark
    missing_examples: list[dict[str, Any]] = field(default_factory=list)
    extra_keys: int = 0  # keys on Spark, not in DuckDB
    extra_examples: list[dict[str, Any]] = field(default_factory=list)
    columns: list[ColumnDiff] = field(default_factory=list)
    compared_columns: int = 0
    error: str | None = None  # could not compare at all (no key test, no Parquet, not in DuckDB)

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and self.rows_duckdb == self.rows_spark
            and not (self.duplicate_keys_duckdb or self.duplicate_keys_spark or self.missing_keys or self.extra_keys)
            and not self.columns
        )

    def lines(self) -> list[str]:
        key = ", ".join(self.key) if self.key else "(none)"
        if self.error:
            return [f"DIFF  {self.mart}: {self.error}"]
        if self.ok:
            return [f"ok    {self.mart}: {self.rows_duckdb} rows, key {key}, {self.compared_columns} columns equal"]
        out = [f"DIFF  {self.mart}: {self.rows_duckdb} rows in DuckDB, {self.rows_spark} on Spark, key {key}"]
        if self.duplicate_keys_duckdb:
            out.append(f"      {self.duplicate_keys_duckdb} keys more than once in DuckDB")
        if self.duplicate_keys_spark:
            out.append(f"      {self.duplicate_keys_spark} keys more than once on Spark")
        if self.missing_keys:
            eg = "; ".join(_fmt_key(k) for k in self.missing_examples)
            out.append(f"      {self.missing_keys} keys missing on Spark, e.g. {eg}")
        if self.extra_keys:
            eg = "; ".join(_fmt_key(k) for k in self.extra_examples)
            out.append(f"      {self.extra_keys} keys only on Spark (extra rows), e.g. {eg}")
        out += [f"      {c.line()}" for c in self.columns]
        return out


@dataclass
class Comparison:
    marts: list[MartDiff]

    @property
    def ok(self) -> bool:
        return bool(self.marts) and all(m.ok for m in self.marts)

    @property
    def failed(self) -> list[str]:
        return [m.mart for m in self.marts if not m.ok]

    @property
    def unkeyed(self) -> list[str]:
        return [m.mart for m in self.marts if m.key is None]

    def report(self) -> str:
        equal = sum(m.ok for m in self.marts)
        n = len(self.marts)
        head = f"Spark against DuckDB, {n} mart{'s' * (n != 1)}: {equal} equal, {n - equal} differ"
        return "\n".join([head, *(line for m in self.marts for line in m.lines())])


def _fmt_key(key: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in key.items())


# -- comparing ------------------------------------------------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _family(sql_type: str) -> str:
    t = sql_type.upper()
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return "integer"
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return "float"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    return t


def _equal_sql(kind: str, a: str, b: str, same_type: bool = True) -> str:
    """True when the two values count as equal under the column's rule (never NULL)."""
    if kind == "exact":
        if not same_type:  # compared as text rather than risk a failing implicit cast (the type is reported)
            a, b = f"cast({a} as varchar)", f"cast({b} as varchar)"
        return f"({a} is not distinct from {b})"
    a, b = f"try_cast({a} as double)", f"try_cast({b} as double)"
    close = f"abs({a} - {b}) <= {TOLERANCE!r} * greatest(1.0, abs({a}), abs({b}))"
    same = f"{a} is not distinct from {b} or {close}"
    if kind == "money":
        same += f" or round({a}, 2) = round({b}, 2)"
    return f"coalesce({same}, false)"


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {name: typ for name, typ, *_ in con.execute(f"describe select * from {relation}").fetchall()}


def _keys(con: duckdb.DuckDBPyConnection, sql: str, key: tuple[str, ...]) -> tuple[int, list[dict[str, Any]]]:
    count = con.execute(f"select count(*) from ({sql})").fetchone()[0]
    order = ", ".join(_q(k) for k in key)
    rows = con.execute(f"select * from ({sql}) order by {order} limit {EXAMPLES}").fetchall() if count else []
    return count, [dict(zip(key, r, strict=True)) for r in rows]


def compare_mart(con: duckdb.DuckDBPyConnection, spec: MartSpec, duckdb_relation: str, parquet_dir: Path) -> MartDiff:
    """Compare one table of the attached DuckDB warehouse with the Parquet files in parquet_dir."""
    diff = MartDiff(spec.name, spec.key)
    files = sorted(parquet_dir.glob("*.parquet")) if parquet_dir.is_dir() else []
    d, s = duckdb_relation, f"read_parquet({_lit(str(parquet_dir / '*.parquet'))})"
    try:
        d_cols = _columns(con, d)
    except duckdb.CatalogException:
        diff.error = f"not in the DuckDB warehouse ({duckdb_relation})"
        return diff
    if not files:
        diff.rows_duckdb = con.execute(f"select count(*) from {d}").fetchone()[0]
        if not parquet_dir.is_dir():
            diff.error = f"not built on Spark: no Parquet files in {parquet_dir}"
        elif diff.rows_duckdb:  # Spark may write an empty table as a folder without data files
            diff.rows_spark = 0
            diff.error = f"Spark wrote no data files in {parquet_dir} (0 rows), DuckDB has {diff.rows_duckdb} rows"
        else:
            diff.rows_spark = 0
        return diff
    s_cols = _columns(con, s)
    diff.rows_duckdb = con.execute(f"select count(*) from {d}").fetchone()[0]
    diff.rows_spark = con.execute(f"select count(*) from {s}").fetchone()[0]
    if spec.key is None:
        diff.error = (
            f"no key test (unique or unique_combination_of_columns) in the models' YAML, cannot join "
            f"({diff.rows_duckdb} rows in DuckDB, {diff.rows_spark} on Spark)"
        )
        return diff
    absent = [k for k in spec.key if k not in d_cols or k not in s_cols]
    if absent:
        diff.error = f"key column(s) {', '.join(absent)} missing in DuckDB or on Spark"
        return diff

    diff.columns += [ColumnDiff(c, "missing_on_spark") for c in d_cols if c not in s_cols]
    diff.columns += [ColumnDiff(c, "extra_on_spark") for c in s_cols if c not in d_cols]
    key_list = ", ".join(_q(k) for k in spec.key)
    for side, rel in (("duckdb", d), ("spark", s)):
        dup = f"select {key_list} from {rel} group by all having count(*) > 1"
        setattr(diff, f"duplicate_keys_{side}", con.execute(f"select count(*) from ({dup})").fetchone()[0])
    diff.missing_keys, diff.missing_examples = _keys(
        con, f"select {key_list} from {d} except select {key_list} from {s}", spec.key
    )
    diff.extra_keys, diff.extra_examples = _keys(
        con, f"select {key_list} from {s} except select {key_list} from {d}", spec.key
    )

    common = [c for c in d_cols if c in s_cols and c not in spec.key]
    kinds: dict[str, str] = {}
    same_type: dict[str, bool] = {}
    for c in common:
        fam_d, fam_s = _family(d_cols[c]), _family(s_cols[c])
        same_type[c] = fam_d == fam_s
        if fam_d != fam_s:
            diff.columns.append(ColumnDiff(c, "type", detail=f"DuckDB {d_cols[c]}, Spark {s_cols[c]}"))
        if fam_d == "float":
            kinds[c] = "money" if is_money(c, spec.descriptions.get(c, "")) else "double"
        else:
            kinds[c] = "exact"
    diff.compared_columns = len(common) + len(spec.key)
    if not common:
        return diff
    on = " and ".join(f"d.{_q(k)} is not distinct from s.{_q(k)}" for k in spec.key)
    joined = f"{d} as d join {s} as s on {on}"
    same = {c: _equal_sql(kinds[c], f"d.{_q(c)}", f"s.{_q(c)}", same_type[c]) for c in common}
    counts = con.execute(
        "select " + ", ".join(f"count_if(not {same[c]})" for c in common) + f" from {joined}"
    ).fetchone()
    order = ", ".join(f"d.{_q(k)}" for k in spec.key)
    for c, n in zip(common, counts, strict=True):
        if not n:
            continue
        row = con.execute(
            f"select {', '.join(f'd.{_q(k)}' for k in spec.key)}, d.{_q(c)}, s.{_q(c)} from {joined} "
            f"where not {same[c]} order by {order} limit 1"
        ).fetchone()
        example = dict(zip(spec.key, row[:-2], strict=True))
        example.update(duckdb=row[-2], spark=row[-1])
        diff.columns.append(ColumnDiff(c, kinds[c], rows=n, example=example))
    return diff


def compare_marts(
    warehouse_path: Path,
    spark_root: Path,
    *,
    project_dir: Path = PROJECT_DIR,
    models_dir: str = "models/marts",
    schema: str = "marts",
) -> Comparison:
    """Every model under models_dir: <schema>.<model> in the DuckDB file against <spark_root>/<model>/*.parquet.

    spark_root is the folder holding one folder per table: <warehouse>/spark/marts with dbt's location_root,
    <warehouse>/spark/tables/marts.db by Spark's default (spark_marts_dir picks the one that exists).
    """
    specs = project_marts(project_dir, models_dir)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")  # a Spark TIMESTAMP read as timestamptz compares as UTC wall time
        con.execute(f"attach {_lit(str(warehouse_path))} as wh (read_only)")
        results = [
            compare_mart(con, spec, f"wh.{_q(schema)}.{_q(spec.name)}", Path(spark_root) / spec.name)
            for spec in specs.values()
        ]
    finally:
        con.close()
    return Comparison(results)


def main(argv: list[str] | None = None) -> int:
    """python -m northstar.spark.compare [WAREHOUSE_DIR [SPARK_MARTS_DIR]]: the report; exit 1 on a difference."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    warehouse_dir = Path(args[0]) if args else Path("warehouse")
    spark_root = Path(args[1]) if len(args) > 1 else spark_marts_dir(warehouse_dir)
    result = compare_marts(warehouse_dir / "northstar.duckdb", spark_root)
    print(result.report())
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
