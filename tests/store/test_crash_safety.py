"""A child stores entries and prints each id after commit; we kill it with SIGKILL at
arbitrary points and check that every acknowledged entry survived, intact."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import uuid

import pytest
from sqlalchemy import text

from kapdesk.store import RecordStore
from tests.conftest import PASSPHRASE, fixed_passphrase

ROUNDS = 24

CHILD = textwrap.dedent(
    """
    import sys, uuid
    from kapdesk.store import RecordStore
    store = RecordStore.open(sys.argv[1], passphrase=lambda r: sys.argv[3], use_keyring=False)
    session = uuid.UUID(sys.argv[2])
    n = 0
    while True:
        n += 1
        if n % 2:
            entry = store.add_vitals(session, {"systolic": 100 + n % 150, "diastolic": 60})
            kind = "vitals"
        else:
            entry = store.add_observation(session, "note %d " % n * 20, tags=["calm"])
            kind = "observation"
        print(kind, entry, flush=True)
    """
)


@pytest.mark.slow
def test_acknowledged_entries_survive_sigkill(data_dir):
    rng = random.Random(20261125)
    with RecordStore.open(data_dir, passphrase=fixed_passphrase, use_keyring=False) as store:
        patient = store.add_patient("Crash Test")
        session = store.start_session(patient, protocol="IM", zone_name="UTC")
    acknowledged: list[tuple[str, uuid.UUID]] = []
    for _round in range(ROUNDS):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data_dir), str(session), PASSPHRASE],
            stdout=subprocess.PIPE,
            text=True,
        )
        # Kill after a random number of acknowledgements; the child keeps writing
        # while we read, so the kill lands at an arbitrary point of its write loop.
        wanted = rng.randint(1, 40)
        assert child.stdout is not None
        for _ in range(wanted):
            line = child.stdout.readline()
            assert line, "the child stopped before it was killed"
            kind, entry = line.split()
            acknowledged.append((kind, uuid.UUID(entry)))
        child.send_signal(signal.SIGKILL)
        for line in child.stdout:  # acknowledged before the kill, still in the pipe
            kind, entry = line.split()
            acknowledged.append((kind, uuid.UUID(entry)))
        child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL

        with RecordStore.open(data_dir, passphrase=fixed_passphrase, use_keyring=False) as store:
            for kind, entry in acknowledged:
                assert store.entry(kind, entry).id == entry
            with store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").fetchall() == [("ok",)]
                assert conn.exec_driver_sql("PRAGMA cipher_integrity_check").fetchall() == []
                stored = (
                    conn.execute(text("SELECT count(*) FROM vitals_readings")).scalar_one()
                    + conn.execute(text("SELECT count(*) FROM observations")).scalar_one()
                )
            # At most the one entry in flight at the kill may be stored unacknowledged.
            assert len(acknowledged) <= stored <= len(acknowledged) + 1
            report = store.verify()
            assert report.ok, report.render()
    assert len(acknowledged) >= ROUNDS
