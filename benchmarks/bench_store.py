"""Latency of storing one vitals reading, against raw sqlite3 on the same disk, same run.

kapdesk's figure includes everything a clinician waits for: validation, the
SQLCipher-encrypted insert, the chained audit event, and the durable commit
(WAL fsynced, synchronous=FULL). The baseline is the standard library's
sqlite3 inserting one row per transaction with the same pragmas, in a folder
beside kapdesk's. The two alternate in rounds so drift in the disk affects both.

    python benchmarks/bench_store.py [--n 400] [--quick]

Target (issue 2): median and p99 ratio at most 2.0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kapdesk.store import RecordStore

PASSPHRASE = "benchmark passphrase"
VALUES = {"systolic": 132, "diastolic": 84, "heart_rate": 76, "spo2": 97}


def baseline_store(folder: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(folder / "baseline.db", isolation_level=None)
    for pragma in (
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",
        "PRAGMA foreign_keys = ON",
    ):
        connection.execute(pragma)
    connection.execute(
        "CREATE TABLE vitals_readings (id TEXT PRIMARY KEY, session_id TEXT, taken_at TEXT, "
        "systolic INTEGER, diastolic INTEGER, heart_rate INTEGER, spo2 INTEGER, "
        "respiratory_rate INTEGER, temperature_c REAL, source TEXT, recorded_at TEXT, "
        "recorded_by TEXT)"
    )
    return connection


def baseline_insert(connection: sqlite3.Connection, n: int) -> None:
    now = dt.datetime.now(dt.UTC).isoformat()
    connection.execute("BEGIN")
    connection.execute(
        "INSERT INTO vitals_readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (f"id-{n}", "s", now, 132, 84, 76, 97, None, None, "manual", now, "c"),
    )
    connection.execute("COMMIT")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400, help="readings per side")
    parser.add_argument("--quick", action="store_true", help="100 readings per side (CI)")
    args = parser.parse_args()
    n = 100 if args.quick else args.n
    root = Path(tempfile.mkdtemp(prefix=".bench-", dir=Path.cwd()))
    try:
        connection = baseline_store(root)
        store = RecordStore.open(
            root / "kapdesk", passphrase=lambda r: PASSPHRASE, use_keyring=False, create=True
        )
        patient = store.add_patient("Benchmark Patient")
        session = store.start_session(patient, protocol="IM", zone_name="UTC")
        raw: list[float] = []
        ours: list[float] = []
        for i in range(20):  # warm-up, not measured
            baseline_insert(connection, -i - 1)
            store.add_vitals(session, VALUES)
        for i in range(n):
            start = time.perf_counter()
            baseline_insert(connection, i)
            raw.append(time.perf_counter() - start)
            start = time.perf_counter()
            store.add_vitals(session, VALUES)
            ours.append(time.perf_counter() - start)
        store.close()
        connection.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def ms(value: float) -> str:
        return f"{value * 1000:7.3f} ms"

    raw_median, our_median = statistics.median(raw), statistics.median(ours)
    raw_p99, our_p99 = percentile(raw, 0.99), percentile(ours, 0.99)
    print(f"store one vitals reading, {n} each, durable commits on {Path.cwd()}")
    print(f"  raw sqlite3 insert   median {ms(raw_median)}   p99 {ms(raw_p99)}")
    print(f"  kapdesk add_vitals   median {ms(our_median)}   p99 {ms(our_p99)}")
    print(
        f"  ratio                median {our_median / raw_median:6.2f}x   "
        f"p99 {our_p99 / raw_p99:6.2f}x   (target <= 2.0)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
