"""The reusable controls, through what a person reads off them."""

from __future__ import annotations

import math

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.clinical.vitals import VITAL_RANGES
from kapdesk.widgets.alert_banner import AlertBanner
from kapdesk.widgets.bp_chart import BPChart
from kapdesk.widgets.scale_strip import ScaleStrip
from kapdesk.widgets.session_header import SessionHeader
from kapdesk.widgets.vitals_entry import VitalsEntry


def test_the_chart_draws_the_thresholds_it_is_given(qtbot):
    chart = BPChart(thresholds=AlertThresholds(caution_systolic=130, urgent_diastolic=105))
    qtbot.addWidget(chart)
    assert chart.threshold_labels() == ["caution 130", "caution 90", "urgent 180", "urgent 105"]


def test_the_top_pressure_on_the_chart_is_not_cut(qtbot):
    """The top tick's figures ("200") are centred on the plot's top edge: with the plot at
    the chart's top they were cut in half (issue 10 QA)."""
    chart = BPChart(font_px=16)
    qtbot.addWidget(chart)
    chart.resize(700, 400)
    chart.show()
    qtbot.waitExposed(chart)
    top_of_plot = chart.getPlotItem().getViewBox().sceneBoundingRect().top()
    assert top_of_plot >= 16 / 2  # room for the upper half of a 16 px figure


def test_the_chart_shows_readings_doses_and_the_baseline(qtbot):
    chart = BPChart()
    qtbot.addWidget(chart)
    chart.set_readings(
        [-5.0, 40.0, 45.0],
        [128.0, 166.0, math.nan],
        [82.0, 98.0, math.nan],
        [70.0, 88.0, 90.0],
        [97.3, 120.7, math.nan],
        ["09:55 T−5", "10:40 T+40", "10:45 T+45"],
    )
    chart.set_doses([0.0])
    chart.set_baseline((128.0, 82.0))
    assert chart.bp_points() == [(-5.0, 128.0, 82.0), (40.0, 166.0, 98.0)]  # no BP at 45
    assert chart.heart_rate_points() == [(-5.0, 70.0), (40.0, 88.0), (45.0, 90.0)]
    assert chart.dose_marks() == [0.0]
    assert chart.baseline_shown() == (128.0, 82.0)
    assert not chart.mean_arterial_shown()
    chart.show_mean_arterial(True)
    assert [v for _x, v in chart.mean_arterial_points()] == [97.3, 120.7]


def test_the_header_frames_a_due_or_overdue_check(qtbot):
    header = SessionHeader("Ada Example", "IM injection")
    qtbot.addWidget(header)
    header.set_check("Next: 15-minute BP in 00:05:00", "upcoming")
    assert header.check_state() == "upcoming"
    header.set_check("OVERDUE by 00:06:00: 15-minute BP", "overdue")
    assert header.check_state() == "overdue"
    assert header.check_text() == "OVERDUE by 00:06:00: 15-minute BP"
    header.set_clocks("00:45:00", "00:40:00")
    assert header.clock_texts() == ("00:45:00", "00:40:00")


def test_the_banner_spells_out_the_level(qtbot):
    banner = AlertBanner()
    qtbot.addWidget(banner)
    banner.show_alert("urgent", "BP 182/104", "BP 182/104 is at or above 180/110.", "Recheck.", 1)
    assert banner.headline.text() == "!! URGENT: BP 182/104 is at or above 180/110.   (+1 more)"
    assert banner.objectName() == "alertUrgent"


def test_the_vitals_fields_are_the_vital_signs_kapdesk_records(qtbot):
    entry = VitalsEntry()
    qtbot.addWidget(entry)
    assert list(entry.fields) == list(VITAL_RANGES)
    entry.toggle.setChecked(True)
    for name, value in (("systolic", "132"), ("diastolic", "84"), ("heart_rate", "76")):
        qtbot.keyClicks(entry.fields[name], value)
    with qtbot.waitSignal(entry.fields_submitted) as submitted:
        qtbot.keyClick(entry.fields["heart_rate"], Qt.Key.Key_Return)
    assert submitted.args == [{"systolic": "132", "diastolic": "84", "heart_rate": "76"}]


