"""A session's stored entries as typed values: a reading carries a VitalsReading, a dose its
route, with the original kept beside a corrected entry. Built once from the store's views."""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from kapdesk.clinical.entries import Route
from kapdesk.clinical.scales import REMS_CHECK_ID, REMS_QUESTIONS, SCALES
from kapdesk.clinical.vitals import VITAL_RANGES, ValidationError, VitalsReading
from kapdesk.store.views import CORRECTABLE, EntryView
from kapdesk.store.views import ENTERED_IN_ERROR as ENTERED_IN_ERROR  # for the UI


@dataclass(frozen=True, slots=True)
class Vitals:
    reading: VitalsReading
    source: str


@dataclass(frozen=True, slots=True)
class Dose:
    drug: str
    route: Route
    mg: float
    lot_number: str | None
    device_count: int | None
    entered_in_error: bool = False  # never given: see store/views.py, ENTERED_IN_ERROR


@dataclass(frozen=True, slots=True)
class Observation:
    text: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Score:
    scale_id: str
    answers: tuple[int, ...]
    total: int


Content = Vitals | Dose | Observation | Score


@dataclass(frozen=True, slots=True)
class Stored:
    """One entry of the session as it stands, with what it first said if corrected."""

    kind: str  # "vitals", "dose", "observation", "scale_score"
    id: uuid.UUID
    at: dt.datetime  # its clinical time (taken, given, observed, scored)
    content: Content
    original: Content | None  # before the corrections, if any
    original_at: dt.datetime | None
    reasons: tuple[str, ...]  # of the corrections, in order
    recorded_by: uuid.UUID
    corrected_by: tuple[uuid.UUID, ...] = ()  # who made each correction, in order


@dataclass(frozen=True, slots=True)
class StoredVitals(Stored):
    content: Vitals

    @property
    def reading(self) -> VitalsReading:
        return self.content.reading


@dataclass(frozen=True, slots=True)
class StoredDose(Stored):
    content: Dose


@dataclass(frozen=True, slots=True)
class StoredObservation(Stored):
    content: Observation


@dataclass(frozen=True, slots=True)
class StoredScore(Stored):
    content: Score


TIME_FIELD = {
    "observation": "observed_at",
    "vitals": "taken_at",
    "dose": "given_at",
    "scale_score": "scored_at",
}


def _vitals(values: Mapping[str, Any]) -> Vitals:
    reading = VitalsReading(**{name: values[name] for name in VITAL_RANGES})
    return Vitals(reading, str(values["source"]))


def _dose(values: Mapping[str, Any]) -> Dose:
    return Dose(
        drug=values["drug"],
        route=Route(values["route"]),
        mg=float(values["mg"]),
        lot_number=values["lot_number"],
        device_count=values["device_count"],
        entered_in_error=bool(values.get(ENTERED_IN_ERROR, False)),
    )


def _observation(values: Mapping[str, Any]) -> Observation:
    return Observation(values["text"], tuple(values["tags"]))


def _score(values: Mapping[str, Any]) -> Score:
    answers = tuple(int(a) for a in values["answers"])
    return Score(values["scale_id"], answers, int(values["total"]))


_CONTENT = {
    "vitals": (_vitals, StoredVitals),
    "dose": (_dose, StoredDose),
    "observation": (_observation, StoredObservation),
    "scale_score": (_score, StoredScore),
}


def typed(kind: str, view: EntryView) -> Stored:
    """The entry ``view`` of ``kind`` as a typed value."""
    build, cls = _CONTENT[kind]
    time_field = TIME_FIELD[kind]
    current, original = view.current, view.original
    entry: Stored = cls(
        kind=kind,
        id=view.id,
        at=current[time_field],
        content=build(current),
        original=build(original) if view.is_corrected else None,
        original_at=original[time_field] if view.is_corrected else None,
        reasons=tuple(c.reason for c in view.corrections),
        recorded_by=view.recorded_by,
        corrected_by=tuple(c.recorded_by for c in view.corrections),
    )
    return entry


# A reading's values from a stored row, in VitalsReading's field order.
_VITALS_OF = operator.attrgetter(*(f.name for f in dataclasses.fields(VitalsReading)))


