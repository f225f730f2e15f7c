"""The session log: a list model over LogEntry data, a view with a key of its own (Ctrl+L)
and a delegate that draws each entry as clock time, T+ and the text wrapped to the width;
a corrected entry shows the original struck out and the reason, in the log itself."""

from __future__ import annotations

import bisect
import html
import re
import uuid
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QPainter,
    QPalette,
    QPixmap,
    QResizeEvent,
    QStandardItemModel,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
)

from kapdesk.clinical.instants import to_micros
from kapdesk.session.readings import position_of
from kapdesk.session.wording import LogEntry, correctors

KIND_MARK = {"observation": "", "vitals": "", "dose": "Dose: ", "scale_score": "", "event": ""}
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
PADDING = 6
ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.AccessibleTextRole,
        ENTRY_ROLE,
    }
)
# The words of this many rows are kept (those shown lately); the rest are made again
# when shown, so a long session's log holds ids and instants, not text.
SHOWN_KEPT = 600
PIXEL_SCROLL_ROWS = 300  # past this many rows, the log scrolls by entry
# An entry is drawn at most this share of the log's height (whole lines, two at least);
# the rest is read with Enter. An 874-character note filled the log and pushed the newest
# readings and the alert out of view (QA).
MOST_OF_VIEW = 0.4
CUT_NOTE = "… more: Enter"
HEIGHTS_KEPT = 2000
# The view holds the newest WINDOW_ROWS rows at first, and WINDOW_ROWS more each time it
# is scrolled to its end: a tree view lays out all of its rows on every insert (5.9 ms
# at 21,600 rows, 1.3 ms at 500). New rows join at the top; past WINDOW_SLACK of them,
# the oldest held go again (they are reached by scrolling, as before).
WINDOW_ROWS = 500
WINDOW_SLACK = 500
DOCUMENTS_KEPT = 60
# Rows' pixmaps (~90 KB each): a 1200 px log holds ~35 rows, one of them chosen. 80 held
# ~3 MiB more, over the six-hour memory target (issue 10).
DRAWN_KEPT = 48
BRANCH_KEYS = frozenset(
    {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Plus, Qt.Key.Key_Minus, Qt.Key.Key_Asterisk}
)

Index = QModelIndex | QPersistentModelIndex
# The log's rows as two columns: instants (microseconds since the epoch), entries' ids.
LogRows = tuple[Sequence[int], Sequence[uuid.UUID | str]]


def entry_html(entry: LogEntry) -> str:
    """An entry as the log draws it; a correction shows the original struck out and the
    reason beside it, not only in a tooltip (issue 9)."""
    body = html.escape(KIND_MARK[entry.kind] + entry.text)
    if entry.kind != "observation":
        body = f"<b>{body}</b>"
    if entry.is_system:
        body = f"<i>{body}</i>"
    if entry.by:
        # Who entered it (issue 14), quiet beside the words, so two clinicians' entries in
        # one session are told apart at a glance.
        # Bold entries keep the name in regular weight; themes keep their own colour.
        body += f" <span style='font-weight: normal'>— {html.escape(entry.by)}</span>"
    if entry.original is not None:
        reasons = html.escape("; then: ".join(entry.reasons))
        who = html.escape(correctors(entry))
        body += f"<br><s>{html.escape(entry.original)}</s> (corrected{who}; reason: {reasons})"
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


