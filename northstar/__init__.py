"""northstar: marketing analytics pipeline (landing files -> DuckDB -> dbt marts)."""

__version__ = "0.1.0"
