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

{#- Timestamps carry no zone (profiles.yml); as UTC instants (the session zone) their micros differ exactly. -#}
{% macro spark__seconds_between(start_ts, end_ts) -%}
    (unix_micros(cast({{ end_ts }} as timestamp_ltz)) - unix_micros(cast({{ start_ts }} as timestamp_ltz))) / 1000000.0
{%- endmacro %}
