"""Widget tests fail on any top-level window or running timer they leave behind."""

from tests.qt_hygiene import no_dangling_timers, no_leaked_windows

__all__ = ["no_dangling_timers", "no_leaked_windows"]
