"""Reading SQLite's write-ahead log ourselves, before SQLite replays it.

SQLite replays a log frame by frame and stops, silently, at the first frame
whose salt or cumulative checksum does not match; everything after it is
dropped and, at the next checkpoint, gone for good. That is right for a
write torn by a crash (only the transaction in flight can be incomplete) and
wrong for damage in the middle of the log (committed transactions follow it).
This module tells the two apart from the log's own structure
(https://www.sqlite.org/fileformat2.html#walformat):

- a 32-byte header: magic, format version, page size, checkpoint sequence,
  two salts and a checksum of the first 24 bytes;
- frames of a 24-byte header (page number, database size in pages for the
  last frame of a commit else 0, the two salts, a cumulative checksum over
  the frame header's first 8 bytes and the page) and one page.

With ``synchronous = FULL`` a commit's frames are on disk before the next
transaction writes any frame, and salts change whenever the log restarts, so
a commit frame carrying the current salts that is followed by more frames with
the current salts belongs to a transaction that was acknowledged. If such a
frame lies after the first invalid one, the log was damaged, not torn.

SQLCipher encrypts pages, not these headers; the checksums cover the bytes as
written, so the check needs no key. The log is read through a memory map, one
frame at a time: a log of gigabytes costs time, not memory.
"""

from __future__ import annotations

import mmap
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HEADER_BYTES = 32
FRAME_HEADER_BYTES = 24
MAGIC_LITTLE_ENDIAN_SUMS = 0x377F0682
MAGIC_BIG_ENDIAN_SUMS = 0x377F0683
FORMAT_VERSION = 3007000


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO in its place must not hang the open


class NotALogError(ValueError):
    """Something other than a plain file stands where the log should be."""


@dataclass(frozen=True)
class WalState:
    """What a write-ahead log holds, as SQLite will read it and as it really is."""

    frames: int  # whole frames in the file
    replayed_commits: int  # transactions SQLite will replay
    first_invalid_frame: int | None  # where SQLite stops reading (0-based), if before the end
    commits_after_break: int  # commit frames with the current salts after that point
    acknowledged_after_break: int  # of those, the ones certainly acknowledged (see module doc)
    header_damaged: bool
    stale_frames: int = 0  # frames of an earlier generation of the log (other salts): unused
    replayed_bytes: int = 0  # what SQLite folds into the database from this log, at most

    @property
    def damaged(self) -> bool:
        """Acknowledged transactions lie beyond the point where SQLite would stop."""
        return self.acknowledged_after_break > 0


EMPTY = WalState(0, 0, None, 0, 0, header_damaged=False)


def checksum(data: bytes | memoryview, start: tuple[int, int], big_endian: bool) -> tuple[int, int]:
    """SQLite's WAL checksum (wal.c, walChecksumBytes) of ``data``, continuing from ``start``."""
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    s1, s2 = start
    for i in range(0, len(words), 2):
        s1 = (s1 + words[i] + s2) & 0xFFFFFFFF
        s2 = (s2 + words[i + 1] + s1) & 0xFFFFFFFF
    return s1, s2


@dataclass(frozen=True)
class _Frame:
    page: int
    commit_size: int
    salts: bytes
    sums: tuple[int, int]
    offset: int


