{{
    config(
        materialized='incremental',
        unique_key='conversion_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=["{% if is_incremental() %}delete from {{ this }} where conversion_id not in
                    (select conversion_id from {{ ref('int_conversions_valued') }}){% endif %}"],
    )
}}
-- One row per goal conversion, with the visitor, channel and campaign of the session it happened in.
-- revenue: net revenue of the order (orders feed; completed - refunded), NULL when the conversion has no order.
-- value: revenue when the conversion carries an order, else the goal's value.
-- Incremental like fct_sessions: only new or changed rows are written.
with

conversions as (
    select * from {{ ref('int_conversions_valued') }}
),

sessions as (
    select * from {{ ref('int_sessions_classified') }}
),

final as (
    select
        conversions.conversion_id,
        conversions.goal_id,
        conversions.goal_type,
        conversions.is_lead,
        cast(conversions.weight as double) as weight,
        cast(
            case when conversions.order_id is not null then conversions.revenue else conversions.goal_value end
            as double
        ) as value,
        {{ to_reporting_tz('conversions.occurred_at_utc') }} as occurred_at,
        {{ to_reporting_date('conversions.occurred_at_utc') }} as conversion_date,
        conversions.session_id,
        sessions.visitor_id,
        sessions.channel,
        sessions.campaign_key,
        conversions.order_id,
        cast(conversions.revenue as double) as revenue,
        cast(conversions.gross_margin as double) as gross_margin,
        conversions.is_order
    from conversions
    inner join sessions
        on conversions.session_id = sessions.session_id
)

select * from final
{% if is_incremental() %}
    -- Only new or changed rows; delete+insert replaces the stored version.
    except
    select * from {{ this }}
{% endif %}
