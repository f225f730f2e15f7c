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
from kapdesk.store import RecordStore
from kapdesk.ui.main_window import MainWindow
from kapdesk.ui.theme import apply_theme

SIZE = (1366, 768)


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
        _finished, running = create_demo(store, now)
        settings = Settings(Path(folder))
        for theme in ("dark", "light"):
            settings.set("theme", theme)
            apply_theme(app, theme)
            window = MainWindow(store, settings, FakeClock(now))
            window.resize(*SIZE)
            window.show()
            app.processEvents()
            if theme == "dark":
                window.grab().save(str(output / "patients.png"))
            window.open_workspace(running)
            workspace = window.workspace
            assert workspace is not None
            workspace.observation.line.setText("Resting, eyes closed, slow breathing")
            workspace.observation.tag_buttons["eyes closed"].setChecked(True)
            app.processEvents()
            name = "workspace.png" if theme == "dark" else "workspace-light.png"
            window.grab().save(str(output / name))
            if theme == "dark":
                # An urgent reading as it appears: the banner, the log, the chart.
                workspace.store_vitals_line("182/104 88 97")
                app.processEvents()
                window.grab().save(str(output / "workspace-urgent.png"))
            if window.width() > SIZE[0] or window.height() > SIZE[1]:
                print(f"warning: the window needs {window.width()}x{window.height()}")
            window.close_workspace()
            window.close()
            # Destroy windows while the QApplication still exists; the other way round
            # crashes the interpreter at exit.
            window.deleteLater()
            app.processEvents()
        store.close()
    print(f"Saved screenshots to {output}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
