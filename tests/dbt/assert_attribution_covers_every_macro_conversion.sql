-- Every macro conversion that happened in a known session is attributed under every model (attribution_models())
-- (fct_attributed_conversions), unless the order it carries is stamped after data_through (it waits for its day,
-- int_data_through). Returns the conversions and models that are missing; passes when empty.
with

conversions as (
    select * from {{ ref('fct_conversions') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

attributed as (
    select * from {{ ref('fct_attributed_conversions') }}
),

orders as (
    select * from {{ ref('int_orders_credited') }}
),

data_through as (
    select data_through from {{ ref('int_data_through') }}
),

models as (
    select distinct attribution_model.model
    from (
        values
        {% for model in attribution_models() %}('{{ model }}'){{ ', ' if not loop.last }}{% endfor %}
    ) as attribution_model (model)
),

expected as (
    select
        conversions.conversion_id,
        models.model
    from conversions
    inner join sessions
        on conversions.session_id = sessions.session_id
    left join orders
        on conversions.order_id = orders.order_id
    cross join models
    where
        conversions.goal_type = 'macro'
        and coalesce(orders.order_date, sessions.session_date) <= (select data_through from data_through)
),

final as (
    select
        expected.conversion_id,
        expected.model
    from expected
    where not exists (
        select 1
        from attributed
        where
            attributed.conversion_id = expected.conversion_id
            and attributed.model = expected.model
    )
)

select * from final
