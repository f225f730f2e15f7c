"""The question Ctrl+Q or Alt+F4 asks while a session runs: it names the session, and
"Keep working" is the default (issue 9)."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from kapdesk.clinical.elapsed import format_elapsed
from kapdesk.session.service import SessionService


def quit_question(parent: QWidget, service: SessionService) -> tuple[QMessageBox, QAbstractButton]:
    """The question, and its button that quits (leaving the session open)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Quit kapdesk?")
    box.setText(
        f"The session for {service.patient_name} ({service.protocol_name}) is still "
        f"running: {format_elapsed(service.since_start())} since it started."
    )
    box.setInformativeText(
        "Quitting leaves it open: its clock keeps time and it can be resumed when "
        "kapdesk starts again. To end it, keep working and press Ctrl+Shift+E."
    )
    keep = box.addButton("Keep working (Esc)", QMessageBox.ButtonRole.RejectRole)
    leave = box.addButton("Quit, leaving it open", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    return box, leave
