"""The settings form, generated from the declarations: what it offers is what may be stored."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QApplication, QWidget

from kapdesk.local.settings import SETTINGS, Settings
from kapdesk.ui.settings_dialog import SettingsDialog
from tests.ui.test_rems_session import start_rems_session
from tests.ui.test_workspace import CTRL, press


def test_every_setting_has_a_control_and_thresholds_keep_their_bounds(qtbot, data_dir):
    dialog = SettingsDialog(Settings(data_dir))
    qtbot.addWidget(dialog)
    values = dialog.values()
    assert set(values) == set(SETTINGS)
    assert values["alert_thresholds"] == {}  # nothing differs from CLINICAL.md's defaults
    assert values["theme"] == "dark"
    assert values["quick_tags"][:2] == ["calm", "anxious"]


def test_changing_a_threshold_in_the_form_reaches_the_chart_and_banner(
    qtbot, window, store, data_dir, clock
):
    workspace = start_rems_session(qtbot, window, store)
    workspace.screening_dialog.reject()
    press(window, Qt.Key.Key_Comma, CTRL)
    dialog = window.settings_dialog
    assert dialog is not None
    box = control(dialog, "Caution above, systolic (mmHg)")
    box.selectAll()
    qtbot.keyClicks(box, "130")
    assert box.value() == 130
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    assert Settings(data_dir).get("alert_thresholds") == {"caution_systolic": 130}
    rebuilt = window.workspace
    assert rebuilt is not workspace  # a new workspace over the new thresholds
    assert rebuilt.chart.threshold_labels()[0] == "caution 130"
    rebuilt.service.record_screening(
        *[dict.fromkeys(keys, False) for keys in _screening_keys()], ""
    )
    rebuilt.store_vitals_line("132/80 70 98")
    assert rebuilt.banner.headline.text() == "! CAUTION: BP 132/80: systolic above 130."


def test_a_value_outside_its_bounds_cannot_be_typed(qtbot, data_dir):
    dialog = SettingsDialog(Settings(data_dir))
    qtbot.addWidget(dialog)
    box = control(dialog, "Urgent at or above, systolic (mmHg)")
    box.selectAll()
    qtbot.keyClicks(box, "250")
    assert box.value() <= 200  # the form offers only what clinical bounds allow


def test_a_value_the_box_stopped_half_typed_is_refused_in_words(qtbot, window, data_dir):
    """Xvfb QA: 260 typed showed "26", and Enter closed the form with the old 180 kept,
    as if saved. Now the bounds are beside the box and Enter says what is wrong."""
    press(window, Qt.Key.Key_Comma, CTRL)
    dialog = window.settings_dialog
    box = control(dialog, "Urgent at or above, systolic (mmHg)")
    assert "150–200" in dialog.form.labelForField(box).text()
    box.selectAll()
    qtbot.keyClicks(box, "260")
    assert box.text() == "26"
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert "26 is not between 150 and 200, so nothing was saved" in dialog.error.text()
    # Over the buttons, in view, not at the foot of the rows (Xvfb QA: out of sight).
    assert not dialog.area.isAncestorOf(dialog.error)
    assert dialog.error.isVisible()
    assert Settings(data_dir).get("alert_thresholds") == {}
    # Left half typed (Tab, as the window manager delivers it): it goes back, and says so.
    QApplication.sendEvent(box, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.TabFocusReason))
    assert "26 is not between 150 and 200, so it is back to 180" in dialog.error.text()
    assert box.value() == 180
    # Nothing differs from what the form opened with: Esc closes it, asking nothing (Xvfb
    # QA: "not saved yet" of a value refused and put back).
    dialog.cancel()
    assert not dialog.isVisible()
    press(window, Qt.Key.Key_Comma, CTRL)
    dialog = window.settings_dialog
    box = control(dialog, "Urgent at or above, systolic (mmHg)")
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "190")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    assert Settings(data_dir).get("alert_thresholds") == {"urgent_systolic": 190}


def control(dialog, name):
    """The form's control with this accessible name (what a screen reader announces)."""
    return next(w for w in dialog.findChildren(QWidget) if w.accessibleName() == name)


def _screening_keys():
    from kapdesk.clinical.screening import CONTRAINDICATIONS, MEDICINES

    return CONTRAINDICATIONS, MEDICINES


def test_the_wheel_scrolls_the_settings_and_changes_no_threshold(qtbot, data_dir):
    """Xvfb QA: scrolling the form with the pointer over a box changed "Caution above,
    diastolic" from 90 to 75."""
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    dialog = SettingsDialog(Settings(data_dir))
    qtbot.addWidget(dialog)
    dialog.resize(760, 400)
    dialog.show()
    qtbot.waitExposed(dialog)
    box = control(dialog, "Caution above, diastolic (mmHg)")
    before = box.value()
    bar = dialog.area.verticalScrollBar()
    bar.setValue(0)
    at = QPointF(box.rect().center())
    for _ in range(3):
        wheel = QWheelEvent(
            at,
            QPointF(box.mapToGlobal(at.toPoint())),
            QPoint(0, 0),
            QPoint(0, -120),  # toward the user: down the page, or a step down in a box
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(box, wheel)
    assert box.value() == before
    assert bar.value() > 0  # the form scrolled instead


def test_a_time_zone_that_is_not_one_is_refused_in_the_form(qtbot, window, data_dir):
    """QA: "Mars/Olympus" and Enter gave "kapdesk met an unexpected error"; a second Enter
    did nothing at all. The form says why, the keyboard goes back to the zone, and nothing
    is stored."""
    press(window, Qt.Key.Key_Comma, CTRL)
    dialog = window.settings_dialog
    assert dialog is not None
    zone = control(dialog, "Clinic time zone (empty: this computer's)")
    zone.setFocus()
    qtbot.keyClicks(zone, "Mars/Olympus")
    qtbot.keyClick(zone, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert "“Mars/Olympus” is not a time zone name such as Europe/London" in dialog.error.text()
    assert QApplication.focusWidget() is zone
    assert not (data_dir / "settings.json").exists()
    dialog.reject()
