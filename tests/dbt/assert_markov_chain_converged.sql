-- int_attribution_markov walks the chain's probability mass var('attribution_markov_steps') steps; what is still
-- walking after them bounds the error of its probabilities. Returns the channels whose chain had not converged to
-- 1e-9 (raise attribution_markov_steps); passes when empty.
select
    channel,
    unabsorbed_probability
from {{ ref('int_attribution_markov') }}
where unabsorbed_probability > 1e-9
