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

{#- Seeds on Spark. dbt-spark's session method binds a CSV's empty cell as the text 'None' and does not escape
    quotes; here every cell is a typed literal (empty -> null). Literals keep backslashes (profiles.yml,
    escapedStringLiterals), so a cell with an apostrophe is written in double quotes. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    {%- set value = row[loop.index0] -%}
                    {%- if value is none -%}
                        cast(null as {{ type }})
                    {%- else -%}
                        {%- set text = value | string -%}
                        {%- if "'" not in text -%}
                            cast('{{ text }}' as {{ type }})
                        {%- elif '"' not in text -%}
                            cast("{{ text }}" as {{ type }})
                        {%- else -%}
                            {{ exceptions.raise_compiler_error("seed " ~ model.name ~ ": a cell has both ' and \": " ~ text) }}
                        {%- endif -%}
                    {%- endif -%}
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%}){%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}