class SessionLogModel(QStandardItemModel):
    """The log's rows, newest first by clinical time, a six-hour session's tens of
    thousands included (issue 10).

    The rows are the C++ model's own (no item objects), so a view laying them out never
    calls into Python per row; the words of a row are made when it is shown (``describe``)
    and kept for the few hundred rows shown lately. Inserting and finding a row is a
    binary search on the rows' instants.

    The view holds the newest rows only (WINDOW_ROWS; scrolled to its end, it is given
    older ones, ``load_older``): rows past the window are kept here, by id and instant,
    and ``reveal`` brings one into the view.
    """

    def __init__(
        self,
        rows: LogRows = ((), ()),
        describe: Callable[[str], LogEntry] | None = None,
    ) -> None:
        super().__init__()
        self.setColumnCount(1)
        self._describe = describe
        self._ids: list[str] = []  # newest first, as text (session/readings.py)
        # Minus each row's instant in microseconds, ascending: machine integers, not an
        # int object each (22,000 rows at six hours, issue 10).
        self._keys = array("q")
        self._hashes = array("q")  # each id's hash(): where to find a row (position_of)
        self._shown: OrderedDict[str, LogEntry] = OrderedDict()
        # How often each entry's words changed, and every row's (restate, reset): a row's
        # height is kept by these, so the view's measuring needs no entry (revision).
        self._revisions: dict[str, int] = {}
        self._generation = 0
        self._window = 0  # the newest rows, those the view holds
        self.reset(rows, describe)

    # --------------------------------------------------------------- Qt's side

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in ROLES:
            return None
        entry = self.entry_at(index.row())
        if role == ENTRY_ROLE:
            return entry
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{entry.clock}  {entry.t_plus}  {KIND_MARK[entry.kind]}{entry.text}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                "Corrected. Reason: " + " / then: ".join(entry.reasons) if entry.reasons else None
            )
        corrected = (
            f", corrected{correctors(entry)} from {entry.original}; reason: "
            f"{'; then: '.join(entry.reasons)}"
            if entry.original
            else ""
        )
        by = f", entered by {entry.by}" if entry.by else ""
        return f"{entry.clock}, {entry.t_plus}, {KIND_MARK[entry.kind]}{entry.text}{by}{corrected}"

    # ----------------------------------------------------------- kapdesk's side

    def reset(
        self,
        rows: LogRows,
        describe: Callable[[str], LogEntry] | None = None,
    ) -> None:
        """Every row at once: the rows' instants (microseconds since the epoch) and their
        entries' ids, as two columns; ``describe`` gives a row's words."""
        if describe is not None:
            self._describe = describe
        # Rows of one instant: the one written last first, as ``put`` places them (an
        # alert above the reading it is about), whether shown live or read back.
        # A stable sort of the rows reversed, by minus their instants: numpy's, as a six-hour
        # session has 22,000 rows (issue 10).
        instants, entry_ids = rows
        keys = -np.asarray(instants, dtype=np.int64)[::-1]
        ids = np.array(list(map(str, entry_ids)), dtype=object)[::-1]  # a str: itself
        order = np.argsort(keys, kind="stable")
        self.beginResetModel()
        keys = keys[order]
        self._keys = array("q", keys.tobytes())
        self._ids = ids[order].tolist()
        self._hashes = array("q", map(hash, self._ids))
        self._shown.clear()
        self._revisions.clear()
        self._generation += 1
        self._window = min(len(order), WINDOW_ROWS)
        self.blockSignals(True)
        self.setRowCount(self._window)
        self.blockSignals(False)
        self.endResetModel()

    def entry_count(self) -> int:
        """Every row of the log, those the view holds and those past its window."""
        return len(self._ids)

    def load_older(self) -> bool:
        """Older rows into the view, which has been scrolled to its end; False if it holds
        them all. Not Qt's fetchMore: the view asks that after each insert, and to answer
        it measures every row it holds."""
        more = min(WINDOW_ROWS, len(self._ids) - self._window)
        if more <= 0:
            return False
        first, self._window = self._window, self._window + more
        self.insertRows(first, more)
        return True

    def reveal(self, row: int) -> None:
        """Make sure the view holds ``row`` (a row found by id, past the window)."""
        if row >= self._window:
            more = min(len(self._ids), row + 1) - self._window
            first, self._window = self._window, self._window + more
            self.insertRows(first, more)

    def trim(self, chosen: int = -1) -> None:
        """Let the view go of the oldest rows it holds past WINDOW_ROWS + WINDOW_SLACK
        (new entries have joined at the top), unless ``chosen`` is among them."""
        if self._window > WINDOW_ROWS + WINDOW_SLACK and chosen < WINDOW_ROWS:
            dropped = self._window - WINDOW_ROWS
            self._window = WINDOW_ROWS
            self.removeRows(WINDOW_ROWS, dropped)

    def entry_at(self, row: int) -> LogEntry:
        entry_id = self._ids[row]
        entry = self._shown.get(entry_id)
        if entry is None:
            assert self._describe is not None, "a row was inserted without its words"
            entry = self._describe(entry_id)
            self._remember(entry)
        else:
            self._shown.move_to_end(entry_id)
        return entry

    def revision(self, row: int) -> tuple[str, tuple[int, int]]:
        """The row's entry id, and a stamp that changes whenever its words may have: what
        a row's height is kept by. Made without the entry: the view asks every row
        between its top and a row far below it (End in a long log), and making each
        entry again cost ~0.5 s an End with 5,000 rows held (issue 10 QA)."""
        entry_id = self._ids[row]
        return entry_id, (self._generation, self._revisions.get(entry_id, 0))

    def row_of(self, entry_id: object) -> int:
        """The row showing the entry with this id (ValueError if none does)."""
        row = position_of(str(entry_id), self._ids, self._hashes)
        if row is None:
            raise ValueError("no such entry in the log")
        return row

    def put(self, entry: LogEntry, *, quietly: bool = False) -> int:
        """Insert a new entry in time order (newest first), or replace a changed one; an
        entry whose time was corrected moves to its new place. ``quietly``: a changed
        row out of view is not announced (the view lays out again instead)."""
        key, entry_key = -to_micros(entry.at), str(entry.id)  # as text, as a reading's
        row = position_of(entry_key, self._ids, self._hashes)
        if row is not None:
            self._revisions[entry_key] = self._revisions.get(entry_key, 0) + 1
            if self._keys[row] == key:
                self._remember(entry)
                if not quietly and row < self._window:
                    self.dataChanged.emit(self.index(row, 0), self.index(row, 0))
                return row
            self._remove(row)
        # Among rows of the same instant, the newest written shows first.
        row = bisect.bisect_left(self._keys, key)
        self._keys.insert(row, key)
        self._ids.insert(row, entry_key)
        self._hashes.insert(row, hash(entry_key))
        self._remember(entry)
        if row < self._window or self._window == len(self._ids) - 1:
            self._window += 1  # among the rows the view holds (or it holds them all)
            self.insertRows(row, 1)
        return row

    def restate(self) -> None:
        """Every row's words changed (the first dose set T0): made again as shown."""
        self._shown.clear()
        self._generation += 1
        if self._window:
            self.dataChanged.emit(self.index(0, 0), self.index(self._window - 1, 0))

    def _remove(self, row: int) -> None:
        entry_id = self._ids.pop(row)
        del self._keys[row]
        del self._hashes[row]
        self._shown.pop(entry_id, None)
        if row < self._window:
            self._window -= 1
            self.removeRows(row, 1)

    def _remember(self, entry: LogEntry) -> None:
        entry_key = str(entry.id)
        self._shown[entry_key] = entry
        self._shown.move_to_end(entry_key)
        while len(self._shown) > SHOWN_KEPT:
            self._shown.popitem(last=False)


