"""The record's tables. Clinical rows are append-only; triggers from the migrations enforce it."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kapdesk.store.types import UTCDateTime, UUIDText


class Base(DeclarativeBase):
    pass


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Meta(Base):
    """Facts about the database itself (its id binds it to its key file)."""

    __tablename__ = "kapdesk_meta"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Clinician(Base):
    __tablename__ = "clinicians"
    id: Mapped[uuid.UUID] = mapped_column(UUIDText, primary_key=True, default=new_id)
    login_name: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ClinicianAccount(Base):
    """One version of a clinician's account (issue 14): the newest row of a clinician is
    the account as it stands; a change (a new PIN, deactivation) is a new row."""

    __tablename__ = "clinician_accounts"
    __table_args__ = (
        Index("ux_clinician_accounts_version", "clinician_id", "version", unique=True),
    )
    id: Mapped[uuid.UUID] = mapped_column(UUIDText, primary_key=True, default=new_id)
    clinician_id: Mapped[uuid.UUID] = mapped_column(
        UUIDText, ForeignKey("clinicians.id"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, …: unique with clinician_id
    display_name: Mapped[str] = mapped_column(String(200))
    credentials: Mapped[str | None] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20))
    manages_accounts: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    secret_kind: Mapped[str] = mapped_column(String(20))
    secret_hash: Mapped[str] = mapped_column(String(200))  # Argon2id, PHC form; never the secret
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("clinicians.id"))


class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[uuid.UUID] = mapped_column(UUIDText, primary_key=True, default=new_id)
    display_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[str | None] = mapped_column(String(10))  # ISO date, no time zone
    record_number: Mapped[str | None] = mapped_column(String(60))
    weight_kg: Mapped[float | None] = mapped_column(Float)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("clinicians.id"))


class Session(Base):
    """One treatment session. Start, first dose and end are each set once."""

    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(UUIDText, primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("patients.id"), index=True)
    protocol: Mapped[str] = mapped_column(String(120))
    zone_name: Mapped[str] = mapped_column(String(64))
    # Indexed (0004): the most recently seen patients, and the sessions never ended.
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    first_dose_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("clinicians.id"))


class Dose(Base):
    __tablename__ = "doses"
    id: Mapped[uuid.UUID] = mapped_column(UUIDText, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("sessions.id"), index=True)
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    drug: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(20))
    mg: Mapped[float] = mapped_column(Float)
    lot_number: Mapped[str | None] = mapped_column(String(60))
    device_count: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("clinicians.id"))


class VitalsReading(Base):
    __tablename__ = "vitals_readings"
    id: Mapped[uuid.UUID] = mapped_column(UUIDText, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("sessions.id"), index=True)
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    systolic: Mapped[int | None] = mapped_column(Integer)
    diastolic: Mapped[int | None] = mapped_column(Integer)
    heart_rate: Mapped[int | None] = mapped_column(Integer)
    spo2: Mapped[int | None] = mapped_column(Integer)
    respiratory_rate: Mapped[int | None] = mapped_column(Integer)
    temperature_c: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("clinicians.id"))


class InfusionStop(Base):
    """The end of an IV infusion; the dose row holds its start."""

    __tablename__ = "infusion_stops"
    id: Mapped[uuid.UUID] = mapped_column(UUIDText, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("sessions.id"), index=True)
    dose_id: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("doses.id"), unique=True)
    stopped_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("clinicians.id"))


class Observation(Base):
    __tablename__ = "observations"
    id: Mapped[uuid.UUID] = mapped_column(UUIDText, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("sessions.id"), index=True)
    observed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text)  # canonical JSON list
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("clinicians.id"))


class ScaleScore(Base):
    __tablename__ = "scale_scores"
    id: Mapped[uuid.UUID] = mapped_column(UUIDText, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("sessions.id"), index=True)
    scored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    scale_id: Mapped[str] = mapped_column(String(40))
    answers: Mapped[str] = mapped_column(Text)  # canonical JSON list of item answers
    total: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("clinicians.id"))


class SessionEvent(Base):
    """A decision or finding about the session: screening, an alert, its acknowledgement,
    a dosing caution acknowledged, the discharge. Payload is canonical JSON."""

    __tablename__ = "session_events"
    id: Mapped[uuid.UUID] = mapped_column(UUIDText, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    payload: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("clinicians.id"))


class CourseNote(Base):
    """A dated note about a patient's course of treatment: a goal set in preparation, a
    preparation or integration note, or the start of a new course (issue 13); linked to a
    session where it is about one."""

    __tablename__ = "course_notes"
    id: Mapped[uuid.UUID] = mapped_column(UUIDText, primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("patients.id"), index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(UUIDText, ForeignKey("sessions.id"))
    kind: Mapped[str] = mapped_column(String(20))
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("clinicians.id"))


class Correction(Base):
    """A later statement that an entry's values were wrong; the entry itself is untouched."""

    __tablename__ = "corrections"
    id: Mapped[uuid.UUID] = mapped_column(UUIDText, primary_key=True, default=new_id)
    target_kind: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[uuid.UUID] = mapped_column(UUIDText, index=True)
    changes: Mapped[str] = mapped_column(Text)  # canonical JSON object: field -> corrected value
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUIDText, ForeignKey("clinicians.id"))


class AuditEvent(Base):
    """One link of the hash chain: who did what to which record, and the record's digest."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUIDText)
    action: Mapped[str] = mapped_column(String(40))
    entity_kind: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(UUIDText)
    record_digest: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON, never patient details
    prev_hash: Mapped[str] = mapped_column(String(64))
    # No unique index: the chain makes hashes distinct, and each index is another
    # encrypted page written on every commit.
    hash: Mapped[str] = mapped_column(String(64))


# Entity kinds as the audit trail and corrections name them.
ENTITY_TABLES: dict[str, type[Base]] = {
    "clinician": Clinician,
    "clinician_account": ClinicianAccount,
    "patient": Patient,
    "session": Session,
    "dose": Dose,
    "infusion_stop": InfusionStop,
    "vitals": VitalsReading,
    "observation": Observation,
    "scale_score": ScaleScore,
    "session_event": SessionEvent,
    "course_note": CourseNote,
    "correction": Correction,
}

# Tables whose rows may never be updated or deleted.
APPEND_ONLY_TABLES = (
    "kapdesk_meta",
    "clinicians",
    "clinician_accounts",
    "patients",
    "doses",
    "infusion_stops",
    "vitals_readings",
    "observations",
    "scale_scores",
    "session_events",
    "course_notes",
    "corrections",
    "audit_events",
)
