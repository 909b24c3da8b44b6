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

{#- expression's share of its exact_sum_over(window): shares that sum to 1 (credits, channel weights), NULL when the
    sum is 0. Capped at 1: the exact sum is rounded once more on its way back to a double, so a lone term over it
    can come out 1 + 2e-16. -#}
{% macro exact_share(expression, window='') -%}
    {#- a case, not least(ratio, 1.0): least() skips a NULL and would make a zero sum's share 1 -#}
    case
        when {{ exact_sum_over(expression, window) }} <> 0
            then least(cast({{ expression }} as double) / {{ exact_sum_over(expression, window) }}, 1.0)
    end
{%- endmacro %}