class SessionLogView(QTreeView):
    """The log, newest first. Focused (Ctrl+L), it selects the newest entry so the arrows
    and Ctrl+E work at once; Esc clears the selection and hands the keyboard back.

    A tree without branches rather than a list: a list view measures every row on each
    insert (1.2 s an entry at 21,600 rows), a tree only the rows it shows (issue 10).
    """

    typed = Signal(str)  # printable text typed while the log has the keyboard
    read_whole = Signal()  # Enter on a chosen entry: show it whole

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName("Session log, newest first (Ctrl+L)")
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(0)
        self.setItemsExpandable(False)
        self.setUniformRowHeights(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Always there, so the rows keep one width: a scroll bar that came when the log
        # filled re-wrapped every row under the clinician's eyes, and opening a session
        # measured every row twice, with and without it (issue 10).
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setWordWrap(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.header().setStretchLastSection(True)
        self._laid_out: tuple[int, int] = (-1, -1)  # width, an entry's tallest

    def setModel(self, model: Any) -> None:
        # The mode first: a view given a long log while scrolling by pixel measures every
        # row of it (3.9 s to open a six-hour 1 Hz session).
        self._choose_scroll_mode(model=model)
        super().setModel(model)
        self.verticalScrollBar().valueChanged.connect(self._at_end)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._choose_scroll_mode)

    def _choose_scroll_mode(self, *_args: object, model: Any = None) -> None:
        """By pixel while the log is short, so an entry taller than the view (a long
        correction at 1024x600) can be read to its end (issue 10 QA); by entry past
        PIXEL_SCROLL_ROWS, since a pixel-exact scroll bar measures every row on each
        insert and when the session opens (600 rows: 0.9 s to open; a six-hour 1 Hz
        session has 21,600)."""
        model = model if model is not None else self.model()
        rows = model.rowCount() if model is not None else 0
        mode = (
            QAbstractItemView.ScrollMode.ScrollPerPixel
            if rows <= PIXEL_SCROLL_ROWS
            else QAbstractItemView.ScrollMode.ScrollPerItem
        )
        if self.verticalScrollMode() != mode:
            self.setVerticalScrollMode(mode)

    def _at_end(self, value: int) -> None:
        """Scrolled to the end of the rows held (End, Page Down, the wheel): older ones."""
        model = self.model()
        if value == self.verticalScrollBar().maximum() and isinstance(model, SessionLogModel):
            model.load_older()

    def shows_row(self, row: int) -> bool:
        """Whether ``row`` is in view. A change to a row out of view must not be announced
        row by row: the view would measure every row between the top and it (1.5 s for
        an alert acknowledged an hour after it was raised, six hours into a session)."""
        model = self.model()
        if model is None or not model.rowCount():
            return False
        top = self.indexAt(QPoint(1, 1)).row()
        bottom = self.indexAt(QPoint(1, self.viewport().height() - 2)).row()
        return (top == -1 or row >= top) and (bottom == -1 or row <= bottom)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        delegate = self.itemDelegate()
        tallest = delegate.tallest() if isinstance(delegate, EntryDelegate) else 0
        laid_out = (event.size().width(), tallest)
        if laid_out != self._laid_out:
            # Rows wrap anew, or a long entry gets another height; only the shown are
            # measured.
            self._laid_out = laid_out
            self.scheduleDelayedItemsLayout()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        model = self.model()
        if model is not None and model.rowCount() and not self.selectionModel().hasSelection():
            self.setCurrentIndex(model.index(0, 0))
            self.scrollToTop()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            delegate = self.itemDelegate()
            if isinstance(delegate, EntryDelegate):
                delegate.font_changed()
        super().changeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            # Clear the selection, then let Esc mean what it means around the log (back
            # to the observation line; Keep going; after the end, back to the patients):
            # one Esc, not two (issue 9 QA).
            self.clearSelection()
            self.setCurrentIndex(QModelIndex())
            self.scrollToTop()  # the newest entries in view again, not where reading stopped
            event.ignore()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.read_whole.emit()
            return
        if event.key() in BRANCH_KEYS:
            event.ignore()  # a tree's expand and collapse keys mean nothing in the log
            return
        text = event.text()
        plain = not event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
        if plain and text and text.isprintable():
            # Typing with the log focused begins an observation: it was swallowed by the
            # view's jump-to-row search (issue 10 QA).
            self.typed.emit(text)
            return
        super().keyPressEvent(event)


_WIDTHS: dict[str, tuple[int, int]] = {}  # by font key: a few text sizes at most


def _column_widths(font: QFont) -> tuple[int, int]:
    """The clock and T+ columns' widths in ``font``. A module's cache, not a method's: a
    cached method keeps every delegate (and its caches) alive for good (issue 10). Kept
    by the font's key, never the font: a paint's font is Qt's, deleted after the paint,
    and comparing a later font with it crashed the app after a text-size change."""
    key = font.key()
    widths = _WIDTHS.get(key)
    if widths is None:
        metrics = QFontMetrics(font)
        time_width = metrics.horizontalAdvance("00:00") + 2 * PADDING
        t_width = max(metrics.horizontalAdvance(t) for t in ("T+000", "T−000")) + 2 * PADDING
        if len(_WIDTHS) >= 8:
            _WIDTHS.clear()
        widths = _WIDTHS[key] = (time_width, t_width)
    return widths


# Words in the Latin scripts and their punctuation, in the log's own font: measured by
# width alone. Others (Devanagari, CJK, emoji) may come from a fallback font whose lines
# are taller, so they are laid out (issue 10 QA: a Devanagari line came out 4 px short).
_LATIN = re.compile("[\u0000-\u024f\u2000-\u206f\u2190-\u21ff\u2212]*")


def _one_line(font: QFont) -> tuple[int, QFontMetrics]:
    """The height of a one-line entry as the log lays it out in ``font``, and the metrics
    of its widest face (bold italic) to tell whether words fit on one line."""
    doc = QTextDocument()
    doc.setDefaultFont(font)
    doc.setDocumentMargin(PADDING)
    doc.setHtml("<i><b>0</b> <span style='font-weight: normal'>— 0</span></i>")
    doc.setTextWidth(400)
    widest = QFont(font)
    widest.setBold(True)
    widest.setItalic(True)
    return int(doc.size().height()), QFontMetrics(widest)


class EntryDelegate(QStyledItemDelegate):
    """Holds its view: reading ``option.widget`` when it is None under-counts references
    to None in PySide6 6.12 and, after a few hundred calls, crashes the interpreter
    (found by benchmarks/bench_workspace.py)."""

    def __init__(self, view: QTreeView) -> None:
        super().__init__(view)
        self._view = view
        # Row heights and laid-out text by (entry, width, font), for the rows shown
        # lately: each insert repaints the rows in view, and laying out rich text again
        # for each cost ~100 µs a row.
        # Heights by entry id: (the entry's revision as measured, width, font, height). A
        # view scrolling by pixel asks every row on each insert, and one scrolling by row
        # every row between its top and the current row: kept for every row it holds
        # (twice that), never fewer, or a scan through them measured each again.
        self._heights: OrderedDict[object, tuple[object, int, str, int]] = OrderedDict()
        self._font: tuple[str, int, int] | None = None  # the view font's key and columns
        self._one_line: tuple[int, QFontMetrics] | None = None  # see _one_line_height
        self._tallest = (-1, 0)  # the log's height, and tallest() at it
        self._documents: OrderedDict[tuple[LogEntry, int, str], QTextDocument] = OrderedDict()
        # Each row as drawn, by (entry, width, height, font, colour).
        self._drawn: OrderedDict[tuple[LogEntry, int, int, str, int], QPixmap] = OrderedDict()

    def _document(self, option: QStyleOptionViewItem, entry: LogEntry, width: int) -> QTextDocument:
        key = (entry, width, option.font.key())
        doc = self._documents.get(key)
        if doc is not None:
            self._documents.move_to_end(key)
            return doc
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(PADDING)
        doc.setHtml(entry_html(entry))
        doc.setTextWidth(max(80, width))
        self._documents[key] = doc
        if len(self._documents) > DOCUMENTS_KEPT:
            self._documents.popitem(last=False)
        return doc

    def paint(self, painter: Any, option: QStyleOptionViewItem, index: Index) -> None:
        # The row's background as the style draws it (selection, focus), from the view's
        # option: the entry's own styling (initStyleOption, eight data() calls) is needed
        # only to draw a row not drawn before.
        model = index.model()
        entry: LogEntry = (
            model.entry_at(index.row())
            if isinstance(model, SessionLogModel)
            else index.data(ENTRY_ROLE)
        )
        self._view.style().drawControl(
            QStyle.ControlElement.CE_ItemViewItem, option, painter, self._view
        )
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        colour = option.palette.color(role)
        rect = option.rect
        font_key = (self._font or self._measure_font())[0]
        key = (entry, rect.width(), rect.height(), font_key, colour.rgba())
        drawn = self._drawn.get(key)
        if drawn is None:
            self.initStyleOption(option, index)
            drawn = self._draw_row(painter, option, entry, colour)
            self._drawn[key] = drawn
            if len(self._drawn) > DRAWN_KEPT:
                self._drawn.popitem(last=False)
        else:
            self._drawn.move_to_end(key)
        painter.drawPixmap(rect.left(), rect.top(), drawn)

    def _draw_row(
        self, painter: Any, option: QStyleOptionViewItem, entry: LogEntry, colour: QColor
    ) -> QPixmap:
        """A row's clock, T+ and words drawn once into a pixmap over the row's background:
        each insert repaints every row in view, and laying out rich text and two columns
        on each paint cost ~0.4 ms a row, 8 ms a repaint (issue 10); the rows already
        drawn are copied instead."""
        rect = option.rect
        ratio = painter.device().devicePixelRatioF() or 1.0
        drawn = QPixmap(
            QSize(max(1, round(rect.width() * ratio)), max(1, round(rect.height() * ratio)))
        )
        drawn.setDevicePixelRatio(ratio)
        drawn.fill(Qt.GlobalColor.transparent)
        onto = QPainter(drawn)
        onto.setRenderHints(painter.renderHints())
        onto.setPen(colour)
        onto.setFont(option.font)
        time_width, t_width = _column_widths(option.font)
        metrics = QFontMetrics(option.font)
        for left, width, text in (
            (0, time_width, entry.clock),
            (time_width, t_width, entry.t_plus),
        ):
            room = width - 2 * PADDING
            if metrics.horizontalAdvance(text) > room:  # rare: "pre-dose"
                onto.setFont(fitted_font(option.font, text, room))
            onto.drawText(
                QRect(left + PADDING, PADDING, room, metrics.height()),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                text,
            )
            onto.setFont(option.font)
        text_left = time_width + t_width
        doc = self._document(option, entry, rect.width() - text_left)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, colour)
        onto.translate(text_left, 0)
        cut = doc.size().height() > rect.height() + 1  # taller than the log gives it
        if cut:
            # Its lines but the last, which says how to read the rest.
            spacing = metrics.lineSpacing()
            kept = rect.height() - PADDING - spacing
            context.clip = QRectF(0, 0, rect.width() - text_left, kept)
            onto.setClipRect(QRectF(0, 0, rect.width() - text_left, kept))
        doc.documentLayout().draw(onto, context)
        if cut:
            onto.setClipping(False)
            note = QFont(option.font)
            note.setItalic(True)
            onto.setFont(note)
            room = rect.width() - text_left - 2 * PADDING
            onto.drawText(
                QRect(PADDING, kept, room, spacing),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                # Who wrote it stays in view: it ends the words cut off (Xvfb QA).
                QFontMetrics(note).elidedText(
                    CUT_NOTE + (f" — {entry.by}" if entry.by else ""),
                    Qt.TextElideMode.ElideRight,
                    room,
                ),
            )
        onto.end()
        return drawn

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        # Found before any styling work (initStyleOption, font metrics, ~100 µs a row) and
        # without Qt's data() and a font's key (~20 µs): while the log scrolls by pixel,
        # each insert asks every row (issue 10).
        model = index.model()
        font_key, time_width, t_width = self._font or self._measure_font()
        width = self._view.viewport().width() - time_width - t_width
        tallest = self.tallest()
        font_key = f"{font_key}/{tallest}"  # a height kept is one measured under this cap
        revision: object
        if isinstance(model, SessionLogModel):
            key, revision = model.revision(index.row())
            known = self._heights.get(key)
            if known is not None and known[:3] == (revision, width, font_key):
                self._heights.move_to_end(key)
                return QSize(width + time_width + t_width, known[3])
            entry = model.entry_at(index.row())
            held = model.rowCount()
        else:
            entry = index.data(ENTRY_ROLE)
            key, revision, held = entry.id, entry, 0
            known = self._heights.get(key)
            if known is not None and known[:3] == (revision, width, font_key):
                return QSize(width + time_width + t_width, known[3])
        height = self._one_line_height(entry, width)
        if height is None:
            self.initStyleOption(option, index)
            height = min(int(self._document(option, entry, width).size().height()), tallest)
        self._heights[key] = (revision, width, font_key, height)
        self._heights.move_to_end(key)
        while len(self._heights) > max(HEIGHTS_KEPT, 2 * held):
            self._heights.popitem(last=False)
        return QSize(width + time_width + t_width, height)

    def tallest(self) -> int:
        """The most height an entry is drawn at: MOST_OF_VIEW of the log's, in whole
        lines, two at least (_draw_row says the rest is read with Enter)."""
        view_height = self._view.viewport().height()
        if self._tallest[0] != view_height:  # asked by every row measured: kept
            if self._one_line is None:
                self._one_line = _one_line(self._view.font())
            line_height = self._one_line[0]
            spacing = QFontMetrics(self._view.font()).lineSpacing()
            lines = max(2, int(view_height * MOST_OF_VIEW) // spacing)
            self._tallest = (view_height, line_height + (lines - 1) * spacing)
        return self._tallest[1]

    def _one_line_height(self, entry: LogEntry, width: int) -> int | None:
        """The height of an entry whose words fit on one line with room to spare, found
        without laying its text out (~300 µs an entry): every row of a log that scrolls by
        pixel is measured when the session opens. None for any other entry."""
        if entry.original is not None:
            return None  # the original, struck out, is a second line
        words = KIND_MARK[entry.kind] + entry.text + (f" — {entry.by}" if entry.by else "")
        if not _LATIN.fullmatch(words):
            return None  # another script may be drawn in a taller fallback font
        if self._one_line is None:
            self._one_line = _one_line(self._view.font())
        line_height, metrics = self._one_line
        room = max(80, width) - 2 * PADDING - 2 * metrics.averageCharWidth()
        return line_height if metrics.horizontalAdvance(words) <= room else None

    def _measure_font(self) -> tuple[str, int, int]:
        font = self._view.font()
        self._font = (font.key(), *_column_widths(font))
        return self._font

    def font_changed(self) -> None:
        """The view's font changed (a theme or text size): heights are measured again."""
        self._font = None
        self._one_line = None
        self._tallest = (-1, 0)