def test_a_refusal_of_the_boxes_goes_when_esc_closes_them(qtbot):
    """Xvfb QA: "Diastolic 120 must be below systolic 80" stayed under the empty vitals
    line after Esc closed the boxes it was about; what was typed in them stays."""
    entry = VitalsEntry()
    qtbot.addWidget(entry)
    entry.show()
    entry.toggle.click()
    entry.fields["systolic"].setText("80")
    entry.show_error("Diastolic 120 must be below systolic 80.")
    qtbot.keyClick(entry.fields["systolic"], Qt.Key.Key_Escape)
    assert entry.fields_box.isHidden()
    assert entry.error.isHidden()
    assert entry.fields["systolic"].text() == "80"


def test_the_sedation_strip_writes_each_score_in_its_row(qtbot):
    chart = BPChart()
    qtbot.addWidget(chart)
    strip = ScaleStrip(chart)
    qtbot.addWidget(strip)
    strip.resize(700, 80)
    strip.show()
    qtbot.waitExposed(strip)
    strip.setXRange(0, 90, padding=0)
    strip.set_scores([(15.0, "moaas", 5), (30.0, "rass", -2), (45.0, "rass", 1)])
    strip.set_scores([(15.0, "moaas", 5), (30.0, "rass", -2), (45.0, "rass", 1), (60, "rass", 0)])
    assert strip.shown() == [
        (15.0, "MOAA/S", "5"),
        (30.0, "RASS", "\N{MINUS SIGN}2"),
        (45.0, "RASS", "+1"),  # RASS is signed: +1 restless, −2 light sedation
        (60.0, "RASS", "0"),
    ]
    # Six hours on the axis: scores a minute apart would print over each other. The
    # newer is drawn, in each row; scores far apart all are.
    strip.setXRange(0, 360, padding=0)
    close_together = [(40.0, "moaas", 4), (40.5, "rass", -1), (41.0, "moaas", 2)]
    strip.set_scores([*close_together, (41.5, "rass", -3), (120.0, "moaas", 5)])
    assert strip.shown() == [
        (41.0, "MOAA/S", "2"),
        (41.5, "RASS", "\N{MINUS SIGN}3"),
        (120.0, "MOAA/S", "5"),
    ]
    strip.setXRange(40, 42, padding=0)  # two minutes across: room for each
    assert len(strip.shown()) == 5  # the one at 120 min is off to the right, not hidden


@pytest.mark.parametrize("floor", [None, 25.0])
def test_a_chart_kept_up_to_date_looks_like_one_drawn_afresh(qtbot, floor):
    """The grid, axes, thresholds, doses and baseline are kept as drawn between repaints:
    after the time axis grows, a dose is added and the baseline moves (and a diastolic
    under the floor rescales the mmHg axis), the chart must be pixel for pixel what a new
    chart given the same readings draws."""

    def drawn(n, doses, baseline, chart=None):
        if chart is None:
            chart = BPChart()
            qtbot.addWidget(chart)
            chart.resize(700, 420)
            chart.show()
            qtbot.waitExposed(chart)
        minutes = [-10.0 + 5 * i for i in range(n)]
        systolic = [130.0 + (i * 7) % 30 for i in range(n)]
        diastolic = [80.0 + (i * 3) % 12 for i in range(n)]
        if floor is not None and n > 6:
            diastolic[-1] = floor
        rates = [70.0 + i % 9 for i in range(n)]
        chart.set_readings(minutes, systolic, diastolic, rates, systolic, list(map(str, minutes)))
        chart.set_doses(doses)
        chart.set_baseline(baseline)
        return chart

    kept = drawn(6, [0.0], (128.0, 82.0))
    kept.grab()  # drawn, and kept, at the first range
    drawn(30, [0.0, 40.0], (131.0, 84.0), kept)  # the time axis grows to two hours
    fresh = drawn(30, [0.0, 40.0], (131.0, 84.0))
    assert kept.grab().toImage() == fresh.grab().toImage()


