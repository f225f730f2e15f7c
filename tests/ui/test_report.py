"""A session's report as a PDF: what a clinician files, read back as text (issue 12)."""

from __future__ import annotations

import unicodedata

import pypdf
import pytest

from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES
from kapdesk.session.service import SessionService
from kapdesk.ui.report import report_facts, write_pdf
from kapdesk.ui.workspace import SessionWorkspace


def _session(store, clock):
    patient = store.add_patient("Ada Example", record_number="MRN-77")
    session = store.start_session(patient, protocol="IM", zone_name="Europe/Berlin")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    service.record_screening(
        dict.fromkeys(CONTRAINDICATIONS, False), dict.fromkeys(MEDICINES, False), ""
    )
    service.record_vitals_line("128/82 72 98")
    clock.advance(minutes=5)
    service.record_dose(drug="ketamine", route="im", mg=50, lot_number="LOT-4711")
    clock.advance(minutes=20)
    misread = service.record_vitals_line("190/100 88 97").entry
    service.correct("vitals", misread.id, {"systolic": 139}, "misread the cuff")
    service.record_observation("Describes floating; breathing even.")
    return service


def _text(path) -> tuple[str, pypdf.PdfReader]:
    reader = pypdf.PdfReader(str(path))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return unicodedata.normalize("NFKC", text), reader  # "ﬀ" as typeset is "ff"


def test_the_report_holds_the_readings_doses_corrections_and_the_audit_digest(
    qapp, store, clock, tmp_path
):
    service = _session(store, clock)
    facts = report_facts(service, "dr.test")
    assert facts.audit_head is not None
    pages = write_pdf(service, facts, tmp_path / "report.pdf")
    text, reader = _text(tmp_path / "report.pdf")
    assert len(reader.pages) == pages >= 2
    flat = " ".join(text.split())
    assert "Ada Example" in flat
    assert "128/82" in flat  # the readings
    assert "139/100" in flat  # as corrected ...
    assert "190/100" in flat  # ... with what it was
    assert "misread the cuff" in flat  # ... and why
    assert "LOT-4711" in flat  # the dose, with its lot
    assert "Ketamine 50 mg" in flat
    assert "Describes floating" in flat
    # Checkable against the record: its id and the session's newest audit event, whole.
    assert store.database_id in flat
    assert f"#{facts.audit_head[0]}" in flat
    assert facts.audit_head[1] in flat.replace(" ", "")
    # The chart is drawn, not pasted: no image on its page, its labels are text.
    assert len(reader.pages[0].images) == 0
    assert "urgent 180" in flat


def test_saving_the_report_from_the_session_screen_is_audited(qtbot, store, clock, tmp_path):
    service = _session(store, clock)
    workspace = SessionWorkspace(service, quick_tags=[])
    qtbot.addWidget(workspace)
    target = tmp_path / "from-the-screen.pdf"
    workspace.save_report(target=target)
    assert target.stat().st_size > 0
    assert workspace.message.text().startswith(f"Report saved: {target}")
    assert "not encrypted" in workspace.message.text()
    with store.engine.connect() as conn:
        action = conn.exec_driver_sql(
            "SELECT action FROM audit_events ORDER BY seq DESC LIMIT 1"
        ).scalar()
    assert action == "report"
    assert workspace.actions_by_name["report"].shortcut().toString() == "Ctrl+Shift+P"


def test_the_rems_form_from_the_session_screen_as_csv_and_pdf(qtbot, store, clock, tmp_path):
    # An IM ketamine session has no REMS form (QA: its ketamine lot went in as the REMS
    # lot): refused before a file is asked for.
    ketamine = SessionWorkspace(_session(store, clock), quick_tags=[])
    qtbot.addWidget(ketamine)
    ketamine.save_rems_form(target=tmp_path / "ketamine.csv")
    assert not (tmp_path / "ketamine.csv").exists()
    assert "is for esketamine (SPRAVATO) sessions" in ketamine.message.text()
    patient = store.add_patient("Bo Example")
    session = store.start_session(patient, protocol="SPRAVATO REMS", zone_name="Europe/Berlin")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    service.record_screening(
        dict.fromkeys(CONTRAINDICATIONS, False), dict.fromkeys(MEDICINES, False), ""
    )
    service.record_vitals_line("128/82 72 98")
    clock.advance(minutes=5)
    service.record_dose(
        drug="esketamine", route="intranasal", mg=56, lot_number="LOT-4711", device_count=2
    )
    workspace = SessionWorkspace(service, quick_tags=[])
    qtbot.addWidget(workspace)
    workspace.save_rems_form(target=tmp_path / "rems.csv")
    text = (tmp_path / "rems.csv").read_text(encoding="utf-8")
    assert text.startswith("field,value,missing")
    assert "LOT-4711" in text
    assert "named in it" in workspace.message.text()
    workspace.save_rems_form(target=tmp_path / "rems.pdf")
    flat = " ".join(_text(tmp_path / "rems.pdf")[0].split())
    assert "MISSING: kapdesk does not record sex" in flat
    workspace.save_rems_form(target=tmp_path / "rems.csv")  # never replaced
    assert "already exists: choose a new name" in workspace.message.text()
    assert (tmp_path / "rems.csv").read_text(encoding="utf-8") == text


