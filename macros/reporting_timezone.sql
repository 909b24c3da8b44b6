{#- Raw timestamps are naive UTC. to_reporting_tz turns one into the naive wall-clock time of
    var('reporting_timezone'); every *_at and *_date of the marts goes through here, so the timezone
    logic lives in one place. -#}
{% macro to_reporting_tz(column) -%}
    {{ return(adapter.dispatch('to_reporting_tz', 'northstar')(column)) }}
{%- endmacro %}

{% macro default__to_reporting_tz(column) -%}
    {%- set tz = var('reporting_timezone') -%}
    {%- if tz | upper == 'UTC' -%}{{ column }}
    {%- else -%}cast(convert_timezone('UTC', '{{ tz }}', {{ column }}) as timestamp){%- endif -%}
{%- endmacro %}

{% macro duckdb__to_reporting_tz(column) -%}
    {%- set tz = var('reporting_timezone') -%}
    {%- if tz | upper == 'UTC' -%}{{ column }}
    {%- else -%}(({{ column }} at time zone 'UTC') at time zone '{{ tz }}'){%- endif -%}
{%- endmacro %}

{#- The reporting-timezone day of a naive UTC timestamp. -#}
{% macro to_reporting_date(column) -%}
    cast({{ to_reporting_tz(column) }} as date)
{%- endmacro %}
