"""Any shop's own orders CSV, read through a small YAML mapping of its columns onto the orders contract.

The mapping is `orders_mapping.yml` (or .yaml) in the CSV's directory, else the file NORTHSTAR_ORDERS_MAPPING names.
It applies to a CSV whose name matches its `files` pattern, or, without a pattern, whose header has every column
the mapping names. Example with every key: tests/data/sources/orders_csv/orders_mapping.yml.

    files: shop_orders_*.csv          optional glob on the file name
    delimiter: ";"                    optional, default ","
    decimal_separator: ","            optional, default "."; the other one of "." and "," is a thousands separator
    timestamp_format: "%d.%m.%Y %H:%M"  optional strptime format, default ISO-8601
    timezone: Europe/Berlin           optional: zone of timestamps without an offset, default UTC
    columns: {order_id: ..., ordered_at: ..., status: ..., revenue: ..., user_id: ..., cost_of_goods: ...,
              currency: ...}          contract column -> CSV column; the first four are required
    currency: EUR                     instead of columns.currency when every order is in one currency
    status_values: {Paid: completed}  CSV value -> completed | refunded | cancelled (case-insensitive);
                                      values not listed pass as they are (the loader checks them)

One record is one CSV data row; the columns the mapping does not name are kept in extra.
"""

from __future__ import annotations

import csv
import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from northstar.ingest import contract as C
from northstar.sources.base import LoadFileError, Peek, Source, SourceFile
from northstar.sources.sql import clean, contract_select, file_lit, lit, numbered, q, reader_opts, reject_rows

MAPPING_NAMES = ("orders_mapping.yml", "orders_mapping.yaml")
MAPPING_ENV = "NORTHSTAR_ORDERS_MAPPING"
_COLUMNS = tuple(c.name for c in C.ORDERS)
_REQUIRED = ("order_id", "ordered_at", "status", "revenue")
_KEYS = {"files", "delimiter", "decimal_separator", "timestamp_format", "timezone", "columns", "currency",
         "status_values"}  # fmt: skip
_STATUSES = next(c.values for c in C.ORDERS if c.name == "status")


class MappingError(ValueError):
    """The mapping file cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Mapping:
    path: Path
    columns: dict[str, str]
    files: str | None = None
    delimiter: str = ","
    decimal_separator: str = "."
    timestamp_format: str | None = None
    timezone: str | None = None
    currency: str | None = None
    status_values: dict[str, str] = field(default_factory=dict)

    def applies_to(self, name: str, header: list[str]) -> bool:
        if self.files is not None:
            return fnmatch.fnmatch(name, self.files)
        present = {h.strip().lower() for h in header}
        return all(col.strip().lower() in present for col in self.columns.values())


def find_mapping_file(csv_path: Path) -> Path | None:
    """The mapping next to the CSV, else the one NORTHSTAR_ORDERS_MAPPING names."""
    for name in MAPPING_NAMES:
        candidate = csv_path.parent / name
        if candidate.is_file():
            return candidate
    env = os.environ.get(MAPPING_ENV, "").strip()
    return Path(env).expanduser() if env else None


def _text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise MappingError(f"{key} must be a text value, not {type(value).__name__}")
    return str(value)


def parse_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; MappingError names the first problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"cannot read it: {' '.join(str(exc).split())}") from None
    if not isinstance(raw, dict):
        raise MappingError("it must be a YAML mapping (key: value lines)")
    unknown = sorted(set(map(str, raw)) - _KEYS)
    if unknown:
        raise MappingError(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    cols = raw.get("columns")
    if not isinstance(cols, dict):
        raise MappingError("`columns` must map contract columns to CSV columns, e.g. `order_id: Order Number`")
    bad = sorted(set(map(str, cols)) - set(_COLUMNS))
    if bad:
        raise MappingError(f"columns: {', '.join(bad)} not orders contract column(s); known: {', '.join(_COLUMNS)}")
    columns = {str(k): str(v) for k, v in cols.items() if v is not None and str(v).strip()}
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise MappingError(f"columns: {', '.join(missing)} missing (required: {', '.join(_REQUIRED)})")
    currency = _text(raw, "currency")
    if ("currency" in columns) == (currency is not None):
        raise MappingError("give the currency either as columns.currency or as a fixed `currency: EUR`, once")
    if currency is not None and currency.strip().upper() not in C.ISO_4217:
        raise MappingError(f"currency {currency!r} is not an ISO-4217 code")
    values = raw.get("status_values") or {}
    if not isinstance(values, dict):
        raise MappingError("`status_values` must map CSV values to completed, refunded or cancelled")
    status_values = {str(k).strip().lower(): str(v).strip().lower() for k, v in values.items()}
    wrong = sorted({v for v in status_values.values() if v not in _STATUSES})
    if wrong:
        raise MappingError(f"status_values: {', '.join(wrong)} not one of {', '.join(_STATUSES)}")
    delimiter = _text(raw, "delimiter") or ","
    decimal = _text(raw, "decimal_separator") or "."
    if len(delimiter) != 1:
        raise MappingError(f"delimiter must be one character, not {delimiter!r}")
    if decimal not in (".", ","):
        raise MappingError(f'decimal_separator must be "." or ",", not {decimal!r}')
    return Mapping(
        path=path,
        columns=columns,
        files=_text(raw, "files"),
        delimiter=delimiter,
        decimal_separator=decimal,
        timestamp_format=_text(raw, "timestamp_format"),
        timezone=_text(raw, "timezone"),
        currency=currency.strip().upper() if currency else None,
        status_values=status_values,
    )


def _header(p: Peek, delimiter: str) -> list[str]:
    return next(csv.reader(p.lines[:1], delimiter=delimiter), []) if p.lines else []


def looks_like(p: Peek) -> bool:
    """A CSV a mapping applies to. A broken mapping still claims the files its `files` pattern names (the load
    then says what is wrong with it); without a pattern it claims nothing."""
    if p.fmt != "csv":
        return False
    path = find_mapping_file(p.path)
    if path is None or not path.is_file():
        return False
    try:
        mapping = parse_mapping(path)
    except MappingError:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            return False
        files = raw.get("files") if isinstance(raw, dict) else None
        return isinstance(files, str) and fnmatch.fnmatch(p.path.name, files)
    return mapping.applies_to(p.path.name, _header(p, mapping.delimiter))


def _number(v: str, decimal: str) -> str:
    """Digits with the mapping's decimal separator -> '1234.50' (thousands separators and spaces dropped)."""
    thousands = "," if decimal == "." else "."
    out = f"replace(replace(replace({v}, {lit(thousands)}, ''), ' ', ''), chr(160), '')"
    return f"replace({out}, ',', '.')" if decimal == "," else out


