{#- A ratio that is NULL instead of an error or infinity when the denominator is 0 or NULL
    (MARTS.md: every ratio divides with a safe division). The result is a double. -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}

{#- A sum of DOUBLE amounts that does not depend on row order or threads: each term is taken as a decimal with 18
    places (below a double's precision for amounts and credits), the decimals add exactly, the total comes back as a
    double. A plain sum of doubles differed in its last bits
    between two builds of the same data (78.6 vs 78.60000000000001). -#}
{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 18))) as double)
{%- endmacro %}

{#- The mean of DOUBLE values, order-independent like exact_sum(): an exact decimal sum divided once. -#}
{% macro exact_avg(expression) -%}
    cast(avg(cast({{ expression }} as decimal(38, 18))) as double)
{%- endmacro %}

{#- exact_sum() as a window function: exact_sum_over('x', 'partition by k') -#}
{% macro exact_sum_over(expression, window='') -%}
    cast(sum(cast({{ expression }} as decimal(38, 18))) over ({{ window }}) as double)
{%- endmacro %}
