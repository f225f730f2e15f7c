"""A writer stores entries and prints each id after commit; we kill it with SIGKILL at
arbitrary points and check that every acknowledged entry survived, intact.

One long-lived helper process imports kapdesk once and forks a fresh writer for
each round, so a round costs an open and the writes rather than a Python start
(about 1 s here). The key comes from a keyring stand-in, not a passphrase, for
the same reason: the Argon2id derivation is tested elsewhere. More rounds:
``pytest --crash-rounds 200 tests/store/test_crash_safety.py``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import uuid

import pytest
from sqlalchemy import text

from kapdesk.store import RecordStore

# The helper: waits for "go", forks a writer that opens the record and writes until
# killed, reports the writer's pid; on "reap" it waits for the killed writer and says
# "reaped" (everything the writer printed is in the pipe before that line).
HELPER = textwrap.dedent(
    """
    import os, sys, uuid
    import keyring, keyring.backend
    from kapdesk.store import RecordStore

    class KnownKey(keyring.backend.KeyringBackend):
        priority = 1
        def get_password(self, service, username):
            return sys.argv[3]
        def set_password(self, service, username, password):
            raise RuntimeError("read only")
        def delete_password(self, service, username):
            raise RuntimeError("read only")

    keyring.set_keyring(KnownKey())
    session = uuid.UUID(sys.argv[2])

    def write_forever():
        store = RecordStore.open(sys.argv[1])
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

    for command in sys.stdin:
        if command.strip() == "go":
            pid = os.fork()
            if pid == 0:
                try:
                    write_forever()
                finally:
                    os._exit(1)
            print("writer", pid, flush=True)
        elif command.strip() == "reap":
            os.waitpid(pid, 0)
            print("reaped", flush=True)
    """
)


def _stored(store: RecordStore) -> set[tuple[str, uuid.UUID]]:
    with store.engine.connect() as conn:
        return {
            (kind, uuid.UUID(row_id))
            for kind, table in (("vitals", "vitals_readings"), ("observation", "observations"))
            for row_id in conn.execute(text(f"SELECT id FROM {table}")).scalars()
        }


@pytest.mark.slow
def test_acknowledged_entries_survive_sigkill(data_dir, memory_keyring, request):
    rounds = request.config.getoption("--crash-rounds")
    rng = random.Random(20261125)
    with RecordStore.open(data_dir, create=True) as store:
        patient = store.add_patient("Crash Test")
        session = store.start_session(patient, protocol="IM", zone_name="UTC")
        stored_before = len(_stored(store))
    [key_hex] = memory_keyring.secrets.values()
    helper = subprocess.Popen(
        [sys.executable, "-c", HELPER, str(data_dir), str(session), key_hex],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert helper.stdin is not None
    assert helper.stdout is not None
    acknowledged: list[tuple[str, uuid.UUID]] = []
    try:
        for round_number in range(rounds):
            helper.stdin.write("go\n")
            helper.stdin.flush()
            kind, pid = helper.stdout.readline().split()
            assert kind == "writer"
            # Kill after a random number of acknowledgements; the writer keeps writing
            # while we read, so the kill lands at an arbitrary point of its write loop.
            this_round: list[tuple[str, uuid.UUID]] = []
            for _ in range(rng.randint(1, 15)):
                kind, entry = helper.stdout.readline().split()
                this_round.append((kind, uuid.UUID(entry)))
            os.kill(int(pid), signal.SIGKILL)
            helper.stdin.write("reap\n")
            helper.stdin.flush()
            while (line := helper.stdout.readline().split()) != ["reaped"]:
                kind, entry = line  # acknowledged before the kill, still in the pipe
                this_round.append((kind, uuid.UUID(entry)))
            acknowledged += this_round

            with RecordStore.open(data_dir) as store:
                stored = _stored(store)
                assert set(acknowledged) <= stored
                for kind, entry in this_round:  # readable through the store, as the app reads
                    assert store.entry(kind, entry).id == entry
                with store.engine.connect() as conn:
                    assert conn.exec_driver_sql("PRAGMA integrity_check").fetchall() == [("ok",)]
                    assert conn.exec_driver_sql("PRAGMA cipher_integrity_check").fetchall() == []
                # Only the entry in flight at this round's kill may be stored unacknowledged.
                added = len(stored) - stored_before
                assert len(this_round) <= added <= len(this_round) + 1, f"round {round_number}"
                stored_before = len(stored)
                report = store.verify()
                assert report.ok, report.render()
    finally:
        helper.stdin.close()
        helper.wait(timeout=60)
    assert len(acknowledged) >= rounds
