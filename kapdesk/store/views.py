"""Entries as the user sees them: the original, the corrections in order, and the current value."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal_column, select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.clinical.entries import (
    clean_entry_time,
    clean_tags,
    clean_text,
    validate_dose,
    validate_patient,
    validate_scale_score,
)
from kapdesk.clinical.vitals import VITAL_RANGES, ValidationError, validate_vitals
from kapdesk.store import models as m
from kapdesk.store.types import from_utc_text, to_utc_text


@dataclass(frozen=True)
class CorrectionView:
    id: uuid.UUID
    changes: dict[str, Any]
    reason: str
    recorded_at: dt.datetime
    recorded_by: uuid.UUID


@dataclass(frozen=True)
class EntryView:
    kind: str
    id: uuid.UUID
    original: dict[str, Any]
    current: dict[str, Any]
    corrections: tuple[CorrectionView, ...]
    recorded_at: dt.datetime
    recorded_by: uuid.UUID

    @property
    def is_corrected(self) -> bool:
        return bool(self.corrections)


Validator = Callable[[dict[str, Any], dt.datetime], dict[str, Any]]


@dataclass(frozen=True)
class KindSpec:
    """What of an entry kind can be corrected, and the check corrected values pass."""

    time_field: str
    fields: tuple[str, ...]
    validate: Validator
    time_fields: tuple[str, ...] = ()
    list_fields: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()  # shown with the entry, never corrected (a reading's source)
    # Set by a correction only, never on the row, with the value every entry starts with:
    # a dose entered in error (ENTERED_IN_ERROR).
    marks: tuple[tuple[str, Any], ...] = ()

    def values(self, row: Any) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.marks)
        for name in (*self.fields, *self.fixed):
            if name in out:
                continue
            value = getattr(row, name)
            if name in self.list_fields:
                value = json.loads(value)
            elif name == "date_of_birth" and value is not None:
                value = dt.date.fromisoformat(value)
            out[name] = value
        return out

    def clean_changes(
        self, current: Mapping[str, Any], changes: Mapping[str, Any], *, now: dt.datetime
    ) -> dict[str, Any]:
        """Validate the corrected entry as a whole; return the changes in their stored form."""
        unknown = sorted(set(changes) - set(self.fields))
        if unknown:
            raise ValidationError(unknown[0], f"“{unknown[0]}” cannot be corrected on this entry.")
        if not changes:
            raise ValidationError("changes", "Nothing to correct: change at least one value.")
        if current.get(ENTERED_IN_ERROR):
            raise ValidationError(
                "changes",
                "This entry is marked entered in error; it is kept as it was and cannot be "
                "corrected. Record what was given as a new entry.",
            )
        if ENTERED_IN_ERROR in changes:
            if changes[ENTERED_IN_ERROR] is not True or len(changes) > 1:
                raise ValidationError(
                    ENTERED_IN_ERROR,
                    "An entry is marked entered in error alone, with no other change; "
                    "the mark cannot be taken back.",
                )
            return {ENTERED_IN_ERROR: True}
        merged = {**current, **changes}
        clean = self.validate(merged, now)
        for name in self.time_fields:
            clean[name] = clean_entry_time(merged[name], now)
        altered = {k: clean[k] for k in changes if clean[k] != current.get(k)}
        if not altered:
            raise ValidationError(
                "changes", "The corrected values are the same as the current ones; nothing to do."
            )
        return {k: _to_json(v) for k, v in altered.items()}

    def from_json(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(stored)
        for name in self.time_fields:
            if name in out:
                out[name] = from_utc_text(out[name])
        if "date_of_birth" in out and out["date_of_birth"] is not None:
            out["date_of_birth"] = dt.date.fromisoformat(out["date_of_birth"])
        return out


def _to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return to_utc_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _vitals(merged: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    reading = validate_vitals({k: merged[k] for k in VITAL_RANGES})
    return reading.as_dict()


def _observation(merged: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    tags = list(clean_tags(merged["tags"]))
    text = merged["text"]
    if not (tags and isinstance(text, str) and not text.strip()):
        text = clean_text(text, "The observation")
    return {"text": text, "tags": tags}


# A dose recorded that was never given (a wrong patient's, a slip of the keys): marked so
# by a correction with its reason, the dose itself kept as written and shown struck
# through, and left out of every total, T0, the dose checks and the REMS form.
ENTERED_IN_ERROR = "entered_in_error"


def _dose(merged: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    dose = validate_dose(
        merged["drug"], merged["route"], merged["mg"], merged["lot_number"], merged["device_count"]
    )
    return {
        "drug": dose.drug.value,
        "route": dose.route.value,
        "mg": dose.mg,
        "lot_number": dose.lot_number,
        "device_count": dose.device_count,
    }


def _scale(merged: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    score = validate_scale_score(merged["scale_id"], merged["answers"], merged["total"])
    return {"answers": list(score.answers), "total": score.total}


def _patient(merged: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    details = validate_patient(
        merged["display_name"],
        merged["date_of_birth"],
        merged["record_number"],
        merged["weight_kg"],
        today=now.date(),
    )
    return {
        "display_name": details.display_name,
        "date_of_birth": details.date_of_birth,
        "record_number": details.record_number,
        "weight_kg": details.weight_kg,
    }


def _course_note(merged: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {"text": clean_text(merged["text"], "The note", limit=20_000)}


CORRECTABLE: dict[str, KindSpec] = {
    "vitals": KindSpec(
        time_field="taken_at",
        fields=("taken_at", *VITAL_RANGES),
        validate=_vitals,
        time_fields=("taken_at",),
        fixed=("source",),
    ),
    "observation": KindSpec(
        time_field="observed_at",
        fields=("observed_at", "text", "tags"),
        validate=_observation,
        time_fields=("observed_at",),
        list_fields=("tags",),
    ),
    "dose": KindSpec(
        time_field="given_at",
        fields=("given_at", "drug", "route", "mg", "lot_number", "device_count", ENTERED_IN_ERROR),
        validate=_dose,
        time_fields=("given_at",),
        marks=((ENTERED_IN_ERROR, False),),
    ),
    "scale_score": KindSpec(
        time_field="scored_at",  # corrections re-validate answers against the total
        fields=("scored_at", "answers", "total"),
        validate=_scale,
        time_fields=("scored_at",),
        list_fields=("answers",),
        fixed=("scale_id",),
    ),
    "course_note": KindSpec(
        time_field="written_at",
        fields=("written_at", "text"),
        validate=_course_note,
        time_fields=("written_at",),
        fixed=("kind", "session_id"),
    ),
    "patient": KindSpec(
        time_field="recorded_at",
        fields=("display_name", "date_of_birth", "record_number", "weight_kg"),
        validate=_patient,
    ),
}


def build_views(
    orm: OrmSession, kind: str, rows: list[Any], session_id: uuid.UUID | None = None
) -> list[EntryView]:
    """Views of ``rows`` with their corrections applied in the order they were recorded.

    ``session_id``: the rows are all of this session's entries of ``kind``, so their
    corrections are found in one query rather than one per 500 ids.
    """
    spec = CORRECTABLE[kind]
    by_target: dict[uuid.UUID, list[m.Correction]] = {}
    # In the order they were written: the table is append-only, so its rowid is that
    # order even for two corrections within one clock tick (an id, being random, is not).
    in_order: Any = literal_column("corrections.rowid")
    if session_id is not None:
        table = m.ENTITY_TABLES[kind]
        ids_of_session = select(table.id).where(table.session_id == session_id)  # type: ignore[attr-defined]
        queries = [
            select(m.Correction)
            .where(m.Correction.target_kind == kind, m.Correction.target_id.in_(ids_of_session))
            .order_by(in_order)
        ]
    else:
        ids = [row.id for row in rows]
        queries = [
            select(m.Correction)
            .where(
                m.Correction.target_kind == kind,
                m.Correction.target_id.in_(ids[start : start + 500]),  # SQLite's bound limit
            )
            .order_by(in_order)
            for start in range(0, len(ids), 500)
        ]
    for query in queries:
        for correction in orm.scalars(query):
            by_target.setdefault(correction.target_id, []).append(correction)
    views = []
    for row in rows:
        original = spec.values(row)
        current = dict(original)
        corrections = []
        for correction in by_target.get(row.id, []):
            changes = spec.from_json(json.loads(correction.changes))
            current.update(changes)
            corrections.append(
                CorrectionView(
                    id=correction.id,
                    changes=changes,
                    reason=correction.reason,
                    recorded_at=correction.recorded_at,
                    recorded_by=correction.recorded_by,
                )
            )
        views.append(
            EntryView(
                kind=kind,
                id=row.id,
                original=original,
                current=current,
                corrections=tuple(corrections),
                recorded_at=row.recorded_at,
                recorded_by=row.recorded_by,
            )
        )
    return views
