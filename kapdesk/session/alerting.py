"""Alerts on a session's readings: raised when a reading is stored, re-evaluated when one is
corrected, acknowledged by a clinician, withdrawn when a correction takes the reading out
of a rule. Each is a stored session event; nothing here is ever deleted."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kapdesk.clinical.alerts import (
    CAUTION_BEFORE_DOSING,
    RECHECK_MINUTES,
    SUPERSEDES,
    Alert,
    AlertThresholds,
    Level,
    evaluate,
)
from kapdesk.clinical.scales import SCALES
from kapdesk.clinical.schedule import RECHECK_EARLY
from kapdesk.session.entries import Score, StoredVitals
from kapdesk.session.state import SessionEvent, SessionState


@dataclass(frozen=True)
class StoredAlert:
    id: uuid.UUID
    at: dt.datetime
    level: Level
    rule: str
    reading: str
    reason: str
    action: str
    vitals_id: uuid.UUID | None
    taken_at: dt.datetime | None
    acknowledged_by: str | None
    withdrawn: bool
    score_id: str | None = None  # the sedation score it is about, if one


def _stored(
    state: SessionState, event: SessionEvent, acks: dict[str, SessionEvent], cleared: set[str]
) -> StoredAlert:
    payload = event.payload
    ack = acks.get(str(event.id))
    return StoredAlert(
        id=event.id,
        at=event.at,
        level=Level(payload["level"]),
        rule=payload.get("rule", ""),
        reading=payload["reading"],
        reason=payload["reason"],
        action=payload["action"],
        vitals_id=uuid.UUID(payload["vitals_id"]) if payload.get("vitals_id") else None,
        taken_at=dt.datetime.fromisoformat(payload["taken_at"])
        if payload.get("taken_at")
        else None,
        acknowledged_by=None if ack is None else state.clinician_name(ack.recorded_by),
        withdrawn=str(event.id) in cleared,
        score_id=payload.get("score_id"),
    )


def reading_now(state: SessionState, alert: StoredAlert) -> str:
    """The alert's reading, and what the score it is about reads now if corrected since:
    its alert stays, to be acknowledged by a person, and the banner quoted a MOAA/S 1 no
    longer in the record (Xvfb QA). Worked out as shown: the alerts are kept by events,
    and a correction is not one."""
    return alert.reading + _score_corrected(state, alert.score_id)


def _score_corrected(state: SessionState, score_id: str | None) -> str:
    if not score_id or state.kind_of(score_id) != "scale_score":
        return ""
    score = state.entry("scale_score", score_id)
    content = score.content
    if not score.reasons or not isinstance(content, Score):
        return ""
    scale = SCALES.get(content.scale_id)
    name = scale.name if scale is not None else content.scale_id
    return f" (corrected since to {name} {content.total})"


# What an alert advises once its stored advice is past.
ENDED_ALERT_ACTION = (
    "The session ended before this alert was acknowledged: once read, Ctrl+K records that it "
    "was seen."
)
DOSED_SINCE_ACTION = (
    "Taken before the dose, which has since been given: keep checking as scheduled; Ctrl+K "
    "records that this was seen."
)


def advice_now(state: SessionState, alert: StoredAlert) -> str:
    """The advice an open alert gives now. The one stored when it was raised is past once
    the session has ended ("recheck in 5 minutes", QA), unless raised after the end (a
    survey's); and a pre-dose caution's "Before dosing: ... consider delaying" is past once
    the dose is in (Xvfb QA: it stood after the dose)."""
    ended, first = state.ended_at, state.first_dose_at
    if ended is not None and alert.at < ended:
        return ENDED_ALERT_ACTION
    taken = alert.taken_at or alert.at
    if alert.action == CAUTION_BEFORE_DOSING and first is not None and taken < first:
        return DOSED_SINCE_ACTION
    return alert.action


def alerts(state: SessionState) -> list[StoredAlert]:
    """Every alert raised in the session, oldest first. Made again only when an event has
    been stored since (events are only ever added): each entry and each tick asks, and
    making thirty alerts of a six-hour session cost ~1.2 ms a time (issue 10)."""
    return list(state.from_events("alerts", _alerts))


def _alerts(state: SessionState) -> list[StoredAlert]:
    acks = {e.payload["alert_id"]: e for e in state.events_of("alert_ack")}
    cleared = {e.payload["alert_id"] for e in state.events_of("alert_cleared")}
    return [_stored(state, e, acks, cleared) for e in state.events_of("alert")]


def open_alerts(state: SessionState) -> list[StoredAlert]:
    """Alerts not yet acknowledged and not withdrawn: the most severe first, and within a
    level the newest first, so a new urgent finding heads the banner instead of waiting
    behind an older one as a count (issue 9)."""
    pending = [a for a in alerts(state) if a.acknowledged_by is None and not a.withdrawn]
    newest_first = sorted(pending, key=lambda a: a.at, reverse=True)
    return sorted(newest_first, key=lambda a: a.level is not Level.URGENT)


def rechecks(state: SessionState) -> list[dt.datetime]:
    """A recheck RECHECK_MINUTES after each urgent reading that still stands (CLINICAL.md)."""
    times = {
        a.taken_at + dt.timedelta(minutes=RECHECK_MINUTES)
        for a in alerts(state)
        if a.level is Level.URGENT and not a.withdrawn and a.taken_at is not None
    }
    return sorted(times)


def recheck_opens(state: SessionState) -> dt.datetime | None:
    """When the newest urgent reading's recheck may be taken (RECHECK_EARLY before it is
    due), if no BP has been taken since then; None if no recheck is pending. The dose gate
    and the discharge criterion both wait on it."""
    due = rechecks(state)
    if not due:
        return None
    opens = due[-1] - RECHECK_EARLY
    readings = state.readings()
    last = readings.last_with_bp()
    if last is not None and readings[last].at >= opens:
        return None
    return opens


def evaluate_reading(
    state: SessionState, stored: StoredVitals, thresholds: AlertThresholds
) -> list[Alert]:
    """What the rules say of one reading, with the baseline and the reading before it."""
    before = state.reading_before(stored)
    previous = before.reading if before is not None else None
    first_dose = state.first_dose_at
    return evaluate(
        stored.reading,
        baseline=state.baseline(),
        previous=previous,
        thresholds=thresholds,
        dosed=first_dose is not None and stored.at >= first_dose,
    )


def alert_payload(alert: Alert, stored: StoredVitals) -> dict[str, Any]:
    return {
        "rule": alert.rule,
        "level": alert.level.value,
        "reading": alert.reading,
        "reason": alert.reason,
        "action": alert.action,
        "source": alert.source,
        "vitals_id": str(stored.id),
        "taken_at": stored.at.isoformat(),
    }


@dataclass(frozen=True)
class Reconciliation:
    raise_: list[dict[str, Any]]  # alert payloads to store
    withdraw: list[dict[str, Any]]  # alert_cleared payloads to store
    # For each alert to raise, the acknowledged alert it restates (its reading corrected:
    # the same rule at the same level, or a more severe rule of its family, _covered): the
    # new one is acknowledged with the correction. None: a finding to be acknowledged.
    restates: list[StoredAlert | None]


def never_raised(state: SessionState, thresholds: AlertThresholds) -> list[dict[str, Any]]:
    """Alerts the rules call for that were never raised, standing or withdrawn: a reading
    stored just before kapdesk stopped (its alerts are written after it), or readings
    written without the rules (the demo). Withdraws nothing: an alert raised earlier, and
    what was decided about it, stay as they are."""
    ever = {(raised.vitals_id, raised.rule) for raised in alerts(state)}
    return [
        alert_payload(rule_met, stored)
        for stored in state.readings()
        for rule_met in evaluate_reading(state, stored, thresholds)
        if (stored.id, rule_met.rule) not in ever
    ]


def reconcile(
    state: SessionState,
    thresholds: AlertThresholds,
    readings: Sequence[StoredVitals] | None = None,
) -> Reconciliation:
    """After a correction: the alerts every reading should have now, against those standing.

    A corrected reading can move into a rule (raise it), out of one (withdraw the
    alert, with the reason), or stay in it with other figures or another time
    (withdraw the old wording and raise the new). A changed pre-dose reading moves
    the baseline, so every reading is looked at again. ``readings``: only these (a
    reading entered late, and the one after it, whose "reading before" it now is).
    """
    looked_at = state.readings() if readings is None else readings
    ids = None if readings is None else {r.id for r in readings}
    standing: dict[tuple[str, str], StoredAlert] = {}
    for raised in alerts(state):
        wanted_here = ids is None or raised.vitals_id in ids
        if not raised.withdrawn and raised.vitals_id is not None and wanted_here:
            standing[(str(raised.vitals_id), raised.rule)] = raised
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for stored in looked_at:
        for rule_met in evaluate_reading(state, stored, thresholds):
            wanted[(str(stored.id), rule_met.rule)] = alert_payload(rule_met, stored)
    raise_: list[dict[str, Any]] = []
    withdraw: list[dict[str, Any]] = []
    restates: list[StoredAlert | None] = []
    for key, payload in wanted.items():
        old = standing.get(key)
        if old is not None and old.reason == payload["reason"] and old.taken_at == _time(payload):
            continue
        if old is not None:
            withdraw.append(
                {
                    "alert_id": str(old.id),
                    "reason": f"{old.reading} was corrected to {payload['reading']}; the new "
                    "alert states it as it is now.",
                }
            )
        raise_.append(payload)
        restates.append(_covered(payload, old, standing))
    for key, old in standing.items():
        if key not in wanted:
            now = _reading_text(state, key[0])
            withdraw.append(
                {
                    "alert_id": str(old.id),
                    "reason": f"{old.reading} was corrected to {now}; “{old.reason}” no "
                    "longer applies.",
                }
            )
    return Reconciliation(raise_, withdraw, restates)


def _covered(
    payload: dict[str, Any],
    old: StoredAlert | None,
    standing: dict[tuple[str, str], StoredAlert],
) -> StoredAlert | None:
    """The acknowledged alert that a corrected reading's new alert restates: the same rule
    at the same level (QA: 150/92 corrected to 148/92 after the end raised a CAUTION alert
    marked "NOT ACKNOWLEDGED", and the record read as if it had been ignored), or a more
    severe rule of its family on the same reading (an URGENT 185/112 acknowledged,
    corrected to a CAUTION 150/92: clinical/alerts.py SUPERSEDES). Anything else, a level
    that rises above what was acknowledged included, waits for an acknowledgement."""
    if old is not None and old.acknowledged_by is not None and old.level.value == payload["level"]:
        return old
    for (vitals_id, rule), raised in standing.items():
        milder = SUPERSEDES.get(rule, ())
        same_reading = vitals_id == payload["vitals_id"]
        if same_reading and payload["rule"] in milder and raised.acknowledged_by is not None:
            return raised
    return None


def _time(payload: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(payload["taken_at"])


def _reading_text(state: SessionState, vitals_id: str) -> str:
    readings = state.readings()
    if readings.has(vitals_id):
        return readings.get(vitals_id).reading.describe()
    return "another value"
