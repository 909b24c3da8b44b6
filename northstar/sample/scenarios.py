"""Incident scenarios: what `northstar evaluate-alerts` plants in generated data instead of the demo's incidents.

An incident is (kind, start day, duration, size, scope):
  - business     the whole business loses `size` of its sessions (and with them their orders and leads): demand
                 that did not come, a site that was down. The feed falls too.
  - channel      one channel (scope: a channel name of seeds/channel_rules.csv) loses `size` of its sessions.
  - funnel_step  one funnel step (scope: add_to_cart | checkout | purchase, the stage reached) lets `size` fewer
                 of the sessions that reach it through: a broken button, a failing payment form.
  - tracking     `size` of the day's events never arrive (ad blockers, a broken tag); the orders feed is intact.
A scenario replaces all of the demo's fixed incidents (checkout breakage, campaign overspend, tracking outage):
without incidents it is a control data set, a business with its ordinary weekly and campaign rhythm only.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

KINDS = ("business", "channel", "funnel_step", "tracking")
# The generator's gates (the stage a session reaches) and the funnel step int_kpi_alert_suspected_steps names.
STEPS = {
    "add_to_cart": "product_view → add_to_cart",
    "checkout": "add_to_cart → checkout",
    "purchase": "checkout → purchase",
}
# The generator's traffic sources (northstar/sample/catalog.py) by the channel the channel rules give them.
CHANNEL_SOURCES: dict[str, tuple[str, ...]] = {
    "Paid Search": ("google_brand", "google_shop", "google_b2b", "bing_shop"),
    "Paid Social": ("fb_prospecting", "ig_retargeting", "linkedin_abm", "tiktok_awareness", "tiktok_push"),
    "Display": ("google_display",),
    "Offline": ("tv", "radio", "print"),
    "Email": ("email",),
    "Affiliates": ("affiliate_coupons", "affiliate_review"),
    "Organic Search": ("organic_search",),
    "Organic Social": ("organic_social",),
    "Referral": ("referral",),
    "Direct": ("direct",),
}
NEVER = 10**9  # a day index no window reaches: the demo's overspend push never starts

# What draw_scenario picks from. Sizes below 30 % are there to show where detection fades, not to be found.
SIZES = {
    "business": (0.2, 0.3, 0.5),
    "channel": (0.5, 0.8, 1.0),
    "funnel_step": (0.2, 0.3, 0.5, 0.7),
    "tracking": (0.5, 0.9, 0.97),
}
DURATIONS = {"business": (1, 3, 7), "channel": (3, 7, 10), "funnel_step": (3, 7), "tracking": (1, 2)}
# The larger channels: an incident in a channel of 20 sessions a day is below what any test can see.
DRAWN_CHANNELS = ("Paid Search", "Paid Social", "Direct", "Organic Search", "Email")
FIRST_INCIDENT_DAY = 35  # four baseline weeks and the 7-day window before the first incident


@dataclass(frozen=True)
class Incident:
    kind: str
    start: int  # day index in the window, 0 = the first day
    days: int
    size: float  # the share lost: of sessions, of sessions through the step, of events
    scope: str = "all"  # a channel name (channel), a STEPS key (funnel_step), else 'all'

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"incident kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.days < 1 or self.start < 0 or not 0 < self.size <= 1:
            raise ValueError(f"incident {self}: needs start >= 0, days >= 1 and 0 < size <= 1")
        if self.kind == "channel" and self.scope not in CHANNEL_SOURCES:
            raise ValueError(f"channel incident: {self.scope!r} is not one of {', '.join(CHANNEL_SOURCES)}")
        if self.kind == "funnel_step" and self.scope not in STEPS:
            raise ValueError(f"funnel_step incident: {self.scope!r} is not one of {', '.join(STEPS)}")
        if self.kind in ("business", "tracking") and self.scope != "all":
            raise ValueError(f"{self.kind} incident: scope is 'all', not {self.scope!r}")

    @property
    def end(self) -> int:
        return self.start + self.days - 1

    @property
    def step_name(self) -> str | None:
        """The funnel step an alert should suspect, as int_kpi_alert_suspected_steps names it."""
        return STEPS[self.scope] if self.kind == "funnel_step" else None

    def describe(self) -> str:
        """e.g. 'channel Paid Search −50 %, 7 days'."""
        what = {"business": "whole business", "tracking": "tracking"}.get(self.kind)
        if what is None:
            what = f"channel {self.scope}" if self.kind == "channel" else f"step {self.step_name}"
        lost = " of events lost" if self.kind == "tracking" else ""
        return f"{what} −{self.size * 100:.0f} %{lost}, {self.days} day{'s' if self.days > 1 else ''}"

    def as_dict(self, start: date) -> dict[str, object]:
        first = start + timedelta(days=self.start)
        return {
            "kind": self.kind,
            "scope": self.scope,
            "start": first.isoformat(),
            "end": (first + timedelta(days=self.days - 1)).isoformat(),
            "days": self.days,
            "size": self.size,
            "funnel_step": self.step_name,
            "description": self.describe(),
        }


@dataclass(frozen=True)
class DayEffects:
    """What the incidents of one day do to the generator (multipliers; 1.0 = untouched)."""

    sessions_kept: float = 1.0
    source_kept: Mapping[str, float] = field(default_factory=dict)  # traffic source key -> share kept
    step_keep: Mapping[str, float] = field(default_factory=dict)  # STEPS key -> pass-through multiplier
    events_kept: float = 1.0

    def keeps_session(self, rng: random.Random, source_key: str) -> bool:
        keep = self.sessions_kept * self.source_kept.get(source_key, 1.0)
        return keep >= 1.0 or rng.random() < keep


@dataclass(frozen=True)
class Scenario:
    incidents: tuple[Incident, ...] = ()

    @property
    def plan(self):  # -> generate.Plan with none of the demo's incidents
        from northstar.sample.generate import Plan

        return Plan(breakage_start=-1, breakage_end=-2, overspend_start=NEVER, outage_day=-1)

    def effects(self, di: int) -> DayEffects | None:
        """The day's effects, None on a day without an incident (the generator then runs as usual)."""
        active = [i for i in self.incidents if i.start <= di <= i.end]
        if not active:
            return None
        sessions, events = 1.0, 1.0
        sources: dict[str, float] = {}
        steps: dict[str, float] = {}
        for inc in active:
            kept = 1.0 - inc.size
            if inc.kind == "business":
                sessions *= kept
            elif inc.kind == "channel":
                for key in CHANNEL_SOURCES[inc.scope]:
                    sources[key] = sources.get(key, 1.0) * kept
            elif inc.kind == "funnel_step":
                steps[inc.scope] = steps.get(inc.scope, 1.0) * kept
            else:
                events *= kept
        return DayEffects(sessions_kept=sessions, source_kept=sources, step_keep=steps, events_kept=events)

    def manifest(self, start: date) -> dict[str, object]:
        """incidents.json's incident part for a scenario run."""
        return {"scenario": [inc.as_dict(start) for inc in self.incidents]}


