-- The goal catalogue (seeds/conversion_goals) with the funnel stage(s) each goal corresponds to: a stage with the
-- same match condition, named <funnel_id>:<stage_name> (several joined with ', ').
with

goals as (
    select * from {{ ref('conversion_goals') }}
),

stages as (
    select * from {{ ref('funnel_stages') }}
),

goal_stages as (
    select
        goals.goal_id,
        {{ dbt.listagg("stages.funnel_id || ':' || stages.stage_name", "', '",
                       "order by stages.funnel_id, stages.stage_order") }} as funnel_stage
    from goals
    inner join stages
        on
            goals.match_type = stages.match_type
            and goals.match_value = stages.match_value
    group by goals.goal_id
),

final as (
    select
        goals.goal_id,
        goals.goal_name,
        goals.goal_type,
        goals.is_lead,
        cast(goals.weight as double) as weight,
        cast(goals.value as double) as value,
        goals.counting,
        goals.match_type,
        goals.match_value,
        goal_stages.funnel_stage
    from goals
    left join goal_stages
        on goals.goal_id = goal_stages.goal_id
)

select * from final
