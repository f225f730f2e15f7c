"""A record as a killed kapdesk leaves it: acknowledged entries only in the write-ahead log."""

from __future__ import annotations

import atexit
import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

from kapdesk.store.engine import DATABASE_FILE
from tests.conftest import PASSPHRASE

WRITER = textwrap.dedent(
    """
    import os, sys
    from kapdesk.store import RecordStore
    store = RecordStore.open(sys.argv[1], passphrase=lambda r: sys.argv[2],
                             use_keyring=False, create=True)
    patient = store.add_patient("Ada Example")
    session = store.start_session(patient, protocol="IM", zone_name="UTC")
    print(session, flush=True)
    for i in range(int(sys.argv[3])):
        print(store.add_observation(session, "observation %d" % i), flush=True)
    os.kill(os.getpid(), 9)
    """
)


_made: dict[int, tuple[Path, uuid.UUID, list[uuid.UUID]]] = {}


def crash_with_entries(data_dir: Path, count: int = 40) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """Write ``count`` observations and kill the writer before any checkpoint.

    Returns the session and the ids the writer acknowledged. The killed record is made
    once per test run and copied, byte for byte, into each test's folder.
    """
    if count not in _made:
        folder = Path(tempfile.mkdtemp(prefix="kapdesk-crashed-")) / "data"
        atexit.register(shutil.rmtree, folder.parent, ignore_errors=True)
        result = subprocess.run(
            [sys.executable, "-c", WRITER, str(folder), PASSPHRASE, str(count)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == -9, result.stderr
        session, *entries = (uuid.UUID(line) for line in result.stdout.split())
        assert len(entries) == count
        _made[count] = (folder, session, entries)
    folder, session, entries = _made[count]
    shutil.copytree(folder, data_dir, dirs_exist_ok=True)
    assert wal_path(data_dir).stat().st_size > 0
    return session, list(entries)


def wal_path(data_dir: Path) -> Path:
    return data_dir / f"{DATABASE_FILE}-wal"
