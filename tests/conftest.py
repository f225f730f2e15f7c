"""Every test gets its own data folder, an in-memory keyring and a fake clock.

Nothing here touches the real user's data folder, log folder or keychain.
"""

from __future__ import annotations

import os

# Before anything imports Qt: no display is needed, on CI or anywhere.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest

from kapdesk.local.clock import FakeClock
from kapdesk.store import RecordStore

PASSPHRASE = "correct horse battery staple"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--crash-rounds",
        type=int,
        default=24,
        help="SIGKILL rounds in tests/store/test_crash_safety.py (default 24)",
    )


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A working keyring that lives only as long as the test."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    for variable in ("KAPDESK_HOME", "KAPDESK_PASSPHRASE"):
        monkeypatch.delenv(variable, raising=False)
    # The anchors' mirrors (local/paths.py) go to the user's state folder: a test's own.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def fixed_passphrase(request: object) -> str:
    return PASSPHRASE


@pytest.fixture
def store(data_dir: Path, clock: FakeClock) -> Iterator[RecordStore]:
    opened = RecordStore.open(data_dir, clock=clock.now_utc, login_name="dr.test", create=True)
    yield opened
    opened.close()


@pytest.fixture
def passphrase_store(data_dir: Path, clock: FakeClock) -> Iterator[RecordStore]:
    opened = RecordStore.open(
        data_dir,
        passphrase=fixed_passphrase,
        clock=clock.now_utc,
        login_name="dr.test",
        use_keyring=False,
        create=True,
    )
    yield opened
    opened.close()


def file_hashes(folder: Path) -> dict[str, str]:
    """Every file's SHA-256, except SQLite's derived -shm index and our lock file."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith("-shm") and p.name != "kapdesk.lock"
    }


def record_hashes(folder: Path) -> dict[str, str]:
    """file_hashes of the record itself: kapdesk's own logs (logs/ when the data folder was
    chosen with --data-dir) grow with every command and are not part of it."""
    return {name: h for name, h in file_hashes(folder).items() if not name.startswith("logs/")}