def draw_scenario(seed: int, days: int, n: int | None = None) -> Scenario:
    """Up to one incident of each kind (random order, day, size, duration, channel, step), deterministic per seed.

    The window after FIRST_INCIDENT_DAY is cut into n equal slots, one incident each, so the incidents do not
    overlap; each starts 0-3 days into its slot and ends at least 3 days before the next slot (or the window's
    end) so its first three days of detection are inside the window. Fewer slots when the window is short.
    """
    rng = random.Random(f"northstar-scenario:{seed}")
    room = days - FIRST_INCIDENT_DAY
    n = min(len(KINDS), room // 10) if n is None else n
    if n <= 0:
        return Scenario()
    kinds = list(KINDS)
    rng.shuffle(kinds)
    slot = room // n
    incidents = []
    for k, kind in enumerate(kinds[:n]):
        start = FIRST_INCIDENT_DAY + k * slot + rng.randint(0, min(3, slot - 4))
        longest = FIRST_INCIDENT_DAY + (k + 1) * slot - 3 - start
        duration = min(rng.choice(DURATIONS[kind]), max(1, longest))
        scope = "all"
        if kind == "channel":
            scope = rng.choice(DRAWN_CHANNELS)
        elif kind == "funnel_step":
            scope = rng.choice(tuple(STEPS))
        incidents.append(Incident(kind, start, duration, rng.choice(SIZES[kind]), scope))
    return Scenario(tuple(sorted(incidents, key=lambda i: i.start)))
