{#- on-run-start: on the spark target, raw.* are tables over the Parquet that `northstar build --target spark`
    exports from the DuckDB warehouse (northstar/spark/raw_export.py). DuckDB reads raw.* where the loader
    wrote them, so there it does nothing. -#}
{% macro register_raw_tables() %}
    {{ return(adapter.dispatch('register_raw_tables')()) }}
{% endmacro %}

{% macro default__register_raw_tables() %}{% endmacro %}

{% macro spark__register_raw_tables() %}
    {%- set root = env_var('NORTHSTAR_SPARK_RAW_PATH', env_var('NORTHSTAR_WAREHOUSE_DIR', 'warehouse') ~ '/spark/raw') -%}
    {%- do run_query('create database if not exists raw') -%}
    {%- for table in ['events', 'ad_spend', 'orders', 'leads', 'quarantine', 'load_manifest'] -%}
        {%- do run_query('drop table if exists raw.' ~ table) -%}
        {%- do run_query("create table raw." ~ table ~ " using parquet location '" ~ root ~ "/" ~ table ~ "'") -%}
    {%- endfor -%}
{% endmacro %}

{#- The session-keyed incremental models replace sessions with delete+insert. Spark's plain Parquet tables cannot
    delete, so there they are rebuilt whole (a table); on Delta or Iceberg a merge would do (docs/scale.md). -#}
{% macro incremental_where_supported() %}
    {{- return('table' if target.type == 'spark' else 'incremental') -}}
{% endmacro %}
