"""Render the workspace from demo data at 1366x768 and save PNGs (used in the README).

    .venv/bin/python scripts/screenshot.py [OUTPUT_DIR]

Runs offscreen in a temporary data folder; nothing touches your own record.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtWidgets import QApplication

from kapdesk.local.clock import FakeClock
from kapdesk.local.demo import create_demo
from kapdesk.local.settings import Settings
from kapdesk.session.service import SessionService
from kapdesk.store import RecordStore
from kapdesk.ui.main_window import MainWindow
from kapdesk.ui.theme import apply_theme
from kapdesk.ui.workspace import SessionWorkspace

SIZE = (1366, 768)
# Issue 9: the session screen with the end panel open and with an urgent banner, at the
# two common clinic-laptop sizes; clocks, newest entries and both entry lines in each.
SMALL_SIZES = ((1366, 768), (1024, 600))


def main() -> int:
    output = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    output.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as folder:
        store = RecordStore.open(
            Path(folder),
            passphrase=lambda r: "screenshot passphrase",
            use_keyring=False,
            create=True,
        )
        finished, running = create_demo(store, now)
        # Its readings flagged by the rules, as `kapdesk demo` does.
        SessionService(store, running, clock=lambda: now, protocol=None).raise_missing_alerts()
        settings = Settings(Path(folder))
        for theme in ("dark", "light"):
            settings.set("theme", theme)
            apply_theme(app, theme)
            window = _window(app, store, settings, now, SIZE)
            if theme == "dark":
                window.grab().save(str(output / "patients.png"))
            workspace = _session(app, window, running)
            name = "workspace.png" if theme == "dark" else "workspace-light.png"
            window.grab().save(str(output / name))
            if theme == "dark":
                # An urgent reading as it appears: the banner, the log, the chart.
                workspace.store_vitals_line("182/104 88 97")
                app.processEvents()
                window.grab().save(str(output / "workspace-urgent.png"))
            _close(app, window)
        apply_theme(app, "dark")
        settings.set("theme", "dark")
        for size in SMALL_SIZES:
            tag = f"{size[0]}x{size[1]}"
            window = _window(app, store, settings, now, size)
            workspace = _session(app, window, running)
            workspace.ask_end()
            app.processEvents()
            window.grab().save(str(output / f"workspace-{tag}-end.png"))
            workspace.cancel_end()
            workspace.store_vitals_line("184/106 90 96")
            app.processEvents()
            window.grab().save(str(output / f"workspace-{tag}-urgent.png"))
            _close(app, window)
        # Yesterday's session read back (issue 12): chart, strip and log, read only.
        for size in SMALL_SIZES:
            window = _window(app, store, settings, now, size)
            window.open_session(finished)
            app.processEvents()
            window.grab().save(str(output / f"review-{size[0]}x{size[1]}.png"))
            _close(app, window)
        store.close()
    print(f"Saved screenshots to {output}/")
    return 0


def _window(
    app: QApplication, store: RecordStore, settings: Settings, now: dt.datetime, size: tuple
) -> MainWindow:
    window = MainWindow(store, settings, FakeClock(now))
    window.resize(*size)
    window.show()
    app.processEvents()
    return window


def _session(app: QApplication, window: MainWindow, running: object) -> SessionWorkspace:
    window.open_workspace(running)
    workspace = window.workspace
    assert workspace is not None
    workspace.observation.line.setText("Resting, eyes closed, slow breathing")
    workspace.observation.tag_buttons["eyes closed"].setChecked(True)
    app.processEvents()
    return workspace


def _close(app: QApplication, window: MainWindow) -> None:
    wanted = window.size()
    if window.minimumSizeHint().width() > wanted.width():
        print(f"warning: the window needs {window.minimumSizeHint().width()} px of width")
    if window.minimumSizeHint().height() > wanted.height():
        print(f"warning: the window needs {window.minimumSizeHint().height()} px of height")
    window._quit_confirmed = True  # the demo session stays open, as it would in a clinic
    window.close_workspace()
    window.close()
    # Destroy windows while the QApplication still exists; the other way round
    # crashes the interpreter at exit.
    window.deleteLater()
    app.processEvents()


if __name__ == "__main__":
    raise SystemExit(main())
