"""A wheel built from the project carries its package data, and runs from where it is installed.

The style sheets, protocols and migrations are read with importlib.resources, so an
installed wheel (or a frozen app) must hold them; a checkout hides their absence.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = dist.glob("kapdesk-*.whl")
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
        names = set(archive.namelist())
    return target, names


@pytest.mark.slow
def test_the_wheel_holds_the_style_sheets_protocols_and_migrations(installed):
    _target, names = installed
    for needed in (
        "kapdesk/resources/styles/dark.qss",
        "kapdesk/resources/styles/light.qss",
        "kapdesk/resources/protocols/spravato_rems.toml",
        "kapdesk/resources/protocols/iv_infusion.toml",
        "kapdesk/resources/icons/kapdesk.svg",
        "kapdesk/store/migrations/env.py",
        "kapdesk/store/migrations/versions/0003_session_events.py",
    ):
        assert needed in names


@pytest.mark.slow
def test_the_installed_wheel_starts_with_its_own_resources(installed, tmp_path):
    target, _names = installed
    script = textwrap.dedent(
        f"""
        import os, pathlib, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        sys.path.insert(0, {str(target)!r})
        import kapdesk
        assert pathlib.Path(kapdesk.__file__).is_relative_to({str(target)!r}), kapdesk.__file__
        from PySide6.QtWidgets import QApplication
        from kapdesk.cli import main
        from kapdesk.session.protocols import clinic_protocols
        from kapdesk.ui.theme import apply_theme
        data = pathlib.Path({str(tmp_path / "data")!r})
        assert main(["--data-dir", str(data), "demo"]) == 0
        assert main(["--data-dir", str(data), "verify"]) == 0
        app = QApplication([])
        apply_theme(app, "dark")
        assert "background" in app.styleSheet()
        loaded = clinic_protocols(data)
        assert loaded.problems == [], loaded.problems
        assert {{"SPRAVATO REMS", "IV infusion", "IM injection"}} <= set(loaded.protocols)
        print("started from", kapdesk.__file__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,  # not the checkout: nothing may come from the source tree
        capture_output=True,
        text=True,
        env={
            "KAPDESK_PASSPHRASE": "correct horse battery staple",
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "XDG_STATE_HOME": str(tmp_path / "state"),
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"started from {target}" in result.stdout
