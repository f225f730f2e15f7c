"""Starting the app: refusals are shown in a window, and nothing is created or opened by a
stray Enter."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from kapdesk.local.clock import SystemClock
from kapdesk.local.paths import Paths
from kapdesk.ui import launch
from tests.conftest import PASSPHRASE, record_hashes


@pytest.fixture(autouse=True)
def passphrase(monkeypatch):
    monkeypatch.setenv("KAPDESK_PASSPHRASE", PASSPHRASE)


def _answer_next_box(qtbot, key: Qt.Key, seen: list[str]) -> None:
    """When the next modal box appears, note its text and default button, then press key."""

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(box.text())
        seen.append(box.defaultButton().text())
        qtbot.keyClick(box, key)

    QTimer.singleShot(0, answer)


def test_a_folder_that_cannot_be_used_is_said_in_a_window(qtbot, tmp_path, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(
        launch.QMessageBox, "warning", lambda parent, title, text: shown.append(text)
    )
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("x")
    paths = Paths(data=not_a_folder, logs=tmp_path / "logs", chosen=True)
    assert launch.run_app(paths, login_name="dr.test") == 2
    assert len(shown) == 1
    assert "is a file, not a folder" in shown[0]


def test_a_chosen_folder_without_a_record_is_not_created_by_enter(qtbot, tmp_path):
    paths = Paths(data=tmp_path / "typo", logs=tmp_path / "logs", chosen=True)
    seen: list[str] = []
    _answer_next_box(qtbot, Qt.Key.Key_Return, seen)
    assert launch.open_store(paths, login_name="dr.test", clock=SystemClock()) is None
    assert str(paths.data) in seen[0]
    assert seen[1] == "Quit"
    assert not (paths.data / "kapdesk.db").exists()


def test_the_first_start_in_the_platform_folder_creates_on_enter(qtbot, tmp_path):
    paths = Paths(data=tmp_path / "kapdesk", logs=tmp_path / "logs", chosen=False)
    seen: list[str] = []
    _answer_next_box(qtbot, Qt.Key.Key_Return, seen)
    store = launch.open_store(paths, login_name="dr.test", clock=SystemClock())
    assert store is not None
    store.close()
    assert seen[1] == "Create the record"
    assert (paths.data / "kapdesk.db").exists()


def test_missing_entries_stop_the_start_unless_the_loss_is_accepted(qtbot, data_dir, tmp_path):
    from tests.store.crashed import crash_with_entries, wal_path

    crash_with_entries(data_dir)
    log = wal_path(data_dir)
    log.write_bytes(log.read_bytes()[: log.stat().st_size // 2])
    before = record_hashes(data_dir)
    paths = Paths(data=data_dir, logs=tmp_path / "logs", chosen=True)
    seen: list[str] = []
    _answer_next_box(qtbot, Qt.Key.Key_Return, seen)
    assert launch.open_store(paths, login_name="dr.test", clock=SystemClock()) is None
    assert "are missing" in seen[0]
    assert seen[1] == "Quit (change nothing)"
    assert record_hashes(data_dir) == before
