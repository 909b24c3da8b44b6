{#- Exact seconds (with fractions) from start_ts to end_ts. dbt.datediff counts boundaries, which would
    call a gap of 30:00.9 "1800 seconds" and keep it inside a 30-minute session. -#}
{% macro seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('seconds_between', 'northstar')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__seconds_between(start_ts, end_ts) -%}
    {{ dbt.datediff(start_ts, end_ts, 'millisecond') }} / 1000.0
{%- endmacro %}

{% macro duckdb__seconds_between(start_ts, end_ts) -%}
    (epoch_us({{ end_ts }}) - epoch_us({{ start_ts }})) / 1000000.0
{%- endmacro %}
