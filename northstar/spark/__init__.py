"""Running the dbt project on Spark (docs/scale.md): the raw tables go to Parquet for Spark to read, and the
marts Spark wrote come back as Parquet for the serving DuckDB file."""
