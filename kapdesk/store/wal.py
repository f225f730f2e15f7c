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
written, so the check needs no key.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

HEADER_BYTES = 32
FRAME_HEADER_BYTES = 24
MAGIC_LITTLE_ENDIAN_SUMS = 0x377F0682
MAGIC_BIG_ENDIAN_SUMS = 0x377F0683
FORMAT_VERSION = 3007000


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

    @property
    def damaged(self) -> bool:
        """Acknowledged transactions lie beyond the point where SQLite would stop."""
        return self.acknowledged_after_break > 0


EMPTY = WalState(0, 0, None, 0, 0, header_damaged=False)


def checksum(data: bytes, start: tuple[int, int], big_endian: bool) -> tuple[int, int]:
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
    data: bytes  # the frame header's first 8 bytes and the page, as checksummed


def _frames(raw: bytes, page_size: int) -> list[_Frame]:
    size = FRAME_HEADER_BYTES + page_size
    out = []
    for offset in range(HEADER_BYTES, len(raw) - size + 1, size):
        page, commit_size, s1, s2 = struct.unpack_from(">II8xII", raw, offset)
        head = raw[offset : offset + 8]
        body = raw[offset + FRAME_HEADER_BYTES : offset + size]
        out.append(_Frame(page, commit_size, raw[offset + 8 : offset + 16], (s1, s2), head + body))
    return out


def _valid_run(
    frames: list[_Frame], salts: bytes, start: tuple[int, int], big_endian: bool
) -> tuple[int, int, int]:
    """(valid frames, commits among them, index of the last commit + 1) from the start."""
    sums, valid, commits, replayed = start, 0, 0, 0
    for index, frame in enumerate(frames):
        if frame.page == 0 or frame.salts != salts:
            break
        sums = checksum(frame.data, sums, big_endian)
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
        raw = path.read_bytes()
    except FileNotFoundError:
        return EMPTY
    if len(raw) < HEADER_BYTES:
        return EMPTY
    magic, version, page_value, _checkpoint = struct.unpack_from(">IIII", raw, 0)
    salts = raw[16:24]
    stored_sums = struct.unpack_from(">II", raw, 24)
    big_endian = magic == MAGIC_BIG_ENDIAN_SUMS
    page_size = _page_size(page_value)
    header_ok = (
        magic in (MAGIC_LITTLE_ENDIAN_SUMS, MAGIC_BIG_ENDIAN_SUMS)
        and version == FORMAT_VERSION
        and page_size is not None
        and checksum(raw[:24], (0, 0), big_endian) == stored_sums
    )
    if header_ok:
        assert page_size is not None
        frames = _frames(raw, page_size)
        valid, commits, _replayed = _valid_run(frames, salts, stored_sums, big_endian)
        if valid == len(frames):
            return WalState(len(frames), commits, None, 0, 0, header_damaged=False)
        return _after_break(frames, valid, commits, salts, header_damaged=False)
    return _damaged_header(raw, page_size or fallback_page_size, big_endian, stored_sums)


def _after_break(
    frames: list[_Frame],
    first_invalid: int,
    replayed_commits: int,
    salts: bytes,
    *,
    header_damaged: bool,
) -> WalState:
    current = [i for i in range(first_invalid, len(frames)) if frames[i].salts == salts]
    stale = len(frames) - first_invalid - len(current)
    commit_frames = [i for i in current if frames[i].commit_size]
    last_current = current[-1] if current else None
    # A commit frame followed by another frame of this log generation was acknowledged:
    # the next transaction only starts writing after the commit is synced.
    acknowledged = [i for i in commit_frames if last_current is not None and i < last_current]
    return WalState(
        frames=len(frames),
        replayed_commits=replayed_commits,
        first_invalid_frame=first_invalid,
        commits_after_break=len(commit_frames),
        acknowledged_after_break=len(acknowledged),
        header_damaged=header_damaged,
        stale_frames=stale,
    )


def _damaged_header(
    raw: bytes, page_size: int, big_endian: bool, stored_sums: tuple[int, int]
) -> WalState:
    """The header does not check out: SQLite will ignore the whole log.

    If the frames behind it still chain (under the salts they carry and either the
    header's stored checksum or the one its bytes give), they are this log's frames
    and every commit among them would be dropped.
    """
    frames = _frames(raw, page_size)
    if not frames:
        return EMPTY
    salts = frames[0].salts
    best = (0, 0, 0)
    for endian in (big_endian, not big_endian):
        for start in (stored_sums, checksum(raw[:24], (0, 0), endian)):
            run = _valid_run(frames, salts, start, endian)
            best = max(best, run)
    _valid, commits, _replayed = best
    if commits == 0:
        return WalState(len(frames), 0, 0, 0, 0, header_damaged=True)
    return WalState(
        frames=len(frames),
        replayed_commits=0,
        first_invalid_frame=0,
        commits_after_break=commits,
        acknowledged_after_break=commits,
        header_damaged=True,
    )
