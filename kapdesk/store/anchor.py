"""The anchor: where the audit chain ended when kapdesk last wrote, kept outside the database.

The audit chain proves that nothing inside it was changed, but a record cut
short at its end (a write-ahead log truncated, the newest entries deleted
with their events, an older copy of kapdesk.db put in place) is still a valid
chain, only a shorter one. The anchor holds the newest event's number and
hash, authenticated with a key derived from the record key, so it cannot be
moved back or forged without that key. A record behind its anchor is the alarm.

There are two: ``kapdesk.anchor`` beside the database, and a mirror outside
the data folder (in the user's state folder, named by the record's id and the
folder's place), so that putting back an older copy of the whole folder, anchor
included, is seen too. A copy of the record in another folder (a backup
restored beside the one in use) is another record from then on, with a mirror
of its own: one mirror for both had each look cut short as the other moved on.

The anchor is written after each commit, with no fsync of its own: it is only
ever behind the record (the commit is durable before the anchor moves), and an
anchor behind the record after a power cut is harmless. Each file has two
slots written in turn. A slot that does not authenticate is never passed over
quietly: a write of 96 bytes inside one disk sector is not torn by a crash, so
a bad slot means the file was changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import hmac
import logging
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from kapdesk.store.fileio import fsync_directory

log = logging.getLogger(__name__)

ANCHOR_FILE = "kapdesk.anchor"
_MAGIC = b"kapanc01"
# magic, write number, event seq, event hash, written at (µs since the epoch), MAC
_SLOT = struct.Struct(">8sQQ32sq32s")
_SLOTS = 2
_MAX_BYTES = 4096  # an anchor is 192 bytes; anything much larger is not one


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str  # hex, as in audit_events.hash
    written_at: dt.datetime


class AnchorDamagedError(Exception):
    """The anchor is there but cannot be trusted; str() says which file and why."""


def _mac_key(record_key: bytes, database_id: str) -> bytes:
    return hmac.new(record_key, b"kapdesk anchor v1:" + database_id.encode(), "sha256").digest()


class AnchorFile:
    """One anchor file; the first write keeps it open for the store's later writes."""

    def __init__(self, path: Path, record_key: bytes, database_id: str) -> None:
        self.path = path
        self._key = _mac_key(record_key, database_id)
        self._fd: int | None = None
        self._writes = 0
        self._new = False

    def exists(self) -> bool:
        return os.path.lexists(self.path)

    def read(self) -> Anchor | None:
        """The newest slot; None if there is no file. AnchorDamagedError if any slot in
        use does not authenticate, or the file is not a plain file of anchor size."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | _NONBLOCK)
        except (FileNotFoundError, NotADirectoryError):
            # Not there, or its folder is not a folder (a file where the state folder
            # should be): no anchor can be there, as when the folder was deleted. It was
            # said to be "damaged, altered or copied", and the record refused (QA).
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise AnchorDamagedError(f"{self.path} is a link, not the anchor") from None
            raise AnchorDamagedError(f"{self.path} cannot be read ({exc.strerror})") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_BYTES:
                raise AnchorDamagedError(f"{self.path} is not an anchor file")
            raw = os.read(fd, _MAX_BYTES)
        finally:
            os.close(fd)
        best: tuple[int, Anchor] | None = None
        for index in range(_SLOTS):
            chunk = raw[index * _SLOT.size : (index + 1) * _SLOT.size]
            if not chunk.strip(b"\0"):
                continue  # never written
            if len(chunk) != _SLOT.size:
                raise AnchorDamagedError(f"{self.path} is cut short")
            magic, writes, seq, digest, written_us, mac = _SLOT.unpack(chunk)
            if magic != _MAGIC or not hmac.compare_digest(mac, self._mac(chunk[:-32])):
                raise AnchorDamagedError(
                    f"{self.path} does not authenticate with this record's key"
                )
            anchor = Anchor(seq, digest.hex(), dt.datetime.fromtimestamp(written_us / 1e6, dt.UTC))
            if best is None or writes > best[0]:
                best = (writes, anchor)
        if best is None:
            raise AnchorDamagedError(f"{self.path} holds no anchor")
        self._writes = max(self._writes, best[0])
        return best[1]

    def write(self, seq: int, event_hash: str, at: dt.datetime) -> None:
        """Move the anchor to event ``seq``; the caller has committed that event durably."""
        if self._fd is None:
            self._open()
        assert self._fd is not None
        self._writes += 1
        body = _SLOT.pack(
            _MAGIC,
            self._writes,
            seq,
            bytes.fromhex(event_hash),
            int(at.timestamp() * 1e6),
            bytes(32),
        )[:-32]
        os.lseek(self._fd, (self._writes % _SLOTS) * _SLOT.size, os.SEEK_SET)
        os.write(self._fd, body + self._mac(body))
        if self._new:
            # A new file's first slot is synced, with its folder entry: after a power cut
            # an empty anchor would look damaged. Later writes overwrite it in place.
            os.fsync(self._fd)
            fsync_directory(self.path.parent)
            self._new = False

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None

    def _open(self) -> None:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        self._new = not self.exists()
        self._fd = os.open(self.path, flags, 0o600)
        if self._writes == 0 and not self._new:
            # Continue its write count, so the newest slot stays the newest; one that
            # cannot be read is being replaced (a restore, an accepted loss).
            with contextlib.suppress(AnchorDamagedError):
                self.read()

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO put in its place must not hang the open


@dataclass(frozen=True)
class AnchorReading:
    anchor: Anchor | None  # the furthest of the two that authenticate
    damaged: str | None  # which file cannot be trusted, and why
    beside_missing: bool  # no kapdesk.anchor beside the database


def mirror_name(folder: Path, database_id: str) -> str:
    """The mirror's file name for the record ``database_id`` in ``folder``: by the record
    and by the folder's place, so that two copies of one record (a backup restored into a
    new folder beside the one in use) never move each other's mirror (tamper QA: each
    then looked cut short to the other, and accepting the "loss" would write one that
    never happened). A folder moved elsewhere starts a mirror anew."""
    place = hashlib.sha256(os.fsencode(str(folder.resolve()))).hexdigest()[:16]
    return f"{database_id}.{place}.anchor"


class Anchors:
    """The record's anchor beside the database and its mirror outside the data folder."""

    def __init__(
        self, folder: Path, record_key: bytes, database_id: str, mirror: Path | None = None
    ) -> None:
        self._key, self._database_id, self._mirrors = record_key, database_id, mirror
        self.beside = AnchorFile(folder / ANCHOR_FILE, record_key, database_id)
        self.mirror = (
            None
            if mirror is None
            else AnchorFile(mirror / mirror_name(folder, database_id), record_key, database_id)
        )
        # Where the mirror could not be written at the last write, and why; None once it was.
        self.mirror_problem: str | None = None

    def furthest_elsewhere(self) -> Anchor | None:
        """The furthest anchor of this record's copies in other folders on this computer
        (read only, never moved): how far the record had come here, for a restore to say
        what it leaves out. Mirrors of the record's id alone (before kapdesk named them by
        folder too) count as copies elsewhere."""
        if self._mirrors is None or self.mirror is None:
            return None
        found: list[Anchor] = []
        for path in sorted(self._mirrors.glob(f"{self._database_id}.*anchor")):
            if path.name == self.mirror.path.name:
                continue
            with contextlib.suppress(AnchorDamagedError, OSError):
                anchor = AnchorFile(path, self._key, self._database_id).read()
                if anchor is not None:
                    found.append(anchor)
        return max(found, key=lambda a: a.seq, default=None)

    def files(self) -> list[AnchorFile]:
        return [f for f in (self.beside, self.mirror) if f is not None]

    def read(self) -> AnchorReading:
        found: list[Anchor] = []
        damaged = None
        for anchor_file in self.files():
            try:
                anchor = anchor_file.read()
            except AnchorDamagedError as exc:
                damaged = damaged or str(exc)
                continue
            if anchor is not None:
                found.append(anchor)
        furthest = max(found, key=lambda a: a.seq, default=None)
        return AnchorReading(furthest, damaged, beside_missing=not self.beside.exists())

    def write(self, seq: int, event_hash: str, at: dt.datetime) -> None:
        """Move both; the mirror failing (no state folder, say) only costs its protection."""
        self.beside.write(seq, event_hash, at)
        if self.mirror is not None:
            try:
                self.mirror.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.mirror.write(seq, event_hash, at)
            except OSError as exc:
                log.warning("the anchor's mirror could not be written (%s)", exc.strerror)
                self.mirror_problem = f"{self.mirror.path.parent} ({exc.strerror or exc})"
            else:
                self.mirror_problem = None

    def close(self) -> None:
        for anchor_file in self.files():
            try:
                anchor_file.close()
            except OSError as exc:
                log.warning("an anchor could not be closed (%s)", exc.strerror)


