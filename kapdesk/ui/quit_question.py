"""The question Ctrl+Q or Alt+F4 asks while a session runs: it names the session, and
"Keep working" is the default (issue 9)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from kapdesk.clinical.elapsed import format_elapsed

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kapdesk.session.alerting import StoredAlert
    from kapdesk.session.service import SessionService


def not_acknowledged(pending: Sequence[StoredAlert], where: str = "") -> str:
    """The first alert not acknowledged, and how many more ("in Ben’s session" ``where``
    it is not the one on screen)."""
    first = pending[0]
    more = f" (and {len(pending) - 1} more)" if len(pending) > 1 else ""
    place = f" {where}" if where else ""
    return (
        f"Not acknowledged{place}: {first.level.value.upper()} alert, "
        f"{first.reason.rstrip('.')}{more}."
    )


def quit_question(
    parent: QWidget,
    service: SessionService | None,
    under_way: str = "",
    unsaved: Sequence[tuple[str, str, bool]] = (),
    *,
    not_shown: str = "",
    not_shown_count: int = 0,
) -> tuple[QMessageBox, QAbstractButton]:
    """The question, and its button that quits (leaving the session open). ``under_way``:
    a verification or backup running now ("Backing up the record"), which quitting stops.
    ``unsaved``: each entry line's name, the text typed in it and not yet entered, which
    quitting loses, and whether it was refused (the line says why).
    ``not_shown``: the sessions not on screen and not ended (``not_shown_count`` of
    them), as a sentence."""
    left_open = (service is not None) + not_shown_count  # sessions quitting leaves open
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Quit kapdesk?")
    said, informed = [], []
    if service is not None:
        said.append(
            f"The session for {service.patient_name} ({service.protocol_name}) is still "
            f"running: {format_elapsed(service.since_start())} since it started."
        )
        # What needs the clinician now, so that quitting is not mistaken for dealing with
        # it (issue 11 QA: an urgent alert unacknowledged and a recheck due went unsaid).
        pending = service.open_alerts()
        if pending:
            said.append(not_acknowledged(pending))
        check, state = service.next_check()
        if state is not None and check:
            said.append(check + ".")
        if service.running_infusions():  # second QA pass: it went unsaid
            said.append("An IV infusion is running; its stop is recorded with Ctrl+I.")
        informed.append(
            "Quitting leaves it open: its clock keeps time and it can be resumed when "
            "kapdesk starts again. To end it, keep working and press Ctrl+Shift+E."
            if left_open == 1
            else "Quitting leaves them open: their clocks keep time and each can be resumed "
            "when kapdesk starts again. To end this one, keep working and press Ctrl+Shift+E."
        )
    if not_shown:
        said.append(not_shown)
        if service is None:  # else said above: quitting leaves a session open
            informed.append(
                "Quitting leaves it open: kapdesk offers it again when it starts. To end "
                "it, keep working, resume it and press Ctrl+Shift+E."
                if left_open == 1
                else "Quitting leaves them open: kapdesk offers them again when it starts. "
                "To end one, keep working, resume it and press Ctrl+Shift+E."
            )
    for line, text, refused in unsaved:
        # A reading already refused is not saved by Enter: "press Enter to save it" was
        # said of one (QA), and "refused" of an observation typed beside one (QA again).
        # Each named by its line: two read alike, "Typed but not saved", with no way to
        # tell which was which (Xvfb QA).
        said.append(
            f"In the {line} line, typed but refused, so not saved: “{text}”; the line says "
            "what to put right."
            if refused
            else f"In the {line} line, typed but not saved (Enter there saves it): “{text}”."
        )
    if under_way:
        said.append(f"{under_way} is under way.")
        informed.append(
            "Quitting stops it: "
            + (
                "no backup is written."
                if under_way.startswith("Backing up")
                else "the record is not checked."
            )
        )
    box.setText(" ".join(said))
    box.setInformativeText(" ".join(informed))
    keep = box.addButton("Keep working (Esc)", QMessageBox.ButtonRole.RejectRole)
    # "it" with one session left open, "them" with more (second QA pass).
    # Alt+Q, said on it: from the keyboard it took Shift+Tab and Enter (QA). Keep working
    # stays the default, for Enter and Esc alike.
    label = {0: "&Quit (Alt+Q)", 1: "&Quit, leaving it open (Alt+Q)"}.get(
        left_open, "&Quit, leaving them open (Alt+Q)"
    )
    leave = box.addButton(label, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    return box, leave
