"""What a session tells its listeners: plain-Python events, no Qt.

The session service emits; the views (log, chart, banner, header, sedation
strip) subscribe once when they are built, so no window calls "refresh" after
an action. Modelled on napari's ``dims.events.*``, which its Qt widgets connect
to (``_qt/widgets/qt_dims.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from kapdesk.session.alerting import StoredAlert
from kapdesk.session.discharge import SessionSummary
from kapdesk.session.wording import LogEntry

T = TypeVar("T")


class Event(Generic[T]):
    """One kind of news: callbacks connected to it are called, in order, with its value."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[[T], object]] = []

    def connect(self, callback: Callable[[T], object]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[T], object]) -> None:
        self._callbacks.remove(callback)

    def disconnect_all(self) -> None:
        self._callbacks.clear()

    def emit(self, value: T) -> None:
        for callback in list(self._callbacks):
            callback(value)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._callbacks)} listeners)"


class SessionEvents:
    """The events of one session. Each carries what its listeners need to update."""

    def __init__(self) -> None:
        # A new entry in the log (an observation, reading, dose, score, or kapdesk's
        # own event line), as a LogEntry.
        self.entry_added: Event[LogEntry] = Event("entry_added")
        # An entry's text changed (a correction, an infusion stopped), as a LogEntry.
        self.entry_changed: Event[LogEntry] = Event("entry_changed")
        # Every line's words changed (the first dose set T0 for the T+ column).
        self.log_restated: Event[None] = Event("log_restated")
        # The readings, doses or scores the chart and the sedation strip draw changed.
        self.chart_changed: Event[None] = Event("chart_changed")
        # The open (unacknowledged, not withdrawn) alerts, most urgent first.
        self.alerts_changed: Event[list[StoredAlert]] = Event("alerts_changed")
        # The first dose, the infusion or the end: what the header shows.
        self.session_changed: Event[None] = Event("session_changed")
        # The session ended; carries its SessionSummary.
        self.ended: Event[SessionSummary] = Event("ended")

    def all(self) -> list[Event[Any]]:
        return [value for value in vars(self).values() if isinstance(value, Event)]

    def disconnect_all(self) -> None:
        for event in self.all():
            event.disconnect_all()
