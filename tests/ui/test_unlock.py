from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from kapdesk.local.settings import Settings
from kapdesk.store import RecordStore
from kapdesk.store.vault import PassphraseRequest
from kapdesk.ui.main_window import MainWindow
from kapdesk.ui.unlock_dialog import UnlockDialog
from tests.conftest import PASSPHRASE


def test_creating_a_passphrase_needs_the_same_text_twice(qtbot):
    dialog = UnlockDialog(PassphraseRequest(creating=True))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.passphrase, "a long enough passphrase")
    qtbot.keyClicks(dialog.repeat, "a long enough passphrasf")
    qtbot.keyClick(dialog.repeat, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert "differ" in dialog.error.text()
    qtbot.keyClicks(dialog.repeat, "a long enough passphrase")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.repeat, Qt.Key.Key_Return)
    assert dialog.value() == "a long enough passphrase"


def test_a_refused_passphrase_is_said_in_the_dialog(qtbot):
    dialog = UnlockDialog(PassphraseRequest(creating=False, error="That passphrase does not fit."))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.error.isVisible()
    assert dialog.error.text() == "That passphrase does not fit."
    assert not dialog.repeat.isVisible()


def test_verify_from_the_menu_shortcut(qtbot, store: RecordStore, data_dir, clock):
    store.add_patient("Ada Example")
    window = MainWindow(store, Settings(data_dir), clock)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.patients_page.patients.rowCount() == 1
    shortcut = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    # Through the window handle, as the platform delivers a key press; the offscreen
    # platform has no active window, which a widget-level click would need.
    QTest.keyClick(window.windowHandle(), Qt.Key.Key_V, shortcut)
    qtbot.waitUntil(lambda: window.verdict.text() == "The record is intact.")


def test_cancelling_after_a_refused_passphrase_says_nothing_was_entered(
    tmp_path, monkeypatch, qapp
):
    from kapdesk.store.errors import PassphraseUnavailableError
    from kapdesk.ui import launch

    folder = tmp_path / "data"
    RecordStore.open(
        folder, passphrase=lambda _r: PASSPHRASE, use_keyring=False, create=True
    ).close()
    monkeypatch.delenv("KAPDESK_PASSPHRASE", raising=False)
    answers = iter(["not the passphrase", None])  # a wrong one, then Esc
    monkeypatch.setattr(launch, "ask_passphrase", lambda _request: next(answers))
    with pytest.raises(PassphraseUnavailableError, match="No passphrase was entered"):
        RecordStore.open(folder, passphrase=launch.gui_passphrase, use_keyring=False)
