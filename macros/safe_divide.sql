{#- A ratio that is NULL instead of an error or infinity when the denominator is 0 or NULL
    (MARTS.md: every ratio divides with a safe division). The result is a double. -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}
