"""The course chart, through what a clinician reads off it and does with it."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QToolTip

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.clinical.course import CourseSession, summarise_course
from kapdesk.clinical.self_report_files import load_instruments
from kapdesk.resources import resource
from kapdesk.widgets.course_chart import CourseChart

INSTRUMENTS = load_instruments([resource("instruments")]).instruments


def session(number: int, **changes: object) -> CourseSession:
    values: dict[str, object] = {
        "session_id": uuid.uuid4(),
        "number": number,
        "started_at": dt.datetime(2026, 10, 29, 15, 0, tzinfo=dt.UTC)
        + dt.timedelta(days=7 * (number - 1)),
        "zone_name": "Europe/London",
        "protocol": "IV infusion",
        "ended": True,
        "drug": "ketamine",
        "dose_mg": 35.0,
        "dose_mg_per_kg": 0.5,
        "pre_dose_systolic": 124,
        "pre_dose_diastolic": 78,
        "peak_systolic": 150,
        "peak_diastolic": 92,
        "alerts": 0,
        "urgent_alerts": 0,
        "overrides": 0,
        "scores": {"phq9": 18, "gad7": 14},
        "phq9_item9": 0,
    }
    values.update(changes)
    return CourseSession(**values)  # type: ignore[arg-type]


def four_sessions() -> list[CourseSession]:
    """A course responding, with a pre-dose baseline creeping up past the caution level."""
    return [
        session(1, scores={"phq9": 20, "gad7": 15}, phq9_item9=1),
        session(
            2,
            scores={"phq9": 12, "gad7": None},
            pre_dose_systolic=128,
            pre_dose_diastolic=82,
            peak_systolic=152,
            peak_diastolic=94,
            alerts=2,
            urgent_alerts=1,
            overrides=1,
            dose_mg_per_kg=0.55,
            dose_mg=38.5,
        ),
        # Late evening in London is already the next day in Tokyo: the local date is drawn.
        session(
            3,
            scores={"phq9": 4, "gad7": 6},
            started_at=dt.datetime(2026, 11, 12, 23, 30, tzinfo=dt.UTC),
            zone_name="Asia/Tokyo",
            pre_dose_systolic=142,
            pre_dose_diastolic=88,
        ),
        session(4, scores={"phq9": 3}, pre_dose_systolic=146, pre_dose_diastolic=92),
    ]


@pytest.fixture
def chart(qtbot):
    shown = CourseChart()
    qtbot.addWidget(shown)
    shown.resize(1366, 768)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def show_course(
    chart: CourseChart, sessions: list[CourseSession], thresholds: AlertThresholds | None = None
) -> None:
    """As the course view would: the clinical summary, the clinic's scales and thresholds."""
    thresholds = thresholds or AlertThresholds()
    chart.set_course(sessions, summarise_course(sessions, thresholds), INSTRUMENTS, thresholds)
    QApplication.processEvents()


def viewport_point(chart: CourseChart, number: float, panel: int) -> QPoint:
    """Where session ``number`` is drawn on a panel (0 scores, 1 dose, 2 BP), mid-height."""
    box = chart.plot_items()[panel].getViewBox()
    (_left, _right), (bottom, top) = box.viewRange()
    scene = box.mapViewToScene(QPointF(number, (bottom + top) / 2))
    return chart.graphics_view().mapFromScene(scene)


def test_left_and_right_move_the_selected_session_and_enter_opens_it(qtbot, chart):
    sessions = four_sessions()
    show_course(chart, sessions)
    chart.setFocus()
    assert chart.selected_session() is None
    QTest.keyClick(chart, Qt.Key.Key_Right)
    assert chart.selected_session() == sessions[0].session_id
    for _ in range(4):
        QTest.keyClick(chart, Qt.Key.Key_Right)  # the last one past the newest: it stays
    assert chart.selected_session() == sessions[3].session_id
    QTest.keyClick(chart, Qt.Key.Key_Left)
    QTest.keyClick(chart, Qt.Key.Key_Left)
    assert chart.selected_session() == sessions[1].session_id
    assert chart.readout_text().startswith("Session 2 · Thu 5 Nov 2026 · PHQ-9 12 moderate")
    QTest.keyClick(chart, Qt.Key.Key_Home)
    assert chart.selected_session() == sessions[0].session_id
    QTest.keyClick(chart, Qt.Key.Key_End)
    with qtbot.waitSignal(chart.session_activated) as activated:
        QTest.keyClick(chart, Qt.Key.Key_Return)
    assert activated.args == [sessions[3].session_id]
    assert chart.focusPolicy() == Qt.FocusPolicy.StrongFocus  # reached with Tab, too


