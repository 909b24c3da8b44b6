{#- Engine-specific pieces of query shape; each has a portable default. -#}

{#- A CTE read by several branches that a reader's filter must still reach (DuckDB would otherwise compute it once
    for all rows and filter afterwards). Use as `name as {{ not_materialized() }} (...)`. -#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'northstar')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}{%- endmacro %}

{% macro duckdb__not_materialized() -%}not materialized{%- endmacro %}

{#- The value of `value` on the row with the smallest `order_by` of a group (an aggregate). -#}
{% macro first_by(value, order_by) -%}
    {{ return(adapter.dispatch('first_by', 'northstar')(value, order_by)) }}
{%- endmacro %}

{% macro default__first_by(value, order_by) -%}
    min_by({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro duckdb__first_by(value, order_by) -%}
    arg_min({{ value }}, {{ order_by }})
{%- endmacro %}

{#- The value of `value` on the row with the largest `order_by` of a group (an aggregate); NULL values are skipped. -#}
{% macro last_by(value, order_by) -%}
    {{ return(adapter.dispatch('last_by', 'northstar')(value, order_by)) }}
{%- endmacro %}

{% macro default__last_by(value, order_by) -%}
    max_by({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro duckdb__last_by(value, order_by) -%}
    arg_max({{ value }}, {{ order_by }})
{%- endmacro %}
