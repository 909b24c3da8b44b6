{#- Cross-database pieces only the alert models use (int_kpi_alert_*, fct_kpi_alerts; the shared ones are in
    macros/cross_db.sql). Each default__ body is the DuckDB SQL those models had before the Spark port, so DuckDB
    runs exactly what it ran; the spark__ bodies give DuckDB's results (tests/integration/test_spark_alert_sql.py
    runs them on edge cases against DuckDB). -#}

{#- The median of a list of SQL expressions (NULLs ignored; NULL when all are), and how many are not NULL. -#}
{% macro alert_list_median(items) -%}
    {{ return(adapter.dispatch('alert_list_median', 'northstar')(items)) }}
{%- endmacro %}

{% macro default__alert_list_median(items) -%}
    list_median([{{ items | join(', ') }}])
{%- endmacro %}

{% macro spark__alert_list_median(items) -%}
    {{ spark__alert_sorted_array_median('array_sort(filter(array(' ~ items | join(', ') ~ '), x -> x is not null))') }}
{%- endmacro %}

{% macro alert_list_count(items) -%}
    {{ return(adapter.dispatch('alert_list_count', 'northstar')(items)) }}
{%- endmacro %}

{% macro default__alert_list_count(items) -%}
    list_count([{{ items | join(', ') }}])
{%- endmacro %}

{% macro spark__alert_list_count(items) -%}
    size(filter(array({{ items | join(', ') }}), x -> x is not null))
{%- endmacro %}

{#- median(expression) over a named window with a frame; Spark's median takes no frame, so the frame's values are
    collected and the middle taken. -#}
{% macro alert_window_median(expression, window) -%}
    {{ return(adapter.dispatch('alert_window_median', 'northstar')(expression, window)) }}
{%- endmacro %}

{% macro default__alert_window_median(expression, window) -%}
    median({{ expression }}) over {{ window }}
{%- endmacro %}

{% macro spark__alert_window_median(expression, window) -%}
    {{ spark__alert_sorted_array_median('array_sort(collect_list(' ~ expression ~ ') over ' ~ window ~ ')') }}
{%- endmacro %}

{#- The median of a sorted array without NULLs as DuckDB computes it: the middle element, or the mean of the two
    middle ones ((lo + hi) / 2, bit for bit DuckDB's); NULL when empty. -#}
{% macro spark__alert_sorted_array_median(sorted) -%}
    case
        when size({{ sorted }}) = 0 then null
        when size({{ sorted }}) % 2 = 1 then element_at({{ sorted }}, cast((size({{ sorted }}) + 1) div 2 as int))
        else (
            element_at({{ sorted }}, cast(size({{ sorted }}) div 2 as int))
            + element_at({{ sorted }}, cast(size({{ sorted }}) div 2 + 1 as int))
        ) / 2
    end
{%- endmacro %}

{#- An expression as a double on Spark, where integer columns times decimal literals (the 1.0 of the statistics
    macros) become decimals that lose digits past 38; DuckDB computes those in double already. -#}
{% macro alert_as_double(expression) -%}
    {{ return(adapter.dispatch('alert_as_double', 'northstar')(expression)) }}
{%- endmacro %}

{% macro default__alert_as_double(expression) -%}{{ expression }}{%- endmacro %}

{% macro spark__alert_as_double(expression) -%}cast({{ expression }} as double){%- endmacro %}

{#- printf(format, args...) with C's formatting, for the message texts: %.<n>f, %.<n>g, %d, %s and %%. Spark's
    printf is Java's (2.5 -> "3", 0.15 -> "0.2", %g keeps trailing zeros, a NULL prints "null"); format_number
    rounds the exact binary value half to even like C, so Spark builds each conversion from it. NULL when an
    argument is NULL, as DuckDB's printf. -#}
{% macro alert_printf(format, args) -%}
    {{ return(adapter.dispatch('alert_printf', 'northstar')(format, args)) }}
{%- endmacro %}

{% macro default__alert_printf(format, args) -%}
    printf('{{ format }}', {{ args | join(', ') }})
{%- endmacro %}

{% macro spark__alert_printf(format, args) -%}
    {%- set tokens = modules.re.findall('%%|%\\.[0-9]+[fg]|%d|%s|[^%]+', format) -%}
    {%- if tokens | join('') != format -%}
        {{ exceptions.raise_compiler_error('alert_printf: unsupported conversion in ' ~ format) }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- set next = namespace(arg=0) -%}
    {%- for token in tokens -%}
        {%- if token == '%%' -%}
            {%- do parts.append("'%'") -%}
        {%- elif token.startswith('%') -%}
            {%- set arg = args[next.arg] -%}
            {%- set next.arg = next.arg + 1 -%}
            {%- if token == '%d' -%}
                {%- do parts.append('cast(cast(' ~ arg ~ ' as bigint) as string)') -%}
            {%- elif token == '%s' -%}
                {%- do parts.append('cast(' ~ arg ~ ' as string)') -%}
            {%- elif token.endswith('f') -%}
                {%- do parts.append(spark__alert_fixed('cast(' ~ arg ~ ' as double)', token[2:-1] | int)) -%}
            {%- else -%}
                {%- do parts.append(spark__alert_general('cast(' ~ arg ~ ' as double)', token[2:-1] | int)) -%}
            {%- endif -%}
        {%- elif "'" in token -%}
            {{ exceptions.raise_compiler_error('alert_printf: no apostrophe in the format (' ~ format ~ ')') }}
        {%- else -%}
            {#- backslashes stay as they are: the profile sets spark.sql.parser.escapedStringLiterals -#}
            {%- do parts.append("'" ~ token ~ "'") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if next.arg != args | length -%}
        {{ exceptions.raise_compiler_error('alert_printf: ' ~ args | length ~ ' arguments for ' ~ format) }}
    {%- endif -%}
    concat({{ parts | join(', ') }})
{%- endmacro %}

{#- C's %.<decimals>f: format_number without its thousands separators. -#}
{% macro spark__alert_fixed(value, decimals) -%}
    replace(format_number({{ value }}, {{ decimals }}), ',', '')
{%- endmacro %}

{#- C's %.<p>g. x, the exponent of the value rounded to p significant digits, comes from Java's scientific format
    (so a carry like 0.00996 -> 0.01 counts); -4 <= x < p: %f with p - 1 - x decimals, else %e ("1.3e-05") with
    Java's scientific digits; trailing zeros dropped. Exact for |value| < 10^p (the messages format q-values, at
    most 1): from there up an exact tie such as 125 at %.2g rounds up in Java's scientific form, to even in C. -#}
{% macro spark__alert_general(value, precision) -%}
    {%- set pattern = '0' ~ ('.' ~ '#' * (precision - 1) if precision > 1 else '') ~ 'E00' -%}
    {%- set scientific = "format_number(" ~ value ~ ", '" ~ pattern ~ "')" -%}
    {%- set exponent = "cast(split_part(" ~ scientific ~ ", 'E', 2) as int)" -%}
    {%- set fixed = spark__alert_fixed(value, precision ~ ' - 1 - ' ~ exponent) -%}
    case
        when {{ exponent }} >= -4 and {{ exponent }} < {{ precision - 1 }} then regexp_replace({{ fixed }}, '[.]?0+$', '')
        when {{ exponent }} = {{ precision - 1 }} then {{ fixed }}
        else split_part({{ scientific }}, 'E', 1) || 'e' || case when {{ exponent }} < 0 then '-' else '+' end
            || case when abs({{ exponent }}) < 10 then '0' else '' end || cast(abs({{ exponent }}) as string)
    end
{%- endmacro %}

{#- `select * exclude (a, b)`: Spark spells it except. -#}
{% macro alert_star_exclude(columns) -%}
    {{ return(adapter.dispatch('alert_star_exclude', 'northstar')(columns)) }}
{%- endmacro %}

{% macro default__alert_star_exclude(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__alert_star_exclude(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}

{#- `union all by name`. Spark SQL has no BY NAME: there it is a positional union all, so use it only where both
    sides have the same columns in the same order (DuckDB then gives the same result). -#}
{% macro alert_union_all_by_name() -%}
    {{ return(adapter.dispatch('alert_union_all_by_name', 'northstar')()) }}
{%- endmacro %}

{% macro default__alert_union_all_by_name() -%}union all by name{%- endmacro %}

{% macro spark__alert_union_all_by_name() -%}union all{%- endmacro %}
