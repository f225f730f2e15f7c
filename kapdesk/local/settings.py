"""Every setting declared once: key, default, label, and the constraint it must meet.

Stored in settings.json in the data folder; no patient data. The settings dialog is
generated from these declarations (kapdesk/ui/settings_dialog.py), so what it offers
and what the file may hold cannot drift apart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kapdesk.clinical.alerts import AlertThresholds, threshold_problems
from kapdesk.clinical.entries import zone_name_problem
from kapdesk.clinical.vitals import ValidationError
from kapdesk.store.fileio import write_file_atomically

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"

DEFAULT_QUICK_TAGS = (
    "calm",
    "anxious",
    "tearful",
    "laughing",
    "talking",
    "eyes closed",
    "asleep",
    "nausea",
    "vomiting",
    "dissociated",
    "agitated",
)
MAX_QUICK_TAGS = 11  # one function key each, F2 to F12


# ----------------------------------------------------------------- constraints


@dataclass(frozen=True)
class Choice:
    options: tuple[str, ...]

    def check(self, value: Any) -> str | None:
        return None if value in self.options else f"must be one of {', '.join(self.options)}"


@dataclass(frozen=True)
class Number:
    low: float
    high: float
    step: float

    def check(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        return None if self.low <= value <= self.high else f"must be {self.low} to {self.high}"


@dataclass(frozen=True)
class Flag:
    def check(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else "must be true or false"


@dataclass(frozen=True)
class Words:
    """A list of short labels (quick tags)."""

    most: int
    longest: int = 24

    def check(self, value: Any) -> str | None:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            return "must be a list of words"
        if len(value) > self.most:
            return f"may hold at most {self.most}"
        if any(len(v) > self.longest for v in value):
            return f"each may be at most {self.longest} characters"
        return None


@dataclass(frozen=True)
class ZoneName:
    """An IANA time zone name, or empty for this computer's."""

    def check(self, value: Any) -> str | None:
        if value == "":
            return None
        if not isinstance(value, str):
            return "must be a time zone name such as Europe/London"
        return zone_name_problem(value)


@dataclass(frozen=True)
class ProtocolName:
    """The name of a protocol file's protocol, or empty for none; whether it is loaded is
    checked where the protocols are (a clinic's file may come and go)."""

    longest: int = 120

    def check(self, value: Any) -> str | None:
        if not isinstance(value, str) or len(value) > self.longest:
            return f"must be a protocol's name of at most {self.longest} characters"
        return None


@dataclass(frozen=True)
class Thresholds:
    """Alert thresholds that differ from CLINICAL.md's defaults, within clinical bounds."""

    def check(self, value: Any) -> str | None:
        if not isinstance(value, dict):
            return "must be a table of thresholds"
        problems = threshold_problems(value)
        return " ".join(problems) if problems else None


Constraint = Choice | Number | Flag | Words | ZoneName | ProtocolName | Thresholds


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    label: str
    constraint: Constraint

    def problem(self, value: Any) -> str | None:
        found = self.constraint.check(value)
        return None if found is None else f"{self.label}: {found.rstrip('.')}."


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("theme", "dark", "Theme (dark for a dimmed room)", Choice(("dark", "light"))),
        Setting("font_scale", 1.0, "Text size (1.0 = normal)", Number(0.7, 2.0, 0.05)),
        Setting(
            "quick_tags",
            list(DEFAULT_QUICK_TAGS),
            "Quick observation tags (F2 to F12)",
            Words(MAX_QUICK_TAGS),
        ),
        Setting(
            "default_protocol",
            "",
            "Protocol for a patient's first session (later: their last one)",
            ProtocolName(),
        ),
        Setting("clinic_zone", "", "Clinic time zone (empty: this computer's)", ZoneName()),
        Setting("show_map", False, "Show mean arterial pressure on the chart", Flag()),
        Setting(
            "sound_when_due",
            False,
            "Play the system alert sound once when a check falls due (off: silent)",
            Flag(),
        ),
        Setting(
            "lock_after_minutes",
            5,
            "Lock after this many idle minutes (Ctrl+Alt+L locks at once)",
            Number(1, 60, 1),
        ),
        Setting("alert_thresholds", {}, "Alert thresholds", Thresholds()),
    )
}