def test_a_click_selects_a_session_and_a_double_click_opens_it(qtbot, chart):
    sessions = four_sessions()
    show_course(chart, sessions)
    viewport = chart.graphics_view().viewport()
    with qtbot.waitSignal(chart.session_selected) as selected:
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(chart, 2, 1))
    assert selected.args == [sessions[1].session_id]
    assert chart.hasFocus()
    with qtbot.waitSignal(chart.session_activated) as activated:
        QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(chart, 3, 0))
    assert activated.args == [sessions[2].session_id]


def test_select_session_by_id_survives_a_redraw_of_the_course(chart):
    sessions = four_sessions()
    show_course(chart, sessions)
    assert chart.select_session(sessions[1].session_id)
    assert not chart.select_session(uuid.uuid4())
    show_course(chart, sessions)
    assert chart.selected_session() == sessions[1].session_id


def test_the_course_finding_is_a_sentence_shown_in_the_chart(chart):
    sessions = four_sessions()
    finding = summarise_course(sessions, AlertThresholds()).findings.trend_reason
    assert finding is not None
    show_course(chart, sessions)
    assert chart.finding_text() == finding
    assert finding.endswith("re-screen for hypertension before the next dose.")
    label = next(w for w in chart.findChildren(QLabel) if w.text() == finding)
    assert label.isVisible()
    assert chart.rect().contains(label.geometry().translated(label.parentWidget().pos()))
    show_course(chart, sessions[:3])  # three baselines: too few to call a trend
    assert chart.finding_text() == ""


def test_the_marks_are_words_at_their_sessions(chart):
    show_course(chart, four_sessions())
    words = chart.words_drawn()
    assert words["phq9"] == [(3.0, "Rem"), (4.0, "Rem")]  # 20 to 4 and 3: both
    assert words["item 9"] == [(1.0, "item 9")]
    assert words["high"] == [(3.0, "high"), (4.0, "high")]  # 142/88, 146/92 over 140/90
    assert words["counts"] == [(2.0, "2A 1ov")]  # "1O" read as "10" (QA)
    assert words["dose"][1] == (2.0, "38.5")


def test_the_caution_lines_carry_the_clinics_numbers(chart):
    show_course(chart, four_sessions())
    assert chart.caution_labels() == ["caution 140", "caution 90"]
    show_course(chart, four_sessions(), AlertThresholds(caution_systolic=135, caution_diastolic=85))
    assert chart.caution_labels() == ["caution 135", "caution 85"]


def test_an_incomplete_scale_is_a_gap_not_a_zero(chart):
    sessions = four_sessions()  # GAD-7 incomplete at session 2, not given at 4
    show_course(chart, sessions)
    gad7 = chart.score_points("gad7")
    assert [x for x, _y in gad7] == [1.0, 2.0, 3.0]  # session 4's is left out
    assert gad7[0] == (1.0, 15.0)
    assert math.isnan(gad7[1][1])  # session 2's was incomplete: NaN breaks the line
    assert chart.tick_labels()[2] == "3\n13 Nov"  # Tokyo's date, not London's
    assert chart.score_points("phq9") == [(1.0, 20.0), (2.0, 12.0), (3.0, 4.0), (4.0, 3.0)]
    text = chart.session_text(sessions[1].session_id)
    assert "GAD-7 incomplete, not scored" in text
    assert "GAD-7 not given" in chart.session_text(sessions[3].session_id)


def test_hovering_over_a_session_names_its_scores_dose_and_bp(qtbot, chart):
    sessions = four_sessions()
    show_course(chart, sessions)
    viewport = chart.graphics_view().viewport()
    QTest.mouseMove(viewport, viewport_point(chart, 2, 2))
    qtbot.waitUntil(lambda: chart.hover_text() != "")
    lines = chart.hover_text().splitlines()
    assert lines[0] == "Session 2 · Thu 5 Nov 2026"
    assert "PHQ-9 12 moderate" in lines
    assert "ketamine 38.5 mg (0.55 mg/kg)" in lines
    assert "BP pre-dose 128/82, peak 152/94" in lines
    assert "2 alerts (1 urgent) · 1 override" in lines
    QTest.mouseMove(viewport, viewport_point(chart, 3, 0))
    qtbot.waitUntil(lambda: chart.hover_text().startswith("Session 3"))
    text = chart.hover_text()
    assert "Session 3 · Fri 13 Nov 2026" in text  # Tokyo's date, not London's
    assert "PHQ-9 4 minimal, response, remission" in text
    assert "BP pre-dose 142/88, peak 150/92" in text
    assert "Pre-dose BP 142/88 was above the caution level 140/90." in text
    assert "PHQ-9 item 9" not in text
    assert "PHQ-9 item 9 answered 1 (above 0)" in chart.session_text(sessions[0].session_id)
    QTest.mouseMove(viewport, QPoint(2, 2))  # off every panel: the hover goes
    assert chart.hover_text() == ""
    qtbot.waitUntil(lambda: not QToolTip.isVisible())  # Qt hides it after a moment


