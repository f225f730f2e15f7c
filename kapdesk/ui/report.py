"""A session's report, as a PDF or on paper (issue 12).

Page one: who, what and when, the session at a glance, and the blood-pressure chart,
drawn straight onto the page as vector lines and shapes (pyqtgraph's SVG exporter is
broken with this Qt, pyqtgraph#3485; a raster would have to be lossless). Then the
details, paginated: doses, vital signs, alerts and what became of them, the discharge
decision, and the whole log in time order with every correction and its reason. Each
page's footer names the record and the digest of the session's newest audit event, so a
printed copy can be checked against the record (``kapdesk verify``).

Qt's QTextDocument and QPdfWriter (PySide6-Essentials): no new dependency. Nothing is
written but the file the clinician chose.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import html
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from kapdesk import __version__
from kapdesk.clinical.elapsed import format_elapsed, format_t_plus
from kapdesk.clinical.entries import ROUTE_LABELS
from kapdesk.session.alerting import StoredAlert
from kapdesk.session.entries import StoredDose, StoredVitals
from kapdesk.session.rems_form import FormField, rems_csv, rems_form
from kapdesk.session.service import SessionService
from kapdesk.session.wording import LogEntry, correctors, survey_form

INK = QColor("#111111")
GREY = QColor("#666666")
CAUTION = QColor("#9a6a00")
URGENT = QColor("#b3261e")
HEART = QColor("#1f5fa8")
DOSE = QColor("#6a3fa0")
BAND = QColor(0, 120, 60, 40)
MOST_MINUTE_TICKS = 16  # labels on the chart's time axis: a six-hour session's every 30
STYLE = """
body { font-family: 'DejaVu Sans', 'Helvetica', sans-serif; font-size: 9pt; color: #111; }
h1 { font-size: 15pt; margin: 0; } h2 { font-size: 11.5pt; margin-top: 10pt; }
table { border-collapse: collapse; }
td, th { padding-right: 30px; padding-top: 2px; padding-bottom: 2px; }
th { text-align: left; border-bottom: 1px solid #888; }
.muted { color: #555; } .urgent { color: #b3261e; font-weight: bold; }
.caution { color: #9a6a00; font-weight: bold; } s { color: #777; }
"""


TABLE = "<table cellpadding='4' cellspacing='0'>"


@dataclass(frozen=True)
class ReportFacts:
    """What the footer says of the record: its id and the session's newest audit event."""

    database_id: str
    audit_head: tuple[int, str] | None
    printed_by: str
    printed_at: dt.datetime


@dataclass(frozen=True)
class Saved:
    pages: int
    missing: tuple[str, ...] = ()  # the REMS form's fields the record does not hold


def save_document(service: SessionService, target: Path, *, rems: bool = False) -> Saved:
    """The session's report (or, ``rems``, its REMS form: a CSV by that name, else a PDF)
    as a new owner-only file at ``target``, then its audit event. OSError (FileExistsError
    for a file already there): nothing written, nothing audited. For the app and the CLI."""
    facts = report_facts(service, service.state.clinician_name(service.store.clinician_id))
    missing: tuple[str, ...] = ()
    if rems:
        fields = rems_form(service)
        missing = tuple(f.label for f in fields if not f.value)
        if target.suffix.lower() == ".csv":
            write_private_text(target, rems_csv(fields))
            pages = 1
        else:
            pages = write_rems_pdf(service, facts, fields, target)
    else:
        pages = write_pdf(service, facts, target)
    service.store.record_event(
        "report",
        {"session_id": str(service.id), "format": "rems" if rems else "pdf", "file": str(target)},
    )
    return Saved(pages, missing)


def report_facts(service: SessionService, printed_by: str) -> ReportFacts:
    store = service.store
    return ReportFacts(
        database_id=store.database_id,
        audit_head=store.session_audit_head(service.id),
        printed_by=printed_by,
        printed_at=service.now(),
    )


def new_private_file(target: Path) -> None:
    """Make ``target`` as a new, empty, owner-only file, or refuse: it never replaces a
    file (FileExistsError) and a place that cannot be written is found before anything is
    drawn (OSError). A PDF is plain text to whoever opens it."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)


def write_private_text(target: Path, text: str) -> None:
    """``text`` as a new owner-only file; never replaces one (FileExistsError). A file it
    could not write whole (a full disk) is removed: left empty, it refused the retry."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except OSError:
        with contextlib.suppress(OSError):
            target.unlink()
        raise


def _written_whole(target: Path) -> None:
    """A PDF whose writer could not write it (a full disk) is empty or cut short, and Qt
    does not say so: it was reported written at 0 bytes (QA). Its end is read back; a
    PDF without its end is removed, and the refusal says why."""
    try:
        with target.open("rb") as written:
            written.seek(0, os.SEEK_END)
            size = written.tell()
            written.seek(max(0, size - 1024))
            whole = b"%%EOF" in written.read()
    except OSError:
        whole = False
    if not whole:
        with contextlib.suppress(OSError):
            target.unlink()
        # The reason only: who catches it names the file and says nothing was saved (the
        # sentence said both twice, QA).
        raise OSError(errno.ENOSPC, "it was written only in part: is the disk full?")


def _begun(painter: QPainter, target: Path | None) -> None:
    if not painter.isActive():
        if target is not None:
            with contextlib.suppress(OSError):
                target.unlink()
        raise OSError(f"{target or 'the printer'} could not be written")


def _pdf_writer(target: Path, title: str) -> QPdfWriter:
    """A PDF at 300 dpi into ``target``, made new and owner-only first (new_private_file)."""
    new_private_file(target)
    writer = QPdfWriter(str(target))
    writer.setTitle(title)
    writer.setCreator(f"kapdesk {__version__}")
    writer.setResolution(300)
    return writer


def write_pdf(service: SessionService, facts: ReportFacts, target: Path) -> int:
    """The report as a new PDF file at ``target``; the number of pages."""
    writer = _pdf_writer(target, f"kapdesk session report {service.id}")
    pages = render(service, facts, writer, target=target)
    del writer  # the file closed
    _written_whole(target)
    return pages


@dataclass(frozen=True)
class _Pages:
    """A painter on an A4 device, and the page's parts in device pixels."""

    painter: QPainter
    device: QPagedPaintDevice
    width: float
    body: float  # the height above the footer
    footer: float

    def draw(
        self,
        document: QTextDocument,
        facts: ReportFacts,
        service: SessionService,
        *,
        first: int,
        total: int,
    ) -> None:
        """``document``'s pages, each with the footer, numbered from ``first``; a page
        already drawn on (the report's first) is followed by a new one."""
        painter = self.painter
        for number in range(document.pageCount()):
            if number or first > 1:
                self.device.newPage()
            painter.save()
            painter.translate(0, -number * self.body)
            document.drawContents(painter, QRectF(0, number * self.body, self.width, self.body))
            painter.restore()
            self.footer_on(facts, service, first + number, total)

    def footer_on(self, facts: ReportFacts, service: SessionService, page: int, total: int) -> None:
        rect = QRectF(0, self.body, self.width, self.footer)
        _footer(self.painter, facts, service, rect, page, total)


def _begin(device: QPagedPaintDevice, target: Path | None) -> _Pages:
    """A4 with 15 mm margins; the painter is refused (OSError) if the device cannot be
    written, and the file begun is removed."""
    device.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 15, 15, 15),
            QPageLayout.Unit.Millimeter,
        )
    )
    painter = QPainter(device)
    _begun(painter, target)
    page = QRectF(painter.viewport())
    footer = page.height() * 0.06
    return _Pages(painter, device, page.width(), page.height() - footer, footer)


def render(
    service: SessionService,
    facts: ReportFacts,
    device: QPagedPaintDevice,
    *,
    target: Path | None = None,
) -> int:
    """Draw the report on ``device`` (a QPdfWriter or a QPrinter); the number of pages."""
    pages = _begin(device, target)
    painter, width = pages.painter, pages.width
    try:
        first = _document(_first_page_html(service), width, device)
        details = _document(_details_html(service), width, device)
        details.setPageSize(QSizeF(width, pages.body))
        total = 1 + details.pageCount()
        # Page one: the heading and the session at a glance, then the chart.
        painter.save()
        first.drawContents(painter, QRectF(0, 0, width, pages.body))
        painter.restore()
        top = first.size().height() + pages.body * 0.01
        chart_rect = QRectF(0, top, width, min(pages.body - top, pages.body * 0.45))
        draw_chart(painter, service, chart_rect)
        pages.footer_on(facts, service, 1, total)
        pages.draw(details, facts, service, first=2, total=total)
    finally:
        painter.end()
    return total


def _document(body: str, width: float, device: QPagedPaintDevice) -> QTextDocument:
    document = QTextDocument()
    # Laid out at the device's resolution: points are points on the page, not on a screen.
    document.documentLayout().setPaintDevice(device)
    document.setDefaultStyleSheet(STYLE)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(9)
    document.setDefaultFont(font)
    document.setHtml(f"<html><body>{body}</body></html>")
    document.setTextWidth(width)
    return document


def _footer(
    painter: QPainter,
    facts: ReportFacts,
    service: SessionService,
    rect: QRectF,
    page: int,
    pages: int,
) -> None:
    head = facts.audit_head
    audit = f"audit event #{head[0]}, SHA-256 {head[1]}" if head is not None else "no audit event"
    printed = facts.printed_at.astimezone(service.state.zone)
    text = (
        f"Record {facts.database_id} · session {service.id}\n"
        f"The session's newest {audit}\n"
        f"kapdesk {__version__} · printed {printed:%Y-%m-%d %H:%M} by {facts.printed_by} · "
        f"page {page} of {pages} · to check a copy, make the report again: the same event "
        "and hash mean the session is unchanged"
    )
    painter.save()
    font = QFont("DejaVu Sans")
    font.setPointSizeF(6.5)
    font.setFeature(QFont.Tag("liga"), 0)  # "ff" in a hash stays two letters when copied
    painter.setFont(font)
    painter.setPen(GREY)
    flags = Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft
    painter.drawText(rect, int(flags) | int(Qt.TextFlag.TextWordWrap), text)
    painter.restore()


# ------------------------------------------------------------------------ the words


def _e(value: object) -> str:
    return html.escape(str(value))


def _first_page_html(service: SessionService) -> str:
    state = service.state
    zone = state.zone
    started = service.started_at.astimezone(zone)
    ended = service.ended_at
    clock = service.local_clock
    patient = service.store.entry("patient", state.row["patient_id"]).current
    who = sorted(
        {state.clinician_name(by) for by in state.recorders()}
        | {state.clinician_name(e.recorded_by) for e in state.events}
    )
    summary = service.summary()
    highest = summary.highest_words() or "none recorded"
    first_dose = service.first_dose_at
    rows = [
        ("Patient", _e(patient["display_name"])),
        (
            "Date of birth · record number · weight",
            " · ".join(
                _e(v) if v not in (None, "") else "—"
                for v in (
                    patient.get("date_of_birth"),
                    patient.get("record_number"),
                    f"{patient['weight_kg']:g} kg" if patient.get("weight_kg") else None,
                )
            ),
        ),
        ("Protocol", _e(service.protocol_name)),
        ("Intention (the patient's words)", _e(service.intention()) or "—"),
        (
            "Session",
            f"{started:%Y-%m-%d} ({_e(state.row['zone_name'])}) · "
            f"started {clock(service.started_at)}"
            + (f" · first dose {clock(first_dose)}" if first_dose else " · no dose")
            + (
                f" · ended {clock(ended)} · duration {format_elapsed(ended - service.started_at)}"
                if ended
                else " · <b>not ended</b> (report of the session so far)"
            ),
        ),
        ("Clinicians who recorded", _e(", ".join(who)) or "—"),
        (
            "At a glance",
            f"{summary.doses} dose(s), {summary.total_mg:g} mg in all · "
            f"{summary.readings} vitals reading(s) · highest BP {_e(highest)} · "
            + _alerts_words(service.alerts()),
        ),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        "<h1>Session report</h1>"
        f"<p class='muted'>kapdesk · ketamine-assisted psychotherapy session record</p>"
        f"{TABLE}{table}</table>"
        "<h2>Blood pressure and heart rate</h2>"
    )


def _details_html(service: SessionService) -> str:
    parts = [
        _doses_html(service),
        _vitals_html(service),
        _alerts_html(service),
        _discharge_html(service),
        _survey_html(service),
        _log_html(service.log()),
    ]
    return "".join(parts)


def _survey_html(service: SessionService) -> str:
    """The patient's reflection survey and self-report scales (issue 13), as stored."""
    responses = service.state.events_of("self_report")
    if not responses:
        return ""
    rows = "".join(
        f"<tr><td>{service.local_clock(e.at)}</td><td>{_e(survey_form(e.payload))}</td>"
        f"<td>{_e(e.payload['summary'])}</td></tr>"
        for e in responses
    )
    return (
        "<h2>The patient's survey</h2>"
        f"{TABLE}<tr><th>Time</th><th>Form</th><th>Answers</th></tr>{rows}</table>"
    )


def _alerts_words(alerts: list[StoredAlert]) -> str:
    """The alerts that stand, as the course page counts them (session/course.py), and
    those a correction withdrew: "3 alert(s)" here beside "2 alerts" there (QA)."""
    withdrawn = sum(1 for alert in alerts if alert.withdrawn)
    words = f"{len(alerts) - withdrawn} alert(s)"
    return words + (f", {withdrawn} more withdrawn by a correction" if withdrawn else "")


def _t_plus(service: SessionService, at: dt.datetime) -> str:
    """As the log writes it (whole minutes the T+ clock showed): rounded here, a reading
    read T+1 in the report's table and T+0 in its log (QA)."""
    first = service.first_dose_at
    return "" if first is None else format_t_plus(at, first)


def _corrected(entry: StoredDose | StoredVitals, columns: int) -> str:
    """A row under a corrected entry's row, across the table: what it was, and why."""
    if not entry.reasons:
        return ""
    return (
        f"<tr><td></td><td colspan='{columns - 1}' class='muted'>Corrected: "
        f"{_e('; then: '.join(entry.reasons))} (see the log for the values as first "
        "recorded)</td></tr>"
    )


def _doses_html(service: SessionService) -> str:
    doses = service.state.doses()
    if not doses:
        return "<h2>Doses</h2><p>No dose was given.</p>"
    rows = "".join(
        f"<tr><td>{service.local_clock(d.at)}</td><td>{_t_plus(service, d.at)}</td>"
        f"<td>{_e(d.content.drug)}</td><td>{_e(ROUTE_LABELS[d.content.route])}</td>"
        f"<td>{d.content.mg:g} mg</td><td>{_e(d.content.lot_number or '—')}</td>"
        f"<td>{d.content.device_count or ''}</td></tr>{_corrected(d, 7)}"
        for d in doses
    )
    return (
        f"<h2>Doses</h2>{TABLE}<tr><th>time</th><th>T+</th><th>drug</th><th>route</th>"
        f"<th>dose</th><th>lot</th><th>devices</th></tr>{rows}</table>"
    )


def _value(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:g}{unit}"


def _vitals_html(service: SessionService) -> str:
    readings = service.state.readings()
    if not readings:
        return "<h2>Vital signs</h2><p>None recorded.</p>"
    rows = []
    for r in readings:
        v = r.reading
        bp = f"{v.systolic}/{v.diastolic}" if v.systolic is not None else ""
        rows.append(
            f"<tr><td>{service.local_clock(r.at)}</td><td>{_t_plus(service, r.at)}</td>"
            f"<td>{bp}</td><td>{_value(v.heart_rate)}</td><td>{_value(v.spo2, ' %')}</td>"
            f"<td>{_value(v.respiratory_rate)}</td><td>{_value(v.temperature_c, ' °C')}</td>"
            f"<td>{_e(r.content.source)}</td></tr>{_corrected(r, 8)}"
        )
    return (
        f"<h2>Vital signs ({len(readings)})</h2>{TABLE}<tr><th>time</th><th>T+</th>"
        "<th>BP mmHg</th><th>HR /min</th><th>SpO2</th><th>RR /min</th><th>temp</th>"
        f"<th>source</th></tr>{''.join(rows)}</table>"
    )


def _alert_outcome(alert: StoredAlert) -> str:
    if alert.withdrawn:
        return "withdrawn"
    if alert.acknowledged_by:
        return f"acknowledged by {_e(alert.acknowledged_by)}"
    return "<b>not acknowledged</b>"


def _alerts_html(service: SessionService) -> str:
    alerts = service.alerts()
    if not alerts:
        return "<h2>Alerts</h2><p>No alert was raised.</p>"
    rows = "".join(
        f"<tr><td>{service.local_clock(a.taken_at or a.at)}</td>"
        f"<td class='{a.level.value}'>{a.level.value.upper()}</td>"
        f"<td>{_e(a.reason)}</td><td>{_alert_outcome(a)}</td></tr>"
        for a in alerts
    )
    return (
        f"<h2>Alerts</h2>{TABLE}<tr><th>reading at</th><th>level</th><th>finding</th>"
        f"<th>outcome</th></tr>{rows}</table>"
    )


def _discharge_html(service: SessionService) -> str:
    decisions = service.state.events_of("discharge")
    if not decisions:
        return "<h2>Discharge</h2><p>The session has not been ended with a decision.</p>"
    payload = decisions[-1].payload
    unmet = payload.get("unmet") or []
    confirmed = payload.get("confirmed") or []
    lines = [
        f"Criteria checked: {payload.get('criteria', 0)}; "
        + (f"not met: {_e('; '.join(unmet))}." if unmet else "all met.")
    ]
    if confirmed:
        lines.append(f"Confirmed by the clinician: {_e('; '.join(confirmed))}.")
    if payload.get("override_reason"):
        lines.append(f"<b>Ended with criteria unmet.</b> Reason: {_e(payload['override_reason'])}")
    if payload.get("note"):
        lines.append(f"The clinician's note on the end: {_e(payload['note'])}")
    if payload.get("ready_to_leave_minutes") is not None:
        lines.append(f"Ready to leave after {payload['ready_to_leave_minutes']} minutes.")
    return "<h2>Discharge</h2>" + "".join(f"<p>{line}</p>" for line in lines)


def _log_html(entries: Sequence[LogEntry]) -> str:
    signed = any(entry.by for entry in entries)  # a record with clinicians' accounts
    rows = []
    for entry in reversed(entries):  # oldest first on paper
        text = _e(entry.text)
        if entry.original:
            text += f"<br><s>{_e(entry.original)}</s>"
        if entry.reasons:
            reasons = _e(" / then: ".join(entry.reasons))
            who = _e(correctors(entry))
            text += f"<br><span class='muted'>Corrected{who}. Reason: {reasons}</span>"
        by = f"<td>{_e(entry.by)}</td>" if signed else ""
        rows.append(
            f"<tr><td>{entry.clock}</td><td>{_e(entry.t_plus)}</td><td>{text}</td>{by}</tr>"
        )
    by_head = "<th>by</th>" if signed else ""
    return (
        "<h2>The session log, in time order</h2>"
        f"{TABLE}<tr><th>time</th><th>T+</th><th>entry</th>{by_head}</tr>"
        f"{''.join(rows)}</table>"
    )


# ------------------------------------------------------------------------ the chart


def draw_chart(painter: QPainter, service: SessionService, rect: QRectF) -> None:
    """The BP chart in the anaesthesia-record convention, as vector shapes: systolic ▼,
    diastolic ▲ joined by a line, heart rate •, doses as dashed lines, the thresholds and
    the pre-dose baseline band."""
    data = service.chart()
    thresholds = service.thresholds
    minutes = [float(m) for m in data.minutes]
    low_x = min([*minutes, *data.dose_minutes, 0.0])
    high_x = max([*minutes, *data.dose_minutes, 10.0])
    values = [float(v) for v in (*data.systolic, *data.heart_rate) if not math.isnan(float(v))]
    top_y = max(200.0, *(v + 10 for v in values)) if values else 200.0
    low_y = 40.0
    unit = rect.height() / 60
    plot = rect.adjusted(unit * 6, unit * 1.5, -unit * 2, -unit * 5)

    def x(minute: float) -> float:
        return plot.left() + (minute - low_x) / ((high_x - low_x) or 1) * plot.width()

    def y(value: float) -> float:
        return plot.bottom() - (value - low_y) / (top_y - low_y) * plot.height()

    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(6.5)
    painter.setFont(font)
    thin = max(1.0, unit * 0.12)
    painter.setPen(QPen(GREY, thin))
    painter.drawRect(plot)
    # Axes: mmHg (and /min) every 20, minutes from the first dose every 5 to 120.
    step = minute_step(high_x - low_x)
    for value in range(int(low_y), int(top_y) + 1, 20):
        painter.setPen(QPen(QColor("#dddddd"), thin))
        painter.drawLine(QPointF(plot.left(), y(value)), QPointF(plot.right(), y(value)))
        painter.setPen(GREY)
        painter.drawText(
            QRectF(rect.left(), y(value) - unit, unit * 5.5, unit * 2),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            str(value),
        )
    start = math.ceil(low_x / step) * step
    for minute in range(int(start), int(high_x) + 1, step):
        painter.drawText(
            QRectF(x(minute) - unit * 3, plot.bottom() + unit * 0.5, unit * 6, unit * 2),
            int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
            str(minute),
        )
    painter.drawText(
        QRectF(plot.left(), plot.bottom() + unit * 2.6, plot.width(), unit * 2),
        int(Qt.AlignmentFlag.AlignHCenter),
        "minutes from the first dose · mmHg (BP ▼ systolic ▲ diastolic) and /min (HR •)",
    )
    # The pre-dose baseline band, the thresholds, the doses.
    if data.baseline is not None:
        for value in data.baseline:
            painter.fillRect(
                QRectF(plot.left(), y(value + 3), plot.width(), y(value - 3) - y(value + 3)), BAND
            )
    for value, colour, label in (
        (thresholds.urgent_systolic, URGENT, "urgent"),
        (thresholds.urgent_diastolic, URGENT, "urgent"),
        (thresholds.caution_systolic, CAUTION, "caution"),
        (thresholds.caution_diastolic, CAUTION, "caution"),
    ):
        pen = QPen(colour, thin * 1.5, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(QPointF(plot.left(), y(value)), QPointF(plot.right(), y(value)))
        painter.drawText(
            QPointF(plot.left() + unit * 0.5, y(value) - unit * 0.3), f"{label} {value}"
        )
    for number, minute in enumerate(data.dose_minutes, start=1):
        painter.setPen(QPen(DOSE, thin * 1.5, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(x(minute), plot.top()), QPointF(x(minute), plot.bottom()))
        painter.drawText(
            QPointF(x(minute) + unit * 0.4, plot.top() + unit * 1.5 * number), f"dose {number}"
        )
    # The readings.
    size = unit * 0.9
    for index, minute in enumerate(minutes):
        systolic, diastolic = float(data.systolic[index]), float(data.diastolic[index])
        heart = float(data.heart_rate[index])
        if not math.isnan(systolic) and not math.isnan(diastolic):
            colour = (
                URGENT
                if systolic >= thresholds.urgent_systolic
                or diastolic >= thresholds.urgent_diastolic
                else INK
            )
            painter.setPen(QPen(colour, thin))
            painter.drawLine(QPointF(x(minute), y(systolic)), QPointF(x(minute), y(diastolic)))
            painter.setBrush(colour)
            painter.drawPath(_triangle(x(minute), y(systolic), size, down=True))
            painter.drawPath(_triangle(x(minute), y(diastolic), size, down=False))
        if not math.isnan(heart):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(HEART)
            painter.drawEllipse(QPointF(x(minute), y(heart)), size * 0.45, size * 0.45)
    painter.restore()


def minute_step(span: float) -> int:
    """Minutes between the time axis's labels: the shortest of 5, 10, 15, 30, 60 and 120
    giving at most MOST_MINUTE_TICKS of them over ``span`` minutes. A fixed 15 left a
    session ended a few minutes after its dose with the one label "0" (QA)."""
    return next((s for s in (5, 10, 15, 30, 60) if span / s <= MOST_MINUTE_TICKS), 120)


def _triangle(cx: float, cy: float, size: float, *, down: bool) -> QPainterPath:
    """▼ with its point on the value (systolic), or ▲ (diastolic)."""
    path = QPainterPath()
    tip = QPointF(cx, cy)
    side = -size if down else size
    path.moveTo(tip)
    path.lineTo(cx - size * 0.6, cy + side)
    path.lineTo(cx + size * 0.6, cy + side)
    path.closeSubpath()
    return path


def write_rems_pdf(
    service: SessionService, facts: ReportFacts, fields: Sequence[FormField], target: Path
) -> int:
    """The REMS Patient Monitoring Form's fields as a printable page: each value, or what is
    missing in bold, so nothing is left blank by accident."""
    writer = _pdf_writer(target, f"kapdesk REMS monitoring form {service.id}")
    pages = render_rems(service, facts, fields, writer, target=target)
    del writer  # the file closed
    _written_whole(target)
    return pages


def render_rems(
    service: SessionService,
    facts: ReportFacts,
    fields: Sequence[FormField],
    device: QPagedPaintDevice,
    *,
    target: Path | None = None,
) -> int:
    rows = "".join(
        f"<tr><th>{_e(f.label)}</th><td>"
        + (_e(f.value) if f.value else f"<b>MISSING:</b> {_e(f.missing)}")
        + "</td></tr>"
        for f in fields
    )
    missing = sum(1 for f in fields if not f.value)
    body = (
        "<h1>SPRAVATO REMS Patient Monitoring Form: the record's answers</h1>"
        "<p class='muted'>Transcribe onto the REMS form (due within 7 days of the session). "
        f"{missing} field(s) are not in kapdesk's record and are named below.</p>"
        f"{TABLE}{rows}</table>"
    )
    pages = _begin(device, target)
    try:
        document = _document(body, pages.width, device)
        document.setPageSize(QSizeF(pages.width, pages.body))
        total = document.pageCount()
        pages.draw(document, facts, service, first=1, total=total)
    finally:
        pages.painter.end()
    return total