class Settings:
    def __init__(self, folder: Path) -> None:
        self.path = folder / SETTINGS_FILE
        self._values: dict[str, Any] = {}
        # A sentence for the window when the file could not be used in full: a clinic's
        # stricter thresholds not in force is something the clinician must see.
        self.problem: str | None = None
        # A file kapdesk could not read is never written over: one keypress (Ctrl+= for
        # the text size) replaced a clinic's file, thresholds and all, with one setting
        # (tamper QA). Changes then hold until kapdesk closes.
        self._unreadable = False
        # Entries not used (unknown, or invalid), kept as they are when the file is written.
        self._kept: dict[str, Any] = {}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            loaded = {}
        except (OSError, ValueError, RecursionError):
            # RecursionError: JSON nested past Python's depth (tamper QA: 100,000 levels
            # closed the app after the PIN with "an unexpected error").
            log.warning("settings file unreadable; using defaults (file left as it is)")
            loaded = None
        if not isinstance(loaded, dict):
            # Not JSON, or JSON that is not one object of settings (a list was ignored
            # without a word, its thresholds not in force: tamper QA).
            self._unreadable = True
            self.problem = (
                f"{SETTINGS_FILE} could not be read as settings, so every setting is at its "
                "default (including alert thresholds). Fix or remove the file; it is left as "
                "it is, and settings changed in kapdesk hold only until it closes."
            )
            loaded = {}
        ignored = []
        for key, value in loaded.items():
            setting = SETTINGS.get(key)
            if setting is not None and setting.problem(value) is None:
                self._values[key] = value
            else:
                ignored.append(key)
                self._kept[key] = value
        if ignored and self.problem is None:
            self.problem = (
                f"{SETTINGS_FILE}: these entries are unknown or invalid and the defaults are "
                f"used instead: {', '.join(sorted(ignored))}. They stay in the file as they "
                "are until it is fixed."
            )

    def get(self, key: str) -> Any:
        return self._values.get(key, SETTINGS[key].default)

    def snapshot(self) -> str:
        """Every value set, as one text: the same while no setting has changed."""
        return json.dumps(self._values, sort_keys=True)

    def set(self, key: str, value: Any) -> None:
        self.update({key: value})

    def update(self, values: dict[str, Any]) -> None:
        """Check every value first; store all of them, or none with the reasons."""
        problems = [(k, p) for k, v in values.items() if (p := SETTINGS[k].problem(v)) is not None]
        if problems:
            # A ValidationError, which a form says in place: a time zone that is not one
            # ended in "kapdesk met an unexpected error" from the settings form (QA).
            raise ValidationError(problems[0][0], " ".join(p for _k, p in problems))
        self._values.update(values)
        for key in values:
            self._kept.pop(key, None)  # set now in kapdesk: the file's own entry goes
        if self._unreadable:
            return  # never written over; self.problem still says so
        if not self._kept:
            self.problem = None
        written = {**self._kept, **self._values}
        write_file_atomically(self.path, json.dumps(written, indent=2).encode("utf-8"))


def local_zone_name() -> str:
    """This computer's IANA zone name, or UTC where it cannot be told."""
    try:
        import tzlocal

        name = str(tzlocal.get_localzone_name() or "UTC")
    except Exception:  # noqa: BLE001 - any failure means "cannot tell"
        return "UTC"
    # A name only this computer's zone files know would be refused to a new session.
    return name if zone_name_problem(name) is None else "UTC"


def alert_thresholds(settings: Settings) -> AlertThresholds:
    """CLINICAL.md's defaults with the clinic's overrides applied."""
    return AlertThresholds(**settings.get("alert_thresholds"))


def quick_tags(settings: Settings) -> Sequence[str]:
    return tuple(settings.get("quick_tags"))
