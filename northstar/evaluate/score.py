"""Scoring alerts against planted incidents: recall, days to detection, the right reading, false alarms per 90 days.

Pure functions over alert rows (fct_kpi_alerts columns), so every rule here is unit-tested on hand-made rows.

- An incident is **found** when an adverse alert of its family at its scope fires within DETECT_DAYS of its start:
  days to detection = alert_date − start + 1 (1: the incident's first day raises it).
    business     kind business, scope all, a count KPI (sessions, orders, leads)
    channel      kind business, scope channel = the incident's channel, a count KPI
    funnel_step  kind business, scope all, conversion_rate or orders
    tracking     kind tracking (scope all)
- The **right reading**: a funnel-step incident needs a conversion_rate alert within DETECT_DAYS whose
  suspected_step names the broken step; a tracking incident needs no adverse business alert (any scope) from its
  start to EXPLAINED_AFTER days after its end, except those another (non-tracking) incident of the set explains.
  Other kinds have no reading to get wrong (None).
- **False alarms**: adverse alerts in control data sets (no incidents), and in incident data sets those no incident
  explains. An incident explains an alert dated from its start to EXPLAINED_AFTER days after its end (a 7-day
  window still holds an incident day then), at any scope, except that a channel incident explains only alerts at
  scope all and in its own channel. Whole-business scope: scope all (business and tracking alerts); per channel:
  scope channel, each channel of the data set. Alerts dated after the last day of data are counted apart
  (`after_last_day`): a partial day, not a day of the data set. Rates are per 90 tested days: the days from the
  first day any test ran to the last day of data, less the days incidents explain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

DETECT_DAYS = 3
EXPLAINED_AFTER = 6
MIN_WHOLE_EFFECT = 0.30  # the acceptance: incidents this large at the whole-business scope must be found
COUNT_KPIS = ("sessions", "orders", "leads")
FAMILIES: dict[str, tuple[str, tuple[str, ...] | None]] = {  # incident kind -> (alert kind, KPIs; None = any)
    "business": ("business", COUNT_KPIS),
    "channel": ("business", COUNT_KPIS),
    "funnel_step": ("business", ("conversion_rate", "orders")),
    "tracking": ("tracking", None),
}


@dataclass(frozen=True)
class Alert:
    """The columns of one fct_kpi_alerts row that scoring reads."""

    alert_date: date
    kpi: str
    scope: str = "all"
    scope_value: str = "all"
    kind: str = "business"
    is_adverse: bool = True
    suspected_step: str | None = None

    def label(self) -> str:
        where = "" if self.scope == "all" else f" in {self.scope_value}"
        step = f", suspects {self.suspected_step}" if self.suspected_step else ""
        return f"{self.alert_date:%m-%d} {self.kind} {self.kpi}{where}{step}"


@dataclass(frozen=True)
class Planted:
    """An incident as planted in one data set, in dates, with its effect at the whole-business scope."""

    kind: str
    scope: str  # 'all', a channel name, or for funnel_step the generator's step key
    start: date
    end: date
    size: float
    whole_effect: float  # the share of the whole business's sessions / orders / events it takes away
    step_name: str | None = None
    description: str = ""

    def window_end(self) -> date:
        return self.end + timedelta(days=EXPLAINED_AFTER)

    def at_scope(self, alert: Alert) -> bool:
        if self.kind == "channel":
            return alert.scope == "channel" and alert.scope_value == self.scope
        return alert.scope == "all"

    def in_family(self, alert: Alert) -> bool:
        kind, kpis = FAMILIES[self.kind]
        return alert.kind == kind and (kpis is None or alert.kpi in kpis) and self.at_scope(alert)

    def explains(self, alert: Alert) -> bool:
        if not self.start <= alert.alert_date <= self.window_end():
            return False
        if self.kind == "channel":
            return alert.scope == "all" or (alert.scope == "channel" and alert.scope_value == self.scope)
        return True


@dataclass(frozen=True)
class IncidentResult:
    incident: Planted
    seed: int
    days_to_detection: int | None  # first alert of the family up to EXPLAINED_AFTER days after the end
    right_reading: bool | None  # None: the kind has no reading to get wrong
    first_alert: str | None = None
    named_step: str | None = None  # funnel_step: the step the first conversion_rate alert suspects
    misreads: tuple[str, ...] = ()  # tracking: business alerts raised while tracking was lost

    @property
    def found(self) -> bool:
        return self.days_to_detection is not None and self.days_to_detection <= DETECT_DAYS

    @property
    def passed(self) -> bool:
        return self.found and self.right_reading is not False


def _days(a: date, b: date) -> int:
    return (b - a).days


def score_incident(
    incident: Planted, alerts: Iterable[Alert], seed: int = 0, others: Sequence[Planted] = ()
) -> IncidentResult:
    """Found? how fast? read right? `others`: the other incidents of the same data set (they may explain alerts)."""
    adverse = sorted((a for a in alerts if a.is_adverse), key=lambda a: (a.alert_date, a.kpi, a.scope_value))
    last_detect = incident.start + timedelta(days=DETECT_DAYS - 1)
    matching = [a for a in adverse if incident.in_family(a) and incident.start <= a.alert_date <= incident.window_end()]
    first = matching[0] if matching else None
    days = _days(incident.start, first.alert_date) + 1 if first else None
    reading: bool | None = None
    named_step = None
    misreads: tuple[str, ...] = ()
    if incident.kind == "funnel_step":
        rates = [a for a in matching if a.kpi == "conversion_rate"]
        named_step = rates[0].suspected_step if rates else None
        reading = any(a.suspected_step == incident.step_name for a in rates if a.alert_date <= last_detect)
    elif incident.kind == "tracking":
        misreads = tuple(
            a.label()
            for a in adverse
            if a.kind == "business"
            and incident.start <= a.alert_date <= incident.window_end()
            and not any(o.kind != "tracking" and o.explains(a) for o in others if o is not incident)
        )
        reading = not misreads
    return IncidentResult(
        incident=incident,
        seed=seed,
        days_to_detection=days,
        right_reading=reading,
        first_alert=first.label() if first else None,
        named_step=named_step,
        misreads=misreads,
    )


@dataclass(frozen=True)
class FalseAlarms:
    """Unexplained adverse alerts of one data set."""

    seed: int
    tested_days: int
    whole: tuple[Alert, ...]  # scope all
    by_channel: dict[str, tuple[Alert, ...]]  # every channel of the data set, those without alarms too
    after_last_day: tuple[Alert, ...] = ()

    def per_90(self, n: int) -> float:
        return 90.0 * n / self.tested_days if self.tested_days else 0.0

    @property
    def whole_per_90(self) -> float:
        return self.per_90(len(self.whole))

    def channel_per_90(self) -> dict[str, float]:
        return {ch: self.per_90(len(alerts)) for ch, alerts in self.by_channel.items()}


def false_alarms(
    alerts: Iterable[Alert],
    channels: Iterable[str],
    first_tested: date,
    last_day: date,
    incidents: Sequence[Planted] = (),
    seed: int = 0,
) -> FalseAlarms:
    """The adverse alerts no incident explains, between the first tested day and the last day of data."""
    whole: list[Alert] = []
    by_channel: dict[str, list[Alert]] = {ch: [] for ch in channels}
    after: list[Alert] = []
    for a in sorted(alerts, key=lambda a: (a.alert_date, a.scope, a.scope_value, a.kpi)):
        if not a.is_adverse or any(inc.explains(a) for inc in incidents):
            continue
        if a.alert_date > last_day:
            after.append(a)
        elif a.scope == "all":
            whole.append(a)
        else:
            by_channel.setdefault(a.scope_value, []).append(a)
    explained = {
        first_tested + timedelta(days=i)
        for inc in incidents
        for i in range(_days(first_tested, inc.start), _days(first_tested, inc.window_end()) + 1)
    }
    tested = sum(
        1 for i in range(_days(first_tested, last_day) + 1) if first_tested + timedelta(days=i) not in explained
    )
    return FalseAlarms(
        seed=seed,
        tested_days=tested,
        whole=tuple(whole),
        by_channel={ch: tuple(v) for ch, v in by_channel.items()},
        after_last_day=tuple(after),
    )


@dataclass(frozen=True)
class AlarmRates:
    """False alarms per 90 days averaged over data sets (each data set weighs the same)."""

    data_sets: int
    whole: float
    channel_mean: float  # over channels
    channel_worst: float
    worst_channel: str | None
    by_channel: dict[str, float] = field(default_factory=dict)
    after_last_day: float = 0.0  # per data set


def alarm_rates(sets: Sequence[FalseAlarms]) -> AlarmRates:
    if not sets:
        return AlarmRates(0, 0.0, 0.0, 0.0, None)
    n = len(sets)
    channels = sorted({ch for s in sets for ch in s.by_channel})
    by_channel = {ch: sum(s.channel_per_90().get(ch, 0.0) for s in sets) / n for ch in channels}
    worst = max(channels, key=lambda ch: (by_channel[ch], ch), default=None)
    return AlarmRates(
        data_sets=n,
        whole=sum(s.whole_per_90 for s in sets) / n,
        channel_mean=sum(by_channel.values()) / len(by_channel) if by_channel else 0.0,
        channel_worst=by_channel[worst] if worst else 0.0,
        worst_channel=worst,
        by_channel=by_channel,
        after_last_day=sum(len(s.after_last_day) for s in sets) / n,
    )


@dataclass(frozen=True)
class Verdict:
    """The acceptance of issue 11, criterion by criterion: (text, met)."""

    criteria: tuple[tuple[str, bool], ...]

    @property
    def met(self) -> bool:
        return all(ok for _, ok in self.criteria)


def verdict(
    results: Sequence[IncidentResult], control: AlarmRates, max_whole: float = 1.0, max_channel: float = 3.0
) -> Verdict:
    large = [r for r in results if r.incident.whole_effect >= MIN_WHOLE_EFFECT - 1e-9]
    passed = sum(r.passed for r in large)
    return Verdict(
        (
            (
                f"incidents of {100 * MIN_WHOLE_EFFECT:.0f} % or more at the whole-business scope found within "
                f"{DETECT_DAYS} days with the right reading: {passed} of {len(large)}",
                passed == len(large),
            ),
            (
                f"false alarms at the whole-business scope: {control.whole:.2f} per 90 days (at most {max_whole:g})",
                control.whole <= max_whole,
            ),
            (
                f"false alarms per channel: worst {control.channel_worst:.2f} per 90 days ({control.worst_channel}), "
                f"mean {control.channel_mean:.2f} (at most {max_channel:g})",
                control.channel_worst <= max_channel,
            ),
        )
    )