class _Log:
    def __init__(self, raw: mmap.mmap | bytes, page_size: int) -> None:
        self.raw = raw
        self.page_size = page_size
        self.frame_bytes = FRAME_HEADER_BYTES + page_size
        self.count = max(0, (len(raw) - HEADER_BYTES) // self.frame_bytes)

    def frame(self, index: int) -> _Frame:
        offset = HEADER_BYTES + index * self.frame_bytes
        page, commit_size, s1, s2 = struct.unpack_from(">II8xII", self.raw, offset)
        salts = bytes(self.raw[offset + 8 : offset + 16])
        return _Frame(page, commit_size, salts, (s1, s2), offset)

    def frames(self, start: int = 0) -> Iterator[_Frame]:
        for index in range(start, self.count):
            yield self.frame(index)

    def summed(self, frame: _Frame, start: tuple[int, int], big_endian: bool) -> tuple[int, int]:
        view = memoryview(self.raw)
        head = view[frame.offset : frame.offset + 8]
        body = view[frame.offset + FRAME_HEADER_BYTES : frame.offset + self.frame_bytes]
        try:
            return checksum(body, checksum(head, start, big_endian), big_endian)
        finally:
            head.release()
            body.release()
            view.release()


def _valid_run(
    log: _Log, salts: bytes, start: tuple[int, int], big_endian: bool
) -> tuple[int, int, int]:
    """(valid frames, commits among them, index of the last commit + 1) from the start."""
    sums, valid, commits, replayed = start, 0, 0, 0
    for index, frame in enumerate(log.frames()):
        if frame.page == 0 or frame.salts != salts:
            break
        sums = log.summed(frame, sums, big_endian)
        if sums != frame.sums:
            break
        valid = index + 1
        if frame.commit_size:
            commits += 1
            replayed = index + 1
    return valid, commits, replayed


def _page_size(value: int) -> int | None:
    size = 65536 if value == 1 else value
    if 512 <= size <= 65536 and size & (size - 1) == 0:
        return size
    return None


def inspect(path: Path, *, fallback_page_size: int = 4096) -> WalState:
    """Read the log at ``path`` (missing or shorter than a header: nothing to replay)."""
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except FileNotFoundError:
        return EMPTY
    except OSError as exc:
        raise NotALogError(f"{path.name} cannot be read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotALogError(f"{path.name} is not a plain file")
        if info.st_size < HEADER_BYTES:
            return EMPTY
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as raw:
            return _inspect(raw, fallback_page_size)
    finally:
        os.close(fd)


def _inspect(raw: mmap.mmap, fallback_page_size: int) -> WalState:
    magic, version, page_value, _checkpoint = struct.unpack_from(">IIII", raw, 0)
    salts = bytes(raw[16:24])
    stored_sums = struct.unpack_from(">II", raw, 24)
    big_endian = magic == MAGIC_BIG_ENDIAN_SUMS
    page_size = _page_size(page_value)
    header_ok = (
        magic in (MAGIC_LITTLE_ENDIAN_SUMS, MAGIC_BIG_ENDIAN_SUMS)
        and version == FORMAT_VERSION
        and page_size is not None
        and checksum(raw[:24], (0, 0), big_endian) == stored_sums
    )
    if not header_ok:
        return _damaged_header(raw, page_size or fallback_page_size, big_endian, stored_sums)
    assert page_size is not None
    log = _Log(raw, page_size)
    valid, commits, replayed = _valid_run(log, salts, stored_sums, big_endian)
    replayed_bytes = replayed * log.frame_bytes
    if valid == log.count:
        return WalState(log.count, commits, None, 0, 0, False, 0, replayed_bytes)
    return _after_break(log, valid, commits, salts, replayed_bytes)


def _after_break(
    log: _Log, first_invalid: int, replayed_commits: int, salts: bytes, replayed_bytes: int
) -> WalState:
    # Only the frame headers are read from here on: their salts and commit marks.
    current = stale = commit_frames = acknowledged = 0
    last_commit_current = False
    for frame in log.frames(first_invalid):
        if frame.salts != salts:
            stale += 1
            continue
        # A commit frame followed by another frame of this log generation was
        # acknowledged: the next transaction only starts writing after the commit is synced.
        if last_commit_current:
            acknowledged += 1
        current += 1
        last_commit_current = bool(frame.commit_size)
        commit_frames += last_commit_current
    return WalState(
        frames=log.count,
        replayed_commits=replayed_commits,
        first_invalid_frame=first_invalid,
        commits_after_break=commit_frames,
        acknowledged_after_break=acknowledged,
        header_damaged=False,
        stale_frames=stale,
        replayed_bytes=replayed_bytes,
    )


def _damaged_header(
    raw: mmap.mmap, page_size: int, big_endian: bool, stored_sums: tuple[int, int]
) -> WalState:
    """The header does not check out: SQLite will ignore the whole log.

    If the frames behind it still chain (under the salts they carry and either the
    header's stored checksum or the one its bytes give), they are this log's frames
    and every commit among them would be dropped.
    """
    log = _Log(raw, page_size)
    if not log.count:
        return EMPTY
    salts = log.frame(0).salts
    best = (0, 0, 0)
    for endian in (big_endian, not big_endian):
        for start in (stored_sums, checksum(raw[:24], (0, 0), endian)):
            best = max(best, _valid_run(log, salts, start, endian))
    _valid, commits, _replayed = best
    return WalState(
        frames=log.count,
        replayed_commits=0,
        first_invalid_frame=0,
        commits_after_break=commits,
        acknowledged_after_break=commits,
        header_damaged=True,
    )
