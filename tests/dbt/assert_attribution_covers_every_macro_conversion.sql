-- Every macro conversion that happened in a known session is attributed under all six models
-- (fct_attributed_conversions). Returns the conversions and models that are missing; passes when empty.
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

models as (
    select distinct attribution_model.model
    from (
        values
        ('first_touch'), ('last_touch'), ('last_non_direct'), ('linear'), ('position_based'), ('time_decay')
    ) as attribution_model (model)
),

expected as (
    select
        conversions.conversion_id,
        models.model
    from conversions
    inner join sessions
        on conversions.session_id = sessions.session_id
    cross join models
    where conversions.goal_type = 'macro'
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
