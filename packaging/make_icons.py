"""Render kapdesk's icon to the files the installers need.

    python packaging/make_icons.py [OUT_DIR]        (default: build/icons)

writes, from kapdesk/resources/icons/kapdesk.svg:

- ``kapdesk.png``: 256x256,
- ``kapdesk.ico``: Windows, PNG-compressed entries at 16 to 256 px (Windows Vista and later),
- ``kapdesk.icns``: macOS, PNG entries at 16 to 1024 px, drawn inside Apple's icon grid.

Only PySide6 is needed: Qt's SVG renderer draws each size and the two containers are
written here byte by byte.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QIODevice, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter
from PySide6.QtSvg import QSvgRenderer

SVG = Path(__file__).resolve().parent.parent / "kapdesk" / "resources" / "icons" / "kapdesk.svg"
DEFAULT_OUT = Path("build") / "icons"

PNG_SIZE = 256
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# OSType -> pixel size. The @2x types (ic11-ic14) share the bytes of the 1x type of the
# same pixel size; without them a Retina screen scales up the next smaller picture.
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),  # 512@2x
    (b"ic11", 32),  # 16@2x
    (b"ic12", 64),  # 32@2x
    (b"ic13", 256),  # 128@2x
    (b"ic14", 512),  # 256@2x
)
# Apple's icon grid: on a 1024 canvas the tile is 824 wide, 100 px in from each edge, so a
# full-bleed tile would look a size larger than every other app in the Dock. Windows
# icons are drawn edge to edge.
MACOS_INSET = 100 / 1024

_app: QCoreApplication | None = None  # the application made here, kept for the process


def _application() -> QCoreApplication:
    """The running Qt application, else a new offscreen QGuiApplication (no display needed)."""
    global _app
    existing = QCoreApplication.instance()
    if existing is not None:
        return existing
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication([sys.argv[0] if sys.argv else "make_icons"])
    return _app


def render(renderer: QSvgRenderer, size: int, inset: float = 0.0) -> QImage:
    """The icon at ``size`` x ``size`` px on a transparent ground, ``inset`` x size in from
    each edge."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    margin = size * inset
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter, QRectF(margin, margin, size - 2 * margin, size - 2 * margin))
    finally:
        painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    if not buffer.open(QIODevice.OpenModeFlag.WriteOnly):
        raise OSError("could not open an in-memory buffer for a PNG")
    try:
        writer = QImageWriter(buffer, QByteArray(b"png"))
        if not writer.write(image):
            raise OSError(f"Qt could not encode a {image.width()} px PNG: {writer.errorString()}")
    finally:
        buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: Iterable[tuple[int, bytes]]) -> bytes:
    """An ICO file of PNG entries: ICONDIR, one ICONDIRENTRY each, then the PNGs."""
    entries = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(entries))  # reserved, type 1 = icon, count
    offset = len(header) + 16 * len(entries)
    directory = b""
    for size, png in entries:
        if not 1 <= size <= 256:
            raise ValueError(f"an ICO entry is 1 to 256 px, not {size}")
        side = 0 if size == 256 else size  # one byte each: 0 means 256
        # width, height, colours in palette, reserved, planes, bits per pixel, bytes, offset
        directory += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
    return header + directory + b"".join(png for _, png in entries)


def icns_bytes(entries: Iterable[tuple[bytes, bytes]]) -> bytes:
    """An ICNS file: 'icns' and the file's length, then each entry as OSType, length, PNG."""
    body = b""
    for ostype, png in entries:
        if len(ostype) != 4:
            raise ValueError(f"an OSType is four bytes, not {ostype!r}")
        body += ostype + struct.pack(">I", 8 + len(png)) + png
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def make_icons(out_dir: Path, svg: Path = SVG) -> dict[str, Path]:
    """Write kapdesk.png, kapdesk.ico and kapdesk.icns into ``out_dir``; return their paths
    by kind ("png", "ico", "icns")."""
    _application()
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"Qt could not read the SVG {svg}")

    flat: dict[int, bytes] = {}
    for size in {PNG_SIZE, *ICO_SIZES}:
        flat[size] = png_bytes(render(renderer, size))
    inset: dict[int, bytes] = {}
    for size in {size for _, size in ICNS_TYPES}:
        inset[size] = png_bytes(render(renderer, size, MACOS_INSET))

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "png": out_dir / "kapdesk.png",
        "ico": out_dir / "kapdesk.ico",
        "icns": out_dir / "kapdesk.icns",
    }
    paths["png"].write_bytes(flat[PNG_SIZE])
    paths["ico"].write_bytes(ico_bytes((size, flat[size]) for size in ICO_SIZES))
    paths["icns"].write_bytes(icns_bytes((ostype, inset[size]) for ostype, size in ICNS_TYPES))
    return paths


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    if len(args) > 1:
        print("usage: make_icons.py [OUT_DIR]", file=sys.stderr)
        return 2
    out_dir = Path(args[0]) if args else DEFAULT_OUT
    for path in make_icons(out_dir).values():
        print(f"{path}  ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