def test_the_wheel_leaves_the_course_in_view(chart):
    show_course(chart, four_sessions())
    box = chart.plot_items()[2].getViewBox()
    before = box.viewRange()
    viewport = chart.graphics_view().viewport()
    where = QPointF(viewport_point(chart, 2, 2))
    wheel = QWheelEvent(
        where,
        QPointF(viewport.mapToGlobal(where.toPoint())),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    assert box.viewRange() == before


def test_an_empty_course_says_so_in_a_sentence(chart):
    chart.set_course([])
    assert chart.empty_sentence() == (
        "No dosing sessions in this course yet: the chart begins with the first one."
    )
    assert not chart.graphics_view().isVisible()
    QTest.keyClick(chart, Qt.Key.Key_Right)  # nothing to select, nothing breaks
    assert chart.selected_session() is None
    show_course(chart, four_sessions())
    assert chart.empty_sentence() is None
    assert chart.graphics_view().isVisible()


def test_a_hundred_sessions_label_their_ticks_without_crowding(chart):
    sessions = [session(n) for n in range(1, 101)]
    chart.set_course(sessions)
    QApplication.processEvents()
    labelled = chart.tick_labels()
    assert 5 <= len(labelled) <= 20  # every 5th or 10th session, each with its date
    assert all("\n" in text for text in labelled)


def test_a_short_window_keeps_the_finding_in_view_and_the_bp_range_sane(qtbot, chart):
    """At a clinic laptop's 1024x600 the chart gets about 1000x410: the sentences take a
    line each, cut short with the whole in their tooltips, except the finding, which says
    what to do and stays whole; and the panels keep the room
    their marks need; the BP's range stays near its readings, never 0-300 mmHg."""
    sessions = four_sessions()
    finding = summarise_course(sessions, AlertThresholds()).findings.trend_reason
    assert finding is not None
    chart.resize(1000, 410)
    show_course(chart, sessions)
    chart.select_session(sessions[1].session_id)
    qtbot.waitUntil(lambda: chart.plot_items()[2].getViewBox().height() > 0)
    assert chart.finding_text() == finding  # whole, however it is drawn
    # The whole sentence in view, wrapped, never cut: its end says what to do.
    shown = [w for w in chart.findChildren(QLabel) if w.isVisible() and w.text() == finding]
    assert len(shown) == 1
    line = shown[0]
    assert chart.rect().contains(line.geometry().translated(line.parentWidget().pos()))
    readout = chart.readout_text()
    assert readout.startswith("Session 2 · Thu 5 Nov 2026")
    assert chart.accessibleDescription() == readout
    assert any(w.isVisible() and w.text() == readout for w in chart.findChildren(QLabel))
    boxes = [plot.getViewBox() for plot in chart.plot_items()]
    scores, dose, bp = (box.height() for box in boxes)
    assert bp >= 90  # the marks' panels take the room, the dose gives it
    assert scores >= 90  # the readout and the finding, whole, take two lines each
    assert dose < min(scores, bp) / 2
    # The readings (78..152) and the caution lines (90, 140) fill most of the BP panel.
    low, high = boxes[2].viewRange()[1]
    assert 40 < low <= 78
    assert 152 <= high < 240
    assert high - low < 2 * (152 - 78)
    assert chart.words_drawn()["dose"] == []  # bars alone: the readout has the dose
    # Back to a tall window: the two-line sentences, the dose numbers over the bars.
    chart.resize(1366, 768)
    QApplication.processEvents()
    qtbot.waitUntil(lambda: chart.words_drawn()["dose"] != [])
    wrapped = next(w for w in chart.findChildren(QLabel) if w.text() == finding)
    assert wrapped.isVisible()
    assert wrapped.wordWrap()


def test_the_bp_axis_reads_no_minus_zero(chart):
    """Xvfb QA: a session with a reading of 300/20 drew the BP axis down past 0, and its
    tick there read "-0" (the course page's chart height at 1366x768, with its notes)."""
    chart.resize(1366, 500)
    show_course(
        chart,
        [
            session(
                1,
                pre_dose_systolic=165,
                pre_dose_diastolic=100,
                peak_systolic=300,
                peak_diastolic=20,
                alerts=6,
                urgent_alerts=2,
                overrides=2,
            )
        ],
    )
    axis = chart.plot_items()[2].getAxis("left")
    labels = [label for _value, label in axis._tickLevels[0]]
    assert labels
    assert all(not label.startswith("-0") for label in labels), labels
