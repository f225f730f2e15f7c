"""The session's actions: each clinical act on one key, shown in the menu and the tooltip."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QLineEdit, QWidget

from kapdesk.clinical.scales import SCALES

if TYPE_CHECKING:
    from kapdesk.ui.workspace import SessionWorkspace


def make_action(parent: QWidget, text: str, shortcut: str, slot: Callable[[], Any]) -> QAction:
    """An action whose shortcut is shown in its menu entry and its tooltip."""
    action = QAction(text, parent)
    action.setShortcut(QKeySequence(shortcut))
    plain = text.replace("&", "").rstrip(".…")
    action.setToolTip(f"{plain} ({QKeySequence(shortcut).toString()})" if shortcut else plain)
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    # A held chord must not act again: Alt+2 held a moment stored several MOAA/S scores and
    # Ctrl+D opened the caution twice (issue 9).
    action.setAutoRepeat(False)
    action.triggered.connect(slot)
    parent.addAction(action)
    return action


class ShortcutsFirst(QObject):
    """The session's chords reach their acts even from a text field. On X11 a line edit
    claims Ctrl+E (end of line), Ctrl+U, Ctrl+Z and others before the window's shortcuts
    see them, so Ctrl+E (correct) typed in the observation line did nothing (issue 9)."""

    def __init__(self, parent: QObject, actions: list[QAction]) -> None:
        super().__init__(parent)
        self._chords = {a.shortcut().toString() for a in actions if not a.shortcut().isEmpty()}

    def watch(self, root: QWidget) -> None:
        """Every text field in ``root`` lets the session's chords through."""
        for edit in root.findChildren(QLineEdit):
            edit.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and QKeySequence(event.keyCombination()).toString() in self._chords
        ):
            event.ignore()  # not the field's: the window's shortcut takes it
            return True
        return False


# The session screen's chords that mean nothing on the patients page (Ctrl+E corrects a
# patient there): pressed there, what they are for is said (Xvfb QA: Ctrl+Shift+P with an
# ended session chosen did nothing, without a word). tests/ui keeps it to session_actions.
SESSION_ONLY_KEYS = frozenset(
    {
        "Ctrl+D", "Ctrl+B", "Ctrl+O", "Ctrl+L", "Ctrl+I", "Ctrl+Shift+E", "Ctrl+G",
        "Ctrl+K", "Ctrl+Shift+K", "Ctrl+J", "Ctrl+Shift+I", "Ctrl+Shift+S", "Ctrl+Shift+P",
        "Ctrl+P", "Ctrl+Shift+F",
    }
)  # fmt: skip


def session_actions(workspace: SessionWorkspace) -> tuple[dict[str, QAction], list[QAction]]:
    """The workspace's actions by name, and one per sedation-scale level."""
    by_name = {
        "dose": make_action(workspace, "Record a &dose…", "Ctrl+D", workspace.open_dose_dialog),
        "vitals": make_action(workspace, "Enter &vitals", "Ctrl+B", workspace.vitals_key),
        "observation": make_action(
            workspace, "Write an &observation", "Ctrl+O", workspace.observation_key
        ),
        "log": make_action(workspace, "Go to the &log", "Ctrl+L", workspace.go_to_log),
        "correct": make_action(
            workspace, "&Correct the selected entry…", "Ctrl+E", workspace.open_correct
        ),
        "stop_infusion": make_action(
            workspace, "&Stop the IV infusion", "Ctrl+I", workspace.stop_infusion
        ),
        "end": make_action(workspace, "&End the session…", "Ctrl+Shift+E", workspace.ask_end),
        "screening": make_action(workspace, "Sc&reening…", "Ctrl+G", workspace.open_screening),
        "acknowledge": make_action(
            workspace, "&Acknowledge the alert", "Ctrl+K", workspace.acknowledge_alert
        ),
        "alert_whole": make_action(
            workspace,
            "The alert on the banner, &whole",
            "Ctrl+Shift+K",
            workspace.open_banner_alert,
        ),
        "rems": make_action(
            workspace,
            "REMS &check (sedation, dissociation, breathing)…",
            "Ctrl+J",
            workspace.open_rems_check,
        ),
        "intention": make_action(
            workspace, "The patient's &intention…", "Ctrl+Shift+I", workspace.open_intention
        ),
        "survey": make_action(
            workspace,
            "Hand over for the patient's s&urvey…",
            "Ctrl+Shift+S",
            workspace.survey_requested.emit,
        ),
        "report": make_action(
            workspace, "Save the &report as PDF…", "Ctrl+Shift+P", workspace.save_report
        ),
        "print": make_action(workspace, "&Print the report…", "Ctrl+P", workspace.print_report),
        "rems_form": make_action(
            workspace,
            "REMS &monitoring form (PDF or CSV)…",
            "Ctrl+Shift+F",
            workspace.save_rems_form,
        ),
    }
    scales = [
        make_action(
            workspace,
            scale.label(level.value),
            level.shortcut,
            lambda _checked=False, s=scale.id, v=level.value: workspace.store_scale(s, v),
        )
        for scale in SCALES.values()
        for level in scale.levels
    ]
    return by_name, scales