def from_row(kind: str, row: Any) -> Stored:
    """An uncorrected entry of ``kind`` straight from its stored row (RecordStore.entry_rows),
    without the dictionaries of an EntryView: opening a six-hour 1 Hz session makes
    21,600 of these (issue 10)."""
    build, cls = _CONTENT[kind]
    if kind == "vitals":
        reading = VitalsReading(*_VITALS_OF(row))
        content: Content = Vitals(reading, sys.intern(str(row.source)))  # one "monitor"
    else:
        content = cast(Content, build(CORRECTABLE[kind].values(row)))
    entry: Stored = cls(
        kind=kind,
        id=row.id,
        at=getattr(row, TIME_FIELD[kind]),
        content=content,
        original=None,
        original_at=None,
        reasons=(),
        recorded_by=row.recorded_by,
    )
    return entry


def _as_text(value: Any) -> str:
    """A stored value as a correction form shows it."""
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def editable(entry: Stored) -> dict[str, str]:
    """The fields a correction may change, as the text a form shows."""
    text = _as_text
    content = entry.content
    if isinstance(content, Vitals):
        return {name: text(getattr(content.reading, name)) for name in VITAL_RANGES}
    if isinstance(content, Observation):
        return {"text": content.text, "tags": ", ".join(content.tags)}
    if isinstance(content, Score):
        return {"answers": ", ".join(str(a) for a in content.answers)}
    assert isinstance(content, Dose)
    fields = {"mg": text(content.mg), "lot_number": text(content.lot_number)}
    if content.route is Route.INTRANASAL or content.device_count is not None:
        # Devices only where a dose has them: an IM dose's correction offered "Devices
        # (intranasal)" (QA).
        fields["device_count"] = text(content.device_count)
    return fields


# What the correction form calls each field (vitals: their sentence labels and units).
FIELD_LABELS: dict[str, str] = {
    **{name: f"{rng.label} ({rng.unit})" for name, rng in VITAL_RANGES.items()},
    "text": "Text",
    "tags": "Tags (separated by commas)",
    "answers": "Score",
    "mg": "Dose (mg)",
    "lot_number": "Lot number",
    "device_count": "Devices (intranasal)",
    ENTERED_IN_ERROR: "Entered in error",
}


# A patient's details, as the correction form names them (main_window.correct_patient).
PATIENT_LABELS: dict[str, str] = {
    "display_name": "Name",
    "date_of_birth": "Date of birth (YYYY-MM-DD)",
    "record_number": "Record number",
    "weight_kg": "Weight in kg",
}


def patient_editable(current: Mapping[str, Any]) -> dict[str, str]:
    """A patient's details (``current``, corrections applied) as the correction form shows
    them."""
    return {name: _as_text(current[name]) for name in PATIENT_LABELS}


# A correction's clock time (``10:05``), made an instant of the session by the service: for
# the kinds whose time a correction may move. A dose's stays as given: the first is T0.
CLOCK_TIME = "clock_time"
TIMED_KINDS = ("vitals", "observation", "scale_score")
TIME_LABELS = {
    "vitals": "Time taken (HH:MM)",
    "observation": "Time observed (HH:MM)",
    "scale_score": "Time scored (HH:MM)",
}


def field_labels(entry: Stored) -> dict[str, str]:
    """What the correction form calls each of ``entry``'s fields: a score's says what its
    numbers are (QA: a REMS check read "Score 1, 1, 0", nothing saying which was which)."""
    labels = {name: FIELD_LABELS[name] for name in editable(entry)}
    content = entry.content
    if isinstance(content, Score):
        if content.scale_id == REMS_CHECK_ID:
            asked = ", ".join(q.lower() for q in REMS_QUESTIONS)
            labels["answers"] = f"REMS check: {asked} (1 yes, 0 no, in that order)"
        elif content.scale_id in SCALES:
            scale = SCALES[content.scale_id]
            values = [level.value for level in scale.levels]
            labels["answers"] = f"{scale.name} level ({min(values)} to {max(values)})"
    return labels


def parse_changes(kind: str, changed: Mapping[str, str]) -> dict[str, Any]:
    """A correction form's changed fields (text) as the values a correction takes."""
    out: dict[str, Any] = dict(changed)
    if kind == "observation" and "tags" in out:
        out["tags"] = [t.strip() for t in out["tags"].split(",") if t.strip()]
    if kind == "dose":
        out = {k: (v or None) for k, v in out.items()}
    if kind == "scale_score" and "answers" in out:
        try:
            out["answers"] = [int(a) for a in out["answers"].split(",") if a.strip()]
        except ValueError:
            # "e.g. 5" was said of a REMS check too, whose answers are 1 or 0 (QA).
            raise ValidationError(
                "answers",
                "Answers must be whole numbers: a MOAA/S or RASS level (e.g. 4), or a REMS "
                "check's three answers, 1 yes and 0 no (e.g. 1, 0, 0).",
            ) from None
        out["total"] = None  # recomputed from the corrected answers
    return out
