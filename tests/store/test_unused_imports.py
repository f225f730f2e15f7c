"""asyncio, which SQLAlchemy imports and the record never uses, loads only when something
uses it (kapdesk/store/unused_imports.py, issue 10), and then works as ever."""

import subprocess
import sys
import textwrap


def run(script: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "error"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_a_record_made_and_read_loads_no_event_loop_code(tmp_path):
    lines = run(
        f"""
        import sys
        from pathlib import Path
        from kapdesk.store import RecordStore
        store = RecordStore.open(Path({str(tmp_path / "data")!r}),
                                 passphrase=lambda _r: "four uncommon words here",
                                 use_keyring=False, create=True)
        patient = store.add_patient("Test Patient", weight_kg=70)
        store.start_session(patient, protocol="none", zone_name="UTC")
        store.close()
        print(sorted(m for m in sys.modules if m.startswith("asyncio.")))
        print("ssl" in sys.modules)
        """
    )
    # Without the deferral: 28 of asyncio's modules, ssl among them.
    assert lines == ["['asyncio.coroutines']", "False"]


def test_asyncio_works_whole_once_used_after_the_store():
    lines = run(
        """
        import kapdesk.store
        import asyncio
        import asyncio.coroutines
        print(asyncio.iscoroutine is asyncio.coroutines.iscoroutine)
        async def answer():
            await asyncio.sleep(0)
            return 42
        print(asyncio.run(answer()))
        from asyncio import Queue
        print(Queue.__module__)
        import asyncio.subprocess
        print(asyncio.subprocess.PIPE == -1)
        try:
            asyncio.no_such_name
        except AttributeError as error:
            print(error)
        """
    )
    assert lines == [
        "True",
        "42",
        "asyncio.queues",
        "True",
        "module 'asyncio' has no attribute 'no_such_name'",
    ]


def test_asyncio_imported_before_the_store_is_left_as_it_is():
    lines = run(
        """
        import asyncio, sys
        before = sys.modules["asyncio"]
        import kapdesk.store
        print(sys.modules["asyncio"] is before, "asyncio.events" in sys.modules)
        """
    )
    assert lines == ["True True"]
