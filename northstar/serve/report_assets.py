"""The report's page: Jinja2 templates, stylesheet and script, all package files under serve/templates/.

Autoescape is on for every template, so any value a template inserts (campaign and channel names, alert
messages, anything that came from data) is text, never markup. Only two things reach the page unescaped, both
written by the project and never by data:
- the stylesheet and script (templates/report.css, report.js, errors.js), inlined by `inline_asset` so the
  page stays one self-contained file; each is checked not to contain the tag that would end its element;
- the embedded data, through Jinja's own `tojson` filter, which escapes <, >, & and ' inside the JSON.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

TEMPLATES_PACKAGE = ("northstar.serve", "templates")
PAGE_TEMPLATE = "report.html.j2"
# What each inlined asset goes into, and the text that would close that element early.
ASSET_CLOSERS = {".css": "</style", ".js": "</script"}


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def environment() -> Environment:
    """The report's Jinja2 environment: package templates, autoescape on, undefined names an error."""
    env = Environment(
        loader=PackageLoader(*TEMPLATES_PACKAGE),
        # every template escapes, whatever its name (default=True); .html.j2 named explicitly for readers
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # `tojson` (the embedded data) keeps the page small and turns dates into ISO strings.
    env.policies["json.dumps_function"] = json.dumps
    # NaN is no JSON: the report turns it into None before (report.json_safe); fail loudly if one slips through
    env.policies["json.dumps_kwargs"] = {"separators": (",", ":"), "default": _json_default, "allow_nan": False}
    env.globals["inline_asset"] = lambda name: inline_asset(env, name)
    return env


def inline_asset(env: Environment, name: str) -> Markup:
    """A stylesheet or script of the package, as is, for a <style> or <script> element of the page."""
    source, _, _ = env.loader.get_source(env, name)
    closer = ASSET_CLOSERS[name[name.rindex(".") :]]
    if closer in source.lower():
        raise ValueError(f"{name} contains {closer}, which would end its element early")
    # the project's own file, not data: safe to put in the page as is (see the module docstring)
    return Markup(source)


# ---------------------------------------------------------------------------------------------- texts

# KPI definitions shown in the report (MARTS.md, "Definitions").
KPI_DEFINITIONS: dict[str, str] = {
    "sessions": "A visitor's events with no gap longer than the session timeout (default 30 min); a session "
    "belongs to the day it starts and takes the traffic source of its first event.",
    "visitors": "One person: the user_id an anonymous id was last seen with, else the anonymous id "
    "(sessions before a login belong to the same visitor).",
    "engagement_rate": "Engaged sessions / sessions. A session is engaged when it lasts ≥ 10 s, has ≥ 2 page "
    "views or has any conversion. Bounce rate = 1 − engagement rate.",
    "conversion_rate": "Sessions with at least one macro conversion / sessions.",
    "micro_conversion_rate": "Sessions with at least one micro conversion / sessions.",
    "goal_score": "Weighted goal score: Σ weight × conversions over the goals of conversion_goals.",
    "leads": "Conversions of a goal marked is_lead, and CRM lead rows.",
    "orders": "Completed orders from the orders feed, on the order's own day, whether or not a tracked session "
    "carries them (events' purchases only when there is no orders feed).",
    "revenue": "Completed − refunded order revenue from the orders feed, in the reporting currency. In the "
    "scorecard and campaign table it is attributed with the configured model; in daily KPIs it counts in the "
    "channel of the session that carries the order, else the customer's last session within the lookback, "
    "else the channel (untracked).",
    "gross_margin": "Revenue − cost of goods (when known). The default north star is attributed gross margin: "
    "money actually earned, credited to the touchpoints that earned it.",
    "aov": "Average order value: revenue / orders.",
    "spend": "Ad spend in the reporting currency (restated rows replace earlier ones); joins to sessions by "
    "date, utm_source, utm_medium and utm_campaign.",
    "impressions": "Ad impressions reported by the platforms.",
    "clicks": "Ad clicks reported by the platforms.",
    "ctr": "Click-through rate: clicks / impressions.",
    "cpc": "Cost per click: spend / clicks.",
    "cpm": "Cost per thousand impressions: 1000 × spend / impressions.",
    "cpa": "Cost per acquisition: spend / macro conversions. Target CPA comes from kpi_targets; break-even "
    "CPA = AOV × margin rate, the most one acquisition may cost and still make a profit.",
    "cpl": "Cost per lead: spend / leads.",
    "cac": "Customer acquisition cost: spend / new customers.",
    "roas": "Return on ad spend: attributed revenue / spend.",
    "roi": "(Attributed gross margin − spend) / spend.",
    "prr": "Project rate of return: the ROI of a campaign over its whole flight.",
    "clv": "Customer lifetime value. Historical: a customer's gross margin to date. Predicted: AOV × purchase "
    "frequency × margin rate × expected lifetime (default 3 years).",
    "close_rate": "Leads that reach won / leads.",
}

OTHER_DEFINITIONS: list[tuple[str, str]] = [
    (
        "Conversions",
        "An event (or session) that matches a goal of conversion_goals, counted per the goal's counting rule. "
        "Macro goals are the outcomes the business is paid for (purchase, demo request, contact form …); micro "
        'goals are steps towards them. "Conversions" in the tables are macro conversions; attributed '
        "conversions are the same conversions credited to touchpoints by an attribution model (fractions of "
        "one conversion add up to whole conversions).",
    ),
    (
        "Attribution models",
        "For each macro conversion the touchpoints are the visitor's sessions that start within the lookback "
        "window (default 30 days) before it, up to and including the converting session. first_touch and "
        "last_touch give all credit to the first / last session; last_non_direct to the last session whose "
        "channel is not Direct (else Direct); linear 1/n each; position_based 40 % first, 40 % last, 20 % split "
        "over the middle (n = 2: 50/50); time_decay weights 2^(−Δt / 7 days), normalised. Two models are learned "
        "from the journeys of the training window (default the last 90 days, converting and not): markov weighs a "
        "channel by its removal effect, the share of conversions a first-order Markov chain over the channel paths "
        "loses without it; shapley by its Shapley value, its average contribution to the conversion rate of the "
        "channel combinations (a channel that lowers it gets 0). Each gives a path's channels their weights' "
        "shares. Credits of a conversion sum to 1 in every model.",
    ),
    (
        "Recommendation",
        "Per campaign and month, from attributed CPA against target and break-even CPA: scale (cheaper than "
        "target, room to grow), keep, fix (above target or break-even), cut (far above break-even), or not "
        "enough data (too few attributed conversions for a verdict). The reason says which rule applied.",
    ),
    (
        "Alert",
        "Fires only on a change that is both large (default ≥ 20 %) and statistically significant "
        "(two-proportion z-test for rates, Poisson test for counts, false discoveries controlled per day): the "
        "last 1, 3 and 7 days against the same weekdays of the 4 weeks before. Declines and rises are kept "
        "apart; declines of the whole business lead the list. "
        "Conversion-rate alerts name the funnel step whose conversion fell most.",
    ),
    (
        "Tracking health",
        "How much of the business tracking sees: sessions (and events) per order in the orders feed, the share "
        "of feed orders no tracked session carries (channel (untracked)) and the match rate. When tracking "
        "falls while the feed holds, the alert is of kind tracking, not a decline of the business.",
    ),
    (
        "Reconciliation",
        "Per day: orders and net revenue in the orders feed (the truth), the orders a tracked purchase matches "
        "(match rate = matched / feed orders), tracked purchases with no order in the feed; per ad platform, "
        "the conversions and value the platform claims against the conversions northstar attributes to it. "
        "Platforms each count every conversion they touched, so their claims add up to more than the orders.",
    ),
    (
        "Closed and open funnel",
        "Closed: sessions that reached every earlier stage first, in order, within the session. Open: sessions "
        "that have the stage at all (robust to events recorded out of order). Step conversion = sessions at a "
        "stage / sessions at the stage before; drop-off = 1 − step conversion.",
    ),
    (
        "Where a conversion counts",
        "In daily and channel KPIs a conversion counts on the day, channel and campaign of the session in "
        "which it happens (last touch); an order and its revenue count on the order's day in the feed. "
        "Multi-touch numbers (attributed conversions, attributed revenue, the scorecard's money KPIs) use the "
        "configured attribution model.",
    ),
]
