{#- The attribution models of fct_attributed_conversions, in report order: six rules, then the two learned from the
    journeys. northstar/config.py ATTRIBUTION_MODELS and the accepted_values of the model columns list the same. -#}
{% macro attribution_models() -%}
    {{ return(['first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based', 'time_decay', 'markov', 'shapley']) }}
{%- endmacro %}
