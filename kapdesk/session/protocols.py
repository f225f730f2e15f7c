"""The monitoring protocols a clinic uses (those kapdesk ships, then the clinic's own), and
starting a session under one of them, or explicitly under none."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kapdesk.clinical.entries import clean_text
from kapdesk.clinical.protocols import LoadResult, Protocol, load_protocols
from kapdesk.clinical.vitals import ValidationError
from kapdesk.resources import resource
from kapdesk.store import RecordStore

CLINIC_PROTOCOLS = "protocols"  # a folder inside the data folder

# The session's protocol column when a clinician chose to monitor without one (issue 9).
NO_PROTOCOL = "No protocol: clinician-defined monitoring"


def clinic_protocols(data_folder: Path) -> LoadResult:
    """Every shipped protocol, replaced by a clinic's file of the same name where it has one."""
    return load_protocols([resource("protocols"), data_folder / CLINIC_PROTOCOLS])


def default_protocol(
    protocols: Mapping[str, Protocol],
    previous_sessions: Sequence[Mapping[str, Any]],
    clinic_default: str,
) -> str | None:
    """The protocol a new session offers first: the patient's last one, else the clinic's
    default (settings), else none; never merely the first in alphabetical order."""
    for session in previous_sessions:  # newest first
        name = session["protocol"]
        if name in protocols:
            return str(name)
        if name == NO_PROTOCOL:
            break
    return clinic_default if clinic_default in protocols else None


def start_session(
    store: RecordStore,
    patient_id: uuid.UUID,
    *,
    protocol: str | None,
    protocols: Mapping[str, Protocol],
    zone_name: str,
    no_protocol_reason: str = "",
) -> uuid.UUID:
    """A session under one of the loaded protocols, never a typed name; or, with a reason
    stored beside it in the same transaction, under none."""
    if protocol is not None:
        if protocol not in protocols:
            raise ValidationError(
                "protocol",
                f"“{protocol}” is not one of the loaded protocols. Choose one from the list, "
                f"or “{NO_PROTOCOL}” with a reason.",
            )
        return store.start_session(patient_id, protocol=protocol, zone_name=zone_name)
    if not no_protocol_reason.strip():
        raise ValidationError(
            "reason",
            "A session without a protocol has no scheduled checks and no discharge criteria: "
            "say why in the Reason field, or choose a protocol.",
        )
    reason = clean_text(no_protocol_reason, "The reason", limit=2000)
    return store.start_session(
        patient_id,
        protocol=NO_PROTOCOL,
        zone_name=zone_name,
        first_event=("no_protocol", {"reason": reason}),
    )
