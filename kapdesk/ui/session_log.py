"""The session log: a list model over LogEntry data, and a delegate that draws each entry
as clock time, T+ and the text wrapped to the width; a corrected entry shows the original
struck out, with the reason on hover."""

from __future__ import annotations

import functools
import html
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QFont,
    QFontMetrics,
    QPalette,
    QTextDocument,
)
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from kapdesk.session.wording import LogEntry

KIND_MARK = {"observation": "", "vitals": "", "dose": "Dose: ", "scale_score": "", "event": ""}
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
PADDING = 6

Index = QModelIndex | QPersistentModelIndex


class SessionLogModel(QAbstractListModel):
    def __init__(self, entries: list[LogEntry] | None = None) -> None:
        super().__init__()
        self._entries: list[LogEntry] = entries or []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{entry.clock}  {entry.t_plus}  {KIND_MARK[entry.kind]}{entry.text}"
        if role == Qt.ItemDataRole.ToolTipRole and entry.reasons:
            return "Corrected. Reason: " + " / then: ".join(entry.reasons)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            corrected = f", corrected from {entry.original}" if entry.original else ""
            return f"{entry.clock}, {entry.t_plus}, {KIND_MARK[entry.kind]}{entry.text}{corrected}"
        if role == ENTRY_ROLE:
            return entry
        return None

    def reset(self, entries: list[LogEntry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def entry_at(self, row: int) -> LogEntry:
        return self._entries[row]

    def row_of(self, entry_id: object) -> int:
        """The row showing the entry with this id (ValueError if none does)."""
        for row, entry in enumerate(self._entries):
            if entry.id == entry_id:
                return row
        raise ValueError("no such entry in the log")

    def put(self, entry: LogEntry) -> int:
        """Insert a new entry in time order (newest first), or replace a corrected one."""
        for row, existing in enumerate(self._entries):
            if existing.id == entry.id:
                self._entries[row] = entry
                self.dataChanged.emit(self.index(row), self.index(row))
                return row
        row = 0
        while row < len(self._entries) and self._entries[row].at > entry.at:
            row += 1
        self.beginInsertRows(QModelIndex(), row, row)
        self._entries.insert(row, entry)
        self.endInsertRows()
        return row


class EntryDelegate(QStyledItemDelegate):
    """Holds its view: reading ``option.widget`` when it is None under-counts references
    to None in PySide6 6.12 and, after a few hundred calls, crashes the interpreter
    (found by benchmarks/bench_workspace.py)."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view
        # Row heights by (entry, width): a list layout asks for every row's size on each
        # insert, and laying out rich text for hundreds of rows each time costs tens of ms.
        self._heights: dict[tuple[LogEntry, int], int] = {}

    def _columns(self, option: QStyleOptionViewItem) -> tuple[int, int]:
        return self._column_widths(option.font)

    @functools.lru_cache(maxsize=8)  # noqa: B019 - a few fonts a run; the delegate lives as long
    def _column_widths(self, font: QFont) -> tuple[int, int]:
        metrics = QFontMetrics(font)
        time_width = metrics.horizontalAdvance("00:00") + 2 * PADDING
        t_width = metrics.horizontalAdvance("T+000") + 2 * PADDING
        return time_width, t_width

    def _document(self, option: QStyleOptionViewItem, entry: LogEntry, width: int) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(PADDING)
        body = html.escape(KIND_MARK[entry.kind] + entry.text)
        if entry.kind != "observation":
            body = f"<b>{body}</b>"
        if entry.is_system:
            body = f"<i>{body}</i>"
        if entry.original is not None:
            body += f"<br><s>{html.escape(entry.original)}</s> (corrected)"
        doc.setHtml(body)
        doc.setTextWidth(max(80, width))
        return doc

    def paint(self, painter: Any, option: QStyleOptionViewItem, index: Index) -> None:
        entry: LogEntry = index.data(ENTRY_ROLE)
        self.initStyleOption(option, index)
        option.text = ""
        self._view.style().drawControl(
            QStyle.ControlElement.CE_ItemViewItem, option, painter, self._view
        )
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        colour = option.palette.color(role)
        time_width, t_width = self._columns(option)
        rect = option.rect
        metrics = QFontMetrics(option.font)
        top = rect.top() + PADDING
        painter.save()
        painter.setPen(colour)
        painter.setFont(option.font)
        for left, width, text in (
            (rect.left(), time_width, entry.clock),
            (rect.left() + time_width, t_width, entry.t_plus),
        ):
            painter.drawText(
                QRect(left + PADDING, top, width, metrics.height()),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
                text,
            )
        text_left = time_width + t_width
        doc = self._document(option, entry, rect.width() - text_left)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, colour)
        painter.translate(rect.left() + text_left, rect.top())
        doc.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        # Asked for every row on each insert: the cached height is found before any
        # styling work (initStyleOption, font metrics), which cost ~100 µs a row.
        entry: LogEntry = index.data(ENTRY_ROLE)
        time_width, t_width = self._column_widths(self._view.font())
        width = self._view.viewport().width() - time_width - t_width
        key = (entry, width)
        height = self._heights.get(key)
        if height is None:
            if len(self._heights) > 20_000:
                self._heights.clear()
            self.initStyleOption(option, index)
            height = int(self._document(option, entry, width).size().height())
            self._heights[key] = height
        return QSize(width + time_width + t_width, height)
