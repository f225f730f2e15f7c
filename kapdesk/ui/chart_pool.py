"""A fresh BP chart and sedation strip, and the two entry lines, made ahead of need
(issue 10).

Making pyqtgraph's two plots is about half of what opening a session screen costs
(~140 ms of ~300 here). The main window makes the next pair while the clinician reads
the patients page, and a session screen takes it when it opens; a pair is used once,
never handed on with another session's data.
"""

from __future__ import annotations

from collections.abc import Sequence

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.widgets.bp_chart import BPChart, free_menus
from kapdesk.widgets.chart_colours import ChartColours
from kapdesk.widgets.observation_entry import ObservationEntry
from kapdesk.widgets.scale_strip import ScaleStrip
from kapdesk.widgets.vitals_entry import VitalsEntry

Key = tuple[ChartColours, AlertThresholds]
# A session's doses drawn on lines made ahead: two esketamine devices, or an IV bolus and
# its infusion (~5 ms each when a session screen opens, issue 10).
DOSE_LINES_AHEAD = 3


class ChartPool:
    def __init__(self) -> None:
        self._spare: tuple[Key, BPChart, ScaleStrip] | None = None
        # The two entry lines, by their quick tags (~17 ms of an opening, issue 10).
        self._entries: tuple[tuple[str, ...], ObservationEntry, VitalsEntry] | None = None

    def fill_entries(self, quick_tags: Sequence[str]) -> None:
        """Make the spare entry lines now, unless ones with these quick tags wait."""
        if self._entries is not None and self._entries[0] == tuple(quick_tags):
            return
        self.clear_entries()
        observation = ObservationEntry(quick_tags, tags_below=False)
        self._entries = (tuple(quick_tags), observation, VitalsEntry())

    def take_entries(
        self, quick_tags: Sequence[str]
    ) -> tuple[ObservationEntry, VitalsEntry] | None:
        """The spare entry lines if made with these quick tags; else None (and they go)."""
        if self._entries is None or self._entries[0] != tuple(quick_tags):
            self.clear_entries()
            return None
        _tags, observation, vitals = self._entries
        self._entries = None
        return observation, vitals

    def clear_entries(self) -> None:
        spare, self._entries = self._entries, None
        if spare is not None:
            for widget in spare[1:]:
                widget.deleteLater()

    def fill(self, colours: ChartColours, thresholds: AlertThresholds) -> None:
        """Make the spare pair now, unless one for these colours and thresholds waits."""
        if self._spare is not None and self._spare[0] == (colours, thresholds):
            return
        self._clear_charts()  # the entry lines made ahead stay: they do not depend on these
        chart = BPChart(colours, thresholds=thresholds)
        chart.make_dose_lines(DOSE_LINES_AHEAD)
        self._spare = ((colours, thresholds), chart, ScaleStrip(chart, colours))

    def take(
        self, colours: ChartColours, thresholds: AlertThresholds
    ) -> tuple[BPChart, ScaleStrip] | None:
        """The spare pair if it was made for these colours and thresholds (a theme or a
        threshold changed since: none, and the old pair goes)."""
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        if spare[0] != (colours, thresholds):
            _discard(spare[1], spare[2])
            return None
        return spare[1], spare[2]

    def clear(self) -> None:
        self._clear_charts()
        self.clear_entries()

    def _clear_charts(self) -> None:
        spare, self._spare = self._spare, None
        if spare is not None:
            _discard(spare[1], spare[2])


def _discard(chart: BPChart, strip: ScaleStrip) -> None:
    for plot in (chart, strip):
        free_menus(plot)
        plot.deleteLater()
