"""The frozen app works with no Python installed: the bundle that build_installer.spec makes,
built once per run by scripts/build-installer from a clean environment (issue 11).

Each test runs the bundle's own executables in an environment with no Python of the
project's on its path, a scratch home, and Qt's offscreen platform.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kapdesk import __version__
from kapdesk.local.demo import DEMO_NAME, FINISHED_NOTES
from kapdesk.local.demo_course import COURSE_NAME, WHAT_CAME_UP
from kapdesk.store.schema_head import HEAD_REVISION

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_0003 = ROOT / "tests" / "fixtures" / "release-0003"
FIXTURE_PASSPHRASE = "release 0003 fixture passphrase"
PASSPHRASE = "frozen bundle test passphrase"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """scripts/build-installer, into a scratch folder: its own clean environment, then
    PyInstaller; it runs the bundle's self-test before it reports success."""
    work = tmp_path_factory.mktemp("installer")
    env = {
        **os.environ,
        "KAPDESK_BUILD": str(work / "build"),
        "KAPDESK_DIST": str(work / "dist"),
        "PYTHON": sys.executable,
        "QT_QPA_PLATFORM": "offscreen",
    }
    env.pop("DISPLAY", None)
    built = subprocess.run(
        [str(ROOT / "scripts" / "build-installer")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    print(built.stdout)  # size and build time, in the test's output
    assert re.search(r"Built .*: [\d.]+ MB, \d+ files", built.stdout)
    # Both self-tests: the wheel installed in the fresh environment, then the bundle.
    assert built.stdout.count("All steps passed") == 2, built.stdout
    return work / "dist" / "kapdesk"


class Frozen:
    """The bundle's executables, run as a clinic's laptop would: no development Python."""

    def __init__(self, bundle: Path, home: Path) -> None:
        self.bundle = bundle
        self.home = home
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "TMPDIR": str(home / "tmp"),
            "QT_QPA_PLATFORM": "offscreen",
            "KAPDESK_PASSPHRASE": PASSPHRASE,
            "LANG": "C.UTF-8",
        }
        (home / "tmp").mkdir(parents=True, exist_ok=True)

    def run(
        self, *args: str, exe: str = "kapdesk-cli", passphrase: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if passphrase is not None:
            env["KAPDESK_PASSPHRASE"] = passphrase
        return subprocess.run(
            [str(self.bundle / exe), *args],
            cwd=self.home,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


@pytest.fixture
def frozen(bundle, tmp_path) -> Frozen:
    return Frozen(bundle, tmp_path / "home")


def test_the_bundle_holds_both_executables_and_its_data(bundle):
    assert (bundle / "kapdesk").is_file()
    assert (bundle / "kapdesk-cli").is_file()
    inside = bundle / "_internal" / "kapdesk"
    for needed in (
        "resources/styles/dark.qss",
        "resources/protocols/spravato_rems.toml",
        "resources/instruments/phq9.toml",
        "resources/surveys/after_session.toml",
        "resources/icons/kapdesk.svg",
        "store/migrations/env.py",
        "store/migrations/versions/0005_course_notes.py",
    ):
        assert (inside / needed).is_file(), needed
    assert not list(bundle.rglob("tkinter")), "tkinter is excluded"


def test_the_frozen_cli_says_its_version(frozen):
    result = frozen.run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"kapdesk {__version__}"


def test_the_frozen_app_keeps_verifies_backs_up_and_restores_a_record(frozen, tmp_path):
    data, restored = tmp_path / "data", tmp_path / "restored"
    demo = frozen.run("--data-dir", str(data), "demo")
    assert demo.returncode == 0, demo.stderr
    assert "Added the demo patient" in demo.stdout
    verify = frozen.run("--data-dir", str(data), "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "The record is intact." in verify.stdout
    backup_file = tmp_path / "record.kapbak"
    backup = frozen.run("--data-dir", str(data), "backup", str(backup_file))
    assert backup.returncode == 0, backup.stderr
    assert backup_file.stat().st_size > 0
    restore = frozen.run("--data-dir", str(restored), "restore", str(backup_file))
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "The record is intact." in restore.stdout
    wrong = frozen.run("--data-dir", str(restored), "verify", passphrase="not the passphrase")
    assert wrong.returncode != 0
    assert "passphrase" in wrong.stderr.lower()


def test_the_frozen_gui_reaches_the_session_screen(frozen):
    """The GUI executable on the offscreen platform: a demo record, the main window, the
    running session resumed, a reading typed and shown (kapdesk selftest)."""
    result = frozen.run("selftest", exe="kapdesk")
    assert result.returncode == 0, result.stdout + result.stderr
    for step in (
        "ok  Qt offscreen platform started",
        "ok  the session screen opened",
        "ok  a typed reading was stored and shown in the log and the chart",
        "ok  the record verified (integrity, audit chain, anchor)",
    ):
        assert step in result.stdout


def test_a_record_of_the_previous_release_is_migrated_by_the_frozen_app(frozen, tmp_path):
    """Migrations ship and run frozen: schema 0003 (the release before) is backed up,
    then brought to the head, and verifies."""
    older = tmp_path / "older"
    shutil.copytree(FIXTURE_0003, older, ignore=shutil.ignore_patterns("README.md"))
    backup = frozen.run(
        "--data-dir",
        str(older),
        "backup",
        str(tmp_path / "b.kapbak"),
        passphrase=FIXTURE_PASSPHRASE,
    )
    assert backup.returncode == 0, backup.stdout + backup.stderr
    [before] = (older / "backups").glob(f"before-schema-{HEAD_REVISION}-*.kapbak")
    assert before.stat().st_size > 0
    verify = frozen.run("--data-dir", str(older), "verify", passphrase=FIXTURE_PASSPHRASE)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"schema {HEAD_REVISION}" in verify.stdout
    assert "The record is intact." in verify.stdout


def test_no_file_of_the_bundle_or_its_data_holds_patient_details_in_plain_text(
    frozen, bundle, tmp_path
):
    data = tmp_path / "data"
    assert frozen.run("--data-dir", str(data), "demo").returncode == 0
    assert frozen.run("--data-dir", str(data), "backup", str(data / "b.kapbak")).returncode == 0
    assert frozen.run("selftest", exe="kapdesk").returncode == 0
    words = [DEMO_NAME.split("—")[1].split("(")[0].strip()]  # "Alex Sample"
    words += [text for _minute, text, _tags in FINISHED_NOTES if len(text) > 20]
    words += [COURSE_NAME.split("—")[1].split("(")[0].strip(), *WHAT_CAME_UP]  # issue 13
    needles = [w.encode(enc) for w in words for enc in ("utf-8", "utf-16-le")]
    checked = 0
    for folder in (bundle, data, frozen.home):
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                content = path.read_bytes()
                checked += 1
                for needle in needles:
                    assert needle not in content, f"{needle!r} in plain text in {path}"
    names = {p.name for p in data.rglob("*")}
    assert {"kapdesk.db", "vault.json", "kapdesk.log", "b.kapbak"} <= names
    assert checked > 100
