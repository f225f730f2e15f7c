"""The session log: a list model over LogEntry data, a view with a key of its own (Ctrl+L)
and a delegate that draws each entry as clock time, T+ and the text wrapped to the width;
a corrected entry shows the original struck out and the reason, in the log itself."""

from __future__ import annotations

import functools
import html
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QPalette,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from kapdesk.session.wording import LogEntry

KIND_MARK = {"observation": "", "vitals": "", "dose": "Dose: ", "scale_score": "", "event": ""}
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
PADDING = 6

Index = QModelIndex | QPersistentModelIndex


def entry_html(entry: LogEntry) -> str:
    """An entry as the log draws it; a correction shows the original struck out and the
    reason beside it, not only in a tooltip (issue 9)."""
    body = html.escape(KIND_MARK[entry.kind] + entry.text)
    if entry.kind != "observation":
        body = f"<b>{body}</b>"
    if entry.is_system:
        body = f"<i>{body}</i>"
    if entry.original is not None:
        reasons = html.escape("; then: ".join(entry.reasons))
        body += f"<br><s>{html.escape(entry.original)}</s> (corrected; reason: {reasons})"
    return body


def fitted_font(font: QFont, text: str, room: int) -> QFont:
    """``font``, made smaller if ``text`` would not fit ``room`` px: "pre-dose" (before any
    dose) is wider than T+000, and drawn at full size it ran over the entry (issue 9)."""
    wide = QFontMetrics(font).horizontalAdvance(text)
    if wide <= room:
        return font
    smaller = QFont(font)
    size = font.pixelSize() if font.pixelSize() > 0 else round(font.pointSizeF() * 4 / 3)
    while size > 8:
        size -= 1
        smaller.setPixelSize(size)
        if QFontMetrics(smaller).horizontalAdvance(text) <= room:
            break
    return smaller


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
            corrected = (
                f", corrected from {entry.original}; reason: {'; then: '.join(entry.reasons)}"
                if entry.original
                else ""
            )
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


class SessionLogView(QListView):
    """The log, newest first. Focused (Ctrl+L), it selects the newest entry so the arrows
    and Ctrl+E work at once; Esc clears the selection and hands the keyboard back."""

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName("Session log, newest first (Ctrl+L)")
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWordWrap(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        model = self.model()
        if model is not None and model.rowCount() and not self.selectionModel().hasSelection():
            self.setCurrentIndex(model.index(0, 0))
            self.scrollToTop()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            # Clear the selection, then let Esc mean what it means around the log (back
            # to the observation line; Keep going; after the end, back to the patients):
            # one Esc, not two (issue 9 QA).
            self.clearSelection()
            self.setCurrentIndex(QModelIndex())
            event.ignore()
            return
        super().keyPressEvent(event)


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
        t_width = max(metrics.horizontalAdvance(t) for t in ("T+000", "T−000")) + 2 * PADDING
        return time_width, t_width

    def _document(self, option: QStyleOptionViewItem, entry: LogEntry, width: int) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(PADDING)
        doc.setHtml(entry_html(entry))
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
            room = width - 2 * PADDING
            if metrics.horizontalAdvance(text) > room:  # rare: "pre-dose"
                painter.setFont(fitted_font(option.font, text, room))
            painter.drawText(
                QRect(left + PADDING, top, room, metrics.height()),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                text,
            )
            painter.setFont(option.font)
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
