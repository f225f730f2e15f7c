"""Monitoring protocols, read from TOML files (shipped in kapdesk/resources/, and a clinic's own).

A file that cannot be read is reported by name and line and skipped; the app
still starts with every protocol that did load.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from typing import Any

from kapdesk.clinical.vitals import VITAL_ITEMS

VITALS = VITAL_ITEMS
SCALES = ("moaas", "rass", "rems")
ANCHORS = ("first_dose", "infusion_start", "infusion_stop")


@dataclass(frozen=True)
class CheckRule:
    label: str
    vitals: tuple[str, ...]
    scales: tuple[str, ...]
    pre_dose: bool = False
    anchor: str = "first_dose"
    at_minutes: float | None = None
    from_minutes: float | None = None
    every_minutes: float | None = None
    until_minutes: float | None = None
    until_event: str | None = None


@dataclass(frozen=True)
class DischargeRules:
    minimum_minutes: float | None = None
    minimum_minutes_after_infusion_stop: float | None = None
    sedation_resolved: bool = True
    dissociation_resolved: bool = True
    bp_margin_over_baseline: float = 20
    checklist: tuple[str, ...] = ()


@dataclass(frozen=True)
class Protocol:
    name: str
    route: str
    checks: tuple[CheckRule, ...]
    discharge: DischargeRules
    source: str = ""


@dataclass
class LoadResult:
    protocols: dict[str, Protocol] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class ProtocolError(ValueError):
    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def load_protocols(folders: Iterable[Traversable]) -> LoadResult:
    """Every *.toml in the folders, in order; a later file of the same name replaces one.

    Folders are paths or package resources (``importlib.resources``); a missing one is
    skipped.
    """
    result = LoadResult()
    for folder in folders:
        if not folder.is_dir():
            continue
        files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=_name)
        for path in files:
            try:
                text = path.read_text(encoding="utf-8")
                protocol = parse_protocol(text, path.name)
            except (OSError, UnicodeDecodeError) as exc:
                result.problems.append(f"{path.name}: cannot be read ({exc}); skipped.")
                continue
            except tomllib.TOMLDecodeError as exc:
                result.problems.append(f"{path.name}, {_toml_position(exc)}; skipped.")
                continue
            except RecursionError:  # arrays or tables nested thousands deep (tamper QA)
                result.problems.append(f"{path.name}: nested too deeply to read; skipped.")
                continue
            except ProtocolError as exc:
                line = _line_of(text, exc.key)
                where = f"{path.name}, line {line}" if line else path.name
                result.problems.append(f"{where}: {exc}; skipped.")
                continue
            result.protocols[protocol.name] = protocol
    return result


def _name(item: Traversable) -> str:
    return item.name


MOST_MINUTES = 24 * 60  # a protocol's times: within a day of their anchor
LEAST_EVERY_MINUTES = 1  # a repeating check: once a minute at the most often


def parse_protocol(text: str, source: str = "") -> Protocol:
    data = tomllib.loads(text)
    name = _required_text(data, "name")
    route = _required_text(data, "route")
    raw_checks = data.get("checks", [])
    if not isinstance(raw_checks, list) or not raw_checks:
        raise ProtocolError("needs at least one [[checks]] table", "checks")
    checks = tuple(_check(raw) for raw in raw_checks)
    discharge = _discharge(data.get("discharge", {}))
    return Protocol(name=name, route=route, checks=checks, discharge=discharge, source=source)


def _check(raw: Any) -> CheckRule:
    if not isinstance(raw, dict):
        raise ProtocolError("each [[checks]] entry must be a table", "checks")
    label = _required_text(raw, "label")
    vitals = _choices(raw, "vitals", VITALS)
    scales = _choices(raw, "scales", SCALES)
    if not vitals and not scales:
        raise ProtocolError(f"check “{label}” names no vitals and no scales", "label")
    anchor = raw.get("anchor", "first_dose")
    if anchor not in ANCHORS:
        raise ProtocolError(f"anchor must be one of {', '.join(ANCHORS)}", "anchor")
    pre_dose = raw.get("at") == "pre-dose"
    if "at" in raw and not pre_dose:
        raise ProtocolError('at may only be "pre-dose"; use at_minutes for a time', "at")
    at = _minutes(raw, "at_minutes")
    start, every = _minutes(raw, "from_minutes"), _minutes(raw, "every_minutes")
    kinds = [pre_dose, at is not None, every is not None]
    if sum(kinds) != 1:
        raise ProtocolError(
            f'check “{label}” needs exactly one of at = "pre-dose", at_minutes, or '
            "from_minutes with every_minutes",
            "label",
        )
    if every is not None and (start is None or every < LEAST_EVERY_MINUTES):
        # A check every 0.00001 minutes froze the app, its memory growing by gigabytes (QA).
        raise ProtocolError(
            f"every_minutes needs from_minutes and must be {LEAST_EVERY_MINUTES} or more",
            "every_minutes",
        )
    until_event = raw.get("until")
    if until_event is not None and until_event not in ANCHORS:
        raise ProtocolError(f"until must be one of {', '.join(ANCHORS)}", "until")
    return CheckRule(
        label=label,
        vitals=vitals,
        scales=scales,
        pre_dose=pre_dose,
        anchor=anchor,
        at_minutes=at,
        from_minutes=start,
        every_minutes=every,
        until_minutes=_minutes(raw, "until_minutes"),
        until_event=until_event,
    )


def _discharge(raw: Any) -> DischargeRules:
    if not isinstance(raw, dict):
        raise ProtocolError("[discharge] must be a table", "discharge")
    checklist = raw.get("checklist", [])
    if not isinstance(checklist, list) or not all(isinstance(i, str) for i in checklist):
        raise ProtocolError("discharge checklist must be a list of sentences", "checklist")
    for key in ("sedation_resolved", "dissociation_resolved"):
        if not isinstance(raw.get(key, True), bool):
            raise ProtocolError(f"{key} must be true or false", key)
    return DischargeRules(
        minimum_minutes=_minutes(raw, "minimum_minutes"),
        minimum_minutes_after_infusion_stop=_minutes(raw, "minimum_minutes_after_infusion_stop"),
        sedation_resolved=raw.get("sedation_resolved", True),
        dissociation_resolved=raw.get("dissociation_resolved", True),
        bp_margin_over_baseline=_bp_margin(raw),
        checklist=tuple(checklist),
    )


# The most a discharge BP may stand over the pre-dose baseline and count as settled: a
# notable rise is +40 systolic (CLINICAL.md, "Blood pressure"), so more than that would
# pass a reading the alerts call a rise. Tamper QA: 200 was taken (and its error said
# "minutes"), which switched the criterion off; 0 was taken as the default 20.
MOST_BP_MARGIN = 40
DEFAULT_BP_MARGIN = 20


def _bp_margin(raw: dict[str, Any]) -> float:
    key = "bp_margin_over_baseline"
    value = raw.get(key, DEFAULT_BP_MARGIN)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= MOST_BP_MARGIN
    ):
        raise ProtocolError(f"{key} must be a number of mmHg from 0 to {MOST_BP_MARGIN}", key)
    return float(value)


def _required_text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError(f"{key} is missing or empty", key)
    return value.strip()


def _choices(raw: dict[str, Any], key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    values = raw.get(key, [])
    if not isinstance(values, list) or any(v not in allowed for v in values):
        raise ProtocolError(f"{key} may list only: {', '.join(allowed)}", key)
    return tuple(values)


def _minutes(raw: dict[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    # A day at most, and a number (TOML allows nan and inf): "from_minutes = nan" broke
    # every session of the protocol with an unexpected error three times a second (QA).
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= MOST_MINUTES
    ):
        raise ProtocolError(
            f"{key} must be a number of minutes from 0 to {MOST_MINUTES} (a day)", key
        )
    return float(value)


def _toml_position(exc: tomllib.TOMLDecodeError) -> str:
    # Python 3.14 adds lineno; earlier versions put "(at line N, column M)" in the message.
    match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
    if match:
        return f"line {match.group(1)}: not valid TOML ({message})"
    return f"not valid TOML ({message})"


def _line_of(text: str, key: str | None) -> int | None:
    if key is None:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*(\[+)?\s*{re.escape(key)}\b", line):
            return number
    return None
