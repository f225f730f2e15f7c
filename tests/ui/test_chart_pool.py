"""What the main window makes ahead of a session screen (ui/chart_pool.py, issue 10): used
once, only for the settings it was made with."""

from __future__ import annotations

from kapdesk.clinical.alerts import AlertThresholds
from kapdesk.ui.chart_pool import ChartPool
from kapdesk.widgets.bp_chart import DIM

TAGS = ["calm", "anxious"]


def test_entry_lines_made_ahead_are_given_once_and_only_for_their_quick_tags(qtbot):
    pool = ChartPool()
    pool.fill(DIM, AlertThresholds())
    pool.fill_entries(TAGS)
    entries = pool.take_entries(TAGS)
    assert entries is not None
    observation, vitals = entries
    assert list(observation.tag_buttons) == TAGS
    assert pool.take_entries(TAGS) is None  # used once
    pool.fill_entries(TAGS)
    made = pool._entries
    # The charts made again (a session screen took them) leave the entry lines be.
    assert pool.take(DIM, AlertThresholds()) is not None
    pool.fill(DIM, AlertThresholds())
    assert pool._entries is made
    # Other quick tags (a setting changed): none, and the old lines go.
    assert pool.take_entries(["nausea"]) is None
    assert pool._entries is None
    pool.clear()
    for widget in (observation, vitals):
        widget.deleteLater()
