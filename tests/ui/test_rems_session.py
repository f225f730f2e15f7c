"""A full SPRAVATO REMS session through the real widgets with a fake clock: screening,
the dosing gate, checks falling due, an urgent reading, sedation scores, discharge."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES
from kapdesk.local.settings import Settings
from kapdesk.ui.main_window import MainWindow
from tests.ui.test_workspace import CTRL, SHIFT, press, type_into

ALT = Qt.KeyboardModifier.AltModifier


def start_rems_session(qtbot, window, store):
    patient = store.add_patient("Ada Example", weight_kg=70)
    window.refresh_patients(select=patient)
    window.new_session(patient)
    dialog = window.session_dialog
    dialog.protocol.setCurrentText("SPRAVATO REMS")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.protocol, Qt.Key.Key_Return)
    return window.workspace


def test_a_rems_session_from_screening_to_discharge(qtbot, window, store, clock):
    workspace = start_rems_session(qtbot, window, store)
    assert workspace.service.protocol.name == "SPRAVATO REMS"

    # Screening: a yes needs a decision with a reason; the sentence stays in the dialog.
    screening = workspace.screening_dialog
    screening.medicines["benzodiazepines"].setChecked(True)
    screening.contraindications["substance_use"].setChecked(True)
    assert screening.why.isVisible()
    qtbot.keyClick(screening.intention, Qt.Key.Key_Return)
    assert screening.isVisible()
    assert "was answered yes: to proceed, type your decision" in screening.error.text()
    assert QApplication.focusWidget() is screening.decision
    qtbot.keyClicks(screening.decision, "In remission 6 years; addiction psychiatrist agrees")
    with qtbot.waitSignal(screening.accepted):
        qtbot.keyClick(screening.decision, Qt.Key.Key_Return)

    # No dose without a pre-dose blood pressure.
    press(window, Qt.Key.Key_D, CTRL)
    assert workspace.dose_dialog is None
    assert workspace.message_text() == "Record a pre-dose blood pressure first (Ctrl+B)."
    clock.advance(minutes=10)
    type_into(qtbot, workspace.vitals.line, "128/82 72 98")

    # First device at T0 and the second 5 minutes later.
    clock.advance(minutes=5)
    for _device in range(2):
        press(window, Qt.Key.Key_D, CTRL)
        dose = workspace.dose_dialog
        # The protocol's drug and route; after the first device, its amount too.
        assert (dose.drug.currentText(), dose.route.currentText()) == ("Esketamine", "Intranasal")
        dose.mg.selectAll()
        qtbot.keyClicks(dose.mg, "28")
        assert dose.devices.text() == "1"  # 28 mg is one device
        dose.lot.selectAll()
        qtbot.keyClicks(dose.lot, "LOT-77")
        with qtbot.waitSignal(dose.accepted):
            qtbot.keyClick(dose.lot, Qt.Key.Key_Return)
        if _device == 0:
            workspace.tick()
            assert workspace.header.check_text() == (
                "Next: 40-minute BP, SpO2, sedation and dissociation in 00:40:00"
            )
            clock.advance(minutes=5)
    workspace.dose_dialog = None

    # The 40-minute check falls due at 35 minutes (five early) and is overdue after 45.
    clock.advance(minutes=30)  # T+35
    workspace.tick()
    # Five minutes before its time: due, and said with its time, not as "Due now" (read as
    # late, minutes early).
    due_at = workspace.service.state.local_clock(clock.now_utc() + dt.timedelta(minutes=5))
    assert workspace.header.check_text() == (
        f"Due at {due_at}, a reading now counts: 40-minute BP, SpO2, sedation and dissociation"
    )
    assert workspace.header.check_state() == "due"
    clock.advance(minutes=5)  # T+40: its time
    workspace.tick()
    assert workspace.header.check_text() == "Due now: 40-minute BP, SpO2, sedation and dissociation"
    clock.advance(minutes=6)  # T+46
    workspace.tick()
    assert workspace.header.check_text().startswith("OVERDUE by 00:06:00: 40-minute")
    assert workspace.header.check_state() == "overdue"

    # 182/104 is urgent: the banner says the reading, the rule and what to do.
    type_into(qtbot, workspace.vitals.line, "182/104 88 97")
    assert workspace.banner.isVisible()
    assert workspace.banner.objectName() == "alertUrgent"
    assert workspace.banner.headline.text() == (
        "!! URGENT: BP 182/104: systolic at or above 180 (urgent level)."
    )
    assert "Recheck in 5 minutes" in workspace.banner.detail.text()
    assert "chest pain" in workspace.banner.detail.text()

    # Sedation (Alt+4 = MOAA/S 4) and the REMS check complete the 40-minute check.
    press(window, Qt.Key.Key_4, ALT)
    assert workspace.log_model.entry_at(0).text == (
        "MOAA/S 4: lethargic response to name spoken in normal tone"
    )
    press(window, Qt.Key.Key_J, CTRL)
    rems = workspace.rems_dialog
    rems.answers[0].setChecked(True)
    rems.answers[1].setChecked(True)
    with qtbot.waitSignal(rems.accepted):
        qtbot.keyClick(rems.answers[2], Qt.Key.Key_Return)
    assert workspace.log_model.entry_at(0).text == (
        "REMS check: sedation yes, dissociation yes, respiratory depression no"
    )
    assert [s[1:] for s in workspace.service.scale_points()] == [("moaas", 4)]
    # Under the chart, on its time axis: the 4 in the MOAA/S row, at the time scored.
    [(minutes, row, figure)] = workspace.strip.shown()
    assert (row, figure) == ("MOAA/S", "4")
    assert minutes == workspace.service.scale_points()[0][0]

    # The urgent reading scheduled a recheck five minutes after it.
    clock.advance(minutes=5)  # T+51
    workspace.tick()
    assert workspace.header.check_text() == "Due now: Recheck after an urgent reading"
    type_into(qtbot, workspace.vitals.line, "152/92 84 97")
    clock.advance(seconds=5)
    press(window, Qt.Key.Key_K, CTRL)  # the urgent one first
    assert workspace.banner.objectName() == "alertCaution"
    clock.advance(seconds=5)  # read before it is acknowledged
    press(window, Qt.Key.Key_K, CTRL)
    assert not workspace.banner.isVisible()
    workspace.tick()
    assert workspace.header.check_text().startswith("Next: BP and SpO2 every 30 minutes")

    # At 90 minutes sedation and dissociation have resolved, but discharge is blocked.
    clock.advance(minutes=39)  # T+90
    press(window, Qt.Key.Key_5, ALT)
    press(window, Qt.Key.Key_0, CTRL | ALT)  # RASS 0
    press(window, Qt.Key.Key_J, CTRL)
    # Nothing ticked records all three absent: said first, Enter again records it (QA).
    qtbot.keyClick(workspace.rems_dialog.answers[0], Qt.Key.Key_Return)
    assert workspace.rems_dialog.isVisible()
    assert workspace.rems_dialog.error.text().startswith("Nothing is ticked")
    assert "says otherwise" not in workspace.rems_dialog.error.text()  # MOAA/S 5, RASS 0
    clock.advance(seconds=1)
    with qtbot.waitSignal(workspace.rems_dialog.accepted):
        qtbot.keyClick(workspace.rems_dialog.answers[0], Qt.Key.Key_Return)
    type_into(qtbot, workspace.vitals.line, "134/84 74 98")
    press(window, Qt.Key.Key_E, CTRL | SHIFT)
    panel = workspace.discharge
    for box in panel.checks.values():
        box.setChecked(True)
    assert "NOT MET</b> — At least 120 minutes since the first dose: 90 of 120" in (
        panel.items.text()
    )
    # And the BP: 134/84 after 152/92 is not yet "consistent at a safe level" (CLINICAL.md).
    assert panel.items.text().count("NOT MET") == 2
    assert "Latest 134/84, but the one before, 152/92 at T+51" in panel.items_text()
    assert "Latest check at T+90: dissociation absent." in panel.items_text()  # how old
    qtbot.keyClick(panel.confirm, Qt.Key.Key_Space)
    assert "Not all discharge criteria are met" in panel.error.text()
    assert workspace.service.ended_at is None
    qtbot.keyClick(panel.cancel, Qt.Key.Key_Space)
    assert not panel.isVisible()

    # After 120 minutes, with the criteria met, it ends without an override.
    clock.advance(minutes=30)  # T+120
    type_into(qtbot, workspace.vitals.line, "130/82 72 98")
    press(window, Qt.Key.Key_E, CTRL | SHIFT)
    assert "NOT MET" not in panel.items.text()
    assert "All criteria met." in panel.items.text()
    assert panel.ready_minutes.isVisible()  # an esketamine session: the REMS form asks it
    qtbot.keyClicks(panel.ready_minutes, "-5")
    panel.override.setFocus()  # elsewhere in the panel, as a clinician moves on
    qtbot.keyClick(panel.confirm, Qt.Key.Key_Space)
    assert "is not minutes until ready to leave" in panel.error.text()
    # The keyboard to the minutes refused (QA: it stayed in the reason, out of view at
    # 1024x600, and what was typed went in unseen).
    assert window.focusWidget() is panel.ready_minutes
    qtbot.keyClicks(panel.ready_minutes, "95")  # over the "-5", selected
    qtbot.keyClick(panel.confirm, Qt.Key.Key_Space)
    assert workspace.service.ended_at == clock.now_utc()
    assert panel.title.text() == "Session ended"
    # As read: an escaped apostrophe showed as "&#x27;" (QA).
    assert "The patient's survey: Ctrl+Shift+S." in panel.items_text()
    assert "not met" not in panel.items_text()  # said only of an override

    # The record holds the alerts, the acknowledgements and the REMS figures.
    events = store.session_events(workspace.service.id)
    kinds = [e["kind"] for e in events]
    assert kinds.count("alert") == 2
    assert kinds.count("alert_ack") == 2
    [discharge] = [e for e in events if e["kind"] == "discharge"]
    rems_data = discharge["payload"]["rems"]
    assert rems_data["minutes_first_dose_to_end"] == 120
    assert rems_data["bp_at_40_minutes"] == "182/104"
    assert rems_data["concomitant_medicines"]["Benzodiazepines"] is True
    assert discharge["payload"]["ready_to_leave_minutes"] == 95
    assert discharge["payload"]["override_reason"] is None
    qtbot.keyClick(panel.cancel, Qt.Key.Key_Space)


def test_a_high_pre_dose_bp_asks_for_acknowledgement_before_the_dose(qtbot, window, store, clock):
    workspace = start_rems_session(qtbot, window, store)
    qtbot.keyClick(workspace.screening_dialog.intention, Qt.Key.Key_Return)  # nothing ticked
    clock.advance(seconds=1)
    with qtbot.waitSignal(workspace.screening_dialog.accepted):
        qtbot.keyClick(workspace.screening_dialog.intention, Qt.Key.Key_Return)
    type_into(qtbot, workspace.vitals.line, "148/94 80 98")
    press(window, Qt.Key.Key_D, CTRL)
    caution = workspace.caution_dialog
    assert caution.isVisible()
    assert workspace.dose_dialog is None
    qtbot.keyClick(caution.reason, Qt.Key.Key_Return)
    assert "empty" in caution.error.text()
    qtbot.keyClicks(caution.reason, "Repeat after rest 138/88; prescriber present")
    with qtbot.waitSignal(caution.accepted):
        qtbot.keyClick(caution.reason, Qt.Key.Key_Return)
    assert workspace.dose_dialog is not None  # the dose dialog follows at once
    workspace.dose_dialog.reject()


def test_a_malformed_protocol_file_is_reported_and_the_app_still_starts(
    qtbot, store, data_dir, clock
):
    folder = data_dir / "protocols"
    folder.mkdir()
    (folder / "clinic_iv.toml").write_text('name = "Clinic IV"\n[[checks]\nlabel = "x"\n')
    main = MainWindow(store, Settings(data_dir), clock)
    qtbot.addWidget(main)
    main.show()
    assert "clinic_iv.toml, line 2: not valid TOML" in main.verdict.text()
    assert set(main.protocols) == {
        "SPRAVATO REMS",
        "IV infusion",
        "IM injection",
        "Sublingual / lozenge",
    }


@pytest.mark.parametrize("sound", [False, True])
def test_silent_unless_the_clinic_turns_the_sound_on(
    qtbot, store, data_dir, clock, monkeypatch, sound
):
    beeps = []
    monkeypatch.setattr("kapdesk.ui.workspace.QApplication.beep", lambda: beeps.append(1))
    settings = Settings(data_dir)
    settings.set("sound_when_due", sound)
    main = MainWindow(store, settings, clock)
    qtbot.addWidget(main)
    workspace = start_rems_session(qtbot, main, store)
    workspace.screening_dialog.reject()
    workspace.service.record_screening(
        dict.fromkeys(CONTRAINDICATIONS, False), dict.fromkeys(MEDICINES, False), ""
    )
    assert beeps == ([1] if sound else [])  # the pre-dose check is due from the start
    workspace.service.record_vitals_line("128/82 72 98")
    clock.advance(minutes=1)
    workspace.service.record_dose(drug="ketamine", route="im", mg=50)
    clock.advance(minutes=30)
    workspace.tick()
    workspace.tick()
    assert workspace.service.next_check()[0].startswith("Next: 40-minute")
    assert beeps == ([1] if sound else [])
    clock.advance(minutes=6)  # the 40-minute check falls due: once, not at every tick
    workspace.tick()
    workspace.tick()
    assert beeps == ([1, 1] if sound else [])


def test_alert_thresholds_are_clinic_settings(qtbot, store, data_dir, clock):
    settings = Settings(data_dir)
    with pytest.raises(ValueError, match="Alert thresholds"):
        settings.set("alert_thresholds", {"caution_systolic": "high"})
    settings.set("alert_thresholds", {"caution_systolic": 130, "caution_diastolic": 85})
    main = MainWindow(store, settings, clock)
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    workspace = start_rems_session(qtbot, main, store)
    workspace.screening_dialog.reject()
    type_into(qtbot, workspace.vitals.line, "132/80 70 98")
    assert workspace.banner.headline.text() == "! CAUTION: BP 132/80: systolic above 130."
    # The chart's lines and the discharge criteria read the same thresholds.
    assert workspace.chart.threshold_labels() == [
        "caution 130",
        "caution 85",
        "urgent 180",
        "urgent 110",
    ]
    press(main, Qt.Key.Key_E, CTRL | SHIFT)
    assert "BP below caution (130/85)" in workspace.discharge.items.text()


def test_settings_that_are_not_in_force_are_said_in_the_window(qtbot, store, data_dir, clock):
    (data_dir / "settings.json").write_text('{"alert_thresholds": {"caution_sytolic": 130}}')
    main = MainWindow(store, Settings(data_dir), clock)
    qtbot.addWidget(main)
    assert "invalid and the defaults are used instead: alert_thresholds" in main.verdict.text()


def test_correcting_a_reading_into_and_out_of_the_urgent_range(qtbot, window, store, clock):
    workspace = start_rems_session(qtbot, window, store)
    workspace.screening_dialog.reject()
    type_into(qtbot, workspace.vitals.line, "132/84 76 97")
    assert not workspace.banner.isVisible()

    def correct_newest_reading(systolic: str, diastolic: str, reason: str) -> None:
        row = next(
            r
            for r in range(workspace.log_model.rowCount())
            if workspace.log_model.entry_at(r).kind == "vitals"
        )
        workspace.log_view.setCurrentIndex(workspace.log_model.index(row, 0))
        press(window, Qt.Key.Key_E, CTRL)
        dialog = workspace.correct_dialog
        for name, value in (("systolic", systolic), ("diastolic", diastolic)):
            dialog.edits[name].selectAll()
            qtbot.keyClicks(dialog.edits[name], value)
        qtbot.keyClicks(dialog.reason, reason)
        with qtbot.waitSignal(dialog.accepted):
            qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)

    correct_newest_reading("182", "104", "read the wrong line of the monitor")
    assert workspace.banner.isVisible()
    assert workspace.banner.objectName() == "alertUrgent"
    assert workspace.banner.headline.text().startswith("!! URGENT: BP 182/104")
    workspace.tick()
    assert workspace.header.check_text().startswith("Next: Recheck after an urgent reading")

    correct_newest_reading("132", "84", "it was 132/84 after all")
    assert not workspace.banner.isVisible()
    assert workspace.log_model.entry_at(0).text.startswith("Alert withdrawn: BP 182/104")
    workspace.tick()
    assert "Recheck" not in workspace.header.check_text()


def test_the_views_follow_the_service_without_being_told(qtbot, window, store, clock):
    """Acts made on the service directly (as a device feed or another view would) reach
    the log, the chart, the banner and the header through its events alone."""
    workspace = start_rems_session(qtbot, window, store)
    workspace.screening_dialog.reject()
    service = workspace.service
    service.record_screening(
        dict.fromkeys(CONTRAINDICATIONS, False), dict.fromkeys(MEDICINES, False), ""
    )
    service.record_vitals_line("128/82 72 98")
    service.record_dose(drug="esketamine", route="intranasal", mg=56, device_count=2)
    clock.advance(minutes=40)
    service.record_vitals_line("182/104 88 97")
    service.record_scale("moaas", 4)
    assert workspace.log_model.entry_at(0).text.startswith("MOAA/S 4")
    assert [p[1:] for p in workspace.chart.bp_points()] == [(128.0, 82.0), (182.0, 104.0)]
    assert workspace.chart.dose_marks() == [0.0]
    assert workspace.banner.objectName() == "alertUrgent"
    assert workspace.header.clock_texts()[1] == "00:00:00"  # the header repaints on its tick
    workspace.tick()
    assert workspace.header.clock_texts()[1] == "00:40:00"
    service.acknowledge_alert()
    assert not workspace.banner.isVisible()


def test_a_rems_check_with_nothing_ticked_says_the_sedation_score_that_disagrees(
    qtbot, window, store, clock
):
    """Xvfb QA: MOAA/S 4 and RASS -1, then Ctrl+J and one stray Enter recorded "sedation
    no, dissociation no, respiratory depression no", and discharge later read dissociation
    as resolved from it."""
    workspace = start_rems_session(qtbot, window, store)
    workspace.screening_dialog.reject()  # the form that opens with the session
    ALT = Qt.KeyboardModifier.AltModifier
    press(window, Qt.Key.Key_4, ALT)  # MOAA/S 4
    press(window, Qt.Key.Key_J, CTRL)
    rems = workspace.rems_dialog
    qtbot.keyClick(rems.answers[0], Qt.Key.Key_Return)
    qtbot.keyClick(rems.answers[0], Qt.Key.Key_Return)  # a reflex second Enter
    assert rems.isVisible()
    assert "The latest figures say otherwise: MOAA/S 4" in rems.error.text()
    assert not [s for s in workspace.service.state.scores() if s.content.scale_id == "rems"]
    # What is present ticked: recorded at once, no question.
    qtbot.keyClick(rems.answers[0], Qt.Key.Key_1)
    with qtbot.waitSignal(rems.accepted):
        qtbot.keyClick(rems.answers[0], Qt.Key.Key_Return)
    assert workspace.log_model.entry_at(0).text.startswith("REMS check: sedation yes")


def test_a_rems_check_saying_no_respiratory_depression_after_slow_breathing_asks_first(
    qtbot, window, store, clock
):
    """Xvfb QA: "respiratory depression no" was recorded a minute after an urgent RR of
    6/min, without a word. Asked once, naming the reading; Enter again a moment later
    records it; ticking 3 records at once."""
    workspace = start_rems_session(qtbot, window, store)
    workspace.screening_dialog.reject()
    workspace.store_vitals_line("128/82 72 98 rr 6")
    workspace.service.acknowledge_alert()
    clock.advance(minutes=1)
    press(window, Qt.Key.Key_J, CTRL)
    rems = workspace.rems_dialog
    qtbot.keyClick(rems.answers[0], Qt.Key.Key_1)  # sedation present; breathing not ticked
    qtbot.keyClick(rems.answers[0], Qt.Key.Key_Return)
    assert rems.isVisible()
    assert rems.error.text().startswith(
        "Respiratory depression is not ticked, but the latest reading says RR 6/min at "
    )
    assert workspace.message_text() == rems.error.text()
    clock.advance(seconds=2)
    with qtbot.waitSignal(rems.accepted):
        qtbot.keyClick(rems.answers[0], Qt.Key.Key_Return)
    assert workspace.log_model.entry_at(0).text.startswith(
        "REMS check: sedation yes, dissociation no, respiratory depression no"
    )
    # A normal rate since: asked nothing.
    workspace.store_vitals_line("128/82 72 98 rr 14")
    press(window, Qt.Key.Key_J, CTRL)
    rems = workspace.rems_dialog
    qtbot.keyClick(rems.answers[0], Qt.Key.Key_1)
    with qtbot.waitSignal(rems.accepted):
        qtbot.keyClick(rems.answers[0], Qt.Key.Key_Return)


def test_a_further_dose_after_an_urgent_reading_asks_for_the_reason_first(
    qtbot, window, store, clock
):
    """Xvfb QA: urgent readings standing after the first dose, and Ctrl+D, Enter recorded
    another dose, its amount filled in, without a word."""
    workspace = start_rems_session(qtbot, window, store)
    workspace.screening_dialog.reject()  # recorded below, as the form would
    service = workspace.service
    service.record_screening(
        dict.fromkeys(CONTRAINDICATIONS, False), dict.fromkeys(MEDICINES, False), ""
    )
    service.record_vitals_line("128/82 72 98")
    service.record_dose(
        drug="esketamine", route="intranasal", mg=28, device_count=1, lot_number="L1"
    )
    clock.advance(minutes=5)
    type_into(qtbot, workspace.vitals.line, "205/125 110 85")
    press(window, Qt.Key.Key_D, CTRL)
    caution = workspace.caution_dialog
    assert caution is not None
    assert caution.isVisible()
    assert workspace.dose_dialog is None
    words = " ".join(label.text() for label in caution.findChildren(QLabel))
    assert "An urgent finding since the last dose" in words
    assert "URGENT since the last dose: BP 205/125" in words
    qtbot.keyClick(caution.reason, Qt.Key.Key_Return)  # Enter alone records nothing
    assert "empty" in caution.error.text()
    assert len(store.entries("dose", service.id)) == 1
    qtbot.keyClicks(caution.reason, "Prescriber present; rechecked 150/92")
    with qtbot.waitSignal(caution.accepted):
        qtbot.keyClick(caution.reason, Qt.Key.Key_Return)
    assert workspace.dose_dialog is not None  # the dose form follows
    workspace.dose_dialog.reject()
    # Closed without a dose: the reason is not in the record alone (Xvfb QA: "Further
    # dose despite ..." stood in the log, and the course counted an override, no dose).
    kinds = [e["kind"] for e in store.session_events(service.id)]
    assert "dose_caution_ack" not in kinds
    assert len(store.entries("dose", service.id)) == 1