def compare_anchor(
    anchor: Anchor | None,
    *,
    damaged: str | None,
    beside_missing: bool,
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
            f"The anchor ({damaged}), which records where the record ended when kapdesk "
            "last wrote, cannot be trusted: it was damaged, altered, or copied from another "
            "record, so kapdesk cannot tell whether the newest entries are all there",
            None,
        )
    # The copy outside the data folder naming the record's newest event exactly proves
    # the record whole: kapdesk.anchor alone missing sent the clinician to restore a
    # backup, which would have lost every entry since (tamper QA); the next write makes
    # the file again.
    proven = anchor is not None and anchor.seq == head_seq and hash_at_anchor == anchor.hash
    if anchored and beside_missing and head_seq > 0 and not proven:
        return (
            f"The anchor file {ANCHOR_FILE}, which records where the record ended when "
            "kapdesk last wrote, is missing, so kapdesk cannot tell whether the newest "
            "entries are all there",
            None,
        )
    if anchor is None:
        return None, 0
    if anchor.seq > head_seq:
        missing = anchor.seq - head_seq
        when = anchor.written_at.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"The record ends at audit event #{head_seq}, but kapdesk had written up to "
            f"event #{anchor.seq} (at {when}): "
            + (
                "the newest audit event, and what it records, are missing. "
                if missing == 1
                else f"the newest {missing} audit events, and the entries they record, are "
                "missing. "
            )
            + "The write-ahead log may have been cut short, entries deleted, or an older copy "
            "of the database (or of the whole data folder) put in place",
            missing,
        )
    if hash_at_anchor != anchor.hash:
        return (
            f"Audit event #{anchor.seq} in the record is not the one kapdesk wrote: the "
            "database was replaced by a different copy of the record",
            None,
        )
    return None, 0
