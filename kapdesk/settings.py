"""Every setting declared once: key, type, default, label. Stored in settings.json, no PHI."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kapdesk.clinical.alerts import AlertThresholds
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


@dataclass(frozen=True)
class Setting:
    key: str
    kind: type
    default: Any
    label: str


SETTINGS = {
    s.key: s
    for s in (
        Setting("theme", str, "dark", "Theme (dark for a dimmed room, or light)"),
        Setting("font_scale", float, 1.0, "Text size (1.0 = normal)"),
        Setting("quick_tags", list, list(DEFAULT_QUICK_TAGS), "Quick observation tags"),
        Setting("clinic_zone", str, "", "Clinic time zone (empty: this computer's)"),
        Setting("show_map", bool, False, "Show mean arterial pressure on the chart"),
        Setting(
            "sound_when_due",
            bool,
            False,
            "Play the system alert sound once when a check falls due (off: silent)",
        ),
        Setting(
            "alert_thresholds",
            dict,
            {},
            "Alert thresholds that differ from CLINICAL.md's defaults, e.g. "
            '{"caution_systolic": 150}',
        ),
    )
}
THEMES = ("dark", "light")


class Settings:
    def __init__(self, folder: Path) -> None:
        self.path = folder / SETTINGS_FILE
        self._values: dict[str, Any] = {}
        # A sentence for the window when the file could not be used in full: a clinic's
        # stricter thresholds not in force is something the clinician must see.
        self.problem: str | None = None
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            loaded = {}
        except (OSError, ValueError):
            log.warning("settings file unreadable; using defaults (file left as it is)")
            self.problem = (
                f"{SETTINGS_FILE} could not be read, so every setting is at its default "
                "(including alert thresholds). Fix or remove the file; it was left as it is."
            )
            loaded = {}
        if not isinstance(loaded, dict):
            loaded = {}
        ignored = []
        for key, value in loaded.items():
            setting = SETTINGS.get(key)
            if setting is not None and _fits(setting, value):
                self._values[key] = value
            else:
                ignored.append(key)
        if ignored and self.problem is None:
            self.problem = (
                f"{SETTINGS_FILE}: these entries are unknown or invalid and the defaults are "
                f"used instead: {', '.join(sorted(ignored))}."
            )

    def get(self, key: str) -> Any:
        return self._values.get(key, SETTINGS[key].default)

    def set(self, key: str, value: Any) -> None:
        setting = SETTINGS[key]
        if not _fits(setting, value):
            raise ValueError(f"{setting.label} must be a {setting.kind.__name__}")
        self._values[key] = value
        write_file_atomically(self.path, json.dumps(self._values, indent=2).encode("utf-8"))


def _fits(setting: Setting, value: Any) -> bool:
    if setting.kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool) and 0.5 <= value <= 3
    if setting.key == "theme":
        return value in THEMES
    if setting.key == "alert_thresholds":
        names = {f.name for f in fields(AlertThresholds)}
        return isinstance(value, dict) and all(
            key in names and isinstance(v, int) and not isinstance(v, bool) and 0 < v < 400
            for key, v in value.items()
        )
    if setting.kind is list:
        return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
    return isinstance(value, setting.kind)


def local_zone_name() -> str:
    """This computer's IANA zone name, or UTC where it cannot be told."""
    try:
        import tzlocal

        return str(tzlocal.get_localzone_name() or "UTC")
    except Exception:  # noqa: BLE001 - any failure means "cannot tell"
        return "UTC"


def alert_thresholds(settings: Settings) -> AlertThresholds:
    """CLINICAL.md's defaults with the clinic's overrides applied."""
    return AlertThresholds(**settings.get("alert_thresholds"))
