-- One row per lead stage change.
with

source as (
    select * from {{ source('crm', 'leads') }}
),

final as (
    select
        {{ dbt.hash("concat_ws('|', lead_id, cast(changed_at as string), stage)") }} as lead_change_id,
        lead_id,
        changed_at as changed_at_utc,
        nullif(trim(user_id), '') as user_id,
        lower(trim(stage)) as stage,
        deal_value,
        upper(nullif(trim(currency), '')) as currency
    from source
    qualify row_number() over (
        partition by lead_id, changed_at, lower(trim(stage)) order by loaded_at desc, load_id desc, row_number desc
    ) = 1
)

select * from final
