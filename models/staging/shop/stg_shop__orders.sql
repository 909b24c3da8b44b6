-- One row per order: its latest loaded state (a refund arrives as a later row with status refunded).
with

source as (
    select * from {{ source('shop', 'orders') }}
),

latest as (
    select *
    from source
    qualify row_number() over (partition by order_id order by loaded_at desc, load_id desc, row_number desc) = 1
),

final as (
    select
        order_id,
        ordered_at as ordered_at_utc,
        nullif(trim(user_id), '') as user_id,
        lower(trim(status)) as status,
        revenue,
        cost_of_goods,
        upper(trim(currency)) as currency
    from latest
)

select * from final
