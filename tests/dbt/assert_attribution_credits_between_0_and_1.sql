-- Every credit of fct_attributed_conversions is in (0, 1] (GX's marts_fct_attributed_conversions suite checks the
-- same on the day's batch, after the build). Returns the offending rows; passes when empty.
select
    conversion_id,
    model,
    session_id,
    credit
from {{ ref('fct_attributed_conversions') }}
where credit <= 0 or credit > 1