def test_a_report_never_replaces_a_file_and_a_failed_one_is_not_called_saved(
    qtbot, store, clock, tmp_path
):
    service = _session(store, clock)
    workspace = SessionWorkspace(service, quick_tags=[])
    qtbot.addWidget(workspace)
    target = tmp_path / "report.pdf"
    workspace.save_report(target=target)
    assert oct(target.stat().st_mode & 0o777) == "0o600"  # plain text to whoever opens it
    before = target.read_bytes()
    workspace.save_report(target=target)
    assert "already exists: choose a new name" in workspace.message.text()
    assert target.read_bytes() == before
    nowhere = tmp_path / "no such folder" / "report.pdf"
    with store.engine.connect() as conn:
        events = conn.exec_driver_sql("SELECT count(*) FROM audit_events").scalar()
    workspace.save_report(target=nowhere)
    assert workspace.message.text().startswith("The report could not be written to")
    assert not nowhere.exists()
    with store.engine.connect() as conn:  # no audit event names a file never written
        assert conn.exec_driver_sql("SELECT count(*) FROM audit_events").scalar() == events


def test_a_report_the_disk_could_not_hold_is_not_called_written(
    qtbot, store, clock, tmp_path, monkeypatch
):
    """On a full disk Qt's PDF writer leaves an empty file and says nothing: the report
    was called written at 0 bytes, and audited (QA). A PDF without its end is removed and
    refused; a CSV that could not be written whole is removed too, so a retry can go on."""
    from kapdesk.ui import report

    service = _session(store, clock)
    workspace = SessionWorkspace(service, quick_tags=[])
    qtbot.addWidget(workspace)
    with store.engine.connect() as conn:
        events = conn.exec_driver_sql("SELECT count(*) FROM audit_events").scalar()
    monkeypatch.setattr(report, "render", lambda *_a, **_k: 1)  # as if nothing reached disk
    target = tmp_path / "report.pdf"
    workspace.save_report(target=target)
    said = workspace.message.text()
    assert "(it was written only in part: is the disk full?); nothing was saved." in said
    assert said.count("nothing was saved") == 1  # it was said twice (QA)
    assert not target.exists()

    def full(_descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report.os, "fsync", full)
    rems = tmp_path / "rems.csv"
    with pytest.raises(OSError, match="No space"):
        report.save_document(service, rems, rems=True)
    assert not rems.exists()
    with store.engine.connect() as conn:  # nothing audited for files never written
        assert conn.exec_driver_sql("SELECT count(*) FROM audit_events").scalar() == events


def test_the_report_writes_t_plus_and_counts_alerts_as_the_log_and_course_page_do(store, clock):
    """QA: a reading read T+1 in the report's table and T+0 in its log (rounded there,
    whole minutes here), and "3 alert(s)" stood beside the course page's "2 alerts" (one
    had been withdrawn by a correction)."""
    from kapdesk.session.course import course_sessions
    from kapdesk.ui.report import _first_page_html, _vitals_html

    service = _session(store, clock)
    clock.advance(seconds=100)  # 21 min 40 s after the dose
    entry = service.record_vitals_line("130/80 70 98").entry
    assert entry.t_plus == "T+21"
    row = next(line for line in _vitals_html(service).split("</tr>") if "130" in line)
    assert "T+21" in row
    assert "T+22" not in row
    alerts = service.alerts()
    withdrawn = [alert for alert in alerts if alert.withdrawn]
    assert withdrawn  # 190/100 raised one; corrected to 139/100, it was withdrawn
    standing = len(alerts) - len(withdrawn)
    page = _first_page_html(service)
    assert f"{standing} alert(s), {len(withdrawn)} more withdrawn by a correction" in page
    course = course_sessions(store, store.session(service.id)["patient_id"])
    assert course[-1].alerts == standing


def _chart_minute_labels(path) -> list[int]:
    """The first page's time-axis labels: whole numbers on one line just above the
    axis's caption."""
    reader = pypdf.PdfReader(str(path))
    found: list[tuple[str, float]] = []
    reader.pages[0].extract_text(
        visitor_text=lambda text, _cm, tm, _font, _size: found.append((text.strip(), tm[5]))
    )
    caption = next(y for t, y in found if t.replace("\t", " ").startswith("minutes from the"))
    # Qt's PDF counts down the page: the labels' line is above the caption, a smaller y.
    above = [(t, y) for t, y in found if t.lstrip("-").isdigit() and 0 < caption - y < 100]
    line = max(y for _t, y in above)
    return sorted(int(t) for t, y in above if abs(y - line) < 1)


def test_a_short_session_s_chart_has_a_time_axis_to_read(qapp, store, clock, tmp_path):
    """Ended twelve minutes after the dose (an adverse event): the axis said only "0"."""
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    service = SessionService(store, session, clock=clock.now_utc, protocol=None)
    service.record_screening(
        dict.fromkeys(CONTRAINDICATIONS, False), dict.fromkeys(MEDICINES, False), ""
    )
    service.record_vitals_line("128/82 72 98")
    clock.advance(minutes=6)
    service.record_dose(drug="ketamine", route="im", mg=50, lot_number="LOT-1")
    for _ in range(3):
        clock.advance(minutes=4)
        service.record_vitals_line("142/90 80 97")
    write_pdf(service, report_facts(service, "dr.test"), tmp_path / "short.pdf")
    labels = _chart_minute_labels(tmp_path / "short.pdf")
    assert labels == [-5, 0, 5, 10], labels
