"""The tables of `northstar evaluate-alerts`: printed with rich, and as markdown between markers in docs/alerts.md."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text

from northstar.evaluate.run import Evaluation
from northstar.evaluate.score import DETECT_DAYS, MIN_WHOLE_EFFECT, AlarmRates, IncidentResult

BEGIN = "<!-- evaluate-alerts:begin (written by `northstar evaluate-alerts`; edits inside are overwritten) -->"
END = "<!-- evaluate-alerts:end -->"
KIND_LABELS = {
    "business": "whole business",
    "channel": "one channel",
    "funnel_step": "one funnel step",
    "tracking": "tracking outage",
}

Rows = tuple[list[str], list[list[str]], set[int]]  # header, rows, right-aligned columns


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _rate(x: float) -> str:
    return f"{x:.2f}"


def _detection(results: Sequence[IncidentResult]) -> str:
    days = [r.days_to_detection for r in results if r.found and r.days_to_detection is not None]
    if not days:
        return "–"
    return f"{sum(days) / len(days):.1f} (max {max(days)})"


def _reading(results: Sequence[IncidentResult]) -> str:
    judged = [r for r in results if r.right_reading is not None]
    return f"{sum(bool(r.right_reading) for r in judged)} of {len(judged)}" if judged else "–"


def recall_rows(results: Sequence[IncidentResult]) -> Rows:
    header = [
        "incidents",
        "n",
        f"found within {DETECT_DAYS} days",
        "days to detection (mean of found)",
        "right reading",
        "found later",
        "not found",
    ]
    groups: list[tuple[str, list[IncidentResult]]] = [
        (label, [r for r in results if r.incident.kind == kind]) for kind, label in KIND_LABELS.items()
    ]
    groups.append(("all", list(results)))
    groups.append(
        (
            f"{_pct(MIN_WHOLE_EFFECT)} or more at the whole-business scope",
            [r for r in results if r.incident.whole_effect >= MIN_WHOLE_EFFECT - 1e-9],
        )
    )
    rows = []
    for label, group in groups:
        found = sum(r.found for r in group)
        later = sum(1 for r in group if not r.found and r.days_to_detection is not None)
        rows.append(
            [
                label,
                str(len(group)),
                f"{found} of {len(group)}",
                _detection(group),
                _reading(group),
                str(later),
                str(len(group) - found - later),
            ]
        )
    return header, rows, {1, 3, 5, 6}


def _reading_text(r: IncidentResult) -> str:
    inc = r.incident
    if inc.kind == "funnel_step":
        if r.right_reading:
            return f"names {inc.step_name}"
        return f"names {r.named_step}" if r.named_step else "no conversion-rate alert names a step"
    if inc.kind == "tracking":
        if r.right_reading:
            return "no business alert"
        more = f" (+{len(r.misreads) - 2} more)" if len(r.misreads) > 2 else ""
        return "business alerts: " + "; ".join(r.misreads[:2]) + more
    return ""


def incident_rows(results: Sequence[IncidentResult]) -> Rows:
    header = ["seed", "start", "incident", "whole-business effect", "detected", "first alert", "reading"]
    rows = []
    for r in sorted(results, key=lambda r: (r.seed, r.incident.start)):
        inc = r.incident
        if r.days_to_detection is None:
            detected = "not found"
        else:
            detected = f"day {r.days_to_detection}" + ("" if r.found else " (late)")
        rows.append(
            [
                str(r.seed),
                f"{inc.start:%m-%d %a}",
                inc.description,
                _pct(inc.whole_effect),
                detected,
                r.first_alert or "–",
                _reading_text(r),
            ]
        )
    return header, rows, {0, 3}


def alarm_rows(control: AlarmRates, incidents: AlarmRates) -> Rows:
    header = [
        "data sets",
        "n",
        "whole business",
        "per channel (mean)",
        "worst channel",
        "alerts after the last day (per set)",
    ]
    rows = []
    for label, rates in (("control (no incidents)", control), ("with incidents, outside them", incidents)):
        worst = f"{_rate(rates.channel_worst)} ({rates.worst_channel})" if rates.worst_channel else "–"
        rows.append(
            [
                label,
                str(rates.data_sets),
                _rate(rates.whole),
                _rate(rates.channel_mean),
                worst,
                f"{rates.after_last_day:.1f}",
            ]
        )
    return header, rows, {1, 2, 3, 5}


def channel_rows(control: AlarmRates, incidents: AlarmRates) -> Rows:
    channels = sorted(set(control.by_channel) | set(incidents.by_channel))
    rows = [[ch, _rate(control.by_channel.get(ch, 0.0)), _rate(incidents.by_channel.get(ch, 0.0))] for ch in channels]
    return ["channel", "control", "with incidents, outside them"], rows, {1, 2}


def alarm_list(evaluation: Evaluation, kind: str = "control") -> list[str]:
    """What fires in the control sets: every whole-business alarm, channel alarms counted by channel and KPI."""
    lines = []
    channel: dict[str, Counter[str]] = defaultdict(Counter)
    after: Counter[str] = Counter()
    for ds in evaluation.data_sets:
        if ds.kind != kind or ds.alarms is None:
            continue
        lines += [f"whole business, seed {ds.seed}: {a.label()}" for a in ds.alarms.whole]
        for ch, alerts in ds.alarms.by_channel.items():
            channel[ch].update(a.kpi for a in alerts)
        after.update(f"{a.kpi} ({a.scope_value})" for a in ds.alarms.after_last_day)
    for ch in sorted(channel, key=lambda c: (-sum(channel[c].values()), c)):
        if channel[ch]:
            kpis = ", ".join(f"{k} {n}" for k, n in channel[ch].most_common())
            lines.append(f"{ch}: {sum(channel[ch].values())} ({kpis})")
    if after:
        lines.append("after the last day of data: " + ", ".join(f"{k} ×{n}" for k, n in after.most_common()))
    return lines


def _title(evaluation: Evaluation) -> str:
    return (
        f"{evaluation.seeds} seed(s), each a control data set and one with incidents: {evaluation.days} days, "
        f"{evaluation.visitors:,} visitors ({evaluation.seconds / 60:.0f} min)"
    )


def _table(title: str, rows: Rows) -> Table:
    header, body, right = rows
    table = Table(title=title, title_justify="left")
    for i, h in enumerate(header):
        table.add_column(h, justify="right" if i in right else "left")
    for row in body:
        table.add_row(*row)
    return table


def render(evaluation: Evaluation) -> Group:
    control, incidents = evaluation.rates("control"), evaluation.rates("incidents")
    parts: list[object] = [Text(_title(evaluation), style="bold")]
    parts.append(_table("Recall", recall_rows(evaluation.results)))
    parts.append(_table("Incidents", incident_rows(evaluation.results)))
    parts.append(_table("False alarms (adverse alerts) per 90 days", alarm_rows(control, incidents)))
    parts.append(_table("False alarms per 90 days, by channel", channel_rows(control, incidents)))
    listed = alarm_list(evaluation)
    if listed:
        parts.append(Text("What fires in the control data sets:\n  " + "\n  ".join(listed)))
    for text, ok in evaluation.verdict().criteria:
        parts.append(Text.assemble(("met    " if ok else "NOT MET ", "green" if ok else "bold red"), text))
    for err in evaluation.errors:
        parts.append(Text(err, style="red"))
    return Group(*parts)


def markdown_table(rows: Rows) -> str:
    header, body, right = rows

    def esc(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |"]
    lines.append("| " + " | ".join("---:" if i in right else "---" for i in range(len(header))) + " |")
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def markdown_section(evaluation: Evaluation, measured_on: date | None = None) -> str:
    control, incidents = evaluation.rates("control"), evaluation.rates("incidents")
    when = f", measured {measured_on.isoformat()}" if measured_on else ""
    when += f" at commit {evaluation.revision[:7]}" if evaluation.revision != "unknown" else ""
    parts = [
        f"`northstar evaluate-alerts --seeds {evaluation.seeds}`: {_title(evaluation)}{when}.",
        "**Recall**\n\n" + markdown_table(recall_rows(evaluation.results)),
        "**Incidents**\n\n" + markdown_table(incident_rows(evaluation.results)),
        "**False alarms** (adverse alerts) **per 90 tested days**\n\n"
        + markdown_table(alarm_rows(control, incidents))
        + "\n\n"
        + markdown_table(channel_rows(control, incidents)),
    ]
    listed = alarm_list(evaluation)
    if listed:
        parts.append("What fires in the control data sets:\n\n" + "\n".join(f"- {line}" for line in listed))
    parts.append(
        "**Acceptance** (issue 11)\n\n"
        + "\n".join(f"- {'met' if ok else '**not met**'}: {text}" for text, ok in evaluation.verdict().criteria)
    )
    return "\n\n".join(parts)


def replace_between_markers(document: str, section: str) -> str:
    """document with the text between BEGIN and END replaced by section; both markers appended when missing."""
    block = f"{BEGIN}\n\n{section.strip()}\n\n{END}"
    if BEGIN in document and END in document and document.index(BEGIN) < document.index(END):
        head, rest = document.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        return head + block + tail
    return document.rstrip("\n") + ("\n\n" if document.strip() else "") + block + "\n"


def write_docs(path: Path, evaluation: Evaluation, measured_on: date | None = None) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_between_markers(old, markdown_section(evaluation, measured_on)), encoding="utf-8")
