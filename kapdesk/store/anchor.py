"""The anchor: where the audit chain ended when kapdesk last wrote, kept outside the database.

The audit chain proves that nothing inside it was changed, but a record cut
short at its end (a write-ahead log truncated, the newest entries deleted
with their events, an older copy of kapdesk.db put in place) is still a valid
chain, only a shorter one. The anchor file ``kapdesk.anchor`` beside the
database holds the newest event's number and hash, authenticated with a key
derived from the record key, so it cannot be moved back or forged without
that key. A record behind its anchor is the alarm.

The anchor is written after each commit, with no fsync of its own: it is only
ever behind the record (the commit is durable before the anchor moves), and an
anchor behind the record after a power cut is harmless. It has two slots,
written in turn, so a torn write leaves the other, older slot readable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from kapdesk.store.fileio import fsync_directory

ANCHOR_FILE = "kapdesk.anchor"
_MAGIC = b"kapanc01"
# magic, write number, event seq, event hash, written at (µs since the epoch), MAC
_SLOT = struct.Struct(">8sQQ32sq32s")
_SLOTS = 2


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str  # hex, as in audit_events.hash
    written_at: dt.datetime


class AnchorDamagedError(Exception):
    """The file is there but no slot authenticates: damaged, altered, or another record's."""


def _mac_key(record_key: bytes, database_id: str) -> bytes:
    return hmac.new(record_key, b"kapdesk anchor v1:" + database_id.encode(), "sha256").digest()


class AnchorFile:
    """The anchor of one data folder; open() keeps it open for the store's writes."""

    def __init__(self, folder: Path, record_key: bytes, database_id: str) -> None:
        self.path = folder / ANCHOR_FILE
        self._key = _mac_key(record_key, database_id)
        self._fd: int | None = None
        self._writes = 0
        self._new = False

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> Anchor | None:
        """The newest slot that authenticates; None if there is no anchor file."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        best: tuple[int, Anchor] | None = None
        for index in range(_SLOTS):
            chunk = raw[index * _SLOT.size : (index + 1) * _SLOT.size]
            if len(chunk) != _SLOT.size:
                continue
            magic, writes, seq, digest, written_us, mac = _SLOT.unpack(chunk)
            body = chunk[: _SLOT.size - 32]
            if magic != _MAGIC or not hmac.compare_digest(mac, self._mac(body)):
                continue
            anchor = Anchor(seq, digest.hex(), dt.datetime.fromtimestamp(written_us / 1e6, dt.UTC))
            if best is None or writes > best[0]:
                best = (writes, anchor)
        if best is None:
            raise AnchorDamagedError(self.path.name)
        self._writes = max(self._writes, best[0])
        return best[1]

    def open(self) -> None:
        """Keep the file open for writing (created if missing), private to the owner."""
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        self._new = not self.path.exists()
        self._fd = os.open(self.path, flags, 0o600)

    def write(self, seq: int, event_hash: str, at: dt.datetime) -> None:
        """Move the anchor to event ``seq``; the caller has committed that event durably."""
        if self._fd is None:
            self.open()
        assert self._fd is not None
        self._writes += 1
        body = _SLOT.pack(
            _MAGIC,
            self._writes,
            seq,
            bytes.fromhex(event_hash),
            int(at.timestamp() * 1e6),
            bytes(32),
        )[: _SLOT.size - 32]
        slot = body + self._mac(body)
        os.lseek(self._fd, (self._writes % _SLOTS) * _SLOT.size, os.SEEK_SET)
        os.write(self._fd, slot)
        if self._new:
            # A new file's first slot is synced, with its folder entry: after a power cut
            # an empty anchor would look damaged. Later writes overwrite it in place.
            os.fsync(self._fd)
            fsync_directory(self.path.parent)
            self._new = False

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()


def compare_anchor(
    anchor: Anchor | None,
    *,
    damaged: bool,
    head_seq: int,
    hash_at_anchor: str | None,
    anchored: bool,
) -> tuple[str | None, int | None]:
    """A sentence if the record does not reach its anchor, and how many events are missing.

    ``head_seq`` is the record's newest event, ``hash_at_anchor`` the hash of its event
    numbered as the anchor says (None if it has none), ``anchored`` whether the record
    says it keeps an anchor. The count is None where it cannot be known.
    """
    if damaged:
        return (
            f"The anchor file {ANCHOR_FILE}, which records where the record ended when "
            "kapdesk last wrote, does not authenticate with this record's key: it was "
            "damaged, altered, or copied from another record, so kapdesk cannot tell "
            "whether the newest entries are all there",
            None,
        )
    if anchor is None:
        if anchored and head_seq > 0:
            return (
                f"The anchor file {ANCHOR_FILE}, which records where the record ended when "
                "kapdesk last wrote, is missing, so kapdesk cannot tell whether the newest "
                "entries are all there",
                None,
            )
        return None, 0
    if anchor.seq > head_seq:
        missing = anchor.seq - head_seq
        when = anchor.written_at.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"The record ends at audit event #{head_seq}, but kapdesk had written up to "
            f"event #{anchor.seq} (at {when}): the newest {missing} audit event"
            f"{'s' if missing != 1 else ''}, and the entries they record, are missing. The "
            "write-ahead log may have been cut short, entries deleted, or an older copy of "
            "the database put in place",
            missing,
        )
    if hash_at_anchor != anchor.hash:
        return (
            f"Audit event #{anchor.seq} in the record is not the one kapdesk wrote: the "
            "database was replaced by a different copy of the record",
            None,
        )
    return None, 0
