{#- Cross-database pieces the models share (docs/decisions.md, "Portability"). Each DuckDB body is the SQL the
    models had before the Spark port, so DuckDB runs exactly what it ran; the spark__ bodies are checked by
    tests/integration/test_spark_equality.py. -#}

{#- dbt-spark's listagg drops the order by (with a warning), so texts built from lists would differ run to run.
    Spark 4 has listagg ... within group, which keeps it. dbt looks up dbt.listagg in the root project first. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with limit_num is not implemented for Spark in northstar") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}

{#- One row per day from start_date to end_date inclusive, as a query with the column `column_name` (a date). -#}
{% macro days_between(start_date, end_date, column_name) -%}
    {{ return(adapter.dispatch('days_between', 'northstar')(start_date, end_date, column_name)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date, column_name) -%}
    select cast(day_start as date) as {{ column_name }}
    from generate_series(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day) as spine (day_start)
{%- endmacro %}

{% macro spark__days_between(start_date, end_date, column_name) -%}
    select explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day))
        as {{ column_name }}
{%- endmacro %}

{#- An expression that stops the query with `message` when evaluated (DuckDB error(), Spark raise_error()). -#}
{% macro stop_query(message) -%}
    {{ return(adapter.dispatch('stop_query', 'northstar')(message)) }}
{%- endmacro %}

{% macro default__stop_query(message) -%}error({{ message }}){%- endmacro %}

{% macro spark__stop_query(message) -%}raise_error({{ message }}){%- endmacro %}

{#- A date as its month, 'YYYY-MM' (the month column of seeds/kpi_targets.csv). -#}
{% macro year_month_text(date_expr) -%}
    {{ return(adapter.dispatch('year_month_text', 'northstar')(date_expr)) }}
{%- endmacro %}

{% macro default__year_month_text(date_expr) -%}strftime({{ date_expr }}, '%Y-%m'){%- endmacro %}

{% macro spark__year_month_text(date_expr) -%}date_format({{ date_expr }}, 'yyyy-MM'){%- endmacro %}

{#- dbt-spark's dateadd goes through to_timestamp(seconds), which is NULL for timestamps without a zone
    (profiles.yml): a lookback that compared with NULL matched nothing. timestampadd keeps the type. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}

{#- dbt's datediff counts the datepart boundaries crossed, as DuckDB's date_diff does (10:00:00.9 to 10:00:01.1 is
    1 second); Spark's timestampdiff would truncate the elapsed time instead. -#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- if datepart == 'day' -%}
        datediff(cast({{ second_date }} as date), cast({{ first_date }} as date))
    {%- elif datepart == 'second' -%}
        (floor(unix_micros(cast({{ second_date }} as timestamp_ltz)) / 1000000)
         - floor(unix_micros(cast({{ first_date }} as timestamp_ltz)) / 1000000))
    {%- else -%}
        {{ exceptions.raise_compiler_error("datediff by " ~ datepart ~ " is not implemented for Spark in northstar") }}
    {%- endif -%}
{%- endmacro %}