def test_drawing_a_session_on_the_chart_never_auto_ranges(qtbot, monkeypatch):
    """The chart sets its ranges itself. Its first drawing with readings made pyqtgraph
    measure every item once more for an automatic range it then turned off: 20 ms of
    the 30 a finished session's chart took to draw (issue 10). Counted, not timed."""
    chart = BPChart()
    strip = ScaleStrip(chart)
    qtbot.addWidget(chart)
    qtbot.addWidget(strip)
    measured = []
    real = pg.ViewBox.childrenBounds
    monkeypatch.setattr(
        pg.ViewBox,
        "childrenBounds",
        lambda self, *a, **k: measured.append(1) or real(self, *a, **k),
    )
    minutes = [float(m) for m in range(-10, 120, 5)]
    chart.set_readings(
        minutes,
        [130.0] * len(minutes),
        [80.0] * len(minutes),
        [70.0] * len(minutes),
        [96.7] * len(minutes),
        [str(m) for m in minutes],
    )
    chart.set_doses([0.0, 30.0])
    strip.set_scores([(10.0, "moaas", 4)])
    assert measured == []
    assert chart.getViewBox().viewRange()[0][1] >= 120  # the whole session in view


def test_a_value_under_the_chart_floor_widens_the_chart_to_show_it(qtbot):
    """A diastolic of 20 (300/20 is within each value's plausible range) and a heart rate
    of 35 were drawn below the chart's 40 mmHg floor, out of sight (QA)."""
    chart = BPChart()
    qtbot.addWidget(chart)
    chart.set_readings(
        [-5.0, 10.0], [128.0, 300.0], [82.0, 20.0], [70.0, 35.0], [97.0, 113.0], ["a", "b"]
    )
    low, high = chart.getViewBox().viewRange()[1]
    assert low <= 15
    assert high >= 300
    assert (10.0, 300.0, 20.0) in chart.bp_points()
    chart.set_readings([-5.0], [128.0], [82.0], [70.0], [97.0], ["a"])
    assert chart.getViewBox().viewRange()[1][0] == 40  # the usual floor again


def test_dose_lines_made_ahead_are_placed_labelled_and_hidden_when_unused(qtbot):
    """The chart made ahead of need makes its dose lines then (issue 10); each session's
    doses are drawn on them, and a line no dose uses is not drawn."""
    from kapdesk.widgets.bp_chart import BPChart

    chart = BPChart()
    qtbot.addWidget(chart)
    chart.make_dose_lines(3)
    assert chart.dose_marks() == []  # made, not drawn
    chart.set_doses([0.0, 5.0])
    assert chart.dose_marks() == [0.0, 5.0]
    chart.set_doses([0.0])  # the second dose corrected away
    assert chart.dose_marks() == [0.0]
    chart.set_doses([0.0, 5.0, 30.0, 60.0])  # one more than were made
    assert chart.dose_marks() == [0.0, 5.0, 30.0, 60.0]
    labels = [line.label.toPlainText() for line in chart._dose_lines if line.isVisible()]
    assert labels == ["dose 1", "dose 2", "dose 3", "dose 4"]


def test_the_chart_is_painted_once_for_each_change(qtbot, qapp):
    """pyqtgraph placed a plot's items for a new size or range as the next paint began;
    the items moving then asked for a second paint of the whole chart at once: each
    resize, and each reading that moved the chart's range, painted it twice (~10 ms a
    paint with a six-hour session's readings, issue 10)."""
    from PySide6.QtCore import QEvent, QObject

    from kapdesk.ui.theme import apply_theme

    apply_theme(qapp, "dark", 1.0)  # sizes as in use
    chart = BPChart()
    qtbot.addWidget(chart)
    paints: list[int] = []

    class Paints(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint and watched is chart.viewport():
                paints.append(1)
            return False

    def painted(change) -> int:
        paints.clear()
        change()
        for _ in range(5):  # until nothing more is painted
            qapp.processEvents()
        return len(paints)

    def readings(hours: float):
        minutes = [m / 2 for m in range(int(hours * 120))]
        return (
            minutes,
            [128.0] * len(minutes),
            [82.0] * len(minutes),
            [70.0] * len(minutes),
            [97.0] * len(minutes),
            lambda _i: "",
        )

    watching = Paints()
    qapp.installEventFilter(watching)
    try:
        assert painted(lambda: (chart.resize(736, 391), chart.show())) == 1
        assert painted(lambda: chart.resize(736, 450)) == 1
        assert painted(lambda: chart.set_readings(*readings(5))) == 1  # the range moves on
        chart.hide()
        chart.set_readings(*readings(6))
        assert painted(lambda: (chart.resize(700, 391), chart.show())) == 1
    finally:
        qapp.removeEventFilter(watching)
        qapp.setStyleSheet("")