def _timestamp(v: str, m: Mapping) -> str:
    """ISO text the loader reads; a value that does not parse passes as it is (quarantined as bad_timestamp)."""
    has_offset = f"regexp_matches({v}, '(Z|[+-]\\d{{2}}:?\\d{{2}})$')"
    if m.timestamp_format:
        parsed = f"try_strptime({v}, {lit(m.timestamp_format)})"
        if m.timezone and "%z" not in m.timestamp_format.lower():
            parsed = f"({parsed} at time zone {lit(m.timezone)})"
        return f"coalesce(cast({parsed} as varchar), {v})"
    if m.timezone:
        local = f"try_cast({v} as timestamp)"
        return f"""case when {local} is not null and not {has_offset}
                        then cast({local} at time zone {lit(m.timezone)} as varchar) else {v} end"""
    return v


def stage(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    path = find_mapping_file(f.path)
    if path is None or not path.is_file():
        raise LoadFileError(
            f"{f.path}: no orders mapping: put {MAPPING_NAMES[0]} next to it or name one in {MAPPING_ENV}"
        )
    try:
        m = parse_mapping(path)
    except MappingError as exc:
        raise LoadFileError(f"{f.path}: the orders mapping {path} is not usable: {exc}") from None
    if (
        m.timezone
        and not con.execute("select count(*) from pg_timezone_names() where name = ?", [m.timezone]).fetchone()[0]
    ):
        raise LoadFileError(f"{f.path}: the orders mapping {path} names an unknown timezone {m.timezone!r}")
    con.execute(
        f"""create temp table _ns_csv as
        select * from read_csv({file_lit(f.path)}, all_varchar = true, header = true, delim = {lit(m.delimiter)},
            quote = '"', escape = '"', {reader_opts()})"""
    )
    names = [d[0] for d in con.execute("describe _ns_csv").fetchall()]
    by_lower = {n.strip().lower(): n for n in reversed(names)}
    absent = [col for col in m.columns.values() if col.strip().lower() not in by_lower]
    if absent:
        raise LoadFileError(
            f"{f.path}: column(s) {', '.join(absent)} named in {path} not in the file;"
            f" columns found: {', '.join(names[:20])}"
        )

    def col(contract_name: str) -> str:
        return clean(q(by_lower[m.columns[contract_name].strip().lower()]))

    mapping: dict[str, str] = {name: col(name) for name in m.columns}
    mapping["ordered_at"] = _timestamp(col("ordered_at"), m)
    for money in ("revenue", "cost_of_goods"):
        if money in m.columns:
            mapping[money] = _number(col(money), m.decimal_separator)
    if m.status_values:
        whens = " ".join(f"when {lit(k)} then {lit(v)}" for k, v in m.status_values.items())
        mapping["status"] = f"case lower({col('status')}) {whens} else {col('status')} end"
    if m.currency:
        mapping["currency"] = lit(m.currency)
    used = {m.columns[name].strip().lower() for name in m.columns}
    rest = [n for n in names if n.strip().lower() not in used]
    if rest:
        any_set = " or ".join(f"{clean(q(n))} is not null" for n in rest)
        extra = f"case when {any_set} then json_object({', '.join(f'{lit(n)}, {q(n)}' for n in rest)}) end"
    else:
        extra = "null::json"
    con.execute(
        f"""create temp table _ns_src as
        select cast(rn as bigint) as row_number, null::varchar as pre_reason, null::varchar as raw_text,
               {contract_select("orders", mapping)}, {extra} as extra
        from ({numbered(con, "_ns_csv", 1)})
        union all
        {reject_rows("orders", 1)}"""
    )


SOURCE = Source(
    name="orders_csv",
    kind="orders",
    title="orders CSV with a column mapping (orders_mapping.yml)",
    shapes=(
        "any shop's orders CSV, one row per order, with orders_mapping.yml next to it (or NORTHSTAR_ORDERS_MAPPING)"
        " naming its columns, status values, currency, timestamp format and time zone",
    ),
    looks_like=looks_like,
    stage=stage,
    order=20,  # a mapping the user wrote for these files beats sniffing their content
)
