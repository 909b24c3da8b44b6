{#- True when value contains a match of the (case-sensitive) regular expression; callers lower() both sides. -#}
{% macro regex_matches(value, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'northstar')(value, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(value, pattern) -%}
    regexp_like({{ value }}, {{ pattern }})
{%- endmacro %}

{% macro duckdb__regex_matches(value, pattern) -%}
    regexp_matches({{ value }}, {{ pattern }})
{%- endmacro %}
