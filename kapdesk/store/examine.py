"""The read-only examination before a record is opened for writing: its write-ahead log read
frame by frame (store/wal.py), the database through a read-only connection, and the
newest audit event against the anchor kept outside it (store/anchor.py).

Nothing here writes. What it finds that means acknowledged entries may be missing
is returned as sentences; opening refuses on them until a person accepts the loss.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kapdesk import __version__
from kapdesk.store import migrate, wal
from kapdesk.store.anchor import Anchor, AnchorReading, Anchors, compare_anchor
from kapdesk.store.engine import DATABASE_FILE, Preflight, preflight
from kapdesk.store.errors import (
    DamagedDatabaseError,
    NewerVersionError,
    NotADatabaseError,
    StoreError,
)
from kapdesk.store.fileio import ensure_private, fsync_directory
from kapdesk.store.folder import WAL_SUFFIX, size_text
from kapdesk.store.vault import KeyVault

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Examination:
    """What the read-only checks found, before anything is opened for writing."""

    wal: wal.WalState
    check: Preflight
    anchor: Anchor | None
    problems: tuple[str, ...] = ()  # each a sentence: acknowledged entries may be missing
    missing_events: int | None = 0  # None: cannot be counted
    finding: dict[str, Any] = field(default_factory=dict)
    # The write-ahead log beside the database is older than it (a copy put back): the
    # database alone reaches the anchor, and folding the log in would undo this many
    # audit events and their entries (None: it would damage the file). ``check`` is then
    # the database's without the log.
    older_log_undoes: int | None = 0
    older_log: bool = False
    # The log is another copy's of the same record (its audit trail parts from this
    # database's): folded in, it would put that copy's entries in place of this one's
    # newest (tamper QA: accepting "the loss" dropped three entries saved and closed).
    older_log_diverges: bool = False


def examine(folder: Path, key: bytes, vault: KeyVault, anchors: Anchors) -> Examination:
    """The read-only checks, in an order that changes nothing on disk.

    Raises a StoreError for what makes the record unusable (damaged database, wrong
    record, newer schema); returns what may mean missing entries, and (in the
    preflight) any change to the record's structure.
    """
    database = folder / DATABASE_FILE
    try:
        log_state = wal.inspect(Path(f"{database}{WAL_SUFFIX}"))
    except wal.NotALogError as exc:
        raise DamagedDatabaseError(
            f"The write-ahead log beside {database.name} cannot be used: {exc}. Something "
            "other than kapdesk put it there; move it aside only after copying the whole "
            "data folder, and restore the latest backup if needed. Nothing was changed."
        ) from None
    reading = anchors.read()
    anchor = reading.anchor
    try:
        check = preflight(database, key, anchor_seq=anchor.seq if anchor else None)
    except (NotADatabaseError, DamagedDatabaseError):
        # Read through a log put back from before, a database can look damaged.
        alone = _complete_without_log(database, key, reading, log_state)
        if alone is None:
            raise
        return _older_log(log_state, alone, anchor, undoes=None)
    if check.revision is None or check.database_id != vault.database_id:
        raise StoreError(
            f"{database.name} and the key file in its folder belong to different records. "
            "Restore the folder from a backup; nothing was changed."
        )
    if check.revision not in migrate.known_revisions():
        raise NewerVersionError(
            f"This record was written by a newer kapdesk (schema {check.revision}); this is "
            f"kapdesk {__version__}. Install the newer version to open it; nothing was changed."
        )
    problems: list[str] = []
    finding: dict[str, Any] = {"record_events": check.head_seq}
    if log_state.damaged:
        problems.append(_wal_sentence(log_state))
        finding["wal"] = {
            "first_invalid_frame": log_state.first_invalid_frame,
            "acknowledged_after_damage": log_state.acknowledged_after_break,
            "header_damaged": log_state.header_damaged,
        }
    anchor_problem, missing = _against_anchor(reading, check)
    if anchor_problem and not log_state.damaged:
        # The database alone reaches its anchor exactly, and read with the log it does
        # not: the log is not this database's (an earlier copy's, cut shorter; or another
        # copy's, whose trail parts from this one's). Either way set aside, never folded.
        alone = _complete_without_log(database, key, reading, log_state)
        if alone is not None:
            undoes = max(0, alone.head_seq - check.head_seq)
            return _older_log(log_state, alone, anchor, undoes=undoes, diverges=not undoes)
    if anchor_problem:
        problems.append(anchor_problem)
        finding["anchor"] = {
            "anchor_events": anchor.seq if anchor else None,
            "missing_events": missing,
        }
    return Examination(log_state, check, anchor, tuple(problems), missing, finding)


def _complete_without_log(
    database: Path, key: bytes, reading: AnchorReading, log_state: wal.WalState
) -> Preflight | None:
    """The database file's checks without its write-ahead log, if the log holds anything
    SQLite would fold in and the file alone reaches the anchor exactly (its newest event
    is the one the anchor names, with that hash); else None. Then the log is older than
    the database: a copy of it put back by a backup or sync tool, or by hand (QA: kapdesk
    reported the newest entries missing, and accepting the loss folded the old log in,
    over entries that were there)."""
    anchor = reading.anchor
    if anchor is None or reading.damaged or not log_state.replayed_commits:
        return None
    try:
        alone = preflight(database, key, anchor_seq=anchor.seq, without_log=True)
    except StoreError:
        return None
    problem, _missing = _against_anchor(reading, alone)
    return alone if problem is None and alone.head_seq == anchor.seq else None


def _against_anchor(reading: AnchorReading, check: Preflight) -> tuple[str | None, int | None]:
    """compare_anchor of what ``check`` read, against the anchor as ``reading`` found it."""
    return compare_anchor(
        reading.anchor,
        damaged=reading.damaged,
        beside_missing=reading.beside_missing,
        head_seq=check.head_seq,
        hash_at_anchor=check.anchor_event_hash,
        anchored=check.anchored,
    )


def _older_log(
    log_state: wal.WalState,
    alone: Preflight,
    anchor: Anchor | None,
    *,
    undoes: int | None,
    diverges: bool = False,
) -> Examination:
    finding = {"record_events": alone.head_seq, "older_log_frames": log_state.frames}
    return Examination(
        log_state,
        alone,
        anchor,
        (),
        0,
        finding,
        older_log_undoes=undoes,
        older_log=True,
        older_log_diverges=diverges,
    )


def _wal_sentence(state: wal.WalState) -> str:
    count = state.acknowledged_after_break
    transactions = f"{count} saved transaction{'s' if count != 1 else ''}"
    if state.header_damaged:
        return (
            f"The header of the write-ahead log ({DATABASE_FILE}{WAL_SUFFIX}) is damaged, so "
            f"the {transactions} in it (the newest entries) would be ignored if the record "
            "were opened"
        )
    return (
        f"The write-ahead log ({DATABASE_FILE}{WAL_SUFFIX}) is damaged at frame "
        f"{(state.first_invalid_frame or 0) + 1} of {state.frames}, and at least "
        f"{transactions} (the newest entries) were written after the damage: opening the "
        "record would drop them for good"
    )


def incomplete_sentence(folder: Path, problems: tuple[str, ...]) -> str:
    return (
        ". ".join(problems)
        + f". Before anything else, copy the whole data folder {folder} somewhere safe: it "
        "may be needed to recover those entries. Then restore the latest backup into a new "
        "folder, or, if this record must be used as it is, run “kapdesk accept-loss --reason "
        "…” to open it and write the loss into its audit trail. Nothing was changed."
    )


def keep_evidence(
    folder: Path, found: Examination, anchors: Anchors, now: Callable[[], dt.datetime]
) -> list[str]:
    """Before an accepted loss is opened, keep copies of what opening would fold or replace;
    the names they were kept under. A log SQLite would fold in is kept with the database
    as it is before that (QA: the message said the log was kept when only the anchor was,
    and folding a log cannot be undone without the database it was folded into)."""
    suffix = stamp(now)
    kept: list[str] = []
    database = folder / DATABASE_FILE
    log_file = folder / f"{DATABASE_FILE}{WAL_SUFFIX}"
    if log_file.exists() and (found.wal.damaged or found.wal.replayed_commits):
        copies = [(log_file, folder / f"{log_file.name}.damaged-{suffix}")]
        if found.wal.replayed_commits:
            copies.append((database, folder / f"{database.name}.before-loss-{suffix}"))
        needed = sum(source.stat().st_size for source, _ in copies)
        free = shutil.disk_usage(folder).free
        if free < needed + SPARE_BYTES:
            raise StoreError(
                f"Opening this record as it is folds its write-ahead log into the database "
                f"for good, so kapdesk first keeps a copy of both, which needs "
                f"{size_text(needed + SPARE_BYTES)} free in {folder}; there is "
                f"{size_text(free)}. Free some space (or copy the whole folder elsewhere and "
                "free it here), then try again. Nothing was changed."
            )
        for source, target in copies:
            shutil.copyfile(source, target)
            ensure_private(target)
            with target.open("rb+") as handle:
                os.fsync(handle.fileno())
            kept.append(target.name)
    if "anchor" in found.finding:
        for anchor_file in anchors.files():
            if anchor_file.exists():
                target = anchor_file.path.with_name(f"{anchor_file.path.name}.replaced-{suffix}")
                anchor_file.path.rename(target)
                kept.append(str(target) if target.parent != folder else target.name)
    fsync_directory(folder)
    log.warning("opening a record with an accepted loss; evidence kept beside it")
    return kept


SPARE_BYTES = 64 * 1024 * 1024  # room left to write once the copies are made


def stamp(now: Callable[[], dt.datetime]) -> str:
    return now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
